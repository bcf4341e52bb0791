// SPDX-License-Identifier: GPL-2.0
/*
 * The engine behind `run` and `bench`: a micro-VM whose vCPUs run a guest
 * program against a region, and whatever takes the region's accesses:
 * softee.ko and its rings (--kmod), KVM_EXIT_MMIO/IO pushed through user
 * rings by the same producer code (--exit), or a bench mechanism.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microvm/microvm.h>
#include <softee/barrier.h>
#include <softee/kmod.h>

#include "trap.h"
#include "trap_guest.h"

#define TRAP_READ_ANSWER	0x5a5a5a5a5a5a5a5aULL	/* exit_read's answer */

struct trap_vcpu {
	struct trap_engine *e;
	uint32_t id;
	int done;			/* atomic: the thread finished */
	int result;			/* 0: the guest finished cleanly */
	uint64_t t_start, t_end;	/* CLOCK_MONOTONIC at the two syncs */
	uint64_t *lap_end;		/* bench --laps: at each lap's sync */
	uint32_t laps_seen;
	uint64_t tsc;			/* the guest's rdtsc delta */
	uint64_t exits;			/* accesses that exited to us */
	int cpu;			/* pinned there; -1: not pinned */
	struct softee_counters c;	/* --exit: the user producer's */
} __attribute__((aligned(64)));

struct trap_engine {
	struct trap_opts *o;
	enum trap_mode mode;
	struct microvm *vm;
	struct softee_session sess;
	bool have_sess;
	bool have_region;
	uint32_t region_id;
	struct softee_ring *exit_rings;	/* --exit: one per vCPU, user memory */
	struct trap_vcpu *vc;
	struct trap_responder resp;
	bool have_resp;
	struct trap_params params;	/* the host's copy of the guest's */
	uint64_t timeout_ns;
	int stop;			/* atomic: the watchdog fired */
	int efd;
	/* coalesced_write */
	uint64_t drained;
	int drain_stop;
	pthread_t drainer;
	bool have_drainer;
	int drain_cpu;
};

static const char *trap_prog_name(uint32_t p)
{
	return p == TRAP_PROG_WRITE ? "write" : p == TRAP_PROG_READ ? "read" : "mixed";
}

static bool trap_case_kmod(enum trap_case c)
{
	return c == TRAP_CASE_NULL_WRITE || c == TRAP_CASE_SOFTEE_WRITE ||
	       c == TRAP_CASE_SOFTEE_READ;
}

static bool trap_case_read(enum trap_case c)
{
	return c == TRAP_CASE_SOFTEE_READ || c == TRAP_CASE_EXIT_READ ||
	       c == TRAP_CASE_EXITRING_READ;
}

/* ---- what takes the accesses ------------------------------------------------ */

/* --exit: the access goes through the vCPU's user ring, as the module does it. */
static int trap_exit_ring(struct microvm_vcpu *v, struct microvm_access *a, void *opaque)
{
	struct trap_engine *e = opaque;
	uint32_t id = microvm_vcpu_id(v);
	struct softee_access sa = {
		.op = a->is_write ? SOFTEE_OP_WRITE : SOFTEE_OP_READ,
		.bus = a->bus,
		.len = a->len,
		.region = e->region_id,
		.vcpu = id,
		.addr = a->addr,
		.offset = a->addr - e->o->base,
	};
	uint64_t data;

	if (a->is_write)
		memcpy(&sa.data, a->data, a->len);
	e->vc[id].exits++;
	softee_ring_trap(&e->exit_rings[id], &sa, &e->o->wait, e->timeout_ns,
			 &e->vc[id].c, &data);
	if (!a->is_write)
		memcpy(a->data, &data, a->len);
	return 0;
}

/* exit_write / exit_read: handled right here, as a VMM's vCPU thread would. */
static int trap_exit_direct(struct microvm_vcpu *v, struct microvm_access *a, void *opaque)
{
	struct trap_engine *e = opaque;
	uint64_t data = TRAP_READ_ANSWER;

	e->vc[microvm_vcpu_id(v)].exits++;
	if (!a->is_write)
		memcpy(a->data, &data, a->len);
	return 0;
}

