#!/bin/sh
# test_stateful.sh — stateful rules through the real daemon and Redis,
# against `recoveryctl replay` of the same events (the same store, once
# backed by Redis, once in memory), and escalation on the wall clock:
# steps on time, an ack stops the rest, a step due while the daemon is
# down runs once after the restart.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
C=$BUILD/recoveryctl

# agree NAME REPLAY DAEMON [SKIP_CHANNELS]: the two stores' alerts match.
agree() {
	if python3 tests/compare_alerts.py "$2" "$3" ${4:-} >"$T_DIR/cmp" 2>&1; then
		ok "$1 ($(tail -n 1 "$T_DIR/cmp"))"
	else
		fail "$1" "$(head -n 20 "$T_DIR/cmp")"
	fi
}

# --- 1. the sample day, example rules, one daemon -----------------------
mkdir -p "$T_DIR/ex"
cp -r rules/rules.d "$T_DIR/ex/"
# The events are history (2025, 2023 below): no input.max_past_skew.
# The pager is a program that fails, so that its alerts stay in the
# outbox or the undelivered stream, where daemon_alerts finds them.
sed -e "s|redis://127.0.0.1:6379/0|unix://$T_REDIS_SOCK|" \
    -e 's|listen: "127.0.0.1:9464"|listen: ""|' \
    -e 's|"/usr/bin/logger"|"/bin/false"|' \
    -e 's|^  max_deliveries: 5$|&\n  max_past_skew: 0|' \
    rules/recoveryd.yaml > "$T_DIR/ex/recoveryd.yaml"
$C replay --json --rules "$T_DIR/ex/recoveryd.yaml" contrib/samples/events.jsonl \
    > "$T_DIR/replay1.jsonl" 2>"$T_DIR/replay1.err"
check "replay of the sample day" [ -s "$T_DIR/replay1.jsonl" ]
check "sample day has stateful firings" grep -q '"rule":"repeat-low-csat"' "$T_DIR/replay1.jsonl"
push_jsonl contrib/samples/events.jsonl
t_daemon "$T_DIR/ex/recoveryd.yaml" "$T_DIR/d0.log"
check "sample day drained" t_wait 30 drained
daemon_alerts "$T_DIR/daemon1.jsonl"
agree "daemon and replay agree on the sample day" "$T_DIR/replay1.jsonl" "$T_DIR/daemon1.jsonl" log
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
$R FLUSHALL >/dev/null

# --- 2. three daemons, 50,000 events ------------------------------------
# One of them owns the stream and decides it in order; the two others
# stand by.
cat > "$T_DIR/multi.yaml" <<CONF
redis: {url: "unix://$T_REDIS_SOCK"}
input: {batch: 64, claim_idle: 2s, max_past_skew: 0}
http: {listen: ""}
defaults: {cooldown: 0, severity: medium}
channels:
  supervisors: {type: stream, key: ivr:alerts}
  dialer: {type: list, key: dialer:callbacks}
rules:
  - name: low
    on: rating
    if: csat <= 2
    actions: [{notify: dialer}]
  - name: repeat
    on: rating
    if: csat <= 2
    count: {by: customer_id, at_least: 2, within: 3h}
    cooldown: 2h
    actions: [{notify: supervisors, message: "{{customer_id}} {{count}}"}]
  - name: slump
    on: rating
    aggregate: {by: agent_id, value: avg(csat), within: 4h, min_samples: 3, alert_if: value < 2.5}
    cooldown: 3h
    actions: [{notify: supervisors}]
  - name: promoters
    on: rating
    aggregate: {by: agent_id, value: nps(nps), within: 4h, min_samples: 4, alert_if: value >= 50 and samples < 6}
    actions: [{notify: supervisors}]
  - name: complaint-after
    on: complaint
    after: {rule: repeat, by: customer_id, within: 6h}
    severity: critical
    actions: [{notify: [supervisors, dialer]}]
