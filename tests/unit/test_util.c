/*
 * test_util.c — durations, times, numbers, booleans, UTF-8, JSON escaping,
 * suggestions, buffers, arenas, and the value semantics of value.c.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util.h"
#include "value.h"

static void
test_durations(void)
{
	static const struct { const char *in; int ok; int64_t ms; } t[] = {
		{ "0", 1, 0 }, { "500ms", 1, 500 }, { "30s", 1, 30000 },
		{ "15m", 1, 900000 }, { "4h", 1, 14400000 },
		{ "7d", 1, 604800000 }, { "1s", 1, 1000 },
		{ "", 0, 0 }, { "s", 0, 0 }, { "10", 0, 0 }, { "1.5h", 0, 0 },
		{ "-1s", 0, 0 }, { "10 s", 0, 0 }, { "5w", 0, 0 },
		{ "99999999999d", 0, 0 }, { "0s", 1, 0 }, { "1H", 0, 0 },
	};
	size_t i;
	int64_t ms;
	char out[32];

	for (i = 0; i < ARRAY_LEN(t); i++) {
		ms = -1;
		int rc = parse_duration_ms(t[i].in, &ms);
		CHECKF((rc == 0) == t[i].ok && (!t[i].ok || ms == t[i].ms),
		    "duration '%s': rc %d ms %lld", t[i].in, rc, (long long)ms);
	}
	format_duration(900000, out, sizeof(out));
	CHECK_STR(out, "15m");
	format_duration(1500, out, sizeof(out));
	CHECK_STR(out, "1500ms");
	format_duration(86400000 * 2LL, out, sizeof(out));
	CHECK_STR(out, "2d");
}

static void
test_times(void)
{
	static const struct { const char *in; int ok; double want; } t[] = {
		{ "1970-01-01T00:00:00Z", 1, 0 },
		{ "2023-11-14T22:13:20Z", 1, 1700000000 },
		{ "2023-11-14T22:13:20.250Z", 1, 1700000000.25 },
		{ "2023-11-14T23:13:20+01:00", 1, 1700000000 },
		{ "2023-11-14T21:13:20-01:00", 1, 1700000000 },
		{ "2024-02-29T00:00:00Z", 1, 1709164800 },
		{ "2023-02-29T00:00:00Z", 0, 0 },
		{ "2023-13-01T00:00:00Z", 0, 0 },
		{ "2023-11-14 22:13:20Z", 1, 1700000000 },
		{ "2023-11-14T22:13:20", 0, 0 },
		{ "yesterday", 0, 0 },
		{ "2023-11-14T22:13:20.Z", 0, 0 },
		{ "2023-11-14T25:13:20Z", 0, 0 },
	};
	size_t i;
	double v;
	char out[40];

	for (i = 0; i < ARRAY_LEN(t); i++) {
		v = -1;
		int rc = parse_rfc3339(t[i].in, strlen(t[i].in), &v);
		CHECKF((rc == 0) == t[i].ok &&
		    (!t[i].ok || fabs(v - t[i].want) < 1e-6),
		    "rfc3339 '%s': rc %d v %f", t[i].in, rc, v);
	}
	format_rfc3339(1700000000.25, out, sizeof(out));
	CHECK_STR(out, "2023-11-14T22:13:20.250Z");
	format_rfc3339(0, out, sizeof(out));
	CHECK_STR(out, "1970-01-01T00:00:00.000Z");
	/* the same again (copied from the last), then a millisecond on */
	format_rfc3339(0, out, sizeof(out));
	CHECK_STR(out, "1970-01-01T00:00:00.000Z");
	format_rfc3339(0.001, out, sizeof(out));
	CHECK_STR(out, "1970-01-01T00:00:00.001Z");
	format_rfc3339(1700000000.25, out, 11);
	CHECK_STR(out, "2023-11-14");
	/* the date is kept for the day, the time of day computed */
	format_rfc3339(1700006399.999, out, sizeof(out));
	CHECK_STR(out, "2023-11-14T23:59:59.999Z");
	format_rfc3339(1700006400, out, sizeof(out));
	CHECK_STR(out, "2023-11-15T00:00:00.000Z");
	format_rfc3339(1700006399.9996, out, sizeof(out));	/* rounds up */
	CHECK_STR(out, "2023-11-15T00:00:00.000Z");
	format_rfc3339(1700003723.042, out, sizeof(out));	/* back a day */
	CHECK_STR(out, "2023-11-14T23:15:23.042Z");
	format_rfc3339(-1, out, sizeof(out));
	CHECK_STR(out, "1969-12-31T23:59:59.000Z");
	format_rfc3339(-0.5, out, sizeof(out));
	CHECK_STR(out, "1969-12-31T23:59:59.500Z");
	format_rfc3339(951782400 + 43200.5, out, sizeof(out));	/* leap day */
	CHECK_STR(out, "2000-02-29T12:00:00.500Z");
	CHECK(fabs(stream_id_time("1700000000123-0") - 1700000000.123) < 1e-9);
	CHECK(stream_id_time("abc") < 0);
	CHECK(parse_epoch("1700000000", 10, &v) == 0 && v == 1700000000);
	CHECK(parse_epoch("1700000000.5", 12, &v) == 0 && v == 1700000000.5);
	CHECK(parse_epoch("-5", 2, &v) == -1);
	CHECK(parse_epoch("1e9", 3, &v) == -1);
}

