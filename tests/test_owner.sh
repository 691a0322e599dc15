#!/bin/sh
# test_owner.sh — one owner decides the stream, exactly, across crashes
# (issue 9): with count, aggregate, "after" and cooldown rules,
#  - one daemon killed with kill -9 ten times while 20,000 events arrive
#    (2,500 a second), restarted each time;
#  - three daemons, the owner killed with kill -9 four times while 10,000
#    events arrive (a standby takes over each time, a new one joins);
# the alerts equal `recoveryctl replay --json` of the same events exactly
# (no missing, no extra, no duplicate alert_id), nothing is left pending
# and nothing is dead-lettered. A clean stop on an idle stream unblocks
# its read at once (also run as an ACL user denied CLIENT: as before).
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
C=$BUILD/recoveryctl
LEASE_KEY='ivr:owner:ivr%3Aevents'

CONF=$T_DIR/owner.yaml
cat > "$CONF" <<CONF
redis: {url: "unix://$T_REDIS_SOCK"}
input: {batch: 128, max_deliveries: 1000, max_past_skew: 0}
ha: {lease: 500ms}
http: {listen: ""}
defaults: {cooldown: 0, severity: medium}
channels:
  supervisors: {type: stream, key: ivr:alerts}
  dialer: {type: list, key: dialer:callbacks}
rules:
  - name: low
    on: rating
    if: csat <= 2
    cooldown: 10m
    actions: [{notify: dialer}]
  - name: repeat
    on: rating
    if: csat <= 2
    count: {by: customer_id, at_least: 2, within: 1h}
    cooldown: 30m
    actions: [{notify: supervisors, message: "{{customer_id}} {{count}}"}]
  - name: slump
    on: rating
    aggregate: {by: agent_id, value: avg(csat), within: 30m, min_samples: 5, alert_if: value < 2.6}
    cooldown: 15m
    actions: [{notify: supervisors}]
  - name: complaint-after
    on: complaint
    after: {rule: repeat, by: customer_id, within: 2h}
    severity: critical
    actions: [{notify: [supervisors, dialer]}]
CONF

# events N FIRST: N events in time order, one a second; customer K(i % 300),
# agent A(i % 20); one in 7 a complaint.
events() {
	awk -v n="$1" -v s="$2" 'BEGIN {
		for (i = s; i < s + n; i++) {
			c = i % 300
			if (i % 7 == 3)
				printf "{\"type\":\"complaint\",\"ts\":%d,\"complaint_id\":\"P%d\",\"customer_id\":\"K%d\"}\n", 1700000000 + i, i, c
			else
				printf "{\"type\":\"rating\",\"ts\":%d,\"call_id\":\"C%d\",\"customer_id\":\"K%d\",\"agent_id\":\"A%d\",\"csat\":%d}\n", 1700000000 + i, i, c, i % 20, 1 + (i * 7 + int(i / 300)) % 5
		}
	}'
}

# paced FILE RATE: XADD FILE's events at RATE a second (background job:
# $PUSHER), through one redis-cli pipe.
paced() {
	python3 -c '
import sys, time
rate = float(sys.argv[2])
t0 = time.time()
for i, line in enumerate(open(sys.argv[1])):
    s = line.strip().replace("\\", "\\\\").replace("\"", "\\\"")
    sys.stdout.write("XADD ivr:events * json \"%s\"\n" % s)
    if i % 50 == 49:
        sys.stdout.flush()
        d = t0 + (i + 1) / rate - time.time()
        if d > 0:
            time.sleep(d)
sys.stdout.flush()
' "$1" "$2" | $R >/dev/null &
	PUSHER=$!
}

# agree NAME REPLAY DAEMON: the same alerts, and no alert_id twice.
agree() {
	if python3 tests/compare_alerts.py "$2" "$3" >"$T_DIR/cmp" 2>&1; then
		ok "$1 ($(tail -n 1 "$T_DIR/cmp"))"
	else
		fail "$1" "$(head -n 20 "$T_DIR/cmp")"
	fi
	check_eq "$1: no alert_id twice" \
	    "$(python3 -c 'import json, sys; ids = [json.loads(l)["alert_id"] for l in open(sys.argv[1]) if l.strip()]; print(len(ids) - len(set(ids)))' "$3")" 0
}

owner_pid() { $R GET "$LEASE_KEY" | sed 's/.*://'; }
alerts_now() { echo $(( $($R XLEN ivr:alerts) + $($R LLEN dialer:callbacks) )); }
# grows_from N: more alerts than N
grows_from() { [ "$(alerts_now)" -gt "$1" ]; }

# --- 1. one daemon, kill -9 ten times -----------------------------------------
events 20000 0 > "$T_DIR/e1.jsonl"
$C replay --json --rules "$CONF" "$T_DIR/e1.jsonl" > "$T_DIR/r1.jsonl" 2>"$T_DIR/r1.err"
check "replay of 20,000 events" grep -q "20000 events, 0 invalid" "$T_DIR/r1.err"
check "replay fired every rule" sh -c "for r in low repeat slump complaint-after; do grep -q \"\\\"rule\\\":\\\"\$r\\\"\" '$T_DIR/r1.jsonl' || exit 1; done"
paced "$T_DIR/e1.jsonl" 2500
t_daemon "$CONF" "$T_DIR/d1.log"
kills=0
mid=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	before=$(alerts_now)
	# kill it once it got going again (it took the lease over first)
	t_wait 10 grows_from "$before"
	sleep 0.1
	kill -9 "$T_DAEMON"
	wait "$T_DAEMON" 2>/dev/null
	kills=$((kills + 1))
	[ "$(pending)" -gt 0 ] || [ "$(lag)" -gt 0 ] && mid=$((mid + 1))
	t_daemon "$CONF" "$T_DIR/d1.log"
