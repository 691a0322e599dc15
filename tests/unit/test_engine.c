/*
 * test_engine.c — engine_match and engine_render on a small configuration:
 * which rules fire for which events, the alerts they make, their messages
 * and their JSON (README, "Channels"'s fields).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "engine.h"
#include "event.h"
#include "harness.h"
#include "testconf.h"
#include "util.h"

static const char conf_text[] =
"lists:\n"
"  vip_tiers: [gold, platinum]\n"
"channels:\n"
"  supervisors: {type: stream, key: ivr:alerts}\n"
"  dialer: {type: list, key: dialer:callbacks}\n"
"  log: {type: syslog, priority: warning}\n"
"rules:\n"
"  - name: vip-detractor\n"
"    on: rating\n"
"    if: nps <= 6 and customer.tier in $vip_tiers\n"
"    severity: high\n"
"    actions:\n"
"      - notify: supervisors\n"
"        message: \"VIP {{customer_id}} gave NPS {{nps}} after call {{call_id}} ({{agent_id}})\"\n"
"      - notify: [dialer, log]\n"
"  - name: low-csat\n"
"    on: [rating]\n"
"    if: csat <= 2\n"
"    actions: [{notify: supervisors, message: \"{{rule}} {{severity}} case={{case_id}} \\\"{{comment}}\\\"\"}]\n"
"  - name: any-complaint\n"
"    on: complaint\n"
"    severity: critical\n"
"    actions: [{notify: supervisors}]\n"
"  - name: disabled-rule\n"
"    enabled: false\n"
"    on: rating\n"
"    actions: [{notify: supervisors}]\n"
"  - name: repeat-low\n"
"    on: rating\n"
"    if: csat <= 2\n"
"    count: {by: customer_id, at_least: 2, within: 7d}\n"
"    actions: [{notify: supervisors, message: \"{{count}} low\"}]\n";

static struct config *
load(void)
{
	return load_config_text(conf_text);
}

struct match_case {
	const char	*event;
	const char	*want;	/* space-separated rule names, in order */
};

static void
test_match(const struct config *cf)
{
	static const struct match_case t[] = {
		{ "{\"type\":\"rating\",\"call_id\":\"c1\",\"customer_id\":\"k1\",\"nps\":3,\"customer\":{\"tier\":\"gold\"}}",
		  "vip-detractor" },
		{ "{\"type\":\"rating\",\"call_id\":\"c1\",\"customer_id\":\"k1\",\"nps\":3,\"customer\":{\"tier\":\"bronze\"}}",
		  "" },
		{ "{\"type\":\"rating\",\"call_id\":\"c1\",\"customer_id\":\"k1\",\"nps\":7,\"customer\":{\"tier\":\"gold\"}}",
		  "" },
		{ "{\"type\":\"rating\",\"call_id\":\"c1\",\"customer_id\":\"k1\",\"csat\":1,\"nps\":0,\"customer\":{\"tier\":\"platinum\"}}",
		  "vip-detractor low-csat repeat-low" },
		{ "{\"type\":\"rating\",\"call_id\":\"c1\",\"customer_id\":\"k1\",\"csat\":\"2\"}",
		  "low-csat repeat-low" },
		{ "{\"type\":\"rating\",\"call_id\":\"c1\",\"customer_id\":\"k1\",\"csat\":3}",
		  "" },
		{ "{\"type\":\"complaint\",\"complaint_id\":\"p1\",\"customer_id\":\"k1\"}",
		  "any-complaint" },
		{ "{\"type\":\"call\",\"call_id\":\"c1\",\"customer_id\":\"k1\",\"csat\":1}",
		  "" },
		{ "{\"type\":\"survey\",\"csat\":1}", "" },
	};
	struct evt ev;
	struct fire fires[16];
	char err[256], got[256];
	size_t i, j, n;

	evt_init(&ev);
	for (i = 0; i < ARRAY_LEN(t); i++) {
		evt_reset(&ev);
		if (evt_from_json(&ev, "1-0", t[i].event, strlen(t[i].event),
		    0, err, sizeof(err)) != EVERR_NONE) {
			CHECKF(0, "event %zu did not parse: %s", i, err);
			continue;
		}
		n = engine_match(cf, &ev, fires, ARRAY_LEN(fires), NULL);
		got[0] = '\0';
		for (j = 0; j < n; j++) {
			size_t l = strlen(got);
			snprintf(got + l, sizeof(got) - l, "%s%s",
			    j ? " " : "", fires[j].rule->name);
		}
		CHECKF(strcmp(got, t[i].want) == 0,
		    "match %s: got \"%s\", want \"%s\"", t[i].event, got,
		    t[i].want);
	}
	evt_free(&ev);
}

