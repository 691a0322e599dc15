/*
 * commit.h — one batch's writes, as Redis commands (cmds) for the
 * commit's transaction (consumer_commit.c) or assembled as the arguments
 * of the fenced apply script (scripts.h), and the script's answer read
 * back.
 *
 * A batch (of events and people's commands, or of escalation steps)
 * becomes: the entry IDs to ack, of the input and the command stream;
 * the store's changes (store_changes: state strings, case hashes,
 * the escalation schedule); each alert's commands (alertcmd.h); dead
 * letters, each guarded by its entry's ID (if its XADD fails the entry
 * stays pending instead of being acked, which only the script can do:
 * a batch with guards commits as the script, the others as a
 * transaction of cmds and the XACKs). Either checks the lease first and
 * writes nothing unless it still holds; commands' answers (command.h)
 * are among the writes.
 *
 * Ownership: the commands are written as RESP as they are added
 * (resp.h), the IDs copied into the arena given to commit_begin (the
 * batch's), so a commit can be sent again as it is (after a refusal such
 * as OOM) for as long as the batch lives; the buffers and arrays are the
 * commit's, freed by commit_free.
 */
#ifndef RECOVERYD_COMMIT_H
#define RECOVERYD_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertcmd.h"
#include "resp.h"
#include "store.h"
#include "util.h"

/* What a command is, so that a failed one is reported by what it was. */
enum cmd_kind { CK_STATE, CK_ALERT, CK_DEAD, CK_ANSWER };

struct cmd_info {
	enum cmd_kind	 kind;
	size_t		 ref;		/* CK_ALERT: alert index; CK_DEAD:
					 * entry index; CK_STATE: 0 */
};

struct commit {
	struct arena	*ar;
	struct args	 ids;		/* input entry IDs to ack */
	struct args	 cids;		/* command entry IDs to ack */
	struct args	 guards;	/* (command, ID) index pairs, 1-based */
	struct cmds	 cmds;		/* the writes */
	size_t		 ncmds, nguards;
	struct cmd_info	*info;		/* per command */
	size_t		 capinfo;
	struct buf	 all;		/* assembled by commit_args */
	uint64_t	 gen;		/* store generation of its changes */
};

void	 commit_init(struct commit *);
/* commit_begin: an empty commit whose strings go into ar. */
void	 commit_begin(struct commit *, struct arena *ar);
void	 commit_free(struct commit *);
/* commit_id: ack id with the batch; returns its 1-based index. */
size_t	 commit_id(struct commit *, const char *id);
/* commit_cid: ack command entry id with the batch. */
void	 commit_cid(struct commit *, const char *id);
/* commit_added: the last n commands ended in cmds (by alertcmd.h's
 * builders, say) are of kind, about ref. */
void	 commit_added(struct commit *, size_t n, enum cmd_kind, size_t ref);
/* commit_guard: if the last command fails, leave ID idx (from
 * commit_id) unacked. */
void	 commit_guard(struct commit *, size_t idx);
/* commit_changes: append the store's changes (store_changes at now_ms)
 * and remember their generation. */
void	 commit_changes(struct commit *, struct store *, int64_t now_ms);
/*
 * commit_args: assemble EVALSHA sha 1 lease_key token group consumer
 * stream nids ids... cstream ncids cids... nguard guards... commands...
 * (each command as its argc, then its arguments) into all, one command
 * in RESP. A stream "" skips the script's check of other consumers'
 * pending entries there (escalation batches, which ack nothing).
 */
void	 commit_args(struct commit *, const char *sha, const char *lease_key,
	    const char *token, const char *group, const char *consumer,
	    const char *stream, const char *cstream);

/* The apply script's answer. */
enum commit_result {
	CR_DONE,	/* written; errors lists the commands that failed */
	CR_FENCED,	/* the lease is not ours: nothing written */
	CR_FOREIGN,	/* another consumer holds pending entries */
	CR_BAD		/* not an answer of the script */
};

/* commit_result: read reply (an array); *other is the foreign
 * consumer (valid while reply is). */
enum commit_result commit_result(const void *reply, const char **other);

#endif
