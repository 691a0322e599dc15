/*
 * consumer_load.c — what a batch needs from Redis before it is decided
 * (consumer.h): each event's CRM hash (enrichment), then the store's
 * entities that are not resident (store_needs: MGET for strings, HGETALL
 * for hashes), each stage one pipelined round trip for the whole batch.
 * The store names a customer's case only once it holds the customer, so
 * the entities take two rounds at most.
 *
 * Isolation. A reply about one event that is wrong for that event (a
 * CRM key that is not a hash) dead-letters that event alone, with the
 * reason. A refusal Redis gives for the moment (OOM, BUSY, LOADING...)
 * or a lost reply fails the batch, which is read again after a backoff
 * without counting it as a delivery. An entity key of the wrong type is
 * taken as empty (logged): the commit replaces it, and one damaged key
 * cannot stop the stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer_int.h"
#include "engine.h"
#include "event.h"
#include "log.h"
#include "util.h"

struct reply_ctx *
reply_ctx(struct consumer *c, struct batch *b, size_t idx)
{
	struct reply_ctx *x = xmalloc(sizeof(*x));

	x->c = c;
	x->slot = b->slot;
	x->gen = b->gen;
	x->idx = idx;
	x->n = 0;
	return x;
}

struct batch *
reply_batch(const struct reply_ctx *x, enum bstage st)
{
	struct batch *b = &x->c->b[x->slot];

	return b->gen == x->gen && b->st == st ? b : NULL;
}

/* reply_done: one expected reply of the stage arrived; true when it was
 * the last. A lost or refused one marks the batch failed. */
static bool
reply_done(struct batch *b, const redisReply *r, bool per_event_ok)
{
	if (r == NULL) {
		b->failed = true;
		snprintf(b->why, sizeof(b->why), "connection lost");
	} else if (r->type == REDIS_REPLY_ERROR && !per_event_ok) {
		b->failed = true;
		b->transient = b->transient || is_transient(r);
		b->blame = b->blame || !is_transient(r);
		(void)str_copy(b->why, sizeof(b->why), r->str);
	}
	return --b->outstanding == 0;
}

/* --- enrichment ----------------------------------------------------------- */

static void
enrich_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct reply_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r;
	struct batch *b = reply_batch(x, BS_ENRICH);
	struct entry *e;
	char key[300];
	size_t i;

	(void)ac;
	if (b == NULL) {
		free(x);
		return;
	}
	e = &b->v[x->idx];
	free(x);
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    !is_transient(reply)) {
		/* This event's CRM key holds something else. */
		e->st = E_FAILED;
		e->reason = "enrich";
		snprintf(e->errmsg, sizeof(e->errmsg), "enrichment failed: "
		    "%s (enrich.customer_key must name a hash)", reply->str);
		c->stats->dead_enrich++;
		log_warnx("event %s: %s", e->id, e->errmsg);
	} else if (reply_ok(reply) && reply->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i + 1 < reply->elements; i += 2) {
			/* A NUL would cut the text short where it is used
			 * as a C string: such a CRM field is left out. */
			if (reply->element[i]->str == NULL ||
			    reply->element[i + 1]->str == NULL ||
			    memchr(reply->element[i]->str, '\0',
			    reply->element[i]->len) != NULL ||
			    memchr(reply->element[i + 1]->str, '\0',
			    reply->element[i + 1]->len) != NULL)
				continue;
			snprintf(key, sizeof(key), "customer.%s",
			    reply->element[i]->str);
			/* The event's own customer.<field> wins. */
			(void)evt_set(&e->ev, key, reply->element[i + 1]->str,
			    reply->element[i + 1]->len, false);
		}
	}
	if (!reply_done(b, reply, true))
		return;
	if (b->failed)
		cons_fail(c, b, b->blame, b->why);
	else
		cons_load(c, b);
}

void
cons_enrich(struct consumer *c, struct batch *b)
{
	struct reply_ctx *x;
	const char *argv[2];
	char key[512];
	size_t i;

	b->st = BS_ENRICH;
	b->outstanding = 1;	/* held until all are sent */
	b->failed = false;
	for (i = 0; i < b->n; i++) {
		struct entry *e = &b->v[i];
		if (!c->enrich || e->st != E_OK || !engine_customer_key(b->cf,
		    &e->ev, key, sizeof(key)))
			continue;
		x = reply_ctx(c, b, i);
		argv[0] = "HGETALL";
		argv[1] = key;
		if (cons_send(c->wr, enrich_cb, x, 2, argv, NULL) == -1) {
			free(x);
			b->failed = true;
			snprintf(b->why, sizeof(b->why), "redis not connected");
			break;
		}
		b->outstanding++;
	}
	if (--b->outstanding == 0) {
		if (b->failed)
			cons_fail(c, b, false, b->why);
		else
			cons_load(c, b);
	}
}

