/*
 * consumer_int.h — the stream consumer's private structures, shared by
 * its stages (see consumer.h):
 *   consumer.c         life cycle, connections, timers, the owner's
 *                      phases and the scheduler that moves batches on;
 *   consumer_read.c    READ: claim at takeover, own pending entries,
 *                      new ones; a reply into a batch within the byte
 *                      budget; delivery counts;
 *   consumer_load.c    LOAD: CRM enrichment and the store's entities
 *                      not resident, pipelined;
 *   consumer_decide.c  DECIDE: match, store_decide in stream order,
 *                      render, and the batch's one fenced commit built
 *                      (commit.h); also the escalation steps' batches;
 *   consumer_commit.c  COMMIT: sending it, its answer, what follows.
 */
#ifndef RECOVERYD_CONSUMER_INT_H
#define RECOVERYD_CONSUMER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "alertcmd.h"
#include "command.h"
#include "commit.h"
#include "config.h"
#include "consumer.h"
#include "engine.h"
#include "event.h"
#include "metrics.h"
#include "owner.h"
#include "redis.h"
#include "state.h"
#include "stats.h"
#include "store.h"

#define READ_BLOCK_MS		1000	/* XREADGROUP BLOCK: bounds stop latency */
#define SILENCE_GRACE_S		5	/* reply overdue by this much: drop */
#define RETRY_MIN_MS		100	/* transient refusals: first backoff */
#define RETRY_MAX_MS		5000	/* ... doubling up to this */
#define STATS_PERIOD_S		5
#define DEAD_PREFIX		1024	/* bytes of a cut field in a dead letter */
#define BIG_BATCH		(1024 * 1024)	/* read bytes: give memory back after */
#define REPLY_OVERHEAD		64	/* bytes a reply object costs beside its text */
#define CLAIM_COUNT		1000	/* XAUTOCLAIM JUSTID page at takeover */
#define ESC_PERIOD_MS		1000	/* due escalation steps looked for */
#define ESC_BATCH		64	/* steps per batch */
#define SWEEP_DELAY_S		10	/* entries left pending: read again after */
#define MGET_CHUNK		512	/* keys per MGET */
#define LOAD_ROUNDS		4	/* store_needs rounds per batch (2 suffice) */
#define NSLOTS			4	/* batches in flight (see consumer.c) */

enum entry_state {
	E_OK,		/* a valid event */
	E_INVALID,	/* not a valid event: dead letter (err) */
	E_LOST,		/* deleted from the stream while pending: ack */
	E_DEAD,		/* over max_deliveries: dead letter */
	E_FAILED,	/* deciding it failed: dead letter (reason) */
	E_CMD		/* a person's command (of the command stream) */
};

struct entry {
	char		 id[EVENT_ID_MAX];
	enum entry_state st;
	enum event_err	 err;
	const char	*reason;	/* E_FAILED: the dead letter's reason */
	char		 errmsg[320];
	long		 deliveries;
	struct evt	 ev;
	/* the original fields, for dead letters (in the batch's arena) */
	const char	**fnames, **fvals;
	size_t		*fnlens, *fvlens;
	size_t		*fvfull;	/* each value's length in the entry: more
					 * than fvlens[i] when cut to DEAD_PREFIX */
	size_t		 nf;
	size_t		 fire0, nfires;	/* into batch.fires */
	struct state_req req;		/* for the store (nfires > 0) */
	struct case_ref	 cr;
	bool		 kept;		/* left pending by the commit */
	/* an escalation batch's member (BK_STEPS) */
	const char	*member;
	size_t		 mlen;
	bool		 run;		/* store_step ran it */
	/*
	 * A step's case (BK_STEPS) or a command (E_CMD: parsed; its answer
	 * in the batch arena), on the heap from the first time the entry
	 * is one, and kept with it: almost a KiB each, where most of the
	 * 3 x 256 entries are events, which need neither. cmd_set: cmd is
	 * in use (its note is freed when the entry is used again).
	 */
	struct esc_due	*due;
	struct command	*cmd;
	bool		 cmd_set;
	const char	*answer;
	size_t		 alen;
	bool		 applied;	/* command_apply said ok */
};

