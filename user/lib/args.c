// SPDX-License-Identifier: GPL-2.0
/* One-line command-line errors, shared by the programs (softee/args.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softee/args.h>
#include <softee/frame.h>

void softee_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (%s --help)\n", prog);
	exit(2);
}

bool softee_parse_u64(const char *s, char **end, uint64_t max, uint64_t *v)
{
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	x = strtoull(s, end, 0);
	if (errno || x > max)
		return false;
	*v = x;
	return true;
}

uint64_t softee_arg_num(const char *prog, const char *opt, const char *s, uint64_t min,
			uint64_t max)
{
	uint64_t v;
	char *end;

	if (!softee_parse_u64(s, &end, max, &v) || *end || v < min)
		softee_usage_error(prog, "%s wants a number in %llu..%llu, not '%s'", opt,
				   (unsigned long long)min, (unsigned long long)max, s);
	return v;
}

uint16_t softee_arg_ethertype(const char *prog, const char *opt, const char *s)
{
	uint64_t v;
	char *end;

	if (!softee_parse_u64(s, &end, 0xffff, &v) || *end || v < 0x0600)
		softee_usage_error(prog, "%s wants an EtherType in 0x0600..0xffff, not '%s'", opt, s);
	if (!softee_ethertype_ok((uint32_t)v))
		softee_usage_error(prog, "%s %s is a VLAN tag's TPID, not an EtherType", opt, s);
	return (uint16_t)v;
}

void softee_getopt_error(const char *prog, int c, char *const argv[],
			 const struct option *longopts)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	const struct option *o;
	size_t n;

	if (c == ':') {
		if (optopt > 0 && optopt < 128 && strncmp(arg, "--", 2))
			softee_usage_error(prog, "-%c wants a value", optopt);
		softee_usage_error(prog, "%s wants a value", arg);
	}
	/* "--flag=x" for a flag that takes no value */
	if (!strncmp(arg, "--", 2) && strchr(arg, '=') && longopts) {
		n = (size_t)(strchr(arg, '=') - arg - 2);
		for (o = longopts; o->name; o++)
			if (strlen(o->name) == n && !strncmp(o->name, arg + 2, n) &&
			    o->has_arg == no_argument)
				softee_usage_error(prog, "--%s takes no value", o->name);
	}
	if (optopt > 0 && optopt < 128 && strncmp(arg, "--", 2))
		softee_usage_error(prog, "unknown option '-%c'", optopt);
	softee_usage_error(prog, "unknown option '%s'", arg);
}
