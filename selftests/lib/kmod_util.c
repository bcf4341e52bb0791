// SPDX-License-Identifier: GPL-2.0
/* Host-side helpers of the module's micro-VM selftests (see kmod_util.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <softee/barrier.h>

#include "kmod_util.h"

uint64_t kt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void kt_deadline(struct timespec *ts, unsigned int timeout_ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* ---- vCPU threads ----------------------------------------------------------- */

static void *kt_vcpu_main(struct microvm_vcpu *v, void *arg)
{
	struct kt_vcpu *kv = arg;
	struct microvm_ucall uc;
	uint64_t stage;
	int ret;

	for (;;) {
		ret = microvm_vcpu_run(v, &uc);
		if (ret == MICROVM_UCALL_PRINT) {
			microvm_ucall_print(v, &uc, "# ", stderr);
			continue;
		}
		if (ret != MICROVM_UCALL_SYNC)
			break;
		stage = uc.args[0];
		pthread_mutex_lock(&kv->lock);
		kv->stage = stage;
		kv->arg = uc.args[1];
		if (stage < KT_MAX_STAGES) {
			kv->t_stage[stage] = kt_now_ns();
			kv->arg_stage[stage] = uc.args[1];
		}
		pthread_cond_broadcast(&kv->cond);
		while (!kv->auto_resume && kv->released < stage)
			pthread_cond_wait(&kv->cond, &kv->lock);
		pthread_mutex_unlock(&kv->lock);
	}
	if (ret == MICROVM_UCALL_ABORT || ret == MICROVM_UCALL_EXCEPTION)
		microvm_ucall_print(v, &uc, "# ", stderr);
	pthread_mutex_lock(&kv->lock);
	kv->done = true;
	kv->result = ret;
	kv->t_done = kt_now_ns();
	pthread_cond_broadcast(&kv->cond);
	pthread_mutex_unlock(&kv->lock);
	return NULL;
}

int kt_vcpu_start(struct kt_vcpu *kv, struct microvm_vcpu *v, const void *fn,
		  unsigned int nargs, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	bool auto_resume = kv->auto_resume;
	int ret;

	memset(kv, 0, sizeof(*kv));
	kv->auto_resume = auto_resume;
	kv->v = v;
	pthread_mutex_init(&kv->lock, NULL);
	pthread_cond_init(&kv->cond, NULL);
	if (nargs > 4)
		return -EINVAL;
	ret = microvm_vcpu_set_entry(v, fn, nargs, a0, a1, a2, a3);
	if (ret)
		return ret;
	ret = microvm_vcpu_start(v, kt_vcpu_main, kv);
	if (ret)
		return ret;
	kv->started = true;
	return 0;
}

bool kt_vcpu_wait_stage(struct kt_vcpu *kv, uint64_t stage, unsigned int timeout_ms)
{
	struct timespec ts;
	bool ok;

	kt_deadline(&ts, timeout_ms);
	pthread_mutex_lock(&kv->lock);
	while (kv->stage < stage && !kv->done)
		if (pthread_cond_timedwait(&kv->cond, &kv->lock, &ts) == ETIMEDOUT)
			break;
	ok = kv->stage >= stage;
	pthread_mutex_unlock(&kv->lock);
	return ok;
}

void kt_vcpu_release(struct kt_vcpu *kv, uint64_t stage)
{
	pthread_mutex_lock(&kv->lock);
	if (kv->released < stage)
		kv->released = stage;
	pthread_cond_broadcast(&kv->cond);
	pthread_mutex_unlock(&kv->lock);
}

bool kt_vcpu_wait_done(struct kt_vcpu *kv, unsigned int timeout_ms)
{
	struct timespec ts;
	bool done;

	kt_deadline(&ts, timeout_ms);
	pthread_mutex_lock(&kv->lock);
	while (!kv->done)
		if (pthread_cond_timedwait(&kv->cond, &kv->lock, &ts) == ETIMEDOUT)
			break;
	done = kv->done;
	pthread_mutex_unlock(&kv->lock);
	return done;
}

void kt_vcpu_join(struct kt_vcpu *kv)
{
	if (!kv->started)
		return;
	microvm_vcpu_join(kv->v);
	kv->started = false;
}

