/*
 * http.c — GET /metrics and GET /healthz on http.listen (see http.h).
 *
 * libevent's evhttp does the HTTP; this file binds the socket itself so
 * that a failure can say which address and why (evhttp_bind_socket only
 * says that it failed), marks it close-on-exec (the exec channel starts
 * programs), and answers every request from memory on the event loop:
 * the metrics are rendered into one reused buffer and copied to the
 * connection's output, so a request costs no Redis round trip and never
 * waits. Clients that send nothing or read nothing are dropped by
 * evhttp's timeout; request headers and bodies are capped, since none is
 * expected.
 *
 * Methods: evhttp answers methods outside its "allowed" set with 501, so
 * every method it knows is allowed here and the handler answers 405 with
 * an Allow header for those other than GET and HEAD. For HEAD, evhttp
 * sends the headers (with the Content-Length of the body) and no body.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "http.h"
#include "metrics.h"
#include "util.h"

#define HTTP_TIMEOUT_S		10
#define HTTP_MAX_HEADERS	8192
#define HTTP_MAX_BODY		1024
#define HTTP_BACKLOG		64

#define CT_METRICS	"text/plain; version=0.0.4; charset=utf-8"
#define CT_TEXT		"text/plain; charset=utf-8"

struct http {
	struct evhttp		*eh;
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
		metrics_render(h->st, h->mi, &h->out);
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

struct http *
http_new(struct event_base *base, const char *listen_addr,
    const struct stats *st, const struct metrics_info *mi,
    const char *(*health)(void *), void *arg, char *err, size_t errlen)
{
	struct http *h;
	evutil_socket_t fd;

	if ((fd = bind_listen(listen_addr, err, errlen)) == -1)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->st = st;
	h->mi = mi;
	h->health = health;
	h->arg = arg;
	buf_init(&h->out);
	if ((h->eh = evhttp_new(base)) == NULL) {
		snprintf(err, errlen, "http.listen %s: evhttp_new failed",
		    listen_addr);
		goto fail;
	}
	evhttp_set_timeout(h->eh, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(h->eh, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(h->eh, HTTP_MAX_BODY);
	evhttp_set_allowed_methods(h->eh, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->eh, handle, h);
	/* From here the listener owns fd and closes it on free. */
	if (evhttp_accept_socket_with_handle(h->eh, fd) == NULL) {
		snprintf(err, errlen, "http.listen %s: cannot accept on the "
		    "socket", listen_addr);
		goto fail;
	}
	return h;
fail:
	close(fd);
	if (h->eh != NULL)
		evhttp_free(h->eh);
	buf_free(&h->out);
	free(h);
	return NULL;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	evhttp_free(h->eh);
	buf_free(&h->out);
	free(h);
}
