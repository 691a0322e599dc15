/*
 * test_event.c — the README's "Events" as tables: each bad input with the
 * error kind and a piece of the message it must produce, the two input forms
 * giving the same event, flattening, lists, ts forms and enrichment.
 *
 * Flat entries are written as "name\nvalue\nname\nvalue..." so a table row
 * stays one string literal (invalid UTF-8 included).
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "harness.h"
#include "util.h"
#include "value.h"

#define ID	"1700000000123-0"
#define MAXP	600

static char errbuf[512];

/* from_flat: split spec on '\n' into name/value pairs (explicit lengths,
 * so NUL-free specs only) and build ev from them. */
static enum event_err
from_flat(struct evt *ev, const char *spec)
{
	static const char *names[MAXP], *vals[MAXP];
	static size_t nlens[MAXP], vlens[MAXP];
	const char *p = spec, *nl;
	size_t n = 0, len;
	int which = 0;

	for (;;) {
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (which == 0) {
			names[n] = p;
			nlens[n] = len;
		} else {
			vals[n] = p;
			vlens[n] = len;
			n++;
		}
		which ^= 1;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	errbuf[0] = '\0';
	return evt_from_fields(ev, ID, names, nlens, vals, vlens, n,
	    errbuf, sizeof(errbuf));
}

static enum event_err
from_json(struct evt *ev, const char *json)
{
	errbuf[0] = '\0';
	return evt_from_json(ev, "line 1", json, strlen(json), 42.0,
	    errbuf, sizeof(errbuf));
}

struct bad {
	const char	*in;
	enum event_err	 want;
	const char	*msg;	/* substring of the message; NULL: no check */
};

#define R "type\nrating\ncall_id\nC1\ncustomer_id\nK9\n"
#define C "type\ncall\ncall_id\nC1\ncustomer_id\nK9\n"
#define P "type\ncomplaint\ncomplaint_id\nP1\ncustomer_id\nK9\n"

static const struct bad flat_cases[] = {
	/* valid rows, and the bounds just inside */
	{ R "csat\n1", EVERR_NONE, NULL },
	{ R "csat\n5", EVERR_NONE, NULL },
	{ R "csat\n4.0", EVERR_NONE, NULL },
	{ R "nps\n0", EVERR_NONE, NULL },
	{ R "nps\n10", EVERR_NONE, NULL },
	{ R "ces\n1", EVERR_NONE, NULL },
	{ R "ces\n7", EVERR_NONE, NULL },
	{ R "csat\n3\nresolved\nYES", EVERR_NONE, NULL },
	{ R "csat\n3\nresolved\n0", EVERR_NONE, NULL },
	{ R "csat\n3\nresolved\nFalse", EVERR_NONE, NULL },
	{ C "wait_s\n0\ntalk_s\n12.5\nhold_s\n3\ntransfers\n0\nabandoned\nno",
	  EVERR_NONE, NULL },
	{ C "transfers\n2.0", EVERR_NONE, NULL },
	{ P "severity\ncritical", EVERR_NONE, NULL },
	{ P "severity\nlow", EVERR_NONE, NULL },
	{ "type\nsurvey_started", EVERR_NONE, NULL },
	{ "type\nwhatever\nsome.dotted.name\nx", EVERR_NONE, NULL },
	/* just outside the bounds */
	{ R "csat\n0", EVERR_RANGE, "rating: csat=0 out of range 1..5" },
	{ R "csat\n6", EVERR_RANGE, "rating: csat=6 out of range 1..5" },
	{ R "csat\n7", EVERR_RANGE, "rating: csat=7 out of range 1..5" },
	{ R "nps\n-1", EVERR_RANGE, "rating: nps=-1 out of range 0..10" },
	{ R "nps\n11", EVERR_RANGE, "rating: nps=11 out of range 0..10" },
	{ R "ces\n0", EVERR_RANGE, "rating: ces=0 out of range 1..7" },
	{ R "ces\n8", EVERR_RANGE, "rating: ces=8 out of range 1..7" },
	{ C "wait_s\n-1", EVERR_RANGE, "call: wait_s=-1 out of range" },
	{ C "hold_s\n-0.5", EVERR_RANGE, "call: hold_s=-0.5 out of range" },
	{ C "transfers\n-1", EVERR_RANGE, "call: transfers=-1 out of range" },
	/* ill-typed values */
	{ R "csat\n4.5", EVERR_BAD_VALUE, "rating: csat=4.5 is not an integer" },
	{ R "csat\nfour", EVERR_BAD_VALUE, "rating: csat='four' is not an integer" },
	{ R "nps\n", EVERR_BAD_VALUE, "rating: nps='' is not an integer" },
	{ C "transfers\n1.5", EVERR_BAD_VALUE, "call: transfers=1.5 is not an integer" },
	{ C "talk_s\nlong", EVERR_BAD_VALUE, "call: talk_s='long' is not a number" },
	{ C "wait_s\n0x10", EVERR_BAD_VALUE, "call: wait_s='0x10' is not a number" },
	{ P "severity\nurgent", EVERR_BAD_VALUE,
	  "complaint: severity='urgent' is not one of low, medium, high, critical" },
	{ P "severity\nHigh", EVERR_BAD_VALUE, "severity='High'" },
	/* booleans */
	{ R "csat\n3\nresolved\nmaybe", EVERR_BAD_VALUE,
	  "rating: resolved='maybe' is not a boolean (true/false/yes/no/1/0)" },
	{ R "csat\n3\nresolved\n2", EVERR_BAD_VALUE, "resolved=2 is not a boolean" },
	{ C "abandoned\ny", EVERR_BAD_VALUE, "call: abandoned='y' is not a boolean" },
	/* missing fields */
	{ "call_id\nC1", EVERR_NO_TYPE, "missing field 'type'" },
	{ "type\n", EVERR_NO_TYPE, "'type'" },
	{ "type\nrating\ncustomer_id\nK9\ncsat\n3", EVERR_MISSING,
	  "rating: missing field 'call_id'" },
	{ "type\nrating\ncall_id\nC1\ncsat\n3", EVERR_MISSING,
	  "rating: missing field 'customer_id'" },
	{ R "comment\nfine", EVERR_MISSING,
	  "rating: needs at least one of csat, nps, ces" },
	{ "type\nrating\ncall_id\n\ncustomer_id\nK9\ncsat\n3", EVERR_MISSING,
	  "rating: field 'call_id' is empty" },
	{ "type\ncall\ncustomer_id\nK9", EVERR_MISSING,
	  "call: missing field 'call_id'" },
	{ "type\ncomplaint\ncustomer_id\nK9", EVERR_MISSING,
	  "complaint: missing field 'complaint_id'" },
	{ "type\ncomplaint\ncomplaint_id\nP1", EVERR_MISSING,
	  "complaint: missing field 'customer_id'" },
	/* ts */
	{ R "csat\n3\nts\nyesterday", EVERR_BAD_VALUE,
	  "rating: ts='yesterday' is not epoch seconds or RFC 3339" },
	{ R "csat\n3\nts\n-5", EVERR_TS_SKEW, "rating: ts=-5 is before 1970" },
	{ "type\nx\nts\n2026-13-01T00:00:00Z", EVERR_BAD_VALUE, "x: ts=" },
	/* UTF-8: truncated, overlong, surrogate, bad lead byte */
	{ R "csat\n3\ncomment\nab\xc3", EVERR_UTF8,
	  "field 'comment': invalid UTF-8" },
	{ R "csat\n3\ncomment\n\xc0\xaf", EVERR_UTF8,
	  "field 'comment': invalid UTF-8" },
	{ R "csat\n3\ncomment\n\xe0\x80\xaf", EVERR_UTF8, "invalid UTF-8" },
	{ R "csat\n3\ncomment\n\xed\xa0\x80", EVERR_UTF8, "invalid UTF-8" },
	{ R "csat\n3\ncomment\n\xf8\x88\x80\x80\x80", EVERR_UTF8, "invalid UTF-8" },
	{ R "csat\n3\nco\xffmment\nx", EVERR_UTF8, "field name 'co" },
	{ R "csat\n3\n\xed\xbf\xbf\nx", EVERR_UTF8, "invalid UTF-8" },
	{ R "csat\n3\ncomment\nd\xc3\xa9j\xc3\xa0 \xe6\x97\xa5\xf0\x9f\x98\x80",
	  EVERR_NONE, NULL },
	/* names */
	{ R "csat\n3\n\nempty name", EVERR_BAD_VALUE, "field name '' is empty" },
	{ R "csat\n3\n"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "\nx", EVERR_NONE, NULL },
	{ R "csat\n3\n"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "b\nx", EVERR_BAD_VALUE, "...' is over 256 bytes" },
	/* the json field */
	{ "json\n{\"type\":", EVERR_JSON, "json: " },
	{ "json\n[1,2]", EVERR_JSON, "json: not an object (got an array)" },
	{ "json\n\"rating\"", EVERR_JSON, "not an object (got a string)" },
	{ "json\n{\"type\":\"x\",\"type\":\"y\"}", EVERR_JSON, "duplicate" },
	{ "json\n{\"type\":\"x\",\"a\":\"\xc3(\"}", EVERR_UTF8,
	  "field 'json': invalid UTF-8" },
};

static const struct bad json_cases[] = {
	{ "{\"type\":\"rating\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
	  "\"csat\":4.0}", EVERR_NONE, NULL },
	{ "{\"type\":\"rating\",\"call_id\":1,\"customer_id\":2,\"nps\":10,"
	  "\"resolved\":true}", EVERR_NONE, NULL },
	{ "{\"type\":\"rating\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
	  "\"csat\":4.5}", EVERR_BAD_VALUE, "rating: csat=4.5 is not an integer" },
	{ "{\"type\":\"rating\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
	  "\"csat\":7}", EVERR_RANGE, "rating: csat=7 out of range 1..5" },
	{ "{\"type\":\"rating\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
	  "\"csat\":true}", EVERR_BAD_VALUE, "csat=true is not an integer" },
	{ "{\"type\":\"rating\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
	  "\"csat\":[3]}", EVERR_BAD_VALUE, "csat=[3] is not an integer" },
	{ "{\"type\":\"rating\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
	  "\"csat\":null}", EVERR_MISSING, "needs at least one of" },
	{ "{\"type\":\"rating\",\"call_id\":null,\"customer_id\":\"K9\","
	  "\"csat\":3}", EVERR_MISSING, "rating: missing field 'call_id'" },
	{ "{\"type\":\"rating\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
	  "\"csat\":3,\"resolved\":\"maybe\"}", EVERR_BAD_VALUE,
	  "rating: resolved='maybe' is not a boolean" },
	{ "{\"type\":\"call\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
	  "\"abandoned\":1,\"wait_s\":0.5}", EVERR_NONE, NULL },
	{ "{\"type\":\"call\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
	  "\"abandoned\":2}", EVERR_BAD_VALUE, "abandoned=2 is not a boolean" },
	{ "{\"type\":\"call\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
	  "\"wait_s\":-3}", EVERR_RANGE, "call: wait_s=-3 out of range" },
	{ "{\"type\":\"call\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
	  "\"transfers\":1.5}", EVERR_BAD_VALUE, "transfers=1.5 is not an integer" },
	{ "{\"type\":\"complaint\",\"complaint_id\":\"P\",\"customer_id\":\"K\","
	  "\"severity\":\"bad\"}", EVERR_BAD_VALUE, "severity='bad'" },
	{ "{\"type\":5}", EVERR_BAD_VALUE, "type=5 is not a string" },
	{ "{\"type\":null}", EVERR_NO_TYPE, "missing field 'type'" },
	{ "{}", EVERR_NO_TYPE, "missing field 'type'" },
	{ "{\"type\":\"x\",\"ts\":\"yesterday\"}", EVERR_BAD_VALUE,
	  "x: ts='yesterday' is not epoch seconds or RFC 3339" },
	{ "{\"type\":\"x\",\"ts\":-1}", EVERR_TS_SKEW, "x: ts=-1 is before" },
	{ "", EVERR_JSON, "json: " },
	{ "{\"type\":\"x\",}", EVERR_JSON, "at line 1 column" },
	{ "{\"type\":\"x\"} trailing", EVERR_JSON, "json: " },
	{ "[1,2]", EVERR_JSON, "json: not an object (got an array)" },
	{ "42", EVERR_JSON, "json: not an object (got a number)" },
	{ "null", EVERR_JSON, "json: not an object (got null)" },
	{ "{\"type\":\"x\",\"type\":\"x\"}", EVERR_JSON, "duplicate" },
	{ "{\"type\":\"x\",\"a\":\"\\u0000\"}", EVERR_NUL,
	  "json: a NUL character (\\u0000) at byte 17" },
	{ "{\"type\":\"x\",\"a\":\"\\ud800\"}", EVERR_JSON, "json: " },
	{ "{\"type\":\"x\",\"a\":\"\xff\"}", EVERR_UTF8, "json: invalid UTF-8" },
	{ "{\"type\":\"x\",\"\":1}", EVERR_BAD_VALUE, "json: empty key in ''" },
	{ "{\"type\":\"x\",\"a\":{\"b\\n\":{\"\":1}}}", EVERR_BAD_VALUE,
	  "json: empty key in 'a.b?'" },
	{ "{\"type\":\"x\",\"a.b\":1,\"a\":{\"b\":2}}", EVERR_BAD_VALUE,
	  "field 'a.b' appears twice" },
	{ "{\"type\":\"x\",\"s\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}",
	  EVERR_NONE, NULL },
};

static void
test_tables(void)
{
	struct evt ev;
	enum event_err e;
	size_t i;

	evt_init(&ev);
	for (i = 0; i < ARRAY_LEN(flat_cases); i++) {
		e = from_flat(&ev, flat_cases[i].in);
		CHECKF(e == flat_cases[i].want, "flat row %zu: got %s (%s), "
		    "want %s", i, evt_err_reason(e), errbuf,
		    evt_err_reason(flat_cases[i].want));
		if (flat_cases[i].msg != NULL)
			CHECKF(strstr(errbuf, flat_cases[i].msg) != NULL,
			    "flat row %zu: message \"%s\" lacks \"%s\"", i,
			    errbuf, flat_cases[i].msg);
	}
	for (i = 0; i < ARRAY_LEN(json_cases); i++) {
		e = from_json(&ev, json_cases[i].in);
		CHECKF(e == json_cases[i].want, "json row %zu: got %s (%s), "
		    "want %s", i, evt_err_reason(e), errbuf,
		    evt_err_reason(json_cases[i].want));
		if (json_cases[i].msg != NULL)
			CHECKF(strstr(errbuf, json_cases[i].msg) != NULL,
			    "json row %zu: message \"%s\" lacks \"%s\"", i,
			    errbuf, json_cases[i].msg);
	}
	evt_free(&ev);
}

/* Generated inputs: size, depth and field-count limits at the boundary. */
static void
test_limits(void)
{
	struct evt ev;
	struct buf b;
	const char **names, **vals;
	size_t *nl, *vl, i;
	char (*nbuf)[16];
	enum event_err e;
	int d;

	evt_init(&ev);
	buf_init(&b);

	/* depth: 32 levels is fine, 33 is not */
	for (d = 32; d <= 33; d++) {
		buf_reset(&b);
		buf_puts(&b, "{\"type\":\"x\",\"a\":");
		for (i = 1; i < (size_t)d; i++)
			buf_puts(&b, "{\"a\":");
		buf_putc(&b, '1');
		for (i = 0; i < (size_t)d; i++)
			buf_putc(&b, '}');
		e = evt_from_json(&ev, "d", b.data, b.len, 0, errbuf,
		    sizeof(errbuf));
		if (d == 32)
			CHECKF(e == EVERR_NONE, "depth 32: %s", errbuf);
		else {
			CHECK_INT(e, EVERR_DEPTH);
			CHECK(strstr(errbuf, "nested deeper than 32") != NULL);
		}
	}
	/* depth through arrays too, and the flat "json" field */
	buf_reset(&b);
	buf_puts(&b, "{\"type\":\"x\",\"a\":");
	for (i = 0; i < 32; i++)
		buf_putc(&b, '[');
	for (i = 0; i < 32; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '}');
	e = evt_from_json(&ev, "d", b.data, b.len, 0, errbuf, sizeof(errbuf));
	CHECK_INT(e, EVERR_DEPTH);
	{
		/* the same through the flat form's "json" field */
		char *flat = xasprintf("json\n%s", b.data);

		CHECK_INT(from_flat(&ev, flat), EVERR_DEPTH);
		CHECK(strstr(errbuf, "json: nested deeper than 32 levels") !=
		    NULL);
		free(flat);
	}
	/* a very deep hostile document is refused before jansson sees it */
	buf_reset(&b);
	for (i = 0; i < 100000; i++)
		buf_putc(&b, '[');
	e = evt_from_json(&ev, "d", b.data, b.len, 0, errbuf, sizeof(errbuf));
	CHECK_INT(e, EVERR_SIZE);
	buf_reset(&b);
	for (i = 0; i < 60000; i++)
		buf_putc(&b, '[');
	e = evt_from_json(&ev, "d", b.data, b.len, 0, errbuf, sizeof(errbuf));
	CHECK_INT(e, EVERR_DEPTH);

	/* size: 65536 bytes is fine, 65537 is not */
	for (i = 65536; i <= 65537; i++) {
		const char *nm[2] = { "type", "comment" };
		const char *vs[2] = { "x", NULL };
		size_t nls[2] = { 4, 7 }, vls[2] = { 1, 0 };
		char *big = malloc(i);

		memset(big, 'a', i);
		vs[1] = big;
		vls[1] = i - 4 - 1 - 7;
		e = evt_from_fields(&ev, ID, nm, nls, vs, vls, 2, errbuf,
		    sizeof(errbuf));
		if (i == 65536)
			CHECKF(e == EVERR_NONE, "64 KiB: %s", errbuf);
		else {
			CHECK_INT(e, EVERR_SIZE);
			CHECK_STR(errbuf, "entry is 65537 bytes, over the "
			    "65536-byte limit");
		}
		free(big);
	}
	buf_reset(&b);
	buf_puts(&b, "{\"type\":\"x\",\"c\":\"");
	while (b.len < 70000 - 2)
		buf_putc(&b, 'a');
	buf_puts(&b, "\"}");
	e = evt_from_json(&ev, "s", b.data, b.len, 0, errbuf, sizeof(errbuf));
	CHECK_INT(e, EVERR_SIZE);
	CHECK_STR(errbuf, "entry is 70000 bytes, over the 65536-byte limit");

	/* fields: 256 is fine, 257 is not, in both forms */
	names = calloc(300, sizeof(*names));
	vals = calloc(300, sizeof(*vals));
	nl = calloc(300, sizeof(*nl));
	vl = calloc(300, sizeof(*vl));
	nbuf = calloc(300, sizeof(*nbuf));
	for (i = 0; i < 300; i++) {
		snprintf(nbuf[i], sizeof(nbuf[i]), i ? "f%zu" : "type", i);
		names[i] = nbuf[i];
		nl[i] = strlen(nbuf[i]);
		vals[i] = "v";
		vl[i] = 1;
	}
	e = evt_from_fields(&ev, ID, names, nl, vals, vl, 256, errbuf,
	    sizeof(errbuf));
	CHECKF(e == EVERR_NONE, "256 fields: %s", errbuf);
	CHECK_INT(ev.nfields, 256);
	e = evt_from_fields(&ev, ID, names, nl, vals, vl, 257, errbuf,
	    sizeof(errbuf));
	CHECK_INT(e, EVERR_FIELDS);
	CHECK(strstr(errbuf, "257 fields") != NULL);
	for (d = 256; d <= 257; d++) {
		buf_reset(&b);
		buf_puts(&b, "{\"type\":\"v\"");
		for (i = 1; i < (size_t)d; i++)
			buf_printf(&b, ",\"f%zu\":%zu", i, i);
		buf_puts(&b, "}");
		e = evt_from_json(&ev, "f", b.data, b.len, 0, errbuf,
		    sizeof(errbuf));
		CHECK_INT(e, d == 256 ? EVERR_NONE : EVERR_FIELDS);
	}
	/* a json field plus flat fields beyond the limit */
	names[0] = "json";
	nl[0] = 4;
	vals[0] = b.data;	/* 257 keys */
	vl[0] = b.len;
	e = evt_from_fields(&ev, ID, names, nl, vals, vl, 1, errbuf,
	    sizeof(errbuf));
	CHECK_INT(e, EVERR_FIELDS);
	free(names);
	free(vals);
	free(nl);
	free(vl);
	free(nbuf);
	buf_free(&b);
	evt_free(&ev);
}

/* fields_equal: same keys with the same text and interpretations. */
static int
fields_equal(const struct evt *a, const struct evt *b)
{
	const struct value *va, *vb;
	size_t i;

	if (a->nfields != b->nfields)
		return 0;
	for (i = 0; i < a->nfields; i++) {
		va = &a->fields[i].v;
		if ((vb = evt_get(b, a->fields[i].key)) == NULL)
			return 0;
		if (va->len != vb->len || strcmp(va->s, vb->s) != 0 ||
		    va->has_num != vb->has_num || va->has_bool != vb->has_bool ||
		    (va->has_num && va->num != vb->num))
			return 0;
	}
	return 1;
}

static void
test_forms(void)
{
	static const struct {
		const char *flat, *json;
	} pairs[] = {
		{ R "csat\n2\nagent_id\nA7\nqueue\nbilling",
		  "{\"type\":\"rating\",\"call_id\":\"C1\",\"customer_id\":"
		  "\"K9\",\"csat\":\"2\",\"agent_id\":\"A7\",\"queue\":"
		  "\"billing\"}" },
		{ C "wait_s\n12.5\nabandoned\nyes",
		  "{\"type\":\"call\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
		  "\"wait_s\":\"12.5\",\"abandoned\":\"yes\"}" },
		{ "type\nx\ncomment\nd\xc3\xa9j\xc3\xa0",
		  "{\"type\":\"x\",\"comment\":\"d\\u00e9j\\u00e0\"}" },
	};
	struct evt a, b;
	size_t i;

	evt_init(&a);
	evt_init(&b);
	for (i = 0; i < ARRAY_LEN(pairs); i++) {
		CHECK_INT(from_flat(&a, pairs[i].flat), EVERR_NONE);
		CHECK_INT(from_json(&b, pairs[i].json), EVERR_NONE);
		CHECKF(fields_equal(&a, &b), "pair %zu differs", i);
		CHECK_STR(a.type, b.type);
	}
	/* A JSON number and a flat numeric text compare the same. */
	CHECK_INT(from_json(&b, "{\"type\":\"x\",\"n\":2}"), EVERR_NONE);
	CHECK_INT(from_flat(&a, "type\nx\nn\n2"), EVERR_NONE);
	CHECK(evt_get(&a, "n")->has_num && evt_get(&b, "n")->has_num);
	CHECK(evt_get(&a, "n")->num == evt_get(&b, "n")->num);
	CHECK_INT(evt_get(&a, "n")->kind, V_STR);
	CHECK_INT(evt_get(&b, "n")->kind, V_NUM);

	/* flat fields beside json fill only the keys the object lacks */
	CHECK_INT(from_flat(&a, "type\nignored\njson\n{\"type\":\"rating\","
	    "\"call_id\":\"C1\",\"customer_id\":\"K9\",\"nps\":3,"
	    "\"customer\":{\"tier\":\"gold\"}}\nnps\n9\nqueue\nsales\n"
	    "customer\nflat\ncustomer.ltv\n100"), EVERR_NONE);
	CHECK_STR(a.type, "rating");
	CHECK_STR(evt_get(&a, "nps")->s, "3");
	CHECK_STR(evt_get(&a, "queue")->s, "sales");
	CHECK_STR(evt_get(&a, "customer.tier")->s, "gold");
	CHECK_STR(evt_get(&a, "customer.ltv")->s, "100");
	CHECK(evt_get(&a, "customer") == NULL);
	CHECK(evt_get(&a, "json") == NULL);
	CHECK_INT(a.nfields, 7);
	CHECK_STR(a.id, ID);
	/* repeated flat names: the first wins */
	CHECK_INT(from_flat(&a, "type\nx\nq\n1\nq\n2"), EVERR_NONE);
	CHECK_STR(evt_get(&a, "q")->s, "1");
	CHECK_INT(a.nfields, 2);
	evt_free(&a);
	evt_free(&b);
}

static void
test_json_shapes(void)
{
	struct evt ev;
	const struct value *v;
	struct value lv;

	evt_init(&ev);
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"customer\":{\"tier\":"
	    "\"gold\",\"crm\":{\"ltv\":1200.5,\"vip\":true,\"note\":null}},"
	    "\"tags\":[\"a\",2,false,null,[1,2],{\"k\":\"v\"}],\"empty\":[],"
	    "\"r\":0.1,\"big\":1e300,\"i\":-17,\"f\":4.0,\"s\":\"q\\\"\\n\"}"),
	    EVERR_NONE);
	CHECK_STR(evt_get(&ev, "customer.tier")->s, "gold");
	CHECK(evt_get(&ev, "customer") == NULL);
	v = evt_get(&ev, "customer.crm.ltv");
	CHECK(v != NULL && v->kind == V_NUM && v->num == 1200.5);
	CHECK_STR(v->s, "1200.5");
	v = evt_get(&ev, "customer.crm.vip");
	CHECK(v != NULL && v->kind == V_BOOL && v->b);
	CHECK_STR(v->s, "true");
	CHECK(evt_lookup(&ev, "customer.crm.note", &lv));
	CHECK_INT(lv.kind, V_NULL);
	CHECK(!evt_lookup(&ev, "customer.crm.none", &lv));
	CHECK(!evt_lookup(&ev, "customer.crm", &lv));
	v = evt_get(&ev, "tags");
	CHECK(v != NULL && v->kind == V_LIST && v->nitems == 6);
	CHECK_STR(v->s, "[\"a\",2,false,null,[1,2],{\"k\":\"v\"}]");
	CHECK_STR(v->items[0].s, "a");
	CHECK(v->items[1].kind == V_NUM && v->items[1].num == 2);
	CHECK(v->items[2].kind == V_BOOL && !v->items[2].b);
	CHECK_INT(v->items[3].kind, V_NULL);
	CHECK(v->items[4].kind == V_STR && strcmp(v->items[4].s, "[1,2]") == 0);
	CHECK_STR(v->items[5].s, "{\"k\":\"v\"}");
	v = evt_get(&ev, "empty");
	CHECK(v != NULL && v->kind == V_LIST && v->nitems == 0);
	CHECK_STR(v->s, "[]");
	CHECK_STR(evt_get(&ev, "r")->s, "0.1");
	CHECK_STR(evt_get(&ev, "big")->s, "1e+300");
	CHECK_STR(evt_get(&ev, "i")->s, "-17");
	CHECK_STR(evt_get(&ev, "f")->s, "4.0");
	CHECK_STR(evt_get(&ev, "s")->s, "q\"\n");
	CHECK_INT(evt_get(&ev, "s")->len, 3);
	CHECK_STR(ev.type, "x");
	CHECK(ev.ts == 42.0);
	evt_free(&ev);
}

