/*
 * consumer.c — the input stream, batch by batch (see consumer.h for the
 * stages). Everything runs on the libevent loop; every Redis callback
 * handles reply == NULL ("outcome unknown": the connection went away) by
 * abandoning the batch and re-reading this consumer's pending entries once
 * Redis is back. Nothing is acked before the commit script that writes the
 * entry's consequences has run, and the decide memo and the done keys make
 * reprocessing an entry harmless.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "alertcmd.h"
#include "consumer.h"
#include "engine.h"
#include "event.h"
#include "log.h"
#include "redis.h"
#include "scripts.h"
#include "state.h"
#include "util.h"

#define READ_BLOCK_MS		1000	/* XREADGROUP BLOCK: bounds stop latency */
#define SILENCE_GRACE_S		5	/* reply overdue by this much: drop */
#define RETRY_DELAY_MS		200
#define STATS_PERIOD_S		5

enum entry_state { E_OK, E_INVALID, E_LOST, E_DEAD };

struct entry {
	char		 id[EVENT_ID_MAX];
	enum entry_state st;
	enum event_err	 err;
	char		 errmsg[320];
	long		 deliveries;
	struct evt	 ev;
	struct arena	 raw;		/* original fields, for dead letters */
	const char	**fnames, **fvals;
	size_t		*fnlens, *fvlens;
	size_t		 nf;
	size_t		 fire0, nfires;	/* into batch.fires */
	struct case_ref	 cr;
	bool		 written;		/* this commit wrote it */
};

enum stage { ST_IDLE, ST_READING, ST_COUNTS, ST_ENRICH, ST_DECIDE,
    ST_COMMIT };

struct batch {
	struct entry	*v;
	size_t		 n, cap;
	bool		 history;	/* re-delivered: check delivery counts */
	struct fire	*fires;
	struct state_cand *cands;	/* parallel to fires */
	size_t		 nfires, capfires;
	struct alert	*alerts;
	size_t		 nalerts, capalerts;
	size_t		*alert_entry;	/* entry index of each alert */
	size_t		 capae;
	struct arena	 arena;		/* messages, JSON, command args */
	struct buf	 scratch;
	int		 outstanding;	/* replies still expected */
	bool		 failed;	/* a reply was NULL or an error */
	double		 started;
	unsigned	 gen;		/* see struct reply_ctx */
};

struct consumer {
	struct event_base	*base;
	struct config		*cf, *next_cf;
	void			(*release)(struct config *);
	char			 name[128];
	struct stats		*stats;
	struct redis_target	 target;
	struct rconn		*rd, *wr;
	char			 sha_decide[41], sha_commit[41];
	bool			 scripts_ready, group_ready;
	bool			 history;	/* read own pending entries next */
	bool			 claim_due;
	char			 claim_cursor[EVENT_ID_MAX];
	enum stage		 stage;
	double			 read_sent;	/* when the read went out */
	double			 wr_since;	/* oldest unanswered write */
	struct batch		 b;
	struct event		*tick, *kick, *claim;
	bool			 stopping;
	void			(*done)(void *);
	void			*done_arg;
	double			 stop_at;
	double			 last_stats;
	char			 health[160];
	char			 outbox_key[300];	/* <prefix>outbox */
	bool			 enrich;	/* some rule reads customer.* */
	const struct metrics_info *mi;		/* NULL: do not publish */
	struct args		 pub;		/* the HSET of the figures */
	struct arena		 pub_arena;
};

static void read_next(struct consumer *);
static void decide_all(struct consumer *);
static void commit(struct consumer *);

/* --- helpers ----------------------------------------------------------- */

static void
kick_later(struct consumer *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->kick, &tv);
}

static int
rsend(struct rconn *rc, redisCallbackFn *cb, void *priv, int argc,
    const char **argv, const size_t *lens)
{
	size_t l[64];
	int i;

	if (lens == NULL) {
		for (i = 0; i < argc && i < 64; i++)
			l[i] = strlen(argv[i]);
		lens = l;
	}
	return rconn_cmd(rc, cb, priv, argc, argv, lens);
}

/* batch_abandon: a reply was lost or refused; forget the batch (nothing
 * of it was acked) and re-read our pending entries when Redis is back. */
static void
batch_abandon(struct consumer *c, const char *why)
{
	log_warnx("batch of %zu entries not committed (%s); their entries "
	    "stay pending and will be processed again", c->b.n, why);
	c->stats->commit_failures++;
	c->b.n = 0;
	c->b.gen++;
	c->stage = ST_IDLE;
	c->history = true;
	kick_later(c, RETRY_DELAY_MS);
}

/* reply_done: one expected reply arrived; true when it was the last. */
static bool
reply_done(struct consumer *c, const redisReply *r)
{
	if (!reply_ok(r))
		c->b.failed = true;
	return --c->b.outstanding == 0;
}

static struct entry *
entry_add(struct batch *b)
{
	struct entry *e;

	if (b->n == b->cap) {
		size_t i, ncap = b->cap ? b->cap * 2 : 64;
		b->v = xreallocarray(b->v, ncap, sizeof(*b->v));
		for (i = b->cap; i < ncap; i++) {
			memset(&b->v[i], 0, sizeof(b->v[i]));
			evt_init(&b->v[i].ev);
			arena_init(&b->v[i].raw);
		}
		b->cap = ncap;
	}
	e = &b->v[b->n++];
	evt_reset(&e->ev);
	arena_reset(&e->raw);
	e->st = E_OK;
	e->err = EVERR_NONE;
	e->errmsg[0] = '\0';
	e->deliveries = 1;
	e->nf = 0;
	e->fire0 = e->nfires = 0;
	e->written = false;
	memset(&e->cr, 0, sizeof(e->cr));
	return e;
}

