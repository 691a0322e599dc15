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
 * then the channel's headers. ${NAME} in the URL and in header values is
 * replaced at send time by secret_get(NAME) (secret.h: a systemd
 * credential or the environment the daemon started with). In a header a
 * name that is set nowhere becomes empty and is logged once by name; in
 * the URL it fails the delivery. Values are never logged. Only http and
 * https, TLS verified, no redirects.
 *
 * Messages (logs, the error of an undelivered alert) name the receiver
 * by scheme://host:port only: chat services put the secret in the path
 * or the query, and a user:password@ may sit in the URL too.
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
#include "secret.h"
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
	char			 url[512];	/* for messages: scheme://host:port */
	char			*tail;		/* path, query: kept out of messages */
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
 * url_for_messages: scheme://host:port of url (the port even when it is
 * the scheme's default), without userinfo, path, query or fragment, which
 * may hold secrets; a placeholder if curl cannot parse url (the request
 * then fails with curl's reason).
 */
static void
url_for_messages(const char *url, char *out, size_t cap)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK)
		snprintf(out, cap, "%s://%s:%s", scheme, host, port);
	else
		snprintf(out, cap, "(an invalid URL)");
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
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
 * expand_env: append value to out with each ${NAME} replaced by
 * secret_get(NAME); a name set nowhere becomes "" and the first such name
 * is copied into missing (else missing is ""). The loader accepted only
 * well-formed references; anything else is copied as it is.
 */
static void
expand_env(const char *value, struct buf *out, char *missing, size_t cap)
{
	const char *p = value, *open, *v;
	char name[SECRET_NAME_MAX + 1];
	size_t n;

	missing[0] = '\0';
	while (secret_ref(p, &open, &n) == 1) {
		buf_append(out, p, (size_t)(open - p));
		memcpy(name, open + 2, n);
		name[n] = '\0';
		if ((v = secret_get(name)) == NULL) {
			if (missing[0] == '\0')
				snprintf(missing, cap, "%s", name);
			v = "";
		}
		buf_puts(out, v);
		p = open + n + 3;
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
	char missing[SECRET_NAME_MAX + 1];
	struct buf b;
	size_t i, j, start;

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
		start = b.len;
		expand_env(ch->headers[i].value, &b, missing, sizeof(missing));
		/* CR and LF become spaces: a value cannot add a header. */
		for (j = start; j < b.len; j++)
			if (b.data[j] == '\r' || b.data[j] == '\n')
				b.data[j] = ' ';
		if (missing[0] != '\0' && !warned_before(wh, missing))
			log_warnx("webhook %s: %s is not set (no credential or "
			    "environment variable of that name); header %s "
			    "gets an empty value for it", ch->name, missing,
			    ch->headers[i].name);
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
	if (r->tail != NULL) {
		explicit_bzero(r->tail, strlen(r->tail));
		free(r->tail);
	}
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
	/* curl's own text names the host; should it ever quote the path or
	 * the query, its generic text says enough. */
	snprintf(d->error, sizeof(d->error), "%s: %s", r->url,
	    r->errbuf[0] != '\0' && (r->tail == NULL ||
	    strstr(r->errbuf, r->tail) == NULL) ? r->errbuf :
	    curl_easy_strerror(rc));
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
	struct webhook *wh;

	wh = xcalloc(1, sizeof(*wh));
	wh->base = base;
	wh->done = done;
	wh->done_arg = arg;
	wh->timer = evtimer_new(base, timer_event_cb, wh);
	if (wh->timer == NULL)
		fatalx("%s: evtimer_new", __func__);
	return wh;
}

/*
 * webhook_start: libcurl (and the TLS library under it) is set up at the
 * first delivery, not at startup: its global init alone costs some 2 MB
 * of resident pages, which a daemon whose webhooks never fire does not
 * pay. False when it cannot be (the delivery is retried).
 */
static bool
webhook_start(struct webhook *wh)
{
	static bool initialized;

	if (wh->multi != NULL)
		return true;
	if (!initialized) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return false;
		initialized = true;
	}
	if ((wh->multi = curl_multi_init()) == NULL)
		return false;
	curl_multi_setopt(wh->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(wh->multi, CURLMOPT_SOCKETDATA, wh);
	curl_multi_setopt(wh->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(wh->multi, CURLMOPT_TIMERDATA, wh);
	return true;
}

/*
 * expand_url: ch's URL with its ${NAME}s replaced, into url (caller
 * frees with buf_free); -1 with d->result and d->error set (naming the
 * variable, never a value) if a name is set nowhere or a value put a
 * blank or a control character into the URL.
 */
static int
expand_url(const struct channel *ch, struct delivery *d, struct buf *url)
{
	char missing[SECRET_NAME_MAX + 1];
	size_t i;

	buf_init(url);
	expand_env(ch->url, url, missing, sizeof(missing));
	if (missing[0] != '\0') {
		d->result = DELIVERY_FAIL;
		snprintf(d->error, sizeof(d->error), "the url of channel %s "
		    "uses %s, which is not set (no credential or environment "
		    "variable of that name)", ch->name, missing);
		return -1;
	}
	if (url->len == 0) {
		d->result = DELIVERY_FAIL;
		snprintf(d->error, sizeof(d->error), "the url of channel %s "
		    "is empty once its variables are replaced", ch->name);
		return -1;
	}
	for (i = 0; i < url->len; i++) {
		if ((unsigned char)url->data[i] <= ' ' ||
		    url->data[i] == 0x7f) {
			d->result = DELIVERY_FAIL;
			snprintf(d->error, sizeof(d->error), "the url of "
			    "channel %s holds a blank or a control character "
			    "once its variables are replaced", ch->name);
			return -1;
		}
	}
	return 0;
}

int
webhook_send(struct webhook *wh, const struct channel *ch,
    struct delivery *d)
{
	struct wreq *r;
	struct buf url;
	const char *p;
	CURL *e;

	if (ch->url == NULL || !webhook_start(wh) ||
	    (e = curl_easy_init()) == NULL) {
		d->result = DELIVERY_RETRY;
		snprintf(d->error, sizeof(d->error), "cannot start a request "
		    "to channel %s", ch->name);
		return -1;
	}
	if (expand_url(ch, d, &url) == -1) {
		buf_free(&url);
		curl_easy_cleanup(e);
		return -1;
	}
	r = xcalloc(1, sizeof(*r));
	r->wh = wh;
	r->d = d;
	r->easy = e;
	r->timeout_ms = ch->timeout_ms;
	url_for_messages(url.data, r->url, sizeof(r->url));
	if ((p = strstr(url.data, "://")) != NULL &&
	    (p = strpbrk(p + 3, "/?#")) != NULL && strlen(p) > 1)
		r->tail = xstrdup(p);
	r->hdrs = build_headers(wh, ch, d);

	/* libcurl copies the URL: ours is wiped and freed below. */
	curl_easy_setopt(e, CURLOPT_URL, url.data);
	explicit_bzero(url.data, url.len);
	buf_free(&url);
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
		free(r->tail);
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
	if (wh->multi != NULL)
		curl_multi_cleanup(wh->multi);
	while (wh->socks != NULL)	/* any curl did not report removed */
		wsock_free(wh, wh->socks);
	event_free(wh->timer);
	for (i = 0; i < wh->nwarned; i++)
		free(wh->warned[i]);
	free(wh);
}
