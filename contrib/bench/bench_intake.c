/*
 * bench_intake.c — load for the HTTP intake (make bench): C kept-alive
 * connections, each sending POST /v1/events one after the other (a new
 * request as soon as the previous answer is in), every request carrying
 * B rating events, for S seconds. Prints the events accepted per second
 * and the request latency (p50, p99, max) from the end of the write to
 * the whole answer.
 *
 *   bench_intake HOST PORT TOKEN CONNS BATCH SECONDS
 *
 * One thread, poll(2) over the sockets; answers are read until their
 * Content-Length is in. A status other than 202 is counted and ends the
 * run with exit 1 after printing.
 */
#define _GNU_SOURCE		/* memmem */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CONNS_MAX	256
#define RBUF		65536

struct conn {
	int		 fd;
	char		 rbuf[RBUF];
	size_t		 rlen;
	double		 sent_at;
	size_t		 wpos;
};

static char	*req;		/* one request, the same for all */
static size_t	 reqlen;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* answer_len: bytes of a whole answer at the start of buf, or 0. */
static size_t
answer_len(const char *buf, size_t len, int *status)
{
	const char *end, *cl;
	size_t hlen, blen;

	if ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL)
		return 0;
	hlen = (size_t)(end - buf) + 4;
	*status = atoi(buf + 9);
	blen = 0;
	if ((cl = memmem(buf, hlen, "Content-Length:", 15)) != NULL)
		blen = strtoul(cl + 15, NULL, 10);
	return hlen + blen <= len ? hlen + blen : 0;
}

int
main(int argc, char **argv)
{
	struct conn *c;
	struct pollfd pf[CONNS_MAX];
	struct sockaddr_in sa;
	double start, end, t, *lat = NULL;
	size_t nlat = 0, caplat = 0, i, body_len, k, n;
	long ok = 0, bad = 0, batch, conns, seconds;
	char *body;
	int one = 1, status;
	ssize_t w, r;

	if (argc != 7) {
		fprintf(stderr, "usage: bench_intake HOST PORT TOKEN CONNS "
		    "BATCH SECONDS\n");
		return 2;
	}
	conns = strtol(argv[4], NULL, 10);
	batch = strtol(argv[5], NULL, 10);
	seconds = strtol(argv[6], NULL, 10);
	if (conns < 1 || conns > CONNS_MAX || batch < 1 || batch > 500 ||
	    seconds < 1) {
		fprintf(stderr, "bench_intake: CONNS 1..%d, BATCH 1..500\n",
		    CONNS_MAX);
		return 2;
	}
	body = malloc((size_t)batch * 128 + 8);
	body_len = 0;
	if (batch > 1)
		body[body_len++] = '[';
	for (k = 0; k < (size_t)batch; k++)
		body_len += (size_t)sprintf(body + body_len, "%s{\"type\":"
		    "\"rating\",\"call_id\":\"B%zu\",\"customer_id\":\"K%zu\","
		    "\"csat\":%zu,\"queue\":\"billing\"}", k > 0 ? "," : "", k,
		    k % 97, 3 + k % 3);
	if (batch > 1)
		body[body_len++] = ']';
	req = malloc(body_len + 512);
	reqlen = (size_t)sprintf(req, "POST /v1/events HTTP/1.1\r\nHost: %s\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", argv[1], argv[3], body_len);
	memcpy(req + reqlen, body, body_len);
	reqlen += body_len;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "bench_intake: HOST is an IPv4 address\n");
		return 2;
	}
	c = calloc((size_t)conns, sizeof(*c));
	for (i = 0; i < (size_t)conns; i++) {
		if ((c[i].fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    connect(c[i].fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
			perror("bench_intake: connect");
			return 1;
		}
		setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		pf[i].fd = c[i].fd;
		pf[i].events = POLLOUT;
	}
	start = now();
	end = start + (double)seconds;
	for (;;) {
		t = now();
		if (t >= end)
			break;
		if (poll(pf, (nfds_t)conns, 100) == -1 && errno != EINTR)
			break;
		for (i = 0; i < (size_t)conns; i++) {
			if (pf[i].revents & POLLOUT) {
				if (c[i].wpos == 0)
					c[i].sent_at = now();
				w = write(c[i].fd, req + c[i].wpos,
				    reqlen - c[i].wpos);
				if (w > 0)
					c[i].wpos += (size_t)w;
				if (c[i].wpos == reqlen) {
					c[i].wpos = 0;
					pf[i].events = POLLIN;
				}
				continue;
			}
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(c[i].fd, c[i].rbuf + c[i].rlen,
			    sizeof(c[i].rbuf) - c[i].rlen);
			if (r <= 0) {
				fprintf(stderr, "bench_intake: connection "
				    "closed by the daemon\n");
				return 1;
			}
			c[i].rlen += (size_t)r;
			if ((n = answer_len(c[i].rbuf, c[i].rlen, &status)) ==
			    0)
				continue;
			memmove(c[i].rbuf, c[i].rbuf + n, c[i].rlen - n);
			c[i].rlen -= n;
			if (status == 202)
				ok++;
			else
				bad++;
			if (nlat == caplat) {
				caplat = caplat ? caplat * 2 : 65536;
				lat = realloc(lat, caplat * sizeof(*lat));
			}
			lat[nlat++] = now() - c[i].sent_at;
			pf[i].events = POLLOUT;
		}
	}
	t = now() - start;
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	printf("intake: %ld conns, %ld events a request: %.0f events/s "
	    "accepted (%.0f requests/s), latency p50 %.2f ms, p99 %.2f ms, "
	    "max %.2f ms; %ld non-202\n", conns, batch,
	    (double)ok * (double)batch / t, (double)ok / t,
	    nlat ? lat[nlat / 2] * 1e3 : 0, nlat ? lat[nlat * 99 / 100] * 1e3 :
	    0, nlat ? lat[nlat - 1] * 1e3 : 0, bad);
	return bad > 0 ? 1 : 0;
}
