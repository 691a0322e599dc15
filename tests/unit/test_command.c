/*
 * test_command.c — people's commands (command.h): what command_parse
 * refuses (unknown ops and fields, case IDs that could name another key,
 * hostile names, notes and reply tokens), and what command_apply does to
 * a store and answers: ack, ack again, ack of a resolved case, resolve
 * and resolve again, an unknown case, and a refused command that changes
 * nothing. The daemon's owner and recoveryctl test both run these.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "config.h"
#include "event.h"
#include "harness.h"
#include "sim.h"
#include "store.h"
#include "testconf.h"
#include "util.h"

static const char conf_text[] =
"channels:\n"
"  sup: {type: stream, key: ivr:alerts}\n"
"rules:\n"
"  - name: low\n"
"    on: rating\n"
"    if: csat <= 2\n"
"    actions: [{notify: sup}]\n"
"    escalate: [{after: 1h, notify: sup}]\n";

/* parse: fields as "name", "value", ... (n pairs). */
static int
parse(struct command *c, size_t n, const char *const *kv, const size_t *vl)
{
	const char *names[16], *vals[16];
	size_t nl[16], vls[16], i;

	for (i = 0; i < n && i < 16; i++) {
		names[i] = kv[2 * i];
		nl[i] = strlen(kv[2 * i]);
		vals[i] = kv[2 * i + 1];
		vls[i] = vl != NULL && vl[i] != 0 ? vl[i] :
		    strlen(kv[2 * i + 1]);
	}
	return command_parse(c, names, nl, vals, vls, n);
}

static void
test_parse(void)
{
	struct command c;
	char big[CMD_NOTE_MAX + 2], longby[CMD_BY_MAX + 2];
	static const struct {
		const char	*name;
		const char	*kv[12];
		size_t		 n;
		const char	*err;	/* NULL: accepted */
	} rows[] = {
		{ "ack", { "op", "ack", "case", "c-1-0", "by", "ana" }, 3,
		    NULL },
		{ "resolve without by", { "op", "resolve", "case", "c-1" }, 2,
		    NULL },
		{ "ack without by", { "op", "ack", "case", "c-1" }, 2,
		    "missing by" },
		{ "no op", { "case", "c-1", "by", "a" }, 2, "missing op" },
		{ "unknown op", { "op", "drop", "case", "c-1" }, 2,
		    "op is not ack or resolve" },
		{ "no case", { "op", "resolve" }, 1, "missing case" },
		{ "case naming an EVENT key", { "op", "resolve", "case",
		    "c-1:event" }, 2, "case is not an ID" },
		{ "case with a glob", { "op", "resolve", "case", "c-*" }, 2,
		    "case is not an ID" },
		{ "case with a brace", { "op", "resolve", "case", "{c}" }, 2,
		    "case is not an ID" },
		{ "empty case", { "op", "resolve", "case", "" }, 2,
		    "case is not an ID" },
		{ "by with a newline", { "op", "ack", "case", "c-1", "by",
		    "ana\nroot" }, 3, "by is not a name" },
		{ "empty by", { "op", "ack", "case", "c-1", "by", "" }, 3,
		    "by is not a name" },
		{ "unknown field", { "op", "ack", "case", "c-1", "by", "a",
		    "state", "open" }, 4, "unknown field 'state'" },
		{ "reply key injection", { "op", "ack", "case", "c-1", "by",
		    "a", "reply", "x:y" }, 4, "reply is not a token" },
		{ "at is informative", { "op", "ack", "case", "c-1", "by", "a",
		    "at", "123" }, 4, NULL },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(rows); i++) {
		int rc = parse(&c, rows[i].n, rows[i].kv, NULL);

		if (rows[i].err == NULL)
			CHECKF(rc == 0 && c.op != CMD_NONE, "%s: refused: %s",
			    rows[i].name, c.err);
		else
			CHECKF(rc == -1 && c.op == CMD_NONE &&
			    strstr(c.err, rows[i].err) != NULL,
			    "%s: rc %d, err \"%s\"", rows[i].name, rc, c.err);
		command_free(&c);
	}

	/* A refused command keeps its reply token, to be answered. */
	{
		const char *kv[] = { "op", "drop", "case", "c-1", "reply",
		    "tok_1-A" };
		CHECK(parse(&c, 3, kv, NULL) == -1);
		CHECK_STR(c.reply, "tok_1-A");
		CHECK_STR(c.case_id, "c-1");
		command_free(&c);
	}
	/* Bounds: the longest note and name pass, one byte more does not. */
	memset(big, 'n', sizeof(big));
	big[CMD_NOTE_MAX] = '\0';
	memset(longby, 'b', sizeof(longby));
	longby[CMD_BY_MAX] = '\0';
	{
		const char *kv[] = { "op", "ack", "case", "c-1", "by", longby,
		    "note", big };
		CHECK(parse(&c, 4, kv, NULL) == 0);
		CHECK(c.note != NULL && strlen(c.note) == CMD_NOTE_MAX);
		command_free(&c);
		big[CMD_NOTE_MAX] = 'n';
		big[CMD_NOTE_MAX + 1] = '\0';
		CHECK(parse(&c, 4, kv, NULL) == -1);
		command_free(&c);
		longby[CMD_BY_MAX] = 'b';
		longby[CMD_BY_MAX + 1] = '\0';
		kv[7] = "ok";
		CHECK(parse(&c, 4, kv, NULL) == -1);
		command_free(&c);
	}
	/* A NUL inside a value. */
	{
		const char *kv[] = { "op", "ack", "case", "c-1", "by", "a\0b" };
		size_t vl[] = { 0, 0, 3 };
		CHECK(parse(&c, 3, kv, vl) == -1);
		command_free(&c);
	}
	/* Too many fields. */
	{
		const char *kv[] = { "op", "ack", "case", "c-1", "by", "a",
		    "at", "1", "at", "2", "at", "3", "at", "4", "at", "5",
		    "at", "6" };
		CHECK(parse(&c, 9, kv, NULL) == -1 &&
		    strstr(c.err, "too many") != NULL);
		command_free(&c);
	}
}

