/*
 * store.c — the store's entities (store.h): naming, the cache, loading
 * from Redis values.
 *
 * One hash map holds every entity under its Redis key name, whatever the
 * mode. An unbacked store (test, replay) creates an entity empty the
 * first time a decision uses it and never lets it go. A backed store (the
 * daemon's owner) is a cache over Redis: store_needs creates an entity
 * "reported" (not resident) for each key a request would read that is
 * not in memory, store_load makes it resident, and store_decide refuses a
 * request whose entities are not all resident. Every change puts the
 * entity on the dirty list; store_changes turns that list into writes
 * and stamps each entity with the generation of its write; until
 * store_committed reaches that generation the entity stays resident.
 *
 * Writing back, commits and eviction are in store_write.c.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_int.h"

/* --- the hash map -------------------------------------------------------- */

/*
 * hash: eight bytes a step, each mixed in by a multiply (FNV-1a took a
 * byte a step, most of hm_get's cost on keys of 20-30 bytes); the last
 * mix spreads the high bits into the low ones the buckets use. Nothing
 * iterates the map, so its order never shows.
 */
static uint64_t
hash(const char *k, size_t len)
{
	const unsigned char *p = (const unsigned char *)k;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;
	size_t i = 0, j;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (i < len) {
		for (w = 0, j = 0; i + j < len; j++)
			w |= (uint64_t)p[i + j] << (8 * j);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 32;
	return h;
}

/* hm_get: O(1) expected. */
void *
hm_get(const struct hmap *m, const char *k, size_t len)
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

/* hm_slot: O(1) amortised. */
void **
hm_slot(struct hmap *m, const char *k, size_t len)
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
	e = xmalloc(sizeof(*e) + len + 1);
	memcpy(e->key, k, len);
	e->key[len] = '\0';
	e->klen = len;
	e->h = h;
	e->val = NULL;
	e->next = m->b[h & (m->nb - 1)];
	m->b[h & (m->nb - 1)] = e;
	m->n++;
	return &e->val;
}

/* hm_del: O(1) expected. */
void *
hm_del(struct hmap *m, const char *k, size_t len)
{
	struct hnode *e, **pp;
	uint64_t h;
	void *v;

	if (m->nb == 0)
		return NULL;
	h = hash(k, len);
	for (pp = &m->b[h & (m->nb - 1)]; (e = *pp) != NULL; pp = &e->next)
		if (e->h == h && e->klen == len &&
		    memcmp(e->key, k, len) == 0) {
			*pp = e->next;
			v = e->val;
			free(e);
			m->n--;
			return v;
		}
	return NULL;
}

void
hm_free(struct hmap *m, void (*fr)(void *))
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

/* --- key names ------------------------------------------------------------ */

void
store_key_part(struct buf *out, const char *part, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char *p;
	size_t i;

	if (len > SIZE_MAX / 3)
		fatalx("%s: overflow", __func__);
	buf_reserve(out, 3 * len);	/* every byte may take three */
	p = out->data + out->len;
	for (i = 0; i < len; i++) {
		c = (unsigned char)part[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
			*p++ = (char)c;
		else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	out->len = (size_t)(p - out->data);
	out->data[out->len] = '\0';
}

void
key_k(const struct store *st, struct buf *b, const char *field,
    const char *val)
{
	buf_reset(b);
	buf_append(b, st->prefix, st->plen);
	buf_append(b, "k:", 2);
	store_key_part(b, field, strlen(field));
	buf_putc(b, ':');
	store_key_part(b, val, strlen(val));
}

void
key_cust(const struct store *st, struct buf *b, const char *cust)
{
	buf_reset(b);
	buf_append(b, st->prefix, st->plen);
	buf_append(b, "opencase:", 9);
	store_key_part(b, cust, strlen(cust));
}

void
owners_key(const struct store *st, struct buf *b)
{
	buf_reset(b);
	buf_append(b, st->prefix, st->plen);
	buf_append(b, "owners", 6);
}

long
owners_get(const struct owners *o, const char *name)
{
	size_t i;

	for (i = 0; o != NULL && i < o->nv; i++)
		if (strcmp(o->v[i].name, name) == 0)
			return o->v[i].n;
	return 0;
}

void
owners_add(struct owners *o, const char *name, long n)
{
	size_t i;

	for (i = 0; i < o->nv; i++)
		if (strcmp(o->v[i].name, name) == 0) {
			o->v[i].n += n;
			if (o->v[i].n < 0)
				o->v[i].n = 0;
			return;
		}
	if (n <= 0 || o->nv >= 100000)
		return;
	o->v = xreallocarray(o->v, o->nv + 1, sizeof(*o->v));
	o->v[o->nv].name = xstrdup(name);
	o->v[o->nv++].n = n;
}

static void
owners_free(struct owners *o)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->nv; i++)
		free(o->v[i].name);
	free(o->v);
	free(o);
}

