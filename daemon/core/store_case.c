/*
 * store_case.c — cases and their escalation (state.h "case" and
 * "escalate", store.h): opening and joining a customer's case, the
 * once-per-case schedule, running due steps, acknowledging and
 * resolving.
 *
 * A case records every step it has scheduled, with its signature (delay
 * and channels: a later firing adds a step only when the case has none
 * with the same signature) and whether it ran. An unbacked store keeps
 * the steps still to run in a binary heap ordered by due time, then by
 * the order they were scheduled; entries of cases no longer open, or of
 * steps that ran, are dropped when they reach the top. A backed store's
 * schedule is the Redis sorted set: scheduling and dropping steps are
 * ZADD/ZREM writes, and store_step runs a member the owner found due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "store_int.h"

#define N(s)	((s) != NULL ? (s) : "")

/* --- the unbacked schedule ------------------------------------------------- */

static int64_t	outcome_timer(const struct store *, const struct scase *);
static void	outcome_set(struct store *, struct ent *, const char *word,
		    int64_t at_ms, const char *event_id, const char *after);

static bool
pend_before(const struct pend *a, const struct pend *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void
heap_push(struct store *st, struct ent *cs, const char *rule, int step,
    int64_t due)
{
	struct pend p, tmp;
	size_t i, up;

	if (st->nheap == st->capheap) {
		st->capheap = st->capheap ? st->capheap * 2 : 16;
		st->heap = xreallocarray(st->heap, st->capheap,
		    sizeof(*st->heap));
	}
	p.cs = cs;
	p.rule = xstrdup(rule);
	p.step = step;
	p.due = due;
	p.seq = st->seq++;
	i = st->nheap++;
	st->heap[i] = p;
	while (i > 0) {
		up = (i - 1) / 2;
		if (!pend_before(&st->heap[i], &st->heap[up]))
			break;
		tmp = st->heap[up];
		st->heap[up] = st->heap[i];
		st->heap[i] = tmp;
		i = up;
	}
}

/* heap_pop: remove the top (its rule is the caller's to free). */
static struct pend
heap_pop(struct store *st)
{
	struct pend top = st->heap[0], tmp;
	size_t i = 0, l, m;

	st->heap[0] = st->heap[--st->nheap];
	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < st->nheap && pend_before(&st->heap[l], &st->heap[m]))
			m = l;
		if (l + 1 < st->nheap &&
		    pend_before(&st->heap[l + 1], &st->heap[m]))
			m = l + 1;
		if (m == i)
			break;
		tmp = st->heap[m];
		st->heap[m] = st->heap[i];
		st->heap[i] = tmp;
		i = m;
	}
	return top;
}

void
store_heap_clear(struct store *st)
{
	size_t i;

	for (i = 0; i < st->nheap; i++)
		free(st->heap[i].rule);
	st->nheap = 0;
}

/*
 * step_due: when step s of cs is due: its after from the case's base
 * (opened or reopened), or, for a step with business_time: true, that
 * much of its calendar's open time later (calendar_add); a calendar
 * that cannot give one falls back to elapsed time.
 */
static int64_t
step_due(const struct store *st, const struct scase *cs,
    const struct cstep *s)
{
	const struct rule *r;
	const struct esc_step *e;
	int64_t t;

	if (st->o.cf != NULL && (r = config_rule(st->o.cf, s->rule)) != NULL &&
	    s->step >= 1 && (size_t)s->step <= r->nescalate) {
		e = &r->escalate[s->step - 1];
		if (e->business_time && e->calendar != NULL &&
		    (t = calendar_add(e->calendar, cs->base_ms,
		    s->after_ms)) >= 0)
			return t;
	}
	return tadd(cs->base_ms, s->after_ms);
}

/* pending: the scheduled, not yet run step (rule, step) of cs, or NULL. */
static struct cstep *
pending(struct scase *cs, const char *rule, int step)
{
	size_t i;

	for (i = 0; i < cs->nst; i++)
		if (!cs->st[i].run && cs->st[i].step == step &&
		    strcmp(cs->st[i].rule, rule) == 0)
			return &cs->st[i];
	return NULL;
}

/* live: the heap's top can still run; drops those that cannot. */
static bool
live(struct store *st)
{
	struct pend p;
	struct cstep *s;

	while (st->nheap > 0) {
		p = st->heap[0];
		/* (a step of a case that was resolved and reopened is
		 * pending again, due from the reopening: not this entry) */
		if (p.cs->u.cs.exists && CASE_LIVE(p.cs->u.cs.state) &&
		    (s = pending(&p.cs->u.cs, p.rule, p.step)) != NULL &&
		    step_due(st, &p.cs->u.cs, s) == p.due)
			return true;
		if (strcmp(p.rule, OUTCOME_RULE) == 0 &&
		    outcome_timer(st, &p.cs->u.cs) == p.due)
			return true;
		p = heap_pop(st);
		free(p.rule);
	}
	return false;
}

/* --- history --------------------------------------------------------------- */

/*
 * A case's history is append-only: each change adds one JSON object
 * {"at": RFC 3339, "kind": ..., ...}, kept here until store_changes
 * hands it over (SO_RPUSH to <case key>:history, the newest
 * cases.history kept). Nothing reads it back to decide.
 */

/* hist_begin: '{"at":"...","kind":"KIND"' into b (reset). */
static void
hist_begin(struct buf *b, int64_t at_ms, const char *kind)
{
	char when[48];

	format_rfc3339((double)at_ms / 1000.0, when, sizeof(when));
	buf_reset(b);
	buf_puts(b, "{\"at\":\"");
	buf_puts(b, when);
	buf_puts(b, "\",\"kind\":\"");
	buf_puts(b, kind);
	buf_putc(b, '"');
}

/* hist_str: ',"key":"val"' (val JSON-escaped; NULL: nothing). */
static void
hist_str(struct buf *b, const char *key, const char *val)
{
	if (val == NULL)
		return;
	buf_puts(b, ",\"");
	buf_puts(b, key);
	buf_puts(b, "\":");
	buf_json_string(b, val, strlen(val));
}

/* hist_kv: hist_begin, then the n key/value text pairs kv. */
static void
hist_kv(struct buf *b, int64_t at_ms, const char *kind,
    const char *const *kv, size_t n)
{
	size_t i;

	hist_begin(b, at_ms, kind);
	for (i = 0; i < n; i++)
		hist_str(b, kv[2 * i], kv[2 * i + 1]);
}

