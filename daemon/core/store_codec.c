/*
 * store_codec.c — the Redis values of the store's entities (store.h).
 *
 * KEY entity: a binary string, compact because there is one per active
 * customer (and agent, queue...): a snapshot of its sections, then the
 * records of what changed since, appended commit by commit:
 *   version byte 1, then per section of the snapshot:
 *     type byte ('c' count, 'a' aggregate, 'f' firings, 'm' memory),
 *     varint name length, the rule name,
 *     varint number of points, then the first time (zigzag varint, ms)
 *       and the gaps to each next one (varint: times are sorted),
 *     'a': the values, each a varint: zigzag(integer) * 2, or 1 followed
 *       by an 8-byte little-endian IEEE double,
 *     except 'm': varint number of firings, first time, gaps;
 *   then records, each naming a section by its index (the snapshot's in
 *   order, then those records 'S' add):
 *     'S' type, varint name length, name: a new section;
 *     'P' index, zigzag delta from the section's last logged point time,
 *       and for aggregates the value (as in the snapshot);
 *     'F' index, delta from the last logged firing: a firing time.
 * Loading replays the records through the same insertions and drops as
 * deciding made them, so the state is the one that was written. A hot
 * key (an agent's aggregate window of thousands of points) then costs a
 * few bytes per event and commit; the store rewrites the snapshot once
 * the records outgrow it (store.c). A customer's typical key (a few
 * rules' firings, a count window) takes a few dozen bytes. Decoding
 * checks every length and sum against the value's end, so a truncated or
 * foreign value is refused, never read past.
 *
 * CASE entity: a hash of texts (README, "Cases and escalation", store.h),
 * written field by field as they change, so that what recoveryctl writes into
 * the same hash (acked_at, note...) stays. Its fields stay short (Redis keeps
 * a hash of values up to 64 bytes as a compact listpack, a third of the
 * memory of a hash table): "steps" names only each step's rule, index and
 * state ("vip-detractor:1r:2p"; delays and channels come from the
 * configuration), and the opening event, a long JSON text, is a string of its
 * own (<prefix>case:<id>:event).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define KS_VERSION	1
#define INT_EXACT	9007199254740992.0	/* 2^53 */

/* --- varints ------------------------------------------------------------- */

static void
put_uv(struct buf *b, uint64_t x)
{
	char tmp[10];
	size_t n = 0;

	while (x >= 0x80) {
		tmp[n++] = (char)(x | 0x80);
		x >>= 7;
	}
	tmp[n++] = (char)x;
	buf_append(b, tmp, n);
}

static void
put_sv(struct buf *b, int64_t x)
{
	put_uv(b, ((uint64_t)x << 1) ^ (uint64_t)(x >> 63));
}

struct rd {
	const unsigned char	*p, *end;
	bool			 bad;
};

static uint64_t
get_uv(struct rd *r)
{
	uint64_t x = 0;
	unsigned shift = 0;

	while (r->p < r->end && shift < 64) {
		unsigned char c = *r->p++;

		if (shift == 63 && c > 1)
			break;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return x;
		shift += 7;
	}
	r->bad = true;
	return 0;
}

