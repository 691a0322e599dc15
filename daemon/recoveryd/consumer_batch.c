/*
 * consumer_batch.c — what a batch of stream entries goes through after it
 * was read (see consumer.h): delivery counts of re-delivered entries, CRM
 * enrichment, the decide script (state, cases, escalation schedule) and
 * the commit script (alerts, dead letters, acks), each one pipelined round
 * trip for the whole batch. consumer.c reads the batches and owns the
 * connections, timers and life cycle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertcmd.h"
#include "consumer_int.h"
#include "engine.h"
#include "event.h"
#include "log.h"
#include "scripts.h"
#include "state.h"
#include "util.h"

static void decide_all(struct consumer *);
static void commit(struct consumer *);

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
		cons_abandon(c, reply ? reply->str : "connection lost");
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

void
cons_counts(struct consumer *c)
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
	if (cons_send(c->wr, counts_cb, c, 7, argv, NULL) == -1)
		cons_abandon(c, "redis not connected");
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
	if (!current(x, ST_ENRICH)) {
		free(x);
		return;
	}
	free(x);
	if (cons_reply_done(c, reply)) {
		if (c->b.failed)
			cons_abandon(c, "enrichment read failed");
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
		if (cons_send(c->wr, enrich_cb, x, 2, argv, NULL) == -1) {
			free(x);
			c->b.failed = true;
			break;
		}
		c->b.outstanding++;
	}
	if (--c->b.outstanding == 0) {
		if (c->b.failed)
			cons_abandon(c, "redis not connected");
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
		cons_abandon(c, reply == NULL ? "connection lost" :
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
		cons_abandon(c, "redis not connected");
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
	char msg[400], *name;

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
		if (e->fvfull == NULL || e->fvfull[i] <= e->fvlens[i])
			continue;
		/* A value cut to its prefix (keep_raw): its length beside
		 * it, as "<name>_len". */
		name = arena_alloc(ar, e->fnlens[i] + 5);
		memcpy(name, e->fnames[i], e->fnlens[i]);
		memcpy(name + e->fnlens[i], "_len", 5);
		args_add(a, name, e->fnlens[i] + 4);
		args_num(a, ar, (long long)e->fvfull[i]);
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
		cons_abandon(c, reply == NULL ? "connection lost, outcome "
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
	cons_batch_end(c);
	c->stage = ST_IDLE;
	if (errs->elements > 0)
		cons_kick(c, RETRY_DELAY_MS);
	else
		cons_read_next(c);
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
		else if (e->st == E_OK)	/* the event its case's steps see */
			ncmds += case_event_command(&a, ar, &c->b.scratch,
			    cf->state_prefix, &e->cr, &e->ev);
		for (; j < c->b.nalerts && c->b.alert_entry[j] == i; j++)
			ncmds += alert_commands(&a, &c->b.arena, &c->b.alerts[j],
			    &e->ev, c->outbox_key);
		args_fill(&a, ar, slot, ncmds);
	}
	c->wr_since = now_wall();
	if (rconn_cmd(c->wr, commit_cb, c, (int)a.n, a.v, a.l) == -1)
		cons_abandon(c, "redis not connected");
	free(a.v);
	free(a.l);
}

