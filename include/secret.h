/*
 * secret.h — the values that must not leak: the Redis user name and
 * password, and the ${NAME} values of webhook URLs and headers.
 *
 * secret_get(NAME) looks, in this order, in
 *  1. $CREDENTIALS_DIRECTORY/<name> (systemd's LoadCredential=): first
 *     the name in lower case with '-' for '_' (REDIS_PASSWORD is the file
 *     redis-password, CHAT_TOKEN is chat-token), then NAME as it is. One
 *     trailing newline is dropped; an empty file counts as not set. A file
 *     is read once and kept for the life of the process.
 *  2. the environment: the private snapshot secret_seal() took, once it
 *     has run, else getenv().
 *
 * Why the snapshot: the programs of exec channels run as the daemon's
 * user, and /proc/<daemon pid>/environ shows them the environment block
 * the kernel wrote at execve, whatever became of environ since
 * (unsetenv() does not touch that block). So recoveryd calls
 * secret_seal() first thing: it copies every variable into private
 * memory, points environ at the copies, overwrites the original block in
 * place (as setproctitle does) and drops REDIS_PASSWORD and
 * REDIS_USERNAME from environ; secret_hide_config() drops every ${NAME}
 * a configuration uses, at start and at each reload. Values are resolved
 * from the snapshot for the life of the process: a reload sees the
 * values the daemon started with, and a changed secret needs a restart.
 *
 * Not thread-safe (the programs here are single-threaded). Returned
 * values belong to this module and stay valid until exit (before
 * secret_seal(), an environment value is getenv()'s: valid until the
 * environment changes).
 */
#ifndef RECOVERYD_SECRET_H
#define RECOVERYD_SECRET_H

#include <stddef.h>

#include "config.h"

#define SECRET_FILE_MAX	65536	/* bytes of one credential file */
#define SECRET_NAME_MAX	127	/* bytes of a ${NAME} */

/* secret_seal: see above. Call once, before anything keeps a pointer
 * returned by getenv(); later calls do nothing. Logs (and carries on) if
 * the original block cannot be found. */
void		 secret_seal(void);
/* secret_hide: remove name from environ (after secret_seal(); before it,
 * nothing happens, so that getenv() still finds it). */
void		 secret_hide(const char *name);
/* secret_hide_config: secret_hide() every ${NAME} of cf's webhook URLs
 * and header values. */
void		 secret_hide_config(const struct config *cf);
/* secret_get: the value of name (see above), or NULL when it is set
 * nowhere. */
const char	*secret_get(const char *name);
/*
 * secret_ref: find the first "${" in s. Returns 0 when there is none; 1
 * when it starts a valid reference ${NAME} (NAME: an ASCII letter or '_',
 * then letters, digits and '_', at most SECRET_NAME_MAX bytes), with
 * *open at the '$' and *namelen the length of NAME (the reference ends
 * at *open + *namelen + 3); -1 when it does not, with *open at the '$'.
 */
int		 secret_ref(const char *s, const char **open, size_t *namelen);

#endif
