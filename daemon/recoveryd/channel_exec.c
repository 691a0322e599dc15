/*
 * channel_exec.c — exec deliveries: run a program per alert, without a
 * shell (see channel.h).
 *
 * argv is the channel's templates rendered over the alert's own fields
 * (parsed back from the alert JSON: alert_id, case_id, rule, severity,
 * step, customer_id, call_id, agent_id, queue, event_id, fired_at,
 * channel, message, count, value, samples), then over the event's fields
 * saved with the outbox record ({{comment}}, {{customer.tier}}: the event
 * that fired, or for an escalation step the one that opened the case);
 * anything else renders empty. It goes to execve() as it is: an event
 * field holding "$(rm -rf ~)" reaches the program as those bytes, in one
 * argument. The program gets the alert JSON on stdin (a pipe written from
 * the loop without blocking; a program that does not read it is fine),
 * stdout and stderr on one pipe of which the first 1 KiB is kept for the
 * error message, a minimal environment (PATH=/usr/bin:/bin, RECOVERYD_*
 * for the alert's fields and RECOVERYD_EVENT, the saved event's JSON
 * object), no other descriptor, and its own process group so a timeout
 * kills its children too: SIGTERM at the channel's timeout, SIGKILL 2 s
 * later.
 *
 * Children are reaped from the loop: a libevent SIGCHLD event runs
 * waitpid(-1, WNOHANG) until nothing is left and maps each pid to its
 * delivery. Exit 0 is delivered; any other ending may be retried.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "channel.h"
#include "engine.h"
#include "log.h"
#include "template.h"
#include "util.h"

#define OUT_KEEP	1024	/* bytes of output kept for messages */
#define KILL_GRACE_MS	2000	/* SIGTERM, then SIGKILL this much later */

struct proc {
	struct execer	*x;
	struct delivery	*d;
	pid_t		 pid;
	int		 in_fd, out_fd, err_fd;
	struct event	*in_ev, *out_ev, *timer;
	size_t		 in_off;
	char		 out[OUT_KEEP];
	size_t		 outlen;
	int		 kill_stage;	/* 0, 1 SIGTERM sent, 2 SIGKILL sent */
	int64_t		 timeout_ms;
	char		 prog[256];
	struct proc	*prev, *next;
};

struct execer {
	struct event_base	*base;
	struct event		*sigchld;
	delivery_done_fn	 done;
	void			*done_arg;
	struct proc		*procs;
	size_t			 active;
};

/* The alert's fields, for argv templates and RECOVERYD_* variables, and
 * the event's (NULL when the record has none). */
struct alert_fields {
	json_t	*obj;
	json_t	*event;
	char	 scratch[64];
};

static const char *const env_fields[] = { "alert_id", "case_id", "rule",
    "severity", "step", "customer_id", "call_id", "agent_id", "queue",
    "event_id", "fired_at", "message" };

/*
 * alert_lookup: lookup_fn over the alert JSON's top-level keys, then the
 * saved event's (texts only, as tmpl_fields_save wrote them). Numbers
 * are formatted into ctx's scratch buffer, valid until the next call
 * (tmpl_render copies each value before the next lookup). A key the
 * alert lacks ({{comment}}, {{count}} of a rule without a count) is
 * "no such field", which renders empty: json_object_get returns NULL for
 * it, and json_typeof must not see that NULL (it dereferences it).
 */
