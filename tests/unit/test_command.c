/*
 * test_command.c — people's commands (command.h): what command_parse
 * refuses (unknown ops and fields, case IDs that could name another key,
 * hostile names, notes and reply tokens, a resolve without a code), and
 * what command_apply does to a store and answers: ack, ack again, ack of
 * a resolved case, resolve with an unknown code (refused) and a known
 * one, resolve again, assign, note, reopen (of a resolved case only, and
 * not while its customer has another open case), an unknown case, a
 * refused command that changes nothing; and the history each leaves, in
 * order, with who. The daemon's owner and recoveryctl test run these.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "config.h"
#include "event.h"
#include "harness.h"
#include "sim.h"
#include "store.h"
#include "testconf.h"
#include "util.h"

static const char conf_text[] =
"channels:\n"
"  sup: {type: stream, key: ivr:alerts}\n"
"rules:\n"
"  - name: low\n"
"    on: rating\n"
"    if: csat <= 2\n"
"    actions: [{notify: sup}]\n"
"    escalate: [{after: 1h, notify: sup}]\n";

/* parse: fields as "name", "value", ... (n pairs). */
static int
parse(struct command *c, size_t n, const char *const *kv, const size_t *vl)
{
	const char *names[16], *vals[16];
	size_t nl[16], vls[16], i;

	for (i = 0; i < n && i < 16; i++) {
		names[i] = kv[2 * i];
		nl[i] = strlen(kv[2 * i]);
		vals[i] = kv[2 * i + 1];
		vls[i] = vl != NULL && vl[i] != 0 ? vl[i] :
		    strlen(kv[2 * i + 1]);
	}
	return command_parse(c, names, nl, vals, vls, n);
}

