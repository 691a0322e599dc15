#!/bin/sh
# run.sh — make bench: print performance figures. Never gates anything.
cd "$(dirname "$0")/../.." || exit 1
echo "== recoveryd benchmarks on $(nproc) cores, $(date -u +%Y-%m-%d)"
build/bench/bench_core contrib/samples/events.jsonl "${BENCH_SECONDS:-3}"

# The daemon against a private redis-server (unix socket in a temp dir, no
# persistence), in one run (SPEC targets in brackets, reported, not gated):
#   1. preload BENCH_EVENTS (1,000,000) rating events into ivr:events;
#   2. the raw drain limit: bench_drain reads them through group "raw" with
#      XREADGROUP COUNT 256 + XACK and nothing else;
#   3. recoveryd drains the same entries through group "recoveryd" with the
#      example rules (rules/recoveryd.yaml and rules.d/), timed from its
#      start until the group has read every entry and acked it
#      [recoveryd/raw >= 0.6]; after BENCH_DRAIN_TIMEOUT (300) s it stops
#      waiting and reports the rate of what was processed by then;
#   4. FLUSHALL, a fresh recoveryd, and XADD -> alert latency at
#      BENCH_RATE (2,000) events/s for BENCH_LATENCY_SECONDS (60) s
#      [p99 <= 5 ms];
#   5. recoveryd's peak RSS (VmHWM) in both runs [<= 20 MiB].
# The block at the end can be pasted into the README.
events=${BENCH_EVENTS:-1000000}
lat_s=${BENCH_LATENCY_SECONDS:-60}
rate=${BENCH_RATE:-2000}
drain_timeout=${BENCH_DRAIN_TIMEOUT:-300}
bd=build/bench/bench_drain

for f in build/recoveryd "$bd"; do
	if [ ! -x "$f" ]; then
		echo "run.sh: $f is missing (make bench builds it)" >&2
		exit 1
	fi
done
if ! command -v redis-server >/dev/null 2>&1; then
	echo "== daemon benchmark skipped: redis-server is not installed"
	exit 0
fi