static bool
alert_lookup(void *ctx, const char *path, struct value *out)
{
	struct alert_fields *af = ctx;
	json_t *v = json_object_get(af->obj, path);

	if (v == NULL && af->event != NULL)
		v = json_object_get(af->event, path);
	if (v == NULL)
		return false;
	switch (json_typeof(v)) {
	case JSON_STRING:
		*out = value_str(json_string_value(v), json_string_length(v));
		return true;
	case JSON_INTEGER:
		snprintf(af->scratch, sizeof(af->scratch), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		*out = value_str(af->scratch, strlen(af->scratch));
		return true;
	case JSON_REAL:
		engine_format_value(json_real_value(v), af->scratch,
		    sizeof(af->scratch));
		*out = value_str(af->scratch, strlen(af->scratch));
		return true;
	case JSON_TRUE:
	case JSON_FALSE:
		*out = value_bool(json_is_true(v));
		return true;
	default:
		return false;
	}
}

/* field_text: an alert field as text for the environment; caller
 * frees. */
static char *
field_text(struct alert_fields *af, const char *name)
{
	struct value v;
	json_t *event = af->event;
	bool found;

	af->event = NULL;	/* RECOVERYD_<FIELD> are the alert's own */
	found = alert_lookup(af, name, &v);
	af->event = event;
	if (!found || v.s == NULL)
		return xstrdup("");
	return xstrndup(v.s, strlen(v.s));	/* stops at a NUL */
}

static void
free_strv(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/*
 * build_exec: the argv and envp of one run, each NULL-terminated and
 * malloc'ed (caller frees with free_strv). -1 if the alert is not JSON.
 * A saved event that is not a JSON object is logged and left out: the
 * alert can still be delivered, with those templates empty.
 */
static int
build_exec(const struct channel *ch, const struct delivery *d,
    char ***argvp, char ***envpp)
{
	struct alert_fields af;
	json_error_t jerr;
	struct buf b;
	char **argv, **envp, *val, up[64];
	size_t i, j, n = 0;

	af.obj = json_loadb(d->alert, d->alert_len, JSON_ALLOW_NUL, &jerr);
	if (af.obj == NULL || !json_is_object(af.obj)) {
		json_decref(af.obj);
		return -1;
	}
	af.event = NULL;
	if (d->event != NULL) {
		af.event = json_loadb(d->event, d->event_len, JSON_ALLOW_NUL,
		    &jerr);
		if (af.event == NULL || !json_is_object(af.event)) {
			log_warnx("exec %s: alert %s: the saved event is not "
			    "a JSON object (%s); its fields render empty",
			    d->channel, d->alert_id, af.event == NULL ?
			    jerr.text : "not an object");
			json_decref(af.event);
			af.event = NULL;
		}
	}
	buf_init(&b);
	argv = xcalloc(ch->argc + 1, sizeof(*argv));
	for (i = 0; i < ch->argc; i++) {
		buf_reset(&b);
		tmpl_render(ch->argv[i], alert_lookup, &af, TMPL_PLAIN, &b);
		argv[i] = xstrndup(b.data, strlen(b.data));
	}
	envp = xcalloc(ARRAY_LEN(env_fields) + 4, sizeof(*envp));
	envp[n++] = xstrdup("PATH=/usr/bin:/bin");
	for (i = 0; i < ARRAY_LEN(env_fields); i++) {
		for (j = 0; env_fields[i][j] != '\0' && j + 1 < sizeof(up); j++)
			up[j] = (char)(env_fields[i][j] >= 'a' &&
			    env_fields[i][j] <= 'z' ? env_fields[i][j] - 32 :
			    env_fields[i][j]);
		up[j] = '\0';
		val = field_text(&af, env_fields[i]);
		envp[n++] = xasprintf("RECOVERYD_%s=%s", up, val);
		free(val);
	}
	envp[n++] = xasprintf("RECOVERYD_CHANNEL=%s", d->channel);
	/* Compact JSON escapes every control character and NUL: one
	 * variable, whatever the event holds. */
	val = af.event != NULL ? json_dumps(af.event, JSON_COMPACT) : NULL;
	envp[n++] = xasprintf("RECOVERYD_EVENT=%s", val != NULL ? val : "{}");
	free(val);
	json_decref(af.event);
	json_decref(af.obj);
	buf_free(&b);
	*argvp = argv;
	*envpp = envp;
	return 0;
}

/* pipe_high: a close-on-exec pipe whose ends are >= 4, so that the child
 * can put its ends on 0..3 without clobbering one with another. */
static int
pipe_high(int p[2])
{
	int i, fd;

	if (pipe(p) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		if ((fd = fcntl(p[i], F_DUPFD_CLOEXEC, 4)) == -1) {
			close(p[0]);
			close(p[1]);
			return -1;
		}
		close(p[i]);
		p[i] = fd;
	}
	return 0;
}

/*
 * child: between fork and execve only async-signal-safe calls. fd 3 is
 * the exec-error pipe (close-on-exec: it reads EOF when execve works).
 */
static void __attribute__((noreturn))
child(char **argv, char **envp, int in_r, int out_w, int err_w,
    const sigset_t *mask)
{
	int e;

	(void)setpgid(0, 0);
	if (dup2(in_r, 0) == -1 || dup2(out_w, 1) == -1 ||
	    dup2(out_w, 2) == -1 || dup2(err_w, 3) == -1)
		_exit(126);
	(void)fcntl(3, F_SETFD, FD_CLOEXEC);
	closefrom(4);
	/* The daemon ignores SIGPIPE; an ignored signal stays ignored
	 * across execve, so give the program the default back. */
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	execve(argv[0], argv, envp);
	e = errno;
	if (write(3, &e, sizeof(e)) == -1)
		_exit(126);
	_exit(127);
}

/* --- the running program ---------------------------------------------- */

static void
close_in(struct proc *p)
{
	if (p->in_ev != NULL) {
		event_free(p->in_ev);
		p->in_ev = NULL;
	}
	if (p->in_fd != -1) {
		close(p->in_fd);
		p->in_fd = -1;
	}
}

static void
close_out(struct proc *p)
{
	if (p->out_ev != NULL) {
		event_free(p->out_ev);
		p->out_ev = NULL;
	}
	if (p->out_fd != -1) {
		close(p->out_fd);
		p->out_fd = -1;
	}
}

static void
stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	const struct delivery *d = p->d;
	ssize_t n;

	(void)what;
	while (p->in_off < d->alert_len) {
		n = write(fd, d->alert + p->in_off, d->alert_len - p->in_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;		/* the event calls us again */
		if (n <= 0)
			break;		/* EPIPE: the program does not read it */
		p->in_off += (size_t)n;
	}
	close_in(p);		/* EOF for the program */
}

/* drain_out: read what the program wrote; keep the first OUT_KEEP bytes,
 * discard the rest so it never blocks on a full pipe. */
static void
drain_out(struct proc *p)
{
	char tmp[4096];
	ssize_t n;
	size_t k;

	while (p->out_fd != -1) {
		n = read(p->out_fd, tmp, sizeof(tmp));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_out(p);
			return;
		}
		k = (size_t)n;
		if (k > OUT_KEEP - p->outlen)
			k = OUT_KEEP - p->outlen;
		memcpy(p->out + p->outlen, tmp, k);
		p->outlen += k;
	}
}

static void
stdout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain_out(arg);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	struct timeval tv = { KILL_GRACE_MS / 1000, 0 };
	char dur[32];

	(void)fd;
	(void)what;
	format_duration(p->timeout_ms, dur, sizeof(dur));
	if (p->kill_stage == 0) {
		log_warnx("exec %s: %s (alert %s) still running after %s; "
		    "sending SIGTERM", p->d->channel, p->prog, p->d->alert_id,
		    dur);
		if (kill(-p->pid, SIGTERM) == -1)
			(void)kill(p->pid, SIGTERM);
		p->kill_stage = 1;
		evtimer_add(p->timer, &tv);
	} else if (p->kill_stage == 1) {
		log_warnx("exec %s: %s (alert %s) ignored SIGTERM; sending "
		    "SIGKILL", p->d->channel, p->prog, p->d->alert_id);
		if (kill(-p->pid, SIGKILL) == -1)
			(void)kill(p->pid, SIGKILL);
		p->kill_stage = 2;
	}
}