/* --- the store's entities ----------------------------------------------- */

static void
need_cb(void *ctx, const char *key, size_t klen, enum store_kind kind)
{
	struct batch *b = ctx;

	if (b->nneeds == b->capneeds) {
		b->capneeds = b->capneeds ? b->capneeds * 2 : 256;
		b->needs = xreallocarray(b->needs, b->capneeds,
		    sizeof(*b->needs));
	}
	b->needs[b->nneeds].key = arena_strndup(&b->arena, key, klen);
	b->needs[b->nneeds].klen = klen;
	b->needs[b->nneeds].kind = kind;
	b->nneeds++;
}

static void load_round(struct consumer *, struct batch *);

static void
loaded(struct consumer *c, struct batch *b)
{
	if (b->failed)
		cons_fail(c, b, b->blame, b->why);
	else
		load_round(c, b);
}

/* mget_cb: x->idx .. x->idx + x->n of b->needs, all strings. */
static void
mget_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct reply_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r;
	struct batch *b = reply_batch(x, BS_LOAD);
	size_t i;

	(void)ac;
	if (b == NULL) {
		free(x);
		return;
	}
	if (reply_ok(reply) && (reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != x->n)) {
		b->failed = true;
		snprintf(b->why, sizeof(b->why), "MGET: unexpected reply");
	} else if (reply_ok(reply)) {
		for (i = 0; i < x->n; i++) {
			const struct need *nd = &b->needs[x->idx + i];
			const redisReply *v = reply->element[i];

			if (v->type == REDIS_REPLY_STRING)
				(void)store_load_string(c->store, nd->key,
				    nd->klen, v->str, v->len);
			else
				(void)store_load_string(c->store, nd->key,
				    nd->klen, NULL, 0);
		}
	}
	free(x);
	if (reply_done(b, reply, false))
		loaded(c, b);
}

static void
hgetall_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct reply_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r;
	struct batch *b = reply_batch(x, BS_LOAD);
	const struct need *nd;
	const char **f, **v;
	size_t *fl, *vl, i, n;

	(void)ac;
	if (b == NULL) {
		free(x);
		return;
	}
	nd = &b->needs[x->idx];
	free(x);
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
	    !is_transient(reply)) {
		log_warnx("%.*s: %s; taken as empty (the next commit "
		    "replaces it)", (int)nd->klen, nd->key, reply->str);
		(void)store_load_hash(c->store, nd->key, nd->klen, NULL, NULL,
		    NULL, NULL, 0);
		if (--b->outstanding == 0)
			loaded(c, b);
		return;
	}
	if (reply_ok(reply) && reply->type == REDIS_REPLY_ARRAY) {
		n = reply->elements / 2;
		f = arena_alloc(&b->arena, (n + 1) * sizeof(*f));
		v = arena_alloc(&b->arena, (n + 1) * sizeof(*v));
		fl = arena_alloc(&b->arena, (n + 1) * sizeof(*fl));
		vl = arena_alloc(&b->arena, (n + 1) * sizeof(*vl));
		for (i = 0; i < n; i++) {
			const redisReply *k = reply->element[2 * i];
			const redisReply *w = reply->element[2 * i + 1];

			f[i] = k->str != NULL ? k->str : "";
			fl[i] = k->str != NULL ? k->len : 0;
			v[i] = w->str != NULL ? w->str : "";
			vl[i] = w->str != NULL ? w->len : 0;
		}
		(void)store_load_hash(c->store, nd->key, nd->klen, f, fl, v,
		    vl, n);
	}
	if (reply_done(b, reply, false))
		loaded(c, b);
}

/* send_needs: one MGET per MGET_CHUNK string keys, one HGETALL per hash
 * key; b->outstanding counts them. */
