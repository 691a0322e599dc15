/*
 * scripts.h — the few lines of Lua the daemon needs (scripts.c): none of
 * them knows what a rule means.
 *
 * lease:   take or renew the owner lease <prefix>owner:<stream> (owner.h)
 *          with a fencing epoch;
 * release: give it up at a clean stop;
 * apply:   the fenced commit of a batch (commit.h): if the lease still
 *          holds our token and no other consumer holds pending entries,
 *          run the batch's writes, given as data, and ack its entries of
 *          the input and the command stream; otherwise write nothing.
 *          Used for a batch with dead letters (a failed one leaves its
 *          entry unacked); the others commit as a transaction with the
 *          same checks (consumer_commit.c), which costs Redis a fraction
 *          of a script's per-command cost.
 *
 * All start with "#!lua", so Redis 7 refuses them up front when a
 * condition of theirs fails (out of memory for apply), never half way.
 */
#ifndef RECOVERYD_SCRIPTS_H
#define RECOVERYD_SCRIPTS_H

extern const char script_lease[];
extern const char script_release[];
extern const char script_apply[];

#endif
