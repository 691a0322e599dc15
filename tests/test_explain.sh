#!/bin/sh
# test_explain.sh — "recoveryctl explain": per rule, why it fired or did
# not for one event (EVENT.json) or for each event of one customer in an
# events file (--customer K): the false part of "if" with the field
# values, the window count against at_least, the samples against
# min_samples, the "after" rule that did not fire, the cooldown left;
# as text and as JSON, with an event's texts made safe for a terminal.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
C=$BUILD/recoveryctl
X="$C -c rules/recoveryd.yaml explain"

# line RULE: the explanation line of RULE in $T_DIR/out.
line() { grep "^  $1 " "$T_DIR/out"; }

printf '%s\n' '{"type":"rating","call_id":"C1","customer_id":"K9",' \
    '"csat":1,"nps":8,"queue":"billing"}' >"$T_DIR/one.json"
exit_is "explain one event" 0 $X "$T_DIR/one.json"
check "a header names the event" grep -q "^event e1 rating customer K9 at " "$T_DIR/out"
check "every rule has a line" sh -c "[ \$(grep -c '^  ' '$T_DIR/out') -eq 14 ]"
check_eq "a false if, with the value" "$(line vip-detractor)" \
    "  vip-detractor            not fired  if: 'nps <= 6' is false (nps = 8)"
check_eq "a fired rule, with its case and channels" "$(line low-csat)" \
    "  low-csat                 fired      if: 'csat <= 2' holds (csat = 1); for customer_id = 'K9': no firing within its cooldown 1h; case c-e1; alerts to supervisors"
check_eq "a count below at_least" "$(line repeat-low-csat)" \
    "  repeat-low-csat          not fired  for customer_id = 'K9': count 1 is below at_least 2 within 7d"
check_eq "samples below min_samples" "$(line queue-nps-slump)" \
    "  queue-nps-slump          not fired  for queue = 'billing': 1 sample within 8h, fewer than min_samples 30 (value 0)"
check_eq "a rule of another type" "$(line long-wait)" \
    "  long-wait                other type on: call"
check_eq "a missing field" "$(line high-customer-effort)" \
    "  high-customer-effort     not fired  if: 'ces >= 5' is false (ces is missing)"
exit_is "--rules names the rules" 0 $C explain --rules rules/recoveryd.yaml "$T_DIR/one.json"
check "--rules: the same explanation" grep -q "^  low-csat  *fired" "$T_DIR/out"
cat "$T_DIR/one.json" | $C -c rules/recoveryd.yaml explain - >"$T_DIR/stdin.out" 2>&1
check "explain - reads stdin" grep -q "^  low-csat  *fired" "$T_DIR/stdin.out"

$X --json "$T_DIR/one.json" >"$T_DIR/one.jsonout" 2>/dev/null
check "--json: one object, a result per rule" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["event_id"] == "e1" and o["type"] == "rating" and o["customer_id"] == "K9", o
r = {x["rule"]: x for x in o["rules"]}
assert len(r) == 14
assert r["low-csat"]["fired"] is True and r["low-csat"]["result"] == "fired"
assert r["vip-detractor"]["result"] == "if_false" and not r["vip-detractor"]["fired"]
assert r["repeat-low-csat"]["result"] == "state"
assert r["long-wait"]["result"] == "other_type"
assert "count 1 is below at_least 2" in r["repeat-low-csat"]["reason"]
' "$T_DIR/one.jsonout"

