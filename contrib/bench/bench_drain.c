/*
 * bench_drain.c — the Redis side of "make bench": fills the input stream,
 * measures how fast a bare client can drain it, waits for recoveryd to
 * drain it, and measures the latency from XADD to the alert.
 *
 *   bench_drain load    -s SOCK -n N [--low-csat] [--stream S]
 *   bench_drain raw     -s SOCK --group G [--count N] [--stream S]
 *   bench_drain wait    -s SOCK --group G [--since EPOCH_NS] [--timeout S]
 *   bench_drain latency -s SOCK -r RATE -d SECONDS [--group G]
 *                       [--channel C] [--stream S]
 *
 * "load" preloads N valid rating events with flat fields, pipelined in
 * chunks of 1,000, and writes the CRM hash ivr:customer:K<n> (tier gold or
 * platinum) for one customer in ten, so that recoveryd's enrichment finds
 * something. With --low-csat the events are those "latency" sends instead
(csat=1, a customer of its own each, no CRM hash): every one fires
low-csat and opens a case, so that draining them measures the maximum
rate of that case, which run.sh runs "latency" at 80 % of. "raw" is the drain limit: a consumer group read with
 * XREADGROUP COUNT n and acked with one XACK per batch, the XACK of one
 * batch pipelined with the read of the next, so one round trip per batch
 * and no work on the entries. "wait" polls the group every 10 ms until it
 * has read every entry of the stream and has nothing pending, and prints
 * the time since --since (default: its own start); after --timeout
 * (default 600 s) it gives up and prints the rate of what was processed
 * so far, marked drained=0. "latency" XADDs rating
 * events with csat=1 and a customer of its own (so that every one fires
 * low-csat, a stream alert, whatever the cooldowns) at RATE per second,
 * paced with clock_nanosleep on absolute deadlines (those due when it
 * wakes behind time pipelined, up to SEND_PIPE at once), and a
 * forked child subscribed to the alert channel timestamps each alert on
 * arrival; the first alert per event_id is matched against the XADD's
 * send time. Both clocks are CLOCK_REALTIME on the same machine. With
 * BENCH_LATENCY_DUMP=FILE it also writes "sent_ms latency_ms" per event
 * (the send time from the start of the run), to see when slow ones come.
 *
 * Every subcommand prints one result line of key=value pairs, for people
 * and for contrib/bench/run.sh. Nothing here gates: exit 1 means the
 * measurement itself could not be made (Redis refused or went away, no
 * consumer group to wait for).
 *
 * Only hiredis (sync API), jansson and libc.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#define LOAD_CHUNK	1000
#define NCUSTOMERS	5000
#define NAGENTS		40
#define SEND_PIPE	64	/* latency: events sent behind time at once */
/* wait: 10 ms between polls (at 100 ms, a drain of 1.6 s was measured
 * within 6%: two builds compared came out at the same 0.1 s step) */
#define POLL_NS		10000000LL
#define SENTINEL	"__bench_drain_end__"

static const char *const queues[] = { "billing", "retention", "support",
    "sales", "tech" };

struct opts {
	const char	*sock;
	const char	*stream;
	const char	*group;
	const char	*channel;
	long long	 n;
	int		 low_csat;
	long		 count;
	double		 rate;
	double		 seconds;
	long long	 since_ns;
	double		 timeout;
};

/* A stream entry ID as two numbers, so IDs compare and sort exactly. */
struct sid {
	uint64_t	ms, seq;
};

struct sent {
	struct sid	id;
	int64_t		t_ns;
};

/* What the subscriber child sends back, one per alert it saw. */
struct rec {
	struct sid	id;
	int64_t		t_ns;
};

static int64_t
clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *
xrealloc(void *p, size_t n, size_t size)
{
	void *q;

	if (size != 0 && n > SIZE_MAX / size)
		errx(1, "allocation overflow");
	if ((q = realloc(p, n * size)) == NULL)
		err(1, "realloc");
	return q;
}

static int
sid_parse(const char *s, struct sid *out)
{
	char *end;

	errno = 0;
	out->ms = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '-')
		return -1;
	s = end + 1;
	out->seq = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	return 0;
}

