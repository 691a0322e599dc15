/*
 * auth.c — who may use the console (README, "Console").
 *
 * Users: console.users_file, one line a user, "name:role:hash" (role
 * viewer, supervisor or admin; the hash from crypt(3): yescrypt by
 * default, bcrypt and the other methods of libxcrypt accepted), written
 * by `recoveryctl user`. API tokens: console.tokens_file (default the
 * users file's name plus ".tokens"), "name:id:hash", the hash crypt(3)
 * of the token's secret; a token is "ID.SECRET" and is sent as
 * "Authorization: Bearer ID.SECRET". Both files are read again when
 * their modification time or size changes (checked at most once a
 * second), so `recoveryctl user remove` or `user token revoke` takes
 * effect within a second, for sessions too: a session names its user,
 * whose role is looked up on every request.
 *
 * Sessions live in this process's memory (a restart logs everyone out:
 * simpler than a store, and a console restart is rare): an ID of 256
 * random bits (getrandom), a CSRF token of 256 more, an absolute expiry
 * (console.session_ttl) and an idle one (console.session_idle). They are
 * found by comparing the cookie with every session in constant time.
 *
 * Logins: a wrong password or an unknown user costs the same crypt(3)
 * (the unknown one is checked against a hash made at start with the
 * default method), and failures are counted per user name and per
 * client address: console.login_attempts failures within
 * console.login_window refuse further attempts (429, Retry-After) until
 * the window has passed. Passwords and tokens are never logged; the
 * audit (GET /api/audit, admin) keeps the last AUDIT_MAX logins,
 * logouts and refusals in memory.
 */
#include <sys/random.h>
#include <sys/types.h>
#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "console.h"
#include "log.h"

#define USERS_MAX	10000
#define LIMITS_MAX	4096
#define AUDIT_MAX	500
#define ID_BYTES	32	/* 256 bits */
#define COOKIE		"rdsession"

struct user {
	char		*name;
	enum role	 role;
	char		*hash;
};

struct token {
	char		*user;
	char		*id;
	char		*hash;
	char		*ok;		/* the whole token, once verified */
};

struct session {
	char		 sid[2 * ID_BYTES + 1];
	char		 csrf[2 * ID_BYTES + 1];
	char		 user[CONSOLE_NAME_MAX + 1];
	int64_t		 created_ms, last_ms;
	bool		 used;
};

struct limit {
	char		 key[160];	/* "u:NAME" or "a:ADDR" */
	int		 fails;
	int64_t		 since_ms;
};

struct audit {
	int64_t		 at_ms;
	char		 user[CONSOLE_NAME_MAX + 1];
	char		 addr[64];
	const char	*what;		/* login, logout, refused, limited */
};

#define JOBS_MAX	64

struct job {
	struct job	*next;
	char		*hash, *pw;
	char		 user[CONSOLE_NAME_MAX + 1];
	char		 addr[64];
	bool		 known, ok;
	login_cb	 cb;
	void		*arg;
};

static void	*worker(void *);
static void	 pipe_cb(evutil_socket_t, short, void *);
static void	 job_free(struct job *);

struct filewatch {
	char		*path;
	time_t		 mtime;
	long		 mtime_ns;
	off_t		 size;
	bool		 seen;
};

struct auth {
	const struct config	*cf;
	struct user		*users;
	size_t			 nusers;
	struct token		*tokens;
	size_t			 ntokens;
	struct filewatch	 uw, tw;
	int64_t			 checked_ms;
	char			*dummy;		/* for unknown users */
	struct session		*s;		/* CONSOLE_SESSIONS_MAX */
	struct limit		*lim;		/* LIMITS_MAX */
	struct audit		 audit[AUDIT_MAX];
	size_t			 naudit, audit_next;
	/* the crypt(3) worker (logins) */
	pthread_t		 thread;
	bool			 started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct job		*todo, *done;	/* under mu */
	bool			 stop;		/* under mu */
	size_t			 njobs;		/* the loop's count */
	int			 pipe[2];
	struct event		*ev;
};

static int64_t
now_ms(void)
{
	return (int64_t)(now_wall() * 1000.0);
}

