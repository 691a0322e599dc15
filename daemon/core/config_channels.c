/*
 * config_channels.c — the "channels:" section. A channel's type decides
 * its defaults and which keys it may have; the key table below says, per
 * key, which types accept it, so "'url' is not valid for a channel of
 * type stream" needs no code of its own. Exec argv elements are templates
 * compiled here, so a bad "{{" fails the load, not the first page; argv[0]
 * must be a fixed absolute path (no template), so no event picks the
 * program.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config.h"
#include "config_int.h"
#include "event.h"
#include "secret.h"
#include "template.h"
#include "util.h"
#include "yaml.h"

static const char *const chan_names[] = {
	"stream", "list", "webhook", "exec", "syslog"
};

/*
 * check_env_refs: every "${" of s opens a valid ${NAME} (secret.h), so
 * that a typo fails the load instead of sending a literal "${".
 */
static int
check_env_refs(const char *s, char *err, size_t errlen)
{
	const char *open, *close;
	size_t n;
	int rc;

	while ((rc = secret_ref(s, &open, &n)) == 1)
		s = open + n + 3;
	if (rc == 0)
		return 0;
	if ((close = strchr(open + 2, '}')) == NULL)
		snprintf(err, errlen, "'${' without a closing '}'");
	else
		snprintf(err, errlen, "invalid variable name in '%.*s' (use "
		    "letters, digits and '_', not starting with a digit, at "
		    "most %d bytes)", (int)(close - open + 1 > 160 ? 160 :
		    close - open + 1), open, SECRET_NAME_MAX);
	return -1;
}

/* check_url: http(s)://host..., where ${NAME} may stand for any part;
 * a URL that starts with ${NAME} is checked when it is sent. */
static int
check_url(const char *s, char *err, size_t errlen)
{
	const char *h;

	if (check_env_refs(s, err, errlen) == -1)
		return -1;
	if (strncmp(s, "${", 2) == 0 && !strpbrk(s, " \t\r\n"))
		return 0;
	if (strncmp(s, "http://", 7) == 0)
		h = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		h = s + 8;
	else {
		snprintf(err, errlen, "expected an http:// or https:// URL");
		return -1;
	}
	if (*h == '\0' || *h == '/' || *h == ':' || strpbrk(s, " \t\r\n")) {
		snprintf(err, errlen, "no host in URL, or a blank in it");
		return -1;
	}
	return 0;
}
/* --- channels ----------------------------------------------------------- */

#define T_STREAM	(1u << CH_STREAM)
#define T_LIST		(1u << CH_LIST)
#define T_WEBHOOK	(1u << CH_WEBHOOK)
#define T_EXEC		(1u << CH_EXEC)
#define T_SYSLOG	(1u << CH_SYSLOG)

static void	apply_chtype(struct loader *, const struct ynode *,
		    const struct ynode *, void *);
static void	apply_headers(struct loader *, const struct ynode *,
		    const struct ynode *, void *);
static void	apply_argv(struct loader *, const struct ynode *,
		    const struct ynode *, void *);
static void	apply_priority(struct loader *, const struct ynode *,
		    const struct ynode *, void *);

#define CH(f)	offsetof(struct channel, f)
static const struct kspec chan_keys[] = {
	{ "type", K_CUSTOM, 0, 0, 0, 0, 0, apply_chtype, NULL, NULL, 0 },
	{ "key", K_NESTR, CH(key), 0, 0, 0, T_STREAM | T_LIST, NULL, NULL,
	    NULL, 0 },
	{ "maxlen", K_LONG, CH(maxlen), 1, LONG_MAX, 0, T_STREAM, NULL, NULL,
	    NULL, 0 },
	{ "contact", K_BOOL, CH(contact), 0, 0, 0, T_LIST, NULL, NULL, NULL,
	    0 },
	{ "url", K_NESTR, CH(url), 0, 0, 0, T_WEBHOOK, NULL, check_url, NULL,
	    0 },
	{ "headers", K_CUSTOM, 0, 0, 0, 0, T_WEBHOOK, apply_headers, NULL,
	    NULL, 0 },
	{ "ca_file", K_NESTR, CH(ca_file), 0, 0, 0, T_WEBHOOK, NULL, NULL,
	    NULL, 0 },
	{ "timeout", K_DUR, CH(timeout_ms), 1, 0, 0, T_WEBHOOK | T_EXEC, NULL,
	    NULL, NULL, 0 },
	{ "retries", K_INT, CH(retries), 0, 20, 0, T_WEBHOOK | T_EXEC, NULL,
	    NULL, NULL, 0 },
	{ "argv", K_CUSTOM, 0, 0, 0, 0, T_EXEC, apply_argv, NULL, NULL, 0 },
	{ "max_running", K_INT, CH(max_running), 1, 64, 0, T_EXEC, NULL, NULL,
	    NULL, 0 },
	{ "priority", K_CUSTOM, 0, 0, 0, 0, T_SYSLOG, apply_priority, NULL,
	    NULL, 0 },
	/* resolved once every file is read (channels_calendars) */
	{ "calendar", K_CUSTOM, 0, 0, 0, 0, 0, apply_chtype, NULL, NULL, 0 },
};