static int
sid_cmp(const struct sid *a, const struct sid *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

static int
sent_cmp(const void *a, const void *b)
{
	return sid_cmp(&((const struct sent *)a)->id,
	    &((const struct sent *)b)->id);
}

/* Records by ID, then by arrival: the first of an ID is its first alert. */
static int
rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c = sid_cmp(&x->id, &y->id);

	if (c != 0)
		return c;
	return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

static int
i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* --- Redis helpers ------------------------------------------------------ */

static redisContext *
connect_sock(const char *path)
{
	redisContext *c = redisConnectUnix(path);

	if (c == NULL)
		errx(1, "%s: cannot allocate a redis context", path);
	if (c->err)
		errx(1, "%s: %s", path, c->errstr);
	return c;
}

/* cmd: run one command; exits on a lost connection. The caller frees the
 * reply and decides what an error reply means. */
static redisReply *
cmd(redisContext *c, int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);

	if (r == NULL)
		errx(1, "%s: %s", argv[0], c->err ? c->errstr : "no reply");
	return r;
}

/* cmd_ok: as cmd, and an error reply is fatal too. */
static redisReply *
cmd_ok(redisContext *c, int argc, const char **argv)
{
	redisReply *r = cmd(c, argc, argv);

	if (r->type == REDIS_REPLY_ERROR)
		errx(1, "%s %s: %s", argv[0], argc > 1 ? argv[1] : "", r->str);
	return r;
}

/* get_reply: the next pipelined reply; exits on a lost connection or an
 * error reply. */
static redisReply *
get_reply(redisContext *c, const char *what)
{
	void *v = NULL;
	redisReply *r;

	if (redisGetReply(c, &v) != REDIS_OK || v == NULL)
		errx(1, "%s: %s", what, c->err ? c->errstr : "no reply");
	r = v;
	if (r->type == REDIS_REPLY_ERROR)
		errx(1, "%s: %s", what, r->str);
	return r;
}

/* map_get: the value of key k in a flat [k1, v1, k2, v2, ...] reply. */
static const redisReply *
map_get(const redisReply *m, const char *k)
{
	size_t i;

	if (m == NULL || m->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i + 1 < m->elements; i += 2) {
		const redisReply *key = m->element[i];
		if (key->type == REDIS_REPLY_STRING && strcmp(key->str, k) == 0)
			return m->element[i + 1];
	}
	return NULL;
}

struct gstate {
	struct sid	last_generated;	/* of the stream */
	struct sid	last_delivered;	/* of the group */
	long long	pending;
	long long	length;		/* of the stream */
	long long	entries_read;	/* by the group; -1: unknown */
};

/*
 * group_state: where group g stands on stream s. Returns 0, or -1 when
 * the stream or the group does not exist (yet).
 */
static int
group_state(redisContext *c, const char *s, const char *g, struct gstate *st)
{
	const char *xs[] = { "XINFO", "STREAM", s };
	const char *xg[] = { "XINFO", "GROUPS", s };
	const redisReply *v;
	redisReply *r;
	size_t i;
	int found = -1;

	r = cmd(c, 3, xs);
	if (r->type == REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		return -1;	/* no such key */
	}
	if ((v = map_get(r, "last-generated-id")) == NULL ||
	    v->type != REDIS_REPLY_STRING ||
	    sid_parse(v->str, &st->last_generated) == -1)
		errx(1, "XINFO STREAM %s: no last-generated-id", s);
	v = map_get(r, "length");
	st->length = v != NULL && v->type == REDIS_REPLY_INTEGER ?
	    v->integer : -1;
	freeReplyObject(r);

	r = cmd(c, 3, xg);
	if (r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return -1;
	}
	for (i = 0; i < r->elements; i++) {
		const redisReply *grp = r->element[i];
		v = map_get(grp, "name");
		if (v == NULL || v->type != REDIS_REPLY_STRING ||
		    strcmp(v->str, g) != 0)
			continue;
		v = map_get(grp, "last-delivered-id");
		if (v == NULL || v->type != REDIS_REPLY_STRING ||
		    sid_parse(v->str, &st->last_delivered) == -1)
			errx(1, "XINFO GROUPS %s: no last-delivered-id", s);
		v = map_get(grp, "pending");
		st->pending = v != NULL && v->type == REDIS_REPLY_INTEGER ?
		    v->integer : -1;
		/* Redis 7; nil when it cannot tell (deletions, old RDB). */
		v = map_get(grp, "entries-read");
		st->entries_read = v != NULL &&
		    v->type == REDIS_REPLY_INTEGER ? v->integer : -1;
		found = 0;
	}
	freeReplyObject(r);
	return found;
}

