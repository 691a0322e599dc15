/*
 * config_schema.c — the machinery under the configuration tables: the
 * walker that checks a mapping against a table of keys (Redis config.c
 * style: name, kind, bounds, flags, validator) and stores values by
 * offset, the validators the tables name (durations and integers are
 * built in; redis URLs and listen addresses are here), and diagnostics
 * placed at a node or at a byte offset inside a scalar.
 *
 * Shared by config.c, config_channels.c and config_rules.c through
 * config_int.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "secret.h"
#include "util.h"
#include "yaml.h"

static const char *const sev_names[] = {
	"low", "medium", "high", "critical"
};

/* --- diagnostics ------------------------------------------------------ */

static size_t
file_index(const struct loader *ld, const char *file)
{
	size_t i;

	for (i = 0; i < ld->cf->nfiles; i++)
		if (ld->docs[i] != NULL && ld->docs[i]->file == file)
			return i;
	return SIZE_MAX;
}

static const struct srcfile *
source_of(struct loader *ld, const char *file)
{
	struct srcfile *s;
	size_t i = file_index(ld, file);
	FILE *fp;

	if (i == SIZE_MAX)
		return NULL;
	s = &ld->srcs[i];
	if (!s->tried) {
		s->tried = true;
		if ((fp = fopen(file, "r")) != NULL) {
			s->buf = xmalloc(YAML_MAX_FILE + 1);
			s->len = fread(s->buf, 1, YAML_MAX_FILE, fp);
			s->buf[s->len] = '\0';
			fclose(fp);
		}
	}
	return s->buf != NULL ? s : NULL;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * offset_pos: the line and column of byte off of scalar n's value.
 *
 * A plain or quoted single-line scalar is exact without the source: the
 * node's column plus the offset (plus one for the opening quote). For
 * anything else (folded plain scalars, block scalars, escapes) we walk the
 * source text and the value side by side: equal bytes advance both; a
 * source "''" or backslash escape stands for one value byte; whitespace in
 * the source where the value has a fold or indentation is skipped. This is
 * an approximation (it does not decode \x/\u escapes byte for byte) but it
 * lands on the right token in every realistic rule file; when the file
 * cannot be read again we fall back to column + offset.
 */
static void
offset_pos(struct loader *ld, const struct ynode *n, size_t off, int *line,
    int *col)
{
	const struct srcfile *s;
	const char *src, *v = n->str;
	size_t p = 0, i = 0, l = 1, c = 1, k;
	bool dq = false, sq = false;

	*line = n->line;
	*col = n->col + (int)off + (n->quoted ? 1 : 0);
	if (n->type != YN_SCALAR || off > n->len ||
	    (s = source_of(ld, n->file)) == NULL)
		return;
	src = s->buf;
	/* find the node's start: line, then column in characters */
	while (p < s->len && l < (size_t)n->line)
		if (src[p++] == '\n')
			l++;
	for (k = 1; p < s->len && k < (size_t)n->col; p++)
		if (((unsigned char)src[p + 1] & 0xc0) != 0x80)
			k++;
	if (p >= s->len)
		return;
	if (src[p] == '"' || src[p] == '\'') {
		dq = src[p] == '"';
		sq = !dq;
		p++;
	} else if (src[p] == '|' || src[p] == '>') {
		while (p < s->len && src[p] != '\n')
			p++;
	}
	while (i < off && p < s->len) {
		if (src[p] == v[i]) {
			p++, i++;
		} else if (sq && src[p] == '\'' && src[p + 1] == '\'') {
			p += 2, i++;
		} else if (dq && src[p] == '\\' && src[p + 1] == '\n') {
			p += 2;
			while (p < s->len && is_space(src[p]))
				p++;
		} else if (dq && src[p] == '\\') {
			p += src[p + 1] == 'x' ? 4 : src[p + 1] == 'u' ? 6 :
			    src[p + 1] == 'U' ? 10 : 2;
			i++;
		} else if (is_space(src[p])) {
			while (p < s->len && is_space(src[p]))
				p++;
			if (v[i] == ' ' || v[i] == '\n')
				i++;
		} else
			p++, i++;
	}
	while (i < n->len && p < s->len && (src[p] == ' ' ||
	    src[p] == '\n') && src[p] != v[i])
		p++;
	if (p > s->len)
		p = s->len;
	for (k = 0, l = 1, c = 1; k < p; k++) {
		if (src[k] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)src[k] & 0xc0) != 0x80)
			c++;
	}
	*line = (int)l;
	*col = (int)c;
}