# --- one customer over an events file -------------------------------------------
cat >"$T_DIR/day.jsonl" <<'EOF2'
{"type":"rating","ts":1700000000,"call_id":"c1","customer_id":"k1","csat":1}
{"type":"rating","ts":1700000100,"call_id":"c2","customer_id":"k2","csat":5}
{"type":"rating","ts":1700000600,"call_id":"c3","customer_id":"k1","csat":2}
{"type":"rating","ts":1700000700,"call_id":"c4","customer_id":"k1","csat":2}
{"type":"complaint","ts":1700000800,"complaint_id":"p1","customer_id":"k1","severity":"low"}
{"type":"call","ts":1700000900,"call_id":"c5","customer_id":"k1","wait_s":400,"queue":"sales"}
EOF2
exit_is "--customer explains each of its events" 0 $X --customer k1 "$T_DIR/day.jsonl"
check_eq "only the customer's events" "$(grep -c '^event ' "$T_DIR/out")" 5
check "not the other customer's" sh -c "! grep -q '^event line:2 ' '$T_DIR/out'"
# the second low CSAT: repeat-low-csat fires; low-csat is cooling down
awk '/^event line:3 /,/^event line:4 /' "$T_DIR/out" >"$T_DIR/l3"
check "the count reaches at_least" grep -q "^  repeat-low-csat  *fired      if: 'csat <= 2' holds (csat = 2); for customer_id = 'k1': count 2 reached at_least 2 within 7d; case c-line:1; alerts to supervisors$" "$T_DIR/l3"
check "the cooldown left" grep -q "^  low-csat  *not fired  for customer_id = 'k1': cooldown 1h: it fired at 2023-11-14T22:13:20.000Z, 50m left$" "$T_DIR/l3"
awk '/^event line:4 /,/^event line:5 /' "$T_DIR/out" >"$T_DIR/l4"
check "past at_least: no second firing" grep -q "^  repeat-low-csat  *not fired  for customer_id = 'k1': count 3 is past at_least 2 within 7d (it fires on reaching it)$" "$T_DIR/l4"
check "repeat-low-csat's cooldown does not show past at_least" grep -q "count 3 is past" "$T_DIR/l4"
awk '/^event line:5 /,/^event line:6 /' "$T_DIR/out" >"$T_DIR/l5"
check "after: its partner fired" grep -q "^  complaint-after-bad-call  *fired      for customer_id = 'k1': 'repeat-low-csat' fired within 2d before" "$T_DIR/l5"
check "a false comparison with a text" grep -q "^  critical-complaint  *not fired  if: 'severity == 'critical'' is false (severity = 'low')$" "$T_DIR/l5"
awk '/^event line:6 /,0' "$T_DIR/out" >"$T_DIR/l6"
check "a call rule fires" grep -q "^  long-wait  *fired      if: 'wait_s > 300' holds (wait_s = 400)" "$T_DIR/l6"
check "after without a partner" grep -q "^  callback-after-abandon  *not fired  after: 'abandoned-call' did not fire for customer_id = 'k1' within 1d before$" "$T_DIR/l6"
# The explanation agrees with replay: every rule explained as fired has
# alerts at that event in the replay of the same file, and no other.
$C replay --rules rules/recoveryd.yaml --json "$T_DIR/day.jsonl" >"$T_DIR/replay.json" 2>/dev/null
$X --json --customer k1 "$T_DIR/day.jsonl" >"$T_DIR/day.json" 2>/dev/null
check "explain agrees with replay" python3 -c '
import json, sys
fired = set()
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a["step"] == 0 and a["customer_id"] == "k1":
        fired.add((a["event_id"], a["rule"]))
told = set()
for l in open(sys.argv[2]):
    o = json.loads(l)
    for r in o["rules"]:
        if r["fired"]:
            told.add((o["event_id"], r["rule"]))
assert fired == told, (fired ^ told)
assert len(told) == 4, told
' "$T_DIR/replay.json" "$T_DIR/day.json"
exit_is "a customer without events" 0 $X --customer nobody "$T_DIR/day.jsonl"
check "says so" grep -q "no event of customer 'nobody'" "$T_DIR/out"

# --- hostile texts ----------------------------------------------------------------
printf '%s\n' '{"type":"rating","call_id":"c\u001b[31m","customer_id":"k\u0007x","nps":3,"queue":"hi\u001b]0;pwned\u0007gh","comment":"a\nb"}' >"$T_DIR/evil.json"
exit_is "explain of an event with control characters" 0 $X "$T_DIR/evil.json"
check "no control character reaches the terminal" sh -c "[ \$(LC_ALL=C tr -d '\\n' <'$T_DIR/out' | LC_ALL=C grep -c '[[:cntrl:]]') -eq 0 ]"
check "they are shown as ?" grep -q "for queue = 'hi?\]0;pwned?gh'" "$T_DIR/out"
check "in the header too" grep -q "^event e1 rating customer k?x at " "$T_DIR/out"
$X --json "$T_DIR/evil.json" >"$T_DIR/evil.jsonout" 2>&1
check "--json stays valid JSON" python3 -c 'import json, sys; json.loads(open(sys.argv[1]).read())' "$T_DIR/evil.jsonout"

# --- a calendar that holds an alert ---------------------------------------------
# Friday 20:01 in Berlin: the dialer (calendar support, Mon-Fri 08-20)
# waits until Monday 08:00, 07:00Z.
printf '{"type":"rating","call_id":"c1","customer_id":"k1","csat":1,"ts":"2026-12-04T20:01:00+01:00"}\n' >"$T_DIR/late.json"
exit_is "explain an alert held by a calendar" 0 $C explain --rules rules/tests/fixtures/calendars.yaml "$T_DIR/late.json"
check "names the calendar and when it goes out" grep -q "alerts to supervisors, dialer (waits for calendar support until 2026-12-07T07:00:00.000Z)" "$T_DIR/out"

# --- errors -------------------------------------------------------------------
printf '{"type":"rating","call_id":"C1","customer_id":"K9","csat":9}\n' >"$T_DIR/bad.json"
exit_is "an invalid event exits 1" 1 $X "$T_DIR/bad.json"
check "with the reason" grep -q "invalid event: rating: csat=9 out of range 1..5" "$T_DIR/out"
exit_is "a missing file exits 2" 2 $X "$T_DIR/none.json"
exit_is "broken rules exit 1" 1 $C explain --rules tests/config/bad/03-anchor.yaml "$T_DIR/one.json"
usage explain
usage explain --customer k1
usage explain "$T_DIR/one.json" extra
exit_is "explain -h" 0 $C explain -h
check "help names --customer" grep -q -- "--customer K EVENTS.jsonl" "$T_DIR/out"

t_done
