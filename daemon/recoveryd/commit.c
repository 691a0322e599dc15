/*
 * commit.c — a batch's writes as the apply script's arguments (commit.h).
 *
 * The store's changes become plain Redis commands here, which the script
 * runs as given: a string entity is SET (with PX when it expires), a
 * hash entity gets HSET of the fields that changed (and PEXPIRE), the
 * sorted sets (escalation schedule, case indexes) ZADD/ZREM. The store
 * hands its texts over only until its next change: each is written into
 * the commit's commands (resp.h) at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "commit.h"
#include "log.h"

void
commit_init(struct commit *cm)
{
	memset(cm, 0, sizeof(*cm));
	cmds_init(&cm->cmds);
	buf_init(&cm->all);
}

/* What a commit keeps of its buffers for the next one: a batch's writes
 * are some hundred KiB; one burst of large ones is not kept. */
#define COMMIT_KEEP	(1024 * 1024)

void
commit_begin(struct commit *cm, struct arena *ar)
{
	cm->ar = ar;
	cm->ids.n = cm->cids.n = cm->guards.n = 0;
	cmds_reset(&cm->cmds, COMMIT_KEEP);
	if (cm->all.cap > COMMIT_KEEP)
		buf_free(&cm->all);
	buf_reset(&cm->all);
	cm->ncmds = cm->nguards = 0;
	cm->gen = 0;
}

static void
args_free(struct args *a)
{
	free(a->v);
	free(a->l);
	memset(a, 0, sizeof(*a));
}

void
commit_free(struct commit *cm)
{
	args_free(&cm->ids);
	args_free(&cm->cids);
	args_free(&cm->guards);
	cmds_free(&cm->cmds);
	buf_free(&cm->all);
	free(cm->info);
	memset(cm, 0, sizeof(*cm));
}

size_t
commit_id(struct commit *cm, const char *id)
{
	size_t l = strlen(id);

	args_add(&cm->ids, arena_strndup(cm->ar, id, l), l);
	return cm->ids.n;
}

void
commit_cid(struct commit *cm, const char *id)
{
	size_t l = strlen(id);

	args_add(&cm->cids, arena_strndup(cm->ar, id, l), l);
}

void
commit_added(struct commit *cm, size_t n, enum cmd_kind kind, size_t ref)
{
	size_t i;

	if (cm->ncmds + n > cm->capinfo) {
		while (cm->capinfo < cm->ncmds + n)
			cm->capinfo = cm->capinfo ? cm->capinfo * 2 : 256;
		cm->info = xreallocarray(cm->info, cm->capinfo,
		    sizeof(*cm->info));
	}
	for (i = 0; i < n; i++) {
		cm->info[cm->ncmds + i].kind = kind;
		cm->info[cm->ncmds + i].ref = ref;
	}
	cm->ncmds += n;
}

void
commit_guard(struct commit *cm, size_t idx)
{
	args_num(&cm->guards, cm->ar, (long long)cm->ncmds);
	args_num(&cm->guards, cm->ar, (long long)idx);
	cm->nguards++;
}

/* add_pexpire: PEXPIRE of the change's key when it expires; 1 if
 * added, else 0. */
static size_t
add_pexpire(struct commit *cm, const struct store_change *ch)
{
	struct cmds *a = &cm->cmds;

	if (ch->ttl_ms <= 0)
		return 0;
	cmd_begin(a);
	cmd_str(a, "PEXPIRE");
	cmd_arg(a, ch->key, ch->klen);
	cmd_num(a, ch->ttl_ms);
	cmd_end(a);
	return 1;
}

/*
 * The cases a commit changes are announced to the console (and anyone
 * else listening) with one PUBLISH P.."cases:changed" of their IDs,
 * space-separated, among the commit's writes, so that a message means
 * the change is in Redis. A case's keys are P.."case:"..ID (its hash)
 * and P.."case:"..ID..":history"; P is read off the key itself, so this
 * needs no configuration. At most CHANGED_MAX bytes of IDs (a batch of
 * thousands of cases): past that the message is "*", "reload all".
 */
#define CHANGED_MAX	8192
#define CHANGED_SLOTS	1024	/* the set of IDs noted; half full: "*" */

