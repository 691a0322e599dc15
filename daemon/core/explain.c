/*
 * explain.c — why each rule did or did not fire for an event (see
 * explain.h). The static half (enabled, on, if) is evaluated here with
 * the same functions engine_match uses; the stateful half is read from
 * the candidates the store decided (state_cand.why), after sim_event.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "engine.h"
#include "explain.h"
#include "expr.h"
#include "silence.h"
#include "state.h"

#define SAFE_MAX	80	/* bytes of an event's text shown */

static const char *const result_names[] = {
	"fired", "silenced", "disabled", "other_type", "if_false", "state"
};

const char *
explain_result_name(enum explain_result r)
{
	return (size_t)r < ARRAY_LEN(result_names) ? result_names[r] : "?";
}

/* put_safe: an event's text, cut on a UTF-8 boundary, controls as '?'. */
static void
put_safe(struct buf *b, const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n > SAFE_MAX) {
		n = SAFE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		buf_putc(b, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i]);
	if (s != NULL && n < strlen(s))
		buf_puts(b, "...");
}

static bool
for_type(const struct rule *r, const char *type)
{
	size_t i;

	for (i = 0; type != NULL && i < r->non; i++)
		if (strcmp(r->on[i], type) == 0)
			return true;
	return false;
}

static void
put_dur(struct buf *b, int64_t ms)
{
	char d[32];

	if (ms <= 0)
		buf_puts(b, "0s");
	else {
		format_duration(ms, d, sizeof(d));
		buf_puts(b, d);
	}
}

static void
put_key(struct buf *b, const struct rule *r, const struct state_cand *c)
{
	buf_puts(b, "for ");
	buf_puts(b, r->cooldown_key != NULL ? r->cooldown_key :
	    "customer_id");
	if (c->key == NULL || c->key[0] == '\0')
		buf_puts(b, " missing: ");
	else {
		buf_puts(b, " = '");
		put_safe(b, c->key);
		buf_puts(b, "': ");
	}
}

static const char *
plural(long n)
{
	return n == 1 ? "" : "s";
}

/* reason_state: what the decision said about candidate c of rule r. */
static void
reason_state(const struct rule *r, const struct state_cand *c, int64_t t_ms,
    struct buf *b)
{
	char v[48], at[40];

	switch (c->why) {
	case STATE_WHY_FIRED:
		if (!r->has_count && !r->has_aggregate && !r->has_after) {
			if (r->cooldown_ms > 0) {
				put_key(b, r, c);
				buf_puts(b, "no firing within its cooldown ");
				put_dur(b, r->cooldown_ms);
			} else
				buf_puts(b, "stateless, no cooldown");
			return;
		}
		put_key(b, r, c);
		if (r->has_count) {
			buf_printf(b, "count %ld reached at_least %d within ",
			    c->count, r->count.at_least);
			put_dur(b, r->count.within_ms);
		} else if (r->has_aggregate) {
			engine_format_value(c->value, v, sizeof(v));
			buf_printf(b, "%s(%s) = %s over %ld sample%s within ",
			    agg_fn_name(r->aggregate.fn), r->aggregate.field ?
			    r->aggregate.field : "", v, c->samples,
			    plural(c->samples));
			put_dur(b, r->aggregate.within_ms);
		} else {
			buf_printf(b, "'%s' fired within ", r->after.rule);
			put_dur(b, r->after.within_ms);
			buf_puts(b, " before");
		}
		return;
	case STATE_WHY_NO_VALUE:
		buf_printf(b, "the event has no number in '%s' for %s()",
		    r->aggregate.field ? r->aggregate.field : "",
		    agg_fn_name(r->aggregate.fn));
		return;
	case STATE_WHY_COUNT:
		put_key(b, r, c);
		buf_printf(b, "count %ld %s at_least %d within ", c->count,
		    c->count < r->count.at_least ? "is below" : "is past",
		    r->count.at_least);
		put_dur(b, r->count.within_ms);
		if (c->count > r->count.at_least)
			buf_puts(b, " (it fires on reaching it)");
		return;
	case STATE_WHY_CROSSED:
		put_key(b, r, c);
		buf_printf(b, "count %ld reached at_least %d again, but it "
		    "already fired since the count last dropped below it",
		    c->count, r->count.at_least);
		return;
	case STATE_WHY_MIN_SAMPLES:
		engine_format_value(c->value, v, sizeof(v));
		put_key(b, r, c);
		buf_printf(b, "%ld sample%s within ", c->samples,
		    plural(c->samples));
		put_dur(b, r->aggregate.within_ms);
		buf_printf(b, ", fewer than min_samples %d (value %s)",
		    r->aggregate.min_samples, v);
		return;
	case STATE_WHY_ALERT_IF:
		engine_format_value(c->value, v, sizeof(v));
		put_key(b, r, c);
		buf_printf(b, "alert_if is false (value = %s, samples = %ld "
		    "within ", v, c->samples);
		put_dur(b, r->aggregate.within_ms);
		buf_putc(b, ')');
		return;
	case STATE_WHY_NO_AFTER_KEY:
		buf_printf(b, "after: the event has no '%s'", r->after.by);
		return;
	case STATE_WHY_NO_AFTER:
		buf_printf(b, "after: '%s' did not fire for %s = '",
		    r->after.rule, r->after.by);
		put_safe(b, c->after_val);
		buf_puts(b, "' within ");
		put_dur(b, r->after.within_ms);
		buf_puts(b, " before");
		return;
	case STATE_WHY_COOLDOWN:
		format_rfc3339((double)c->cool_at_ms / 1000.0, at, sizeof(at));
		put_key(b, r, c);
		buf_puts(b, "cooldown ");
		put_dur(b, r->cooldown_ms);
		buf_printf(b, ": it fired at %s, ", at);
		if (c->cool_at_ms <= t_ms) {
			put_dur(b, r->cooldown_ms - (t_ms - c->cool_at_ms));
			buf_puts(b, " left");
		} else {
			put_dur(b, c->cool_at_ms - t_ms);
			buf_puts(b, " after this (late) event");
		}
		return;
	case STATE_WHY_RECORDED:
		buf_puts(b, "decided before (the same entry again): not "
		    "fired then");
		return;
	default:
		buf_puts(b, "not fired");
		return;
	}
}