static void
test_ts(void)
{
	static const struct {
		const char *in;
		double want;
	} rows[] = {
		{ "type\nx\nts\n1700000000", 1700000000.0 },
		{ "type\nx\nts\n1700000000.25", 1700000000.25 },
		{ "type\nx\nts\n2023-11-14T22:13:20Z", 1700000000.0 },
		{ "type\nx\nts\n2023-11-14T23:13:20.5+01:00", 1700000000.5 },
		{ "type\nx", 1700000000.123 },
		{ "json\n{\"type\":\"x\",\"ts\":1700000000}", 1700000000.0 },
		{ "json\n{\"type\":\"x\",\"ts\":1700000000.75}", 1700000000.75 },
		{ "json\n{\"type\":\"x\",\"ts\":\"1700000001\"}", 1700000001.0 },
		{ "json\n{\"type\":\"x\",\"ts\":null}", 1700000000.123 },
	};
	const char *nm[1] = { "type" }, *vs[1] = { "x" };
	size_t nl[1] = { 4 }, vl[1] = { 1 }, i;
	struct evt ev;

	evt_init(&ev);
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		CHECKF(from_flat(&ev, rows[i].in) == EVERR_NONE, "ts row %zu: %s",
		    i, errbuf);
		CHECKF(fabs(ev.ts - rows[i].want) < 1e-6, "ts row %zu: got "
		    "%.6f want %.6f", i, ev.ts, rows[i].want);
	}
	/* an ID that is not a stream ID gives time 0 */
	CHECK_INT(evt_from_fields(&ev, "line 3", nm, nl, vs, vl, 1, errbuf,
	    sizeof(errbuf)), EVERR_NONE);
	CHECK(ev.ts == 0);
	CHECK_STR(ev.id, "line 3");
	evt_free(&ev);
}

