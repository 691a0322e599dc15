/*
 * test_state.c — the state store (store.h), unbacked as "test" and
 * "replay" run it, against the semantics of state.h: count windows,
 * aggregates, "after" correlation, cooldowns, idempotence, cases and
 * escalation. (tests/unit/test_store.c covers what store.h adds: late
 * events, the Redis encodings and the backed protocol.)
 *
 * Each event goes the daemon's way: evt_from_json, engine_match,
 * state_prepare, store_decide. Rules are told apart by the event's
 * queue (or type), so each table drives the rules it names. Times are
 * event times in seconds ("ts"); the case clock (now) is given per event.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "engine.h"
#include "event.h"
#include "harness.h"
#include "testconf.h"
#include "state.h"
#include "store.h"
#include "util.h"

static const char conf_text[] =
"defaults: {cooldown: 0, severity: low}\n"
"channels:\n"
"  sup: {type: stream, key: ivr:alerts}\n"
"  lead: {type: list, key: lead}\n"
"  pager: {type: syslog}\n"
"rules:\n"
"  - name: cnt\n"
"    on: rating\n"
"    if: queue == 'cnt'\n"
"    count: {by: customer_id, at_least: 3, within: 10s}\n"
"    actions: [{notify: sup}]\n"
"  - name: agg-avg\n"
"    on: rating\n"
"    if: queue == 'agg'\n"
"    aggregate: {by: agent_id, value: avg(csat), within: 1m, min_samples: 3, alert_if: value < 3}\n"
"    actions: [{notify: sup}]\n"
"  - name: agg-sum\n"
"    on: rating\n"
"    if: queue == 'agg'\n"
"    aggregate: {by: agent_id, value: sum(csat), within: 1m, alert_if: value >= 10 and samples <= 4}\n"
"    actions: [{notify: sup}]\n"
"  - name: agg-min\n"
"    on: rating\n"
"    if: queue == 'agg'\n"
"    aggregate: {by: agent_id, value: min(csat), within: 1m, alert_if: value == 1 or samples > 4}\n"
"    actions: [{notify: sup}]\n"
"  - name: agg-max\n"
"    on: rating\n"
"    if: queue == 'agg'\n"
"    aggregate: {by: agent_id, value: max(csat), within: 1m, alert_if: not (value > 4)}\n"
"    actions: [{notify: sup}]\n"
"  - name: agg-cnt\n"
"    on: rating\n"
"    if: queue == 'agg'\n"
"    aggregate: {by: agent_id, value: count(), within: 1m, min_samples: 2, alert_if: samples == value}\n"
"    actions: [{notify: sup}]\n"
"  - name: agg-nps\n"
"    on: rating\n"
"    if: queue == 'nps'\n"
"    aggregate: {by: agent_id, value: nps(nps), within: 1h, min_samples: 4, alert_if: value <= 0}\n"
"    actions: [{notify: sup}]\n"
"  - name: bad\n"
"    on: rating\n"
"    if: queue == 'bad' and csat == 1\n"
"    severity: high\n"
"    actions: [{notify: sup}]\n"
"  - name: cmp-after\n"
"    on: complaint\n"
"    after: {rule: bad, by: customer_id, within: 1h}\n"
"    severity: critical\n"
"    actions: [{notify: sup}]\n"
"  - name: cmp-call\n"
"    on: complaint\n"
"    after: {rule: bad, by: call_id, within: 10m}\n"
"    actions: [{notify: sup}]\n"
"  - name: cd\n"
"    on: rating\n"
"    if: queue == 'cd'\n"
"    cooldown: 10s\n"
"    actions: [{notify: sup}]\n"
"  - name: sev-high\n"
"    on: rating\n"
"    if: queue == 'case' and csat == 1\n"
"    severity: high\n"
"    actions: [{notify: sup}]\n"
"    escalate:\n"
"      - {after: 15m, notify: lead}\n"
"      - {after: 1h, notify: pager}\n"
"  - name: sev-low\n"
"    on: rating\n"
"    if: queue == 'case' and csat <= 2\n"
"    actions: [{notify: sup}]\n"
"    escalate:\n"
"      - {after: 15m, notify: lead}\n"
"      - {after: 15m, notify: pager}\n"
"      - {after: 30m, notify: [lead, pager]}\n";

static struct config *
load(void)
{
	return load_config_text(conf_text);
}

static const struct config *cf;
static struct store *sm;

/* The last decision: candidates (rule names and answers) and the case. */
static struct state_cand cands[32];
static size_t ncands;
static struct case_ref cr;

