/*
 * cases.c — GET /api/cases and GET /api/cases/ID (README, "Console"),
 * asynchronous on the console's connection.
 *
 * GET /api/cases of the open cases (state open, acknowledged, reopened)
 * is answered from the console's copy of them (mirror.c); of resolved or
 * all cases it reads the index P.."cases" newest first, then each case's
 * hash, pipelined (case_fetch): sorted by age without a filter only the
 * page's members, otherwise up to CASES_SCAN_MAX of the newest. Both
 * filter and sort with caseview.c, as `recoveryctl cases` does.
 * GET /api/cases/ID reads the hash, the history, the pending steps (the
 * schedule P.."escalations", as `recoveryctl show`) and the customer's CRM
 * hash (enrich.customer_key).
 */
#include <sys/queue.h>

#include <errno.h>
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
#include "log.h"

#define CASES_SCAN_MAX	100000
#define CASES_LIMIT_MAX	1000

static int64_t
now_ms(void)
{
	return (int64_t)(now_wall() * 1000.0);
}

/* A case hash copied out of a reply (replies are freed after their
 * callback): n field/value pairs in the request's arena. */
struct chash {
	const char	 *id;
	const char	**kv;
	size_t		  n;
	struct case_key	  key;		/* set before sorting */
};

static const char *
chash_get(const void *p, const char *field)
{
	const struct chash *h = p;
	size_t i;

	for (i = 0; i + 1 < 2 * h->n; i += 2)
		if (strcmp(h->kv[i], field) == 0)
			return h->kv[i + 1];
	return NULL;
}

static void
chash_copy(struct arena *ar, struct chash *h, const char *id,
    const redisReply *r)
{
	size_t i;

	h->id = arena_strndup(ar, id, strlen(id));
	h->n = r->elements / 2;
	h->kv = arena_alloc(ar, (r->elements + 1) * sizeof(*h->kv));
	for (i = 0; i < r->elements; i++)
		h->kv[i] = arena_strndup(ar, r->element[i]->str,
		    r->element[i]->len);
}

/* hash_object: the fields of a valid HGETALL reply into o. */
static void
hash_object(json_t *o, const redisReply *r)
{
	size_t i;

	for (i = 0; i + 1 < r->elements; i += 2)
		json_object_set_new(o, r->element[i]->str,
		    json_stringn(r->element[i + 1]->str,
		    r->element[i + 1]->len));
}

/* --- GET /api/cases ------------------------------------------------------- */

struct list_req {
	struct console		*c;
	struct evhttp_request	*req;
	struct arena		 ar;
	struct case_filter	 f;
	bool			 by_age;
	bool			 from_mirror;
	size_t			 page, limit, skip;
	struct chash		*rows;
	size_t			 nrows;
	bool			 failed;
	struct evkeyvalq	 q;
};

static void
list_free(struct list_req *l)
{
	evhttp_clear_headers(&l->q);
	arena_free(&l->ar);
	free(l->rows);
	free(l);
}

static int
row_cmp(const void *a, const void *b)
{
	const struct chash *x = a, *y = b;

	return case_key_cmp(&x->key, &y->key);
}

/* age_cmp: newest first, as ZREVRANGE of the index (opening time, then
 * the ID backwards). */
static int
age_cmp(const void *a, const void *b)
{
	const struct chash *x = a, *y = b;

	if (x->key.opened_ms != y->key.opened_ms)
		return (y->key.opened_ms > x->key.opened_ms) -
		    (y->key.opened_ms < x->key.opened_ms);
	return strcmp(y->id, x->id);
}

/* sort_rows: by severity or by age, each row's key read once (unless
 * known: the mirror keeps them). */
static void
sort_rows(struct chash *rows, size_t n, bool by_age, bool keyed)
{
	struct caseview cv;
	size_t i;

	for (i = 0; !keyed && i < n; i++) {
		cv.id = rows[i].id;
		cv.h = &rows[i];
		cv.get = chash_get;
		case_key_of(&cv, &rows[i].key);
	}
	qsort(rows, n, sizeof(*rows), by_age ? age_cmp : row_cmp);
}

