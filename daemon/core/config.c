/*
 * config.c — loading and checking the configuration (docs/configuration.md):
 * the main file, its includes, the top-level sections and lists, and the
 * three passes described in config_int.h. Channels are in
 * config_channels.c, rules in config_rules.c, the schema walker and
 * diagnostics in config_schema.c.
 *
 * The schema is data, in the manner of Redis' config.c: each section is a
 * table of keys (name, kind, bounds, flags, validator) and one walker,
 * schema_apply(), checks a mapping against a table — unknown keys (with a
 * "did you mean"), wrong types, bad durations, integers out of bounds —
 * and stores the values by offset into the target struct. Only what a
 * table cannot say (a channel's type-specific keys, include globs) is
 * code.
 *
 * Errors are counted, never fatal (relayd's parse.y): every problem of
 * every file is reported in one pass, each at FILE:LINE:COL, and
 * config_load() returns NULL if this load added any error. Diagnostics are
 * sorted by file (in the order files were read) and position at the end.
 */
#include <sys/stat.h>

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "rindex.h"
#include "util.h"
#include "yaml.h"

static const char *const sev_names[] = {
	NULL, "low", "medium", "high", "critical"
};
static const char *const chan_names[] = {
	"stream", "list", "webhook", "exec", "syslog"
};
static const char *const agg_names[] = {
	"count", "sum", "avg", "min", "max", "nps"
};

const char *
severity_name(int s)
{
	return s >= SEV_LOW && s <= SEV_CRITICAL ? sev_names[s] : "unknown";
}

int
severity_parse(const char *s)
{
	int i;

	for (i = SEV_LOW; i <= SEV_CRITICAL; i++)
		if (strcmp(s, sev_names[i]) == 0)
			return i;
	return 0;
}

const char *
chan_type_name(enum chan_type t)
{
	return (size_t)t < ARRAY_LEN(chan_names) ? chan_names[t] : "unknown";
}

const char *
agg_fn_name(enum agg_fn f)
{
	return (size_t)f < ARRAY_LEN(agg_names) ? agg_names[f] : "unknown";
}

/* --- top level --------------------------------------------------------- */

static void	apply_include(struct loader *, const struct ynode *,
		    const struct ynode *, void *);
static void	apply_lists(struct loader *, const struct ynode *,
		    const struct ynode *, void *);
static void	apply_rules(struct loader *, const struct ynode *,
		    const struct ynode *, void *);

