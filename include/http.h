/*
 * http.h — HTTP on the daemon's event loop, in two layers.
 *
 * The listener (http_listener_*) is libevent's evhttp on a socket bound
 * here, hardened for hostile clients, and meant to carry every HTTP
 * service of the daemon (/metrics and /healthz below; the event intake,
 * intake.h; later the console), each with its own listener and limits:
 *
 *   - at most max_conns connections are open. When one more arrives, the
 *     connection that has waited longest for its request is closed, so a
 *     crowd of slow clients can never lock a quick one (a health probe)
 *     out, and the listener's file descriptors stay bounded;
 *   - a deadline per request: a client has deadline_ms from its accept
 *     (or from the end of its previous response) to send a whole request,
 *     however slowly it trickles bytes; then the connection is closed.
 *     The same time bounds a stalled response write;
 *   - accept errors (EMFILE, ENFILE, ...) pause accepting for a second
 *     instead of spinning on a socket that stays readable, and are
 *     logged at most once a minute.
 *
 * The observability endpoint (http_new) answers on a listener:
 *
 *   GET /metrics   200, the Prometheus text format (metrics.h)
 *   GET /healthz   200 "ok" when the health callback returns NULL, else
 *                  503 with the reason it returns
 *   other paths    404; methods other than GET and HEAD: 405
 *
 * Requests are answered from memory at once; nothing blocks.
 */
#ifndef RECOVERYD_HTTP_H
#define RECOVERYD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>

#include "metrics.h"
#include "stats.h"

/* http.max_connections and http.request_timeout for /metrics. */
struct http_limits {
	int		 max_conns;	/* >= 1; open connections at most */
	int64_t		 deadline_ms;	/* >= 1; to send a whole request */
	size_t		 max_body;	/* bytes of a request body; 0: 1 KiB.
					 * Over it evhttp answers 413 itself */
};

/* What a listener has done since it started. */
struct http_listener_stats {
	size_t		 open;		/* connections open now */
	uint64_t	 accepted;
	uint64_t	 evicted;	/* closed to make room for a new one */
	uint64_t	 timed_out;	/* closed at the request deadline */
	uint64_t	 accept_pauses;	/* accept errors, each a 1 s pause */
};

struct http_listener;

/*
 * http_listener_new: listen on "host:port" or "[v6addr]:port" (as
 * check_listen() accepts; a host name is resolved once, now, and its
 * first address that binds is used) and call handler(req, arg) for every
 * complete request. The handler answers with evhttp_send_reply() (or the
 * chunked calls), at once or later: while a request is being answered
 * the deadline does not run and the connection is never evicted.
 * Methods outside GET, POST, HEAD, PUT, DELETE, OPTIONS, TRACE, CONNECT
 * and PATCH get 501 from evhttp; headers are capped at 8 KiB, bodies at
 * lim->max_body (1 KiB by default). Returns NULL with a
 * message naming the address in err (e.g. "http.listen 127.0.0.1:9464:
 * bind: Address already in use"); logs nothing. Every socket is
 * close-on-exec (the exec channel starts programs).
 */
struct http_listener	*http_listener_new(struct event_base *,
			    const char *listen_addr, const struct http_limits *,
			    void (*handler)(struct evhttp_request *, void *),
			    void *arg, char *err, size_t errlen);
void			 http_listener_stats(const struct http_listener *,
			    struct http_listener_stats *);
/* http_listener_free: close the listener and every open connection
 * (requests being answered are dropped); NULL is allowed. */
void			 http_listener_free(struct http_listener *);

struct http;

/*
 * http_new: /metrics and /healthz (see the top) on a listener with the
 * given limits. st, mi, health and arg are kept and read at each
 * request, so they must outlive the server; the daemon may change *mi
 * (nrules after a reload) between requests. health(arg) returns NULL when
 * healthy, else a reason. Errors as http_listener_new.
 */
struct http	*http_new(struct event_base *, const char *listen_addr,
		    const struct http_limits *, const struct stats *st,
		    const struct metrics_info *mi,
		    const char *(*health)(void *arg), void *arg, char *err,
		    size_t errlen);
/* http_free: close the listener and every open connection; NULL is
 * allowed. */
void		 http_free(struct http *);

#endif