static void trap_coalesced_one(const struct kvm_coalesced_mmio *c, void *opaque)
{
	struct trap_engine *e = opaque;

	(void)c;
	e->drained++;		/* under the micro-VM's drain lock */
}

/* Every exit first drains KVM's ring, as a VMM must to keep order. */
static void trap_coalesced_hook(struct microvm_vcpu *v, void *opaque)
{
	struct trap_engine *e = opaque;

	microvm_coalesced_drain(microvm_vcpu_vm(v), trap_coalesced_one, e);
}

static void *trap_drainer(void *arg)
{
	struct trap_engine *e = arg;
	struct softee_waiter w;
	bool waiting = false;

	trap_pin_self(e->drain_cpu);
	while (!softee_load_acquire(&e->drain_stop)) {
		if (microvm_coalesced_drain(e->vm, trap_coalesced_one, e)) {
			waiting = false;
			continue;
		}
		if (!waiting) {
			softee_waiter_start(&w, &e->o->wait, SOFTEE_WAIT_FOREVER);
			waiting = true;
		}
		softee_waiter_step(&w);
	}
	microvm_coalesced_drain(e->vm, trap_coalesced_one, e);
	return NULL;
}

/* ---- CPUs ----------------------------------------------------------------------- */

void trap_pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Best effort: a cpuset may forbid it; the run works unpinned. */
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * The consumer gets a CPU of its own, the last one we may use; the vCPU
 * threads share the others.  A spinning consumer on a vCPU's CPU only
 * steals its time.  0 with a plan, -1 when there are not two CPUs.
 */
int trap_cpu_plan(uint32_t nr_vcpus, int *vcpu_cpu, int *resp_cpu)
{
	int cpus[CPU_SETSIZE], n = 0, c;
	cpu_set_t set;
	uint32_t i;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	if (n < 2)
		return -1;
	*resp_cpu = cpus[n - 1];
	for (i = 0; i < nr_vcpus; i++)
		vcpu_cpu[i] = cpus[i % (uint32_t)(n - 1)];
	return 0;
}

/* ---- vCPU threads ------------------------------------------------------------- */

static void *trap_vcpu_main(struct microvm_vcpu *v, void *arg)
{
	struct trap_vcpu *tv = arg;
	struct microvm_ucall uc;
	int r;

	trap_pin_self(tv->cpu);
	tv->result = -EIO;
	for (;;) {
		r = microvm_vcpu_run(v, &uc);
		if (r == -EINTR) {
			if (softee_load_acquire(&tv->e->stop)) {
				tv->result = -ETIMEDOUT;
				break;
			}
			continue;
		}
		if (r < 0) {
			tv->result = r;
			break;
		}
		if (r == MICROVM_UCALL_SYNC) {
			if (uc.args[0] == TRAP_SYNC_START) {
				tv->t_start = softee_now_ns();
			} else if (uc.args[0] == TRAP_SYNC_END) {
				tv->t_end = softee_now_ns();
				tv->tsc = uc.args[1];
			} else if (uc.args[0] == TRAP_SYNC_LAP && tv->lap_end &&
				   uc.args[1] == tv->laps_seen &&
				   tv->laps_seen + 1 < tv->e->o->laps) {
				tv->lap_end[tv->laps_seen++] = softee_now_ns();
			}
			continue;
		}
		if (r == MICROVM_UCALL_PRINT) {
			microvm_ucall_print(v, &uc, TRAP_NAME ": ", stderr);
			continue;
		}
		if (r == MICROVM_UCALL_DONE) {
			tv->result = 0;
			break;
		}
		microvm_ucall_print(v, &uc, TRAP_NAME ": ", stderr);
		tv->result = -EIO;
		break;
	}
	/* Pairs with the load-acquire in trap_wait_vcpus(). */
	softee_store_release(&tv->done, 1);
	return NULL;
}

