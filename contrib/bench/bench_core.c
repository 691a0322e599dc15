/*
 * bench_core.c — throughput of the functional core (parse, validate, match,
 * render) on a fixed event mix, with 10, 100 and 1,000 stateless rules, and
 * the bytes malloc'ed per event in steady state.
 *
 *   build/bench/bench_core [EVENTS.jsonl] [SECONDS_PER_CASE]
 *
 * Prints figures; never fails on them. malloc/calloc/realloc are
 * interposed (glibc's __libc_* entry points) to count bytes requested by
 * everything in the process, jansson included.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "engine.h"
#include "rindex.h"
#include "event.h"
#include "log.h"
#include "util.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static size_t alloc_bytes, alloc_calls;

void *malloc(size_t n);
void *calloc(size_t n, size_t s);
void *realloc(void *p, size_t n);

void *
malloc(size_t n)
{
	alloc_bytes += n;
	alloc_calls++;
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t s)
{
	alloc_bytes += n * s;
	alloc_calls++;
	return __libc_calloc(n, s);
}

void *
realloc(void *p, size_t n)
{
	alloc_bytes += n;
	alloc_calls++;
	return __libc_realloc(p, n);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * write_rules: a configuration with n stateless rules of realistic shapes
 * (numeric thresholds, list membership, string tests, regexes), most of
 * which do not fire on a given event, as in a real rule set.
 */
static void
write_keyed_rules(FILE *fp, int n)
{
	/* The sample day's queues first, so 10 and 1,000 rules fire alike. */
	static const char *const queues[] = { "billing", "retention",
	    "sales", "support", "tech" };
	char q[32];
	int i;

	for (i = 0; i < n; i++) {
		if (i < (int)ARRAY_LEN(queues))
			snprintf(q, sizeof(q), "%s", queues[i]);
		else
			snprintf(q, sizeof(q), "q%d", i);
		fprintf(fp, "  - name: k%d\n    on: %s\n    if: \"queue == '%s' "
		    "and %s\"\n    cooldown: 0\n    actions:\n"
		    "      - notify: supervisors\n"
		    "        message: \"{{customer_id}} k%d queue={{queue}}\"\n",
		    i, i % 2 ? "call" : "rating", q,
		    i % 2 ? "wait_s > 300" : "csat <= 2", i);
	}
}

/*
 * write_rules: keyed: n rules of the shape large rule sets have (one per
 * queue, tenant or segment: "queue == 'q17' and csat <= 2"); otherwise
 * the mixed shapes below.
 */
static void
write_rules(const char *path, int n, bool keyed)
{
	static const char *const types[] = { "rating", "rating", "rating",
	    "call", "rating", "call" };
	FILE *fp = fopen(path, "w");
	int i;

	if (fp == NULL)
		fatal("%s", path);
	/* the keyed rules use no list */
	fprintf(fp, "%schannels:\n  supervisors: {type: stream, key: "
	    "ivr:alerts}\nrules:\n", keyed ? "" :
	    "lists:\n  vip_tiers: [gold, platinum]\n");
	if (keyed) {
		write_keyed_rules(fp, n);
		fclose(fp);
		return;
	}
	for (i = 0; i < n; i++) {
		int k = i % 6;
		int a = 1 + i % 5, b = i % 7;

		fprintf(fp, "  - name: r%d\n    on: %s\n    if: \"", i, types[k]);
		switch (k) {
		case 0:
			fprintf(fp, "csat <= %d and queue == 'q%d'", a, b);
			break;
		case 1:
			fprintf(fp, "nps <= %d and customer.tier in $vip_tiers and "
			    "agent_id != 'A%03d'", a, b);
			break;
		case 2:
			fprintf(fp, "ces >= %d and not resolved and language in "
			    "['en', 'es', 'x%d']", a, b);
			break;
		case 3:
			fprintf(fp, "wait_s > %d and queue startswith 'supp' and "
			    "transfers >= %d", a, b);
			break;
		case 4:
			fprintf(fp, "comment matches 'fix(ed)? my problem|%d times' "
			    "and csat < %d", a, b);
			break;
		default:
			fprintf(fp, "abandoned and wait_s > %d0 and queue != 'q%d'",
			    a, b);
			break;
		}
		/* a call has no scores: its message names what it has */
		fprintf(fp, "\"\n    cooldown: 0\n    actions:\n"
		    "      - notify: supervisors\n"
		    "        message: \"{{customer_id}} r%d %s "
		    "agent={{agent_id}}\"\n", i, k == 3 || k == 5 ?
		    "wait={{wait_s}}s queue={{queue}}" :
		    "csat={{csat}} nps={{nps}}");
	}
	fclose(fp);
}

