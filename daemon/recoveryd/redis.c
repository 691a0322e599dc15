/*
 * redis.c — a self-healing asynchronous Redis connection (see redis.h).
 *
 * State machine: IDLE -> CONNECTING -> (AUTH/SELECT) -> READY; any error
 * or disconnect -> WAIT (a timer) -> CONNECTING. AUTH is "AUTH user
 * password" for an ACL user, "AUTH password" for the default user; both
 * come from the target, which redis_url_parse() filled from the URL,
 * REDIS_USERNAME and REDIS_PASSWORD (or their credentials) at start.
 *
 * hiredis owns and frees the redisAsyncContext after a failed connect or
 * a disconnect; we only free it ourselves in rconn_drop()/rconn_free(),
 * never from inside one of its callbacks (hiredis forbids that).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/adapters/libevent.h>

#include "log.h"
#include "redis.h"
#include "util.h"

enum rstate { RS_IDLE, RS_CONNECTING, RS_HANDSHAKE, RS_READY, RS_WAIT,
    RS_CLOSED };

struct rconn {
	struct event_base	*base;
	struct redis_target	 target;
	char			 name[32];
	rconn_state_cb		 cb;
	void			*arg;
	rconn_setup_cb		 setup;
	void			*setup_arg;
	redisAsyncContext	*ac;
	enum rstate		 state;
	struct event		*retry;
	int			 backoff_ms;
	size_t			 pending;
	unsigned long		 reconnects;
	bool			 was_up;
	char			 lasterr[128];
};

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000

static void rconn_connect(struct rconn *);

bool
reply_ok(const redisReply *r)
{
	return r != NULL && r->type != REDIS_REPLY_ERROR;
}

static void
schedule_retry(struct rconn *rc)
{
	struct timeval tv;

	if (rc->state == RS_CLOSED)
		return;
	rc->state = RS_WAIT;
	tv.tv_sec = rc->backoff_ms / 1000;
	tv.tv_usec = (rc->backoff_ms % 1000) * 1000;
	evtimer_add(rc->retry, &tv);
	rc->backoff_ms *= 2;
	if (rc->backoff_ms > BACKOFF_MAX_MS)
		rc->backoff_ms = BACKOFF_MAX_MS;
}

static void
retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	rconn_connect(arg);
}

static void
went_down(struct rconn *rc, const char *why)
{
	bool was_ready = rc->state == RS_READY;

	rc->ac = NULL;
	rc->pending = 0;
	(void)str_copy(rc->lasterr, sizeof(rc->lasterr), why);
	if (rc->state == RS_CLOSED)
		return;
	if (was_ready)
		log_warnx("redis %s: connection lost: %s; reconnecting",
		    rc->name, why);
	schedule_retry(rc);
	if (was_ready && rc->cb != NULL)
		rc->cb(rc, false, rc->arg);
}

static void
ready(struct rconn *rc)
{
	rc->state = RS_READY;
	rc->backoff_ms = BACKOFF_MIN_MS;
	rc->lasterr[0] = '\0';
	if (rc->was_up)
		rc->reconnects++;
	rc->was_up = true;
	log_info("redis %s: connected to %s", rc->name,
	    rc->target.unix_socket ? rc->target.path : rc->target.host);
	if (rc->cb != NULL)
		rc->cb(rc, true, rc->arg);
}

/* handshake_cb: replies of AUTH and SELECT; the last one makes us ready. */
static void
handshake_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct rconn *rc = ac->data;
	redisReply *reply = r;
	int last = priv != NULL;

	if (rc == NULL || rc->ac != ac)
		return;
	rc->pending--;
	if (!reply_ok(reply)) {
		if (last)
			log_warnx("redis %s: SELECT %d failed: %s", rc->name,
			    rc->target.db, reply ? reply->str :
			    "connection lost");
		else
			log_warnx("redis %s: AUTH as user %s failed: %s (the "
			    "user and password come from redis.url, "
			    "REDIS_USERNAME and REDIS_PASSWORD, or the "
			    "credentials redis-username and redis-password)",
			    rc->name, rc->target.username[0] != '\0' ?
			    rc->target.username : "default",
			    reply ? reply->str : "connection lost");
		/* An error reply leaves the connection up: drop it later,
		 * from the loop, not from inside this callback. */
		(void)str_copy(rc->lasterr, sizeof(rc->lasterr),
		    reply ? reply->str : "connection lost");
		if (reply != NULL)
			redisAsyncDisconnect(ac);
		return;
	}
	if (last && rc->state == RS_HANDSHAKE)
		ready(rc);
}