#define CF(f)	offsetof(struct config, f)
static const struct kspec redis_keys[] = {
	{ "url", K_NESTR, CF(redis_url), 0, 0, 0, 0, NULL, check_redis_url,
	    NULL, 0 },
};
static const struct kspec input_keys[] = {
	{ "stream", K_NESTR, CF(input_stream), 0, 0, 0, 0, NULL, NULL, NULL, 0 },
	{ "group", K_NESTR, CF(input_group), 0, 0, 0, 0, NULL, NULL, NULL, 0 },
	{ "consumer", K_NESTR, CF(input_consumer), 0, 0, 0, 0, NULL, NULL,
	    NULL, 0 },
	{ "batch", K_INT, CF(input_batch), 1, 10000, 0, 0, NULL, NULL, NULL, 0 },
	{ "claim_idle", K_DUR, CF(claim_idle_ms), 1, 0, 0, 0, NULL, NULL,
	    NULL, 0 },
	{ "max_deliveries", K_INT, CF(max_deliveries), 1, 1000, 0, 0, NULL,
	    NULL, NULL, 0 },
	{ "dead_letter", K_NESTR, CF(dead_letter), 0, 0, 0, 0, NULL, NULL,
	    NULL, 0 },
	{ "max_future_skew", K_DUR, CF(max_future_skew_ms), 0, 0, 0, 0, NULL,
	    NULL, NULL, 0 },
	{ "max_past_skew", K_CUSTOM, CF(max_past_skew_ms), 0, 0, 0, 0,
	    apply_past_skew, NULL, NULL, 0 },
	{ "batch_bytes", K_CUSTOM, CF(batch_bytes), 0, 0, 0, 0,
	    apply_batch_bytes, NULL, NULL, 0 },
};
static const struct kspec http_keys[] = {
	{ "listen", K_STR, CF(http_listen), 0, 0, 0, 0, NULL, check_listen,
	    NULL, 0 },
	{ "max_connections", K_INT, CF(http_max_conns), 1, 10000, 0, 0, NULL,
	    NULL, NULL, 0 },
	{ "request_timeout", K_DUR, CF(http_request_timeout_ms), 1, 0, 0, 0,
	    NULL, NULL, NULL, 0 },
};
static const struct kspec intake_keys[] = {
	{ "listen", K_STR, CF(intake_listen), 0, 0, 0, 0, NULL, check_listen,
	    NULL, 0 },
	{ "tokens_file", K_NESTR, CF(intake_tokens_file), 0, 0, 0, 0, NULL,
	    NULL, NULL, 0 },
	{ "max_body", K_LONG, CF(intake_max_body), 1024, 64L << 20, 0, 0, NULL,
	    NULL, NULL, 0 },
	{ "max_events", K_INT, CF(intake_max_events), 1, 500, 0, 0, NULL, NULL,
	    NULL, 0 },
	{ "max_connections", K_INT, CF(intake_max_conns), 1, 10000, 0, 0, NULL,
	    NULL, NULL, 0 },
	{ "request_timeout", K_DUR, CF(intake_request_timeout_ms), 1, 0, 0, 0,
	    NULL, NULL, NULL, 0 },
};
static const struct kspec defaults_keys[] = {
	{ "cooldown", K_DUR, CF(default_cooldown_ms), 0, 0, 0, 0, NULL, NULL,
	    NULL, 0 },
	{ "severity", K_SEV, CF(default_severity), 0, 0, 0, 0, NULL, NULL,
	    NULL, 0 },
	{ "sla", K_DUR, CF(default_sla_ms), 1, 0, 0, 0, NULL, NULL, NULL, 0 },
	{ "assign", K_CUSTOM, 0, 0, 0, 0, 0, apply_default_assign, NULL, NULL,
	    0 },
};
static const struct kspec callbacks_keys[] = {
	{ "max", K_LONG, CF(contact_max), 0, 1000, KF_REQUIRED, 0, NULL, NULL,
	    NULL, 0 },
	{ "within", K_DUR, CF(contact_within_ms), 1, 0, KF_REQUIRED, 0, NULL,
	    NULL, NULL, 0 },
};
static const struct kspec limits_keys[] = {
	{ "callbacks", K_SECTION, 0, 0, 0, 0, 0, NULL, NULL, callbacks_keys,
	    ARRAY_LEN(callbacks_keys) },
};
static const struct kspec cases_keys[] = {
	{ "reopen_within", K_DUR, CF(reopen_within_ms), 0, 0, 0, 0, NULL,
	    NULL, NULL, 0 },
	{ "outcome_within", K_DUR, CF(outcome_within_ms), 1, 0, 0, 0, NULL,
	    NULL, NULL, 0 },
	{ "recovered_if", K_CUSTOM, 0, 0, 0, 0, 0, apply_recovered_if, NULL,
	    NULL, 0 },
	{ "history", K_LONG, CF(history_max), 10, 100000, 0, 0, NULL, NULL,
	    NULL, 0 },
};
static const struct kspec enrich_keys[] = {
	{ "customer_key", K_STR, CF(enrich_customer_key), 0, 0, 0, 0, NULL,
	    NULL, NULL, 0 },
};
static const struct kspec state_keys[] = {
	{ "prefix", K_NESTR, CF(state_prefix), 0, 0, 0, 0, NULL, NULL, NULL, 0 },
	{ "cache", K_LONG, CF(state_cache), 1000, 100000000, 0, 0, NULL, NULL,
	    NULL, 0 },
};
static const struct kspec ha_keys[] = {
	{ "lease", K_DUR, CF(ha_lease_ms), 500, 3600000, 0, 0, NULL, NULL,
	    NULL, 0 },
};
#define SECTION(n, t) { n, K_SECTION, 0, 0, 0, KF_MAIN_ONLY, 0, NULL, NULL, \
	t, ARRAY_LEN(t) }
