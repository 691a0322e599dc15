/*
 * store_int.h — the insides of the store (store.h), shared by its three
 * files: store.c (entities, the cache, loading, writing back),
 * store_codec.c (the Redis encodings) and store_decide.c (the semantics).
 *
 * Every entity is a struct ent in one hash map keyed by its Redis key
 * name, so the unbacked store (test, replay) and the backed one (the
 * daemon) hold exactly the same things; the backed one also keeps each
 * resident entity on an LRU list and each changed one on a dirty list.
 */
#ifndef RECOVERYD_STORE_INT_H
#define RECOVERYD_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

/* --- a small hash map from byte strings to pointers (store.c) ------------ */

struct hnode {
	struct hnode	*next;
	uint64_t	 h;
	void		*val;
	size_t		 klen;
	char		 key[];		/* NUL-terminated */
};

struct hmap {
	struct hnode	**b;
	size_t		  nb, n;	/* nb: a power of two, or 0 */
};

void	*hm_get(const struct hmap *, const char *k, size_t len);
/* hm_slot: the value slot of k, created (NULL) if absent; the key is
 * copied. Valid until the next hm_slot or hm_del. */
void	**hm_slot(struct hmap *, const char *k, size_t len);
/* hm_del: remove k; returns its value (the caller frees it) or NULL. */
void	*hm_del(struct hmap *, const char *k, size_t len);
void	 hm_free(struct hmap *, void (*fr)(void *));

/* --- time arithmetic, saturating (store_decide.c) ------------------------ */

int64_t	 tadd(int64_t, int64_t);
int64_t	 tsub(int64_t, int64_t);

/* --- KEY entities: one section per rule or remembered rule ---------------- */

enum sect_type {
	ST_COUNT = 'c',		/* count window + firings */
	ST_AGG = 'a',		/* aggregate window (values) + firings */
	ST_FIRE = 'f',		/* firings of a rule without a window */
	ST_MEMO = 'm'		/* times rule "name" fired with field = value */
};

struct sect {
	enum sect_type	 type;
	char		*name;
	/* points [off .. off + n) (sorted; equal times in arrival order)
	 * and, for aggregates, their values at the same indices (pt_t,
	 * pt_v): while every point fits, 6 bytes a point, base + tc[i] and
	 * vc[i] (a window of an agent's day of ratings); else ("wide")
	 * t[i] and v[i] */
	bool		 wide;
	int64_t		 base;
	int32_t		*tc;
	int16_t		*vc;
	int64_t		*t;
	double		*v;
	size_t		 off, n, cap;
	/* firing times, sorted */
	int64_t		*f;
	size_t		 nf, capf;
	/* aggregates: running totals of [tmax - within, tmax], derived
	 * (never encoded): valid while points only arrive in order */
	bool		 run;
	int64_t		 rwithin;
	size_t		 rlo;		/* absolute index of its first point */
	long		 rn, rpro, rdet, rodd;	/* rodd: non-integral values */
	int64_t		 rsum;		/* of the integral ones */
	/* its place in the Redis value's log (store_codec.c): index, -1
	 * when the value does not name it yet, and the last point and
	 * firing times logged (the references of the next deltas) */
	int		 ridx;
	int64_t		 lref, fref;
};

/*
 * A KEY entity. In a backed store its Redis value is a snapshot of the
 * sections followed by records of the changes since (store_codec.c), so
 * that a hot key (an agent's aggregate) costs an APPEND of its new points
 * per commit, not a rewrite of its window.
 */
struct kstate {
	struct sect	*s;
	size_t		 n, cap;
	size_t		 rlen;		/* bytes of the value in Redis, 0 none */
	size_t		 rsnap;		/* of which its snapshot */
	int64_t		 rexp;		/* wall ms it expires at (0: never) */
	int		 rsect;		/* sections the value names */
	bool		 appendable;	/* we wrote rlen bytes: APPEND works */
	bool		 resnap;	/* sections dropped: rewrite it */
	struct buf	 log;		/* records of this batch */
};

