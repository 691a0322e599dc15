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

/* alert_commands: the Redis commands delivering one alert; returns how
 * many it added (syslog alerts are delivered after the commit). saved is
 * reused from call to call (the daemon is one thread), so that steady
 * state does not allocate. */
static int	deliver_commands(struct cmds *, const struct alert *,
		    const struct evt *, const char *);
static int	defer_commands(struct cmds *, const struct alert *,
		    const struct evt *, const char *, const char *);

int
alert_commands(struct cmds *a, const struct alert *al, const struct evt *ev,
    const char *outbox_key, const char *defer_key)
{
	if (defer_key != NULL &&
	    al->deliver_ms > (int64_t)llround(al->fired_ts * 1000.0))
		return defer_commands(a, al, ev, outbox_key, defer_key);
	return deliver_commands(a, al, ev, outbox_key);
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
defer_commands(struct cmds *a, const struct alert *al, const struct evt *ev,
    const char *outbox_key, const char *defer_key)
{
	static struct cmds t;
	static struct buf rec, key;
	char line[LOG_LINE_MAX + 16];
	const char *arg;
	size_t pos, argc, k, len;

	cmds_reset(&t, 64 * 1024);
	(void)deliver_commands(&t, al, ev, outbox_key);
	buf_reset(&rec);
	mp_head(&rec, 0xdd, t.n + 1);
	line[0] = '\0';
	if (al->channel->type == CH_SYSLOG) {
		char raw[LOG_LINE_MAX];

		alert_syslog_line(al, ev, raw, sizeof(raw));
		snprintf(line, sizeof(line), "%d %s", al->channel->priority,
		    raw);
	}
	mp_str(&rec, line, strlen(line));
	pos = 0;
	while (cmds_next(&t, &pos, &argc)) {
		mp_head(&rec, 0xdd, argc);
		for (k = 0; k < argc; k++) {
			if (!cmds_arg(&t, &pos, &arg, &len))
				fatalx("%s: malformed command", __func__);
			mp_str(&rec, arg, len);
		}
	}
	buf_reset(&key);
	buf_printf(&key, "%s:alerts", defer_key);

	cmd_begin(a);
	cmd_str(a, "HSET");
	cmd_arg(a, key.data, key.len);
	cmd_str(a, al->alert_id);
	cmd_arg(a, rec.data, rec.len);
	cmd_end(a);
	cmd_begin(a);
	cmd_str(a, "ZADD");
	cmd_str(a, defer_key);
	cmd_num(a, (long long)al->deliver_ms);
	cmd_str(a, al->alert_id);
	cmd_end(a);
	return 2;
}

static int
deliver_commands(struct cmds *a, const struct alert *al, const struct evt *ev,
    const char *outbox_key)
{
	static struct buf saved;
	const struct channel *ch = al->channel;
	char num[64];

	switch (ch->type) {
	case CH_STREAM:
		cmd_begin(a);
		cmd_str(a, "XADD");
		cmd_str(a, ch->key);
		cmd_str(a, "MAXLEN");
		cmd_str(a, "~");
		cmd_num(a, ch->maxlen);
		cmd_str(a, "*");
		cmd_str(a, "alert_id"); cmd_str(a, al->alert_id);
		cmd_str(a, "case_id"); cmd_str(a, al->case_id);
		cmd_str(a, "rule"); cmd_str(a, al->rule->name);
		cmd_str(a, "severity"); cmd_str(a, severity_name(al->severity));
		cmd_str(a, "step"); cmd_num(a, al->step);
		cmd_str(a, "customer_id");
		cmd_str(a, event_field_text(ev, "customer_id"));
		cmd_str(a, "call_id"); cmd_str(a, event_field_text(ev, "call_id"));
		cmd_str(a, "agent_id");
		cmd_str(a, event_field_text(ev, "agent_id"));
		cmd_str(a, "queue"); cmd_str(a, event_field_text(ev, "queue"));
		cmd_str(a, "event_id"); cmd_str(a, al->event_id);
		cmd_str(a, "fired_at"); cmd_str(a, al->fired_at);
		cmd_str(a, "channel"); cmd_str(a, ch->name);
		cmd_str(a, "message"); cmd_str(a, al->message);
		if (al->has_count) {
			cmd_str(a, "count");
			cmd_num(a, al->count);
		}
		if (al->has_value) {
			engine_format_value(al->value, num, sizeof(num));
			cmd_str(a, "value");
			cmd_str(a, num);
			cmd_str(a, "samples");
			cmd_num(a, al->samples);
		}
		cmd_end(a);
		cmd_begin(a);
		cmd_str(a, "PUBLISH");
		cmd_str(a, ch->key);
		cmd_str(a, al->json);
		cmd_end(a);
		return 2;
	case CH_LIST:
		cmd_begin(a);
		cmd_str(a, "LPUSH");
		cmd_str(a, ch->key);
		cmd_str(a, al->json);
		cmd_end(a);
		return 1;
	case CH_WEBHOOK:
	case CH_EXEC:
		/* The durable record of a delivery to make; the outbox
		 * worker delivers it. An exec program's argv renders over
		 * the event too, long after ev is gone: save it along (a
		 * webhook sends the alert JSON only, so it is not). */
		cmd_begin(a);
		cmd_str(a, "XADD");
		cmd_str(a, outbox_key);
		cmd_str(a, "*");
		cmd_str(a, "alert_id"); cmd_str(a, al->alert_id);
		cmd_str(a, "channel"); cmd_str(a, ch->name);
		cmd_str(a, "attempt"); cmd_str(a, "0");
		cmd_str(a, "alert"); cmd_str(a, al->json);
		if (ch->type == CH_EXEC && ev != NULL) {
			buf_reset(&saved);
			event_save(ev, &saved);
			cmd_str(a, "event");
			cmd_arg(a, saved.data, saved.len);
		}
		cmd_end(a);
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
