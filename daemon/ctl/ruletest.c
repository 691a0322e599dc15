/*
 * ruletest.c — "recoveryctl test FILE...": rule unit tests (see ruletest.h
 * and the README's "Commands").
 *
 * A file is read in two phases. Parsing checks everything that can be
 * checked without running: keys, durations, that every event is a valid
 * event (with the event's own error, "rating: csat=7 out of range 1..5"),
 * that an expectation names a rule, a channel that rule notifies at that
 * step, and a severity that exist. Every problem is a diagnostic with
 * FILE:LINE:COL, all of them are printed, and a file with any does not
 * run: a test that cannot be right should not be reported as failing.
 *
 * Running a test: a fresh simulator (sim.h), the events (entry IDs "t1",
 * "t2"... in file order, so the case a first event opens is "c-t1") and
 * acknowledgements merged in time order (an event before an ack of the
 * same instant, and steps due at an instant before both), then the clock
 * runs on to the last expectation or to the last event plus the longest
 * escalation delay, whichever is later, so that escalations show. Event
 * time is the test's "start" (an RFC 3339 time: a fixed clock for
 * calendars; default RULETEST_BASE_MS) plus at; an event has no "ts" of
 * its own. An alert that waits for its calendar is compared at the time
 * it goes out.
 *
 * Comparing: every actual alert must match one expectation and every
 * expectation one alert, on at, rule, channel and step, and on customer_id,
 * case, severity and message when the expectation gives them. Expectations
 * that say more are matched first, so a loose one cannot take the alert a
 * precise one needs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "diag.h"
#include "event.h"
#include "explain.h"
#include "ruletest.h"
#include "silence.h"
#include "sim.h"
#include "util.h"
#include "yaml.h"

struct rt_event {
	int64_t			 at;
	char			*json;		/* the event without "at" */
	size_t			 len;
	char			 id[16];	/* "t1", "t2"... */
};

/* A person's change at a time: an ack, a resolve (with its code), a
 * reopen. */
struct rt_ack {
	int64_t			 at;
	const char		*op;		/* "ack", "resolve", "reopen" */
	const char		*who;		/* customer or case ID (doc text) */
	bool			 by_customer;
	const char		*code, *note;	/* resolve */
};

/* An outcome expected at the end: the customer's latest case's. */
struct rt_outcome {
	const char		*customer;
	const char		*want;		/* recovered, ..., pending */
	int			 line;
};

struct rt_expect {
	int64_t			 at;
	const struct rule	*rule;
	const struct channel	*chan;
	int			 step;
	const char		*customer_id, *case_id, *message; /* NULL: any */
	int			 severity;	/* 0: any */
	int			 given;		/* optional fields given */
	bool			 matched;
};

struct rt_test {
	const char		*name;
	const char		*file;
	int			 line;
	const struct ynode	*customers;	/* mapping or NULL */
	struct rt_event		*ev;
	size_t			 nev;
	struct rt_ack		*ack;
	size_t			 nack;
	struct rt_expect	*exp;
	size_t			 nexp;
	struct rt_outcome	*out;
	size_t			 nout;
	struct silences		 sil;		/* times: base_ms + */
	int64_t			 base_ms;	/* "start", or RULETEST_BASE_MS */
	/* "rules: [name, ...]": only these rules' alerts are compared
	 * (every rule still runs); nscope 0: all of them */
	const struct rule	**scope;
	size_t			 nscope;
};

/* An alert that happened, with its texts copied out of the simulator. */
struct rt_actual {
	int64_t			 at;
	const struct rule	*rule;
	const struct channel	*chan;
	int			 step, severity;
	char			*customer_id, *case_id, *message;
	bool			 matched;
};

struct rt_file {
	const char		*path;
	struct ydoc		*doc;
	struct config		*cf;
	struct diags		 d;
	struct rt_test		*tests;
	size_t			 ntests;
	struct evt		 ev;		/* scratch */
};

#define ERR(rf, node, ...) \
	diag_error(&(rf)->d, (node)->file, (node)->line, (node)->col, \
	    __VA_ARGS__)

/* --- parsing ------------------------------------------------------------- */

/*
 * check_keys: report every key of map not in keys (NULL-terminated),
 * with a suggestion. what names the mapping in the message.
 */
static void
check_keys(struct rt_file *rf, const struct ynode *map,
    const char *const *keys, const char *what)
{
	const char *dym;
	size_t i, n;

	for (n = 0; keys[n] != NULL; n++)
		;
	for (i = 0; i < map->npairs; i++) {
		const struct ynode *k = map->pairs[i].key;
		size_t j;

		for (j = 0; j < n; j++)
			if (strcmp(k->str, keys[j]) == 0)
				break;
		if (j < n)
			continue;
		if ((dym = did_you_mean(k->str, keys, n)) != NULL)
			ERR(rf, k, "unknown key '%s' in %s (did you mean "
			    "'%s'?)", k->str, what, dym);
		else
			ERR(rf, k, "unknown key '%s' in %s", k->str, what);
	}
}

/* scalar: the text of node if it is a scalar, else an error and NULL. */
static const char *
scalar(struct rt_file *rf, const struct ynode *n, const char *what)
{
	if (n->type == YN_SCALAR)
		return n->str;
	ERR(rf, n, "%s must be a value, not %s", what, ynode_type_name(n));
	return NULL;
}

