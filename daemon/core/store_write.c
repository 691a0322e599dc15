/*
 * store_write.c — the store's writes back to Redis (store.h): each dirty
 * entity as one write, in the order it first changed, then the sorted-set
 * updates; generations, commits and eviction; what the store holds.
 *
 * A KEY entity is written as a snapshot (SET) or, once the store has
 * written one and while it cannot have expired, as an APPEND of the
 * records of this batch's changes (store_codec.c), until the records
 * outgrow the snapshot. Expiries (PX, PEXPIRE) say when nothing in an
 * entity can matter any more (store.h).
 *
 * Eviction (backed, max_entities): only at store_committed, only clean
 * entities whose last write landed, and never one used since the last
 * store_changes: the owner may be deciding the next batch while this
 * one commits, and an entity store_needs found resident must still be
 * there when store_decide runs. Least recently used first.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* --- writing back ---------------------------------------------------------- */

#define TTL_MARGIN_MS	86400000LL	/* backlogs and clocks: a day */
#define APPEND_SAFE_MS	60000LL		/* no APPEND this close to expiry */
#define APPEND_MIN	256		/* records allowed past a small snapshot */
#define TTL_SLACK_MS	3600000LL	/* expiry set past what is needed */

/* key_ttl: the TTL of a KEY entity written at now, 0 for none, -1 when
 * nothing in it matters any more (the sections that do not are dropped). */
static int64_t
key_ttl(struct store *st, struct ent *e, int64_t now_ms)
{
	int64_t exp, late;

	if (st->o.past_skew_ms <= 0)
		return 0;
	late = tadd(st->o.past_skew_ms, TTL_MARGIN_MS);
	/* event time before which a section's end no longer matters */
	exp = ks_expiry(st, &e->u.ks, tsub(now_ms, late));
	if (e->u.ks.n == 0)
		return -1;
	exp = tsub(tadd(exp, late), now_ms);
	return exp < 1000 ? 1000 : exp;
}

static const char *
zset_key(struct store *st, enum zset z)
{
	const char *suffix;

	switch (z) {
	case Z_SCHED:
		return st->sched;
	case Z_CASES:
		suffix = "cases";
		break;
	case Z_DUE:
		suffix = "cases:due";
		break;
	case Z_WATCH:
		suffix = "outcomes:pending";
		break;
	default:
		suffix = "cases:open";
		break;
	}
	buf_reset(&st->kb2);
	buf_puts(&st->kb2, st->prefix);
	buf_puts(&st->kb2, suffix);
	return arena_strndup(&st->out, st->kb2.data, st->kb2.len);
}

/*
 * emit_history: the case's new history entries, appended to its list
 * <key>:history (RPUSH), which keeps the newest cases.history entries
 * (LTRIM; not needed while the list is known to be within that: a case
 * opened here starts a new list, which only this store writes, so its
 * length is counted until the entity leaves the cache; a case loaded
 * from Redis is trimmed at each append) and expires with the case
 * (ttl_ms, when resolved).
 */
static void
emit_history(struct store *st, struct ent *e, bool opened, int64_t ttl_ms,
    store_change_fn fn, void *ctx)
{
	struct scase *cs = &e->u.cs;
	struct store_change ch;
	const char **v;
	size_t *vl, i;

	if (cs->nhist == 0)
		return;
	memset(&ch, 0, sizeof(ch));
	v = arena_alloc(&st->out, cs->nhist * sizeof(*v));
	vl = arena_alloc(&st->out, cs->nhist * sizeof(*vl));
	for (i = 0; i < cs->nhist; i++) {
		vl[i] = strlen(cs->hist[i]);
		v[i] = arena_strndup(&st->out, cs->hist[i], vl[i]);
		free(cs->hist[i]);
	}
	buf_reset(&st->kb);
	buf_append(&st->kb, e->key, e->klen);
	buf_puts(&st->kb, ":history");
	ch.op = SO_RPUSH;
	ch.key = arena_strndup(&st->out, st->kb.data, st->kb.len);
	ch.klen = st->kb.len;
	ch.vals = v;
	ch.vlens = vl;
	ch.n = cs->nhist;
	ch.max = st->o.cf != NULL ? st->o.cf->history_max : 200;
	if (opened) {
		cs->hknown = true;
		cs->hlen = 0;
	}
	if (cs->hknown && ch.max > 0 &&
	    cs->hlen + cs->nhist <= (size_t)ch.max) {
		cs->hlen += cs->nhist;
		ch.max = 0;
	} else if (cs->hknown)
		cs->hlen = (size_t)ch.max;	/* trimmed to it */
	ch.ttl_ms = ttl_ms;
	cs->nhist = 0;
	fn(ctx, &ch);
}