static void
send_needs(struct consumer *c, struct batch *b)
{
	const char *argv[MGET_CHUNK + 1];
	size_t lens[MGET_CHUNK + 1];
	struct reply_ctx *x;
	size_t i, j, k, n;

	b->outstanding = 1;
	b->failed = false;
	/* Strings first (gathered in need order), then hashes. */
	for (i = 0; i < b->nneeds && !b->failed; i = j) {
		if (b->needs[i].kind != SK_STRING) {
			j = i + 1;
			continue;
		}
		for (j = i; j < b->nneeds && j - i < MGET_CHUNK &&
		    b->needs[j].kind == SK_STRING; j++)
			;
		n = j - i;
		argv[0] = "MGET";
		lens[0] = 4;
		for (k = 0; k < n; k++) {
			argv[1 + k] = b->needs[i + k].key;
			lens[1 + k] = b->needs[i + k].klen;
		}
		x = reply_ctx(c, b, i);
		x->n = n;
		if (rconn_cmd(c->wr, mget_cb, x, (int)(n + 1), argv, lens)
		    == -1) {
			free(x);
			b->failed = true;
			snprintf(b->why, sizeof(b->why), "redis not connected");
			break;
		}
		b->outstanding++;
	}
	for (i = 0; i < b->nneeds && !b->failed; i++) {
		if (b->needs[i].kind != SK_HASH)
			continue;
		argv[0] = "HGETALL";
		lens[0] = 7;
		argv[1] = b->needs[i].key;
		lens[1] = b->needs[i].klen;
		x = reply_ctx(c, b, i);
		if (rconn_cmd(c->wr, hgetall_cb, x, 2, argv, lens) == -1) {
			free(x);
			b->failed = true;
			snprintf(b->why, sizeof(b->why), "redis not connected");
			break;
		}
		b->outstanding++;
	}
	if (--b->outstanding == 0)
		loaded(c, b);
}

/*
 * load_round: ask the store what the batch's decisions would read that
 * it does not hold; fetch it, and ask again, until it names nothing
 * (two rounds: customers, then their cases). Then decide.
 */
static void
load_round(struct consumer *c, struct batch *b)
{
	size_t i;

	b->nneeds = 0;
	if (b->round++ < LOAD_ROUNDS) {
		for (i = 0; i < b->n; i++) {
			struct entry *e = &b->v[i];

			if (b->kind == BK_STEPS) {
				char case_id[ENGINE_ID_MAX], rule[128];
				int step;

				if (store_parse_member(e->member, e->mlen,
				    case_id, sizeof(case_id), &step, rule,
				    sizeof(rule)) == 0)
					store_needs_case(c->store, case_id,
					    need_cb, b);
			} else if (e->st == E_OK && (e->nfires > 0 ||
			    e->req.loop))
				store_needs(c->store, &e->req, need_cb, b);
			else if (e->st == E_CMD && e->cmd->op != CMD_NONE)
				store_needs_case(c->store, e->cmd->case_id,
				    need_cb, b);
		}
	}
	if (b->nneeds == 0) {
		/* decide_cb, once the loop has run what came with the
		 * loads' answers */
		b->st = BS_DECIDE;
		event_active(c->decide_ev, EV_TIMEOUT, 1);
		return;
	}
	send_needs(c, b);
}

/*
 * cons_load: match every valid event (after enrichment: rules may read
 * customer.*), prepare its request to the store, and load what the
 * store lacks. Events without candidates need nothing.
 */
void
cons_load(struct consumer *c, struct batch *b)
{
	const struct config *cf = b->cf;
	size_t i;

	b->st = BS_LOAD;
	b->nfires = 0;
	if (b->kind == BK_EVENTS)
		for (i = 0; i < b->n; i++) {
			struct entry *e = &b->v[i];

			e->nfires = 0;
			if (e->st != E_OK)
				continue;
			if (b->nfires + cf->nrules > b->capfires) {
				while (b->capfires < b->nfires + cf->nrules)
					b->capfires = b->capfires ?
					    b->capfires * 2 : 256;
				b->fires = xreallocarray(b->fires,
				    b->capfires, sizeof(*b->fires));
				b->cands = xreallocarray(b->cands,
				    b->capfires, sizeof(*b->cands));
			}
			e->fire0 = b->nfires;
			e->nfires = engine_match(cf, &e->ev,
			    &b->fires[e->fire0], cf->nrules, NULL);
			b->nfires += e->nfires;
		}
	/* The candidates' arrays no longer move: requests may point in. */
	if (b->kind == BK_EVENTS)
		for (i = 0; i < b->n; i++) {
			struct entry *e = &b->v[i];

			if (e->st == E_OK)
				state_prepare(&e->req, &e->ev,
				    &b->fires[e->fire0], e->nfires,
				    &b->cands[e->fire0], b->now_ms);
		}
	b->round = 0;
	load_round(c, b);
}
