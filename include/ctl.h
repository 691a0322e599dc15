/*
 * ctl.h — recoveryctl's commands that talk to a running system through
 * Redis (hiredis synchronous API). Each returns an exit code of the
 * README's "Commands": 0 success, 1 failure, 2 usage error, 3 cannot reach
 * Redis.
 *
 * argv[0] is the command name; cf comes from config_load_redis():
 * redis.url, input.stream, state.prefix and the channels are read from
 * it, never its rules (it has none), so a broken rule file stops none of
 * these commands.
 */
#ifndef RECOVERYD_CTL_H
#define RECOVERYD_CTL_H

#include <stdbool.h>

#include <hiredis/hiredis.h>

#include "config.h"

/* ctl_connect: connect (TCP or unix socket), AUTH (with the ACL user, if
 * any) and SELECT per redis.url, REDIS_USERNAME and REDIS_PASSWORD (or
 * their credentials, secret.h); on failure print
 * "recoveryctl: cannot reach Redis at URL: reason" to stderr and return
 * NULL (the caller exits 3). */
redisContext	*ctl_connect(const struct config *cf);
/* ctl_auth_refused: an error reply that means "no or wrong password"
 * (NOAUTH, WRONGPASS, Redis 7's "unauthenticated" protocol error). */
int		 ctl_auth_refused(const redisReply *);
/*
 * ctl_reply_check: whether a synchronous reply r to what is usable: not
 * NULL (connection lost), not an error, of type want. Prints what is wrong
 * and returns the exit code: EXIT_REDIS for a lost connection or a refusal
 * for want of a password, EXIT_CHECK otherwise (EXIT_OK if usable). Does
 * not free r.
 */
int		 ctl_reply_check(redisContext *, const redisReply *r,
		    const char *what, int want);
/* ctl_hash_valid: an HGETALL reply of field/value strings. */
bool		 ctl_hash_valid(const redisReply *);
/* ctl_hash_get: the value of field in a valid HGETALL reply, or NULL. */
const char	*ctl_hash_get(const redisReply *, const char *field);
/* ctl_hash_json: append a valid HGETALL reply as one JSON object. */
struct buf;
void		 ctl_hash_json(const redisReply *, struct buf *);
/* ctl_or_dash: s, or "-" when it is absent or empty (for tables). */
const char	*ctl_or_dash(const char *);
/* ctl_one_line: replace control characters by spaces, in place. */
void		 ctl_one_line(char *);
/* ctl_login_name: --by's default: the login name, else $USER, else
 * "recoveryctl". */
const char	*ctl_login_name(void);

/* ctl_past_skew: how far before now an event's "ts" may lie, as the
 * daemon bounds it (input.max_past_skew; for "auto" the rules decide:
 * the whole configuration is loaded quietly, and when it cannot be, the
 * past is not bounded). */
int64_t	ctl_past_skew(const struct config *cf);

/* push [--dry-run] TYPE field=value... : validate the event as the
 * daemon does (evt_from_fields, with its time bounds); warn on stderr
 * about an unknown type ("did you mean 'rating'?"; such an event is
 * valid, as in the daemon); an invalid event exits 1 with the reason and
 * writes nothing. Else XADD it (flat fields) to input.stream and print
 * its entry ID; --dry-run prints the verdict ("valid: ..." or
 * "invalid (REASON): ...") and writes nothing. */
int	ctl_push(const struct config *cf, int argc, char **argv);
/* watch [--json] [CHANNEL...]: print alerts live from the stream channels
 * (default: all stream channels) via SUBSCRIBE, one line each. */
int	ctl_watch(const struct config *cf, int argc, char **argv);

/*
 * Cases (README, "Cases and escalation"; keys and fields in store.h). Options
 * may come before or after CASE; "--" ends them. Usage errors exit 2 before
 * connecting, so even when Redis is down; a CASE that does not exist exits 1
 * with "recoveryctl: no case 'X'".
 */

/* cases [--state open|acknowledged|resolved|all] [--limit N] [--json]:
 * list cases newest first, at most N (default 50, at most 100000). open
 * (the default) means open and acknowledged, from the index P.."cases:open";
 * all reads P.."cases"; acknowledged and resolved filter those indexes by
 * the case's state, reading pages of 256 cases until N match. A table
 * (CASE STATE SEVERITY CUSTOMER OPENED STEP RULES), or with --json one
 * object a line of every field of the case hash, all as strings. */
