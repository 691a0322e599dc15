/*
 * engine.c — pure rule decisions and alert rendering (see engine.h).
 *
 * Nothing here does I/O or reads a clock: times come in as arguments, state
 * decisions come from the caller's state layer. That is what lets the
 * daemon, "recoveryctl test" and "recoveryctl replay" share one engine.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "engine.h"
#include "expr.h"
#include "rindex.h"
#include "template.h"

static bool
rule_wants_type(const struct rule *r, const char *type)
{
	size_t i;

	if (type == NULL)
		return false;
	for (i = 0; i < r->non; i++)
		if (strcmp(r->on[i], type) == 0)
			return true;
	return false;
}

struct match_ctx {
	const struct config	*cf;
	const struct evt	*ev;
	struct fire		*out;
	size_t			 max, n;
	bool			*overflow;
	bool			 typed;	/* the index chose by type already */
};

/* match_one: test one candidate rule; false stops the walk (full). */
static bool
match_one(void *ctx, size_t i)
{
	struct match_ctx *m = ctx;
	const struct rule *r = &m->cf->rules[i];

	if (!r->enabled || (!m->typed && !rule_wants_type(r, m->ev->type)))
		return true;
	if (r->cond != NULL &&
	    !expr_eval(r->cond, evt_lookup, (void *)m->ev))
		return true;
	if (m->n == m->max) {
		if (m->overflow != NULL)
			*m->overflow = true;
		return false;
	}
	memset(&m->out[m->n], 0, sizeof(m->out[m->n]));
	m->out[m->n].rule = r;
	m->out[m->n].rule_idx = i;
	m->out[m->n].severity = r->severity;
	m->n++;
	return true;
}

/*
 * The rule index (rindex.h) hands over only the rules that can match;
 * without one (a configuration built by hand) every rule is tested. Both
 * walks go in configuration order and give the same answer.
 */
size_t
engine_match(const struct config *cf, const struct evt *ev,
    struct fire *out, size_t max, bool *overflow)
{
	struct match_ctx m = { cf, ev, out, max, 0, overflow, false };
	size_t i;

	if (overflow != NULL)
		*overflow = false;
	if (cf->rindex != NULL) {
		/* its bucket holds the rules whose "on" names the type */
		m.typed = true;
		rindex_each(cf->rindex, ev->type, evt_lookup, (void *)ev,
		    match_one, &m);
		return m.n;
	}
	for (i = 0; i < cf->nrules; i++)
		if (!match_one(&m, i))
			break;
	return m.n;
}

void
engine_format_value(double v, char *out, size_t cap)
{
	char *p;

	if (!isfinite(v)) {
		snprintf(out, cap, "0");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		char d[FMT_LL_MAX];

		if (fmt_integral(d, v))
			(void)str_copy(out, cap, d);
		else
			snprintf(out, cap, "%.0f", v);	/* -0 */
		return;
	}
	/* Beyond that, digits stop meaning anything, and a 57-digit
	 * integer literal is no JSON number a reader can take. */
	if (fabs(v) >= 1e15) {
		snprintf(out, cap, "%.6g", v);
		return;
	}
	snprintf(out, cap, "%.2f", v);
	/* "3.10" -> "3.1": people read fewer digits faster. */
	if ((p = strchr(out, '.')) != NULL) {
		size_t n = strlen(out);
		while (n > 0 && out[n - 1] == '0')
			out[--n] = '\0';
		if (n > 0 && out[n - 1] == '.')
			out[--n] = '\0';
	}
}

static bool
set_text(struct value *out, const char *s)
{
	*out = value_str(s, strlen(s));
	return true;
}

bool
engine_alert_lookup(void *ctx, const char *path, struct value *out)
{
	struct alert_view *av = ctx;
	const struct alert *a = av->alert;

	switch (path[0]) {
	case 'a':
		if (strcmp(path, "alert_id") == 0)
			return set_text(out, a->alert_id);
		break;
	case 'c':
		if (strcmp(path, "case_id") == 0)
			return set_text(out, a->case_id);
		if (strcmp(path, "count") == 0 && a->has_count) {
			snprintf(av->scratch, sizeof(av->scratch), "%ld",
			    a->count);
			return set_text(out, av->scratch);
		}
		break;
	case 'e':
		if (strcmp(path, "event_id") == 0)
			return set_text(out, a->event_id ? a->event_id : "");
		break;
	case 'f':
		if (strcmp(path, "fired_at") == 0)
			return set_text(out, a->fired_at);
		break;
	case 'm':
		if (strcmp(path, "message") == 0 && a->message != NULL)
			return set_text(out, a->message);
		break;
	case 'r':
		if (strcmp(path, "rule") == 0)
			return set_text(out, a->rule->name);
		break;
	case 's':
		if (strcmp(path, "severity") == 0)
			return set_text(out, severity_name(a->severity));
		if (strcmp(path, "step") == 0) {
			snprintf(av->scratch, sizeof(av->scratch), "%d",
			    a->step);
			return set_text(out, av->scratch);
		}
		if (strcmp(path, "samples") == 0 && a->has_value) {
			snprintf(av->scratch, sizeof(av->scratch), "%ld",
			    a->samples);
			return set_text(out, av->scratch);
		}
		break;
	case 'v':
		if (strcmp(path, "value") == 0 && a->has_value) {
			engine_format_value(a->value, av->scratch,
			    sizeof(av->scratch));
			return set_text(out, av->scratch);
		}
		break;
	}
	return av->event != NULL && evt_lookup((void *)av->event, path, out);
}

