/*
 * test_config.c — the configuration loader on valid input: values parsed,
 * defaults filled in, includes followed, references resolved; plus the
 * YAML layer's refusals and redis_url_parse; config_load_opts's
 * program check and file list. Broken configurations and
 * their exact messages are the corpus under tests/config/ (run by
 * tests/config_corpus.sh); here a few only check that errors are counted.
 *
 * Run from the repository root (it loads rules/recoveryd.yaml).
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "util.h"
#include "yaml.h"

static char tmpdir[] = "/tmp/test_config.XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(2);
	}
	fputs(text, fp);
	fclose(fp);
}

/* load: config_load of tmpdir/name; diagnostics stay in *d. */
static struct config *
load(const char *name, struct diags *d)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	diags_init(d);
	return config_load(path, d);
}

static const char *
chan_of(const struct config *cf, const struct notify *n, size_t i)
{
	return i < n->nchans ? cf->channels[n->chans[i]].name : "(none)";
}

static bool
diags_have(const struct diags *d, const char *needle)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, needle) != NULL)
			return true;
	return false;
}

static void
test_example(void)
{
	struct diags d;
	struct config *cf;
	const struct rule *r;
	const struct channel *ch;
	const struct vlist *l;

	diags_init(&d);
	cf = config_load("rules/recoveryd.yaml", &d);
	CHECK(cf != NULL);
	CHECK_INT(d.errors, 0);
	CHECK_INT(d.warnings, 0);
	if (d.n > 0)
		diags_print(&d, stdout);
	diags_free(&d);
	if (cf == NULL)
		return;
	CHECK_STR(cf->redis_url, "redis://127.0.0.1:6379/0");
	CHECK_STR(cf->http_listen, "127.0.0.1:9464");
	CHECK_STR(cf->input_stream, "ivr:events");
	CHECK_STR(cf->dead_letter, "ivr:events:dead");
	CHECK_STR(cf->undelivered_stream, "ivr:alerts:undelivered");
	CHECK_INT(cf->input_batch, 256);
	CHECK_INT(cf->state_cache, 50000);	/* the default */
	CHECK_INT(cf->nchannels, 5);
	CHECK(cf->nfiles >= 2);
	CHECK_STR(cf->files[0], "rules/recoveryd.yaml");

	CHECK((l = config_list(cf, "vip_tiers")) != NULL);
	if (l != NULL) {
		CHECK_INT(l->n, 2);
		CHECK_STR(l->items[1].s, "platinum");
	}
	CHECK((ch = config_channel(cf, "pager")) != NULL);
	if (ch != NULL) {
		CHECK_INT(ch->type, CH_EXEC);
		CHECK_INT(ch->argc, 7);
		CHECK_STR(tmpl_source(ch->argv[0]), "/usr/bin/logger");
		CHECK_STR(tmpl_source(ch->argv[6]),
		    "page: case {{case_id}} {{severity}} {{rule}}");
		CHECK_INT(ch->timeout_ms, 10000);
	}
	CHECK((ch = config_channel(cf, "teamlead")) != NULL);
	if (ch != NULL) {
		CHECK_INT(ch->type, CH_WEBHOOK);
		CHECK_INT(ch->retries, 6);
		CHECK_INT(ch->nheaders, 1);
		CHECK_STR(ch->url, "https://hooks.example.com/T1");
	}
	CHECK((ch = config_channel(cf, "log")) != NULL);
	if (ch != NULL)
		CHECK_INT(ch->priority, LOG_WARNING);

	CHECK((r = config_rule(cf, "vip-detractor")) != NULL);
	if (r != NULL) {
		CHECK_INT(r->severity, SEV_HIGH);
		CHECK_INT(r->nactions, 2);
		CHECK_STR(chan_of(cf, &r->actions[0], 0), "supervisors");
		CHECK_STR(chan_of(cf, &r->actions[1], 0), "dialer");
		CHECK_STR(tmpl_source(r->actions[1].message),
		    "[{{severity}}] {{rule}}: customer {{customer_id}}");
		CHECK_INT(r->nescalate, 2);
		CHECK_INT(r->escalate[0].after_ms, 15 * 60000);
		CHECK_STR(chan_of(cf, &r->escalate[1].n, 0), "pager");
		CHECK_INT(r->cooldown_ms, 3600000);
		CHECK_STR(r->cooldown_key, "customer_id");
		CHECK_STR(r->cond_src, "nps <= 6 and customer.tier in "
		    "$vip_tiers");
		CHECK(r->enabled);
	}
	CHECK((r = config_rule(cf, "repeat-low-csat")) != NULL);
	if (r != NULL) {
		CHECK(r->has_count);
		CHECK_STR(r->count.by, "customer_id");
		CHECK_INT(r->count.at_least, 2);
		CHECK_INT(r->count.within_ms, 7 * 86400000LL);
		CHECK_INT(r->cooldown_ms, 24 * 3600000LL);
		CHECK_INT(r->severity, SEV_MEDIUM);
	}
	CHECK((r = config_rule(cf, "agent-csat-slump")) != NULL);
	if (r != NULL) {
		CHECK(r->has_aggregate);
		CHECK_INT(r->aggregate.fn, AGG_AVG);
		CHECK_STR(r->aggregate.field, "csat");
		CHECK_INT(r->aggregate.min_samples, 20);
		CHECK(r->aggregate.alert_if != NULL);
		CHECK_STR(r->cooldown_key, "agent_id");
	}
	CHECK((r = config_rule(cf, "complaint-after-bad-call")) != NULL);
	if (r != NULL) {
		CHECK(r->has_after);
		CHECK_STR(cf->rules[r->after.rule_idx].name, "repeat-low-csat");
		CHECK_INT(r->after.within_ms, 48 * 3600000LL);
		CHECK_INT(r->actions[0].nchans, 2);
		CHECK_INT(r->severity, SEV_CRITICAL);
	}
	CHECK((r = config_rule(cf, "queue-nps-slump")) != NULL);
	if (r != NULL)
		CHECK_INT(r->aggregate.fn, AGG_NPS);
	CHECK(config_rule(cf, "no-such-rule") == NULL);
	config_free(cf);
}

