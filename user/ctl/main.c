// SPDX-License-Identifier: GPL-2.0
/*
 * softeectl - the operator's CLI: asks the local softee-poller and
 * softee-box daemons over their control sockets and prints what they say
 * as aligned tables, or as one JSON document with --json.
 *
 *   softeectl [--poller PATH] [--box PATH | --box-group N] [--json] [--timeout-ms N] COMMAND
 *
 * softeectl always asks the daemons for JSON (the poller: "CMD json", the
 * box: "CMD --json") and reads it with json.c: one parser instead of one
 * per text format, and --json can pass their documents through whole.
 *
 * Exit status: 0 done, 1 a daemon could not be reached or answered an
 * error, 2 a usage error (one line on stderr naming the argument).
 * Documentation/softeectl.rst has the commands and examples.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "softeectl.h"

#define NAME			"softeectl"
#define POLLER_SOCK		"/run/softee-poller.sock"
#define BOX_SOCK_DIR		"/run/softee"
#define MAX_BOXES		16
#define DEFAULT_TIMEOUT_MS	2000

static struct {
	const char *poller;		/* NULL: the default, and not an error if absent (segment) */
	const char *box[MAX_BOXES];
	int nbox;
	char box_group_path[64];
	bool json;
	int timeout_ms;
} opt = { .timeout_ms = DEFAULT_TIMEOUT_MS };

static const char usage_line[] =
	"usage: " NAME " [--poller PATH] [--box PATH | --box-group N] [--json] [--timeout-ms N] COMMAND";

static void help(void)
{
	printf("%s\n\n"
	       "  --poller PATH     softee-poller's control socket (" POLLER_SOCK ")\n"
	       "  --box PATH        a softee-box's control socket (repeat for more boxes)\n"
	       "  --box-group N     the box started in group N: " BOX_SOCK_DIR "/box-N.sock\n"
	       "                    (default: every " BOX_SOCK_DIR "/box-*.sock)\n"
	       "  --json            one JSON document instead of tables\n"
	       "  --timeout-ms N    per request (%d)\n\n"
	       "commands:\n"
	       "  segment           hosts, boxes, groups, MACs and devices seen by the local daemons\n"
	       "  devices           the poller's devices: BDF, IDs, BARs, MSI, state\n"
	       "  config DEV        a device's config space (DEV: index or BB:DD.F)\n"
	       "  counters [DEV]    per device and per session, from the poller and the box(es)\n"
	       "  poller status     the poller\n"
	       "  box status        the box, its group and endpoints\n"
	       "  box peers         the nodes the box hears\n"
	       "  box counters      the box's, its transport's and its endpoints' counters\n"
	       "  box set-group N   move the box to group N (0..65535)\n"
	       "  attach --pid PID --slot BB:DD.F --link SPEC [--group N] [--ecam BASE|--no-ecam]\n"
	       "         [--machine q35|pc] [--timeout-us U (1000000)] [--wait-ms MS (20000)]\n"
	       "         [--eal-arg ARG]... [--poller-arg ARG]...\n"
	       "                    give a running QEMU's guest the box's device in that slot\n"
	       "                    (starts a softee-poller for it; QEMU started with -S)\n"
	       "  detach --pid PID [--wait-ms MS (5000)]\n"
	       "                    stop that poller: the slot is empty again\n"
	       "  (attach and detach come first: global options do not apply to them)\n\n"
	       "exit status: 0 ok, 1 a daemon unreachable or answering an error, 2 usage error\n",
	       usage_line, DEFAULT_TIMEOUT_MS);
	exit(0);
}

/* A usage error: one line that names the argument, exit 2. */
static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, NAME ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (%s; " NAME " --help)\n", usage_line);
	exit(2);
}

/* Anything else that stops us: a daemon unreachable, or its error. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, NAME ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t number(const char *what, const char *s, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v > max)
		bad("%s wants a number 0..%llu, not '%s'", what, (unsigned long long)max, s);
	return v;
}

/* ---- asking the daemons ------------------------------------------------------ */

struct doc {
	char *text;
	size_t len;
	struct json j;
	const char *path;
};

static void doc_free(struct doc *d)
{
	json_free(&d->j);
	free(d->text);
	d->text = NULL;
}

enum daemon { POLLER, BOX };

/*
 * Ask one daemon for CMD in JSON.  0: d holds a parsed document.  With
 * soft, a daemon that cannot be reached gives -1 (and a message in why)
 * instead of ending the program: discovered sockets may be stale.
 * An answer that says error always ends the program: it is the daemon's.
 */
static int ask(enum daemon who, const char *path, const char *cmd, struct doc *d, bool soft,
	       char *why, size_t whylen)
{
	char line[300], err[512], msg[256];
	enum ctl_err e;

	memset(d, 0, sizeof(*d));
	d->path = path;
	snprintf(line, sizeof(line), "%s %s", cmd, who == POLLER ? "json" : "--json");
	e = ctl_request(path, line, who == POLLER ? CTL_END_EMPTY_LINE : CTL_END_LINE, opt.timeout_ms,
			&d->text, &d->len, err, sizeof(err));
	if (e != CTL_OK) {
		if (soft) {
			snprintf(why, whylen, "%s", err);
			return -1;
		}
		if (e == CTL_UNREACHABLE)
			die("cannot reach %s at %s. Is %s running? Give its control socket with %s",
			    who == POLLER ? "the poller" : "the box", err,
			    who == POLLER ? "softee-poller" : "softee-box",
			    who == POLLER ? "--poller PATH" : "--box PATH or --box-group N");
		die("%s %s", who == POLLER ? "poller" : "box", err);
	}
	/* Errors come as text ("error: ...") from both, or as JSON with an "error" member. */
	if (!strncmp(d->text, "error:", 6))
		die("%s %s: %s", who == POLLER ? "poller" : "box", path, d->text + 6 + (d->text[6] == ' '));
	if (json_parse(&d->j, d->text, d->len))
		die("%s %s: answer to '%s' is not JSON (at byte %zu): %.80s",
		    who == POLLER ? "poller" : "box", path, cmd, d->j.err_at, d->text);
	if (json_type(&d->j, 0) != JSON_OBJECT)
		die("%s %s: answer to '%s' is not a JSON object", who == POLLER ? "poller" : "box", path, cmd);
	if (json_get(&d->j, 0, "error") >= 0) {
		json_get_str(&d->j, 0, "error", msg, sizeof(msg));
		die("%s %s: %s", who == POLLER ? "poller" : "box", path, msg);
	}
	return 0;
}

static const char *poller_path(void)
{
	return opt.poller ? opt.poller : POLLER_SOCK;
}

static void ask_poller(const char *cmd, struct doc *d)
{
	ask(POLLER, poller_path(), cmd, d, false, NULL, 0);
}