/* hist_end: close b and append it to the case's history. */
static void
hist_end(struct store *st, struct ent *e, struct buf *b)
{
	struct scase *cs = &e->u.cs;

	size_t max = st->o.cf != NULL && st->o.cf->history_max > 0 ?
	    (size_t)st->o.cf->history_max : 200;

	buf_putc(b, '}');
	/* The list keeps the newest max; so does memory until they are
	 * handed over (an unbacked store never hands them over). */
	if (cs->nhist >= max) {
		free(cs->hist[0]);
		memmove(cs->hist, cs->hist + 1, (cs->nhist - 1) *
		    sizeof(*cs->hist));
		cs->nhist--;
	}
	cs->hist = xreallocarray(cs->hist, cs->nhist + 1, sizeof(*cs->hist));
	cs->hist[cs->nhist++] = xstrndup(b->data, b->len);
	ent_dirty(st, e);
}

/* hist: one entry of kind with n key/value text pairs kv (built in the
 * store's scratch buffer, which keeps its size from entry to entry). */
static void
hist(struct store *st, struct ent *e, int64_t at_ms, const char *kind,
    const char *const *kv, size_t n)
{
	hist_kv(&st->hb, at_ms, kind, kv, n);
	hist_end(st, e, &st->hb);
}

/* --- owners ------------------------------------------------------------------ */

/* owners_ent: the owners' counts (NULL without pools, or, backed, when
 * not loaded: store_needs loads it whenever pools exist). */
static struct ent *
owners_ent(struct store *st)
{
	struct ent *e;

	if (st->o.cf == NULL || !st->o.cf->has_pools)
		return NULL;
	owners_key(st, &st->kb);
	if ((e = ent_use(st, EK_OWNERS, st->kb.data, st->kb.len)) == NULL)
		return NULL;
	if (e->own == NULL)
		e->own = xcalloc(1, sizeof(*e->own));
	return e;
}

/* owner_count: name's open cases move by n. */
static void
owner_count(struct store *st, const char *name, long n)
{
	struct ent *e;
	char k[160];

	if (name == NULL || name[0] == '\0' || (e = owners_ent(st)) == NULL)
		return;
	snprintf(k, sizeof(k), "o:%s", name);
	owners_add(e->own, k, n);
	ent_dirty(st, e);
}

/*
 * pool_pick: the owner rule r's pool gives a case opened now: round
 * robin (a cursor per rule), or the member with the fewest open cases
 * (the first of them in the pool's order).
 */
static const char *
pool_pick(struct store *st, const struct rule *r)
{
	const struct pool *p = &r->pool;
	struct ent *e = owners_ent(st);
	char k[160];
	size_t i, best = 0;
	long cur, n, bn = 0;

	if (p->n == 0 || e == NULL)
		return p->n > 0 ? p->names[0] : NULL;
	if (p->least_open) {
		for (i = 0; i < p->n; i++) {
			snprintf(k, sizeof(k), "o:%s", p->names[i]);
			n = owners_get(e->own, k);
			if (i == 0 || n < bn) {
				best = i;
				bn = n;
			}
		}
		return p->names[best];
	}
	snprintf(k, sizeof(k), "r:%s", r->name);
	cur = owners_get(e->own, k);
	owners_add(e->own, k, 1);
	ent_dirty(st, e);
	return p->names[(size_t)cur % p->n];
}

/* --- outcomes ---------------------------------------------------------------- */

/* first_rule: the first of the case's rules, into out. */
static void
first_rule(const struct scase *cs, char *out, size_t cap)
{
	const char *p = cs->rules.data != NULL ? cs->rules.data : "";
	const char *q = strchr(p, ',');

	snprintf(out, cap, "%.*s", (int)(q != NULL ? (size_t)(q - p) :
	    strlen(p)), p);
}

static void	member(const struct scase *, const char *rule, int step,
		    char *out, size_t cap);

/* outcome_timer: when the resolved case cs's outcome becomes unknown,
 * or -1 when it is not pending. */
static int64_t
outcome_timer(const struct store *st, const struct scase *cs)
{
	int64_t w = st->o.cf != NULL ? st->o.cf->outcome_within_ms :
	    30 * 86400000LL;

	if (!cs->exists || cs->state != CASE_RESOLVED || cs->outcome != NULL ||
	    cs->resolved_ms <= 0)
		return -1;
	return tadd(cs->resolved_ms, w);
}

/* outcome_pending: a rating at now_ms is the outcome of cs. */
static bool
outcome_pending(const struct store *st, const struct scase *cs,
    int64_t now_ms)
{
	int64_t end = outcome_timer(st, cs);

	return end >= 0 && now_ms >= cs->resolved_ms && now_ms <= end;
}

/* rating_text: "csat=1 nps=3" of an event's scores ("" without). */
static void
rating_text(const struct evt *ev, struct buf *b)
{
	static const char *const scores[] = { "csat", "nps", "ces" };
	const struct value *v;
	char num[FMT_LL_MAX];
	size_t i;

	buf_reset(b);
	for (i = 0; ev != NULL && i < ARRAY_LEN(scores); i++)
		if ((v = evt_get(ev, scores[i])) != NULL && v->has_num) {
			if (b->len > 0)
				buf_putc(b, ' ');
			buf_puts(b, scores[i]);
			buf_putc(b, '=');
			if (fmt_integral(num, v->num))
				buf_puts(b, num);
			else
				buf_printf(b, "%.15g", v->num);
		}
	if (b->data == NULL)
		buf_append(b, "", 0);
}

/*
 * outcome_set: the resolution's outcome of case e (recovered,
 * not_recovered, unknown), at at_ms, from event event_id with the
 * rating after (NULL: none); recorded in the hash (outcome, outcome_at,
 * rating_after, and appended to outcomes, one word per resolution), the
 * history, and the store's outcome counts.
 */