static void
apply_chtype(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	/* read before the other keys by apply_channel() */
	(void)ld;
	(void)key;
	(void)v;
	(void)target;
}

static void
apply_headers(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	struct channel *ch = target;
	const struct ynode *hk, *hv;
	char err[256];
	size_t i;

	(void)key;
	if (!expect_type(ld, v, YN_MAP, "'headers'"))
		return;
	ch->headers = xcalloc(v->npairs + 1, sizeof(*ch->headers));
	for (i = 0; i < v->npairs; i++) {
		hk = v->pairs[i].key;
		hv = v->pairs[i].val;
		if (hk->len == 0 || strpbrk(hk->str, " \t\r\n:") != NULL) {
			cerr(ld, hk, "invalid HTTP header name '%s'", hk->str);
			continue;
		}
		if (!expect_type(ld, hv, YN_SCALAR, "a header value"))
			continue;
		if (strpbrk(hv->str, "\r\n") != NULL) {
			cerr(ld, hv, "a header value must not contain a "
			    "line break");
			continue;
		}
		if (check_env_refs(hv->str, err, sizeof(err)) == -1) {
			cerr(ld, hv, "header '%s': %s", hk->str, err);
			continue;
		}
		ch->headers[ch->nheaders].name = xstrdup(hk->str);
		ch->headers[ch->nheaders++].value = xstrdup(hv->str);
	}
}

struct argv_check {
	struct loader		*ld;
	const struct ynode	*n;
	const char		*chan;
};

/*
 * argv_field_cb: an exec argument's path that no known event type and no
 * alert has, a warning as for messages. The channel serves rules of any
 * type, so any known type's field passes; the suggestion comes from all.
 */
static void
argv_field_cb(void *ctx, const char *path, size_t off)
{
	struct argv_check *ac = ctx;
	const char *const *f;
	const char **cands = NULL;
	const char *dym;
	size_t i, n, nc = 0;

	if (strncmp(path, "customer.", 9) == 0 || config_alert_field(path))
		return;
	for (i = 0; evt_known_types[i] != NULL; i++)
		if (evt_field_known(evt_known_types[i], path))
			return;
	for (i = 0; evt_known_types[i] != NULL; i++) {
		if ((f = evt_type_fields(evt_known_types[i])) == NULL)
			continue;
		for (n = 0; f[n] != NULL; n++)
			;
		cands = xreallocarray(cands, nc + n + 1, sizeof(*cands));
		for (n = 0; f[n] != NULL; n++)
			cands[nc++] = f[n];
	}
	dym = nc > 0 ? did_you_mean(path, cands, nc) : NULL;
	if (dym != NULL)
		cwarn_off(ac->ld, ac->n, off, "exec channel '%s': unknown "
		    "field '%s' (did you mean '%s'?) in an argument: not a "
		    "field of a known event type, nor of the alert", ac->chan,
		    path, dym);
	else
		cwarn_off(ac->ld, ac->n, off, "exec channel '%s': unknown "
		    "field '%s' in an argument: not a field of a known event "
		    "type, nor of the alert", ac->chan, path);
	free(cands);
}

