/*
 * mirror.c — the console's copy of the open cases (P.."cases:open": open,
 * acknowledged, reopened), so that GET /api/cases of the queue is answered
 * from memory: with 10,000 open cases, reading every hash from Redis per
 * request costs some 150 ms, filtering and sorting the copy a few.
 *
 * It is kept by the one subscription to P.."cases:changed" (stream.c):
 * for each message the console reads the named cases again (HGETALL, on
 * its command connection) and only then tells the pages, so that a page
 * that fetches on the event sees the change. A case whose hash is gone
 * or resolved leaves the copy. The whole copy is read again (ZRANGE of
 * the index, then each hash) at start, when the subscription was lost
 * (changes may have been missed), on a "*" message and every
 * RELOAD_S seconds, as a safety net; until the first load has completed,
 * or when there are more than MIRROR_MAX open cases, requests read Redis
 * as for resolved cases (cases.c).
 *
 * Ordering: replies come in the order commands were sent on the one
 * connection, so a change read while a reload is in flight is applied
 * to both the live copy and the one being built, and the newest read
 * wins in either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "caseview.h"
#include "console.h"
#include "log.h"

#define RELOAD_S	60
#define MIRROR_MAX	200000	/* open cases copied at most (~2 KiB each) */

struct mcase {
	struct mcase	 *next;		/* in its bucket */
	char		 *id;
	char		**kv;		/* field, value, ... (owned) */
	size_t		  n;		/* pairs */
	struct case_key	  key;		/* its order (caseview.h) */
};

struct mtable {
	struct mcase	**b;
	size_t		  nb, n;
};

struct mirror {
	struct console	*c;
	struct mtable	*live;		/* NULL until the first load */
	struct mtable	*building;	/* a reload in flight */
	bool		  loading;	/* ZRANGE sent, last HGETALL not in */
	struct event	 *timer;
	uint64_t	  reloads;
};

static uint64_t
hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct mtable *
table_new(size_t hint)
{
	struct mtable *t = xcalloc(1, sizeof(*t));

	for (t->nb = 1024; t->nb < hint * 2; t->nb *= 2)
		;
	t->b = xcalloc(t->nb, sizeof(*t->b));
	return t;
}

static const char *
mcase_get(const void *p, const char *field)
{
	const struct mcase *m = p;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->kv[2 * i], field) == 0)
			return m->kv[2 * i + 1];
	return NULL;
}

static void
mcase_free(struct mcase *m)
{
	size_t i;

	for (i = 0; i < 2 * m->n; i++)
		free(m->kv[i]);
	free(m->kv);
	free(m->id);
	free(m);
}

static void
table_free(struct mtable *t)
{
	struct mcase *m, *next;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nb; i++)
		for (m = t->b[i]; m != NULL; m = next) {
			next = m->next;
			mcase_free(m);
		}
	free(t->b);
	free(t);
}

