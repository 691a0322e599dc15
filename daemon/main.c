/*
 * main.c — recoveryd: options, configuration check, process life.
 *
 *   recoveryd [-c FILE] [-f] [-t] [-v]
 *
 * -t loads the configuration and every included rule file, prints every
 * error as FILE:LINE:COL: message and exits 0 (clean) or 1, like relayd -n.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "log.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: recoveryd [-c FILE] [-f] [-t] [-v]\n"
"\n"
"  -c FILE   main configuration file (default %s)\n"
"  -f        stay in the foreground and also log to stderr\n"
"  -t        check the configuration and rule files, print every error,\n"
"            exit 0 if they are valid, 1 if not\n"
"  -v        more logging (repeat for debug)\n"
"  -h        this help;  -V  print the version\n"
"\n"
"Signals: SIGHUP reloads all files atomically (a broken file keeps the\n"
"running rules); SIGTERM/SIGINT finish in-flight work and exit 0.\n",
	    DEFAULT_CONFIG);
}

int
main(int argc, char **argv)
{
	const char *conffile = DEFAULT_CONFIG;
	int ch, foreground = 0, checkonly = 0, verbose = 0;
	struct config *cf;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	while ((ch = getopt_long(argc, argv, "c:ftvhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			checkonly = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("recoveryd %s\n", RECOVERYD_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}

	if (checkonly) {
		log_init("recoveryd", 1, 0, verbose);
		return cli_check(conffile, stdout, stderr);
	}

	log_init("recoveryd", foreground, 1, verbose);
	if ((cf = cli_load_config(conffile, stderr)) == NULL)
		fatalx("%s: configuration has errors, not starting", conffile);
	/* The event loop arrives with the daemon issue (Redis consumer). */
	log_warnx("%s: configuration OK; the Redis consumer is not part of "
	    "this build yet", conffile);
	config_free(cf);
	return EXIT_CHECK;
}
