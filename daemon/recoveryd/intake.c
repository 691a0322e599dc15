/*
 * intake.c — POST /v1/events (intake.h): authorize, split the body into
 * events, validate each as the stream consumer will, and write them all
 * or none.
 *
 * Validation is the consumer's own: evt_from_fields() on exactly the
 * fields the entry will carry (one "json" field per JSON event, the
 * decoded pairs of a form), with the consumer's time bounds and the
 * current time as the entry's time. An event accepted here is therefore
 * valid when the consumer reads it (a "ts" near the past bound may, in
 * the milliseconds between, fall outside: it is then dead-lettered as any
 * producer's would be).
 *
 * Bodies are split into events in intake_body.c: a JSON event reaches
 * the stream byte for byte as it was sent.
 *
 * Writing: one event is one XADD; a batch is MULTI, an XADD per event,
 * EXEC, queued on the intake's own connection in one turn of the loop,
 * so that nothing of another request comes between them and Redis
 * applies the batch as one. The answer is sent from EXEC's reply: the
 * events are in the stream when it leaves. Requests waiting for Redis
 * sit on a list, oldest first; when the oldest has waited longer than
 * intake.request_timeout the connection is dropped (its callbacks then
 * answer 503), so a Redis that hangs never holds producers forever.
 */
#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "event.h"
#include "http.h"
#include "intake.h"
#include "intake_int.h"
#include "log.h"
#include "redis.h"
#include "state.h"
#include "util.h"

#define INTAKE_PATH		"/v1/events"
#define TOKENS_MAX		1024
#define TOKEN_LEN_MAX		512
#define INFLIGHT_MAX		4096	/* requests waiting for Redis */
#define CT_JSON			"application/json"

struct token {
	char	*s;
	size_t	 len;
};

struct ireq;
TAILQ_HEAD(ireqq, ireq);

struct intake {
	struct event_base	*base;
	struct http_listener	*l;
	struct rconn		*rc;
	const struct config	*(*get_config)(void *);
	void			*cfarg;
	struct stats		*st;
	struct token		*tokens;
	size_t			 ntokens;
	struct ireqq		 inflight;	/* oldest first */
	size_t			 ninflight;
	int64_t			 timeout_ms;
	struct event		*tick;		/* the Redis watchdog */
	struct evt		 ev;		/* reused for validation */
	const struct config	*skew_cf;	/* past_skew_ms is of this one */
	int64_t			 past_skew_ms;
	struct buf		 out;		/* reused for answers */
	struct buf		 errs;		/* a 400's per-event errors */
	struct buf		 warns;		/* a 202's per-event warnings */
};

struct ireq {
	TAILQ_ENTRY(ireq)	 link;
	struct intake		*in;
	struct evhttp_request	*req;
	int64_t			 started_ms;
	size_t			 refs;		/* callbacks to come, and ours */
	size_t			 n;		/* events */
	bool			 failed;	/* MULTI or an XADD refused */
	char			 why[256];	/* its error */
	char			*warns;		/* the 202's "warnings" items, or
						 * NULL */
};

/* mono_ms: a monotonic clock, for the Redis watchdog. */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- tokens -------------------------------------------------------------- */

static void
tokens_free(struct token *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		explicit_bzero(t[i].s, t[i].len);
		free(t[i].s);
	}
	free(t);
}

/* tokens_read: the tokens of path, one a line; -1 and err on error. */
static int
tokens_read(const char *path, struct token **out, size_t *nout, char *err,
    size_t errlen)
{
	FILE *fp;
	char *line = NULL, *s, *e;
	size_t cap = 0, n = 0, lineno = 0;
	ssize_t len;
	struct token *t = NULL;
	int rc = 0;

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "intake.tokens_file is not set");
		return -1;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "intake.tokens_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		e = line + len;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e == s || *s == '#')
			continue;
		if ((size_t)(e - s) > TOKEN_LEN_MAX || n == TOKENS_MAX) {
			/* The line is not quoted: it may be a token. */
			snprintf(err, errlen, "intake.tokens_file %s:%zu: %s",
			    path, lineno, n == TOKENS_MAX ? "more than 1024 "
			    "tokens" : "a token over 512 bytes");
			rc = -1;
			break;
		}
		t = xreallocarray(t, n + 1, sizeof(*t));
		t[n].len = (size_t)(e - s);
		t[n].s = xstrndup(s, t[n].len);
		n++;
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "intake.tokens_file %s: %s", path,
		    strerror(errno));
		rc = -1;
	}
	fclose(fp);
	if (line != NULL) {
		explicit_bzero(line, cap);
		free(line);
	}
	if (rc == -1) {
		tokens_free(t, n);
		return -1;
	}
	*out = t;
	*nout = n;
	return 0;
}

