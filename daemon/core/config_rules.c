/*
 * config_rules.c — the "rules:" half of the configuration loader: one
 * schema table per rule section (the walker is in config_schema.c),
 * expressions and templates compiled at load time with their errors placed
 * on the offending token, notify targets resolved to channel indices, and the
 * cross-rule "after:" references resolved once every file has been read.
 *
 * Warnings, not errors: an event type that is not one of the known three
 * (with a "did you mean"), and an "if" or a message template that reads
 * a field the known types (and, for a template, the alert) do not have —
 * likely a typo ("csta", "{{custmer_id}}"), but producers may send extra
 * fields, so it does not fail the load ("check --strict" makes it one).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "event.h"
#include "expr.h"
#include "log.h"
#include "template.h"
#include "util.h"
#include "yaml.h"

#define DEFAULT_MESSAGE	"[{{severity}}] {{rule}}: customer {{customer_id}}"

static int
check_path(const char *s, char *err, size_t errlen)
{
	if (expr_valid_path(s))
		return 0;
	snprintf(err, errlen, "'%s' is not a valid field path", s);
	return -1;
}

/* --- notify, message ---------------------------------------------------- */

static void
notify_one(struct loader *ld, const struct ynode *n, struct notify *no)
{
	struct config *cf = ld->cf;
	const char **names;
	const char *dym;
	size_t i;

	if (!expect_type(ld, n, YN_SCALAR, "a channel name"))
		return;
	for (i = 0; i < cf->nchannels; i++) {
		if (strcmp(cf->channels[i].name, n->str) == 0) {
			ld->chan_used[i] = true;
			no->chans[no->nchans++] = i;
			return;
		}
	}
	names = xcalloc(cf->nchannels + 1, sizeof(*names));
	for (i = 0; i < cf->nchannels; i++)
		names[i] = cf->channels[i].name;
	dym = did_you_mean(n->str, names, cf->nchannels);
	if (dym != NULL)
		cerr(ld, n, "undefined channel '%s' (did you mean '%s'?)",
		    n->str, dym);
	else
		cerr(ld, n, "undefined channel '%s'", n->str);
	free(names);
}

void
parse_notify(struct loader *ld, const struct ynode *v, struct notify *no)
{
	size_t i;

	if (v->type == YN_MAP) {
		cerr(ld, v, "expected a channel name or a list of them for "
		    "'notify', found a mapping");
		return;
	}
	if (v->type == YN_SCALAR) {
		no->chans = xcalloc(1, sizeof(*no->chans));
		notify_one(ld, v, no);
		return;
	}
	if (v->nitems == 0) {
		cerr(ld, v, "'notify' must name at least one channel");
		return;
	}
	no->chans = xcalloc(v->nitems, sizeof(*no->chans));
	for (i = 0; i < v->nitems; i++)
		notify_one(ld, v->items[i], no);
}

struct tmpl *
compile_message(struct loader *ld, const struct ynode *n)
{
	struct tmpl *t;
	char err[256];
	size_t off = 0;

	if (n == NULL) {
		t = tmpl_compile(DEFAULT_MESSAGE, err, sizeof(err), &off);
		if (t == NULL)
			fatalx("%s: default message: %s", __func__, err);
		return t;
	}
	if (!expect_type(ld, n, YN_SCALAR, "'message'"))
		return NULL;
	if ((t = tmpl_compile(n->str, err, sizeof(err), &off)) == NULL)
		cerr_off(ld, n, off, "invalid template: %s", err);
	return t;
}

void
notify_free(struct notify *no)
{
	free(no->chans);
	tmpl_free(no->message);
	no->chans = NULL;
	no->message = NULL;
}

static void
act_notify(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	(void)k;
	parse_notify(ld, v, target);
}

static void
act_message(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	struct notify *no = target;

	(void)k;
	no->message = compile_message(ld, v);
}

static void
esc_notify(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	act_notify(ld, k, v, &((struct esc_step *)target)->n);
}

static void
esc_message(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	act_message(ld, k, v, &((struct esc_step *)target)->n);
}

static const struct kspec action_keys[] = {
	{ "notify", K_CUSTOM, 0, 0, 0, KF_REQUIRED, 0, act_notify, NULL,
	    NULL, 0 },
	{ "message", K_CUSTOM, 0, 0, 0, 0, 0, act_message, NULL, NULL, 0 },
};
static void
esc_calendar(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	(void)k;
	((struct esc_step *)target)->calendar = calendar_ref(ld, v, ld->ctx);
}