/* keep_raw: copy an entry's original fields for a possible dead letter. */
static void
keep_raw(struct entry *e, const redisReply *f)
{
	size_t i, n = f->elements / 2;

	e->nf = n;
	e->fnames = arena_alloc(&e->raw, (n + 1) * sizeof(char *));
	e->fvals = arena_alloc(&e->raw, (n + 1) * sizeof(char *));
	e->fnlens = arena_alloc(&e->raw, (n + 1) * sizeof(size_t));
	e->fvlens = arena_alloc(&e->raw, (n + 1) * sizeof(size_t));
	for (i = 0; i < n; i++) {
		const redisReply *k = f->element[2 * i];
		const redisReply *v = f->element[2 * i + 1];
		e->fnames[i] = arena_strndup(&e->raw, k->str ? k->str : "",
		    k->str ? k->len : 0);
		e->fnlens[i] = k->str ? k->len : 0;
		e->fvals[i] = arena_strndup(&e->raw, v->str ? v->str : "",
		    v->str ? v->len : 0);
		e->fvlens[i] = v->str ? v->len : 0;
	}
}

/*
 * parse_entry: one [id, [field, value, ...]] element of a read reply.
 * The reply is freed by hiredis after the callback, so the event copies
 * everything it keeps into its arena.
 */
static void
parse_entry(struct consumer *c, const redisReply *r, bool history)
{
	const char *names[EVENT_MAX_FIELDS + 1], *vals[EVENT_MAX_FIELDS + 1];
	size_t nl[EVENT_MAX_FIELDS + 1], vl[EVENT_MAX_FIELDS + 1];
	const redisReply *f;
	struct entry *e;
	size_t i, n;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return;
	e = entry_add(&c->b);
	snprintf(e->id, sizeof(e->id), "%s", r->element[0]->str);
	f = r->element[1];
	if (f->type != REDIS_REPLY_ARRAY) {
		/* Trimmed from the stream while it was pending. */
		e->st = E_LOST;
		log_warnx("event %s: entry was deleted from %s while pending "
		    "(stream trimmed?); its content is lost, acking it",
		    e->id, c->cf->input_stream);
		c->stats->lost++;
		return;
	}
	n = f->elements / 2;
	if (history || n > EVENT_MAX_FIELDS)
		keep_raw(e, f);
	if (n > EVENT_MAX_FIELDS) {
		e->st = E_INVALID;
		e->err = EVERR_FIELDS;
		snprintf(e->errmsg, sizeof(e->errmsg), "entry has %zu fields, "
		    "over the limit of %d", n, EVENT_MAX_FIELDS);
		return;
	}
	for (i = 0; i < n; i++) {
		const redisReply *k = f->element[2 * i];
		const redisReply *v = f->element[2 * i + 1];
		names[i] = k->str ? k->str : "";
		nl[i] = k->str ? k->len : 0;
		vals[i] = v->str ? v->str : "";
		vl[i] = v->str ? v->len : 0;
	}
	e->err = evt_from_fields(&e->ev, e->id, names, nl, vals, vl, n,
	    e->errmsg, sizeof(e->errmsg));
	if (e->err != EVERR_NONE) {
		e->st = E_INVALID;
		if (e->nf == 0)
			keep_raw(e, f);
	}
}

/* --- stage: counts (re-delivered entries) ------------------------------- */

static void enrich(struct consumer *);

static void
counts_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;
	size_t i, j;

	(void)ac;
	if (c->stage != ST_COUNTS)
		return;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY) {
		batch_abandon(c, reply ? reply->str : "connection lost");
		return;
	}
	/* [[id, consumer, idle, count], ...] */
	for (i = 0; i < reply->elements; i++) {
		redisReply *p = reply->element[i];
		if (p->type != REDIS_REPLY_ARRAY || p->elements < 4)
			continue;
		for (j = 0; j < c->b.n; j++) {
			struct entry *e = &c->b.v[j];
			if (strcmp(e->id, p->element[0]->str) != 0)
				continue;
			e->deliveries = p->element[3]->integer;
			if (e->deliveries > c->cf->max_deliveries &&
			    e->st != E_LOST) {
				e->st = E_DEAD;
				snprintf(e->errmsg, sizeof(e->errmsg),
				    "delivered %ld times without being "
				    "processed (input.max_deliveries is %d)",
				    e->deliveries, c->cf->max_deliveries);
				c->stats->dead_deliveries++;
				log_warnx("event %s: %s; moving it to %s",
				    e->id, e->errmsg, c->cf->dead_letter);
			}
		}
	}
	enrich(c);
}

static void
counts(struct consumer *c)
{
	char n[24];
	const char *argv[7];

	if (!c->b.history || c->b.n == 0) {
		enrich(c);
		return;
	}
	c->stage = ST_COUNTS;
	snprintf(n, sizeof(n), "%zu", c->b.n);
	argv[0] = "XPENDING";
	argv[1] = c->cf->input_stream;
	argv[2] = c->cf->input_group;
	argv[3] = c->b.v[0].id;
	argv[4] = c->b.v[c->b.n - 1].id;
	argv[5] = n;
	argv[6] = c->name;
	if (rsend(c->wr, counts_cb, c, 7, argv, NULL) == -1)
		batch_abandon(c, "redis not connected");
}

/* --- stage: enrich ------------------------------------------------------ */

/*
 * A reply's context: the entry it is about and the batch generation it
 * was sent in. A batch abandoned on an error reply may still have replies
 * on the way; the generation keeps them off the next batch's entries.
 */
