/*
 * consumer.c — the input stream, decided by the one owner (consumer.h):
 * the life cycle, the connections and timers, the owner's phases, and
 * the scheduler (cons_pump) that hands each batch from stage to stage.
 *
 * Phases. A standby only keeps its lease attempts going (owner.c). The
 * daemon that takes the lease drops whatever it had cached (SETUP: loads
 * the apply script, makes sure the group exists on the input stream and
 * on the command stream), makes every pending entry of the group its own
 * (CLAIM: XAUTOCLAIM JUSTID from 0-0, whoever held them: a dead owner's
 * entries are taken here, at once, not after an idle time), decides them
 * in ID order (HISTORY: XREADGROUP of its own pending entries) and then
 * reads new ones (LIVE: ">"). So the stream is decided in stream order,
 * also across a takeover.
 *
 * People's commands (command.h: ack, resolve) come in on the command
 * stream <prefix>commands, read by the same XREADGROUP as the input
 * stream (so a command wakes a blocked read at once), in the same
 * group, claimed and re-read like input entries; a batch decides its
 * events, then its commands, and commits both with their answers. So a
 * case has one writer, the owner, and its cache is never stale.
 *
 * Batches. Four slots (NSLOTS): while batch k's commit is out, batch
 * k+1 is loaded and decided on top of k's (not yet committed) state, and,
 * live, batches k+2 and k+3 are read ahead: their entries wait
 * (BS_PARKED) until every batch read before is decided, so that their
 * loads see what those decided. The second read ahead goes out only
 * while the batches in flight hold less than one read's byte budget
 * (read_ahead): the entries in flight stay under two reads' budgets
 * then, and under three otherwise, as with three slots. A decided batch's
 * commit is held while the batch after it is being loaded (held()):
 * Redis runs a transaction whole, so the loads would wait behind it, and
 * the daemon with them; sent once they are answered, it runs in Redis
 * while the daemon decides (decide_cb). Both only while batches are a
 * quarter of a read's COUNT or more (the stream backed up): for small
 * ones they only add round trips. Measured side by side: +14% on the
 * example rules' drain, +3% stateless (issue 9). A commit goes out
 * once the one before has landed. Commits are applied strictly in order;
 * if k's fails (fenced, outcome unknown), k+1 is dropped too, with the
 * cache, and the pending entries are read again (a "resync": by then
 * nothing is in flight). A refusal Redis gives for the moment (OOM,
 * BUSY, LOADING, ...) is retried after a backoff (100 ms doubling to
 * 5 s) and never counts towards input.max_deliveries.
 *
 * Everything runs on the libevent loop; every Redis callback handles
 * reply == NULL (outcome unknown: the connection went away).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "consumer.h"
#include "alertcmd.h"
#include "consumer_int.h"
#include "engine.h"
#include "log.h"
#include "redis.h"
#include "scripts.h"
#include "util.h"

/* --- helpers ----------------------------------------------------------- */

void
cons_kick(struct consumer *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->kick, &tv);
}

int
cons_send(struct rconn *rc, redisCallbackFn *cb, void *priv, int argc,
    const char **argv, const size_t *lens)
{
	size_t l[64];
	int i;

	if (lens == NULL) {
		for (i = 0; i < argc && i < 64; i++)
			l[i] = strlen(argv[i]);
		lens = l;
	}
	return rconn_cmd(rc, cb, priv, argc, argv, lens);
}

bool
is_transient(const redisReply *r)
{
	static const char *const pfx[] = { "OOM", "BUSY", "LOADING",
	    "READONLY", "MASTERDOWN", "NOREPLICAS", "TRYAGAIN",
	    "CLUSTERDOWN", "NOSCRIPT" };
	size_t i, l;

	if (r == NULL || r->type != REDIS_REPLY_ERROR || r->str == NULL)
		return false;
	for (i = 0; i < ARRAY_LEN(pfx); i++) {
		l = strlen(pfx[i]);
		if (strncmp(r->str, pfx[i], l) == 0 &&
		    (r->str[l] == ' ' || r->str[l] == '\0'))
			return true;
	}
	return false;
}

static bool
busy(const struct batch *b)
{
	return b->st >= BS_READ && b->st <= BS_DECIDE;
}

void
batch_free_slot(struct consumer *c, struct batch *b)
{
	cons_batch_end(c, b);
	b->gen++;
	b->st = BS_FREE;
	b->n = 0;
}

/* drop: forget batch b; its entries are pending for us and will be
 * read again, which counts as a delivery only when counts (the batch
 * itself failed, not Redis or the daemon). */
static void
drop(struct consumer *c, struct batch *b, bool counts)
{
	size_t i;

	if (b->st == BS_FREE)
		return;
	if (b->kind == BK_EVENTS && b->st != BS_READ && !counts)
		for (i = 0; i < b->n; i++)
			redelivered(c, b->v[i].id);
	batch_free_slot(c, b);
}

