// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/softee/<session>/stats: the counters of the session,
 * of each ring and of each region, as text.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "softee.h"

static const char *const softee_counter_names[] = {
	"writes", "reads", "write_bytes", "read_bytes", "completions",
	"errors", "timeouts", "ring_full", "drops", "corrupt", "aborted",
	"no_ring", "cfg_reads", "cfg_writes", "cfg_declined", "stalled",
};

static_assert(ARRAY_SIZE(softee_counter_names) ==
	      offsetof(struct softee_counters, __reserved) / sizeof(u64));

static void softee_show_counters(struct seq_file *m, const char *what,
				 const struct softee_counters *c)
{
	const u64 *v = (const u64 *)c;
	size_t i;

	seq_printf(m, "%s:", what);
	for (i = 0; i < ARRAY_SIZE(softee_counter_names); i++)
		seq_printf(m, " %s=%llu", softee_counter_names[i], v[i]);
	seq_putc(m, '\n');
}

static int softee_stats_show(struct seq_file *m, void *unused)
{
	struct softee_session *s = m->private;
	struct softee_counters c;
	char what[64];
	u32 i;

	seq_printf(m, "session %u: rings=%u entries=%u timeout_us=%u\n", s->id,
		   s->nr_rings, s->ring_entries, READ_ONCE(s->timeout_us));
	softee_session_sum(s, &c);
	softee_show_counters(m, "session", &c);
	for (i = 0; i < s->nr_rings; i++) {
		struct softee_kring *k = &s->rings[i];

		snprintf(what, sizeof(what), "ring %u flags=%#x head=%u", i,
			 softee_ring_state(s, k), READ_ONCE(k->head));
		softee_show_counters(m, what, &k->c);
	}
	mutex_lock(&s->lock);
	for (i = 0; i < SOFTEE_MAX_REGIONS; i++) {
		struct softee_region_k *r = s->regions[i];

		if (!r)
			continue;
		snprintf(what, sizeof(what), "region %u %s %#llx+%#llx%s", i,
			 r->bus == SOFTEE_BUS_PIO ? "pio" : "mmio", r->base,
			 r->len, r->flags & SOFTEE_REGION_F_NULL ? " null" : "");
		softee_region_sum(r, &c);
		softee_show_counters(m, what, &c);
	}
	for (i = 0; i < SOFTEE_MAX_CFG; i++) {
		struct softee_region_k *r;

		r = rcu_dereference_protected(s->cfgs[i],
					      lockdep_is_held(&s->lock));
		if (!r)
			continue;
		snprintf(what, sizeof(what), "cfg %u %02x:%02x.%x ecam %#llx", i,
			 r->bdf >> 8, (r->bdf >> 3) & 0x1f, r->bdf & 7, r->ecam);
		softee_region_sum(r, &c);
		softee_show_counters(m, what, &c);
	}
	if (s->nr_cfgs)
		seq_printf(m, "cfg latch=%#x\n", READ_ONCE(s->cfg_latch));
	mutex_unlock(&s->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(softee_stats);

void softee_debugfs_add(struct softee_session *s)
{
	char name[16];

	snprintf(name, sizeof(name), "%u", s->id);
	s->dbg = debugfs_create_dir(name, softee_debugfs_root);
	debugfs_create_file("stats", 0400, s->dbg, s, &softee_stats_fops);
}

/* Waits for readers of the file to leave before the session goes. */
void softee_debugfs_del(struct softee_session *s)
{
	debugfs_remove_recursive(s->dbg);
	s->dbg = NULL;
}
