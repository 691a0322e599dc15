/*
 * template.h — "{{path}}" message templates, compiled at load time.
 *
 * A template is literal text with {{path}} references (spaces inside the
 * braces allowed: "{{ customer_id }}"). A path is expr_valid_path(). A
 * missing field renders empty; "{{path | default 'text'}}" renders text
 * instead where the field is missing, null or empty (the text quoted with
 * ' or ", escapes \\ \' \" \n \t, no "}}" in it). "{{" with no closing
 * "}}", an invalid path, another filter or anything else after the path
 * is a compile error. There is no other syntax: a lone "{" or "}" is
 * text.
 *
 * Rendering appends to a caller-owned struct buf and allocates only when
 * the buffer must grow (reuse one buffer per batch).
 */
#ifndef RECOVERYD_TEMPLATE_H
#define RECOVERYD_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"
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
/*
 * tmpl_render: append the rendering to out. Never fails and never leaves
 * out->data NULL: a missing field (lookup returns false, or a value with
 * no text) renders empty, and an empty rendering is "".
 */
void		 tmpl_render(const struct tmpl *, lookup_fn, void *ctx,
		    enum tmpl_mode, struct buf *out);
/* tmpl_source: the source text the template was compiled from. */
const char	*tmpl_source(const struct tmpl *);
/* tmpl_is_literal: true when the template has no {{path}} (it always
 * renders as its source). */
bool		 tmpl_is_literal(const struct tmpl *);
/* tmpl_foreach_path: each referenced path with its byte offset. */
void		 tmpl_foreach_path(const struct tmpl *,
		    void (*cb)(void *ctx, const char *path, size_t offset),
		    void *ctx);

/*
 * Render contexts saved for later. An escalation step runs minutes or
 * hours after the event that opened its case, maybe on another daemon,
 * yet its message renders over that event (its fields and the customer.*
 * enrichment it had). tmpl_fields_save appends ev's fields to out as one
 * flat JSON object, {"path": "text", ...}: each field as the text a
 * template renders (a list as its JSON text), null fields left out.
 * tmpl_fields_load adds such an object's string members to ev (copied
 * into its arena; fields ev already has are kept); it returns the number
 * of fields added, or -1 when json is not such an object (ev unchanged).
 */
void		 tmpl_fields_save(const struct evt *, struct buf *out);
int		 tmpl_fields_load(struct evt *, const char *json, size_t len);

#endif