static void
test_parse(void)
{
	struct command c;
	char big[CMD_NOTE_MAX + 2], longby[CMD_BY_MAX + 2];
	static const struct {
		const char	*name;
		const char	*kv[12];
		size_t		 n;
		const char	*err;	/* NULL: accepted */
	} rows[] = {
		{ "ack", { "op", "ack", "case", "c-1-0", "by", "ana" }, 3,
		    NULL },
		{ "resolve", { "op", "resolve", "case", "c-1", "by", "a",
		    "code", "refund" }, 4, NULL },
		{ "resolve without a code", { "op", "resolve", "case", "c-1",
		    "by", "a" }, 3, "missing code" },
		{ "resolve without by", { "op", "resolve", "case", "c-1",
		    "code", "refund" }, 3, "missing by" },
		{ "ack without by", { "op", "ack", "case", "c-1" }, 2,
		    "missing by" },
		{ "assign", { "op", "assign", "case", "c-1", "by", "a", "to",
		    "ben" }, 4, NULL },
		{ "assign to nobody", { "op", "assign", "case", "c-1", "by",
		    "a" }, 3, "missing to" },
		{ "assign to a hostile name", { "op", "assign", "case", "c-1",
		    "by", "a", "to", "b\x1b[31m" }, 4, "to is not a name" },
		{ "note", { "op", "note", "case", "c-1", "by", "a", "note",
		    "called" }, 4, NULL },
		{ "empty note", { "op", "note", "case", "c-1", "by", "a",
		    "note", "" }, 4, "missing note" },
		{ "reopen", { "op", "reopen", "case", "c-1", "by", "a" }, 3,
		    NULL },
		{ "no op", { "case", "c-1", "by", "a" }, 2, "missing op" },
		{ "unknown op", { "op", "drop", "case", "c-1" }, 2,
		    "op is not ack, resolve" },
		{ "no case", { "op", "ack" }, 1, "missing case" },
		{ "case naming an EVENT key", { "op", "ack", "case",
		    "c-1:event" }, 2, "case is not an ID" },
		{ "case with a glob", { "op", "ack", "case", "c-*" }, 2,
		    "case is not an ID" },
		{ "case with a brace", { "op", "ack", "case", "{c}" }, 2,
		    "case is not an ID" },
		{ "empty case", { "op", "ack", "case", "" }, 2,
		    "case is not an ID" },
		{ "by with a newline", { "op", "ack", "case", "c-1", "by",
		    "ana\nroot" }, 3, "by is not a name" },
		{ "empty by", { "op", "ack", "case", "c-1", "by", "" }, 3,
		    "by is not a name" },
		{ "unknown field", { "op", "ack", "case", "c-1", "by", "a",
		    "state", "open" }, 4, "unknown field 'state'" },
		{ "reply key injection", { "op", "ack", "case", "c-1", "by",
		    "a", "reply", "x:y" }, 4, "reply is not a token" },
		{ "at is informative", { "op", "ack", "case", "c-1", "by", "a",
		    "at", "123" }, 4, NULL },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(rows); i++) {
		int rc = parse(&c, rows[i].n, rows[i].kv, NULL);

		if (rows[i].err == NULL)
			CHECKF(rc == 0 && c.op != CMD_NONE, "%s: refused: %s",
			    rows[i].name, c.err);
		else
			CHECKF(rc == -1 && c.op == CMD_NONE &&
			    strstr(c.err, rows[i].err) != NULL,
			    "%s: rc %d, err \"%s\"", rows[i].name, rc, c.err);
		command_free(&c);
	}

	/* A refused command keeps its reply token, to be answered. */
	{
		const char *kv[] = { "op", "drop", "case", "c-1", "reply",
		    "tok_1-A" };
		CHECK(parse(&c, 3, kv, NULL) == -1);
		CHECK_STR(c.reply, "tok_1-A");
		CHECK_STR(c.case_id, "c-1");
		command_free(&c);
	}
	/* Bounds: the longest note and name pass, one byte more does not. */
	memset(big, 'n', sizeof(big));
	big[CMD_NOTE_MAX] = '\0';
	memset(longby, 'b', sizeof(longby));
	longby[CMD_BY_MAX] = '\0';
	{
		const char *kv[] = { "op", "ack", "case", "c-1", "by", longby,
		    "note", big };
		CHECK(parse(&c, 4, kv, NULL) == 0);
		CHECK(c.note != NULL && strlen(c.note) == CMD_NOTE_MAX);
		command_free(&c);
		big[CMD_NOTE_MAX] = 'n';
		big[CMD_NOTE_MAX + 1] = '\0';
		CHECK(parse(&c, 4, kv, NULL) == -1);
		command_free(&c);
		longby[CMD_BY_MAX] = 'b';
		longby[CMD_BY_MAX + 1] = '\0';
		kv[7] = "ok";
		CHECK(parse(&c, 4, kv, NULL) == -1);
		command_free(&c);
	}
	/* A NUL inside a value. */
	{
		const char *kv[] = { "op", "ack", "case", "c-1", "by", "a\0b" };
		size_t vl[] = { 0, 0, 3 };
		CHECK(parse(&c, 3, kv, vl) == -1);
		command_free(&c);
	}
	/* Too many fields. */
	{
		const char *kv[] = { "op", "ack", "case", "c-1", "by", "a",
		    "at", "1", "at", "2", "at", "3", "at", "4", "at", "5",
		    "at", "6" };
		CHECK(parse(&c, 9, kv, NULL) == -1 &&
		    strstr(c.err, "too many") != NULL);
		command_free(&c);
	}
}

/* run: parse and apply a command (fields after id: by, then optional
 * note, code, to; NULL leaves one out); its answer in out. */
static int
run(struct store *st, const struct config *cf, struct buf *out, int64_t now,
    const char *op, const char *id, const char *by, const char *note,
    const char *code, const char *to)
{
	const char *kv[16];
	struct command c;
	size_t n = 0;
	int rc;

#define KV(k, v) do { if ((v) != NULL) { kv[2 * n] = (k); \
	kv[2 * n++ + 1] = (v); } } while (0)
	KV("op", op);
	KV("case", id);
	KV("by", by);
	KV("note", note);
	KV("code", code);
	KV("to", to);
