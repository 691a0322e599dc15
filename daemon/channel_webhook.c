/*
 * channel_webhook.c — webhook deliveries: an HTTP(S) POST of the alert
 * JSON per delivery, through libcurl's multi interface driven by the
 * libevent loop (see channel.h).
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and
 * when to wake it up (CURLMOPT_TIMERFUNCTION); we turn those into libevent
 * events and call curl_multi_socket_action() when they fire, then reap the
 * finished transfers with curl_multi_info_read(). No thread of ours and no
 * blocking call: a receiver that hangs costs one socket until the
 * channel's timeout, never a stalled loop.
 *
 * Requests: Content-Type: application/json, Idempotency-Key: <alert_id>
 * (the receiver's way to drop our at-least-once duplicates), User-Agent,
 * then the channel's headers with ${NAME} taken from the environment at
 * send time (a missing variable is empty and logged once by name; values
 * are never logged). Only http and https, TLS verified, no redirects.
 *
 * Outcomes: 2xx is delivered; 5xx, 408, 429, a timeout or a connection
 * problem may be retried; any other status (4xx, an unfollowed 3xx) or a
 * URL curl refuses is final.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "channel.h"
#include "cli.h"
#include "log.h"
#include "util.h"

#define WARNED_MAX	64	/* environment names already reported */

struct webhook {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	delivery_done_fn	 done;
	void			*done_arg;
	size_t			 active;
	char			*warned[WARNED_MAX];
	size_t			 nwarned;
	struct wreq		*reqs;		/* in flight, for webhook_free */
	struct wsock		*socks;		/* watched, for webhook_free */
};

/* One request in flight. */
struct wreq {
	struct webhook		*wh;
	struct delivery		*d;
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			 url[512];	/* for messages: no userinfo, query */
	int64_t			 timeout_ms;
	char			 errbuf[CURL_ERROR_SIZE];
	struct wreq		*prev, *next;
};

/* One watched socket: curl_multi_assign() keeps it with the socket. */
struct wsock {
	struct event	*ev;
	struct wsock	*prev, *next;
};

static void
wsock_free(struct webhook *wh, struct wsock *ws)
{
	if (ws->prev != NULL)
		ws->prev->next = ws->next;
	else
		wh->socks = ws->next;
	if (ws->next != NULL)
		ws->next->prev = ws->prev;
	event_free(ws->ev);
	free(ws);
}

static void reap(struct webhook *);

/* --- libcurl <-> libevent ------------------------------------------------- */

static void
sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *wh = arg;
	int running, flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	(void)curl_multi_socket_action(wh->multi, fd, flags, &running);
	reap(wh);
}

