/*
 * event.c — the two input forms of SPEC section 1 (flat stream fields and
 * one "json" field holding an object) turned into one struct evt, and
 * the validation that decides whether an entry is an event at all.
 *
 * Parsing order, so that the cheapest and most fundamental checks speak
 * first: entry size, field count, field names and UTF-8, then the JSON
 * (depth pre-scan, jansson, flattening), then the per-type table.
 *
 * JSON objects are flattened into dotted paths; arrays become V_LIST fields
 * whose scalar elements are the items (a nested container inside an array
 * is kept as its JSON text). Every string an event holds lives in its arena
 * and the fields array is kept across evt_reset(), so after warm-up the
 * only allocations of the per-event path are jansson's own while it parses.
 *
 * Lookups are linear scans: events hold a few dozen fields at most, and a
 * first-byte check makes a miss cost about one comparison per field.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "util.h"
#include "value.h"

/* Room above EVENT_MAX_FIELDS for enrichment (customer.<field>). */
#define EVENT_HARD_FIELDS	(EVENT_MAX_FIELDS + 64)
#define EVENT_NAME_MAX		256	/* bytes in a flat field name */
#define MSG_VALUE_MAX		40	/* bytes of a value quoted in a message */

/* --- schema ------------------------------------------------------------ */

enum fkind {
	F_TEXT,		/* anything; required ones must be non-empty scalars */
	F_INT,		/* integer in [min, max]; max < min: no maximum */
	F_NUM,		/* number, the same bounds */
	F_BOOL,		/* true/false/yes/no/1/0 */
	F_SEVERITY	/* low/medium/high/critical */
};

struct fspec {
	const char	*name;
	enum fkind	 kind;
	bool		 required;
	bool		 oneof;		/* at least one "oneof" field required */
	double		 min, max;
};

struct tspec {
	const char		*type;
	const struct fspec	*fields;
	size_t			 nfields;
	const char *const	*names;		/* NULL-terminated, with type, ts */
	const char		*oneof_msg;
};

static const struct fspec rating_spec[] = {
	{ "call_id",	 F_TEXT, true,  false, 0, 0 },
	{ "customer_id", F_TEXT, true,  false, 0, 0 },
	{ "csat",	 F_INT,  false, true,  1, 5 },
	{ "nps",	 F_INT,  false, true,  0, 10 },
	{ "ces",	 F_INT,  false, true,  1, 7 },
	{ "resolved",	 F_BOOL, false, false, 0, 0 },
};
static const char *const rating_names[] = {
	"type", "ts", "call_id", "customer_id", "csat", "nps", "ces",
	"agent_id", "queue", "resolved", "comment", "language", NULL
};

static const struct fspec call_spec[] = {
	{ "call_id",	 F_TEXT, true,  false, 0, 0 },
	{ "customer_id", F_TEXT, true,  false, 0, 0 },
	{ "wait_s",	 F_NUM,  false, false, 0, -1 },
	{ "talk_s",	 F_NUM,  false, false, 0, -1 },
	{ "hold_s",	 F_NUM,  false, false, 0, -1 },
	{ "transfers",	 F_INT,  false, false, 0, -1 },
	{ "abandoned",	 F_BOOL, false, false, 0, 0 },
};
static const char *const call_names[] = {
	"type", "ts", "call_id", "customer_id", "agent_id", "queue",
	"wait_s", "talk_s", "hold_s", "transfers", "abandoned",
	"disposition", NULL
};

static const struct fspec complaint_spec[] = {
	{ "complaint_id", F_TEXT,     true,  false, 0, 0 },
	{ "customer_id",  F_TEXT,     true,  false, 0, 0 },
	{ "severity",	  F_SEVERITY, false, false, 0, 0 },
};
static const char *const complaint_names[] = {
	"type", "ts", "complaint_id", "customer_id", "call_id", "category",
	"severity", "text", NULL
};

static const struct tspec types[] = {
	{ "rating", rating_spec, ARRAY_LEN(rating_spec), rating_names,
	  "rating: needs at least one of csat, nps, ces" },
	{ "call", call_spec, ARRAY_LEN(call_spec), call_names, NULL },
	{ "complaint", complaint_spec, ARRAY_LEN(complaint_spec),
	  complaint_names, NULL },
};