/*
 * token_ok: is s one of the tokens? Every token is compared over the
 * whole of the longer of the two, whatever matched before, so the time
 * taken says nothing of which bytes were right (only the count of
 * tokens, which is no secret). O(tokens * length).
 */
static bool
token_ok(const struct intake *in, const char *s, size_t len)
{
	volatile unsigned char any = 0;
	unsigned char d;
	size_t i, k, m;

	for (k = 0; k < in->ntokens; k++) {
		const struct token *t = &in->tokens[k];

		m = t->len > len ? t->len : len;
		d = t->len != len;
		for (i = 0; i < m; i++)
			d |= (unsigned char)((i < t->len ? t->s[i] : 0) ^
			    (i < len ? s[i] : 0));
		any |= (unsigned char)(d == 0);
	}
	return any != 0;
}

/* bearer: the token of an "Authorization: Bearer TOKEN" header. */
static const char *
bearer(struct evhttp_request *req, size_t *len)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(
	    req), "Authorization");
	const char *e;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	for (h += 7; *h == ' '; h++)
		;
	for (e = h + strlen(h); e > h && e[-1] == ' '; e--)
		;
	*len = (size_t)(e - h);
	return *len > 0 ? h : NULL;
}

/* --- answers ------------------------------------------------------------- */

static void
answer(struct intake *in, struct evhttp_request *req, int code,
    const char *reason, const char *body, size_t len)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);

	evhttp_add_header(hdr, "Content-Type", CT_JSON);
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	if (code == 503)
		evhttp_add_header(hdr, "Retry-After", "1");
	evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
	evhttp_send_reply(req, code, reason, NULL);
	stats_intake_answer(in->st, code);
}

/* json_str: s as a JSON string literal. */
static void
json_str(struct buf *b, const char *s)
{
	buf_json_string(b, s, strlen(s));
}

/* answer_error: {"error": msg} with code. */
static void
answer_error(struct intake *in, struct evhttp_request *req, int code,
    const char *reason, const char *msg)
{
	buf_reset(&in->out);
	buf_printf(&in->out, "{\"error\":");
	json_str(&in->out, msg);
	buf_printf(&in->out, "}\n");
	answer(in, req, code, reason, in->out.data, in->out.len);
}

static void
answer_unavailable(struct intake *in, struct evhttp_request *req,
    const char *msg)
{
	answer_error(in, req, 503, "Service Unavailable", msg);
}

/* --- Redis ---------------------------------------------------------------- */

/* ireq_unref: a callback of r (or its sender) is done with it. */
static void
ireq_unref(struct ireq *r)
{
	struct intake *in = r->in;

	if (--r->refs > 0)
		return;
	TAILQ_REMOVE(&in->inflight, r, link);
	in->ninflight--;
	free(r->warns);
	free(r);
}

/* step_cb: MULTI's and the queued XADDs' replies ("OK", "QUEUED"). */
static void
step_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ireq *r = priv;
	redisReply *rr = reply;

	(void)ac;
	if (rr != NULL && rr->type == REDIS_REPLY_ERROR && !r->failed) {
		r->failed = true;
		snprintf(r->why, sizeof(r->why), "%.*s", (int)rr->len,
		    rr->str);
	}
	ireq_unref(r);
}

/* ids_answer: 202 with the entry IDs of reply (a string, or EXEC's
 * array of strings); false when reply is not that. */
static bool
ids_answer(struct ireq *r, const redisReply *rr)
{
	struct intake *in = r->in;
	size_t i, n;
	const redisReply *id;

	n = rr->type == REDIS_REPLY_ARRAY ? rr->elements : 1;
	if (n != r->n)
		return false;
	for (i = 0; i < n; i++) {
		id = rr->type == REDIS_REPLY_ARRAY ? rr->element[i] : rr;
		if (id->type != REDIS_REPLY_STRING)
			return false;
	}
	buf_reset(&in->out);
	buf_printf(&in->out, "{\"accepted\":%zu,\"ids\":[", n);
	for (i = 0; i < n; i++) {
		id = rr->type == REDIS_REPLY_ARRAY ? rr->element[i] : rr;
		/* An entry ID is digits and a dash. */
		buf_printf(&in->out, "%s\"%.*s\"", i > 0 ? "," : "",
		    (int)id->len, id->str);
	}
	buf_printf(&in->out, "]");
	if (r->warns != NULL)
		buf_printf(&in->out, ",\"warnings\":[%s]", r->warns);
	buf_printf(&in->out, "}\n");
	in->st->intake_events += n;
	answer(in, r->req, 202, "Accepted", in->out.data, in->out.len);
	return true;
}

