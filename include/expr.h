/*
 * expr.h — the rule expression language of docs/configuration.md.
 *
 *   expr  := or ;  or := and ("or" and)* ;  and := unary ("and" unary)*
 *   unary := "not" unary | "(" expr ")" | cmp
 *   cmp   := operand [ op operand ] | "exists(" path ")"
 *   op    := == != < <= > >= in "not in" contains startswith matches
 *   operand := path | number | 'string' | "string" | true | false
 *            | [operand, ...] | $list
 *
 * Compiled once at load time into a tree (regexes compiled with regcomp
 * REG_EXTENDED|REG_NOSUB, $list references resolved); evaluated per event
 * with no allocation.
 *
 * Semantics (documented for operators in README):
 *  - a comparison with a missing (or null) field is false, for every
 *    operator including != and "not in"; "not" then negates that result;
 *  - equality and ordering follow value_equal/value_compare (value.h);
 *  - "a in B": B is a list literal, a $list or a list-valued field; true if
 *    a equals any element;
 *  - "a contains b": a list field holding an element equal to b, or a text
 *    holding b as a substring;
 *  - "a startswith b": text prefix; "a matches 're'": POSIX ERE search
 *    (unanchored); the right side of matches must be a string literal;
 *  - a bare operand is a condition by value_truthy (e.g. "abandoned");
 *  - exists(path) is true when the field is present and not null.
 * Keywords (and or not in contains startswith matches true false exists)
 * are case-sensitive and reserved: they cannot be field names.
 * Paths: [A-Za-z_][A-Za-z0-9_-]* segments joined by '.'.
 * Numbers: -?digits[.digits][(e|E)[+-]digits]. Strings: '...' or "..."
 * with escapes \\ \' \" \n \t; any other escape is an error.
 */
#ifndef RECOVERYD_EXPR_H
#define RECOVERYD_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "value.h"

struct expr;

/* Resolves "$name"; returns NULL if there is no such list. */
typedef const struct vlist *(*expr_list_resolver)(void *ctx, const char *name);

struct expr_error {
	size_t	offset;		/* 0-based byte offset of the offending token in src */
	char	msg[256];	/* e.g. "expected an operand after 'and', found ')'" */
};

/*
 * expr_compile: parse src (NUL-terminated). On success returns a tree the
 * caller frees with expr_free. On error returns NULL and fills *err with the
 * offset of the offending token and a message naming it (e.g.
 * "unexpected ')'", "unknown list $vip", "unterminated string",
 * "invalid regular expression '(': parentheses not balanced").
 * resolver may be NULL (then any $list is an error). The compiled tree
 * keeps pointers to the resolved lists: they must outlive it.
 */
struct expr	*expr_compile(const char *src, expr_list_resolver resolver,
		    void *rctx, struct expr_error *err);
void		 expr_free(struct expr *);

/* expr_eval: evaluate against fields read through lookup. No allocation. */
bool		 expr_eval(const struct expr *, lookup_fn lookup, void *ctx);

/*
 * expr_explain: evaluate as expr_eval does and append to out (always
 * NUL-terminated) why the result is what it is, quoting the source: when
 * false, the parts that made it false with the values of the fields they
 * read ("'nps <= 6' is false (nps = 8)", "'exists(nps)' is false (nps is
 * missing)"; for "and" the first false term, for "or" every term); when
 * true, "'SRC' holds (fields)". Values are cut at 60 bytes, control
 * characters shown as '?'. Returns the result. For "recoveryctl explain".
 */
struct buf;
bool		 expr_explain(const struct expr *, lookup_fn lookup, void *ctx,
		    struct buf *out);

/* expr_foreach_path: call cb for each field path the expression reads
 * (in source order), with its byte offset in the source. Used by the
 * configuration checker to warn about unknown fields. */
typedef void (*expr_path_cb)(void *ctx, const char *path, size_t offset);
void		 expr_foreach_path(const struct expr *, expr_path_cb cb,
		    void *ctx);

/*
 * expr_numeric_rpn: append the expression as a reverse Polish program over
 * the two numbers "value" (v) and "samples" (s), for evaluation inside a
 * Redis script (an aggregate's alert_if must be decided atomically with
 * its window). Tokens are space-separated: v, s, numbers, == != < <= > >=,
 * and, or, not. A bare operand x becomes "x 0 !=". Returns -1 (appending
 * nothing) if the expression uses anything else (strings, lists, regexes,
 * exists, other fields).
 */
struct buf;
int		 expr_numeric_rpn(const struct expr *, struct buf *out);

/*
 * expr_guard: a conjunct the whole expression needs, of the form
 * "path == literal", "literal == path" or "path in [literals]" / "path in
 * $list" (text and number literals only), found among the top-level "and"
 * terms: the expression can only hold for an event whose field path
 * value_equal()s one of vals. The rule index (rindex.h) files rules under
 * such values. Returns false, with *g zeroed, when there is none. The
 * pointers borrow from the compiled expression. O(size of the tree).
 */
struct expr_guard {
	const char		*path;
	const struct value	*vals;
	size_t			 nvals;
};
bool		 expr_guard(const struct expr *, struct expr_guard *g);

/* expr_valid_path: true if s is a syntactically valid field path
 * (shared with templates and "by:" keys). */
bool		 expr_valid_path(const char *s);

#endif
