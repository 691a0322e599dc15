#!/bin/sh
# heap.sh BUILD [EVENTS] — where the daemon's heap is at its peak while it
# drains a preloaded stream on a private redis-server (valgrind's massif):
# the peak's total and its allocation sites to three callers deep, each
# above 1% of the peak. util.c's x* wrappers are skipped as allocators,
# except where the compiler inlined one into its caller (arena_alloc,
# buf_reserve), which then shows as that wrapper's line. The libraries'
# pages, which RSS also counts, are not heap and are not in it. AB_RULES
# as in ir.sh ("example", the default, or "stateless"). Never gates
# anything; needs valgrind (Debian: apt-get install valgrind).
cd "$(dirname "$0")/../.." || exit 1
[ $# -ge 1 ] || { echo "usage: heap.sh BUILD [EVENTS]" >&2; exit 2; }
B=$1 N=${2:-20000}
. contrib/bench/conf.sh
vg_setup heap "$N"
ab_reset
t0=$(date +%s%N)
valgrind --tool=massif --massif-out-file="$D/massif.out" \
    --alloc-fn=xmalloc --alloc-fn=xcalloc --alloc-fn=xrealloc \
    --alloc-fn=xreallocarray --alloc-fn=xstrndup --alloc-fn=xstrdup \
    "$B/recoveryd" -f -c "$conf" 2>>"$D/log" &
p=$!
"$bd" wait -s "$SOCK" --group recoveryd --since "$t0" --timeout 900 \
    >/dev/null || { kill -TERM "$p"; exit 1; }
kill -TERM "$p"
wait "$p"
# The peak snapshot's tree: " nK: BYTES SITE", one space of indent a level.
awk '
/^heap_tree=peak/ { f = 1; next }
/^snapshot=/ { f = 0 }
f && /^ *n[0-9]+: [0-9]+ / {
	match($0, /^ */); d = RLENGTH
	b = $2
	if (d == 0) { peak = b; printf "peak heap: %.1f MiB\n", b / 1048576; next }
	if (d > 3 || b < peak / 100) next
	site = $0; sub(/^ *n[0-9]+: [0-9]+ /, "", site)
	sub(/ \(in \/.*/, "", site)
	printf "%*s%6.2f MiB %s\n", 2 * (d - 1), "", b / 1048576, substr(site, 1, 70)
}' "$D/massif.out"