struct line {
	char	*s;
	size_t	 len;
	/* The same event as flat stream fields (top-level scalars). */
	const char	*names[64], *vals[64];
	size_t		 nlens[64], vlens[64];
	size_t		 nf;
};

/* add_flat: one scalar as a flat field; nested objects become dotted
 * names (one level, as the sample data has). */
static void
add_flat(struct line *l, const char *k, json_t *v)
{
	const char *text = NULL, *sk;
	json_t *sv;
	char tmp[64], name[128];

	if (json_is_object(v)) {
		json_object_foreach(v, sk, sv) {
			snprintf(name, sizeof(name), "%s.%s", k, sk);
			add_flat(l, name, sv);
		}
		return;
	}
	if (l->nf == 64)
		return;
	if (json_is_string(v))
		text = json_string_value(v);
	else if (json_is_integer(v)) {
		snprintf(tmp, sizeof(tmp), "%lld",
		    (long long)json_integer_value(v));
		text = tmp;
	} else if (json_is_real(v)) {
		snprintf(tmp, sizeof(tmp), "%.17g", json_real_value(v));
		text = tmp;
	} else if (json_is_boolean(v))
		text = json_is_true(v) ? "true" : "false";
	if (text == NULL)
		return;
	l->names[l->nf] = xstrdup(k);
	l->nlens[l->nf] = strlen(k);
	l->vals[l->nf] = xstrdup(text);
	l->vlens[l->nf] = strlen(text);
	l->nf++;
}

/* flatten: the flat-field form of a JSON line, made once at setup. */
static void
flatten(struct line *l)
{
	json_error_t jerr;
	json_t *o = json_loadb(l->s, l->len, 0, &jerr), *v;
	const char *k;

	l->nf = 0;
	if (o == NULL)
		return;
	json_object_foreach(o, k, v)
		add_flat(l, k, v);
	json_decref(o);
}

static struct line *
read_lines(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "r");
	struct line *v = NULL;
	char *l = NULL;
	size_t cap = 0, nv = 0;
	ssize_t len;

	if (fp == NULL)
		fatal("%s", path);
	while ((len = getline(&l, &cap, fp)) > 0) {
		v = xreallocarray(v, nv + 1, sizeof(*v));
		v[nv].s = xstrndup(l, (size_t)len);
		v[nv].len = (size_t)len;
		flatten(&v[nv]);
		nv++;
	}
	free(l);
	fclose(fp);
	*n = nv;
	return v;
}

