/*
 * main.c — recoveryd-console: options, configuration, the loop, signals.
 *
 *   recoveryd-console [-c FILE] [-A DIR] [-f] [-v] [-h] [-V]
 *
 * It reads the same configuration file as recoveryd (redis, state.prefix,
 * resolution_codes, the rules for the channels of pending steps, and its
 * own "console:" section) and serves the web console and its JSON API on
 * console.listen. Signals are libevent events: SIGTERM and SIGINT close
 * the listener and every stream and exit 0. Under systemd (Type=notify)
 * it reports READY and STOPPING.
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
#include "console.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "redis.h"
#include "secret.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: recoveryd-console [-c FILE] [-A DIR] [-f] [-v]\n"
"\n"
"  -c FILE   main configuration file (" DEFAULT_CONFIG_HELP "\n"
"  -A DIR    serve the page from DIR (default console.assets,\n"
"            /usr/share/recoveryd/console)\n"
"  -f        stay in the foreground and also log to stderr\n"
"  -v        more logging (debug)\n"
"  -h, --help     this help\n"
"  -V, --version  print the version\n"
"\n"
"recoveryd-console serves the supervisor console: a web page and a JSON\n"
"API (/api/...) over the cases in Redis, on console.listen (default\n"
"127.0.0.1:9465). Users and roles come from console.users_file, managed\n"
"with `recoveryctl user add|passwd|remove NAME`; API tokens from\n"
"console.tokens_file (`recoveryctl user token add|list|revoke NAME`).\n"
"Changes to cases are commands the running recoveryd applies; live\n"
"updates come from its PUBLISH on <state.prefix>cases:changed.\n"
"Sessions live in memory: a restart logs everyone out.\n");
}

static void
on_term(evutil_socket_t fd, short ev, void *arg)
{
	struct console *c = arg;

	(void)fd;
	(void)ev;
	notify_send("STOPPING=1");
	log_info("console: stopping");
	event_base_loopexit(c->base, NULL);
}

static void
sub_state(struct rconn *rc, bool up, void *arg)
{
	struct console *c = arg;

	(void)rc;
	streams_sub_state(c->streams, up);
}

static void
sub_setup(redisAsyncContext *ac, void *arg)
{
	struct console *c = arg;

	c->subac = ac;
}

static void
rc_state(struct rconn *rc, bool up, void *arg)
{
	struct console *c = arg;

	(void)rc;
	if (up) {
		log_info("console: connected to Redis");
		mirror_reload(c->mirror);
	} else
		log_warnx("console: lost Redis; reconnecting");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conffile = cli_default_config(), *assets = NULL;
	struct event *ev_term, *ev_int;
	struct redis_target t;
	struct http_limits hl;
	struct console c;
	char err[512];
	int ch, foreground = 0, verbose = 0;

	while ((ch = getopt_long(argc, argv, "A:c:fhvV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'A':
			assets = optarg;
			break;
		case 'c':
			conffile = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("recoveryd-console %s\n", RECOVERYD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	memset(&c, 0, sizeof(c));
	log_init("recoveryd-console", foreground, 1, verbose);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("prctl(PR_SET_DUMPABLE)");
	secret_seal();
	if ((c.cf = cli_load_config_logged(conffile)) == NULL)
		fatalx("%s: configuration has errors, not starting", conffile);
	secret_hide_config(c.cf);
	if (assets == NULL)
		assets = c.cf->console_assets;
	if (realpath(assets, c.assets) == NULL)
		fatal("assets %s", assets);
	if (redis_url_parse(c.cf->redis_url, &t, err, sizeof(err)) == -1)
		fatalx("redis.url: %s", err);
	snprintf(c.chan, sizeof(c.chan), "%scases:changed",
	    c.cf->state_prefix);
	if (!foreground && !notify_enabled() && daemon(0, 0) == -1)
		fatal("daemon");
	signal(SIGPIPE, SIG_IGN);
	if ((c.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	/* after daemon(): its worker thread would not survive the fork */
	if ((c.auth = auth_new(c.cf, c.base, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	hl.max_conns = c.cf->console_max_conns + c.cf->console_max_streams;
	hl.deadline_ms = c.cf->console_request_timeout_ms;
	hl.max_body = CONSOLE_BODY_MAX;
	if ((c.http = http_listener_new(c.base, c.cf->console_listen, &hl,
	    api_request, &c, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	c.streams = streams_new(&c);
	c.mirror = mirror_new(&c);
	pending_start(&c);
	c.rc = rconn_new(c.base, &t, "console", rc_state, &c);
	c.sub = rconn_new(c.base, &t, "console-sub", sub_state, &c);
	rconn_set_setup(c.sub, sub_setup, &c);
	console_watch_start(&c);
	rconn_start(c.rc);
	rconn_start(c.sub);
	ev_term = evsignal_new(c.base, SIGTERM, on_term, &c);
	ev_int = evsignal_new(c.base, SIGINT, on_term, &c);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);
	log_info("console: listening on %s, page from %s",
	    c.cf->console_listen, c.assets);
	notify_send("READY=1\nSTATUS=serving");
	event_base_dispatch(c.base);

	/* the connections first: their callbacks answer the requests still
	 * waiting (503) while the listener and the streams exist */
	event_free(c.watch);
	rconn_free(c.sub);
	rconn_free(c.rc);
	pending_free(&c);
	auth_free(c.auth);
	streams_free(c.streams);
	http_listener_free(c.http);
	mirror_free(c.mirror);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(c.base);
	config_free(c.cf);
	return 0;
}
