/*
 * ctl_redis.c — the recoveryctl commands that talk to Redis: push (one
 * event into the input stream), watch (alerts live, as the stream
 * channels PUBLISH them), and the case commands cases, show, ack and
 * resolve (read and change the case hashes the daemons keep).
 *
 * recoveryctl is a short-lived command line tool, so it uses hiredis's
 * synchronous API: connect, a command or two, exit. watch is the exception:
 * it waits for Pub/Sub messages until SIGINT/SIGTERM. Blocking reads of
 * hiredis retry on EINTR, so a signal alone cannot stop them; watch instead
 * polls the socket together with a self-pipe its signal handler writes to,
 * and feeds hiredis with redisBufferRead() when the socket is readable.
 * The handler itself only writes one byte.
 *
 * Every message names the server by a URL rebuilt from the parsed target,
 * never by the configured string, so a password in redis.url (or
 * REDIS_PASSWORD) never reaches the terminal or a log.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "diag.h"
#include "event.h"
#include "state.h"
#include "util.h"

#define CONNECT_TIMEOUT_S	2
#define RECONNECT_INTERVAL_MS	1000

/* target_display: "redis://host:port/db" or "unix:///path?db=N", without
 * the password, into out. */
static void
target_display(const struct redis_target *t, char *out, size_t len)
{
	if (t->unix_socket) {
		if (t->db != 0)
			snprintf(out, len, "unix://%s?db=%d", t->path, t->db);
		else
			snprintf(out, len, "unix://%s", t->path);
	} else if (strchr(t->host, ':') != NULL)
		snprintf(out, len, "redis://[%s]:%d/%d", t->host, t->port, t->db);
	else
		snprintf(out, len, "redis://%s:%d/%d", t->host, t->port, t->db);
}

/*
 * ctl_open: connect to t, AUTH and SELECT as needed. Returns the context,
 * or NULL with the reason in err (never containing the password). Prints
 * nothing. The caller frees the context with redisFree().
 */
