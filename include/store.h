/*
 * store.h — rule state and cases: the one implementation of the state
 * semantics (state.h, the README's "Cases and escalation"), in memory, for
 * every program.
 *
 * "recoveryctl test" and "replay" run a store on its own (nothing is
 * backed: whatever is not in memory is empty). The daemon's owner runs the
 * same store as a cache over Redis ("backed"): before deciding a batch it
 * asks which entities the batch needs that are not resident
 * (store_needs), fetches them and hands them over (store_load); after
 * deciding, it takes every changed entity as a Redis write
 * (store_changes) into the batch's one fenced commit, and tells the store
 * when that commit is known to have landed (store_committed) or that its
 * outcome is unknown (store_drop: forget everything, reload on demand).
 * So Redis only stores; what a rule means is decided here, once.
 *
 * Entities, each one Redis key (every variable part percent-encoded by
 * store_key_part, so that no two values, nor a value and a suffix, name
 * the same key):
 *   KEY   <prefix>k:<field>:<value>       string (binary, versioned): the
 *         state of every rule keyed by field = value: per rule its window
 *         points (count, aggregate), its firing times (cooldowns, count
 *         crossings), and per rule Q that "after" rules correlate on by
 *         field, the times Q fired with field = value ("after" memory);
 *         a snapshot followed by records of the changes since, so that a
 *         hot key's commit is an APPEND of its new points (opts.appends);
 *   CUST  <prefix>opencase:<customer>     string: the customer's current
 *         (open or acknowledged) case ID; deleted when it is resolved;
 *   CASE  <prefix>case:<case_id>          hash: the case, human readable,
 *         read by recoveryctl: case_id, customer_id, state (open,
 *         acknowledged, resolved), severity, opened_at (RFC 3339),
 *         opened_ms, rules, events (newest entry IDs, at most 1 KiB), step
 *         (the highest escalation step run), acked_by, acked_at,
 *         resolved_at, note (the last note of an ack or resolve), call_id,
 *         agent_id, queue, entry (the opening
 *         entry), and steps: the steps it scheduled, per rule its step
 *         numbers, each p (pending) or r (run): "vip-detractor:1r:2p
 *         high-complaint:1p" (a step's delay and channels, its signature
 *         for the once-per-case rule, come from the configuration);
 *         case IDs are generated ("c-" + entry ID) and used as they are;
 *   EVENT <prefix>case:<case_id>:event    string: the event that opened
 *         the case, JSON (store_case_event), which its steps render over;
 *         apart from the hash so that the hash's values stay short
 *         (Redis keeps such a hash compact); the only copy of those
 *         fields: the history's entry of that event has none;
 *   the escalation schedule: the sorted set <prefix>escalations
 *         (store_sched_key), member "<case_id>|<rule>|<step>", score the
 *         due time in ms; and the case indexes <prefix>cases (every case)
 *         and <prefix>cases:open (open and acknowledged), score opened_ms.
 * A KEY entity expires when nothing in it can matter any more: its
 * newest time plus what its rules keep (below), plus past_skew_ms, plus
 * a day for backlogs and clocks, in wall-clock time; with past_skew_ms 0
 * it never expires. A resolved case (its EVENT and history) expires 30
 * days, or a day past cases.outcome_within (31 days by default), after
 * resolving; open cases and CUST entities do not expire.
 *
 * Kept state (identical in every mode, so that a reloaded store decides
 * as one that was never dropped): window points back to 2 * within
 * before the newest point of their rule and key ("after" memory: 2 * the
 * longest window correlating on it); firing times back to
 * max(2 * within (count), cooldown + lateness) before the newest time,
 * where lateness is past_skew_ms + future_skew_ms (past_skew_ms 0, no
 * bound on the past: every firing time is kept, at most one per cooldown
 * of history, so a late event of any age meets the cooldown rule).
 *
 * Order and late events (README, "Cases and escalation"): events of one key
 * are decided
 * in the order they are given. An event whose time is older than state
 * already recorded for its key ("late") is judged against the state as it
 * stands and never moves state back:
 *   cooldown  no two firings of a rule for one key closer than the
 *             cooldown in event time, on either side: a rule whose
 *             condition holds at t fires only if no recorded firing f has
 *             |t - f| < cooldown (the nearest on each side is checked);
 *             its time joins the firing times, nothing is moved;
 *   count     fires at most once per crossing of at_least. With c(x) the
 *             number of points in [x - within, x] (integer ms, the event
 *             itself included), an event at t fires when c(t) ==
 *             at_least and no recorded firing f of the rule and key lies
 *             in the same at-or-above period: f does when c(x) >=
 *             at_least for every x between t and f (both included). For
 *             events in order this is the at_least-th event of the window
 *             unless the window slid without ever dropping below
 *             at_least (a point leaving as another enters).
 *
 * Ownership: the store owns everything it holds; texts it hands out are
 * valid until the next call that changes the store. Not thread-safe.
 */