/*
 * decide: run one event (JSON) through match, prepare and decide as
 * entry id, with the case clock at now_ms. Returns false (and counts a
 * failure) if the event does not parse.
 */
static bool
decide(const char *id, int64_t now_ms, const char *json)
{
	static struct evt ev;
	static bool init;
	struct fire fires[32];
	struct state_req req;
	char err[256];

	if (!init) {
		evt_init(&ev);
		init = true;
	}
	if (json == NULL) {		/* release the event */
		evt_free(&ev);
		init = false;
		return true;
	}
	evt_reset(&ev);
	if (evt_from_json(&ev, id, json, strlen(json), 0, err,
	    sizeof(err)) != EVERR_NONE) {
		CHECKF(0, "event %s did not parse: %s", json, err);
		ncands = 0;
		return false;
	}
	ncands = engine_match(cf, &ev, fires, ARRAY_LEN(fires), NULL);
	state_prepare(&req, &ev, fires, ncands, cands, now_ms);
	CHECK(store_decide(sm, &req, &cr, err, sizeof(err)) == 0);
	return true;
}

/* cand: the last decision's candidate of rule name, or NULL. */
static const struct state_cand *
cand(const char *name)
{
	size_t i;

	for (i = 0; i < ncands; i++)
		if (strcmp(cands[i].rule->name, name) == 0)
			return &cands[i];
	return NULL;
}

static bool
fired(const char *name)
{
	const struct state_cand *c = cand(name);

	return c != NULL && c->fired;
}

/* rule_named: the configuration's rule called name (it must exist). */
static const struct rule *
rule_named(const char *name)
{
	size_t i;

	for (i = 0; i < cf->nrules; i++)
		if (strcmp(cf->rules[i].name, name) == 0)
			return &cf->rules[i];
	abort();
}

/*
 * direct: decide one candidate of rule r built by hand (no event), at
 * t = 1000 ms, with key and customer; the answer is in cands[0] and cr.
 * An aggregate candidate carries the value 2.
 */
static void
direct(const char *id, const struct rule *r, const char *key,
    const char *customer)
{
	struct state_req req;

	memset(&req, 0, sizeof(req));
	memset(&cands[0], 0, sizeof(cands[0]));
	cands[0].rule = r;
	cands[0].key = key;
	cands[0].has_num = true;
	cands[0].num = 2;
	req.entry_id = id;
	req.t_ms = req.now_ms = 1000;
	req.customer_id = customer ? customer : "";
	req.call_id = req.agent_id = req.queue = "";
	req.c = cands;
	req.n = ncands = 1;
	CHECK(store_decide(sm, &req, &cr, NULL, 0) == 0);
}

static void
fresh(void)
{
	struct store_opts o;

	store_free(sm);
	store_opts_init(&o, cf);
	sm = store_new(&o);
}

/* A rating: queue, customer, agent, call, time (s) and extra fields. */
static bool
rating(const char *id, const char *queue, const char *cust,
    const char *agent, double ts, const char *extra)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"type\":\"rating\","
	    "\"call_id\":\"call-%s\","
	    "\"customer_id\":\"%s\",\"agent_id\":\"%s\",\"queue\":\"%s\","
	    "\"ts\":%.3f,%s}", id, cust, agent, queue, ts, extra);
	return decide(id, (int64_t)(ts * 1000), json);
}

struct count_row {
	const char	*id, *cust;
	double		 ts;
	long		 count;
	bool		 fired;
};

