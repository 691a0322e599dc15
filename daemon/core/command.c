/*
 * command.c — people's changes to cases: parsed, checked and applied to
 * the store (command.h). No I/O: the daemon reads and answers them, the
 * test runner makes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"

static bool
is(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

static bool
id_char(unsigned char ch, bool dot)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
	    (dot && ch == '.');
}

bool
command_case_ok(const char *id, size_t len)
{
	size_t i;

	if (len == 0 || len >= ENGINE_ID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!id_char((unsigned char)id[i], true))
			return false;
	return true;
}

bool
command_token_ok(const char *tok, size_t len)
{
	size_t i;

	if (len == 0 || len > CMD_TOKEN_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!id_char((unsigned char)tok[i], false))
			return false;
	return true;
}

size_t
command_xadd(const char **av, size_t cap, const char *stream,
    const char *const *names, const char *const *vals, size_t n,
    const char *token, const char *at)
{
	size_t argc = 0, i;

	if (cap < 10 + 2 * n)
		return 0;
	av[argc++] = "XADD";
	av[argc++] = stream;
	av[argc++] = "MAXLEN";
	av[argc++] = "~";
	av[argc++] = CMD_STREAM_MAXLEN;
	av[argc++] = "*";
	for (i = 0; i < n; i++)
		if (vals[i] != NULL) {
			av[argc++] = names[i];
			av[argc++] = vals[i];
		}
	av[argc++] = "reply";
	av[argc++] = token;
	av[argc++] = "at";
	av[argc++] = at;
	return argc;
}

/* text_ok: no NUL, and with ctl false no control character either. */
static bool
text_ok(const char *s, size_t len, bool ctl)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\0' || (!ctl && ((unsigned char)s[i] < 0x20 ||
		    s[i] == 0x7f)))
			return false;
	return true;
}

static int
refuse(struct command *c, const char *why)
{
	(void)str_copy(c->err, sizeof(c->err), why);
	c->op = CMD_NONE;
	return -1;
}

int
command_parse(struct command *c, const char *const *names,
    const size_t *nlens, const char *const *vals, const size_t *vlens,
    size_t n)
{
	const char *op = NULL, *cid = NULL, *by = NULL, *note = NULL;
	const char *code = NULL, *to = NULL;
	size_t opl = 0, cidl = 0, byl = 0, notel = 0, codel = 0, tol = 0, i;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < n; i++) {
		const char *k = names[i], *v = vals[i];
		size_t kl = nlens[i], vl = vlens[i];

		if (is(k, kl, "op")) {
			op = v;
			opl = vl;
		} else if (is(k, kl, "case")) {
			cid = v;
			cidl = vl;
		} else if (is(k, kl, "by")) {
			by = v;
			byl = vl;
		} else if (is(k, kl, "note")) {
			note = v;
			notel = vl;
		} else if (is(k, kl, "code")) {
			code = v;
			codel = vl;
		} else if (is(k, kl, "to")) {
			to = v;
			tol = vl;
		} else if (is(k, kl, "reply")) {
			if (command_token_ok(v, vl))
				memcpy(c->reply, v, vl);
			else
				rc = refuse(c, "reply is not a token of "
				    "1 to 64 letters, digits, '-' or '_'");
		} else if (is(k, kl, "at")) {
			;	/* informative */
		} else if (rc == 0) {
			snprintf(c->err, sizeof(c->err), "unknown field "
			    "'%.*s'", (int)(kl < 64 ? kl : 64), k);
			rc = -1;
		}
	}
	if (n > CMD_MAX_FIELDS && rc == 0)
		rc = refuse(c, "too many fields");
	if (cid != NULL && command_case_ok(cid, cidl))
		memcpy(c->case_id, cid, cidl);
	if (rc != 0) {
		c->op = CMD_NONE;
		return -1;
	}
	if (op == NULL)
		return refuse(c, "missing op");
	if (is(op, opl, "ack"))
		c->op = CMD_ACK;
	else if (is(op, opl, "resolve"))
		c->op = CMD_RESOLVE;
	else if (is(op, opl, "assign"))
		c->op = CMD_ASSIGN;
	else if (is(op, opl, "note"))
		c->op = CMD_NOTE;
	else if (is(op, opl, "reopen"))
		c->op = CMD_REOPEN;
	else
		return refuse(c, "op is not ack, resolve, assign, note or "
		    "reopen");
	if (cid == NULL)
		return refuse(c, "missing case");
	if (c->case_id[0] == '\0')
		return refuse(c, "case is not an ID of letters, digits, "
		    "'.', '-' or '_'");
	if (by != NULL && (byl == 0 || byl > CMD_BY_MAX ||
	    !text_ok(by, byl, false)))
		return refuse(c, "by is not a name of 1 to 128 bytes without "
		    "control characters");
	if (by == NULL)
		return refuse(c, "missing by (who makes the change)");
	memcpy(c->by, by, byl);
	if (c->op == CMD_ASSIGN && to == NULL)
		return refuse(c, "missing to (whom to assign the case to)");
	if (to != NULL && (tol == 0 || tol > CMD_BY_MAX ||
	    !text_ok(to, tol, false)))
		return refuse(c, "to is not a name of 1 to 128 bytes without "
		    "control characters");
	if (to != NULL)
		memcpy(c->to, to, tol);
	if (c->op == CMD_RESOLVE && code == NULL)
		return refuse(c, "missing code (the reason for the "
		    "resolution)");
	if (code != NULL && (codel == 0 || codel > CMD_CODE_MAX ||
	    !text_ok(code, codel, false)))
		return refuse(c, "code is not a resolution code");
	if (code != NULL)
		memcpy(c->code, code, codel);
	if (c->op == CMD_NOTE && (note == NULL || notel == 0))
		return refuse(c, "missing note (its text)");
	if (note != NULL && (notel > CMD_NOTE_MAX ||
	    !text_ok(note, notel, true)))
		return refuse(c, "note is over 4096 bytes or holds a NUL");
	if (note != NULL)
		c->note = xstrndup(note, notel);
	return 0;
}