static const char *const severities[] = {
	"low", "medium", "high", "critical"
};

const char *const evt_known_types[] = { "rating", "call", "complaint", NULL };

static const struct tspec *
find_type(const char *type)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(types); i++)
		if (strcmp(types[i].type, type) == 0)
			return &types[i];
	return NULL;
}

bool
evt_type_known(const char *type)
{
	return type != NULL && find_type(type) != NULL;
}

bool
evt_field_known(const char *type, const char *field)
{
	const struct tspec *t;
	size_t i;

	if (type == NULL || (t = find_type(type)) == NULL)
		return true;
	for (i = 0; t->names[i] != NULL; i++)
		if (strcmp(t->names[i], field) == 0)
			return true;
	return false;
}

const char *const *
evt_type_fields(const char *type)
{
	const struct tspec *t;

	if (type == NULL || (t = find_type(type)) == NULL)
		return NULL;
	return t->names;
}

const char *
evt_err_reason(enum event_err e)
{
	static const char *const reasons[EVERR__COUNT] = {
		[EVERR_NONE] = "none",
		[EVERR_JSON] = "json",
		[EVERR_UTF8] = "utf8",
		[EVERR_SIZE] = "too_large",
		[EVERR_DEPTH] = "too_deep",
		[EVERR_FIELDS] = "too_many_fields",
		[EVERR_NO_TYPE] = "missing_type",
		[EVERR_MISSING] = "missing_field",
		[EVERR_BAD_VALUE] = "bad_value",
		[EVERR_RANGE] = "out_of_range",
	};

	if ((int)e < 0 || e >= EVERR__COUNT)
		return "unknown";
	return reasons[e];
}

/* --- life cycle and fields --------------------------------------------- */

void
evt_init(struct evt *ev)
{
	memset(ev, 0, sizeof(*ev));
	arena_init(&ev->arena);
}

void
evt_reset(struct evt *ev)
{
	ev->id[0] = '\0';
	ev->type = NULL;
	ev->ts = 0;
	ev->nfields = 0;
	arena_reset(&ev->arena);
}

void
evt_free(struct evt *ev)
{
	free(ev->fields);
	arena_free(&ev->arena);
	memset(ev, 0, sizeof(*ev));
}

static void
set_id(struct evt *ev, const char *id)
{
	snprintf(ev->id, sizeof(ev->id), "%s", id != NULL ? id : "");
}

static struct evt_field *
find_field(const struct evt *ev, const char *path)
{
	size_t i;

	for (i = 0; i < ev->nfields; i++) {
		if (ev->fields[i].key[0] == path[0] &&
		    strcmp(ev->fields[i].key, path) == 0)
			return &ev->fields[i];
	}
	return NULL;
}

/* add_field: append (key, v); key must already live in the arena. Returns
 * NULL when limit fields are there. The array grows once and is kept. */
static struct evt_field *
add_field(struct evt *ev, const char *key, struct value v, size_t limit)
{
	struct evt_field *f;
	size_t ncap;

	if (ev->nfields >= limit)
		return NULL;
	if (ev->nfields == ev->cap) {
		ncap = ev->cap ? ev->cap * 2 : 32;
		if (ncap > EVENT_HARD_FIELDS)
			ncap = EVENT_HARD_FIELDS;
		ev->fields = xreallocarray(ev->fields, ncap, sizeof(*ev->fields));
		ev->cap = ncap;
	}
	f = &ev->fields[ev->nfields++];
	f->key = key;
	f->v = v;
	return f;
}

const struct value *
evt_get(const struct evt *ev, const char *path)
{
	struct evt_field *f = find_field(ev, path);

	return f != NULL ? &f->v : NULL;
}

bool
evt_lookup(void *ctx, const char *path, struct value *out)
{
	const struct value *v = evt_get(ctx, path);

	if (v == NULL)
		return false;
	*out = *v;
	return true;
}

int
evt_set(struct evt *ev, const char *path, const char *val, size_t len,
    bool overwrite)
{
	struct evt_field *f;
	char *s;

	if ((f = find_field(ev, path)) != NULL) {
		if (overwrite) {
			s = arena_strndup(&ev->arena, val, len);
			f->v = value_str(s, len);
		}
		return 0;
	}
	if (ev->nfields >= EVENT_HARD_FIELDS)
		return -1;
	s = arena_strndup(&ev->arena, val, len);
	add_field(ev, arena_strndup(&ev->arena, path, strlen(path)),
	    value_str(s, len), EVENT_HARD_FIELDS);
	return 0;
}

