/*
 * recoveryctl.c — the operator's command-line tool.
 *
 * Offline commands (no Redis needed) run the same core as the daemon:
 *   check [FILE...]   validate configuration and rule files, as recoveryd -t
 *   replay EVENTS     evaluate past events and print what would have fired
 *
 * Exit codes (SPEC section 5): 0 success, 1 a check or test failed,
 * 2 usage error, 3 cannot reach Redis.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "engine.h"
#include "event.h"
#include "log.h"
#include "util.h"

static const char *conffile = DEFAULT_CONFIG;

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: recoveryctl [-c FILE] COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  check [FILE...]                 validate configuration and rule files\n"
"                                  (default: the -c file); exit 1 on any error\n"
"  replay [--rules FILE] [--json] EVENTS.jsonl\n"
"                                  evaluate past events (one JSON object a line,\n"
"                                  event time from \"ts\") and print the alerts\n"
"                                  that would have fired; \"-\" reads stdin\n"
"  push TYPE field=value...        add one event to the input stream\n"
"  watch [--json] [CHANNEL...]     print alerts live as they arrive\n"
"\n"
"Options:\n"
"  -c FILE   main configuration file (default %s)\n"
"  -h        this help\n"
"  -V        print the version\n"
"\n"
"Exit codes: 0 success, 1 a check or test failed, 2 usage error,\n"
"3 cannot reach Redis.\n", DEFAULT_CONFIG);
}

static int
cmd_check(int argc, char **argv)
{
	int i, rc = EXIT_OK;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: recoveryctl [-c FILE] check [FILE...]\n");
		return EXIT_OK;
	}
	if (argc <= 1)
		return cli_check(conffile, stdout, stdout);
	for (i = 1; i < argc; i++)
		if (cli_check(argv[i], stdout, stdout) != EXIT_OK)
			rc = EXIT_CHECK;
	return rc;
}

/* --- replay ------------------------------------------------------------ */

struct replay {
	const struct config	*cf;
	bool			 json;
	size_t			 events, invalid, fires, alerts;
	size_t			 skipped_stateful;
	struct evt		 ev;
	struct arena		 arena;
	struct buf		 scratch;
	struct alert		*av;
	size_t			 nav, capav;
	struct fire		*fires_buf;
	size_t			 maxfires;
};

static void
replay_print(struct replay *rp, const struct alert *a, const char *customer)
{
	if (rp->json) {
		printf("%s\n", a->json);
		return;
	}
	printf("%s  %-8s  %-24s  %-12s  %-12s  %s\n", a->fired_at,
	    severity_name(a->severity), a->rule->name,
	    customer[0] ? customer : "-", a->channel->name, a->message);
}

static void
replay_event(struct replay *rp)
{
	const struct value *cust;
	struct case_ref cr;
	bool overflow;
	size_t i, j, n;

	n = engine_match(rp->cf, &rp->ev, rp->fires_buf, rp->maxfires,
	    &overflow);
	cust = evt_get(&rp->ev, "customer_id");
	for (i = 0; i < n; i++) {
		const struct fire *f = &rp->fires_buf[i];

		/* Windows, aggregates and correlation need the state store. */
		if (engine_rule_is_stateful(f->rule)) {
			rp->skipped_stateful++;
			continue;
		}
		rp->fires++;
		memset(&cr, 0, sizeof(cr));
		cr.severity = f->severity;
		rp->nav = 0;
		engine_render(rp->cf, &rp->ev, f, &cr, 0, rp->ev.ts,
		    &rp->arena, &rp->scratch, &rp->av, &rp->nav, &rp->capav);
		for (j = 0; j < rp->nav; j++) {
			replay_print(rp, &rp->av[j],
			    cust && cust->kind == V_STR ? cust->s : "");
			rp->alerts++;
		}
	}
}

