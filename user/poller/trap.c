// SPDX-License-Identifier: GPL-2.0
/*
 * The two ways guest accesses reach the poller's rings, behind one ops
 * table (region add and delete):
 *
 *  - kmod: softee.ko traps the BARs (SOFTEE_REGION_ADD) and fills the rings
 *    of a session (softee/kmod.h);
 *  - exit: where the module cannot load, the VMM's vCPU thread gets the
 *    access as KVM_EXIT_MMIO/IO and hands it to softee_poller_exit_access(),
 *    which finds the region in a table laid out like the module's and
 *    pushes the access through that vCPU's user-space ring with libsoftee's
 *    producer (softee_ring_trap): the module's exact semantics, the same
 *    consumer.
 *
 * The exit path's region table is read by the VMM's threads, which the
 * poller does not create: each slot is a seqcount-protected record, so
 * readers need no registration and never block.  A slot is never freed
 * while the poller lives (as the module keeps a region until KVM's SRCU
 * grace period ends).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "poller_int.h"

/* ---- the exit path ------------------------------------------------------------ */

struct xslot {
	uint32_t seq;			/* odd while being written */
	uint8_t bus;
	uint8_t live;
	uint64_t base, len;
};

struct xvcpu {
	struct softee_counters c;	/* only its vCPU thread writes them */
} __attribute__((aligned(64)));

struct softee_poller_exit {
	struct softee_poller *p;
	struct softee_ring *rings;	/* the poller's p->rings */
	uint32_t nr;
	struct softee_wait wait;
	uint64_t timeout_ns;
	struct xslot slot[SOFTEE_MAX_REGIONS];
	struct xvcpu *vc;
};

