/*
 * test_template.c — "{{path}}" templates as tables: (template, fields,
 * expected rendering) in both modes, compile errors with their offsets,
 * and JSON-mode output that jansson must accept inside quotes.
 *
 * Fields come from a real struct evt built from a JSON object, so the
 * tests also cover how lists, numbers and null render. Lookups that find
 * nothing, or answer with a value that has no text, render empty (never
 * NULL), and the fields an escalation step renders over survive
 * tmpl_fields_save/load with every template rendering the same.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "harness.h"
#include "template.h"
#include "util.h"

static const char fields_json[] =
    "{\"type\":\"rating\",\"call_id\":\"C1\",\"customer_id\":\"K9\","
    "\"nps\":3,\"csat\":4.0,\"agent_id\":\"A7\","
    "\"customer\":{\"tier\":\"gold\",\"ltv\":1200.5},"
    "\"quote\":\"say \\\"hi\\\"\",\"path\":\"C:\\\\tmp\","
    "\"ctl\":\"a\\nb\\tc\\u0001d\\r\",\"fr\":\"caf\\u00e9\","
    "\"jp\":\"\\u65e5\\u672c\",\"emoji\":\"\\ud83d\\ude00!\","
    "\"tags\":[\"x\",1,true],\"nothing\":null,\"yes\":true,"
    "\"empty\":\"\"}";

struct row {
	const char	*src;
	const char	*plain;
	const char	*json;	/* NULL: same as plain */
};

static const struct row rows[] = {
	{ "", "", NULL },
	{ "no references", "no references", NULL },
	{ "{{customer_id}}", "K9", NULL },
	{ "VIP {{customer_id}} gave NPS {{nps}} after call {{call_id}} "
	  "({{agent_id}})", "VIP K9 gave NPS 3 after call C1 (A7)", NULL },
	{ "{{ customer_id }}", "K9", NULL },
	{ "{{\tcustomer_id  }}", "K9", NULL },
	{ "{{customer.tier}}/{{customer.ltv}}", "gold/1200.5", NULL },
	{ "{{csat}}", "4.0", NULL },
	{ "{{call_id}}{{customer_id}}{{nps}}", "C1K93", NULL },
	{ "[{{missing}}] [{{customer.none}}] [{{nothing}}] [{{empty}}]",
	  "[] [] [] []", NULL },
	{ "{{customer}}", "", NULL },
	{ "{{tags}}", "[\"x\",1,true]", "[\\\"x\\\",1,true]" },
	{ "{{yes}}", "true", NULL },
	{ "{ {customer_id} }", "{ {customer_id} }", NULL },
	{ "a { b } c }} d", "a { b } c }} d", NULL },
	{ "{{{customer_id}}", NULL, NULL },	/* compile error, below */
	{ "{x} {{nps}} }", "{x} 3 }", NULL },
	{ "{{quote}}", "say \"hi\"", "say \\\"hi\\\"" },
	{ "{{path}}", "C:\\tmp", "C:\\\\tmp" },
	{ "{{ctl}}", "a\nb\tc\001d\r", "a\\nb\\tc\\u0001d\\r" },
	{ "{{fr}} {{jp}} {{emoji}}", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
	  "\xf0\x9f\x98\x80!", NULL },
	{ "lit \"q\" \\ {{nps}}\n", "lit \"q\" \\ 3\n",
	  "lit \\\"q\\\" \\\\ 3\\n" },
	{ "d\xc3\xa9j\xc3\xa0 {{customer_id}}", "d\xc3\xa9j\xc3\xa0 K9", NULL },
	/* default: for a missing, null or empty field only */
	{ "({{agent_id | default 'no agent'}}, {{queue | default 'no queue'}})",
	  "(A7, no queue)", NULL },
	{ "{{missing|default \"-\"}}/{{nothing | default 'n'}}/"
	  "{{empty |default 'e'}}/{{nps | default 'x'}}", "-/n/e/3", NULL },
	{ "{{missing | default 'say \\'hi\\' \\\\ \"q\"'}}",
	  "say 'hi' \\ \"q\"", "say 'hi' \\\\ \\\"q\\\"" },
	{ "{{missing | default ''}}!", "!", NULL },
	{ "{{missing | default '{x}'}}", "{x}", NULL },
};

struct bad {
	const char	*src;
	size_t		 offset;
	const char	*msg;
};

