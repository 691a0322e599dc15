/*
 * ctl_cases.c — recoveryctl's case commands: cases, show, ack, resolve
 * (README, "Cases and escalation" and "Commands"), over the case keys the
 * owning daemon's store
 * writes (store.h). cases and show only read; ack and resolve are
 * commands the owning daemon applies and answers (command.h), so that a
 * case has one writer. Resolved cases are kept 31 days (store.h).
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
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
#include "caseview.h"
#include "command.h"
#include "config.h"
#include "ctl.h"
#include "util.h"

/* --- cases, show, ack, resolve ------------------------------------------ */

/*
 * A case is the hash P.."case:"..ID (its fields are listed in store.h);
 * P.."cases" (every case) and P.."cases:open" (open and acknowledged ones)
 * index it by opening time in ms. cases and show only read; ack and
 * resolve are below.
 *
 * A resolved case is kept 31 days (store.h) for reports, then Redis
 * expires its hash. Its member of P.."cases" stays; cases skips members
 * whose hash is gone.
 */
#define CASES_PAGE	256
#define CASES_LIMIT_MAX	100000

static int
case_usage(const char *cmd, const char *args, FILE *fp)
{
	fprintf(fp, "usage: recoveryctl [-c FILE] %s %s\n", cmd, args);
	return fp == stdout ? EXIT_OK : EXIT_USAGE;
}

/* One option of a case command: "--name VALUE", "--name=VALUE", or a
 * flag "--name" (val is then set to ""). */
struct copt {
	const char	 *name;		/* without the "--" */
	bool		  arg;
	const char	**val;
};

/*
 * copts_parse: argv[1..argc) of command cmd: the options of opts in any
 * order, and at most maxpos operands stored in pos (count in *npos); "--"
 * ends the options. Returns 0, 1 for -h/--help, or -1 after printing what
 * is wrong (the caller prints its usage and exits 2). Values point into
 * argv.
 */
static int
copts_parse(const char *cmd, const struct copt *opts, size_t nopts,
    int argc, char **argv, char **pos, size_t maxpos, size_t *npos)
{
	const char *a, *eq;
	bool options = true;
	size_t j, nlen;
	int i;

	*npos = 0;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (!options || a[0] != '-' || a[1] == '\0') {
			if (*npos == maxpos) {
				fprintf(stderr, "recoveryctl: %s: unexpected "
				    "argument '%s'\n", cmd, a);
				return -1;
			}
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			options = false;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return 1;
		eq = strchr(a, '=');
		nlen = eq != NULL ? (size_t)(eq - a) - 2 : strlen(a) - 2;
		for (j = 0; a[1] == '-' && j < nopts; j++)
			if (strlen(opts[j].name) == nlen &&
			    strncmp(a + 2, opts[j].name, nlen) == 0)
				break;
		if (a[1] != '-' || j == nopts) {
			fprintf(stderr, "recoveryctl: %s: unknown option "
			    "'%s'\n", cmd, a);
			return -1;
		}
		if (!opts[j].arg) {
			if (eq != NULL) {
				fprintf(stderr, "recoveryctl: %s: option "
				    "'--%s' takes no value\n", cmd,
				    opts[j].name);
				return -1;
			}
			*opts[j].val = "";
		} else if (eq != NULL)
			*opts[j].val = eq + 1;
		else if (i + 1 < argc)
			*opts[j].val = argv[++i];
		else {
			fprintf(stderr, "recoveryctl: %s: option '--%s' needs "
			    "a value\n", cmd, opts[j].name);
			return -1;
		}
	}
	return 0;
}

/*
 * ctl_reply_check: whether a synchronous reply r to what is usable: not NULL
 * (connection lost), not an error, of type want. Prints what is wrong and
 * returns the exit code: EXIT_REDIS for a lost connection or a refusal
 * for want of a password, EXIT_CHECK otherwise. Does not free r.
 */
int
ctl_reply_check(redisContext *c, const redisReply *r, const char *what, int want)
{
	if (r == NULL) {
		fprintf(stderr, "recoveryctl: %s: connection lost: %s\n",
		    what, c->errstr);
		return EXIT_REDIS;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "recoveryctl: %s: %s\n", what, r->str);
		return ctl_auth_refused(r) ? EXIT_REDIS : EXIT_CHECK;
	}
	if (r->type != want) {
		fprintf(stderr, "recoveryctl: %s: unexpected reply type %d\n",
		    what, r->type);
		return EXIT_CHECK;
	}
	return EXIT_OK;
}

/* ctl_hash_valid: an HGETALL reply of field/value strings. */
bool
ctl_hash_valid(const redisReply *h)
{
	size_t i;

	if (h->elements % 2 != 0)
		return false;
	for (i = 0; i < h->elements; i++)
		if (h->element[i]->type != REDIS_REPLY_STRING)
			return false;
	return true;
}

/* ctl_hash_get: the value of field in a valid HGETALL reply, or NULL. */
const char *
ctl_hash_get(const redisReply *h, const char *field)
{
	size_t i;

	for (i = 0; i + 1 < h->elements; i += 2)
		if (strcmp(h->element[i]->str, field) == 0)
			return h->element[i + 1]->str;
	return NULL;
}

void
ctl_hash_json(const redisReply *h, struct buf *b)
{
	size_t j;

	buf_putc(b, '{');
	for (j = 0; j + 1 < h->elements; j += 2) {
		if (j > 0)
			buf_putc(b, ',');
		buf_json_string(b, h->element[j]->str, h->element[j]->len);
		buf_putc(b, ':');
		buf_json_string(b, h->element[j + 1]->str,
		    h->element[j + 1]->len);
	}
	buf_putc(b, '}');
}

