// SPDX-License-Identifier: GPL-2.0
/*
 * The guest memory map (softee/dma.h): immutable sorted ranges; a change
 * builds a new map, which the poller publishes under RCU.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <softee/dma.h>

void *softee_memmap_lookup(const struct softee_memmap *m, uint64_t gpa, uint64_t len)
{
	uint32_t lo, hi, mid;
	const struct softee_memmap_range *r;

	if (!m || !m->nr || !len || gpa + len < gpa)
		return NULL;
	/* The last range that starts at or below gpa. */
	lo = 0;
	hi = m->nr;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (m->r[mid].gpa <= gpa)
			lo = mid;
		else
			hi = mid;
	}
	r = &m->r[lo];
	if (gpa < r->gpa)
		return NULL;
	/* Inside, written so that nothing can overflow: gpa - r->gpa < r->len. */
	if (gpa - r->gpa >= r->len || len > r->len - (gpa - r->gpa))
		return NULL;
	return r->hva + (gpa - r->gpa);
}

static struct softee_memmap *memmap_alloc(uint32_t nr)
{
	struct softee_memmap *m = malloc(sizeof(*m) + (size_t)nr * sizeof(m->r[0]));

	if (m)
		m->nr = nr;
	return m;
}

int softee_memmap_add(const struct softee_memmap *old, uint64_t gpa, uint64_t len,
		      void *hva, struct softee_memmap **out)
{
	uint32_t n = old ? old->nr : 0, i, at;
	struct softee_memmap *m;

	*out = NULL;
	if (!len || !hva)
		return -EINVAL;
	if (gpa + len < gpa || gpa + len == 0)
		return -EOVERFLOW;
	if (n >= SOFTEE_MEMMAP_MAX)
		return -ENOSPC;
	for (at = 0; at < n && old->r[at].gpa < gpa; at++)
		;
	/* The neighbours must not overlap [gpa, gpa + len). */
	if (at > 0 && old->r[at - 1].gpa + old->r[at - 1].len > gpa)
		return -EEXIST;
	if (at < n && old->r[at].gpa < gpa + len)
		return -EEXIST;
	m = memmap_alloc(n + 1);
	if (!m)
		return -ENOMEM;
	for (i = 0; i < at; i++)
		m->r[i] = old->r[i];
	m->r[at] = (struct softee_memmap_range){ .gpa = gpa, .len = len, .hva = hva };
	for (i = at; i < n; i++)
		m->r[i + 1] = old->r[i];
	*out = m;
	return 0;
}

int softee_memmap_del(const struct softee_memmap *old, uint64_t gpa, struct softee_memmap **out)
{
	uint32_t n = old ? old->nr : 0, i, j;
	struct softee_memmap *m;

	*out = NULL;
	for (i = 0; i < n && old->r[i].gpa != gpa; i++)
		;
	if (i == n)
		return -ENOENT;
	m = memmap_alloc(n - 1);
	if (!m)
		return -ENOMEM;
	for (i = 0, j = 0; i < n; i++)
		if (old->r[i].gpa != gpa)
			m->r[j++] = old->r[i];
	*out = m;
	return 0;
}

uint64_t softee_memmap_bytes(const struct softee_memmap *m)
{
	uint64_t b = 0;
	uint32_t i;

	for (i = 0; m && i < m->nr; i++)
		b += m->r[i].len;
	return b;
}
