/*
 * config_cases.c — the closed loop's settings (README, "Working a case"): the
 * top-level "cases:" section (reopen_within, outcome_within,
 * recovered_if, history), "resolution_codes:", a rule's "case:" policy,
 * and the defaults they take when absent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

#define CODE_MAX	64
#define CODES_MAX	100
#define RECOVERED_IF	"csat >= 4 or nps >= 7"

static const char *const default_codes[] = { "callback-done", "refund",
    "credit", "no-answer", "not-reachable", "duplicate",
    "no-action-needed" };

/* code_ok: 1..CODE_MAX bytes of [a-z0-9_-]. */
static bool
code_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > CODE_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

void
apply_resolution_codes(struct loader *ld, const struct ynode *k,
    const struct ynode *v, void *target)
{
	struct config *cf = target;
	size_t i, j;

	(void)k;
	if (!expect_type(ld, v, YN_SEQ, "'resolution_codes'"))
		return;
	if (v->nitems == 0 || v->nitems > CODES_MAX) {
		cerr(ld, v, "'resolution_codes' must list 1 to %d codes",
		    CODES_MAX);
		return;
	}
	config_free_codes(cf);
	cf->resolution_codes = xcalloc(v->nitems, sizeof(char *));
	for (i = 0; i < v->nitems; i++) {
		const struct ynode *n = v->items[i];

		if (!expect_type(ld, n, YN_SCALAR, "a resolution code"))
			continue;
		if (!code_ok(n->str)) {
			cerr(ld, n, "invalid resolution code '%s' (1 to %d "
			    "of a-z, 0-9, '-' and '_')", n->str, CODE_MAX);
			continue;
		}
		for (j = 0; j < cf->nresolution_codes; j++)
			if (strcmp(cf->resolution_codes[j], n->str) == 0)
				break;
		if (j < cf->nresolution_codes) {
			cerr(ld, n, "resolution code '%s' is listed twice",
			    n->str);
			continue;
		}
		cf->resolution_codes[cf->nresolution_codes++] =
		    xstrdup(n->str);
	}
}

void
apply_recovered_if(struct loader *ld, const struct ynode *k,
    const struct ynode *v, void *target)
{
	struct config *cf = target;
	struct expr *e;

	(void)k;
	if ((e = config_compile_expr(ld, v, "recovered_if")) == NULL)
		return;
	expr_free(cf->recovered_if);
	free(cf->recovered_src);
	cf->recovered_if = e;
	cf->recovered_src = xstrdup(v->str);
}

void
apply_case_policy(struct loader *ld, const struct ynode *k,
    const struct ynode *v, void *target)
{
	struct rule *r = target;

	(void)k;
	if (!expect_type(ld, v, YN_SCALAR, "'case'"))
		return;
	if (strcmp(v->str, "open") == 0)
		r->no_case = false;
	else if (strcmp(v->str, "none") == 0)
		r->no_case = true;
	else
		cerr(ld, v, "invalid value '%s' for 'case'%s (use open or "
		    "none)", v->str, ld->ctx);
}

void
config_cases_defaults(struct config *cf)
{
	cf->reopen_within_ms = 7 * 86400000LL;
	cf->outcome_within_ms = 30 * 86400000LL;
	cf->history_max = 200;
}

void
config_cases_finish(struct config *cf)
{
	struct expr_error err;
	size_t i;

	if (cf->recovered_if == NULL) {
		memset(&err, 0, sizeof(err));
		cf->recovered_if = expr_compile(RECOVERED_IF, NULL, NULL, &err);
		cf->recovered_src = xstrdup(RECOVERED_IF);
	}
	for (i = 0; i < cf->nrules; i++)
		if (cf->rules[i].pool.n > 0)
			cf->has_pools = true;
	if (cf->nresolution_codes == 0) {
		config_free_codes(cf);
		cf->resolution_codes = xcalloc(ARRAY_LEN(default_codes),
		    sizeof(char *));
		for (i = 0; i < ARRAY_LEN(default_codes); i++)
			cf->resolution_codes[i] = xstrdup(default_codes[i]);
		cf->nresolution_codes = ARRAY_LEN(default_codes);
	}
}