static int
next_backoff(struct consumer *c)
{
	int ms = c->backoff_ms;

	c->backoff_ms = c->backoff_ms < RETRY_MIN_MS ? RETRY_MIN_MS * 2 :
	    c->backoff_ms * 2;
	if (c->backoff_ms > RETRY_MAX_MS)
		c->backoff_ms = RETRY_MAX_MS;
	return ms < RETRY_MIN_MS ? RETRY_MIN_MS : ms;
}

void
cons_fail(struct consumer *c, struct batch *b, bool counts, const char *why)
{
	int ms = next_backoff(c);
	size_t i;

	if (counts) {
		c->stats->commit_failures++;
		log_warnx("batch of %zu entries failed (%s); their entries stay "
		    "pending and are decided again in %d ms, the try counting "
		    "as a delivery", b->n, why, ms);
	} else {
		c->stats->retries++;
		log_warnx("batch of %zu entries not committed (%s); deciding "
		    "them again in %d ms", b->n, why, ms);
	}
	/* Whatever came after b was decided on top of it. */
	for (i = 0; i < NSLOTS; i++)
		if (&c->b[i] != b && c->b[i].st != BS_FREE &&
		    c->b[i].st != BS_COMMIT)
			drop(c, &c->b[i], counts);
	drop(c, b, counts);
	c->resync = true;
	c->resync_at = now_wall() + ms / 1000.0;
	cons_pump(c);
}

void
cons_drop_all(struct consumer *c)
{
	size_t i;

	for (i = 0; i < NSLOTS; i++)
		batch_free_slot(c, &c->b[i]);
	c->wr_since = 0;
	c->nredeliv = 0;
	store_drop(c->store);
	c->resync = c->reclaim = false;
}

static struct batch *
slot_at(struct consumer *c, enum bstage st)
{
	size_t i;

	for (i = 0; i < NSLOTS; i++)
		if (c->b[i].st == st)
			return &c->b[i];
	return NULL;
}

/* --- setup (the owner's first step) -------------------------------------- */

void
cons_setup_done(struct consumer *c)
{
	if (c->phase != PH_SETUP || !c->loading || !c->scripts_ready ||
	    !c->group_ready || !c->cgroup_ready || !c->watch_ready)
		return;
	if (!cons_silence_read(c)) {
		cons_silence_poll(c);	/* its answer calls us again */
		return;
	}
	c->loading = false;
	c->claim_cmds = false;
	c->phase = PH_CLAIM;
	snprintf(c->claim_cursor, sizeof(c->claim_cursor), "0-0");
	cons_pump(c);
}

static void
setup_failed(struct consumer *c, const char *what, const redisReply *r)
{
	if (r != NULL)
		log_warnx("%s: %s", what, r->type == REDIS_REPLY_ERROR ?
		    r->str : "unexpected reply");
	snprintf(c->health, sizeof(c->health), "%s failed", what);
	c->loading = false;
	cons_kick(c, next_backoff(c));
}

static void
script_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;

	(void)ac;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_STRING) {
		(void)str_copy(c->sha_apply, sizeof(c->sha_apply), reply->str);
		c->scripts_ready = true;
	}
}

/* group_cb: priv is the flag to set: the input stream's group or the
 * command stream's. */
static void
group_cb(redisAsyncContext *ac, void *r, void *priv)
{
	bool *ready = priv;
	redisReply *reply = r;

	(void)ac;
	if (reply != NULL && (reply->type != REDIS_REPLY_ERROR ||
	    strncmp(reply->str, "BUSYGROUP", 9) == 0))
		*ready = true;
	else if (reply != NULL)
		log_warnx("XGROUP CREATE: %s", reply->str);
}

static void
cgroup_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;

	group_cb(ac, r, &c->cgroup_ready);
}

static void
ignore_cb(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	(void)r;
	(void)priv;
}

/* watch_cb: the customers waiting for an outcome (store.h: the watch
 * set), before anything is decided; the last reply of the setup. */
static void
watch_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;
	size_t i;

	(void)ac;
	if (c->phase != PH_SETUP)
		return;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < reply->elements; i++)
			if (reply->element[i]->type == REDIS_REPLY_STRING)
				store_watch_load(c->store,
				    reply->element[i]->str,
				    reply->element[i]->len);
		c->watch_ready = true;
	}
	if (!c->scripts_ready || !c->group_ready || !c->cgroup_ready ||
	    !c->watch_ready) {
		setup_failed(c, "owner setup (script, consumer groups, "
		    "outcomes pending)", reply);
		return;
	}
	cons_setup_done(c);
}

/*
 * setup: four pipelined commands on the write connection; the last
 * reply decides.
 */
