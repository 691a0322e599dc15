/*
 * explain.h — why each rule did or did not fire for an event
 * ("recoveryctl explain").
 *
 * explain_event runs the event through a simulator (sim.h) exactly as
 * replay does, and then reads the answer: the rule's "on" and "enabled",
 * its "if" (expr_explain: the false sub-expression and the field values),
 * and, for the rules that matched, what the state decision itself said
 * (state_cand.why: the window count against at_least, samples against
 * min_samples, alert_if with value and samples, the "after" rule that did
 * not fire, the cooldown that held it and how much of it is left) and a
 * silence that held a firing. Nothing here decides anything: the
 * explanation is read off the one decision, so it cannot drift from it.
 * Pure: no I/O.
 */
#ifndef RECOVERYD_EXPLAIN_H
#define RECOVERYD_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "sim.h"
#include "util.h"

/* What happened to one rule, as a word (the JSON "result"). */
enum explain_result {
	EXPLAIN_FIRED,		/* fired: its actions were delivered */
	EXPLAIN_SILENCED,	/* fired, but a silence held it back */
	EXPLAIN_DISABLED,	/* enabled: false */
	EXPLAIN_OTHER_TYPE,	/* "on" does not list the event's type */
	EXPLAIN_IF_FALSE,	/* "if" is false */
	EXPLAIN_STATE		/* the state decision said no (why) */
};
const char	*explain_result_name(enum explain_result);

/*
 * explain_event: sim_event(s, ev, t_ms), then append one explanation per
 * rule of s's configuration, in configuration order: as text, lines
 * "  RULE  fired|not fired|...: reason" (json false), or as one JSON
 * object {"event_id", "type", "customer_id", "ts", "rules": [{"rule",
 * "result", "fired", "reason"}]} on one line (json true). Texts from the
 * event are cut and have control characters replaced. Returns the
 * number of rules that fired. The simulator's alerts are those of the
 * call (escalation steps due before the event included).
 */
size_t		 explain_event(struct sim *s, const struct evt *ev,
		    int64_t t_ms, bool json, struct buf *out);

#endif
