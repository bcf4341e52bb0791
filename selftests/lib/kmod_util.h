/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-side helpers of the module's selftests that run a micro-VM against
 * softee.ko (kmod_trap_test, kmod_hostile_test):
 *
 *  - kt_vcpu: one thread per vCPU that runs the guest until it is done,
 *    stops at each GUEST_SYNC until the test releases it (or goes on by
 *    itself), and keeps when and why it stopped;
 *  - kt_consumer: a thread that drains every ring of a session, answers
 *    reads with kt_answer() (or a bad status), and keeps a copy of every
 *    entry it saw, per ring;
 *  - small things: the clock, reading the kernel log, counters.
 *
 * Nothing here asserts: the threads record what happened and the test
 * checks it from its own thread (the harness's ASSERTs longjmp).
 */
#ifndef _SELFTESTS_KMOD_UTIL_H
#define _SELFTESTS_KMOD_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <microvm/microvm.h>
#include <softee/kmod.h>
#include <softee/ring.h>

#define KT_MAX_VCPUS	4

/* The value a read of `len` bytes at addr gets from vCPU vcpu's seq-th entry. */
static inline uint64_t kt_answer(uint32_t vcpu, uint64_t addr, uint32_t seq)
{
	uint64_t x = addr * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)vcpu << 56) ^
		     ((uint64_t)seq * 0xc2b2ae3d27d4eb4fULL);

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 32);
}

static inline uint64_t kt_mask(unsigned int len)
{
	return len >= 8 ? ~0ULL : (1ULL << (8 * len)) - 1;
}

uint64_t kt_now_ns(void);

/* ---- vCPU threads ----------------------------------------------------------- */

#define KT_MAX_STAGES	8

struct kt_vcpu {
	struct microvm_vcpu *v;
	bool auto_resume;	/* go on after a SYNC without waiting */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t stage;		/* the last SYNC stage reached (0: none) */
	uint64_t arg;		/* its argument */
	uint64_t released;	/* the test let the guest go past this stage */
	uint64_t t_stage[KT_MAX_STAGES];	/* kt_now_ns() at each stage */
	uint64_t arg_stage[KT_MAX_STAGES];
	bool done;
	int result;		/* MICROVM_UCALL_DONE, _ABORT, ..., or -errno */
	uint64_t t_done;
	bool started;
};

/* Start the guest at fn(args) on this vCPU in a thread of its own. */
int kt_vcpu_start(struct kt_vcpu *kv, struct microvm_vcpu *v, const void *fn,
		  unsigned int nargs, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3);
/* Wait until the guest reached stage (true), finished or timeout_ms passed. */
bool kt_vcpu_wait_stage(struct kt_vcpu *kv, uint64_t stage, unsigned int timeout_ms);
/* Let the guest go on past stage. */
void kt_vcpu_release(struct kt_vcpu *kv, uint64_t stage);
/* Wait for the guest to end (true) or timeout_ms. */
bool kt_vcpu_wait_done(struct kt_vcpu *kv, unsigned int timeout_ms);
/* Make KVM_RUN return and the thread end; joins it. */
void kt_vcpu_stop(struct kt_vcpu *kv);
/* Joins a thread that ended by itself (after kt_vcpu_wait_done). */
void kt_vcpu_join(struct kt_vcpu *kv);

/* ---- the consumer ----------------------------------------------------------- */

struct kt_consumer {
	struct softee_ring *rings;	/* ring i serves vCPU i */
	uint32_t nr_rings;
	bool answer;			/* complete reads (else just retire them) */
	uint32_t err_every;		/* status 1 for reads with seq % err_every ==
					 * err_every - 1; 0: never */
	uint32_t log_cap;		/* entries kept per ring */

	struct softee_ring_entry *log[KT_MAX_VCPUS];
	uint32_t log_n[KT_MAX_VCPUS];
	uint64_t seen;			/* atomic: entries retired, all rings */
	int ring_err;			/* first peek error */
	int stop;			/* atomic */
	pthread_t thread;
	bool running;
};

