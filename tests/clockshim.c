/*
 * clockshim.c — a test-only LD_PRELOAD library that moves the wall clock
 * of a process (tests/test_report_month.sh runs a month in a minute).
 *
 * CLOCKSHIM_FILE names a file holding a number of milliseconds; the
 * process's CLOCK_REALTIME (clock_gettime, gettimeofday, time) is the
 * real one plus that offset, read again on every call, so a test moves
 * the clock of running processes by rewriting the file (write a new file
 * and rename it over the old one). The monotonic clocks, which timers
 * and timeouts use, are left alone. Never part of the product.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long
offset_ms(void)
{
	const char *path = getenv("CLOCKSHIM_FILE");
	char buf[32];
	ssize_t n;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

/* real: the kernel's clock, past any other interposer. */
static int
real(clockid_t id, struct timespec *ts)
{
	return (int)syscall(SYS_clock_gettime, id, ts);
}

static void
shift(struct timespec *ts)
{
	long long off = offset_ms();
	long long ns = (long long)ts->tv_nsec + off % 1000 * 1000000;

	ts->tv_sec += off / 1000 + ns / 1000000000;
	ns %= 1000000000;
	if (ns < 0) {
		ns += 1000000000;
		ts->tv_sec--;
	}
	ts->tv_nsec = ns;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int r = real(id, ts);

	if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		shift(ts);
	return r;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void)tz;
	if (tv == NULL)
		return 0;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t
time(time_t *t)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (time_t)-1;
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