D=$(mktemp -d /tmp/recoveryd-bench.XXXXXX) || exit 1
SOCK=$D/redis.sock
R="redis-cli -s $SOCK"
dpid=""
cleanup() {
	[ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
	[ -S "$SOCK" ] && $R shutdown nosave >/dev/null 2>&1
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ticks PID: user + system CPU time of PID, in clock ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# hwm_mib PID: peak resident set size of PID, in MiB.
hwm_mib() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# field KEY LINE: the value of KEY=value in a bench_drain result line.
field() { echo "$2" | sed -n "s/.*[ :]$1=\([^ ]*\).*/\1/p"; }

# start_daemon: recoveryd in the foreground, as a background job.
start_daemon() {
	build/recoveryd -f -c "$D/recoveryd.yaml" 2>>"$D/recoveryd.log" &
	dpid=$!
}
stop_daemon() {
	kill -TERM "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=""
}

mkdir -p "$D/redis" "$D/rules.d"
redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 \
    --dir "$D/redis" --appendonly no --save "" --daemonize yes \
    --pidfile "$D/redis/redis.pid" --logfile "$D/redis/redis.log" >/dev/null
i=0
until [ "$($R ping 2>/dev/null)" = PONG ]; do
	i=$((i + 1))
	if [ $i -gt 50 ]; then
		echo "run.sh: redis-server did not start" >&2
		cat "$D/redis/redis.log" >&2
		exit 1
	fi
	sleep 0.1
done
rpid=$(cat "$D/redis/redis.pid")

# The example configuration, pointed at the private Redis, without HTTP.
sed -e "s|^redis:.*|redis: {url: \"unix://$SOCK\"}|" \
    -e 's|^http:.*|http: {listen: ""}|' rules/recoveryd.yaml \
    >"$D/recoveryd.yaml"
cp rules/rules.d/*.yaml "$D/rules.d/"
if ! grep -q "unix://$SOCK" "$D/recoveryd.yaml" ||
    ! build/recoveryd -t -c "$D/recoveryd.yaml" >/dev/null 2>"$D/check.log"; then
	echo "run.sh: cannot make a configuration from rules/recoveryd.yaml" >&2
	cat "$D/check.log" >&2
	exit 1
fi

echo "== daemon: $events events, Redis $(redis-server --version |
    sed -n 's/.*v=\([^ ]*\).*/\1/p') on a unix socket, no persistence"
$bd load -s "$SOCK" -n "$events" || exit 1

raw=$($bd raw -s "$SOCK" --group raw --count 256) || exit 1
echo "$raw"
raw_eps=$(field events_per_s "$raw")

r0=$(ticks "$rpid")
$R CONFIG RESETSTAT >/dev/null
t0=$(date +%s%N)
start_daemon
drain=$($bd wait -s "$SOCK" --group recoveryd --since "$t0" \
    --timeout "$drain_timeout") || exit 1
d_hwm=$(hwm_mib "$dpid")
d_cpu=$(ticks "$dpid")
r_cpu=$(($(ticks "$rpid") - r0))
# Commands Redis ran for the daemon, those inside its scripts included.
r_cmds=$($R INFO commandstats | sed -n 's/^cmdstat_[^:]*:calls=\([0-9]*\),.*/\1/p' |
    awk '{ n += $1 } END { print n + 0 }')
stop_daemon
echo "$drain"
d_secs=$(field seconds "$drain")
d_eps=$(field events_per_s "$drain")
d_done=$(field processed "$drain")
ratio=$(awk -v a="$d_eps" -v b="$raw_eps" 'BEGIN { printf "%.2f", a / b }')
partial=""
[ "$(field drained "$drain")" = 1 ] ||
    partial=" (not drained: $d_done of $events events in $d_secs s)"
hz=$(getconf CLK_TCK)
alerts=$($R XINFO STREAM ivr:alerts 2>/dev/null |
    awk 'prev == "entries-added" { print; exit } { prev = $0 }')
echo "recoveryd: ratio=$ratio vmhwm_mib=$d_hwm cpu_s=$(awk -v t="$d_cpu" -v h="$hz" \
    'BEGIN { printf "%.1f", t / h }') redis_cpu_s=$(awk -v t="$r_cpu" \
    -v h="$hz" 'BEGIN { printf "%.1f", t / h }')" \
    "stream_alerts=${alerts:-?} dialer_callbacks=$($R LLEN dialer:callbacks)" \
    "redis_commands_per_event=$(awk -v c="$r_cmds" -v e="$d_done" \
    'BEGIN { printf "%.1f", (e > 0 ? c / e : 0) }')"

# The same drain with three daemons on one group (Redis does the work,
# so more daemons mostly share it).
$R FLUSHALL >/dev/null
$bd load -s "$SOCK" -n "$events" >/dev/null || exit 1
t0=$(date +%s%N)
m_pids=""
for n in 1 2 3; do
	build/recoveryd -f -c "$D/recoveryd.yaml" 2>>"$D/recoveryd.log" &
	m_pids="$m_pids $!"
done
drain3=$($bd wait -s "$SOCK" --group recoveryd --since "$t0" \
    --timeout "$drain_timeout") || exit 1
for p in $m_pids; do kill -TERM "$p" 2>/dev/null; done
for p in $m_pids; do wait "$p" 2>/dev/null; done
echo "three daemons: $drain3"
d3_eps=$(field events_per_s "$drain3")

$R FLUSHALL >/dev/null
start_daemon
lat=$($bd latency -s "$SOCK" -r "$rate" -d "$lat_s") || exit 1
echo "$lat"
l_hwm=$(hwm_mib "$dpid")
stop_daemon
echo "recoveryd's log: $(wc -l <"$D/recoveryd.log") lines, the last ones:"
tail -n 3 "$D/recoveryd.log"

cat <<SUMMARY

Measured with \`make bench\` on $(nproc) cores, $(date -u +%Y-%m-%d): \
$events rating events preloaded; Redis on a unix socket, no persistence.

| figure | measured | target |
| --- | --- | --- |
| raw drain limit (XREADGROUP COUNT 256 + XACK, nothing else) | $raw_eps events/s | |
| recoveryd drain, example rules | $d_eps events/s$partial | |
| recoveryd / raw | $ratio | >= 0.6 |
| three recoveryd on one group | $d3_eps events/s | |
| Redis commands per event | $(awk -v c="$r_cmds" -v e="$d_done" 'BEGIN { printf "%.1f", (e > 0 ? c / e : 0) }') | |
| XADD -> alert, $rate events/s for $lat_s s (sent at $(field rate "$lat") over $(field seconds "$lat") s): p50 / p99 / max | $(field p50_ms "$lat") / $(field p99_ms "$lat") / $(field max_ms "$lat") ms ($(field missing "$lat") missing) | p99 <= 5 ms |
| recoveryd peak RSS (VmHWM): drain / latency run | $d_hwm / $l_hwm MiB | <= 20 MiB |
SUMMARY