CONF
awk 'BEGIN {
	for (i = 0; i < 50000; i++) {
		c = i % 2000
		if (i % 7 == 3)
			printf "{\"type\":\"complaint\",\"ts\":%d,\"complaint_id\":\"P%d\",\"customer_id\":\"K%d\"}\n", 1700000000 + i, i, c
		else
			printf "{\"type\":\"rating\",\"ts\":%d,\"call_id\":\"C%d\",\"customer_id\":\"K%d\",\"agent_id\":\"A%d\",\"csat\":%d,\"nps\":%d}\n", 1700000000 + i, i, c, c, 1 + (i * 7 + int(i / 2000)) % 5, (i * 3 + int(i / 2000)) % 11
	}
}' > "$T_DIR/multi.jsonl"
$C replay --json --rules "$T_DIR/multi.yaml" "$T_DIR/multi.jsonl" \
    > "$T_DIR/replay2.jsonl" 2>"$T_DIR/replay2.err"
check "replay of 50,000 events" grep -q "50000 events, 0 invalid" "$T_DIR/replay2.err"
push_jsonl "$T_DIR/multi.jsonl"
for n in 1 2 3; do
	t_daemon "$T_DIR/multi.yaml" "$T_DIR/m$n.log"
done
check "three daemons drain 50,000 events" t_wait 120 drained
daemon_alerts "$T_DIR/daemon2.jsonl"
agree "three daemons produce exactly replay's alerts" "$T_DIR/replay2.jsonl" "$T_DIR/daemon2.jsonl"
check_eq "one of three daemons owns the stream" \
    "$(grep -l 'this daemon decides the stream now' "$T_DIR"/m[123].log | wc -l)" 1
check_eq "only the owner reads the group" \
    "$($R XINFO CONSUMERS ivr:events recoveryd | grep -c '^name$')" 1
for p in $T_PIDS; do kill -TERM "$p" 2>/dev/null; done
sleep 1.5
check "state.cache holds what these rules keep: no warning" \
    sh -c "! grep -q 'state.cache .* is too small' '$T_DIR'/m[123].log"
$R FLUSHALL >/dev/null

# --- 2c. a state.cache smaller than what the rules keep --------------------
# The first 20,000 of those events (2,000 customers and agents, each
# some entities) through one daemon whose cache holds 1,000 entities:
# every event's state is evicted before its key comes round again and
# is loaded back from Redis. The alerts are still exactly replay's, and
# the daemon says that state.cache is too small.
head -n 20000 "$T_DIR/multi.jsonl" > "$T_DIR/small.jsonl"
sed 's|^input: {|state: {cache: 1000}\ninput: {|' "$T_DIR/multi.yaml" \
    > "$T_DIR/small.yaml"
check "the small-cache configuration is valid" "$BUILD/recoveryd" -t -c "$T_DIR/small.yaml"
$C replay --json --rules "$T_DIR/small.yaml" "$T_DIR/small.jsonl" \
    > "$T_DIR/replay2c.jsonl" 2>"$T_DIR/replay2c.err"
push_jsonl "$T_DIR/small.jsonl"
t_daemon "$T_DIR/small.yaml" "$T_DIR/small.log"
check "a daemon with state.cache 1000 drains 20,000 events" t_wait 120 drained
daemon_alerts "$T_DIR/daemon2c.jsonl"
agree "evicted and loaded again: exactly replay's alerts" "$T_DIR/replay2c.jsonl" "$T_DIR/daemon2c.jsonl"
toosmall() { grep -q 'state.cache (1000 entities) is too small' "$T_DIR/small.log"; }
check "the daemon says state.cache is too small" t_wait 20 toosmall
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
$R FLUSHALL >/dev/null

