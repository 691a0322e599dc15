/*
 * ivr-sim.c — a call-center simulator: it pushes realistic events into
 * recoveryd's input stream at a chosen rate, for demos, soak tests and
 * benchmarks.
 *
 * The model: agents A001.. answer calls in five queues (billing, support,
 * sales, retention, tech) from customers K00001.. whose CRM record (tier,
 * lifetime value, segment) is written once at start into the enrichment
 * hashes ivr:customer:<id>. Each call produces a "call" event (wait, talk
 * and hold times, transfers, abandoned, disposition); about 60 % of the
 * answered calls are followed by a "rating" (csat 1-5, nps 0-10, ces 1-7,
 * resolved, sometimes a comment) and a few by a "complaint". Most people
 * are content, but a handful of unhappy customers call again and again,
 * abandon, rate low and complain, and two or three slumping agents drag
 * their average CSAT under 3: exactly what the example rules look for.
 * The same --seed gives the same sequence of events (only the IDs, which
 * carry a tag of the start time, differ between runs).
 *
 * With --loop it also plays the people after recoveryd: a dialer that
 * answers the callback alerts with contact events, a supervisor who
 * acknowledges and resolves the cases, and customers who rate again (see
 * "the closed loop" below).
 *
 * Pacing is absolute: event k is due at start + k / rate on the monotonic
 * clock (clock_nanosleep with TIMER_ABSTIME), so the rate does not drift
 * with the time spent talking to Redis. Above 500 events/s the events are
 * pipelined (redisAppendCommandArgv) in batches of 10 ms worth.
 *
 * Dependencies: hiredis, jansson (the alerts' JSON), and recoveryd's core
 * for redis_url_parse(), so -u accepts exactly what redis.url does.
 *
 * Exit codes as recoveryctl: 0 done, 1 Redis refused a command, 2 usage,
 * 3 Redis unreachable (at start or later).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "cli.h"
#include "config.h"

#define DEFAULT_URL		"redis://127.0.0.1:6379/0"
#define DEFAULT_STREAM		"ivr:events"
#define CRM_PREFIX		"ivr:customer:"
#define PIPELINE_ABOVE		500.0	/* events/s */
#define MAX_BATCH		1000
#define REPORT_EVERY_S		5.0
#define RECENT_CALLERS		64
#define DEFAULT_DIALER		"dialer:callbacks"
#define DEFAULT_PREFIX		"ivr:"
#define LOOP_TICK_S		0.25	/* how often the loop looks around */
#define LOOP_POP_MAX		256	/* callbacks popped per tick, at most */
#define LOOP_ID_MAX		128
#define CMD_STREAM_MAX		"10000"	/* MAXLEN ~, as recoveryctl's */
#define LOOP_BY			"ivr-sim"

#ifndef M_PI
#define M_PI	3.14159265358979323846
#endif

enum { EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2, EX_REDIS = 3 };

/* --- options ------------------------------------------------------------ */

struct options {
	const char	*url;
	const char	*stream;
	double		 rate;
	unsigned long	 count;		/* 0: until -d or a signal */
	double		 duration;	/* 0: unlimited */
	uint64_t	 seed;
	bool		 seeded;
	bool		 json;
	bool		 crm;
	bool		 quiet;
	unsigned long	 ncustomers;
	unsigned long	 nagents;
	bool		 loop;		/* play the dialer, supervisor, survey */
	const char	*dialer;	/* the dialer channel's list */
	const char	*prefix;	/* state.prefix: <prefix>commands */
	double		 delay;		/* mean seconds between loop steps */
	unsigned long	 pending;	/* callbacks in flight, at most */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: ivr-sim [-q] [-u URL] [-s STREAM] [-r RATE] [-n COUNT] [-d SECONDS]\n"
"               [--seed N] [--json] [--customers N] [--agents N] [--no-crm]\n"
"               [--loop [--dialer KEY] [--prefix P] [--delay SECS]\n"
"               [--pending N]]\n"
"\n"
"Simulate a call center: push call, rating and complaint events to a Redis\n"
"stream at RATE events per second. With --loop, also answer recoveryd's\n"
"callbacks: dial (contact events), resolve the cases, and have the\n"
"customers rate again.\n"
"\n"
"  -u, --url URL        Redis (default " DEFAULT_URL "; also\n"
"                       unix:///path/to.sock[?db=N]); user and password from\n"
"                       the URL (redis://user:password@host) or REDIS_USERNAME\n"
"                       and REDIS_PASSWORD\n"
"  -s, --stream KEY     input stream (default " DEFAULT_STREAM ")\n"
"  -r, --rate RATE      events per second (default 5)\n"
"  -n, --count N        stop after N events (default 0: no limit)\n"
"  -d, --duration SECS  stop after SECS seconds (default: no limit)\n"
"      --seed N         random seed, for a reproducible sequence\n"
"      --json           push each event as one field \"json\" (default: flat fields)\n"
"      --customers N    customers K00001.. (default 1000)\n"
"      --agents N       agents A001.. (default 40)\n"
"      --no-crm         do not write the " CRM_PREFIX "<id> hashes\n"
"      --loop           play the closed loop: pop callback alerts from the\n"
"                       dialer list, push contact events, ack and resolve\n"
"                       the cases (<prefix>commands), then a follow-up rating\n"
"      --dialer KEY     the dialer channel's list (default " DEFAULT_DIALER ")\n"
"      --prefix P       recoveryd's state.prefix (default " DEFAULT_PREFIX ")\n"
"      --delay SECS     mean time between the steps of a callback (default 10)\n"
"      --pending N      callbacks in flight at most; the oldest is dropped\n"
"                       (and counted) when a new one finds no room\n"
"                       (default 1024)\n"
"  -q, --quiet          no progress lines\n"
"  -h, --help           this help\n"
"  -V, --version        print the version\n");
}

static int
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

