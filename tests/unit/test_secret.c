/*
 * test_secret.c — secrets (secret.h) and the Redis user and password of
 * redis_url_parse(): ${NAME} references, the user:password part of a URL
 * (%-escapes, the last '@'), REDIS_USERNAME and REDIS_PASSWORD over it,
 * systemd credentials over the environment, and secret_seal(): run in a
 * copy of this program started with a known environment, it must leave
 * no value in /proc/self/environ while getenv() and secret_get() still
 * answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "secret.h"
#include "testconf.h"
#include "util.h"

static void
test_refs(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		long		 at;	/* offset of the '$' */
		size_t		 namelen;
	} t[] = {
		{ "no reference", 0, -1, 0 },
		{ "$HOME and {braces}", 0, -1, 0 },
		{ "${A}", 1, 0, 1 },
		{ "Bearer ${CHAT_TOKEN}", 1, 7, 10 },
		{ "x${_a9}y${B}", 1, 1, 3 },
		{ "${}", -1, 0, 0 },
		{ "${9LIVES}", -1, 0, 0 },
		{ "${A-B}", -1, 0, 0 },
		{ "${OPEN", -1, 0, 0 },
		{ "a ${A B}", -1, 2, 0 },
	};
	const char *open;
	size_t i, n;
	int rc;

	for (i = 0; i < ARRAY_LEN(t); i++) {
		open = NULL;
		n = 0;
		rc = secret_ref(t[i].in, &open, &n);
		CHECKF(rc == t[i].rc && (rc == 0 || open - t[i].in == t[i].at) &&
		    (rc != 1 || n == t[i].namelen),
		    "secret_ref '%s': rc %d at %ld len %zu", t[i].in, rc,
		    open != NULL ? (long)(open - t[i].in) : -1L, n);
	}
}

static void
test_url_users(void)
{
	static const struct {
		const char	*url;
		int		 rc;
		const char	*host, *user, *password;
	} t[] = {
		{ "redis://alice:pw@h", 0, "h", "alice", "pw" },
		{ "redis://:pw@h:6380/1", 0, "h", "", "pw" },
		{ "redis://pw@h", 0, "h", "", "pw" },
		{ "redis://al%40ce:p%3Aw%2F%25@h", 0, "h", "al@ce", "p:w/%" },
		{ "redis://u:p@ss@cache", 0, "cache", "u", "p@ss" },
		{ "redis://h", 0, "h", "", "" },
		{ "redis://u:bad%zz@h", -1, NULL, NULL, NULL },
		{ "redis://u:bad%4@h", -1, NULL, NULL, NULL },
		{ "redis://u:%00@h", -1, NULL, NULL, NULL },
		{ "redis://u%2@h", -1, NULL, NULL, NULL },
	};
	struct redis_target rt;
	char err[256], url[600], big[300];
	size_t i;
	int rc;

	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv("REDIS_USERNAME");
	unsetenv("REDIS_PASSWORD");
	for (i = 0; i < ARRAY_LEN(t); i++) {
		err[0] = '\0';
		rc = redis_url_parse(t[i].url, &rt, err, sizeof(err));
		CHECKF(rc == t[i].rc, "%s: rc %d (%s)", t[i].url, rc, err);
		if (rc != 0 || t[i].rc != 0)
			continue;
		CHECKF(strcmp(rt.host, t[i].host) == 0 &&
		    strcmp(rt.username, t[i].user) == 0 &&
		    strcmp(rt.password, t[i].password) == 0,
		    "%s: host '%s' user '%s' password '%s'", t[i].url, rt.host,
		    rt.username, rt.password);
	}
	/* Errors never show the password. */
	CHECK(redis_url_parse("redis://u:s3cr%zz@h", &rt, err,
	    sizeof(err)) == -1);
	CHECK(strstr(err, "s3cr") == NULL && strstr(err, "%25") != NULL);
	/* A user name longer than the field is an error, not cut short. */
	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(url, sizeof(url), "redis://%s:pw@h", big);
	CHECK(redis_url_parse(url, &rt, err, sizeof(err)) == -1);

	setenv("REDIS_USERNAME", "bob", 1);
	setenv("REDIS_PASSWORD", "envpw", 1);
	CHECK(redis_url_parse("redis://alice:pw@h", &rt, err,
	    sizeof(err)) == 0);
	CHECK_STR(rt.username, "bob");
	CHECK_STR(rt.password, "envpw");
	CHECK(redis_url_parse("unix:///run/r.sock", &rt, err,
	    sizeof(err)) == 0);
	CHECK_STR(rt.username, "bob");
	CHECK_STR(rt.password, "envpw");
	setenv("REDIS_USERNAME", "", 1);
	CHECK(redis_url_parse("redis://alice:pw@h", &rt, err,
	    sizeof(err)) == 0);
	CHECK_STR(rt.username, "alice");
	setenv("REDIS_PASSWORD", big, 1);
	CHECK(redis_url_parse("redis://h", &rt, err, sizeof(err)) == -1);
	CHECK(strstr(err, "REDIS_PASSWORD is longer than 255 bytes") != NULL &&
	    strstr(err, "uuuu") == NULL);
	unsetenv("REDIS_USERNAME");
	unsetenv("REDIS_PASSWORD");
}

