// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (Documentation/poller.rst, "The control socket"): a
 * unix stream socket, one command per line, each answer followed by an
 * empty line.  A command followed by the word "json" is answered with one
 * line of JSON instead of text.  softeectl talks to it; so can socat.
 *
 *	status | devices | counters | config [IDX] | memmap | help   [json]
 *
 * Its thread reads only what the data thread publishes for readers (under
 * p->lock) and counters (single relaxed loads): it never slows the data
 * path down.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <softee/netdev_split.h>
#include <softee/send.h>

#include "poller_int.h"

#define CTL_CLIENTS	8
#define CTL_LINE	256
#define CTL_ANSWER	(64 * 1024)

struct sb {
	char *buf;
	size_t cap, len;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->len + 1 >= s->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->len = s->len + (size_t)n < s->cap ? s->len + (size_t)n : s->cap - 1;
}

static const char *msi_name(uint8_t kind)
{
	return kind == SOFTEE_PCI_CAP_MSI ? "msi" : kind == SOFTEE_PCI_CAP_MSIX ? "msix" : "none";
}

static void mac_str(char *out, const uint8_t *m)
{
	sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/*
 * A JSON string body.  Names come from heartbeats on the wire, so they may
 * hold quotes or any byte: escape what JSON forbids, and bytes above 0x7e
 * (not always UTF-8) as \u00XX, so that an answer always parses.
 */
static void sb_jstr(struct sb *s, const char *str)
{
	for (; *str; str++) {
		unsigned char c = (unsigned char)*str;

		if (c == '"' || c == '\\')
			sb_printf(s, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			sb_printf(s, "\\u%04x", c);
		else
			sb_printf(s, "%c", c);
	}
}

/* Our own name, as our heartbeats carry it (NUL-padded, not always NUL-terminated). */
static void self_name(struct softee_poller *p, char *out)
{
	memcpy(out, softee_transport_liveness(p->t)->name, SOFTEE_HB_NAME_LEN);
	out[SOFTEE_HB_NAME_LEN] = 0;
}

static void cmd_status(struct softee_poller *p, struct sb *s, bool json)
{
	struct softee_poller_stats st;
	unsigned int n = softee_poller_nr_devs(p), i, ready = 0;
	struct softee_poller_dev_info *in = malloc(sizeof(*in));
	char mac[24], name[SOFTEE_HB_NAME_LEN + 1];
	/* The data thread's link: its own TX and RX threads, or run to completion. */
	const char *layout = softee_netdev_is_split(p->cfg.nd) ? "split" : "rtc";
	uint64_t ram;

	/* MAC and name are fixed once the transport exists: no lock needed. */
	mac_str(mac, softee_transport_mac(p->t));
	self_name(p, name);
	softee_poller_get_stats(p, &st);
	for (i = 0; in && i < n; i++)
		if (!softee_poller_dev_info(p, i, in) && in->state == SOFTEE_PDEV_READY)
			ready++;
	free(in);
	pthread_mutex_lock(&p->lock);
	ram = softee_memmap_bytes(p->memmap);
	pthread_mutex_unlock(&p->lock);
	if (json) {
		sb_printf(s, "{\"mac\":\"%s\",\"name\":\"", mac);
		sb_jstr(s, name);
		sb_printf(s, "\",\"group\":%u,\"trap\":\"%s\",\"layout\":\"%s\",\"rings\":%u,\"devices\":%u,\"ready\":%u,"
			  "\"boxes_up\":%llu,\"boxes_down\":%llu,\"guest_ram\":%llu,\"mmio_window\":[%llu,%llu],"
			  "\"max_payload\":%u,\"cpl_timeout_ns\":%llu,\"running\":%s,\"lcore\":%lld}",
			  p->cfg.group, p->trap ? p->trap->name : "none", layout, p->nr_rings,
			  n, ready, (unsigned long long)st.boxes_up, (unsigned long long)st.boxes_down,
			  (unsigned long long)ram, (unsigned long long)p->cfg.mmio_base,
			  (unsigned long long)p->cfg.mmio_len, p->max_payload,
			  (unsigned long long)p->cfg.cpl_timeout_ns,
			  softee_load_acquire(&p->running) ? "true" : "false", (long long)st.lcore);
		return;
	}
	sb_printf(s, "mac %s  name %s\n", mac, name);
	sb_printf(s, "group %u  trap %s  layout %s  rings %u  devices %u (%u ready)  guest RAM %llu MiB\n",
		  p->cfg.group, p->trap ? p->trap->name : "none", layout, p->nr_rings, n,
		  ready, (unsigned long long)(ram >> 20));
	sb_printf(s, "mmio window 0x%llx+0x%llx  max payload %u  completion timeout %llu us  %s",
		  (unsigned long long)p->cfg.mmio_base, (unsigned long long)p->cfg.mmio_len,
		  p->max_payload, (unsigned long long)(p->cfg.cpl_timeout_ns / 1000),
		  softee_load_acquire(&p->running) ? "running" : "stopped");
	if (st.lcore >= 0)
		sb_printf(s, " on lcore %lld", (long long)st.lcore);
	sb_printf(s, "\n");
}

static void dev_bars(struct sb *s, const struct softee_poller_dev_info *in, bool json)
{
	bool first = true;
	uint32_t i;

	for (i = 0; i < SOFTEE_PCI_NR_BARS; i++) {
		const struct softee_bar *b = &in->bar[i];

		if (!b->size)
			continue;
		if (json)
			sb_printf(s, "%s{\"bar\":%u,\"addr\":%llu,\"size\":%llu,\"io\":%s,\"is64\":%s,\"region\":%d}",
				  first ? "" : ",", i, (unsigned long long)b->addr,
				  (unsigned long long)b->size, b->io ? "true" : "false",
				  b->is64 ? "true" : "false",
				  in->region[i] == UINT32_MAX ? -1 : (int)in->region[i]);
		else
			sb_printf(s, "  BAR%u %s 0x%llx+0x%llx%s", i, b->io ? "io" : "mem",
				  (unsigned long long)b->addr, (unsigned long long)b->size,
				  b->is64 ? " 64" : "");
		first = false;
	}
}

static void cmd_devices(struct softee_poller *p, struct sb *s, bool json)
{
	struct softee_poller_dev_info *in = malloc(sizeof(*in));
	unsigned int n = softee_poller_nr_devs(p), i, k;
	char mac[24];

	if (!in)
		return;
	if (json)
		sb_printf(s, "{\"devices\":[");
	for (i = 0; i < n; i++) {
		if (softee_poller_dev_info(p, i, in))
			continue;
		mac_str(mac, in->s.mac);
		if (json) {
			sb_printf(s, "%s{\"idx\":%u,\"bdf\":\"%02x:%02x.%x\",\"vendor\":%u,\"device\":%u,"
				  "\"class_rev\":%u,\"state\":\"%s\",\"box\":\"%s\",\"box_name\":\"",
				  i ? "," : "", in->idx, SOFTEE_BDF_BUS(in->bdf), SOFTEE_BDF_DEV(in->bdf),
				  SOFTEE_BDF_FN(in->bdf), in->vendor, in->device, in->class_rev,
				  softee_poller_dev_state_name(in->state), mac);
			sb_jstr(s, in->s.name);
			sb_printf(s, "\",\"bars\":[");
			dev_bars(s, in, true);
			sb_printf(s, "],\"msi\":{\"kind\":\"%s\",\"addr\":%llu,\"data\":[",
				  msi_name(in->msi_kind), (unsigned long long)in->msi_addr);
			for (k = 0; k < in->nr_msi; k++)
				sb_printf(s, "%s%u", k ? "," : "", in->msi_data[k]);
			sb_printf(s, "]}}");
		} else {
			sb_printf(s, "%u %02x:%02x.%x %04x:%04x class %06x %-11s box %s (%s)\n", in->idx,
				  SOFTEE_BDF_BUS(in->bdf), SOFTEE_BDF_DEV(in->bdf),
				  SOFTEE_BDF_FN(in->bdf), in->vendor, in->device, in->class_rev >> 8,
				  softee_poller_dev_state_name(in->state), mac, in->s.name);
			dev_bars(s, in, false);
			sb_printf(s, "\n  %s", msi_name(in->msi_kind));
			if (in->nr_msi)
				sb_printf(s, " address 0x%llx data 0x%x..0x%x", (unsigned long long)in->msi_addr,
					  in->msi_data[0], in->msi_data[in->nr_msi - 1]);
			sb_printf(s, "\n");
		}
	}
	if (json)
		sb_printf(s, "]}");
	free(in);
}

#define C(f)	{ #f, offsetof(struct softee_poller_counters, f) }
static const struct {
	const char *name;
	size_t off;
} counter_names[] = {
	C(mmio_reads), C(mmio_writes), C(mmio_read_bytes), C(mmio_write_bytes), C(mwr_tlps),
	C(mwr_merged), C(mrd_tlps), C(cpl_ok), C(cpl_errors), C(cpl_timeouts), C(cpl_unexpected),
	C(fail_fast), C(write_drops), C(bad_access), C(read_lat_ns_sum), C(read_lat_ns_max),
	C(dma_reads), C(dma_read_bytes), C(dma_writes), C(dma_write_bytes), C(dma_rejected),
	C(msi), C(msi_blocked), C(msi_errors), C(configured), C(downs),
	C(cfg_reads), C(cfg_writes), C(bar_syncs),
};
#undef C

static void cmd_counters(struct softee_poller *p, struct sb *s, bool json)
{
	struct softee_poller_dev_info *in = malloc(sizeof(*in));
	unsigned int n = softee_poller_nr_devs(p), i, k;
	struct softee_poller_stats st;

	if (!in)
		return;
	softee_poller_get_stats(p, &st);
	/* and the refused TLPs by reason, as the box counts them */
	if (json) {
		sb_printf(s, "{\"poller\":{\"loops\":%llu,\"idle_loops\":%llu,\"help_yields\":%llu,\"vcpu_kicks\":%llu,\"ring_entries\":%llu,"
			  "\"ring_errors\":%llu,\"no_region\":%llu,\"rx_tlps\":%llu,\"rx_bad_tlps\":%llu,"
			  "\"rx_unexpected\":%llu,\"dma_rejected\":%llu,\"flush_errors\":%llu,\"rx_tlp_errors\":{",
			  (unsigned long long)st.loops, (unsigned long long)st.idle_sleeps,
			  (unsigned long long)st.help_yields, (unsigned long long)st.vcpu_kicks,
			  (unsigned long long)st.ring_entries, (unsigned long long)st.ring_errors,
			  (unsigned long long)st.no_region, (unsigned long long)st.rx_tlps,
			  (unsigned long long)st.rx_bad_tlps, (unsigned long long)st.rx_unexpected,
			  (unsigned long long)st.dma_rejected, (unsigned long long)st.flush_errors);
		for (k = 1; k < SOFTEE_TLP_ERR_MAX; k++)
			sb_printf(s, "%s\"%s\":%llu", k > 1 ? "," : "", softee_tlp_err_name(k),
				  (unsigned long long)st.rx_tlp_err[k]);
		sb_printf(s, "}},\"devices\":[");
	} else {
		sb_printf(s, "poller: loops %llu idle %llu help_yields %llu vcpu_kicks %llu ring_entries %llu ring_errors %llu no_region %llu rx_tlps %llu rx_bad %llu rx_unexpected %llu dma_rejected %llu flush_errors %llu\n",
			  (unsigned long long)st.loops, (unsigned long long)st.idle_sleeps,
			  (unsigned long long)st.help_yields, (unsigned long long)st.vcpu_kicks,
			  (unsigned long long)st.ring_entries, (unsigned long long)st.ring_errors,
			  (unsigned long long)st.no_region, (unsigned long long)st.rx_tlps,
			  (unsigned long long)st.rx_bad_tlps, (unsigned long long)st.rx_unexpected,
			  (unsigned long long)st.dma_rejected, (unsigned long long)st.flush_errors);
		if (st.rx_bad_tlps) {
			sb_printf(s, "  refused TLPs:");
			for (k = 1; k < SOFTEE_TLP_ERR_MAX; k++)
				if (st.rx_tlp_err[k])
					sb_printf(s, " %s %llu", softee_tlp_err_name(k),
						  (unsigned long long)st.rx_tlp_err[k]);
			sb_printf(s, "\n");
		}
	}
	for (i = 0; i < n; i++) {
		const struct softee_poller_session *se = &in->s;
		uint64_t reads;

		if (softee_poller_dev_info(p, i, in))
			continue;
		reads = in->c.cpl_ok;
		if (json) {
			sb_printf(s, "%s{\"idx\":%u,\"bdf\":\"%02x:%02x.%x\"", i ? "," : "", i,
				  SOFTEE_BDF_BUS(in->bdf), SOFTEE_BDF_DEV(in->bdf), SOFTEE_BDF_FN(in->bdf));
			for (k = 0; k < sizeof(counter_names) / sizeof(counter_names[0]); k++)
				sb_printf(s, ",\"%s\":%llu", counter_names[k].name,
					  (unsigned long long)*(const uint64_t *)((const char *)&in->c +
										  counter_names[k].off));
			sb_printf(s, ",\"session\":{\"up\":%s,\"tx_tlps\":%llu,\"rx_tlps\":%llu,\"tx_frames\":%llu,"
				  "\"rx_frames\":%llu,\"retrans\":%llu,\"timeouts\":%llu,\"tlps_dropped\":%llu,"
				  "\"rate_Bps\":%llu,\"rate_max_Bps\":%llu,\"srtt_ns\":%llu,\"min_rtt_ns\":%llu,"
				  "\"rate_cuts\":%llu,\"rate_app_limited\":%llu,\"rate\":{\"min_Bps\":%llu,"
				  "\"ai_step_Bps\":%llu,\"md_num\":%u,\"md_den\":%u,\"target_delay_ns\":%llu,"
				  "\"interval_ns\":%llu,\"bucket_bytes\":%llu,\"pacing\":%s,\"samples\":%llu,"
				  "\"increases\":%llu,\"timeout_cuts\":%llu,\"paced\":%llu,\"blocked\":%llu}}}",
				  se->up ? "true" : "false", (unsigned long long)se->tx_tlps,
				  (unsigned long long)se->rx_tlps, (unsigned long long)se->tx_frames,
				  (unsigned long long)se->rx_frames, (unsigned long long)se->retrans,
				  (unsigned long long)se->timeouts, (unsigned long long)se->tlps_dropped,
				  (unsigned long long)se->rate_Bps, (unsigned long long)se->rate_max_Bps,
				  (unsigned long long)se->srtt_ns,
				  (unsigned long long)se->min_rtt_ns, (unsigned long long)se->rate_cuts,
				  (unsigned long long)se->rate_app_limited,
				  (unsigned long long)se->rate_cfg.rate_min_Bps,
				  (unsigned long long)se->rate_cfg.ai_step_Bps, se->rate_cfg.md_num,
				  se->rate_cfg.md_den, (unsigned long long)se->rate_cfg.target_delay_ns,
				  (unsigned long long)se->rate_cfg.interval_ns,
				  (unsigned long long)se->rate_cfg.bucket_bytes,
				  se->rate_cfg.no_pacing ? "false" : "true",
				  (unsigned long long)se->rate_stats.samples,
				  (unsigned long long)se->rate_stats.increases,
				  (unsigned long long)se->rate_stats.timeouts,
				  (unsigned long long)se->rate_stats.paced,
				  (unsigned long long)se->rate_stats.blocked);
			continue;
		}
		sb_printf(s, "%u %02x:%02x.%x %s\n", i, SOFTEE_BDF_BUS(in->bdf), SOFTEE_BDF_DEV(in->bdf),
			  SOFTEE_BDF_FN(in->bdf), softee_poller_dev_state_name(in->state));
		sb_printf(s, "  mmio: reads %llu writes %llu (bytes %llu/%llu) MWr %llu (merged %llu) MRd %llu\n",
			  (unsigned long long)in->c.mmio_reads, (unsigned long long)in->c.mmio_writes,
			  (unsigned long long)in->c.mmio_read_bytes, (unsigned long long)in->c.mmio_write_bytes,
			  (unsigned long long)in->c.mwr_tlps, (unsigned long long)in->c.mwr_merged,
			  (unsigned long long)in->c.mrd_tlps);
		sb_printf(s, "  completions: ok %llu errors %llu timeouts %llu unexpected %llu fail_fast %llu write_drops %llu bad_access %llu\n",
			  (unsigned long long)in->c.cpl_ok, (unsigned long long)in->c.cpl_errors,
			  (unsigned long long)in->c.cpl_timeouts, (unsigned long long)in->c.cpl_unexpected,
			  (unsigned long long)in->c.fail_fast, (unsigned long long)in->c.write_drops,
			  (unsigned long long)in->c.bad_access);
		sb_printf(s, "  read latency: mean %.1f us max %.1f us\n",
			  reads ? (double)in->c.read_lat_ns_sum / (double)reads / 1000.0 : 0.0,
			  (double)in->c.read_lat_ns_max / 1000.0);
		sb_printf(s, "  dma: reads %llu (%llu bytes) writes %llu (%llu bytes) rejected %llu\n",
			  (unsigned long long)in->c.dma_reads, (unsigned long long)in->c.dma_read_bytes,
			  (unsigned long long)in->c.dma_writes, (unsigned long long)in->c.dma_write_bytes,
			  (unsigned long long)in->c.dma_rejected);
		sb_printf(s, "  msi: %llu (blocked %llu, errors %llu)  configured %llu downs %llu\n",
			  (unsigned long long)in->c.msi, (unsigned long long)in->c.msi_blocked,
			  (unsigned long long)in->c.msi_errors, (unsigned long long)in->c.configured,
			  (unsigned long long)in->c.downs);
		sb_printf(s, "  session: %s TLPs tx %llu rx %llu frames tx %llu rx %llu retrans %llu timeouts %llu dropped %llu rate %.1f of %.1f MB/s (cuts %llu, app-limited %llu) srtt %.1f us min %.1f us\n",
			  se->up ? "up" : "down", (unsigned long long)se->tx_tlps,
			  (unsigned long long)se->rx_tlps, (unsigned long long)se->tx_frames,
			  (unsigned long long)se->rx_frames, (unsigned long long)se->retrans,
			  (unsigned long long)se->timeouts, (unsigned long long)se->tlps_dropped,
			  (double)se->rate_Bps / 1e6, (double)se->rate_max_Bps / 1e6,
			  (unsigned long long)se->rate_cuts,
			  (unsigned long long)se->rate_app_limited, (double)se->srtt_ns / 1000.0,
			  (double)se->min_rtt_ns / 1000.0);
	}
	if (json)
		sb_printf(s, "]}");
	free(in);
}

static int cmd_config(struct softee_poller *p, struct sb *s, const char *arg, bool json)
{
	struct softee_poller_dev_info *in = malloc(sizeof(*in));
	unsigned long idx = 0;
	unsigned int i;
	char *end;

	if (!in)
		return -ENOMEM;
	if (arg && *arg) {
		idx = strtoul(arg, &end, 0);
		if (*end && *end != ' ') {
			free(in);
			return -EINVAL;
		}
	}
	if (softee_poller_dev_info(p, (unsigned int)idx, in)) {
		sb_printf(s, json ? "{\"error\":\"no device %lu\"}" : "error: no device %lu", idx);
		free(in);
		return 0;
	}
	if (json) {
		sb_printf(s, "{\"idx\":%lu,\"config\":\"", idx);
		for (i = 0; i < SOFTEE_PCI_CFG_SIZE; i++)
			sb_printf(s, "%02x", in->cfg[i]);
		sb_printf(s, "\"}");
	} else {
		for (i = 0; i < SOFTEE_PCI_CFG_SIZE; i++) {
			if (!(i % 16))
				sb_printf(s, "%02x:", i);
			sb_printf(s, " %02x%s", in->cfg[i], i % 16 == 15 ? "\n" : "");
		}
	}
	free(in);
	return 0;
}

static void cmd_memmap(struct softee_poller *p, struct sb *s, bool json)
{
	uint32_t i;

	pthread_mutex_lock(&p->lock);
	if (json)
		sb_printf(s, "{\"ram\":[");
	for (i = 0; p->memmap && i < p->memmap->nr; i++) {
		const struct softee_memmap_range *r = &p->memmap->r[i];

		if (json)
			sb_printf(s, "%s{\"gpa\":%llu,\"len\":%llu}", i ? "," : "",
				  (unsigned long long)r->gpa, (unsigned long long)r->len);
		else
			sb_printf(s, "0x%llx+0x%llx\n", (unsigned long long)r->gpa,
				  (unsigned long long)r->len);
	}
	if (json)
		sb_printf(s, "]}");
	pthread_mutex_unlock(&p->lock);
}

int softee_poller_ctl_command(struct softee_poller *p, const char *line, char *buf, size_t cap)
{
	struct sb s = { .buf = buf, .cap = cap };
	char cmd[32] = "", rest[CTL_LINE] = "";
	bool json = false;
	size_t l;
	int ret = 0;

	if (!cap)
		return -EINVAL;
	buf[0] = 0;
	if (sscanf(line, " %31s %255[^\n]", cmd, rest) < 1)
		return -EINVAL;
	l = strlen(rest);
	while (l && (rest[l - 1] == ' ' || rest[l - 1] == '\r'))
		rest[--l] = 0;
	if (l >= 4 && !strcmp(rest + l - 4, "json") && (l == 4 || rest[l - 5] == ' ')) {
		json = true;
		rest[l >= 5 ? l - 5 : 0] = 0;
	}
	if (!strcmp(cmd, "status"))
		cmd_status(p, &s, json);
	else if (!strcmp(cmd, "devices"))
		cmd_devices(p, &s, json);
	else if (!strcmp(cmd, "counters"))
		cmd_counters(p, &s, json);
	else if (!strcmp(cmd, "config"))
		ret = cmd_config(p, &s, rest, json);
	else if (!strcmp(cmd, "memmap"))
		cmd_memmap(p, &s, json);
	else if (!strcmp(cmd, "help"))
		sb_printf(&s, json ? "{\"commands\":[\"status\",\"devices\",\"counters\",\"config\",\"memmap\",\"help\"]}" :
			  "commands: status | devices | counters | config [IDX] | memmap | help, each optionally followed by \"json\"\n");
	else
		ret = -EINVAL;
	if (ret)
		return ret;
	return (int)s.len;
}

/* ---- the socket thread ----------------------------------------------------------- */

struct ctl_client {
	int fd;
	size_t len;
	char line[CTL_LINE];
};

/* A client that does not read an answer within this is dropped. */
#define CTL_SEND_MS	100

/* Answer one line; false when the client went away or stopped reading. */
static bool ctl_answer(struct softee_poller *p, int fd, const char *line, char *out)
{
	int n = softee_poller_ctl_command(p, line, out, CTL_ANSWER - 2);
	size_t len;

	if (n < 0)
		n = snprintf(out, CTL_ANSWER, "error: unknown command or argument: '%.64s' (try help)", line);
	len = (size_t)n;
	if (len && out[len - 1] != '\n')
		out[len++] = '\n';
	out[len++] = '\n';			/* the empty line that ends an answer */
	return !softee_send_all(fd, out, len, CTL_SEND_MS);
}

static void *ctl_main(void *arg)
{
	struct softee_poller *p = arg;
	struct ctl_client cl[CTL_CLIENTS];
	struct pollfd pfd[CTL_CLIENTS + 1];
	char *out = malloc(CTL_ANSWER);
	int i, n;

	if (!out)
		return NULL;
	for (i = 0; i < CTL_CLIENTS; i++)
		cl[i].fd = -1;
	while (!softee_load_acquire(&p->pctl_stop)) {
		pfd[0].fd = p->ctl_fd;
		pfd[0].events = POLLIN;
		for (i = 0; i < CTL_CLIENTS; i++) {
			pfd[i + 1].fd = cl[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		n = poll(pfd, CTL_CLIENTS + 1, 100);
		if (n <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(p->ctl_fd, NULL, NULL, SOCK_CLOEXEC);

			for (i = 0; fd >= 0 && i < CTL_CLIENTS && cl[i].fd >= 0; i++)
				;
			if (fd >= 0 && i == CTL_CLIENTS) {
				close(fd);		/* busy: come back later */
			} else if (fd >= 0) {
				cl[i].fd = fd;
				cl[i].len = 0;
			}
		}
		for (i = 0; i < CTL_CLIENTS; i++) {
			struct ctl_client *c = &cl[i];
			char *nl;
			ssize_t r;

			if (c->fd < 0 || !(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(c->fd, c->line + c->len, sizeof(c->line) - 1 - c->len);
			if (r <= 0) {
				close(c->fd);
				c->fd = -1;
				continue;
			}
			c->len += (size_t)r;
			c->line[c->len] = 0;
			while (c->fd >= 0 && (nl = strchr(c->line, '\n'))) {
				*nl = 0;
				if (!ctl_answer(p, c->fd, c->line, out)) {
					close(c->fd);
					c->fd = -1;
					break;
				}
				memmove(c->line, nl + 1, c->len - (size_t)(nl + 1 - c->line) + 1);
				c->len -= (size_t)(nl + 1 - c->line);
			}
			if (c->fd >= 0 && c->len >= sizeof(c->line) - 1) {
				/* a line too long: answer it and start over */
				if (!ctl_answer(p, c->fd, "(line too long)", out)) {
					close(c->fd);
					c->fd = -1;
				}
				c->len = 0;
			}
		}
	}
	for (i = 0; i < CTL_CLIENTS; i++)
		if (cl[i].fd >= 0)
			close(cl[i].fd);
	free(out);
	return NULL;
}

int pctl_start(struct softee_poller *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(p->cfg.ctl_path) >= sizeof(sa.sun_path)) {
		plog(p, "control socket %s: path too long", p->cfg.ctl_path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, p->cfg.ctl_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(p->cfg.ctl_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8)) {
		ret = -errno;
		plog(p, "control socket %s: %s", p->cfg.ctl_path, strerror(-ret));
		close(fd);
		return ret;
	}
	p->ctl_fd = fd;
	ret = pthread_create(&p->ctl_thread, NULL, ctl_main, p);
	if (ret) {
		close(fd);
		p->ctl_fd = -1;
		return -ret;
	}
	p->have_ctl = true;
	return 0;
}

void pctl_stop(struct softee_poller *p)
{
	if (!p->have_ctl)
		return;
	softee_store_release(&p->pctl_stop, 1);
	pthread_join(p->ctl_thread, NULL);
	close(p->ctl_fd);
	unlink(p->cfg.ctl_path);
	p->have_ctl = false;
}
