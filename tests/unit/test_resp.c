/*
 * test_resp.c — commands written as RESP (resp.h) and read back: the
 * bytes Redis reads, argc written in front once a command ends, binary
 * arguments, the walk over a list, and what the walk refuses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "resp.h"

static void
test_build(void)
{
	struct cmds c;
	static const char bin[] = { 'a', '\0', '\r', '\n', 'b' };
	static const char want[] =
	    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0\r\nb\r\n"
	    "*2\r\n$4\r\nINCR\r\n$2\r\n-7\r\n"
	    "*12\r\n$5\r\nRPUSH\r\n$0\r\n\r\n"
	    "$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"
	    "$1\r\n6\r\n$1\r\n7\r\n$1\r\n8\r\n$1\r\n9\r\n$2\r\n10\r\n";
	size_t wl = sizeof(want) - 1;
	int i;

	cmds_init(&c);
	cmd_begin(&c);
	cmd_str(&c, "SET");
	cmd_str(&c, "k");
	cmd_arg(&c, bin, sizeof(bin));
	cmd_end(&c);
	cmd_begin(&c);
	cmd_str(&c, "INCR");
	cmd_num(&c, -7);
	cmd_end(&c);
	cmd_begin(&c);
	cmd_end(&c);		/* empty: dropped */
	cmd_begin(&c);
	cmd_str(&c, "RPUSH");
	cmd_arg(&c, NULL, 3);	/* NULL is "" whatever its length */
	for (i = 1; i <= 10; i++)
		cmd_num(&c, i);
	cmd_end(&c);
	CHECK_INT(c.n, 3);
	CHECK_INT(c.nargs, 3 + 2 + 12);
	CHECK_INT(c.resp.len, wl);
	CHECKF(c.resp.len == wl && memcmp(c.resp.data, want, wl) == 0,
	    "the RESP written: %.*s", (int)c.resp.len, c.resp.data);
	CHECK(c.resp.data[c.resp.len] == '\0');

	/* reset keeps the capacity it is allowed to */
	cmds_reset(&c, 1 << 20);
	CHECK(c.resp.data != NULL && c.resp.len == 0 && c.n == 0 &&
	    c.nargs == 0);
	cmds_reset(&c, 0);
	CHECK(c.resp.data == NULL && c.resp.cap == 0);
	cmds_free(&c);
}

static void
test_walk(void)
{
	struct cmds c;
	char big[300];
	const char *s;
	size_t pos = 0, argc = 0, len = 0, n = 0, k;

	memset(big, 'x', sizeof(big));
	cmds_init(&c);
	CHECK(!cmds_next(&c, &pos, &argc));	/* nothing written */
	for (k = 0; k < 200; k++) {
		cmd_begin(&c);
		cmd_str(&c, "HSET");
		cmd_arg(&c, big, k);
		cmd_num(&c, (long long)k);
		cmd_end(&c);
	}
	cmd_begin(&c);
	cmd_str(&c, "OPEN");	/* not ended: not read */
	pos = 0;
	while (cmds_next(&c, &pos, &argc)) {
		CHECKF(argc == 3, "command %zu: argc %zu", n, argc);
		CHECK(cmds_arg(&c, &pos, &s, &len) && len == 4 &&
		    memcmp(s, "HSET", 4) == 0);
		CHECKF(cmds_arg(&c, &pos, &s, &len) && len == n &&
		    (n == 0 || s[n - 1] == 'x'), "command %zu: key %zu", n,
		    len);
		CHECKF(cmds_arg(&c, &pos, &s, &len) &&
		    strtoul(s, NULL, 10) == n, "command %zu: number", n);
		n++;
	}
	CHECK_INT(n, 200);
	CHECK_INT(pos, c.at);
	CHECK(!cmds_arg(&c, &pos, &s, &len));
	cmds_free(&c);
}