#undef KV
	(void)parse(&c, n, kv, NULL);
	buf_reset(out);
	rc = command_apply(st, cf, &c, now, out);
	buf_putc(out, '\0');
	command_free(&c);
	return rc;
}

/* hist_has: history entry i of case id holds every text of want. */
static bool
hist_has(struct store *st, const char *id, size_t i, const char *w1,
    const char *w2)
{
	size_t n;
	const char *const *h = store_case_hist(st, id, &n);

	if (i >= n)
		return false;
	return strstr(h[i], w1) != NULL && (w2 == NULL ||
	    strstr(h[i], w2) != NULL);
}

static void
push(struct sim *s, const char *json, int64_t t)
{
	static int seq;
	struct evt ev;
	char err[256], id[32];

	snprintf(id, sizeof(id), "%d-0", ++seq);
	evt_init(&ev);
	CHECK(evt_from_json(&ev, id, json, strlen(json), 0, err,
	    sizeof(err)) == EVERR_NONE);
	sim_event(s, &ev, t);
	evt_free(&ev);
}

static void
test_apply(const struct config *cf)
{
	struct sim *s = sim_new(cf);
	struct buf out;
	char id[ENGINE_ID_MAX];
	const char *open;
	size_t n;

	buf_init(&out);
	push(s, "{\"type\":\"rating\",\"customer_id\":\"K1\",\"call_id\":\"C1\","
	    "\"csat\":1,\"comment\":\"rude agent\",\"ts\":100}", 100000);
	open = store_case_of(s->st, "K1");
	CHECK(open != NULL);
	snprintf(id, sizeof(id), "%s", open != NULL ? open : "");
	CHECK_STR(store_case_state(s->st, id), "open");
	CHECK_INT(store_next_due(s->st), 100000 + 3600000);
	/* history so far: opened, the event (its fields in the EVENT
	 * entity only: they are stored once), the alert */
	CHECK(hist_has(s->st, id, 0, "\"kind\":\"opened\"", "\"rules\":\"low\""));
	CHECK(hist_has(s->st, id, 1, "\"kind\":\"event\"", NULL));
	CHECK(!hist_has(s->st, id, 1, "\"fields\"", NULL));
	{
		size_t len;
		const char *ev = store_case_event_get(s->st, id, &len);

		CHECK(ev != NULL && strstr(ev, "\"comment\":\"rude agent\"") !=
		    NULL);
	}
	CHECK(hist_has(s->st, id, 2, "\"kind\":\"alert\"", "\"channel\":\"sup\""));

	CHECK_INT(run(s->st, cf, &out, 200000, "ack", id, "ana", "called",
	    NULL, NULL), 0);
	CHECK(strstr(out.data, "\"ok\":true") != NULL &&
	    strstr(out.data, "\"was\":\"open\"") != NULL &&
	    strstr(out.data, "\"state\":\"acknowledged\"") != NULL);
	CHECK_STR(store_case_state(s->st, id), "acknowledged");
	CHECKF(store_next_due(s->st) == -1, "the ack left a step pending");
	CHECK(hist_has(s->st, id, 3, "\"kind\":\"ack\"", "\"by\":\"ana\""));
	/* again: nothing changes, still ok, no history */
	CHECK_INT(run(s->st, cf, &out, 210000, "ack", id, "ben", NULL, NULL,
	    NULL), 0);
	CHECK(strstr(out.data, "\"was\":\"acknowledged\"") != NULL);
	(void)store_case_hist(s->st, id, &n);
	CHECK_INT(n, 4);
	CHECK_INT(run(s->st, cf, &out, 220000, "assign", id, "ana", NULL,
	    NULL, "ben"), 0);
	CHECK(hist_has(s->st, id, 4, "\"kind\":\"assign\"", "\"to\":\"ben\""));
	CHECK_INT(run(s->st, cf, &out, 230000, "note", id, "ben",
	    "left a voicemail", NULL, NULL), 0);
	CHECK(hist_has(s->st, id, 5, "\"kind\":\"note\"",
	    "\"text\":\"left a voicemail\""));
	/* reopen of a case that is not resolved */
	CHECK_INT(run(s->st, cf, &out, 240000, "reopen", id, "ben", NULL,
	    NULL, NULL), -1);
	CHECK(strstr(out.data, "\"code\":\"not_resolved\"") != NULL);
	/* resolve needs a known code */
	CHECK_INT(run(s->st, cf, &out, 250000, "resolve", id, "ben", NULL,
	    "bribe", NULL), -1);
	CHECK(strstr(out.data, "\"code\":\"code\"") != NULL &&
	    strstr(out.data, "unknown resolution code 'bribe'") != NULL);
	CHECK_STR(store_case_state(s->st, id), "acknowledged");
	CHECK_INT(run(s->st, cf, &out, 300000, "resolve", id, "ben", "refund",
	    "refund", NULL), 0);
	CHECK_STR(store_case_state(s->st, id), "resolved");
	CHECK(hist_has(s->st, id, 6, "\"kind\":\"resolve\"",
	    "\"code\":\"refund\""));
	CHECK(strstr(out.data, "\"resolved_at\":\"1970-01-01T00:05:00") !=
	    NULL);
	CHECK(store_case_of(s->st, "K1") == NULL);
	CHECK_INT(run(s->st, cf, &out, 310000, "resolve", id, "ben", NULL,
	    "refund", NULL), 0);
	CHECK(strstr(out.data, "\"was\":\"resolved\"") != NULL);
	CHECK_INT(run(s->st, cf, &out, 320000, "ack", id, "ana", NULL, NULL,
	    NULL), -1);
	CHECK(strstr(out.data, "\"code\":\"resolved\"") != NULL &&
	    strstr(out.data, "\"resolved_at\":\"1970-01-01T00:05:00") != NULL);

	/* a person reopens it: open again, escalating from now */
	CHECK_INT(run(s->st, cf, &out, 400000, "reopen", id, "ana", NULL,
	    NULL, NULL), 0);
	CHECK_STR(store_case_state(s->st, id), "reopened");
	CHECK(store_case_of(s->st, "K1") != NULL &&
	    strcmp(store_case_of(s->st, "K1"), id) == 0);
	CHECK_INT(store_next_due(s->st), 400000 + 3600000);
	CHECK_INT(run(s->st, cf, &out, 410000, "resolve", id, "ana", NULL,
	    "duplicate", NULL), 0);

	CHECK_INT(run(s->st, cf, &out, 0, "ack", "c-nope", "ana", NULL, NULL,
	    NULL), -1);
	CHECK(strstr(out.data, "\"code\":\"nocase\"") != NULL &&
	    strstr(out.data, "no case 'c-nope'") != NULL);
	CHECK_INT(run(s->st, cf, &out, 0, "drop", id, "ana", NULL, NULL,
	    NULL), -1);
	CHECK(strstr(out.data, "\"code\":\"invalid\"") != NULL);
	/* sim_ack is the same command */
	CHECK_INT(sim_ack(s, id, 420000), -1);
	buf_free(&out);
	sim_free(s);
}