static const struct kspec top_keys[] = {
	SECTION("redis", redis_keys),
	SECTION("input", input_keys),
	SECTION("http", http_keys),
	SECTION("intake", intake_keys),
	SECTION("defaults", defaults_keys),
	SECTION("enrich", enrich_keys),
	SECTION("state", state_keys),
	SECTION("ha", ha_keys),
	SECTION("cases", cases_keys),
	SECTION("limits", limits_keys),
	{ "resolution_codes", K_CUSTOM, 0, 0, 0, KF_MAIN_ONLY, 0,
	    apply_resolution_codes, NULL, NULL, 0 },
	{ "include", K_CUSTOM, 0, 0, 0, 0, 0, apply_include, NULL, NULL, 0 },
	{ "lists", K_CUSTOM, 0, 0, 0, 0, 0, apply_lists, NULL, NULL, 0 },
	{ "channels", K_CUSTOM, 0, 0, 0, 0, 0, apply_channels, NULL, NULL, 0 },
	{ "calendars", K_CUSTOM, 0, 0, 0, 0, 0, apply_calendars, NULL, NULL,
	    0 },
	{ "rules", K_CUSTOM, 0, 0, 0, 0, 0, apply_rules, NULL, NULL, 0 },
	{ "console", K_CUSTOM, 0, 0, 0, KF_MAIN_ONLY, 0, apply_console,
	    NULL, NULL, 0 },
};

static bool
has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/*
 * load_file: read one file (the main one when from is NULL, else an
 * include named at node from) and apply its top level. Includes recurse
 * here; cycles are found by comparing realpath()s along the include chain.
 */
static void
load_file(struct loader *ld, const char *path, const struct ynode *from)
{
	struct config *cf = ld->cf;
	struct ydoc *doc;
	struct stat st;
	char real[PATH_MAX], msg[1024];
	size_t i, k, saved = ld->cur_file;
	int off;

	if (realpath(path, real) == NULL) {
		if (from != NULL)
			cerr(ld, from, "cannot include '%s': %s", path,
			    strerror(errno));
		else
			diag_error(ld->d, path, 0, 0, "cannot open: %s",
			    strerror(errno));
		return;
	}
	if (from != NULL && (stat(real, &st) == -1 || !S_ISREG(st.st_mode))) {
		cerr(ld, from, "cannot include '%s': not a regular file", path);
		return;
	}
	for (i = 0; i < ld->depth; i++) {
		if (strcmp(ld->reals[ld->stack[i]], real) != 0)
			continue;
		off = snprintf(msg, sizeof(msg), "include cycle: %s",
		    cf->files[ld->stack[i]]);
		for (k = i + 1; k < ld->depth && off < (int)sizeof(msg); k++)
			off += snprintf(msg + off, sizeof(msg) - off,
			    " %s %s", k == i + 1 ? "includes" :
			    "which includes", cf->files[ld->stack[k]]);
		if (off < (int)sizeof(msg))
			snprintf(msg + off, sizeof(msg) - off, " %s %s",
			    k == i + 1 ? "includes" : "which includes", path);
		cerr(ld, from, "%s", msg);
		return;
	}
	for (i = 0; i < cf->nfiles; i++) {
		if (strcmp(ld->reals[i], real) == 0) {
			cwarn(ld, from, "'%s' is already included; ignored",
			    path);
			return;
		}
	}
	if (cf->nfiles >= CONFIG_MAX_INCLUDES) {
		cerr(ld, from, "too many configuration files (limit %d)",
		    CONFIG_MAX_INCLUDES);
		return;
	}
	if ((doc = yaml_load_file(path, ld->d)) == NULL)
		return;
	i = cf->nfiles++;
	cf->files = xreallocarray(cf->files, cf->nfiles, sizeof(char *));
	ld->docs = xreallocarray(ld->docs, cf->nfiles, sizeof(*ld->docs));
	ld->reals = xreallocarray(ld->reals, cf->nfiles, sizeof(char *));
	ld->rules_nodes = xreallocarray(ld->rules_nodes, cf->nfiles,
	    sizeof(*ld->rules_nodes));
	ld->srcs = xreallocarray(ld->srcs, cf->nfiles, sizeof(*ld->srcs));
	cf->files[i] = xstrdup(path);
	ld->docs[i] = doc;
	ld->reals[i] = xstrdup(real);
	ld->rules_nodes[i] = NULL;
	memset(&ld->srcs[i], 0, sizeof(ld->srcs[i]));
	if (!expect_type(ld, doc->root, YN_MAP, "the top level of a "
	    "configuration file"))
		return;
	ld->stack[ld->depth++] = i;
	ld->cur_file = i;
	schema_apply(ld, doc->root, top_keys, ARRAY_LEN(top_keys), cf, "", 0);
	ld->cur_file = saved;
	ld->depth--;
}

