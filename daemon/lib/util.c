/*
 * util.c — allocation, buffers, arenas, time and text helpers shared by
 * every module. Pure code: the only outside state read is the clock in
 * now_wall().
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("%s: %zu bytes", __func__, n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatal("%s: %zu x %zu bytes", __func__, n, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatal("%s: %zu bytes", __func__, n);
	return q;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		fatalx("%s: %zu x %zu overflows", __func__, n, size);
	return xrealloc(p, n * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("%s: bad format", __func__);
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* --- struct buf ------------------------------------------------------- */

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - b->len - 1)
		fatalx("%s: overflow", __func__);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void
buf_append(struct buf *b, const char *s, size_t n)
{
	if (b->data == NULL || b->cap - b->len <= n)
		buf_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	/* room for it and the NUL: no call (JSON and keys go a byte at a
	 * time) */
	if (b->data != NULL && b->cap - b->len >= 2) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return;
	}
	buf_append(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* utf8_seq: length of the well-formed UTF-8 sequence at s (at most left
 * bytes), or 0 if it is not well formed. */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

/* json_plain: the bytes a JSON string holds as they are (printable
 * ASCII but '"' and '\\'). */
static const bool json_plain[256] = {
	[0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x30] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x40] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x50] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	[0x60] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x70] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

void
buf_json_escape(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start, n;
	char esc[7];

	buf_reserve(b, len);
	while (i < len) {
		start = i;
		/* Copy runs of plain bytes in one go. */
		while (i < len && json_plain[p[i]])
			i++;
		if (i > start)
			buf_append(b, s + start, i - start);
		if (i >= len)
			break;
		if (p[i] >= 0x80) {
			if ((n = utf8_seq(p + i, len - i)) == 0) {
				buf_puts(b, "\xef\xbf\xbd");	/* U+FFFD */
				i++;
			} else {
				buf_append(b, s + i, n);
				i += n;
			}
			continue;
		}
		switch (p[i]) {
		case '"':  buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\b': buf_puts(b, "\\b"); break;
		case '\f': buf_puts(b, "\\f"); break;
		default:
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 0xf];
			buf_append(b, esc, 6);
			break;
		}
		i++;
	}
}

void
buf_json_string(struct buf *b, const char *s, size_t len)
{
	buf_putc(b, '"');
	buf_json_escape(b, s, len);
	buf_putc(b, '"');
}

/* --- arena ------------------------------------------------------------ */

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 size;	/* usable bytes after the header */
	size_t			 used;
	/* data follows, 16-byte aligned */
};

#define ARENA_HDR	((sizeof(struct arena_chunk) + 15) & ~(size_t)15)
/*
 * The first chunk is small and each next one doubles (up to 1 MiB), so
 * an arena costs about what it holds: every event has one (the daemon's
 * batches give theirs one arena for all), and when each of the daemon's
 * events in flight kept its own, 16 KiB first chunks took 8 MiB of its
 * resident memory.
 */
#define ARENA_MIN	1024

void
arena_init(struct arena *a)
{
	a->head = NULL;
	a->allocated = 0;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t size;

	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (c == NULL || c->size - c->used < n) {
		size = n > ARENA_MIN ? n : ARENA_MIN;
		if (c != NULL && c->size * 2 > size && c->size < 1024 * 1024)
			size = c->size * 2;
		c = xmalloc(ARENA_HDR + size);
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
		a->allocated += ARENA_HDR + size;
	}
	c->used += n;
	return (char *)c + ARENA_HDR + c->used - n;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * arena_reset: keep only the largest chunk (the last one allocated is the
 * largest, being doubled each time), so that a steady event mix settles on
 * one chunk and stops allocating.
 */
void
arena_reset(struct arena *a)
{
	struct arena_chunk *c, *next;

	if (a->head == NULL)
		return;
	for (c = a->head->next; c != NULL; c = next) {
		next = c->next;
		a->allocated -= ARENA_HDR + c->size;
		free(c);
	}
	a->head->next = NULL;
	a->head->used = 0;
}

void
arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->head);
	arena_init(a);
}

/* --- durations and times ---------------------------------------------- */

int
parse_duration_ms(const char *s, int64_t *ms)
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	const int64_t max = 10LL * 366 * 86400000;
	const char *p = s;
	int64_t n = 0;
	size_t i;

	if (s == NULL || *s == '\0')
		return -1;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		n = n * 10 + (*p - '0');
		if (n > max)
			return -1;
		p++;
	}
	for (i = 0; i < ARRAY_LEN(units); i++) {
		if (strcmp(p, units[i].unit) == 0) {
			if (n > max / units[i].ms)
				return -1;
			*ms = n * units[i].ms;
			return 0;
		}
	}
	return -1;
}