static bool
duration(struct rt_file *rf, const struct ynode *n, int64_t *ms)
{
	const char *s;

	if ((s = scalar(rf, n, "'at'")) == NULL)
		return false;
	if (parse_duration_ms(s, ms) == 0)
		return true;
	ERR(rf, n, "bad duration '%s' (write 0s, 500ms, 30s, 15m, 4h or 7d)",
	    s);
	return false;
}

/* json_number: is s exactly a JSON number (so "007" and "1e" are not)? */
static bool
json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/*
 * to_json: a YAML node as the JSON a producer would send. Unquoted
 * true/false, null/~/empty and numbers keep their JSON types; everything
 * else is a string. skip names a key of the top mapping left out ("at").
 */
static void
to_json(struct buf *b, const struct ynode *n, const char *skip)
{
	size_t i;
	bool first = true;

	switch (n->type) {
	case YN_SCALAR:
		if (!n->quoted && (strcmp(n->str, "true") == 0 ||
		    strcmp(n->str, "false") == 0 || json_number(n->str)))
			buf_puts(b, n->str);
		else if (!n->quoted && (n->len == 0 ||
		    strcmp(n->str, "null") == 0 || strcmp(n->str, "~") == 0))
			buf_puts(b, "null");
		else
			buf_json_string(b, n->str, n->len);
		break;
	case YN_SEQ:
		buf_putc(b, '[');
		for (i = 0; i < n->nitems; i++) {
			if (i > 0)
				buf_putc(b, ',');
			to_json(b, n->items[i], NULL);
		}
		buf_putc(b, ']');
		break;
	case YN_MAP:
		buf_putc(b, '{');
		for (i = 0; i < n->npairs; i++) {
			if (skip != NULL && strcmp(n->pairs[i].key->str,
			    skip) == 0)
				continue;
			if (!first)
				buf_putc(b, ',');
			first = false;
			buf_json_string(b, n->pairs[i].key->str,
			    n->pairs[i].key->len);
			buf_putc(b, ':');
			to_json(b, n->pairs[i].val, NULL);
		}
		buf_putc(b, '}');
		break;
	}
}

static void
parse_event(struct rt_file *rf, struct rt_test *t, const struct ynode *n)
{
	struct rt_event *e = &t->ev[t->nev];
	const struct ynode *at;
	struct buf b;
	char err[512];

	if (n->type != YN_MAP) {
		ERR(rf, n, "an event must be a mapping, not %s",
		    ynode_type_name(n));
		return;
	}
	snprintf(e->id, sizeof(e->id), "t%zu", t->nev + 1);
	t->nev++;
	if ((at = ymap_get(n, "at")) == NULL)
		ERR(rf, n, "event %s has no 'at' (its time in the test)",
		    e->id);
	else
		(void)duration(rf, at, &e->at);
	if (ymap_get(n, "ts") != NULL) {
		at = ymap_get(n, "ts");
		ERR(rf, at, "event %s: give its time with 'at', not 'ts'",
		    e->id);
		return;
	}
	buf_init(&b);
	to_json(&b, n, "at");
	e->len = b.len;
	e->json = b.data;
	if (evt_from_json(&rf->ev, e->id, e->json, e->len,
	    (double)(t->base_ms + e->at) / 1000.0, err,
	    sizeof(err)) != EVERR_NONE)
		ERR(rf, n, "event %s is not a valid event: %s", e->id, err);
}

/* parse_ack: one item of "acks" (op "ack"), "resolves" ("resolve": a
 * code is required) or "reopens" ("reopen"). */
static void
parse_ack(struct rt_file *rf, struct rt_test *t, const struct ynode *n,
    const char *op)
{
	static const char *const keys[] = { "at", "case_of", "case", NULL };
	static const char *const rkeys[] = { "at", "case_of", "case", "code",
	    "note", NULL };
	bool resolve = strcmp(op, "resolve") == 0;
	struct rt_ack *a = &t->ack[t->nack];
	const struct ynode *at, *co, *cs, *v;

	if (n->type != YN_MAP) {
		ERR(rf, n, "an item of '%ss' must be a mapping, not %s", op,
		    ynode_type_name(n));
		return;
	}
	t->nack++;
	a->op = op;
	check_keys(rf, n, resolve ? rkeys : keys, resolve ? "a resolve" :
	    strcmp(op, "ack") == 0 ? "an ack" : "a reopen");
	if ((at = ymap_get(n, "at")) == NULL)
		ERR(rf, n, "%s without 'at'", op);
	else
		(void)duration(rf, at, &a->at);
	if (resolve) {
		if ((v = ymap_get(n, "code")) == NULL)
			ERR(rf, n, "a resolve needs a 'code' (one of "
			    "resolution_codes)");
		else if ((a->code = scalar(rf, v, "'code'")) != NULL &&
		    rf->cf != NULL && !config_resolution_code(rf->cf,
		    a->code))
			ERR(rf, v, "unknown resolution code '%s'", a->code);
		if ((v = ymap_get(n, "note")) != NULL)
			a->note = scalar(rf, v, "'note'");
	}
	co = ymap_get(n, "case_of");
	cs = ymap_get(n, "case");
	if ((co == NULL) == (cs == NULL)) {
		ERR(rf, n, "%s needs one of 'case_of: CUSTOMER' or "
		    "'case: CASE_ID'", resolve ? "a resolve" :
		    strcmp(op, "ack") == 0 ? "an ack" : "a reopen");
		return;
	}
	a->by_customer = co != NULL;
	a->who = scalar(rf, co != NULL ? co : cs, co != NULL ? "'case_of'" :
	    "'case'");
}

