/*
 * actions.c — POST /api/cases/ID/{ack,assign,note,resolve,reopen}: a
 * change is a command entry added to P.."commands" (command.h), checked
 * with command_parse first, "by" always the session's user, exactly as
 * `recoveryctl ack` sends it; the owning recoveryd applies it and pushes
 * its answer to the list P.."reply:TOKEN", which a timer polls (LPOP,
 * every POLL_MS) until console.command_timeout (503: the command stays
 * queued). The answer is held until the console's copy of the open
 * cases has read the case again (mirror.c), so that the page's next
 * GET /api/cases shows the change. At most PENDING_MAX commands wait at
 * once (503 beyond).
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
#include "log.h"

#define PENDING_MAX	256
#define POLL_MS		20

static int64_t
now_ms(void)
{
	return (int64_t)(now_wall() * 1000.0);
}

struct pending {
	TAILQ_ENTRY(pending)	 link;
	struct console		*c;
	struct evhttp_request	*req;
	char			 key[600];	/* P.."reply:"..token */
	char			 id[ENGINE_ID_MAX + 1];
	int64_t			 deadline_ms;
	bool			 asked;		/* an LPOP in flight */
	bool			 done;
};
TAILQ_HEAD(pendq, pending);
static struct pendq pendq = TAILQ_HEAD_INITIALIZER(pendq);

static void
pending_drop(struct console *c, struct pending *p)
{
	TAILQ_REMOVE(&pendq, p, link);
	c->npending--;
	free(p);
}

/* answer: the owner's JSON answer as the HTTP answer. */
static void
answer(struct evhttp_request *req, const char *text, size_t len)
{
	json_error_t je;
	json_t *a = json_loadb(text, len, 0, &je);
	const char *code;
	int status = 200;

	if (a == NULL || !json_is_object(a)) {
		json_decref(a);
		api_error(req, 502, "the owner's answer is not JSON");
		return;
	}
	if (!json_is_true(json_object_get(a, "ok"))) {
		code = json_string_value(json_object_get(a, "code"));
		code = code != NULL ? code : "";
		if (strcmp(code, "nocase") == 0)
			status = 404;
		else if (strcmp(code, "invalid") == 0 ||
		    strcmp(code, "code") == 0)
			status = 400;
		else
			status = 409;
	}
	api_json(req, status, a);
}

/* An answer, held until the mirror has read its case again, so that a
 * page reading the queue after the answer sees the change. */
struct held {
	struct evhttp_request	*req;
	size_t			 len;
	char			 text[];
};

static void
held_done(void *arg)
{
	struct held *h = arg;

	answer(h->req, h->text, h->len);
	free(h);
}

static void
lpop_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct pending *p = arg;
	redisReply *r = reply;
	struct held *h;

	(void)ac;
	p->asked = false;
	if (r != NULL && r->type == REDIS_REPLY_STRING) {
		h = xmalloc(sizeof(*h) + r->len + 1);
		h->req = p->req;
		h->len = r->len;
		memcpy(h->text, r->str, r->len);
		h->text[r->len] = '\0';
		mirror_changed(p->c->mirror, p->id, strlen(p->id), held_done,
		    h);
		p->done = true;
	}
	if (p->done)
		pending_drop(p->c, p);
}

static void
poll_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct console *c = arg;
	struct pending *p, *next;
	struct timeval tv = { 0, POLL_MS * 1000 };
	const char *av[2];
	int64_t now = now_ms();

	(void)fd;
	(void)ev;
	for (p = TAILQ_FIRST(&pendq); p != NULL; p = next) {
		next = TAILQ_NEXT(p, link);
		if (p->asked)
			continue;
		if (now >= p->deadline_ms) {
			api_error(p->req, 503, "no recoveryd answered in time "
			    "(is one running?); the command stays queued and "
			    "is applied when the owner reads it");
			pending_drop(c, p);
			continue;
		}
		av[0] = "LPOP";
		av[1] = p->key;
		if (console_cmd(c, lpop_cb, p, 2, av) == 0)
			p->asked = true;
	}
	if (!TAILQ_EMPTY(&pendq))
		evtimer_add(c->poll, &tv);
}

void
pending_start(struct console *c)
{
	c->poll = evtimer_new(c->base, poll_cb, c);
}