/* cust_ttl: a CUST entity naming a resolved case is kept as long as the
 * case may reopen; one naming an open case does not expire. */
static int64_t
cust_ttl(struct store *st, const char *case_id)
{
	const struct ent *c;

	key_case(st, &st->kb, case_id);
	c = ent_find(st, st->kb.data, st->kb.len);
	if (c == NULL || !c->resident || c->kind != EK_CASE ||
	    !c->u.cs.exists || c->u.cs.state != CASE_RESOLVED)
		return 0;
	return st->o.cf != NULL && st->o.cf->reopen_within_ms > 0 ?
	    st->o.cf->reopen_within_ms + 86400000LL : 86400000LL;
}

/* emit: the write of one dirty entity. */
static void
emit(struct store *st, struct ent *e, int64_t now_ms, store_change_fn fn,
    void *ctx)
{
	const char *f[CASE_NFIELDS], *v[CASE_NFIELDS];
	size_t fl[CASE_NFIELDS], vl[CASE_NFIELDS];
	struct store_change ch;
	struct kstate *ks;
	int64_t ttl;
	size_t i;
	bool opened;

	memset(&ch, 0, sizeof(ch));
	ch.key = e->key;
	ch.klen = e->klen;
	switch (e->kind) {
	case EK_KEY:
		ks = &e->u.ks;
		if ((ttl = key_ttl(st, e, now_ms)) < 0) {
			ch.op = SO_DEL;
			kstate_clear(ks);
			break;
		}
		/*
		 * APPEND this batch's records to the value we wrote, while it
		 * cannot have expired and the records stay within the size of
		 * its snapshot; else (first write, sections dropped, records
		 * grown) rewrite the snapshot: amortised O(1) per record.
		 */
		if (st->o.appends && ks->appendable && !ks->resnap &&
		    ks->log.len > 0 && (ks->rexp == 0 ||
		    now_ms < tsub(ks->rexp, APPEND_SAFE_MS)) &&
		    ks->rlen - ks->rsnap + ks->log.len <=
		    (ks->rsnap > APPEND_MIN ? ks->rsnap : APPEND_MIN)) {
			ch.op = SO_APPEND;
			ch.val = arena_strndup(&st->out, ks->log.data,
			    ks->log.len);
			ch.vlen = ks->log.len;
			ks->rlen += ks->log.len;
			buf_reset(&ks->log);
		} else {
			buf_reset(&st->enc);
			ks_encode(ks, &st->enc);
			ch.op = SO_SET;
			ch.val = arena_strndup(&st->out, st->enc.data,
			    st->enc.len);
			ch.vlen = st->enc.len;
			ks->rlen = ks->rsnap = st->enc.len;
			ks->appendable = true;
			ks->resnap = false;
		}
		/*
		 * The expiry: set a little past what the state needs (up to
		 * an hour, an eighth of the TTL), so that while the key we
		 * wrote lives long enough already, an APPEND goes without
		 * a PEXPIRE: a tenth of a drain's commands (issue 9). Never
		 * shorter than key_ttl asks; at most the slack longer.
		 */
		if (ch.op == SO_APPEND && ttl > 0 && ks->rexp != 0 &&
		    ks->rexp >= tadd(now_ms, ttl))
			ch.ttl_ms = 0;
		else {
			if (ttl > 0)
				ttl = tadd(ttl, ttl / 8 < TTL_SLACK_MS ?
				    ttl / 8 : TTL_SLACK_MS);
			ch.ttl_ms = ttl;
			ks->rexp = ttl > 0 ? tadd(now_ms, ttl) : 0;
		}
		break;
	case EK_CUST:
		if (e->u.cust == NULL) {
			ch.op = SO_DEL;
			break;
		}
		ch.op = SO_SET;
		ch.val = e->u.cust;
		ch.vlen = strlen(e->u.cust);
		/* naming a resolved case: kept while it may reopen */
		ch.ttl_ms = cust_ttl(st, e->u.cust);
		break;
	case EK_OWNERS:
		buf_reset(&st->enc);
		for (i = 0; e->own != NULL && i < e->own->nv; i++)
			if (e->own->v[i].n > 0)
				buf_printf(&st->enc, "%ld %s\n", e->own->v[i].n,
				    e->own->v[i].name);
		if (st->enc.len == 0) {
			ch.op = SO_DEL;
			break;
		}
		ch.op = SO_SET;
		ch.val = arena_strndup(&st->out, st->enc.data, st->enc.len);
		ch.vlen = st->enc.len;
		break;
	case EK_CONTACTS:
		if (e->ncontacts == 0) {
			ch.op = SO_DEL;
			break;
		}
		ch.op = SO_SET;
		buf_reset(&st->enc);
		for (i = 0; i < e->ncontacts; i++)
			buf_printf(&st->enc, "%s%lld", i == 0 ? "" : ",",
			    (long long)e->contacts[i]);
		ch.val = arena_strndup(&st->out, st->enc.data, st->enc.len);
		ch.vlen = st->enc.len;
		/* while they count */
		ch.ttl_ms = (st->o.cf != NULL ? st->o.cf->contact_within_ms :
		    0) + 86400000LL;
		break;
	case EK_EVENT:
		if (e->u.ev.json == NULL)
			return;
		ch.op = SO_SET;
		ch.val = e->u.ev.json;
		ch.vlen = e->u.ev.len;
		ch.ttl_ms = e->u.ev.keep ? case_keep_ms(st) : 0;
		break;
	case EK_CASE:
		if (!e->u.cs.exists || (e->u.cs.dirty == 0 &&
		    e->u.cs.nhist == 0))
			return;
		ch.op = SO_HSET;
		ch.n = case_fields(&e->u.cs, &st->out, f, fl, v, vl);
		ch.fields = f;
		ch.flens = fl;
		ch.vals = v;
		ch.vlens = vl;
		if (e->u.cs.dirty & CF_TTL)
			ch.ttl_ms = case_keep_ms(st);
		opened = (e->u.cs.dirty & CF_OPEN) != 0;
		e->u.cs.dirty = 0;
		if (ch.n > 0)
			fn(ctx, &ch);
		emit_history(st, e, opened, ch.ttl_ms, fn, ctx);
		return;
	}
	fn(ctx, &ch);
}

