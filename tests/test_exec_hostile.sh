#!/bin/sh
# test_exec_hostile.sh — templates that name a field the alert lacks
# (README, "Channels": "a missing value renders empty"), through the real
# daemon against a real redis-server: an exec channel whose argv says
# {{comment}} for an event without a comment, {{count}} on a rule without
# a count, {{customer.*}} with no enrichment, the same in an escalation
# step's exec delivery and in messages. The daemon must stay up, run the
# program with empty arguments and drain the outbox; before the fix, the
# first such delivery killed it (SIGSEGV) and stayed in the outbox for the
# next daemon to crash on.
#
# Then the other half of the README's "Channels" ("templates use {{path}} over
# the
# event, customer.* and these fields"): argv templates see the event that
# fired — {{comment}}, {{customer.tier}} from the CRM hash, {{queue}} —
# as the exec delivery's outbox record saved it, also on a retry and in
# an escalation step (the case's opening event); RECOVERYD_EVENT holds
# that event as JSON; a field that would take the saved event past 8 KiB
# is left out and renders empty, the others still render.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
# Retries after 100 ms, not 1 s (see tests/test_outbox.sh).
export RECOVERYD_BACKOFF_BASE_MS=100

# record.sh NAME ARGS...: writes its arguments one a line as [ARG], and
# its environment, to $T_DIR/NAME.args and NAME.env (written to a temp
# file and renamed, so a check never sees half of it).
cat > "$T_DIR/record.sh" <<EOF
#!/bin/sh
out=$T_DIR/\$1
shift
for a in "\$@"; do printf '[%s]\n' "\$a"; done > "\$out.args.tmp"
env > "\$out.env.tmp"
cat > "\$out.stdin.tmp"
mv "\$out.env.tmp" "\$out.env"
mv "\$out.stdin.tmp" "\$out.stdin"
mv "\$out.args.tmp" "\$out.args"
EOF
chmod +x "$T_DIR/record.sh"
P=$T_DIR/record.sh
# flaky.sh NAME ARGS...: fails its first run, then is record.sh.
cat > "$T_DIR/flaky.sh" <<EOF
#!/bin/sh
[ -f "$T_DIR/\$1.failed" ] || { : > "$T_DIR/\$1.failed"; exit 3; }
exec "$P" "\$@"
EOF
chmod +x "$T_DIR/flaky.sh"

CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
t_config "$CONF" <<CONF
  missing: {type: exec, argv: ["$P", missing, "{{comment}}", "c={{count}}", "{{customer.tier}}", "{{value}}/{{samples}}", "{{no.such.path}}"]}
  counted: {type: exec, argv: ["$P", counted, "{{count}}", "{{comment}}"]}
  stepper: {type: exec, argv: ["$P", stepper, "{{step}}", "{{comment}}", "{{count}}"]}
  fields: {type: exec, argv: ["$P", "{{call_id}}", "{{comment}}", "{{customer.tier}}", "{{queue}}", "{{count}}"]}
  flaky: {type: exec, argv: ["$T_DIR/flaky.sh", flaky, "{{comment}}", "{{customer.tier}}"]}
  stepev: {type: exec, argv: ["$P", stepev, "{{step}}", "{{comment}}", "{{customer.tier}}", "{{csat}}"]}
rules:
  - name: stateless
    on: rating
    if: queue == 'plain'
    actions:
      - notify: missing
      - notify: supervisors
        message: "comment=[{{comment}}] count=[{{count}}] tier=[{{customer.tier}}]"
  - name: counting
    on: rating
    if: queue == 'count'
    count: {by: customer_id, at_least: 1, within: 1h}
    actions: [{notify: counted}]
  - name: escalating
    on: rating
    if: queue == 'step'
    actions: [{notify: supervisors, message: "opened"}]
    escalate:
      - {after: 500ms, notify: stepper}
      - {after: 500ms, notify: supervisors, message: "step comment=[{{comment}}] count=[{{count}}]"}
  - name: event_fields
    on: rating
    if: queue == 'fields'
    actions: [{notify: fields}]
  - name: retried
    on: rating
    if: queue == 'flaky'
    actions: [{notify: flaky}]
  - name: step_fields
    on: rating
    if: queue == 'stepev'
    actions: [{notify: supervisors, message: "opened"}]
    escalate:
      - {after: 300ms, notify: stepev}
