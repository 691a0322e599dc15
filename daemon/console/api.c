/*
 * api.c — the routes of recoveryd-console (README, "Console") and the
 * common parts of every answer: the security headers, JSON bodies,
 * errors as {"error": "..."}, authorization by session or token, the
 * CSRF check of every change, and roles:
 *
 *   viewer      reads
 *   supervisor  also acts on cases, adds silences, expires its own
 *   admin       also expires others' silences, reads /api/audit
 *
 * Everything under /api/ needs a session (cookie) or a token (Bearer),
 * except POST /api/login; the page's static files are the login page's
 * too and are served to anyone (they hold no data).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "command.h"
#include "console.h"
#include "log.h"

#define CSP	"default-src 'self'; script-src 'self'; " \
		"style-src 'self'; img-src 'self' data:; " \
		"connect-src 'self'; object-src 'none'; base-uri 'none'; " \
		"form-action 'self'; frame-ancestors 'none'"

void
api_headers(struct evhttp_request *req, bool api)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Security-Policy", CSP);
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	if (api)
		evhttp_add_header(h, "Cache-Control", "no-store");
}

/* api_json: answer o (stolen) as JSON with status code. */
void
api_json(struct evhttp_request *req, int code, json_t *o)
{
	struct evbuffer *b = evbuffer_new();
	char *text = json_dumps(o, JSON_COMPACT);

	api_headers(req, true);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	if (b != NULL && text != NULL) {
		evbuffer_add(b, text, strlen(text));
		evbuffer_add(b, "\n", 1);
	}
	evhttp_send_reply(req, code, code == 200 ? "OK" : "", b);
	if (b != NULL)
		evbuffer_free(b);
	free(text);
	json_decref(o);
}

void
api_error(struct evhttp_request *req, int code, const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", json_string(msg));
	api_json(req, code, o);
}

/* body_json: the request's body as a JSON object, or NULL (and *why). */
static json_t *
body_json(struct evhttp_request *req, const char **why)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	json_error_t je;
	json_t *o;
	char *p;

	*why = "the body must be a JSON object";
	if (n > CONSOLE_BODY_MAX) {
		*why = "too large";
		return NULL;
	}
	if ((p = (char *)evbuffer_pullup(in, (ssize_t)n)) == NULL && n > 0)
		return NULL;
	if (n == 0)
		return json_object();
	o = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void
peer(struct evhttp_request *req, char *out, size_t len)
{
	struct evhttp_connection *ec = evhttp_request_get_connection(req);
	char *host = NULL;
	uint16_t port = 0;

	if (ec != NULL)
		evhttp_connection_get_peer(ec, &host, &port);
	snprintf(out, len, "%s", host != NULL ? host : "-");
}

static const char *
jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

struct login_req {
	struct console		*c;
	struct evhttp_request	*req;
};

static void
login_done(void *arg, int rc, const struct who *w, const char *sid,
    const char *csrf, int retry)
{
	struct login_req *lr = arg;
	struct evhttp_request *req = lr->req;
	char cookie[256], ra[16];
	json_t *o;

	if (rc == 2) {
		snprintf(ra, sizeof(ra), "%d", retry);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", ra);
		api_error(req, 429, "too many failed logins; try again later");
	} else if (rc == 1)
		api_error(req, 401, "wrong user or password");
	else if (rc != 0)
		api_error(req, 503, "the console is stopping");
	else {
		auth_cookie(lr->c->auth, req, sid, cookie, sizeof(cookie));
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Set-Cookie", cookie);
		o = json_object();
		json_object_set_new(o, "user", json_string(w->user));
		json_object_set_new(o, "role", json_string(role_name(w->role)));
		json_object_set_new(o, "csrf", json_string(csrf));
		api_json(req, 200, o);
	}
	free(lr);
}

static void
login(struct console *c, struct evhttp_request *req)
{
	const char *why, *user, *pw;
	struct login_req *lr;
	char addr[64];
	json_t *b;

	if ((b = body_json(req, &why)) == NULL) {
		api_error(req, 400, why);
		return;
	}
	user = jstr(b, "user");
	pw = jstr(b, "password");
	if (user == NULL || pw == NULL || user[0] == '\0' ||
	    strlen(user) > CONSOLE_NAME_MAX || strlen(pw) > 1024 ||
	    !utf8_valid(user, strlen(user))) {
		json_decref(b);
		api_error(req, 400,
		    "expected {\"user\": ..., \"password\": ...}");
		return;
	}
	peer(req, addr, sizeof(addr));
	lr = xcalloc(1, sizeof(*lr));
	lr->c = c;
	lr->req = req;
	if (auth_login(c->auth, user, pw, addr, login_done, lr) == -1) {
		free(lr);
		api_error(req, 503, "too many logins at once; try again");
	}
	json_decref(b);
}

static json_t *
codes_json(const struct config *cf)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < cf->nresolution_codes; i++)
		json_array_append_new(a, json_string(cf->resolution_codes[i]));
	return a;
}