/*
 * Writes gathered into fewer commands over a commit: the SETs without an
 * expiry (a case's opencase and opening event) into one MSET, the ZADDs
 * into one per key (the case indexes, the schedule), each sent at the
 * end of the store's changes. Redis pays for every command (parsing,
 * lookup, queuing, its reply; ~1 us each inside a transaction, measured
 * with INFO commandstats) about what it pays for such a small write.
 * Each key is written by one entity, once a commit, except a sorted set,
 * whose member may be added and then removed: a ZREM of a key first
 * sends what was gathered for it, so that its changes keep their order;
 * and a PEXPIRE alone (SO_HSET without fields) sends the MSET first.
 * Measured (contrib/bench/ab.sh, AB_LOWCSAT=1, 30,000 events, where each
 * opens a case): Redis CPU 19.3 -> 17.2 us an event, +13% events/s.
 */
#define GATHER_ZKEYS	8
#define GATHER_KEEP	(64 * 1024)	/* bytes kept of a gathering buffer */
/*
 * Arguments of one gathered command at most: the apply script (a batch
 * with dead letters) runs each command with unpack(), which Redis's Lua
 * refuses past 8,000 values ("too many results to unpack": the whole
 * batch failed, measured with input.batch 10000 and a dead letter).
 */
#define GATHER_ARGS_MAX	1000

struct gathered {
	struct cmds	 c;		/* the open command */
	char		*key;		/* ZADD: its key (NULL: free) */
	size_t		 klen;
};

struct changes {
	struct commit	*cm;
	struct buf	 ids;
	char		 prefix[256];
	bool		 all;
	size_t		 nset;
	uint32_t	 off[CHANGED_SLOTS];	/* 1 + offset in ids; 0: free */
	uint32_t	 len[CHANGED_SLOTS];
	struct gathered	*mset;
	struct gathered	*zadd;		/* GATHER_ZKEYS of them */
};

/* gather_send: g's command, if it has one, as one of the commit's. */
static void
gather_send(struct changes *cx, struct gathered *g)
{
	if (g->c.argc == 0)
		return;
	cmd_end(&g->c);
	cmds_take(&cx->cm->cmds, &g->c);
	commit_added(cx->cm, 1, CK_STATE, 0);
	cmds_reset(&g->c, GATHER_KEEP);
	free(g->key);
	g->key = NULL;
}

static void
gather_set(struct changes *cx, const struct store_change *ch)
{
	struct gathered *g = cx->mset;

	if (g->c.argc == 0) {
		cmd_begin(&g->c);
		cmd_str(&g->c, "MSET");
	}
	cmd_arg(&g->c, ch->key, ch->klen);
	cmd_arg(&g->c, ch->val, ch->vlen);
	if (g->c.argc >= GATHER_ARGS_MAX)
		gather_send(cx, g);
}

/* zadd_of: the gathered ZADD of key, or NULL. */
static struct gathered *
zadd_of(struct changes *cx, const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < GATHER_ZKEYS; i++)
		if (cx->zadd[i].key != NULL && cx->zadd[i].klen == klen &&
		    memcmp(cx->zadd[i].key, key, klen) == 0)
			return &cx->zadd[i];
	return NULL;
}

static void
gather_zadd(struct changes *cx, const struct store_change *ch)
{
	struct gathered *g = zadd_of(cx, ch->key, ch->klen);
	char num[40];
	size_t i;

	if (g == NULL) {
		for (i = 0; i < GATHER_ZKEYS && cx->zadd[i].key != NULL; i++)
			;
		if (i == GATHER_ZKEYS)	/* more keys than slots */
			gather_send(cx, &cx->zadd[i = 0]);
		g = &cx->zadd[i];
		g->key = xstrndup(ch->key, ch->klen);
		g->klen = ch->klen;
		cmd_begin(&g->c);
		cmd_str(&g->c, "ZADD");
		cmd_arg(&g->c, ch->key, ch->klen);
	}
	/* scores are times in ms, mostly: integral */
	if (!fmt_integral(num, ch->score))
		snprintf(num, sizeof(num), "%.17g", ch->score);
	cmd_str(&g->c, num);
	cmd_arg(&g->c, ch->val, ch->vlen);
	if (g->c.argc >= GATHER_ARGS_MAX)
		gather_send(cx, g);
}

static void
gather_flush(struct changes *cx)
{
	size_t i;

	gather_send(cx, cx->mset);
	for (i = 0; i < GATHER_ZKEYS; i++)
		gather_send(cx, &cx->zadd[i]);
}

/* noted: id is among the IDs noted so far, else it is added to the set
 * (at offset off of ids, where the caller appends it); O(1). False and
 * all set when the set is half full. */
