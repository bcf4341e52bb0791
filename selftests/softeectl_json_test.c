// SPDX-License-Identifier: GPL-2.0
/*
 * softeectl's JSON reader (user/ctl/json.c): the daemons' answers as they
 * look, lookups by key, index and path, conversions and their refusals,
 * and malformed or hostile text: every one is refused without a read past
 * the text (the text is copied into a buffer of exactly its length, so
 * ASan in `make check-san` catches an overrun), and deep nesting is
 * bounded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "../user/ctl/json.h"

/* Parse a copy of s that has no NUL after it: reading past len is a bug ASan sees. */
static int parse_exact(struct json *j, const char *s, char **copy)
{
	size_t n = strlen(s);

	*copy = malloc(n ? n : 1);
	memcpy(*copy, s, n);
	return json_parse(j, *copy, n);
}

TEST(poller_devices)
{
	static const char doc[] =
		"{\"devices\":[{\"idx\":0,\"bdf\":\"01:00.0\",\"vendor\":20727,\"device\":32343,"
		"\"class_rev\":4278190081,\"state\":\"ready\",\"box\":\"02:00:00:00:00:02\",\"box_name\":\"b\\\"x\","
		"\"bars\":[{\"bar\":0,\"addr\":3221225472,\"size\":4096,\"io\":false,\"is64\":false,\"region\":-1},"
		"{\"bar\":2,\"addr\":3223322624,\"size\":2097152,\"io\":false,\"is64\":true,\"region\":3}],"
		"\"msi\":{\"kind\":\"msi\",\"addr\":4276092928,\"data\":[64]}}]}";
	struct json j;
	char *copy, s[32];
	int devs, d, bars;
	uint64_t v;
	int64_t r;
	bool b;

	ASSERT_EQ(0, parse_exact(&j, doc, &copy));
	devs = json_get(&j, 0, "devices");
	ASSERT_EQ(JSON_ARRAY, json_type(&j, devs));
	ASSERT_EQ(1, json_count(&j, devs));
	d = json_at(&j, devs, 0);
	EXPECT_EQ(-1, json_at(&j, devs, 1));
	EXPECT_EQ(-1, json_at(&j, devs, -1));
	EXPECT_TRUE(json_u64(&j, json_get(&j, d, "vendor"), &v));
	EXPECT_EQ(0x50f7, v);
	EXPECT_EQ(4278190081ULL, json_get_u64(&j, d, "class_rev", 0));
	EXPECT_STREQ("01:00.0", json_get_str(&j, d, "bdf", s, sizeof(s)));
	EXPECT_STREQ("b\"x", json_get_str(&j, d, "box_name", s, sizeof(s)));
	bars = json_get(&j, d, "bars");
	EXPECT_EQ(2, json_count(&j, bars));
	EXPECT_TRUE(json_i64(&j, json_path(&j, 0, "devices.0.bars.0.region"), &r));
	EXPECT_EQ(-1, r);
	EXPECT_FALSE(json_u64(&j, json_path(&j, 0, "devices.0.bars.0.region"), &v));
	EXPECT_EQ(3, json_get_u64(&j, 0, "devices.0.bars.1.region", 0));
	EXPECT_TRUE(json_bool(&j, json_path(&j, bars, "1.is64"), &b));
	EXPECT_TRUE(b);
	EXPECT_EQ(64, json_get_u64(&j, d, "msi.data.0", 0));
	EXPECT_EQ(77, json_get_u64(&j, d, "msi.data.1", 77));	/* past the end: the default */
	EXPECT_EQ(77, json_get_u64(&j, d, "nosuch", 77));
	EXPECT_EQ(77, json_get_u64(&j, d, "bdf", 77));		/* a string is not a number */
	EXPECT_STREQ("", json_get_str(&j, d, "vendor", s, sizeof(s)));
	EXPECT_EQ(JSON_NULL, json_type(&j, json_path(&j, 0, "devices.x")));
	EXPECT_EQ(-1, json_get(&j, devs, "idx"));		/* an array has no members */
	json_free(&j);
	free(copy);
}

TEST(box_answer_and_raw)
{
	static const char doc[] = " {\"ok\":true,\"group\":7,\"uptime_s\":1.250,\"e\":{},\"a\":[],\"n\":null} \n";
	struct json j;
	const char *p;
	size_t len;
	double d;
	char *copy;
	bool b;

	ASSERT_EQ(0, parse_exact(&j, doc, &copy));
	EXPECT_TRUE(json_bool(&j, json_get(&j, 0, "ok"), &b));
	EXPECT_TRUE(b);
	EXPECT_TRUE(json_double(&j, json_get(&j, 0, "uptime_s"), &d));
	EXPECT_TRUE(d > 1.249 && d < 1.251);
	EXPECT_EQ(0, json_count(&j, json_get(&j, 0, "e")));
	EXPECT_EQ(JSON_OBJECT, json_type(&j, json_get(&j, 0, "e")));
	EXPECT_EQ(JSON_ARRAY, json_type(&j, json_get(&j, 0, "a")));
	EXPECT_EQ(JSON_NULL, json_type(&j, json_get(&j, 0, "n")));
	EXPECT_NE(-1, json_get(&j, 0, "n"));
	ASSERT_TRUE(json_raw(&j, 0, &p, &len));
	EXPECT_EQ(strlen(doc) - 3, len);			/* without the blanks around it */
	EXPECT_EQ(0, memcmp(p, doc + 1, len));
	ASSERT_TRUE(json_raw(&j, json_key_at(&j, 0, 1), &p, &len));
	EXPECT_EQ(7, len);					/* "group" with its quotes */
	json_free(&j);
	free(copy);
}