static void
test_values_and_set(void)
{
	struct evt ev;
	const struct value *v;
	int i;

	evt_init(&ev);
	CHECK_INT(from_flat(&ev, R "csat\n2\nltv\n1200.50\nflag\nyes"),
	    EVERR_NONE);
	v = evt_get(&ev, "csat");
	CHECK(v->kind == V_STR && v->has_num && v->num == 2);
	v = evt_get(&ev, "ltv");
	CHECK(v->has_num && v->num == 1200.5);
	CHECK_STR(v->s, "1200.50");
	v = evt_get(&ev, "flag");
	CHECK(v->has_bool && v->b && !v->has_num);
	CHECK(!evt_get(&ev, "call_id")->has_num);

	/* enrichment: add, do not overwrite, overwrite when asked */
	CHECK_INT(evt_set(&ev, "customer.tier", "gold", 4, false), 0);
	CHECK_STR(evt_get(&ev, "customer.tier")->s, "gold");
	CHECK_INT(evt_set(&ev, "customer.tier", "silver", 6, false), 0);
	CHECK_STR(evt_get(&ev, "customer.tier")->s, "gold");
	CHECK_INT(evt_set(&ev, "csat", "5", 1, false), 0);
	CHECK_STR(evt_get(&ev, "csat")->s, "2");
	CHECK_INT(evt_set(&ev, "customer.tier", "silver", 6, true), 0);
	CHECK_STR(evt_get(&ev, "customer.tier")->s, "silver");
	CHECK_INT(evt_set(&ev, "customer.ltv", "99.5", 4, false), 0);
	CHECK(evt_get(&ev, "customer.ltv")->has_num);
	/* the field limit ends enrichment, not the process */
	for (i = 0; i < 400; i++) {
		char k[32];

		snprintf(k, sizeof(k), "customer.f%d", i);
		if (evt_set(&ev, k, "x", 1, false) != 0)
			break;
	}
	CHECK(i < 400);
	CHECK(ev.nfields >= EVENT_MAX_FIELDS);

	/* steady state: the same entry again allocates nothing of ours */
	{
		struct evt_field *fields;
		size_t allocated;

		CHECK_INT(from_flat(&ev, R "csat\n2\ncomment\nok"), EVERR_NONE);
		fields = ev.fields;
		allocated = ev.arena.allocated;
		for (i = 0; i < 100; i++) {
			from_flat(&ev, R "csat\n2\ncomment\nok");
			from_json(&ev, "{\"type\":\"x\",\"l\":[1,2]}");
		}
		CHECK(ev.fields == fields);
		CHECK_INT(ev.arena.allocated, allocated);
	}
	/* reuse after reset: no stale fields */
	CHECK_INT(from_flat(&ev, "type\ny"), EVERR_NONE);
	CHECK_INT(ev.nfields, 1);
	CHECK(evt_get(&ev, "customer.tier") == NULL);
	evt_free(&ev);
}