/* A firing within cases.reopen_within of the resolution reopens the case;
 * one after it opens a new case. */
static void
test_reopen_within(const struct config *cf)
{
	struct sim *s = sim_new(cf);
	struct buf out;
	char id[ENGINE_ID_MAX], id2[ENGINE_ID_MAX];
	int64_t t = 1000000, day = 86400000;

	buf_init(&out);
	push(s, "{\"type\":\"rating\",\"customer_id\":\"K2\",\"call_id\":\"C1\","
	    "\"csat\":1,\"ts\":1000}", t);
	snprintf(id, sizeof(id), "%s", store_case_of(s->st, "K2") != NULL ?
	    store_case_of(s->st, "K2") : "");
	CHECK_INT(run(s->st, cf, &out, t + 1000, "resolve", id, "ana", NULL,
	    "callback-done", NULL), 0);
	/* 7 days is the default: a bad rating 6 days later reopens it */
	push(s, "{\"type\":\"rating\",\"customer_id\":\"K2\",\"call_id\":\"C2\","
	    "\"csat\":2,\"ts\":519400}", t + 6 * day);
	CHECK_STR(store_case_state(s->st, id), "reopened");
	CHECK(store_case_of(s->st, "K2") != NULL &&
	    strcmp(store_case_of(s->st, "K2"), id) == 0);
	{
		size_t n, i;
		const char *const *h = store_case_hist(s->st, id, &n);
		bool seen = false;

		for (i = 0; i < n; i++)
			seen = seen || strstr(h[i], "\"kind\":\"reopened\"") !=
			    NULL;
		CHECK(seen);
	}
	CHECK_INT(run(s->st, cf, &out, t + 6 * day + 1000, "resolve", id,
	    "ana", NULL, "refund", NULL), 0);
	/* 8 days after that resolution: a new case */
	push(s, "{\"type\":\"rating\",\"customer_id\":\"K2\",\"call_id\":\"C3\","
	    "\"csat\":1,\"ts\":1210000}", t + 14 * day + 2000);
	snprintf(id2, sizeof(id2), "%s", store_case_of(s->st, "K2") != NULL ?
	    store_case_of(s->st, "K2") : "");
	CHECK(id2[0] != '\0' && strcmp(id, id2) != 0);
	CHECK_STR(store_case_state(s->st, id), "resolved");
	/* a reopen of the old case now would give K2 two open cases */
	CHECK_INT(run(s->st, cf, &out, t + 15 * day, "reopen", id, "ana", NULL,
	    NULL, NULL), -1);
	CHECK(strstr(out.data, "\"code\":\"other_open\"") != NULL);
	buf_free(&out);
	sim_free(s);
}