struct reply_ctx {
	struct consumer	*c;
	unsigned	 gen;
	size_t		 idx;
};

static struct reply_ctx *
reply_ctx(struct consumer *c, size_t idx)
{
	struct reply_ctx *x = xmalloc(sizeof(*x));

	x->c = c;
	x->gen = c->b.gen;
	x->idx = idx;
	return x;
}

/* current: the reply belongs to the batch in flight, at this stage. */
static bool
current(const struct reply_ctx *x, enum stage st)
{
	return x->c->stage == st && x->gen == x->c->b.gen &&
	    x->idx < x->c->b.n;
}

static void
enrich_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct reply_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r;
	struct entry *e;
	char key[300];
	size_t i;

	(void)ac;
	if (current(x, ST_ENRICH) && reply_ok(reply) &&
	    reply->type == REDIS_REPLY_ARRAY) {
		e = &c->b.v[x->idx];
		for (i = 0; i + 1 < reply->elements; i += 2) {
			snprintf(key, sizeof(key), "customer.%s",
			    reply->element[i]->str);
			/* The event's own customer.<field> wins. */
			(void)evt_set(&e->ev, key, reply->element[i + 1]->str,
			    reply->element[i + 1]->len, false);
		}
	}
	if (!current(x, ST_ENRICH)) {
		free(x);
		return;
	}
	free(x);
	if (reply_done(c, reply)) {
		if (c->b.failed)
			batch_abandon(c, "enrichment read failed");
		else
			decide_all(c);
	}
}

/* customer_key: render enrich.customer_key ("ivr:customer:{customer_id}"). */
static bool
customer_key(const struct config *cf, const struct evt *ev, char *out,
    size_t cap)
{
	const char *p = cf->enrich_customer_key, *open, *close;
	const struct value *v;
	char field[128];
	size_t n = 0, l;

	if (p == NULL || *p == '\0')
		return false;
	while (*p != '\0') {
		open = strchr(p, '{');
		if (open == NULL || (close = strchr(open, '}')) == NULL) {
			l = strlen(p);
			if (n + l >= cap)
				return false;
			memcpy(out + n, p, l);
			n += l;
			break;
		}
		l = (size_t)(open - p);
		if (n + l >= cap)
			return false;
		memcpy(out + n, p, l);
		n += l;
		snprintf(field, sizeof(field), "%.*s", (int)(close - open - 1),
		    open + 1);
		v = evt_get(ev, field);
		if (v == NULL || v->kind == V_NULL || v->kind == V_LIST ||
		    v->len == 0)
			return false;
		if (n + v->len >= cap)
			return false;
		memcpy(out + n, v->s, v->len);
		n += v->len;
		p = close + 1;
	}
	out[n] = '\0';
	return true;
}

static void
enrich(struct consumer *c)
{
	struct reply_ctx *x;
	const char *argv[2];
	char key[512];
	size_t i;

	c->stage = ST_ENRICH;
	c->b.outstanding = 1;	/* held until all are sent */
	c->b.failed = false;
	for (i = 0; i < c->b.n; i++) {
		struct entry *e = &c->b.v[i];
		if (!c->enrich || e->st != E_OK || !customer_key(c->cf,
		    &e->ev, key, sizeof(key)))
			continue;
		x = reply_ctx(c, i);
		argv[0] = "HGETALL";
		argv[1] = key;
		if (rsend(c->wr, enrich_cb, x, 2, argv, NULL) == -1) {
			free(x);
			c->b.failed = true;
			break;
		}
		c->b.outstanding++;
	}
	if (--c->b.outstanding == 0) {
		if (c->b.failed)
			batch_abandon(c, "redis not connected");
		else
			decide_all(c);
	}
}

/* --- stage: decide ------------------------------------------------------ */

/* reply_str: element i of an array reply as text ("" if absent). */
static const char *
reply_str(const redisReply *r, size_t i, char *tmp, size_t cap)
{
	const redisReply *e;

	if (r == NULL || i >= r->elements)
		return "";
	e = r->element[i];
	if (e->type == REDIS_REPLY_INTEGER) {
		snprintf(tmp, cap, "%lld", e->integer);
		return tmp;
	}
	return e->str != NULL ? e->str : "";
}

/*
 * decide_answer: read the decide script's answer for entry x->idx: the
 * case, then per candidate fired/count/value/samples; keep only the
 * candidates that fired, with their figures, for rendering.
 */
static void
decide_answer(struct consumer *c, struct entry *e, const redisReply *r)
{
	char tmp[64];
	size_t j, k, nf = 0;

	snprintf(e->cr.case_id, sizeof(e->cr.case_id), "%s",
	    reply_str(r, 0, tmp, sizeof(tmp)));
	e->cr.opened = strcmp(reply_str(r, 1, tmp, sizeof(tmp)), "1") == 0;
	e->cr.severity = severity_parse(reply_str(r, 2, tmp, sizeof(tmp)));
	for (j = 0; j < e->nfires; j++) {
		struct state_cand *sc = &c->b.cands[e->fire0 + j];
		struct fire *f = &c->b.fires[e->fire0 + j];
		long count, samples;
		const char *val;

		k = 3 + 4 * j;
		if (k + 3 >= r->elements)
			break;
		sc->fired = r->element[k]->integer == 1;
		count = r->element[k + 1]->integer;
		val = reply_str(r, k + 2, tmp, sizeof(tmp));
		samples = r->element[k + 3]->integer;
		sc->has_count = count >= 0 && f->rule->has_count;
		sc->count = count;
		sc->has_value = val[0] != '\0';
		sc->value = sc->has_value ? strtod(val, NULL) : 0;
		sc->samples = samples;
		if (!sc->fired)
			continue;
		state_fire_from(f, sc);
		c->b.fires[e->fire0 + nf++] = *f;
	}
	e->nfires = nf;
}

