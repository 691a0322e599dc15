#!/bin/sh
# test_replay_against.sh — "recoveryctl replay --against OLD.yaml": the same
# events through the old and the new rules, printing only the alerts the
# new rules add (+) and remove (-), also as JSON; exit 0 whatever the
# difference. And what replay warns about: lines out of time order (on
# stderr, with their line numbers, decided as late events). And
# "replay --from-stream [--since]": the input stream of a real Redis,
# enriched from the CRM hash, exit 3 when Redis cannot be reached.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
C=$BUILD/recoveryctl

mkdir -p "$T_DIR/old" "$T_DIR/new"
cat >"$T_DIR/old/rules.yaml" <<'YAML'
channels:
  supervisors: {type: stream, key: ivr:alerts}
  dialer: {type: list, key: dialer:callbacks}
defaults: {cooldown: 0}
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors, message: "low {{csat}} from {{customer_id}}"}]
  - name: detractor
    on: rating
    if: nps <= 6
    actions: [{notify: dialer}]
  - name: gone
    on: call
    if: abandoned == true
    actions: [{notify: supervisors}]
YAML
# The change: low-csat also takes 3 (adds), detractor's message changes
# (one removed, one added per firing), "gone" is deleted (removes), and a
# new count rule (adds).
cat >"$T_DIR/new/rules.yaml" <<'YAML'
channels:
  supervisors: {type: stream, key: ivr:alerts}
  dialer: {type: list, key: dialer:callbacks}
defaults: {cooldown: 0}
rules:
  - name: low-csat
    on: rating
    if: csat <= 3
    actions: [{notify: supervisors, message: "low {{csat}} from {{customer_id}}"}]
  - name: detractor
    on: rating
    if: nps <= 6
    actions: [{notify: dialer, message: "call back {{customer_id}}"}]
  - name: twice
    on: rating
    if: csat <= 3
    count: {by: customer_id, at_least: 2, within: 1d}
    actions: [{notify: supervisors, message: "{{customer_id}} twice"}]
YAML
cat >"$T_DIR/events.jsonl" <<'EOF2'
{"type":"rating","ts":1700000000,"call_id":"c1","customer_id":"k1","csat":1}
{"type":"rating","ts":1700000060,"call_id":"c2","customer_id":"k1","csat":3}
{"type":"rating","ts":1700000120,"call_id":"c3","customer_id":"k2","csat":5,"nps":2}
{"type":"call","ts":1700000180,"call_id":"c4","customer_id":"k3","abandoned":true}
{"type":"rating","ts":1700000240,"call_id":"c5","customer_id":"k4","csat":2}
EOF2

exit_is "replay --against exits 0 with differences" 0 \
    $C replay --rules "$T_DIR/new/rules.yaml" --against "$T_DIR/old/rules.yaml" "$T_DIR/events.jsonl"
$C replay --rules "$T_DIR/new/rules.yaml" --against "$T_DIR/old/rules.yaml" \
    "$T_DIR/events.jsonl" >"$T_DIR/diff.out" 2>"$T_DIR/diff.err"
cut -c1 "$T_DIR/diff.out" | sort | uniq -c | tr -s ' ' >"$T_DIR/signs"
check_eq "three alerts added, two removed" "$(tr -d ' ' <"$T_DIR/signs" | tr '\n' ' ')" "3+ 2- "
check "added: low-csat for the CSAT of 3" grep -q '^+ 2023-11-14T22:14:20.000Z  medium    low-csat .* low 3 from k1$' "$T_DIR/diff.out"
check "added: the new count rule" grep -q '^+ 2023-11-14T22:14:20.000Z  medium    twice .* k1 twice$' "$T_DIR/diff.out"
check "removed: the deleted rule's alert" grep -q '^- 2023-11-14T22:16:20.000Z  medium    gone .* k3 ' "$T_DIR/diff.out"
check "a changed message is one removed, one added" sh -c "
    grep -q '^- .* detractor .* dialer .*\[medium\] detractor: customer k2\$' '$T_DIR/diff.out' &&
    grep -q '^+ .* detractor .* dialer .*call back k2\$' '$T_DIR/diff.out'"
