/*
 * test_expr.c — the expression language (expr.h), table-driven.
 *
 * An in-test event (a table of path -> value) and three $lists stand in for
 * the event and configuration. Each row of the tables below is one case:
 * eval_rows pairs an expression with its expected result against that
 * event; error_rows pairs a broken expression with the offset and a part of
 * the message expr_compile must report.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "util.h"
#include "harness.h"
#include "value.h"

/* The event. Values point at static texts; built in setup(). */
struct field {
	const char	*path;
	struct value	 v;
};

static struct value tag_items[3], code_items[3];
static struct field fields[32];
static size_t nfields;

static struct value vip_items[2], num_items[3];
static struct vlist lists[3];

static void
add(const char *path, struct value v)
{
	fields[nfields].path = path;
	fields[nfields++].v = v;
}

static struct value
str(const char *s)
{
	return value_str(s, strlen(s));
}

static struct value
num(double n, const char *text)
{
	return value_num(n, text, strlen(text));
}

static struct value
list(struct value *items, size_t n)
{
	struct value v;

	memset(&v, 0, sizeof(v));
	v.kind = V_LIST;
	v.s = "[...]";
	v.len = 5;
	v.items = items;
	v.nitems = n;
	return v;
}

static void
setup(void)
{
	struct value null;

	memset(&null, 0, sizeof(null));
	null.kind = V_NULL;
	null.s = "null";
	null.len = 4;

	tag_items[0] = str("late");
	tag_items[1] = str("rude");
	tag_items[2] = str("billing");
	code_items[0] = num(1, "1");
	code_items[1] = num(2, "2");
	code_items[2] = num(3, "3");

	add("csat", str("2"));			/* a numeric string */
	add("nps", num(5, "5"));
	add("score", num(2, "2.0"));
	add("ctr", str("10"));
	add("agent_id", str("a17"));
	add("customer.tier", str("gold"));
	add("customer.id", str("C-100"));
	add("customer.name", str("O'Brien \"Bob\""));
	add("abandoned", value_bool(true));
	add("transferred", value_bool(false));
	add("answered", str("yes"));
	add("queue", str("billing-east"));
	add("note", str("line1\nline2\ttab"));
	add("comment", str(""));
	add("zero", num(0, "0"));
	add("neg", num(-3.5, "-3.5"));
	add("big", num(1e6, "1e6"));
	add("tags", list(tag_items, 3));
	add("codes", list(code_items, 3));
	add("empty_list", list(NULL, 0));
	add("nothing", null);
	add("phone", str("+49 30 1234"));
	add("x-y", str("dash"));
	add("name", str("Zoe"));
	add("lang", str("de"));

	vip_items[0] = str("gold");
	vip_items[1] = str("platinum");
	num_items[0] = num(1, "1");
	num_items[1] = num(2, "2");
	num_items[2] = num(3, "3");
	lists[0].name = (char *)"vip_tiers";
	lists[0].items = vip_items;
	lists[0].n = 2;
	lists[1].name = (char *)"nums";
	lists[1].items = num_items;
	lists[1].n = 3;
	lists[2].name = (char *)"empty";
	lists[2].items = NULL;
	lists[2].n = 0;
}

static bool
lookup(void *ctx, const char *path, struct value *out)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < nfields; i++)
		if (strcmp(fields[i].path, path) == 0) {
			*out = fields[i].v;
			return true;
		}
	return false;
}

static const struct vlist *
resolve(void *ctx, const char *name)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (strcmp(lists[i].name, name) == 0)
			return &lists[i];
	return NULL;
}

