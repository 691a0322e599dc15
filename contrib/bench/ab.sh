#!/bin/sh
# ab.sh BUILD_A BUILD_B [EVENTS] — the drain of one preloaded stream by
# two builds of recoveryd, alternating, AB_ROUNDS (2) times each, on one
# private redis-server: for a change whose cost must be measured side by
# side on a noisy machine (the closed loop against the build before it,
# say). AB_RULES: "example" (rules/recoveryd.yaml and rules.d, the
# default) or "stateless" (run.sh's 20 stateless rules); AB_LOWCSAT=1
# loads bench_drain's low-CSAT events instead (every one opens a case).
# Prints events/s and the CPU time per event of Redis and of the daemon,
# per run. Never gates anything.
cd "$(dirname "$0")/../.." || exit 1
[ $# -ge 2 ] || { echo "usage: ab.sh BUILD_A BUILD_B [EVENTS]" >&2; exit 2; }
A=$1 B=$2 N=${3:-200000}
bd=${BENCH_TOOLS:-build/bench}/bench_drain
[ -x "$bd" ] || { echo "ab.sh: $bd is missing (make bench builds it)" >&2; exit 1; }
D=$(mktemp -d /tmp/recoveryd-ab.XXXXXX) || exit 1
SOCK=$D/redis.sock
R="redis-cli -s $SOCK"
trap '$R shutdown nosave >/dev/null 2>&1; rm -rf "$D"' EXIT
redis-server --port 0 --unixsocket "$SOCK" --save '' --appendonly no \
    --dir "$D" --daemonize yes --pidfile "$D/redis.pid" >/dev/null || exit 1
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p "$D/rules.d"
sed -e "s|^redis:.*|redis: {url: \"unix://$SOCK\"}|" \
    -e 's|^http:.*|http: {listen: ""}|' rules/recoveryd.yaml >"$D/example.yaml"
cp rules/rules.d/*.yaml "$D/rules.d/"
. contrib/bench/conf.sh
stateless_conf >"$D/stateless.yaml"
conf=$D/${AB_RULES:-example}.yaml
[ -f "$conf" ] || { echo "ab.sh: AB_RULES is example or stateless" >&2; exit 2; }
i=0
while [ ! -s "$D/redis.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
rpid=$(cat "$D/redis.pid")
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
"$bd" load -s "$SOCK" -n "$N" ${AB_LOWCSAT:+--low-csat} >/dev/null || exit 1
round=0
while [ $round -lt "${AB_ROUNDS:-2}" ]; do
	round=$((round + 1))
	for b in "$A" "$B"; do
		$R --scan | grep -v '^ivr:events$' | grep -v '^ivr:customer:' |
		    sed 's/^/UNLINK /' | $R >/dev/null
		$R XGROUP DESTROY ivr:events recoveryd >/dev/null 2>&1
		t0=$(date +%s%N)
		r0=$(ticks "$rpid")
		"$b/recoveryd" -f -c "$conf" 2>>"$D/log" &
		p=$!
		out=$("$bd" wait -s "$SOCK" --group recoveryd --since "$t0" \
		    --timeout 600)
		us=$(awk -v t="$(($(ticks "$rpid") - r0))" -v h="$hz" -v e="$N" \
		    'BEGIN { printf "%.1f", t / h / e * 1e6 }')
		dus=$(awk -v t="$(ticks "$p")" -v h="$hz" -v e="$N" \
		    'BEGIN { printf "%.1f", t / h / e * 1e6 }')
		kill -TERM "$p"
		wait "$p"
		echo "round $round $b: $(echo "$out" | tr ' ' '\n' |
		    grep events_per_s) redis_cpu_us_per_event=$us daemon_cpu_us_per_event=$dus"
	done
done
