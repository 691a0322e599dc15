/*
 * stats.h — the daemon's counters, read by /metrics and "recoveryctl stats".
 *
 * Plain counters updated from the single event-loop thread. Per-rule and
 * per-channel counters are keyed by name (not index) so that they survive
 * a reload that reorders rules.
 */
#ifndef RECOVERYD_STATS_H
#define RECOVERYD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define STATS_LAT_BUCKETS 14
#define STATS_CASE_BUCKETS 11	/* a minute .. a week */
#define STATS_INTAKE_CODES 9	/* see stats_intake_codes */

/* A histogram of case durations, seconds (cumulative buckets). */
struct stats_hist {
	uint64_t	 b[STATS_CASE_BUCKETS];
	uint64_t	 count;
	double		 sum;
};

struct named_counter {
	char		*name;
	char		*label2;	/* second label (e.g. result) or NULL */
	uint64_t	 n;
};

struct named_counters {
	struct named_counter	*v;
	size_t			 n, cap;
};

struct stats {
	uint64_t		 events_rating, events_call, events_complaint,
				 events_other;
	uint64_t		 invalid[EVERR__COUNT];
	uint64_t		 dead_deliveries;	/* over max_deliveries */
	uint64_t		 lost;			/* trimmed while pending */
	uint64_t		 batches;
	uint64_t		 commit_failures;
	/* The owner lease (owner.h) and what the owner met. */
	int			 owner;			/* 1 owner, 0 standby */
	uint64_t		 owner_epoch;		/* of the lease held last */
	uint64_t		 takeovers;		/* leases taken */
	uint64_t		 fenced;		/* commits refused by the fence */
	uint64_t		 retries;		/* transient refusals retried */
	uint64_t		 rewatched;		/* commits sent again: the lease
						 * key changed under them */
	uint64_t		 dead_decide;		/* dead letters: the store failed */
	uint64_t		 dead_enrich;		/* dead letters: CRM not a hash */
	/* The owner's state cache (store_counts). */
	uint64_t		 cache_entities;
	uint64_t		 cache_loaded, cache_evicted;
	struct named_counters	 rule_fires;		/* name */
	struct named_counters	 alerts;		/* channel, result */
	uint64_t		 reloads_ok, reloads_failed;
	uint64_t		 redis_reconnects;
	int64_t			 cases_open;		/* -1: unknown */
	int64_t			 stream_lag;		/* -1: unknown */
	/* The closed loop, counted when the commits carrying it landed. */
	struct named_counters	 cases_opened;		/* rule */
	struct named_counters	 cases_resolved;	/* code */
	struct named_counters	 outcomes;		/* rule, outcome */
	struct named_counters	 suppressed;		/* channel, reason */
	struct named_counters	 silenced;		/* silence ID */
	struct stats_hist	 to_ack, to_contact, to_resolve;
	int64_t			 cases_overdue;		/* -1: unknown */
	/* The HTTP intake (intake.h): requests by the answer's status code
	 * (stats_intake_codes), events written to the stream, events
	 * refused as invalid. */
	uint64_t		 intake_requests[STATS_INTAKE_CODES];
	uint64_t		 intake_events, intake_invalid;
	/* Histogram of entry time to ack, seconds. */
	uint64_t		 lat_bucket[STATS_LAT_BUCKETS];
	uint64_t		 lat_count;
	double			 lat_sum;
};

extern const double stats_lat_bounds[STATS_LAT_BUCKETS];
extern const double stats_case_bounds[STATS_CASE_BUCKETS];
/* 202 400 401 404 405 413 415 500 503: the intake's answers */
extern const int stats_intake_codes[STATS_INTAKE_CODES];
/* stats_intake_answer: count one intake answer with code. */
void	 stats_intake_answer(struct stats *, int code);
void	 stats_hist_add(struct stats_hist *, double seconds);

void	 stats_init(struct stats *);
void	 stats_free(struct stats *);
void	 stats_count(struct named_counters *, const char *name,
	    const char *label2, uint64_t n);
void	 stats_latency(struct stats *, double seconds);
void	 stats_event_type(struct stats *, const char *type);

#endif
