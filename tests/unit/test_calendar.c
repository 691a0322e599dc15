/*
 * test_calendar.c — business calendars (calendar.h) and the "calendars:"
 * section of the configuration (config_calendars.c).
 *
 * Time zones come from the system's tzdata (/usr/share/zoneinfo), and
 * every offset our TZif reader gives is checked against glibc's
 * localtime_r() over the same files, 1970 to 2200: two independent
 * readers of the table and the footer rule. The calendar cases are the
 * spec's (Europe/Berlin, Mon-Fri 08:00-20:00, the DST changes of 2026)
 * with the exact UTC milliseconds written out; broken TZif files are
 * written to a temporary directory and must be refused without a read
 * past their end (the ASan build checks that).
 *
 * Run from the repository root.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "config.h"
#include "engine.h"
#include "harness.h"
#include "util.h"

static char tmpdir[] = "/tmp/recoveryd-test_calendar.XXXXXX";

#define H	3600000LL
#define MIN	60000LL

/* Z: UTC milliseconds of a UTC civil time. */
static int64_t
Z(int y, int mo, int d, int h, int mi)
{
	return (civil_to_days(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

static void
write_bytes(const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((fp = fopen(path, "wb")) == NULL) {
		perror(path);
		exit(2);
	}
	if (n > 0 && fwrite(p, 1, n, fp) != n) {
		perror(path);
		exit(2);
	}
	fclose(fp);
}

static void
write_file(const char *name, const char *text)
{
	write_bytes(name, text, strlen(text));
}

static unsigned char *
read_zone(const char *name, size_t *len)
{
	char path[512];
	unsigned char *buf;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name);
	if ((fp = fopen(path, "rb")) == NULL) {
		perror(path);
		exit(2);
	}
	buf = xmalloc(TZ_FILE_MAX);
	*len = fread(buf, 1, TZ_FILE_MAX, fp);
	fclose(fp);
	return buf;
}

/*
 * mkcal: a compiled calendar in zone tz with the hours and holidays of
 * two NULL-terminated lists; NULL (and a failed check) if any is refused.
 */
static struct calendar *
mkcal(const char *tz, const char *const *hours, const char *const *holidays)
{
	struct calendar *c = calendar_new("t");
	char err[256];
	size_t off;

	if (calendar_set_tz(c, tz, err, sizeof(err)) != 0) {
		CHECKF(0, "zone %s: %s", tz, err);
		calendar_free(c);
		return NULL;
	}
	for (; hours != NULL && *hours != NULL; hours++)
		if (calendar_parse_hours(c, *hours, &off, err,
		    sizeof(err)) != 0) {
			CHECKF(0, "hours '%s': %s at %zu", *hours, err, off);
			calendar_free(c);
			return NULL;
		}
	for (; holidays != NULL && *holidays != NULL; holidays++)
		if (calendar_parse_holiday(c, *holidays, err,
		    sizeof(err)) != 0) {
			CHECKF(0, "holiday '%s': %s", *holidays, err);
			calendar_free(c);
			return NULL;
		}
	calendar_compile(c);
	return c;
}

/* --- civil dates and zones ------------------------------------------- */

static void
test_civil(void)
{
	int64_t d, y;
	int m, dd, bad = 0;

	CHECK_INT(civil_to_days(1970, 1, 1), 0);
	CHECK_INT(civil_to_days(2000, 3, 1), 11017);
	CHECK_INT(civil_to_days(2026, 11, 27), 20784);
	CHECK_INT(civil_to_days(9999, 12, 31), CAL_MAX_DAY);
	CHECK_INT(civil_to_days(1969, 12, 31), -1);
	CHECK_INT(days_wday(0), 4);		/* a Thursday */
	CHECK_INT(days_wday(-1), 3);
	CHECK_INT(days_wday(20784), 5);	/* 2026-11-27, a Friday */
	for (d = -800000; d <= CAL_MAX_DAY + 800000; d += 97) {
		days_to_civil(d, &y, &m, &dd);
		if (civil_to_days(y, m, dd) != d)
			bad++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(Z(2026, 3, 30, 6, 0), 1774850400000LL);
}

static void
test_tz_names(void)
{
	static const char *const bad[] = {
		"", "/etc/passwd", "../../etc/passwd", "Europe/../../etc/passwd",
		"..", "Europe/..", "Europe//Berlin", "Europe/Berlin/",
		"Europe/Berlin\n", "Europe/Berlin;id", "a b", "zone.tab",
		"$(id)", "Europe\\Berlin", "~root",
	};
	static const char *const good[] = {
		"UTC", "Europe/Berlin", "Etc/GMT+5", "Etc/GMT-14",
		"America/Argentina/Buenos_Aires", "America/Port-au-Prince",
	};
	char err[256], longname[300];
	struct tz z;
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		CHECKF(!tz_name_valid(bad[i]), "'%s' accepted", bad[i]);
		CHECKF(tz_load(&z, bad[i], err, sizeof(err)) == -3,
		    "'%s' loaded", bad[i]);
	}
	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(!tz_name_valid(longname));
	for (i = 0; i < ARRAY_LEN(good); i++) {
		CHECKF(tz_name_valid(good[i]), "'%s' refused", good[i]);
		CHECKF(tz_load(&z, good[i], err, sizeof(err)) == 0,
		    "'%s': %s", good[i], err);
		tz_free(&z);
	}
	CHECK_INT(tz_load(&z, "Europe/Berln", err, sizeof(err)), -1);
	CHECK_STR(err, "cannot read /usr/share/zoneinfo/Europe/Berln: No such "
	    "file or directory");
	CHECK_INT(tz_load(&z, "Europe", err, sizeof(err)), -1);
	CHECK_STR(err, "cannot read /usr/share/zoneinfo/Europe: not a regular "
	    "file");
}

/*
 * test_tz_glibc: our offsets against glibc's localtime_r over the same
 * zone files, every 11 hours 13 minutes from 1970 to 2200 and a second
 * either side of each change we find. Far past the tables' 2037, both
 * evaluate the footer's rule.
 */
static void
test_tz_glibc(void)
{
	static const char *const zones[] = {
		"Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC",
		"Australia/Sydney", "America/Nuuk", "Europe/Dublin",
		"Australia/Lord_Howe", "America/Sao_Paulo", "Pacific/Apia",
		"Antarctica/Troll", "Africa/Casablanca", "Asia/Tehran",
		"Pacific/Chatham", "America/Santiago",
	};
	const int64_t end = civil_to_days(2200, 1, 1) * 86400;
	char err[256];
	struct tz z;
	struct tm tm;
	size_t i;
	int64_t t, c;
	time_t tt;
	long bad, n;
	int k;

	for (i = 0; i < ARRAY_LEN(zones); i++) {
		if (tz_load(&z, zones[i], err, sizeof(err)) != 0) {
			CHECKF(0, "%s: %s", zones[i], err);
			continue;
		}
		setenv("TZ", zones[i], 1);
		tzset();
		bad = n = 0;
		for (t = 0; t < end; t += 11 * 3600 + 13 * 60) {
			tt = (time_t)t;
			localtime_r(&tt, &tm);
			n++;
			if (tm.tm_gmtoff != tz_utoff(&z, t) && bad++ < 3)
				printf("%s at %lld: glibc %ld, ours %d\n",
				    zones[i], (long long)t, tm.tm_gmtoff,
				    tz_utoff(&z, t));
		}
		for (t = 0, k = 0; k < 2000 && (c = tz_next_change(&z, t)) <
		    end; k++, t = c) {
			int64_t probe[2] = { c - 1, c };
			int j;

			CHECKF(c > t, "%s: change %lld not after %lld",
			    zones[i], (long long)c, (long long)t);
			if (c <= t)
				break;
			for (j = 0; j < 2; j++) {
				tt = (time_t)probe[j];
				localtime_r(&tt, &tm);
				n++;
				if (tm.tm_gmtoff != tz_utoff(&z, probe[j]) &&
				    bad++ < 3)
					printf("%s at change %lld: glibc %ld, "
					    "ours %d\n", zones[i],
					    (long long)probe[j], tm.tm_gmtoff,
					    tz_utoff(&z, probe[j]));
			}
		}
		CHECKF(bad == 0, "%s: %ld of %ld offsets differ from glibc",
		    zones[i], bad, n);
		tz_free(&z);
	}
	unsetenv("TZ");
	tzset();
}

static void
test_tz_local(void)
{
	static const struct {
		const char	*zone;
		int		 y, mo, d, h, mi;	/* local wall time */
		int64_t		 utc_ms;
	} rows[] = {
		/* Berlin spring 2026: 02:00 -> 03:00; the gap maps to
		 * 03:00 CEST, the instant after it */
		{ "Europe/Berlin", 2026, 3, 29, 1, 59, 1774745940000LL },
		{ "Europe/Berlin", 2026, 3, 29, 2, 0, 1774746000000LL },
		{ "Europe/Berlin", 2026, 3, 29, 2, 30, 1774746000000LL },
		{ "Europe/Berlin", 2026, 3, 29, 3, 0, 1774746000000LL },
		{ "Europe/Berlin", 2026, 3, 29, 3, 1, 1774746060000LL },
		/* autumn: 03:00 -> 02:00; 02:30 twice, the first is CEST */
		{ "Europe/Berlin", 2026, 10, 25, 2, 30, 1792888200000LL },
		{ "Europe/Berlin", 2026, 10, 25, 3, 0, 1792893600000LL },
		{ "Europe/Berlin", 2026, 10, 25, 1, 59, 1792886340000LL },
		{ "Europe/Berlin", 2026, 7, 1, 12, 0, 1782900000000LL },
		/* 2100, from the footer rule: 28 March is the last Sunday */
		{ "Europe/Berlin", 2100, 3, 28, 2, 30, 4109878800000LL },
		{ "Europe/Berlin", 2100, 7, 1, 12, 0, 4118119200000LL },
		{ "America/New_York", 2026, 3, 8, 2, 30, 1772953200000LL },
		{ "America/New_York", 2026, 11, 1, 1, 30, 1793511000000LL },
		{ "Asia/Kolkata", 2026, 1, 1, 0, 0, 1767205800000LL },
		{ "UTC", 2026, 1, 1, 0, 0, 1767225600000LL },
	};
	struct tz z;
	struct tz_local lt;
	char err[256];
	size_t i;
	int64_t local, got;

	for (i = 0; i < ARRAY_LEN(rows); i++) {
		if (tz_load(&z, rows[i].zone, err, sizeof(err)) != 0) {
			CHECKF(0, "%s: %s", rows[i].zone, err);
			continue;
		}
		local = civil_to_days(rows[i].y, rows[i].mo, rows[i].d) *
		    86400 + rows[i].h * 3600 + rows[i].mi * 60;
		got = tz_local_to_utc(&z, local) * 1000;
		CHECKF(got == rows[i].utc_ms, "row %zu %s %04d-%02d-%02d "
		    "%02d:%02d: got %lld, want %lld", i, rows[i].zone,
		    rows[i].y, rows[i].mo, rows[i].d, rows[i].h, rows[i].mi,
		    (long long)got, (long long)rows[i].utc_ms);
		tz_free(&z);
	}

	tz_load(&z, "Europe/Berlin", err, sizeof(err));
	tz_to_local(&z, 1795805940, &lt);	/* 2026-11-27T18:59:00Z */
	CHECK(lt.year == 2026 && lt.month == 11 && lt.day == 27 &&
	    lt.hour == 19 && lt.min == 59 && lt.sec == 0 && lt.wday == 5 &&
	    lt.utoff == 3600);
	tz_to_local(&z, 4118119200LL, &lt);	/* 2100-07-01T10:00:00Z */
	CHECK(lt.year == 2100 && lt.hour == 12 && lt.utoff == 7200);
	CHECK_INT(tz_utoff(&z, 4102444800LL), 3600);	/* 2100-01-01 */
	CHECK_INT(tz_utoff(&z, 253402214400LL), 3600);	/* 9999-12-31 */
	CHECK_INT(tz_utoff(&z, 253386000000LL), 7200);	/* 9999-06-25 */
	CHECK_INT(tz_next_change(&z, 1774745999), 1774746000);
	tz_free(&z);
}

/* --- broken TZif files ------------------------------------------------ */

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* parse_copy: tz_parse of n bytes copied into a buffer of exactly n
 * bytes, so that ASan sees any read past the end. */
static int
parse_copy(const unsigned char *src, size_t n, char *err, size_t errlen)
{
	unsigned char *buf = xmalloc(n > 0 ? n : 1);
	struct tz z;
	int rc;

	memcpy(buf, src, n);
	rc = tz_parse(&z, buf, n, err, errlen);
	if (rc == 0)
		tz_free(&z);
	free(buf);
	return rc;
}

static void
test_tz_corrupt(void)
{
	unsigned char *zone, *b;
	size_t len, n, v1, v2, i;
	char err[256], path[600];
	struct tz z;
	uint32_t seed = 12345;
	long refused = 0, accepted = 0;
	int rc;

	zone = read_zone("Europe/Berlin", &len);
	b = xmalloc(len + 64);
	CHECK_INT(parse_copy(zone, len, err, sizeof(err)), 0);

	/* every truncation is refused, by tz_parse and by path */
	for (n = 0; n < len; n++)
		if (parse_copy(zone, n, err, sizeof(err)) != -1)
			CHECKF(0, "a %zu-byte prefix of %zu parsed", n, len);
	write_bytes("trunc", zone, len / 2);
	snprintf(path, sizeof(path), "%s/trunc", tmpdir);
	CHECK_INT(tz_load_path(&z, path, err, sizeof(err)), -2);
	CHECK(strstr(err, "is not a valid TZif file: truncated") != NULL);
	write_bytes("empty", "", 0);
	snprintf(path, sizeof(path), "%s/empty", tmpdir);
	CHECK_INT(tz_load_path(&z, path, err, sizeof(err)), -2);
	write_bytes("whole", zone, len);
	snprintf(path, sizeof(path), "%s/whole", tmpdir);
	CHECK_INT(tz_load_path(&z, path, err, sizeof(err)), 0);
	CHECK_INT(tz_utoff(&z, 1782900000), 7200);
	tz_free(&z);

	/* offsets of the parts, from the file's own counts */
	v1 = 44 + get32(zone + 32) * 5 + get32(zone + 36) * 6 +
	    get32(zone + 40) + get32(zone + 28) * 8 + get32(zone + 24) +
	    get32(zone + 20);
	v2 = v1 + 44;
	CHECK(memcmp(zone + v1, "TZif2", 5) == 0);

	struct {
		const char	*what;
		size_t		 at;	/* byte to change */
		int		 width;	/* 1 or 4 */
		uint32_t	 value;
		const char	*err;	/* substring of the refusal */
	} muts[] = {
		{ "magic", 0, 1, 'X', "not a TZif file" },
		{ "version 1", 4, 1, 0, "version 1" },
		{ "v2 magic", v1, 1, 'X', "not a TZif file" },
		{ "timecnt huge", v1 + 32, 4, 0xffffffff, "too many" },
		{ "timecnt +1", v1 + 32, 4, 0, "" },
		{ "typecnt 0", v1 + 36, 4, 0, "inconsistent" },
		{ "typecnt huge", v1 + 36, 4, 0x7fffffff, "inconsistent" },
		{ "charcnt huge", v1 + 40, 4, 0xfffffff0, "truncated" },
		{ "leapcnt", v1 + 28, 4, 1, "leap-second" },
		{ "isutcnt", v1 + 20, 4, 1, "inconsistent" },
		{ "v1 timecnt huge", 32, 4, 0x40000000, "truncated" },
		{ "first time after second", v2, 4, 0x7fffffff, "order" },
		{ "type index", 0, 1, 200, "transition type" },
		{ "footer newline", len - 1, 1, 'x', "footer" },
		{ "footer text", len - 3, 1, '!', "TZ string" },
	};
	for (i = 0; i < ARRAY_LEN(muts); i++) {
		size_t at = muts[i].at;

		memcpy(b, zone, len);
		if (strcmp(muts[i].what, "timecnt +1") == 0)
			muts[i].value = get32(zone + v1 + 32) + 1;
		if (strcmp(muts[i].what, "type index") == 0)
			at = v2 + get32(zone + v1 + 32) * 8;	/* first index */
		if (muts[i].width == 4)
			put32(b + at, muts[i].value);
		else
			b[at] = (unsigned char)muts[i].value;
		rc = parse_copy(b, len, err, sizeof(err));
		CHECKF(rc == -1 && strstr(err, muts[i].err) != NULL,
		    "%s: rc %d, '%s'", muts[i].what, rc, rc ? err : "");
	}
	/* data after the footer */
	memcpy(b, zone, len);
	memcpy(b + len, "junk", 4);
	CHECK_INT(parse_copy(b, len + 4, err, sizeof(err)), -1);
	CHECK(strstr(err, "after the footer") != NULL);

	/* random byte changes: refused or parsed, never a crash or a read
	 * out of bounds (ASan); an accepted one still answers */
	for (i = 0; i < 20000; i++) {
		memcpy(b, zone, len);
		for (n = 0; n < 1 + i % 4; n++) {
			seed = seed * 1103515245 + 12345;
			b[(seed >> 8) % len] = (unsigned char)(seed >> 20);
		}
		seed = seed * 1103515245 + 12345;
		n = i % 3 == 0 ? (seed >> 8) % len : len;
		{
			unsigned char *c = xmalloc(n > 0 ? n : 1);

			memcpy(c, b, n);
			if (tz_parse(&z, c, n, err, sizeof(err)) == 0) {
				accepted++;
				(void)tz_utoff(&z, 1782900000);
				(void)tz_next_change(&z, 4118119200LL);
				(void)tz_local_to_utc(&z, 1782900000);
				tz_free(&z);
			} else
				refused++;
			free(c);
		}
	}
	CHECK(refused > 0 && accepted + refused == 20000);

	/* a version 1 file (the v1 block only) */
	memcpy(b, zone, v1);
	b[4] = 0;
	CHECK_INT(parse_copy(b, v1, err, sizeof(err)), -1);
	CHECK(strstr(err, "version 1") != NULL);
	free(b);
	free(zone);
}

/* --- calendars ------------------------------------------------------- */

static const char *const weekdays[] = { "Mon-Fri 08:00-20:00", NULL };

static void
test_berlin(void)
{
	static const char *const xmas[] = { "2026-12-24", "2026-12-25", NULL };
	struct calendar *c = mkcal("Europe/Berlin", weekdays, NULL);
	struct calendar *h = mkcal("Europe/Berlin", weekdays, xmas);
	/* Friday 2026-11-27, CET (UTC+1) */
	const int64_t fri1959 = 1795805940000LL, fri2001 = 1795806060000LL;
	const int64_t mon0800 = 1796022000000LL;	/* 2026-11-30T07:00Z */

	if (c == NULL || h == NULL)
		return;
	CHECK(calendar_open(c, fri1959));
	CHECK_INT(calendar_next_open(c, fri1959), fri1959);
	CHECK(!calendar_open(c, fri2001));
	CHECK_INT(calendar_next_open(c, fri2001), mon0800);
	CHECK_INT(mon0800, Z(2026, 11, 30, 7, 0));
	/* 20:00 itself is closed; the last millisecond before is open */
	CHECK(calendar_open(c, Z(2026, 11, 27, 18, 59) + 59999));
	CHECK(!calendar_open(c, Z(2026, 11, 27, 19, 0)));
	CHECK_INT(calendar_next_close(c, fri1959), Z(2026, 11, 27, 19, 0));
	CHECK_INT(calendar_next_close(c, fri2001), fri2001);
	CHECK_INT(calendar_next_open(c, mon0800 - 1), mon0800);
	CHECK(calendar_open(c, mon0800));

	/* Saturdays before the changes of 2026: Monday 08:00 local is
	 * 06:00Z after the spring one and 07:00Z after the autumn one */
	CHECK_INT(calendar_next_open(c, Z(2026, 3, 28, 11, 0)),
	    1774850400000LL);
	CHECK_INT(1774850400000LL, Z(2026, 3, 30, 6, 0));
	CHECK_INT(calendar_next_open(c, Z(2026, 10, 24, 10, 0)),
	    1792998000000LL);
	CHECK_INT(1792998000000LL, Z(2026, 10, 26, 7, 0));
	/* the Friday before each: 20:00 local is 19:00Z, then 18:00Z */
	CHECK_INT(calendar_next_close(c, Z(2026, 3, 27, 12, 0)),
	    Z(2026, 3, 27, 19, 0));
	CHECK_INT(calendar_next_close(c, Z(2026, 10, 30, 12, 0)),
	    Z(2026, 10, 30, 19, 0));
	CHECK_INT(calendar_next_close(c, Z(2026, 10, 23, 12, 0)),
	    Z(2026, 10, 23, 18, 0));

	/* holidays close the whole local date */
	CHECK(calendar_open(c, Z(2026, 12, 24, 10, 0)));
	CHECK(!calendar_open(h, Z(2026, 12, 24, 10, 0)));
	CHECK(!calendar_open(h, Z(2026, 12, 25, 10, 0)));
	CHECK(calendar_open(h, Z(2026, 12, 23, 18, 59)));
	CHECK_INT(calendar_next_open(h, Z(2026, 12, 23, 19, 30)),
	    Z(2026, 12, 28, 7, 0));
	/* the local date, not the UTC one: 23:30Z on the 23rd is the 24th
	 * in Berlin */
	CHECK_INT(calendar_next_open(h, Z(2026, 12, 23, 23, 30)),
	    Z(2026, 12, 28, 7, 0));

	/* business time: across a weekend, a holiday, a DST change */
	CHECK_INT(calendar_add(c, Z(2026, 11, 27, 18, 0), 2 * H),
	    Z(2026, 11, 30, 8, 0));			/* Mon 09:00 CET */
	CHECK_INT(calendar_add(c, Z(2026, 11, 27, 18, 0), 1 * H),
	    Z(2026, 11, 27, 19, 0));			/* Fri 20:00 */
	CHECK_INT(calendar_add(c, Z(2026, 11, 28, 12, 0), 1 * H),
	    Z(2026, 11, 30, 8, 0));			/* from a Saturday */
	CHECK_INT(calendar_add(c, Z(2026, 11, 27, 18, 0), 0),
	    Z(2026, 11, 27, 18, 0));
	CHECK_INT(calendar_add(h, Z(2026, 12, 23, 18, 0), 2 * H),
	    Z(2026, 12, 28, 8, 0));			/* Mon 28 Dec 09:00 */
	CHECK_INT(calendar_add(c, Z(2026, 3, 27, 18, 0), 2 * H),
	    Z(2026, 3, 30, 7, 0));			/* Mon 09:00 CEST */
	CHECK_INT(calendar_add(c, Z(2026, 10, 23, 17, 0), 2 * H),
	    Z(2026, 10, 26, 8, 0));			/* Mon 09:00 CET */
	/* a week of open time is 60 hours */
	CHECK_INT(calendar_add(c, Z(2026, 11, 30, 7, 0), 60 * H),
	    Z(2026, 12, 4, 19, 0));
	CHECK_INT(calendar_add(c, Z(2026, 11, 30, 7, 0), 60 * H + 1),
	    Z(2026, 12, 7, 7, 0) + 1);

	/* year 2100, past the table: the footer's rule. 2100-03-28 is the
	 * last Sunday of March. */
	CHECK_INT(calendar_next_open(c, Z(2100, 3, 27, 12, 0)),
	    Z(2100, 3, 29, 6, 0));
	CHECK_INT(calendar_next_open(c, Z(2100, 10, 30, 12, 0)),
	    Z(2100, 11, 1, 7, 0));
	CHECK_INT(calendar_next_open(c, Z(2100, 3, 19, 20, 0)),
	    Z(2100, 3, 22, 7, 0));
	calendar_free(c);
	calendar_free(h);
}

static void
test_shapes(void)
{
	static const char *const late[] = { "Sat 20:00-24:00",
	    "Sun 00:00-02:00", NULL };
	static const char *const wrap[] = { "Sun-Tue 10:00-11:00", NULL };
	static const char *const week[] = { "Fri-Thu 10:00-11:00", NULL };
	static const char *const split[] = { "Mon 08:00-12:00 13:00-17:00",
	    NULL };
	static const char *const merged[] = { "Mon 08:00-12:00",
	    "Mon 11:00-14:00", "mon,WED 14:00-15:00", NULL };
	static const char *const always[] = { "Mon-Sun 00:00-24:00", NULL };
	struct calendar *c;
	int d, open;

	/* 24:00 ends a day; Saturday night runs on into Sunday */
	if ((c = mkcal("UTC", late, NULL)) != NULL) {
		CHECK(calendar_open(c, Z(2026, 11, 28, 23, 59) + 59999));
		CHECK(calendar_open(c, Z(2026, 11, 29, 0, 0)));
		CHECK_INT(calendar_next_close(c, Z(2026, 11, 28, 21, 0)),
		    Z(2026, 11, 29, 2, 0));
		CHECK_INT(calendar_add(c, Z(2026, 11, 28, 23, 0), 2 * H),
		    Z(2026, 11, 29, 1, 0));
		calendar_free(c);
	}
	/* Sun-Tue wraps through the weekend: Sun, Mon, Tue */
	if ((c = mkcal("UTC", wrap, NULL)) != NULL) {
		for (d = 0, open = 0; d < 7; d++)	/* 2026-11-29 is a Sunday */
			open |= calendar_open(c, Z(2026, 11, 29 + d, 10, 30)) << d;
		CHECK_INT(open, 0x07);
		calendar_free(c);
	}
	if ((c = mkcal("UTC", week, NULL)) != NULL) {
		for (d = 0, open = 0; d < 7; d++)
			open |= calendar_open(c, Z(2026, 11, 29 + d, 10, 30)) << d;
		CHECK_INT(open, 0x7f);
		calendar_free(c);
	}
	/* several intervals a day */
	if ((c = mkcal("UTC", split, NULL)) != NULL) {
		CHECK(!calendar_open(c, Z(2026, 11, 30, 12, 30)));
		CHECK_INT(calendar_next_open(c, Z(2026, 11, 30, 12, 30)),
		    Z(2026, 11, 30, 13, 0));
		CHECK_INT(calendar_add(c, Z(2026, 11, 30, 11, 0), 2 * H),
		    Z(2026, 11, 30, 14, 0));
		CHECK_INT(c->nspans, 2);
		calendar_free(c);
	}
	/* overlapping and touching intervals merge: one stretch */
	if ((c = mkcal("UTC", merged, NULL)) != NULL) {
		CHECK_INT(calendar_next_close(c, Z(2026, 11, 30, 9, 0)),
		    Z(2026, 11, 30, 15, 0));
		CHECK(calendar_open(c, Z(2026, 12, 2, 14, 30)));	/* Wed */
		CHECK(!calendar_open(c, Z(2026, 12, 1, 14, 30)));	/* Tue */
		CHECK_INT(c->nspans, 2);
		calendar_free(c);
	}
	/* around the clock: never closes within the horizon, open time is
	 * elapsed time (the spring day has 23 hours) */
	if ((c = mkcal("Europe/Berlin", always, NULL)) != NULL) {
		CHECK_INT(calendar_next_close(c, Z(2026, 11, 30, 9, 0)), -1);
		CHECK_INT(calendar_add(c, Z(2026, 3, 28, 11, 0), 24 * H),
		    Z(2026, 3, 29, 11, 0));
		CHECK_INT(calendar_add(c, Z(2026, 1, 1, 0, 0), 3650LL * 24 * H),
		    Z(2026, 1, 1, 0, 0) + 3650LL * 24 * H);
		calendar_free(c);
	}
}

/* test_dst_hours: intervals the clock changes themselves touch. */
static void
test_dst_hours(void)
{
	static const char *const sunday[] = { "Sun 00:00-24:00", NULL };
	static const char *const in_gap[] = { "Sun 02:00-03:00", NULL };
	static const char *const from_gap[] = { "Sun 02:30-04:00", NULL };
	static const char *const repeated[] = { "Sun 02:00-02:30", NULL };
	struct calendar *c;

	/* the spring Sunday has 23 open hours */
	if ((c = mkcal("Europe/Berlin", sunday, NULL)) != NULL) {
		CHECK_INT(calendar_next_close(c, Z(2026, 3, 28, 23, 0)),
		    Z(2026, 3, 29, 22, 0));
		CHECK_INT(calendar_add(c, Z(2026, 3, 28, 23, 0), 24 * H),
		    Z(2026, 4, 4, 23, 0));		/* Sun 5 Apr 01:00 CEST */
		calendar_free(c);
	}
	/* 02:00-03:00 does not exist on 29 March: the next is 5 April */
	if ((c = mkcal("Europe/Berlin", in_gap, NULL)) != NULL) {
		CHECK_INT(calendar_next_open(c, Z(2026, 3, 28, 12, 0)),
		    Z(2026, 4, 5, 0, 0));
		CHECK_INT(calendar_next_open(c, Z(2026, 3, 21, 12, 0)),
		    Z(2026, 3, 22, 1, 0));
		calendar_free(c);
	}
	/* an interval starting in the gap opens at the instant after it */
	if ((c = mkcal("Europe/Berlin", from_gap, NULL)) != NULL) {
		CHECK_INT(calendar_next_open(c, Z(2026, 3, 28, 12, 0)),
		    Z(2026, 3, 29, 1, 0));
		CHECK_INT(calendar_next_close(c, Z(2026, 3, 29, 1, 0)),
		    Z(2026, 3, 29, 2, 0));
		calendar_free(c);
	}
	/* the repeated hour is open both times */
	if ((c = mkcal("Europe/Berlin", repeated, NULL)) != NULL) {
		CHECK_INT(calendar_next_open(c, Z(2026, 10, 24, 12, 0)),
		    Z(2026, 10, 25, 0, 0));
		CHECK_INT(calendar_next_close(c, Z(2026, 10, 25, 0, 0)),
		    Z(2026, 10, 25, 0, 30));
		CHECK_INT(calendar_next_open(c, Z(2026, 10, 25, 0, 30)),
		    Z(2026, 10, 25, 1, 0));
		CHECK_INT(calendar_next_close(c, Z(2026, 10, 25, 1, 0)),
		    Z(2026, 10, 25, 1, 30));
		CHECK_INT(calendar_add(c, Z(2026, 10, 24, 12, 0), 40 * MIN),
		    Z(2026, 10, 25, 1, 10));
		calendar_free(c);
	}
}

static void
test_zones(void)
{
	static const char *const ny[] = { "Mon-Fri 09:00-17:00", NULL };
	static const char *const in[] = { "Mon-Fri 09:30-18:00", NULL };
	struct calendar *c;

	/* New York 2026: EDT from 8 March, EST from 1 November */
	if ((c = mkcal("America/New_York", ny, NULL)) != NULL) {
		CHECK_INT(calendar_next_open(c, Z(2026, 3, 7, 12, 0)),
		    Z(2026, 3, 9, 13, 0));
		CHECK_INT(calendar_next_open(c, Z(2026, 10, 31, 12, 0)),
		    Z(2026, 11, 2, 14, 0));
		CHECK_INT(calendar_next_open(c, Z(2100, 3, 13, 12, 0)),
		    Z(2100, 3, 15, 13, 0));	/* EDT from 14 March 2100 */
		/* Friday 16:30 EST + 1h: 30 minutes, then Monday's first
		 * 30 minutes in EDT */
		CHECK_INT(calendar_add(c, Z(2026, 3, 6, 21, 30), 1 * H),
		    Z(2026, 3, 9, 13, 30));
		calendar_free(c);
	}
	/* Kolkata: UTC+05:30 all year */
	if ((c = mkcal("Asia/Kolkata", in, NULL)) != NULL) {
		CHECK_INT(calendar_next_open(c, Z(2026, 3, 28, 0, 0)),
		    Z(2026, 3, 30, 4, 0));
		CHECK_INT(calendar_next_open(c, Z(2100, 7, 3, 13, 0)),
		    Z(2100, 7, 5, 4, 0));
		CHECK(calendar_open(c, Z(2026, 3, 30, 12, 29)));
		CHECK(!calendar_open(c, Z(2026, 3, 30, 12, 30)));
		calendar_free(c);
	}
	if ((c = mkcal("UTC", weekdays, NULL)) != NULL) {
		CHECK_INT(calendar_next_open(c, Z(2026, 11, 27, 20, 1)),
		    Z(2026, 11, 30, 8, 0));
		CHECK_INT(calendar_next_open(c, Z(2100, 1, 1, 21, 0)),
		    Z(2100, 1, 4, 8, 0));
		/* the end of time: 9999-12-31 is a Friday */
		CHECK(calendar_open(c, Z(9999, 12, 31, 19, 0)));
		CHECK_INT(calendar_next_open(c, Z(9999, 12, 31, 21, 0)), -1);
		CHECK_INT(calendar_next_close(c, Z(9999, 12, 31, 19, 0)),
		    Z(9999, 12, 31, 20, 0));
		CHECK_INT(calendar_add(c, Z(9999, 12, 31, 19, 0), 2 * H), -1);
		CHECK(!calendar_open(c, CAL_END_S * 1000));
		CHECK(!calendar_open(c, -1));
		CHECK_INT(calendar_next_open(c, -5 * H), Z(1970, 1, 1, 8, 0));
		calendar_free(c);
	}
}

/* test_bounds: calendars that never open, or open after every holiday. */
static void
test_bounds(void)
{
	static const char *const monday[] = { "Mon 08:00-09:00", NULL };
	struct calendar *c;
	char err[256], date[16];
	int64_t d, y, t0;
	int m, dd, i;
	size_t off;

	c = mkcal("Europe/Berlin", NULL, NULL);
	if (c != NULL) {
		CHECK(!calendar_open(c, Z(2026, 11, 30, 9, 0)));
		CHECK_INT(calendar_next_open(c, Z(2026, 11, 30, 9, 0)), -1);
		CHECK_INT(calendar_next_close(c, Z(2026, 11, 30, 9, 0)),
		    Z(2026, 11, 30, 9, 0));
		CHECK_INT(calendar_add(c, Z(2026, 11, 30, 9, 0), H), -1);
		calendar_free(c);
	}
	/* 1000 Mondays off in a row: the next opening is 1000 weeks on,
	 * inside the horizon */
	if ((c = mkcal("Europe/Berlin", monday, NULL)) != NULL) {
		d = civil_to_days(2026, 11, 30);
		for (i = 0; i < CAL_MAX_HOLIDAYS; i++, d += 7) {
			days_to_civil(d, &y, &m, &dd);
			snprintf(date, sizeof(date), "%04d-%02d-%02d", (int)y, m,
			    dd);
			CHECK_INT(calendar_parse_holiday(c, date, err,
			    sizeof(err)), 0);
		}
		CHECK_INT(calendar_parse_holiday(c, "2026-12-01", err,
		    sizeof(err)), -1);
		CHECK_STR(err, "too many holidays (limit 1000 per calendar)");
		CHECK_INT(calendar_parse_holiday(c, "2026-11-30", err,
		    sizeof(err)), 1);
		calendar_compile(c);
		days_to_civil(d, &y, &m, &dd);	/* the Monday after */
		t0 = Z(2026, 11, 29, 12, 0);
		CHECK_INT(calendar_next_open(c, t0), Z((int)y, m, dd, 7, 0));
		calendar_free(c);
	}
	/* 64 intervals at most, counting each day of a range */
	c = calendar_new("t");
	CHECK_INT(calendar_parse_hours(c, "Mon-Sun 00:00-01:00 02:00-03:00 "
	    "04:00-05:00 06:00-07:00 08:00-09:00 10:00-11:00 12:00-13:00 "
	    "14:00-15:00 16:00-17:00", &off, err, sizeof(err)), 0);
	CHECK_INT(c->nspans, 63);
	CHECK_INT(calendar_parse_hours(c, "Mon 20:00-21:00", &off, err,
	    sizeof(err)), 0);
	CHECK_INT(calendar_parse_hours(c, "Tue 20:00-21:00", &off, err,
	    sizeof(err)), -1);
	CHECK_STR(err, "too many intervals (limit 64 per calendar, each day of "
	    "a range counted)");
	calendar_compile(c);
	CHECK_INT(c->nspans, 64);
	/* 64 open hours a week in 64 stretches: 100 weeks of them end
	 * with the Sunday 16:00-17:00 of the 100th week */
	CHECK_INT(calendar_add(c, Z(2026, 11, 30, 0, 0), 6400 * H),
	    Z(2026, 11, 30, 0, 0) + (99 * 7 + 6) * 24 * H + 17 * H);
	CHECK_INT(calendar_add(c, Z(2026, 11, 30, 0, 30), 2 * H),
	    Z(2026, 11, 30, 4, 30));
	calendar_free(c);
}

/* test_hours_syntax: what calendar_parse_hours() refuses, with the byte
 * the message is about. */
static void
test_hours_syntax(void)
{
	static const struct {
		const char	*item;
		size_t		 off;
		const char	*err;	/* NULL: accepted */
	} rows[] = {
		{ "Mon-Fri 08:00-20:00", 0, NULL },
		{ "mon-FRI 8:00-20:00", 0, NULL },
		{ "Mon,Wed-Fri 08:00-12:00, 13:00-17:00", 0, NULL },
		{ "Mon, Wed 08:00-12:00,13:00-17:00", 0, NULL },
		{ "Sun-Tue 00:00-24:00", 0, NULL },
		{ "Mon-Fry 08:00-20:00", 4,
		    "unknown day 'Fry' (did you mean 'Fri'?)" },
		{ "Monday 08:00-20:00", 0, "unknown day 'Monday' (use Mon, Tue, "
		    "Wed, Thu, Fri, Sat or Sun)" },
		{ "08:00-20:00", 0, "expected a day (Mon, Tue, Wed, Thu, Fri, "
		    "Sat or Sun)" },
		{ "Mon-Fri", 7, "expected the opening times after the days, as "
		    "in 'Mon-Fri 08:00-20:00'" },
		{ "Mon 25:00-26:00", 4, "invalid time '25:00' (expected HH:MM, "
		    "from 00:00 to 24:00)" },
		{ "Mon 08:00-24:01", 10, "invalid time '24:01' (expected HH:MM, "
		    "from 00:00 to 24:00)" },
		{ "Mon 08:60-09:00", 4, "invalid time '08:60' (expected HH:MM, "
		    "from 00:00 to 24:00)" },
		{ "Mon 20:00-08:00", 4, "interval 20:00-08:00 ends before it "
		    "starts (a night is two intervals: 20:00-24:00, and "
		    "00:00-08:00 of the next day)" },
		{ "Mon 08:00-08:00", 4, "interval 08:00-08:00 is empty" },
		{ "Mon 24:00-24:00", 4, "24:00 can only end an interval" },
		{ "Mon 08:00", 9, "expected '-' and the time the interval ends, "
		    "as in 08:00-20:00" },
		{ "Mon 08:00-20:00x", 15, "unexpected 'x' after an interval" },
		{ "Mon/Fri 08:00-20:00", 3, "unexpected '/' after the days" },
		{ "Mon 08:00-12:00 13:00", 21, "expected '-' and the time the "
		    "interval ends, as in 08:00-20:00" },
		{ "Mon 08:00-", 10, "expected a time such as 08:00 at the end" },
		{ "Mon  -08:00", 5, "expected a time such as 08:00" },
		{ "Mon 08:00-09:00 \t,10:00-11:00", 0, NULL },
	};
	struct calendar *c;
	char err[256];
	size_t i, off;
	int rc;

	for (i = 0; i < ARRAY_LEN(rows); i++) {
		c = calendar_new("t");
		off = 999;
		err[0] = '\0';
		rc = calendar_parse_hours(c, rows[i].item, &off, err,
		    sizeof(err));
		if (rows[i].err == NULL)
			CHECKF(rc == 0, "'%s': %s", rows[i].item, err);
		else
			CHECKF(rc == -1 && off == rows[i].off &&
			    strcmp(err, rows[i].err) == 0,
			    "'%s': rc %d at %zu: %s", rows[i].item, rc, off,
			    err);
		calendar_free(c);
	}
}

static void
test_holiday_syntax(void)
{
	static const struct {
		const char	*date;
		int		 rc;
		const char	*err;
	} rows[] = {
		{ "2026-12-24", 0, NULL },
		{ "2028-02-29", 0, NULL },
		{ "1970-01-01", 0, NULL },
		{ "9999-12-31", 0, NULL },
		{ "2026-02-29", -1, "no such date" },
		{ "2026-13-01", -1, "no such date" },
		{ "2026-00-10", -1, "no such date" },
		{ "1969-12-31", -1, "dates start at 1970-01-01" },
		{ "24.12.2026", -1, "expected a date YYYY-MM-DD" },
		{ "2026-12-24x", -1, "expected a date YYYY-MM-DD" },
		{ "2026-1-24", -1, "expected a date YYYY-MM-DD" },
		{ "", -1, "expected a date YYYY-MM-DD" },
	};
	struct calendar *c;
	char err[256];
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_LEN(rows); i++) {
		c = calendar_new("t");
		rc = calendar_parse_holiday(c, rows[i].date, err, sizeof(err));
		CHECKF(rc == rows[i].rc && (rows[i].err == NULL ||
		    strcmp(err, rows[i].err) == 0), "'%s': rc %d %s",
		    rows[i].date, rc, rc != 0 ? err : "");
		calendar_free(c);
	}
}

/* --- the configuration ----------------------------------------------- */

static struct config *
load(const char *name, struct diags *d)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	diags_init(d);
	return config_load(path, d);
}