static void
test_schema(void)
{
	const char *const *f;
	size_t i;

	for (i = 0; evt_known_types[i] != NULL; i++) {
		CHECK(evt_type_known(evt_known_types[i]));
		CHECK(evt_field_known(evt_known_types[i], "type"));
		CHECK(evt_field_known(evt_known_types[i], "ts"));
		CHECK(evt_type_fields(evt_known_types[i]) != NULL);
	}
	CHECK_INT(i, 4);
	CHECK(!evt_type_known("ratings"));
	CHECK(evt_field_known("rating", "csat"));
	CHECK(evt_field_known("rating", "comment"));
	CHECK(!evt_field_known("rating", "cast"));
	CHECK(evt_field_known("call", "transfers"));
	CHECK(!evt_field_known("call", "csat"));
	CHECK(evt_field_known("complaint", "severity"));
	CHECK(evt_field_known("survey", "anything"));
	CHECK(evt_type_fields("survey") == NULL);
	f = evt_type_fields("rating");
	CHECK_STR(did_you_mean("csatt", f, 12), "csat");
	CHECK_STR(evt_err_reason(EVERR_JSON), "json");
	CHECK_STR(evt_err_reason(EVERR_UTF8), "utf8");
	CHECK_STR(evt_err_reason(EVERR_SIZE), "too_large");
	CHECK_STR(evt_err_reason(EVERR_DEPTH), "too_deep");
	CHECK_STR(evt_err_reason(EVERR_FIELDS), "too_many_fields");
	CHECK_STR(evt_err_reason(EVERR_NO_TYPE), "missing_type");
	CHECK_STR(evt_err_reason(EVERR_MISSING), "missing_field");
	CHECK_STR(evt_err_reason(EVERR_BAD_VALUE), "bad_value");
	CHECK_STR(evt_err_reason(EVERR_RANGE), "out_of_range");
}