/* --- CASE entities -------------------------------------------------------- */

enum case_state { CASE_OPEN, CASE_ACKED, CASE_RESOLVED, CASE_REOPENED };
/* A case that escalates and counts as open: open or reopened. */
#define CASE_LIVE(s)	((s) == CASE_OPEN || (s) == CASE_REOPENED)

struct cstep {
	int64_t		 after_ms;
	char		*chans;		/* channel names, comma-separated */
	char		*rule;
	int		 step;		/* 1-based */
	bool		 run;
};

/* Fields of the case hash to write (scase.dirty bits). */
#define CF_OPEN		0x001	/* everything written when it opened */
#define CF_STATE	0x002
#define CF_SEVERITY	0x004
#define CF_RULES	0x008	/* rules and events */
#define CF_STEP		0x010
#define CF_ACK		0x020	/* acked_by, acked_at */
#define CF_RESOLVED	0x040
#define CF_NOTE		0x080	/* note */
#define CF_STEPS	0x100
#define CF_TTL		0x200	/* set the expiry (resolved) */
#define CF_OWNER	0x400	/* owner */
#define CF_REOPEN	0x800	/* reopened, reopened_at */
#define CF_DUE		0x1000	/* due_at */
#define CF_OUTCOME	0x2000	/* outcome, outcome_at, rating_after */
#define CF_CONTACT	0x4000	/* first_contact_at */
#define OUTCOME_RULE	"~outcome"	/* schedule member of an outcome's end */

#define CASE_EVENTS_MAX	1024	/* bytes of the events list kept */
#define CASE_KEEP_MS	(30LL * 86400 * 1000)
/* case_keep_ms: how long a resolved case is kept: CASE_KEEP_MS, or a day
 * past cases.outcome_within, so that its outcome (unknown at the latest)
 * is decided while it is there. */
int64_t	 case_keep_ms(const struct store *);

struct scase {
	bool		 exists;
	char		*id;		/* from the key */
	char		*customer, *call, *agent, *queue, *entry;
	char		*acked_by, *acked_at, *resolved_at;
	char		*note;		/* to write (CF_NOTE); not loaded */
	char		*owner, *resolved_by, *code;
	int		 reopened;	/* times */
	int64_t		 base_ms;	/* steps count from: opened or reopened */
	int64_t		 resolved_ms;	/* 0: never resolved */
	int64_t		 due_ms;	/* sla: 0 none */
	char		*outcome;	/* NULL pending, else the word */
	int64_t		 outcome_ms, contact_ms;	/* 0: none */
	char		*before, *after; /* ratings: "csat=1 nps=3" */
	struct buf	 outcomes;	/* every resolution's, comma-separated */
	struct buf	 afters;	/* ... its rating after, ';'-separated */
	char		**hist;		/* history entries to append (JSON) */
	size_t		 nhist;
	/* the length of <key>:history as this store wrote it, when known
	 * (the case opened here): no LTRIM while it is within the limit */
	bool		 hknown;
	size_t		 hlen;
	enum case_state	 state;
	int		 severity;
	int64_t		 opened_ms;
	int		 step;
	struct buf	 rules, events;
	struct cstep	*st;
	size_t		 nst;
	char		*event;		/* an "event" field (older versions) */
	size_t		 eventlen;
	unsigned	 dirty;		/* CF_* to write */
};

/* --- entities ----------------------------------------------------------- */

enum ent_kind { EK_KEY, EK_CUST, EK_CASE, EK_EVENT, EK_CONTACTS,
	EK_OWNERS };

/* EK_OWNERS (<prefix>owners, one for the store): each owner's open
 * cases (least_open) and each pool's round-robin cursor. */
struct owners {
	struct owner_n {
		char	*name;
		long	 n;
	}		*v;
	size_t		 nv;
};

