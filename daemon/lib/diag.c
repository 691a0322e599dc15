/*
 * diag.c — the list of configuration diagnostics. Loading code appends;
 * the binaries print them all at the end, each as FILE:LINE:COL: message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"

void
diags_init(struct diags *d)
{
	memset(d, 0, sizeof(*d));
}

void
diags_free(struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	diags_init(d);
}

void
diag_add(struct diags *d, enum diag_level level, const char *file, int line,
    int col, const char *fmt, ...)
{
	struct diag *g;
	va_list ap;
	char msg[1024];
	size_t max = d->max ? d->max : 1000;

	if (level == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n >= max)
		return;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = xreallocarray(d->v, d->cap, sizeof(*d->v));
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	g = &d->v[d->n++];
	g->level = level;
	g->file = xstrdup(file ? file : "");
	g->line = line;
	g->col = col;
	g->msg = xstrdup(msg);
}

void
diag_format(const struct diag *g, char *out, size_t cap)
{
	const char *w = g->level == DIAG_WARNING ? "warning: " : "";

	if (g->line > 0 && g->col > 0)
		snprintf(out, cap, "%s:%d:%d: %s%s", g->file, g->line, g->col,
		    w, g->msg);
	else if (g->line > 0)
		snprintf(out, cap, "%s:%d: %s%s", g->file, g->line, w, g->msg);
	else if (g->file[0] != '\0')
		snprintf(out, cap, "%s: %s%s", g->file, w, g->msg);
	else
		snprintf(out, cap, "%s%s", w, g->msg);
}

void
diags_print(const struct diags *d, FILE *fp)
{
	char line[1400];
	size_t i;

	for (i = 0; i < d->n; i++) {
		diag_format(&d->v[i], line, sizeof(line));
		fprintf(fp, "%s\n", line);
	}
	if (d->n < d->errors + d->warnings)
		fprintf(fp, "(%zu more diagnostics not shown)\n",
		    d->errors + d->warnings - d->n);
}

/*
 * diags_sort_range: order diagnostics [from, n) by file, then line and
 * column. Files rank in the order of files[] (nfiles of them: the order a
 * loader read them), then any other file in order of first appearance.
 * Stable insertion sort, O(n^2): the list is bounded by d->max.
 */
void
diags_sort_range(struct diags *d, size_t from, const char *const *files,
    size_t nfiles)
{
	const char **seen;
	size_t i, j, k, nseen = 0, *rank, trank;
	struct diag tmp;

	if (d->n <= from + 1)
		return;
	seen = xcalloc(d->n, sizeof(*seen));
	rank = xcalloc(d->n, sizeof(*rank));
	for (i = from; i < d->n; i++) {
		for (k = 0; k < nfiles; k++)
			if (strcmp(files[k], d->v[i].file) == 0)
				break;
		if (k == nfiles) {
			for (j = 0; j < nseen; j++)
				if (strcmp(seen[j], d->v[i].file) == 0)
					break;
			if (j == nseen)
				seen[nseen++] = d->v[i].file;
			k = nfiles + j;
		}
		rank[i] = k;
	}
	for (i = from + 1; i < d->n; i++) {
		tmp = d->v[i];
		trank = rank[i];
		for (j = i; j > from; j--) {
			const struct diag *p = &d->v[j - 1];
			if (rank[j - 1] < trank || (rank[j - 1] == trank &&
			    (p->line < tmp.line || (p->line == tmp.line &&
			    p->col <= tmp.col))))
				break;
			d->v[j] = d->v[j - 1];
			rank[j] = rank[j - 1];
		}
		d->v[j] = tmp;
		rank[j] = trank;
	}
	free(seen);
	free(rank);
}

void
diags_sort(struct diags *d)
{
	diags_sort_range(d, 0, NULL, 0);
}
