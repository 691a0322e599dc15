/*
 * event_json.c — the "json" input form of the README's "Events": one JSON
 * object (a stream entry's "json" field, a replay line, a rule test's event)
 * flattened into the event's fields.
 *
 * Before jansson sees the text, one linear pre-scan refuses nesting deeper
 * than EVENT_MAX_DEPTH and any NUL (a raw 0 byte or "\u0000" in a string
 * or key), so a hostile entry costs one scan. Objects become dotted paths
 * ({"customer":{"tier":"gold"}} is the field "customer.tier"); arrays
 * become V_LIST fields whose scalar elements are the items (a nested
 * container inside an array is kept as its JSON text). Every string lives
 * in the event's arena; jansson's own parse is the only allocation per
 * event.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "event_int.h"
#include "util.h"
#include "value.h"

/* A bounded writer for the JSON text of lists: counts what it would write
 * so a first pass (cap 0) sizes the arena allocation of the second. */
struct jw {
	char	*p;
	size_t	 cap, len;
};

static void
jw_put(struct jw *w, const char *s, size_t n)
{
	if (w->len < w->cap)
		memcpy(w->p + w->len, s, n <= w->cap - w->len ? n :
		    w->cap - w->len);
	w->len += n;
}

/* jw_string: s as a JSON string literal (jansson has checked the UTF-8). */
static void
jw_string(struct jw *w, const char *s, size_t len)
{
	static const char short_esc[] = "\"\"\\\\\nn\rr\tt\bb\ff";
	const char *e;
	char esc[8];
	size_t i;

	jw_put(w, "\"", 1);
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
			jw_put(w, s + i, 1);
		else if (s[i] != '\0' && (e = strchr(short_esc, s[i])) != NULL) {
			esc[0] = '\\';
			esc[1] = e[1];
			jw_put(w, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)s[i]);
			jw_put(w, esc, 6);
		}
	}
	jw_put(w, "\"", 1);
}

/*
 * scalar_text: the text of a JSON scalar: integers as %lld, reals in the
 * shortest %g form that reads back as the same double, with ".0" added to
 * integral reals so the text stays a JSON real ("4.0"). num holds 32 bytes.
 */
static const char *
scalar_text(json_t *j, char *num, size_t *lenp)
{
	int prec, n = 0;
	double d;

	switch (json_typeof(j)) {
	case JSON_INTEGER:
		n = snprintf(num, 32, "%lld", (long long)json_integer_value(j));
		break;
	case JSON_REAL:
		d = json_real_value(j);
		for (prec = 15; prec <= 17; prec++) {
			n = snprintf(num, 32, "%.*g", prec, d);
			if (strtod(num, NULL) == d)
				break;
		}
		if (strpbrk(num, ".eE") == NULL && n + 3 <= 32) {
			memcpy(num + n, ".0", 3);
			n += 2;
		}
		break;
	case JSON_TRUE:
		*lenp = 4;
		return "true";
	case JSON_FALSE:
		*lenp = 5;
		return "false";
	default:
		*lenp = 4;
		return "null";
	}
	*lenp = (size_t)n;
	return num;
}

static void
jw_json(struct jw *w, json_t *j)
{
	const char *key, *t;
	json_t *val;
	char num[32];
	size_t i = 0, n;

	if (json_is_object(j)) {
		jw_put(w, "{", 1);
		json_object_foreach(j, key, val) {
			if (i++ > 0)
				jw_put(w, ",", 1);
			jw_string(w, key, strlen(key));
			jw_put(w, ":", 1);
			jw_json(w, val);
		}
		jw_put(w, "}", 1);
	} else if (json_is_array(j)) {
		jw_put(w, "[", 1);
		for (i = 0; i < json_array_size(j); i++) {
			if (i > 0)
				jw_put(w, ",", 1);
			jw_json(w, json_array_get(j, i));
		}
		jw_put(w, "]", 1);
	} else if (json_is_string(j))
		jw_string(w, json_string_value(j), json_string_length(j));
	else {
		t = scalar_text(j, num, &n);
		jw_put(w, t, n);
	}
}

