/*
 * owner.c — the owner lease (owner.h): take it, renew it, notice when it
 * is gone, give it up at a clean stop.
 *
 * One timer, every tenth of the lease (at least 20 ms), drives it all:
 * the holder sends a renewal every third of the lease (never two at
 * once); a standby sends an attempt when the holder's lease should have
 * run out (the PTTL its last failed attempt returned, plus a few ms; at
 * the latest every third of the lease), the timer set for that moment
 * when it comes before the next tick. Each attempt is the lease script
 * (scripts.c), so taking and renewing are atomic. A connection that
 * comes up and scripts just loaded go on at once: a daemon started on
 * a free lease decides the stream within a round trip or two, not two
 * ticks (600 ms with the default lease).
 *
 * Times are CLOCK_MONOTONIC: a wall-clock step cannot stretch a lease,
 * and the time a stopped process spent stopped counts (the lease passed
 * in Redis too). The local validity ends ha.lease after the send time of
 * the renewal that succeeded, minus LEASE_MARGIN of it: Redis started its
 * expiry later than we sent, so we stop before Redis lets anyone else in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "owner.h"
#include "redis.h"
#include "scripts.h"
#include "store.h"
#include "util.h"

#define LEASE_MARGIN	5	/* a fifth of the lease */
#define TICK_MIN_MS	20

struct owner {
	struct event_base	*base;
	struct rconn		*rc;
	struct stats		*stats;
	owner_cb		 cb;
	void			*arg;
	char			 name[128];
	char			 key[600], epoch_key[608];
	int64_t			 lease_ms;
	char			 sha_lease[41], sha_release[41];
	bool			 loaded, loading;
	bool			 held;
	char			 token[300];	/* "" unless held */
	char			 last[300];	/* the last token we held */
	double			 valid_until;	/* monotonic seconds */
	double			 next_try;	/* standby: next attempt */
	double			 last_sent;	/* holder: last renewal sent */
	bool			 inflight;	/* an attempt is unanswered */
	unsigned		 gen;		/* role changes, for late replies */
	bool			 released;
	void			(*done)(void *);
	void			*done_arg;
	struct event		*tick;
};

static void	arm_in(struct owner *, int64_t);
static void	arm(struct owner *);

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
set_role(struct owner *o, bool held, const char *why)
{
	if (held == o->held)
		return;
	o->held = held;
	o->gen++;
	/* An attempt still out belongs to the old role: its reply is
	 * ignored (gen), so it must not hold the next one back, or a daemon
	 * whose renewal was overdue would never try for the lease again. */
	o->inflight = false;
	o->stats->owner = held;
	if (held) {
		o->stats->takeovers++;
		o->stats->owner_epoch = strtoull(o->token, NULL, 10);
		log_info("owner of %s: this daemon decides the stream now "
		    "(lease %s, epoch %llu)", o->key, o->token,
		    (unsigned long long)o->stats->owner_epoch);
	} else {
		log_warnx("standby: lease %s lost (%s); another daemon may "
		    "take the stream over", o->key, why);
		o->token[0] = '\0';
	}
	o->cb(o->arg, held);
}

static void
loaded_one(struct owner *o, const redisReply *reply, char *sha, bool last)
{
	if (reply_ok(reply) && reply->type == REDIS_REPLY_STRING) {
		snprintf(sha, 41, "%s", reply->str);
		if (last) {
			o->loaded = true;
			o->loading = false;
		}
		return;
	}
	if (last)
		o->loading = false;
	if (reply != NULL)
		log_warnx("SCRIPT LOAD (lease): %s", reply->str != NULL ?
		    reply->str : "unexpected reply");
}

static void
loaded_lease_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct owner *o = priv;

	(void)ac;
	loaded_one(o, r, o->sha_lease, false);
}

/* Replies come in order: when the release script's arrives, the lease
 * script's has (o->sha_lease is empty if it failed). */
static void
loaded_release_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct owner *o = priv;

	(void)ac;
	loaded_one(o, r, o->sha_release, true);
	if (o->sha_lease[0] == '\0')
		o->loaded = false;
	if (o->loaded && !o->released)
		arm_in(o, 0);	/* the first attempt now */
}