/* include_one: a glob (matching nothing is fine, as for an empty
 * rules.d/) or a literal path (which must exist), relative to the
 * directory of the including file. */
static void
include_one(struct loader *ld, const struct ynode *n)
{
	const char *from = ld->cf->files[ld->cur_file], *slash;
	char *path;
	glob_t g;
	size_t i;
	int rc;

	if (!expect_type(ld, n, YN_SCALAR, "'include'"))
		return;
	if (n->len == 0) {
		cerr(ld, n, "'include' must not be empty");
		return;
	}
	slash = strrchr(from, '/');
	if (n->str[0] == '/' || slash == NULL)
		path = xstrdup(n->str);
	else
		path = xasprintf("%.*s/%s", (int)(slash - from), from, n->str);
	if (!has_glob(n->str)) {
		load_file(ld, path, n);
		free(path);
		return;
	}
	memset(&g, 0, sizeof(g));
	rc = glob(path, 0, NULL, &g);
	if (rc == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			load_file(ld, g.gl_pathv[i], n);
	} else if (rc != GLOB_NOMATCH)
		cerr(ld, n, "cannot expand '%s'", n->str);
	globfree(&g);
	free(path);
}

static void
apply_include(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	size_t i;

	(void)key;
	(void)target;
	if (v->type == YN_SEQ) {
		for (i = 0; i < v->nitems; i++)
			include_one(ld, v->items[i]);
	} else if (v->type == YN_SCALAR)
		include_one(ld, v);
	else
		cerr(ld, v, "expected a string or a list for 'include', "
		    "found %s", ynode_type_name(v));
}

static void
apply_rules(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	(void)key;
	(void)target;
	if (v->type == YN_SCALAR && !v->quoted && v->len == 0)
		return;
	if (expect_type(ld, v, YN_SEQ, "'rules'"))
		ld->rules_nodes[ld->cur_file] = v;
}

void
dup_name(struct loader *ld, const struct ynode *n, const char *what,
    const char *file, int line, int col)
{
	cerr(ld, n, "duplicate %s name '%s' (first defined at %s:%d:%d)",
	    what, n->str, file, line, col);
}

static void
apply_lists(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	struct config *cf = ld->cf;
	const struct ynode *k, *items;
	struct vlist *l;
	size_t i, j;

	(void)key;
	(void)target;
	if (v->type == YN_SCALAR && !v->quoted && v->len == 0)
		return;
	if (!expect_type(ld, v, YN_MAP, "'lists'"))
		return;
	for (i = 0; i < v->npairs; i++) {
		k = v->pairs[i].key;
		items = v->pairs[i].val;
		if (!valid_name(k->str)) {
			cerr(ld, k, "invalid list name '%s' (use lowercase "
			    "letters, digits, '_' and '-')", k->str);
			continue;
		}
		for (j = 0; j < cf->nlists; j++)
			if (strcmp(cf->lists[j].name, k->str) == 0)
				break;
		if (j < cf->nlists) {
			dup_name(ld, k, "list", cf->lists[j].file,
			    cf->lists[j].line, cf->lists[j].col);
			continue;
		}
		if (cf->nlists >= CONFIG_MAX_LISTS) {
			cerr(ld, k, "too many lists (limit %d)",
			    CONFIG_MAX_LISTS);
			return;
		}
		if (items->type != YN_SEQ) {
			cerr(ld, items, "expected a list for list '%s', found "
			    "%s", k->str, ynode_type_name(items));
			continue;
		}
		cf->lists = xreallocarray(cf->lists, cf->nlists + 1,
		    sizeof(*cf->lists));
		l = &cf->lists[cf->nlists++];
		memset(l, 0, sizeof(*l));
		l->name = xstrdup(k->str);
		l->file = cf->files[ld->cur_file];
		l->line = k->line;
		l->col = k->col;
		l->items = xcalloc(items->nitems + 1, sizeof(*l->items));
		for (j = 0; j < items->nitems; j++) {
			const struct ynode *it = items->items[j];
			char *s;

			if (it->type != YN_SCALAR) {
				cerr(ld, it, "expected a string in list '%s', "
				    "found %s", l->name, ynode_type_name(it));
				continue;
			}
			s = xstrndup(it->str, it->len);
			l->items[l->n++] = value_str(s, it->len);
		}
	}
}
/* --- loading ------------------------------------------------------------ */

