/*
 * template.c — "{{path}}" message templates.
 *
 * A template is compiled once, at configuration load, into a list of
 * segments: literal runs of the source and field paths. Rendering walks the
 * segments and appends to a caller-owned buffer, so the per-alert cost is a
 * lookup per reference and the buffer's growth (none once it is warm).
 *
 * The syntax is deliberately tiny: "{{", optional spaces or tabs, a path as
 * expr_valid_path() defines it, optional spaces, "}}". Anything else is
 * text, including lone braces, so messages may contain JSON-ish snippets.
 * One filter: "{{path | default 'text'}}" renders text (a quoted string,
 * the escapes of expression strings) where the field is missing, null or
 * empty, so a message reads well without optional fields ("no agent").
 * In TMPL_JSON mode the whole rendering (literal text too) is escaped for
 * use inside a JSON string literal, so a template can never break the JSON
 * document it is embedded in.
 *
 * Rendering cannot fail: whatever a lookup answers (no such field, null,
 * a value without text), the reference renders empty, so no caller ever
 * sees a NULL or a partial string. tmpl_fields_save/load keep the fields
 * an escalation step renders over (the case's opening event) as JSON
 * text, since the step runs later, from Redis.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include <jansson.h>

#include "event.h"
#include "expr.h"
#include "template.h"
#include "util.h"
#include "value.h"

struct seg {
	char	*path;		/* NULL for a literal */
	size_t	 off, len;	/* literal: bytes of src; path: offset of it */
	char	*dflt;		/* path: "| default 'text'", else NULL */
	size_t	 dlen;
};

struct tmpl {
	char		*src;
	struct seg	*segs;
	size_t		 nsegs, cap;
};