# --- 2d. a backed-up stream, few keys: batches read ahead, decided in order --
# 20,000 events of three customers and two agents waiting in the stream:
# the daemon reads up to two batches ahead of the one it decides, and
# every batch holds events of the keys of the batches before it, with
# cooldowns and windows that span batches. Decided in any other order
# than the stream's (a read-ahead batch before one read earlier), the
# counts, aggregates and cooldowns would fire elsewhere than replay.
# (customer.tier: each batch also reads the CRM hashes, one more round
# trip for the reads ahead to overlap.)
cat > "$T_DIR/few.yaml" <<CONF
redis: {url: "unix://$T_REDIS_SOCK"}
input: {batch: 64, max_past_skew: 0}
http: {listen: ""}
defaults: {cooldown: 0, severity: medium}
channels:
  supervisors: {type: stream, key: ivr:alerts}
rules:
  - name: thrice
    on: rating
    if: csat <= 2 and not (customer.tier == 'gold')
    count: {by: customer_id, at_least: 3, within: 2m}
    cooldown: 5m
    case: none
    actions: [{notify: supervisors, message: "{{customer_id}} {{count}}"}]
  - name: sag
    on: rating
    aggregate: {by: agent_id, value: avg(csat), within: 10m, min_samples: 5, alert_if: value < 2.9}
    cooldown: 7m
    case: none
    actions: [{notify: supervisors}]
CONF
# Bad ratings come in bursts of 50 s every 200 s, and for 1,000 s in every
# 3,000 s: a count (edge-triggered) fires at most once a burst, a
# cooldown lets every other one through, the agents' averages sag.
awk 'BEGIN {
	for (i = 0; i < 20000; i++) {
		j = int(i / 50)
		low = j % 4 == 0 || int(j / 20) % 3 == 0
		printf "{\"type\":\"rating\",\"ts\":%d,\"call_id\":\"F%d\",\"customer_id\":\"K%d\",\"agent_id\":\"A%d\",\"csat\":%d}\n", 1700000000 + i, i, i % 3, i % 2, low ? 1 + i % 2 : 4 + i % 2
	}
}' > "$T_DIR/few.jsonl"
$C replay --json --rules "$T_DIR/few.yaml" "$T_DIR/few.jsonl" \
    > "$T_DIR/replay2d.jsonl" 2>"$T_DIR/replay2d.err"
check_eq "few keys: replay's firings of each rule" \
    "$(grep -o '"rule":"[a-z]*"' "$T_DIR/replay2d.jsonl" | sort | uniq -c |
    awk '{ printf "%s %s ", $2, $1 }')" '"rule":"sag" 50 "rule":"thrice" 99 '
push_jsonl "$T_DIR/few.jsonl"
t_daemon "$T_DIR/few.yaml" "$T_DIR/few.log"
check "a daemon drains 20,000 waiting events of five keys" t_wait 120 drained
daemon_alerts "$T_DIR/daemon2d.jsonl"
agree "read ahead, few keys: exactly replay's alerts" "$T_DIR/replay2d.jsonl" "$T_DIR/daemon2d.jsonl"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
$R FLUSHALL >/dev/null

# --- 2e. the wall clock stepping back while batches are read ahead ---------
# An NTP step: the daemon's wall clock (tests/clockshim.so, an
# LD_PRELOAD) jumps 10 s back and forth again and again while the same
# 20,000 waiting events are drained. Batches are ordered by the order
# they began in, not by the clock: exactly replay's alerts again.
SHIM=$PWD/$BUILD/tests/clockshim.so
CLOCK=$T_DIR/clock
echo 0 > "$CLOCK"
push_jsonl "$T_DIR/few.jsonl"
(
	i=0
	while [ ! -f "$T_DIR/clock.stop" ]; do
		i=$((i + 1))
		echo $(((i % 2) * -10000)) > "$CLOCK.new"
		mv "$CLOCK.new" "$CLOCK"
	done
) &
stepper=$!
LD_PRELOAD=$SHIM CLOCKSHIM_FILE=$CLOCK t_daemon "$T_DIR/few.yaml" "$T_DIR/few2.log"
check "20,000 waiting events drained, the clock stepping back" t_wait 120 drained
touch "$T_DIR/clock.stop"
wait "$stepper"
daemon_alerts "$T_DIR/daemon2e.jsonl"
agree "the clock stepping back: exactly replay's alerts" "$T_DIR/replay2d.jsonl" "$T_DIR/daemon2e.jsonl"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
$R FLUSHALL >/dev/null