static int
cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct replay rp;
	const char *rules = conffile, *path;
	struct config *cf;
	FILE *fp;
	char *line = NULL, err[512], id[EVENT_ID_MAX];
	size_t cap = 0, lineno = 0, i;
	ssize_t len;
	double last_ts = 0;
	int ch;

	memset(&rp, 0, sizeof(rp));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			rules = optarg;
			break;
		case 'j':
			rp.json = true;
			break;
		case 'h':
			printf("usage: recoveryctl [-c FILE] replay "
			    "[--rules FILE] [--json] EVENTS.jsonl\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: recoveryctl [-c FILE] replay "
		    "[--rules FILE] [--json] EVENTS.jsonl\n");
		return EXIT_USAGE;
	}
	path = argv[optind];
	if ((cf = cli_load_config(rules, stderr)) == NULL)
		return EXIT_CHECK;
	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "recoveryctl: %s: %s\n", path, strerror(errno));
		config_free(cf);
		return EXIT_USAGE;
	}

	rp.cf = cf;
	evt_init(&rp.ev);
	arena_init(&rp.arena);
	buf_init(&rp.scratch);
	rp.maxfires = cf->nrules ? cf->nrules : 1;
	rp.fires_buf = xcalloc(rp.maxfires, sizeof(*rp.fires_buf));

	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		for (i = 0; i < (size_t)len && (line[i] == ' ' ||
		    line[i] == '\t'); i++)
			;
		if (i == (size_t)len || line[i] == '#')
			continue;
		snprintf(id, sizeof(id), "line:%zu", lineno);
		evt_reset(&rp.ev);
		arena_reset(&rp.arena);
		/* An event without "ts" happens when the previous one did. */
		if (evt_from_json(&rp.ev, id, line, (size_t)len, last_ts,
		    err, sizeof(err)) != EVERR_NONE) {
			fprintf(stderr, "%s:%zu: invalid event: %s\n", path,
			    lineno, err);
			rp.invalid++;
			continue;
		}
		last_ts = rp.ev.ts;
		rp.events++;
		replay_event(&rp);
	}
	if (ferror(fp))
		fprintf(stderr, "recoveryctl: %s: %s\n", path, strerror(errno));
	fprintf(stderr, "replay: %zu events, %zu invalid, %zu firings, "
	    "%zu alerts\n", rp.events, rp.invalid, rp.fires, rp.alerts);
	if (rp.skipped_stateful > 0)
		fprintf(stderr, "replay: %zu matches of stateful rules "
		    "(count, aggregate, after) not evaluated: their state "
		    "store is not part of this version\n",
		    rp.skipped_stateful);
	free(line);
	if (fp != stdin)
		fclose(fp);
	free(rp.fires_buf);
	free(rp.av);
	buf_free(&rp.scratch);
	arena_free(&rp.arena);
	evt_free(&rp.ev);
	config_free(cf);
	return EXIT_OK;
}

/* Commands that need the running system: load the configuration (for
 * redis.url and key names), then talk to Redis. */
static int
with_config(int (*fn)(const struct config *, int, char **), int argc,
    char **argv)
{
	struct config *cf;
	int rc;

	if ((cf = cli_load_config(conffile, stderr)) == NULL)
		return EXIT_CHECK;
	rc = fn(cf, argc, argv);
	config_free(cf);
	return rc;
}

static int
cmd_push(int argc, char **argv)
{
	return with_config(ctl_push, argc, argv);
}

static int
cmd_watch(int argc, char **argv)
{
	return with_config(ctl_watch, argc, argv);
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} commands[] = {
	{ "check", cmd_check },
	{ "replay", cmd_replay },
	{ "push", cmd_push },
	{ "watch", cmd_watch },
};

int
main(int argc, char **argv)
{
	size_t i;
	int ch;

	log_init("recoveryctl", 1, 0, 0);
	/* "+" stops at the command: its own options are its business. */
	while ((ch = getopt(argc, argv, "+c:hV")) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("recoveryctl %s\n", RECOVERYD_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < ARRAY_LEN(commands); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(argc, argv);
	fprintf(stderr, "recoveryctl: unknown command '%s'\n\n", argv[0]);
	usage(stderr);
	return EXIT_USAGE;
}
