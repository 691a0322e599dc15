/*
 * state.c — what both state stores share: turning an event and its
 * candidate firings into a state request, and an answer back into firings
 * for rendering (see state.h for the semantics).
 */
#include <math.h>
#include <string.h>

#include "state.h"

/* text: the text of a scalar field, "" when absent, null or a list. */
static const char *
text(const struct evt *ev, const char *path)
{
	const struct value *v;

	if (path == NULL || (v = evt_get(ev, path)) == NULL ||
	    v->kind == V_NULL || v->kind == V_MISSING || v->kind == V_LIST)
		return "";
	return v->s;
}

void
state_prepare(struct state_req *req, const struct evt *ev,
    const struct fire *fires, size_t nfires, struct state_cand *cands,
    int64_t now_ms)
{
	size_t i, j;

	memset(req, 0, sizeof(*req));
	req->entry_id = ev->id;
	req->t_ms = (int64_t)llround(ev->ts * 1000.0);
	req->now_ms = now_ms;
	req->customer_id = text(ev, "customer_id");
	req->call_id = text(ev, "call_id");
	req->agent_id = text(ev, "agent_id");
	req->queue = text(ev, "queue");
	req->c = cands;
	req->n = nfires;
	for (i = 0; i < nfires; i++) {
		const struct rule *r = fires[i].rule;
		struct state_cand *c = &cands[i];
		const struct value *v;

		memset(c, 0, sizeof(*c));
		c->rule = r;
		c->key = text(ev, r->cooldown_key ? r->cooldown_key :
		    "customer_id");
		if (r->has_aggregate && r->aggregate.field != NULL &&
		    (v = evt_get(ev, r->aggregate.field)) != NULL &&
		    v->has_num && v->kind != V_BOOL) {
			c->has_num = true;
			c->num = v->num;
		}
		if (r->has_after)
			c->after_val = text(ev, r->after.by);
		for (j = 0; j < r->nremember && j < STATE_MAX_REMEMBER; j++)
			c->rem_vals[j] = text(ev, r->remember[j]);
	}
}

void
state_fire_from(struct fire *f, const struct state_cand *c)
{
	f->has_count = c->has_count;
	f->count = c->count;
	f->has_value = c->has_value;
	f->value = c->value;
	f->samples = c->samples;
}
