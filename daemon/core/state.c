/*
 * state.c — around the state store (store.h): turning an event and its
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
	/* A validated event's time is 0 .. EVT_TS_MAX (event.h); the clamp
	 * keeps any other caller's time representable too. */
	req->t_ms = evt_time_ms(ev->ts);
	req->now_ms = now_ms;
	req->customer_id = text(ev, "customer_id");
	req->call_id = text(ev, "call_id");
	req->agent_id = text(ev, "agent_id");
	req->queue = text(ev, "queue");
	req->c = cands;
	req->n = nfires;
	req->ev = ev;
	req->contact = ev->type != NULL && strcmp(ev->type, "contact") == 0;
	req->loop = req->customer_id[0] != '\0' && (req->contact ||
	    (ev->type != NULL && strcmp(ev->type, "rating") == 0));
	req->case_hint = req->contact ? text(ev, "case_id") : "";
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

int64_t
state_past_skew_ms(const struct config *cf)
{
	int64_t longest = 0, w;
	size_t i;

	if (cf->max_past_skew_ms >= 0)
		return cf->max_past_skew_ms;
	for (i = 0; i < cf->nrules; i++) {
		const struct rule *r = &cf->rules[i];

		if (!r->enabled)
			continue;
		w = r->has_count ? r->count.within_ms : r->has_aggregate ?
		    r->aggregate.within_ms : r->has_after ?
		    r->after.within_ms : 0;
		if (w > longest)
			longest = w;
	}
	/* Durations are at most 10 years (parse_duration_ms): no overflow. */
	return longest + STATE_PAST_MARGIN_MS;
}
