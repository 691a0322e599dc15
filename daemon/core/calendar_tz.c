/*
 * calendar_tz.c — IANA time zones for the business calendars (see
 * calendar.h): a zone read from its TZif file, and conversions between
 * UTC and local time.
 *
 * A TZif file (RFC 8536) holds a version 1 block with 32-bit times,
 * then, from version 2 on, a second header and block with 64-bit times,
 * then a footer: a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3") that
 * gives local time after the last transition of the table. We skip the
 * 32-bit block, keep the 64-bit transitions that change the offset, and
 * compile the footer into a rule evaluated per year, so 2100 has its
 * summer time whether the file is "fat" (transitions to 2037) or "slim"
 * (transitions only where the rule does not apply).
 *
 * The parser trusts nothing in the file: every count is checked against
 * the bytes there are before anything is read (in 64-bit arithmetic, so
 * four billion transitions cannot wrap a size), offsets must lie within
 * a day, transition times must ascend, type indices must exist, and the
 * footer must end the file. Leap-second ("right/") zones are refused:
 * their times are not POSIX times.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "util.h"

#define TZ_HDR		44
#define TZ_MAX_TYPES	256	/* transition type indices are bytes */
#define TZ_MAX_FOOTER	255
#define TZ_MAX_UTOFF	90000	/* 25 h: RFC 8536 says -89999 .. 93599 */
/* Instants the rule computes with: years -300000 .. 300000, far inside
 * int64 days and seconds. */
#define TZ_CLAMP_S	9000000000000LL

static int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t
clamp_s(int64_t t)
{
	return t < -TZ_CLAMP_S ? -TZ_CLAMP_S : t > TZ_CLAMP_S ? TZ_CLAMP_S : t;
}

/* --- civil dates -------------------------------------------------------- */

/* civil_to_days, days_to_civil: Howard Hinnant's algorithms (eras of
 * 400 years, March-based years), exact for every int64 year we clamp to. */
int64_t
civil_to_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floordiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
days_to_civil(int64_t z, int64_t *year, int *month, int *day)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floordiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (*month <= 2);
}

int
days_wday(int64_t days)
{
	int64_t w = (days + 4) % 7;	/* 1970-01-01 was a Thursday */

	return (int)(w < 0 ? w + 7 : w);
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* --- the footer's POSIX TZ rule ---------------------------------------- */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* tzs_name: an abbreviation, "CET" (3+ letters) or "<+0530>" (3+ of
 * [A-Za-z0-9+-]). Returns the end, or NULL. */
static const char *
tzs_name(const char *p)
{
	const char *q;

	if (*p == '<') {
		for (q = p + 1; is_alpha(*q) || is_digit(*q) || *q == '+' ||
		    *q == '-'; q++)
			;
		return *q == '>' && q - p - 1 >= 3 ? q + 1 : NULL;
	}
	for (q = p; is_alpha(*q); q++)
		;
	return q - p >= 3 ? q : NULL;
}

/* tzs_num: 1..digits decimal digits at most max. */
static const char *
tzs_num(const char *p, int digits, int max, int *out)
{
	int n = 0, i;

	for (i = 0; i < digits && is_digit(p[i]); i++)
		n = n * 10 + (p[i] - '0');
	if (i == 0 || n > max)
		return NULL;
	*out = n;
	return p + i;
}

