/*
 * alertcmd.c — alerts as Redis commands (see alertcmd.h). Shared by the
 * consumer (step 0 alerts of events) and the escalation worker. Also the
 * bounded copy of an event's fields that a case keeps for its escalation
 * steps and an exec delivery keeps for its argv.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "alertcmd.h"
#include "config.h"
#include "log.h"

void
args_add(struct args *a, const char *s, size_t len)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 256;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
		a->l = xreallocarray(a->l, a->cap, sizeof(*a->l));
	}
	a->v[a->n] = s;
	a->l[a->n] = len;
	a->n++;
}

void
args_str(struct args *a, const char *s)
{
	args_add(a, s, strlen(s));
}

/* args_num: a number, formatted into the batch arena. */
void
args_num(struct args *a, struct arena *ar, long long n)
{
	char tmp[FMT_LL_MAX];
	size_t l = fmt_ll(tmp, n);

	args_add(a, arena_strndup(ar, tmp, l), l);
}

/* A command's argc is known only after its arguments: reserve a slot. */
size_t
args_slot(struct args *a)
{
	args_add(a, NULL, 0);
	return a->n - 1;
}

void
args_fill(struct args *a, struct arena *ar, size_t slot, long long n)
{
	char tmp[FMT_LL_MAX];
	size_t l = fmt_ll(tmp, n);

	a->v[slot] = arena_strndup(ar, tmp, l);
	a->l[slot] = l;
}

const char *
event_field_text(const struct evt *ev, const char *path)
{
	const struct value *v = evt_get(ev, path);

	return v == NULL || v->kind == V_NULL || v->kind == V_LIST ||
	    v->s == NULL ? "" : v->s;
}

/*
 * event_save: append the saved event of ev to out (see ALERT_EVENT_MAX in
 * alertcmd.h): the members tmpl_fields_save writes, in the same order,
 * each one dropped again when it would take the object past the cap.
 * O(fields); allocates only when out must grow.
 */
static void
event_save(const struct evt *ev, struct buf *out)
{
	const struct evt_field *f;
	size_t i, start = out->len, mark, left_out = 0;
	bool first = true;

	buf_putc(out, '{');
	for (i = 0; i < ev->nfields; i++) {
		f = &ev->fields[i];
		if (f->v.kind == V_MISSING || f->v.kind == V_NULL ||
		    f->v.s == NULL)
			continue;
		mark = out->len;
		if (!first)
			buf_putc(out, ',');
		buf_json_string(out, f->key, strlen(f->key));
		buf_putc(out, ':');
		buf_json_string(out, f->v.s, f->v.len);
		if (out->len - start + 1 > ALERT_EVENT_MAX) {	/* + '}' */
			out->len = mark;
			out->data[mark] = '\0';
			left_out++;
			continue;
		}
		first = false;
	}
	buf_putc(out, '}');
	if (left_out > 0)
		log_info("event %s: %zu field%s left out of its saved copy "
		    "(at most %d bytes); templates render %s empty", ev->id,
		    left_out, left_out == 1 ? "" : "s", ALERT_EVENT_MAX,
		    left_out == 1 ? "it" : "them");
}

void
alert_event_save(const struct evt *ev, struct buf *out)
{
	event_save(ev, out);
}

int
case_event_command(struct args *a, struct arena *ar, struct buf *scratch,
    const char *prefix, const struct case_ref *cr, const struct evt *ev)
{
	char key[ENGINE_ID_MAX + 64];
	int l;

	if (cr == NULL || !cr->opened || cr->case_id[0] == '\0')
		return 0;
	l = snprintf(key, sizeof(key), "%scase:%s", prefix, cr->case_id);
	if (l < 0 || (size_t)l >= sizeof(key))
		return 0;
	buf_reset(scratch);
	event_save(ev, scratch);
	args_num(a, ar, 4);
	args_str(a, "HSET");
	args_add(a, arena_strndup(ar, key, (size_t)l), (size_t)l);
	args_str(a, "event");
	args_add(a, arena_strndup(ar, scratch->data, scratch->len),
	    scratch->len);
	return 1;
}

