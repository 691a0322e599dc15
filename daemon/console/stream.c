/*
 * stream.c — GET /api/stream: live updates as Server-Sent Events.
 *
 * One subscription, on its own connection, to P.."cases:changed", which
 * the owning recoveryd publishes among the writes of each fenced commit
 * that changed cases (commit.c): the message is the IDs, space-separated
 * ("*" when there were too many to list). Each message goes to every open
 * stream as
 *
 *   event: cases
 *   data: {"ids":["c-...", ...]}          ("ids":"*": reload everything)
 *
 * A message after a quiet spell goes out at once; the messages that
 * follow it within GATHER_MS are gathered into one event at the end of
 * that time, and so on while they keep coming (at most EVENT_IDS_MAX IDs
 * an event, else "*"), the cases they name read again first.
 * When the subscription was lost and is back, "event: reload" (what
 * changed meanwhile is unknown). A comment line ": ping" every
 * HEARTBEAT_S keeps proxies from closing an idle stream and finds dead
 * clients. A client whose unsent output passes STREAM_BUF_MAX is slow:
 * it is dropped, not buffered without end; so is one whose connection
 * closed. console.max_streams bounds the open streams (503 beyond).
 * No Redis read per page: a page fetches what it shows when told.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/async.h>

#include "console.h"
#include "log.h"

#define HEARTBEAT_S	15
#define STREAM_BUF_MAX	(256 * 1024)
#define GATHER_MS	100		/* after one event, the next gathered */
#define GATHER_MAX	(256 * 1024)	/* bytes of IDs; beyond: reload all */
#define EVENT_IDS_MAX	200		/* IDs an event lists; beyond: "*" */

struct client {
	TAILQ_ENTRY(client)	 link;
	struct evhttp_request	*req;
	char			 user[CONSOLE_NAME_MAX + 1];
};
TAILQ_HEAD(clientq, client);

struct streams {
	struct console		*c;
	struct clientq		 clients;
	size_t			 n;
	struct event		*beat;		/* heartbeat */
	struct event		*sweep;		/* closed clients, each 1 s */
	bool			 was_up;
	uint64_t		 messages, dropped;
	/* the IDs of the messages of the last GATHER_MS, one read for all */
	struct buf		 acc;
	bool			 acc_all;
	struct event		*gather;
};

static void
client_end(struct streams *ss, struct client *cl, bool slow)
{
	struct evhttp_connection *ec = evhttp_request_get_connection(cl->req);

	TAILQ_REMOVE(&ss->clients, cl, link);
	ss->n--;
	if (slow && ec != NULL) {
		ss->dropped++;
		log_info("console: dropped the slow stream of '%s'", cl->user);
		/* frees the request too */
		evhttp_connection_free(ec);
	} else
		evhttp_send_reply_end(cl->req);
	free(cl);
}

/* send: text to cl; false if cl had to go. */
static bool
client_send(struct streams *ss, struct client *cl, const char *text,
    size_t len)
{
	struct evhttp_connection *ec = evhttp_request_get_connection(cl->req);
	struct bufferevent *bev;
	struct evbuffer *b;

	if (ec == NULL) {
		client_end(ss, cl, false);
		return false;
	}
	bev = evhttp_connection_get_bufferevent(ec);
	if (bev != NULL && evbuffer_get_length(bufferevent_get_output(bev)) +
	    len > STREAM_BUF_MAX) {
		client_end(ss, cl, true);
		return false;
	}
	if ((b = evbuffer_new()) == NULL)
		return true;
	evbuffer_add(b, text, len);
	evhttp_send_reply_chunk(cl->req, b);
	evbuffer_free(b);
	return true;
}

static void
broadcast(struct streams *ss, const char *text, size_t len)
{
	struct client *cl, *next;

	for (cl = TAILQ_FIRST(&ss->clients); cl != NULL; cl = next) {
		next = TAILQ_NEXT(cl, link);
		(void)client_send(ss, cl, text, len);
	}
}

static void
beat_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	broadcast(arg, ": ping\n\n", 8);
}

static void
sweep_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct streams *ss = arg;
	struct client *cl, *next;

	(void)fd;
	(void)ev;
	for (cl = TAILQ_FIRST(&ss->clients); cl != NULL; cl = next) {
		next = TAILQ_NEXT(cl, link);
		if (evhttp_request_get_connection(cl->req) == NULL)
			client_end(ss, cl, false);
	}
}

/* listed: the ID is in ids already (at most EVENT_IDS_MAX + 1). */
static bool
listed(json_t *ids, const char *id, size_t len)
{
	size_t i;
	json_t *v;

	json_array_foreach(ids, i, v)
		if (json_string_length(v) == len &&
		    memcmp(json_string_value(v), id, len) == 0)
			return true;
	return false;
}

/* changed: the gathered messages, as one event to all. */
static void
changed(struct streams *ss, const char *msg, size_t len)
{
	struct buf b;
	json_t *ids = json_array(), *o;
	char *text;
	size_t i, j;

	ss->messages++;
	for (i = 0; i < len && !(len == 1 && msg[0] == '*') &&
	    json_array_size(ids) <= EVENT_IDS_MAX; i = j + 1) {
		for (j = i; j < len && msg[j] != ' '; j++)
			;
		if (j > i && !listed(ids, msg + i, j - i))
			json_array_append_new(ids,
			    json_stringn(msg + i, j - i));
	}
	if ((len == 1 && msg[0] == '*') ||
	    json_array_size(ids) > EVENT_IDS_MAX) {
		/* a burst: the pages reload what they show */
		json_decref(ids);
		ids = json_string("*");
	}
	o = json_pack("{s:o}", "ids", ids);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	buf_init(&b);
	buf_printf(&b, "event: cases\ndata: %s\n\n", text != NULL ? text :
	    "{}");
	broadcast(ss, b.data, b.len);
	buf_free(&b);
	free(text);
}

