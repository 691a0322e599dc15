/*
 * ctl_user.c — recoveryctl user: the console's users and API tokens
 * (README, "Console"), in console.users_file and console.tokens_file
 * (default: the users file's name plus ".tokens"):
 *
 *   user add NAME [--role viewer|supervisor|admin]   (default viewer)
 *   user passwd NAME
 *   user role NAME ROLE
 *   user remove NAME          (its tokens too)
 *   user list
 *   user token add NAME       prints the token once: ID.SECRET
 *   user token list [NAME]
 *   user token revoke ID
 *
 * Users are "name:role:hash" lines, the hash crypt(3) with the default
 * method of libxcrypt (yescrypt); tokens "name:id:hash", the hash of the
 * secret with SHA-256-crypt (a token is 256 random bits: a slow hash
 * adds nothing but a cost per request). The password is read from the
 * terminal without echo (twice), or one line from standard input when
 * that is not a terminal. Each file is replaced atomically (a temporary
 * file in the same directory, fsync, rename), mode 0640, keeping its
 * owner and group (a new one gets the configuration file's group); the
 * console sees the change within a second.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "util.h"

#define NAME_MAX_LEN	64
#define LINES_MAX	10000
#define PW_MAX		1024

static int
uusage(FILE *fp)
{
	fprintf(fp,
"usage: recoveryctl [-c FILE] user add NAME [--role viewer|supervisor|admin]\n"
"       recoveryctl [-c FILE] user passwd NAME\n"
"       recoveryctl [-c FILE] user role NAME ROLE\n"
"       recoveryctl [-c FILE] user remove NAME\n"
"       recoveryctl [-c FILE] user list\n"
"       recoveryctl [-c FILE] user token add NAME\n"
"       recoveryctl [-c FILE] user token list [NAME]\n"
"       recoveryctl [-c FILE] user token revoke ID\n");
	return fp == stdout ? EXIT_OK : EXIT_USAGE;
}

static bool
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    strchr("._@-", s[i]) != NULL))
			return false;
	return true;
}

static bool
role_ok(const char *r)
{
	return strcmp(r, "viewer") == 0 || strcmp(r, "supervisor") == 0 ||
	    strcmp(r, "admin") == 0;
}

/* The lines of a file, kept as they are. */
struct lines {
	char	**v;
	size_t	  n;
};

static int
lines_read(const char *path, struct lines *l)
{
	char buf[2048];
	FILE *fp;

	l->v = NULL;
	l->n = 0;
	if ((fp = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(buf, sizeof(buf), fp) != NULL && l->n < LINES_MAX) {
		buf[strcspn(buf, "\r\n")] = '\0';
		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = xstrdup(buf);
	}
	(void)fclose(fp);
	return 0;
}

static void
lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		explicit_bzero(l->v[i], strlen(l->v[i]));
		free(l->v[i]);
	}
	free(l->v);
}

