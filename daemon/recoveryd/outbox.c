/*
 * outbox.c — the delivery worker (see outbox.h for what it guarantees).
 *
 * An entry read from the outbox becomes an item, which goes through
 *
 *   WAIT     its not_before is in the future: a timer makes it READY;
 *   READY    queued in arrival order until there is room to run it (the
 *            global cap, and an exec channel's max_running);
 *   RUNNING  its channel (channel_webhook.c, channel_exec.c) is at work;
 *   FINISH   the outcome script is on its way to Redis; a lost or refused
 *            reply sends it again a second later (the script checks that
 *            the entry is still pending for us, so running it twice
 *            writes once).
 *
 * The channel is looked up by name when the item starts, in the
 * configuration running then: a reload between attempts applies to the
 * next one, and a channel that was removed sends the alert to the
 * undelivered stream. Everything runs on the libevent loop; every Redis
 * callback handles reply == NULL ("outcome unknown": connection lost).
 *
 * A dead daemon's entries are claimed once idle for input.claim_idle
 * (read from the running configuration each time, as the input stream's
 * consumer does): the claim runs every claim_idle / 2 (1 s .. 30 s), and
 * the entries we hold are touched every claim_idle / 3 so that a live
 * daemon's long backoff or slow program never looks idle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <syslog.h>
#include <unistd.h>

#include "alertcmd.h"
#include "channel.h"
#include "log.h"
#include "outbox.h"
#include "redis.h"
#include "util.h"

#define READ_BLOCK_MS		1000
#define READ_COUNT		64
#define CLAIM_PERIOD_MAX_S	30
#define TOUCH_MIN_MS		100
#define SILENCE_GRACE_S		5
#define FINISH_RETRY_MS		1000
#define DEFER_BATCH		64	/* deferred alerts per run */
#define BACKOFF_MAX_MS		300000

/*
 * The outcome of a delivery, atomically. KEYS: outbox, undelivered.
 * ARGV: group, consumer, entry ID, mode ("ok", "retry", "fail"), then the
 * fields of the entry to add (retry: to the outbox; fail: to
 * undelivered). Returns 1, or 0 when the entry is no longer pending for
 * this consumer (already done, or claimed by another): nothing written.
 */
/*
 * The delivery of alerts that waited for their calendar (alertcmd.h):
 * the due IDs of the sorted set KEYS[1], each record of the hash
 * KEYS[2] removed and its commands run, in one step, so that each goes
 * out once whichever daemon runs it first. Returns the IDs and syslog
 * lines, in pairs, then the failed commands, each "ID COMMAND KEY: error".
 */
static const char defer_script[] =
"local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1],\n"
"    'LIMIT', 0, tonumber(ARGV[2]))\n"
"local out, bad = {}, {}\n"
"for _, id in ipairs(ids) do\n"
"  local rec = redis.call('HGET', KEYS[2], id)\n"
"  redis.call('ZREM', KEYS[1], id)\n"
"  redis.call('HDEL', KEYS[2], id)\n"
"  if rec then\n"
"    local r = cmsgpack.unpack(rec)\n"
"    for i = 2, #r do\n"
"      local ok = redis.pcall(unpack(r[i]))\n"
"      if type(ok) == 'table' and ok.err then\n"
"        bad[#bad + 1] = id .. ' ' .. r[i][1] .. ' ' ..\n"
"            tostring(r[i][2]) .. ': ' .. ok.err\n"
"      end\n"
"    end\n"
"    out[#out + 1] = id\n"
"    out[#out + 1] = r[1]\n"
"  end\n"
"end\n"
"out[#out + 1] = bad\n"
"return out\n";

static const char finish_script[] =
"local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)\n"
"if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end\n"
"if ARGV[4] == 'retry' then\n"
"  redis.call('XADD', KEYS[1], '*', unpack(ARGV, 5))\n"
"elseif ARGV[4] == 'fail' then\n"
"  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 5))\n"
"end\n"
"redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])\n"
"redis.call('XDEL', KEYS[1], ARGV[3])\n"
"return 1\n";

enum istate { I_WAIT, I_READY, I_RUNNING, I_FINISH };
enum outcome { O_OK, O_RETRY, O_FAIL };

