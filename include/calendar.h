/*
 * calendar.h — business calendars (README, "Business calendars"): weekly
 * opening hours in an IANA time zone, with holidays, and the questions the
 * contact policy asks of them: is it open at this instant, when does it next
 * open, and when will so much open time have passed (business_time).
 *
 * Two halves. calendar_tz.c reads a time zone from its TZif file (RFC
 * 8536: the version 2+ 64-bit data, and the POSIX TZ rule of the footer
 * for instants after the last transition, which is how 2100 gets its
 * daylight-saving time) and converts between UTC and local time.
 * calendar.c compiles hours and holidays and answers the questions.
 * Everything here is pure once loaded: tz_load() reads one file, at
 * configuration load time; the rest computes.
 *
 * What "open" means: the calendar is open at an instant when the local
 * wall clock of its zone, at that instant, reads a time inside one of the
 * intervals of its weekday, on a local date that is not a holiday. So a
 * daylight-saving change moves nothing on the wall clock — "Mon-Fri
 * 08:00-20:00" opens at 08:00 local on both sides of it — and the hours
 * the change itself touches follow the clock: the local times a spring
 * change skips are never open (an interval that starts inside the gap
 * opens at the instant after it, the rule of tz_local_to_utc()), and the
 * hour an autumn change repeats is open both times when an interval
 * covers it. Instants before 1970 and from year 10000 on are closed.
 *
 * All instants are milliseconds since the epoch (UTC) in the calendar_*
 * functions, seconds in the tz_* functions; offsets are seconds east of
 * UTC. Every search is bounded (see calendar_next_open()).
 */
#ifndef RECOVERYD_CALENDAR_H
#define RECOVERYD_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TZ_DIR			"/usr/share/zoneinfo"
#define TZ_NAME_MAX		128	/* bytes of a zone name */
#define TZ_FILE_MAX		(256 * 1024)	/* real files are < 4 KiB */
#define TZ_MAX_TRANS		10000	/* transitions kept from a file */

#define CAL_MAX_INTERVALS	64	/* per calendar, after day ranges */
#define CAL_MAX_HOLIDAYS	1000	/* per calendar */
#define CAL_MAX_CALENDARS	1000	/* per configuration */
#define CAL_MIN_DAY		0	/* 1970-01-01, in days since the epoch */
#define CAL_MAX_DAY		2932896	/* 9999-12-31 */
#define CAL_END_S		253402300800LL	/* 10000-01-01T00:00:00Z */

/* --- time zones (calendar_tz.c) ---------------------------------------- */

/* A date of a POSIX TZ rule: Jn (1..365, February 29 never counted), n
 * (0..365, counted) or Mm.w.d (day d, 0 = Sunday, of week w, 5 = last,
 * of month m), at secs local time (-167h .. 167h, RFC 8536). */
struct tz_rdate {
	char	 kind;		/* 'J', 'D' (plain n) or 'M' */
	int	 n, m, w, d;
	int32_t	 secs;
};

struct tz_trans {
	int64_t	 at;		/* UTC seconds */
	int32_t	 utoff;		/* in force from at */
};

struct tz {
	char		 name[TZ_NAME_MAX + 1];
	int32_t		 first_utoff;	/* before the first transition */
	struct tz_trans	*trans;		/* ascending, each a change of
					 * offset */
	size_t		 ntrans;
	/* the footer's rule, for instants from the last transition on
	 * (for every instant when there is none) */
	bool		 has_rule;
	bool		 rule_dst;	/* with daylight-saving changes */
	int64_t		 rule_from;	/* the file's last transition
					 * (INT64_MIN: none) */
	int32_t		 std_utoff, dst_utoff;
	struct tz_rdate	 dst_start, dst_end;
};

/* tz_name_valid: an IANA name (Europe/Berlin, Etc/GMT+5): [A-Za-z0-9_+-/],
 * no "..", not absolute, no empty part, at most TZ_NAME_MAX bytes. */
bool	tz_name_valid(const char *name);
/*
 * tz_load: the zone named name, from TZ_DIR/name. Returns 0, or with a
 * message in err that names the file tried: -1 when it cannot be read
 * (no such zone: "cannot read /usr/share/zoneinfo/Europe/Berln: No such
 * file or directory"), -2 when it is not a valid TZif file ("... is not
 * a valid TZif file: truncated version 2 data"), -3 when name is not
 * valid (tz_name_valid; no file is opened). The zone owns its
 * transitions: tz_free() releases them.
 */
int	tz_load(struct tz *, const char *name, char *err, size_t errlen);
/* tz_load_path: the same from any path (the tests' entry point; the
 * zone's name is the path), -1 or -2. Reads at most TZ_FILE_MAX bytes,
 * into a buffer of exactly the file's size. */
int	tz_load_path(struct tz *, const char *path, char *err, size_t errlen);
/* tz_parse: a TZif image of len bytes. Refuses version 1 files, leap
 * seconds, anything truncated or inconsistent, without reading past
 * buf + len. */
int	tz_parse(struct tz *, const unsigned char *buf, size_t len,
	    char *err, size_t errlen);
void	tz_free(struct tz *);

/* tz_utoff: the offset in force at utc_s. O(log transitions). */
int32_t	tz_utoff(const struct tz *, int64_t utc_s);
/* tz_next_change: the first transition instant after utc_s (from the
 * table, then the rule), or INT64_MAX when there is none. */