static redisContext *
ctl_open(const struct redis_target *t, char *err, size_t errlen)
{
	struct timeval tv = { CONNECT_TIMEOUT_S, 0 };
	redisContext *c;
	redisReply *r;
	const char *av[3];
	size_t al[3];
	int ac;

	if (t->unix_socket)
		c = redisConnectUnixWithTimeout(t->path, tv);
	else
		c = redisConnectWithTimeout(t->host, t->port, tv);
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (c->err) {
		snprintf(err, errlen, "%s", c->errstr);
		redisFree(c);
		return NULL;
	}
	if ((ac = redis_auth_args(t, av, al)) > 0) {
		r = redisCommandArgv(c, ac, av, al);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			/* Redis's own error ("WRONGPASS ...") never echoes
			 * the password. */
			snprintf(err, errlen, "AUTH as user %s: %s",
			    t->username[0] != '\0' ? t->username : "default",
			    r != NULL ? r->str : c->errstr);
			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	if (t->db != 0) {
		r = redisCommand(c, "SELECT %d", t->db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "SELECT %d: %s", t->db,
			    r != NULL ? r->str : c->errstr);
			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
}

/* ctl_auth_refused: an error reply saying we may not talk to this server
 * (no or wrong password): for the user that is "cannot reach Redis".
 * Redis 7 answers a long command of a client that has not authenticated
 * with "ERR Protocol error: unauthenticated multibulk length" rather than
 * NOAUTH. */
int
ctl_auth_refused(const redisReply *r)
{
	return strncmp(r->str, "NOAUTH", 6) == 0 ||
	    strncmp(r->str, "WRONGPASS", 9) == 0 ||
	    strstr(r->str, "unauthenticated") != NULL;
}

/* ctl_target: parse cf->redis_url into t and its printable form; -1 and a
 * message on stderr if the URL is invalid (config_load has already
 * checked it, so this is only a safety net). */
static int
ctl_target(const struct config *cf, struct redis_target *t, char *disp,
    size_t displen)
{
	char err[256];

	if (redis_url_parse(cf->redis_url, t, err, sizeof(err)) == -1) {
		fprintf(stderr, "recoveryctl: redis.url: %s\n", err);
		return -1;
	}
	target_display(t, disp, displen);
	return 0;
}

redisContext *
ctl_connect(const struct config *cf)
{
	struct redis_target t;
	char disp[600], err[512];
	redisContext *c;

	/* A write to a connection the server closed must be an error
	 * reply, not a silent death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (ctl_target(cf, &t, disp, sizeof(disp)) == -1)
		return NULL;
	if ((c = ctl_open(&t, err, sizeof(err))) == NULL)
		fprintf(stderr, "recoveryctl: cannot reach Redis at %s: %s\n",
		    disp, err);
	return c;
}

/* --- push --------------------------------------------------------------- */

static int
push_usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "recoveryctl: push: %s\n", why);
	fprintf(stderr, "usage: recoveryctl [-c FILE] push [--dry-run] TYPE "
	    "field=value...\n");
	return EXIT_USAGE;
}

/*
 * ctl_past_skew: how far before now a "ts" may lie, as the daemon
 * bounds it (state_past_skew_ms). "auto" follows from the rules, which
 * config_load_redis does not read: load the whole configuration for it,
 * quietly; if that fails (a broken rule file never stops push), leave
 * the past unbounded, as the daemon's consumer would for no rules' sake.
 */
int64_t
ctl_past_skew(const struct config *cf)
{
	struct diags d;
	struct config *full;
	int64_t ms;

	if (cf->max_past_skew_ms >= 0)
		return cf->max_past_skew_ms;
	diags_init(&d);
	full = config_load(cf->path, &d);
	diags_free(&d);
	if (full == NULL)
		return 0;
	ms = state_past_skew_ms(full);
	config_free(full);
	return ms;
}

/*
 * push_validate: the event of TYPE and nf "name=value" arguments through
 * evt_from_fields, the daemon's own validation of a stream entry, with
 * the daemon's time bounds and now as the entry's time. Warns (stderr)
 * on a type that is not one of the known types: the daemon takes such an
 * event with no checks beyond its type, so it is no error, but a typo
 * ("ratings") would never match a rule. Returns the verdict; err holds
 * the reason.
 */
static enum event_err
push_validate(const struct config *cf, const char *type, char **args,
    size_t nf, char *err, size_t errlen)
{
	const char **names, **vals;
	size_t *nl, *vl, i;
	const char *eq;
	char id[40], warn[256];
	struct evt ev;
	enum event_err e;

	if (evt_type_warning(type, warn, sizeof(warn)))
		fprintf(stderr, "recoveryctl: push: warning: %s\n", warn);
	names = xcalloc(nf + 1, sizeof(*names));
	vals = xcalloc(nf + 1, sizeof(*vals));
	nl = xcalloc(nf + 1, sizeof(*nl));
	vl = xcalloc(nf + 1, sizeof(*vl));
	names[0] = "type";
	nl[0] = 4;
	vals[0] = type;
	vl[0] = strlen(type);
	for (i = 0; i < nf; i++) {
		eq = strchr(args[i], '=');
		names[i + 1] = args[i];
		nl[i + 1] = (size_t)(eq - args[i]);
		vals[i + 1] = eq + 1;
		vl[i + 1] = strlen(eq + 1);
	}
	evt_init(&ev);
	evt_set_clock(&ev, cf->max_future_skew_ms, ctl_past_skew(cf), -1,
	    NULL);
	snprintf(id, sizeof(id), "%lld-0", (long long)(now_wall() * 1000));
	e = evt_from_fields(&ev, id, names, nl, vals, vl, nf + 1, err, errlen);
	evt_free(&ev);
	free(names);
	free(vals);
	free(nl);
	free(vl);
	return e;
}

/*
 * ctl_push: XADD input.stream * type TYPE field value ... Fields are split
 * at their first '=' in place through argvlen (no copies), so a value may
 * itself hold '='. Everything is checked before connecting: a usage error
 * exits 2 and an invalid event (as the daemon validates it) exits 1, even
 * when Redis is down, and nothing is written. --dry-run prints the
 * verdict and writes nothing.
 */
int
ctl_push(const struct config *cf, int argc, char **argv)
{
	const char **av;
	size_t *avlen, n, i, j, nf;
	const char *eq;
	redisContext *c;
	redisReply *r;
	char err[512];
	enum event_err ee;
	bool dry = false;
	int rc;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: recoveryctl [-c FILE] push [--dry-run] TYPE "
		    "field=value...\n");
		return EXIT_OK;
	}
	if (argc > 1 && (strcmp(argv[1], "--dry-run") == 0 ||
	    strcmp(argv[1], "-n") == 0)) {
		dry = true;
		argc--;
		argv++;
	}
	if (argc < 2)
		return push_usage("missing the event TYPE");
	if (argv[1][0] == '-' || argv[1][0] == '\0' ||
	    strchr(argv[1], '=') != NULL) {
		fprintf(stderr, "recoveryctl: push: invalid event type '%s'\n",
		    argv[1]);
		return push_usage(NULL);
	}
	nf = (size_t)argc - 2;
	/* The README ("Events") caps an event at 256 fields; the daemon would
	 * dead-letter
	 * more, so say it here. (The duplicate check below is O(n^2) in
	 * that small n.) */
	if (nf > 255)
		return push_usage("at most 255 fields besides the type");
	for (i = 0; i < nf; i++) {
		const char *a = argv[2 + i];
		size_t nlen;

		if ((eq = strchr(a, '=')) == NULL) {
			fprintf(stderr, "recoveryctl: push: '%s' is not "
			    "field=value\n", a);
			return push_usage(NULL);
		}
		nlen = (size_t)(eq - a);
		if (nlen == 0) {
			fprintf(stderr, "recoveryctl: push: '%s' has an empty "
			    "field name\n", a);
			return push_usage(NULL);
		}
		if (nlen == 4 && strncmp(a, "type", 4) == 0) {
			fprintf(stderr, "recoveryctl: push: the type is given "
			    "as TYPE, not as a field ('%s')\n", a);
			return push_usage(NULL);
		}
		for (j = 0; j < i; j++) {
			const char *b = argv[2 + j];

			if (strncmp(a, b, nlen + 1) == 0) {
				fprintf(stderr, "recoveryctl: push: field "
				    "'%.*s' given twice\n", (int)nlen, a);
				return push_usage(NULL);
			}
		}
	}
	ee = push_validate(cf, argv[1], argv + 2, nf, err, sizeof(err));
	if (dry) {
		/* The verdict is the output; the reason is data from the
		 * command line, kept on one line. */
		if (ee == EVERR_NONE)
			printf("valid: %s event, %zu fields\n", argv[1],
			    nf + 1);
		else {
			ctl_one_line(err);
			printf("invalid (%s): %s\n", evt_err_reason(ee), err);
		}
		return ee == EVERR_NONE ? EXIT_OK : EXIT_CHECK;
	}
	if (ee != EVERR_NONE) {
		ctl_one_line(err);
		fprintf(stderr, "recoveryctl: push: invalid event (%s): %s; "
		    "nothing written\n", evt_err_reason(ee), err);
		return EXIT_CHECK;
	}

	if ((c = ctl_connect(cf)) == NULL)
		return EXIT_REDIS;

	n = 5 + 2 * nf;
	av = xcalloc(n, sizeof(*av));
	avlen = xcalloc(n, sizeof(*avlen));
	av[0] = "XADD";
	av[1] = cf->input_stream;
	av[2] = "*";
	av[3] = "type";
	av[4] = argv[1];
	for (i = 0; i < 5; i++)
		avlen[i] = strlen(av[i]);
	for (i = 0; i < nf; i++) {
		const char *a = argv[2 + i];

		eq = strchr(a, '=');
		av[5 + 2 * i] = a;
		avlen[5 + 2 * i] = (size_t)(eq - a);
		av[6 + 2 * i] = eq + 1;
		avlen[6 + 2 * i] = strlen(eq + 1);
	}
	r = redisCommandArgv(c, (int)n, av, avlen);
	if (r == NULL) {
		fprintf(stderr, "recoveryctl: XADD %s: connection lost: %s\n",
		    cf->input_stream, c->errstr);
		rc = EXIT_REDIS;
	} else if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "recoveryctl: XADD %s: %s\n",
		    cf->input_stream, r->str);
		rc = ctl_auth_refused(r) ? EXIT_REDIS : EXIT_CHECK;
	} else if (r->type != REDIS_REPLY_STRING) {
		fprintf(stderr, "recoveryctl: XADD %s: unexpected reply type "
		    "%d\n", cf->input_stream, r->type);
		rc = EXIT_CHECK;
	} else {
		printf("%s\n", r->str);
		rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_CHECK;
	}
	if (r != NULL)
		freeReplyObject(r);
	free(av);
	free(avlen);
	redisFree(c);
	return rc;
}

