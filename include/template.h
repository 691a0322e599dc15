/*
 * template.h — "{{path}}" message templates, compiled at load time.
 *
 * A template is literal text with {{path}} references (spaces inside the
 * braces allowed: "{{ customer_id }}"). A path is expr_valid_path(). A
 * missing field renders empty. "{{" with no closing "}}" or an invalid path
 * is a compile error. There is no other syntax: a lone "{" or "}" is text.
 *
 * Rendering appends to a caller-owned struct buf and allocates only when
 * the buffer must grow (reuse one buffer per batch).
 */
#ifndef RECOVERYD_TEMPLATE_H
#define RECOVERYD_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "value.h"

struct tmpl;

enum tmpl_mode {
	TMPL_PLAIN,	/* values copied as they are */
	TMPL_JSON	/* values JSON-string-escaped (no quotes added): for
			 * rendering inside a JSON string literal */
};

/* tmpl_compile: returns NULL on error and fills err (message) and
 * *err_offset (0-based byte offset into src of the offending "{{"). */
struct tmpl	*tmpl_compile(const char *src, char *err, size_t errlen,
		    size_t *err_offset);
void		 tmpl_free(struct tmpl *);
/* tmpl_render: append the rendering to out. */
void		 tmpl_render(const struct tmpl *, lookup_fn, void *ctx,
		    enum tmpl_mode, struct buf *out);
/* tmpl_source: the source text the template was compiled from. */
const char	*tmpl_source(const struct tmpl *);
/* tmpl_foreach_path: each referenced path with its byte offset. */
void		 tmpl_foreach_path(const struct tmpl *,
		    void (*cb)(void *ctx, const char *path, size_t offset),
		    void *ctx);

#endif
