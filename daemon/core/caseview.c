/*
 * caseview.c — the queue's filters and order and the report's figures
 * over case hashes (caseview.h), shared by recoveryctl and
 * recoveryd-console.
 *
 * The report: a case counts in the group of each of its rules (by rule),
 * or of its queue, agent or owner ("-" when it has none). Each
 * resolution's outcome counts (the hash's "outcomes" lists them), so a
 * case reopened and resolved twice counts twice there.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caseview.h"
#include "config.h"
#include "util.h"

const char *
caseview_get(const struct caseview *c, const char *field)
{
	return c->get(c->h, field);
}

/* in_list: name is one of the comma-separated items of list. */
static bool
in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list, *q;

	while (p != NULL && *p != '\0') {
		q = strchr(p, ',');
		if ((q != NULL ? (size_t)(q - p) : strlen(p)) == n &&
		    strncmp(p, name, n) == 0)
			return true;
		p = q != NULL ? q + 1 : NULL;
	}
	return false;
}

static bool
field_is(const struct caseview *c, const char *field, const char *want)
{
	const char *v = caseview_get(c, field);

	return want == NULL || (v != NULL && strcmp(v, want) == 0);
}

bool
case_filter_any(const struct case_filter *f)
{
	return f->state != NULL || f->severity != NULL || f->rule != NULL ||
	    f->queue != NULL || f->agent != NULL || f->owner != NULL ||
	    f->q != NULL || f->overdue;
}

bool
case_overdue(const struct caseview *c, int64_t now_ms)
{
	const char *v = caseview_get(c, "due_at");
	double due;

	return v != NULL && v[0] != '\0' && parse_rfc3339(v, strlen(v),
	    &due) == 0 && due * 1000.0 < (double)now_ms &&
	    !field_is(c, "state", "resolved");
}

bool
case_match(const struct case_filter *f, const struct caseview *c)
{
	const char *v;

	if (!field_is(c, "state", f->state) ||
	    !field_is(c, "severity", f->severity) ||
	    !field_is(c, "queue", f->queue) ||
	    !field_is(c, "agent_id", f->agent) ||
	    !field_is(c, "owner", f->owner))
		return false;
	if (f->rule != NULL && ((v = caseview_get(c, "rules")) == NULL ||
	    !in_list(v, f->rule)))
		return false;
	if (f->q != NULL && strcmp(f->q, c->id) != 0 &&
	    !field_is(c, "customer_id", f->q) && !field_is(c, "call_id", f->q))
		return false;
	if (f->overdue && !case_overdue(c, f->now_ms))
		return false;
	return true;
}

static int
sev_rank(const struct caseview *c)
{
	const char *v = caseview_get(c, "severity");

	return v != NULL ? severity_parse(v) : 0;
}

void
case_key_of(const struct caseview *c, struct case_key *k)
{
	const char *o = caseview_get(c, "opened_ms");

	k->sev = sev_rank(c);
	k->opened_ms = o != NULL ? strtoll(o, NULL, 10) : 0;
	k->id = c->id;
	k->numbered = sscanf(c->id, "c-%llu-%llu", &k->ms, &k->seq) == 2;
}

int
case_key_cmp(const struct case_key *x, const struct case_key *y)
{
	if (x->sev != y->sev)
		return y->sev - x->sev;
	if (x->opened_ms != y->opened_ms)
		return (x->opened_ms > y->opened_ms) -
		    (x->opened_ms < y->opened_ms);
	/* cases of one batch open at one instant: stream order ("c-<ID>") */
	if (x->numbered && y->numbered) {
		if (x->ms != y->ms)
			return (x->ms > y->ms) - (x->ms < y->ms);
		return (x->seq > y->seq) - (x->seq < y->seq);
	}
	return strcmp(x->id, y->id);
}

int
case_cmp_severity(const struct caseview *x, const struct caseview *y)
{
	struct case_key kx, ky;

	case_key_of(x, &kx);
	case_key_of(y, &ky);
	return case_key_cmp(&kx, &ky);
}

/* --- the report ----------------------------------------------------------- */

static void
series_add(struct report_series *s, int64_t v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n++] = v;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int64_t
report_pct(struct report_series *s, double p)
{
	size_t k;

	if (s->n == 0)
		return -1;
	qsort(s->v, s->n, sizeof(*s->v), cmp64);
	k = (size_t)ceil(p / 100.0 * (double)s->n);
	return s->v[k == 0 ? 0 : k - 1];
}

static struct report_group *
group_of(struct report *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->g[i].name, name) == 0)
			return &r->g[i];
	if (r->n >= REPORT_GROUPS)
		return NULL;
	r->g = xreallocarray(r->g, r->n + 1, sizeof(*r->g));
	memset(&r->g[r->n], 0, sizeof(r->g[r->n]));
	r->g[r->n].name = xstrdup(name);
	return &r->g[r->n++];
}