static void
proc_free(struct proc *p)
{
	struct execer *x = p->x;

	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		x->procs = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	close_in(p);
	close_out(p);
	if (p->err_fd != -1)
		close(p->err_fd);
	event_free(p->timer);
	x->active--;
	free(p);
}

/* output_note: the kept output as one printable line, for messages. */
static void
output_note(const struct proc *p, char *out, size_t cap)
{
	size_t i, n = 0, start = 0;

	out[0] = '\0';
	while (start < p->outlen && (p->out[start] == '\n' ||
	    p->out[start] == ' '))
		start++;
	if (start == p->outlen || cap < 16)
		return;
	n = (size_t)snprintf(out, cap, " (output: ");
	for (i = start; i < p->outlen && n + 3 < cap; i++) {
		unsigned char c = (unsigned char)p->out[i];
		out[n++] = c >= 0x20 && c != 0x7f ? (char)c : ' ';
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n++] = ')';
	out[n] = '\0';
}

/* finished: the program ended with wait status st. */
static void
finished(struct proc *p, int st)
{
	struct delivery *d = p->d;
	struct execer *x = p->x;
	char dur[32], note[320];
	int e;

	drain_out(p);
	output_note(p, note, sizeof(note));
	if (read(p->err_fd, &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		d->result = DELIVERY_RETRY;
		snprintf(d->error, sizeof(d->error), "cannot execute %s: %s",
		    p->prog, strerror(e));
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		d->result = DELIVERY_OK;
		d->error[0] = '\0';
	} else if (p->kill_stage > 0) {
		format_duration(p->timeout_ms, dur, sizeof(dur));
		d->result = DELIVERY_RETRY;
		snprintf(d->error, sizeof(d->error), "killed after timeout "
		    "%s%s", dur, note);
	} else if (WIFEXITED(st)) {
		d->result = DELIVERY_RETRY;
		snprintf(d->error, sizeof(d->error), "exit status %d%s",
		    WEXITSTATUS(st), note);
	} else {
		d->result = DELIVERY_RETRY;
		snprintf(d->error, sizeof(d->error), "killed by signal %d%s",
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0, note);
	}
	proc_free(p);
	x->done(d, x->done_arg);
}

static void
sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct execer *x = arg;
	struct proc *p;
	pid_t pid;
	int st;

	(void)sig;
	(void)what;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (p = x->procs; p != NULL; p = p->next)
			if (p->pid == pid)
				break;
		if (p != NULL)
			finished(p, st);
	}
}

