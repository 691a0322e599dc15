/*
 * ctl_dead.c — "recoveryctl dead" and "recoveryctl undelivered" (ctl.h):
 * read the streams where what could not be processed or delivered is
 * kept, and send entries again once the producer, the rules or the
 * receiver were fixed.
 *
 *   dead: input.dead_letter (<input.stream>:dead). An entry holds the
 *     original event's fields, then source_id, error and reason (the
 *     consumer's dead_letter()); a retry adds the original fields to
 *     input.stream as a new entry.
 *   undelivered: <state.prefix>alerts:undelivered. An entry holds
 *     alert_id, channel, attempts, error, alert and failed_at; a retry
 *     adds alert_id, channel, attempt 0 and alert to the outbox
 *     (<state.prefix>outbox), which delivers it again with the channel's
 *     retries (an exec alert's saved event is not kept there, so its argv
 *     renders over the alert's fields only).
 *
 * A retry is one small script per entry: read it, XADD it to where it
 * goes, XDEL it; Redis runs a script whole, so an entry is removed only
 * once it is back, and never both lost and kept. A dead letter that the
 * validator (evt_from_fields, as the daemon) still finds invalid is not
 * retried without --force: it would only come back.
 *
 * Output: values are data from producers and receivers, printed on one
 * line each with control characters replaced (no escape sequence reaches
 * the terminal); --json prints one JSON object a line.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "diag.h"
#include "event.h"
#include "state.h"
#include "util.h"

#define PAGE		100
#define LIST_DEFAULT	50

static const char dead_retry_script[] =
"local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])\n"
"if #e == 0 then return 0 end\n"
"local kv = e[1][2]\n"
"local n = #kv\n"
"if n >= 6 and kv[n-5] == 'source_id' and kv[n-3] == 'error' and\n"
"    kv[n-1] == 'reason' then n = n - 6 end\n"
"if n < 2 then return redis.error_reply('ERR no fields of its own') end\n"
"local id = redis.call('XADD', KEYS[2], '*', unpack(kv, 1, n))\n"
"redis.call('XDEL', KEYS[1], ARGV[1])\n"
"return id\n";

static const char undelivered_retry_script[] =
"local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])\n"
"if #e == 0 then return 0 end\n"
"local kv, f = e[1][2], {}\n"
"for i = 1, #kv, 2 do f[kv[i]] = kv[i+1] end\n"
"if not f.alert_id or not f.channel or not f.alert then\n"
"  return redis.error_reply('ERR not an undelivered alert (alert_id, "
"channel, alert)')\n"
"end\n"
"local id = redis.call('XADD', KEYS[2], '*', 'alert_id', f.alert_id,\n"
"    'channel', f.channel, 'attempt', '0', 'alert', f.alert)\n"
"redis.call('XDEL', KEYS[1], ARGV[1])\n"
"return id\n";

struct kind {
	const char	*cmd;		/* "dead", "undelivered" */
	char		 src[512], dst[512];
	const char	*script;
	bool		 dead;
	/* fields shown in the list's first line, in order */
	const char	*const *head;
};

static const char *const dead_head[] = { "reason", "source_id", "error",
    NULL };
static const char *const undelivered_head[] = { "channel", "alert_id",
    "attempts", "failed_at", "error", NULL };

static int
usage(const struct kind *k, FILE *fp)
{
	fprintf(fp, "usage: recoveryctl %s [list] [--limit N] [--json]\n"
	    "       recoveryctl %s show ID [--json]\n"
	    "       recoveryctl %s retry%s (ID... | --all)\n", k->cmd, k->cmd,
	    k->cmd, k->dead ? " [--force]" : "");
	return fp == stdout ? EXIT_OK : EXIT_USAGE;
}

/* term: s[0..len) on one line for a terminal: control bytes (and
 * DEL) as '?'. */
static void
term(FILE *fp, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		/* C1 controls (U+0080..U+009F, "\xc2\x80".."\xc2\x9f")
		 * are escape sequences on some terminals too. */
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			fputc('?', fp);
			i++;
			continue;
		}
		fputc(c < 0x20 || c == 0x7f ? '?' : c, fp);
	}
}

/* entry_ok: an XRANGE element: [ID, [name, value, ...]]. */
static bool
entry_ok(const redisReply *e)
{
	size_t i;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    e->element[1]->type != REDIS_REPLY_ARRAY ||
	    e->element[1]->elements % 2 != 0)
		return false;
	for (i = 0; i < e->element[1]->elements; i++)
		if (e->element[1]->element[i]->type != REDIS_REPLY_STRING)
			return false;
	return true;
}

/* own_fields: how many of a dead letter's fields (names and values) are
 * the original event's: all but the source_id, error, reason trailer. */