enum bkind { BK_EVENTS, BK_STEPS };

enum bstage {
	BS_FREE,
	BS_READ,	/* the read (or the step query) is out */
	BS_PARKED,	/* read; waits for the batch before it to be decided */
	BS_COUNTS,	/* delivery counts of re-delivered entries */
	BS_ENRICH,	/* CRM hashes */
	BS_LOAD,	/* entities the store lacks */
	BS_DECIDE,	/* loaded; decided once the loop has run (decide_ev) */
	BS_READY,	/* decided; its commit waits for the one before */
	BS_COMMIT	/* its commit is out */
};

struct need {
	const char	*key;		/* in the batch arena */
	size_t		 klen;
	enum store_kind	 kind;
};

struct batch {
	int		 slot;		/* index in consumer.b */
	enum bkind	 kind;
	enum bstage	 st;
	unsigned	 gen;		/* bumped when the batch is dropped */
	struct config	*cf;		/* the rules it is judged by */
	struct entry	*v;
	size_t		 n, cap;
	size_t		 nev;		/* v[0..nev) events, then commands */
	bool		 history;	/* re-delivered: check delivery counts */
	struct fire	*fires;
	struct state_cand *cands;	/* parallel to fires */
	size_t		 nfires, capfires;
	struct alert	*alerts;
	size_t		 nalerts, capalerts;
	size_t		*alert_entry;	/* entry index of each alert */
	size_t		 capae;
	struct need	*needs;
	size_t		 nneeds, capneeds;
	int		 round;		/* load rounds done */
	struct arena	 arena;		/* messages, JSON, keys, command args */
	struct buf	 scratch;
	struct commit	 cm;
	struct store_note *notes;	/* the closed loop's, counted once */
	size_t		 nnotes;	/* the commit landed */
	int		 outstanding;	/* replies still expected */
	bool		 failed;	/* a reply was lost or refused */
	bool		 transient;	/* ... for the moment (OOM, BUSY...) */
	bool		 blame;		/* ... by an error about the batch */
	char		 why[200];
	uint64_t	 started;	/* the order batches began in (batch_seq;
					 * 0: a refused commit's, the oldest) */
	int64_t		 now_ms;	/* the batch's wall clock */
	size_t		 bytes;		/* the read's entries, as sent by Redis */
	size_t		 max_entry;	/* the largest of them */
	size_t		 deferred;	/* entries left pending: over the budget */
	bool		 full;		/* a full page (steps: more may be due) */
};

/* The owner's phases, while it holds the lease. */
enum phase {
	PH_STANDBY,	/* not the owner */
	PH_SETUP,	/* script, the groups */
	PH_CLAIM,	/* XAUTOCLAIM JUSTID: every pending entry becomes ours
			 * (the input stream's, then the commands') */
	PH_HISTORY,	/* our pending entries, in ID order, from hist_pos
			 * (and commands from cmd_pos) */
	PH_LIVE		/* new entries and commands (">") */
};

/* An entry re-read because of our own transient failure: its delivery
 * count in Redis grew by n without its being at fault. */
struct redeliv {
	char	id[EVENT_ID_MAX];
	long	n;
};

/*
 * The read connection's reply budget. hiredis builds a reply object for
 * every string of a reply as it arrives; these functions, installed on
 * the read connection's reader, keep at most DEAD_PREFIX bytes of a string
 * over EVENT_MAX_BYTES (its entry is invalid anyway) or of any string once
 * the reply holds batch_bytes, and record the original length in the
 * string reply's (otherwise unused) integer field. So a reply never holds
 * much more than the budget, whatever Redis sends. The objects live in
 * ar, which the reply's release empties (consumer_read.c).
 */