/* owners_decode: "<n> <name>\n" lines (a name never holds a newline). */
static int
owners_decode(struct ent *e, const char *val, size_t len)
{
	const char *p = val, *end = val + len, *nl, *sp;
	char *name, *q;
	long n;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((sp = memchr(p, ' ', (size_t)(nl - p))) == NULL)
			return -1;
		n = strtol(p, &q, 10);
		if (q != sp || n < 0)
			return -1;
		name = xstrndup(sp + 1, (size_t)(nl - sp - 1));
		owners_add(e->own, name, n);
		free(name);
		p = nl + 1;
	}
	return 0;
}

void
key_contacts(const struct store *st, struct buf *b, const char *cust)
{
	buf_reset(b);
	buf_append(b, st->prefix, st->plen);
	buf_append(b, "contacts:", 9);
	store_key_part(b, cust, strlen(cust));
}

/* Case IDs are generated ("c-" + an entry ID) and named as they are, as
 * recoveryctl names them. */
void
key_case(const struct store *st, struct buf *b, const char *id)
{
	buf_reset(b);
	buf_append(b, st->prefix, st->plen);
	buf_append(b, "case:", 5);
	buf_puts(b, id);
}

/*
 * case_find: the entity named key_case(case_id) followed by suffix ("" or
 * EVENT_SUFFIX), or NULL. Every history entry looks its case up: the key is
 * built in the store's scratch buffer (kept through a pointer, as the
 * lookups take a const store), not a buffer allocated each time.
 */
struct ent *
case_find(const struct store *st, const char *case_id, const char *suffix)
{
	key_case(st, st->fk, case_id);
	buf_puts(st->fk, suffix);
	return ent_find(st, st->fk->data, st->fk->len);
}

/* The opening event is a string of its own: a JSON text is longer than
 * the values a small hash keeps compact (hash-max-listpack-value). */
void
key_event(const struct store *st, struct buf *b, const char *id)
{
	key_case(st, b, id);
	buf_puts(b, EVENT_SUFFIX);
}

/* key_kind: which kind of entity key names (-1: none of this store's). */
static int
key_kind(const struct store *st, const char *key, size_t klen)
{
	static const struct {
		const char	*tag;
		int		 kind;
	} kinds[] = {
		{ "k:", EK_KEY }, { "opencase:", EK_CUST }, { "case:", EK_CASE },
		{ "contacts:", EK_CONTACTS },
	};
	size_t i, l;

	if (klen < st->plen || memcmp(key, st->prefix, st->plen) != 0)
		return -1;
	if (klen - st->plen == 6 && memcmp(key + st->plen, "owners", 6) == 0)
		return EK_OWNERS;
	for (i = 0; i < ARRAY_LEN(kinds); i++) {
		l = strlen(kinds[i].tag);
		if (klen - st->plen <= l ||
		    memcmp(key + st->plen, kinds[i].tag, l) != 0)
			continue;
		/* case IDs come from stream IDs: none ends in ":event" */
		if (kinds[i].kind == EK_CASE && klen - st->plen > l + 6 &&
		    memcmp(key + klen - 6, EVENT_SUFFIX, 6) == 0)
			return EK_EVENT;
		return kinds[i].kind;
	}
	return -1;
}