static void
test_defaults(void)
{
	struct diags d;
	struct config *cf;
	const struct channel *ch;

	write_file("defaults.yaml",
	    "channels:\n"
	    "  s: {type: stream, key: k}\n"
	    "  w: {type: webhook, url: \"http://h/x\"}\n"
	    "  e: {type: exec, argv: [/bin/true]}\n"
	    "  l: {type: syslog}\n"
	    "rules:\n"
	    "  - {name: r, on: rating, actions: [{notify: [s, w, e, l]}]}\n");
	cf = load("defaults.yaml", &d);
	CHECK(cf != NULL);
	CHECK_INT(d.errors, 0);
	diags_free(&d);
	if (cf == NULL)
		return;
	CHECK_STR(cf->redis_url, "redis://127.0.0.1:6379/0");
	CHECK_STR(cf->input_group, "recoveryd");
	CHECK(cf->input_consumer == NULL);
	CHECK_INT(cf->claim_idle_ms, 30000);
	CHECK_INT(cf->max_deliveries, 5);
	CHECK_INT(cf->default_cooldown_ms, 3600000);
	CHECK_INT(cf->default_severity, SEV_MEDIUM);
	CHECK_STR(cf->enrich_customer_key, "ivr:customer:{customer_id}");
	CHECK_STR(cf->state_prefix, "ivr:");
	CHECK_STR(cf->http_listen, "127.0.0.1:9464");
	CHECK_INT(cf->http_max_conns, 64);
	CHECK_INT(cf->http_request_timeout_ms, 5000);
	ch = config_channel(cf, "s");
	CHECK(ch != NULL && ch->maxlen == 100000);
	ch = config_channel(cf, "w");
	CHECK(ch != NULL && ch->retries == 6 && ch->timeout_ms == 5000);
	ch = config_channel(cf, "e");
	CHECK(ch != NULL && ch->retries == 3 && ch->timeout_ms == 10000 &&
	    ch->max_running == 4);
	ch = config_channel(cf, "l");
	CHECK(ch != NULL && ch->priority == LOG_WARNING);
	CHECK_INT(cf->nrules, 1);
	CHECK(cf->rules[0].enabled);
	CHECK(cf->rules[0].cond == NULL);
	CHECK_INT(cf->rules[0].actions[0].nchans, 4);
	config_free(cf);
}