static const struct {
	const char	*src;
	bool		 want;
} eval_rows[] = {
	/* precedence: not > and > or */
	{ "true or false and false", true },
	{ "false and false or true", true },
	{ "not false and false", false },
	{ "not (false and false)", true },
	{ "(true or false) and false", false },
	{ "not not true", true },
	{ "not true or true", true },
	{ "true and true and false", false },
	{ "false or false or true", true },
	{ "abandoned or transferred and missing", true },
	{ "(abandoned or transferred) and missing", false },
	{ "not abandoned and not transferred", false },
	{ "not transferred and abandoned", true },
	{ "((((nps == 5))))", true },
	{ "nps < 6 and (csat <= 2 or missing) and not transferred", true },

	/* numbers */
	{ "nps == 5", true },
	{ "nps == 5.0", true },
	{ "nps != 5", false },
	{ "nps != 6", true },
	{ "nps < 6", true },
	{ "nps < 5", false },
	{ "nps <= 5", true },
	{ "nps > 4", true },
	{ "nps > 5", false },
	{ "nps >= 5", true },
	{ "nps >= 5.5", false },

	/* numeric strings compare numerically */
	{ "csat == 2", true },
	{ "csat == \"2\"", true },
	{ "csat == '2.0'", true },
	{ "csat <= 2", true },
	{ "csat < 2", false },
	{ "csat > 1.5", true },
	{ "score == 2", true },
	{ "score == \"2\"", true },
	{ "ctr > 9", true },
	{ "ctr > '9'", true },

	/* strings */
	{ "agent_id == 'a17'", true },
	{ "agent_id == \"a17\"", true },
	{ "agent_id != 'a18'", true },
	{ "agent_id == 'A17'", false },
	{ "name < 'b'", true },
	{ "name > 'Zeta'", true },
	{ "lang < 'en'", true },
	{ "lang >= 'de'", true },
	{ "lang > 'de'", false },
	{ "'abc' < 'abd'", true },
	{ "'ab' < 'abc'", true },
	{ "'b' > 'abc'", true },
	{ "agent_id < 5", false },
	{ "agent_id > 5", false },
	{ "agent_id == 5", false },
	{ "agent_id != 5", true },

	/* booleans */
	{ "abandoned == true", true },
	{ "abandoned", true },
	{ "abandoned == 'yes'", true },
	{ "abandoned == 1", true },
	{ "answered == true", true },
	{ "answered != false", true },
	{ "transferred == false", true },
	{ "transferred", false },
	{ "not transferred", true },
	{ "abandoned < true", false },
	{ "true == 'yes'", true },
	{ "true == true", true },
	{ "false == 0", true },
	{ "true != false", true },

	/* a missing field: every comparison is false; "not" negates */
	{ "missing == 1", false },
	{ "missing != 1", false },
	{ "missing < 1", false },
	{ "missing <= 1", false },
	{ "missing > 1", false },
	{ "missing >= 1", false },
	{ "missing in [1, 2]", false },
	{ "missing not in [1, 2]", false },
	{ "missing in $vip_tiers", false },
	{ "missing contains 'a'", false },
	{ "missing startswith 'a'", false },
	{ "missing matches '.*'", false },
	{ "missing", false },
	{ "not missing", true },
	{ "not (missing == 1)", true },
	{ "not (missing != 1)", true },
	{ "not missing not in [1]", true },
	{ "not (nps <= 6 and missing)", true },
	{ "exists(missing)", false },
	{ "not exists(missing)", true },
	{ "customer.missing == 'x'", false },
	{ "nps == missing", false },
	{ "nps != missing", false },
	{ "tags contains missing", false },

	/* a null field behaves as missing */
	{ "nothing == 1", false },
	{ "nothing != 1", false },
	{ "nothing", false },
	{ "not nothing", true },
	{ "exists(nothing)", false },
	{ "nothing in [1]", false },
	{ "nothing not in [1]", false },

	/* in, not in: literal lists, $lists, list-valued fields */
	{ "nps in [1, 5, 9]", true },
	{ "nps in [1, 2]", false },
	{ "nps not in [1, 2]", true },
	{ "nps not in [5]", false },
	{ "csat in [1, 2, 3]", true },
	{ "csat in ['2']", true },
	{ "customer.tier in $vip_tiers", true },
	{ "customer.tier not in $vip_tiers", false },
	{ "agent_id in $vip_tiers", false },
	{ "agent_id not in $vip_tiers", true },
	{ "nps in $nums", false },
	{ "csat in $nums", true },
	{ "2 in $nums", true },
	{ "'gold' in $vip_tiers", true },
	{ "nps in $empty", false },
	{ "nps not in $empty", true },
	{ "'rude' in tags", true },
	{ "'nice' in tags", false },
	{ "'nice' not in tags", true },
	{ "2 in codes", true },
	{ "'2' in codes", true },
	{ "nps in codes", false },
	{ "nps in empty_list", false },
	{ "nps not in empty_list", true },
	{ "nps in []", false },
	{ "nps not in []", true },
	{ "abandoned in [true]", true },
	{ "answered in [false, true]", true },
	{ "nps in agent_id", false },
	{ "nps not in agent_id", false },
	{ "not (nps in [5])", false },

	/* contains: list membership or substring */
	{ "tags contains 'rude'", true },
	{ "tags contains 'Rude'", false },
	{ "codes contains 3", true },
	{ "codes contains '3'", true },
	{ "queue contains 'east'", true },
	{ "queue contains 'west'", false },
	{ "queue contains ''", true },
	{ "customer.id contains 100", true },
	{ "$vip_tiers contains 'gold'", true },
	{ "$nums contains 2", true },
	{ "[1, 2] contains 2", true },
	{ "['a', 'b'] contains 'c'", false },
	{ "empty_list contains 1", false },
	{ "not (tags contains 'late')", false },
	{ "note contains \"\\t\"", true },

	/* startswith */
	{ "queue startswith 'billing'", true },
	{ "queue startswith 'east'", false },
	{ "customer.id startswith \"C-\"", true },
	{ "phone startswith '+49'", true },
	{ "queue startswith ''", true },
	{ "comment startswith 'x'", false },
	{ "tags startswith 'late'", false },
	{ "'ab' startswith 'abc'", false },

	/* matches: POSIX ERE, unanchored search */
	{ "queue matches 'east'", true },
	{ "queue matches '^east'", false },
	{ "queue matches '^billing-(east|west)$'", true },
	{ "agent_id matches '^a[0-9]+$'", true },
	{ "agent_id matches '^[a-z]+$'", false },
	{ "customer.id matches '^C-[[:digit:]]{3}$'", true },
	{ "queue matches 'EAST'", false },
	{ "lang matches 'de|fr'", true },
	{ "lang matches '^(en|fr)$'", false },
	{ "note matches 'line1.line2'", true },
	{ "nps matches '^5$'", true },
	{ "not (queue matches 'west')", true },
	{ "queue matches '^[a-z]+-[a-z]{2,4}$'", true },
	{ "agent_id matches '^a[0-9]{1,3}$'", true },
	{ "agent_id matches '^a[0-9]{3,}$'", false },
	{ "agent_id matches '^a[0-9]{0,255}$'", true },
	{ "agent_id matches '^(a[0-9]{2}){1,5}$'", true },
	{ "']' matches '[]a]'", true },
	{ "'+' matches '[+*]+'", true },
	{ "'a+b' matches 'a\\\\+b'", true },
	{ "'(x)' matches '[(]x[)]'", true },
	{ "'ab' matches '^(a|b)+$'", true },
	{ "'b:' matches '^[[:alpha:]]+[]:]$'", true },

	/* string escapes and quote styles */
	{ "customer.name == 'O\\'Brien \"Bob\"'", true },
	{ "customer.name == \"O'Brien \\\"Bob\\\"\"", true },
	{ "note == 'line1\\nline2\\ttab'", true },
	{ "'a\\\\b' == \"a\\\\b\"", true },
	{ "'a\\\\b' matches '^a.b$'", true },
	{ "'\\n' == \"\\n\"", true },
	{ "'\\'' == \"'\"", true },
	{ "'\\\"' == '\"'", true },
	{ "'x' == \"x\"", true },

	/* dotted paths */
	{ "customer.tier == 'gold'", true },
	{ "customer.tier == 'silver'", false },
	{ "customer.id == 'C-100'", true },
	{ "x-y == 'dash'", true },

	/* exists() */
	{ "exists(nps)", true },
	{ "exists(customer.tier)", true },
	{ "exists(comment)", true },
	{ "exists(transferred)", true },
	{ "exists(customer)", false },
	{ "exists(nps) and nps < 6", true },
	{ "exists( nps )", true },

	/* bare operands by truthiness */
	{ "nps", true },
	{ "zero", false },
	{ "not zero", true },
	{ "comment", false },
	{ "agent_id", true },
	{ "tags", true },
	{ "empty_list", false },
	{ "answered", true },
	{ "csat", true },
	{ "$vip_tiers", true },
	{ "$empty", false },
	{ "1", true },
	{ "0", false },
	{ "'x'", true },
	{ "''", false },
	{ "'no'", false },

	/* whitespace */
	{ "nps==5", true },
	{ "  nps   ==   5  ", true },
	{ "\tnps\n==\r\n5", true },
	{ "(nps==5)and(csat==2)", true },
	{ "not(nps==5)", false },
	{ "[1,2]contains 1", true },
	{ "nps in[1,5]", true },

	/* negative and exponent numbers */
	{ "neg < 0", true },
	{ "neg == -3.5", true },
	{ "neg > -4", true },
	{ "neg >= -3.5", true },
	{ "big == 1e6", true },
	{ "big == 1000000", true },
	{ "big > 9.99E5", true },
	{ "big == 1E+6", true },
	{ "0.0025 == 2.5e-3", true },
	{ "-0 == 0", true },
	{ "nps > -1e3", true },

	/* literal comparisons */
	{ "1 < 2", true },
	{ "2 < 1", false },
	{ "'a' == 'a'", true },
	{ "'a' != 'a'", false },
};