static void
setup(struct consumer *c)
{
	const char *sa[] = { "SCRIPT", "LOAD", script_apply };
	const char *ga[] = { "XGROUP", "CREATE", c->cf->input_stream,
	    c->cf->input_group, "0", "MKSTREAM" };
	const char *ca[] = { "XGROUP", "CREATE", c->cmd_key,
	    c->cf->input_group, "0", "MKSTREAM" };
	struct buf wk;
	const char *wa[4], *pa[4];
	char old[32];

	buf_init(&wk);
	wa[0] = "ZRANGE";
	wa[1] = store_watch_key(c->store, &wk);
	wa[2] = "0";
	wa[3] = "-1";
	/* customers whose outcome deadline passed a day ago: decided, or
	 * their case expired first */
	snprintf(old, sizeof(old), "(%lld", (long long)(now_wall() * 1000) -
	    86400000LL);
	pa[0] = "ZREMRANGEBYSCORE";
	pa[1] = wa[1];
	pa[2] = "-inf";
	pa[3] = old;
	c->loading = true;
	c->scripts_ready = c->group_ready = c->cgroup_ready = false;
	c->watch_ready = false;
	cons_silence_poll(c);		/* the first time: before deciding */
	if (cons_send(c->wr, script_cb, c, 3, sa, NULL) == -1 ||
	    cons_send(c->wr, group_cb, &c->group_ready, 6, ga, NULL) == -1 ||
	    cons_send(c->wr, cgroup_cb, c, 6, ca, NULL) == -1 ||
	    cons_send(c->wr, ignore_cb, c, 4, pa, NULL) == -1 ||
	    cons_send(c->wr, watch_cb, c, 4, wa, NULL) == -1)
		c->loading = false;	/* the connection callback retries */
	buf_free(&wk);
}

/* --- the scheduler ------------------------------------------------------- */

static void
finish_stop(struct consumer *c)
{
	void (*done)(void *) = c->done;

	if (done == NULL)
		return;
	c->done = NULL;
	done(c->done_arg);
}

static void
released(void *arg)
{
	finish_stop(arg);
}

/* budget_config: what the consumer derives from its configuration's
 * input settings: the resolved past skew, the byte budget, the COUNT. */
static void
budget_config(struct consumer *c)
{
	c->past_skew_ms = state_past_skew_ms(c->cf);
	c->cap.budget = (size_t)c->cf->batch_bytes;
	if (c->read_count <= 0 || c->read_count > c->cf->input_batch)
		c->read_count = c->cf->input_batch;
}

static struct store *
new_store(const struct config *cf)
{
	struct store_opts so;

	store_opts_init(&so, cf);
	so.backed = true;
	so.max_entities = (size_t)cf->state_cache;
	so.appends = true;	/* a hot key commits its new records only */
	return store_new(&so);
}

/*
 * apply_config: swap in a reloaded configuration, only when no batch is
 * past its read (cons_pump starts none while one waits; a read that is
 * out takes the configuration of the moment its reply arrives: hiredis
 * has copied its arguments), so that a batch is judged by one rule set
 * from start to end and an event that arrives after the reload by the
 * new one; the store follows (the channels its step signatures name).
 */
static void
apply_config(struct consumer *c)
{
	struct config *old = c->cf;
	size_t i;

	if (c->next_cf == NULL || c->loading)
		return;
	for (i = 0; i < NSLOTS; i++)
		if (c->b[i].st != BS_FREE && c->b[i].st != BS_READ)
			return;
	c->cf = c->next_cf;
	for (i = 0; i < NSLOTS; i++)
		c->b[i].cf = c->cf;
	c->next_cf = NULL;
	snprintf(c->outbox_key, sizeof(c->outbox_key), "%soutbox",
	    c->cf->state_prefix);
	snprintf(c->defer_key, sizeof(c->defer_key), "%s" DEFER_SUFFIX,
	    c->cf->state_prefix);
	snprintf(c->cmd_key, sizeof(c->cmd_key), "%scommands",
	    c->cf->state_prefix);
	c->enrich = engine_reads_prefix(c->cf, "customer.") ||
	    config_has_contact(c->cf);
	budget_config(c);
	owner_set_lease(c->owner, c->cf->ha_lease_ms);
	store_set_config(c->store, c->cf);
	if (c->release != NULL)
		c->release(old);
}

/* backed_up: b is a quarter of a read's COUNT or more: the stream is
 * backed up, so reading ahead and holding a commit (below) pay; for a
 * small batch they only add round trips (measured: p99 at 2,000
 * events/s 1.1 -> 1.7 ms when every batch was held, and the HTTP
 * intake, which shares the thread, 10% down with every read ahead). */
static bool
backed_up(const struct consumer *c, const struct batch *b)
{
	return b->n >= (size_t)c->read_count / 4;
}

bool
cons_undecided(const struct consumer *c, const struct batch *b)
{
	size_t i;

	for (i = 0; i < NSLOTS; i++)
		if (&c->b[i] != b && c->b[i].st >= BS_PARKED &&
		    c->b[i].st <= BS_DECIDE && c->b[i].started < b->started)
			return true;
	return false;
}

/* any_busy: a batch is being read, loaded or decided. */
static bool
any_busy(const struct consumer *c)
{
	size_t i;

	for (i = 0; i < NSLOTS; i++)
		if (busy(&c->b[i]))
			return true;
	return false;
}