/* One consistent read of a slot. */
static bool xslot_read(const struct xslot *s, uint8_t *bus, uint64_t *base, uint64_t *len)
{
	uint32_t a, b;
	bool live;

	do {
		/* Pairs with the writer's release of an even seq. */
		a = softee_load_acquire(&s->seq);
		live = softee_read_once(&s->live);
		*bus = softee_read_once(&s->bus);
		*base = softee_read_once(&s->base);
		*len = softee_read_once(&s->len);
		/* The loads above complete before the second look at seq. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		b = softee_read_once(&s->seq);
	} while ((a & 1) || a != b);
	return live;
}

static void xslot_write(struct xslot *s, bool live, uint8_t bus, uint64_t base, uint64_t len)
{
	softee_write_once(&s->seq, s->seq + 1);
	/* The odd seq is visible before the fields change. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	softee_write_once(&s->bus, bus);
	softee_write_once(&s->base, base);
	softee_write_once(&s->len, len);
	softee_write_once(&s->live, live);
	/* Pairs with the reader's acquire of seq. */
	softee_store_release(&s->seq, s->seq + 1);
}

int softee_poller_exit_access(struct softee_poller_exit *x, uint32_t vcpu, uint8_t bus,
			      bool is_write, uint64_t addr, uint8_t len, uint8_t *data)
{
	struct softee_access a = {
		.op = is_write ? SOFTEE_OP_WRITE : SOFTEE_OP_READ,
		.bus = bus,
		.len = len,
		.vcpu = vcpu,
		.addr = addr,
	};
	uint64_t base, rlen, v = 0;
	uint32_t id, i;
	uint8_t rbus;

	for (id = 0; id < SOFTEE_MAX_REGIONS; id++) {
		if (!xslot_read(&x->slot[id], &rbus, &base, &rlen) || rbus != bus)
			continue;
		if (addr >= base && addr - base < rlen && len <= rlen - (addr - base))
			break;
	}
	if (id == SOFTEE_MAX_REGIONS)
		return -ENOENT;
	if (vcpu >= x->nr) {
		/* As the module: a vCPU without a ring gets all ones. */
		if (!is_write)
			memset(data, 0xff, len);
		return 0;
	}
	a.region = id;
	a.offset = addr - base;
	if (is_write)
		for (i = 0; i < len; i++)
			a.data |= (uint64_t)data[i] << (8 * i);
	softee_ring_trap(&x->rings[vcpu], &a, &x->wait, x->timeout_ns, &x->vc[vcpu].c, &v);
	if (is_write && x->wait.help)
		ppoller_kick(x->p);
	if (!is_write)
		for (i = 0; i < len; i++)
			data[i] = (uint8_t)(v >> (8 * i));
	return 0;
}

int softee_poller_exit_counters(struct softee_poller_exit *x, uint32_t vcpu,
				struct softee_counters *c)
{
	if (vcpu >= x->nr)
		return -ENOENT;
	*c = x->vc[vcpu].c;
	return 0;
}

static int exit_region_add(struct softee_poller *p, uint8_t bus, uint64_t base, uint64_t len,
			   uint32_t *id)
{
	struct softee_poller_exit *x = p->exit;
	uint64_t b, l;
	uint8_t rb;
	uint32_t i, free_id = UINT32_MAX;

	if (!len || base + len < base)
		return -EOVERFLOW;
	for (i = 0; i < SOFTEE_MAX_REGIONS; i++) {
		if (!xslot_read(&x->slot[i], &rb, &b, &l)) {
			if (free_id == UINT32_MAX)
				free_id = i;
			continue;
		}
		if (rb == bus && base < b + l && b < base + len)
			return -EEXIST;
	}
	if (free_id == UINT32_MAX)
		return -ENOSPC;
	xslot_write(&x->slot[free_id], true, bus, base, len);
	*id = free_id;
	return 0;
}

static int exit_region_del(struct softee_poller *p, uint32_t id)
{
	struct softee_poller_exit *x = p->exit;

	if (id >= SOFTEE_MAX_REGIONS)
		return -ENOENT;
	xslot_write(&x->slot[id], false, 0, 0, 0);
	return 0;
}

static void exit_close(struct softee_poller *p)
{
	struct softee_poller_exit *x = p->exit;
	uint32_t i;

	if (!x)
		return;
	for (i = 0; i < x->nr; i++)
		softee_ring_free(&p->rings[i]);
	free(p->rings);
	free(x->vc);
	free(x);
	p->exit = NULL;
	p->rings = NULL;
}

static const struct ptrap_ops exit_ops = {
	.name = "exit",
	.region_add = exit_region_add,
	.region_del = exit_region_del,
	.close = exit_close,
};

static int rings_state(struct softee_poller *p, uint32_t n)
{
	p->rs = aligned_alloc(64, (size_t)n * sizeof(*p->rs));
	if (!p->rs)
		return -ENOMEM;
	memset(p->rs, 0, (size_t)n * sizeof(*p->rs));
	return 0;
}

int softee_poller_attach_exit(struct softee_poller *p, uint32_t nr_vcpus, uint32_t ring_entries,
			      uint32_t timeout_us, struct softee_poller_exit **xp)
{
	struct softee_poller_exit *x;
	uint32_t i;
	int ret;

	if (p->trap || softee_load_acquire(&p->running))
		return -EBUSY;
	if (!nr_vcpus || nr_vcpus > SOFTEE_MAX_RINGS || timeout_us > SOFTEE_TIMEOUT_MAX_US)
		return -EINVAL;
	if (!ring_entries)
		ring_entries = SOFTEE_RING_DEFAULT_ENTRIES;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->p = p;
	x->nr = nr_vcpus;
	x->timeout_ns = (uint64_t)(timeout_us ? timeout_us : SOFTEE_TIMEOUT_DEFAULT_US) * 1000;
	/*
	 * The vCPU spins a little, then sleeps in short steps (at most 20 us):
	 * sched_yield() does not give the core to a poller that is sleeping
	 * itself, and on two cores shared with a box a yielding vCPU kept the
	 * poller off its core for hundreds of microseconds per read.
	 */
	x->wait = (struct softee_wait)SOFTEE_WAIT_INIT(SOFTEE_WAIT_SLEEP);
	x->wait.sleep_max_ns = 20000;
	/* ... and before any of that, runs the poller's loop itself (ppoller_help). */
	if (p->cfg.vcpu_polls > 0 || (!p->cfg.vcpu_polls && !p->cfg.nd->blocking_rx)) {
		x->wait.help = ppoller_help;
		x->wait.help_done = ppoller_help_done;
		x->wait.help_arg = p;
	}
	x->vc = aligned_alloc(64, (size_t)nr_vcpus * sizeof(*x->vc));
	p->rings = aligned_alloc(64, (size_t)nr_vcpus * sizeof(*p->rings));
	if (!x->vc || !p->rings || rings_state(p, nr_vcpus)) {
		free(x->vc);
		free(p->rings);
		free(x);
		p->rings = NULL;
		return -ENOMEM;
	}
	memset(x->vc, 0, (size_t)nr_vcpus * sizeof(*x->vc));
	memset(p->rings, 0, (size_t)nr_vcpus * sizeof(*p->rings));
	for (i = 0; i < nr_vcpus; i++) {
		ret = softee_ring_alloc(&p->rings[i], ring_entries);
		if (ret) {
			while (i--)
				softee_ring_free(&p->rings[i]);
			free(p->rings);
			free(p->rs);
			free(x->vc);
			free(x);
			p->rings = NULL;
			p->rs = NULL;
			return ret;
		}
	}
	x->rings = p->rings;
	p->nr_rings = nr_vcpus;
	p->exit = x;
	p->trap = &exit_ops;
	*xp = x;
	return 0;
}

/* ---- softee.ko -------------------------------------------------------------- */

static int kmod_region_add(struct softee_poller *p, uint8_t bus, uint64_t base, uint64_t len,
			   uint32_t *id)
{
	return __softee_region_add(p->sess.fd, bus, base, len, 0, id);
}

static int kmod_region_del(struct softee_poller *p, uint32_t id)
{
	return __softee_region_del(p->sess.fd, id);
}

static int kmod_cfg_add(struct softee_poller *p, uint16_t bdf, uint64_t ecam_base, uint32_t *id)
{
	if (!(p->sess.attach.features & SOFTEE_FEAT_CFG))
		return -EOPNOTSUPP;
	return __softee_cfg_add(p->sess.fd, bdf, ecam_base ? SOFTEE_CFG_F_ECAM : 0, ecam_base,
				0, ecam_base ? 255 : 0, id);
}

static void kmod_close(struct softee_poller *p)
{
	softee_session_close(&p->sess);
	p->rings = NULL;
}

static const struct ptrap_ops kmod_ops = {
	.name = "kmod",
	.region_add = kmod_region_add,
	.region_del = kmod_region_del,
	.cfg_add = kmod_cfg_add,
	.close = kmod_close,
};

int softee_poller_attach_kmod(struct softee_poller *p, int vm_fd, uint32_t nr_rings,
			      uint32_t ring_entries, uint32_t timeout_us)
{
	uint32_t need = SOFTEE_FEAT_MMIO;
	int ret;

	if (p->trap || softee_load_acquire(&p->running))
		return -EBUSY;
	/* The bridge times each read from its trap (entry.time_ns). */
	ret = __softee_session_open(&p->sess, vm_fd, nr_rings, ring_entries, timeout_us,
				    SOFTEE_ATTACH_F_TIMESTAMPS);
	if (ret)
		return ret;
	if ((p->sess.attach.features & need) != need || p->sess.nr_rings < nr_rings) {
		softee_session_close(&p->sess);
		return -EOPNOTSUPP;
	}
	ret = rings_state(p, p->sess.nr_rings);
	if (ret) {
		softee_session_close(&p->sess);
		return ret;
	}
	p->rings = p->sess.rings;
	p->nr_rings = p->sess.nr_rings;
	p->trap = &kmod_ops;
	if (p->cfg.vm_fd <= 0)
		p->cfg.vm_fd = vm_fd;		/* MSIs go to the same VM */
	return 0;
}

/* ---- regions of a device ------------------------------------------------------- */

/*
 * Make the trap regions match the device's BARs: keep those that do, move
 * the others; publish the region map.  Outside the RCU read side, under
 * region_mu, not p->lock (poller_int.h says why).
 */
int ptrap_region_sync(struct softee_poller *p, struct pdev *d)
{
	struct pregion_map nm;
	uint32_t i, id;
	int ret = 0;

	pthread_mutex_lock(&p->region_mu);
	if (p->regions)
		nm = *p->regions;
	else
		memset(&nm, 0, sizeof(nm));
	for (i = 0; i < SOFTEE_PCI_NR_BARS; i++) {
		const struct softee_bar *bar = &d->bar[i];
		uint8_t bus = bar->io ? SOFTEE_BUS_PIO : SOFTEE_BUS_MMIO;
		struct pregion *r = d->region[i] < SOFTEE_MAX_REGIONS ? &nm.r[d->region[i]] : NULL;

		if (r && bar->size && r->used && r->base == bar->addr && r->len == bar->size &&
		    r->bus == bus)
			continue;			/* unchanged */
		if (r && p->trap) {
			p->trap->region_del(p, d->region[i]);
			memset(r, 0, sizeof(*r));
		}
		d->region[i] = UINT32_MAX;
		if (!bar->size || !p->trap)
			continue;
		ret = p->trap->region_add(p, bus, bar->addr, bar->size, &id);
		if (ret)
			break;
		if (id >= SOFTEE_MAX_REGIONS) {
			p->trap->region_del(p, id);
			ret = -ERANGE;
			break;
		}
		nm.r[id] = (struct pregion){ .used = true, .bus = bus, .bar = (uint8_t)i,
					     .dev = d->idx, .base = bar->addr, .len = bar->size };
		d->region[i] = id;
	}
	/* Publish even a partial change: the map must say what is registered. */
	if (poller_publish_regions(p, &nm) && !ret)
		ret = -ENOMEM;
	pthread_mutex_unlock(&p->region_mu);
	return ret;
}

void ptrap_close(struct softee_poller *p)
{
	uint32_t i;

	if (!p->trap)
		return;
	if (p->regions)
		for (i = 0; i < SOFTEE_MAX_REGIONS; i++)
			if (p->regions->r[i].used)
				p->trap->region_del(p, i);
	p->trap->close(p);
	p->trap = NULL;
	free(p->rs);
	p->rs = NULL;
	p->nr_rings = 0;
}

/* ---- slot mode: BARs the guest enabled, trapped off the data thread ------------- */

static void *sync_main(void *arg)
{
	struct softee_poller *p = arg;
	struct softee_bar want[SOFTEE_PCI_NR_BARS];
	uint32_t i;
	int ret;

	pthread_mutex_lock(&p->sync_mu);
	for (;;) {
		while (!p->sync_pending && !p->sync_stop)
			pthread_cond_wait(&p->sync_cv, &p->sync_mu);
		if (p->sync_stop)
			break;
		i = (uint32_t)__builtin_ctz(p->sync_pending);
		p->sync_pending &= ~(1u << i);
		memcpy(want, p->sync_bar[i], sizeof(want));
		pthread_mutex_unlock(&p->sync_mu);
		/*
		 * d->bar is the trapped view; only this thread writes it in
		 * slot mode (readers see a stale but whole BAR at worst).
		 */
		memcpy(p->dev[i].bar, want, sizeof(want));
		ret = ptrap_region_sync(p, &p->dev[i]);
		if (ret)
			plog(p, "slot: %02x:%02x.%x: trapping the BARs the guest enabled: %s",
			     SOFTEE_BDF_BUS(p->dev[i].bdf), SOFTEE_BDF_DEV(p->dev[i].bdf),
			     SOFTEE_BDF_FN(p->dev[i].bdf), strerror(-ret));
		pthread_mutex_lock(&p->sync_mu);
	}
	pthread_mutex_unlock(&p->sync_mu);
	return NULL;
}

void ptrap_sync_request(struct softee_poller *p, struct pdev *d, const struct softee_bar *bars)
{
	pthread_mutex_lock(&p->sync_mu);
	memcpy(p->sync_bar[d->idx], bars, sizeof(p->sync_bar[d->idx]));
	p->sync_pending |= 1u << d->idx;
	if (!p->have_sync && !pthread_create(&p->sync_thread, NULL, sync_main, p))
		p->have_sync = true;
	pthread_cond_signal(&p->sync_cv);
	pthread_mutex_unlock(&p->sync_mu);
}

void ptrap_sync_stop(struct softee_poller *p)
{
	pthread_mutex_lock(&p->sync_mu);
	p->sync_stop = true;
	pthread_cond_signal(&p->sync_cv);
	pthread_mutex_unlock(&p->sync_mu);
	if (p->have_sync)
		pthread_join(p->sync_thread, NULL);
	p->have_sync = false;
}