struct ent {
	enum ent_kind	 kind;
	bool		 resident;	/* false: reported, not loaded yet */
	bool		 dirty;		/* changed since the last store_changes */
	uint64_t	 wgen;		/* generation of its last write, 0 none */
	uint64_t	 used;		/* store epoch it was last used in */
	struct ent	*lprev, *lnext;	/* LRU, most recent first */
	struct ent	*dnext;		/* dirty list */
	size_t		 klen;
	const char	*key;		/* the map node's copy */
	/* EK_CONTACTS: the times (ms) of the contact alerts sent to the
	 * customer within limits.callbacks.within, oldest first */
	int64_t		*contacts;
	size_t		 ncontacts;
	struct owners	*own;		/* EK_OWNERS */
	/* Last, and allocated only as far as its kind's member (ent_new):
	 * a case's is four times a KEY's, and most entities are not cases.
	 * The kind follows from the key (key_kind) and never changes. */
	union {
		struct kstate	 ks;
		char		*cust;	/* CUST: case ID, NULL for none */
		struct scase	 cs;
		struct {		/* EVENT: the opening event, JSON */
			char	*json;	/* NULL: none */
			size_t	 len;
			bool	 keep;	/* its case was resolved: expire */
		} ev;
	} u;
};

/* A sorted-set update waiting for store_changes; Z_EXPIRE: an expiry
 * (member: the key, score: the TTL in ms), handed over as an SO_HSET
 * without fields. */
enum zset { Z_SCHED, Z_CASES, Z_OPEN, Z_EXPIRE, Z_DUE, Z_WATCH };

struct zop {
	bool		 add;
	enum zset	 set;
	char		*member;
	double		 score;
};

/* A scheduled step of the unbacked schedule (a binary heap). */
struct pend {
	struct ent	*cs;
	char		*rule;
	int		 step;
	int64_t		 due;
	uint64_t	 seq;
};

struct store {
	struct store_opts	 o;
	char			*prefix;
	size_t			 plen;
	char			*sched;		/* <prefix>escalations */
	struct hmap		 ents;		/* key -> struct ent */
	struct hmap		 done;		/* entry -> answer (unbacked) */
	size_t			 nres;
	uint64_t		 nloaded;	/* loads that found a value */
	uint64_t		 nevicted;
	struct ent		*lru_head, *lru_tail;
	struct ent		*dhead, *dtail;
	struct zop		*z;
	size_t			 nz, capz;
	struct pend		*heap;
	size_t			 nheap, capheap;
	uint64_t		 seq;
	uint64_t		 gen, committed, epoch;
	struct buf		 kb, kb2;	/* key scratch */
	struct arena		 out;		/* store_changes texts */
	struct buf		 enc;
	struct buf		 hb;		/* a history entry being built */
	struct buf		*fk;		/* case_find's key (a pointer:
						 * lookups take a const store) */
	uint64_t		 outcomes[3];	/* recovered, not_recovered, unknown */
	struct store_note	*notes;	/* backed: for store_take_notes */
	size_t			 nnotes, capnotes;
	struct hmap		 watch;	/* backed: customers with a pending outcome */
};

/* --- store.c ------------------------------------------------------------- */

/* key_k / key_cust / key_case: the entity key in b (reset first). */
void	 key_k(const struct store *, struct buf *b, const char *field,
	    const char *val);
void	 key_cust(const struct store *, struct buf *b, const char *cust);
void	 key_case(const struct store *, struct buf *b, const char *id);
/* the suffix of a case's opening-event key (key_event) */
#define EVENT_SUFFIX	":event"
struct ent	*case_find(const struct store *, const char *case_id,
		    const char *suffix);
void	 key_event(const struct store *, struct buf *b, const char *id);
/* ent_find: the entity under key, or NULL. */
struct ent *ent_find(const struct store *, const char *key, size_t klen);
/* ent_size: the bytes an entity of kind is allocated (its union member
 * only). */