static void
test_count(void)
{
	/* at_least 3 within 10s, by customer. */
	static const struct count_row t[] = {
		{ "1", "k1", 100.0,  1, false },
		{ "2", "k1", 105.0,  2, false },
		{ "3", "k1", 110.0,  3, true },	/* 100 is exactly 10s back */
		{ "4", "k1", 110.0,  4, false },	/* not on the 4th */
		{ "5", "k1", 111.0,  4, false },	/* 100 left, 105..111 */
		{ "6", "k2", 111.0,  1, false },	/* per key */
		{ "7", "k1", 125.0,  1, false },	/* everything left */
		{ "8", "k1", 126.0,  2, false },
		{ "9", "k1", 135.001, 2, false },	/* 125: 10.001s back */
		{ "10", "k1", 136.0, 3, true },	/* sliding: fires again */
		/* late: 125 126 134 is at_least, but the count stays >= 3 from
		 * 134 to the firing at 136: the same crossing (store.h) */
		{ "11", "k1", 134.0, 3, false },
		{ "12", "k2", 112.0, 2, false },
		{ "13", "k2", 101.5, 1, false },	/* late, alone */
		{ "14", "k2", 112.5, 3, true },	/* 101.5 is 11s back */
	};
	const struct state_cand *c;
	size_t i;

	fresh();
	for (i = 0; i < ARRAY_LEN(t); i++) {
		long want = t[i].count;

		if (!rating(t[i].id, "cnt", t[i].cust, "a1", t[i].ts,
		    "\"csat\":1"))
			continue;
		c = cand("cnt");
		CHECKF(c != NULL && c->has_count && c->count == want,
		    "count row %s: count %ld, want %ld", t[i].id,
		    c ? c->count : -1, want);
		CHECKF(c != NULL && c->fired == t[i].fired,
		    "count row %s: fired %d, want %d", t[i].id,
		    c ? c->fired : -1, t[i].fired);
	}
}

struct agg_row {
	const char	*rule;
	bool		 fired;
	double		 value;
	long		 samples;
};

static void
check_agg(const char *what, const struct agg_row *t, size_t n)
{
	const struct state_cand *c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = cand(t[i].rule);
		CHECKF(c != NULL && c->has_value && c->fired == t[i].fired &&
		    c->value == t[i].value && c->samples == t[i].samples,
		    "%s %s: fired %d value %g samples %ld, want %d %g %ld",
		    what, t[i].rule, c ? c->fired : -1, c ? c->value : -1,
		    c ? c->samples : -1, t[i].fired, t[i].value,
		    t[i].samples);
	}
}

static void
test_aggregate(void)
{
	static const struct agg_row after2[] = {
		{ "agg-avg", false, 3, 2 },	/* min_samples 3 */
		{ "agg-sum", false, 6, 2 },
		{ "agg-min", false, 2, 2 },
		{ "agg-max", true, 4, 2 },	/* not (4 > 4) */
		{ "agg-cnt", true, 2, 2 },
	};
	static const struct agg_row after3[] = {
		{ "agg-avg", true, 7.0 / 3, 3 },
		{ "agg-sum", false, 7, 3 },
		{ "agg-min", true, 1, 3 },	/* value == 1 */
		{ "agg-max", true, 4, 3 },
		{ "agg-cnt", true, 3, 3 },
	};
	static const struct agg_row after5[] = {
		{ "agg-avg", false, 15.0 / 5, 5 },	/* 3 is not < 3 */
		{ "agg-sum", false, 15, 5 },	/* samples <= 4 fails */
		{ "agg-min", true, 1, 5 },
		{ "agg-max", false, 5, 5 },
		{ "agg-cnt", true, 6, 6 },	/* a4 counts here */
	};
	static const struct agg_row outside[] = {
		{ "agg-avg", false, 5, 1 },	/* 100..104 left the minute */
		{ "agg-sum", false, 5, 1 },
		{ "agg-min", false, 5, 1 },
		{ "agg-max", false, 5, 1 },
		{ "agg-cnt", false, 1, 1 },	/* min_samples 2 */
	};
	static const struct agg_row other_agent[] = {
		{ "agg-sum", true, 10, 2 },	/* a2: 5 + 5 */
	};
	const struct state_cand *c;

	fresh();
	rating("a1", "agg", "k1", "a1", 100, "\"csat\":2");
	rating("a2", "agg", "k1", "a1", 101, "\"csat\":4");
	check_agg("2 samples", after2, ARRAY_LEN(after2));
	rating("a3", "agg", "k2", "a1", 102, "\"csat\":1");
	check_agg("3 samples", after3, ARRAY_LEN(after3));
	/* No csat: joins only count(). */
	rating("a4", "agg", "k2", "a1", 103, "\"nps\":5");
	c = cand("agg-avg");
	CHECK(c != NULL && !c->fired && !c->has_value);
	c = cand("agg-cnt");
	CHECK(c != NULL && c->fired && c->samples == 4);
	rating("a5", "agg", "k2", "a1", 104, "\"csat\":3");
	rating("a6", "agg", "k2", "a1", 104, "\"csat\":5");
	check_agg("5 samples", after5, ARRAY_LEN(after5));
	rating("a7", "agg", "k2", "a1", 164.5, "\"csat\":5");
	check_agg("outside", outside, ARRAY_LEN(outside));
	rating("a8", "agg", "k2", "a2", 165, "\"csat\":5");
	rating("a9", "agg", "k2", "a2", 165, "\"csat\":5");
	check_agg("other agent", other_agent, ARRAY_LEN(other_agent));

	/* NPS: 10 9 8 7 6 0 -> (2 - 2) / 6 = 0; 10 10 9 0 -> 50. */
	fresh();
	rating("n1", "nps", "k1", "a1", 100, "\"nps\":10");
	rating("n2", "nps", "k1", "a1", 101, "\"nps\":9");
	rating("n3", "nps", "k1", "a1", 102, "\"nps\":8");
	c = cand("agg-nps");
	CHECK(c != NULL && !c->fired && c->value == 100.0 * 2 / 3 &&
	    c->samples == 3);
	rating("n4", "nps", "k1", "a1", 103, "\"nps\":7");
	c = cand("agg-nps");
	CHECK(c != NULL && !c->fired && c->value == 50 && c->samples == 4);
	rating("n5", "nps", "k1", "a1", 104, "\"nps\":6");
	rating("n6", "nps", "k1", "a1", 105, "\"nps\":0");
	c = cand("agg-nps");
	CHECK(c != NULL && c->fired && c->value == 0 && c->samples == 6);
	rating("m1", "nps", "k1", "a9", 100, "\"nps\":10");
	rating("m2", "nps", "k1", "a9", 100, "\"nps\":10");
	rating("m3", "nps", "k1", "a9", 100, "\"nps\":9");
	rating("m4", "nps", "k1", "a9", 100, "\"nps\":0");
	c = cand("agg-nps");
	CHECK(c != NULL && !c->fired && c->value == 50 && c->samples == 4);
	rating("m5", "nps", "k1", "a9", 101, "\"nps\":0");
	rating("m6", "nps", "k1", "a9", 101, "\"nps\":0");
	c = cand("agg-nps");
	CHECK(c != NULL && c->fired && c->value == 0 && c->samples == 6);
}

