/*
 * test_explain.c — "why did this rule (not) fire" (explain.h, and the
 * reasons the state decision records in state_cand.why): for each kind of
 * rule, events that make it fire and not fire, and the reason given —
 * disabled, another type, a false "if" with the values, a count below and
 * past at_least, too few samples, a false alert_if, an "after" that has
 * no partner or no key, a cooldown with the time left, a silence. Every
 * explanation is checked against what the same simulator delivered: a
 * rule explained as fired has alerts, one explained otherwise has none.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "explain.h"
#include "harness.h"
#include "silence.h"
#include "sim.h"
#include "testconf.h"
#include "util.h"

static const char conf_text[] =
"channels:\n"
"  sup: {type: stream, key: ivr:alerts}\n"
"rules:\n"
"  - name: low\n"
"    on: rating\n"
"    if: csat <= 2 and not (queue == 'vip')\n"
"    cooldown: 1h\n"
"    actions: [{notify: sup}]\n"
"  - name: twice\n"
"    on: rating\n"
"    if: csat <= 2\n"
"    count: {by: customer_id, at_least: 2, within: 1d}\n"
"    cooldown: 0\n"
"    actions: [{notify: sup}]\n"
"  - name: slump\n"
"    on: rating\n"
"    aggregate: {by: agent_id, value: avg(csat), within: 4h, min_samples: 3, alert_if: value < 2}\n"
"    cooldown: 0\n"
"    actions: [{notify: sup}]\n"
"  - name: then-complaint\n"
"    on: complaint\n"
"    after: {rule: twice, by: customer_id, within: 2d}\n"
"    cooldown: 0\n"
"    actions: [{notify: sup}]\n"
"  - name: same-call\n"
"    on: complaint\n"
"    after: {rule: twice, by: call_id, within: 2d}\n"
"    cooldown: 0\n"
"    actions: [{notify: sup}]\n"
"  - name: off\n"
"    enabled: false\n"
"    on: rating\n"
"    actions: [{notify: sup}]\n"
"  - name: calls\n"
"    on: call\n"
"    actions: [{notify: sup}]\n";

static struct config *cf;

/*
 * one: explain the event at t seconds; the line of rule must contain
 * want; and the rule fired (has a step-0 alert of this call) exactly
 * when its line says "fired".
 */
static void
one(struct sim *s, const char *json, double t, const char *rule,
    const char *want)
{
	struct evt ev;
	struct buf out;
	char err[256], id[32], *line, *end;
	size_t i, nal = 0;
	bool fired;

	evt_init(&ev);
	buf_init(&out);
	snprintf(id, sizeof(id), "e%.0f", t);
	CHECKF(evt_from_json(&ev, id, json, strlen(json), t, err,
	    sizeof(err)) == EVERR_NONE, "event %s: %s", json, err);
	explain_event(s, &ev, (int64_t)llround(t * 1000.0), false, &out);
	line = strstr(out.data, rule);
	while (line != NULL && (line[-1] != ' ' || line[strlen(rule)] !=
	    ' '))
		line = strstr(line + 1, rule);
	CHECKF(line != NULL, "%s: no line for %s in\n%s", json, rule,
	    out.data);
	if (line == NULL)
		goto out;
	if ((end = strchr(line, '\n')) != NULL)
		*end = '\0';
	CHECKF(strstr(line, want) != NULL, "%s: %s: got \"%s\", want \"%s\"",
	    json, rule, line, want);
	fired = strncmp(line + 25, "fired ", 6) == 0;
	for (i = 0; i < s->nalerts; i++)
		if (strcmp(s->alerts[i].rule->name, rule) == 0 &&
		    s->alerts[i].step == 0)
			nal++;
	CHECKF(fired == (nal > 0), "%s: %s: explained %s, %zu alerts",
	    json, rule, fired ? "fired" : "not fired", nal);
out:
	buf_free(&out);
	evt_free(&ev);
}

static void
test_static(void)
{
	struct sim *s = sim_new(cf);

	one(s, "{\"type\":\"rating\",\"call_id\":\"c\",\"customer_id\":\"k1\","
	    "\"csat\":4}", 1000, "low", "not fired  if: 'csat <= 2' is false "
	    "(csat = 4)");
	one(s, "{\"type\":\"rating\",\"call_id\":\"c\",\"customer_id\":\"k1\","
	    "\"csat\":1,\"queue\":\"vip\"}", 1001, "low", "'not (queue == "
	    "'vip')' is false: '(queue == 'vip')' holds (queue = 'vip')");
	one(s, "{\"type\":\"rating\",\"call_id\":\"c\",\"customer_id\":\"k1\","
	    "\"csat\":4}", 1002, "off", "disabled   enabled: false");
	one(s, "{\"type\":\"rating\",\"call_id\":\"c\",\"customer_id\":\"k1\","
	    "\"csat\":4}", 1003, "calls", "other type on: call");
	sim_free(s);
}

