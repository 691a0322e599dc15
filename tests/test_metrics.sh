#!/bin/sh
# test_metrics.sh — the README's "Metrics and health" against the real daemon:
# /metrics counts
# exactly what was sent (events by type, invalid entries by reason, rule
# firings, alerts by channel), in a format promtool accepts; /healthz
# follows Redis going away and coming back; unknown paths are 404 and
# other methods 405; "recoveryctl stats" shows the daemon's figures.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start

CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
CTL="$BUILD/recoveryctl -c $CONF"
PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"

# http METHOD PATH: the status code on the first line, then the body
# (python3, since curl may be missing). "000" when nothing answers.
http() {
	python3 - "$1" "127.0.0.1" "$PORT" "$2" <<'PY'
import http.client, sys
m, host, port, path = sys.argv[1:]
try:
    c = http.client.HTTPConnection(host, int(port), timeout=5)
    c.request(m, path)
    r = c.getresponse()
    body = r.read().decode("utf-8", "replace")
    print(r.status)
    print("content-type: %s" % r.getheader("Content-Type"), file=sys.stderr)
    sys.stdout.write(body)
except OSError as e:
    print("000")
    print(e, file=sys.stderr)
PY
}
code() { http "$1" "$2" 2>/dev/null | head -n 1; }
scrape() { http GET /metrics 2>/dev/null | tail -n +2 > "$T_DIR/metrics.txt"; }
# m SERIES: the value of one sample of the last scrape ("" if absent).
m() { awk -v s="$1 " 'index($0, s) == 1 { print $NF }' "$T_DIR/metrics.txt"; }

t_config "$CONF" <<'RULES'
  poisoned: {type: list, key: "poison:key"}
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: [supervisors, dialer], message: "low CSAT {{csat}}"}]
  - name: complaint
    on: complaint
    actions: [{notify: [supervisors, log], message: "complaint {{complaint_id}}"}]
  - name: poison
    on: call
    if: call_id == 'POISON'
    actions: [{notify: poisoned}]
RULES
sed -i "s|^http: .*|http: {listen: \"127.0.0.1:$PORT\"}|" "$CONF"
check "config is valid" "$BUILD/recoveryd" -t -c "$CONF"

out=$($CTL stats 2>&1)
check_eq "stats before any daemon exits 1" "$?" 1
check_eq "stats says there is none" "$(echo "$out" | tail -n 1)" \
    "recoveryctl: no running daemons reported in the last 30 s"

# --- known traffic -----------------------------------------------------------
# Valid: 5 ratings (csat 1 and 2 fire low-csat), 3 calls, 2 complaints
# (each fires complaint), 1 other. Invalid: out_of_range x2,
# missing_field, json, missing_type, bad_value.
for i in 1 2 3 4 5; do
	$R XADD ivr:events '*' type rating call_id "R$i" customer_id "K$i" csat "$i" >/dev/null
done
for i in 1 2 3; do
	$R XADD ivr:events '*' type call call_id "C$i" customer_id "K$i" >/dev/null
done
for i in 1 2; do
	$R XADD ivr:events '*' type complaint complaint_id "P$i" customer_id "K$i" >/dev/null
done
$R XADD ivr:events '*' type survey foo bar >/dev/null
$R XADD ivr:events '*' type rating call_id X1 customer_id K9 csat 7 >/dev/null
$R XADD ivr:events '*' type rating call_id X2 customer_id K9 nps 11 >/dev/null
$R XADD ivr:events '*' type rating call_id X3 csat 1 >/dev/null
$R XADD ivr:events '*' json '[1, 2, 3]' >/dev/null
$R XADD ivr:events '*' call_id X4 customer_id K9 >/dev/null
$R XADD ivr:events '*' type rating call_id X5 customer_id K9 csat abc >/dev/null

t_daemon "$CONF" "$LOG"
check "events drained" t_wait 10 drained
counted() {
	scrape
	[ "$(m 'recoveryd_batches_total')" != "" ] &&
	[ "$(m 'recoveryd_event_latency_seconds_count')" = 17 ]
}
check "metrics count all 17 entries" t_wait 5 counted

http GET /metrics > "$T_DIR/metrics.http" 2>"$T_DIR/metrics.hdr"
check_eq "GET /metrics is 200" "$(head -n 1 "$T_DIR/metrics.http")" 200
check_eq "content type is the text format 0.0.4" "$(cat "$T_DIR/metrics.hdr")" \
    "content-type: text/plain; version=0.0.4; charset=utf-8"

check_eq "events rating" "$(m 'recoveryd_events_total{type="rating"}')" 5
check_eq "events call" "$(m 'recoveryd_events_total{type="call"}')" 3
check_eq "events complaint" "$(m 'recoveryd_events_total{type="complaint"}')" 2
check_eq "events other" "$(m 'recoveryd_events_total{type="other"}')" 1
check_eq "invalid out_of_range" "$(m 'recoveryd_events_invalid_total{reason="out_of_range"}')" 2
check_eq "invalid missing_field" "$(m 'recoveryd_events_invalid_total{reason="missing_field"}')" 1
check_eq "invalid json" "$(m 'recoveryd_events_invalid_total{reason="json"}')" 1
check_eq "invalid missing_type" "$(m 'recoveryd_events_invalid_total{reason="missing_type"}')" 1
check_eq "invalid bad_value" "$(m 'recoveryd_events_invalid_total{reason="bad_value"}')" 1
check_eq "zero series present: utf8" "$(m 'recoveryd_events_invalid_total{reason="utf8"}')" 0
check_eq "zero series present: max_deliveries" \
    "$(m 'recoveryd_events_invalid_total{reason="max_deliveries"}')" 0
