/*
 * diag.h — collected diagnostics for configuration and rule files.
 *
 * Loading never stops at the first problem: every error and warning is
 * appended here with its file, line and column (1-based), and printed at
 * the end as "FILE:LINE:COL: message" (warnings as
 * "FILE:LINE:COL: warning: message"). A configuration with errors > 0 is
 * rejected; warnings alone are not.
 */
#ifndef RECOVERYD_DIAG_H
#define RECOVERYD_DIAG_H

#include <stdio.h>
#include <stddef.h>

enum diag_level { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_level	 level;
	char		*file;	/* owned copy */
	int		 line;	/* 1-based; 0 when unknown */
	int		 col;	/* 1-based; 0 when unknown */
	char		*msg;	/* owned */
};

struct diags {
	struct diag	*v;
	size_t		 n, cap;
	size_t		 errors, warnings;
	size_t		 max;	/* stop recording after this many (0 = 1000) */
};

void	diags_init(struct diags *);
void	diags_free(struct diags *);
void	diag_add(struct diags *, enum diag_level, const char *file, int line,
	    int col, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
#define diag_error(d, f, l, c, ...)	diag_add((d), DIAG_ERROR, (f), (l), (c), __VA_ARGS__)
#define diag_warn(d, f, l, c, ...)	diag_add((d), DIAG_WARNING, (f), (l), (c), __VA_ARGS__)
/* diags_sort: stable sort by file (in order of first appearance), line, col. */
void	diags_sort(struct diags *);
/* diags_sort_range: the same for diagnostics [from, n), files ranked in
 * the order of files[] first (a loader's reading order). */
void	diags_sort_range(struct diags *, size_t from, const char *const *files,
	    size_t nfiles);
/* diags_print: one line per diagnostic, in recorded order. */
void	diags_print(const struct diags *, FILE *);
/* diag_format: "FILE:LINE:COL: [warning: ]message" into out. */
void	diag_format(const struct diag *, char *out, size_t cap);

#endif
