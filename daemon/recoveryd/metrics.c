/*
 * metrics.c — the daemon's counters as Prometheus text (GET /metrics) and
 * as a Redis hash for "recoveryctl stats" (see metrics.h).
 *
 * The text format (version 0.0.4) is line based: for each metric family a
 * "# HELP name text" and a "# TYPE name counter|gauge|histogram" line, then
 * one sample per line, "name{label="value",...} number". All samples of a
 * family must follow its TYPE line without another family in between, and
 * a histogram is its cumulative _bucket series (the last one le="+Inf",
 * equal to _count), then _sum and _count. Label values escape backslash,
 * double quote and newline; nothing else needs escaping.
 *
 * Numbers: counters are integers; floating values are printed with the
 * fewest digits that read back to the same double, so bounds come out as
 * "0.0005" rather than "0.00050000000000000001".
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "http.h"
#include "metrics.h"

/* fmt_double: v in the shortest "%g" form that reads back exactly;
 * +Inf, -Inf and NaN as the format spells them. */
static void
fmt_double(double v, char *out, size_t cap)
{
	int prec;

	if (isnan(v)) {
		snprintf(out, cap, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, cap, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 6; prec < 17; prec++) {
		snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
	snprintf(out, cap, "%.17g", v);
}

/* put_label: name="value" with the value escaped. */
static void
put_label(struct buf *b, const char *name, const char *value)
{
	const char *p;

	buf_puts(b, name);
	buf_puts(b, "=\"");
	for (p = value; *p != '\0'; p++) {
		switch (*p) {
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case '"':
			buf_puts(b, "\\\"");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		default:
			buf_putc(b, *p);
			break;
		}
	}
	buf_putc(b, '"');
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* sample: name{l1="v1",l2="v2"} n; a label whose name is NULL is left
 * out. */
static void
sample(struct buf *b, const char *name, const char *l1, const char *v1,
    const char *l2, const char *v2, uint64_t n)
{
	buf_puts(b, name);
	if (l1 != NULL) {
		buf_putc(b, '{');
		put_label(b, l1, v1);
		if (l2 != NULL) {
			buf_putc(b, ',');
			put_label(b, l2, v2);
		}
		buf_putc(b, '}');
	}
	buf_printf(b, " %" PRIu64 "\n", n);
}

static void
sample_double(struct buf *b, const char *name, double v)
{
	char num[40];

	fmt_double(v, num, sizeof(num));
	buf_printf(b, "%s %s\n", name, num);
}

/* counter: a family of one unlabelled counter. */
static void
counter(struct buf *b, const char *name, const char *help, uint64_t n)
{
	family(b, name, "counter", help);
	sample(b, name, NULL, NULL, NULL, NULL, n);
}

/* render_intake: the HTTP intake's families (intake.h). */
static void
render_intake(const struct stats *s, struct buf *b)
{
	static const char *const name = "recoveryd_intake_requests_total";
	char code[8];
	size_t i;

	family(b, name, "counter", "Requests the HTTP intake answered, by "
	    "status code (a body over intake.max_body is refused by the "
	    "HTTP layer before it is read, and not counted here).");
	for (i = 0; i < STATS_INTAKE_CODES; i++) {
		snprintf(code, sizeof(code), "%d", stats_intake_codes[i]);
		sample(b, name, "code", code, NULL, NULL,
		    s->intake_requests[i]);
	}
	counter(b, "recoveryd_intake_events_total", "Events the HTTP intake "
	    "accepted: in the input stream when the answer left.",
	    s->intake_events);
	counter(b, "recoveryd_intake_invalid_total", "Events the HTTP intake "
	    "refused as invalid (each failing its request with 400).",
	    s->intake_invalid);
}

static void
render_events(const struct stats *s, struct buf *b)
{
	static const char *const name = "recoveryd_events_total";
	int e;

	family(b, name, "counter", "Valid events processed (acked), by type.");
	sample(b, name, "type", "rating", NULL, NULL, s->events_rating);
	sample(b, name, "type", "call", NULL, NULL, s->events_call);
	sample(b, name, "type", "complaint", NULL, NULL, s->events_complaint);
	sample(b, name, "type", "other", NULL, NULL, s->events_other);

	family(b, "recoveryd_events_invalid_total", "counter",
	    "Entries dead-lettered, by reason.");
	for (e = EVERR_JSON; e < EVERR__COUNT; e++)
		sample(b, "recoveryd_events_invalid_total", "reason",
		    evt_err_reason((enum event_err)e), NULL, NULL,
		    s->invalid[e]);
	sample(b, "recoveryd_events_invalid_total", "reason",
	    "max_deliveries", NULL, NULL, s->dead_deliveries);
	/* Valid events that could not be decided, dead-lettered alone. */
	sample(b, "recoveryd_events_invalid_total", "reason", "enrich", NULL,
	    NULL, s->dead_enrich);
	sample(b, "recoveryd_events_invalid_total", "reason", "decide", NULL,
	    NULL, s->dead_decide);
}

static void
render_named(struct buf *b, const char *name, const char *help,
    const struct named_counters *c, const char *l1, const char *l2)
{
	size_t i;

	family(b, name, "counter", help);
	for (i = 0; i < c->n; i++)
		sample(b, name, l1, c->v[i].name, l2,
		    c->v[i].label2 != NULL ? c->v[i].label2 : "",
		    c->v[i].n);
}

static void
render_latency(const struct stats *s, struct buf *b)
{
	static const char *const name = "recoveryd_event_latency_seconds";
	char le[40];
	size_t i;

	family(b, name, "histogram",
	    "Time from an entry's stream ID to its ack, seconds.");
	/* stats_latency() counts an observation in every bucket whose
	 * bound it does not exceed: the buckets are cumulative already. */
	for (i = 0; i < STATS_LAT_BUCKETS; i++) {
		fmt_double(stats_lat_bounds[i], le, sizeof(le));
		sample(b, "recoveryd_event_latency_seconds_bucket", "le", le,
		    NULL, NULL, s->lat_bucket[i]);
	}
	sample(b, "recoveryd_event_latency_seconds_bucket", "le", "+Inf",
	    NULL, NULL, s->lat_count);
	sample_double(b, "recoveryd_event_latency_seconds_sum", s->lat_sum);
	sample(b, "recoveryd_event_latency_seconds_count", NULL, NULL, NULL,
	    NULL, s->lat_count);
}

static void
render_hist(struct buf *b, const char *name, const char *help,
    const struct stats_hist *h)
{
	char le[40], series[128];
	size_t i;

	family(b, name, "histogram", help);
	snprintf(series, sizeof(series), "%s_bucket", name);
	for (i = 0; i < STATS_CASE_BUCKETS; i++) {
		fmt_double(stats_case_bounds[i], le, sizeof(le));
		sample(b, series, "le", le, NULL, NULL, h->b[i]);
	}
	sample(b, series, "le", "+Inf", NULL, NULL, h->count);
	snprintf(series, sizeof(series), "%s_sum", name);
	sample_double(b, series, h->sum);
	snprintf(series, sizeof(series), "%s_count", name);
	sample(b, series, NULL, NULL, NULL, NULL, h->count);
}

/* render_loop: the closed loop's figures (README, "Metrics and health" and
 * "Working a case"). */
static void
render_loop(const struct stats *s, struct buf *b)
{
	render_named(b, "recoveryd_cases_opened_total",
	    "Recovery cases opened, by the rule that opened them.",
	    &s->cases_opened, "rule", NULL);
	render_named(b, "recoveryd_cases_resolved_total",
	    "Recovery cases resolved, by reason code.", &s->cases_resolved,
	    "code", NULL);
	render_named(b, "recoveryd_case_outcomes_total",
	    "Outcomes of resolutions (the customer's next rating), by the "
	    "case's first rule and outcome.", &s->outcomes, "rule",
	    "outcome");
	render_named(b, "recoveryd_contacts_suppressed_total",
	    "Contact alerts held back by the contact policy, by channel and "
	    "reason (do_not_call, limit).", &s->suppressed, "channel",
	    "reason");
	render_named(b, "recoveryd_silenced_total",
	    "Firings held back by a silence (decided, not delivered), by "
	    "silence ID.", &s->silenced, "silence", NULL);
	family(b, "recoveryd_cases_overdue", "gauge",
	    "Cases not resolved past their SLA's due time (all daemons).");
	if (s->cases_overdue >= 0)
		sample(b, "recoveryd_cases_overdue", NULL, NULL, NULL, NULL,
		    (uint64_t)s->cases_overdue);
	render_hist(b, "recoveryd_case_time_to_ack_seconds",
	    "Time from a case's opening to its acknowledgement, seconds.",
	    &s->to_ack);
	render_hist(b, "recoveryd_case_time_to_first_contact_seconds",
	    "Time from a case's opening to the first contact that reached "
	    "the customer, seconds.", &s->to_contact);
	render_hist(b, "recoveryd_case_time_to_resolve_seconds",
	    "Time from a case's opening to its resolution, seconds.",
	    &s->to_resolve);
}

/* render_restart: one series per setting that waits for a restart. */
static void
render_restart(const struct metrics_info *mi, struct buf *b)
{
	static const char *const name = "recoveryd_restart_pending";
	const char *p = mi->restart_pending, *end;
	char setting[64];
	size_t n;

	family(b, name, "gauge", "1 for each setting changed in the "
	    "configuration file that takes effect at the next restart.");
	while (p != NULL && *p != '\0') {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n < sizeof(setting)) {
			memcpy(setting, p, n);
			setting[n] = '\0';
			sample(b, name, "setting", setting, NULL, NULL, 1);
		}
		if (end == NULL)
			break;
		p = end + 1;
		while (*p == ' ')
			p++;
	}
}

void
metrics_render(const struct stats *s, const struct metrics_info *mi,
    struct buf *b)
{
	render_events(s, b);
	render_intake(s, b);
	render_named(b, "recoveryd_rule_fires_total",
	    "Rule firings of acked events, by rule.", &s->rule_fires, "rule",
	    NULL);
	render_named(b, "recoveryd_alerts_total",
	    "Alerts written, by channel and result (queued: in the outbox "
	    "for webhook and exec delivery).", &s->alerts, "channel",
	    "result");

	family(b, "recoveryd_cases_open", "gauge",
	    "Open recovery cases (all daemons).");
	if (s->cases_open >= 0)
		sample(b, "recoveryd_cases_open", NULL, NULL, NULL, NULL,
		    (uint64_t)s->cases_open);

	render_latency(s, b);
	render_loop(s, b);

	family(b, "recoveryd_stream_lag", "gauge",
	    "Entries of the input stream the consumer group has not read.");
	if (s->stream_lag >= 0)
		sample(b, "recoveryd_stream_lag", NULL, NULL, NULL, NULL,
		    (uint64_t)s->stream_lag);

	counter(b, "recoveryd_redis_reconnects_total",
	    "Lost Redis connections re-established.", s->redis_reconnects);

	family(b, "recoveryd_rules_reloads_total", "counter",
	    "Configuration reloads (SIGHUP), by result.");
	sample(b, "recoveryd_rules_reloads_total", "result", "ok", NULL, NULL,
	    s->reloads_ok);
	sample(b, "recoveryd_rules_reloads_total", "result", "failed", NULL,
	    NULL, s->reloads_failed);

	counter(b, "recoveryd_lost_entries_total",
	    "Pending entries trimmed from the stream before they were "
	    "processed.", s->lost);
	counter(b, "recoveryd_commit_failures_total",
	    "Batches whose commit failed for some entries (retried).",
	    s->commit_failures);
	counter(b, "recoveryd_batches_total", "Batches committed.",
	    s->batches);
	family(b, "recoveryd_owner", "gauge",
	    "1 while this daemon holds the owner lease of its input stream "
	    "(it decides the stream), 0 while it stands by.");
	sample(b, "recoveryd_owner", NULL, NULL, NULL, NULL,
	    (uint64_t)s->owner);
	family(b, "recoveryd_lease_epoch", "gauge",
	    "Fencing epoch of the lease this daemon held last (0: never).");
	sample(b, "recoveryd_lease_epoch", NULL, NULL, NULL, NULL,
	    s->owner_epoch);
	counter(b, "recoveryd_takeovers_total",
	    "Times this daemon took the owner lease.", s->takeovers);
	counter(b, "recoveryd_commits_fenced_total",
	    "Commits refused by the fence (lease lost, or entries pending on "
	    "another consumer): nothing of them was written.", s->fenced);
	counter(b, "recoveryd_redis_retries_total",
	    "Refusals Redis gave for the moment (OOM, BUSY, LOADING...) and "
	    "cases changed by a person, retried without counting as "
	    "deliveries.", s->retries);
	counter(b, "recoveryd_commits_rewatched_total",
	    "Commits sent again because the lease key changed between their "
	    "check and their EXEC (a renewal, most often): nothing of them "
	    "had been written.", s->rewatched);

	family(b, "recoveryd_state_cache_entities", "gauge",
	    "Entities of rule state and cases this daemon holds in memory "
	    "(state.cache bounds them; 0 on a standby).");
	sample(b, "recoveryd_state_cache_entities", NULL, NULL, NULL, NULL,
	    s->cache_entities);
	counter(b, "recoveryd_state_loaded_total",
	    "Entities an event needed that were not in memory and held a "
	    "value in Redis. Rising with recoveryd_state_evicted_total at a "
	    "good part of the event rate: state.cache is too small.",
	    s->cache_loaded);
	counter(b, "recoveryd_state_evicted_total",
	    "Entities dropped from memory to keep within state.cache (least "
	    "recently used first).", s->cache_evicted);

	family(b, "recoveryd_up", "gauge", "1 while the daemon runs.");
	sample(b, "recoveryd_up", NULL, NULL, NULL, NULL, 1);
	family(b, "recoveryd_build_info", "gauge",
	    "Always 1; the version is a label.");
	sample(b, "recoveryd_build_info", "version",
	    mi->version != NULL ? mi->version : "", NULL, NULL, 1);
	family(b, "recoveryd_rules_loaded", "gauge",
	    "Rules of the running configuration.");
	sample(b, "recoveryd_rules_loaded", NULL, NULL, NULL, NULL,
	    (uint64_t)mi->nrules);
	family(b, "recoveryd_start_time_seconds", "gauge",
	    "Start time of the daemon, seconds since the epoch.");
	sample_double(b, "recoveryd_start_time_seconds", mi->start_time);
	render_restart(mi, b);
}

void
metrics_render_http(const struct http_listener_stats *st, struct buf *b)
{
	static const char *const closed = "recoveryd_http_closed_total";

	family(b, "recoveryd_http_connections", "gauge",
	    "Open connections of the HTTP listener.");
	sample(b, "recoveryd_http_connections", NULL, NULL, NULL, NULL,
	    (uint64_t)st->open);
	counter(b, "recoveryd_http_accepted_total",
	    "Connections the HTTP listener accepted.", st->accepted);
	family(b, closed, "counter", "HTTP connections closed by the daemon, "
	    "by reason (evicted: to make room under http.max_connections; "
	    "deadline: no whole request within http.request_timeout).");
	sample(b, closed, "reason", "evicted", NULL, NULL, st->evicted);
	sample(b, closed, "reason", "deadline", NULL, NULL, st->timed_out);
	counter(b, "recoveryd_http_accept_pauses_total",
	    "accept() failures (out of file descriptors), each pausing the "
	    "listener for a second.", st->accept_pauses);
}

/* --- the hash for recoveryctl stats --------------------------------------- */

double
metrics_quantile(const struct stats *s, double q)
{
	double rank, lo, hi, below, in;
	size_t i;

	if (s->lat_count == 0)
		return -1;
	rank = q * (double)s->lat_count;
	below = 0;
	for (i = 0; i < STATS_LAT_BUCKETS; i++) {
		if ((double)s->lat_bucket[i] >= rank) {
			lo = i > 0 ? stats_lat_bounds[i - 1] : 0;
			hi = stats_lat_bounds[i];
			in = (double)s->lat_bucket[i] - below;
			if (in <= 0)
				return hi;
			return lo + (hi - lo) * (rank - below) / in;
		}
		below = (double)s->lat_bucket[i];
	}
	return stats_lat_bounds[STATS_LAT_BUCKETS - 1];
}

static void
field_str(struct args *a, const char *f, const char *v)
{
	args_str(a, f);
	args_str(a, v != NULL ? v : "");
}

static void
field_num(struct args *a, struct arena *ar, const char *f, uint64_t n)
{
	char tmp[32];
	int l = snprintf(tmp, sizeof(tmp), "%" PRIu64, n);

	args_str(a, f);
	args_add(a, arena_strndup(ar, tmp, (size_t)l), (size_t)l);
}

/* field_gauge: n, or "" when unknown (negative). */
static void
field_gauge(struct args *a, struct arena *ar, const char *f, int64_t n)
{
	if (n < 0)
		field_str(a, f, "");
	else
		field_num(a, ar, f, (uint64_t)n);
}

/* field_secs: seconds with microsecond precision, or "" when unknown. */
static void
field_secs(struct args *a, struct arena *ar, const char *f, double v)
{
	char tmp[40];
	int l;

	if (v < 0) {
		field_str(a, f, "");
		return;
	}
	l = snprintf(tmp, sizeof(tmp), "%.6f", v);
	args_str(a, f);
	args_add(a, arena_strndup(ar, tmp, (size_t)l), (size_t)l);
}

static void
field_time(struct args *a, struct arena *ar, const char *f, double t)
{
	char tmp[64];

	format_rfc3339(t, tmp, sizeof(tmp));
	args_str(a, f);
	args_str(a, arena_strndup(ar, tmp, strlen(tmp)));
}

static uint64_t
alerts_with(const struct named_counters *c, const char *result)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i].label2 != NULL &&
		    strcmp(c->v[i].label2, result) == 0)
			n += c->v[i].n;
	return n;
}

