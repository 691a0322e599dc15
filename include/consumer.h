/*
 * consumer.h — the stream consumer: one owner per input stream reads it
 * through the consumer group, turns entries into events, decides them
 * with the state store (store.h) in stream order, and commits what they
 * caused with their acks — in batches, two at a time.
 *
 * Every daemon on a stream runs a consumer; the one that holds the owner
 * lease (owner.h) reads and decides, the others stand by and take over
 * within ha.lease of its death. A batch goes through:
 *
 *   READ     XREADGROUP: at takeover every pending entry of the group
 *            (claimed whoever held it) in ID order, then ">";
 *   COUNTS   for re-read entries, their delivery counts (over
 *            max_deliveries: dead letter);
 *   PARSE    event_from_fields; invalid entries become dead letters;
 *   ENRICH   HGETALL of each customer's hash, one pipeline per batch;
 *   LOAD     the store's entities that are not in memory (MGET, HGETALL);
 *   DECIDE   engine_match, store_decide per event in stream order,
 *            engine_render;
 *   COMMIT   one fenced script per batch: the store's changes, alerts,
 *            outbox records, dead letters and the XACK, all or nothing,
 *            and only while the lease is ours.
 * Batch k+1 is read and decided while batch k commits; commits go in
 * order. Due escalation steps run as batches of the same pipeline.
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
/* consumer_stop: stop reading; finish (commit and ack) the batches in
 * flight, give the lease up (a standby takes over at once), then call
 * done(arg) from the event loop. */
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
/* consumer_role: "owner" or "standby", for logs, /healthz and stats. */
const char	*consumer_role(const struct consumer *);
/* consumer_config: the configuration batches use now (valid until the
 * next return to the event loop). */
const struct config *consumer_config(const struct consumer *);
void		 consumer_free(struct consumer *);

#endif
