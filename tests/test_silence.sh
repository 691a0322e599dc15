#!/bin/sh
# test_silence.sh — silences (README, "Silences", issue 10) through the real
# daemon and recoveryctl against a real redis-server: a silence by rule
# holds back the rule's alerts and opens no case, while the silenced
# firing still starts its cooldown; it applies within a second of
# "silence add" (and of "silence expire") while the daemon runs; a
# silence by customer holds back every rule for that customer only; a 2 s
# silence expires mid-stream (events before it silenced, after it not);
# each silence counts what it held back (<prefix>silence:<id>, list);
# a daemon started on a waiting stream reads them before deciding;
# list shows and --json gives every field, and drops long-expired ones;
# usage errors exit 2 (before connecting), an unknown ID 1, no Redis 3.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
CTL=$BUILD/recoveryctl
for b in "$CTL" "$BUILD/recoveryd"; do
	[ -x "$b" ] || { echo "test_silence: $b not found (run make first)"; exit 1; }
done
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
t_config "$CONF" <<'RULES'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    cooldown: 1h
    actions: [{notify: supervisors, message: "low {{customer_id}}"}]
  - name: long-wait
    on: call
    if: wait_s > 300
    actions: [{notify: supervisors, message: "wait {{customer_id}}"}]
RULES
C="$CTL -c $CONF"
DOWN=$T_DIR/down.yaml
sed "s|unix://$T_REDIS_SOCK|unix://$T_DIR/nothing.sock|" "$CONF" >"$DOWN"
push() { $C push "$@" >/dev/null; }
# alerted MESSAGE: the supervisors stream has an alert with this message.
alerted() { stream_field ivr:alerts message | grep -qx "$1"; }
not_alerted() { ! alerted "$1"; }
count_of() { $R HGET "ivr:silence:$1" count; }
no_case() { [ "$($R EXISTS "ivr:opencase:$1")" = 0 ]; }

# --- usage errors: exit 2 before connecting (the Redis is not there) --------
C0=$C
C="$CTL -c $DOWN"
usage silence
usage silence bogus
usage silence add --for 1h --reason x
usage silence add --rule low-csat --reason x
usage silence add --rule low-csat --for soon --reason x
usage silence add --rule low-csat --for 0s --reason x
usage silence add --rule low-csat --for 1h
usage silence add --rule low-csat --rule long-wait --for 1h --reason x
usage silence add --rule low-csat --for 1h --reason x extra
usage silence add --nope x --for 1h --reason x
usage silence list --bogus
usage silence expire
usage silence expire a b
exit_is "add without Redis exits 3" 3 $C silence add --rule r --for 1h --reason x
exit_is "list without Redis exits 3" 3 $C silence list
C=$C0
exit_is "expire of an unknown ID exits 1" 1 $C silence expire s-nope
check "... and says so" grep -q "no silence 's-nope'" "$T_DIR/out"
exit_is "an empty list" 0 $C silence list

# --- recoveryctl test: silences in a rule test --------------------------------
exit_is "rules/tests/silences.yaml passes" 0 $C test rules/tests/silences.yaml
cat >"$T_DIR/silbad.yaml" <<YAML
rule_files: [$PWD/rules/recoveryd.yaml]
tests:
  - name: broken
    events: [{at: 0s, type: rating, call_id: c1, customer_id: k1, csat: 1}]
    silences:
      - {rule: low-csat}
      - {rule: low-cast, for: 1h}
      - {for: 1h}
      - {rule: low-csat, for: 1h, until: 2h}
      - {rule: low-csat, from: soon, for: 1h}
YAML
exit_is "a broken silence is a file error" 1 $C test "$T_DIR/silbad.yaml"
check "... without for" grep -q "silbad.yaml:6:9: a silence needs 'for: DURATION'" "$T_DIR/out"
check "... an unknown rule" grep -q "silbad.yaml:7:.*unknown rule 'low-cast' (did you mean 'low-csat'?)" "$T_DIR/out"
check "... no matcher" grep -q "silbad.yaml:8:.*needs at least one of rule, queue, agent, customer" "$T_DIR/out"
check "... an unknown key" grep -q "silbad.yaml:9:.*unknown key 'until' in a silence" "$T_DIR/out"
check "... a bad duration" grep -q "silbad.yaml:10:.*bad duration 'soon'" "$T_DIR/out"
cat >"$T_DIR/silfail.yaml" <<YAML
rule_files: [$PWD/rules/recoveryd.yaml]
tests:
  - name: the silence hides the expected alert
    silences: [{customer: k1, from: 0s, for: 10m}]
    events: [{at: 0s, type: rating, call_id: c1, customer_id: k1, csat: 1}]
    expect: [{at: 0s, rule: low-csat, channel: supervisors}]
