#!/bin/sh
# test_escalation_event.sh — an escalation step renders over the event
# that opened its case (README, "Channels": templates run over the event,
# customer.* and the alert fields), through the real daemon against a real
# redis-server: {{csat}}, {{comment}}, a nested JSON field and
# {{customer.tier}} from the CRM hash, as that event had it — changing the
# CRM hash after the event does not change what the step says — and the
# event's own customer.tier winning over the CRM's, as in the rule's own
# actions.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start

CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
t_config "$CONF" <<'CONF'
rules:
  - name: detractor
    on: rating
    if: csat <= 2
    actions:
      - notify: supervisors
        message: "open csat={{csat}} tier={{customer.tier}}"
    escalate:
      - after: 1s
        notify: supervisors
        message: "csat={{csat}} tier={{customer.tier}} comment={{comment}} via={{survey.channel}} case={{case_id}} step={{step}}"
CONF
check "config is valid" "$BUILD/recoveryd" -t -c "$CONF"

$R HSET ivr:customer:K7 tier gold >/dev/null
$R HSET ivr:customer:K8 tier silver >/dev/null
t_daemon "$CONF" "$LOG"
E1=$($R XADD ivr:events '*' type rating call_id C1 customer_id K7 csat 1 \
    comment "on hold for ages")
E2=$($R XADD ivr:events '*' json '{"type":"rating","call_id":"C2","customer_id":"K8","csat":2,"survey":{"channel":"ivr"},"customer":{"tier":"platinum"}}')

# msg ALERT_ID: the message of that alert in ivr:alerts ("" if none yet).
msg() {
	$R EVAL "for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local o = {}
  for i = 1, #e[2], 2 do o[e[2][i]] = e[2][i + 1] end
  if o.alert_id == ARGV[1] then return o.message end
end
return ''" 1 ivr:alerts "$1"
}
has() { [ -n "$(msg "$1")" ]; }
check "opening alerts written" t_wait 10 has "$E2/detractor/0/supervisors"
check_eq "the rule's own action sees csat and customer.tier" \
    "$(msg "$E1/detractor/0/supervisors")" "open csat=1 tier=gold"
# The CRM changes after the event: the step still tells what the event had.
$R HSET ivr:customer:K7 tier bronze >/dev/null

S1=c-$E1/detractor/step1/supervisors
S2=c-$E2/detractor/step1/supervisors
both_steps() { has "$S1" && has "$S2"; }
check "steps written" t_wait 10 both_steps
check_eq "step sees the event and its enrichment (flat fields)" "$(msg "$S1")" \
    "csat=1 tier=gold comment=on hold for ages via= case=c-$E1 step=1"
check_eq "step sees the event (JSON, nested, its own customer.tier)" \
    "$(msg "$S2")" "csat=2 tier=platinum comment= via=ivr case=c-$E2 step=1"
check "the case keeps its opening event" python3 -c '
import json, sys
e = json.loads(sys.argv[1])
assert e["csat"] == "1" and e["customer.tier"] == "gold", e
assert e["call_id"] == "C1" and e["comment"] == "on hold for ages", e
' "$($R GET "ivr:case:c-$E1:event")"
check_eq "step fields are the opening event's" \
    "$(stream_field ivr:alerts call_id | sort | tr '\n' ' ')" "C1 C1 C2 C2 "
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "SIGTERM exits 0" "$?" 0
[ "$T_FAIL" -gt 0 ] && { echo "--- daemon log"; tail -n 30 "$LOG"; }
t_done
