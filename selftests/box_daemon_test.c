// SPDX-License-Identifier: GPL-2.0
/*
 * The softee-box daemon as a program: its usage errors, and a box with the
 * test endpoint on one end of a veth pair in a private network namespace
 * (the socket backend), found by heartbeats by a host transport on the
 * other end, read and written, a DMA each way, its control socket, a group
 * change through it, and a clean exit on SIGTERM.  Skips where network
 * namespaces or veth are not available.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include <softee/endpoint.h>
#include <softee/netdev_open.h>
#include <softee/testdev.h>
#include <softee/tlp.h>
#include <softee/transport.h>

#define MS		1000000ULL
#define GROUP		5
#define BAR0		0xc0000000ULL
#define BAR2		0x800000000ULL
#define MSI_ADDR	0xfee00000ULL
#define GUEST		0x40000000ULL
#define GUEST_SIZE	(1u << 20)

static char box_bin[PATH_MAX + 16];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t xp_clock(void *opaque)
{
	(void)opaque;
	return now_ns();
}

/* build/selftests/box_daemon_test -> build/softee-box */
static const char *find_box(void)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (box_bin[0])
		return box_bin;

	if (n <= 0)
		return "build/softee-box";
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(box_bin, sizeof(box_bin), "%s/../softee-box", exe);
	return box_bin;
}

/* Run softee-box with these arguments, stderr to a file; its exit status. */
static int run_box(const char *const *args, const char *log)
{
	const char *argv[32];
	int i = 0, st;
	pid_t pid;

	argv[i++] = find_box();
	while (*args && i < 31)
		argv[i++] = *args++;
	argv[i] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST(usage_errors)
{
	static const char *const bad[][6] = {
		{ NULL },
		{ "--group", "70000", "--dev", "socket:lo" },
		{ "--dev", "socket:lo", "--bogus", NULL },
		{ "--dev", "socket:lo", "--endpoint", NULL },
		{ "--dev", "socket:lo", "--tags", "300" },
		{ "--dev", "socket:lo", "--rcb", "100" },
		{ "--dev", "socket:lo", "--log-level", "loud" },
		{ "--dev", "socket:lo", "--group", "0", "--vlan" },
		{ "--dev", "socket:lo", "--endpoint", "nosuchmodel" },
		{ "--dev", "socket:lo", "--endpoint", "," },
		{ "--dev", "socket:lo", "--endpoint", "nvme" },
		{ "--dev", "socket:lo", "--mtu", "100" },
		/* a bad spec is told before a link that does not open */
		{ "--dev", "socket:softee-nonexist0", "--endpoint", "test,devmem=1" },
	};
	char log[] = "/tmp/softee-box-usage-XXXXXX";
	int fd = mkstemp(log), i;

	ASSERT_LE(0, fd);
	close(fd);
	if (access(find_box(), X_OK))
		SKIP(return, "%s is not built", find_box());
	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		int rc = run_box(bad[i], log);

		EXPECT_EQ(2, rc) {
			TH_LOG("case %d", i);
		}
	}
	/* a link that does not open is a setup error, not a usage error */
	{
		const char *const args[] = { "--dev", "socket:softee-nonexist0", "--ctl", "none", NULL };

		EXPECT_EQ(1, run_box(args, log));
	}
	{
		/* a good spec whose model cannot be made */
		const char *const args[] = { "--dev", "socket:lo", "--ctl", "none", "--endpoint",
					     "nvme,file=/nonexistent/softee/disk.img", NULL };

		EXPECT_EQ(1, run_box(args, log));
	}
	unlink(log);
}

/* ---- a host on the other end ----------------------------------------------------------- */

struct dhost {
	struct softee_transport *t;
	struct softee_peer *box;
	uint8_t *mem;
	bool waiting;
	uint8_t tag;
	int status;
	uint32_t got;
	uint8_t data[4096];
	unsigned int msis, downs;
	uint32_t msi_data;
};

static int dh_send(struct dhost *h, const struct softee_tlp *t)
{
	uint8_t buf[SOFTEE_TLP_MAX_SIZE];
	int n = softee_tlp_encode(t, buf, sizeof(buf)), ret;

	if (n < 0)
		return n;
	while ((ret = softee_transport_send_tlp(h->box, buf, (uint32_t)n)) == -EAGAIN)
		softee_transport_poll(h->t, now_ns());
	return ret;
}