/* notifies: does step step of r notify channel index ci? */
static bool
notifies(const struct rule *r, int step, size_t ci)
{
	const struct notify *nt;
	size_t i, j, n = step == 0 ? r->nactions : 1;

	for (i = 0; i < n; i++) {
		nt = step == 0 ? &r->actions[i] : &r->escalate[step - 1].n;
		for (j = 0; j < nt->nchans; j++)
			if (nt->chans[j] == ci)
				return true;
	}
	return false;
}

/* name_lookup: a rule or channel name with a suggestion when unknown. */
static void
unknown_name(struct rt_file *rf, const struct ynode *n, const char *what,
    bool rules)
{
	const char **cands;
	const char *dym;
	size_t i, cnt = rules ? rf->cf->nrules : rf->cf->nchannels;

	cands = xcalloc(cnt + 1, sizeof(*cands));
	for (i = 0; i < cnt; i++)
		cands[i] = rules ? rf->cf->rules[i].name :
		    rf->cf->channels[i].name;
	if ((dym = did_you_mean(n->str, cands, cnt)) != NULL)
		ERR(rf, n, "unknown %s '%s' (did you mean '%s'?)", what,
		    n->str, dym);
	else
		ERR(rf, n, "unknown %s '%s'", what, n->str);
	free(cands);
}

static bool	in_scope(const struct rt_test *, const struct rule *);

static void
parse_expect(struct rt_file *rf, struct rt_test *t, const struct ynode *n)
{
	static const char *const keys[] = { "at", "rule", "channel", "step",
	    "customer_id", "case", "message", "severity", NULL };
	struct rt_expect *x = &t->exp[t->nexp];
	const struct ynode *v, *rn = NULL, *cn = NULL;
	const char *s;
	char *end;
	long l;

	if (n->type != YN_MAP) {
		ERR(rf, n, "an expectation must be a mapping, not %s",
		    ynode_type_name(n));
		return;
	}
	t->nexp++;
	check_keys(rf, n, keys, "an expectation");
	if ((v = ymap_get(n, "at")) == NULL)
		ERR(rf, n, "expectation without 'at'");
	else
		(void)duration(rf, v, &x->at);
	if ((rn = ymap_get(n, "rule")) == NULL)
		ERR(rf, n, "expectation without 'rule'");
	else if ((s = scalar(rf, rn, "'rule'")) != NULL &&
	    (x->rule = config_rule(rf->cf, s)) == NULL)
		unknown_name(rf, rn, "rule", true);
	else if (x->rule != NULL && !in_scope(t, x->rule))
		ERR(rf, rn, "rule '%s' is not one of this test's 'rules' (its "
		    "alerts are not compared)", x->rule->name);
	if ((cn = ymap_get(n, "channel")) == NULL)
		ERR(rf, n, "expectation without 'channel'");
	else if ((s = scalar(rf, cn, "'channel'")) != NULL &&
	    (x->chan = config_channel(rf->cf, s)) == NULL)
		unknown_name(rf, cn, "channel", false);
	if ((v = ymap_get(n, "step")) != NULL &&
	    (s = scalar(rf, v, "'step'")) != NULL) {
		errno = 0;
		l = strtol(s, &end, 10);
		if (*s == '\0' || *end != '\0' || errno != 0 || l < 0 ||
		    l > 1000)
			ERR(rf, v, "step must be 0 (the rule's actions) or an "
			    "escalation step 1, 2...; got '%s'", s);
		else
			x->step = (int)l;
	}
	if (x->rule != NULL && x->step > 0 &&
	    (size_t)x->step > x->rule->nescalate)
		ERR(rf, v, "rule '%s' has %zu escalation step%s, not %d",
		    x->rule->name, x->rule->nescalate,
		    x->rule->nescalate == 1 ? "" : "s", x->step);
	else if (x->rule != NULL && x->chan != NULL &&
	    !notifies(x->rule, x->step, (size_t)(x->chan - rf->cf->channels)))
		ERR(rf, cn, "rule '%s' does not notify '%s' at step %d",
		    x->rule->name, x->chan->name, x->step);
	if ((v = ymap_get(n, "customer_id")) != NULL)
		x->customer_id = scalar(rf, v, "'customer_id'");
	if ((v = ymap_get(n, "case")) != NULL)
		x->case_id = scalar(rf, v, "'case'");
	if ((v = ymap_get(n, "message")) != NULL)
		x->message = scalar(rf, v, "'message'");
	if ((v = ymap_get(n, "severity")) != NULL &&
	    (s = scalar(rf, v, "'severity'")) != NULL &&
	    (x->severity = severity_parse(s)) == 0)
		ERR(rf, v, "unknown severity '%s' (low, medium, high, "
		    "critical)", s);
	x->given = (x->customer_id != NULL) + (x->case_id != NULL) +
	    (x->message != NULL) + (x->severity != 0);
}

