/*
 * fuzz_event.c — libFuzzer target for the input side of the README's "Events".
 *
 * Each input is tried twice: (a) whole, as the JSON object of a replay
 * line (evt_from_json), and (b) split on '\n' into alternating field
 * names and values, as a stream entry's flat fields (evt_from_fields;
 * a "json" name among them exercises the mixed form). On success a few
 * lookups and an enrichment run over the result, so use of the arena and
 * the fields array after parsing is checked too. One event is reused for
 * every input, as the daemon reuses one per batch slot.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "util.h"
#include "value.h"

#define MAXPAIRS	(EVENT_MAX_FIELDS + 8)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
poke(struct evt *ev)
{
	static const char *const paths[] = {
		"type", "ts", "csat", "customer.tier", "a.b", "missing", ""
	};
	struct value v;
	size_t i, j;

	for (i = 0; i < ARRAY_LEN(paths); i++) {
		if (evt_lookup(ev, paths[i], &v) && v.kind == V_LIST)
			for (j = 0; j < v.nitems; j++)
				(void)strlen(v.items[j].s);
	}
	for (i = 0; i < ev->nfields; i++) {
		/* every key and text must be a C string of the stated length */
		(void)strlen(ev->fields[i].key);
		if (strlen(ev->fields[i].v.s) > ev->fields[i].v.len)
			abort();
		if (evt_get(ev, ev->fields[i].key) == NULL)
			abort();
	}
	(void)evt_set(ev, "customer.tier", "gold", 4, false);
	if (evt_get(ev, "customer.tier") == NULL && ev->nfields <
	    EVENT_MAX_FIELDS)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct evt ev;
	static int init;
	static const char *names[MAXPAIRS], *vals[MAXPAIRS];
	static size_t nlens[MAXPAIRS], vlens[MAXPAIRS];
	const char *p = (const char *)data, *end = p + size, *nl;
	char err[512];
	size_t n = 0, len;
	int which = 0;

	if (!init) {
		evt_init(&ev);
		init = 1;
	}
	if (evt_from_json(&ev, "fuzz", p, size, 1.0, err, sizeof(err)) ==
	    EVERR_NONE)
		poke(&ev);
	else if (strlen(err) >= sizeof(err))
		abort();

	while (n < MAXPAIRS) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (which == 0) {
			names[n] = p;
			nlens[n] = len;
		} else {
			vals[n] = p;
			vlens[n] = len;
			n++;
		}
		which ^= 1;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (evt_from_fields(&ev, "1700000000123-0", names, nlens, vals,
	    vlens, n, err, sizeof(err)) == EVERR_NONE)
		poke(&ev);
	return 0;
}
