/*
 * consumer.c — the input stream, batch by batch (see consumer.h for the
 * stages): reading (own pending entries, new ones, claims from dead
 * consumers), the connections, timers and the life cycle. A read reply
 * becomes a batch in consumer_read.c; the stages after the read are in
 * consumer_batch.c.
 *
 * Everything runs on the libevent loop; every Redis callback handles
 * reply == NULL ("outcome unknown": the connection went away) by abandoning
 * the batch and re-reading this consumer's pending entries once Redis is
 * back. Nothing is acked before the commit script that writes the entry's
 * consequences has run; the decide script is keyed by entry ID and the
 * commit writes only entries still pending for this consumer, so
 * processing an entry again is harmless.
 *
 * Memory is bounded in bytes, not entries (input.batch_bytes; see
 * consumer_read.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "alertcmd.h"
#include "consumer.h"
#include "consumer_int.h"
#include "engine.h"
#include "event.h"
#include "log.h"
#include "redis.h"
#include "scripts.h"
#include "state.h"
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

/* cons_abandon: a reply was lost or refused; forget the batch (nothing
 * of it was acked) and re-read our pending entries when Redis is back. */
void
cons_abandon(struct consumer *c, const char *why)
{
	log_warnx("batch of %zu entries not committed (%s); their entries "
	    "stay pending and will be processed again", c->b.n, why);
	c->stats->commit_failures++;
	c->b.n = 0;
	cons_batch_end(c);
	c->b.gen++;
	c->stage = ST_IDLE;
	c->history = true;
	cons_kick(c, RETRY_DELAY_MS);
}

/* cons_reply_done: one expected reply arrived; true when it was the last. */
bool
cons_reply_done(struct consumer *c, const redisReply *r)
{
	if (!reply_ok(r))
		c->b.failed = true;
	return --c->b.outstanding == 0;
}

/* --- stage: read -------------------------------------------------------- */

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
group_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;

	(void)ac;
	if (reply == NULL)
		return;		/* reconnect will retry */
	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "BUSYGROUP", 9) != 0) {
		log_warnx("XGROUP CREATE %s %s: %s", c->cf->input_stream,
		    c->cf->input_group, reply->str);
		snprintf(c->health, sizeof(c->health), "cannot create group: %s",
		    reply->str);
		cons_kick(c, 1000);
		return;
	}
	c->group_ready = true;
	cons_read_next(c);
}

static void
ensure_group(struct consumer *c)
{
	const char *argv[] = { "XGROUP", "CREATE", c->cf->input_stream,
	    c->cf->input_group, "0", "MKSTREAM" };

	if (cons_send(c->rd, group_cb, c, 6, argv, NULL) == -1)
		cons_kick(c, 500);
}

static void
read_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r, *streams;
	bool history = c->history;

	(void)ac;
	if (c->stage != ST_READING)
		return;
	c->stage = ST_IDLE;
	c->read_sent = 0;
	if (reply == NULL) {
		c->history = true;	/* re-read pending when back */
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "NOGROUP", 7) == 0) {
			log_warnx("consumer group %s of %s is gone; creating "
			    "it again", c->cf->input_group,
			    c->cf->input_stream);
			c->group_ready = false;
			ensure_group(c);
			return;
		}
		log_warnx("XREADGROUP %s: %s", c->cf->input_stream, reply->str);
		cons_kick(c, 1000);
		return;
	}
	cons_batch_begin(c, history);
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
		streams = reply->element[0];
		if (streams->type == REDIS_REPLY_ARRAY && streams->elements == 2)
			cons_read_entries(c, streams->element[1], history);
	}
	if (c->b.n == 0) {
		if (history && c->b.deferred == 0)
			c->history = false;	/* caught up */
		cons_read_next(c);
		return;
	}
	cons_counts(c);
}