static void
test_count_cooldown(void)
{
	struct sim *s = sim_new(cf);
	const char *r1 = "{\"type\":\"rating\",\"call_id\":\"c\","
	    "\"customer_id\":\"k2\",\"csat\":1}";

	one(s, r1, 1000, "low", "fired      if: 'csat <= 2 and not (queue "
	    "== 'vip')' holds (csat = 1, queue is missing)");
	one(s, r1, 1000 + 600, "low", "for customer_id = 'k2': cooldown 1h: "
	    "it fired at 1970-01-01T00:16:40.000Z, 50m left");
	s = (sim_free(s), sim_new(cf));
	one(s, r1, 1000, "twice", "for customer_id = 'k2': count 1 is below "
	    "at_least 2 within 1d");
	one(s, r1, 2000, "twice", "fired      if: 'csat <= 2' holds (csat = "
	    "1); for customer_id = 'k2': count 2 reached at_least 2 within 1d");
	one(s, r1, 3000, "twice", "count 3 is past at_least 2 within 1d "
	    "(it fires on reaching it)");
	one(s, r1, 4000, "low", "fired");
	sim_free(s);
}

static void
test_aggregate(void)
{
	struct sim *s = sim_new(cf);
	const char *a1 = "{\"type\":\"rating\",\"call_id\":\"c\","
	    "\"customer_id\":\"k3\",\"agent_id\":\"a1\",\"csat\":1}";
	const char *a5 = "{\"type\":\"rating\",\"call_id\":\"c\","
	    "\"customer_id\":\"k4\",\"agent_id\":\"a1\",\"csat\":5}";

	one(s, a1, 1000, "slump", "for agent_id = 'a1': 1 sample within 4h, "
	    "fewer than min_samples 3 (value 1)");
	one(s, a5, 1100, "slump", "2 samples within 4h, fewer than "
	    "min_samples 3 (value 3)");
	one(s, a1, 1200, "slump", "alert_if is false (value = 2.33, samples "
	    "= 3 within 4h)");
	one(s, a1, 1300, "slump", "alert_if is false (value = 2, samples "
	    "= 4 within 4h)");
	one(s, a1, 1350, "slump", "fired      for agent_id = 'a1': avg(csat) "
	    "= 1.8 over 5 samples within 4h");
	one(s, "{\"type\":\"rating\",\"call_id\":\"c\",\"customer_id\":"
	    "\"k3\",\"agent_id\":\"a1\",\"nps\":3}", 1400, "slump",
	    "the event has no number in 'csat' for avg()");
	sim_free(s);
}

static void
test_after_silence(void)
{
	struct sim *s = sim_new(cf);
	struct silence sl;
	char err[256];
	const char *r = "{\"type\":\"rating\",\"call_id\":\"c\","
	    "\"customer_id\":\"k5\",\"csat\":1}";
	const char *c = "{\"type\":\"complaint\",\"complaint_id\":\"p\","
	    "\"customer_id\":\"k5\"}";

	one(s, c, 1000, "then-complaint", "after: 'twice' did not fire for "
	    "customer_id = 'k5' within 2d before");
	one(s, c, 1001, "same-call", "after: the event has no 'call_id'");
	one(s, r, 1100, "twice", "count 1");
	one(s, r, 1200, "twice", "fired");
	one(s, c, 1300, "then-complaint", "fired      for customer_id = 'k5': "
	    "'twice' fired within 2d before");

	memset(&sl, 0, sizeof(sl));
	snprintf(sl.id, sizeof(sl.id), "s1");
	sl.rule = (char *)"calls";
	sl.reason = (char *)"maintenance\nwindow";
	sl.starts_ms = 0;
	sl.ends_ms = 2000000;
	CHECK(silence_add(&s->silences, &sl, err, sizeof(err)) == 0);
	one(s, "{\"type\":\"call\",\"call_id\":\"c\",\"customer_id\":\"k5\"}",
	    1400, "calls", "silenced   held by silence s1 rule=calls until "
	    "1970-01-01T00:33:20.000Z (maintenance?window)");
	sim_free(s);
}

static void
test_json(void)
{
	struct sim *s = sim_new(cf);
	struct evt ev;
	struct buf out;
	char err[256];
	const char *j = "{\"type\":\"rating\",\"call_id\":\"c\","
	    "\"customer_id\":\"k\\u0001\\\"x\",\"csat\":1}";

	evt_init(&ev);
	buf_init(&out);
	CHECK(evt_from_json(&ev, "e1", j, strlen(j), 100, err,
	    sizeof(err)) == EVERR_NONE);
	CHECK_INT(explain_event(s, &ev, 100000, true, &out), 1);
	CHECK(strncmp(out.data, "{\"event_id\":\"e1\",\"type\":\"rating\","
	    "\"customer_id\":\"k\\u0001\\\"x\"", 55) == 0);
	CHECK(strstr(out.data, "{\"rule\":\"low\",\"result\":\"fired\","
	    "\"fired\":true,\"reason\":\"if: 'csat <= 2 and not (queue == "
	    "'vip')' holds (csat = 1, queue is missing); for customer_id = "
	    "'k?\\\"x': no firing within its cooldown 1h; case c-e1; alerts "
	    "to sup\"}") != NULL);
	CHECK(strstr(out.data, "{\"rule\":\"off\",\"result\":\"disabled\"")
	    != NULL);
	CHECK(strstr(out.data, "]}\n") != NULL);
	buf_free(&out);
	evt_free(&ev);
	sim_free(s);
}

int
main(void)
{
	if ((cf = load_config_text(conf_text)) == NULL) {
		printf("FAIL: the test configuration does not load\n");
		return 1;
	}
	test_static();
	test_count_cooldown();
	test_aggregate();
	test_after_silence();
	test_json();
	config_free(cf);
	return harness_done();
}