static bool
noted(struct changes *cx, const char *id, size_t idlen, size_t off)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < idlen; i++) {
		h ^= (unsigned char)id[i];
		h *= 1099511628211ULL;
	}
	for (i = h & (CHANGED_SLOTS - 1); cx->off[i] != 0;
	    i = (i + 1) & (CHANGED_SLOTS - 1))
		if (cx->len[i] == idlen &&
		    memcmp(cx->ids.data + cx->off[i] - 1, id, idlen) == 0)
			return true;
	if (cx->nset >= CHANGED_SLOTS / 2) {
		cx->all = true;
		return false;
	}
	cx->off[i] = (uint32_t)off + 1;
	cx->len[i] = (uint32_t)idlen;
	cx->nset++;
	return false;
}

static void
note_case(struct changes *cx, const char *key, size_t klen)
{
	const char *p = NULL, *id, *end = key + klen;
	size_t i, plen, idlen;

	for (i = 0; i + 5 <= klen; i++)
		if (memcmp(key + i, "case:", 5) == 0)
			p = key + i;
	if (p == NULL)
		return;
	plen = (size_t)(p - key);
	id = p + 5;
	for (idlen = 0; id + idlen < end && id[idlen] != ':'; idlen++)
		;
	if (id + idlen != end && (size_t)(end - id - idlen) != 8)
		return;		/* neither the hash nor ":history" */
	if (id + idlen != end && memcmp(id + idlen, ":history", 8) != 0)
		return;
	if (idlen == 0 || plen >= sizeof(cx->prefix))
		return;
	memcpy(cx->prefix, key, plen);
	cx->prefix[plen] = '\0';
	if (cx->all)
		return;		/* "*" already */
	if (cx->ids.len + idlen + 1 > CHANGED_MAX) {
		cx->all = true;
		return;
	}
	if (noted(cx, id, idlen, cx->ids.len + 1) || cx->all)
		return;		/* its hash and its history, say */
	buf_putc(&cx->ids, ' ');
	buf_append(&cx->ids, id, idlen);
}

static void
change_cb(void *ctx, const struct store_change *ch)
{
	struct changes *cx = ctx;
	struct commit *cm = cx->cm;
	struct cmds *a = &cm->cmds;
	struct gathered *g;
	size_t i, n = 0;

	switch (ch->op) {
	case SO_SET:
		if (ch->ttl_ms <= 0) {
			gather_set(cx, ch);
			return;
		}
		cmd_begin(a);
		cmd_str(a, "SET");
		cmd_arg(a, ch->key, ch->klen);
		cmd_arg(a, ch->val, ch->vlen);
		if (ch->ttl_ms > 0) {
			cmd_str(a, "PX");
			cmd_num(a, ch->ttl_ms);
		}
		cmd_end(a);
		n = 1;
		break;
	case SO_DEL:
		cmd_begin(a);
		cmd_str(a, "DEL");
		cmd_arg(a, ch->key, ch->klen);
		cmd_end(a);
		n = 1;
		break;
	case SO_HSET:
		/* a PEXPIRE only (of a case's opening event): after its
		 * SET, should that be gathered */
		if (ch->n == 0)
			gather_send(cx, cx->mset);
		note_case(cx, ch->key, ch->klen);
		/* Only the fields that changed: fields others wrote (a
		 * person's note, acked_at) stay as they are. */
		if (ch->n > 0) {
			cmd_begin(a);
			cmd_str(a, "HSET");
			cmd_arg(a, ch->key, ch->klen);
			for (i = 0; i < ch->n; i++) {
				cmd_arg(a, ch->fields[i], ch->flens[i]);
				cmd_arg(a, ch->vals[i], ch->vlens[i]);
			}
			cmd_end(a);
			n++;
		}
		n += add_pexpire(cm, ch);
		break;
	case SO_ZADD:
		gather_zadd(cx, ch);
		return;
	case SO_ZREM:
		if ((g = zadd_of(cx, ch->key, ch->klen)) != NULL)
			gather_send(cx, g);
		cmd_begin(a);
		cmd_str(a, "ZREM");
		cmd_arg(a, ch->key, ch->klen);
		cmd_arg(a, ch->val, ch->vlen);
		cmd_end(a);
		n = 1;
		break;
	case SO_APPEND:		/* store_opts.appends (engineer S) */
		cmd_begin(a);
		cmd_str(a, "APPEND");
		cmd_arg(a, ch->key, ch->klen);
		cmd_arg(a, ch->val, ch->vlen);
		cmd_end(a);
		n = 1;
		n += add_pexpire(cm, ch);
		break;
	case SO_RPUSH:		/* a case's history */
		note_case(cx, ch->key, ch->klen);
		/* in RPUSHes of GATHER_ARGS_MAX values at most (unpack) */
		for (i = 0; i < ch->n; n++) {
			size_t end = ch->n - i > GATHER_ARGS_MAX ?
			    i + GATHER_ARGS_MAX : ch->n;

			cmd_begin(a);
			cmd_str(a, "RPUSH");
			cmd_arg(a, ch->key, ch->klen);
			for (; i < end; i++)
				cmd_arg(a, ch->vals[i], ch->vlens[i]);
			cmd_end(a);
		}
		if (ch->max > 0) {
			cmd_begin(a);
			cmd_str(a, "LTRIM");
			cmd_arg(a, ch->key, ch->klen);
			cmd_num(a, -(long long)ch->max);
			cmd_str(a, "-1");
			cmd_end(a);
			n++;
		}
		n += add_pexpire(cm, ch);
		break;
	}
	commit_added(cm, n, CK_STATE, 0);
}

