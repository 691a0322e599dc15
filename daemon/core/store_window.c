/*
 * store_window.c — the sections of KEY entities (store_int.h): a rule's
 * window points (sorted by time; equal times in arrival order, values
 * alongside for aggregates) and its firing times (sorted), with what they
 * keep. store_decide.c says what they mean.
 *
 * Points older than 2 * within before the newest are dropped when a point
 * joins; firing times older than the rule's firing horizon (fire_keep)
 * likewise. Both rules depend only on the section itself, so a section
 * reloaded from Redis decides as one that never left memory.
 *
 * Costs. A point in time order costs O(1) amortised to join (appended;
 * the front is dropped by moving an offset, compacted now and then) and
 * O(log n) to count; an aggregate keeps running totals of the window
 * ending at its newest point, exact (integers) whenever the values are
 * integers. A late point costs a memmove of the points after it.
 *
 * Time arithmetic. Event times of validated events are 0 .. EVT_TS_MAX
 * seconds and every duration of a configuration at most 10 years; the
 * store does not rely on that: every time sum and difference saturates
 * (tadd, tsub), and a range whose ends cross is empty.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define INT_EXACT	9007199254740992LL	/* 2^53 */

int64_t
tadd(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

int64_t
tsub(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* --- sections -------------------------------------------------------------- */

void
sect_free(struct sect *s)
{
	free(s->name);
	free(s->t);
	free(s->v);
	free(s->tc);
	free(s->vc);
	free(s->f);
	memset(s, 0, sizeof(*s));
}

/* sect_get: the section (type, name) of ks, created empty when create is
 * true, else NULL when absent. O(sections). */
struct sect *
sect_get(struct kstate *ks, enum sect_type type, const char *name,
    bool create)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (ks->s[i].type == type && strcmp(ks->s[i].name, name) == 0)
			return &ks->s[i];
	return create ? sect_new(ks, type, name) : NULL;
}

struct sect *
sect_new(struct kstate *ks, enum sect_type type, const char *name)
{
	struct sect *s;

	if (ks->n == ks->cap) {
		/* a key holds a section or two (one per rule keyed on its
		 * field), and a section is ~200 bytes: no spare room */
		ks->cap = ks->cap ? ks->cap * 2 : 1;
		ks->s = xreallocarray(ks->s, ks->cap, sizeof(*ks->s));
	}
	s = &ks->s[ks->n++];
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->name = xstrdup(name);
	s->ridx = -1;
	return s;
}

/* newest: the section's newest time (point or firing); INT64_MIN when
 * it is empty. */
int64_t
newest(const struct sect *s)
{
	int64_t t = INT64_MIN;

	if (s->n > 0)
		t = pt_t(s, s->off + s->n - 1);
	if (s->nf > 0 && s->f[s->nf - 1] > t)
		t = s->f[s->nf - 1];
	return t;
}

/* lateness: how late an event may be for cooldowns (store.h). With no
 * bound on the past any event may be late by any amount, so every firing
 * time is kept: firings of one key are at least a cooldown apart, so
 * that is at most one time per cooldown of history. */
static int64_t
lateness(const struct store *st, int64_t cooldown)
{
	(void)cooldown;
	if (st->o.past_skew_ms <= 0)
		return INT64_MAX;
	return tadd(st->o.past_skew_ms, st->o.future_skew_ms > 0 ?
	    st->o.future_skew_ms : 0);
}

/* fire_keep: how far before the newest time r's firing times matter:
 * count crossings look back 2 * within, cooldowns cooldown + lateness. */
int64_t
fire_keep(const struct store *st, const struct rule *r)
{
	int64_t k = 0, w;

	if (r->cooldown_ms > 0)
		k = tadd(r->cooldown_ms, lateness(st, r->cooldown_ms));
	if (r->has_count) {
		w = tadd(r->count.within_ms, r->count.within_ms);
		if (w > k)
			k = w;
	}
	return k;
}

/* pts_keep: how far before the newest point r's points matter. */
static int64_t
pts_keep(const struct rule *r, enum sect_type type)
{
	int64_t w = 0;

	if (type == ST_COUNT && r->has_count)
		w = r->count.within_ms;
	else if (type == ST_AGG && r->has_aggregate)
		w = r->aggregate.within_ms;
	else if (type == ST_MEMO)
		w = r->remember_ms;
	return tadd(w, w);
}

int64_t
ks_expiry(const struct store *st, struct kstate *ks, int64_t cut)
{
	const struct rule *r;
	int64_t exp = INT64_MIN, end, keep;
	size_t i = 0;

	while (i < ks->n) {
		struct sect *s = &ks->s[i];

		r = st->o.cf != NULL ? config_rule(st->o.cf, s->name) : NULL;
		keep = 0;
		if (r != NULL) {
			keep = pts_keep(r, s->type);
			if (s->type != ST_MEMO && fire_keep(st, r) > keep)
				keep = fire_keep(st, r);
		}
		end = tadd(newest(s), keep);
		if (end < cut) {
			sect_free(s);
			memmove(s, s + 1, (ks->n - i - 1) * sizeof(*s));
			ks->n--;
			ks->resnap = true;	/* the log's places moved */
			continue;
		}
		if (end > exp)
			exp = end;
		i++;
	}
	return exp;
}

/* win_first: the index (relative to off) of the first point with time >
 * lim (>= lim when !strict). O(log n). */
size_t
win_first(const struct sect *s, int64_t lim, bool strict)
{
	size_t a = 0, b = s->n, m;
	int64_t x;

	while (a < b) {
		m = a + (b - a) / 2;
		x = pt_t(s, s->off + m);
		if (x < lim || (strict && x == lim))
			a = m + 1;
		else
			b = m;
	}
	return a;
}

/* win_range: the points with lo <= t <= hi are [*first, *first + n) (relative
 * to off); none when lo > hi. */
size_t
win_range(const struct sect *s, int64_t lo, int64_t hi, size_t *first)
{
	size_t end;

	*first = win_first(s, lo, false);
	end = win_first(s, hi, true);
	return end > *first ? end - *first : 0;
}

/* fits: (t, v) can be a compact point of s (base set). */
static bool
fits(const struct sect *s, int64_t t, double v)
{
	int64_t d = tsub(t, s->base);

	return d >= INT32_MIN && d <= INT32_MAX && (s->type != ST_AGG ||
	    (v == floor(v) && v >= INT16_MIN && v <= INT16_MAX));
}

/* widen: s's points in the wide arrays from now on. O(n). */
static void
widen(struct sect *s)
{
	size_t i, cap = s->cap ? s->cap : 8;

	if (s->wide)
		return;
	s->t = xreallocarray(NULL, cap, sizeof(*s->t));
	if (s->type == ST_AGG)
		s->v = xreallocarray(NULL, cap, sizeof(*s->v));
	for (i = s->off; i < s->off + s->n; i++) {
		s->t[i] = s->base + s->tc[i];
		if (s->v != NULL)
			s->v[i] = s->vc[i];
	}
	free(s->tc);
	free(s->vc);
	s->tc = NULL;
	s->vc = NULL;
	s->cap = cap;
	s->wide = true;
}

void
sect_points(struct sect *s, int64_t *t, double *v, size_t n)
{
	size_t i;

	s->off = 0;
	if (n == 0) {
		free(t);
		free(v);
		return;
	}
	s->t = t;
	s->v = v;
	s->n = s->cap = n;
	s->wide = true;
	s->base = t[0];
	for (i = 0; i < n; i++)
		if (!fits(s, t[i], v != NULL ? v[i] : 0))
			return;
	s->tc = xreallocarray(NULL, n, sizeof(*s->tc));
	if (s->type == ST_AGG)
		s->vc = xreallocarray(NULL, n, sizeof(*s->vc));
	for (i = 0; i < n; i++) {
		s->tc[i] = (int32_t)(t[i] - s->base);
		if (s->vc != NULL)
			s->vc[i] = (int16_t)v[i];
	}
	free(s->t);
	free(s->v);
	s->t = NULL;
	s->v = NULL;
	s->wide = false;
}

/* room: space for one more point at the end of the arrays. */
static void
room(struct sect *s)
{
	size_t cap;

	if (s->off + s->n < s->cap)
		return;
	if (s->off > 0 && s->off >= s->n) {
		if (s->wide) {
			memmove(s->t, s->t + s->off, s->n * sizeof(*s->t));
			if (s->v != NULL)
				memmove(s->v, s->v + s->off, s->n *
				    sizeof(*s->v));
		} else {
			memmove(s->tc, s->tc + s->off, s->n * sizeof(*s->tc));
			if (s->vc != NULL)
				memmove(s->vc, s->vc + s->off, s->n *
				    sizeof(*s->vc));
		}
		if (s->run)
			s->rlo -= s->off;
		s->off = 0;
		return;
	}
	cap = s->cap ? s->cap + s->cap / 2 + 8 : 8;
	if (s->wide) {
		s->t = xreallocarray(s->t, cap, sizeof(*s->t));
		if (s->type == ST_AGG)
			s->v = xreallocarray(s->v, cap, sizeof(*s->v));
	} else {
		s->tc = xreallocarray(s->tc, cap, sizeof(*s->tc));
		if (s->type == ST_AGG)
			s->vc = xreallocarray(s->vc, cap, sizeof(*s->vc));
	}
	s->cap = cap;
}

/* shift: open index abs of the arrays (the points from abs move up). */
static void
shift(struct sect *s, size_t abs)
{
	size_t k = s->off + s->n - abs;

	if (s->wide) {
		memmove(&s->t[abs + 1], &s->t[abs], k * sizeof(*s->t));
		if (s->v != NULL)
			memmove(&s->v[abs + 1], &s->v[abs], k * sizeof(*s->v));
	} else {
		memmove(&s->tc[abs + 1], &s->tc[abs], k * sizeof(*s->tc));
		if (s->vc != NULL)
			memmove(&s->vc[abs + 1], &s->vc[abs], k *
			    sizeof(*s->vc));
	}
}

/* small: v counts as an integer in the running totals. */
static bool
small(double v)
{
	return v == floor(v) && fabs(v) < (double)INT_EXACT;
}

/* run_add: point (t, v) joins (sign 1) or leaves (-1) the running
 * totals; false when they can no longer be kept exactly. */
static bool
run_add(struct sect *s, double v, int sign)
{
	int64_t x;

	s->rn += sign;
	if (v >= 9)
		s->rpro += sign;
	else if (v <= 6)
		s->rdet += sign;
	if (!small(v)) {
		s->rodd += sign;
		return true;
	}
	x = (int64_t)v * sign;
	if (__builtin_add_overflow(s->rsum, x, &s->rsum))
		return false;
	return true;
}

/* win_run: the running totals of [tmax - within, tmax] from the
 * points. O(window). */
void
win_run(struct sect *s, int64_t within)
{
	size_t first, n, i;

	s->run = false;
	s->rn = s->rpro = s->rdet = s->rodd = 0;
	s->rsum = 0;
	if (s->n == 0)
		return;
	n = win_range(s, tsub(pt_t(s, s->off + s->n - 1), within),
	    pt_t(s, s->off + s->n - 1), &first);
	s->rlo = s->off + first;
	for (i = 0; i < n; i++)
		if (!run_add(s, pt_v(s, s->rlo + i), 1))
			return;
	s->rwithin = within;
	s->run = true;
}

/*
 * pts_add: insert (t, v) after every point at or before t, then drop the
 * points older than the newest minus keep. Keeps an aggregate's running
 * totals (for window within) when they are valid. Returns true when t is
 * the newest point (the event is in time order). O(1) amortised in
 * order, O(n) late.
 */
bool
pts_add(struct sect *s, int64_t t, double v, int64_t keep, int64_t within)
{
	size_t i, abs, drop;
	int64_t lim;
	bool last;

	if (s->n == 0 && !s->wide)
		s->base = t;
	if (!s->wide && !fits(s, t, v))
		widen(s);
	room(s);
	i = s->n;
	if (s->n > 0 && pt_t(s, s->off + s->n - 1) > t)
		i = win_first(s, t, true);
	last = i == s->n;
	abs = s->off + i;
	if (!last)
		shift(s, abs);
	if (s->wide) {
		s->t[abs] = t;
		if (s->v != NULL)
			s->v[abs] = v;
	} else {
		s->tc[abs] = (int32_t)(t - s->base);
		if (s->vc != NULL)
			s->vc[abs] = (int16_t)v;
	}
	s->n++;
	if (s->run && s->rwithin != within)
		s->run = false;
	if (s->run) {
		/* a late point before the running window shifts it; one in
		 * it (or a new newest point) joins its totals */
		if (!last && t < tsub(pt_t(s, s->off + s->n - 1), within))
			s->rlo++;
		else if (!run_add(s, v, 1))
			s->run = false;
		/* in order: the window's start moves up to t - within */
		lim = tsub(t, within);
		while (s->run && last && pt_t(s, s->rlo) < lim) {
			if (!run_add(s, pt_v(s, s->rlo), -1))
				s->run = false;
			s->rlo++;
		}
	}
	lim = tsub(pt_t(s, s->off + s->n - 1), keep);
	for (drop = 0; drop < s->n && pt_t(s, s->off + drop) < lim; drop++)
		;
	s->off += drop;
	s->n -= drop;
	if (s->run && s->rlo < s->off)
		s->run = false;
	if (s->n == 0)
		s->off = 0;
	return last;
}

/* fires_prune: drop firing times older than the section's newest time
 * minus keep. */
void
fires_prune(struct sect *s, int64_t keep)
{
	int64_t lim = tsub(newest(s), keep);
	size_t drop;

	for (drop = 0; drop < s->nf && s->f[drop] < lim; drop++)
		;
	if (drop > 0) {
		memmove(s->f, s->f + drop, (s->nf - drop) * sizeof(*s->f));
		s->nf -= drop;
	}
}

/* fires_add: record a firing at t (after equal ones), then prune. */
void
fires_add(struct sect *s, int64_t t, int64_t keep)
{
	size_t i;

	if (s->nf == s->capf) {
		s->capf = s->capf ? s->capf * 2 : 4;
		s->f = xreallocarray(s->f, s->capf, sizeof(*s->f));
	}
	for (i = s->nf; i > 0 && s->f[i - 1] > t; i--)
		;
	memmove(&s->f[i + 1], &s->f[i], (s->nf - i) * sizeof(*s->f));
	s->f[i] = t;
	s->nf++;
	fires_prune(s, keep);
}

/* rule_of: the rule a section belongs to in the running configuration,
 * or NULL (a rule removed or changed kind: nothing is dropped). */
static const struct rule *
rule_of(const struct store *st, const struct sect *s)
{
	const struct rule *r;

	if (st->o.cf == NULL || (r = config_rule(st->o.cf, s->name)) == NULL)
		return NULL;
	if ((s->type == ST_COUNT && !r->has_count) ||
	    (s->type == ST_AGG && !r->has_aggregate))
		return NULL;
	return r;
}

void
sect_replay_point(const struct store *st, struct sect *s, int64_t t,
    double v)
{
	const struct rule *r = rule_of(st, s);
	int64_t keep = r != NULL ? pts_keep(r, s->type) : INT64_MAX;

	(void)pts_add(s, t, v, keep, keep / 2);
	if (r != NULL && s->type != ST_MEMO)
		fires_prune(s, fire_keep(st, r));
}

void
sect_replay_fire(const struct store *st, struct sect *s, int64_t t)
{
	const struct rule *r = rule_of(st, s);

	fires_add(s, t, r != NULL ? fire_keep(st, r) : INT64_MAX);
}

