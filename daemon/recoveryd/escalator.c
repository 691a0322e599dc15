/*
 * escalator.c — the escalation worker (see escalator.h): claim due steps,
 * render them, write them once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alertcmd.h"
#include "engine.h"
#include "escalator.h"
#include "log.h"
#include "redis.h"
#include "scripts.h"
#include "template.h"
#include "util.h"

#define ESC_PERIOD_MS		1000
#define ESC_BATCH		64
#define ESC_INFLIGHT_MS		60000

struct claimed {
	char	 member[ENGINE_ID_MAX + 160];
	size_t	 a0, na;	/* its alerts */
	struct evt *ev;		/* not owned: index into ev[] */
};

struct escalator {
	struct event_base	*base;
	struct consumer		*cons;
	struct stats		*stats;
	struct rconn		*rc;
	char			 sha_claim[41], sha_commit[41];
	int			 loaded;	/* scripts loaded (2) */
	bool			 busy;
	struct event		*tick;
	struct evt		 ev[ESC_BATCH];
	struct claimed		 cl[ESC_BATCH];
	size_t			 ncl;
	struct arena		 arena;
	struct buf		 scratch;
	struct alert		*alerts;
	size_t			 nalerts, capalerts;
	char			 outbox_key[300];
};

static void round_start(struct escalator *);

static void
loaded_cb(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply *reply = r;
	char *sha = priv;

	(void)ac;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_STRING)
		snprintf(sha, 41, "%s", reply->str);
}

static void
loaded_last_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct escalator *x = priv;
	redisReply *reply = r;

	(void)ac;
	if (reply_ok(reply) && reply->type == REDIS_REPLY_STRING) {
		snprintf(x->sha_commit, sizeof(x->sha_commit), "%s",
		    reply->str);
		x->loaded = 1;
		round_start(x);
	} else
		x->busy = false;
}

static void
load_scripts(struct escalator *x)
{
	const char *a1[] = { "SCRIPT", "LOAD", script_esc_claim };
	const char *a2[] = { "SCRIPT", "LOAD", script_esc_commit };
	size_t l1[] = { 6, 4, strlen(script_esc_claim) };
	size_t l2[] = { 6, 4, strlen(script_esc_commit) };

	x->busy = true;
	if (rconn_cmd(x->rc, loaded_cb, x->sha_claim, 3, a1, l1) == -1 ||
	    rconn_cmd(x->rc, loaded_last_cb, x, 3, a2, l2) == -1)
		x->busy = false;
}

static void
commit_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct escalator *x = priv;
	redisReply *reply = r, *written, *errs;
	size_t i, j, k;
	bool full = x->ncl == ESC_BATCH;

	(void)ac;
	x->busy = false;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 2) {
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
		    strncmp(reply->str, "NOSCRIPT", 8) == 0)
			x->loaded = 0;
		log_warnx("escalation: %zu steps not written (%s); they run "
		    "again after %d s", x->ncl, reply == NULL ? "connection "
		    "lost" : reply->type == REDIS_REPLY_ERROR ? reply->str :
		    "unexpected reply", ESC_INFLIGHT_MS / 1000);
		return;
	}
	written = reply->element[0];
	errs = reply->element[1];
	for (i = 0; i < errs->elements; i++)
		log_warnx("escalation step %s", errs->element[i]->str);
	for (i = 0; i < written->elements; i++) {
		for (j = 0; j < x->ncl; j++) {
			struct claimed *c = &x->cl[j];
			if (strcmp(c->member, written->element[i]->str) != 0)
				continue;
			for (k = c->a0; k < c->a0 + c->na; k++) {
				const struct alert *al = &x->alerts[k];
				if (al->channel->type == CH_SYSLOG)
					alert_syslog(al, c->ev);
				stats_count(&x->stats->alerts, al->channel->name,
				    al->channel->type == CH_WEBHOOK ||
				    al->channel->type == CH_EXEC ? "queued" :
				    "ok", 1);
			}
			log_info("escalation: case %s step %s: %zu alerts",
			    c->member, strrchr(c->member, '|') + 1, c->na);
		}
	}
	if (full)
		round_start(x);		/* more may be due */
}

