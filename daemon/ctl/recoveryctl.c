/*
 * recoveryctl.c — the operator's command-line tool.
 *
 * Offline commands (no Redis needed) run the same core as the daemon:
 *   check [FILE...]   validate configuration and rule files, as recoveryd -t
 *   test FILE...      run rule unit tests (ruletest.c)
 *   replay EVENTS     evaluate past events and print what would have fired,
 *                     with cases and escalation steps (ctl_replay.c, sim.c)
 *   explain EVENT     why each rule fired or not (ctl_replay.c, explain.c)
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
#include "ctl_offline.h"
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
"  check [--strict] [FILE...]      validate configuration and rule files\n"
"                                  (default: the -c file; a file the -c file\n"
"                                  includes is checked as part of it); exit 1\n"
"                                  on any error, with --strict on any warning\n"
"  test [--explain] FILE...        run rule unit tests (rule_files, tests:\n"
"                                  events, acks, expect; \"rules: [R...]\"\n"
"                                  compares only those rules' alerts); exit 1\n"
"                                  on a failure or a broken test file;\n"
"                                  --explain: why, for each failing test\n"
"  replay [--rules FILE] [--against OLD.yaml] [--json]\n"
"         (EVENTS.jsonl | - | --from-stream [--since DURATION])\n"
"                                  evaluate past events (one JSON object a line,\n"
"                                  event time from \"ts\"; or the input stream\n"
"                                  from DURATION ago, default 24h) and print the\n"
"                                  alerts that would have fired, with cases and\n"
"                                  escalation steps; --against: only the alerts\n"
"                                  the rules add (+) and remove (-) compared\n"
"                                  with OLD.yaml; warns of events out of order\n"
"  explain [--rules FILE] [--json] (EVENT.json | --customer K EVENTS.jsonl)\n"
"                                  why each rule fired or not for the event (or\n"
"                                  each event of customer K): the false part of\n"
"                                  \"if\" with the values, count or samples\n"
"                                  against the threshold, cooldown left, silence\n"
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
"  user add|passwd|remove|list NAME [--role viewer|supervisor|admin]\n"
"  user token add|list|revoke ...  the console's users (console.users_file)\n"
"                                  and API tokens; the password is read\n"
"                                  from the terminal, or stdin\n"
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
	return ctl_check(conffile, argc, argv);
}

/* --- test -------------------------------------------------------------- */

static int
cmd_test(int argc, char **argv)
{
	bool explain = false;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		printf("usage: recoveryctl test [--explain] FILE...\n");
		return EXIT_OK;
	}
	if (argc > 1 && strcmp(argv[1], "--explain") == 0) {
		explain = true;
		argc--;
		argv++;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: recoveryctl test [--explain] FILE...\n");
		return EXIT_USAGE;
	}
	return ruletest_run_opts(argv + 1, (size_t)(argc - 1), explain,
	    stdout);
}

/* --- replay, explain (ctl_replay.c) -------------------------------------- */

static int
cmd_replay(int argc, char **argv)
{
	return ctl_replay(conffile, argc, argv);
}

static int
cmd_explain(int argc, char **argv)
{
	return ctl_explain(conffile, argc, argv);
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
cmd_user(int argc, char **argv)
{
	return with_config(ctl_user, argc, argv);
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
	{ "explain", cmd_explain },
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
	{ "user", cmd_user },
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