static const struct kspec esc_keys[] = {
	{ "after", K_DUR, offsetof(struct esc_step, after_ms), 1, 0,
	    KF_REQUIRED, 0, NULL, NULL, NULL, 0 },
	{ "calendar", K_CUSTOM, 0, 0, 0, 0, 0, esc_calendar, NULL, NULL, 0 },
	{ "business_time", K_BOOL, offsetof(struct esc_step, business_time),
	    0, 0, 0, 0, NULL, NULL, NULL, 0 },
	{ "notify", K_CUSTOM, 0, 0, 0, KF_REQUIRED, 0, esc_notify, NULL,
	    NULL, 0 },
	{ "message", K_CUSTOM, 0, 0, 0, 0, 0, esc_message, NULL, NULL, 0 },
};

static void
apply_actions(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	struct rule *r = target;
	const struct ynode *a;
	char ctx[200];
	size_t i;

	(void)k;
	if (!expect_type(ld, v, YN_SEQ, "'actions'"))
		return;
	snprintf(ctx, sizeof(ctx), " in an action of%s", ld->ctx + 3);
	r->actions = xcalloc(v->nitems + 1, sizeof(*r->actions));
	for (i = 0; i < v->nitems; i++) {
		a = v->items[i];
		if (!expect_type(ld, a, YN_MAP, "an action"))
			continue;
		schema_apply(ld, a, action_keys, ARRAY_LEN(action_keys),
		    &r->actions[r->nactions], ctx, 0);
		if (r->actions[r->nactions].message == NULL &&
		    ymap_get(a, "message") == NULL)
			r->actions[r->nactions].message =
			    compile_message(ld, NULL);
		r->nactions++;
	}
}

static void
apply_escalate(struct loader *ld, const struct ynode *k,
    const struct ynode *v, void *target)
{
	struct rule *r = target;
	struct esc_step *e, tmp;
	const struct ynode *a;
	char ctx[200];
	size_t i, j;

	(void)k;
	if (!expect_type(ld, v, YN_SEQ, "'escalate'"))
		return;
	snprintf(ctx, sizeof(ctx), " in an escalation step of%s",
	    ld->ctx + 3);
	r->escalate = xcalloc(v->nitems + 1, sizeof(*r->escalate));
	for (i = 0; i < v->nitems; i++) {
		a = v->items[i];
		if (!expect_type(ld, a, YN_MAP, "an escalation step"))
			continue;
		e = &r->escalate[r->nescalate++];
		e->file = r->file;
		e->line = a->line;
		schema_apply(ld, a, esc_keys, ARRAY_LEN(esc_keys), e, ctx, 0);
		if (e->business_time && e->calendar == NULL &&
		    ymap_get(a, "calendar") == NULL)
			cerr(ld, ymap_get(a, "business_time"), "'business_time' "
			    "needs a 'calendar' on the same step%s", ctx);
		if (e->n.message == NULL && ymap_get(a, "message") == NULL)
			e->n.message = compile_message(ld, NULL);
	}
	/* insertion sort by after_ms: stable, and lists are short */
	for (i = 1; i < r->nescalate; i++) {
		tmp = r->escalate[i];
		for (j = i; j > 0 && r->escalate[j - 1].after_ms >
		    tmp.after_ms; j--)
			r->escalate[j] = r->escalate[j - 1];
		r->escalate[j] = tmp;
	}
}

/* --- on, if ------------------------------------------------------------- */

static void
on_one(struct loader *ld, struct rule *r, const struct ynode *n)
{
	const char *dym;

	if (!expect_type(ld, n, YN_SCALAR, "an event type"))
		return;
	if (n->len == 0) {
		cerr(ld, n, "an event type must not be empty");
		return;
	}
	r->on[r->non++] = xstrdup(n->str);
	if (evt_type_known(n->str))
		return;
	dym = did_you_mean(n->str, evt_known_types, 3);
	if (dym != NULL)
		cwarn(ld, n, "unknown event type '%s' (did you mean '%s'?)",
		    n->str, dym);
	else
		cwarn(ld, n, "unknown event type '%s' (known types: rating, "
		    "call, complaint, contact); its fields are not checked", n->str);
}