static size_t
own_fields(const struct kind *k, const redisReply *f)
{
	size_t n = f->elements;

	if (k->dead && n >= 6 &&
	    strcmp(f->element[n - 6]->str, "source_id") == 0 &&
	    strcmp(f->element[n - 4]->str, "error") == 0 &&
	    strcmp(f->element[n - 2]->str, "reason") == 0)
		return n - 6;
	return n;
}

static const redisReply *
field(const redisReply *f, size_t from, const char *name)
{
	size_t i;

	for (i = from; i + 1 < f->elements; i += 2)
		if (strcmp(f->element[i]->str, name) == 0)
			return f->element[i + 1];
	return NULL;
}

/* id_time: the RFC 3339 time of a stream entry ID. */
static void
id_time(const char *id, char *out, size_t cap)
{
	format_rfc3339((double)strtoll(id, NULL, 10) / 1000.0, out, cap);
}

static void
print_json(const struct kind *k, const redisReply *e)
{
	const redisReply *f = e->element[1];
	size_t own = own_fields(k, f), i;
	char t[64];
	struct buf b;

	buf_init(&b);
	id_time(e->element[0]->str, t, sizeof(t));
	buf_puts(&b, "{\"id\":");
	buf_json_string(&b, e->element[0]->str, e->element[0]->len);
	buf_printf(&b, ",\"time\":\"%s\"", t);
	for (i = own; i + 1 < f->elements; i += 2) {
		buf_putc(&b, ',');
		buf_json_string(&b, f->element[i]->str, f->element[i]->len);
		buf_putc(&b, ':');
		buf_json_string(&b, f->element[i + 1]->str,
		    f->element[i + 1]->len);
	}
	if (k->dead) {
		buf_puts(&b, ",\"fields\":{");
		for (i = 0; i + 1 < own; i += 2) {
			if (i > 0)
				buf_putc(&b, ',');
			buf_json_string(&b, f->element[i]->str,
			    f->element[i]->len);
			buf_putc(&b, ':');
			buf_json_string(&b, f->element[i + 1]->str,
			    f->element[i + 1]->len);
		}
		buf_putc(&b, '}');
	} else
		for (i = 0; i + 1 < own; i += 2) {
			buf_putc(&b, ',');
			buf_json_string(&b, f->element[i]->str,
			    f->element[i]->len);
			buf_putc(&b, ':');
			buf_json_string(&b, f->element[i + 1]->str,
			    f->element[i + 1]->len);
		}
	buf_puts(&b, "}\n");
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
}

/* print_entry: "ID  TIME  head=value ..." then the fields indented. */
static void
print_entry(const struct kind *k, const redisReply *e, bool full)
{
	const redisReply *f = e->element[1], *v;
	size_t own = own_fields(k, f), i, from = k->dead ? own : 0;
	char t[64];

	id_time(e->element[0]->str, t, sizeof(t));
	term(stdout, e->element[0]->str, e->element[0]->len);
	printf("  %s", t);
	for (i = 0; k->head[i] != NULL; i++) {
		if ((v = field(f, from, k->head[i])) == NULL)
			continue;
		printf("  %s=", k->head[i]);
		term(stdout, v->str, v->len);
	}
	putchar('\n');
	if (k->dead) {
		printf("    ");
		for (i = 0; i + 1 < own; i += 2) {
			term(stdout, f->element[i]->str, f->element[i]->len);
			putchar('=');
			term(stdout, f->element[i + 1]->str,
			    f->element[i + 1]->len);
			putchar(i + 3 < own ? ' ' : '\n');
		}
		if (own == 0)
			printf("(no fields)\n");
	} else if ((v = field(f, 0, "alert")) != NULL) {
		printf("    alert=");
		term(stdout, v->str, v->len);
		putchar('\n');
	}
	if (!full)
		return;
	for (i = 0; i + 1 < f->elements; i += 2) {
		printf("  ");
		term(stdout, f->element[i]->str, f->element[i]->len);
		printf(": ");
		term(stdout, f->element[i + 1]->str, f->element[i + 1]->len);
		putchar('\n');
	}
}

static int
cmd_list(const struct kind *k, redisContext *c, long limit, bool json)
{
	redisReply *r;
	size_t i;
	int rc;

	r = redisCommand(c, "XRANGE %s - + COUNT %ld", k->src, limit);
	if ((rc = ctl_reply_check(c, r, "XRANGE", REDIS_REPLY_ARRAY)) !=
	    EXIT_OK) {
		if (r != NULL)
			freeReplyObject(r);
		return rc;
	}
	for (i = 0; i < r->elements; i++) {
		if (!entry_ok(r->element[i]))
			continue;
		if (json)
			print_json(k, r->element[i]);
		else
			print_entry(k, r->element[i], false);
	}
	if (!json)
		fprintf(stderr, "%zu entries shown (oldest first, at most "
		    "%ld) of %s\n", r->elements, limit, k->src);
	freeReplyObject(r);
	return EXIT_OK;
}

