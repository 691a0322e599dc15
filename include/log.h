/*
 * log.h — logging in the OpenBSD style: to syslog (facility daemon, ident
 * "recoveryd") and, in the foreground, to stderr as well.
 *
 * log_warn appends strerror(errno); log_warnx does not. fatal/fatalx log and
 * exit(1). Never call these from a raw signal handler.
 */
#ifndef RECOVERYD_LOG_H
#define RECOVERYD_LOG_H

#include <stdarg.h>

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

#endif