/* alert_commands: the Redis commands delivering one alert; returns how
 * many it added (syslog alerts are delivered after the commit). saved is
 * reused from call to call (the daemon is one thread), so that steady
 * state does not allocate; the arena holds each command's copy. */
static int	deliver_commands(struct args *, struct arena *,
		    const struct alert *, const struct evt *, const char *);
static int	defer_commands(struct args *, struct arena *,
		    const struct alert *, const struct evt *, const char *,
		    const char *);

int
alert_commands(struct args *a, struct arena *ar, const struct alert *al,
    const struct evt *ev, const char *outbox_key, const char *defer_key)
{
	if (defer_key != NULL &&
	    al->deliver_ms > (int64_t)llround(al->fired_ts * 1000.0))
		return defer_commands(a, ar, al, ev, outbox_key, defer_key);
	return deliver_commands(a, ar, al, ev, outbox_key);
}

/* msgpack (the subset cmsgpack in Redis reads): str 32 and array 32. */
static void
mp_head(struct buf *b, unsigned char tag, size_t n)
{
	unsigned char h[5];

	h[0] = tag;
	h[1] = (unsigned char)(n >> 24);
	h[2] = (unsigned char)(n >> 16);
	h[3] = (unsigned char)(n >> 8);
	h[4] = (unsigned char)n;
	buf_append(b, (const char *)h, sizeof(h));
}

static void
mp_str(struct buf *b, const char *s, size_t len)
{
	mp_head(b, 0xdb, len);
	buf_append(b, s, len);
}

/*
 * defer_commands: an alert that must wait for its calendar. What would
 * deliver it now (deliver_commands) is kept, as data, in the hash
 * <defer_key>:alerts under its alert ID — a msgpack array: the syslog
 * line ("<priority> <line>", or "" for other channels), then each
 * command as an array of its arguments — and the ID goes into the
 * sorted set defer_key, scored by when it may go out. The delivery
 * script (outbox.c) runs those commands once that time has come, in one
 * atomic step that also removes the record: it goes out once, however
 * many daemons run and whenever they restart. Returns 2 (HSET, ZADD).
 */
static int
defer_commands(struct args *a, struct arena *ar, const struct alert *al,
    const struct evt *ev, const char *outbox_key, const char *defer_key)
{
	static struct args t;
	static struct buf rec, key;
	char line[LOG_LINE_MAX + 16];
	size_t i, ncmd = 0, slot;
	long argc;

	t.n = 0;
	(void)deliver_commands(&t, ar, al, ev, outbox_key);
	for (i = 0; i < t.n; i += (size_t)argc + 1) {
		argc = strtol(t.v[i], NULL, 10);
		ncmd++;
	}
	buf_reset(&rec);
	mp_head(&rec, 0xdd, ncmd + 1);
	line[0] = '\0';
	if (al->channel->type == CH_SYSLOG) {
		char raw[LOG_LINE_MAX];

		alert_syslog_line(al, ev, raw, sizeof(raw));
		snprintf(line, sizeof(line), "%d %s", al->channel->priority,
		    raw);
	}
	mp_str(&rec, line, strlen(line));
	for (i = 0; i < t.n; i += (size_t)argc + 1) {
		size_t k;

		argc = strtol(t.v[i], NULL, 10);
		mp_head(&rec, 0xdd, (size_t)argc);
		for (k = 1; k <= (size_t)argc; k++)
			mp_str(&rec, t.v[i + k], t.l[i + k]);
	}
	buf_reset(&key);
	buf_printf(&key, "%s:alerts", defer_key);

	slot = args_slot(a);
	args_str(a, "HSET");
	args_add(a, arena_strndup(ar, key.data, key.len), key.len);
	args_str(a, al->alert_id);
	args_add(a, arena_strndup(ar, rec.data, rec.len), rec.len);
	args_fill(a, ar, slot, 4);
	slot = args_slot(a);
	args_str(a, "ZADD");
	args_str(a, defer_key);
	args_num(a, ar, (long long)al->deliver_ms);
	args_str(a, al->alert_id);
	args_fill(a, ar, slot, 4);
	return 2;
}