/* sock_cb: CURLMOPT_SOCKETFUNCTION — watch s for what curl asks. */
static int
sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct webhook *wh = userp;
	struct wsock *ws = socketp;
	short ev = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (ws != NULL) {
			wsock_free(wh, ws);
			curl_multi_assign(wh->multi, s, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= EV_WRITE;
	if (ws == NULL) {
		ws = xcalloc(1, sizeof(*ws));
		ws->ev = event_new(wh->base, s, ev, sock_event_cb, wh);
		if (ws->ev == NULL)
			fatalx("%s: event_new", __func__);
		ws->next = wh->socks;
		if (wh->socks != NULL)
			wh->socks->prev = ws;
		wh->socks = ws;
		curl_multi_assign(wh->multi, s, ws);
	} else {
		event_del(ws->ev);
		event_assign(ws->ev, wh->base, s, ev, sock_event_cb, wh);
	}
	event_add(ws->ev, NULL);
	return 0;
}

static void
timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *wh = arg;
	int running;

	(void)fd;
	(void)what;
	(void)curl_multi_socket_action(wh->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	reap(wh);
}

/* timer_cb: CURLMOPT_TIMERFUNCTION — (re)arm our single timer. Never
 * calls back into curl from here: the timer does that from the loop. */
static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct webhook *wh = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(wh->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(wh->timer, &tv);
	return 0;
}

/* --- requests ------------------------------------------------------------- */

static size_t
discard_cb(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/*
 * url_for_messages: scheme://host[:port]/path of url, without userinfo,
 * query or fragment, which may hold secrets.
 */
static void
url_for_messages(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://"), *host, *at, *end;
	size_t n;

	if (p == NULL) {
		snprintf(out, cap, "%.*s", (int)strcspn(url, "?#"), url);
		return;
	}
	host = p + 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at != NULL)
		host = at + 1;
	n = (size_t)(end - host) + strcspn(end, "?#");
	snprintf(out, cap, "%.*s%.*s", (int)(p + 3 - url), url, (int)n, host);
}

static bool
warned_before(struct webhook *wh, const char *name)
{
	size_t i;

	for (i = 0; i < wh->nwarned; i++)
		if (strcmp(wh->warned[i], name) == 0)
			return true;
	if (wh->nwarned < WARNED_MAX)
		wh->warned[wh->nwarned++] = xstrdup(name);
	return false;
}

/*
 * expand_env: append value to out with each ${NAME} replaced by the
 * environment variable NAME ("" and a warning, once per name, when it is
 * unset). CR and LF become spaces so a variable cannot add a header.
 */
static void
expand_env(struct webhook *wh, const char *chan, const char *value,
    struct buf *out)
{
	const char *p = value, *open, *close, *v;
	char name[128];
	size_t i, start;

	while ((open = strstr(p, "${")) != NULL &&
	    (close = strchr(open + 2, '}')) != NULL) {
		buf_append(out, p, (size_t)(open - p));
		snprintf(name, sizeof(name), "%.*s", (int)(close - open - 2),
		    open + 2);
		if ((v = getenv(name)) == NULL) {
			if (!warned_before(wh, name))
				log_warnx("webhook %s: environment variable %s "
				    "is not set; its header value is empty",
				    chan, name);
			v = "";
		}
		start = out->len;
		buf_puts(out, v);
		for (i = start; i < out->len; i++)
			if (out->data[i] == '\r' || out->data[i] == '\n')
				out->data[i] = ' ';
		p = close + 1;
	}
	buf_puts(out, p);
}

static bool
has_header(const struct channel *ch, const char *name)
{
	size_t i;

	for (i = 0; i < ch->nheaders; i++)
		if (strcasecmp(ch->headers[i].name, name) == 0)
			return true;
	return false;
}

/* build_headers: the request's header list; caller frees it. */
static struct curl_slist *
build_headers(struct webhook *wh, const struct channel *ch,
    const struct delivery *d)
{
	struct curl_slist *h = NULL;
	struct buf b;
	size_t i;

	buf_init(&b);
	if (!has_header(ch, "Content-Type"))
		h = curl_slist_append(h, "Content-Type: application/json");
	if (!has_header(ch, "User-Agent"))
		h = curl_slist_append(h, "User-Agent: recoveryd/"
		    RECOVERYD_VERSION);
	/* No "Expect: 100-continue" round trip for larger bodies. */
	h = curl_slist_append(h, "Expect:");
	buf_printf(&b, "Idempotency-Key: %s", d->alert_id);
	h = curl_slist_append(h, b.data);
	for (i = 0; i < ch->nheaders; i++) {
		if (strcasecmp(ch->headers[i].name, "Idempotency-Key") == 0)
			continue;	/* ours is the contract */
		buf_reset(&b);
		buf_printf(&b, "%s: ", ch->headers[i].name);
		expand_env(wh, ch->name, ch->headers[i].value, &b);
		h = curl_slist_append(h, b.data);
	}
	buf_free(&b);
	return h;
}

static void
wreq_free(struct wreq *r)
{
	struct webhook *wh = r->wh;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		wh->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	curl_multi_remove_handle(wh->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	wh->active--;
	free(r);
}

/* classify: turn a finished transfer into a delivery outcome. */
static void
classify(struct wreq *r, CURLcode rc)
{
	struct delivery *d = r->d;
	char dur[32];
	long status = 0;

	if (rc == CURLE_OK) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			d->result = DELIVERY_OK;
			d->error[0] = '\0';
			return;
		}
		/* 408 and 429 say "try again later", like a 5xx. */
		d->result = status >= 500 || status == 408 || status == 429 ?
		    DELIVERY_RETRY : DELIVERY_FAIL;
		snprintf(d->error, sizeof(d->error), "HTTP %ld from %s",
		    status, r->url);
		return;
	}
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		format_duration(r->timeout_ms, dur, sizeof(dur));
		snprintf(d->error, sizeof(d->error), "timed out after %s",
		    dur);
		d->result = DELIVERY_RETRY;
		return;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		d->result = DELIVERY_FAIL;
		break;
	default:
		d->result = DELIVERY_RETRY;
		break;
	}
	snprintf(d->error, sizeof(d->error), "%s: %s", r->url,
	    r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
}