static void
test_numbers_bools(void)
{
	static const struct { const char *in; int ok; double want; } t[] = {
		{ "2", 1, 2 }, { "-2", 1, -2 }, { "2.5", 1, 2.5 },
		{ "1e3", 1, 1000 }, { ".5", 1, 0.5 }, { "5.", 1, 5 },
		{ "", 0, 0 }, { " 2", 0, 0 }, { "2 ", 0, 0 }, { "0x10", 0, 0 },
		{ "inf", 0, 0 }, { "nan", 0, 0 }, { "1e", 0, 0 }, { "-", 0, 0 },
		{ "abc", 0, 0 }, { "1e400", 0, 0 },
	};
	size_t i;
	double v;
	bool b;

	for (i = 0; i < ARRAY_LEN(t); i++) {
		bool ok = parse_number(t[i].in, strlen(t[i].in), &v);
		CHECKF(ok == (bool)t[i].ok && (!ok || v == t[i].want),
		    "number '%s'", t[i].in);
	}
	/* the integer fast path gives what strtod gives, bit for bit */
	{
		static const char *const ints[] = { "0", "-0", "+0", "7", "+7",
		    "-7", "007", "-00", "99", "100", "123456789012345",
		    "-123456789012345", "999999999999999", "1234567890123456",
		    "-99999999999999999", "+12345678901234" };
		double w;

		for (i = 0; i < ARRAY_LEN(ints); i++) {
			w = strtod(ints[i], NULL);
			CHECKF(parse_number(ints[i], strlen(ints[i]), &v) &&
			    memcmp(&v, &w, sizeof(v)) == 0, "integer '%s'",
			    ints[i]);
		}
	}
	CHECK(parse_bool("YES", 3, &b) && b);
	CHECK(parse_bool("no", 2, &b) && !b);
	CHECK(parse_bool("1", 1, &b) && b);
	CHECK(parse_bool("False", 5, &b) && !b);
	CHECK(!parse_bool("maybe", 5, &b));
	CHECK(!parse_bool("", 0, &b));
}

