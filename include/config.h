/*
 * config.h — the loaded, validated configuration (docs/configuration.md).
 *
 * config_load() reads the main file and its includes, checks the whole
 * schema, compiles expressions and templates, resolves references
 * (channels, lists, rules), and reports every problem as a diagnostic with
 * FILE:LINE:COL. It returns NULL if there was any error; warnings alone
 * (for example an unknown field of a known event type) do not fail.
 *
 * A struct config is immutable once loaded: the daemon swaps whole configs
 * on SIGHUP, so a reload is atomic. Everything it points to is owned by it
 * and released by config_free().
 */
#ifndef RECOVERYD_CONFIG_H
#define RECOVERYD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "expr.h"
#include "template.h"
#include "value.h"

#define CONFIG_MAX_RULES	10000
#define CONFIG_MAX_CHANNELS	1000
#define CONFIG_MAX_LISTS	1000
#define CONFIG_MAX_INCLUDES	256

enum severity { SEV_LOW = 1, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };
const char	*severity_name(int);		/* "low".."critical" */
int		 severity_parse(const char *);	/* 0 if unknown */

enum chan_type { CH_STREAM, CH_LIST, CH_WEBHOOK, CH_EXEC, CH_SYSLOG };
const char	*chan_type_name(enum chan_type);

struct header {
	char	*name;
	char	*value;		/* may hold ${ENV} references, expanded at send time */
};

struct channel {
	char		*name;
	enum chan_type	 type;
	const char	*file;
	int		 line, col;
	/* stream, list */
	char		*key;
	bool		 contact;	/* list: it reaches the customer (limits:
					 * callbacks, do_not_call) */
	long		 maxlen;	/* stream: MAXLEN ~ (default 100000) */
	/* webhook */
	char		*url;
	struct header	*headers;
	size_t		 nheaders;
	char		*ca_file;
	int		 retries;	/* webhook, exec (default 6 / 3) */
	int64_t		 timeout_ms;	/* webhook, exec (default 5s / 10s) */
	/* exec */
	struct tmpl	**argv;		/* argc compiled templates */
	size_t		 argc;
	int		 max_running;	/* default 4 */
	/* syslog */
	int		 priority;	/* LOG_WARNING etc. (default LOG_WARNING) */
	/* calendar: NAME — delivers only while it is open (engine.h,
	 * engine_deliver_at); NULL: always */
	char		*calendar_name;
	const struct calendar *calendar;
};

/* One "notify" of an action or an escalation step. */
struct notify {
	size_t		*chans;		/* indices into config->channels */
	size_t		 nchans;
	struct tmpl	*message;	/* never NULL: a default when absent */
};

struct esc_step {
	int64_t		 after_ms;
	struct notify	 n;
	/* calendar: NAME — the step's alerts go out only while it is open;
	 * business_time: after counts only its open time (calendar_add) */
	const struct calendar *calendar;
	bool		 business_time;
	const char	*file;
	int		 line;
};

enum agg_fn { AGG_COUNT, AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX, AGG_NPS };
const char	*agg_fn_name(enum agg_fn);

/* assign: {pool: [...], strategy: round_robin | least_open} */
struct pool {
	char		**names;	/* n == 0: no pool */
	size_t		 n;
	bool		 least_open;
};

struct rule {
	char		*name;
	char		*description;	/* may be NULL */
	bool		 enabled;
	const char	*file;
	int		 line, col;
	char		**on;		/* event types */
	size_t		 non;
	struct expr	*cond;		/* NULL: every event of those types */
	char		*cond_src;
	int		 severity;

	bool		 has_count;
	struct {
		char	*by;		/* field path */
		int	 at_least;	/* >= 1 */
		int64_t	 within_ms;	/* > 0 */
	} count;

	bool		 has_aggregate;
	struct {
		char		*by;
		enum agg_fn	 fn;
		char		*field;		/* NULL for count() */
		int64_t		 within_ms;
		int		 min_samples;	/* default 1 */
		struct expr	*alert_if;	/* over "value" and "samples" */
		char		*alert_rpn;	/* alert_if as RPN (expr_numeric_rpn) */
	} aggregate;

	bool		 has_after;
	struct {
		char	*rule;
		size_t	 rule_idx;	/* index into config->rules */
		char	*by;
		int64_t	 within_ms;
	} after;

