/*
 * scripts.h — the Lua scripts that make recoveryd's Redis updates atomic.
 *
 * decide: per event, opens or joins the customer's case (and, later,
 *   updates windows, aggregates, cooldowns and escalation timers). Every
 *   update is keyed by the entry ID, so an event processed twice
 *   (redelivery after a crash, a claim from a slow consumer) gets the same
 *   decisions and changes nothing the second time.
 * commit: per batch, writes each entry's alerts and dead letters and acks
 *   it, all or nothing per entry, and only while the entry is pending for
 *   the committing consumer: a redelivered event produces no second alert.
 *
 * esc_claim / esc_commit: the escalation worker's claim of due steps and
 *   the write of their alerts, once per step (see scripts.c).
 *
 * All start with "#!lua" so Redis 7 refuses them up front when it is out
 * of memory (noeviction), instead of failing half way.
 */
#ifndef RECOVERYD_SCRIPTS_H
#define RECOVERYD_SCRIPTS_H

extern const char script_decide[];
extern const char script_commit[];
extern const char script_esc_claim[];
extern const char script_esc_commit[];

#endif
