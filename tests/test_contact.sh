#!/bin/sh
# test_contact.sh — the contact policy (README, "Working a case") through the
# real
# daemon against a real redis-server: limits.callbacks {max: 2, within: 7d}
# caps a customer's alerts of list channels marked contact: true (the
# dialer), also across escalation steps and restarts (the count is in
# Redis); the third callback is held back and recorded in the case's
# history with its reason; a customer whose CRM hash says do_not_call gets
# none; other channels are not limited.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
cat > "$CONF" <<CONF
redis: {url: "unix://$T_REDIS_SOCK"}
http: {listen: ""}
defaults: {cooldown: 0}
limits: {callbacks: {max: 2, within: 7d}}
channels:
  supervisors: {type: stream, key: ivr:alerts}
  dialer: {type: list, key: dialer:callbacks, contact: true}
  board: {type: list, key: board}
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: [supervisors, dialer, board], message: "call {{customer_id}}"}]
CONF
C="$BUILD/recoveryctl -c $CONF"
check "config is valid" "$BUILD/recoveryd" -t -c "$CONF"
t_daemon "$CONF" "$T_DIR/d.log"
dialed() { $R LRANGE dialer:callbacks 0 -1 | grep -c "\"customer_id\":\"$1\""; }
$C push rating call_id=C1 customer_id=K1 csat=1 >/dev/null
$C push rating call_id=C2 customer_id=K1 csat=2 >/dev/null
check "drained" t_wait 10 drained
check_eq "two callbacks go out" "$(dialed K1)" 2
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
t_daemon "$CONF" "$T_DIR/d2.log"
$C push rating call_id=C3 customer_id=K1 csat=1 >/dev/null
check "drained after a restart" t_wait 10 drained
check_eq "the third in a week is held back (the count survived the restart)" "$(dialed K1)" 2
check_eq "other channels are not limited" "$($R LRANGE board 0 -1 | grep -c '"customer_id":"K1"')" 3
CASE=$($R GET ivr:opencase:K1)
check "recorded in the case's history with the reason" sh -c \
    "$R LRANGE ivr:case:$CASE:history 0 -1 | grep -q '\"kind\":\"suppressed\",\"channel\":\"dialer\",\"rule\":\"low-csat\",\"step\":\"0\",\"reason\":\"limit\"'"
$R HSET ivr:customer:K2 tier gold do_not_call true >/dev/null
$C push rating call_id=C4 customer_id=K2 csat=1 >/dev/null
check "drained" t_wait 10 drained
check_eq "do_not_call: no callback" "$(dialed K2)" 0
check "do_not_call: recorded" sh -c \
    "$R LRANGE ivr:case:\$($R GET ivr:opencase:K2):history 0 -1 | grep -q '\"reason\":\"do_not_call\"'"
check_eq "do_not_call: the supervisors still hear of it" \
    "$($R XRANGE ivr:alerts - + | grep -c '^call K2$')" 1
check_eq "nothing pending" "$(pending)" 0
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
t_done