static void dh_rx(void *opaque, struct softee_peer *p, const uint8_t *tlp, uint32_t len)
{
	struct dhost *h = opaque;
	struct softee_tlp t;
	uint64_t a;
	uint32_t n;

	(void)p;
	if (softee_tlp_decode(&t, tlp, len, NULL) != (int)len)
		return;
	softee_tlp_range(&t, &a, &n);
	if (t.kind == SOFTEE_TLP_CPL || t.kind == SOFTEE_TLP_CPLD) {
		uint32_t la = t.lower_addr & 3, k;

		if (!h->waiting || t.tag != h->tag)
			return;
		if (t.status || t.kind == SOFTEE_TLP_CPL) {
			h->status = t.status;
			h->waiting = false;
			return;
		}
		k = 4u * t.len_dw - la < t.byte_count ? 4u * t.len_dw - la : t.byte_count;
		memcpy(h->data + h->got, t.data + la, k);
		h->got += k;
		if (k == t.byte_count)
			h->waiting = false;
	} else if (t.kind == SOFTEE_TLP_MWR) {
		if (a == MSI_ADDR) {
			h->msis++;
			h->msi_data = t.data[0] | t.data[1] << 8;
		} else if (a >= GUEST && a + n <= GUEST + GUEST_SIZE) {
			memcpy(h->mem + (a - GUEST), t.data + (a & 3), n);
		}
	} else if (t.kind == SOFTEE_TLP_MRD) {
		uint32_t done = 0;
		struct softee_tlp c;
		int k;

		if (a < GUEST || a + n > GUEST + GUEST_SIZE)
			return;
		while ((k = softee_tlp_cpl_split(&t, done, 256, 64, &c)) > 0) {
			c.status = SOFTEE_TLP_CPL_SC;
			c.data = h->mem + (((a + done) & ~3ULL) - GUEST);
			dh_send(h, &c);
			done += (uint32_t)k;
		}
	}
}

static void dh_event(void *opaque, struct softee_peer *p, enum softee_transport_event ev)
{
	struct dhost *h = opaque;

	if (!p || p->live->role != SOFTEE_ROLE_BOX)
		return;
	if (ev == SOFTEE_TEV_PEER_UP)
		h->box = p;
	else if (ev == SOFTEE_TEV_PEER_DOWN)
		h->downs++;
}

static void dh_poll(struct dhost *h, uint64_t ms)
{
	uint64_t end = now_ns() + ms * MS;

	do
		softee_transport_poll_wait(h->t, 1000);
	while (now_ns() < end);
}

/* One request, waited for: its completion status, or -errno. */
static int dh_req(struct dhost *h, struct softee_tlp *t)
{
	uint64_t end = now_ns() + 1000 * MS;
	int ret;

	t->tag = ++h->tag;
	h->waiting = true;
	h->got = 0;
	h->status = 0;
	ret = dh_send(h, t);
	if (ret)
		return ret;
	while (h->waiting && now_ns() < end)
		softee_transport_poll_wait(h->t, 1000);
	return h->waiting ? -ETIMEDOUT : h->status;
}

static uint32_t cfg_rd(struct dhost *h, uint32_t off)
{
	struct softee_tlp t = { .kind = SOFTEE_TLP_CFGRD0, .len_dw = 1, .first_be = 0xf,
				.target = SOFTEE_BDF(1, 0, 0), .reg = (uint16_t)(off / 4) };

	if (dh_req(h, &t))
		return 0xffffffff;
	return h->data[0] | h->data[1] << 8 | h->data[2] << 16 | (uint32_t)h->data[3] << 24;
}

static int cfg_wr(struct dhost *h, uint32_t off, uint32_t val)
{
	uint8_t d[4] = { (uint8_t)val, (uint8_t)(val >> 8), (uint8_t)(val >> 16), (uint8_t)(val >> 24) };
	struct softee_tlp t = { .kind = SOFTEE_TLP_CFGWR0, .len_dw = 1, .first_be = 0xf,
				.target = SOFTEE_BDF(1, 0, 0), .reg = (uint16_t)(off / 4), .data = d };

	return dh_req(h, &t);
}

static uint32_t rd32(struct dhost *h, uint64_t addr)
{
	struct softee_tlp t = { .kind = SOFTEE_TLP_MRD, .len_dw = 1, .first_be = 0xf, .addr = addr };

	if (dh_req(h, &t))
		return 0xdeadbeef;
	return h->data[0] | h->data[1] << 8 | h->data[2] << 16 | (uint32_t)h->data[3] << 24;
}