/*
 * read_ahead: live, a new read may go out while other batches are still
 * being loaded or decided, as long as no other read is out and at most
 * one batch is parked: its entries are parsed when they come and wait
 * (BS_PARKED) for the batches before to be decided. Only behind batches
 * backed_up: behind a small one the read would only split what comes
 * into more, smaller batches, each with its round trips. The second
 * batch ahead (one parked already) only while those in flight hold less
 * than a read's byte budget: a stream of large entries keeps to the
 * memory of three slots. Measured side by side (20 stateless rules,
 * 400,000 events, four rounds): one batch ahead 260,257-266,590
 * events/s, two 277,810-299,864; the example rules +3%, a drain of
 * low-CSAT events (Redis busy) within the noise; peak RSS +1-2 MiB.
 */
static bool
read_ahead(const struct consumer *c)
{
	const struct batch *x;
	size_t i, parked = 0, bytes = 0;

	if (c->phase != PH_LIVE || c->esc_wanted)
		return false;	/* (the steps wait for nothing busy) */
	for (i = 0; i < NSLOTS; i++) {
		x = &c->b[i];
		if (x->st == BS_FREE)
			continue;
		bytes += x->bytes;
		if (x->st == BS_PARKED && parked++ == 0)
			continue;
		if (x->st == BS_READ || x->st == BS_PARKED ||
		    x->kind == BK_STEPS)
			return false;
		if (busy(x) && !backed_up(c, x))
			return false;
	}
	return parked == 0 || bytes < c->cap.budget;
}

/* start_next: the next batch (or setup/claim step) if a slot is free
 * and no other batch is being read or decided (live: read_ahead). */
static void
start_next(struct consumer *c)
{
	struct batch *b = NULL;
	size_t i;

	if (c->stopping || c->loading || (any_busy(c) && !read_ahead(c)))
		return;
	if (c->next_cf != NULL)
		return;		/* waits for the slots to empty */
	if (!rconn_ready(c->rd) || !rconn_ready(c->wr) || !rconn_ready(c->tx))
		return;		/* the state callbacks call us again */
	if (!owner_active(c->owner)) {
		cons_kick(c, 50);	/* a late renewal may still come */
		return;
	}
	switch (c->phase) {
	case PH_STANDBY:
		return;
	case PH_SETUP:
		/* A commit still out on the commit connection (this one's
		 * may have gone down alone) may yet ack what the claim and
		 * the history would read again: after its answer. */
		if (c->txn_exec == NULL)
			setup(c);
		return;
	case PH_CLAIM:
		cons_claim(c);
		return;
	case PH_HISTORY:
	case PH_LIVE:
		break;
	}
	for (i = 0; i < NSLOTS && b == NULL; i++)
		if (c->b[i].st == BS_FREE)
			b = &c->b[i];
	if (b == NULL)
		return;
	b->cf = c->cf;
	if (c->esc_wanted && c->phase == PH_LIVE && !any_busy(c)) {
		for (i = 0; i < NSLOTS; i++)
			if (c->b[i].kind == BK_STEPS && c->b[i].st != BS_FREE)
				break;
		if (i == NSLOTS) {
			c->esc_wanted = false;
			cons_steps(c, b);
			return;
		}
	}
	cons_read(c, b);
}

/* resync: nothing in flight any more: drop the cache and what was read
 * but not committed, and read our pending entries again from the start
 * (after claiming everyone's, when another consumer held some). */
static void
resync(struct consumer *c)
{
	size_t i;

	for (i = 0; i < NSLOTS; i++)
		drop(c, &c->b[i], false);
	store_drop(c->store);
	c->phase = c->reclaim ? PH_CLAIM : PH_HISTORY;
	snprintf(c->claim_cursor, sizeof(c->claim_cursor), "0-0");
	snprintf(c->hist_pos, sizeof(c->hist_pos), "0");
	snprintf(c->cmd_pos, sizeof(c->cmd_pos), "0");
	c->claim_cmds = false;
	c->resync = c->reclaim = false;
	c->sweep_at = 0;
}

/* oldest: the batch in stage st that started first (a refused commit's
 * is made the oldest), or NULL. */
static struct batch *
oldest(struct consumer *c, enum bstage st)
{
	struct batch *b = NULL;
	size_t i;

	for (i = 0; i < NSLOTS; i++)
		if (c->b[i].st == st && (b == NULL ||
		    c->b[i].started < b->started))
			b = &c->b[i];
	return b;
}

/* resume_parked: a parked batch goes on once no batch before it is
 * still being loaded or decided (its loads read what they decided). */
static void
resume_parked(struct consumer *c)
{
	struct batch *p = oldest(c, BS_PARKED);

	if (p != NULL && !cons_undecided(c, p))
		cons_counts(c, p);
}

/*
 * held: b is decided and could commit, but the batch after it is being
 * loaded: its loads are answered first. Redis runs a transaction whole,
 * answering nothing else meanwhile; sent now, the commit would make the
 * next batch's loads wait for it, and the daemon would wait with them.
 * Held for the loads' round trip, the commit runs while the next batch
 * is decided (decide_cb sends it first). A batch still being read is
 * not waited for: a live read may block for a second. Nor is a batch
 * that is not backed_up: its commit costs Redis little, and holding it
 * would only add the loads' round trip to its events' latency.
 */