/* Outcomes (README, "Working a case"): the customer's first rating after a
 * resolution; a rating that reopens the case is not_recovered; none
 * within cases.outcome_within is unknown. Contacts join the open case. */
static void
test_outcomes(const struct config *cf)
{
	struct sim *s = sim_new(cf);
	struct buf out;
	char a[ENGINE_ID_MAX], b[ENGINE_ID_MAX], c[ENGINE_ID_MAX];
	int64_t t = 1000000, day = 86400000, fc;
	uint64_t n[3];

	buf_init(&out);
#define OPEN(id, cust, ts, at) do {					\
	push(s, "{\"type\":\"rating\",\"customer_id\":\"" cust	\
	    "\",\"call_id\":\"C\",\"csat\":1,\"ts\":" ts "}", (at));	\
	snprintf(id, sizeof(id), "%s", store_case_of(s->st, cust) ?	\
	    store_case_of(s->st, cust) : "");				\
} while (0)
	OPEN(a, "KA", "1000", t);
	OPEN(b, "KB", "1000", t);
	OPEN(c, "KC", "1000", t);
	CHECK(a[0] != '\0' && b[0] != '\0' && c[0] != '\0');
	/* a contact attempt, then the customer reached: first contact */
	push(s, "{\"type\":\"contact\",\"customer_id\":\"KA\","
	    "\"result\":\"no_answer\",\"ts\":1100}", t + 100000);
	(void)store_case_outcome(s->st, a, &fc);
	CHECK_INT(fc, 0);
	push(s, "{\"type\":\"contact\",\"customer_id\":\"KA\","
	    "\"result\":\"reached\",\"agent_id\":\"ana\",\"ts\":1200}",
	    t + 200000);
	push(s, "{\"type\":\"contact\",\"customer_id\":\"KA\","
	    "\"result\":\"reached\",\"ts\":1300}", t + 300000);
	(void)store_case_outcome(s->st, a, &fc);
	CHECK_INT(fc, t + 200000);
	{
		size_t k, nh, contacts = 0;
		const char *const *h = store_case_hist(s->st, a, &nh);

		for (k = 0; k < nh; k++)
			contacts += strstr(h[k], "\"kind\":\"contact\"") != NULL;
		CHECK_INT(contacts, 3);
	}
	CHECK_INT(run(s->st, cf, &out, t + 400000, "resolve", a, "ana", NULL,
	    "callback-done", NULL), 0);
	CHECK_INT(run(s->st, cf, &out, t + 400000, "resolve", b, "ana", NULL,
	    "refund", NULL), 0);
	CHECK_INT(run(s->st, cf, &out, t + 400000, "resolve", c, "ana", NULL,
	    "no-answer", NULL), 0);
	CHECK(store_case_outcome(s->st, a, NULL) == NULL);	/* pending */
	/* KA rates 5 a day later: recovered; KB rates 1, which fires and
	 * reopens its case: not_recovered; KC never rates again: unknown */
	push(s, "{\"type\":\"rating\",\"customer_id\":\"KA\",\"call_id\":"
	    "\"C2\",\"csat\":5,\"ts\":87400}", t + day);
	CHECK(store_case_outcome(s->st, a, NULL) != NULL &&
	    strcmp(store_case_outcome(s->st, a, NULL), "recovered") == 0);
	/* only the first rating counts */
	push(s, "{\"type\":\"rating\",\"customer_id\":\"KA\",\"call_id\":"
	    "\"C3\",\"nps\":9,\"ts\":87500}", t + day + 100000);
	store_outcomes(s->st, n);
	CHECK_INT(n[0], 1);
	push(s, "{\"type\":\"rating\",\"customer_id\":\"KB\",\"call_id\":"
	    "\"C4\",\"csat\":1,\"ts\":87400}", t + day);
	CHECK_STR(store_case_state(s->st, b), "reopened");
	CHECK(store_case_outcome(s->st, b, NULL) == NULL);	/* pending again */
	store_outcomes(s->st, n);
	CHECK_INT(n[1], 1);
	sim_advance(s, t + 31 * day);
	CHECK(store_case_outcome(s->st, c, NULL) != NULL &&
	    strcmp(store_case_outcome(s->st, c, NULL), "unknown") == 0);
	store_outcomes(s->st, n);
	CHECKF(n[0] == 1 && n[1] == 1 && n[2] == 1, "outcomes %llu %llu %llu",
	    (unsigned long long)n[0], (unsigned long long)n[1],
	    (unsigned long long)n[2]);
	/* a contact for a customer whose case is resolved joins nothing */
	{
		size_t before, after;

		(void)store_case_hist(s->st, c, &before);
		push(s, "{\"type\":\"contact\",\"customer_id\":\"KC\","
		    "\"result\":\"reached\",\"ts\":2800000}", t + 32 * day);
		(void)store_case_hist(s->st, c, &after);
		CHECK_INT(after, before);
	}