# 11 dead-letter reasons of invalid input, max_deliveries, enrich, decide
check_eq "every invalid reason has a series" \
    "$(grep -c '^recoveryd_events_invalid_total{' "$T_DIR/metrics.txt")" 14
check_eq "zero series present: enrich" \
    "$(m 'recoveryd_events_invalid_total{reason="enrich"}')" 0
check_eq "owner gauge: the only daemon owns the stream" "$(m 'recoveryd_owner')" 1
check_eq "one takeover" "$(m 'recoveryd_takeovers_total')" 1
check_eq "fires low-csat" "$(m 'recoveryd_rule_fires_total{rule="low-csat"}')" 2
check_eq "fires complaint" "$(m 'recoveryd_rule_fires_total{rule="complaint"}')" 2
check_eq "rule that never fired has no series" \
    "$(m 'recoveryd_rule_fires_total{rule="poison"}')" ""
check_eq "alerts supervisors ok" \
    "$(m 'recoveryd_alerts_total{channel="supervisors",result="ok"}')" 4
check_eq "alerts dialer ok" "$(m 'recoveryd_alerts_total{channel="dialer",result="ok"}')" 2
check_eq "alerts log ok" "$(m 'recoveryd_alerts_total{channel="log",result="ok"}')" 2
check_eq "alerts match the stream" "$($R XLEN ivr:alerts)" 4
check_eq "histogram +Inf bucket equals count" \
    "$(m 'recoveryd_event_latency_seconds_bucket{le="+Inf"}')" 17
check "histogram buckets are cumulative" awk '
	/^recoveryd_event_latency_seconds_bucket/ { if ($2 < prev) exit 1; prev = $2; n++ }
	END { exit n == 15 ? 0 : 1 }' "$T_DIR/metrics.txt"
check "latency sum is a number" sh -c \
    "grep -Eq '^recoveryd_event_latency_seconds_sum [0-9.e+-]+$' '$T_DIR/metrics.txt'"
check_eq "rules loaded" "$(m recoveryd_rules_loaded)" 3
check_eq "up" "$(m recoveryd_up)" 1
check "build info carries the version" grep -Eq \
    '^recoveryd_build_info\{version="[^"]+"\} 1$' "$T_DIR/metrics.txt"
