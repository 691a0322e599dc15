/*
 * event.c — the two input forms of the README's "Events" (flat stream fields
 * and one "json" field holding an object) turned into one struct evt, and the
 * validation that decides whether an entry is an event at all.
 *
 * Parsing order, so that the cheapest and most fundamental checks speak
 * first: entry size, field count, field names, UTF-8 and NUL bytes, then
 * the JSON (depth and NUL pre-scan, jansson, flattening: event_json.c),
 * then the per-type table, then the event time: a representable time, and
 * within the clock's skew of the entry's time (or of the caller's
 * reference).
 *
 * Every string an event holds lives in its arena (or the one the caller
 * gave it, evt_use_arena) and the fields array is kept across
 * evt_reset(), so after warm-up the only allocations of the per-event
 * path are jansson's own while it parses.
 *
 * Lookups are linear scans: events hold a few dozen fields at most, and a
 * first-byte check makes a miss cost about one comparison per field.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "event_int.h"
#include "util.h"
#include "value.h"

#define EVENT_NAME_MAX		256	/* bytes in a flat field name */

/* --- schema ------------------------------------------------------------ */

enum fkind {
	F_TEXT,		/* anything; required ones must be non-empty scalars */
	F_INT,		/* integer in [min, max]; max < min: no maximum */
	F_NUM,		/* number, the same bounds */
	F_BOOL,		/* true/false/yes/no/1/0 */
	F_SEVERITY,	/* low/medium/high/critical */
	F_RESULT	/* a contact's result (contact_results) */
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

static const struct fspec contact_spec[] = {
	{ "customer_id",  F_TEXT,     true,  false, 0, 0 },
	{ "result",	  F_RESULT,   true,  false, 0, 0 },
};
static const char *const contact_names[] = {
	"type", "ts", "customer_id", "result", "case_id", "agent_id",
	"call_id", "note", NULL
};
static const char *const contact_results[] = {
	"reached", "no_answer", "voicemail", "refused", "wrong_number"
};

static const struct tspec types[] = {
	{ "rating", rating_spec, ARRAY_LEN(rating_spec), rating_names,
	  "rating: needs at least one of csat, nps, ces" },
	{ "call", call_spec, ARRAY_LEN(call_spec), call_names, NULL },
	{ "complaint", complaint_spec, ARRAY_LEN(complaint_spec),
	  complaint_names, NULL },
	{ "contact", contact_spec, ARRAY_LEN(contact_spec), contact_names,
	  NULL },
};

static const char *const severities[] = {
	"low", "medium", "high", "critical"
};

const char *const evt_known_types[] = { "rating", "call", "complaint",
    "contact", NULL };

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
evt_type_warning(const char *type, char *out, size_t len)
{
	const char *near;
	size_t nt;

	if (type == NULL || evt_type_known(type))
		return false;
	for (nt = 0; evt_known_types[nt] != NULL; nt++)
		;
	if ((near = did_you_mean(type, evt_known_types, nt)) != NULL)
		snprintf(out, len, "unknown event type '%s' (did you mean "
		    "'%s'?); it is taken with no checks beyond its type",
		    type, near);
	else
		snprintf(out, len, "'%s' is not one of the known event types "
		    "(rating, call, complaint, contact); it is taken with no "
		    "checks beyond its type", type);
	return true;
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
		[EVERR_TS_SKEW] = "ts_skew",
		[EVERR_NUL] = "nul",
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
	ev->clock.ref = -1;
}

void
evt_use_arena(struct evt *ev, struct arena *a)
{
	ev->ext = a;
}

void
evt_set_clock(struct evt *ev, int64_t future_ms, int64_t past_ms, double ref,
    const char *ref_name)
{
	ev->clock.future_ms = future_ms > 0 ? future_ms : 0;
	ev->clock.past_ms = past_ms > 0 ? past_ms : 0;
	ev->clock.ref = ref;
	ev->clock.ref_name = ref_name;
}

void
evt_trim(struct evt *ev, size_t keep)
{
	if (ev->arena.allocated > keep) {
		evt_reset(ev);
		arena_free(&ev->arena);
	}
}

int64_t
evt_time_ms(double ts)
{
	if (!(ts > 0))
		return 0;
	if (ts >= EVT_TS_MAX)
		return (int64_t)EVT_TS_MAX * 1000;
	return (int64_t)llround(ts * 1000.0);
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
	ev->clock.ref = -1;
}

static void
set_id(struct evt *ev, const char *id)
{
	(void)str_copy(ev->id, sizeof(ev->id), id != NULL ? id : "");
}

static struct evt_field *
find_field(const struct evt *ev, const char *path)
{
	size_t i;

	/* The first two bytes before strcmp: call_id, customer_id and
	 * csat share the first. */
	for (i = 0; i < ev->nfields; i++) {
		const char *k = ev->fields[i].key;

		if (k[0] == path[0] && (k[0] == '\0' || (k[1] == path[1] &&
		    (k[1] == '\0' || strcmp(k + 2, path + 2) == 0))))
			return &ev->fields[i];
	}
	return NULL;
}

/* evt_add_field: append (key, v); key must already live in the arena.
 * Returns NULL when limit fields are there. The array grows (from 16:
 * most events have 8-12 fields, and each of the 1,024 events of four
 * batches in flight keeps its array; 64 bytes a field) and is kept. */
struct evt_field *
evt_add_field(struct evt *ev, const char *key, struct value v, size_t limit)
{
	struct evt_field *f;
	size_t ncap;

	if (ev->nfields >= limit)
		return NULL;
	if (ev->nfields == ev->cap) {
		ncap = ev->cap ? ev->cap * 2 : 16;
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
			s = arena_strndup(EVT_AR(ev), val, len);
			f->v = value_str(s, len);
		}
		return 0;
	}
	if (ev->nfields >= EVENT_HARD_FIELDS)
		return -1;
	s = arena_strndup(EVT_AR(ev), val, len);
	evt_add_field(ev, arena_strndup(EVT_AR(ev), path, strlen(path)),
	    value_str(s, len), EVENT_HARD_FIELDS);
	return 0;
}