/*
 * render: the alerts of one claimed step, from the case snapshot
 * {member, customer_id, call_id, agent_id, queue, severity, entry, event}.
 * The step renders over the event that opened the case, as the consumer
 * saved it in the case (its fields and customer.* enrichment, see
 * case_event_command), plus the alert fields; a case without a saved
 * event (opened by an older version) still has the four fields the case
 * itself keeps.
 */
static void
render(struct escalator *x, const struct config *cf, const redisReply *s,
    double now)
{
	struct claimed *c = &x->cl[x->ncl];
	struct evt *ev = &x->ev[x->ncl];
	char casebuf[ENGINE_ID_MAX], rule[128];
	const char *m = s->element[0]->str, *bar1, *bar2;
	static const char *const fields[] = { "customer_id", "call_id",
	    "agent_id", "queue" };
	const struct rule *r;
	struct fire f;
	struct case_ref cr;
	size_t i;
	int step;

	snprintf(c->member, sizeof(c->member), "%s", m);
	c->a0 = x->nalerts;
	c->na = 0;
	c->ev = ev;
	x->ncl++;
	bar2 = strrchr(m, '|');
	if (bar2 == NULL)
		return;
	for (bar1 = bar2 - 1; bar1 > m && *bar1 != '|'; bar1--)
		;
	if (*bar1 != '|')
		return;
	snprintf(casebuf, sizeof(casebuf), "%.*s", (int)(bar1 - m), m);
	snprintf(rule, sizeof(rule), "%.*s", (int)(bar2 - bar1 - 1), bar1 + 1);
	step = atoi(bar2 + 1);
	if ((r = config_rule(cf, rule)) == NULL || step < 1 ||
	    (size_t)step > r->nescalate) {
		log_warnx("escalation: case %s: rule %s has no step %d in the "
		    "running configuration; skipping it", casebuf, rule, step);
		return;
	}
	evt_reset(ev);
	snprintf(ev->id, sizeof(ev->id), "%s", s->element[6]->str);
	ev->ts = now;
	if (s->elements >= 8 && s->element[7]->type == REDIS_REPLY_STRING &&
	    s->element[7]->len > 0 && tmpl_fields_load(ev,
	    s->element[7]->str, s->element[7]->len) == -1)
		log_warnx("escalation: case %s: its saved event is not a JSON "
		    "object; the step renders without it", casebuf);
	for (i = 0; i < ARRAY_LEN(fields); i++)
		(void)evt_set(ev, fields[i], s->element[1 + i]->str,
		    s->element[1 + i]->len, false);
	memset(&f, 0, sizeof(f));
	f.rule = r;
	f.severity = r->severity;
	memset(&cr, 0, sizeof(cr));
	snprintf(cr.case_id, sizeof(cr.case_id), "%s", casebuf);
	cr.severity = severity_parse(s->element[5]->str);
	c->na = engine_render(cf, ev, &f, &cr, step, now, &x->arena,
	    &x->scratch, &x->alerts, &x->nalerts, &x->capalerts);
}