/* fetch: the entry id of k->src, or NULL (rc says why: 1 no such entry). */
static redisReply *
fetch(const struct kind *k, redisContext *c, const char *id, int *rc)
{
	redisReply *r;

	r = redisCommand(c, "XRANGE %s %s %s", k->src, id, id);
	if ((*rc = ctl_reply_check(c, r, "XRANGE", REDIS_REPLY_ARRAY)) !=
	    EXIT_OK) {
		if (r != NULL)
			freeReplyObject(r);
		return NULL;
	}
	if (r->elements != 1 || !entry_ok(r->element[0])) {
		fprintf(stderr, "recoveryctl: %s: no entry '", k->cmd);
		term(stderr, id, strlen(id));
		fprintf(stderr, "' in %s\n", k->src);
		freeReplyObject(r);
		*rc = EXIT_CHECK;
		return NULL;
	}
	return r;
}

static int
cmd_show(const struct kind *k, redisContext *c, const char *id, bool json)
{
	redisReply *r;
	int rc;

	if ((r = fetch(k, c, id, &rc)) == NULL)
		return rc;
	if (json)
		print_json(k, r->element[0]);
	else
		print_entry(k, r->element[0], true);
	freeReplyObject(r);
	return EXIT_OK;
}

/* still_invalid: a dead letter's own fields through the daemon's
 * validation; the reason in err. */
static bool
still_invalid(const struct config *cf, const struct kind *k,
    const redisReply *e, char *err, size_t errlen)
{
	const redisReply *f = e->element[1];
	size_t own = own_fields(k, f), n = own / 2, i;
	const char **names, **vals;
	size_t *nl, *vl;
	struct evt ev;
	char id[40];
	enum event_err ee;

	if (n == 0) {
		snprintf(err, errlen, "no fields of its own");
		return true;
	}
	names = xcalloc(n, sizeof(*names));
	vals = xcalloc(n, sizeof(*vals));
	nl = xcalloc(n, sizeof(*nl));
	vl = xcalloc(n, sizeof(*vl));
	for (i = 0; i < n; i++) {
		names[i] = f->element[2 * i]->str;
		nl[i] = f->element[2 * i]->len;
		vals[i] = f->element[2 * i + 1]->str;
		vl[i] = f->element[2 * i + 1]->len;
	}
	evt_init(&ev);
	/* A retried event is a new entry: its "ts" is bounded from now,
	 * as the daemon will bound it. */
	evt_set_clock(&ev, cf->max_future_skew_ms, ctl_past_skew(cf), -1,
	    NULL);
	snprintf(id, sizeof(id), "%lld-0", (long long)(now_wall() * 1000));
	ee = evt_from_fields(&ev, id, names, nl, vals, vl, n, err, errlen);
	evt_free(&ev);
	free(names);
	free(vals);
	free(nl);
	free(vl);
	return ee != EVERR_NONE;
}

/* retry_one: send entry e (of k->src) again; EXIT_OK, or why not. */
static int
retry_one(const struct config *cf, const struct kind *k, redisContext *c,
    const redisReply *e, bool force)
{
	const char *id = e->element[0]->str;
	const redisReply *reason;
	redisReply *r;
	char err[512];
	int rc;

	if (k->dead) {
		reason = field(e->element[1], own_fields(k, e->element[1]),
		    "reason");
		if (reason != NULL && strcmp(reason->str, "too_large") == 0) {
			printf("%s: not retried: its long values were cut "
			    "when it was dead-lettered\n", id);
			return EXIT_CHECK;
		}
		if (!force && still_invalid(cf, k, e, err, sizeof(err))) {
			printf("%s: not retried: still invalid: ", id);
			term(stdout, err, strlen(err));
			printf(" (--force sends it anyway)\n");
			return EXIT_CHECK;
		}
	}
	r = redisCommand(c, "EVAL %s 2 %s %s %s", k->script, k->src, k->dst,
	    id);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		rc = ctl_reply_check(c, r, "EVAL", REDIS_REPLY_STRING);
		if (r != NULL)
			freeReplyObject(r);
		return rc;
	}
	if (r->type == REDIS_REPLY_INTEGER) {
		printf("%s: gone meanwhile (retried by someone else?)\n", id);
		rc = EXIT_CHECK;
	} else if (r->type == REDIS_REPLY_STRING) {
		printf("%s: retried as %s in %s\n", id, r->str, k->dst);
		rc = EXIT_OK;
	} else
		rc = ctl_reply_check(c, r, "EVAL", REDIS_REPLY_STRING);
	freeReplyObject(r);
	return rc;
}

