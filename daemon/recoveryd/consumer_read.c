/*
 * consumer_read.c — the read stage of the stream consumer (consumer.h):
 * the owner's claim of every pending entry at takeover, the reads of its
 * own pending entries and of new ones, each reply turned into a batch
 * within a budget of bytes rather than of entries, and the delivery
 * counts of re-read entries.
 *
 * Order. Entries are handed on strictly in stream order: the claim at
 * takeover moves every pending entry of the group (XAUTOCLAIM JUSTID,
 * which does not count as a delivery) to this consumer, the history
 * reads then go through them from the oldest, and ">" only follows once
 * none is left. A history read starts after the last entry handed to a
 * batch (hist_pos), so it never returns an entry of the batch still
 * committing.
 *
 * Memory is bounded in bytes. The read connection's reader keeps only a
 * prefix of a string that is too large to be part of a valid event, and
 * of any string once a reply holds input.batch_bytes (struct read_cap);
 * an entry over EVENT_MAX_BYTES is refused from the reply's lengths before
 * anything of it is copied, and dead-lettered with its long values cut to
 * DEAD_PREFIX bytes. A valid entry cut by the budget ends the batch there
 * (the entries after it wait too, so that order holds): they stay pending
 * and the next read, of our pending entries with a smaller COUNT, has them
 * whole. The next read's COUNT is the budget over the largest entry just
 * read. After an unusually large batch the arenas it grew and the
 * allocator's free memory are given back.
 *
 * Commands. The same read takes the command stream's entries (people's
 * ack and resolve, command.h) after the input stream's; they go to the
 * end of the batch (v[nev..n)), are parsed here, and are claimed and
 * re-read like input entries (cmd_pos is their history position). A
 * command holds a few short fields: one that the budget cut is refused.
 * Commands have no delivery count: applying one is a few lines of C.
 *
 * Delivery counts. Redis counts every re-read of a pending entry as a
 * delivery. When the daemon re-reads an entry for its own reasons (a
 * transient refusal, a lost connection, a fenced or refused commit) it
 * notes so (redelivered), and the count it holds against
 * input.max_deliveries leaves those re-reads out: only deliveries that
 * ended in a crash or a takeover count.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__		/* defined by the headers above */
#include <malloc.h>		/* malloc_trim */
#endif

#include "consumer_int.h"
#include "event.h"
#include "log.h"
#include "util.h"

#define READ_PREFIX	(DEAD_PREFIX + 4)	/* room to end on a character */

/* --- the read connection's reply budget (struct read_cap) --------------- */

/*
 * The objects of a reply are carved from the arena in struct read_cap,
 * not allocated one by one as hiredis's own functions do (a reply object
 * and a copy per string, each freed again after the callback): an
 * XREADGROUP reply of 256 entries is some 8,000 strings, and their malloc
 * and free took a fifth of the daemon's time, much of it in glibc merging
 * the freed chunks at the next large allocation (issue 9). hiredis builds
 * one reply at a time and releases it, the root, after its callback (or
 * when the reader fails or is freed) before it starts the next, so
 * releasing a root empties the arena. A root carries the arena's owner in
 * front of it: freeObject is given nothing else.
 */
struct cap_root {
	struct read_cap	*rc;
	redisReply	 r;
};

/* cap_obj: a new object of type for task, linked into its parent. */
static redisReply *
cap_obj(const redisReadTask *task, int type)
{
	struct read_cap *rc = task->privdata;
	struct cap_root *h;
	redisReply *r, *parent;

	if (task->parent == NULL) {
		rc->kept = 0;		/* a new reply */
		h = arena_alloc(&rc->ar, sizeof(*h));
		h->rc = rc;
		r = &h->r;
	} else
		r = arena_alloc(&rc->ar, sizeof(*r));
	memset(r, 0, sizeof(*r));
	r->type = type;
	if (task->parent != NULL) {
		parent = task->parent->obj;
		parent->element[task->idx] = r;
	}
	return r;
}

/* cap_string: a string, status or error, keeping READ_PREFIX bytes of a
 * string over EVENT_MAX_BYTES or beyond the budget; its original length
 * goes into the reply's integer field (0 for a whole string). */
