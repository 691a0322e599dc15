/*
 * calendar.c — business calendars: weekly hours and holidays compiled
 * from their text, and the questions asked of them (open at an instant,
 * the next opening, the next closing, open time added). calendar.h says
 * what "open" means; calendar_tz.c provides the local time.
 *
 * The searches work on stretches of constant UTC offset (between two
 * transitions of the zone): inside one, local time runs in step with UTC,
 * so the first open (or closed) local second of the stretch is found by
 * walking its local days and their merged intervals, and converts back
 * by subtracting the one offset. Stretches are taken in UTC order, so the
 * first answer is the earliest, also where an autumn change repeats an
 * hour. Each search stops at a horizon (calendar.h) and at year 10000,
 * and walks at most a bounded number of stretches.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calendar.h"
#include "util.h"

#define DAY_S		86400
/* Stretches of constant offset one search may walk: a zone's table,
 * then two rule changes a year to year 10000. */
#define SCAN_MAX_STRETCHES	(TZ_MAX_TRANS + 2 * 10000)
/* calendar_add: open stretches walked before giving up, and how far one
 * closing search looks (a calendar open around the clock is walked in
 * steps of this). */
#define ADD_MAX_STRETCHES	1000000
#define ADD_STEP_S		(31LL * DAY_S)