struct item {
	struct delivery	 d;		/* first: done() hands us &d */
	struct outbox	*o;
	char		 id[64];	/* the outbox entry */
	char		*alert_id, *channel, *alert;
	char		*event;		/* exec: the saved event, or NULL */
	int64_t		 not_before;	/* epoch ms, 0: now */
	enum istate	 st;
	enum chan_type	 type;		/* while RUNNING */
	int		 retries;	/* the channel's, when it started */
	enum outcome	 outcome;	/* FINISH */
	int64_t		 next_due;	/* FINISH, O_RETRY: its not_before */
	char		 failed_at[40];
	double		 finish_sent;
	int		 finish_tries;
	struct event	*timer;
	TAILQ_ENTRY(item) link;
};
TAILQ_HEAD(itemq, item);

struct outbox {
	struct event_base	*base;
	const struct config	*(*get_config)(void *);
	void			*cfarg;
	struct stats		*stats;
	char			 name[300];
	char			 key[300];	/* <state_prefix>outbox */
	struct rconn		*rd, *wr;
	struct webhook		*webhook;
	struct execer		*execer;
	struct itemq		 items;
	size_t			 nheld, nrunning;
	bool			 group_ready, reading, history, claim_due;
	char			 cursor[64];	/* history read position */
	char			 claim_cursor[64];
	double			 read_sent;
	struct event		*tick, *touch_ev;
	double			 last_claim;
	int64_t			 backoff_base_ms;
	uint64_t		 rng;
	bool			 stopping, closing;
	double			 stop_at;
	void			(*done)(void *);
	void			*done_arg;
	struct event		*done_ev;
	char			 defer_key[300];	/* <prefix>deferred */
	char			 defer_rec[320];	/* ...:alerts */
	bool			 deferring;	/* a delivery run in flight */
};

static void read_next(struct outbox *);
static void pump(struct outbox *);
static void finish_send(struct item *);
static void stop_check(struct outbox *);

/* claim_idle_ms: input.claim_idle of the running configuration. */
static int64_t
claim_idle_ms(const struct outbox *o)
{
	return o->get_config(o->cfarg)->claim_idle_ms;
}

/* claim_period_s: how often to look for a dead daemon's entries. */
static double
claim_period_s(const struct outbox *o)
{
	double s = (double)claim_idle_ms(o) / 2000;

	return s < 1 ? 1 : s > CLAIM_PERIOD_MAX_S ? CLAIM_PERIOD_MAX_S : s;
}

static int64_t
now_ms(void)
{
	return (int64_t)(now_wall() * 1000);
}

static int
send_cmd(struct rconn *rc, redisCallbackFn *cb, void *priv, int argc,
    const char **argv, const size_t *lens)
{
	size_t l[16];
	int i;

	if (lens == NULL) {
		for (i = 0; i < argc && i < 16; i++)
			l[i] = strlen(argv[i]);
		lens = l;
	}
	return rconn_cmd(rc, cb, priv, argc, argv, lens);
}

/* --- items ------------------------------------------------------------- */

static void
item_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct item *it = arg;

	(void)fd;
	(void)what;
	if (it->st == I_WAIT) {
		it->st = I_READY;
		pump(it->o);
	} else if (it->st == I_FINISH)
		finish_send(it);
}

static void
item_arm(struct item *it, int64_t ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(it->timer, &tv);
}

static struct item *
item_find(struct outbox *o, const char *id)
{
	struct item *it;

	TAILQ_FOREACH(it, &o->items, link)
		if (strcmp(it->id, id) == 0)
			return it;
	return NULL;
}

static void
item_free(struct item *it)
{
	struct outbox *o = it->o;

	TAILQ_REMOVE(&o->items, it, link);
	o->nheld--;
	if (it->st == I_RUNNING)
		o->nrunning--;
	event_free(it->timer);
	free(it->alert_id);
	free(it->channel);
	free(it->alert);
	free(it->event);
	free(it);
}

/* field: the value of name in a flat [name, value, ...] reply, or NULL. */
static const redisReply *
field(const redisReply *f, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < f->elements; i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(f->element[i]->str, name) == 0 &&
		    f->element[i + 1]->type == REDIS_REPLY_STRING)
			return f->element[i + 1];
	return NULL;
}

static char *
field_dup(const redisReply *f, const char *name, size_t *len)
{
	const redisReply *v = field(f, name);

	if (len != NULL)
		*len = v != NULL ? v->len : 0;
	return v != NULL ? xstrndup(v->str, v->len) : NULL;
}

static void finish(struct item *, enum outcome);

