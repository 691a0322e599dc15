/*
 * config_int.h — private to config.c and config_rules.c: the loader state
 * and the schema-table machinery both halves of the configuration loader
 * share. Nothing outside the loader includes this.
 *
 * The loader works in three passes over the files, because references
 * cross files in every direction:
 *   1. read the main file and its includes (depth first), applying the
 *      top-level sections, lists and channels as they come;
 *   2. parse the rules of every file (all lists and channels are known, so
 *      expressions and notify targets resolve);
 *   3. resolve "after: {rule: ...}" (a rule may be defined later or in
 *      another file) and warn about channels and lists nothing uses.
 * All documents stay loaded until the end so late errors can point at
 * their nodes.
 */
#ifndef RECOVERYD_CONFIG_INT_H
#define RECOVERYD_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "yaml.h"

struct loader;

/* Kinds of values a schema table knows how to check and store. */
enum ktype {
	K_STR,		/* char *, any scalar text */
	K_NESTR,	/* char *, non-empty */
	K_INT,		/* int within [min, max] */
	K_LONG,		/* long within [min, max] */
	K_DUR,		/* int64_t milliseconds, >= min */
	K_BOOL,		/* bool */
	K_SEV,		/* int severity */
	K_SECTION,	/* a mapping applied with sub[] to the same target */
	K_CUSTOM	/* fn does everything */
};

#define KF_REQUIRED	0x01	/* missing is an error */
#define KF_MAIN_ONLY	0x02	/* top level: not in included files */

typedef void (*kfn)(struct loader *, const struct ynode *key,
    const struct ynode *val, void *target);
typedef int (*kcheck)(const char *val, char *err, size_t errlen);

struct kspec {
	const char		*name;
	enum ktype		 type;
	size_t			 off;	/* offsetof() into the target */
	long			 min, max;
	unsigned		 flags;
	unsigned		 types;	/* channels: allowed type mask; 0 = all */
	kfn			 fn;	/* K_CUSTOM */
	kcheck			 check;	/* optional validator for strings */
	const struct kspec	*sub;	/* K_SECTION */
	size_t			 nsub;
};

/* Per-file source text, read again lazily only to place errors inside
 * multi-line scalars. */
struct srcfile {
	char	*buf;
	size_t	 len;
	bool	 tried;
};

struct loader {
	struct config		*cf;
	struct diags		*d;
	struct config_opts	*opts;		/* may be NULL */
	size_t			 errors0;	/* d->errors when the load began */

	struct ydoc		**docs;		/* parallel to cf->files */
	char			**reals;	/* realpath of each file */
	const struct ynode	**rules_nodes;	/* each file's "rules:" value */
	struct srcfile		*srcs;
	size_t			 stack[CONFIG_MAX_INCLUDES + 1];
	size_t			 depth;		/* include chain length */
	size_t			 cur_file;	/* index of the file being applied */

	bool			*list_used;	/* parallel to cf->lists */
	bool			*chan_used;	/* parallel to cf->channels */
	const struct ynode	**chan_cal;	/* per channel: its "calendar" */
	size_t			 chan_cal_cap;
	const struct ynode	**after_nodes;	/* per rule: after.rule node */
	const struct ynode	**rule_nodes;	/* per rule: its mapping */
	size_t			 rules_cap;
	bool			 rules_full;

	/* while one rule is parsed */
	const struct ynode	*if_node;
	const struct ynode	*after_node;
	char			 ctx[160];	/* " in rule 'x'" */
};