static void *
cap_string(const redisReadTask *task, char *str, size_t len)
{
	struct read_cap *rc = task->privdata;
	redisReply *r = cap_obj(task, task->type);
	size_t keep = len;

	/* kept <= budget always: it stops growing at the budget */
	if (len > EVENT_MAX_BYTES || len > rc->budget - rc->kept)
		keep = len < READ_PREFIX ? len : READ_PREFIX;
	rc->kept = keep < rc->budget - rc->kept ? rc->kept + keep : rc->budget;
	r->str = arena_strndup(&rc->ar, str, keep);
	r->len = keep;
	if (keep < len)
		r->integer = (long long)len;
	return r;
}

/* cap_array: n elements, filled in by their own tasks. */
static void *
cap_array(const redisReadTask *task, int n)
{
	struct read_cap *rc = task->privdata;
	redisReply *r = cap_obj(task, REDIS_REPLY_ARRAY);

	if (n > 0) {
		r->element = arena_alloc(&rc->ar, (size_t)n * sizeof(*r->element));
		memset(r->element, 0, (size_t)n * sizeof(*r->element));
	}
	r->elements = n > 0 ? (size_t)n : 0;
	return r;
}

static void *
cap_integer(const redisReadTask *task, long long v)
{
	redisReply *r = cap_obj(task, REDIS_REPLY_INTEGER);

	r->integer = v;
	return r;
}

static void *
cap_nil(const redisReadTask *task)
{
	return cap_obj(task, REDIS_REPLY_NIL);
}

#define CAP_KEEP	(4 * 1024 * 1024)	/* arena kept for the next reply */

/* cap_free: the reply (a root) is done with. */
static void
cap_free(void *reply)
{
	struct cap_root *h = (struct cap_root *)(void *)((char *)reply -
	    offsetof(struct cap_root, r));
	struct read_cap *rc = h->rc;

	if (rc->ar.allocated > CAP_KEEP)
		arena_free(&rc->ar);
	else
		arena_reset(&rc->ar);
}

/* cons_setup_reader: install the budget on a new read connection's
 * reader (an rconn setup callback; arg is the consumer). */