static void
me(struct console *c, struct evhttp_request *req, const struct who *w)
{
	json_t *o = json_object();

	json_object_set_new(o, "user", json_string(w->user));
	json_object_set_new(o, "role", json_string(role_name(w->role)));
	if (!w->bearer)
		json_object_set_new(o, "csrf", json_string(auth_csrf(w)));
	json_object_set_new(o, "resolution_codes", codes_json(c->cf));
	api_json(req, 200, o);
}

static bool
is(const char *path, const char *want)
{
	return strcmp(path, want) == 0;
}

/* the routes that need a session or token, after the CSRF check */
static void
route(struct console *c, struct evhttp_request *req, struct who *w,
    const char *path, enum evhttp_cmd_type m)
{
	char id[ENGINE_ID_MAX + 1];
	const char *rest, *why, *op;
	bool change = m == EVHTTP_REQ_POST || m == EVHTTP_REQ_DELETE;
	json_t *b = NULL;
	size_t n;

	if (change && w->role < ROLE_SUPERVISOR && !is(path, "/api/logout")) {
		api_error(req, 403, "your role may not change anything");
		return;
	}
	if (m == EVHTTP_REQ_POST && (b = body_json(req, &why)) == NULL) {
		api_error(req, 400, why);
		return;
	}
	if (is(path, "/api/logout") && m == EVHTTP_REQ_POST) {
		char cookie[256], addr[64];


		peer(req, addr, sizeof(addr));
		auth_logout(c->auth, w, addr);
		auth_cookie(c->auth, req, "", cookie, sizeof(cookie));
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Set-Cookie", cookie);
		api_json(req, 200, json_pack("{s:b}", "ok", 1));
	} else if (is(path, "/api/me") && m == EVHTTP_REQ_GET)
		me(c, req, w);
	else if (is(path, "/api/resolution_codes") && m == EVHTTP_REQ_GET)
		api_json(req, 200, codes_json(c->cf));
	else if (is(path, "/api/audit") && m == EVHTTP_REQ_GET) {
		if (w->role < ROLE_ADMIN)
			api_error(req, 403, "only an admin reads the audit");
		else
			api_json(req, 200, auth_audit(c->auth));
	} else if (is(path, "/api/stream") && m == EVHTTP_REQ_GET)
		stream_open(c->streams, req, w);
	else if (is(path, "/api/cases") && m == EVHTTP_REQ_GET)
		cases_list(c, req, w);
	else if (is(path, "/api/report") && m == EVHTTP_REQ_GET)
		report_get(c, req);
	else if (is(path, "/api/silences") && m == EVHTTP_REQ_GET)
		api_silences_get(c, req);
	else if (is(path, "/api/silences") && m == EVHTTP_REQ_POST) {
		api_silence_add(c, req, w, b);
	} else if (strncmp(path, "/api/silences/", 14) == 0 &&
	    m == EVHTTP_REQ_DELETE)
		api_silence_expire(c, req, w, path + 14);
	else if (strncmp(path, "/api/cases/", 11) == 0) {
		rest = path + 11;
		n = strcspn(rest, "/");
		if (n == 0 || n >= sizeof(id) || !command_case_ok(rest, n)) {
			api_error(req, 404, "no such case");
			goto done;
		}
		memcpy(id, rest, n);
		id[n] = '\0';
		op = rest[n] == '/' ? rest + n + 1 : NULL;
		if (op == NULL && m == EVHTTP_REQ_GET)
			case_get(c, req, id);
		else if (op != NULL && m == EVHTTP_REQ_POST &&
		    (is(op, "ack") || is(op, "assign") || is(op, "note") ||
		    is(op, "resolve") || is(op, "reopen")))
			case_command(c, req, w, id, op, b);
		else if (op != NULL && !is(op, "ack") && !is(op, "assign") &&
		    !is(op, "note") && !is(op, "resolve") && !is(op, "reopen"))
			api_error(req, 404, "no such action");
		else
			api_error(req, 405, "method not allowed");
	} else
		api_error(req, 404, "no such endpoint");
done:
	json_decref(b);
}

void
api_request(struct evhttp_request *req, void *arg)
{
	struct console *c = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *path = u != NULL ? evhttp_uri_get_path(u) : NULL;
	struct who w;

	if (path == NULL || path[0] != '/') {
		api_error(req, 400, "bad request");
		return;
	}
	if (strncmp(path, "/api/", 5) != 0) {
		if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
			api_error(req, 405, "method not allowed");
			return;
		}
		assets_serve(c, req, path);
		return;
	}
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_POST &&
	    m != EVHTTP_REQ_DELETE) {
		api_error(req, 405, "method not allowed");
		return;
	}
	if (is(path, "/api/login")) {
		if (m != EVHTTP_REQ_POST)
			api_error(req, 405, "method not allowed");
		else
			login(c, req);
		return;
	}
	if (auth_request(c->auth, req, &w) == -1) {
		api_error(req, 401, "log in first");
		return;
	}
	if (m != EVHTTP_REQ_GET && !auth_csrf_ok(c->auth, req, &w)) {
		api_error(req, 403, "missing or wrong X-CSRF-Token");
		return;
	}
	route(c, req, &w, path, m);
}
