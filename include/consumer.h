/*
 * consumer.h — the stream consumer: reads the input stream through the
 * consumer group, turns entries into events, lets the engine decide, writes
 * what the events caused, and acks them — in batches, pipelined.
 *
 * One batch is in flight at a time (that is the backpressure: a slow Redis
 * or a slow rule set means reading less, never buffering more). A batch
 * goes through:
 *
 *   READ     XREADGROUP (own pending entries first, then ">"), or the
 *            entries XAUTOCLAIM took over from a dead consumer;
 *   COUNTS   for re-delivered entries, XPENDING for their delivery counts
 *            (over max_deliveries: dead letter);
 *   PARSE    event_from_fields; invalid entries become dead letters;
 *   ENRICH   HGETALL of each customer's hash, one pipeline per batch;
 *   DECIDE   engine_match, then the decide script per event (pipelined);
 *   COMMIT   one commit script per batch: alerts, dead letters, XACK.
 *
 * Channels that leave Redis (syslog now; webhook and exec through the
 * outbox) are delivered after the commit confirmed the entry is new.
 */
#ifndef RECOVERYD_CONSUMER_H
#define RECOVERYD_CONSUMER_H

#include <stdbool.h>

#include <event2/event.h>

#include "config.h"
#include "metrics.h"
#include "stats.h"

struct consumer;

/*
 * consumer_new: the consumer takes ownership of cf and of every config
 * given to consumer_set_config(): each is handed to release() once no
 * batch uses it any more (after a swap, or in consumer_free()).
 */
struct consumer	*consumer_new(struct event_base *, struct config *cf,
		    const char *consumer_name, struct stats *,
		    void (*release)(struct config *));
void		 consumer_start(struct consumer *);
/* consumer_set_config: use cf from the next batch on (SIGHUP). */
void		 consumer_set_config(struct consumer *, struct config *cf);
/* consumer_stop: stop reading; finish (commit and ack) the batch in
 * flight, then call done(arg) from the event loop. */
void		 consumer_stop(struct consumer *, void (*done)(void *),
		    void *arg);
/* consumer_set_metrics: from now on publish the headline figures every
 * 5 s as HSET <state_prefix>daemon:<consumer name> (metrics_publish_args)
 * with EXPIRE 30, for "recoveryctl stats". mi must outlive the consumer;
 * NULL stops publishing. */
void		 consumer_set_metrics(struct consumer *,
		    const struct metrics_info *mi);
/* consumer_health: NULL when healthy, else a reason for /healthz. */
const char	*consumer_health(const struct consumer *);
/* consumer_config: the configuration batches use now (valid until the
 * next return to the event loop). */
const struct config *consumer_config(const struct consumer *);
void		 consumer_free(struct consumer *);

#endif