/* ctl_or_dash: s, or "-" when it is absent or empty (for tables). */
const char *
ctl_or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

/* approx_duration: ms, rounded down, as "45s", "12m", "3h05m", "2d04h". */
static void
approx_duration(int64_t ms, char *out, size_t len)
{
	long long s = (long long)(ms / 1000);

	if (s < 60)
		snprintf(out, len, "%llds", s);
	else if (s < 3600)
		snprintf(out, len, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(out, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* due_text: "RFC3339 (in 12m)" or "RFC3339 (overdue by 3m)" of due_ms
 * seen at now_ms. */
static void
due_text(int64_t due_ms, int64_t now_ms, char *out, size_t len)
{
	char when[64], d[32];

	format_rfc3339((double)due_ms / 1000.0, when, sizeof(when));
	if (due_ms > now_ms) {
		approx_duration(due_ms - now_ms, d, sizeof(d));
		snprintf(out, len, "%s (in %s)", when, d);
	} else {
		approx_duration(now_ms - due_ms, d, sizeof(d));
		snprintf(out, len, "%s (overdue by %s)", when, d);
	}
}

/* The cases listed: the ID from the index and the case's HGETALL reply. */
struct case_row {
	char		*id;
	redisReply	*h;
};

struct case_rows {
	struct case_row	*v;
	size_t		 n;
};

static const char *
reply_get(const void *h, const char *field)
{
	return ctl_hash_get(h, field);
}

/* row_match: the case of row passes f (caseview.h). */
static bool
row_match(const struct case_filter *f, const char *id, const redisReply *h)
{
	struct caseview cv = { id, h, reply_get };

	return case_match(f, &cv);
}

static void
case_rows_free(struct case_rows *rows)
{
	size_t i;

	for (i = 0; i < rows->n; i++) {
		free(rows->v[i].id);
		freeReplyObject(rows->v[i].h);
	}
	free(rows->v);
}

/*
 * cases_fetch: up to limit cases of the sorted set key, newest first,
 * those whose state is filter (any when NULL), into rows (allocated for
 * limit; the caller frees them with case_rows_free). Pages of at most
 * CASES_PAGE are read by score, from the last score seen and skipping the
 * members of that score already seen, so a case opened or resolved
 * meanwhile neither repeats nor hides another. Each page costs one
 * ZREVRANGEBYSCORE and one pipelined HGETALL per member. Members whose
 * hash has expired are skipped. Returns an exit code.
 */
static int
cases_fetch(redisContext *c, const char *prefix, const char *key,
    const struct case_filter *f, size_t limit, struct case_rows *rows)
{
	char max[64] = "+inf", skips[32], pages[32];
	size_t skip = 0, page, got, i;
	const char *score;
	bool filter = case_filter_any(f);
	redisReply *r, *h;
	void *reply;
	bool last;
	int rc;

	rows->v = xcalloc(limit, sizeof(*rows->v));
	rows->n = 0;
	while (rows->n < limit) {
		page = filter ? CASES_PAGE : limit - rows->n;
		if (page > CASES_PAGE)
			page = CASES_PAGE;
		snprintf(skips, sizeof(skips), "%zu", skip);
		snprintf(pages, sizeof(pages), "%zu", page);
		r = redisCommand(c, "ZREVRANGEBYSCORE %s %s -inf WITHSCORES "
		    "LIMIT %s %s", key, max, skips, pages);
		if ((rc = ctl_reply_check(c, r, key, REDIS_REPLY_ARRAY)) != EXIT_OK)
			goto fail;
		got = r->elements / 2;
		for (i = 0; i < got; i++) {
			if (r->element[2 * i]->type != REDIS_REPLY_STRING ||
			    r->element[2 * i + 1]->type != REDIS_REPLY_STRING) {
				fprintf(stderr, "recoveryctl: %s: unexpected "
				    "reply\n", key);
				rc = EXIT_CHECK;
				goto fail;
			}
			if (redisAppendCommand(c, "HGETALL %scase:%s", prefix,
			    r->element[2 * i]->str) != REDIS_OK) {
				fprintf(stderr, "recoveryctl: HGETALL: %s\n",
				    c->errstr);
				rc = EXIT_REDIS;
				goto fail;
			}
		}
		for (i = 0; i < got; i++) {
			if (redisGetReply(c, &reply) != REDIS_OK)
				reply = NULL;
			h = reply;
			if ((rc = ctl_reply_check(c, h, "HGETALL",
			    REDIS_REPLY_ARRAY)) != EXIT_OK || !ctl_hash_valid(h)) {
				if (rc == EXIT_OK) {
					fprintf(stderr, "recoveryctl: HGETALL: "
					    "unexpected reply\n");
					rc = EXIT_CHECK;
				}
				if (h != NULL)
					freeReplyObject(h);
				goto fail;
			}
			if (h->elements == 0 || rows->n == limit ||
			    !row_match(f, r->element[2 * i]->str, h)) {
				freeReplyObject(h);
				continue;
			}
			rows->v[rows->n].id = xstrdup(r->element[2 * i]->str);
			rows->v[rows->n].h = h;
			rows->n++;
		}
		for (i = 0; i < got; i++) {
			score = r->element[2 * i + 1]->str;
			if (strcmp(score, max) == 0)
				skip++;
			else {
				snprintf(max, sizeof(max), "%s", score);
				skip = 1;
			}
		}
		last = got < page;
		freeReplyObject(r);
		if (last)
			break;
	}
	return EXIT_OK;
fail:
	/* Replies still queued are dropped with the connection. */
	if (r != NULL)
		freeReplyObject(r);
	return rc;
}

/* cases_json: each case as one JSON object of all its hash fields (all
 * strings, in the hash's order). */
static void
cases_json(const struct case_rows *rows)
{
	const redisReply *h;
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < rows->n; i++) {
		h = rows->v[i].h;
		ctl_hash_json(h, &b);
		buf_putc(&b, '\n');
		fwrite(b.data, 1, b.len, stdout);
		buf_reset(&b);
	}
	buf_free(&b);
}

/* cases_table: one line per case under a header; columns as wide as
 * their widest cell, RULES last and unpadded. Control characters of the
 * values become spaces (in place). */
static void
cases_table(struct case_rows *rows)
{
	static const char *const head[] = { "CASE", "STATE", "SEVERITY",
	    "CUSTOMER", "OPENED", "STEP", "RULES" };
	static const char *const field[] = { NULL, "state", "severity",
	    "customer_id", "opened_at", "step", "rules" };
	size_t w[ARRAY_LEN(head)], i, k, j;
	const char *v;

	for (k = 0; k < ARRAY_LEN(head); k++)
		w[k] = strlen(head[k]);
	for (i = 0; i < rows->n; i++) {
		ctl_one_line(rows->v[i].id);
		for (j = 1; j < rows->v[i].h->elements; j += 2)
			ctl_one_line(rows->v[i].h->element[j]->str);
		for (k = 0; k < ARRAY_LEN(head); k++) {
			v = k == 0 ? rows->v[i].id :
			    ctl_or_dash(ctl_hash_get(rows->v[i].h, field[k]));
			if (strlen(v) > w[k])
				w[k] = strlen(v);
		}
	}
	for (i = 0; i <= rows->n; i++) {
		for (k = 0; k < ARRAY_LEN(head); k++) {
			if (i == 0)
				v = head[k];
			else if (k == 0)
				v = rows->v[i - 1].id;
			else
				v = ctl_or_dash(ctl_hash_get(rows->v[i - 1].h,
				    field[k]));
			if (k + 1 < ARRAY_LEN(head))
				printf("%-*s  ", (int)w[k], v);
			else
				printf("%s\n", v);
		}
	}
}

#define CASES_ARGS	"[--state open|acknowledged|resolved|reopened|all] " \
			"[--severity S] [--rule R] [--queue Q] [--agent A] " \
			"[--owner NAME] [--overdue] [--sort age|severity] " \
			"[--limit N] [--page N] [--json]"

/* by_severity: case_cmp_severity over rows. */
static int
by_severity(const void *a, const void *b)
{
	const struct case_row *x = a, *y = b;
	struct caseview cx = { x->id, x->h, reply_get };
	struct caseview cy = { y->id, y->h, reply_get };

	return case_cmp_severity(&cx, &cy);
}

static int
positive(const char *opt, const char *arg, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < 1 ||
	    v > CASES_LIMIT_MAX) {
		fprintf(stderr, "recoveryctl: cases: --%s must be a number "
		    "from 1 to %d\n", opt, CASES_LIMIT_MAX);
		return -1;
	}
	*out = v;
	return 0;
}

int
ctl_cases(const struct config *cf, int argc, char **argv)
{
	const char *state = "open", *slimit = NULL, *json = NULL;
	const char *spage = NULL, *sort = "age", *overdue = NULL;
	struct case_filter f;
	const struct copt opts[] = {
		{ "state", true, &state },
		{ "limit", true, &slimit },
		{ "page", true, &spage },
		{ "json", false, &json },
		{ "severity", true, &f.severity },
		{ "rule", true, &f.rule },
		{ "queue", true, &f.queue },
		{ "agent", true, &f.agent },
		{ "owner", true, &f.owner },
		{ "overdue", false, &overdue },
		{ "sort", true, &sort },
	};
	struct case_rows rows = { NULL, 0 };
	char *key;
	redisContext *c;
	size_t npos, skip, want;
	long limit = 50, page = 1;
	int rc;

	memset(&f, 0, sizeof(f));
	switch (copts_parse("cases", opts, ARRAY_LEN(opts), argc, argv, NULL,
	    0, &npos)) {
	case 1:
		return case_usage("cases", CASES_ARGS, stdout);
	case -1:
		return case_usage("cases", CASES_ARGS, stderr);
	default:
		break;
	}
	if (strcmp(state, "acknowledged") == 0 ||
	    strcmp(state, "resolved") == 0 || strcmp(state, "reopened") == 0)
		f.state = state;
	else if (strcmp(state, "open") != 0 && strcmp(state, "all") != 0) {
		fprintf(stderr, "recoveryctl: cases: unknown state '%s'\n",
		    state);
		return case_usage("cases", CASES_ARGS, stderr);
	}
	if (f.severity != NULL && severity_parse(f.severity) == 0) {
		fprintf(stderr, "recoveryctl: cases: unknown severity '%s'\n",
		    f.severity);
		return case_usage("cases", CASES_ARGS, stderr);
	}
	if (strcmp(sort, "age") != 0 && strcmp(sort, "severity") != 0) {
		fprintf(stderr, "recoveryctl: cases: --sort is age or "
		    "severity\n");
		return case_usage("cases", CASES_ARGS, stderr);
	}
	if ((slimit != NULL && positive("limit", slimit, &limit) == -1) ||
	    (spage != NULL && positive("page", spage, &page) == -1))
		return case_usage("cases", CASES_ARGS, stderr);
	f.overdue = overdue != NULL;
	f.now_ms = (int64_t)(now_wall() * 1000.0);

	if ((c = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;
	/* Open, acknowledged and reopened cases are indexed apart;
	 * resolved ones only in the index of all cases. By severity, every
	 * matching case is read to sort them (up to CASES_LIMIT_MAX). */
	key = xasprintf("%s%s", cf->state_prefix, strcmp(state, "all") == 0 ||
	    strcmp(state, "resolved") == 0 ? "cases" : "cases:open");
	skip = (size_t)(page - 1) * (size_t)limit;
	want = strcmp(sort, "severity") == 0 ? CASES_LIMIT_MAX :
	    skip + (size_t)limit;
	if (want > CASES_LIMIT_MAX)
		want = CASES_LIMIT_MAX;
	rc = cases_fetch(c, cf->state_prefix, key, &f, want, &rows);
	if (rc == EXIT_OK && strcmp(sort, "severity") == 0)
		qsort(rows.v, rows.n, sizeof(*rows.v), by_severity);
	if (rc == EXIT_OK) {
		/* the page: rows [skip, skip + limit) */
		struct case_rows shown;

		shown.v = rows.v + (skip < rows.n ? skip : rows.n);
		shown.n = skip < rows.n ? rows.n - skip : 0;
		if (shown.n > (size_t)limit)
			shown.n = (size_t)limit;
		if (json != NULL)
			cases_json(&shown);
		else if (shown.n > 0)
			cases_table(&shown);
		else
			fprintf(stderr, "recoveryctl: no %s%scases%s\n",
			    strcmp(state, "all") == 0 ? "" : state,
			    strcmp(state, "all") == 0 ? "" : " ",
			    page > 1 ? " on this page" : "");
		if (fflush(stdout) != 0)
			rc = EXIT_CHECK;
	}
	case_rows_free(&rows);
	free(key);
	redisFree(c);
	return rc;
}

/* --- show --------------------------------------------------------------- */

/* A pending escalation step of a case, from the schedule. */
struct pending {
	int64_t		 due_ms;
	const char	*rule;
	const char	*chans;
	const char	*step;
	int64_t		 after_ms;
	char		*owned;		/* chans, when built here */
};

static int
pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	return (x->due_ms > y->due_ms) - (x->due_ms < y->due_ms);
}

/*
 * show_steps: print the pending escalation steps of case id: the members
 * "ID|rule|step" of P.."escalations" (the daemon's schedule, store.h;
 * the score is the due time), found with one ZRANGE of the set (a case
 * has few steps, the set holds the pending steps of open cases only).
 * The delay is the due time less the case's opened_ms; the channels come
 * from the rules when the configuration loads whole (else "?"). Returns
 * an exit code.
 */
static int
show_steps(redisContext *c, const struct config *cf, const char *id,
    const char *opened, int64_t now_ms)
{
	struct pending *p = NULL;
	struct config *full = NULL;
	struct diags d;
	redisReply *r;
	size_t np = 0, i, k, idl = strlen(id);
	int64_t opened_ms = opened != NULL ? strtoll(opened, NULL, 10) : 0;
	char due[128], after[32], *bar;
	int rc = EXIT_OK;

	r = redisCommand(c, "ZRANGE %sescalations 0 -1 WITHSCORES",
	    cf->state_prefix);
	if ((rc = ctl_reply_check(c, r, "ZRANGE", REDIS_REPLY_ARRAY)) !=
	    EXIT_OK)
		goto done;
	diags_init(&d);
	full = config_load(cf->path, &d);
	diags_free(&d);
	p = xcalloc(r->elements / 2 + 1, sizeof(*p));
	for (i = 0; i + 1 < r->elements; i += 2) {
		char *m = r->element[i]->str;
		const struct rule *ru;

		if (m == NULL || strncmp(m, id, idl) != 0 || m[idl] != '|' ||
		    (bar = strrchr(m + idl + 1, '|')) == NULL ||
		    m[idl + 1] == '~')	/* an outcome's timer, not a step */
			continue;
		*bar = '\0';
		p[np].rule = m + idl + 1;
		p[np].step = bar + 1;
		p[np].due_ms = (int64_t)strtod(r->element[i + 1]->str, NULL);
		p[np].after_ms = opened_ms > 0 ? p[np].due_ms - opened_ms : 0;
		p[np].chans = "?";
		k = (size_t)strtoul(p[np].step, NULL, 10);
		if (full != NULL && (ru = config_rule(full, p[np].rule)) !=
		    NULL && k >= 1 && k <= ru->nescalate) {
			struct buf b;
			size_t j;

			buf_init(&b);
			for (j = 0; j < ru->escalate[k - 1].n.nchans; j++)
				buf_printf(&b, "%s%s", j ? "," : "",
				    full->channels[ru->escalate[k - 1].n.chans[j]].name);
			p[np].chans = b.data != NULL ? b.data : "";
			p[np].owned = b.data;
			if (opened_ms <= 0)
				p[np].after_ms = ru->escalate[k - 1].after_ms;
		}
		np++;
	}
	qsort(p, np, sizeof(*p), pending_cmp);
	if (np == 0) {
		printf("\nno pending escalation steps\n");
		goto done;
	}
	printf("\npending escalation steps:\n");
	for (i = 0; i < np; i++) {
		format_duration(p[i].after_ms, after, sizeof(after));
		due_text(p[i].due_ms, now_ms, due, sizeof(due));
		printf("  step %s  %s  after %s  to %s  due %s\n", p[i].step,
		    p[i].rule, after, p[i].chans, due);
	}
done:
	for (i = 0; i < np; i++)
		free(p[i].owned);
	free(p);
	if (r != NULL)
		freeReplyObject(r);
	config_free(full);
	return rc;
}

/* The fields of a case in the order show prints them; others follow in
 * the hash's order. */
static const char *const case_fields[] = {
	"case_id", "customer_id", "state", "severity", "owner", "opened_at",
	"opened_ms", "due_at", "rules", "events", "step", "acked_by",
	"acked_at", "resolved_at", "resolved_by", "resolution_code",
	"reopened", "reopened_at", "note", "call_id", "agent_id", "queue",
	"entry", "updated_at", "escalated_at",
};

/* Fields for the daemon only: the schedule is printed below instead. */
static const char *const hidden_fields[] = { "steps" };

static bool
known_field(const char *f)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(case_fields); i++)
		if (strcmp(f, case_fields[i]) == 0)
			return true;
	for (i = 0; i < ARRAY_LEN(hidden_fields); i++)
		if (strcmp(f, hidden_fields[i]) == 0)
			return true;
	return false;
}