static void
test_config_good(void)
{
	struct diags d;
	struct config *cf;
	const struct calendar *c;

	write_file("inc-cal.yaml",
	    "calendars:\n"
	    "  night: {tz: UTC, hours: \"Mon-Sun 00:00-06:00\"}\n");
	write_file("good.yaml",
	    "include: inc-cal.yaml\n"
	    "calendars:\n"
	    "  support:\n"
	    "    tz: Europe/Berlin\n"
	    "    hours: [\"Mon-Fri 08:00-20:00\", \"Sat 09:00-14:00\"]\n"
	    "    holidays: [2026-12-24, 2026-12-25]\n"
	    "  closed: {tz: UTC, hours: []}\n"
	    "channels: {s: {type: stream, key: k}}\n"
	    "rules:\n"
	    "  - {name: r, on: rating, actions: [{notify: s}]}\n");
	cf = load("good.yaml", &d);
	CHECK(cf != NULL);
	CHECK_INT(d.errors, 0);
	CHECK_INT(d.warnings, 1);
	if (d.warnings == 1)
		CHECK_STR(d.v[0].msg, "calendar 'closed' has no hours: it is "
		    "never open");
	diags_free(&d);
	if (cf == NULL)
		return;
	CHECK_INT(cf->ncalendars, 3);
	CHECK(config_calendar(cf, "nope") == NULL);
	if ((c = config_calendar(cf, "support")) != NULL) {
		CHECK_STR(c->tz.name, "Europe/Berlin");
		CHECK_INT(c->nspans, 6);
		CHECK_INT(c->nholidays, 2);
		CHECK_INT(c->line, 3);
		CHECK_INT(c->col, 3);
		CHECK(calendar_open(c, Z(2026, 11, 28, 12, 0)));	/* Sat */
		CHECK(!calendar_open(c, Z(2026, 11, 28, 13, 0)));
		CHECK_INT(calendar_next_open(c, Z(2026, 12, 23, 20, 0)),
		    Z(2026, 12, 26, 8, 0));
	} else
		CHECK(0);
	if ((c = config_calendar(cf, "night")) != NULL) {
		CHECK(strstr(c->file, "inc-cal.yaml") != NULL);
		CHECK(calendar_open(c, Z(2026, 11, 28, 5, 0)));
	} else
		CHECK(0);
	if ((c = config_calendar(cf, "closed")) != NULL)
		CHECK_INT(calendar_next_open(c, 0), -1);
	config_free(cf);
}