static const struct {
	const char	*src;
	size_t		 offset;
	const char	*msg;	/* a substring of the message */
} error_rows[] = {
	{ "", 0, "empty expression" },
	{ "   ", 0, "empty expression" },
	{ "csat <=", 7, "expected a value after '<=', found end of expression" },
	{ "csat = 2", 5, "unknown operator '='; did you mean '=='?" },
	{ "$nolist", 0, "unknown list $nolist" },
	{ "x in $nolist", 5, "unknown list $nolist" },
	{ "x == 'abc", 5, "unterminated string" },
	{ "x == \"abc", 5, "unterminated string" },
	{ "x == 'ab\\q'", 8, "unknown escape '\\q' in string" },
	{ "x matches 'a\\'", 10, "unterminated string" },
	{ "x matches '('", 10, "invalid regular expression '(': " },
	{ "x matches '[a-'", 10, "invalid regular expression" },
	{ "a == b c", 7, "unexpected 'c' after a complete expression" },
	{ "a == 'a' 'b'", 9, "unexpected string 'b' after" },
	{ "exists(x) == 1", 10, "unexpected '==' after a complete expression" },
	{ "a AND b", 2, "unexpected 'AND'" },
	{ "(a", 2, "expected ')' to close '(', found end of expression" },
	{ "(a or b", 7, "expected ')' to close '('" },
	{ "a)", 1, "unexpected ')' without a matching '('" },
	{ ")", 0, "expected an operand, found ')'" },
	{ "()", 1, "expected an operand after '(', found ')'" },
	{ "a and", 5, "expected an operand after 'and', found end of expression" },
	{ "a or )", 5, "expected an operand after 'or', found ')'" },
	{ "a and (b or)", 11, "expected an operand after 'or', found ')'" },
	{ "not", 3, "expected an operand after 'not', found end of expression" },
	{ "not not", 7, "expected an operand after 'not'" },
	{ "in == 1", 0, "expected an operand, found 'in'" },
	{ "a == == b", 5, "expected a value after '==', found '=='" },
	{ "x == and", 5, "expected a value after '==', found 'and'" },
	{ "x startswith", 12, "expected a value after 'startswith', found end" },
	{ "x in", 4, "expected a value after 'in', found end of expression" },
	{ "x not in", 8, "expected a value after 'not in'" },
	{ "x not y", 6, "expected 'in' after 'not', found 'y'" },
	{ "x matches y", 10, "'matches' needs a string literal on the right, "
	    "found 'y'" },
	{ "x matches 5", 10, "'matches' needs a string literal" },
	{ "x matches $vip_tiers", 10, "'matches' needs a string literal" },
	{ "x in 5", 5, "'in' needs a list on the right, found '5'" },
	{ "x in 'abc'", 5, "'in' needs a list on the right" },
	{ "x in true", 5, "'in' needs a list on the right" },
	{ "x not in 'a'", 9, "'not in' needs a list on the right" },
	{ "x in [1, y]", 9, "list elements must be literals, found 'y'" },
	{ "x in [1, $vip_tiers]", 9, "list elements must be literals" },
	{ "x in [[1]]", 6, "list elements must be literals, found '['" },
	{ "x in [1, 2", 10, "expected ',' or ']' in list, found end of "
	    "expression" },
	{ "x in [1 2]", 8, "expected ',' or ']' in list, found '2'" },
	{ "x in [1,]", 8, "expected a value after ',' in list, found ']'" },
	{ "x in [,]", 6, "expected a value or ']' in list, found ','" },
	{ "x == [1, 2]", 5, "'==' needs a single value on the right" },
	{ "x contains $vip_tiers", 11, "'contains' needs a single value" },
	{ "[1, 2] == 1", 7, "a list on the left needs 'contains'" },
	{ "$vip_tiers in [1]", 11, "a list on the left needs 'contains'" },
	{ "a && b", 2, "unknown operator '&&'; did you mean 'and'?" },
	{ "a || b", 2, "unknown operator '||'; did you mean 'or'?" },
	{ "!a", 0, "unknown operator '!'" },
	{ "a # b", 2, "unexpected character '#'" },
	{ "a \x01", 2, "unexpected byte 0x01" },
	{ "x == -", 5, "unexpected character '-'" },
	{ "x in.y", 4, "unexpected character '.'" },
	{ "$", 0, "expected a list name after '$'" },
	{ "x == 1.2.3", 5, "invalid number '1.2.3'" },
	{ "x == 12abc", 5, "invalid number '12abc'" },
	{ "x == 1e", 5, "invalid number '1e'" },
	{ "x == 1.", 5, "invalid number '1.'" },
	{ "x == 1e999", 5, "number out of range '1e999'" },
	{ "customer..tier == 1", 0, "invalid field path 'customer..tier'" },
	{ "customer. == 1", 0, "invalid field path 'customer.'" },
	{ "a.1b", 0, "invalid field path 'a.1b'" },
	{ "exists x", 7, "expected '(' after 'exists', found 'x'" },
	{ "exists", 6, "expected '(' after 'exists', found end of expression" },
	{ "exists()", 7, "expected a field path in exists(), found ')'" },
	{ "exists(1)", 7, "expected a field path in exists(), found '1'" },
	{ "exists(x", 8, "expected ')' to close 'exists(', found end" },
	{ "exists(x y)", 9, "expected ')' to close 'exists(', found 'y'" },
	/* found by fuzzing: stacked repetitions made regcomp exhaust memory */
	{ "x matches 'a++++++++++++++++++++++++++++++++++++++++++++++'", 10,
	    "invalid regular expression "
	    "'a+++++++++++++++++++++++++++++++++++++++...': "
	    "adjacent repetition operators" },
	{ "x matches 'a{2}{2}'", 10, "adjacent repetition operators" },
	{ "x matches 'a*?'", 10, "adjacent repetition operators" },
	{ "x matches '(a{,9}{,9})'", 10, "adjacent repetition operators" },
	{ "x matches '((a{100}){100}){100}'", 10, "too complex" },
	{ "x matches 'a{99999999999999999999999}'", 10, "count over 255" },
	{ "x matches '-{,00000020000}'", 10, "repetition count over 255" },
	{ "x matches 'a{256}'", 10, "repetition count over 255" },
	{ "x matches '(a{0,255}){0,255}'", 10, "too complex" },
};

