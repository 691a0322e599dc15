/*
 * sim.h — the offline driver of the engine: a virtual clock, one loaded
 * configuration and a state store of its own (store.h, unbacked), shared by
 * "recoveryctl test" and "recoveryctl replay".
 *
 * The daemon's loop reads events from Redis and runs escalation timers on
 * the wall clock; the simulator gets both as calls with explicit times, so
 * a day of history (or a unit test's few events) runs in milliseconds and
 * always gives the same answer. Each call first runs the escalation steps
 * that came due up to its time, in due order, then does its own work, and
 * returns every alert that produced: the same engine_match, state decision
 * and engine_render as the daemon.
 *
 * Alerts returned by a call (sim->alerts, sim->customers) and every text
 * they point to live until the next call on the same simulator.
 */
#ifndef RECOVERYD_SIM_H
#define RECOVERYD_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "engine.h"
#include "event.h"
#include "silence.h"
#include "state.h"
#include "store.h"
#include "util.h"

struct sim {
	const struct config	*cf;		/* not owned */
	struct store		*st;
	int64_t			 now_ms;	/* virtual clock, never goes back */

	/* The last call's output: nalerts alerts and, for each, the
	 * customer it concerns ("" if none). */
	struct alert		*alerts;
	const char		**customers;
	size_t			 nalerts;

	/* Totals since sim_new, for summaries. */
	size_t			 nevents, nfires, nsteps, ncases, total_alerts;
	size_t			 nsilenced;	/* firings held back */

	/* Silences (silence.h) in force on the virtual clock: the
	 * caller adds them (silence_add); firings they match are decided
	 * but render nothing and open no case, as in the daemon. */
	struct silences		 silences;

	/* Working memory reused between calls. */
	size_t			 capalerts, capcust;
	struct arena		 arena;		/* alert texts, reset per call */
	struct buf		 scratch;
	struct fire		*fires;
	struct state_cand	*cands;
	size_t			 ncands;	/* the last sim_event's
						 * candidates, decided
						 * (explain.h reads them) */
	size_t			 maxfires;
	struct evt		 stepev;	/* the event a step renders over */
};

/* sim_new: a simulator over cf (which must outlive it) with an empty
 * state store and the clock at 0. Free with sim_free. */
struct sim	*sim_new(const struct config *cf);
void		 sim_free(struct sim *);

/*
 * sim_event: run the steps due up to t_ms, then decide ev (already
 * validated and enriched; ev->ts is its event time) at virtual time t_ms.
 * Alerts of the event's firings have step 0 and fired_ts = ev->ts; step
 * alerts have fired_ts = their due time. Returns sim->nalerts.
 */
size_t		 sim_event(struct sim *, const struct evt *ev, int64_t t_ms);
/* sim_advance: move the clock to t_ms, running the steps due up to it.
 * Returns sim->nalerts. */
size_t		 sim_advance(struct sim *, int64_t t_ms);
/*
 * sim_ack: acknowledge the open case of the customer who, or else the case
 * whose ID is, id, at t_ms. It does not move the clock or run due steps
 * (call sim_advance first: a step due at the ack's time runs), as the
 * daemon's owner applies "recoveryctl ack" (command_apply). Returns 0, or
 * -1 when there is no such case or it is resolved.
 */
int		 sim_ack(struct sim *, const char *id, int64_t t_ms);
/* sim_command: the same for any person's command op ("ack", "resolve",
 * "reopen") with code and note (may be NULL), by "recoveryctl"; the
 * customer's case is its open case, or for resolve and reopen its last
 * one. Returns 0, or -1 with the owner's refusal in err. */
int		 sim_command(struct sim *, const char *op, const char *id,
		    const char *code, const char *note, int64_t t_ms,
		    char *err, size_t errlen);
/* sim_finish: nothing runs by itself; releases the last call's alerts.
 * The simulator stays usable. */
void		 sim_finish(struct sim *);

/* sim_longest_step: the longest escalation delay of cf's enabled rules
 * (0 if none): how far past the last event a replay must run. */
int64_t		 sim_longest_step(const struct config *cf);

#endif