static void
connect_cb(const redisAsyncContext *cac, int status)
{
	redisAsyncContext *ac = (redisAsyncContext *)cac;
	struct rconn *rc = ac->data;
	const struct redis_target *t;
	char db[16];

	if (rc == NULL)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees ac after this callback. */
		if (rc->lasterr[0] == '\0' || rc->state != RS_WAIT)
			log_debug("redis %s: connect failed: %s", rc->name,
			    ac->errstr);
		went_down(rc, ac->errstr);
		return;
	}
	/* TCP only: on a unix socket the TCP options fail and hiredis marks
	 * the whole context as failed. */
	if (!rc->target.unix_socket)
		redisEnableKeepAlive(&ac->c);
	rc->state = RS_HANDSHAKE;
	t = &rc->target;
	{
		const char *argv[3];
		size_t lens[3];
		int n;

		if ((n = redis_auth_args(t, argv, lens)) > 0) {
			redisAsyncCommandArgv(ac, handshake_cb, NULL, n, argv,
			    lens);
			rc->pending++;
		}
	}
	snprintf(db, sizeof(db), "%d", rc->target.db);
	{
		const char *argv[] = { "SELECT", db };
		size_t lens[] = { 6, strlen(db) };
		redisAsyncCommandArgv(ac, handshake_cb, (void *)1, 2, argv,
		    lens);
		rc->pending++;
	}
}

static void
disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct rconn *rc = ac->data;

	if (rc == NULL || rc->ac != ac)
		return;
	went_down(rc, status == REDIS_OK ? "closed" :
	    (ac->errstr[0] ? ac->errstr : "error"));
}

static void
rconn_connect(struct rconn *rc)
{
	redisAsyncContext *ac;

	if (rc->state == RS_CLOSED)
		return;
	rc->state = RS_CONNECTING;
	if (rc->target.unix_socket)
		ac = redisAsyncConnectUnix(rc->target.path);
	else
		ac = redisAsyncConnect(rc->target.host, rc->target.port);
	if (ac == NULL) {
		went_down(rc, "out of memory");
		return;
	}
	if (ac->err) {
		char why[128];

		(void)str_copy(why, sizeof(why), ac->errstr);
		redisAsyncFree(ac);
		if (strcmp(rc->lasterr, why) != 0)
			log_warnx("redis %s: cannot connect to %s: %s", rc->name,
			    rc->target.unix_socket ? rc->target.path :
			    rc->target.host, why);
		went_down(rc, why);
		return;
	}
	ac->data = rc;
	rc->ac = ac;
	if (rc->setup != NULL)
		rc->setup(ac, rc->setup_arg);
	redisLibeventAttach(ac, rc->base);
	redisAsyncSetConnectCallback(ac, connect_cb);
	redisAsyncSetDisconnectCallback(ac, disconnect_cb);
}

struct rconn *
rconn_new(struct event_base *base, const struct redis_target *t,
    const char *name, rconn_state_cb cb, void *arg)
{
	struct rconn *rc = xcalloc(1, sizeof(*rc));

	rc->base = base;
	rc->target = *t;
	(void)str_copy(rc->name, sizeof(rc->name), name);
	rc->cb = cb;
	rc->arg = arg;
	rc->backoff_ms = BACKOFF_MIN_MS;
	rc->retry = evtimer_new(base, retry_cb, rc);
	if (rc->retry == NULL)
		fatalx("%s: evtimer_new", __func__);
	return rc;
}

void
rconn_set_setup(struct rconn *rc, rconn_setup_cb setup, void *arg)
{
	rc->setup = setup;
	rc->setup_arg = arg;
}

void
rconn_start(struct rconn *rc)
{
	if (rc->state == RS_IDLE)
		rconn_connect(rc);
}

bool
rconn_ready(const struct rconn *rc)
{
	return rc->state == RS_READY && rc->ac != NULL;
}

/* cmd_done: wraps every command so pending counts stay right. */
struct cmd_ctx {
	redisCallbackFn	*cb;
	void		*priv;
};