YAML
exit_is "an alert a silence held back is missing" 1 $C test "$T_DIR/silfail.yaml"
check "... and listed" grep -q "missing: at=0s rule=low-csat" "$T_DIR/out"

t_daemon "$CONF" "$LOG"
push rating call_id=C1 customer_id=K1 csat=1
check "drained" t_wait 10 drained
check "before any silence: alert" alerted "low K1"

# --- by rule, applied within a second of add --------------------------------
S1=$($C silence add --rule low-csat --for 1h --reason "survey bug" --by ann)
check "add prints the ID" [ -n "$S1" ]
check "stored as JSON in ivr:silences" sh -c "$R HGET ivr:silences '$S1' | grep -q '\"rule\":\"low-csat\"'"
sleep 1
push rating call_id=C2 customer_id=K2 csat=1
check "drained" t_wait 10 drained
check "silenced rule: no alert (within a second of add)" not_alerted "low K2"
check "silenced rule: no case" no_case K2
push call call_id=C3 customer_id=K2 wait_s=400
check "drained" t_wait 10 drained
check "other rules still alert" alerted "wait K2"
check_eq "counted per silence" "$(count_of "$S1")" 1

# --- expire: applied within a second; the silenced firing's cooldown holds --
exit_is "expire" 0 $C silence expire "$S1"
sleep 1
push rating call_id=C4 customer_id=K3 csat=1
push rating call_id=C5 customer_id=K4 csat=1
check "drained" t_wait 10 drained
check "after expire: alerts again" alerted "low K3"
$R DEL ivr:opencase:K2 >/dev/null
push rating call_id=C6 customer_id=K2 csat=2
check "drained" t_wait 10 drained
check "the silenced firing's cooldown (1h) still holds" not_alerted "low K2"
check_eq "an expired silence counts no more" "$(count_of "$S1")" 1

# --- by customer: every rule, that customer only ----------------------------
S2=$($C silence add --customer K5 --for 1h --reason "VIP handled by phone")
sleep 1
push call call_id=C7 customer_id=K5 wait_s=400
push rating call_id=C8 customer_id=K5 csat=1
push call call_id=C9 customer_id=K6 wait_s=400
check "drained" t_wait 10 drained
check "by customer: no alert of one rule" not_alerted "wait K5"
check "by customer: nor of another" not_alerted "low K5"
check "by customer: no case" no_case K5
check "by customer: other customers alert" alerted "wait K6"
check_eq "by customer: counted twice" "$(count_of "$S2")" 2

# --- a 2 s silence expires mid-stream ---------------------------------------
S3=$($C silence add --rule long-wait --queue billing --for 2s --reason short)
sleep 1
push call call_id=C10 customer_id=K7 queue=billing wait_s=400
push call call_id=C11 customer_id=K8 queue=support wait_s=400
check "drained" t_wait 10 drained
check "2 s silence: before its end, silenced" not_alerted "wait K7"
check "2 s silence: every matcher must match" alerted "wait K8"
sleep 1.5
push call call_id=C12 customer_id=K9 queue=billing wait_s=400
check "drained" t_wait 10 drained
check "2 s silence: after its end, not" alerted "wait K9"
check_eq "2 s silence: counted once" "$(count_of "$S3")" 1

