/*
 * store_decide.c — what a rule's state means (state.h, store.h): count
 * windows, aggregates, "after" memory, cooldowns and count crossings,
 * over the sections of KEY entities (store_window.c). Cases and
 * escalation are in store_case.c.
 *
 * Costs per candidate: O(1) amortised for events in time order (counts
 * O(log n)); count/sum/avg/nps answers come from the window's running
 * totals when exact; min, max, non-integral sums and late events scan
 * their window; a count crossing check evaluates the count at the
 * points where it can drop, O(k log n) for k points between the event
 * and the nearest firing, stopping at the first drop.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define N(s)		((s) != NULL ? (s) : "")
#define INT_EXACT	9007199254740992LL	/* 2^53 */

/* around: the nearest firing at or before t (*pred) and at or after t
 * (*succ); false when there is none on that side. O(log firings). */
static void
around(const struct sect *s, int64_t t, bool *hp, int64_t *pred, bool *hs,
    int64_t *succ)
{
	size_t a = 0, b = s->nf, m;

	while (a < b) {		/* first firing >= t */
		m = a + (b - a) / 2;
		if (s->f[m] < t)
			a = m + 1;
		else
			b = m;
	}
	*hs = a < s->nf;
	if (*hs)
		*succ = s->f[a];
	/* at or before t: a firing equal to t is at a */
	*hp = (a < s->nf && s->f[a] == t) || a > 0;
	if (*hp)
		*pred = a < s->nf && s->f[a] == t ? t : s->f[a - 1];
}

/* cooling: a firing of s lies closer to t than cooldown, on either
 * side; *at is that firing's time. */
static bool
cooling(const struct sect *s, int64_t t, int64_t cooldown, int64_t *at)
{
	int64_t p = 0, q = 0;
	bool hp, hs;

	around(s, t, &hp, &p, &hs, &q);
	if (hp && tsub(t, p) < cooldown) {
		*at = p;
		return true;
	}
	if (hs && tsub(q, t) < cooldown) {
		*at = q;
		return true;
	}
	return false;
}

/* cnt_at: c(x), the points in [x - within, x]. O(log n). */
static long
cnt_at(const struct sect *s, int64_t x, int64_t within)
{
	size_t first;

	return (long)win_range(s, tsub(x, within), x, &first);
}

/*
 * above: c(x) >= k for every x in [a, b] (integer ms). c only drops just
 * after a point leaves a window, at x = p + within + 1, so it is enough
 * to check c(a) and c at those x in (a, b]. O(points in [a - within,
 * b - within] * log n), stopping at the first drop below k.
 */
static bool
above(const struct sect *s, int64_t a, int64_t b, int64_t within, long k)
{
	int64_t x, ti;
	size_t i;

	if (cnt_at(s, a, within) < k)
		return false;
	for (i = win_first(s, tsub(tsub(a, within), 1), true); i < s->n; i++) {
		ti = pt_t(s, s->off + i);
		x = tadd(tadd(ti, within), 1);
		if (x > b)
			break;
		if (x <= a || (i + 1 < s->n && pt_t(s, s->off + i + 1) == ti))
			continue;
		if (cnt_at(s, x, within) < k)
			return false;
	}
	return true;
}

/* crossed: a recorded firing of s lies in the at-or-above period of t
 * (store.h): the nearest firing on either side is enough, since the
 * period is an interval. */
