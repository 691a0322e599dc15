/*
 * fuzz_sim.c — libFuzzer target for the offline simulation and the
 * state store (store.h, unbacked), as "recoveryctl replay" drives them.
 *
 * An input is a replay file: one JSON event per line, run through
 * evt_from_json (with replay's clock: no past bound, 7 days into the
 * future of a fixed reference, so absurd times are refused the way
 * replay refuses them) and sim_event at the event's time, under a fixed
 * rule set with a count, aggregates (avg, nps, max), an "after", cooldowns
 * and escalation chains. Lines starting with '@' drive the rest of the
 * store: "@ack K" acknowledges customer K's case, "@resolve K" resolves
 * it, "@adv N" moves the clock N seconds on (running due steps). After the
 * last line the clock runs past the longest escalation delay, as replay
 * does. Each input gets a fresh simulator, so a leak, a sanitizer report
 * or a broken invariant is a bug:
 *   - every alert's JSON parses, is an object and names its rule;
 *   - the virtual clock never goes back;
 *   - an escalation step is 1..the rule's steps, and due by the clock;
 *   - late events or not, no two firings of a rule with a cooldown for
 *     one customer are closer than the cooldown (store.h), among the
 *     firing times the store keeps (the later one decided while the
 *     earlier was within cooldown + lateness of the newest).
 *
 *   make fuzz   (or: build/fuzz/fuzz_sim tests/fuzz/seeds/fuzz_sim)
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "event.h"
#include "sim.h"
#include "state.h"
#include "store.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define REF_TS	1700000000.0	/* the fuzzer's "current time" */

static const char rules_yaml[] =
"http: {listen: \"\"}\n"
"defaults: {cooldown: 0}\n"
"channels:\n"
"  s: {type: stream, key: a}\n"
"  l: {type: list, key: b}\n"
"rules:\n"
"  - name: low\n"
"    on: rating\n"
"    if: csat <= 2\n"
"    cooldown: 10m\n"
"    actions: [{notify: s, message: \"{{customer_id}} {{csat}} {{comment}}\"}]\n"
"    escalate:\n"
"      - {after: 15m, notify: l}\n"
"      - {after: 1h, notify: [s, l]}\n"
"  - name: repeat\n"
"    on: rating\n"
"    if: csat <= 2\n"
"    count: {by: customer_id, at_least: 2, within: 1h}\n"
"    cooldown: 30m\n"
"    actions: [{notify: s, message: \"{{count}}\"}]\n"
"    escalate: [{after: 15m, notify: l}]\n"
"  - name: slump\n"
"    on: rating\n"
"    aggregate: {by: agent_id, value: avg(csat), within: 4h, min_samples: 2, "
"alert_if: value < 3 and samples < 50}\n"
"    actions: [{notify: s, message: \"{{value}} {{samples}}\"}]\n"
"  - name: promoters\n"
"    on: rating\n"
"    aggregate: {by: queue, value: nps(nps), within: 2h, min_samples: 1, "
"alert_if: value >= 50 or not (value > -50)}\n"
"    cooldown: 1h\n"
"    actions: [{notify: l}]\n"
"  - name: waits\n"
"    on: call\n"
"    aggregate: {by: agent_id, value: max(wait_s), within: 30m, "
"min_samples: 1, alert_if: value > 100}\n"
"    actions: [{notify: s}]\n"
"  - name: complaint-after\n"
"    on: complaint\n"
"    after: {rule: repeat, by: customer_id, within: 6h}\n"
"    severity: critical\n"
"    actions: [{notify: [s, l]}]\n"
"    escalate: [{after: 5m, notify: s}]\n"
"  - name: calls\n"
"    on: call\n"
"    count: {by: queue, at_least: 3, within: 10m}\n"
"    actions: [{notify: s}]\n";

static struct config	*cf;

/* The firings of cooldown rules keyed by customer_id, per input. */
struct firing {
	const struct rule	*rule;
	char			 cust[64];
	int64_t			 t, newest;	/* newest when decided */
};
static struct firing	*fired;
static size_t		 nfired, capfired;

/* cooldown_check: a step-0 alert of a firing at t (ms). Alerts of one
 * firing (one per channel) share t and do not count twice. */
static void
cooldown_check(const struct alert *a, const char *cust, int64_t t)
{
	const struct rule *r = a->rule;
	int64_t newest = t, keep, late;
	size_t i;

	if (r->cooldown_ms <= 0 || (r->cooldown_key != NULL &&
	    strcmp(r->cooldown_key, "customer_id") != 0) ||
	    strlen(cust) >= sizeof(fired[0].cust))
		return;
	late = state_past_skew_ms(cf);
	late = late > 0 ? late + cf->max_future_skew_ms : r->cooldown_ms;
	keep = r->cooldown_ms + late;
	for (i = 0; i < nfired; i++)
		if (fired[i].rule == r && strcmp(fired[i].cust, cust) == 0) {
			if (fired[i].t == t)
				return;		/* the same firing */
			if (fired[i].t > newest)
				newest = fired[i].t;
		}
	for (i = 0; i < nfired; i++)
		if (fired[i].rule == r && strcmp(fired[i].cust, cust) == 0 &&
		    fired[i].t >= newest - keep &&
		    llabs(fired[i].t - t) < r->cooldown_ms)
			abort();
	if (nfired == capfired) {
		capfired = capfired ? capfired * 2 : 64;
		fired = xreallocarray(fired, capfired, sizeof(*fired));
	}
	fired[nfired].rule = r;
	snprintf(fired[nfired].cust, sizeof(fired[nfired].cust), "%s", cust);
	fired[nfired].t = t;
	fired[nfired].newest = newest;
	nfired++;
}