static int
drained(const struct gstate *st)
{
	return st->pending == 0 &&
	    sid_cmp(&st->last_delivered, &st->last_generated) >= 0;
}

/*
 * wait_drained: poll every 10 ms until group g has read all of stream s
 * and acked it, or timeout seconds pass. Returns 0 when drained.
 */
static int
wait_drained(redisContext *c, const char *s, const char *g, double timeout,
    struct gstate *st)
{
	int64_t deadline = clock_ns(CLOCK_MONOTONIC) +
	    (int64_t)(timeout * 1e9);
	struct timespec ts = { 0, POLL_NS };

	for (;;) {
		if (group_state(c, s, g, st) == 0 && drained(st))
			return 0;
		if (clock_ns(CLOCK_MONOTONIC) > deadline)
			return -1;
		nanosleep(&ts, NULL);
	}
}

/* --- load --------------------------------------------------------------- */

static void
cmd_load(const struct opts *o)
{
	redisContext *c = connect_sock(o->sock);
	char callid[32], cust[32], agent[32], csat[8], nps[8], key[64];
	const char *argv[18];
	int64_t t0 = clock_ns(CLOCK_MONOTONIC);
	long long i, j, done = 0, nhash = 0;
	double secs;

	argv[0] = "XADD";
	argv[1] = o->stream;
	argv[2] = "*";
	argv[3] = "type";	argv[4] = "rating";
	argv[5] = "call_id";	argv[6] = callid;
	argv[7] = "customer_id"; argv[8] = cust;
	argv[9] = "agent_id";	argv[10] = agent;
	argv[11] = "queue";	/* argv[12] set per event */
	argv[13] = "csat";	argv[14] = csat;
	argv[15] = "nps";	argv[16] = nps;
	while (done < o->n) {
		long long chunk = o->n - done < LOAD_CHUNK ? o->n - done :
		    LOAD_CHUNK;
		for (j = 0; j < chunk; j++) {
			i = done + j;
			if (o->low_csat) {
				/* as cmd_latency sends them */
				snprintf(callid, sizeof(callid), "L%lld", i);
				snprintf(cust, sizeof(cust), "LK%lld", i);
				snprintf(agent, sizeof(agent), "A%lld",
				    i % NAGENTS);
				argv[12] = queues[i % 5];
				argv[14] = "1";
				if (redisAppendCommandArgv(c, 15, argv,
				    NULL) != REDIS_OK)
					errx(1, "XADD: %s", c->errstr);
				argv[14] = csat;
				continue;
			}
			snprintf(callid, sizeof(callid), "C%lld", i);
			snprintf(cust, sizeof(cust), "K%lld", i % NCUSTOMERS);
			snprintf(agent, sizeof(agent), "A%lld", i % NAGENTS);
			argv[12] = queues[i % 5];
			snprintf(csat, sizeof(csat), "%lld", i % 5 + 1);
			snprintf(nps, sizeof(nps), "%lld", i % 11);
			/* hiredis copies the arguments: buffers are reused. */
			if (redisAppendCommandArgv(c, 17, argv, NULL) != REDIS_OK)
				errx(1, "XADD: %s", c->errstr);
		}
		for (j = 0; j < chunk; j++)
			freeReplyObject(get_reply(c, "XADD"));
		done += chunk;
	}
	/* One customer in ten is a VIP in the CRM. */
	for (i = 0; i < (o->low_csat ? 0 : NCUSTOMERS); i += 10) {
		const char *hv[] = { "HSET", key, "tier", i % 20 == 0 ? "gold" :
		    "platinum", "name", "Bench Customer" };
		snprintf(key, sizeof(key), "ivr:customer:K%lld", i);
		if (redisAppendCommandArgv(c, 6, hv, NULL) != REDIS_OK)
			errx(1, "HSET: %s", c->errstr);
		nhash++;
	}
	for (i = 0; i < nhash; i++)
		freeReplyObject(get_reply(c, "HSET"));
	secs = (clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	printf("load: events=%lld customers_with_tier=%lld seconds=%.3f "
	    "events_per_s=%.0f\n", done, nhash, secs, done / secs);
	redisFree(c);
}

/* --- raw ---------------------------------------------------------------- */

/* batch_ids: copy the entry IDs of a read reply into ids (argv of an
 * XACK after its 3 leading arguments); returns how many, 0 at the end. */
static size_t
batch_ids(const redisReply *r, char (*ids)[48], const char **argv,
    size_t cap)
{
	const redisReply *entries;
	size_t i, n;

	if (r->type == REDIS_REPLY_NIL)
		return 0;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY ||
	    r->element[0]->elements != 2)
		errx(1, "XREADGROUP: unexpected reply");
	entries = r->element[0]->element[1];
	n = entries->elements < cap ? entries->elements : cap;
	for (i = 0; i < n; i++) {
		const redisReply *e = entries->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			errx(1, "XREADGROUP: unexpected entry");
		snprintf(ids[i], sizeof(ids[i]), "%s", e->element[0]->str);
		argv[3 + i] = ids[i];
	}
	return n;
}