/* decide_cb: the answers of the batch's decide script, one per event that
 * had candidates, in batch order. */
static void
decide_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct reply_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r;
	size_t i, k = 0;

	(void)ac;
	if (!current(x, ST_DECIDE)) {
		free(x);
		return;
	}
	free(x);
	if (reply_ok(reply) && reply->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < c->b.n; i++) {
			struct entry *e = &c->b.v[i];

			if (e->st != E_OK || e->nfires == 0)
				continue;
			if (k >= reply->elements ||
			    reply->element[k]->type != REDIS_REPLY_ARRAY ||
			    reply->element[k]->elements < 3) {
				c->b.failed = true;
				break;
			}
			decide_answer(c, e, reply->element[k++]);
		}
	} else {
		c->b.failed = true;
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
			if (strncmp(reply->str, "NOSCRIPT", 8) == 0)
				c->scripts_ready = false;
			else
				log_warnx("decide script failed for a batch of "
				    "%zu entries from %s: %s", c->b.n,
				    c->b.v[0].id, reply->str);
		}
	}
	if (c->b.failed)
		batch_abandon(c, reply == NULL ? "connection lost" :
		    "decide script failed");
	else
		commit(c);
}

static void
fires_reserve(struct batch *b, size_t n)
{
	if (b->nfires + n <= b->capfires)
		return;
	while (b->capfires < b->nfires + n)
		b->capfires = b->capfires ? b->capfires * 2 : 256;
	b->fires = xreallocarray(b->fires, b->capfires, sizeof(*b->fires));
	b->cands = xreallocarray(b->cands, b->capfires, sizeof(*b->cands));
}

/* decide_args: append one event's part of the decide script's
 * arguments (scripts.c). */
static void
decide_args(struct consumer *c, const struct state_req *req, struct args *a)
{
	struct arena *ar = &c->b.arena;
	size_t j, k;

	args_str(a, req->entry_id);
	args_num(a, ar, req->t_ms);
	args_str(a, req->customer_id);
	args_str(a, req->call_id);
	args_str(a, req->agent_id);
	args_str(a, req->queue);
	args_num(a, ar, (long long)req->n);
	for (j = 0; j < req->n; j++) {
		const struct state_cand *sc = &req->c[j];
		const struct rule *r = sc->rule;

		args_str(a, r->name);
		args_str(a, severity_name(r->severity));
		args_str(a, r->has_count ? "c" : r->has_aggregate ? "a" :
		    r->has_after ? "f" : "p");
		args_str(a, sc->key);
		args_num(a, ar, r->cooldown_ms);
		if (r->has_count) {
			args_num(a, ar, r->count.within_ms);
			args_num(a, ar, r->count.at_least);
		} else if (r->has_aggregate) {
			char num[40];
			args_num(a, ar, r->aggregate.within_ms);
			args_str(a, agg_fn_name(r->aggregate.fn));
			args_num(a, ar, r->aggregate.min_samples);
			args_str(a, sc->has_num ? "1" : "0");
			snprintf(num, sizeof(num), "%.17g", sc->num);
			args_str(a, arena_strndup(ar, num, strlen(num)));
			args_str(a, r->aggregate.alert_rpn ?
			    r->aggregate.alert_rpn : "0");
		} else if (r->has_after) {
			args_str(a, r->after.rule);
			args_str(a, r->after.by);
			args_num(a, ar, r->after.within_ms);
			args_str(a, sc->after_val ? sc->after_val : "");
		}
		args_num(a, ar, (long long)r->nremember);
		args_num(a, ar, r->remember_ms);
		for (k = 0; k < r->nremember && k < STATE_MAX_REMEMBER; k++) {
			args_str(a, r->remember[k]);
			args_str(a, sc->rem_vals[k] ? sc->rem_vals[k] : "");
		}
		args_num(a, ar, (long long)r->nescalate);
		for (k = 0; k < r->nescalate; k++) {
			const struct notify *nt = &r->escalate[k].n;
			char set[256];
			size_t m, l = 0;

			args_num(a, ar, r->escalate[k].after_ms);
			set[0] = '\0';
			for (m = 0; m < nt->nchans && l < sizeof(set); m++)
				l += (size_t)snprintf(set + l, sizeof(set) - l,
				    "%s%s", m ? "," : "",
				    c->cf->channels[nt->chans[m]].name);
			args_str(a, arena_strndup(ar, set, strlen(set)));
		}
	}
}

/*
 * decide_all: match every valid event, then decide the candidates of the
 * whole batch with one decide script call (events in stream order, so
 * that events of one customer see each other's state in order).
 */