/* list: the sequence under key of map, or NULL (an error if not one). */
static const struct ynode *
list(struct rt_file *rf, const struct ynode *map, const char *key)
{
	const struct ynode *n = ymap_get(map, key);

	if (n == NULL || n->type == YN_SEQ)
		return n;
	ERR(rf, n, "'%s' must be a list, not %s", key, ynode_type_name(n));
	return NULL;
}

static void
parse_customers(struct rt_file *rf, struct rt_test *t, const struct ynode *n)
{
	size_t i, j;

	if (n->type != YN_MAP) {
		ERR(rf, n, "'customers' must be a mapping of customer IDs "
		    "to fields, not %s", ynode_type_name(n));
		return;
	}
	for (i = 0; i < n->npairs; i++) {
		const struct ynode *f = n->pairs[i].val;

		if (f->type != YN_MAP) {
			ERR(rf, f, "customer '%s' must be a mapping of "
			    "fields (tier: gold), not %s",
			    n->pairs[i].key->str, ynode_type_name(f));
			continue;
		}
		for (j = 0; j < f->npairs; j++)
			(void)scalar(rf, f->pairs[j].val, "a customer field");
	}
	t->customers = n;
}

/* parse_outcome: {case_of: CUSTOMER, outcome: WORD}. */
static void
parse_outcome(struct rt_file *rf, struct rt_test *t, const struct ynode *n)
{
	static const char *const keys[] = { "case_of", "outcome", NULL };
	static const char *const words[] = { "recovered", "not_recovered",
	    "unknown", "pending" };
	struct rt_outcome *o = &t->out[t->nout];
	const struct ynode *v;
	size_t i;

	if (n->type != YN_MAP) {
		ERR(rf, n, "an outcome must be a mapping, not %s",
		    ynode_type_name(n));
		return;
	}
	t->nout++;
	o->line = n->line;
	check_keys(rf, n, keys, "an outcome");
	if ((v = ymap_get(n, "case_of")) == NULL)
		ERR(rf, n, "an outcome needs 'case_of: CUSTOMER'");
	else
		o->customer = scalar(rf, v, "'case_of'");
	if ((v = ymap_get(n, "outcome")) == NULL) {
		ERR(rf, n, "an outcome needs 'outcome'");
		return;
	}
	if ((o->want = scalar(rf, v, "'outcome'")) == NULL)
		return;
	for (i = 0; i < ARRAY_LEN(words); i++)
		if (strcmp(o->want, words[i]) == 0)
			return;
	ERR(rf, v, "unknown outcome '%s' (recovered, not_recovered, unknown "
	    "or pending)", o->want);
}

/*
 * parse_silence: {rule, queue, agent, customer (at least one), from
 * (default 0s), for, reason}: a silence in force from "from" for "for"
 * on the test's clock (IDs "s1", "s2"... in file order).
 */
static void
parse_silence(struct rt_file *rf, struct rt_test *t, const struct ynode *n,
    size_t idx)
{
	static const char *const keys[] = { "rule", "queue", "agent",
	    "customer", "from", "for", "reason", NULL };
	struct silence s;
	const struct ynode *v;
	int64_t from = 0, dur = 0;
	char err[256];

	if (n->type != YN_MAP) {
		ERR(rf, n, "a silence must be a mapping, not %s",
		    ynode_type_name(n));
		return;
	}
	check_keys(rf, n, keys, "a silence");
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "s%zu", idx + 1);
	if ((v = ymap_get(n, "rule")) != NULL &&
	    (s.rule = (char *)scalar(rf, v, "'rule'")) != NULL &&
	    rf->cf != NULL && config_rule(rf->cf, s.rule) == NULL)
		unknown_name(rf, v, "rule", true);
	if ((v = ymap_get(n, "queue")) != NULL)
		s.queue = (char *)scalar(rf, v, "'queue'");
	if ((v = ymap_get(n, "agent")) != NULL)
		s.agent = (char *)scalar(rf, v, "'agent'");
	if ((v = ymap_get(n, "customer")) != NULL)
		s.customer = (char *)scalar(rf, v, "'customer'");
	if ((v = ymap_get(n, "reason")) != NULL)
		s.reason = (char *)scalar(rf, v, "'reason'");
	if ((v = ymap_get(n, "from")) != NULL && !duration(rf, v, &from))
		return;
	if ((v = ymap_get(n, "for")) == NULL) {
		ERR(rf, n, "a silence needs 'for: DURATION'");
		return;
	}
	if (!duration(rf, v, &dur))
		return;
	s.starts_ms = t->base_ms + from;
	s.ends_ms = s.starts_ms + dur;
	if (silence_add(&t->sil, &s, err, sizeof(err)) == -1)
		ERR(rf, n, "%s", err);
}

/*
 * parse_scope: "rules: [name, ...]" (or one name). The other rules still
 * run — a case, a cooldown or an "after" of theirs is part of what the
 * listed rules see, as in production — but their alerts are neither
 * expected nor reported, so a test of a new rule does not list the alerts
 * of every old one.
 */