static void
claim_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct escalator *x = priv;
	redisReply *reply = r;
	const struct config *cf = consumer_config(x->cons);
	struct args a = { 0 };
	char rfc[40];
	double now = now_wall();
	size_t i, j, slot;
	int ncmds;

	(void)ac;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY) {
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
		    strncmp(reply->str, "NOSCRIPT", 8) == 0)
			x->loaded = 0;
		else if (reply != NULL)
			log_warnx("escalation: claim failed: %s",
			    reply->type == REDIS_REPLY_ERROR ? reply->str :
			    "unexpected reply");
		x->busy = false;
		return;
	}
	if (reply->elements == 0) {
		x->busy = false;
		return;
	}
	arena_reset(&x->arena);
	x->nalerts = 0;
	x->ncl = 0;
	snprintf(x->outbox_key, sizeof(x->outbox_key), "%soutbox",
	    cf->state_prefix);
	for (i = 0; i < reply->elements && i < ESC_BATCH; i++) {
		const redisReply *s = reply->element[i];
		if (s->type == REDIS_REPLY_ARRAY && s->elements >= 7)
			render(x, cf, s, now);
	}
	format_rfc3339(now, rfc, sizeof(rfc));
	args_str(&a, "EVALSHA");
	args_str(&a, x->sha_commit);
	args_str(&a, "0");
	args_str(&a, cf->state_prefix);
	args_str(&a, rfc);
	args_num(&a, &x->arena, (long long)x->ncl);
	for (i = 0; i < x->ncl; i++) {
		struct claimed *c = &x->cl[i];
		args_str(&a, c->member);
		slot = args_slot(&a);
		ncmds = 0;
		for (j = c->a0; j < c->a0 + c->na; j++)
			ncmds += alert_commands(&a, &x->arena, &x->alerts[j],
			    c->ev, x->outbox_key);
		args_fill(&a, &x->arena, slot, ncmds);
	}
	if (rconn_cmd(x->rc, commit_cb, x, (int)a.n, a.v, a.l) == -1)
		x->busy = false;
	free(a.v);
	free(a.l);
}

static void
round_start(struct escalator *x)
{
	const struct config *cf = consumer_config(x->cons);
	char now[32], limit[16], timeout[16];
	const char *argv[] = { "EVALSHA", x->sha_claim, "0", cf->state_prefix,
	    now, limit, timeout };
	size_t lens[7], i;

	if (!rconn_ready(x->rc))
		return;
	if (x->loaded == 0) {
		if (!x->busy)
			load_scripts(x);
		return;
	}
	snprintf(now, sizeof(now), "%.0f", now_wall() * 1000);
	snprintf(limit, sizeof(limit), "%d", ESC_BATCH);
	snprintf(timeout, sizeof(timeout), "%d", ESC_INFLIGHT_MS);
	for (i = 0; i < 7; i++)
		lens[i] = strlen(argv[i]);
	x->busy = true;
	if (rconn_cmd(x->rc, claim_cb, x, 7, argv, lens) == -1)
		x->busy = false;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct escalator *x = arg;

	(void)fd;
	(void)what;
	if (!x->busy)
		round_start(x);
}

static void
conn_state(struct rconn *rc, bool up, void *arg)
{
	struct escalator *x = arg;

	(void)rc;
	x->busy = false;
	if (up)
		x->loaded = 0;	/* a restarted Redis has no scripts */
}

struct escalator *
escalator_new(struct event_base *base, const struct redis_target *t,
    struct consumer *cons, struct stats *st)
{
	struct escalator *x = xcalloc(1, sizeof(*x));
	size_t i;

	x->base = base;
	x->cons = cons;
	x->stats = st;
	x->rc = rconn_new(base, t, "escalation", conn_state, x);
	for (i = 0; i < ESC_BATCH; i++)
		evt_init(&x->ev[i]);
	arena_init(&x->arena);
	buf_init(&x->scratch);
	x->tick = event_new(base, -1, EV_PERSIST, tick_cb, x);
	return x;
}

void
escalator_start(struct escalator *x)
{
	struct timeval tv = { ESC_PERIOD_MS / 1000, (ESC_PERIOD_MS % 1000) * 1000 };

	rconn_start(x->rc);
	evtimer_add(x->tick, &tv);
}

void
escalator_free(struct escalator *x)
{
	size_t i;

	if (x == NULL)
		return;
	rconn_free(x->rc);
	event_free(x->tick);
	for (i = 0; i < ESC_BATCH; i++)
		evt_free(&x->ev[i]);
	arena_free(&x->arena);
	buf_free(&x->scratch);
	free(x->alerts);
	free(x);
}
