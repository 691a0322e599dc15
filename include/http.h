/*
 * http.h — the observability endpoint on http.listen (SPEC section 6):
 *
 *   GET /metrics   200, the Prometheus text format (metrics.h)
 *   GET /healthz   200 "ok" when the health callback returns NULL, else
 *                  503 with the reason it returns
 *   other paths    404; methods other than GET and HEAD: 405
 *
 * A libevent evhttp server on the daemon's event loop: requests are
 * answered from memory at once, nothing blocks, and slow or idle clients
 * are dropped after a timeout.
 */
#ifndef RECOVERYD_HTTP_H
#define RECOVERYD_HTTP_H

#include <stddef.h>

#include <event2/event.h>

#include "metrics.h"
#include "stats.h"

struct http;

/*
 * http_new: listen on "host:port" or "[v6addr]:port" (as check_listen()
 * accepts; a host name is resolved once, now, and its first address that
 * binds is used). st, mi, health and arg are kept and read at each
 * request, so they must outlive the server; the daemon may change *mi
 * (nrules after a reload) between requests. health(arg) returns NULL when
 * healthy, else a reason. Returns NULL with a message naming the address
 * in err (e.g. "http.listen 127.0.0.1:9464: bind: Address already in
 * use") when the address is invalid or cannot be bound; logs nothing.
 */
struct http	*http_new(struct event_base *, const char *listen_addr,
		    const struct stats *st, const struct metrics_info *mi,
		    const char *(*health)(void *arg), void *arg, char *err,
		    size_t errlen);
/* http_free: close the listener and every open connection; NULL is
 * allowed. */
void		 http_free(struct http *);

#endif