CONF
check "config is valid" "$BUILD/recoveryd" -t -c "$CONF"

t_daemon "$CONF" "$LOG"
$R XADD ivr:events '*' type rating call_id C1 customer_id K1 csat 2 \
    queue plain >/dev/null

check "missing: program ran" t_wait 10 test -f "$T_DIR/missing.args"
check "missing: daemon still running" kill -0 "$T_DAEMON"
check_eq "missing: absent fields are empty arguments, one each" \
    "$(cat "$T_DIR/missing.args" 2>/dev/null | tr '\n' ' ')" "[] [c=] [] [/] [] "
check "missing: RECOVERYD_* set, absent ones empty" python3 -c '
import sys
env = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[1]) if "=" in l)
assert env["RECOVERYD_CALL_ID"] == "C1" and env["RECOVERYD_RULE"] == "stateless", env
assert env["RECOVERYD_AGENT_ID"] == "" and env["RECOVERYD_CHANNEL"] == "missing", env
' "$T_DIR/missing.env"
check "missing: stdin is the alert JSON, without count" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
assert a["rule"] == "stateless" and "count" not in a and a["agent_id"] == "", a
' "$T_DIR/missing.stdin"
check_eq "missing: message renders the absent fields empty" \
    "$(stream_field ivr:alerts message | head -n 1)" "comment=[] count=[] tier=[]"

# A count rule has a count; the comment it lacks is still empty.
$R XADD ivr:events '*' type rating call_id C2 customer_id K2 csat 2 \
    queue count >/dev/null
check "counted: program ran" t_wait 10 test -f "$T_DIR/counted.args"
check_eq "counted: {{count}} is the count, {{comment}} empty" \
    "$(cat "$T_DIR/counted.args" 2>/dev/null | tr '\n' ' ')" "[1] [] "

# An escalation step's exec delivery and message render over the case's
# event and the step's alert, which has no count either.
$R XADD ivr:events '*' type rating call_id C3 customer_id K3 csat 2 \
    queue step >/dev/null
check "stepper: step 1 program ran" t_wait 10 test -f "$T_DIR/stepper.args"
check_eq "stepper: step number, absent comment and count empty" \
    "$(cat "$T_DIR/stepper.args" 2>/dev/null | tr '\n' ' ')" "[1] [] [] "
step_msg() { stream_field ivr:alerts message | grep -q '^step '; }
check "step message written" t_wait 10 step_msg
check_eq "step message renders the absent fields empty" \
    "$(stream_field ivr:alerts message | grep '^step ')" "step comment=[] count=[]"

# The event's own fields and its enrichment, in argv (alert fields first:
# {{queue}} is the alert's, {{count}} is absent from both and empty).
COMMENT="on hold for ages; \$(id) 'quoted' \"twice\""
$R HSET ivr:customer:K4 tier gold >/dev/null
$R XADD ivr:events '*' type rating call_id F1 customer_id K4 csat 1 \
    queue fields comment "$COMMENT" >/dev/null
check "fields: program ran" t_wait 10 test -f "$T_DIR/F1.args"
check_eq "fields: {{comment}}, {{customer.tier}}, {{queue}} from the event, {{count}} empty" \
    "$(cat "$T_DIR/F1.args" 2>/dev/null)" "[$COMMENT]
[gold]
[fields]
[]"
check "fields: RECOVERYD_EVENT is the event with its enrichment" python3 -c '
import json, sys
env = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[1]) if "=" in l)
e = json.loads(env["RECOVERYD_EVENT"])
assert e["comment"] == sys.argv[2] and e["customer.tier"] == "gold", e
assert e["call_id"] == "F1" and e["csat"] == "1", e
assert env["RECOVERYD_QUEUE"] == "fields" and "RECOVERYD_COMMENT" not in env, env
' "$T_DIR/F1.env" "$COMMENT"

