/*
 * test_silence.c — silences (silence.h):
 *   - what silence_add refuses (no matcher, an empty span, IDs);
 *   - matching: every matcher given must match, the span is [starts,
 *     ends), the first silence in force wins;
 *   - the stored JSON round-trips hostile texts; corrupt values are
 *     refused and leave the set as it was;
 *   - in the simulator (the store test and replay share with the daemon):
 *     a silenced firing renders nothing and opens no case, but its
 *     cooldown holds after the silence ended; it is counted per silence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "harness.h"
#include "sim.h"
#include "silence.h"
#include "testconf.h"

static const char conf_text[] =
"defaults: {cooldown: 0, severity: low}\n"
"channels:\n"
"  sup: {type: stream, key: ivr:alerts}\n"
"rules:\n"
"  - name: bad\n"
"    on: rating\n"
"    if: csat == 1\n"
"    cooldown: 5s\n"
"    actions: [{notify: sup}]\n"
"  - name: any\n"
"    on: call\n"
"    actions: [{notify: sup}]\n";

static struct silence
mk(const char *id, const char *rule, const char *queue, const char *agent,
    const char *customer, int64_t starts, int64_t ends)
{
	struct silence s;

	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", id);
	s.rule = (char *)rule;
	s.queue = (char *)queue;
	s.agent = (char *)agent;
	s.customer = (char *)customer;
	s.starts_ms = starts;
	s.ends_ms = ends;
	return s;
}

/* ld: silence_load of a NUL-terminated JSON text. */
static int
ld(struct silences *set, const char *id, size_t idlen, const char *json)
{
	char err[256];

	return silence_load(set, id, idlen, json, strlen(json), err,
	    sizeof(err));
}

static void
test_add(void)
{
	struct silences set;
	struct silence s;
	char err[256], longid[100];

	silences_init(&set);
	s = mk("s1", NULL, NULL, NULL, NULL, 0, 10);
	CHECK(silence_add(&set, &s, err, sizeof(err)) == -1);
	CHECK(strstr(err, "at least one") != NULL);
	s = mk("s1", "", "", NULL, "", 0, 10);	/* empty: not given */
	CHECK(silence_add(&set, &s, err, sizeof(err)) == -1);
	s = mk("s1", "bad", NULL, NULL, NULL, 10, 10);
	CHECK(silence_add(&set, &s, err, sizeof(err)) == -1);
	CHECK(strstr(err, "ends before") != NULL);
	s = mk("", "bad", NULL, NULL, NULL, 0, 10);
	CHECK(silence_add(&set, &s, err, sizeof(err)) == -1);
	s = mk("s1", "bad", NULL, NULL, NULL, 0, 10);
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	CHECK(ld(&set, longid, strlen(longid),
	    "{\"rule\":\"bad\",\"starts_ms\":0,\"ends_ms\":10}") == -1);
	CHECK(silence_add(&set, &s, err, sizeof(err)) == 0);
	CHECK(silence_add(&set, &s, err, sizeof(err)) == -1);	/* twice */
	CHECK_INT(set.n, 1);
	CHECK(silence_find(&set, "s1") != NULL);
	CHECK(silence_find(&set, "s2") == NULL);
	silences_pop(&set);
	CHECK_INT(set.n, 0);
	silences_free(&set);
}

static void
test_match(void)
{
	struct silences set;
	struct silence s;
	const struct silence *m;
	char err[256];

	silences_init(&set);
	CHECK(silence_match(&set, "bad", "q", "a", "k", 5) == NULL);
	s = mk("rq", "bad", "billing", NULL, NULL, 100, 200);
	CHECK(silence_add(&set, &s, err, sizeof(err)) == 0);
	s = mk("k", NULL, NULL, NULL, "K1", 150, 300);
	CHECK(silence_add(&set, &s, err, sizeof(err)) == 0);
	s = mk("ag", NULL, NULL, "A1", NULL, 0, 1000);
	CHECK(silence_add(&set, &s, err, sizeof(err)) == 0);

	/* rule and queue: both must match */
	m = silence_match(&set, "bad", "billing", "", "", 100);
	CHECK(m != NULL && strcmp(m->id, "rq") == 0);
	CHECK(silence_match(&set, "bad", "support", "", "", 120) == NULL);
	CHECK(silence_match(&set, "other", "billing", "", "", 120) == NULL);
	CHECK(silence_match(&set, "bad", "", "", "", 120) == NULL);
	/* the span: starts included, ends not */
	CHECK(silence_match(&set, "bad", "billing", "", "", 99) == NULL);
	CHECK(silence_match(&set, "bad", "billing", "", "", 199) != NULL);
	CHECK(silence_match(&set, "bad", "billing", "", "", 200) == NULL);
	/* by customer, any rule; the first in force wins */
	m = silence_match(&set, "any", "", "", "K1", 299);
	CHECK(m != NULL && strcmp(m->id, "k") == 0);
	m = silence_match(&set, "bad", "billing", "", "K1", 160);
	CHECK(m != NULL && strcmp(m->id, "rq") == 0);
	CHECK(silence_match(&set, "any", "", "", "K2", 160) == NULL);
	CHECK(silence_match(&set, "any", "", "", "K1", 300) == NULL);
	m = silence_match(&set, "any", "", "A1", "", 999);
	CHECK(m != NULL && strcmp(m->id, "ag") == 0);
	CHECK(silence_match(NULL, "any", "", "A1", "", 999) == NULL);
	silences_free(&set);
}