static void
parse_scope(struct rt_file *rf, struct rt_test *t, const struct ynode *n)
{
	const struct ynode *const *items = &n;
	const struct rule *r;
	size_t i, cnt = 1;

	if (n->type == YN_SEQ) {
		items = (const struct ynode *const *)n->items;
		cnt = n->nitems;
		if (cnt == 0) {
			ERR(rf, n, "'rules' must name at least one rule");
			return;
		}
	} else if (n->type != YN_SCALAR) {
		ERR(rf, n, "'rules' must be a rule name or a list of them, "
		    "not %s", ynode_type_name(n));
		return;
	}
	t->scope = xcalloc(cnt + 1, sizeof(*t->scope));
	for (i = 0; i < cnt; i++) {
		if (scalar(rf, items[i], "a rule name") == NULL ||
		    rf->cf == NULL)
			continue;
		if ((r = config_rule(rf->cf, items[i]->str)) == NULL)
			unknown_name(rf, items[i], "rule", true);
		else
			t->scope[t->nscope++] = r;
	}
}

static bool
in_scope(const struct rt_test *t, const struct rule *r)
{
	size_t i;

	if (t->nscope == 0)
		return true;
	for (i = 0; i < t->nscope; i++)
		if (t->scope[i] == r)
			return true;
	return false;
}

/* changes: the items of list "name" of test n, as changes of op. */
static void
changes(struct rt_file *rf, struct rt_test *t, const struct ynode *n,
    const char *name, const char *op)
{
	const struct ynode *l = list(rf, n, name);
	size_t i;

	if (l == NULL)
		return;
	t->ack = xreallocarray(t->ack, t->nack + l->nitems + 1,
	    sizeof(*t->ack));
	memset(t->ack + t->nack, 0, (l->nitems + 1) * sizeof(*t->ack));
	for (i = 0; i < l->nitems; i++)
		parse_ack(rf, t, l->items[i], op);
}

static void
parse_test(struct rt_file *rf, struct rt_test *t, const struct ynode *n)
{
	static const char *const keys[] = { "name", "rules", "customers",
	    "events", "acks", "resolves", "reopens", "expect", "outcomes",
	    "silences", "start", NULL };
	const struct ynode *v, *evs, *exps, *outs, *sils;
	size_t i;

	t->file = rf->path;
	t->line = n->line;
	t->name = "(unnamed)";
	if (n->type != YN_MAP) {
		ERR(rf, n, "a test must be a mapping, not %s",
		    ynode_type_name(n));
		return;
	}
	check_keys(rf, n, keys, "a test");
	if ((v = ymap_get(n, "name")) == NULL)
		ERR(rf, n, "test without 'name'");
	else if (scalar(rf, v, "'name'") != NULL)
		t->name = v->str;
	t->base_ms = RULETEST_BASE_MS;
	if ((v = ymap_get(n, "start")) != NULL && scalar(rf, v, "'start'") !=
	    NULL) {
		double st;

		/* a fixed clock: "at: 0s" is this instant (calendars) */
		if (parse_rfc3339(v->str, v->len, &st) == -1 || st < 0 ||
		    st > 253402300799.0)
			ERR(rf, v, "'start' must be an RFC 3339 time such as "
			    "2026-12-04T19:59:00+01:00, not '%s'", v->str);
		else
			t->base_ms = llround(st * 1000.0);
	}
	if ((v = ymap_get(n, "customers")) != NULL)
		parse_customers(rf, t, v);
	if ((v = ymap_get(n, "rules")) != NULL)
		parse_scope(rf, t, v);
	evs = list(rf, n, "events");
	exps = list(rf, n, "expect");
	outs = list(rf, n, "outcomes");
	if (evs != NULL) {
		t->ev = xcalloc(evs->nitems + 1, sizeof(*t->ev));
		for (i = 0; i < evs->nitems; i++)
			parse_event(rf, t, evs->items[i]);
	}
	changes(rf, t, n, "acks", "ack");
	changes(rf, t, n, "resolves", "resolve");
	changes(rf, t, n, "reopens", "reopen");
	if ((sils = list(rf, n, "silences")) != NULL)
		for (i = 0; i < sils->nitems; i++)
			parse_silence(rf, t, sils->items[i], i);
	if (outs != NULL) {
		t->out = xcalloc(outs->nitems + 1, sizeof(*t->out));
		for (i = 0; i < outs->nitems; i++)
			parse_outcome(rf, t, outs->items[i]);
	}
	if (exps != NULL && rf->cf != NULL) {
		t->exp = xcalloc(exps->nitems + 1, sizeof(*t->exp));
		for (i = 0; i < exps->nitems; i++)
			parse_expect(rf, t, exps->items[i]);
	}
}

/* rule_path: p relative to the directory of the test file. Caller frees. */
static char *
rule_path(const char *testfile, const char *p)
{
	const char *slash = strrchr(testfile, '/');

	if (p[0] == '/' || slash == NULL)
		return xstrdup(p);
	return xasprintf("%.*s/%s", (int)(slash - testfile), testfile, p);
}