/* Diagnostics at a node, or at a byte offset inside a scalar node's text. */
void	cerr(struct loader *, const struct ynode *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	cwarn(struct loader *, const struct ynode *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	cerr_off(struct loader *, const struct ynode *, size_t off,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
void	cwarn_off(struct loader *, const struct ynode *, size_t off,
	    const char *, ...) __attribute__((format(printf, 4, 5)));

/* schema_apply: check every key of map against specs[] and store the
 * values into target. ctx completes messages (" in rule 'x'"). chtype is
 * a channel type bit to check kspec.types against (0: no check). */
void	schema_apply(struct loader *, const struct ynode *map,
	    const struct kspec *, size_t, void *target, const char *ctx,
	    unsigned chtype);
/* expect_type: true if n has the type; else an error "expected a
 * mapping for 'what', found a list" and false. */
bool	expect_type(struct loader *, const struct ynode *, enum ynode_type,
	    const char *what);
bool	valid_name(const char *);
/* config_alert_field: is path one of the fields an alert itself gives a
 * template (alert_id, case_id, rule, severity, step, ...)? */
bool	config_alert_field(const char *path);
/* parse_notify: a notify value (CHANNEL or [CHANNEL...]) into n->chans. */
void	parse_notify(struct loader *, const struct ynode *, struct notify *);
/* compile_message: a template from a scalar node, or NULL after an
 * error. A NULL node gives the default message. */
struct tmpl *compile_message(struct loader *, const struct ynode *);
/* resolve_list: expr_list_resolver over the loader (marks lists used). */
const struct vlist *resolve_list(void *ld, const char *name);

/* dup_name: "duplicate list name 'x' (first defined at FILE:L:C)". */
void	dup_name(struct loader *, const struct ynode *, const char *what,
	    const char *file, int line, int col);
/* Validators for the tables (config_schema.c). */
int	check_redis_url(const char *, char *err, size_t errlen);
int	check_listen(const char *, char *err, size_t errlen);
/* input.max_past_skew ("auto", a duration, 0) and input.batch_bytes
 * (bytes, or with KiB/MiB/GiB), into the struct config target. */
/* config_compile_expr: an expression from scalar node n, or NULL after an
 * error placed on the offending token. */
struct expr *config_compile_expr(struct loader *, const struct ynode *n,
	    const char *what);
/* config_cases.c */
void	apply_resolution_codes(struct loader *, const struct ynode *,
	    const struct ynode *, void *);
void	apply_recovered_if(struct loader *, const struct ynode *,
	    const struct ynode *, void *);
void	apply_case_policy(struct loader *, const struct ynode *,
	    const struct ynode *, void *);
void	config_cases_defaults(struct config *);
void	apply_rule_assign(struct loader *, const struct ynode *,
	    const struct ynode *, void *);
void	apply_default_assign(struct loader *, const struct ynode *,
	    const struct ynode *, void *);
void	pool_free(struct pool *);
void	pool_copy(struct pool *dst, const struct pool *src);
void	config_cases_finish(struct config *);
void	config_free_codes(struct config *);
void	apply_past_skew(struct loader *, const struct ynode *key,
	    const struct ynode *val, void *target);
void	apply_batch_bytes(struct loader *, const struct ynode *key,
	    const struct ynode *val, void *target);

/* config_channels.c */
void	apply_channels(struct loader *, const struct ynode *key,
	    const struct ynode *val, void *target);

/* config_calendars.c: the "calendars:" section; calendars_free()
 * releases what it built (config_free). */
void	apply_calendars(struct loader *, const struct ynode *key,
	    const struct ynode *val, void *target);
void	calendars_free(struct config *);
/* calendar_ref: the calendar named by scalar n (NULL, with an error at
 * n naming the closest one, when there is none); channels_calendars:
 * resolve every channel's "calendar" once all files are read. */
const struct calendar *calendar_ref(struct loader *, const struct ynode *n,
	    const char *what);
void	channels_calendars(struct loader *);
/* config_console.c: the "console:" section (recoveryd-console). */
void	apply_console(struct loader *, const struct ynode *key,
	    const struct ynode *val, void *target);
void	config_console_defaults(struct config *);
void	config_console_free(struct config *);

/* config_rules.c */
void	rules_parse(struct loader *, const struct ynode *rules);
void	rules_resolve(struct loader *);
void	rule_free(struct rule *);
void	notify_free(struct notify *);

#endif