static void
decide_all(struct consumer *c)
{
	struct config *cf = c->cf;
	struct reply_ctx *x;
	struct state_req req;
	struct args a = { 0 };
	int64_t now_ms = (int64_t)(now_wall() * 1000);
	size_t i, nslot, nev = 0;
	char rfc[40];

	c->stage = ST_DECIDE;
	c->b.failed = false;
	c->b.nfires = 0;
	args_str(&a, "EVALSHA");
	args_str(&a, c->sha_decide);
	args_str(&a, "0");
	args_str(&a, cf->state_prefix);
	args_num(&a, &c->b.arena, now_ms);
	format_rfc3339(now_ms / 1000.0, rfc, sizeof(rfc));
	args_str(&a, arena_strndup(&c->b.arena, rfc, strlen(rfc)));
	nslot = args_slot(&a);
	for (i = 0; i < c->b.n; i++) {
		struct entry *e = &c->b.v[i];

		if (e->st != E_OK)
			continue;
		fires_reserve(&c->b, cf->nrules);
		e->fire0 = c->b.nfires;
		e->nfires = engine_match(cf, &e->ev, &c->b.fires[e->fire0],
		    cf->nrules, NULL);
		c->b.nfires += e->nfires;
		if (e->nfires == 0)
			continue;
		state_prepare(&req, &e->ev, &c->b.fires[e->fire0], e->nfires,
		    &c->b.cands[e->fire0], now_ms);
		decide_args(c, &req, &a);
		nev++;
	}
	args_fill(&a, &c->b.arena, nslot, (long long)nev);
	if (nev == 0) {
		free(a.v);
		free(a.l);
		commit(c);
		return;
	}
	x = reply_ctx(c, 0);
	if (rconn_cmd(c->wr, decide_cb, x, (int)a.n, a.v, a.l) == -1) {
		free(x);
		free(a.v);
		free(a.l);
		batch_abandon(c, "redis not connected");
		return;
	}
	free(a.v);
	free(a.l);
}

/* --- stage: commit ------------------------------------------------------ */

static int
dead_letter_command(struct consumer *c, struct args *a, struct entry *e)
{
	struct arena *ar = &c->b.arena;
	size_t slot, start, i;
	char msg[400];

	slot = args_slot(a);
	start = a->n;
	args_str(a, "XADD");
	args_str(a, c->cf->dead_letter);
	args_str(a, "MAXLEN");
	args_str(a, "~");
	args_str(a, "1000000");
	args_str(a, "*");
	for (i = 0; i < e->nf; i++) {
		args_add(a, e->fnames[i], e->fnlens[i]);
		args_add(a, e->fvals[i], e->fvlens[i]);
	}
	args_str(a, "source_id");
	args_str(a, e->id);
	snprintf(msg, sizeof(msg), "event %s: %s", e->id, e->errmsg);
	args_str(a, "error");
	args_str(a, arena_strndup(ar, msg, strlen(msg)));
	args_str(a, "reason");
	args_str(a, e->st == E_DEAD ? "max_deliveries" :
	    evt_err_reason(e->err));
	args_fill(a, ar, slot, (long long)(a->n - start));
	return 1;
}

static void
commit_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r, *written, *errs;
	size_t i, j;
	double now = now_wall();

	(void)ac;
	if (c->stage != ST_COMMIT)
		return;
	c->wr_since = 0;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 3) {
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
		    strncmp(reply->str, "NOSCRIPT", 8) == 0)
			c->scripts_ready = false;
		batch_abandon(c, reply == NULL ? "connection lost, outcome "
		    "unknown" : reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "unexpected reply");
		return;
	}
	written = reply->element[1];
	errs = reply->element[2];
	for (i = 0; i < written->elements; i++)
		for (j = 0; j < c->b.n; j++)
			if (strcmp(c->b.v[j].id, written->element[i]->str) == 0)
				c->b.v[j].written = true;
	for (i = 0; i < errs->elements; i++)
		log_warnx("event %s: not acked, will be retried",
		    errs->element[i]->str);
	if (errs->elements > 0) {
		c->history = true;
		c->stats->commit_failures++;
	}
	/* Counters and syslog alerts, for entries this commit wrote. */
	for (i = 0; i < c->b.nalerts; i++) {
		const struct alert *al = &c->b.alerts[i];
		struct entry *e = &c->b.v[c->b.alert_entry[i]];
		if (!e->written)
			continue;
		if (al->channel->type == CH_SYSLOG)
			alert_syslog(al, &e->ev);
		stats_count(&c->stats->alerts, al->channel->name,
		    al->channel->type == CH_WEBHOOK ||
		    al->channel->type == CH_EXEC ? "queued" : "ok", 1);
	}
	for (i = 0; i < c->b.n; i++) {
		struct entry *e = &c->b.v[i];
		double t = stream_id_time(e->id);
		if (!e->written)
			continue;
		if (e->st == E_INVALID)
			c->stats->invalid[e->err]++;
		else if (e->st == E_OK)
			stats_event_type(c->stats, e->ev.type);
		for (j = 0; j < e->nfires; j++)
			stats_count(&c->stats->rule_fires,
			    c->b.fires[e->fire0 + j].rule->name, NULL, 1);
		if (t > 0)
			stats_latency(c->stats, now - t);
	}
	c->stats->batches++;
	c->b.n = 0;
	c->stage = ST_IDLE;
	if (errs->elements > 0)
		kick_later(c, RETRY_DELAY_MS);
	else
		read_next(c);
}