/* complaint: a complaint at ts (s) for cust, with call_id if non-NULL. */
static bool
complaint(const char *id, const char *cust, const char *call, double ts)
{
	char json[512], callf[128] = "";

	if (call != NULL)
		snprintf(callf, sizeof(callf), "\"call_id\":\"%s\",", call);
	snprintf(json, sizeof(json), "{\"type\":\"complaint\","
	    "\"complaint_id\":\"p-%s\",\"customer_id\":\"%s\",%s\"ts\":%.3f}",
	    id, cust, callf, ts);
	return decide(id, (int64_t)(ts * 1000), json);
}

static void
test_after(void)
{
	fresh();
	/* Not fired: no memory. */
	rating("r0", "bad", "k1", "a1", 1000, "\"csat\":2");
	complaint("p0", "k1", "call-r0", 1001);
	CHECK(!fired("cmp-after") && !fired("cmp-call"));

	rating("r1", "bad", "k1", "a1", 1000, "\"csat\":1");	/* call-r1 */
	CHECK(fired("bad"));
	complaint("p1", "k1", "call-r1", 1000);		/* same instant */
	CHECK(fired("cmp-after") && fired("cmp-call"));
	complaint("p2", "k1", "call-r1", 1000 + 600);	/* exactly 10m */
	CHECK(fired("cmp-after") && fired("cmp-call"));
	complaint("p3", "k1", "call-r1", 1000 + 600.001);
	CHECK(fired("cmp-after") && !fired("cmp-call"));
	complaint("p4", "k1", "call-r1", 1000 + 3600);	/* exactly 1h */
	CHECK(fired("cmp-after"));
	complaint("p5", "k1", NULL, 1000 + 3600.001);
	CHECK(!fired("cmp-after") && !fired("cmp-call"));
	complaint("p6", "k2", "call-xx", 1001);		/* other key */
	CHECK(!fired("cmp-after") && !fired("cmp-call"));
	complaint("p7", "k1", "call-r1", 999.999);	/* before Q fired */
	CHECK(!fired("cmp-after") && !fired("cmp-call"));
	complaint("p8", "k1", NULL, 1010);		/* empty call_id */
	CHECK(fired("cmp-after") && !fired("cmp-call"));
	CHECK(cand("cmp-call") != NULL && !cand("cmp-call")->has_count);
}