const char *
role_name(enum role r)
{
	switch (r) {
	case ROLE_VIEWER:
		return "viewer";
	case ROLE_SUPERVISOR:
		return "supervisor";
	case ROLE_ADMIN:
		return "admin";
	default:
		return "none";
	}
}

enum role
role_parse(const char *s)
{
	if (strcmp(s, "viewer") == 0)
		return ROLE_VIEWER;
	if (strcmp(s, "supervisor") == 0)
		return ROLE_SUPERVISOR;
	if (strcmp(s, "admin") == 0)
		return ROLE_ADMIN;
	return ROLE_NONE;
}

bool
ct_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* hex_random: n random bytes as 2n hex digits into out (2n + 1). */
static int
hex_random(char *out, size_t n)
{
	unsigned char r[64];
	size_t got = 0, i;
	ssize_t k;

	if (n > sizeof(r))
		return -1;
	while (got < n) {
		k = getrandom(r + got, n - got, 0);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	explicit_bzero(r, sizeof(r));
	return 0;
}

/* changed: whether the file differs from what was last read. */
static bool
changed(struct filewatch *fw)
{
	struct stat st;

	if (stat(fw->path, &st) == -1) {
		if (!fw->seen)
			return false;
		fw->seen = false;
		return true;
	}
	if (fw->seen && st.st_mtim.tv_sec == fw->mtime &&
	    st.st_mtim.tv_nsec == fw->mtime_ns && st.st_size == fw->size)
		return false;
	fw->seen = true;
	fw->mtime = st.st_mtim.tv_sec;
	fw->mtime_ns = st.st_mtim.tv_nsec;
	fw->size = st.st_size;
	return true;
}

/* fields3: split "a:b:c" (c may not hold ':'); false if not 3 fields. */
static bool
fields3(char *line, char **a, char **b, char **c)
{
	char *p, *q;

	if ((p = strchr(line, ':')) == NULL || (q = strchr(p + 1, ':')) ==
	    NULL || strchr(q + 1, ':') != NULL)
		return false;
	*p = *q = '\0';
	*a = line;
	*b = p + 1;
	*c = q + 1;
	return **a != '\0' && **b != '\0' && **c != '\0';
}

static void
users_clear(struct auth *a)
{
	size_t i;

	for (i = 0; i < a->nusers; i++) {
		free(a->users[i].name);
		free(a->users[i].hash);
	}
	free(a->users);
	a->users = NULL;
	a->nusers = 0;
	for (i = 0; i < a->ntokens; i++) {
		free(a->tokens[i].user);
		free(a->tokens[i].id);
		free(a->tokens[i].hash);
		free(a->tokens[i].ok);
	}
	free(a->tokens);
	a->tokens = NULL;
	a->ntokens = 0;
}

/* load_file: each "x:y:z" line of path to fn; others are logged. */
static void
load_file(struct auth *a, const char *path,
    void (*fn)(struct auth *, char *, char *, char *))
{
	char line[1024], *x, *y, *z;
	size_t n, lineno = 0;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			log_warn("%s", path);
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (!fields3(line, &x, &y, &z)) {
			log_warnx("%s:%zu: not name:field:hash, skipped", path,
			    lineno);
			continue;
		}
		fn(a, x, y, z);
	}
	(void)fclose(fp);
}

static void
add_user(struct auth *a, char *name, char *role, char *hash)
{
	enum role r = role_parse(role);

	if (r == ROLE_NONE || strlen(name) > CONSOLE_NAME_MAX ||
	    a->nusers >= USERS_MAX) {
		log_warnx("%s: user '%s' skipped (unknown role or too many)",
		    a->uw.path, name);
		return;
	}
	a->users = xreallocarray(a->users, a->nusers + 1, sizeof(*a->users));
	a->users[a->nusers].name = xstrdup(name);
	a->users[a->nusers].role = r;
	a->users[a->nusers].hash = xstrdup(hash);
	a->nusers++;
}