/* --- messages ---------------------------------------------------------- */

/*
 * evt_clip: copy at most MSG_VALUE_MAX bytes of s into out (cap bytes), cut on
 * a UTF-8 boundary, control bytes shown as '?', "..." when cut. Keeps
 * messages one line and bounded whatever a producer sent.
 */
void
evt_clip(const char *s, size_t len, char *out, size_t cap)
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

	evt_clip(v->s, v->len, tmp, sizeof(tmp));
	if (v->kind == V_STR && !v->has_num)
		snprintf(out, cap, "'%s'", tmp);
	else
		snprintf(out, cap, "%s", tmp);
}

/* --- building ----------------------------------------------------------- */

static enum event_err validate(struct evt *, double, int64_t, const char *,
    char *, size_t);

/* entry_ms: the millisecond part of a stream entry ID ("ms-seq"), exact,
 * or -1 when id is not one (a test's "t1", a replay's "line:3"). */
static int64_t
entry_ms(const char *id)
{
	const char *p = id;
	int64_t ms = 0;

	if (id == NULL || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (ms > (INT64_MAX - 9) / 10)
			return -1;
		ms = ms * 10 + (*p - '0');
	}
	return *p == '-' || *p == '\0' ? ms : -1;
}

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
	const char *key, *problem, *nul;
	enum event_err e;
	size_t i, total = 0, jsonidx = n, njson = 0;
	int64_t ref_ms;

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
		/* (the name is clipped for a message only when one is due) */
		if (!utf8_valid(names[i], name_lens[i])) {
			evt_clip(names[i], name_lens[i], name, sizeof(name));
			snprintf(err, errlen, "field name '%s': invalid UTF-8",
			    name);
			return EVERR_UTF8;
		}
		problem = name_lens[i] == 0 ? "is empty" :
		    name_lens[i] > EVENT_NAME_MAX ? "is over 256 bytes" : NULL;
		if (problem != NULL) {
			evt_clip(names[i], name_lens[i], name, sizeof(name));
			snprintf(err, errlen, "field name '%s' %s", name,
			    problem);
			return EVERR_BAD_VALUE;
		}
		if ((nul = memchr(names[i], '\0', name_lens[i])) != NULL) {
			evt_clip(names[i], name_lens[i], name, sizeof(name));
			snprintf(err, errlen, "field name '%s' holds a NUL byte "
			    "at byte %zu", name, (size_t)(nul - names[i]));
			return EVERR_NUL;
		}
		if (!utf8_valid(vals[i], val_lens[i])) {
			evt_clip(names[i], name_lens[i], name, sizeof(name));
			snprintf(err, errlen, "field '%s': invalid UTF-8", name);
			return EVERR_UTF8;
		}
		if ((nul = memchr(vals[i], '\0', val_lens[i])) != NULL) {
			evt_clip(names[i], name_lens[i], name, sizeof(name));
			snprintf(err, errlen, "field '%s' holds a NUL byte at "
			    "byte %zu; values may not hold U+0000", name,
			    (size_t)(nul - vals[i]));
			return EVERR_NUL;
		}
		if (jsonidx == n && name_lens[i] == 4 &&
		    memcmp(names[i], "json", 4) == 0)
			jsonidx = i;
	}
	if (jsonidx < n) {
		e = evt_load_json(ev, vals[jsonidx], val_lens[jsonidx],
		    "field 'json'", err, errlen);
		if (e != EVERR_NONE)
			return e;
		njson = ev->nfields;
	}
	for (i = 0; i < n; i++) {
		if (i == jsonidx)
			continue;
		/* The first of repeated names wins, as evt_get would. */
		key = arena_strndup(EVT_AR(ev), names[i], name_lens[i]);
		if (covered(ev, njson, key, name_lens[i]) ||
		    find_field(ev, key) != NULL)
			continue;
		if (evt_add_field(ev, key, value_str(arena_strndup(EVT_AR(ev),
		    vals[i], val_lens[i]), val_lens[i]),
		    EVENT_MAX_FIELDS) == NULL) {
			snprintf(err, errlen, "entry has more than %d fields "
			    "with its json object", EVENT_MAX_FIELDS);
			return EVERR_FIELDS;
		}
	}
	if ((ref_ms = entry_ms(id)) >= 0)
		return validate(ev, (double)ref_ms / 1000.0, ref_ms,
		    "the entry's time", err, errlen);
	return evt_validate(ev, 0, err, errlen);
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
	if ((e = evt_load_json(ev, json, len, "json", err, errlen)) != EVERR_NONE)
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
	case F_RESULT:
		problem = "is not one of reached, no_answer, voicemail, "
		    "refused, wrong_number";
		for (i = 0; v->kind == V_STR && i < ARRAY_LEN(contact_results);
		    i++)
			if (strcmp(v->s, contact_results[i]) == 0)
				problem = NULL;
		break;
	}
	if (problem == NULL)
		return EVERR_NONE;
	show(v, shown, sizeof(shown));
	snprintf(err, errlen, "%s: %s=%s %s", type, fs->name, shown, problem);
	return e;
}