# --- 2b. late events: aggregates on out-of-order event times ---------------
# Event times jump back and forth by up to 5 minutes (well inside the
# windows): many events arrive late for their key, which the Redis store
# judges from its running totals (sum, avg, count, nps) or by a scan (min,
# max), and the memory store by a scan. Both must agree exactly.
cat > "$T_DIR/late.yaml" <<CONF
redis: {url: "unix://$T_REDIS_SOCK"}
input: {max_past_skew: 0}
http: {listen: ""}
defaults: {cooldown: 0}
channels:
  supervisors: {type: stream, key: ivr:alerts}
rules:
  - name: avg-low
    on: rating
    aggregate: {by: agent_id, value: avg(csat), within: 30m, min_samples: 4, alert_if: value <= 2.5}
    actions: [{notify: supervisors}]
  - name: sum-high
    on: rating
    aggregate: {by: queue, value: sum(csat), within: 20m, min_samples: 1, alert_if: value >= 60 and value < 64}
    actions: [{notify: supervisors}]
  - name: nps-bad
    on: rating
    aggregate: {by: queue, value: nps(nps), within: 1h, min_samples: 10, alert_if: value <= -30}
    actions: [{notify: supervisors}]
  - name: busy
    on: rating
    aggregate: {by: agent_id, value: count(), within: 15m, min_samples: 1, alert_if: value == 7}
    actions: [{notify: supervisors}]
  - name: min-max
    on: rating
    aggregate: {by: queue, value: max(csat), within: 10m, min_samples: 3, alert_if: value <= 2}
    actions: [{notify: supervisors}]
CONF
awk 'BEGIN {
	srand(7)
	for (i = 0; i < 3000; i++) {
		ts = 1700000000 + i * 20 + int(rand() * 600) - 300
		printf "{\"type\":\"rating\",\"ts\":%d,\"call_id\":\"L%d\",\"customer_id\":\"K%d\",\"agent_id\":\"A%d\",\"queue\":\"Q%d\",\"csat\":%d,\"nps\":%d}\n", ts, i, i, i % 3, i % 2, 1 + int(rand() * 5), int(rand() * 11)
	}
}' > "$T_DIR/late.jsonl"
$C replay --json --rules "$T_DIR/late.yaml" "$T_DIR/late.jsonl" \
    > "$T_DIR/replay3.jsonl" 2>"$T_DIR/replay3.err"
check "late events: replay fired every aggregate rule" sh -c \
    "for r in avg-low sum-high nps-bad busy min-max; do grep -q \"\\\"rule\\\":\\\"\$r\\\"\" '$T_DIR/replay3.jsonl' || exit 1; done"
push_jsonl "$T_DIR/late.jsonl"
t_daemon "$T_DIR/late.yaml" "$T_DIR/late.log"
check "late events drained" t_wait 60 drained
daemon_alerts "$T_DIR/daemon3.jsonl"
agree "late events: daemon and replay agree" "$T_DIR/replay3.jsonl" "$T_DIR/daemon3.jsonl"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
$R FLUSHALL >/dev/null

# --- 3. escalation on the wall clock --------------------------------------
CONF=$T_DIR/esc.yaml
t_config "$CONF" <<'RULES'
rules:
  - name: detractor
    on: rating
    if: nps <= 6
    severity: high
    actions: [{notify: supervisors, message: "detractor {{customer_id}}"}]
    escalate:
      - {after: 2s, notify: supervisors, message: "step1 {{case_id}}"}
      - {after: 4s, notify: [supervisors, dialer], message: "step2 {{case_id}}"}