static void
list_answer(struct list_req *l)
{
	json_t *o, *arr;
	size_t i, first, n;
	int64_t now = now_ms();

	if (l->failed) {
		api_error(l->req, 503, "Redis did not answer");
		list_free(l);
		return;
	}
	if (!l->by_age)
		sort_rows(l->rows, l->nrows, false, l->from_mirror);
	/* by age from Redis the page was read alone, unless filtered */
	first = l->by_age && !case_filter_any(&l->f) && !l->from_mirror ? 0 :
	    l->skip;
	arr = json_array();
	for (i = first, n = 0; i < l->nrows && n < l->limit; i++, n++) {
		struct caseview cv = { l->rows[i].id, &l->rows[i], chash_get };
		json_t *e = json_object();
		size_t k;

		for (k = 0; k < l->rows[i].n; k++)
			json_object_set_new(e, l->rows[i].kv[2 * k],
			    json_string(l->rows[i].kv[2 * k + 1]));
		if (json_object_get(e, "case_id") == NULL)
			json_object_set_new(e, "case_id",
			    json_string(l->rows[i].id));
		json_object_set_new(e, "overdue",
		    json_boolean(case_overdue(&cv, now)));
		json_array_append_new(arr, e);
	}
	o = json_object();
	json_object_set_new(o, "cases", arr);
	json_object_set_new(o, "page", json_integer((json_int_t)l->page));
	json_object_set_new(o, "limit", json_integer((json_int_t)l->limit));
	if (l->from_mirror || !(l->by_age && !case_filter_any(&l->f)))
		json_object_set_new(o, "total",
		    json_integer((json_int_t)l->nrows));
	api_json(l->req, 200, o);
	list_free(l);
}

static void
list_each(void *arg, size_t i, const char *id, const redisReply *r)
{
	struct list_req *l = arg;
	struct caseview cv;
	struct chash h;

	(void)i;
	if (r == NULL || r->elements == 0)
		return;		/* lost, or expired: its index member stays */
	chash_copy(&l->ar, &h, id, r);
	cv.id = h.id;
	cv.h = &h;
	cv.get = chash_get;
	if (case_match(&l->f, &cv))
		l->rows[l->nrows++] = h;
}

static void
list_done(void *arg, bool failed)
{
	struct list_req *l = arg;

	l->failed = l->failed || failed;
	list_answer(l);
}

static void
list_ids_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct list_req *l = arg;
	redisReply *r = reply;

	(void)ac;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		l->failed = true;
		list_answer(l);
		return;
	}
	l->rows = xcalloc(r->elements + 1, sizeof(*l->rows));
	case_fetch_reply(l->c, r, list_each, list_done, l);
}