int	ctl_cases(const struct config *cf, int argc, char **argv);
/* show CASE: every field of the case, known ones first; for a resolved
 * case the time its hash expires; then its pending escalation steps
 * (its members of P.."escalations", the daemon's schedule) with their
 * due time and "in 12m" or "overdue by 3m". */
int	ctl_show(const struct config *cf, int argc, char **argv);
/* ack CASE [--by NAME] [--note TEXT]: atomically (one script) mark the
 * case acknowledged by NAME (default $USER, else "recoveryctl") at now,
 * with the note if given, and remove its pending escalation steps:
 * acknowledging stops the escalation. An acknowledged case stays the
 * customer's open case. Acknowledging a resolved case is refused
 * (exit 1); acknowledging again updates acked_by and acked_at. */
int	ctl_ack(const struct config *cf, int argc, char **argv);
/* resolve CASE [--note TEXT]: atomically mark the case resolved at now
 * (with the note if given), drop it from P.."cases:open", release the
 * customer's open case if it is still this one (the next firing opens a
 * new case), remove its pending steps and its schedule. The case hash is
 * then kept 30 days for reports and expires. Resolving a resolved case
 * changes nothing and exits 0. */
int	ctl_resolve(const struct config *cf, int argc, char **argv);
/* ctl_assign, ctl_note, ctl_reopen: "assign CASE (--to NAME | --take)",
 * "note CASE TEXT", "reopen CASE", applied by the owner as ack is. */
int	ctl_assign(const struct config *cf, int argc, char **argv);
int	ctl_note(const struct config *cf, int argc, char **argv);
int	ctl_reopen(const struct config *cf, int argc, char **argv);
/* ctl_report: "report [--since DURATION] [--by rule|queue|agent|owner]
 * [--json]" (ctl_report.c). */
int	ctl_report(const struct config *cf, int argc, char **argv);

/* silence add|list|expire (ctl_silence.c; keys in silence.h):
 *   add (--rule R | --queue Q | --agent A | --customer K)... --for
 *     DURATION --reason TEXT [--by NAME]: a silence from now, HSET into
 *     P.."silences" and INCR P.."silences:rev"; prints its ID;
 *   list [--json]: every silence kept (expired ones a day, then dropped
 *     here): ID, matchers, ends in, reason, by, count;
 *   expire ID: ends it now (exit 1: no such silence). */
int	ctl_silence(const struct config *cf, int argc, char **argv);

/*
 * dead and undelivered (ctl_dead.c): the dead-letter stream
 * (input.dead_letter) and the undelivered alerts
 * (<state.prefix>alerts:undelivered):
 *   [list] [--limit N] [--json]: the oldest N (50) entries: ID, time,
 *     reason (or channel), error, fields, on one line each with control
 *     characters replaced; --json one object a line;
 *   show ID [--json]: one entry, every field;
 *   retry (ID... | --all) [--force]: send entries again, each in one
 *     script that adds it to input.stream (dead) or the outbox
 *     (undelivered) and deletes it, so it is removed only once it is
 *     back. A dead letter the daemon's validation still refuses is not
 *     retried without --force (dead only). Exit 1 when any was not.
 */
int	ctl_dead(const struct config *cf, int argc, char **argv);
int	ctl_undelivered(const struct config *cf, int argc, char **argv);

/* stats [--json]: what the running daemons report. Each daemon refreshes
 * the hash P.."daemon:"..CONSUMER every 5 s (expiring after 30 s); print
 * one row per daemon (consumer, events, invalid, fires, alerts, lag, open
 * cases, p99 latency, updated) and a TOTAL row, or with --json each hash
 * as one JSON object a line. Exit 1 with "no running daemons reported in
 * the last 30 s" when there is none. */
int	ctl_stats(const struct config *cf, int argc, char **argv);

/* user ...: the console's users and API tokens (ctl_user.c). */
int	ctl_user(const struct config *cf, int argc, char **argv);

#endif
