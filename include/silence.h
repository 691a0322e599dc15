/*
 * silence.h — silences (README, "Silences", as in alert managers): for a
 * while, firings that match are decided as usual (cooldowns, counts,
 * "after" memory and every other state move on) but deliver nothing and
 * open or join no case; each silence counts the firings it held back.
 *
 * A silence has matchers (rule, queue, agent, customer: equality with the
 * rule's name and the event's queue, agent_id and customer_id; every
 * matcher given must match, at least one is given) and a time span
 * [starts_ms, ends_ms) on the case clock (state_req.now_ms: wall clock in
 * the daemon, the virtual clock in test and replay), so a silence mutes
 * what is delivered while it is active, whatever the event's own time
 * (as an alert manager mutes notifications, a backlog included).
 * Escalation steps of cases opened before a silence are not silenced:
 * it holds back firings, not the cases people already work on.
 *
 * Stored in Redis (the daemon reads them, recoveryctl writes them):
 *   <prefix>silences       hash: silence ID -> silence_json();
 *   <prefix>silences:rev   string: a counter raised by every change, so
 *                          that the daemons reload (HGETALL) only when
 *                          it moved (they look twice a second);
 *   <prefix>silence:<id>   hash: "count", the firings it held back
 *                          (HINCRBY in the owner's fenced batch commit).
 *
 * Pure: no I/O. A set owns every text of its silences.
 */
#ifndef RECOVERYD_SILENCE_H
#define RECOVERYD_SILENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "util.h"

#define SILENCE_ID_MAX		64
/* An expired silence is kept this long (listed, its count readable),
 * then dropped from <prefix>silences. */
#define SILENCE_KEEP_MS		(24LL * 3600 * 1000)

struct silence {
	char		 id[SILENCE_ID_MAX];
	char		*rule, *queue, *agent, *customer;	/* NULL: any */
	int64_t		 starts_ms, ends_ms;		/* [starts, ends) */
	char		*reason, *by;
	uint64_t	 count;		/* held back since it was added here */
};

struct silences {
	struct silence	*v;
	size_t		 n, cap;
};

void	 silences_init(struct silences *);
/* silences_clear: drop every silence (the set stays usable). */
void	 silences_clear(struct silences *);
/* silences_free: the same, and the array. */
void	 silences_free(struct silences *);
/* silences_pop: drop the silence added last (none: nothing). */
void	 silences_pop(struct silences *);

/*
 * silence_add: copy s (its texts; empty matcher texts count as not given)
 * into the set. Refused (-1, with a message in err) when it has no
 * matcher, ends before it starts, or its ID is empty, too long or
 * already in the set.
 */
int	 silence_add(struct silences *, const struct silence *s, char *err,
	    size_t errlen);
/*
 * silence_load: the silence stored under id as JSON (silence_json), added
 * to the set. Returns 0, or -1 with a message when it does not decode or
 * is refused by silence_add (it is then skipped: one bad value cannot
 * stop the others).
 */
int	 silence_load(struct silences *, const char *id, size_t idlen,
	    const char *json, size_t len, char *err, size_t errlen);
/* silence_json: s as one JSON object (without its count). */
void	 silence_json(const struct silence *s, struct buf *out);
/* silence_active: is s in force at t_ms? */
bool	 silence_active(const struct silence *s, int64_t t_ms);
/* silence_match: the first silence of the set (in the order added) in
 * force at t_ms whose matchers all match, or NULL. O(silences). */
const struct silence *silence_match(const struct silences *,
	    const char *rule, const char *queue, const char *agent,
	    const char *customer, int64_t t_ms);
/*
 * silences_mark: for each candidate of req, c[i].silence = the silence
 * that holds its firing back at req->now_ms (NULL: none); before
 * store_decide, which then opens or joins no case for a silenced
 * candidate (it still decides it: state moves on). Returns how many were
 * marked. A NULL or empty set marks nothing.
 */
size_t	 silences_mark(const struct silences *, struct state_req *req);
/* silences_count: after store_decide, count each candidate of req that
 * fired and is silenced with its silence (count); returns how many. */
size_t	 silences_count(struct silences *, const struct state_req *req);
/* silence_find: by ID, or NULL. */
struct silence *silence_find(const struct silences *, const char *id);

#endif