#ifndef RECOVERYD_STORE_H
#define RECOVERYD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "engine.h"
#include "state.h"
#include "util.h"

struct store;

struct store_opts {
	/* Entities come from a backing store: an entity that is neither
	 * resident nor loaded is an error for store_decide (see there).
	 * false: a missing entity is empty (test, replay). */
	bool			 backed;
	/* Bound on resident entities (backed only; 0: no bound). Beyond
	 * it, clean entities (no change waiting for a commit) that the
	 * batch being decided has not used are evicted, least recently used
	 * first, when a commit lands (store_committed). */
	size_t			 max_entities;
	/* Key prefix (state.prefix, e.g. "ivr:") of the Redis key names;
	 * copied. */
	const char		*prefix;
	/* How far in the past (state_past_skew_ms; 0: no bound) and in the
	 * future (input.max_future_skew) an event's time may lie from its
	 * entry's: how late an event can be, which says how long firing
	 * times and entities matter (see above). */
	int64_t			 past_skew_ms;
	int64_t			 future_skew_ms;
	/* The configuration whose channels name the escalation steps' in
	 * signatures (may be NULL: channel indices); not owned, see
	 * store_set_config. */
	const struct config	*cf;
	/* Backed: hand over a KEY entity's new records as SO_APPEND to the
	 * value this store wrote, rather than a rewrite (SO_SET) of its
	 * whole state. */
	bool			 appends;
};

/* store_opts_init: o zeroed, then prefix, skews and cf from cf (unbacked,
 * no bound): the caller sets backed and max_entities. */
void		 store_opts_init(struct store_opts *o, const struct config *cf);

/* store_new: an empty store; free with store_free. */
struct store	*store_new(const struct store_opts *);
void		 store_free(struct store *);
/* store_set_config: the configuration now running (a reload); cf must
 * outlive the store or the next store_set_config. */
void		 store_set_config(struct store *, const struct config *cf);
/* store_sched_key: "<prefix>escalations", the schedule's sorted set. */
const char	*store_sched_key(const struct store *);

/* --- loading (backed stores) ------------------------------------------- */

enum store_kind {
	SK_STRING,	/* GET / SET */
	SK_HASH		/* HGETALL / HSET */
};

/* store_needs reports each missing entity once: key (not NUL-terminated
 * bytes, valid during the call) and how to fetch it. */
typedef void	(*store_need_fn)(void *ctx, const char *key, size_t klen,
		    enum store_kind kind);

/*
 * store_needs: report every entity that deciding req would read and that
 * is neither resident nor already reported (reported entities are
 * reserved until store_load or store_drop). A customer's CASE can only be
 * named once its CUST entity is loaded, so a shell alternates store_needs
 * and store_load until a round reports nothing (two rounds at most).
 * When every entity was resident, req->resident_at is set to the
 * store's epoch (else 0): store_decide skips its own check while the
 * epoch is the same (store_changes and store_drop move it; nothing
 * store_needs found resident is evicted before the next store_changes).
 * Unbacked stores report nothing. O(candidates).
 */
void		 store_needs(struct store *, struct state_req *req,
		    store_need_fn fn, void *ctx);
/* store_needs_case: the same for the case an escalation step or a
 * person's command names: its CASE and EVENT entities and, once the CASE
 * is loaded, its customer's CUST entity (two rounds at most). */
void		 store_needs_case(struct store *, const char *case_id,
		    store_need_fn fn, void *ctx);