static void
claim_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;

	(void)ac;
	if (c->stage != ST_READING)
		return;
	c->stage = ST_IDLE;
	c->read_sent = 0;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 2) {
		if (reply != NULL)
			log_warnx("XAUTOCLAIM %s: %s", c->cf->input_stream,
			    reply->type == REDIS_REPLY_ERROR ? reply->str :
			    "unexpected reply");
		c->claim_due = false;
		cons_read_next(c);
		return;
	}
	/* [next cursor, [entries], [deleted IDs]] */
	snprintf(c->claim_cursor, sizeof(c->claim_cursor), "%s",
	    reply->element[0]->str ? reply->element[0]->str : "0-0");
	if (strcmp(c->claim_cursor, "0-0") == 0)
		c->claim_due = false;
	cons_batch_begin(c, true);
	cons_read_entries(c, reply->element[1], true);
	if (reply->elements > 2 && reply->element[2]->elements > 0) {
		c->stats->lost += reply->element[2]->elements;
		log_warnx("claimed %zu entries of %s that were deleted while "
		    "pending on a dead consumer; their content is lost",
		    reply->element[2]->elements, c->cf->input_stream);
	}
	if (c->b.n == 0) {
		cons_read_next(c);
		return;
	}
	log_info("claimed %zu entries idle for over %lld ms from dead "
	    "consumers", c->b.n, (long long)c->cf->claim_idle_ms);
	cons_counts(c);
}

struct load_ctx {
	struct consumer	*c;
	char		*sha;
	bool		 last;
};

static void
script_loaded(redisAsyncContext *ac, void *r, void *priv)
{
	struct load_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r;

	(void)ac;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_STRING) {
		snprintf(x->sha, 41, "%s", reply->str);
		if (x->last) {
			c->scripts_ready = true;
			cons_read_next(c);
		}
	} else if (reply != NULL)
		log_warnx("SCRIPT LOAD: %s", reply->str ? reply->str : "?");
	free(x);
}

static void
load_scripts(struct consumer *c)
{
	const char *src[] = { script_decide, script_commit };
	char *sha[] = { c->sha_decide, c->sha_commit };
	struct load_ctx *x;
	const char *argv[3];
	size_t i;

	for (i = 0; i < 2; i++) {
		x = xmalloc(sizeof(*x));
		x->c = c;
		x->sha = sha[i];
		x->last = i == 1;
		argv[0] = "SCRIPT";
		argv[1] = "LOAD";
		argv[2] = src[i];
		if (cons_send(c->wr, script_loaded, x, 3, argv, NULL) == -1) {
			free(x);
			return;
		}
	}
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

/*
 * apply_config: swap in a reloaded configuration. Only between batches
 * (idle, or waiting for a read: hiredis has copied the read's arguments,
 * so the old strings are no longer needed), so that a batch is judged
 * by one rule set from start to end and an event that arrives after the
 * reload is judged by the new one.
 */
static void
apply_config(struct consumer *c)
{
	struct config *old = c->cf;

	if (c->next_cf == NULL || (c->stage != ST_IDLE &&
	    c->stage != ST_READING))
		return;
	c->cf = c->next_cf;
	c->next_cf = NULL;
	snprintf(c->outbox_key, sizeof(c->outbox_key), "%soutbox",
	    c->cf->state_prefix);
	c->enrich = engine_reads_prefix(c->cf, "customer.");
	budget_config(c);
	if (c->release != NULL)
		c->release(old);
}

/*
 * cons_read_next: start the next batch if nothing is in flight: apply a pending
 * reload, then claim entries of dead consumers if due, else read.
 */
void
cons_read_next(struct consumer *c)
{
	char count[24], block[24], idle[24];

	if (c->stage != ST_IDLE)
		return;
	apply_config(c);
	if (c->stopping) {
		finish_stop(c);
		return;
	}
	if (!rconn_ready(c->rd) || !rconn_ready(c->wr))
		return;		/* the state callbacks call us again */
	if (!c->scripts_ready) {
		load_scripts(c);
		return;
	}
	if (!c->group_ready) {
		ensure_group(c);
		return;
	}
	snprintf(count, sizeof(count), "%ld", c->read_count);
	if (c->claim_due && !c->history) {
		const char *argv[] = { "XAUTOCLAIM", c->cf->input_stream,
		    c->cf->input_group, c->name, idle, c->claim_cursor,
		    "COUNT", count };
		snprintf(idle, sizeof(idle), "%lld",
		    (long long)c->cf->claim_idle_ms);
		if (cons_send(c->rd, claim_cb, c, 8, argv, NULL) == 0) {
			c->stage = ST_READING;
			c->read_sent = now_wall();
		}
		return;
	}
	snprintf(block, sizeof(block), "%d", READ_BLOCK_MS);
	{
		const char *argv[] = { "XREADGROUP", "GROUP",
		    c->cf->input_group, c->name, "COUNT", count, "BLOCK", block,
		    "STREAMS", c->cf->input_stream, c->history ? "0" : ">" };
		/* A history read never blocks: BLOCK is ignored for it. */
		if (cons_send(c->rd, read_cb, c, 11, argv, NULL) == 0) {
			c->stage = ST_READING;
			c->read_sent = now_wall();
		}
	}
}

/* --- timers and connection state --------------------------------------- */

static void
kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	cons_read_next(arg);
}