static void
commit(struct consumer *c)
{
	struct config *cf = c->cf;
	struct args a = { 0 };
	struct arena *ar = &c->b.arena;
	size_t i, j, slot, before;
	double fired = now_wall();

	c->stage = ST_COMMIT;
	c->b.nalerts = 0;
	/* Render every firing's alerts. */
	for (i = 0; i < c->b.n; i++) {
		struct entry *e = &c->b.v[i];
		for (j = 0; j < e->nfires; j++) {
			before = c->b.nalerts;
			engine_render(cf, &e->ev, &c->b.fires[e->fire0 + j],
			    &e->cr, 0, fired, ar, &c->b.scratch, &c->b.alerts,
			    &c->b.nalerts, &c->b.capalerts);
			if (c->b.capae < c->b.capalerts) {
				c->b.capae = c->b.capalerts;
				c->b.alert_entry = xreallocarray(
				    c->b.alert_entry, c->b.capae,
				    sizeof(size_t));
			}
			for (; before < c->b.nalerts; before++)
				c->b.alert_entry[before] = i;
		}
	}

	args_str(&a, "EVALSHA");
	args_str(&a, c->sha_commit);
	args_str(&a, "0");
	args_str(&a, cf->input_stream);
	args_str(&a, cf->input_group);
	args_str(&a, c->name);
	args_num(&a, ar, (long long)c->b.n);
	for (i = 0, j = 0; i < c->b.n; i++) {
		struct entry *e = &c->b.v[i];
		int ncmds = 0;

		args_str(&a, e->id);
		slot = args_slot(&a);
		if (e->st == E_INVALID || e->st == E_DEAD)
			ncmds += dead_letter_command(c, &a, e);
		for (; j < c->b.nalerts && c->b.alert_entry[j] == i; j++)
			ncmds += alert_commands(&a, &c->b.arena, &c->b.alerts[j],
			    &e->ev, c->outbox_key);
		args_fill(&a, ar, slot, ncmds);
	}
	c->wr_since = now_wall();
	if (rconn_cmd(c->wr, commit_cb, c, (int)a.n, a.v, a.l) == -1)
		batch_abandon(c, "redis not connected");
	free(a.v);
	free(a.l);
}

/* --- stage: read -------------------------------------------------------- */

static void
finish_stop(struct consumer *c)
{
	void (*done)(void *) = c->done;

	if (done == NULL)
		return;
	c->done = NULL;
	done(c->done_arg);
}

static void
batch_begin(struct consumer *c, bool history)
{
	c->b.n = 0;
	c->b.gen++;
	c->b.history = history;
	c->b.nfires = 0;
	c->b.nalerts = 0;
	c->b.started = now_wall();
	arena_reset(&c->b.arena);
}

/* read_entries: the entries array of a read or claim reply. */
static void
read_entries(struct consumer *c, const redisReply *arr, bool history)
{
	size_t i;

	for (i = 0; i < arr->elements; i++)
		parse_entry(c, arr->element[i], history);
}

static void
group_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;

	(void)ac;
	if (reply == NULL)
		return;		/* reconnect will retry */
	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "BUSYGROUP", 9) != 0) {
		log_warnx("XGROUP CREATE %s %s: %s", c->cf->input_stream,
		    c->cf->input_group, reply->str);
		snprintf(c->health, sizeof(c->health), "cannot create group: %s",
		    reply->str);
		kick_later(c, 1000);
		return;
	}
	c->group_ready = true;
	read_next(c);
}

static void
ensure_group(struct consumer *c)
{
	const char *argv[] = { "XGROUP", "CREATE", c->cf->input_stream,
	    c->cf->input_group, "0", "MKSTREAM" };

	if (rsend(c->rd, group_cb, c, 6, argv, NULL) == -1)
		kick_later(c, 500);
}

static void
read_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r, *streams;
	bool history = c->history;

	(void)ac;
	if (c->stage != ST_READING)
		return;
	c->stage = ST_IDLE;
	c->read_sent = 0;
	if (reply == NULL) {
		c->history = true;	/* re-read pending when back */
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "NOGROUP", 7) == 0) {
			log_warnx("consumer group %s of %s is gone; creating "
			    "it again", c->cf->input_group,
			    c->cf->input_stream);
			c->group_ready = false;
			ensure_group(c);
			return;
		}
		log_warnx("XREADGROUP %s: %s", c->cf->input_stream, reply->str);
		kick_later(c, 1000);
		return;
	}
	batch_begin(c, history);
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
		streams = reply->element[0];
		if (streams->type == REDIS_REPLY_ARRAY && streams->elements == 2)
			read_entries(c, streams->element[1], history);
	}
	if (c->b.n == 0) {
		if (history)
			c->history = false;	/* caught up */
		read_next(c);
		return;
	}
	counts(c);
}

static void
claim_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;

	(void)ac;
	if (c->stage != ST_READING)
		return;
	c->stage = ST_IDLE;
	c->read_sent = 0;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 2) {
		if (reply != NULL)
			log_warnx("XAUTOCLAIM %s: %s", c->cf->input_stream,
			    reply->type == REDIS_REPLY_ERROR ? reply->str :
			    "unexpected reply");
		c->claim_due = false;
		read_next(c);
		return;
	}
	/* [next cursor, [entries], [deleted IDs]] */
	snprintf(c->claim_cursor, sizeof(c->claim_cursor), "%s",
	    reply->element[0]->str ? reply->element[0]->str : "0-0");
	if (strcmp(c->claim_cursor, "0-0") == 0)
		c->claim_due = false;
	batch_begin(c, true);
	read_entries(c, reply->element[1], true);
	if (reply->elements > 2 && reply->element[2]->elements > 0)
		log_warnx("claimed %zu entries of %s that were deleted while "
		    "pending on a dead consumer; their content is lost",
		    reply->element[2]->elements, c->cf->input_stream);
	if (c->b.n == 0) {
		read_next(c);
		return;
	}
	log_info("claimed %zu entries idle for over %lld ms from dead "
	    "consumers", c->b.n, (long long)c->cf->claim_idle_ms);
	counts(c);
}

struct load_ctx {
	struct consumer	*c;
	char		*sha;
	bool		 last;
};

static void
script_loaded(redisAsyncContext *ac, void *r, void *priv)
{
	struct load_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r;

	(void)ac;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_STRING) {
		snprintf(x->sha, 41, "%s", reply->str);
		if (x->last) {
			c->scripts_ready = true;
			read_next(c);
		}
	} else if (reply != NULL)
		log_warnx("SCRIPT LOAD: %s", reply->str ? reply->str : "?");
	free(x);
}