static const char *
qget(struct list_req *l, const char *k)
{
	const char *v = evhttp_find_header(&l->q, k);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static bool
number(const char *s, size_t max, size_t *out)
{
	char *end;
	unsigned long v;

	if (s == NULL)
		return true;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return false;
	*out = v;
	return true;
}

/* from_mirror: one open case of the mirror, kept if it matches. */
static void
from_mirror(void *arg, const char *id, const char *const *kv, size_t n,
    const struct case_key *key)
{
	struct list_req *l = arg;
	struct chash h;
	struct caseview cv = { id, &h, chash_get };

	h.id = id;
	h.kv = (const char **)kv;
	h.n = n;
	h.key = *key;
	if (case_match(&l->f, &cv))
		l->rows[l->nrows++] = h;
}

void
cases_list(struct console *c, struct evhttp_request *req,
    const struct who *w)
{
	struct list_req *l = xcalloc(1, sizeof(*l));
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *query = evhttp_uri_get_query(u), *state, *sort, *v;
	char key[600], start[32], stop[32];
	const char *av[4];

	l->c = c;
	l->req = req;
	arena_init(&l->ar);
	TAILQ_INIT(&l->q);
	if (query != NULL && evhttp_parse_query_str(query, &l->q) == -1) {
		api_error(req, 400, "bad query string");
		list_free(l);
		return;
	}
	state = qget(l, "state") != NULL ? qget(l, "state") : "open";
	sort = qget(l, "sort") != NULL ? qget(l, "sort") : "severity";
	l->page = 1;
	l->limit = 50;
	l->f.severity = qget(l, "severity");
	l->f.rule = qget(l, "rule");
	l->f.queue = qget(l, "queue");
	l->f.agent = qget(l, "agent");
	l->f.owner = qget(l, "owner");
	l->f.q = qget(l, "q");
	l->f.now_ms = now_ms();
	if (l->f.owner != NULL && strcmp(l->f.owner, "mine") == 0)
		l->f.owner = arena_strndup(&l->ar, w->user, strlen(w->user));
	if ((v = qget(l, "overdue")) != NULL)
		l->f.overdue = strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
	if (strcmp(state, "acknowledged") == 0 ||
	    strcmp(state, "resolved") == 0 || strcmp(state, "reopened") == 0)
		l->f.state = state;
	else if (strcmp(state, "open") != 0 && strcmp(state, "all") != 0) {
		api_error(req, 400, "state is open, acknowledged, reopened, "
		    "resolved or all");
		list_free(l);
		return;
	}
	if (l->f.severity != NULL && severity_parse(l->f.severity) == 0) {
		api_error(req, 400, "unknown severity");
		list_free(l);
		return;
	}
	if (strcmp(sort, "age") != 0 && strcmp(sort, "severity") != 0) {
		api_error(req, 400, "sort is age or severity");
		list_free(l);
		return;
	}
	if (!number(qget(l, "page"), CASES_SCAN_MAX, &l->page) ||
	    !number(qget(l, "limit"), CASES_LIMIT_MAX, &l->limit)) {
		api_error(req, 400, "page and limit are numbers (limit at "
		    "most 1000)");
		list_free(l);
		return;
	}
	l->by_age = strcmp(sort, "age") == 0;
	l->skip = (l->page - 1) * l->limit;
	if (strcmp(state, "all") != 0 && strcmp(state, "resolved") != 0 &&
	    c->mirror != NULL) {
		/* the open cases: from memory (mirror.c) */
		l->rows = xcalloc(mirror_size(c->mirror) + 1,
		    sizeof(*l->rows));
		if (mirror_foreach(c->mirror, from_mirror, l) == 0) {
			if (l->by_age)
				sort_rows(l->rows, l->nrows, true, true);
			l->from_mirror = true;
			list_answer(l);
			return;
		}
		free(l->rows);
		l->rows = NULL;
	}
	snprintf(key, sizeof(key), "%s%s", c->cf->state_prefix,
	    strcmp(state, "all") == 0 || strcmp(state, "resolved") == 0 ?
	    "cases" : "cases:open");
	if (l->by_age && !case_filter_any(&l->f)) {
		snprintf(start, sizeof(start), "%zu", l->skip);
		snprintf(stop, sizeof(stop), "%zu", l->skip + l->limit - 1);
	} else {
		snprintf(start, sizeof(start), "0");
		snprintf(stop, sizeof(stop), "%d", CASES_SCAN_MAX - 1);
	}
	av[0] = "ZREVRANGE";
	av[1] = key;
	av[2] = start;
	av[3] = stop;
	if (console_cmd(c, list_ids_cb, l, 4, av) == -1) {
		api_error(req, 503, "Redis is not connected");
		list_free(l);
	}
}

/* --- GET /api/cases/ID ---------------------------------------------------- */

struct show_req {
	struct console		*c;
	struct evhttp_request	*req;
	char			 id[ENGINE_ID_MAX + 1];
	json_t			*o;		/* the answer being built */
	json_t			*opening;	/* the EVENT key's fields */
	int			 left;		/* replies to come */
	bool			 failed, missing;
};

static void
show_answer(struct show_req *s)
{
	json_t *h = json_object_get(s->o, "history"), *e;
	const char *entry = json_string_value(json_object_get(s->o, "entry"));
	size_t i;

	json_array_foreach(h, i, e)
		caseview_history_entry(e, entry, s->opening);
	json_decref(s->opening);
	if (s->failed)
		api_error(s->req, 503, "Redis did not answer");
	else if (s->missing)
		api_error(s->req, 404, "no such case");
	else {
		api_json(s->req, 200, s->o);
		s->o = NULL;
	}
	json_decref(s->o);
	free(s);
}

static void
show_done(struct show_req *s)
{
	if (--s->left == 0)
		show_answer(s);
}

static void
crm_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct show_req *s = arg;
	redisReply *r = reply;
	json_t *crm = json_object();

	(void)ac;
	if (r != NULL && reply_is_hash(r))
		hash_object(crm, r);
	json_object_set_new(s->o, "customer", crm);
	show_done(s);
}