static int
cmd_retry(const struct config *cf, const struct kind *k, redisContext *c,
    char **ids, size_t nids, bool all, bool force)
{
	redisReply *r;
	char start[80];
	size_t i, done = 0, failed = 0;
	int rc, worst = EXIT_OK;

	for (i = 0; i < nids; i++) {
		if ((r = fetch(k, c, ids[i], &rc)) == NULL) {
			if (rc == EXIT_REDIS)
				return rc;
			worst = EXIT_CHECK;
			failed++;
			continue;
		}
		rc = retry_one(cf, k, c, r->element[0], force);
		freeReplyObject(r);
		if (rc == EXIT_REDIS)
			return rc;
		if (rc == EXIT_OK)
			done++;
		else {
			failed++;
			worst = EXIT_CHECK;
		}
	}
	/* --all: pages from the oldest; entries left behind (not retried)
	 * are stepped over with an exclusive start. */
	snprintf(start, sizeof(start), "-");
	while (all) {
		r = redisCommand(c, "XRANGE %s %s + COUNT %d", k->src, start,
		    PAGE);
		if ((rc = ctl_reply_check(c, r, "XRANGE", REDIS_REPLY_ARRAY)) !=
		    EXIT_OK) {
			if (r != NULL)
				freeReplyObject(r);
			return rc;
		}
		if (r->elements == 0) {
			freeReplyObject(r);
			break;
		}
		for (i = 0; i < r->elements; i++) {
			if (!entry_ok(r->element[i]))
				continue;
			rc = retry_one(cf, k, c, r->element[i], force);
			if (rc == EXIT_REDIS) {
				freeReplyObject(r);
				return rc;
			}
			if (rc == EXIT_OK)
				done++;
			else {
				failed++;
				worst = EXIT_CHECK;
			}
			snprintf(start, sizeof(start), "(%s",
			    r->element[i]->element[0]->str);
		}
		freeReplyObject(r);
	}
	fprintf(stderr, "%zu retried, %zu not\n", done, failed);
	return worst;
}

static int
run(const struct config *cf, struct kind *k, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'l' },
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sub = "list";
	redisContext *c;
	bool json = false, all = false, force = false;
	long limit = LIST_DEFAULT;
	char *end;
	int ch, rc;

	/* The subcommand first, then its options in any order. */
	if (argc > 1 && argv[1][0] != '-') {
		sub = argv[1];
		argc--;
		argv++;
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, "jl:afh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 'l':
			limit = strtol(optarg, &end, 10);
			if (*end != '\0' || limit < 1 || limit > 100000) {
				fprintf(stderr, "recoveryctl: %s: --limit: "
				    "1..100000\n", k->cmd);
				return usage(k, stderr);
			}
			break;
		case 'a':
			all = true;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			return usage(k, stdout);
		default:
			return usage(k, stderr);
		}
	}
	argc -= optind;
	argv += optind;
	if (strcmp(sub, "list") == 0) {
		if (argc != 0 || all || force)
			return usage(k, stderr);
	} else if (strcmp(sub, "show") == 0) {
		if (argc != 1 || all || force)
			return usage(k, stderr);
	} else if (strcmp(sub, "retry") == 0) {
		if ((argc == 0) == !all || json || (force && !k->dead))
			return usage(k, stderr);
	} else {
		fprintf(stderr, "recoveryctl: %s: unknown subcommand '%s'\n",
		    k->cmd, sub);
		return usage(k, stderr);
	}
	if ((c = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;
	if (strcmp(sub, "list") == 0)
		rc = cmd_list(k, c, limit, json);
	else if (strcmp(sub, "show") == 0)
		rc = cmd_show(k, c, argv[0], json);
	else
		rc = cmd_retry(cf, k, c, argv, (size_t)argc, all, force);
	redisFree(c);
	return rc;
}

int
ctl_dead(const struct config *cf, int argc, char **argv)
{
	struct kind k;

	memset(&k, 0, sizeof(k));
	k.cmd = "dead";
	k.dead = true;
	k.script = dead_retry_script;
	k.head = dead_head;
	snprintf(k.src, sizeof(k.src), "%s", cf->dead_letter);
	snprintf(k.dst, sizeof(k.dst), "%s", cf->input_stream);
	return run(cf, &k, argc, argv);
}

int
ctl_undelivered(const struct config *cf, int argc, char **argv)
{
	struct kind k;

	memset(&k, 0, sizeof(k));
	k.cmd = "undelivered";
	k.script = undelivered_retry_script;
	k.head = undelivered_head;
	snprintf(k.src, sizeof(k.src), "%s", cf->undelivered_stream);
	snprintf(k.dst, sizeof(k.dst), "%soutbox", cf->state_prefix);
	return run(cf, &k, argc, argv);
}