/* --- messages ---------------------------------------------------------- */

/*
 * clip: copy at most MSG_VALUE_MAX bytes of s into out (cap bytes), cut on
 * a UTF-8 boundary, control bytes shown as '?', "..." when cut. Keeps
 * messages one line and bounded whatever a producer sent.
 */
static void
clip(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = len, i, o = 0;

	if (n > MSG_VALUE_MAX) {
		n = MSG_VALUE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n && o + 1 < cap; i++)
		out[o++] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	if (n < len && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* show: a value as messages print it: numbers, booleans and lists bare,
 * text in single quotes. */
static void
show(const struct value *v, char *out, size_t cap)
{
	char tmp[MSG_VALUE_MAX + 8];

	clip(v->s, v->len, tmp, sizeof(tmp));
	if (v->kind == V_STR && !v->has_num)
		snprintf(out, cap, "'%s'", tmp);
	else
		snprintf(out, cap, "%s", tmp);
}

/* --- JSON -------------------------------------------------------------- */

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
 * too_deep: does the JSON text open more than EVENT_MAX_DEPTH brackets at
 * once? Checked before jansson parses (its own limit is 2048) so a hostile
 * entry costs one linear scan. Brackets inside strings do not count.
 */
static bool
too_deep(const char *s, size_t len)
{
	size_t i;
	int depth = 0;
	bool instr = false;

	for (i = 0; i < len; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
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
				return true;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		}
	}
	return false;
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
			clip(f->path, plen, shown, sizeof(shown));
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
		v = json_is_array(val) ? list(&f->ev->arena, val) :
		    scalar(&f->ev->arena, val);
		if (add_field(f->ev, arena_strndup(&f->ev->arena, f->path, n),
		    v, EVENT_MAX_FIELDS) == NULL) {
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
 * load_json: parse text and flatten its object into ev. what names the
 * source in UTF-8 messages ("field 'json'" or "json").
 */
static enum event_err
load_json(struct evt *ev, const char *text, size_t len, const char *what,
    char *err, size_t errlen)
{
	char shown[MSG_VALUE_MAX + 8];
	struct flat f;
	json_error_t jerr;
	json_t *root;
	enum event_err e;
	const char *k;
	size_t i, j;

	if (!utf8_valid(text, len)) {
		snprintf(err, errlen, "%s: invalid UTF-8", what);
		return EVERR_UTF8;
	}
	if (too_deep(text, len)) {
		snprintf(err, errlen, "json: nested deeper than %d levels",
		    EVENT_MAX_DEPTH);
		return EVERR_DEPTH;
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
	f.path = arena_alloc(&ev->arena, f.pathcap);
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
				clip(k, strlen(k), shown, sizeof(shown));
				snprintf(err, errlen, "json: field '%s' "
				    "appears twice", shown);
				return EVERR_BAD_VALUE;
			}
		}
	}
	return EVERR_NONE;
}

/* --- building ----------------------------------------------------------- */

/* covered: does a JSON-derived field (the first n) hold name, either
 * exactly or as an object prefix ("customer" for "customer.tier")? */
static bool
covered(const struct evt *ev, size_t n, const char *name, size_t len)
{
	const char *k;
	size_t i;

	for (i = 0; i < n; i++) {
		k = ev->fields[i].key;
		if (k[0] == name[0] && strncmp(k, name, len) == 0 &&
		    (k[len] == '\0' || k[len] == '.'))
			return true;
	}
	return false;
}

enum event_err
evt_from_fields(struct evt *ev, const char *id,
    const char *const *names, const size_t *name_lens,
    const char *const *vals, const size_t *val_lens, size_t n,
    char *err, size_t errlen)
{
	char name[MSG_VALUE_MAX + 8];
	const char *key, *problem;
	enum event_err e;
	size_t i, total = 0, jsonidx = n, njson = 0;
	double dts;

	evt_reset(ev);
	set_id(ev, id);
	for (i = 0; i < n; i++)
		total += name_lens[i] + val_lens[i];
	if (total > EVENT_MAX_BYTES) {
		snprintf(err, errlen, "entry is %zu bytes, over the %d-byte "
		    "limit", total, EVENT_MAX_BYTES);
		return EVERR_SIZE;
	}
	if (n > EVENT_MAX_FIELDS) {
		snprintf(err, errlen, "entry has %zu fields, over the %d-field "
		    "limit", n, EVENT_MAX_FIELDS);
		return EVERR_FIELDS;
	}
	for (i = 0; i < n; i++) {
		clip(names[i], name_lens[i], name, sizeof(name));
		if (!utf8_valid(names[i], name_lens[i])) {
			snprintf(err, errlen, "field name '%s': invalid UTF-8",
			    name);
			return EVERR_UTF8;
		}
		problem = name_lens[i] == 0 ? "is empty" :
		    name_lens[i] > EVENT_NAME_MAX ? "is over 256 bytes" :
		    memchr(names[i], '\0', name_lens[i]) ? "holds a NUL byte" :
		    NULL;
		if (problem != NULL) {
			snprintf(err, errlen, "field name '%s' %s", name,
			    problem);
			return EVERR_BAD_VALUE;
		}
		if (!utf8_valid(vals[i], val_lens[i])) {
			snprintf(err, errlen, "field '%s': invalid UTF-8", name);
			return EVERR_UTF8;
		}
		if (jsonidx == n && name_lens[i] == 4 &&
		    memcmp(names[i], "json", 4) == 0)
			jsonidx = i;
	}
	if (jsonidx < n) {
		e = load_json(ev, vals[jsonidx], val_lens[jsonidx],
		    "field 'json'", err, errlen);
		if (e != EVERR_NONE)
			return e;
		njson = ev->nfields;
	}
	for (i = 0; i < n; i++) {
		if (i == jsonidx)
			continue;
		/* The first of repeated names wins, as evt_get would. */
		key = arena_strndup(&ev->arena, names[i], name_lens[i]);
		if (covered(ev, njson, key, name_lens[i]) ||
		    find_field(ev, key) != NULL)
			continue;
		if (add_field(ev, key, value_str(arena_strndup(&ev->arena,
		    vals[i], val_lens[i]), val_lens[i]),
		    EVENT_MAX_FIELDS) == NULL) {
			snprintf(err, errlen, "entry has more than %d fields "
			    "with its json object", EVENT_MAX_FIELDS);
			return EVERR_FIELDS;
		}
	}
	if ((dts = stream_id_time(id)) < 0)
		dts = 0;
	return evt_validate(ev, dts, err, errlen);
}

enum event_err
evt_from_json(struct evt *ev, const char *id, const char *json,
    size_t len, double default_ts, char *err, size_t errlen)
{
	enum event_err e;

	evt_reset(ev);
	set_id(ev, id);
	if (len > EVENT_MAX_BYTES) {
		snprintf(err, errlen, "entry is %zu bytes, over the %d-byte "
		    "limit", len, EVENT_MAX_BYTES);
		return EVERR_SIZE;
	}
	if ((e = load_json(ev, json, len, "json", err, errlen)) != EVERR_NONE)
		return e;
	return evt_validate(ev, default_ts, err, errlen);
}

/* --- validation --------------------------------------------------------- */

static bool
absent(const struct value *v)
{
	return v == NULL || v->kind == V_NULL || v->kind == V_MISSING;
}

/* check_value: one present field against its table entry. */
static enum event_err
check_value(const char *type, const struct fspec *fs, const struct value *v,
    char *err, size_t errlen)
{
	char shown[MSG_VALUE_MAX + 16], range[64];
	const char *problem = NULL;
	enum event_err e = EVERR_BAD_VALUE;
	bool isnum = v->kind != V_LIST && v->kind != V_BOOL && v->has_num;
	size_t i;

	switch (fs->kind) {
	case F_TEXT:
		if (fs->required && v->kind == V_LIST)
			problem = "is a list, not a value";
		else if (fs->required && v->len == 0) {
			snprintf(err, errlen, "%s: field '%s' is empty", type,
			    fs->name);
			return EVERR_MISSING;
		}
		break;
	case F_INT:
	case F_NUM:
		if (!isnum || (fs->kind == F_INT && v->num != floor(v->num)))
			problem = fs->kind == F_INT ? "is not an integer" :
			    "is not a number";
		else if (v->num < fs->min || (fs->max >= fs->min &&
		    v->num > fs->max)) {
			if (fs->max >= fs->min)
				snprintf(range, sizeof(range), "out of range "
				    "%g..%g", fs->min, fs->max);
			else
				snprintf(range, sizeof(range), "out of range "
				    "(must be >= %g)", fs->min);
			problem = range;
			e = EVERR_RANGE;
		}
		break;
	case F_BOOL:
		if (v->kind == V_LIST || !v->has_bool)
			problem = "is not a boolean (true/false/yes/no/1/0)";
		break;
	case F_SEVERITY:
		problem = "is not one of low, medium, high, critical";
		for (i = 0; v->kind == V_STR && i < ARRAY_LEN(severities); i++)
			if (strcmp(v->s, severities[i]) == 0)
				problem = NULL;
		break;
	}
	if (problem == NULL)
		return EVERR_NONE;
	show(v, shown, sizeof(shown));
	snprintf(err, errlen, "%s: %s=%s %s", type, fs->name, shown, problem);
	return e;
}

static enum event_err
check_ts(struct evt *ev, const char *type, double default_ts, char *err,
    size_t errlen)
{
	const struct value *v = evt_get(ev, "ts");
	char shown[MSG_VALUE_MAX + 16];
	double t;

	if (absent(v)) {
		ev->ts = default_ts;
		return EVERR_NONE;
	}
	if (v->kind == V_NUM && isfinite(v->num) && v->num >= 0) {
		ev->ts = v->num;
		return EVERR_NONE;
	}
	if (v->kind == V_STR && (parse_epoch(v->s, v->len, &t) == 0 ||
	    parse_rfc3339(v->s, v->len, &t) == 0)) {
		ev->ts = t;
		return EVERR_NONE;
	}
	show(v, shown, sizeof(shown));
	snprintf(err, errlen, "%s: ts=%s is not epoch seconds or RFC 3339",
	    type, shown);
	return EVERR_BAD_VALUE;
}

enum event_err
evt_validate(struct evt *ev, double default_ts, char *err, size_t errlen)
{
	const struct tspec *ts;
	const struct value *v;
	char type[MSG_VALUE_MAX + 8], shown[MSG_VALUE_MAX + 16];
	enum event_err e;
	size_t i;
	bool oneof = false;

	ev->type = NULL;
	ev->ts = default_ts;
	v = evt_get(ev, "type");
	if (absent(v)) {
		snprintf(err, errlen, "missing field 'type'");
		return EVERR_NO_TYPE;
	}
	if (v->kind != V_STR) {
		show(v, shown, sizeof(shown));
		snprintf(err, errlen, "type=%s is not a string", shown);
		return EVERR_BAD_VALUE;
	}
	if (v->len == 0) {
		snprintf(err, errlen, "field 'type' is empty");
		return EVERR_NO_TYPE;
	}
	ev->type = v->s;
	clip(v->s, v->len, type, sizeof(type));

	if ((ts = find_type(v->s)) != NULL) {
		/* Presence first, so a missing ID is reported before a
		 * range problem elsewhere in the same entry. */
		for (i = 0; i < ts->nfields; i++) {
			v = evt_get(ev, ts->fields[i].name);
			if (ts->fields[i].oneof && !absent(v))
				oneof = true;
			if (ts->fields[i].required && absent(v)) {
				snprintf(err, errlen, "%s: missing field '%s'",
				    type, ts->fields[i].name);
				return EVERR_MISSING;
			}
		}
		if (ts->oneof_msg != NULL && !oneof) {
			snprintf(err, errlen, "%s", ts->oneof_msg);
			return EVERR_MISSING;
		}
		for (i = 0; i < ts->nfields; i++) {
			v = evt_get(ev, ts->fields[i].name);
			if (absent(v))
				continue;
			e = check_value(type, &ts->fields[i], v, err, errlen);
			if (e != EVERR_NONE)
				return e;
		}
	}
	return check_ts(ev, type, default_ts, err, errlen);
}