/* last_cb: EXEC's reply (a batch) or XADD's (one event): answer. */
static void
last_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ireq *r = priv;
	struct intake *in = r->in;
	redisReply *rr = reply;
	char msg[400];

	(void)ac;
	if (r->req == NULL)
		;	/* answered already (write_events) */
	else if (rr == NULL) {
		answer_unavailable(in, r->req, "the connection to Redis was "
		    "lost: the events may or may not have been written");
	} else if (rr->type == REDIS_REPLY_ERROR || r->failed) {
		snprintf(msg, sizeof(msg), "Redis refused the events: %s",
		    r->failed ? r->why : rr->str);
		log_warnx("intake: %s", msg);
		answer_unavailable(in, r->req, msg);
	} else if (!ids_answer(r, rr)) {
		log_warnx("intake: unexpected reply to the write of %zu "
		    "events (type %d)", r->n, rr->type);
		answer_unavailable(in, r->req, "unexpected reply from Redis");
	}
	ireq_unref(r);
}

static void
discard_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	(void)ac;
	(void)reply;
	(void)priv;
}

/*
 * write_events: the n entries (argument vectors in a, as "XADD" stream
 * "*" fields...; lens per argument, starts[k] the first argument of
 * entry k) to Redis. The answer follows from the replies.
 */
static void
write_events(struct intake *in, struct evhttp_request *req,
    const char **av, const size_t *al, const size_t *starts, size_t n)
{
	static const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" },
	    *discard[] = { "DISCARD" };
	struct ireq *r;
	size_t k;
	bool sent = true;

	if (!rconn_ready(in->rc)) {
		answer_unavailable(in, req, "Redis is not reachable; try "
		    "again");
		return;
	}
	if (in->ninflight >= INFLIGHT_MAX) {
		answer_unavailable(in, req, "too many requests waiting for "
		    "Redis; try again");
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->in = in;
	r->req = req;
	r->n = n;
	r->refs = 1;
	r->started_ms = mono_ms();
	/* validate()'s warnings of this request, for its answer */
	if (in->warns.len > 0)
		r->warns = xstrndup(in->warns.data, in->warns.len);
	TAILQ_INSERT_TAIL(&in->inflight, r, link);
	in->ninflight++;
	if (n == 1) {
		if (rconn_cmd(in->rc, last_cb, r, (int)(starts[1] - starts[0]),
		    av, al) == 0)
			r->refs++;
		else
			sent = false;
	} else if (rconn_cmd(in->rc, step_cb, r, 1, multi, NULL) == 0) {
		r->refs++;
		for (k = 0; k < n && sent; k++) {
			if (rconn_cmd(in->rc, step_cb, r,
			    (int)(starts[k + 1] - starts[k]), av + starts[k],
			    al + starts[k]) == 0)
				r->refs++;
			else
				sent = false;
		}
		if (sent && rconn_cmd(in->rc, last_cb, r, 1, exec, NULL) == 0)
			r->refs++;
		else {
			/* Without EXEC nothing of the MULTI is applied. */
			sent = false;
			(void)rconn_cmd(in->rc, discard_cb, NULL, 1, discard,
			    NULL);
		}
	} else
		sent = false;
	if (!sent) {
		r->req = NULL;
		answer_unavailable(in, req, "Redis is not reachable; try "
		    "again");
	}
	ireq_unref(r);
}

/* tick_cb: drop a connection that left the oldest request unanswered. */
static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct intake *in = arg;
	struct ireq *r = TAILQ_FIRST(&in->inflight);

	(void)fd;
	(void)ev;
	if (r != NULL && mono_ms() - r->started_ms > in->timeout_ms) {
		log_warnx("intake: Redis has not answered a write for %lld "
		    "ms (intake.request_timeout); reconnecting",
		    (long long)(mono_ms() - r->started_ms));
		rconn_drop(in->rc, "no answer within intake.request_timeout");
	}
}

