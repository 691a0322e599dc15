/*
 * main.c — recoveryd: options, configuration, the event loop, signals and
 * orderly shutdown, in one place (as relayd does).
 *
 *   recoveryd [-c FILE] [-f] [-t] [-v]
 *
 * -t loads the configuration and every included rule file, prints every
 * error as FILE:LINE:COL: message and exits 0 (clean) or 1.
 *
 * Signals are libevent events, never raw handlers: SIGHUP reloads every
 * file into a new configuration and swaps it in between two batches only if
 * it loaded without error, with the running values of the settings read
 * only at start (config_keep_restart); SIGTERM/SIGINT stop reading, let
 * the batch in flight commit and ack, and exit 0. Under systemd
 * (Type=notify) the daemon reports READY, RELOADING, STOPPING and pings
 * the watchdog.
 *
 * Secrets: the programs of exec channels run as our user. Before anything
 * else the daemon makes itself non-dumpable (no ptrace, no
 * /proc/PID/mem or environ for them, no core dump holding a password) and
 * seals its environment (secret.h): Redis credentials and the ${NAME}s of
 * webhooks are resolved from a private snapshot, at start and at every
 * reload, and the block /proc/PID/environ shows is wiped.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli.h"
#include "config.h"
#include "consumer.h"
#include "http.h"
#include "intake.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "outbox.h"
#include "secret.h"
#include "stats.h"

struct recoveryd {
	struct event_base	*base;
	const char		*conffile;
	struct config		*cf;		/* the newest good configuration */
	struct consumer		*consumer;
	struct outbox		*outbox;
	struct stats		 stats;
	struct metrics_info	 info;		/* read by /metrics at request time */
	char			 restart_pending[256]; /* info.restart_pending */
	struct http		*http;		/* NULL: http.listen is "" */
	struct intake		*intake;	/* NULL: intake.listen is "" */
	struct event		*ev_hup, *ev_term, *ev_int, *ev_wdog;
	int			 stopping;
	int			 running;	/* consumer, outbox: until stopped */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: recoveryd [-c FILE] [-f] [-t [--strict]] [-v]\n"
"\n"
"  -c FILE   main configuration file (" DEFAULT_CONFIG_HELP "\n"
"  -f        stay in the foreground and also log to stderr\n"
"  -t        check the configuration and rule files, print every error,\n"
"            exit 0 if they are valid, 1 if not; with --strict a\n"
"            warning (an unknown field, an unused channel) is an error\n"
"  -v        more logging (debug)\n"
"  -h, --help     this help\n"
"  -V, --version  print the version\n"
"\n"
"recoveryd reads events from a Redis stream through a consumer group,\n"
"evaluates the recovery rules and writes alerts and cases to Redis.\n"
"With intake.listen set it also takes events over HTTP (POST /v1/events,\n"
"Bearer tokens from intake.tokens_file), validated as stream entries.\n"
"Logs go to syslog (facility daemon); with -f also to stderr.\n"
"\n"
"Signals: SIGHUP reloads all files atomically (a broken file keeps the\n"
"running rules and logs every error); SIGTERM/SIGINT finish the batch in\n"
"flight, ack it and exit 0.\n");
}

static void
release_config(struct config *cf)
{
	config_free(cf);
}

/* on_stopped: the consumer or the outbox has stopped; exit after both. */
static void
on_stopped(void *arg)
{
	struct recoveryd *d = arg;

	if (--d->running == 0)
		event_base_loopexit(d->base, NULL);
}

/* outbox_config: the outbox reads the consumer's running configuration. */
static const struct config *
outbox_config(void *arg)
{
	return consumer_config(arg);
}

static void
on_term(evutil_socket_t sig, short ev, void *arg)
{
	struct recoveryd *d = arg;

	(void)ev;
	if (d->stopping++) {
		log_warnx("second signal %d: exiting now; entries in flight "
		    "stay pending", (int)sig);
		event_base_loopbreak(d->base);
		return;
	}
	log_info("signal %d: finishing the batch in flight, then exiting",
	    (int)sig);
	notify_send("STOPPING=1");
	d->running = 2;
	consumer_stop(d->consumer, on_stopped, d);
	outbox_stop(d->outbox, on_stopped, d);
}

static void
on_hup(evutil_socket_t sig, short ev, void *arg)
{
	struct recoveryd *d = arg;
	struct config *cf;

	(void)sig;
	(void)ev;
	notify_send("RELOADING=1");
	log_info("SIGHUP: reloading %s", d->conffile);
	if ((cf = cli_load_config_logged(d->conffile)) == NULL) {
		d->stats.reloads_failed++;
		log_warnx("reload failed: %s has errors (above); keeping the "
		    "running rules", d->conffile);
		notify_send("READY=1\nSTATUS=reload failed, running the "
		    "previous rules");
		return;
	}
	/* Settings read only at start keep their running values: switching
	 * input.group now would read the stream's history again and send
	 * every old alert a second time. */
	if (config_keep_restart(cf, d->cf, d->restart_pending,
	    sizeof(d->restart_pending)) > 0)
		log_warnx("reload: %s changed; running with the old value "
		    "until the next restart", d->restart_pending);
	d->stats.reloads_ok++;
	secret_hide_config(cf);
	d->cf = cf;
	d->info.nrules = cf->nrules;
	consumer_set_config(d->consumer, cf);
	if (d->intake != NULL) {
		char err[512];

		if (intake_reload(d->intake, cf, err, sizeof(err)) == -1)
			log_warnx("reload: %s; keeping the intake's tokens in "
			    "use", err);
		else
			log_info("reload: intake: %zu tokens",
			    intake_ntokens(d->intake));
	}
	log_info("reload: %zu rules, %zu channels", cf->nrules,
	    cf->nchannels);
	notify_send("READY=1\nSTATUS=running");
}

