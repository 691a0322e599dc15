/*
 * caseview.h — what recoveryctl and recoveryd-console make of the case
 * hashes they read (README, "Working a case"): the filters of the queue,
 * its order by severity, and the report's figures. Pure: a case is seen
 * through a getter of its fields, so that recoveryctl (hiredis replies)
 * and the console (its own copies) share one implementation.
 */
#ifndef RECOVERYD_CASEVIEW_H
#define RECOVERYD_CASEVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A case: its ID and its hash's fields, read with get(h, name) (NULL
 * when absent); the strings belong to the caller. */
struct caseview {
	const char	 *id;
	const void	 *h;
	const char	*(*get)(const void *h, const char *field);
};

const char	*caseview_get(const struct caseview *, const char *field);

/* What a queue keeps (NULL: any). */
struct case_filter {
	const char	*state;		/* one state, or NULL for the index's */
	const char	*severity, *rule, *queue, *agent, *owner;
	const char	*q;		/* the case, customer or call ID */
	bool		 overdue;	/* past due_at and not resolved */
	int64_t		 now_ms;
};

/* case_filter_any: f filters on something besides the index. */
bool	 case_filter_any(const struct case_filter *f);
/* case_match: the case passes every filter of f. */
bool	 case_match(const struct case_filter *f, const struct caseview *);
/* case_overdue: open past its due_at at now_ms. */
bool	 case_overdue(const struct caseview *, int64_t now_ms);
/* case_cmp_severity: highest severity first, then the oldest, then by
 * ID in stream order ("c-<ms>-<seq>"). */
int	 case_cmp_severity(const struct caseview *, const struct caseview *);
/* The same order from keys read once per case (case_key_of), for
 * sorting many: O(1) a comparison. id points to the case's ID. */
struct case_key {
	int			 sev;
	long long		 opened_ms;
	unsigned long long	 ms, seq;	/* of "c-<ms>-<seq>" */
	bool			 numbered;
	const char		*id;
};
void	 case_key_of(const struct caseview *, struct case_key *);
int	 case_key_cmp(const struct case_key *, const struct case_key *);

/* --- the report (recoveryctl report, GET /api/report) ------------------ */

#define REPORT_GROUPS	10000
#define REPORT_NCODES	32

struct report_series {
	int64_t		*v;
	size_t		 n, cap;
};

struct report_group {
	char		*name;
	long		 opened, acked, acked_in_sla, with_sla, resolved;
	long		 recovered, not_recovered, unknown;
	struct report_series ack, contact, resolve;
	double		 csat_before, nps_before, csat_after, nps_after;
	long		 ncsat_before, nnps_before, ncsat_after, nnps_after;
	char		*codes[REPORT_NCODES];
	long		 ncode[REPORT_NCODES];
	size_t		 ncodes;
};

struct report {
	struct report_group	*g;
	size_t			 n;
	struct report_group	 total;
	const char		*by;	/* rule, queue, agent or owner */
};

/* report_by_ok: by is rule, queue, agent or owner. */
bool	 report_by_ok(const char *by);
/* report_init: an empty report grouped by by (kept, not copied). */
void	 report_init(struct report *, const char *by);
/* report_place: the case in each of its groups and in the total. */
void	 report_place(struct report *, const struct caseview *);
/* report_pct: the p-th percentile (nearest rank) in ms, or -1. Sorts. */
int64_t	 report_pct(struct report_series *, double p);
/* report_json: {"since","by","total","groups"}; the caller decrefs. */
json_t	*report_json(struct report *, const char *since);
void	 report_free(struct report *);

/*
 * caseview_history_entry: a history entry as recoveryctl and the
 * console show it. The fields of the event that opened a case are
 * stored once, in the case's EVENT key (<prefix>case:<id>:event, a JSON
 * object), and its history entry (kind "event", event_id the hash's
 * "entry") is written without them: such an entry gets a copy of
 * opening (that key's value, parsed; NULL: none) as its "fields". Any
 * other entry, and one that has its fields, is left as it is.
 */
void	 caseview_history_entry(json_t *entry, const char *entry_id,
	    const json_t *opening);

#endif
