// SPDX-License-Identifier: GPL-2.0
/*
 * Delay-based rate control and pacing (softee/ratectl.h).
 */
#include <errno.h>
#include <string.h>

#include <softee/ratectl.h>

#define DEF(x, d)	((x) ? (x) : (d))

int softee_ratectl_init(struct softee_ratectl *rc, const struct softee_ratectl_cfg *cfg,
			uint64_t now_ns)
{
	struct softee_ratectl_cfg c = cfg ? *cfg : (struct softee_ratectl_cfg){ 0 };

	c.rate_max_Bps = DEF(c.rate_max_Bps, SOFTEE_RATECTL_DEF_MAX_BPS);
	c.rate_min_Bps = DEF(c.rate_min_Bps, SOFTEE_RATECTL_DEF_MIN_BPS);
	c.rate_init_Bps = DEF(c.rate_init_Bps, c.rate_max_Bps);
	c.ai_step_Bps = DEF(c.ai_step_Bps, c.rate_max_Bps / 64 ? c.rate_max_Bps / 64 : 1);
	if (!c.md_num && !c.md_den) {
		c.md_num = 1;
		c.md_den = 2;
	}
	c.target_delay_ns = DEF(c.target_delay_ns, SOFTEE_RATECTL_DEF_TARGET_NS);
	c.interval_ns = DEF(c.interval_ns, SOFTEE_RATECTL_DEF_INTERVAL_NS);
	c.ewma_shift = DEF(c.ewma_shift, 3);
	c.min_rtt_window_ns = DEF(c.min_rtt_window_ns, SOFTEE_RATECTL_DEF_MIN_WIN_NS);
	c.bucket_bytes = DEF(c.bucket_bytes, SOFTEE_RATECTL_DEF_BUCKET);
	if (c.rate_min_Bps > c.rate_max_Bps || c.rate_init_Bps < c.rate_min_Bps ||
	    c.rate_init_Bps > c.rate_max_Bps || !c.md_den || c.md_num >= c.md_den ||
	    c.ewma_shift > 16 || c.bucket_bytes > INT64_MAX / 2 || c.md_den > 1000000 ||
	    c.target_delay_ns > 1000000000000ULL)
		return -EINVAL;

	memset(rc, 0, sizeof(*rc));
	rc->cfg = c;
	rc->rate_Bps = c.rate_init_Bps;
	rc->min_rtt_ns = UINT64_MAX;
	rc->period_min_ns = UINT64_MAX;
	rc->tokens = c.bucket_bytes;
	rc->last_fill = now_ns;
	rc->last_adjust = now_ns;
	return 0;
}

/* The rate was just looked at: what follows is measured afresh. */
static void new_period(struct softee_ratectl *rc, uint64_t now_ns)
{
	rc->last_adjust = now_ns;
	rc->period_min_ns = UINT64_MAX;
	rc->period_bytes = rc->stats.sent_bytes;
	rc->period_held = rc->stats.paced + rc->stats.blocked;
}

/*
 * Was the sender limited since the rate was last looked at?  A frame waited for
 * tokens, the window or the link held frames back, or the bytes sent reach
 * half of what the rate allowed.  If not, it sent what it had: the
 * application, not the rate, set its pace.
 */
static bool rate_limited(const struct softee_ratectl *rc, uint64_t now_ns)
{
	unsigned __int128 sent = rc->stats.sent_bytes - rc->period_bytes;

	if (rc->stats.paced + rc->stats.blocked != rc->period_held)
		return true;
	return sent * 2000000000ULL >= (unsigned __int128)rc->rate_Bps * (now_ns - rc->last_adjust);
}

/* The least time between two rate changes: an interval, or an RTT if longer. */
static uint64_t adjust_gap(const struct softee_ratectl *rc)
{
	return rc->srtt_ns > rc->cfg.interval_ns ? rc->srtt_ns : rc->cfg.interval_ns;
}

/*
 * Multiply the rate by f = 1 - (1 - md) * (qdelay - target) / qdelay: the
 * share of the delay that is over the target decides how hard to cut, as
 * Swift does.  Just over the target the cut is gentle; far over it, it
 * approaches md (1/2 by default).  A timeout cuts by md.
 */
static void decrease(struct softee_ratectl *rc, uint64_t qdelay_ns, uint64_t now_ns)
{
	uint64_t num = rc->cfg.md_num, den = rc->cfg.md_den, t = rc->cfg.target_delay_ns;
	unsigned __int128 r;

	if (qdelay_ns != UINT64_MAX && qdelay_ns > t) {
		/* f = (den*q - (den-num)*(q-t)) / (den*q) */
		r = (unsigned __int128)rc->rate_Bps *
		    ((unsigned __int128)den * qdelay_ns - (unsigned __int128)(den - num) * (qdelay_ns - t)) /
		    ((unsigned __int128)den * qdelay_ns);
	} else {
		r = (unsigned __int128)rc->rate_Bps * num / den;
	}
	rc->rate_Bps = r < rc->cfg.rate_min_Bps ? rc->cfg.rate_min_Bps : (uint64_t)r;
	new_period(rc, now_ns);
	rc->stats.decreases++;
}