/* crm_key: enrich.customer_key with {customer_id} replaced. */
static bool
crm_key(const struct config *cf, const char *cust, char *out, size_t len)
{
	const char *k = cf->enrich_customer_key, *p;
	int n;

	if (k == NULL || k[0] == '\0' || cust == NULL || cust[0] == '\0' ||
	    (p = strstr(k, "{customer_id}")) == NULL)
		return false;
	n = snprintf(out, len, "%.*s%s%s", (int)(p - k), k, cust, p + 13);
	return n > 0 && (size_t)n < len && strchr(out, '{') == NULL;
}

static void
hash_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct show_req *s = arg;
	redisReply *r = reply;
	char key[600];
	const char *av[2], *cust;
	struct caseview cv;

	(void)ac;
	if (r == NULL) {
		s->failed = true;
	} else if (!reply_is_hash(r) || r->elements == 0) {
		s->missing = true;
	} else {
		hash_object(s->o, r);
		cust = json_string_value(json_object_get(s->o, "customer_id"));
		cv.id = s->id;
		cv.h = r;
		cv.get = reply_get;
		json_object_set_new(s->o, "overdue",
		    json_boolean(case_overdue(&cv, now_ms())));
		if (crm_key(s->c->cf, cust, key, sizeof(key))) {
			av[0] = "HGETALL";
			av[1] = key;
			if (console_cmd(s->c, crm_cb, s, 2, av) == 0)
				s->left++;
		}
	}
	show_done(s);
}

static void
history_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct show_req *s = arg;
	redisReply *r = reply;
	json_t *h = json_array(), *e;
	json_error_t je;
	size_t i;

	(void)ac;
	if (r == NULL)
		s->failed = true;
	else if (r->type == REDIS_REPLY_ARRAY)
		for (i = 0; i < r->elements; i++)
			if (r->element[i]->type == REDIS_REPLY_STRING &&
			    (e = json_loadb(r->element[i]->str,
			    r->element[i]->len, 0, &je)) != NULL)
				json_array_append_new(h, e);
	json_object_set_new(s->o, "history", h);
	show_done(s);
}

/* event_cb: the opening event's fields (caseview_history_entry). */
static void
event_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct show_req *s = arg;
	redisReply *r = reply;
	json_error_t je;

	(void)ac;
	if (r == NULL)
		s->failed = true;
	else if (r->type == REDIS_REPLY_STRING)
		s->opening = json_loadb(r->str, r->len, 0, &je);
	show_done(s);
}

/* steps_cb: the case's members "ID|rule|step" of the schedule (not
 * "ID|~..." outcome timers), with their channels from the rules. */