static void
test_cooldown(void)
{
	static const struct {
		const char	*id, *cust;
		double		 ts;
		bool		 fired;
	} t[] = {
		{ "d1", "k1", 100, true },
		{ "d2", "k1", 105, false },
		{ "d3", "k2", 105, true },	/* per key, not per rule */
		{ "d4", "k1", 109.999, false },
		{ "d5", "k1", 110, true },	/* |t - t'| == cooldown */
		{ "d6", "k1", 100.5, false },	/* late: 9.5s before 110 */
		{ "d7", "k2", 95, true },	/* late, 10s before 105 */
	};
	size_t i;

	fresh();
	for (i = 0; i < ARRAY_LEN(t); i++) {
		rating(t[i].id, "cd", t[i].cust, "a1", t[i].ts, "\"csat\":3");
		CHECKF(fired("cd") == t[i].fired, "cooldown row %s: fired %d",
		    t[i].id, fired("cd"));
	}
	/* cooldown 0 (the default here): fires every time. */
	for (i = 0; i < 3; i++) {
		char id[16];

		snprintf(id, sizeof(id), "z%zu", i);
		rating(id, "bad", "k1", "a1", 100, "\"csat\":1");
		CHECKF(fired("bad"), "cooldown 0, event %zu", i);
	}
}

static void
test_idempotence(void)
{
	const struct state_cand *c;
	struct case_ref first;

	fresh();
	rating("i1", "cnt", "k1", "a1", 100, "\"csat\":1");
	rating("i2", "cnt", "k1", "a1", 101, "\"csat\":1");
	rating("i3", "cnt", "k1", "a1", 102, "\"csat\":1");
	c = cand("cnt");
	CHECK(c != NULL && c->fired && c->count == 3);
	first = cr;
	CHECK(first.opened && strcmp(first.case_id, "c-i3") == 0);
	rating("i3", "cnt", "k1", "a1", 102, "\"csat\":1");	/* redelivery */
	c = cand("cnt");
	CHECK(c != NULL && c->fired && c->count == 3);
	CHECK(cr.opened && strcmp(cr.case_id, first.case_id) == 0 &&
	    cr.severity == first.severity);
	rating("i2", "cnt", "k1", "a1", 101, "\"csat\":1");
	c = cand("cnt");
	CHECK(c != NULL && !c->fired && c->count == 2);
	rating("i4", "cnt", "k1", "a1", 103, "\"csat\":1");
	c = cand("cnt");
	CHECK(c != NULL && c->count == 4);	/* not 6: nothing added twice */

	/* A cooldown does not suppress the entry that set it. */
	rating("i5", "cd", "k1", "a1", 100, "\"csat\":3");
	rating("i5", "cd", "k1", "a1", 100, "\"csat\":3");
	CHECK(fired("cd"));
	rating("i6", "agg", "k1", "a1", 100, "\"csat\":2");
	rating("i6", "agg", "k1", "a1", 100, "\"csat\":2");
	c = cand("agg-sum");
	CHECK(c != NULL && c->samples == 1 && c->value == 2);
	rating("i7", "agg", "k1", "a1", 101, "\"csat\":3");
	c = cand("agg-sum");
	CHECK(c != NULL && c->samples == 2 && c->value == 5);
}