/* --- watch -------------------------------------------------------------- */

/* Written by the signal handler, read by the poll loop (self-pipe). */
static int	sigpipe_fds[2] = { -1, -1 };

static void
watch_signal(int sig)
{
	int saved = errno;
	char b = (char)sig;

	if (write(sigpipe_fds[1], &b, 1) == -1) {
		/* full pipe: a stop is pending anyway */
	}
	errno = saved;
}

static int
watch_signals_setup(void)
{
	struct sigaction sa;
	int i;

	if (pipe(sigpipe_fds) == -1) {
		fprintf(stderr, "recoveryctl: pipe: %s\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < 2; i++) {
		fcntl(sigpipe_fds[i], F_SETFD, FD_CLOEXEC);
		fcntl(sigpipe_fds[i], F_SETFL,
		    fcntl(sigpipe_fds[i], F_GETFL) | O_NONBLOCK);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return 0;
}

static void
watch_signals_teardown(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	close(sigpipe_fds[0]);
	close(sigpipe_fds[1]);
	sigpipe_fds[0] = sigpipe_fds[1] = -1;
}

static bool
watch_stopped(void)
{
	char b;

	return read(sigpipe_fds[0], &b, 1) == 1;
}

/*
 * watch_wait: poll fd (when >= 0) for input and the signal pipe, at most
 * timeout_ms (-1: forever). Returns 1 when fd is readable, 0 on timeout,
 * -1 when a signal asked us to stop.
 */
static int
watch_wait(int fd, int timeout_ms)
{
	struct pollfd pfd[2];
	nfds_t n = 1;
	int rv;

	pfd[0].fd = sigpipe_fds[0];
	pfd[0].events = POLLIN;
	if (fd >= 0) {
		pfd[1].fd = fd;
		pfd[1].events = POLLIN;
		n = 2;
	}
	for (;;) {
		rv = poll(pfd, n, timeout_ms);
		if (rv == -1 && errno == EINTR)
			continue;	/* the pipe says whether to stop */
		if (rv == -1)
			return -1;
		if (rv == 0)
			return 0;
		if (pfd[0].revents != 0 && watch_stopped())
			return -1;
		if (n == 2 && pfd[1].revents != 0)
			return 1;
	}
}

/* json_field: a member of an alert rendered as text: strings as they are,
 * numbers and booleans in their JSON form, absent or null as "". */
static void
json_field(json_t *o, const char *key, char *out, size_t len)
{
	json_t *v = json_object_get(o, key);

	out[0] = '\0';
	if (v == NULL)
		return;
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(out, len, "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(out, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(out, len, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(out, len, "true");
		break;
	case JSON_FALSE:
		snprintf(out, len, "false");
		break;
	default:
		break;
	}
}

/* ctl_one_line: replace control characters by spaces so that a message
 * carrying a newline still prints as one line. */
void
ctl_one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/*
 * watch_print: print one Pub/Sub payload from channel key. Returns 0, or
 * -1 when stdout is gone (a closed pipe: time to stop).
 */
static int
watch_print(const char *key, const char *payload, size_t len, bool json)
{
	char fired[64], sev[32], rule[256], cust[256], kase[256];
	char msg[4096];
	json_error_t jerr;
	json_t *o;

	if (json) {
		fwrite(payload, 1, len, stdout);
		putchar('\n');
		return fflush(stdout) == 0 ? 0 : -1;
	}
	o = json_loadb(payload, len, 0, &jerr);
	if (o == NULL || !json_is_object(o)) {
		fprintf(stderr, "recoveryctl: watch: %s: skipping a message "
		    "that is not a JSON alert: %s\n", key,
		    o == NULL ? jerr.text : "not an object");
		json_decref(o);
		return 0;
	}
	json_field(o, "fired_at", fired, sizeof(fired));
	json_field(o, "severity", sev, sizeof(sev));
	json_field(o, "rule", rule, sizeof(rule));
	json_field(o, "customer_id", cust, sizeof(cust));
	json_field(o, "case_id", kase, sizeof(kase));
	json_field(o, "message", msg, sizeof(msg));
	json_decref(o);
	ctl_one_line(rule);
	ctl_one_line(cust);
	ctl_one_line(kase);
	ctl_one_line(msg);
	printf("%s  %s  %s  customer=%s  case=%s  %s\n", fired, sev, rule,
	    cust, kase, msg);
	return fflush(stdout) == 0 ? 0 : -1;
}

/*
 * watch_reply: handle one reply of a subscribed connection: subscribe
 * confirmations are skipped, messages printed. Returns 0, 1 when the
 * output is gone, -1 on an error reply (printed).
 */
static int
watch_reply(redisReply *r, bool json)
{
	redisReply *kind, *chan, *data;

	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "recoveryctl: watch: %s\n", r->str);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
		return 0;
	kind = r->element[0];
	chan = r->element[1];
	data = r->element[2];
	if (kind->type != REDIS_REPLY_STRING ||
	    strcmp(kind->str, "message") != 0 ||
	    chan->type != REDIS_REPLY_STRING ||
	    data->type != REDIS_REPLY_STRING)
		return 0;
	return watch_print(chan->str, data->str, data->len, json) == -1 ? 1 : 0;
}

/*
 * watch_subscribe: SUBSCRIBE to the nkeys keys. The first confirmation is
 * the reply of redisCommandArgv; the others arrive in the read loop and
 * are skipped there. Returns 0, or -1 (-2 when refused for want of a
 * password) with the reason in err.
 */
static int
watch_subscribe(redisContext *c, const char **keys, size_t nkeys, char *err,
    size_t errlen)
{
	const char **av = xcalloc(nkeys + 1, sizeof(*av));
	redisReply *r;
	size_t i;
	int rv = 0;

	av[0] = "SUBSCRIBE";
	for (i = 0; i < nkeys; i++)
		av[i + 1] = keys[i];
	r = redisCommandArgv(c, (int)nkeys + 1, av, NULL);
	free(av);
	if (r == NULL) {
		snprintf(err, errlen, "%s", c->errstr);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "SUBSCRIBE: %s", r->str);
		rv = ctl_auth_refused(r) ? -2 : -1;
	}
	freeReplyObject(r);
	return rv;
}