/* Start draining rings[0..nr_rings). */
int kt_consumer_start(struct kt_consumer *c, struct softee_ring *rings, uint32_t nr_rings,
		      bool answer, uint32_t err_every, uint32_t log_cap);
/* Stop after the current batch; joins. */
void kt_consumer_stop(struct kt_consumer *c);
void kt_consumer_free(struct kt_consumer *c);
/* Wait until seen >= n or timeout_ms; true if reached. */
bool kt_consumer_wait_seen(struct kt_consumer *c, uint64_t n, unsigned int timeout_ms);

/* Is this read answered with a bad status by a consumer with err_every? */
static inline bool kt_is_err(uint32_t err_every, uint32_t seq)
{
	return err_every && seq % err_every == err_every - 1;
}

/* ---- a micro-VM with a session ---------------------------------------------- */

struct kt_vm {
	struct microvm *vm;
	struct softee_session s;
	bool have_s;
	uint32_t nr_vcpus;
	uint32_t nr_rings;		/* ring i serves vCPU i */
	struct kt_vcpu vc[KT_MAX_VCPUS];
	struct kt_consumer c;
	uint8_t bus;			/* the region's */
	uint64_t base, len;
	uint32_t region;
};

/*
 * A micro-VM with nr_vcpus, a session on it with nr_rings rings (0: one per
 * vCPU) of ring_entries, timeout_us (0 for the defaults), its rings mapped,
 * and one region.  0 or -errno (the libraries print why).
 */
int kt_vm_open(struct kt_vm *m, uint32_t nr_vcpus, uint32_t nr_rings, uint32_t ring_entries,
	       uint32_t timeout_us, uint8_t bus, uint64_t base, uint64_t len,
	       uint32_t region_flags);
/*
 * Undo whatever kt_vm_open and the test did, in an order that cannot
 * hang: the consumer stops, the session closes (which ends every wait on
 * a ring), then the vCPU threads stop and the VM goes.
 */
void kt_vm_close(struct kt_vm *m);

/*
 * The counters of the session, the sum of its rings' and its region's;
 * 0 or -errno.  Each ring's flags into ring_flags[] if not NULL.
 */
int kt_vm_counters(struct kt_vm *m, struct softee_counters *session,
		   struct softee_counters *rings, struct softee_counters *region,
		   uint32_t *ring_flags);

/* ---- misc ------------------------------------------------------------------- */

/* Shared ring words, read once. */
static inline uint32_t kt_ring_prod(const struct softee_ring *r)
{
	return __atomic_load_n(r->prod, __ATOMIC_ACQUIRE);
}

static inline uint32_t kt_ring_flags(const struct softee_ring *r)
{
	return __atomic_load_n(r->flags, __ATOMIC_ACQUIRE);
}

/* Wait until the ring's prod reached n, or timeout_ms; true if it did. */
bool kt_wait_prod(const struct softee_ring *r, uint32_t n, unsigned int timeout_ms);

/*
 * Count the kernel log lines (since boot, as /dev/kmsg keeps them) that
 * contain needle; -errno if the log cannot be read.
 */
int kt_kmsg_count(const char *needle);

/*
 * softee.ko's parameter name (/sys/module/softee/parameters/NAME): set it
 * to v (v < 0: leave it) and return what it was, or -1 if it cannot be
 * read or written.  kt_stall_probe_ms is kt_param("stall_probe_ms", ms).
 */
long kt_param(const char *name, long v);
long kt_stall_probe_ms(long ms);

/* a == b for every counter but the reserved ones. */
bool kt_counters_equal(const struct softee_counters *a, const struct softee_counters *b);
void kt_counters_add(struct softee_counters *to, const struct softee_counters *from);
/* One line of counters on stderr, prefixed. */
void kt_counters_print(const char *what, const struct softee_counters *c);

#endif /* _SELFTESTS_KMOD_UTIL_H */
