/* SPDX-License-Identifier: GPL-2.0 */
/*
 * softeectl's pieces: the control-socket client (client.c) and the table
 * printer (table.c).  main.c holds the commands.
 */
#ifndef _SOFTEECTL_H
#define _SOFTEECTL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* ---- client.c ---------------------------------------------------------------- */

/*
 * How a daemon's answer ends.  The poller ends every answer with an empty
 * line; the box answers JSON in exactly one line (softeectl always asks
 * both for JSON).  The end of the stream ends an answer too.
 */
enum ctl_framing {
	CTL_END_EMPTY_LINE,
	CTL_END_LINE,
};

enum ctl_err {
	CTL_OK,
	CTL_UNREACHABLE,	/* no socket there, nobody listening, no permission */
	CTL_TIMEOUT,		/* connected, but no whole answer in time */
	CTL_IO,			/* any other failure */
};

/*
 * Send LINE (a newline is added) to the unix socket PATH and read one
 * answer, all within timeout_ms.  The answer is NUL-terminated in *out
 * (malloc'd, the caller frees it; at most CTL_ANSWER_MAX bytes), without
 * its framing.  On failure, a message naming the path in err.
 */
#define CTL_ANSWER_MAX	(4 << 20)
enum ctl_err ctl_request(const char *path, const char *line, enum ctl_framing fr, int timeout_ms,
			 char **out, size_t *len, char *err, size_t errlen);

/* ---- table.c ----------------------------------------------------------------- */

/*
 * An aligned text table: add rows of cells, print once.  A column whose
 * header starts with '>' is right-aligned (numbers); the '>' is not printed.
 */
struct table;

struct table *table_new(int ncols, ...);
/* Start a row; then exactly ncols cells. */
void table_row(struct table *t);
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void table_print(struct table *t, FILE *f);
/* Indent every line by n spaces (tables under a heading). */
void table_indent(struct table *t, int n);
void table_free(struct table *t);
int table_rows(const struct table *t);

/* "12.3 M" style, for rates and byte counts in tables. */
const char *human(double v, char *buf, size_t cap);

/* ---- attach.c ----------------------------------------------------------------- */

/* softeectl attach/detach ARGS (argv[0] is the command): the exit status. */
int ctl_attach(int argc, char **argv);
int ctl_detach(int argc, char **argv);

#endif /* _SOFTEECTL_H */