static void
ack_cb(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	(void)r;
	(void)priv;
}

/*
 * add_entry: one [id, [field, value, ...]] of a read or claim reply
 * becomes an item (copied: hiredis frees the reply after the callback).
 * Entries already held are skipped; an entry deleted while pending is
 * acked.
 */
static void
add_entry(struct outbox *o, const redisReply *e)
{
	const redisReply *f, *v;
	struct item *it;
	const char *id;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return;
	id = e->element[0]->str;
	f = e->element[1];
	if (item_find(o, id) != NULL)
		return;
	if (f->type != REDIS_REPLY_ARRAY) {
		const char *argv[] = { "XACK", o->key, OUTBOX_GROUP, id };
		log_warnx("outbox entry %s was deleted while pending; its "
		    "delivery is lost", id);
		(void)send_cmd(o->wr, ack_cb, NULL, 4, argv, NULL);
		return;
	}
	it = xcalloc(1, sizeof(*it));
	it->o = o;
	(void)str_copy(it->id, sizeof(it->id), id);
	it->alert_id = field_dup(f, "alert_id", NULL);
	it->channel = field_dup(f, "channel", NULL);
	it->alert = field_dup(f, "alert", &it->d.alert_len);
	it->event = field_dup(f, "event", &it->d.event_len);
	if ((v = field(f, "attempt")) != NULL)
		it->d.attempt = (int)strtol(v->str, NULL, 10);
	if (it->d.attempt < 0 || it->d.attempt > 1000)
		it->d.attempt = 0;
	if ((v = field(f, "not_before")) != NULL)
		it->not_before = strtoll(v->str, NULL, 10);
	it->timer = evtimer_new(o->base, item_timer_cb, it);
	if (it->timer == NULL)
		fatalx("%s: evtimer_new", __func__);
	TAILQ_INSERT_TAIL(&o->items, it, link);
	o->nheld++;
	if (it->alert_id == NULL || it->channel == NULL || it->alert == NULL) {
		it->alert_id = it->alert_id ? it->alert_id : xstrdup("");
		it->channel = it->channel ? it->channel : xstrdup("");
		it->alert = it->alert ? it->alert : xstrdup("");
		snprintf(it->d.error, sizeof(it->d.error), "outbox entry %s "
		    "lacks alert_id, channel or alert", id);
		it->retries = -1;
		finish(it, O_FAIL);
		return;
	}
	it->d.alert_id = it->alert_id;
	it->d.channel = it->channel;
	it->d.alert = it->alert;
	it->d.event = it->event;
	if (it->not_before > now_ms()) {
		it->st = I_WAIT;
		item_arm(it, it->not_before - now_ms());
	} else
		it->st = I_READY;
}

/* --- outcomes ----------------------------------------------------------- */

static void
finish_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct item *it = priv;
	struct outbox *o = it->o;
	redisReply *reply = r;
	static const char *const result[] = { "ok", "retried", "failed" };

	(void)ac;
	if (o->closing)
		return;
	it->finish_sent = 0;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_INTEGER) {
		if (reply != NULL)
			log_warnx("outbox entry %s (alert %s): recording the "
			    "outcome failed: %s; trying again", it->id,
			    it->alert_id, reply->type == REDIS_REPLY_ERROR ?
			    reply->str : "unexpected reply");
		item_arm(it, FINISH_RETRY_MS);
		return;
	}
	if (reply->integer == 1 || it->finish_tries > 1)
		stats_count(&o->stats->alerts, it->channel,
		    result[it->outcome], 1);
	if (reply->integer != 1 && it->finish_tries == 1)
		log_info("outbox entry %s (alert %s) is no longer pending for "
		    "%s (claimed by another consumer?); leaving it", it->id,
		    it->alert_id, o->name);
	item_free(it);
	if (o->stopping)
		stop_check(o);
	else {
		pump(o);
		read_next(o);
	}
}

