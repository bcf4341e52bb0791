// SPDX-License-Identifier: GPL-2.0
/*
 * The split layout (softee/netdev_split.h): a link wrapped by a TX thread
 * and an RX thread, joined to the owner's thread by two single-producer,
 * single-consumer queues of fixed-size slots.
 *
 *	struct spsc: tail  (producer's line) written by the producer with a
 *			   store-release once the slot holds the frame; read by
 *			   the consumer with a load-acquire
 *		     head  (consumer's line) written by the consumer with a
 *			   store-release once it is done with the slot; read
 *			   by the producer with a load-acquire
 *		     slots [mask + 1] of { u32 len; frame }, indices free-running,
 *			   masked only when indexing
 *
 *	tx queue: producer the owner (tx_burst), consumer the TX thread
 *	rx queue: producer the RX thread, consumer the owner (rx_burst)
 *
 * Every counter has one writer and is written and read with relaxed
 * single loads and stores (softee_read_once/softee_write_once), each
 * writer's on its own cache line.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <softee/barrier.h>
#include <softee/netdev_split.h>
#include "netdev_err.h"

#define SPLIT_CACHELINE		64
#define SPLIT_CPU_MAX		1024
#define SPLIT_BURST_MAX		256
#define SPLIT_QUEUE_MAX		65536

struct split_slot {
	uint32_t len;
	uint8_t data[SOFTEE_NETDEV_MAX_FRAME];
};

struct spsc {
	_Alignas(SPLIT_CACHELINE) uint32_t tail;	/* producer: store-release; consumer: load-acquire */
	uint32_t head_seen;				/* the producer's last look at head */
	_Alignas(SPLIT_CACHELINE) uint32_t head;	/* consumer: store-release; producer: load-acquire */
	uint32_t tail_seen;				/* the consumer's last look at tail */
	_Alignas(SPLIT_CACHELINE) uint32_t mask;
	size_t slot_size;
	uint8_t *slots;
};

/* What one I/O thread writes: its counters and the wrapped link's, as it last saw them. */
struct side {
	_Alignas(SPLIT_CACHELINE) uint64_t queued;	/* RX: frames put in the queue */
	uint64_t partial, queue_full, errors, dropped, sleeps;
	int last_err;					/* the -errno of the last error */
	uint64_t frames, bytes, link_dropped, syscalls;	/* the wrapped link's tx_* (rx_*) */
};

/* What the owner's thread writes. */
struct owner {
	_Alignas(SPLIT_CACHELINE) uint64_t tx_queued;
	uint64_t tx_queue_full, tx_dropped;
	uint64_t tx_errors_seen, rx_errors_seen;	/* errors already returned */
};

struct split {
	struct softee_netdev nd;
	struct softee_netdev *inner;
	struct softee_split_conf conf;
	struct spsc txq, rxq;
	struct side tx, rx;
	struct owner own;
	_Alignas(SPLIT_CACHELINE) int stop;		/* owner: store-release; threads: load-acquire */
	struct {
		bool started, lcore;
		unsigned int lcore_id;
		pthread_t th;
	} thr[2];
	struct softee_txframe txv[SPLIT_BURST_MAX];	/* the TX thread's */
};

enum { SPLIT_TX, SPLIT_RX };

static const struct softee_split_lcore_ops *lcore_ops;
static const struct softee_netdev_ops split_ops;

void softee_split_set_lcore_ops(const struct softee_split_lcore_ops *ops)
{
	softee_store_release(&lcore_ops, ops);
}

int softee_lcore_enter(void)
{
	const struct softee_split_lcore_ops *ops = softee_load_acquire(&lcore_ops);

	return ops && ops->enter ? ops->enter() : -1;
}

void softee_lcore_leave(int lcore)
{
	const struct softee_split_lcore_ops *ops = softee_load_acquire(&lcore_ops);

	if (lcore >= 0 && ops && ops->leave)
		ops->leave();
}


/* A counter with one writer: that writer adds, anyone reads. */
static inline void cnt_add(uint64_t *c, uint64_t v)
{
	softee_write_once(c, softee_read_once(c) + v);
}