size_t	 ent_size(enum ent_kind);
/* ent_use: the resident entity under key for deciding: created empty in an
 * unbacked store, NULL in a backed one when it is not resident. Marks it
 * used (LRU, pinned for this batch). */
struct ent *ent_use(struct store *, enum ent_kind, const char *key,
	    size_t klen);
/* ent_dirty: e changed: on the dirty list (backed stores). */
void	 ent_dirty(struct store *, struct ent *);
/* ent_free: an entity and what it holds (not its map node). */
void	 ent_free(struct ent *);
void	 ent_free_v(void *);
void	 lru_unlink(struct store *, struct ent *);
void	 zops_clear(struct store *);
/* zop_push: a sorted-set update for the next store_changes (backed). */
void	 zop_push(struct store *, bool add, enum zset, const char *member,
	    double score);
void	 case_clear(struct scase *);
/* owners_key: "<prefix>owners" into b. */
void	 owners_key(const struct store *, struct buf *b);
/* owners_get / owners_add: an entry's number ("o:<name>" an owner's
 * open cases, "r:<rule>" a pool's cursor); add n to it. */
long	 owners_get(const struct owners *, const char *name);
void	 owners_add(struct owners *, const char *name, long n);
/* key_contacts: "<prefix>contacts:<enc customer>" into b. */
void	 key_contacts(const struct store *, struct buf *b, const char *cust);
/* loop_wanted: whether the store must see the loop event req (a
 * contact always; a rating, when unbacked, or when its customer has a
 * pending outcome: the watch set). */
bool	 loop_wanted(const struct store *, const struct state_req *);
/* store_note: record a note (backed stores only). */
void	 store_note_add(struct store *, enum store_note_kind, const char *rule,
	    const char *word, int64_t dur_ms);
/* case_state_name: "open", "acknowledged", "resolved". */
const char *case_state_name(enum case_state);
void	 kstate_clear(struct kstate *);
/* store_case_new: the CASE entity of a case being opened: resident,
 * empty (or the one already under key). */
struct ent *store_case_new(struct store *, const char *key, size_t klen);
/* store_ent_new: the same for any kind (an EVENT being written). */
struct ent *store_ent_new(struct store *, enum ent_kind, const char *key,
	    size_t klen);
/*
 * store_walk: every entity deciding req reads, as (key, kind) to visit;
 * visit returns false to stop the walk (store_walk then returns false).
 * The CASE is visited only when the customer's CUST entity is resident
 * and names one. key is st->kb: visit must not change it.
 */
typedef bool	(*walk_fn)(struct store *, struct buf *key, enum ent_kind,
		    void *ctx);
bool	 store_walk(struct store *, const struct state_req *, walk_fn,
	    void *ctx);

/* --- store_codec.c -------------------------------------------------------- */

/* ks_encode: the KEY entity's snapshot, appended to out; the sections'
 * log places are reset to it. */
void	 ks_encode(struct kstate *, struct buf *out);
/* ks_decode: ks (empty) from a value, its records replayed as store_decide
 * made them; -1 (ks left empty) when it does not decode. */
int	 ks_decode(const struct store *, struct kstate *, const char *val,
	    size_t len);
/* log_point / log_fire: record a point (and value) or a firing joining
 * section s of ks, for the next APPEND (backed stores). */
void	 log_point(struct kstate *, struct sect *, int64_t t, double v);
void	 log_fire(struct kstate *, struct sect *, int64_t t);
/* case_decode: cs (cleared, id set) from a hash; -1 on a field that does
 * not parse (the rest is kept). */
int	 case_decode(struct scase *, const char *const *fields,
	    const size_t *flens, const char *const *vals,
	    const size_t *vlens, size_t n);
/* case_fields: the fields of cs to write (cs->dirty), texts in ar;
 * returns how many (at most CASE_NFIELDS). */
#define CASE_NFIELDS	40
size_t	 case_fields(const struct scase *, struct arena *ar,
	    const char **f, size_t *fl, const char **v, size_t *vl);