/* reason_alerts: "; case C; alerts to ch1, ch2" from the call's alerts. */
static void
reason_alerts(const struct sim *s, const struct rule *r, struct buf *b)
{
	size_t i, n = 0;

	for (i = 0; i < s->nalerts; i++) {
		const struct alert *a = &s->alerts[i];

		if (a->rule != r || a->step != 0)
			continue;
		if (n++ == 0) {
			if (a->case_id[0] != '\0') {
				buf_puts(b, "; case ");
				put_safe(b, a->case_id);
			}
			buf_puts(b, "; alerts to ");
		} else
			buf_puts(b, ", ");
		buf_puts(b, a->channel->name);
		if (a->deliver_ms > (int64_t)llround(a->fired_ts * 1000.0) &&
		    a->channel->calendar != NULL) {
			char when[40];

			/* held by its channel's calendar */
			format_rfc3339((double)a->deliver_ms / 1000.0, when,
			    sizeof(when));
			buf_printf(b, " (waits for calendar %s until %s)",
			    a->channel->calendar->name, when);
		}
	}
	if (n == 0)
		buf_puts(b, "; no alert (held back by the contact policy, "
		    "a calendar that never opens, or no channel)");
}

static void
reason_silence(const struct silence *sl, struct buf *b)
{
	char at[40];

	buf_puts(b, "held by silence ");
	put_safe(b, sl->id);
	if (sl->rule != NULL) {
		buf_puts(b, " rule=");
		put_safe(b, sl->rule);
	}
	if (sl->queue != NULL) {
		buf_puts(b, " queue=");
		put_safe(b, sl->queue);
	}
	if (sl->agent != NULL) {
		buf_puts(b, " agent=");
		put_safe(b, sl->agent);
	}
	if (sl->customer != NULL) {
		buf_puts(b, " customer=");
		put_safe(b, sl->customer);
	}
	format_rfc3339((double)sl->ends_ms / 1000.0, at, sizeof(at));
	buf_printf(b, " until %s", at);
	if (sl->reason != NULL) {
		buf_puts(b, " (");
		put_safe(b, sl->reason);
		buf_putc(b, ')');
	}
}

static const struct state_cand *
cand_of(const struct sim *s, const struct rule *r)
{
	size_t i;

	for (i = 0; i < s->ncands; i++)
		if (s->cands[i].rule == r)
			return &s->cands[i];
	return NULL;
}