static void
table_grow(struct mtable *t)
{
	struct mcase **b, *m, *next;
	size_t nb = t->nb * 2, i, k;

	b = xcalloc(nb, sizeof(*b));
	for (i = 0; i < t->nb; i++)
		for (m = t->b[i]; m != NULL; m = next) {
			next = m->next;
			k = hash_id(m->id) & (nb - 1);
			m->next = b[k];
			b[k] = m;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

static void
table_del(struct mtable *t, const char *id)
{
	struct mcase **p = &t->b[hash_id(id) & (t->nb - 1)], *m;

	for (; (m = *p) != NULL; p = &m->next)
		if (strcmp(m->id, id) == 0) {
			*p = m->next;
			mcase_free(m);
			t->n--;
			return;
		}
}

/* table_put: the case of a valid HGETALL reply r (replacing any). */
static void
table_put(struct mtable *t, const char *id, const redisReply *r)
{
	struct mcase *m = xcalloc(1, sizeof(*m));
	size_t i, k;

	table_del(t, id);
	if (t->n + 1 > t->nb)
		table_grow(t);
	m->id = xstrdup(id);
	m->n = r->elements / 2;
	m->kv = xcalloc(r->elements + 1, sizeof(*m->kv));
	for (i = 0; i < r->elements; i++)
		m->kv[i] = xstrndup(r->element[i]->str, r->element[i]->len);
	{
		struct caseview cv = { m->id, m, mcase_get };

		case_key_of(&cv, &m->key);
	}
	k = hash_id(id) & (t->nb - 1);
	m->next = t->b[k];
	t->b[k] = m;
	t->n++;
}

/* apply: what an HGETALL of id answered, to t. */
static void
apply(struct mtable *t, const char *id, const redisReply *r)
{
	const char *st;

	if (t == NULL || r == NULL)
		return;		/* lost: the reload after it mends */
	st = reply_get(r, "state");
	if (r->elements == 0 || st == NULL || strcmp(st, "resolved") == 0)
		table_del(t, id);
	else
		table_put(t, id, r);
}

int
mirror_foreach(struct mirror *mi, void (*fn)(void *, const char *id,
    const char *const *kv, size_t n, const struct case_key *), void *arg)
{
	struct mcase *m;
	size_t i;

	if (mi->live == NULL)
		return -1;
	for (i = 0; i < mi->live->nb; i++)
		for (m = mi->live->b[i]; m != NULL; m = m->next)
			fn(arg, m->id, (const char *const *)m->kv, m->n,
			    &m->key);
	return 0;
}

size_t
mirror_size(const struct mirror *mi)
{
	return mi->live != NULL ? mi->live->n : 0;
}

/* --- a reload ------------------------------------------------------------- */

static void
rl_each(void *arg, size_t i, const char *id, const redisReply *r)
{
	struct mirror *mi = arg;

	(void)i;
	apply(mi->building, id, r);
}

static void
rl_done(void *arg, bool failed)
{
	struct mirror *mi = arg;

	if (failed) {
		table_free(mi->building);
		log_warnx("console: reading the open cases failed; retrying "
		    "when the connection is back");
	} else {
		table_free(mi->live);
		mi->live = mi->building;
		mi->reloads++;
		log_debug("console: %zu open cases read", mi->live->n);
	}
	mi->building = NULL;
	mi->loading = false;
}

static void
rl_ids_cb(redisAsyncContext *ac, void *reply, void *arg)
{
	struct mirror *mi = arg;
	redisReply *r = reply;

	(void)ac;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		mi->loading = false;
		return;
	}
	if (r->elements > MIRROR_MAX) {
		/* too many to keep: every request reads Redis */
		log_warnx("console: %zu open cases, more than %d: the queue "
		    "is read from Redis per request", r->elements, MIRROR_MAX);
		table_free(mi->live);
		mi->live = NULL;
		mi->loading = false;
		return;
	}
	mi->building = table_new(r->elements);
	case_fetch_reply(mi->c, r, rl_each, rl_done, mi);
}

void
mirror_reload(struct mirror *mi)
{
	char key[600];
	const char *av[4];

	if (mi->loading)
		return;		/* one at a time */
	snprintf(key, sizeof(key), "%scases:open", mi->c->cf->state_prefix);
	av[0] = "ZRANGE";
	av[1] = key;
	av[2] = "0";
	av[3] = "-1";
	if (console_cmd(mi->c, rl_ids_cb, mi, 4, av) == 0)
		mi->loading = true;
}

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	mirror_reload(arg);
}

struct mirror *
mirror_new(struct console *c)
{
	struct mirror *mi = xcalloc(1, sizeof(*mi));
	struct timeval tv = { RELOAD_S, 0 };

	mi->c = c;
	mi->timer = event_new(c->base, -1, EV_PERSIST, timer_cb, mi);
	evtimer_add(mi->timer, &tv);
	return mi;
}

void
mirror_free(struct mirror *mi)
{
	if (mi == NULL)
		return;
	event_free(mi->timer);
	table_free(mi->live);
	table_free(mi->building);
	free(mi);
}

/* --- a change ------------------------------------------------------------- */

struct upd {
	struct mirror	*mi;
	void		(*done)(void *);
	void		*arg;
};

static void
upd_each(void *arg, size_t i, const char *id, const redisReply *r)
{
	struct upd *u = arg;

	(void)i;
	apply(u->mi->live, id, r);
	apply(u->mi->building, id, r);
}

static void
upd_done(void *arg, bool failed)
{
	struct upd *u = arg;

	(void)failed;	/* a lost connection reloads the whole copy */
	u->done(u->arg);
	free(u);
}

void
mirror_changed(struct mirror *mi, const char *msg, size_t len,
    void (*done)(void *), void *arg)
{
	struct upd *u = xcalloc(1, sizeof(*u));
	const char **ids;
	size_t *lens, i, j, n = 0;

	u->mi = mi;
	u->done = done;
	u->arg = arg;
	if (len == 1 && msg[0] == '*')
		mirror_reload(mi);
	ids = xcalloc(len / 2 + 2, sizeof(*ids));
	lens = xcalloc(len / 2 + 2, sizeof(*lens));
	for (i = 0; i < len && !(len == 1 && msg[0] == '*'); i = j + 1) {
		for (j = i; j < len && msg[j] != ' '; j++)
			;
		if (j > i && j - i < 256) {
			ids[n] = msg + i;
			lens[n++] = j - i;
		}
	}
	case_fetch(mi->c, ids, lens, n, upd_each, upd_done, u);
	free(ids);
	free(lens);
}