/*
 * Event time: a representable time always (1970 .. 9999), and within the
 * clock's skew of the entry's time (ID 1700000000.123: 7d after, 8d
 * before) once one is set. Bounds are exact to the millisecond.
 */
static void
test_ts_bounds(void)
{
	static const struct {
		bool		 clock;
		const char	*ts;		/* NULL: no ts field */
		enum event_err	 want;
		const char	*msg;
	} rows[] = {
		/* the representable range */
		{ false, "0", EVERR_NONE, NULL },
		{ false, "253402300799", EVERR_NONE, NULL },
		{ false, "9999-12-31T23:59:59Z", EVERR_NONE, NULL },
		{ false, "9999-12-31T00:00:00Z", EVERR_NONE, NULL },
		{ false, "253402300799.001", EVERR_TS_SKEW,
		  "rating: ts=253402300799.001 is after 9999-12-31" },
		{ false, "1e300", EVERR_TS_SKEW, "ts=1e300 is after 9999-12-31" },
		{ false, "1700000000123", EVERR_TS_SKEW,
		  "ts=1700000000123 is after 9999-12-31; milliseconds instead "
		  "of seconds?" },
		{ false, "-5", EVERR_TS_SKEW, "ts=-5 is before 1970-01-01" },
		{ false, "-0.001", EVERR_TS_SKEW, "before 1970-01-01" },
		{ false, "1969-12-31T23:59:59Z", EVERR_TS_SKEW,
		  "ts='1969-12-31T23:59:59Z' is before 1970-01-01" },
		{ false, "0000-01-01T00:00:00Z", EVERR_TS_SKEW, "before 1970" },
		{ false, "nan", EVERR_BAD_VALUE,
		  "ts='nan' is not epoch seconds or RFC 3339" },
		{ false, "NaN", EVERR_BAD_VALUE, "is not epoch seconds" },
		{ false, "inf", EVERR_BAD_VALUE, "is not epoch seconds" },
		{ false, "-inf", EVERR_BAD_VALUE, "is not epoch seconds" },
		{ false, "Infinity", EVERR_BAD_VALUE, "is not epoch seconds" },
		{ false, "1e999", EVERR_BAD_VALUE, "is not epoch seconds" },
		/* the skew around the entry's time, both edges */
		{ true, NULL, EVERR_NONE, NULL },
		{ true, "1700000000.123", EVERR_NONE, NULL },
		{ true, "1700604800.123", EVERR_NONE, NULL },
		{ true, "1700604800.124", EVERR_TS_SKEW,
		  "rating: ts=1700604800.124 is more than 7d after the entry's "
		  "time 2023-11-14T22:13:20.123Z (input.max_future_skew)" },
		{ true, "1699308800.123", EVERR_NONE, NULL },
		{ true, "1699308800.122", EVERR_TS_SKEW,
		  "is more than 8d before the entry's time "
		  "2023-11-14T22:13:20.123Z (input.max_past_skew)" },
		{ true, "2023-11-21T22:13:20.123Z", EVERR_NONE, NULL },
		{ true, "2023-11-21T22:13:20.124Z", EVERR_TS_SKEW, "7d after" },
		{ true, "9999-12-31T00:00:00Z", EVERR_TS_SKEW,
		  "ts='9999-12-31T00:00:00Z' is more than 7d after the entry's "
		  "time" },
		{ true, "1700000000123", EVERR_TS_SKEW,
		  "milliseconds instead of seconds?" },
		{ true, "1700000000", EVERR_NONE, NULL },
		{ true, "0", EVERR_TS_SKEW, "ts=0 is more than 8d before" },
		{ true, "1e300", EVERR_TS_SKEW, "after 9999-12-31" },
		{ true, "-1", EVERR_TS_SKEW, "before 1970-01-01" },
	};
	struct evt ev;
	enum event_err e;
	char *in;
	size_t i;

	evt_init(&ev);
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		evt_set_clock(&ev, rows[i].clock ? 7 * 86400000LL : 0,
		    rows[i].clock ? 8 * 86400000LL : 0, -1, NULL);
		in = rows[i].ts != NULL ? xasprintf(R "csat\n3\nts\n%s",
		    rows[i].ts) : xasprintf(R "csat\n3");
		e = from_flat(&ev, in);
		CHECKF(e == rows[i].want, "ts bound row %zu (%s): got %s (%s), "
		    "want %s", i, rows[i].ts ? rows[i].ts : "none",
		    evt_err_reason(e), errbuf, evt_err_reason(rows[i].want));
		if (rows[i].msg != NULL)
			CHECKF(strstr(errbuf, rows[i].msg) != NULL, "ts bound "
			    "row %zu: message \"%s\" lacks \"%s\"", i, errbuf,
			    rows[i].msg);
		free(in);
	}
	/* no ts, and the entry's own time is past 9999 (an explicit ID) */
	evt_set_clock(&ev, 0, 0, -1, NULL);
	{
		const char *nm[1] = { "type" }, *vs[1] = { "x" };
		size_t nl[1] = { 4 }, vl[1] = { 1 };

		CHECK_INT(evt_from_fields(&ev, "99999999999999999-0", nm, nl,
		    vs, vl, 1, errbuf, sizeof(errbuf)), EVERR_TS_SKEW);
		CHECK(strstr(errbuf, "not between 1970 and 9999") != NULL);
	}

	/* evt_from_json: the caller's reference (replay: the current time),
	 * JSON numbers, and only a future bound */
	evt_set_clock(&ev, 7 * 86400000LL, 0, 1700000000.0, "the current time");
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"ts\":1700604800}"),
	    EVERR_NONE);
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"ts\":1700604800.001}"),
	    EVERR_TS_SKEW);
	CHECK(strstr(errbuf, "x: ts=1700604800.001 is more than 7d after the "
	    "current time 2023-11-14T22:13:20.000Z (input.max_future_skew)") !=
	    NULL);
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"ts\":1}"), EVERR_NONE);
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"ts\":1e300}"),
	    EVERR_TS_SKEW);
	CHECK(strstr(errbuf, "x: ts=1e+300 is after 9999-12-31") != NULL);
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"ts\":1700000000000}"),
	    EVERR_TS_SKEW);
	CHECK(strstr(errbuf, "milliseconds instead of seconds?") != NULL);
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"ts\":-1e300}"),
	    EVERR_TS_SKEW);
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"ts\":1e400}"), EVERR_JSON);
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"ts\":NaN}"), EVERR_JSON);
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"ts\":\"inf\"}"),
	    EVERR_BAD_VALUE);
	/* the clock survives evt_reset, and a reset clock bounds nothing */
	evt_reset(&ev);
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"ts\":\"9999-01-01T00:00:"
	    "00Z\"}"), EVERR_TS_SKEW);
	evt_set_clock(&ev, 0, 0, -1, NULL);
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"ts\":\"9999-01-01T00:00:"
	    "00Z\"}"), EVERR_NONE);
	evt_free(&ev);

	/* evt_time_ms: whole ms, clamped into the representable range */
	CHECK_INT(evt_time_ms(1700000000.123), 1700000000123LL);
	CHECK_INT(evt_time_ms(-5), 0);
	CHECK_INT(evt_time_ms(NAN), 0);
	CHECK_INT(evt_time_ms(1e300), 253402300799000LL);
	CHECK_INT(evt_time_ms(INFINITY), 253402300799000LL);
}

