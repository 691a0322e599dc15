/*
 * yaml.c — a YAML document as a small node tree with file:line:col, built
 * on libyaml's event API (yaml_parser_parse).
 *
 * Why the event API and not yaml_parser_load: the document loader of
 * libyaml 0.2.5 follows aliases into cycles ("&a [*a]") and gives no hook
 * to cap nesting or scalar sizes. Walking events ourselves lets us refuse
 * what configuration files never need (anchors, aliases, explicit tags, a
 * second document) and bound what hostile input can cost: files over
 * YAML_MAX_FILE, scalars over YAML_MAX_SCALAR and nesting deeper than
 * YAML_MAX_DEPTH are errors, and the recursion below never goes deeper
 * than YAML_MAX_DEPTH frames.
 *
 * Nesting deeper than the cap stops the parse at once, like a syntax
 * error, instead of skipping the over-deep collection and reading on:
 * libyaml's scanner walks its stack of possible simple keys, one per open
 * flow collection, for every token, so reading to the end of a collection
 * nested 100000 deep ("[a, [a, [a, ...") costs depth x tokens — minutes
 * for a 400 KB file, long enough to stall a SIGHUP reload past the
 * watchdog. Stopping at depth YAML_MAX_DEPTH + 1 bounds that stack, so
 * any file costs time linear in its size (the scanner looks at most 1024
 * bytes ahead of the event we stop at).
 *
 * Every yaml_event_t obtained from the parser is deleted exactly once on
 * every path: load_node() takes ownership of the event it is given and
 * deletes it before it recurses, so a failure deeper down never leaks the
 * events of its parents (the same discipline as Suricata's
 * conf-yaml-loader.c, next:/fail: labels included).
 *
 * libyaml marks are zero-based; nodes store line + 1 and column + 1, and
 * every diagnostic names the file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECOVERYD_LIBYAML	/* include/yaml.h includes libyaml's too */
#include "log.h"
#include "util.h"
#include "yaml.h"

struct yparse {
	yaml_parser_t	 p;
	const char	*file;		/* the document's name */
	const char	*buf;
	size_t		 len;
	struct diags	*d;
	int		 failed;	/* libyaml error: stop reading */
	int		 errors;	/* recoverable errors: keep reading */
};

/* A small open-addressing set of key strings, to find duplicate mapping
 * keys in O(1) per key even in a hostile 100000-key mapping. */
struct keyset {
	size_t		*slot;		/* pair index + 1; 0 is empty */
	size_t		 cap;
};

static struct ynode	*load_node(struct yparse *, yaml_event_t *, int);

static void
perror_at(struct yparse *y, size_t line, size_t col, const char *msg)
{
	diag_error(y->d, y->file, (int)line + 1, (int)col + 1, "%s", msg);
	y->errors++;
}

/* offset_mark: line and column (zero-based) of byte offset off, for libyaml
 * reader errors, which set only problem_offset. */
static void
offset_mark(const struct yparse *y, size_t off, size_t *line, size_t *col)
{
	size_t i;

	*line = *col = 0;
	for (i = 0; i < off && i < y->len; i++) {
		if (y->buf[i] == '\n') {
			(*line)++;
			*col = 0;
		} else
			(*col)++;
	}
}

/* report_parser_error: turn libyaml's error state into one diagnostic
 * "FILE:LINE:COL: <problem> <context>". */
static void
report_parser_error(struct yparse *y)
{
	const char *problem = y->p.problem ? y->p.problem : "syntax error";
	size_t line, col, idx;
	char msg[512];

	if (y->p.error == YAML_READER_ERROR) {
		offset_mark(y, y->p.problem_offset, &line, &col);
		idx = y->p.problem_offset;
	} else {
		line = y->p.problem_mark.line;
		col = y->p.problem_mark.column;
		idx = y->p.problem_mark.index;
	}
	if (idx < y->len && y->buf[idx] == '\t')
		snprintf(msg, sizeof(msg), "found a tab character; YAML "
		    "indentation must use spaces");
	else if (y->p.error == YAML_MEMORY_ERROR)
		snprintf(msg, sizeof(msg), "out of memory while parsing");
	else if (y->p.context != NULL)
		snprintf(msg, sizeof(msg), "%s %s", problem, y->p.context);
	else
		(void)str_copy(msg, sizeof(msg), problem);
	perror_at(y, line, col, msg);
	y->failed = 1;
}

