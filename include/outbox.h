/*
 * outbox.h — the delivery worker: delivers the webhook and exec alerts
 * that the event commits (and escalation steps) recorded in the outbox
 * stream, <state_prefix>outbox (README, "Channels").
 *
 * Each outbox entry (alert_id, channel, attempt, alert, optionally
 * not_before in epoch ms and, for exec, event: the event's fields its
 * argv renders over, see alertcmd.h) is read through the consumer group
 * "recoveryd-outbox", held until it is due, delivered by its channel
 * (channel.h), and then, in one script that first checks the entry is
 * still pending for this consumer:
 *   - delivered: acked and deleted;
 *   - failed, retries left: re-added (event kept) with attempt + 1 and
 *     a not_before of now + backoff (1 s * 2^attempt, at most 5 min,
 *     plus 0..50 % jitter), and the old entry acked and deleted;
 *   - failed for good (no retries left, an HTTP 4xx, a channel no longer
 *     configured): added to config->undelivered_stream with alert_id,
 *     channel, attempts, error, alert and failed_at, then acked and
 *     deleted.
 * So a delivery is at-least-once with a stable alert_id, and never
 * vanishes. A daemon that dies leaves its entries pending: it reads them
 * again when it restarts under the same consumer name, or another daemon
 * claims them once they have been idle for input.claim_idle of its
 * running configuration (entries held in memory are touched every third
 * of that, so that they never look idle).
 *
 * The worker has its own two Redis connections (a blocking read never
 * delays a write, and neither ever delays event processing) and bounded
 * memory: at most OUTBOX_MAX_HELD entries in memory and OUTBOX_MAX_RUNNING
 * deliveries running (exec channels: at most max_running each); it reads
 * more only when below that.
 */
#ifndef RECOVERYD_OUTBOX_H
#define RECOVERYD_OUTBOX_H

#include <event2/event.h>

#include "config.h"
#include "stats.h"

#define OUTBOX_GROUP		"recoveryd-outbox"
#define OUTBOX_MAX_RUNNING	64
#define OUTBOX_MAX_HELD		512

struct outbox;

/*
 * outbox_new: nothing happens until outbox_start(). name is the consumer
 * name in the group (NULL or "": "<host>:<pid>"); a fixed name lets a
 * restarted daemon take its own pending entries back at once. get_config
 * (called with arg) returns the running configuration, valid until the
 * next return to the event loop; the outbox stream's name is taken from
 * it now (a changed state_prefix needs a restart). stats->alerts counts
 * "ok", "retried" and "failed" per channel.
 */
struct outbox	*outbox_new(struct event_base *, const struct redis_target *,
		    const char *name,
		    const struct config *(*get_config)(void *), void *arg,
		    struct stats *);
void		 outbox_start(struct outbox *);
/*
 * outbox_stop: stop reading, forget entries not yet started (they stay
 * pending in Redis), let the deliveries running finish and record their
 * outcome for up to OUTBOX_STOP_S seconds, then call done(arg) from the
 * event loop.
 */
#define OUTBOX_STOP_S	5
void		 outbox_stop(struct outbox *, void (*done)(void *), void *arg);
/* outbox_free: deliveries still running are abandoned (programs killed);
 * their entries stay pending and are delivered again later. */
void		 outbox_free(struct outbox *);

#endif
