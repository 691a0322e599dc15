/*
 * secret.c — secrets from systemd credentials or the environment, kept
 * out of reach of the programs the daemon runs (see secret.h).
 *
 * The environment block the kernel shows as /proc/PID/environ lies
 * between the env_start and env_end addresses of /proc/self/stat (fields
 * 50 and 51). secret_seal() wipes every string of environ that lies in
 * it, after copying them all: environ then points at the copies, so
 * getenv(), setenv() and unsetenv() go on working for everything else
 * (curl's proxy variables, NOTIFY_SOCKET, TZ). The copies of environ are
 * the snapshot's own strings, so one that unsetenv() drops is still
 * referenced here (no leak for LeakSanitizer to report).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "secret.h"
#include "util.h"

extern char **environ;

/* One credential looked up: value NULL when there was no usable file. */
struct cred {
	char	*name;
	char	*value;
};

static char		**snapshot;	/* "NAME=VALUE", NULL-terminated */
static char		**sealed_env;	/* what environ was set to */
static struct cred	 *creds;
static size_t		  ncreds;

/* snap_get: name's value in the snapshot, or NULL. O(variables). */
static const char *
snap_get(const char *name)
{
	size_t n = strlen(name);
	char **e;

	for (e = snapshot; *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static const char *
env_get(const char *name)
{
	return snapshot != NULL ? snap_get(name) : getenv(name);
}

static bool
is_name_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

int
secret_ref(const char *s, const char **open, size_t *namelen)
{
	const char *o, *p;

	if ((o = strstr(s, "${")) == NULL)
		return 0;
	*open = o;
	p = o + 2;
	if (!is_name_start((unsigned char)*p))
		return -1;
	while (is_name_char((unsigned char)*p))
		p++;
	if (*p != '}' || (size_t)(p - o - 2) > SECRET_NAME_MAX)
		return -1;
	*namelen = (size_t)(p - o - 2);
	return 1;
}

/*
 * read_cred: the contents of dir/file without one trailing newline (CRLF
 * too), malloc'ed; NULL when there is no such file or it cannot be used
 * (logged, without the contents). The caller frees.
 */
static char *
read_cred(const char *dir, const char *file)
{
	char path[PATH_MAX], *buf;
	struct stat st;
	size_t len = 0;
	ssize_t r = 0;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path))
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("credential %s: cannot open it", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > SECRET_FILE_MAX) {
		log_warnx("credential %s: not a regular file of at most %d "
		    "bytes; ignored", path, SECRET_FILE_MAX);
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	if (r == -1)
		log_warn("credential %s: cannot read it", path);
	close(fd);
	buf[len] = '\0';
	if (r == -1 || memchr(buf, '\0', len) != NULL) {
		if (r != -1)
			log_warnx("credential %s: contains a NUL byte; ignored",
			    path);
		explicit_bzero(buf, len);
		free(buf);
		return NULL;
	}
	if (len > 0 && buf[len - 1] == '\n') {
		buf[--len] = '\0';
		if (len > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
	}
	return buf;
}

/* cred_get: name from $CREDENTIALS_DIRECTORY (see secret.h), cached;
 * NULL when unset or empty. */
static const char *
cred_get(const char *name)
{
	const char *dir = env_get("CREDENTIALS_DIRECTORY");
	char lower[SECRET_NAME_MAX + 1], *v;
	size_t i, n = strlen(name);

	if (dir == NULL || *dir == '\0' || n == 0 || n > SECRET_NAME_MAX ||
	    !is_name_start((unsigned char)name[0]))
		return NULL;
	for (i = 0; i < n; i++)
		if (!is_name_char((unsigned char)name[i]))
			return NULL;
	for (i = 0; i < ncreds; i++)
		if (strcmp(creds[i].name, name) == 0)
			return creds[i].value;
	for (i = 0; i <= n; i++)
		lower[i] = name[i] == '_' ? '-' :
		    (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) :
		    name[i];
	if ((v = read_cred(dir, lower)) == NULL && strcmp(lower, name) != 0)
		v = read_cred(dir, name);
	if (v != NULL && *v == '\0') {
		free(v);
		v = NULL;
	}
	creds = xreallocarray(creds, ncreds + 1, sizeof(*creds));
	creds[ncreds].name = xstrdup(name);
	creds[ncreds++].value = v;
	return v;
}

const char *
secret_get(const char *name)
{
	const char *v;

	if ((v = cred_get(name)) != NULL)
		return v;
	return env_get(name);
}

/*
 * env_block: the bounds of the environment block the kernel shows as
 * /proc/self/environ: fields 50 and 51 of /proc/self/stat (counted after
 * the command name in parentheses, which may hold blanks). -1 if unknown.
 */
static int
env_block(uintptr_t *lo, uintptr_t *hi)
{
	char buf[4096], *p, *end;
	unsigned long long v[2];
	size_t n;
	FILE *fp;
	int field;

	if ((fp = fopen("/proc/self/stat", "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	for (field = 3; field <= 51; field++) {
		while (*p == ' ')
			p++;
		if (*p == '\0' || *p == '\n')
			return -1;
		if (field >= 50) {
			errno = 0;
			v[field - 50] = strtoull(p, &end, 10);
			if (errno != 0 || end == p)
				return -1;
		}
		p += strcspn(p, " \n");
	}
	if (v[0] == 0 || v[1] <= v[0])
		return -1;
	*lo = (uintptr_t)v[0];
	*hi = (uintptr_t)v[1];
	return 0;
}

static bool
hidden_at_start(const char *entry)
{
	static const char *const names[] = { "REDIS_PASSWORD=",
	    "REDIS_USERNAME=" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(names); i++)
		if (strncmp(entry, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

void
secret_seal(void)
{
	char **orig = environ;
	uintptr_t lo = 0, hi = 0, p;
	size_t n = 0, m = 0, i, len;
	int block;

	if (snapshot != NULL)
		return;
	while (orig != NULL && orig[n] != NULL)
		n++;
	snapshot = xcalloc(n + 1, sizeof(*snapshot));
	sealed_env = xcalloc(n + 1, sizeof(*sealed_env));
	for (i = 0; i < n; i++) {
		snapshot[i] = xstrdup(orig[i]);
		if (!hidden_at_start(orig[i]))
			sealed_env[m++] = snapshot[i];
	}
	environ = sealed_env;
	block = env_block(&lo, &hi);
	for (i = 0; i < n; i++) {
		p = (uintptr_t)orig[i];
		len = strlen(orig[i]);
		if (block == 0 && p >= lo && p + len <= hi)
			explicit_bzero(orig[i], len);
	}
	if (block == -1)
		log_warnx("cannot find the environment block in "
		    "/proc/self/stat; secrets in the environment stay visible "
		    "in /proc/%ld/environ", (long)getpid());
}

void
secret_hide(const char *name)
{
	if (snapshot != NULL)
		(void)unsetenv(name);
}

/* hide_refs: secret_hide() each ${NAME} of s. */
static void
hide_refs(const char *s)
{
	char name[SECRET_NAME_MAX + 1];
	const char *open;
	size_t n;

	while (s != NULL && secret_ref(s, &open, &n) == 1) {
		memcpy(name, open + 2, n);
		name[n] = '\0';
		secret_hide(name);
		s = open + n + 3;
	}
}

void
secret_hide_config(const struct config *cf)
{
	const struct channel *ch;
	size_t i, j;

	for (i = 0; i < cf->nchannels; i++) {
		ch = &cf->channels[i];
		if (ch->type != CH_WEBHOOK)
			continue;
		hide_refs(ch->url);
		for (j = 0; j < ch->nheaders; j++)
			hide_refs(ch->headers[j].value);
	}
}
