/*
 * consumer_silence.c — the daemon's silences (silence.h): reloaded from
 * Redis at most twice a second when <prefix>silences:rev moved, so that
 * "recoveryctl silence add" applies to every instance within a second;
 * candidates marked before the store decides them (the store opens no
 * case for a silenced one, and the consumer renders nothing for it);
 * the firings held back counted per silence, HINCRBY
 * <prefix>silence:<id> count in the batch's one fenced commit, so that a
 * batch decided again (a lost commit) counts once. An owner reads them
 * once before it decides anything (its setup waits for that), so that a
 * daemon that just started or took over sends no alert a silence holds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer_int.h"
#include "log.h"
#include "silence.h"

#define SILENCE_POLL_MS	500

struct cons_silence {
	struct consumer	*c;
	struct event	*poll;
	struct silences	 set;
	char		 rev[32];	/* of the set held; "" none read */
	char		 want[32];	/* of the HGETALL in flight */
	bool		 busy;		/* a GET or HGETALL in flight */
	bool		 read;		/* Redis answered a poll once */
	bool		 warned;	/* a failed HGETALL said, until one works */
	bool		 freeing;
};

/* answered: Redis answered a poll (an error too: the set held stays);
 * an owner's setup waiting for that goes on. */
static void
answered(struct cons_silence *cs)
{
	if (cs->read)
		return;
	cs->read = true;
	cons_setup_done(cs->c);
}

static void
loaded_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct cons_silence *cs = priv;
	redisReply *reply = r;
	char err[256];
	size_t i, bad = 0;

	(void)ac;
	cs->busy = false;
	if (cs->freeing) {
		free(cs);
		return;
	}
	if (reply == NULL)
		return;		/* the connection: the next poll */
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements % 2 != 0) {
		if (!cs->warned)
			log_warnx("silences: HGETALL %ssilences: %s; the "
			    "silences held stay (said once until it works)",
			    cs->c->cf->state_prefix, reply->type ==
			    REDIS_REPLY_ERROR ? reply->str : "not a hash");
		cs->warned = true;
		answered(cs);	/* the next poll tries again */
		return;
	}
	cs->warned = false;
	silences_clear(&cs->set);
	for (i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *k = reply->element[i];
		const redisReply *v = reply->element[i + 1];

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING ||
		    silence_load(&cs->set, k->str, k->len, v->str, v->len,
		    err, sizeof(err)) == -1) {
			if (bad++ == 0)
				log_warnx("silences: skipping one: %s",
				    k->type == REDIS_REPLY_STRING &&
				    v->type == REDIS_REPLY_STRING ? err :
				    "not a string");
		}
	}
	(void)str_copy(cs->rev, sizeof(cs->rev), cs->want);
	log_info("silences: %zu loaded (revision %s)", cs->set.n, cs->rev);
	answered(cs);
}

static void
rev_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct cons_silence *cs = priv;
	redisReply *reply = r;
	char key[300];
	const char *argv[] = { "HGETALL", key };
	const char *rev;

	(void)ac;
	cs->busy = false;
	if (cs->freeing) {
		free(cs);
		return;
	}
	if (reply == NULL)
		return;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_STRING &&
	    reply->len < sizeof(cs->rev))
		rev = reply->str;
	else if (reply->type == REDIS_REPLY_NIL)
		rev = "0";
	else {
		answered(cs);
		return;
	}
	if (strcmp(rev, cs->rev) == 0) {
		answered(cs);
		return;
	}
	(void)str_copy(cs->want, sizeof(cs->want), rev);
	snprintf(key, sizeof(key), "%ssilences", cs->c->cf->state_prefix);
	if (cons_send(cs->c->wr, loaded_cb, cs, 2, argv, NULL) == 0)
		cs->busy = true;
}

static void
poll_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct cons_silence *cs = arg;
	char key[300];
	const char *argv[] = { "GET", key };

	(void)fd;
	(void)ev;
	if (cs->busy || !rconn_ready(cs->c->wr))
		return;
	snprintf(key, sizeof(key), "%ssilences:rev",
	    cs->c->cf->state_prefix);
	if (cons_send(cs->c->wr, rev_cb, cs, 2, argv, NULL) == 0)
		cs->busy = true;
}

void
cons_silence_poll(struct consumer *c)
{
	if (c->sil != NULL)
		poll_cb(-1, 0, c->sil);
}

bool
cons_silence_read(const struct consumer *c)
{
	return c->sil == NULL || c->sil->read;
}

struct cons_silence *
cons_silence_new(struct consumer *c)
{
	struct cons_silence *cs = xcalloc(1, sizeof(*cs));
	struct timeval tv;

	cs->c = c;
	silences_init(&cs->set);
	cs->poll = event_new(c->base, -1, EV_PERSIST, poll_cb, cs);
	tv.tv_sec = 0;
	tv.tv_usec = SILENCE_POLL_MS * 1000;
	evtimer_add(cs->poll, &tv);
	return cs;
}

void
cons_silence_free(struct cons_silence *cs)
{
	if (cs == NULL)
		return;
	event_free(cs->poll);
	silences_free(&cs->set);
	/* A reply still on its way frees it (its callback runs once). */
	if (cs->busy)
		cs->freeing = true;
	else
		free(cs);
}

void
cons_silence_mark(struct consumer *c, struct state_req *req)
{
	if (c->sil != NULL)
		(void)silences_mark(&c->sil->set, req);
}

void
cons_silence_count(struct consumer *c, const struct state_req *req)
{
	if (c->sil != NULL && c->sil->set.n > 0)
		(void)silences_count(&c->sil->set, req);
}

void
cons_silence_commit(struct consumer *c, struct batch *b)
{
	struct cmds *a = &b->cm.cmds;
	struct silence *s;
	char key[400];
	size_t i;

	if (c->sil == NULL)
		return;
	for (i = 0; i < c->sil->set.n; i++) {
		s = &c->sil->set.v[i];
		if (s->count == 0)
			continue;
		snprintf(key, sizeof(key), "%ssilence:%s", b->cf->state_prefix,
		    s->id);
		cmd_begin(a);
		cmd_str(a, "HINCRBY");
		cmd_str(a, key);
		cmd_str(a, "count");
		cmd_num(a, (long long)s->count);
		cmd_end(a);
		commit_added(&b->cm, 1, CK_STATE, 0);
		/* Counted here, as decided: a batch decided again after a
		 * lost commit counts again in the figures (not in Redis). */
		stats_count(&c->stats->silenced, s->id, NULL, s->count);
		s->count = 0;
	}
}