static void
steps_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct show_req *s = arg;
	const struct config *cf = s->c->cf;
	redisReply *r = reply;
	json_t *steps = json_array(), *e, *ch;
	size_t i, j, idl = strlen(s->id), k;
	char rule[256], due[64];
	const struct rule *ru;
	const char *m, *bar;
	int64_t due_ms, now = now_ms();

	(void)ac;
	if (r == NULL)
		s->failed = true;
	else if (r->type == REDIS_REPLY_ARRAY)
		for (i = 0; i + 1 < r->elements; i += 2) {
			m = r->element[i]->str;
			if (r->element[i]->type != REDIS_REPLY_STRING ||
			    r->element[i + 1]->type != REDIS_REPLY_STRING ||
			    strncmp(m, s->id, idl) != 0 || m[idl] != '|' ||
			    m[idl + 1] == '~' ||
			    (bar = strrchr(m + idl + 1, '|')) == NULL ||
			    (size_t)(bar - m - idl - 1) >= sizeof(rule))
				continue;
			snprintf(rule, sizeof(rule), "%.*s",
			    (int)(bar - m - idl - 1), m + idl + 1);
			due_ms = (int64_t)strtod(r->element[i + 1]->str, NULL);
			format_rfc3339((double)due_ms / 1000.0, due,
			    sizeof(due));
			k = (size_t)strtoul(bar + 1, NULL, 10);
			ch = json_array();
			if ((ru = config_rule(cf, rule)) != NULL && k >= 1 &&
			    k <= ru->nescalate)
				for (j = 0; j < ru->escalate[k - 1].n.nchans;
				    j++) {
					const struct notify *n =
					    &ru->escalate[k - 1].n;

					json_array_append_new(ch, json_string(
					    cf->channels[n->chans[j]].name));
				}
			e = json_object();
			json_object_set_new(e, "rule", json_string(rule));
			json_object_set_new(e, "step",
			    json_integer((json_int_t)k));
			json_object_set_new(e, "due_at", json_string(due));
			json_object_set_new(e, "overdue",
			    json_boolean(due_ms <= now));
			json_object_set_new(e, "channels", ch);
			json_array_append_new(steps, e);
		}
	json_object_set_new(s->o, "steps", steps);
	show_done(s);
}

void
case_get(struct console *c, struct evhttp_request *req, const char *id)
{
	struct show_req *s = xcalloc(1, sizeof(*s));
	char k1[600], k2[600], k3[600], k4[600];
	const char *av[5];
	int ok = 0;

	s->c = c;
	s->req = req;
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->o = json_object();
	s->left = 4;
	snprintf(k1, sizeof(k1), "%scase:%s", c->cf->state_prefix, id);
	snprintf(k2, sizeof(k2), "%scase:%s:history", c->cf->state_prefix, id);
	snprintf(k3, sizeof(k3), "%sescalations", c->cf->state_prefix);
	snprintf(k4, sizeof(k4), "%scase:%s:event", c->cf->state_prefix, id);
	av[0] = "HGETALL";
	av[1] = k1;
	ok |= console_cmd(c, hash_cb, s, 2, av);
	if (ok == 0) {
		av[0] = "GET";
		av[1] = k4;
		ok |= console_cmd(c, event_cb, s, 2, av);
	}
	if (ok == 0) {
		av[0] = "LRANGE";
		av[1] = k2;
		av[2] = "0";
		av[3] = "-1";
		ok |= console_cmd(c, history_cb, s, 4, av);
	}
	if (ok == 0) {
		av[0] = "ZRANGE";
		av[1] = k3;
		av[2] = "0";
		av[3] = "-1";
		av[4] = "WITHSCORES";
		ok |= console_cmd(c, steps_cb, s, 5, av);
	}
	if (ok != 0) {
		/* not connected: nothing was queued (rconn_cmd fails for
		 * all or, when lost between calls, its callbacks run) */
		if (s->left == 4) {
			api_error(req, 503, "Redis is not connected");
			json_decref(s->o);
			free(s);
		}
	}
}