static void
test_overrides(void)
{
	struct diags d;
	struct config *cf;

	write_file("over.yaml",
	    "redis: {url: \"unix:///run/redis.sock?db=3\"}\n"
	    "input: {stream: s, consumer: c1, claim_idle: 2m}\n"
	    "http: {listen: \"\"}\n"
	    "defaults: {cooldown: 0, severity: critical}\n"
	    "enrich: {customer_key: \"\"}\n"
	    "state: {prefix: \"cc:\"}\n"
	    "channels: {s: {type: list, key: k}}\n"
	    "rules:\n"
	    "  - name: r\n"
	    "    on: [rating, call]\n"
	    "    enabled: no\n"
	    "    escalate:\n"
	    "      - {after: 1h, notify: s}\n"
	    "      - {after: 5m, notify: s, message: \"{{rule}}\"}\n"
	    "      - {after: 30m, notify: s}\n");
	cf = load("over.yaml", &d);
	CHECK(cf != NULL);
	diags_free(&d);
	if (cf == NULL)
		return;
	CHECK_STR(cf->dead_letter, "s:dead");
	CHECK_STR(cf->input_consumer, "c1");
	CHECK_INT(cf->claim_idle_ms, 120000);
	CHECK_STR(cf->http_listen, "");
	CHECK(cf->enrich_customer_key == NULL);
	CHECK_STR(cf->undelivered_stream, "cc:alerts:undelivered");
	CHECK_INT(cf->rules[0].severity, SEV_CRITICAL);
	CHECK_INT(cf->rules[0].cooldown_ms, 0);
	CHECK(!cf->rules[0].enabled);
	CHECK_INT(cf->rules[0].non, 2);
	CHECK_INT(cf->rules[0].nactions, 0);
	CHECK_INT(cf->rules[0].nescalate, 3);
	CHECK_INT(cf->rules[0].escalate[0].after_ms, 300000);
	CHECK_STR(tmpl_source(cf->rules[0].escalate[0].n.message), "{{rule}}");
	CHECK_INT(cf->rules[0].escalate[1].after_ms, 1800000);
	CHECK_INT(cf->rules[0].escalate[2].after_ms, 3600000);
	config_free(cf);
}

static void
test_includes(void)
{
	struct diags d;
	struct config *cf;
	const struct rule *r;
	char path[600];

	snprintf(path, sizeof(path), "%s/rules.d", tmpdir);
	if (access(path, F_OK) != 0 && mkdir(path, 0755) != 0) {
		CHECKF(0, "mkdir %s", path);
		return;
	}
	write_file("main.yaml",
	    "include: [\"rules.d/*.yaml\", \"empty.d/*.yaml\"]\n"
	    "channels: {sup: {type: stream, key: a}}\n"
	    "rules:\n"
	    "  - {name: first, on: complaint, after: {rule: later, by: "
	    "customer_id, within: 1h}, actions: [{notify: dialer}]}\n");
	write_file("rules.d/a.yaml",
	    "lists: {tiers: [gold]}\n"
	    "include: nested.inc\n"
	    "rules:\n"
	    "  - {name: a-rule, on: rating, if: customer.tier in $tiers, "
	    "actions: [{notify: sup}]}\n");
	write_file("rules.d/nested.inc",
	    "channels: {dialer: {type: list, key: d}}\n");
	write_file("rules.d/b.yaml",
	    "rules:\n"
	    "  - {name: later, on: rating, actions: [{notify: [sup, dialer]}]}\n");
	cf = load("main.yaml", &d);
	CHECK(cf != NULL);
	CHECK_INT(d.errors, 0);
	if (d.n > 0)
		diags_print(&d, stdout);
	diags_free(&d);
	if (cf == NULL)
		return;
	CHECK_INT(cf->nfiles, 4);
	CHECK(strstr(cf->files[1], "rules.d/a.yaml") != NULL);
	CHECK(strstr(cf->files[2], "rules.d/nested.inc") != NULL);
	CHECK(strstr(cf->files[3], "rules.d/b.yaml") != NULL);
	CHECK_INT(cf->nrules, 3);
	CHECK_STR(cf->rules[0].name, "first");
	CHECK_STR(cf->rules[1].name, "a-rule");
	CHECK((r = config_rule(cf, "first")) != NULL);
	if (r != NULL) {
		CHECK_STR(cf->rules[r->after.rule_idx].name, "later");
		CHECK_STR(chan_of(cf, &r->actions[0], 0), "dialer");
		CHECK_STR(r->cooldown_key, "customer_id");
	}
	CHECK((r = config_rule(cf, "a-rule")) != NULL);
	if (r != NULL)
		CHECK(strstr(r->file, "rules.d/a.yaml") != NULL);
	config_free(cf);
}

