/*
 * ctl_stats.c — "recoveryctl stats": what the running daemons report.
 * Each daemon refreshes the hash <state_prefix>daemon:<consumer> every 5 s
 * (expiring after 30 s); this finds them with SCAN and prints one row per
 * daemon and a total.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "util.h"

/* --- stats -------------------------------------------------------------- */

/*
 * Each running daemon refreshes a hash P.."daemon:"..CONSUMER every 5 s
 * with its headline figures (metrics_publish_args) and lets it expire 30 s
 * later, so the hashes that exist are the daemons alive in the last 30 s.
 * stats finds them with SCAN (the keyspace is walked in pages; a key may
 * come twice, so duplicates are dropped) and reads each with HGETALL.
 */

#define STATS_ARGS	"[--json]"

struct daemon_row {
	char		*key;
	redisReply	*h;
};

static int
daemon_row_cmp(const void *a, const void *b)
{
	const struct daemon_row *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/* glob_escape: s with the characters SCAN MATCH treats specially
 * (* ? [ ] \) escaped by a backslash; caller frees. */
static char *
glob_escape(const char *s)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "");
	for (; *s != '\0'; s++) {
		if (strchr("*?[]\\", *s) != NULL)
			buf_putc(&b, '\\');
		buf_putc(&b, *s);
	}
	return b.data;
}

/* stats_keys: every key matching pattern, sorted, without duplicates,
 * into *rows (h left NULL). Returns an exit code. */