static const struct bad bads[] = {
	{ "{{", 0, "unclosed" },
	{ "hello {{customer_id", 6, "unclosed" },
	{ "{{a}} and {{b", 10, "unclosed" },
	{ "{{ }}", 0, "empty" },
	{ "{{}}", 0, "empty" },
	{ "x {{customer id}}", 2, "invalid field path 'customer id'" },
	{ "{{a..b}}", 0, "invalid field path" },
	{ "ok {{a | upper}}", 3, "unknown filter 'upper'" },
	{ "{{a | default}}", 0, "expected '}}' or '| default 'text''" },
	{ "{{a | default x}}", 0, "expected '}}'" },
	{ "{{a | default 'x' y}}", 0, "expected '}}'" },
	{ "{{a | default 'x}}", 0, "unterminated default text" },
	{ "{{a | default '\\q'}}", 0, "invalid escape" },
	{ "{{a b | default 'x'}}", 0, "expected '}}'" },
	{ "{{ | default 'x'}}", 0, "empty" },
	{ "{{.a}}", 0, "invalid field path" },
	{ "{{a.}}", 0, "invalid field path" },
	{ "{{1abc}}", 0, "invalid field path" },
	{ "ok {{nps}} {{$list}}", 11, "invalid field path '$list'" },
	{ "{{{customer_id}}", 0, "invalid field path '{customer_id'" },
	{ "{{a}}{{b-c}}{{d e}}", 12, "invalid" },
};

static void
test_render(void)
{
	struct evt ev;
	struct tmpl *t;
	struct buf out;
	char err[256];
	size_t i, off;
	const char *want;

	evt_init(&ev);
	buf_init(&out);
	CHECKF(evt_from_json(&ev, "t", fields_json, strlen(fields_json), 0,
	    err, sizeof(err)) == EVERR_NONE, "fields: %s", err);
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		if (rows[i].plain == NULL)
			continue;
		t = tmpl_compile(rows[i].src, err, sizeof(err), &off);
		CHECKF(t != NULL, "row %zu: compile: %s", i, err);
		if (t == NULL)
			continue;
		CHECK_STR(tmpl_source(t), rows[i].src);
		buf_reset(&out);
		tmpl_render(t, evt_lookup, &ev, TMPL_PLAIN, &out);
		CHECKF(out.data != NULL && out.len == strlen(rows[i].plain) &&
		    strcmp(out.data, rows[i].plain) == 0,
		    "row %zu plain: got \"%s\", want \"%s\"", i,
		    out.data ? out.data : "(null)", rows[i].plain);
		want = rows[i].json ? rows[i].json : rows[i].plain;
		buf_reset(&out);
		tmpl_render(t, evt_lookup, &ev, TMPL_JSON, &out);
		CHECKF(strcmp(out.data, want) == 0,
		    "row %zu json: got \"%s\", want \"%s\"", i, out.data, want);
		tmpl_free(t);
	}
	buf_free(&out);
	evt_free(&ev);
}

static void
test_errors(void)
{
	struct tmpl *t;
	char err[256];
	size_t i, off;

	for (i = 0; i < ARRAY_LEN(bads); i++) {
		err[0] = '\0';
		off = 9999;
		t = tmpl_compile(bads[i].src, err, sizeof(err), &off);
		CHECKF(t == NULL, "bad %zu: \"%s\" compiled", i, bads[i].src);
		tmpl_free(t);
		CHECKF(off == bads[i].offset, "bad %zu: offset %zu, want %zu",
		    i, off, bads[i].offset);
		CHECKF(strstr(err, bads[i].msg) != NULL,
		    "bad %zu: message \"%s\" lacks \"%s\"", i, err,
		    bads[i].msg);
	}
	/* a NULL err_offset is allowed */
	CHECK(tmpl_compile("{{", err, sizeof(err), NULL) == NULL);
}

/* JSON mode inside quotes must be a JSON string that decodes back to the
 * plain rendering, whatever the fields hold. */
static void
test_json_roundtrip(void)
{
	static const char *const srcs[] = {
		"{{quote}} {{path}} {{ctl}} {{fr}} {{jp}} {{emoji}}",
		"\"{{tags}}\"\\\t\x01 {{customer.tier}}",
		"{{bad}}",
	};
	struct evt ev;
	struct tmpl *t;
	struct buf plain, js, wrapped;
	json_error_t jerr;
	json_t *j;
	char err[256];
	size_t i;
	const char *names[2] = { "type", "bad" };
	const char *vals[2] = { "x", "ok" };
	size_t nl[2] = { 4, 3 }, vl[2] = { 1, 2 };

	evt_init(&ev);
	buf_init(&plain);
	buf_init(&js);
	buf_init(&wrapped);
	for (i = 0; i < ARRAY_LEN(srcs); i++) {
		if (i < 2)
			CHECK_INT(evt_from_json(&ev, "t", fields_json,
			    strlen(fields_json), 0, err, sizeof(err)),
			    EVERR_NONE);
		else
			CHECK_INT(evt_from_fields(&ev, "1-0", names, nl,
			    vals, vl, 2, err, sizeof(err)), EVERR_NONE);
		t = tmpl_compile(srcs[i], err, sizeof(err), NULL);
		CHECKF(t != NULL, "roundtrip %zu: %s", i, err);
		if (t == NULL)
			continue;
		buf_reset(&plain);
		buf_reset(&js);
		buf_reset(&wrapped);
		tmpl_render(t, evt_lookup, &ev, TMPL_PLAIN, &plain);
		tmpl_render(t, evt_lookup, &ev, TMPL_JSON, &js);
		buf_printf(&wrapped, "[\"%s\"]", js.data);
		j = json_loadb(wrapped.data, wrapped.len, 0, &jerr);
		CHECKF(j != NULL, "roundtrip %zu: jansson: %s in %s", i,
		    jerr.text, wrapped.data);
		if (j != NULL) {
			CHECKF(strcmp(json_string_value(json_array_get(j, 0)),
			    plain.data) == 0, "roundtrip %zu: decoded text "
			    "differs from the plain rendering", i);
			json_decref(j);
		}
		tmpl_free(t);
	}
	buf_free(&plain);
	buf_free(&js);
	buf_free(&wrapped);
	evt_free(&ev);
}