static void
test_errors_counted(void)
{
	struct diags d;
	struct config *cf;

	write_file("cycle.yaml", "include: cycle2.yaml\n");
	write_file("cycle2.yaml", "include: [cycle.yaml]\n");
	cf = load("cycle.yaml", &d);
	CHECK(cf == NULL);
	CHECK(diags_have(&d, "include cycle:"));
	diags_free(&d);

	write_file("three.yaml",
	    "input: {batch: 0}\n"
	    "channels: {s: {type: stream}}\n"
	    "rules:\n"
	    "  - {name: r, on: rating, actions: [{notify: t}]}\n");
	cf = load("three.yaml", &d);
	CHECK(cf == NULL);
	CHECK_INT(d.errors, 3);
	CHECK(diags_have(&d, "undefined channel 't'"));
	diags_free(&d);

	diags_init(&d);
	cf = config_load("/nonexistent/recoveryd.yaml", &d);
	CHECK(cf == NULL);
	CHECK_INT(d.errors, 1);
	diags_free(&d);
}

/*
 * test_opts: config_load_opts asks program_check about each exec
 * channel's literal argv[0], once, and puts its refusal at that element;
 * without a checker nothing is asked; the files read come back also when
 * the load fails.
 */
static int	nasked;
static char	asked[256];

static int
fake_check(const char *path, char *err, size_t errlen)
{
	nasked++;
	snprintf(asked, sizeof(asked), "%s", path);
	if (strcmp(path, "/ok/page") == 0)
		return 0;
	snprintf(err, errlen, "program '%s' does not exist", path);
	return -1;
}

static void
test_opts(void)
{
	struct config_opts o;
	struct diags d;
	struct config *cf;
	char path[512];
	size_t i;

	write_file("prog.yaml",
	    "channels:\n"
	    "  a: {type: exec, argv: [/ok/page, \"{{case_id}}\"]}\n"
	    "  b: {type: exec, argv: [\"/no/page\"]}\n"
	    "include: [prog-inc.yaml]\n"
	    "rules:\n"
	    "  - {name: r, on: rating, actions: [{notify: [a, b]}]}\n");
	write_file("prog-inc.yaml", "lists: {l: [x]}\n");
	snprintf(path, sizeof(path), "%s/prog.yaml", tmpdir);
	memset(&o, 0, sizeof(o));
	o.program_check = fake_check;
	diags_init(&d);
	nasked = 0;
	cf = config_load_opts(path, &d, &o);
	CHECK(cf == NULL);
	CHECK_INT(nasked, 2);
	CHECK_STR(asked, "/no/page");
	CHECK_INT(d.errors, 1);
	for (i = 0; i < d.n; i++)
		if (d.v[i].level == DIAG_ERROR) {
			CHECK_INT(d.v[i].line, 3);
			CHECK_INT(d.v[i].col, 26);
			CHECK_STR(d.v[i].msg, "exec channel 'b': program "
			    "'/no/page' does not exist");
		}
	CHECK_INT(o.nfiles, 2);
	if (o.nfiles == 2) {
		CHECK_STR(o.files[0], path);
		CHECK(strstr(o.files[1], "prog-inc.yaml") != NULL);
	}
	diags_free(&d);
	config_opts_release(&o);
	CHECK(o.files == NULL && o.nfiles == 0);

	/* no checker: nothing asked, the file loads */
	memset(&o, 0, sizeof(o));
	diags_init(&d);
	nasked = 0;
	cf = config_load_opts(path, &d, &o);
	CHECK(cf != NULL);
	CHECK_INT(nasked, 0);
	CHECK_INT(d.errors, 0);
	config_free(cf);
	diags_free(&d);
	config_opts_release(&o);
}