void
commit_changes(struct commit *cm, struct store *st, int64_t now_ms)
{
	static struct changes cx;	/* 8 KiB of set: not on the stack */
	char *chan;

	/* kept from commit to commit, empty between them (gather_send) */
	static struct gathered mset, zadd[GATHER_ZKEYS];

	memset(&cx, 0, sizeof(cx));
	cx.mset = &mset;
	cx.zadd = zadd;
	cx.cm = cm;
	buf_init(&cx.ids);
	cm->gen = store_changes(st, now_ms, change_cb, &cx);
	gather_flush(&cx);
	if (cx.ids.len > 0) {
		chan = xasprintf("%scases:changed", cx.prefix);
		cmd_begin(&cm->cmds);
		cmd_str(&cm->cmds, "PUBLISH");
		cmd_str(&cm->cmds, chan);
		if (cx.all)
			cmd_str(&cm->cmds, "*");
		else
			cmd_arg(&cm->cmds, cx.ids.data + 1, cx.ids.len - 1);
		cmd_end(&cm->cmds);
		commit_added(cm, 1, CK_STATE, 0);
		free(chan);
	}
	buf_free(&cx.ids);
}

static void
bulk_all(struct buf *o, const struct args *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		resp_bulk(o, src->v[i], src->l[i]);
}

void
commit_args(struct commit *cm, const char *sha, const char *lease_key,
    const char *token, const char *group, const char *consumer,
    const char *stream, const char *cstream)
{
	struct buf *o = &cm->all;
	const struct cmds *c = &cm->cmds;
	const char *s;
	size_t pos = 0, start, argc, i, l, n = 0;

	buf_reset(o);
	resp_head(o, '*', 12 + cm->ids.n + cm->cids.n + cm->guards.n +
	    c->n + c->nargs);
	resp_str(o, "EVALSHA");
	resp_str(o, sha);
	resp_str(o, "1");
	resp_str(o, lease_key);
	resp_str(o, token);
	resp_str(o, group);
	resp_str(o, consumer);
	resp_str(o, stream);
	resp_num(o, (long long)cm->ids.n);
	bulk_all(o, &cm->ids);
	resp_str(o, cstream);
	resp_num(o, (long long)cm->cids.n);
	bulk_all(o, &cm->cids);
	resp_num(o, (long long)cm->nguards);
	bulk_all(o, &cm->guards);
	/* each command: its argc as an argument, then its arguments as
	 * they are */
	while (cmds_next(c, &pos, &argc)) {
		resp_num(o, (long long)argc);
		start = pos;
		for (i = 0; i < argc; i++)
			if (!cmds_arg(c, &pos, &s, &l))
				fatalx("commit: malformed command list");
		buf_append(o, c->resp.data + start, pos - start);
		n++;
	}
	if (n != c->n || pos != c->at)
		fatalx("commit: malformed command list");
}

enum commit_result
commit_result(const void *r, const char **other)
{
	const redisReply *reply = r, *e0;

	*other = NULL;
	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements < 1 ||
	    (e0 = reply->element[0])->type != REDIS_REPLY_INTEGER)
		return CR_BAD;
	if (reply->elements >= 2 &&
	    reply->element[1]->type == REDIS_REPLY_STRING)
		*other = reply->element[1]->str;
	switch (e0->integer) {
	case 1:
		return reply->elements >= 2 &&
		    reply->element[1]->type == REDIS_REPLY_ARRAY ? CR_DONE :
		    CR_BAD;
	case 0:
		return CR_FENCED;
	case -1:
		return *other != NULL ? CR_FOREIGN : CR_BAD;
	}
	return CR_BAD;
}
