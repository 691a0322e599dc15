/*
 * fuzz_expr.c — libFuzzer target for the expression compiler and evaluator.
 *
 * Arbitrary bytes are copied into a NUL-terminated buffer and compiled as an
 * expression (with one $list defined); whatever compiles is evaluated
 * against a small fixed event and freed. A crash, a sanitizer report or a
 * leak is a bug. The error path is checked too: a failed compile must leave
 * an offset inside the input and a NUL-terminated, non-empty message.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined ... fuzz_expr.c
 *   build/fuzz/fuzz_expr tests/fuzz/seeds/fuzz_expr
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "value.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool
lookup(void *ctx, const char *path, struct value *out)
{
	static const struct value tags[2] = {
		{ V_STR, "late", 4, 0, false, false, false, NULL, 0 },
		{ V_NUM, "3", 1, 3, true, false, false, NULL, 0 },
	};

	(void)ctx;
	if (strcmp(path, "nps") == 0)
		*out = value_num(5, "5", 1);
	else if (strcmp(path, "csat") == 0)
		*out = value_str("2", 1);
	else if (strcmp(path, "customer.tier") == 0)
		*out = value_str("gold", 4);
	else if (strcmp(path, "a") == 0)
		*out = value_str("", 0);
	else if (strcmp(path, "b") == 0)
		*out = value_bool(true);
	else if (strcmp(path, "x") == 0) {
		memset(out, 0, sizeof(*out));
		out->kind = V_NULL;
		out->s = "null";
		out->len = 4;
	} else if (strcmp(path, "tags") == 0) {
		memset(out, 0, sizeof(*out));
		out->kind = V_LIST;
		out->s = "";
		out->items = tags;
		out->nitems = 2;
	} else
		return false;
	return true;
}

static const struct vlist *
resolve(void *ctx, const char *name)
{
	static struct value items[2];
	static struct vlist vip = { (char *)"vip_tiers", items, 2, "fuzz", 1, 1 };

	(void)ctx;
	items[0] = value_str("gold", 4);
	items[1] = value_str("platinum", 8);
	return strcmp(name, vip.name) == 0 ? &vip : NULL;
}

static void
path_cb(void *ctx, const char *path, size_t offset)
{
	size_t *len = ctx;

	if (offset >= *len || !expr_valid_path(path))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expr_error err;
	struct expr *e;
	char *src;

	if ((src = malloc(size + 1)) == NULL)
		return 0;
	memcpy(src, data, size);
	src[size] = '\0';
	e = expr_compile(src, resolve, NULL, &err);
	if (e != NULL) {
		size_t len = strlen(src);

		(void)expr_eval(e, lookup, NULL);
		expr_foreach_path(e, path_cb, &len);
		expr_free(e);
	} else if (err.offset > strlen(src) || err.msg[0] == '\0' ||
	    memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
		abort();
	(void)expr_valid_path(src);
	free(src);
	return 0;
}