/* --- public ----------------------------------------------------------- */

struct execer *
execer_new(struct event_base *base, delivery_done_fn done, void *arg)
{
	struct execer *x = xcalloc(1, sizeof(*x));

	x->base = base;
	x->done = done;
	x->done_arg = arg;
	x->sigchld = evsignal_new(base, SIGCHLD, sigchld_cb, x);
	if (x->sigchld == NULL || evsignal_add(x->sigchld, NULL) == -1)
		fatalx("%s: cannot watch SIGCHLD", __func__);
	return x;
}

static int
start_failed(struct delivery *d, const char *what, int e)
{
	d->result = DELIVERY_RETRY;
	snprintf(d->error, sizeof(d->error), "cannot start %s: %s", what,
	    strerror(e));
	return -1;
}

int
execer_start(struct execer *x, const struct channel *ch, struct delivery *d)
{
	struct timeval tv;
	struct proc *p;
	sigset_t all, old;
	char **argv, **envp;
	int in[2], out[2], err[2], e;
	pid_t pid;

	if (ch->argc == 0 || build_exec(ch, d, &argv, &envp) == -1) {
		d->result = DELIVERY_FAIL;
		snprintf(d->error, sizeof(d->error), ch->argc == 0 ?
		    "channel %s has no argv" : "channel %s: the alert is not "
		    "a JSON object", ch->name);
		return -1;
	}
	if (pipe_high(in) == -1)
		goto fail;
	if (pipe_high(out) == -1)
		goto fail_in;
	if (pipe_high(err) == -1)
		goto fail_out;
	/* No signal handler of the daemon may run in the child. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == 0)
		child(argv, envp, in[0], out[1], err[1], &old);
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (pid == -1) {
		close(in[1]);
		close(out[0]);
		close(err[0]);
		free_strv(argv);
		free_strv(envp);
		return start_failed(d, "a process (fork)", e);
	}
	(void)setpgid(pid, pid);	/* as the child does: no race */

	p = xcalloc(1, sizeof(*p));
	p->x = x;
	p->d = d;
	p->pid = pid;
	p->in_fd = in[1];
	p->out_fd = out[0];
	p->err_fd = err[0];
	p->timeout_ms = ch->timeout_ms;
	(void)str_copy(p->prog, sizeof(p->prog), argv[0]);
	free_strv(argv);
	free_strv(envp);
	evutil_make_socket_nonblocking(p->in_fd);
	evutil_make_socket_nonblocking(p->out_fd);
	evutil_make_socket_nonblocking(p->err_fd);
	p->in_ev = event_new(x->base, p->in_fd, EV_WRITE | EV_PERSIST,
	    stdin_cb, p);
	p->out_ev = event_new(x->base, p->out_fd, EV_READ | EV_PERSIST,
	    stdout_cb, p);
	p->timer = evtimer_new(x->base, timeout_cb, p);
	if (p->in_ev == NULL || p->out_ev == NULL || p->timer == NULL)
		fatalx("%s: event_new", __func__);
	event_add(p->in_ev, NULL);
	event_add(p->out_ev, NULL);
	tv.tv_sec = ch->timeout_ms / 1000;
	tv.tv_usec = (ch->timeout_ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
	p->next = x->procs;
	if (x->procs != NULL)
		x->procs->prev = p;
	x->procs = p;
	x->active++;
	log_debug("exec %s: started %s (pid %ld) for alert %s", d->channel,
	    p->prog, (long)pid, d->alert_id);
	return 0;

fail_out:
	e = errno;
	close(out[0]);
	close(out[1]);
	errno = e;
fail_in:
	e = errno;
	close(in[0]);
	close(in[1]);
	errno = e;
fail:
	e = errno;
	free_strv(argv);
	free_strv(envp);
	return start_failed(d, "a pipe", e);
}

size_t
execer_active(const struct execer *x)
{
	return x->active;
}

void
execer_free(struct execer *x)
{
	if (x == NULL)
		return;
	while (x->procs != NULL) {
		log_warnx("exec %s: killing %s (pid %ld) at exit; alert %s "
		    "will be delivered again", x->procs->d->channel,
		    x->procs->prog, (long)x->procs->pid,
		    x->procs->d->alert_id);
		if (kill(-x->procs->pid, SIGKILL) == -1)
			(void)kill(x->procs->pid, SIGKILL);
		proc_free(x->procs);
	}
	event_free(x->sigchld);
	free(x);
}
