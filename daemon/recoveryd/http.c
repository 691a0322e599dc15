/*
 * http.c — the hardened HTTP listener and, on it, GET /metrics and GET
 * /healthz (see http.h).
 *
 * libevent's evhttp does the HTTP; this file binds the socket itself so
 * that a failure can say which address and why (evhttp_bind_socket only
 * says that it failed), marks it close-on-exec, and wraps evhttp's
 * accepting in what libevent 2.1 lacks: a cap on connections, a deadline
 * per request and a pause on accept errors.
 *
 * Our evconnlistener is handed to evhttp (evhttp_bind_listener), which
 * accepts and builds a connection per socket. We see each one twice:
 *
 *   1. evhttp asks our bufferevent callback (evhttp_set_bevcb) for its
 *      bufferevent. We make it, take a reference so that it outlives
 *      anything evhttp does before step 2, and count the connection. Past
 *      the cap we disable the listener, which stops libevent's accept loop
 *      after this socket.
 *   2. An event made active in step 1 runs before the loop polls again,
 *      after evhttp has finished with the socket. evhttp passes its
 *      connection as the bufferevent's callback argument (libevent 2.0
 *      through 2.2), which bufferevent_getcb() returns; checked against
 *      evhttp_connection_get_bufferevent(), it gives us the connection, on
 *      which we set a close callback (the count goes down exactly when
 *      evhttp frees it), arm the deadline and drop our reference. Then,
 *      while over the cap, the connection that has waited longest for a
 *      request is closed, and the listener enabled again.
 *
 * Connections sit on a list ordered by the time they began to wait for
 * a request (accept, or the end of the previous response), so the oldest
 * is at the head: evicting it is O(1). Finding a request's connection is
 * O(open connections), which the cap bounds.
 *
 * The deadline is a timer per connection, disarmed while a request is
 * being answered and armed again when its response has been written
 * (evhttp_request_set_on_complete_cb); when it fires, the connection is
 * freed however many bytes have trickled in. evhttp's own timeout (which
 * any byte resets) is set to the same value and bounds stalled writes.
 *
 * Accept errors: libevent's listener calls our error callback when
 * accept() fails with anything but EAGAIN, EINTR or ECONNABORTED. Out of
 * descriptors (EMFILE, ENFILE) the listening socket stays readable, so
 * without a pause the loop would spin and log on every turn; we disable
 * the listener for a second and log at most once a minute. The callback
 * gets evhttp's argument, not ours, so the few listeners of the process
 * are found from a small list by their evconnlistener.
 *
 * /metrics and /healthz: answered from memory on the event loop: the
 * metrics are rendered into one reused buffer and copied to the
 * connection's output, so a request costs no Redis round trip and never
 * waits. Methods: evhttp answers methods outside its "allowed" set with
 * 501, so every method it knows is allowed and the handler answers 405
 * with an Allow header for those other than GET and HEAD. For HEAD,
 * evhttp sends the headers (with the Content-Length of the body) and no
 * body.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "http.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define HTTP_MAX_HEADERS	8192
#define HTTP_MAX_BODY		1024
#define HTTP_BACKLOG		64
#define HTTP_PAUSE_S		1	/* after an accept error */
#define HTTP_ERRLOG_S		60	/* accept errors logged once per */

#define CT_METRICS	"text/plain; version=0.0.4; charset=utf-8"
#define CT_TEXT		"text/plain; charset=utf-8"

struct hconn {
	TAILQ_ENTRY(hconn)	 link;		/* by wait start, oldest first */
	struct http_listener	*l;
	struct bufferevent	*bev;		/* our reference until step 2 */
	struct evhttp_connection *evcon;	/* NULL until step 2 */
	struct event		*deadline;
	bool			 busy;		/* a request is being answered */
};
TAILQ_HEAD(hconnq, hconn);

struct http_listener {
	struct http_listener	*next;		/* the process's listeners */
	struct event_base	*base;
	struct evhttp		*eh;
	struct evconnlistener	*lev;		/* owned by eh */
	char			 addr[300];
	struct http_limits	 lim;
	struct timeval		 deadline;
	void			(*handler)(struct evhttp_request *, void *);
	void			*arg;
	struct hconnq		 conns;
	struct event		*settle;	/* step 2 */
	struct event		*resume;	/* end of an accept pause */
	bool			 full;		/* disabled: over the cap */
	bool			 paused;	/* disabled: after an accept error */
	time_t			 errlog_at;	/* last accept error logged */
	struct http_listener_stats st;
};

