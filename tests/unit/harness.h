/*
 * harness.h — the unit tests' tiny harness.
 *
 * Each CHECK counts as one case: a failing one prints
 * "FAIL file:line: what" and the run continues. A test program ends with
 * "return harness_done();", which prints "N passed, N failed" and returns
 * the exit status (1 if anything failed). tests/run.sh adds up those lines.
 *
 * Table-driven tests call CHECK once per row and name the row in the
 * message (CHECKF), so a failure says which input broke.
 */
#ifndef RECOVERYD_HARNESS_H
#define RECOVERYD_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_passed, harness_failed;

#define CHECKF(cond, ...) do {						\
	if (cond) {							\
		harness_passed++;					\
	} else {							\
		harness_failed++;					\
		printf("FAIL %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

#define CHECK(cond)	CHECKF((cond), "%s", #cond)

#define CHECK_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	CHECKF(g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0,	\
	    "%s: got \"%s\", want \"%s\"", #got, g_ ? g_ : "(null)",	\
	    w_ ? w_ : "(null)");					\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	CHECKF(g_ == w_, "%s: got %lld, want %lld", #got, g_, w_);	\
} while (0)

static inline int
harness_done(void)
{
	printf("%d passed, %d failed\n", harness_passed, harness_failed);
	return harness_failed > 0 ? 1 : 0;
}

#endif
