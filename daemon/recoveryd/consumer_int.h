/*
 * consumer_int.h — the stream consumer's private structures, shared by
 * consumer.c (reading, connections, timers, life cycle) and
 * consumer_batch.c (the stages of a batch after the read).
 */
#ifndef RECOVERYD_CONSUMER_INT_H
#define RECOVERYD_CONSUMER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "alertcmd.h"
#include "config.h"
#include "consumer.h"
#include "engine.h"
#include "event.h"
#include "metrics.h"
#include "redis.h"
#include "state.h"
#include "stats.h"

#define READ_BLOCK_MS		1000	/* XREADGROUP BLOCK: bounds stop latency */
#define SILENCE_GRACE_S		5	/* reply overdue by this much: drop */
#define RETRY_DELAY_MS		200
#define STATS_PERIOD_S		5
#define DEAD_PREFIX		1024	/* bytes of a cut field in a dead letter */
#define BIG_BATCH		(1024 * 1024)	/* read bytes: give memory back after */
#define REPLY_OVERHEAD		64	/* bytes a reply object costs beside its text */

enum entry_state { E_OK, E_INVALID, E_LOST, E_DEAD };

struct entry {
	char		 id[EVENT_ID_MAX];
	enum entry_state st;
	enum event_err	 err;
	char		 errmsg[320];
	long		 deliveries;
	struct evt	 ev;
	struct arena	 raw;		/* original fields, for dead letters */
	const char	**fnames, **fvals;
	size_t		*fnlens, *fvlens;
	size_t		*fvfull;	/* each value's length in the entry: more
					 * than fvlens[i] when cut to DEAD_PREFIX */
	size_t		 nf;
	size_t		 fire0, nfires;	/* into batch.fires */
	struct case_ref	 cr;
	bool		 written;		/* this commit wrote it */
};

enum stage { ST_IDLE, ST_READING, ST_COUNTS, ST_ENRICH, ST_DECIDE,
    ST_COMMIT };

struct batch {
	struct entry	*v;
	size_t		 n, cap;
	bool		 history;	/* re-delivered: check delivery counts */
	struct fire	*fires;
	struct state_cand *cands;	/* parallel to fires */
	size_t		 nfires, capfires;
	struct alert	*alerts;
	size_t		 nalerts, capalerts;
	size_t		*alert_entry;	/* entry index of each alert */
	size_t		 capae;
	struct arena	 arena;		/* messages, JSON, command args */
	struct buf	 scratch;
	int		 outstanding;	/* replies still expected */
	bool		 failed;	/* a reply was NULL or an error */
	double		 started;
	unsigned	 gen;		/* see struct reply_ctx */
	size_t		 bytes;		/* the read's entries, as sent by Redis */
	size_t		 max_entry;	/* the largest of them */
	size_t		 deferred;	/* entries left pending: over the budget */
};

/*
 * The read connection's reply budget. hiredis builds a reply object for
 * every string of a reply as it arrives; these functions, installed on
 * the read connection's reader, keep at most DEAD_PREFIX bytes of a string
 * over EVENT_MAX_BYTES (its entry is invalid anyway) or of any string once
 * the reply holds batch_bytes, and record the original length in the
 * string reply's (otherwise unused) integer field. So a reply never holds
 * much more than the budget, whatever Redis sends.
 */
struct read_cap {
	size_t				 budget;	/* cf->batch_bytes */
	size_t				 kept;		/* of the reply being read */
	redisReplyObjectFunctions	*orig;		/* hiredis's own */
	redisReplyObjectFunctions	 fn;		/* orig, with two wrapped */
};

struct consumer {
	struct event_base	*base;
	struct config		*cf, *next_cf;
	void			(*release)(struct config *);
	char			 name[128];
	struct stats		*stats;
	struct redis_target	 target;
	struct rconn		*rd, *wr;
	char			 sha_decide[41], sha_commit[41];
	bool			 scripts_ready, group_ready;
	bool			 history;	/* read own pending entries next */
	bool			 claim_due;
	char			 claim_cursor[EVENT_ID_MAX];
	enum stage		 stage;
	double			 read_sent;	/* when the read went out */
	double			 wr_since;	/* oldest unanswered write */
	struct batch		 b;
	struct read_cap		 cap;
	long			 read_count;	/* COUNT of the next read */
	int64_t			 past_skew_ms;	/* input.max_past_skew, resolved */
	struct event		*tick, *kick, *claim;
	bool			 stopping;
	void			(*done)(void *);
	void			*done_arg;
	double			 stop_at;
	double			 last_stats;
	char			 health[160];
	char			 outbox_key[300];	/* <prefix>outbox */
	bool			 enrich;	/* some rule reads customer.* */
	const struct metrics_info *mi;		/* NULL: do not publish */
	struct args		 pub;		/* the HSET of the figures */
	struct arena		 pub_arena;
};

/* consumer.c */
void	cons_kick(struct consumer *, int ms);
int	cons_send(struct rconn *, redisCallbackFn *, void *, int argc,
	    const char **argv, const size_t *lens);
void	cons_abandon(struct consumer *, const char *why);
bool	cons_reply_done(struct consumer *, const redisReply *);
void	cons_read_next(struct consumer *);
/* consumer_read.c: the read stage. cons_setup_reader is the read
 * connection's rconn setup callback (arg: the consumer); cons_batch_begin
 * starts an empty batch; cons_read_entries adds a read or claim reply's
 * entries and sets the next read's COUNT; cons_batch_end, once the batch
 * is over (committed or abandoned), gives back what an unusually large
 * one made the process hold. */
void	cons_setup_reader(redisAsyncContext *, void *);
void	cons_batch_begin(struct consumer *, bool history);
void	cons_read_entries(struct consumer *, const redisReply *, bool history);
void	cons_batch_end(struct consumer *);
/* consumer_batch.c: the stages after a read, starting with the delivery
 * counts of re-delivered entries. */
void	cons_counts(struct consumer *);

#endif
