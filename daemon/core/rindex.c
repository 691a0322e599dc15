/*
 * rindex.c — the rule index (see rindex.h).
 *
 * Layout: one bucket per event type named in some rule's "on". A bucket
 * holds the rules to test for every event of the type ("plain": no guard,
 * or a guard the index cannot use) and, per distinct guard field, a hash
 * table from a guard value to the rules filed under it. Rule lists are
 * arrays of rule indices in ascending order (rules are filed in order), so
 * matching merges a few sorted lists and the candidates come out in
 * configuration order.
 *
 * Keys follow value_equal() (value.h) exactly, so that nothing that could
 * be equal is missed:
 *   - a value with a numeric interpretation equals a literal only
 *     numerically: both are filed and looked up under the number (-0 as 0;
 *     NaN equals nothing and is never filed). Text equal byte for byte
 *     parses to the same number, so a numeric value can never equal a
 *     non-numeric literal;
 *   - other text is filed and looked up under its bytes;
 *   - an event value that is a JSON boolean compares by truthiness
 *     ("yes" == true): for it every rule guarded on that field is a
 *     candidate (the rare slow path);
 *   - a missing, null or list value equals nothing: no candidate.
 * Boolean literals are never guards (expr_guard).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "expr.h"
#include "rindex.h"
#include "util.h"

#define RINDEX_MAX_PATHS	32	/* guard fields per type; more: plain */

struct ilist {
	uint32_t	*v;
	size_t		 n, cap;
};

/* One guard value and the rules filed under it. */
struct slot {
	bool		 used;
	bool		 num;		/* key is d, else s[0..len) */
	double		 d;
	const char	*s;		/* borrowed from the configuration */
	size_t		 len;
	uint64_t	 hash;
	struct ilist	 rules;
};

struct gpath {
	const char	*path;		/* borrowed */
	struct slot	*slots;		/* open addressing, cap a power of 2 */
	size_t		 cap, used;
	struct ilist	 all;		/* every rule guarded on path */
};

struct bucket {
	const char	*type;		/* borrowed */
	struct ilist	 plain;
	struct gpath	 paths[RINDEX_MAX_PATHS];
	size_t		 npaths;
};

struct rindex {
	struct bucket	*b;
	size_t		 nb;
	size_t		 nguarded, nplain;
};

static void
ilist_add(struct ilist *l, uint32_t x)
{
	if (l->n > 0 && l->v[l->n - 1] == x)
		return;		/* a rule listing a value twice */
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = x;
}

static uint64_t
fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;

	while (n-- > 0)
		h = (h ^ *s++) * 1099511628211ULL;
	return h;
}

/*
 * value_key: the key of v as value_equal sees it. Returns 1 for a number
 * (*d), 2 for text (*s, *len), 0 for a value that equals no guard literal
 * by key (missing, null, list, NaN), 3 for a JSON boolean.
 */
static int
value_key(const struct value *v, double *d, const char **s, size_t *len)
{
	switch (v->kind) {
	case V_STR:
	case V_NUM:
		break;
	case V_BOOL:
		return 3;
	default:
		return 0;
	}
	if (v->has_num) {
		if (isnan(v->num))
			return 0;
		*d = v->num == 0 ? 0.0 : v->num;
		return 1;
	}
	*s = v->s;
	*len = v->len;
	return 2;
}

static uint64_t
key_hash(int kind, double d, const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	if (kind == 1)
		return fnv(&d, sizeof(d), fnv("#", 1, h));
	return fnv(s, len, fnv("$", 1, h));
}

/* probe: the slot of a key, or the empty slot where it would go. */
static struct slot *
probe(const struct gpath *g, int kind, double d, const char *s, size_t len,
    uint64_t h)
{
	size_t i = (size_t)h & (g->cap - 1);

	for (;;) {
		struct slot *sl = &g->slots[i];

		if (!sl->used)
			return sl;
		if (sl->hash == h && sl->num == (kind == 1) &&
		    (kind == 1 ? sl->d == d :
		    sl->len == len && memcmp(sl->s, s, len) == 0))
			return sl;
		i = (i + 1) & (g->cap - 1);
	}
}

static void
grow(struct gpath *g)
{
	struct slot *old = g->slots;
	size_t i, oldcap = g->cap;

	g->cap = oldcap ? oldcap * 2 : 16;
	g->slots = xcalloc(g->cap, sizeof(*g->slots));
	for (i = 0; i < oldcap; i++) {
		struct slot *sl;

		if (!old[i].used)
			continue;
		sl = probe(g, old[i].num ? 1 : 2, old[i].d, old[i].s,
		    old[i].len, old[i].hash);
		*sl = old[i];
	}
	free(old);
}

static void
file_value(struct gpath *g, const struct value *v, uint32_t rule)
{
	const char *s = NULL;
	struct slot *sl;
	size_t len = 0;
	double d = 0;
	uint64_t h;
	int kind;

	if ((kind = value_key(v, &d, &s, &len)) != 1 && kind != 2)
		return;		/* NaN: equal to nothing */
	if ((g->used + 1) * 2 > g->cap)
		grow(g);
	h = key_hash(kind, d, s, len);
	sl = probe(g, kind, d, s, len, h);
	if (!sl->used) {
		sl->used = true;
		sl->num = kind == 1;
		sl->d = d;
		sl->s = s;
		sl->len = len;
		sl->hash = h;
		g->used++;
	}
	ilist_add(&sl->rules, rule);
}

