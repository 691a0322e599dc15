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
 *
 * A commit goes one of two ways. Most go as a transaction on a
 * connection of their own (the commit connection: nothing else may fall
 * between its MULTI and EXEC), in two parts:
 *
 *   once the batch is read:  WATCH lease; GET lease; XPENDING stream
 *                            group; XPENDING commands group
 *   once it is decided:      MULTI; the commands; XACK stream ids...;
 *                            XACK commands ids...; EXEC
 *
 * The second part goes only if the GET said the lease holds our token
 * and no XPENDING showed another consumer's entries; else UNWATCH, and
 * the batch is fenced or foreign, as above. WATCH makes the EXEC write
 * nothing if the lease key changed after it (taken by another, expired,
 * or renewed by us: then the commit is checked and sent again). Redis
 * runs a transaction's commands without a script's cost per command
 * (issue 9: about 2.5 us of Lua per write against 0.2-1.5 us for the
 * write), and like the script it refuses the whole of it when out of
 * memory (an OOM while queuing: EXECABORT). The checks need not be
 * atomic with the writes: entries another consumer reads after our
 * XPENDING come after everything we read, so after what we ack.
 *
 * A batch with dead letters goes as the apply script (scripts.h): a
 * dead letter that fails must leave its entry unacked, which only a
 * script can decide while it runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertcmd.h"
#include "commit.h"
#include "consumer_int.h"
#include "log.h"
#include "resp.h"
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
	const struct command *cm = e->cmd;

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

/*
 * written: b's commit landed. errs: the script's list of "k error", or
 * (tx) EXEC's answers, one per command, then the XACKs'.
 */
static void
written(struct consumer *c, struct batch *b, const redisReply *errs, bool tx)
{
	double now = now_wall();
	size_t i, j;
	char *sp;

	store_committed(c->store, b->cm.gen);
	c->backoff_ms = 0;
	count_notes(c, b);
	for (i = 0; i < errs->elements; i++) {
		const redisReply *e = errs->element[i];
		long k;

		if (tx) {
			if (e->type == REDIS_REPLY_ERROR)
				failed_command(c, b, (long)i + 1, e->str);
			continue;
		}
		if (e->type != REDIS_REPLY_STRING)
			continue;
		k = strtol(e->str, &sp, 10);
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
			    "alerts", e->due->case_id, e->due->step,
			    e->due->rule, na);
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

/* refused: b's commit was refused as a whole, nothing ran: the same
 * again after a backoff. */
static void
refused(struct consumer *c, struct batch *b, const char *why)
{
	int ms = c->backoff_ms < RETRY_MIN_MS ? RETRY_MIN_MS : c->backoff_ms;

	c->backoff_ms = ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : ms * 2;
	c->stats->retries++;
	log_warnx("commit of %zu entries refused for the moment (%s); "
	    "sending it again in %d ms", b->n, why, ms);
	b->st = BS_READY;
	b->started = 0;		/* the oldest: first to commit */
	c->resend_hold = now_wall() + ms / 1000.0;
	cons_kick(c, ms);
}

static void
fenced(struct consumer *c, struct batch *b)
{
	c->stats->fenced++;
	log_warnx("commit of %zu entries refused: the lease %s is no "
	    "longer ours; nothing of it was written", b->n,
	    owner_key(c->owner));
	owner_lost(c->owner, "a commit was fenced");
}

static void
foreign(struct consumer *c, struct batch *b, const char *other)
{
	c->stats->fenced++;
	log_warnx("consumer %s holds pending entries of %s (read by an "
	    "old owner after its lease ended): claiming them and "
	    "deciding from the oldest; nothing of this batch was "
	    "written", other, b->cf->input_stream);
	c->reclaim = true;
	cons_fail(c, b, false, "entries pending on another consumer");
}

/* failed: an error about the batch itself counts as a delivery (the
 * same batch would fail the same way for ever); a lost reply does not. */
static void
failed(struct consumer *c, struct batch *b, const redisReply *reply)
{
	cons_fail(c, b, reply != NULL, reply == NULL ? "connection lost, "
	    "outcome unknown" : reply->type == REDIS_REPLY_ERROR ?
	    reply->str : "unexpected reply");
}

static void
commit_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct reply_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r;
	struct batch *b = reply_batch(x, BS_COMMIT);
	const char *other;

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
		refused(c, b, reply->str);
		return;
	}
	switch (commit_result(reply, &other)) {
	case CR_DONE:
		written(c, b, reply->element[1], false);
		batch_free_slot(c, b);
		cons_pump(c);
		return;
	case CR_FENCED:
		fenced(c, b);
		return;
	case CR_FOREIGN:
		foreign(c, b, other);
		return;
	case CR_BAD:
		break;
	}
	failed(c, b, reply);
}