void
cons_setup_reader(redisAsyncContext *ac, void *arg)
{
	struct consumer *c = arg;
	redisReader *rd = ac->c.reader;

	c->cap.fn.createString = cap_string;
	c->cap.fn.createArray = cap_array;
	c->cap.fn.createInteger = cap_integer;
	c->cap.fn.createNil = cap_nil;
	c->cap.fn.freeObject = cap_free;
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
cons_batch_begin(struct consumer *c, struct batch *b, enum bkind kind,
    bool history)
{
	b->n = b->nev = 0;
	b->gen++;
	b->kind = kind;
	b->history = history;
	b->nfires = 0;
	b->nalerts = 0;
	b->nneeds = 0;
	b->round = 0;
	b->failed = b->transient = b->blame = b->full = false;
	b->why[0] = '\0';
	b->started = ++c->batch_seq;
	b->now_ms = (int64_t)(now_wall() * 1000);
	b->bytes = b->max_entry = b->deferred = 0;
	b->cf = c->cf;
	arena_reset(&b->arena);
	commit_begin(&b->cm, &b->arena);
}

/*
 * cons_batch_end: after a batch that read over BIG_BATCH bytes, free the
 * batch's arena if it grew past that (arena_reset keeps the largest
 * chunk, so one burst of large entries would otherwise stay resident per
 * slot) and hand the allocator's free pages back to the system. Cheap
 * batches cost nothing here.
 */
void
cons_batch_end(struct consumer *c, struct batch *b)
{
	(void)c;
	free(b->notes);
	b->notes = NULL;
	b->nnotes = 0;
	if (b->bytes <= BIG_BATCH)
		return;
	b->bytes = 0;
	if (b->arena.allocated > BIG_BATCH)
		arena_free(&b->arena);
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* --- re-deliveries of our own making -------------------------------------- */

/* id_cmp: stream IDs "ms-seq" in stream order. */
static int
id_cmp(const char *a, const char *b)
{
	unsigned long long am, as = 0, bm, bs = 0;
	char *e;

	am = strtoull(a, &e, 10);
	if (*e == '-')
		as = strtoull(e + 1, NULL, 10);
	bm = strtoull(b, &e, 10);
	if (*e == '-')
		bs = strtoull(e + 1, NULL, 10);
	if (am != bm)
		return am < bm ? -1 : 1;
	return as < bs ? -1 : as > bs ? 1 : 0;
}

/* redeliv_find: the index of id, or where it would go. O(log n). */
static size_t
redeliv_find(const struct consumer *c, const char *id, bool *found)
{
	size_t lo = 0, hi = c->nredeliv, mid;
	int r;

	*found = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = id_cmp(c->redeliv[mid].id, id);
		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The list holds at most the entries read and not committed, which
 * input.batch bounds per batch; beyond this something is wrong and the
 * compensation is given up rather than memory. */
#define REDELIV_MAX	100000

void
redelivered(struct consumer *c, const char *id)
{
	bool found;
	size_t i = redeliv_find(c, id, &found);

	if (found) {
		c->redeliv[i].n++;
		return;
	}
	if (c->nredeliv >= REDELIV_MAX)
		return;
	if (c->nredeliv == c->capredeliv) {
		c->capredeliv = c->capredeliv ? c->capredeliv * 2 : 256;
		c->redeliv = xreallocarray(c->redeliv, c->capredeliv,
		    sizeof(*c->redeliv));
	}
	memmove(&c->redeliv[i + 1], &c->redeliv[i],
	    (c->nredeliv - i) * sizeof(*c->redeliv));
	(void)str_copy(c->redeliv[i].id, sizeof(c->redeliv[i].id), id);
	c->redeliv[i].n = 1;
	c->nredeliv++;
}

long
redeliv_of(struct consumer *c, const char *id)
{
	bool found;
	size_t i = redeliv_find(c, id, &found);

	return found ? c->redeliv[i].n : 0;
}

void
redeliv_done(struct consumer *c, const char *id)
{
	bool found;
	size_t i;

	if (c->nredeliv == 0)
		return;
	i = redeliv_find(c, id, &found);
	if (!found)
		return;
	memmove(&c->redeliv[i], &c->redeliv[i + 1],
	    (c->nredeliv - i - 1) * sizeof(*c->redeliv));
	c->nredeliv--;
}

/* --- entries ------------------------------------------------------------ */

/*
 * cons_entry_next: the batch's next entry, its event reset; entries (and
 * their events' field arrays) are kept from batch to batch. What an
 * entry holds (its original fields, its event's strings) lives in the
 * batch's arena: one arena a slot costs what the batch holds, where one
 * an entry kept at least a chunk each (3 x 256 of them).
 */
struct entry *
cons_entry_next(struct batch *b)
{
	struct entry *e;

	if (b->n == b->cap) {
		size_t i, ncap = b->cap ? b->cap * 2 : 64;
		b->v = xreallocarray(b->v, ncap, sizeof(*b->v));
		for (i = b->cap; i < ncap; i++) {
			memset(&b->v[i], 0, sizeof(b->v[i]));
			evt_init(&b->v[i].ev);
			evt_use_arena(&b->v[i].ev, &b->arena);
		}
		b->cap = ncap;
	}
	e = &b->v[b->n++];
	evt_reset(&e->ev);
	if (e->cmd_set)
		command_free(e->cmd);
	e->cmd_set = false;
	return e;
}

/* entry_add: the next entry of an events batch, emptied. */
static struct entry *
entry_add(struct batch *b)
{
	struct entry *e = cons_entry_next(b);

	e->st = E_OK;
	e->err = EVERR_NONE;
	e->reason = NULL;
	e->errmsg[0] = '\0';
	e->deliveries = 1;
	e->nf = 0;
	e->fire0 = e->nfires = 0;
	e->kept = false;
	e->member = NULL;
	e->mlen = 0;
	e->run = false;
	e->answer = NULL;
	e->alen = 0;
	e->applied = false;
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
keep_raw(struct batch *b, struct entry *e, const redisReply *f,
    bool oversize)
{
	struct arena *a = &b->arena;
	size_t i, n = f->elements / 2, kl, vl;

	e->nf = n;
	e->fnames = arena_alloc(a, (n + 1) * sizeof(char *));
	e->fvals = arena_alloc(a, (n + 1) * sizeof(char *));
	e->fnlens = arena_alloc(a, (n + 1) * sizeof(size_t));
	e->fvlens = arena_alloc(a, (n + 1) * sizeof(size_t));
	e->fvfull = arena_alloc(a, (n + 1) * sizeof(size_t));
	for (i = 0; i < n; i++) {
		const redisReply *k = f->element[2 * i];
		const redisReply *v = f->element[2 * i + 1];
		kl = k->str ? k->len : 0;
		vl = v->str ? v->len : 0;
		if (oversize) {
			kl = prefix_len(k->str, kl);
			vl = prefix_len(v->str, vl);
		}
		e->fnames[i] = arena_strndup(a, k->str ? k->str : "", kl);
		e->fnlens[i] = kl;
		e->fvals[i] = arena_strndup(a, v->str ? v->str : "", vl);
		e->fvlens[i] = vl;
		e->fvfull[i] = v->str ? full_len(v) : 0;
	}
}

/* split_fields: the n field/value pairs of an entry's array f as
 * pointers into the reply (valid during the callback). */
static void
split_fields(const redisReply *f, size_t n, const char **names, size_t *nl,
    const char **vals, size_t *vl)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const redisReply *k = f->element[2 * i];
		const redisReply *v = f->element[2 * i + 1];
		names[i] = k->str ? k->str : "";
		nl[i] = k->str ? k->len : 0;
		vals[i] = v->str ? v->str : "";
		vl[i] = v->str ? v->len : 0;
	}
}

/*
 * parse_entry: one [id, [field, value, ...]] element of a read reply.
 * The reply is freed by hiredis after the callback, so the event copies
 * everything it keeps into its arena. Returns false when the entry was
 * cut by the budget: it and the ones after it wait for the next read.
 */
static bool
parse_entry(struct consumer *c, struct batch *b, const redisReply *r)
{
	const char *names[EVENT_MAX_FIELDS + 1], *vals[EVENT_MAX_FIELDS + 1];
	size_t nl[EVENT_MAX_FIELDS + 1], vl[EVENT_MAX_FIELDS + 1];
	const redisReply *f;
	struct entry *e;
	size_t i, n, total = 0, wire;
	bool cut = false;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return true;
	f = r->element[1];
	if (f->type == REDIS_REPLY_ARRAY) {
		n = f->elements / 2;
		/* Sizes from the reply's lengths, before anything is
		 * copied. */
		for (i = 0; i < 2 * n; i++) {
			total += full_len(f->element[i]);
			cut = cut || full_len(f->element[i]) >
			    f->element[i]->len;
		}
		if (cut && total <= EVENT_MAX_BYTES) {
			/* A valid-sized entry the reply's budget cut
			 * short. */
			b->deferred++;
			return false;
		}
	}
	e = entry_add(b);
	(void)str_copy(e->id, sizeof(e->id), r->element[0]->str);
	evt_set_clock(&e->ev, b->cf->max_future_skew_ms, c->past_skew_ms, -1,
	    NULL);
	if (f->type != REDIS_REPLY_ARRAY) {
		/* Trimmed from the stream while it was pending. */
		e->st = E_LOST;
		log_warnx("event %s: entry was deleted from %s while pending "
		    "(stream trimmed?); its content is lost, acking it",
		    e->id, b->cf->input_stream);
		c->stats->lost++;
		return true;
	}
	n = f->elements / 2;
	wire = total + (2 * n + 2) * REPLY_OVERHEAD;
	b->bytes += wire;
	if (wire > b->max_entry)
		b->max_entry = wire;
	if (total > EVENT_MAX_BYTES) {
		keep_raw(b, e, f, true);
		e->st = E_INVALID;
		e->err = EVERR_SIZE;
		snprintf(e->errmsg, sizeof(e->errmsg), "entry is %zu bytes, "
		    "over the %d-byte limit", total, EVENT_MAX_BYTES);
		return true;
	}
	/* The raw fields, for a dead letter: a history entry may turn out
	 * to be over max_deliveries. (A new entry whose decision fails is
	 * dead-lettered with its event's fields.) */
	if (b->history || n > EVENT_MAX_FIELDS)
		keep_raw(b, e, f, false);
	if (n > EVENT_MAX_FIELDS) {
		e->st = E_INVALID;
		e->err = EVERR_FIELDS;
		snprintf(e->errmsg, sizeof(e->errmsg), "entry has %zu fields, "
		    "over the limit of %d", n, EVENT_MAX_FIELDS);
		return true;
	}
	split_fields(f, n, names, nl, vals, vl);
	e->err = evt_from_fields(&e->ev, e->id, names, nl, vals, vl, n,
	    e->errmsg, sizeof(e->errmsg));
	if (e->err != EVERR_NONE) {
		e->st = E_INVALID;
		if (e->nf == 0)
			keep_raw(b, e, f, false);
	}
	return true;
}

/* adapt_count: the next read's COUNT: as many entries as the largest
 * one just read fits into the byte budget, within 1 .. input.batch. A
 * read that ran over the budget says so: its entries larger than the
 * ones before it are read again. */
static void
adapt_count(struct consumer *c, struct batch *b)
{
	size_t n;

	if (b->deferred > 0)
		log_info("a read of %zu entries ran over input.batch_bytes "
		    "(%ld bytes): %zu stay pending for the next read",
		    b->n + b->deferred, b->cf->batch_bytes, b->deferred);
	if (b->max_entry == 0) {
		if (b->deferred > 0 && c->read_count > 1)
			c->read_count = (c->read_count + 1) / 2;
		return;
	}
	n = (size_t)b->cf->batch_bytes / b->max_entry;
	c->read_count = n < 1 ? 1 : n > (size_t)b->cf->input_batch ?
	    b->cf->input_batch : (long)n;
}

/* read_entries: the entries array of a read reply into the batch, up
 * to the first one the budget cut; then the next read's COUNT and
 * position. */
static void
read_entries(struct consumer *c, struct batch *b, const redisReply *arr)
{
	size_t i;

	for (i = 0; i < arr->elements; i++)
		if (!parse_entry(c, b, arr->element[i])) {
			/* it and every one after it */
			b->deferred = arr->elements - i;
			break;
		}
	adapt_count(c, b);
	if (b->n > 0)
		(void)str_copy(c->last_id, sizeof(c->last_id),
		    b->v[b->n - 1].id);
	if (b->deferred > 0) {
		/* The rest is pending for us: read it as history. */
		c->phase = PH_HISTORY;
		(void)str_copy(c->hist_pos, sizeof(c->hist_pos),
		    c->last_id[0] != '\0' ? c->last_id : "0");
	} else if (b->history && b->n > 0)
		(void)str_copy(c->hist_pos, sizeof(c->hist_pos), c->last_id);
}

/*
 * parse_command: one [id, [field, value, ...]] element of the command
 * stream into a command entry. A command that does not parse is still
 * an entry: it is answered with its reason, and acked.
 */
static void
parse_command(struct batch *b, const redisReply *r)
{
	const char *names[CMD_MAX_FIELDS], *vals[CMD_MAX_FIELDS];
	size_t nl[CMD_MAX_FIELDS], vl[CMD_MAX_FIELDS], i, n;
	const redisReply *f;
	struct entry *e;
	bool cut = false;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return;
	f = r->element[1];
	e = entry_add(b);
	e->st = E_CMD;
	if (e->cmd == NULL)
		e->cmd = xmalloc(sizeof(*e->cmd));
	memset(e->cmd, 0, sizeof(*e->cmd));
	e->cmd->op = CMD_NONE;
	e->cmd_set = true;
	(void)str_copy(e->id, sizeof(e->id), r->element[0]->str);
	if (f->type != REDIS_REPLY_ARRAY) {
		/* trimmed while pending: nothing to apply, ack it */
		snprintf(e->cmd->err, sizeof(e->cmd->err), "deleted");
		return;
	}
	n = f->elements / 2;
	for (i = 0; i < 2 * n; i++)
		cut = cut || full_len(f->element[i]) > f->element[i]->len;
	if (n > CMD_MAX_FIELDS || cut) {
		snprintf(e->cmd->err, sizeof(e->cmd->err), "command has over "
		    "%d fields or a value over the read budget",
		    CMD_MAX_FIELDS);
		/* its reply token, if one can be read, gets the answer */
		for (i = 0; i + 1 < f->elements; i += 2)
			if (f->element[i]->str != NULL &&
			    strcmp(f->element[i]->str, "reply") == 0 &&
			    f->element[i + 1]->str != NULL &&
			    command_token_ok(f->element[i + 1]->str,
			    f->element[i + 1]->len))
				(void)str_copy(e->cmd->reply,
				    sizeof(e->cmd->reply),
				    f->element[i + 1]->str);
		return;
	}
	split_fields(f, n, names, nl, vals, vl);
	(void)command_parse(e->cmd, names, nl, vals, vl, n);
}

/* read_commands: the command stream's entries of a read reply. */
static void
read_commands(struct consumer *c, struct batch *b, const redisReply *arr)
{
	size_t i;

	for (i = 0; i < arr->elements; i++)
		parse_command(b, arr->element[i]);
	if (b->n > b->nev)
		(void)str_copy(c->cmd_pos, sizeof(c->cmd_pos),
		    b->v[b->n - 1].id);
}

/* --- the reads ------------------------------------------------------------ */

static void
read_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct reply_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r, *streams;
	struct batch *b;
	size_t i;

	(void)ac;
	b = reply_batch(x, BS_READ);
	free(x);
	if (b == NULL)
		return;
	c->read_sent = 0;
	/* the batch's clock: when its entries arrived, not when the
	 * (blocking) read went out, so that no case opens before its event */
	b->now_ms = (int64_t)(now_wall() * 1000);
	if (reply == NULL) {
		cons_fail(c, b, false, "connection lost while reading");
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "NOGROUP", 7) == 0) {
			log_warnx("consumer group %s of %s is gone; creating "
			    "it again", b->cf->input_group,
			    b->cf->input_stream);
			c->group_ready = false;
			batch_free_slot(c, b);
			c->phase = PH_SETUP;
			cons_pump(c);
			return;
		}
		log_warnx("XREADGROUP %s: %s", b->cf->input_stream, reply->str);
		batch_free_slot(c, b);
		c->resync = true;
		c->resync_at = now_wall() + 1;
		cons_pump(c);
		return;
	}
	/* [[stream, entries], ...]: the input stream's first, then the
	 * commands' (a stream with nothing new is left out) */
	if (reply->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < reply->elements; i++) {
			streams = reply->element[i];
			if (streams->type != REDIS_REPLY_ARRAY ||
			    streams->elements != 2 ||
			    streams->element[0]->type != REDIS_REPLY_STRING)
				continue;
			if (strcmp(streams->element[0]->str, c->cmd_key) == 0) {
				b->nev = b->n;
				read_commands(c, b, streams->element[1]);
			} else {
				read_entries(c, b, streams->element[1]);
				b->nev = b->n;
			}
		}
	}
	if (b->n == 0) {
		if (b->history && b->deferred == 0)
			c->phase = PH_LIVE;	/* caught up */
		batch_free_slot(c, b);
		cons_pump(c);
		return;
	}
	/* Read ahead (live): the batch before may still be loaded or
	 * decided; this one's loads must see what that one decided. */
	if (cons_undecided(c, b)) {
		b->st = BS_PARKED;
		return;
	}
	cons_counts(c, b);
}

