// SPDX-License-Identifier: GPL-2.0
/*
 * softeectl's JSON reader (json.h).  Recursive descent over a bounded
 * text with a depth limit; values become tokens in a flat array that
 * grows by doubling.  Nothing reads past text + len: every look at a
 * byte goes through peek(), which answers 0 at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	struct json *j;
	size_t pos;
	int depth;
};

static int peek(const struct parser *p)
{
	return p->pos < p->j->len ? (unsigned char)p->j->text[p->pos] : 0;
}

static void skip_ws(struct parser *p)
{
	int c;

	while ((c = peek(p)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		p->pos++;
}

static int new_tok(struct parser *p, enum json_type type)
{
	struct json *j = p->j;

	if (j->ntok == j->cap) {
		int cap = j->cap ? j->cap * 2 : 64;
		struct json_tok *t;

		if (cap > (1 << 24))
			return -ENOMEM;
		t = realloc(j->tok, (size_t)cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		j->tok = t;
		j->cap = cap;
	}
	j->tok[j->ntok] = (struct json_tok){ .type = type, .start = p->pos };
	return j->ntok++;
}

static int is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string: the token spans the bytes between the quotes, escapes checked. */
static int parse_string(struct parser *p, int t)
{
	int c, k;

	p->pos++;			/* the opening quote */
	p->j->tok[t].start = p->pos;
	for (;;) {
		c = peek(p);
		if (!c && p->pos >= p->j->len)
			return -EINVAL;
		if (c == '"')
			break;
		if (c < 0x20)
			return -EINVAL;	/* raw control bytes are not allowed in JSON strings */
		if (c == '\\') {
			p->pos++;
			c = peek(p);
			if (c == 'u') {
				for (k = 1; k <= 4; k++) {
					p->pos++;
					if (!is_hex(peek(p)))
						return -EINVAL;
				}
			} else if (!c || !strchr("\"\\/bfnrt", c)) {
				return -EINVAL;
			}
		}
		p->pos++;
	}
	p->j->tok[t].end = p->pos;
	p->pos++;			/* the closing quote */
	return 0;
}

static int parse_number(struct parser *p)
{
	size_t digits;

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0') {
		p->pos++;
	} else {
		for (digits = 0; peek(p) >= '0' && peek(p) <= '9'; digits++)
			p->pos++;
		if (!digits)
			return -EINVAL;
	}
	if (peek(p) == '.') {
		p->pos++;
		for (digits = 0; peek(p) >= '0' && peek(p) <= '9'; digits++)
			p->pos++;
		if (!digits)
			return -EINVAL;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		for (digits = 0; peek(p) >= '0' && peek(p) <= '9'; digits++)
			p->pos++;
		if (!digits)
			return -EINVAL;
	}
	return 0;
}

static int parse_word(struct parser *p, const char *w)
{
	size_t n = strlen(w);

	if (p->j->len - p->pos < n || memcmp(p->j->text + p->pos, w, n))
		return -EINVAL;
	p->pos += n;
	return 0;
}

static int parse_value(struct parser *p);

/* An array or an object: members (objects: a string key, ':', a value) between brackets. */
static int parse_container(struct parser *p, int t, bool obj)
{
	int close = obj ? '}' : ']', ret, k;

	if (++p->depth > JSON_MAX_DEPTH)
		return -EINVAL;
	p->pos++;
	skip_ws(p);
	if (peek(p) == close) {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		skip_ws(p);
		if (obj) {
			if (peek(p) != '"')
				return -EINVAL;
			k = new_tok(p, JSON_STRING);
			if (k < 0)
				return k;
			ret = parse_string(p, k);
			if (ret)
				return ret;
			p->j->tok[k].next = p->j->ntok;
			skip_ws(p);
			if (peek(p) != ':')
				return -EINVAL;
			p->pos++;
		}
		ret = parse_value(p);
		if (ret)
			return ret;
		p->j->tok[t].count++;
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) != close)
			return -EINVAL;
		p->pos++;
		p->depth--;
		return 0;
	}
}