/* ms_of: an RFC 3339 time in ms, or -1. */
static int64_t
ms_of(const char *s)
{
	double t;

	if (s == NULL || s[0] == '\0' || parse_rfc3339(s, strlen(s), &t) != 0)
		return -1;
	return (int64_t)llround(t * 1000);
}

/* score: "csat=1 nps=3": the value of key, or -1. */
static double
score(const char *s, const char *key)
{
	const char *p;
	size_t l = strlen(key);

	for (p = s; p != NULL && *p != '\0'; p = strchr(p, ' ')) {
		while (*p == ' ')
			p++;
		if (strncmp(p, key, l) == 0 && p[l] == '=')
			return strtod(p + l + 1, NULL);
	}
	return -1;
}

static void
count_code(struct report_group *g, const char *code)
{
	size_t i;

	for (i = 0; i < g->ncodes; i++)
		if (strcmp(g->codes[i], code) == 0) {
			g->ncode[i]++;
			return;
		}
	if (g->ncodes < REPORT_NCODES) {
		g->codes[g->ncodes] = xstrdup(code);
		g->ncode[g->ncodes++] = 1;
	}
}

/* add_scores: the csat and nps of each ';'-separated rating of v. */
static void
add_scores(const char *v, double *csat, long *ncsat, double *nps,
    long *nnps)
{
	char *words, *w, *save;
	double x;

	words = xstrdup(v);
	for (w = strtok_r(words, ";", &save); w != NULL;
	    w = strtok_r(NULL, ";", &save)) {
		if ((x = score(w, "csat")) >= 0) {
			*csat += x;
			(*ncsat)++;
		}
		if ((x = score(w, "nps")) >= 0) {
			*nps += x;
			(*nnps)++;
		}
	}
	free(words);
}

/* add: one case to group g. */
static void
add(struct report_group *g, const struct caseview *h)
{
	const char *v, *o;
	int64_t opened = ms_of(caseview_get(h, "opened_at")), t, due;
	char *words, *w, *save;

	g->opened++;
	due = ms_of(caseview_get(h, "due_at"));
	if ((t = ms_of(caseview_get(h, "acked_at"))) >= 0 && opened >= 0) {
		g->acked++;
		series_add(&g->ack, t - opened);
	}
	if (due >= 0) {
		g->with_sla++;
		if (t >= 0 && t <= due)
			g->acked_in_sla++;
	}
	if ((t = ms_of(caseview_get(h, "first_contact_at"))) >= 0 &&
	    opened >= 0)
		series_add(&g->contact, t - opened);
	if ((t = ms_of(caseview_get(h, "resolved_at"))) >= 0 && opened >= 0 &&
	    field_is(h, "state", "resolved")) {
		g->resolved++;
		series_add(&g->resolve, t - opened);
	}
	if ((v = caseview_get(h, "resolution_code")) != NULL && v[0] != '\0')
		count_code(g, v);
	if ((o = caseview_get(h, "outcomes")) != NULL && o[0] != '\0') {
		words = xstrdup(o);
		for (w = strtok_r(words, ",", &save); w != NULL;
		    w = strtok_r(NULL, ",", &save)) {
			if (strcmp(w, "recovered") == 0)
				g->recovered++;
			else if (strcmp(w, "not_recovered") == 0)
				g->not_recovered++;
			else if (strcmp(w, "unknown") == 0)
				g->unknown++;
		}
		free(words);
	}
	if ((v = caseview_get(h, "rating_before")) != NULL)
		add_scores(v, &g->csat_before, &g->ncsat_before,
		    &g->nps_before, &g->nnps_before);
	/* every resolution's rating after ("ratings_after", parallel to
	 * "outcomes"; a reopening's too), else the last one */
	if ((v = caseview_get(h, "ratings_after")) == NULL || v[0] == '\0')
		v = caseview_get(h, "rating_after");
	if (v != NULL)
		add_scores(v, &g->csat_after, &g->ncsat_after, &g->nps_after,
		    &g->nnps_after);
}

bool
report_by_ok(const char *by)
{
	return strcmp(by, "rule") == 0 || strcmp(by, "queue") == 0 ||
	    strcmp(by, "agent") == 0 || strcmp(by, "owner") == 0;
}

void
report_init(struct report *r, const char *by)
{
	memset(r, 0, sizeof(*r));
	r->by = by;
	r->total.name = xstrdup("all");
}

