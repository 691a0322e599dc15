#!/bin/sh
# test_state_expiry.sh — the expiry of rule state in Redis (README, "The
# state lives in the owner's memory"): a key's TTL covers what its rules
# keep plus input.max_past_skew plus a day, and is set up to an hour past
# that, so that a later event whose state the expiry still covers is
# appended without a PEXPIRE (the expiry stays where it was, never short
# of what the state needs).
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
t_config "$CONF" <<'RULES'
rules:
  - name: agent-lows
    on: rating
    if: csat <= 2
    count: {by: agent_id, within: 1h, at_least: 100}
    actions: [{notify: supervisors, message: "{{agent_id}}: {{count}} low"}]
RULES
sed -i 's|max_deliveries: 3}|max_deliveries: 3, max_past_skew: 10m}|' "$CONF"
check "config is valid" "$BUILD/recoveryd" -t -c "$CONF"
t_daemon "$CONF" "$T_DIR/d.log"
C="$BUILD/recoveryctl -c $CONF"
K=ivr:k:agent_id:A1
# what the state needs: twice the window, the past skew and a day; and
# the slack, an hour
NEED=$((2 * 3600000 + 600000 + 86400000))
SLACK=3600000
$C push rating call_id=C1 customer_id=K1 agent_id=A1 csat=1 >/dev/null
check "first event drained" t_wait 10 drained
check "the agent's state is a key" t_wait 5 sh -c "[ \"\$($R EXISTS $K)\" = 1 ]"
P1=$($R PTTL $K)
L1=$($R STRLEN $K)
check "written with the slack past what it needs ($P1 ms)" \
    [ "$P1" -gt $((NEED + SLACK - 10000)) ] && [ "$P1" -le $((NEED + SLACK)) ]
sleep 1.2
$C push rating call_id=C2 customer_id=K2 agent_id=A1 csat=2 >/dev/null
check "second event drained" t_wait 10 drained
check "its record appended" t_wait 5 sh -c "[ \"\$($R STRLEN $K)\" -gt $L1 ]"
P2=$($R PTTL $K)
check "... without a PEXPIRE: the expiry stayed ($P1 -> $P2 ms)" \
    [ "$P2" -lt $((P1 - 500)) ]
check "... and still covers what the state needs ($P2 ms)" \
    [ "$P2" -gt $((NEED - 10000)) ]
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "daemon exits 0" $? 0
[ "$T_FAIL" -gt 0 ] && { echo "--- daemon log"; tail -n 20 "$T_DIR/d.log"; }
t_done
