// SPDX-License-Identifier: GPL-2.0
/*
 * `softee-trap attach`: take the VM fd of a running VMM (pidfd_getfd on
 * the fd that /proc/PID/fd shows as anon_inode:kvm-vm), attach softee.ko
 * to it, mark a region and print every access as it happens; reads are
 * answered with --read-value.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <softee/barrier.h>
#include <softee/kmod.h>

#include "trap.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int trap_attach_quit;

static void trap_attach_signal(int sig)
{
	(void)sig;
	softee_store_release(&trap_attach_quit, 1);
}

struct trap_attach_opts {
	long pid;
	uint8_t bus;
	uint64_t base, len;
	uint64_t read_value;
	uint64_t count;		/* 0 = no limit */
	double duration;	/* seconds; 0 = no limit */
	uint32_t rings;		/* 0 = one per vCPU fd found */
	uint32_t timeout_us;	/* 0 = the module's default */
	struct softee_wait wait;
};

/* The VMM's VM fd number and how many vCPU fds it holds; -errno. */
static int trap_find_vm_fd(long pid, int *vm_fd, uint32_t *nr_vcpus)
{
	char dir[64], path[512], link[128];
	struct dirent *d;
	DIR *dp;
	ssize_t n;
	int ret;

	*vm_fd = -1;
	*nr_vcpus = 0;
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
	dp = opendir(dir);
	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		if (!strcmp(link, "anon_inode:kvm-vm")) {
			if (*vm_fd < 0)
				*vm_fd = atoi(d->d_name);
		} else if (!strncmp(link, "anon_inode:kvm-vcpu:", 20)) {
			uint32_t id = (uint32_t)strtoul(link + 20, NULL, 10);

			if (id + 1 > *nr_vcpus)
				*nr_vcpus = id + 1;
		}
	}
	ret = errno == EACCES ? -EACCES : 0;
	closedir(dp);
	return ret;
}

static int trap_attach_parse(int argc, char **argv, struct trap_attach_opts *o)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "mmio", required_argument, NULL, 'm' },
		{ "pio", required_argument, NULL, 'i' },
		{ "read-value", required_argument, NULL, 'v' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "rings", required_argument, NULL, 'r' },
		{ "wait", required_argument, NULL, 'w' },
		{ "timeout-us", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_pid = false, have_region = false;
	uint64_t v;
	char *end;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (optarg[strspn(optarg, "0123456789")] || !*optarg)
				return trap_usage_error("attach", "--pid: '%s' is not a process id (a positive number)",
							optarg);
			if (trap_parse_u64("attach", "--pid", optarg, 1, 0x7fffffff, &v))
				return TRAP_EXIT_USAGE;
			o->pid = (long)v;
			have_pid = true;
			break;
		case 'm':
		case 'i':
			if (have_region)
				return trap_usage_error("attach", "--%s: give one region (--mmio or --pio), once",
							c == 'm' ? "mmio" : "pio");
			o->bus = c == 'i' ? SOFTEE_BUS_PIO : SOFTEE_BUS_MMIO;
			if (trap_parse_range("attach", c == 'i' ? "--pio" : "--mmio", optarg, o->bus,
					     &o->base, &o->len))
				return TRAP_EXIT_USAGE;
			have_region = true;
			break;
		case 'v':
			if (trap_parse_u64("attach", "--read-value", optarg, 0, UINT64_MAX, &o->read_value))
				return TRAP_EXIT_USAGE;
			break;
		case 'c':
			if (trap_parse_u64("attach", "--count", optarg, 1, UINT64_MAX, &o->count))
				return TRAP_EXIT_USAGE;
			break;
		case 'd':
			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || *end || !*optarg || !(o->duration > 0) || o->duration > 1e9)
				return trap_usage_error("attach", "--duration: '%s' is not a positive number of seconds",
							optarg);
			break;
		case 'r':
			if (trap_parse_u64("attach", "--rings", optarg, 1, SOFTEE_MAX_RINGS, &v))
				return TRAP_EXIT_USAGE;
			o->rings = (uint32_t)v;
			break;
		case 't':
			if (trap_parse_u64("attach", "--timeout-us", optarg, 1, SOFTEE_TIMEOUT_MAX_US, &v))
				return TRAP_EXIT_USAGE;
			o->timeout_us = (uint32_t)v;
			break;
		case 'w':
			if (softee_wait_parse(optarg, &o->wait))
				return trap_usage_error("attach", "--wait: '%s' is not spin, yield or sleep", optarg);
			break;
		case 'h':
			return -1;
		case ':':
			return trap_usage_error("attach", "%s needs a value", argv[optind - 1]);
		default:
			return trap_usage_error("attach", "'%s' is not an option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return trap_usage_error("attach", "'%s': unexpected argument", argv[optind]);
	if (!have_pid)
		return trap_usage_error("attach", "--pid is missing");
	if (!have_region)
		return trap_usage_error("attach", "--mmio BASE:LEN or --pio BASE:LEN is missing");
	return 0;
}

