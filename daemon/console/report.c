/*
 * report.c — GET /api/report?since=30d&by=rule|queue|agent|owner: the
 * figures of `recoveryctl report --json` (caseview.c computes both): the
 * cases opened since then (P.."cases", scored by opening time), each hash
 * read pipelined (case_fetch) and placed as it arrives.
 */
#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>

#include "caseview.h"
#include "command.h"
#include "console.h"

#define REPORT_MAX	1000000

static int64_t
now_ms(void)
{
	return (int64_t)(now_wall() * 1000.0);
}

struct report_req {
	struct console		*c;
	struct evhttp_request	*req;
	struct report		 r;
	char			 by[16], since[32];
	bool			 failed;
};

static void
report_answer(struct report_req *q)
{
	if (q->failed)
		api_error(q->req, 503, "Redis did not answer");
	else
		api_json(q->req, 200, report_json(&q->r, q->since));
	report_free(&q->r);
	free(q);
}

static void
report_each(void *arg, size_t i, const char *id, const redisReply *r)
{
	struct report_req *q = arg;
	struct caseview cv = { id, r, reply_get };

	(void)i;
	/* expired hashes leave their index member behind */
	if (r != NULL && r->elements > 0)
		report_place(&q->r, &cv);
}

static void
report_done(void *arg, bool failed)
{
	struct report_req *q = arg;

	q->failed = q->failed || failed;
	report_answer(q);
}

static void
report_ids_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct report_req *q = arg;
	redisReply *r = reply;

	(void)ac;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		q->failed = true;
		report_answer(q);
		return;
	}
	case_fetch_reply(q->c, r, report_each, report_done, q);
}

void
report_get(struct console *c, struct evhttp_request *req)
{
	struct report_req *q = xcalloc(1, sizeof(*q));
	const char *query = evhttp_uri_get_query(
	    evhttp_request_get_evhttp_uri(req)), *v;
	struct evkeyvalq qs;
	char key[600], min[32], max[32];
	const char *av[7];
	int64_t ms;

	TAILQ_INIT(&qs);
	snprintf(q->since, sizeof(q->since), "30d");
	snprintf(q->by, sizeof(q->by), "rule");
	if (query != NULL && evhttp_parse_query_str(query, &qs) == 0) {
		if ((v = evhttp_find_header(&qs, "since")) != NULL)
			snprintf(q->since, sizeof(q->since), "%s", v);
		if ((v = evhttp_find_header(&qs, "by")) != NULL)
			snprintf(q->by, sizeof(q->by), "%s", v);
	}
	evhttp_clear_headers(&qs);
	if (parse_duration_ms(q->since, &ms) == -1 || ms <= 0) {
		api_error(req, 400, "since is a duration such as 7d");
		free(q);
		return;
	}
	if (!report_by_ok(q->by)) {
		api_error(req, 400, "by is rule, queue, agent or owner");
		free(q);
		return;
	}
	q->c = c;
	q->req = req;
	report_init(&q->r, q->by);
	snprintf(key, sizeof(key), "%scases", c->cf->state_prefix);
	snprintf(min, sizeof(min), "%" PRId64, now_ms() - ms);
	snprintf(max, sizeof(max), "%d", REPORT_MAX);
	av[0] = "ZRANGEBYSCORE";
	av[1] = key;
	av[2] = min;
	av[3] = "+inf";
	av[4] = "LIMIT";
	av[5] = "0";
	av[6] = max;
	if (console_cmd(c, report_ids_cb, q, 7, av) == -1) {
		api_error(req, 503, "Redis is not connected");
		report_free(&q->r);
		free(q);
	}
}
