/*
 * consumer_decide.c — a loaded batch of events decided (consumer.h): the
 * store answers each event's candidates in stream order (store_decide,
 * the semantics of `recoveryctl test` and `replay`), the firings are
 * rendered, and the batch's one commit is built (commit.h): the ack of
 * every entry, the store's changes, the alerts, the dead letters.
 *
 * Per-event isolation: an event the store cannot decide (store_decide
 * fails: it changed nothing) is dead-lettered alone with the reason; so
 * is one whose enrichment failed (consumer_load.c). The others of the
 * batch go on as if it had not been there.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertcmd.h"
#include "consumer_int.h"
#include "engine.h"
#include "escalator.h"
#include "event.h"
#include "log.h"
#include "util.h"

/* dead_fields: a dead letter's fields from the event, when the entry's
 * own fields were not kept (a new entry whose decision failed). */
static void
dead_fields(struct cmds *a, const struct entry *e)
{
	size_t i;

	for (i = 0; i < e->ev.nfields; i++) {
		const struct evt_field *f = &e->ev.fields[i];

		if (f->v.kind == V_MISSING || f->v.s == NULL)
			continue;
		cmd_str(a, f->key);
		cmd_arg(a, f->v.s, f->v.len);
	}
}

/* dead_letter: XADD <dead_letter> of entry i's fields, source_id,
 * error, reason; guarded: if it fails, the entry stays pending. */
static void
dead_letter(struct batch *b, size_t i, size_t id_idx)
{
	struct entry *e = &b->v[i];
	struct cmds *a = &b->cm.cmds;
	char msg[400], *name;
	size_t k;

	cmd_begin(a);
	cmd_str(a, "XADD");
	cmd_str(a, b->cf->dead_letter);
	cmd_str(a, "MAXLEN");
	cmd_str(a, "~");
	cmd_str(a, "1000000");
	cmd_str(a, "*");
	if (e->nf == 0 && e->st == E_FAILED)
		dead_fields(a, e);
	for (k = 0; k < e->nf; k++) {
		cmd_arg(a, e->fnames[k], e->fnlens[k]);
		cmd_arg(a, e->fvals[k], e->fvlens[k]);
		if (e->fvfull == NULL || e->fvfull[k] <= e->fvlens[k])
			continue;
		/* A value cut to its prefix (keep_raw): its length beside
		 * it, as "<name>_len". */
		name = arena_alloc(&b->arena, e->fnlens[k] + 5);
		memcpy(name, e->fnames[k], e->fnlens[k]);
		memcpy(name + e->fnlens[k], "_len", 5);
		cmd_arg(a, name, e->fnlens[k] + 4);
		cmd_num(a, (long long)e->fvfull[k]);
	}
	cmd_str(a, "source_id");
	cmd_str(a, e->id);
	snprintf(msg, sizeof(msg), "event %s: %s", e->id, e->errmsg);
	cmd_str(a, "error");
	cmd_str(a, msg);
	cmd_str(a, "reason");
	cmd_str(a, e->st == E_DEAD ? "max_deliveries" :
	    e->st == E_FAILED ? e->reason : evt_err_reason(e->err));
	cmd_end(a);
	commit_added(&b->cm, 1, CK_DEAD, i);
	commit_guard(&b->cm, id_idx);
}

/* decide_one: store_decide for entry e; keep its candidates that fired
 * (with their figures) for rendering; save the event in a case it
 * opened (its escalation steps render over it). */
static void
decide_one(struct consumer *c, struct batch *b, struct entry *e)
{
	char err[256];
	size_t j, nf = 0;

	cons_silence_mark(c, &e->req);
	if (store_decide(c->store, &e->req, &e->cr, err, sizeof(err)) == -1) {
		e->st = E_FAILED;
		e->reason = "decide";
		e->nfires = 0;
		snprintf(e->errmsg, sizeof(e->errmsg), "could not be decided: "
		    "%s", err);
		c->stats->dead_decide++;
		log_warnx("event %s: %s; dead-lettering it alone", e->id,
		    e->errmsg);
		return;
	}
	if (e->cr.case_id[0] != '\0') {
		buf_reset(&b->scratch);
		alert_event_save(&e->ev, &b->scratch);
		store_case_joined(c->store, &e->cr, e->id, e->ev.type,
		    (int64_t)llround(e->ev.ts * 1000), b->scratch.data,
		    b->scratch.len);
	}
	cons_silence_count(c, &e->req);
	for (j = 0; j < e->nfires; j++) {
		struct state_cand *sc = &b->cands[e->fire0 + j];
		struct fire f = b->fires[e->fire0 + j];

		/* A silenced firing is decided but delivers nothing. */
		if (!sc->fired || sc->silence != NULL)
			continue;
		state_fire_from(&f, sc);
		b->fires[e->fire0 + nf++] = f;
	}
	e->nfires = nf;
}

/*
 * cons_contact_policy: the contact policy (store_contact_filter) over
 * the alerts b->alerts[from..nalerts) just rendered over ev for
 * customer: the held-back ones leave the batch (they are in their
 * case's history instead).
 */
