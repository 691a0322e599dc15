#!/bin/sh
# test_dead.sh — recoveryctl dead and undelivered: list (escaped for a
# terminal, --json), show, retry of one entry, of several and --all; a
# dead letter still invalid is kept unless --force; a retried entry is
# removed only once it is back in the input stream or the outbox (a
# retry that cannot write leaves it where it was); the daemon processes
# a retried event.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
t_config "$CONF" <<'RULES'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors, message: "low {{csat}} {{customer_id}}"}]
RULES
C="$BUILD/recoveryctl -c $CONF"
LOG=$T_DIR/daemon.log
t_daemon "$CONF" "$LOG"
consumed() { [ "$(lag)" = 0 ] && [ "$(pending)" = 0 ]; }
dead_n() { $R XLEN ivr:events:dead; }

$R XADD ivr:events '*' type rating call_id D1 customer_id K1 csat 9 >/dev/null
$R XADD ivr:events '*' type rating call_id D2 customer_id "$(printf 'K\033[2J\033]0;x\007')" csat 0 >/dev/null
$R XADD ivr:events '*' json '{"type":"call","call_id":"D3"}' >/dev/null
have3() { [ "$(dead_n)" = 3 ]; }
check "three dead letters" t_wait 10 have3

exit_is "dead lists them" 0 $C dead
check "one line per entry with reason and error" grep -q 'reason=out_of_range .*csat=9 out of range 1..5' "$T_DIR/out"
check "the original fields shown" grep -q 'type=rating call_id=D1 customer_id=K1 csat=9' "$T_DIR/out"
check "no escape character reaches the terminal" sh -c "! grep -q \"\$(printf '\\033')\" '$T_DIR/out' && ! grep -q \"\$(printf '\\007')\" '$T_DIR/out'"
check "control characters shown as ?" grep -q 'customer_id=K?\[2J?\]0;x?' "$T_DIR/out"
exit_is "dead list --limit 1" 0 $C dead list --limit 1
check_eq "--limit 1 shows one" "$(grep -c '^[0-9]*-[0-9]*  ' "$T_DIR/out")" 1
$C dead list --json > "$T_DIR/dead.json"
check "--json: one valid object a line, fields apart from the reason" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 3, rows
assert rows[0]["fields"] == {"type": "rating", "call_id": "D1", "customer_id": "K1", "csat": "9"}, rows[0]
assert rows[0]["reason"] == "out_of_range" and rows[0]["source_id"] and rows[0]["time"].endswith("Z")
assert rows[1]["fields"]["customer_id"] == "K\x1b[2J\x1b]0;x\x07"
assert rows[2]["fields"] == {"json": "{\"type\":\"call\",\"call_id\":\"D3\"}"}, rows[2]
' "$T_DIR/dead.json"
ID1=$(sed -n 1p "$T_DIR/dead.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
ID3=$(sed -n 3p "$T_DIR/dead.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
exit_is "dead show ID" 0 $C dead show "$ID1"
check "show prints every field" sh -c "grep -q '^  source_id: ' '$T_DIR/out' && grep -q '^  reason: out_of_range' '$T_DIR/out'"
exit_is "dead show of no such entry exits 1" 1 $C dead show 1-1
exit_is "dead retry with no ID is a usage error" 2 $C dead retry
exit_is "dead bogus is a usage error" 2 $C dead bogus

# Still invalid: kept, unless --force.
exit_is "retry of a still invalid dead letter exits 1" 1 $C dead retry "$ID1"
check "it says why" grep -q "not retried: still invalid: rating: csat=9 out of range 1..5" "$T_DIR/out"
check_eq "and it is kept" "$(dead_n)" 3

# Fixed (the validator is the judge): rewrite D3 as the producer would
# have sent it once fixed, then retry; it is processed by the daemon.
n0=$($R XLEN ivr:events)
$R XADD ivr:events:dead '*' type rating call_id D4 customer_id K4 csat 1 source_id 1-0 error "event 1-0: decide failed" reason decide >/dev/null
ID4=$($R XREVRANGE ivr:events:dead + - COUNT 1 | head -n 1)
exit_is "retry of a valid dead letter exits 0" 0 $C dead retry "$ID4"
check "it names the new entry" grep -q "^$ID4: retried as [0-9]*-[0-9]* in ivr:events" "$T_DIR/out"
check_eq "it left the dead-letter stream" "$($R XRANGE ivr:events:dead "$ID4" "$ID4" | grep -c .)" 0
check_eq "it is back in the input stream" "$($R XLEN ivr:events)" "$((n0 + 1))"
check_eq "without source_id, error, reason" "$($R XREVRANGE ivr:events + - COUNT 1 | tail -n +2 | tr '\n' ' ')" "type rating call_id D4 customer_id K4 csat 1 "
alerted() { $R --raw XRANGE ivr:alerts - + | grep -q 'low 1 K4'; }
check "the daemon processed the retried event" t_wait 10 alerted

# A retry that cannot write leaves the entry where it was (one script:
# never removed without being back).
kill "$T_DAEMON"; wait "$T_DAEMON" 2>/dev/null
$R RENAME ivr:events ivr:events:saved >/dev/null
$R SET ivr:events not-a-stream >/dev/null
exit_is "retry --force into a key of the wrong type fails" 1 $C dead retry --force "$ID3"
check_eq "the entry is kept when it could not be written" "$($R XRANGE ivr:events:dead "$ID3" "$ID3" | head -n 1)" "$ID3"
$R DEL ivr:events >/dev/null
$R RENAME ivr:events:saved ivr:events >/dev/null

exit_is "retry --force sends it anyway" 0 $C dead retry --force "$ID3"
exit_is "retry --all: the rest are still invalid: exit 1" 1 $C dead retry --all
check "--all went through every entry" grep -q '0 retried, 2 not' "$T_DIR/out"
exit_is "retry --all --force empties it" 0 $C dead retry --all --force
check_eq "dead-letter stream empty" "$(dead_n)" 0

# --- undelivered --------------------------------------------------------
U=ivr:alerts:undelivered
$R XADD $U '*' alert_id A1 channel hook attempts 7 error "HTTP 500 $(printf '\033[31m')" alert '{"alert_id":"A1","rule":"r"}' failed_at 2026-12-01T10:00:00Z >/dev/null
$R XADD $U '*' alert_id A2 channel hook attempts 1 error "HTTP 404" alert '{"alert_id":"A2"}' failed_at 2026-12-01T10:00:01Z >/dev/null
$R XADD $U '*' junk 1 >/dev/null
exit_is "undelivered lists them" 0 $C undelivered
check "channel, alert ID, attempts, error" grep -q 'channel=hook  alert_id=A1  attempts=7  failed_at=2026-12-01T10:00:00Z  error=HTTP 500 ?\[31m' "$T_DIR/out"
check "the alert shown" grep -q 'alert={"alert_id":"A1","rule":"r"}' "$T_DIR/out"
$C undelivered --json > "$T_DIR/u.json"
check "undelivered --json" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 3 and rows[0]["alert_id"] == "A1" and rows[0]["attempts"] == "7", rows
' "$T_DIR/u.json"
UA1=$($R XRANGE $U - + COUNT 1 | head -n 1)
UJ=$($R XREVRANGE $U + - COUNT 1 | head -n 1)
exit_is "undelivered show" 0 $C undelivered show "$UA1"
exit_is "undelivered retry ID" 0 $C undelivered retry "$UA1"
check_eq "it is in the outbox, attempt 0" "$($R XREVRANGE ivr:outbox + - COUNT 1 | tail -n +2 | tr '\n' ' ')" 'alert_id A1 channel hook attempt 0 alert {"alert_id":"A1","rule":"r"} '
check_eq "and no longer undelivered" "$($R XRANGE $U "$UA1" "$UA1" | grep -c .)" 0
exit_is "an entry that is no undelivered alert is not retried" 1 $C undelivered retry "$UJ"
check_eq "and kept" "$($R XRANGE $U "$UJ" "$UJ" | head -n 1)" "$UJ"
exit_is "undelivered retry --force is a usage error" 2 $C undelivered retry --force --all
exit_is "undelivered retry --all: one is junk: exit 1" 1 $C undelivered retry --all
check_eq "the outbox has both alerts" "$($R XLEN ivr:outbox)" 2
check_eq "only the junk is left" "$($R XLEN $U)" 1
t_redis_stop
exit_is "dead with Redis down exits 3" 3 $C dead
t_done