static void
outcome_set(struct store *st, struct ent *e, const char *word,
    int64_t at_ms, const char *event_id, const char *after)
{
	struct scase *cs = &e->u.cs;
	const char *kv[] = { "outcome", word, "event_id", event_id, "rating",
	    after };
	char m[ENGINE_ID_MAX + 160];

	if (outcome_timer(st, cs) >= 0 && st->o.backed) {
		member(cs, OUTCOME_RULE, 1, m, sizeof(m));
		zop_push(st, false, Z_SCHED, m, 0);
		/* (the in-memory watch keeps it until the next takeover: a
		 * decision dropped with its commit must see it again) */
		if (cs->customer != NULL && cs->customer[0] != '\0')
			zop_push(st, false, Z_WATCH, cs->customer, 0);
	}
	free(cs->outcome);
	cs->outcome = xstrdup(word);
	cs->outcome_ms = at_ms;
	free(cs->after);
	cs->after = after != NULL ? xstrdup(after) : NULL;
	if (cs->outcomes.len > 0) {
		buf_putc(&cs->outcomes, ',');
		buf_putc(&cs->afters, ';');
	}
	buf_puts(&cs->outcomes, word);
	buf_puts(&cs->afters, after != NULL ? after : "");
	cs->dirty |= CF_OUTCOME;
	hist(st, e, at_ms, "outcome", kv, 3);
	{
		char r[128];

		first_rule(cs, r, sizeof(r));
		store_note_add(st, SN_OUTCOME, r, word, 0);
	}
	st->outcomes[strcmp(word, "recovered") == 0 ? 0 :
	    strcmp(word, "not_recovered") == 0 ? 1 : 2]++;
}

/* outcome_clear: a resolution starts a new outcome window (or a reopened
 * case waits for its next one): no outcome in the hash. */
static void
outcome_clear(struct store *st, struct ent *e)
{
	struct scase *cs = &e->u.cs;

	(void)st;
	if (cs->outcome == NULL && cs->after == NULL)
		return;
	free(cs->outcome);
	cs->outcome = NULL;
	free(cs->after);
	cs->after = NULL;
	cs->outcome_ms = 0;
	cs->dirty |= CF_OUTCOME;
}

/* --- cases --------------------------------------------------------------- */

static void
member(const struct scase *cs, const char *rule, int step, char *out,
    size_t cap)
{
	snprintf(out, cap, "%s|%s|%d", cs->id, rule, step);
}

/* step_chans: step es's channels by name (indices without a
 * configuration), comma-separated, into b. */
void
step_chans(const struct store *st, const struct esc_step *es, struct buf *b)
{
	const struct config *cf = st->o.cf;
	size_t j, c;

	buf_reset(b);
	for (j = 0; j < es->n.nchans; j++) {
		c = es->n.chans[j];
		if (j > 0)
			buf_putc(b, ',');
		if (cf != NULL && c < cf->nchannels)
			buf_puts(b, cf->channels[c].name);
		else
			buf_printf(b, "%zu", c);
	}
	if (b->data == NULL)
		buf_append(b, "", 0);
}

/* schedule: add rule r's escalation steps to the open case e, except
 * those whose delay and channels it already has. O(steps * scheduled). */
static void
schedule(struct store *st, struct ent *e, const struct rule *r)
{
	struct scase *cs = &e->u.cs;
	char m[ENGINE_ID_MAX + 160];
	struct cstep *s;
	struct buf ch;
	size_t i, j;
	int64_t due;

	buf_init(&ch);
	for (i = 0; i < r->nescalate; i++) {
		step_chans(st, &r->escalate[i], &ch);
		for (j = 0; j < cs->nst; j++)
			if (cs->st[j].after_ms == r->escalate[i].after_ms &&
			    strcmp(cs->st[j].chans, ch.data) == 0)
				break;
		if (j < cs->nst)
			continue;
		cs->st = xreallocarray(cs->st, cs->nst + 1, sizeof(*cs->st));
		s = &cs->st[cs->nst++];
		s->after_ms = r->escalate[i].after_ms;
		s->chans = xstrdup(ch.data);
		s->rule = xstrdup(r->name);
		s->step = (int)i + 1;
		s->run = false;
		cs->dirty |= CF_STEPS;
		due = step_due(st, cs, s);
		if (st->o.backed) {
			member(cs, r->name, s->step, m, sizeof(m));
			zop_push(st, true, Z_SCHED, m, (double)due);
		} else
			heap_push(st, e, r->name, s->step, due);
	}
	buf_free(&ch);
}

void
case_sigs(const struct store *st, struct scase *cs)
{
	const struct rule *r;
	struct buf ch;
	size_t i;

	buf_init(&ch);
	for (i = 0; i < cs->nst; i++) {
		struct cstep *s = &cs->st[i];

		free(s->chans);
		r = st->o.cf != NULL ? config_rule(st->o.cf, s->rule) : NULL;
		if (r == NULL || s->step < 1 || (size_t)s->step > r->nescalate) {
			s->after_ms = -1;
			s->chans = xstrdup("");
			continue;
		}
		step_chans(st, &r->escalate[s->step - 1], &ch);
		s->after_ms = r->escalate[s->step - 1].after_ms;
		s->chans = xstrdup(ch.data);
	}
	buf_free(&ch);
}

static bool
list_has(const struct buf *l, const char *name)
{
	size_t n = strlen(name);
	const char *p = l->data, *end, *q;

	if (p == NULL)
		return false;
	end = p + l->len;
	while (p < end) {
		if ((q = memchr(p, ',', (size_t)(end - p))) == NULL)
			q = end;
		if ((size_t)(q - p) == n && memcmp(p, name, n) == 0)
			return true;
		p = q + 1;
	}
	return false;
}

/* add_event: the entry joins the case's events; the list keeps the
 * newest CASE_EVENTS_MAX bytes (it is for people, not for deciding). */
static void
add_event(struct scase *cs, const char *entry)
{
	const char *cut;
	size_t drop;

	if (cs->events.len > 0)
		buf_putc(&cs->events, ',');
	buf_puts(&cs->events, entry);
	if (cs->events.len <= CASE_EVENTS_MAX)
		return;
	cut = memchr(cs->events.data + cs->events.len - CASE_EVENTS_MAX, ',',
	    CASE_EVENTS_MAX);
	drop = cut != NULL ? (size_t)(cut - cs->events.data) + 1 :
	    cs->events.len - CASE_EVENTS_MAX;
	memmove(cs->events.data, cs->events.data + drop,
	    cs->events.len - drop + 1);
	cs->events.len -= drop;
}

/* open_case: a new open case for the request's customer, made its
 * current case (CUST entity cu). */
