/*
 * value.c — construction and comparison of struct value, the semantics of
 * the expression language's ==, <, and truthiness in one place.
 */
#include <string.h>

#include "util.h"
#include "value.h"

struct value
value_str(const char *s, size_t len)
{
	struct value v;

	memset(&v, 0, sizeof(v));
	v.kind = V_STR;
	v.s = s;
	v.len = len;
	v.has_num = parse_number(s, len, &v.num);
	v.has_bool = parse_bool(s, len, &v.b);
	return v;
}

struct value
value_num(double n, const char *s, size_t len)
{
	struct value v;

	memset(&v, 0, sizeof(v));
	v.kind = V_NUM;
	v.s = s;
	v.len = len;
	v.num = n;
	v.has_num = true;
	/* 1 and 0 double as booleans, as the input format's "1/0" do. */
	if (n == 0 || n == 1) {
		v.has_bool = true;
		v.b = n == 1;
	}
	return v;
}

struct value
value_bool(bool b)
{
	struct value v;

	memset(&v, 0, sizeof(v));
	v.kind = V_BOOL;
	v.s = b ? "true" : "false";
	v.len = b ? 4 : 5;
	v.b = b;
	v.has_bool = true;
	return v;
}

static bool
absent(const struct value *v)
{
	return v->kind == V_MISSING || v->kind == V_NULL;
}

bool
value_equal(const struct value *a, const struct value *b)
{
	if (absent(a) || absent(b))
		return false;
	if (a->kind == V_LIST || b->kind == V_LIST)
		return false;
	if (a->kind == V_BOOL || b->kind == V_BOOL) {
		if (a->has_bool && b->has_bool)
			return a->b == b->b;
		return false;
	}
	if (a->has_num && b->has_num)
		return a->num == b->num;
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

bool
value_compare(const struct value *a, const struct value *b, int *cmp)
{
	size_t n;
	int c;

	if (absent(a) || absent(b) || a->kind == V_LIST || b->kind == V_LIST)
		return false;
	if (a->kind == V_BOOL || b->kind == V_BOOL)
		return false;
	if (a->has_num && b->has_num) {
		*cmp = a->num < b->num ? -1 : a->num > b->num ? 1 : 0;
		return true;
	}
	if (a->has_num || b->has_num)
		return false;
	n = a->len < b->len ? a->len : b->len;
	c = memcmp(a->s, b->s, n);
	if (c == 0)
		c = a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
	*cmp = c;
	return true;
}

bool
value_truthy(const struct value *v)
{
	switch (v->kind) {
	case V_MISSING:
	case V_NULL:
		return false;
	case V_LIST:
		return v->nitems > 0;
	default:
		break;
	}
	if (v->has_bool)
		return v->b;
	if (v->has_num)
		return v->num != 0;
	return v->len > 0;
}