static int
stats_keys(redisContext *c, const char *pattern, struct daemon_row **rows,
    size_t *nrows)
{
	char cursor[32] = "0";
	size_t i, n = 0, cap = 0;
	struct daemon_row *v = NULL;
	redisReply *r, *keys;
	int rc;

	do {
		r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor,
		    pattern);
		if ((rc = ctl_reply_check(c, r, "SCAN", REDIS_REPLY_ARRAY)) !=
		    EXIT_OK)
			goto fail;
		if (r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			fprintf(stderr, "recoveryctl: SCAN: unexpected reply\n");
			rc = EXIT_CHECK;
			goto fail;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		keys = r->element[1];
		for (i = 0; i < keys->elements; i++) {
			if (keys->element[i]->type != REDIS_REPLY_STRING)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[n].key = xstrdup(keys->element[i]->str);
			v[n].h = NULL;
			n++;
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	if (n > 1)
		qsort(v, n, sizeof(*v), daemon_row_cmp);
	for (i = 1, *nrows = n > 0 ? 1 : 0; i < n; i++) {
		if (strcmp(v[i].key, v[*nrows - 1].key) == 0)
			free(v[i].key);
		else
			v[(*nrows)++] = v[i];
	}
	*rows = v;
	return EXIT_OK;
fail:
	if (r != NULL)
		freeReplyObject(r);
	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
	return rc;
}

/* stats_fetch: HGETALL of every key, pipelined, into rows[].h; rows
 * whose hash expired meanwhile (or that were not read because of an
 * error) are dropped. Returns an exit code; the rows left are valid
 * either way. */
static int
stats_fetch(redisContext *c, struct daemon_row *rows, size_t *nrows)
{
	size_t i, n = 0;
	void *reply;
	redisReply *h;
	int rc = EXIT_OK;

	for (i = 0; i < *nrows; i++)
		if (redisAppendCommand(c, "HGETALL %s", rows[i].key) !=
		    REDIS_OK) {
			fprintf(stderr, "recoveryctl: HGETALL: %s\n",
			    c->errstr);
			rc = EXIT_REDIS;
			break;
		}
	for (i = 0; i < *nrows && rc == EXIT_OK; i++) {
		if (redisGetReply(c, &reply) != REDIS_OK)
			reply = NULL;
		h = reply;
		if ((rc = ctl_reply_check(c, h, "HGETALL", REDIS_REPLY_ARRAY)) ==
		    EXIT_OK && !ctl_hash_valid(h)) {
			fprintf(stderr, "recoveryctl: HGETALL: unexpected "
			    "reply\n");
			rc = EXIT_CHECK;
		}
		if (rc != EXIT_OK && h != NULL)
			freeReplyObject(h);
		else
			rows[i].h = h;
	}
	for (i = 0; i < *nrows; i++) {
		if (rows[i].h != NULL && rows[i].h->elements > 0) {
			rows[n++] = rows[i];
			continue;
		}
		if (rows[i].h != NULL)
			freeReplyObject(rows[i].h);
		free(rows[i].key);
	}
	*nrows = n;
	return rc;
}

/* st_hash_num: a counter field as a number; false when absent or "". */
static bool
st_hash_num(const redisReply *h, const char *field, unsigned long long *out)
{
	const char *s = ctl_hash_get(h, field);
	char *end;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* latency_text: seconds as "850us", "3.2ms", "1.25s"; "-" if negative. */
static char *
latency_text(double v)
{
	if (v < 0)
		return xstrdup("-");
	if (v < 0.001)
		return xasprintf("%.0fus", v * 1e6);
	if (v < 1)
		return xasprintf("%.3gms", v * 1e3);
	return xasprintf("%.3gs", v);
}

/* st_hash_secs: a seconds field as a number, -1 when absent or "". */
static double
st_hash_secs(const redisReply *h, const char *field)
{
	const char *s = ctl_hash_get(h, field);
	double v;

	if (s == NULL || !parse_number(s, strlen(s), &v) || v < 0)
		return -1;
	return v;
}

enum { SC_CONSUMER, SC_EVENTS, SC_INVALID, SC_FIRES, SC_ALERTS, SC_LAG,
    SC_OPEN, SC_P99, SC_UPDATED, SC__COUNT };

/* stats_row: the cells of one daemon's line (allocated); adds its
 * figures to the totals. Events, invalid, fires and alerts add up; lag
 * and open cases are the group's and the whole system's, the same for
 * every daemon, so the total keeps the largest; p99 too (an upper bound
 * of the system's p99). */
static void
stats_row(const redisReply *h, char **cell, unsigned long long *tot,
    bool *known, double *p99max)
{
	static const char *const counted[SC__COUNT] = {
		[SC_EVENTS] = "events", [SC_INVALID] = "invalid",
		[SC_FIRES] = "fires", [SC_LAG] = "lag",
		[SC_OPEN] = "cases_open",
	};
	static const char *const alerts[] = { "alerts_ok", "alerts_queued",
	    "alerts_failed" };
	unsigned long long v, a = 0;
	double p;
	size_t k;

	cell[SC_CONSUMER] = xstrdup(ctl_or_dash(ctl_hash_get(h, "consumer")));
	for (k = 0; k < SC__COUNT; k++) {
		if (counted[k] == NULL || !st_hash_num(h, counted[k], &v))
			continue;
		cell[k] = xasprintf("%llu", v);
		if (k == SC_LAG || k == SC_OPEN) {
			if (!known[k] || v > tot[k])
				tot[k] = v;
		} else
			tot[k] += v;
		known[k] = true;
	}
	for (k = 0; k < ARRAY_LEN(alerts); k++)
		if (st_hash_num(h, alerts[k], &v))
			a += v;
	cell[SC_ALERTS] = xasprintf("%llu", a);
	tot[SC_ALERTS] += a;
	known[SC_ALERTS] = true;
	p = st_hash_secs(h, "latency_p99");
	cell[SC_P99] = latency_text(p);
	if (p > *p99max)
		*p99max = p;
	cell[SC_UPDATED] = xstrdup(ctl_or_dash(ctl_hash_get(h, "updated_at")));
	for (k = 0; k < SC__COUNT; k++)
		if (cell[k] != NULL)
			ctl_one_line(cell[k]);
}

/* stats_table: a header, one line per daemon, a TOTAL line; columns as
 * wide as their widest cell, numbers right-aligned. */
static void
stats_table(const struct daemon_row *rows, size_t n)
{
	static const char *const head[SC__COUNT] = { "CONSUMER", "EVENTS",
	    "INVALID", "FIRES", "ALERTS", "LAG", "OPEN", "P99", "UPDATED" };
	unsigned long long tot[SC__COUNT];
	bool known[SC__COUNT];
	double p99max = -1;
	size_t w[SC__COUNT], nl = n + 2, i, k;
	char **cell = xcalloc(nl * SC__COUNT, sizeof(*cell));
	const char *s;

	memset(tot, 0, sizeof(tot));
	memset(known, 0, sizeof(known));
	for (k = 0; k < SC__COUNT; k++)
		cell[k] = xstrdup(head[k]);
	for (i = 0; i < n; i++)
		stats_row(rows[i].h, cell + (i + 1) * SC__COUNT, tot, known,
		    &p99max);
	cell[(n + 1) * SC__COUNT + SC_CONSUMER] = xstrdup("TOTAL");
	for (k = SC_EVENTS; k <= SC_OPEN; k++)
		if (known[k])
			cell[(n + 1) * SC__COUNT + k] = xasprintf("%llu",
			    tot[k]);
	cell[(n + 1) * SC__COUNT + SC_P99] = latency_text(p99max);

	for (k = 0; k < SC__COUNT; k++)
		w[k] = 0;
	for (i = 0; i < nl * SC__COUNT; i++) {
		s = cell[i] != NULL ? cell[i] : "-";
		if (strlen(s) > w[i % SC__COUNT])
			w[i % SC__COUNT] = strlen(s);
	}
	for (i = 0; i < nl; i++)
		for (k = 0; k < SC__COUNT; k++) {
			s = cell[i * SC__COUNT + k];
			if (s == NULL)
				s = "-";
			if (k == SC__COUNT - 1)
				printf("%s\n", s);
			else if (k == SC_CONSUMER)
				printf("%-*s  ", (int)w[k], s);
			else
				printf("%*s  ", (int)w[k], s);
		}
	for (i = 0; i < nl * SC__COUNT; i++)
		free(cell[i]);
	free(cell);
}

/* stats_json: each daemon's hash as one JSON object a line (all values
 * strings, as in the hash); no total. */
static void
stats_json(const struct daemon_row *rows, size_t n)
{
	const redisReply *h;
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < n; i++) {
		h = rows[i].h;
		ctl_hash_json(h, &b);
		buf_putc(&b, '\n');
	}
	if (b.len > 0)
		fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
}

int
ctl_stats(const struct config *cf, int argc, char **argv)
{
	struct daemon_row *rows = NULL;
	size_t nrows = 0, i;
	bool json = false;
	char *esc, *pattern;
	redisContext *c;
	int k, rc;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0)
			json = true;
		else if (strcmp(argv[k], "-h") == 0 ||
		    strcmp(argv[k], "--help") == 0) {
			printf("usage: recoveryctl [-c FILE] stats %s\n",
			    STATS_ARGS);
			return EXIT_OK;
		} else {
			fprintf(stderr, "recoveryctl: stats: unexpected "
			    "argument '%s'\nusage: recoveryctl [-c FILE] "
			    "stats %s\n", argv[k], STATS_ARGS);
			return EXIT_USAGE;
		}
	}
	if ((c = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;
	esc = glob_escape(cf->state_prefix);
	pattern = xasprintf("%sdaemon:*", esc);
	free(esc);
	rc = stats_keys(c, pattern, &rows, &nrows);
	free(pattern);
	if (rc == EXIT_OK)
		rc = stats_fetch(c, rows, &nrows);
	if (rc == EXIT_OK && nrows == 0) {
		fprintf(stderr, "recoveryctl: no running daemons reported in "
		    "the last 30 s\n");
		rc = EXIT_CHECK;
	} else if (rc == EXIT_OK) {
		if (json)
			stats_json(rows, nrows);
		else
			stats_table(rows, nrows);
		if (fflush(stdout) != 0)
			rc = EXIT_CHECK;
	}
	for (i = 0; i < nrows; i++) {
		free(rows[i].key);
		freeReplyObject(rows[i].h);
	}
	free(rows);
	redisFree(c);
	return rc;
}