static void
conn_state(struct rconn *rc, bool up, void *arg)
{
	(void)rc;
	(void)arg;
	if (up)
		log_info("intake: connected to Redis");
}

/*
 * validate: every entry of e, as the consumer validates stream entries.
 * Returns how many are invalid, their errors appended to in->errs as
 * JSON objects.
 */
static size_t
validate(struct intake *in, const struct config *cf, struct entries *e)
{
	char id[40], err[512];
	size_t k, bad = 0, s, nf;
	enum event_err ee;

	/* The entry's time is now: the reference of its "ts" bounds. */
	snprintf(id, sizeof(id), "%lld-0", (long long)(now_wall() * 1000));
	/* state_past_skew_ms walks the rules: once a configuration. */
	if (in->skew_cf != cf) {
		in->skew_cf = cf;
		in->past_skew_ms = state_past_skew_ms(cf);
	}
	evt_set_clock(&in->ev, cf->max_future_skew_ms, in->past_skew_ms, -1,
	    NULL);
	buf_reset(&in->errs);
	buf_reset(&in->warns);
	for (k = 0; k < e->nev; k++) {
		s = e->starts[k] + 3;
		nf = (e->starts[k + 1] - s) / 2;
		/* names and values alternate: strided views */
		{
			const char *names[EVENT_MAX_FIELDS + 1];
			const char *vals[EVENT_MAX_FIELDS + 1];
			size_t nl[EVENT_MAX_FIELDS + 1];
			size_t vl[EVENT_MAX_FIELDS + 1];
			size_t f;

			if (nf > EVENT_MAX_FIELDS + 1)
				nf = EVENT_MAX_FIELDS + 1;
			for (f = 0; f < nf; f++) {
				names[f] = e->av[s + 2 * f];
				nl[f] = e->al[s + 2 * f];
				vals[f] = e->av[s + 2 * f + 1];
				vl[f] = e->al[s + 2 * f + 1];
			}
			ee = evt_from_fields(&in->ev, id, names, nl, vals, vl,
			    nf, err, sizeof(err));
		}
		if (ee == EVERR_NONE) {
			/* taken, as the daemon takes it, but say so */
			if (evt_type_warning(in->ev.type, err, sizeof(err))) {
				buf_printf(&in->warns, "%s{\"index\":%zu,"
				    "\"warning\":", in->warns.len > 0 ? "," :
				    "", k);
				json_str(&in->warns, err);
				buf_putc(&in->warns, '}');
			}
			continue;
		}
		in->st->intake_invalid++;
		buf_printf(&in->errs, "%s{\"index\":%zu,\"reason\":\"%s\","
		    "\"error\":", bad > 0 ? "," : "", k, evt_err_reason(ee));
		json_str(&in->errs, err);
		buf_printf(&in->errs, "}");
		bad++;
	}
	evt_trim(&in->ev, 64 * 1024);
	return bad;
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct intake *in = arg;
	const struct config *cf = in->get_config(in->cfarg);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	const char *tok, *ct;
	struct evbuffer *body;
	struct entries e;
	char msg[512];
	size_t toklen = 0, len, bad;
	unsigned char *data;
	int code = 400, rc;

	if (path == NULL || strcmp(path, INTAKE_PATH) != 0) {
		answer_error(in, req, 404, "Not Found", "not found; events go "
		    "to POST " INTAKE_PATH);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST");
		answer_error(in, req, 405, "Method Not Allowed", "method not "
		    "allowed; use POST");
		return;
	}
	if ((tok = bearer(req, &toklen)) == NULL ||
	    !token_ok(in, tok, toklen)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer realm=\"recoveryd\"");
		answer_error(in, req, 401, "Unauthorized", tok == NULL ?
		    "missing \"Authorization: Bearer TOKEN\"" :
		    "unknown token");
		return;
	}
	ct = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (ct == NULL || (!intake_media_is(ct, CT_JSON) &&
	    !intake_media_is(ct, "application/x-www-form-urlencoded"))) {
		answer_error(in, req, 415, "Unsupported Media Type", "the "
		    "body must be application/json or "
		    "application/x-www-form-urlencoded");
		return;
	}
	body = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(body);
	if ((data = evbuffer_pullup(body, -1)) == NULL && len > 0) {
		answer_error(in, req, 500, "Internal Server Error", "out of "
		    "memory");
		return;
	}
	memset(&e, 0, sizeof(e));
	arena_init(&e.ar);
	msg[0] = '\0';
	if (intake_media_is(ct, CT_JSON))
		rc = intake_json_events((const char *)data, len, cf->input_stream,
		    cf->intake_max_events, &e, &code, msg, sizeof(msg));
	else
		rc = intake_form_event((const char *)data, len, cf->input_stream, &e,
		    msg, sizeof(msg));
	if (rc == -1) {
		answer_error(in, req, code, code == 413 ? "Payload Too Large" :
		    "Bad Request", msg);
		intake_ent_free(&e);
		return;
	}
	if ((bad = validate(in, cf, &e)) > 0) {
		buf_reset(&in->out);
		buf_printf(&in->out, "{\"error\":\"%zu of %zu events are "
		    "invalid; nothing was written\",\"events\":[", bad, e.nev);
		buf_append(&in->out, in->errs.data, in->errs.len);
		buf_printf(&in->out, "]}\n");
		answer(in, req, 400, "Bad Request", in->out.data,
		    in->out.len);
		intake_ent_free(&e);
		return;
	}
	/* hiredis copies the arguments: the body may go after this. */
	write_events(in, req, e.av, e.al, e.starts, e.nev);
	intake_ent_free(&e);
}