/*
 * pidfd_open + pidfd_getfd: the VMM's VM fd in this process, or -1.  The
 * pidfd stays open in *pidfd_out: it becomes readable when the VMM exits.
 */
static int trap_take_vm_fd(const struct trap_attach_opts *o, uint32_t *nr_vcpus,
			   int *pidfd_out)
{
	int pidfd, vm_fd_there, fd, ret;

	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)o->pid, 0);
	if (pidfd < 0) {
		if (errno == ESRCH)
			fprintf(stderr, TRAP_NAME " attach: no such process: %ld\n", o->pid);
		else if (errno == ENOSYS)
			fprintf(stderr, TRAP_NAME " attach: pidfd_open: this kernel has no pidfds (5.6 or later needed)\n");
		else
			fprintf(stderr, TRAP_NAME " attach: pidfd_open %ld: %s\n", o->pid, strerror(errno));
		return -1;
	}
	ret = trap_find_vm_fd(o->pid, &vm_fd_there, nr_vcpus);
	if (ret == -ENOENT) {
		fprintf(stderr, TRAP_NAME " attach: no such process: %ld\n", o->pid);
		goto err;
	}
	if (ret == -EACCES) {
		fprintf(stderr, TRAP_NAME " attach: /proc/%ld/fd: permission denied: run as root (or as the VMM's user)\n",
			o->pid);
		goto err;
	}
	if (ret) {
		fprintf(stderr, TRAP_NAME " attach: /proc/%ld/fd: %s\n", o->pid, strerror(-ret));
		goto err;
	}
	if (vm_fd_there < 0) {
		fprintf(stderr, TRAP_NAME " attach: PID %ld is not a KVM VMM: no anon_inode:kvm-vm in /proc/%ld/fd\n",
			o->pid, o->pid);
		goto err;
	}
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, vm_fd_there, 0);
	if (fd < 0) {
		if (errno == EPERM || errno == EACCES)
			fprintf(stderr, TRAP_NAME " attach: pidfd_getfd on PID %ld: permission denied: taking another process's fd needs ptrace rights over it (run as root)\n",
				o->pid);
		else if (errno == ESRCH)
			fprintf(stderr, TRAP_NAME " attach: PID %ld exited\n", o->pid);
		else if (errno == EBADF)
			fprintf(stderr, TRAP_NAME " attach: PID %ld closed its VM fd %d\n", o->pid,
				vm_fd_there);
		else
			fprintf(stderr, TRAP_NAME " attach: pidfd_getfd on PID %ld fd %d: %s\n",
				o->pid, vm_fd_there, strerror(errno));
		goto err;
	}
	*pidfd_out = pidfd;
	return fd;
err:
	close(pidfd);
	return -1;
}