void kt_vcpu_stop(struct kt_vcpu *kv)
{
	if (!kv->started)
		return;
	pthread_mutex_lock(&kv->lock);
	kv->auto_resume = true;		/* a thread parked at a SYNC goes on... */
	pthread_cond_broadcast(&kv->cond);
	pthread_mutex_unlock(&kv->lock);
	/* ...and a guest in KVM_RUN comes out, now and at every later entry. */
	while (!kt_vcpu_wait_done(kv, 20))
		microvm_vcpu_kick(kv->v);
	kt_vcpu_join(kv);
}

/* ---- the consumer ----------------------------------------------------------- */

static void *kt_consumer_main(void *arg)
{
	struct kt_consumer *c = arg;
	struct softee_wait cfg = SOFTEE_WAIT_INIT(SOFTEE_WAIT_YIELD);
	struct softee_waiter w;
	bool waiting = false;
	uint32_t i, k;
	int n, busy;

	cfg.spins = 64;
	while (!softee_load_acquire(&c->stop)) {
		busy = 0;
		for (i = 0; i < c->nr_rings; i++) {
			struct softee_ring *r = &c->rings[i];

			n = softee_ring_peek(r);
			if (n < 0) {
				if (!c->ring_err)
					c->ring_err = n;
				continue;
			}
			for (k = 0; k < (uint32_t)n; k++) {
				struct softee_ring_entry *e = softee_ring_entry(r, k);

				if (c->answer && e->op == SOFTEE_OP_READ)
					softee_ring_complete(e, kt_answer(e->vcpu, e->addr, e->seq),
							     kt_is_err(c->err_every, e->seq) ? 1 : 0);
				if (c->log[i] && c->log_n[i] < c->log_cap)
					c->log[i][c->log_n[i]++] = *e;
			}
			softee_ring_consume(r, (uint32_t)n);
			softee_fetch_add(&c->seen, (uint64_t)n);
			busy += n;
		}
		if (busy) {
			waiting = false;
			continue;
		}
		if (!waiting) {
			softee_waiter_start(&w, &cfg, SOFTEE_WAIT_FOREVER);
			waiting = true;
		}
		softee_waiter_step(&w);
	}
	return NULL;
}

int kt_consumer_start(struct kt_consumer *c, struct softee_ring *rings, uint32_t nr_rings,
		      bool answer, uint32_t err_every, uint32_t log_cap)
{
	uint32_t i;
	int ret;

	if (nr_rings > KT_MAX_VCPUS)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->rings = rings;
	c->nr_rings = nr_rings;
	c->answer = answer;
	c->err_every = err_every;
	c->log_cap = log_cap;
	for (i = 0; log_cap && i < nr_rings; i++) {
		c->log[i] = calloc(log_cap, sizeof(*c->log[i]));
		if (!c->log[i])
			return -ENOMEM;
	}
	ret = pthread_create(&c->thread, NULL, kt_consumer_main, c);
	if (ret)
		return -ret;
	c->running = true;
	return 0;
}

void kt_consumer_stop(struct kt_consumer *c)
{
	if (!c->running)
		return;
	softee_store_release(&c->stop, 1);
	pthread_join(c->thread, NULL);
	c->running = false;
}

void kt_consumer_free(struct kt_consumer *c)
{
	uint32_t i;

	kt_consumer_stop(c);
	for (i = 0; i < KT_MAX_VCPUS; i++) {
		free(c->log[i]);
		c->log[i] = NULL;
	}
}

bool kt_consumer_wait_seen(struct kt_consumer *c, uint64_t n, unsigned int timeout_ms)
{
	uint64_t end = kt_now_ns() + (uint64_t)timeout_ms * 1000000ULL;

	while (softee_load_acquire(&c->seen) < n) {
		if (kt_now_ns() >= end)
			return false;
		usleep(1000);
	}
	return true;
}

/* ---- a micro-VM with a session ---------------------------------------------- */

int kt_vm_open(struct kt_vm *m, uint32_t nr_vcpus, uint32_t nr_rings, uint32_t ring_entries,
	       uint32_t timeout_us, uint8_t bus, uint64_t base, uint64_t len,
	       uint32_t region_flags)
{
	struct microvm_config cfg = { .nr_vcpus = nr_vcpus };
	int ret;

	if (nr_vcpus > KT_MAX_VCPUS)
		return -EINVAL;
	m->nr_vcpus = nr_vcpus;
	m->nr_rings = nr_rings ? nr_rings : nr_vcpus;
	m->bus = bus;
	m->base = base;
	m->len = len;
	m->vm = microvm_create(&cfg);
	if (!m->vm)
		return -ENODEV;
	ret = softee_session_open(&m->s, microvm_vm_fd(m->vm), m->nr_rings, ring_entries,
				  timeout_us, SOFTEE_ATTACH_F_TIMESTAMPS);
	if (ret)
		return ret;
	m->have_s = true;
	return softee_region_add(m->s.fd, bus, base, len, region_flags, &m->region);
}