static struct ent *
open_case(struct store *st, const struct state_req *req, struct ent *cu)
{
	struct ent *e;
	struct scase *cs;
	char id[ENGINE_ID_MAX];
	double opened;
	struct buf rt;

	snprintf(id, sizeof(id), "c-%s", req->entry_id);
	key_case(st, &st->kb, id);
	e = store_case_new(st, st->kb.data, st->kb.len);
	cs = &e->u.cs;
	if (cs->exists) {	/* an entry decided again: start over */
		char *keep = xstrdup(cs->id);

		case_clear(cs);
		cs->id = keep;
	}
	cs->exists = true;
	cs->customer = xstrdup(req->customer_id);
	cs->call = xstrdup(N(req->call_id));
	cs->agent = xstrdup(N(req->agent_id));
	cs->queue = xstrdup(N(req->queue));
	cs->entry = xstrdup(req->entry_id);
	cs->state = CASE_OPEN;
	cs->opened_ms = cs->base_ms = req->now_ms;
	if (req->ev != NULL && !req->contact) {
		buf_init(&rt);
		rating_text(req->ev, &rt);
		cs->before = rt.len > 0 ? xstrdup(rt.data) : NULL;
		buf_free(&rt);
	}
	cs->dirty = CF_OPEN;
	ent_dirty(st, e);
	free(cu->u.cust);
	cu->u.cust = xstrdup(cs->id);
	ent_dirty(st, cu);
	opened = (double)cs->opened_ms;
	zop_push(st, true, Z_CASES, cs->id, opened);
	zop_push(st, true, Z_OPEN, cs->id, opened);
	return e;
}

/* casing: candidate i fired and opens or joins a case (not case: none,
 * not held back by a silence: silence.h). */
static bool
casing(const struct state_req *req, size_t i)
{
	return req->c[i].fired && !req->c[i].rule->no_case &&
	    req->c[i].silence == NULL;
}

/* rules_text: the fired rules' names, comma-separated, into b. */
static void
rules_text(const struct state_req *req, struct buf *b)
{
	size_t i;

	buf_reset(b);
	for (i = 0; i < req->n; i++)
		if (casing(req, i)) {
			if (b->len > 0)
				buf_putc(b, ',');
			buf_puts(b, req->c[i].rule->name);
		}
	if (b->data == NULL)
		buf_append(b, "", 0);
}

/*
 * reopen: the resolved case e comes back (a firing within
 * cases.reopen_within of its resolution, or a person's reopen): state
 * reopened, counted, its escalation starting over from now with the
 * steps of its rules, open again in the index and the customer's case.
 */
static void
reopen(struct store *st, struct ent *e, struct ent *cu, int64_t now_ms)
{
	struct scase *cs = &e->u.cs;
	const struct rule *r;
	struct buf names;
	const char *p, *q, *end;
	char name[128];
	size_t i;

	/* the resolution did not hold (README, "Working a case": a bad rating
	 * that reopens the
	 * case is that resolution's outcome) */
	if (outcome_timer(st, cs) >= 0)
		outcome_set(st, e, "not_recovered", now_ms, NULL, NULL);
	outcome_clear(st, e);
	cs->state = CASE_REOPENED;
	cs->reopened++;
	owner_count(st, cs->owner, 1);
	if (cs->due_ms > 0) {
		/* its SLA again, from the reopening */
		cs->due_ms = tadd(now_ms, cs->due_ms - cs->base_ms);
		cs->dirty |= CF_DUE;
		zop_push(st, true, Z_DUE, cs->id, (double)cs->due_ms);
	}
	cs->base_ms = now_ms;
	cs->dirty |= CF_STATE | CF_REOPEN | CF_STEPS;
	for (i = 0; i < cs->nst; i++) {
		free(cs->st[i].chans);
		free(cs->st[i].rule);
	}
	cs->nst = 0;
	/* its rules' steps again, once each (the once-per-case rule) */
	buf_init(&names);
	buf_append(&names, cs->rules.data != NULL ? cs->rules.data : "",
	    cs->rules.len);
	p = names.data;
	end = p + names.len;
	while (p != NULL && p < end) {
		if ((q = memchr(p, ',', (size_t)(end - p))) == NULL)
			q = end;
		snprintf(name, sizeof(name), "%.*s", (int)(q - p), p);
		if (st->o.cf != NULL && (r = config_rule(st->o.cf, name)) !=
		    NULL)
			schedule(st, e, r);
		p = q + 1;
	}
	buf_free(&names);
	zop_push(st, true, Z_OPEN, cs->id, (double)cs->opened_ms);
	if (cu != NULL && (cu->u.cust == NULL ||
	    strcmp(cu->u.cust, cs->id) != 0)) {
		free(cu->u.cust);
		cu->u.cust = xstrdup(cs->id);
	}
	if (cu != NULL)
		ent_dirty(st, cu);
	ent_dirty(st, e);
}

/* may_reopen: a firing at now_ms reopens the resolved case cs. */
static bool
may_reopen(const struct store *st, const struct scase *cs, int64_t now_ms)
{
	int64_t w = st->o.cf != NULL ? st->o.cf->reopen_within_ms : 0;

	return cs->state == CASE_RESOLVED && w > 0 && cs->resolved_ms > 0 &&
	    now_ms >= cs->resolved_ms && now_ms - cs->resolved_ms <= w;
}

/* sla_due: the earliest due time the fired rules' sla give, or 0. */
static int64_t
sla_due(const struct state_req *req)
{
	int64_t due = 0, d;
	size_t i;

	for (i = 0; i < req->n; i++)
		if (casing(req, i) && req->c[i].rule->sla_ms > 0) {
			d = tadd(req->now_ms, req->c[i].rule->sla_ms);
			if (due == 0 || d < due)
				due = d;
		}
	return due;
}

/*
 * loop_event: what a rating or a contact means for the customer's case
 * e (may be NULL): a rating after a resolution is its outcome (a rating
 * that reopens the case, fires, is not_recovered; else cases.recovered_if
 * decides); a contact joins the open case's history (its case_id's case
 * when that one is open), the first "reached" setting first_contact_at.
 */