	int64_t		 cooldown_ms;	/* 0 disables; default from defaults */
	bool		 no_case;	/* case: none (only notifies) */
	struct pool	 pool;		/* who owns the cases it opens */
	int64_t		 sla_ms;	/* sla: due time of its case; 0 none */
	char		*cooldown_key;	/* by of count/aggregate/after, else "customer_id" */

	struct notify	*actions;
	size_t		 nactions;
	struct esc_step	*escalate;	/* sorted by after_ms */
	size_t		 nescalate;

	/*
	 * Filled at load time from the rules that correlate on this one
	 * ("after: {rule: <this>, by: F}"): the fields F whose values must
	 * be remembered when this rule fires (pointers to those rules'
	 * after.by, not owned), and the longest of their windows.
	 */
	const char	**remember;
	size_t		 nremember;
	int64_t		 remember_ms;
};

struct config {
	char		*path;		/* main file */
	char		**files;	/* every file read, main first */
	size_t		 nfiles;

	char		*redis_url;	/* default redis://127.0.0.1:6379/0 */

	char		*input_stream;	/* ivr:events */
	char		*input_group;	/* recoveryd */
	char		*input_consumer;/* NULL: <hostname>:<pid> */
	int		 input_batch;	/* 256 (1..10000) */
	int64_t		 claim_idle_ms;	/* 30s (outbox deliveries) */
	int		 max_deliveries;/* 5 (1..1000) */
	char		*dead_letter;	/* <input_stream>:dead */
	int64_t		 max_future_skew_ms;	/* 7d; 0: no bound */
	int64_t		 max_past_skew_ms;	/* -1 "auto" (default), 0: no bound */
	long		 batch_bytes;	/* 8 MiB (1 MiB .. 1 GiB): one read's budget */

	char		*http_listen;	/* "127.0.0.1:9464"; "" disables */
	int		 http_max_conns;	/* 64 (1..10000) */
	int64_t		 http_request_timeout_ms; /* 5s: to send a whole request */

	/* The HTTP intake (intake.h): "" disables */
	char		*intake_listen;		/* "" (default: off) */
	char		*intake_tokens_file;	/* NULL: none (required with listen) */
	long		 intake_max_body;	/* 1 MiB (1 KiB .. 64 MiB) */
	int		 intake_max_events;	/* 500 (1..500) a request */
	int		 intake_max_conns;	/* 256 (1..10000) */
	int64_t		 intake_request_timeout_ms; /* 5s */

	int64_t		 default_cooldown_ms;	/* 1h */
	int		 default_severity;	/* medium */
	int64_t		 default_sla_ms;	/* defaults.sla: 0 none */
	struct pool	 default_pool;		/* defaults.assign */
	bool		 has_pools;		/* some rule assigns from a pool */

	/* The closed loop (cases: and resolution_codes:) */
	int64_t		 reopen_within_ms;	/* 7d; 0: never reopen */
	int64_t		 outcome_within_ms;	/* 30d */
	struct expr	*recovered_if;		/* csat >= 4 or nps >= 7 */
	char		*recovered_src;
	long		 history_max;		/* entries kept per case: 200 */
	char		**resolution_codes;
	size_t		 nresolution_codes;
	/* limits.callbacks: contact alerts per customer (0: no limit) */
	long		 contact_max;
	int64_t		 contact_within_ms;

	int64_t		 ha_lease_ms;	/* ha.lease: the owner lease, 3s
					 * (500ms .. 1h) */
	long		 state_cache;	/* state.cache: resident entities,
					 * 10000 (1000 .. 100000000) */

	char		*enrich_customer_key;	/* "ivr:customer:{customer_id}"; NULL disables */
	char		*state_prefix;		/* "ivr:" */
	char		*undelivered_stream;	/* <state_prefix>alerts:undelivered */

	struct vlist	*lists;
	size_t		 nlists;
	struct channel	*channels;
	size_t		 nchannels;
	struct rule	*rules;
	size_t		 nrules;

	struct rindex	*rindex;	/* rules by type and guard (rindex.h); may be NULL */