enum { WATCH_STOP, WATCH_LOST, WATCH_FAIL };

/*
 * watch_loop: read and print messages until a signal (WATCH_STOP), a
 * lost connection (WATCH_LOST, reason in err) or an error reply or a
 * closed stdout (WATCH_FAIL; EPIPE on stdout counts as a stop).
 */
static int
watch_loop(redisContext *c, bool json, char *err, size_t errlen)
{
	void *reply;
	int rv;

	for (;;) {
		/* Drain what hiredis already buffered before polling. */
		for (;;) {
			if (redisGetReplyFromReader(c, &reply) == REDIS_ERR) {
				snprintf(err, errlen, "%s", c->errstr);
				return WATCH_LOST;
			}
			if (reply == NULL)
				break;
			rv = watch_reply(reply, json);
			freeReplyObject(reply);
			if (rv == 1)
				return errno == EPIPE ? WATCH_STOP : WATCH_FAIL;
			if (rv == -1)
				return WATCH_FAIL;
		}
		switch (watch_wait(c->fd, -1)) {
		case -1:
			return WATCH_STOP;
		case 1:
			if (redisBufferRead(c) == REDIS_ERR) {
				snprintf(err, errlen, "%s", c->errstr);
				return WATCH_LOST;
			}
			break;
		default:
			break;
		}
	}
}