check "an unchanged alert is not printed" sh -c "! grep -q 'low 1 from k1' '$T_DIR/diff.out'"
check "in time order, removed before added at one time" python3 -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
keys = [(l.split()[1], 0 if l[0] == "-" else 1) for l in lines]
assert keys == sorted(keys), lines
' "$T_DIR/diff.out"
check "the summary counts both runs" grep -q "^replay: 5 events, 0 invalid, 0 out of order; new rules 5 alerts, old rules ($T_DIR/old/rules.yaml) 4 alerts: 3 added, 2 removed$" "$T_DIR/diff.err"

$C replay --json --rules "$T_DIR/new/rules.yaml" --against "$T_DIR/old/rules.yaml" \
    "$T_DIR/events.jsonl" >"$T_DIR/diff.json" 2>/dev/null
check "--json: one change object a line, with the alert" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 5, rows
assert sorted(r["change"] for r in rows) == ["added"] * 3 + ["removed"] * 2
gone = [r for r in rows if r["alert"]["rule"] == "gone"]
assert len(gone) == 1 and gone[0]["change"] == "removed", gone
assert gone[0]["alert"]["customer_id"] == "k3" and gone[0]["alert"]["channel"] == "supervisors"
' "$T_DIR/diff.json"

exit_is "against itself: nothing changes" 0 \
    $C replay --rules "$T_DIR/old/rules.yaml" --against "$T_DIR/old/rules.yaml" "$T_DIR/events.jsonl"
check "against itself: no + or - line" sh -c "! grep -q '^[-+] ' '$T_DIR/out'"
check "against itself: 0 added, 0 removed" grep -q "4 alerts: 0 added, 0 removed$" "$T_DIR/out"
# The example rules against themselves over the shipped sample day.
exit_is "the sample day against the same rules" 0 \
    $C replay --rules rules/recoveryd.yaml --against rules/recoveryd.yaml contrib/samples/events.jsonl
check "the sample day: no difference" grep -q "0 added, 0 removed$" "$T_DIR/out"
exit_is "--against a broken file" 1 \
    $C replay --rules "$T_DIR/new/rules.yaml" --against tests/config/bad/03-anchor.yaml "$T_DIR/events.jsonl"
exit_is "--against a missing file" 1 \
    $C replay --rules "$T_DIR/new/rules.yaml" --against "$T_DIR/none.yaml" "$T_DIR/events.jsonl"
usage replay --against

# --- out of time order ----------------------------------------------------------
cat >"$T_DIR/late.jsonl" <<'EOF2'
{"type":"rating","ts":1700000000,"call_id":"c1","customer_id":"k1","csat":1}
{"type":"rating","ts":1700000600,"call_id":"c2","customer_id":"k2","csat":1}

{"type":"rating","ts":1700000300,"call_id":"c3","customer_id":"k1","csat":2}
{"type":"rating","ts":1700000900,"call_id":"c4","customer_id":"k1","csat":2}
{"type":"rating","ts":1700000000,"call_id":"c5","customer_id":"k3","csat":5}
EOF2
$C replay --rules "$T_DIR/new/rules.yaml" "$T_DIR/late.jsonl" >"$T_DIR/late.out" 2>"$T_DIR/late.err"
check_eq "replay with late lines exits 0" "$?" 0
check "a late line is a warning with its line number" grep -q \
    "^$T_DIR/late.jsonl:4: warning: out of time order: 2023-11-14T22:18:20.000Z is before 2023-11-14T22:23:20.000Z ($T_DIR/late.jsonl:2); decided as a late event$" "$T_DIR/late.err"
