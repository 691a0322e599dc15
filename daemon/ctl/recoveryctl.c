/*
 * recoveryctl.c — the operator's command-line tool.
 *
 * Offline commands (no Redis needed) run the same core as the daemon:
 *   check [FILE...]   validate configuration and rule files, as recoveryd -t
 *   test FILE...      run rule unit tests (ruletest.c)
 *   replay EVENTS     evaluate past events and print what would have fired,
 *                     with cases and escalation steps (sim.c)
 *
 * Exit codes (README, "Commands"): 0 success, 1 a check or test failed,
 * 2 usage error, 3 cannot reach Redis.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "diag.h"
#include "engine.h"
#include "event.h"
#include "log.h"
#include "ruletest.h"
#include "sim.h"
#include "util.h"

static const char *conffile;

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: recoveryctl [-c FILE] COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  check [FILE...]                 validate configuration and rule files\n"
"                                  (default: the -c file); exit 1 on any error\n"
"  test FILE...                    run rule unit tests (rule_files, tests:\n"
"                                  events, acks, expect; see recoveryctl(1));\n"
"                                  exit 1 on a failure or a broken test file\n"
"  replay [--rules FILE] [--json] EVENTS.jsonl\n"
"                                  evaluate past events (one JSON object a line,\n"
"                                  event time from \"ts\") and print the alerts\n"
"                                  that would have fired, with cases and\n"
"                                  escalation steps; \"-\" reads stdin\n"
"  push [--dry-run] TYPE field=value...\n"
"                                  add one event to the input stream; it is\n"
"                                  validated first as the daemon validates\n"
"                                  it: an invalid one exits 1 with the reason\n"
"                                  and writes nothing; an unknown type is\n"
"                                  taken, with a warning (\"did you mean\n"
"                                  'rating'?\"); --dry-run prints the verdict\n"
"                                  (valid, or invalid and why), writes nothing\n"
"  watch [--json] [CHANNEL...]     print alerts live as they arrive\n"
"  cases [--state open|acknowledged|resolved|reopened|all] [--severity S]\n"
"        [--rule R] [--queue Q] [--agent A] [--owner NAME] [--overdue]\n"
"        [--sort age|severity] [--limit N] [--page N] [--json]\n"
"                                  list cases, newest first (default: open,\n"
"                                  acknowledged and reopened, 50 a page)\n"
"  show CASE [--json]              a case's fields, pending escalation steps\n"
"                                  and history\n"
"  ack CASE [--by NAME] [--note TEXT]\n"
"                                  acknowledge a case: stops its escalation\n"
"  resolve CASE --code CODE [--by NAME] [--note TEXT]\n"
"                                  close a case with a reason code (kept\n"
"                                  31 days for reports)\n"
"  assign CASE (--to NAME | --take) [--by NAME]\n"
"                                  give a case an owner\n"
"  note CASE TEXT [--by NAME]      add a note to a case's history\n"
"  reopen CASE [--by NAME]         reopen a resolved case\n"
"  report [--since DURATION] [--by rule|queue|agent|owner] [--json]\n"
"                                  whether recovery works: cases, time to\n"
"                                  acknowledge, contact, resolve, reason\n"
"                                  codes, outcomes, CSAT/NPS before/after\n"
"                                  (ack ... reopen: the running daemon\n"
"                                  applies them and answers, within\n"
"                                  --wait SECONDS, default 5; --by\n"
"                                  defaults to the login name)\n"
"  silence add (--rule R | --queue Q | --agent A | --customer K)...\n"
"          --for DURATION --reason TEXT [--by NAME]\n"
"                                  hold back matching firings for a while\n"
"                                  (decided, not delivered, no case); every\n"
"                                  daemon applies it within a second\n"
"  silence list [--json]           silences: matchers, ends in, count\n"
"  silence expire ID               end a silence now\n"
"  stats [--json]                  what the running daemons report: events,\n"
"                                  matches, alerts, lag, open cases\n"
"  dead [list] [--limit N] [--json]\n"
"                                  dead letters (input.dead_letter), oldest\n"
"                                  first: ID, time, reason, error, fields\n"
"  dead show ID [--json]           one dead letter, every field\n"
"  dead retry (ID... | --all) [--force]\n"
"                                  send dead letters again to the input\n"
"                                  stream (each removed only once it is\n"
"                                  back); one still invalid is skipped\n"
"                                  unless --force; exit 1 if any was not sent\n"
"  undelivered [list] [--limit N] [--json]\n"
"                                  alerts that failed for good: channel,\n"
"                                  alert ID, attempts, error, alert\n"
"  undelivered show ID [--json]    one of them, every field\n"
"  undelivered retry (ID... | --all)\n"
"                                  deliver them again through the outbox,\n"
"                                  with the channel's retries\n"
"\n"
"Options:\n"
"  -c FILE   main configuration file (" DEFAULT_CONFIG_HELP "\n"
"  -h, --help     this help\n"
"  -V, --version  print the version\n"
"\n"
"Each command's own options: recoveryctl COMMAND --help.\n"
"\n"
"Exit codes: 0 success, 1 a check or test failed, 2 usage error,\n"
"3 cannot reach Redis.\n");
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

/* --- test -------------------------------------------------------------- */

static int
cmd_test(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: recoveryctl test FILE...\n");
		return EXIT_OK;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: recoveryctl test FILE...\n");
		return EXIT_USAGE;
	}
	return ruletest_run(argv + 1, (size_t)(argc - 1), stdout);
}

/* --- replay ------------------------------------------------------------ */

