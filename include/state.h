/*
 * state.h — the stateful half of a rule decision (README, "Cases and
 * escalation").
 *
 * engine_match() gives the candidate firings of an event (rules whose "on"
 * and "if" hold). The state layer decides which of them really fire, with
 * which count, value and samples, and which case the event opens or joins.
 * The decision is a request (state_prepare) and an answer, made by one
 * implementation, the store (store.h): "recoveryctl test" and "replay" run
 * it in memory, the daemon's owner runs it as a cache over Redis, which
 * only stores what it decides. store.h amends the semantics below for
 * late events (cooldowns on both sides, one firing per count crossing).
 *
 * Semantics (times are event times in ms; windows are inclusive at both
 * ends, [t - within, t]):
 *   count      the event joins the window of (rule, by value); the rule's
 *              condition holds when the window then holds exactly at_least
 *              events: it fires on the at_least-th, not on every one after.
 *   aggregate  the event's value (count(): none needed) joins the window
 *              of (rule, by value); samples is the number of events in the
 *              window, value the function over them; the condition holds
 *              when samples >= min_samples and alert_if(value, samples).
 *              An event without a numeric value for sum/avg/min/max/nps
 *              neither joins nor fires.
 *   after      holds when rule Q fired for an event, at a time in
 *              [t - within, t], whose field F had this event's value of F.
 *   plain      holds (a stateless rule).
 *   cooldown   a rule whose condition holds fires unless it fired for the
 *              same key (count/aggregate/after by value, else customer_id)
 *              for another event at a time t' with |t - t'| < cooldown.
 *   remember   when rule Q fires, the values of the fields other rules
 *              correlate on (rule->remember) are recorded for "after".
 *   case       if any rule fired and the event has a customer_id, the event
 *              joins the customer's case that is not resolved, or opens
 *              one (case ID "c-" + entry ID); the case's severity is the
 *              highest of its firings.
 *   escalate   each fired rule's steps are added to the case's schedule,
 *              due at opened_at + after, unless the schedule already has a
 *              step with the same delay and channels; a due step runs once,
 *              while the case is open (not acknowledged, not resolved).
 * A case ID is "c-" + the opening entry's ID. Replay and test record
 * each entry's answer: deciding one event twice changes nothing and gives
 * the same answer (the daemon decides each entry once, in stream order).
 */
#ifndef RECOVERYD_STATE_H
#define RECOVERYD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "engine.h"
#include "event.h"

#define STATE_MAX_REMEMBER	16

struct silence;

/* One candidate firing and the event values the decision needs. */
struct state_cand {
	const struct rule	*rule;
	const char		*key;		/* by value, or customer_id; "" if absent */
	bool			 has_num;	/* aggregate: the event's value */
	double			 num;
	const char		*after_val;	/* after: this event's after.by value */
	const char		*rem_vals[STATE_MAX_REMEMBER]; /* rule->remember values */
	/* Set by the caller before deciding (silences_mark, silence.h):
	 * a silenced candidate is decided but opens or joins no case. */
	const struct silence	*silence;
	/* the answer */
	int			 why;		/* STATE_WHY_*: why it did
						 * or did not fire */
	int64_t			 cool_at_ms;	/* STATE_WHY_COOLDOWN: the
						 * firing that holds it */
	bool			 fired;
	bool			 has_count;
	long			 count;
	bool			 has_value;
	double			 value;
	long			 samples;
};

/*
 * Why a candidate did or did not fire (state_cand.why), for "recoveryctl
 * explain": set by the decision itself, so the explanation cannot drift
 * from what was decided.
 */
enum {
	STATE_WHY_FIRED = 0,
	STATE_WHY_NO_VALUE,	/* aggregate of a field the event lacks */
	STATE_WHY_COUNT,	/* count is not at_least (c->count) */
	STATE_WHY_CROSSED,	/* at_least again, but this crossing fired */
	STATE_WHY_MIN_SAMPLES,	/* fewer than min_samples (c->samples) */
	STATE_WHY_ALERT_IF,	/* alert_if false (c->value, c->samples) */
	STATE_WHY_NO_AFTER_KEY,	/* the event lacks after.by */
	STATE_WHY_NO_AFTER,	/* after.rule did not fire for that value
				 * within after.within */
	STATE_WHY_COOLDOWN,	/* a firing at cool_at_ms is too close */
	STATE_WHY_RECORDED	/* answered from a recorded decision */
};

struct state_req {
	const char		*entry_id;
	int64_t			 t_ms;		/* event time */
	int64_t			 now_ms;	/* case clock: wall (daemon) or virtual */
	const char		*customer_id;	/* "" if absent */
	const char		*call_id, *agent_id, *queue;	/* case snapshot */
	struct state_cand	*c;
	size_t			 n;
	/* The closed loop (README, "Working a case"): a rating or contact
	 * event of a customer reaches the store even when no rule fires (it
	 * may be a case's outcome, or a contact attempt). */
	const struct evt	*ev;
	bool			 loop;
	bool			 contact;	/* a contact event */
	const char		*case_hint;	/* contact: its case_id, "" */
	/* set by store_needs (store.h): the store's epoch when every entity
	 * deciding this reads was last found resident; 0: not known */
	uint64_t		 resident_at;
};

/*
 * state_prepare: fill req (entry, times, customer and the candidates'
 * values) from an event and its engine_match() result. cands must have
 * room for nfires. Pointers point into the event.
 */
void	state_prepare(struct state_req *req, const struct evt *ev,
	    const struct fire *fires, size_t nfires, struct state_cand *cands,
	    int64_t now_ms);
/* state_fire_from: copy a decided candidate into a struct fire for
 * engine_render (count/value/samples). */
void	state_fire_from(struct fire *f, const struct state_cand *c);
/*
 * state_past_skew_ms: how far before its entry's time an event's "ts" may
 * lie (input.max_past_skew): the configured value, or for "auto" the
 * longest window (count, aggregate, after) of cf's enabled rules plus
 * STATE_PAST_MARGIN_MS. Later than that, no window has room for it. 0
 * means no bound. O(rules).
 */
#define STATE_PAST_MARGIN_MS	86400000LL	/* 1 day */
int64_t	state_past_skew_ms(const struct config *cf);

/* An escalation step that is due: what rendering its alerts needs. */
struct esc_due {
	char		 case_id[ENGINE_ID_MAX];
	char		 rule[128];
	int		 step;		/* 1-based index into rule->escalate */
	int64_t		 due_ms;
	char		 customer_id[128], call_id[128], agent_id[128],
			 queue[128], severity[16];
};

#endif
