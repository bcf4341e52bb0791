// SPDX-License-Identifier: GPL-2.0
/*
 * softeectl attach / detach: give a running, unmodified QEMU's guest the
 * device of a box, in a slot of its PCI bus, and take it back.
 *
 *   softeectl attach --pid PID --slot BB:DD.F --link SPEC [--group N]
 *                    [--ecam BASE | --no-ecam] [--machine q35|pc]
 *                    [--timeout-us U] [--wait-ms MS] [--poller-arg ARG]...
 *                    [--eal-arg ARG]...
 *   softeectl detach --pid PID [--wait-ms MS]
 *
 * attach starts a softee-poller for that VMM (softee.ko, the VM fd taken
 * with pidfd_getfd, guest RAM from its memfd, slot mode) with its control
 * socket at /run/softee/poller-PID.sock, its log at .log and its pid at
 * .pid, and waits until the box's device sits in the slot: start QEMU
 * with -S and resume it after this, so that the firmware's first scan
 * sees the device.  A dpdk: link needs the EAL's arguments (--eal-arg, one
 * word each; they go before the poller's "--").  detach stops that poller: the module drops the slot's
 * config trap and the slot reads empty again.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "softeectl.h"

#define NAME		"softeectl"
#define RUN_DIR		"/run/softee"
#define MAX_EXTRA	16

static void bad(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void bad(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, NAME " %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (usage: " NAME " attach --pid PID --slot BB:DD.F --link SPEC [--group N] "
		"[--ecam BASE|--no-ecam] [--machine q35|pc]; " NAME " detach --pid PID)\n");
	exit(2);
}

static unsigned long long number(const char *what, const char *opt, const char *s,
				 unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		bad(what, "%s wants a number up to %llu, not '%s'", opt, max, s);
	return v;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void paths(int pid, char *sock, char *log, char *pidf, size_t n)
{
	snprintf(sock, n, RUN_DIR "/poller-%d.sock", pid);
	snprintf(log, n, RUN_DIR "/poller-%d.log", pid);
	snprintf(pidf, n, RUN_DIR "/poller-%d.pid", pid);
}

/* softee-poller beside us (build/), else on PATH. */
static void poller_path(char *out, size_t n)	/* n: PATH_MAX */
{
	char self[PATH_MAX - 32];
	ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (l > 0) {
		self[l] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(out, n, "%s/softee-poller", self);
			if (!access(out, X_OK))
				return;
		}
	}
	snprintf(out, n, "softee-poller");
}

static int read_pid(const char *pidf)
{
	char buf[32] = "";
	FILE *f = fopen(pidf, "r");
	int pid;

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	pid = atoi(buf);
	return pid > 0 ? pid : -1;
}

/*
 * The poller of a pid file, if it still runs: a pid file outlives a
 * poller that crashed, and its pid may be another process's by now, which
 * detach must not kill.  0 if none.
 */
static int live_poller(const char *pidf)
{
	char path[64], comm[32] = "";
	int pid = read_pid(pidf);
	FILE *f;

	if (pid <= 0 || kill(pid, 0))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	return !strcmp(comm, "softee-poller") ? pid : 0;
}