/* json_text: j's compact JSON text, NUL-terminated, in the arena. */
static char *
json_text(struct arena *a, json_t *j, size_t *lenp)
{
	struct jw w = { NULL, 0, 0 };

	jw_json(&w, j);
	w.cap = w.len;
	w.p = arena_alloc(a, w.cap + 1);
	w.len = 0;
	jw_json(&w, j);
	w.p[w.len] = '\0';
	*lenp = w.len;
	return w.p;
}

/* scalar: the value of a JSON scalar (or, for a container, its text). */
static struct value
scalar(struct arena *a, json_t *j)
{
	struct value v;
	const char *t;
	char num[32];
	size_t n;

	switch (json_typeof(j)) {
	case JSON_STRING:
		n = json_string_length(j);
		return value_str(arena_strndup(a, json_string_value(j), n), n);
	case JSON_INTEGER:
	case JSON_REAL:
		t = scalar_text(j, num, &n);
		return value_num(json_number_value(j), arena_strndup(a, t, n),
		    n);
	case JSON_TRUE:
	case JSON_FALSE:
		return value_bool(json_is_true(j));
	case JSON_NULL:
		memset(&v, 0, sizeof(v));
		v.kind = V_NULL;
		v.s = "";
		return v;
	default:
		t = json_text(a, j, &n);
		return value_str(t, n);
	}
}

static struct value
list(struct arena *a, json_t *arr)
{
	struct value v, *items;
	size_t i, n = json_array_size(arr);

	items = arena_alloc(a, (n ? n : 1) * sizeof(*items));
	for (i = 0; i < n; i++)
		items[i] = scalar(a, json_array_get(arr, i));
	memset(&v, 0, sizeof(v));
	v.kind = V_LIST;
	v.s = json_text(a, arr, &v.len);
	v.items = items;
	v.nitems = n;
	return v;
}

/*
 * prescan: one linear pass over the JSON text before jansson parses it,
 * so that a hostile entry costs one scan: does it open more than
 * EVENT_MAX_DEPTH brackets at once (jansson's own limit is 2048), or hold
 * a NUL, as a raw 0 byte or as a "\u0000" escape in any string or key?
 * (jansson refuses a NUL too, but as a parse error; it is its own reason
 * here.) Brackets inside strings do not count. Returns EVERR_NONE,
 * EVERR_DEPTH, or EVERR_NUL with the NUL's byte offset in *at.
 */
static enum event_err
prescan(const char *s, size_t len, size_t *at)
{
	size_t i;
	int depth = 0;
	bool instr = false;

	for (i = 0; i < len; i++) {
		if (s[i] == '\0') {
			*at = i;
			return EVERR_NUL;
		}
		if (instr) {
			if (s[i] == '\\') {
				if (len - i > 5 && memcmp(s + i + 1, "u0000",
				    5) == 0) {
					*at = i;
					return EVERR_NUL;
				}
				i++;
			} else if (s[i] == '"')
				instr = false;
			continue;
		}
		switch (s[i]) {
		case '"':
			instr = true;
			break;
		case '{':
		case '[':
			if (++depth > EVENT_MAX_DEPTH)
				return EVERR_DEPTH;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		}
	}
	return EVERR_NONE;
}

struct flat {
	struct evt	*ev;
	char		*path;		/* scratch, in the arena */
	size_t		 pathcap;
	bool		 dotted;	/* some key itself contains a '.' */
	char		*err;
	size_t		 errlen;
};

