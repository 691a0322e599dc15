/*
 * state_mem.c — the in-memory state store (state.h), for "recoveryctl
 * test" and "replay" and for the unit tests. It makes the same decisions
 * as the Redis script (scripts.c), with the same keys, only in this
 * process and without expiry.
 *
 * Layout. Every piece of state sits in a small chained hash map keyed by
 * bytes:
 *   windows    count ("w"), aggregate ("g") and "after" memory ("m")
 *              windows: time-sorted arrays of (t_ms, value), keyed by
 *              rule name and by value (and the remembered field for "m");
 *   cooldowns  (rule, key) -> the last firing (t_ms, entry ID);
 *   entries    entry ID -> the answer given, so that deciding an entry
 *              again returns it unchanged and touches nothing;
 *   cases      case ID -> case; custs: customer ID -> latest case.
 * State is keyed by rule names, not indices or pointers, so it survives a
 * configuration reload as the Redis store's does; the configuration is not
 * kept.
 *
 * Windows keep entries back to (newest time seen) - 2 * within, since
 * events may arrive late by up to a window; older ones are dropped when
 * an entry joins. The entry records and cases are never dropped: a replay
 * costs memory linear in its events, which is fine for a test tool.
 *
 * Escalation: each case records the steps it has scheduled or run (as
 * "after_ms:chan,chan..." signatures, for the once-per-case rule); the
 * steps still to run are in one flat array, "pending", in insertion order.
 * Acknowledging or resolving a case removes its pending steps, so every
 * pending step belongs to an open case.
 *
 * Time arithmetic. Event times of validated events are 0 .. EVT_TS_MAX
 * seconds and every duration of a configuration at most 10 years, so no
 * sum here can come near INT64_MAX; the store does not rely on that: every
 * time sum and difference goes through tadd/tsub, which saturate, and a
 * window range whose ends cross is empty. A caller passing absurd times
 * gets absurd but well-defined answers, never a wrapped index.
 */
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "util.h"

#define N(s)	((s) != NULL ? (s) : "")

/* --- a small hash map from byte strings to pointers ---------------------- */

struct hnode {
	struct hnode	*next;
	uint64_t	 h;
	void		*val;
	size_t		 klen;
	char		 key[];
};

struct hmap {
	struct hnode	**b;
	size_t		  nb, n;	/* nb: a power of two, or 0 */
};

static uint64_t
hash(const char *k, size_t len)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* hmap_get: the value stored under k, or NULL. O(1) expected. */
static void *
hmap_get(const struct hmap *m, const char *k, size_t len)
{
	const struct hnode *e;
	uint64_t h;

	if (m->nb == 0)
		return NULL;
	h = hash(k, len);
	for (e = m->b[h & (m->nb - 1)]; e != NULL; e = e->next)
		if (e->h == h && e->klen == len && memcmp(e->key, k, len) == 0)
			return e->val;
	return NULL;
}

/*
 * hmap_slot: the value slot of k, created (holding NULL) if absent; the
 * key is copied. The slot stays valid until the next hmap_slot (which may
 * rehash). O(1) amortised.
 */
static void **
hmap_slot(struct hmap *m, const char *k, size_t len)
{
	struct hnode *e, **nb;
	uint64_t h = hash(k, len);
	size_t i, n;

	if (m->nb != 0)
		for (e = m->b[h & (m->nb - 1)]; e != NULL; e = e->next)
			if (e->h == h && e->klen == len &&
			    memcmp(e->key, k, len) == 0)
				return &e->val;
	if (m->n >= m->nb) {
		n = m->nb ? m->nb * 2 : 16;
		nb = xcalloc(n, sizeof(*nb));
		for (i = 0; i < m->nb; i++)
			while ((e = m->b[i]) != NULL) {
				m->b[i] = e->next;
				e->next = nb[e->h & (n - 1)];
				nb[e->h & (n - 1)] = e;
			}
		free(m->b);
		m->b = nb;
		m->nb = n;
	}
	e = xmalloc(sizeof(*e) + len);
	memcpy(e->key, k, len);
	e->klen = len;
	e->h = h;
	e->val = NULL;
	e->next = m->b[h & (m->nb - 1)];
	m->b[h & (m->nb - 1)] = e;
	m->n++;
	return &e->val;
}