int64_t	tz_next_change(const struct tz *, int64_t utc_s);
/*
 * tz_local_to_utc: the instant at which the local wall clock reads
 * local_s (local seconds since the epoch, as if UTC). A wall time that
 * does not exist (skipped by a spring-forward change) maps to the
 * instant after the gap, the transition itself (02:30 on the day Berlin
 * goes from 02:00 to 03:00 is 03:00 CEST); one that exists twice
 * (repeated by a fall-back change) maps to its first occurrence (02:30
 * on the day Berlin goes from 03:00 back to 02:00 is 02:30 CEST).
 */
int64_t	tz_local_to_utc(const struct tz *, int64_t local_s);

/* A local time broken down. */
struct tz_local {
	int	 year, month, day;	/* 1-based month and day */
	int	 hour, min, sec;
	int	 wday;			/* 0 = Sunday */
	int32_t	 utoff;			/* offset in force */
	int64_t	 days;			/* local days since 1970-01-01 */
};
/* tz_to_local: utc_s in the zone's local time. */
void	tz_to_local(const struct tz *, int64_t utc_s, struct tz_local *);

/* Civil dates (proleptic Gregorian), days since 1970-01-01. */
int64_t	civil_to_days(int64_t year, int month, int day);
void	days_to_civil(int64_t days, int64_t *year, int *month, int *day);
int	days_wday(int64_t days);	/* 0 = Sunday */

/* --- calendars (calendar.c) -------------------------------------------- */

/* One opening interval of a weekday, in seconds of the local day; end may
 * be 86400 (24:00). */
struct cal_span {
	int32_t	 start, end;
};

struct calendar {
	char		*name;
	const char	*file;		/* where it is defined (config) */
	int		 line, col;
	struct tz	 tz;
	/* spans of weekday w (0 = Sunday) are spans[day[w]..day[w + 1]),
	 * sorted and merged, once calendar_compile() has run */
	struct cal_span	 spans[CAL_MAX_INTERVALS];
	size_t		 nspans;
	uint8_t		 day[8];
	uint8_t		 span_wday[CAL_MAX_INTERVALS];	/* before compiling */
	int32_t		*holidays;	/* local days since the epoch, sorted */
	size_t		 nholidays;
};

/* calendar_new: an empty calendar (never open) named name, in UTC until
 * tz is set (calendar_set_tz). Free it with calendar_free(). */
struct calendar	*calendar_new(const char *name);
void		 calendar_free(struct calendar *);
/* calendar_set_tz: load the zone name into c; tz_load()'s return codes
 * (c keeps its zone on an error). */
int		 calendar_set_tz(struct calendar *, const char *name, char *err,
		    size_t errlen);
/*
 * calendar_parse_hours: add the intervals of one item of "hours":
 *   DAYS TIME-TIME [TIME-TIME...]
 * DAYS is a day (Mon Tue Wed Thu Fri Sat Sun, any case), a range of days
 * (Mon-Fri; Sun-Tue wraps through the weekend) or several of those
 * separated by commas (Mon,Wed-Fri); TIME is H:MM or HH:MM from 00:00 to
 * 23:59, and 24:00 to end an interval; intervals are separated by blanks
 * or commas. An interval must end after it starts. Returns 0, or -1 with
 * a message in err and in *erroff the byte of item it is about.
 */
int		 calendar_parse_hours(struct calendar *, const char *item,
		    size_t *erroff, char *err, size_t errlen);
/* calendar_parse_holiday: add the local date "YYYY-MM-DD" (1970-01-01
 * .. 9999-12-31). Returns 0, 1 if the date is already a holiday of c
 * (nothing added), or -1 with a message in err. */
int		 calendar_parse_holiday(struct calendar *, const char *date,
		    char *err, size_t errlen);
/* calendar_compile: sort and merge the intervals of each weekday and sort
 * the holidays; call once after the last parse, before any question. */
void		 calendar_compile(struct calendar *);

/* calendar_open: whether c is open at utc_ms. O(log transitions + log
 * holidays + intervals of a day). */
bool		 calendar_open(const struct calendar *, int64_t utc_ms);
/*
 * calendar_next_open: utc_ms itself when c is open then, else the first
 * instant after it when c opens; -1 when it never opens (no hours), or
 * not within the search horizon: 7 × (holidays + 2) + 400 days, enough
 * for every holiday to fall on the only open day of its week (and for a
 * year of clock changes to swallow an interval) — or before year 10000.
 */
int64_t		 calendar_next_open(const struct calendar *, int64_t utc_ms);
/* calendar_next_close: utc_ms itself when c is closed then, else the
 * first instant after it when c closes; -1 when it stays open beyond the
 * same horizon (every hour of every day, no holidays). */
int64_t		 calendar_next_close(const struct calendar *, int64_t utc_ms);
/*
 * calendar_add: the first instant at which dur_ms of open time has passed
 * since start_ms (business_time: "after: 2h" counts only open hours, and
 * 2h from Friday 19:00 with Mon-Fri 08:00-20:00 is Monday 09:00 local).
 * Open time is elapsed time, so an open day a clock change shortens has
 * 23 open hours. start_ms itself when dur_ms <= 0; the instant the last
 * needed open stretch ends counts (1h from Friday 19:00 is Friday 20:00);
 * -1 when the calendar never opens, or the result lies beyond year 9999
 * or after more than 1000000 open stretches.
 */
int64_t		 calendar_add(const struct calendar *, int64_t start_ms,
		    int64_t dur_ms);

/* config_calendar: the calendar of that name in a loaded configuration
 * (the "calendars:" section, config_calendars.c), or NULL. */
struct config;
const struct calendar	*config_calendar(const struct config *,
			    const char *name);

#endif
