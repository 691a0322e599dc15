/*
 * sim.c — the offline driver: virtual clock + configuration + a state
 * store of its own (unbacked; see sim.h).
 *
 * An escalation step has no event of its own: its alerts render over the
 * event that opened its case, as in the daemon, where the case keeps that
 * event's fields (and customer.* enrichment) as JSON (tmpl_fields_save):
 * the simulator hands the store that JSON when a case opens and loads it
 * back into the step's event. The case's snapshot (customer_id, call_id,
 * agent_id, queue) fills whatever the saved event lacks, and the alert
 * fields ({{case_id}}, {{step}}, {{severity}}...) come on top.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "command.h"
#include "sim.h"
#include "template.h"

struct sim *
sim_new(const struct config *cf)
{
	struct sim *s = xcalloc(1, sizeof(*s));
	struct store_opts o;

	s->cf = cf;
	store_opts_init(&o, cf);
	s->st = store_new(&o);
	arena_init(&s->arena);
	buf_init(&s->scratch);
	evt_init(&s->stepev);
	silences_init(&s->silences);
	s->maxfires = cf->nrules > 0 ? cf->nrules : 1;
	s->fires = xcalloc(s->maxfires, sizeof(*s->fires));
	s->cands = xcalloc(s->maxfires, sizeof(*s->cands));
	return s;
}

void
sim_free(struct sim *s)
{
	if (s == NULL)
		return;
	store_free(s->st);
	arena_free(&s->arena);
	buf_free(&s->scratch);
	evt_free(&s->stepev);
	silences_free(&s->silences);
	free(s->alerts);
	free(s->customers);
	free(s->fires);
	free(s->cands);
	free(s);
}

/* begin: forget the previous call's output. */
static void
begin(struct sim *s)
{
	arena_reset(&s->arena);
	s->nalerts = 0;
}

/*
 * rendered: the alerts from index from on were just rendered for
 * customer: copy what they borrow from the event (its ID) into the arena,
 * since the step event is rebuilt for the next step, and record the
 * customer of each.
 */
static void
rendered(struct sim *s, size_t from, const char *customer,
    const struct evt *ev)
{
	const char *cust;
	size_t i, k, n = s->nalerts - from;
	bool keep[64];

	/* the contact policy (store_contact_filter), as the daemon's */
	if (n > 0 && n <= ARRAY_LEN(keep) && store_contact_filter(s->st, ev,
	    customer, &s->alerts[from], n, keep, s->now_ms) != n) {
		for (i = k = 0; i < n; i++)
			if (keep[i])
				s->alerts[from + k++] = s->alerts[from + i];
		s->nalerts = from + k;
	}

	if (s->nalerts > s->capcust) {
		s->capcust = s->capalerts > s->nalerts ? s->capalerts :
		    s->nalerts;
		s->customers = xreallocarray(s->customers, s->capcust,
		    sizeof(*s->customers));
	}
	cust = arena_strndup(&s->arena, customer, strlen(customer));
	for (i = from; i < s->nalerts; i++) {
		struct alert *a = &s->alerts[i];

		if (a->event_id != NULL)
			a->event_id = arena_strndup(&s->arena, a->event_id,
			    strlen(a->event_id));
		s->customers[i] = cust;
		store_case_alert(s->st, a, (int64_t)llround(a->fired_ts *
		    1000));
	}
	s->total_alerts += s->nalerts - from;
}

/* run_due: render every step due up to t_ms, in due order. */
static void
run_due(struct sim *s, int64_t t_ms)
{
	struct esc_due esc;
	struct case_ref cr;
	struct fire f;
	const struct rule *r;
	const char *json;
	size_t from, len;

	if (t_ms > s->now_ms)
		s->now_ms = t_ms;
	while (store_due(s->st, s->now_ms, &esc)) {
		if ((r = config_rule(s->cf, esc.rule)) == NULL ||
		    esc.step < 1 || (size_t)esc.step > r->nescalate)
			continue;
		evt_reset(&s->stepev);
		/* Steps have no entry of their own: event_id is empty. */
		s->stepev.id[0] = '\0';
		s->stepev.type = NULL;
		s->stepev.ts = (double)esc.due_ms / 1000.0;
		if ((json = store_case_event_get(s->st, esc.case_id,
		    &len)) != NULL)
			(void)tmpl_fields_load(&s->stepev, json, len);
		evt_set(&s->stepev, "customer_id", esc.customer_id,
		    strlen(esc.customer_id), false);
		evt_set(&s->stepev, "call_id", esc.call_id,
		    strlen(esc.call_id), false);
		evt_set(&s->stepev, "agent_id", esc.agent_id,
		    strlen(esc.agent_id), false);
		evt_set(&s->stepev, "queue", esc.queue, strlen(esc.queue),
		    false);

		memset(&f, 0, sizeof(f));
		f.rule = r;
		f.rule_idx = (size_t)(r - s->cf->rules);
		f.severity = r->severity;
		memset(&cr, 0, sizeof(cr));
		(void)str_copy(cr.case_id, sizeof(cr.case_id), esc.case_id);
		cr.severity = severity_parse(esc.severity);
		if (cr.severity == 0)
			cr.severity = r->severity;

		from = s->nalerts;
		engine_render(s->cf, &s->stepev, &f, &cr, esc.step,
		    (double)esc.due_ms / 1000.0, &s->arena, &s->scratch,
		    &s->alerts, &s->nalerts, &s->capalerts);
		rendered(s, from, esc.customer_id, &s->stepev);
		s->nsteps++;
	}
}