void
cons_read(struct consumer *c, struct batch *b)
{
	char count[24], block[24];
	bool history = c->phase == PH_HISTORY;
	struct reply_ctx *x;
	const char *argv[13];
	int argc = 0;

	cons_batch_begin(c, b, BK_EVENTS, history);
	snprintf(count, sizeof(count), "%ld", c->read_count);
	snprintf(block, sizeof(block), "%d", READ_BLOCK_MS);
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = b->cf->input_group;
	argv[argc++] = c->name;
	argv[argc++] = "COUNT";
	argv[argc++] = count;
	if (!history) {
		argv[argc++] = "BLOCK";
		argv[argc++] = block;
	}
	argv[argc++] = "STREAMS";
	argv[argc++] = b->cf->input_stream;
	argv[argc++] = c->cmd_key;
	argv[argc++] = history ? c->hist_pos : ">";
	argv[argc++] = history ? c->cmd_pos : ">";
	x = reply_ctx(c, b, 0);
	b->st = BS_READ;
	if (cons_send(c->rd, read_cb, x, argc, argv, NULL) == -1) {
		free(x);
		batch_free_slot(c, b);
		return;
	}
	/* Out at once: Redis reads it before the commit that cons_pump
	 * sends next, and answers while the commit is still being built. */
	rconn_flush(c->rd);
	c->read_sent = now_wall();
}