/* flatten: add obj's members under path[0..plen). depth counts obj. */
static enum event_err
flatten(struct flat *f, json_t *obj, size_t plen, int depth)
{
	char shown[MSG_VALUE_MAX + 8];
	struct value v;
	const char *key;
	json_t *val;
	size_t klen, n;
	enum event_err e;

	json_object_foreach(obj, key, val) {
		klen = strlen(key);
		if (klen == 0) {
			evt_clip(f->path, plen, shown, sizeof(shown));
			snprintf(f->err, f->errlen, "json: empty key in '%s'",
			    shown);
			return EVERR_BAD_VALUE;
		}
		if (memchr(key, '.', klen) != NULL)
			f->dotted = true;
		n = plen + (plen ? 1 : 0) + klen;
		if (n + 1 > f->pathcap) {
			snprintf(f->err, f->errlen, "json: field path too long");
			return EVERR_BAD_VALUE;
		}
		if (plen)
			f->path[plen] = '.';
		memcpy(f->path + n - klen, key, klen);
		f->path[n] = '\0';
		if (json_is_object(val) || json_is_array(val)) {
			if (depth + 1 > EVENT_MAX_DEPTH) {
				snprintf(f->err, f->errlen, "json: nested "
				    "deeper than %d levels", EVENT_MAX_DEPTH);
				return EVERR_DEPTH;
			}
		}
		if (json_is_object(val)) {
			if ((e = flatten(f, val, n, depth + 1)) != EVERR_NONE)
				return e;
			continue;
		}
		v = json_is_array(val) ? list(EVT_AR(f->ev), val) :
		    scalar(EVT_AR(f->ev), val);
		if (evt_add_field(f->ev, arena_strndup(EVT_AR(f->ev), f->path,
		    n), v, EVENT_MAX_FIELDS) == NULL) {
			snprintf(f->err, f->errlen, "json: more than %d fields",
			    EVENT_MAX_FIELDS);
			return EVERR_FIELDS;
		}
	}
	return EVERR_NONE;
}

static const char *
json_kind_name(json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_ARRAY:	return "an array";
	case JSON_STRING:	return "a string";
	case JSON_INTEGER:
	case JSON_REAL:		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:	return "a boolean";
	case JSON_NULL:		return "null";
	default:		return "an object";
	}
}

/*
 * evt_load_json: parse text and flatten its object into ev. what names the
 * source in UTF-8 messages ("field 'json'" or "json").
 */
enum event_err
evt_load_json(struct evt *ev, const char *text, size_t len, const char *what,
    char *err, size_t errlen)
{
	char shown[MSG_VALUE_MAX + 8];
	struct flat f;
	json_error_t jerr;
	json_t *root;
	enum event_err e;
	const char *k;
	size_t i, j, at = 0;

	if (!utf8_valid(text, len)) {
		snprintf(err, errlen, "%s: invalid UTF-8", what);
		return EVERR_UTF8;
	}
	if ((e = prescan(text, len, &at)) == EVERR_DEPTH) {
		snprintf(err, errlen, "json: nested deeper than %d levels",
		    EVENT_MAX_DEPTH);
		return e;
	} else if (e == EVERR_NUL) {
		snprintf(err, errlen, "json: a NUL character (%s) at byte %zu; "
		    "names and values may not hold U+0000",
		    text[at] == '\0' ? "a 0 byte" : "\\u0000", at);
		return e;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "json: %s at line %d column %d",
		    jerr.text, jerr.line, jerr.column);
		return EVERR_JSON;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "json: not an object (got %s)",
		    json_kind_name(root));
		json_decref(root);
		return EVERR_JSON;
	}
	memset(&f, 0, sizeof(f));
	f.ev = ev;
	f.pathcap = len + 1;
	f.path = arena_alloc(EVT_AR(ev), f.pathcap);
	f.err = err;
	f.errlen = errlen;
	e = flatten(&f, root, 0, 1);
	json_decref(root);
	if (e != EVERR_NONE || !f.dotted)
		return e;
	/* {"a.b":1,"a":{"b":2}} flattens twice to "a.b": refuse rather than
	 * pick one silently. Only keys with dots can collide. */
	for (i = 0; i < ev->nfields; i++) {
		for (j = i + 1; j < ev->nfields; j++) {
			if (strcmp(ev->fields[i].key, ev->fields[j].key) == 0) {
				k = ev->fields[i].key;
				evt_clip(k, strlen(k), shown, sizeof(shown));
				snprintf(err, errlen, "json: field '%s' "
				    "appears twice", shown);
				return EVERR_BAD_VALUE;
			}
		}
	}
	return EVERR_NONE;
}