/* Rendering appends, and a warm buffer does not move. */
static void
test_append(void)
{
	struct evt ev;
	struct tmpl *t;
	struct buf out;
	char err[256];
	char *data;
	int i;

	evt_init(&ev);
	buf_init(&out);
	CHECK_INT(evt_from_json(&ev, "t", fields_json, strlen(fields_json),
	    0, err, sizeof(err)), EVERR_NONE);
	t = tmpl_compile("{{customer_id}}-", err, sizeof(err), NULL);
	buf_puts(&out, ">");
	tmpl_render(t, evt_lookup, &ev, TMPL_PLAIN, &out);
	tmpl_render(t, evt_lookup, &ev, TMPL_PLAIN, &out);
	CHECK_STR(out.data, ">K9-K9-");
	buf_reset(&out);
	tmpl_render(t, evt_lookup, &ev, TMPL_PLAIN, &out);
	data = out.data;
	for (i = 0; i < 1000; i++) {
		buf_reset(&out);
		tmpl_render(t, evt_lookup, &ev, TMPL_JSON, &out);
	}
	CHECK(out.data == data);
	tmpl_free(t);
	/* an empty rendering into a fresh buffer is still a C string */
	buf_free(&out);
	t = tmpl_compile("{{missing}}", err, sizeof(err), NULL);
	tmpl_render(t, evt_lookup, &ev, TMPL_PLAIN, &out);
	CHECK(out.data != NULL && out.len == 0 && out.data[0] == '\0');
	tmpl_free(t);
	tmpl_free(NULL);
	buf_free(&out);
	evt_free(&ev);
}

struct seen {
	char	 paths[8][32];
	size_t	 offs[8];
	size_t	 n;
};

static void
collect(void *ctx, const char *path, size_t offset)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", path);
		s->offs[s->n++] = offset;
	}
}

static void
test_foreach(void)
{
	struct seen s;
	struct tmpl *t;
	char err[256];

	memset(&s, 0, sizeof(s));
	t = tmpl_compile("Agent {{agent_id}} avg {{ value }}{{customer.tier}}",
	    err, sizeof(err), NULL);
	CHECK(t != NULL);
	tmpl_foreach_path(t, collect, &s);
	CHECK_INT(s.n, 3);
	CHECK_STR(s.paths[0], "agent_id");
	CHECK_INT(s.offs[0], 8);
	CHECK_STR(s.paths[1], "value");
	CHECK_INT(s.offs[1], 26);
	CHECK_STR(s.paths[2], "customer.tier");
	CHECK_INT(s.offs[2], 36);
	tmpl_free(t);
}

/* Lookups of every kind of "nothing": no field, a value with no text
 * (a lookup that forgot it), and no template at all. */
static bool
look_none(void *ctx, const char *path, struct value *out)
{
	(void)ctx;
	(void)path;
	(void)out;
	return false;
}

static bool
look_notext(void *ctx, const char *path, struct value *out)
{
	(void)ctx;
	(void)path;
	memset(out, 0, sizeof(*out));
	out->kind = V_STR;
	return true;
}

static void
test_missing(void)
{
	static const struct {
		lookup_fn	 fn;
		const char	*src, *want;
	} mrows[] = {
		{ look_none, "{{comment}}", "" },
		{ look_none, "[{{count}}] c={{customer.tier}}", "[] c=" },
		{ look_notext, "{{comment}}", "" },
		{ look_notext, "a{{x}}b{{y.z}}c", "abc" },
	};
	struct tmpl *t;
	struct buf out;
	char err[256];
	size_t i;
	int mode;

	for (i = 0; i < ARRAY_LEN(mrows); i++) {
		t = tmpl_compile(mrows[i].src, err, sizeof(err), NULL);
		CHECKF(t != NULL, "missing %zu: %s", i, err);
		for (mode = 0; t != NULL && mode < 2; mode++) {
			buf_init(&out);
			tmpl_render(t, mrows[i].fn, NULL, mode ? TMPL_JSON :
			    TMPL_PLAIN, &out);
			CHECKF(out.data != NULL && strcmp(out.data,
			    mrows[i].want) == 0, "missing %zu mode %d: got "
			    "\"%s\", want \"%s\"", i, mode, out.data ?
			    out.data : "(null)", mrows[i].want);
			buf_free(&out);
		}
		tmpl_free(t);
	}
	buf_init(&out);
	tmpl_render(NULL, look_none, NULL, TMPL_PLAIN, &out);
	CHECK(out.data != NULL && out.len == 0);
	buf_free(&out);
}