static inline struct split_slot *slot_at(const struct spsc *q, uint32_t i)
{
	return (struct split_slot *)(q->slots + (size_t)(i & q->mask) * q->slot_size);
}

/* Producer: free slots, looking at head again only when the last look says none. */
static inline uint32_t q_room(struct spsc *q, uint32_t tail)
{
	uint32_t room = q->mask + 1 - (tail - q->head_seen);

	if (!room) {
		/* Pairs with the consumer's store-release of head: the slot is free. */
		q->head_seen = softee_load_acquire(&q->head);
		room = q->mask + 1 - (tail - q->head_seen);
	}
	return room;
}

static int q_init(struct spsc *q, uint32_t frames)
{
	q->mask = frames - 1;
	q->slot_size = (sizeof(struct split_slot) + SPLIT_CACHELINE - 1) & ~(size_t)(SPLIT_CACHELINE - 1);
	q->slots = aligned_alloc(SPLIT_CACHELINE, (size_t)frames * q->slot_size);
	return q->slots ? 0 : -ENOMEM;
}

/* ---- the owner's side: the wrapper's ops ------------------------------------------ */

/* The wrapped link's counters as the I/O threads last saw them, and the wrapper's drops. */
static void refresh_stats(struct split *s)
{
	struct softee_netdev_stats *st = &s->nd.stats;

	st->tx_frames = softee_read_once(&s->tx.frames);
	st->tx_bytes = softee_read_once(&s->tx.bytes);
	st->tx_dropped = softee_read_once(&s->tx.link_dropped) + softee_read_once(&s->tx.dropped) +
			 s->own.tx_dropped;
	st->tx_syscalls = softee_read_once(&s->tx.syscalls);
	st->rx_frames = softee_read_once(&s->rx.frames);
	st->rx_bytes = softee_read_once(&s->rx.bytes);
	st->rx_dropped = softee_read_once(&s->rx.link_dropped) + softee_read_once(&s->rx.dropped);
	st->rx_syscalls = softee_read_once(&s->rx.syscalls);
}

/* An error of an I/O thread not yet returned to the owner: its -errno, once. */
static int new_error(struct side *sd, uint64_t *seen)
{
	uint64_t n = softee_load_acquire(&sd->errors);

	if (n == *seen)
		return 0;
	softee_write_once(seen, n);
	/* Pairs with the thread's store-release of errors, made after last_err. */
	return softee_read_once(&sd->last_err);
}

static int split_tx(struct softee_netdev *nd, const struct softee_txframe *f, unsigned int n)
{
	struct split *s = nd->priv;
	struct spsc *q = &s->txq;
	uint32_t tail = q->tail, room;
	unsigned int i, bad = 0;
	int ret = new_error(&s->tx, &s->own.tx_errors_seen);

	if (ret) {
		refresh_stats(s);
		return ret;
	}
	room = q_room(q, tail);
	for (i = 0; i < n; i++) {
		struct split_slot *sl;

		if (!f[i].len || f[i].len > SOFTEE_NETDEV_MAX_FRAME) {
			bad++;		/* taken and dropped, as a backend does */
			continue;
		}
		if (!room) {
			room = q_room(q, tail);
			if (!room)
				break;
		}
		sl = slot_at(q, tail);
		sl->len = f[i].len;
		memcpy(sl->data, f[i].data, f[i].len);
		tail++;
		room--;
	}
	/* The frames are in their slots: pairs with the TX thread's load-acquire of tail. */
	softee_store_release(&q->tail, tail);
	cnt_add(&s->own.tx_queued, i - bad);
	if (bad)
		cnt_add(&s->own.tx_dropped, bad);
	if (i < n)
		cnt_add(&s->own.tx_queue_full, n - i);
	refresh_stats(s);
	return (int)i;
}