static bool
held(const struct consumer *c, const struct batch *b)
{
	const struct batch *next = NULL, *x;
	size_t i;

	if (!backed_up(c, b))
		return false;
	for (i = 0; i < NSLOTS; i++) {
		x = &c->b[i];
		if (x != b && x->st != BS_FREE && x->st != BS_COMMIT &&
		    x->started > b->started &&
		    (next == NULL || x->started < next->started))
			next = x;
	}
	return next != NULL && next->st >= BS_PARKED && next->st <= BS_LOAD;
}

void
cons_pump(struct consumer *c)
{
	struct batch *b;
	double now = now_wall();

	apply_config(c);
	if (c->phase == PH_STANDBY || c->released) {
		if (c->stopping)
			finish_stop(c);
		return;
	}
	if (c->sweep_at > 0 && now >= c->sweep_at && !c->resync) {
		c->resync = true;
		c->resync_at = now;
	}
	if (c->resync && slot_at(c, BS_COMMIT) == NULL && !c->loading &&
	    c->txn_exec == NULL) {
		if (now < c->resync_at) {
			cons_kick(c, (int)((c->resync_at - now) * 1000) + 1);
			return;
		}
		/* A read or load still out is dropped: its late replies
		 * are ignored (generation). */
		resync(c);
	}
	/*
	 * The next read goes out before the commit: Redis answers it first
	 * and the batch is read while the commit runs. Then a parked batch
	 * goes on, once the one before it is decided.
	 */
	if (!c->resync && !c->stopping)
		start_next(c);
	if (!c->resync)
		resume_parked(c);
	if (slot_at(c, BS_COMMIT) == NULL && !c->resync) {
		b = oldest(c, BS_READY);
		if (b != NULL && !held(c, b))
			cons_commit(c, b);
	}
	if (c->stopping) {
		size_t i;

		for (i = 0; i < NSLOTS; i++)
			if (c->b[i].st != BS_FREE)
				break;
		if (i == NSLOTS && !c->loading) {
			c->released = true;
			owner_release(c->owner, released, c);
		}
		return;
	}
	if (!c->resync)
		start_next(c);
	txn_prepare(c);
}

/* --- the owner's role ---------------------------------------------------- */

static void
role_cb(void *arg, bool held)
{
	struct consumer *c = arg;

	cons_drop_all(c);
	c->loading = false;
	if (held) {
		c->phase = PH_SETUP;
		c->backoff_ms = 0;
	} else
		c->phase = PH_STANDBY;
	cons_pump(c);
}

/* --- timers and connection state --------------------------------------- */

/*
 * decide_cb: the loaded batch's turn, once the loop has run the replies
 * that came with its loads' (the commit before it answered, most
 * often). The commit it held goes first, so that Redis runs it while
 * the batch is decided.
 */
static void
decide_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct consumer *c = arg;
	struct batch *b = slot_at(c, BS_DECIDE);
	unsigned gen;

	(void)fd;
	(void)ev;
	if (b == NULL)
		return;
	gen = b->gen;
	cons_pump(c);
	if (b->st == BS_DECIDE && b->gen == gen)
		cons_decide(c, b);
}

static void
kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	cons_pump(arg);
}

static void
esc_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct consumer *c = arg;

	(void)fd;
	(void)ev;
	if (c->phase == PH_LIVE) {
		c->esc_wanted = true;
		cons_pump(c);
	}
}

static void
lag_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;
	size_t i, j;

	(void)ac;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY)
		return;
	/* XINFO GROUPS: one flat [name, value, ...] array per group. */
	for (i = 0; i < reply->elements; i++) {
		redisReply *g = reply->element[i];
		bool ours = false;
		long long lag = -1;
		for (j = 0; j + 1 < g->elements; j += 2) {
			const char *k = g->element[j]->str;
			redisReply *v = g->element[j + 1];
			if (k == NULL)
				continue;
			if (strcmp(k, "name") == 0 && v->str != NULL)
				ours = strcmp(v->str, c->cf->input_group) == 0;
			else if (strcmp(k, "lag") == 0)
				lag = v->type == REDIS_REPLY_INTEGER ?
				    v->integer : -1;
		}
		if (ours)
			c->stats->stream_lag = lag;
	}
}

static void
open_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;

	(void)ac;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_INTEGER)
		c->stats->cases_open = reply->integer;
}

static void
overdue_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;

	(void)ac;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_INTEGER)
		c->stats->cases_overdue = reply->integer;
}

static void
publish_cb(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	(void)r;
	(void)priv;
}

/* publish: the figures for "recoveryctl stats", in a hash that expires
 * when the daemon stops refreshing it. Best effort: a lost reply is made
 * good by the next tick. */