/* --- entities ------------------------------------------------------------ */

void
kstate_clear(struct kstate *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		sect_free(&ks->s[i]);
	free(ks->s);
	buf_free(&ks->log);
	memset(ks, 0, sizeof(*ks));
}

void
case_clear(struct scase *cs)
{
	size_t i;

	free(cs->id);
	free(cs->customer);
	free(cs->call);
	free(cs->agent);
	free(cs->queue);
	free(cs->entry);
	free(cs->acked_by);
	free(cs->acked_at);
	free(cs->resolved_at);
	free(cs->note);
	free(cs->owner);
	free(cs->resolved_by);
	free(cs->code);
	free(cs->outcome);
	buf_free(&cs->outcomes);
	buf_free(&cs->afters);
	free(cs->before);
	free(cs->after);
	for (i = 0; i < cs->nhist; i++)
		free(cs->hist[i]);
	free(cs->hist);
	buf_free(&cs->rules);
	buf_free(&cs->events);
	for (i = 0; i < cs->nst; i++) {
		free(cs->st[i].chans);
		free(cs->st[i].rule);
	}
	free(cs->st);
	free(cs->event);
	memset(cs, 0, sizeof(*cs));
}

void
lru_unlink(struct store *st, struct ent *e)
{
	if (e->lprev != NULL)
		e->lprev->lnext = e->lnext;
	else if (st->lru_head == e)
		st->lru_head = e->lnext;
	if (e->lnext != NULL)
		e->lnext->lprev = e->lprev;
	else if (st->lru_tail == e)
		st->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void
lru_front(struct store *st, struct ent *e)
{
	if (st->lru_head == e)
		return;
	lru_unlink(st, e);
	e->lnext = st->lru_head;
	if (st->lru_head != NULL)
		st->lru_head->lprev = e;
	st->lru_head = e;
	if (st->lru_tail == NULL)
		st->lru_tail = e;
}

/* ent_new: an entity of kind under key, not resident, in the map. The
 * case ID of a CASE entity comes from its key. */
static struct ent *
ent_new(struct store *st, enum ent_kind kind, const char *key, size_t klen)
{
	struct ent *e = xcalloc(1, ent_size(kind));
	void **slot;

	slot = hm_slot(&st->ents, key, klen);
	*slot = e;
	e->kind = kind;
	e->klen = klen;
	/* the map's copy: a node stays where it is until hm_del */
	e->key = ((struct hnode *)(void *)((char *)slot -
	    offsetof(struct hnode, val)))->key;
	if (kind == EK_CASE) {
		buf_init(&e->u.cs.rules);
		buf_init(&e->u.cs.events);
		e->u.cs.id = xstrndup(key + st->plen + 5, klen - st->plen - 5);
	}
	return e;
}

static void
ent_resident(struct store *st, struct ent *e)
{
	if (e->resident)
		return;
	e->resident = true;
	st->nres++;
	if (st->o.backed)
		lru_front(st, e);
}

void
ent_free(struct ent *e)
{
	switch (e->kind) {
	case EK_KEY:
		kstate_clear(&e->u.ks);
		break;
	case EK_CUST:
		free(e->u.cust);
		break;
	case EK_CONTACTS:
		free(e->contacts);
		e->contacts = NULL;
		e->ncontacts = 0;
		break;
	case EK_OWNERS:
		owners_free(e->own);
		e->own = NULL;
		break;
	case EK_CASE:
		case_clear(&e->u.cs);
		break;
	case EK_EVENT:
		free(e->u.ev.json);
		break;
	}
	free(e);	/* (e->key went with its map node) */
}

void
ent_free_v(void *p)
{
	ent_free(p);
}

size_t
ent_size(enum ent_kind kind)
{
	const struct ent *e = NULL;
	size_t u;

	switch (kind) {
	case EK_KEY:
		u = sizeof(e->u.ks);
		break;
	case EK_CASE:
		u = sizeof(e->u.cs);
		break;
	case EK_EVENT:
		u = sizeof(e->u.ev);
		break;
	default:
		u = sizeof(e->u.cust);
		break;
	}
	return offsetof(struct ent, u) + u;
}

struct ent *
ent_find(const struct store *st, const char *key, size_t klen)
{
	return hm_get(&st->ents, key, klen);
}

struct ent *
ent_use(struct store *st, enum ent_kind kind, const char *key, size_t klen)
{
	struct ent *e = ent_find(st, key, klen);

	if (e == NULL) {
		if (st->o.backed)
			return NULL;
		e = ent_new(st, kind, key, klen);
	}
	if (!e->resident) {
		if (st->o.backed)
			return NULL;
		ent_resident(st, e);
	}
	e->used = st->epoch;
	if (st->o.backed)
		lru_front(st, e);
	return e;
}

/* ent_create: a new entity that cannot exist in Redis yet (a case being
 * opened): resident, empty unless an entity is under key already. */
static struct ent *
ent_create(struct store *st, enum ent_kind kind, const char *key,
    size_t klen)
{
	struct ent *e = ent_find(st, key, klen);

	if (e == NULL)
		e = ent_new(st, kind, key, klen);
	ent_resident(st, e);
	e->used = st->epoch;
	return e;
}

/* store_case_new: the CASE entity of a case being opened (store_decide). */
struct ent *
store_case_new(struct store *st, const char *key, size_t klen)
{
	return ent_create(st, EK_CASE, key, klen);
}

struct ent *
store_ent_new(struct store *st, enum ent_kind kind, const char *key,
    size_t klen)
{
	return ent_create(st, kind, key, klen);
}

void
ent_dirty(struct store *st, struct ent *e)
{
	if (!st->o.backed || e->dirty)
		return;
	e->dirty = true;
	e->dnext = NULL;
	if (st->dtail != NULL)
		st->dtail->dnext = e;
	else
		st->dhead = e;
	st->dtail = e;
}

void
zop_push(struct store *st, bool add, enum zset set, const char *member,
    double score)
{
	struct zop *z;

	if (!st->o.backed)
		return;
	if (st->nz == st->capz) {
		st->capz = st->capz ? st->capz * 2 : 16;
		st->z = xreallocarray(st->z, st->capz, sizeof(*st->z));
	}
	z = &st->z[st->nz++];
	z->add = add;
	z->set = set;
	z->member = xstrdup(member);
	z->score = score;
}

/* --- the store --------------------------------------------------------- */

void
store_opts_init(struct store_opts *o, const struct config *cf)
{
	memset(o, 0, sizeof(*o));
	o->prefix = cf->state_prefix;
	o->past_skew_ms = state_past_skew_ms(cf);
	o->future_skew_ms = cf->max_future_skew_ms;
	o->cf = cf;
}

struct store *
store_new(const struct store_opts *o)
{
	struct store *st = xcalloc(1, sizeof(*st));

	st->o = *o;
	st->prefix = xstrdup(o->prefix != NULL ? o->prefix : "");
	st->plen = strlen(st->prefix);
	st->o.prefix = st->prefix;
	st->sched = xasprintf("%sescalations", st->prefix);
	buf_init(&st->kb);
	buf_init(&st->kb2);
	buf_init(&st->enc);
	buf_init(&st->hb);
	st->fk = xcalloc(1, sizeof(*st->fk));
	buf_init(st->fk);
	arena_init(&st->out);
	st->epoch = 1;
	return st;
}

void
store_set_config(struct store *st, const struct config *cf)
{
	st->o.cf = cf;
}

const char *
store_sched_key(const struct store *st)
{
	return st->sched;
}

void
zops_clear(struct store *st)
{
	size_t i;

	for (i = 0; i < st->nz; i++)
		free(st->z[i].member);
	st->nz = 0;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	store_heap_clear(st);
	free(st->heap);
	free(st->notes);
	hm_free(&st->ents, ent_free_v);
	hm_free(&st->done, store_done_free);
	hm_free(&st->watch, NULL);
	zops_clear(st);
	free(st->z);
	buf_free(&st->kb);
	buf_free(&st->kb2);
	buf_free(&st->enc);
	buf_free(&st->hb);
	buf_free(st->fk);
	free(st->fk);
	arena_free(&st->out);
	free(st->sched);
	free(st->prefix);
	free(st);
}

/* --- loading --------------------------------------------------------------- */

/* need: report the entity under k unless it is known (a resident one is
 * marked used: the batch will read it). True when it is resident. */
static bool
need(struct store *st, struct buf *k, enum ent_kind kind, store_need_fn fn,
    void *ctx)
{
	struct ent *e = ent_find(st, k->data, k->len);

	if (e != NULL) {
		if (e->resident) {
			e->used = st->epoch;
			lru_front(st, e);
		}
		return e->resident;
	}
	(void)ent_new(st, kind, k->data, k->len);
	fn(ctx, k->data, k->len, kind == EK_CASE ? SK_HASH : SK_STRING);
	return false;
}

/*
 * A walk's KEY entities, (field, value), so that each is visited once:
 * with a default cooldown every candidate reads the customer's. Visits
 * are idempotent (store_needs, the decision's check), so one that does
 * not fit is simply visited again.
 */
#define WALK_SEEN	16
struct walk_seen {
	const char	*f[WALK_SEEN], *v[WALK_SEEN];
	size_t		 n;
};

static bool
walk_key(struct store *st, struct walk_seen *ws, const char *field,
    const char *val, walk_fn visit, void *ctx)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		if ((ws->f[i] == field || strcmp(ws->f[i], field) == 0) &&
		    (ws->v[i] == val || strcmp(ws->v[i], val) == 0))
			return true;
	if (ws->n < WALK_SEEN) {
		ws->f[ws->n] = field;
		ws->v[ws->n++] = val;
	}
	key_k(st, &st->kb, field, val);
	return visit(st, &st->kb, EK_KEY, ctx);
}

