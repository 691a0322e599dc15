/*
 * consumer_read.c — the read stage of the stream consumer (consumer.h):
 * a read or claim reply turned into a batch of entries, within a budget
 * of bytes rather than of entries.
 *
 * Memory is bounded in bytes. The read connection's reader keeps only a
 * prefix of a string that is too large to be part of a valid event, and
 * of any string once a reply holds input.batch_bytes (struct read_cap);
 * an entry over EVENT_MAX_BYTES is refused from the reply's lengths before
 * anything of it is copied, and dead-lettered with its long values cut to
 * DEAD_PREFIX bytes; a valid entry cut by the budget stays pending and is
 * read whole by the next read. The next read's COUNT is the budget over
 * the largest entry just read, so a run of large entries is read a few at
 * a time. After an unusually large batch the arenas it grew and the
 * allocator's free memory are given back.
 *
 * Each entry is validated here (evt_from_fields); what happens to the
 * batch next is in consumer_batch.c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__		/* defined by the headers above */
#include <malloc.h>		/* malloc_trim */
#endif

#include "consumer_int.h"
#include "event.h"
#include "log.h"
#include "util.h"

#define READ_PREFIX	(DEAD_PREFIX + 4)	/* room to end on a character */
#define ARENA_KEEP	(64 * 1024)	/* per entry, after a large batch */

/* --- the read connection's reply budget (struct read_cap) --------------- */

/* cap_string: hiredis's createString, keeping READ_PREFIX bytes of a
 * string over EVENT_MAX_BYTES or beyond the budget; its original length
 * goes into the reply's integer field (0 for a whole string). */
static void *
cap_string(const redisReadTask *task, char *str, size_t len)
{
	struct read_cap *rc = task->privdata;
	redisReply *r;
	size_t keep = len;

	if (task->parent == NULL)
		rc->kept = 0;		/* a new reply */
	/* kept <= budget always: it stops growing at the budget */
	if (len > EVENT_MAX_BYTES || len > rc->budget - rc->kept)
		keep = len < READ_PREFIX ? len : READ_PREFIX;
	rc->kept = keep < rc->budget - rc->kept ? rc->kept + keep : rc->budget;
	r = rc->orig->createString(task, str, keep);
	if (r != NULL && keep < len)
		r->integer = (long long)len;
	return r;
}

/* cap_array: hiredis's createArray; a root array starts a new reply. */
static void *
cap_array(const redisReadTask *task, int n)
{
	struct read_cap *rc = task->privdata;

	if (task->parent == NULL)
		rc->kept = 0;
	return rc->orig->createArray(task, n);
}

/* cons_setup_reader: install the budget on a new read connection's
 * reader (an rconn setup callback; arg is the consumer). */
void
cons_setup_reader(redisAsyncContext *ac, void *arg)
{
	struct consumer *c = arg;
	redisReader *rd = ac->c.reader;

	if (rd->fn != &c->cap.fn) {
		c->cap.orig = rd->fn;
		c->cap.fn = *rd->fn;
		c->cap.fn.createString = cap_string;
		c->cap.fn.createArray = cap_array;
	}
	rd->fn = &c->cap.fn;
	rd->privdata = &c->cap;
}

/* full_len: a string reply's length as Redis sent it. */
static size_t
full_len(const redisReply *s)
{
	if (s->type == REDIS_REPLY_STRING && s->integer > 0 &&
	    (unsigned long long)s->integer > s->len)
		return (size_t)s->integer;
	return s->len;
}

/* prefix_len: at most DEAD_PREFIX bytes of s[0..len), ending on a UTF-8
 * character boundary (s holds len bytes plus hiredis's NUL). */