static void
test_take(void)
{
	struct cmds a, b;
	static const char want[] =
	    "*2\r\n$3\r\nDEL\r\n$1\r\nx\r\n"
	    "*3\r\n$4\r\nMSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
	    "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n";
	size_t wl = sizeof(want) - 1, pos = 0, argc, n = 0;

	cmds_init(&a);
	cmds_init(&b);
	cmds_take(&a, &b);		/* nothing to take */
	CHECK(a.n == 0 && a.resp.len == 0);
	cmd_begin(&a);
	cmd_str(&a, "DEL");
	cmd_str(&a, "x");
	cmd_end(&a);
	cmd_begin(&b);
	cmd_str(&b, "MSET");
	cmd_str(&b, "k");
	cmd_str(&b, "v");
	cmd_end(&b);
	cmd_begin(&b);
	cmd_str(&b, "OPEN");		/* not ended: not taken */
	cmds_take(&a, &b);
	CHECK_INT(b.n, 1);		/* src as it was */
	cmd_begin(&a);
	cmd_str(&a, "INCR");
	cmd_str(&a, "n");
	cmd_end(&a);
	CHECK_INT(a.n, 3);
	CHECK_INT(a.nargs, 2 + 3 + 2);
	CHECKF(a.resp.len == wl && memcmp(a.resp.data, want, wl) == 0,
	    "the RESP taken: %.*s", (int)a.resp.len, a.resp.data);
	for (pos = 0; cmds_next(&a, &pos, &argc); n++) {
		const char *s;
		size_t l;

		while (argc-- > 0)
			CHECK(cmds_arg(&a, &pos, &s, &l));
	}
	CHECK_INT(n, 3);
	CHECK_INT(pos, a.at);
	cmds_free(&a);
	cmds_free(&b);
}

/* corrupt: a list whose bytes are given, as if written here. */
static void
corrupt(struct cmds *c, const char *bytes)
{
	cmds_reset(c, 0);
	buf_append(&c->resp, bytes, strlen(bytes));
	c->at = c->resp.len;
	c->n = 1;
}

static void
test_refused(void)
{
	static const char *bad[] = {
		"$3\r\nSET\r\n",		/* a bulk where a command is */
		"*\r\n",			/* no digits */
		"*-1\r\n",
		"*2\r",				/* cut */
		"*2\n$3\r\nSET\r\n",
		"*99999999999999999999999\r\n",	/* past SIZE_MAX */
	};
	static const char *badarg[] = {
		"*1\r\n$9\r\nSET\r\n",		/* longer than what is left */
		"*1\r\n$3\r\nSETX\r\n",		/* no CRLF after it */
		"*1\r\n*3\r\nSET\r\n",
		"*1\r\n$18446744073709551615\r\nx\r\n",
		"*1\r\n$3\r\nSET",
	};
	struct cmds c;
	const char *s;
	size_t i, pos, argc, len;

	cmds_init(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		corrupt(&c, bad[i]);
		pos = 0;
		CHECKF(!cmds_next(&c, &pos, &argc) && pos == 0,
		    "header %zu refused", i);
	}
	for (i = 0; i < sizeof(badarg) / sizeof(badarg[0]); i++) {
		corrupt(&c, badarg[i]);
		pos = 0;
		CHECKF(cmds_next(&c, &pos, &argc) && argc == 1 &&
		    !cmds_arg(&c, &pos, &s, &len) && pos == 4,
		    "argument %zu refused", i);
	}
	cmds_free(&c);
}

static void
test_append(void)
{
	struct buf b;
	const char *argv[] = { "XACK", "s", "", "1-1" };
	const size_t lens[] = { 4, 1, 0, 3 };
	const char *want = "*4\r\n$4\r\nXACK\r\n$1\r\ns\r\n$0\r\n\r\n"
	    "$3\r\n1-1\r\n*1\r\n$4\r\nEXEC\r\n$2\r\nab\r\n*7\r\n";
	const char *ex[] = { "EXEC" };
	size_t bl[1];
	char *big;

	buf_init(&b);
	resp_append(&b, 4, argv, lens);
	resp_append(&b, 1, ex, NULL);
	resp_bulk(&b, "ab", 2);
	resp_head(&b, '*', 7);
	CHECK_STR(b.data, want);
	buf_free(&b);

	/* Each append reserves what it writes, not the buffer again: 1000
	 * KiB and then a few bytes fit in 1 MiB. */
	big = malloc(1000 * 1024);
	memset(big, 'y', 1000 * 1024);
	argv[0] = big;
	bl[0] = 1000 * 1024;
	resp_append(&b, 1, argv, bl);
	resp_append(&b, 1, ex, NULL);
	CHECKF(b.cap == 1024 * 1024, "capacity %zu for %zu bytes", b.cap,
	    b.len);
	CHECK(b.len == 1000 * 1024 + 4 + 10 + 2 + 4 + 10 &&
	    memcmp(b.data + b.len - 14, "*1\r\n$4\r\nEXEC\r\n", 14) == 0);
	free(big);
	buf_free(&b);
}

int
main(void)
{
	test_build();
	test_walk();
	test_take();
	test_refused();
	test_append();
	return harness_done();
}
