/*
 * util.h — small shared helpers: checked allocation, a growable byte
 * buffer, an arena for per-event allocations, durations, time formats,
 * UTF-8 checks and "did you mean" suggestions.
 *
 * Everything here is pure (no I/O besides the clock in now_wall()).
 * Allocation failures are fatal (fatalx), as in relayd: a daemon that cannot
 * allocate a few bytes cannot do anything useful.
 */
#ifndef RECOVERYD_UTIL_H
#define RECOVERYD_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
/* xreallocarray: realloc to n * size bytes, fatal on overflow. */
void	*xreallocarray(void *, size_t n, size_t size);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* xasprintf: malloc'ed formatted string; caller frees. */
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * struct buf — growable byte buffer, always NUL-terminated after the first
 * append. buf_reset() keeps the capacity so a buffer reused per event does
 * not allocate in steady state. The caller owns data; buf_free() releases it.
 */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
void	 buf_init(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reserve(struct buf *, size_t extra);
void	 buf_append(struct buf *, const char *, size_t);
void	 buf_puts(struct buf *, const char *);
void	 buf_putc(struct buf *, char);
/* buf_put_ll: v in decimal. */
void	 buf_put_ll(struct buf *, long long v);
/* fmt_ll: v in decimal into out, which holds at least FMT_LL_MAX bytes;
 * its length. (snprintf "%lld" costs ten times as much, and the hot
 * paths format several numbers an event.) */
#define FMT_LL_MAX	21
size_t	 fmt_ll(char *out, long long v);
/* fmt_integral: v's digits into out (FMT_LL_MAX bytes) when v is an
 * integer under 1e15 in magnitude and not -0, as "%.0f", "%.15g" and
 * "%.17g" print it, without their cost; else false, out untouched. */
bool	 fmt_integral(char *out, double v);
/* str_copy: src into dst of cap bytes (cap > 0), cut to fit and
 * NUL-terminated, as snprintf(dst, cap, "%s", src) but without the
 * formatting; returns dst. str_cat: the same at dst + *at, moving *at
 * on (to cap - 1 at most). */
char	*str_copy(char *dst, size_t cap, const char *src);
void	 str_cat(char *dst, size_t cap, size_t *at, const char *src);
void	 buf_printf(struct buf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* buf_json_string: append s (len bytes) as a JSON string literal with the
 * quotes, escaping ", \, control characters (\n \t \r \b \f, others \u00XX).
 * Non-ASCII UTF-8 is copied as is (valid JSON). Invalid UTF-8 bytes are
 * replaced by U+FFFD so the output is always valid JSON. */
void	 buf_json_string(struct buf *, const char *s, size_t len);
/* buf_json_escape: the same without the surrounding quotes. */
void	 buf_json_escape(struct buf *, const char *s, size_t len);

/*
 * struct arena — bump allocator for per-event data. arena_reset() keeps the
 * first chunk, so steady-state processing allocates nothing. Memory is
 * 16-byte aligned. Everything returned is freed by arena_reset/arena_free.
 */
struct arena_chunk;
struct arena {
	struct arena_chunk	*head;
	size_t			 allocated;	/* bytes obtained from malloc */
};
void	 arena_init(struct arena *);
void	*arena_alloc(struct arena *, size_t);
char	*arena_strndup(struct arena *, const char *, size_t);
void	 arena_reset(struct arena *);
void	 arena_free(struct arena *);

/*
 * parse_duration_ms: "0", "500ms", "30s", "15m", "4h", "7d" (one number,
 * one unit; "0" alone allowed). Returns 0 and sets *ms, or -1.
 * Bounds: 0 .. 10 years.
 */
int	 parse_duration_ms(const char *s, int64_t *ms);
/* format_duration: inverse for messages, e.g. 90000 -> "90s". */
void	 format_duration(int64_t ms, char *out, size_t cap);

/* parse_rfc3339: "2026-11-23T10:00:00Z", "...T10:00:00.250+01:00".
 * Returns 0 and epoch seconds (with fraction), or -1. */
int	 parse_rfc3339(const char *s, size_t len, double *out);
/* format_rfc3339: UTC with milliseconds, "2026-11-23T10:00:00.250Z". */
void	 format_rfc3339(double epoch, char *out, size_t cap);
/* parse_epoch: "1700000000" or "1700000000.25" (full string, finite,
 * >= 0). Returns 0 or -1. */
int	 parse_epoch(const char *s, size_t len, double *out);
/* parse_number: a full-string decimal number (strtod syntax minus hex,
 * inf and nan, no leading/trailing space). Returns true and sets *out. */
bool	 parse_number(const char *s, size_t len, double *out);
/* parse_bool: true/false/yes/no/1/0, case-insensitive. */
bool	 parse_bool(const char *s, size_t len, bool *out);
/* stream_id_time: epoch seconds of a Redis stream ID "ms-seq", or -1. */
double	 stream_id_time(const char *id);

/* now_wall: wall-clock epoch seconds (CLOCK_REALTIME). */
double	 now_wall(void);

/* utf8_valid: true if s[0..len) is well-formed UTF-8 (no overlongs,
 * no surrogates). */
bool	 utf8_valid(const char *s, size_t len);

/* edit_distance: Levenshtein distance counting an adjacent transposition
 * as one edit; strings over 32 bytes return 32. O(len(a) * len(b)). */
size_t	 edit_distance(const char *a, const char *b);
/* did_you_mean: the candidate closest to word within distance
 * max(1, strlen(word) / 3), or NULL. */
const char *did_you_mean(const char *word, const char *const *cands,
	    size_t ncands);
/* hex_digit: the value of a hexadecimal digit (either case), or -1. */
int	 hex_digit(char c);

#endif
