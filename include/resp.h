/*
 * resp.h — Redis commands written as the protocol Redis reads (RESP: an
 * array of bulk strings per command), and read back.
 *
 * struct cmds is a list of commands under construction: cmd_begin, its
 * arguments, cmd_end. Each argument is copied in as it is added, so
 * nothing it points to need outlive the call, and the list is sent as
 * it is (redis.h: rconn_cmds), with no argv in between. Pure formatting:
 * no I/O.
 */
#ifndef RECOVERYD_RESP_H
#define RECOVERYD_RESP_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct cmds {
	struct buf	 resp;		/* the commands ended, then the open one */
	size_t		 n;		/* commands ended */
	size_t		 nargs;		/* their arguments */
	size_t		 at;		/* the open command's first byte */
	size_t		 argc;		/* its arguments so far */
};

void	 cmds_init(struct cmds *);
/* cmds_reset: empty, keeping at most keep bytes of capacity. */
void	 cmds_reset(struct cmds *, size_t keep);
void	 cmds_free(struct cmds *);
/* cmd_begin: open a command; cmd_end: close it (its argc is written in
 * front of its arguments then; an empty command is dropped). */
void	 cmd_begin(struct cmds *);
void	 cmd_arg(struct cmds *, const char *, size_t);
void	 cmd_str(struct cmds *, const char *);
void	 cmd_num(struct cmds *, long long);
void	 cmd_end(struct cmds *);
/* cmds_take: src's ended commands appended to dst, which has none open;
 * src is left as it is. */
void	 cmds_take(struct cmds *dst, const struct cmds *src);

/*
 * Reading a list back (commands this file wrote): cmds_next reads the
 * header of the command at *pos (its argc), cmds_arg one argument; both
 * advance *pos and return false at the end or on anything malformed.
 */
bool	 cmds_next(const struct cmds *, size_t *pos, size_t *argc);
bool	 cmds_arg(const struct cmds *, size_t *pos, const char **s,
	    size_t *len);

/* resp_append: argv (lens NULL: C strings) as one command, appended to
 * out. resp_bulk: one bulk string (resp_str of a C string, resp_num of
 * a number in decimal); resp_head: "*n" or "$n" and CRLF. */
void	 resp_append(struct buf *out, int argc, const char **argv,
	    const size_t *lens);
void	 resp_bulk(struct buf *out, const char *s, size_t len);
void	 resp_str(struct buf *out, const char *s);
void	 resp_num(struct buf *out, long long v);
void	 resp_head(struct buf *out, char tag, size_t n);

#endif