/* Has the VMM exited?  (Its pidfd polls readable then.) */
static bool trap_vmm_gone(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

#define TRAP_PIDFD_CHECK_NS	100000000ULL	/* 100 ms */

/* Trace every ring until a limit, a signal or the VMM's exit. */
static int trap_attach_loop(const struct trap_attach_opts *o, struct softee_session *s,
			    uint64_t t0, int pidfd)
{
	uint64_t next_check = t0 + TRAP_PIDFD_CHECK_NS, now;
	uint64_t seen = 0, end = o->duration ? t0 + (uint64_t)(o->duration * 1e9) : UINT64_MAX;
	struct softee_waiter w;
	bool waiting = false;
	uint32_t i, k;
	int n, handled;

	for (;;) {
		handled = 0;
		for (i = 0; i < s->nr_rings; i++) {
			struct softee_ring *r = &s->rings[i];

			n = softee_ring_peek(r);
			if (n == -EPIPE) {
				fprintf(stderr, TRAP_NAME " attach: the session is closing (the VM exited?)\n");
				return 1;
			}
			if (n < 0) {
				fprintf(stderr, TRAP_NAME " attach: ring %u is corrupt; the module stopped using it\n", i);
				return 1;
			}
			for (k = 0; k < (uint32_t)n; k++) {
				struct softee_ring_entry *e = softee_ring_entry(r, k);
				uint64_t data = e->data;

				/* Past --count, still answer what is queued. */
				if (e->op == SOFTEE_OP_READ) {
					data = o->read_value & trap_mask(e->len <= 8 ? e->len : 8);
					softee_ring_complete(e, data, 0);
				}
				if (!o->count || seen < o->count) {
					trap_print_entry(stdout, e, data, t0);
					seen++;
				}
			}
			softee_ring_consume(r, (uint32_t)n);
			handled += n;
			if (o->count && seen >= o->count)
				return 0;
		}
		if (handled) {
			waiting = false;
			continue;
		}
		if (softee_load_acquire(&trap_attach_quit))
			return 0;
		now = softee_now_ns();
		if (now >= end)
			return 0;
		if (now >= next_check) {
			next_check = now + TRAP_PIDFD_CHECK_NS;
			if (trap_vmm_gone(pidfd)) {
				/* The session still holds the VM; nothing more comes. */
				fprintf(stderr, TRAP_NAME " attach: PID %ld exited\n", o->pid);
				return 0;
			}
		}
		if (!waiting) {
			softee_waiter_start(&w, &o->wait, SOFTEE_WAIT_FOREVER);
			waiting = true;
		}
		softee_waiter_step(&w);
	}
}

int trap_cmd_attach(int argc, char **argv)
{
	struct trap_attach_opts o = {
		.bus = SOFTEE_BUS_MMIO,
		.wait = SOFTEE_WAIT_INIT(SOFTEE_WAIT_SLEEP),
	};
	struct softee_session s;
	struct softee_stats st;
	struct sigaction sa;
	uint32_t nr_vcpus, id;
	int vm_fd, pidfd = -1, ret;
	uint64_t t0;

	ret = trap_attach_parse(argc, argv, &o);
	if (ret < 0) {
		printf("usage: " TRAP_NAME " attach --pid PID (--mmio BASE:LEN | --pio BASE:LEN) [--read-value V]\n"
		       "           [--count N] [--duration S] [--rings N] [--timeout-us N]\n"
		       "           [--wait spin|yield|sleep]\n"
		       "prints one line per access: seconds, vCPU, op, bus, address, size, data\n");
		return 0;
	}
	if (ret)
		return ret;

	vm_fd = trap_take_vm_fd(&o, &nr_vcpus, &pidfd);
	if (vm_fd < 0)
		return 1;
	if (!o.rings)
		o.rings = nr_vcpus ? nr_vcpus : 1;
	if (softee_session_open(&s, vm_fd, o.rings, 0, o.timeout_us, SOFTEE_ATTACH_F_TIMESTAMPS)) {
		close(vm_fd);
		close(pidfd);
		return 1;
	}
	/* The session holds the VM now. */
	close(vm_fd);
	t0 = softee_now_ns();	/* before the first access can be trapped */
	if (softee_region_add(s.fd, o.bus, o.base, o.len, 0, &id)) {
		softee_session_close(&s);
		close(pidfd);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = trap_attach_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	fprintf(stderr, TRAP_NAME " attach: PID %ld, %u rings, %s 0x%llx+0x%llx, region %u, reads answer 0x%llx; Ctrl-C stops\n",
		o.pid, s.nr_rings, softee_bus_name(o.bus), (unsigned long long)o.base,
		(unsigned long long)o.len, id, (unsigned long long)o.read_value);
	ret = trap_attach_loop(&o, &s, t0, pidfd);

	softee_region_del(s.fd, id);
	if (!softee_get_stats(s.fd, SOFTEE_STATS_SESSION, 0, &st))
		fprintf(stderr, TRAP_NAME " attach: writes=%llu reads=%llu timeouts=%llu drops=%llu no_ring=%llu corrupt=%llu stalled=%llu\n",
			(unsigned long long)st.c.writes, (unsigned long long)st.c.reads,
			(unsigned long long)st.c.timeouts, (unsigned long long)st.c.drops,
			(unsigned long long)st.c.no_ring, (unsigned long long)st.c.corrupt,
			(unsigned long long)st.c.stalled);
	softee_session_close(&s);
	close(pidfd);
	return ret;
}