static void
set_defaults(struct config *cf)
{
	cf->redis_url = xstrdup("redis://127.0.0.1:6379/0");
	cf->input_stream = xstrdup("ivr:events");
	cf->input_group = xstrdup("recoveryd");
	cf->input_batch = 256;
	cf->claim_idle_ms = 30000;
	cf->max_deliveries = 5;
	cf->max_future_skew_ms = 7 * 86400000LL;
	cf->max_past_skew_ms = -1;
	cf->batch_bytes = 8L << 20;
	cf->http_listen = xstrdup("127.0.0.1:9464");
	cf->http_max_conns = 64;
	cf->http_request_timeout_ms = 5000;
	cf->intake_listen = xstrdup("");
	cf->intake_max_body = 1L << 20;
	cf->intake_max_events = 500;
	cf->intake_max_conns = 256;
	cf->intake_request_timeout_ms = 5000;
	cf->default_cooldown_ms = 3600000;
	cf->default_severity = SEV_MEDIUM;
	cf->enrich_customer_key = xstrdup("ivr:customer:{customer_id}");
	cf->state_prefix = xstrdup("ivr:");
	cf->state_cache = 50000;
	cf->ha_lease_ms = 3000;
	config_cases_defaults(cf);
	config_console_defaults(cf);
}

/* unused_warnings: relayd's "unused table" check, as warnings. */
static void
unused_warnings(struct loader *ld)
{
	struct config *cf = ld->cf;
	struct ynode at;
	size_t i;

	memset(&at, 0, sizeof(at));
	for (i = 0; i < cf->nchannels; i++) {
		if (ld->chan_used[i])
			continue;
		at.file = cf->channels[i].file;
		at.line = cf->channels[i].line;
		at.col = cf->channels[i].col;
		cwarn(ld, &at, "channel '%s' is defined but never used",
		    cf->channels[i].name);
	}
	for (i = 0; i < cf->nlists; i++) {
		if (ld->list_used[i])
			continue;
		at.file = cf->lists[i].file;
		at.line = cf->lists[i].line;
		at.col = cf->lists[i].col;
		cwarn(ld, &at, "list '%s' is defined but never used",
		    cf->lists[i].name);
	}
}

/*
 * link_after: tell every rule that others correlate on which of its
 * firing events' fields to remember, and for how long (struct rule's
 * remember). O(rules * remembered fields).
 */
static void
link_after(struct config *cf)
{
	size_t i, j;

	for (i = 0; i < cf->nrules; i++) {
		const struct rule *r = &cf->rules[i];
		struct rule *q;

		if (!r->has_after || r->after.rule_idx >= cf->nrules)
			continue;
		q = &cf->rules[r->after.rule_idx];
		if (r->after.within_ms > q->remember_ms)
			q->remember_ms = r->after.within_ms;
		for (j = 0; j < q->nremember; j++)
			if (strcmp(q->remember[j], r->after.by) == 0)
				break;
		if (j < q->nremember)
			continue;
		q->remember = xreallocarray(q->remember, q->nremember + 1,
		    sizeof(*q->remember));
		q->remember[q->nremember++] = r->after.by;
	}
}

/* derive_settings: after pass 1, the defaults that follow from other
 * settings, and "" meaning "none". */
static void
derive_settings(struct config *cf)
{
	if (cf->dead_letter == NULL)
		cf->dead_letter = xasprintf("%s:dead", cf->input_stream);
	free(cf->undelivered_stream);
	cf->undelivered_stream = xasprintf("%salerts:undelivered",
	    cf->state_prefix);
	if (cf->enrich_customer_key != NULL &&
	    cf->enrich_customer_key[0] == '\0') {
		free(cf->enrich_customer_key);
		cf->enrich_customer_key = NULL;
	}
}

/* loader_release: free what the loader holds (documents, sources, node
 * tables; not the configuration), after putting the diagnostics added
 * since n0 back into reading order: passes report out of file order (a
 * channel error in an include before a rule error in the main file). */
static void
loader_release(struct loader *ld, size_t n0)
{
	struct config *cf = ld->cf;
	size_t i;

	for (i = 0; i < cf->nfiles; i++) {
		ydoc_free(ld->docs[i]);
		free(ld->srcs[i].buf);
	}
	free(ld->docs);
	free(ld->srcs);
	free(ld->rules_nodes);
	free(ld->list_used);
	free(ld->chan_used);
	free(ld->chan_cal);
	free(ld->after_nodes);
	free(ld->rule_nodes);
	diags_sort_range(ld->d, n0, (const char *const *)cf->files,
	    cf->nfiles);
	for (i = 0; i < cf->nfiles; i++)
		free(ld->reals[i]);
	free(ld->reals);
}

