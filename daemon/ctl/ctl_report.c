/*
 * ctl_report.c — recoveryctl report (README, "Working a case"): whether
 * recovery
 * works, per rule, queue, agent or owner, over the cases opened in a
 * period: how many, acknowledged within their SLA, median and p90 time to
 * acknowledge, to first contact and to resolve, reason codes, outcomes
 * and the recovery rate (recovered / (recovered + not_recovered)), and
 * CSAT/NPS before (the rating that opened the case) and after (the
 * rating that was its outcome).
 *
 * It only reads: the cases opened since then (P.."cases", scored by
 * opening time), each hash fetched in pipelined pages. A case counts in
 * the group of each of its rules (--by rule), or of its queue, agent or
 * owner ("-" when it has none). Each resolution's outcome counts
 * (the hash's "outcomes" lists them), so a case reopened and resolved
 * twice counts twice there.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "util.h"

#define REPORT_PAGE	256
#define REPORT_MAX	1000000		/* cases read at most */
#define REPORT_GROUPS	10000
#define NCODES		32

struct series {
	int64_t		*v;
	size_t		 n, cap;
};

struct group {
	char		*name;
	long		 opened, acked, acked_in_sla, with_sla, resolved;
	long		 recovered, not_recovered, unknown;
	struct series	 ack, contact, resolve;
	double		 csat_before, nps_before, csat_after, nps_after;
	long		 ncsat_before, nnps_before, ncsat_after, nnps_after;
	char		*codes[NCODES];
	long		 ncode[NCODES];
	size_t		 ncodes;
};

struct report {
	struct group	*g;
	size_t		 n;
	struct group	 total;
	const char	*by;
};

static void
series_add(struct series *s, int64_t v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n++] = v;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* pct: the p-th percentile (nearest rank) in ms, or -1 for none. */
static int64_t
pct(struct series *s, double p)
{
	size_t k;

	if (s->n == 0)
		return -1;
	qsort(s->v, s->n, sizeof(*s->v), cmp64);
	k = (size_t)ceil(p / 100.0 * (double)s->n);
	return s->v[k == 0 ? 0 : k - 1];
}

static struct group *
group_of(struct report *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->g[i].name, name) == 0)
			return &r->g[i];
	if (r->n >= REPORT_GROUPS)
		return NULL;
	r->g = xreallocarray(r->g, r->n + 1, sizeof(*r->g));
	memset(&r->g[r->n], 0, sizeof(r->g[r->n]));
	r->g[r->n].name = xstrdup(name);
	return &r->g[r->n++];
}

/* ms_of: an RFC 3339 time in ms, or -1. */
static int64_t
ms_of(const char *s)
{
	double t;

	if (s == NULL || s[0] == '\0' || parse_rfc3339(s, strlen(s), &t) != 0)
		return -1;
	return (int64_t)llround(t * 1000);
}

/* score: "csat=1 nps=3": the value of key, or -1. */
static double
score(const char *s, const char *key)
{
	const char *p;
	size_t l = strlen(key);

	for (p = s; p != NULL && *p != '\0'; p = strchr(p, ' ')) {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, l) == 0 && p[l] == '=')
			return strtod(p + l + 1, NULL);
	}
	return -1;
}

static void
count_code(struct group *g, const char *code)
{
	size_t i;

	for (i = 0; i < g->ncodes; i++)
		if (strcmp(g->codes[i], code) == 0) {
			g->ncode[i]++;
			return;
		}
	if (g->ncodes < NCODES) {
		g->codes[g->ncodes] = xstrdup(code);
		g->ncode[g->ncodes++] = 1;
	}
}

