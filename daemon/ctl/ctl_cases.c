/*
 * ctl_cases.c — recoveryctl's case commands: cases, show, ack, resolve
 * (SPEC sections 3 and 5), over the case keys the owning daemon's store
 * writes (store.h). cases and show only read; ack and resolve are
 * commands the owning daemon applies and answers (command.h), so that a
 * case has one writer. Resolved cases are kept 30 days.
 */
#include <sys/types.h>

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
 * A resolved case is kept CASE_KEEP_MS (30 days) for reports, then Redis
 * expires its hash. Its member of P.."cases" stays; cases skips members
 * whose hash is gone.
 */
#define CASE_KEEP_MS	(30LL * 86400 * 1000)
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
    const char *filter, size_t limit, struct case_rows *rows)
{
	char max[64] = "+inf", skips[32], pages[32];
	size_t skip = 0, page, got, i;
	const char *st, *score;
	redisReply *r, *h;
	void *reply;
	bool last;
	int rc;

	rows->v = xcalloc(limit, sizeof(*rows->v));
	rows->n = 0;
	while (rows->n < limit) {
		page = filter != NULL ? CASES_PAGE : limit - rows->n;
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
			st = ctl_hash_get(h, "state");
			if (h->elements == 0 || rows->n == limit ||
			    (filter != NULL && (st == NULL ||
			    strcmp(st, filter) != 0))) {
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

#define CASES_ARGS	"[--state open|acknowledged|resolved|all] " \
			"[--limit N] [--json]"

int
ctl_cases(const struct config *cf, int argc, char **argv)
{
	const char *state = "open", *slimit = NULL, *json = NULL;
	const struct copt opts[] = {
		{ "state", true, &state },
		{ "limit", true, &slimit },
		{ "json", false, &json },
	};
	struct case_rows rows = { NULL, 0 };
	const char *filter = NULL;
	char *key, *end;
	redisContext *c;
	size_t npos;
	long limit = 50;
	int rc;

	switch (copts_parse("cases", opts, ARRAY_LEN(opts), argc, argv, NULL,
	    0, &npos)) {
	case 1:
		return case_usage("cases", CASES_ARGS, stdout);
	case -1:
		return case_usage("cases", CASES_ARGS, stderr);
	default:
		break;
	}
	if (strcmp(state, "acknowledged") == 0 || strcmp(state, "resolved") == 0)
		filter = state;
	else if (strcmp(state, "open") != 0 && strcmp(state, "all") != 0) {
		fprintf(stderr, "recoveryctl: cases: unknown state '%s'\n",
		    state);
		return case_usage("cases", CASES_ARGS, stderr);
	}
	if (slimit != NULL) {
		errno = 0;
		limit = strtol(slimit, &end, 10);
		if (errno != 0 || end == slimit || *end != '\0' || limit < 1 ||
		    limit > CASES_LIMIT_MAX) {
			fprintf(stderr, "recoveryctl: cases: --limit must be "
			    "a number from 1 to %d\n", CASES_LIMIT_MAX);
			return case_usage("cases", CASES_ARGS, stderr);
		}
	}

	if ((c = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;
	/* Open and acknowledged cases are indexed apart; resolved ones
	 * only in the index of all cases. */
	key = xasprintf("%s%s", cf->state_prefix, strcmp(state, "all") == 0 ||
	    strcmp(state, "resolved") == 0 ? "cases" : "cases:open");
	rc = cases_fetch(c, cf->state_prefix, key, filter, (size_t)limit,
	    &rows);
	if (rc == EXIT_OK) {
		if (json != NULL)
			cases_json(&rows);
		else if (rows.n > 0)
			cases_table(&rows);
		else
			fprintf(stderr, "recoveryctl: no %s%scases\n",
			    strcmp(state, "all") == 0 ? "" : state,
			    strcmp(state, "all") == 0 ? "" : " ");
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
		    (bar = strrchr(m + idl + 1, '|')) == NULL)
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
	"case_id", "customer_id", "state", "severity", "opened_at",
	"opened_ms", "rules", "events", "step", "acked_by", "acked_at",
	"resolved_at", "note", "call_id", "agent_id", "queue", "entry",
	"updated_at", "escalated_at",
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

int
ctl_show(const struct config *cf, int argc, char **argv)
{
	const char *const what[] = { "HGETALL", "PTTL" };
	const int want[] = { REDIS_REPLY_ARRAY, REDIS_REPLY_INTEGER };
	redisReply *r[2] = { NULL, NULL };
	redisContext *c;
	void *reply;
	const char *v;
	char *id, when[64], in[32];
	int64_t now_ms;
	size_t npos, i;
	int rc = EXIT_OK;

	switch (copts_parse("show", NULL, 0, argc, argv, &id, 1, &npos)) {
	case 1:
		return case_usage("show", "CASE", stdout);
	case -1:
		return case_usage("show", "CASE", stderr);
	default:
		break;
	}
	if (npos != 1 || id[0] == '\0') {
		fprintf(stderr, "recoveryctl: show: missing the CASE\n");
		return case_usage("show", "CASE", stderr);
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
	rc = show_steps(c, cf, id, ctl_hash_get(r[0], "opened_ms"), now_ms);
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
#define CMD_STREAM_MAX	"10000"	/* MAXLEN ~ of the command stream */

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
 * case_command: send the command (fields op, case, by, note) and wait
 * up to wait_s seconds for its answer, which *out gets (the caller
 * json_decrefs it). Returns an exit code; a missing answer is EXIT_CHECK
 * with the command left queued (the owner applies it when it runs).
 */
static int
case_command(const struct config *cf, const char *op, const char *id,
    const char *by, const char *note, long wait_s, json_t **out)
{
	const char *av[20];
	size_t n = 0;
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
	av[n++] = "XADD";
	av[n++] = stream;
	av[n++] = "MAXLEN";
	av[n++] = "~";
	av[n++] = CMD_STREAM_MAX;
	av[n++] = "*";
	av[n++] = "op";
	av[n++] = op;
	av[n++] = "case";
	av[n++] = id;
	if (by != NULL) {
		av[n++] = "by";
		av[n++] = by;
	}
	if (note != NULL) {
		av[n++] = "note";
		av[n++] = note;
	}
	av[n++] = "reply";
	av[n++] = tok;
	av[n++] = "at";
	av[n++] = at;
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
case_precheck(const char *cmd, const char *id, const char *by,
    const char *note)
{
	const char *names[4], *vals[4];
	size_t nl[4], vl[4], n = 0;
	struct command c;
	int rc;

	names[n] = "op";
	vals[n++] = cmd;
	names[n] = "case";
	vals[n++] = id;
	if (by != NULL) {
		names[n] = "by";
		vals[n++] = by;
	}
	if (note != NULL) {
		names[n] = "note";
		vals[n++] = note;
	}
	for (size_t i = 0; i < n; i++) {
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

#define ACK_ARGS	"CASE [--by NAME] [--note TEXT] [--wait SECONDS]"

int
ctl_ack(const struct config *cf, int argc, char **argv)
{
	const char *by = NULL, *note = NULL, *waitarg = NULL;
	const struct copt opts[] = {
		{ "by", true, &by },
		{ "note", true, &note },
		{ "wait", true, &waitarg },
	};
	char *id;
	json_t *a;
	size_t npos;
	long wait_s;
	int rc;

	switch (copts_parse("ack", opts, ARRAY_LEN(opts), argc, argv, &id, 1,
	    &npos)) {
	case 1:
		return case_usage("ack", ACK_ARGS, stdout);
	case -1:
		return case_usage("ack", ACK_ARGS, stderr);
	default:
		break;
	}
	if (npos != 1 || id[0] == '\0') {
		fprintf(stderr, "recoveryctl: ack: missing the CASE\n");
		return case_usage("ack", ACK_ARGS, stderr);
	}
	if (by == NULL && ((by = getenv("USER")) == NULL || by[0] == '\0'))
		by = "recoveryctl";
	if (by[0] == '\0') {
		fprintf(stderr, "recoveryctl: ack: --by needs a name\n");
		return case_usage("ack", ACK_ARGS, stderr);
	}
	if (case_wait("ack", waitarg, &wait_s) == -1 ||
	    case_precheck("ack", id, by, note) == -1)
		return case_usage("ack", ACK_ARGS, stderr);
	if ((rc = case_command(cf, "ack", id, by, note, wait_s, &a)) !=
	    EXIT_OK)
		return rc;
	if ((rc = case_answer("ack", id, a)) == EXIT_OK) {
		printf("case %s acknowledged by %s\n", id, by);
		if (fflush(stdout) != 0)
			rc = EXIT_CHECK;
	}
	json_decref(a);
	return rc;
}

#define RESOLVE_ARGS	"CASE [--note TEXT] [--wait SECONDS]"

int
ctl_resolve(const struct config *cf, int argc, char **argv)
{
	const char *note = NULL, *waitarg = NULL;
	const struct copt opts[] = {
		{ "note", true, &note },
		{ "wait", true, &waitarg },
	};
	char *id;
	json_t *a;
	size_t npos;
	long wait_s;
	int rc;

	switch (copts_parse("resolve", opts, ARRAY_LEN(opts), argc, argv, &id,
	    1, &npos)) {
	case 1:
		return case_usage("resolve", RESOLVE_ARGS, stdout);
	case -1:
		return case_usage("resolve", RESOLVE_ARGS, stderr);
	default:
		break;
	}
	if (npos != 1 || id[0] == '\0') {
		fprintf(stderr, "recoveryctl: resolve: missing the CASE\n");
		return case_usage("resolve", RESOLVE_ARGS, stderr);
	}
	if (case_wait("resolve", waitarg, &wait_s) == -1 ||
	    case_precheck("resolve", id, NULL, note) == -1)
		return case_usage("resolve", RESOLVE_ARGS, stderr);
	if ((rc = case_command(cf, "resolve", id, NULL, note, wait_s, &a)) !=
	    EXIT_OK)
		return rc;
	rc = case_answer("resolve", id, a);
	json_decref(a);
	return rc;
}