void
config_free_codes(struct config *cf)
{
	size_t i;

	for (i = 0; i < cf->nresolution_codes; i++)
		free(cf->resolution_codes[i]);
	free(cf->resolution_codes);
	cf->resolution_codes = NULL;
	cf->nresolution_codes = 0;
}

bool
config_resolution_code(const struct config *cf, const char *code)
{
	size_t i;

	for (i = 0; i < cf->nresolution_codes; i++)
		if (strcmp(cf->resolution_codes[i], code) == 0)
			return true;
	return false;
}

bool
config_has_contact(const struct config *cf)
{
	size_t i;

	for (i = 0; i < cf->nchannels; i++)
		if (cf->channels[i].contact)
			return true;
	return false;
}

#define POOL_MAX	100

void
pool_free(struct pool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->names[i]);
	free(p->names);
	memset(p, 0, sizeof(*p));
}

void
pool_copy(struct pool *dst, const struct pool *src)
{
	size_t i;

	pool_free(dst);
	if (src->n == 0)
		return;
	dst->names = xcalloc(src->n, sizeof(char *));
	for (i = 0; i < src->n; i++)
		dst->names[i] = xstrdup(src->names[i]);
	dst->n = src->n;
	dst->least_open = src->least_open;
}

/* name_ok: a person's name: 1..128 bytes, no control characters. */
static bool
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 128)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void
parse_pool(struct loader *ld, const struct ynode *v, struct pool *p)
{
	const struct ynode *pl = NULL, *st = NULL;
	size_t i, j;

	if (!expect_type(ld, v, YN_MAP, "'assign'"))
		return;
	for (i = 0; i < v->npairs; i++) {
		const char *k = v->pairs[i].key->str;

		if (strcmp(k, "pool") == 0)
			pl = v->pairs[i].val;
		else if (strcmp(k, "strategy") == 0)
			st = v->pairs[i].val;
		else
			cerr(ld, v->pairs[i].key, "unknown key '%s' in 'assign' "
			    "(pool, strategy)", k);
	}
	if (pl == NULL) {
		cerr(ld, v, "'assign' needs a 'pool' of names");
		return;
	}
	if (!expect_type(ld, pl, YN_SEQ, "'pool'"))
		return;
	if (pl->nitems == 0 || pl->nitems > POOL_MAX) {
		cerr(ld, pl, "'pool' must name 1 to %d people", POOL_MAX);
		return;
	}
	pool_free(p);
	p->names = xcalloc(pl->nitems, sizeof(char *));
	for (i = 0; i < pl->nitems; i++) {
		const struct ynode *n = pl->items[i];

		if (!expect_type(ld, n, YN_SCALAR, "a name in 'pool'"))
			continue;
		if (!name_ok(n->str)) {
			cerr(ld, n, "invalid name '%s' in 'pool' (1 to 128 "
			    "bytes without control characters)", n->str);
			continue;
		}
		for (j = 0; j < p->n; j++)
			if (strcmp(p->names[j], n->str) == 0)
				break;
		if (j < p->n) {
			cerr(ld, n, "'%s' is in the pool twice", n->str);
			continue;
		}
		p->names[p->n++] = xstrdup(n->str);
	}
	if (st != NULL && expect_type(ld, st, YN_SCALAR, "'strategy'")) {
		if (strcmp(st->str, "least_open") == 0)
			p->least_open = true;
		else if (strcmp(st->str, "round_robin") != 0)
			cerr(ld, st, "invalid strategy '%s' (round_robin or "
			    "least_open)", st->str);
	}
}

void
apply_rule_assign(struct loader *ld, const struct ynode *k,
    const struct ynode *v, void *target)
{
	(void)k;
	parse_pool(ld, v, &((struct rule *)target)->pool);
}

void
apply_default_assign(struct loader *ld, const struct ynode *k,
    const struct ynode *v, void *target)
{
	(void)k;
	parse_pool(ld, v, &((struct config *)target)->default_pool);
}