void
format_duration(int64_t ms, char *out, size_t cap)
{
	if (ms == 0)
		snprintf(out, cap, "0");
	else if (ms % 86400000 == 0)
		snprintf(out, cap, "%lldd", (long long)(ms / 86400000));
	else if (ms % 3600000 == 0)
		snprintf(out, cap, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(out, cap, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(out, cap, "%llds", (long long)(ms / 1000));
	else
		snprintf(out, cap, "%lldms", (long long)ms);
}

/* days_from_civil: days since 1970-01-01 of a proleptic Gregorian date
 * (Howard Hinnant's algorithm; no timezone state, unlike mktime). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
parse_rfc3339(const char *s, size_t len, double *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh, om;
	double frac = 0, scale = 0.1;
	size_t i;
	int64_t days, off = 0;

	/* YYYY-MM-DDTHH:MM:SS */
	if (len < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	i = 19;
	if (i < len && s[i] == '.') {
		i++;
		if (i >= len || !isdigit((unsigned char)s[i]))
			return -1;
		while (i < len && isdigit((unsigned char)s[i])) {
			frac += (s[i] - '0') * scale;
			scale /= 10;
			i++;
		}
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
		off = 0;
	else if (i + 6 == len && (s[i] == '+' || s[i] == '-') &&
	    s[i + 3] == ':') {
		if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		off = (int64_t)oh * 3600 + om * 60;
		if (s[i] == '-')
			off = -off;
	} else
		return -1;
	days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	*out = (double)(days * 86400 + h * 3600 + mi * 60 + sec - off) + frac;
	return 0;
}

bool
fmt_integral(char *out, double v)
{
	if (v != floor(v) || !(fabs(v) < 1e15) || (v == 0 && signbit(v)))
		return false;
	(void)fmt_ll(out, (long long)v);
	return true;
}

size_t
fmt_ll(char *out, long long v)
{
	char tmp[FMT_LL_MAX];
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u != 0);
	if (v < 0)
		out[i++] = '-';
	while (n > 0)
		out[i++] = tmp[--n];
	out[i] = '\0';
	return i;
}

void
buf_put_ll(struct buf *b, long long v)
{
	char tmp[FMT_LL_MAX];

	buf_append(b, tmp, fmt_ll(tmp, v));
}

char *
str_copy(char *dst, size_t cap, const char *src)
{
	size_t at = 0;

	str_cat(dst, cap, &at, src);
	return dst;
}

void
str_cat(char *dst, size_t cap, size_t *at, const char *src)
{
	size_t n = strlen(src);

	if (cap == 0)
		return;
	if (*at >= cap)
		*at = cap - 1;
	if (n > cap - 1 - *at)
		n = cap - 1 - *at;
	memcpy(dst + *at, src, n);
	*at += n;
	dst[*at] = '\0';
}

void
format_rfc3339(double epoch, char *out, size_t cap)
{
	/* The last one again (a batch stamps everything with one "now"):
	 * copied, not formatted. Only the event loop's thread calls it (the
	 * console's login worker does nothing but crypt(3)). */
	static time_t last_t = (time_t)-1, last_day = (time_t)-1;
	static int last_ms = -1;
	static char last[40];
	static size_t daylen;
	time_t t = (time_t)floor(epoch), day;
	int ms = (int)llround((epoch - floor(epoch)) * 1000), s;
	struct tm tm;

	if (ms >= 1000) {
		t++;
		ms -= 1000;
	}
	if (t != last_t || ms != last_ms) {
		/* The date from gmtime_r once a day; the time of day by
		 * arithmetic (UTC has no leap seconds in time_t). */
		day = t - ((t % 86400) + 86400) % 86400;
		if (day != last_day) {
			memset(&tm, 0, sizeof(tm));
			(void)gmtime_r(&t, &tm);
			snprintf(last, sizeof(last), "%04d-%02d-%02dT",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
			daylen = strlen(last);
			last_day = day;
		}
		s = (int)(t - day);
		last[daylen] = (char)('0' + s / 36000);
		last[daylen + 1] = (char)('0' + s / 3600 % 10);
		last[daylen + 2] = ':';
		last[daylen + 3] = (char)('0' + s / 600 % 6);
		last[daylen + 4] = (char)('0' + s / 60 % 10);
		last[daylen + 5] = ':';
		last[daylen + 6] = (char)('0' + s % 60 / 10);
		last[daylen + 7] = (char)('0' + s % 10);
		last[daylen + 8] = '.';
		last[daylen + 9] = (char)('0' + ms / 100);
		last[daylen + 10] = (char)('0' + ms / 10 % 10);
		last[daylen + 11] = (char)('0' + ms % 10);
		last[daylen + 12] = 'Z';
		last[daylen + 13] = '\0';
		last_t = t;
		last_ms = ms;
	}
	if (cap > 0)
		(void)str_copy(out, cap, last);
}

bool
parse_number(const char *s, size_t len, double *out)
{
	char tmp[64], *end;
	size_t i = 0;
	bool digit = false, integral = true;
	double v;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	/* Accept only [-+]?digits[.digits][e[+-]digits] (no hex, inf, nan,
	 * spaces), which is what a person means by "a number". */
	if (s[i] == '-' || s[i] == '+')
		i++;
	while (i < len && isdigit((unsigned char)s[i])) {
		i++;
		digit = true;
	}
	if (i < len && s[i] == '.') {
		i++;
		integral = false;
		while (i < len && isdigit((unsigned char)s[i])) {
			i++;
			digit = true;
		}
	}
	if (!digit)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		integral = false;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		if (i >= len || !isdigit((unsigned char)s[i]))
			return false;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i != len)
		return false;
	if (integral && len <= 15) {
		/* an integer of at most 15 digits: exact in a double, the
		 * value strtod would give, without its cost */
		long long n = 0;

		for (i = (s[0] == '-' || s[0] == '+'); i < len; i++)
			n = n * 10 + (s[i] - '0');
		*out = s[0] == '-' ? -(double)n : (double)n;
		return true;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	v = strtod(tmp, &end);
	if (*end != '\0' || !isfinite(v))
		return false;
	*out = v;
	return true;
}

bool
parse_bool(const char *s, size_t len, bool *out)
{
	static const struct { const char *word; size_t len; bool val; }
	    words[] = {
		{ "true", 4, true }, { "false", 5, false }, { "yes", 3, true },
		{ "no", 2, false }, { "1", 1, true }, { "0", 1, false },
	};
	size_t i;

	/* (every value of every event comes here) */
	if (len == 0 || len > 5)
		return false;
	for (i = 0; i < ARRAY_LEN(words); i++) {
		if (words[i].len == len &&
		    strncasecmp(s, words[i].word, len) == 0) {
			*out = words[i].val;
			return true;
		}
	}
	return false;
}

int
parse_epoch(const char *s, size_t len, double *out)
{
	double v;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != '.')
			return -1;
	if (!parse_number(s, len, &v) || v < 0)
		return -1;
	*out = v;
	return 0;
}

double
stream_id_time(const char *id)
{
	long long ms = 0;
	const char *p = id;

	if (id == NULL || !isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		if (ms > LLONG_MAX / 10 - 10)
			return -1;
		ms = ms * 10 + (*p - '0');
		p++;
	}
	if (*p != '-' && *p != '\0')
		return -1;
	return (double)ms / 1000.0;
}

double
now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- suggestions ------------------------------------------------------ */

/*
 * edit_distance: optimal string alignment distance (Levenshtein plus the
 * transposition of two adjacent characters, "csta" -> "csat" being one
 * edit: the typo people make most). Three rows of at most 33 entries.
 */
size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, best;
	size_t rows[3][33], *pp, *prev, *cur, *tmp;

	if (la > 32 || lb > 32)
		return 32;
	pp = rows[0];
	prev = rows[1];
	cur = rows[2];
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			best = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			cur[j] = best;
		}
		tmp = pp;
		pp = prev;
		prev = cur;
		cur = tmp;
	}
	return prev[lb];
}

const char *
did_you_mean(const char *word, const char *const *cands, size_t ncands)
{
	size_t i, d, best = SIZE_MAX, limit;
	const char *found = NULL;

	limit = strlen(word) / 3;
	if (limit < 1)
		limit = 1;
	for (i = 0; i < ncands; i++) {
		if (cands[i] == NULL)
			continue;
		d = edit_distance(word, cands[i]);
		if (d <= limit && d < best) {
			best = d;
			found = cands[i];
		}
	}
	return found;
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