TEST(strings)
{
	struct json j;
	char *copy, s[8];

	ASSERT_EQ(0, parse_exact(&j, "\"a\\n\\u0041\\u00e9\\/\\\\\"", &copy));
	ASSERT_TRUE(json_str(&j, 0, s, sizeof(s)));
	EXPECT_STREQ("a\nA?/\\", s);
	ASSERT_TRUE(json_str(&j, 0, s, 3));			/* cut to fit */
	EXPECT_STREQ("a\n", s);
	EXPECT_FALSE(json_str(&j, 0, s, 0));
	json_free(&j);
	free(copy);
}

TEST(numbers)
{
	static const struct {
		const char *text;
		bool u64_ok;
		uint64_t u;
	} c[] = {
		{ "0", true, 0 },
		{ "18446744073709551615", true, UINT64_MAX },
		{ "18446744073709551616", false, 0 },		/* too big */
		{ "-1", false, 0 },
		{ "1.5", false, 0 },
		{ "1e3", false, 0 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct json j;
		char *copy;
		uint64_t v = 0;

		ASSERT_EQ(0, parse_exact(&j, c[i].text, &copy)) TH_LOG("%s", c[i].text);
		EXPECT_EQ(c[i].u64_ok, json_u64(&j, 0, &v)) TH_LOG("%s", c[i].text);
		if (c[i].u64_ok)
			EXPECT_EQ(c[i].u, v);
		json_free(&j);
		free(copy);
	}
}

TEST(malformed)
{
	static const char *const bad[] = {
		"", " ", "{", "}", "[", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}",
		"{\"a\":1}}", "{\"a\":1} x", "\"abc", "\"a\\x\"", "\"a\\u12\"", "\"a\\u12g4\"",
		"\"a\\", "tru", "nul", "falsey", "01", "-", "1.", ".5", "1e", "+1", "[1 2]",
		"\"a\nb\"", "\"\t\"", "{\"a\":1 \"b\":2}", "[\"a\":1]", "{\"a\" 1}", "error: no",
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json j;
		char *copy;

		EXPECT_NE(0, parse_exact(&j, bad[i], &copy)) TH_LOG("accepted: '%s'", bad[i]);
		json_free(&j);
		free(copy);
	}
}

TEST(nesting_bounded)
{
	char deep[2 * (JSON_MAX_DEPTH + 2) + 1], ok[2 * JSON_MAX_DEPTH + 1];
	struct json j;
	char *copy;
	int i;

	for (i = 0; i < JSON_MAX_DEPTH; i++) {
		ok[i] = '[';
		ok[2 * JSON_MAX_DEPTH - 1 - i] = ']';
	}
	ok[2 * JSON_MAX_DEPTH] = 0;
	EXPECT_EQ(0, parse_exact(&j, ok, &copy));
	json_free(&j);
	free(copy);
	for (i = 0; i < JSON_MAX_DEPTH + 2; i++) {
		deep[i] = '[';
		deep[2 * (JSON_MAX_DEPTH + 2) - 1 - i] = ']';
	}
	deep[2 * (JSON_MAX_DEPTH + 2)] = 0;
	EXPECT_NE(0, parse_exact(&j, deep, &copy));
	json_free(&j);
	free(copy);
}

/* Random bytes and random cuts of a real answer: refused or parsed, never a crash or overrun. */
TEST(random_garbage)
{
	static const char doc[] = "{\"ok\":true,\"peers\":[{\"mac\":\"c2:c4\",\"srtt_ns\":123,\"static\":false}],"
				  "\"x\":[1,-2.5e3,\"\\u0041\",null]}";
	static const char alphabet[] = "{}[]\",:\\0123456789-.eEtruefalsn ";
	unsigned int seed = 1, i, k;

	for (i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand_r(&seed) % 64);
		char *buf = malloc(n ? n : 1);
		struct json j;

		for (k = 0; k < n; k++)
			buf[k] = (char)(i & 1 ? alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)] : rand_r(&seed));
		if (!json_parse(&j, buf, n))
			(void)json_path(&j, 0, "a.0.b");
		json_free(&j);
		free(buf);
	}
	for (i = 0; i <= strlen(doc); i++) {
		char *buf = malloc(i ? i : 1);
		struct json j;
		int ret;

		memcpy(buf, doc, i);
		ret = json_parse(&j, buf, i);
		EXPECT_EQ(i == strlen(doc) ? 0 : -EINVAL, ret) TH_LOG("cut at %u", i);
		json_free(&j);
		free(buf);
	}
}

TEST_HARNESS_MAIN