static void
load_scripts(struct owner *o)
{
	const char *a1[] = { "SCRIPT", "LOAD", script_lease };
	const char *a2[] = { "SCRIPT", "LOAD", script_release };
	size_t l1[] = { 6, 4, strlen(script_lease) };
	size_t l2[] = { 6, 4, strlen(script_release) };

	o->loading = true;
	o->sha_lease[0] = o->sha_release[0] = '\0';
	if (rconn_cmd(o->rc, loaded_lease_cb, o, 3, a1, l1) == -1 ||
	    rconn_cmd(o->rc, loaded_release_cb, o, 3, a2, l2) == -1)
		o->loading = false;
}

struct attempt {
	struct owner	*o;
	unsigned	 gen;
	double		 sent;
};

static void
attempt_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct attempt *x = priv;
	struct owner *o = x->o;
	redisReply *reply = r, *e0;
	double now = now_mono();

	(void)ac;
	if (x->gen != o->gen || o->released) {
		if (x->gen == o->gen)
			o->inflight = false;
		free(x);
		return;
	}
	o->inflight = false;
	if (reply == NULL) {
		free(x);	/* the expiry check decides */
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "NOSCRIPT", 8) == 0)
			o->loaded = false;
		else
			log_warnx("lease %s: %s", o->key, reply->str);
		o->next_try = now + 0.2;
		free(x);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
	    (e0 = reply->element[0])->type != REDIS_REPLY_INTEGER ||
	    reply->element[1]->type != REDIS_REPLY_STRING) {
		log_warnx("lease %s: unexpected reply", o->key);
		free(x);
		return;
	}
	if (e0->integer == 1) {
		o->valid_until = x->sent + (double)o->lease_ms / 1000.0 *
		    (LEASE_MARGIN - 1) / LEASE_MARGIN;
		if (!o->held) {
			(void)str_copy(o->token, sizeof(o->token),
			    reply->element[1]->str);
			(void)str_copy(o->last, sizeof(o->last), o->token);
			set_role(o, true, NULL);
		}
		free(x);
		return;
	}
	/* Someone else holds it: try again when it should run out. */
	if (reply->elements >= 3 &&
	    reply->element[2]->type == REDIS_REPLY_INTEGER &&
	    reply->element[2]->integer > 0)
		o->next_try = now + reply->element[2]->integer / 1000.0 +
		    0.005;
	else
		o->next_try = now + (double)o->lease_ms / 3000.0;
	if (o->held)
		set_role(o, false, "held by another daemon");
	free(x);
	if (!o->released)
		arm(o);		/* at next_try, if before the next tick */
}

static void
send_attempt(struct owner *o, double now)
{
	char ms[24];
	const char *argv[] = { "EVALSHA", o->sha_lease, "2", o->key,
	    o->epoch_key, o->held ? o->token : o->last, o->name, ms };
	size_t lens[8], i;
	struct attempt *x;

	snprintf(ms, sizeof(ms), "%lld", (long long)o->lease_ms);
	for (i = 0; i < 8; i++)
		lens[i] = strlen(argv[i]);
	x = xmalloc(sizeof(*x));
	x->o = o;
	x->gen = o->gen;
	x->sent = now;
	if (rconn_cmd(o->rc, attempt_cb, x, 8, argv, lens) == -1) {
		free(x);
		if (!o->held)
			o->next_try = now + 0.1;	/* not at once (arm) */
		return;
	}
	o->inflight = true;
	if (o->held)
		o->last_sent = now;
	else
		o->next_try = now + (double)o->lease_ms / 3000.0;
}

/* arm_in: the timer in ms from now (0: at the loop's next turn). */
static void
arm_in(struct owner *o, int64_t ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(o->tick, &tv);
}