/*
 * NUL (U+0000) is refused in every form: a raw 0 byte in a flat name or
 * value (with its byte offset), "\u0000" in any JSON string or key, at any
 * depth, and a raw 0 byte in a JSON text; a literal backslash followed by
 * "u0000" is not a NUL.
 */
static void
test_nul(void)
{
	static const struct {
		const char	*name, *val;
		size_t		 nlen, vlen;
		const char	*msg;
	} flat[] = {
		{ "customer_id", "K1\0a", 11, 4,
		  "field 'customer_id' holds a NUL byte at byte 2" },
		{ "customer_id", "\0", 11, 1, "at byte 0" },
		{ "comment", "ok\0", 7, 3, "field 'comment' holds a NUL byte" },
		{ "cu\0x", "v", 4, 1, "field name 'cu?x' holds a NUL byte at "
		  "byte 2" },
		{ "json", "{\"type\":\"x\",\"a\":\"b\0\"}", 4, 20,
		  "field 'json' holds a NUL byte at byte 18" },
	};
	static const char *const json_nul[] = {
		"{\"type\":\"x\",\"customer_id\":\"K1\\u0000a\"}",
		"{\"type\":\"x\",\"a\\u0000b\":1}",
		"{\"type\":\"x\",\"n\":{\"m\":{\"k\":\"v\\u0000\"}}}",
		"{\"type\":\"x\",\"n\":{\"\\u0000\":1}}",
		"{\"type\":\"x\",\"l\":[\"a\",[\"\\u0000\"]]}",
		"{\"type\":\"x\",\"a\":\"\\\\\\u0000\"}",
		"{\"type\":\"\\u0000rating\"}",
	};
	const char *names[4] = { "type", "call_id", "csat", NULL };
	const char *vals[4] = { "rating", "C1", "1", NULL };
	size_t nl[4] = { 4, 7, 4, 0 }, vl[4] = { 6, 2, 1, 0 }, i;
	struct evt ev;
	enum event_err e;

	evt_init(&ev);
	for (i = 0; i < ARRAY_LEN(flat); i++) {
		names[3] = flat[i].name;
		nl[3] = flat[i].nlen;
		vals[3] = flat[i].val;
		vl[3] = flat[i].vlen;
		e = evt_from_fields(&ev, ID, names, nl, vals, vl, 4, errbuf,
		    sizeof(errbuf));
		CHECKF(e == EVERR_NUL, "nul flat row %zu: got %s (%s)", i,
		    evt_err_reason(e), errbuf);
		CHECKF(strstr(errbuf, flat[i].msg) != NULL, "nul flat row %zu: "
		    "message \"%s\" lacks \"%s\"", i, errbuf, flat[i].msg);
	}
	for (i = 0; i < ARRAY_LEN(json_nul); i++) {
		e = from_json(&ev, json_nul[i]);
		CHECKF(e == EVERR_NUL, "nul json row %zu: got %s (%s)", i,
		    evt_err_reason(e), errbuf);
		CHECK(strstr(errbuf, "U+0000") != NULL);
	}
	/* a raw 0 byte in a replay line */
	CHECK_INT(evt_from_json(&ev, "l", "{\"type\":\"x\",\"a\":\"\0\"}", 20,
	    0, errbuf, sizeof(errbuf)), EVERR_NUL);
	CHECK(strstr(errbuf, "a 0 byte") != NULL);
	/* not NULs: an escaped backslash before "u0000", and U+0001 */
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"a\":\"\\\\u0000\"}"),
	    EVERR_NONE);
	CHECK_STR(evt_get(&ev, "a")->s, "\\u0000");
	CHECK_INT(from_json(&ev, "{\"type\":\"x\",\"a\":\"\\u0001\"}"),
	    EVERR_NONE);
	CHECK_STR(evt_err_reason(EVERR_NUL), "nul");
	CHECK_STR(evt_err_reason(EVERR_TS_SKEW), "ts_skew");
	evt_free(&ev);
}