static void
publish(struct consumer *c)
{
	char key[400];
	const char *ea[] = { "EXPIRE", key, "30" };

	snprintf(key, sizeof(key), "%sdaemon:%s", c->cf->state_prefix,
	    c->name);
	c->pub.n = 0;
	arena_reset(&c->pub_arena);
	metrics_publish_args(c->stats, c->mi, key, &c->pub, &c->pub_arena);
	args_str(&c->pub, "role");
	args_str(&c->pub, c->stats->owner ? "owner" : "standby");
	if (rconn_cmd(c->wr, publish_cb, c, (int)c->pub.n, c->pub.v,
	    c->pub.l) == 0)
		(void)cons_send(c->wr, publish_cb, c, 3, ea, NULL);
}

/*
 * Housekeeping of the case index: <prefix>cases lists every case by its
 * opening time; a resolved case's hash expires after 30 days, its member
 * stays. The owner looks at up to 16 members older than 31 days per tick
 * and removes those whose hash is gone (an expired case never comes back:
 * case IDs are entry IDs).
 */
struct gone {
	struct consumer	*c;
	char		 id[ENGINE_ID_MAX];
};

static void
gone_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct gone *g = priv;
	redisReply *reply = r;
	char key[300];
	const char *argv[] = { "ZREM", key, g->id };

	(void)ac;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_INTEGER &&
	    reply->integer == 0) {
		snprintf(key, sizeof(key), "%scases", g->c->cf->state_prefix);
		(void)cons_send(g->c->wr, publish_cb, g->c, 3, argv, NULL);
	}
	free(g);
}

static void
old_cases_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;
	char key[ENGINE_ID_MAX + 300];
	const char *argv[] = { "EXISTS", key };
	struct gone *g;
	size_t i;

	(void)ac;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < reply->elements; i++) {
		const redisReply *m = reply->element[i];

		if (m->type != REDIS_REPLY_STRING || m->len >= ENGINE_ID_MAX)
			continue;
		g = xmalloc(sizeof(*g));
		g->c = c;
		(void)str_copy(g->id, sizeof(g->id), m->str);
		snprintf(key, sizeof(key), "%scase:%s", c->cf->state_prefix,
		    m->str);
		if (cons_send(c->wr, gone_cb, g, 2, argv, NULL) == -1)
			free(g);
	}
}

static void
housekeeping(struct consumer *c)
{
	char key[300], max[32];
	const char *argv[] = { "ZRANGEBYSCORE", key, "-inf", max, "LIMIT",
	    "0", "16" };

	snprintf(key, sizeof(key), "%scases", c->cf->state_prefix);
	snprintf(max, sizeof(max), "%.0f", now_wall() * 1000 -
	    31.0 * 86400000);
	(void)cons_send(c->wr, old_cases_cb, c, 7, argv, NULL);
}

/*
 * cache_check: the cache's figures into the stats; and when, over
 * CACHE_WINDOW_S, entities were evicted while loads of entities that
 * held a value came to over a tenth of the events (and at least
 * CACHE_WARN_LOADS), state.cache is smaller than what the rules keep in
 * use: each such event waits for Redis and decodes its state again.
 * Said at most once an hour.
 */