static void
on_watchdog(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	notify_send("WATCHDOG=1");
}

/* health: for /healthz; the rules are loaded whenever the daemon runs. */
static const char *
health(void *arg)
{
	struct recoveryd *d = arg;

	return consumer_health(d->consumer);
}

static void
consumer_name(const struct config *cf, char *out, size_t cap)
{
	char host[HOST_NAME_MAX + 1];

	if (cf->input_consumer != NULL && cf->input_consumer[0] != '\0') {
		snprintf(out, cap, "%s", cf->input_consumer);
		return;
	}
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(out, cap, "%s:%ld", host, (long)getpid());
}

static int
run(const char *conffile, int foreground, int verbose)
{
	struct recoveryd d;
	char name[300];
	uint64_t wd;
	struct timeval tv;

	memset(&d, 0, sizeof(d));
	d.conffile = conffile;
	log_init("recoveryd", foreground, 1, verbose);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_DUMPABLE): exec programs may read this "
		    "process's memory");
	secret_seal();
	if ((d.cf = cli_load_config_logged(conffile)) == NULL)
		fatalx("%s: configuration has errors, not starting", conffile);
	secret_hide_config(d.cf);
	/* Under systemd (Type=notify) stay in the foreground: the
	 * notification socket belongs to the process systemd started. */
	if (!foreground && !notify_enabled() && daemon(0, 0) == -1)
		fatal("daemon");
	signal(SIGPIPE, SIG_IGN);

	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	stats_init(&d.stats);
	consumer_name(d.cf, name, sizeof(name));
	d.consumer = consumer_new(d.base, d.cf, name, &d.stats,
	    release_config);
	d.info.version = RECOVERYD_VERSION;
	d.info.consumer = name;
	d.info.nrules = d.cf->nrules;
	d.info.start_time = now_wall();
	d.info.restart_pending = d.restart_pending;
	consumer_set_metrics(d.consumer, &d.info);
	if (d.cf->http_listen[0] != '\0') {
		struct http_limits hl = { d.cf->http_max_conns,
		    d.cf->http_request_timeout_ms, 0 };
		char err[512];

		if ((d.http = http_new(d.base, d.cf->http_listen, &hl,
		    &d.stats, &d.info, health, &d, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		log_info("http: /metrics and /healthz on %s",
		    d.cf->http_listen);
	}
	if (d.cf->intake_listen[0] != '\0') {
		char err[512];

		if ((d.intake = intake_new(d.base, d.cf, outbox_config,
		    d.consumer, &d.stats, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		log_info("intake: POST /v1/events on %s, %zu tokens",
		    d.cf->intake_listen, intake_ntokens(d.intake));
	}
	{
		struct redis_target t;
		char err[256];

		if (redis_url_parse(d.cf->redis_url, &t, err, sizeof(err)) == -1)
			fatalx("redis.url: %s", err);
		d.outbox = outbox_new(d.base, &t, name, outbox_config,
		    d.consumer, &d.stats);
	}

	d.ev_hup = evsignal_new(d.base, SIGHUP, on_hup, &d);
	d.ev_term = evsignal_new(d.base, SIGTERM, on_term, &d);
	d.ev_int = evsignal_new(d.base, SIGINT, on_term, &d);
	evsignal_add(d.ev_hup, NULL);
	evsignal_add(d.ev_term, NULL);
	evsignal_add(d.ev_int, NULL);
	if ((wd = notify_watchdog_usec()) > 0) {
		d.ev_wdog = event_new(d.base, -1, EV_PERSIST, on_watchdog, &d);
		tv.tv_sec = (time_t)(wd / 2 / 1000000);
		tv.tv_usec = (suseconds_t)(wd / 2 % 1000000);
		evtimer_add(d.ev_wdog, &tv);
	}

	consumer_start(d.consumer);
	outbox_start(d.outbox);
	log_info("recoveryd %s started: consumer %s, group %s on %s, %zu "
	    "rules", RECOVERYD_VERSION, name, d.cf->input_group,
	    d.cf->input_stream, d.cf->nrules);
	notify_send("READY=1\nSTATUS=running");

	event_base_dispatch(d.base);

	log_info("stopped");
	http_free(d.http);
	intake_free(d.intake);
	outbox_free(d.outbox);
	consumer_free(d.consumer);	/* and every configuration it was given */
	if (d.ev_wdog != NULL)
		event_free(d.ev_wdog);
	event_free(d.ev_hup);
	event_free(d.ev_term);
	event_free(d.ev_int);
	event_base_free(d.base);
	stats_free(&d.stats);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	const char *conffile = cli_default_config();
	int ch, foreground = 0, checkonly = 0, verbose = 0, strict = 0;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "strict", no_argument, NULL, 'S' },
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
		case 'S':
			strict = 1;
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
	if (optind != argc || (strict && !checkonly)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (checkonly) {
		log_init("recoveryd", 1, 0, verbose);
		return cli_check_opts(conffile, strict ? CLI_STRICT : 0,
		    stdout, stderr);
	}
	return run(conffile, foreground, verbose);
}