/*
 * show_history: the case's history (P.."case:"..ID..":history", oldest
 * first), one line an entry: its time, kind and who, then its other
 * texts; an event's fields indented below it. With json, the entries are
 * appended to out as a JSON array instead.
 */
static int
show_history(redisContext *c, const struct config *cf, const char *id,
    const char *entry, json_t *out)
{
	redisReply *r;
	json_t *opening = NULL;
	json_error_t je;
	size_t i;
	int rc;

	/* The opening event's fields: its entry has none (caseview.h). */
	r = redisCommand(c, "GET %scase:%s:event", cf->state_prefix, id);
	if (r == NULL)
		return ctl_reply_check(c, r, "GET", REDIS_REPLY_STRING);
	if (r->type == REDIS_REPLY_STRING)
		opening = json_loadb(r->str, r->len, 0, &je);
	freeReplyObject(r);
	r = redisCommand(c, "LRANGE %scase:%s:history 0 -1", cf->state_prefix,
	    id);
	if ((rc = ctl_reply_check(c, r, "LRANGE", REDIS_REPLY_ARRAY)) !=
	    EXIT_OK) {
		json_decref(opening);
		return rc;
	}
	if (out == NULL)
		printf("history (%zu entries%s)\n", r->elements,
		    (long)r->elements >= cf->history_max ? ", the oldest "
		    "dropped beyond cases.history" : "");
	for (i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];
		json_t *o, *v;
		const char *k;

		if (e->type != REDIS_REPLY_STRING ||
		    (o = json_loadb(e->str, e->len, 0, &je)) == NULL ||
		    !json_is_object(o)) {
			if (out == NULL)
				printf("  (an entry that is not JSON)\n");
			continue;
		}
		caseview_history_entry(o, entry, opening);
		if (out != NULL) {
			json_array_append_new(out, o);
			continue;
		}
		{
			char line[2048];
			int off;

			off = snprintf(line, sizeof(line), "  %s  %-8s",
			    json_string_value(json_object_get(o, "at")) ?
			    json_string_value(json_object_get(o, "at")) : "-",
			    json_string_value(json_object_get(o, "kind")) ?
			    json_string_value(json_object_get(o, "kind")) :
			    "-");
			json_object_foreach(o, k, v) {
				if (strcmp(k, "at") == 0 ||
				    strcmp(k, "kind") == 0 ||
				    !json_is_string(v) || off < 0 ||
				    (size_t)off >= sizeof(line))
					continue;
				off += snprintf(line + off, sizeof(line) -
				    (size_t)off, "  %s=%s", k,
				    json_string_value(v));
			}
			ctl_one_line(line);
			printf("%s\n", line);
		}
		if ((v = json_object_get(o, "fields")) != NULL &&
		    json_is_object(v)) {
			json_t *fv;
			char line[1200];

			json_object_foreach(v, k, fv) {
				if (!json_is_string(fv))
					continue;
				snprintf(line, sizeof(line), "      %s: %s", k,
				    json_string_value(fv));
				ctl_one_line(line);
				printf("%s\n", line);
			}
		}
		json_decref(o);
	}
	freeReplyObject(r);
	json_decref(opening);
	return EXIT_OK;
}

