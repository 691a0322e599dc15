/*
 * escalator.h — due escalation steps of open cases (README, "Cases and
 * escalation"), run
 * by the owner only, as batches of the consumer's pipeline (consumer.h).
 *
 * Steps wait in Redis, in the store's schedule (the sorted set
 * <prefix>escalations, member "<case_id>|<rule>|<step>", score the due
 * time in wall-clock ms), so a step due while every daemon was down runs at the
 * next start. Every second the owner reads the due members, loads their
 * cases into the store (store_needs_case), lets the store run each
 * (store_step: only while the case is open and the step still pending,
 * so an acknowledgement stops the rest), renders the step's alerts with
 * the running rules over the event that opened the case (saved in the
 * case with its customer.* enrichment) and commits them with the store's
 * changes (the member removed, the case's step advanced) in one fenced
 * commit: each step runs once.
 */
#ifndef RECOVERYD_ESCALATOR_H
#define RECOVERYD_ESCALATOR_H

struct consumer;
struct batch;

/* cons_steps (consumer_int.h) starts such a batch; esc_decide runs its
 * loaded steps through the store, renders them and builds the commit. */
void	esc_decide(struct consumer *, struct batch *);

#endif