/*
 * Replay runs the events of a file through the simulator (sim.h) with the
 * virtual clock at each event's time, so windows, aggregates, "after",
 * cooldowns and cases behave as in the daemon, and escalation steps come
 * out when they fall due: between events, and after the last one up to
 * the longest escalation delay of the configuration.
 */
struct replay {
	bool			 json;
	size_t			 events, invalid;
	struct sim		*sim;
	struct evt		 ev;
};

static void
replay_print(struct replay *rp)
{
	const struct alert *a;
	size_t i;

	for (i = 0; i < rp->sim->nalerts; i++) {
		a = &rp->sim->alerts[i];
		if (rp->json) {
			printf("%s\n", a->json);
			continue;
		}
		printf("%s  %-8s  %-24s  %-12s  %-18s  %d  %-12s  %s",
		    a->fired_at, severity_name(a->severity), a->rule->name,
		    rp->sim->customers[i][0] ? rp->sim->customers[i] : "-",
		    a->case_id[0] ? a->case_id : "-", a->step,
		    a->channel->name, a->message);
		if (a->deliver_ms > (int64_t)llround(a->fired_ts * 1000.0)) {
			char when[40];

			format_rfc3339((double)a->deliver_ms / 1000.0, when,
			    sizeof(when));
			printf("  (waits for its calendar until %s)", when);
		}
		printf("\n");
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
	int64_t t_ms, last_ms = 0;
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

	rp.sim = sim_new(cf);
	evt_init(&rp.ev);
	/* History has no past bound; a ts past now + max_future_skew is a
	 * mistake (milliseconds, a year 9999) and an invalid line. */
	evt_set_clock(&rp.ev, cf->max_future_skew_ms, 0, now_wall(),
	    "the current time");
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
		t_ms = (int64_t)llround(rp.ev.ts * 1000.0);
		if (t_ms > last_ms)
			last_ms = t_ms;
		sim_event(rp.sim, &rp.ev, t_ms);
		replay_print(&rp);
	}
	if (ferror(fp))
		fprintf(stderr, "recoveryctl: %s: %s\n", path, strerror(errno));
	/* Cases opened near the end still escalate: run the clock on. */
	if (rp.events > 0) {
		sim_advance(rp.sim, last_ms + sim_longest_step(cf));
		replay_print(&rp);
	}
	sim_finish(rp.sim);
	fprintf(stderr, "replay: %zu events, %zu invalid, %zu firings, "
	    "%zu cases, %zu escalation steps, %zu alerts\n", rp.events,
	    rp.invalid, rp.sim->nfires, rp.sim->ncases, rp.sim->nsteps,
	    rp.sim->total_alerts);
	free(line);
	if (fp != stdin)
		fclose(fp);
	sim_free(rp.sim);
	evt_free(&rp.ev);
	config_free(cf);
	return EXIT_OK;
}

/*
 * Commands that need the running system: load what they need of the
 * configuration (redis.url, input.stream, state.prefix, the stream
 * channels), then talk to Redis. Only the redis section and those key
 * names must be valid (config_load_redis): during a bad deploy of the
 * rules, cases can still be acknowledged; rule errors are check's
 * business. An error in what they need is printed as FILE:LINE:COL and
 * exits 1.
 */
static int
with_config(int (*fn)(const struct config *, int, char **), int argc,
    char **argv)
{
	struct diags d;
	struct config *cf;
	int rc;

	diags_init(&d);
	cf = config_load_redis(conffile, &d);
	diags_print(&d, stderr);
	diags_free(&d);
	if (cf == NULL)
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

static int
cmd_cases(int argc, char **argv)
{
	return with_config(ctl_cases, argc, argv);
}

static int
cmd_show(int argc, char **argv)
{
	return with_config(ctl_show, argc, argv);
}

static int
cmd_ack(int argc, char **argv)
{
	return with_config(ctl_ack, argc, argv);
}

static int
cmd_resolve(int argc, char **argv)
{
	return with_config(ctl_resolve, argc, argv);
}

static int
cmd_assign(int argc, char **argv)
{
	return with_config(ctl_assign, argc, argv);
}

static int
cmd_note(int argc, char **argv)
{
	return with_config(ctl_note, argc, argv);
}

static int
cmd_reopen(int argc, char **argv)
{
	return with_config(ctl_reopen, argc, argv);
}

static int
cmd_report(int argc, char **argv)
{
	return with_config(ctl_report, argc, argv);
}

static int
cmd_silence(int argc, char **argv)
{
	return with_config(ctl_silence, argc, argv);
}

static int
cmd_stats(int argc, char **argv)
{
	return with_config(ctl_stats, argc, argv);
}

static int
cmd_dead(int argc, char **argv)
{
	return with_config(ctl_dead, argc, argv);
}

static int
cmd_undelivered(int argc, char **argv)
{
	return with_config(ctl_undelivered, argc, argv);
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} commands[] = {
	{ "check", cmd_check },
	{ "test", cmd_test },
	{ "replay", cmd_replay },
	{ "push", cmd_push },
	{ "watch", cmd_watch },
	{ "cases", cmd_cases },
	{ "show", cmd_show },
	{ "ack", cmd_ack },
	{ "resolve", cmd_resolve },
	{ "assign", cmd_assign },
	{ "note", cmd_note },
	{ "reopen", cmd_reopen },
	{ "report", cmd_report },
	{ "silence", cmd_silence },
	{ "stats", cmd_stats },
	{ "dead", cmd_dead },
	{ "undelivered", cmd_undelivered },
};

int
main(int argc, char **argv)
{
	size_t i;
	int ch;

	log_init("recoveryctl", 1, 0, 0);
	conffile = cli_default_config();
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	/* "+" stops at the command: its own options are its business. */
	while ((ch = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
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