size_t
sim_event(struct sim *s, const struct evt *ev, int64_t t_ms)
{
	struct state_req req;
	struct case_ref cr;
	struct fire f;
	const struct value *cv;
	const char *customer;
	bool overflow;
	size_t i, n, from;

	begin(s);
	s->ncands = 0;
	run_due(s, t_ms);
	s->nevents++;
	n = engine_match(s->cf, ev, s->fires, s->maxfires, &overflow);
	state_prepare(&req, ev, s->fires, n, s->cands, s->now_ms);
	s->ncands = n;
	if (n == 0 && !req.loop)
		return s->nalerts;
	memset(&cr, 0, sizeof(cr));
	(void)silences_mark(&s->silences, &req);
	(void)store_decide(s->st, &req, &cr, NULL, 0);	/* unbacked */
	s->nsilenced += silences_count(&s->silences, &req);
	if (cr.opened)
		s->ncases++;
	if (cr.case_id[0] != '\0') {
		buf_reset(&s->scratch);
		tmpl_fields_save(ev, &s->scratch);
		store_case_joined(s->st, &cr, ev->id, ev->type,
		    (int64_t)llround(ev->ts * 1000), s->scratch.data,
		    s->scratch.len);
	}
	cv = evt_get(ev, "customer_id");
	customer = cv != NULL && cv->kind != V_LIST && cv->kind != V_NULL &&
	    cv->kind != V_MISSING ? cv->s : "";
	for (i = 0; i < n; i++) {
		/* A silenced firing is decided but delivers nothing. */
		if (!s->cands[i].fired || s->cands[i].silence != NULL)
			continue;
		f = s->fires[i];
		state_fire_from(&f, &s->cands[i]);
		s->nfires++;
		from = s->nalerts;
		engine_render(s->cf, ev, &f, &cr, 0, ev->ts, &s->arena,
		    &s->scratch, &s->alerts, &s->nalerts, &s->capalerts);
		rendered(s, from, customer, ev);
	}
	return s->nalerts;
}

size_t
sim_advance(struct sim *s, int64_t t_ms)
{
	begin(s);
	run_due(s, t_ms);
	return s->nalerts;
}

int
sim_command(struct sim *s, const char *op, const char *id, const char *code,
    const char *note, int64_t t_ms, char *err, size_t errlen)
{
	const char *names[5], *vals[5], *last, *open = store_case_of(s->st, id);
	size_t nl[5], vl[5], n = 0, i;
	struct command c;
	struct buf answer;
	char case_id[ENGINE_ID_MAX];
	json_t *o;
	int rc;

	/* What the daemon's owner does with "recoveryctl OP" (command.h). */
	last = open != NULL ? open : store_last_case(s->st, id);
	(void)str_copy(case_id, sizeof(case_id), last != NULL ? last : id);
	names[n] = "op";
	vals[n++] = op;
	names[n] = "case";
	vals[n++] = case_id;
	names[n] = "by";
	vals[n++] = "recoveryctl";
	if (code != NULL) {
		names[n] = "code";
		vals[n++] = code;
	}
	if (note != NULL) {
		names[n] = "note";
		vals[n++] = note;
	}
	for (i = 0; i < n; i++) {
		nl[i] = strlen(names[i]);
		vl[i] = strlen(vals[i]);
	}
	(void)command_parse(&c, names, nl, vals, vl, n);
	buf_init(&answer);
	rc = command_apply(s->st, s->cf, &c, t_ms, &answer);
	if (rc != 0 && err != NULL && errlen > 0) {
		o = json_loadb(answer.data, answer.len, 0, NULL);
		snprintf(err, errlen, "%s", o != NULL &&
		    json_string_value(json_object_get(o, "error")) != NULL ?
		    json_string_value(json_object_get(o, "error")) : "refused");
		json_decref(o);
	}
	buf_free(&answer);
	command_free(&c);
	return rc;
}

int
sim_ack(struct sim *s, const char *id, int64_t t_ms)
{
	return sim_command(s, "ack", id, NULL, NULL, t_ms, NULL, 0);
}

void
sim_finish(struct sim *s)
{
	begin(s);
}

int64_t
sim_longest_step(const struct config *cf)
{
	int64_t longest = 0;
	size_t i, j;

	for (i = 0; i < cf->nrules; i++) {
		const struct rule *r = &cf->rules[i];

		if (!r->enabled)
			continue;
		for (j = 0; j < r->nescalate; j++)
			if (r->escalate[j].after_ms > longest)
				longest = r->escalate[j].after_ms;
	}
	return longest;
}