void kt_vm_close(struct kt_vm *m)
{
	uint32_t i;

	kt_consumer_free(&m->c);
	if (m->have_s)
		softee_session_close(&m->s);
	m->have_s = false;
	for (i = 0; i < KT_MAX_VCPUS; i++)
		kt_vcpu_stop(&m->vc[i]);
	microvm_destroy(m->vm);
	m->vm = NULL;
}

int kt_vm_counters(struct kt_vm *m, struct softee_counters *session,
		   struct softee_counters *rings, struct softee_counters *region,
		   uint32_t *ring_flags)
{
	struct softee_stats st;
	uint32_t i;
	int ret;

	ret = softee_get_stats(m->s.fd, SOFTEE_STATS_SESSION, 0, &st);
	if (ret)
		return ret;
	*session = st.c;
	memset(rings, 0, sizeof(*rings));
	for (i = 0; i < m->nr_rings; i++) {
		ret = softee_get_stats(m->s.fd, SOFTEE_STATS_RING, i, &st);
		if (ret)
			return ret;
		kt_counters_add(rings, &st.c);
		if (ring_flags)
			ring_flags[i] = st.ring_flags;
	}
	ret = softee_get_stats(m->s.fd, SOFTEE_STATS_REGION, m->region, &st);
	if (ret)
		return ret;
	*region = st.c;
	return 0;
}

/* ---- misc ------------------------------------------------------------------- */

bool kt_wait_prod(const struct softee_ring *r, uint32_t n, unsigned int timeout_ms)
{
	uint64_t end = kt_now_ns() + (uint64_t)timeout_ms * 1000000ULL;

	while ((int32_t)(kt_ring_prod(r) - n) < 0) {
		if (kt_now_ns() >= end)
			return false;
		usleep(200);
	}
	return true;
}

int kt_kmsg_count(const char *needle)
{
	char buf[8192];
	int fd, count = 0;
	ssize_t n;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten records: go on */
			continue;
		if (n <= 0)
			break;
		buf[n] = 0;
		if (strstr(buf, needle))
			count++;
	}
	close(fd);
	return count;
}

long kt_param(const char *name, long v)
{
	char path[128], buf[32] = "";
	long was = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/softee/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		was = strtol(buf, NULL, 10);
	fclose(f);
	if (was < 0 || v < 0)
		return was;
	f = fopen(path, "w");
	if (!f)
		return -1;
	if (fprintf(f, "%ld", v) < 0)
		was = -1;
	if (fclose(f))
		was = -1;
	return was;
}

long kt_stall_probe_ms(long ms)
{
	return kt_param("stall_probe_ms", ms);
}

#define KT_NR_COUNTERS (offsetof(struct softee_counters, __reserved) / sizeof(uint64_t))

bool kt_counters_equal(const struct softee_counters *a, const struct softee_counters *b)
{
	return !memcmp(a, b, KT_NR_COUNTERS * sizeof(uint64_t));
}

void kt_counters_add(struct softee_counters *to, const struct softee_counters *from)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *f = (const uint64_t *)from;
	size_t i;

	for (i = 0; i < KT_NR_COUNTERS; i++)
		t[i] += f[i];
}

void kt_counters_print(const char *what, const struct softee_counters *c)
{
	fprintf(stderr, "# %s: writes=%" PRIu64 " reads=%" PRIu64 " write_bytes=%" PRIu64
		" read_bytes=%" PRIu64 " completions=%" PRIu64 " errors=%" PRIu64
		" timeouts=%" PRIu64 " ring_full=%" PRIu64 " drops=%" PRIu64
		" corrupt=%" PRIu64 " aborted=%" PRIu64 " no_ring=%" PRIu64
		" stalled=%" PRIu64 "\n", what,
		(uint64_t)c->writes, (uint64_t)c->reads, (uint64_t)c->write_bytes,
		(uint64_t)c->read_bytes, (uint64_t)c->completions, (uint64_t)c->errors,
		(uint64_t)c->timeouts, (uint64_t)c->ring_full, (uint64_t)c->drops,
		(uint64_t)c->corrupt, (uint64_t)c->aborted, (uint64_t)c->no_ring,
		(uint64_t)c->stalled);
}