/* add: one case (a valid HGETALL reply) to group g. */
static void
add(struct group *g, const redisReply *h)
{
	const char *v, *o;
	int64_t opened = ms_of(ctl_hash_get(h, "opened_at")), t, due;
	double x;
	char *words, *w, *save;

	g->opened++;
	due = ms_of(ctl_hash_get(h, "due_at"));
	if ((t = ms_of(ctl_hash_get(h, "acked_at"))) >= 0 && opened >= 0) {
		g->acked++;
		series_add(&g->ack, t - opened);
	}
	if (due >= 0) {
		g->with_sla++;
		if (t >= 0 && t <= due)
			g->acked_in_sla++;
	}
	if ((t = ms_of(ctl_hash_get(h, "first_contact_at"))) >= 0 &&
	    opened >= 0)
		series_add(&g->contact, t - opened);
	if ((t = ms_of(ctl_hash_get(h, "resolved_at"))) >= 0 && opened >= 0 &&
	    (v = ctl_hash_get(h, "state")) != NULL &&
	    strcmp(v, "resolved") == 0) {
		g->resolved++;
		series_add(&g->resolve, t - opened);
	}
	if ((v = ctl_hash_get(h, "resolution_code")) != NULL && v[0] != '\0')
		count_code(g, v);
	if ((o = ctl_hash_get(h, "outcomes")) != NULL && o[0] != '\0') {
		words = xstrdup(o);
		for (w = strtok_r(words, ",", &save); w != NULL;
		    w = strtok_r(NULL, ",", &save)) {
			if (strcmp(w, "recovered") == 0)
				g->recovered++;
			else if (strcmp(w, "not_recovered") == 0)
				g->not_recovered++;
			else if (strcmp(w, "unknown") == 0)
				g->unknown++;
		}
		free(words);
	}
	if ((v = ctl_hash_get(h, "rating_before")) != NULL) {
		if ((x = score(v, "csat")) >= 0) {
			g->csat_before += x;
			g->ncsat_before++;
		}
		if ((x = score(v, "nps")) >= 0) {
			g->nps_before += x;
			g->nnps_before++;
		}
	}
	/* every resolution's rating after ("ratings_after", parallel to
	 * "outcomes"; a reopening's too), else the last one */
	if ((v = ctl_hash_get(h, "ratings_after")) == NULL || v[0] == '\0')
		v = ctl_hash_get(h, "rating_after");
	if (v != NULL) {
		words = xstrdup(v);
		for (w = strtok_r(words, ";", &save); w != NULL;
		    w = strtok_r(NULL, ";", &save)) {
			if ((x = score(w, "csat")) >= 0) {
				g->csat_after += x;
				g->ncsat_after++;
			}
			if ((x = score(w, "nps")) >= 0) {
				g->nps_after += x;
				g->nnps_after++;
			}
		}
		free(words);
	}
}

/* place: the case in each of its groups and in the total. */
static void
place(struct report *r, const redisReply *h)
{
	const char *v;
	char *names, *w, *save;
	struct group *g;

	add(&r->total, h);
	if (strcmp(r->by, "rule") != 0) {
		v = ctl_hash_get(h, strcmp(r->by, "agent") == 0 ? "agent_id" :
		    r->by);
		if ((g = group_of(r, v != NULL && v[0] != '\0' ? v : "-")) !=
		    NULL)
			add(g, h);
		return;
	}
	v = ctl_hash_get(h, "rules");
	names = xstrdup(v != NULL && v[0] != '\0' ? v : "-");
	for (w = strtok_r(names, ",", &save); w != NULL;
	    w = strtok_r(NULL, ",", &save))
		if ((g = group_of(r, w)) != NULL)
			add(g, h);
	free(names);
}

static void
dur_text(int64_t ms, char *out, size_t len)
{
	if (ms < 0)
		snprintf(out, len, "-");
	else if (ms < 60000)
		snprintf(out, len, "%llds", (long long)(ms / 1000));
	else if (ms < 3600000)
		snprintf(out, len, "%lldm", (long long)(ms / 60000));
	else if (ms < 86400000)
		snprintf(out, len, "%.1fh", (double)ms / 3600000.0);
	else
		snprintf(out, len, "%.1fd", (double)ms / 86400000.0);
}

static json_t *
jdur(int64_t ms)
{
	return ms < 0 ? json_null() : json_real((double)ms / 1000.0);
}

static json_t *
javg(double sum, long n)
{
	return n == 0 ? json_null() : json_real(sum / (double)n);
}

