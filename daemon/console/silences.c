/*
 * silences.c — GET|POST|DELETE /api/silences (README, "Silences"), over the
 * keys `recoveryctl silence` writes (silence.h): the hash P.."silences"
 * of silence_json() values, the revision P.."silences:rev" that every
 * change raises (the owner reloads within a second), each silence's
 * count in P.."silence:ID". A silence is added with "by" the session's
 * user; a supervisor expires only its own, an admin any.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "console.h"
#include "silence.h"

static int64_t
now_ms(void)
{
	return (int64_t)(now_wall() * 1000.0);
}

struct sil_req {
	struct console		*c;
	struct evhttp_request	*req;
	struct silences		 set;
	long long		*counts;
	size_t			 want, got;
	bool			 failed;
	char			 user[CONSOLE_NAME_MAX + 1];
	bool			 admin;
	char			 id[SILENCE_ID_MAX];
};

static void
sil_free(struct sil_req *q)
{
	silences_free(&q->set);
	free(q->counts);
	free(q);
}

static json_t *
sil_json(const struct silence *s, long long count, int64_t now)
{
	json_t *o = json_object();
	char t[64];

	json_object_set_new(o, "id", json_string(s->id));
	if (s->rule != NULL)
		json_object_set_new(o, "rule", json_string(s->rule));
	if (s->queue != NULL)
		json_object_set_new(o, "queue", json_string(s->queue));
	if (s->agent != NULL)
		json_object_set_new(o, "agent", json_string(s->agent));
	if (s->customer != NULL)
		json_object_set_new(o, "customer", json_string(s->customer));
	format_rfc3339((double)s->starts_ms / 1000.0, t, sizeof(t));
	json_object_set_new(o, "starts_at", json_string(t));
	format_rfc3339((double)s->ends_ms / 1000.0, t, sizeof(t));
	json_object_set_new(o, "ends_at", json_string(t));
	json_object_set_new(o, "reason", json_string(s->reason != NULL ?
	    s->reason : ""));
	json_object_set_new(o, "by", json_string(s->by != NULL ? s->by : ""));
	json_object_set_new(o, "active", json_boolean(silence_active(s, now)));
	json_object_set_new(o, "count", json_integer(count));
	return o;
}

static void
list_answer(struct sil_req *q)
{
	json_t *arr;
	int64_t now = now_ms();
	size_t i;

	if (q->failed) {
		api_error(q->req, 503, "Redis did not answer");
		sil_free(q);
		return;
	}
	arr = json_array();
	for (i = 0; i < q->set.n; i++)
		json_array_append_new(arr, sil_json(&q->set.v[i],
		    q->counts != NULL ? q->counts[i] : 0, now));
	api_json(q->req, 200, json_pack("{s:o}", "silences", arr));
	sil_free(q);
}

static void
count_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct sil_req *q = arg;
	redisReply *r = reply;

	(void)ac;
	if (r == NULL)
		q->failed = true;
	else if (r->type == REDIS_REPLY_STRING)
		q->counts[q->got] = strtoll(r->str, NULL, 10);
	if (++q->got == q->want)
		list_answer(q);
}

static void
all_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct sil_req *q = arg;
	redisReply *r = reply;
	char err[256], key[600];
	const char *av[3];
	size_t i;

	(void)ac;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		q->failed = true;
		list_answer(q);
		return;
	}
	for (i = 0; i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING)
			(void)silence_load(&q->set, r->element[i]->str,
			    r->element[i]->len, r->element[i + 1]->str,
			    r->element[i + 1]->len, err, sizeof(err));
	if ((q->want = q->set.n) == 0) {
		list_answer(q);
		return;
	}
	q->counts = xcalloc(q->want, sizeof(*q->counts));
	for (i = 0; i < q->set.n; i++) {
		snprintf(key, sizeof(key), "%ssilence:%s",
		    q->c->cf->state_prefix, q->set.v[i].id);
		av[0] = "HGET";
		av[1] = key;
		av[2] = "count";
		if (console_cmd(q->c, count_cb, q, 3, av) == -1) {
			q->failed = true;
			q->got += q->want - i;
			if (q->got == q->want)
				list_answer(q);
			return;
		}
	}
}

static struct sil_req *
sil_new(struct console *c, struct evhttp_request *req, const struct who *w)
{
	struct sil_req *q = xcalloc(1, sizeof(*q));

	q->c = c;
	q->req = req;
	silences_init(&q->set);
	if (w != NULL) {
		snprintf(q->user, sizeof(q->user), "%s", w->user);
		q->admin = w->role >= ROLE_ADMIN;
	}
	return q;
}

void
api_silences_get(struct console *c, struct evhttp_request *req)
{
	struct sil_req *q = sil_new(c, req, NULL);
	char key[600];
	const char *av[2];

	snprintf(key, sizeof(key), "%ssilences", c->cf->state_prefix);
	av[0] = "HGETALL";
	av[1] = key;
	if (console_cmd(c, all_cb, q, 2, av) == -1) {
		api_error(req, 503, "Redis is not connected");
		sil_free(q);
	}
}

/* written_cb: the INCR of the revision, after the HSET. */
static void
written_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct sil_req *q = arg;
	redisReply *r = reply;
	int64_t now = now_ms();

	(void)ac;
	if (r == NULL || r->type != REDIS_REPLY_INTEGER)
		api_error(q->req, 503, "Redis did not store the silence");
	else
		api_json(q->req, q->want == 1 ? 201 : 200,
		    sil_json(&q->set.v[0], 0, now));
	sil_free(q);
}