/* check_intake: an intake that listens needs its tokens (intake.h). */
static void
check_intake(struct loader *ld)
{
	const struct ynode *sec, *at;

	if (ld->cf->intake_listen[0] == '\0' ||
	    ld->cf->intake_tokens_file != NULL || ld->cf->nfiles == 0 ||
	    ld->docs[0] == NULL || ld->docs[0]->root == NULL)
		return;
	if ((sec = ymap_get(ld->docs[0]->root, "intake")) == NULL)
		return;
	at = ymap_get(sec, "listen");
	cerr(ld, at != NULL ? at : sec, "intake.listen is set but "
	    "intake.tokens_file is not: the intake would refuse every "
	    "request");
}

struct config *
config_load(const char *path, struct diags *d)
{
	return config_load_opts(path, d, NULL);
}

void
config_opts_release(struct config_opts *o)
{
	size_t i;

	for (i = 0; i < o->nfiles; i++)
		free(o->files[i]);
	free(o->files);
	o->files = NULL;
	o->nfiles = 0;
}

struct config *
config_load_opts(const char *path, struct diags *d, struct config_opts *opts)
{
	struct loader ld;
	struct config *cf = xcalloc(1, sizeof(*cf));
	size_t i, n0 = d->n;

	memset(&ld, 0, sizeof(ld));
	ld.cf = cf;
	ld.d = d;
	ld.opts = opts;
	ld.errors0 = d->errors;
	cf->path = xstrdup(path);
	set_defaults(cf);

	/* pass 1: files, top-level sections, lists, channels */
	load_file(&ld, path, NULL);
	check_intake(&ld);
	ld.list_used = xcalloc(cf->nlists + 1, sizeof(bool));
	ld.chan_used = xcalloc(cf->nchannels + 1, sizeof(bool));
	derive_settings(cf);
	channels_calendars(&ld);

	/* pass 2: rules of every file, in the order files were read */
	for (i = 0; i < cf->nfiles; i++) {
		if (ld.rules_nodes[i] == NULL)
			continue;
		ld.cur_file = i;
		rules_parse(&ld, ld.rules_nodes[i]);
	}

	/* pass 3: cross-rule references, unused definitions */
	rules_resolve(&ld);
	if (d->errors == ld.errors0) {
		unused_warnings(&ld);
		link_after(cf);
		cf->rindex = rindex_build(cf);
	}
	config_cases_finish(cf);

	loader_release(&ld, n0);
	if (opts != NULL) {
		config_opts_release(opts);
		opts->files = xcalloc(cf->nfiles + 1, sizeof(*opts->files));
		for (i = 0; i < cf->nfiles; i++)
			opts->files[i] = xstrdup(cf->files[i]);
		opts->nfiles = cf->nfiles;
	}
	if (d->errors > ld.errors0) {
		config_free(cf);
		return NULL;
	}
	return cf;
}

/*
 * What recoveryctl's Redis commands read (config_load_redis): the whole
 * redis section, checked as strictly as by config_load (a typo there would
 * reach another server); of input and state only the key names, so that
 * a bad input.batch, which they never use, stops none of them.
 */
static const struct kspec ctl_input_keys[] = {
	{ "stream", K_NESTR, CF(input_stream), 0, 0, 0, 0, NULL, NULL, NULL, 0 },
};
static const struct {
	const char		*name;
	const struct kspec	*keys;
	size_t			 nkeys;
	bool			 strict;	/* unknown keys are errors */
} ctl_sections[] = {
	{ "redis", redis_keys, ARRAY_LEN(redis_keys), true },
	{ "input", ctl_input_keys, ARRAY_LEN(ctl_input_keys), false },
	{ "state", state_keys, ARRAY_LEN(state_keys), false },
};

