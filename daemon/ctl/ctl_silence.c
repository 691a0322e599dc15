/*
 * ctl_silence.c — "recoveryctl silence add|list|expire" (ctl.h; what a
 * silence is and its keys: silence.h).
 *
 * A silence is not case state: recoveryctl writes it directly (HSET of
 * its JSON, then INCR of the revision, so that a daemon that sees the new
 * revision finds the silence). The daemons look at the revision twice a
 * second and reload; a silence applies everywhere within a second.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "silence.h"
#include "util.h"

#define ADD_USAGE	"silence add (--rule R | --queue Q | --agent A | " \
			"--customer K)... --for DURATION --reason TEXT " \
			"[--by NAME]"
#define LIST_USAGE	"silence list [--json]"
#define EXPIRE_USAGE	"silence expire ID"

static int
usage(FILE *fp)
{
	fprintf(fp, "usage: recoveryctl %s\n"
	    "       recoveryctl %s\n"
	    "       recoveryctl %s\n", ADD_USAGE, LIST_USAGE, EXPIRE_USAGE);
	return fp == stdout ? EXIT_OK : EXIT_USAGE;
}

static int
bad(const char *sub, const char *msg)
{
	fprintf(stderr, "recoveryctl: silence %s: %s\n", sub, msg);
	return usage(stderr);
}

/* keys: P.."silences" and P.."silences:rev". */
static void
keys(const struct config *cf, char *hk, char *rk, size_t cap)
{
	snprintf(hk, cap, "%ssilences", cf->state_prefix);
	snprintf(rk, cap, "%ssilences:rev", cf->state_prefix);
}

static int64_t
now_ms(void)
{
	return (int64_t)(now_wall() * 1000);
}

/* write: HSET the silence, then INCR the revision. */
static int
write_silence(redisContext *rc, const struct config *cf,
    const struct silence *s)
{
	char hk[300], rk[300];
	struct buf b;
	redisReply *r;
	int ex;

	keys(cf, hk, rk, sizeof(hk));
	buf_init(&b);
	silence_json(s, &b);
	r = redisCommand(rc, "HSET %s %s %b", hk, s->id, b.data, b.len);
	buf_free(&b);
	ex = ctl_reply_check(rc, r, "HSET", REDIS_REPLY_INTEGER);
	if (r != NULL)
		freeReplyObject(r);
	if (ex != EXIT_OK)
		return ex;
	r = redisCommand(rc, "INCR %s", rk);
	ex = ctl_reply_check(rc, r, "INCR", REDIS_REPLY_INTEGER);
	if (r != NULL)
		freeReplyObject(r);
	return ex;
}

