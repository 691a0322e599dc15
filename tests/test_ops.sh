#!/bin/sh
# test_ops.sh — what an operator meets when input turns hostile or a
# deploy goes wrong (issue 8):
#   - a 400 KB YAML file nested deeply in flow style is refused at once
#     (libyaml would take minutes to read it, stalling a SIGHUP);
#   - with a broken rule file (a rule error in the main file, a YAML
#     syntax error in an included one) the commands that only talk to
#     Redis (push, cases, show, ack, resolve, stats, watch) still work,
#     while check exits 1; a broken redis section still stops them;
#   - SIGHUP after changing input.group keeps the running group: no old
#     alert is sent again, and new events are read by the old group;
#   - newlines and control characters of events never reach a log or
#     syslog line raw (the syslog channel and the daemon's own log).
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
CTL=$BUILD/recoveryctl
t_setup

# --- a deeply nested flow collection -------------------------------------
python3 -c 'import sys
n = 100000
sys.stdout.write("rules: " + "[a, " * n + "]" * n + "\n")' > "$T_DIR/deep.yaml"
timeout 5 "$CTL" check "$T_DIR/deep.yaml" > "$T_DIR/deep.out" 2>&1
check_eq "400 KB of flow nesting: refused within the 5 s timeout (exit 1, not 124)" "$?" 1
check_eq "the refusal names the 33rd level" "$(cat "$T_DIR/deep.out")" \
    "$T_DIR/deep.yaml:1:132: nesting deeper than 32 levels"

t_redis_start

# --- recoveryctl with broken rules ----------------------------------------
CONF=$T_DIR/recoveryd.yaml
mkdir "$T_DIR/rules.d"
t_config "$CONF" <<'RULES'
include: ["rules.d/*.yaml"]
RULES
cat > "$T_DIR/rules.d/rules.yaml" <<'EOF'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors, message: "low CSAT {{csat}} from {{customer_id}}"}]
    escalate:
      - {after: 1h, notify: dialer}
EOF
check "good configuration" "$BUILD/recoveryd" -t -c "$CONF"
t_daemon "$CONF" "$T_DIR/ctl.log"
C="$CTL -c $CONF"
$C push rating call_id=C1 customer_id=K1 csat=1 >/dev/null
check "the first event opens a case" t_wait 10 sh -c "[ -n \"\$($R GET ivr:opencase:K1)\" ]"
CASE=$($R GET ivr:opencase:K1)
reported() { [ -n "$($R KEYS 'ivr:daemon:*')" ]; }
check "the daemon reports its figures" t_wait 10 reported

# Now a bad deploy: a rule error in the main file, a syntax error in an
# include. The running daemon keeps its rules (no SIGHUP).
cat >> "$CONF" <<'EOF'
rules:
  - name: broken
    on: rating
    if: csat <<< 2
    actions: [{notify: nowhere}]
EOF
printf 'rules: [ {name: x\n' > "$T_DIR/rules.d/zz-broken.yaml"
exit_is "check exits 1 on the broken rules" 1 $C check
check "check names the included file's syntax error" \
    grep -q "rules.d/zz-broken.yaml:2:1: " "$T_DIR/out"
exit_is "push works" 0 $C push rating call_id=C2 customer_id=K2 csat=1
exit_is "cases works" 0 $C cases
check "cases lists the case" grep -q "^$CASE " "$T_DIR/out"
exit_is "show works" 0 $C show "$CASE"
exit_is "stats works" 0 $C stats
t_bg $C watch > "$T_DIR/watch.out" 2>&1
WATCH=$T_LAST
# watch subscribes to Pub/Sub: push once it is listening.
subscribed() { [ "$($R PUBSUB NUMSUB ivr:alerts | tail -n 1)" = 1 ]; }
check "watch subscribes" t_wait 5 subscribed
$C push rating call_id=C3 customer_id=K3 csat=2 >/dev/null
check "watch prints the alert" t_wait 5 grep -q "low CSAT 2 from K3" "$T_DIR/watch.out"
kill -TERM "$WATCH"
wait "$WATCH"
check_eq "watch exits 0 on SIGTERM" "$?" 0
exit_is "ack works" 0 $C ack "$CASE" --by ops
check_eq "the case is acknowledged" "$($R HGET "ivr:case:$CASE" state)" acknowledged
exit_is "resolve works" 0 $C resolve "$CASE" --code refund
check_eq "the case is resolved" "$($R HGET "ivr:case:$CASE" state)" resolved
sed -i "s|^redis: .*|redis: {url: \"http://nowhere\"}|" "$CONF"
exit_is "a broken redis section stops cases (exit 1)" 1 $C cases
check_eq "... naming it at FILE:LINE:COL" "$(cat "$T_DIR/out")" \
    "$CONF:1:14: invalid 'url' in 'redis': expected redis://host[:port][/db] or unix:///path"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"