/* store_walk: see store_int.h. O(candidates * remembered fields). */
bool
store_walk(struct store *st, const struct state_req *req, walk_fn visit,
    void *ctx)
{
	struct walk_seen ws;
	const struct ent *cu;
	size_t i, j;

	ws.n = 0;
	for (i = 0; i < req->n; i++) {
		const struct state_cand *c = &req->c[i];
		const struct rule *r = c->rule;

		if ((r->has_count || r->has_aggregate || r->cooldown_ms > 0) &&
		    !walk_key(st, &ws, r->cooldown_key != NULL ?
		    r->cooldown_key : "customer_id",
		    c->key != NULL ? c->key : "", visit, ctx))
			return false;
		if (r->has_after && c->after_val != NULL &&
		    c->after_val[0] != '\0' &&
		    !walk_key(st, &ws, r->after.by, c->after_val, visit, ctx))
			return false;
		for (j = 0; j < r->nremember && j < STATE_MAX_REMEMBER; j++) {
			if (c->rem_vals[j] == NULL || c->rem_vals[j][0] == '\0')
				continue;
			if (!walk_key(st, &ws, r->remember[j], c->rem_vals[j],
			    visit, ctx))
				return false;
		}
	}
	if ((req->n == 0 && !loop_wanted(st, req)) ||
	    req->customer_id == NULL || req->customer_id[0] == '\0')
		return true;
	if (req->case_hint != NULL && req->case_hint[0] != '\0' &&
	    strlen(req->case_hint) < ENGINE_ID_MAX &&
	    strchr(req->case_hint, ':') == NULL) {
		key_case(st, &st->kb, req->case_hint);
		if (!visit(st, &st->kb, EK_CASE, ctx))
			return false;
	}
	key_cust(st, &st->kb, req->customer_id);
	if (!visit(st, &st->kb, EK_CUST, ctx))
		return false;
	/* assignment pools count each owner's open cases (whatever rule
	 * opens, reopens or joins) */
	if (req->n > 0 && st->o.cf != NULL && st->o.cf->has_pools) {
		owners_key(st, &st->kb);
		if (!visit(st, &st->kb, EK_OWNERS, ctx))
			return false;
	}
	/* the contact policy counts what reaches the customer */
	if (req->n > 0 && st->o.cf != NULL && st->o.cf->contact_max > 0) {
		key_contacts(st, &st->kb, req->customer_id);
		if (!visit(st, &st->kb, EK_CONTACTS, ctx))
			return false;
	}
	cu = ent_find(st, st->kb.data, st->kb.len);
	if (cu == NULL || !cu->resident || cu->kind != EK_CUST ||
	    cu->u.cust == NULL)
		return true;
	key_case(st, &st->kb, cu->u.cust);
	return visit(st, &st->kb, EK_CASE, ctx);
}