/*
 * store_load: install the entity named key from its Redis value: for
 * SK_STRING, val[0..vlen) (val NULL: the key does not exist); for SK_HASH,
 * n field/value pairs (n 0: the key does not exist). A resident entity is
 * never overwritten. A value that does not decode is logged and taken as
 * empty (returns -1; the entity is then resident and empty), so one
 * corrupted key cannot stop the stream; a key that names no entity of
 * this store (another prefix or kind) is ignored (-1).
 */
int		 store_load_string(struct store *, const char *key,
		    size_t klen, const char *val, size_t vlen);
int		 store_load_hash(struct store *, const char *key, size_t klen,
		    const char *const *fields, const size_t *flens,
		    const char *const *vals, const size_t *vlens, size_t n);

/* --- deciding ------------------------------------------------------------ */

/*
 * store_decide: answer req's candidates (c[].fired, count, value,
 * samples) and the case (cr), with the semantics of state.h as amended
 * above. In a backed store every entity store_needs named for req must
 * have been loaded: returns -1 (changing nothing) with a message in err
 * when one is not (checked unless store_needs found them all resident
 * in this epoch), else 0. Never fails otherwise. An unbacked store
 * records each entry's answer: deciding an entry again returns it and
 * changes nothing (a backed store's owner never decides an entry twice).
 */
int		 store_decide(struct store *, struct state_req *req,
		    struct case_ref *cr, char *err, size_t errlen);

/* store_case_event: record the event that opened case_id (a flat JSON
 * object of texts, tmpl_fields_save) for its escalation steps; the case
 * must be resident (it is, right after the store_decide that opened it).
 * Copied. */
void		 store_case_event(struct store *, const char *case_id,
		    const char *json, size_t len);
/* store_case_event_get: that JSON, or NULL (len set). */
const char	*store_case_event_get(const struct store *,
		    const char *case_id, size_t *len);

/* --- escalation ---------------------------------------------------------- */

/*
 * store_due: unbacked stores: the earliest step due at or before now_ms
 * of a case still open (ties: the first scheduled), removed from the
 * schedule and counted as run (case step advanced); false when none is
 * due. O(log pending) amortised.
 */
bool		 store_due(struct store *, int64_t now_ms, struct esc_due *out);
/* store_next_due: unbacked: the earliest pending step's due time (or a
 * resolved case's outcome deadline, which store_due decides without a
 * step: "unknown"), or -1 (drops what can no longer run first). */
int64_t		 store_next_due(struct store *);
/*
 * store_step: backed stores: run the step a schedule member names (parsed
 * by store_parse_member) if its case is still open and the step still
 * pending: fills out, advances the case and returns true; otherwise false
 * (the member is obsolete). Either way the member's ZREM is among the
 * next store_changes. The case must be resident (store_needs_case and
 * store_load first): when it is not, returns false and changes nothing.
 */
bool		 store_step(struct store *, const char *member, size_t mlen,
		    int64_t now_ms, struct esc_due *out);
/* store_parse_member: "<case_id>|<rule>|<step>" into its parts (each
 * copied, NUL-terminated, into buffers of cap / rcap bytes). Returns 0,
 * or -1 when member is malformed or a part does not fit. */
int		 store_parse_member(const char *member, size_t mlen,
		    char *case_id, size_t cap, int *step, char *rule,
		    size_t rcap);

/* --- people's changes ---------------------------------------------------- */

/* store_case_of: the customer's open (not resolved) case ID, or NULL
 * (also when its CUST or CASE entity is not resident). */
const char	*store_case_of(const struct store *, const char *customer_id);
/* store_last_case: the customer's latest case, also when resolved (for
 * cases.reopen_within), or NULL. */
const char	*store_last_case(const struct store *, const char *customer_id);
/* store_case_state: the case's state ("open", "acknowledged",
 * "resolved"), or NULL when there is no such case (or, backed, it is not
 * resident). */
const char	*store_case_state(const struct store *, const char *case_id);
/* store_case_resolved_at: when it was resolved (RFC 3339), or NULL. */
const char	*store_case_resolved_at(const struct store *,
		    const char *case_id);
