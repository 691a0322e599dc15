#!/bin/sh
# console.sh — recoveryd-console's figures (make bench; issue 11): with
# BENCH_CASES (10,000) open cases, the time to first byte of the queue
# page's GET /api/cases [<= 50 ms], and the SSE fan-out of one change to
# BENCH_PAGES (200) open pages [all within 1 s]. A private redis-server
# (unix socket in a temp dir), the real recoveryd (which opens the cases
# and publishes the change) and the real console on a free port.
cd "$(dirname "$0")/../.." || exit 1
B=${RECOVERYD_BUILD:-build}
N=${BENCH_CASES:-10000}
PAGES=${BENCH_PAGES:-200}
D=$(mktemp -d /tmp/recoveryd-bench-console.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	redis-cli -s "$D/redis.sock" shutdown nosave >/dev/null 2>&1
	rm -rf "$D"
}
trap cleanup EXIT
redis-server --port 0 --unixsocket "$D/redis.sock" --save "" \
    --daemonize yes --pidfile "$D/redis.pid" --logfile "$D/redis.log" >/dev/null
R="redis-cli -s $D/redis.sock"
i=0
until [ "$($R ping 2>/dev/null)" = PONG ]; do
	i=$((i + 1)); [ $i -gt 50 ] && { echo "console bench: no redis"; exit 1; }
	sleep 0.1
done
PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
cat >"$D/c.yaml" <<CONF
redis: {url: "unix://$D/redis.sock"}
http: {listen: ""}
defaults: {cooldown: 0}
channels:
  supervisors: {type: stream, key: ivr:alerts}
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors}]
console: {listen: "127.0.0.1:$PORT", users_file: "$D/users", max_streams: 1000}
CONF
echo bench-pw | "$B/recoveryctl" -c "$D/c.yaml" user add bench --role supervisor >/dev/null
"$B/recoveryd" -f -c "$D/c.yaml" 2>"$D/recoveryd.log" &
pids="$pids $!"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
	printf "XADD ivr:events * type rating call_id B%d customer_id Q%d agent_id A%d queue q%d csat %d\n", i, i, i % 40, i % 7, i % 2 + 1 }' |
    $R >/dev/null
i=0
until [ "$($R zcard ivr:cases:open)" -ge "$N" ]; do
	i=$((i + 1)); [ $i -gt 600 ] && { echo "console bench: cases not opened"; exit 1; }
	sleep 0.1
done
"$B/recoveryd-console" -f -c "$D/c.yaml" -A daemon/console/www 2>"$D/console.log" &
pids="$pids $!"
sleep 1
python3 contrib/bench/console.py ttfb "$PORT" bench bench-pw 50
python3 contrib/bench/console.py fanout "$PORT" bench bench-pw "$PAGES" \
    "$B/recoveryctl" -c "$D/c.yaml" push rating call_id=F1 customer_id=FAN1 csat=1
echo "console: open cases $($R zcard ivr:cases:open), console RSS $(ps -o rss= -p "${pids##* }" | tr -d ' ') KiB"

# drain: M events from the start offset, timed until the group has read
# and acked them all
M=${BENCH_DRAIN:-50000}
drained() {
	last=$($R xinfo stream ivr:events | awk 'f { print; exit } /^last-generated-id$/ { f = 1 }')
	read_to=$($R xinfo groups ivr:events | awk 'f { print; exit } /^last-delivered-id$/ { f = 1 }')
	pend=$($R xinfo groups ivr:events | awk 'f { print; exit } /^pending$/ { f = 1 }')
	[ "$last" = "$read_to" ] && [ "$pend" = 0 ]
}
drain() {
	awk -v n="$M" -v s="$1" 'BEGIN { for (i = s; i < s + n; i++)
		printf "XADD ivr:events * type rating call_id D%d customer_id D%d agent_id A%d queue q%d csat %d\n", i, i, i % 40, i % 7, i % 5 + 1 }' >"$D/drain.txt"
	t0=$(date +%s.%N)
	$R <"$D/drain.txt" >/dev/null
	until drained; do sleep 0.05; done
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v n="$M" 'BEGIN { printf "%.0f", n / (b - a) }'
}
cpid=${pids##* }
# alternately, twice each, so that a drift of the machine shows
python3 contrib/bench/console.py hold "$PORT" bench bench-pw "${BENCH_DRAIN_PAGES:-50}" &
hold=$!
sleep 1
off=0
res=""
for mode in paused open paused open; do
	[ "$mode" = paused ] && kill -STOP "$cpid"	# it reads nothing
	eps=$(drain "$off")
	[ "$mode" = paused ] && kill -CONT "$cpid"
	off=$((off + M))
	res="$res $mode=$eps"
	sleep 1
done
kill "$hold" 2>/dev/null
echo "console drain: recoveryd events/s, the console paused or serving ${BENCH_DRAIN_PAGES:-50} open pages:$res"