/* finish_send: (re)send the outcome script of it. */
static void
finish_send(struct item *it)
{
	struct outbox *o = it->o;
	const struct config *cf = o->get_config(o->cfarg);
	static const char *const mode[] = { "ok", "retry", "fail" };
	const char *argv[24];
	size_t lens[24];
	char attempt[16], due[24];
	int n = 0, i;

	if (!rconn_ready(o->wr)) {
		item_arm(it, FINISH_RETRY_MS);
		return;
	}
	argv[n++] = "EVAL";
	argv[n++] = finish_script;
	argv[n++] = "2";
	argv[n++] = o->key;
	argv[n++] = cf->undelivered_stream;
	argv[n++] = OUTBOX_GROUP;
	argv[n++] = o->name;
	argv[n++] = it->id;
	argv[n++] = mode[it->outcome];
	if (it->outcome != O_OK) {
		argv[n++] = "alert_id"; argv[n++] = it->alert_id;
		argv[n++] = "channel"; argv[n++] = it->channel;
	}
	if (it->outcome == O_RETRY) {
		snprintf(attempt, sizeof(attempt), "%d", it->d.attempt + 1);
		snprintf(due, sizeof(due), "%lld", (long long)it->next_due);
		argv[n++] = "attempt"; argv[n++] = attempt;
		argv[n++] = "alert"; argv[n++] = it->alert;
		argv[n++] = "not_before"; argv[n++] = due;
		if (it->event != NULL) {
			argv[n++] = "event"; argv[n++] = it->event;
		}
	} else if (it->outcome == O_FAIL) {
		snprintf(attempt, sizeof(attempt), "%d", it->d.attempt +
		    (it->retries >= 0 ? 1 : 0));
		argv[n++] = "attempts"; argv[n++] = attempt;
		argv[n++] = "error"; argv[n++] = it->d.error;
		argv[n++] = "alert"; argv[n++] = it->alert;
		argv[n++] = "failed_at"; argv[n++] = it->failed_at;
	}
	for (i = 0; i < n; i++)
		lens[i] = argv[i] == it->alert ? it->d.alert_len :
		    argv[i] == it->event ? it->d.event_len : strlen(argv[i]);
	it->finish_tries++;
	if (rconn_cmd(o->wr, finish_cb, it, n, argv, lens) == -1) {
		item_arm(it, FINISH_RETRY_MS);
		return;
	}
	it->finish_sent = now_wall();
}

/* backoff_ms: 1 s * 2^attempt (base from RECOVERYD_BACKOFF_BASE_MS),
 * capped at 5 min, plus 0..50 % jitter so that retries spread out. */
