// SPDX-License-Identifier: GPL-2.0
/*
 * The non-posted requests in flight to one box, by their 8-bit tag (our
 * requester ID is the host bridge's, 00:00.0).  Tags are handed out round
 * robin, so a completion that comes after its request timed out finds the
 * tag free (counted as unexpected) unless 256 requests went out meanwhile.
 * Every tag has a deadline: nothing waits forever.
 */
#include <errno.h>
#include <string.h>

#include "poller_int.h"

int ptag_alloc(struct pbox *b, uint64_t deadline_ns)
{
	uint32_t i;

	if (b->tags_busy >= POLLER_NR_TAGS)
		return -EAGAIN;
	for (i = 0; i < POLLER_NR_TAGS; i++) {
		uint8_t tag = (uint8_t)(b->next_tag + i);
		struct ptag *tg = &b->tags[tag];

		if (tg->kind != PTAG_FREE)
			continue;
		memset(tg, 0, sizeof(*tg));
		tg->deadline_ns = deadline_ns;
		b->next_tag = (uint8_t)(tag + 1);
		b->tags_busy++;
		return tag;
	}
	return -EAGAIN;
}

void ptag_free(struct pbox *b, uint8_t tag)
{
	if (b->tags[tag].kind == PTAG_FREE)
		return;
	b->tags[tag].kind = PTAG_FREE;
	b->tags_busy--;
}

/* End one request without its completion: all ones for a read, an error for devcfg. */
static void ptag_fail(struct softee_poller *p, struct pbox *b, uint32_t tag, bool timeout)
{
	struct ptag *tg = &b->tags[tag];

	if (tg->kind == PTAG_RING) {
		if (timeout)
			PCNT(p->dev[tg->dev].c.cpl_timeouts, 1);
		else
			PCNT(p->dev[tg->dev].c.fail_fast, 1);
		pbridge_finish(p, b, (uint8_t)tag, timeout ? ETIMEDOUT : ENOTCONN);
	} else if (tg->kind == PTAG_CFG) {
		/* devcfg frees the tag */
		pdevcfg_on_cpl(p, b, tg, timeout ? PCFG_ST_TIMEOUT : PCFG_ST_LOST, ~0u);
	} else {
		ptag_free(b, (uint8_t)tag);
	}
}

void ptag_expire(struct softee_poller *p, struct pbox *b, uint64_t now)
{
	uint32_t i;

	if (!b->tags_busy)
		return;
	for (i = 0; i < POLLER_NR_TAGS; i++)
		if (b->tags[i].kind != PTAG_FREE && b->tags[i].deadline_ns <= now)
			ptag_fail(p, b, i, true);
}

void ptag_fail_all(struct softee_poller *p, struct pbox *b)
{
	uint32_t i;

	for (i = 0; i < POLLER_NR_TAGS && b->tags_busy; i++)
		if (b->tags[i].kind != PTAG_FREE)
			ptag_fail(p, b, i, false);
}