/* --- the claim at takeover ---------------------------------------------- */

static void
delconsumer_cb(redisAsyncContext *ac, void *r, void *priv)
{
	(void)ac;
	(void)r;
	(void)priv;
}

/*
 * consumers_cb: after the claim no other consumer holds an entry; the
 * ones left over from earlier owners (a consumer named host:pid per
 * start) are deleted, so that the group does not collect one per
 * restart and the commit's check of other consumers stays cheap.
 */
static void
forget_consumers(struct consumer *c, const redisReply *reply,
    const char *stream)
{
	size_t i, j;

	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < reply->elements; i++) {
		const redisReply *g = reply->element[i];
		const char *name = NULL;
		long long pending = -1;

		if (g->type != REDIS_REPLY_ARRAY)
			continue;
		for (j = 0; j + 1 < g->elements; j += 2) {
			const char *k = g->element[j]->str;
			if (k == NULL)
				continue;
			if (strcmp(k, "name") == 0)
				name = g->element[j + 1]->str;
			else if (strcmp(k, "pending") == 0 &&
			    g->element[j + 1]->type == REDIS_REPLY_INTEGER)
				pending = g->element[j + 1]->integer;
		}
		if (name != NULL && pending == 0 &&
		    strcmp(name, c->name) != 0) {
			const char *argv[] = { "XGROUP", "DELCONSUMER",
			    stream, c->cf->input_group, name };
			(void)cons_send(c->wr, delconsumer_cb, c, 5, argv,
			    NULL);
		}
	}
}