static void
vcdiag(struct loader *ld, enum diag_level lv, const struct ynode *n,
    size_t off, bool use_off, const char *fmt, va_list ap)
{
	char msg[1024];
	int line = 0, col = 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n != NULL) {
		if (use_off)
			offset_pos(ld, n, off, &line, &col);
		else {
			line = n->line;
			col = n->col;
		}
	}
	diag_add(ld->d, lv, n != NULL ? n->file : ld->cf->path, line, col,
	    "%s", msg);
}

void
cerr(struct loader *ld, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcdiag(ld, DIAG_ERROR, n, 0, false, fmt, ap);
	va_end(ap);
}

void
cwarn(struct loader *ld, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcdiag(ld, DIAG_WARNING, n, 0, false, fmt, ap);
	va_end(ap);
}

void
cerr_off(struct loader *ld, const struct ynode *n, size_t off,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcdiag(ld, DIAG_ERROR, n, off, true, fmt, ap);
	va_end(ap);
}

void
cwarn_off(struct loader *ld, const struct ynode *n, size_t off,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcdiag(ld, DIAG_WARNING, n, off, true, fmt, ap);
	va_end(ap);
}

/* --- the schema walker ------------------------------------------------ */

static const char *
ktype_name(enum ktype t)
{
	switch (t) {
	case K_INT:
	case K_LONG:
		return "an integer";
	case K_DUR:
		return "a duration";
	case K_BOOL:
		return "true or false";
	case K_SEV:
		return "a severity";
	case K_SECTION:
		return "a mapping";
	default:
		return "a string";
	}
}

bool
expect_type(struct loader *ld, const struct ynode *n, enum ynode_type t,
    const char *what)
{
	static const char *const names[] = { "a string", "a list",
	    "a mapping" };

	if (n->type == t)
		return true;
	cerr(ld, n, "expected %s for %s, found %s", names[t], what,
	    ynode_type_name(n));
	return false;
}

bool
valid_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '-'))
			return false;
	return true;
}

