/*
 * consumer_commit.c — a decided batch's one fenced commit (commit.h,
 * scripts.h: apply) and what its answer means:
 *
 *   written     the store's changes are in Redis (store_committed), the
 *               entries acked; syslog alerts go out now, counters move.
 *               A command that failed inside (a channel key of the wrong
 *               type, say) is logged; a dead letter that failed leaves
 *               its entry pending, to be read again later
 *               (SWEEP_DELAY_S), while the stream goes on.
 *   fenced      the lease is someone else's: nothing was written; drop
 *               everything and stand by.
 *   foreign     another consumer holds pending entries (an old owner
 *               read after it lost the lease): nothing was written;
 *               claim everything again and go on from the oldest.
 *   refused     for the moment (OOM, BUSY, LOADING, ...): send the same
 *               commit again after a backoff, nothing else changes.
 *   lost/other  outcome unknown (no reply) or not an answer: drop the
 *               cache and what was decided, read our pending entries
 *               again; whatever landed is acked and is not read again.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertcmd.h"
#include "commit.h"
#include "consumer_int.h"
#include "log.h"
#include "scripts.h"
#include "util.h"

static void
ignore_cb(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	(void)r;
	(void)priv;
}

/*
 * undelivered: an alert whose write failed inside a commit that landed
 * (a stream or list channel's key holds another type, say) is recorded
 * where failed deliveries go, so that it never vanishes. Best effort,
 * after the commit: the event is acked, its state written.
 */
static void
undelivered(struct consumer *c, struct batch *b, const struct alert *al,
    const char *err)
{
	char rfc[40];
	const char *argv[] = { "XADD", b->cf->undelivered_stream, "*",
	    "alert_id", al->alert_id, "channel", al->channel->name,
	    "attempts", "1", "error", err, "alert", al->json, "failed_at",
	    rfc };

	format_rfc3339(now_wall(), rfc, sizeof(rfc));
	(void)cons_send(c->wr, ignore_cb, c, (int)ARRAY_LEN(argv), argv,
	    NULL);
}

/* failed_command: log command k (1-based) of b's commit, which failed. */
static void
failed_command(struct consumer *c, struct batch *b, long k, const char *err)
{
	const struct cmd_info *ci;
	const struct alert *al;

	if (k < 1 || (size_t)k > b->cm.ncmds) {
		log_warnx("commit: %s", err);
		return;
	}
	ci = &b->cm.info[k - 1];
	switch (ci->kind) {
	case CK_DEAD:
		b->v[ci->ref].kept = true;
		log_warnx("event %s is not acked: its dead letter could not "
		    "be written to %s (%s); it stays pending and is tried "
		    "again in %d s", b->v[ci->ref].id, b->cf->dead_letter,
		    err, SWEEP_DELAY_S);
		c->sweep_at = now_wall() + SWEEP_DELAY_S;
		break;
	case CK_ALERT:
		al = &b->alerts[ci->ref];
		stats_count(&c->stats->alerts, al->channel->name, "failed", 1);
		log_warnx("alert %s to channel %s could not be written (%s); "
		    "it goes to %s", al->alert_id, al->channel->name, err,
		    b->cf->undelivered_stream);
		undelivered(c, b, al, err);
		break;
	case CK_STATE:
		log_warnx("commit: a state write failed: %s", err);
		break;
	case CK_ANSWER:
		log_warnx("command %s: its answer could not be written (%s)",
		    b->v[ci->ref].id, err);
		break;
	}
}

/* log_command: what a person's command did, once it is in Redis. */
static void
log_command(const struct entry *e)
{
	const struct command *cm = &e->cmd;

	if (!e->applied)
		log_info("command %s refused: %.*s", e->id, (int)e->alen,
		    e->answer != NULL ? e->answer : "");
	else
		log_info("case %s: %s by %s (command %s)", cm->case_id,
		    cm->op == CMD_ACK ? "acknowledged" : cm->op == CMD_RESOLVE ?
		    "resolved" : cm->op == CMD_ASSIGN ? "assigned" :
		    cm->op == CMD_NOTE ? "note added" : "reopened", cm->by,
		    e->id);
}

/* count_notes: the closed loop's notes of a batch whose commit landed. */
static void
count_notes(struct consumer *c, const struct batch *b)
{
	struct stats *s = c->stats;
	size_t i;

	for (i = 0; i < b->nnotes; i++) {
		const struct store_note *n = &b->notes[i];
		double secs = (double)n->dur_ms / 1000.0;

		switch (n->kind) {
		case SN_OPENED:
			stats_count(&s->cases_opened, n->rule, NULL, 1);
			break;
		case SN_ACKED:
			stats_hist_add(&s->to_ack, secs);
			break;
		case SN_CONTACT:
			stats_hist_add(&s->to_contact, secs);
			break;
		case SN_RESOLVED:
			stats_count(&s->cases_resolved, n->word, NULL, 1);
			stats_hist_add(&s->to_resolve, secs);
			break;
		case SN_OUTCOME:
			stats_count(&s->outcomes, n->rule, n->word, 1);
			break;
		case SN_SUPPRESSED:
			stats_count(&s->suppressed, n->rule, n->word, 1);
			break;
		}
	}
}