static void
test_eval(void)
{
	struct expr_error err;
	struct expr *e;
	size_t i;

	for (i = 0; i < sizeof(eval_rows) / sizeof(eval_rows[0]); i++) {
		e = expr_compile(eval_rows[i].src, resolve, NULL, &err);
		if (e == NULL) {
			CHECKF(0, "[%s]: compile error at %zu: %s",
			    eval_rows[i].src, err.offset, err.msg);
			continue;
		}
		CHECKF(expr_eval(e, lookup, NULL) == eval_rows[i].want,
		    "[%s]: want %s", eval_rows[i].src,
		    eval_rows[i].want ? "true" : "false");
		expr_free(e);
	}
}

static void
test_errors(void)
{
	struct expr_error err;
	struct expr *e;
	size_t i;

	for (i = 0; i < sizeof(error_rows) / sizeof(error_rows[0]); i++) {
		e = expr_compile(error_rows[i].src, resolve, NULL, &err);
		CHECKF(e == NULL && err.offset == error_rows[i].offset &&
		    strstr(err.msg, error_rows[i].msg) != NULL,
		    "[%s]: want error at %zu containing \"%s\", got %s at "
		    "%zu: \"%s\"", error_rows[i].src, error_rows[i].offset,
		    error_rows[i].msg, e ? "success" : "error", err.offset,
		    err.msg);
		expr_free(e);
	}
}