static void
load_scripts(struct consumer *c)
{
	const char *src[] = { script_decide, script_commit };
	char *sha[] = { c->sha_decide, c->sha_commit };
	struct load_ctx *x;
	const char *argv[3];
	size_t i;

	for (i = 0; i < 2; i++) {
		x = xmalloc(sizeof(*x));
		x->c = c;
		x->sha = sha[i];
		x->last = i == 1;
		argv[0] = "SCRIPT";
		argv[1] = "LOAD";
		argv[2] = src[i];
		if (rsend(c->wr, script_loaded, x, 3, argv, NULL) == -1) {
			free(x);
			return;
		}
	}
}

/*
 * apply_config: swap in a reloaded configuration. Only between batches
 * (idle, or waiting for a read: hiredis has copied the read's arguments,
 * so the old strings are no longer needed), so that a batch is judged
 * by one rule set from start to end and an event that arrives after the
 * reload is judged by the new one.
 */
static void
apply_config(struct consumer *c)
{
	struct config *old = c->cf;

	if (c->next_cf == NULL || (c->stage != ST_IDLE &&
	    c->stage != ST_READING))
		return;
	c->cf = c->next_cf;
	c->next_cf = NULL;
	snprintf(c->outbox_key, sizeof(c->outbox_key), "%soutbox",
	    c->cf->state_prefix);
	c->enrich = engine_reads_prefix(c->cf, "customer.");
	if (c->release != NULL)
		c->release(old);
}

/*
 * read_next: start the next batch if nothing is in flight: apply a pending
 * reload, then claim entries of dead consumers if due, else read.
 */
static void
read_next(struct consumer *c)
{
	char count[24], block[24], idle[24];

	if (c->stage != ST_IDLE)
		return;
	apply_config(c);
	if (c->stopping) {
		finish_stop(c);
		return;
	}
	if (!rconn_ready(c->rd) || !rconn_ready(c->wr))
		return;		/* the state callbacks call us again */
	if (!c->scripts_ready) {
		load_scripts(c);
		return;
	}
	if (!c->group_ready) {
		ensure_group(c);
		return;
	}
	snprintf(count, sizeof(count), "%d", c->cf->input_batch);
	if (c->claim_due && !c->history) {
		const char *argv[] = { "XAUTOCLAIM", c->cf->input_stream,
		    c->cf->input_group, c->name, idle, c->claim_cursor,
		    "COUNT", count };
		snprintf(idle, sizeof(idle), "%lld",
		    (long long)c->cf->claim_idle_ms);
		if (rsend(c->rd, claim_cb, c, 8, argv, NULL) == 0) {
			c->stage = ST_READING;
			c->read_sent = now_wall();
		}
		return;
	}
	snprintf(block, sizeof(block), "%d", READ_BLOCK_MS);
	{
		const char *argv[] = { "XREADGROUP", "GROUP",
		    c->cf->input_group, c->name, "COUNT", count, "BLOCK", block,
		    "STREAMS", c->cf->input_stream, c->history ? "0" : ">" };
		/* A history read never blocks: BLOCK is ignored for it. */
		if (rsend(c->rd, read_cb, c, 11, argv, NULL) == 0) {
			c->stage = ST_READING;
			c->read_sent = now_wall();
		}
	}
}

/* --- timers and connection state --------------------------------------- */

static void
kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	read_next(arg);
}

static void
claim_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct consumer *c = arg;

	(void)fd;
	(void)ev;
	if (!c->claim_due) {
		c->claim_due = true;
		snprintf(c->claim_cursor, sizeof(c->claim_cursor), "0-0");
	}
}

static void
lag_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;
	size_t i, j;

	(void)ac;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY)
		return;
	/* XINFO GROUPS: one flat [name, value, ...] array per group. */
	for (i = 0; i < reply->elements; i++) {
		redisReply *g = reply->element[i];
		bool ours = false;
		long long lag = -1;
		for (j = 0; j + 1 < g->elements; j += 2) {
			const char *k = g->element[j]->str;
			redisReply *v = g->element[j + 1];
			if (k == NULL)
				continue;
			if (strcmp(k, "name") == 0 && v->str != NULL)
				ours = strcmp(v->str, c->cf->input_group) == 0;
			else if (strcmp(k, "lag") == 0)
				lag = v->type == REDIS_REPLY_INTEGER ?
				    v->integer : -1;
		}
		if (ours)
			c->stats->stream_lag = lag;
	}
}

static void
open_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;

	(void)ac;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_INTEGER)
		c->stats->cases_open = reply->integer;
}

static void
publish_cb(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	(void)r;
	(void)priv;
}

/* publish: the figures for "recoveryctl stats", in a hash that expires
 * when the daemon stops refreshing it. Best effort: a lost reply is made
 * good by the next tick. */