/* apply_value: check one value against its spec and store it. */
static void
apply_value(struct loader *ld, const struct kspec *ks,
    const struct ynode *key, const struct ynode *v, void *target,
    const char *ctx)
{
	char *field = (char *)target + ks->off;
	char err[256];
	const char *dym;
	long long n;
	char *end;
	int64_t ms;
	bool b;
	int sev;

	if (ks->type == K_CUSTOM) {
		ks->fn(ld, key, v, target);
		return;
	}
	if (ks->type == K_SECTION) {
		char sctx[200], what[80];
		size_t i;
		bool req = false;

		/* " in 'count' of rule 'x'" from ctx " in rule 'x'" */
		snprintf(sctx, sizeof(sctx), " in '%s'%s%s", ks->name,
		    ctx[0] != '\0' ? " of" : "", ctx[0] != '\0' ? ctx + 3 : "");
		snprintf(what, sizeof(what), "'%s'", ks->name);
		for (i = 0; i < ks->nsub; i++)
			req = req || (ks->sub[i].flags & KF_REQUIRED);
		/* "input:" alone means all defaults */
		if (!req && v->type == YN_SCALAR && !v->quoted && v->len == 0)
			return;
		if (expect_type(ld, v, YN_MAP, what))
			schema_apply(ld, v, ks->sub, ks->nsub, target, sctx, 0);
		return;
	}
	if (v->type != YN_SCALAR || (ks->type != K_STR && !v->quoted &&
	    v->len == 0)) {
		cerr(ld, v, "expected %s for '%s'%s, found %s",
		    ktype_name(ks->type), ks->name, ctx, ynode_type_name(v));
		return;
	}
	switch (ks->type) {
	case K_STR:
	case K_NESTR:
		if (ks->type == K_NESTR && v->len == 0) {
			cerr(ld, v, "'%s'%s must not be empty", ks->name, ctx);
			return;
		}
		if (ks->check != NULL && ks->check(v->str, err,
		    sizeof(err)) == -1) {
			cerr(ld, v, "invalid '%s'%s: %s", ks->name, ctx, err);
			return;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(v->str);
		break;
	case K_INT:
	case K_LONG:
		errno = 0;
		n = strtoll(v->str, &end, 10);
		if (errno != 0 || *end != '\0' || end == v->str) {
			cerr(ld, v, "invalid integer '%s' for '%s'%s", v->str,
			    ks->name, ctx);
			return;
		}
		if (n < ks->min || n > ks->max) {
			if (ks->max >= INT_MAX)
				cerr(ld, v, "'%s'%s must be at least %ld, "
				    "found %lld", ks->name, ctx, ks->min, n);
			else
				cerr(ld, v, "'%s'%s must be between %ld and "
				    "%ld, found %lld", ks->name, ctx, ks->min,
				    ks->max, n);
			return;
		}
		if (ks->type == K_INT)
			*(int *)field = (int)n;
		else
			*(long *)field = (long)n;
		break;
	case K_DUR:
		if (parse_duration_ms(v->str, &ms) == -1) {
			cerr(ld, v, "invalid duration '%s' for '%s'%s (use "
			    "e.g. 500ms, 30s, 15m, 4h, 7d)", v->str, ks->name,
			    ctx);
			return;
		}
		if (ks->max > 0 && (ms < ks->min || ms > ks->max)) {
			/* bounded (ha.lease): both ends in the message */
			char lo[32], hi[32];

			format_duration(ks->min, lo, sizeof(lo));
			format_duration(ks->max, hi, sizeof(hi));
			cerr(ld, v, "'%s'%s must be between %s and %s, found "
			    "'%s'", ks->name, ctx, lo, hi, v->str);
			return;
		}
		if (ms < ks->min) {
			cerr(ld, v, "'%s'%s must be greater than 0", ks->name,
			    ctx);
			return;
		}
		*(int64_t *)field = ms;
		break;
	case K_BOOL:
		if (!parse_bool(v->str, v->len, &b)) {
			cerr(ld, v, "expected true or false for '%s'%s, "
			    "found '%s'", ks->name, ctx, v->str);
			return;
		}
		*(bool *)field = b;
		break;
	case K_SEV:
		if ((sev = severity_parse(v->str)) == 0) {
			dym = did_you_mean(v->str, sev_names, 4);
			if (dym != NULL)
				cerr(ld, v, "invalid severity '%s' (did you "
				    "mean '%s'?)", v->str, dym);
			else
				cerr(ld, v, "invalid severity '%s' (expected "
				    "low, medium, high or critical)", v->str);
			return;
		}
		*(int *)field = sev;
		break;
	default:
		break;
	}
}

void
schema_apply(struct loader *ld, const struct ynode *map,
    const struct kspec *specs, size_t nspecs, void *target, const char *ctx,
    unsigned chtype)
{
	const char *cands[32];
	const struct kspec *ks;
	const struct ynode *key;
	const char *dym;
	size_t i, j;

	for (j = 0; j < nspecs && j < ARRAY_LEN(cands); j++)
		cands[j] = specs[j].name;
	for (i = 0; i < map->npairs; i++) {
		key = map->pairs[i].key;
		for (ks = NULL, j = 0; j < nspecs; j++)
			if (strcmp(specs[j].name, key->str) == 0)
				ks = &specs[j];
		if (ks == NULL) {
			dym = did_you_mean(key->str, cands, j);
			if (dym != NULL)
				cerr(ld, key, "unknown key '%s'%s (did you "
				    "mean '%s'?)", key->str, ctx, dym);
			else
				cerr(ld, key, "unknown key '%s'%s", key->str,
				    ctx);
			continue;
		}
		if ((ks->flags & KF_MAIN_ONLY) && ld->cur_file != 0) {
			cerr(ld, key, "'%s' is only allowed in the main "
			    "configuration file", key->str);
			continue;
		}
		if (chtype != 0 && ks->types != 0 && !(ks->types & chtype)) {
			cerr(ld, key, "'%s' is not valid for a channel of type "
			    "%s", key->str, ctx);
			continue;
		}
		apply_value(ld, ks, key, map->pairs[i].val, target,
		    chtype != 0 ? "" : ctx);
	}
	for (j = 0; j < nspecs; j++)
		if ((specs[j].flags & KF_REQUIRED) &&
		    ymap_get(map, specs[j].name) == NULL)
			cerr(ld, map, "missing '%s'%s", specs[j].name,
			    chtype != 0 ? "" : ctx);
}

/* --- input: skew and byte budget ----------------------------------------- */

/* scalar_for: v is a non-empty scalar, else an error in the walker's
 * words ("expected a size for 'batch_bytes' in 'input', found a list"). */
static bool
scalar_for(struct loader *ld, const struct ynode *key, const struct ynode *v,
    const char *kind)
{
	if (v->type == YN_SCALAR && (v->quoted || v->len > 0))
		return true;
	cerr(ld, v, "expected %s for '%s' in 'input', found %s", kind,
	    key->str, ynode_type_name(v));
	return false;
}

/* apply_past_skew: "auto" (-1: the longest rule window plus a day, worked
 * out by the consumer), 0 (no bound) or a duration. */
void
apply_past_skew(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	struct config *cf = target;
	int64_t ms;

	if (!scalar_for(ld, key, v, "a duration or auto"))
		return;
	if (strcmp(v->str, "auto") == 0)
		cf->max_past_skew_ms = -1;
	else if (parse_duration_ms(v->str, &ms) == 0)
		cf->max_past_skew_ms = ms;
	else
		cerr(ld, v, "invalid value '%s' for 'max_past_skew' in 'input' "
		    "(use auto, 0 for no bound, or a duration such as 8d)",
		    v->str);
}

/* apply_batch_bytes: a byte count, bare or with KiB, MiB or GiB, in
 * 1 MiB .. 1 GiB: the budget must hold the largest valid entry with room
 * to spare, and anything larger defeats its purpose. */
void
apply_batch_bytes(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	static const struct { const char *unit; int shift; } units[] = {
		{ "", 0 }, { "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 },
	};
	struct config *cf = target;
	const char *p;
	long long n = 0;
	size_t i;

	if (!scalar_for(ld, key, v, "a size"))
		return;
	for (p = v->str; *p >= '0' && *p <= '9' && n <= (1LL << 40); p++)
		n = n * 10 + (*p - '0');
	for (i = 0; p != v->str && i < ARRAY_LEN(units); i++)
		if (strcmp(p, units[i].unit) == 0)
			break;
	if (p == v->str || i == ARRAY_LEN(units)) {
		/* "8MB", "8M", "512k": the binary unit was meant */
		if (p != v->str && strchr("kKMG", *p) != NULL && (p[1] == '\0' ||
		    ((p[1] == 'B' || p[1] == 'b') && p[2] == '\0')))
			cerr(ld, v, "invalid size '%s' for 'batch_bytes' in "
			    "'input' (did you mean '%.*s%ciB'?)", v->str,
			    (int)(p - v->str), v->str, *p == 'k' ? 'K' : *p);
		else
			cerr(ld, v, "invalid size '%s' for 'batch_bytes' in "
			    "'input' (use e.g. 8MiB, 512KiB or a number of "
			    "bytes)", v->str);
		return;
	}
	/* n <= 2^30 first, so that the shift cannot overflow */
	if (n > (1LL << 30) || (n << units[i].shift) < (1LL << 20) ||
	    (n << units[i].shift) > (1LL << 30)) {
		cerr(ld, v, "'batch_bytes' in 'input' must be between 1MiB and "
		    "1GiB, found %s", v->str);
		return;
	}
	cf->batch_bytes = (long)(n << units[i].shift);
}

/* --- validators --------------------------------------------------------- */

int
check_redis_url(const char *s, char *err, size_t errlen)
{
	struct redis_target t;

	return redis_url_parse(s, &t, err, errlen);
}

/* parse_port: "1".."65535", the whole string. */
static int
parse_port(const char *s, int *port)
{
	char *end;
	long n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > 65535)
		return -1;
	*port = (int)n;
	return 0;
}

/* check_listen: "" (disabled), "host:port" or "[v6addr]:port". */
int
check_listen(const char *s, char *err, size_t errlen)
{
	const char *colon;
	int port;

	if (*s == '\0')
		return 0;
	if (*s == '[') {
		colon = strchr(s, ']');
		if (colon == NULL || colon == s + 1 || colon[1] != ':') {
			snprintf(err, errlen, "expected \"[address]:port\"");
			return -1;
		}
		colon++;
	} else if ((colon = strrchr(s, ':')) == NULL || colon == s ||
	    memchr(s, ':', (size_t)(colon - s)) != NULL) {
		snprintf(err, errlen, "expected \"host:port\" (IPv6 as "
		    "\"[::1]:9464\"), or \"\" to disable");
		return -1;
	}
	if (parse_port(colon + 1, &port) == -1) {
		snprintf(err, errlen, "invalid port '%s' (1..65535)",
		    colon + 1);
		return -1;
	}
	return 0;
}

/* copy_part: s[0..n) into a fixed field, or -1 if it does not fit. */
static int
copy_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int
parse_db(const char *s, int *db)
{
	char *end;
	long n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n > 1000000)
		return -1;
	*db = (int)n;
	return 0;
}