static int
watch_usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "recoveryctl: watch: %s\n", why);
	fprintf(stderr, "usage: recoveryctl [-c FILE] watch [--json] "
	    "[CHANNEL...]\n");
	return EXIT_USAGE;
}

/* watchable: a stream channel with a key. The configuration comes from
 * config_load_redis(), which keeps a channel whose definition has an
 * error: one may lack its key. */
static bool
watchable(const struct channel *ch)
{
	return ch->type == CH_STREAM && ch->key != NULL;
}

/*
 * watch_keys: the keys to subscribe to, from the named channels or, with
 * none named, every stream channel; duplicates removed. Returns the count
 * (keys[] is caller-allocated with cf->nchannels slots) or -1 after
 * printing a usage error.
 */
static int
watch_keys(const struct config *cf, char **names, size_t nnames,
    const char **keys)
{
	const char **cands;
	const struct channel *ch;
	const char *dym;
	size_t i, j, nk = 0, nc = 0;

	if (nnames == 0) {
		for (i = 0; i < cf->nchannels; i++) {
			if (!watchable(&cf->channels[i]))
				continue;
			for (j = 0; j < nk; j++)
				if (strcmp(keys[j], cf->channels[i].key) == 0)
					break;
			if (j == nk)
				keys[nk++] = cf->channels[i].key;
		}
		if (nk == 0) {
			fprintf(stderr, "recoveryctl: watch: %s has no "
			    "channel of type stream to watch\n", cf->path);
			return -1;
		}
		return (int)nk;
	}
	cands = xcalloc(cf->nchannels + 1, sizeof(*cands));
	for (i = 0; i < cf->nchannels; i++)
		if (watchable(&cf->channels[i]))
			cands[nc++] = cf->channels[i].name;
	for (i = 0; i < nnames; i++) {
		if ((ch = config_channel(cf, names[i])) == NULL) {
			dym = did_you_mean(names[i], cands, nc);
			if (dym != NULL)
				fprintf(stderr, "recoveryctl: watch: unknown "
				    "channel \"%s\" (did you mean \"%s\"?)\n",
				    names[i], dym);
			else
				fprintf(stderr, "recoveryctl: watch: unknown "
				    "channel \"%s\"\n", names[i]);
			free(cands);
			return -1;
		}
		if (ch->type != CH_STREAM) {
			fprintf(stderr, "recoveryctl: watch: channel \"%s\" "
			    "is of type %s; only stream channels can be "
			    "watched\n", names[i], chan_type_name(ch->type));
			free(cands);
			return -1;
		}
		if (!watchable(ch)) {
			fprintf(stderr, "recoveryctl: watch: channel \"%s\" "
			    "has no key (see recoveryctl check)\n", names[i]);
			free(cands);
			return -1;
		}
		for (j = 0; j < nk; j++)
			if (strcmp(keys[j], ch->key) == 0)
				break;
		if (j == nk)
			keys[nk++] = ch->key;
	}
	free(cands);
	return (int)nk;
}

