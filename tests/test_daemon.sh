#!/bin/sh
# test_daemon.sh — recoveryd against a real redis-server: channels write
# the README's "Channels" fields, enrichment, cases opened then joined, every
# kind
# of bad input dead-lettered with its reason, a poison entry dead-lettered
# after max_deliveries, SIGHUP reloads (good and broken), SIGTERM exits 0.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start

CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
write_rules() {
	t_config "$CONF" <<RULES
  poisoned: {type: list, key: "poison:key"}
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions:
      - notify: supervisors
        message: "$1 {{csat}} from {{customer_id}} ({{customer.tier}})"
      - notify: dialer
  - name: vip-detractor
    on: rating
    if: customer.tier in \$vip_tiers and nps <= 6
    severity: high
    actions: [{notify: supervisors, message: "VIP {{customer_id}} NPS {{nps}}"}]
  - name: complaint
    on: complaint
    severity: critical
    actions: [{notify: [supervisors, log], message: "complaint {{complaint_id}}"}]
  - name: poison
    on: call
    if: call_id == 'POISON'
    actions: [{notify: poisoned}]
RULES
}
write_rules "Low CSAT"
check "config is valid" "$BUILD/recoveryd" -t -c "$CONF"

$R HSET ivr:customer:K1 tier gold ltv 1200 >/dev/null
$R XADD ivr:events '*' type rating call_id C1 customer_id K1 agent_id A7 \
    queue billing csat 1 nps 3 >/dev/null
t_bg sh -c "exec $R SUBSCRIBE ivr:alerts > $T_DIR/sub.out"
SUB=$T_LAST
sleep 0.2
t_daemon "$CONF" "$LOG"
check "first events drained" t_wait 10 drained

# --- channels ---------------------------------------------------------------
check_eq "two stream alerts" "$($R XLEN ivr:alerts)" 2
check_eq "stream alert fields" "$(stream_fields ivr:alerts 0)" \
    "alert_id case_id rule severity step customer_id call_id agent_id queue event_id fired_at channel message"
check_eq "stream message rendered with enrichment" \
    "$(stream_field ivr:alerts message | head -n 1)" "Low CSAT 1 from K1 (gold)"
check_eq "second alert is the VIP rule" "$(stream_field ivr:alerts rule | tail -n 1)" vip-detractor
check_eq "severity" "$(stream_field ivr:alerts severity | tail -n 1)" high
check_eq "step 0" "$(stream_field ivr:alerts step | head -n 1)" 0
EID=$($R XRANGE ivr:events - + COUNT 1 | head -n 1)
check_eq "event_id is the entry ID" "$(stream_field ivr:alerts event_id | head -n 1)" "$EID"
check_eq "alert_id derived from entry and rule" \
    "$(stream_field ivr:alerts alert_id | head -n 1)" "$EID/low-csat/0/supervisors"
FIRED=$(stream_field ivr:alerts fired_at | head -n 1)
check "fired_at is RFC 3339" sh -c "echo '$FIRED' | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$'"
check_eq "list channel got one alert" "$($R LLEN dialer:callbacks)" 1
LJSON=$($R LINDEX dialer:callbacks 0)
check "list alert is JSON with the alert fields" python3 -c '
import json, sys
a = json.loads(sys.argv[1])
want = ["alert_id", "case_id", "rule", "severity", "step", "customer_id", "call_id",
        "agent_id", "queue", "event_id", "fired_at", "channel", "message"]
assert list(a) == want, list(a)
assert a["rule"] == "low-csat" and a["channel"] == "dialer" and a["step"] == 0
assert a["customer_id"] == "K1" and a["call_id"] == "C1" and a["queue"] == "billing"
' "$LJSON"
sleep 0.2
kill "$SUB" 2>/dev/null
check "PUBLISH carried the alert JSON" grep -q '"rule":"low-csat"' "$T_DIR/sub.out"

# --- cases --------------------------------------------------------------------
CASE=$($R GET ivr:opencase:K1)
check_eq "case opened by the first firing" "$CASE" "c-$EID"
check_eq "case state" "$($R HGET "ivr:case:$CASE" state)" open
check_eq "case severity is the highest" "$($R HGET "ivr:case:$CASE" severity)" high
check_eq "case rules" "$($R HGET "ivr:case:$CASE" rules)" "low-csat,vip-detractor"
check_eq "alerts carry the case" "$(stream_field ivr:alerts case_id | sort -u)" "$CASE"
$R XADD ivr:events '*' json '{"type":"complaint","complaint_id":"P1","customer_id":"K1"}' >/dev/null
check "complaint drained" t_wait 10 drained
check_eq "complaint joined the open case" "$(stream_field ivr:alerts case_id | tail -n 1)" "$CASE"
check_eq "joined case took critical severity" "$($R HGET "ivr:case:$CASE" severity)" critical
check_eq "one case for the customer" "$($R ZCARD ivr:cases)" 1
check_eq "case lists both events" "$($R HGET "ivr:case:$CASE" events | tr ',' '\n' | wc -l)" 2