static void
publish(struct consumer *c)
{
	char key[400];
	const char *ea[] = { "EXPIRE", key, "30" };

	snprintf(key, sizeof(key), "%sdaemon:%s", c->cf->state_prefix,
	    c->name);
	c->pub.n = 0;
	arena_reset(&c->pub_arena);
	metrics_publish_args(c->stats, c->mi, key, &c->pub, &c->pub_arena);
	if (rconn_cmd(c->wr, publish_cb, c, (int)c->pub.n, c->pub.v,
	    c->pub.l) == 0)
		(void)rsend(c->wr, publish_cb, c, 3, ea, NULL);
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct consumer *c = arg;
	double now = now_wall();

	(void)fd;
	(void)ev;
	/* Watchdogs: a read or write unanswered far past its due time
	 * means a silent connection; drop it and reconnect. */
	if (c->stage == ST_READING && c->read_sent > 0 &&
	    now - c->read_sent > READ_BLOCK_MS / 1000.0 + SILENCE_GRACE_S)
		rconn_drop(c->rd, "read unanswered");
	if (c->wr_since > 0 && now - c->wr_since > 2 * SILENCE_GRACE_S) {
		c->wr_since = 0;
		rconn_drop(c->wr, "write unanswered");
	}
	if (c->stopping && c->stop_at > 0 && now > c->stop_at) {
		log_warnx("could not finish the batch in flight within the "
		    "stop timeout; its entries stay pending");
		c->stage = ST_IDLE;
		finish_stop(c);
		return;
	}
	c->stats->redis_reconnects = rconn_reconnects(c->rd) +
	    rconn_reconnects(c->wr);
	if (now - c->last_stats >= STATS_PERIOD_S && rconn_ready(c->wr)) {
		const char *xa[] = { "XINFO", "GROUPS", c->cf->input_stream };
		char key[300];
		const char *za[] = { "ZCARD", key };
		c->last_stats = now;
		snprintf(key, sizeof(key), "%scases:open", c->cf->state_prefix);
		(void)rsend(c->wr, lag_cb, c, 3, xa, NULL);
		(void)rsend(c->wr, open_cb, c, 2, za, NULL);
		if (c->mi != NULL)
			publish(c);
	}
	if (c->stage == ST_IDLE)
		read_next(c);
}

static void
conn_state(struct rconn *rc, bool up, void *arg)
{
	struct consumer *c = arg;

	if (up) {
		c->health[0] = '\0';
		if (rc == c->wr)
			c->scripts_ready = false;	/* Redis may be new */
		if (rc == c->rd)
			c->group_ready = false;
		c->history = true;
		read_next(c);
		return;
	}
	snprintf(c->health, sizeof(c->health), "redis %s connection lost",
	    rc == c->rd ? "read" : "write");
	c->history = true;
	/* A batch waiting on the lost connection is abandoned by its
	 * NULL replies. */
}

/* --- public ------------------------------------------------------------ */

struct consumer *
consumer_new(struct event_base *base, struct config *cf, const char *name,
    struct stats *st, void (*release)(struct config *))
{
	struct consumer *c = xcalloc(1, sizeof(*c));
	char err[256];
	struct timeval tv;

	c->base = base;
	c->cf = cf;
	c->release = release;
	c->stats = st;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->outbox_key, sizeof(c->outbox_key), "%soutbox",
	    cf->state_prefix);
	c->enrich = engine_reads_prefix(cf, "customer.");
	if (redis_url_parse(cf->redis_url, &c->target, err, sizeof(err)) == -1)
		fatalx("redis.url: %s", err);
	c->rd = rconn_new(base, &c->target, "read", conn_state, c);
	c->wr = rconn_new(base, &c->target, "write", conn_state, c);
	c->history = true;
	snprintf(c->claim_cursor, sizeof(c->claim_cursor), "0-0");
	arena_init(&c->b.arena);
	buf_init(&c->b.scratch);
	arena_init(&c->pub_arena);
	c->tick = event_new(base, -1, EV_PERSIST, tick_cb, c);
	c->kick = evtimer_new(base, kick_cb, c);
	c->claim = event_new(base, -1, EV_PERSIST, claim_timer_cb, c);
	tv.tv_sec = 1;
	tv.tv_usec = 0;
	evtimer_add(c->tick, &tv);
	tv.tv_sec = cf->claim_idle_ms / 2000 > 0 ? cf->claim_idle_ms / 2000 : 1;
	evtimer_add(c->claim, &tv);
	snprintf(c->health, sizeof(c->health), "connecting to redis");
	return c;
}

void
consumer_start(struct consumer *c)
{
	rconn_start(c->rd);
	rconn_start(c->wr);
}

void
consumer_set_config(struct consumer *c, struct config *cf)
{
	if (c->next_cf != NULL && c->release != NULL)
		c->release(c->next_cf);
	c->next_cf = cf;
	apply_config(c);
	if (c->stage == ST_IDLE)
		read_next(c);
}

void
consumer_stop(struct consumer *c, void (*done)(void *), void *arg)
{
	c->stopping = true;
	c->done = done;
	c->done_arg = arg;
	c->stop_at = now_wall() + 10;
	if (c->stage == ST_IDLE)
		kick_later(c, 0);
}

void
consumer_set_metrics(struct consumer *c, const struct metrics_info *mi)
{
	c->mi = mi;
}

const char *
consumer_health(const struct consumer *c)
{
	if (!rconn_ready(c->rd) || !rconn_ready(c->wr))
		return c->health[0] ? c->health : "redis not connected";
	if (!c->scripts_ready || !c->group_ready)
		return "starting";
	return NULL;
}

const struct config *
consumer_config(const struct consumer *c)
{
	return c->cf;
}

void
consumer_free(struct consumer *c)
{
	size_t i;

	if (c == NULL)
		return;
	rconn_free(c->rd);
	rconn_free(c->wr);
	event_free(c->tick);
	event_free(c->kick);
	event_free(c->claim);
	for (i = 0; i < c->b.cap; i++) {
		evt_free(&c->b.v[i].ev);
		arena_free(&c->b.v[i].raw);
	}
	free(c->b.v);
	free(c->b.fires);
	free(c->b.cands);
	free(c->b.alerts);
	free(c->b.alert_entry);
	arena_free(&c->b.arena);
	buf_free(&c->b.scratch);
	free(c->pub.v);
	free(c->pub.l);
	arena_free(&c->pub_arena);
	if (c->release != NULL) {
		if (c->next_cf != NULL)
			c->release(c->next_cf);
		c->release(c->cf);
	}
	free(c);
}