static int64_t
backoff_ms(struct outbox *o, int attempt)
{
	int64_t d = o->backoff_base_ms;
	int i;

	for (i = 0; i < attempt && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	/* xorshift64: jitter needs no cryptographic quality. */
	o->rng ^= o->rng << 13;
	o->rng ^= o->rng >> 7;
	o->rng ^= o->rng << 17;
	return d + (int64_t)(o->rng % (uint64_t)(d / 2 + 1));
}

/*
 * finish: it is over with outcome oc (d.error says why it failed): record
 * that in Redis. retries < 0 marks an item that never reached a channel.
 */
static void
finish(struct item *it, enum outcome oc)
{
	struct outbox *o = it->o;

	if (it->st == I_RUNNING)
		o->nrunning--;
	evtimer_del(it->timer);
	it->st = I_FINISH;
	it->outcome = oc;
	if (oc == O_FAIL) {
		format_rfc3339(now_wall(), it->failed_at,
		    sizeof(it->failed_at));
		log_warnx("%s: alert %s not delivered after %d attempt%s: %s; "
		    "moving it to %s", it->channel, it->alert_id,
		    it->d.attempt + (it->retries >= 0 ? 1 : 0),
		    it->d.attempt + (it->retries >= 0 ? 1 : 0) == 1 ? "" : "s",
		    it->d.error, o->get_config(o->cfarg)->undelivered_stream);
	}
	finish_send(it);
}

/* settle: a channel (or the start itself) reported its outcome. */
static void
settle(struct item *it)
{
	struct outbox *o = it->o;
	int64_t wait;

	switch (it->d.result) {
	case DELIVERY_OK:
		log_debug("%s: alert %s delivered (attempt %d)", it->channel,
		    it->alert_id, it->d.attempt);
		finish(it, O_OK);
		return;
	case DELIVERY_RETRY:
		if (it->d.attempt < it->retries) {
			wait = backoff_ms(o, it->d.attempt);
			it->next_due = now_ms() + wait;
			log_info("%s: alert %s attempt %d failed: %s; trying "
			    "again in %lld ms", it->channel, it->alert_id,
			    it->d.attempt + 1, it->d.error, (long long)wait);
			finish(it, O_RETRY);
			return;
		}
		break;
	case DELIVERY_FAIL:
		break;
	}
	finish(it, O_FAIL);
}

/* delivered: the channels' done callback. */
static void
delivered(struct delivery *d, void *arg)
{
	struct outbox *o = arg;
	struct item *it = (struct item *)d;

	settle(it);
	if (!o->stopping) {
		pump(o);
		read_next(o);
	}
}

/* running_on: deliveries running on the channel called name. O(held). */
static int
running_on(struct outbox *o, const char *name)
{
	struct item *it;
	int n = 0;

	TAILQ_FOREACH(it, &o->items, link)
		if (it->st == I_RUNNING && strcmp(it->channel, name) == 0)
			n++;
	return n;
}

/*
 * pump: start READY items, oldest first, while there is room. An exec
 * channel at its max_running leaves its items queued without holding up
 * the others. O(held * running).
 */
static void
pump(struct outbox *o)
{
	const struct config *cf;
	const struct channel *ch;
	struct item *it, *next;
	int rc;

	if (o->stopping)
		return;
	cf = o->get_config(o->cfarg);
	for (it = TAILQ_FIRST(&o->items); it != NULL; it = next) {
		next = TAILQ_NEXT(it, link);
		if (it->st != I_READY)
			continue;
		if (o->nrunning >= OUTBOX_MAX_RUNNING)
			break;
		ch = config_channel(cf, it->channel);
		if (ch == NULL || (ch->type != CH_WEBHOOK &&
		    ch->type != CH_EXEC)) {
			snprintf(it->d.error, sizeof(it->d.error), "channel "
			    "%s no longer configured", it->channel);
			it->retries = -1;
			finish(it, O_FAIL);
			continue;
		}
		if (ch->type == CH_EXEC &&
		    running_on(o, ch->name) >= ch->max_running)
			continue;
		it->type = ch->type;
		it->retries = ch->retries;
		it->st = I_RUNNING;
		o->nrunning++;
		rc = ch->type == CH_WEBHOOK ?
		    webhook_send(o->webhook, ch, &it->d) :
		    execer_start(o->execer, ch, &it->d);
		if (rc == -1)
			settle(it);
	}
}

/* --- reading ------------------------------------------------------------ */

static void
group_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct outbox *o = priv;
	redisReply *reply = r;

	(void)ac;
	if (o->closing || reply == NULL)
		return;		/* the reconnect creates it again */
	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "BUSYGROUP", 9) != 0) {
		log_warnx("XGROUP CREATE %s %s: %s", o->key, OUTBOX_GROUP,
		    reply->str);
		return;		/* the tick tries again */
	}
	o->group_ready = true;
	read_next(o);
}

static void
ensure_group(struct outbox *o)
{
	const char *argv[] = { "XGROUP", "CREATE", o->key, OUTBOX_GROUP, "0",
	    "MKSTREAM" };

	(void)send_cmd(o->rd, group_cb, o, 6, argv, NULL);
}

/* read_done: common end of a read or claim reply. */
static bool
read_done(struct outbox *o, const redisReply *reply, const char *cmd)
{
	o->reading = false;
	o->read_sent = 0;
	if (o->closing)
		return false;
	if (reply == NULL) {
		o->history = true;	/* what we were sent may be pending */
		snprintf(o->cursor, sizeof(o->cursor), "0");
		return false;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "NOGROUP", 7) == 0) {
			log_warnx("consumer group %s of %s is gone; creating it "
			    "again", OUTBOX_GROUP, o->key);
			o->group_ready = false;
			ensure_group(o);
		} else
			log_warnx("%s %s: %s", cmd, o->key, reply->str);
		return false;	/* the tick reads again */
	}
	return !o->stopping;
}

static void
read_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct outbox *o = priv;
	redisReply *reply = r, *entries = NULL;
	size_t i;

	(void)ac;
	if (!read_done(o, reply, "XREADGROUP"))
		return;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
	    reply->element[0]->type == REDIS_REPLY_ARRAY &&
	    reply->element[0]->elements == 2)
		entries = reply->element[0]->element[1];
	if (o->history) {
		if (entries == NULL || entries->elements == 0)
			o->history = false;	/* caught up */
		else {
			const redisReply *last =
			    entries->element[entries->elements - 1];
			if (last->type == REDIS_REPLY_ARRAY &&
			    last->elements > 0 && last->element[0]->str != NULL)
				(void)str_copy(o->cursor, sizeof(o->cursor),
				    last->element[0]->str);
		}
	}
	for (i = 0; entries != NULL && i < entries->elements; i++)
		add_entry(o, entries->element[i]);
	pump(o);
	read_next(o);
}