/* run: parse and apply a command; its answer in out. */
static int
run(struct store *st, struct buf *out, int64_t now, const char *op,
    const char *id, const char *by, const char *note)
{
	const char *kv[8];
	struct command c;
	size_t n = 0;
	int rc;

	kv[2 * n] = "op";
	kv[2 * n++ + 1] = op;
	kv[2 * n] = "case";
	kv[2 * n++ + 1] = id;
	if (by != NULL) {
		kv[2 * n] = "by";
		kv[2 * n++ + 1] = by;
	}
	if (note != NULL) {
		kv[2 * n] = "note";
		kv[2 * n++ + 1] = note;
	}
	(void)parse(&c, n, kv, NULL);
	buf_reset(out);
	rc = command_apply(st, &c, now, out);
	buf_putc(out, '\0');
	command_free(&c);
	return rc;
}

static void
test_apply(const struct config *cf)
{
	struct sim *s = sim_new(cf);
	struct evt ev;
	struct buf out;
	char err[256], id[ENGINE_ID_MAX];
	const char *json = "{\"type\":\"rating\",\"customer_id\":\"K1\","
	    "\"call_id\":\"C1\",\"csat\":1,\"ts\":100}";
	const char *open;

	buf_init(&out);
	evt_init(&ev);
	CHECK(evt_from_json(&ev, "1-0", json, strlen(json), 0, err,
	    sizeof(err)) == EVERR_NONE);
	sim_event(s, &ev, 100000);
	open = store_case_of(s->st, "K1");
	CHECK(open != NULL);
	snprintf(id, sizeof(id), "%s", open != NULL ? open : "");
	CHECK_STR(store_case_state(s->st, id), "open");
	CHECK_INT(store_next_due(s->st), 100000 + 3600000);

	CHECK_INT(run(s->st, &out, 200000, "ack", id, "ana", "called"), 0);
	CHECK(strstr(out.data, "\"ok\":true") != NULL &&
	    strstr(out.data, "\"was\":\"open\"") != NULL &&
	    strstr(out.data, "\"state\":\"acknowledged\"") != NULL);
	CHECK_STR(store_case_state(s->st, id), "acknowledged");
	CHECKF(store_next_due(s->st) == -1, "the ack left a step pending");
	/* again: nothing changes, still ok */
	CHECK_INT(run(s->st, &out, 210000, "ack", id, "ben", NULL), 0);
	CHECK(strstr(out.data, "\"was\":\"acknowledged\"") != NULL);
	/* the customer's case is still this one */
	CHECK(store_case_of(s->st, "K1") != NULL &&
	    strcmp(store_case_of(s->st, "K1"), id) == 0);

	CHECK_INT(run(s->st, &out, 300000, "resolve", id, NULL, "refund"), 0);
	CHECK_STR(store_case_state(s->st, id), "resolved");
	CHECK(strstr(out.data, "\"resolved_at\":\"1970-01-01T00:05:00") !=
	    NULL);
	CHECK(store_case_of(s->st, "K1") == NULL);
	CHECK_INT(run(s->st, &out, 310000, "resolve", id, NULL, NULL), 0);
	CHECK(strstr(out.data, "\"was\":\"resolved\"") != NULL);
	CHECK_INT(run(s->st, &out, 320000, "ack", id, "ana", NULL), -1);
	CHECK(strstr(out.data, "\"code\":\"resolved\"") != NULL &&
	    strstr(out.data, "\"resolved_at\":\"1970-01-01T00:05:00") != NULL);

	CHECK_INT(run(s->st, &out, 0, "ack", "c-nope", "ana", NULL), -1);
	CHECK(strstr(out.data, "\"code\":\"nocase\"") != NULL &&
	    strstr(out.data, "no case 'c-nope'") != NULL);
	CHECK_INT(run(s->st, &out, 0, "drop", id, "ana", NULL), -1);
	CHECK(strstr(out.data, "\"code\":\"invalid\"") != NULL);
	/* sim_ack is the same command */
	CHECK_INT(sim_ack(s, id, 400000), -1);
	buf_free(&out);
	evt_free(&ev);
	sim_free(s);
}

int
main(void)
{
	struct config *cf = load_config_text(conf_text);

	CHECK(cf != NULL);
	test_parse();
	if (cf != NULL)
		test_apply(cf);
	config_free(cf);
	return harness_done();
}
