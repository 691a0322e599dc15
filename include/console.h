/*
 * console.h — recoveryd-console (README, "Console"): a web console and a
 * JSON API over the same Redis state as recoveryd, in its own process.
 *
 * The files of daemon/console/:
 *   main.c     options, configuration, the loop, signals
 *   auth.c     users and tokens files, passwords (crypt(3) on a worker
 *              thread), sessions, CSRF tokens, login rate limits, roles
 *   api.c      the routes of /api/, headers, errors, roles
 *   cases.c    GET /api/cases and /api/cases/ID
 *   actions.c  POST /api/cases/ID/ACTION: people's commands (command.h)
 *   report.c   GET /api/report
 *   silences.c GET|POST|DELETE /api/silences
 *   fetch.c    one command, many case hashes pipelined, reply getters
 *   mirror.c   the open cases in memory, kept by the subscription
 *   stream.c   GET /api/stream: one subscription to P.."cases:changed"
 *              fanned out to every open page (Server-Sent Events)
 *   assets.c   the page's static files
 *
 * One libevent loop (and the login worker): nothing waits on Redis but
 * through a callback; a command's answer has console.command_timeout, a
 * read console.request_timeout (then the connection is dropped, and
 * redis.h reconnects).
 */
#ifndef RECOVERYD_CONSOLE_H
#define RECOVERYD_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "config.h"
#include "redis.h"
#include "util.h"

#define CONSOLE_BODY_MAX	16384	/* request bodies, bytes */
#define CONSOLE_SESSIONS_MAX	4096
#define CONSOLE_NAME_MAX	64	/* user names */

enum role { ROLE_NONE, ROLE_VIEWER, ROLE_SUPERVISOR, ROLE_ADMIN };
const char	*role_name(enum role);
enum role	 role_parse(const char *);

/* Who a request is: from a session cookie or a bearer token. */
struct who {
	char		 user[CONSOLE_NAME_MAX + 1];
	enum role	 role;
	bool		 bearer;	/* no cookie: no CSRF needed */
	struct session	*s;		/* NULL for a bearer token */
};

struct console {
	struct event_base	*base;
	struct config		*cf;
	char			 assets[4096];	/* realpath of the assets */
	struct http_listener	*http;
	struct rconn		*rc;		/* commands and reads */
	struct rconn		*sub;		/* the one SUBSCRIBE */
	redisAsyncContext	*subac;		/* sub's context, while up */
	char			 chan[512];	/* P.."cases:changed" */
	struct auth		*auth;
	struct streams		*streams;
	struct mirror		*mirror;
	struct pending		*pending;	/* commands awaiting answers */
	struct event		*poll;		/* their answers */
	size_t			 npending;
	int64_t			 answered_ms;	/* rc's last answer (fetch.c) */
	struct event		*watch;		/* ... none for long: drop rc */
};

/* auth.c */
struct auth	*auth_new(const struct config *, struct event_base *,
		    char *err, size_t errlen);
/* auth_free: also answers the logins still waiting (rc 3). */
void		 auth_free(struct auth *);
/*
 * auth_login: check user/password on the crypt(3) worker (as long for
 * an unknown user as for a wrong password), rate-limited per user and
 * per client address; later (or at once when limited) cb(arg, rc, w,
 * sid, csrf, retry_s): rc 0 a new session (w, its cookie value sid and
 * CSRF token, valid during the call), 1 refused, 2 rate-limited
 * (retry_s), 3 the console is stopping. Returns 0, or -1 when too many
 * logins wait (cb is not called).
 */
typedef void	(*login_cb)(void *arg, int rc, const struct who *w,
		    const char *sid, const char *csrf, int retry_s);
int		 auth_login(struct auth *, const char *user,
		    const char *password, const char *addr, login_cb cb,
		    void *arg);
/* auth_request: who req is (cookie "rdsession" or Authorization:
 * Bearer). Returns 0, or -1 (no valid session or token). */
int		 auth_request(struct auth *, struct evhttp_request *,
		    struct who *);
/* auth_csrf_ok: the request's X-CSRF-Token is w's session's. */
bool		 auth_csrf_ok(struct auth *, struct evhttp_request *,
		    const struct who *);