/* event_text: the text of a scalar event field, or "". */
static const char *
event_text(const struct evt *ev, const char *path)
{
	const struct value *v = evt_get(ev, path);

	if (v == NULL || v->kind == V_NULL || v->kind == V_MISSING ||
	    v->kind == V_LIST)
		return "";
	return v->s;
}

static void
json_field(struct buf *b, const char *name, const char *val)
{
	if (b->len > 1)
		buf_putc(b, ',');
	buf_json_string(b, name, strlen(name));
	buf_putc(b, ':');
	buf_json_string(b, val, strlen(val));
}

/*
 * alert_json: the alert as one JSON object, fields in the order of the
 * README's "Channels". Missing event fields are empty strings, so that
 * every consumer sees the same keys in the stream, the list and webhooks.
 */
static void
alert_json(const struct alert *a, const struct evt *ev, struct buf *b)
{
	char num[64];

	buf_reset(b);
	buf_putc(b, '{');
	json_field(b, "alert_id", a->alert_id);
	json_field(b, "case_id", a->case_id);
	json_field(b, "rule", a->rule->name);
	json_field(b, "severity", severity_name(a->severity));
	buf_puts(b, ",\"step\":");
	buf_put_ll(b, a->step);
	json_field(b, "customer_id", event_text(ev, "customer_id"));
	json_field(b, "call_id", event_text(ev, "call_id"));
	json_field(b, "agent_id", event_text(ev, "agent_id"));
	json_field(b, "queue", event_text(ev, "queue"));
	json_field(b, "event_id", a->event_id ? a->event_id : "");
	json_field(b, "fired_at", a->fired_at);
	if (a->deliver_ms > (int64_t)llround(a->fired_ts * 1000.0)) {
		char when[40];

		/* it waited for a calendar (engine_deliver_at) */
		format_rfc3339((double)a->deliver_ms / 1000.0, when,
		    sizeof(when));
		json_field(b, "deliver_at", when);
	}
	json_field(b, "channel", a->channel->name);
	json_field(b, "message", a->message ? a->message : "");
	if (a->has_count) {
		buf_puts(b, ",\"count\":");
		buf_put_ll(b, a->count);
	}
	if (a->has_value) {
		engine_format_value(a->value, num, sizeof(num));
		buf_puts(b, ",\"value\":");
		buf_puts(b, num);
		buf_puts(b, ",\"samples\":");
		buf_put_ll(b, a->samples);
	}
	buf_putc(b, '}');
}

int64_t
engine_deliver_at(const struct calendar *a, const struct calendar *b,
    int64_t now_ms)
{
	int64_t t = now_ms, u;
	int i;

	/* Alternate until both agree; each turn moves forward, and two
	 * real calendars meet within a few turns (or never: bounded). */
	for (i = 0; i < 256; i++) {
		u = t;
		if (a != NULL && (u = calendar_next_open(a, u)) < 0)
			return -1;
		if (b != NULL && (u = calendar_next_open(b, u)) < 0)
			return -1;
		if (u == t)
			return t;
		t = u;
	}
	return -1;
}

size_t
engine_render(const struct config *cf, const struct evt *ev,
    const struct fire *f, const struct case_ref *cr, int step,
    double fired_ts, struct arena *arena, struct buf *scratch,
    struct alert **alerts, size_t *nalerts, size_t *capalerts)
{
	const struct rule *r = f->rule;
	const struct notify *nt;
	struct alert_view av;
	struct buf *b = scratch;
	struct alert *a;
	size_t i, added = 0;

	if (step == 0) {
		nt = NULL;
	} else if ((size_t)step <= r->nescalate) {
		nt = &r->escalate[step - 1].n;
	} else
		return 0;