static json_t *
group_json(struct group *g)
{
	json_t *o = json_object(), *codes = json_object(), *out = json_object();
	long rn = g->recovered + g->not_recovered;
	size_t i;

	json_object_set_new(o, "opened", json_integer(g->opened));
	json_object_set_new(o, "acknowledged", json_integer(g->acked));
	json_object_set_new(o, "with_sla", json_integer(g->with_sla));
	json_object_set_new(o, "acknowledged_within_sla",
	    json_integer(g->acked_in_sla));
	json_object_set_new(o, "resolved", json_integer(g->resolved));
	json_object_set_new(o, "time_to_ack_p50_s", jdur(pct(&g->ack, 50)));
	json_object_set_new(o, "time_to_ack_p90_s", jdur(pct(&g->ack, 90)));
	json_object_set_new(o, "time_to_first_contact_p50_s",
	    jdur(pct(&g->contact, 50)));
	json_object_set_new(o, "time_to_first_contact_p90_s",
	    jdur(pct(&g->contact, 90)));
	json_object_set_new(o, "time_to_resolve_p50_s",
	    jdur(pct(&g->resolve, 50)));
	json_object_set_new(o, "time_to_resolve_p90_s",
	    jdur(pct(&g->resolve, 90)));
	for (i = 0; i < g->ncodes; i++)
		json_object_set_new(codes, g->codes[i],
		    json_integer(g->ncode[i]));
	json_object_set_new(o, "resolution_codes", codes);
	json_object_set_new(out, "recovered", json_integer(g->recovered));
	json_object_set_new(out, "not_recovered",
	    json_integer(g->not_recovered));
	json_object_set_new(out, "unknown", json_integer(g->unknown));
	json_object_set_new(o, "outcomes", out);
	json_object_set_new(o, "recovery_rate", rn == 0 ? json_null() :
	    json_real((double)g->recovered / (double)rn));
	json_object_set_new(o, "csat_before", javg(g->csat_before,
	    g->ncsat_before));
	json_object_set_new(o, "csat_after", javg(g->csat_after,
	    g->ncsat_after));
	json_object_set_new(o, "nps_before", javg(g->nps_before,
	    g->nnps_before));
	json_object_set_new(o, "nps_after", javg(g->nps_after,
	    g->nnps_after));
	return o;
}