static int64_t
get_sv(struct rd *r)
{
	uint64_t u = get_uv(r);

	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* get_count: a count of items of at least min bytes each that the rest
 * of the value can hold. */
static size_t
get_count(struct rd *r, size_t min)
{
	uint64_t n = get_uv(r);

	if (r->bad || n > (uint64_t)(r->end - r->p) / (min ? min : 1)) {
		r->bad = true;
		return 0;
	}
	return (size_t)n;
}

/* --- times ---------------------------------------------------------------- */

static void
put_times(struct buf *b, const int64_t *t, size_t n)
{
	size_t i;

	put_uv(b, n);
	if (n == 0)
		return;
	put_sv(b, t[0]);
	for (i = 1; i < n; i++)	/* sorted: the gap is >= 0, fits uint64 */
		put_uv(b, (uint64_t)t[i] - (uint64_t)t[i - 1]);
}

/* get_times: n sorted times into a new array (*out, NULL for none). */
static size_t
get_times(struct rd *r, int64_t **out)
{
	size_t n = get_count(r, 1), i;
	uint64_t gap;
	int64_t *t;

	*out = NULL;
	if (n == 0)
		return 0;
	t = xreallocarray(NULL, n, sizeof(*t));
	t[0] = get_sv(r);
	for (i = 1; i < n && !r->bad; i++) {
		gap = get_uv(r);
		if (gap > (uint64_t)INT64_MAX - (uint64_t)t[i - 1]) {
			r->bad = true;
			break;
		}
		t[i] = (int64_t)((uint64_t)t[i - 1] + gap);
	}
	if (r->bad) {
		free(t);
		return 0;
	}
	*out = t;
	return n;
}

static bool
integral(double v)
{
	return v == floor(v) && fabs(v) < INT_EXACT;
}

/* put_val / get_val: an aggregate's value (see the top of the file). */
static void
put_val(struct buf *b, double x)
{
	uint64_t bits;
	char le[8];
	int k;

	if (integral(x)) {
		int64_t i = (int64_t)x;

		put_uv(b, (((uint64_t)i << 1) ^ (uint64_t)(i >> 63)) << 1);
		return;
	}
	put_uv(b, 1);
	memcpy(&bits, &x, sizeof(bits));
	for (k = 0; k < 8; k++)
		le[k] = (char)(bits >> (8 * k));
	buf_append(b, le, 8);
}

static bool
get_val(struct rd *r, double *x)
{
	uint64_t u = get_uv(r), bits;
	int k;

	if (r->bad)
		return false;
	if (u != 1) {
		if (u & 1)
			return false;
		u >>= 1;
		*x = (double)((int64_t)(u >> 1) ^ -(int64_t)(u & 1));
		return true;
	}
	if (r->end - r->p < 8)
		return false;
	for (bits = 0, k = 7; k >= 0; k--)
		bits = (bits << 8) | r->p[k];
	r->p += 8;
	memcpy(x, &bits, sizeof(bits));
	return isfinite(*x);
}

/* --- KEY entities ---------------------------------------------------------- */

void
ks_encode(struct kstate *ks, struct buf *out)
{
	struct sect *s;
	size_t i, j, len;

	buf_putc(out, KS_VERSION);
	for (i = 0; i < ks->n; i++) {
		s = &ks->s[i];
		buf_putc(out, (char)s->type);
		len = strlen(s->name);
		put_uv(out, len);
		buf_append(out, s->name, len);
		put_uv(out, s->n);	/* as put_times, from pt_t */
		for (j = 0; j < s->n; j++)
			if (j == 0)
				put_sv(out, pt_t(s, s->off));
			else
				put_uv(out, (uint64_t)pt_t(s, s->off + j) -
				    (uint64_t)pt_t(s, s->off + j - 1));
		if (s->type == ST_AGG)
			for (j = 0; j < s->n; j++)
				put_val(out, pt_v(s, s->off + j));
		if (s->type != ST_MEMO)
			put_times(out, s->f, s->nf);
		s->ridx = (int)i;
		s->lref = s->n > 0 ? pt_t(s, s->off + s->n - 1) : 0;
		s->fref = s->nf > 0 ? s->f[s->nf - 1] : 0;
	}
	ks->rsect = (int)ks->n;
	buf_reset(&ks->log);
}

/* logged: s named in the log (an 'S' record the first time). */
static void
logged(struct kstate *ks, struct sect *s)
{
	size_t len;

	if (s->ridx >= 0)
		return;
	buf_putc(&ks->log, 'S');
	buf_putc(&ks->log, (char)s->type);
	len = strlen(s->name);
	put_uv(&ks->log, len);
	buf_append(&ks->log, s->name, len);
	s->ridx = ks->rsect++;
	s->lref = s->fref = 0;
}

void
log_point(struct kstate *ks, struct sect *s, int64_t t, double v)
{
	logged(ks, s);
	buf_putc(&ks->log, 'P');
	put_uv(&ks->log, (uint64_t)s->ridx);
	put_sv(&ks->log, (int64_t)((uint64_t)t - (uint64_t)s->lref));
	if (s->type == ST_AGG)
		put_val(&ks->log, v);
	s->lref = t;
}

void
log_fire(struct kstate *ks, struct sect *s, int64_t t)
{
	logged(ks, s);
	buf_putc(&ks->log, 'F');
	put_uv(&ks->log, (uint64_t)s->ridx);
	put_sv(&ks->log, (int64_t)((uint64_t)t - (uint64_t)s->fref));
	s->fref = t;
}

static bool
sect_type_ok(int c)
{
	return c == ST_COUNT || c == ST_AGG || c == ST_FIRE || c == ST_MEMO;
}

/* get_sect: one section into s (zeroed); false when it does not decode. */
static bool
get_sect(struct rd *r, struct sect *s)
{
	size_t len, j, n;
	int64_t *t;
	double *v = NULL;

	if (r->p >= r->end || !sect_type_ok(*r->p))
		return false;
	s->type = (enum sect_type)*r->p++;
	len = get_count(r, 1);
	if (r->bad || len == 0 || memchr(r->p, '\0', len) != NULL)
		return false;
	s->name = xstrndup((const char *)r->p, len);
	r->p += len;
	n = get_times(r, &t);
	if (r->bad)
		return false;
	if (s->type == ST_AGG) {
		v = xcalloc(n ? n : 1, sizeof(*v));
		for (j = 0; j < n; j++)
			if (!get_val(r, &v[j])) {
				free(t);
				free(v);
				return false;
			}
	}
	sect_points(s, t, v, n);
	if (s->type != ST_MEMO)
		s->nf = s->capf = get_times(r, &s->f);
	return !r->bad;
}

/* find: the section (type, name) of ks, or NULL. */
static struct sect *
find(struct kstate *ks, int type, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (ks->s[i].type == (enum sect_type)type &&
		    strlen(ks->s[i].name) == len &&
		    memcmp(ks->s[i].name, name, len) == 0)
			return &ks->s[i];
	return NULL;
}

/* get_record: one record applied to ks; false when it does not decode.
 * Deltas wrap as they were written (uint64_t), giving back the time. */
static bool
get_record(const struct store *st, struct rd *r, struct kstate *ks)
{
	int op = *r->p++, type;
	struct sect *s;
	size_t len, idx;
	int64_t t;
	double v = 0;

	if (op == 'S') {
		if (r->p >= r->end || !sect_type_ok(*r->p))
			return false;
		type = *r->p++;
		len = get_count(r, 1);
		if (r->bad || len == 0 || memchr(r->p, '\0', len) != NULL ||
		    find(ks, type, (const char *)r->p, len) != NULL)
			return false;
		s = sect_new(ks, (enum sect_type)type, "");
		free(s->name);
		s->name = xstrndup((const char *)r->p, len);
		r->p += len;
		s->ridx = ks->rsect++;
		s->lref = s->fref = 0;
		return true;
	}
	if (op != 'P' && op != 'F')
		return false;
	idx = (size_t)get_uv(r);
	if (r->bad)
		return false;
	for (s = NULL, len = 0; len < ks->n; len++)
		if (ks->s[len].ridx >= 0 && (size_t)ks->s[len].ridx == idx)
			s = &ks->s[len];
	if (s == NULL || (op == 'F' && s->type == ST_MEMO))
		return false;
	t = (int64_t)((uint64_t)(op == 'F' ? s->fref : s->lref) +
	    (uint64_t)get_sv(r));
	if (op == 'F') {
		if (r->bad)
			return false;
		sect_replay_fire(st, s, t);
		s->fref = t;
		return true;
	}
	if (r->bad || (s->type == ST_AGG && !get_val(r, &v)))
		return false;
	sect_replay_point(st, s, t, v);
	s->lref = t;
	return true;
}

int
ks_decode(const struct store *st, struct kstate *ks, const char *val,
    size_t len)
{
	struct rd r = { (const unsigned char *)val,
	    (const unsigned char *)val + len, false };
	struct sect s;
	size_t i;

	kstate_clear(ks);
	if (len == 0 || *r.p++ != KS_VERSION)
		return -1;
	/* the snapshot's sections */
	while (r.p < r.end && sect_type_ok(*r.p)) {
		memset(&s, 0, sizeof(s));
		if (!get_sect(&r, &s) ||
		    find(ks, s.type, s.name, strlen(s.name)) != NULL) {
			sect_free(&s);
			goto bad;
		}
		if (ks->n == ks->cap) {
			ks->cap = ks->cap ? ks->cap * 2 : 4;
			ks->s = xreallocarray(ks->s, ks->cap, sizeof(*ks->s));
		}
		s.ridx = (int)ks->n;
		s.lref = s.n > 0 ? pt_t(&s, s.n - 1) : 0;
		s.fref = s.nf > 0 ? s.f[s.nf - 1] : 0;
		ks->s[ks->n++] = s;
	}
	ks->rsect = (int)ks->n;
	ks->rsnap = (size_t)(r.p - (const unsigned char *)val);
	/* then the records */
	while (r.p < r.end)
		if (!get_record(st, &r, ks) || r.bad)
			goto bad;
	ks->rlen = len;
	for (i = 0; i < ks->n; i++)
		ks->s[i].run = false;
	return 0;
bad:
	kstate_clear(ks);
	return -1;
}

/* --- CASE entities ------------------------------------------------------- */

static const char *const state_names[] = { "open", "acknowledged",
    "resolved", "reopened" };

const char *
case_state_name(enum case_state s)
{
	return (size_t)s < ARRAY_LEN(state_names) ? state_names[s] : "open";
}

void
case_steps_text(const struct scase *cs, struct buf *out)
{
	size_t i, j;
	bool *done = xcalloc(cs->nst ? cs->nst : 1, sizeof(*done));

	/* per rule, its steps: "vip-detractor:1r:2p high-complaint:1p" */
	for (i = 0; i < cs->nst; i++) {
		if (done[i])
			continue;
		buf_printf(out, "%s%s", out->len ? " " : "", cs->st[i].rule);
		for (j = i; j < cs->nst; j++)
			if (!done[j] && strcmp(cs->st[j].rule,
			    cs->st[i].rule) == 0) {
				done[j] = true;
				buf_printf(out, ":%d%c", cs->st[j].step,
				    cs->st[j].run ? 'r' : 'p');
			}
	}
	free(done);
	if (out->data == NULL)
		buf_append(out, "", 0);
}

/* parse_steps: the "steps" field into cs->st (their signatures come
 * from the configuration: case_sigs); false when a step does not parse
 * (those that do are kept). */
static bool
parse_steps(struct scase *cs, const char *v, size_t len)
{
	const char *p = v, *end = v + len, *tok, *col, *q, *seg;
	struct cstep *s;
	size_t tl;
	long step;
	bool ok = true;

	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		tok = p;
		while (p < end && *p != ' ')
			p++;
		tl = (size_t)(p - tok);
		if ((col = memchr(tok, ':', tl)) == NULL || col == tok) {
			ok = false;
			continue;
		}
		for (seg = col; seg < p; seg = q) {
			for (q = seg + 1, step = 0; q < p && *q >= '0' &&
			    *q <= '9' && step < 1000000; q++)
				step = step * 10 + (*q - '0');
			if (q == seg + 1 || q >= p || (*q != 'p' && *q != 'r') ||
			    step < 1 || step >= 1000000 ||
			    (q + 1 < p && q[1] != ':')) {
				ok = false;
				break;
			}
			cs->st = xreallocarray(cs->st, cs->nst + 1,
			    sizeof(*cs->st));
			s = &cs->st[cs->nst++];
			memset(s, 0, sizeof(*s));
			s->rule = xstrndup(tok, (size_t)(col - tok));
			s->chans = xstrdup("");
			s->after_ms = -1;
			s->step = (int)step;
			s->run = *q == 'r';
			q++;
		}
	}
	return ok;
}

