/*
 * stats.c — counters of the running daemon (see stats.h).
 */
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "util.h"

const int stats_intake_codes[STATS_INTAKE_CODES] = {
	202, 400, 401, 404, 405, 413, 415, 500, 503
};

void
stats_intake_answer(struct stats *s, int code)
{
	size_t i;

	for (i = 0; i < STATS_INTAKE_CODES; i++)
		if (stats_intake_codes[i] == code) {
			s->intake_requests[i]++;
			return;
		}
}

const double stats_lat_bounds[STATS_LAT_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10
};

const double stats_case_bounds[STATS_CASE_BUCKETS] = {
	60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800
};

void
stats_hist_add(struct stats_hist *h, double secs)
{
	size_t i;

	if (secs < 0)
		secs = 0;
	for (i = 0; i < STATS_CASE_BUCKETS; i++)
		if (secs <= stats_case_bounds[i])
			h->b[i]++;
	h->count++;
	h->sum += secs;
}

void
stats_init(struct stats *s)
{
	memset(s, 0, sizeof(*s));
	s->cases_open = -1;
	s->cases_overdue = -1;
	s->stream_lag = -1;
}

static void
counters_free(struct named_counters *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].label2);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

void
stats_free(struct stats *s)
{
	counters_free(&s->rule_fires);
	counters_free(&s->alerts);
	counters_free(&s->cases_opened);
	counters_free(&s->cases_resolved);
	counters_free(&s->outcomes);
	counters_free(&s->suppressed);
	counters_free(&s->silenced);
}

/* stats_count: O(n) in distinct names; there are as many as rules or
 * channels, and this runs once per firing, not per event. */
void
stats_count(struct named_counters *c, const char *name, const char *label2,
    uint64_t n)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].name, name) == 0 &&
		    ((label2 == NULL && c->v[i].label2 == NULL) ||
		    (label2 != NULL && c->v[i].label2 != NULL &&
		    strcmp(c->v[i].label2, label2) == 0))) {
			c->v[i].n += n;
			return;
		}
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = xreallocarray(c->v, c->cap, sizeof(*c->v));
	}
	c->v[c->n].name = xstrdup(name);
	c->v[c->n].label2 = label2 ? xstrdup(label2) : NULL;
	c->v[c->n].n = n;
	c->n++;
}

void
stats_latency(struct stats *s, double secs)
{
	size_t i;

	if (secs < 0)
		secs = 0;
	for (i = 0; i < STATS_LAT_BUCKETS; i++)
		if (secs <= stats_lat_bounds[i])
			s->lat_bucket[i]++;
	s->lat_count++;
	s->lat_sum += secs;
}

void
stats_event_type(struct stats *s, const char *type)
{
	if (type == NULL)
		s->events_other++;
	else if (strcmp(type, "rating") == 0)
		s->events_rating++;
	else if (strcmp(type, "call") == 0)
		s->events_call++;
	else if (strcmp(type, "complaint") == 0)
		s->events_complaint++;
	else
		s->events_other++;
}