static double
run_case(int nrules, struct line *lines, size_t nlines, double secs,
    bool flat, bool keyed, bool noindex)
{
	char path[] = "/tmp/bench-rules-XXXXXX";
	struct config *cf;
	struct evt ev;
	struct arena arena;
	struct buf scratch;
	struct fire *fires;
	struct alert *alerts = NULL;
	size_t nalerts, capalerts = 0, events = 0, fired = 0, i, nf;
	size_t invalid = 0;
	size_t bytes0, calls0, counted = 0;
	char err[256];
	double t0, t1 = 0;
	int fd;

	if ((fd = mkstemp(path)) == -1)
		fatal("mkstemp");
	close(fd);
	write_rules(path, nrules, keyed);
	if ((cf = cli_load_config(path, stderr)) == NULL)
		fatalx("bench rules did not load");
	unlink(path);
	if (noindex) {
		rindex_free(cf->rindex);
		cf->rindex = NULL;
	}
	fires = xcalloc(cf->nrules, sizeof(*fires));
	evt_init(&ev);
	arena_init(&arena);
	buf_init(&scratch);

	/* One warm-up pass, then count allocations over the timed run. */
	t0 = mono();
	bytes0 = calls0 = 0;
	for (;;) {
		const struct line *l = &lines[events % nlines];
		struct case_ref cr;

		if (events == nlines) {
			bytes0 = alloc_bytes;
			calls0 = alloc_calls;
			counted = 0;
			t0 = mono();
		}
		evt_reset(&ev);
		arena_reset(&arena);
		if ((flat ? evt_from_fields(&ev, "1700000000000-0", l->names,
		    l->nlens, l->vals, l->vlens, l->nf, err, sizeof(err)) :
		    evt_from_json(&ev, "1-0", l->s, l->len, 0, err,
		    sizeof(err))) == EVERR_NONE) {
			nf = engine_match(cf, &ev, fires, cf->nrules, NULL);
			memset(&cr, 0, sizeof(cr));
			snprintf(cr.case_id, sizeof(cr.case_id), "c-1");
			for (i = 0; i < nf; i++) {
				nalerts = 0;
				engine_render(cf, &ev, &fires[i], &cr, 0, ev.ts,
				    &arena, &scratch, &alerts, &nalerts,
				    &capalerts);
			}
			fired += nf;
		} else
			invalid++;
		events++;
		counted++;
		if ((events & 255) == 0 && events > nlines &&
		    (t1 = mono()) - t0 >= secs)
			break;
	}
	printf("  %-5s %5d %s rules: %9.0f events/s  %6.2f firings/event  "
	    "%8.1f bytes, %5.2f mallocs per event%s%s\n", flat ? "flat" : "json",
	    nrules, keyed ? "keyed" : "mixed", counted / (t1 - t0),
	    (double)fired / events,
	    (double)(alloc_bytes - bytes0) / counted,
	    (double)(alloc_calls - calls0) / counted,
	    invalid ? "  (SOME EVENTS INVALID)" : "",
	    noindex ? "  (no rule index)" : "");
	free(alerts);
	free(fires);
	buf_free(&scratch);
	arena_free(&arena);
	evt_free(&ev);
	config_free(cf);
	return counted / (t1 - t0);
}

int
main(int argc, char **argv)
{
	const char *events = argc > 1 ? argv[1] : "contrib/samples/events.jsonl";
	double secs = argc > 2 ? atof(argv[2]) : 3;
	static const int sizes[] = { 10, 100, 1000 };
	struct line *lines;
	size_t nlines, i;
	double r10, r1000, rno;

	log_init("bench", 1, 0, 0);
	lines = read_lines(events, &nlines);
	if (nlines == 0)
		fatalx("%s: no events", events);
	printf("core throughput (parse + validate + match + render alerts), "
	    "%zu-event mix from %s, %.0f s per case, one core.\n"
	    "json: events in the json-field form (jansson parses them);\n"
	    "flat: the same events as flat stream fields.\n", nlines,
	    events, secs);
	for (i = 0; i < ARRAY_LEN(sizes); i++) {
		run_case(sizes[i], lines, nlines, secs, false, false, false);
		run_case(sizes[i], lines, nlines, secs, true, false, false);
	}
	/* The rule index (rindex.h): keyed rules, 10 against 1,000, side by
	 * side in this run. */
	r10 = run_case(10, lines, nlines, secs, true, true, false);
	r1000 = run_case(1000, lines, nlines, secs, true, true, false);
	rno = run_case(1000, lines, nlines, secs, true, true, true);
	printf("  rule index: 1,000 keyed rules run at %.2f of the 10-rule "
	    "rate (flat fields); without the index %.2f\n", r1000 / r10,
	    rno / r10);
	for (i = 0; i < nlines; i++) {
		size_t j;
		for (j = 0; j < lines[i].nf; j++) {
			free((char *)lines[i].names[j]);
			free((char *)lines[i].vals[j]);
		}
		free(lines[i].s);
	}
	free(lines);
	return 0;
}