static void
loop_event(struct store *st, const struct state_req *req, struct ent *e,
    bool fires)
{
	const struct config *cf = st->o.cf;
	struct scase *cs;
	struct ent *t = NULL;
	struct buf b;
	const char *word, *result;

	if (!req->contact) {
		if (e == NULL || !e->u.cs.exists ||
		    !outcome_pending(st, &e->u.cs, req->now_ms))
			return;
		if (fires && may_reopen(st, &e->u.cs, req->now_ms))
			word = "not_recovered";
		else
			word = cf != NULL && cf->recovered_if != NULL &&
			    expr_eval(cf->recovered_if, evt_lookup,
			    (void *)req->ev) ? "recovered" : "not_recovered";
		buf_init(&b);
		rating_text(req->ev, &b);
		outcome_set(st, e, word, req->now_ms, req->entry_id, b.data);
		buf_free(&b);
		return;
	}
	if (req->case_hint != NULL && req->case_hint[0] != '\0' &&
	    strchr(req->case_hint, ':') == NULL) {
		key_case(st, &st->kb, req->case_hint);
		t = ent_find(st, st->kb.data, st->kb.len);
		if (t != NULL && (!t->resident || t->kind != EK_CASE ||
		    !t->u.cs.exists || t->u.cs.state == CASE_RESOLVED ||
		    t->u.cs.customer == NULL ||
		    strcmp(t->u.cs.customer, req->customer_id) != 0))
			t = NULL;
	}
	if (t == NULL && e != NULL && e->u.cs.exists &&
	    e->u.cs.state != CASE_RESOLVED)
		t = e;
	if (t == NULL)
		return;
	cs = &t->u.cs;
	result = evt_get(req->ev, "result") != NULL &&
	    evt_get(req->ev, "result")->kind == V_STR ?
	    evt_get(req->ev, "result")->s : "";
	{
		const struct value *ag = evt_get(req->ev, "agent_id"),
		    *no = evt_get(req->ev, "note");
		const char *kv[] = { "result", result, "event_id",
		    req->entry_id, "agent_id", ag != NULL && ag->kind == V_STR ?
		    ag->s : NULL, "note", no != NULL && no->kind == V_STR ?
		    no->s : NULL };

		hist(st, t, req->now_ms, "contact", kv, 4);
	}
	if (strcmp(result, "reached") == 0 && cs->contact_ms == 0) {
		cs->contact_ms = req->now_ms;
		cs->dirty |= CF_CONTACT;
		store_note_add(st, SN_CONTACT, NULL, NULL, req->now_ms -
		    cs->opened_ms);
	}
}

void
case_decide(struct store *st, const struct state_req *req,
    struct case_ref *cr)
{
	struct ent *cu, *e = NULL;
	struct scase *cs;
	struct buf b;
	size_t i;
	int sev = 0;
	int64_t due;
	bool any = false;
	const char *kv[4];

	for (i = 0; i < req->n; i++)
		if (casing(req, i)) {
			any = true;
			if (req->c[i].rule->severity > sev)
				sev = req->c[i].rule->severity;
		}
	if ((!any && !loop_wanted(st, req)) || req->customer_id == NULL ||
	    req->customer_id[0] == '\0')
		return;
	key_cust(st, &st->kb, req->customer_id);
	cu = ent_use(st, EK_CUST, st->kb.data, st->kb.len);
	if (cu->u.cust != NULL) {
		key_case(st, &st->kb, cu->u.cust);
		e = ent_use(st, EK_CASE, st->kb.data, st->kb.len);
	}
	if (loop_wanted(st, req))
		loop_event(st, req, e, any);
	if (!any)
		return;
	buf_init(&b);
	rules_text(req, &b);
	kv[0] = "rules";
	kv[1] = b.data;
	kv[2] = "event_id";
	kv[3] = req->entry_id;
	if (e != NULL && e->u.cs.exists && may_reopen(st, &e->u.cs,
	    req->now_ms)) {
		reopen(st, e, cu, req->now_ms);
		hist(st, e, req->now_ms, "reopened", kv, 2);
	} else if (e == NULL || !e->u.cs.exists ||
	    e->u.cs.state == CASE_RESOLVED) {
		e = open_case(st, req, cu);
		cr->opened = true;
		e->u.cs.due_ms = sla_due(req);
		if (e->u.cs.due_ms > 0)
			zop_push(st, true, Z_DUE, e->u.cs.id,
			    (double)e->u.cs.due_ms);
		hist(st, e, req->now_ms, "opened", kv, 2);
		for (i = 0; i < req->n; i++)
			if (casing(req, i)) {
				store_note_add(st, SN_OPENED,
				    req->c[i].rule->name, NULL, 0);
				break;
			}
		/* an owner from the first pool among its rules */
		for (i = 0; i < req->n; i++)
			if (casing(req, i) && req->c[i].rule->pool.n > 0) {
				const struct rule *r = req->c[i].rule;
				const char *who = pool_pick(st, r);
				const char *akv[] = { "to", who, "by",
				    r->pool.least_open ? "pool least_open" :
				    "pool round_robin" };

				e->u.cs.owner = xstrdup(who);
				owner_count(st, who, 1);
				hist(st, e, req->now_ms, "assign", akv, 2);
				break;
			}
	} else if ((due = sla_due(req)) > 0 && (e->u.cs.due_ms == 0 ||
	    due < e->u.cs.due_ms)) {
		e->u.cs.due_ms = due;
		e->u.cs.dirty |= CF_DUE;
		if (CASE_LIVE(e->u.cs.state) || e->u.cs.state == CASE_ACKED)
			zop_push(st, true, Z_DUE, e->u.cs.id, (double)due);
	}
	buf_free(&b);
	cs = &e->u.cs;
	if (sev > cs->severity) {
		cs->severity = sev;
		cs->dirty |= CF_SEVERITY;
	}
	for (i = 0; i < req->n; i++)
		if (casing(req, i) && !list_has(&cs->rules,
		    req->c[i].rule->name)) {
			if (cs->rules.len > 0)
				buf_putc(&cs->rules, ',');
			buf_puts(&cs->rules, req->c[i].rule->name);
		}
	add_event(cs, req->entry_id);
	cs->dirty |= CF_RULES;
	/* An acknowledged case never escalates: nothing to add. */
	if (CASE_LIVE(cs->state))
		for (i = 0; i < req->n; i++)
			if (casing(req, i))
				schedule(st, e, req->c[i].rule);
	ent_dirty(st, e);
	(void)str_copy(cr->case_id, sizeof(cr->case_id), cs->id);
	cr->severity = cs->severity;
}

/* event_ent: the resident EVENT entity of case_id, or NULL. */
static struct ent *
event_ent(const struct store *st, const char *case_id)
{
	struct ent *e = case_find(st, case_id, EVENT_SUFFIX);

	return e != NULL && e->resident && e->kind == EK_EVENT ? e : NULL;
}

/* case_ent: the resident, existing case case_id, or NULL. */
static struct ent *
case_ent(const struct store *st, const char *case_id)
{
	struct ent *e = case_find(st, case_id, "");

	if (e == NULL || !e->resident || e->kind != EK_CASE ||
	    !e->u.cs.exists)
		return NULL;
	return e;
}