static void
apply_on(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	struct rule *r = target;
	size_t i;

	(void)k;
	if (v->type == YN_MAP) {
		cerr(ld, v, "expected an event type or a list of them for "
		    "'on', found a mapping");
		return;
	}
	if (v->type == YN_SCALAR) {
		r->on = xcalloc(1, sizeof(*r->on));
		on_one(ld, r, v);
		return;
	}
	if (v->nitems == 0) {
		cerr(ld, v, "'on' must name at least one event type");
		return;
	}
	r->on = xcalloc(v->nitems, sizeof(*r->on));
	for (i = 0; i < v->nitems; i++)
		on_one(ld, r, v->items[i]);
}

struct expr *
config_compile_expr(struct loader *ld, const struct ynode *n, const char *what)
{
	struct expr_error err;
	struct expr *e;
	char w[64];

	snprintf(w, sizeof(w), "'%s'", what);
	if (!expect_type(ld, n, YN_SCALAR, w))
		return NULL;
	if (n->len == 0) {
		cerr(ld, n, "'%s' must not be empty", what);
		return NULL;
	}
	memset(&err, 0, sizeof(err));
	if ((e = expr_compile(n->str, resolve_list, ld, &err)) == NULL)
		cerr_off(ld, n, err.offset, "invalid expression: %s", err.msg);
	return e;
}

static void
apply_if(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	struct rule *r = target;

	(void)k;
	if ((r->cond = config_compile_expr(ld, v, "if")) != NULL) {
		r->cond_src = xstrdup(v->str);
		ld->if_node = v;
	}
}

struct fieldcheck {
	struct loader		*ld;
	const struct rule	*r;
	const struct ynode	*n;
};

/* field_cb: warn about a field no type of the rule's "on" has. */
static void
field_cb(void *ctx, const char *path, size_t off)
{
	struct fieldcheck *fc = ctx;
	const struct rule *r = fc->r;
	const char *const *fields;
	const char *dym = NULL;
	char types[256];
	size_t i, n, len = 0;

	if (strncmp(path, "customer.", 9) == 0)
		return;
	for (i = 0; i < r->non; i++)
		if (evt_field_known(r->on[i], path))
			return;
	types[0] = '\0';
	for (i = 0; i < r->non; i++) {
		if (dym == NULL && (fields = evt_type_fields(r->on[i])) !=
		    NULL) {
			for (n = 0; fields[n] != NULL; n++)
				;
			dym = did_you_mean(path, fields, n);
		}
		if (len < sizeof(types))
			len += (size_t)snprintf(types + len, sizeof(types) -
			    len, "%s%s", i ? " or " : "", r->on[i]);
	}
	if (dym != NULL)
		cwarn_off(fc->ld, fc->n, off, "unknown field '%s' (did you "
		    "mean '%s'?): not a field of event type %s", path, dym,
		    types);
	else
		cwarn_off(fc->ld, fc->n, off, "unknown field '%s': not a field "
		    "of event type %s", path, types);
}

/*
 * The fields a message template reads besides the event's (README,
 * "Templates"; engine_alert_lookup). count, value and samples render empty in a
 * rule without count or aggregate, which is documented, so they pass.
 */
static const char *const alert_fields[] = {
	"alert_id", "case_id", "rule", "severity", "step", "event_id",
	"fired_at", "count", "value", "samples", "message", NULL
};

bool
config_alert_field(const char *path)
{
	size_t i;

	for (i = 0; alert_fields[i] != NULL; i++)
		if (strcmp(alert_fields[i], path) == 0)
			return true;
	return false;
}

/*
 * tmpl_field_cb: a template path that neither the alert nor any type of
 * the rule's "on" has, a warning like field_cb's: "{{custmer_id}}" would
 * render empty on every alert. The suggestion comes from both sets.
 */