struct read_cap {
	size_t				 budget;	/* cf->batch_bytes */
	size_t				 kept;		/* of the reply being read */
	struct arena			 ar;		/* the reply being read */
	redisReplyObjectFunctions	 fn;		/* ours */
};

struct consumer {
	struct event_base	*base;
	struct config		*cf, *next_cf;
	void			(*release)(struct config *);
	char			 name[128];
	struct stats		*stats;
	struct redis_target	 target;
	struct rconn		*rd, *wr;
	struct rconn		*tx;		/* commits' transactions only */
	struct txn		*txn_check;	/* checks out on tx, or NULL */
	struct txn		*txn_exec;	/* EXEC out on tx, or NULL */
	double			 tx_since;	/* when that went out */
	double			 check_since;	/* the checks' */
	bool			 freeing;	/* consumer_free is running */
	struct owner		*owner;
	struct store		*store;
	char			 sha_apply[41];
	bool			 scripts_ready, group_ready, loading;
	bool			 cgroup_ready;	/* of the command stream */
	bool			 watch_ready;	/* the watch set loaded */
	enum phase		 phase;
	bool			 resync;	/* drop the cache, re-read ours */
	bool			 reclaim;	/* ... after claiming all again */
	double			 resync_at;	/* not before (backoff) */
	int			 backoff_ms;
	double			 sweep_at;	/* entries left pending: 0 none */
	double			 resend_hold;	/* a refused commit: not before */
	char			 hist_pos[EVENT_ID_MAX];
	char			 cmd_pos[EVENT_ID_MAX];	/* commands: history */
	char			 claim_cursor[EVENT_ID_MAX];
	bool			 claim_cmds;	/* claiming the commands */
	char			 last_id[EVENT_ID_MAX];	/* last handed out */
	struct batch		 b[NSLOTS];
	bool			 esc_wanted;
	struct read_cap		 cap;
	long			 read_count;	/* COUNT of the next read */
	int64_t			 past_skew_ms;	/* input.max_past_skew, resolved */
	struct event		*tick, *kick, *esc;
	struct event		*decide_ev;	/* the BS_DECIDE batch's turn */
	bool			 stopping, released;
	void			(*done)(void *);
	void			*done_arg;
	double			 stop_at;
	double			 last_stats;
	uint64_t		 batch_seq;	/* of the last batch begun */
	/* the cache's figures a minute ago, and when it was last said to
	 * be too small (cache_check) */
	double			 cache_at, cache_warned;
	uint64_t		 cache_loaded, cache_evicted, cache_events;
	struct store_counts	 cache_seen;	/* as last seen */
	double			 read_sent;	/* when the read went out */
	double			 wr_since;	/* oldest unanswered commit */
	char			 health[160];
	char			 outbox_key[300];	/* <prefix>outbox */
	char			 defer_key[300];	/* <prefix>deferred */
	char			 esc_key[300];		/* store_sched_key */
	char			 cmd_key[300];		/* <prefix>commands */
	bool			 enrich;	/* some rule reads customer.* */
	struct redeliv		*redeliv;	/* sorted by ID */
	size_t			 nredeliv, capredeliv;
	const struct metrics_info *mi;		/* NULL: do not publish */
	struct args		 pub;		/* the HSET of the figures */
	struct arena		 pub_arena;
	struct cons_silence	*sil;		/* consumer_silence.c */
};

/* consumer_silence.c: the silences (silence.h), reloaded when they
 * change; marked before store_decide, counted after it, the counts
 * written with the batch's commit. */
struct cons_silence;
struct cons_silence *cons_silence_new(struct consumer *);
void	cons_silence_free(struct cons_silence *);
void	cons_silence_mark(struct consumer *, struct state_req *);
void	cons_silence_count(struct consumer *, const struct state_req *);
void	cons_silence_commit(struct consumer *, struct batch *);
/* cons_silence_poll: read them now (unless a read is out);
 * cons_silence_read: Redis answered one since the start. */