static void
cmd_raw(const struct opts *o)
{
	redisContext *c = connect_sock(o->sock);
	const char *xg[] = { "XGROUP", "CREATE", o->stream, o->group, "0" };
	char count[24], (*ids)[48];
	const char *rd[] = { "XREADGROUP", "GROUP", o->group, "raw", "COUNT",
	    count, "STREAMS", o->stream, ">" };
	const char **ack;
	redisReply *r, *a;
	long long total = 0, batches = 0;
	int64_t t0;
	size_t n;
	double secs;

	freeReplyObject(cmd_ok(c, 5, xg));
	snprintf(count, sizeof(count), "%ld", o->count);
	ids = xrealloc(NULL, (size_t)o->count, sizeof(*ids));
	ack = xrealloc(NULL, (size_t)o->count + 3, sizeof(*ack));
	ack[0] = "XACK";
	ack[1] = o->stream;
	ack[2] = o->group;

	t0 = clock_ns(CLOCK_MONOTONIC);
	r = cmd_ok(c, 9, rd);
	while ((n = batch_ids(r, ids, ack, (size_t)o->count)) > 0) {
		freeReplyObject(r);
		/* The ack of this batch and the read of the next: one trip. */
		if (redisAppendCommandArgv(c, (int)n + 3, ack, NULL) !=
		    REDIS_OK || redisAppendCommandArgv(c, 9, rd, NULL) !=
		    REDIS_OK)
			errx(1, "pipeline: %s", c->errstr);
		a = get_reply(c, "XACK");
		if (a->type != REDIS_REPLY_INTEGER || a->integer != (long long)n)
			errx(1, "XACK acked %lld of %zu", a->integer, n);
		freeReplyObject(a);
		r = get_reply(c, "XREADGROUP");
		total += (long long)n;
		batches++;
	}
	freeReplyObject(r);
	secs = (clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	printf("raw: group=%s count=%ld events=%lld batches=%lld "
	    "seconds=%.3f events_per_s=%.0f\n", o->group, o->count, total,
	    batches, secs, secs > 0 ? total / secs : 0);
	free(ids);
	free(ack);
	redisFree(c);
}

/* --- wait --------------------------------------------------------------- */

/*
 * cmd_wait: prints how long the group took to drain the stream, counted
 * from --since. When it does not drain within --timeout, the line says
 * drained=0 and the rate is of the entries processed (read and acked) so
 * far; that is still a measurement, so the exit status is 0.
 */
static void
cmd_wait(const struct opts *o)
{
	redisContext *c = connect_sock(o->sock);
	int64_t since = o->since_ns ? o->since_ns : clock_ns(CLOCK_REALTIME);
	struct gstate st;
	long long done;
	double secs;
	int rc;

	memset(&st, 0, sizeof(st));
	st.entries_read = -1;
	rc = wait_drained(c, o->stream, o->group, o->timeout, &st);
	secs = (clock_ns(CLOCK_REALTIME) - since) / 1e9;
	if (rc == 0)
		done = st.entries_read >= 0 ? st.entries_read : st.length;
	else
		done = st.entries_read >= 0 ? st.entries_read - st.pending : -1;
	printf("drain: group=%s drained=%d events=%lld processed=%lld "
	    "seconds=%.3f events_per_s=%.0f\n", o->group, rc == 0, st.length,
	    done, secs, done >= 0 && secs > 0 ? done / secs : 0);
	redisFree(c);
}

/* --- latency ------------------------------------------------------------ */

static void
write_all(int fd, const void *p, size_t n)
{
	const char *b = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, b, n)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "write");
		}
		b += w;
		n -= (size_t)w;
	}
}