/*
 * pct_decode: s[0..n) with each %XX decoded into a fixed field; -1 if a
 * '%' is not followed by two hex digits, decodes to NUL, or the result
 * does not fit.
 */
static int
pct_decode(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (o + 1 >= cap)
			return -1;
		if (s[i] != '%') {
			dst[o++] = s[i];
			continue;
		}
		if (i + 2 >= n)
			return -1;
		if ((hi = hex_digit(s[i + 1])) == -1 ||
		    (lo = hex_digit(s[i + 2])) == -1 || (hi == 0 && lo == 0))
			return -1;
		dst[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	dst[o] = '\0';
	return 0;
}

/* url_secret: a non-empty secret (secret.h) over a URL's part; -1 if it
 * does not fit. */
static int
url_secret(const char *name, char *dst, size_t cap, char *err,
    size_t errlen)
{
	const char *v = secret_get(name);

	if (v == NULL || *v == '\0')
		return 0;
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s is longer than %zu bytes", name,
		    cap - 1);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

int
redis_auth_args(const struct redis_target *t, const char *av[3],
    size_t al[3])
{
	int n = 0;

	if (t->username[0] == '\0' && t->password[0] == '\0')
		return 0;
	av[n] = "AUTH";
	al[n++] = 4;
	if (t->username[0] != '\0') {
		av[n] = t->username;
		al[n++] = strlen(t->username);
	}
	av[n] = t->password;
	al[n++] = strlen(t->password);
	return n;
}

/*
 * redis_url_parse: redis://[[user]:password@]host[:port][/db] (host may
 * be "[v6addr]"; user and password %-encoded where they hold '%', '@',
 * ':' or '/'; a user without a ':' is taken as the password, as
 * redis-cli does) or unix:///path[?db=N]. A non-empty REDIS_USERNAME or
 * REDIS_PASSWORD (secret_get(): a systemd credential or the environment)
 * overrides the URL's, so secrets need not sit in the file.
 */
int
redis_url_parse(const char *url, struct redis_target *t, char *err,
    size_t errlen)
{
	const char *p, *at, *slash, *hend, *colon, *q;

	memset(t, 0, sizeof(*t));
	t->port = 6379;
	if (strncmp(url, "unix://", 7) == 0) {
		t->unix_socket = true;
		p = url + 7;
		q = strchr(p, '?');
		if (*p != '/' || copy_part(t->path, sizeof(t->path), p,
		    q ? (size_t)(q - p) : strlen(p)) == -1 || p[1] == '\0') {
			snprintf(err, errlen, "expected unix:///absolute/path"
			    " (at most %zu bytes)", sizeof(t->path) - 1);
			return -1;
		}
		if (q != NULL && (strncmp(q, "?db=", 4) != 0 ||
		    parse_db(q + 4, &t->db) == -1)) {
			snprintf(err, errlen, "invalid query '%s' (expected "
			    "?db=N)", q);
			return -1;
		}
	} else if (strncmp(url, "redis://", 8) == 0) {
		p = url + 8;
		slash = strchr(p, '/');
		hend = slash ? slash : p + strlen(p);
		for (at = NULL, q = p; q < hend; q++)	/* the last '@' */
			if (*q == '@')
				at = q;
		if (at != NULL) {
			colon = memchr(p, ':', (size_t)(at - p));
			if (colon != NULL && pct_decode(t->username,
			    sizeof(t->username), p, (size_t)(colon - p)) == -1) {
				snprintf(err, errlen, "invalid user name (at "
				    "most %zu bytes; write '%%' as %%25)",
				    sizeof(t->username) - 1);
				return -1;
			}
			q = colon ? colon + 1 : p;
			if (pct_decode(t->password, sizeof(t->password), q,
			    (size_t)(at - q)) == -1) {
				snprintf(err, errlen, "invalid password (at most "
				    "%zu bytes; write '%%' as %%25)",
				    sizeof(t->password) - 1);
				return -1;
			}
			p = at + 1;
		}
		hend = slash ? slash : p + strlen(p);
		if (*p == '[') {
			q = memchr(p, ']', (size_t)(hend - p));
			if (q == NULL || copy_part(t->host, sizeof(t->host),
			    p + 1, (size_t)(q - p - 1)) == -1 || q == p + 1) {
				snprintf(err, errlen, "invalid IPv6 host");
				return -1;
			}
			colon = q + 1 < hend && q[1] == ':' ? q + 1 : NULL;
			if (q + 1 < hend && colon == NULL) {
				snprintf(err, errlen, "invalid host");
				return -1;
			}
		} else {
			colon = memchr(p, ':', (size_t)(hend - p));
			if (copy_part(t->host, sizeof(t->host), p,
			    (size_t)((colon ? colon : hend) - p)) == -1) {
				snprintf(err, errlen, "host too long");
				return -1;
			}
		}
		if (t->host[0] == '\0') {
			snprintf(err, errlen, "no host");
			return -1;
		}
		if (colon != NULL) {
			char port[8];

			if (copy_part(port, sizeof(port), colon + 1,
			    (size_t)(hend - colon - 1)) == -1 ||
			    parse_port(port, &t->port) == -1) {
				snprintf(err, errlen, "invalid port");
				return -1;
			}
		}
		if (slash != NULL && slash[1] != '\0' &&
		    parse_db(slash + 1, &t->db) == -1) {
			snprintf(err, errlen, "invalid database number '%s'",
			    slash + 1);
			return -1;
		}
	} else {
		snprintf(err, errlen, "expected redis://host[:port][/db] or "
		    "unix:///path");
		return -1;
	}
	if (url_secret("REDIS_USERNAME", t->username, sizeof(t->username),
	    err, errlen) == -1 || url_secret("REDIS_PASSWORD", t->password,
	    sizeof(t->password), err, errlen) == -1)
		return -1;
	return 0;
}