#undef OPEN
	buf_free(&out);
	sim_free(s);
}

/* Assignment pools: least_open picks the member with the fewest open
 * cases (the first on a tie), and resolving or reassigning moves the
 * counts; round_robin takes turns. */
static const char pool_text[] =
"channels:\n"
"  sup: {type: stream, key: ivr:alerts}\n"
"defaults: {cooldown: 0}\n"
"rules:\n"
"  - name: low\n"
"    on: rating\n"
"    if: csat <= 2\n"
"    assign: {pool: [dora, erik], strategy: least_open}\n"
"    actions: [{notify: sup}]\n"
"  - name: nps\n"
"    on: rating\n"
"    if: nps <= 2\n"
"    assign: {pool: [ana, ben, chen]}\n"
"    actions: [{notify: sup}]\n";

static const char *
owner_of(struct sim *s, const char *cust, struct buf *out)
{
	const char *id = store_last_case(s->st, cust);
	size_t n, i;
	const char *const *h;
	static char who[64];

	(void)out;
	who[0] = '\0';
	if (id == NULL)
		return "";
	h = store_case_hist(s->st, id, &n);
	for (i = 0; i < n; i++) {	/* the latest assignment */
		static const char tag[] = "\"kind\":\"assign\",\"to\":\"";
		const char *p = strstr(h[i], tag);
		size_t l = sizeof(tag) - 1;

		if (p != NULL)
			snprintf(who, sizeof(who), "%.*s", (int)strcspn(p + l,
			    "\""), p + l);
	}
	return who;
}