static bool
crossed(const struct sect *s, int64_t t, int64_t within, long k)
{
	int64_t p = 0, q = 0;
	bool hp, hs;

	around(s, t, &hp, &p, &hs, &q);
	return (hp && above(s, p, t, within, k)) ||
	    (hs && above(s, t, q, within, k));
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

/*
 * aggregate: the rule's function over the points in [t - within, t]:
 * value and samples. From the running totals when the event is the
 * newest point and they are exact, else by a scan in time order (the
 * same sum the totals give whenever they are used). O(1) or O(window).
 */
static void
aggregate(const struct rule *r, struct sect *s, int64_t t, bool last,
    struct state_cand *c)
{
	enum agg_fn fn = r->aggregate.fn;
	size_t first, n, i;
	double sum = 0, mn = 0, mx = 0, x;
	long pro = 0, det = 0;
	int64_t within = r->aggregate.within_ms;

	if (last && !s->run)
		win_run(s, within);
	c->has_value = true;
	if (last && s->run && fn != AGG_MIN && fn != AGG_MAX &&
	    (fn != AGG_SUM && fn != AGG_AVG ? true : (s->rodd == 0 &&
	    s->rsum > -INT_EXACT && s->rsum < INT_EXACT))) {
		n = (size_t)s->rn;
		sum = (double)s->rsum;
		pro = s->rpro;
		det = s->rdet;
	} else {
		n = win_range(s, tsub(t, within), t, &first);
		for (i = 0; i < n; i++) {
			x = pt_v(s, s->off + first + i);
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
	}
	c->samples = (long)n;
	switch (fn) {
	case AGG_COUNT: c->value = (double)n; break;
	case AGG_SUM:	c->value = sum; break;
	case AGG_AVG:	c->value = n ? sum / (double)n : 0; break;
	case AGG_MIN:	c->value = mn; break;
	case AGG_MAX:	c->value = mx; break;
	case AGG_NPS:	c->value = n ? 100.0 * (double)(pro - det) /
			    (double)n : 0; break;
	}
}

/* key_ent: the KEY entity of (field, value) for deciding (resident: the
 * caller checked). */
static struct ent *
key_ent(struct store *st, const char *field, const char *val)
{
	key_k(st, &st->kb, field, val);
	return ent_use(st, EK_KEY, st->kb.data, st->kb.len);
}

/* memo_hit: rule q fired with field = val in [t - within, t]. */
static bool
memo_hit(struct store *st, const char *q, const char *field,
    const char *val, int64_t t, int64_t within)
{
	const struct ent *e;
	const struct sect *s;
	size_t first;

	key_k(st, &st->kb, field, val);
	e = ent_find(st, st->kb.data, st->kb.len);
	if (e == NULL || !e->resident || e->kind != EK_KEY ||
	    (s = sect_get((struct kstate *)&e->u.ks, ST_MEMO, q, false)) ==
	    NULL)
		return false;
	return win_range(s, tsub(t, within), t, &first) > 0;
}

/*
 * decide_one: the condition of one candidate (its window joined), then
 * its cooldown and, for counts, its crossing; sets c->fired and the
 * count/value/samples answer and records the firing.
 */
static void
decide_one(struct store *st, const struct state_req *req,
    struct state_cand *c)
{
	const struct rule *r = c->rule;
	int64_t t = req->t_ms, within;
	struct ent *e = NULL;
	struct sect *s = NULL, *fs;
	double v;
	bool cond, last;

	c->fired = c->has_count = c->has_value = false;
	c->count = c->samples = 0;
	c->value = 0;
	c->why = STATE_WHY_FIRED;
	c->cool_at_ms = 0;
	if (r->has_count || r->has_aggregate || r->cooldown_ms > 0) {
		if (r->has_aggregate && r->aggregate.fn != AGG_COUNT &&
		    !c->has_num) {
			c->why = STATE_WHY_NO_VALUE;
			return;		/* neither joins nor fires */
		}
		e = key_ent(st, r->cooldown_key != NULL ? r->cooldown_key :
		    "customer_id", N(c->key));
	}
	if (r->has_count) {
		within = r->count.within_ms;
		s = sect_get(&e->u.ks, ST_COUNT, r->name, true);
		(void)pts_add(s, t, 0, tadd(within, within), within);
		fires_prune(s, fire_keep(st, r));
		if (st->o.backed)
			log_point(&e->u.ks, s, t, 0);
		c->has_count = true;
		c->count = cnt_at(s, t, within);
		cond = c->count == r->count.at_least &&
		    !crossed(s, t, within, r->count.at_least);
		if (!cond)
			c->why = c->count == r->count.at_least ?
			    STATE_WHY_CROSSED : STATE_WHY_COUNT;
		ent_dirty(st, e);
	} else if (r->has_aggregate) {
		within = r->aggregate.within_ms;
		s = sect_get(&e->u.ks, ST_AGG, r->name, true);
		v = r->aggregate.fn == AGG_COUNT ? 0 : c->num;
		last = pts_add(s, t, v, tadd(within, within), within);
		fires_prune(s, fire_keep(st, r));
		if (st->o.backed)
			log_point(&e->u.ks, s, t, v);
		aggregate(r, s, t, last, c);
		cond = c->samples >= r->aggregate.min_samples &&
		    rpn_true(r->aggregate.alert_rpn, c->value,
		    (double)c->samples);
		if (!cond)
			c->why = c->samples < r->aggregate.min_samples ?
			    STATE_WHY_MIN_SAMPLES : STATE_WHY_ALERT_IF;
		ent_dirty(st, e);
	} else if (r->has_after) {
		cond = c->after_val != NULL && c->after_val[0] != '\0' &&
		    memo_hit(st, r->after.rule, r->after.by, c->after_val, t,
		    r->after.within_ms);
		if (!cond)
			c->why = c->after_val != NULL &&
			    c->after_val[0] != '\0' ? STATE_WHY_NO_AFTER :
			    STATE_WHY_NO_AFTER_KEY;
	} else
		cond = true;

	if (cond && r->cooldown_ms > 0) {
		fs = s != NULL ? s : sect_get(&e->u.ks, ST_FIRE, r->name,
		    false);
		if (fs != NULL && cooling(fs, t, r->cooldown_ms,
		    &c->cool_at_ms)) {
			cond = false;
			c->why = STATE_WHY_COOLDOWN;
		}
	}
	if (cond && (r->has_count || r->cooldown_ms > 0)) {
		fs = s != NULL ? s : sect_get(&e->u.ks, ST_FIRE, r->name, true);
		fires_add(fs, t, fire_keep(st, r));
		if (st->o.backed)
			log_fire(&e->u.ks, fs, t);
		ent_dirty(st, e);
	}
	c->fired = cond;
}

/* remember: record that c's rule fired at t for each value "after" rules
 * correlate on. O(nremember). */
static void
remember(struct store *st, const struct state_req *req,
    const struct state_cand *c)
{
	const struct rule *q = c->rule;
	struct ent *e;
	struct sect *s;
	size_t j;

	for (j = 0; j < q->nremember && j < STATE_MAX_REMEMBER; j++) {
		if (c->rem_vals[j] == NULL || c->rem_vals[j][0] == '\0')
			continue;
		e = key_ent(st, q->remember[j], c->rem_vals[j]);
		s = sect_get(&e->u.ks, ST_MEMO, q->name, true);
		(void)pts_add(s, req->t_ms, 0, tadd(q->remember_ms,
		    q->remember_ms), q->remember_ms);
		if (st->o.backed)
			log_point(&e->u.ks, s, req->t_ms, 0);
		ent_dirty(st, e);
	}
}

/* --- recorded answers (unbacked) --------------------------------------- */

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

void
store_done_free(void *p)
{
	struct done *d = p;
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->a[i].rule);
	free(d->a);
	free(d);
}

static void
record(struct store *st, const struct state_req *req,
    const struct case_ref *cr)
{
	struct done *d = xcalloc(1, sizeof(*d));
	void **slot;
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
	slot = hm_slot(&st->done, req->entry_id, strlen(req->entry_id));
	if (*slot != NULL)
		store_done_free(*slot);
	*slot = d;
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
		c->why = STATE_WHY_RECORDED;
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
		if (c->fired)
			c->why = STATE_WHY_FIRED;
	}
	*cr = d->cr;
}