done
wait "$PUSHER"
check_eq "ten kill -9" "$kills" 10
check "the kills landed while entries were unprocessed ($mid of 10)" [ "$mid" -ge 5 ]
check "20,000 events pushed" [ "$($R XLEN ivr:events)" -eq 20000 ]
check "drained after ten kill -9" t_wait 60 drained
daemon_alerts "$T_DIR/a1.jsonl"
agree "ten kill -9: alerts equal replay" "$T_DIR/r1.jsonl" "$T_DIR/a1.jsonl"
check_eq "ten kill -9: nothing pending" "$(pending)" 0
check_eq "ten kill -9: nothing dead-lettered" "$($R XLEN ivr:events:dead)" 0
check "takeovers logged" [ "$(grep -c "this daemon decides the stream now" "$T_DIR/d1.log")" -ge 11 ]
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
$R FLUSHALL >/dev/null

# --- 2. three daemons, the owner killed four times --------------------------------
events 10000 0 > "$T_DIR/e2.jsonl"
$C replay --json --rules "$CONF" "$T_DIR/e2.jsonl" > "$T_DIR/r2.jsonl" 2>"$T_DIR/r2.err"
for n in 1 2 3; do t_daemon "$CONF" "$T_DIR/m.log"; done
check "one of three takes the lease" t_wait 5 sh -c "[ -n \"\$(redis-cli -s '$T_REDIS_SOCK' GET '$LEASE_KEY')\" ]"
paced "$T_DIR/e2.jsonl" 1000
killed=""
for i in 1 2 3 4; do
	before=$(alerts_now)
	t_wait 10 grows_from "$before"
	sleep 0.5
	p=$(owner_pid)
	kill -9 "$p" 2>/dev/null && killed="$killed $p"
	wait "$p" 2>/dev/null
	t_daemon "$CONF" "$T_DIR/m.log"
	# a standby (not the new one) takes over within ha.lease
	t_wait 5 sh -c "[ \"\$(redis-cli -s '$T_REDIS_SOCK' GET '$LEASE_KEY' | sed 's/.*://')\" != $p ]"
done
wait "$PUSHER"
check_eq "four owners killed" "$(echo $killed | wc -w)" 4
check "three daemons drain after the owner was killed four times" t_wait 60 drained
daemon_alerts "$T_DIR/a2.jsonl"
agree "owner killed four times: alerts equal replay" "$T_DIR/r2.jsonl" "$T_DIR/a2.jsonl"
check_eq "owner killed: nothing pending" "$(pending)" 0
check_eq "owner killed: nothing dead-lettered" "$($R XLEN ivr:events:dead)" 0
check_eq "only the owner is a consumer of the group" \
    "$($R XINFO CONSUMERS ivr:events recoveryd | grep -c '^name$')" 1
for p in $T_PIDS; do kill -TERM "$p" 2>/dev/null; done
for p in $T_PIDS; do wait "$p" 2>/dev/null; done

# --- a clean stop on an idle stream: the blocked read is unblocked
# (CLIENT UNBLOCK from the write connection, not the end of its BLOCK),
# the lease given up; an ACL user denied CLIENT stops as before -----------
$R CONFIG RESETSTAT >/dev/null
t_daemon "$CONF" "$T_DIR/s1.log"
check "idle: the daemon owns the stream" t_wait 10 grep -q 'decides the stream now' "$T_DIR/s1.log"
sleep 0.3
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "idle: SIGTERM exits 0" "$?" 0
check "idle: its blocked read was unblocked" sh -c "$R INFO commandstats | grep -q '^cmdstat_client|unblock:calls=1,'"
check_eq "idle: the lease given up" "$($R EXISTS "$LEASE_KEY")" 0
$R ACL SETUSER noclient on '>pw-of-noclient' '~*' '&*' '+@all' '-client' >/dev/null
$R CONFIG RESETSTAT >/dev/null
t_bg env REDIS_USERNAME=noclient REDIS_PASSWORD=pw-of-noclient \
    "$BUILD/recoveryd" -f -c "$CONF" 2>>"$T_DIR/s2.log"
T_DAEMON=$T_LAST
check "no CLIENT right: the daemon owns the stream" t_wait 10 grep -q 'decides the stream now' "$T_DIR/s2.log"
n0=$(alerts_now)
$C -c "$CONF" push rating call_id=NC1 customer_id=NC1 csat=1 >/dev/null
check "no CLIENT right: events are decided" t_wait 10 grows_from "$n0"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "no CLIENT right: SIGTERM exits 0" "$?" 0
check "no CLIENT right: nothing unblocked" sh -c "! $R INFO commandstats | grep -q '^cmdstat_client|unblock:'"
check_eq "no CLIENT right: the lease given up" "$($R EXISTS "$LEASE_KEY")" 0
if [ "$T_FAIL" -gt 0 ]; then
	echo "--- logs"
	tail -n 30 "$T_DIR/d1.log" "$T_DIR/m.log"
fi
t_done