/* next_event: the next event into *ev (caller deletes it), or -1 after
 * reporting a parse error (nothing to delete). */
static int
next_event(struct yparse *y, yaml_event_t *ev)
{
	if (y->failed)
		return -1;
	if (!yaml_parser_parse(&y->p, ev)) {
		report_parser_error(y);
		return -1;
	}
	return 0;
}

static struct ynode *
node_new(struct yparse *y, enum ynode_type type, const yaml_mark_t *m)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->file = y->file;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

static size_t
key_hash(const char *s, size_t len)
{
	size_t h = 2166136261u, i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* keyset_find_or_add: the index of an earlier pair with the same key as
 * pairs[idx], or SIZE_MAX after remembering idx. */
static size_t
keyset_find_or_add(struct keyset *ks, const struct ypair *pairs, size_t idx)
{
	const struct ynode *k = pairs[idx].key;
	size_t i, j, n = idx + 1, *old = ks->slot, oldcap = ks->cap;

	if (2 * n > ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 16;
		ks->slot = xcalloc(ks->cap, sizeof(*ks->slot));
		for (i = 0; i < oldcap; i++) {
			if (old[i] == 0)
				continue;
			j = key_hash(pairs[old[i] - 1].key->str,
			    pairs[old[i] - 1].key->len) & (ks->cap - 1);
			while (ks->slot[j] != 0)
				j = (j + 1) & (ks->cap - 1);
			ks->slot[j] = old[i];
		}
		free(old);
	}
	j = key_hash(k->str, k->len) & (ks->cap - 1);
	while (ks->slot[j] != 0) {
		const struct ynode *o = pairs[ks->slot[j] - 1].key;
		if (o->len == k->len && memcmp(o->str, k->str, k->len) == 0)
			return ks->slot[j] - 1;
		j = (j + 1) & (ks->cap - 1);
	}
	ks->slot[j] = idx + 1;
	return SIZE_MAX;
}

/* check_props: anchors and explicit tags are refused wherever they
 * appear; the node is still read so that later errors are found too. */
static void
check_props(struct yparse *y, const yaml_mark_t *m, const yaml_char_t *anchor,
    const yaml_char_t *tag)
{
	char msg[256];

	if (anchor != NULL)
		perror_at(y, m->line, m->column,
		    "YAML anchors and aliases are not supported");
	if (tag != NULL) {
		snprintf(msg, sizeof(msg), "explicit YAML tags are not "
		    "supported ('%.64s')", (const char *)tag);
		perror_at(y, m->line, m->column, msg);
	}
}

static struct ynode *
load_scalar(struct yparse *y, yaml_event_t *ev)
{
	struct ynode *n;
	size_t len = ev->data.scalar.length;
	char msg[128];

	check_props(y, &ev->start_mark, ev->data.scalar.anchor,
	    ev->data.scalar.tag);
	if (len > YAML_MAX_SCALAR) {
		snprintf(msg, sizeof(msg), "scalar of %zu bytes is longer "
		    "than the limit of %d bytes", len, YAML_MAX_SCALAR);
		perror_at(y, ev->start_mark.line, ev->start_mark.column, msg);
		yaml_event_delete(ev);
		return NULL;
	}
	n = node_new(y, YN_SCALAR, &ev->start_mark);
	n->str = xstrndup((const char *)ev->data.scalar.value, len);
	n->len = len;
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
	    ev->data.scalar.style != YAML_ANY_SCALAR_STYLE;
	yaml_event_delete(ev);
	return n;
}

static void
node_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	free(n->str);
	for (i = 0; i < n->nitems; i++)
		node_free(n->items[i]);
	free(n->items);
	for (i = 0; i < n->npairs; i++) {
		node_free(n->pairs[i].key);
		node_free(n->pairs[i].val);
	}
	free(n->pairs);
	free(n);
}

/* load_seq: items up to SEQUENCE-END; n is the sequence node. Returns -1
 * only on a libyaml error. */
static int
load_seq(struct yparse *y, struct ynode *n, int depth)
{
	yaml_event_t ev;
	struct ynode *item;
	size_t cap = 0;

	for (;;) {
		if (next_event(y, &ev) == -1)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		item = load_node(y, &ev, depth + 1);	/* deletes ev */
		if (y->failed) {
			node_free(item);
			return -1;
		}
		if (item == NULL)
			continue;
		if (n->nitems == cap) {
			cap = cap ? cap * 2 : 4;
			n->items = xreallocarray(n->items, cap,
			    sizeof(*n->items));
		}
		n->items[n->nitems++] = item;
	}
}