/* Wait for every vCPU thread; past max_seconds, stop them. */
static bool trap_wait_vcpus(struct trap_engine *e)
{
	uint64_t deadline = softee_now_ns() + (uint64_t)e->o->max_seconds * 1000000000ULL;
	struct timespec ts = { 0, 2000000 };
	bool timed_out = false;
	uint32_t i;

	for (i = 0; i < e->o->nr_vcpus; i++) {
		while (!softee_load_acquire(&e->vc[i].done)) {
			if (!timed_out && softee_now_ns() > deadline) {
				fprintf(stderr, TRAP_NAME ": the guest did not finish in %u s (--max-seconds): stopping it\n",
					e->o->max_seconds);
				timed_out = true;
				softee_store_release(&e->stop, 1);
				for (uint32_t j = 0; j < e->o->nr_vcpus; j++)
					microvm_vcpu_kick(microvm_vcpu(e->vm, j));
			}
			nanosleep(&ts, NULL);
		}
		microvm_vcpu_join(microvm_vcpu(e->vm, i));
	}
	return !timed_out;
}

/* ---- set-up --------------------------------------------------------------------- */

static int trap_setup_kmod(struct trap_engine *e)
{
	struct trap_opts *o = e->o;
	uint32_t need = o->bus == SOFTEE_BUS_PIO ? SOFTEE_FEAT_PIO : SOFTEE_FEAT_MMIO;
	uint32_t flags = 0;
	int ret;

	/* run reports how long reads waited (entry.time_ns); bench does
	 * not pay for a clock read per access. */
	ret = softee_session_open(&e->sess, microvm_vm_fd(e->vm), o->nr_vcpus,
				  o->ring_entries, o->timeout_us,
				  o->bcase == TRAP_CASE_RUN ? SOFTEE_ATTACH_F_TIMESTAMPS : 0);
	if (ret)
		return ret;
	e->have_sess = true;
	if (o->bcase == TRAP_CASE_NULL_WRITE) {
		need |= SOFTEE_FEAT_NULL;
		flags = SOFTEE_REGION_F_NULL;
	}
	if ((e->sess.attach.features & need) != need) {
		fprintf(stderr, TRAP_NAME ": the loaded softee.ko lacks features 0x%x (it has 0x%x): load a newer build/softee.ko\n",
			need & ~e->sess.attach.features, e->sess.attach.features);
		return -EOPNOTSUPP;
	}
	if (e->sess.nr_rings < o->nr_vcpus) {
		fprintf(stderr, TRAP_NAME ": the module made %u rings for %u vCPUs\n",
			e->sess.nr_rings, o->nr_vcpus);
		return -EPROTO;
	}
	ret = softee_region_add(e->sess.fd, o->bus, o->base, o->len, flags, &e->region_id);
	if (ret)
		return ret;
	e->have_region = true;
	return 0;
}

static int trap_setup_exit_rings(struct trap_engine *e)
{
	uint32_t i;
	int ret;

	e->exit_rings = aligned_alloc(64, e->o->nr_vcpus * sizeof(*e->exit_rings));
	if (!e->exit_rings)
		return -ENOMEM;
	memset(e->exit_rings, 0, e->o->nr_vcpus * sizeof(*e->exit_rings));
	for (i = 0; i < e->o->nr_vcpus; i++) {
		ret = softee_ring_alloc(&e->exit_rings[i], e->o->ring_entries);
		if (ret) {
			fprintf(stderr, TRAP_NAME ": ring of %u entries: %s\n", e->o->ring_entries,
				strerror(-ret));
			return ret;
		}
	}
	e->region_id = 0;
	ret = microvm_add_exit_handler(e->vm, e->o->bus, e->o->base, e->o->len,
				       trap_exit_ring, e);
	return ret;
}