static void
consumers_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;

	(void)ac;
	forget_consumers(c, r, c->cf->input_stream);
}

static void
cmd_consumers_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;

	(void)ac;
	forget_consumers(c, r, c->cmd_key);
}

/* claim_stream: the stream being claimed: the input stream's entries
 * first, then the commands'. */
static const char *
claim_stream(const struct consumer *c)
{
	return c->claim_cmds ? c->cmd_key : c->cf->input_stream;
}

static void
claim_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct consumer *c = priv;
	redisReply *reply = r;
	const redisReply *cur;

	(void)ac;
	if (c->phase != PH_CLAIM || !c->loading)
		return;
	c->loading = false;
	c->read_sent = 0;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 2 ||
	    (cur = reply->element[0])->type != REDIS_REPLY_STRING) {
		if (reply != NULL)
			log_warnx("XAUTOCLAIM %s: %s", claim_stream(c),
			    reply->type == REDIS_REPLY_ERROR ? reply->str :
			    "unexpected reply");
		if (reply != NULL && reply->type == REDIS_REPLY_ERROR &&
		    strncmp(reply->str, "NOGROUP", 7) == 0) {
			c->group_ready = false;
			c->phase = PH_SETUP;
		}
		cons_kick(c, RETRY_MIN_MS * 5);
		return;
	}
	if (reply->element[1]->type == REDIS_REPLY_ARRAY &&
	    reply->element[1]->elements > 0)
		log_info("took over %zu pending entries of %s",
		    reply->element[1]->elements, claim_stream(c));
	if (!c->claim_cmds && reply->elements > 2 &&
	    reply->element[2]->type == REDIS_REPLY_ARRAY &&
	    reply->element[2]->elements > 0) {
		const redisReply *del = reply->element[2];
		size_t i;

		/* XAUTOCLAIM already took them off the pending list. */
		c->stats->lost += del->elements;
		for (i = 0; i < del->elements && i < 10; i++)
			if (del->element[i]->type == REDIS_REPLY_STRING)
				log_warnx("event %s: entry was deleted from %s "
				    "while pending (stream trimmed?); its "
				    "content is lost", del->element[i]->str,
				    c->cf->input_stream);
		if (del->elements > 10)
			log_warnx("... and %zu more entries of %s deleted "
			    "while pending", del->elements - 10,
			    c->cf->input_stream);
	}
	(void)str_copy(c->claim_cursor, sizeof(c->claim_cursor), cur->str);
	if (strcmp(c->claim_cursor, "0-0") == 0 && !c->claim_cmds) {
		const char *argv[] = { "XINFO", "CONSUMERS",
		    c->cf->input_stream, c->cf->input_group };
		(void)cons_send(c->wr, consumers_cb, c, 4, argv, NULL);
		c->claim_cmds = true;	/* the commands next, from 0-0 */
	} else if (strcmp(c->claim_cursor, "0-0") == 0) {
		const char *argv[] = { "XINFO", "CONSUMERS", c->cmd_key,
		    c->cf->input_group };
		(void)cons_send(c->wr, cmd_consumers_cb, c, 4, argv, NULL);
		c->claim_cmds = false;
		c->phase = PH_HISTORY;
		snprintf(c->hist_pos, sizeof(c->hist_pos), "0");
		snprintf(c->cmd_pos, sizeof(c->cmd_pos), "0");
	}
	cons_pump(c);
}

