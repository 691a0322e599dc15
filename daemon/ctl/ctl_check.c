/*
 * ctl_check.c — "recoveryctl check [--strict] [FILE...]".
 *
 * Without FILE the -c file is checked. A FILE that the -c file includes
 * (rules.d/new.yaml) is checked as part of it, so the channels and lists
 * the main file defines resolve (cli_check_file); any other FILE as a main
 * file. --strict makes every warning an error: what "make run" and a
 * deploy should use, since a warning is most often a typo that would
 * silently never fire or render.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ctl_offline.h"

int
ctl_check(const char *conffile, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, i, flags = 0, rc = EXIT_OK;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+sh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			flags |= CLI_STRICT;
			break;
		case 'h':
			printf("usage: recoveryctl [-c FILE] check [--strict] "
			    "[FILE...]\n");
			return EXIT_OK;
		default:
			fprintf(stderr, "usage: recoveryctl [-c FILE] check "
			    "[--strict] [FILE...]\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_check_opts(conffile, flags, stdout, stdout);
	for (i = optind; i < argc; i++)
		if (cli_check_file(argv[i], conffile, flags, stdout,
		    stdout) != EXIT_OK)
			rc = EXIT_CHECK;
	return rc;
}