void
pending_free(struct console *c)
{
	struct pending *p;

	/* after rconn_free: no LPOP or XADD is in flight any more */
	while ((p = TAILQ_FIRST(&pendq)) != NULL) {
		api_error(p->req, 503, "shutting down");
		pending_drop(c, p);
	}
	if (c->poll != NULL)
		event_free(c->poll);
}

static void
xadd_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct pending *p = arg;
	redisReply *r = reply;
	struct timeval tv = { 0, POLL_MS * 1000 };

	(void)ac;
	if (r == NULL || r->type != REDIS_REPLY_STRING) {
		api_error(p->req, 503, r == NULL ? "Redis did not answer" :
		    "Redis refused the command");
		pending_drop(p->c, p);
		return;
	}
	p->asked = false;
	if (!evtimer_pending(p->c->poll, NULL))
		evtimer_add(p->c->poll, &tv);
}

static void
token(char *out, size_t len)
{
	unsigned char r[16];
	size_t i;
	FILE *fp;

	if ((fp = fopen("/dev/urandom", "re")) == NULL ||
	    fread(r, 1, sizeof(r), fp) != sizeof(r)) {
		snprintf(out, len, "t%" PRId64 "-%ld", now_ms(), random());
		if (fp != NULL)
			fclose(fp);
		return;
	}
	fclose(fp);
	for (i = 0; i < sizeof(r) && 2 * i + 2 < len; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

void
case_command(struct console *c, struct evhttp_request *req,
    const struct who *w, const char *id, const char *op, json_t *body)
{
	const char *names[CMD_MAX_FIELDS], *vals[CMD_MAX_FIELDS];
	size_t nl[CMD_MAX_FIELDS], vl[CMD_MAX_FIELDS], n = 0, i;
	const char *note, *code, *to, *av[32];
	char tok[CMD_TOKEN_MAX + 1], stream[600], at[32];
	struct command cm;
	struct pending *p;
	int argc = 0;

	if (c->npending >= PENDING_MAX) {
		api_error(req, 503, "too many commands waiting for the owner");
		return;
	}
	note = json_string_value(json_object_get(body, "note"));
	code = json_string_value(json_object_get(body, "code"));
	to = json_string_value(json_object_get(body, "to"));
	if (strcmp(op, "assign") == 0 && json_is_true(json_object_get(body,
	    "take")))
		to = w->user;
	if (strcmp(op, "note") == 0 && note == NULL)
		note = json_string_value(json_object_get(body, "text"));
	names[n] = "op";
	vals[n++] = op;
	names[n] = "case";
	vals[n++] = id;
	names[n] = "by";
	vals[n++] = w->user;
	if (note != NULL) {
		names[n] = "note";
		vals[n++] = note;
	}
	if (code != NULL && strcmp(op, "resolve") == 0) {
		names[n] = "code";
		vals[n++] = code;
	}
	if (to != NULL && strcmp(op, "assign") == 0) {
		names[n] = "to";
		vals[n++] = to;
	}
	for (i = 0; i < n; i++) {
		nl[i] = strlen(names[i]);
		vl[i] = strlen(vals[i]);
	}
	if (command_parse(&cm, names, nl, vals, vl, n) == -1) {
		api_error(req, 400, cm.err);
		command_free(&cm);
		return;
	}
	command_free(&cm);
	if (strcmp(op, "resolve") == 0 && !config_resolution_code(c->cf,
	    code)) {
		api_error(req, 400, "unknown resolution code");
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->c = c;
	p->req = req;
	snprintf(p->id, sizeof(p->id), "%s", id);
	token(tok, sizeof(tok));
	snprintf(p->key, sizeof(p->key), "%sreply:%s", c->cf->state_prefix,
	    tok);
	snprintf(stream, sizeof(stream), "%scommands", c->cf->state_prefix);
	snprintf(at, sizeof(at), "%" PRId64, now_ms());
	p->deadline_ms = now_ms() + c->cf->console_command_timeout_ms;
	p->asked = true;	/* until the XADD is answered */
	argc = (int)command_xadd(av, ARRAY_LEN(av), stream, names, vals, n,
	    tok, at);
	TAILQ_INSERT_TAIL(&pendq, p, link);
	c->npending++;
	if (console_cmd(c, xadd_cb, p, argc, av) == -1) {
		api_error(req, 503, "Redis is not connected");
		pending_drop(c, p);
	}
}

