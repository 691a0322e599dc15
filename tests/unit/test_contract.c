/*
 * test_contract.c — the published input contract, validator side: every
 * event of tests/events/cases.jsonl through evt_from_json (the "json"
 * field of a stream entry, an element of an intake body) must get the
 * verdict and reason of its line; an event of flat scalars must get the
 * same verdict as flat fields (evt_from_fields, the stream's flat form).
 * tests/test_contract.sh checks the same table against
 * docs/events.schema.json, so the schema and the validator cannot drift.
 * Run from the repository's top directory (tests/run.sh does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "event.h"
#include "harness.h"

#define TABLE	"tests/events/cases.jsonl"

/* flat_verdict: the event's top-level scalars as flat fields; -1 when it
 * has a null, an object or a list, or a type that is not text (no flat
 * form). */
static int
flat_verdict(json_t *ev, struct evt *e, char *err, size_t errlen)
{
	const char *names[64], *vals[64], *k;
	size_t nl[64], vl[64], n = 0, i;
	char *dumped[64];
	json_t *v;
	int rc;

	/* A flat field is text: a "type" that is not text has no flat
	 * form that keeps its verdict. */
	if (json_object_get(ev, "type") != NULL &&
	    !json_is_string(json_object_get(ev, "type")))
		return -1;
	json_object_foreach(ev, k, v) {
		if (n == 64 || json_is_null(v) || json_is_object(v) ||
		    json_is_array(v)) {
			for (i = 0; i < n; i++)
				free(dumped[i]);
			return -1;
		}
		names[n] = k;
		nl[n] = strlen(k);
		if (json_is_string(v)) {
			dumped[n] = strdup(json_string_value(v));
			vl[n] = json_string_length(v);
		} else {
			dumped[n] = json_dumps(v, JSON_ENCODE_ANY);
			vl[n] = strlen(dumped[n]);
		}
		vals[n] = dumped[n];
		n++;
	}
	rc = evt_from_fields(e, "1796000000000-0", names, nl, vals, vl, n,
	    err, errlen);
	for (i = 0; i < n; i++)
		free(dumped[i]);
	return rc;
}

int
main(void)
{
	FILE *fp = fopen(TABLE, "r");
	char *line = NULL, *text, err[512], id[32];
	size_t cap = 0, lineno = 0, rows = 0;
	ssize_t len;
	struct evt e;
	json_error_t jerr;
	json_t *row, *ev;
	enum event_err got;
	int flat;

	CHECKF(fp != NULL, "%s: cannot open (run from the top directory)",
	    TABLE);
	if (fp == NULL)
		return harness_done();
	evt_init(&e);
	while ((len = getline(&line, &cap, fp)) != -1) {
		const char *verdict, *reason, *note;

		lineno++;
		if (len <= 1 || line[0] == '#')
			continue;
		row = json_loads(line, 0, &jerr);
		CHECKF(row != NULL, "%s:%zu: %s", TABLE, lineno, jerr.text);
		if (row == NULL)
			continue;
		rows++;
		verdict = json_string_value(json_object_get(row, "verdict"));
		reason = json_string_value(json_object_get(row, "reason"));
		note = json_string_value(json_object_get(row, "note"));
		ev = json_object_get(row, "event");
		text = json_dumps(ev, JSON_ENCODE_ANY | JSON_COMPACT);
		snprintf(id, sizeof(id), "line:%zu", lineno);
		got = evt_from_json(&e, id, text, strlen(text), 1796000000,
		    err, sizeof(err));
		if (verdict != NULL && strcmp(verdict, "valid") == 0)
			CHECKF(got == EVERR_NONE, "%s:%zu (%s): want valid, "
			    "got %s: %s", TABLE, lineno, note,
			    evt_err_reason(got), err);
		else
			CHECKF(got != EVERR_NONE && reason != NULL &&
			    strcmp(evt_err_reason(got), reason) == 0,
			    "%s:%zu (%s): want invalid (%s), got %s", TABLE,
			    lineno, note, reason ? reason : "?",
			    evt_err_reason(got));
		if (json_is_object(ev) &&
		    (flat = flat_verdict(ev, &e, err, sizeof(err))) != -1)
			CHECKF((flat == EVERR_NONE) == (got == EVERR_NONE),
			    "%s:%zu (%s): flat fields %s, JSON %s", TABLE,
			    lineno, note, evt_err_reason(flat),
			    evt_err_reason(got));
		free(text);
		json_decref(row);
	}
	CHECKF(rows >= 40, "%s: %zu rows, want at least 40", TABLE, rows);
	free(line);
	fclose(fp);
	evt_free(&e);
	return harness_done();
}