static void
claim_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct consumer *c = arg;

	(void)fd;
	(void)ev;
	if (!c->claim_due) {
		c->claim_due = true;
		snprintf(c->claim_cursor, sizeof(c->claim_cursor), "0-0");
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
	if (rconn_cmd(c->wr, publish_cb, c, (int)c->pub.n, c->pub.v,
	    c->pub.l) == 0)
		(void)cons_send(c->wr, publish_cb, c, 3, ea, NULL);
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
	if (c->stage == ST_READING && c->read_sent > 0 &&
	    now - c->read_sent > READ_BLOCK_MS / 1000.0 + SILENCE_GRACE_S)
		rconn_drop(c->rd, "read unanswered");
	if (c->wr_since > 0 && now - c->wr_since > 2 * SILENCE_GRACE_S) {
		c->wr_since = 0;
		rconn_drop(c->wr, "write unanswered");
	}
	if (c->stopping && c->stop_at > 0 && now > c->stop_at) {
		log_warnx("could not finish the batch in flight within the "
		    "stop timeout; its entries stay pending");
		c->stage = ST_IDLE;
		finish_stop(c);
		return;
	}
	c->stats->redis_reconnects = rconn_reconnects(c->rd) +
	    rconn_reconnects(c->wr);
	if (now - c->last_stats >= STATS_PERIOD_S && rconn_ready(c->wr)) {
		const char *xa[] = { "XINFO", "GROUPS", c->cf->input_stream };
		char key[300];
		const char *za[] = { "ZCARD", key };
		c->last_stats = now;
		snprintf(key, sizeof(key), "%scases:open", c->cf->state_prefix);
		(void)cons_send(c->wr, lag_cb, c, 3, xa, NULL);
		(void)cons_send(c->wr, open_cb, c, 2, za, NULL);
		if (c->mi != NULL)
			publish(c);
	}
	if (c->stage == ST_IDLE)
		cons_read_next(c);
}

static void
conn_state(struct rconn *rc, bool up, void *arg)
{
	struct consumer *c = arg;

	if (up) {
		c->health[0] = '\0';
		if (rc == c->wr)
			c->scripts_ready = false;	/* Redis may be new */
		if (rc == c->rd)
			c->group_ready = false;
		c->history = true;
		cons_read_next(c);
		return;
	}
	snprintf(c->health, sizeof(c->health), "redis %s connection lost",
	    rc == c->rd ? "read" : "write");
	c->history = true;
	/* A batch waiting on the lost connection is abandoned by its
	 * NULL replies. */
}