static void
test_cases(void)
{
	const char *id;

	fresh();
	rating("c1", "case", "k1", "a1", 100, "\"csat\":2");	/* sev-low */
	CHECK(fired("sev-low") && !fired("sev-high"));
	CHECK(cr.opened);
	CHECK_STR(cr.case_id, "c-c1");
	CHECK_INT(cr.severity, SEV_LOW);
	rating("c2", "case", "k1", "a1", 200, "\"csat\":1");	/* both */
	CHECK(!cr.opened);
	CHECK_STR(cr.case_id, "c-c1");
	CHECK_INT(cr.severity, SEV_HIGH);
	rating("c3", "case", "k1", "a1", 300, "\"csat\":2");
	CHECK_STR(cr.case_id, "c-c1");
	CHECK_INT(cr.severity, SEV_HIGH);	/* the highest stays */
	rating("c4", "case", "k2", "a1", 300, "\"csat\":3");	/* no rule */
	CHECK_STR(cr.case_id, "");
	CHECK_INT(cr.severity, 0);
	CHECK(store_case_of(sm, "k2") == NULL);
	id = store_case_of(sm, "k1");
	CHECK(id != NULL && strcmp(id, "c-c1") == 0);

	CHECK_INT(store_ack(sm, "c-c1", "alice", NULL, 400000), 0);
	rating("c5", "case", "k1", "a1", 400, "\"csat\":2");	/* joins */
	CHECK_STR(cr.case_id, "c-c1");
	CHECK_INT(store_resolve(sm, "c-c1", "bob", "refund", NULL, 500000), 0);
	CHECK(store_case_of(sm, "k1") == NULL);
	/* within cases.reopen_within (7 days) of its resolution: reopened */
	rating("c6", "case", "k1", "a1", 600, "\"csat\":2");
	CHECK(!cr.opened);
	CHECK_STR(cr.case_id, "c-c1");
	CHECK_STR(store_case_state(sm, "c-c1"), "reopened");
	CHECK(store_case_of(sm, "k1") != NULL &&
	    strcmp(store_case_of(sm, "k1"), "c-c1") == 0);
	CHECK_INT(store_resolve(sm, "c-c1", "bob", "refund", NULL, 700000), 0);
	/* after it: a new case */
	rating("c8", "case", "k1", "a1", 700 + 8 * 86400, "\"csat\":2");
	CHECK(cr.opened);
	CHECK_STR(cr.case_id, "c-c8");
	CHECK_INT(cr.severity, SEV_LOW);
	CHECK_INT(store_ack(sm, "c-nope", "bob", NULL, 0), -1);
	CHECK_INT(store_resolve(sm, "c-nope", "bob", "refund", NULL, 0), -1);

	/* A firing without a customer makes no case. */
	direct("c7", rule_named("bad"), "", NULL);
	CHECK(cands[0].fired);
	CHECK_STR(cr.case_id, "");
	CHECK_INT(cr.severity, 0);
}

struct due_row {
	int64_t		 now;
	bool		 due;
	const char	*rule;
	int		 step;
	int64_t		 due_ms;
};