void
store_case_event(struct store *st, const char *case_id, const char *json,
    size_t len)
{
	struct ent *e;

	if (case_ent(st, case_id) == NULL)
		return;
	key_event(st, &st->kb, case_id);
	e = store_ent_new(st, EK_EVENT, st->kb.data, st->kb.len);
	free(e->u.ev.json);
	e->u.ev.json = xstrndup(json, len);
	e->u.ev.len = len;
	ent_dirty(st, e);
}

const char *
store_case_event_get(const struct store *st, const char *case_id,
    size_t *len)
{
	const struct ent *e = event_ent(st, case_id), *c;

	*len = 0;
	if (e != NULL && e->u.ev.json != NULL) {
		*len = e->u.ev.len;
		return e->u.ev.json;
	}
	/* a case an older version wrote keeps it in its hash */
	if ((c = case_ent(st, case_id)) == NULL || c->u.cs.event == NULL)
		return NULL;
	*len = c->u.cs.eventlen;
	return c->u.cs.event;
}

/* --- running steps -------------------------------------------------------- */

/* run: step s of case e ran: recorded, out filled. */
static void
run(struct store *st, struct ent *e, struct cstep *s, struct esc_due *out)
{
	struct scase *cs = &e->u.cs;

	s->run = true;
	if (s->step > cs->step)
		cs->step = s->step;
	cs->dirty |= CF_STEPS | CF_STEP;
	ent_dirty(st, e);
	memset(out, 0, sizeof(*out));
	(void)str_copy(out->case_id, sizeof(out->case_id), cs->id);
	(void)str_copy(out->rule, sizeof(out->rule), s->rule);
	out->step = s->step;
	out->due_ms = step_due(st, cs, s);
	(void)str_copy(out->customer_id, sizeof(out->customer_id),
	    N(cs->customer));
	(void)str_copy(out->call_id, sizeof(out->call_id), N(cs->call));
	(void)str_copy(out->agent_id, sizeof(out->agent_id), N(cs->agent));
	(void)str_copy(out->queue, sizeof(out->queue), N(cs->queue));
	(void)str_copy(out->severity, sizeof(out->severity),
	    severity_name(cs->severity));
}

bool
store_due(struct store *st, int64_t now_ms, struct esc_due *out)
{
	struct pend p;
	struct cstep *s;

	if (st->o.backed || now_ms < 0 || !live(st) ||
	    st->heap[0].due > now_ms)
		return false;
	for (;;) {
		p = heap_pop(st);
		if (strcmp(p.rule, OUTCOME_RULE) == 0) {
			/* no rating within cases.outcome_within */
			free(p.rule);
			outcome_set(st, p.cs, "unknown", p.due, NULL, NULL);
			if (!live(st) || st->heap[0].due > now_ms)
				return false;
			continue;
		}
		s = pending(&p.cs->u.cs, p.rule, p.step);
		free(p.rule);
		run(st, p.cs, s, out);
		return true;
	}
}

int64_t
store_next_due(struct store *st)
{
	if (st->o.backed || !live(st))
		return -1;
	return st->heap[0].due;
}

int
store_parse_member(const char *m, size_t mlen, char *case_id, size_t cap,
    int *step, char *rule, size_t rcap)
{
	const char *b2, *b1;
	char num[16], *end;
	long x;
	size_t l;

	for (b2 = m + mlen; b2 > m && b2[-1] != '|'; b2--)
		;
	if (b2 == m)
		return -1;
	b2--;
	for (b1 = b2; b1 > m && b1[-1] != '|'; b1--)
		;
	if (b1 == m)
		return -1;
	b1--;
	l = (size_t)(m + mlen - b2 - 1);
	if (l == 0 || l >= sizeof(num))
		return -1;
	memcpy(num, b2 + 1, l);
	num[l] = '\0';
	x = strtol(num, &end, 10);
	if (*end != '\0' || x < 1 || x > 1000000 || num[0] == '+' ||
	    num[0] == '-' || num[0] == ' ')
		return -1;
	if (b1 == m || (size_t)(b1 - m) >= cap || b2 == b1 + 1 ||
	    (size_t)(b2 - b1 - 1) >= rcap ||
	    memchr(m, '\0', mlen) != NULL)
		return -1;
	memcpy(case_id, m, (size_t)(b1 - m));
	case_id[b1 - m] = '\0';
	memcpy(rule, b1 + 1, (size_t)(b2 - b1 - 1));
	rule[b2 - b1 - 1] = '\0';
	*step = (int)x;
	return 0;
}

bool
store_step(struct store *st, const char *m, size_t mlen, int64_t now_ms,
    struct esc_due *out)
{
	char id[ENGINE_ID_MAX], rule[128];
	struct ent *e;
	struct cstep *s;
	struct buf k;
	int step;
	bool ok;

	if (store_parse_member(m, mlen, id, sizeof(id), &step, rule,
	    sizeof(rule)) == -1) {
		/* not a member this store writes: obsolete */
		buf_init(&k);
		buf_append(&k, m, mlen);
		zop_push(st, false, Z_SCHED, k.data, 0);
		buf_free(&k);
		return false;
	}
	buf_init(&k);
	key_case(st, &k, id);
	e = ent_find(st, k.data, k.len);
	buf_free(&k);
	if (e == NULL || !e->resident || e->kind != EK_CASE)
		return false;
	s = NULL;
	ok = e->u.cs.exists && CASE_LIVE(e->u.cs.state) &&
	    (s = pending(&e->u.cs, rule, step)) != NULL;
	if (ok)
		run(st, e, s, out);
	else if (strcmp(rule, OUTCOME_RULE) == 0 &&
	    outcome_timer(st, &e->u.cs) >= 0)
		/* no rating within cases.outcome_within (its member goes
		 * below; nothing to render) */
		outcome_set(st, e, "unknown", now_ms, NULL, NULL);
	buf_init(&k);
	buf_append(&k, m, mlen);
	zop_push(st, false, Z_SCHED, k.data, 0);
	buf_free(&k);
	return ok;
}

/* --- people's changes ------------------------------------------------------ */

/* unschedule: ZREM the pending steps of a case leaving the open state. */
static void
unschedule(struct store *st, const struct scase *cs)
{
	char m[ENGINE_ID_MAX + 160];
	size_t i;

	for (i = 0; i < cs->nst; i++)
		if (!cs->st[i].run) {
			member(cs, cs->st[i].rule, cs->st[i].step, m, sizeof(m));
			zop_push(st, false, Z_SCHED, m, 0);
		}
}