# The same channel, an event without a comment and a customer without a
# CRM hash: those arguments are empty, the others still there.
$R XADD ivr:events '*' type rating call_id F2 customer_id K5 csat 1 \
    queue fields >/dev/null
check "fields, none: program ran" t_wait 10 test -f "$T_DIR/F2.args"
check_eq "fields, none: absent comment and tier are empty arguments" \
    "$(cat "$T_DIR/F2.args" 2>/dev/null | tr '\n' ' ')" "[] [] [fields] [] "

# A field that would take the saved event past 8 KiB is left out of it
# (and renders empty); the fields after it are kept.
BIG=$(python3 -c 'print("x" * 9000)')
$R XADD ivr:events '*' type rating call_id F3 customer_id K4 csat 1 \
    queue fields note "$BIG" comment short >/dev/null
check "fields, big: program ran" t_wait 10 test -f "$T_DIR/F3.args"
check_eq "fields, big: the fields after the big one still render" \
    "$(cat "$T_DIR/F3.args" 2>/dev/null | tr '\n' ' ')" "[short] [gold] [fields] [] "
check "fields, big: the saved event is at most 8 KiB, without the big field" \
    python3 -c '
import json, sys
env = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[1]) if "=" in l)
e = json.loads(env["RECOVERYD_EVENT"])
assert "note" not in e and e["comment"] == "short", sorted(e)
assert len(env["RECOVERYD_EVENT"]) <= 8192, len(env["RECOVERYD_EVENT"])
' "$T_DIR/F3.env"
check "fields, big: the left-out field is logged" \
    grep -q "1 field left out of its saved copy" "$LOG"

# A failed delivery is retried from its outbox record: the retry still
# has the event.
$R XADD ivr:events '*' type rating call_id F4 customer_id K4 csat 1 \
    queue flaky comment "second try" >/dev/null
check "flaky: retried after its first failure" t_wait 10 test -f "$T_DIR/flaky.args"
check "flaky: the first run failed" test -f "$T_DIR/flaky.failed"
check_eq "flaky: the retry renders the event's fields" \
    "$(cat "$T_DIR/flaky.args" 2>/dev/null | tr '\n' ' ')" "[second try] [gold] "

# An escalation step's exec delivery renders over the case's opening
# event (a customer of its own: K4's case was opened by F1) and its
# enrichment, as the CRM had it then.
$R HSET ivr:customer:K6 tier platinum >/dev/null
$R XADD ivr:events '*' type rating call_id F5 customer_id K6 csat 2 \
    queue stepev comment "still waiting" >/dev/null
check "stepev: event committed" t_wait 5 drained
$R HSET ivr:customer:K6 tier bronze >/dev/null
check "stepev: step 1 program ran" t_wait 10 test -f "$T_DIR/stepev.args"
check_eq "stepev: step, comment, tier and csat of the opening event" \
    "$(cat "$T_DIR/stepev.args" 2>/dev/null | tr '\n' ' ')" "[1] [still waiting] [platinum] [2] "

# Every delivery was made and acked: nothing left to crash the next daemon.
outbox_empty() { [ "$($R XLEN ivr:outbox)" = 0 ]; }
check "outbox drained" t_wait 10 outbox_empty
check_eq "nothing pending in the outbox group" \
    "$($R XPENDING ivr:outbox recoveryd-outbox | head -n 1)" 0
check_eq "nothing undelivered" "$($R XLEN ivr:alerts:undelivered)" 0
check "events drained" t_wait 5 drained
check "daemon still running at the end" kill -0 "$T_DAEMON"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "SIGTERM exits 0" "$?" 0
[ "$T_FAIL" -gt 0 ] && { echo "--- daemon log"; tail -n 30 "$LOG"; }
t_done