#define CACHE_WINDOW_S		10
#define CACHE_WARN_LOADS	100
static void
cache_check(struct consumer *c, double now)
{
	struct store_counts sc;
	struct stats *s = c->stats;
	uint64_t events, dl, de, dev;

	/* The store's counts only grow (it is made once, with the
	 * consumer); should they ever restart from 0, the totals go on
	 * from there rather than run backwards. */
	store_counts(c->store, &sc);
	if (sc.loaded < c->cache_seen.loaded ||
	    sc.evicted < c->cache_seen.evicted)
		memset(&c->cache_seen, 0, sizeof(c->cache_seen));
	s->cache_entities = sc.entities;
	s->cache_loaded += sc.loaded - c->cache_seen.loaded;
	s->cache_evicted += sc.evicted - c->cache_seen.evicted;
	c->cache_seen = sc;
	if (now - c->cache_at < CACHE_WINDOW_S)
		return;
	events = s->events_rating + s->events_call + s->events_complaint +
	    s->events_other;
	dl = s->cache_loaded - c->cache_loaded;
	de = s->cache_evicted - c->cache_evicted;
	dev = events - c->cache_events;
	if (de > 0 && dl >= CACHE_WARN_LOADS &&
	    dl * 10 >= dev && now - c->cache_warned >= 3600) {
		c->cache_warned = now;
		log_warnx("state.cache (%ld entities) is too small for what "
		    "the rules keep: in the last %d s %llu entities were "
		    "evicted and %llu loaded again from Redis for %llu events; "
		    "raise state.cache (up to about 1 KB of memory an entity; "
		    "see recoveryd_state_cache_entities)", c->cf->state_cache,
		    CACHE_WINDOW_S, (unsigned long long)de,
		    (unsigned long long)dl, (unsigned long long)dev);
	}
	c->cache_at = now;
	c->cache_loaded = s->cache_loaded;
	c->cache_evicted = s->cache_evicted;
	c->cache_events = events;
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct consumer *c = arg;
	double now = now_wall();

	(void)fd;
	(void)ev;
	/* Watchdogs: a read or write unanswered far past its due time
	 * means a silent connection; drop it and reconnect. */
	if (c->read_sent > 0 &&
	    now - c->read_sent > READ_BLOCK_MS / 1000.0 + SILENCE_GRACE_S) {
		c->read_sent = 0;
		rconn_drop(c->rd, "read unanswered");
	}
	if (c->wr_since > 0 && now - c->wr_since > 2 * SILENCE_GRACE_S) {
		c->wr_since = 0;
		rconn_drop(c->wr, "write unanswered");
	}
	if ((c->tx_since > 0 && now - c->tx_since > 2 * SILENCE_GRACE_S) ||
	    (c->check_since > 0 && now - c->check_since > 2 * SILENCE_GRACE_S)) {
		c->tx_since = c->check_since = 0;
		rconn_drop(c->tx, "commit unanswered");
	}
	if (c->stopping && c->stop_at > 0 && now > c->stop_at) {
		log_warnx("could not finish the batch in flight within the "
		    "stop timeout; its entries stay pending");
		c->stop_at = 0;
		c->released = true;
		owner_release(c->owner, released, c);
		return;
	}
	c->stats->redis_reconnects = rconn_reconnects(c->rd) +
	    rconn_reconnects(c->wr) + rconn_reconnects(c->tx);
	cache_check(c, now);
	if (now - c->last_stats >= STATS_PERIOD_S && rconn_ready(c->wr)) {
		const char *xa[] = { "XINFO", "GROUPS", c->cf->input_stream };
		char key[300];
		const char *za[] = { "ZCARD", key };
		char dkey[300], nows[32];
		const char *da[] = { "ZCOUNT", dkey, "-inf", nows };
		c->last_stats = now;
		snprintf(key, sizeof(key), "%scases:open", c->cf->state_prefix);
		snprintf(dkey, sizeof(dkey), "%scases:due", c->cf->state_prefix);
		snprintf(nows, sizeof(nows), "(%lld", (long long)(now * 1000));
		(void)cons_send(c->wr, lag_cb, c, 3, xa, NULL);
		(void)cons_send(c->wr, open_cb, c, 2, za, NULL);
		(void)cons_send(c->wr, overdue_cb, c, 4, da, NULL);
		if (c->mi != NULL)
			publish(c);
	}
	if (c->phase == PH_LIVE && rconn_ready(c->wr))
		housekeeping(c);
	cons_pump(c);
}

static void
conn_state(struct rconn *rc, bool up, void *arg)
{
	struct consumer *c = arg;

	if (up) {
		c->health[0] = '\0';
		if (c->phase != PH_STANDBY && rc == c->wr) {
			/* Redis may be a new one: set up again. */
			cons_drop_all(c);
			c->loading = false;
			c->phase = PH_SETUP;
		}
		cons_pump(c);
		return;
	}
	snprintf(c->health, sizeof(c->health), "redis %s connection lost",
	    rc == c->rd ? "read" : rc == c->wr ? "write" : "commit");
	if (rc == c->rd)
		c->read_sent = 0;
	else if (rc == c->wr)
		c->wr_since = 0;
	else
		c->tx_since = c->check_since = 0;
	/* A batch waiting on the lost connection fails by its NULL
	 * replies; setup waits for the connection to come back. */
	if (rc == c->wr)
		c->loading = false;
}

/* --- public ------------------------------------------------------------ */

struct consumer *
consumer_new(struct event_base *base, struct config *cf, const char *name,
    struct stats *st, void (*release)(struct config *))
{
	struct consumer *c = xcalloc(1, sizeof(*c));
	char err[256];
	struct timeval tv;
	size_t i;