struct needs_ctx {
	store_need_fn	 fn;
	void		*ctx;
	bool		 resident;	/* every entity visited so far */
};

static bool
needs_visit(struct store *st, struct buf *k, enum ent_kind kind, void *p)
{
	struct needs_ctx *nc = p;

	if (!need(st, k, kind, nc->fn, nc->ctx))
		nc->resident = false;
	return true;
}

void
store_needs(struct store *st, struct state_req *req, store_need_fn fn,
    void *ctx)
{
	struct needs_ctx nc = { fn, ctx, true };

	req->resident_at = 0;
	if (!st->o.backed)
		return;
	(void)store_walk(st, req, needs_visit, &nc);
	if (nc.resident)
		req->resident_at = st->epoch;
}

void
store_needs_case(struct store *st, const char *case_id, store_need_fn fn,
    void *ctx)
{
	const struct ent *e;

	if (!st->o.backed)
		return;
	key_event(st, &st->kb, case_id);
	(void)need(st, &st->kb, EK_EVENT, fn, ctx);
	key_case(st, &st->kb, case_id);
	(void)need(st, &st->kb, EK_CASE, fn, ctx);
	e = ent_find(st, st->kb.data, st->kb.len);
	if (e == NULL || !e->resident || e->kind != EK_CASE ||
	    !e->u.cs.exists || e->u.cs.customer == NULL ||
	    e->u.cs.customer[0] == '\0')
		return;
	key_cust(st, &st->kb, e->u.cs.customer);
	(void)need(st, &st->kb, EK_CUST, fn, ctx);
	/* people's changes move the owners' counts */
	if (st->o.cf != NULL && st->o.cf->has_pools) {
		owners_key(st, &st->kb);
		need(st, &st->kb, EK_OWNERS, fn, ctx);
	}
	if (st->o.cf != NULL && st->o.cf->contact_max > 0) {
		key_contacts(st, &st->kb, e->u.cs.customer);
		need(st, &st->kb, EK_CONTACTS, fn, ctx);
	}
}