/*
 * keepalive: TCP keepalive, so that a server that vanished without a FIN
 * (a crashed host, a dropped NAT entry) is noticed while we wait for
 * messages. Not for unix sockets: hiredis would flag the context as broken
 * on their EOPNOTSUPP. A failure only costs that detection, so the error
 * is cleared rather than treated as a lost connection.
 */
static void
keepalive(redisContext *c, const struct redis_target *t)
{
	if (t->unix_socket)
		return;
	if (redisEnableKeepAlive(c) != REDIS_OK) {
		c->err = 0;
		c->errstr[0] = '\0';
	}
}

/*
 * ctl_watch: SUBSCRIBE to the keys of the stream channels and print each
 * alert. Redis unreachable at start: exit 3. A lost connection is retried
 * every second with a note on stderr. SIGINT/SIGTERM: exit 0.
 */
int
ctl_watch(const struct config *cf, int argc, char **argv)
{
	struct redis_target t;
	const char **keys;
	char disp[600], err[512];
	redisContext *c;
	bool json = false;
	int i, first, nkeys, rc, lost = 0;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else {
			fprintf(stderr, "recoveryctl: watch: unknown option "
			    "'%s'\n", argv[i]);
			return watch_usage(NULL);
		}
	}
	first = i;
	keys = xcalloc(cf->nchannels + 1, sizeof(*keys));
	nkeys = watch_keys(cf, argv + first, (size_t)(argc - first), keys);
	if (nkeys < 0) {
		free(keys);
		return watch_usage(NULL);
	}

	if ((c = ctl_connect(cf)) == NULL) {
		free(keys);
		return EXIT_REDIS;
	}
	if (ctl_target(cf, &t, disp, sizeof(disp)) == -1 ||
	    watch_signals_setup() == -1) {
		redisFree(c);
		free(keys);
		return EXIT_CHECK;
	}
	switch (watch_subscribe(c, keys, (size_t)nkeys, err, sizeof(err))) {
	case -2:
		fprintf(stderr, "recoveryctl: cannot reach Redis at %s: %s\n",
		    disp, err);
		rc = EXIT_REDIS;
		goto done;
	case -1:
		fprintf(stderr, "recoveryctl: watch: %s: %s\n", disp, err);
		rc = EXIT_CHECK;
		goto done;
	default:
		break;
	}
	keepalive(c, &t);

	for (;;) {
		switch (watch_loop(c, json, err, sizeof(err))) {
		case WATCH_STOP:
			rc = EXIT_OK;
			goto done;
		case WATCH_FAIL:
			rc = EXIT_CHECK;
			goto done;
		default:
			break;
		}
		fprintf(stderr, "recoveryctl: watch: lost the connection to "
		    "Redis at %s: %s; reconnecting every second\n", disp, err);
		redisFree(c);
		c = NULL;
		/* Alerts published while we are away are not seen: Pub/Sub
		 * does not keep them (the channels' streams do). */
		while (c == NULL) {
			if (watch_wait(-1, RECONNECT_INTERVAL_MS) == -1) {
				rc = EXIT_OK;
				goto done;
			}
			if ((c = ctl_open(&t, err, sizeof(err))) != NULL &&
			    watch_subscribe(c, keys, (size_t)nkeys, err,
			    sizeof(err)) != 0) {
				redisFree(c);
				c = NULL;
			}
			if (c == NULL && lost++ == 0)
				fprintf(stderr, "recoveryctl: watch: still "
				    "cannot reach Redis at %s: %s\n", disp,
				    err);
		}
		lost = 0;
		keepalive(c, &t);
		fprintf(stderr, "recoveryctl: watch: reconnected to Redis at "
		    "%s\n", disp);
	}
done:
	watch_signals_teardown();
	if (c != NULL)
		redisFree(c);
	free(keys);
	return rc;
}