static void
claim_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct outbox *o = priv;
	redisReply *reply = r;
	size_t i, before = o->nheld;

	(void)ac;
	if (!read_done(o, reply, "XAUTOCLAIM")) {
		o->claim_due = false;
		return;
	}
	/* [next cursor, [entries], [deleted IDs] (Redis 7)] */
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING) {
		o->claim_due = false;
		read_next(o);
		return;
	}
	(void)str_copy(o->claim_cursor, sizeof(o->claim_cursor),
	    reply->element[0]->str);
	if (strcmp(o->claim_cursor, "0-0") == 0)
		o->claim_due = false;
	for (i = 0; i < reply->element[1]->elements; i++)
		add_entry(o, reply->element[1]->element[i]);
	if (o->nheld > before) {
		char idle[32];

		format_duration(claim_idle_ms(o), idle, sizeof(idle));
		log_info("outbox: claimed %zu deliveries idle for over %s "
		    "(input.claim_idle) from dead consumers", o->nheld - before,
		    idle);
	}
	pump(o);
	read_next(o);
}

/*
 * read_next: if nothing is being read and there is room, read: claim
 * from dead consumers when due, else our own pending entries (history,
 * after a start or a lost connection), else new ones, blocking up to a
 * second.
 */
static void
read_next(struct outbox *o)
{
	char count[16], block[16], idle[16];
	size_t room;

	if (o->stopping || o->reading || !o->group_ready ||
	    !rconn_ready(o->rd) || o->nheld >= OUTBOX_MAX_HELD)
		return;
	room = OUTBOX_MAX_HELD - o->nheld;
	snprintf(count, sizeof(count), "%zu", room < READ_COUNT ? room :
	    (size_t)READ_COUNT);
	if (o->claim_due && !o->history) {
		const char *argv[] = { "XAUTOCLAIM", o->key, OUTBOX_GROUP,
		    o->name, idle, o->claim_cursor, "COUNT", count };
		snprintf(idle, sizeof(idle), "%lld",
		    (long long)claim_idle_ms(o));
		if (send_cmd(o->rd, claim_cb, o, 8, argv, NULL) == 0) {
			o->reading = true;
			o->read_sent = now_wall();
		}
		return;
	}
	snprintf(block, sizeof(block), "%d", READ_BLOCK_MS);
	{
		/* A history read ("0" onwards) never blocks. */
		const char *argv[] = { "XREADGROUP", "GROUP", OUTBOX_GROUP,
		    o->name, "COUNT", count, "BLOCK", block, "STREAMS", o->key,
		    o->history ? o->cursor : ">" };
		if (send_cmd(o->rd, read_cb, o, 11, argv, NULL) == 0) {
			o->reading = true;
			o->read_sent = now_wall();
		}
	}
}

/*
 * touch: reset the idle time of the entries we hold (XCLAIM to ourselves,
 * JUSTID: delivery counts unchanged), so that an entry waiting out a long
 * backoff is not claimed by another daemon as if we were dead.
 */
static void
touch(struct outbox *o)
{
	const char *argv[6 + OUTBOX_MAX_HELD];
	size_t lens[6 + OUTBOX_MAX_HELD];
	struct item *it;
	int n = 0, i;

	argv[n++] = "XCLAIM";
	argv[n++] = o->key;
	argv[n++] = OUTBOX_GROUP;
	argv[n++] = o->name;
	argv[n++] = "0";
	TAILQ_FOREACH(it, &o->items, link)
		if (it->st != I_FINISH && n < 5 + OUTBOX_MAX_HELD)
			argv[n++] = it->id;
	if (n == 5)
		return;
	argv[n++] = "JUSTID";
	for (i = 0; i < n; i++)
		lens[i] = strlen(argv[i]);
	(void)rconn_cmd(o->wr, ack_cb, NULL, n, argv, lens);
}

/* --- timers, connections, stop ------------------------------------------ */

/* touch_arm: the next touch in claim_idle / 3 of the configuration
 * running now (a reload may change it). */