static int parse_value(struct parser *p)
{
	int t, c, ret;

	skip_ws(p);
	c = peek(p);
	switch (c) {
	case '{': t = new_tok(p, JSON_OBJECT); break;
	case '[': t = new_tok(p, JSON_ARRAY); break;
	case '"': t = new_tok(p, JSON_STRING); break;
	case 't': t = new_tok(p, JSON_TRUE); break;
	case 'f': t = new_tok(p, JSON_FALSE); break;
	case 'n': t = new_tok(p, JSON_NULL); break;
	default:
		if (c != '-' && !(c >= '0' && c <= '9'))
			return -EINVAL;
		t = new_tok(p, JSON_NUMBER);
	}
	if (t < 0)
		return t;
	switch (c) {
	case '{': ret = parse_container(p, t, true); break;
	case '[': ret = parse_container(p, t, false); break;
	case '"': ret = parse_string(p, t); break;
	case 't': ret = parse_word(p, "true"); break;
	case 'f': ret = parse_word(p, "false"); break;
	case 'n': ret = parse_word(p, "null"); break;
	default: ret = parse_number(p);
	}
	if (ret)
		return ret;
	if (c != '"')
		p->j->tok[t].end = p->pos;
	p->j->tok[t].next = p->j->ntok;
	return 0;
}

int json_parse(struct json *j, const char *text, size_t len)
{
	struct parser p = { .j = j };
	int ret;

	memset(j, 0, sizeof(*j));
	j->text = text;
	j->len = len;
	ret = parse_value(&p);
	if (!ret) {
		skip_ws(&p);
		if (p.pos != len)
			ret = -EINVAL;		/* something after the value */
	}
	if (ret)
		j->err_at = p.pos;
	return ret;
}

void json_free(struct json *j)
{
	free(j->tok);
	j->tok = NULL;
	j->ntok = j->cap = 0;
}

static bool valid(const struct json *j, int t)
{
	return t >= 0 && t < j->ntok;
}

enum json_type json_type(const struct json *j, int t)
{
	return valid(j, t) ? j->tok[t].type : JSON_NULL;
}

int json_count(const struct json *j, int t)
{
	if (json_type(j, t) != JSON_ARRAY && json_type(j, t) != JSON_OBJECT)
		return 0;
	return j->tok[t].count;
}

/* Walk the members: the first child is t + 1, each next one after the previous subtree. */
static int child(const struct json *j, int t, int i, bool want_key)
{
	bool obj = json_type(j, t) == JSON_OBJECT;
	int c, k;

	if (i < 0 || i >= json_count(j, t))
		return -1;
	c = t + 1;
	for (k = 0; k < i; k++) {
		if (obj)
			c++;		/* past the key */
		c = j->tok[c].next;
	}
	if (obj && !want_key)
		c++;
	if (!obj && want_key)
		return -1;
	return valid(j, c) ? c : -1;
}

int json_at(const struct json *j, int t, int i)
{
	return child(j, t, i, false);
}

int json_key_at(const struct json *j, int t, int i)
{
	return child(j, t, i, true);
}

/* Compare a string token with KEY of length n, escapes undone. */
static bool str_eq(const struct json *j, int t, const char *key, size_t n)
{
	char buf[128];

	if (n >= sizeof(buf) || !json_str(j, t, buf, sizeof(buf)))
		return false;
	return strlen(buf) == n && !memcmp(buf, key, n);
}

static int get_n(const struct json *j, int t, const char *key, size_t n)
{
	int i, cnt;

	if (json_type(j, t) != JSON_OBJECT)
		return -1;
	cnt = json_count(j, t);
	for (i = 0; i < cnt; i++) {
		int k = json_key_at(j, t, i);

		if (k >= 0 && str_eq(j, k, key, n))
			return k + 1;
	}
	return -1;
}

int json_get(const struct json *j, int t, const char *key)
{
	return get_n(j, t, key, strlen(key));
}