/* apply_ctl_section: one of ctl_sections[] from its value v. */
static void
apply_ctl_section(struct loader *ld, size_t sec, const struct ynode *v)
{
	struct ynode only;
	char what[32], ctx[40];
	size_t i, j;

	if (v->type == YN_SCALAR && !v->quoted && v->len == 0)
		return;		/* "input:" alone: all defaults */
	snprintf(what, sizeof(what), "'%s'", ctl_sections[sec].name);
	snprintf(ctx, sizeof(ctx), " in '%s'", ctl_sections[sec].name);
	if (!expect_type(ld, v, YN_MAP, what))
		return;
	if (ctl_sections[sec].strict) {
		schema_apply(ld, v, ctl_sections[sec].keys,
		    ctl_sections[sec].nkeys, ld->cf, ctx, 0);
		return;
	}
	only = *v;
	only.pairs = xcalloc(v->npairs + 1, sizeof(*only.pairs));
	only.npairs = 0;
	for (i = 0; i < v->npairs; i++)
		for (j = 0; j < ctl_sections[sec].nkeys; j++)
			if (strcmp(v->pairs[i].key->str,
			    ctl_sections[sec].keys[j].name) == 0)
				only.pairs[only.npairs++] = v->pairs[i];
	schema_apply(ld, &only, ctl_sections[sec].keys,
	    ctl_sections[sec].nkeys, ld->cf, ctx, 0);
	free(only.pairs);
}

struct config *
config_load_redis(const char *path, struct diags *d)
{
	struct loader ld;
	struct diags quiet;
	struct config *cf = xcalloc(1, sizeof(*cf));
	const struct ynode *root;
	size_t i, j, n0 = d->n;

	memset(&ld, 0, sizeof(ld));
	diags_init(&quiet);
	ld.cf = cf;
	ld.d = &quiet;
	cf->path = xstrdup(path);
	set_defaults(cf);

	/* Every file, section, list and channel, its problems ignored. */
	load_file(&ld, path, NULL);
	ld.d = d;
	ld.errors0 = d->errors;
	if (cf->nfiles == 0) {
		/* The main file cannot be read or parsed: say why. */
		for (i = 0; i < quiet.n; i++)
			diag_add(d, quiet.v[i].level, quiet.v[i].file,
			    quiet.v[i].line, quiet.v[i].col, "%s",
			    quiet.v[i].msg);
		if (d->errors == ld.errors0)
			diag_error(d, path, 0, 0, "cannot be loaded");
	} else if (expect_type(&ld, (root = ld.docs[0]->root), YN_MAP,
	    "the top level of a configuration file")) {
		/* What the commands read, again, its problems reported
		 * this time. */
		ld.cur_file = 0;
		for (i = 0; i < root->npairs; i++)
			for (j = 0; j < ARRAY_LEN(ctl_sections); j++)
				if (strcmp(root->pairs[i].key->str,
				    ctl_sections[j].name) == 0)
					apply_ctl_section(&ld, j,
					    root->pairs[i].val);
	}
	diags_free(&quiet);
	derive_settings(cf);
	loader_release(&ld, n0);
	if (d->errors > ld.errors0) {
		config_free(cf);
		return NULL;
	}
	return cf;
}

/*
 * The settings the daemon reads once, at start: connections are made,
 * the consumer group joined, the HTTP socket bound, key names derived
 * (the outbox stream, whose reader starts once). A reload keeps their
 * running values (config_keep_restart).
 */
static const struct {
	const char	*name;
	size_t		 off;
} restart_strs[] = {
	{ "redis.url", CF(redis_url) },
	{ "input.stream", CF(input_stream) },
	{ "input.group", CF(input_group) },
	{ "input.consumer", CF(input_consumer) },
	{ "http.listen", CF(http_listen) },
	{ "intake.listen", CF(intake_listen) },
	{ "state.prefix", CF(state_prefix) },
};

static void
note_change(char *changed, size_t cap, size_t *n, const char *name)
{
	size_t len = strlen(changed);

	if (len < cap)
		snprintf(changed + len, cap - len, "%s%s", *n > 0 ? ", " : "",
		    name);
	(*n)++;
}