static void
test_utf8_json(void)
{
	struct buf b;

	CHECK(utf8_valid("caf\xc3\xa9", 5));
	CHECK(utf8_valid("\xe6\x97\xa5\xe6\x9c\xac", 6));
	CHECK(utf8_valid("\xf0\x9f\x98\x80", 4));
	CHECK(!utf8_valid("\xc0\xaf", 2));		/* overlong '/' */
	CHECK(!utf8_valid("\xed\xa0\x80", 3));		/* surrogate */
	CHECK(!utf8_valid("\xff", 1));
	CHECK(!utf8_valid("\xe6\x97", 2));		/* truncated */
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */

	buf_init(&b);
	buf_json_string(&b, "a\"b\\c\nd\te\x01", 10);
	CHECK_STR(b.data, "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
	buf_reset(&b);
	buf_json_escape(&b, "caf\xc3\xa9 \xf0\x9f\x98\x80", 10);
	CHECK_STR(b.data, "caf\xc3\xa9 \xf0\x9f\x98\x80");
	buf_reset(&b);
	buf_json_escape(&b, "a\xffz", 3);
	CHECK_STR(b.data, "a\xef\xbf\xbdz");
	/* each byte alone: as it is, escaped, or U+FFFD (a lone byte of
	 * 0x80 or more is no UTF-8) */
	{
		unsigned char c;
		char one[1], want[16];
		int k;

		for (k = 0; k < 256; k++) {
			c = (unsigned char)k;
			one[0] = (char)c;
			if (c == '"' || c == '\\')
				snprintf(want, sizeof(want), "\\%c", c);
			else if (c == '\n')
				snprintf(want, sizeof(want), "\\n");
			else if (c == '\r')
				snprintf(want, sizeof(want), "\\r");
			else if (c == '\t')
				snprintf(want, sizeof(want), "\\t");
			else if (c == '\b')
				snprintf(want, sizeof(want), "\\b");
			else if (c == '\f')
				snprintf(want, sizeof(want), "\\f");
			else if (c < 0x20)
				snprintf(want, sizeof(want), "\\u%04x", c);
			else if (c >= 0x80)
				snprintf(want, sizeof(want), "\xef\xbf\xbd");
			else
				snprintf(want, sizeof(want), "%c", c);
			buf_reset(&b);
			buf_json_escape(&b, one, 1);
			CHECKF(strcmp(b.data, want) == 0, "byte 0x%02x: %s",
			    k, b.data);
		}
	}
	buf_reset(&b);
	buf_printf(&b, "%d-%s", 42, "x");
	CHECK_STR(b.data, "42-x");
	CHECK_INT(b.len, 4);
	buf_free(&b);
}

static void
test_suggest(void)
{
	static const char *const keys[] = { "severity", "cooldown", "actions",
	    "escalate", NULL };

	CHECK_INT(edit_distance("kitten", "sitting"), 3);
	CHECK_INT(edit_distance("", "abc"), 3);
	CHECK_INT(edit_distance("csta", "csat"), 1);
	CHECK_INT(edit_distance("kye", "key"), 1);
	CHECK_INT(edit_distance("ca", "abc"), 3);
	CHECK_STR(did_you_mean("severty", keys, 4), "severity");
	CHECK_STR(did_you_mean("action", keys, 4), "actions");
	CHECK(did_you_mean("zzz", keys, 4) == NULL);
	{
		static const char *const f[] = { "csat", "nps", "ces", NULL };
		CHECK_STR(did_you_mean("csta", f, 3), "csat");
	}
	CHECK(did_you_mean("escalation", keys, 4) == NULL ||
	    strcmp(did_you_mean("escalation", keys, 4), "escalate") == 0);
	/* hex_digit: what the %XX decoders (form bodies, redis.url) use */
	CHECK(hex_digit('0') == 0 && hex_digit('9') == 9);
	CHECK(hex_digit('a') == 10 && hex_digit('F') == 15);
	CHECK(hex_digit('g') == -1 && hex_digit('/') == -1 &&
	    hex_digit(':') == -1 && hex_digit('@') == -1 && hex_digit('`') == -1);
}

static void
test_arena(void)
{
	struct arena a;
	char *p, *q;
	size_t before;
	int i;

	arena_init(&a);
	p = arena_strndup(&a, "hello", 5);
	CHECK_STR(p, "hello");
	q = arena_alloc(&a, 100000);	/* larger than a chunk */
	memset(q, 1, 100000);
	CHECK(((uintptr_t)q & 15) == 0);
	arena_reset(&a);
	before = a.allocated;
	for (i = 0; i < 100; i++) {
		arena_reset(&a);
		(void)arena_alloc(&a, 1000);
	}
	CHECKF(a.allocated == before, "arena reuses its chunk: %zu -> %zu",
	    before, a.allocated);
	arena_free(&a);
	/* an arena costs about what it holds (the daemon keeps one per
	 * entry of each batch in flight): a small event's few strings take
	 * one small chunk; growing doubles, a few chunks for 100 KB */
	arena_init(&a);
	for (i = 0; i < 12; i++)
		(void)arena_strndup(&a, "customer_id=K1234", 17);
	CHECKF(a.allocated <= 2048, "12 short strings: %zu bytes", a.allocated);
	for (i = 0; i < 1000; i++)
		(void)arena_alloc(&a, 100);
	CHECKF(a.allocated < 4 * 1000 * 112, "100 KB in %zu bytes",
	    a.allocated);
	arena_reset(&a);
	CHECKF(a.allocated >= 112 * 1000 / 2, "reset keeps the largest: %zu",
	    a.allocated);
	arena_free(&a);
}

static void
test_values(void)
{
	struct value n2 = value_str("2", 1), n20 = value_str("2.0", 3);
	struct value j2 = value_num(2, "2", 1), t = value_bool(true);
	struct value yes = value_str("yes", 3), abc = value_str("abc", 3);
	struct value abd = value_str("abd", 3), miss = { 0 };
	int c;

	CHECK(value_equal(&n2, &n20));
	CHECK(value_equal(&n2, &j2));
	CHECK(value_equal(&yes, &t));
	CHECK(!value_equal(&abc, &t));
	CHECK(!value_equal(&miss, &miss));
	CHECK(!value_equal(&abc, &n2));
	CHECK(value_compare(&abc, &abd, &c) && c < 0);
	CHECK(value_compare(&j2, &n20, &c) && c == 0);
	CHECK(!value_compare(&abc, &n2, &c));
	CHECK(!value_compare(&miss, &n2, &c));
	CHECK(value_truthy(&yes));
	CHECK(value_truthy(&j2));
	CHECK(!value_truthy(&miss));
	CHECK(value_truthy(&abc));
	{
		struct value z = value_str("0", 1), f = value_str("false", 5);
		struct value e = value_str("", 0);
		CHECK(!value_truthy(&z));
		CHECK(!value_truthy(&f));
		CHECK(!value_truthy(&e));
	}
}

/* fmt_ll and str_copy/str_cat: what snprintf "%lld" and "%s" give,
 * at the extremes and when cut. */
static void
test_formatting(void)
{
	static const long long nums[] = { 0, 7, -7, 10, 255, -1000,
	    1796177844113LL, LLONG_MAX, LLONG_MIN };
	char out[FMT_LL_MAX], want[32], small[6];
	struct buf b;
	size_t i, l, at;

	for (i = 0; i < ARRAY_LEN(nums); i++) {
		snprintf(want, sizeof(want), "%lld", nums[i]);
		l = fmt_ll(out, nums[i]);
		CHECKF(strcmp(out, want) == 0 && l == strlen(want),
		    "fmt_ll %s: '%s' (%zu)", want, out, l);
	}
	/* fmt_integral: the digits "%.0f", "%.15g" and "%.17g" all give,
	 * or false */
	{
		static const double ints[] = { 0, 1, -1, 10, 1796177844113.0,
		    999999999999999.0, -999999999999999.0 };
		static const double not[] = { 0.5, -0.0, 1e15, -1e15, 1e300,
		    NAN, INFINITY };

		for (i = 0; i < ARRAY_LEN(ints); i++) {
			snprintf(want, sizeof(want), "%.0f", ints[i]);
			CHECKF(fmt_integral(out, ints[i]) &&
			    strcmp(out, want) == 0, "fmt_integral %s: '%s'",
			    want, out);
			snprintf(want, sizeof(want), "%.15g", ints[i]);
			CHECKF(strcmp(out, want) == 0, "as %%.15g %s", want);
		}
		for (i = 0; i < ARRAY_LEN(not); i++)
			CHECKF(!fmt_integral(out, not[i]), "fmt_integral %g "
			    "refused", not[i]);
	}
	buf_init(&b);
	buf_puts(&b, "n=");
	buf_put_ll(&b, -42);
	CHECK(b.len == 5 && memcmp(b.data, "n=-42", 5) == 0);
	buf_free(&b);
	CHECK_STR(str_copy(small, sizeof(small), "abc"), "abc");
	CHECK_STR(str_copy(small, sizeof(small), "abcdefgh"), "abcde");
	CHECK_STR(str_copy(small, sizeof(small), ""), "");
	at = 0;
	str_cat(small, sizeof(small), &at, "ab");
	str_cat(small, sizeof(small), &at, "/");
	CHECK(strcmp(small, "ab/") == 0 && at == 3);
	str_cat(small, sizeof(small), &at, "cdef");	/* cut */
	CHECK(strcmp(small, "ab/cd") == 0 && at == 5);
	str_cat(small, sizeof(small), &at, "x");	/* full: stays */
	CHECK(strcmp(small, "ab/cd") == 0 && at == 5);
}

int
main(void)
{
	test_durations();
	test_times();
	test_numbers_bools();
	test_utf8_json();
	test_suggest();
	test_arena();
	test_values();
	test_formatting();
	return harness_done();
}
