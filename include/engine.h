/*
 * engine.h — the pure decision core: given a configuration and an event,
 * which rules fire, and what alerts they deliver where.
 *
 * The engine never touches a socket, a file or the clock. The same code runs
 * in the daemon (with Redis holding the state), in "recoveryctl test" and in
 * "recoveryctl replay" (in memory). Processing an event is three steps:
 *
 *   1. engine_match()   — the rules whose "on" and "if" hold for the event
 *                         (stateless filters), as candidate firings;
 *   2. the state layer  — windows, aggregates, "after", cooldowns and the
 *                         customer's case decide which candidates really
 *                         fire and with which case (count/value/samples,
 *                         case_id); stateless rules without a cooldown pass;
 *   3. engine_render()  — for each firing, one alert per action channel,
 *                         with its message rendered and its JSON built.
 *
 * Alerts are plain data; delivering them is the shell's job.
 */
#ifndef RECOVERYD_ENGINE_H
#define RECOVERYD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "event.h"
#include "util.h"

#define ENGINE_ID_MAX	256

/* A candidate or confirmed firing of one rule for one event. */
struct fire {
	const struct rule	*rule;
	size_t			 rule_idx;
	/* Filled by the state layer for stateful rules: */
	bool			 has_count;
	long			 count;
	bool			 has_value;
	double			 value;
	long			 samples;
	int			 severity;	/* the rule's severity */
};

/* What the state layer decided about the case this firing opened/joined. */
struct case_ref {
	char	case_id[ENGINE_ID_MAX];
	bool	opened;		/* true: this firing opened the case */
	int	severity;	/* the case's severity after this firing */
};

/* One firing or escalation step delivered to one channel (README, "Channels").
 * */
struct alert {
	char			 alert_id[ENGINE_ID_MAX];
	char			 case_id[ENGINE_ID_MAX];
	const struct rule	*rule;
	const struct channel	*channel;
	size_t			 chan_idx;
	int			 severity;
	int			 step;		/* 0: the rule's actions */
	char			 fired_at[40];	/* RFC 3339 */
	double			 fired_ts;
	const char		*event_id;
	bool			 has_count, has_value;
	long			 count;
	double			 value;
	long			 samples;
	char			*message;	/* rendered, in the batch arena */
	char			*json;		/* the alert as one JSON object, in the arena */
	/* when it may go out (ms): fired_ts, or later when its channel's
	 * or its step's calendar is closed then (engine_deliver_at) */
	int64_t			 deliver_ms;
};

/*
 * engine_deliver_at: the first instant from now_ms at which both
 * calendars (either may be NULL: always open) are open: now_ms itself
 * when they are; -1 when they never are together within the calendars'
 * search horizon (calendar_next_open()). An alert whose channel or
 * step has a calendar waits until then (outside business hours it
 * waits, durably, and goes out when the calendar opens: README,
 * "Business calendars"); one that could never go out is not rendered
 * at all.
 */
struct calendar;
int64_t	engine_deliver_at(const struct calendar *, const struct calendar *,
	    int64_t now_ms);

/*
 * engine_match: append to out (up to max) every enabled rule whose "on"
 * lists ev->type and whose "if" holds. Returns the number appended; if more
 * rules matched than max, the rest are dropped and *overflow is set.
 * O(rules). No allocation.
 */
size_t	engine_match(const struct config *, const struct evt *,
	    struct fire *out, size_t max, bool *overflow);

/*
 * engine_render: the alerts of one firing (step 0: the rule's actions) or
 * of escalation step step >= 1 (the rule's escalate[step-1]), appended to
 * *alerts (grown with xreallocarray; caller frees the array, texts live in
 * arena). fired_ts is the firing time (event time for step 0 in replay,
 * wall clock in the daemon). scratch is a caller-owned buffer reused
 * between calls so that rendering does not allocate in steady state.
 * Returns the number of alerts added.
 */
size_t	engine_render(const struct config *, const struct evt *,
	    const struct fire *, const struct case_ref *, int step,
	    double fired_ts, struct arena *arena, struct buf *scratch,
	    struct alert **alerts, size_t *nalerts, size_t *capalerts);

/*
 * engine_alert_lookup context: alert fields first (alert_id, case_id,
 * rule, severity, step, event_id, fired_at, count, value, samples,
 * message), then the event. Exposed for the exec channel's argv templates.
 */
struct alert_view {
	const struct alert	*alert;
	const struct evt	*event;
	char			 scratch[64];	/* number formatting */
};
bool	engine_alert_lookup(void *alert_view, const char *path,
	    struct value *out);

/*
 * engine_reads_prefix: does any rule (condition, by/field keys, message
 * templates) or exec argv template read a field starting with prefix?
 * The daemon enriches events from the CRM hash only when some rule reads
 * "customer.". O(size of the configuration); call it at load time.
 */
bool	engine_reads_prefix(const struct config *, const char *prefix);

/*
 * engine_customer_key: enrich.customer_key rendered for ev
 * ("ivr:customer:{customer_id}" -> "ivr:customer:K9") into out; false
 * when enrichment is off, a field it names is missing or empty, or out
 * is too small. The daemon and "replay --from-stream" read that hash.
 */
bool	engine_customer_key(const struct config *, const struct evt *ev,
	    char *out, size_t cap);
/* engine_format_value: an aggregate's value as text ("3.17", "-20", "4"). */
void	engine_format_value(double v, char *out, size_t cap);

#endif