/* test_yaml: the node tree and the YAML layer's refusals. */
static void
test_yaml(void)
{
	static const struct {
		const char	*src;
		const char	*err;	/* substring of the first diag, or NULL */
	} cases[] = {
		{ "a: 1\nb: [x, 'y']\n", NULL },
		{ "", NULL },
		{ "a: 1\na: 2\n", "duplicate key 'a' (first at line 1)" },
		{ "a: &x 1\n", "anchors and aliases" },
		{ "a: [*x]\n", NULL /* libyaml: undefined alias is our error */ },
		{ "a: !foo 1\n", "explicit YAML tags" },
		{ "a: 1\n---\nb: 2\n", "only one YAML document" },
		{ "a: [1, 2\n", "while parsing a flow sequence" },
		{ "? [a]\n: 1\n", "mapping key must be a string" },
	};
	struct diags d;
	struct ydoc *doc;
	size_t i;
	char *big;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		diags_init(&d);
		doc = yaml_load_string("t.yaml", cases[i].src,
		    strlen(cases[i].src), &d);
		if (cases[i].err == NULL && i != 4)
			CHECKF(doc != NULL && d.n == 0, "case %zu", i);
		else if (cases[i].err != NULL)
			CHECKF(doc == NULL && d.n > 0 &&
			    strstr(d.v[0].msg, cases[i].err) != NULL,
			    "case %zu: %s", i, d.n ? d.v[0].msg : "(none)");
		else
			CHECKF(doc == NULL && d.errors > 0, "case %zu", i);
		ydoc_free(doc);
		diags_free(&d);
	}

	diags_init(&d);
	doc = yaml_load_string("t.yaml", "a:\n  b: [x, \"y\"]\n", 16, &d);
	CHECK(doc != NULL);
	if (doc != NULL) {
		const struct ynode *b = ymap_get(ymap_get(doc->root, "a"), "b");

		CHECK(b != NULL && b->type == YN_SEQ && b->nitems == 2);
		if (b != NULL && b->nitems == 2) {
			CHECK_INT(b->line, 2);
			CHECK_INT(b->col, 6);
			CHECK_INT(b->items[1]->col, 10);
			CHECK(b->items[1]->quoted);
			CHECK_STR(b->items[1]->file, "t.yaml");
		}
		CHECK_STR(ynode_type_name(doc->root), "a mapping");
	}
	ydoc_free(doc);
	diags_free(&d);

	/* a scalar over YAML_MAX_SCALAR */
	big = xmalloc(YAML_MAX_SCALAR + 16);
	memcpy(big, "a: ", 3);
	memset(big + 3, 'x', YAML_MAX_SCALAR + 1);
	big[YAML_MAX_SCALAR + 4] = '\n';
	diags_init(&d);
	doc = yaml_load_string("t.yaml", big, YAML_MAX_SCALAR + 5, &d);
	CHECK(doc == NULL && d.errors == 1);
	diags_free(&d);
	free(big);

	/* deep nesting */
	big = xmalloc(4 * 1000 + 8);
	memset(big, '[', 2000);
	memset(big + 2000, ']', 2000);
	diags_init(&d);
	doc = yaml_load_string("t.yaml", big, 4000, &d);
	CHECK(doc == NULL && d.n > 0 && strstr(d.v[0].msg, "nesting") != NULL);
	diags_free(&d);
	free(big);
}

static void
test_redis_url(void)
{
	static const struct {
		const char	*url;
		int		 rc;
		bool		 unix_socket;
		const char	*host_or_path;
		int		 port, db;
		const char	*password;
	} cases[] = {
		{ "redis://127.0.0.1:6379/0", 0, false, "127.0.0.1", 6379, 0, "" },
		{ "redis://localhost", 0, false, "localhost", 6379, 0, "" },
		{ "redis://:s3cret@cache:6380/2", 0, false, "cache", 6380, 2,
		    "s3cret" },
		{ "redis://user:pw@h/1", 0, false, "h", 6379, 1, "pw" },
		{ "redis://[::1]:7000", 0, false, "::1", 7000, 0, "" },
		{ "unix:///run/redis.sock", 0, true, "/run/redis.sock", 6379, 0,
		    "" },
		{ "unix:///run/redis.sock?db=4", 0, true, "/run/redis.sock",
		    6379, 4, "" },
		{ "http://x", -1, false, NULL, 0, 0, NULL },
		{ "redis://", -1, false, NULL, 0, 0, NULL },
		{ "redis://h:0", -1, false, NULL, 0, 0, NULL },
		{ "redis://h:65536", -1, false, NULL, 0, 0, NULL },
		{ "redis://h/x", -1, false, NULL, 0, 0, NULL },
		{ "unix://relative.sock", -1, false, NULL, 0, 0, NULL },
		{ "unix:///s?db=x", -1, false, NULL, 0, 0, NULL },
	};
	struct redis_target t;
	char err[256];
	size_t i;
	int rc;

	unsetenv("REDIS_PASSWORD");
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		rc = redis_url_parse(cases[i].url, &t, err, sizeof(err));
		CHECKF(rc == cases[i].rc, "%s: rc %d", cases[i].url, rc);
		if (rc != 0 || cases[i].rc != 0)
			continue;
		CHECKF(t.unix_socket == cases[i].unix_socket &&
		    strcmp(t.unix_socket ? t.path : t.host,
		    cases[i].host_or_path) == 0 &&
		    t.port == cases[i].port && t.db == cases[i].db &&
		    strcmp(t.password, cases[i].password) == 0,
		    "%s: host/path '%s' port %d db %d password '%s'",
		    cases[i].url, t.unix_socket ? t.path : t.host, t.port, t.db,
		    t.password);
	}
	setenv("REDIS_PASSWORD", "fromenv", 1);
	CHECK(redis_url_parse("redis://:x@h", &t, err, sizeof(err)) == 0);
	CHECK_STR(t.password, "fromenv");
	unsetenv("REDIS_PASSWORD");
}

