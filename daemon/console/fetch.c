/*
 * fetch.c — what the console's readers share: one command on the
 * console's connection (redis.h), the checks and getters of an HGETALL
 * reply, and case_fetch(), the HGETALL of many cases pipelined, whose
 * answers come in the order sent (one connection), so each is known by
 * its position.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "console.h"

/*
 * Every command goes through console_cmd, which notes each answer's
 * time: a Redis that holds the connection open but answers nothing
 * (stopped, swapping) would leave every request waiting, so a timer
 * drops the connection when answers are due and none came for
 * console.request_timeout (the callbacks then answer 503, and redis.c
 * reconnects).
 */
struct cmd_wrap {
	struct console	*c;
	redisCallbackFn	*cb;
	void		*arg;
};

static void
wrap_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct cmd_wrap *w = arg;

	w->c->answered_ms = (int64_t)(now_wall() * 1000.0);
	w->cb(ac, reply, w->arg);
	free(w);
}

int
console_cmd(struct console *c, redisCallbackFn *cb, void *arg, int argc,
    const char **argv)
{
	struct cmd_wrap *w;
	size_t lens[32];
	int i;

	if (argc > 32)
		return -1;
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	w = xmalloc(sizeof(*w));
	w->c = c;
	w->cb = cb;
	w->arg = arg;
	if (rconn_pending(c->rc) == 0)
		c->answered_ms = (int64_t)(now_wall() * 1000.0);
	if (rconn_cmd(c->rc, wrap_cb, w, argc, argv, lens) == -1) {
		free(w);
		return -1;
	}
	return 0;
}

static void
watch_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct console *c = arg;
	int64_t now = (int64_t)(now_wall() * 1000.0);

	(void)fd;
	(void)ev;
	if (rconn_pending(c->rc) > 0 &&
	    now - c->answered_ms > c->cf->console_request_timeout_ms)
		rconn_drop(c->rc, "no answer within console.request_timeout");
}

void
console_watch_start(struct console *c)
{
	struct timeval tv = { 0, 250000 };

	c->watch = event_new(c->base, -1, EV_PERSIST, watch_cb, c);
	evtimer_add(c->watch, &tv);
}

bool
reply_is_hash(const redisReply *r)
{
	size_t i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0)
		return false;
	for (i = 0; i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return false;
	return true;
}

const char *
reply_get(const void *h, const char *field)
{
	const redisReply *r = h;
	size_t i;

	for (i = 0; i + 1 < r->elements; i += 2)
		if (strcmp(r->element[i]->str, field) == 0)
			return r->element[i + 1]->str;
	return NULL;
}

struct fetch {
	struct console	*c;
	void		(*each)(void *, size_t, const char *,
			    const redisReply *);
	void		(*done)(void *, bool);
	void		*arg;
	char		**ids;
	size_t		 sent, got;
	bool		 failed;
};

static void
fetch_end(struct fetch *f)
{
	size_t i;

	f->done(f->arg, f->failed);
	for (i = 0; i < f->sent; i++)
		free(f->ids[i]);
	free(f->ids);
	free(f);
}

static void
fetch_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct fetch *f = arg;
	redisReply *r = reply;

	(void)ac;
	if (r == NULL)
		f->failed = true;
	f->each(f->arg, f->got, f->ids[f->got], reply_is_hash(r) ? r : NULL);
	if (++f->got == f->sent)
		fetch_end(f);
}

void
case_fetch(struct console *c, const char *const *ids, const size_t *lens,
    size_t n, void (*each)(void *, size_t, const char *, const redisReply *),
    void (*done)(void *, bool failed), void *arg)
{
	struct fetch *f = xcalloc(1, sizeof(*f));
	char key[600];
	const char *av[2];
	size_t i;

	f->c = c;
	f->each = each;
	f->done = done;
	f->arg = arg;
	f->ids = xcalloc(n + 1, sizeof(*f->ids));
	for (i = 0; i < n; i++) {
		f->ids[i] = xstrndup(ids[i], lens[i]);
		snprintf(key, sizeof(key), "%scase:%s", c->cf->state_prefix,
		    f->ids[i]);
		av[0] = "HGETALL";
		av[1] = key;
		if (console_cmd(c, fetch_cb, f, 2, av) == -1) {
			/* not connected (any more): the rest is not read */
			free(f->ids[i]);
			f->failed = true;
			break;
		}
		f->sent++;
	}
	if (f->sent == 0)
		fetch_end(f);
}

void
case_fetch_reply(struct console *c, const redisReply *r,
    void (*each)(void *, size_t, const char *, const redisReply *),
    void (*done)(void *, bool failed), void *arg)
{
	const char **ids;
	size_t *lens, i, n = 0;

	ids = xcalloc(r->elements + 1, sizeof(*ids));
	lens = xcalloc(r->elements + 1, sizeof(*lens));
	for (i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING) {
			ids[n] = r->element[i]->str;
			lens[n++] = r->element[i]->len;
		}
	case_fetch(c, ids, lens, n, each, done, arg);
	free(ids);
	free(lens);
}
