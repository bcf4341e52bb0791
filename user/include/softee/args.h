/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command-line errors, as every softee program gives them: one line on
 * stderr that names the argument and says what was wrong with it,
 *
 *	softee-box: --tags wants a number in 1..256, not '300' (softee-box --help)
 *
 * and exit status 2.  Nothing on stdout, and no full usage text, which a
 * script's log would only bury the line in.  For getopt_long, set opterr
 * to 0 and start the option string with ':' so that a missing value comes
 * back as ':', and pass what it returned for a bad option to
 * softee_getopt_error().
 */
#ifndef _SOFTEE_ARGS_H
#define _SOFTEE_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * S as an unsigned number (decimal, 0x hex or 0 octal) up to MAX, digits
 * first (strtoull alone takes a sign and blanks: "-1" as 2^64 - 1); *end
 * is what follows it.  false when there is none, or it is too large.
 */
bool softee_parse_u64(const char *s, char **end, uint64_t max, uint64_t *v);

/* "PROG: MESSAGE (PROG --help)" on stderr, exit(2). */
void softee_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/*
 * S as an unsigned number (decimal, 0x hex or 0 octal; no sign, nothing
 * after it) in MIN..MAX; else a usage error naming OPT.
 */
uint64_t softee_arg_num(const char *prog, const char *opt, const char *s, uint64_t min,
			uint64_t max);

/*
 * S as an EtherType for frames (softee_ethertype_ok: 0x0600..0xffff, not
 * a VLAN TPID); else a usage error naming OPT.
 */
uint16_t softee_arg_ethertype(const char *prog, const char *opt, const char *s);

/*
 * The usage error for what getopt_long returned on a bad option (C is ':'
 * or '?'), from the argument it stopped at (argv[optind - 1]): an unknown
 * option, a value missing, or a value given to an option that takes none.
 */
void softee_getopt_error(const char *prog, int c, char *const argv[],
			 const struct option *longopts) __attribute__((noreturn));

#endif /* _SOFTEE_ARGS_H */