/* reap: report every finished transfer. done may start new requests:
 * that is allowed here (we are not inside a libcurl callback). */
static void
reap(struct webhook *wh)
{
	CURLMsg *m;
	struct wreq *r;
	struct delivery *d;
	int left;

	while ((m = curl_multi_info_read(wh->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		r = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r == NULL)
			continue;
		classify(r, m->data.result);
		d = r->d;
		wreq_free(r);	/* m is invalid from here on */
		wh->done(d, wh->done_arg);
	}
}

/* --- public --------------------------------------------------------------- */

struct webhook *
webhook_new(struct event_base *base, delivery_done_fn done, void *arg)
{
	static bool initialized;
	struct webhook *wh;

	if (!initialized) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			fatalx("%s: curl_global_init failed", __func__);
		initialized = true;
	}
	wh = xcalloc(1, sizeof(*wh));
	wh->base = base;
	wh->done = done;
	wh->done_arg = arg;
	if ((wh->multi = curl_multi_init()) == NULL)
		fatalx("%s: curl_multi_init failed", __func__);
	wh->timer = evtimer_new(base, timer_event_cb, wh);
	if (wh->timer == NULL)
		fatalx("%s: evtimer_new", __func__);
	curl_multi_setopt(wh->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(wh->multi, CURLMOPT_SOCKETDATA, wh);
	curl_multi_setopt(wh->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(wh->multi, CURLMOPT_TIMERDATA, wh);
	return wh;
}

int
webhook_send(struct webhook *wh, const struct channel *ch,
    struct delivery *d)
{
	struct wreq *r;
	CURL *e;

	if (ch->url == NULL || (e = curl_easy_init()) == NULL) {
		d->result = DELIVERY_RETRY;
		snprintf(d->error, sizeof(d->error), "cannot start a request "
		    "to channel %s", ch->name);
		return -1;
	}
	r = xcalloc(1, sizeof(*r));
	r->wh = wh;
	r->d = d;
	r->easy = e;
	r->timeout_ms = ch->timeout_ms;
	url_for_messages(ch->url, r->url, sizeof(r->url));
	r->hdrs = build_headers(wh, ch, d);

	curl_easy_setopt(e, CURLOPT_URL, ch->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500	/* 7.85.0 */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ch->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, ch->ca_file);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)ch->timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->alert);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)d->alert_len);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);

	if (curl_multi_add_handle(wh->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		curl_slist_free_all(r->hdrs);
		free(r);
		d->result = DELIVERY_RETRY;
		snprintf(d->error, sizeof(d->error), "cannot start a request "
		    "to %s", ch->name);
		return -1;
	}
	r->next = wh->reqs;
	if (wh->reqs != NULL)
		wh->reqs->prev = r;
	wh->reqs = r;
	wh->active++;
	return 0;
}

size_t
webhook_active(const struct webhook *wh)
{
	return wh->active;
}

void
webhook_free(struct webhook *wh)
{
	size_t i;

	if (wh == NULL)
		return;
	while (wh->reqs != NULL)
		wreq_free(wh->reqs);
	curl_multi_cleanup(wh->multi);
	while (wh->socks != NULL)	/* any curl did not report removed */
		wsock_free(wh, wh->socks);
	event_free(wh->timer);
	for (i = 0; i < wh->nwarned; i++)
		free(wh->warned[i]);
	free(wh);
}
