/*
 * fuzz_calendar.c — libFuzzer target for the TZif reader and the
 * calendar's hours parser (calendar.h).
 *
 * An input starting with "H" is lines of "hours" items and holidays,
 * parsed into a calendar in UTC; anything else is a TZif image, parsed
 * from a buffer of exactly its size (so ASan sees a read past its end)
 * and, when it is accepted, used as the zone of a Mon-Fri 08:00-20:00
 * calendar. Either way every question is asked at a few instants: it
 * must answer consistently (next_open is open, next_close is closed,
 * add never goes back) and within its bounds. A crash, a sanitizer
 * report, a leak or an abort is a bug.
 *
 *   build/fuzz/fuzz_calendar tests/fuzz/seeds/fuzz_calendar
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
ask(const struct calendar *c)
{
	static const int64_t at[] = {
		0, 1795805940000LL, 1774746000000LL, 1792888200000LL,
		4109878800000LL, 253402214400000LL, -1,
	};
	int64_t t, r;
	size_t i;

	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		t = at[i];
		(void)calendar_open(c, t);
		if ((r = calendar_next_open(c, t)) != -1 &&
		    (r < t || !calendar_open(c, r)))
			abort();
		if ((r = calendar_next_close(c, t)) != -1 && t >= 0 &&
		    (r < t || calendar_open(c, r)))
			abort();
		if ((r = calendar_add(c, t, 3600000)) != -1 && r < t)
			abort();
		(void)tz_local_to_utc(&c->tz, t / 1000);
		(void)tz_next_change(&c->tz, t / 1000);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct calendar *c;
	struct tz z;
	char err[256], *buf, *line, *next;
	unsigned char *img;
	size_t off;

	c = calendar_new("f");
	if (size > 0 && data[0] == 'H') {
		buf = malloc(size);
		memcpy(buf, data + 1, size - 1);
		buf[size - 1] = '\0';
		for (line = buf; line != NULL; line = next) {
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = '\0';
			if (line[0] >= '0' && line[0] <= '9')
				(void)calendar_parse_holiday(c, line, err,
				    sizeof(err));
			else if (calendar_parse_hours(c, line, &off, err,
			    sizeof(err)) == -1 && off > strlen(line))
				abort();
		}
		free(buf);
	} else {
		img = malloc(size > 0 ? size : 1);
		memcpy(img, data, size);
		if (tz_parse(&z, img, size, err, sizeof(err)) == 0) {
			tz_free(&c->tz);
			c->tz = z;
		}
		free(img);
		(void)calendar_parse_hours(c, "Mon-Fri 08:00-20:00", &off, err,
		    sizeof(err));
	}
	calendar_compile(c);
	ask(c);
	calendar_free(c);
	return 0;
}