/* read_all: exactly n bytes, or -1 at end of file. */
static int
read_all(int fd, void *p, size_t n)
{
	char *b = p;
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, b, n)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "read");
		}
		if (r == 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * subscriber: the child. Subscribes, says 'R' on fd, timestamps every
 * alert until the sentinel, then writes the count and the records to fd
 * and exits. Never returns.
 */
static void
subscriber(const struct opts *o, int fd)
{
	redisContext *c = connect_sock(o->sock);
	const char *sub[] = { "SUBSCRIBE", o->channel };
	struct rec *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t count, bad = 0;
	redisReply *r;
	void *rv;

	freeReplyObject(cmd_ok(c, 2, sub));	/* the subscribe confirmation */
	write_all(fd, "R", 1);
	for (;;) {
		json_error_t jerr;
		json_t *root;
		const char *id;
		int64_t t;

		rv = NULL;
		if (redisGetReply(c, &rv) != REDIS_OK || rv == NULL)
			errx(1, "subscriber: %s", c->err ? c->errstr :
			    "no reply");
		t = clock_ns(CLOCK_REALTIME);
		r = rv;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
		    r->element[2]->type != REDIS_REPLY_STRING) {
			freeReplyObject(r);
			continue;
		}
		if (strcmp(r->element[2]->str, SENTINEL) == 0) {
			freeReplyObject(r);
			break;
		}
		root = json_loadb(r->element[2]->str, r->element[2]->len, 0,
		    &jerr);
		id = json_string_value(json_object_get(root, "event_id"));
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			v = xrealloc(v, cap, sizeof(*v));
		}
		if (id != NULL && sid_parse(id, &v[n].id) == 0) {
			v[n].t_ns = t;
			n++;
		} else
			bad++;
		json_decref(root);
		freeReplyObject(r);
	}
	if (bad > 0)
		warnx("subscriber: %" PRIu64 " messages without a valid "
		    "event_id", bad);
	count = n;
	write_all(fd, &count, sizeof(count));
	if (n > 0)
		write_all(fd, v, n * sizeof(*v));
	free(v);
	redisFree(c);
	_exit(0);
}

/* The subscriber, while it runs: the parent stops it on any way out. */
static pid_t child_pid;

static void
kill_child(void)
{
	if (child_pid > 0)
		kill(child_pid, SIGTERM);
}

/* ms: a latency in nanoseconds as milliseconds. */
static double
ms(int64_t ns)
{
	return ns / 1e6;
}

