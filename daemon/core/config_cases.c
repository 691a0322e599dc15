/*
 * config_cases.c — the closed loop's settings (SPEC section 8): the
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