/* A message, kept until the mirror has read its cases again. */
struct msg {
	struct streams	*ss;
	size_t		 len;
	char		 text[];
};

static void
msg_done(void *arg)
{
	struct msg *m = arg;

	changed(m->ss, m->text, m->len);
	free(m);
}

static void	gather_cb(evutil_socket_t, short, void *);

static void
sub_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct streams *ss = arg;
	redisReply *r = reply;

	(void)ac;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, "message") != 0 ||
	    r->element[2]->type != REDIS_REPLY_STRING)
		return;
	if (r->element[2]->len == 1 && r->element[2]->str[0] == '*')
		ss->acc_all = true;
	else if (ss->acc.len + r->element[2]->len + 1 > GATHER_MAX)
		ss->acc_all = true;
	else {
		buf_putc(&ss->acc, ' ');
		buf_append(&ss->acc, r->element[2]->str, r->element[2]->len);
	}
	if (!evtimer_pending(ss->gather, NULL))
		gather_cb(-1, 0, ss);	/* the first: at once */
}

/*
 * gather_cb: what the messages gathered so far named, read again by the
 * mirror at once (a case named twice is read twice, harmless), then one
 * event to the pages; then GATHER_MS in which the next ones are gathered.
 * The owner commits a batch every few milliseconds under load, and an
 * event per commit to every page would cost more than the change is
 * worth to a person; one change alone is not kept waiting. Called by
 * sub_cb for the first message, and by the timer at the end of the time;
 * nothing gathered by then closes it.
 */
static void
gather_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct streams *ss = arg;
	const char *text = ss->acc_all ? "*" : ss->acc.data + 1;
	size_t len = ss->acc_all ? 1 : ss->acc.len - 1;
	struct timeval tv = { 0, GATHER_MS * 1000 };
	struct msg *m;

	(void)fd;
	(void)ev;
	if (!ss->acc_all && ss->acc.len == 0)
		return;
	evtimer_add(ss->gather, &tv);
	m = xmalloc(sizeof(*m) + len + 1);
	m->ss = ss;
	m->len = len;
	memcpy(m->text, text, len);
	m->text[len] = '\0';
	buf_reset(&ss->acc);
	ss->acc_all = false;
	/* the pages are told once the console's copy has the change */
	mirror_changed(ss->c->mirror, m->text, m->len, msg_done, m);
}

void
streams_sub_state(struct streams *ss, bool up)
{
	struct console *c = ss->c;

	if (!up) {
		c->subac = NULL;
		return;
	}
	if (c->subac != NULL)
		redisAsyncCommand(c->subac, sub_cb, ss, "SUBSCRIBE %s",
		    c->chan);
	if (ss->was_up) {
		/* what changed meanwhile is unknown */
		mirror_reload(c->mirror);
		broadcast(ss, "event: reload\ndata: {}\n\n", 24);
	}
	ss->was_up = true;
}

struct streams *
streams_new(struct console *c)
{
	struct streams *ss = xcalloc(1, sizeof(*ss));
	struct timeval hb = { HEARTBEAT_S, 0 }, sw = { 1, 0 };

	ss->c = c;
	TAILQ_INIT(&ss->clients);
	buf_init(&ss->acc);
	ss->gather = evtimer_new(c->base, gather_cb, ss);
	ss->beat = event_new(c->base, -1, EV_PERSIST, beat_cb, ss);
	ss->sweep = event_new(c->base, -1, EV_PERSIST, sweep_cb, ss);
	evtimer_add(ss->beat, &hb);
	evtimer_add(ss->sweep, &sw);
	return ss;
}

void
streams_free(struct streams *ss)
{
	struct client *cl;

	if (ss == NULL)
		return;
	while ((cl = TAILQ_FIRST(&ss->clients)) != NULL)
		client_end(ss, cl, false);
	event_free(ss->beat);
	event_free(ss->sweep);
	event_free(ss->gather);
	buf_free(&ss->acc);
	free(ss);
}

void
stream_open(struct streams *ss, struct evhttp_request *req,
    const struct who *w)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evhttp_connection *ec;
	struct bufferevent *bev;
	struct timeval wr;
	struct client *cl;

	if (ss->n >= (size_t)ss->c->cf->console_max_streams) {
		api_error(req, 503, "too many open streams");
		return;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->req = req;
	snprintf(cl->user, sizeof(cl->user), "%s", w->user);
	TAILQ_INSERT_TAIL(&ss->clients, cl, link);
	ss->n++;
	api_headers(req, true);
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	/* evhttp's timeout (console.request_timeout) is a read timeout as
	 * well: a page that only listens would be cut. Only a stalled
	 * write ends a stream (and the heartbeat finds dead pages). */
	if ((ec = evhttp_request_get_connection(req)) != NULL &&
	    (bev = evhttp_connection_get_bufferevent(ec)) != NULL) {
		int64_t ms = ss->c->cf->console_request_timeout_ms;

		wr.tv_sec = (time_t)(ms / 1000);
		wr.tv_usec = (suseconds_t)(ms % 1000 * 1000);
		bufferevent_set_timeouts(bev, NULL, &wr);
	}
	(void)client_send(ss, cl, "retry: 2000\n: hello\n\n", 21);
}