static struct http_listener *listeners;

/* listener_update: accept unless over the cap or pausing (or closing). */
static void
listener_update(struct http_listener *l)
{
	if (l->lev == NULL)
		return;
	if (l->full || l->paused)
		evconnlistener_disable(l->lev);
	else
		evconnlistener_enable(l->lev);
}

/* conn_drop: forget c (its connection is being freed, or is gone). */
static void
conn_drop(struct hconn *c)
{
	struct http_listener *l = c->l;

	TAILQ_REMOVE(&l->conns, c, link);
	l->st.open--;
	if (c->bev != NULL)
		bufferevent_decref(c->bev);
	event_free(c->deadline);
	free(c);
	if (l->full && l->st.open <= (size_t)l->lim.max_conns) {
		l->full = false;
		listener_update(l);
	}
}

/* conn_closed: evhttp is freeing the connection. */
static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	conn_drop(arg);
}

/* conn_kill: close c's connection ourselves (deadline, eviction). */
static void
conn_kill(struct hconn *c)
{
	struct evhttp_connection *evcon = c->evcon;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	conn_drop(c);
	evhttp_connection_free(evcon);
}

/* conn_wait: c begins to wait for a request, now. */
static void
conn_wait(struct hconn *c)
{
	struct http_listener *l = c->l;

	TAILQ_REMOVE(&l->conns, c, link);
	TAILQ_INSERT_TAIL(&l->conns, c, link);
	evtimer_add(c->deadline, &l->deadline);
}

static void
deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct hconn *c = arg;

	(void)fd;
	(void)ev;
	c->l->st.timed_out++;
	conn_kill(c);
}

/* step 1 (see the top of this file); NULL lets evhttp make its own. */
static struct bufferevent *
conn_new(struct event_base *base, void *arg)
{
	struct http_listener *l = arg;
	struct bufferevent *bev;
	struct hconn *c;

	if ((bev = bufferevent_socket_new(base, -1, 0)) == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->l = l;
	c->bev = bev;
	c->deadline = evtimer_new(base, deadline_cb, c);
	bufferevent_incref(bev);
	TAILQ_INSERT_TAIL(&l->conns, c, link);
	l->st.open++;
	l->st.accepted++;
	if (l->st.open > (size_t)l->lim.max_conns && !l->full) {
		l->full = true;
		listener_update(l);
	}
	event_active(l->settle, EV_TIMEOUT, 0);
	return bev;
}

/* step 2: learn the connections made since the last run, then evict. */
static void
settle_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct http_listener *l = arg;
	struct hconn *c, *tmp;
	void *cbarg;

	(void)fd;
	(void)ev;
	for (c = TAILQ_FIRST(&l->conns); c != NULL; c = tmp) {
		tmp = TAILQ_NEXT(c, link);
		if (c->evcon != NULL)
			continue;
		cbarg = NULL;
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
		if (cbarg == NULL || evhttp_connection_get_bufferevent(cbarg) !=
		    c->bev) {
			/* evhttp has freed it already */
			conn_drop(c);
			continue;
		}
		c->evcon = cbarg;
		evhttp_connection_set_closecb(c->evcon, conn_closed, c);
		bufferevent_decref(c->bev);
		c->bev = NULL;
		conn_wait(c);
	}
	/* The oldest waiting connections make room; one being answered is
	 * never cut off (if all are, the listener stays off until one
	 * closes). */
	c = TAILQ_FIRST(&l->conns);
	while (l->st.open > (size_t)l->lim.max_conns && c != NULL) {
		tmp = TAILQ_NEXT(c, link);
		if (!c->busy && c->evcon != NULL) {
			l->st.evicted++;
			conn_kill(c);
		}
		c = tmp;
	}
}

static void
accept_error(struct evconnlistener *lev, void *ptr)
{
	int e = EVUTIL_SOCKET_ERROR();
	struct http_listener *l;
	struct timeval tv = { HTTP_PAUSE_S, 0 };
	time_t now = time(NULL);

	(void)ptr;		/* evhttp's, not ours: see the top */
	for (l = listeners; l != NULL && l->lev != lev; l = l->next)
		;
	if (l == NULL) {
		evconnlistener_disable(lev);
		return;
	}
	l->st.accept_pauses++;
	l->paused = true;
	listener_update(l);
	evtimer_add(l->resume, &tv);
	if (l->errlog_at == 0 || now - l->errlog_at >= HTTP_ERRLOG_S) {
		log_warnx("http %s: accept: %s; not accepting connections "
		    "for %d s (%zu open; logged at most once a minute)",
		    l->addr, evutil_socket_error_to_string(e), HTTP_PAUSE_S,
		    l->st.open);
		l->errlog_at = now;
	}
}

