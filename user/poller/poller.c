// SPDX-License-Identifier: GPL-2.0
/*
 * The poller object and its data thread (softee/poller.h).
 *
 * One loop, run to completion:
 *
 *	while (!stop) {
 *		now = clock
 *		rcu read side {
 *			rings -> TLPs                  (bridge.c)
 *			transport poll: frames in and out; TLPs from the box:
 *			  completions -> ring slots, devcfg answers,
 *			  device MRd/MWr -> guest memory, MSIs
 *			device reads answered          (dma.c)
 *			rings again (a completion may have freed one)
 *		}
 *		every 1 ms: completion timeouts; every 10 ms: snapshots
 *		device configuration steps     (devcfg.c; may publish tables)
 *		no work: spin, then sleep a little longer each time (cfg.idle)
 *	}
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <softee/netdev_split.h>

#include "poller_int.h"

/* ---- logging --------------------------------------------------------------------- */

static void vplog(struct softee_poller *p, const char *fmt, va_list ap)
{
	char line[512];

	if (p->cfg.quiet)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(p->log, POLLER_NAME ": %s\n", line);
	fflush(p->log);
}

void plog(struct softee_poller *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vplog(p, fmt, ap);
	va_end(ap);
}

void plog_rl(struct softee_poller *p, uint64_t *ts, uint32_t *n, const char *fmt, ...)
{
	uint64_t now = softee_now_ns();
	va_list ap;

	if (now - *ts >= 1000000000ULL) {
		if (*n > POLLER_LOG_BURST)
			plog(p, "(%u similar lines suppressed)", *n - POLLER_LOG_BURST);
		*ts = now;
		*n = 0;
	}
	if (++*n > POLLER_LOG_BURST) {
		/* atomic: MSI injection logs outside the passes (msi_mu) */
		__atomic_add_fetch(&p->st.log_suppressed, 1, __ATOMIC_RELAXED);
		return;
	}
	va_start(ap, fmt);
	vplog(p, fmt, ap);
	va_end(ap);
}

const char *softee_poller_dev_state_name(enum softee_poller_dev_state s)
{
	switch (s) {
	case SOFTEE_PDEV_FREE: return "free";
	case SOFTEE_PDEV_PROBING: return "probing";
	case SOFTEE_PDEV_CONFIGURING: return "configuring";
	case SOFTEE_PDEV_READY: return "ready";
	case SOFTEE_PDEV_DOWN: return "down";
	case SOFTEE_PDEV_FAILED: return "failed";
	}
	return "?";
}

/* ---- sending ------------------------------------------------------------------------ */

int poller_send(struct softee_poller *p, struct pbox *b, const struct softee_tlp *t)
{
	uint8_t buf[SOFTEE_TLP_MAX_SIZE];
	int n;

	if (!b->up || !b->peer)
		return -ENOTCONN;
	n = softee_tlp_encode(t, buf, sizeof(buf));
	if (n < 0) {
		plog_rl(p, &p->log_ts, &p->log_n, "bridge: cannot encode a %s: %d",
			softee_tlp_kind_name(t->kind), n);
		return -EINVAL;
	}
	return softee_transport_send_tlp(b->peer, buf, (uint32_t)n);
}

/* ---- tables ------------------------------------------------------------------------- */

int poller_publish_regions(struct softee_poller *p, const struct pregion_map *m)
{
	struct pregion_map *nm = malloc(sizeof(*nm)), *old;

	if (!nm)
		return -ENOMEM;
	*nm = *m;
	pthread_mutex_lock(&p->lock);
	old = p->regions;
	rcu_assign_pointer(p->regions, nm);
	pthread_mutex_unlock(&p->lock);
	/* No reader of the old map is left after a grace period. */
	urcu_memb_synchronize_rcu();
	free(old);
	return 0;
}