static void
cmd_latency(const struct opts *o)
{
	redisContext *c = connect_sock(o->sock);
	char callid[32], cust[32], agent[32];
	const char *xadd[] = { "XADD", o->stream, "*", "type", "rating",
	    "call_id", callid, "customer_id", cust, "agent_id", agent,
	    "queue", NULL, "csat", "1" };
	const char *pub[] = { "PUBLISH", o->channel, SENTINEL };
	struct sent *sent;
	struct rec *recs = NULL;
	int64_t *lat, t0, interval, wall0;
	long long i, nsend = (long long)(o->rate * o->seconds);
	uint64_t nrec = 0;
	size_t j, nlat = 0, missing = 0, unknown = 0;
	struct gstate st;
	int fds[2], status;
	double secs;
	const char *dumpf;
	FILE *dump = NULL;
	pid_t pid;
	char ready;

	if (nsend <= 0)
		errx(1, "latency: nothing to send (rate %.0f, %.0f s)",
		    o->rate, o->seconds);
	/* recoveryd must be reading before the clock starts. */
	if (wait_drained(c, o->stream, o->group, 10, &st) == -1)
		errx(1, "group %s of %s does not exist or is not idle after "
		    "10 s: is recoveryd running?", o->group, o->stream);

	if (pipe(fds) == -1)
		err(1, "pipe");
	fflush(NULL);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		close(fds[0]);
		redisFree(c);
		subscriber(o, fds[1]);
	}
	child_pid = pid;
	atexit(kill_child);
	close(fds[1]);
	if (read_all(fds[0], &ready, 1) == -1 || ready != 'R')
		errx(1, "the subscriber did not start");

	sent = xrealloc(NULL, (size_t)nsend, sizeof(*sent));
	interval = (int64_t)(1e9 / o->rate);
	t0 = clock_ns(CLOCK_MONOTONIC) + 10000000;
	wall0 = clock_ns(CLOCK_REALTIME);
	/*
	 * Each event at its time; those already due when the sender wakes
	 * (it fell behind: a reply took longer than the interval) go as one
	 * pipeline of up to SEND_PIPE, each stamped as it is written. One
	 * round trip per event capped the rate at about 10,000 a second
	 * here, below 80% of the low-CSAT maximum (2026-12-04).
	 */
	for (i = 0; i < nsend; ) {
		int64_t d = t0 + i * interval, due;
		struct timespec ts = { (time_t)(d / 1000000000LL),
		    (long)(d % 1000000000LL) };
		long long k, m;
		redisReply *r;

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
		    NULL) == EINTR)
			;
		due = (clock_ns(CLOCK_MONOTONIC) - t0) / interval + 1;
		k = due - i;
		if (k < 1)
			k = 1;
		if (k > SEND_PIPE)
			k = SEND_PIPE;
		if (k > nsend - i)
			k = nsend - i;
		for (m = i; m < i + k; m++) {
			snprintf(callid, sizeof(callid), "L%lld", m);
			/* One customer per event: cooldowns are per
			 * customer. */
			snprintf(cust, sizeof(cust), "LK%lld", m);
			snprintf(agent, sizeof(agent), "A%lld", m % NAGENTS);
			xadd[12] = queues[m % 5];
			sent[m].t_ns = clock_ns(CLOCK_REALTIME);
			if (redisAppendCommandArgv(c, 15, xadd, NULL) !=
			    REDIS_OK)
				errx(1, "XADD: %s", c->errstr);
			if (k > 1) {
				/* out now: its clock started */
				int done = 0;

				while (!done)
					if (redisBufferWrite(c, &done) !=
					    REDIS_OK)
						errx(1, "XADD: %s", c->errstr);
			}
		}
		for (m = i; m < i + k; m++) {
			r = get_reply(c, "XADD");
			if (r->type != REDIS_REPLY_STRING ||
			    sid_parse(r->str, &sent[m].id) == -1)
				errx(1, "XADD: unexpected reply");
			freeReplyObject(r);
		}
		i += k;
	}
	secs = (clock_ns(CLOCK_REALTIME) - wall0) / 1e9;

	/* Let recoveryd finish, then stop the subscriber. */
	if (wait_drained(c, o->stream, o->group, 120, &st) == -1)
		warnx("group %s not drained 120 s after the last event; "
		    "counting what arrived", o->group);
	{
		struct timespec ts = { 0, 200000000 };
		nanosleep(&ts, NULL);
	}
	freeReplyObject(cmd_ok(c, 3, pub));
	if (read_all(fds[0], &nrec, sizeof(nrec)) == -1)
		errx(1, "the subscriber exited without its records");
	if (nrec > 0) {
		recs = xrealloc(NULL, (size_t)nrec, sizeof(*recs));
		if (read_all(fds[0], recs, (size_t)nrec * sizeof(*recs)) == -1)
			errx(1, "the subscriber's records are short");
	}
	close(fds[0]);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	child_pid = 0;

	/* Match: both sorted by ID; the first alert of an ID counts. */
	qsort(sent, (size_t)nsend, sizeof(*sent), sent_cmp);
	if (nrec > 0)
		qsort(recs, (size_t)nrec, sizeof(*recs), rec_cmp);
	lat = xrealloc(NULL, (size_t)nsend, sizeof(*lat));
	/* BENCH_LATENCY_DUMP=FILE: "sent_ms latency_ms" of every event, the
	 * send time from the start of the run, to look for a pattern in the
	 * slow ones. */
	if ((dumpf = getenv("BENCH_LATENCY_DUMP")) != NULL && dumpf[0] != '\0' &&
	    (dump = fopen(dumpf, "w")) == NULL)
		err(1, "%s", dumpf);
	for (i = 0, j = 0; i <= nsend; i++) {
		/* Skip alerts of IDs before sent[i]: the rest of the previous
		 * ID's alerts, or alerts of events this run did not send. */
		while (j < nrec && (i == nsend ||
		    sid_cmp(&recs[j].id, &sent[i].id) < 0)) {
			if ((i == 0 || sid_cmp(&recs[j].id, &sent[i - 1].id)
			    != 0) && (j == 0 || sid_cmp(&recs[j - 1].id,
			    &recs[j].id) != 0))
				unknown++;
			j++;
		}
		if (i == nsend)
			break;
		if (j < nrec && sid_cmp(&recs[j].id, &sent[i].id) == 0) {
			lat[nlat++] = recs[j].t_ns - sent[i].t_ns;
			if (dump != NULL)
				fprintf(dump, "%.3f %.3f\n",
				    ms(sent[i].t_ns - wall0),
				    ms(recs[j].t_ns - sent[i].t_ns));
		} else
			missing++;
	}
	if (dump != NULL)
		fclose(dump);
	qsort(lat, nlat, sizeof(*lat), i64_cmp);
	printf("latency: sent=%lld rate=%.0f/s seconds=%.1f alerts=%" PRIu64
	    " matched=%zu missing=%zu", nsend, nsend / secs, secs, nrec, nlat,
	    missing);
	if (nlat > 0) {
		/* Nearest rank: the smallest value with p% at or below it. */
		size_t p50 = (nlat * 50 + 99) / 100, p99 = (nlat * 99 + 99) / 100;
		printf(" p50_ms=%.3f p99_ms=%.3f max_ms=%.3f",
		    ms(lat[p50 - 1]), ms(lat[p99 - 1]), ms(lat[nlat - 1]));
	}
	printf("\n");
	if (unknown > 0)
		warnx("%zu alerts for events this run did not send", unknown);
	free(lat);
	free(sent);
	free(recs);
	redisFree(c);
}