static void
test_pools(void)
{
	struct config *pc = load_config_text(pool_text);
	struct sim *s;
	struct buf out;
	char id1[ENGINE_ID_MAX], id3[ENGINE_ID_MAX];
	int64_t t = 1000000;

	CHECK(pc != NULL);
	if (pc == NULL)
		return;
	s = sim_new(pc);
	buf_init(&out);
#define RATE(cust, score, at) push(s, "{\"type\":\"rating\",\"customer_id\":\"" \
	cust "\",\"call_id\":\"C\"," score ",\"ts\":1000}", (at))
	RATE("P1", "\"csat\":1", t);
	CHECK_STR(owner_of(s, "P1", &out), "dora");
	RATE("P2", "\"csat\":1", t + 1);
	CHECK_STR(owner_of(s, "P2", &out), "erik");
	RATE("P3", "\"csat\":1", t + 2);
	CHECK_STR(owner_of(s, "P3", &out), "dora");	/* a tie: the first */
	snprintf(id1, sizeof(id1), "%s", store_last_case(s->st, "P1"));
	snprintf(id3, sizeof(id3), "%s", store_last_case(s->st, "P3"));
	CHECK_INT(run(s->st, pc, &out, t + 3, "resolve", id1, "x", NULL,
	    "refund", NULL), 0);
	CHECK_INT(run(s->st, pc, &out, t + 4, "assign", id3, "x", NULL, NULL,
	    "erik"), 0);
	/* dora 0 open, erik 2 */
	RATE("P4", "\"csat\":1", t + 5);
	CHECK_STR(owner_of(s, "P4", &out), "dora");
	RATE("P5", "\"csat\":1", t + 6);
	CHECK_STR(owner_of(s, "P5", &out), "dora");
	RATE("P6", "\"csat\":1", t + 7);
	CHECK_STR(owner_of(s, "P6", &out), "dora");	/* 2 and 2: the first */
	RATE("P7", "\"csat\":1", t + 8);
	CHECK_STR(owner_of(s, "P7", &out), "erik");	/* 3 against 2 */
	/* round robin */
	RATE("R1", "\"nps\":1", t + 9);
	RATE("R2", "\"nps\":1", t + 10);
	RATE("R3", "\"nps\":1", t + 11);
	RATE("R4", "\"nps\":1", t + 12);
	CHECK_STR(owner_of(s, "R1", &out), "ana");
	CHECK_STR(owner_of(s, "R2", &out), "ben");
	CHECK_STR(owner_of(s, "R3", &out), "chen");
	CHECK_STR(owner_of(s, "R4", &out), "ana");
#undef RATE
	buf_free(&out);
	sim_free(s);
	config_free(pc);
}

/* command_xadd: the entry recoveryctl and the console add, NULLs left
 * out, and a refusal when it does not fit. */
static void
test_xadd(void)
{
	const char *names[] = { "op", "case", "by", "note" };
	const char *vals[] = { "ack", "c-1-0", "ana", NULL };
	const char *want[] = { "XADD", "ivr:commands", "MAXLEN", "~", "10000",
	    "*", "op", "ack", "case", "c-1-0", "by", "ana", "reply", "T1",
	    "at", "123" };
	const char *av[24];
	size_t n, i;

	n = command_xadd(av, ARRAY_LEN(av), "ivr:commands", names, vals, 4,
	    "T1", "123");
	CHECK_INT(n, ARRAY_LEN(want));
	for (i = 0; i < n && i < ARRAY_LEN(want); i++)
		CHECK_STR(av[i], want[i]);
	CHECK_INT(command_xadd(av, 12, "s", names, vals, 4, "T", "1"), 0);
}

int
main(void)
{
	struct config *cf = load_config_text(conf_text);

	CHECK(cf != NULL);
	test_parse();
	test_xadd();
	if (cf != NULL) {
		test_apply(cf);
		test_reopen_within(cf);
		test_outcomes(cf);
		test_pools();
	}
	config_free(cf);
	return harness_done();
}