/* hmap_free: free every node, and each value with fr (if not NULL). */
static void
hmap_free(struct hmap *m, void (*fr)(void *))
{
	struct hnode *e;
	size_t i;

	for (i = 0; i < m->nb; i++)
		while ((e = m->b[i]) != NULL) {
			m->b[i] = e->next;
			if (fr != NULL)
				fr(e->val);
			free(e);
		}
	free(m->b);
	memset(m, 0, sizeof(*m));
}

/* --- time arithmetic --------------------------------------------------- */

/* tadd, tsub: a + b and a - b on times and durations (ms), saturating at
 * the int64_t range instead of wrapping. */
static int64_t
tadd(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int64_t
tsub(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* --- time windows ------------------------------------------------------ */

struct wpt {
	int64_t	t;
	double	v;
};

struct win {
	struct wpt	*p;	/* sorted by t; equal times in arrival order */
	size_t		 n, cap;
	int64_t		 tmax;
};

static void
win_free(void *p)
{
	struct win *w = p;

	free(w->p);
	free(w);
}

/*
 * win_add: insert (t, v) after every point at or before t, then drop the
 * points older than tmax - keep. O(n) worst case (a memmove), O(1) for
 * events arriving in order.
 */
static void
win_add(struct win *w, int64_t t, double v, int64_t keep)
{
	size_t i, drop;

	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 8;
		w->p = xreallocarray(w->p, w->cap, sizeof(*w->p));
	}
	for (i = w->n; i > 0 && w->p[i - 1].t > t; i--)
		;
	memmove(&w->p[i + 1], &w->p[i], (w->n - i) * sizeof(*w->p));
	w->p[i].t = t;
	w->p[i].v = v;
	if (w->n++ == 0 || t > w->tmax)
		w->tmax = t;
	for (drop = 0; drop < w->n && w->p[drop].t < tsub(w->tmax, keep);
	    drop++)
		;
	if (drop > 0) {
		memmove(w->p, &w->p[drop], (w->n - drop) * sizeof(*w->p));
		w->n -= drop;
	}
}

/* win_after: the index of the first point with t > lim (t >= lim when
 * !strict). O(log n). */
static size_t
win_after(const struct win *w, int64_t lim, bool strict)
{
	size_t a = 0, b = w->n, m;

	while (a < b) {
		m = a + (b - a) / 2;
		if (w->p[m].t < lim || (strict && w->p[m].t == lim))
			a = m + 1;
		else
			b = m;
	}
	return a;
}

/* win_range: the points with lo <= t <= hi are p[*first .. *first + n);
 * none when lo > hi. O(log n). */
static size_t
win_range(const struct win *w, int64_t lo, int64_t hi, size_t *first)
{
	size_t end;

	*first = win_after(w, lo, false);
	end = win_after(w, hi, true);
	return end > *first ? end - *first : 0;
}

/* --- cases ------------------------------------------------------------ */

enum case_state { CASE_OPEN, CASE_ACKED, CASE_RESOLVED };

struct mcase {
	char		*id;
	char		 customer[128], call[128], agent[128], queue[128];
	enum case_state	 state;
	int		 severity;
	int64_t		 opened_at, resolved_at;
	int		 step;		/* steps run */
	char		 acked_by[128];
	char		**rules;	/* unique names */
	size_t		 nrules;
	char		**events;	/* entry IDs */
	size_t		 nevents;
	char		**sched;	/* "after_ms:chans", scheduled or run */
	size_t		 nsched;
};

struct pend {
	struct mcase	*cs;
	char		*rule;
	int		 step;
	int64_t		 due;
};

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
strv_add(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static bool
strv_has(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void
case_free(void *p)
{
	struct mcase *cs = p;

	free(cs->id);
	strv_free(cs->rules, cs->nrules);
	strv_free(cs->events, cs->nevents);
	strv_free(cs->sched, cs->nsched);
	free(cs);
}

/* --- the store --------------------------------------------------------- */

struct cooldown {
	int64_t	 t;
	char	*entry;
};

/* The recorded answer for one candidate of a decided entry. */
struct ans {
	char	*rule;
	bool	 fired, has_count, has_value;
	long	 count, samples;
	double	 value;
};

struct done {
	struct ans	*a;
	size_t		 n;
	struct case_ref	 cr;
};

struct state_mem {
	struct hmap	 windows, cooldowns, entries, cases, custs;
	struct pend	*pending;
	size_t		 npending, cappending;
	struct buf	 key;		/* scratch for composite keys */
};

static void
cooldown_free(void *p)
{
	struct cooldown *cd = p;

	free(cd->entry);
	free(cd);
}

static void
done_free(void *p)
{
	struct done *d = p;
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->a[i].rule);
	free(d->a);
	free(d);
}

/*
 * mkkey: a composite key in sm->key: the kind byte, then each non-NULL
 * part as "<length>:<bytes>", so that no two part lists share a key.
 * The result is valid until the next mkkey.
 */
static const char *
mkkey(struct state_mem *sm, char kind, const char *a, const char *b,
    const char *c)
{
	const char *parts[3] = { a, b, c };
	size_t i;

	buf_reset(&sm->key);
	buf_putc(&sm->key, kind);
	for (i = 0; i < ARRAY_LEN(parts); i++)
		if (parts[i] != NULL)
			buf_printf(&sm->key, "%zu:%s", strlen(parts[i]),
			    parts[i]);
	return sm->key.data;
}

/* window: the window under the key just built by mkkey, created empty. */
static struct win *
window(struct state_mem *sm)
{
	void **slot = hmap_slot(&sm->windows, sm->key.data, sm->key.len);

	if (*slot == NULL)
		*slot = xcalloc(1, sizeof(struct win));
	return *slot;
}

/* state_mem_new: an empty store; free it with state_mem_free. The
 * configuration is not kept (see the top of this file). */
struct state_mem *
state_mem_new(const struct config *cf)
{
	struct state_mem *sm = xcalloc(1, sizeof(*sm));

	(void)cf;
	buf_init(&sm->key);
	return sm;
}

void
state_mem_free(struct state_mem *sm)
{
	size_t i;

	if (sm == NULL)
		return;
	hmap_free(&sm->windows, win_free);
	hmap_free(&sm->cooldowns, cooldown_free);
	hmap_free(&sm->entries, done_free);
	hmap_free(&sm->custs, NULL);		/* borrowed from cases */
	hmap_free(&sm->cases, case_free);
	for (i = 0; i < sm->npending; i++)
		free(sm->pending[i].rule);
	free(sm->pending);
	buf_free(&sm->key);
	free(sm);
}

/*
 * rpn_true: run an aggregate's alert_if program (expr_numeric_rpn's
 * format: v, s, numbers, == != < <= > >=, and, or, not) on a stack of at
 * most 64 doubles. A malformed program (unknown token, underflow,
 * overflow, not exactly one result) is false. O(program length).
 */
static bool
rpn_true(const char *prog, double v, double s)
{
	static const char *const binops[] = {
		"and", "or", "==", "!=", "<", "<=", ">", ">="
	};
	double st[64], a, b, x;
	size_t n = 0, len, op;
	const char *p = prog;
	bool r = false;

	if (prog == NULL)
		return false;
	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t");
		for (op = 0; op < ARRAY_LEN(binops); op++)
			if (strlen(binops[op]) == len &&
			    memcmp(p, binops[op], len) == 0)
				break;
		if (op < ARRAY_LEN(binops)) {
			if (n < 2)
				return false;
			b = st[--n];
			a = st[n - 1];
			switch (op) {
			case 0: r = a != 0 && b != 0; break;
			case 1: r = a != 0 || b != 0; break;
			case 2: r = a == b; break;
			case 3: r = a != b; break;
			case 4: r = a < b; break;
			case 5: r = a <= b; break;
			case 6: r = a > b; break;
			default: r = a >= b; break;
			}
			st[n - 1] = r ? 1 : 0;
		} else if (len == 3 && memcmp(p, "not", 3) == 0) {
			if (n < 1)
				return false;
			st[n - 1] = st[n - 1] != 0 ? 0 : 1;
		} else {
			if (len == 1 && *p == 'v')
				x = v;
			else if (len == 1 && *p == 's')
				x = s;
			else if (!parse_number(p, len, &x))
				return false;
			if (n == ARRAY_LEN(st))
				return false;
			st[n++] = x;
		}
		p += len;
	}
	return n == 1 && st[0] != 0;
}

/* aggregate: the rule's function over the window's points in [lo, hi];
 * sets value and samples. O(points in range). */
static void
aggregate(const struct rule *r, const struct win *w, int64_t lo, int64_t hi,
    struct state_cand *c)
{
	size_t first, n, i;
	double sum = 0, mn = 0, mx = 0, x;
	long pro = 0, det = 0;

	n = win_range(w, lo, hi, &first);
	for (i = 0; i < n; i++) {
		x = w->p[first + i].v;
		sum += x;
		if (i == 0 || x < mn)
			mn = x;
		if (i == 0 || x > mx)
			mx = x;
		if (x >= 9)
			pro++;
		else if (x <= 6)
			det++;
	}
	c->has_value = true;
	c->samples = (long)n;
	switch (r->aggregate.fn) {
	case AGG_COUNT: c->value = (double)n; break;
	case AGG_SUM:	c->value = sum; break;
	case AGG_AVG:	c->value = n ? sum / (double)n : 0; break;
	case AGG_MIN:	c->value = mn; break;
	case AGG_MAX:	c->value = mx; break;
	case AGG_NPS:	c->value = n ? 100.0 * (double)(pro - det) /
			    (double)n : 0; break;
	}
}

/*
 * decide_one: the condition of one candidate (its window joined), then
 * its cooldown; sets c->fired and the count/value/samples answer.
 * O(window) for aggregates, O(log window) otherwise.
 */
static void
decide_one(struct state_mem *sm, const struct state_req *req,
    struct state_cand *c)
{
	const struct rule *r = c->rule;
	const char *key = N(c->key);
	int64_t t = req->t_ms, within;
	struct cooldown *cd;
	struct win *w;
	size_t first;
	void **slot;
	bool cond;

	c->fired = c->has_count = c->has_value = false;
	c->count = c->samples = 0;
	c->value = 0;
	if (r->has_count) {
		within = r->count.within_ms;
		mkkey(sm, 'w', r->name, key, NULL);
		w = window(sm);
		win_add(w, t, 0, tadd(within, within));
		c->has_count = true;
		c->count = (long)win_range(w, tsub(t, within), t, &first);
		cond = c->count == r->count.at_least;
	} else if (r->has_aggregate) {
		within = r->aggregate.within_ms;
		if (r->aggregate.fn != AGG_COUNT && !c->has_num)
			return;
		mkkey(sm, 'g', r->name, key, NULL);
		w = window(sm);
		win_add(w, t, r->aggregate.fn == AGG_COUNT ? 0 : c->num,
		    tadd(within, within));
		aggregate(r, w, tsub(t, within), t, c);
		cond = c->samples >= r->aggregate.min_samples &&
		    rpn_true(r->aggregate.alert_rpn, c->value,
		    (double)c->samples);
	} else if (r->has_after) {
		cond = false;
		if (c->after_val != NULL && c->after_val[0] != '\0') {
			mkkey(sm, 'm', r->after.rule, r->after.by,
			    c->after_val);
			w = hmap_get(&sm->windows, sm->key.data, sm->key.len);
			cond = w != NULL && win_range(w,
			    tsub(t, r->after.within_ms), t, &first) > 0;
		}
	} else
		cond = true;

	if (cond && r->cooldown_ms > 0) {
		mkkey(sm, 'd', r->name, key, NULL);
		slot = hmap_slot(&sm->cooldowns, sm->key.data, sm->key.len);
		if ((cd = *slot) == NULL) {
			cd = *slot = xcalloc(1, sizeof(*cd));
		} else if (strcmp(cd->entry, req->entry_id) != 0 &&
		    tsub(t, cd->t) < r->cooldown_ms &&
		    tsub(cd->t, t) < r->cooldown_ms)
			cond = false;
		if (cond) {
			free(cd->entry);
			cd->entry = xstrdup(req->entry_id);
			cd->t = t;
		}
	}
	c->fired = cond;
}

/* remember: record that c's rule fired at t for each value "after" rules
 * correlate on. O(nremember). */
static void
remember(struct state_mem *sm, const struct state_req *req,
    const struct state_cand *c)
{
	const struct rule *q = c->rule;
	size_t j;

	for (j = 0; j < q->nremember && j < STATE_MAX_REMEMBER; j++) {
		if (c->rem_vals[j] == NULL || c->rem_vals[j][0] == '\0')
			continue;
		mkkey(sm, 'm', q->name, q->remember[j], c->rem_vals[j]);
		win_add(window(sm), req->t_ms, 0, tadd(q->remember_ms,
		    q->remember_ms));
	}
}

/* schedule: add rule r's escalation steps to the open case cs, except
 * those whose delay and channels it already has. O(steps * sched). */
static void
schedule(struct state_mem *sm, struct mcase *cs, const struct rule *r)
{
	const struct esc_step *es;
	struct buf sig;
	struct pend *p;
	size_t i, j;

	buf_init(&sig);
	for (i = 0; i < r->nescalate; i++) {
		es = &r->escalate[i];
		buf_reset(&sig);
		buf_printf(&sig, "%lld:", (long long)es->after_ms);
		for (j = 0; j < es->n.nchans; j++)
			buf_printf(&sig, "%s%zu", j ? "," : "", es->n.chans[j]);
		if (strv_has(cs->sched, cs->nsched, sig.data))
			continue;
		strv_add(&cs->sched, &cs->nsched, sig.data);
		if (sm->npending == sm->cappending) {
			sm->cappending = sm->cappending ?
			    sm->cappending * 2 : 16;
			sm->pending = xreallocarray(sm->pending,
			    sm->cappending, sizeof(*sm->pending));
		}
		p = &sm->pending[sm->npending++];
		p->cs = cs;
		p->rule = xstrdup(r->name);
		p->step = (int)i + 1;
		p->due = tadd(cs->opened_at, es->after_ms);
	}
	buf_free(&sig);
}

/* open_case: a new open case for the request's customer, owned by
 * sm->cases and made the customer's current case. */
static struct mcase *
open_case(struct state_mem *sm, const struct state_req *req)
{
	struct mcase *cs = xcalloc(1, sizeof(*cs));
	char id[ENGINE_ID_MAX];
	void **slot;

	snprintf(id, sizeof(id), "c-%s", req->entry_id);
	cs->id = xstrdup(id);
	snprintf(cs->customer, sizeof(cs->customer), "%s", req->customer_id);
	snprintf(cs->call, sizeof(cs->call), "%s", N(req->call_id));
	snprintf(cs->agent, sizeof(cs->agent), "%s", N(req->agent_id));
	snprintf(cs->queue, sizeof(cs->queue), "%s", N(req->queue));
	cs->state = CASE_OPEN;
	cs->opened_at = req->now_ms;
	slot = hmap_slot(&sm->cases, cs->id, strlen(cs->id));
	if (*slot != NULL)		/* cannot happen: entries decide once */
		case_free(*slot);
	*slot = cs;
	*hmap_slot(&sm->custs, req->customer_id,
	    strlen(req->customer_id)) = cs;
	return cs;
}

/* record: keep req's answer and cr under its entry ID. */
static void
record(struct state_mem *sm, const struct state_req *req,
    const struct case_ref *cr)
{
	struct done *d = xcalloc(1, sizeof(*d));
	size_t i;

	d->n = req->n;
	d->a = xcalloc(req->n ? req->n : 1, sizeof(*d->a));
	for (i = 0; i < req->n; i++) {
		const struct state_cand *c = &req->c[i];

		d->a[i].rule = xstrdup(c->rule->name);
		d->a[i].fired = c->fired;
		d->a[i].has_count = c->has_count;
		d->a[i].count = c->count;
		d->a[i].has_value = c->has_value;
		d->a[i].value = c->value;
		d->a[i].samples = c->samples;
	}
	d->cr = *cr;
	*hmap_slot(&sm->entries, req->entry_id, strlen(req->entry_id)) = d;
}

/* replay: answer req from a recorded decision; candidates the record does
 * not know (a reloaded rule set) do not fire. O(n * recorded). */
static void
replay(const struct done *d, struct state_req *req, struct case_ref *cr)
{
	size_t i, j;

	for (i = 0; i < req->n; i++) {
		struct state_cand *c = &req->c[i];

		c->fired = c->has_count = c->has_value = false;
		c->count = c->samples = 0;
		c->value = 0;
		for (j = 0; j < d->n; j++)
			if (strcmp(d->a[j].rule, c->rule->name) == 0)
				break;
		if (j == d->n)
			continue;
		c->fired = d->a[j].fired;
		c->has_count = d->a[j].has_count;
		c->count = d->a[j].count;
		c->has_value = d->a[j].has_value;
		c->value = d->a[j].value;
		c->samples = d->a[j].samples;
	}
	*cr = d->cr;
}

/*
 * state_mem_decide: decide req's candidates in order (a firing is
 * remembered for "after" before the next candidate is decided), then the
 * case and its escalation schedule; see state.h. Allocates only what the
 * store keeps. Cost: per candidate O(window) (aggregates) or O(log
 * window), plus O(events + rules + steps) of the case.
 */
void
state_mem_decide(struct state_mem *sm, struct state_req *req,
    struct case_ref *cr)
{
	const struct done *d;
	struct mcase *cs;
	size_t i;
	int sev = 0;
	bool any = false;

	memset(cr, 0, sizeof(*cr));
	if ((d = hmap_get(&sm->entries, req->entry_id,
	    strlen(req->entry_id))) != NULL) {
		replay(d, req, cr);
		return;
	}
	for (i = 0; i < req->n; i++) {
		decide_one(sm, req, &req->c[i]);
		if (!req->c[i].fired)
			continue;
		remember(sm, req, &req->c[i]);
		any = true;
		if (req->c[i].rule->severity > sev)
			sev = req->c[i].rule->severity;
	}
	if (any && req->customer_id != NULL && req->customer_id[0]) {
		cs = hmap_get(&sm->custs, req->customer_id,
		    strlen(req->customer_id));
		if (cs == NULL || cs->state == CASE_RESOLVED) {
			cs = open_case(sm, req);
			cr->opened = true;
		}
		if (sev > cs->severity)
			cs->severity = sev;
		for (i = 0; i < req->n; i++)
			if (req->c[i].fired && !strv_has(cs->rules,
			    cs->nrules, req->c[i].rule->name))
				strv_add(&cs->rules, &cs->nrules,
				    req->c[i].rule->name);
		strv_add(&cs->events, &cs->nevents, req->entry_id);
		/* An acknowledged case never escalates: nothing to add. */
		if (cs->state == CASE_OPEN)
			for (i = 0; i < req->n; i++)
				if (req->c[i].fired)
					schedule(sm, cs, req->c[i].rule);
		snprintf(cr->case_id, sizeof(cr->case_id), "%s", cs->id);
		cr->severity = cs->severity;
	}
	record(sm, req, cr);
}

/* best: the index of the earliest pending step (ties: the first added)
 * due at or before now (now < 0: any), or -1. O(pending). */
static long
best(const struct state_mem *sm, int64_t now)
{
	long b = -1;
	size_t i;

	for (i = 0; i < sm->npending; i++) {
		if (sm->pending[i].cs->state != CASE_OPEN ||
		    (now >= 0 && sm->pending[i].due > now))
			continue;
		if (b < 0 || sm->pending[i].due < sm->pending[b].due)
			b = (long)i;
	}
	return b;
}

static void
pend_remove(struct state_mem *sm, size_t i)
{
	free(sm->pending[i].rule);
	memmove(&sm->pending[i], &sm->pending[i + 1],
	    (sm->npending - i - 1) * sizeof(*sm->pending));
	sm->npending--;
}

/* state_mem_due: see state.h. O(pending). */
bool
state_mem_due(struct state_mem *sm, int64_t now_ms, struct esc_due *out)
{
	const struct pend *p;
	struct mcase *cs;
	long i;

	if (now_ms < 0 || (i = best(sm, now_ms)) < 0)
		return false;
	p = &sm->pending[i];
	cs = p->cs;
	memset(out, 0, sizeof(*out));
	snprintf(out->case_id, sizeof(out->case_id), "%s", cs->id);
	snprintf(out->rule, sizeof(out->rule), "%s", p->rule);
	out->step = p->step;
	out->due_ms = p->due;
	snprintf(out->customer_id, sizeof(out->customer_id), "%s",
	    cs->customer);
	snprintf(out->call_id, sizeof(out->call_id), "%s", cs->call);
	snprintf(out->agent_id, sizeof(out->agent_id), "%s", cs->agent);
	snprintf(out->queue, sizeof(out->queue), "%s", cs->queue);
	snprintf(out->severity, sizeof(out->severity), "%s",
	    severity_name(cs->severity));
	cs->step++;
	pend_remove(sm, (size_t)i);
	return true;
}

/* state_mem_next_due: see state.h. O(pending). */
int64_t
state_mem_next_due(const struct state_mem *sm)
{
	long i = best(sm, -1);

	return i < 0 ? -1 : sm->pending[i].due;
}

/* state_mem_case_of: see state.h. The ID is owned by the store. O(1). */
const char *
state_mem_case_of(const struct state_mem *sm, const char *customer_id)
{
	const struct mcase *cs;

	cs = hmap_get(&sm->custs, customer_id, strlen(customer_id));
	return cs != NULL && cs->state != CASE_RESOLVED ? cs->id : NULL;
}

/* close_case: move cs to state st and drop its pending steps.
 * O(pending). */
static void
close_case(struct state_mem *sm, struct mcase *cs, enum case_state st)
{
	size_t i;

	cs->state = st;
	for (i = sm->npending; i > 0; i--)
		if (sm->pending[i - 1].cs == cs)
			pend_remove(sm, i - 1);
}

/* state_mem_ack: see state.h; a resolved case stays resolved. */
int
state_mem_ack(struct state_mem *sm, const char *case_id, const char *by,
    int64_t now_ms)
{
	struct mcase *cs;

	(void)now_ms;
	if ((cs = hmap_get(&sm->cases, case_id, strlen(case_id))) == NULL)
		return -1;
	if (cs->state != CASE_OPEN)
		return 0;
	snprintf(cs->acked_by, sizeof(cs->acked_by), "%s", N(by));
	close_case(sm, cs, CASE_ACKED);
	return 0;
}

/* state_mem_resolve: see state.h. */
int
state_mem_resolve(struct state_mem *sm, const char *case_id, int64_t now_ms)
{
	struct mcase *cs;

	if ((cs = hmap_get(&sm->cases, case_id, strlen(case_id))) == NULL)
		return -1;
	if (cs->state != CASE_RESOLVED) {
		cs->resolved_at = now_ms;
		close_case(sm, cs, CASE_RESOLVED);
	}
	return 0;
}