void
metrics_publish_args(const struct stats *s, const struct metrics_info *mi,
    const char *key, struct args *a, struct arena *ar)
{
	uint64_t invalid = s->dead_deliveries + s->dead_enrich +
	    s->dead_decide, fires = 0;
	size_t i;

	for (i = 0; i < EVERR__COUNT; i++)
		invalid += s->invalid[i];
	for (i = 0; i < s->rule_fires.n; i++)
		fires += s->rule_fires.v[i].n;

	args_str(a, "HSET");
	args_str(a, key);
	field_str(a, "consumer", mi->consumer);
	field_str(a, "version", mi->version);
	field_num(a, ar, "events", s->events_rating + s->events_call +
	    s->events_complaint + s->events_other);
	field_num(a, ar, "events_rating", s->events_rating);
	field_num(a, ar, "events_call", s->events_call);
	field_num(a, ar, "events_complaint", s->events_complaint);
	field_num(a, ar, "events_other", s->events_other);
	field_num(a, ar, "invalid", invalid);
	field_num(a, ar, "fires", fires);
	field_num(a, ar, "alerts_ok", alerts_with(&s->alerts, "ok"));
	field_num(a, ar, "alerts_failed", alerts_with(&s->alerts, "failed"));
	field_num(a, ar, "alerts_queued", alerts_with(&s->alerts, "queued"));
	field_gauge(a, ar, "cases_open", s->cases_open);
	field_gauge(a, ar, "lag", s->stream_lag);
	field_num(a, ar, "reconnects", s->redis_reconnects);
	field_num(a, ar, "reloads_ok", s->reloads_ok);
	field_num(a, ar, "reloads_failed", s->reloads_failed);
	field_num(a, ar, "rules", (uint64_t)mi->nrules);
	field_secs(a, ar, "latency_p50", metrics_quantile(s, 0.5));
	field_secs(a, ar, "latency_p99", metrics_quantile(s, 0.99));
	field_time(a, ar, "started_at", mi->start_time);
	field_time(a, ar, "updated_at", now_wall());
}