/* Limits: input length and nesting depth. */
static void
test_limits(void)
{
	struct expr_error err;
	struct expr *e;
	char *s;
	size_t i;

	s = malloc(4098);
	memset(s, 'a', 4097);
	s[4097] = '\0';
	e = expr_compile(s, resolve, NULL, &err);
	CHECKF(e == NULL && err.offset == 0 &&
	    strstr(err.msg, "expression too long") != NULL,
	    "[4097 bytes]: got \"%s\"", err.msg);
	s[4096] = '\0';
	e = expr_compile(s, resolve, NULL, &err);
	CHECKF(e != NULL && !expr_eval(e, lookup, NULL),
	    "[4096 bytes]: compiles, false (%s)", err.msg);
	expr_free(e);

	/* 64 levels of parentheses are fine, the 65th is not. */
	for (i = 0; i < 64; i++)
		s[i] = '(';
	memcpy(s + 64, "nps", 3);
	for (i = 0; i < 64; i++)
		s[67 + i] = ')';
	s[131] = '\0';
	e = expr_compile(s, resolve, NULL, &err);
	CHECKF(e != NULL && expr_eval(e, lookup, NULL),
	    "[64 parentheses]: compiles, true (%s)", err.msg);
	expr_free(e);
	for (i = 0; i < 65; i++)
		s[i] = '(';
	s[65] = '\0';
	e = expr_compile(s, resolve, NULL, &err);
	CHECKF(e == NULL && err.offset == 64 &&
	    strstr(err.msg, "nested too deeply") != NULL,
	    "[65 parentheses]: got %zu \"%s\"", err.offset, err.msg);
	s[0] = '\0';
	for (i = 0; i < 70; i++)
		memcpy(s + i * 4, "not ", 5);
	e = expr_compile(s, resolve, NULL, &err);
	CHECKF(e == NULL && err.offset == 256 &&
	    strstr(err.msg, "nested too deeply") != NULL,
	    "[70 nots]: got %zu \"%s\"", err.offset, err.msg);

	/* A long and/or chain is flat, not deep. */
	for (i = 0; i < 800; i++)
		memcpy(s + i * 5, "a or ", 5);
	memcpy(s + 4000, "nps", 4);
	e = expr_compile(s, resolve, NULL, &err);
	CHECKF(e != NULL && expr_eval(e, lookup, NULL),
	    "[800 ors]: compiles, true (%s)", err.msg);
	expr_free(e);
	free(s);

	e = expr_compile("$vip_tiers", NULL, NULL, &err);
	CHECKF(e == NULL && strstr(err.msg, "unknown list $vip_tiers"),
	    "[$vip_tiers, no resolver]: got \"%s\"", err.msg);
}