/* tzs_time: [+-]hh[:mm[:ss]], hours at most maxh. */
static const char *
tzs_time(const char *p, int maxh, int32_t *out)
{
	int sign = 1, h, m = 0, s = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if ((p = tzs_num(p, 3, maxh, &h)) == NULL)
		return NULL;
	if (*p == ':') {
		if ((p = tzs_num(p + 1, 2, 59, &m)) == NULL)
			return NULL;
		if (*p == ':' && (p = tzs_num(p + 1, 2, 59, &s)) == NULL)
			return NULL;
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

/* tzs_date: Jn, n or Mm.w.d, then an optional /time (default 02:00). */
static const char *
tzs_date(const char *p, struct tz_rdate *rd)
{
	memset(rd, 0, sizeof(*rd));
	if (*p == 'J') {
		rd->kind = 'J';
		if ((p = tzs_num(p + 1, 3, 365, &rd->n)) == NULL || rd->n < 1)
			return NULL;
	} else if (*p == 'M') {
		rd->kind = 'M';
		if ((p = tzs_num(p + 1, 2, 12, &rd->m)) == NULL || rd->m < 1 ||
		    *p != '.' || (p = tzs_num(p + 1, 1, 5, &rd->w)) == NULL ||
		    rd->w < 1 || *p != '.' ||
		    (p = tzs_num(p + 1, 1, 6, &rd->d)) == NULL)
			return NULL;
	} else {
		rd->kind = 'D';
		if ((p = tzs_num(p, 3, 365, &rd->n)) == NULL)
			return NULL;
	}
	rd->secs = 7200;
	if (*p == '/')
		p = tzs_time(p + 1, 167, &rd->secs);
	return p;
}

/*
 * parse_footer: s is the TZ string (NUL-terminated, may be empty). POSIX
 * offsets count west of UTC, utoff east: the sign flips. A zone with
 * daylight-saving time must say when (zic always does; POSIX's
 * implementation-defined default is not guessed).
 */
static int
parse_footer(struct tz *z, const char *s)
{
	const char *p = s;
	int32_t off;

	z->has_rule = false;
	z->rule_dst = false;
	if (*s == '\0')
		return 0;
	if ((p = tzs_name(p)) == NULL || (p = tzs_time(p, 24, &off)) == NULL)
		return -1;
	z->std_utoff = -off;
	z->dst_utoff = z->std_utoff + 3600;
	if (*p != '\0') {
		if ((p = tzs_name(p)) == NULL)
			return -1;
		if (*p != ',' && *p != '\0') {
			if ((p = tzs_time(p, 24, &off)) == NULL)
				return -1;
			z->dst_utoff = -off;
		}
		if (*p != ',' || (p = tzs_date(p + 1, &z->dst_start)) == NULL ||
		    *p != ',' || (p = tzs_date(p + 1, &z->dst_end)) == NULL)
			return -1;
		z->rule_dst = true;
	}
	if (*p != '\0')
		return -1;
	z->has_rule = true;
	return 0;
}

/* rdate_days: the local day of rd in year y. */
static int64_t
rdate_days(const struct tz_rdate *rd, int64_t y)
{
	int64_t jan1 = civil_to_days(y, 1, 1), first, next, d;

	switch (rd->kind) {
	case 'J':
		return jan1 + rd->n - 1 + (is_leap(y) && rd->n >= 60);
	case 'D':
		return jan1 + rd->n;
	default:
		first = civil_to_days(y, rd->m, 1);
		next = rd->m == 12 ? civil_to_days(y + 1, 1, 1) :
		    civil_to_days(y, rd->m + 1, 1);
		d = first + (rd->d - days_wday(first) + 7) % 7 +
		    7 * (rd->w - 1);
		while (d >= next)	/* "5": the last one; at most once */
			d -= 7;
		return d;
	}
}

/* rule_bounds: the UTC instants summer time starts and ends in year y
 * (each given in the local time in force before it). */
static void
rule_bounds(const struct tz *z, int64_t y, int64_t *start, int64_t *end)
{
	*start = rdate_days(&z->dst_start, y) * 86400 + z->dst_start.secs -
	    z->std_utoff;
	*end = rdate_days(&z->dst_end, y) * 86400 + z->dst_end.secs -
	    z->dst_utoff;
}

static int64_t
rule_year(const struct tz *z, int64_t t)
{
	int64_t y;
	int m, d;

	days_to_civil(floordiv(t + z->std_utoff, 86400), &y, &m, &d);
	return y;
}

/*
 * rule_utoff: summer time is the union over the years y of [start of y,
 * end of y) — or, when a year's end comes before its start (southern
 * hemisphere), [start of y, end of y + 1). A transition lies at most a
 * week (167 hours) and a day (the offset) outside its year, so only the
 * years around t's can hold it; looking at two either side keeps this
 * exact even for a rule whose summer spills across a new year, and so
 * consistent with rule_next().
 */
static int32_t
rule_utoff(const struct tz *z, int64_t t)
{
	int64_t y, y0, s, e, next_s;

	if (!z->rule_dst)
		return z->std_utoff;
	t = clamp_s(t);
	y0 = rule_year(z, t);
	for (y = y0 - 2; y <= y0 + 1; y++) {
		rule_bounds(z, y, &s, &e);
		if (e <= s)
			rule_bounds(z, y + 1, &next_s, &e);
		if (s <= t && t < e)
			return z->dst_utoff;
	}
	return z->std_utoff;
}

/* rule_next: the first rule transition after t, from the years around
 * it; INT64_MAX past the instants the rule computes with. */
static int64_t
rule_next(const struct tz *z, int64_t t)
{
	int64_t y, y0, s, e, best = INT64_MAX;

	if (t >= TZ_CLAMP_S)
		return INT64_MAX;
	t = clamp_s(t);
	y0 = rule_year(z, t);
	for (y = y0 - 2; y <= y0 + 2; y++) {
		rule_bounds(z, y, &s, &e);
		if (s > t && s < best)
			best = s;
		if (e > t && e < best)
			best = e;
	}
	return best;
}

/* --- TZif ------------------------------------------------------------- */

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_hdr {
	uint32_t	isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

/* tzif_hdr: the header at buf + at, if the bytes are there. */
static const char *
tzif_hdr(const unsigned char *buf, size_t len, size_t at,
    struct tzif_hdr *h)
{
	const unsigned char *p = buf + at;

	if (len < at || len - at < TZ_HDR)
		return "truncated header";
	if (memcmp(p, "TZif", 4) != 0)
		return "not a TZif file";
	if (p[4] == '\0')
		return "version 1 TZif file (no 64-bit data; a current tzdata "
		    "package has version 2 or later)";
	if (p[4] < '2' || p[4] > '9')
		return "unknown TZif version";
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	return NULL;
}

/* tzif_size: the bytes of a data block with times of tsize bytes; 64-bit
 * arithmetic, so no count can wrap it. */
static uint64_t
tzif_size(const struct tzif_hdr *h, uint64_t tsize)
{
	return (uint64_t)h->timecnt * (tsize + 1) + (uint64_t)h->typecnt * 6 +
	    h->charcnt + (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt +
	    h->isutcnt;
}

static int
tz_fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

int
tz_parse(struct tz *z, const unsigned char *buf, size_t len, char *err,
    size_t errlen)
{
	struct tzif_hdr h;
	const unsigned char *times, *idx, *types, *p;
	const char *msg;
	char footer[TZ_MAX_FOOTER + 1];
	uint64_t size;
	size_t at, i, n, flen;
	int32_t off, prev;

	memset(z, 0, sizeof(*z));
	if ((msg = tzif_hdr(buf, len, 0, &h)) != NULL)
		return tz_fail(err, errlen, msg);
	size = tzif_size(&h, 4);
	if (size > len - TZ_HDR)
		return tz_fail(err, errlen, "truncated version 1 data");
	at = TZ_HDR + (size_t)size;
	if (len - at < TZ_HDR)
		return tz_fail(err, errlen, "truncated version 2 header");
	if ((msg = tzif_hdr(buf, len, at, &h)) != NULL)
		return tz_fail(err, errlen, msg);
	at += TZ_HDR;
	if (h.typecnt == 0 || h.typecnt > TZ_MAX_TYPES || h.charcnt == 0 ||
	    (h.isutcnt != 0 && h.isutcnt != h.typecnt) ||
	    (h.isstdcnt != 0 && h.isstdcnt != h.typecnt))
		return tz_fail(err, errlen, "inconsistent counts in header");
	if (h.leapcnt != 0)
		return tz_fail(err, errlen, "leap-second zones (right/...) are "
		    "not supported");
	if (h.timecnt > TZ_MAX_TRANS)
		return tz_fail(err, errlen, "too many transitions");
	size = tzif_size(&h, 8);
	if (size > len - at)
		return tz_fail(err, errlen, "truncated version 2 data");
	times = buf + at;
	idx = times + (size_t)h.timecnt * 8;
	types = idx + h.timecnt;
	for (i = 0; i < h.typecnt; i++) {
		p = types + i * 6;
		off = (int32_t)be32(p);
		if (off <= -TZ_MAX_UTOFF || off >= TZ_MAX_UTOFF || p[4] > 1 ||
		    p[5] >= h.charcnt)
			return tz_fail(err, errlen, "invalid local time type");
	}
	for (i = 0; i < h.timecnt; i++) {
		if (idx[i] >= h.typecnt)
			return tz_fail(err, errlen, "invalid transition type");
		if (i > 0 && be64(times + i * 8) <= be64(times + (i - 1) * 8))
			return tz_fail(err, errlen, "transitions out of order");
	}
	p = types + (size_t)h.typecnt * 6 + h.charcnt;
	for (i = 0; i < (size_t)h.isstdcnt + h.isutcnt; i++)
		if (p[i] > 1)
			return tz_fail(err, errlen, "invalid standard/UT "
			    "indicator");

	/* the footer: "\n" TZ "\n", the end of the file */
	at += (size_t)size;
	if (at >= len || buf[at] != '\n')
		return tz_fail(err, errlen, "missing footer");
	flen = len - at - 1;
	if ((p = memchr(buf + at + 1, '\n', flen)) == NULL)
		return tz_fail(err, errlen, "truncated footer");
	flen = (size_t)(p - (buf + at + 1));
	if (flen > TZ_MAX_FOOTER || memchr(buf + at + 1, '\0', flen) != NULL)
		return tz_fail(err, errlen, "invalid footer");
	if ((size_t)(p - buf) + 1 != len)
		return tz_fail(err, errlen, "data after the footer");
	memcpy(footer, buf + at + 1, flen);
	footer[flen] = '\0';
	if (parse_footer(z, footer) == -1)
		return tz_fail(err, errlen, "invalid TZ string in the footer");

	/* RFC 8536: type 0 before the first transition; the footer after
	 * the last (for every instant if there is none). */
	z->first_utoff = (int32_t)be32(types);
	z->rule_from = h.timecnt > 0 ? be64(times + (h.timecnt - 1) * 8) :
	    INT64_MIN;
	z->trans = xcalloc(h.timecnt + 1, sizeof(*z->trans));
	prev = z->first_utoff;
	for (i = n = 0; i < h.timecnt; i++) {
		off = (int32_t)be32(types + idx[i] * 6);
		if (off == prev)
			continue;	/* a change of name only */
		z->trans[n].at = be64(times + i * 8);
		z->trans[n++].utoff = prev = off;
	}
	z->ntrans = n;
	return 0;
}

void
tz_free(struct tz *z)
{
	free(z->trans);
	z->trans = NULL;
	z->ntrans = 0;
}

bool
tz_name_valid(const char *name)
{
	const char *p;
	size_t len = strlen(name);

	if (len == 0 || len > TZ_NAME_MAX || name[0] == '/' ||
	    name[len - 1] == '/' || strstr(name, "..") != NULL ||
	    strstr(name, "//") != NULL)
		return false;
	for (p = name; *p != '\0'; p++)
		if (!is_alpha(*p) && !is_digit(*p) && *p != '_' && *p != '+' &&
		    *p != '-' && *p != '/')
			return false;
	return true;
}

int
tz_load_path(struct tz *z, const char *path, char *err, size_t errlen)
{
	unsigned char *buf;
	struct stat st;
	char msg[256];
	size_t got = 0;
	ssize_t r;
	int fd, rc;

	memset(z, 0, sizeof(*z));
	/* O_NONBLOCK: a FIFO put where a zone belongs must not hang the
	 * load; it is refused below as not a regular file. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cannot read %s: not a regular file",
		    path);
		close(fd);
		return -1;
	}
	if (st.st_size > TZ_FILE_MAX) {
		snprintf(err, errlen, "%s is not a valid TZif file: over %d "
		    "bytes", path, TZ_FILE_MAX);
		close(fd);
		return -2;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if ((rc = tz_parse(z, buf, got, msg, sizeof(msg))) == -1) {
		snprintf(err, errlen, "%s is not a valid TZif file: %s", path,
		    msg);
		rc = -2;
	} else
		(void)str_copy(z->name, sizeof(z->name), path);
	free(buf);
	return rc;
}

int
tz_load(struct tz *z, const char *name, char *err, size_t errlen)
{
	char path[sizeof(TZ_DIR) + TZ_NAME_MAX + 2];
	int rc;

	memset(z, 0, sizeof(*z));
	if (!tz_name_valid(name)) {
		snprintf(err, errlen, "invalid time zone name");
		return -3;
	}
	snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name);
	if ((rc = tz_load_path(z, path, err, errlen)) == 0)
		(void)str_copy(z->name, sizeof(z->name), name);
	return rc;
}

/* --- conversions ------------------------------------------------------ */

/*
 * tz_utoff, tz_next_change: the table up to its last transition, the
 * footer's rule from that instant on (the two agree there in a
 * consistent file; in another, the offset changes at that transition,
 * which tz_next_change reports too, so that a stretch between two changes
 * always has one offset).
 */
int32_t
tz_utoff(const struct tz *z, int64_t t)
{
	size_t lo, hi, mid;

	if (z->has_rule && t >= z->rule_from)
		return rule_utoff(z, t);
	if (z->ntrans == 0 || t < z->trans[0].at)
		return z->first_utoff;
	/* the last transition at or before t */
	lo = 0;
	hi = z->ntrans;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (z->trans[mid].at <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->trans[lo].utoff;
}

int64_t
tz_next_change(const struct tz *z, int64_t t)
{
	size_t lo, hi, mid;

	if (z->has_rule && t >= z->rule_from)
		return z->rule_dst ? rule_next(z, t) : INT64_MAX;
	if (z->ntrans > 0 && t < z->trans[z->ntrans - 1].at) {
		/* the first transition after t */
		lo = 0;
		hi = z->ntrans - 1;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (z->trans[mid].at > t)
				hi = mid;
			else
				lo = mid + 1;
		}
		return z->trans[lo].at;
	}
	return z->has_rule ? z->rule_from : INT64_MAX;
}

/*
 * tz_local_to_utc: walk the stretches of constant offset that can hold
 * local_s (two days either side: no offset reaches a day), in order. The
 * first stretch whose local times contain local_s gives the first
 * occurrence; a stretch whose local times begin after local_s means
 * local_s fell into the gap before it, and its start is the instant after
 * the gap.
 */
int64_t
tz_local_to_utc(const struct tz *z, int64_t local_s)
{
	int64_t L = clamp_s(local_s), a, b, hi;
	int32_t o;
	int i;

	a = L - 2 * 86400;
	hi = L + 2 * 86400;
	for (i = 0; i < 64 && a < hi; i++) {
		o = tz_utoff(z, a);
		if ((b = tz_next_change(z, a)) > hi)
			b = hi;
		if (a + o > L)
			return a;
		if (L < b + o)
			return L - o;
		a = b;
	}
	return L - tz_utoff(z, L);
}

void
tz_to_local(const struct tz *z, int64_t utc_s, struct tz_local *lt)
{
	int64_t L, sec, y;

	lt->utoff = tz_utoff(z, utc_s);
	L = clamp_s(utc_s) + lt->utoff;
	lt->days = floordiv(L, 86400);
	sec = L - lt->days * 86400;
	days_to_civil(lt->days, &y, &lt->month, &lt->day);
	lt->year = (int)y;
	lt->hour = (int)(sec / 3600);
	lt->min = (int)(sec / 60 % 60);
	lt->sec = (int)(sec % 60);
	lt->wday = days_wday(lt->days);
}
