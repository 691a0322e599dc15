#!/bin/sh
# test_syslog.sh — the syslog channel (README, "Channels"): with no syslog
# daemon on the machine (the usual case in a container), the test binds
# /dev/log itself and records what recoveryd sends: facility daemon, the
# channel's priority, ident recoveryd, "rule=R case=C step=N customer=K
# message". Skipped, with a note, where a real syslog owns /dev/log.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
if [ -e /dev/log ] || [ "$(id -u)" != 0 ]; then
	echo "skip: /dev/log belongs to a running syslog (or not root); not hijacking it"
	echo "0 passed, 0 failed"
	exit 0
fi
t_setup
t_redis_start
OUT=$T_DIR/syslog.out
t_bg python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
out = open(sys.argv[1], "a", buffering=1)
while True:
    out.write(s.recv(8192).decode("utf-8", "replace").rstrip("\n") + "\n")
' "$OUT"
trap 'rm -f /dev/log; t_cleanup' EXIT
t_wait 5 test -S /dev/log || { echo "could not bind /dev/log"; exit 1; }
CONF=$T_DIR/recoveryd.yaml
t_config "$CONF" <<'RULES'
  audit: {type: syslog, priority: err}
rules:
  - name: complaint
    on: complaint
    severity: critical
    actions: [{notify: audit, message: "complaint {{complaint_id}} from {{customer_id}}"}]
RULES
t_daemon "$CONF" "$T_DIR/d.log"
$R XADD ivr:events '*' type complaint complaint_id P7 customer_id K42 >/dev/null
check "complaint drained" t_wait 10 drained
check "alert line written" t_wait 5 grep -q "rule=complaint" "$OUT"
LINE=$(grep "rule=complaint" "$OUT" | head -n 1)
CASE=$($R GET ivr:opencase:K42)
# <PRI> = facility daemon (3) * 8 + err (3) = 27.
check "facility daemon, priority err" sh -c "echo '$LINE' | grep -q '^<27>'"
check "ident recoveryd with pid" sh -c "echo '$LINE' | grep -q 'recoveryd\[[0-9]*\]: '"
check_eq "message fields" "$(echo "$LINE" | sed 's/.*recoveryd\[[0-9]*\]: //')" \
    "rule=complaint case=$CASE step=0 customer=K42 complaint P7 from K42"
check "the daemon's own log also goes to syslog" grep -q "recoveryd.*started" "$OUT"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
t_done
