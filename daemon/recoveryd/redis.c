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
#include "resp.h"
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
	long long		 client_id;	/* CLIENT ID; 0: unknown */
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

/* id_cb: the reply of CLIENT ID, the handshake's last; any answer makes
 * us ready (a user the ACL denies CLIENT only cannot be unblocked). */
static void
id_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct rconn *rc = ac->data;
	redisReply *reply = r;

	(void)priv;
	if (rc == NULL || rc->ac != ac)
		return;
	rc->pending--;
	if (reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_INTEGER)
		rc->client_id = reply->integer;
	else
		log_debug("redis %s: CLIENT ID: %s", rc->name,
		    reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "unexpected reply");
	if (rc->state == RS_HANDSHAKE)
		ready(rc);
}

/* handshake_cb: replies of AUTH and SELECT; once SELECT succeeded,
 * CLIENT ID. */
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
	if (last && rc->state == RS_HANDSHAKE) {
		const char *argv[] = { "CLIENT", "ID" };
		size_t lens[] = { 6, 2 };

		rc->client_id = 0;
		redisAsyncCommandArgv(ac, id_cb, NULL, 2, argv, lens);
		rc->pending++;
	}
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

/*
 * The replies "+OK" and "+QUEUED" (a transaction answers one for each of
 * its thousands of commands) as two static objects instead of two
 * allocations and two frees each: the reader's functions are hiredis's
 * own (the default table, which it does not export), wrapped. Only a
 * whole reply, never an element of an array: hiredis frees those
 * itself. A callback only reads its reply.
 */
static char ok_s[] = "OK", queued_s[] = "QUEUED";
static redisReply ok_reply = { REDIS_REPLY_STATUS, 0, 2, ok_s, 0, NULL };
static redisReply queued_reply = { REDIS_REPLY_STATUS, 0, 6, queued_s, 0,
    NULL };
static redisReplyObjectFunctions *dflt_fns, reply_fns;

static void *
reply_string(const redisReadTask *task, char *str, size_t len)
{
	if (task->parent == NULL && task->type == REDIS_REPLY_STATUS) {
		if (len == 2 && memcmp(str, "OK", 2) == 0)
			return &ok_reply;
		if (len == 6 && memcmp(str, "QUEUED", 6) == 0)
			return &queued_reply;
	}
	return dflt_fns->createString(task, str, len);
}

static void
reply_free(void *r)
{
	if (r != &ok_reply && r != &queued_reply)
		dflt_fns->freeObject(r);
}

static void
use_reply_fns(redisAsyncContext *ac)
{
	if (ac->c.reader == NULL || ac->c.reader->fn == NULL)
		return;
	if (dflt_fns == NULL) {
		dflt_fns = ac->c.reader->fn;
		reply_fns = *dflt_fns;
		reply_fns.createString = reply_string;
		reply_fns.freeObject = reply_free;
	}
	if (ac->c.reader->fn == dflt_fns)
		ac->c.reader->fn = &reply_fns;
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
	use_reply_fns(ac);
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

/* cmd_done: wraps every command so pending counts stay right; one
 * cmd_ctx serves the left replies still to come of what was sent with
 * it (rconn_cmds). */
struct cmd_ctx {
	redisCallbackFn	*cb;
	void		*priv;
	size_t		 left;
};

static void
cmd_done(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cmd_ctx *cc = priv;
	struct rconn *rc = ac->data;

	if (rc != NULL && rc->ac == ac && rc->pending > 0)
		rc->pending--;
	cc->cb(ac, reply, cc->priv);
	if (--cc->left == 0)
		free(cc);
}

#define FMT_KEEP	(1024 * 1024)	/* bytes the format buffer keeps */

/* format_argv: resp_append into a buffer kept from call to call (the
 * daemon is one thread). */
static const struct buf *
format_argv(int argc, const char **argv, const size_t *lens)
{
	static struct buf out;

	if (out.cap > FMT_KEEP)
		buf_free(&out);
	buf_reset(&out);
	resp_append(&out, argc, argv, lens);
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
	cc->left = 1;
	if (redisAsyncFormattedCommand(rc->ac, cmd_done, cc, f->data,
	    f->len) != REDIS_OK) {
		free(cc);
		return -1;
	}
	rc->pending++;
	return 0;
}

/*
 * rconn_cmds: what redisAsyncFormattedCommand does for one command
 * (append to the output buffer, push a callback, ask for a write), for
 * n at once: hiredis's call looks at each command's name (for SUBSCRIBE
 * and MONITOR, which a batch never sends), copies it by itself and adds
 * the write event again, about a thousand instructions a command, a
 * tenth of the daemon's work in a drain (issue 9). The callbacks are
 * pushed as hiredis pushes its own: heap nodes on ac->replies, which it
 * shifts off and frees with free() (hiredis 0.14, async.c), all sharing
 * one cmd_ctx.
 */
int
rconn_cmds(struct rconn *rc, redisCallbackFn *cb, void *priv,
    const struct buf *const *parts, size_t nparts, size_t n)
{
	redisAsyncContext *ac;
	redisCallback *node;
	struct cmd_ctx *cc;
	sds ob;
	size_t i, len = 0;

	if (!rconn_ready(rc))
		return -1;
	ac = rc->ac;
	if (ac->c.flags & (REDIS_DISCONNECTING | REDIS_FREEING))
		return -1;
	if (n == 0)
		return 0;
	for (i = 0; i < nparts; i++)
		len += parts[i]->len;
	if ((ob = sdsMakeRoomFor(ac->c.obuf, len)) == NULL)
		fatalx("%s: out of memory", __func__);
	for (i = 0; i < nparts; i++)
		if (parts[i]->len > 0 &&
		    (ob = sdscatlen(ob, parts[i]->data, parts[i]->len)) == NULL)
			fatalx("%s: out of memory", __func__);
	ac->c.obuf = ob;
	cc = xmalloc(sizeof(*cc));
	cc->cb = cb;
	cc->priv = priv;
	cc->left = n;
	for (i = 0; i < n; i++) {
		node = xmalloc(sizeof(*node));
		memset(node, 0, sizeof(*node));	/* (fields later versions add) */
		node->fn = cmd_done;
		node->privdata = cc;
		if (ac->replies.head == NULL)
			ac->replies.head = node;
		if (ac->replies.tail != NULL)
			ac->replies.tail->next = node;
		ac->replies.tail = node;
	}
	rc->pending += n;
	if (ac->ev.addWrite != NULL)
		ac->ev.addWrite(ac->ev.data);
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

long long
rconn_client_id(const struct rconn *rc)
{
	return rc->state == RS_READY ? rc->client_id : 0;
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
