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
/* consumer_batch.c: the stages after a read, starting with the delivery
 * counts of re-delivered entries. */
void	cons_counts(struct consumer *);

#endif