static bool
is(const char *f, size_t fl, const char *name)
{
	return fl == strlen(name) && memcmp(f, name, fl) == 0;
}

/* int_of: a decimal integer field. */
static bool
int_of(const char *v, size_t len, int64_t lo, int64_t hi, int64_t *out)
{
	char buf[32], *end;
	long long x;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, v, len);
	buf[len] = '\0';
	x = strtoll(buf, &end, 10);
	if (*end != '\0' || x < lo || x > hi)
		return false;
	*out = x;
	return true;
}

static void
set_text(char **dst, const char *v, size_t len)
{
	free(*dst);
	*dst = xstrndup(v, len);
}

int
case_decode(struct scase *cs, const char *const *fields, const size_t *flens,
    const char *const *vals, const size_t *vlens, size_t n)
{
	const char *f, *v;
	size_t i, fl, vl, k;
	double when;
	int64_t x, reopened = 0;
	bool ok = true, have_ms = false;
	int sev;
	char tmp[64];

	cs->exists = true;
	cs->state = CASE_OPEN;
	cs->severity = SEV_LOW;
	for (i = 0; i < n; i++) {
		f = fields[i];
		fl = flens[i];
		v = vals[i];
		vl = vlens[i];
		if (memchr(v, '\0', vl) != NULL && !is(f, fl, "event"))
			continue;	/* texts only */
		if (is(f, fl, "customer_id"))
			set_text(&cs->customer, v, vl);
		else if (is(f, fl, "call_id"))
			set_text(&cs->call, v, vl);
		else if (is(f, fl, "agent_id"))
			set_text(&cs->agent, v, vl);
		else if (is(f, fl, "queue"))
			set_text(&cs->queue, v, vl);
		else if (is(f, fl, "entry"))
			set_text(&cs->entry, v, vl);
		else if (is(f, fl, "acked_by"))
			set_text(&cs->acked_by, v, vl);
		else if (is(f, fl, "acked_at"))
			set_text(&cs->acked_at, v, vl);
		else if (is(f, fl, "resolved_at")) {
			set_text(&cs->resolved_at, v, vl);
			if (vl > 0 && parse_rfc3339(v, vl, &when) == 0)
				cs->resolved_ms = (int64_t)llround(when * 1000);
		} else if (is(f, fl, "owner"))
			set_text(&cs->owner, v, vl);
		else if (is(f, fl, "resolved_by"))
			set_text(&cs->resolved_by, v, vl);
		else if (is(f, fl, "resolution_code"))
			set_text(&cs->code, v, vl);
		else if (is(f, fl, "reopened")) {
			if (int_of(v, vl, 0, 1000000, &x))
				cs->reopened = (int)x;
			else
				ok = false;
		} else if (is(f, fl, "reopened_at")) {
			if (vl > 0 && parse_rfc3339(v, vl, &when) == 0)
				reopened = (int64_t)llround(when * 1000);
		} else if (is(f, fl, "due_at")) {
			if (vl > 0 && parse_rfc3339(v, vl, &when) == 0)
				cs->due_ms = (int64_t)llround(when * 1000);
		} else if (is(f, fl, "outcome")) {
			if (vl > 0)
				set_text(&cs->outcome, v, vl);
		} else if (is(f, fl, "outcome_at")) {
			if (vl > 0 && parse_rfc3339(v, vl, &when) == 0)
				cs->outcome_ms = (int64_t)llround(when * 1000);
		} else if (is(f, fl, "first_contact_at")) {
			if (vl > 0 && parse_rfc3339(v, vl, &when) == 0)
				cs->contact_ms = (int64_t)llround(when * 1000);
		} else if (is(f, fl, "outcomes")) {
			buf_reset(&cs->outcomes);
			buf_append(&cs->outcomes, v, vl);
		} else if (is(f, fl, "ratings_after")) {
			buf_reset(&cs->afters);
			buf_append(&cs->afters, v, vl);
		} else if (is(f, fl, "rating_before"))
			set_text(&cs->before, v, vl);
		else if (is(f, fl, "rating_after"))
			set_text(&cs->after, v, vl);
		else if (is(f, fl, "rules")) {
			buf_reset(&cs->rules);
			buf_append(&cs->rules, v, vl);
		} else if (is(f, fl, "events")) {
			buf_reset(&cs->events);
			buf_append(&cs->events, v, vl);
		} else if (is(f, fl, "event")) {
			free(cs->event);
			cs->event = xstrndup(v, vl);
			cs->eventlen = vl;
		} else if (is(f, fl, "state")) {
			for (k = 0; k < ARRAY_LEN(state_names); k++)
				if (is(v, vl, state_names[k]))
					break;
			if (k == ARRAY_LEN(state_names))
				ok = false;
			else
				cs->state = (enum case_state)k;
		} else if (is(f, fl, "severity")) {
			snprintf(tmp, sizeof(tmp), "%.*s",
			    (int)(vl < 32 ? vl : 32), v);
			if ((sev = severity_parse(tmp)) == 0)
				ok = false;
			else
				cs->severity = sev;
		} else if (is(f, fl, "opened_ms")) {
			if (int_of(v, vl, INT64_MIN, INT64_MAX, &x)) {
				cs->opened_ms = x;
				have_ms = true;
			} else
				ok = false;
		} else if (is(f, fl, "opened_at") && !have_ms) {
			if (parse_rfc3339(v, vl, &when) == 0)
				cs->opened_ms = (int64_t)llround(when * 1000);
		} else if (is(f, fl, "step")) {
			if (int_of(v, vl, 0, 1000000, &x))
				cs->step = (int)x;
			else
				ok = false;
		} else if (is(f, fl, "steps")) {
			if (!parse_steps(cs, v, vl))
				ok = false;
		}
	}
	cs->base_ms = reopened > 0 ? reopened : cs->opened_ms;
	return ok ? 0 : -1;
}

