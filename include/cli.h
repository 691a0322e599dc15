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

/* Flags of cli_load and cli_check_opts. */
#define CLI_STRICT	0x01	/* warnings are errors (check --strict) */
#define CLI_NO_PROGRAMS	0x02	/* do not check exec programs (test,
				 * replay, explain: nothing runs) */

/*
 * cli_load: load path, print every diagnostic (errors and warnings,
 * sorted by file and position) to err. Returns the configuration, or
 * NULL when it has errors (with CLI_STRICT: or warnings). Unless
 * CLI_NO_PROGRAMS, each exec channel's argv[0] must be an existing
 * executable file (cli_program_check). The caller frees the result
 * with config_free. cli_load_config is cli_load(path, 0, err).
 */
struct config	*cli_load(const char *path, int flags, FILE *err);
struct config	*cli_load_config(const char *path, FILE *err);
/* cli_program_check: 0 when path is a regular file this user may
 * execute, else -1 with the reason in err (config_opts.program_check). */
int		 cli_program_check(const char *path, char *err, size_t errlen);

/* cli_load_config_logged: the same, every diagnostic to the log (the
 * daemon's reload path: syslog, and stderr with -f). */
struct config	*cli_load_config_logged(const char *path);

/*
 * cli_check: "recoveryd -t" and "recoveryctl check": load path, print the
 * diagnostics to err and, when clean, "PATH: configuration OK" to out.
 * Returns EXIT_OK or EXIT_CHECK.
 */
int		 cli_check(const char *path, FILE *out, FILE *err);
/* cli_check_opts: the same with flags (CLI_STRICT: a warning fails the
 * check, with a line saying so). */
int		 cli_check_opts(const char *path, int flags, FILE *out,
		    FILE *err);
/*
 * cli_check_file: "recoveryctl check FILE": a FILE that the main file
 * (the -c file) includes is checked as part of it — what the main file
 * defines resolves — and only FILE's own diagnostics are printed, then
 * "FILE: configuration OK (checked as part of MAIN: ...)"; an error in
 * another file fails it with a line saying where. Any other FILE is
 * checked as a main file (cli_check_opts).
 */
int		 cli_check_file(const char *path, const char *main, int flags,
		    FILE *out, FILE *err);

#endif