static const char *const day_names[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

static int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct calendar *
calendar_new(const char *name)
{
	struct calendar *c = xcalloc(1, sizeof(*c));

	c->name = xstrdup(name);
	snprintf(c->tz.name, sizeof(c->tz.name), "UTC");
	return c;
}

void
calendar_free(struct calendar *c)
{
	if (c == NULL)
		return;
	tz_free(&c->tz);
	free(c->holidays);
	free(c->name);
	free(c);
}

int
calendar_set_tz(struct calendar *c, const char *name, char *err,
    size_t errlen)
{
	struct tz z;
	int rc;

	if ((rc = tz_load(&z, name, err, errlen)) != 0)
		return rc;
	tz_free(&c->tz);
	c->tz = z;
	return 0;
}

/* --- hours and holidays ---------------------------------------------- */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hours_err(size_t *erroff, size_t off, char *err, size_t errlen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
hours_err(size_t *erroff, size_t off, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list ap;

	*erroff = off;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* day_of: the weekday named by the n letters at p (any case), or -1. */
static int
day_of(const char *p, size_t n)
{
	size_t i;

	if (n != 3)
		return -1;
	for (i = 0; i < 7; i++)
		if (strncasecmp(p, day_names[i], 3) == 0)
			return (int)i;
	return -1;
}

/* parse_day: a day name at *p; advances *p. */
static int
parse_day(const char *item, const char **p, size_t *erroff, char *err,
    size_t errlen)
{
	const char *q = *p, *dym;
	size_t n;
	int d, shown;

	while (is_letter(*q))
		q++;
	n = (size_t)(q - *p);
	if (n == 0)
		return hours_err(erroff, (size_t)(*p - item), err, errlen,
		    "expected a day (Mon, Tue, Wed, Thu, Fri, Sat or Sun)");
	if ((d = day_of(*p, n)) != -1) {
		*p = q;
		return d;
	}
	shown = n > 20 ? 20 : (int)n;
	{
		char word[24];

		snprintf(word, sizeof(word), "%.*s", shown, *p);
		dym = did_you_mean(word, day_names, 7);
	}
	if (dym != NULL)
		return hours_err(erroff, (size_t)(*p - item), err, errlen,
		    "unknown day '%.*s' (did you mean '%s'?)", shown, *p, dym);
	return hours_err(erroff, (size_t)(*p - item), err, errlen,
	    "unknown day '%.*s' (use Mon, Tue, Wed, Thu, Fri, Sat or Sun)",
	    shown, *p);
}

/* parse_time: H:MM or HH:MM, 00:00 .. 24:00, in seconds. */
static int
parse_time(const char *item, const char **p, int32_t *secs, size_t *erroff,
    char *err, size_t errlen)
{
	const char *q = *p;
	int h = 0, m;

	while (is_digit(*q) && q - *p < 2)
		h = h * 10 + (*q++ - '0');
	if (q == *p || *q != ':' || !is_digit(q[1]) || !is_digit(q[2]) ||
	    is_digit(q[3]))
		goto bad;
	m = (q[1] - '0') * 10 + (q[2] - '0');
	if (h > 24 || m > 59 || (h == 24 && m != 0))
		goto bad;
	*secs = h * 3600 + m * 60;
	*p = q + 3;
	return 0;
bad:
	for (q = *p; *q != '\0' && !is_blank(*q) && *q != ',' && *q != '-' &&
	    q - *p < 20; q++)
		;
	if (q == *p)
		return hours_err(erroff, (size_t)(*p - item), err, errlen,
		    "expected a time such as 08:00%s", **p == '\0' ?
		    " at the end" : "");
	return hours_err(erroff, (size_t)(*p - item), err, errlen,
	    "invalid time '%.*s' (expected HH:MM, from 00:00 to 24:00)",
	    (int)(q - *p), *p);
}

static void
fmt_hhmm(int32_t secs, char *out, size_t cap)
{
	snprintf(out, cap, "%02d:%02d", (int)(secs / 3600),
	    (int)(secs / 60 % 60));
}

int
calendar_parse_hours(struct calendar *c, const char *item, size_t *erroff,
    char *err, size_t errlen)
{
	struct cal_span ranges[CAL_MAX_INTERVALS];
	const char *p = item, *at;
	unsigned mask = 0;
	size_t nr = 0, i, ndays = 0;
	int d1, d2, d;
	char a[8], b[8];

	/* the days: DAY[-DAY][, DAY[-DAY]]... */
	for (;;) {
		while (is_blank(*p))
			p++;
		if ((d1 = parse_day(item, &p, erroff, err, errlen)) == -1)
			return -1;
		d2 = d1;
		if (*p == '-') {
			p++;
			if ((d2 = parse_day(item, &p, erroff, err, errlen)) == -1)
				return -1;
		}
		/* Sun-Tue: Sun, Mon, Tue; Fri-Thu: the whole week */
		for (d = d1;; d = (d + 1) % 7) {
			mask |= 1u << d;
			if (d == d2)
				break;
		}
		at = p;
		while (is_blank(*at))
			at++;
		if (*at != ',')
			break;
		at++;
		while (is_blank(*at))
			at++;
		if (!is_letter(*at))
			break;
		p = at;
	}
	/* the intervals: TIME-TIME, separated by blanks or commas */
	for (;;) {
		at = p;
		while (is_blank(*p) || (*p == ',' && nr > 0))
			p++;
		if (*p == '\0')
			break;
		if (p == at)	/* "Mon/Fri", "Mon-Fri,08:00" */
			return hours_err(erroff, (size_t)(p - item), err, errlen,
			    "unexpected '%c' after the days", *p);
		at = p;
		if (nr == CAL_MAX_INTERVALS)
			return hours_err(erroff, (size_t)(at - item), err,
			    errlen, "too many intervals (limit %d per "
			    "calendar, each day of a range counted)",
			    CAL_MAX_INTERVALS);
		if (parse_time(item, &p, &ranges[nr].start, erroff, err,
		    errlen) == -1)
			return -1;
		if (*p != '-')
			return hours_err(erroff, (size_t)(p - item), err, errlen,
			    "expected '-' and the time the interval ends, as in "
			    "08:00-20:00");
		p++;
		if (parse_time(item, &p, &ranges[nr].end, erroff, err,
		    errlen) == -1)
			return -1;
		fmt_hhmm(ranges[nr].start, a, sizeof(a));
		fmt_hhmm(ranges[nr].end, b, sizeof(b));
		if (ranges[nr].start == DAY_S)
			return hours_err(erroff, (size_t)(at - item), err,
			    errlen, "24:00 can only end an interval");
		if (ranges[nr].end < ranges[nr].start)
			return hours_err(erroff, (size_t)(at - item), err,
			    errlen, "interval %s-%s ends before it starts "
			    "(a night is two intervals: %s-24:00, and 00:00-%s "
			    "of the next day)", a, b, a, b);
		if (ranges[nr].end == ranges[nr].start)
			return hours_err(erroff, (size_t)(at - item), err,
			    errlen, "interval %s-%s is empty", a, b);
		nr++;
		if (*p != '\0' && !is_blank(*p) && *p != ',')
			return hours_err(erroff, (size_t)(p - item), err, errlen,
			    "unexpected '%c' after an interval", *p);
	}
	if (nr == 0)
		return hours_err(erroff, (size_t)(p - item), err, errlen,
		    "expected the opening times after the days, as in "
		    "'Mon-Fri 08:00-20:00'");
	for (d = 0; d < 7; d++)
		if (mask & (1u << d))
			ndays++;
	if (c->nspans + ndays * nr > CAL_MAX_INTERVALS)
		return hours_err(erroff, 0, err, errlen, "too many intervals "
		    "(limit %d per calendar, each day of a range counted)",
		    CAL_MAX_INTERVALS);
	for (d = 0; d < 7; d++) {
		if (!(mask & (1u << d)))
			continue;
		for (i = 0; i < nr; i++) {
			c->span_wday[c->nspans] = (uint8_t)d;
			c->spans[c->nspans++] = ranges[i];
		}
	}
	return 0;
}

static int
month_days(int64_t y, int m)
{
	static const int n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : n[m - 1];
}

int
calendar_parse_holiday(struct calendar *c, const char *s, char *err,
    size_t errlen)
{
	int y = 0, m, d, i;
	int64_t day;
	size_t k;

	for (i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : !is_digit(s[i]))
			break;
	if (i < 10 || s[10] != '\0') {
		snprintf(err, errlen, "expected a date YYYY-MM-DD");
		return -1;
	}
	for (i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1 || d > month_days(y, m)) {
		snprintf(err, errlen, "no such date");
		return -1;
	}
	if (y < 1970) {
		snprintf(err, errlen, "dates start at 1970-01-01");
		return -1;
	}
	day = civil_to_days(y, m, d);
	for (k = 0; k < c->nholidays; k++)
		if (c->holidays[k] == day)
			return 1;
	if (c->nholidays >= CAL_MAX_HOLIDAYS) {
		snprintf(err, errlen, "too many holidays (limit %d per "
		    "calendar)", CAL_MAX_HOLIDAYS);
		return -1;
	}
	c->holidays = xreallocarray(c->holidays, c->nholidays + 1,
	    sizeof(*c->holidays));
	c->holidays[c->nholidays++] = (int32_t)day;
	return 0;
}

static int
cmp_span(const void *a, const void *b)
{
	const struct cal_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int
cmp_day(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

void
calendar_compile(struct calendar *c)
{
	struct cal_span tmp[CAL_MAX_INTERVALS];
	size_t i, n = 0, first, out;
	int w;

	for (w = 0; w < 7; w++) {
		c->day[w] = (uint8_t)n;
		first = n;
		for (i = 0; i < c->nspans; i++)
			if (c->span_wday[i] == w)
				tmp[n++] = c->spans[i];
		if (n == first)
			continue;
		qsort(tmp + first, n - first, sizeof(*tmp), cmp_span);
		/* merge overlapping and touching intervals of the day, so
		 * that no closing is found between two of them */
		for (out = first, i = first + 1; i < n; i++) {
			if (tmp[i].start > tmp[out].end)
				tmp[++out] = tmp[i];
			else if (tmp[i].end > tmp[out].end)
				tmp[out].end = tmp[i].end;
		}
		n = out + 1;
	}
	c->day[7] = (uint8_t)n;
	memcpy(c->spans, tmp, n * sizeof(*tmp));
	c->nspans = n;
	for (w = 0; w < 7; w++)
		for (i = c->day[w]; i < c->day[w + 1]; i++)
			c->span_wday[i] = (uint8_t)w;
	if (c->nholidays > 0)
		qsort(c->holidays, c->nholidays, sizeof(*c->holidays),
		    cmp_day);
}

/* --- questions -------------------------------------------------------- */

static bool
is_holiday(const struct calendar *c, int64_t day)
{
	size_t lo = 0, hi = c->nholidays, mid;

	if (day < CAL_MIN_DAY || day > CAL_MAX_DAY)
		return false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->holidays[mid] == day)
			return true;
		if (c->holidays[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* span_at: the interval of local day d holding second sec of it, or
 * NULL (also on a holiday). */
static const struct cal_span *
span_at(const struct calendar *c, int64_t d, int64_t sec)
{
	int w = days_wday(d);
	size_t i;

	for (i = c->day[w]; i < c->day[w + 1]; i++) {
		if (sec < c->spans[i].start)
			break;
		if (sec < c->spans[i].end)
			return is_holiday(c, d) ? NULL : &c->spans[i];
	}
	return NULL;
}

/* first_open_local: the first local second in [L0, Lend) inside an
 * interval of a day that is not a holiday, or Lend. */
static int64_t
first_open_local(const struct calendar *c, int64_t L0, int64_t Lend)
{
	int64_t d, base, cand;
	size_t i;
	int w;

	for (d = floordiv(L0, DAY_S); d * DAY_S < Lend; d++) {
		w = days_wday(d);
		if (c->day[w] == c->day[w + 1] || is_holiday(c, d))
			continue;
		base = d * DAY_S;
		for (i = c->day[w]; i < c->day[w + 1]; i++) {
			if (base + c->spans[i].end <= L0)
				continue;
			cand = base + c->spans[i].start;
			if (cand < L0)
				cand = L0;
			return cand < Lend ? cand : Lend;
		}
	}
	return Lend;
}

/* first_closed_local: the first local second in [L0, Lend) outside every
 * interval, or Lend. Each step ends a merged interval: either that is
 * closed, or the interval ended at 24:00 and the next day is looked at. */
static int64_t
first_closed_local(const struct calendar *c, int64_t L0, int64_t Lend)
{
	const struct cal_span *sp;
	int64_t L = L0, d;

	while (L < Lend) {
		d = floordiv(L, DAY_S);
		if ((sp = span_at(c, d, L - d * DAY_S)) == NULL)
			return L;
		L = d * DAY_S + sp->end;
	}
	return Lend;
}

/* scan: the first second in [t, limit) at which c is open (want) or
 * closed (!want), or limit; stretch by stretch of constant offset. */
static int64_t
scan(const struct calendar *c, int64_t t, bool want, int64_t limit)
{
	int64_t a = t, b, r;
	int32_t o;
	size_t n;

	for (n = 0; a < limit && n < SCAN_MAX_STRETCHES; n++) {
		o = tz_utoff(&c->tz, a);
		if ((b = tz_next_change(&c->tz, a)) > limit)
			b = limit;
		r = want ? first_open_local(c, a + o, b + o) :
		    first_closed_local(c, a + o, b + o);
		if (r < b + o)
			return r - o;
		a = b;
	}
	return limit;
}

static bool
open_at(const struct calendar *c, int64_t s)
{
	int64_t L, d;

	if (c->nspans == 0 || s < 0 || s >= CAL_END_S)
		return false;
	L = s + tz_utoff(&c->tz, s);
	d = floordiv(L, DAY_S);
	return span_at(c, d, L - d * DAY_S) != NULL;
}

static int64_t
horizon_s(const struct calendar *c)
{
	return (7 * ((int64_t)c->nholidays + 2) + 400) * DAY_S;
}

bool
calendar_open(const struct calendar *c, int64_t ms)
{
	return ms >= 0 && open_at(c, ms / 1000);
}

int64_t
calendar_next_open(const struct calendar *c, int64_t ms)
{
	int64_t s, limit, r;

	if (c->nspans == 0 || ms >= CAL_END_S * 1000)
		return -1;
	if (ms < 0)
		ms = 0;
	s = ms / 1000;
	if (open_at(c, s))
		return ms;
	/* the whole second s is closed: every boundary is a whole second */
	limit = s + horizon_s(c);
	if (limit > CAL_END_S)
		limit = CAL_END_S;
	r = scan(c, s + 1, true, limit);
	return r < limit ? r * 1000 : -1;
}

int64_t
calendar_next_close(const struct calendar *c, int64_t ms)
{
	int64_t s, limit, r;

	if (ms < 0 || !open_at(c, ms / 1000))
		return ms;
	s = ms / 1000;
	limit = s + horizon_s(c);
	if (limit >= CAL_END_S)
		return scan(c, s + 1, false, CAL_END_S) * 1000;
	r = scan(c, s + 1, false, limit);
	return r < limit ? r * 1000 : -1;
}

int64_t
calendar_add(const struct calendar *c, int64_t start_ms, int64_t dur_ms)
{
	int64_t t = start_ms, s, limit, close;
	size_t n;

	if (dur_ms <= 0)
		return start_ms;
	for (n = 0; n < ADD_MAX_STRETCHES; n++) {
		if ((t = calendar_next_open(c, t)) == -1)
			return -1;
		s = t / 1000;
		limit = s + ADD_STEP_S < CAL_END_S ? s + ADD_STEP_S : CAL_END_S;
		/* open until close, or at least until limit */
		close = scan(c, s + 1, false, limit) * 1000;
		if (dur_ms <= close - t)
			return t + dur_ms;
		dur_ms -= close - t;
		t = close;
	}
	return -1;
}