static size_t
prefix_len(const char *s, size_t len)
{
	size_t n = DEAD_PREFIX;

	if (len <= DEAD_PREFIX)
		return len;
	while (n > DEAD_PREFIX - 4 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* --- batches ------------------------------------------------------------ */

void
cons_batch_begin(struct consumer *c, bool history)
{
	c->b.n = 0;
	c->b.gen++;
	c->b.history = history;
	c->b.nfires = 0;
	c->b.nalerts = 0;
	c->b.started = now_wall();
	c->b.bytes = c->b.max_entry = c->b.deferred = 0;
	arena_reset(&c->b.arena);
}

/*
 * cons_batch_end: after a batch that read over BIG_BATCH bytes, free the
 * arenas it grew past ARENA_KEEP (arena_reset keeps the largest chunk, so
 * one burst of large entries would otherwise stay resident per slot) and
 * hand the allocator's free pages back to the system. Cheap batches cost
 * nothing here.
 */
void
cons_batch_end(struct consumer *c)
{
	size_t i;

	if (c->b.bytes <= BIG_BATCH)
		return;
	c->b.bytes = 0;
	for (i = 0; i < c->b.cap; i++) {
		if (c->b.v[i].raw.allocated > ARENA_KEEP)
			arena_free(&c->b.v[i].raw);
		evt_trim(&c->b.v[i].ev, ARENA_KEEP);
	}
	if (c->b.arena.allocated > BIG_BATCH)
		arena_free(&c->b.arena);
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* --- entries ------------------------------------------------------------ */

/* entry_add: the next slot of the batch, emptied; slots (their event and
 * arenas) are kept from batch to batch. */
static struct entry *
entry_add(struct batch *b)
{
	struct entry *e;

	if (b->n == b->cap) {
		size_t i, ncap = b->cap ? b->cap * 2 : 64;
		b->v = xreallocarray(b->v, ncap, sizeof(*b->v));
		for (i = b->cap; i < ncap; i++) {
			memset(&b->v[i], 0, sizeof(b->v[i]));
			evt_init(&b->v[i].ev);
			arena_init(&b->v[i].raw);
		}
		b->cap = ncap;
	}
	e = &b->v[b->n++];
	evt_reset(&e->ev);
	arena_reset(&e->raw);
	e->st = E_OK;
	e->err = EVERR_NONE;
	e->errmsg[0] = '\0';
	e->deliveries = 1;
	e->nf = 0;
	e->fire0 = e->nfires = 0;
	e->written = false;
	memset(&e->cr, 0, sizeof(e->cr));
	return e;
}

/*
 * keep_raw: copy an entry's original fields for a possible dead letter.
 * Of an oversize entry only a prefix of each long name and value is kept
 * (DEAD_PREFIX bytes; fvfull keeps each value's length): the entry is
 * never copied whole, however large.
 */
static void
keep_raw(struct entry *e, const redisReply *f, bool oversize)
{
	size_t i, n = f->elements / 2, kl, vl;

	e->nf = n;
	e->fnames = arena_alloc(&e->raw, (n + 1) * sizeof(char *));
	e->fvals = arena_alloc(&e->raw, (n + 1) * sizeof(char *));
	e->fnlens = arena_alloc(&e->raw, (n + 1) * sizeof(size_t));
	e->fvlens = arena_alloc(&e->raw, (n + 1) * sizeof(size_t));
	e->fvfull = arena_alloc(&e->raw, (n + 1) * sizeof(size_t));
	for (i = 0; i < n; i++) {
		const redisReply *k = f->element[2 * i];
		const redisReply *v = f->element[2 * i + 1];
		kl = k->str ? k->len : 0;
		vl = v->str ? v->len : 0;
		if (oversize) {
			kl = prefix_len(k->str, kl);
			vl = prefix_len(v->str, vl);
		}
		e->fnames[i] = arena_strndup(&e->raw, k->str ? k->str : "", kl);
		e->fnlens[i] = kl;
		e->fvals[i] = arena_strndup(&e->raw, v->str ? v->str : "", vl);
		e->fvlens[i] = vl;
		e->fvfull[i] = v->str ? full_len(v) : 0;
	}
}

/*
 * parse_entry: one [id, [field, value, ...]] element of a read reply.
 * The reply is freed by hiredis after the callback, so the event copies
 * everything it keeps into its arena.
 */
static void
parse_entry(struct consumer *c, const redisReply *r, bool history)
{
	const char *names[EVENT_MAX_FIELDS + 1], *vals[EVENT_MAX_FIELDS + 1];
	size_t nl[EVENT_MAX_FIELDS + 1], vl[EVENT_MAX_FIELDS + 1];
	const redisReply *f;
	struct entry *e;
	size_t i, n, total = 0, wire;
	bool cut = false;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return;
	e = entry_add(&c->b);
	snprintf(e->id, sizeof(e->id), "%s", r->element[0]->str);
	evt_set_clock(&e->ev, c->cf->max_future_skew_ms, c->past_skew_ms, -1,
	    NULL);
	f = r->element[1];
	if (f->type != REDIS_REPLY_ARRAY) {
		/* Trimmed from the stream while it was pending. */
		e->st = E_LOST;
		log_warnx("event %s: entry was deleted from %s while pending "
		    "(stream trimmed?); its content is lost, acking it",
		    e->id, c->cf->input_stream);
		c->stats->lost++;
		return;
	}
	n = f->elements / 2;
	/* Sizes from the reply's lengths, before anything is copied. */
	for (i = 0; i < 2 * n; i++) {
		total += full_len(f->element[i]);
		cut = cut || full_len(f->element[i]) > f->element[i]->len;
	}
	wire = total + (2 * n + 2) * REPLY_OVERHEAD;
	c->b.bytes += wire;
	if (wire > c->b.max_entry)
		c->b.max_entry = wire;
	if (total > EVENT_MAX_BYTES) {
		keep_raw(e, f, true);
		e->st = E_INVALID;
		e->err = EVERR_SIZE;
		snprintf(e->errmsg, sizeof(e->errmsg), "entry is %zu bytes, "
		    "over the %d-byte limit", total, EVENT_MAX_BYTES);
		return;
	}
	if (cut) {
		/* A valid-sized entry the reply's budget cut short: it stays
		 * pending, and the next read (of this consumer's pending
		 * entries, with a smaller COUNT) has it whole. */
		c->b.n--;
		c->b.deferred++;
		c->history = true;
		return;
	}
	if (history || n > EVENT_MAX_FIELDS)
		keep_raw(e, f, false);
	if (n > EVENT_MAX_FIELDS) {
		e->st = E_INVALID;
		e->err = EVERR_FIELDS;
		snprintf(e->errmsg, sizeof(e->errmsg), "entry has %zu fields, "
		    "over the limit of %d", n, EVENT_MAX_FIELDS);
		return;
	}
	for (i = 0; i < n; i++) {
		const redisReply *k = f->element[2 * i];
		const redisReply *v = f->element[2 * i + 1];
		names[i] = k->str ? k->str : "";
		nl[i] = k->str ? k->len : 0;
		vals[i] = v->str ? v->str : "";
		vl[i] = v->str ? v->len : 0;
	}
	e->err = evt_from_fields(&e->ev, e->id, names, nl, vals, vl, n,
	    e->errmsg, sizeof(e->errmsg));
	if (e->err != EVERR_NONE) {
		e->st = E_INVALID;
		if (e->nf == 0)
			keep_raw(e, f, false);
	}
}

/* adapt_count: the next read's COUNT: as many entries as the largest
 * one just read fits into the byte budget, within 1 .. input.batch. A
 * read that ran over the budget says so: its entries larger than the
 * ones before it are read again. */
static void
adapt_count(struct consumer *c)
{
	size_t n;

	if (c->b.deferred > 0)
		log_info("a read of %zu entries ran over input.batch_bytes "
		    "(%ld bytes): %zu stay pending for the next read",
		    c->b.n + c->b.deferred, c->cf->batch_bytes, c->b.deferred);
	if (c->b.max_entry == 0)
		return;
	n = (size_t)c->cf->batch_bytes / c->b.max_entry;
	c->read_count = n < 1 ? 1 : n > (size_t)c->cf->input_batch ?
	    c->cf->input_batch : (long)n;
}

/* cons_read_entries: the entries array of a read or claim reply into
 * the batch; then the next read's COUNT. */
void
cons_read_entries(struct consumer *c, const redisReply *arr, bool history)
{
	size_t i;

	for (i = 0; i < arr->elements; i++)
		parse_entry(c, arr->element[i], history);
	adapt_count(c);
}