/* The boxes to ask: the ones given, or every socket in BOX_SOCK_DIR. */
static int box_paths(const char **paths, bool *given)
{
	static glob_t g;
	static bool globbed;
	int i, n = 0;

	*given = opt.nbox > 0;
	if (opt.nbox) {
		for (i = 0; i < opt.nbox; i++)
			paths[i] = opt.box[i];
		return opt.nbox;
	}
	if (!globbed) {
		globbed = true;
		if (glob(BOX_SOCK_DIR "/box-*.sock", 0, NULL, &g))
			g.gl_pathc = 0;
	}
	for (i = 0; i < (int)g.gl_pathc && n < MAX_BOXES; i++)
		paths[n++] = g.gl_pathv[i];
	return n;
}

/* The one box of a "box" command. */
static const char *one_box(void)
{
	const char *paths[MAX_BOXES];
	bool given;
	int n = box_paths(paths, &given);

	if (given && n > 1)
		bad("box: %d boxes given; a box command takes one --box PATH", n);
	if (!n)
		die("no box control socket in " BOX_SOCK_DIR " (box-*.sock). Is softee-box running? "
		    "Give its control socket with --box PATH or --box-group N");
	if (n > 1)
		bad("box: %d boxes here (%s, %s%s): choose one with --box PATH or --box-group N", n,
		    paths[0], paths[1], n > 2 ? ", ..." : "");
	return paths[0];
}

/* ---- printing helpers --------------------------------------------------------- */

static void print_raw(const struct doc *d)
{
	fwrite(d->text, 1, d->len, stdout);
	fputc('\n', stdout);
}

/* Write value t of doc d as JSON (it parsed: its bytes are valid JSON). */
static void put_raw(const struct json *j, int t)
{
	const char *p;
	size_t len;

	if (json_raw(j, t, &p, &len))
		fwrite(p, 1, len, stdout);
	else
		fputs("null", stdout);
}

