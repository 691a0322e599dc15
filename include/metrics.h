/*
 * metrics.h — the daemon's counters (stats.h) as text: the Prometheus
 * exposition format for GET /metrics, and a Redis hash of the headline
 * figures that "recoveryctl stats" reads.
 *
 * Both are pure: they read a struct stats and a struct metrics_info and
 * write into buffers the caller owns. No I/O, no event loop; the HTTP
 * server (http.c) and the consumer's tick decide when to call them.
 */
#ifndef RECOVERYD_METRICS_H
#define RECOVERYD_METRICS_H

#include <stddef.h>

#include "alertcmd.h"
#include "stats.h"
#include "util.h"

/*
 * What the counters do not know. The daemon owns it and may change it
 * between two calls (nrules after a reload); renderers read it at call
 * time and keep no pointer to it.
 */
struct metrics_info {
	const char	*version;	/* RECOVERYD_VERSION */
	const char	*consumer;	/* consumer name in the group */
	size_t		 nrules;	/* rules of the running configuration */
	double		 start_time;	/* epoch seconds the daemon started */
	/* Settings changed in the file that wait for a restart,
	 * ", "-separated (config_keep_restart); NULL or "": none. */
	const char	*restart_pending;
};

/*
 * metrics_render: append every metric family, with its HELP and TYPE
 * lines, in the Prometheus text format 0.0.4 to out. Series known in
 * advance (event types, invalid reasons, reload results) are written
 * with zeros too, so dashboards and alerting rules see them from the
 * start; gauges whose value is unknown (-1) have no sample. Label values
 * are escaped (\\, \", \n). O(rules + channels); allocates only by
 * growing out.
 */
void	 metrics_render(const struct stats *, const struct metrics_info *,
	    struct buf *out);

/*
 * metrics_render_http: append the HTTP listener's families (open
 * connections; connections accepted, evicted, timed out; accept pauses)
 * from st, in the same format.
 */
struct http_listener_stats;
void	 metrics_render_http(const struct http_listener_stats *,
	    struct buf *out);

/*
 * metrics_publish_args: append to a the command
 *   HSET key consumer C version V events N ... updated_at T
 * with the headline figures (totals, alerts by result, open cases, lag,
 * reconnects, reloads, latency p50/p99 estimated from the histogram,
 * started_at and updated_at in RFC 3339). Unknown values (open cases or
 * lag not measured yet, latency before the first event) are "". Strings
 * formatted here live in ar; key, info->consumer and info->version must
 * outlive the sending of the command (hiredis copies them then). With an
 * empty a, the command is (int)a->n, a->v, a->l.
 */
void	 metrics_publish_args(const struct stats *,
	    const struct metrics_info *, const char *key, struct args *a,
	    struct arena *ar);

/*
 * metrics_quantile: the q-quantile (0 < q < 1) of the latency histogram,
 * interpolated linearly inside the bucket that holds it, as Prometheus's
 * histogram_quantile() does; the largest finite bound when it falls in
 * the +Inf bucket; -1 when there is no observation.
 */
double	 metrics_quantile(const struct stats *, double q);

#endif