/* The device (box, bdf), made if new: the same one when a box returns. */
struct pdev *poller_dev_get(struct softee_poller *p, uint32_t box, uint16_t bdf)
{
	struct pdev_table *nt, *old;
	struct pdev *d = NULL;
	uint32_t i;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < SOFTEE_POLLER_MAX_DEVS; i++)
		if (p->dev[i].used && p->dev[i].box == box && p->dev[i].bdf == bdf) {
			pthread_mutex_unlock(&p->lock);
			return &p->dev[i];
		}
	old = p->devs;
	nt = malloc(sizeof(*nt));
	if (!nt || old->nr >= SOFTEE_POLLER_MAX_DEVS) {
		pthread_mutex_unlock(&p->lock);
		free(nt);
		return NULL;
	}
	*nt = *old;
	d = &p->dev[old->nr];
	memset(d, 0, sizeof(*d));
	d->used = true;
	d->idx = old->nr;
	d->box = box;
	d->bdf = bdf;
	for (i = 0; i < SOFTEE_PCI_NR_BARS; i++)
		d->region[i] = UINT32_MAX;
	nt->d[nt->nr++] = d;
	rcu_assign_pointer(p->devs, nt);
	pthread_mutex_unlock(&p->lock);
	urcu_memb_synchronize_rcu();
	free(old);
	return d;
}

static void counters_read(struct softee_poller_counters *to, const struct softee_poller_counters *from)
{
	const uint64_t *f = (const uint64_t *)from;
	uint64_t *t = (uint64_t *)to;
	size_t i;

	/* Field by field, each a single relaxed load of its writer's store. */
	for (i = 0; i < sizeof(*from) / sizeof(uint64_t); i++)
		t[i] = softee_read_once(&f[i]);
}

/* What readers get: a copy under the lock (from the data thread). */
void poller_publish_dev(struct softee_poller *p, struct pdev *d)
{
	struct softee_poller_dev_info *in = &d->pub;
	uint32_t i;

	pthread_mutex_lock(&p->lock);
	in->idx = d->idx;
	in->state = d->state;
	in->bdf = d->bdf;
	in->vendor = (uint16_t)softee_cfg_read(d->cfg, SOFTEE_PCI_VENDOR_ID, 2);
	in->device = (uint16_t)softee_cfg_read(d->cfg, SOFTEE_PCI_DEVICE_ID, 2);
	in->subsys_vendor = (uint16_t)softee_cfg_read(d->cfg, SOFTEE_PCI_SUBSYSTEM_VENDOR_ID, 2);
	in->subsys = (uint16_t)softee_cfg_read(d->cfg, SOFTEE_PCI_SUBSYSTEM_VENDOR_ID + 2, 2);
	in->class_rev = softee_cfg_read(d->cfg, SOFTEE_PCI_CLASS_REVISION, 4);
	memcpy(in->bar, d->bar, sizeof(in->bar));
	for (i = 0; i < SOFTEE_PCI_NR_BARS; i++)
		in->region[i] = d->region[i];
	in->msi_kind = d->msi_kind;
	in->nr_msi = d->nr_msi;
	in->msi_addr = d->msi_addr;
	memcpy(in->msi_data, d->msi_data, sizeof(in->msi_data));
	memcpy(in->cfg, d->cfg, sizeof(in->cfg));
	in->s = p->box[d->box].snap;
	if (d->state == SOFTEE_PDEV_READY)
		pthread_cond_broadcast(&p->ready_cv);
	pthread_mutex_unlock(&p->lock);
}

unsigned int softee_poller_nr_devs(struct softee_poller *p)
{
	unsigned int n;

	pthread_mutex_lock(&p->lock);
	n = p->devs->nr;
	pthread_mutex_unlock(&p->lock);
	return n;
}

int softee_poller_dev_info(struct softee_poller *p, unsigned int idx,
			   struct softee_poller_dev_info *info)
{
	pthread_mutex_lock(&p->lock);
	if (idx >= p->devs->nr) {
		pthread_mutex_unlock(&p->lock);
		return -ENOENT;
	}
	*info = p->dev[idx].pub;
	info->s = p->box[p->dev[idx].box].snap;
	pthread_mutex_unlock(&p->lock);
	counters_read(&info->c, &p->dev[idx].c);
	return 0;
}

static unsigned int nr_ready(struct softee_poller *p)
{
	unsigned int i, n = 0;

	for (i = 0; i < p->devs->nr; i++)
		if (p->dev[i].pub.state == SOFTEE_PDEV_READY)
			n++;
	return n;
}

