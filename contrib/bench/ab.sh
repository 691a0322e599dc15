#!/bin/sh
# ab.sh BUILD_A BUILD_B [EVENTS] — the drain of one preloaded stream by
# two builds of recoveryd, alternating, AB_ROUNDS (2) times each, on one
# private redis-server: for a change whose cost must be measured side by
# side on a noisy machine (the closed loop against the build before it,
# say). AB_RULES: "example" (rules/recoveryd.yaml and rules.d, the
# default) or "stateless" (run.sh's 20 stateless rules); AB_LOWCSAT=1
# loads bench_drain's low-CSAT events instead (every one opens a case).
# Prints events/s, the CPU time per event of Redis and of the daemon and
# the daemon's peak RSS (VmHWM), per run. Never gates anything.
cd "$(dirname "$0")/../.." || exit 1
[ $# -ge 2 ] || { echo "usage: ab.sh BUILD_A BUILD_B [EVENTS]" >&2; exit 2; }
A=$1 B=$2 N=${3:-200000}
bd=${BENCH_TOOLS:-build/bench}/bench_drain
[ -x "$bd" ] || { echo "ab.sh: $bd is missing (make bench builds it)" >&2; exit 1; }
. contrib/bench/conf.sh
ab_setup ab
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
"$bd" load -s "$SOCK" -n "$N" ${AB_LOWCSAT:+--low-csat} >/dev/null || exit 1
round=0
while [ $round -lt "${AB_ROUNDS:-2}" ]; do
	round=$((round + 1))
	for b in "$A" "$B"; do
		ab_reset
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
		hwm=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' \
		    "/proc/$p/status")
		kill -TERM "$p"
		wait "$p"
		echo "round $round $b: $(echo "$out" | tr ' ' '\n' |
		    grep events_per_s) redis_cpu_us_per_event=$us daemon_cpu_us_per_event=$dus vmhwm_mib=$hwm"
	done
done