RULES
# step_alerts CASE STEP: how many stream alerts that step of the case made.
step_alerts() {
	stream_field ivr:alerts alert_id | grep -c "^$1/detractor/step$2/supervisors$"
}
# ms_of RFC3339: epoch milliseconds.
ms_of() { python3 -c 'import sys, datetime; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp() * 1000))' "$1"; }
t_daemon "$CONF" "$T_DIR/esc.log"
$R XADD ivr:events '*' type rating call_id E1 customer_id K1 nps 2 >/dev/null
$R XADD ivr:events '*' type rating call_id E2 customer_id K2 nps 2 >/dev/null
check "escalation: events drained" t_wait 10 drained
C1=$($R GET ivr:opencase:K1)
C2=$($R GET ivr:opencase:K2)
check "escalation: two cases" [ -n "$C1" ] && [ -n "$C2" ] && [ "$C1" != "$C2" ]
check "escalation: step 1 ran" t_wait 5 sh -c "[ \$(redis-cli -s '$T_REDIS_SOCK' XLEN ivr:alerts) -ge 4 ]"
"$C" -c "$CONF" ack "$C2" --by tester --note "calling back" >/dev/null
check_eq "ack recorded" "$($R HGET "ivr:case:$C2" acked_by)" tester
check "escalation: step 2 ran for the open case" t_wait 6 sh -c \
    "redis-cli -s '$T_REDIS_SOCK' LRANGE dialer:callbacks 0 -1 | grep -q '$C1/detractor/step2'"
sleep 1
check_eq "step 1 once for the open case" "$(step_alerts "$C1" 1)" 1
check_eq "step 2 once for the open case" "$(step_alerts "$C1" 2)" 1
check_eq "step 1 ran before the ack" "$(step_alerts "$C2" 1)" 1
check_eq "no step 2 after the ack" "$(step_alerts "$C2" 2)" 0
opened=$(ms_of "$($R HGET "ivr:case:$C1" opened_at)")
s1=$(ms_of "$(stream_field ivr:alerts fired_at | sed -n 3,4p | head -n 1)")
check "step 1 about 2 s after the case opened" [ $((s1 - opened)) -ge 2000 ] && [ $((s1 - opened)) -lt 3600 ]
check_eq "case step field" "$($R HGET "ivr:case:$C1" step)" 2

# A step due while the daemon is down runs once after the restart.
$R XADD ivr:events '*' type rating call_id E3 customer_id K3 nps 1 >/dev/null
check "restart: case opened" t_wait 10 sh -c "redis-cli -s '$T_REDIS_SOCK' EXISTS ivr:opencase:K3 | grep -q 1"
C3=$($R GET ivr:opencase:K3)
kill -9 "$T_DAEMON"
wait "$T_DAEMON" 2>/dev/null
sleep 5
check_eq "restart: nothing ran while down" "$(step_alerts "$C3" 1)" 0
t_daemon "$CONF" "$T_DIR/esc.log"
check "restart: overdue steps run" t_wait 10 sh -c \
    "redis-cli -s '$T_REDIS_SOCK' LRANGE dialer:callbacks 0 -1 | grep -q '$C3/detractor/step2'"
sleep 2
check_eq "restart: step 1 once" "$(step_alerts "$C3" 1)" 1
check_eq "restart: step 2 once" "$(step_alerts "$C3" 2)" 1

# Housekeeping: an expired case leaves the ivr:cases index.
$R ZADD ivr:cases 1000 c-long-gone >/dev/null
check "expired case IDs leave the index" t_wait 5 sh -c \
    "[ -z \"\$(redis-cli -s '$T_REDIS_SOCK' ZSCORE ivr:cases c-long-gone)\" ]"
check_eq "live cases stay in the index" "$($R ZSCORE ivr:cases "$C3" | grep -c .)" 1
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"

t_done