static void
touch_arm(struct outbox *o)
{
	int64_t ms = claim_idle_ms(o) / 3;
	struct timeval tv;

	if (ms < TOUCH_MIN_MS)
		ms = TOUCH_MIN_MS;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(o->touch_ev, &tv);
}

static void
touch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outbox *o = arg;

	(void)fd;
	(void)what;
	if (o->stopping)
		return;
	if (rconn_ready(o->wr))
		touch(o);
	touch_arm(o);
}

static void	defer_run(struct outbox *);

static void
defer_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct outbox *o = priv;
	redisReply *reply = r;
	const redisReply *bad;
	size_t i, n = 0;
	char *sp;
	long prio;

	(void)ac;
	o->deferring = false;
	if (reply == NULL)
		return;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
		log_warnx("deferred alerts (%s): %s", o->defer_key,
		    reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "unexpected reply");
		return;
	}
	for (i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *id = reply->element[i];
		const redisReply *line = reply->element[i + 1];

		n++;
		if (line->type == REDIS_REPLY_STRING && line->len > 0) {
			/* "<priority> <line>", escaped when it was kept */
			prio = strtol(line->str, &sp, 10);
			if (*sp == ' ')
				syslog((int)prio, "%s", sp + 1);
		}
		if (id->type == REDIS_REPLY_STRING)
			log_debug("deferred alert %s delivered", id->str);
	}
	if (n > 0)
		log_info("deferred alerts: %zu delivered now that their "
		    "calendar is open", n);
	bad = reply->element[reply->elements - 1];
	for (i = 0; bad->type == REDIS_REPLY_ARRAY && i < bad->elements; i++)
		if (bad->element[i]->type == REDIS_REPLY_STRING)
			/* "ID COMMAND KEY: error": what to fix (the
			 * channel's key), and which alert it lost */
			log_warnx("deferred alert %s", bad->element[i]->str);
	if (n == DEFER_BATCH)
		defer_run(o);	/* more may be due */
}

/* defer_run: deliver the alerts whose calendar has opened. */
static void
defer_run(struct outbox *o)
{
	char now[32], limit[16];
	const char *argv[] = { "EVAL", defer_script, "2", o->defer_key,
	    o->defer_rec, now, limit };

	if (o->deferring || o->stopping || !rconn_ready(o->wr))
		return;
	snprintf(now, sizeof(now), "%lld", (long long)now_ms());
	snprintf(limit, sizeof(limit), "%d", DEFER_BATCH);
	if (rconn_cmd(o->wr, defer_cb, o, 7, argv, NULL) == 0)
		o->deferring = true;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outbox *o = arg;
	double now = now_wall();
	struct item *it;

	(void)fd;
	(void)what;
	if (o->stopping) {
		if (now >= o->stop_at) {
			log_warnx("outbox: %zu deliveries still running at the "
			    "stop timeout; they will be delivered again",
			    o->nrunning);
			o->stop_at = 1e300;
			event_active(o->done_ev, 0, 0);
		}
		return;
	}
	/* Watchdogs: a reply overdue by far means a silent connection. */
	if (o->reading && o->read_sent > 0 &&
	    now - o->read_sent > READ_BLOCK_MS / 1000.0 + SILENCE_GRACE_S)
		rconn_drop(o->rd, "outbox read unanswered");
	TAILQ_FOREACH(it, &o->items, link)
		if (it->st == I_FINISH && it->finish_sent > 0 &&
		    now - it->finish_sent > 2 * SILENCE_GRACE_S)
			break;
	if (it != NULL)
		rconn_drop(o->wr, "outbox write unanswered");
	if (now - o->last_claim >= claim_period_s(o)) {
		o->last_claim = now;
		if (!o->claim_due) {
			o->claim_due = true;
			snprintf(o->claim_cursor, sizeof(o->claim_cursor),
			    "0-0");
		}
	}
	if (rconn_ready(o->rd) && !o->group_ready && !o->reading)
		ensure_group(o);
	pump(o);
	read_next(o);
	defer_run(o);
}

static void
conn_state(struct rconn *rc, bool up, void *arg)
{
	struct outbox *o = arg;

	if (o->closing)
		return;
	if (rc == o->rd) {
		o->history = true;
		snprintf(o->cursor, sizeof(o->cursor), "0");
		o->group_ready = false;
		if (up && !o->stopping)
			ensure_group(o);
	}
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outbox *o = arg;

	(void)fd;
	(void)what;
	if (o->done != NULL) {
		void (*done)(void *) = o->done;
		o->done = NULL;
		done(o->done_arg);
	}
}