static void
emit(struct buf *out, bool json, bool *first, const struct rule *r,
    enum explain_result res, const struct buf *why)
{
	static const char *const words[] = {
		"fired", "silenced", "disabled", "other type", "not fired",
		"not fired"
	};

	if (!json) {
		buf_printf(out, "  %-24s %-10s %s\n", r->name, words[res],
		    why->data);
		return;
	}
	buf_puts(out, *first ? "" : ",");
	*first = false;
	buf_puts(out, "{\"rule\":");
	buf_json_string(out, r->name, strlen(r->name));
	buf_puts(out, ",\"result\":\"");
	buf_puts(out, explain_result_name(res));
	buf_printf(out, "\",\"fired\":%s,\"reason\":", res == EXPLAIN_FIRED ?
	    "true" : "false");
	buf_json_string(out, why->data, why->len);
	buf_putc(out, '}');
}

size_t
explain_event(struct sim *s, const struct evt *ev, int64_t t_ms, bool json,
    struct buf *out)
{
	const struct config *cf = s->cf;
	const struct state_cand *c;
	const struct value *cv;
	const struct rule *r;
	enum explain_result res;
	struct buf why, cond;
	char ts[40];
	size_t i, k, nfired = 0;
	bool first = true, holds;

	buf_init(&why);
	buf_init(&cond);
	sim_event(s, ev, t_ms);
	cv = evt_get(ev, "customer_id");
	format_rfc3339(ev->ts, ts, sizeof(ts));
	if (json) {
		buf_puts(out, "{\"event_id\":");
		buf_json_string(out, ev->id, strlen(ev->id));
		buf_puts(out, ",\"type\":");
		buf_json_string(out, ev->type ? ev->type : "",
		    ev->type ? strlen(ev->type) : 0);
		buf_puts(out, ",\"customer_id\":");
		if (cv != NULL && cv->s != NULL && cv->kind != V_LIST)
			buf_json_string(out, cv->s, cv->len);
		else
			buf_puts(out, "null");
		buf_printf(out, ",\"ts\":\"%s\",\"rules\":[", ts);
	} else {
		buf_puts(out, "event ");
		put_safe(out, ev->id);
		buf_puts(out, " ");
		put_safe(out, ev->type);
		if (cv != NULL && cv->s != NULL && cv->kind != V_LIST) {
			buf_puts(out, " customer ");
			put_safe(out, cv->s);
		}
		buf_printf(out, " at %s\n", ts);
	}
	for (i = 0; i < cf->nrules; i++) {
		r = &cf->rules[i];
		buf_reset(&why);
		buf_append(&why, "", 0);
		if (!r->enabled) {
			res = EXPLAIN_DISABLED;
			buf_puts(&why, "enabled: false");
		} else if (!for_type(r, ev->type)) {
			res = EXPLAIN_OTHER_TYPE;
			buf_puts(&why, "on: ");
			for (k = 0; k < r->non; k++)
				buf_printf(&why, "%s%s", k ? ", " : "",
				    r->on[k]);
		} else {
			holds = true;
			buf_reset(&cond);
			buf_append(&cond, "", 0);
			if (r->cond != NULL)
				holds = expr_explain(r->cond, evt_lookup,
				    (void *)ev, &cond);
			c = cand_of(s, r);
			if (!holds || c == NULL) {
				res = EXPLAIN_IF_FALSE;
				buf_puts(&why, "if: ");
				buf_puts(&why, holds ? "holds, but the rule "
				    "was not a candidate (too many rules "
				    "matched)" : cond.data);
			} else if (c->fired && c->silence != NULL) {
				res = EXPLAIN_SILENCED;
				reason_silence(c->silence, &why);
			} else if (c->fired) {
				res = EXPLAIN_FIRED;
				nfired++;
				if (r->cond != NULL) {
					buf_puts(&why, "if: ");
					buf_puts(&why, cond.data);
					buf_puts(&why, "; ");
				}
				reason_state(r, c, t_ms, &why);
				reason_alerts(s, r, &why);
			} else {
				res = EXPLAIN_STATE;
				reason_state(r, c, t_ms, &why);
			}
		}
		emit(out, json, &first, r, res, &why);
	}
	if (json)
		buf_puts(out, "]}\n");
	buf_free(&why);
	buf_free(&cond);
	return nfired;
}
