/*
 * escalator.h — runs due escalation steps of open cases (SPEC section 3).
 *
 * Steps wait in Redis (a sorted set by due time, wall clock), so a step
 * due while every daemon was down runs at the next start. Every second
 * the worker claims due steps (moving them to an in-flight set, so no
 * other daemon takes them), renders their alerts with the current rules
 * over the event that opened the case (saved in the case by the consumer,
 * customer.* enrichment included) and the alert's own fields,
 * and writes them with a script that checks the claim and that the case is
 * still open: each step runs once. A daemon that dies holding a claim
 * loses it after a minute, and another daemon runs the step.
 */
#ifndef RECOVERYD_ESCALATOR_H
#define RECOVERYD_ESCALATOR_H

#include <event2/event.h>

#include "config.h"
#include "consumer.h"
#include "stats.h"

struct escalator;

/* escalator_new: uses its own Redis connection to target; reads the rules
 * from the consumer (consumer_config) each round. */
struct escalator	*escalator_new(struct event_base *,
			    const struct redis_target *, struct consumer *,
			    struct stats *);
void			 escalator_start(struct escalator *);
/* escalator_free: a step claimed but not written goes back to the queue
 * after the in-flight timeout. */
void			 escalator_free(struct escalator *);

#endif