/* cust_contacts: "<ms>,<ms>..." into e's contact times; -1 when it is
 * not that (at most 1000 of them). */
static int
cust_contacts(struct ent *e, const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	char num[24], *q;
	size_t n;

	while (p < end) {
		for (n = 0; p + n < end && p[n] != ',' && n < sizeof(num) - 1;
		    n++)
			num[n] = p[n];
		num[n] = '\0';
		if (n == 0 || e->ncontacts >= 1000)
			return -1;
		e->contacts = xreallocarray(e->contacts, e->ncontacts + 1,
		    sizeof(*e->contacts));
		e->contacts[e->ncontacts] = strtoll(num, &q, 10);
		if (*q != '\0')
			return -1;
		e->ncontacts++;
		p += n;
		if (p < end && *p == ',')
			p++;
		else if (p < end)
			return -1;
	}
	return 0;
}

/* loadable: the entity under key, created if need be, when it is not
 * resident yet; NULL (nothing to do) when it is, or when key is not one
 * of this store's names of that kind. */
static struct ent *
loadable(struct store *st, const char *key, size_t klen, bool hash, int *rc)
{
	struct ent *e;
	int kind;

	*rc = 0;
	if ((kind = key_kind(st, key, klen)) < 0 ||
	    (kind == EK_CASE) != hash) {
		log_warnx("state: %.*s is not a %s this store loads",
		    (int)(klen > 200 ? 200 : klen), key,
		    hash ? "case hash" : "state string");
		*rc = -1;
		return NULL;
	}
	if ((e = ent_find(st, key, klen)) == NULL)
		e = ent_new(st, (enum ent_kind)kind, key, klen);
	if (e->resident)
		return NULL;
	ent_resident(st, e);
	e->used = st->epoch;
	return e;
}

