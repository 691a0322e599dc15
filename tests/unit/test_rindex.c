/*
 * test_rindex.c — the rule index (rindex.h) finds the same rules, in the
 * same order, as testing every rule.
 *
 * Two parts: a table of events against guards of every shape the index
 * files (==, reversed ==, in [..], in $list, nested "and", numbers as text,
 * -0, booleans compared by truthiness) and shapes it must leave plain
 * ("or", "not", boolean literals); then a differential run: thousands of
 * generated events, each matched with the index and without it (the
 * configuration's rindex set aside), which must agree rule for rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "event.h"
#include "harness.h"
#include "rindex.h"
#include "testconf.h"
#include "util.h"

static const char conf_text[] =
"lists:\n"
"  vip_tiers: [gold, platinum]\n"
"channels:\n"
"  s: {type: stream, key: ivr:alerts}\n"
"rules:\n"
"  - {name: billing, on: rating, if: \"queue == 'billing'\", actions: [{notify: s}]}\n"
"  - {name: rev, on: rating, if: \"'vip' == segment\", actions: [{notify: s}]}\n"
"  - {name: csat1, on: [rating, call], if: csat == 1, actions: [{notify: s}]}\n"
"  - {name: tier, on: rating, if: customer.tier in $vip_tiers, actions: [{notify: s}]}\n"
"  - {name: qlist, on: rating, if: \"queue in ['a', 'b', 'a'] and csat <= 2\", actions: [{notify: s}]}\n"
"  - {name: nested, on: rating, if: \"nps <= 6 and (region == 'eu' and queue == 'a')\", actions: [{notify: s}]}\n"
"  - {name: either, on: rating, if: \"queue == 'x' or queue == 'y'\", actions: [{notify: s}]}\n"
"  - {name: notz, on: rating, if: \"not (queue == 'z')\", actions: [{notify: s}]}\n"
"  - {name: booly, on: rating, if: flag == true, actions: [{notify: s}]}\n"
"  - {name: one, on: rating, if: flag == 1, actions: [{notify: s}]}\n"
"  - {name: num5, on: rating, if: score == 5, actions: [{notify: s}]}\n"
"  - {name: text5, on: rating, if: \"score == '5.0'\", actions: [{notify: s}]}\n"
"  - {name: zero, on: rating, if: score == -0, actions: [{notify: s}]}\n"
"  - {name: all, on: complaint, actions: [{notify: s}]}\n"
"  - {name: off, enabled: false, on: rating, if: \"queue == 'billing'\", actions: [{notify: s}]}\n";

/* match: the matched rule names of one JSON event, space-separated. */
static void
match(const struct config *cf, const char *json, char *got, size_t cap)
{
	struct fire fires[32];
	char err[256];
	struct evt ev;
	size_t j, n;

	got[0] = '\0';
	evt_init(&ev);
	if (evt_from_json(&ev, "1-0", json, strlen(json), 0, err,
	    sizeof(err)) != EVERR_NONE) {
		snprintf(got, cap, "invalid: %s", err);
		evt_free(&ev);
		return;
	}
	n = engine_match(cf, &ev, fires, ARRAY_LEN(fires), NULL);
	for (j = 0; j < n; j++) {
		size_t l = strlen(got);
		snprintf(got + l, cap - l, "%s%s", j ? " " : "",
		    fires[j].rule->name);
	}
	evt_free(&ev);
}

#define R(extra)	"{\"type\":\"rating\",\"call_id\":\"c\"," \
			"\"customer_id\":\"k\",\"csat\":3" extra "}"