static void
cmd_done(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cmd_ctx *cc = priv;
	struct rconn *rc = ac->data;

	if (rc != NULL && rc->ac == ac && rc->pending > 0)
		rc->pending--;
	cc->cb(ac, reply, cc->priv);
	free(cc);
}

/* put_len: "<c><n>\r\n" at p; returns the end. */
static char *
put_len(char *p, char c, size_t n)
{
	char tmp[24];
	size_t i = 0;

	*p++ = c;
	do
		tmp[i++] = (char)('0' + n % 10);
	while ((n /= 10) > 0);
	while (i > 0)
		*p++ = tmp[--i];
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

#define FMT_KEEP	(1024 * 1024)	/* bytes the format buffer keeps */

/*
 * format_argv: argv as the RESP array Redis reads, into a buffer kept
 * from call to call (the daemon is one thread). hiredis's own
 * redisFormatSdsCommandArgv runs a format parser per argument and grows
 * its string piece by piece: for a batch's commit, thousands of
 * arguments, that took half a millisecond on the path from one commit's
 * answer to the next commit, while Redis waited (issue 9). Here: the
 * size first, one reservation, then memcpy.
 */
static const struct buf *
format_argv(int argc, const char **argv, const size_t *lens)
{
	static struct buf out;
	size_t need = 24, i, l;
	char *p;

	if (out.cap > FMT_KEEP)
		buf_free(&out);
	for (i = 0; i < (size_t)argc; i++)
		need += 24 + (lens != NULL ? lens[i] : strlen(argv[i])) + 2;
	buf_reset(&out);
	buf_reserve(&out, need);
	p = put_len(out.data, '*', (size_t)argc);
	for (i = 0; i < (size_t)argc; i++) {
		l = lens != NULL ? lens[i] : strlen(argv[i]);
		p = put_len(p, '$', l);
		if (l > 0)
			memcpy(p, argv[i], l);
		p += l;
		*p++ = '\r';
		*p++ = '\n';
	}
	out.len = (size_t)(p - out.data);
	return &out;
}

int
rconn_cmd(struct rconn *rc, redisCallbackFn *cb, void *priv, int argc,
    const char **argv, const size_t *lens)
{
	struct cmd_ctx *cc;
	const struct buf *f;

	if (!rconn_ready(rc))
		return -1;
	f = format_argv(argc, argv, lens);
	cc = xmalloc(sizeof(*cc));
	cc->cb = cb;
	cc->priv = priv;
	if (redisAsyncFormattedCommand(rc->ac, cmd_done, cc, f->data,
	    f->len) != REDIS_OK) {
		free(cc);
		return -1;
	}
	rc->pending++;
	return 0;
}

/*
 * rconn_flush: the socket write only (redisBufferWrite), not
 * redisAsyncHandleWrite, which on an error disconnects and frees the
 * context at once, also from inside one of its own callbacks, where
 * this is called from. An error stays in the context; the write event
 * hiredis still holds then reports it from the loop, as for any write.
 */
void
rconn_flush(struct rconn *rc)
{
	int done;

	if (rconn_ready(rc))
		(void)redisBufferWrite(&rc->ac->c, &done);
}

size_t
rconn_pending(const struct rconn *rc)
{
	return rc->pending;
}

void
rconn_drop(struct rconn *rc, const char *why)
{
	redisAsyncContext *ac = rc->ac;

	if (ac == NULL)
		return;
	log_warnx("redis %s: dropping connection: %s", rc->name, why);
	/* redisAsyncFree runs the pending callbacks with NULL and then our
	 * disconnect callback, which schedules the reconnect. */
	redisAsyncFree(ac);
	if (rc->ac == ac)
		went_down(rc, why);
}

unsigned long
rconn_reconnects(const struct rconn *rc)
{
	return rc->reconnects;
}

const char *
rconn_last_error(const struct rconn *rc)
{
	return rc->lasterr;
}

void
rconn_free(struct rconn *rc)
{
	if (rc == NULL)
		return;
	rc->state = RS_CLOSED;
	if (rc->ac != NULL) {
		redisAsyncContext *ac = rc->ac;
		rc->ac = NULL;
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	event_free(rc->retry);
	free(rc);
}