static void
add_token(struct auth *a, char *user, char *id, char *hash)
{
	if (a->ntokens >= USERS_MAX)
		return;
	a->tokens = xreallocarray(a->tokens, a->ntokens + 1,
	    sizeof(*a->tokens));
	a->tokens[a->ntokens].user = xstrdup(user);
	a->tokens[a->ntokens].id = xstrdup(id);
	a->tokens[a->ntokens].hash = xstrdup(hash);
	a->tokens[a->ntokens].ok = NULL;
	a->ntokens++;
}

/* refresh: read the files again when one changed (at most once a
 * second). */
static void
refresh(struct auth *a)
{
	int64_t now = now_ms();
	bool u, t;

	if (a->checked_ms != 0 && now - a->checked_ms < 1000)
		return;
	a->checked_ms = now;
	u = changed(&a->uw);
	t = changed(&a->tw);
	if (!u && !t && a->users != NULL)
		return;
	users_clear(a);
	load_file(a, a->uw.path, add_user);
	load_file(a, a->tw.path, add_token);
	log_debug("%zu console users, %zu tokens", a->nusers, a->ntokens);
}

static const struct user *
user_find(struct auth *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nusers; i++)
		if (strcmp(a->users[i].name, name) == 0)
			return &a->users[i];
	return NULL;
}

/* hash_ok: crypt(3) of pw with the salt of hash is hash. */
static bool
hash_ok(const char *pw, const char *hash)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *h;
	bool ok;

	h = crypt_r(pw, hash, cd);
	ok = h != NULL && h[0] != '*' && ct_equal(h, hash);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