	for (i = 0; i < (step == 0 ? r->nactions : 1); i++) {
		const struct notify *n = step == 0 ? &r->actions[i] : nt;
		size_t c;

		for (c = 0; c < n->nchans; c++) {
			const struct channel *ch = &cf->channels[n->chans[c]];
			const struct calendar *scal = step == 0 ? NULL :
			    r->escalate[step - 1].calendar;
			int64_t now_ms = (int64_t)llround(fired_ts * 1000.0);
			int64_t when = now_ms;

			if ((ch->calendar != NULL || scal != NULL) &&
			    (when = engine_deliver_at(ch->calendar, scal,
			    now_ms)) < 0)
				continue;	/* it could never go out */

			if (*nalerts == *capalerts) {
				*capalerts = *capalerts ? *capalerts * 2 : 16;
				*alerts = xreallocarray(*alerts, *capalerts,
				    sizeof(**alerts));
			}
			a = &(*alerts)[(*nalerts)++];
			memset(a, 0, sizeof(*a));
			a->rule = r;
			a->channel = ch;
			a->chan_idx = n->chans[c];
			a->severity = f->severity;
			a->step = step;
			a->fired_ts = fired_ts;
			format_rfc3339(fired_ts, a->fired_at,
			    sizeof(a->fired_at));
			a->event_id = ev->id;
			a->has_count = f->has_count;
			a->count = f->count;
			a->has_value = f->has_value;
			a->value = f->value;
			a->samples = f->samples;
			a->deliver_ms = when;
			(void)str_copy(a->case_id, sizeof(a->case_id),
			    cr != NULL ? cr->case_id : "");
			/*
			 * Alert IDs are derived, never random, so that a
			 * redelivered event or a retried step produces the
			 * same ID: the stream entry and the rule (or the case
			 * and the step), plus the channel.
			 */
			{
				/* "%s/%s/%zu/%s" or "%s/%s/step%d/%s" */
				char num[FMT_LL_MAX + 4] = "step";
				const char *part[] = { step == 0 ? ev->id :
				    a->case_id, "/", r->name, "/", num, "/",
				    ch->name };
				size_t at = 0, k;

				(void)fmt_ll(num + (step == 0 ? 0 : 4),
				    step == 0 ? (long long)i : step);
				for (k = 0; k < ARRAY_LEN(part); k++)
					str_cat(a->alert_id,
					    sizeof(a->alert_id), &at, part[k]);
			}

			av.alert = a;
			av.event = ev;
			buf_reset(b);
			tmpl_render(n->message, engine_alert_lookup, &av,
			    TMPL_PLAIN, b);
			a->message = arena_strndup(arena, b->data ? b->data : "",
			    b->len);
			alert_json(a, ev, b);
			a->json = arena_strndup(arena, b->data, b->len);
			added++;
		}
	}
	return added;
}

/* --- which fields a configuration reads --------------------------------- */

struct reads {
	const char	*prefix;
	size_t		 len;
	bool		 found;
};

static void
reads_path(void *ctx, const char *path, size_t off)
{
	struct reads *rd = ctx;

	(void)off;
	if (strncmp(path, rd->prefix, rd->len) == 0)
		rd->found = true;
}

static void
reads_notify(struct reads *rd, const struct notify *n)
{
	if (n->message != NULL)
		tmpl_foreach_path(n->message, reads_path, rd);
}

bool
engine_reads_prefix(const struct config *cf, const char *prefix)
{
	struct reads rd = { prefix, strlen(prefix), false };
	const char *by[4];
	size_t i, j;

	for (i = 0; i < cf->nrules && !rd.found; i++) {
		const struct rule *r = &cf->rules[i];

		if (r->cond != NULL)
			expr_foreach_path(r->cond, reads_path, &rd);
		for (j = 0; j < r->nactions; j++)
			reads_notify(&rd, &r->actions[j]);
		for (j = 0; j < r->nescalate; j++)
			reads_notify(&rd, &r->escalate[j].n);
		by[0] = r->has_count ? r->count.by : NULL;
		by[1] = r->has_aggregate ? r->aggregate.by : NULL;
		by[2] = r->has_aggregate ? r->aggregate.field : NULL;
		by[3] = r->has_after ? r->after.by : NULL;
		for (j = 0; j < 4; j++)
			if (by[j] != NULL)
				reads_path(&rd, by[j], 0);
	}
	for (i = 0; i < cf->nchannels && !rd.found; i++)
		for (j = 0; j < cf->channels[i].argc; j++)
			tmpl_foreach_path(cf->channels[i].argv[j], reads_path,
			    &rd);
	return rd.found;
}

/* engine_customer_key: see engine.h. */
bool
engine_customer_key(const struct config *cf, const struct evt *ev, char *out,
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
		l = (size_t)(close - open - 1);
		if (l >= sizeof(field))
			l = sizeof(field) - 1;
		memcpy(field, open + 1, l);
		field[l] = '\0';
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