static void
tmpl_field_cb(void *ctx, const char *path, size_t off)
{
	struct fieldcheck *fc = ctx;
	const struct rule *r = fc->r;
	const char *const *fields;
	const char **cands;
	const char *dym;
	char types[256];
	size_t i, n, nc = 0, len = 0;

	if (strncmp(path, "customer.", 9) == 0 || config_alert_field(path))
		return;
	for (i = 0; i < r->non; i++)
		if (evt_field_known(r->on[i], path))
			return;
	cands = xcalloc(ARRAY_LEN(alert_fields), sizeof(*cands));
	for (i = 0; alert_fields[i] != NULL; i++)
		cands[nc++] = alert_fields[i];
	types[0] = '\0';
	for (i = 0; i < r->non; i++) {
		if ((fields = evt_type_fields(r->on[i])) != NULL) {
			for (n = 0; fields[n] != NULL; n++)
				;
			cands = xreallocarray(cands, nc + n + 1,
			    sizeof(*cands));
			for (n = 0; fields[n] != NULL; n++)
				cands[nc++] = fields[n];
		}
		if (len < sizeof(types))
			len += (size_t)snprintf(types + len, sizeof(types) -
			    len, "%s%s", i ? " or " : "", r->on[i]);
	}
	dym = did_you_mean(path, cands, nc);
	if (dym != NULL)
		cwarn_off(fc->ld, fc->n, off, "unknown field '%s' (did you "
		    "mean '%s'?) in a template: not a field of event type %s, "
		    "nor of the alert", path, dym, types);
	else
		cwarn_off(fc->ld, fc->n, off, "unknown field '%s' in a "
		    "template: not a field of event type %s, nor of the alert",
		    path, types);
	free(cands);
}

/* check_messages: every message of the items of an "actions" or
 * "escalate" list, compiled again here only to walk its paths. */
static void
check_messages(struct fieldcheck *fc, const struct ynode *list)
{
	const struct ynode *m;
	struct tmpl *t;
	char err[256];
	size_t i, off;

	if (list == NULL || list->type != YN_SEQ)
		return;
	for (i = 0; i < list->nitems; i++) {
		if (list->items[i]->type != YN_MAP ||
		    (m = ymap_get(list->items[i], "message")) == NULL ||
		    m->type != YN_SCALAR)
			continue;
		if ((t = tmpl_compile(m->str, err, sizeof(err), &off)) == NULL)
			continue;	/* reported by compile_message */
		fc->n = m;
		tmpl_foreach_path(t, tmpl_field_cb, fc);
		tmpl_free(t);
	}
}

/* --- count, aggregate, after -------------------------------------------- */

static void
agg_value(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	struct rule *r = target;
	const char *s, *open, *close, *a, *b;
	size_t i, nlen;

	(void)k;
	if (!expect_type(ld, v, YN_SCALAR, "'value'"))
		return;
	s = v->str;
	while (*s == ' ')
		s++;
	open = strchr(s, '(');
	close = strrchr(s, ')');
	if (open == NULL || close == NULL || close < open ||
	    strspn(close + 1, " ") != strlen(close + 1))
		goto bad;
	for (nlen = (size_t)(open - s); nlen > 0 && s[nlen - 1] == ' ';)
		nlen--;
	for (i = 0; i <= AGG_NPS; i++)
		if (strlen(agg_fn_name(i)) == nlen &&
		    strncmp(s, agg_fn_name(i), nlen) == 0)
			break;
	if (i > AGG_NPS)
		goto bad;
	for (a = open + 1; *a == ' '; a++)
		;
	for (b = close; b > a && b[-1] == ' '; b--)
		;
	r->aggregate.fn = (enum agg_fn)i;
	if (i == AGG_COUNT) {
		if (b != a) {
			cerr(ld, v, "count() takes no field, found '%s'",
			    v->str);
		}
		return;
	}
	free(r->aggregate.field);
	r->aggregate.field = xstrndup(a, (size_t)(b - a));
	if (!expr_valid_path(r->aggregate.field))
		cerr(ld, v, "invalid field path '%s' in 'value'",
		    r->aggregate.field);
	return;
bad:
	cerr(ld, v, "invalid aggregate value '%s' (expected count(), sum(f), "
	    "avg(f), min(f), max(f) or nps(f))", v->str);
}

static void
agg_alert_if(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target);

static void
after_rule(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	struct rule *r = target;

	(void)k;
	if (!expect_type(ld, v, YN_SCALAR, "'rule'"))
		return;
	free(r->after.rule);
	r->after.rule = xstrdup(v->str);
	ld->after_node = v;
}