uint64_t
store_changes(struct store *st, int64_t now_ms, store_change_fn fn,
    void *ctx)
{
	struct store_change ch;
	struct ent *e, *next;
	size_t i;

	arena_reset(&st->out);
	st->gen++;
	st->epoch++;
	for (e = st->dhead; e != NULL; e = next) {
		next = e->dnext;
		e->dnext = NULL;
		e->dirty = false;
		e->wgen = st->gen;
		emit(st, e, now_ms, fn, ctx);
	}
	st->dhead = st->dtail = NULL;
	for (i = 0; i < st->nz; i++) {
		memset(&ch, 0, sizeof(ch));
		if (st->z[i].set == Z_EXPIRE) {
			ch.op = SO_HSET;	/* no fields: PEXPIRE only */
			ch.key = arena_strndup(&st->out, st->z[i].member,
			    strlen(st->z[i].member));
			ch.klen = strlen(ch.key);
			ch.ttl_ms = (int64_t)st->z[i].score;
			fn(ctx, &ch);
			continue;
		}
		ch.op = st->z[i].add ? SO_ZADD : SO_ZREM;
		ch.key = zset_key(st, st->z[i].set);
		ch.klen = strlen(ch.key);
		ch.val = arena_strndup(&st->out, st->z[i].member,
		    strlen(st->z[i].member));
		ch.vlen = strlen(ch.val);
		ch.score = st->z[i].score;
		fn(ctx, &ch);
	}
	zops_clear(st);
	return st->gen;
}

/* evict: beyond max_entities, drop clean entities from the LRU end. */
static void
evict(struct store *st)
{
	struct ent *e, *prev;

	if (!st->o.backed || st->o.max_entities == 0)
		return;
	for (e = st->lru_tail; e != NULL && st->nres > st->o.max_entities;
	    e = prev) {
		prev = e->lprev;
		if (e->dirty || e->wgen > st->committed ||
		    e->used == st->epoch)
			continue;
		lru_unlink(st, e);
		st->nres--;
		st->nevicted++;
		(void)hm_del(&st->ents, e->key, e->klen);
		ent_free(e);
	}
}

void
store_committed(struct store *st, uint64_t gen)
{
	if (gen > st->committed)
		st->committed = gen;
	evict(st);
}

void
store_drop(struct store *st)
{
	store_heap_clear(st);
	hm_free(&st->ents, ent_free_v);
	st->nres = 0;
	st->lru_head = st->lru_tail = NULL;
	st->dhead = st->dtail = NULL;
	zops_clear(st);
	arena_reset(&st->out);
	st->committed = st->gen;
	st->epoch++;
}

