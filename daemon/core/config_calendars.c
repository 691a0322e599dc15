/*
 * config_calendars.c — the "calendars:" section (README, "Business
 * calendars"): named
 * business calendars, each a time zone, weekly hours and holidays
 *
 *   calendars:
 *     support:
 *       tz: Europe/Berlin
 *       hours: ["Mon-Fri 08:00-20:00", "Sat 09:00-14:00"]
 *       holidays: [2026-12-24, 2026-12-25]
 *
 * compiled into struct calendar (calendar.h) at load time, so a typo in a
 * zone, a day or a time fails the load with its FILE:LINE:COL instead of
 * holding an alert back at run time. The zone's TZif file is read here,
 * at every load: a reload picks up an updated tzdata package.
 *
 * Calendars may be defined in included files too (like lists and
 * channels); a name is defined once across all files.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "config.h"
#include "config_int.h"
#include "util.h"
#include "yaml.h"

#define ZONE_SUGGEST_MAX	2000	/* directory entries compared */

static void	apply_tz(struct loader *, const struct ynode *,
		    const struct ynode *, void *);
static void	apply_hours(struct loader *, const struct ynode *,
		    const struct ynode *, void *);
static void	apply_holidays(struct loader *, const struct ynode *,
		    const struct ynode *, void *);

static const struct kspec cal_keys[] = {
	{ "tz", K_CUSTOM, 0, 0, 0, KF_REQUIRED, 0, apply_tz, NULL, NULL, 0 },
	{ "hours", K_CUSTOM, 0, 0, 0, KF_REQUIRED, 0, apply_hours, NULL, NULL,
	    0 },
	{ "holidays", K_CUSTOM, 0, 0, 0, 0, 0, apply_holidays, NULL, NULL, 0 },
};

/*
 * suggest_zone: a zone name near name in the directory its name points
 * into ("Europe/Berln": Europe/Berlin), into out; "" when there is none.
 * Costs one directory read, only on an error.
 */