#define RU(f)	offsetof(struct rule, f)
static const struct kspec count_keys[] = {
	{ "by", K_NESTR, RU(count.by), 0, 0, KF_REQUIRED, 0, NULL, check_path,
	    NULL, 0 },
	{ "at_least", K_INT, RU(count.at_least), 1, INT_MAX, KF_REQUIRED, 0,
	    NULL, NULL, NULL, 0 },
	{ "within", K_DUR, RU(count.within_ms), 1, 0, KF_REQUIRED, 0, NULL,
	    NULL, NULL, 0 },
};
static const struct kspec agg_keys[] = {
	{ "by", K_NESTR, RU(aggregate.by), 0, 0, KF_REQUIRED, 0, NULL,
	    check_path, NULL, 0 },
	{ "value", K_CUSTOM, 0, 0, 0, KF_REQUIRED, 0, agg_value, NULL, NULL, 0 },
	{ "within", K_DUR, RU(aggregate.within_ms), 1, 0, KF_REQUIRED, 0, NULL,
	    NULL, NULL, 0 },
	{ "min_samples", K_INT, RU(aggregate.min_samples), 1, INT_MAX, 0, 0,
	    NULL, NULL, NULL, 0 },
	{ "alert_if", K_CUSTOM, 0, 0, 0, KF_REQUIRED, 0, agg_alert_if, NULL,
	    NULL, 0 },
};
static const struct kspec after_keys[] = {
	{ "rule", K_CUSTOM, 0, 0, 0, KF_REQUIRED, 0, after_rule, NULL, NULL, 0 },
	{ "by", K_NESTR, RU(after.by), 0, 0, KF_REQUIRED, 0, NULL, check_path,
	    NULL, 0 },
	{ "within", K_DUR, RU(after.within_ms), 1, 0, KF_REQUIRED, 0, NULL,
	    NULL, NULL, 0 },
};
static void
rule_name(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	/* read first by rule_parse() */
	(void)ld;
	(void)k;
	(void)v;
	(void)target;
}
#define SUB(n, t) { n, K_SECTION, 0, 0, 0, 0, 0, NULL, NULL, t, ARRAY_LEN(t) }
static const struct kspec rule_keys[] = {
	{ "name", K_CUSTOM, 0, 0, 0, 0, 0, rule_name, NULL, NULL, 0 },
	{ "description", K_STR, RU(description), 0, 0, 0, 0, NULL, NULL,
	    NULL, 0 },
	{ "enabled", K_BOOL, RU(enabled), 0, 0, 0, 0, NULL, NULL, NULL, 0 },
	{ "on", K_CUSTOM, 0, 0, 0, KF_REQUIRED, 0, apply_on, NULL, NULL, 0 },
	{ "if", K_CUSTOM, 0, 0, 0, 0, 0, apply_if, NULL, NULL, 0 },
	{ "severity", K_SEV, RU(severity), 0, 0, 0, 0, NULL, NULL, NULL, 0 },
	SUB("count", count_keys),
	SUB("aggregate", agg_keys),
	SUB("after", after_keys),
	{ "cooldown", K_DUR, RU(cooldown_ms), 0, 0, 0, 0, NULL, NULL, NULL, 0 },
	{ "case", K_CUSTOM, 0, 0, 0, 0, 0, apply_case_policy, NULL, NULL, 0 },
	{ "sla", K_DUR, RU(sla_ms), 1, 0, 0, 0, NULL, NULL, NULL, 0 },
	{ "assign", K_CUSTOM, 0, 0, 0, 0, 0, apply_rule_assign, NULL, NULL,
	    0 },
	{ "actions", K_CUSTOM, 0, 0, 0, 0, 0, apply_actions, NULL, NULL, 0 },
	{ "escalate", K_CUSTOM, 0, 0, 0, 0, 0, apply_escalate, NULL, NULL, 0 },
};

struct alertcheck {
	struct loader		*ld;
	const struct ynode	*n;
	bool			 bad;
};

static void
alert_if_cb(void *ctx, const char *path, size_t off)
{
	struct alertcheck *ac = ctx;

	if (strcmp(path, "value") != 0 && strcmp(path, "samples") != 0) {
		ac->bad = true;
		cerr_off(ac->ld, ac->n, off, "'alert_if' may only read "
		    "'value' and 'samples', found '%s'", path);
	}
}