static void
load_rules(struct rt_file *rf, const struct ynode *n)
{
	struct diags cd;
	const struct ynode *p = n;
	char *path;
	size_t i;

	if (n->type == YN_SEQ) {
		if (n->nitems != 1) {
			ERR(rf, n, "rule_files must name exactly one file, the "
			    "main configuration (its include: brings in the "
			    "rest)");
			return;
		}
		p = n->items[0];
	}
	if (scalar(rf, p, "a rule file") == NULL)
		return;
	path = rule_path(rf->path, p->str);
	diags_init(&cd);
	rf->cf = config_load(path, &cd);
	if (rf->cf == NULL || cd.errors > 0) {
		diags_sort(&cd);
		for (i = 0; i < cd.n; i++)
			diag_add(&rf->d, cd.v[i].level, cd.v[i].file,
			    cd.v[i].line, cd.v[i].col, "%s", cd.v[i].msg);
		ERR(rf, p, "rule file '%s' does not load", path);
		config_free(rf->cf);
		rf->cf = NULL;
	}
	diags_free(&cd);
	free(path);
}

/* parse_file: rf->path into rf; false when it has errors (printed). */
static bool
parse_file(struct rt_file *rf, FILE *out)
{
	static const char *const keys[] = { "rule_files", "tests", NULL };
	const struct ynode *root, *n;
	size_t i;

	if ((rf->doc = yaml_load_file(rf->path, &rf->d)) == NULL)
		goto done;
	root = rf->doc->root;
	if (root->type != YN_MAP) {
		ERR(rf, root, "a test file must be a mapping with rule_files "
		    "and tests, not %s", ynode_type_name(root));
		goto done;
	}
	check_keys(rf, root, keys, "a test file");
	if ((n = ymap_get(root, "rule_files")) == NULL)
		ERR(rf, root, "no 'rule_files' (the main configuration to "
		    "test)");
	else
		load_rules(rf, n);
	if ((n = list(rf, root, "tests")) == NULL) {
		if (ymap_get(root, "tests") == NULL)
			ERR(rf, root, "no 'tests'");
		goto done;
	}
	rf->tests = xcalloc(n->nitems + 1, sizeof(*rf->tests));
	for (i = 0; i < n->nitems; i++)
		parse_test(rf, &rf->tests[rf->ntests++], n->items[i]);
done:
	if (rf->d.n > 0) {
		diags_sort(&rf->d);
		diags_print(&rf->d, out);
	}
	return rf->d.errors == 0;
}

static void
free_file(struct rt_file *rf)
{
	size_t i, j;

	for (i = 0; i < rf->ntests; i++) {
		struct rt_test *t = &rf->tests[i];

		for (j = 0; j < t->nev; j++)
			free(t->ev[j].json);
		free(t->ev);
		free(t->ack);
		free(t->exp);
		free(t->out);
		free(t->scope);
		silences_free(&t->sil);
	}
	free(rf->tests);
	config_free(rf->cf);
	ydoc_free(rf->doc);
	diags_free(&rf->d);
	evt_free(&rf->ev);
}

/* --- running ------------------------------------------------------------- */

struct actuals {
	struct rt_actual	*v;
	size_t			 n, cap;
};

static void
collect(struct actuals *av, const struct sim *s, const struct rt_test *t)
{
	size_t i;

	for (i = 0; i < s->nalerts; i++) {
		const struct alert *a = &s->alerts[i];
		struct rt_actual *x;

		if (!in_scope(t, a->rule))
			continue;
		if (av->n == av->cap) {
			av->cap = av->cap ? av->cap * 2 : 16;
			av->v = xreallocarray(av->v, av->cap, sizeof(*av->v));
		}
		x = &av->v[av->n++];
		memset(x, 0, sizeof(*x));
		/* an alert waiting for its calendar is expected when it
		 * goes out */
		x->at = (a->deliver_ms > 0 ? a->deliver_ms :
		    llround(a->fired_ts * 1000.0)) - t->base_ms;
		x->rule = a->rule;
		x->chan = a->channel;
		x->step = a->step;
		x->severity = a->severity;
		x->customer_id = xstrdup(s->customers[i]);
		x->case_id = xstrdup(a->case_id);
		x->message = xstrdup(a->message ? a->message : "");
	}
}

/* enrich: the test's CRM fields of the event's customer, as
 * customer.<field>, where the event does not carry them. */
static void
enrich(struct evt *ev, const struct ynode *customers)
{
	const struct ynode *c;
	const struct value *id;
	char path[512];
	size_t i;

	if (customers == NULL || (id = evt_get(ev, "customer_id")) == NULL ||
	    id->kind == V_LIST || id->kind == V_NULL ||
	    (c = ymap_get(customers, id->s)) == NULL || c->type != YN_MAP)
		return;
	for (i = 0; i < c->npairs; i++) {
		if (c->pairs[i].val->type != YN_SCALAR)
			continue;
		snprintf(path, sizeof(path), "customer.%s",
		    c->pairs[i].key->str);
		(void)evt_set(ev, path, c->pairs[i].val->str,
		    c->pairs[i].val->len, false);
	}
}

/* fmt_at: a test time as the file would write it ("0s", "15m", "3d"). */
static const char *
fmt_at(int64_t ms, char *buf, size_t cap)
{
	if (ms == 0)
		snprintf(buf, cap, "0s");
	else if (ms < 0) {
		buf[0] = '-';
		format_duration(-ms, buf + 1, cap - 1);
	} else
		format_duration(ms, buf, cap);
	return buf;
}

