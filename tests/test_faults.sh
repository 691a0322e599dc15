#!/bin/sh
# test_faults.sh — nothing lost, nothing twice, under faults (README,
# "Channels" and "What is guaranteed"), with a real redis-server (AOF on, fsync
# always):
#  - kill -9 of the daemon in the middle of 20,000 events, restart;
#  - Redis stopped for 5 s under load, then started again;
#  - SIGTERM under load: exit 0, nothing left pending for that consumer;
#  - two daemons on one stream: one owns it, the other stands by and takes
#    over after kill -9 of the owner; no event processed twice.
# Event i has csat (i % 5) + 1, so exactly 2 in 5 events fire the rule,
# each firing writing one stream alert and one list alert.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start

CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
T_BATCH=10 t_config "$CONF" <<'RULES'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions:
      - notify: supervisors
        message: "Low CSAT {{csat}} from {{customer_id}} on {{call_id}}"
      - notify: dialer
RULES

alerts() { $R XLEN ivr:alerts; }
at_least_alerts() { [ "$(alerts)" -ge "$1" ]; }
# exactly_once N: N stream alerts with N distinct alert IDs, N list alerts.
exactly_once() {
	check_eq "$2: stream alerts" "$(alerts)" "$1"
	check_eq "$2: distinct alert IDs" \
	    "$(stream_field ivr:alerts alert_id | sort -u | wc -l)" "$1"
	check_eq "$2: distinct events alerted" \
	    "$(stream_field ivr:alerts call_id | sort -u | wc -l)" "$1"
	check_eq "$2: list alerts" "$($R LLEN dialer:callbacks)" "$1"
}

# --- kill -9 in the middle -----------------------------------------------
push_events 20000 0
t_daemon "$CONF" "$LOG"
check "kill -9: daemon got going" t_wait 20 at_least_alerts 1000
kill -9 "$T_DAEMON"
wait "$T_DAEMON" 2>/dev/null
mid=$(alerts)
check "kill -9 landed mid-stream" [ "$mid" -lt 8000 ]
t_daemon "$CONF" "$LOG"
check "kill -9: restarted daemon drains everything" t_wait 60 drained
exactly_once 8000 "kill -9"

# --- Redis down for 5 s under load ----------------------------------------
push_events 20000 20000
check "redis stop: under load" t_wait 20 at_least_alerts 9000
t_redis_stop
sleep 1
# its CPU time over 3 s without Redis: it retries, it does not spin
# (a loop on a timer of 0 would take all 3 s of a core)
cpu0=$(awk '{ print $14 + $15 }' "/proc/$T_DAEMON/stat")
sleep 3
cpu1=$(awk '{ print $14 + $15 }' "/proc/$T_DAEMON/stat")
check "Redis down: the daemon waits, it does not spin ($((cpu1 - cpu0)) ticks in 3 s)" \
    [ $((cpu1 - cpu0)) -lt $(($(getconf CLK_TCK) * 3 / 4)) ]
sleep 1
check "daemon survives Redis going away" kill -0 "$T_DAEMON"
t_redis_start
check "redis stop: drained after Redis came back" t_wait 60 drained
exactly_once 16000 "redis stop"
check "reconnect logged" grep -q "connection lost" "$LOG"

# --- SIGTERM under load ---------------------------------------------------
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "sigterm when idle: exit status" "$?" 0
push_events 20000 40000
t_daemon "$CONF" "$LOG"
check "sigterm: under load" t_wait 20 at_least_alerts 17000
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "sigterm: exit status" "$?" 0
check_eq "sigterm: nothing pending" "$(pending)" 0
check "sigterm: stopped before the end" [ "$(lag)" -gt 0 ]

# --- two daemons, one group: one owner, one standby ------------------------
t_daemon "$CONF" "$T_DIR/d1.log"
D1=$T_DAEMON
t_daemon "$CONF" "$T_DIR/d2.log"
D2=$T_DAEMON
push_events 10000 60000
check "two daemons drain everything" t_wait 60 drained
exactly_once 28000 "two daemons"
owners=$(grep -l "this daemon decides the stream now" "$T_DIR/d1.log" "$T_DIR/d2.log" | wc -l)
check_eq "one of the two daemons owns the stream" "$owners" 1
consumers=$($R XINFO CONSUMERS ivr:events recoveryd | grep -c ":$D1$\|:$D2$")
check_eq "only the owner reads" "$consumers" 1
if grep -q "decides the stream now" "$T_DIR/d1.log"; then OWNER=$D1 OTHER=$D2; else OWNER=$D2 OTHER=$D1; fi
kill -9 "$OWNER"
wait "$OWNER" 2>/dev/null
push_events 5000 70000
check "the standby takes over after kill -9 of the owner" t_wait 30 drained
exactly_once 30000 "takeover"
kill -TERM "$OTHER"
wait "$OTHER"
check_eq "the new owner exits 0" "$?" 0

if [ "$T_FAIL" -gt 0 ]; then
	echo "--- daemon logs"
	tail -n 20 "$LOG" "$T_DIR/d1.log" "$T_DIR/d2.log"
fi
t_done