void
command_free(struct command *c)
{
	free(c->note);
	c->note = NULL;
}

static int
answer(struct buf *out, const struct command *c, const char *code,
    const char *err, const char *was, const char *state,
    const char *resolved_at)
{
	buf_puts(out, code == NULL ? "{\"ok\":true" : "{\"ok\":false");
	buf_puts(out, ",\"case_id\":");
	buf_json_string(out, c->case_id, strlen(c->case_id));
	if (code != NULL) {
		buf_puts(out, ",\"code\":");
		buf_json_string(out, code, strlen(code));
		buf_puts(out, ",\"error\":");
		buf_json_string(out, err, strlen(err));
	} else {
		buf_puts(out, ",\"was\":");
		buf_json_string(out, was, strlen(was));
		buf_puts(out, ",\"state\":");
		buf_json_string(out, state, strlen(state));
	}
	if (resolved_at != NULL) {
		buf_puts(out, ",\"resolved_at\":");
		buf_json_string(out, resolved_at, strlen(resolved_at));
	}
	buf_putc(out, '}');
	return code == NULL ? 0 : -1;
}

int
command_apply(struct store *st, const struct config *cf,
    const struct command *c, int64_t now_ms, struct buf *out)
{
	const char *was, *now;
	char msg[ENGINE_ID_MAX + 160], was_copy[16];
	int rc;

	if (c->op == CMD_NONE)
		return answer(out, c, "invalid", c->err, NULL, NULL, NULL);
	if ((was = store_case_state(st, c->case_id)) == NULL) {
		snprintf(msg, sizeof(msg), "no case '%s'", c->case_id);
		return answer(out, c, "nocase", msg, NULL, NULL, NULL);
	}
	(void)str_copy(was_copy, sizeof(was_copy), was);
	if (c->op == CMD_ACK && strcmp(was_copy, "resolved") == 0) {
		snprintf(msg, sizeof(msg), "case %s is already resolved",
		    c->case_id);
		return answer(out, c, "resolved", msg, NULL, NULL,
		    store_case_resolved_at(st, c->case_id));
	}
	if (c->op == CMD_RESOLVE && strcmp(was_copy, "resolved") != 0 &&
	    (cf == NULL || !config_resolution_code(cf, c->code))) {
		snprintf(msg, sizeof(msg), "unknown resolution code '%s' "
		    "(see resolution_codes)", c->code);
		return answer(out, c, "code", msg, NULL, NULL, NULL);
	}
	switch (c->op) {
	case CMD_ACK:
		(void)store_ack(st, c->case_id, c->by, c->note, now_ms);
		break;
	case CMD_RESOLVE:
		(void)store_resolve(st, c->case_id, c->by, c->code, c->note,
		    now_ms);
		break;
	case CMD_ASSIGN:
		(void)store_assign(st, c->case_id, c->to, c->by, now_ms);
		break;
	case CMD_NOTE:
		(void)store_note(st, c->case_id, c->note, c->by, now_ms);
		break;
	case CMD_REOPEN:
		if ((rc = store_reopen(st, c->case_id, c->by, now_ms)) == -2) {
			snprintf(msg, sizeof(msg), "case %s is not resolved "
			    "(it is %s)", c->case_id, was_copy);
			return answer(out, c, "not_resolved", msg, NULL, NULL,
			    NULL);
		} else if (rc == -3) {
			snprintf(msg, sizeof(msg), "case %s: its customer has "
			    "another open case", c->case_id);
			return answer(out, c, "other_open", msg, NULL, NULL,
			    NULL);
		}
		break;
	case CMD_NONE:
		break;
	}
	now = store_case_state(st, c->case_id);
	return answer(out, c, NULL, NULL, was_copy, now != NULL ? now : "",
	    store_case_resolved_at(st, c->case_id));
}