static void
test_json(void)
{
	struct silences set, back;
	struct silence s;
	const struct silence *g;
	struct buf b;
	char err[256];
	const char *hostile = "a \"quoted\"\n\\ reason \xc3\xa9 {}:%*";

	silences_init(&set);
	silences_init(&back);
	buf_init(&b);
	s = mk("s-1", "r\"x", "q\n1", "a\\b", hostile, 1700000000000LL,
	    1700000003600LL);
	s.reason = (char *)hostile;
	s.by = (char *)"ann";
	CHECK(silence_add(&set, &s, err, sizeof(err)) == 0);
	silence_json(&set.v[0], &b);
	CHECK(silence_load(&back, "s-1", 3, b.data, b.len, err,
	    sizeof(err)) == 0);
	CHECK_INT(back.n, 1);
	if (back.n == 1) {
		g = &back.v[0];
		CHECK_STR(g->id, "s-1");
		CHECK_STR(g->rule, "r\"x");
		CHECK_STR(g->queue, "q\n1");
		CHECK_STR(g->agent, "a\\b");
		CHECK_STR(g->customer, hostile);
		CHECK_STR(g->reason, hostile);
		CHECK_STR(g->by, "ann");
		CHECK_INT(g->starts_ms, 1700000000000LL);
		CHECK_INT(g->ends_ms, 1700000003600LL);
	}
	/* corrupt values: refused, the set unchanged */
	CHECK(ld(&back, "x", 1, "not json") == -1);
	CHECK(ld(&back, "x", 1, "[1]") == -1);
	CHECK(ld(&back, "x", 1, "{\"rule\":\"r\",\"starts_ms\":0}") == -1);
	CHECK(ld(&back, "x", 1, "{\"rule\":\"r\",\"starts_ms\":0,"
	    "\"ends_ms\":\"5\"}") == -1);
	CHECK(ld(&back, "x", 1, "{\"starts_ms\":0,\"ends_ms\":5}") == -1);
	CHECK(ld(&back, "x\0y", 3, "{\"rule\":\"r\",\"starts_ms\":0,"
	    "\"ends_ms\":5}") == -1);
	/* the same, well formed: loads (so the refusals above were for
	 * what they say) */
	CHECK(ld(&back, "x", 1, "{\"rule\":\"r\",\"starts_ms\":0,"
	    "\"ends_ms\":5}") == 0);
	CHECK_INT(back.n, 2);
	silences_pop(&back);
	CHECK_INT(back.n, 1);
	buf_free(&b);
	silences_free(&set);
	silences_free(&back);
}

static size_t
rate(struct sim *s, struct evt *ev, const char *id, const char *cust,
    int csat, int64_t t)
{
	char json[200], err[256];

	snprintf(json, sizeof(json), "{\"type\":\"rating\",\"customer_id\":"
	    "\"%s\",\"call_id\":\"C\",\"csat\":%d}", cust, csat);
	CHECK(evt_from_json(ev, id, json, strlen(json), (double)t / 1000, err,
	    sizeof(err)) == EVERR_NONE);
	return sim_event(s, ev, t);
}

static void
test_sim(const struct config *cf)
{
	struct sim *s = sim_new(cf);
	struct silence sl;
	struct evt ev;
	char err[256];
	int64_t t0 = 1700000000000LL;

	evt_init(&ev);
	sl = mk("s1", "bad", NULL, NULL, NULL, t0, t0 + 2000);
	CHECK(silence_add(&s->silences, &sl, err, sizeof(err)) == 0);
	/* silenced: nothing rendered, no case */
	CHECK_INT(rate(s, &ev, "t1", "K1", 1, t0), 0);
	CHECK(store_case_of(s->st, "K1") == NULL);
	CHECK_INT(s->nsilenced, 1);
	CHECK_INT(s->silences.v[0].count, 1);
	CHECK_INT(s->ncases, 0);
	/* another customer, same rule: silenced too (by rule) */
	CHECK_INT(rate(s, &ev, "t2", "K2", 1, t0 + 1000), 0);
	CHECK_INT(s->silences.v[0].count, 2);
	/* ended at +2s, but the silenced firing's cooldown (5s) holds */
	CHECK_INT(rate(s, &ev, "t3", "K1", 1, t0 + 3000), 0);
	CHECK_INT(s->silences.v[0].count, 2);
	CHECK(store_case_of(s->st, "K1") == NULL);
	/* past the cooldown: fires, delivers, opens a case */
	CHECK_INT(rate(s, &ev, "t4", "K1", 1, t0 + 5000), 1);
	CHECK_STR(store_case_of(s->st, "K1"), "c-t4");
	CHECK_INT(s->nsilenced, 2);
	/* a candidate marked by a set that no longer matches is cleared */
	silences_clear(&s->silences);
	CHECK_INT(rate(s, &ev, "t5", "K2", 1, t0 + 9000), 1);
	CHECK_STR(store_case_of(s->st, "K2"), "c-t5");
	evt_free(&ev);
	sim_free(s);
}

int
main(void)
{
	struct config *cf;

	test_add();
	test_match();
	test_json();
	if ((cf = load_config_text(conf_text)) == NULL) {
		CHECKF(0, "configuration did not load");
		return harness_done();
	}
	test_sim(cf);
	config_free(cf);
	return harness_done();
}