struct seen {
	char	 buf[256];
};

static void
collect(void *ctx, const char *path, size_t offset)
{
	struct seen *s = ctx;
	size_t n = strlen(s->buf);

	snprintf(s->buf + n, sizeof(s->buf) - n, "%s@%zu ", path, offset);
}

static void
test_foreach_path(void)
{
	static const struct {
		const char	*src;
		const char	*want;
	} rows[] = {
		{ "a == 1 and (customer.tier in $vip_tiers or exists(b.c)) "
		    "and not d contains x",
		    "a@0 customer.tier@12 b.c@50 d@64 x@75 " },
		{ "1 < 2", "" },
		{ "nps", "nps@0 " },
		{ "  x in y", "x@2 y@7 " },
		{ "'a' == b or c", "b@7 c@12 " },
	};
	struct expr_error err;
	struct expr *e;
	struct seen s;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		s.buf[0] = '\0';
		e = expr_compile(rows[i].src, resolve, NULL, &err);
		if (e != NULL)
			expr_foreach_path(e, collect, &s);
		CHECKF(e != NULL && strcmp(s.buf, rows[i].want) == 0,
		    "foreach_path [%s]: got \"%s\", want \"%s\"",
		    rows[i].src, s.buf, rows[i].want);
		expr_free(e);
	}
}