static int split_rx(struct softee_netdev *nd, unsigned int max, uint32_t timeout_us,
		    softee_rx_fn fn, void *opaque)
{
	struct split *s = nd->priv;
	struct spsc *q = &s->rxq;
	uint32_t head = q->head;
	unsigned int n = 0;
	int ret = new_error(&s->rx, &s->own.rx_errors_seen);

	(void)timeout_us;	/* never waits: blocking_rx is false */
	if (ret) {
		refresh_stats(s);
		return ret;
	}
	if (head == q->tail_seen)
		/* Pairs with the RX thread's store-release of tail: the frames are there. */
		q->tail_seen = softee_load_acquire(&q->tail);
	while (n < max && head != q->tail_seen) {
		struct split_slot *sl = slot_at(q, head);

		fn(opaque, sl->data, sl->len);
		head++;
		n++;
		/* Done with the slot: pairs with the RX thread's load-acquire of head. */
		softee_store_release(&q->head, head);
	}
	refresh_stats(s);
	return (int)n;
}

/* ---- the I/O threads ---------------------------------------------------------------- */

static void thread_setup(void)
{
	/* Short sleeps when idle must be short: 1 us of timer slack, not 50. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
}

/* One idle step: start the back-off on the first, count the ones that sleep. */
static void idle_step(struct split *s, struct side *sd, struct softee_waiter *w, bool *idle)
{
	if (!*idle) {
		softee_waiter_start(w, &s->conf.idle, SOFTEE_WAIT_FOREVER);
		*idle = true;
	}
	if (s->conf.idle.mode != SOFTEE_WAIT_SPIN && w->iter >= s->conf.idle.spins)
		cnt_add(&sd->sleeps, 1);
	softee_waiter_step(w);
}

static void side_error(struct side *sd, int err)
{
	softee_write_once(&sd->last_err, err);
	/* last_err first: pairs with the owner's load-acquire of errors. */
	softee_store_release(&sd->errors, softee_read_once(&sd->errors) + 1);
}

static int tx_loop(void *arg)
{
	struct split *s = arg;
	struct spsc *q = &s->txq;
	struct softee_netdev *in = s->inner;
	uint64_t drain_end = 0;
	struct softee_waiter w;
	bool idle = false;

	thread_setup();
	for (;;) {
		/* stop before tail: the owner's last tx_burst came before its close. */
		int stop = softee_load_acquire(&s->stop);
		/* Pairs with the owner's store-release of tail. */
		uint32_t tail = softee_load_acquire(&q->tail), head = q->head;
		uint32_t n = tail - head, i;
		int r;

		if (!n) {
			if (stop)
				break;
			idle_step(s, &s->tx, &w, &idle);
			continue;
		}
		if (stop) {
			if (!drain_end)
				drain_end = softee_now_ns() + SOFTEE_SPLIT_DRAIN_NS;
			else if (softee_now_ns() > drain_end) {
				/* The link takes nothing: say so, do not hang the close. */
				cnt_add(&s->tx.dropped, n);
				softee_store_release(&q->head, tail);
				break;
			}
		}
		if (n > s->conf.burst)
			n = s->conf.burst;
		for (i = 0; i < n; i++) {
			struct split_slot *sl = slot_at(q, head + i);

			s->txv[i].data = sl->data;
			s->txv[i].len = sl->len;
		}
		r = softee_netdev_tx(in, s->txv, n);
		softee_write_once(&s->tx.frames, in->stats.tx_frames);
		softee_write_once(&s->tx.bytes, in->stats.tx_bytes);
		softee_write_once(&s->tx.link_dropped, in->stats.tx_dropped);
		softee_write_once(&s->tx.syscalls, in->stats.tx_syscalls);
		if (r < 0) {
			/* The burst is lost: counted, and the owner hears of it. */
			cnt_add(&s->tx.dropped, n);
			side_error(&s->tx, r);
			r = (int)n;
		} else if (r > (int)n) {
			r = (int)n;
		}
		if (r) {
			/* The link copied them out: the slots are free (owner's load-acquire of head). */
			softee_store_release(&q->head, head + (uint32_t)r);
			idle = false;
		}
		if ((uint32_t)r < n) {
			/* The link is full: retry the rest when it has drained a little. */
			cnt_add(&s->tx.partial, 1);
			if (!r)
				idle_step(s, &s->tx, &w, &idle);
		}
	}
	return 0;
}

/* The RX thread's callback: one frame into the next slot, published at once. */
static void rx_copy(void *opaque, const uint8_t *frame, uint32_t len)
{
	struct split *s = opaque;
	struct spsc *q = &s->rxq;
	struct split_slot *sl;

	if (len > SOFTEE_NETDEV_MAX_FRAME || !q_room(q, q->tail)) {
		cnt_add(&s->rx.dropped, 1);
		return;
	}
	sl = slot_at(q, q->tail);
	sl->len = len;
	memcpy(sl->data, frame, len);
	/* Pairs with the owner's load-acquire of tail. */
	softee_store_release(&q->tail, q->tail + 1);
	cnt_add(&s->rx.queued, 1);
}

static int rx_loop(void *arg)
{
	struct split *s = arg;
	struct spsc *q = &s->rxq;
	struct softee_netdev *in = s->inner;
	uint32_t block_us = in->blocking_rx ? SOFTEE_SPLIT_RX_BLOCK_US : 0;
	struct softee_waiter w;
	bool idle = false, full = false;

	thread_setup();
	while (!softee_load_acquire(&s->stop)) {
		uint32_t room = q_room(q, q->tail);
		int r;

		if (!room) {
			/* The owner is behind: leave the frames in the link's queue. */
			if (!full)
				cnt_add(&s->rx.queue_full, 1);
			full = true;
			idle_step(s, &s->rx, &w, &idle);
			continue;
		}
		full = false;
		r = softee_netdev_rx(in, room < s->conf.burst ? room : s->conf.burst, block_us,
				     rx_copy, s);
		softee_write_once(&s->rx.frames, in->stats.rx_frames);
		softee_write_once(&s->rx.bytes, in->stats.rx_bytes);
		softee_write_once(&s->rx.link_dropped, in->stats.rx_dropped);
		softee_write_once(&s->rx.syscalls, in->stats.rx_syscalls);
		if (r > 0) {
			idle = false;
			continue;
		}
		if (r < 0)
			side_error(&s->rx, r);
		/* A blocking link slept in the kernel already; a polled one backs off. */
		if (!block_us || r < 0)
			idle_step(s, &s->rx, &w, &idle);
	}
	return 0;
}

/* The pthreads, where the EAL has no lcore for a loop: an lcore id all the same. */
static void *tx_thread(void *arg)
{
	int lcore = softee_lcore_enter();

	tx_loop(arg);
	softee_lcore_leave(lcore);
	return NULL;
}

static void *rx_thread(void *arg)
{
	int lcore = softee_lcore_enter();

	rx_loop(arg);
	softee_lcore_leave(lcore);
	return NULL;
}

/* Start one loop: on the lcore of that number if the EAL has it free, else a pthread. */
static int start_loop(struct split *s, int which, char *err, size_t errlen)
{
	const struct softee_split_lcore_ops *ops = softee_load_acquire(&lcore_ops);
	int cpu = which == SPLIT_TX ? s->conf.tx_cpu : s->conf.rx_cpu;
	const char *name = which == SPLIT_TX ? "TX" : "RX";
	pthread_attr_t attr;
	cpu_set_t set;
	int ret;

	if (cpu > 0 && ops &&
	    !ops->launch((unsigned int)(cpu - 1), which == SPLIT_TX ? tx_loop : rx_loop, s)) {
		s->thr[which].lcore = true;
		s->thr[which].lcore_id = (unsigned int)(cpu - 1);
		s->thr[which].started = true;
		return 0;
	}
	ret = pthread_attr_init(&attr);
	if (ret) {
		netdev_seterr(err, errlen, "split: %s thread: pthread_attr_init: %s", name, strerror(ret));
		return -ret;
	}
	if (cpu > 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu - 1, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	ret = pthread_create(&s->thr[which].th, &attr, which == SPLIT_TX ? tx_thread : rx_thread, s);
	pthread_attr_destroy(&attr);
	if (ret) {
		if (cpu > 0)
			netdev_seterr(err, errlen, "split: %s thread on CPU %d: %s%s", name, cpu - 1, strerror(ret),
			       ret == EINVAL ? " (no such CPU, or not ours to use)" : "");
		else
			netdev_seterr(err, errlen, "split: %s thread: %s", name, strerror(ret));
		return -ret;
	}
	s->thr[which].started = true;
	return 0;
}

static void stop_loops(struct split *s)
{
	const struct softee_split_lcore_ops *ops = softee_load_acquire(&lcore_ops);
	int i;

	/* After the owner's last tx_burst: pairs with the threads' load-acquire of stop. */
	softee_store_release(&s->stop, 1);
	for (i = 0; i < 2; i++) {
		if (!s->thr[i].started)
			continue;
		if (s->thr[i].lcore)
			ops->wait(s->thr[i].lcore_id);
		else
			pthread_join(s->thr[i].th, NULL);
		s->thr[i].started = false;
	}
}

static void split_free(struct split *s)
{
	free(s->txq.slots);
	free(s->rxq.slots);
	free(s);
}

static void split_close(struct softee_netdev *nd)
{
	struct split *s = nd->priv;

	stop_loops(s);
	softee_netdev_close(s->inner);
	split_free(s);
}

static const struct softee_netdev_ops split_ops = {
	.name = "split",
	.tx_burst = split_tx,
	.rx_burst = split_rx,
	.close = split_close,
};

int softee_netdev_split(struct softee_netdev *inner, const struct softee_split_conf *conf,
			struct softee_netdev **out, char *err, size_t errlen)
{
	struct softee_split_conf c = conf ? *conf : (struct softee_split_conf){ 0 };
	struct split *s;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!inner || !out) {
		netdev_seterr(err, errlen, "split: no link to wrap");
		return -EINVAL;
	}
	if (!c.queue_frames)
		c.queue_frames = SOFTEE_SPLIT_QUEUE_DEFAULT;
	if (!c.burst)
		c.burst = SOFTEE_SPLIT_BURST_DEFAULT;
	if (!c.idle.spins && !c.idle.sleep_max_ns) {
		c.idle = (struct softee_wait)SOFTEE_WAIT_INIT(SOFTEE_WAIT_SLEEP);
		c.idle.spins = SOFTEE_SPLIT_SPINS_DEFAULT;
		c.idle.sleep_max_ns = SOFTEE_SPLIT_SLEEP_MAX_NS;
	}
	if (c.tx_cpu < 0)
		c.tx_cpu = 0;
	if (c.rx_cpu < 0)
		c.rx_cpu = 0;
	if (c.queue_frames < 2 || c.queue_frames > SPLIT_QUEUE_MAX ||
	    (c.queue_frames & (c.queue_frames - 1))) {
		netdev_seterr(err, errlen, "split: queue_frames %u: a power of two, 2..%u", c.queue_frames,
		       SPLIT_QUEUE_MAX);
		return -EINVAL;
	}
	if (c.burst > SPLIT_BURST_MAX) {
		netdev_seterr(err, errlen, "split: burst %u: at most %u", c.burst, SPLIT_BURST_MAX);
		return -EINVAL;
	}
	if (c.tx_cpu > SPLIT_CPU_MAX || c.rx_cpu > SPLIT_CPU_MAX) {
		netdev_seterr(err, errlen, "split: CPU numbers go up to %d", SPLIT_CPU_MAX - 1);
		return -EINVAL;
	}
	if (c.idle.help) {
		netdev_seterr(err, errlen, "split: the idle wait takes no help function");
		return -EINVAL;
	}
	s = aligned_alloc(SPLIT_CACHELINE, sizeof(*s));
	if (!s) {
		netdev_seterr(err, errlen, "split: out of memory");
		return -ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	s->inner = inner;
	s->conf = c;
	if (q_init(&s->txq, c.queue_frames) || q_init(&s->rxq, c.queue_frames)) {
		netdev_seterr(err, errlen, "split: out of memory for 2 x %u slots of %zu bytes", c.queue_frames,
		       sizeof(struct split_slot));
		split_free(s);
		return -ENOMEM;
	}
	s->nd.ops = &split_ops;
	memcpy(s->nd.mac, inner->mac, SOFTEE_ETH_ALEN);
	s->nd.mtu = inner->mtu;
	s->nd.blocking_rx = false;	/* rx_burst only looks at the queue */
	s->nd.priv = s;
	s->nd.stats = inner->stats;
	s->tx.frames = inner->stats.tx_frames;
	s->tx.bytes = inner->stats.tx_bytes;
	s->tx.link_dropped = inner->stats.tx_dropped;
	s->tx.syscalls = inner->stats.tx_syscalls;
	s->rx.frames = inner->stats.rx_frames;
	s->rx.bytes = inner->stats.rx_bytes;
	s->rx.link_dropped = inner->stats.rx_dropped;
	s->rx.syscalls = inner->stats.rx_syscalls;

	ret = start_loop(s, SPLIT_TX, err, errlen);
	if (!ret)
		ret = start_loop(s, SPLIT_RX, err, errlen);
	if (ret) {
		stop_loops(s);
		split_free(s);
		return ret;
	}
	*out = &s->nd;
	return 0;
}

bool softee_netdev_is_split(const struct softee_netdev *nd)
{
	return nd && nd->ops == &split_ops;
}

int softee_split_get_stats(struct softee_netdev *nd, struct softee_split_stats *st)
{
	struct split *s;

	if (!softee_netdev_is_split(nd))
		return -EINVAL;
	s = nd->priv;
	memset(st, 0, sizeof(*st));
	st->tx_queued = softee_read_once(&s->own.tx_queued);
	st->tx_queue_full = softee_read_once(&s->own.tx_queue_full);
	st->tx_partial = softee_read_once(&s->tx.partial);
	st->tx_errors = softee_read_once(&s->tx.errors);
	st->tx_dropped = softee_read_once(&s->tx.dropped) + softee_read_once(&s->own.tx_dropped);
	st->tx_sleeps = softee_read_once(&s->tx.sleeps);
	st->rx_queued = softee_read_once(&s->rx.queued);
	st->rx_queue_full = softee_read_once(&s->rx.queue_full);
	st->rx_errors = softee_read_once(&s->rx.errors);
	st->rx_dropped = softee_read_once(&s->rx.dropped);
	st->rx_sleeps = softee_read_once(&s->rx.sleeps);
	st->tx_lcore = s->thr[SPLIT_TX].lcore;
	st->rx_lcore = s->thr[SPLIT_RX].lcore;
	st->tx_cpu = s->conf.tx_cpu;
	st->rx_cpu = s->conf.rx_cpu;
	return 0;
}

static int parse_cpu(const char *s, char **end)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, end, 10);
	return v < SPLIT_CPU_MAX ? (int)v : -1;
}

