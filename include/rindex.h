/*
 * rindex.h — the rule index: which rules can possibly match an event,
 * found without evaluating every rule.
 *
 * A configuration with a thousand rules would otherwise test each of them
 * against each event. Most rules select their events by type ("on") and
 * by an equality on some field ("queue == 'billing'", "customer.tier in
 * $vip_tiers"): expr_guard() finds such a conjunct, and the index files
 * the rule under its event types and under the guard's values. Matching
 * an event then costs one field lookup and one hash probe per distinct
 * guard field of its type, plus the conditions of the candidates.
 *
 * The index is a pre-filter only: engine_match() still evaluates the
 * whole condition of every candidate, so a rule the index returns without
 * need costs time, never a wrong answer. It must never leave out a rule
 * that could match; rindex.c says how value_equal()'s numeric and boolean
 * rules are respected. Candidates come out in configuration order, so
 * alerts keep the order the rules are written in.
 *
 * Built once per loaded configuration (config_load), immutable after,
 * freed with the configuration.
 */
#ifndef RECOVERYD_RINDEX_H
#define RECOVERYD_RINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct config;
struct rindex;

/* rindex_build: the index of cf's enabled rules (NULL only when out of
 * memory: then engine_match falls back to testing every rule). */
struct rindex	*rindex_build(const struct config *cf);
void		 rindex_free(struct rindex *);

/*
 * rindex_each: call cb(ctx, rule_idx) for each rule that can match an
 * event of this type whose fields lookup() reads, in ascending rule index
 * order; stop early when cb returns false. O(guard fields of the type +
 * candidates). No allocation.
 */
typedef bool	(*rindex_cb)(void *ctx, size_t rule_idx);
void		 rindex_each(const struct rindex *, const char *type,
		    lookup_fn lookup, void *lctx, rindex_cb cb, void *ctx);

/* rindex_stats: for tests and benchmarks: rules filed under a guard and
 * rules tested for every event of their types. */
void		 rindex_stats(const struct rindex *, size_t *guarded,
		    size_t *plain);

#endif