check "each late line is reported" grep -q "^$T_DIR/late.jsonl:6: warning: out of time order" "$T_DIR/late.err"
check_eq "only the late lines" "$(grep -c warning "$T_DIR/late.err")" 2
check "the late events are still decided" grep -q "twice .* k1 twice" "$T_DIR/late.out"
$C replay --rules "$T_DIR/new/rules.yaml" "$T_DIR/events.jsonl" >/dev/null 2>"$T_DIR/inorder.err"
check "events in order: no warning" sh -c "! grep -q warning '$T_DIR/inorder.err'"

# --- --from-stream ------------------------------------------------------------
t_redis_start
t_config "$T_DIR/live.yaml" <<'YAML'
enrich: {customer_key: "ivr:customer:{customer_id}"}
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors, message: "low {{csat}} from {{customer_id}} ({{customer.tier | default 'no tier'}})"}]
YAML
$R HSET ivr:customer:k1 tier gold >/dev/null
now=$(date +%s)
old=$(( (now - 7200) * 1000 ))
# Two hours ago (entry IDs carry the time), an hour ago, and now.
$R XADD ivr:events "$old-0" type rating call_id c0 customer_id k1 csat 1 >/dev/null
$R XADD ivr:events "$(( (now - 3600) * 1000 ))-0" type rating call_id c1 customer_id k1 csat 2 >/dev/null
$R XADD ivr:events '*' type rating call_id c2 customer_id k2 csat 1 >/dev/null
$R XADD ivr:events '*' type rating call_id c3 customer_id k2 csat 9 >/dev/null
exit_is "--from-stream reads the input stream" 0 $C -c "$T_DIR/live.yaml" replay --from-stream
check "the default --since 24h takes all three firings" sh -c "[ \$(grep -c ' low-csat ' '$T_DIR/out') -eq 3 ]"
check "the event is enriched from the CRM hash" grep -q "low 1 from k1 (gold)$" "$T_DIR/out"
check "an event without CRM data" grep -q "low 1 from k2 (no tier)$" "$T_DIR/out"
check "invalid entries are reported with their entry ID" grep -q "^ivr:events [0-9]*-[0-9]*: invalid event: rating: csat=9 out of range 1..5$" "$T_DIR/out"
exit_is "--since 90m" 0 $C -c "$T_DIR/live.yaml" replay --from-stream --since 90m
check "--since 90m leaves out the entry of two hours ago" sh -c "[ \$(grep -c ' low-csat ' '$T_DIR/out') -eq 2 ] && ! grep -q 'c0' '$T_DIR/out'"
check "the summary counts the stream's events" grep -q "^replay: 2 events, 1 invalid, 2 firings" "$T_DIR/out"
# More than one XRANGE page (500 entries).
awk 'BEGIN { for (i = 0; i < 1200; i++) printf "XADD ivr:events * type rating call_id p%d customer_id q%d csat 1\n", i, i }' | $R >/dev/null
exit_is "--from-stream pages through a long stream" 0 $C -c "$T_DIR/live.yaml" replay --from-stream
check "every entry of every page" grep -q "^replay: 1203 events, 1 invalid, 1203 firings" "$T_DIR/out"
exit_is "--from-stream --against" 0 $C -c "$T_DIR/live.yaml" replay --from-stream --since 90m --against "$T_DIR/new/rules.yaml"
check "--from-stream --against prints the difference" sh -c "
    grep -q '^+ .* low-csat .* low 1 from k2 (no tier)\$' '$T_DIR/out' &&
    grep -q '^- .* low-csat .* low 1 from k2\$' '$T_DIR/out'"
usage replay --since 1h "$T_DIR/events.jsonl"
usage replay --from-stream "$T_DIR/events.jsonl"
usage replay --from-stream --since nonsense
t_redis_stop
exit_is "--from-stream without Redis exits 3" 3 $C -c "$T_DIR/live.yaml" replay --from-stream
check "and says why" grep -q "cannot reach Redis" "$T_DIR/out"

t_done