static struct bucket *
bucket_of(struct rindex *ix, const char *type)
{
	size_t i;

	for (i = 0; i < ix->nb; i++)
		if (strcmp(ix->b[i].type, type) == 0)
			return &ix->b[i];
	ix->b = xreallocarray(ix->b, ix->nb + 1, sizeof(*ix->b));
	memset(&ix->b[ix->nb], 0, sizeof(ix->b[ix->nb]));
	ix->b[ix->nb].type = type;
	return &ix->b[ix->nb++];
}

static struct gpath *
gpath_of(struct bucket *b, const char *path)
{
	size_t i;

	for (i = 0; i < b->npaths; i++)
		if (strcmp(b->paths[i].path, path) == 0)
			return &b->paths[i];
	if (b->npaths == RINDEX_MAX_PATHS)
		return NULL;
	memset(&b->paths[b->npaths], 0, sizeof(b->paths[b->npaths]));
	b->paths[b->npaths].path = path;
	return &b->paths[b->npaths++];
}

struct rindex *
rindex_build(const struct config *cf)
{
	struct rindex *ix = xcalloc(1, sizeof(*ix));
	size_t i, j, k;

	for (i = 0; i < cf->nrules; i++) {
		const struct rule *r = &cf->rules[i];
		struct expr_guard g;
		bool guarded;

		if (!r->enabled)
			continue;
		guarded = expr_guard(r->cond, &g) && g.nvals > 0;
		for (j = 0; j < r->non; j++) {
			struct bucket *b = bucket_of(ix, r->on[j]);
			struct gpath *gp;

			if (!guarded || (gp = gpath_of(b, g.path)) == NULL) {
				ilist_add(&b->plain, (uint32_t)i);
				ix->nplain++;
				continue;
			}
			for (k = 0; k < g.nvals; k++)
				file_value(gp, &g.vals[k], (uint32_t)i);
			ilist_add(&gp->all, (uint32_t)i);
			ix->nguarded++;
		}
	}
	return ix;
}

void
rindex_free(struct rindex *ix)
{
	size_t i, j, k;

	if (ix == NULL)
		return;
	for (i = 0; i < ix->nb; i++) {
		struct bucket *b = &ix->b[i];

		free(b->plain.v);
		for (j = 0; j < b->npaths; j++) {
			for (k = 0; k < b->paths[j].cap; k++)
				free(b->paths[j].slots[k].rules.v);
			free(b->paths[j].slots);
			free(b->paths[j].all.v);
		}
	}
	free(ix->b);
	free(ix);
}

/* gpath_find: the rules of g an event value can match (NULL: none). */
static const struct ilist *
gpath_find(const struct gpath *g, const struct value *v)
{
	const char *s = NULL;
	const struct slot *sl;
	size_t len = 0;
	double d = 0;
	int kind;

	kind = value_key(v, &d, &s, &len);
	if (kind == 3)
		return &g->all;
	if (kind == 0 || g->cap == 0)
		return NULL;
	sl = probe(g, kind, d, s, len, key_hash(kind, d, s, len));
	return sl->used ? &sl->rules : NULL;
}

void
rindex_each(const struct rindex *ix, const char *type, lookup_fn lookup,
    void *lctx, rindex_cb cb, void *ctx)
{
	const struct ilist *lists[RINDEX_MAX_PATHS + 1];
	size_t pos[RINDEX_MAX_PATHS + 1];
	const struct bucket *b = NULL;
	size_t i, nl = 0;

	if (type == NULL)
		return;
	for (i = 0; i < ix->nb; i++)
		if (strcmp(ix->b[i].type, type) == 0) {
			b = &ix->b[i];
			break;
		}
	if (b == NULL)
		return;
	if (b->plain.n > 0)
		lists[nl++] = &b->plain;
	for (i = 0; i < b->npaths; i++) {
		const struct ilist *l;
		struct value v;

		if (!lookup(lctx, b->paths[i].path, &v))
			continue;
		if ((l = gpath_find(&b->paths[i], &v)) != NULL && l->n > 0)
			lists[nl++] = l;
	}
	memset(pos, 0, sizeof(pos));
	/* k-way merge of sorted lists; every rule is in at most one of
	 * them (one guard per rule and type), so no duplicates. */
	for (;;) {
		size_t best = nl;

		for (i = 0; i < nl; i++)
			if (pos[i] < lists[i]->n && (best == nl ||
			    lists[i]->v[pos[i]] < lists[best]->v[pos[best]]))
				best = i;
		if (best == nl)
			return;
		if (!cb(ctx, lists[best]->v[pos[best]++]))
			return;
	}
}

void
rindex_stats(const struct rindex *ix, size_t *guarded, size_t *plain)
{
	*guarded = ix != NULL ? ix->nguarded : 0;
	*plain = ix != NULL ? ix->nplain : 0;
}