/* Keys whose numbers read better in hex: addresses, sizes, bit fields. */
static bool hex_key(const char *k)
{
	static const char *const keys[] = { "base", "size", "addr", "command", "mmio_window",
					    "vendor", "device", "class", "class_rev", NULL };
	int i;

	for (i = 0; keys[i]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

/* One value as a table cell: strings as they are, numbers (hex for hex_key), arrays joined. */
static void cell_value(const struct json *j, int t, const char *key, char *buf, size_t cap)
{
	uint64_t u;
	int i, n;
	size_t o;

	switch (json_type(j, t)) {
	case JSON_STRING:
		json_str(j, t, buf, cap);
		if (!buf[0])
			snprintf(buf, cap, "-");
		return;
	case JSON_NUMBER:
		if (hex_key(key) && json_u64(j, t, &u)) {
			snprintf(buf, cap, "0x%llx", (unsigned long long)u);
		} else {
			const char *p;
			size_t len;

			json_raw(j, t, &p, &len);
			snprintf(buf, cap, "%.*s", (int)len, p);
		}
		return;
	case JSON_TRUE: snprintf(buf, cap, "yes"); return;
	case JSON_FALSE: snprintf(buf, cap, "no"); return;
	case JSON_ARRAY:
		n = json_count(j, t);
		buf[0] = 0;
		for (i = 0, o = 0; i < n && o + 1 < cap; i++) {
			char v[64];

			cell_value(j, json_at(j, t, i), key, v, sizeof(v));
			o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? " " : "", v);
		}
		return;
	default:
		snprintf(buf, cap, "-");
	}
}

/* Key/value rows of an object's members, nested objects with dotted keys; arrays of objects skipped. */
static void kv_rows(struct table *tb, const struct json *j, int t, const char *prefix)
{
	int i, n = json_count(j, t);

	for (i = 0; i < n; i++) {
		int k = json_key_at(j, t, i), v = json_at(j, t, i);
		char key[96], full[200], val[512];

		json_str(j, k, key, sizeof(key));
		if (!strcmp(key, "ok") && !prefix[0])
			continue;
		snprintf(full, sizeof(full), "%s%s%s", prefix, prefix[0] ? "." : "", key);
		if (json_type(j, v) == JSON_OBJECT) {
			kv_rows(tb, j, v, full);
			continue;
		}
		if (json_type(j, v) == JSON_ARRAY && json_type(j, json_at(j, v, 0)) == JSON_OBJECT)
			continue;
		cell_value(j, v, key, val, sizeof(val));
		table_row(tb);
		table_cell(tb, "%s", full);
		table_cell(tb, "%s", val);
	}
}

static void print_kv(const struct json *j, int t, const char *title)
{
	struct table *tb = table_new(2, "KEY", "VALUE");

	kv_rows(tb, j, t, "");
	if (title)
		printf("%s\n", title);
	table_print(tb, stdout);
	table_free(tb);
}

/* ---- devices ------------------------------------------------------------------ */

static void bar_type(const struct json *j, int b, char *buf, size_t cap)
{
	bool io = false, is64 = false;

	json_bool(j, json_get(j, b, "io"), &io);
	json_bool(j, json_get(j, b, "is64"), &is64);
	snprintf(buf, cap, "%s", io ? "io" : is64 ? "mem64" : "mem32");
}

static void devices_tables(const struct doc *d)
{
	int devs = json_get(&d->j, 0, "devices"), i, k, n = json_count(&d->j, devs);
	struct table *t, *bars;
	char s[128], s2[200];

	if (!n) {
		printf("no devices (the poller has not found a box of its group)\n");
		return;
	}
	t = table_new(8, ">IDX", "BDF", "ID", "CLASS", "STATE", "BOX", "BOX NAME", "MSI");
	bars = table_new(6, ">DEV", "BAR", "TYPE", "ADDRESS", "SIZE", "REGION");
	for (i = 0; i < n; i++) {
		int dv = json_at(&d->j, devs, i), br = json_get(&d->j, dv, "bars"), m = json_get(&d->j, dv, "msi");
		int data = json_get(&d->j, m, "data"), nd = json_count(&d->j, data);
		uint64_t idx = json_get_u64(&d->j, dv, "idx", 0);

		table_row(t);
		table_cell(t, "%llu", (unsigned long long)idx);
		table_cell(t, "%s", json_get_str(&d->j, dv, "bdf", s, sizeof(s)));
		table_cell(t, "%04llx:%04llx", (unsigned long long)json_get_u64(&d->j, dv, "vendor", 0),
			   (unsigned long long)json_get_u64(&d->j, dv, "device", 0));
		table_cell(t, "%06llx", (unsigned long long)json_get_u64(&d->j, dv, "class_rev", 0) >> 8);
		table_cell(t, "%s", json_get_str(&d->j, dv, "state", s, sizeof(s)));
		table_cell(t, "%s", json_get_str(&d->j, dv, "box", s, sizeof(s)));
		json_get_str(&d->j, dv, "box_name", s, sizeof(s));
		table_cell(t, "%s", s[0] ? s : "-");
		json_get_str(&d->j, m, "kind", s, sizeof(s));
		if (nd) {
			uint64_t v0 = 0, v1 = 0;

			json_u64(&d->j, json_at(&d->j, data, 0), &v0);
			json_u64(&d->j, json_at(&d->j, data, nd - 1), &v1);
			snprintf(s2, sizeof(s2), "%s 0x%llx data 0x%llx", s,
				 (unsigned long long)json_get_u64(&d->j, m, "addr", 0), (unsigned long long)v0);
			if (nd > 1)
				snprintf(s2 + strlen(s2), sizeof(s2) - strlen(s2), "..0x%llx", (unsigned long long)v1);
			table_cell(t, "%s", s2);
		} else {
			table_cell(t, "%s", s);
		}
		for (k = 0; k < json_count(&d->j, br); k++) {
			int b = json_at(&d->j, br, k);
			int64_t region = -1;

			json_i64(&d->j, json_get(&d->j, b, "region"), &region);
			bar_type(&d->j, b, s, sizeof(s));
			table_row(bars);
			table_cell(bars, "%llu", (unsigned long long)idx);
			table_cell(bars, "BAR%llu", (unsigned long long)json_get_u64(&d->j, b, "bar", 0));
			table_cell(bars, "%s", s);
			table_cell(bars, "0x%llx", (unsigned long long)json_get_u64(&d->j, b, "addr", 0));
			table_cell(bars, "0x%llx", (unsigned long long)json_get_u64(&d->j, b, "size", 0));
			if (region < 0)
				table_cell(bars, "-");
			else
				table_cell(bars, "%lld", (long long)region);
		}
	}
	table_print(t, stdout);
	if (table_rows(bars)) {
		printf("\n");
		table_print(bars, stdout);
	}
	table_free(t);
	table_free(bars);
}

static int cmd_devices(int argc, char **argv)
{
	struct doc d;

	(void)argv;
	if (argc)
		bad("devices takes no argument, not '%s'", argv[0]);
	ask_poller("devices", &d);
	if (opt.json)
		print_raw(&d);
	else
		devices_tables(&d);
	doc_free(&d);
	return 0;
}

/*
 * DEV: the poller's device index (decimal) or its BDF (BB:DD.F, or DD.F
 * on bus 0), checked before any daemon is asked: a bad DEV is a usage
 * error whatever the poller holds.  want gets the form to look for.
 */
static bool parse_dev(const char *what, const char *arg, char *want, size_t cap)
{
	unsigned int bus = 0, dev, fn;
	char tail;

	if (sscanf(arg, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3 ||
	    (bus = 0, sscanf(arg, "%x.%x%c", &dev, &fn, &tail) == 2)) {
		if (bus > 0xff || dev > 0x1f || fn > 7)
			bad("%s: '%s' is not a BDF (BB:DD.F: bus <= ff, device <= 1f, function <= 7)", what, arg);
		snprintf(want, cap, "%02x:%02x.%x", bus, dev, fn);
		return true;
	}
	snprintf(want, cap, "%llu", (unsigned long long)number(what, arg, 0xffff));
	return false;
}

/* The device's token in the poller's devices document; its absence is the poller's answer. */
static int find_dev(const struct doc *devs, const char *arg, const char *want, bool by_bdf)
{
	int list = json_get(&devs->j, 0, "devices"), i, n = json_count(&devs->j, list);
	char got[16];

	for (i = 0; i < n; i++) {
		int d = json_at(&devs->j, list, i);

		if (by_bdf)
			json_get_str(&devs->j, d, "bdf", got, sizeof(got));
		else
			snprintf(got, sizeof(got), "%llu", (unsigned long long)json_get_u64(&devs->j, d, "idx", ~0ULL));
		if (!strcmp(got, want))
			return d;
	}
	die("poller %s: no device %s (%d device%s; see " NAME " devices)", devs->path, arg, n, n == 1 ? "" : "s");
}

/* ---- config ------------------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

struct bar_dec {
	unsigned int bar;
	const char *type;
	bool prefetch;
	uint64_t addr, size;
};

/* The BARs as the config space holds them; sizes from the poller's sizing (devices). */
static int decode_bars(const uint8_t *cfg, const struct json *j, int dev, struct bar_dec *out)
{
	int bars = json_get(j, dev, "bars"), n = 0, k;
	unsigned int i;

	for (i = 0; i < 6; i++) {
		uint32_t v = le32(cfg + 0x10 + 4 * i);
		struct bar_dec b = { .bar = i };
		bool is64 = false;

		for (k = 0; k < json_count(j, bars); k++)
			if (json_get_u64(j, json_at(j, bars, k), "bar", 99) == i)
				b.size = json_get_u64(j, json_at(j, bars, k), "size", 0);
		if (v & 1) {
			b.type = "io";
			b.addr = v & ~3u;
		} else {
			is64 = ((v >> 1) & 3) == 2;
			b.type = is64 ? "mem64" : "mem32";
			b.prefetch = v & 8;
			b.addr = v & ~0xfu;
			if (is64 && i < 5)
				b.addr |= (uint64_t)le32(cfg + 0x10 + 4 * (i + 1)) << 32;
		}
		if (v || b.size)
			out[n++] = b;
		if (is64)
			i++;		/* the upper half is not a BAR of its own */
	}
	return n;
}

static int cmd_config(int argc, char **argv)
{
	struct doc devs, cfgd;
	struct bar_dec bars[6];
	uint8_t cfg[256];
	char cmd[32], hex[600], bdf[16], want[24];
	int dev, nb, i;
	bool by_bdf;
	unsigned int cap, guard;
	uint64_t idx;

	if (argc != 1)
		bad(argc ? "config takes one DEV, not '%s'" : "config: which device? (config DEV: index or BB:DD.F)%s",
		    argc ? argv[1] : "");
	by_bdf = parse_dev("config DEV", argv[0], want, sizeof(want));
	ask_poller("devices", &devs);
	dev = find_dev(&devs, argv[0], want, by_bdf);
	idx = json_get_u64(&devs.j, dev, "idx", 0);
	json_get_str(&devs.j, dev, "bdf", bdf, sizeof(bdf));
	snprintf(cmd, sizeof(cmd), "config %llu", (unsigned long long)idx);
	ask_poller(cmd, &cfgd);
	if (unhex(json_get_str(&cfgd.j, 0, "config", hex, sizeof(hex)), cfg, sizeof(cfg)))
		die("poller %s: config %llu: no 256-byte hex string in the answer", cfgd.path,
		    (unsigned long long)idx);
	nb = decode_bars(cfg, &devs.j, dev, bars);
	if (opt.json) {
		printf("{\"idx\":%llu,\"bdf\":", (unsigned long long)idx);
		json_print_str(stdout, bdf);
		printf(",\"vendor\":%u,\"device\":%u,\"command\":%u,\"status\":%u,\"class\":%u,\"config\":\"%s\",\"bars\":[",
		       cfg[0] | cfg[1] << 8, cfg[2] | cfg[3] << 8, cfg[4] | cfg[5] << 8, cfg[6] | cfg[7] << 8,
		       le32(cfg + 8) >> 8, hex);
		for (i = 0; i < nb; i++)
			printf("%s{\"bar\":%u,\"type\":\"%s\",\"prefetch\":%s,\"addr\":%llu,\"size\":%llu}",
			       i ? "," : "", bars[i].bar, bars[i].type, bars[i].prefetch ? "true" : "false",
			       (unsigned long long)bars[i].addr, (unsigned long long)bars[i].size);
		printf("]}\n");
		goto out;
	}
	printf("device %llu  %s  %04x:%04x  class %06x  command 0x%04x  status 0x%04x  header type 0x%02x\n\n",
	       (unsigned long long)idx, bdf, cfg[0] | cfg[1] << 8, cfg[2] | cfg[3] << 8, le32(cfg + 8) >> 8,
	       cfg[4] | cfg[5] << 8, cfg[6] | cfg[7] << 8, cfg[14]);
	for (i = 0; i < 256; i++)
		printf("%s%02x%s", i % 16 ? " " : (printf("%02x:", i), " "), cfg[i], i % 16 == 15 ? "\n" : "");
	if (nb) {
		struct table *t = table_new(5, "BAR", "TYPE", "ADDRESS", "SIZE", "PREFETCH");

		for (i = 0; i < nb; i++) {
			table_row(t);
			table_cell(t, "BAR%u", bars[i].bar);
			table_cell(t, "%s", bars[i].type);
			table_cell(t, "0x%llx", (unsigned long long)bars[i].addr);
			if (bars[i].size)
				table_cell(t, "0x%llx", (unsigned long long)bars[i].size);
			else
				table_cell(t, "-");
			table_cell(t, "%s", bars[i].prefetch ? "yes" : "no");
		}
		printf("\n");
		table_print(t, stdout);
		table_free(t);
	}
	/* The capability list, bounded: a loop in it must not hang us. */
	cap = (cfg[6] & 0x10) ? cfg[0x34] & 0xfc : 0;
	for (guard = 0; cap >= 0x40 && cap <= 0xfc && guard < 48; guard++) {
		if (!guard)
			printf("\ncapabilities:\n");
		printf("  0x%02x ", cap);
		/* 64-bit MSI data sits at cap + 12: all of it inside the 256 bytes */
		if (cfg[cap] == 0x05 && cap <= ((cfg[cap + 2] & 0x80) ? 0xf2 : 0xf4)) {
			uint16_t fl = cfg[cap + 2] | cfg[cap + 3] << 8;
			bool is64 = fl & 0x80;
			uint64_t addr = le32(cfg + cap + 4) | (is64 ? (uint64_t)le32(cfg + cap + 8) << 32 : 0);
			unsigned int dat = is64 ? cap + 12 : cap + 8;

			printf("MSI %s, address 0x%llx, data 0x%04x\n", fl & 1 ? "enabled" : "disabled",
			       (unsigned long long)addr, cfg[dat] | cfg[dat + 1] << 8);
		} else if (cfg[cap] == 0x11) {
			uint16_t fl = cfg[cap + 2] | cfg[cap + 3] << 8;

			printf("MSI-X %s, %u vectors%s\n", fl & 0x8000 ? "enabled" : "disabled",
			       (fl & 0x7ff) + 1u, fl & 0x4000 ? ", function masked" : "");
		} else {
			printf("id 0x%02x\n", cfg[cap]);
		}
		cap = cfg[cap + 1] & 0xfc;
	}
out:
	doc_free(&devs);
	doc_free(&cfgd);
	return 0;
}

/* ---- the boxes, for counters and segment --------------------------------------- */

struct box {
	const char *path;
	struct doc status, counters, peers;
	struct doc cfg[8];	/* segment: each endpoint's config, for its IDs */
	bool up;
	char mac[24];
};

/*
 * Ask every box for WHAT (status always).  Boxes given with --box must
 * answer; discovered ones that do not are noted on stderr and skipped.
 */
static int load_boxes(struct box *b, bool counters, bool peers, bool configs)
{
	const char *paths[MAX_BOXES];
	char why[512];
	bool given;
	int n = box_paths(paths, &given), i, k;

	for (i = 0; i < n; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].path = paths[i];
		if (ask(BOX, paths[i], "status", &b[i].status, !given, why, sizeof(why))) {
			fprintf(stderr, NAME ": note: skipping box %s (stale socket?)\n", why);
			continue;
		}
		b[i].up = true;
		json_get_str(&b[i].status.j, 0, "mac", b[i].mac, sizeof(b[i].mac));
		if (counters)
			ask(BOX, paths[i], "counters", &b[i].counters, false, NULL, 0);
		if (peers)
			ask(BOX, paths[i], "peers", &b[i].peers, false, NULL, 0);
		if (configs) {
			int eps = json_get(&b[i].status.j, 0, "endpoints");

			for (k = 0; k < json_count(&b[i].status.j, eps) && k < 8; k++) {
				char cmd[32];

				snprintf(cmd, sizeof(cmd), "config %d", k);
				ask(BOX, paths[i], cmd, &b[i].cfg[k], false, NULL, 0);
			}
		}
	}
	return n;
}

static void free_boxes(struct box *b, int n)
{
	int i, k;

	for (i = 0; i < n; i++) {
		doc_free(&b[i].status);
		doc_free(&b[i].counters);
		doc_free(&b[i].peers);
		for (k = 0; k < 8; k++)
			doc_free(&b[i].cfg[k]);
	}
}

/* ---- counters ----------------------------------------------------------------- */

static void box_counter_tables(const struct box *b, int fn)
{
	const struct json *s = &b->status.j, *c = &b->counters.j, *p = &b->peers.j;
	int eps = json_get(c, 0, "endpoints"), peers = json_get(p, 0, "peers"), i;
	struct table *t;
	char name[64], v[64], r[32];

	printf("\nbox %s (%s, group %llu, %s)\n", json_get_str(s, 0, "name", name, sizeof(name)), b->mac,
	       (unsigned long long)json_get_u64(s, 0, "group", 0), b->path);
	printf("  transport: frames tx %llu rx %llu  TLPs tx %llu rx %llu  retransmissions %llu  timeouts %llu  "
	       "TLPs dropped %llu  session resets %llu\n",
	       (unsigned long long)json_get_u64(c, 0, "transport.tx_frames", 0),
	       (unsigned long long)json_get_u64(c, 0, "transport.rx_frames", 0),
	       (unsigned long long)json_get_u64(c, 0, "transport.tx_tlps", 0),
	       (unsigned long long)json_get_u64(c, 0, "transport.rx_tlps", 0),
	       (unsigned long long)json_get_u64(c, 0, "transport.tx_retrans", 0),
	       (unsigned long long)json_get_u64(c, 0, "transport.timeouts", 0),
	       (unsigned long long)json_get_u64(c, 0, "transport.tlps_dropped", 0),
	       (unsigned long long)json_get_u64(c, 0, "transport.session_resets", 0));

	t = table_new(9, "PEER", "ROLE", ">GROUP", "STATE", ">TX TLPS", ">RX TLPS", ">RETRANS", ">RATE B/s", ">SRTT us");
	for (i = 0; i < json_count(p, peers); i++) {
		int e = json_at(p, peers, i);
		bool sess = false;

		json_bool(p, json_get(p, e, "session"), &sess);
		table_row(t);
		table_cell(t, "%s", json_get_str(p, e, "mac", v, sizeof(v)));
		table_cell(t, "%s", json_get_str(p, e, "role", v, sizeof(v)));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(p, e, "group", 0));
		json_get_str(p, e, "state", v, sizeof(v));
		table_cell(t, "%s%s", v, sess ? "" : " (no session)");
		table_cell(t, "%llu", (unsigned long long)json_get_u64(p, e, "tx_tlps", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(p, e, "rx_tlps", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(p, e, "tx_retrans", 0));
		table_cell(t, "%s", human((double)json_get_u64(p, e, "rate_Bps", 0), r, sizeof(r)));
		table_cell(t, "%.1f", (double)json_get_u64(p, e, "srtt_ns", 0) / 1000.0);
	}
	if (table_rows(t)) {
		printf("  sessions:\n");
		table_indent(t, 4);
		table_print(t, stdout);
	}
	table_free(t);

	t = table_new(11, ">FN", ">CFG RD", ">CFG WR", ">MEM RD", ">MEM WR", ">DMA RD B", ">DMA WR B",
		      ">DMA ERR", ">DMA REFUSED", ">MSIS", ">RESETS");
	for (i = 0; i < json_count(c, eps); i++) {
		int e = json_at(c, eps, i);

		if (fn >= 0 && json_get_u64(c, e, "fn", 99) != (uint64_t)fn)
			continue;
		table_row(t);
		table_cell(t, "%llu", (unsigned long long)json_get_u64(c, e, "fn", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(c, e, "cfg_reads", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(c, e, "cfg_writes", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(c, e, "mem_reads", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(c, e, "mem_writes", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(c, e, "dma_read_bytes", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(c, e, "dma_write_bytes", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(c, e, "dma_read_errors", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(c, e, "dma_refused", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(c, e, "msis", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(c, e, "resets", 0));
	}
	printf("  endpoints:\n");
	table_indent(t, 4);
	table_print(t, stdout);
	table_free(t);
}

static int cmd_counters(int argc, char **argv)
{
	struct doc devs, cnt;
	struct box boxes[MAX_BOXES];
	int list, n, nb, i, only = -1, fn = -1, shown = 0;
	char only_mac[24] = "", v[64], r[32], want[24];
	bool by_bdf = false;
	struct table *t;

	if (argc > 1)
		bad("counters takes at most one DEV, not '%s'", argv[1]);
	if (argc)
		by_bdf = parse_dev("counters DEV", argv[0], want, sizeof(want));
	ask_poller("devices", &devs);
	if (argc) {
		int d = find_dev(&devs, argv[0], want, by_bdf);

		only = (int)json_get_u64(&devs.j, d, "idx", 0);
		json_get_str(&devs.j, d, "box", only_mac, sizeof(only_mac));
		json_get_str(&devs.j, d, "bdf", v, sizeof(v));
		fn = v[0] ? v[strlen(v) - 1] - '0' : -1;
	}
	ask_poller("counters", &cnt);
	nb = load_boxes(boxes, true, true, false);
	list = json_get(&cnt.j, 0, "devices");
	n = json_count(&cnt.j, list);

	if (opt.json) {
		printf("{\"poller\":");
		if (only < 0) {
			print_raw(&cnt);
		} else {
			printf("{\"poller\":");
			put_raw(&cnt.j, json_get(&cnt.j, 0, "poller"));
			printf(",\"devices\":[");
			for (i = 0; i < n; i++)
				if (json_get_u64(&cnt.j, json_at(&cnt.j, list, i), "idx", ~0ULL) == (uint64_t)only)
					put_raw(&cnt.j, json_at(&cnt.j, list, i));
			printf("]}");
		}
		printf(",\"boxes\":[");
		for (i = 0; i < nb; i++) {
			if (!boxes[i].up || (only_mac[0] && strcmp(only_mac, boxes[i].mac)))
				continue;
			printf("%s{\"socket\":", shown++ ? "," : "");
			json_print_str(stdout, boxes[i].path);
			printf(",\"status\":%s,\"counters\":%s,\"peers\":%s}", boxes[i].status.text,
			       boxes[i].counters.text, boxes[i].peers.text);
		}
		printf("]}\n");
		goto out;
	}

	printf("poller %s: rx TLPs %llu  bad %llu  unexpected %llu  DMA rejected %llu  ring entries %llu\n",
	       cnt.path, (unsigned long long)json_get_u64(&cnt.j, 0, "poller.rx_tlps", 0),
	       (unsigned long long)json_get_u64(&cnt.j, 0, "poller.rx_bad_tlps", 0),
	       (unsigned long long)json_get_u64(&cnt.j, 0, "poller.rx_unexpected", 0),
	       (unsigned long long)json_get_u64(&cnt.j, 0, "poller.dma_rejected", 0),
	       (unsigned long long)json_get_u64(&cnt.j, 0, "poller.ring_entries", 0));
	t = table_new(15, ">DEV", "BDF", "SESSION", ">TX TLPS", ">RX TLPS", ">RETRANS", ">TIMEOUTS", ">RATE B/s",
		      ">SRTT us", ">MIN RTT us", ">CPL TMO", ">DMA RD B", ">DMA WR B", ">DMA REJ", ">MSIS");
	for (i = 0; i < n; i++) {
		int d = json_at(&cnt.j, list, i), s = json_get(&cnt.j, d, "session");
		bool up = false;

		if (only >= 0 && json_get_u64(&cnt.j, d, "idx", ~0ULL) != (uint64_t)only)
			continue;
		json_bool(&cnt.j, json_get(&cnt.j, s, "up"), &up);
		table_row(t);
		table_cell(t, "%llu", (unsigned long long)json_get_u64(&cnt.j, d, "idx", 0));
		table_cell(t, "%s", json_get_str(&cnt.j, d, "bdf", v, sizeof(v)));
		table_cell(t, "%s", up ? "up" : "down");
		table_cell(t, "%llu", (unsigned long long)json_get_u64(&cnt.j, s, "tx_tlps", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(&cnt.j, s, "rx_tlps", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(&cnt.j, s, "retrans", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(&cnt.j, s, "timeouts", 0));
		table_cell(t, "%s", human((double)json_get_u64(&cnt.j, s, "rate_Bps", 0), r, sizeof(r)));
		table_cell(t, "%.1f", (double)json_get_u64(&cnt.j, s, "srtt_ns", 0) / 1000.0);
		table_cell(t, "%.1f", (double)json_get_u64(&cnt.j, s, "min_rtt_ns", 0) / 1000.0);
		table_cell(t, "%llu", (unsigned long long)json_get_u64(&cnt.j, d, "cpl_timeouts", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(&cnt.j, d, "dma_read_bytes", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(&cnt.j, d, "dma_write_bytes", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(&cnt.j, d, "dma_rejected", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(&cnt.j, d, "msi", 0));
	}
	if (table_rows(t))
		table_print(t, stdout);
	else
		printf("no devices\n");
	table_free(t);
	for (i = 0; i < nb; i++)
		if (boxes[i].up && (!only_mac[0] || !strcmp(only_mac, boxes[i].mac)))
			box_counter_tables(&boxes[i], only >= 0 ? fn : -1);
out:
	free_boxes(boxes, nb);
	doc_free(&devs);
	doc_free(&cnt);
	return 0;
}

/* ---- segment ------------------------------------------------------------------ */

struct node {
	char mac[24], role[8], name[40], state[16], seen[160];
	uint64_t group;
};

struct segdev {
	char box[24], bdf[16], model[24], host[24], state[32];
	uint64_t group, fn, vendor, device;
	bool have_ids;
};

#define SEG_MAX	128

static struct node nodes[SEG_MAX];
static struct segdev sdevs[SEG_MAX];
static int nnodes, nsdevs;

/* Add or merge a node (by MAC and role); what the node says of itself wins. */
static void add_node(const char *mac, const char *role, uint64_t group, const char *name,
		     const char *state, const char *seen, bool self)
{
	struct node *n = NULL;
	int i;

	if (!mac[0])
		return;
	for (i = 0; i < nnodes; i++)
		if (!strcmp(nodes[i].mac, mac) && !strcmp(nodes[i].role, role))
			n = &nodes[i];
	if (!n) {
		if (nnodes == SEG_MAX)
			return;
		n = &nodes[nnodes++];
		memset(n, 0, sizeof(*n));
		snprintf(n->mac, sizeof(n->mac), "%s", mac);
		snprintf(n->role, sizeof(n->role), "%s", role);
		self = true;
	} else if (!strstr(n->seen, seen)) {
		size_t l = strlen(n->seen);

		snprintf(n->seen + l, sizeof(n->seen) - l, ", %s", seen);
	}
	if (self) {
		n->group = group;
		if (name[0])
			snprintf(n->name, sizeof(n->name), "%s", name);
		snprintf(n->state, sizeof(n->state), "%s", state);
		if (!n->seen[0])
			snprintf(n->seen, sizeof(n->seen), "%s", seen);
	}
}

static struct segdev *seg_dev(const char *box, uint64_t fn)
{
	int i;

	for (i = 0; i < nsdevs; i++)
		if (!strcmp(sdevs[i].box, box) && sdevs[i].fn == fn)
			return &sdevs[i];
	if (nsdevs == SEG_MAX)
		return NULL;
	memset(&sdevs[nsdevs], 0, sizeof(sdevs[0]));
	snprintf(sdevs[nsdevs].box, sizeof(sdevs[0].box), "%s", box);
	sdevs[nsdevs].fn = fn;
	return &sdevs[nsdevs++];
}

static int cmd_segment(int argc, char **argv)
{
	struct doc pst = { 0 }, pdev = { 0 };
	struct box boxes[MAX_BOXES];
	char why[512], mac[24], name[64], st[32], seen[96], pmac[24] = "";
	bool have_poller, any = false;
	uint64_t pgroup = 0;
	int nb, i, k;

	if (argc)
		bad("segment takes no argument, not '%s'", argv[0]);
	/* The default poller socket may be absent (a box-only machine); one given must answer. */
	have_poller = !ask(POLLER, poller_path(), "status", &pst, !opt.poller, why, sizeof(why));
	if (have_poller) {
		ask_poller("devices", &pdev);
		any = true;
		pgroup = json_get_u64(&pst.j, 0, "group", 0);
		json_get_str(&pst.j, 0, "mac", pmac, sizeof(pmac));
		snprintf(seen, sizeof(seen), "poller");
		add_node(pmac[0] ? pmac : "(poller)", "host", pgroup, json_get_str(&pst.j, 0, "name", name, sizeof(name)),
			 "local", seen, true);
		for (i = 0; i < json_count(&pdev.j, json_get(&pdev.j, 0, "devices")); i++) {
			int d = json_at(&pdev.j, json_get(&pdev.j, 0, "devices"), i);
			struct segdev *sd;
			char bdf[16];

			json_get_str(&pdev.j, d, "box", mac, sizeof(mac));
			json_get_str(&pdev.j, d, "state", st, sizeof(st));
			add_node(mac, "box", pgroup, json_get_str(&pdev.j, d, "box_name", name, sizeof(name)),
				 strcmp(st, "down") ? "up" : "down", "poller", false);
			json_get_str(&pdev.j, d, "bdf", bdf, sizeof(bdf));
			sd = seg_dev(mac, bdf[0] ? (uint64_t)(bdf[strlen(bdf) - 1] - '0') : 0);
			if (!sd)
				continue;
			sd->group = pgroup;
			snprintf(sd->bdf, sizeof(sd->bdf), "%s", bdf);
			snprintf(sd->host, sizeof(sd->host), "%s", pmac);
			snprintf(sd->state, sizeof(sd->state), "%s", st);
			sd->vendor = json_get_u64(&pdev.j, d, "vendor", 0);
			sd->device = json_get_u64(&pdev.j, d, "device", 0);
			sd->have_ids = true;
		}
	} else {
		fprintf(stderr, NAME ": note: no poller (%s)\n", why);
	}
	nb = load_boxes(boxes, false, true, true);
	for (i = 0; i < nb; i++) {
		const struct json *s = &boxes[i].status.j, *p = &boxes[i].peers.j;
		int eps = json_get(s, 0, "endpoints"), peers = json_get(p, 0, "peers");
		uint64_t g = json_get_u64(s, 0, "group", 0);

		if (!boxes[i].up)
			continue;
		any = true;
		json_get_str(s, 0, "name", name, sizeof(name));
		snprintf(seen, sizeof(seen), "box %s", name[0] ? name : boxes[i].mac);
		add_node(boxes[i].mac, "box", g, name, "local", seen, true);
		for (k = 0; k < json_count(p, peers); k++) {
			int e = json_at(p, peers, k);
			char role[16], pname[64];

			json_get_str(p, e, "mac", mac, sizeof(mac));
			json_get_str(p, e, "role", role, sizeof(role));
			json_get_str(p, e, "state", st, sizeof(st));
			add_node(mac, role, json_get_u64(p, e, "group", 0),
				 json_get_str(p, e, "name", pname, sizeof(pname)), st, seen, false);
		}
		for (k = 0; k < json_count(s, eps); k++) {
			int e = json_at(s, eps, k);
			struct segdev *sd = seg_dev(boxes[i].mac, json_get_u64(s, e, "fn", 0));
			const struct json *c = &boxes[i].cfg[k].j;

			if (!sd)
				continue;
			sd->group = g;
			json_get_str(s, e, "model", sd->model, sizeof(sd->model));
			json_get_str(s, e, "host", mac, sizeof(mac));
			/* The box knows who owns the endpoint; the poller's state says more than "owned". */
			if (mac[0])
				snprintf(sd->host, sizeof(sd->host), "%s", mac);
			if (!sd->state[0])
				snprintf(sd->state, sizeof(sd->state), "%s", mac[0] ? "owned" : "free");
			if (!sd->bdf[0])
				json_get_str(s, e, "bdf", sd->bdf, sizeof(sd->bdf));
			if (!sd->have_ids && boxes[i].cfg[k].text) {
				sd->vendor = json_get_u64(c, 0, "vendor", 0);
				sd->device = json_get_u64(c, 0, "device", 0);
				sd->have_ids = true;
			}
		}
	}
	if (!any)
		die("nothing to ask: no poller at %s and no box control socket%s. Is softee-poller or softee-box "
		    "running? Give their sockets with --poller PATH, --box PATH", poller_path(),
		    opt.nbox ? "" : " in " BOX_SOCK_DIR);

	if (opt.json) {
		printf("{\"nodes\":[");
		for (i = 0; i < nnodes; i++) {
			printf("%s{\"mac\":", i ? "," : "");
			json_print_str(stdout, nodes[i].mac);
			printf(",\"role\":\"%s\",\"group\":%llu,\"name\":", nodes[i].role,
			       (unsigned long long)nodes[i].group);
			json_print_str(stdout, nodes[i].name);
			printf(",\"state\":");
			json_print_str(stdout, nodes[i].state);
			printf(",\"seen_by\":");
			json_print_str(stdout, nodes[i].seen);
			printf("}");
		}
		printf("],\"devices\":[");
		for (i = 0; i < nsdevs; i++) {
			printf("%s{\"box\":\"%s\",\"group\":%llu,\"fn\":%llu,\"bdf\":\"%s\",\"vendor\":%llu,"
			       "\"device\":%llu,\"model\":", i ? "," : "", sdevs[i].box,
			       (unsigned long long)sdevs[i].group, (unsigned long long)sdevs[i].fn, sdevs[i].bdf,
			       (unsigned long long)sdevs[i].vendor, (unsigned long long)sdevs[i].device);
			json_print_str(stdout, sdevs[i].model);
			printf(",\"host\":\"%s\",\"state\":\"%s\"}", sdevs[i].host, sdevs[i].state);
		}
		printf("]}\n");
	} else {
		struct table *t = table_new(6, "ROLE", "MAC", ">GROUP", "NAME", "STATE", "SEEN BY");

		for (i = 0; i < nnodes; i++) {
			table_row(t);
			table_cell(t, "%s", nodes[i].role);
			table_cell(t, "%s", nodes[i].mac);
			table_cell(t, "%llu", (unsigned long long)nodes[i].group);
			table_cell(t, "%s", nodes[i].name[0] ? nodes[i].name : "-");
			table_cell(t, "%s", nodes[i].state);
			table_cell(t, "%s", nodes[i].seen);
		}
		table_print(t, stdout);
		table_free(t);
		t = table_new(8, "BOX", ">GROUP", ">FN", "BDF", "ID", "MODEL", "HOST", "STATE");
		for (i = 0; i < nsdevs; i++) {
			table_row(t);
			table_cell(t, "%s", sdevs[i].box);
			table_cell(t, "%llu", (unsigned long long)sdevs[i].group);
			table_cell(t, "%llu", (unsigned long long)sdevs[i].fn);
			table_cell(t, "%s", sdevs[i].bdf[0] ? sdevs[i].bdf : "-");
			if (sdevs[i].have_ids)
				table_cell(t, "%04llx:%04llx", (unsigned long long)sdevs[i].vendor,
					   (unsigned long long)sdevs[i].device);
			else
				table_cell(t, "-");
			table_cell(t, "%s", sdevs[i].model[0] ? sdevs[i].model : "-");
			table_cell(t, "%s", sdevs[i].host[0] ? sdevs[i].host : "-");
			table_cell(t, "%s", sdevs[i].state);
		}
		printf("\n");
		if (table_rows(t))
			table_print(t, stdout);
		else
			printf("no devices\n");
		table_free(t);
	}
	free_boxes(boxes, nb);
	doc_free(&pst);
	doc_free(&pdev);
	return 0;
}

/* ---- poller status, box commands -------------------------------------------------- */

static int cmd_poller(int argc, char **argv)
{
	struct doc d;

	if (argc < 1)
		bad("poller: which command? (poller status)");
	if (strcmp(argv[0], "status"))
		bad("poller: unknown command '%s' (poller status)", argv[0]);
	if (argc > 1)
		bad("poller status takes no argument, not '%s'", argv[1]);
	ask_poller("status", &d);
	if (opt.json)
		print_raw(&d);
	else
		print_kv(&d.j, 0, NULL);
	doc_free(&d);
	return 0;
}

static void box_status_text(const struct doc *d)
{
	const struct json *j = &d->j;
	int eps = json_get(j, 0, "endpoints"), i, k;
	struct table *t = table_new(8, ">FN", "MODEL", "BDF", "HOST", "MEMORY", "MASTER", "BARS", "STATE");

	print_kv(j, 0, NULL);
	for (i = 0; i < json_count(j, eps); i++) {
		int e = json_at(j, eps, i), bars = json_get(j, e, "bars");
		char v[256], bs[256] = "";
		size_t o = 0;

		table_row(t);
		table_cell(t, "%llu", (unsigned long long)json_get_u64(j, e, "fn", 0));
		table_cell(t, "%s", json_get_str(j, e, "model", v, sizeof(v)));
		table_cell(t, "%s", json_get_str(j, e, "bdf", v, sizeof(v)));
		json_get_str(j, e, "host", v, sizeof(v));
		table_cell(t, "%s", v[0] ? v : "-");
		cell_value(j, json_get(j, e, "memory"), "memory", v, sizeof(v));
		table_cell(t, "%s", v);
		cell_value(j, json_get(j, e, "bus_master"), "bus_master", v, sizeof(v));
		table_cell(t, "%s", v);
		for (k = 0; k < json_count(j, bars) && o + 1 < sizeof(bs); k++) {
			int b = json_at(j, bars, k);

			o += (size_t)snprintf(bs + o, sizeof(bs) - o, "%sBAR%llu 0x%llx+0x%llx", k ? " " : "",
					      (unsigned long long)json_get_u64(j, b, "bar", 0),
					      (unsigned long long)json_get_u64(j, b, "base", 0),
					      (unsigned long long)json_get_u64(j, b, "size", 0));
		}
		table_cell(t, "%s", bs[0] ? bs : "-");
		table_cell(t, "%s", json_get_str(j, e, "state", v, sizeof(v)));
	}
	if (table_rows(t)) {
		printf("\n");
		table_print(t, stdout);
	}
	table_free(t);
}

static void box_peers_text(const struct doc *d)
{
	const struct json *j = &d->j;
	int peers = json_get(j, 0, "peers"), i;
	struct table *t = table_new(12, "MAC", "ROLE", ">GROUP", "NAME", "STATE", "SESSION", ">LAST SEEN ms",
				    ">SRTT us", ">RATE B/s", ">TX TLPS", ">RX TLPS", ">RETRANS");
	char v[64], r[32];

	for (i = 0; i < json_count(j, peers); i++) {
		int e = json_at(j, peers, i);
		bool sess = false;

		json_bool(j, json_get(j, e, "session"), &sess);
		table_row(t);
		table_cell(t, "%s", json_get_str(j, e, "mac", v, sizeof(v)));
		table_cell(t, "%s", json_get_str(j, e, "role", v, sizeof(v)));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(j, e, "group", 0));
		json_get_str(j, e, "name", v, sizeof(v));
		table_cell(t, "%s", v[0] ? v : "-");
		json_get_str(j, e, "state", v, sizeof(v));
		if (!strcmp(v, "down")) {
			char why[40];

			json_get_str(j, e, "down_reason", why, sizeof(why));
			table_cell(t, "down (%s)", why);
		} else {
			table_cell(t, "%s", v);
		}
		table_cell(t, "%s", sess ? "yes" : "no");
		table_cell(t, "%.1f", json_get_double(j, e, "last_seen_ms", 0));
		table_cell(t, "%.1f", (double)json_get_u64(j, e, "srtt_ns", 0) / 1000.0);
		table_cell(t, "%s", human((double)json_get_u64(j, e, "rate_Bps", 0), r, sizeof(r)));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(j, e, "tx_tlps", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(j, e, "rx_tlps", 0));
		table_cell(t, "%llu", (unsigned long long)json_get_u64(j, e, "tx_retrans", 0));
	}
	if (table_rows(t))
		table_print(t, stdout);
	else
		printf("no peers heard\n");
	table_free(t);
}

static void box_counters_text(const struct doc *d)
{
	static const char *const ep_keys[] = {
		"fn", "cfg_reads", "cfg_writes", "mem_reads", "mem_writes", "mem_read_bytes",
		"mem_write_bytes", "op_errors", "dma_reads", "dma_read_bytes", "dma_read_errors",
		"dma_writes", "dma_write_bytes", "dma_refused", "msis", "resets", NULL,
	};
	const struct json *j = &d->j;
	int eps = json_get(j, 0, "endpoints"), i, k;
	struct table *t;

	print_kv(j, 0, NULL);
	if (!json_count(j, eps))
		return;
	/* The endpoints' counters as a table: one row each, one column per counter. */
	t = table_new(16, ">FN", ">CFG RD", ">CFG WR", ">MEM RD", ">MEM WR", ">MEM RD B", ">MEM WR B", ">OP ERR",
		      ">DMA RD", ">DMA RD B", ">DMA RD ERR", ">DMA WR", ">DMA WR B", ">DMA REFUSED", ">MSIS",
		      ">RESETS");
	for (i = 0; i < json_count(j, eps); i++) {
		int e = json_at(j, eps, i);

		table_row(t);
		for (k = 0; ep_keys[k]; k++)
			table_cell(t, "%llu", (unsigned long long)json_get_u64(j, e, ep_keys[k], 0));
	}
	printf("\n");
	table_print(t, stdout);
	table_free(t);
}

static int cmd_box(int argc, char **argv)
{
	const char *sub, *path;
	char cmd[64];
	struct doc d;

	if (argc < 1)
		bad("box: which command? (box status | peers | counters | set-group N)");
	sub = argv[0];
	if (!strcmp(sub, "set-group")) {
		if (argc != 2)
			bad(argc < 2 ? "box set-group: which group? (box set-group N)%s" :
			    "box set-group takes one N, not '%s'", argc < 2 ? "" : argv[2]);
		snprintf(cmd, sizeof(cmd), "set-group %llu",
			 (unsigned long long)number("box set-group N", argv[1], 0xffff));
	} else if (!strcmp(sub, "status") || !strcmp(sub, "peers") || !strcmp(sub, "counters")) {
		if (argc > 1)
			bad("box %s takes no argument, not '%s'", sub, argv[1]);
		snprintf(cmd, sizeof(cmd), "%s", sub);
	} else {
		bad("box: unknown command '%s' (box status | peers | counters | set-group N)", sub);
	}
	path = one_box();
	ask(BOX, path, cmd, &d, false, NULL, 0);
	if (opt.json)
		print_raw(&d);
	else if (!strcmp(sub, "status"))
		box_status_text(&d);
	else if (!strcmp(sub, "peers"))
		box_peers_text(&d);
	else if (!strcmp(sub, "counters"))
		box_counters_text(&d);
	else
		printf("box %s: group %llu\n", path, (unsigned long long)json_get_u64(&d.j, 0, "group", 0));
	doc_free(&d);
	return 0;
}

/* ---- main --------------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "segment", cmd_segment },
	{ "devices", cmd_devices },
	{ "config", cmd_config },
	{ "counters", cmd_counters },
	{ "poller", cmd_poller },
	{ "box", cmd_box },
};

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "poller", required_argument, NULL, 'p' },
		{ "box", required_argument, NULL, 'b' },
		{ "box-group", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool box_group = false;
	unsigned int i;
	int c;

	/* attach/detach start and stop a poller: their own options (attach.c). */
	if (argc > 1 && !strcmp(argv[1], "attach"))
		return ctl_attach(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "detach"))
		return ctl_detach(argc - 1, argv + 1);
	opterr = 0;		/* our own messages: one line, naming the argument */
	while ((c = getopt_long(argc, argv, "+:hj", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!optarg[0])
				bad("--poller wants a socket path");
			opt.poller = optarg;
			break;
		case 'b':
			if (!optarg[0])
				bad("--box wants a socket path");
			if (box_group)
				bad("--box and --box-group: give one of them");
			if (opt.nbox == MAX_BOXES)
				bad("--box: at most %d boxes", MAX_BOXES);
			opt.box[opt.nbox++] = optarg;
			break;
		case 'g':
			if (opt.nbox)
				bad("--box and --box-group: give one of them");
			snprintf(opt.box_group_path, sizeof(opt.box_group_path), BOX_SOCK_DIR "/box-%llu.sock",
				 (unsigned long long)number("--box-group", optarg, 0xffff));
			opt.box[0] = opt.box_group_path;
			opt.nbox = 1;
			box_group = true;
			break;
		case 'j': opt.json = true; break;
		case 't': opt.timeout_ms = (int)number("--timeout-ms", optarg, 600000); break;
		case 'h': help(); break;
		case ':': bad("%s wants a value", argv[optind - 1]);
		default:
			if (optopt)
				bad("unknown option '-%c'", optopt);
			bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!opt.timeout_ms)
		bad("--timeout-ms wants a number 1..600000, not 0");
	if (optind >= argc)
		bad("no command (segment, devices, config, counters, poller, box)");
	/* Options after the command ("devices --json") are accepted too. */
	{
		int n = 0, k;

		for (k = optind; k < argc; k++) {
			if (!strcmp(argv[k], "--json"))
				opt.json = true;
			else if (!strncmp(argv[k], "--", 2) && argv[k][2])
				bad("unknown option '%s' (options go before the command)", argv[k]);
			else
				argv[optind + n++] = argv[k];
		}
		argc = optind + n;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].fn(argc - optind - 1, argv + optind + 1);
	bad("unknown command '%s' (segment, devices, config, counters, poller, box)", argv[optind]);
}
