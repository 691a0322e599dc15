/*
 * log.h — logging in the OpenBSD style: to syslog (facility daemon, ident
 * "recoveryd") and, in the foreground, to stderr as well.
 *
 * log_warn appends strerror(errno); log_warnx does not. fatal/fatalx log and
 * exit(1). Never call these from a raw signal handler.
 *
 * Every line is passed through log_escape() before it is written, so text
 * from events, Redis or programs that reaches a message can never start a
 * line of its own (a forged "recoveryd[1]: ..." entry) or drive a
 * terminal.
 */
#ifndef RECOVERYD_LOG_H
#define RECOVERYD_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* The longest line written (escapes included); longer ones are cut. */
#define LOG_LINE_MAX	8192

/* log_init: ident is the syslog ident; to_stderr 1 also prints to stderr;
 * use_syslog 0 disables syslog (used by recoveryctl). */
void	log_init(const char *ident, int to_stderr, int use_syslog, int verbose);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * log_escape: src as one printable line, into dst of cap bytes (cap >= 1;
 * always NUL-terminated). Control characters are written as C escapes:
 * newline as \n, carriage return as \r, tab as \t, every other C0
 * character and DEL as \xHH, the C1 controls U+0080..U+009F as \u00HH.
 * Every other byte, a backslash included, is copied as it is. The output
 * is cut before an escape or a UTF-8 sequence that would not fit whole.
 * Returns the length written. O(length of src).
 */
size_t	log_escape(char *dst, size_t cap, const char *src);

#endif