void	cons_silence_poll(struct consumer *);
bool	cons_silence_read(const struct consumer *);

/* consumer.c */
void	cons_kick(struct consumer *, int ms);
/* cons_setup_done: an owner's setup goes on to the claim once its
 * replies and the silences are in; else nothing. */
void	cons_setup_done(struct consumer *);
int	cons_send(struct rconn *, redisCallbackFn *, void *, int argc,
	    const char **argv, const size_t *lens);
/* cons_pump: move batches on: resync, send a ready commit, start the
 * next read. Called whenever a stage ends. */
void	cons_pump(struct consumer *);
/* cons_fail: stop using batch b (lost reply, refused command, fenced
 * commit): it is dropped, with what was decided after it and the cache;
 * our pending entries are read again once nothing is in flight, after a
 * backoff. The re-read counts against max_deliveries only when counts:
 * an error about the batch itself, not a refusal for the moment, a lost
 * connection or the fence. */
void	cons_fail(struct consumer *, struct batch *, bool counts,
	    const char *why);
/* cons_undecided: a batch read before b is parked, being loaded or
 * being decided: b waits (BS_PARKED) until none is. */
bool	cons_undecided(const struct consumer *, const struct batch *b);
/* cons_drop_all: forget every batch and the cache (lease lost). */
void	cons_drop_all(struct consumer *);
/* is_transient: a refusal worth retrying as is (OOM, BUSY, LOADING...). */
bool	is_transient(const redisReply *);
/* batch_free_slot: the slot is free again. */
void	batch_free_slot(struct consumer *, struct batch *);

/* consumer_read.c */
void	cons_setup_reader(redisAsyncContext *, void *);
void	cons_batch_begin(struct consumer *, struct batch *, enum bkind,
	    bool history);
void	cons_batch_end(struct consumer *, struct batch *);
struct entry *cons_entry_next(struct batch *);
/* cons_read: send the read of the current phase into batch b. */
void	cons_read(struct consumer *, struct batch *);
/* cons_claim: one XAUTOCLAIM JUSTID page (PH_CLAIM). */
void	cons_claim(struct consumer *);
/* redelivered: note that entry id will be re-read for our own fault;
 * redeliv_of / redeliv_done: look it up, forget it. */
void	redelivered(struct consumer *, const char *id);
long	redeliv_of(struct consumer *, const char *id);
void	redeliv_done(struct consumer *, const char *id);
/* cons_counts: the delivery counts of a history batch, then LOAD. */
void	cons_counts(struct consumer *, struct batch *);

/* consumer_load.c */
void	cons_enrich(struct consumer *, struct batch *);
void	cons_load(struct consumer *, struct batch *);
/* reply context: the batch (slot, generation) and an index */
struct reply_ctx {
	struct consumer	*c;
	int		 slot;
	unsigned	 gen;
	size_t		 idx, n;
};
struct reply_ctx *reply_ctx(struct consumer *, struct batch *, size_t idx);
/* reply_batch: the batch the reply belongs to if it is still at stage
 * st, else NULL. */
struct batch	*reply_batch(const struct reply_ctx *, enum bstage st);

/* consumer_decide.c */
void	cons_decide(struct consumer *, struct batch *);
/* cons_contact_policy: hold back the contact alerts the policy refuses
 * among b->alerts[from..nalerts) (store_contact_filter). */
void	cons_contact_policy(struct consumer *, struct batch *, size_t from,
	    const struct evt *ev, const char *customer);
/* cons_steps: start an escalation batch (due members of <prefix>esc). */
void	cons_steps(struct consumer *, struct batch *);

/* consumer_commit.c */
void	cons_commit(struct consumer *, struct batch *);
/* cons_txn_free: at consumer_free, once the commit connection's answers
 * have all come (NULL): the transactions still attached. */
void	cons_txn_free(struct consumer *);
/* txn_prepare: send the next commit's checks once its batch was read. */
void	txn_prepare(struct consumer *);

#endif