/* --- main --------------------------------------------------------------- */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
"usage: bench_drain load    -s SOCK -n N [--low-csat] [--stream S]\n"
"       bench_drain raw     -s SOCK --group G [--count N] [--stream S]\n"
"       bench_drain wait    -s SOCK --group G [--since EPOCH_NS] "
"[--timeout S]\n"
"       bench_drain latency -s SOCK -r RATE -d SECONDS [--group G]\n"
"                           [--channel C] [--stream S]\n");
	exit(2);
}

static double
num(const char *s, const char *what)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || d < 0)
		errx(2, "%s: not a number >= 0: %s", what, s);
	return d;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "stream",	required_argument, NULL, 'S' },
		{ "group",	required_argument, NULL, 'g' },
		{ "count",	required_argument, NULL, 'k' },
		{ "channel",	required_argument, NULL, 'C' },
		{ "since",	required_argument, NULL, 'T' },
		{ "timeout",	required_argument, NULL, 't' },
		{ "low-csat",	no_argument,	   NULL, 'L' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct opts o = { NULL, "ivr:events", NULL, "ivr:alerts", -1, 0, 256,
	    0, 0, 0, 600 };
	const char *sub;
	char *end;
	int ch;

	if (argc < 2)
		usage();
	sub = argv[1];
	argc--;
	argv++;
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "s:n:r:d:", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 's': o.sock = optarg; break;
		case 'n': o.n = (long long)num(optarg, "-n"); break;
		case 'r': o.rate = num(optarg, "-r"); break;
		case 'd': o.seconds = num(optarg, "-d"); break;
		case 'S': o.stream = optarg; break;
		case 'g': o.group = optarg; break;
		case 'k': o.count = (long)num(optarg, "--count"); break;
		case 'C': o.channel = optarg; break;
		case 'T':
			errno = 0;
			o.since_ns = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0')
				errx(2, "--since: not a number: %s", optarg);
			break;
		case 't': o.timeout = num(optarg, "--timeout"); break;
		case 'L': o.low_csat = 1; break;
		default: usage();
		}
	}
	if (optind != argc || o.sock == NULL)
		usage();
	if (strcmp(sub, "load") == 0 && o.n >= 0)
		cmd_load(&o);
	else if (strcmp(sub, "raw") == 0 && o.group != NULL && o.count > 0)
		cmd_raw(&o);
	else if (strcmp(sub, "wait") == 0 && o.group != NULL)
		cmd_wait(&o);
	else if (strcmp(sub, "latency") == 0 && o.rate > 0 && o.seconds > 0) {
		if (o.group == NULL)
			o.group = "recoveryd";
		cmd_latency(&o);
	} else
		usage();
	return 0;
}
