// SPDX-License-Identifier: GPL-2.0
/*
 * The fault injector (softee/fault.h).  Held frames (reordered, delayed)
 * are copies in a small pool, released in the order they fall due.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <softee/args.h>
#include <softee/fault.h>
#include <softee/prng.h>

#define FAULT_OUT_BATCH		64
#define FAULT_DELAY_MAX_US	10000000u	/* 10 s: the ns fit with room */

struct held {
	bool used;
	uint64_t seq;			/* order of holding, for "the oldest" */
	uint64_t due_ns;		/* release at this time ... */
	uint64_t after;			/* ... or once this many frames were sent (reorder) */
	uint32_t len;
	uint8_t *data;
};

struct fault {
	struct softee_netdev nd;
	struct softee_netdev *inner;
	struct softee_fault_cfg cfg;
	struct softee_prng rng;
	struct softee_fault_stats stats;
	uint64_t sent;			/* frames passed to inner: the reorder clock */
	uint64_t hold_seq;
	uint32_t nheld;
	struct held *held;
	uint8_t *scratch;		/* corrupted copies, FAULT_OUT_BATCH of them */
	struct softee_txframe out[FAULT_OUT_BATCH];
	unsigned int nout;
	unsigned int ncopies;
};

static uint64_t fault_now(const struct fault *f)
{
	struct timespec ts;

	if (f->cfg.clock)
		return *f->cfg.clock;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void out_flush(struct fault *f)
{
	int ret;

	if (!f->nout)
		return;
	ret = softee_netdev_tx(f->inner, f->out, f->nout);
	if (ret < 0)
		ret = 0;
	if ((unsigned int)ret < f->nout)
		f->stats.inner_refused += f->nout - ret;
	f->sent += f->nout;
	f->nout = 0;
	f->ncopies = 0;
}

/* Queue one frame for inner; data must stay valid until out_flush. */
static void out_add(struct fault *f, const uint8_t *data, uint32_t len)
{
	if (f->nout == FAULT_OUT_BATCH)
		out_flush(f);
	f->out[f->nout].data = data;
	f->out[f->nout].len = len;
	f->nout++;
}

/*
 * A scratch copy for the frame out_add queues next.  Flush first when
 * either is full: a flush in that out_add would free the slots while the
 * frame still points at one.
 */
static uint8_t *copy_slot(struct fault *f)
{
	if (f->ncopies == FAULT_OUT_BATCH || f->nout == FAULT_OUT_BATCH)
		out_flush(f);
	return f->scratch + (size_t)f->ncopies++ * SOFTEE_NETDEV_MAX_FRAME;
}

static void corrupt(struct fault *f, uint8_t *p, uint32_t len)
{
	uint32_t k = 1, i, bit;

	if (f->cfg.corrupt_bits_max > 1)
		k += softee_prng_below(&f->rng, f->cfg.corrupt_bits_max);
	for (i = 0; i < k; i++) {
		bit = softee_prng_below(&f->rng, len * 8);
		p[bit / 8] ^= 1 << (bit % 8);
	}
}

static void release(struct fault *f, struct held *h)
{
	uint8_t *c = copy_slot(f);

	memcpy(c, h->data, h->len);
	h->used = false;
	f->nheld--;
	f->stats.released++;
	out_add(f, c, h->len);
}

/* Send the held frames that are due, oldest first.  all: every one. */
static void release_due(struct fault *f, uint64_t now, bool all)
{
	uint32_t i;
	struct held *best;

	while (f->nheld) {
		best = NULL;
		for (i = 0; i < f->cfg.max_held; i++) {
			struct held *h = &f->held[i];

			if (!h->used)
				continue;
			if (!all && h->due_ns > now && f->sent + f->nout < h->after)
				continue;
			if (!best || h->seq < best->seq)
				best = h;
		}
		if (!best)
			return;
		release(f, best);
	}
}

static void hold(struct fault *f, const uint8_t *data, uint32_t len, uint64_t due, uint64_t after)
{
	struct held *h = NULL, *old = NULL;
	uint32_t i;

	for (i = 0; i < f->cfg.max_held; i++) {
		if (!f->held[i].used) {
			h = &f->held[i];
			break;
		}
		if (!old || f->held[i].seq < old->seq)
			old = &f->held[i];
	}
	if (!h) {
		release(f, old);
		h = old;
	}
	h->used = true;
	f->nheld++;
	h->seq = f->hold_seq++;
	h->due_ns = due;
	h->after = after;
	h->len = len;
	memcpy(h->data, data, len);
}

static int fault_tx(struct softee_netdev *nd, const struct softee_txframe *fr, unsigned int n)
{
	struct fault *f = nd->priv;
	uint64_t now = fault_now(f);
	unsigned int i, copies, c;

	release_due(f, now, false);
	for (i = 0; i < n; i++) {
		const uint8_t *d = fr[i].data;
		uint32_t len = fr[i].len;

		f->stats.frames++;
		nd->stats.tx_frames++;
		nd->stats.tx_bytes += len;
		if (!len || len > SOFTEE_NETDEV_MAX_FRAME) {
			nd->stats.tx_dropped++;
			continue;
		}
		if (softee_prng_ppm(&f->rng, f->cfg.drop_ppm)) {
			f->stats.dropped++;
			continue;
		}
		copies = 1;
		if (softee_prng_ppm(&f->rng, f->cfg.dup_ppm)) {
			f->stats.duplicated++;
			copies = 2;
		}
		for (c = 0; c < copies; c++) {
			const uint8_t *p = d;

			if (c == 0 && softee_prng_ppm(&f->rng, f->cfg.corrupt_ppm)) {
				uint8_t *cp = copy_slot(f);

				memcpy(cp, d, len);
				corrupt(f, cp, len);
				f->stats.corrupted++;
				p = cp;
			}
			if (softee_prng_ppm(&f->rng, f->cfg.reorder_ppm)) {
				f->stats.reordered++;
				hold(f, p, len, now + f->cfg.reorder_hold_ns,
				     f->sent + f->nout + 1 + softee_prng_below(&f->rng, f->cfg.reorder_max));
				continue;
			}
			if (softee_prng_ppm(&f->rng, f->cfg.delay_ppm)) {
				uint64_t span = f->cfg.delay_max_ns - f->cfg.delay_min_ns;

				f->stats.delayed++;
				hold(f, p, len, now + f->cfg.delay_min_ns +
				     (span ? softee_prng_next(&f->rng) % (span + 1) : 0), UINT64_MAX);
				continue;
			}
			out_add(f, p, len);
		}
		release_due(f, now, false);
	}
	out_flush(f);
	return n;
}

static int fault_rx(struct softee_netdev *nd, unsigned int max, uint32_t timeout_us,
		    softee_rx_fn fn, void *opaque)
{
	struct fault *f = nd->priv;
	int ret;

	release_due(f, fault_now(f), false);
	out_flush(f);
	ret = softee_netdev_rx(f->inner, max, timeout_us, fn, opaque);
	if (ret > 0)
		nd->stats.rx_frames += ret;
	return ret;
}

static void fault_close(struct softee_netdev *nd)
{
	struct fault *f = nd->priv;
	uint32_t i;

	for (i = 0; f->held && i < f->cfg.max_held; i++)
		free(f->held[i].data);
	free(f->held);
	free(f->scratch);
	free(f);
}

static const struct softee_netdev_ops fault_ops = {
	.name = "fault",
	.tx_burst = fault_tx,
	.rx_burst = fault_rx,
	.close = fault_close,
};

static int check_cfg(struct softee_fault_cfg *c)
{
	if (!c->corrupt_bits_max)
		c->corrupt_bits_max = 1;
	if (!c->reorder_max)
		c->reorder_max = 4;
	if (!c->reorder_hold_ns)
		c->reorder_hold_ns = 1000000;
	if (c->drop_ppm > 1000000 || c->dup_ppm > 1000000 || c->corrupt_ppm > 1000000 ||
	    c->reorder_ppm > 1000000 || c->delay_ppm > 1000000 ||
	    c->delay_min_ns > c->delay_max_ns || c->corrupt_bits_max > 64)
		return -EINVAL;
	return 0;
}

int softee_fault_create(struct softee_netdev **nd, struct softee_netdev *inner,
			const struct softee_fault_cfg *cfg)
{
	struct softee_fault_cfg c = cfg ? *cfg : (struct softee_fault_cfg){ 0 };
	struct fault *f;
	uint32_t i;
	int ret;

	if (!inner)
		return -EINVAL;
	if (!c.max_held)
		c.max_held = 256;
	ret = check_cfg(&c);
	if (ret)
		return ret;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->cfg = c;
	f->inner = inner;
	softee_prng_seed(&f->rng, c.seed);
	f->held = calloc(c.max_held, sizeof(*f->held));
	f->scratch = malloc((size_t)FAULT_OUT_BATCH * SOFTEE_NETDEV_MAX_FRAME);
	if (!f->held || !f->scratch)
		goto err_free;
	for (i = 0; i < c.max_held; i++) {
		f->held[i].data = malloc(SOFTEE_NETDEV_MAX_FRAME);
		if (!f->held[i].data)
			goto err_free;
	}
	f->nd.ops = &fault_ops;
	memcpy(f->nd.mac, inner->mac, SOFTEE_ETH_ALEN);
	f->nd.mtu = inner->mtu;
	f->nd.blocking_rx = inner->blocking_rx;
	f->nd.tx_burst_syscall = inner->tx_burst_syscall;
	f->nd.priv = f;
	*nd = &f->nd;
	return 0;

err_free:
	fault_close(&f->nd);
	return -ENOMEM;
}

int softee_fault_set(struct softee_netdev *nd, const struct softee_fault_cfg *cfg)
{
	struct fault *f = nd->priv;
	struct softee_fault_cfg c = *cfg;
	int ret;

	c.seed = f->cfg.seed;
	c.clock = f->cfg.clock;
	c.max_held = f->cfg.max_held;
	ret = check_cfg(&c);
	if (ret)
		return ret;
	f->cfg = c;
	return 0;
}

const struct softee_fault_stats *softee_fault_stats(const struct softee_netdev *nd)
{
	const struct fault *f = nd->priv;

	return &f->stats;
}

void softee_fault_flush(struct softee_netdev *nd)
{
	struct fault *f = nd->priv;

	release_due(f, 0, true);
	out_flush(f);
}

int softee_fault_parse(const char *spec, struct softee_fault_cfg *fc, char *err, size_t errlen)
{
	char *copy = strdup(spec), *tok, *save = NULL;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), *end;
		uint64_t a, b;
		uint32_t *ppm;

		if (!eq) {
			snprintf(err, errlen, "'%s' is not key=value", tok);
			goto bad;
		}
		*eq++ = '\0';
		if (!strcmp(tok, "delay_us")) {
			if (softee_parse_u64(eq, &end, FAULT_DELAY_MAX_US, &a) && *end == '-' &&
			    softee_parse_u64(end + 1, &end, FAULT_DELAY_MAX_US, &b) && !*end && b >= a) {
				fc->delay_min_ns = a * 1000;
				fc->delay_max_ns = b * 1000;
				continue;
			}
			snprintf(err, errlen, "delay_us wants MIN-MAX microseconds, MIN <= MAX <= %u, not '%s'",
				 FAULT_DELAY_MAX_US, eq);
			goto bad;
		}
		if (!strcmp(tok, "drop"))
			ppm = &fc->drop_ppm;
		else if (!strcmp(tok, "dup"))
			ppm = &fc->dup_ppm;
		else if (!strcmp(tok, "corrupt"))
			ppm = &fc->corrupt_ppm;
		else if (!strcmp(tok, "reorder"))
			ppm = &fc->reorder_ppm;
		else if (!strcmp(tok, "delay"))
			ppm = &fc->delay_ppm;
		else {
			snprintf(err, errlen, "unknown fault '%s' (drop, dup, corrupt, reorder, delay, delay_us)",
				 tok);
			goto bad;
		}
		if (!softee_parse_u64(eq, &end, 1000000, &a) || *end) {
			snprintf(err, errlen, "%s wants parts per million, 0..1000000, not '%s'", tok, eq);
			goto bad;
		}
		*ppm = (uint32_t)a;
		continue;
bad:
		ret = -EINVAL;
		break;
	}
	free(copy);
	return ret;
}