struct auth *
auth_new(const struct config *cf, struct event_base *base, char *err,
    size_t errlen)
{
	struct auth *a = xcalloc(1, sizeof(*a));
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], pw[33];
	struct crypt_data *cd;
	const char *h;

	a->cf = cf;
	a->uw.path = xstrdup(cf->console_users_file);
	a->tw.path = cf->console_tokens_file != NULL ?
	    xstrdup(cf->console_tokens_file) :
	    xasprintf("%s.tokens", cf->console_users_file);
	a->s = xcalloc(CONSOLE_SESSIONS_MAX, sizeof(*a->s));
	a->pipe[0] = a->pipe[1] = -1;
	a->lim = xcalloc(LIMITS_MAX, sizeof(*a->lim));
	cd = xcalloc(1, sizeof(*cd));
	if (hex_random(pw, 16) == -1 ||
	    crypt_gensalt_rn(NULL, 0, NULL, 0, salt, sizeof(salt)) == NULL ||
	    (h = crypt_r(pw, salt, cd)) == NULL || h[0] == '*') {
		snprintf(err, errlen, "cannot make a password hash: %s",
		    strerror(errno));
		free(cd);
		auth_free(a);
		return NULL;
	}
	a->dummy = xstrdup(h);
	free(cd);
	refresh(a);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	if (pipe(a->pipe) == -1 || fcntl(a->pipe[0], F_SETFD, FD_CLOEXEC) ==
	    -1 || fcntl(a->pipe[1], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(a->pipe[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(a->pipe[1], F_SETFL, O_NONBLOCK) == -1 ||
	    (a->ev = event_new(base, a->pipe[0], EV_READ | EV_PERSIST, pipe_cb,
	    a)) == NULL || event_add(a->ev, NULL) == -1 ||
	    pthread_create(&a->thread, NULL, worker, a) != 0) {
		snprintf(err, errlen, "cannot start the login worker: %s",
		    strerror(errno));
		auth_free(a);
		return NULL;
	}
	a->started = true;
	return a;
}

void
auth_free(struct auth *a)
{
	struct job *j, *lists[2];
	size_t k;

	if (a == NULL)
		return;
	if (a->started) {
		pthread_mutex_lock(&a->mu);
		a->stop = true;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
	}
	/* logins still waiting are answered: shutting down */
	lists[0] = a->todo;
	lists[1] = a->done;
	for (k = 0; k < 2; k++)
		while ((j = lists[k]) != NULL) {
			lists[k] = j->next;
			j->cb(j->arg, 3, NULL, NULL, NULL, 0);
			job_free(j);
		}
	if (a->ev != NULL)
		event_free(a->ev);
	if (a->pipe[0] != -1)
		close(a->pipe[0]);
	if (a->pipe[1] != -1)
		close(a->pipe[1]);
	users_clear(a);
	free(a->uw.path);
	free(a->tw.path);
	free(a->dummy);
	explicit_bzero(a->s, CONSOLE_SESSIONS_MAX * sizeof(*a->s));
	free(a->s);
	free(a->lim);
	free(a);
}

static void
audit_add(struct auth *a, const char *user, const char *addr,
    const char *what)
{
	struct audit *e = &a->audit[a->audit_next];

	e->at_ms = now_ms();
	snprintf(e->user, sizeof(e->user), "%s", user);
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	e->what = what;
	a->audit_next = (a->audit_next + 1) % AUDIT_MAX;
	if (a->naudit < AUDIT_MAX)
		a->naudit++;
}

json_t *
auth_audit(struct auth *a)
{
	json_t *arr = json_array(), *o;
	char at[64];
	size_t i, k;

	for (i = 0; i < a->naudit; i++) {
		k = (a->audit_next + AUDIT_MAX - 1 - i) % AUDIT_MAX;
		format_rfc3339((double)a->audit[k].at_ms / 1000.0, at,
		    sizeof(at));
		o = json_object();
		json_object_set_new(o, "at", json_string(at));
		json_object_set_new(o, "user", json_string(a->audit[k].user));
		json_object_set_new(o, "addr", json_string(a->audit[k].addr));
		json_object_set_new(o, "what", json_string(a->audit[k].what));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* limit_of: the counter of key (a free or the oldest slot if new). */
static struct limit *
limit_of(struct auth *a, const char *key, int64_t now)
{
	struct limit *old = &a->lim[0];
	size_t i;

	for (i = 0; i < LIMITS_MAX; i++) {
		if (a->lim[i].key[0] != '\0' &&
		    now - a->lim[i].since_ms >= a->cf->console_login_window_ms)
			a->lim[i].key[0] = '\0';
		if (strcmp(a->lim[i].key, key) == 0 && key[0] != '\0')
			return &a->lim[i];
		if (a->lim[i].key[0] == '\0' || a->lim[i].since_ms <
		    old->since_ms)
			old = &a->lim[i];
	}
	snprintf(old->key, sizeof(old->key), "%s", key);
	old->fails = 0;
	old->since_ms = now;
	return old;
}

/* --- logins, checked by the crypt(3) worker ------------------------------ */

/*
 * A login's crypt(3) takes tens of milliseconds (yescrypt's point), too
 * long for the event loop that serves every page: it runs on one worker
 * thread. A job carries copies of what it needs (the hash, the
 * password) and nothing the loop touches; the worker hashes, moves the
 * job to the done list and writes a byte to a pipe, whose event finishes
 * the login on the loop (session, audit, the callback). At most JOBS_MAX
 * logins wait (503 beyond), so a crowd of guessers costs memory and
 * the worker's time, never the loop's.
 */

static void *
worker(void *arg)
{
	struct auth *a = arg;
	struct job *j, **tail;
	char b = 0;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (a->todo == NULL && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop)
			break;
		j = a->todo;
		a->todo = j->next;
		pthread_mutex_unlock(&a->mu);
		j->ok = hash_ok(j->pw, j->hash) && j->known;
		explicit_bzero(j->pw, strlen(j->pw));
		pthread_mutex_lock(&a->mu);
		j->next = NULL;
		for (tail = &a->done; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = j;
		(void)write(a->pipe[1], &b, 1);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static void
job_free(struct job *j)
{
	explicit_bzero(j->pw, strlen(j->pw));
	free(j->pw);
	free(j->hash);
	free(j);
}

/* finish: a checked login, on the loop. */
static void
finish(struct auth *a, struct job *j)
{
	struct session *s, *old;
	const struct user *u;
	struct who w;
	char ku[160], ka[160];
	int64_t now = now_ms();
	size_t i;

	memset(&w, 0, sizeof(w));
	/* the user may have changed meanwhile: only the checked hash */
	u = user_find(a, j->user);
	if (!j->ok || u == NULL || strcmp(u->hash, j->hash) != 0) {
		snprintf(ku, sizeof(ku), "u:%s", j->user);
		snprintf(ka, sizeof(ka), "a:%s", j->addr);
		limit_of(a, ku, now)->fails++;
		limit_of(a, ka, now)->fails++;
		audit_add(a, j->user, j->addr, "refused");
		log_info("console: login refused for '%s' from %s", j->user,
		    j->addr);
		j->cb(j->arg, 1, NULL, NULL, NULL, 0);
		return;
	}
	old = &a->s[0];
	for (s = NULL, i = 0; i < CONSOLE_SESSIONS_MAX; i++) {
		if (!a->s[i].used) {
			s = &a->s[i];
			break;
		}
		if (a->s[i].last_ms < old->last_ms)
			old = &a->s[i];
	}
	if (s == NULL)
		s = old;	/* full: the least recently used goes */
	memset(s, 0, sizeof(*s));
	if (hex_random(s->sid, ID_BYTES) == -1 ||
	    hex_random(s->csrf, ID_BYTES) == -1) {
		memset(s, 0, sizeof(*s));
		j->cb(j->arg, 3, NULL, NULL, NULL, 0);
		return;
	}
	snprintf(s->user, sizeof(s->user), "%s", u->name);
	s->created_ms = s->last_ms = now;
	s->used = true;
	snprintf(w.user, sizeof(w.user), "%s", u->name);
	w.role = u->role;
	w.s = s;
	audit_add(a, j->user, j->addr, "login");
	log_info("console: login of '%s' from %s", j->user, j->addr);
	j->cb(j->arg, 0, &w, s->sid, s->csrf, 0);
}

static void
pipe_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct auth *a = arg;
	struct job *j, *list;
	char b[64];

	(void)ev;
	while (read(fd, b, sizeof(b)) > 0)
		;
	pthread_mutex_lock(&a->mu);
	list = a->done;
	a->done = NULL;
	pthread_mutex_unlock(&a->mu);
	while ((j = list) != NULL) {
		list = j->next;
		a->njobs--;
		finish(a, j);
		job_free(j);
	}
}

int
auth_login(struct auth *a, const char *user, const char *password,
    const char *addr, login_cb cb, void *arg)
{
	char ku[160], ka[160];
	struct limit *lu, *la;
	const struct user *u;
	struct job *j, **tail;
	int64_t now = now_ms(), wait;
	int retry;

	refresh(a);
	snprintf(ku, sizeof(ku), "u:%s", user);
	snprintf(ka, sizeof(ka), "a:%s", addr);
	lu = limit_of(a, ku, now);
	la = limit_of(a, ka, now);
	if (lu->fails >= a->cf->console_login_attempts ||
	    la->fails >= a->cf->console_login_attempts) {
		wait = a->cf->console_login_window_ms - (now -
		    (lu->fails >= a->cf->console_login_attempts ?
		    lu->since_ms : la->since_ms));
		retry = (int)((wait + 999) / 1000);
		audit_add(a, user, addr, "limited");
		cb(arg, 2, NULL, NULL, NULL, retry < 1 ? 1 : retry);
		return 0;
	}
	if (a->njobs >= JOBS_MAX)
		return -1;
	u = user_find(a, user);
	j = xcalloc(1, sizeof(*j));
	/* the same crypt(3) for an unknown user as for a known one */
	j->hash = xstrdup(u != NULL ? u->hash : a->dummy);
	j->pw = xstrdup(password);
	j->known = u != NULL;
	snprintf(j->user, sizeof(j->user), "%s", user);
	snprintf(j->addr, sizeof(j->addr), "%s", addr);
	j->cb = cb;
	j->arg = arg;
	a->njobs++;
	pthread_mutex_lock(&a->mu);
	for (tail = &a->todo; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = j;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return 0;
}

/* cookie_sid: the value of cookie COOKIE in a Cookie header, copied. */
static bool
cookie_sid(const char *hdr, char *out, size_t len)
{
	const char *p = hdr, *e;
	size_t n, cl = strlen(COOKIE);

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		e = strchr(p, ';');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n > cl && strncmp(p, COOKIE, cl) == 0 && p[cl] == '=') {
			if (n - cl - 1 >= len)
				return false;
			memcpy(out, p + cl + 1, n - cl - 1);
			out[n - cl - 1] = '\0';
			return true;
		}
		p = e;
	}
	return false;
}

static bool
session_live(struct auth *a, struct session *s, int64_t now)
{
	if (!s->used)
		return false;
	if (now - s->created_ms >= a->cf->console_session_ttl_ms ||
	    now - s->last_ms >= a->cf->console_session_idle_ms) {
		explicit_bzero(s, sizeof(*s));
		return false;
	}
	return true;
}

/* bearer: the user of token "ID.SECRET", or NULL. */
static const char *
bearer(struct auth *a, const char *tok)
{
	const char *dot = strchr(tok, '.');
	size_t i, idl;

	if (dot == NULL || dot == tok || strlen(tok) > 256)
		return NULL;
	idl = (size_t)(dot - tok);
	for (i = 0; i < a->ntokens; i++) {
		struct token *t = &a->tokens[i];

		if (strlen(t->id) != idl || strncmp(t->id, tok, idl) != 0)
			continue;
		if (t->ok != NULL)
			return ct_equal(t->ok, tok) ? t->user : NULL;
		if (!hash_ok(dot + 1, t->hash))
			return NULL;
		t->ok = xstrdup(tok);	/* no crypt(3) per request */
		return t->user;
	}
	return NULL;
}

int
auth_request(struct auth *a, struct evhttp_request *req, struct who *w)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *v, *name;
	const struct user *u;
	char sid[2 * ID_BYTES + 8];
	int64_t now = now_ms();
	struct session *found = NULL;
	size_t i;

	refresh(a);
	memset(w, 0, sizeof(*w));
	if ((v = evhttp_find_header(h, "Authorization")) != NULL) {
		if (strncmp(v, "Bearer ", 7) != 0 ||
		    (name = bearer(a, v + 7)) == NULL ||
		    (u = user_find(a, name)) == NULL)
			return -1;
		snprintf(w->user, sizeof(w->user), "%s", u->name);
		w->role = u->role;
		w->bearer = true;
		return 0;
	}
	if ((v = evhttp_find_header(h, "Cookie")) == NULL ||
	    !cookie_sid(v, sid, sizeof(sid)))
		return -1;
	/* every live session is compared, in constant time */
	for (i = 0; i < CONSOLE_SESSIONS_MAX; i++)
		if (session_live(a, &a->s[i], now) && ct_equal(a->s[i].sid,
		    sid))
			found = &a->s[i];
	if (found == NULL || (u = user_find(a, found->user)) == NULL)
		return -1;
	found->last_ms = now;
	snprintf(w->user, sizeof(w->user), "%s", u->name);
	w->role = u->role;
	w->s = found;
	return 0;
}

bool
auth_csrf_ok(struct auth *a, struct evhttp_request *req,
    const struct who *w)
{
	const char *v;

	(void)a;
	if (w->bearer)
		return true;
	v = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-CSRF-Token");
	return w->s != NULL && v != NULL && ct_equal(v, w->s->csrf);
}

const char *
auth_csrf(const struct who *w)
{
	return w->s != NULL ? w->s->csrf : "";
}

void
auth_logout(struct auth *a, struct who *w, const char *addr)
{
	audit_add(a, w->user, addr, "logout");
	if (w->s != NULL)
		explicit_bzero(w->s, sizeof(*w->s));
	w->s = NULL;
}

void
auth_cookie(const struct auth *a, struct evhttp_request *req,
    const char *sid, char *out, size_t len)
{
	const char *p = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "X-Forwarded-Proto");
	bool secure = a->cf->console_secure_cookies ||
	    (p != NULL && strcmp(p, "https") == 0);

	if (sid[0] == '\0')
		snprintf(out, len, "%s=; Path=/; HttpOnly; SameSite=Strict; "
		    "Max-Age=0%s", COOKIE, secure ? "; Secure" : "");
	else
		snprintf(out, len, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
		    COOKIE, sid, secure ? "; Secure" : "");
}