static int
silence_add_cmd(const struct config *cf, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rule", required_argument, NULL, 'r' },
		{ "queue", required_argument, NULL, 'q' },
		{ "agent", required_argument, NULL, 'a' },
		{ "customer", required_argument, NULL, 'k' },
		{ "for", required_argument, NULL, 'f' },
		{ "reason", required_argument, NULL, 'm' },
		{ "by", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct silence s;
	struct silences set;
	const char *dur = NULL;
	char **slot, err[256];
	redisContext *rc;
	int64_t ms;
	int ch, ex;

	memset(&s, 0, sizeof(s));
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		slot = NULL;
		switch (ch) {
		case 'r':
			slot = &s.rule;
			break;
		case 'q':
			slot = &s.queue;
			break;
		case 'a':
			slot = &s.agent;
			break;
		case 'k':
			slot = &s.customer;
			break;
		case 'm':
			slot = &s.reason;
			break;
		case 'b':
			slot = &s.by;
			break;
		case 'f':
			dur = optarg;
			continue;
		case 'h':
			printf("usage: recoveryctl %s\n", ADD_USAGE);
			return EXIT_OK;
		default:
			fprintf(stderr, "recoveryctl: silence add: unknown "
			    "option or missing value: '%s'\n",
			    argv[optind - 1]);
			return usage(stderr);
		}
		if (*slot != NULL)
			return bad("add", "each matcher at most once (all "
			    "given must match)");
		if (optarg[0] == '\0')
			return bad("add", "an option needs a value");
		*slot = optarg;
	}
	if (optind < argc)
		return bad("add", "unexpected argument");
	if (s.rule == NULL && s.queue == NULL && s.agent == NULL &&
	    s.customer == NULL)
		return bad("add", "give at least one of --rule, --queue, "
		    "--agent, --customer");
	if (dur == NULL)
		return bad("add", "missing --for DURATION");
	if (parse_duration_ms(dur, &ms) == -1 || ms <= 0)
		return bad("add", "--for: a duration such as 30m, 2h, 1d");
	if (s.reason == NULL)
		return bad("add", "missing --reason TEXT (why, for the "
		    "others who will see alerts missing)");
	if (s.by == NULL)
		s.by = (char *)ctl_login_name();
	s.starts_ms = now_ms();
	s.ends_ms = s.starts_ms + ms;
	srandom((unsigned)(getpid() ^ s.starts_ms));
	snprintf(s.id, sizeof(s.id), "s-%" PRId64 "-%04lx", s.starts_ms,
	    random() & 0xffff);
	silences_init(&set);
	if (silence_add(&set, &s, err, sizeof(err)) == -1) {
		silences_free(&set);
		return bad("add", err);
	}
	silences_free(&set);
	if ((rc = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;
	ex = write_silence(rc, cf, &s);
	redisFree(rc);
	if (ex == EXIT_OK)
		printf("%s\n", s.id);
	return ex;
}

/* matchers: "rule=R queue=Q ...". */
static void
matchers(const struct silence *s, struct buf *b)
{
	const char *n[] = { "rule", "queue", "agent", "customer" };
	const char *v[] = { s->rule, s->queue, s->agent, s->customer };
	size_t i;

	buf_reset(b);
	for (i = 0; i < ARRAY_LEN(n); i++)
		if (v[i] != NULL)
			buf_printf(b, "%s%s=%s", b->len > 0 ? " " : "", n[i],
			    v[i]);
	buf_putc(b, '\0');
}

/* count: P.."silence:"..ID's count (0 when none). */
static long long
count_of(redisContext *rc, const struct config *cf, const char *id)
{
	redisReply *r;
	long long n = 0;

	r = redisCommand(rc, "HGET %ssilence:%s count", cf->state_prefix, id);
	if (r != NULL && r->type == REDIS_REPLY_STRING)
		n = strtoll(r->str, NULL, 10);
	if (r != NULL)
		freeReplyObject(r);
	return n;
}

/* load: every silence of the hash into set; those ended over
 * SILENCE_KEEP_MS ago are dropped from Redis (with their counts). */
static int
load(redisContext *rc, const struct config *cf, struct silences *set)
{
	char hk[300], rk[300], err[256];
	redisReply *r, *x;
	size_t i, dropped = 0;
	int64_t now = now_ms();
	int ex;

	keys(cf, hk, rk, sizeof(hk));
	r = redisCommand(rc, "HGETALL %s", hk);
	if ((ex = ctl_reply_check(rc, r, "HGETALL", REDIS_REPLY_ARRAY)) !=
	    EXIT_OK) {
		if (r != NULL)
			freeReplyObject(r);
		return ex;
	}
	for (i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];
		struct silence *s;

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		if (silence_load(set, k->str, k->len, v->str, v->len, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "recoveryctl: silence list: %s\n",
			    err);
			continue;
		}
		s = &set->v[set->n - 1];
		if (s->ends_ms + SILENCE_KEEP_MS > now)
			continue;
		x = redisCommand(rc, "HDEL %s %s", hk, s->id);
		if (x != NULL)
			freeReplyObject(x);
		x = redisCommand(rc, "DEL %ssilence:%s", cf->state_prefix,
		    s->id);
		if (x != NULL)
			freeReplyObject(x);
		silences_pop(set);
		dropped++;
	}
	freeReplyObject(r);
	if (dropped > 0) {
		x = redisCommand(rc, "INCR %s", rk);
		if (x != NULL)
			freeReplyObject(x);
	}
	return EXIT_OK;
}

/* ends_in: "in 1h59m", "expired 5m ago", "starts in 3m". */
static void
ends_in(const struct silence *s, int64_t now, char *out, size_t cap)
{
	char d[32];

	if (now >= s->ends_ms) {
		format_duration((now - s->ends_ms) / 1000 * 1000, d,
		    sizeof(d));
		snprintf(out, cap, "expired %s ago", d);
	} else {
		format_duration((s->ends_ms - now + 999) / 1000 * 1000, d,
		    sizeof(d));
		snprintf(out, cap, "in %s", d);
	}
}

static int
silence_list_cmd(const struct config *cf, int argc, char **argv)
{
	struct silences set;
	struct buf b;
	redisContext *rc;
	bool json = false;
	int64_t now;
	char when[64], *text;
	size_t i;
	int ex;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf("usage: recoveryctl %s\n", LIST_USAGE);
			return EXIT_OK;
		} else
			return bad("list", "unknown argument");
	}
	if ((rc = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;
	silences_init(&set);
	if ((ex = load(rc, cf, &set)) != EXIT_OK) {
		redisFree(rc);
		silences_free(&set);
		return ex;
	}
	buf_init(&b);
	now = now_ms();
	if (!json)
		printf("%-24s %-36s %-18s %-8s %-12s %s\n", "ID", "MATCHERS",
		    "ENDS", "COUNT", "BY", "REASON");
	for (i = 0; i < set.n; i++) {
		const struct silence *s = &set.v[i];
		long long n = count_of(rc, cf, s->id);

		if (json) {
			buf_reset(&b);
			silence_json(s, &b);
			b.len--;	/* the closing brace */
			buf_printf(&b, ",\"count\":%lld,\"active\":%s}", n,
			    silence_active(s, now) ? "true" : "false");
			printf("%.*s\n", (int)b.len, b.data);
			continue;
		}
		matchers(s, &b);
		ends_in(s, now, when, sizeof(when));
		text = xstrdup(s->reason != NULL ? s->reason : "-");
		ctl_one_line(text);
		printf("%-24s %-36s %-18s %-8lld %-12s %s\n", s->id, b.data,
		    when, n, ctl_or_dash(s->by), text);
		free(text);
	}
	buf_free(&b);
	silences_free(&set);
	redisFree(rc);
	return fflush(stdout) != 0 ? EXIT_CHECK : EXIT_OK;
}

static int
silence_expire_cmd(const struct config *cf, int argc, char **argv)
{
	struct silences set;
	struct silence *s;
	redisContext *rc;
	int64_t now;
	int ex;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: recoveryctl %s\n", EXPIRE_USAGE);
		return EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '\0' || argv[1][0] == '-')
		return bad("expire", "give the silence ID (silence list)");
	if ((rc = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;
	silences_init(&set);
	if ((ex = load(rc, cf, &set)) != EXIT_OK)
		goto out;
	if ((s = silence_find(&set, argv[1])) == NULL) {
		fprintf(stderr, "recoveryctl: no silence '%s'\n", argv[1]);
		ex = EXIT_CHECK;
		goto out;
	}
	now = now_ms();
	if (s->ends_ms > now) {
		s->ends_ms = now;
		if (s->starts_ms >= now)
			s->starts_ms = now - 1;
		if ((ex = write_silence(rc, cf, s)) != EXIT_OK)
			goto out;
	}
	printf("silence %s expired\n", s->id);
out:
	silences_free(&set);
	redisFree(rc);
	return ex;
}

int
ctl_silence(const struct config *cf, int argc, char **argv)
{
	if (argc < 2)
		return bad("", "give add, list or expire");
	if (strcmp(argv[1], "add") == 0)
		return silence_add_cmd(cf, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return silence_list_cmd(cf, argc - 1, argv + 1);
	if (strcmp(argv[1], "expire") == 0)
		return silence_expire_cmd(cf, argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return usage(stdout);
	fprintf(stderr, "recoveryctl: silence: unknown subcommand '%s'\n",
	    argv[1]);
	return usage(stderr);
}