/* --- the transaction ------------------------------------------------------ */

/*
 * A transaction has two parts on the commit connection. Its checks
 * (WATCH lease, GET lease, the XPENDINGs) go out as soon as its batch
 * has been read (txn_prepare), so that their answers are in by the time
 * the batch is decided; c->txn_check is that transaction, at most one,
 * since an EXEC ends every WATCH of its connection. Once the batch is
 * decided and the commit before it answered, its writes go out with
 * MULTI and EXEC in one piece (c->txn_exec, at most one) and the next
 * batch's checks may follow them. Nothing else is ever sent on the
 * connection, so nothing falls between a MULTI and its EXEC.
 */
struct txn {
	struct consumer	*c;
	int		 slot;
	unsigned	 gen;
	int		 refs;		/* replies still to come */
	int		 checks;	/* answers of the checks to come */
	bool		 lost;		/* a reply was NULL */
	bool		 lease_ok;
	bool		 checkerr;	/* an XPENDING failed: qerr */
	bool		 qtransient;	/* a command was refused for the
					 * moment while queued (OOM) */
	char		 other[128];	/* a foreign consumer */
	char		 qerr[256];	/* the first error while queuing */
};

static struct batch *
txn_batch(const struct txn *t, enum bstage st)
{
	struct batch *b = &t->c->b[t->slot];

	return b->gen == t->gen && b->st == st ? b : NULL;
}

static void
txn_free_if_done(struct txn *t)
{
	if (t->refs == 0 && t->c->txn_check != t && t->c->txn_exec != t)
		free(t);
}

static void
txn_unref(struct txn *t)
{
	t->refs--;
	txn_free_if_done(t);
}

static void
ignore_tx_cb(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	(void)r;
	(void)priv;
}

/* txn_unwatch: c->txn_check will not be used: forget it, and its WATCH
 * (an EXEC of the next one would end it anyway). */
static void
txn_unwatch(struct consumer *c)
{
	struct txn *t = c->txn_check;
	const char *ua[] = { "UNWATCH" };

	if (t == NULL)
		return;
	c->txn_check = NULL;
	c->check_since = 0;
	if (!t->lost)
		(void)cons_send(c->tx, ignore_tx_cb, NULL, 1, ua, NULL);
	txn_free_if_done(t);
}

/* txn_check_done: one check answered; the last one moves things on. */
static void
txn_check_done(struct txn *t)
{
	struct consumer *c = t->c;

	if (--t->checks == 0 && c->txn_check == t && !c->freeing) {
		c->check_since = 0;
		cons_pump(c);
	}
	txn_unref(t);
}

/* txn_get_cb: the answer of GET (the lease). */
static void
txn_get_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct txn *t = priv;
	redisReply *reply = r;

	(void)ac;
	if (reply == NULL)
		t->lost = true;
	else if (reply->type == REDIS_REPLY_STRING && !t->c->freeing)
		t->lease_ok = strcmp(reply->str, owner_token(t->c->owner)) == 0;
	txn_check_done(t);
}

/* txn_pending_cb: the answer of an XPENDING (summary form): another
 * consumer with pending entries? */