/* in_clock: is t (epoch seconds) a representable time inside the
 * clock's bounds around ref_ms (when ref_ms >= 0)? */
static bool
in_clock(const struct evt_clock *ck, double t, int64_t ref_ms)
{
	int64_t t_ms;

	if (!(t >= 0 && t <= EVT_TS_MAX))
		return false;
	if (ref_ms < 0)
		return true;
	t_ms = evt_time_ms(t);
	return !(ck->future_ms > 0 && t_ms - ref_ms > ck->future_ms) &&
	    !(ck->past_ms > 0 && ref_ms - t_ms > ck->past_ms);
}

/*
 * check_ts: set ev->ts from "ts" (epoch seconds as a JSON number or as
 * text, or RFC 3339), or to default_ts when there is none, and check that
 * it is a representable time and, when the event gave one and there is a
 * reference (ref_ms >= 0, epoch milliseconds), inside the clock's bounds
 * around it. Comparisons are in whole milliseconds, so a bound is exact.
 * Both operands are in 0 .. 2^63 - 1 by then: no subtraction overflows.
 */
static enum event_err
check_ts(struct evt *ev, const char *type, double default_ts, int64_t ref_ms,
    const char *ref_name, char *err, size_t errlen)
{
	const struct evt_clock *ck = &ev->clock;
	const struct value *v = evt_get(ev, "ts");
	char shown[MSG_VALUE_MAX + 16], when[48], lim[32];
	const char *hint;
	int64_t t_ms;
	double t, num;

	if (absent(v)) {
		if (!(default_ts >= 0 && default_ts <= EVT_TS_MAX)) {
			snprintf(err, errlen, "%s: the entry's time %.0f s is "
			    "not between 1970 and 9999", type, default_ts);
			return EVERR_TS_SKEW;
		}
		ev->ts = default_ts;
		return EVERR_NONE;
	}
	show(v, shown, sizeof(shown));
	if (v->kind == V_NUM)
		t = v->num;
	else if (v->kind != V_STR || (parse_epoch(v->s, v->len, &t) == -1 &&
	    parse_rfc3339(v->s, v->len, &t) == -1 &&
	    !parse_number(v->s, v->len, &t))) {
		snprintf(err, errlen, "%s: ts=%s is not epoch seconds or "
		    "RFC 3339", type, shown);
		return EVERR_BAD_VALUE;
	}
	/* Milliseconds where seconds belong is the usual mistake: a number
	 * of at least 1e11 (in ms, any time since 1973) that fits as ms. */
	hint = (v->kind == V_NUM || parse_number(v->s, v->len, &num)) &&
	    t >= 1e11 && !in_clock(ck, t, ref_ms) &&
	    in_clock(ck, t / 1000, ref_ms) ?
	    "; milliseconds instead of seconds?" : "";
	if (!(t >= 0 && t <= EVT_TS_MAX)) {
		snprintf(err, errlen, "%s: ts=%s is %s%s", type, shown,
		    t < 0 ? "before 1970-01-01" : "after 9999-12-31", hint);
		return EVERR_TS_SKEW;
	}
	ev->ts = t;
	if (ref_ms < 0 || in_clock(ck, t, ref_ms))
		return EVERR_NONE;
	t_ms = evt_time_ms(t);
	if ((double)ref_ms <= EVT_TS_MAX * 1000)
		format_rfc3339((double)ref_ms / 1000.0, when, sizeof(when));
	else
		snprintf(when, sizeof(when), "%lld ms", (long long)ref_ms);
	format_duration(t_ms > ref_ms ? ck->future_ms : ck->past_ms, lim,
	    sizeof(lim));
	snprintf(err, errlen, "%s: ts=%s is more than %s %s %s %s (input.%s)%s",
	    type, shown, lim, t_ms > ref_ms ? "after" : "before",
	    ref_name != NULL ? ref_name : "the reference time", when,
	    t_ms > ref_ms ? "max_future_skew" : "max_past_skew", hint);
	return EVERR_TS_SKEW;
}

enum event_err
evt_validate(struct evt *ev, double default_ts, char *err, size_t errlen)
{
	int64_t ref_ms = ev->clock.ref >= 0 ? evt_time_ms(ev->clock.ref) : -1;

	return validate(ev, default_ts, ref_ms, ev->clock.ref_name, err,
	    errlen);
}

/* validate: evt_validate with the reference time given (epoch ms, < 0:
 * none) and named for messages. */
static enum event_err
validate(struct evt *ev, double default_ts, int64_t ref_ms,
    const char *ref_name, char *err, size_t errlen)
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
	evt_clip(v->s, v->len, type, sizeof(type));

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
	return check_ts(ev, type, default_ts, ref_ms, ref_name, err, errlen);
}
