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

#include "store_int.h"

#define N(s)	((s) != NULL ? (s) : "")

/* --- the unbacked schedule ------------------------------------------------- */

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

	while (st->nheap > 0) {
		p = st->heap[0];
		if (p.cs->u.cs.exists && p.cs->u.cs.state == CASE_OPEN &&
		    pending(&p.cs->u.cs, p.rule, p.step) != NULL)
			return true;
		p = heap_pop(st);
		free(p.rule);
	}
	return false;
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
		due = tadd(cs->opened_ms, s->after_ms);
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
	cs->opened_ms = req->now_ms;
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

void
case_decide(struct store *st, const struct state_req *req,
    struct case_ref *cr)
{
	struct ent *cu, *e = NULL;
	struct scase *cs;
	size_t i;
	int sev = 0;
	bool any = false;

	for (i = 0; i < req->n; i++)
		if (req->c[i].fired) {
			any = true;
			if (req->c[i].rule->severity > sev)
				sev = req->c[i].rule->severity;
		}
	if (!any || req->customer_id == NULL || req->customer_id[0] == '\0')
		return;
	key_cust(st, &st->kb, req->customer_id);
	cu = ent_use(st, EK_CUST, st->kb.data, st->kb.len);
	if (cu->u.cust != NULL) {
		key_case(st, &st->kb, cu->u.cust);
		e = ent_use(st, EK_CASE, st->kb.data, st->kb.len);
	}
	if (e == NULL || !e->u.cs.exists || e->u.cs.state == CASE_RESOLVED) {
		e = open_case(st, req, cu);
		cr->opened = true;
	}
	cs = &e->u.cs;
	if (sev > cs->severity) {
		cs->severity = sev;
		cs->dirty |= CF_SEVERITY;
	}
	for (i = 0; i < req->n; i++)
		if (req->c[i].fired && !list_has(&cs->rules,
		    req->c[i].rule->name)) {
			if (cs->rules.len > 0)
				buf_putc(&cs->rules, ',');
			buf_puts(&cs->rules, req->c[i].rule->name);
		}
	add_event(cs, req->entry_id);
	cs->dirty |= CF_RULES;
	/* An acknowledged case never escalates: nothing to add. */
	if (cs->state == CASE_OPEN)
		for (i = 0; i < req->n; i++)
			if (req->c[i].fired)
				schedule(st, e, req->c[i].rule);
	ent_dirty(st, e);
	snprintf(cr->case_id, sizeof(cr->case_id), "%s", cs->id);
	cr->severity = cs->severity;
}

/* event_ent: the resident EVENT entity of case_id, or NULL. */
static struct ent *
event_ent(const struct store *st, const char *case_id)
{
	struct buf k;
	struct ent *e;

	buf_init(&k);
	key_event(st, &k, case_id);
	e = ent_find(st, k.data, k.len);
	buf_free(&k);
	return e != NULL && e->resident && e->kind == EK_EVENT ? e : NULL;
}

/* case_ent: the resident, existing case case_id, or NULL. */
static struct ent *
case_ent(const struct store *st, const char *case_id)
{
	struct buf k;
	struct ent *e;

	buf_init(&k);
	key_case(st, &k, case_id);
	e = ent_find(st, k.data, k.len);
	buf_free(&k);
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
	snprintf(out->case_id, sizeof(out->case_id), "%s", cs->id);
	snprintf(out->rule, sizeof(out->rule), "%s", s->rule);
	out->step = s->step;
	out->due_ms = tadd(cs->opened_ms, s->after_ms);
	snprintf(out->customer_id, sizeof(out->customer_id), "%s",
	    N(cs->customer));
	snprintf(out->call_id, sizeof(out->call_id), "%s", N(cs->call));
	snprintf(out->agent_id, sizeof(out->agent_id), "%s", N(cs->agent));
	snprintf(out->queue, sizeof(out->queue), "%s", N(cs->queue));
	snprintf(out->severity, sizeof(out->severity), "%s",
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
	p = heap_pop(st);
	s = pending(&p.cs->u.cs, p.rule, p.step);
	free(p.rule);
	run(st, p.cs, s, out);
	return true;
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

	(void)now_ms;
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
	ok = e->u.cs.exists && e->u.cs.state == CASE_OPEN &&
	    (s = pending(&e->u.cs, rule, step)) != NULL;
	if (ok)
		run(st, e, s, out);
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

	if (e == NULL)
		return -1;
	cs = &e->u.cs;
	if (cs->state != CASE_OPEN)
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
	return 0;
}

int
store_resolve(struct store *st, const char *case_id, const char *note,
    int64_t now_ms)
{
	struct ent *e = case_ent(st, case_id), *cu, *ev;
	struct scase *cs;
	char when[48];

	if (e == NULL)
		return -1;
	cs = &e->u.cs;
	if (cs->state == CASE_RESOLVED)
		return 0;
	if (cs->state == CASE_OPEN)
		unschedule(st, cs);
	cs->state = CASE_RESOLVED;
	format_rfc3339((double)now_ms / 1000.0, when, sizeof(when));
	free(cs->resolved_at);
	cs->resolved_at = xstrdup(when);
	cs->dirty |= CF_STATE | CF_RESOLVED | CF_TTL;
	set_note(cs, note);
	ent_dirty(st, e);
	zop_push(st, false, Z_OPEN, cs->id, 0);
	/* its opening event goes with it */
	if ((ev = event_ent(st, cs->id)) != NULL && ev->u.ev.json != NULL) {
		ev->u.ev.keep = true;
		ent_dirty(st, ev);
	} else {
		key_event(st, &st->kb, cs->id);
		zop_push(st, false, Z_EXPIRE, st->kb.data,
		    (double)CASE_KEEP_MS);
	}
	if (cs->customer != NULL) {
		key_cust(st, &st->kb, cs->customer);
		cu = ent_find(st, st->kb.data, st->kb.len);
		if (cu != NULL && cu->resident && cu->u.cust != NULL &&
		    strcmp(cu->u.cust, cs->id) == 0) {
			free(cu->u.cust);
			cu->u.cust = NULL;
			ent_dirty(st, cu);
		}
	}
	return 0;
}