static void
resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct http_listener *l = arg;

	(void)fd;
	(void)ev;
	l->paused = false;
	listener_update(l);
}

static struct hconn *
conn_of(struct http_listener *l, const struct evhttp_connection *evcon)
{
	struct hconn *c;

	TAILQ_FOREACH(c, &l->conns, link)
		if (c->evcon == evcon)
			return c;
	return NULL;
}

/* The response has been written: wait for the next request. */
static void
request_done(struct evhttp_request *req, void *arg)
{
	struct hconn *c = arg;

	(void)req;
	c->busy = false;
	conn_wait(c);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct http_listener *l = arg;
	struct hconn *c = conn_of(l, evhttp_request_get_connection(req));

	if (c != NULL) {
		c->busy = true;
		evtimer_del(c->deadline);
		evhttp_request_set_on_complete_cb(req, request_done, c);
	}
	l->handler(req, l->arg);
}

/* split_listen: "host:port" or "[v6addr]:port" into host and port. */
static int
split_listen(const char *s, char *host, size_t hostcap, const char **port)
{
	const char *end, *colon;
	size_t n;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return -1;
		n = (size_t)(end - s - 1);
		s++;
		colon = end + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= hostcap || colon[1] == '\0')
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

/* bind_listen: a listening, non-blocking, close-on-exec socket on the
 * first address of host:port that binds; -1 and a message if none. */
static evutil_socket_t
bind_listen(const char *listen_addr, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char host[256];
	const char *port, *what = "bind";
	evutil_socket_t fd = -1;
	int rc, saved = 0;

	if (split_listen(listen_addr, host, sizeof(host), &port) == -1) {
		snprintf(err, errlen, "http.listen %s: expected \"host:port\" "
		    "or \"[address]:port\"", listen_addr);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "http.listen %s: %s", listen_addr,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) == -1) {
			what = "socket";
			saved = errno;
			continue;
		}
		/* SO_REUSEADDR: a restart must not wait for TIME_WAIT. */
		if (evutil_make_listen_socket_reuseable(fd) == -1 ||
		    evutil_make_socket_closeonexec(fd) == -1 ||
		    evutil_make_socket_nonblocking(fd) == -1) {
			what = "setsockopt";
		} else if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			what = "bind";
		} else if (listen(fd, HTTP_BACKLOG) == -1) {
			what = "listen";
		} else
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "http.listen %s: %s: %s", listen_addr,
		    what, strerror(saved));
	return fd;
}

