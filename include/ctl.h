/*
 * ctl.h — recoveryctl's commands that talk to a running system through
 * Redis (hiredis synchronous API). Each returns an exit code of SPEC
 * section 5: 0 success, 1 failure, 2 usage error, 3 cannot reach Redis.
 *
 * argv[0] is the command name; cf is the loaded configuration (redis.url,
 * input.stream, state.prefix and the channels come from it).
 */
#ifndef RECOVERYD_CTL_H
#define RECOVERYD_CTL_H

#include <hiredis/hiredis.h>

#include "config.h"

/* ctl_connect: connect (TCP or unix socket), AUTH and SELECT per
 * redis.url and REDIS_PASSWORD; on failure print
 * "recoveryctl: cannot reach Redis at URL: reason" to stderr and return
 * NULL (the caller exits 3). */
redisContext	*ctl_connect(const struct config *cf);

/* push TYPE field=value... : XADD one event (flat fields) to
 * input.stream and print its entry ID. */
int	ctl_push(const struct config *cf, int argc, char **argv);
/* watch [--json] [CHANNEL...]: print alerts live from the stream channels
 * (default: all stream channels) via SUBSCRIBE, one line each. */
int	ctl_watch(const struct config *cf, int argc, char **argv);

#endif