int softee_poller_wait_ready(struct softee_poller *p, unsigned int n, uint64_t timeout_ns)
{
	struct timespec ts;
	uint64_t end;
	int ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec + timeout_ns;
	ts.tv_sec = (time_t)(end / 1000000000ULL);
	ts.tv_nsec = (long)(end % 1000000000ULL);
	pthread_mutex_lock(&p->lock);
	while (nr_ready(p) < n && !ret)
		ret = pthread_cond_timedwait(&p->ready_cv, &p->lock, &ts);
	ret = nr_ready(p) >= n ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void softee_poller_get_stats(struct softee_poller *p, struct softee_poller_stats *st)
{
	const uint64_t *f = (const uint64_t *)&p->st;
	uint64_t *t = (uint64_t *)st;
	size_t i;

	for (i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		t[i] = softee_read_once(&f[i]);
}

int softee_poller_add_ram(struct softee_poller *p, uint64_t gpa, uint64_t len, void *hva)
{
	struct softee_memmap *nm, *old;
	int ret;

	pthread_mutex_lock(&p->lock);
	old = p->memmap;
	ret = softee_memmap_add(old, gpa, len, hva, &nm);
	if (!ret)
		rcu_assign_pointer(p->memmap, nm);
	pthread_mutex_unlock(&p->lock);
	if (ret)
		return ret;
	urcu_memb_synchronize_rcu();
	free(old);
	return 0;
}

int softee_poller_del_ram(struct softee_poller *p, uint64_t gpa)
{
	struct softee_memmap *nm, *old;
	int ret;

	pthread_mutex_lock(&p->lock);
	old = p->memmap;
	ret = softee_memmap_del(old, gpa, &nm);
	if (!ret)
		rcu_assign_pointer(p->memmap, nm);
	pthread_mutex_unlock(&p->lock);
	if (ret)
		return ret;
	/* After this, no device request touches the range any more. */
	urcu_memb_synchronize_rcu();
	free(old);
	return 0;
}

/* ---- transport callbacks ---------------------------------------------------------- */

static struct pbox *box_for(struct softee_poller *p, const uint8_t *mac)
{
	uint32_t i;

	for (i = 0; i < POLLER_MAX_BOXES; i++)
		if (p->box[i].used && !memcmp(p->box[i].mac, mac, SOFTEE_ETH_ALEN))
			return &p->box[i];
	for (i = 0; i < POLLER_MAX_BOXES; i++)
		if (!p->box[i].used) {
			struct pbox *b = &p->box[i];

			b->used = true;
			memcpy(b->mac, mac, SOFTEE_ETH_ALEN);
			memset(b->dev_of, 0xff, sizeof(b->dev_of));
			return b;
		}
	return NULL;
}

static void box_snapshot(struct softee_poller *p, struct pbox *b)
{
	struct softee_poller_session s;
	const struct softee_peer *pe = b->peer;

	memset(&s, 0, sizeof(s));
	s.up = b->up;
	memcpy(s.mac, b->mac, SOFTEE_ETH_ALEN);
	if (pe) {
		memcpy(s.name, pe->live->name, sizeof(s.name));
		s.node_id = pe->live->node_id;
		s.tx_tlps = pe->stats.tx_tlps;
		s.rx_tlps = pe->stats.rx_tlps;
		s.tx_frames = pe->stats.tx_frames;
		s.rx_frames = pe->stats.rx_frames;
		s.retrans = pe->stats.tx_retrans;
		s.timeouts = pe->stats.timeouts;
		s.tlps_dropped = pe->stats.tlps_dropped;
		s.rate_Bps = pe->rc.rate_Bps;
		s.rate_max_Bps = pe->rc.cfg.rate_max_Bps;
		s.srtt_ns = pe->rc.srtt_ns;
		s.min_rtt_ns = pe->rc.min_rtt_ns == UINT64_MAX ? 0 : pe->rc.min_rtt_ns;
		s.rate_cuts = pe->rc.stats.decreases;
		s.rate_app_limited = pe->rc.stats.app_limited;
		s.rate_cfg = pe->rc.cfg;
		s.rate_stats = pe->rc.stats;
	}
	pthread_mutex_lock(&p->lock);
	b->snap = s;
	pthread_mutex_unlock(&p->lock);
}

static void on_event(void *opaque, struct softee_peer *pe, enum softee_transport_event ev)
{
	struct softee_poller *p = opaque;
	struct pbox *b;

	if (ev == SOFTEE_TEV_GROUP_CHANGED) {
		plog(p, "transport: our group is now %u", softee_transport_group(p->t));
		return;
	}
	if (!pe)
		return;
	b = pe->user;
	switch (ev) {
	case SOFTEE_TEV_PEER_UP:
		if (pe->live->role != SOFTEE_ROLE_BOX)
			return;			/* another host of the group: not ours */
		if (!b) {
			b = box_for(p, pe->live->mac);
			if (!b) {
				plog(p, "transport: more than %d boxes: one ignored", POLLER_MAX_BOXES);
				return;
			}
			pe->user = b;
		}
		b->peer = pe;
		b->up = true;
		PCNT(p->st.boxes_up, 1);
		plog(p, "box %02x:%02x:%02x:%02x:%02x:%02x (%s) up in group %u: configuring",
		     b->mac[0], b->mac[1], b->mac[2], b->mac[3], b->mac[4], b->mac[5],
		     pe->live->name, softee_transport_group(p->t));
		box_snapshot(p, b);
		pdevcfg_box_up(p, b);
		break;
	case SOFTEE_TEV_PEER_DOWN:
		if (!b || !b->up)
			return;
		b->up = false;
		PCNT(p->st.boxes_down, 1);
		plog(p, "box %02x:%02x:%02x:%02x:%02x:%02x down (%s): its devices fail fast",
		     b->mac[0], b->mac[1], b->mac[2], b->mac[3], b->mac[4], b->mac[5],
		     softee_down_reason_name(pe->live->down_reason));
		/* Every read in flight ends now, with all ones. */
		ptag_fail_all(p, b);
		pdma_drop_box(p, box_idx(p, b));
		pdevcfg_box_down(p, b);
		box_snapshot(p, b);
		break;
	case SOFTEE_TEV_SESSION_RESET:
		if (!b || !b->up)
			return;
		/*
		 * The box lost our stream: it dropped our session (and reset
		 * its endpoints) while we still saw it.  What was in flight is
		 * lost: fail it, then configure the devices again.
		 */
		plog(p, "box %02x:%02x:%02x:%02x:%02x:%02x reset our session: configuring again",
		     b->mac[0], b->mac[1], b->mac[2], b->mac[3], b->mac[4], b->mac[5]);
		b->up = false;		/* failing requests must not send queued ones */
		ptag_fail_all(p, b);
		pdma_drop_box(p, box_idx(p, b));
		pdevcfg_box_down(p, b);
		b->up = true;
		pdevcfg_box_up(p, b);
		break;
	default:
		break;
	}
}

static void on_rx(void *opaque, struct softee_peer *pe, const uint8_t *tlp, uint32_t len)
{
	struct softee_poller *p = opaque;
	struct pbox *b = pe->user;
	struct softee_tlp t;
	int ret;

	PCNT(p->st.rx_tlps, 1);
	if (!b || !b->up) {
		PCNT(p->st.rx_unexpected, 1);
		return;
	}
	ret = softee_tlp_decode(&t, tlp, len, NULL);
	if (ret < 0) {
		PCNT(p->st.rx_bad_tlps, 1);
		if (-ret < SOFTEE_TLP_ERR_MAX)
			PCNT(p->st.rx_tlp_err[-ret], 1);
		return;
	}
	switch (t.kind) {
	case SOFTEE_TLP_CPL:
	case SOFTEE_TLP_CPLD:
		pbridge_on_cpl(p, b, &t);
		break;
	case SOFTEE_TLP_MRD:
	case SOFTEE_TLP_MWR:
		pdma_on_request(p, b, &t);
		break;
	default:
		PCNT(p->st.rx_unexpected, 1);
		plog_rl(p, &p->log_ts, &p->log_n, "rx: a %s from the box: not served",
			softee_tlp_kind_name(t.kind));
		break;
	}
}

static uint64_t poller_clock(void *opaque)
{
	(void)opaque;
	return softee_now_ns();
}

/* ---- the loop ------------------------------------------------------------------------- */

static void timers(struct softee_poller *p)
{
	uint32_t i;

	p->next_timer_ns = p->now + POLLER_TIMER_NS;
	for (i = 0; i < POLLER_MAX_BOXES; i++)
		if (p->box[i].used)
			ptag_expire(p, &p->box[i], p->now);
	if (p->now < p->next_snap_ns)
		return;
	p->next_snap_ns = p->now + POLLER_SNAP_NS;
	for (i = 0; i < POLLER_MAX_BOXES; i++)
		if (p->box[i].used)
			box_snapshot(p, &p->box[i]);
}

/* One pass over the rings, the link, the device's requests, timers and configuration. */
static int poller_iter(struct softee_poller *p)
{
	int work, r;

	p->now = softee_now_ns();
	urcu_memb_read_lock();
	work = pbridge_poll(p);
	r = softee_transport_poll(p->t, p->now);
	if (r > 0)
		work += r;
	work += pdma_service(p);
	work += pbridge_poll(p);
	urcu_memb_read_unlock();
	if (p->now >= p->next_timer_ns)
		timers(p);
	pdevcfg_work(p);
	PCNT(p->st.loops, 1);
	return work;
}

static void poller_loop(struct softee_poller *p)
{
	struct softee_waiter w;
	bool idle = false;
	uint32_t i;
	int work;

	while (!softee_load_acquire(&p->stop)) {
		/*
		 * A vCPU waits for the passes (ppoller_help): let it take
		 * them.  On a shared core it is woken by our unlock and runs
		 * once we yield; elsewhere it takes them within microseconds.
		 */
		if (softee_load_acquire(&p->help_want)) {
			PCNT(p->st.help_yields, 1);
			sched_yield();
			continue;
		}
		if (pthread_mutex_trylock(&p->iter_mu)) {
			/*
			 * A vCPU runs the passes while its read is out
			 * (ppoller_help): sleep until it is done, then start
			 * fresh: the guest may halt right after (waiting for a
			 * DMA), and then only we serve the device.
			 */
			pthread_mutex_lock(&p->iter_mu);
			idle = false;
		}
		work = poller_iter(p);
		softee_write_once(&p->data_cpu, sched_getcpu());
		pthread_mutex_unlock(&p->iter_mu);
		/*
		 * The pass's MSIs go in now that the passes are free: a vCPU
		 * they wake may preempt us, and its next read takes the passes
		 * itself instead of waiting for us.  It may want this CPU: let
		 * it have it now, not when the scheduler preempts our spinning
		 * (a 4 KiB DMA and its MSI on dpdk_bypass: about 500 us a
		 * round trip before, 365 us after).
		 */
		if (pmsi_flush(p))
			sched_yield();
		if (work) {
			idle = false;
			continue;
		}
		PCNT(p->st.idle_sleeps, 1);
		if (!idle) {
			softee_waiter_start(&w, &p->cfg.idle, SOFTEE_WAIT_FOREVER);
			idle = true;
		}
		/*
		 * Never sleep past the transport's next deadline: a delayed ack
		 * is due 20 us after the data, and the peer's retransmission
		 * timer is not much longer; an ack held for a whole idle sleep
		 * made the peer resend its window for nothing.
		 */
		if (p->cfg.idle.mode == SOFTEE_WAIT_SLEEP && w.iter >= p->cfg.idle.spins) {
			uint64_t dl = softee_transport_next_deadline(p->t, p->now);

			/* (one already due was looked at by the pass just run) */
			if (dl > p->now && dl < p->now + w.sleep_ns) {
				nanosleep(&(struct timespec){ .tv_nsec = (long)(dl - p->now) }, NULL);
				continue;
			}
		}
		softee_waiter_step(&w);
	}
	/* Nobody may wait on us after we stop: every read in flight ends now. */
	pthread_mutex_lock(&p->iter_mu);
	p->now = softee_now_ns();
	for (i = 0; i < POLLER_MAX_BOXES; i++)
		if (p->box[i].used)
			ptag_fail_all(p, &p->box[i]);
	softee_store_release(&p->running, false);
	pthread_mutex_unlock(&p->iter_mu);
	pmsi_flush(p);
}

/* A helping thread reads the tables under RCU too: registered once, until it exits. */
static pthread_key_t help_key;
static pthread_once_t help_once = PTHREAD_ONCE_INIT;
/* How long a vCPU blocks for the passes the data thread is running. */
#define HELP_LOCK_WAIT_NS	1000000ULL
/* The poller whose passes this thread runs while its read is out. */
static __thread struct softee_poller *help_held;
/* This thread is set up to help: registered with RCU, short timer slack. */
static __thread bool help_ready;

static void help_unregister(void *v)
{
	(void)v;
	urcu_memb_unregister_thread();
}

static void help_key_make(void)
{
	pthread_key_create(&help_key, help_unregister);
}

/*
 * Once per helping thread, at its first call: it reads the tables under
 * RCU (unregistered when it exits), and the waiter's sleeps between calls
 * must be short, as the data thread's.
 */
static void help_thread_setup(struct softee_poller *p)
{
	pthread_once(&help_once, help_key_make);
	urcu_memb_register_thread();
	pthread_setspecific(help_key, p);
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	help_ready = true;
}

void ppoller_help_done(void *arg)
{
	struct softee_poller *p = arg;

	if (help_held == p) {
		help_held = NULL;
		pthread_mutex_unlock(&p->iter_mu);
	}
}

/*
 * The exit path's vCPU, while its read is out: run the data loop's passes
 * here rather than wait for the data thread to be scheduled.  On two
 * shared cores the hand-off (the data thread asleep or preempted, then the
 * vCPU again) cost more than the round trip itself on a DPDK link.  The
 * vCPU holds the passes until its wait ends (ppoller_help_done), so the
 * data thread sleeps meanwhile instead of competing for the core.  Only
 * while the data thread runs, and never once it is told to stop.  Returns
 * the work done; 0 when the data thread holds the passes.
 */
int ppoller_help(void *arg)
{
	struct softee_poller *p = arg;
	int r;

	if (!help_ready)
		help_thread_setup(p);
	if (help_held != p) {
		if (!softee_load_acquire(&p->running))
			return 0;
		if (pthread_mutex_trylock(&p->iter_mu)) {
			/*
			 * The data thread is in a pass: wait for its end,
			 * blocked (its unlock wakes us; help_want keeps it from
			 * taking the next), not in a sleep that may outlast
			 * the round trip.  Bounded: 1 ms, then the wait goes
			 * on as usual (its own timeout still holds).
			 */
			uint64_t until = softee_now_ns() + HELP_LOCK_WAIT_NS;
			struct timespec ts = { .tv_sec = (time_t)(until / 1000000000ULL),
					       .tv_nsec = (long)(until % 1000000000ULL) };

			__atomic_add_fetch(&p->help_want, 1, __ATOMIC_SEQ_CST);
			r = pthread_mutex_clocklock(&p->iter_mu, CLOCK_MONOTONIC, &ts);
			__atomic_sub_fetch(&p->help_want, 1, __ATOMIC_SEQ_CST);
			if (r)
				return 0;
		}
		help_held = p;
	}
	if (!softee_load_acquire(&p->running) || softee_load_acquire(&p->stop)) {
		ppoller_help_done(p);
		return 0;
	}
	r = poller_iter(p);
	pmsi_flush_try(p);	/* most likely to this vCPU: no wake-up */
	return r;
}

/*
 * The exit path's vCPU after a posted write: when the data thread last ran
 * on this CPU, it is not running now (this vCPU thread is), and the write
 * would wait in the ring until the vCPU halts or is preempted: run one pass
 * here, if nobody holds the passes.  A DMA's START then leaves at once.
 */
void ppoller_kick(struct softee_poller *p)
{
	if (sched_getcpu() != softee_read_once(&p->data_cpu) ||
	    !softee_load_acquire(&p->running) || help_held == p)
		return;
	if (!help_ready)
		help_thread_setup(p);
	if (pthread_mutex_trylock(&p->iter_mu))
		return;
	if (!softee_load_acquire(&p->stop)) {
		PCNT(p->st.vcpu_kicks, 1);
		poller_iter(p);
	}
	pthread_mutex_unlock(&p->iter_mu);
	pmsi_flush_try(p);
}

static void thread_setup(struct softee_poller *p)
{
	/* Short sleeps when idle must be short: 1 us of timer slack, not 50. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	if (p->cfg.cpu > 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(p->cfg.cpu - 1, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
}

int softee_poller_run(struct softee_poller *p)
{
	int lcore;

	thread_setup(p);
	lcore = softee_lcore_enter();	/* DPDK: mbufs from a per-lcore cache */
	softee_store_release(&p->st.lcore, (int64_t)lcore);
	urcu_memb_register_thread();
	softee_store_release(&p->running, true);
	poller_loop(p);
	urcu_memb_unregister_thread();
	softee_lcore_leave(lcore);
	softee_store_release(&p->st.lcore, (int64_t)-1);
	return 0;
}

static void *poller_thread(void *arg)
{
	softee_poller_run(arg);
	return NULL;
}

int softee_poller_start(struct softee_poller *p)
{
	int ret;

	if (p->have_thread)
		return -EBUSY;
	softee_store_release(&p->stop, 0);
	ret = pthread_create(&p->thread, NULL, poller_thread, p);
	if (ret)
		return -ret;
	p->have_thread = true;
	return 0;
}

void softee_poller_stop(struct softee_poller *p)
{
	softee_store_release(&p->stop, 1);
	if (p->have_thread) {
		pthread_join(p->thread, NULL);
		p->have_thread = false;
	}
}

/* ---- create and destroy ------------------------------------------------------------ */

static int check_cfg(struct softee_poller *p, struct softee_poller_cfg *c)
{
	if (!c->nd) {
		plog(p, "no link (cfg.nd)");
		return -EINVAL;
	}
	if (!c->mmio_base && !c->mmio_len) {
		c->mmio_base = 0xc0000000ULL;
		c->mmio_len = 0x10000000ULL;
	}
	if (!c->io_base && !c->io_len) {
		c->io_base = SOFTEE_POLLER_DEF_IO_BASE;
		c->io_len = SOFTEE_POLLER_DEF_IO_LEN;
	}
	if (!c->bus)
		c->bus = SOFTEE_POLLER_DEF_BUS;
	if (!c->scan_devs)
		c->scan_devs = SOFTEE_POLLER_SCAN_DEVS;
	if (!c->msi_vector)
		c->msi_vector = SOFTEE_MSI_VECTOR_DEFAULT;
	if (!c->cfg_retry_ns)
		c->cfg_retry_ns = 1000000000ULL;
	if (!c->cpl_timeout_ns)
		c->cpl_timeout_ns = SOFTEE_POLLER_CPL_TIMEOUT_NS;
	if (!c->rcb)
		c->rcb = 64;
	if (!c->gbn.max_retries)
		c->gbn.max_retries = 8;
	if (!c->idle.spins && !c->idle.sleep_max_ns) {
		c->idle = (struct softee_wait)SOFTEE_WAIT_INIT(SOFTEE_WAIT_SLEEP);
		c->idle.sleep_max_ns = 200000;
	}
	if (c->mmio_base + c->mmio_len < c->mmio_base || !c->mmio_len ||
	    (c->mmio_base < 0x100000000ULL && c->mmio_base + c->mmio_len > SOFTEE_MSI_WINDOW &&
	     c->mmio_base < SOFTEE_MSI_WINDOW + SOFTEE_MSI_WINDOW_LEN)) {
		plog(p, "mmio window 0x%llx+0x%llx wraps, is empty or covers the MSI window 0xfee00000",
		     (unsigned long long)c->mmio_base, (unsigned long long)c->mmio_len);
		return -EINVAL;
	}
	if (c->io_base > 0xffff || c->io_len > 0x10000 - c->io_base || !c->io_len) {
		plog(p, "I/O window 0x%llx+0x%llx goes past port 0xffff or is empty",
		     (unsigned long long)c->io_base, (unsigned long long)c->io_len);
		return -EINVAL;
	}
	if (c->scan_devs > 32 || (c->rcb != 64 && c->rcb != 128) ||
	    c->cpl_timeout_ns > 10000000000ULL) {
		plog(p, "scan_devs %u (1..32), rcb %u (64, 128) or cpl_timeout %llu ns (<= 10 s) out of range",
		     c->scan_devs, c->rcb, (unsigned long long)c->cpl_timeout_ns);
		return -EINVAL;
	}
	if (c->max_payload && (c->max_payload < c->rcb || c->max_payload > SOFTEE_TLP_MAX_DATA ||
			       (c->max_payload & (c->max_payload - 1)))) {
		plog(p, "max payload %u: a power of two from rcb %u to 4096", c->max_payload, c->rcb);
		return -EINVAL;
	}
	if (c->slot && (c->ecam_base & 0xfffffULL)) {
		plog(p, "slot mode: ECAM base 0x%llx is not 1 MiB aligned",
		     (unsigned long long)c->ecam_base);
		return -EINVAL;
	}
	return 0;
}

int softee_poller_create(struct softee_poller **pp, const struct softee_poller_cfg *cfg)
{
	struct softee_poller *p;
	struct softee_transport_cfg tc;
	pthread_condattr_t ca;
	uint32_t room, mps;
	int ret;

	*pp = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->log = cfg->log ? cfg->log : stderr;
	p->ctl_fd = -1;
	p->st.lcore = -1;
	ret = check_cfg(p, &p->cfg);
	if (ret)
		goto err_free;
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->region_mu, NULL);
	pthread_mutex_init(&p->iter_mu, NULL);
	pthread_mutex_init(&p->msi_mu, NULL);
	pthread_mutex_init(&p->sync_mu, NULL);
	pthread_cond_init(&p->sync_cv, NULL);
	for (unsigned int k = 0; k < SOFTEE_MAX_CFG; k++)
		p->cfg_dev[k] = -1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->ready_cv, &ca);
	pthread_condattr_destroy(&ca);

	p->dmaq = calloc(POLLER_DMA_QUEUE, sizeof(*p->dmaq));
	p->regions = calloc(1, sizeof(*p->regions));
	p->devs = calloc(1, sizeof(*p->devs));
	if (!p->dmaq || !p->regions || !p->devs) {
		ret = -ENOMEM;
		goto err_tables;
	}
	p->mmio_next = p->cfg.mmio_base;
	p->io_next = p->cfg.io_base;
	p->next_vector = p->cfg.msi_vector;

	memset(&tc, 0, sizeof(tc));
	tc.nd = p->cfg.nd;
	tc.group = p->cfg.group;
	tc.ethertype = p->cfg.ethertype;
	tc.role = SOFTEE_ROLE_HOST;
	tc.node_id = p->cfg.node_id;
	tc.name = p->cfg.name ? p->cfg.name : "softee-poller";
	tc.hb_period_ns = p->cfg.hb_period_ns;
	tc.hb_miss = p->cfg.hb_miss;
	tc.gbn = p->cfg.gbn;
	tc.rate = p->cfg.rate;
	tc.seed = p->cfg.seed;
	tc.rx = on_rx;
	tc.event = on_event;
	tc.opaque = p;
	tc.clock = poller_clock;
	ret = softee_transport_create(&p->t, &tc, softee_now_ns());
	if (ret) {
		plog(p, "transport: %s", strerror(-ret));
		goto err_tables;
	}
	/* The largest power-of-two payload a frame holds beside a 4DW header. */
	room = softee_transport_frame_payload(p->t);
	for (mps = SOFTEE_POLLER_DEF_MPS; mps > p->cfg.rcb && mps + SOFTEE_TLP_HDR4 + 4 > room; mps /= 2)
		;
	if (mps + SOFTEE_TLP_HDR4 + 4 > room) {
		plog(p, "the link's frames (%u payload bytes) cannot hold a %u-byte completion",
		     room, p->cfg.rcb);
		ret = -EINVAL;
		goto err_transport;
	}
	p->max_payload = p->cfg.max_payload ? p->cfg.max_payload : mps;
	if (p->max_payload + SOFTEE_TLP_HDR4 + 4 > room) {
		plog(p, "max payload %u does not fit the link's frames (%u bytes)",
		     p->max_payload, room);
		ret = -EINVAL;
		goto err_transport;
	}
	if (!p->cfg.merge_max || p->cfg.merge_max > p->max_payload)
		p->cfg.merge_max = p->max_payload;
	if (p->cfg.ctl_path) {
		ret = pctl_start(p);
		if (ret)
			goto err_transport;
	}
	*pp = p;
	return 0;

err_transport:
	softee_transport_destroy(p->t);
err_tables:
	free(p->dmaq);
	free(p->regions);
	free(p->devs);
	pthread_cond_destroy(&p->ready_cv);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->region_mu);
	pthread_mutex_destroy(&p->iter_mu);
	pthread_mutex_destroy(&p->msi_mu);
err_free:
	free(p);
	return ret;
}

void softee_poller_destroy(struct softee_poller *p)
{
	if (!p)
		return;
	softee_poller_stop(p);
	ptrap_sync_stop(p);
	pctl_stop(p);
	softee_transport_leave(p->t, softee_now_ns());
	softee_transport_destroy(p->t);
	ptrap_close(p);
	free(p->memmap);
	free(p->regions);
	free(p->devs);
	free(p->dmaq);
	pthread_cond_destroy(&p->ready_cv);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->region_mu);
	pthread_mutex_destroy(&p->iter_mu);
	pthread_mutex_destroy(&p->msi_mu);
	pthread_mutex_destroy(&p->sync_mu);
	pthread_cond_destroy(&p->sync_cv);
	free(p);
}