static void
apply_argv(struct loader *ld, const struct ynode *key, const struct ynode *v,
    void *target)
{
	struct channel *ch = target;
	const struct ynode *a;
	char err[256];
	size_t i, eoff;
	struct tmpl *t;

	(void)key;
	if (!expect_type(ld, v, YN_SEQ, "'argv'"))
		return;
	if (v->nitems == 0) {
		cerr(ld, v, "'argv' must not be empty");
		return;
	}
	ch->argv = xcalloc(v->nitems, sizeof(*ch->argv));
	for (i = 0; i < v->nitems; i++) {
		a = v->items[i];
		if (!expect_type(ld, a, YN_SCALAR, "an argv element"))
			continue;
		if ((t = tmpl_compile(a->str, err, sizeof(err), &eoff)) ==
		    NULL) {
			cerr_off(ld, a, eoff, "invalid template: %s", err);
			continue;
		}
		/*
		 * The program is the operator's choice, never an event's: a
		 * template in argv[0] would let a producer pick what runs.
		 * Every "{{" of a template that compiled opens a reference,
		 * so the first one is where the template starts.
		 */
		if (i == 0 && !tmpl_is_literal(t)) {
			cerr_off(ld, a, (size_t)(strstr(a->str, "{{") -
			    a->str), "exec channel '%s': argv[0] must be a "
			    "fixed program path, not a template", ch->name);
			tmpl_free(t);
			continue;
		}
		if (i == 0 && a->str[0] != '/') {
			cerr(ld, a, "argv[0] must be an absolute path, found "
			    "'%s'", a->str);
			tmpl_free(t);
			continue;
		}
		/* Found now rather than at the first delivery (the check
		 * is the shell's I/O, see config_load_opts). */
		if (i == 0 && ld->opts != NULL &&
		    ld->opts->program_check != NULL &&
		    ld->opts->program_check(a->str, err, sizeof(err)) == -1)
			cerr(ld, a, "exec channel '%s': %s", ch->name, err);
		if (i > 0) {
			struct argv_check ac = { ld, a, ch->name };

			tmpl_foreach_path(t, argv_field_cb, &ac);
		}
		ch->argv[ch->argc++] = t;
	}
}