static int
parse_positive(const char *s, double max, double *out)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v > 0) || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	enum { O_SEED = 256, O_JSON, O_CUSTOMERS, O_AGENTS, O_NOCRM, O_LOOP,
	    O_DIALER, O_PREFIX, O_DELAY, O_PENDING };
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "stream", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, O_SEED },
		{ "json", no_argument, NULL, O_JSON },
		{ "customers", required_argument, NULL, O_CUSTOMERS },
		{ "agents", required_argument, NULL, O_AGENTS },
		{ "no-crm", no_argument, NULL, O_NOCRM },
		{ "loop", no_argument, NULL, O_LOOP },
		{ "dialer", required_argument, NULL, O_DIALER },
		{ "prefix", required_argument, NULL, O_PREFIX },
		{ "delay", required_argument, NULL, O_DELAY },
		{ "pending", required_argument, NULL, O_PENDING },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long ul;
	int ch;

	memset(o, 0, sizeof(*o));
	o->url = DEFAULT_URL;
	o->stream = DEFAULT_STREAM;
	o->rate = 5;
	o->crm = true;
	o->ncustomers = 1000;
	o->nagents = 40;
	o->dialer = DEFAULT_DIALER;
	o->prefix = DEFAULT_PREFIX;
	o->delay = 10;
	o->pending = 1024;
	while ((ch = getopt_long(argc, argv, "u:s:r:n:d:qhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'u':
			o->url = optarg;
			break;
		case 's':
			if (*optarg == '\0')
				goto bad;
			o->stream = optarg;
			break;
		case 'r':
			if (parse_positive(optarg, 1e6, &o->rate) == -1) {
				fprintf(stderr, "ivr-sim: -r: expected a rate "
				    "in (0, 1000000], got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'n':
			if (parse_ulong(optarg, ULONG_MAX, &o->count) == -1)
				goto bad;
			break;
		case 'd':
			if (parse_positive(optarg, 1e9, &o->duration) == -1)
				goto bad;
			break;
		case O_SEED:
			if (parse_ulong(optarg, ULONG_MAX, &ul) == -1)
				goto bad;
			o->seed = ul;
			o->seeded = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_CUSTOMERS:
			if (parse_ulong(optarg, 99999, &o->ncustomers) == -1 ||
			    o->ncustomers == 0) {
				fprintf(stderr, "ivr-sim: --customers: expected "
				    "1..99999, got '%s'\n", optarg);
				return -1;
			}
			break;
		case O_AGENTS:
			if (parse_ulong(optarg, 999, &o->nagents) == -1 ||
			    o->nagents == 0) {
				fprintf(stderr, "ivr-sim: --agents: expected "
				    "1..999, got '%s'\n", optarg);
				return -1;
			}
			break;
		case O_NOCRM:
			o->crm = false;
			break;
		case O_LOOP:
			o->loop = true;
			break;
		case O_DIALER:
			if (*optarg == '\0')
				goto bad;
			o->dialer = optarg;
			break;
		case O_PREFIX:
			if (strlen(optarg) > 200)
				goto bad;
			o->prefix = optarg;
			break;
		case O_DELAY:
			if (parse_positive(optarg, 86400, &o->delay) == -1)
				goto bad;
			break;
		case O_PENDING:
			if (parse_ulong(optarg, 100000, &o->pending) == -1 ||
			    o->pending == 0) {
				fprintf(stderr, "ivr-sim: --pending: expected "
				    "1..100000, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		case 'V':
			printf("ivr-sim %s\n", RECOVERYD_VERSION);
			exit(EX_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ivr-sim: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "ivr-sim: invalid value '%s' for an option\n", optarg);
	usage(stderr);
	return -1;
}

/* --- redis URL ---------------------------------------------------------- */

struct target {
	struct redis_target	 rt;	/* as the daemon parses redis.url */
	char			 display[600];	/* the URL without the password */
};

/*
 * parse_url: recoveryd's own redis.url parser (config.h), so the simulator
 * accepts exactly what the daemon does; plus a printable form without the
 * password. A non-empty REDIS_USERNAME or REDIS_PASSWORD overrides the
 * URL's.
 */
static int
parse_url(const char *url, struct target *t)
{
	const struct redis_target *rt;
	char err[256];

	memset(t, 0, sizeof(*t));
	if (redis_url_parse(url, &t->rt, err, sizeof(err)) == -1) {
		fprintf(stderr, "ivr-sim: -u %s: %s\n", url, err);
		return -1;
	}
	rt = &t->rt;
	if (rt->unix_socket)
		snprintf(t->display, sizeof(t->display), "unix://%s", rt->path);
	else if (strchr(rt->host, ':') != NULL)
		snprintf(t->display, sizeof(t->display), "redis://[%s]:%d/%d",
		    rt->host, rt->port, rt->db);
	else
		snprintf(t->display, sizeof(t->display), "redis://%s:%d/%d",
		    rt->host, rt->port, rt->db);
	return 0;
}

/* redis_open: connect, AUTH, SELECT; NULL after printing why. */
static redisContext *
redis_open(const struct target *t)
{
	struct timeval tv = { 2, 0 };
	redisContext *c;
	redisReply *r = NULL;
	const char *av[3];
	size_t al[3];
	int ac;
	char why[512];

	if (t->rt.unix_socket)
		c = redisConnectUnixWithTimeout(t->rt.path, tv);
	else
		c = redisConnectWithTimeout(t->rt.host, t->rt.port, tv);
	if (c == NULL) {
		snprintf(why, sizeof(why), "out of memory");
		goto fail;
	}
	if (c->err) {
		snprintf(why, sizeof(why), "%s", c->errstr);
		goto fail;
	}
	if ((ac = redis_auth_args(&t->rt, av, al)) > 0) {
		r = redisCommandArgv(c, ac, av, al);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(why, sizeof(why), "AUTH as user %s: %s",
			    t->rt.username[0] != '\0' ? t->rt.username :
			    "default", r ? r->str : c->errstr);
			goto fail;
		}
		freeReplyObject(r);
		r = NULL;
	}
	if (t->rt.db != 0) {
		r = redisCommand(c, "SELECT %d", t->rt.db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(why, sizeof(why), "SELECT %d: %s", t->rt.db,
			    r ? r->str : c->errstr);
			goto fail;
		}
		freeReplyObject(r);
	}
	return c;
fail:
	fprintf(stderr, "ivr-sim: cannot reach Redis at %s: %s\n", t->display,
	    why);
	if (r != NULL)
		freeReplyObject(r);
	if (c != NULL)
		redisFree(c);
	return NULL;
}

/* --- randomness --------------------------------------------------------- */

/* splitmix64 seeding xoshiro256**: fast, and the same on every platform,
 * so a seed names a sequence of events. */
static uint64_t	rng_s[4];

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rng_seed(uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		rng_s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(void)
{
	uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;

	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	return r;
}

/* uniform in [0, 1) from a splitmix64 stream of its own (the loop's
 * callbacks each have one, see below) */
static double
rnd_of(uint64_t *x)
{
	return (double)(splitmix64(x) >> 11) * 0x1.0p-53;
}

/* uniform in [0, 1) */
static double
rnd(void)
{
	return (double)(rng_next() >> 11) * 0x1.0p-53;
}

static bool
chance(double p)
{
	return rnd() < p;
}

/* uniform integer in [0, n) */
static unsigned long
rnd_below(unsigned long n)
{
	return (unsigned long)(rnd() * (double)n);
}

static double
rnd_exp(double mean)
{
	return -mean * log(1.0 - rnd());
}

/* standard normal (Box-Muller; one of the pair is enough here) */
static double
rnd_gauss(void)
{
	double u = 1.0 - rnd(), v = rnd();

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

struct weighted {
	const char	*name;
	double		 w;
};

/* pick_at: the entry of tab that u in [0, 1) falls on, by weight. */
static const char *
pick_at(const struct weighted *tab, size_t n, double u)
{
	double total = 0, x;
	size_t i;

	for (i = 0; i < n; i++)
		total += tab[i].w;
	x = u * total;
	for (i = 0; i + 1 < n; i++) {
		if (x < tab[i].w)
			return tab[i].name;
		x -= tab[i].w;
	}
	return tab[n - 1].name;
}

#define PICK(tab)	pick_at((tab), sizeof(tab) / sizeof((tab)[0]), rnd())
#define PICK_AT(tab, u)	pick_at((tab), sizeof(tab) / sizeof((tab)[0]), (u))
#define ONE_OF(arr)	((arr)[rnd_below(sizeof(arr) / sizeof((arr)[0]))])

static double
clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* --- the call center ---------------------------------------------------- */

static const struct weighted tiers[] = {
	{ "bronze", 50 }, { "silver", 30 }, { "gold", 15 }, { "platinum", 5 },
};
static const struct weighted segments[] = {
	{ "consumer", 70 }, { "small_business", 20 }, { "enterprise", 10 },
};
static const struct weighted queues[] = {
	{ "billing", 25 }, { "support", 30 }, { "sales", 15 },
	{ "retention", 10 }, { "tech", 20 },
};
static const struct weighted unhappy_queues[] = {
	{ "billing", 35 }, { "support", 20 }, { "sales", 5 },
	{ "retention", 25 }, { "tech", 15 },
};
static const struct weighted languages[] = {
	{ "en", 80 }, { "es", 12 }, { "fr", 8 },
};
static const struct weighted severities[] = {
	{ "low", 40 }, { "medium", 35 }, { "high", 20 }, { "critical", 5 },
};
static const struct weighted unhappy_severities[] = {
	{ "low", 15 }, { "medium", 35 }, { "high", 35 }, { "critical", 15 },
};
static const char *const categories[] = {
	"billing_error", "rude_agent", "long_wait", "unresolved_issue",
	"cancellation_threat", "data_privacy",
};
static const char *const complaint_texts[] = {
	"I was charged twice this month",
	"The agent was dismissive and hung up on me",
	"Forty minutes on hold, again",
	"Third call about the same problem and still not fixed",
	"If this is not sorted out this week I am cancelling",
	"Why did you share my details with a third party?",
};
static const char *const good_comments[] = {
	"Quick and friendly, thanks", "Problem solved on the first call",
	"Very helpful agent", "Great service",
};
static const char *const meh_comments[] = {
	"OK in the end", "Took a while but fine", "Had to explain twice",
};
static const char *const bad_comments[] = {
	"Still not fixed", "Waited forever", "Nobody listens",
	"I want to cancel", "Transferred three times", "Rude agent",
};

struct customer {
	const char	*tier;
	const char	*segment;
	double		 ltv;
	bool		 unhappy;
};

struct agent {
	bool	slumping;
};

struct model {
	struct customer	*cust;
	unsigned long	 ncust;
	unsigned long	*unhappy;	/* indices into cust */
	unsigned long	 nunhappy;
	struct agent	*agent;
	unsigned long	 nagent;
	unsigned long	 recent[RECENT_CALLERS];	/* ring of callers */
	unsigned long	 nrecent;
	unsigned long	 calls, complaints;
	char		 tag[16];	/* run tag in the IDs */
};

static void
model_init(struct model *m, const struct options *o)
{
	unsigned long i, j, tmp, *idx, nslump;
	double lo, hi;
	time_t now = time(NULL);

	memset(m, 0, sizeof(*m));
	m->ncust = o->ncustomers;
	m->nagent = o->nagents;
	if ((m->cust = calloc(m->ncust, sizeof(*m->cust))) == NULL ||
	    (m->agent = calloc(m->nagent, sizeof(*m->agent))) == NULL ||
	    (idx = calloc(m->ncust, sizeof(*idx))) == NULL) {
		fprintf(stderr, "ivr-sim: out of memory\n");
		exit(EX_FAIL);
	}
	for (i = 0; i < m->ncust; i++) {
		struct customer *c = &m->cust[i];

		c->tier = PICK(tiers);
		c->segment = PICK(segments);
		if (strcmp(c->tier, "bronze") == 0)
			lo = 50, hi = 500;
		else if (strcmp(c->tier, "silver") == 0)
			lo = 500, hi = 2000;
		else if (strcmp(c->tier, "gold") == 0)
			lo = 2000, hi = 10000;
		else
			lo = 10000, hi = 50000;
		c->ltv = lo + rnd() * (hi - lo);
		idx[i] = i;
	}
	/* 2 % of the customers, at least 3, are unhappy: a partial
	 * Fisher-Yates shuffle picks them. */
	m->nunhappy = m->ncust / 50 < 3 ? 3 : m->ncust / 50;
	if (m->nunhappy > m->ncust)
		m->nunhappy = m->ncust;
	for (i = 0; i < m->nunhappy; i++) {
		j = i + rnd_below(m->ncust - i);
		tmp = idx[i];
		idx[i] = idx[j];
		idx[j] = tmp;
		m->cust[idx[i]].unhappy = true;
	}
	m->unhappy = idx;
	/* Two or three slumping agents (none in a one-agent center). */
	nslump = m->nagent >= 20 ? 3 : 2;
	if (nslump > m->nagent / 2)
		nslump = m->nagent / 2;
	for (i = 0; i < nslump; ) {
		j = rnd_below(m->nagent);
		if (!m->agent[j].slumping) {
			m->agent[j].slumping = true;
			i++;
		}
	}
	/* A base-36 tag of the start time keeps IDs unique across runs. */
	for (i = 0, tmp = (unsigned long)now; i < 6; i++, tmp /= 36)
		m->tag[5 - i] = "0123456789abcdefghijklmnopqrstuvwxyz"[tmp % 36];
	m->tag[6] = '\0';
}

static void
model_free(struct model *m)
{
	free(m->cust);
	free(m->agent);
	free(m->unhappy);
}

/* --- events ------------------------------------------------------------- */

#define MAX_FIELDS	16

enum fkind { F_STR, F_NUM, F_BOOL };

struct field {
	const char	*name;
	enum fkind	 kind;
	char		 val[128];
};

struct event {
	const char	*type;
	struct field	 f[MAX_FIELDS];
	int		 nf;
};

static void set(struct event *, const char *, enum fkind, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
set(struct event *e, const char *name, enum fkind kind, const char *fmt, ...)
{
	struct field *f;
	va_list ap;

	if (e->nf == MAX_FIELDS)
		return;
	f = &e->f[e->nf++];
	f->name = name;
	f->kind = kind;
	va_start(ap, fmt);
	vsnprintf(f->val, sizeof(f->val), fmt, ap);
	va_end(ap);
}

/* The events of one call, sent in order before the next call is made. */
struct callq {
	struct event	ev[3];
	int		n, next;
};

static unsigned long
pick_customer(struct model *m)
{
	unsigned long id;

	if (chance(0.12))
		id = m->unhappy[rnd_below(m->nunhappy)];
	else if (m->nrecent > 0 && chance(0.08))
		id = m->recent[rnd_below(m->nrecent < RECENT_CALLERS ?
		    m->nrecent : RECENT_CALLERS)];
	else
		id = rnd_below(m->ncust);
	m->recent[m->nrecent++ % RECENT_CALLERS] = id;
	return id;
}

/*
 * make_call: one call and what follows it. The customer's mood (0..1)
 * drives the ratings: it starts around 0.8 and drops for unhappy
 * customers, slumping agents, long waits, transfers and unresolved issues.
 */
static void
make_call(struct model *m, struct callq *q)
{
	unsigned long ci, ai;
	const struct customer *c;
	const struct agent *a;
	char call_id[48];
	double wait, talk, hold, mood, pab, pcomplaint;
	int transfers, csat, nps, ces;
	bool abandoned, resolved, any;
	const char *queue, *disposition;
	struct event *e;

	memset(q, 0, sizeof(*q));
	ci = pick_customer(m);
	c = &m->cust[ci];
	ai = rnd_below(m->nagent);
	a = &m->agent[ai];
	snprintf(call_id, sizeof(call_id), "C%s-%07lu", m->tag, ++m->calls);
	queue = c->unhappy ? PICK(unhappy_queues) : PICK(queues);

	wait = clamp(rnd_exp(c->unhappy ? 150 : 45), 0, 1800);
	pab = 0.03 + clamp(wait / 1200, 0, 0.4) + (c->unhappy ? 0.10 : 0);
	abandoned = chance(pab);
	transfers = 0;
	talk = hold = 0;
	resolved = false;
	disposition = "abandoned";
	if (!abandoned) {
		talk = clamp(240 + 120 * rnd_gauss(), 30, 3600);
		hold = chance(0.3) ? clamp(rnd_exp(60), 0, 900) : 0;
		if (chance(a->slumping ? 0.35 : 0.15))
			transfers = chance(0.7) ? 1 : 2;
		resolved = chance((a->slumping ? 0.5 : 0.8) -
		    (c->unhappy ? 0.3 : 0) - 0.1 * transfers);
		disposition = resolved ? "resolved" : transfers > 0 ?
		    "transferred" : chance(0.5) ? "follow_up" : "escalated";
	}

	e = &q->ev[q->n++];
	e->type = "call";
	set(e, "call_id", F_STR, "%s", call_id);
	set(e, "customer_id", F_STR, "K%05lu", ci + 1);
	if (!abandoned)
		set(e, "agent_id", F_STR, "A%03lu", ai + 1);
	set(e, "queue", F_STR, "%s", queue);
	set(e, "wait_s", F_NUM, "%.0f", wait);
	set(e, "talk_s", F_NUM, "%.0f", talk);
	set(e, "hold_s", F_NUM, "%.0f", hold);
	set(e, "transfers", F_NUM, "%d", transfers);
	set(e, "abandoned", F_BOOL, "%s", abandoned ? "true" : "false");
	set(e, "disposition", F_STR, "%s", disposition);

	mood = 0.8 + 0.2 * rnd_gauss();
	if (c->unhappy)
		mood -= 0.5;
	if (a->slumping)
		mood -= 0.35;
	if (wait > 180)
		mood -= 0.15;
	mood -= 0.08 * transfers;
	if (!resolved)
		mood -= 0.12;
	mood = clamp(mood, 0, 1);

	if (!abandoned && chance(0.6)) {
		e = &q->ev[q->n++];
		e->type = "rating";
		set(e, "call_id", F_STR, "%s", call_id);
		set(e, "customer_id", F_STR, "K%05lu", ci + 1);
		set(e, "agent_id", F_STR, "A%03lu", ai + 1);
		set(e, "queue", F_STR, "%s", queue);
		any = false;
		if (chance(0.85)) {
			csat = (int)lround(clamp(1 + 4 * (mood + 0.1 *
			    rnd_gauss()), 1, 5));
			set(e, "csat", F_NUM, "%d", csat);
			any = true;
		}
		if (chance(0.6)) {
			nps = (int)lround(clamp(10 * (mood + 0.1 *
			    rnd_gauss()) + 1, 0, 10));
			set(e, "nps", F_NUM, "%d", nps);
			any = true;
		}
		if (!any || chance(0.4)) {
			ces = (int)lround(clamp(1 + 6 * (1 - mood + 0.1 *
			    rnd_gauss()), 1, 7));
			set(e, "ces", F_NUM, "%d", ces);
		}
		set(e, "resolved", F_BOOL, "%s", resolved ? "true" : "false");
		if (chance(0.4))
			set(e, "comment", F_STR, "%s", mood > 0.65 ?
			    ONE_OF(good_comments) : mood > 0.4 ?
			    ONE_OF(meh_comments) : ONE_OF(bad_comments));
		set(e, "language", F_STR, "%s", PICK(languages));
	}

	pcomplaint = (c->unhappy ? 0.2 : 0.01) + (abandoned ? 0.1 : 0) +
	    (mood < 0.3 ? 0.1 : 0);
	if (chance(pcomplaint)) {
		size_t k = rnd_below(sizeof(categories) / sizeof(categories[0]));

		e = &q->ev[q->n++];
		e->type = "complaint";
		set(e, "complaint_id", F_STR, "Q%s-%06lu", m->tag,
		    ++m->complaints);
		set(e, "customer_id", F_STR, "K%05lu", ci + 1);
		set(e, "call_id", F_STR, "%s", call_id);
		set(e, "category", F_STR, "%s", categories[k]);
		set(e, "severity", F_STR, "%s", c->unhappy ?
		    PICK(unhappy_severities) : PICK(severities));
		set(e, "text", F_STR, "%s", complaint_texts[k]);
	}
}

static const struct event *
next_event(struct model *m, struct callq *q)
{
	if (q->next == q->n)
		make_call(m, q);
	return &q->ev[q->next++];
}

/* json_append: append s as a JSON string body (no quotes) to out. */
static void
json_append(char *out, size_t cap, size_t *len, const char *s)
{
	char esc[8];

	for (; *s != '\0' && *len + 7 < cap; s++) {
		if (*s == '"' || *s == '\\') {
			out[(*len)++] = '\\';
			out[(*len)++] = *s;
		} else if ((unsigned char)*s < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)*s);
			memcpy(out + *len, esc, 6);
			*len += 6;
		} else
			out[(*len)++] = *s;
	}
	out[*len] = '\0';
}

static void
json_raw(char *out, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > cap)
		return;
	memcpy(out + *len, s, n + 1);
	*len += n;
}

/*
 * event_argv: the XADD command of e, in av/avlen (room for 3 + 2 *
 * (MAX_FIELDS + 1) entries), as flat fields or as one "json" field built
 * in jsonbuf. Returns the number of arguments.
 */
static int
event_argv(const struct event *e, const char *stream, bool json,
    const char **av, char *jsonbuf, size_t jsoncap)
{
	size_t len = 0;
	int n = 0, i;

	av[n++] = "XADD";
	av[n++] = stream;
	av[n++] = "*";
	if (!json) {
		av[n++] = "type";
		av[n++] = e->type;
		for (i = 0; i < e->nf; i++) {
			av[n++] = e->f[i].name;
			av[n++] = e->f[i].val;
		}
		return n;
	}
	jsonbuf[0] = '\0';
	json_raw(jsonbuf, jsoncap, &len, "{\"type\":\"");
	json_append(jsonbuf, jsoncap, &len, e->type);
	json_raw(jsonbuf, jsoncap, &len, "\"");
	for (i = 0; i < e->nf; i++) {
		json_raw(jsonbuf, jsoncap, &len, ",\"");
		json_append(jsonbuf, jsoncap, &len, e->f[i].name);
		json_raw(jsonbuf, jsoncap, &len, "\":");
		if (e->f[i].kind == F_STR) {
			json_raw(jsonbuf, jsoncap, &len, "\"");
			json_append(jsonbuf, jsoncap, &len, e->f[i].val);
			json_raw(jsonbuf, jsoncap, &len, "\"");
		} else
			json_raw(jsonbuf, jsoncap, &len, e->f[i].val);
	}
	json_raw(jsonbuf, jsoncap, &len, "}");
	av[n++] = "json";
	av[n++] = jsonbuf;
	return n;
}

/* --- talking to Redis --------------------------------------------------- */

/*
 * read_replies: read n pipelined replies; every one must be a non-error.
 * Returns EX_OK, EX_FAIL (an error reply, printed) or EX_REDIS (lost).
 */
static int
read_replies(redisContext *c, const struct target *t, const char *what,
    unsigned long n)
{
	unsigned long i;
	void *p;
	redisReply *r;
	int rc = EX_OK;

	for (i = 0; i < n; i++) {
		if (redisGetReply(c, &p) != REDIS_OK || p == NULL) {
			fprintf(stderr, "ivr-sim: lost the connection to Redis "
			    "at %s: %s\n", t->display, c->errstr);
			return EX_REDIS;
		}
		r = p;
		if (r->type == REDIS_REPLY_ERROR && rc == EX_OK) {
			fprintf(stderr, "ivr-sim: %s: %s\n", what, r->str);
			/* No password: Redis is out of reach. (Redis 7
			 * refuses a long command of an unauthenticated
			 * client with a protocol error, not NOAUTH.) */
			rc = strncmp(r->str, "NOAUTH", 6) == 0 ||
			    strstr(r->str, "unauthenticated") != NULL ?
			    EX_REDIS : EX_FAIL;
		}
		freeReplyObject(r);
	}
	return rc;
}

/* write_crm: HSET ivr:customer:<id> tier .. ltv .. segment .., 1000 per
 * pipeline round trip. */
static int
write_crm(redisContext *c, const struct target *t, const struct model *m)
{
	char key[64], ltv[32];
	const char *av[8];
	unsigned long i, pending = 0;
	int rc;

	for (i = 0; i < m->ncust; i++) {
		const struct customer *cu = &m->cust[i];

		snprintf(key, sizeof(key), CRM_PREFIX "K%05lu", i + 1);
		snprintf(ltv, sizeof(ltv), "%.2f", cu->ltv);
		av[0] = "HSET";
		av[1] = key;
		av[2] = "tier";
		av[3] = cu->tier;
		av[4] = "ltv";
		av[5] = ltv;
		av[6] = "segment";
		av[7] = cu->segment;
		if (redisAppendCommandArgv(c, 8, av, NULL) != REDIS_OK) {
			fprintf(stderr, "ivr-sim: out of memory\n");
			return EX_FAIL;
		}
		if (++pending == 1000 || i + 1 == m->ncust) {
			if ((rc = read_replies(c, t, "HSET", pending)) != EX_OK)
				return rc;
			pending = 0;
		}
	}
	return EX_OK;
}

/* --- the closed loop ---------------------------------------------------- */

/*
 * With --loop the simulator also plays the people around recoveryd. The
 * dialer pops callback alerts (the JSON that recoveryd LPUSHes to the
 * dialer channel's list; RPOP, so the oldest first, never blocking the
 * event pacing) and rings the customer: each attempt is a "contact" event
 * with the alert's case_id; most are reached, some only after a
 * no_answer or a voicemail, a few refuse or are a wrong number, and three
 * unanswered attempts give up. The supervisor acknowledges some cases
 * before the call and resolves every case once the dialing is over, with
 * a reason code (an "ack" or "resolve" entry on <prefix>commands, by
 * "ivr-sim", with no reply token: nobody waits for the answer). A while
 * after the resolution a reached customer rates again, mostly well
 * (recovered), sometimes badly (not recovered; a low rating may well
 * reopen the case, and its new callback comes round again).
 *
 * Every step waits --delay seconds on average (0.5 to 1.5 times it), a
 * demo's compression of the minutes and days of a real call center. Each
 * callback draws its fate from a splitmix64 stream of its own, seeded
 * from --seed and its arrival number, so the k-th callback of a seed
 * always goes the same way, and the main event sequence is the same with
 * or without --loop. The callbacks in flight live in a table of
 * --pending slots: a callback that finds no room drops the oldest one
 * (counted as dropped); a second alert for a case already in flight is
 * the same callback (counted as duplicate) unless that case was resolved
 * meanwhile, which means it was reopened: then it starts over.
 */

enum lstage { L_FREE, L_ACK, L_DIAL, L_RESOLVE, L_RATE };

struct callback {
	enum lstage	 stage;
	double		 due;		/* monotonic time of the next step */
	uint64_t	 seq;		/* arrival number: the oldest goes first */
	uint64_t	 rs;		/* its own random stream */
	int		 tries;		/* dial attempts made */
	bool		 reached;
	const char	*result;	/* of the last attempt */
	const char	*code;		/* the resolution code */
	char		 case_id[LOOP_ID_MAX];
	char		 customer[LOOP_ID_MAX];
	char		 queue[LOOP_ID_MAX];
	char		 agent[16];
};

struct loop {
	struct callback	*cb;
	size_t		 cap;
	uint64_t	 seq;
	uint64_t	 seed;
	char		 commands[256];		/* <prefix>commands */
	unsigned long	 callbacks, duplicates, skipped, dropped;
	unsigned long	 contacts, acks, resolutions, ratings;
	unsigned long	 ndial, nsurvey;	/* IDs of contacts, ratings */
};

#define LOOP_MAX_TRIES	3

/* Per attempt: the dialer's luck. */
static const struct weighted dial_results[] = {
	{ "reached", 62 }, { "no_answer", 20 }, { "voicemail", 10 },
	{ "refused", 5 }, { "wrong_number", 3 },
};
/* What the agent did for a reached customer. */
static const struct weighted reached_codes[] = {
	{ "callback-done", 55 }, { "refund", 20 }, { "credit", 20 },
	{ "no-action-needed", 5 },
};

static void
loop_init(struct loop *lp, const struct options *o)
{
	memset(lp, 0, sizeof(*lp));
	lp->cap = o->pending;
	if ((lp->cb = calloc(lp->cap, sizeof(*lp->cb))) == NULL) {
		fprintf(stderr, "ivr-sim: out of memory\n");
		exit(EX_FAIL);
	}
	/* Not the main stream's seed: another sequence, same --seed. */
	lp->seed = o->seed ^ 0x6c6f6f70c0ffee00ULL;
	snprintf(lp->commands, sizeof(lp->commands), "%scommands", o->prefix);
}

static double
cb_rnd(struct callback *cb)
{
	return rnd_of(&cb->rs);
}

/* cb_delay: when the next step of cb is due, from now. */
static double
cb_delay(struct callback *cb, const struct options *o, double scale)
{
	return scale * o->delay * (0.5 + cb_rnd(cb));
}

/* jtext: the string member key of the object o, copied to out ("" when
 * missing or not a string); -1 when it does not fit. */
static int
jtext(json_t *o, const char *key, char *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		s = "";
	if (strlen(s) >= cap)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* cb_start: (re)start cb as the callback number lp->seq. */
static void
cb_start(struct loop *lp, struct callback *cb, const struct options *o,
    const struct model *m, double now)
{
	uint64_t x;

	cb->seq = lp->seq++;
	x = lp->seed + cb->seq * 0x9e3779b97f4a7c15ULL;
	cb->rs = splitmix64(&x);
	cb->tries = 0;
	cb->reached = false;
	cb->result = cb->code = NULL;
	snprintf(cb->agent, sizeof(cb->agent), "A%03lu",
	    (unsigned long)(cb_rnd(cb) * (double)m->nagent) + 1);
	/* Four in ten cases are acknowledged before the dialer rings. */
	if (cb_rnd(cb) < 0.4) {
		cb->stage = L_ACK;
		cb->due = now + cb_delay(cb, o, 0.3);
	} else {
		cb->stage = L_DIAL;
		cb->due = now + cb_delay(cb, o, 1);
	}
}

/* loop_take: one popped alert into the table. */
static void
loop_take(struct loop *lp, const struct options *o, const struct model *m,
    const char *s, size_t len, double now)
{
	struct callback tmp, *cb = NULL, *oldest = NULL;
	json_error_t je;
	json_t *j;
	size_t i;
	int bad;

	memset(&tmp, 0, sizeof(tmp));
	if ((j = json_loadb(s, len, 0, &je)) == NULL || !json_is_object(j)) {
		json_decref(j);
		lp->skipped++;
		return;
	}
	bad = jtext(j, "case_id", tmp.case_id, sizeof(tmp.case_id)) |
	    jtext(j, "customer_id", tmp.customer, sizeof(tmp.customer)) |
	    jtext(j, "queue", tmp.queue, sizeof(tmp.queue));
	json_decref(j);
	/* No case (a rule with case: none) or no customer: nothing to
	 * resolve or to ring. */
	if (bad || tmp.case_id[0] == '\0' || tmp.customer[0] == '\0') {
		lp->skipped++;
		return;
	}
	if (tmp.queue[0] == '\0')
		snprintf(tmp.queue, sizeof(tmp.queue), "retention");
	lp->callbacks++;
	for (i = 0; i < lp->cap; i++) {
		struct callback *c = &lp->cb[i];

		if (c->stage == L_FREE) {
			if (cb == NULL)
				cb = c;
			continue;
		}
		if (strcmp(c->case_id, tmp.case_id) == 0) {
			if (c->stage != L_RATE) {
				lp->duplicates++;
				return;
			}
			/* Resolved, and an alert again: reopened. */
			cb_start(lp, c, o, m, now);
			return;
		}
		if (oldest == NULL || c->seq < oldest->seq)
			oldest = c;
	}
	if (cb == NULL) {
		cb = oldest;
		lp->dropped++;
	}
	*cb = tmp;
	cb_start(lp, cb, o, m, now);
}

/* loop_send: one command, its reply read at once. */
static int
loop_send(redisContext *c, const struct target *t, const char *what,
    int ac, const char **av)
{
	if (redisAppendCommandArgv(c, ac, av, NULL) != REDIS_OK) {
		fprintf(stderr, "ivr-sim: out of memory\n");
		return EX_FAIL;
	}
	return read_replies(c, t, what, 1);
}

/* loop_command: an ack or resolve entry on <prefix>commands. */
static int
loop_command(struct loop *lp, redisContext *c, const struct target *t,
    const char *op, const struct callback *cb, const char *note)
{
	const char *av[20];
	char at[32];
	struct timespec ts;
	int n = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(at, sizeof(at), "%lld", (long long)ts.tv_sec * 1000 +
	    ts.tv_nsec / 1000000);
	av[n++] = "XADD";
	av[n++] = lp->commands;
	av[n++] = "MAXLEN";
	av[n++] = "~";
	av[n++] = CMD_STREAM_MAX;
	av[n++] = "*";
	av[n++] = "op";
	av[n++] = op;
	av[n++] = "case";
	av[n++] = cb->case_id;
	av[n++] = "by";
	av[n++] = LOOP_BY;
	if (cb->code != NULL && strcmp(op, "resolve") == 0) {
		av[n++] = "code";
		av[n++] = cb->code;
	}
	av[n++] = "note";
	av[n++] = note;
	av[n++] = "at";
	av[n++] = at;
	return loop_send(c, t, "XADD commands", n, av);
}

/* loop_event: push e like the simulated calls' events. */
static int
loop_event(redisContext *c, const struct target *t, const struct options *o,
    const struct event *e)
{
	const char *av[3 + 2 * (MAX_FIELDS + 1)];
	char jsonbuf[4096];
	int n;

	n = event_argv(e, o->stream, o->json, av, jsonbuf, sizeof(jsonbuf));
	return loop_send(c, t, "XADD", n, av);
}

/* loop_dial: one attempt; decides what comes next. */
static int
loop_dial(struct loop *lp, redisContext *c, const struct target *t,
    const struct options *o, const struct model *m, struct callback *cb)
{
	struct event e;
	int rc;

	cb->tries++;
	cb->result = PICK_AT(dial_results, cb_rnd(cb));
	memset(&e, 0, sizeof(e));
	e.type = "contact";
	set(&e, "customer_id", F_STR, "%s", cb->customer);
	set(&e, "result", F_STR, "%s", cb->result);
	set(&e, "case_id", F_STR, "%s", cb->case_id);
	set(&e, "agent_id", F_STR, "%s", cb->agent);
	set(&e, "call_id", F_STR, "D%s-%07lu", m->tag, ++lp->ndial);
	set(&e, "note", F_STR, "callback attempt %d", cb->tries);
	if ((rc = loop_event(c, t, o, &e)) != EX_OK)
		return rc;
	lp->contacts++;
	cb->stage = L_RESOLVE;
	if (strcmp(cb->result, "reached") == 0) {
		cb->reached = true;
		cb->code = PICK_AT(reached_codes, cb_rnd(cb));
	} else if (strcmp(cb->result, "refused") == 0)
		cb->code = "no-action-needed";
	else if (strcmp(cb->result, "wrong_number") == 0)
		cb->code = "not-reachable";
	else if (cb->tries < LOOP_MAX_TRIES) {
		cb->stage = L_DIAL;	/* ring again later */
		cb->due += cb_delay(cb, o, 1.5);
		return EX_OK;
	} else
		cb->code = "no-answer";
	cb->due += cb_delay(cb, o, 1);
	return EX_OK;
}

/* loop_rate: the reached customer's follow-up survey. Recovery is
 * likelier after a refund or a credit than after a mere call. */
static int
loop_rate(struct loop *lp, redisContext *c, const struct target *t,
    const struct options *o, const struct model *m, struct callback *cb)
{
	struct event e;
	double p;
	bool good;
	int rc;

	p = strcmp(cb->code, "refund") == 0 || strcmp(cb->code, "credit") ==
	    0 ? 0.8 : strcmp(cb->code, "callback-done") == 0 ? 0.7 : 0.5;
	good = cb_rnd(cb) < p;
	memset(&e, 0, sizeof(e));
	e.type = "rating";
	set(&e, "call_id", F_STR, "S%s-%07lu", m->tag, ++lp->nsurvey);
	set(&e, "customer_id", F_STR, "%s", cb->customer);
	set(&e, "agent_id", F_STR, "%s", cb->agent);
	set(&e, "queue", F_STR, "%s", cb->queue);
	set(&e, "csat", F_NUM, "%d", good ? 4 + (cb_rnd(cb) < 0.6) :
	    1 + (cb_rnd(cb) < 0.4));
	if (cb_rnd(cb) < 0.6)
		set(&e, "nps", F_NUM, "%d", good ?
		    7 + (int)(cb_rnd(cb) * 4) : (int)(cb_rnd(cb) * 6));
	set(&e, "resolved", F_BOOL, "%s", good ? "true" : "false");
	if (cb_rnd(cb) < 0.4)
		set(&e, "comment", F_STR, "%s", good ?
		    good_comments[(size_t)(cb_rnd(cb) * 4)] :
		    bad_comments[(size_t)(cb_rnd(cb) * 6)]);
	if ((rc = loop_event(c, t, o, &e)) != EX_OK)
		return rc;
	lp->ratings++;
	return EX_OK;
}

/* loop_step: cb's due step. */
static int
loop_step(struct loop *lp, redisContext *c, const struct target *t,
    const struct options *o, const struct model *m, struct callback *cb)
{
	char note[128];
	int rc;

	switch (cb->stage) {
	case L_ACK:
		if ((rc = loop_command(lp, c, t, "ack", cb,
		    "callback queued")) != EX_OK)
			return rc;
		lp->acks++;
		cb->stage = L_DIAL;
		cb->due += cb_delay(cb, o, 1);
		return EX_OK;
	case L_DIAL:
		return loop_dial(lp, c, t, o, m, cb);
	case L_RESOLVE:
		snprintf(note, sizeof(note), "%s on attempt %d", cb->result,
		    cb->tries);
		if ((rc = loop_command(lp, c, t, "resolve", cb, note)) !=
		    EX_OK)
			return rc;
		lp->resolutions++;
		if (cb->reached) {
			cb->stage = L_RATE;
			cb->due += cb_delay(cb, o, 2);
		} else
			cb->stage = L_FREE;
		return EX_OK;
	case L_RATE:
		rc = loop_rate(lp, c, t, o, m, cb);
		cb->stage = L_FREE;
		return rc;
	case L_FREE:
		break;
	}
	return EX_OK;
}

/* loop_tick: pop what the dialer got, then run the due steps. */
static int
loop_tick(struct loop *lp, redisContext *c, const struct target *t,
    const struct options *o, const struct model *m, double now)
{
	const char *av[2] = { "RPOP", o->dialer };
	redisReply *r;
	size_t i;
	int n, rc;

	for (n = 0; n < LOOP_POP_MAX; n++) {
		if ((r = redisCommandArgv(c, 2, av, NULL)) == NULL) {
			fprintf(stderr, "ivr-sim: lost the connection to Redis "
			    "at %s: %s\n", t->display, c->errstr);
			return EX_REDIS;
		}
		if (r->type == REDIS_REPLY_ERROR) {
			fprintf(stderr, "ivr-sim: RPOP %s: %s\n", o->dialer,
			    r->str);
			rc = strncmp(r->str, "NOAUTH", 6) == 0 ? EX_REDIS :
			    EX_FAIL;
			freeReplyObject(r);
			return rc;
		}
		if (r->type != REDIS_REPLY_STRING) {
			freeReplyObject(r);
			break;
		}
		loop_take(lp, o, m, r->str, r->len, now);
		freeReplyObject(r);
	}
	for (i = 0; i < lp->cap; i++) {
		struct callback *cb = &lp->cb[i];

		/* One step per tick: the next is at least a delay away. */
		if (cb->stage != L_FREE && cb->due <= now &&
		    (rc = loop_step(lp, c, t, o, m, cb)) != EX_OK)
			return rc;
	}
	return EX_OK;
}

static void
loop_print(const struct loop *lp)
{
	printf("; loop: %lu callbacks (%lu duplicate, %lu dropped, %lu "
	    "unusable), %lu contacts, %lu acks, %lu resolutions, %lu "
	    "follow-up ratings", lp->callbacks, lp->duplicates, lp->dropped,
	    lp->skipped, lp->contacts, lp->acks, lp->resolutions, lp->ratings);
}

/* --- main loop ---------------------------------------------------------- */

static volatile sig_atomic_t	stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* sleep_until: sleep to the monotonic time t; returns early on a signal
 * (clock_nanosleep is never restarted, SA_RESTART or not). */
static void
sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
	    NULL) == EINTR)
		;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct target t;
	struct model m;
	struct callq q;
	struct loop lp;
	struct sigaction sa;
	redisContext *c;
	const char *av[3 + 2 * (MAX_FIELDS + 1)];
	char jsonbuf[4096];
	unsigned long sent = 0, batch, n, i, last_sent = 0;
	double start, base, now, due, end, last_report, next_tick, wake;
	uint64_t base_k = 0;
	int rc = EX_OK, nav;

	if (parse_options(argc, argv, &o) == -1)
		return EX_USAGE;
	if (parse_url(o.url, &t) == -1) {
		fprintf(stderr, "ivr-sim: -u: expected redis://[[user]:password@]"
		    "host[:port][/db] or unix:///path[?db=N]\n");
		return EX_USAGE;
	}
	if (!o.seeded)
		o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rng_seed(o.seed);

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if ((c = redis_open(&t)) == NULL)
		return EX_REDIS;
	model_init(&m, &o);
	memset(&q, 0, sizeof(q));
	memset(&lp, 0, sizeof(lp));
	if (o.loop)
		loop_init(&lp, &o);
	start = mono_now();
	if (o.crm && (rc = write_crm(c, &t, &m)) != EX_OK)
		goto done;
	if (!o.quiet) {
		fprintf(stderr, "ivr-sim: %s %s, %.6g events/s, %lu customers "
		    "(%lu unhappy), %lu agents, seed %llu\n", t.display,
		    o.stream, o.rate, m.ncust, m.nunhappy, m.nagent,
		    (unsigned long long)o.seed);
		if (o.loop)
			fprintf(stderr, "ivr-sim: loop: callbacks from %s, "
			    "commands to %s, %.6g s a step, %lu in flight at "
			    "most\n", o.dialer, lp.commands, o.delay,
			    o.pending);
	}

	batch = 1;
	if (o.rate > PIPELINE_ABOVE) {
		batch = (unsigned long)ceil(o.rate / 100);
		if (batch > MAX_BATCH)
			batch = MAX_BATCH;
	}
	start = base = last_report = next_tick = mono_now();
	end = o.duration > 0 ? start + o.duration : 0;
	while (!stop && (o.count == 0 || sent < o.count)) {
		/* Event (sent) is due at base + (sent - base_k) / rate. */
		due = base + (double)(sent - base_k) / o.rate;
		/* The loop goes on to the end even when no event is left
		 * to send before it. */
		if (end > 0 && due >= end && (!o.loop || mono_now() >= end))
			break;
		now = mono_now();
		if (o.loop && now >= next_tick) {
			if ((rc = loop_tick(&lp, c, &t, &o, &m, now)) != EX_OK)
				goto done;
			next_tick = now + LOOP_TICK_S;
			now = mono_now();
		}
		if (!o.quiet && now - last_report >= REPORT_EVERY_S) {
			printf("sent %lu events (rate %.1f/s)", sent,
			    (double)(sent - last_sent) / (now - last_report));
			if (o.loop)
				loop_print(&lp);
			printf("\n");
			fflush(stdout);
			last_report = now;
			last_sent = sent;
		}
		if (due > now || (end > 0 && due >= end)) {
			wake = due;
			if (o.loop && next_tick < wake)
				wake = next_tick;
			if (end > 0 && end < wake)
				wake = end;
			sleep_until(wake);
			continue;
		}
		if (now - due > 1.0) {
			/* More than a second behind (a slow Redis): start
			 * over from now rather than burst to catch up. */
			base = now;
			base_k = sent;
		}
		n = batch;
		if (o.count != 0 && o.count - sent < n)
			n = o.count - sent;
		for (i = 0; i < n; i++) {
			nav = event_argv(next_event(&m, &q), o.stream, o.json,
			    av, jsonbuf, sizeof(jsonbuf));
			if (redisAppendCommandArgv(c, nav, av, NULL) !=
			    REDIS_OK) {
				fprintf(stderr, "ivr-sim: out of memory\n");
				rc = EX_FAIL;
				goto done;
			}
		}
		if ((rc = read_replies(c, &t, "XADD", n)) != EX_OK)
			goto done;
		sent += n;
	}
done:
	if (!o.quiet) {
		now = mono_now();
		printf("sent %lu events in %.1f s (rate %.1f/s)", sent,
		    now - start, now > start ? (double)sent / (now - start) :
		    0.0);
		if (o.loop)
			loop_print(&lp);
		printf("\n");
	}
	redisFree(c);
	model_free(&m);
	free(lp.cb);
	return rc;
}