static void
put_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write(fd, data, len) != (ssize_t)len)
		CHECKF(0, "cannot write %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
}

static void
test_credentials(void)
{
	static const char *const files[] = { "redis-password", "hook-token",
	    "Exact_Name", "empty-one", "big-one", "nul-one" };
	char dir[] = "/tmp/recoveryd-test-creds-XXXXXX", path[512], *big;
	struct redis_target rt;
	char err[256];
	size_t i;

	if (mkdtemp(dir) == NULL) {
		CHECKF(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	put_file(dir, "redis-password", "credpw\n", 7);
	put_file(dir, "hook-token", "tok\r\n", 5);
	put_file(dir, "Exact_Name", "exact", 5);
	put_file(dir, "empty-one", "", 0);
	put_file(dir, "nul-one", "a\0b", 3);
	big = xmalloc(SECRET_FILE_MAX + 2);
	memset(big, 'x', SECRET_FILE_MAX + 1);
	put_file(dir, "big-one", big, SECRET_FILE_MAX + 1);
	free(big);

	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	setenv("REDIS_PASSWORD", "envpw", 1);
	setenv("EMPTY_ONE", "fromenv", 1);
	unsetenv("BIG_ONE");
	unsetenv("NUL_ONE");
	CHECK_STR(secret_get("REDIS_PASSWORD"), "credpw");
	CHECK_STR(secret_get("HOOK_TOKEN"), "tok");
	CHECK_STR(secret_get("Exact_Name"), "exact");
	CHECK_STR(secret_get("EMPTY_ONE"), "fromenv");
	CHECK(secret_get("BIG_ONE") == NULL);
	CHECK(secret_get("NUL_ONE") == NULL);
	CHECK(secret_get("NOT_ANYWHERE") == NULL);
	/* Only names of letters, digits and '_' are looked up as files. */
	CHECK(secret_get("../hook-token") == NULL);
	/* A credential is read once. */
	put_file(dir, "hook-token", "changed", 7);
	CHECK_STR(secret_get("HOOK_TOKEN"), "tok");
	CHECK(redis_url_parse("redis://:urlpw@h", &rt, err, sizeof(err)) == 0);
	CHECK_STR(rt.password, "credpw");

	for (i = 0; i < ARRAY_LEN(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv("REDIS_PASSWORD");
	unsetenv("EMPTY_ONE");
	/* Without the directory the environment answers again. */
	setenv("HOOK_TOKEN", "env-tok", 1);
	CHECK_STR(secret_get("HOOK_TOKEN"), "env-tok");
	unsetenv("HOOK_TOKEN");
}

/* --- secret_seal, in a copy of this program -------------------------- */

#define SEAL_SECRET	"s3cr3t-unit-value"
#define SEAL_PASSWORD	"redis-unit-pw"
#define SEAL_USER	"unit-user-name"

static bool
environ_holds(const char *needle)
{
	char buf[65536];
	size_t len = 0, i, n;
	ssize_t r;
	int fd;

	if ((fd = open("/proc/self/environ", O_RDONLY)) == -1)
		return true;	/* cannot tell: count it as a failure */
	while (len < sizeof(buf) &&
	    (r = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)r;
	close(fd);
	n = strlen(needle);
	for (i = 0; i + n <= len; i++)
		if (memcmp(buf + i, needle, n) == 0)
			return true;
	return false;
}

static int
sealed_child(void)
{
	struct redis_target rt;
	struct config *cf;
	char err[256];

	CHECK(environ_holds(SEAL_SECRET));	/* the test sees it first */
	secret_seal();
	CHECK(!environ_holds(SEAL_SECRET));
	CHECK(!environ_holds(SEAL_PASSWORD));
	CHECK(!environ_holds(SEAL_USER));
	CHECK(!environ_holds("KEEP_ME"));
	CHECK_STR(getenv("KEEP_ME"), "kept");
	CHECK(getenv("REDIS_PASSWORD") == NULL);
	CHECK(getenv("REDIS_USERNAME") == NULL);
	CHECK_STR(getenv("UNIT_SECRET"), SEAL_SECRET);
	CHECK_STR(secret_get("REDIS_PASSWORD"), SEAL_PASSWORD);
	CHECK(redis_url_parse("redis://h", &rt, err, sizeof(err)) == 0);
	CHECK_STR(rt.username, SEAL_USER);
	CHECK_STR(rt.password, SEAL_PASSWORD);

	cf = load_config_text(
	    "channels:\n"
	    "  hook: {type: webhook, url: \"http://h/${URL_PART}\",\n"
	    "         headers: {X-Token: \"t ${UNIT_SECRET}\"}}\n"
	    "rules:\n"
	    "  - {name: r, on: rating, actions: [{notify: hook}]}\n");
	CHECK(cf != NULL);
	if (cf != NULL) {
		secret_hide_config(cf);
		config_free(cf);
	}
	CHECK(getenv("UNIT_SECRET") == NULL);
	CHECK(getenv("URL_PART") == NULL);
	CHECK_STR(secret_get("UNIT_SECRET"), SEAL_SECRET);
	CHECK_STR(secret_get("URL_PART"), "p4th");
	/* The snapshot is the start's: a later setenv() is not a secret. */
	setenv("LATER", "x", 1);
	CHECK_STR(getenv("LATER"), "x");
	CHECK(secret_get("LATER") == NULL);
	CHECK_STR(getenv("KEEP_ME"), "kept");
	secret_seal();		/* a second call changes nothing */
	CHECK_STR(secret_get("REDIS_PASSWORD"), SEAL_PASSWORD);
	return harness_failed > 0 ? 1 : 0;
}

static void
test_seal(void)
{
	char *const argv[] = { (char *)"test_secret", (char *)"--sealed", NULL };
	char *const envp[] = { (char *)"UNIT_SECRET=" SEAL_SECRET,
	    (char *)"REDIS_PASSWORD=" SEAL_PASSWORD,
	    (char *)"REDIS_USERNAME=" SEAL_USER, (char *)"KEEP_ME=kept",
	    (char *)"URL_PART=p4th", NULL };
	int status = -1;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	CHECK(pid > 0);
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "secret_seal in a fresh process: status %d (its FAIL lines "
	    "above)", status);
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--sealed") == 0)
		return sealed_child();
	test_refs();
	test_url_users();
	test_credentials();
	test_seal();
	return harness_done();
}