static void wr32(struct dhost *h, uint64_t addr, uint32_t v)
{
	uint8_t d[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	struct softee_tlp t = { .kind = SOFTEE_TLP_MWR, .len_dw = 1, .first_be = 0xf, .addr = addr,
				.data = d };

	dh_send(h, &t);
}

/* A control request on the box's socket: the answer, or NULL. */
static char *ctl(const char *path, const char *line, char *out, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	size_t got = 0;
	char req[256];

	if (fd < 0)
		return NULL;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(req, sizeof(req), "%s\n", line);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return NULL;
	}
	/* Text ends with "ok" or "error: ..."; JSON is one line. */
	for (;;) {
		struct timeval tv = { .tv_sec = 2 };
		ssize_t k;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		k = read(fd, out + got, len - 1 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
		out[got] = '\0';
		if (out[0] == '{' ? strchr(out, '\n') != NULL :
		    (got >= 3 && !strcmp(out + got - 3, "ok\n")) || !strncmp(out, "error: ", 7) ||
		    strstr(out, "\nerror: "))
			break;
	}
	close(fd);
	return got ? out : NULL;
}

FIXTURE(daemon) {
	pid_t pid;
	char dir[64], sock[128], log[128];
	struct softee_netdev *nd;
	struct dhost h;
};

FIXTURE_SETUP(daemon)
{
	struct softee_netdev_conf nc = { .ethertype = SOFTEE_ETHERTYPE };
	char err[SOFTEE_NETDEV_ERRLEN];
	struct softee_transport_cfg tc = {
		.group = GROUP, .role = SOFTEE_ROLE_HOST, .name = "test-host",
		.hb_period_ns = 20 * MS, .rx = dh_rx, .event = dh_event, .clock = xp_clock,
	};
	uint64_t end;

	self->pid = -1;
	if (geteuid())
		SKIP(return, "needs root (a network namespace, AF_PACKET)");
	if (access(find_box(), X_OK))
		SKIP(return, "%s is not built", find_box());
	if (unshare(CLONE_NEWNET))
		SKIP(return, "no network namespace: %s", strerror(errno));
	if (system("ip link add sbx0 type veth peer name sbx1 2>/dev/null && "
		   "ip link set sbx0 up && ip link set sbx1 up"))
		SKIP(return, "no veth pair");
	snprintf(self->dir, sizeof(self->dir), "/tmp/softee-boxd-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->sock, sizeof(self->sock), "%s/box.sock", self->dir);
	snprintf(self->log, sizeof(self->log), "%s/box.log", self->dir);

	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0) {
		int fd = open(self->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		/* a setup ASSERT below skips the teardown: the box goes with us */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 2);
		dup2(fd, 1);
		execl(find_box(), find_box(), "--dev", "socket:sbx0", "--group", "5", "--ctl",
		      self->sock, "--hb-ms", "20", "--name", "test-box", "--log-level", "debug",
		      "--no-pacing", (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(0, softee_netdev_open("socket:sbx1", &nc, &self->nd, err, sizeof(err))) {
		TH_LOG("%s", err);
	}
	self->h.mem = calloc(1, GUEST_SIZE + 8);
	ASSERT_NE(NULL, self->h.mem);
	tc.nd = self->nd;
	tc.opaque = &self->h;
	ASSERT_EQ(0, softee_transport_create(&self->h.t, &tc, now_ns()));
	end = now_ns() + 3000 * MS;
	while (!(self->h.box && self->h.box->session) && now_ns() < end)
		softee_transport_poll_wait(self->h.t, 1000);
	ASSERT_TRUE(self->h.box && self->h.box->session) {
		TH_LOG("no box heard; see %s", self->log);
	}
	/* the box hears us too once a request goes through (it may wait for our heartbeat) */
	ASSERT_EQ((uint32_t)SOFTEE_TESTDEV_DEVICE_ID << 16 | SOFTEE_TESTDEV_VENDOR_ID,
		  cfg_rd(&self->h, 0));
	/* the control socket is up by now (the box opens it before its loop) */
	end = now_ns() + 2000 * MS;
	while (access(self->sock, F_OK) && now_ns() < end)
		dh_poll(&self->h, 5);
	ASSERT_EQ(0, access(self->sock, F_OK));
}

FIXTURE_TEARDOWN(daemon)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	if (self->h.t)
		softee_transport_destroy(self->h.t);
	softee_netdev_close(self->nd);
	free(self->h.mem);
	if (self->dir[0]) {
		unlink(self->sock);
		unlink(self->log);
		rmdir(self->dir);
	}
}

static void show_log(struct __test_metadata *_metadata, const char *log)
{
	char line[512];
	FILE *f = fopen(log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		TH_LOG("box: %s", line);
	fclose(f);
}

TEST_F(daemon, device_over_veth)
{
	struct dhost *h = &self->h;
	uint32_t st, crc;
	uint64_t end, t0, t1, t2;

	if (_metadata->skip)	/* the fixture skipped */
		return;

	EXPECT_EQ((uint32_t)SOFTEE_TESTDEV_DEVICE_ID << 16 | SOFTEE_TESTDEV_VENDOR_ID, cfg_rd(h, 0));
	ASSERT_EQ(0, cfg_wr(h, 0x10, 0xffffffff));
	EXPECT_EQ(0xfffff000u, cfg_rd(h, 0x10));
	ASSERT_EQ(0, cfg_wr(h, 0x10, (uint32_t)BAR0));
	ASSERT_EQ(0, cfg_wr(h, 0x18, (uint32_t)BAR2));
	ASSERT_EQ(0, cfg_wr(h, 0x1c, (uint32_t)(BAR2 >> 32)));
	ASSERT_EQ(0, cfg_wr(h, SOFTEE_TESTDEV_CAP_MSI + 4, (uint32_t)MSI_ADDR));
	ASSERT_EQ(0, cfg_wr(h, SOFTEE_TESTDEV_CAP_MSI + 8, 0));
	ASSERT_EQ(0, cfg_wr(h, SOFTEE_TESTDEV_CAP_MSI + 12, 0x4041));
	ASSERT_EQ(0, cfg_wr(h, SOFTEE_TESTDEV_CAP_MSI, SOFTEE_MSI_FLAGS_ENABLE << 16 | 0x5805));
	ASSERT_EQ(0, cfg_wr(h, 0x04, SOFTEE_PCI_COMMAND_MEMORY | SOFTEE_PCI_COMMAND_MASTER));
	EXPECT_EQ(SOFTEE_TESTDEV_MAGIC, rd32(h, BAR0 + SOFTEE_TESTDEV_ID));
	wr32(h, BAR0 + SOFTEE_TESTDEV_SCRATCH, 0xfeedf00d);
	EXPECT_EQ(0xfeedf00du, rd32(h, BAR0 + SOFTEE_TESTDEV_SCRATCH));

	/* 256 KiB in, CRC; and out again elsewhere */
	for (st = 0; st < 256 * 1024; st++)
		h->mem[st] = (uint8_t)(st * 7 + (st >> 9));
	crc = softee_testdev_crc32(0, h->mem, 256 * 1024);
	wr32(h, BAR0 + SOFTEE_TESTDEV_DMA_HOST_LO, (uint32_t)GUEST);
	wr32(h, BAR0 + SOFTEE_TESTDEV_DMA_HOST_HI, 0);
	wr32(h, BAR0 + SOFTEE_TESTDEV_DMA_DEV, 0);
	wr32(h, BAR0 + SOFTEE_TESTDEV_DMA_LEN, 256 * 1024);
	wr32(h, BAR0 + SOFTEE_TESTDEV_DMA_DIR, SOFTEE_TESTDEV_DIR_TO_DEV);
	t0 = now_ns();
	wr32(h, BAR0 + SOFTEE_TESTDEV_CTRL, SOFTEE_TESTDEV_CTRL_START | SOFTEE_TESTDEV_CTRL_IRQ_EN);
	end = now_ns() + 5000 * MS;
	while (h->msis < 1 && now_ns() < end)
		softee_transport_poll_wait(h->t, 1000);
	ASSERT_EQ(1, h->msis) {
		show_log(_metadata, self->log);
	}
	t1 = now_ns();
	EXPECT_EQ(0x4041, h->msi_data);
	EXPECT_EQ(SOFTEE_TESTDEV_STATUS_DONE, rd32(h, BAR0 + SOFTEE_TESTDEV_STATUS));
	EXPECT_EQ(crc, rd32(h, BAR0 + SOFTEE_TESTDEV_CRC));
	wr32(h, BAR0 + SOFTEE_TESTDEV_DMA_HOST_LO, (uint32_t)GUEST + 512 * 1024);
	wr32(h, BAR0 + SOFTEE_TESTDEV_DMA_DIR, SOFTEE_TESTDEV_DIR_TO_HOST);
	wr32(h, BAR0 + SOFTEE_TESTDEV_CTRL, SOFTEE_TESTDEV_CTRL_START | SOFTEE_TESTDEV_CTRL_IRQ_EN);
	end = now_ns() + 5000 * MS;
	while (h->msis < 2 && now_ns() < end)
		softee_transport_poll_wait(h->t, 1000);
	ASSERT_EQ(2, h->msis);
	t2 = now_ns();
	TH_LOG("256 KiB over veth (socket backend, this loaded machine): to the device %.2f ms, "
	       "to the host %.2f ms (START to MSI)", (t1 - t0) / 1e6, (t2 - t1) / 1e6);
	EXPECT_EQ(0, memcmp(h->mem, h->mem + 512 * 1024, 256 * 1024));
	EXPECT_EQ(crc, rd32(h, BAR0 + SOFTEE_TESTDEV_CRC));
}

TEST_F(daemon, control_socket_and_sigterm)
{
	struct dhost *h = &self->h;
	char out[65536];
	uint64_t end;
	int st;

	if (_metadata->skip)
		return;

	ASSERT_NE(NULL, ctl(self->sock, "status", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "group: 5\n")) {
		TH_LOG("%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "name: test-box\n"));
	EXPECT_NE(NULL, strstr(out, "link: socket\n"));
	EXPECT_NE(NULL, strstr(out, "hosts_up: 1\n")) {
		TH_LOG("%s", out);
	}
	ASSERT_NE(NULL, ctl(self->sock, "peers --json", out, sizeof(out)));
	EXPECT_EQ(0, strncmp(out, "{\"ok\":true,\"peers\":[{\"mac\":", 27)) {
		TH_LOG("%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "\"name\":\"test-host\""));
	/* --no-pacing reached the rate control: it never held a frame */
	EXPECT_NE(NULL, strstr(out, "\"pacing\":false,\"tx_paced\":0,")) {
		TH_LOG("%s", out);
	}
	/* and what the rate control did, cuts and periods kept */
	EXPECT_NE(NULL, strstr(out, "\"rate_cuts\":")) {
		TH_LOG("%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "\"rate_app_limited\":"));
	/* the rate control's settings as the box runs with them: the defaults */
	EXPECT_NE(NULL, strstr(out, "\"rate_target_delay_ns\":500000,\"rate_interval_ns\":100000,")) {
		TH_LOG("%s", out);
	}
	EXPECT_NE(NULL, strstr(out, "\"rate_md_num\":1,\"rate_md_den\":2,"));
	EXPECT_NE(NULL, strstr(out, "\"rate_bucket_bytes\":65536,"));
	EXPECT_NE(NULL, strstr(out, "\"rate_samples\":"));
	EXPECT_NE(NULL, strstr(out, "\"rate_blocked\":"));
	ASSERT_NE(NULL, ctl(self->sock, "nonsense", out, sizeof(out)));
	EXPECT_EQ(0, strncmp(out, "error: ", 7));
	/* configured by us, the box says whose the device is */
	ASSERT_EQ(0, cfg_wr(h, 0x04, SOFTEE_PCI_COMMAND_MEMORY));
	ASSERT_NE(NULL, ctl(self->sock, "status", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "endpoints.0.memory: true\n"));
	EXPECT_EQ(NULL, strstr(out, "endpoints.0.host: \n"));
	ASSERT_NE(NULL, ctl(self->sock, "config 0 --json", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "\"vendor\":20727"));	/* 0x50f7 */

	/* the group changes under us: the box leaves, we see it go */
	ASSERT_NE(NULL, ctl(self->sock, "set-group 6", out, sizeof(out)));
	EXPECT_STREQ("group: 6\nok\n", out);
	end = now_ns() + 1000 * MS;
	while (!h->downs && now_ns() < end)
		softee_transport_poll_wait(h->t, 1000);
	EXPECT_EQ(1, h->downs);
	dh_poll(h, 100);
	EXPECT_FALSE(h->box->session);	/* another group's box is never heard */

	/* SIGTERM: a clean exit, the socket gone */
	kill(self->pid, SIGTERM);
	ASSERT_EQ(self->pid, waitpid(self->pid, &st, 0));
	self->pid = -1;
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		show_log(_metadata, self->log);
	}
	EXPECT_NE(0, access(self->sock, F_OK));
}

TEST_HARNESS_MAIN
