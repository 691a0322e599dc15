/*
 * event.h — one representation for both input forms of the README's "Events",
 * and their validation.
 *
 * An event is a flat array of (dotted path, value) fields: flat stream
 * fields map one to one; a "json" field's object is flattened so that
 * {"customer":{"tier":"gold"}} becomes the field "customer.tier" (objects
 * are not fields themselves; arrays are V_LIST fields whose scalar elements
 * are the items). Flat fields beside "json" are added where the object
 * lacks them. All text lives in the event's arena: evt_reset() reuses it,
 * so steady-state parsing does not allocate.
 *
 * Limits: an entry over EVENT_MAX_BYTES (sum of field names and values, or
 * the JSON text), JSON nested deeper than EVENT_MAX_DEPTH, more than
 * EVENT_MAX_FIELDS fields, invalid UTF-8 or a NUL (U+0000: a raw 0 byte, or
 * "\u0000" in any JSON string or key) in any name or value is invalid: a
 * NUL would cut the value short wherever it is used as a C string, so two
 * customer IDs differing only after it would share state and a case.
 *
 * Event time. Every event time is a representable time, 0 ..
 * EVT_TS_MAX (1970-01-01 .. 9999-12-31T23:59:59Z), so that every time
 * computation downstream (milliseconds, windows, cooldowns, escalation
 * delays, all at most 10 years long) stays far inside int64_t and inside
 * the doubles Lua computes with (2^53). A "ts" may also be bounded
 * relative to a reference time (struct evt_clock): the stream entry's own
 * time for evt_from_fields, the caller's choice for evt_from_json (replay
 * uses the current time). Outside any bound the event is invalid with
 * EVERR_TS_SKEW ("ts_skew").
 */
#ifndef RECOVERYD_EVENT_H
#define RECOVERYD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "value.h"

#define EVENT_MAX_BYTES		(64 * 1024)
#define EVENT_MAX_DEPTH		32
#define EVENT_MAX_FIELDS	256
#define EVENT_ID_MAX		64
#define EVT_TS_MAX		253402300799.0	/* 9999-12-31T23:59:59Z */

/* Why an entry is invalid; evt_err_reason() gives the metric label. */
enum event_err {
	EVERR_NONE = 0,
	EVERR_JSON,		/* "json": unparsable or not an object */
	EVERR_UTF8,		/* "utf8" */
	EVERR_SIZE,		/* "too_large" */
	EVERR_DEPTH,		/* "too_deep" */
	EVERR_FIELDS,		/* "too_many_fields" */
	EVERR_NO_TYPE,		/* "missing_type" */
	EVERR_MISSING,		/* "missing_field" */
	EVERR_BAD_VALUE,	/* "bad_value": ill-typed (not an integer, not a bool, ...) */
	EVERR_RANGE,		/* "out_of_range" */
	EVERR_TS_SKEW,		/* "ts_skew": a time outside the bounds */
	EVERR_NUL,		/* "nul": a NUL byte (U+0000) in a name or value */
	EVERR__COUNT
};

struct evt_field {
	const char	*key;	/* dotted path, NUL-terminated, in the arena */
	struct value	 v;
};

/*
 * Where a "ts" may lie relative to a reference time: at most future_ms
 * after it and at most past_ms before it (0: that side is not bounded).
 * The reference is the stream entry's time when the event's ID is a
 * stream ID, else ref (< 0: none, only the representable range applies);
 * ref_name says what ref is in messages ("the current time").
 */
struct evt_clock {
	int64_t		 future_ms, past_ms;
	double		 ref;
	const char	*ref_name;	/* static text, not copied */
};

struct evt {
	char			 id[EVENT_ID_MAX];	/* stream entry ID, or "line N" */
	const char		*type;			/* the "type" field's text */
	double			 ts;			/* event time, epoch seconds */
	struct evt_field	*fields;
	size_t			 nfields, cap;
	struct arena		 arena;
	struct arena		*ext;	/* set: the strings go there instead
					 * (evt_use_arena) */
	struct evt_clock	 clock;			/* kept by evt_reset */
};

/* evt_init: an empty event; no time bounds beyond the representable
 * range until evt_set_clock. */