/* stop_check: while stopping, report done once nothing is in flight. */
static void
stop_check(struct outbox *o)
{
	if (o->stopping && o->nheld == 0)
		event_active(o->done_ev, 0, 0);
}

/* --- public -------------------------------------------------------------- */

struct outbox *
outbox_new(struct event_base *base, const struct redis_target *t,
    const char *name, const struct config *(*get_config)(void *), void *arg,
    struct stats *st)
{
	struct outbox *o = xcalloc(1, sizeof(*o));
	const struct config *cf = get_config(arg);
	const char *env;
	char host[256];

	o->base = base;
	o->get_config = get_config;
	o->cfarg = arg;
	o->stats = st;
	if (name != NULL && name[0] != '\0')
		(void)str_copy(o->name, sizeof(o->name), name);
	else {
		if (gethostname(host, sizeof(host)) == -1)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(o->name, sizeof(o->name), "%s:%ld", host,
		    (long)getpid());
	}
	snprintf(o->key, sizeof(o->key), "%soutbox", cf->state_prefix);
	snprintf(o->defer_key, sizeof(o->defer_key), "%s" DEFER_SUFFIX,
	    cf->state_prefix);
	snprintf(o->defer_rec, sizeof(o->defer_rec), "%s:alerts",
	    o->defer_key);
	/* RECOVERYD_BACKOFF_BASE_MS: undocumented, for the test suite
	 * (tests/test_outbox.sh), which cannot wait minutes for retries. */
	o->backoff_base_ms = 1000;
	if ((env = getenv("RECOVERYD_BACKOFF_BASE_MS")) != NULL &&
	    atoll(env) >= 1 && atoll(env) <= 60000)
		o->backoff_base_ms = atoll(env);
	o->rng = ((uint64_t)now_ms() << 16) ^ (uint64_t)getpid() ^
	    0x9e3779b97f4a7c15ULL;
	TAILQ_INIT(&o->items);
	o->history = true;
	snprintf(o->cursor, sizeof(o->cursor), "0");
	snprintf(o->claim_cursor, sizeof(o->claim_cursor), "0-0");
	o->last_claim = now_wall();
	o->rd = rconn_new(base, t, "outbox read", conn_state, o);
	o->wr = rconn_new(base, t, "outbox write", conn_state, o);
	o->webhook = webhook_new(base, delivered, o);
	o->execer = execer_new(base, delivered, o);
	o->tick = event_new(base, -1, EV_PERSIST, tick_cb, o);
	o->touch_ev = evtimer_new(base, touch_cb, o);
	o->done_ev = event_new(base, -1, 0, done_cb, o);
	if (o->tick == NULL || o->touch_ev == NULL || o->done_ev == NULL)
		fatalx("%s: event_new", __func__);
	return o;
}

void
outbox_start(struct outbox *o)
{
	struct timeval tv = { 1, 0 };

	rconn_start(o->rd);
	rconn_start(o->wr);
	evtimer_add(o->tick, &tv);
	touch_arm(o);
}

void
outbox_stop(struct outbox *o, void (*done)(void *), void *arg)
{
	struct item *it, *next;

	o->stopping = true;
	o->done = done;
	o->done_arg = arg;
	o->stop_at = now_wall() + OUTBOX_STOP_S;
	/* Not started yet: they stay pending and run at the next start. */
	for (it = TAILQ_FIRST(&o->items); it != NULL; it = next) {
		next = TAILQ_NEXT(it, link);
		if (it->st == I_WAIT || it->st == I_READY)
			item_free(it);
	}
	if (o->nheld > 0)
		log_info("outbox: waiting up to %d s for %zu deliveries",
		    OUTBOX_STOP_S, o->nheld);
	stop_check(o);
}

void
outbox_free(struct outbox *o)
{
	if (o == NULL)
		return;
	o->closing = true;
	/* Pending replies get NULL now: their callbacks see closing. */
	rconn_free(o->rd);
	rconn_free(o->wr);
	webhook_free(o->webhook);
	execer_free(o->execer);
	while (!TAILQ_EMPTY(&o->items))
		item_free(TAILQ_FIRST(&o->items));
	event_free(o->tick);
	event_free(o->touch_ev);
	event_free(o->done_ev);
	free(o);
}