/*
 * config_load_redis: the Redis sections of a configuration whose rules
 * are broken, one row per file set: whether it loads, and the values or
 * the first error it reports.
 */
static void
test_load_redis(void)
{
	static const struct {
		const char	*main, *inc;	/* inc: ro.d/x.yaml, or NULL */
		bool		 ok;
		const char	*stream, *prefix, *err;
		size_t		 nchannels;
	} rows[] = {
		/* a rule error, an unknown channel: ignored */
		{ "redis: {url: \"unix:///r.sock\"}\n"
		  "input: {stream: in}\nstate: {prefix: \"p:\"}\n"
		  "channels: {s: {type: stream, key: alerts}}\n"
		  "rules: [{name: r, on: rating, if: \"csat <<< 2\", "
		  "actions: [{notify: nowhere}]}]\n",
		  NULL, true, "in", "p:", NULL, 1 },
		/* a YAML syntax error in an include; its channel lost */
		{ "include: [\"ro.d/*.yaml\"]\n"
		  "channels: {s: {type: stream, key: alerts}}\n",
		  "channels: {t: {type: stream, key: t}}\nrules: [ {name: x\n",
		  true, "ivr:events", "ivr:", NULL, 1 },
		/* unknown sections, a broken channel without its key */
		{ "colour: blue\nchannels: {s: {type: stream}}\n",
		  NULL, true, "ivr:events", "ivr:", NULL, 1 },
		/* the redis section is checked */
		{ "redis: {url: \"http://x\"}\nrules: 3\n", NULL, false,
		  NULL, NULL, "invalid 'url' in 'redis'", 0 },
		{ "redis: {url: \"redis://h\", tls: yes}\n", NULL, false,
		  NULL, NULL, "unknown key 'tls' in 'redis'", 0 },
		{ "input: {stream: \"\"}\n", NULL, false, NULL, NULL,
		  "'stream' in 'input' must not be empty", 0 },
		{ "state: [x]\n", NULL, false, NULL, NULL,
		  "expected a mapping for 'state', found a list", 0 },
		/* of input and state only the key names matter */
		{ "input: {stream: in, batch: 0, colour: blue}\n"
		  "state: {prefx: x}\n", NULL, true, "in", "ivr:", NULL, 0 },
		/* the main file must parse */
		{ "redis: {url: [\n", NULL, false, NULL, NULL,
		  "while parsing a flow", 0 },
	};
	char path[512], dir[600];
	struct diags d;
	struct config *cf;
	size_t i;

	snprintf(dir, sizeof(dir), "%s/ro.d", tmpdir);
	mkdir(dir, 0700);
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		write_file("redis-only.yaml", rows[i].main);
		snprintf(path, sizeof(path), "%s/ro.d/x.yaml", tmpdir);
		unlink(path);
		if (rows[i].inc != NULL)
			write_file("ro.d/x.yaml", rows[i].inc);
		snprintf(path, sizeof(path), "%s/redis-only.yaml", tmpdir);
		diags_init(&d);
		cf = config_load_redis(path, &d);
		CHECKF((cf != NULL) == rows[i].ok, "row %zu: %s", i,
		    cf != NULL ? "loaded" : d.n > 0 ? d.v[0].msg : "no error");
		if (cf != NULL && rows[i].ok) {
			CHECKF(strcmp(cf->input_stream, rows[i].stream) == 0 &&
			    strcmp(cf->state_prefix, rows[i].prefix) == 0 &&
			    cf->nrules == 0 &&
			    cf->nchannels == rows[i].nchannels &&
			    d.errors == 0, "row %zu: stream %s prefix %s, "
			    "%zu rules, %zu channels, %zu errors", i,
			    cf->input_stream, cf->state_prefix, cf->nrules,
			    cf->nchannels, d.errors);
		} else if (cf == NULL)
			CHECKF(rows[i].err != NULL && d.errors > 0 &&
			    strstr(d.v[0].msg, rows[i].err) != NULL &&
			    d.v[0].line > 0, "row %zu: first error %s:%d: %s",
			    i, d.n > 0 ? d.v[0].file : "-",
			    d.n > 0 ? d.v[0].line : 0,
			    d.n > 0 ? d.v[0].msg : "(none)");
		config_free(cf);
		diags_free(&d);
	}
	snprintf(path, sizeof(path), "%s/ro.d/x.yaml", tmpdir);
	unlink(path);
	rmdir(dir);
}