	c->base = base;
	c->cf = cf;
	c->release = release;
	c->stats = st;
	(void)str_copy(c->name, sizeof(c->name), name);
	snprintf(c->outbox_key, sizeof(c->outbox_key), "%soutbox",
	    cf->state_prefix);
	snprintf(c->defer_key, sizeof(c->defer_key), "%s" DEFER_SUFFIX,
	    cf->state_prefix);
	snprintf(c->cmd_key, sizeof(c->cmd_key), "%scommands",
	    cf->state_prefix);
	c->enrich = engine_reads_prefix(cf, "customer.") ||
	    config_has_contact(cf);
	if (redis_url_parse(cf->redis_url, &c->target, err, sizeof(err)) == -1)
		fatalx("redis.url: %s", err);
	c->rd = rconn_new(base, &c->target, "read", conn_state, c);
	c->wr = rconn_new(base, &c->target, "write", conn_state, c);
	c->tx = rconn_new(base, &c->target, "commit", conn_state, c);
	rconn_set_setup(c->rd, cons_setup_reader, c);
	c->owner = owner_new(base, &c->target, cf, name, st, role_cb, c);
	c->store = new_store(cf);
	(void)str_copy(c->esc_key, sizeof(c->esc_key),
	    store_sched_key(c->store));
	/* Until entries were seen: as many as the largest valid entry
	 * allows, so that the first read already keeps to the budget. */
	c->read_count = (long)(cf->batch_bytes / (EVENT_MAX_BYTES +
	    4 * REPLY_OVERHEAD));
	budget_config(c);
	c->phase = PH_STANDBY;
	/* the first window of cache_check from the start: a backlog
	 * drained within the first second is counted */
	c->cache_at = now_wall();
	for (i = 0; i < NSLOTS; i++) {
		c->b[i].slot = (int)i;
		arena_init(&c->b[i].arena);
		buf_init(&c->b[i].scratch);
		commit_init(&c->b[i].cm);
	}
	arena_init(&c->pub_arena);
	arena_init(&c->cap.ar);
	c->tick = event_new(base, -1, EV_PERSIST, tick_cb, c);
	c->kick = evtimer_new(base, kick_cb, c);
	c->esc = event_new(base, -1, EV_PERSIST, esc_cb, c);
	c->decide_ev = event_new(base, -1, 0, decide_cb, c);
	tv.tv_sec = 1;
	tv.tv_usec = 0;
	evtimer_add(c->tick, &tv);
	tv.tv_sec = ESC_PERIOD_MS / 1000;
	tv.tv_usec = (ESC_PERIOD_MS % 1000) * 1000;
	evtimer_add(c->esc, &tv);
	c->sil = cons_silence_new(c);
	snprintf(c->health, sizeof(c->health), "connecting to redis");
	return c;
}

void
consumer_start(struct consumer *c)
{
	rconn_start(c->rd);
	rconn_start(c->wr);
	rconn_start(c->tx);
	owner_start(c->owner);
}

void
consumer_set_config(struct consumer *c, struct config *cf)
{
	if (c->next_cf != NULL && c->release != NULL)
		c->release(c->next_cf);
	c->next_cf = cf;
	cons_pump(c);
}

void
consumer_stop(struct consumer *c, void (*done)(void *), void *arg)
{
	char id[24];
	const char *ua[] = { "CLIENT", "UNBLOCK", id };

	c->stopping = true;
	c->done = done;
	c->done_arg = arg;
	c->stop_at = now_wall() + 10;
	/* A read blocked on an idle stream answers now (as at the end of
	 * its BLOCK, with what it has), not up to READ_BLOCK_MS later:
	 * the lease is given up and the process exits that much sooner.
	 * Without the right (an ACL user without CLIENT), it waits. */
	if (c->read_sent > 0 && rconn_client_id(c->rd) > 0 &&
	    rconn_ready(c->wr)) {
		snprintf(id, sizeof(id), "%lld", rconn_client_id(c->rd));
		(void)cons_send(c->wr, ignore_cb, c, 3, ua, NULL);
	}
	cons_kick(c, 0);
}

void
consumer_set_metrics(struct consumer *c, const struct metrics_info *mi)
{
	c->mi = mi;
}

const char *
consumer_health(const struct consumer *c)
{
	const char *why;

	if (!rconn_ready(c->rd) || !rconn_ready(c->wr) || !rconn_ready(c->tx))
		return c->health[0] ? c->health : "redis not connected";
	if ((why = owner_health(c->owner)) != NULL)
		return why;
	if (c->phase == PH_SETUP)
		return "starting";
	return NULL;
}

const char *
consumer_role(const struct consumer *c)
{
	return c->phase == PH_STANDBY ? "standby" : "owner";
}

const struct config *
consumer_config(const struct consumer *c)
{
	return c->cf;
}

void
consumer_free(struct consumer *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	c->freeing = true;
	rconn_free(c->rd);
	rconn_free(c->wr);
	rconn_free(c->tx);	/* its answers: after the others' (txn) */
	cons_txn_free(c);
	owner_free(c->owner);
	event_free(c->tick);
	event_free(c->kick);
	event_free(c->esc);
	event_free(c->decide_ev);
	cons_silence_free(c->sil);
	for (j = 0; j < NSLOTS; j++) {
		struct batch *b = &c->b[j];
		for (i = 0; i < b->cap; i++) {
			evt_free(&b->v[i].ev);
			if (b->v[i].cmd_set)
				command_free(b->v[i].cmd);
			free(b->v[i].cmd);
			free(b->v[i].due);
		}
		free(b->v);
		free(b->notes);
		free(b->fires);
		free(b->cands);
		free(b->alerts);
		free(b->alert_entry);
		free(b->needs);
		arena_free(&b->arena);
		buf_free(&b->scratch);
		commit_free(&b->cm);
	}
	store_free(c->store);
	free(c->redeliv);
	free(c->pub.v);
	free(c->pub.l);
	arena_free(&c->pub_arena);
	arena_free(&c->cap.ar);	/* after rconn_free: its reader used it */
	if (c->release != NULL) {
		if (c->next_cf != NULL)
			c->release(c->next_cf);
		c->release(c->cf);
	}
	free(c);
}