/* load: the rule set, once, from a file in a private temporary directory
 * (config_load reads files). */
static void
load(void)
{
	char dir[] = "/tmp/fuzz_sim.XXXXXX", path[64];
	struct diags d;
	FILE *fp;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/rules.yaml", dir);
	if ((fp = fopen(path, "w")) == NULL ||
	    fwrite(rules_yaml, 1, sizeof(rules_yaml) - 1, fp) !=
	    sizeof(rules_yaml) - 1)
		abort();
	fclose(fp);
	diags_init(&d);
	cf = config_load(path, &d);
	diags_free(&d);
	remove(path);
	remove(dir);
	if (cf == NULL)
		abort();
}

/* check: the invariants of one call's output (see the top of the file). */
static void
check(const struct sim *s, int64_t before)
{
	const struct alert *a;
	json_error_t je;
	json_t *j, *rule;
	size_t i;

	if (s->now_ms < before)
		abort();
	for (i = 0; i < s->nalerts; i++) {
		a = &s->alerts[i];
		if (a->json == NULL || a->message == NULL ||
		    s->customers[i] == NULL || a->rule == NULL)
			abort();
		if (a->step < 0 || (size_t)a->step > a->rule->nescalate)
			abort();
		if (a->step > 0 && a->fired_ts * 1000 > (double)s->now_ms + 1)
			abort();
		if (a->step == 0)
			cooldown_check(a, s->customers[i],
			    evt_time_ms(a->fired_ts));
		if ((j = json_loads(a->json, 0, &je)) == NULL)
			abort();
		rule = json_object_get(j, "rule");
		if (!json_is_string(rule) ||
		    strcmp(json_string_value(rule), a->rule->name) != 0)
			abort();
		json_decref(j);
	}
}

/* command: an "@..." line. */
static void
command(struct sim *s, const char *p, size_t len)
{
	char arg[128];
	const char *cs;
	long long n;
	int64_t before = s->now_ms;

	if (len > 5 && memcmp(p, "@ack ", 5) == 0) {
		snprintf(arg, sizeof(arg), "%.*s", (int)(len - 5), p + 5);
		(void)sim_ack(s, arg, s->now_ms);
	} else if (len > 9 && memcmp(p, "@resolve ", 9) == 0) {
		snprintf(arg, sizeof(arg), "%.*s", (int)(len - 9), p + 9);
		if ((cs = store_case_of(s->st, arg)) != NULL) {
			snprintf(arg, sizeof(arg), "%s", cs);
			(void)store_resolve(s->st, arg, s->now_ms);
		}
	} else if (len > 5 && memcmp(p, "@adv ", 5) == 0) {
		snprintf(arg, sizeof(arg), "%.*s", (int)(len - 5), p + 5);
		n = strtoll(arg, NULL, 10);
		/* at most a year at a time, as a replay's gaps would be */
		if (n > 0 && n <= 366 * 86400LL) {
			sim_advance(s, s->now_ms + n * 1000);
			check(s, before);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct sim *s;
	struct evt ev;
	char err[512], id[32];
	double last_ts = 0;
	int64_t t_ms, last_ms = 0, before;
	size_t len, line = 0;

	if (cf == NULL)
		load();
	nfired = 0;
	s = sim_new(cf);
	evt_init(&ev);
	evt_set_clock(&ev, cf->max_future_skew_ms, 0, REF_TS,
	    "the current time");
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		line++;
		if (len > 0 && *p == '@')
			command(s, p, len);
		else if (len > 0) {
			snprintf(id, sizeof(id), "line:%zu", line);
			if (evt_from_json(&ev, id, p, len, last_ts, err,
			    sizeof(err)) == EVERR_NONE) {
				last_ts = ev.ts;
				t_ms = evt_time_ms(ev.ts);
				if (t_ms > last_ms)
					last_ms = t_ms;
				before = s->now_ms;
				sim_event(s, &ev, t_ms);
				check(s, before);
			}
		}
		p = nl ? nl + 1 : end;
	}
	before = s->now_ms;
	sim_advance(s, last_ms + sim_longest_step(cf));
	check(s, before);
	sim_finish(s);
	sim_free(s);
	evt_free(&ev);
	return 0;
}