static void
hset_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	(void)ac;
	(void)reply;
	(void)arg;	/* the INCR after it answers */
}

/* write: HSET the set's first silence, then INCR the revision. */
static void
sil_write(struct sil_req *q)
{
	char hk[600], rk[600];
	const char *av[4];
	struct buf b;
	int rc;

	snprintf(hk, sizeof(hk), "%ssilences", q->c->cf->state_prefix);
	snprintf(rk, sizeof(rk), "%ssilences:rev", q->c->cf->state_prefix);
	buf_init(&b);
	silence_json(&q->set.v[0], &b);
	av[0] = "HSET";
	av[1] = hk;
	av[2] = q->set.v[0].id;
	av[3] = b.data;
	rc = console_cmd(q->c, hset_cb, NULL, 4, av);
	buf_free(&b);
	av[0] = "INCR";
	av[1] = rk;
	if (rc == -1 || console_cmd(q->c, written_cb, q, 2, av) == -1) {
		api_error(q->req, 503, "Redis is not connected");
		sil_free(q);
	}
}

void
api_silence_add(struct console *c, struct evhttp_request *req,
    const struct who *w, json_t *body)
{
	struct sil_req *q;
	struct silence s;
	const char *dur;
	char err[256];
	int64_t ms;

	memset(&s, 0, sizeof(s));
	s.rule = (char *)json_string_value(json_object_get(body, "rule"));
	s.queue = (char *)json_string_value(json_object_get(body, "queue"));
	s.agent = (char *)json_string_value(json_object_get(body, "agent"));
	s.customer = (char *)json_string_value(json_object_get(body,
	    "customer"));
	s.reason = (char *)json_string_value(json_object_get(body, "reason"));
	dur = json_string_value(json_object_get(body, "for"));
	if (dur == NULL || parse_duration_ms(dur, &ms) == -1 || ms <= 0) {
		api_error(req, 400, "\"for\" is a duration such as 2h");
		return;
	}
	if (s.reason == NULL || s.reason[0] == '\0') {
		api_error(req, 400, "a silence needs a \"reason\"");
		return;
	}
	s.by = (char *)w->user;
	s.starts_ms = now_ms();
	s.ends_ms = s.starts_ms + ms;
	snprintf(s.id, sizeof(s.id), "s-%" PRId64 "-%04lx", s.starts_ms,
	    random() & 0xffff);
	q = sil_new(c, req, w);
	if (silence_add(&q->set, &s, err, sizeof(err)) == -1) {
		api_error(req, 400, err);
		sil_free(q);
		return;
	}
	q->want = 1;	/* 201 */
	sil_write(q);
}

static void
one_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct sil_req *q = arg;
	redisReply *r = reply;
	struct silence *s;
	char err[256];
	int64_t now = now_ms();

	(void)ac;
	if (r == NULL) {
		api_error(q->req, 503, "Redis did not answer");
		sil_free(q);
		return;
	}
	if (r->type != REDIS_REPLY_STRING || silence_load(&q->set, q->id,
	    strlen(q->id), r->str, r->len, err, sizeof(err)) == -1) {
		api_error(q->req, 404, "no such silence");
		sil_free(q);
		return;
	}
	s = &q->set.v[0];
	if (!q->admin && (s->by == NULL || strcmp(s->by, q->user) != 0)) {
		api_error(q->req, 403, "only an admin expires the silences "
		    "of others");
		sil_free(q);
		return;
	}
	if (s->ends_ms > now) {
		s->ends_ms = now;
		if (s->starts_ms >= now)
			s->starts_ms = now - 1;
	}
	sil_write(q);
}

void
api_silence_expire(struct console *c, struct evhttp_request *req,
    const struct who *w, const char *id)
{
	struct sil_req *q;
	char key[600];
	const char *av[3];

	if (id[0] == '\0' || strlen(id) >= SILENCE_ID_MAX) {
		api_error(req, 404, "no such silence");
		return;
	}
	q = sil_new(c, req, w);
	snprintf(q->id, sizeof(q->id), "%s", id);
	snprintf(key, sizeof(key), "%ssilences", c->cf->state_prefix);
	av[0] = "HGET";
	av[1] = key;
	av[2] = id;
	if (console_cmd(c, one_cb, q, 3, av) == -1) {
		api_error(req, 503, "Redis is not connected");
		sil_free(q);
	}
}
