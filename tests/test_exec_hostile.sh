#!/bin/sh
# test_exec_hostile.sh — templates that name a field the alert lacks
# (SPEC section 4: "a missing value renders empty"), through the real
# daemon against a real redis-server: an exec channel whose argv says
# {{comment}} for an event without a comment, {{count}} on a rule without
# a count, {{customer.*}} with no enrichment, the same in an escalation
# step's exec delivery and in messages. The daemon must stay up, run the
# program with empty arguments and drain the outbox; before the fix, the
# first such delivery killed it (SIGSEGV) and stayed in the outbox for the
# next daemon to crash on.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start

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

CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
t_config "$CONF" <<CONF
  missing: {type: exec, argv: ["$P", missing, "{{comment}}", "c={{count}}", "{{customer.tier}}", "{{value}}/{{samples}}", "{{no.such.path}}"]}
  counted: {type: exec, argv: ["$P", counted, "{{count}}", "{{comment}}"]}
  stepper: {type: exec, argv: ["$P", stepper, "{{step}}", "{{comment}}", "{{count}}"]}
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
