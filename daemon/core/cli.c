/*
 * cli.c — configuration checking shared by "recoveryd -t" and
 * "recoveryctl check", so both print exactly the same thing.
 *
 * This is the shell's side of loading: it prints, and it asks the file
 * system what the pure loader must not (cli_program_check: can an exec
 * channel's program run at all).
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "diag.h"
#include "log.h"

const char *
cli_default_config(void)
{
	const char *env = getenv("RECOVERYD_CONFIG");

	if (env != NULL && env[0] != '\0')
		return env;
	/* In a checkout nothing is installed yet: its example, so that
	 * commands there need no -c. An installed configuration always
	 * wins. */
	if (access(DEFAULT_CONFIG, F_OK) == -1 &&
	    access(CHECKOUT_CONFIG, R_OK) == 0)
		return CHECKOUT_CONFIG;
	return DEFAULT_CONFIG;
}

/*
 * cli_program_check: argv[0] is absolute (the loader makes sure); it must
 * be a regular file this user may execute. A program installed after the
 * check still runs: this only moves the common mistake (a typo, a tool
 * not yet installed) from the first page at night to the deploy.
 */
int
cli_program_check(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "program '%s' %s", path, errno == ENOENT ?
		    "does not exist" : strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "program '%s' is not a regular file",
		    path);
		return -1;
	}
	if (access(path, X_OK) == -1) {
		snprintf(err, errlen, "program '%s' is not executable (%s)",
		    path, strerror(errno));
		return -1;
	}
	return 0;
}

static struct config *
load(const char *path, int flags, struct diags *d, struct config_opts *o)
{
	struct config *cf;

	o->program_check = (flags & CLI_NO_PROGRAMS) ? NULL :
	    cli_program_check;
	cf = config_load_opts(path, d, o);
	if (cf != NULL && (d->errors > 0 || ((flags & CLI_STRICT) &&
	    d->warnings > 0))) {
		config_free(cf);
		cf = NULL;
	}
	return cf;
}

struct config *
cli_load(const char *path, int flags, FILE *err)
{
	struct config_opts o;
	struct diags d;
	struct config *cf;

	memset(&o, 0, sizeof(o));
	diags_init(&d);
	cf = load(path, flags, &d, &o);
	diags_print(&d, err);
	diags_free(&d);
	config_opts_release(&o);
	return cf;
}

struct config *
cli_load_config(const char *path, FILE *err)
{
	return cli_load(path, 0, err);
}

struct config *
cli_load_config_logged(const char *path)
{
	struct config_opts o;
	struct diags d;
	struct config *cf;
	char line[1400];
	size_t i;

	memset(&o, 0, sizeof(o));
	diags_init(&d);
	cf = load(path, 0, &d, &o);
	for (i = 0; i < d.n; i++) {
		diag_format(&d.v[i], line, sizeof(line));
		log_warnx("%s", line);
	}
	diags_free(&d);
	config_opts_release(&o);
	return cf;
}

int
cli_check_opts(const char *path, int flags, FILE *out, FILE *err)
{
	struct config_opts o;
	struct diags d;
	struct config *cf;
	int rc = EXIT_OK;

	memset(&o, 0, sizeof(o));
	diags_init(&d);
	cf = load(path, flags, &d, &o);
	diags_print(&d, err);
	if (cf != NULL)
		fprintf(out, "%s: configuration OK (%zu rules, %zu channels, "
		    "%zu files)\n", path, cf->nrules, cf->nchannels,
		    cf->nfiles);
	else {
		if (d.errors == 0 && d.warnings > 0)
			fprintf(err, "%s: %zu warning%s, errors with "
			    "--strict\n", path, d.warnings,
			    d.warnings == 1 ? "" : "s");
		rc = EXIT_CHECK;
	}
	config_free(cf);
	diags_free(&d);
	config_opts_release(&o);
	return rc;
}

int
cli_check(const char *path, FILE *out, FILE *err)
{
	return cli_check_opts(path, 0, out, err);
}

static bool
same_file(const char *a, const char *real_b)
{
	char ra[PATH_MAX];

	return realpath(a, ra) != NULL && strcmp(ra, real_b) == 0;
}

/*
 * cli_check_file: a file that main includes is checked as part of main,
 * so that what main defines (channels, lists, calendars, rules for
 * "after") resolves; only its own diagnostics are printed. Any other file
 * is checked on its own, as a main file.
 */
int
cli_check_file(const char *path, const char *main, int flags, FILE *out,
    FILE *err)
{
	struct config_opts o;
	struct diags d;
	struct config *cf;
	char real[PATH_MAX], line[1400];
	size_t i, inc, errs = 0, warns = 0, other = 0;

	if (main == NULL || realpath(path, real) == NULL ||
	    same_file(main, real) || access(main, R_OK) == -1)
		return cli_check_opts(path, flags, out, err);
	memset(&o, 0, sizeof(o));
	diags_init(&d);
	o.program_check = (flags & CLI_NO_PROGRAMS) ? NULL :
	    cli_program_check;
	cf = config_load_opts(main, &d, &o);
	for (inc = 1; inc < o.nfiles; inc++)
		if (same_file(o.files[inc], real))
			break;
	if (inc >= o.nfiles) {
		config_free(cf);
		diags_free(&d);
		config_opts_release(&o);
		return cli_check_opts(path, flags, out, err);
	}
	for (i = 0; i < d.n; i++) {
		if (!same_file(d.v[i].file, real)) {
			if (d.v[i].level == DIAG_ERROR)
				other++;
			continue;
		}
		diag_format(&d.v[i], line, sizeof(line));
		fprintf(err, "%s\n", line);
		if (d.v[i].level == DIAG_ERROR)
			errs++;
		else
			warns++;
	}
	if (other > 0)
		fprintf(err, "%s: %zu error%s in other files of %s (recoveryctl "
		    "-c %s check lists them)\n", path, other, other == 1 ? "" :
		    "s", main, main);
	else if (errs == 0 && warns > 0 && (flags & CLI_STRICT))
		fprintf(err, "%s: %zu warning%s, errors with --strict\n", path,
		    warns, warns == 1 ? "" : "s");
	else if (errs == 0 && cf != NULL)
		fprintf(out, "%s: configuration OK (checked as part of %s: "
		    "%zu rules, %zu channels, %zu files)\n", path, main,
		    cf->nrules, cf->nchannels, cf->nfiles);
	config_free(cf);
	diags_free(&d);
	config_opts_release(&o);
	if (errs > 0 || other > 0 || (warns > 0 && (flags & CLI_STRICT)))
		return EXIT_CHECK;
	return EXIT_OK;
}