static void
test_literal(void)
{
	static const struct {
		const char	*src;
		bool		 literal;
	} lrows[] = {
		{ "", true },
		{ "/usr/local/bin/page", true },
		{ "a { b } c }} d", true },
		{ "/usr/local/bin/{{queue}}", false },
		{ "{{ program }}", false },
		{ "--case={{case_id}}", false },
	};
	struct tmpl *t;
	char err[256];
	size_t i;

	for (i = 0; i < ARRAY_LEN(lrows); i++) {
		t = tmpl_compile(lrows[i].src, err, sizeof(err), NULL);
		CHECKF(t != NULL && tmpl_is_literal(t) == lrows[i].literal,
		    "literal %zu: \"%s\"", i, lrows[i].src);
		tmpl_free(t);
	}
}

/* An event (with enrichment) saved and loaded back renders every
 * template as the original does; bad saved text loads nothing. */
static void
test_fields_roundtrip(void)
{
	static const char *const srcs[] = {
		"{{customer_id}} {{nps}} {{csat}} {{customer.tier}} "
		"{{customer.ltv}} {{customer.segment}}",
		"{{quote}}|{{path}}|{{ctl}}|{{fr}}|{{jp}}|{{emoji}}",
		"[{{tags}}] [{{nothing}}] [{{yes}}] [{{empty}}] [{{missing}}]",
	};
	static const char *const bad[] = { "", "[1,2]", "{\"a\":", "null",
	    "\"x\"" };
	struct evt ev, back;
	struct tmpl *t;
	struct buf saved, a, b;
	char err[256];
	size_t i;

	evt_init(&ev);
	evt_init(&back);
	buf_init(&saved);
	buf_init(&a);
	buf_init(&b);
	CHECK_INT(evt_from_json(&ev, "t", fields_json, strlen(fields_json),
	    0, err, sizeof(err)), EVERR_NONE);
	CHECK_INT(evt_set(&ev, "customer.segment", "smb\"\n", 5, false), 0);
	tmpl_fields_save(&ev, &saved);
	CHECKF(tmpl_fields_load(&back, saved.data, saved.len) > 0,
	    "load: %s", saved.data);
	CHECKF(evt_get(&back, "nothing") == NULL, "null field saved");
	for (i = 0; i < ARRAY_LEN(srcs); i++) {
		t = tmpl_compile(srcs[i], err, sizeof(err), NULL);
		CHECKF(t != NULL, "roundtrip %zu: %s", i, err);
		if (t == NULL)
			continue;
		buf_reset(&a);
		buf_reset(&b);
		tmpl_render(t, evt_lookup, &ev, TMPL_PLAIN, &a);
		tmpl_render(t, evt_lookup, &back, TMPL_PLAIN, &b);
		CHECKF(strcmp(a.data, b.data) == 0, "fields %zu: saved "
		    "renders \"%s\", original \"%s\"", i, b.data, a.data);
		tmpl_free(t);
	}
	/* Fields the event already has are kept. */
	evt_reset(&back);
	CHECK_INT(evt_set(&back, "customer_id", "K1", 2, false), 0);
	CHECK(tmpl_fields_load(&back, saved.data, saved.len) > 0);
	CHECK_STR(evt_get(&back, "customer_id")->s, "K1");
	CHECK_STR(evt_get(&back, "customer.tier")->s, "gold");
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		evt_reset(&back);
		CHECKF(tmpl_fields_load(&back, bad[i], strlen(bad[i])) == -1 &&
		    back.nfields == 0, "bad saved fields %zu loaded", i);
	}
	evt_reset(&back);
	CHECK_INT(tmpl_fields_load(&back, "{\"a\":1,\"b\":\"x\"}", 15), 1);
	CHECK(evt_get(&back, "a") == NULL);
	buf_free(&saved);
	buf_free(&a);
	buf_free(&b);
	evt_free(&ev);
	evt_free(&back);
}

int
main(void)
{
	test_render();
	test_errors();
	test_json_roundtrip();
	test_append();
	test_foreach();
	test_missing();
	test_literal();
	test_fields_roundtrip();
	return harness_done();
}