/* arm: the next tick, or a standby's next attempt when that is sooner. */
static void
arm(struct owner *o)
{
	int64_t ms = o->lease_ms / 10, due;

	if (ms < TICK_MIN_MS)
		ms = TICK_MIN_MS;
	/* (not while the connection is down: nothing to send, no spin) */
	if (!o->held && o->loaded && !o->inflight && rconn_ready(o->rc)) {
		due = (int64_t)((o->next_try - now_mono()) * 1000.0) + 1;
		if (due < ms)
			ms = due > 0 ? due : 0;
	}
	arm_in(o, ms);
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct owner *o = arg;
	double now = now_mono();

	(void)fd;
	(void)ev;
	if (o->released)
		return;
	arm(o);
	if (o->held && now >= o->valid_until)
		set_role(o, false, "renewal overdue");
	if (!rconn_ready(o->rc))
		return;
	if (!o->loaded) {
		if (!o->loading)
			load_scripts(o);
		return;
	}
	if (o->inflight)
		return;
	if (o->held) {
		if (now - o->last_sent >= (double)o->lease_ms / 3000.0)
			send_attempt(o, now);
	} else if (now >= o->next_try)
		send_attempt(o, now);
}

static void
conn_state(struct rconn *rc, bool up, void *arg)
{
	struct owner *o = arg;

	(void)rc;
	o->inflight = false;
	if (up) {
		o->loaded = false;	/* Redis may be new */
		o->loading = false;
		o->next_try = 0;
		if (!o->released)
			arm_in(o, 0);	/* load the scripts now */
	}
}

struct owner *
owner_new(struct event_base *base, const struct redis_target *t,
    const struct config *cf, const char *name, struct stats *st,
    owner_cb cb, void *arg)
{
	struct owner *o = xcalloc(1, sizeof(*o));
	struct buf b;

	o->base = base;
	o->stats = st;
	o->cb = cb;
	o->arg = arg;
	(void)str_copy(o->name, sizeof(o->name), name);
	buf_init(&b);
	buf_printf(&b, "%sowner:", cf->state_prefix);
	store_key_part(&b, cf->input_stream, strlen(cf->input_stream));
	(void)str_copy(o->key, sizeof(o->key), b.data);
	snprintf(o->epoch_key, sizeof(o->epoch_key), "%s:epoch", b.data);
	buf_free(&b);
	o->lease_ms = cf->ha_lease_ms;
	o->rc = rconn_new(base, t, "lease", conn_state, o);
	o->tick = evtimer_new(base, tick_cb, o);
	return o;
}

void
owner_start(struct owner *o)
{
	rconn_start(o->rc);
	arm(o);
}

void
owner_set_lease(struct owner *o, int64_t lease_ms)
{
	o->lease_ms = lease_ms;
}

bool
owner_active(const struct owner *o)
{
	return o->held && !o->released && now_mono() < o->valid_until;
}

const char *
owner_token(const struct owner *o)
{
	return o->held ? o->token : "";
}

const char *
owner_key(const struct owner *o)
{
	return o->key;
}

void
owner_lost(struct owner *o, const char *why)
{
	o->next_try = now_mono() + (double)o->lease_ms / 3000.0;
	set_role(o, false, why);
}

static void
released_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct owner *o = priv;
	redisReply *reply = r;
	void (*done)(void *) = o->done;

	(void)ac;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_INTEGER &&
	    reply->integer == 1)
		log_info("lease %s given up: a standby takes over now",
		    o->key);
	o->done = NULL;
	if (done != NULL)
		done(o->done_arg);
}

void
owner_release(struct owner *o, void (*done)(void *), void *arg)
{
	const char *argv[] = { "EVALSHA", o->sha_release, "1", o->key,
	    o->token };
	size_t lens[5], i;
	bool held = o->held;

	o->released = true;
	o->gen++;
	o->done = done;
	o->done_arg = arg;
	if (held && o->loaded && rconn_ready(o->rc)) {
		for (i = 0; i < 5; i++)
			lens[i] = strlen(argv[i]);
		if (rconn_cmd(o->rc, released_cb, o, 5, argv, lens) == 0)
			return;
	}
	o->done = NULL;
	done(arg);
}

const char *
owner_health(const struct owner *o)
{
	return rconn_ready(o->rc) ? NULL : "redis lease connection lost";
}

void
owner_free(struct owner *o)
{
	if (o == NULL)
		return;
	rconn_free(o->rc);
	event_free(o->tick);
	free(o);
}