# --- SIGHUP with a changed input.group -----------------------------------
$R FLUSHALL >/dev/null
PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
CONF=$T_DIR/reload.yaml
LOG=$T_DIR/reload.log
t_config "$CONF" <<'RULES'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors}]
RULES
sed -i "s|^http: .*|http: {listen: \"127.0.0.1:$PORT\"}|" "$CONF"
alerts_are() { [ "$($R XLEN ivr:alerts)" = "$1" ]; }
t_daemon "$CONF" "$LOG"
for i in 1 2 3; do
	$R XADD ivr:events '*' type rating call_id "R$i" customer_id "K$i" csat 1 >/dev/null
done
check "three events, three alerts" t_wait 10 alerts_are 3
check "drained by group recoveryd" t_wait 10 drained
sed -i "s|group: recoveryd,|group: other,|" "$CONF"
kill -HUP "$T_DAEMON"
check "the reload says input.group waits for a restart" t_wait 5 grep -q \
    "reload: input.group changed; running with the old value until the next restart" "$LOG"
$R XADD ivr:events '*' type rating call_id R4 customer_id K4 csat 1 >/dev/null
check "the new event is read by the running group" t_wait 10 drained
check "... and alerts once" t_wait 5 alerts_are 4
sleep 0.5
check_eq "no old alert was sent again" "$($R XLEN ivr:alerts)" 4
check_eq "no group 'other' was created" \
    "$($R XINFO GROUPS ivr:events | grep -c '^other$')" 0
metric=$(python3 - "$PORT" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("GET", "/metrics")
for line in c.getresponse().read().decode().splitlines():
    if line.startswith("recoveryd_restart_pending{"):
        print(line)
PY
)
check_eq "/metrics shows the setting waiting for a restart" "$metric" \
    'recoveryd_restart_pending{setting="input.group"} 1'
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "SIGTERM after the reload: exit 0" "$?" 0

# --- control characters in log and syslog lines ---------------------------
# The syslog channel's line carries the event's customer and message; the
# daemon's own log quotes what a reload found wrong in the file (here a
# key holding a newline).
$R FLUSHALL >/dev/null
SYSLOG=""
if [ ! -e /dev/log ] && [ "$(id -u)" = 0 ]; then
	SYSLOG=$T_DIR/syslog.jsonl
	t_bg python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
out = open(sys.argv[1], "a", buffering=1)
while True:
    out.write(json.dumps(s.recv(65536).decode("utf-8", "replace")) + "\n")
' "$SYSLOG"
	trap 'rm -f /dev/log; t_cleanup' EXIT
	t_wait 5 test -S /dev/log || SYSLOG=""
fi
CONF=$T_DIR/escape.yaml
LOG=$T_DIR/escape.log
t_config "$CONF" <<'RULES'
rules:
  - name: complaint
    on: complaint
    actions: [{notify: log, message: "complaint {{complaint_id}}: {{text}}"}]
RULES
t_daemon "$CONF" "$LOG"
NL='
'
CR=$(printf '\r')
ESC=$(printf '\033')
DEL=$(printf '\177')
$R XADD ivr:events '*' type complaint complaint_id P1 \
    customer_id "K1${NL}recoveryd[1]: forged" \
    text "a${CR}b${ESC}[31mred${DEL}" >/dev/null
check "complaint drained" t_wait 10 drained
printf '"x\\nrecoveryd[1]: forged": 1\n' >> "$CONF"
kill -HUP "$T_DAEMON"
check "the failed reload is logged" t_wait 5 grep -q "reload failed" "$LOG"
check "... with the newline of the key escaped" grep -Fq \
    "unknown key 'x\\nrecoveryd[1]: forged'" "$LOG"
check "no log line was forged" sh -c "! grep -q '^recoveryd\\[1\\]: forged' '$LOG'"
if [ -n "$SYSLOG" ]; then
	check "the syslog alert is written" t_wait 5 grep -q "rule=complaint" "$SYSLOG"
	check "the syslog lines of the daemon hold no control character, and the alert its fields escaped" \
	    python3 - "$SYSLOG" "$T_DAEMON" <<'PY'
import json, re, sys
mine = [l for l in map(json.loads, open(sys.argv[1]))
        if "recoveryd[%s]:" % sys.argv[2] in l]
bad = [l for l in mine if re.search("[\x00-\x1f\x7f]", l)]
alert = [l for l in mine if "rule=complaint" in l]
want = ("customer=K1\\nrecoveryd[1]: forged complaint P1: "
        "a\\rb\\x1b[31mred\\x7f")
ok = mine and not bad and len(alert) == 1 and alert[0].endswith(want)
if not ok:
    print("bad:", bad, "alert:", alert, "want suffix:", want)
sys.exit(0 if ok else 1)
PY
else
	echo "skip syslog: /dev/log belongs to a running syslog (or not root)"
fi
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
t_done