static void
test_escalation(void)
{
	/*
	 * Case c-e1 opened at now 1000000 by sev-high + sev-low (one event):
	 * sev-high 15m lead (1), 1h pager (2); sev-low 15m lead is a
	 * duplicate, 15m pager (2) and 30m lead+pager (3) are new.
	 */
	static const struct due_row t[] = {
		{ 1000000 + 899999, false, NULL, 0, 0 },
		{ 1000000 + 900000, true, "sev-high", 1, 1900000 },
		{ 1000000 + 900000, true, "sev-low", 2, 1900000 },
		{ 1000000 + 900000, false, NULL, 0, 0 },
		{ 1000000 + 3600000, true, "sev-low", 3, 2800000 },
		{ 1000000 + 3600000, true, "sev-high", 2, 4600000 },
		{ 1000000 + 9000000, false, NULL, 0, 0 },
	};
	struct esc_due d;
	size_t i;
	bool got;

	fresh();
	CHECK_INT(store_next_due(sm), -1);
	decide("e1", 1000000, "{\"type\":\"rating\",\"call_id\":\"call-e1\","
	    "\"customer_id\":\"k1\",\"agent_id\":\"ag\",\"queue\":\"case\","
	    "\"csat\":1,\"ts\":50}");
	CHECK(cr.opened && cr.severity == SEV_HIGH);
	CHECK_INT(store_next_due(sm), 1900000);
	/* A later firing adds nothing already scheduled, and its due times
	 * count from the case's opening. */
	rating("e2", "case", "k1", "a1", 60, "\"csat\":2");
	CHECK_STR(cr.case_id, "c-e1");
	for (i = 0; i < ARRAY_LEN(t); i++) {
		got = store_due(sm, t[i].now, &d);
		CHECKF(got == t[i].due, "due row %zu: got %d", i, got);
		if (!got || !t[i].due)
			continue;
		CHECKF(strcmp(d.rule, t[i].rule) == 0 && d.step == t[i].step &&
		    d.due_ms == t[i].due_ms, "due row %zu: %s step %d at %lld",
		    i, d.rule, d.step, (long long)d.due_ms);
		CHECKF(strcmp(d.case_id, "c-e1") == 0 &&
		    strcmp(d.customer_id, "k1") == 0 &&
		    strcmp(d.call_id, "call-e1") == 0 &&
		    strcmp(d.agent_id, "ag") == 0 &&
		    strcmp(d.queue, "case") == 0 &&
		    strcmp(d.severity, "high") == 0,
		    "due row %zu: snapshot %s %s %s %s %s %s", i, d.case_id,
		    d.customer_id, d.call_id, d.agent_id, d.queue, d.severity);
	}
	CHECK_INT(store_next_due(sm), -1);

	/* Ack stops the remaining steps; another case goes on. */
	decide("f1", 5000000, "{\"type\":\"rating\",\"call_id\":\"c\","
	    "\"customer_id\":\"k2\",\"queue\":\"case\",\"csat\":2,\"ts\":70}");
	decide("g1", 6000000, "{\"type\":\"rating\",\"call_id\":\"c\","
	    "\"customer_id\":\"k3\",\"queue\":\"case\",\"csat\":2,\"ts\":70}");
	CHECK_INT(store_next_due(sm), 5000000 + 900000);
	got = store_due(sm, 5000000 + 900000, &d);
	CHECK(got && strcmp(d.case_id, "c-f1") == 0 && d.step == 1);
	CHECK_INT(store_ack(sm, "c-f1", "alice", NULL, 5000000 + 1000000), 0);
	CHECK_INT(store_next_due(sm), 6000000 + 900000);
	got = store_due(sm, 6000000 + 900000, &d);
	CHECK(got && strcmp(d.case_id, "c-g1") == 0 && d.step == 1);
	got = store_due(sm, 6000000 + 900000, &d);
	CHECK(got && strcmp(d.case_id, "c-g1") == 0 && d.step == 2);
	CHECK_INT(store_resolve(sm, "c-g1", "bob", "refund", NULL, 6000000 + 1000000), 0);
	CHECK(!store_due(sm, 100000000, &d));
	/* what is left: c-g1's outcome, unknown after cases.outcome_within */
	CHECK_INT(store_next_due(sm), 7000000 + 30LL * 86400000);
	/* An acknowledged case joined later gains no steps. */
	rating("f2", "case", "k2", "a1", 80, "\"csat\":1");
	CHECK_STR(cr.case_id, "c-f1");
	CHECK_INT(store_next_due(sm), 7000000 + 30LL * 86400000);
	/* running past it runs no step: the outcome becomes unknown */
	CHECK(!store_due(sm, 7000000 + 31LL * 86400000, &d));
	CHECK_INT(store_next_due(sm), -1);
}

static void
test_rpn_edges(void)
{
	/* alert_if programs run on one sample (value 2, samples 1) of a
	 * private copy of agg-sum; a malformed program is false. */
	static const struct {
		const char	*prog;
		bool		 fired;
	} t[] = {
		{ "v 2 ==", true },
		{ "v 2 == s 1 == and", true },
		{ "v 3 == s 1 == or not", false },
		{ "v 2", false },		/* two values left */
		{ "==", false },		/* underflow */
		{ "v x ==", false },		/* unknown token */
		{ "", false },
		{ "1 not not", true },
		{ "  v   1.5e0 >  ", true },
	};
	char prog[64], id[16];
	struct rule r;
	size_t i;

	fresh();
	for (i = 0; i < ARRAY_LEN(t); i++) {
		r = *rule_named("agg-sum");
		snprintf(prog, sizeof(prog), "%s", t[i].prog);
		r.aggregate.alert_rpn = prog;
		snprintf(id, sizeof(id), "rpn%zu", i);
		direct(id, &r, id, "k1");
		CHECKF(cands[0].fired == t[i].fired && cands[0].value == 2 &&
		    cands[0].samples == 1, "rpn \"%s\": fired %d", t[i].prog,
		    cands[0].fired);
	}
	/* Every firing was for k1: they all joined the first case. */
	CHECK_STR(cr.case_id, "c-rpn0");
}

/*
 * direct_at: as direct, at event time t_ms and case clock now_ms: for
 * times no validated event has, which the store must still survive.
 */
