/*
 * value.h — the one value type that events, lists, expressions and
 * templates share.
 *
 * A value keeps its text (always NUL-terminated, also for numbers and
 * booleans, so templates render exactly what the producer sent) and its
 * numeric and boolean interpretations, computed once when the value is made:
 * "a number-looking string compares numerically".
 *
 * Values never own memory: s and items point into an event's arena or into
 * the configuration.
 */
#ifndef RECOVERYD_VALUE_H
#define RECOVERYD_VALUE_H

#include <stdbool.h>
#include <stddef.h>

enum value_kind {
	V_MISSING = 0,	/* no such field */
	V_STR,		/* text (may also look like a number or a boolean) */
	V_NUM,		/* a JSON number */
	V_BOOL,		/* a JSON true/false */
	V_NULL,		/* JSON null; behaves as missing in comparisons */
	V_LIST		/* JSON array or configuration list */
};

struct value {
	enum value_kind		 kind;
	const char		*s;	/* text form, NUL-terminated; for V_LIST the JSON text or "" */
	size_t			 len;
	double			 num;	/* valid when has_num */
	bool			 has_num;
	bool			 b;	/* valid when has_bool */
	bool			 has_bool;
	const struct value	*items;	/* V_LIST elements (scalars) */
	size_t			 nitems;
};

/* value_str: a V_STR over s[0..len) (s must be NUL-terminated at len),
 * with has_num (parse_number) and has_bool (true/false/yes/no/1/0) set. */
struct value	value_str(const char *s, size_t len);
/* value_num: a V_NUM; text is the caller's s (e.g. the JSON source text). */
struct value	value_num(double n, const char *s, size_t len);
/* value_bool: a V_BOOL with text "true"/"false" (static strings). */
struct value	value_bool(bool b);

/*
 * value_equal: the equality of the expression language.
 *  - either side missing/null: false (callers handle "missing" first);
 *  - both have a numeric interpretation: numbers compare (1 == "1.0");
 *  - one side is a V_BOOL (literal or JSON) and the other has a boolean
 *    interpretation: booleans compare ("yes" == true);
 *  - otherwise: byte-exact text comparison.
 */
bool	value_equal(const struct value *, const struct value *);
/*
 * value_compare: ordering for < <= > >=. Returns false when the two are not
 * comparable (a missing side, a number against non-numeric text, a list);
 * else sets *cmp to <0, 0, >0. Two numeric values compare as numbers; two
 * non-numeric texts compare bytewise (strcmp order).
 */
bool	value_compare(const struct value *, const struct value *, int *cmp);
/* value_truthy: a bare operand used as a condition: a boolean
 * interpretation if it has one, else a number != 0, else non-empty text,
 * a non-empty list. Missing and null are false. */
bool	value_truthy(const struct value *);

/* A named list from the configuration's "lists:" ($name in expressions). */
struct vlist {
	char		*name;
	struct value	*items;	/* texts owned by the list */
	size_t		 n;
	const char	*file;	/* where it was defined */
	int		 line, col;
};

/*
 * lookup_fn — how expressions and templates read fields. path is a dotted
 * path ("customer.tier"), NUL-terminated. Returns true and fills *out when
 * the field exists, false otherwise. Implementations must not allocate.
 */
typedef bool (*lookup_fn)(void *ctx, const char *path, struct value *out);

#endif
