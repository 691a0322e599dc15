/*
 * channel.h — the channels that leave the machine: webhook (HTTP POST
 * through libcurl's multi interface) and exec (a program run without a
 * shell). Both are driven by the libevent loop and never block it.
 *
 * The outbox worker (outbox.c) reads durable delivery records from Redis
 * and hands each one to a channel as a struct delivery. The channel starts
 * the delivery and returns at once; when it is over, the channel sets
 * result and error and calls the done function it was created with —
 * always later, from the event loop, never from inside the start call.
 * What to do next (ack, retry, give up) is the outbox's business: channels
 * only classify the outcome.
 *
 * Everything a running delivery needs from the struct channel (URL,
 * headers, timeout, argv) is copied or rendered when it starts, because
 * the configuration may be swapped (SIGHUP) while it runs.
 */
#ifndef RECOVERYD_CHANNEL_H
#define RECOVERYD_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"

#define DELIVERY_ERR_MAX	512

enum delivery_result {
	DELIVERY_OK,		/* delivered */
	DELIVERY_RETRY,		/* failed; trying again may help */
	DELIVERY_FAIL		/* failed; trying again will not help */
};

/*
 * One delivery of one alert to one channel. The outbox owns it and the
 * strings it points to; a channel may read them until it calls done.
 */
struct delivery {
	const char		*alert_id;
	const char		*channel;	/* channel name */
	const char		*alert;		/* the alert as JSON */
	size_t			 alert_len;
	/* exec: the event's fields saved with the record (a flat JSON
	 * object of texts, see ALERT_EVENT_MAX in alertcmd.h); NULL for a
	 * record without them (a webhook's, or an older version's). */
	const char		*event;
	size_t			 event_len;
	int			 attempt;	/* 0 for the first */
	/* Set by the channel before done(): */
	enum delivery_result	 result;
	char			 error[DELIVERY_ERR_MAX];
};

typedef void (*delivery_done_fn)(struct delivery *, void *arg);

/* --- webhook (channel_webhook.c) ------------------------------------------ */

struct webhook;

/* webhook_new: the webhook deliveries on base, with one libcurl multi
 * handle, made (and curl_global_init called, once per process) at the
 * first webhook_send. done(d, arg) reports each finished delivery. */
struct webhook	*webhook_new(struct event_base *, delivery_done_fn done,
		    void *arg);
/*
 * webhook_send: start POSTing d->alert to ch->url. Returns 0 when started
 * (done will be called exactly once, later), or -1 with d->error and
 * d->result set when it could not be started (done is not called).
 */
int		 webhook_send(struct webhook *, const struct channel *ch,
		    struct delivery *d);
/* webhook_active: requests in flight. */
size_t		 webhook_active(const struct webhook *);
/* webhook_free: abort every request in flight without calling done. */
void		 webhook_free(struct webhook *);

/* --- exec (channel_exec.c) ------------------------------------------------ */

struct execer;

/* execer_new: watches SIGCHLD on base (the daemon must not reap children
 * elsewhere); done(d, arg) reports each finished program. */
struct execer	*execer_new(struct event_base *, delivery_done_fn done,
		    void *arg);
/*
 * execer_start: render ch->argv over the alert's fields, then d->event's
 * (README, "Channels": the event and customer.*), fork and execve it (no
 * shell) with the alert JSON on stdin and RECOVERYD_* variables.
 * Returns 0 when started (done is called exactly once, later), or -1 with
 * d->error and d->result set (done is not called). The caller enforces
 * max_running.
 */
int		 execer_start(struct execer *, const struct channel *ch,
		    struct delivery *d);
/* execer_active: programs running. */
size_t		 execer_active(const struct execer *);
/* execer_free: SIGKILL every program still running (its process group)
 * without calling done. */
void		 execer_free(struct execer *);

#endif