/*
 * A delay over the target, or a timeout (qdelay_ns UINT64_MAX): cut, if the
 * sender was limited; else keep the rate and count the period.  True if cut.
 */
static bool cut_if_limited(struct softee_ratectl *rc, uint64_t qdelay_ns, uint64_t now_ns)
{
	if (!rate_limited(rc, now_ns)) {
		rc->stats.app_limited++;
		new_period(rc, now_ns);
		return false;
	}
	decrease(rc, qdelay_ns, now_ns);
	return true;
}

uint64_t softee_ratectl_queue_delay(const struct softee_ratectl *rc)
{
	if (!rc->srtt_ns || rc->min_rtt_ns == UINT64_MAX || rc->srtt_ns <= rc->min_rtt_ns)
		return 0;
	return rc->srtt_ns - rc->min_rtt_ns;
}

void softee_ratectl_rtt_sample(struct softee_ratectl *rc, uint64_t rtt_ns, uint64_t now_ns)
{
	uint32_t sh = rc->cfg.ewma_shift;
	uint64_t qdelay;

	rc->stats.samples++;
	rc->last_rtt_ns = rtt_ns;
	if (rtt_ns < rc->min_rtt_ns || now_ns - rc->min_rtt_stamp > rc->cfg.min_rtt_window_ns) {
		rc->min_rtt_ns = rtt_ns;
		rc->min_rtt_stamp = now_ns;
	}
	if (!rc->srtt_ns)
		rc->srtt_ns = rtt_ns ? rtt_ns : 1;
	else
		rc->srtt_ns = rc->srtt_ns - (rc->srtt_ns >> sh) + (rtt_ns >> sh);
	if (rtt_ns < rc->period_min_ns)
		rc->period_min_ns = rtt_ns;

	if (now_ns - rc->last_adjust < adjust_gap(rc))
		return;
	qdelay = rc->period_min_ns > rc->min_rtt_ns ? rc->period_min_ns - rc->min_rtt_ns : 0;
	if (qdelay <= rc->cfg.target_delay_ns) {
		if (rc->rate_Bps < rc->cfg.rate_max_Bps) {
			rc->rate_Bps += rc->cfg.ai_step_Bps;
			if (rc->rate_Bps > rc->cfg.rate_max_Bps)
				rc->rate_Bps = rc->cfg.rate_max_Bps;
			rc->stats.increases++;
		}
		new_period(rc, now_ns);
	} else {
		cut_if_limited(rc, qdelay, now_ns);
	}
}

/*
 * A timeout from a sender that was limited: it may have overrun a queue,
 * cut by md.  From one that was not, the loss came from elsewhere (a
 * corrupt frame, a peer off its core), and a cut would only land on a
 * rate it does not use -- where, with the delay high for the same
 * reason, nothing would raise it again.
 */
void softee_ratectl_timeout(struct softee_ratectl *rc, uint64_t now_ns)
{
	if (now_ns - rc->last_adjust < adjust_gap(rc))
		return;
	if (cut_if_limited(rc, UINT64_MAX, now_ns))
		rc->stats.timeouts++;
}

static void fill(struct softee_ratectl *rc, uint64_t now_ns)
{
	unsigned __int128 credit;
	uint64_t dt, add;

	if (now_ns <= rc->last_fill)
		return;
	dt = now_ns - rc->last_fill;
	rc->last_fill = now_ns;
	if (dt > 10000000000ULL) {
		rc->tokens = rc->cfg.bucket_bytes;
		rc->frac = 0;
		return;
	}
	/* bytes = dt * rate / 1e9, the remainder carried to the next fill */
	credit = (unsigned __int128)dt * rc->rate_Bps + rc->frac;
	add = (uint64_t)(credit / 1000000000ULL);
	rc->frac = (uint64_t)(credit % 1000000000ULL);
	if (add >= rc->cfg.bucket_bytes || rc->tokens + (int64_t)add >= (int64_t)rc->cfg.bucket_bytes) {
		rc->tokens = rc->cfg.bucket_bytes;
		rc->frac = 0;
	} else {
		rc->tokens += add;
	}
}

bool softee_ratectl_may_send(struct softee_ratectl *rc, uint32_t wire_bytes, uint64_t now_ns)
{
	(void)wire_bytes;
	if (rc->cfg.no_pacing)
		return true;
	fill(rc, now_ns);
	if (rc->tokens > 0)
		return true;
	rc->stats.paced++;
	return false;
}

void softee_ratectl_blocked(struct softee_ratectl *rc)
{
	rc->stats.blocked++;
}

void softee_ratectl_sent(struct softee_ratectl *rc, uint32_t wire_bytes)
{
	rc->stats.sent_bytes += wire_bytes;
	if (!rc->cfg.no_pacing)
		rc->tokens -= wire_bytes;
}

uint64_t softee_ratectl_next_ns(const struct softee_ratectl *rc, uint64_t now_ns)
{
	uint64_t need;

	if (rc->cfg.no_pacing || rc->tokens > 0)
		return now_ns;
	need = (uint64_t)(1 - rc->tokens);
	return rc->last_fill +
	       (uint64_t)(((unsigned __int128)need * 1000000000ULL - rc->frac + rc->rate_Bps - 1) /
			  rc->rate_Bps);
}