static const char *
jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void
test_render(const struct config *cf)
{
	static const char ev_text[] =
	    "{\"type\":\"rating\",\"ts\":1700000000.5,\"call_id\":\"c9\","
	    "\"customer_id\":\"k2\",\"agent_id\":\"A7\",\"queue\":\"billing\","
	    "\"csat\":1,\"nps\":2,\"comment\":\"said \\\"never again\\\"\\n\","
	    "\"customer\":{\"tier\":\"gold\"}}";
	struct evt ev;
	struct fire fires[16];
	struct alert *alerts = NULL;
	size_t nalerts = 0, cap = 0, n, i;
	struct case_ref cr;
	struct arena arena;
	struct buf scratch;
	char err[256];
	json_t *j;
	json_error_t jerr;

	evt_init(&ev);
	arena_init(&arena);
	buf_init(&scratch);
	CHECK(evt_from_json(&ev, "1700000000500-0", ev_text,
	    strlen(ev_text), 0, err, sizeof(err)) == EVERR_NONE);
	n = engine_match(cf, &ev, fires, ARRAY_LEN(fires), NULL);
	CHECK_INT(n, 3);
	memset(&cr, 0, sizeof(cr));
	snprintf(cr.case_id, sizeof(cr.case_id), "case-1");
	for (i = 0; i < n; i++)
		engine_render(cf, &ev, &fires[i], &cr, 0, 1700000001.0, &arena,
		    &scratch, &alerts, &nalerts, &cap);
	/* vip-detractor: supervisors, dialer, log; low-csat: supervisors;
	 * repeat-low: supervisors. */
	CHECK_INT(nalerts, 5);
	if (nalerts < 5)
		goto out;
	CHECK_STR(alerts[0].channel->name, "supervisors");
	CHECK_STR(alerts[0].message, "VIP k2 gave NPS 2 after call c9 (A7)");
	CHECK_STR(alerts[1].channel->name, "dialer");
	CHECK_STR(alerts[2].channel->name, "log");
	CHECK_INT(alerts[0].severity, SEV_HIGH);
	CHECK_STR(alerts[0].fired_at, "2023-11-14T22:13:21.000Z");
	CHECK_STR(alerts[3].message,
	    "low-csat medium case=case-1 \"said \"never again\"\n\"");
	/* Alert IDs: stable, distinct per rule, action and channel. */
	CHECK_STR(alerts[0].alert_id,
	    "1700000000500-0/vip-detractor/0/supervisors");
	CHECK(strcmp(alerts[1].alert_id, alerts[2].alert_id) != 0);

	j = json_loads(alerts[3].json, 0, &jerr);
	CHECKF(j != NULL, "alert JSON parses: %s", alerts[3].json);
	if (j != NULL) {
		CHECK_STR(jstr(j, "alert_id"), alerts[3].alert_id);
		CHECK_STR(jstr(j, "case_id"), "case-1");
		CHECK_STR(jstr(j, "rule"), "low-csat");
		CHECK_STR(jstr(j, "severity"), "medium");
		CHECK(json_integer_value(json_object_get(j, "step")) == 0);
		CHECK_STR(jstr(j, "customer_id"), "k2");
		CHECK_STR(jstr(j, "call_id"), "c9");
		CHECK_STR(jstr(j, "agent_id"), "A7");
		CHECK_STR(jstr(j, "queue"), "billing");
		CHECK_STR(jstr(j, "event_id"), "1700000000500-0");
		CHECK_STR(jstr(j, "fired_at"), "2023-11-14T22:13:21.000Z");
		CHECK_STR(jstr(j, "message"), alerts[3].message);
		CHECK(json_object_get(j, "count") == NULL);
		json_decref(j);
	}
	/* A stateful firing carries its count. */
	fires[2].has_count = true;
	fires[2].count = 2;
	nalerts = 0;
	engine_render(cf, &ev, &fires[2], &cr, 0, 1700000001.0, &arena,
	    &scratch, &alerts, &nalerts, &cap);
	CHECK_INT(nalerts, 1);
	CHECK_STR(alerts[0].message, "2 low");
	j = json_loads(alerts[0].json, 0, &jerr);
	CHECK(j != NULL && json_integer_value(json_object_get(j, "count")) == 2);
	json_decref(j);
	/* Default message when the action has none. */
out:
	free(alerts);
	buf_free(&scratch);
	arena_free(&arena);
	evt_free(&ev);
}

static void
test_format_value(void)
{
	char b[32];

	engine_format_value(3.1666, b, sizeof(b));
	CHECK_STR(b, "3.17");
	engine_format_value(-20, b, sizeof(b));
	CHECK_STR(b, "-20");
	engine_format_value(3.1, b, sizeof(b));
	CHECK_STR(b, "3.1");
	engine_format_value(4.0, b, sizeof(b));
	CHECK_STR(b, "4");
	engine_format_value(3.7e56, b, sizeof(b));
	CHECK_STR(b, "3.7e+56");
	engine_format_value(-2e15, b, sizeof(b));
	CHECK_STR(b, "-2e+15");
	engine_format_value(123456789012345.0, b, sizeof(b));
	CHECK_STR(b, "123456789012345");
	engine_format_value(-123456789012345.0, b, sizeof(b));
	CHECK_STR(b, "-123456789012345");
	engine_format_value(0.0, b, sizeof(b));
	CHECK_STR(b, "0");
	engine_format_value(-0.0, b, sizeof(b));
	CHECK_STR(b, "-0");		/* as "%.0f" has it */
	engine_format_value(999999999999999.0, b, sizeof(b));
	CHECK_STR(b, "999999999999999");
	engine_format_value(42, b, 2);	/* cut to what fits */
	CHECK_STR(b, "4");
}

int
main(void)
{
	struct config *cf = load();

	CHECKF(cf != NULL, "the test configuration loads");
	if (cf != NULL) {
		test_match(cf);
		test_render(cf);
	}
	test_format_value();
	if (cf != NULL) {
		CHECK(engine_reads_prefix(cf, "customer."));
		CHECK(engine_reads_prefix(cf, "comment"));
		CHECK(!engine_reads_prefix(cf, "wait_s"));
		config_free(cf);
	}
	return harness_done();
}