static void
avg_text(double sum, long n, char *out, size_t len)
{
	if (n == 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%.1f", sum / (double)n);
}

static void
group_print(struct group *g)
{
	char a50[16], a90[16], c50[16], c90[16], r50[16], r90[16];
	char cb[16], ca[16], nb[16], na[16], rate[16], sla[32];
	long rn = g->recovered + g->not_recovered;
	size_t i;

	dur_text(pct(&g->ack, 50), a50, sizeof(a50));
	dur_text(pct(&g->ack, 90), a90, sizeof(a90));
	dur_text(pct(&g->contact, 50), c50, sizeof(c50));
	dur_text(pct(&g->contact, 90), c90, sizeof(c90));
	dur_text(pct(&g->resolve, 50), r50, sizeof(r50));
	dur_text(pct(&g->resolve, 90), r90, sizeof(r90));
	avg_text(g->csat_before, g->ncsat_before, cb, sizeof(cb));
	avg_text(g->csat_after, g->ncsat_after, ca, sizeof(ca));
	avg_text(g->nps_before, g->nnps_before, nb, sizeof(nb));
	avg_text(g->nps_after, g->nnps_after, na, sizeof(na));
	if (rn == 0)
		snprintf(rate, sizeof(rate), "-");
	else
		snprintf(rate, sizeof(rate), "%.0f%%", 100.0 *
		    (double)g->recovered / (double)rn);
	if (g->with_sla == 0)
		snprintf(sla, sizeof(sla), "-");
	else
		snprintf(sla, sizeof(sla), "%ld of %ld", g->acked_in_sla,
		    g->with_sla);
	{
		/* a group's name is data (a queue, an agent): one line of
		 * text on a terminal */
		char *name = xstrdup(g->name);

		ctl_one_line(name);
		printf("%s\n", name);
		free(name);
	}
	printf("  opened %ld, acknowledged %ld (within SLA: %s), resolved %ld\n",
	    g->opened, g->acked, sla, g->resolved);
	printf("  time to acknowledge    median %s  p90 %s\n", a50, a90);
	printf("  time to first contact  median %s  p90 %s\n", c50, c90);
	printf("  time to resolve        median %s  p90 %s\n", r50, r90);
	printf("  reason codes          ");
	for (i = 0; i < g->ncodes; i++) {
		char *code = xstrdup(g->codes[i]);

		ctl_one_line(code);
		printf(" %s %ld", code, g->ncode[i]);
		free(code);
	}
	printf("%s\n", g->ncodes == 0 ? " -" : "");
	printf("  outcomes               recovered %ld, not recovered %ld, "
	    "unknown %ld: recovery rate %s\n", g->recovered,
	    g->not_recovered, g->unknown, rate);
	printf("  CSAT before %s after %s, NPS before %s after %s\n", cb, ca,
	    nb, na);
}

static void
group_free(struct group *g)
{
	size_t i;

	free(g->name);
	free(g->ack.v);
	free(g->contact.v);
	free(g->resolve.v);
	for (i = 0; i < g->ncodes; i++)
		free(g->codes[i]);
}

#define REPORT_ARGS	"[--since DURATION] [--by rule|queue|agent|owner] [--json]"

static int
report_usage(FILE *fp)
{
	fprintf(fp, "usage: recoveryctl [-c FILE] report %s\n", REPORT_ARGS);
	return fp == stdout ? EXIT_OK : EXIT_USAGE;
}

int
ctl_report(const struct config *cf, int argc, char **argv)
{
	const char *since = "30d", *by = "rule";
	struct report r;
	redisContext *c;
	redisReply *ids = NULL, *h;
	char min[32], key[512];
	int64_t since_ms;
	bool json = false;
	size_t i, j, n;
	void *reply;
	int rc = EXIT_OK, k;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "-h") == 0 || strcmp(argv[k], "--help") ==
		    0)
			return report_usage(stdout);
		else if (strcmp(argv[k], "--json") == 0)
			json = true;
		else if (strcmp(argv[k], "--since") == 0 && k + 1 < argc)
			since = argv[++k];
		else if (strncmp(argv[k], "--since=", 8) == 0)
			since = argv[k] + 8;
		else if (strcmp(argv[k], "--by") == 0 && k + 1 < argc)
			by = argv[++k];
		else if (strncmp(argv[k], "--by=", 5) == 0)
			by = argv[k] + 5;
		else {
			fprintf(stderr, "recoveryctl: report: unexpected "
			    "argument '%s'\n", argv[k]);
			return report_usage(stderr);
		}
	}
	if (parse_duration_ms(since, &since_ms) == -1 || since_ms <= 0) {
		fprintf(stderr, "recoveryctl: report: --since needs a "
		    "duration such as 7d\n");
		return report_usage(stderr);
	}
	if (strcmp(by, "rule") != 0 && strcmp(by, "queue") != 0 &&
	    strcmp(by, "agent") != 0 && strcmp(by, "owner") != 0) {
		fprintf(stderr, "recoveryctl: report: --by is rule, queue, "
		    "agent or owner\n");
		return report_usage(stderr);
	}
	if ((c = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;
	memset(&r, 0, sizeof(r));
	r.by = by;
	r.total.name = xstrdup("all");
	snprintf(min, sizeof(min), "%lld", (long long)(now_wall() * 1000) -
	    (long long)since_ms);
	snprintf(key, sizeof(key), "%scases", cf->state_prefix);
	ids = redisCommand(c, "ZRANGEBYSCORE %s %s +inf LIMIT 0 %d", key, min,
	    REPORT_MAX);
	if ((rc = ctl_reply_check(c, ids, "ZRANGEBYSCORE",
	    REDIS_REPLY_ARRAY)) != EXIT_OK)
		goto done;
	for (i = 0; i < ids->elements; i += REPORT_PAGE) {
		n = ids->elements - i < REPORT_PAGE ? ids->elements - i :
		    REPORT_PAGE;
		for (j = 0; j < n; j++)
			if (redisAppendCommand(c, "HGETALL %scase:%s",
			    cf->state_prefix, ids->element[i + j]->str) !=
			    REDIS_OK) {
				rc = EXIT_REDIS;
				goto done;
			}
		for (j = 0; j < n; j++) {
			if (redisGetReply(c, &reply) != REDIS_OK)
				reply = NULL;
			h = reply;
			if ((rc = ctl_reply_check(c, h, "HGETALL",
			    REDIS_REPLY_ARRAY)) != EXIT_OK)
				goto done;
			/* expired hashes leave their index member behind */
			if (h->elements > 0 && ctl_hash_valid(h))
				place(&r, h);
			freeReplyObject(h);
		}
	}
	if (json) {
		json_t *o = json_object(), *gs = json_object();
		char *text;

		json_object_set_new(o, "since", json_string(since));
		json_object_set_new(o, "by", json_string(by));
		json_object_set_new(o, "total", group_json(&r.total));
		for (i = 0; i < r.n; i++)
			json_object_set_new(gs, r.g[i].name,
			    group_json(&r.g[i]));
		json_object_set_new(o, "groups", gs);
		text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", text != NULL ? text : "{}");
		free(text);
		json_decref(o);
	} else {
		printf("cases opened in the last %s, by %s\n\n", since, by);
		for (i = 0; i < r.n; i++) {
			group_print(&r.g[i]);
			printf("\n");
		}
		group_print(&r.total);
	}
	if (fflush(stdout) != 0)
		rc = EXIT_CHECK;
done:
	if (ids != NULL)
		freeReplyObject(ids);
	for (i = 0; i < r.n; i++)
		group_free(&r.g[i]);
	free(r.g);
	group_free(&r.total);
	redisFree(c);
	return rc;
}
