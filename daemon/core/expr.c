/*
 * expr.c — the rule expression language of docs/configuration.md (see expr.h
 * for the grammar and the semantics).
 *
 * An expression is compiled once, when the configuration is loaded, by a
 * small on-demand tokenizer and a recursive-descent parser into a tree of
 * nodes: "and"/"or" are n-ary (so a long chain does not make a deep tree),
 * "not" has one child, and the leaves are comparisons, bare operands and
 * exists(path). Everything that can be decided at load time is decided
 * there: string escapes are decoded, numbers converted, $lists resolved,
 * regular expressions compiled, and operand shapes checked ("in" needs a
 * list, "matches" a string literal). Evaluation then only reads fields
 * through the caller's lookup function and never allocates.
 *
 * The parser stops at the first error and reports the byte offset of the
 * offending token with a message that quotes it, so the configuration
 * checker can print FILE:LINE:COLUMN. Input length (4096 bytes) and nesting
 * depth (64 levels of "not" and parentheses) are capped so that hostile or
 * fuzzed input cannot exhaust the stack.
 */
#include <sys/types.h>

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "util.h"

#define EXPR_MAX_LEN	4096
#define EXPR_MAX_DEPTH	64
#define QUOTE_MAX	40	/* token text quoted in messages is cut here */
#define RE_MAX_GROUPS	256	/* see regex_cost() */
#define RE_MAX_COST	100000

/*
 * Tokens. The comparison operators come first, in the order of op_names,
 * so that a token kind doubles as the operator of a comparison node;
 * T_NOTIN is never lexed ("not" "in" are two tokens).
 */
enum tok_kind {
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_IN, T_NOTIN,
	T_CONTAINS, T_STARTSWITH, T_MATCHES,
	T_END, T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA,
	T_AND, T_OR, T_NOT, T_TRUE, T_FALSE, T_EXISTS,
	T_NUM, T_STR, T_PATH, T_LIST
};

struct tok {
	enum tok_kind	 kind;
	size_t		 off;	/* first byte in the source */
	size_t		 len;	/* bytes of source text, quotes included */
};

static const struct {
	const char	*word;
	enum tok_kind	 kind;
} keywords[] = {
	{ "and", T_AND }, { "or", T_OR }, { "not", T_NOT }, { "in", T_IN },
	{ "contains", T_CONTAINS }, { "startswith", T_STARTSWITH },
	{ "matches", T_MATCHES }, { "true", T_TRUE }, { "false", T_FALSE },
	{ "exists", T_EXISTS },
};

static const char *const op_names[] = {
	"==", "!=", "<", "<=", ">", ">=", "in", "not in",
	"contains", "startswith", "matches"
};

enum operand_kind { O_NONE, O_PATH, O_LIT, O_LIST };

/*
 * One side of a comparison. O_LIT and O_LIST are values fixed at load time
 * (v); a $list's v points at the list's items (borrowed), a list literal's
 * at items and texts owned here.
 */
struct operand {
	enum operand_kind	 kind;
	size_t			 off;
	char			*path;	/* O_PATH */
	char			*text;	/* O_LIT: the text v.s points to */
	struct value		 v;	/* O_LIT; O_LIST: a V_LIST */
	struct value		*items;	/* list literal */
	char			**texts; /* list literal: texts of items */
	size_t			 n;
};

enum node_kind { N_OR, N_AND, N_NOT, N_CMP, N_BARE, N_EXISTS };

struct node {
	enum node_kind	 kind;
	struct node	**kids;		/* N_OR, N_AND; N_NOT uses kids[0] */
	size_t		 nkids;
	enum tok_kind	 op;		/* N_CMP: T_EQ .. T_MATCHES */
	struct operand	 lhs;		/* N_CMP, N_BARE; N_EXISTS: the path */
	struct operand	 rhs;		/* N_CMP */
	regex_t		 re;		/* T_MATCHES */
	int		 has_re;
	size_t		 off, end;	/* its source text: src[off, end) */
};

struct expr {
	struct node	*root;
	char		*src;		/* for expr_explain's quotes */
};

struct parser {
	const char		*src;
	struct tok		 tok;	/* current token */
	size_t			 prev_end; /* end of the token before it */
	int			 depth;
	int			 failed;
	expr_list_resolver	 resolver;
	void			*rctx;
	struct expr_error	*err;
};

static struct node *parse_chain(struct parser *, const char *,
		    enum tok_kind);

/* Character classes of the tokenizer, independent of the locale. */
#define is_digit(c)	((c) >= '0' && (c) <= '9')
#define is_alpha_(c)	(((c) >= 'a' && (c) <= 'z') || \
			 ((c) >= 'A' && (c) <= 'Z') || (c) == '_')
#define is_segchar(c)	(is_alpha_(c) || is_digit(c) || (c) == '-')

/* keyword: the keyword token for s[0..len), or T_END if it is none. */
static enum tok_kind
keyword(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(keywords); i++)
		if (strlen(keywords[i].word) == len &&
		    memcmp(keywords[i].word, s, len) == 0)
			return keywords[i].kind;
	return T_END;
}