static void
txn_pending_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct txn *t = priv;
	redisReply *reply = r, *cs;
	size_t i;

	(void)ac;
	if (reply == NULL)
		t->lost = true;
	else if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 4 &&
	    (cs = reply->element[3])->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < cs->elements && t->other[0] == '\0'; i++) {
			const redisReply *p = cs->element[i];

			if (p->type == REDIS_REPLY_ARRAY && p->elements >= 1 &&
			    p->element[0]->type == REDIS_REPLY_STRING &&
			    strcmp(p->element[0]->str, t->c->name) != 0)
				(void)str_copy(t->other, sizeof(t->other),
				    p->element[0]->str);
		}
	} else if (reply->type == REDIS_REPLY_ERROR && t->qerr[0] == '\0') {
		/* The stream or its group gone (deleted, or set as
		 * something else): write nothing; an error about the batch,
		 * as the script's would be. */
		(void)str_copy(t->qerr, sizeof(t->qerr), reply->str);
		t->checkerr = true;
	}
	txn_check_done(t);
}

/* txn_queued_cb: WATCH, MULTI and every queued command ("QUEUED", or an
 * error while queuing, which makes EXEC refuse the whole). */
static void
txn_queued_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct txn *t = priv;
	redisReply *reply = r;

	(void)ac;
	if (reply == NULL)
		t->lost = true;
	else if (reply->type == REDIS_REPLY_ERROR) {
		if (is_transient(reply))
			t->qtransient = true;
		if (t->qerr[0] == '\0')
			(void)str_copy(t->qerr, sizeof(t->qerr), reply->str);
	}
	txn_unref(t);
}

/* txn_send: one command of t's on the commit connection. */
static bool
txn_send(struct txn *t, redisCallbackFn *cb, int argc, const char **argv,
    const size_t *lens)
{
	if (rconn_cmd(t->c->tx, cb, t, argc, argv, lens) == -1)
		return false;
	t->refs++;
	return true;
}

static bool
batch_read(const struct batch *b)
{
	return b->st >= BS_PARKED && b->st <= BS_READY;
}

/*
 * txn_prepare: send the checks of the batch that commits next, once it
 * has been read (so that what another consumer reads after them comes
 * after it in the stream), unless they are out already. Called from
 * cons_pump, so at the latest when the batch is decided. A batch that
 * turns out to have dead letters goes as the script, and cons_commit
 * drops its checks (UNWATCH).
 */
void
txn_prepare(struct consumer *c)
{
	struct txn *t = c->txn_check;
	struct batch *b = NULL, *x;
	const char *lease, *group, *stream, *cstream;
	size_t i;

	if (c->freeing || !rconn_ready(c->tx))
		return;
	for (i = 0; i < NSLOTS; i++)
		if (c->b[i].st == BS_COMMIT && c->txn_exec == NULL)
			return;	/* a script commit is out: after it */
	/* The oldest batch read: the next to commit (a refused one is
	 * made the oldest again). */
	for (i = 0; i < NSLOTS; i++) {
		x = &c->b[i];
		if (batch_read(x) && (b == NULL || x->started < b->started))
			b = x;
	}
	if (t != NULL && !t->lost && b != NULL && t->slot == b->slot &&
	    t->gen == b->gen)
		return;		/* out for it already */
	txn_unwatch(c);		/* for a batch gone, or another, or lost */
	if (b == NULL)
		return;
	lease = owner_key(c->owner);
	group = b->cf->input_group;
	stream = b->kind == BK_EVENTS ? b->cf->input_stream : "";
	cstream = b->kind == BK_EVENTS ? c->cmd_key : "";
	t = xcalloc(1, sizeof(*t));
	t->c = c;
	t->slot = b->slot;
	t->gen = b->gen;
	t->checks = 1 + (stream[0] != '\0') + (cstream[0] != '\0');
	c->txn_check = t;
	c->check_since = now_wall();
	{
		const char *wa[] = { "WATCH", lease }, *ga[] = { "GET", lease };
		const char *pa[] = { "XPENDING", stream, group };
		const char *qa[] = { "XPENDING", cstream, group };

		if (!txn_send(t, txn_queued_cb, 2, wa, NULL) ||
		    !txn_send(t, txn_get_cb, 2, ga, NULL) ||
		    (stream[0] != '\0' &&
		    !txn_send(t, txn_pending_cb, 3, pa, NULL)) ||
		    (cstream[0] != '\0' &&
		    !txn_send(t, txn_pending_cb, 3, qa, NULL)))
			t->lost = true;	/* answered NULL, or never sent */
	}
	if (t->lost && t->refs == 0)
		t->checks = 0;
}