static bool
same(const struct rt_expect *x, const struct rt_actual *a)
{
	return x->at == a->at && x->rule == a->rule && x->chan == a->chan &&
	    x->step == a->step &&
	    (x->customer_id == NULL ||
	    strcmp(x->customer_id, a->customer_id) == 0) &&
	    (x->case_id == NULL || strcmp(x->case_id, a->case_id) == 0) &&
	    (x->message == NULL || strcmp(x->message, a->message) == 0) &&
	    (x->severity == 0 || x->severity == a->severity);
}

/*
 * timeline: the order to run a test's events and acks in: u < nev is
 * event u, else ack u - nev; sorted by time with an insertion sort (tests
 * are short), which is stable: file order within each list, and an event
 * before an ack of the same instant.
 */
static size_t *
timeline(const struct rt_test *t)
{
	size_t n = t->nev + t->nack, *idx = xcalloc(n + 1, sizeof(*idx));
	size_t i, j, v;

#define AT(u)	((u) < t->nev ? t->ev[(u)].at : t->ack[(u) - t->nev].at)
	for (i = 0; i < n; i++) {
		v = i;
		for (j = i; j > 0 && AT(idx[j - 1]) > AT(v); j--)
			idx[j] = idx[j - 1];
		idx[j] = v;
	}
#undef AT
	return idx;
}

static void
print_actual(FILE *out, const struct rt_actual *a)
{
	char at[32];

	fprintf(out, "  unexpected: at=%s rule=%s channel=%s step=%d "
	    "customer_id=%s case=%s severity=%s message=\"%s\"\n",
	    fmt_at(a->at, at, sizeof(at)), a->rule->name, a->chan->name,
	    a->step, a->customer_id, a->case_id, severity_name(a->severity),
	    a->message);
}

static void
print_missing(FILE *out, const struct rt_expect *x)
{
	char at[32];

	fprintf(out, "  missing: at=%s rule=%s channel=%s step=%d",
	    fmt_at(x->at, at, sizeof(at)), x->rule->name, x->chan->name,
	    x->step);
	if (x->customer_id != NULL)
		fprintf(out, " customer_id=%s", x->customer_id);
	if (x->case_id != NULL)
		fprintf(out, " case=%s", x->case_id);
	if (x->severity != 0)
		fprintf(out, " severity=%s", severity_name(x->severity));
	if (x->message != NULL)
		fprintf(out, " message=\"%s\"", x->message);
	fputc('\n', out);
}

/* relevant: a rule worth explaining after t failed: in its scope, or
 * the rule of an alert missing or unexpected. */
static bool
relevant(const struct rt_test *t, const struct actuals *av, const char *name,
    size_t len)
{
	size_t i;

	for (i = 0; i < t->nexp; i++)
		if (!t->exp[i].matched && t->exp[i].rule != NULL &&
		    strlen(t->exp[i].rule->name) == len &&
		    strncmp(t->exp[i].rule->name, name, len) == 0)
			return true;
	for (i = 0; i < av->n; i++)
		if (!av->v[i].matched && strlen(av->v[i].rule->name) == len &&
		    strncmp(av->v[i].rule->name, name, len) == 0)
			return true;
	for (i = 0; i < t->nscope; i++)
		if (strlen(t->scope[i]->name) == len &&
		    strncmp(t->scope[i]->name, name, len) == 0)
			return true;
	return false;
}

/*
 * print_explained: the explanation of each event (explain.h), indented,
 * with only the lines of the rules worth it (relevant); an event with no
 * such line is left out.
 */
static void
print_explained(FILE *out, const struct rt_test *t, const struct actuals *av,
    const struct buf *ex)
{
	const char *p = ex->data, *nl, *head = NULL, *name;
	size_t hlen = 0, len;

	if (p == NULL)
		return;
	fprintf(out, "  why (recoveryctl explain):\n");
	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if (strncmp(p, "  ", 2) != 0) {
			head = p;
			hlen = (size_t)(nl - p);
			continue;
		}
		name = p + 2;
		len = strcspn(name, " ");
		if (!relevant(t, av, name, len))
			continue;
		if (head != NULL) {
			fprintf(out, "    %.*s\n", (int)hlen, head);
			head = NULL;
		}
		fprintf(out, "  %.*s\n", (int)(nl - p), p);
	}
}

static bool	explain_failures;

/* run_test: run t against rf's configuration, print the result; true
 * when it passed. */