static int
deliver_commands(struct args *a, struct arena *ar, const struct alert *al,
    const struct evt *ev, const char *outbox_key)
{
	static struct buf saved;
	const struct channel *ch = al->channel;
	char num[64];
	size_t slot, start;

	switch (ch->type) {
	case CH_STREAM:
		slot = args_slot(a);
		start = a->n;
		args_str(a, "XADD");
		args_str(a, ch->key);
		args_str(a, "MAXLEN");
		args_str(a, "~");
		args_num(a, ar, ch->maxlen);
		args_str(a, "*");
		args_str(a, "alert_id"); args_str(a, al->alert_id);
		args_str(a, "case_id"); args_str(a, al->case_id);
		args_str(a, "rule"); args_str(a, al->rule->name);
		args_str(a, "severity"); args_str(a, severity_name(al->severity));
		args_str(a, "step"); args_num(a, ar, al->step);
		args_str(a, "customer_id");
		args_str(a, event_field_text(ev, "customer_id"));
		args_str(a, "call_id"); args_str(a, event_field_text(ev, "call_id"));
		args_str(a, "agent_id");
		args_str(a, event_field_text(ev, "agent_id"));
		args_str(a, "queue"); args_str(a, event_field_text(ev, "queue"));
		args_str(a, "event_id"); args_str(a, al->event_id);
		args_str(a, "fired_at"); args_str(a, al->fired_at);
		args_str(a, "channel"); args_str(a, ch->name);
		args_str(a, "message"); args_str(a, al->message);
		if (al->has_count) {
			args_str(a, "count");
			args_num(a, ar, al->count);
		}
		if (al->has_value) {
			engine_format_value(al->value, num, sizeof(num));
			args_str(a, "value");
			args_str(a, arena_strndup(ar, num, strlen(num)));
			args_str(a, "samples");
			args_num(a, ar, al->samples);
		}
		args_fill(a, ar, slot, (long long)(a->n - start));
		slot = args_slot(a);
		args_str(a, "PUBLISH");
		args_str(a, ch->key);
		args_str(a, al->json);
		args_fill(a, ar, slot, 3);
		return 2;
	case CH_LIST:
		slot = args_slot(a);
		args_str(a, "LPUSH");
		args_str(a, ch->key);
		args_str(a, al->json);
		args_fill(a, ar, slot, 3);
		return 1;
	case CH_WEBHOOK:
	case CH_EXEC:
		/* The durable record of a delivery to make; the outbox
		 * worker delivers it. An exec program's argv renders over
		 * the event too, long after ev is gone: save it along (a
		 * webhook sends the alert JSON only, so it is not). */
		slot = args_slot(a);
		start = a->n;
		args_str(a, "XADD");
		args_str(a, outbox_key);
		args_str(a, "*");
		args_str(a, "alert_id"); args_str(a, al->alert_id);
		args_str(a, "channel"); args_str(a, ch->name);
		args_str(a, "attempt"); args_str(a, "0");
		args_str(a, "alert"); args_str(a, al->json);
		if (ch->type == CH_EXEC && ev != NULL) {
			buf_reset(&saved);
			event_save(ev, &saved);
			args_str(a, "event");
			args_add(a, arena_strndup(ar, saved.data, saved.len),
			    saved.len);
		}
		args_fill(a, ar, slot, (long long)(a->n - start));
		return 1;
	case CH_SYSLOG:
		return 0;
	}
	return 0;
}


/* alert_syslog: one line per alert. The customer ID and the message come
 * from the event, so the line is escaped (log_escape: a newline becomes
 * "\n") and can never forge a second syslog entry; cut at LOG_LINE_MAX. */
void
alert_syslog_line(const struct alert *al, const struct evt *ev, char *line,
    size_t len)
{
	const char *cust = event_field_text(ev, "customer_id");
	char raw[LOG_LINE_MAX];

	snprintf(raw, sizeof(raw), "rule=%s case=%s step=%d customer=%s %s",
	    al->rule->name, al->case_id[0] ? al->case_id : "-", al->step,
	    cust[0] ? cust : "-", al->message);
	log_escape(line, len, raw);
}

void
alert_syslog(const struct alert *al, const struct evt *ev)
{
	char line[LOG_LINE_MAX];

	alert_syslog_line(al, ev, line, sizeof(line));
	syslog(al->channel->priority, "%s", line);
}
