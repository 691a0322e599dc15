/*
 * redis.h — one asynchronous Redis connection that stays up.
 *
 * hiredis 0.14.1 has no reconnect and no command timeout, so this wraps a
 * redisAsyncContext on the libevent loop with:
 *  - connect, then AUTH (the target's user, if any, and password) and
 *    SELECT, before the connection is reported ready;
 *  - reconnect after any failure with exponential backoff (100 ms doubling,
 *    capped at 5 s), reset by a successful connect;
 *  - TCP keepalive;
 *  - rconn_drop() to abandon a connection that has gone silent (the
 *    caller's watchdog decides when): pending callbacks get a NULL reply.
 *
 * Every reply callback must treat reply == NULL as "outcome unknown":
 * the connection went away and the command may or may not have run.
 * The daemon uses two of these: one for the blocking XREADGROUP, one for
 * everything else, so a blocked read never delays a write.
 */
#ifndef RECOVERYD_REDIS_H
#define RECOVERYD_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "config.h"

struct buf;
struct rconn;

/* Called when the connection becomes ready (up = true) or is lost. */
typedef void (*rconn_state_cb)(struct rconn *, bool up, void *arg);

/* Called with every new hiredis context before it connects (the consumer
 * installs its reply-object functions there). */
typedef void (*rconn_setup_cb)(redisAsyncContext *, void *arg);

/* rconn_new: nothing happens until rconn_start(). name is for logs. */
struct rconn	*rconn_new(struct event_base *, const struct redis_target *,
		    const char *name, rconn_state_cb, void *arg);
void		 rconn_start(struct rconn *);
/* rconn_set_setup: run setup on each context from the next connect on. */
void		 rconn_set_setup(struct rconn *, rconn_setup_cb, void *arg);
bool		 rconn_ready(const struct rconn *);
/*
 * rconn_cmd: send one command (argv form, binary safe). Returns 0 when
 * queued (cb will be called exactly once, with NULL on disconnect), -1
 * when the connection is not ready (cb is not called).
 */
int		 rconn_cmd(struct rconn *, redisCallbackFn *cb, void *priv,
		    int argc, const char **argv, const size_t *lens);
/*
 * rconn_cmds: n commands, already in RESP (resp.h), in nparts pieces
 * sent at once, in order; cb is called once for each of their replies,
 * in order (with NULL for each one on disconnect). Same return as
 * rconn_cmd. For a batch's transaction: thousands of commands whose
 * replies need one callback.
 */
int		 rconn_cmds(struct rconn *, redisCallbackFn *cb, void *priv,
		    const struct buf *const *parts, size_t nparts, size_t n);
/*
 * rconn_flush: write what is queued now rather than when the loop next
 * runs (what the socket does not take goes out then, as usual). For a
 * command that must reach Redis before others sent in the same turn of
 * the loop, on another connection.
 */
void		 rconn_flush(struct rconn *);
/* rconn_pending: commands sent whose replies have not arrived. */
size_t		 rconn_pending(const struct rconn *);
/* rconn_drop: abandon the current connection (not from inside a reply
 * callback of this connection) and reconnect after the backoff. */
void		 rconn_drop(struct rconn *, const char *why);
/* rconn_reconnects: how many times a lost connection was re-established. */
unsigned long	 rconn_reconnects(const struct rconn *);
/* rconn_client_id: the connection's CLIENT ID while it is ready (for
 * CLIENT UNBLOCK from another connection); 0 when unknown. */
long long	 rconn_client_id(const struct rconn *);
/* rconn_last_error: why the last attempt failed ("" if none). */
const char	*rconn_last_error(const struct rconn *);
/* rconn_free: close without reconnecting; pending callbacks get NULL. */
void		 rconn_free(struct rconn *);

/* reply_ok: a reply that is neither NULL nor an error. */
bool		 reply_ok(const redisReply *);

#endif
