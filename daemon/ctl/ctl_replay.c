/*
 * ctl_replay.c — "recoveryctl replay" and "recoveryctl explain": past
 * events through the simulator (sim.h), the same engine and state store
 * as the daemon, in memory.
 *
 * Events come from a file (one JSON object a line, "-" for stdin) or,
 * with --from-stream, from the input stream itself (XRANGE from now minus
 * --since, in pages), enriched from the CRM hash as the daemon does. The
 * virtual clock is each event's time, so windows, aggregates, "after",
 * cooldowns and cases behave as in the daemon, and escalation steps come
 * out when they fall due: between events, and after the last one up to
 * the longest escalation delay of the configuration. An event older than
 * one before it is decided as the daemon decides a late event (against
 * the state as it stands); replay says so on stderr with its line.
 *
 * --against OLD runs a second simulator over the same events with the
 * old configuration and prints only the difference: the alerts the new
 * rules add ("+") and the ones they remove ("-"). Alerts are compared on
 * time, rule, channel, step, customer and message (not case IDs, which
 * follow from which event opened a case).
 *
 * explain runs one event (or every event, explaining those of one
 * customer) and prints per rule why it fired or not (explain.h).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "ctl_offline.h"
#include "diag.h"
#include "engine.h"
#include "event.h"
#include "explain.h"
#include "sim.h"
#include "state.h"
#include "util.h"

#define STREAM_PAGE	500	/* entries per XRANGE */
#define STREAM_FIELDS	256	/* pairs of one entry read (the event limit) */

/* --- where events come from ------------------------------------------------ */

struct source {
	const char		*path;		/* file, or the stream key */
	FILE			*fp;
	char			*line;
	size_t			 cap, lineno;
	double			 last_ts;
	/* --from-stream */
	redisContext		*rc;
	struct config		*rcf;		/* the redis section's config */
	redisReply		*page;
	size_t			 pi;
	char			 start[64];	/* the next XRANGE start */
	bool			 stream, eof;
	int			 rc_exit;	/* EXIT_REDIS after a failure */
	const struct config	*cf;		/* rules: enrichment */
	bool			 enrich;
	/* what was read */
	struct evt		 ev;
	char			 where[80];	/* "FILE:LINE" or the entry ID */
	size_t			 events, invalid, late;
	int64_t			 max_ms;
	char			 max_where[80];
};

static void
src_init(struct source *s, const struct config *cf)
{
	memset(s, 0, sizeof(*s));
	s->cf = cf;
	evt_init(&s->ev);
}