/* --- reading -------------------------------------------------------------- */

static size_t
ent_bytes(const struct ent *e)
{
	size_t b = ent_size(e->kind) + e->klen + sizeof(struct hnode), i;

	switch (e->kind) {
	case EK_KEY:
		for (i = 0; i < e->u.ks.n; i++) {
			const struct sect *s = &e->u.ks.s[i];

			b += sizeof(*s) + strlen(s->name) + s->cap *
			    (s->wide ? sizeof(int64_t) + (s->v != NULL ?
			    sizeof(double) : 0) : sizeof(int32_t) +
			    (s->vc != NULL ? sizeof(int16_t) : 0)) +
			    s->capf * sizeof(int64_t);
		}
		break;
	case EK_CUST:
		b += e->u.cust != NULL ? strlen(e->u.cust) : 0;
		break;
	case EK_CONTACTS:
		b += e->ncontacts * sizeof(*e->contacts);
		break;
	case EK_OWNERS:
		for (i = 0; e->own != NULL && i < e->own->nv; i++)
			b += sizeof(e->own->v[i]) + strlen(e->own->v[i].name);
		break;
	case EK_CASE:
		b += e->u.cs.rules.cap + e->u.cs.events.cap + e->u.cs.eventlen +
		    e->u.cs.nst * (sizeof(struct cstep) + 32) + 128;
		break;
	case EK_EVENT:
		b += e->u.ev.len;
		break;
	}
	return b;
}

void
store_stats(const struct store *st, size_t *entities, size_t *bytes)
{
	const struct hnode *n;
	size_t i, b = sizeof(*st);

	for (i = 0; i < st->ents.nb; i++)
		for (n = st->ents.b[i]; n != NULL; n = n->next)
			b += ent_bytes(n->val);
	*entities = st->nres;
	*bytes = b;
}

void
store_counts(const struct store *st, struct store_counts *sc)
{
	sc->entities = st->nres;
	sc->loaded = st->nloaded;
	sc->evicted = st->nevicted;
}

const char *
store_case_of(const struct store *st, const char *customer_id)
{
	struct buf k;
	const struct ent *cu, *cs;

	buf_init(&k);
	key_cust(st, &k, customer_id);
	cu = ent_find(st, k.data, k.len);
	cs = NULL;
	if (cu != NULL && cu->resident && cu->kind == EK_CUST &&
	    cu->u.cust != NULL) {
		key_case(st, &k, cu->u.cust);
		cs = ent_find(st, k.data, k.len);
	}
	buf_free(&k);
	if (cs == NULL || !cs->resident || cs->kind != EK_CASE ||
	    !cs->u.cs.exists ||
	    cs->u.cs.state == CASE_RESOLVED)
		return NULL;
	return cs->u.cs.id;
}

const char *
store_last_case(const struct store *st, const char *customer_id)
{
	struct buf k;
	const struct ent *cu;

	buf_init(&k);
	key_cust(st, &k, customer_id);
	cu = ent_find(st, k.data, k.len);
	buf_free(&k);
	return cu != NULL && cu->resident && cu->kind == EK_CUST ?
	    cu->u.cust : NULL;
}

void
store_note_add(struct store *st, enum store_note_kind kind, const char *rule,
    const char *word, int64_t dur_ms)
{
	struct store_note *n;

	if (!st->o.backed)
		return;
	if (st->nnotes == st->capnotes) {
		st->capnotes = st->capnotes ? st->capnotes * 2 : 16;
		st->notes = xreallocarray(st->notes, st->capnotes,
		    sizeof(*st->notes));
	}
	n = &st->notes[st->nnotes++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	(void)str_copy(n->rule, sizeof(n->rule), rule != NULL ? rule : "");
	(void)str_copy(n->word, sizeof(n->word), word != NULL ? word : "");
	n->dur_ms = dur_ms < 0 ? 0 : dur_ms;
}

size_t
store_take_notes(struct store *st, struct store_note **out)
{
	size_t n = st->nnotes;

	*out = st->notes;
	st->notes = NULL;
	st->nnotes = st->capnotes = 0;
	return n;
}

int64_t
case_keep_ms(const struct store *st)
{
	int64_t w = st->o.cf != NULL ? st->o.cf->outcome_within_ms : 0;

	return w + 86400000LL > CASE_KEEP_MS ? w + 86400000LL : CASE_KEEP_MS;
}