/* Long values are cut in messages, on a character boundary. */
static void
test_messages(void)
{
	struct evt ev;

	evt_init(&ev);
	CHECK_INT(from_flat(&ev, R "csat\n3\nresolved\n"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"),
	    EVERR_BAD_VALUE);
	CHECK(strstr(errbuf, "...' is not a boolean") != NULL);
	CHECK(utf8_valid(errbuf, strlen(errbuf)));
	CHECK_INT(from_flat(&ev, R "csat\n3\nresolved\na\tb"), EVERR_BAD_VALUE);
	CHECK(strchr(errbuf, '\t') == NULL);
	evt_free(&ev);
}

/*
 * evt_use_arena: the event's strings (flat and JSON forms, evt_set) go to
 * the caller's arena, which evt_reset leaves alone; the event's own
 * arena stays empty. The consumer's batch of events shares one so.
 */
static void
test_use_arena(void)
{
	struct arena a;
	struct evt ev;
	size_t was;

	arena_init(&a);
	evt_init(&ev);
	evt_use_arena(&ev, &a);
	CHECK_INT(from_flat(&ev, R "csat\n2"), EVERR_NONE);
	CHECK_STR(evt_get(&ev, "customer_id")->s, "K9");
	CHECK(a.allocated > 0);
	CHECK_INT((long)ev.arena.allocated, 0);
	was = a.allocated;
	evt_reset(&ev);
	CHECK_INT((long)a.allocated, (long)was);	/* not the caller's */
	CHECK_INT(from_json(&ev, "{\"type\":\"rating\",\"call_id\":\"C1\","
	    "\"customer_id\":\"K9\",\"csat\":1,\"tags\":[\"a\",\"b\"]}"),
	    EVERR_NONE);
	CHECK_INT(evt_set(&ev, "customer.tier", "gold", 4, true), 0);
	CHECK_STR(evt_get(&ev, "customer.tier")->s, "gold");
	CHECK_INT((long)ev.arena.allocated, 0);
	CHECK(a.allocated >= was);
	/* back to its own arena */
	evt_use_arena(&ev, NULL);
	evt_reset(&ev);
	CHECK_INT(from_flat(&ev, R "csat\n2"), EVERR_NONE);
	CHECK(ev.arena.allocated > 0);
	CHECK_STR(evt_get(&ev, "call_id")->s, "C1");
	evt_free(&ev);
	arena_free(&a);
}

int
main(void)
{
	test_tables();
	test_limits();
	test_forms();
	test_json_shapes();
	test_ts();
	test_ts_bounds();
	test_nul();
	test_values_and_set();
	test_schema();
	test_messages();
	test_use_arena();
	return harness_done();
}