/* config_keep_restart: a reload keeps every setting read at start. */
static void
test_keep_restart(void)
{
	struct config *run, *next;
	struct diags d;
	char changed[256];

	write_file("run.yaml",
	    "redis: {url: \"unix:///a.sock\"}\n"
	    "input: {stream: s1, group: g1, consumer: c1, batch: 10}\n"
	    "http: {listen: \"127.0.0.1:1\", max_connections: 8}\n"
	    "state: {prefix: \"a:\"}\n");
	write_file("next.yaml",
	    "redis: {url: \"unix:///b.sock\"}\n"
	    "input: {stream: s2, group: g2, batch: 20}\n"
	    "http: {listen: \"\", request_timeout: 2s}\n"
	    "state: {prefix: \"b:\"}\n");
	run = load("run.yaml", &d);
	diags_free(&d);
	next = load("next.yaml", &d);
	diags_free(&d);
	CHECK(run != NULL && next != NULL);
	if (run == NULL || next == NULL) {
		config_free(run);
		config_free(next);
		return;
	}
	CHECK_INT(config_keep_restart(next, run, changed, sizeof(changed)), 8);
	CHECK_STR(changed, "redis.url, input.stream, input.group, "
	    "input.consumer, http.listen, state.prefix, "
	    "http.max_connections, http.request_timeout");
	CHECK_STR(next->redis_url, "unix:///a.sock");
	CHECK_STR(next->input_stream, "s1");
	CHECK_STR(next->input_group, "g1");
	CHECK_STR(next->input_consumer, "c1");
	CHECK_STR(next->http_listen, "127.0.0.1:1");
	CHECK_INT(next->http_max_conns, 8);
	CHECK_INT(next->http_request_timeout_ms, 5000);
	CHECK_STR(next->state_prefix, "a:");
	/* derived from the kept values, not the file's */
	CHECK_STR(next->dead_letter, "s1:dead");
	CHECK_STR(next->undelivered_stream, "a:alerts:undelivered");
	/* reloadable settings take the new values */
	CHECK_INT(next->input_batch, 20);
	/* nothing left to keep the second time */
	CHECK_INT(config_keep_restart(next, run, changed, sizeof(changed)), 0);
	CHECK_STR(changed, "");
	config_free(run);
	config_free(next);
}

static void
test_names(void)
{
	CHECK_STR(severity_name(SEV_LOW), "low");
	CHECK_STR(severity_name(SEV_CRITICAL), "critical");
	CHECK_INT(severity_parse("high"), SEV_HIGH);
	CHECK_INT(severity_parse("urgent"), 0);
	CHECK_STR(chan_type_name(CH_WEBHOOK), "webhook");
	CHECK_STR(agg_fn_name(AGG_NPS), "nps");
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_names();
	test_yaml();
	test_redis_url();
	test_example();
	test_defaults();
	test_overrides();
	test_includes();
	test_errors_counted();
	test_opts();
	test_load_redis();
	test_keep_restart();
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			printf("warning: could not remove %s\n", tmpdir);
	}
	return harness_done();
}
