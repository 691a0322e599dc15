/*
 * event_int.h — private to event.c (fields, messages, validation) and
 * event_json.c (the "json" form: pre-scan, jansson, flattening). Nothing
 * outside the event module includes this.
 */
#ifndef RECOVERYD_EVENT_INT_H
#define RECOVERYD_EVENT_INT_H

#include <stddef.h>

#include "event.h"
#include "value.h"

/* Room above EVENT_MAX_FIELDS for enrichment (customer.<field>). */
#define EVENT_HARD_FIELDS	(EVENT_MAX_FIELDS + 64)
#define MSG_VALUE_MAX		40	/* bytes of a value quoted in a message */
/* the arena an event's strings go to (evt_use_arena) */
#define EVT_AR(ev)	((ev)->ext != NULL ? (ev)->ext : &(ev)->arena)

/*
 * evt_clip: copy at most MSG_VALUE_MAX bytes of s into out (cap bytes),
 * cut on a UTF-8 boundary, control bytes shown as '?', "..." when cut.
 */
void	evt_clip(const char *s, size_t len, char *out, size_t cap);
/* evt_add_field: append (key, v), key already in the arena; NULL when
 * limit fields are there. */
struct evt_field *evt_add_field(struct evt *, const char *key, struct value v,
	    size_t limit);
/*
 * evt_load_json: check (UTF-8, depth, NUL), parse and flatten the JSON
 * object text[0..len) into ev's fields. what names the source in UTF-8
 * messages ("field 'json'" or "json"). Returns EVERR_NONE or an error
 * with its message in err.
 */
enum event_err	evt_load_json(struct evt *, const char *text, size_t len,
		    const char *what, char *err, size_t errlen);

#endif