void
cons_claim(struct consumer *c)
{
	char count[24];
	const char *argv[] = { "XAUTOCLAIM", claim_stream(c),
	    c->cf->input_group, c->name, "0", c->claim_cursor, "COUNT", count,
	    "JUSTID" };

	snprintf(count, sizeof(count), "%d", CLAIM_COUNT);
	if (cons_send(c->rd, claim_cb, c, 9, argv, NULL) == 0) {
		c->loading = true;
		c->read_sent = now_wall();
	}
}

/* --- delivery counts (history batches) ------------------------------------ */

static void
counts_cb(redisAsyncContext *ac, void *r, void *priv)
{
	struct reply_ctx *x = priv;
	struct consumer *c = x->c;
	redisReply *reply = r;
	struct batch *b;
	size_t i, j = 0;

	(void)ac;
	b = reply_batch(x, BS_COUNTS);
	free(x);
	if (b == NULL)
		return;
	if (!reply_ok(reply) || reply->type != REDIS_REPLY_ARRAY) {
		cons_fail(c, b, reply != NULL && !is_transient(reply),
		    reply == NULL ?
		    "connection lost" : reply->type == REDIS_REPLY_ERROR ?
		    reply->str : "XPENDING: unexpected reply");
		return;
	}
	/* [[id, consumer, idle, count], ...], in ID order as the batch */
	for (i = 0; i < reply->elements; i++) {
		redisReply *p = reply->element[i];
		struct entry *e;

		if (p->type != REDIS_REPLY_ARRAY || p->elements < 4 ||
		    p->element[0]->type != REDIS_REPLY_STRING)
			continue;
		while (j < b->nev &&
		    strcmp(b->v[j].id, p->element[0]->str) != 0)
			j++;
		if (j == b->nev)
			break;
		e = &b->v[j];
		e->deliveries = p->element[3]->integer -
		    redeliv_of(c, e->id);
		if (e->deliveries > b->cf->max_deliveries &&
		    e->st != E_LOST) {
			e->st = E_DEAD;
			snprintf(e->errmsg, sizeof(e->errmsg),
			    "delivered %ld times without being processed "
			    "(input.max_deliveries is %d)", e->deliveries,
			    b->cf->max_deliveries);
			c->stats->dead_deliveries++;
			log_warnx("event %s: %s; moving it to %s", e->id,
			    e->errmsg, b->cf->dead_letter);
		}
	}
	cons_enrich(c, b);
}

void
cons_counts(struct consumer *c, struct batch *b)
{
	char n[24];
	const char *argv[7];
	struct reply_ctx *x;

	if (!b->history || b->nev == 0) {
		cons_enrich(c, b);
		return;
	}
	b->st = BS_COUNTS;
	snprintf(n, sizeof(n), "%zu", b->nev);
	argv[0] = "XPENDING";
	argv[1] = b->cf->input_stream;
	argv[2] = b->cf->input_group;
	argv[3] = b->v[0].id;
	argv[4] = b->v[b->nev - 1].id;
	argv[5] = n;
	argv[6] = c->name;
	x = reply_ctx(c, b, 0);
	if (cons_send(c->wr, counts_cb, x, 7, argv, NULL) == -1) {
		free(x);
		cons_fail(c, b, false, "redis not connected");
	}
}