# --- bad input -------------------------------------------------------------------
before=$($R XLEN ivr:alerts)
good() { $R XADD ivr:events '*' type rating call_id "G$1" customer_id K2 csat 2 >/dev/null; }
good 1
$R XADD ivr:events '*' json '{"type": "rating", "csat": ' >/dev/null
good 2
$R XADD ivr:events '*' json '[1, 2, 3]' >/dev/null
$R XADD ivr:events '*' call_id C9 customer_id K9 csat 1 >/dev/null
$R XADD ivr:events '*' type rating customer_id K9 csat 1 >/dev/null
$R XADD ivr:events '*' type rating call_id C9 customer_id K9 csat 2.5 >/dev/null
$R XADD ivr:events '*' type rating call_id C9 customer_id K9 csat 7 >/dev/null
good 3
$R EVAL "return redis.call('XADD', 'ivr:events', '*', 'type', 'rating', 'call_id', 'C9', 'customer_id', 'K9', 'csat', '1', 'comment', 'bad ' .. string.char(255))" 0 >/dev/null
$R EVAL "return redis.call('XADD', 'ivr:events', '*', 'type', 'rating', 'call_id', 'C9', 'customer_id', 'K9', 'csat', '1', 'comment', string.rep('x', 70000))" 0 >/dev/null
deep=$(awk 'BEGIN { for (i = 0; i < 40; i++) printf "["; for (i = 0; i < 40; i++) printf "]" }')
$R XADD ivr:events '*' json "{\"type\":\"rating\",\"call_id\":\"C9\",\"customer_id\":\"K9\",\"csat\":1,\"x\":$deep}" >/dev/null
$R EVAL "local a = {'XADD', 'ivr:events', '*', 'type', 'rating', 'call_id', 'C9', 'customer_id', 'K9', 'csat', '1'}
for i = 1, 300 do a[#a + 1] = 'f' .. i; a[#a + 1] = 'v' end
return redis.call(unpack(a))" 0 >/dev/null
good 4
check "bad input drained" t_wait 10 drained
check_eq "dead-letter reasons" "$(stream_field ivr:events:dead reason | tr '\n' ' ')" \
    "json json missing_type missing_field bad_value out_of_range utf8 too_large too_deep too_many_fields "
check_eq "dead letters keep source_id" "$(stream_field ivr:events:dead source_id | wc -l)" 10
check "dead letter error names the entry and the problem" sh -c \
    "redis-cli -s '$T_REDIS_SOCK' XRANGE ivr:events:dead - + | grep -q 'rating: csat=7 out of range 1..5'"
check "dead letter keeps the original fields" sh -c \
    "redis-cli -s '$T_REDIS_SOCK' XREVRANGE ivr:events:dead + - COUNT 5 | grep -qx 'csat'"
check_eq "valid events around bad ones processed" \
    "$(( $($R XLEN ivr:alerts) - before ))" 4
check "daemon still running" kill -0 "$T_DAEMON"

# --- poison entry -------------------------------------------------------------
# An alert whose channel key holds another type cannot be written: the
# event's commit still lands (its state, its other alerts, its ack) and
# that alert goes to the undelivered stream with the error.
$R SET poison:key "not a list" >/dev/null
$R XADD ivr:events '*' type call call_id POISON customer_id K3 >/dev/null
good 5
check "an alert that cannot be written goes to ivr:alerts:undelivered" t_wait 10 sh -c \
    "redis-cli -s '$T_REDIS_SOCK' XREVRANGE ivr:alerts:undelivered + - COUNT 1 | grep -q '^WRONGTYPE'"
check "nothing left pending" t_wait 5 drained
# An entry an owner that kept crashing was delivered 10 times (more than
# max_deliveries 3): the owner takes it over and dead-letters it.
$R EVAL "local id = redis.call('XADD', KEYS[1], '*', 'type', 'rating', 'call_id', 'P9', 'customer_id', 'K3', 'csat', '1')
redis.call('XREADGROUP', 'GROUP', 'recoveryd', 'crashed', 'COUNT', 1, 'STREAMS', KEYS[1], '>')
redis.call('XCLAIM', KEYS[1], 'recoveryd', 'crashed', 0, id, 'RETRYCOUNT', 10)
return id" 1 ivr:events >/dev/null
good 6
check "poison entry dead-lettered after max_deliveries" t_wait 15 sh -c \
    "redis-cli -s '$T_REDIS_SOCK' XREVRANGE ivr:events:dead + - COUNT 1 | grep -qx max_deliveries"
check "nothing left pending" t_wait 5 drained
check "poison logged with its entry ID" grep -q "delivered .* times without being processed" "$LOG"

# --- SIGHUP -------------------------------------------------------------------
write_rules "CHANGED"
kill -HUP "$T_DAEMON"
sleep 0.5
good 6
check "reload drained" t_wait 10 drained
check_eq "reloaded rules in effect" "$(stream_field ivr:alerts message | tail -n 1)" "CHANGED 2 from K2 ()"
cp "$CONF" "$CONF.good"
sed -i 's/if: csat <= 2/if: csat <= (2/' "$CONF"
kill -HUP "$T_DAEMON"
check "broken reload keeps running rules" t_wait 10 grep -q "keeping the running rules" "$LOG"
check "broken reload logged with FILE:LINE:COL" grep -q "$CONF:[0-9]*:[0-9]*: " "$LOG"
good 7
check "after broken reload drained" t_wait 10 drained
check_eq "old rules still work" "$(stream_field ivr:alerts message | tail -n 1)" "CHANGED 2 from K2 ()"

# --- SIGTERM --------------------------------------------------------------------
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "SIGTERM exits 0" "$?" 0
check "stop logged" grep -q "stopped" "$LOG"
[ "$T_FAIL" -gt 0 ] && { echo "--- daemon log"; tail -n 30 "$LOG"; }
t_done
