/*
 * silence.c — silences (silence.h): a set, its stored form and the
 * matching that the store's callers apply before deciding.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "silence.h"

void
silences_init(struct silences *set)
{
	memset(set, 0, sizeof(*set));
}

static void
silence_release(struct silence *s)
{
	free(s->rule);
	free(s->queue);
	free(s->agent);
	free(s->customer);
	free(s->reason);
	free(s->by);
}

void
silences_clear(struct silences *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		silence_release(&set->v[i]);
	set->n = 0;
}

void
silences_pop(struct silences *set)
{
	if (set->n > 0)
		silence_release(&set->v[--set->n]);
}

void
silences_free(struct silences *set)
{
	silences_clear(set);
	free(set->v);
	silences_init(set);
}

/* dup_given: a matcher's text, or NULL for one not given (NULL or ""). */
static char *
dup_given(const char *s)
{
	return s != NULL && s[0] != '\0' ? xstrdup(s) : NULL;
}

struct silence *
silence_find(const struct silences *set, const char *id)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->v[i].id, id) == 0)
			return &set->v[i];
	return NULL;
}

int
silence_add(struct silences *set, const struct silence *s, char *err,
    size_t errlen)
{
	struct silence *d;

	if (s->id[0] == '\0' || strlen(s->id) >= SILENCE_ID_MAX) {
		snprintf(err, errlen, "a silence needs an ID (at most %d "
		    "bytes)", SILENCE_ID_MAX - 1);
		return -1;
	}
	if (silence_find(set, s->id) != NULL) {
		snprintf(err, errlen, "silence %s: given twice", s->id);
		return -1;
	}
	/* A silence of everything would hide every alert: say what. */
	if ((s->rule == NULL || s->rule[0] == '\0') &&
	    (s->queue == NULL || s->queue[0] == '\0') &&
	    (s->agent == NULL || s->agent[0] == '\0') &&
	    (s->customer == NULL || s->customer[0] == '\0')) {
		snprintf(err, errlen, "silence %s: needs at least one of "
		    "rule, queue, agent, customer", s->id);
		return -1;
	}
	if (s->ends_ms <= s->starts_ms) {
		snprintf(err, errlen, "silence %s: ends before it starts",
		    s->id);
		return -1;
	}
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		set->v = xreallocarray(set->v, set->cap, sizeof(*set->v));
	}
	d = &set->v[set->n++];
	memset(d, 0, sizeof(*d));
	(void)str_copy(d->id, sizeof(d->id), s->id);
	d->rule = dup_given(s->rule);
	d->queue = dup_given(s->queue);
	d->agent = dup_given(s->agent);
	d->customer = dup_given(s->customer);
	d->reason = dup_given(s->reason);
	d->by = dup_given(s->by);
	d->starts_ms = s->starts_ms;
	d->ends_ms = s->ends_ms;
	d->count = s->count;
	return 0;
}

/* text: a string member of o, or NULL (absent or not a string). */
static const char *
text(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int
silence_load(struct silences *set, const char *id, size_t idlen,
    const char *json, size_t len, char *err, size_t errlen)
{
	struct silence s;
	json_t *o, *st, *en;
	int rc;

	memset(&s, 0, sizeof(s));
	if (idlen == 0 || idlen >= sizeof(s.id) || memchr(id, '\0', idlen)) {
		snprintf(err, errlen, "a silence ID of %zu bytes", idlen);
		return -1;
	}
	memcpy(s.id, id, idlen);
	if ((o = json_loadb(json, len, 0, NULL)) == NULL ||
	    !json_is_object(o)) {
		snprintf(err, errlen, "silence %s: not a JSON object", s.id);
		json_decref(o);
		return -1;
	}
	st = json_object_get(o, "starts_ms");
	en = json_object_get(o, "ends_ms");
	if (!json_is_integer(st) || !json_is_integer(en)) {
		snprintf(err, errlen, "silence %s: no starts_ms, ends_ms",
		    s.id);
		json_decref(o);
		return -1;
	}
	s.starts_ms = json_integer_value(st);
	s.ends_ms = json_integer_value(en);
	s.rule = (char *)text(o, "rule");
	s.queue = (char *)text(o, "queue");
	s.agent = (char *)text(o, "agent");
	s.customer = (char *)text(o, "customer");
	s.reason = (char *)text(o, "reason");
	s.by = (char *)text(o, "by");
	rc = silence_add(set, &s, err, errlen);	/* copies */
	json_decref(o);
	return rc;
}

static void
member(struct buf *out, const char *key, const char *val)
{
	if (val == NULL)
		return;
	buf_printf(out, ",\"%s\":", key);
	buf_json_string(out, val, strlen(val));
}

void
silence_json(const struct silence *s, struct buf *out)
{
	buf_puts(out, "{\"id\":");
	buf_json_string(out, s->id, strlen(s->id));
	member(out, "rule", s->rule);
	member(out, "queue", s->queue);
	member(out, "agent", s->agent);
	member(out, "customer", s->customer);
	buf_printf(out, ",\"starts_ms\":%" PRId64 ",\"ends_ms\":%" PRId64,
	    s->starts_ms, s->ends_ms);
	member(out, "reason", s->reason);
	member(out, "by", s->by);
	buf_putc(out, '}');
}

bool
silence_active(const struct silence *s, int64_t t_ms)
{
	return t_ms >= s->starts_ms && t_ms < s->ends_ms;
}

/* eq: matcher m (NULL: any) against value v ("" when absent). */
static bool
eq(const char *m, const char *v)
{
	return m == NULL || (v != NULL && strcmp(m, v) == 0);
}

const struct silence *
silence_match(const struct silences *set, const char *rule,
    const char *queue, const char *agent, const char *customer,
    int64_t t_ms)
{
	size_t i;

	if (set == NULL)
		return NULL;
	for (i = 0; i < set->n; i++) {
		const struct silence *s = &set->v[i];

		if (silence_active(s, t_ms) && eq(s->rule, rule) &&
		    eq(s->queue, queue) && eq(s->agent, agent) &&
		    eq(s->customer, customer))
			return s;
	}
	return NULL;
}

size_t
silences_mark(const struct silences *set, struct state_req *req)
{
	size_t i, n = 0;

	for (i = 0; i < req->n; i++) {
		struct state_cand *c = &req->c[i];

		c->silence = set == NULL || set->n == 0 ? NULL :
		    silence_match(set, c->rule->name, req->queue,
		    req->agent_id, req->customer_id, req->now_ms);
		if (c->silence != NULL)
			n++;
	}
	return n;
}

size_t
silences_count(struct silences *set, const struct state_req *req)
{
	size_t i, n = 0, k;

	for (i = 0; i < req->n; i++) {
		const struct state_cand *c = &req->c[i];

		if (!c->fired || c->silence == NULL)
			continue;
		n++;
		k = (size_t)(c->silence - set->v);
		if (k < set->n)
			set->v[k].count++;
	}
	return n;
}