const char	*auth_csrf(const struct who *);
void		 auth_logout(struct auth *, struct who *, const char *addr);
/* auth_audit: the last logins and refusals, newest first (JSON array,
 * the caller decrefs). */
json_t		*auth_audit(struct auth *);
/* auth_cookie: the Set-Cookie value for sid (empty sid: clear it). */
void		 auth_cookie(const struct auth *, struct evhttp_request *,
		    const char *sid, char *out, size_t len);
/* ct_equal: constant-time compare of two strings' bytes. */
bool		 ct_equal(const char *a, const char *b);

/* api.c */
void		 api_request(struct evhttp_request *, void *console);
void		 api_error(struct evhttp_request *, int code, const char *msg);
void		 api_json(struct evhttp_request *, int code, json_t *o);
void		 api_headers(struct evhttp_request *, bool api);

/* fetch.c */
struct redisReply;
/* console_cmd: one command on the console's connection (rconn_cmd). */
int		 console_cmd(struct console *, redisCallbackFn *cb, void *arg,
		    int argc, const char **argv);
/* console_watch_start: drop that connection when answers are due and
 * none came for console.request_timeout (its callbacks then answer). */
void		 console_watch_start(struct console *);
/* reply_is_hash: an HGETALL reply of field/value strings. */
bool		 reply_is_hash(const struct redisReply *);
/* reply_get: a field of a valid HGETALL reply (caseview's getter). */
const char	*reply_get(const void *reply, const char *field);
/*
 * case_fetch: HGETALL P.."case:"..ID for each of the n IDs, pipelined;
 * each(arg, i, id, reply) for every answer in order (reply NULL when
 * lost or not a hash; empty when the case is gone), then
 * done(arg, failed) once (failed: the connection was lost, or was not
 * up, and some were not read). case_fetch_reply: the same for the
 * strings of an array reply (a ZRANGE).
 */
void		 case_fetch(struct console *, const char *const *ids,
		    const size_t *lens, size_t n,
		    void (*each)(void *, size_t, const char *,
		    const struct redisReply *),
		    void (*done)(void *, bool), void *arg);
void		 case_fetch_reply(struct console *, const struct redisReply *,
		    void (*each)(void *, size_t, const char *,
		    const struct redisReply *),
		    void (*done)(void *, bool), void *arg);

/* cases.c, actions.c, report.c */
void		 cases_list(struct console *, struct evhttp_request *,
		    const struct who *);
void		 case_get(struct console *, struct evhttp_request *,
		    const char *id);
void		 case_command(struct console *, struct evhttp_request *,
		    const struct who *, const char *id, const char *op,
		    json_t *body);
void		 report_get(struct console *, struct evhttp_request *);
void		 api_silences_get(struct console *, struct evhttp_request *);
void		 api_silence_add(struct console *, struct evhttp_request *,
		    const struct who *, json_t *body);
void		 api_silence_expire(struct console *, struct evhttp_request *,
		    const struct who *, const char *id);
void		 pending_start(struct console *);
void		 pending_free(struct console *);

/* stream.c */
struct streams	*streams_new(struct console *);
void		 streams_free(struct streams *);
void		 stream_open(struct streams *, struct evhttp_request *,
		    const struct who *);
/* streams_up: the subscription connected (true) or was lost. */
void		 streams_sub_state(struct streams *, bool up);

/* mirror.c: the open cases, in memory */
struct mirror	*mirror_new(struct console *);
void		 mirror_free(struct mirror *);
/* mirror_reload: read every open case again (one reload at a time). */
void		 mirror_reload(struct mirror *);
/* mirror_changed: read the cases of a message of P.."cases:changed"
 * again, then call done(arg) (at once when there is nothing to read). */
void		 mirror_changed(struct mirror *, const char *msg, size_t len,
		    void (*done)(void *), void *arg);
/* mirror_foreach: fn for each open case (kv: n field/value pairs);
 * -1 (and no call) before the first load has completed. */
struct case_key;
int		 mirror_foreach(struct mirror *, void (*fn)(void *,
		    const char *id, const char *const *kv, size_t n,
		    const struct case_key *), void *arg);
size_t		 mirror_size(const struct mirror *);

/* assets.c */
void		 assets_serve(struct console *, struct evhttp_request *,
		    const char *path);

#endif