/* written: b's commit landed. */
static void
written(struct consumer *c, struct batch *b, const redisReply *errs)
{
	double now = now_wall();
	size_t i, j;
	char *sp;

	store_committed(c->store, b->cm.gen);
	c->backoff_ms = 0;
	count_notes(c, b);
	for (i = 0; i < errs->elements; i++) {
		long k;

		if (errs->element[i]->type != REDIS_REPLY_STRING)
			continue;
		k = strtol(errs->element[i]->str, &sp, 10);
		failed_command(c, b, k, *sp == ' ' ? sp + 1 : sp);
	}
	/* Syslog alerts and counters, for what this commit wrote. */
	for (i = 0; i < b->nalerts; i++) {
		const struct alert *al = &b->alerts[i];
		struct entry *e = &b->v[b->alert_entry[i]];

		if (al->deliver_ms > (int64_t)llround(al->fired_ts * 1000.0)) {
			/* waiting for its calendar (alertcmd.h) */
			stats_count(&c->stats->alerts, al->channel->name,
			    "deferred", 1);
			continue;
		}
		if (al->channel->type == CH_SYSLOG)
			alert_syslog(al, &e->ev);
		stats_count(&c->stats->alerts, al->channel->name,
		    al->channel->type == CH_WEBHOOK ||
		    al->channel->type == CH_EXEC ? "queued" : "ok", 1);
	}
	if (b->kind == BK_STEPS) {
		for (i = 0; i < b->n; i++) {
			const struct entry *e = &b->v[i];
			size_t na = 0;

			if (!e->run)
				continue;
			for (j = 0; j < b->nalerts; j++)
				na += b->alert_entry[j] == i;
			log_info("escalation: case %s step %d (%s): %zu "
			    "alerts", e->due.case_id, e->due.step,
			    e->due.rule, na);
		}
		c->stats->batches++;
		return;
	}
	for (i = 0; i < b->n; i++) {
		struct entry *e = &b->v[i];
		double t = stream_id_time(e->id);

		if (e->kept)
			continue;
		if (e->st == E_CMD) {
			log_command(e);
			continue;
		}
		redeliv_done(c, e->id);
		if (e->st == E_INVALID)
			c->stats->invalid[e->err]++;
		else if (e->st == E_OK)
			stats_event_type(c->stats, e->ev.type);
		for (j = 0; j < e->nfires; j++)
			stats_count(&c->stats->rule_fires,
			    b->fires[e->fire0 + j].rule->name, NULL, 1);
		if (t > 0)
			stats_latency(c->stats, now - t);
	}
	c->stats->batches++;
}

static void
loaded_cb(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	(void)r;
	(void)priv;
}

static void
commit_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct reply_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r;
	struct batch *b = reply_batch(x, BS_COMMIT);
	const char *other;
	int ms;

	(void)ac;
	free(x);
	if (b == NULL)
		return;
	c->wr_since = 0;
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    is_transient(reply)) {
		if (strncmp(reply->str, "NOSCRIPT", 8) == 0) {
			/* A Redis that forgot its scripts (SCRIPT FLUSH, a
			 * restart without persistence): load it again; the
			 * SHA1 stays the same. */
			const char *argv[] = { "SCRIPT", "LOAD",
			    script_apply };
			(void)cons_send(c->wr, loaded_cb, c, 3, argv, NULL);
		}
		/* Refused as a whole, nothing ran: the same again later. */
		ms = c->backoff_ms < RETRY_MIN_MS ? RETRY_MIN_MS :
		    c->backoff_ms;
		c->backoff_ms = ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : ms * 2;
		c->stats->retries++;
		log_warnx("commit of %zu entries refused for the moment (%s); "
		    "sending it again in %d ms", b->n, reply->str, ms);
		b->st = BS_READY;
		b->started = 0;		/* the oldest: first to commit */
		c->resend_hold = now_wall() + ms / 1000.0;
		cons_kick(c, ms);
		return;
	}
	switch (commit_result(reply, &other)) {
	case CR_DONE:
		written(c, b, reply->element[1]);
		batch_free_slot(c, b);
		cons_pump(c);
		return;
	case CR_FENCED:
		c->stats->fenced++;
		log_warnx("commit of %zu entries refused: the lease %s is no "
		    "longer ours; nothing of it was written", b->n,
		    owner_key(c->owner));
		owner_lost(c->owner, "a commit was fenced");
		return;
	case CR_FOREIGN:
		c->stats->fenced++;
		log_warnx("consumer %s holds pending entries of %s (read by an "
		    "old owner after its lease ended): claiming them and "
		    "deciding from the oldest; nothing of this batch was "
		    "written", other, b->cf->input_stream);
		c->reclaim = true;
		cons_fail(c, b, false, "entries pending on another consumer");
		return;
	case CR_BAD:
		break;
	}
	/* An error about the batch itself counts as a delivery: the
	 * same batch would fail the same way for ever. */
	cons_fail(c, b, reply != NULL, reply == NULL ? "connection lost, "
	    "outcome unknown" : reply->type == REDIS_REPLY_ERROR ?
	    reply->str : "unexpected reply");
}

void
cons_commit(struct consumer *c, struct batch *b)
{
	struct reply_ctx *x;
	double now = now_wall();

	if (now < c->resend_hold)
		return;		/* kicked when due */
	if (!owner_active(c->owner)) {
		cons_kick(c, 50);	/* the renewal decides */
		return;
	}
	if (b->cm.all.n == 0)
		commit_args(&b->cm, c->sha_apply, owner_key(c->owner),
		    owner_token(c->owner), b->cf->input_group, c->name,
		    b->kind == BK_EVENTS ? b->cf->input_stream : "",
		    b->kind == BK_EVENTS ? c->cmd_key : "");
	x = reply_ctx(c, b, 0);
	b->st = BS_COMMIT;
	if (rconn_cmd(c->wr, commit_cb, x, (int)b->cm.all.n, b->cm.all.v,
	    b->cm.all.l) == -1) {
		free(x);
		cons_fail(c, b, false, "redis not connected");
		return;
	}
	c->wr_since = now;
}