static int trap_setup_bench(struct trap_engine *e)
{
	struct trap_opts *o = e->o;
	int ret;

	switch (o->bcase) {
	case TRAP_CASE_EXIT_WRITE:
	case TRAP_CASE_EXIT_READ:
		return microvm_add_exit_handler(e->vm, o->bus, o->base, o->len, trap_exit_direct, e);
	case TRAP_CASE_IOEVENTFD_WRITE:
		e->efd = microvm_ioeventfd_add(e->vm, o->bus, o->base, 4, false, 0);
		if (e->efd < 0) {
			fprintf(stderr, TRAP_NAME ": KVM_IOEVENTFD at 0x%llx: %s\n",
				(unsigned long long)o->base, strerror(-e->efd));
			return e->efd;
		}
		return 0;
	case TRAP_CASE_COALESCED_WRITE:
		ret = microvm_coalesced_add(e->vm, o->bus, o->base, (uint32_t)o->len);
		if (ret) {
			fprintf(stderr, TRAP_NAME ": KVM_REGISTER_COALESCED_MMIO at 0x%llx: %s\n",
				(unsigned long long)o->base, strerror(-ret));
			return ret;
		}
		/* A full ring sends writes out as ordinary exits. */
		ret = microvm_add_exit_handler(e->vm, o->bus, o->base, o->len, trap_exit_direct, e);
		if (ret)
			return ret;
		microvm_set_exit_hook(e->vm, trap_coalesced_hook, e);
		ret = pthread_create(&e->drainer, NULL, trap_drainer, e);
		if (ret)
			return -ret;
		e->have_drainer = true;
		return 0;
	default:
		return 0;
	}
}

static int trap_setup_guest(struct trap_engine *e)
{
	struct trap_opts *o = e->o;
	struct trap_params *gp;
	uint64_t gpa = 0;
	uint32_t i;
	int ret;

	e->params = (struct trap_params){
		.base = o->base,
		.len = o->len,
		.count = o->count,
		.bus = o->bus,
		.program = o->program,
		.size = o->size,
	};
	if (o->bcase == TRAP_CASE_RUN) {
		gpa = microvm_alloc(e->vm, sizeof(*gp), 64);
		gp = gpa ? microvm_gpa2hva(e->vm, gpa, sizeof(*gp)) : NULL;
		if (!gp)
			return -ENOMEM;
		*gp = e->params;
	}
	for (i = 0; i < o->nr_vcpus; i++) {
		struct microvm_vcpu *v = microvm_vcpu(e->vm, i);

		if (o->bcase == TRAP_CASE_RUN)
			ret = microvm_vcpu_set_entry(v, trap_guest_run, 2, gpa, (uint64_t)i);
		else
			ret = microvm_vcpu_set_entry(v, trap_guest_bench, 5, o->base, o->count,
						     (uint64_t)(trap_case_read(o->bcase) ?
								TRAP_OP_READ : TRAP_OP_WRITE),
						     (uint64_t)o->bus, (uint64_t)o->laps);
		if (ret)
			return ret;
	}
	return 0;
}

static int trap_resolve_mode(struct trap_engine *e)
{
	struct trap_opts *o = e->o;

	if (o->bcase != TRAP_CASE_RUN) {
		e->mode = trap_case_kmod(o->bcase) ? TRAP_MODE_KMOD : TRAP_MODE_EXIT;
		return 0;
	}
	e->mode = o->mode;
	if (e->mode != TRAP_MODE_AUTO)
		return 0;
	if (!access(SOFTEE_DEVICE, F_OK)) {
		e->mode = TRAP_MODE_KMOD;
		if (o->verbosity > TRAP_V_QUIET)
			fprintf(stderr, TRAP_NAME ": %s exists: using --kmod (softee.ko traps the region)\n",
				SOFTEE_DEVICE);
	} else {
		e->mode = TRAP_MODE_EXIT;
		if (o->verbosity > TRAP_V_QUIET)
			fprintf(stderr, TRAP_NAME ": %s not found: using --exit (KVM_EXIT_MMIO/IO handled in user space)\n",
				SOFTEE_DEVICE);
	}
	return 0;
}

/* ---- results -------------------------------------------------------------------- */

/* Field by field through the fields' own type (no aliasing games). */
static void trap_counters_add(struct softee_counters *to, const struct softee_counters *from)
{
	to->writes += from->writes;
	to->reads += from->reads;
	to->write_bytes += from->write_bytes;
	to->read_bytes += from->read_bytes;
	to->completions += from->completions;
	to->errors += from->errors;
	to->timeouts += from->timeouts;
	to->ring_full += from->ring_full;
	to->drops += from->drops;
	to->corrupt += from->corrupt;
	to->aborted += from->aborted;
	to->no_ring += from->no_ring;
	to->stalled += from->stalled;
}