size_t
config_keep_restart(struct config *next, const struct config *running,
    char *changed, size_t cap)
{
	char *dead_default;
	size_t i, n = 0;

	if (cap > 0)
		changed[0] = '\0';
	/* input.dead_letter defaults to <input.stream>:dead: a default
	 * follows the stream that is kept. */
	dead_default = xasprintf("%s:dead", next->input_stream);
	for (i = 0; i < ARRAY_LEN(restart_strs); i++) {
		char **nv = (char **)((char *)next + restart_strs[i].off);
		char *const *rv = (char *const *)((const char *)running +
		    restart_strs[i].off);

		if (*nv == NULL && *rv == NULL)
			continue;
		if (*nv != NULL && *rv != NULL && strcmp(*nv, *rv) == 0)
			continue;
		note_change(changed, cap, &n, restart_strs[i].name);
		free(*nv);
		*nv = *rv != NULL ? xstrdup(*rv) : NULL;
	}
	if (next->http_max_conns != running->http_max_conns) {
		note_change(changed, cap, &n, "http.max_connections");
		next->http_max_conns = running->http_max_conns;
	}
	if (next->http_request_timeout_ms != running->http_request_timeout_ms) {
		note_change(changed, cap, &n, "http.request_timeout");
		next->http_request_timeout_ms =
		    running->http_request_timeout_ms;
	}
	if (next->intake_max_conns != running->intake_max_conns) {
		note_change(changed, cap, &n, "intake.max_connections");
		next->intake_max_conns = running->intake_max_conns;
	}
	if (next->intake_max_body != running->intake_max_body) {
		note_change(changed, cap, &n, "intake.max_body");
		next->intake_max_body = running->intake_max_body;
	}
	if (next->intake_request_timeout_ms !=
	    running->intake_request_timeout_ms) {
		note_change(changed, cap, &n, "intake.request_timeout");
		next->intake_request_timeout_ms =
		    running->intake_request_timeout_ms;
	}
	if (next->state_cache != running->state_cache) {
		note_change(changed, cap, &n, "state.cache");
		next->state_cache = running->state_cache;
	}
	if (n > 0) {
		if (strcmp(next->dead_letter, dead_default) == 0) {
			free(next->dead_letter);
			next->dead_letter = xasprintf("%s:dead",
			    next->input_stream);
		}
		derive_settings(next);
	}
	free(dead_default);
	return n;
}

void
config_free(struct config *cf)
{
	size_t i, j;

	if (cf == NULL)
		return;
	rindex_free(cf->rindex);
	expr_free(cf->recovered_if);
	free(cf->recovered_src);
	config_free_codes(cf);
	pool_free(&cf->default_pool);
	calendars_free(cf);
	config_console_free(cf);
	for (i = 0; i < cf->nrules; i++)
		rule_free(&cf->rules[i]);
	free(cf->rules);
	for (i = 0; i < cf->nchannels; i++) {
		struct channel *ch = &cf->channels[i];

		free(ch->name);
		free(ch->key);
		free(ch->url);
		for (j = 0; j < ch->nheaders; j++) {
			free(ch->headers[j].name);
			free(ch->headers[j].value);
		}
		free(ch->headers);
		free(ch->ca_file);
		free(ch->calendar_name);
		for (j = 0; j < ch->argc; j++)
			tmpl_free(ch->argv[j]);
		free(ch->argv);
	}
	free(cf->channels);
	for (i = 0; i < cf->nlists; i++) {
		for (j = 0; j < cf->lists[i].n; j++)
			free((char *)cf->lists[i].items[j].s);
		free(cf->lists[i].items);
		free(cf->lists[i].name);
	}
	free(cf->lists);
	for (i = 0; i < cf->nfiles; i++)
		free(cf->files[i]);
	free(cf->files);
	free(cf->path);
	free(cf->redis_url);
	free(cf->input_stream);
	free(cf->input_group);
	free(cf->input_consumer);
	free(cf->dead_letter);
	free(cf->http_listen);
	free(cf->intake_listen);
	free(cf->intake_tokens_file);
	free(cf->enrich_customer_key);
	free(cf->state_prefix);
	free(cf->undelivered_stream);
	free(cf);
}

const struct channel *
config_channel(const struct config *cf, const char *name)
{
	size_t i;

	for (i = 0; i < cf->nchannels; i++)
		if (strcmp(cf->channels[i].name, name) == 0)
			return &cf->channels[i];
	return NULL;
}

const struct rule *
config_rule(const struct config *cf, const char *name)
{
	size_t i;

	for (i = 0; i < cf->nrules; i++)
		if (strcmp(cf->rules[i].name, name) == 0)
			return &cf->rules[i];
	return NULL;
}

const struct vlist *
config_list(const struct config *cf, const char *name)
{
	size_t i;

	for (i = 0; i < cf->nlists; i++)
		if (strcmp(cf->lists[i].name, name) == 0)
			return &cf->lists[i];
	return NULL;
}