int json_path(const struct json *j, int t, const char *path)
{
	while (*path && t >= 0) {
		size_t n = strcspn(path, ".");

		if (json_type(j, t) == JSON_ARRAY) {
			char *end;
			long i = strtol(path, &end, 10);

			t = (end == path + n && n) ? json_at(j, t, (int)i) : -1;
		} else {
			t = get_n(j, t, path, n);
		}
		path += n;
		if (*path == '.')
			path++;
	}
	return t;
}

/* A number token copied out, so that strto* stop at its end and not the text's. */
static bool num_text(const struct json *j, int t, char *buf, size_t cap)
{
	size_t n;

	if (json_type(j, t) != JSON_NUMBER)
		return false;
	n = j->tok[t].end - j->tok[t].start;
	if (n >= cap)
		return false;
	memcpy(buf, j->text + j->tok[t].start, n);
	buf[n] = 0;
	return true;
}

bool json_u64(const struct json *j, int t, uint64_t *v)
{
	char buf[32], *end;
	unsigned long long x;

	if (!num_text(j, t, buf, sizeof(buf)) || buf[0] == '-')
		return false;
	errno = 0;
	x = strtoull(buf, &end, 10);
	if (errno || *end)
		return false;		/* too big, or a fraction or exponent */
	*v = x;
	return true;
}

bool json_i64(const struct json *j, int t, int64_t *v)
{
	char buf[32], *end;
	long long x;

	if (!num_text(j, t, buf, sizeof(buf)))
		return false;
	errno = 0;
	x = strtoll(buf, &end, 10);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

bool json_double(const struct json *j, int t, double *v)
{
	char buf[64], *end;

	if (!num_text(j, t, buf, sizeof(buf)))
		return false;
	*v = strtod(buf, &end);
	return !*end;
}

bool json_bool(const struct json *j, int t, bool *v)
{
	if (json_type(j, t) == JSON_TRUE)
		*v = true;
	else if (json_type(j, t) == JSON_FALSE)
		*v = false;
	else
		return false;
	return true;
}

static int hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

bool json_str(const struct json *j, int t, char *buf, size_t cap)
{
	size_t i, o = 0, end;
	const char *s = j->text;

	if (!cap || json_type(j, t) != JSON_STRING)
		return false;
	end = j->tok[t].end;
	/* The parser checked every escape is complete: i + 1 and i + 5 stay before end. */
	for (i = j->tok[t].start; i < end && o + 1 < cap; i++) {
		char c = s[i];

		if (c == '\\') {
			c = s[++i];
			switch (c) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				unsigned int u = (unsigned int)(hexval(s[i + 1]) << 12 | hexval(s[i + 2]) << 8 |
							       hexval(s[i + 3]) << 4 | hexval(s[i + 4]));

				i += 4;
				c = u >= 0x20 && u < 0x7f ? (char)u : '?';
				break;
			}
			default: break;	/* '"', '\\', '/' stand for themselves */
			}
		}
		buf[o++] = c;
	}
	buf[o] = 0;
	return true;
}

bool json_raw(const struct json *j, int t, const char **p, size_t *len)
{
	size_t start, end;

	if (!valid(j, t))
		return false;
	start = j->tok[t].start;
	end = j->tok[t].end;
	if (j->tok[t].type == JSON_STRING) {
		start--;		/* with its quotes */
		end++;
	}
	*p = j->text + start;
	*len = end - start;
	return true;
}

uint64_t json_get_u64(const struct json *j, int t, const char *path, uint64_t def)
{
	uint64_t v;

	return json_u64(j, json_path(j, t, path), &v) ? v : def;
}

double json_get_double(const struct json *j, int t, const char *path, double def)
{
	double v;

	return json_double(j, json_path(j, t, path), &v) ? v : def;
}

const char *json_get_str(const struct json *j, int t, const char *path, char *buf, size_t cap)
{
	if (cap && !json_str(j, json_path(j, t, path), buf, cap))
		buf[0] = 0;
	return buf;
}

void json_print_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