static void
agg_alert_if(struct loader *ld, const struct ynode *k, const struct ynode *v,
    void *target)
{
	struct rule *r = target;
	struct alertcheck ac;
	struct buf rpn;

	(void)k;
	expr_free(r->aggregate.alert_if);
	if ((r->aggregate.alert_if = config_compile_expr(ld, v, "alert_if")) ==
	    NULL)
		return;
	ac.ld = ld;
	ac.n = v;
	ac.bad = false;
	expr_foreach_path(r->aggregate.alert_if, alert_if_cb, &ac);
	if (ac.bad)
		return;
	/* Decided inside the Redis script, atomically with the window. */
	buf_init(&rpn);
	if (expr_numeric_rpn(r->aggregate.alert_if, &rpn) == -1)
		cerr(ld, v, "'alert_if' may only compare 'value' and 'samples' "
		    "with numbers (== != < <= > >=, and, or, not)");
	else {
		free(r->aggregate.alert_rpn);
		r->aggregate.alert_rpn = xstrdup(rpn.data);
	}
	buf_free(&rpn);
}

/* --- rules -------------------------------------------------------------- */

void
rule_free(struct rule *r)
{
	size_t i;

	free(r->name);
	free(r->description);
	pool_free(&r->pool);
	for (i = 0; i < r->non; i++)
		free(r->on[i]);
	free(r->on);
	expr_free(r->cond);
	free(r->cond_src);
	free(r->count.by);
	free(r->aggregate.by);
	free(r->aggregate.field);
	expr_free(r->aggregate.alert_if);
	free(r->aggregate.alert_rpn);
	free(r->after.rule);
	free(r->after.by);
	free(r->cooldown_key);
	free(r->remember);
	for (i = 0; i < r->nactions; i++)
		notify_free(&r->actions[i]);
	free(r->actions);
	for (i = 0; i < r->nescalate; i++)
		notify_free(&r->escalate[i].n);
	free(r->escalate);
}

/* rule_parse: one entry of "rules:"; appended to cf->rules when it has a
 * name (a config with errors is thrown away, so appending a broken rule
 * only serves later duplicate and reference checks). */
static void
rule_parse(struct loader *ld, const struct ynode *map, size_t idx)
{
	struct config *cf = ld->cf;
	struct rule r;
	const struct ynode *nn;
	struct fieldcheck fc;
	size_t i;

	if (!expect_type(ld, map, YN_MAP, "a rule"))
		return;
	memset(&r, 0, sizeof(r));
	r.enabled = true;
	r.file = cf->files[ld->cur_file];
	r.line = map->line;
	r.col = map->col;
	r.severity = cf->default_severity;
	r.cooldown_ms = cf->default_cooldown_ms;
	r.sla_ms = cf->default_sla_ms;
	pool_copy(&r.pool, &cf->default_pool);
	r.aggregate.min_samples = 1;
	ld->if_node = ld->after_node = NULL;

	nn = ymap_get(map, "name");
	if (nn == NULL) {
		cerr(ld, map, "missing 'name' in rule #%zu", idx + 1);
		snprintf(ld->ctx, sizeof(ld->ctx), " in rule #%zu", idx + 1);
	} else if (expect_type(ld, nn, YN_SCALAR, "'name'")) {
		r.name = xstrdup(nn->str);
		snprintf(ld->ctx, sizeof(ld->ctx), " in rule '%.100s'",
		    nn->str);
		if (!valid_name(nn->str))
			cerr(ld, nn, "invalid rule name '%s' (use lowercase "
			    "letters, digits, '_' and '-')", nn->str);
		for (i = 0; i < cf->nrules; i++) {
			if (strcmp(cf->rules[i].name, nn->str) == 0) {
				cerr(ld, nn, "duplicate rule name '%s' (first "
				    "defined at %s:%d:%d)", nn->str,
				    cf->rules[i].file, cf->rules[i].line,
				    cf->rules[i].col);
				break;
			}
		}
	} else
		snprintf(ld->ctx, sizeof(ld->ctx), " in rule #%zu", idx + 1);

	schema_apply(ld, map, rule_keys, ARRAY_LEN(rule_keys), &r, ld->ctx, 0);
	r.has_count = ymap_get(map, "count") != NULL;
	r.has_aggregate = ymap_get(map, "aggregate") != NULL;
	r.has_after = ymap_get(map, "after") != NULL;

	if (r.has_count && r.has_aggregate)
		cerr(ld, ymap_get(map, "aggregate"), "'count' and 'aggregate' "
		    "cannot be used together%s", ld->ctx);
	if (ymap_get(map, "actions") == NULL &&
	    ymap_get(map, "escalate") == NULL)
		cerr(ld, map, "%s has no actions", ld->ctx + 4);
	if (r.has_count && r.count.by != NULL)
		r.cooldown_key = xstrdup(r.count.by);
	else if (r.has_aggregate && r.aggregate.by != NULL)
		r.cooldown_key = xstrdup(r.aggregate.by);
	else if (r.has_after && r.after.by != NULL)
		r.cooldown_key = xstrdup(r.after.by);
	else
		r.cooldown_key = xstrdup("customer_id");

	/* fields the known event types do not have: warnings */
	if (r.cond != NULL && ld->if_node != NULL && r.non > 0) {
		for (i = 0; i < r.non; i++)
			if (!evt_type_known(r.on[i]))
				break;
		if (i == r.non) {
			fc.ld = ld;
			fc.r = &r;
			fc.n = ld->if_node;
			expr_foreach_path(r.cond, field_cb, &fc);
		}
	}
	/* the same for the paths of its messages */
	if (r.non > 0) {
		for (i = 0; i < r.non; i++)
			if (!evt_type_known(r.on[i]))
				break;
		if (i == r.non) {
			fc.ld = ld;
			fc.r = &r;
			check_messages(&fc, ymap_get(map, "actions"));
			check_messages(&fc, ymap_get(map, "escalate"));
		}
	}

	if (r.name == NULL) {
		rule_free(&r);
		return;
	}
	if (cf->nrules == ld->rules_cap) {
		ld->rules_cap = ld->rules_cap ? ld->rules_cap * 2 : 16;
		cf->rules = xreallocarray(cf->rules, ld->rules_cap,
		    sizeof(*cf->rules));
		ld->after_nodes = xreallocarray(ld->after_nodes,
		    ld->rules_cap, sizeof(*ld->after_nodes));
		ld->rule_nodes = xreallocarray(ld->rule_nodes, ld->rules_cap,
		    sizeof(*ld->rule_nodes));
	}
	ld->after_nodes[cf->nrules] = ld->after_node;
	ld->rule_nodes[cf->nrules] = map;
	cf->rules[cf->nrules++] = r;
}

