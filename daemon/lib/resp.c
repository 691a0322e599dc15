/*
 * resp.c — commands as RESP (resp.h).
 *
 * hiredis's own redisFormatSdsCommandArgv runs a format parser per
 * argument and grows its string piece by piece: for a batch's commit,
 * thousands of arguments, that took half a millisecond on the path from
 * one commit's answer to the next commit, while Redis waited (issue 9).
 * Here: one reservation per argument, then memcpy; a commit's commands
 * are written here once, where they used to be copied into the batch's
 * arena, listed in an argv and formatted from that.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "resp.h"

#define HEAD_MAX	24	/* "*" or "$", 20 digits, CRLF */

/* put_len: c, n in decimal, CRLF at p; returns the end. */
static char *
put_len(char *p, char c, size_t n)
{
	char tmp[24];
	size_t i = 0;

	*p++ = c;
	if (n < 10)
		*p++ = (char)('0' + n);
	else if (n < 100) {
		*p++ = (char)('0' + n / 10);
		*p++ = (char)('0' + n % 10);
	} else {
		do
			tmp[i++] = (char)('0' + n % 10);
		while ((n /= 10) > 0);
		while (i > 0)
			*p++ = tmp[--i];
	}
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

void
resp_head(struct buf *out, char tag, size_t n)
{
	buf_reserve(out, HEAD_MAX);
	out->len = (size_t)(put_len(out->data + out->len, tag, n) -
	    out->data);
	out->data[out->len] = '\0';
}

void
resp_bulk(struct buf *out, const char *s, size_t len)
{
	char *p;

	if (len > SIZE_MAX - HEAD_MAX - 2)
		fatalx("%s: overflow", __func__);
	buf_reserve(out, HEAD_MAX + len + 2);
	p = put_len(out->data + out->len, '$', len);
	if (len > 0)
		memcpy(p, s, len);
	p += len;
	*p++ = '\r';
	*p++ = '\n';
	*p = '\0';
	out->len = (size_t)(p - out->data);
}

void
resp_str(struct buf *out, const char *s)
{
	resp_bulk(out, s, strlen(s));
}

void
resp_num(struct buf *out, long long v)
{
	char tmp[FMT_LL_MAX];

	resp_bulk(out, tmp, fmt_ll(tmp, v));
}

void
resp_append(struct buf *out, int argc, const char **argv, const size_t *lens)
{
	size_t i;

	resp_head(out, '*', (size_t)argc);
	for (i = 0; i < (size_t)argc; i++)
		resp_bulk(out, argv[i], lens != NULL ? lens[i] :
		    strlen(argv[i]));
}

void
cmds_init(struct cmds *c)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->resp);
}

void
cmds_reset(struct cmds *c, size_t keep)
{
	if (c->resp.cap > keep)
		buf_free(&c->resp);
	buf_reset(&c->resp);
	c->n = c->nargs = c->at = c->argc = 0;
}

void
cmds_free(struct cmds *c)
{
	buf_free(&c->resp);
	cmds_init(c);
}

void
cmd_begin(struct cmds *c)
{
	c->at = c->resp.len;
	c->argc = 0;
}

void
cmd_arg(struct cmds *c, const char *s, size_t len)
{
	resp_bulk(&c->resp, s != NULL ? s : "", s != NULL ? len : 0);
	c->argc++;
}

void
cmd_str(struct cmds *c, const char *s)
{
	cmd_arg(c, s, s != NULL ? strlen(s) : 0);
}

void
cmd_num(struct cmds *c, long long v)
{
	resp_num(&c->resp, v);
	c->argc++;
}

/* cmd_end: the header "*argc" goes in front of the arguments: they move
 * up by its length (a command is small; its bytes are in the cache). */
void
cmd_end(struct cmds *c)
{
	char head[HEAD_MAX];
	size_t hl;

	if (c->argc == 0)
		return;
	hl = (size_t)(put_len(head, '*', c->argc) - head);
	buf_reserve(&c->resp, hl);
	memmove(c->resp.data + c->at + hl, c->resp.data + c->at,
	    c->resp.len - c->at + 1);		/* and the NUL */
	memcpy(c->resp.data + c->at, head, hl);
	c->resp.len += hl;
	c->n++;
	c->nargs += c->argc;
	c->at = c->resp.len;
	c->argc = 0;
}

void
cmds_take(struct cmds *dst, const struct cmds *src)
{
	if (src->n == 0)
		return;
	buf_append(&dst->resp, src->resp.data, src->at);
	dst->n += src->n;
	dst->nargs += src->nargs;
	dst->at = dst->resp.len;
}

/* get_len: "<tag><digits>CRLF" at *pos of c's ended commands. */
static bool
get_len(const struct cmds *c, size_t *pos, char tag, size_t *n)
{
	const char *p, *end;
	size_t v = 0;

	if (c->resp.data == NULL || *pos >= c->at)
		return false;
	p = c->resp.data + *pos;
	end = c->resp.data + c->at;
	if (*p++ != tag || p >= end || *p < '0' || *p > '9')
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (SIZE_MAX - 9) / 10)
			return false;
		v = v * 10 + (size_t)(*p - '0');
	}
	if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
		return false;
	*pos = (size_t)(p + 2 - c->resp.data);
	*n = v;
	return true;
}

bool
cmds_next(const struct cmds *c, size_t *pos, size_t *argc)
{
	return get_len(c, pos, '*', argc);
}

bool
cmds_arg(const struct cmds *c, size_t *pos, const char **s, size_t *len)
{
	size_t p = *pos, l;

	if (!get_len(c, &p, '$', &l) || l > c->at - p ||
	    c->at - p - l < 2 || c->resp.data[p + l] != '\r' ||
	    c->resp.data[p + l + 1] != '\n')
		return false;
	*s = c->resp.data + p;
	*len = l;
	*pos = p + l + 2;
	return true;
}
