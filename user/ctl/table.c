// SPDX-License-Identifier: GPL-2.0
/*
 * Aligned text tables for softeectl: cells are kept until print, so that
 * each column is as wide as its widest cell.  Two spaces between columns,
 * no trailing blanks (the output is meant to be read and grepped).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "softeectl.h"

struct table {
	int ncols;
	int nrows, cap;		/* rows, the header being row 0 */
	int col;		/* the next cell of the last row */
	int indent;		/* spaces before each line */
	char **cell;		/* nrows * ncols; NULL: empty */
	bool *right;
};

static int grow(struct table *t)
{
	char **c;
	int cap = t->cap ? t->cap * 2 : 16;

	c = realloc(t->cell, (size_t)cap * (size_t)t->ncols * sizeof(*c));
	if (!c)
		return -1;
	memset(c + (size_t)t->cap * (size_t)t->ncols, 0,
	       (size_t)(cap - t->cap) * (size_t)t->ncols * sizeof(*c));
	t->cell = c;
	t->cap = cap;
	return 0;
}

struct table *table_new(int ncols, ...)
{
	struct table *t = calloc(1, sizeof(*t));
	va_list ap;
	int i;

	if (!t)
		return NULL;
	t->ncols = ncols;
	t->right = calloc((size_t)ncols, sizeof(*t->right));
	if (!t->right || grow(t)) {
		table_free(t);
		return NULL;
	}
	va_start(ap, ncols);
	for (i = 0; i < ncols; i++) {
		const char *h = va_arg(ap, const char *);

		t->right[i] = h[0] == '>';
		t->cell[i] = strdup(h + t->right[i]);
	}
	va_end(ap);
	t->nrows = 1;
	t->col = ncols;
	return t;
}

void table_row(struct table *t)
{
	if (!t || (t->nrows == t->cap && grow(t)))
		return;
	t->nrows++;
	t->col = 0;
}

void table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	/* Cells past the row's width are a caller's bug: drop them rather than overflow. */
	if (!t || t->col >= t->ncols)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	t->cell[(size_t)(t->nrows - 1) * (size_t)t->ncols + (size_t)t->col++] = s;
}

void table_indent(struct table *t, int n)
{
	if (t)
		t->indent = n;
}

int table_rows(const struct table *t)
{
	return t ? t->nrows - 1 : 0;
}

void table_print(struct table *t, FILE *f)
{
	size_t *w;
	int r, c;

	if (!t)
		return;
	w = calloc((size_t)t->ncols, sizeof(*w));
	if (!w)
		return;
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cell[(size_t)r * (size_t)t->ncols + (size_t)c];
			size_t l = s ? strlen(s) : 0;

			if (l > w[c])
				w[c] = l;
		}
	for (r = 0; r < t->nrows; r++) {
		int last = t->ncols - 1;

		/* The last non-empty cell ends the line: no trailing blanks. */
		while (last > 0 && !t->cell[(size_t)r * (size_t)t->ncols + (size_t)last])
			last--;
		for (c = 0; c <= last; c++) {
			const char *s = t->cell[(size_t)r * (size_t)t->ncols + (size_t)c];
			int pad = (int)w[c];

			if (!s)
				s = "";
			if (!c)
				fprintf(f, "%*s", t->indent, "");
			else
				fputs("  ", f);
			if (t->right[c])
				fprintf(f, "%*s", pad, s);
			else if (c == last)
				fputs(s, f);
			else
				fprintf(f, "%-*s", pad, s);
		}
		fputc('\n', f);
	}
	free(w);
}

void table_free(struct table *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; t->cell && i < t->cap * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t->right);
	free(t);
}

const char *human(double v, char *buf, size_t cap)
{
	static const char unit[] = " KMGTP";
	int u = 0;

	while (v >= 1000.0 && u < 5) {
		v /= 1000.0;
		u++;
	}
	if (!u)
		snprintf(buf, cap, "%.0f", v);
	else
		snprintf(buf, cap, "%.1f%c", v, unit[u]);
	return buf;
}