/* txn_result: the answer of t's EXEC. */
static void
txn_result(struct txn *t, const redisReply *r)
{
	struct consumer *c = t->c;
	struct batch *b = txn_batch(t, BS_COMMIT);

	c->tx_since = 0;
	if (b == NULL)
		return;		/* dropped meanwhile: its answer is moot */
	if (t->lost || r == NULL) {
		failed(c, b, NULL);	/* it may have run, or not */
		return;
	}
	if (r->type == REDIS_REPLY_NIL) {
		/* WATCH: the lease key changed after the GET (a renewal,
		 * most often); nothing was written. Again, with new checks:
		 * they tell whether the lease is still ours. */
		c->stats->rewatched++;
		b->st = BS_READY;
		b->started = 0;
		return;
	}
	if (r->type == REDIS_REPLY_ERROR &&
	    (is_transient(r) || t->qtransient)) {
		refused(c, b, t->qerr[0] ? t->qerr : r->str);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR && t->qerr[0]) {
		log_warnx("commit of %zu entries (%s .. %s): Redis refused one "
		    "of its commands while queuing it (%s); nothing of it was "
		    "written", b->n, b->n > 0 ? b->v[0].id : "-",
		    b->n > 0 ? b->v[b->n - 1].id : "-", t->qerr);
		failed(c, b, r);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		failed(c, b, r);
		return;
	}
	written(c, b, r, true);
	batch_free_slot(c, b);
}

static void
txn_exec_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct txn *t = priv;
	struct consumer *c = t->c;

	(void)ac;
	if (r == NULL)
		t->lost = true;
	if (c->txn_exec == t)
		c->txn_exec = NULL;
	if (!c->freeing) {
		txn_result(t, r);
		txn_prepare(c);
	}
	txn_unref(t);
	if (!c->freeing)
		cons_pump(c);
}

/* txn_ack: XACK stream group ids into out, unless there are none;
 * the commands added. */
static size_t
txn_ack(struct buf *out, const char *stream, const char *group,
    const struct args *ids)
{
	size_t i;

	if (ids->n == 0)
		return 0;
	resp_head(out, '*', ids->n + 3);
	resp_str(out, "XACK");
	resp_str(out, stream);
	resp_str(out, group);
	for (i = 0; i < ids->n; i++)
		resp_bulk(out, ids->v[i], ids->l[i]);
	return 1;
}

/* txn_writes: MULTI, b's writes (as they are) and its XACKs, sent at
 * once, each answered to txn_queued_cb. */
static bool
txn_writes(struct txn *t, struct batch *b, const char *stream,
    const char *cstream, const char *group)
{
	static struct buf head, acks;	/* the daemon is one thread */
	const struct buf *parts[3];
	size_t n;

	if (head.len == 0) {
		resp_head(&head, '*', 1);
		resp_str(&head, "MULTI");
	}
	if (acks.cap > 64 * 1024)
		buf_free(&acks);
	buf_reset(&acks);
	n = 1 + b->cm.cmds.n;
	n += txn_ack(&acks, stream, group, &b->cm.ids);
	n += txn_ack(&acks, cstream, group, &b->cm.cids);
	parts[0] = &head;
	parts[1] = &b->cm.cmds.resp;
	parts[2] = &acks;
	if (rconn_cmds(t->c->tx, txn_queued_cb, t, parts, 3, n) == -1)
		return false;
	t->refs += n;
	return true;
}