/*
 * People's changes (the daemon's owner applies them only as commands,
 * command.h, so that a case has one writer; each appends to the case's
 * history with who and when). The case must be resident in a backed
 * store (store_needs_case). Each returns 0, or -1 when there is no such
 * case.
 * store_ack: acknowledged by by at now_ms, with note (NULL: the note
 * stays); its pending steps are dropped (ZREM). Acknowledging a case that
 * is not open or reopened changes nothing.
 * store_resolve: resolved by by (may be NULL) with the reason code
 * (checked by the caller) and note; resolving a resolved case changes
 * nothing. The customer's CUST entity keeps naming it for
 * cases.reopen_within (then expires), or lets go of it when that is 0.
 * store_assign: the case's owner is to (assigned by by).
 * store_note: a note by by: history, and the case's note field.
 * store_reopen: a resolved case reopened by by (-2: it is not resolved;
 * -3: its customer has another open case).
 */
int		 store_ack(struct store *, const char *case_id, const char *by,
		    const char *note, int64_t now_ms);
int		 store_resolve(struct store *, const char *case_id,
		    const char *by, const char *code, const char *note,
		    int64_t now_ms);
int		 store_assign(struct store *, const char *case_id,
		    const char *to, const char *by, int64_t now_ms);
int		 store_note(struct store *, const char *case_id,
		    const char *text, const char *by, int64_t now_ms);
int		 store_reopen(struct store *, const char *case_id,
		    const char *by, int64_t now_ms);

/*
 * store_case_history: append an entry of kind to the case's history:
 * {"at":..,"kind":kind, then n text pairs kv (key, value; a NULL value
 * is left out), then "raw_key": raw (raw_key NULL: none), a JSON value
 * given as it is}. A case that is not resident is left alone.
 * store_case_alert: the entry of an alert sent for its case (kind
 * "alert", or "step" for an escalation step's): alert_id, channel,
 * rule, step, message.
 */
void		 store_case_history(struct store *, const char *case_id,
		    int64_t at_ms, const char *kind, const char *const *kv,
		    size_t n, const char *raw_key, const char *raw,
		    size_t rawlen);
void		 store_case_alert(struct store *, const struct alert *,
		    int64_t at_ms);
/* store_case_joined: the event (its ID, type and fields, the flat JSON
 * of tmpl_fields_save) that store_decide put into case cr (opened or
 * joined) enters the case's history; the event that opened it is kept
 * for its steps (store_case_event) and its fields there only: its
 * history entry has none (readers: caseview_history_entry). */
/*
 * Notes: what the closed loop did, for the daemon's metrics (a backed
 * store keeps them; an unbacked one does not). store_take_notes hands
 * over (the caller frees *out) the notes since the last call: the shell
 * takes them with the batch's changes and counts them once its commit
 * landed, so that a batch decided again counts once.
 */
enum store_note_kind {
	SN_OPENED,	/* rule: the rule that opened it */
	SN_ACKED,	/* dur_ms: time to acknowledge */
	SN_CONTACT,	/* dur_ms: time to first contact */
	SN_RESOLVED,	/* word: the reason code; dur_ms: time to resolve */
	SN_OUTCOME,	/* rule: the case's first rule; word: the outcome */
	SN_SUPPRESSED	/* rule: the channel; word: the reason */
};
struct store_note {
	enum store_note_kind	 kind;
	char			 rule[128];
	char			 word[64];
	int64_t			 dur_ms;
};
size_t		 store_take_notes(struct store *, struct store_note **out);

/*
 * store_contact_filter: the contact policy (README, "Working a case") over
 * alerts
 * v[0..n) rendered for customer (ev: the event they render over, for its
 * customer.do_not_call): an alert of a channel marked contact: true is
 * suppressed (keep[i] false) when the customer's CRM says do_not_call,
 * or when limits.callbacks already let max through within its window
 * (those that go out are counted, in the customer's CUST entity); each
 * suppressed alert is recorded in its case's history with the reason
 * ("do_not_call", "limit") and noted. Returns how many are kept.
 */
size_t		 store_contact_filter(struct store *, const struct evt *ev,
		    const char *customer, const struct alert *v, size_t n,
		    bool *keep, int64_t now_ms);