int softee_split_parse(const char *s, bool *split, struct softee_split_conf *conf,
		       char *err, size_t errlen)
{
	const char *want = "rtc, split or split:TXCPU,RXCPU";
	char *end;
	int tx, rx;

	if (!strcmp(s, "rtc")) {
		*split = false;
		return 0;
	}
	if (!strcmp(s, "split")) {
		*split = true;
		conf->tx_cpu = conf->rx_cpu = 0;
		return 0;
	}
	if (strncmp(s, "split:", 6)) {
		netdev_seterr(err, errlen, "'%s': want %s", s, want);
		return -EINVAL;
	}
	tx = parse_cpu(s + 6, &end);
	if (tx < 0 || *end != ',') {
		netdev_seterr(err, errlen, "'%s': want %s (CPU numbers 0..%d)", s, want, SPLIT_CPU_MAX - 1);
		return -EINVAL;
	}
	rx = parse_cpu(end + 1, &end);
	if (rx < 0 || *end) {
		netdev_seterr(err, errlen, "'%s': want %s (CPU numbers 0..%d)", s, want, SPLIT_CPU_MAX - 1);
		return -EINVAL;
	}
	*split = true;
	conf->tx_cpu = tx + 1;
	conf->rx_cpu = rx + 1;
	return 0;
}