const char *
store_case_state(const struct store *st, const char *case_id)
{
	const struct ent *e = case_ent(st, case_id);

	return e != NULL ? case_state_name(e->u.cs.state) : NULL;
}

const char *
store_case_resolved_at(const struct store *st, const char *case_id)
{
	const struct ent *e = case_ent(st, case_id);

	return e != NULL && e->u.cs.state == CASE_RESOLVED ?
	    e->u.cs.resolved_at : NULL;
}

/* set_note: the case's note to write, when there is one. */
static void
set_note(struct scase *cs, const char *note)
{
	if (note == NULL)
		return;
	free(cs->note);
	cs->note = xstrdup(note);
	cs->dirty |= CF_NOTE;
}

int
store_ack(struct store *st, const char *case_id, const char *by,
    const char *note, int64_t now_ms)
{
	struct ent *e = case_ent(st, case_id);
	struct scase *cs;
	char when[48];
	const char *kv[] = { "by", N(by), "note", note };

	if (e == NULL)
		return -1;
	cs = &e->u.cs;
	if (!CASE_LIVE(cs->state))
		return 0;
	cs->state = CASE_ACKED;
	free(cs->acked_by);
	cs->acked_by = xstrdup(N(by));
	format_rfc3339((double)now_ms / 1000.0, when, sizeof(when));
	free(cs->acked_at);
	cs->acked_at = xstrdup(when);
	cs->dirty |= CF_STATE | CF_ACK;
	set_note(cs, note);
	ent_dirty(st, e);
	unschedule(st, cs);
	hist(st, e, now_ms, "ack", kv, 2);
	store_note_add(st, SN_ACKED, NULL, NULL, now_ms - cs->opened_ms);
	return 0;
}

int
store_resolve(struct store *st, const char *case_id, const char *by,
    const char *code, const char *note, int64_t now_ms)
{
	struct ent *e = case_ent(st, case_id), *cu, *ev;
	struct scase *cs;
	char when[48];
	const char *kv[] = { "by", by, "code", code, "note", note };
	bool keep_cust;

	if (e == NULL)
		return -1;
	cs = &e->u.cs;
	if (cs->state == CASE_RESOLVED)
		return 0;
	if (CASE_LIVE(cs->state))
		unschedule(st, cs);
	cs->state = CASE_RESOLVED;
	cs->resolved_ms = now_ms;
	format_rfc3339((double)now_ms / 1000.0, when, sizeof(when));
	free(cs->resolved_at);
	cs->resolved_at = xstrdup(when);
	free(cs->resolved_by);
	cs->resolved_by = by != NULL ? xstrdup(by) : NULL;
	free(cs->code);
	cs->code = code != NULL ? xstrdup(code) : NULL;
	cs->dirty |= CF_STATE | CF_RESOLVED | CF_TTL;
	set_note(cs, note);
	hist(st, e, now_ms, "resolve", kv, 3);
	store_note_add(st, SN_RESOLVED, NULL, code, now_ms - cs->opened_ms);
	owner_count(st, cs->owner, -1);
	if (cs->due_ms > 0)
		zop_push(st, false, Z_DUE, cs->id, 0);
	/* its outcome: the customer's next rating, or unknown after
	 * cases.outcome_within */
	outcome_clear(st, e);
	{
		char m[ENGINE_ID_MAX + 160];
		int64_t due = outcome_timer(st, cs);

		if (st->o.backed) {
			member(cs, OUTCOME_RULE, 1, m, sizeof(m));
			zop_push(st, true, Z_SCHED, m, (double)due);
			/* its customer's next rating must reach the store */
			if (cs->customer != NULL && cs->customer[0] != '\0') {
				store_watch_load(st, cs->customer,
				    strlen(cs->customer));
				zop_push(st, true, Z_WATCH, cs->customer,
				    (double)due);
			}
		} else
			heap_push(st, e, OUTCOME_RULE, 1, due);
	}
	ent_dirty(st, e);
	zop_push(st, false, Z_OPEN, cs->id, 0);
	/* its opening event goes with it */
	if ((ev = event_ent(st, cs->id)) != NULL && ev->u.ev.json != NULL) {
		ev->u.ev.keep = true;
		ent_dirty(st, ev);
	} else {
		key_event(st, &st->kb, cs->id);
		zop_push(st, false, Z_EXPIRE, st->kb.data,
		    (double)case_keep_ms(st));
	}
	/* The customer's entity keeps naming it while it may reopen (it
	 * then expires, store_write.c), else lets go. */
	keep_cust = st->o.cf != NULL && st->o.cf->reopen_within_ms > 0;
	if (cs->customer != NULL) {
		key_cust(st, &st->kb, cs->customer);
		cu = ent_find(st, st->kb.data, st->kb.len);
		if (cu != NULL && cu->resident && cu->kind == EK_CUST &&
		    cu->u.cust != NULL && strcmp(cu->u.cust, cs->id) == 0) {
			if (!keep_cust) {
				free(cu->u.cust);
				cu->u.cust = NULL;
			}
			ent_dirty(st, cu);
		}
	}
	return 0;
}

int
store_assign(struct store *st, const char *case_id, const char *to,
    const char *by, int64_t now_ms)
{
	struct ent *e = case_ent(st, case_id);
	struct scase *cs;
	const char *kv[] = { "to", to, "by", by };

	if (e == NULL)
		return -1;
	cs = &e->u.cs;
	if (cs->owner != NULL && strcmp(cs->owner, to) == 0)
		return 0;
	if (cs->state != CASE_RESOLVED) {
		owner_count(st, cs->owner, -1);
		owner_count(st, to, 1);
	}
	free(cs->owner);
	cs->owner = xstrdup(to);
	cs->dirty |= CF_OWNER;
	hist(st, e, now_ms, "assign", kv, 2);
	return 0;
}

int
store_note(struct store *st, const char *case_id, const char *text,
    const char *by, int64_t now_ms)
{
	struct ent *e = case_ent(st, case_id);
	const char *kv[] = { "by", by, "text", text };

	if (e == NULL)
		return -1;
	set_note(&e->u.cs, text);
	hist(st, e, now_ms, "note", kv, 2);
	return 0;
}