struct http_listener *
http_listener_new(struct event_base *base, const char *listen_addr,
    const struct http_limits *lim,
    void (*handler)(struct evhttp_request *, void *), void *arg, char *err,
    size_t errlen)
{
	struct http_listener *l;
	evutil_socket_t fd;

	if ((fd = bind_listen(listen_addr, err, errlen)) == -1)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->base = base;
	(void)str_copy(l->addr, sizeof(l->addr), listen_addr);
	l->lim = *lim;
	if (l->lim.max_conns < 1)
		l->lim.max_conns = 1;
	if (l->lim.deadline_ms < 1)
		l->lim.deadline_ms = 1;
	l->deadline.tv_sec = (time_t)(l->lim.deadline_ms / 1000);
	l->deadline.tv_usec = (suseconds_t)(l->lim.deadline_ms % 1000 * 1000);
	l->handler = handler;
	l->arg = arg;
	TAILQ_INIT(&l->conns);
	l->settle = event_new(base, -1, 0, settle_cb, l);
	l->resume = evtimer_new(base, resume_cb, l);
	if ((l->eh = evhttp_new(base)) == NULL) {
		snprintf(err, errlen, "http.listen %s: evhttp_new failed",
		    listen_addr);
		close(fd);
		goto fail;
	}
	evhttp_set_timeout_tv(l->eh, &l->deadline);
	evhttp_set_max_headers_size(l->eh, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(l->eh, lim->max_body > 0 ?
	    (ev_ssize_t)lim->max_body : HTTP_MAX_BODY);
	evhttp_set_allowed_methods(l->eh, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(l->eh, on_request, l);
	evhttp_set_bevcb(l->eh, conn_new, l);
	/* Backlog 0: bind_listen() has called listen(). Accepted sockets
	 * are close-on-exec too. From here the listener owns fd. */
	if ((l->lev = evconnlistener_new(base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    0, fd)) == NULL) {
		snprintf(err, errlen, "http.listen %s: cannot listen on the "
		    "socket", listen_addr);
		close(fd);
		goto fail;
	}
	/* From here evhttp owns the listener and frees it. */
	if (evhttp_bind_listener(l->eh, l->lev) == NULL) {
		snprintf(err, errlen, "http.listen %s: cannot accept on the "
		    "socket", listen_addr);
		evconnlistener_free(l->lev);
		goto fail;
	}
	evconnlistener_set_error_cb(l->lev, accept_error);
	l->next = listeners;
	listeners = l;
	return l;
fail:
	if (l->eh != NULL)
		evhttp_free(l->eh);
	event_free(l->settle);
	event_free(l->resume);
	free(l);
	return NULL;
}

void
http_listener_stats(const struct http_listener *l,
    struct http_listener_stats *st)
{
	*st = l->st;
}

void
http_listener_free(struct http_listener *l)
{
	struct http_listener **pp;
	struct hconn *c;

	if (l == NULL)
		return;
	for (pp = &listeners; *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	/* evhttp frees the listener, then its connections (their close
	 * callbacks drop them from the list). */
	l->lev = NULL;
	evhttp_free(l->eh);
	while ((c = TAILQ_FIRST(&l->conns)) != NULL)
		conn_drop(c);
	event_free(l->settle);
	event_free(l->resume);
	free(l);
}

/* --- /metrics and /healthz ------------------------------------------ */

struct http {
	struct http_listener	*l;
	const struct stats	*st;
	const struct metrics_info *mi;
	const char		*(*health)(void *);
	void			*arg;
	struct buf		 out;		/* reused per request */
};

/* reply: send code with a text body (not copied after return). */
static void
reply(struct evhttp_request *req, int code, const char *reason,
    const char *ctype, const char *body, size_t len)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct evbuffer *evb = evhttp_request_get_output_buffer(req);

	evhttp_add_header(hdr, "Content-Type", ctype);
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	evbuffer_add(evb, body, len);
	evhttp_send_reply(req, code, reason, NULL);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	const char *why;

	if (path == NULL || path[0] == '\0')
		path = "/";
	buf_reset(&h->out);
	if (strcmp(path, "/metrics") != 0 && strcmp(path, "/healthz") != 0) {
		buf_printf(&h->out, "not found; try /metrics or /healthz\n");
		reply(req, 404, "Not Found", CT_TEXT, h->out.data, h->out.len);
		return;
	}
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		buf_printf(&h->out, "method not allowed\n");
		reply(req, 405, "Method Not Allowed", CT_TEXT, h->out.data,
		    h->out.len);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		struct http_listener_stats hs;

		metrics_render(h->st, h->mi, &h->out);
		http_listener_stats(h->l, &hs);
		metrics_render_http(&hs, &h->out);
		reply(req, 200, "OK", CT_METRICS, h->out.data, h->out.len);
		return;
	}
	if ((why = h->health(h->arg)) == NULL) {
		reply(req, 200, "OK", CT_TEXT, "ok\n", 3);
		return;
	}
	buf_printf(&h->out, "%s\n", why);
	reply(req, 503, "Service Unavailable", CT_TEXT, h->out.data,
	    h->out.len);
}

struct http *
http_new(struct event_base *base, const char *listen_addr,
    const struct http_limits *lim, const struct stats *st,
    const struct metrics_info *mi, const char *(*health)(void *), void *arg,
    char *err, size_t errlen)
{
	struct http *h = xcalloc(1, sizeof(*h));

	h->st = st;
	h->mi = mi;
	h->health = health;
	h->arg = arg;
	buf_init(&h->out);
	if ((h->l = http_listener_new(base, listen_addr, lim, handle, h, err,
	    errlen)) == NULL) {
		buf_free(&h->out);
		free(h);
		return NULL;
	}
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	http_listener_free(h->l);
	buf_free(&h->out);
	free(h);
}