void
cons_contact_policy(struct consumer *c, struct batch *b, size_t from,
    const struct evt *ev, const char *customer)
{
	bool keep[64];
	size_t n = b->nalerts - from, i, k;

	if (n == 0 || n > ARRAY_LEN(keep))
		return;
	if (store_contact_filter(c->store, ev, customer, &b->alerts[from], n,
	    keep, b->now_ms) == n)
		return;
	for (i = k = 0; i < n; i++)
		if (keep[i])
			b->alerts[from + k++] = b->alerts[from + i];
	b->nalerts = from + k;
}

/* render: every firing's alerts, and which entry each belongs to. */
static void
render(struct consumer *c, struct batch *b, double fired)
{
	size_t i, j, before;

	b->nalerts = 0;
	for (i = 0; i < b->n; i++) {
		struct entry *e = &b->v[i];

		if (e->st != E_OK)
			continue;
		for (j = 0; j < e->nfires; j++) {
			before = b->nalerts;
			engine_render(b->cf, &e->ev, &b->fires[e->fire0 + j],
			    &e->cr, 0, fired, &b->arena, &b->scratch,
			    &b->alerts, &b->nalerts, &b->capalerts);
			cons_contact_policy(c, b, before, &e->ev,
			    e->req.customer_id);
			if (b->capae < b->capalerts) {
				b->capae = b->capalerts;
				b->alert_entry = xreallocarray(b->alert_entry,
				    b->capae, sizeof(size_t));
			}
			for (; before < b->nalerts; before++) {
				b->alert_entry[before] = i;
				store_case_alert(c->store,
				    &b->alerts[before], b->now_ms);
			}
		}
	}
}

/*
 * apply_commands: the batch's commands (after its events), each applied
 * to the store (command.h) and answered; a command the store refuses (no
 * such case) changes nothing.
 */
static void
apply_commands(struct consumer *c, struct batch *b)
{
	size_t i;

	for (i = b->nev; i < b->n; i++) {
		struct entry *e = &b->v[i];

		if (e->st != E_CMD)
			continue;
		buf_reset(&b->scratch);
		e->applied = command_apply(c->store, b->cf, e->cmd,
		    b->now_ms, &b->scratch) == 0;
		e->answer = arena_strndup(&b->arena, b->scratch.data,
		    b->scratch.len);
		e->alen = b->scratch.len;
	}
}

/* answer: a command's ack, and its answer to the list its sender
 * waits on (command.h), expiring. */
static void
answer(struct batch *b, const struct entry *e)
{
	char key[400];
	struct cmds *a = &b->cm.cmds;

	commit_cid(&b->cm, e->id);
	if (e->cmd->reply[0] == '\0')
		return;
	snprintf(key, sizeof(key), "%sreply:%s", b->cf->state_prefix,
	    e->cmd->reply);
	cmd_begin(a);
	cmd_str(a, "LPUSH");
	cmd_str(a, key);
	cmd_arg(a, e->answer, e->alen);
	cmd_end(a);
	cmd_begin(a);
	cmd_str(a, "PEXPIRE");
	cmd_str(a, key);
	cmd_num(a, CMD_REPLY_TTL_MS);
	cmd_end(a);
	commit_added(&b->cm, 2, CK_ANSWER, (size_t)(e - b->v));
}

/* build: the batch's commit: IDs, the store's changes, per entry its
 * dead letter or its alerts; per command its ack and answer. */
static void
build(struct consumer *c, struct batch *b)
{
	size_t i, j = 0, idx, n;

	commit_changes(&b->cm, c->store, b->now_ms);
	cons_silence_commit(c, b);
	free(b->notes);
	b->nnotes = store_take_notes(c->store, &b->notes);
	for (i = 0; i < b->n; i++) {
		struct entry *e = &b->v[i];

		if (e->st == E_CMD) {
			answer(b, e);
			continue;
		}
		idx = commit_id(&b->cm, e->id);
		if (e->st == E_INVALID || e->st == E_DEAD ||
		    e->st == E_FAILED)
			dead_letter(b, i, idx);
		for (; j < b->nalerts && b->alert_entry[j] == i; j++) {
			n = (size_t)alert_commands(&b->cm.cmds,
			    &b->alerts[j], &e->ev, c->outbox_key,
			    c->defer_key);
			commit_added(&b->cm, n, CK_ALERT, j);
		}
	}
}

void
cons_decide(struct consumer *c, struct batch *b)
{
	size_t i;

	if (b->kind == BK_STEPS) {
		esc_decide(c, b);
		b->st = BS_READY;
		cons_pump(c);
		return;
	}
	for (i = 0; i < b->n; i++) {
		struct entry *e = &b->v[i];

		if (e->st == E_OK && (e->nfires > 0 || e->req.loop))
			decide_one(c, b, e);
	}
	apply_commands(c, b);
	render(c, b, (double)b->now_ms / 1000.0);
	build(c, b);
	b->st = BS_READY;
	cons_pump(c);
}