/* --- public ------------------------------------------------------------ */

struct consumer *
consumer_new(struct event_base *base, struct config *cf, const char *name,
    struct stats *st, void (*release)(struct config *))
{
	struct consumer *c = xcalloc(1, sizeof(*c));
	char err[256];
	struct timeval tv;

	c->base = base;
	c->cf = cf;
	c->release = release;
	c->stats = st;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->outbox_key, sizeof(c->outbox_key), "%soutbox",
	    cf->state_prefix);
	c->enrich = engine_reads_prefix(cf, "customer.");
	if (redis_url_parse(cf->redis_url, &c->target, err, sizeof(err)) == -1)
		fatalx("redis.url: %s", err);
	c->rd = rconn_new(base, &c->target, "read", conn_state, c);
	c->wr = rconn_new(base, &c->target, "write", conn_state, c);
	rconn_set_setup(c->rd, cons_setup_reader, c);
	/* Until entries were seen: as many as the largest valid entry
	 * allows, so that the first read already keeps to the budget. */
	c->read_count = (long)(cf->batch_bytes / (EVENT_MAX_BYTES +
	    4 * REPLY_OVERHEAD));
	budget_config(c);
	c->history = true;
	snprintf(c->claim_cursor, sizeof(c->claim_cursor), "0-0");
	arena_init(&c->b.arena);
	buf_init(&c->b.scratch);
	arena_init(&c->pub_arena);
	c->tick = event_new(base, -1, EV_PERSIST, tick_cb, c);
	c->kick = evtimer_new(base, kick_cb, c);
	c->claim = event_new(base, -1, EV_PERSIST, claim_timer_cb, c);
	tv.tv_sec = 1;
	tv.tv_usec = 0;
	evtimer_add(c->tick, &tv);
	tv.tv_sec = cf->claim_idle_ms / 2000 > 0 ? cf->claim_idle_ms / 2000 : 1;
	evtimer_add(c->claim, &tv);
	snprintf(c->health, sizeof(c->health), "connecting to redis");
	return c;
}

void
consumer_start(struct consumer *c)
{
	rconn_start(c->rd);
	rconn_start(c->wr);
}

void
consumer_set_config(struct consumer *c, struct config *cf)
{
	if (c->next_cf != NULL && c->release != NULL)
		c->release(c->next_cf);
	c->next_cf = cf;
	apply_config(c);
	if (c->stage == ST_IDLE)
		cons_read_next(c);
}

void
consumer_stop(struct consumer *c, void (*done)(void *), void *arg)
{
	c->stopping = true;
	c->done = done;
	c->done_arg = arg;
	c->stop_at = now_wall() + 10;
	if (c->stage == ST_IDLE)
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
	if (!rconn_ready(c->rd) || !rconn_ready(c->wr))
		return c->health[0] ? c->health : "redis not connected";
	if (!c->scripts_ready || !c->group_ready)
		return "starting";
	return NULL;
}

const struct config *
consumer_config(const struct consumer *c)
{
	return c->cf;
}

void
consumer_free(struct consumer *c)
{
	size_t i;

	if (c == NULL)
		return;
	rconn_free(c->rd);
	rconn_free(c->wr);
	event_free(c->tick);
	event_free(c->kick);
	event_free(c->claim);
	for (i = 0; i < c->b.cap; i++) {
		evt_free(&c->b.v[i].ev);
		arena_free(&c->b.v[i].raw);
	}
	free(c->b.v);
	free(c->b.fires);
	free(c->b.cands);
	free(c->b.alerts);
	free(c->b.alert_entry);
	arena_free(&c->b.arena);
	buf_free(&c->b.scratch);
	free(c->pub.v);
	free(c->pub.l);
	arena_free(&c->pub_arena);
	if (c->release != NULL) {
		if (c->next_cf != NULL)
			c->release(c->next_cf);
		c->release(c->cf);
	}
	free(c);
}