void	evt_init(struct evt *);
/* evt_reset: forget the fields, keep the memory and the clock. */
void	evt_reset(struct evt *);
void	evt_free(struct evt *);
/* evt_use_arena: from now on the event's strings go to a (its own
 * arena when NULL), which the caller resets, never evt_reset: a batch of
 * events then shares one arena instead of each keeping its own. */
void	evt_use_arena(struct evt *, struct arena *a);
/* evt_set_clock: bound "ts" from now on (see struct evt_clock). */
void	evt_set_clock(struct evt *, int64_t future_ms, int64_t past_ms,
	    double ref, const char *ref_name);
/* evt_trim: give back the arena's memory when it holds over keep bytes
 * (after an unusually large event), so that one burst of large entries
 * does not stay resident. */
void	evt_trim(struct evt *, size_t keep);
/* evt_time_ms: epoch seconds as whole milliseconds, clamped to
 * 0 .. EVT_TS_MAX * 1000 (validated times are inside already; NaN is 0). */
int64_t	evt_time_ms(double ts);

/*
 * evt_from_fields: build and validate an event from a stream entry's
 * n (name, value) pairs. id is the entry ID: the event time defaults to its
 * millisecond part when there is no "ts", and a "ts" is bounded relative
 * to it (ev->clock). Returns EVERR_NONE, or an error
 * with a message in err such as "rating: csat=7 out of range 1..5",
 * "json: '[1,2]' is not an object", "missing field 'type'". The message
 * does not repeat the entry ID; callers add it.
 */
enum event_err	evt_from_fields(struct evt *, const char *id,
		    const char *const *names, const size_t *name_lens,
		    const char *const *vals, const size_t *val_lens, size_t n,
		    char *err, size_t errlen);
/*
 * evt_from_json: build and validate an event from one JSON object (a
 * line of a replay file or a rule test's event). default_ts is the event
 * time when the object has no "ts"; a "ts" is bounded relative to
 * ev->clock.ref. id is copied into ev->id.
 */
enum event_err	evt_from_json(struct evt *, const char *id,
		    const char *json, size_t len, double default_ts,
		    char *err, size_t errlen);
/* evt_validate: the checks of the README's "Events" on an already-built event
 * (the
 * from_* functions call it). Also sets ev->type and ev->ts. */
enum event_err	evt_validate(struct evt *, double default_ts, char *err,
		    size_t errlen);

/* evt_get: the field at path, or NULL. O(nfields). */
const struct value *evt_get(const struct evt *, const char *path);
/* evt_lookup: lookup_fn over a struct evt * ctx. */
bool		evt_lookup(void *ev, const char *path, struct value *out);
/*
 * evt_set: add a text field (copied into the arena). If the field exists
 * it is replaced only when overwrite is true. Returns 0, or -1 when the
 * field limit is reached. Used for enrichment ("customer.tier").
 */
int		evt_set(struct evt *, const char *path, const char *val,
		    size_t len, bool overwrite);

/* evt_err_reason: short label for metrics ("json", "out_of_range"...). */
const char	*evt_err_reason(enum event_err);

/* Schema of the known types (rating, call, complaint, contact), for
 * configuration warnings. evt_type_known: is this one of them? evt_field_known:
 * is field one of the type's table fields (required or optional, plus
 * "type" and "ts")? For unknown types it returns true. */
bool		 evt_type_known(const char *type);
/* evt_type_warning: for a type that is none of the known ones (which
 * the daemon takes, checking nothing beyond it), the warning shown to
 * a producer, "unknown event type 'ratings' (did you mean 'rating'?);
 * ...", into out; false, out untouched, for a known type. Shared by push
 * and the HTTP intake. */
bool		 evt_type_warning(const char *type, char *out, size_t len);
bool		 evt_field_known(const char *type, const char *field);
/* evt_type_fields: the table fields of a known type (NULL-terminated),
 * for "did you mean" suggestions; NULL for an unknown type. */
const char *const *evt_type_fields(const char *type);
/* evt_known_types: {"rating", "call", "complaint", "contact", NULL}. */
extern const char *const evt_known_types[];

#endif
