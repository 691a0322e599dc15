/*
 * cli.h — what recoveryd and recoveryctl share on the command line.
 */
#ifndef RECOVERYD_CLI_H
#define RECOVERYD_CLI_H

#include <stdio.h>

#include "config.h"

/* The version is the top-level VERSION file, which the Makefile passes
 * as -DRECOVERYD_VERSION; the fallback serves only other builds. */
#ifndef RECOVERYD_VERSION
#define RECOVERYD_VERSION	"unknown"
#endif
#define DEFAULT_CONFIG		"/etc/recoveryd/recoveryd.yaml"
#define CHECKOUT_CONFIG		"rules/recoveryd.yaml"
/* What -c defaults to, as usage messages say it. */
#define DEFAULT_CONFIG_HELP \
	"default: $RECOVERYD_CONFIG,\n" \
	"            else " DEFAULT_CONFIG ",\n" \
	"            else ./" CHECKOUT_CONFIG " when that does not exist)"

/*
 * cli_default_config: the configuration file when there is no -c:
 * $RECOVERYD_CONFIG when set and not empty; else DEFAULT_CONFIG; but when
 * DEFAULT_CONFIG does not exist and ./rules/recoveryd.yaml does (the
 * current directory is a checkout), that one.
 */
const char	*cli_default_config(void);

/* Exit codes (README, "Commands"). */
enum { EXIT_OK = 0, EXIT_CHECK = 1, EXIT_USAGE = 2, EXIT_REDIS = 3 };

/*
 * cli_load_config: load path, print every diagnostic (errors and
 * warnings, sorted by file and position) to err. Returns the configuration,
 * or NULL when it has errors. The caller frees it with config_free.
 */
struct config	*cli_load_config(const char *path, FILE *err);

/* cli_load_config_logged: the same, every diagnostic to the log (the
 * daemon's reload path: syslog, and stderr with -f). */
struct config	*cli_load_config_logged(const char *path);

/*
 * cli_check: "recoveryd -t" and "recoveryctl check": load path, print the
 * diagnostics to err and, when clean, "PATH: configuration OK" to out.
 * Returns EXIT_OK or EXIT_CHECK.
 */
int		 cli_check(const char *path, FILE *out, FILE *err);

#endif