static void
apply_priority(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	static const char *const names[] = { "emerg", "alert", "crit", "err",
	    "warning", "notice", "info", "debug" };
	static const int prios[] = { LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR,
	    LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
	struct channel *ch = target;
	const char *dym;
	size_t i;

	(void)key;
	if (!expect_type(ld, v, YN_SCALAR, "'priority'"))
		return;
	for (i = 0; i < ARRAY_LEN(names); i++) {
		if (strcmp(v->str, names[i]) == 0) {
			ch->priority = prios[i];
			return;
		}
	}
	if ((dym = did_you_mean(v->str, names, ARRAY_LEN(names))) != NULL)
		cerr(ld, v, "invalid syslog priority '%s' (did you mean "
		    "'%s'?)", v->str, dym);
	else
		cerr(ld, v, "invalid syslog priority '%s' (expected emerg, "
		    "alert, crit, err, warning, notice, info or debug)",
		    v->str);
}

/* apply_channel: one "name: {type: ..., ...}" entry. The type is read
 * first: it decides the defaults and which keys are allowed. */
static void
apply_channel(struct loader *ld, const struct ynode *k, const struct ynode *v)
{
	struct config *cf = ld->cf;
	struct channel ch;
	const struct ynode *tn;
	const char *dym;
	char ctx[200];
	size_t j;
	int t = -1;

	if (!valid_name(k->str)) {
		cerr(ld, k, "invalid channel name '%s' (use lowercase "
		    "letters, digits, '_' and '-')", k->str);
		return;
	}
	for (j = 0; j < cf->nchannels; j++) {
		if (strcmp(cf->channels[j].name, k->str) == 0) {
			dup_name(ld, k, "channel", cf->channels[j].file,
			    cf->channels[j].line, cf->channels[j].col);
			return;
		}
	}
	snprintf(ctx, sizeof(ctx), "channel '%s'", k->str);
	if (!expect_type(ld, v, YN_MAP, ctx))
		return;
	if ((tn = ymap_get(v, "type")) == NULL) {
		cerr(ld, v, "missing 'type' in channel '%s'", k->str);
		return;
	}
	if (!expect_type(ld, tn, YN_SCALAR, "'type'"))
		return;
	for (j = 0; j < ARRAY_LEN(chan_names); j++)
		if (strcmp(tn->str, chan_names[j]) == 0)
			t = (int)j;
	if (t == -1) {
		dym = did_you_mean(tn->str, chan_names, ARRAY_LEN(chan_names));
		cerr(ld, tn, "unknown channel type '%s'%s%s%s", tn->str,
		    dym ? " (did you mean '" : " (expected stream, list, "
		    "webhook, exec or syslog)", dym ? dym : "",
		    dym ? "'?)" : "");
		return;
	}
	if (cf->nchannels >= CONFIG_MAX_CHANNELS) {
		cerr(ld, k, "too many channels (limit %d)",
		    CONFIG_MAX_CHANNELS);
		return;
	}
	memset(&ch, 0, sizeof(ch));
	ch.name = xstrdup(k->str);
	ch.type = (enum chan_type)t;
	ch.file = cf->files[ld->cur_file];
	ch.line = k->line;
	ch.col = k->col;
	ch.maxlen = 100000;
	ch.retries = t == CH_WEBHOOK ? 6 : 3;
	ch.timeout_ms = t == CH_WEBHOOK ? 5000 : 10000;
	ch.max_running = 4;
	ch.priority = LOG_WARNING;

	/* unknown keys first, with the channel as context */
	snprintf(ctx, sizeof(ctx), " in channel '%s'", k->str);
	for (j = 0; j < v->npairs; j++) {
		const struct ynode *key = v->pairs[j].key;
		const char *cands[ARRAY_LEN(chan_keys)];
		size_t c;

		for (c = 0; c < ARRAY_LEN(chan_keys); c++)
			cands[c] = chan_keys[c].name;
		for (c = 0; c < ARRAY_LEN(chan_keys); c++)
			if (strcmp(key->str, cands[c]) == 0)
				break;
		if (c < ARRAY_LEN(chan_keys))
			continue;
		dym = did_you_mean(key->str, cands, ARRAY_LEN(cands));
		cerr(ld, key, "unknown key '%s'%s%s%s%s", key->str, ctx,
		    dym ? " (did you mean '" : "", dym ? dym : "",
		    dym ? "'?)" : "");
	}
	/* then the known ones, checked against the type (unknown keys are
	 * skipped by building a filtered view of the mapping) */
	{
		struct ynode known = *v;
		size_t c, m = 0;

		known.pairs = xcalloc(v->npairs + 1, sizeof(*known.pairs));
		for (j = 0; j < v->npairs; j++)
			for (c = 0; c < ARRAY_LEN(chan_keys); c++)
				if (strcmp(v->pairs[j].key->str,
				    chan_keys[c].name) == 0)
					known.pairs[m++] = v->pairs[j];
		known.npairs = m;
		schema_apply(ld, &known, chan_keys, ARRAY_LEN(chan_keys), &ch,
		    chan_names[t], 1u << t);
		free(known.pairs);
	}
	if ((t == CH_STREAM || t == CH_LIST) && ch.key == NULL &&
	    ymap_get(v, "key") == NULL)
		cerr(ld, v, "missing 'key' in channel '%s'", k->str);
	if (t == CH_WEBHOOK && ymap_get(v, "url") == NULL)
		cerr(ld, v, "missing 'url' in channel '%s'", k->str);
	if (t == CH_EXEC && ymap_get(v, "argv") == NULL)
		cerr(ld, v, "missing 'argv' in channel '%s'", k->str);
	if (ld->chan_cal_cap <= cf->nchannels) {
		ld->chan_cal_cap = cf->nchannels + 16;
		ld->chan_cal = xreallocarray(ld->chan_cal, ld->chan_cal_cap,
		    sizeof(*ld->chan_cal));
	}
	ld->chan_cal[cf->nchannels] = ymap_get(v, "calendar");
	cf->channels = xreallocarray(cf->channels, cf->nchannels + 1,
	    sizeof(*cf->channels));
	cf->channels[cf->nchannels++] = ch;
}

void
apply_channels(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	size_t i;

	(void)key;
	(void)target;
	if (v->type == YN_SCALAR && !v->quoted && v->len == 0)
		return;
	if (!expect_type(ld, v, YN_MAP, "'channels'"))
		return;
	for (i = 0; i < v->npairs; i++)
		apply_channel(ld, v->pairs[i].key, v->pairs[i].val);
}