/* --- deciding ------------------------------------------------------------ */

struct check {
	char	*err;
	size_t	 errlen;
};

static bool
check_visit(struct store *st, struct buf *k, enum ent_kind kind, void *p)
{
	const struct ent *e = ent_find(st, k->data, k->len);
	struct check *ck = p;

	(void)kind;
	if (e != NULL && e->resident)
		return true;
	if (ck->err != NULL && ck->errlen > 0)
		snprintf(ck->err, ck->errlen, "state %.*s is not loaded",
	    (int)(k->len > 200 ? 200 : k->len), k->data);
	return false;
}

/*
 * store_decide: the candidates in order (a firing is remembered for
 * "after" before the next candidate is decided), then the case and its
 * escalation schedule (store_case.c). Allocates only what the store
 * keeps. Per candidate O(1) amortised in order, O(window) for late
 * events, min/max and non-integral sums; plus O(events + rules + steps)
 * of the case.
 */
int
store_decide(struct store *st, struct state_req *req, struct case_ref *cr,
    char *err, size_t errlen)
{
	struct check ck = { err, errlen };
	const struct done *d;
	size_t i;

	memset(cr, 0, sizeof(*cr));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (st->o.backed) {
		/* Found resident by store_needs in this epoch: nothing it
		 * marked used has been evicted since (store_write.c). */
		if (req->resident_at != st->epoch &&
		    !store_walk(st, req, check_visit, &ck))
			return -1;
	} else if ((d = hm_get(&st->done, req->entry_id,
	    strlen(req->entry_id))) != NULL) {
		replay(d, req, cr);
		return 0;
	}
	for (i = 0; i < req->n; i++) {
		decide_one(st, req, &req->c[i]);
		if (req->c[i].fired)
			remember(st, req, &req->c[i]);
	}
	case_decide(st, req, cr);
	if (!st->o.backed)
		record(st, req, cr);
	return 0;
}