/*
 * fail: record the first error at byte offset off and return NULL, so a
 * parse function can "return fail(...)". Later errors are ignored.
 */
static void * __attribute__((format(printf, 3, 4)))
fail(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return NULL;
	p->failed = 1;
	p->err->offset = off;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return NULL;
}

/*
 * quote: s[0..len) for a message, control bytes replaced by '?' and cut
 * at QUOTE_MAX bytes with "...". out must hold QUOTE_MAX + 4 bytes.
 */
static const char *
quote(const char *s, size_t len, char *out)
{
	size_t i, n = len > QUOTE_MAX ? QUOTE_MAX : len;

	for (i = 0; i < n; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ?
		    '?' : s[i];
	if (n < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* describe: a token as a message names it: 'x', string "x", end of
 * expression. out must hold at least QUOTE_MAX + 16 bytes. */
static const char *
describe(const struct parser *p, const struct tok *t, char *out, size_t cap)
{
	char q[QUOTE_MAX + 4];

	quote(p->src + t->off, t->len, q);
	if (t->kind == T_END)
		snprintf(out, cap, "end of expression");
	else if (t->kind == T_STR)
		snprintf(out, cap, "string %s", q);
	else
		snprintf(out, cap, "'%s'", q);
	return out;
}

static void *
fail_found(struct parser *p, const char *what)
{
	char d[QUOTE_MAX + 16];

	return fail(p, p->tok.off, "%s, found %s", what,
	    describe(p, &p->tok, d, sizeof(d)));
}

/*
 * Tokenizer. lex() scans the token starting at or after pos into p->tok;
 * it validates numbers, paths and string escapes so the parser can trust
 * token text. Returns 0 on error (recorded with fail()).
 */
static int
settok(struct parser *p, enum tok_kind kind, size_t len)
{
	p->tok.kind = kind;
	p->tok.len = len;
	return 1;
}

static int
lex_string(struct parser *p, size_t pos)
{
	const char *s = p->src;
	size_t i;
	char c;

	for (i = pos + 1; s[i] != s[pos]; i++) {
		if (s[i] == '\0' || (s[i] == '\\' && s[i + 1] == '\0'))
			return fail(p, pos, "unterminated string"), 0;
		if (s[i] != '\\')
			continue;
		c = s[++i];
		if (c == '\\' || c == '\'' || c == '"' || c == 'n' || c == 't')
			continue;
		if (c > 0x20 && c < 0x7f)
			fail(p, i - 1, "unknown escape '\\%c' in string", c);
		else
			fail(p, i - 1, "unknown escape in string");
		return 0;
	}
	return settok(p, T_STR, i + 1 - pos);
}

static int
lex_number(struct parser *p, size_t pos)
{
	const char *s = p->src;
	char q[QUOTE_MAX + 4];
	size_t i = pos, j;
	int ok = 1;

	for (i += s[i] == '-'; is_digit(s[i]); i++)
		;
	if (s[i] == '.') {
		ok = is_digit(s[i + 1]);
		for (i++; is_digit(s[i]); i++)
			;
	}
	if (ok && (s[i] == 'e' || s[i] == 'E')) {
		j = i + 1 + (s[i + 1] == '+' || s[i + 1] == '-');
		ok = is_digit(s[j]);
		for (i = j; is_digit(s[i]); i++)
			;
	}
	if (ok && !is_segchar(s[i]) && s[i] != '.')
		return settok(p, T_NUM, i - pos);
	while (is_segchar(s[i]) || s[i] == '.' || s[i] == '+')
		i++;
	return fail(p, pos, "invalid number '%s'", quote(s + pos, i - pos, q)),
	    0;
}

/* lex_word: a keyword or a dotted path. A keyword ends at its first
 * segment, so "in.x" is the keyword "in" followed by a stray '.'. */
static int
lex_word(struct parser *p, size_t pos)
{
	const char *s = p->src;
	char q[QUOTE_MAX + 4];
	size_t i = pos + 1;
	enum tok_kind k;

	while (is_segchar(s[i]))
		i++;
	if ((k = keyword(s + pos, i - pos)) != T_END)
		return settok(p, k, i - pos);
	while (s[i] == '.' && is_alpha_(s[i + 1]))
		for (i += 2; is_segchar(s[i]); i++)
			;
	if (s[i] != '.')
		return settok(p, T_PATH, i - pos);
	while (s[i] == '.' || is_segchar(s[i]))
		i++;
	return fail(p, pos, "invalid field path '%s'",
	    quote(s + pos, i - pos, q)), 0;
}

static int
lex(struct parser *p, size_t pos)
{
	static const char singles[] = "()[],";
	static const enum tok_kind single_kinds[] = {
		T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA
	};
	const char *s = p->src, *sp;
	unsigned char c;
	int eq;

	while (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' ||
	    s[pos] == '\r')
		pos++;
	p->tok.off = pos;
	c = (unsigned char)s[pos];
	if (c == '\0')
		return settok(p, T_END, 0);
	eq = s[pos + 1] == '=';
	if ((sp = strchr(singles, c)) != NULL)
		return settok(p, single_kinds[sp - singles], 1);
	switch (c) {
	case '<':
		return settok(p, eq ? T_LE : T_LT, 1 + eq);
	case '>':
		return settok(p, eq ? T_GE : T_GT, 1 + eq);
	case '=':
		if (eq)
			return settok(p, T_EQ, 2);
		return fail(p, pos, "unknown operator '='; did you mean "
		    "'=='?"), 0;
	case '!':
		if (eq)
			return settok(p, T_NE, 2);
		return fail(p, pos, "unknown operator '!'; did you mean "
		    "'!=' or 'not'?"), 0;
	case '&':
	case '|':
		if (s[pos + 1] == c)
			return fail(p, pos, "unknown operator '%c%c'; did you "
			    "mean '%s'?", c, c, c == '&' ? "and" : "or"), 0;
		break;
	case '\'':
	case '"':
		return lex_string(p, pos);
	case '$':
		if (!is_alpha_(s[pos + 1]))
			return fail(p, pos, "expected a list name after "
			    "'$'"), 0;
		for (pos++; is_segchar(s[pos]); pos++)
			;
		return settok(p, T_LIST, pos - p->tok.off);
	}
	if (is_digit(c) || (c == '-' && is_digit(s[pos + 1])))
		return lex_number(p, pos);
	if (is_alpha_(c))
		return lex_word(p, pos);
	if (c > 0x20 && c < 0x7f)
		return fail(p, pos, "unexpected character '%c'", c), 0;
	return fail(p, pos, "unexpected byte 0x%02x", c), 0;
}

/* advance: move past the current token. Returns 0 on a lexical error. */
static int
advance(struct parser *p)
{
	p->prev_end = p->tok.off + p->tok.len;
	return lex(p, p->tok.off + p->tok.len);
}

/* expect: the current token must be kind (else "what, found X"); skip it. */
static int
expect(struct parser *p, enum tok_kind kind, const char *what)
{
	if (p->tok.kind != kind)
		return fail_found(p, what), 0;
	return advance(p);
}

static void
operand_free(struct operand *o)
{
	size_t i;

	free(o->path);
	free(o->text);
	for (i = 0; i < o->n; i++)
		free(o->texts[i]);
	free(o->texts);
	free(o->items);
}

static void
node_free(struct node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	operand_free(&n->lhs);
	operand_free(&n->rhs);
	if (n->has_re)
		regfree(&n->re);
	free(n);
}

static struct node *
node_new(enum node_kind kind, struct node *kid)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	if (kid != NULL) {
		n->kids = xmalloc(sizeof(*n->kids));
		n->kids[n->nkids++] = kid;
	}
	return n;
}

/*
 * literal: decode the current number, string, true or false token into
 * *v, with the text it points to malloc'ed into *text (NULL for booleans).
 * Returns 0 if the number is out of range.
 */
static int
literal(struct parser *p, struct value *v, char **text)
{
	const char *s = p->src + p->tok.off;
	size_t i, n = 0;
	char *t, q[QUOTE_MAX + 4];
	double d;

	*text = NULL;
	if (p->tok.kind == T_TRUE || p->tok.kind == T_FALSE) {
		*v = value_bool(p->tok.kind == T_TRUE);
		return 1;
	}
	if (p->tok.kind == T_NUM) {
		t = xstrndup(s, p->tok.len);
		if (!isfinite(d = strtod(t, NULL))) {
			free(t);
			return fail(p, p->tok.off, "number out of range "
			    "'%s'", quote(s, p->tok.len, q)), 0;
		}
		*v = value_num(d, t, p->tok.len);
		*text = t;
		return 1;
	}
	/* A string; the tokenizer checked its escapes. */
	t = xmalloc(p->tok.len);
	for (i = 1; i + 1 < p->tok.len; i++) {
		if (s[i] != '\\')
			t[n++] = s[i];
		else if (s[++i] == 'n' || s[i] == 't')
			t[n++] = s[i] == 'n' ? '\n' : '\t';
		else
			t[n++] = s[i];
	}
	t[n] = '\0';
	*v = value_str(t, n);
	*text = t;
	return 1;
}

static void
set_list(struct operand *o, const struct value *items, size_t n)
{
	o->kind = O_LIST;
	o->v.kind = V_LIST;
	o->v.s = "";
	o->v.items = items;
	o->v.nitems = n;
}

/* parse_list: a list literal [lit, ...]; the current token is '['. */
static int
parse_list(struct parser *p, struct operand *o)
{
	struct value v;
	char *text;

	if (!advance(p))
		return 0;
	while (p->tok.kind != T_RBRACK || o->n > 0) {
		switch (p->tok.kind) {
		case T_NUM: case T_STR: case T_TRUE: case T_FALSE:
			break;
		case T_PATH: case T_LIST: case T_LBRACK: case T_EXISTS:
			return fail_found(p, "list elements must be literals"),
			    0;
		default:
			return fail_found(p, o->n == 0 ?
			    "expected a value or ']' in list" :
			    "expected a value after ',' in list"), 0;
		}
		if (!literal(p, &v, &text))
			return 0;
		o->items = xreallocarray(o->items, o->n + 1, sizeof(*o->items));
		o->texts = xreallocarray(o->texts, o->n + 1, sizeof(*o->texts));
		o->items[o->n] = v;
		o->texts[o->n++] = text;
		if (!advance(p))
			return 0;
		if (p->tok.kind == T_RBRACK)
			break;
		if (!expect(p, T_COMMA, "expected ',' or ']' in list"))
			return 0;
	}
	set_list(o, o->items, o->n);
	return advance(p);
}

/*
 * parse_operand: one operand into *o. what/after word the error when the
 * current token cannot start one ("expected a value after '<='").
 */
static int
parse_operand(struct parser *p, struct operand *o, const char *what,
    const char *after)
{
	const struct vlist *l = NULL;
	char msg[64], *name;
	size_t off = p->tok.off, len = p->tok.len;

	o->off = off;
	switch (p->tok.kind) {
	case T_PATH:
		o->kind = O_PATH;
		o->path = xstrndup(p->src + off, len);
		break;
	case T_NUM: case T_STR: case T_TRUE: case T_FALSE:
		o->kind = O_LIT;
		if (!literal(p, &o->v, &o->text))
			return 0;
		break;
	case T_LBRACK:
		return parse_list(p, o);
	case T_LIST:
		name = xstrndup(p->src + off + 1, len - 1);
		if (p->resolver != NULL)
			l = p->resolver(p->rctx, name);
		free(name);
		if (l == NULL)
			return fail(p, off, "unknown list $%.*s",
			    (int)(len > 64 ? 64 : len - 1), p->src + off + 1),
			    0;
		set_list(o, l->items, l->n);
		break;
	default:
		snprintf(msg, sizeof(msg), "expected %s%s%s%s", what,
		    after ? " after '" : "", after ? after : "",
		    after ? "'" : "");
		return fail_found(p, msg), 0;
	}
	return advance(p);
}

/*
 * regex_check: refuse patterns that would make regcomp exhaust memory at
 * load time; returns why, or NULL. glibc copies the operand of +, ? and
 * {m,n}, and an optional range {m,n} costs about quadratically in n - m,
 * so a short pattern can need gigabytes. Refused: adjacent repetition
 * operators ("a++", "a{2}{2}", undefined in POSIX and exponential in
 * glibc), counts over 255 (POSIX's RE_DUP_MAX minimum), and patterns whose
 * estimated size exceeds RE_MAX_COST, where an atom counts 1, a group or
 * alternation the sum of its parts, and a repetition multiplies what it
 * repeats. Otherwise invalid patterns are left for regcomp to report.
 */
static const char *
regex_check(const char *re)
{
	double sum[RE_MAX_GROUPS], last[RE_MAX_GROUPS], m, hi;
	const char *s, *b;
	char *end;
	int d = 0, rep = 0;	/* rep: the previous item was a repetition */

	sum[0] = last[0] = 0;
	for (s = re; *s != '\0'; s++) {
		switch (*s) {
		case '{':
			/* {m}, {m,}, {m,n} and glibc's {,n}; bounds are
			 * capped so that long digit strings stay finite. */
			for (m = 0, b = s + 1; is_digit(*b); b++)
				m = m < 1e7 ? m * 10 + (*b - '0') : m;
			hi = 0;
			if (*b == ',')
				for (b++; is_digit(*b); b++)
					hi = hi < 1e7 ? hi * 10 + (*b - '0') : hi;
			if (*b != '}' || b == s + 1)
				break;
			if (rep)
				return "adjacent repetition operators";
			if (m > 255 || hi > 255)
				return "repetition count over 255";
			last[d] *= m + 1 + 4 * (hi > m ? hi - m : 0);
			s = b;
			rep = 1;
			continue;
		case '*': case '+': case '?':
			if (rep)
				return "adjacent repetition operators";
			last[d] *= 2;
			rep = 1;
			continue;
		case '(':
			if (++d == RE_MAX_GROUPS)
				return "too complex";
			sum[d] = last[d] = 0;
			rep = 0;
			continue;
		case ')':
		case '|':
			if (*s == ')' && d == 0)
				break;
			sum[d] += last[d];
			last[d] = 0;
			if (*s == ')') {
				m = sum[d--];
				sum[d] += last[d];
				last[d] = m;
			}
			rep = 0;
			continue;
		case '\\':
			s += s[1] != '\0';
			break;
		case '[':
			/* A bracket expression is one atom: skip to its ']'. */
			b = s + 1 + (s[1] == '^');
			for (b += *b == ']'; *b != '\0' && *b != ']'; b++)
				if (*b == '[' && (b[1] == ':' || b[1] == '.' ||
				    b[1] == '=') && (end = strchr(b + 2, ']')))
					b = end;
			s = *b == '\0' ? b - 1 : b;
			break;
		}
		sum[d] += last[d];
		last[d] = 1;
		rep = 0;
	}
	for (m = 0; d >= 0; d--)
		m += sum[d] + last[d];
	return m > RE_MAX_COST ? "too complex" : NULL;
}

/*
 * check_cmp: load-time checks of a comparison's operand shapes; compiles
 * the regular expression of "matches". optok is the operator token, rtok
 * the first token of the right operand.
 */
static int
check_cmp(struct parser *p, struct node *n, const struct tok *optok,
    const struct tok *rtok)
{
	const char *name = op_names[n->op];
	char d[QUOTE_MAX + 16], q[QUOTE_MAX + 4], ebuf[128];
	const char *why;
	int rc;

	if (n->lhs.kind == O_LIST && n->op != T_CONTAINS)
		return fail(p, optok->off, "a list on the left needs "
		    "'contains', found '%s'", name), 0;
	describe(p, rtok, d, sizeof(d));
	if (n->op == T_IN || n->op == T_NOTIN) {
		if (n->rhs.kind == O_LIT)
			return fail(p, rtok->off, "'%s' needs a list on the "
			    "right, found %s", name, d), 0;
		return 1;
	}
	if (n->op == T_MATCHES) {
		if (n->rhs.kind != O_LIT || n->rhs.v.kind != V_STR)
			return fail(p, rtok->off, "'matches' needs a string "
			    "literal on the right, found %s", d), 0;
		quote(n->rhs.text, n->rhs.v.len, q);
		if ((why = regex_check(n->rhs.text)) != NULL)
			return fail(p, rtok->off, "invalid regular expression "
			    "'%s': %s", q, why), 0;
		rc = regcomp(&n->re, n->rhs.text, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			regerror(rc, &n->re, ebuf, sizeof(ebuf));
			return fail(p, rtok->off, "invalid regular expression "
			    "'%s': %s", q, ebuf), 0;
		}
		n->has_re = 1;
	} else if (n->rhs.kind == O_LIST)
		return fail(p, rtok->off, "'%s' needs a single value on the "
		    "right, found %s; use 'in' for a list", name, d), 0;
	return 1;
}

/* parse_cmp: operand [op operand] | exists(path). */
static struct node *
parse_cmp(struct parser *p, const char *after)
{
	struct node *n = node_new(N_BARE, NULL);
	struct tok optok, rtok;

	n->off = p->tok.off;
	if (p->tok.kind == T_EXISTS) {
		n->kind = N_EXISTS;
		if (!advance(p) ||
		    !expect(p, T_LPAREN, "expected '(' after 'exists'"))
			goto bad;
		if (p->tok.kind != T_PATH) {
			fail_found(p, "expected a field path in exists()");
			goto bad;
		}
		if (!parse_operand(p, &n->lhs, "a field path", NULL) ||
		    !expect(p, T_RPAREN, "expected ')' to close 'exists('"))
			goto bad;
		n->end = p->prev_end;
		return n;
	}
	if (!parse_operand(p, &n->lhs, "an operand", after))
		goto bad;
	optok = p->tok;
	if (p->tok.kind == T_NOT) {
		if (!advance(p))
			goto bad;
		if (p->tok.kind != T_IN) {
			fail_found(p, "expected 'in' after 'not'");
			goto bad;
		}
		p->tok.kind = T_NOTIN;
	}
	if (p->tok.kind > T_MATCHES) {
		n->end = p->prev_end;
		return n;
	}
	n->kind = N_CMP;
	n->op = p->tok.kind;
	if (!advance(p))
		goto bad;
	rtok = p->tok;
	if (!parse_operand(p, &n->rhs, "a value", op_names[n->op]) ||
	    !check_cmp(p, n, &optok, &rtok))
		goto bad;
	n->end = p->prev_end;
	return n;
bad:
	node_free(n);
	return NULL;
}

/* parse_unary: "not" unary | "(" expr ")" | cmp, nesting bounded. */
static struct node *
parse_unary(struct parser *p, const char *after)
{
	struct node *n;
	size_t off = p->tok.off;

	if (p->tok.kind != T_NOT && p->tok.kind != T_LPAREN)
		return parse_cmp(p, after);
	if (++p->depth > EXPR_MAX_DEPTH)
		return fail(p, p->tok.off, "expression nested too deeply");
	if (p->tok.kind == T_NOT) {
		if (!advance(p) || (n = parse_unary(p, "not")) == NULL)
			return NULL;
		n = node_new(N_NOT, n);
	} else {
		if (!advance(p) || (n = parse_chain(p, "(", T_OR)) == NULL)
			return NULL;
		if (!expect(p, T_RPAREN, "expected ')' to close '('")) {
			node_free(n);
			return NULL;
		}
	}
	n->off = off;
	n->end = p->prev_end;
	p->depth--;
	return n;
}

/*
 * parse_chain: unary ("and" unary)* when sep is T_AND, and ("or" and)*
 * when it is T_OR. The node is n-ary, so a long chain stays shallow.
 */
static struct node *
parse_chain(struct parser *p, const char *after, enum tok_kind sep)
{
	struct node *n, *kid;
	const char *word = sep == T_AND ? "and" : "or";

	for (n = NULL;; after = word) {
		kid = sep == T_AND ? parse_unary(p, after) :
		    parse_chain(p, after, T_AND);
		if (kid == NULL) {
			node_free(n);
			return NULL;
		}
		if (n == NULL && p->tok.kind != sep)
			return kid;
		if (n == NULL) {
			n = node_new(sep == T_AND ? N_AND : N_OR, kid);
			n->off = kid->off;
		} else {
			n->kids = xreallocarray(n->kids, n->nkids + 1,
			    sizeof(*n->kids));
			n->kids[n->nkids++] = kid;
		}
		n->end = p->prev_end;
		if (p->tok.kind != sep)
			return n;
		if (!advance(p)) {
			node_free(n);
			return NULL;
		}
	}
}

struct expr *
expr_compile(const char *src, expr_list_resolver resolver, void *rctx,
    struct expr_error *err)
{
	struct parser p;
	struct node *root;
	struct expr *e;
	char d[QUOTE_MAX + 16];

	memset(err, 0, sizeof(*err));
	memset(&p, 0, sizeof(p));
	p.src = src;
	p.resolver = resolver;
	p.rctx = rctx;
	p.err = err;
	if (strnlen(src, EXPR_MAX_LEN + 1) > EXPR_MAX_LEN)
		return fail(&p, 0, "expression too long (over %d bytes)",
		    EXPR_MAX_LEN);
	if (!lex(&p, 0))
		return NULL;
	if (p.tok.kind == T_END)
		return fail(&p, 0, "empty expression");
	if ((root = parse_chain(&p, NULL, T_OR)) == NULL)
		return NULL;
	if (p.tok.kind != T_END) {
		if (p.tok.kind == T_RPAREN)
			fail(&p, p.tok.off, "unexpected ')' without a "
			    "matching '('");
		else
			fail(&p, p.tok.off, "unexpected %s after a complete "
			    "expression", describe(&p, &p.tok, d, sizeof(d)));
		node_free(root);
		return NULL;
	}
	e = xmalloc(sizeof(*e));
	e->root = root;
	e->src = xstrdup(src);
	return e;
}

void
expr_free(struct expr *e)
{
	if (e == NULL)
		return;
	node_free(e->root);
	free(e->src);
	free(e);
}

/*
 * Evaluation. Operands become struct values on the stack: a path through
 * lookup (V_MISSING when absent), literals and lists as compiled.
 */
static void
operand_value(const struct operand *o, lookup_fn lookup, void *ctx,
    struct value *out)
{
	if (o->kind != O_PATH)
		*out = o->v;
	else if (!lookup(ctx, o->path, out)) {
		memset(out, 0, sizeof(*out));
		out->kind = V_MISSING;
	}
}

static int
absent(const struct value *v)
{
	return v->kind == V_MISSING || v->kind == V_NULL;
}

/* has_text: a scalar whose text the string operators can look at. */
static int
has_text(const struct value *v)
{
	return !absent(v) && v->kind != V_LIST && v->s != NULL;
}

static bool
list_has(const struct value *list, const struct value *x)
{
	size_t i;

	if (list->kind != V_LIST)
		return false;
	for (i = 0; i < list->nitems; i++)
		if (value_equal(&list->items[i], x))
			return true;
	return false;
}

/* text_contains: b[0..blen) occurs in a[0..alen). O(alen * blen). */
static bool
text_contains(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	for (i = 0; i + blen <= alen; i++)
		if (memcmp(a + i, b, blen) == 0)
			return true;
	return false;
}

/* eval_cmp: a comparison; false whenever a side is missing or null. */
static bool
eval_cmp(const struct node *n, lookup_fn lookup, void *ctx)
{
	struct value a, b;
	int c;

	operand_value(&n->lhs, lookup, ctx, &a);
	operand_value(&n->rhs, lookup, ctx, &b);
	if (absent(&a) || absent(&b))
		return false;
	switch (n->op) {
	case T_EQ:
		return value_equal(&a, &b);
	case T_NE:
		return !value_equal(&a, &b);
	case T_LT: case T_LE: case T_GT: case T_GE:
		if (!value_compare(&a, &b, &c))
			return false;
		return n->op == T_LT ? c < 0 : n->op == T_LE ? c <= 0 :
		    n->op == T_GT ? c > 0 : c >= 0;
	case T_IN:
		return list_has(&b, &a);
	case T_NOTIN:
		return b.kind == V_LIST && !list_has(&b, &a);
	case T_CONTAINS:
		if (a.kind == V_LIST)
			return list_has(&a, &b);
		return has_text(&a) && has_text(&b) &&
		    text_contains(a.s, a.len, b.s, b.len);
	case T_STARTSWITH:
		return has_text(&a) && has_text(&b) && b.len <= a.len &&
		    memcmp(a.s, b.s, b.len) == 0;
	case T_MATCHES:
		return has_text(&a) && regexec(&n->re, a.s, 0, NULL, 0) == 0;
	default:
		return false;
	}
}

static bool
eval_node(const struct node *n, lookup_fn lookup, void *ctx)
{
	struct value v;
	size_t i;

	switch (n->kind) {
	case N_OR:
		for (i = 0; i < n->nkids; i++)
			if (eval_node(n->kids[i], lookup, ctx))
				return true;
		return false;
	case N_AND:
		for (i = 0; i < n->nkids; i++)
			if (!eval_node(n->kids[i], lookup, ctx))
				return false;
		return true;
	case N_NOT:
		return !eval_node(n->kids[0], lookup, ctx);
	case N_CMP:
		return eval_cmp(n, lookup, ctx);
	case N_BARE:
		operand_value(&n->lhs, lookup, ctx, &v);
		return value_truthy(&v);
	case N_EXISTS:
		operand_value(&n->lhs, lookup, ctx, &v);
		return !absent(&v);
	}
	return false;
}

bool
expr_eval(const struct expr *e, lookup_fn lookup, void *ctx)
{
	return eval_node(e->root, lookup, ctx);
}

/*
 * Explaining. A value is shown as its text, cut at EXPLAIN_VALUE_MAX
 * bytes (on a UTF-8 boundary) with control characters as '?', since it
 * comes from an event and goes to a terminal.
 */
#define EXPLAIN_VALUE_MAX	60

static void
explain_value(struct buf *out, const char *path, const struct value *v)
{
	size_t i, n;

	buf_puts(out, path);
	if (v->kind == V_MISSING) {
		buf_puts(out, " is missing");
		return;
	}
	if (v->kind == V_NULL || v->s == NULL) {
		buf_puts(out, " is null");
		return;
	}
	buf_puts(out, " = ");
	n = v->len;
	if (n > EXPLAIN_VALUE_MAX) {
		n = EXPLAIN_VALUE_MAX;
		while (n > 0 && ((unsigned char)v->s[n] & 0xc0) == 0x80)
			n--;
	}
	if (v->kind == V_STR)
		buf_putc(out, '\'');
	for (i = 0; i < n; i++)
		buf_putc(out, (unsigned char)v->s[i] < 0x20 ||
		    v->s[i] == 0x7f ? '?' : v->s[i]);
	if (n < v->len)
		buf_puts(out, "...");
	if (v->kind == V_STR)
		buf_putc(out, '\'');
}

struct explain_ctx {
	lookup_fn	 lookup;
	void		*ctx;
	struct buf	*out;
	size_t		 n;	/* values appended so far */
};

static void
explain_path(void *p, const char *path, size_t off)
{
	struct explain_ctx *x = p;
	struct value v;

	(void)off;
	if (!x->lookup(x->ctx, path, &v)) {
		memset(&v, 0, sizeof(v));
		v.kind = V_MISSING;
	}
	buf_puts(x->out, x->n++ ? ", " : "");
	explain_value(x->out, path, &v);
}

static void	foreach_path(const struct node *, expr_path_cb, void *);

/* explain_values: " (f = 1, g is missing)" for the fields n reads. */
static void
explain_values(const struct node *n, lookup_fn lookup, void *ctx,
    struct buf *out)
{
	struct explain_ctx x = { lookup, ctx, out, 0 };
	size_t len = out->len;

	buf_puts(out, " (");
	foreach_path(n, explain_path, &x);
	if (x.n == 0) {
		out->len = len;
		buf_append(out, "", 0);
	} else
		buf_putc(out, ')');
}

static void
explain_quote(const char *src, const struct node *n, struct buf *out)
{
	buf_putc(out, '\'');
	buf_append(out, src + n->off, n->end - n->off);
	buf_putc(out, '\'');
}

/* explain_false: n evaluated false: the parts that made it so. */
static void
explain_false(const char *src, const struct node *n, lookup_fn lookup,
    void *ctx, struct buf *out)
{
	size_t i;

	switch (n->kind) {
	case N_AND:
		for (i = 0; i < n->nkids; i++)
			if (!eval_node(n->kids[i], lookup, ctx)) {
				explain_false(src, n->kids[i], lookup, ctx,
				    out);
				return;
			}
		break;
	case N_OR:
		for (i = 0; i < n->nkids; i++) {
			if (i > 0)
				buf_puts(out, "; and ");
			explain_false(src, n->kids[i], lookup, ctx, out);
		}
		return;
	case N_NOT:
		explain_quote(src, n, out);
		buf_puts(out, " is false: ");
		explain_quote(src, n->kids[0], out);
		buf_puts(out, " holds");
		explain_values(n->kids[0], lookup, ctx, out);
		return;
	default:
		break;
	}
	explain_quote(src, n, out);
	buf_puts(out, " is false");
	explain_values(n, lookup, ctx, out);
}

bool
expr_explain(const struct expr *e, lookup_fn lookup, void *ctx,
    struct buf *out)
{
	bool r = eval_node(e->root, lookup, ctx);

	buf_append(out, "", 0);
	if (r) {
		explain_quote(e->src, e->root, out);
		buf_puts(out, " holds");
		explain_values(e->root, lookup, ctx, out);
	} else
		explain_false(e->src, e->root, lookup, ctx, out);
	return r;
}

static void
foreach_path(const struct node *n, expr_path_cb cb, void *ctx)
{
	size_t i;

	for (i = 0; i < n->nkids; i++)
		foreach_path(n->kids[i], cb, ctx);
	if (n->lhs.kind == O_PATH)
		cb(ctx, n->lhs.path, n->lhs.off);
	if (n->rhs.kind == O_PATH)
		cb(ctx, n->rhs.path, n->rhs.off);
}

void
expr_foreach_path(const struct expr *e, expr_path_cb cb, void *ctx)
{
	foreach_path(e->root, cb, ctx);
}

/*
 * guard_literal: o is a fixed scalar a rule index can file a rule under:
 * a text or number literal (a boolean compares by truthiness, so it is
 * never a guard).
 */
static bool
guard_literal(const struct operand *o)
{
	return o->kind == O_LIT && (o->v.kind == V_STR || o->v.kind == V_NUM);
}

static bool
guard_list(const struct operand *o)
{
	size_t i;

	if (o->kind != O_LIST || o->v.kind != V_LIST)
		return false;
	for (i = 0; i < o->v.nitems; i++)
		if (o->v.items[i].kind != V_STR && o->v.items[i].kind != V_NUM)
			return false;
	return true;
}

/* find_guard: the first guard among the conjuncts of n (descending into
 * nested "and" only: under "or" or "not" a comparison is no guard). */
static bool
find_guard(const struct node *n, struct expr_guard *g)
{
	size_t i;

	switch (n->kind) {
	case N_AND:
		for (i = 0; i < n->nkids; i++)
			if (find_guard(n->kids[i], g))
				return true;
		return false;
	case N_CMP:
		if (n->op == T_EQ && n->lhs.kind == O_PATH &&
		    guard_literal(&n->rhs)) {
			g->path = n->lhs.path;
			g->vals = &n->rhs.v;
			g->nvals = 1;
			return true;
		}
		if (n->op == T_EQ && n->rhs.kind == O_PATH &&
		    guard_literal(&n->lhs)) {
			g->path = n->rhs.path;
			g->vals = &n->lhs.v;
			g->nvals = 1;
			return true;
		}
		if (n->op == T_IN && n->lhs.kind == O_PATH &&
		    guard_list(&n->rhs)) {
			g->path = n->lhs.path;
			g->vals = n->rhs.v.items;
			g->nvals = n->rhs.v.nitems;
			return true;
		}
		return false;
	default:
		return false;
	}
}

bool
expr_guard(const struct expr *e, struct expr_guard *g)
{
	memset(g, 0, sizeof(*g));
	return e != NULL && e->root != NULL && find_guard(e->root, g);
}

/* expr_valid_path: s is exactly one path token of the tokenizer. */
bool
expr_valid_path(const char *s)
{
	struct expr_error err;
	struct parser p;

	if (s == NULL)
		return false;
	memset(&p, 0, sizeof(p));
	p.src = s;
	p.err = &err;
	return lex(&p, 0) && p.tok.kind == T_PATH && p.tok.off == 0 &&
	    s[p.tok.len] == '\0';
}

/*
 * rpn_operand: a numeric operand as an RPN token: the path names "value"
 * and "samples" become v and s, a numeric literal its number.
 */
static int
rpn_operand(const struct operand *o, struct buf *out)
{
	if (o->kind == O_PATH && strcmp(o->path, "value") == 0)
		buf_puts(out, " v");
	else if (o->kind == O_PATH && strcmp(o->path, "samples") == 0)
		buf_puts(out, " s");
	else if (o->kind == O_LIT && o->v.kind == V_NUM)
		buf_printf(out, " %.17g", o->v.num);
	else
		return -1;
	return 0;
}

static int
rpn_node(const struct node *n, struct buf *out)
{
	static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=" };
	size_t i;

	switch (n->kind) {
	case N_OR:
	case N_AND:
		for (i = 0; i < n->nkids; i++) {
			if (rpn_node(n->kids[i], out) == -1)
				return -1;
			if (i > 0)
				buf_puts(out, n->kind == N_OR ? " or" : " and");
		}
		return 0;
	case N_NOT:
		if (rpn_node(n->kids[0], out) == -1)
			return -1;
		buf_puts(out, " not");
		return 0;
	case N_BARE:
		if (rpn_operand(&n->lhs, out) == -1)
			return -1;
		buf_puts(out, " 0 !=");
		return 0;
	case N_CMP:
		if (n->op > T_GE)
			return -1;
		if (rpn_operand(&n->lhs, out) == -1 ||
		    rpn_operand(&n->rhs, out) == -1)
			return -1;
		buf_printf(out, " %s", ops[n->op]);
		return 0;
	default:
		return -1;
	}
}

int
expr_numeric_rpn(const struct expr *e, struct buf *out)
{
	size_t start = out->len;

	if (e == NULL || e->root == NULL || rpn_node(e->root, out) == -1) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		return -1;
	}
	return 0;
}
