/*
 * intake_body.c — a POST /v1/events body split into its events
 * (intake_int.h), without copying a JSON event: each element of an
 * array is found on the body's own text, after jansson has checked that
 * the whole body is JSON, so every event reaches the stream byte for
 * byte as it was sent (re-encoding would rewrite numbers, 0.1 as
 * 0.10000000000000001). A form's fields are percent-decoded into the
 * entries' arena, binary safe: a %00 reaches the validator, which
 * refuses it as any NUL.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "event.h"
#include "intake_int.h"
#include "util.h"

static void
ent_arg(struct entries *e, const char *s, size_t len)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		e->av = xreallocarray(e->av, e->cap, sizeof(*e->av));
		e->al = xreallocarray(e->al, e->cap, sizeof(*e->al));
	}
	e->av[e->n] = s;
	e->al[e->n++] = len;
}

static void
ent_begin(struct entries *e, const char *stream)
{
	if (e->nev + 2 > e->scap) {
		e->scap = e->scap ? e->scap * 2 : 16;
		e->starts = xreallocarray(e->starts, e->scap,
		    sizeof(*e->starts));
	}
	e->starts[e->nev++] = e->n;
	e->starts[e->nev] = e->n;
	ent_arg(e, "XADD", 4);
	ent_arg(e, stream, strlen(stream));
	ent_arg(e, "*", 1);
}

static void
ent_end(struct entries *e)
{
	e->starts[e->nev] = e->n;
}

void
intake_ent_free(struct entries *e)
{
	free(e->av);
	free(e->al);
	free(e->starts);
	arena_free(&e->ar);
}

/* skip_ws: past JSON whitespace. */
static size_t
skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

/* skip_value: past the JSON value at s[i] (the text is known to be
 * valid JSON: jansson has parsed it). */
static size_t
skip_value(const char *s, size_t i, size_t len)
{
	size_t depth = 0;
	bool in_str = false;

	for (; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"') {
				in_str = false;
				if (depth == 0)
					return i + 1;
			}
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;	/* a scalar's end */
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' ||
		    c == '\n' || c == '\r'))
			return i;
	}
	return i;
}

/* json_events: the events of a JSON body as entries of one "json"
 * field; -1 with msg (and *code) when the body is not that. */
int
intake_json_events(const char *body, size_t len, const char *stream, int max,
    struct entries *e, int *code, char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *j;
	size_t i, start;
	bool array;

	j = json_loadb(body, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL |
	    JSON_ALLOW_NUL, &jerr);
	if (j == NULL) {
		snprintf(msg, msglen, "the body is not JSON: %s (line %d, "
		    "column %d)", jerr.text, jerr.line, jerr.column);
		*code = 400;
		return -1;
	}
	array = json_is_array(j);
	if (array && json_array_size(j) > (size_t)max) {
		snprintf(msg, msglen, "%zu events in one request, over the "
		    "limit of %d (intake.max_events)", json_array_size(j), max);
		json_decref(j);
		*code = 413;
		return -1;
	}
	if (array && json_array_size(j) == 0) {
		snprintf(msg, msglen, "an empty array: no events");
		json_decref(j);
		*code = 400;
		return -1;
	}
	json_decref(j);
	i = skip_ws(body, 0, len);
	if (!array) {
		ent_begin(e, stream);
		ent_arg(e, "json", 4);
		start = i;
		for (i = len; i > start && (body[i - 1] == ' ' ||
		    body[i - 1] == '\t' || body[i - 1] == '\n' ||
		    body[i - 1] == '\r'); i--)
			;
		ent_arg(e, body + start, i - start);
		ent_end(e);
		return 0;
	}
	i++;			/* '[' */
	for (;;) {
		i = skip_ws(body, i, len);
		if (i >= len || body[i] == ']')
			break;
		start = i;
		i = skip_value(body, i, len);
		ent_begin(e, stream);
		ent_arg(e, "json", 4);
		ent_arg(e, body + start, i - start);
		ent_end(e);
		i = skip_ws(body, i, len);
		if (i < len && body[i] == ',')
			i++;
	}
	return 0;
}

/* form_decode: s[0..len) percent-decoded ('+' is a space) into the
 * arena; -1 on a bad escape. */
static int
form_decode(struct arena *ar, const char *s, size_t len, const char **out,
    size_t *outlen)
{
	char *d = arena_alloc(ar, len + 1);
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			d[n++] = ' ';
		else if (s[i] == '%') {
			if (i + 2 >= len ||
			    (hi = hex_digit(s[i + 1])) < 0 ||
			    (lo = hex_digit(s[i + 2])) < 0)
				return -1;
			d[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			d[n++] = s[i];
	}
	d[n] = '\0';
	*out = d;
	*outlen = n;
	return 0;
}

/* form_event: a form body as one entry of flat fields. */
int
intake_form_event(const char *body, size_t len, const char *stream,
    struct entries *e, char *msg, size_t msglen)
{
	size_t i = 0, j, eq, k, first;
	const char *name, *val;
	size_t nlen, vlen;

	ent_begin(e, stream);
	first = e->n;
	while (i < len) {
		for (j = i; j < len && body[j] != '&'; j++)
			;
		if (j == i) {
			i = j + 1;
			continue;
		}
		for (eq = i; eq < j && body[eq] != '='; eq++)
			;
		if (form_decode(&e->ar, body + i, eq - i, &name, &nlen) ==
		    -1 || form_decode(&e->ar, body + eq + (eq < j),
		    j - eq - (eq < j), &val, &vlen) == -1) {
			snprintf(msg, msglen, "bad %%-escape in the form "
			    "field at byte %zu", i);
			return -1;
		}
		for (k = first; k < e->n; k += 2)
			if (e->al[k] == nlen && memcmp(e->av[k], name,
			    nlen) == 0) {
				snprintf(msg, msglen, "form field '%.*s' given "
				    "twice", (int)(nlen > 64 ? 64 : nlen),
				    name);
				return -1;
			}
		if (e->n - first >= 2 * (EVENT_MAX_FIELDS + 1)) {
			snprintf(msg, msglen, "more than %d form fields",
			    EVENT_MAX_FIELDS);
			return -1;
		}
		ent_arg(e, name, nlen);
		ent_arg(e, val, vlen);
		i = j + 1;
	}
	ent_end(e);
	if (e->n == first) {
		snprintf(msg, msglen, "an empty form: no fields");
		return -1;
	}
	return 0;
}

/* media_is: the Content-Type's media type (before any ';') is want. */
bool
intake_media_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ')
		ct++;
	return *ct == '\0' || *ct == ';';
}