/* --- life cycle ----------------------------------------------------------- */

struct intake *
intake_new(struct event_base *base, const struct config *cf,
    const struct config *(*get_config)(void *), void *arg, struct stats *st,
    char *err, size_t errlen)
{
	struct intake *in;
	struct http_limits lim;
	struct redis_target t;
	struct timeval tv = { 1, 0 };
	char rerr[256];

	in = xcalloc(1, sizeof(*in));
	in->base = base;
	in->get_config = get_config;
	in->cfarg = arg;
	in->st = st;
	in->timeout_ms = cf->intake_request_timeout_ms;
	TAILQ_INIT(&in->inflight);
	evt_init(&in->ev);
	buf_init(&in->out);
	buf_init(&in->errs);
	buf_init(&in->warns);
	if (tokens_read(cf->intake_tokens_file, &in->tokens, &in->ntokens,
	    err, errlen) == -1)
		goto fail;
	if (redis_url_parse(cf->redis_url, &t, rerr, sizeof(rerr)) == -1) {
		snprintf(err, errlen, "redis.url: %s", rerr);
		goto fail;
	}
	memset(&lim, 0, sizeof(lim));
	lim.max_conns = cf->intake_max_conns;
	lim.deadline_ms = cf->intake_request_timeout_ms;
	lim.max_body = (size_t)cf->intake_max_body;
	/* intake.listen in messages, not http.listen */
	if ((in->l = http_listener_new(base, cf->intake_listen, &lim, handle,
	    in, rerr, sizeof(rerr))) == NULL) {
		snprintf(err, errlen, "intake%s", strncmp(rerr, "http", 4) ==
		    0 ? rerr + 4 : rerr);
		goto fail;
	}
	in->rc = rconn_new(base, &t, "intake", conn_state, in);
	rconn_start(in->rc);
	in->tick = event_new(base, -1, EV_PERSIST, tick_cb, in);
	evtimer_add(in->tick, &tv);
	if (in->ntokens == 0)
		log_warnx("intake: %s holds no token: every request is "
		    "refused (401)", cf->intake_tokens_file);
	return in;
fail:
	intake_free(in);
	return NULL;
}

int
intake_reload(struct intake *in, const struct config *cf, char *err,
    size_t errlen)
{
	struct token *t;
	size_t n;

	if (tokens_read(cf->intake_tokens_file, &t, &n, err, errlen) == -1)
		return -1;
	tokens_free(in->tokens, in->ntokens);
	in->tokens = t;
	in->ntokens = n;
	in->skew_cf = NULL;	/* a new configuration: its rules' bound */
	return 0;
}

size_t
intake_ntokens(const struct intake *in)
{
	return in->ntokens;
}

void
intake_free(struct intake *in)
{
	if (in == NULL)
		return;
	if (in->tick != NULL)
		event_free(in->tick);
	/* Requests waiting for Redis are answered 503 by their callbacks
	 * while the listener is still there. */
	if (in->rc != NULL)
		rconn_free(in->rc);
	http_listener_free(in->l);
	tokens_free(in->tokens, in->ntokens);
	evt_free(&in->ev);
	buf_free(&in->out);
	buf_free(&in->errs);
	buf_free(&in->warns);
	free(in);
}