/*
 * test_config_errors: each broken "calendars:" and its first diagnostic,
 * exactly, as "LINE:COL: message" in the file written.
 */
static void
test_config_errors(void)
{
	static const struct {
		const char	*yaml;
		const char	*want;
	} rows[] = {
		{ "calendars:\n  support:\n    tz: Europe/Berln\n"
		  "    hours: [\"Mon-Fri 08:00-20:00\"]\n",
		  "3:9: unknown time zone 'Europe/Berln' in calendar 'support' "
		  "(did you mean 'Europe/Berlin'?): cannot read "
		  "/usr/share/zoneinfo/Europe/Berln: No such file or "
		  "directory" },
		{ "calendars:\n  support:\n    tz: Mars/Olympus\n"
		  "    hours: [\"Mon-Fri 08:00-20:00\"]\n",
		  "3:9: unknown time zone 'Mars/Olympus' in calendar 'support': "
		  "cannot read /usr/share/zoneinfo/Mars/Olympus: No such file "
		  "or directory" },
		{ "calendars:\n  support:\n    tz: ../../etc/passwd\n"
		  "    hours: [\"Mon-Fri 08:00-20:00\"]\n",
		  "3:9: invalid time zone name '../../etc/passwd' in calendar "
		  "'support' (an IANA name such as Europe/Berlin: letters, "
		  "digits, '_', '+', '-' and '/', not absolute, no '..')" },
		{ "calendars:\n  support:\n    tz: /etc/localtime\n"
		  "    hours: [\"Mon-Fri 08:00-20:00\"]\n",
		  "3:9: invalid time zone name '/etc/localtime' in calendar "
		  "'support' (an IANA name such as Europe/Berlin: letters, "
		  "digits, '_', '+', '-' and '/', not absolute, no '..')" },
		{ "calendars:\n  support:\n    tz: [UTC]\n"
		  "    hours: [\"Mon-Fri 08:00-20:00\"]\n",
		  "3:9: expected a time zone name for 'tz' in calendar "
		  "'support', found a list" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours: [\"Mon 08:00-12:00\", \"Mon-Fry 08:00-20:00\"]\n",
		  "4:37: invalid hours 'Mon-Fry 08:00-20:00' in calendar "
		  "'support': unknown day 'Fry' (did you mean 'Fri'?)" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours:\n      - Mon 20:00-08:00\n",
		  "5:13: invalid hours 'Mon 20:00-08:00' in calendar 'support': "
		  "interval 20:00-08:00 ends before it starts (a night is two "
		  "intervals: 20:00-24:00, and 00:00-08:00 of the next day)" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours: [\"Mon 08:00-25:00\"]\n",
		  "4:24: invalid hours 'Mon 08:00-25:00' in calendar 'support': "
		  "invalid time '25:00' (expected HH:MM, from 00:00 to 24:00)" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours: [\"Mon-Fri\"]\n",
		  "4:21: invalid hours 'Mon-Fri' in calendar 'support': expected "
		  "the opening times after the days, as in 'Mon-Fri "
		  "08:00-20:00'" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours: [[Mon]]\n",
		  "4:13: expected a string such as \"Mon-Fri 08:00-20:00\" in "
		  "'hours' of calendar 'support', found a list" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours: {Mon: 08:00-20:00}\n",
		  "4:12: expected a list for 'hours' in calendar 'support', "
		  "found a mapping" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours: [\"Mon-Sun 00:00-01:00 02:00-03:00 04:00-05:00 "
		  "06:00-07:00 08:00-09:00 10:00-11:00 12:00-13:00 14:00-15:00 "
		  "16:00-17:00 18:00-19:00\"]\n",
		  "4:14: invalid hours 'Mon-Sun 00:00-01:00 02:00-03:00 "
		  "04:00-05:00 06:00-07:00 08:00-09:00 10:00-11:00 12:00-13:00 "
		  "14:00-15:00 16:00-17:00 18:00-19:00' in calendar 'support': "
		  "too many intervals (limit 64 per calendar, each day of a "
		  "range counted)" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours: [\"Mon 08:00-20:00\"]\n"
		  "    holidays: [2026-12-24, 2026-02-30]\n",
		  "5:28: invalid holiday '2026-02-30' in calendar 'support': no "
		  "such date (YYYY-MM-DD, from 1970-01-01 to 9999-12-31)" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours: [\"Mon 08:00-20:00\"]\n"
		  "    holidays: [24.12.2026]\n",
		  "5:16: invalid holiday '24.12.2026' in calendar 'support': "
		  "expected a date YYYY-MM-DD (YYYY-MM-DD, from 1970-01-01 to "
		  "9999-12-31)" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours: [\"Mon 08:00-20:00\"]\n"
		  "    holidays: [1969-12-31]\n",
		  "5:16: invalid holiday '1969-12-31' in calendar 'support': "
		  "dates start at 1970-01-01 (YYYY-MM-DD, from 1970-01-01 to "
		  "9999-12-31)" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours: [\"Mon 08:00-20:00\"]\n"
		  "    holidays: 2026-12-24\n",
		  "5:15: expected a list of dates for 'holidays' in calendar "
		  "'support', found a string" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hour: [\"Mon 08:00-20:00\"]\n",
		  "3:5: missing 'hours' in calendar 'support'" },
		{ "calendars:\n  support:\n    tz: UTC\n"
		  "    hours: [\"Mon 08:00-20:00\"]\n    holiday: []\n",
		  "5:5: unknown key 'holiday' in calendar 'support' (did you "
		  "mean 'holidays'?)" },
		{ "calendars:\n  support:\n    hours: [\"Mon 08:00-20:00\"]\n",
		  "3:5: missing 'tz' in calendar 'support'" },
		{ "calendars:\n  Support: {tz: UTC, hours: [\"Mon 08:00-20:00\"]}\n",
		  "2:3: invalid calendar name 'Support' (use lowercase letters, "
		  "digits, '_' and '-')" },
		{ "calendars:\n  support: UTC\n",
		  "2:12: expected a mapping for calendar 'support', found a "
		  "string" },
		{ "calendars: [support]\n",
		  "1:12: expected a mapping for 'calendars', found a list" },
	};
	struct diags d;
	struct config *cf;
	char path[512], got[2048];
	size_t i;

	snprintf(path, sizeof(path), "%s/bad.yaml", tmpdir);
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		write_file("bad.yaml", rows[i].yaml);
		cf = load("bad.yaml", &d);
		got[0] = '\0';
		if (d.errors > 0) {
			size_t k;

			for (k = 0; k < d.n && d.v[k].level != DIAG_ERROR; k++)
				;
			snprintf(got, sizeof(got), "%d:%d: %s", d.v[k].line,
			    d.v[k].col, d.v[k].msg);
			CHECKF(strcmp(d.v[k].file, path) == 0, "row %zu: file "
			    "%s", i, d.v[k].file);
		}
		CHECKF(cf == NULL && strcmp(got, rows[i].want) == 0,
		    "row %zu:\n   got  %s\n   want %s", i, got, rows[i].want);
		config_free(cf);
		diags_free(&d);
	}

	/* a name defined twice, across files */
	write_file("dup-inc.yaml",
	    "calendars:\n  support: {tz: UTC, hours: [\"Sat 08:00-09:00\"]}\n");
	write_file("dup.yaml",
	    "calendars:\n  support: {tz: UTC, hours: [\"Mon 08:00-09:00\"]}\n"
	    "include: dup-inc.yaml\n");
	cf = load("dup.yaml", &d);
	CHECK(cf == NULL);
	CHECK_INT(d.errors, 1);
	if (d.n == 1) {
		snprintf(got, sizeof(got), "%d:%d: %s", d.v[0].line,
		    d.v[0].col, d.v[0].msg);
		snprintf(path, sizeof(path), "2:3: duplicate calendar name "
		    "'support' (first defined at %s/dup.yaml:2:3)", tmpdir);
		CHECK_STR(got, path);
		CHECK(strstr(d.v[0].file, "dup-inc.yaml") != NULL);
	}
	config_free(cf);
	diags_free(&d);

	/* a holiday twice is a warning, the load succeeds */
	write_file("twice.yaml",
	    "calendars:\n  support:\n    tz: UTC\n"
	    "    hours: [\"Mon 08:00-09:00\"]\n"
	    "    holidays: [2026-12-24, 2026-12-24]\n");
	cf = load("twice.yaml", &d);
	CHECK(cf != NULL);
	CHECK_INT(d.warnings, 1);
	if (d.n == 1) {
		snprintf(got, sizeof(got), "%d:%d: %s", d.v[0].line,
		    d.v[0].col, d.v[0].msg);
		CHECK_STR(got, "5:28: holiday 2026-12-24 is listed twice in "
		    "calendar 'support'");
	}
	config_free(cf);
	diags_free(&d);
}

/* engine_deliver_at: when both of an alert's calendars (its channel's
 * and its step's) are open. */
static void
test_deliver_at(void)
{
	static const char *const day[] = { "Mon-Fri 08:00-20:00", NULL };
	static const char *const noon[] = { "Mon-Fri 12:00-13:00", NULL };
	static const char *const mon[] = { "Mon 08:00-20:00", NULL };
	static const char *const tue[] = { "Tue 08:00-20:00", NULL };
	struct calendar *a = mkcal("UTC", day, NULL);
	struct calendar *b = mkcal("UTC", noon, NULL);
	struct calendar *m = mkcal("UTC", mon, NULL);
	struct calendar *t = mkcal("UTC", tue, NULL);
	int64_t mon7 = Z(2026, 12, 7, 7, 0);	/* a Monday */

	if (a == NULL || b == NULL || m == NULL || t == NULL)
		goto out;
	CHECK_INT(engine_deliver_at(NULL, NULL, mon7), mon7);
	CHECK_INT(engine_deliver_at(a, NULL, mon7), Z(2026, 12, 7, 8, 0));
	CHECK_INT(engine_deliver_at(NULL, a, mon7), Z(2026, 12, 7, 8, 0));
	CHECK_INT(engine_deliver_at(a, b, mon7), Z(2026, 12, 7, 12, 0));
	CHECK_INT(engine_deliver_at(b, a, Z(2026, 12, 7, 12, 30)),
	    Z(2026, 12, 7, 12, 30));
	CHECK_INT(engine_deliver_at(a, b, Z(2026, 12, 7, 13, 0)),
	    Z(2026, 12, 8, 12, 0));
	/* Friday evening: Monday noon */
	CHECK_INT(engine_deliver_at(a, b, Z(2026, 12, 4, 19, 0)),
	    Z(2026, 12, 7, 12, 0));
	/* never open together */
	CHECK_INT(engine_deliver_at(m, t, mon7), -1);
out:
	calendar_free(a);
	calendar_free(b);
	calendar_free(m);
	calendar_free(t);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_civil();
	test_tz_names();
	test_tz_glibc();
	test_tz_local();
	test_tz_corrupt();
	test_berlin();
	test_shapes();
	test_dst_hours();
	test_zones();
	test_bounds();
	test_hours_syntax();
	test_holiday_syntax();
	test_config_good();
	test_config_errors();
	test_deliver_at();
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			printf("warning: could not remove %s\n", tmpdir);
	}
	return harness_done();
}