static int trap_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * bench --laps: each lap's ns per access, and their median into *median.
 * 0, or -1 if the guest's laps were not all seen.
 */
static int trap_lap_median(const struct trap_engine *e, const struct trap_vcpu *tv,
			   double *median)
{
	uint32_t laps = e->o->laps, k;
	uint64_t from = tv->t_start, to, n;
	double *per = calloc(laps, sizeof(*per));

	if (!per || tv->laps_seen + 1 != laps) {
		free(per);
		return -1;
	}
	for (k = 0; k < laps; k++) {
		to = k + 1 < laps ? tv->lap_end[k] : tv->t_end;
		n = e->o->count / laps + (k < e->o->count % laps);
		per[k] = to > from ? (double)(to - from) / (double)n : 0;
		from = to;
	}
	qsort(per, laps, sizeof(*per), trap_cmp_double);
	*median = laps % 2 ? per[laps / 2] : (per[laps / 2 - 1] + per[laps / 2]) / 2;
	fprintf(stderr, TRAP_NAME ": %u laps: fastest %.1f, median %.1f, slowest %.1f ns per access\n",
		laps, per[0], *median, per[laps - 1]);
	free(per);
	return 0;
}

static int trap_results(struct trap_engine *e, double *ns_per_access)
{
	struct trap_opts *o = e->o;
	struct softee_counters c = { 0 };
	struct softee_stats st;
	uint64_t ns = 0, total = o->count * o->nr_vcpus, exits = 0, tsc = 0, got;
	bool ok = true, timed = true;
	uint32_t i;

	for (i = 0; i < o->nr_vcpus; i++) {
		struct trap_vcpu *tv = &e->vc[i];

		if (tv->result)
			ok = false;
		if (tv->t_end <= tv->t_start)
			timed = false;
		else
			ns += tv->t_end - tv->t_start;
		tsc += tv->tsc;
		exits += tv->exits;
		if (e->mode == TRAP_MODE_EXIT)
			trap_counters_add(&c, &tv->c);
	}
	if (e->have_region) {
		/* The region's counters: they also count a null region's accesses. */
		if (!softee_get_stats(e->sess.fd, SOFTEE_STATS_REGION, e->region_id, &st))
			c = st.c;
		else
			ok = false;
	}
	*ns_per_access = timed && total ? (double)ns / (double)total : 0;
	if (timed && o->laps > 1 &&	/* bench only: run takes no --laps */
	    trap_lap_median(e, &e->vc[0], ns_per_access)) {
		fprintf(stderr, TRAP_NAME ": %u of %u lap syncs came back\n",
			e->vc[0].laps_seen, o->laps - 1);
		timed = false;
	}
	if (!timed)
		ok = false;

	/* Did every access arrive where it should? */
	switch (o->bcase) {
	case TRAP_CASE_RUN:
	case TRAP_CASE_SOFTEE_WRITE:
	case TRAP_CASE_SOFTEE_READ:
	case TRAP_CASE_EXITRING_WRITE:
	case TRAP_CASE_EXITRING_READ:
		got = e->resp.seen;
		break;
	case TRAP_CASE_NULL_WRITE:
		got = c.writes;
		break;
	case TRAP_CASE_IOEVENTFD_WRITE:
		got = 0;
		if (read(e->efd, &got, sizeof(got)) != sizeof(got))
			got = 0;
		got += exits;
		break;
	case TRAP_CASE_COALESCED_WRITE:
		got = e->drained + exits;
		break;
	default:
		got = exits;
	}
	if (got != total) {
		fprintf(stderr, TRAP_NAME ": %llu of %llu accesses arrived (exits %llu, queued %llu, dropped %llu)\n",
			(unsigned long long)got, (unsigned long long)total,
			(unsigned long long)exits, (unsigned long long)(c.writes + c.reads),
			(unsigned long long)c.drops);
		ok = false;
	}
	if (e->have_resp && e->resp.mismatches)
		ok = false;
	if (e->have_resp && e->resp.ring_error) {
		fprintf(stderr, TRAP_NAME ": ring %u: %s\n", e->resp.ring_error_idx,
			e->resp.ring_error == -EUCLEAN ? "corrupt (prod - cons > entries)" :
			e->resp.ring_error == -EPIPE ? "the session is closing" :
			strerror(-e->resp.ring_error));
		ok = false;
	}
	if (c.timeouts || c.drops || c.errors || c.aborted || c.corrupt || c.no_ring || c.stalled)
		ok = false;

	if (o->bcase == TRAP_CASE_RUN || o->verbosity > TRAP_V_QUIET || !ok) {
		fprintf(o->bcase == TRAP_CASE_RUN ? stdout : stderr,
			TRAP_NAME ": accesses=%llu writes=%llu reads=%llu ns_per_access=%.1f tsc_per_access=%.1f mismatches=%llu timeouts=%llu drops=%llu errors=%llu aborted=%llu ring_full=%llu corrupt=%llu stalled=%llu: %s\n",
			(unsigned long long)got,
			(unsigned long long)(e->have_resp ? e->resp.writes : c.writes),
			(unsigned long long)(e->have_resp ? e->resp.reads : c.reads),
			*ns_per_access, total ? (double)tsc / (double)total : 0,
			(unsigned long long)(e->have_resp ? e->resp.mismatches : 0),
			(unsigned long long)c.timeouts, (unsigned long long)c.drops,
			(unsigned long long)c.errors, (unsigned long long)c.aborted,
			(unsigned long long)c.ring_full, (unsigned long long)c.corrupt,
			(unsigned long long)c.stalled, ok ? "OK" : "FAILED");
		if (e->have_resp && e->resp.reads)
			fprintf(o->bcase == TRAP_CASE_RUN ? stdout : stderr,
				TRAP_NAME ": reads answered %.1f us after the trap on average, %.1f us at most\n",
				(double)e->resp.answer_ns_sum / (double)e->resp.reads / 1000.0,
				(double)e->resp.answer_ns_max / 1000.0);
	}
	return ok ? 0 : 1;
}