/* load_map: pairs up to MAPPING-END; duplicate and non-scalar keys are
 * reported and dropped. Returns -1 only on a libyaml error. */
static int
load_map(struct yparse *y, struct ynode *n, int depth)
{
	yaml_event_t ev;
	struct ynode *key = NULL, *val = NULL;
	struct keyset ks = { NULL, 0 };
	yaml_mark_t km;
	size_t cap = 0, first;
	char msg[256];

	for (;;) {
		if (next_event(y, &ev) == -1)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		km = ev.start_mark;
		key = load_node(y, &ev, depth + 1);
		if (y->failed || next_event(y, &ev) == -1)
			goto fail;
		val = load_node(y, &ev, depth + 1);
		if (y->failed)
			goto fail;
		if (key != NULL && key->type != YN_SCALAR) {
			snprintf(msg, sizeof(msg), "a mapping key must be a "
			    "string, found %s", ynode_type_name(key));
			perror_at(y, km.line, km.column, msg);
			goto next;
		}
		if (key == NULL || val == NULL)
			goto next;
		if (n->npairs == cap) {
			cap = cap ? cap * 2 : 4;
			n->pairs = xreallocarray(n->pairs, cap,
			    sizeof(*n->pairs));
		}
		n->pairs[n->npairs].key = key;
		n->pairs[n->npairs].val = val;
		first = keyset_find_or_add(&ks, n->pairs, n->npairs);
		if (first != SIZE_MAX) {
			snprintf(msg, sizeof(msg), "duplicate key '%.100s' "
			    "(first at line %d)", key->str,
			    n->pairs[first].key->line);
			perror_at(y, km.line, km.column, msg);
			goto next;
		}
		n->npairs++;
		key = val = NULL;
		continue;
next:
		node_free(key);
		node_free(val);
		key = val = NULL;
	}
	free(ks.slot);
	return 0;
fail:
	node_free(key);
	node_free(val);
	free(ks.slot);
	return -1;
}

/*
 * load_node: build the node that starts with *ev, taking ownership of ev
 * (it is deleted here on every path). depth counts collections from 1 at
 * the root. Returns NULL when the node was refused (an alias, an oversized
 * scalar), or with y->failed set on a libyaml error or nesting deeper than
 * YAML_MAX_DEPTH (which ends the parse: see the top of this file).
 */
static struct ynode *
load_node(struct yparse *y, yaml_event_t *ev, int depth)
{
	struct ynode *n;
	int rc;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return load_scalar(y, ev);
	case YAML_ALIAS_EVENT:
		perror_at(y, ev->start_mark.line, ev->start_mark.column,
		    "YAML anchors and aliases are not supported");
		yaml_event_delete(ev);
		return NULL;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		break;
	default:
		perror_at(y, ev->start_mark.line, ev->start_mark.column,
		    "unexpected YAML event");
		y->failed = 1;
		yaml_event_delete(ev);
		return NULL;
	}

	if (ev->type == YAML_SEQUENCE_START_EVENT)
		check_props(y, &ev->start_mark,
		    ev->data.sequence_start.anchor,
		    ev->data.sequence_start.tag);
	else
		check_props(y, &ev->start_mark,
		    ev->data.mapping_start.anchor,
		    ev->data.mapping_start.tag);
	if (depth > YAML_MAX_DEPTH) {
		char msg[64];

		snprintf(msg, sizeof(msg), "nesting deeper than %d levels",
		    YAML_MAX_DEPTH);
		perror_at(y, ev->start_mark.line, ev->start_mark.column, msg);
		yaml_event_delete(ev);
		y->failed = 1;		/* see the top of this file */
		return NULL;
	}
	n = node_new(y, ev->type == YAML_SEQUENCE_START_EVENT ? YN_SEQ :
	    YN_MAP, &ev->start_mark);
	yaml_event_delete(ev);
	rc = n->type == YN_SEQ ? load_seq(y, n, depth) : load_map(y, n, depth);
	if (rc == -1) {
		node_free(n);
		return NULL;
	}
	return n;
}

/* load_stream: STREAM-START, at most one document, STREAM-END. Returns the
 * root (an empty mapping for an empty stream) or NULL. */