static void
suggest_zone(const char *name, char *out, size_t cap)
{
	const char *slash = strrchr(name, '/'), *base, *dym;
	char dir[sizeof(TZ_DIR) + TZ_NAME_MAX + 2];
	char **names = NULL;
	struct dirent *de;
	size_t n = 0, i;
	DIR *dp;

	out[0] = '\0';
	base = slash != NULL ? slash + 1 : name;
	snprintf(dir, sizeof(dir), "%s/%.*s", TZ_DIR,
	    slash != NULL ? (int)(slash - name) : 0, name);
	if ((dp = opendir(dir)) == NULL)
		return;
	while (n < ZONE_SUGGEST_MAX && (de = readdir(dp)) != NULL) {
		if (!tz_name_valid(de->d_name))
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(dp);
	if ((dym = did_you_mean(base, (const char *const *)names, n)) != NULL)
		snprintf(out, cap, "%.*s%s", slash != NULL ?
		    (int)(slash - name + 1) : 0, name, dym);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void
apply_tz(struct loader *ld, const struct ynode *key, const struct ynode *v,
    void *target)
{
	struct calendar *c = target;
	char err[512], dym[TZ_NAME_MAX + 1];
	int rc;

	(void)key;
	if (v->type != YN_SCALAR || (!v->quoted && v->len == 0)) {
		cerr(ld, v, "expected a time zone name for 'tz' in calendar "
		    "'%s', found %s", c->name, ynode_type_name(v));
		return;
	}
	if ((rc = calendar_set_tz(c, v->str, err, sizeof(err))) == 0)
		return;
	if (rc == -3) {
		cerr(ld, v, "invalid time zone name '%.*s' in calendar '%s' "
		    "(an IANA name such as Europe/Berlin: letters, digits, "
		    "'_', '+', '-' and '/', not absolute, no '..')",
		    v->len > 64 ? 64 : (int)v->len, v->str, c->name);
		return;
	}
	if (rc == -2) {
		cerr(ld, v, "invalid time zone '%s' in calendar '%s': %s",
		    v->str, c->name, err);
		return;
	}
	suggest_zone(v->str, dym, sizeof(dym));
	if (dym[0] != '\0')
		cerr(ld, v, "unknown time zone '%s' in calendar '%s' (did you "
		    "mean '%s'?): %s", v->str, c->name, dym, err);
	else
		cerr(ld, v, "unknown time zone '%s' in calendar '%s': %s%s",
		    v->str, c->name, err, access(TZ_DIR, F_OK) == 0 ? "" :
		    " (install the tzdata package)");
}

static void
apply_hours(struct loader *ld, const struct ynode *key, const struct ynode *v,
    void *target)
{
	struct calendar *c = target;
	const struct ynode *it;
	char err[256];
	size_t i, n, off;

	(void)key;
	if (v->type == YN_SCALAR && (v->quoted || v->len > 0))
		n = 1;		/* hours: "Mon-Fri 08:00-20:00" */
	else if (v->type == YN_SEQ)
		n = v->nitems;
	else {
		cerr(ld, v, "expected a list for 'hours' in calendar '%s', "
		    "found %s", c->name, ynode_type_name(v));
		return;
	}
	for (i = 0; i < n; i++) {
		it = v->type == YN_SEQ ? v->items[i] : v;
		if (it->type != YN_SCALAR) {
			cerr(ld, it, "expected a string such as \"Mon-Fri "
			    "08:00-20:00\" in 'hours' of calendar '%s', found "
			    "%s", c->name, ynode_type_name(it));
			continue;
		}
		if (calendar_parse_hours(c, it->str, &off, err,
		    sizeof(err)) == 0)
			continue;
		cerr_off(ld, it, off, "invalid hours '%s' in calendar '%s': "
		    "%s", it->str, c->name, err);
		if (strncmp(err, "too many", 8) == 0)
			return;
	}
	if (n == 0)
		cwarn(ld, v, "calendar '%s' has no hours: it is never open",
		    c->name);
}

static void
apply_holidays(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	struct calendar *c = target;
	const struct ynode *it;
	char err[256];
	size_t i;
	int rc;

	(void)key;
	if (v->type == YN_SCALAR && !v->quoted && v->len == 0)
		return;		/* "holidays:" alone: none */
	if (v->type != YN_SEQ) {
		cerr(ld, v, "expected a list of dates for 'holidays' in "
		    "calendar '%s', found %s", c->name, ynode_type_name(v));
		return;
	}
	for (i = 0; i < v->nitems; i++) {
		it = v->items[i];
		if (it->type != YN_SCALAR) {
			cerr(ld, it, "expected a date YYYY-MM-DD in 'holidays' "
			    "of calendar '%s', found %s", c->name,
			    ynode_type_name(it));
			continue;
		}
		if (c->nholidays >= CAL_MAX_HOLIDAYS) {
			cerr(ld, it, "too many holidays in calendar '%s' "
			    "(limit %d)", c->name, CAL_MAX_HOLIDAYS);
			return;
		}
		rc = calendar_parse_holiday(c, it->str, err, sizeof(err));
		if (rc == 1)
			cwarn(ld, it, "holiday %s is listed twice in calendar "
			    "'%s'", it->str, c->name);
		else if (rc == -1)
			cerr(ld, it, "invalid holiday '%.*s' in calendar '%s': "
			    "%s (YYYY-MM-DD, from 1970-01-01 to 9999-12-31)",
			    it->len > 64 ? 64 : (int)it->len, it->str,
			    c->name, err);
	}
}

void
apply_calendars(struct loader *ld, const struct ynode *key,
    const struct ynode *v, void *target)
{
	struct config *cf = ld->cf;
	const struct ynode *k, *val;
	struct calendar *c;
	char ctx[160], what[160];
	size_t i, j;

	(void)key;
	(void)target;
	if (v->type == YN_SCALAR && !v->quoted && v->len == 0)
		return;
	if (!expect_type(ld, v, YN_MAP, "'calendars'"))
		return;
	for (i = 0; i < v->npairs; i++) {
		k = v->pairs[i].key;
		val = v->pairs[i].val;
		if (!valid_name(k->str)) {
			cerr(ld, k, "invalid calendar name '%s' (use lowercase "
			    "letters, digits, '_' and '-')", k->str);
			continue;
		}
		for (j = 0; j < cf->ncalendars; j++)
			if (strcmp(cf->calendars[j]->name, k->str) == 0)
				break;
		if (j < cf->ncalendars) {
			dup_name(ld, k, "calendar", cf->calendars[j]->file,
			    cf->calendars[j]->line, cf->calendars[j]->col);
			continue;
		}
		if (cf->ncalendars >= CAL_MAX_CALENDARS) {
			cerr(ld, k, "too many calendars (limit %d)",
			    CAL_MAX_CALENDARS);
			return;
		}
		snprintf(what, sizeof(what), "calendar '%s'", k->str);
		if (!expect_type(ld, val, YN_MAP, what))
			continue;
		c = calendar_new(k->str);
		c->file = cf->files[ld->cur_file];
		c->line = k->line;
		c->col = k->col;
		snprintf(ctx, sizeof(ctx), " in calendar '%s'", k->str);
		schema_apply(ld, val, cal_keys, ARRAY_LEN(cal_keys), c, ctx, 0);
		calendar_compile(c);
		cf->calendars = xreallocarray(cf->calendars, cf->ncalendars + 1,
		    sizeof(*cf->calendars));
		cf->calendars[cf->ncalendars++] = c;
	}
}

void
calendars_free(struct config *cf)
{
	size_t i;

	for (i = 0; i < cf->ncalendars; i++)
		calendar_free(cf->calendars[i]);
	free(cf->calendars);
	cf->calendars = NULL;
	cf->ncalendars = 0;
}

const struct calendar *
config_calendar(const struct config *cf, const char *name)
{
	size_t i;

	for (i = 0; i < cf->ncalendars; i++)
		if (strcmp(cf->calendars[i]->name, name) == 0)
			return cf->calendars[i];
	return NULL;
}

const struct calendar *
calendar_ref(struct loader *ld, const struct ynode *n, const char *what)
{
	struct config *cf = ld->cf;
	const struct calendar *c;
	const char **names, *dym;
	size_t i;

	if (!expect_type(ld, n, YN_SCALAR, "a calendar name"))
		return NULL;
	if ((c = config_calendar(cf, n->str)) != NULL)
		return c;
	names = xcalloc(cf->ncalendars + 1, sizeof(*names));
	for (i = 0; i < cf->ncalendars; i++)
		names[i] = cf->calendars[i]->name;
	dym = did_you_mean(n->str, names, cf->ncalendars);
	cerr(ld, n, "undefined calendar '%s'%s%s%s%s", n->str, what,
	    dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "");
	free(names);
	return NULL;
}

void
channels_calendars(struct loader *ld)
{
	struct config *cf = ld->cf;
	char what[160];
	size_t i;

	for (i = 0; i < cf->nchannels && i < ld->chan_cal_cap; i++) {
		struct channel *ch = &cf->channels[i];

		if (ld->chan_cal[i] == NULL)
			continue;
		snprintf(what, sizeof(what), " in channel '%s'", ch->name);
		if ((ch->calendar = calendar_ref(ld, ld->chan_cal[i], what)) !=
		    NULL)
			ch->calendar_name = xstrdup(ch->calendar->name);
	}
}
