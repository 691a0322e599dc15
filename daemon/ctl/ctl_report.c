/*
 * ctl_report.c — recoveryctl report (README, "Working a case"): whether
 * recovery works, per rule, queue, agent or owner, over the cases opened in a
 * period: how many, acknowledged within their SLA, median and p90 time to
 * acknowledge, to first contact and to resolve, reason codes, outcomes and
 * the recovery rate (recovered / (recovered + not_recovered)), and CSAT/NPS
 * before (the rating that opened the case) and after (the rating that was its
 * outcome).
 *
 * The figures are caseview.c's (shared with recoveryd-console's GET
 * /api/report). It only reads: the cases opened since then (P.."cases", scored by
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
#include "caseview.h"
#include "ctl.h"
#include "util.h"

#define REPORT_PAGE	256
#define REPORT_MAX	1000000		/* cases read at most */

static const char *
reply_get(const void *h, const char *field)
{
	return ctl_hash_get(h, field);
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

static void
avg_text(double sum, long n, char *out, size_t len)
{
	if (n == 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%.1f", sum / (double)n);
}

static void
group_print(struct report_group *g)
{
	char a50[16], a90[16], c50[16], c90[16], r50[16], r90[16];
	char cb[16], ca[16], nb[16], na[16], rate[16], sla[32];
	long rn = g->recovered + g->not_recovered;
	size_t i;

	dur_text(report_pct(&g->ack, 50), a50, sizeof(a50));
	dur_text(report_pct(&g->ack, 90), a90, sizeof(a90));
	dur_text(report_pct(&g->contact, 50), c50, sizeof(c50));
	dur_text(report_pct(&g->contact, 90), c90, sizeof(c90));
	dur_text(report_pct(&g->resolve, 50), r50, sizeof(r50));
	dur_text(report_pct(&g->resolve, 90), r90, sizeof(r90));
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
	if (!report_by_ok(by)) {
		fprintf(stderr, "recoveryctl: report: --by is rule, queue, "
		    "agent or owner\n");
		return report_usage(stderr);
	}
	if ((c = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;
	report_init(&r, by);
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
			if (h->elements > 0 && ctl_hash_valid(h)) {
				struct caseview cv = { ids->element[i + j]->str,
				    h, reply_get };

				report_place(&r, &cv);
			}
			freeReplyObject(h);
		}
	}
	if (json) {
		json_t *o = report_json(&r, since);
		char *text;

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
	report_free(&r);
	redisFree(c);
	return rc;
}