static struct ynode *
load_stream(struct yparse *y)
{
	yaml_event_t ev;
	struct ynode *root = NULL;
	yaml_mark_t zero = { 0, 0, 0 };

	if (next_event(y, &ev) == -1)		/* STREAM-START */
		return NULL;
	yaml_event_delete(&ev);
	if (next_event(y, &ev) == -1)
		return NULL;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return node_new(y, YN_MAP, &zero);
	}
	yaml_event_delete(&ev);			/* DOCUMENT-START */
	if (next_event(y, &ev) == -1)
		return NULL;
	root = load_node(y, &ev, 1);
	if (y->failed)
		goto fail;
	if (next_event(y, &ev) == -1)		/* DOCUMENT-END */
		goto fail;
	yaml_event_delete(&ev);
	if (next_event(y, &ev) == -1)
		goto fail;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		perror_at(y, ev.start_mark.line, ev.start_mark.column,
		    "only one YAML document per file is allowed");
		yaml_event_delete(&ev);
		goto fail;
	}
	yaml_event_delete(&ev);			/* STREAM-END */
	/* A document holding nothing ("---" alone) is an empty mapping. */
	if (root != NULL && root->type == YN_SCALAR && !root->quoted &&
	    root->len == 0) {
		root->type = YN_MAP;
		free(root->str);
		root->str = NULL;
	}
	return root;
fail:
	node_free(root);
	return NULL;
}

struct ydoc *
yaml_load_string(const char *name, const char *buf, size_t len,
    struct diags *d)
{
	struct yparse y;
	struct ydoc *doc;
	struct ynode *root;

	if (len > YAML_MAX_FILE) {
		diag_error(d, name, 0, 0, "file is larger than the limit of "
		    "%d bytes", YAML_MAX_FILE);
		return NULL;
	}
	doc = xcalloc(1, sizeof(*doc));
	doc->file = xstrdup(name);
	memset(&y, 0, sizeof(y));
	y.file = doc->file;
	y.buf = buf;
	y.len = len;
	y.d = d;
	if (!yaml_parser_initialize(&y.p))
		fatalx("%s: yaml_parser_initialize failed", __func__);
	yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, len);
	root = load_stream(&y);
	yaml_parser_delete(&y.p);
	if (root == NULL || y.failed || y.errors > 0) {
		node_free(root);
		free(doc->file);
		free(doc);
		return NULL;
	}
	doc->root = root;
	return doc;
}

/*
 * yaml_load_file: read a regular file of at most YAML_MAX_FILE bytes. The
 * size is checked with fstat first and again while reading, so a file that
 * grows meanwhile (or a device posing as a file) cannot make us read more.
 */
struct ydoc *
yaml_load_file(const char *path, struct diags *d)
{
	FILE *fp;
	struct stat st;
	struct ydoc *doc;
	char *buf;
	size_t len;

	if ((fp = fopen(path, "r")) == NULL) {
		diag_error(d, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == -1) {
		diag_error(d, path, 0, 0, "cannot stat: %s", strerror(errno));
		fclose(fp);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_error(d, path, 0, 0, "not a regular file");
		fclose(fp);
		return NULL;
	}
	if (st.st_size > YAML_MAX_FILE) {
		diag_error(d, path, 0, 0, "file is larger than the limit of "
		    "%d bytes", YAML_MAX_FILE);
		fclose(fp);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	len = fread(buf, 1, (size_t)st.st_size + 1, fp);
	if (ferror(fp) || len > (size_t)st.st_size) {
		if (ferror(fp))
			diag_error(d, path, 0, 0, "cannot read: %s",
			    strerror(errno));
		else
			diag_error(d, path, 0, 0, "file changed while it "
			    "was read");
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	doc = yaml_load_string(path, buf, len, d);
	free(buf);
	return doc;
}

void
ydoc_free(struct ydoc *doc)
{
	if (doc == NULL)
		return;
	node_free(doc->root);
	free(doc->file);
	free(doc);
}

struct ynode *
ymap_get(const struct ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != YN_MAP)
		return NULL;
	for (i = 0; i < map->npairs; i++)
		if (strcmp(map->pairs[i].key->str, key) == 0)
			return map->pairs[i].val;
	return NULL;
}

const char *
ynode_type_name(const struct ynode *n)
{
	if (n == NULL)
		return "nothing";
	switch (n->type) {
	case YN_MAP:
		return "a mapping";
	case YN_SEQ:
		return "a list";
	default:
		if (!n->quoted && n->len == 0)
			return "an empty value";
		return "a string";
	}
}
