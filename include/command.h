/*
 * command.h — people's changes to cases, as one writer applies them.
 *
 * A case has one writer: the daemon that owns the input stream (its
 * store caches the case). recoveryctl (and the console to come) never
 * write a case; they add a command to the stream <prefix>commands, which
 * the owner reads beside the input stream, applies with its store in
 * the order of that stream, commits with its next batch (fenced, with
 * the command's XACK) and answers. recoveryctl test runs the same
 * functions on its own store. So what a command means is decided here,
 * once.
 *
 * A command entry's fields (any other field is refused):
 *   op      ack, resolve, assign, note or reopen
 *   case    the case ID: 1..ENGINE_ID_MAX-1 bytes of [A-Za-z0-9._-]
 *           (so that "<prefix>case:<ID>" names nothing but a case)
 *   by      who (required): 1..CMD_BY_MAX bytes without control
 *           characters; recorded as acked_by, resolved_by, in the history
 *   code    resolve: the reason, one of resolution_codes (required)
 *   to      assign: the new owner (a name as by; required)
 *   note    at most CMD_NOTE_MAX bytes, no NUL: optional for ack and
 *           resolve, the text of a note (required, not empty)
 *   reply   optional token, 1..CMD_TOKEN_MAX bytes of [A-Za-z0-9_-]: the
 *           answer is pushed to the list <prefix>reply:<token>, which
 *           expires CMD_REPLY_TTL_MS after
 *   at      optional: when it was sent, ms since the epoch (informative)
 *
 * The answer is one JSON object:
 *   {"ok":true,"case_id":ID,"was":STATE,"state":STATE[,"resolved_at":T]}
 *   {"ok":false,"case_id":ID,"code":CODE,"error":TEXT[,"resolved_at":T]}
 * with CODE "invalid" (the command itself is wrong), "nocase",
 * "resolved" (ack of a resolved case), "code" (resolve without a known
 * reason code), "not_resolved" (reopen of a case that is not resolved)
 * or "other_open" (reopen while its customer has another open case).
 * Resolving a resolved case is ok and changes nothing
 * ("was":"resolved"), as is assigning a case to its owner.
 */
#ifndef RECOVERYD_COMMAND_H
#define RECOVERYD_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "store.h"
#include "util.h"

#define CMD_BY_MAX		128
#define CMD_NOTE_MAX		4096
#define CMD_TOKEN_MAX		64
#define CMD_REPLY_TTL_MS	60000
#define CMD_MAX_FIELDS		8
#define CMD_CODE_MAX		64

enum cmd_op { CMD_NONE, CMD_ACK, CMD_RESOLVE, CMD_ASSIGN, CMD_NOTE,
	CMD_REOPEN };

struct command {
	enum cmd_op	 op;
	char		 case_id[ENGINE_ID_MAX];
	char		 by[CMD_BY_MAX + 1];
	char		 to[CMD_BY_MAX + 1];
	char		 code[CMD_CODE_MAX + 1];
	char		 reply[CMD_TOKEN_MAX + 1];	/* "" none */
	char		*note;		/* NULL: none; owned, command_free */
	char		 err[256];	/* command_parse's refusal */
};

/*
 * command_parse: the entry's n fields into c (zeroed first). Returns 0,
 * or -1 with the reason in c->err; even then c->case_id and c->reply
 * hold what could be read of them, so that the refusal can be answered.
 */
int	 command_parse(struct command *c, const char *const *names,
	    const size_t *nlens, const char *const *vals, const size_t *vlens,
	    size_t n);
void	 command_free(struct command *c);

/* command_case_ok: id is a valid case ID (see above). */
bool	 command_case_ok(const char *id, size_t len);
/* command_token_ok: tok is a valid reply token. */
bool	 command_token_ok(const char *tok, size_t len);

/*
 * command_xadd: the arguments that add a command entry, as recoveryctl
 * and recoveryd-console send it: XADD STREAM MAXLEN ~ CMD_STREAM_MAXLEN *
 * then the n fields (names[i] vals[i]; a NULL value is left out), reply
 * TOKEN and at MS, into av (pointers to the arguments, not copies).
 * Returns argc, or 0 when cap is too small.
 */
#define CMD_STREAM_MAXLEN	"10000"
size_t	 command_xadd(const char **av, size_t cap, const char *stream,
	    const char *const *names, const char *const *vals, size_t n,
	    const char *token, const char *at);

/*
 * command_apply: apply c (parsed) to the store at now_ms, judged by cf's
 * resolution codes (the case
 * resident: store_needs_case first in a backed store) and append the
 * answer to out. A command that command_parse refused is answered with
 * its reason (code "invalid") and changes nothing. Returns 0 when the
 * answer is ok, else -1.
 */
int	 command_apply(struct store *, const struct config *cf,
	    const struct command *c, int64_t now_ms, struct buf *out);

#endif
