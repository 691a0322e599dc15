#!/bin/sh
# test_lost.sh — entries deleted from the stream while pending (a trim by
# MAXLEN, an XDEL) come back from Redis with nil bodies: the daemon logs
# them as lost and acks them, on both paths that re-read pending entries:
# its own pending entries after a restart (same consumer name), and
# entries claimed from a dead consumer. An entry whose dead letter cannot
# be written stays pending without stopping the events after it.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start

CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
# A fixed consumer name, so that a restarted daemon re-reads its own
# pending entries; a dead-letter key that is a string keeps an invalid
# entry pending (its dead letter cannot be written) until it is deleted.
t_config "$CONF" <<'RULES'
rules:
  - name: low
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors}]
RULES
sed -i 's/^input: {/input: {consumer: fixed-name, dead_letter: "stuck:key", /; s/max_deliveries: 3/max_deliveries: 1000/' "$CONF"
$R SET stuck:key "not a stream" >/dev/null

# 1. Own pending entry, deleted while pending, re-read after a restart.
ID=$($R XADD ivr:events '*' type call call_id STUCK)
t_daemon "$CONF" "$LOG"
check "entry failed and stays pending" t_wait 30 grep -q "$ID .*not acked" "$LOG"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "still pending after the stop" "$(pending)" 1
$R XDEL ivr:events "$ID" >/dev/null
t_daemon "$CONF" "$LOG"
check "deleted pending entry logged as lost" t_wait 30 grep -q "event $ID: entry was deleted" "$LOG"
check "and acked" t_wait 30 sh -c "[ \"\$(redis-cli -s '$T_REDIS_SOCK' XPENDING ivr:events recoveryd | head -n 1)\" = 0 ]"
check "daemon still running" kill -0 "$T_DAEMON"
$R XADD ivr:events '*' type rating call_id C2 customer_id K2 csat 1 >/dev/null
check "events after it are processed" t_wait 30 drained

# 2. Pending on a dead consumer, deleted, claimed by another daemon.
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
ID2=$($R XADD ivr:events '*' type call call_id STUCK)
$R XREADGROUP GROUP recoveryd dead-consumer COUNT 10 STREAMS ivr:events '>' >/dev/null
$R XDEL ivr:events "$ID2" >/dev/null
t_daemon "$CONF" "$LOG"
check "claim of a deleted entry logged" t_wait 30 grep -q "event $ID2: entry was deleted" "$LOG"
check "nothing left pending" t_wait 30 sh -c "[ \"\$(redis-cli -s '$T_REDIS_SOCK' XPENDING ivr:events recoveryd | head -n 1)\" = 0 ]"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "clean exit" "$?" 0
[ "$T_FAIL" -gt 0 ] && tail -n 20 "$LOG"
t_done
