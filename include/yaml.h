/*
 * yaml.h — a YAML document as a small node tree that remembers where every
 * node came from (file, 1-based line and column).
 *
 * Built on libyaml's event API. Deliberately a subset of YAML: anchors,
 * aliases and explicit tags are rejected (libyaml 0.2.5 loads "&a [*a]" as a
 * cycle), nesting is capped at YAML_MAX_DEPTH (deeper nesting ends the
 * parse there, so a hostile file costs linear time), files at
 * YAML_MAX_FILE and scalars at YAML_MAX_SCALAR bytes, and a mapping with a
 * duplicate key is an error. Only the first document of a stream is read; a second one is an
 * error. An empty file is an empty mapping.
 */
#ifndef RECOVERYD_YAML_H
#define RECOVERYD_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/* This header shadows libyaml's <yaml.h> on the -Iinclude path; yaml.c,
 * the one user of libyaml, defines RECOVERYD_LIBYAML to get it here. */
#ifdef RECOVERYD_LIBYAML
#include_next <yaml.h>
#endif

#define YAML_MAX_DEPTH	32
#define YAML_MAX_FILE	(1024 * 1024)
#define YAML_MAX_SCALAR	(64 * 1024)

enum ynode_type { YN_SCALAR, YN_SEQ, YN_MAP };

struct ynode;
struct ypair {
	struct ynode	*key;	/* always a scalar */
	struct ynode	*val;
};

struct ynode {
	enum ynode_type	 type;
	const char	*file;	/* shared, owned by the document */
	int		 line, col;	/* 1-based */
	/* YN_SCALAR */
	char		*str;	/* NUL-terminated */
	size_t		 len;
	bool		 quoted;	/* single- or double-quoted, or block */
	/* YN_SEQ */
	struct ynode	**items;
	size_t		 nitems;
	/* YN_MAP */
	struct ypair	*pairs;
	size_t		 npairs;
};

struct ydoc {
	char		*file;	/* path as given */
	struct ynode	*root;
};

/*
 * yaml_load_file: parse path. On error returns NULL after adding
 * "FILE:LINE:COL: message" diagnostics to d. The caller frees the result
 * with ydoc_free.
 */
struct ydoc	*yaml_load_file(const char *path, struct diags *d);
/* yaml_load_string: the same from memory; name is used in diagnostics. */
struct ydoc	*yaml_load_string(const char *name, const char *buf,
		    size_t len, struct diags *d);
void		 ydoc_free(struct ydoc *);

/* ymap_get: the value of key in a mapping node, or NULL. */
struct ynode	*ymap_get(const struct ynode *map, const char *key);
/* ynode_type_name: "a mapping", "a list", "a string" for messages. */
const char	*ynode_type_name(const struct ynode *);

#endif