static void show_log(const char *log)
{
	char line[512];
	FILE *f = fopen(log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}

int ctl_attach(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "slot", required_argument, NULL, 's' },
		{ "link", required_argument, NULL, 'l' },
		{ "group", required_argument, NULL, 'g' },
		{ "ecam", required_argument, NULL, 'e' },
		{ "no-ecam", no_argument, NULL, 'E' },
		{ "machine", required_argument, NULL, 'm' },
		{ "timeout-us", required_argument, NULL, 't' },
		{ "wait-ms", required_argument, NULL, 'w' },
		{ "poller-arg", required_argument, NULL, 'a' },
		{ "eal-arg", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	const char *slot = NULL, *link = NULL, *machine = "q35", *extra[MAX_EXTRA];
	const char *eal[MAX_EXTRA];
	char sock[128], log[128], pidf[128], bin[PATH_MAX], ecam[32] = "0xb0000000";
	char group[16] = "1", tmo[16] = "1000000", pidarg[16], ram[32], *answer = NULL;
	unsigned int bus, dev, fn, nextra = 0, neal = 0;
	unsigned long long wait_ms = 20000;
	bool no_ecam = false, ecam_set = false;
	int pid = 0, c, child, fd;
	const char *args[64];
	uint64_t end;
	char ch;
	size_t n = 0, len;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:", lo, NULL)) != -1) {
		switch (c) {
		case 'p': pid = (int)number("attach", "--pid", optarg, INT_MAX); break;
		case 's':
			if (sscanf(optarg, "%x:%x.%x%c", &bus, &dev, &fn, &ch) != 3 || bus > 0xff ||
			    dev > 0x1f || fn > 7)
				bad("attach", "--slot wants BB:DD.F in hex (00:10.0), not '%s'", optarg);
			slot = optarg;
			break;
		case 'l': link = optarg; break;
		case 'g':
			snprintf(group, sizeof(group), "%llu", number("attach", "--group", optarg, 0xffff));
			break;
		case 'e':
			snprintf(ecam, sizeof(ecam), "0x%llx",
				 number("attach", "--ecam", optarg, (1ULL << 52) - 1));
			ecam_set = true;
			break;
		case 'E': no_ecam = true; break;
		case 'm':
			if (strcmp(optarg, "q35") && strcmp(optarg, "pc"))
				bad("attach", "--machine wants q35 or pc, not '%s'", optarg);
			machine = optarg;
			break;
		case 't':
			snprintf(tmo, sizeof(tmo), "%llu", number("attach", "--timeout-us", optarg, 10000000));
			break;
		case 'w': wait_ms = number("attach", "--wait-ms", optarg, 3600000); break;
		case 'a':
			if (nextra == MAX_EXTRA)
				bad("attach", "--poller-arg: at most %d", MAX_EXTRA);
			extra[nextra++] = optarg;
			break;
		case 'A':
			if (neal == MAX_EXTRA)
				bad("attach", "--eal-arg: at most %d", MAX_EXTRA);
			if (!strcmp(optarg, "--"))
				bad("attach", "--eal-arg '--': the poller's options follow the EAL's by themselves");
			eal[neal++] = optarg;
			break;
		case ':': bad("attach", "%s wants a value", argv[optind - 1]);
		default: bad("attach", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		bad("attach", "unexpected argument '%s'", argv[optind]);
	if (!pid)
		bad("attach", "no --pid: the QEMU process whose guest gets the device");
	if (!slot)
		bad("attach", "no --slot: where the guest sees the device (an empty one, e.g. 00:10.0)");
	if (!link)
		bad("attach", "no --link: the link to the box (socket:IFNAME or dpdk:DEVARGS)");
	if (neal && strncmp(link, "dpdk:", 5))
		bad("attach", "--eal-arg goes with a dpdk: link, not '%s'", link);
	if (!neal && !strncmp(link, "dpdk:", 5))
		bad("attach", "--link %s needs the EAL's arguments: --eal-arg ARG for each "
		    "(e.g. --eal-arg -l --eal-arg 0 --eal-arg --no-huge)", link);
	if (no_ecam && ecam_set)
		bad("attach", "--ecam and --no-ecam: give one");
	if (!strcmp(machine, "pc") && !ecam_set)
		no_ecam = true;			/* i440fx has no ECAM */
	if (kill(pid, 0) && errno == ESRCH) {
		fprintf(stderr, NAME " attach: no process %d\n", pid);
		return 1;
	}
	paths(pid, sock, log, pidf, sizeof(sock));
	if (live_poller(pidf)) {
		fprintf(stderr, NAME " attach: pid %d is attached already (poller %d; "
			NAME " detach --pid %d)\n", pid, live_poller(pidf), pid);
		return 1;
	}
	mkdir(RUN_DIR, 0755);
	poller_path(bin, sizeof(bin));
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	snprintf(ram, sizeof(ram), "auto:%s", machine);
	args[n++] = bin;
	if (neal) {
		for (unsigned int k = 0; k < neal; k++)
			args[n++] = eal[k];
		args[n++] = "--";
	}
	args[n++] = "--link"; args[n++] = link;
	args[n++] = "--group"; args[n++] = group;
	args[n++] = "--kmod";
	args[n++] = "--vm-pid"; args[n++] = pidarg;
	args[n++] = "--ram"; args[n++] = ram;
	args[n++] = "--slot"; args[n++] = slot;
	if (!no_ecam) {
		args[n++] = "--ecam";
		args[n++] = ecam;
	}
	args[n++] = "--timeout-us"; args[n++] = tmo;
	args[n++] = "--ctl"; args[n++] = sock;
	for (unsigned int k = 0; k < nextra; k++)
		args[n++] = extra[k];
	args[n] = NULL;

	unlink(sock);
	child = fork();
	if (child < 0) {
		fprintf(stderr, NAME " attach: fork: %s\n", strerror(errno));
		return 1;
	}
	if (!child) {
		setsid();
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		execvp(bin, (char *const *)args);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	{
		FILE *f = fopen(pidf, "w");

		if (f) {
			fprintf(f, "%d\n", child);
			fclose(f);
		}
	}
	/* Until the device is in the slot (ready), the poller dies, or time is up. */
	end = now_ms() + wait_ms;
	for (;;) {
		char err[256];
		int st;

		if (waitpid(child, &st, WNOHANG) == child) {
			fprintf(stderr, NAME " attach: softee-poller exited (%s %d); its log:\n",
				WIFEXITED(st) ? "status" : "signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			show_log(log);
			unlink(pidf);
			return 1;
		}
		free(answer);
		answer = NULL;
		if (ctl_request(sock, "devices json", CTL_END_EMPTY_LINE, 1000, &answer, &len, err,
				sizeof(err)) == CTL_OK && strstr(answer, "\"state\":\"ready\""))
			break;
		if (now_ms() >= end) {
			fprintf(stderr, NAME " attach: no device of group %s in the slot after %llu ms "
				"(is a softee-box of that group on %s?); the poller keeps trying "
				"(" NAME " detach --pid %d to stop it); its log:\n", group, wait_ms,
				link, pid);
			show_log(log);
			free(answer);
			return 1;
		}
		usleep(50000);
	}
	free(answer);
	printf("attached: pid %d, slot %s, group %s, poller %d (control %s, log %s)\n", pid, slot,
	       group, child, sock, log);
	return 0;
}

int ctl_detach(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "wait-ms", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	char sock[128], log[128], pidf[128];
	unsigned long long wait_ms = 5000;
	int pid = 0, poller, c;
	uint64_t end;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:", lo, NULL)) != -1) {
		switch (c) {
		case 'p': pid = (int)number("detach", "--pid", optarg, INT_MAX); break;
		case 'w': wait_ms = number("detach", "--wait-ms", optarg, 600000); break;
		case ':': bad("detach", "%s wants a value", argv[optind - 1]);
		default: bad("detach", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		bad("detach", "unexpected argument '%s'", argv[optind]);
	if (!pid)
		bad("detach", "no --pid: the QEMU process given to attach");
	paths(pid, sock, log, pidf, sizeof(sock));
	poller = live_poller(pidf);
	if (!poller) {
		fprintf(stderr, NAME " detach: pid %d is not attached (no softee-poller running "
			"as the pid in %s)\n", pid, pidf);
		unlink(pidf);
		return 1;
	}
	kill(poller, SIGTERM);
	end = now_ms() + wait_ms;
	while (!kill(poller, 0) && now_ms() < end)
		usleep(20000);
	if (!kill(poller, 0)) {
		fprintf(stderr, NAME " detach: poller %d still running after %llu ms: killing it\n",
			poller, wait_ms);
		kill(poller, SIGKILL);
	}
	unlink(pidf);
	unlink(sock);
	printf("detached: pid %d (the slot is empty again)\n", pid);
	return 0;
}