int
ctl_show(const struct config *cf, int argc, char **argv)
{
	const char *const what[] = { "HGETALL", "PTTL" };
	const int want[] = { REDIS_REPLY_ARRAY, REDIS_REPLY_INTEGER };
	const char *json = NULL;
	const struct copt opts[] = { { "json", false, &json } };
	redisReply *r[2] = { NULL, NULL };
	redisContext *c;
	void *reply;
	const char *v;
	char *id, when[64], in[32];
	const char *s_state;
	int64_t now_ms;
	size_t npos, i;
	int rc = EXIT_OK;

	switch (copts_parse("show", opts, ARRAY_LEN(opts), argc, argv, &id, 1,
	    &npos)) {
	case 1:
		return case_usage("show", "CASE [--json]", stdout);
	case -1:
		return case_usage("show", "CASE [--json]", stderr);
	default:
		break;
	}
	if (npos != 1 || id[0] == '\0') {
		fprintf(stderr, "recoveryctl: show: missing the CASE\n");
		return case_usage("show", "CASE [--json]", stderr);
	}
	if ((c = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;
	if (redisAppendCommand(c, "HGETALL %scase:%s", cf->state_prefix,
	    id) != REDIS_OK ||
	    redisAppendCommand(c, "PTTL %scase:%s", cf->state_prefix,
	    id) != REDIS_OK) {
		fprintf(stderr, "recoveryctl: show: %s\n", c->errstr);
		redisFree(c);
		return EXIT_REDIS;
	}
	for (i = 0; i < 2; i++) {
		if (redisGetReply(c, &reply) != REDIS_OK)
			reply = NULL;
		r[i] = reply;
		if ((rc = ctl_reply_check(c, r[i], what[i], want[i])) != EXIT_OK)
			goto done;
		if (want[i] == REDIS_REPLY_ARRAY && !ctl_hash_valid(r[i])) {
			fprintf(stderr, "recoveryctl: %s: unexpected reply\n",
			    what[i]);
			rc = EXIT_CHECK;
			goto done;
		}
	}
	if (r[0]->elements == 0) {
		fprintf(stderr, "recoveryctl: no case '%s'\n", id);
		rc = EXIT_CHECK;
		goto done;
	}
	if (json != NULL) {
		struct buf b;
		json_t *o, *h;
		json_error_t je;
		char *text;

		buf_init(&b);
		ctl_hash_json(r[0], &b);
		o = json_loadb(b.data, b.len, 0, &je);
		buf_free(&b);
		h = json_array();
		if (o == NULL || h == NULL ||
		    (rc = show_history(c, cf, id,
		    ctl_hash_get(r[0], "entry"), h)) != EXIT_OK) {
			json_decref(o);
			json_decref(h);
			rc = rc != EXIT_OK ? rc : EXIT_CHECK;
			goto done;
		}
		json_object_set_new(o, "history", h);
		text = json_dumps(o, JSON_COMPACT);
		printf("%s\n", text != NULL ? text : "{}");
		free(text);
		json_decref(o);
		if (fflush(stdout) != 0)
			rc = EXIT_CHECK;
		goto done;
	}
	for (i = 1; i < r[0]->elements; i += 2)
		ctl_one_line(r[0]->element[i]->str);
	for (i = 0; i < ARRAY_LEN(case_fields); i++)
		if ((v = ctl_hash_get(r[0], case_fields[i])) != NULL)
			printf("%-13s %s\n", case_fields[i], ctl_or_dash(v));
	for (i = 0; i + 1 < r[0]->elements; i += 2)
		if (!known_field(r[0]->element[i]->str)) {
			ctl_one_line(r[0]->element[i]->str);
			printf("%-13s %s\n", r[0]->element[i]->str,
			    ctl_or_dash(r[0]->element[i + 1]->str));
		}
	now_ms = (int64_t)(now_wall() * 1000.0);
	if (r[1]->integer > 0) {
		/* A resolved case, kept for reports. */
		format_rfc3339((double)(now_ms + r[1]->integer) / 1000.0, when,
		    sizeof(when));
		approx_duration(r[1]->integer, in, sizeof(in));
		printf("%-13s %s (in %s)\n", "kept_until", when, in);
	}
	if ((v = ctl_hash_get(r[0], "due_at")) != NULL && v[0] != '\0' &&
	    (s_state = ctl_hash_get(r[0], "state")) != NULL &&
	    strcmp(s_state, "resolved") != 0) {
		double due;

		if (parse_rfc3339(v, strlen(v), &due) == 0 &&
		    due * 1000.0 < (double)now_ms) {
			approx_duration(now_ms - (int64_t)(due * 1000.0), in,
			    sizeof(in));
			printf("%-13s overdue by %s\n", "sla", in);
		}
	}
	rc = show_steps(c, cf, id, ctl_hash_get(r[0], "opened_ms"), now_ms);
	if (rc == EXIT_OK)
		rc = show_history(c, cf, id,
		    ctl_hash_get(r[0], "entry"), NULL);
	if (fflush(stdout) != 0 && rc == EXIT_OK)
		rc = EXIT_CHECK;
done:
	for (i = 0; i < 2; i++)
		if (r[i] != NULL)
			freeReplyObject(r[i]);
	redisFree(c);
	return rc;
}

/* --- ack, resolve ----------------------------------------------------------- */

/*
 * A case has one writer, the daemon that owns the input stream
 * (command.h): ack and resolve add a command to P.."commands" and wait
 * for the owner's answer on P.."reply:<token>", a list it pushes to in
 * the same commit as the change. The command is checked here first
 * (command_parse, as the owner will), so that a usage error never
 * reaches Redis.
 */
#define CMD_WAIT_S	5	/* default --wait */

/* reply_token: 32 hex digits from /dev/urandom (or, failing that, the
 * clock and the process ID: unique enough for a reply list). */
static void
reply_token(char *out, size_t len)
{
	unsigned char r[16];
	size_t i, n = 0;
	int fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) != -1) {
		ssize_t k = read(fd, r, sizeof(r));
		n = k > 0 ? (size_t)k : 0;
		(void)close(fd);
	}
	if (n < sizeof(r)) {
		snprintf(out, len, "t%lld-%ld", (long long)(now_wall() * 1e6),
		    (long)getpid());
		return;
	}
	for (i = 0; i < sizeof(r) && 2 * i + 2 < len; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/*
 * case_command: send the command (op, case, and the nkv pairs of kv
 * whose value is not NULL: by, note, code, to) and wait up to wait_s
 * seconds for its answer, stored in *out (the caller json_decrefs it). Returns an exit code; a missing answer is EXIT_CHECK
 * with the command left queued (the owner applies it when it runs).
 */
static int
case_command(const struct config *cf, const char *op, const char *id,
    const char *const *kv, size_t nkv, long wait_s, json_t **out)
{
	const char *av[24], *names[CMD_MAX_FIELDS], *vals[CMD_MAX_FIELDS];
	size_t n = 0, i, nf = 0;
	char tok[CMD_TOKEN_MAX + 1], key[400], at[32], wait[24];
	char stream[300], entry[64];
	redisContext *c;
	redisReply *r;
	json_error_t je;
	int rc;

	*out = NULL;
	snprintf(stream, sizeof(stream), "%scommands", cf->state_prefix);
	reply_token(tok, sizeof(tok));
	snprintf(key, sizeof(key), "%sreply:%s", cf->state_prefix, tok);
	snprintf(at, sizeof(at), "%lld", (long long)(now_wall() * 1000));
	names[nf] = "op";
	vals[nf++] = op;
	names[nf] = "case";
	vals[nf++] = id;
	for (i = 0; i < nkv && nf < ARRAY_LEN(names); i++) {
		names[nf] = kv[2 * i];
		vals[nf++] = kv[2 * i + 1];	/* NULL: left out */
	}
	n = command_xadd(av, ARRAY_LEN(av), stream, names, vals, nf, tok, at);
	if ((c = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;
	r = redisCommandArgv(c, (int)n, av, NULL);
	if ((rc = ctl_reply_check(c, r, "XADD", REDIS_REPLY_STRING)) !=
	    EXIT_OK)
		goto done;
	snprintf(entry, sizeof(entry), "%s", r->str);
	freeReplyObject(r);
	snprintf(wait, sizeof(wait), "%ld", wait_s);
	r = redisCommand(c, "BLPOP %s %s", key, wait);
	if ((rc = ctl_reply_check(c, r, "BLPOP", r != NULL &&
	    r->type == REDIS_REPLY_NIL ? REDIS_REPLY_NIL :
	    REDIS_REPLY_ARRAY)) != EXIT_OK)
		goto done;
	if (r->type == REDIS_REPLY_NIL) {
		fprintf(stderr, "recoveryctl: %s: no recoveryd answered within "
		    "%ld s (is one running? see recoveryctl stats); the "
		    "command stays queued as %s in %s and is applied when "
		    "the daemon reads it\n", op, wait_s, entry, stream);
		rc = EXIT_CHECK;
		goto done;
	}
	if (r->elements != 2 || r->element[1]->type != REDIS_REPLY_STRING ||
	    (*out = json_loadb(r->element[1]->str, r->element[1]->len, 0,
	    &je)) == NULL || !json_is_object(*out)) {
		fprintf(stderr, "recoveryctl: %s: the daemon's answer is not "
		    "a JSON object\n", op);
		rc = EXIT_CHECK;
	}
done:
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return rc;
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* case_wait: --wait SECONDS (1..3600), default CMD_WAIT_S. */
static int
case_wait(const char *cmd, const char *arg, long *out)
{
	char *end;
	long v;

	*out = CMD_WAIT_S;
	if (arg == NULL)
		return 0;
	v = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || v < 1 || v > 3600) {
		fprintf(stderr, "recoveryctl: %s: --wait needs seconds, 1 to "
		    "3600\n", cmd);
		return -1;
	}
	*out = v;
	return 0;
}

/* case_precheck: the command as the owner will parse it; a refusal is
 * a usage error, printed here. */
static int
case_precheck(const char *cmd, const char *id, const char *const *kv,
    size_t nkv)
{
	const char *names[8], *vals[8];
	size_t nl[8], vl[8], n = 0, i;
	struct command c;
	int rc;

	names[n] = "op";
	vals[n++] = cmd;
	names[n] = "case";
	vals[n++] = id;
	for (i = 0; i < nkv && n < ARRAY_LEN(names); i++)
		if (kv[2 * i + 1] != NULL) {
			names[n] = kv[2 * i];
			vals[n++] = kv[2 * i + 1];
		}
	for (i = 0; i < n; i++) {
		nl[i] = strlen(names[i]);
		vl[i] = strlen(vals[i]);
	}
	rc = command_parse(&c, names, nl, vals, vl, n);
	if (rc == -1)
		fprintf(stderr, "recoveryctl: %s: %s\n", cmd, c.err);
	command_free(&c);
	return rc;
}

/* case_answer: print the owner's answer; its exit code. */
static int
case_answer(const char *cmd, const char *id, json_t *a)
{
	const char *code = jstr(a, "code");

	if (!json_is_true(json_object_get(a, "ok"))) {
		if (strcmp(code, "resolved") == 0)
			fprintf(stderr, "recoveryctl: case %s is already "
			    "resolved (at %s)\n", id, jstr(a, "resolved_at"));
		else
			fprintf(stderr, "recoveryctl: %s\n", jstr(a, "error"));
		return EXIT_CHECK;
	}
	if (strcmp(cmd, "resolve") == 0 &&
	    strcmp(jstr(a, "was"), "resolved") == 0)
		printf("case %s was already resolved (at %s)\n", id,
		    jstr(a, "resolved_at"));
	else if (strcmp(cmd, "resolve") == 0)
		printf("case %s resolved\n", id);
	return fflush(stdout) != 0 ? EXIT_CHECK : EXIT_OK;
}

/* ctl_login_name: who runs recoveryctl (--by's default): the login
 * name, else $USER, else "recoveryctl". */
const char *
ctl_login_name(void)
{
	const char *u;
	struct passwd *pw;

	if ((u = getlogin()) != NULL && u[0] != '\0')
		return u;
	if ((pw = getpwuid(geteuid())) != NULL && pw->pw_name != NULL &&
	    pw->pw_name[0] != '\0')
		return pw->pw_name;
	if ((u = getenv("USER")) != NULL && u[0] != '\0')
		return u;
	return "recoveryctl";
}

/* One of the case commands that the owner applies (command.h). */
struct casecmd {
	const char	*name;
	const char	*args;		/* usage after the name */
	bool		 note, code, to, take;	/* options it takes */
	bool		 text;		/* note: a TEXT argument */
};

static const struct casecmd casecmds[] = {
	{ "ack", "CASE [--by NAME] [--note TEXT] [--wait SECONDS]", true,
	    false, false, false, false },
	{ "resolve", "CASE --code CODE [--by NAME] [--note TEXT] "
	    "[--wait SECONDS]", true, true, false, false, false },
	{ "assign", "CASE (--to NAME | --take) [--by NAME] "
	    "[--wait SECONDS]", false, false, true, true, false },
	{ "note", "CASE TEXT [--by NAME] [--wait SECONDS]", false, false,
	    false, false, true },
	{ "reopen", "CASE [--by NAME] [--wait SECONDS]", false, false, false,
	    false, false },
};

static int
case_cmd(const struct config *cf, const struct casecmd *cc, int argc,
    char **argv)
{
	const char *by = NULL, *note = NULL, *waitarg = NULL, *code = NULL;
	const char *to = NULL, *take = NULL, *kv[8];
	struct copt opts[6];
	char *pos[2];
	json_t *a;
	size_t npos, nopts = 0;
	long wait_s;
	int rc;

	opts[nopts++] = (struct copt){ "by", true, &by };
	opts[nopts++] = (struct copt){ "wait", true, &waitarg };
	if (cc->note)
		opts[nopts++] = (struct copt){ "note", true, &note };
	if (cc->code)
		opts[nopts++] = (struct copt){ "code", true, &code };
	if (cc->to)
		opts[nopts++] = (struct copt){ "to", true, &to };
	if (cc->take)
		opts[nopts++] = (struct copt){ "take", false, &take };
	switch (copts_parse(cc->name, opts, nopts, argc, argv, pos,
	    cc->text ? 2 : 1, &npos)) {
	case 1:
		return case_usage(cc->name, cc->args, stdout);
	case -1:
		return case_usage(cc->name, cc->args, stderr);
	default:
		break;
	}
	if (npos < 1 || pos[0][0] == '\0') {
		fprintf(stderr, "recoveryctl: %s: missing the CASE\n",
		    cc->name);
		return case_usage(cc->name, cc->args, stderr);
	}
	if (cc->text && npos < 2) {
		fprintf(stderr, "recoveryctl: %s: missing the TEXT\n",
		    cc->name);
		return case_usage(cc->name, cc->args, stderr);
	}
	if (by == NULL)
		by = ctl_login_name();
	if (by[0] == '\0') {
		fprintf(stderr, "recoveryctl: %s: --by needs a name\n",
		    cc->name);
		return case_usage(cc->name, cc->args, stderr);
	}
	if (cc->code && code == NULL) {
		fprintf(stderr, "recoveryctl: resolve: a resolution needs a "
		    "reason: --code CODE (one of resolution_codes)\n");
		return case_usage(cc->name, cc->args, stderr);
	}
	if (cc->to && (to == NULL) == (take == NULL)) {
		fprintf(stderr, "recoveryctl: assign: give --to NAME or "
		    "--take\n");
		return case_usage(cc->name, cc->args, stderr);
	}
	if (take != NULL)
		to = by;
	if (cc->text)
		note = pos[1];
	kv[0] = "by";
	kv[1] = by;
	kv[2] = "note";
	kv[3] = note;
	kv[4] = "code";
	kv[5] = code;
	kv[6] = "to";
	kv[7] = to;
	if (case_wait(cc->name, waitarg, &wait_s) == -1 ||
	    case_precheck(cc->name, pos[0], kv, 4) == -1)
		return case_usage(cc->name, cc->args, stderr);
	if ((rc = case_command(cf, cc->name, pos[0], kv, 4, wait_s, &a)) !=
	    EXIT_OK)
		return rc;
	if ((rc = case_answer(cc->name, pos[0], a)) == EXIT_OK) {
		if (strcmp(cc->name, "ack") == 0)
			printf("case %s acknowledged by %s\n", pos[0], by);
		else if (strcmp(cc->name, "assign") == 0)
			printf("case %s assigned to %s\n", pos[0], to);
		else if (strcmp(cc->name, "note") == 0)
			printf("case %s: note added\n", pos[0]);
		else if (strcmp(cc->name, "reopen") == 0)
			printf("case %s reopened\n", pos[0]);
		if (fflush(stdout) != 0)
			rc = EXIT_CHECK;
	}
	json_decref(a);
	return rc;
}

static const struct casecmd *
casecmd(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(casecmds); i++)
		if (strcmp(casecmds[i].name, name) == 0)
			return &casecmds[i];
	return NULL;
}

int
ctl_ack(const struct config *cf, int argc, char **argv)
{
	return case_cmd(cf, casecmd("ack"), argc, argv);
}

int
ctl_resolve(const struct config *cf, int argc, char **argv)
{
	return case_cmd(cf, casecmd("resolve"), argc, argv);
}

int
ctl_assign(const struct config *cf, int argc, char **argv)
{
	return case_cmd(cf, casecmd("assign"), argc, argv);
}

int
ctl_note(const struct config *cf, int argc, char **argv)
{
	return case_cmd(cf, casecmd("note"), argc, argv);
}

int
ctl_reopen(const struct config *cf, int argc, char **argv)
{
	return case_cmd(cf, casecmd("reopen"), argc, argv);
}