/* field: the k-th ':' field of line (0-based) into out; false if none. */
static bool
field(const char *line, int k, char *out, size_t len)
{
	const char *p = line, *e;
	size_t n;

	if (line[0] == '#' || line[0] == '\0')
		return false;
	while (k-- > 0)
		if ((p = strchr(p, ':')) == NULL)
			return false;
		else
			p++;
	e = strchr(p, ':');
	n = e != NULL ? (size_t)(e - p) : strlen(p);
	if (n >= len)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* owner_of: the owner and group the new file gets: the old file's, or
 * for a new one ours and the group of the configuration file (installed
 * root:recoveryd, so that the console's user can read it). */
static void
owner_of(const char *path, const char *conf, uid_t *uid, gid_t *gid)
{
	struct stat st;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (stat(path, &st) == 0) {
		*uid = st.st_uid;
		*gid = st.st_gid;
	} else if (conf != NULL && stat(conf, &st) == 0)
		*gid = st.st_gid;
}

/* lines_write: replace path atomically, mode 0640, with the owner and
 * group of owner_of. */
static const char *conf_path;	/* the -c file, for owner_of */

static int
lines_write(const char *path, const struct lines *l)
{
	char *tmp = xasprintf("%s.XXXXXX", path);
	size_t i;
	FILE *fp;
	uid_t uid;
	gid_t gid;
	int fd;

	if ((fd = mkstemp(tmp)) == -1) {
		fprintf(stderr, "recoveryctl: user: %s: %s\n", tmp,
		    strerror(errno));
		free(tmp);
		return EXIT_CHECK;
	}
	owner_of(path, conf_path, &uid, &gid);
	/* a group we are not in (a user's own run) is not an error */
	(void)fchown(fd, uid, gid);
	if (fchmod(fd, 0640) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "recoveryctl: user: %s: %s\n", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return EXIT_CHECK;
	}
	for (i = 0; i < l->n; i++)
		fprintf(fp, "%s\n", l->v[i]);
	if (fflush(fp) != 0 || fsync(fileno(fp)) == -1 || fclose(fp) != 0 ||
	    rename(tmp, path) == -1) {
		fprintf(stderr, "recoveryctl: user: %s: %s\n", path,
		    strerror(errno));
		unlink(tmp);
		free(tmp);
		return EXIT_CHECK;
	}
	free(tmp);
	return EXIT_OK;
}

/* read_password: from the terminal without echo (twice), or one line
 * of stdin. */
static int
read_password(char *pw, size_t len)
{
	struct termios old, quiet;
	char again[PW_MAX + 2];
	bool term = isatty(STDIN_FILENO);
	int rc = -1;

	if (term) {
		if (tcgetattr(STDIN_FILENO, &old) == -1)
			return -1;
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		/* echo off before the prompt: what is typed after it is
		 * never shown nor flushed */
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == -1)
			return -1;
		fprintf(stderr, "Password: ");
	}
	if (fgets(pw, (int)len, stdin) == NULL)
		goto done;
	pw[strcspn(pw, "\r\n")] = '\0';
	if (term) {
		fprintf(stderr, "\nAgain: ");
		if (fgets(again, sizeof(again), stdin) == NULL)
			goto done;
		again[strcspn(again, "\r\n")] = '\0';
		if (strcmp(again, pw) != 0) {
			fprintf(stderr, "\nrecoveryctl: user: the passwords "
			    "differ\n");
			goto done;
		}
	}
	rc = 0;
done:
	if (term) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	explicit_bzero(again, sizeof(again));
	return rc;
}

/* make_hash: crypt(3) of secret with a new salt of prefix (NULL: the
 * default method), into out. */
static int
make_hash(const char *secret, const char *prefix, unsigned long rounds,
    char *out, size_t len)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *h;
	int rc = -1;

	if (crypt_gensalt_rn(prefix, rounds, NULL, 0, salt, sizeof(salt)) !=
	    NULL && (h = crypt_r(secret, salt, cd)) != NULL && h[0] != '*' &&
	    strlen(h) < len) {
		snprintf(out, len, "%s", h);
		rc = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

static int
find_line(const struct lines *l, int k, const char *want)
{
	char f[256];
	size_t i;

	for (i = 0; i < l->n; i++)
		if (field(l->v[i], k, f, sizeof(f)) && strcmp(f, want) == 0)
			return (int)i;
	return -1;
}

static void
drop_line(struct lines *l, size_t i)
{
	free(l->v[i]);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
}

static int
set_password(const char *path, struct lines *l, const char *name,
    const char *role, bool must_exist)
{
	char pw[PW_MAX + 2], hash[512], r[32];
	int i = find_line(l, 0, name);

	if (must_exist && i == -1) {
		fprintf(stderr, "recoveryctl: user: no user '%s'\n", name);
		return EXIT_CHECK;
	}
	if (!must_exist && i != -1) {
		fprintf(stderr, "recoveryctl: user: '%s' exists (user passwd "
		    "to change the password)\n", name);
		return EXIT_CHECK;
	}
	if (read_password(pw, sizeof(pw)) == -1)
		return EXIT_CHECK;
	if (pw[0] == '\0') {
		fprintf(stderr, "recoveryctl: user: an empty password\n");
		return EXIT_CHECK;
	}
	if (make_hash(pw, NULL, 0, hash, sizeof(hash)) == -1) {
		explicit_bzero(pw, sizeof(pw));
		fprintf(stderr, "recoveryctl: user: crypt(3) failed\n");
		return EXIT_CHECK;
	}
	explicit_bzero(pw, sizeof(pw));
	if (i != -1) {
		if (role == NULL && field(l->v[i], 1, r, sizeof(r)))
			role = r;
		free(l->v[i]);
		l->v[i] = xasprintf("%s:%s:%s", name, role, hash);
	} else {
		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = xasprintf("%s:%s:%s", name, role, hash);
	}
	return lines_write(path, l);
}

static int
token_cmd(const char *tpath, int argc, char **argv, struct lines *users)
{
	struct lines t;
	char id[17], secret[65], hash[512], f0[128], f1[128];
	unsigned char r[40];
	size_t i;
	int rc, k;

	if (argc < 3)
		return uusage(stderr);
	if (lines_read(tpath, &t) == -1) {
		fprintf(stderr, "recoveryctl: user: %s: %s\n", tpath,
		    strerror(errno));
		return EXIT_CHECK;
	}
	rc = EXIT_OK;
	if (strcmp(argv[2], "add") == 0 && argc == 4) {
		if (find_line(users, 0, argv[3]) == -1) {
			fprintf(stderr, "recoveryctl: user: no user '%s'\n",
			    argv[3]);
			rc = EXIT_CHECK;
			goto done;
		}
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			rc = EXIT_CHECK;
			goto done;
		}
		for (i = 0; i < 8; i++)
			snprintf(id + 2 * i, 3, "%02x", r[i]);
		for (i = 0; i < 32; i++)
			snprintf(secret + 2 * i, 3, "%02x", r[8 + i]);
		explicit_bzero(r, sizeof(r));
		if (make_hash(secret, "$5$", 1000, hash, sizeof(hash)) == -1) {
			rc = EXIT_CHECK;
			goto done;
		}
		t.v = xreallocarray(t.v, t.n + 1, sizeof(*t.v));
		t.v[t.n++] = xasprintf("%s:%s:%s", argv[3], id, hash);
		if ((rc = lines_write(tpath, &t)) == EXIT_OK)
			printf("%s.%s\n", id, secret);
		explicit_bzero(secret, sizeof(secret));
	} else if (strcmp(argv[2], "list") == 0 && argc <= 4) {
		for (i = 0; i < t.n; i++)
			if (field(t.v[i], 0, f0, sizeof(f0)) &&
			    field(t.v[i], 1, f1, sizeof(f1)) &&
			    (argc < 4 || strcmp(f0, argv[3]) == 0))
				printf("%s  %s\n", f1, f0);
	} else if (strcmp(argv[2], "revoke") == 0 && argc == 4) {
		if ((k = find_line(&t, 1, argv[3])) == -1) {
			fprintf(stderr, "recoveryctl: user: no token '%s'\n",
			    argv[3]);
			rc = EXIT_CHECK;
			goto done;
		}
		drop_line(&t, (size_t)k);
		if ((rc = lines_write(tpath, &t)) == EXIT_OK)
			printf("token %s revoked\n", argv[3]);
	} else
		rc = uusage(stderr);
done:
	lines_free(&t);
	return rc;
}

int
ctl_user(const struct config *cf, int argc, char **argv)
{
	const char *path = cf->console_users_file, *role = NULL;
	char *tpath, f[128];
	struct lines l, t;
	size_t i;
	int rc, k;

	conf_path = cf->path;
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)
		return uusage(argc < 2 ? stderr : stdout);
	for (k = 2; k < argc; k++)
		if (strcmp(argv[k], "--role") == 0 && k + 1 < argc) {
			role = argv[k + 1];
			memmove(&argv[k], &argv[k + 2], (size_t)(argc - k - 2) *
			    sizeof(*argv));
			argc -= 2;
			break;
		}
	if (role != NULL && !role_ok(role)) {
		fprintf(stderr, "recoveryctl: user: the role is viewer, "
		    "supervisor or admin\n");
		return EXIT_USAGE;
	}
	if (argc >= 3 && strcmp(argv[1], "token") != 0 && !name_ok(argv[2])) {
		fprintf(stderr, "recoveryctl: user: a name is 1 to %d of "
		    "A-Z a-z 0-9 . _ @ -\n", NAME_MAX_LEN);
		return EXIT_USAGE;
	}
	tpath = cf->console_tokens_file != NULL ?
	    xstrdup(cf->console_tokens_file) : xasprintf("%s.tokens", path);
	if (lines_read(path, &l) == -1) {
		fprintf(stderr, "recoveryctl: user: %s: %s\n", path,
		    strerror(errno));
		free(tpath);
		return EXIT_CHECK;
	}
	if (strcmp(argv[1], "add") == 0 && argc == 3)
		rc = set_password(path, &l, argv[2], role != NULL ? role :
		    "viewer", false);
	else if (strcmp(argv[1], "passwd") == 0 && argc == 3)
		rc = set_password(path, &l, argv[2], role, true);
	else if (strcmp(argv[1], "role") == 0 && argc == 4 &&
	    role_ok(argv[3])) {
		char hash[512];

		if ((k = find_line(&l, 0, argv[2])) == -1 ||
		    !field(l.v[k], 2, hash, sizeof(hash))) {
			fprintf(stderr, "recoveryctl: user: no user '%s'\n",
			    argv[2]);
			rc = EXIT_CHECK;
		} else {
			free(l.v[k]);
			l.v[k] = xasprintf("%s:%s:%s", argv[2], argv[3], hash);
			rc = lines_write(path, &l);
		}
	} else if (strcmp(argv[1], "remove") == 0 && argc == 3) {
		if ((k = find_line(&l, 0, argv[2])) == -1) {
			fprintf(stderr, "recoveryctl: user: no user '%s'\n",
			    argv[2]);
			rc = EXIT_CHECK;
		} else {
			drop_line(&l, (size_t)k);
			rc = lines_write(path, &l);
			if (rc == EXIT_OK && lines_read(tpath, &t) == 0) {
				bool any = false;

				while ((k = find_line(&t, 0, argv[2])) != -1) {
					drop_line(&t, (size_t)k);
					any = true;
				}
				if (any)
					rc = lines_write(tpath, &t);
				lines_free(&t);
			}
		}
	} else if (strcmp(argv[1], "list") == 0 && argc == 2) {
		for (i = 0; i < l.n; i++)
			if (field(l.v[i], 0, f, sizeof(f))) {
				char r[32];

				printf("%s  %s\n", f, field(l.v[i], 1, r,
				    sizeof(r)) ? r : "?");
			}
		rc = EXIT_OK;
	} else if (strcmp(argv[1], "token") == 0)
		rc = token_cmd(tpath, argc, argv, &l);
	else
		rc = uusage(stderr);
	lines_free(&l);
	free(tpath);
	return rc;
}
