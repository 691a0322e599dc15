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
# or "stateless" (run.sh's 20 stateless rules). Never gates anything;
# needs valgrind (Debian: apt-get install valgrind).
cd "$(dirname "$0")/../.." || exit 1
[ $# -ge 2 ] || { echo "usage: ir.sh BUILD_A BUILD_B [EVENTS]" >&2; exit 2; }
A=$1 B=$2 N=${3:-20000}
command -v valgrind >/dev/null 2>&1 ||
    { echo "ir.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
bd=${BENCH_TOOLS:-build/bench}/bench_drain
[ -x "$bd" ] || { echo "ir.sh: $bd is missing (make bench builds it)" >&2; exit 1; }
D=$(mktemp -d /tmp/recoveryd-ir.XXXXXX) || exit 1
SOCK=$D/redis.sock
R="redis-cli -s $SOCK"
trap '$R shutdown nosave >/dev/null 2>&1; rm -rf "$D"' EXIT
redis-server --port 0 --unixsocket "$SOCK" --save '' --appendonly no \
    --dir "$D" --daemonize yes >/dev/null || exit 1
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p "$D/rules.d"
sed -e "s|^redis:.*|redis: {url: \"unix://$SOCK\"}|" \
    -e 's|^http:.*|http: {listen: ""}|' rules/recoveryd.yaml >"$D/example.yaml"
cp rules/rules.d/*.yaml "$D/rules.d/"
. contrib/bench/conf.sh
stateless_conf >"$D/stateless.yaml"
conf=$D/${AB_RULES:-example}.yaml
[ -f "$conf" ] || { echo "ir.sh: AB_RULES is example or stateless" >&2; exit 2; }
"$bd" load -s "$SOCK" -n "$N" >/dev/null || exit 1
# ir BUILD: Ir per event of one drain by BUILD.
ir() {
	$R --scan | grep -v '^ivr:events$' | grep -v '^ivr:customer:' |
	    sed 's/^/UNLINK /' | $R >/dev/null
	$R XGROUP DESTROY ivr:events recoveryd >/dev/null 2>&1
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