static void
test_table(struct config *cf)
{
	static const struct {
		const char	*event, *want;
	} t[] = {
		{ R(""), "notz" },
		{ R(",\"queue\":\"billing\""), "billing notz" },
		{ R(",\"segment\":\"vip\""), "rev notz" },
		{ "{\"type\":\"rating\",\"call_id\":\"c\",\"customer_id\":\"k\",\"csat\":\"1.0\"}",
		  "csat1 notz" },
		{ "{\"type\":\"call\",\"call_id\":\"c\",\"customer_id\":\"k\",\"csat\":1}",
		  "csat1" },
		{ R(",\"customer\":{\"tier\":\"platinum\"}"), "tier notz" },
		{ "{\"type\":\"rating\",\"call_id\":\"c\",\"customer_id\":\"k\",\"csat\":2,\"queue\":\"a\"}",
		  "qlist notz" },
		{ "{\"type\":\"rating\",\"call_id\":\"c\",\"customer_id\":\"k\",\"csat\":2,\"queue\":\"c\"}",
		  "notz" },
		{ R(",\"nps\":3,\"region\":\"eu\",\"queue\":\"a\""), "nested notz" },
		{ R(",\"queue\":\"y\""), "either notz" },
		{ R(",\"queue\":\"z\""), "" },
		{ R(",\"flag\":true"), "notz booly one" },
		{ R(",\"flag\":\"yes\""), "notz booly" },
		{ R(",\"flag\":\"1\""), "notz booly one" },
		{ R(",\"flag\":1"), "notz booly one" },
		{ R(",\"score\":5"), "notz num5 text5" },
		{ R(",\"score\":\"5.00\""), "notz num5 text5" },
		{ R(",\"score\":\"05\""), "notz num5 text5" },
		{ R(",\"score\":0"), "notz zero" },
		{ R(",\"score\":\"-0.0\""), "notz zero" },
		{ R(",\"score\":[5]"), "notz" },
		{ R(",\"score\":null"), "notz" },
		{ "{\"type\":\"complaint\",\"complaint_id\":\"p\",\"customer_id\":\"k\"}", "all" },
		{ "{\"type\":\"survey\",\"queue\":\"billing\"}", "" },
	};
	char got[512];
	size_t i, guarded, plain;

	for (i = 0; i < ARRAY_LEN(t); i++) {
		match(cf, t[i].event, got, sizeof(got));
		CHECKF(strcmp(got, t[i].want) == 0,
		    "indexed match %s: got \"%s\", want \"%s\"", t[i].event,
		    got, t[i].want);
	}
	/* Guarded, per type filed: billing rev csat1 (rating and call)
	 * tier qlist nested one num5 text5 zero; a boolean literal is no
	 * guard. */
	rindex_stats(cf->rindex, &guarded, &plain);
	CHECK_INT((long)guarded, 11);
	CHECK_INT((long)plain, 4);	/* either notz booly all */
}

/* A deterministic generator (xorshift), so a failure can be replayed. */
static unsigned long long rng = 88172645463325252ULL;

static unsigned
next(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void
test_differential(struct config *cf)
{
	static const char *const fields[] = {
		"queue", "segment", "csat", "flag", "score", "region", "nps"
	};
	static const char *const vals[] = {
		"\"billing\"", "\"vip\"", "\"a\"", "\"b\"", "\"x\"", "\"y\"",
		"\"z\"", "\"eu\"", "1", "2", "5", "0", "-0", "\"5.0\"",
		"\"1\"", "\"0\"", "\"yes\"", "\"no\"", "true", "false", "null",
		"[1]", "\"\"", "\"Billing\"", "1e0", "\"gold\"",
	};
	static const char *const tiers[] = { "gold", "platinum", "silver" };
	struct rindex *saved = cf->rindex;
	char json[1024], a[512], b[512];
	int i, mismatches = 0, fired = 0;
	size_t f;

	for (i = 0; i < 20000; i++) {
		size_t len;

		snprintf(json, sizeof(json), "{\"type\":\"%s\",\"call_id\":"
		    "\"c\",\"customer_id\":\"k\",\"complaint_id\":\"p\"",
		    next(5) ? "rating" : next(2) ? "call" : "complaint");
		for (f = 0; f < ARRAY_LEN(fields); f++) {
			if (next(3) == 0)
				continue;
			len = strlen(json);
			snprintf(json + len, sizeof(json) - len, ",\"%s\":%s",
			    fields[f], vals[next(ARRAY_LEN(vals))]);
		}
		len = strlen(json);
		if (next(2))
			snprintf(json + len, sizeof(json) - len,
			    ",\"customer\":{\"tier\":\"%s\"}}",
			    tiers[next(ARRAY_LEN(tiers))]);
		else
			snprintf(json + len, sizeof(json) - len, "}");
		cf->rindex = saved;
		match(cf, json, a, sizeof(a));
		cf->rindex = NULL;
		match(cf, json, b, sizeof(b));
		if (strcmp(a, b) != 0 && mismatches++ < 5)
			CHECKF(0, "event %s: indexed \"%s\", every rule \"%s\"",
			    json, a, b);
		if (a[0] != '\0' && strncmp(a, "invalid", 7) != 0)
			fired++;
	}
	cf->rindex = saved;
	CHECKF(mismatches == 0, "%d of 20000 events matched differently",
	    mismatches);
	/* The run must exercise the index, not only invalid events. */
	CHECKF(fired > 2000, "only %d generated events matched a rule", fired);
}

int
main(void)
{
	struct config *cf = load_config_text(conf_text);

	CHECKF(cf != NULL && cf->rindex != NULL,
	    "the test configuration loads with an index");
	if (cf != NULL && cf->rindex != NULL) {
		test_table(cf);
		test_differential(cf);
	}
	config_free(cf);
	return harness_done();
}
