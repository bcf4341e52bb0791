/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny JSON reader for softeectl: the daemons' answers are one line of
 * JSON each, and the CLI needs a few fields of them to build its tables.
 *
 * json_parse() tokenizes a whole document into a flat array (like jsmn):
 * every value is one token, an object's members are key/value token pairs,
 * and each token knows where its subtree ends, so walking never recurses.
 * Tokens point into the caller's text, which must outlive the json.  The
 * parser is strict (RFC 8259 grammar, one value, nothing but whitespace
 * after it), bounds every read by the text's length, limits nesting, and
 * never follows anything the text says about lengths.
 *
 *	struct json j;
 *	if (json_parse(&j, text, len))
 *		...not JSON...
 *	int devs = json_get(&j, 0, "devices");		// -1: no such member
 *	for (int i = 0, d; (d = json_at(&j, devs, i)) >= 0; i++)
 *		json_u64(&j, json_get(&j, d, "vendor"), &vendor);
 *	json_free(&j);
 */
#ifndef _SOFTEECTL_JSON_H
#define _SOFTEECTL_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	32

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_tok {
	enum json_type type;
	size_t start, end;	/* the value's bytes in the text; strings without quotes */
	int next;		/* the token after this value's subtree */
	int count;		/* arrays: elements; objects: members */
};

struct json {
	const char *text;
	size_t len;
	struct json_tok *tok;
	int ntok, cap;
	size_t err_at;		/* json_parse failed: about where */
};

/* 0, or -EINVAL (not JSON; j->err_at says where), -ENOMEM.  Free with json_free either way. */
int json_parse(struct json *j, const char *text, size_t len);
void json_free(struct json *j);

/* The type of token t; JSON_NULL for t < 0 too, so lookups chain. */
enum json_type json_type(const struct json *j, int t);
/* Object t's member KEY (the value token), or -1. */
int json_get(const struct json *j, int t, const char *key);
/* Array t's element I (or object t's I-th value), or -1. */
int json_at(const struct json *j, int t, int i);
/* Object t's I-th key, as a string token, or -1. */
int json_key_at(const struct json *j, int t, int i);
/* Elements or members of t; 0 if t is not an array or object. */
int json_count(const struct json *j, int t);
/* Follow "a.b.3.c": object members by name, array elements by index. */
int json_path(const struct json *j, int t, const char *path);

/* Conversions: false if t is missing or of another type (or the number does not fit). */
bool json_u64(const struct json *j, int t, uint64_t *v);
bool json_i64(const struct json *j, int t, int64_t *v);
bool json_double(const struct json *j, int t, double *v);
bool json_bool(const struct json *j, int t, bool *v);
/* A string's value, unescaped (\uXXXX beyond ASCII as '?'), cut to fit cap. */
bool json_str(const struct json *j, int t, char *buf, size_t cap);
/* The raw bytes of any value (a number, an object...), for passing through. */
bool json_raw(const struct json *j, int t, const char **p, size_t *len);

/* Shortcuts: the member's value or DEF when missing or mistyped. */
uint64_t json_get_u64(const struct json *j, int t, const char *path, uint64_t def);
double json_get_double(const struct json *j, int t, const char *path, double def);
/* The member's string into buf ("" when missing); returns buf. */
const char *json_get_str(const struct json *j, int t, const char *path, char *buf, size_t cap);

/* Write S as a JSON string literal, quotes included. */
void json_print_str(FILE *f, const char *s);

#endif /* _SOFTEECTL_JSON_H */
