/*
 * commit.c — a batch's writes as the apply script's arguments (commit.h).
 *
 * The store's changes become plain Redis commands here, which the script
 * runs as given: a string entity is SET (with PX when it expires), a
 * hash entity gets HSET of the fields that changed (and PEXPIRE), the
 * sorted sets (escalation schedule, case indexes) ZADD/ZREM. The store
 * hands its texts over only until its next change, so each is copied
 * into the batch's arena.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "commit.h"

void
commit_init(struct commit *cm)
{
	memset(cm, 0, sizeof(*cm));
}

void
commit_begin(struct commit *cm, struct arena *ar)
{
	cm->ar = ar;
	cm->ids.n = cm->cids.n = cm->guards.n = cm->cmds.n = cm->all.n = 0;
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
	args_free(&cm->cmds);
	args_free(&cm->all);
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

/* copy: bytes the store lends, into the arena. */
static void
add_copy(struct commit *cm, const char *s, size_t len)
{
	args_add(&cm->cmds, arena_strndup(cm->ar, s != NULL ? s : "", len),
	    len);
}

/* add_pexpire: PEXPIRE of the change's key when it expires; 1 if
 * added, else 0. */
static size_t
add_pexpire(struct commit *cm, const struct store_change *ch)
{
	struct args *a = &cm->cmds;

	if (ch->ttl_ms <= 0)
		return 0;
	args_num(a, cm->ar, 3);
	args_str(a, "PEXPIRE");
	add_copy(cm, ch->key, ch->klen);
	args_num(a, cm->ar, ch->ttl_ms);
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

struct changes {
	struct commit	*cm;
	struct buf	 ids;
	char		 prefix[256];
	bool		 all;
	size_t		 nset;
	uint32_t	 off[CHANGED_SLOTS];	/* 1 + offset in ids; 0: free */
	uint32_t	 len[CHANGED_SLOTS];
};

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
	struct args *a = &cm->cmds;
	char num[40];
	size_t i, n = 0;

	switch (ch->op) {
	case SO_SET:
		args_num(a, cm->ar, ch->ttl_ms > 0 ? 5 : 3);
		args_str(a, "SET");
		add_copy(cm, ch->key, ch->klen);
		add_copy(cm, ch->val, ch->vlen);
		if (ch->ttl_ms > 0) {
			args_str(a, "PX");
			args_num(a, cm->ar, ch->ttl_ms);
		}
		n = 1;
		break;
	case SO_DEL:
		args_num(a, cm->ar, 2);
		args_str(a, "DEL");
		add_copy(cm, ch->key, ch->klen);
		n = 1;
		break;
	case SO_HSET:
		note_case(cx, ch->key, ch->klen);
		/* Only the fields that changed: fields others wrote (a
		 * person's note, acked_at) stay as they are. */
		if (ch->n > 0) {
			args_num(a, cm->ar, (long long)(2 + 2 * ch->n));
			args_str(a, "HSET");
			add_copy(cm, ch->key, ch->klen);
			for (i = 0; i < ch->n; i++) {
				add_copy(cm, ch->fields[i], ch->flens[i]);
				add_copy(cm, ch->vals[i], ch->vlens[i]);
			}
			n++;
		}
		n += add_pexpire(cm, ch);
		break;
	case SO_ZADD:
		args_num(a, cm->ar, 4);
		args_str(a, "ZADD");
		add_copy(cm, ch->key, ch->klen);
		/* scores are times in ms, mostly: integral */
		if (!fmt_integral(num, ch->score))
			snprintf(num, sizeof(num), "%.17g", ch->score);
		add_copy(cm, num, strlen(num));
		add_copy(cm, ch->val, ch->vlen);
		n = 1;
		break;
	case SO_ZREM:
		args_num(a, cm->ar, 3);
		args_str(a, "ZREM");
		add_copy(cm, ch->key, ch->klen);
		add_copy(cm, ch->val, ch->vlen);
		n = 1;
		break;
	case SO_APPEND:		/* store_opts.appends (engineer S) */
		args_num(a, cm->ar, 3);
		args_str(a, "APPEND");
		add_copy(cm, ch->key, ch->klen);
		add_copy(cm, ch->val, ch->vlen);
		n = 1;
		n += add_pexpire(cm, ch);
		break;
	case SO_RPUSH:		/* a case's history */
		note_case(cx, ch->key, ch->klen);
		args_num(a, cm->ar, (long long)(2 + ch->n));
		args_str(a, "RPUSH");
		add_copy(cm, ch->key, ch->klen);
		for (i = 0; i < ch->n; i++)
			add_copy(cm, ch->vals[i], ch->vlens[i]);
		n = 1;
		if (ch->max > 0) {
			args_num(a, cm->ar, 4);
			args_str(a, "LTRIM");
			add_copy(cm, ch->key, ch->klen);
			args_num(a, cm->ar, -(long long)ch->max);
			args_str(a, "-1");
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

	memset(&cx, 0, sizeof(cx));
	cx.cm = cm;
	buf_init(&cx.ids);
	cm->gen = store_changes(st, now_ms, change_cb, &cx);
	if (cx.ids.len > 0) {
		chan = xasprintf("%scases:changed", cx.prefix);
		args_num(&cm->cmds, cm->ar, 3);
		args_str(&cm->cmds, "PUBLISH");
		add_copy(cm, chan, strlen(chan));
		if (cx.all)
			add_copy(cm, "*", 1);
		else
			add_copy(cm, cx.ids.data + 1, cx.ids.len - 1);
		commit_added(cm, 1, CK_STATE, 0);
		free(chan);
	}
	buf_free(&cx.ids);
}

static void
append_all(struct args *dst, const struct args *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		args_add(dst, src->v[i], src->l[i]);
}

void
commit_args(struct commit *cm, const char *sha, const char *lease_key,
    const char *token, const char *group, const char *consumer,
    const char *stream, const char *cstream)
{
	struct args *a = &cm->all;

	a->n = 0;
	args_str(a, "EVALSHA");
	args_str(a, sha);
	args_str(a, "1");
	args_str(a, lease_key);
	args_str(a, arena_strndup(cm->ar, token, strlen(token)));
	args_str(a, group);
	args_str(a, consumer);
	args_str(a, stream);
	args_num(a, cm->ar, (long long)cm->ids.n);
	append_all(a, &cm->ids);
	args_str(a, cstream);
	args_num(a, cm->ar, (long long)cm->cids.n);
	append_all(a, &cm->cids);
	args_num(a, cm->ar, (long long)cm->nguards);
	append_all(a, &cm->guards);
	append_all(a, &cm->cmds);
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