/* case_sigs: fill the signature (delay, channels) of each scheduled step
 * of cs from cf's rules (after decoding: the "steps" field names only
 * rule, step and state); unknown ones get delay -1. */
void	 case_sigs(const struct store *, struct scase *);
/* step_sig: the channels of rule r's step i by name, into b. */
void	 step_chans(const struct store *, const struct esc_step *,
	    struct buf *b);
/* case_steps_text: the "steps" field of cs, appended to out. */
void	 case_steps_text(const struct scase *, struct buf *out);

/* --- store_decide.c ------------------------------------------------------- */

/* ks_expiry: the latest event time up to which something in ks matters
 * (its sections' newest times plus what their rules keep); sections whose
 * own end is before cut are dropped first. INT64_MIN when empty. */
int64_t	 ks_expiry(const struct store *, struct kstate *, int64_t cut);
/* sect_new: a new empty section (type, name) at the end of ks. */
struct sect *sect_new(struct kstate *, enum sect_type, const char *name);

/* --- store_window.c ------------------------------------------------------- */

/* pt_t / pt_v: the time and value of the point at absolute index i. */
static inline int64_t
pt_t(const struct sect *s, size_t i)
{
	return s->wide ? s->t[i] : s->base + s->tc[i];
}

static inline double
pt_v(const struct sect *s, size_t i)
{
	return s->wide ? s->v[i] : (double)s->vc[i];
}

/* sect_points: the decoded points t[0..n) (and values v, aggregates)
 * installed in s (empty), compact when they fit; takes t and v. */
void	 sect_points(struct sect *, int64_t *t, double *v, size_t n);

/* sect_get: the section (type, name) of ks, created empty when create,
 * else NULL when absent. O(sections). */
struct sect *sect_get(struct kstate *, enum sect_type, const char *name,
	    bool create);
/* newest: the section's newest time (point or firing), INT64_MIN when
 * it is empty. */
int64_t	 newest(const struct sect *);
/* fire_keep: how far before the newest time r's firing times matter:
 * count crossings look back 2 * within, cooldowns cooldown + lateness. */
int64_t	 fire_keep(const struct store *, const struct rule *);
/* win_first: the index (relative to off) of the first point with time >
 * lim (>= lim when !strict). O(log n). */
size_t	 win_first(const struct sect *, int64_t lim, bool strict);
/* win_range: the points with lo <= t <= hi are [*first, *first + n),
 * relative to off; none when lo > hi. O(log n). */
size_t	 win_range(const struct sect *, int64_t lo, int64_t hi,
	    size_t *first);
/* win_run: the running totals of [tmax - within, tmax]. O(window). */
void	 win_run(struct sect *, int64_t within);
/* pts_add: insert (t, v) after every point at or before t, drop the
 * points older than the newest minus keep; running totals kept for
 * within. True when t is the newest point (in time order). */
bool	 pts_add(struct sect *, int64_t t, double v, int64_t keep,
	    int64_t within);
/* fires_prune / fires_add: drop firing times older than the newest time
 * minus keep / record one at t (after equal ones), then prune. */
void	 fires_prune(struct sect *, int64_t keep);
void	 fires_add(struct sect *, int64_t t, int64_t keep);
void	 sect_free(struct sect *);
/* sect_replay_point / sect_replay_fire: a logged change applied again, as
 * store_decide applied it (the same drops). */
void	 sect_replay_point(const struct store *, struct sect *, int64_t t,
	    double v);
void	 sect_replay_fire(const struct store *, struct sect *, int64_t t);
/* store_done_free: an entry's recorded answer (the done map's values). */
void	 store_done_free(void *);
/* store_heap_clear: empty the unbacked schedule. */
void	 store_heap_clear(struct store *);

/* --- store_case.c ---------------------------------------------------------- */

/* case_decide: the case of a decided request (state.h "case" and
 * "escalate"): opened or joined, its schedule extended. */
void	 case_decide(struct store *, const struct state_req *,
	    struct case_ref *);

#endif