int
store_load_string(struct store *st, const char *key, size_t klen,
    const char *val, size_t vlen)
{
	struct ent *e;
	int rc;

	if ((e = loadable(st, key, klen, false, &rc)) == NULL || val == NULL)
		return rc;
	st->nloaded++;
	if (e->kind == EK_EVENT) {
		e->u.ev.json = xstrndup(val, vlen);
		e->u.ev.len = vlen;
		return 0;
	}
	if (e->kind == EK_CUST) {
		/* A case ID is short and printable; anything else is not
		 * one of ours. */
		if (vlen == 0 || vlen >= ENGINE_ID_MAX ||
		    memchr(val, '\0', vlen) != NULL) {
			log_warnx("state: %.*s does not hold a case ID; taken "
			    "as no case", (int)(klen > 200 ? 200 : klen), key);
			return -1;
		}
		e->u.cust = xstrndup(val, vlen);
		return 0;
	}
	if (e->kind == EK_OWNERS) {
		if (e->own == NULL)
			e->own = xcalloc(1, sizeof(*e->own));
		if (owners_decode(e, val, vlen) == -1) {
			log_warnx("state: %.*s does not hold owner counts; "
			    "counting from zero", (int)(klen > 200 ? 200 :
			    klen), key);
			owners_free(e->own);
			e->own = xcalloc(1, sizeof(*e->own));
			return -1;
		}
		return 0;
	}
	if (e->kind == EK_CONTACTS) {
		if (cust_contacts(e, val, vlen) == -1) {
			log_warnx("state: %.*s does not hold contact times; "
			    "taken as none", (int)(klen > 200 ? 200 : klen),
			    key);
			free(e->contacts);
			e->contacts = NULL;
			e->ncontacts = 0;
			return -1;
		}
		return 0;
	}
	if (ks_decode(st, &e->u.ks, val, vlen) == -1) {
		log_warnx("state: %.*s does not decode (%zu bytes); its rule "
		    "state starts empty", (int)(klen > 200 ? 200 : klen), key,
		    vlen);
		return -1;
	}
	return 0;
}

int
store_load_hash(struct store *st, const char *key, size_t klen,
    const char *const *fields, const size_t *flens,
    const char *const *vals, const size_t *vlens, size_t n)
{
	struct ent *e;
	int rc;

	if ((e = loadable(st, key, klen, true, &rc)) == NULL || n == 0)
		return rc;
	st->nloaded++;
	rc = case_decode(&e->u.cs, fields, flens, vals, vlens, n);
	case_sigs(st, &e->u.cs);
	if (rc == -1) {
		log_warnx("state: case %s: a field does not parse; the case "
		    "is taken as it can be read", e->u.cs.id);
		return -1;
	}
	return 0;
}


bool
loop_wanted(const struct store *st, const struct state_req *req)
{
	if (!req->loop)
		return false;
	if (req->contact || !st->o.backed)
		return true;
	return hm_get(&st->watch, req->customer_id,
	    strlen(req->customer_id)) != NULL;
}

void
store_watch_load(struct store *st, const char *customer, size_t len)
{
	*hm_slot(&st->watch, customer, len) = (void *)1;
}

const char *
store_watch_key(const struct store *st, struct buf *b)
{
	buf_reset(b);
	buf_printf(b, "%soutcomes:pending", st->prefix);
	return b->data;
}
