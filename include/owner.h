/*
 * owner.h — one active daemon per input stream: the owner lease.
 *
 * Every daemon on a stream runs one of these. The lease is the Redis key
 * <prefix>owner:<stream> (the stream name percent-encoded, store_key_part)
 * holding "<epoch> <consumer>", with an expiry of ha.lease; the epoch
 * comes from INCR <prefix>owner:<stream>:epoch, so every holder's token
 * is new and a commit can be fenced on it (scripts.h: apply). The holder
 * renews it every third of the lease; the others (standbys) try again
 * when the holder's lease runs out (the PTTL the failed attempt
 * returned), so they take over within ha.lease of the owner's death.
 *
 * Locally the lease counts as held only until its renewal is overdue:
 * ha.lease after the renewal that last succeeded was sent, minus a fifth
 * of it as margin (owner_active). A daemon that was paused past that
 * (SIGSTOP, a long swap) stops reading at once, before it has heard that
 * it lost the lease; and whatever it still sends to commit is refused by
 * the fence. Role changes are reported through the callback, from the
 * event loop.
 */
#ifndef RECOVERYD_OWNER_H
#define RECOVERYD_OWNER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "stats.h"

struct owner;

/* owner_cb: held true when this daemon became the owner, false when it
 * lost the lease (or found it gone). */
typedef void	(*owner_cb)(void *arg, bool held);

/* owner_new: the lease of cf's input.stream under state.prefix, taken as
 * consumer name, over its own connection to t. Nothing happens until
 * owner_start. */
struct owner	*owner_new(struct event_base *, const struct redis_target *t,
		    const struct config *cf, const char *name, struct stats *,
		    owner_cb, void *arg);
void		 owner_start(struct owner *);
/* owner_set_lease: the lease length of a reloaded configuration (ha.lease;
 * the key names are restart-only settings). */
void		 owner_set_lease(struct owner *, int64_t lease_ms);
/* owner_active: the lease is held and its renewal not overdue (see
 * above). Cheap: called before every read and commit. */
bool		 owner_active(const struct owner *);
/* owner_token: the token to fence commits with ("<epoch> <consumer>"),
 * "" when not held; valid until the next role change. */
const char	*owner_token(const struct owner *);
/* owner_key: the lease key (for the apply script's KEYS). */
const char	*owner_key(const struct owner *);
/* owner_lost: a commit was fenced: the lease is someone else's. Stands
 * by (the callback runs with held false) and tries again later. */
void		 owner_lost(struct owner *, const char *why);
/* owner_release: give the lease up if held (clean stop), then call
 * done(arg) from the event loop; no renewals after this. */
void		 owner_release(struct owner *, void (*done)(void *), void *arg);
/* owner_health: NULL, or why the lease connection is not usable. */
const char	*owner_health(const struct owner *);
void		 owner_free(struct owner *);

#endif