	/* calendars: business hours (calendar.h, config_calendars.c), in
	 * the order defined; config_calendar() finds one by name */
	struct calendar	**calendars;
	size_t		 ncalendars;
	/* console: recoveryd-console's settings (config_console.c) */
	char		*console_listen;	/* "127.0.0.1:9465" */
	char		*console_users_file;	/* /etc/recoveryd/console.users */
	char		*console_tokens_file;	/* NULL: users_file".tokens" */
	char		*console_assets;	/* /usr/share/recoveryd/console */
	int64_t		 console_session_ttl_ms;	/* 12h, absolute */
	int64_t		 console_session_idle_ms;	/* 1h without a request */
	bool		 console_secure_cookies;
	int		 console_max_conns;	/* 256 */
	int		 console_max_streams;	/* 1000 open /api/stream */
	int64_t		 console_request_timeout_ms;	/* 10s */
	int		 console_login_attempts;	/* 5 failures ... */
	int64_t		 console_login_window_ms;	/* ... per 5m */
	int64_t		 console_command_timeout_ms;	/* 5s: the owner's answer */
};

/* config_load: see the top of this file. d receives every diagnostic. */
struct config	*config_load(const char *path, struct diags *d);

/*
 * config_load_opts: config_load with what only a shell can supply.
 * program_check (may be NULL) is asked about each exec channel's argv[0]
 * (an absolute, literal path): it returns -1 with a reason in err when
 * the program cannot run (missing, not executable), an error at that
 * element. The pure loader does no such I/O itself; recoveryd and
 * "recoveryctl check" pass cli_program_check, test and replay (which run
 * no program) pass nothing. On return files/nfiles hold copies of the
 * paths of every file read, main first, also when the load failed
 * (free them with config_opts_release).
 */
struct config_opts {
	int	 (*program_check)(const char *path, char *err, size_t errlen);
	char	**files;
	size_t	  nfiles;
};
struct config	*config_load_opts(const char *path, struct diags *d,
		    struct config_opts *);
void		 config_opts_release(struct config_opts *);
void		 config_free(struct config *);

/*
 * config_load_redis: what recoveryctl's commands that only talk to Redis
 * need, from a configuration whose rules may be broken (README, "Commands": a
 * broken rule file never stops ack, cases or push). The main file must parse
 * as YAML; its redis section, input.stream and state.prefix are checked as
 * config_load checks them, and their errors (FILE:LINE:COL in d) make it
 * return NULL. Everything else — the other keys and sections, lists,
 * channels, rules, included files — is read as far as it goes and its
 * problems are ignored: the result has no rules, and the channels whose
 * definitions could be read (one with an error may lack its key). Free it
 * with config_free().
 */
struct config	*config_load_redis(const char *path, struct diags *d);

/*
 * config_keep_restart: on reload, copy into next the running values of
 * the settings the daemon reads only at start — redis.url, input.stream,
 * input.group, input.consumer, http.listen, http.max_connections,
 * intake.listen, intake.max_connections, intake.max_body,
 * intake.request_timeout,
 * http.request_timeout, state.prefix, state.cache — and re-derive what
 * follows from them (the undelivered stream; input.dead_letter when it
 * was the default of the new stream). Returns how many differed, with their
 * names, comma-separated, in changed (cut to cap bytes).
 */
size_t		 config_keep_restart(struct config *next,
		    const struct config *running, char *changed, size_t cap);

const struct channel	*config_channel(const struct config *, const char *name);
const struct rule	*config_rule(const struct config *, const char *name);
/* config_has_contact: some channel is marked contact: true (so the CRM
 * hash is read for do_not_call). */
bool			 config_has_contact(const struct config *);
/* config_resolution_code: code is one of resolution_codes. */
bool			 config_resolution_code(const struct config *,
			    const char *code);
const struct vlist	*config_list(const struct config *, const char *name);

/* A parsed redis.url: redis://[[user]:password@]host[:port][/db] or
 * unix:///path/to.sock[?db=N]. */
struct redis_target {
	bool	unix_socket;
	char	host[256];
	int	port;		/* default 6379 */
	char	path[256];
	int	db;		/* default 0 */
	char	username[256];	/* ACL user ("": default); REDIS_USERNAME overrides */
	char	password[256];	/* from the URL; REDIS_PASSWORD overrides */
};
/*
 * redis_auth_args: the AUTH command for t: "AUTH user password" for an ACL
 * user, "AUTH password" for the default user. Fills av/al (pointing into
 * t) and returns the argument count, or 0 when t needs no AUTH.
 */
int	redis_auth_args(const struct redis_target *t, const char *av[3],
	    size_t al[3]);
/* redis_url_parse: returns 0, or -1 with a message in err. */
int	redis_url_parse(const char *url, struct redis_target *, char *err,
	    size_t errlen);

#endif