int
store_reopen(struct store *st, const char *case_id, const char *by,
    int64_t now_ms)
{
	struct ent *e = case_ent(st, case_id), *cu = NULL, *other;
	struct scase *cs;
	const char *kv[] = { "by", by };

	if (e == NULL)
		return -1;
	cs = &e->u.cs;
	if (cs->state != CASE_RESOLVED)
		return -2;
	if (cs->customer != NULL && cs->customer[0] != '\0') {
		key_cust(st, &st->kb, cs->customer);
		cu = ent_find(st, st->kb.data, st->kb.len);
		if (cu != NULL && (!cu->resident || cu->kind != EK_CUST))
			cu = NULL;
		/* one open case per customer */
		if (cu != NULL && cu->u.cust != NULL &&
		    strcmp(cu->u.cust, cs->id) != 0 &&
		    (other = case_ent(st, cu->u.cust)) != NULL &&
		    other->u.cs.state != CASE_RESOLVED)
			return -3;
	}
	reopen(st, e, cu, now_ms);
	hist(st, e, now_ms, "reopen", kv, 1);
	return 0;
}

void
store_case_history(struct store *st, const char *case_id, int64_t at_ms,
    const char *kind, const char *const *kv, size_t n, const char *raw_key,
    const char *raw, size_t rawlen)
{
	struct ent *e = case_ent(st, case_id);
	struct buf *b = &st->hb;

	if (e == NULL)
		return;
	hist_kv(b, at_ms, kind, kv, n);
	if (raw_key != NULL && raw != NULL && rawlen > 0) {
		buf_puts(b, ",\"");
		buf_puts(b, raw_key);
		buf_puts(b, "\":");
		buf_append(b, raw, rawlen);
	}
	hist_end(st, e, b);
}

void
store_case_alert(struct store *st, const struct alert *al, int64_t at_ms)
{
	char step[FMT_LL_MAX];
	const char *kv[] = { "alert_id", al->alert_id, "channel",
	    al->channel != NULL ? al->channel->name : "", "rule",
	    al->rule != NULL ? al->rule->name : "", "step", step, "message",
	    al->message };

	if (al->case_id[0] == '\0')
		return;
	(void)fmt_ll(step, al->step);
	store_case_history(st, al->case_id, at_ms, al->step > 0 ? "step" :
	    "alert", kv, 5, NULL, NULL, 0);
}

void
store_case_joined(struct store *st, const struct case_ref *cr,
    const char *event_id, const char *type, int64_t at_ms, const char *json,
    size_t len)
{
	const char *kv[] = { "event_id", event_id, "type", type };

	if (cr->case_id[0] == '\0')
		return;
	/* The opening event's fields are kept once, in the EVENT entity;
	 * its history entry goes without them (caseview_history_entry). */
	if (cr->opened)
		store_case_event(st, cr->case_id, json, len);
	store_case_history(st, cr->case_id, at_ms, "event", kv, 2,
	    cr->opened ? NULL : "fields", json, len);
}

const char *const *
store_case_hist(const struct store *st, const char *case_id, size_t *n)
{
	const struct ent *e = case_ent(st, case_id);

	*n = e != NULL ? e->u.cs.nhist : 0;
	return e != NULL ? (const char *const *)e->u.cs.hist : NULL;
}

void
store_outcomes(const struct store *st, uint64_t out[3])
{
	memcpy(out, st->outcomes, sizeof(st->outcomes));
}

const char *
store_case_outcome(const struct store *st, const char *case_id,
    int64_t *first_contact_ms)
{
	const struct ent *e = case_ent(st, case_id);

	if (first_contact_ms != NULL)
		*first_contact_ms = e != NULL ? e->u.cs.contact_ms : 0;
	return e != NULL ? e->u.cs.outcome : NULL;
}

/* --- contact policy -------------------------------------------------------- */

/*
 * contact_ok: may one more contact alert reach the customer at now_ms
 * under limits.callbacks (max within)? When it may, it is counted. The
 * times older than the window are dropped; the customer's CUST entity
 * keeps them (resident: store_needs loaded it with the event's or the
 * case's entities).
 */
static bool
contact_ok(struct store *st, const char *customer, int64_t now_ms)
{
	const struct config *cf = st->o.cf;
	struct ent *cu;
	size_t i, k;

	if (cf == NULL || cf->contact_max <= 0 || customer == NULL ||
	    customer[0] == '\0')
		return true;
	key_contacts(st, &st->kb, customer);
	if ((cu = ent_use(st, EK_CONTACTS, st->kb.data, st->kb.len)) == NULL)
		return true;	/* not loaded: cannot happen (store_needs) */
	for (i = k = 0; i < cu->ncontacts; i++)
		if (cu->contacts[i] > now_ms - cf->contact_within_ms)
			cu->contacts[k++] = cu->contacts[i];
	cu->ncontacts = k;
	if ((long)cu->ncontacts >= cf->contact_max) {
		ent_dirty(st, cu);
		return false;
	}
	cu->contacts = xreallocarray(cu->contacts, cu->ncontacts + 1,
	    sizeof(*cu->contacts));
	cu->contacts[cu->ncontacts++] = now_ms;
	ent_dirty(st, cu);
	return true;
}

/* truthy: a CRM value that says yes. */
static bool
truthy(const struct value *v)
{
	if (v == NULL || v->kind == V_MISSING || v->kind == V_NULL)
		return false;
	if (v->kind == V_BOOL || v->has_num)
		return v->num != 0;
	return v->kind == V_STR && (strcmp(v->s, "true") == 0 ||
	    strcmp(v->s, "yes") == 0 || strcmp(v->s, "1") == 0);
}

size_t
store_contact_filter(struct store *st, const struct evt *ev,
    const char *customer, const struct alert *v, size_t n, bool *keep,
    int64_t now_ms)
{
	size_t i, kept = 0;
	const char *why;
	char step[16];

	for (i = 0; i < n; i++) {
		const struct alert *al = &v[i];

		keep[i] = true;
		if (al->channel == NULL || !al->channel->contact) {
			kept++;
			continue;
		}
		why = NULL;
		if (ev != NULL && truthy(evt_get(ev, "customer.do_not_call")))
			why = "do_not_call";
		else if (!contact_ok(st, customer, now_ms))
			why = "limit";
		if (why == NULL) {
			kept++;
			continue;
		}
		keep[i] = false;
		snprintf(step, sizeof(step), "%d", al->step);
		{
			const char *kv[] = { "channel", al->channel->name,
			    "rule", al->rule != NULL ? al->rule->name : "",
			    "step", step, "reason", why, "alert_id",
			    al->alert_id };

			store_case_history(st, al->case_id, now_ms,
			    "suppressed", kv, 5, NULL, NULL, 0);
		}
		store_note_add(st, SN_SUPPRESSED, al->channel->name, why, 0);
	}
	return kept;
}
