/*
 * cli.c — configuration checking shared by "recoveryd -t" and
 * "recoveryctl check", so both print exactly the same thing.
 */
#include <stdio.h>
#include <stdlib.h>
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

struct config *
cli_load_config(const char *path, FILE *err)
{
	struct diags d;
	struct config *cf;

	diags_init(&d);
	cf = config_load(path, &d);
	diags_print(&d, err);
	if (cf != NULL && d.errors > 0) {
		config_free(cf);
		cf = NULL;
	}
	diags_free(&d);
	return cf;
}

struct config *
cli_load_config_logged(const char *path)
{
	struct diags d;
	struct config *cf;
	char line[1400];
	size_t i;

	diags_init(&d);
	cf = config_load(path, &d);
	for (i = 0; i < d.n; i++) {
		diag_format(&d.v[i], line, sizeof(line));
		log_warnx("%s", line);
	}
	if (cf != NULL && d.errors > 0) {
		config_free(cf);
		cf = NULL;
	}
	diags_free(&d);
	return cf;
}

int
cli_check(const char *path, FILE *out, FILE *err)
{
	struct config *cf = cli_load_config(path, err);

	if (cf == NULL)
		return EXIT_CHECK;
	fprintf(out, "%s: configuration OK (%zu rules, %zu channels, "
	    "%zu files)\n", path, cf->nrules, cf->nchannels, cf->nfiles);
	config_free(cf);
	return EXIT_OK;
}