/* field: one field/value of a write, the value copied into ar. */
static void
field(struct arena *ar, const char **f, size_t *fl, const char **v,
    size_t *vl, size_t *n, const char *name, const char *val, size_t len)
{
	if (*n >= CASE_NFIELDS)
		return;
	f[*n] = name;
	fl[*n] = strlen(name);
	v[*n] = arena_strndup(ar, val != NULL ? val : "", val != NULL ?
	    len : 0);
	vl[*n] = val != NULL ? len : 0;
	(*n)++;
}

#define TEXT(s)	(s), ((s) != NULL ? strlen(s) : 0)

size_t
case_fields(const struct scase *cs, struct arena *ar, const char **f,
    size_t *fl, const char **v, size_t *vl)
{
	unsigned d = cs->dirty;
	size_t n = 0;
	char num[32], when[48];
	struct buf b;
	const char *sev = severity_name(cs->severity);

	if (d & CF_OPEN) {
		field(ar, f, fl, v, vl, &n, "case_id", TEXT(cs->id));
		field(ar, f, fl, v, vl, &n, "customer_id", TEXT(cs->customer));
		format_rfc3339((double)cs->opened_ms / 1000.0, when,
		    sizeof(when));
		field(ar, f, fl, v, vl, &n, "opened_at", TEXT(when));
		(void)fmt_ll(num, (long long)cs->opened_ms);
		field(ar, f, fl, v, vl, &n, "opened_ms", TEXT(num));
		field(ar, f, fl, v, vl, &n, "call_id", TEXT(cs->call));
		field(ar, f, fl, v, vl, &n, "agent_id", TEXT(cs->agent));
		field(ar, f, fl, v, vl, &n, "queue", TEXT(cs->queue));
		field(ar, f, fl, v, vl, &n, "entry", TEXT(cs->entry));
		d |= CF_STATE | CF_SEVERITY | CF_RULES | CF_STEP | CF_STEPS;
		if (cs->acked_by == NULL)
			field(ar, f, fl, v, vl, &n, "acked_by", "", 0);
		if (cs->resolved_at == NULL)
			field(ar, f, fl, v, vl, &n, "resolved_at", "", 0);
	}
	if (d & CF_STATE)
		field(ar, f, fl, v, vl, &n, "state",
		    TEXT(state_names[cs->state]));
	if (d & CF_SEVERITY)
		field(ar, f, fl, v, vl, &n, "severity", TEXT(sev));
	if (d & CF_RULES) {
		field(ar, f, fl, v, vl, &n, "rules", cs->rules.data,
		    cs->rules.len);
		field(ar, f, fl, v, vl, &n, "events", cs->events.data,
		    cs->events.len);
	}
	if (d & CF_STEP) {
		(void)fmt_ll(num, cs->step);
		field(ar, f, fl, v, vl, &n, "step", TEXT(num));
	}
	if ((d & CF_ACK) || ((d & CF_OPEN) && cs->acked_by != NULL)) {
		field(ar, f, fl, v, vl, &n, "acked_by", TEXT(cs->acked_by));
		field(ar, f, fl, v, vl, &n, "acked_at", TEXT(cs->acked_at));
	}
	if ((d & CF_RESOLVED) || ((d & CF_OPEN) && cs->resolved_at != NULL))
		field(ar, f, fl, v, vl, &n, "resolved_at",
		    TEXT(cs->resolved_at));
	if ((d & CF_NOTE) && cs->note != NULL)
		field(ar, f, fl, v, vl, &n, "note", TEXT(cs->note));
	if ((d & CF_RESOLVED) && cs->resolved_by != NULL)
		field(ar, f, fl, v, vl, &n, "resolved_by",
		    TEXT(cs->resolved_by));
	if ((d & CF_RESOLVED) && cs->code != NULL)
		field(ar, f, fl, v, vl, &n, "resolution_code", TEXT(cs->code));
	if ((d & CF_OWNER) || ((d & CF_OPEN) && cs->owner != NULL))
		field(ar, f, fl, v, vl, &n, "owner", TEXT(cs->owner));
	if (d & CF_REOPEN) {
		(void)fmt_ll(num, cs->reopened);
		field(ar, f, fl, v, vl, &n, "reopened", TEXT(num));
		format_rfc3339((double)cs->base_ms / 1000.0, when,
		    sizeof(when));
		field(ar, f, fl, v, vl, &n, "reopened_at", TEXT(when));
	}
	if ((d & CF_OPEN) && cs->before != NULL)
		field(ar, f, fl, v, vl, &n, "rating_before", TEXT(cs->before));
	if (d & CF_OUTCOME) {
		field(ar, f, fl, v, vl, &n, "outcome", TEXT(cs->outcome));
		if (cs->outcome != NULL && cs->outcome_ms > 0)
			format_rfc3339((double)cs->outcome_ms / 1000.0, when,
			    sizeof(when));
		else
			when[0] = '\0';
		field(ar, f, fl, v, vl, &n, "outcome_at", TEXT(when));
		field(ar, f, fl, v, vl, &n, "rating_after", TEXT(cs->after));
		field(ar, f, fl, v, vl, &n, "outcomes", cs->outcomes.data,
		    cs->outcomes.len);
		field(ar, f, fl, v, vl, &n, "ratings_after", cs->afters.data,
		    cs->afters.len);
	}
	if ((d & CF_CONTACT) && cs->contact_ms > 0) {
		format_rfc3339((double)cs->contact_ms / 1000.0, when,
		    sizeof(when));
		field(ar, f, fl, v, vl, &n, "first_contact_at", TEXT(when));
	}
	if (((d & CF_DUE) || (d & CF_OPEN)) && cs->due_ms > 0) {
		format_rfc3339((double)cs->due_ms / 1000.0, when,
		    sizeof(when));
		field(ar, f, fl, v, vl, &n, "due_at", TEXT(when));
	}
	if (d & CF_STEPS) {
		buf_init(&b);
		case_steps_text(cs, &b);
		field(ar, f, fl, v, vl, &n, "steps", b.data, b.len);
		buf_free(&b);
	}
	return n;
}