static void
test_valid_path(void)
{
	static const struct {
		const char	*path;
		bool		 want;
	} rows[] = {
		{ "a", true }, { "customer.tier", true }, { "a_b-c.d1", true },
		{ "_x", true }, { "customer.in", true }, { "a.b.c.d", true },
		{ "x-y", true }, { "AND", true }, { "a.b-", true },
		{ "", false }, { ".a", false }, { "a.", false },
		{ "a..b", false }, { "1a", false }, { "a.1b", false },
		{ "in", false }, { "and", false }, { "true", false },
		{ "exists", false }, { "in.x", false }, { "a b", false },
		{ "a$", false }, { "-a", false }, { "a.-b", false },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECKF(expr_valid_path(rows[i].path) == rows[i].want,
		    "valid_path [%s]: want %s", rows[i].path,
		    rows[i].want ? "true" : "false");
	CHECK(!expr_valid_path(NULL));
}

/*
 * expr_explain: the same result as expr_eval, and a text that quotes the
 * part that decided it with the values it read.
 */
static const struct {
	const char	*src;
	bool		 want;
	const char	*text;
} explain_rows[] = {
	{ "nps <= 6", true, "'nps <= 6' holds (nps = 5)" },
	{ "nps > 6", false, "'nps > 6' is false (nps = 5)" },
	{ "csta <= 2", false, "'csta <= 2' is false (csta is missing)" },
	{ "nps <= 6 and customer.tier in $vip_tiers and csat > 3", false,
	  "'csat > 3' is false (csat = '2')" },
	{ "nps > 6 and csat > 3", false, "'nps > 6' is false (nps = 5)" },
	{ "nps > 6 or queue startswith 'sales'", false,
	  "'nps > 6' is false (nps = 5); and 'queue startswith 'sales'' is "
	  "false (queue = 'billing-east')" },
	{ "not (nps <= 6)", false,
	  "'not (nps <= 6)' is false: '(nps <= 6)' holds (nps = 5)" },
	{ "exists(nothing)", false, "'exists(nothing)' is false (nothing is "
	  "null)" },
	{ "transferred", false, "'transferred' is false (transferred = "
	  "false)" },
	{ "note == 'x'", false, "'note == 'x'' is false (note = "
	  "'line1?line2?tab')" },
	{ "(nps > 9 or csat > 4) and abandoned", false,
	  "'nps > 9' is false (nps = 5); and 'csat > 4' is false "
	  "(csat = '2')" },
	{ "  csat   <=  1  ", false, "'csat   <=  1' is false (csat = '2')" },
	{ "5 == 6", false, "'5 == 6' is false" },
};

static void
test_explain(void)
{
	struct expr_error err;
	struct expr *e;
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < ARRAY_LEN(explain_rows); i++) {
		e = expr_compile(explain_rows[i].src, resolve, NULL, &err);
		CHECKF(e != NULL, "explain [%s]: %s", explain_rows[i].src,
		    err.msg);
		if (e == NULL)
			continue;
		buf_reset(&b);
		CHECKF(expr_explain(e, lookup, NULL, &b) ==
		    explain_rows[i].want, "explain [%s]: result",
		    explain_rows[i].src);
		CHECKF(expr_eval(e, lookup, NULL) == explain_rows[i].want,
		    "explain [%s]: eval agrees", explain_rows[i].src);
		CHECKF(strcmp(b.data, explain_rows[i].text) == 0,
		    "explain [%s]: got \"%s\", want \"%s\"",
		    explain_rows[i].src, b.data, explain_rows[i].text);
		expr_free(e);
	}
	buf_free(&b);
}

int
main(void)
{
	setup();
	test_eval();
	test_errors();
	test_limits();
	test_foreach_path();
	test_valid_path();
	test_explain();
	return harness_done();
}