void
rules_parse(struct loader *ld, const struct ynode *rules)
{
	size_t i;

	for (i = 0; i < rules->nitems && !ld->rules_full; i++) {
		if (ld->cf->nrules >= CONFIG_MAX_RULES) {
			cerr(ld, rules->items[i], "too many rules (limit %d)",
			    CONFIG_MAX_RULES);
			ld->rules_full = true;
			return;
		}
		rule_parse(ld, rules->items[i], i);
	}
}

/* rules_resolve: "after: {rule: X}" to an index, now that every file has
 * been read (X may be defined later, or in another file). O(rules^2) in
 * the worst case, bounded by CONFIG_MAX_RULES; done once per load. */
void
rules_resolve(struct loader *ld)
{
	struct config *cf = ld->cf;
	const struct ynode *n;
	const char **names;
	const char *dym;
	size_t i, j;

	names = xcalloc(cf->nrules + 1, sizeof(*names));
	for (i = 0; i < cf->nrules; i++)
		names[i] = cf->rules[i].name;
	for (i = 0; i < cf->nrules; i++) {
		struct rule *r = &cf->rules[i];

		if (!r->has_after || r->after.rule == NULL)
			continue;
		n = ld->after_nodes[i];
		if (strcmp(r->after.rule, r->name) == 0) {
			cerr(ld, n, "rule '%s' cannot refer to itself in "
			    "'after'", r->name);
			continue;
		}
		for (j = 0; j < cf->nrules; j++)
			if (strcmp(cf->rules[j].name, r->after.rule) == 0)
				break;
		if (j < cf->nrules) {
			r->after.rule_idx = j;
			continue;
		}
		dym = did_you_mean(r->after.rule, names, cf->nrules);
		if (dym != NULL)
			cerr(ld, n, "undefined rule '%s' (did you mean "
			    "'%s'?)", r->after.rule, dym);
		else
			cerr(ld, n, "undefined rule '%s'", r->after.rule);
	}
	free(names);
}

const struct vlist *
resolve_list(void *ctx, const char *name)
{
	struct loader *ld = ctx;
	size_t i;

	for (i = 0; i < ld->cf->nlists; i++) {
		if (strcmp(ld->cf->lists[i].name, name) == 0) {
			ld->list_used[i] = true;
			return &ld->cf->lists[i];
		}
	}
	return NULL;
}