static bool
run_test(struct rt_file *rf, struct rt_test *t, FILE *out)
{
	struct actuals av = { NULL, 0, 0 };
	struct buf notes, ex;
	struct sim *s = sim_new(rf->cf);
	size_t *tl, i, k;
	int64_t end = 0;
	char err[512], at[32];
	bool passed;
	int given;

	buf_init(&notes);
	buf_init(&ex);
	for (i = 0; i < t->sil.n; i++)
		(void)silence_add(&s->silences, &t->sil.v[i], err,
		    sizeof(err));
	tl = timeline(t);
	for (k = 0; k < t->nev + t->nack; k++) {
		if (tl[k] < t->nev) {
			struct rt_event *e = &t->ev[tl[k]];

			/* Validated while parsing: this cannot fail. */
			if (evt_from_json(&rf->ev, e->id, e->json, e->len,
			    (double)(t->base_ms + e->at) / 1000.0, err,
			    sizeof(err)) != EVERR_NONE)
				continue;
			enrich(&rf->ev, t->customers);
			if (explain_failures)
				explain_event(s, &rf->ev, t->base_ms +
				    e->at, false, &ex);
			else
				sim_event(s, &rf->ev, t->base_ms + e->at);
			collect(&av, s, t);
			if (e->at > end)
				end = e->at;
		} else {
			struct rt_ack *a = &t->ack[tl[k] - t->nev];

			sim_advance(s, t->base_ms + a->at);
			collect(&av, s, t);
			if (sim_command(s, a->op, a->who, a->code, a->note,
			    t->base_ms + a->at, err, sizeof(err)) != 0)
				buf_printf(&notes, "  %s at=%s %s=%s: %s\n",
				    a->op, fmt_at(a->at, at, sizeof(at)),
				    a->by_customer ? "case_of" : "case",
				    a->who, err);
		}
	}
	/* Let escalations show: past the last event by the longest step,
	 * and at least to the last expectation and the last ack. */
	end += sim_longest_step(rf->cf);
	for (k = 0; k < t->nexp; k++)
		if (t->exp[k].at > end)
			end = t->exp[k].at;
	for (k = 0; k < t->nack; k++)
		if (t->ack[k].at > end)
			end = t->ack[k].at;
	sim_advance(s, t->base_ms + end);
	collect(&av, s, t);
	for (k = 0; k < t->nout; k++) {
		const struct rt_outcome *o = &t->out[k];
		const char *id, *got;

		if (o->customer == NULL || o->want == NULL)
			continue;
		id = store_last_case(s->st, o->customer);
		got = id != NULL ? store_case_outcome(s->st, id, NULL) : NULL;
		if (got == NULL)
			got = id != NULL ? "pending" : "(no case)";
		if (strcmp(got, o->want) != 0)
			buf_printf(&notes, "  outcome of case_of=%s (line %d): "
			    "want %s, got %s\n", o->customer, o->line,
			    o->want, got);
	}
	sim_free(s);

	/* Expectations that say more pick first. */
	for (given = 4; given >= 0; given--)
		for (k = 0; k < t->nexp; k++) {
			struct rt_expect *x = &t->exp[k];

			if (x->given != given)
				continue;
			for (i = 0; i < av.n; i++)
				if (!av.v[i].matched && same(x, &av.v[i])) {
					av.v[i].matched = x->matched = true;
					break;
				}
		}
	passed = notes.len == 0;
	for (k = 0; k < t->nexp; k++)
		passed = passed && t->exp[k].matched;
	for (i = 0; i < av.n; i++)
		passed = passed && av.v[i].matched;
	if (passed)
		fprintf(out, "ok %s\n", t->name);
	else {
		fprintf(out, "FAIL %s (%s:%d)\n", t->name, t->file, t->line);
		for (k = 0; k < t->nexp; k++)
			if (!t->exp[k].matched)
				print_missing(out, &t->exp[k]);
		for (i = 0; i < av.n; i++)
			if (!av.v[i].matched)
				print_actual(out, &av.v[i]);
		if (notes.len > 0)
			fputs(notes.data, out);
		for (i = k = 0; i < av.n; i++)
			k += av.v[i].matched;
		fprintf(out, "  (%zu expected, %zu happened, %zu matched)\n",
		    t->nexp, av.n, k);
		if (explain_failures)
			print_explained(out, t, &av, &ex);
	}
	for (i = 0; i < av.n; i++) {
		free(av.v[i].customer_id);
		free(av.v[i].case_id);
		free(av.v[i].message);
	}
	free(av.v);
	free(tl);
	buf_free(&notes);
	buf_free(&ex);
	return passed;
}

int
ruletest_run(char *const *paths, size_t n, FILE *out)
{
	return ruletest_run_opts(paths, n, false, out);
}

int
ruletest_run_opts(char *const *paths, size_t n, bool explain, FILE *out)
{
	struct rt_file rf;
	size_t i, j, ntests = 0, npassed = 0, nbadfiles = 0;

	explain_failures = explain;

	for (i = 0; i < n; i++) {
		memset(&rf, 0, sizeof(rf));
		rf.path = paths[i];
		diags_init(&rf.d);
		evt_init(&rf.ev);
		if (!parse_file(&rf, out)) {
			fprintf(out, "%s: not run: the file has errors\n",
			    rf.path);
			nbadfiles++;
		} else {
			for (j = 0; j < rf.ntests; j++) {
				ntests++;
				if (run_test(&rf, &rf.tests[j], out))
					npassed++;
			}
		}
		free_file(&rf);
	}
	fprintf(out, "%zu tests, %zu passed, %zu failed", ntests, npassed,
	    ntests - npassed);
	if (nbadfiles > 0)
		fprintf(out, ", %zu file%s with errors", nbadfiles,
		    nbadfiles == 1 ? "" : "s");
	fputc('\n', out);
	return npassed == ntests && nbadfiles == 0 ? EXIT_OK : EXIT_CHECK;
}