/*
 * txn_commit: b is decided and the commit before it answered. Its checks
 * out and answered: fenced or foreign, as the script would say; else its
 * writes go, MULTI to EXEC in one piece. Not answered yet: their last
 * answer pumps again.
 */
static void
txn_commit(struct consumer *c, struct batch *b)
{
	struct txn *t;
	const char *group = b->cf->input_group;
	const char *stream = b->kind == BK_EVENTS ? b->cf->input_stream : "";
	const char *cstream = b->kind == BK_EVENTS ? c->cmd_key : "";
	const char *ea[] = { "EXEC" };
	bool ok;

	txn_prepare(c);
	t = c->txn_check;
	if (t == NULL || txn_batch(t, BS_READY) != b) {
		if (!rconn_ready(c->tx))
			cons_fail(c, b, false, "redis not connected");
		return;		/* the checks go out when they can */
	}
	if (t->lost) {
		txn_unwatch(c);
		cons_fail(c, b, false, "connection lost");
		return;
	}
	if (t->checks > 0)
		return;		/* their last answer pumps */
	if (t->checkerr) {
		char why[sizeof(t->qerr)];

		(void)str_copy(why, sizeof(why), t->qerr);
		txn_unwatch(c);
		cons_fail(c, b, true, why);
		return;
	}
	if (!t->lease_ok || t->other[0] != '\0') {
		char other[sizeof(t->other)];

		(void)str_copy(other, sizeof(other), t->other);
		ok = t->lease_ok;
		txn_unwatch(c);
		if (!ok)
			fenced(c, b);
		else
			foreign(c, b, other);
		return;
	}
	c->txn_check = NULL;
	c->check_since = 0;
	c->txn_exec = t;
	b->st = BS_COMMIT;
	c->tx_since = now_wall();
	ok = txn_writes(t, b, stream, cstream, group) &&
	    txn_send(t, txn_exec_cb, 1, ea, NULL);
	if (!ok) {
		/* The connection is going (rconn_cmd fails only then): no
		 * EXEC went, so nothing runs; what went is answered NULL. */
		t->lost = true;
		c->txn_exec = NULL;
		c->tx_since = 0;
		txn_free_if_done(t);
		cons_fail(c, b, false, "connection lost");
		return;
	}
	txn_prepare(c);		/* the next batch's checks, if it was read */
}

void
cons_txn_free(struct consumer *c)
{
	struct txn *t;

	if ((t = c->txn_check) != NULL) {
		c->txn_check = NULL;
		txn_free_if_done(t);
	}
	if ((t = c->txn_exec) != NULL) {
		c->txn_exec = NULL;
		txn_free_if_done(t);
	}
}

void
cons_commit(struct consumer *c, struct batch *b)
{
	struct reply_ctx *x;
	const struct buf *all;
	double now = now_wall();

	if (now < c->resend_hold || c->txn_exec != NULL)
		return;		/* kicked when due; pumped at its end */
	if (!owner_active(c->owner)) {
		cons_kick(c, 50);	/* the renewal decides */
		return;
	}
	if (b->cm.nguards == 0) {
		txn_commit(c, b);
		return;
	}
	if (c->txn_check != NULL && txn_batch(c->txn_check, BS_READY) == b)
		txn_unwatch(c);
	if (b->cm.all.len == 0)
		commit_args(&b->cm, c->sha_apply, owner_key(c->owner),
		    owner_token(c->owner), b->cf->input_group, c->name,
		    b->kind == BK_EVENTS ? b->cf->input_stream : "",
		    b->kind == BK_EVENTS ? c->cmd_key : "");
	x = reply_ctx(c, b, 0);
	b->st = BS_COMMIT;
	all = &b->cm.all;
	if (rconn_cmds(c->wr, commit_cb, x, &all, 1, 1) == -1) {
		free(x);
		cons_fail(c, b, false, "redis not connected");
		return;
	}
	c->wr_since = now;
}
