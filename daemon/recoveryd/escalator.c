/*
 * escalator.c — escalation steps as batches of the owner's pipeline (see
 * escalator.h): the due members of the schedule read, their cases
 * loaded (consumer_load.c), each step run by the store, rendered and
 * committed with the store's changes (consumer_commit.c).
 *
 * A step renders over the event that opened its case, as the store keeps
 * it (store_case_event_get: its fields and customer.* enrichment), plus
 * the four fields the case itself keeps and the alert's own fields; a
 * case without a saved event still has those four.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertcmd.h"
#include "consumer_int.h"
#include "engine.h"
#include "escalator.h"
#include "log.h"
#include "redis.h"
#include "template.h"
#include "util.h"

static void
due_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct reply_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r;
	struct batch *b = reply_batch(x, BS_READ);
	size_t i;

	(void)ac;
	free(x);
	if (b == NULL)
		return;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY) {
		if (reply != NULL)
			log_warnx("escalation: ZRANGEBYSCORE %s: %s",
			    c->esc_key, reply->type == REDIS_REPLY_ERROR ?
			    reply->str : "unexpected reply");
		batch_free_slot(c, b);
		cons_pump(c);
		return;
	}
	for (i = 0; i < reply->elements && b->n < ESC_BATCH; i++) {
		const redisReply *m = reply->element[i];
		struct entry *e;

		if (m->type != REDIS_REPLY_STRING)
			continue;
		e = cons_entry_next(b);
		if (e->due == NULL)
			e->due = xmalloc(sizeof(*e->due));
		e->st = E_OK;
		e->nfires = 0;
		e->nf = 0;
		e->run = false;
		e->member = arena_strndup(&b->arena, m->str, m->len);
		e->mlen = m->len;
		snprintf(e->id, sizeof(e->id), "%.*s", (int)(m->len <
		    sizeof(e->id) ? m->len : sizeof(e->id) - 1), m->str);
	}
	if (b->n == 0) {
		batch_free_slot(c, b);
		cons_pump(c);
		return;
	}
	b->full = b->n == ESC_BATCH;
	if (b->full)
		c->esc_wanted = true;	/* more may be due */
	cons_load(c, b);
}

void
cons_steps(struct consumer *c, struct batch *b)
{
	char now[32], limit[16];
	const char *argv[] = { "ZRANGEBYSCORE", c->esc_key, "-inf", now,
	    "LIMIT", "0", limit };
	struct reply_ctx *x;

	cons_batch_begin(c, b, BK_STEPS, false);
	snprintf(now, sizeof(now), "%lld", (long long)b->now_ms);
	snprintf(limit, sizeof(limit), "%d", ESC_BATCH);
	x = reply_ctx(c, b, 0);
	b->st = BS_READ;
	if (cons_send(c->wr, due_cb, x, 7, argv, NULL) == -1) {
		free(x);
		batch_free_slot(c, b);
	}
}

/*
 * step_event: the event a step renders over: the case's opening event
 * as the store saved it, then (where it lacks them) the case's own
 * customer_id, call_id, agent_id and queue. Its ID is the opening
 * entry's, which the case ID carries ("c-<entry>").
 */
static void
step_event(struct consumer *c, struct entry *e, double now)
{
	struct evt *ev = &e->ev;
	const struct esc_due *d = e->due;
	const char *json;
	size_t len;

	evt_reset(ev);
	(void)str_copy(ev->id, sizeof(ev->id), strncmp(d->case_id, "c-", 2)
	    == 0 ? d->case_id + 2 : "");
	ev->ts = now;
	if ((json = store_case_event_get(c->store, d->case_id, &len)) !=
	    NULL && len > 0 && tmpl_fields_load(ev, json, len) == -1)
		log_warnx("escalation: case %s: its saved event is not a JSON "
		    "object; the step renders without it", d->case_id);
	(void)evt_set(ev, "customer_id", d->customer_id,
	    strlen(d->customer_id), false);
	(void)evt_set(ev, "call_id", d->call_id, strlen(d->call_id), false);
	(void)evt_set(ev, "agent_id", d->agent_id, strlen(d->agent_id), false);
	(void)evt_set(ev, "queue", d->queue, strlen(d->queue), false);
}

void
esc_decide(struct consumer *c, struct batch *b)
{
	const struct config *cf = b->cf;
	double now = (double)b->now_ms / 1000.0;
	size_t i, j, before, n;

	b->nalerts = 0;
	for (i = 0; i < b->n; i++) {
		struct entry *e = &b->v[i];
		const struct rule *r;
		struct case_ref cr;
		struct fire f;

		e->run = store_step(c->store, e->member, e->mlen, b->now_ms,
		    e->due);
		if (!e->run)
			continue;
		if ((r = config_rule(cf, e->due->rule)) == NULL ||
		    e->due->step < 1 || (size_t)e->due->step > r->nescalate) {
			log_warnx("escalation: case %s: rule %s has no step %d "
			    "in the running configuration; skipping it",
			    e->due->case_id, e->due->rule, e->due->step);
			continue;
		}
		step_event(c, e, now);
		memset(&f, 0, sizeof(f));
		f.rule = r;
		f.rule_idx = (size_t)(r - cf->rules);
		f.severity = r->severity;
		memset(&cr, 0, sizeof(cr));
		(void)str_copy(cr.case_id, sizeof(cr.case_id), e->due->case_id);
		cr.severity = severity_parse(e->due->severity);
		if (cr.severity == 0)
			cr.severity = r->severity;
		before = b->nalerts;
		engine_render(cf, &e->ev, &f, &cr, e->due->step, now, &b->arena,
		    &b->scratch, &b->alerts, &b->nalerts, &b->capalerts);
		cons_contact_policy(c, b, before, &e->ev, e->due->customer_id);
		if (b->capae < b->capalerts) {
			b->capae = b->capalerts;
			b->alert_entry = xreallocarray(b->alert_entry, b->capae,
			    sizeof(size_t));
		}
		for (; before < b->nalerts; before++) {
			b->alert_entry[before] = i;
			store_case_alert(c->store, &b->alerts[before],
			    b->now_ms);
		}
	}
	/* The members and the cases' steps, with the alerts: no IDs. */
	commit_changes(&b->cm, c->store, b->now_ms);
	free(b->notes);
	b->nnotes = store_take_notes(c->store, &b->notes);
	for (j = 0; j < b->nalerts; j++) {
		n = (size_t)alert_commands(&b->cm.cmds, &b->alerts[j],
		    &b->v[b->alert_entry[j]].ev, c->outbox_key, c->defer_key);
		commit_added(&b->cm, n, CK_ALERT, j);
	}
}