static void
direct_at(const char *id, const struct rule *r, const char *key,
    int64_t t_ms, int64_t now_ms)
{
	struct state_req req;

	memset(&req, 0, sizeof(req));
	memset(&cands[0], 0, sizeof(cands[0]));
	cands[0].rule = r;
	cands[0].key = key;
	cands[0].has_num = true;
	cands[0].num = 2;
	req.entry_id = id;
	req.t_ms = t_ms;
	req.now_ms = now_ms;
	req.customer_id = key;
	req.call_id = req.agent_id = req.queue = "";
	req.c = cands;
	req.n = ncands = 1;
	CHECK(store_decide(sm, &req, &cr, NULL, 0) == 0);
}

/*
 * Time arithmetic at the ends of int64_t: windows, cooldowns and due
 * times saturate instead of wrapping, and a window whose ends cross is
 * empty. (Validated events never get here: their times are 0 .. 9999.)
 */
static void
test_time_extremes(void)
{
	static const int64_t times[] = {
		INT64_MIN, INT64_MIN + 1, -1, 0, INT64_MAX - 1, INT64_MAX,
	};
	const char *const rules[] = { "cnt", "agg-avg", "agg-min", "cd",
	    "sev-high" };
	struct esc_due d;
	char id[32];
	size_t i, j;

	for (j = 0; j < ARRAY_LEN(rules); j++) {
		fresh();
		for (i = 0; i < ARRAY_LEN(times); i++) {
			snprintf(id, sizeof(id), "x%zu-%zu", j, i);
			direct_at(id, rule_named(rules[j]), "k1", times[i],
			    times[i]);
			CHECKF(cands[0].count >= 0 && cands[0].count <= 2 &&
			    cands[0].samples >= 0 && cands[0].samples <= 2,
			    "%s at %lld: count %ld samples %ld", rules[j],
			    (long long)times[i], cands[0].count,
			    cands[0].samples);
		}
	}
	/* a cooldown across the whole range does not hold; one near either
	 * end does (the firing at INT64_MIN is far too late to be kept
	 * next to the one at INT64_MAX: store.h, firing times) */
	fresh();
	direct_at("cd1", rule_named("cd"), "k1", INT64_MAX, 0);
	CHECK(cands[0].fired);
	direct_at("cd1b", rule_named("cd"), "k1", INT64_MAX - 9999, 0);
	CHECK(!cands[0].fired);
	direct_at("cd2", rule_named("cd"), "k1", INT64_MIN, 0);
	CHECK(cands[0].fired);
	fresh();
	direct_at("cd3", rule_named("cd"), "k1", INT64_MIN, 0);
	CHECK(cands[0].fired);
	direct_at("cd4", rule_named("cd"), "k1", INT64_MIN + 9999, 0);
	CHECK(!cands[0].fired);
	direct_at("cd5", rule_named("cd"), "k1", INT64_MAX, 0);
	CHECK(cands[0].fired);
	/* steps of a case opened at the end of time are due at its end */
	fresh();
	direct_at("late", rule_named("sev-high"), "k9", 0, INT64_MAX - 1000);
	CHECK(cr.opened);
	CHECK_INT(store_next_due(sm), INT64_MAX);
	CHECK(!store_due(sm, INT64_MAX - 1, &d));
	CHECK(store_due(sm, INT64_MAX, &d) && d.step == 1 &&
	    d.due_ms == INT64_MAX);
	/* the latest representable event time goes the event's way */
	fresh();
	CHECK(decide("y1", 0, "{\"type\":\"rating\",\"call_id\":\"c\","
	    "\"customer_id\":\"k1\",\"queue\":\"cnt\",\"csat\":1,"
	    "\"ts\":\"9999-12-31T23:59:59Z\"}"));
	CHECK(cand("cnt") != NULL && cand("cnt")->count == 1);
}

int
main(void)
{
	struct config *conf;

	if ((conf = load()) == NULL) {
		CHECKF(0, "configuration did not load");
		return harness_done();
	}
	cf = conf;
	test_count();
	test_aggregate();
	test_after();
	test_cooldown();
	test_idempotence();
	test_cases();
	test_escalation();
	test_rpn_edges();
	test_time_extremes();
	store_free(sm);
	decide(NULL, 0, NULL);
	config_free(conf);
	return harness_done();
}