static int
src_open_file(struct source *s, const char *path)
{
	s->path = path;
	/* History has no past bound; a ts past now + max_future_skew is a
	 * mistake (milliseconds, a year 9999) and an invalid line. */
	evt_set_clock(&s->ev, s->cf->max_future_skew_ms, 0, now_wall(),
	    "the current time");
	if (strcmp(path, "-") == 0)
		s->fp = stdin;
	else if ((s->fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "recoveryctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
src_close(struct source *s)
{
	if (s->fp != NULL && ferror(s->fp))
		fprintf(stderr, "recoveryctl: %s: %s\n", s->path,
		    strerror(errno));
	if (s->fp != NULL && s->fp != stdin)
		fclose(s->fp);
	free(s->line);
	if (s->page != NULL)
		freeReplyObject(s->page);
	if (s->rc != NULL)
		redisFree(s->rc);
	evt_free(&s->ev);
}

/* file_next: the next valid event of the file; 1, or 0 at the end. */
static int
file_next(struct source *s)
{
	char err[512], id[EVENT_ID_MAX];
	ssize_t len;
	size_t i;

	while ((len = getline(&s->line, &s->cap, s->fp)) != -1) {
		s->lineno++;
		while (len > 0 && (s->line[len - 1] == '\n' ||
		    s->line[len - 1] == '\r'))
			s->line[--len] = '\0';
		for (i = 0; i < (size_t)len && (s->line[i] == ' ' ||
		    s->line[i] == '\t'); i++)
			;
		if (i == (size_t)len || s->line[i] == '#')
			continue;
		snprintf(id, sizeof(id), "line:%zu", s->lineno);
		snprintf(s->where, sizeof(s->where), "%s:%zu", s->path,
		    s->lineno);
		/* An event without "ts" happens when the previous one did. */
		if (evt_from_json(&s->ev, id, s->line, (size_t)len,
		    s->last_ts, err, sizeof(err)) != EVERR_NONE) {
			fflush(stdout);	/* in order with the alerts */
			fprintf(stderr, "%s: invalid event: %s\n", s->where,
			    err);
			s->invalid++;
			continue;
		}
		s->last_ts = s->ev.ts;
		return 1;
	}
	return 0;
}

/* enrich: customer.* from the CRM hash, as the daemon does (now's data,
 * not the event's time's). */
static int
enrich(struct source *s)
{
	redisReply *r;
	char key[512], path[600];
	size_t i;
	int rc;

	if (!s->enrich || !engine_customer_key(s->cf, &s->ev, key,
	    sizeof(key)))
		return 0;
	r = redisCommand(s->rc, "HGETALL %s", key);
	if ((rc = ctl_reply_check(s->rc, r, "HGETALL", REDIS_REPLY_ARRAY)) !=
	    EXIT_OK) {
		if (r != NULL)
			freeReplyObject(r);
		if (rc == EXIT_REDIS) {
			s->rc_exit = EXIT_REDIS;
			return -1;
		}
		return 0;	/* a key that is no hash: no enrichment */
	}
	for (i = 0; i + 1 < r->elements; i += 2) {
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    r->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		snprintf(path, sizeof(path), "customer.%s",
		    r->element[i]->str);
		(void)evt_set(&s->ev, path, r->element[i + 1]->str,
		    r->element[i + 1]->len, false);
	}
	freeReplyObject(r);
	return 0;
}

/* stream_page: the next XRANGE page; 0, or -1 after a Redis failure. */
static int
stream_page(struct source *s)
{
	char count[16];
	const char *argv[6];
	size_t lens[6], i;
	redisReply *r;
	int rc;

	if (s->page != NULL)
		freeReplyObject(s->page);
	s->page = NULL;
	s->pi = 0;
	snprintf(count, sizeof(count), "%d", STREAM_PAGE);
	argv[0] = "XRANGE";
	argv[1] = s->path;
	argv[2] = s->start;
	argv[3] = "+";
	argv[4] = "COUNT";
	argv[5] = count;
	for (i = 0; i < 6; i++)
		lens[i] = strlen(argv[i]);
	r = redisCommandArgv(s->rc, 6, argv, lens);
	if ((rc = ctl_reply_check(s->rc, r, "XRANGE", REDIS_REPLY_ARRAY)) !=
	    EXIT_OK) {
		if (r != NULL)
			freeReplyObject(r);
		s->rc_exit = rc;
		return -1;
	}
	s->page = r;
	if (r->elements < STREAM_PAGE)
		s->eof = true;
	return 0;
}

/* stream_next: the next valid event of the stream; 1, 0 at the end, -1
 * after a Redis failure. */
static int
stream_next(struct source *s)
{
	const char *names[STREAM_FIELDS], *vals[STREAM_FIELDS];
	size_t nl[STREAM_FIELDS], vl[STREAM_FIELDS], n, i;
	const redisReply *e, *f;
	char err[512];

	for (;;) {
		if (s->page == NULL || s->pi >= s->page->elements) {
			if (s->eof && s->page != NULL)
				return 0;
			if (stream_page(s) == -1)
				return -1;
			if (s->page->elements == 0)
				return 0;
		}
		e = s->page->element[s->pi++];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		snprintf(s->start, sizeof(s->start), "(%s",
		    e->element[0]->str);
		snprintf(s->where, sizeof(s->where), "%s %s", s->path,
		    e->element[0]->str);
		f = e->element[1];
		if (f->type != REDIS_REPLY_ARRAY)
			continue;	/* trimmed while we read */
		for (i = n = 0; i + 1 < f->elements && n < STREAM_FIELDS;
		    i += 2) {
			if (f->element[i]->type != REDIS_REPLY_STRING ||
			    f->element[i + 1]->type != REDIS_REPLY_STRING)
				continue;
			names[n] = f->element[i]->str;
			nl[n] = f->element[i]->len;
			vals[n] = f->element[i + 1]->str;
			vl[n] = f->element[i + 1]->len;
			n++;
		}
		if (evt_from_fields(&s->ev, e->element[0]->str, names, nl,
		    vals, vl, n, err, sizeof(err)) != EVERR_NONE) {
			/* the daemon sent it to the dead letters */
			fflush(stdout);
			fprintf(stderr, "%s: invalid event: %s\n", s->where,
			    err);
			s->invalid++;
			continue;
		}
		if (enrich(s) == -1)
			return -1;
		return 1;
	}
}

/* src_next: the next event, with a warning for one out of time order. */
static int
src_next(struct source *s, int64_t *t_ms)
{
	char a[40], b[40];
	int rc = s->stream ? stream_next(s) : file_next(s);

	if (rc != 1)
		return rc;
	s->events++;
	*t_ms = (int64_t)llround(s->ev.ts * 1000.0);
	if (s->events > 1 && *t_ms < s->max_ms) {
		format_rfc3339(s->ev.ts, a, sizeof(a));
		format_rfc3339((double)s->max_ms / 1000.0, b, sizeof(b));
		fflush(stdout);
		fprintf(stderr, "%s: warning: out of time order: %s is before "
		    "%s (%s); decided as a late event\n", s->where, a, b,
		    s->max_where);
		s->late++;
	} else {
		s->max_ms = *t_ms;
		snprintf(s->max_where, sizeof(s->max_where), "%s", s->where);
	}
	return 1;
}

/*
 * src_open_stream: --from-stream: the redis section of the -c file (only
 * it: a broken rule file there does not matter when --rules names
 * another), the input stream from now - since.
 */
static int
src_open_stream(struct source *s, const char *conffile, int64_t since_ms)
{
	struct diags d;
	struct config *rcf;
	int64_t from;

	diags_init(&d);
	rcf = config_load_redis(conffile, &d);
	diags_print(&d, stderr);
	diags_free(&d);
	if (rcf == NULL)
		return EXIT_CHECK;
	s->stream = true;
	s->rcf = rcf;
	s->path = rcf->input_stream;
	from = (int64_t)llround(now_wall() * 1000.0) - since_ms;
	snprintf(s->start, sizeof(s->start), "%lld-0",
	    (long long)(from > 0 ? from : 0));
	/* Entries carry their own time; a ts is bounded by it as in the
	 * daemon (the rules' past bound, input.max_future_skew). */
	evt_set_clock(&s->ev, s->cf->max_future_skew_ms,
	    state_past_skew_ms(s->cf), -1, NULL);
	s->enrich = engine_reads_prefix(s->cf, "customer.");
	if ((s->rc = ctl_connect(rcf)) == NULL)
		return EXIT_REDIS;
	return EXIT_OK;
}

/* --- replay ------------------------------------------------------------- */

static void
print_alert(const struct sim *sm, size_t i, bool json, const char *prefix)
{
	const struct alert *a = &sm->alerts[i];

	if (json) {
		printf("%s\n", a->json);
		return;
	}
	printf("%s%s  %-8s  %-24s  %-12s  %-18s  %d  %-12s  %s", prefix,
	    a->fired_at, severity_name(a->severity), a->rule->name,
	    sm->customers[i][0] ? sm->customers[i] : "-",
	    a->case_id[0] ? a->case_id : "-", a->step, a->channel->name,
	    a->message);
	if (a->deliver_ms > (int64_t)llround(a->fired_ts * 1000.0)) {
		char when[40];

		/* it waits for its calendar (engine_deliver_at) */
		format_rfc3339((double)a->deliver_ms / 1000.0, when,
		    sizeof(when));
		printf("  (waits for its calendar until %s)", when);
	}
	printf("\n");
}

/* One alert of a shadow run, kept for the comparison. */
struct rec {
	int64_t		 t_ms;
	size_t		 seq;
	char		*key;	/* what two runs compare on */
	char		*text;	/* the replay line, without prefix */
	char		*json;
	bool		 matched;
};

struct recs {
	struct rec	*v;
	size_t		 n, cap;
};

static void
keep(struct recs *rs, const struct sim *sm)
{
	const struct alert *a;
	struct rec *r;
	size_t i;

	for (i = 0; i < sm->nalerts; i++) {
		a = &sm->alerts[i];
		if (rs->n == rs->cap) {
			rs->cap = rs->cap ? rs->cap * 2 : 64;
			rs->v = xreallocarray(rs->v, rs->cap, sizeof(*rs->v));
		}
		r = &rs->v[rs->n];
		r->seq = rs->n++;
		r->t_ms = (int64_t)llround(a->fired_ts * 1000.0);
		r->matched = false;
		r->key = xasprintf("%s\x1f%s\x1f%s\x1f%d\x1f%s\x1f%s",
		    a->fired_at, a->rule->name, a->channel->name, a->step,
		    sm->customers[i], a->message);
		r->text = xasprintf("%s  %-8s  %-24s  %-12s  %-18s  %d  %-12s  "
		    "%s", a->fired_at, severity_name(a->severity),
		    a->rule->name, sm->customers[i][0] ? sm->customers[i] :
		    "-", a->case_id[0] ? a->case_id : "-", a->step,
		    a->channel->name, a->message);
		r->json = xstrdup(a->json);
	}
}

static int
rec_cmp(const void *x, const void *y)
{
	const struct rec *a = *(const struct rec *const *)x;
	const struct rec *b = *(const struct rec *const *)y;
	int c = strcmp(a->key, b->key);

	if (c != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* match: pair equal alerts of the two runs (as multisets). O(n log n). */
static void
match(struct recs *a, struct recs *b)
{
	struct rec **pa, **pb;
	size_t i, j;
	int c;

	pa = xcalloc(a->n + 1, sizeof(*pa));
	pb = xcalloc(b->n + 1, sizeof(*pb));
	for (i = 0; i < a->n; i++)
		pa[i] = &a->v[i];
	for (j = 0; j < b->n; j++)
		pb[j] = &b->v[j];
	qsort(pa, a->n, sizeof(*pa), rec_cmp);
	qsort(pb, b->n, sizeof(*pb), rec_cmp);
	for (i = j = 0; i < a->n && j < b->n;) {
		c = strcmp(pa[i]->key, pb[j]->key);
		if (c == 0) {
			pa[i++]->matched = true;
			pb[j++]->matched = true;
		} else if (c < 0)
			i++;
		else
			j++;
	}
	free(pa);
	free(pb);
}

static void
print_change(const struct rec *r, bool added, bool json)
{
	if (json)
		printf("{\"change\":\"%s\",\"alert\":%s}\n", added ? "added" :
		    "removed", r->json);
	else
		printf("%c %s\n", added ? '+' : '-', r->text);
}

/* print_diff: the unmatched alerts of both runs, in time order (at one
 * time: removed before added, each in its run's order). */
static void
print_diff(const struct recs *nw, const struct recs *old, bool json,
    size_t *added, size_t *removed)
{
	size_t i = 0, j = 0;

	while (i < nw->n || j < old->n) {
		if (j < old->n && (i >= nw->n ||
		    old->v[j].t_ms <= nw->v[i].t_ms)) {
			if (!old->v[j].matched) {
				print_change(&old->v[j], false, json);
				(*removed)++;
			}
			j++;
		} else {
			if (!nw->v[i].matched) {
				print_change(&nw->v[i], true, json);
				(*added)++;
			}
			i++;
		}
	}
}

static void
recs_free(struct recs *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		free(rs->v[i].key);
		free(rs->v[i].text);
		free(rs->v[i].json);
	}
	free(rs->v);
}

static const char replay_usage[] =
    "usage: recoveryctl [-c FILE] replay [--rules FILE] [--against OLD.yaml] "
    "[--json]\n"
    "           (EVENTS.jsonl | - | --from-stream [--since DURATION])\n";

int
ctl_replay(const char *conffile, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "against", required_argument, NULL, 'a' },
		{ "from-stream", no_argument, NULL, 'S' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules = conffile, *against = NULL, *since = NULL;
	struct config *cf, *ocf = NULL;
	struct sim *sm, *osm = NULL;
	struct recs nrec = { NULL, 0, 0 }, orec = { NULL, 0, 0 };
	struct source src;
	int64_t t_ms, last_ms = 0, since_ms = 86400000LL, end;
	size_t i, added = 0, removed = 0;
	bool json = false, stream = false;
	int ch, rc = EXIT_OK, got;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:a:Ss:jh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'r':
			rules = optarg;
			break;
		case 'a':
			against = optarg;
			break;
		case 'S':
			stream = true;
			break;
		case 's':
			since = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(replay_usage, stdout);
			return EXIT_OK;
		default:
			fputs(replay_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if ((stream ? optind != argc : optind != argc - 1) ||
	    (since != NULL && !stream)) {
		fputs(replay_usage, stderr);
		return EXIT_USAGE;
	}
	if (since != NULL && (parse_duration_ms(since, &since_ms) != 0 ||
	    since_ms <= 0)) {
		fprintf(stderr, "recoveryctl: replay: bad --since '%s' (a "
		    "duration: 30m, 24h, 7d)\n", since);
		fputs(replay_usage, stderr);
		return EXIT_USAGE;
	}
	if ((cf = cli_load(rules, CLI_NO_PROGRAMS, stderr)) == NULL)
		return EXIT_CHECK;
	if (against != NULL &&
	    (ocf = cli_load(against, CLI_NO_PROGRAMS, stderr)) == NULL) {
		config_free(cf);
		return EXIT_CHECK;
	}
	src_init(&src, cf);
	if (stream)
		rc = src_open_stream(&src, conffile, since_ms);
	else if (src_open_file(&src, argv[optind]) == -1)
		rc = EXIT_USAGE;
	if (rc != EXIT_OK)
		goto done;

	sm = sim_new(cf);
	if (ocf != NULL)
		osm = sim_new(ocf);
	while ((got = src_next(&src, &t_ms)) == 1) {
		if (t_ms > last_ms)
			last_ms = t_ms;
		sim_event(sm, &src.ev, t_ms);
		if (osm == NULL) {
			for (i = 0; i < sm->nalerts; i++)
				print_alert(sm, i, json, "");
			continue;
		}
		keep(&nrec, sm);
		sim_event(osm, &src.ev, t_ms);
		keep(&orec, osm);
	}
	if (got == -1)
		rc = src.rc_exit != EXIT_OK ? src.rc_exit : EXIT_REDIS;
	/* Cases opened near the end still escalate: run the clock on. */
	if (src.events > 0) {
		end = last_ms + sim_longest_step(cf);
		if (ocf != NULL && last_ms + sim_longest_step(ocf) > end)
			end = last_ms + sim_longest_step(ocf);
		sim_advance(sm, end);
		if (osm == NULL)
			for (i = 0; i < sm->nalerts; i++)
				print_alert(sm, i, json, "");
		else {
			keep(&nrec, sm);
			sim_advance(osm, end);
			keep(&orec, osm);
		}
	}
	fflush(stdout);
	if (osm != NULL) {
		match(&nrec, &orec);
		print_diff(&nrec, &orec, json, &added, &removed);
		fflush(stdout);
		fprintf(stderr, "replay: %zu events, %zu invalid, %zu out of "
		    "order; new rules %zu alerts, old rules (%s) %zu alerts: "
		    "%zu added, %zu removed\n", src.events, src.invalid,
		    src.late, nrec.n, against, orec.n, added, removed);
	} else
		fprintf(stderr, "replay: %zu events, %zu invalid, %zu firings, "
		    "%zu cases, %zu escalation steps, %zu alerts\n",
		    src.events, src.invalid, sm->nfires, sm->ncases,
		    sm->nsteps, sm->total_alerts);
	sim_free(sm);
	sim_free(osm);
done:
	recs_free(&nrec);
	recs_free(&orec);
	src_close(&src);
	config_free(src.rcf);
	config_free(ocf);
	config_free(cf);
	return rc;
}

/* --- explain ------------------------------------------------------------ */

static const char explain_usage[] =
    "usage: recoveryctl [-c FILE] explain [--rules FILE] [--json] "
    "EVENT.json\n"
    "       recoveryctl [-c FILE] explain [--rules FILE] [--json] "
    "--customer K EVENTS.jsonl\n";

/* read_all: a whole small file (one JSON event, maybe over lines). */
static char *
read_all(const char *path, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (fp == NULL) {
		fprintf(stderr, "recoveryctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	buf_append(&b, "", 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (b.len + n > EVENT_MAX_BYTES) {
			fprintf(stderr, "recoveryctl: %s: over %d bytes: not "
			    "one event\n", path, EVENT_MAX_BYTES);
			buf_free(&b);
			if (fp != stdin)
				fclose(fp);
			return NULL;
		}
		buf_append(&b, chunk, n);
	}
	if (fp != stdin)
		fclose(fp);
	*len = b.len;
	return b.data;
}

static bool
of_customer(const struct evt *ev, const char *k)
{
	const struct value *v = evt_get(ev, "customer_id");

	return v != NULL && v->kind != V_LIST && v->s != NULL &&
	    strcmp(v->s, k) == 0;
}

int
ctl_explain(const char *conffile, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "customer", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rules = conffile, *customer = NULL;
	struct config *cf;
	struct source src;
	struct sim *sm;
	struct buf out;
	char *text, err[512];
	size_t len, shown = 0;
	int64_t t_ms;
	bool json = false;
	int ch, rc = EXIT_OK;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:k:jh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'r':
			rules = optarg;
			break;
		case 'k':
			customer = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(explain_usage, stdout);
			return EXIT_OK;
		default:
			fputs(explain_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(explain_usage, stderr);
		return EXIT_USAGE;
	}
	if ((cf = cli_load(rules, CLI_NO_PROGRAMS, stderr)) == NULL)
		return EXIT_CHECK;
	src_init(&src, cf);
	sm = sim_new(cf);
	buf_init(&out);
	if (customer == NULL) {
		/* One event, on a fresh state: no window holds anything
		 * else, so counts start from it. */
		evt_set_clock(&src.ev, cf->max_future_skew_ms, 0, now_wall(),
		    "the current time");
		if ((text = read_all(argv[optind], &len)) == NULL) {
			rc = EXIT_USAGE;
			goto done;
		}
		if (evt_from_json(&src.ev, "e1", text, len, now_wall(),
		    err, sizeof(err)) != EVERR_NONE) {
			fprintf(stderr, "%s: invalid event: %s\n",
			    argv[optind], err);
			free(text);
			rc = EXIT_CHECK;
			goto done;
		}
		free(text);
		explain_event(sm, &src.ev, (int64_t)llround(src.ev.ts *
		    1000.0), json, &out);
		fputs(out.data, stdout);
		goto done;
	}
	if (src_open_file(&src, argv[optind]) == -1) {
		rc = EXIT_USAGE;
		goto done;
	}
	while (src_next(&src, &t_ms) == 1) {
		if (!of_customer(&src.ev, customer)) {
			sim_event(sm, &src.ev, t_ms);
			continue;
		}
		buf_reset(&out);
		buf_append(&out, "", 0);
		explain_event(sm, &src.ev, t_ms, json, &out);
		fputs(out.data, stdout);
		shown++;
	}
	if (shown == 0)
		fprintf(stderr, "recoveryctl: explain: no event of customer "
		    "'%s' in %s\n", customer, argv[optind]);
done:
	buf_free(&out);
	sim_free(sm);
	src_close(&src);
	config_free(cf);
	return rc;
}
