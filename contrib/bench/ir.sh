#!/bin/sh
# ir.sh BUILD_A BUILD_B [EVENTS] — the instructions each of two builds of
# recoveryd executes per event (valgrind's callgrind, "Ir") to drain the
# same preloaded stream on a private redis-server, and their ratio. A
# count of instructions does not move with the machine's load the way
# events/s and CPU time do here, so it shows changes of a few percent
# that ab.sh cannot; it does not see cache misses or waiting, so a
# change that only moves those shows in ab.sh and not here. The
# daemon's start is counted too (about 5% of 20,000 events' worth).
# AB_RULES: "example" (rules/recoveryd.yaml and rules.d, the default)
# or "stateless" (run.sh's 20 stateless rules); AB_LOWCSAT=1: the low-CSAT
# events, each of which opens a case. Never gates anything;
# needs valgrind (Debian: apt-get install valgrind).
cd "$(dirname "$0")/../.." || exit 1
[ $# -ge 2 ] || { echo "usage: ir.sh BUILD_A BUILD_B [EVENTS]" >&2; exit 2; }
A=$1 B=$2 N=${3:-20000}
. contrib/bench/conf.sh
vg_setup ir "$N"
# ir BUILD: Ir per event of one drain by BUILD.
ir() {
	ab_reset
	t0=$(date +%s%N)
	valgrind --tool=callgrind --callgrind-out-file="$D/cg.out" \
	    "$1/recoveryd" -f -c "$conf" 2>>"$D/log" &
	p=$!
	"$bd" wait -s "$SOCK" --group recoveryd --since "$t0" \
	    --timeout 900 >/dev/null || { kill -TERM "$p"; return 1; }
	kill -TERM "$p"
	wait "$p"
	callgrind_annotate "$D/cg.out" 2>/dev/null | awk -v n="$N" \
	    '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%.0f", $1 / n }'
}
a=$(ir "$A") || exit 1
b=$(ir "$B") || exit 1
echo "$A: $a instructions/event"
echo "$B: $b instructions/event"
awk -v a="$a" -v b="$b" 'BEGIN { printf "B / A: %.3f\n", b / a }'
