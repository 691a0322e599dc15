/*
 * ruletest.h — "recoveryctl test": rule unit tests (README, "Commands"), in
 * the manner of "promtool test rules".
 *
 * A test file names the main configuration (rule_files) and lists tests:
 * customers (CRM enrichment), events and acknowledgements at virtual times
 * ("at: 15m" after a fixed base), and the alerts expected. Each test runs
 * in a fresh simulator (sim.h) with its own in-memory state; expected and
 * actual alerts must match one to one.
 */
#ifndef RECOVERYD_RULETEST_H
#define RECOVERYD_RULETEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The virtual time "at: 0s" stands for: 1700000000 s after the epoch. */
#define RULETEST_BASE_MS	1700000000000LL

/*
 * ruletest_run: load and run every test file of paths[0..n). Prints
 * "ok NAME" or "FAIL NAME" with the differences for each test, every
 * error of a test file as "FILE:LINE:COL: message" (such a file's tests
 * do not run), and a last line "N tests, N passed, N failed", all to out.
 * Returns EXIT_OK, or EXIT_CHECK when a test failed or a file had errors.
 */
int	ruletest_run(char *const *paths, size_t n, FILE *out);
/*
 * ruletest_run_opts: the same; with explain, a failing test also prints,
 * for each of its events, why the rules concerned (those of its "rules:",
 * and of the missing and unexpected alerts) fired or not, as
 * "recoveryctl explain" says it (explain.h) — the test's silences
 * included.
 */
int	ruletest_run_opts(char *const *paths, size_t n, bool explain,
	    FILE *out);

#endif