void
report_place(struct report *r, const struct caseview *h)
{
	const char *v;
	char *names, *w, *save;
	struct report_group *g;

	add(&r->total, h);
	if (strcmp(r->by, "rule") != 0) {
		v = caseview_get(h, strcmp(r->by, "agent") == 0 ? "agent_id" :
		    r->by);
		if ((g = group_of(r, v != NULL && v[0] != '\0' ? v : "-")) !=
		    NULL)
			add(g, h);
		return;
	}
	v = caseview_get(h, "rules");
	names = xstrdup(v != NULL && v[0] != '\0' ? v : "-");
	for (w = strtok_r(names, ",", &save); w != NULL;
	    w = strtok_r(NULL, ",", &save))
		if ((g = group_of(r, w)) != NULL)
			add(g, h);
	free(names);
}

static json_t *
jdur(int64_t ms)
{
	return ms < 0 ? json_null() : json_real((double)ms / 1000.0);
}

static json_t *
javg(double sum, long n)
{
	return n == 0 ? json_null() : json_real(sum / (double)n);
}

static json_t *
group_json(struct report_group *g)
{
	json_t *o = json_object(), *codes = json_object(), *out = json_object();
	long rn = g->recovered + g->not_recovered;
	size_t i;

	json_object_set_new(o, "opened", json_integer(g->opened));
	json_object_set_new(o, "acknowledged", json_integer(g->acked));
	json_object_set_new(o, "with_sla", json_integer(g->with_sla));
	json_object_set_new(o, "acknowledged_within_sla",
	    json_integer(g->acked_in_sla));
	json_object_set_new(o, "resolved", json_integer(g->resolved));
	json_object_set_new(o, "time_to_ack_p50_s",
	    jdur(report_pct(&g->ack, 50)));
	json_object_set_new(o, "time_to_ack_p90_s",
	    jdur(report_pct(&g->ack, 90)));
	json_object_set_new(o, "time_to_first_contact_p50_s",
	    jdur(report_pct(&g->contact, 50)));
	json_object_set_new(o, "time_to_first_contact_p90_s",
	    jdur(report_pct(&g->contact, 90)));
	json_object_set_new(o, "time_to_resolve_p50_s",
	    jdur(report_pct(&g->resolve, 50)));
	json_object_set_new(o, "time_to_resolve_p90_s",
	    jdur(report_pct(&g->resolve, 90)));
	for (i = 0; i < g->ncodes; i++)
		json_object_set_new(codes, g->codes[i],
		    json_integer(g->ncode[i]));
	json_object_set_new(o, "resolution_codes", codes);
	json_object_set_new(out, "recovered", json_integer(g->recovered));
	json_object_set_new(out, "not_recovered",
	    json_integer(g->not_recovered));
	json_object_set_new(out, "unknown", json_integer(g->unknown));
	json_object_set_new(o, "outcomes", out);
	json_object_set_new(o, "recovery_rate", rn == 0 ? json_null() :
	    json_real((double)g->recovered / (double)rn));
	json_object_set_new(o, "csat_before", javg(g->csat_before,
	    g->ncsat_before));
	json_object_set_new(o, "csat_after", javg(g->csat_after,
	    g->ncsat_after));
	json_object_set_new(o, "nps_before", javg(g->nps_before,
	    g->nnps_before));
	json_object_set_new(o, "nps_after", javg(g->nps_after,
	    g->nnps_after));
	return o;
}

json_t *
report_json(struct report *r, const char *since)
{
	json_t *o = json_object(), *gs = json_object();
	size_t i;

	json_object_set_new(o, "since", json_string(since));
	json_object_set_new(o, "by", json_string(r->by));
	json_object_set_new(o, "total", group_json(&r->total));
	for (i = 0; i < r->n; i++)
		json_object_set_new(gs, r->g[i].name, group_json(&r->g[i]));
	json_object_set_new(o, "groups", gs);
	return o;
}

static void
group_free(struct report_group *g)
{
	size_t i;

	free(g->name);
	free(g->ack.v);
	free(g->contact.v);
	free(g->resolve.v);
	for (i = 0; i < g->ncodes; i++)
		free(g->codes[i]);
}

void
report_free(struct report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		group_free(&r->g[i]);
	free(r->g);
	group_free(&r->total);
	memset(r, 0, sizeof(*r));
}

void
caseview_history_entry(json_t *entry, const char *entry_id,
    const json_t *opening)
{
	const char *kind, *id;

	if (!json_is_object(entry) || entry_id == NULL ||
	    !json_is_object(opening) ||
	    json_object_get(entry, "fields") != NULL)
		return;
	kind = json_string_value(json_object_get(entry, "kind"));
	id = json_string_value(json_object_get(entry, "event_id"));
	if (kind == NULL || strcmp(kind, "event") != 0 || id == NULL ||
	    strcmp(id, entry_id) != 0)
		return;
	(void)json_object_set_new(entry, "fields",
	    json_deep_copy(opening));
}