/* ---- the whole run -------------------------------------------------------------- */

static void trap_teardown(struct trap_engine *e)
{
	uint32_t i;

	if (e->have_drainer) {
		softee_store_release(&e->drain_stop, 1);
		pthread_join(e->drainer, NULL);
		e->have_drainer = false;
	}
	if (e->have_region)
		softee_region_del(e->sess.fd, e->region_id);
	if (e->have_sess)
		softee_session_close(&e->sess);
	microvm_destroy(e->vm);
	if (e->exit_rings) {
		for (i = 0; i < e->o->nr_vcpus; i++)
			softee_ring_free(&e->exit_rings[i]);
		free(e->exit_rings);
	}
	for (i = 0; e->vc && i < e->o->nr_vcpus; i++)
		free(e->vc[i].lap_end);
	free(e->vc);
}

int trap_engine(struct trap_opts *o, double *ns_per_access)
{
	struct microvm_config cfg = {
		.nr_vcpus = o->nr_vcpus,
		.flags = MICROVM_F_IRQCHIP,
		.ram_bytes = MICROVM_RAM_DEFAULT,
	};
	struct trap_engine e;
	uint32_t i;
	int ret;

	memset(&e, 0, sizeof(e));
	e.o = o;
	e.efd = -1;
	e.timeout_ns = (uint64_t)o->timeout_us * 1000;
	*ns_per_access = 0;
	trap_resolve_mode(&e);

	e.vc = aligned_alloc(64, sizeof(*e.vc) * o->nr_vcpus);
	if (!e.vc)
		return 1;
	memset(e.vc, 0, sizeof(*e.vc) * o->nr_vcpus);
	for (i = 0; i < o->nr_vcpus; i++) {
		e.vc[i].e = &e;
		e.vc[i].id = i;
		e.vc[i].cpu = -1;
		if (o->laps > 1) {
			e.vc[i].lap_end = calloc(o->laps - 1, sizeof(uint64_t));
			if (!e.vc[i].lap_end) {
				while (i--)
					free(e.vc[i].lap_end);
				free(e.vc);
				return 1;
			}
		}
	}
	e.drain_cpu = -1;
	e.resp.cpu = -1;
	if (o->pin) {
		int *vcpu_cpu = calloc(o->nr_vcpus, sizeof(int));

		if (vcpu_cpu && !trap_cpu_plan(o->nr_vcpus, vcpu_cpu, &e.resp.cpu)) {
			for (i = 0; i < o->nr_vcpus; i++)
				e.vc[i].cpu = vcpu_cpu[i];
			e.drain_cpu = e.resp.cpu;
		}
		free(vcpu_cpu);
	}
	e.vm = microvm_create(&cfg);
	if (!e.vm) {
		free(e.vc);
		return 1;
	}
	if (o->verbosity > TRAP_V_QUIET && o->bcase == TRAP_CASE_RUN)
		fprintf(stderr, TRAP_NAME ": mode=%s program=%s size=%s vcpus=%u count=%llu %s 0x%llx+0x%llx wait=%s\n",
			e.mode == TRAP_MODE_KMOD ? "kmod" : "exit", trap_prog_name(o->program),
			o->size == 1 ? "1" : o->size == 2 ? "2" : o->size == 4 ? "4" :
			o->size == 8 ? "8" : "all", o->nr_vcpus, (unsigned long long)o->count,
			softee_bus_name(o->bus), (unsigned long long)o->base,
			(unsigned long long)o->len, softee_wait_name(o->wait.mode));

	if (e.mode == TRAP_MODE_KMOD)
		ret = trap_setup_kmod(&e);
	else if (o->bcase == TRAP_CASE_RUN || o->bcase == TRAP_CASE_EXITRING_WRITE ||
		 o->bcase == TRAP_CASE_EXITRING_READ)
		ret = trap_setup_exit_rings(&e);
	else
		ret = trap_setup_bench(&e);
	if (!ret)
		ret = trap_setup_guest(&e);
	if (ret) {
		if (ret == -EEXIST || ret == -EINVAL || ret == -ENOSPC)
			fprintf(stderr, TRAP_NAME ": setting up the region: %s\n", strerror(-ret));
		trap_teardown(&e);
		return 1;
	}

	if (o->bcase != TRAP_CASE_NULL_WRITE && o->bcase != TRAP_CASE_EXIT_WRITE &&
	    o->bcase != TRAP_CASE_EXIT_READ && o->bcase != TRAP_CASE_IOEVENTFD_WRITE &&
	    o->bcase != TRAP_CASE_COALESCED_WRITE) {
		e.resp.rings = e.mode == TRAP_MODE_KMOD ? e.sess.rings : e.exit_rings;
		e.resp.nr_rings = o->nr_vcpus;
		e.resp.params = o->bcase == TRAP_CASE_RUN ? &e.params : NULL;
		e.resp.region = e.region_id;
		e.resp.wait = &o->wait;
		e.resp.verbosity = o->verbosity;
		e.resp.t0_ns = softee_now_ns();
		ret = trap_responder_start(&e.resp);
		if (ret) {
			fprintf(stderr, TRAP_NAME ": starting the responder: %s\n", strerror(-ret));
			trap_teardown(&e);
			return 1;
		}
		e.have_resp = true;
	}

	for (i = 0; i < o->nr_vcpus; i++) {
		ret = microvm_vcpu_start(microvm_vcpu(e.vm, i), trap_vcpu_main, &e.vc[i]);
		if (ret) {
			fprintf(stderr, TRAP_NAME ": starting vCPU %u: %s\n", i, strerror(-ret));
			/* Those started see stop and end at their next exit. */
			e.vc[i].result = ret;
			softee_store_release(&e.vc[i].done, 1);
		}
	}
	trap_wait_vcpus(&e);
	if (e.have_resp)
		trap_responder_stop(&e.resp);
	if (e.have_drainer) {
		softee_store_release(&e.drain_stop, 1);
		pthread_join(e.drainer, NULL);
		e.have_drainer = false;
	}
	ret = trap_results(&e, ns_per_access);
	trap_teardown(&e);
	return ret;
}