/*
 * The watch set: the customers whose case waits for its outcome (their
 * next rating). A backed store decides a rating without firings only for
 * them, so that an owner does not load every rating's customer. Redis
 * keeps it as the sorted set store_watch_key (score: the outcome's
 * deadline), written with the cases; the owner loads it whole before it
 * decides (store_watch_load, each member).
 */
void		 store_watch_load(struct store *, const char *customer,
		    size_t len);
const char	*store_watch_key(const struct store *, struct buf *b);

/* store_outcomes: the outcomes decided since store_new: recovered,
 * not_recovered, unknown (for the metrics). */
void		 store_outcomes(const struct store *, uint64_t out[3]);
/* store_case_outcome: the case's outcome (NULL: pending or none), and
 * when it was first reached (0: never). */
const char	*store_case_outcome(const struct store *, const char *case_id,
		    int64_t *first_contact_ms);
/* store_case_hist: the case's history entries not handed over yet (an
 * unbacked store's: the newest cases.history of them), oldest first. */
const char *const *store_case_hist(const struct store *,
		    const char *case_id, size_t *n);
void		 store_case_joined(struct store *, const struct case_ref *cr,
		    const char *event_id, const char *type, int64_t at_ms,
		    const char *json, size_t len);

/* --- writing back (backed stores) ---------------------------------------- */

enum store_op {
	SO_SET,		/* SET key val [PX ttl_ms] */
	SO_DEL,		/* DEL key */
	SO_HSET,	/* HSET key fields... (only the changed ones: never
			 * DEL, so fields written by others stay; none when
			 * n is 0), then PEXPIRE key ttl_ms when ttl_ms > 0 */
	SO_ZADD,	/* ZADD key score member (key: the sorted set) */
	SO_ZREM,	/* ZREM key member */
	SO_APPEND,	/* APPEND key val, then PEXPIRE key ttl_ms when
			 * ttl_ms > 0 (opts.appends only) */
	SO_RPUSH	/* RPUSH key vals..., LTRIM key -max -1 (max 0:
			 * no LTRIM, the list is new and within its bound),
			 * then PEXPIRE key ttl_ms when ttl_ms > 0 */
};

struct store_change {
	enum store_op		 op;
	const char		*key;		/* SO_ZADD/ZREM: the set */
	size_t			 klen;
	const char		*val;		/* SO_SET; SO_ZADD/ZREM: member */
	size_t			 vlen;
	int64_t			 ttl_ms;	/* 0: no expiry */
	double			 score;		/* SO_ZADD */
	const char *const	*fields;	/* SO_HSET */
	const size_t		*flens;
	const char *const	*vals;
	const size_t		*vlens;
	size_t			 n;
	long			 max;		/* SO_RPUSH: entries kept */
};

typedef void	(*store_change_fn)(void *ctx, const struct store_change *);

/*
 * store_changes: hand over every entity changed since the last call, as
 * writes in a deterministic order (entities in the order they first
 * changed, then the sorted-set updates in the order they were made), and
 * return the generation they belong to. The entities stay resident and
 * cannot be evicted until store_committed(gen) says the commit carrying
 * them landed. now_ms (wall clock) sets the expiries. Texts are valid
 * until the next store_changes or store_drop. Unbacked stores hand over
 * nothing.
 */
uint64_t	 store_changes(struct store *, int64_t now_ms,
		    store_change_fn fn, void *ctx);
/* store_committed: the writes of generations up to gen are in Redis;
 * evicts beyond max_entities. */
void		 store_committed(struct store *, uint64_t gen);
/* store_drop: forget every entity (a commit whose outcome is unknown, a
 * lost lease): the next decisions load them again from Redis. */
void		 store_drop(struct store *);

/* store_key_part: append part, percent-encoded (every byte outside
 * [A-Za-z0-9_.-] as %XX), to out. */
void		 store_key_part(struct buf *out, const char *part, size_t len);

/* store_stats: resident entities and bytes held (approximate; walks
 * every entity). */
void		 store_stats(const struct store *, size_t *entities,
		    size_t *bytes);
/* store_counts: resident entities; loads that found a value in Redis
 * and evictions, since store_new (store_drop does not count as either). */
struct store_counts {
	size_t		 entities;
	uint64_t	 loaded, evicted;
};
void		 store_counts(const struct store *, struct store_counts *);

#endif