# --- list -------------------------------------------------------------------
exit_is "list" 0 $C silence list
check "list: header" grep -q '^ID  *MATCHERS  *ENDS  *COUNT  *BY  *REASON$' "$T_DIR/out"
check "list: by rule, expired, its count, by, reason" grep -q "^$S1  *rule=low-csat  *expired .* ago  *1  *ann  *survey bug$" "$T_DIR/out"
check "list: by customer, ends in, count" grep -q "^$S2  *customer=K5  *in [0-9hms]*  *2 .*VIP handled by phone$" "$T_DIR/out"
check "list: two matchers" grep -q "^$S3  *rule=long-wait queue=billing  *expired" "$T_DIR/out"
exit_is "list --json" 0 $C silence list --json
check "list --json: every field" python3 -c '
import json, sys
rows = {}
for l in open(sys.argv[1]):
    o = json.loads(l)
    rows[o["id"]] = o
a, b = rows[sys.argv[2]], rows[sys.argv[3]]
assert a["rule"] == "low-csat" and a["count"] == 1 and not a["active"], a
assert a["by"] == "ann" and a["reason"] == "survey bug", a
assert a["ends_ms"] > a["starts_ms"], a
assert b["customer"] == "K5" and b["count"] == 2 and b["active"], b
assert "rule" not in b and b["ends_ms"] - b["starts_ms"] == 3600000, b
' "$T_DIR/out" "$S1" "$S2"
# one that ended two days ago: dropped by list, with its count
OLD=$(python3 -c 'import time; print(int(time.time() * 1000) - 2 * 86400000)')
$R HSET ivr:silences s-old "{\"id\":\"s-old\",\"rule\":\"x\",\"starts_ms\":$((OLD - 1000)),\"ends_ms\":$OLD}" >/dev/null
$R HSET ivr:silence:s-old count 3 >/dev/null
exit_is "list with a long-expired silence" 0 $C silence list
check "... does not show it" sh -c "! grep -q '^s-old' '$T_DIR/out'"
check_eq "... dropped it" "$($R HEXISTS ivr:silences s-old)" 0
check_eq "... and its count" "$($R EXISTS ivr:silence:s-old)" 0
# a corrupt value: skipped by list (said on stderr) and by the daemon
$R HSET ivr:silences s-bad "not json" >/dev/null
$R INCR ivr:silences:rev >/dev/null
exit_is "list with a corrupt silence" 0 $C silence list
check "... shows the others" grep -q "^$S2 " "$T_DIR/out"
sleep 1
push rating call_id=C13 customer_id=K5 csat=1
push call call_id=C14 customer_id=K10 wait_s=400
check "drained" t_wait 10 drained
check "daemon: a corrupt silence does not stop the others" not_alerted "low K5"
check "daemon: ... nor the alerts" alerted "wait K10"
check "daemon: said so" grep -q "silences: skipping one" "$LOG"

kill "$T_DAEMON"
wait "$T_DAEMON"
check_eq "the daemon stops cleanly (exit 0; no leak under ASan)" "$?" 0

# --- a daemon that starts on a stream waiting for it reads the silences
# before it decides the first event (it owns the free lease within a
# round trip, long before the silences' next poll) -----------------------
before=$(count_of "$S2")
push call call_id=C15 customer_id=K5 wait_s=400
push call call_id=C16 customer_id=K11 wait_s=400
t_daemon "$CONF" "$LOG"
check "restarted: drained" t_wait 10 drained
check "restarted: the silence in force holds the first events back" not_alerted "wait K5"
check "restarted: ... and the others alert" alerted "wait K11"
check_eq "restarted: counted" "$(count_of "$S2")" $((before + 1))
kill "$T_DAEMON"
wait "$T_DAEMON"
check_eq "... and stops cleanly" "$?" 0

# --- the silences' key of the wrong type: the owner still starts and
# decides, and says so once, not at every poll -----------------------------
$R RENAME ivr:silences ivr:silences:saved >/dev/null
$R SET ivr:silences notahash >/dev/null
$R INCR ivr:silences:rev >/dev/null
push call call_id=C17 customer_id=K12 wait_s=400
LOG2=$T_DIR/recoveryd2.log
t_daemon "$CONF" "$LOG2"
check "wrong type: drained" t_wait 10 drained
check "wrong type: events are decided" alerted "wait K12"
sleep 1.5
check_eq "wrong type: said once, naming the key" "$(grep -c 'silences: HGETALL ivr:silences: WRONGTYPE' "$LOG2")" 1
kill "$T_DAEMON"
wait "$T_DAEMON"
check_eq "... and stops cleanly" "$?" 0
t_done
