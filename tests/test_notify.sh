#!/bin/sh
# test_notify.sh — the systemd notification protocol (Type=notify): a
# datagram socket standing in for systemd records what recoveryd sends:
# READY=1 once running, WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1
# then READY=1 on SIGHUP, STOPPING=1 on SIGTERM; and without NOTIFY_SOCKET
# nothing breaks.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
t_config "$CONF" <<'RULES'
rules:
  - name: low
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors}]
RULES
NSOCK=$T_DIR/notify.sock
NOUT=$T_DIR/notify.out
t_bg python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True:
    msg = s.recv(4096).decode()
    out.write("%.3f %s\n" % (time.time(), msg.replace("\n", "|")))
' "$NSOCK" "$NOUT"
t_wait 5 test -S "$NSOCK" || { echo "notify socket did not appear"; exit 1; }
: >"$NOUT"

NOTIFY_SOCKET=$NSOCK WATCHDOG_USEC=1000000 "$BUILD/recoveryd" -c "$CONF" \
    2>"$T_DIR/d.log" &
D=$!
T_PIDS="$T_PIDS $D"
check "READY=1 sent" t_wait 10 grep -q "READY=1" "$NOUT"
check "stays in the foreground under systemd" kill -0 "$D"
check "watchdog pings" t_wait 5 sh -c "[ \$(grep -c 'WATCHDOG=1' '$NOUT') -ge 2 ]"
kill -HUP "$D"
check "RELOADING=1 on SIGHUP" t_wait 5 grep -q "RELOADING=1" "$NOUT"
check "READY=1 again after the reload" t_wait 5 sh -c \
    "sed -n '/RELOADING=1/,\$p' '$NOUT' | grep -q 'READY=1'"
kill -TERM "$D"
wait "$D"
check_eq "exit 0 on SIGTERM" "$?" 0
check "STOPPING=1 on SIGTERM" grep -q "STOPPING=1" "$NOUT"

# A watchdog meant for another process is not ours to feed.
: >"$NOUT"
NOTIFY_SOCKET=$NSOCK WATCHDOG_USEC=200000 WATCHDOG_PID=1 "$BUILD/recoveryd" \
    -c "$CONF" 2>>"$T_DIR/d.log" &
D=$!
T_PIDS="$T_PIDS $D"
t_wait 10 grep -q "READY=1" "$NOUT"
sleep 1
check_eq "no pings for another PID's watchdog" "$(grep -c 'WATCHDOG=1' "$NOUT")" 0
kill -TERM "$D"
wait "$D"

# Without systemd: foreground with -f, no notification needed.
"$BUILD/recoveryd" -f -c "$CONF" 2>>"$T_DIR/d.log" &
D=$!
T_PIDS="$T_PIDS $D"
$R XADD ivr:events '*' type rating call_id C1 customer_id K1 csat 1 >/dev/null
check "runs without NOTIFY_SOCKET" t_wait 10 drained
kill -TERM "$D"
wait "$D"
check_eq "exit 0" "$?" 0
t_done