check "start time is recent" python3 -c '
import sys, time
t = float(sys.argv[1])
assert time.time() - 60 < t <= time.time(), t' "$(m recoveryd_start_time_seconds)"
check_eq "reloads ok 0" "$(m 'recoveryd_rules_reloads_total{result="ok"}')" 0
check "every family has HELP and TYPE" awk '
	/^# HELP / { help[$3] = 1; next }
	/^# TYPE / { type[$3] = 1; next }
	{ name = $1; sub(/\{.*/, "", name); sub(/_(bucket|sum|count)$/, "", name)
	  if (!(name in help) || !(name in type)) { print name; bad = 1 } }
	END { exit bad }' "$T_DIR/metrics.txt"

PATH="$PATH:$(pwd)/build/tools"
if command -v promtool >/dev/null 2>&1; then
	if promtool check metrics < "$T_DIR/metrics.txt" > "$T_DIR/promtool.out" 2>&1; then
		ok "promtool check metrics"
	else
		fail "promtool check metrics" "$(cat "$T_DIR/promtool.out")"
	fi
else
	echo "skip promtool (install the prometheus package)"
fi

# Gauges the tick measures every 5 s.
gauges() {
	scrape
	[ "$(m recoveryd_stream_lag)" = 0 ] && [ "$(m recoveryd_cases_open)" != "" ]
}
check "stream lag and open cases gauges appear" t_wait 8 gauges
# The state cache: Redis was empty, so nothing was loaded from it, and
# nothing evicted under state.cache (the gauge: at the end).
scrape
check_eq "nothing loaded from an empty Redis" "$(m recoveryd_state_loaded_total)" 0
check_eq "nothing evicted under state.cache" "$(m recoveryd_state_evicted_total)" 0

# --- reload ------------------------------------------------------------------
kill -HUP "$T_DAEMON"
reloaded() { scrape; [ "$(m 'recoveryd_rules_reloads_total{result="ok"}')" = 1 ]; }
check "SIGHUP counted as an ok reload" t_wait 5 reloaded

# --- HTTP surface ----------------------------------------------------------------
check_eq "/healthz 200 while Redis is up" "$(http GET /healthz 2>/dev/null | tr '\n' ' ')" "200 ok "
check_eq "/nope is 404" "$(code GET /nope)" 404
check_eq "/ is 404" "$(code GET /)" 404
check_eq "POST /metrics is 405" "$(code POST /metrics)" 405
check_eq "DELETE /healthz is 405" "$(code DELETE /healthz)" 405
check_eq "HEAD /metrics is 200 without a body" "$(http HEAD /metrics 2>/dev/null | wc -c)" 4
check_eq "query strings are ignored" "$(code GET '/metrics?x=1')" 200

# --- recoveryctl stats ---------------------------------------------------------
row() {
	$CTL stats --json 2>/dev/null | python3 -c '
import json, sys
pid = sys.argv[1]
for line in sys.stdin:
    d = json.loads(line)
    if d["consumer"].endswith(":" + pid):
        print(d["events"], d["invalid"], d["fires"], d["alerts_ok"], d["lag"])' "$T_DAEMON"
}
published() { [ "$(row)" = "11 6 4 8 0" ]; }
check "stats --json: the daemon's events, invalid, fires, alerts, lag" t_wait 8 published
$CTL stats > "$T_DIR/stats.out" 2>&1
check_eq "stats exits 0" "$?" 0
check "stats table has the daemon's row with 11 events" awk -v pid="$T_DAEMON" '
	$1 ~ (":" pid "$") && $2 == 11 { found = 1 } END { exit !found }' "$T_DIR/stats.out"
check "stats table has a TOTAL row" awk '$1 == "TOTAL" && $2 == 11 { f = 1 } END { exit !f }' \
    "$T_DIR/stats.out"
NAME=$($CTL stats --json 2>/dev/null | python3 -c '
import json, sys
print(json.loads(sys.stdin.readline())["consumer"])')
check "stats hash ivr:daemon:$NAME expires within 30 s" sh -c \
    "t=\$($R TTL 'ivr:daemon:$NAME'); [ \"\$t\" -gt 0 ] && [ \"\$t\" -le 30 ]"
check_eq "stats rejects unknown options (2)" "$($CTL stats --bogus >/dev/null 2>&1; echo $?)" 2

# --- health follows Redis ------------------------------------------------------
t_redis_stop
unhealthy() { [ "$(code GET /healthz)" = 503 ]; }
check "/healthz 503 after Redis stops" t_wait 5 unhealthy
reason=$(http GET /healthz 2>/dev/null | tail -n +2)
check "503 body gives a reason mentioning redis" sh -c "echo '$reason' | grep -qi redis"
check_eq "/metrics still served without Redis" "$(code GET /metrics)" 200
check_eq "stats exits 3 when Redis is unreachable" "$($CTL stats >/dev/null 2>&1; echo $?)" 3
t_redis_start
healthy() { [ "$(code GET /healthz)" = 200 ]; }
check "/healthz 200 again after Redis restarts" t_wait 15 healthy
reconn() { scrape; [ "$(m recoveryd_redis_reconnects_total)" -ge 1 ]; }
check "reconnects counted" t_wait 5 reconn

# --- an alert that cannot be written; max_deliveries ---------------------------
$R SET poison:key "not a list" >/dev/null
$R XADD ivr:events '*' type call call_id POISON customer_id K3 >/dev/null
failed() { scrape; [ "$(m 'recoveryd_alerts_total{channel="poisoned",result="failed"}')" = 1 ]; }
check "an alert that cannot be written counted as failed" t_wait 20 failed
# An entry a crashing owner was delivered 10 times: dead-lettered.
$R EVAL "local id = redis.call('XADD', KEYS[1], '*', 'type', 'call', 'call_id', 'P9', 'customer_id', 'K3')
redis.call('XREADGROUP', 'GROUP', 'recoveryd', 'crashed', 'COUNT', 1, 'STREAMS', KEYS[1], '>')
redis.call('XCLAIM', KEYS[1], 'recoveryd', 'crashed', 0, id, 'RETRYCOUNT', 10)
return id" 1 ivr:events >/dev/null
$R XADD ivr:events '*' type call call_id P10 customer_id K3 >/dev/null
dead() { scrape; [ "$(m 'recoveryd_events_invalid_total{reason="max_deliveries"}')" = 1 ]; }
check "poison entry counted as max_deliveries" t_wait 20 dead

# The state cache gauge: a new case's entities are in memory. (Checked
# with an event of its own: the daemon drops its cache whenever it
# decides its pending entries again, as the crashed consumer's above
# may make it, and the gauge is 0 until events come.)
$R XADD ivr:events '*' type rating call_id CG1 customer_id KG1 csat 1 >/dev/null
cached() { scrape; [ "$(m recoveryd_state_cache_entities)" -gt 0 ] 2>/dev/null; }
check "state cache gauge counts the entities in memory" t_wait 10 cached

kill -TERM "$T_DAEMON"
check "daemon exits" t_wait 15 sh -c "! kill -0 $T_DAEMON 2>/dev/null"
check_eq "listener closed after exit" "$(code GET /metrics)" 000
check "no sanitizer or error output" sh -c "! grep -Eq 'runtime error|AddressSanitizer|LeakSanitizer' '$LOG'"
t_done