static void
push(struct tmpl *t, char *path, size_t off, size_t len, char *dflt,
    size_t dlen)
{
	if (path == NULL && len == 0)
		return;
	if (t->nsegs == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 4;
		t->segs = xreallocarray(t->segs, t->cap, sizeof(*t->segs));
	}
	t->segs[t->nsegs].path = path;
	t->segs[t->nsegs].off = off;
	t->segs[t->nsegs].len = len;
	t->segs[t->nsegs].dflt = dflt;
	t->segs[t->nsegs].dlen = dlen;
	t->nsegs++;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * parse_default: p..end is what follows the path inside the braces,
 * "| default 'text'" with optional blanks. On success *out is the text
 * with its escapes resolved (\\ \' \" \n \t, as in expressions).
 */
static int
parse_default(const char *p, const char *end, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	struct buf b;
	char q;

	while (p < end && blank(*p))
		p++;
	if (p == end || *p != '|')
		goto syntax;
	for (p++; p < end && blank(*p); p++)
		;
	if ((size_t)(end - p) < 7 || strncmp(p, "default", 7) != 0) {
		snprintf(err, errlen, "unknown filter '%.*s' in template "
		    "(the only filter is default 'text')",
		    (int)(end - p > 30 ? 30 : end - p), p);
		return -1;
	}
	for (p += 7; p < end && blank(*p); p++)
		;
	if (p == end || (*p != '\'' && *p != '"'))
		goto syntax;
	q = *p++;
	memset(&b, 0, sizeof(b));
	buf_append(&b, "", 0);
	for (; p < end && *p != q; p++) {
		if (*p == '\\' && p + 1 < end) {
			p++;
			switch (*p) {
			case 'n':
				buf_putc(&b, '\n');
				continue;
			case 't':
				buf_putc(&b, '\t');
				continue;
			case '\\':
			case '\'':
			case '"':
				buf_putc(&b, *p);
				continue;
			default:
				buf_free(&b);
				snprintf(err, errlen, "invalid escape '\\%c' in "
				    "a default text", *p);
				return -1;
			}
		}
		buf_putc(&b, *p);
	}
	if (p == end) {
		buf_free(&b);
		snprintf(err, errlen, "unterminated default text in template");
		return -1;
	}
	for (p++; p < end && blank(*p); p++)
		;
	if (p != end) {
		buf_free(&b);
		goto syntax;
	}
	*outlen = b.len;
	*out = b.data;
	return 0;
syntax:
	snprintf(err, errlen, "expected '}}' or '| default 'text'' after "
	    "the field path in template");
	return -1;
}

/*
 * tmpl_compile: the caller owns the result (tmpl_free). On error nothing is
 * leaked and *err_offset is the offset of the "{{" that is wrong.
 */
struct tmpl *
tmpl_compile(const char *src, char *err, size_t errlen, size_t *err_offset)
{
	struct tmpl *t;
	const char *open, *close, *p, *q, *e, *lit;
	char *path, *dflt;
	size_t dlen;

	t = xcalloc(1, sizeof(*t));
	t->src = xstrdup(src);
	lit = t->src;
	while ((open = strstr(lit, "{{")) != NULL) {
		if ((close = strstr(open + 2, "}}")) == NULL) {
			snprintf(err, errlen, "unclosed '{{' (no matching "
			    "'}}')");
			goto fail;
		}
		for (p = open + 2; p < close && blank(*p); p++)
			;
		for (q = close; q > p && blank(q[-1]); q--)
			;
		/* A path ends at a blank or a '|'; a '|' after it starts
		 * the filter (without one, the whole is a bad path). */
		dflt = NULL;
		dlen = 0;
		for (e = p; e < q && !blank(*e) && *e != '|'; e++)
			;
		if (e < q && memchr(e, '|', (size_t)(q - e)) != NULL) {
			if (parse_default(e, q, &dflt, &dlen, err,
			    errlen) == -1)
				goto fail;
			q = e;
		}
		path = xstrndup(p, (size_t)(q - p));
		if (!expr_valid_path(path)) {
			if (q == p)
				snprintf(err, errlen, "empty field reference "
				    "'{{}}'");
			else
				snprintf(err, errlen, "invalid field path "
				    "'%.*s' in template", (int)(q - p > 60 ?
				    60 : q - p), p);
			free(path);
			free(dflt);
			goto fail;
		}
		push(t, NULL, (size_t)(lit - t->src), (size_t)(open - lit),
		    NULL, 0);
		push(t, path, (size_t)(p - t->src), (size_t)(q - p), dflt,
		    dlen);
		lit = close + 2;
	}
	push(t, NULL, (size_t)(lit - t->src), strlen(lit), NULL, 0);
	return t;
fail:
	if (err_offset != NULL)
		*err_offset = (size_t)(open - t->src);
	tmpl_free(t);
	return NULL;
}

void
tmpl_free(struct tmpl *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nsegs; i++) {
		free(t->segs[i].path);
		free(t->segs[i].dflt);
	}
	free(t->segs);
	free(t->src);
	free(t);
}

static void
put(struct buf *out, const char *s, size_t len, enum tmpl_mode mode)
{
	if (mode == TMPL_JSON)
		buf_json_escape(out, s, len);
	else
		buf_append(out, s, len);
}

/*
 * tmpl_render: missing and null fields render empty; a list renders as its
 * JSON text; everything else as the text the producer sent. Allocates only
 * when out must grow.
 */
void
tmpl_render(const struct tmpl *t, lookup_fn lookup, void *ctx,
    enum tmpl_mode mode, struct buf *out)
{
	const struct seg *sg;
	struct value v;
	size_t i;

	/* Guarantee a NUL-terminated buffer even for an empty rendering. */
	buf_append(out, "", 0);
	if (t == NULL)
		return;
	for (i = 0; i < t->nsegs; i++) {
		sg = &t->segs[i];
		if (sg->path == NULL) {
			put(out, t->src + sg->off, sg->len, mode);
			continue;
		}
		memset(&v, 0, sizeof(v));
		if (!lookup(ctx, sg->path, &v) || v.kind == V_MISSING ||
		    v.kind == V_NULL || v.s == NULL || v.len == 0) {
			if (sg->dflt != NULL)
				put(out, sg->dflt, sg->dlen, mode);
			continue;
		}
		put(out, v.s, v.len, mode);
	}
}

const char *
tmpl_source(const struct tmpl *t)
{
	return t->src;
}

bool
tmpl_is_literal(const struct tmpl *t)
{
	size_t i;

	for (i = 0; i < t->nsegs; i++)
		if (t->segs[i].path != NULL)
			return false;
	return true;
}

/* tmpl_foreach_path: offset is where the path itself starts in the source
 * (after "{{" and any spaces), for file:line:col warnings. */
void
tmpl_foreach_path(const struct tmpl *t,
    void (*cb)(void *ctx, const char *path, size_t offset), void *ctx)
{
	size_t i;

	for (i = 0; i < t->nsegs; i++)
		if (t->segs[i].path != NULL)
			cb(ctx, t->segs[i].path, t->segs[i].off);
}

/*
 * tmpl_fields_save: O(fields); allocates only when out must grow. Texts
 * are escaped by buf_json_string, so out is valid JSON whatever the
 * fields hold.
 */
void
tmpl_fields_save(const struct evt *ev, struct buf *out)
{
	const struct evt_field *f;
	size_t i;
	bool first = true;

	buf_putc(out, '{');
	for (i = 0; i < ev->nfields; i++) {
		f = &ev->fields[i];
		if (f->v.kind == V_MISSING || f->v.kind == V_NULL ||
		    f->v.s == NULL)
			continue;
		if (!first)
			buf_putc(out, ',');
		first = false;
		buf_json_string(out, f->key, strlen(f->key));
		buf_putc(out, ':');
		buf_json_string(out, f->v.s, f->v.len);
	}
	buf_putc(out, '}');
}

/* tmpl_fields_load: members that are not strings, and fields past the
 * event's field limit, are skipped. */
int
tmpl_fields_load(struct evt *ev, const char *json, size_t len)
{
	json_error_t jerr;
	json_t *o, *v;
	const char *key;
	int n = 0;

	o = json_loadb(json, len, JSON_ALLOW_NUL, &jerr);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	json_object_foreach(o, key, v) {
		if (!json_is_string(v) || evt_get(ev, key) != NULL)
			continue;
		if (evt_set(ev, key, json_string_value(v),
		    json_string_length(v), false) == 0)
			n++;
	}
	json_decref(o);
	return n;
}
