/*
 * intake.h — the HTTP intake: events from producers that can call a
 * webhook but cannot speak Redis (a cloud contact center's "on survey
 * completed" hook), on a listener of its own (http.h) with its own
 * connection cap, deadline and body limit.
 *
 *   POST /v1/events   Authorization: Bearer TOKEN
 *     Content-Type: application/json: one event (an object) or an array
 *       of 1 .. intake.max_events (500) objects; each goes to the input
 *       stream as one entry with one field "json";
 *     Content-Type: application/x-www-form-urlencoded: one event's
 *       fields (type=rating&call_id=C1&...), as flat fields.
 *
 * Every event is validated by evt_from_fields(), the function the stream
 * consumer validates entries with, on the fields the entry will hold and
 * with the consumer's time bounds, before anything is written. Answers
 * (JSON bodies):
 *
 *   202  {"accepted": N, "ids": ["1700000000000-0", ...]}: every event
 *        is in input.stream when the answer leaves (one XADD, or one
 *        MULTI/EXEC for a batch: all or none);
 *   400  {"error": "...", "events": [{"index": I, "reason": R,
 *        "error": "rating: csat=7 out of range 1..5"}, ...]}: nothing of
 *        the request was written;
 *   401  no or an unknown token (WWW-Authenticate: Bearer);
 *   404  another path; 405 another method (Allow: POST);
 *   413  a body over intake.max_body (answered by the HTTP layer) or
 *        more than intake.max_events events;
 *   415  another content type;
 *   503  Redis is down, or did not answer within intake.request_timeout
 *        (Retry-After: 1). A batch is one transaction: on a 503 it is
 *        wholly written or not at all (a lost connection leaves which
 *        unknown, as for any producer: send it again).
 *
 * Tokens: intake.tokens_file, one a line, "#" comments and blank lines
 * ignored, read at start and again by intake_reload() (SIGHUP); a file
 * that cannot be read on reload keeps the tokens in use. A token is
 * compared with every configured one in time that does not depend on
 * where they differ, and is never logged.
 */
#ifndef RECOVERYD_INTAKE_H
#define RECOVERYD_INTAKE_H

#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "stats.h"

struct intake;

/*
 * intake_new: listen on cf->intake_listen, read the tokens, and connect
 * to Redis (its own connection, so that a busy consumer never delays an
 * answer). get_config(arg) is the running configuration (the stream,
 * the limits), read at each request. Counts go to st. NULL with a
 * message in err (a bad address, an unreadable tokens file).
 */
struct intake	*intake_new(struct event_base *, const struct config *cf,
		    const struct config *(*get_config)(void *), void *arg,
		    struct stats *st, char *err, size_t errlen);
/* intake_reload: read the tokens file of cf again (SIGHUP); on error keep
 * the tokens in use and return -1 with a message in err. */
int		 intake_reload(struct intake *, const struct config *cf,
		    char *err, size_t errlen);
/* intake_ntokens: how many tokens are in use. */
size_t		 intake_ntokens(const struct intake *);
/* intake_free: close the listener and the connection; requests waiting
 * for Redis are dropped. NULL is allowed. */
void		 intake_free(struct intake *);

#endif
