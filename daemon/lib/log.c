/*
 * log.c — OpenBSD-style logging: syslog (facility daemon) and, in the
 * foreground, stderr. Messages at debug level are shown only with -v.
 *
 * Messages carry text the daemon did not write (event fields in alert
 * messages, customer IDs, Redis error replies, a program's output), so
 * each formatted line is escaped (log_escape) before it leaves: a newline
 * in an event cannot forge a log line, an ESC cannot drive the terminal
 * that tails the log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int log_to_stderr = 1;
static int log_use_syslog;
static int log_verbose;

void
log_init(const char *ident, int to_stderr, int use_syslog, int verbose)
{
	log_to_stderr = to_stderr;
	log_use_syslog = use_syslog;
	log_verbose = verbose;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

/* utf8_len: the length of the UTF-8 sequence that starts with lead byte
 * c, or 1 for a byte that starts none (copied alone). */
static size_t
utf8_len(unsigned char c)
{
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 1;
}

size_t
log_escape(char *dst, size_t cap, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	char esc[8];
	size_t n = 0, k, len;

	while (*s != '\0') {
		len = 1;
		if (*s == '\n' || *s == '\r' || *s == '\t') {
			esc[0] = '\\';
			esc[1] = *s == '\n' ? 'n' : *s == '\r' ? 'r' : 't';
			k = 2;
		} else if (*s < 0x20 || *s == 0x7f) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[*s >> 4];
			esc[3] = hex[*s & 0xf];
			k = 4;
		} else if (*s == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[s[1] >> 4];
			esc[5] = hex[s[1] & 0xf];
			k = 6;
			len = 2;
		} else {
			/* A whole UTF-8 sequence; a lead byte without its
			 * continuation bytes goes alone, so a control
			 * character after it is still escaped. */
			len = utf8_len(*s);
			for (k = 1; k < len && (s[k] & 0xc0) == 0x80; k++)
				;
			len = k;
			memcpy(esc, s, k);
		}
		if (n + k >= cap)
			break;
		memcpy(dst + n, esc, k);
		n += k;
		s += len;
	}
	if (cap > 0)
		dst[n] = '\0';
	return n;
}

/* emit: one formatted message, escaped, to stderr and syslog. */
static void
emit(int pri, const char *msg)
{
	char line[LOG_LINE_MAX];

	log_escape(line, sizeof(line), msg);
	if (log_to_stderr)
		fprintf(stderr, "%s\n", line);
	if (log_use_syslog)
		syslog(pri, "%s", line);
}

static void
vlog(int pri, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(pri, msg);
}

static void
vlog_errno(int pri, int saved, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (saved != 0) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	emit(pri, msg);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
