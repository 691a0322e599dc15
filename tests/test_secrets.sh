#!/bin/sh
# test_secrets.sh — secrets stay secret, and every way of giving them works,
# against a real redis-server that requires a password and has an ACL user:
#  - an exec program (run as an unprivileged user when the suite runs as
#    root) reads /proc/$PPID/environ and its own environment: neither holds
#    the Redis password or a webhook token; the daemon is not dumpable and
#    its original environment block is wiped; the webhook still sends the
#    token, also for a header a reload adds (resolved from the start's
#    snapshot);
#  - a webhook URL's path and query stay out of the log and out of
#    ivr:alerts:undelivered (scheme://host:port only), and ${NAME} in a URL
#    is replaced;
#  - redis://user:password@ and REDIS_USERNAME/REDIS_PASSWORD authenticate
#    as an ACL user (recoveryd, recoveryctl, ivr-sim); a wrong password is
#    a clear error that does not show it;
#  - $CREDENTIALS_DIRECTORY (systemd LoadCredential=) supplies the Redis
#    password and webhook variables;
#  - the systemd unit sets resource limits and takes secrets as
#    credentials, and `make install` writes the configuration 0640.
#
# The unit file and the Makefile checked are those of the tree $BUILD was
# built from when it is a checkout's build/ (RECOVERYD_BUILD=/tmp/x/build
# checks /tmp/x), else this checkout's.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup

SRC=.
[ -f "$BUILD/../Makefile" ] && [ -f "$BUILD/../systemd/recoveryd.service" ] &&
    SRC=$(cd "$BUILD/.." && pwd)
ABS_BUILD=$(cd "$BUILD" && pwd)

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_up() {
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null
}
rand() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }

SECRET="redis-pw-$(rand)"		# the default user's password
ALICE_PW="alice-pw-$(rand)"
TOKEN="hook-token-$(rand)"
HPATH="hook-path-$(rand)"
HKEY="hook-key-$(rand)"
LATER="later-token-$(rand)"
RP=$(free_port)
HP=$(free_port)
CP=$(free_port)				# nothing listens there
while [ "$HP" = "$RP" ]; do HP=$(free_port); done
while [ "$CP" = "$RP" ] || [ "$CP" = "$HP" ]; do CP=$(free_port); done

# --- a redis-server that requires a password, and an ACL user -------------
mkdir -p "$T_DIR/redis"
RSOCK=$T_DIR/redis/redis.sock
t_bg redis-server --port "$RP" --bind 127.0.0.1 --unixsocket "$RSOCK" \
    --unixsocketperm 700 --dir "$T_DIR/redis" --save "" --appendonly no \
    --requirepass "$SECRET" --logfile "$T_DIR/redis/redis.log"
R="redis-cli -s $RSOCK --no-auth-warning -a $SECRET"
t_wait 5 redis_up || { echo "redis-server did not start"; cat "$T_DIR/redis/redis.log"; exit 1; }
$R ACL SETUSER alice on ">$ALICE_PW" '~*' '&*' '+@all' >/dev/null

RLOG=$T_DIR/recv.jsonl
touch "$RLOG"
t_bg python3 tests/receiver.py "$HP" "$RLOG"
check "receiver up" t_wait 5 port_up "$HP"

# recv PYTHON: run PYTHON with recs = the receiver's records.
recv() {
	python3 -c "
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
$1
" "$RLOG"
}

# The daemon of the first part runs as nobody when we are root, so that
# its programs are an ordinary same-user process, as under systemd.
AS=""
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	AS="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) --clear-groups --"
	chmod 755 "$T_DIR"
	# A checkout nobody can reach (under /root, say): run as root then.
	$AS test -x "$BUILD/recoveryd" || AS=""
fi
SPY=$T_DIR/spy
mkdir "$SPY"
chmod 777 "$SPY"
cat > "$T_DIR/spy.sh" <<EOF
#!/bin/sh
# An exec program that snoops: its parent's environment and its own.
: > "$SPY/parent.env.\$1"
if tr '\\0' '\\n' < /proc/\$PPID/environ > "$SPY/parent.env.\$1" 2>/dev/null
then echo readable; else echo "not readable"; fi > "$SPY/parent.\$1"
env > "$SPY/own.env.\$1"
echo \$PPID > "$SPY/ppid.\$1"
EOF
chmod 755 "$T_DIR/spy.sh"

# conf FILE URL CONSUMER [EXTRA HEADER LINE]
conf() {
	cat > "$1" <<CONF
redis: {url: "$2"}
input: {stream: ivr:events, group: recoveryd, consumer: $3, claim_idle: 1s}
http: {listen: ""}
defaults: {cooldown: 0, severity: medium}
channels:
  supervisors: {type: stream, key: ivr:alerts}
  hook:
    type: webhook
    url: "http://127.0.0.1:$HP/ok/\${HOOK_PATH}?key=\${HOOK_KEY}"
    headers:
      Authorization: "Bearer \${HOOK_TOKEN}"
$4
    timeout: 2s
  closed:
    type: webhook
    url: "http://127.0.0.1:$CP/hooks/T0PSECRETPATH?token=Q0SECRETQUERY"
    timeout: 1s
    retries: 0
  spy: {type: exec, argv: ["$T_DIR/spy.sh", "{{call_id}}"], timeout: 5s}
rules:
  - {name: to-sup, on: rating, if: "queue == 'sup'", actions: [{notify: supervisors}]}
  - {name: to-hook, on: rating, if: "queue == 'hook'", actions: [{notify: hook}]}
  - {name: to-closed, on: rating, if: "queue == 'closed'", actions: [{notify: closed}]}
  - {name: to-spy, on: rating, if: "queue == 'spy'", actions: [{notify: spy}]}
CONF
	chmod 644 "$1"
}
ev() { $R XADD ivr:events '*' type rating call_id "$2" customer_id K1 queue "$1" csat 3 >/dev/null; }
alerted() { stream_field ivr:alerts call_id | grep -qx "$1"; }
log_has() { grep -q "$2" "$1"; }

# --- 1. an exec program cannot read the daemon's secrets --------------------
CONF=$T_DIR/a.yaml
LOG=$T_DIR/a.log
conf "$CONF" "redis://127.0.0.1:$RP/0" sec-a
check "configuration with \${NAME} in url and headers is valid" \
    "$BUILD/recoveryd" -t -c "$CONF"
t_bg env REDIS_PASSWORD="$SECRET" HOOK_TOKEN="$TOKEN" HOOK_PATH="$HPATH" \
    HOOK_KEY="$HKEY" LATER_TOKEN="$LATER" $AS "$BUILD/recoveryd" -f -c "$CONF" \
    2>>"$LOG"
DPID=$T_LAST
ev sup S1
check "the daemon authenticates with REDIS_PASSWORD" t_wait 5 alerted S1
ev spy P1
check "the exec program ran" t_wait 5 test -s "$SPY/ppid.P1"
check_eq "the program's parent is the daemon" "$(cat "$SPY/ppid.P1" 2>/dev/null)" "$DPID"
# no_secret FILE...: the files exist and hold none of the secrets.
no_secret() {
	for f in "$@"; do [ -f "$f" ] || return 1; done
	! grep -q -e "$SECRET" -e "$TOKEN" -e "$HPATH" -e "$HKEY" -e "$LATER" "$@"
}
check "no secret in the program's own environment" no_secret "$SPY/own.env.P1"
check "no secret in the program's view of /proc/\$PPID/environ" \
    no_secret "$SPY/parent.env.P1"
if [ -n "$AS" ] || [ "$(id -u)" != 0 ]; then
	# (root's programs may read anything: then only the wipe below helps)
	check_eq "the daemon's environ is not readable by its program (not dumpable)" \
	    "$(cat "$SPY/parent.P1" 2>/dev/null)" "not readable"
fi
if [ -n "$AS" ]; then
	check_eq "the daemon runs as nobody" \
	    "$(awk '/^Uid:/ { print $2 }' /proc/$DPID/status)" "$(id -u nobody)"
	# /proc/PID files of a process that is not dumpable belong to root.
	check_eq "/proc/<daemon>/environ belongs to root: not dumpable" \
	    "$(stat -c %u /proc/$DPID/environ)" 0
fi
tr '\0' '\n' < /proc/$DPID/environ > "$T_DIR/daemon.env"
check "the original environment block is wiped (read as root)" \
    no_secret "$T_DIR/daemon.env"

# --- 2. the webhook still sends the secrets ----------------------------------
ev hook H1
hook_seen() { grep -q '"H1' "$RLOG"; }
check "the webhook is delivered" t_wait 5 hook_seen
check "\${NAME} in url and header replaced from the environment" recv "
r = [r for r in recs if json.loads(r['body'])['call_id'] == 'H1']
assert len(r) == 1, recs
assert r[0]['path'] == '/ok/$HPATH?key=$HKEY', r[0]['path']
assert r[0]['headers']['Authorization'] == 'Bearer $TOKEN', r[0]['headers']
"
# A reload adds a header with a variable the start's configuration did not
# use: resolved from the snapshot taken at start.
conf "$CONF" "redis://127.0.0.1:$RP/0" sec-a '      X-Later: "${LATER_TOKEN}"'
kill -HUP "$DPID"
reloaded() { grep -q 'reload: ' "$LOG"; }
check "reload with a new \${NAME}" t_wait 5 reloaded
ev hook H2
hook2_seen() { grep -q '"H2' "$RLOG"; }
check "the webhook is delivered after the reload" t_wait 5 hook2_seen
check "after the reload both headers carry their secrets" recv "
r = [r for r in recs if json.loads(r['body'])['call_id'] == 'H2']
assert len(r) == 1, recs
assert r[0]['headers']['Authorization'] == 'Bearer $TOKEN', r[0]['headers']
assert r[0]['headers']['X-Later'] == '$LATER', r[0]['headers']
"

# --- 3. a webhook URL's path and query stay out of messages -----------------
ev closed X1
closed_done() { stream_field ivr:alerts:undelivered channel | grep -qx closed; }
check "a webhook to a closed port is undelivered" t_wait 5 closed_done
stream_field ivr:alerts:undelivered error > "$T_DIR/undelivered.err"
check "its error names scheme://host:port" \
    grep -q "^http://127.0.0.1:$CP: " "$T_DIR/undelivered.err"
check "its error has neither path nor query" sh -c \
    "! grep -q -e T0PSECRETPATH -e Q0SECRETQUERY '$T_DIR/undelivered.err'"
check "the log names the receiver as scheme://host:port" \
    log_has "$LOG" "http://127.0.0.1:$CP"
check "the log has no path or query of a webhook URL" sh -c \
    "! grep -q -e T0PSECRETPATH -e Q0SECRETQUERY -e '$HPATH' -e '$HKEY' '$LOG'"
check "no secret in the log" no_secret "$LOG"
kill -TERM "$DPID"
wait "$DPID"
check_eq "SIGTERM exits 0" $? 0

# --- 4. Redis ACL users -----------------------------------------------------
ACONF=$T_DIR/alice.yaml
conf "$ACONF" "redis://alice:$ALICE_PW@127.0.0.1:$RP/0" sec-alice
PCONF=$T_DIR/plain.yaml
conf "$PCONF" "redis://127.0.0.1:$RP/0" sec-plain
UCONF=$T_DIR/unix.yaml
conf "$UCONF" "unix://$RSOCK" sec-unix
WCONF=$T_DIR/wrong.yaml
conf "$WCONF" "redis://alice:b4d-pw-zz@127.0.0.1:$RP/0" sec-wrong
C=$BUILD/recoveryctl
exit_is "recoveryctl with redis://user:password@" 0 \
    env -u REDIS_PASSWORD "$C" -c "$ACONF" push rating call_id=A1 customer_id=K1 queue=sup csat=3
exit_is "recoveryctl with REDIS_USERNAME and REDIS_PASSWORD" 0 \
    env REDIS_USERNAME=alice REDIS_PASSWORD="$ALICE_PW" "$C" -c "$PCONF" \
    push rating call_id=A2 customer_id=K1 queue=sup csat=3
exit_is "recoveryctl with a wrong password exits 3" 3 \
    env -u REDIS_PASSWORD "$C" -c "$WCONF" push rating call_id=A3 customer_id=K1 csat=3
check "recoveryctl names the user and Redis's reason" sh -c \
    "grep -q 'AUTH as user alice: WRONGPASS' '$T_DIR/out'"
check "recoveryctl does not show the wrong password" sh -c \
    "! grep -q b4d-pw-zz '$T_DIR/out'"
exit_is "ivr-sim with redis://user:password@" 0 env -u REDIS_PASSWORD \
    "$BUILD/ivr-sim" -q -u "redis://alice:$ALICE_PW@127.0.0.1:$RP" \
    -s sim:events -n 3 -r 1000 --no-crm
check_eq "ivr-sim's events arrived" "$($R XLEN sim:events)" 3

# daemon_alerts_as CONF LOG CALL [ENV...]: run recoveryd on CONF with ENV
# until the alert of event CALL (queue sup) is in the stream, then stop it.
daemon_alerts_as() {
	cf=$1
	lg=$2
	call=$3
	shift 3
	t_bg env -u REDIS_PASSWORD -u REDIS_USERNAME "$@" "$BUILD/recoveryd" -f -c "$cf" 2>>"$lg"
	dp=$T_LAST
	ev sup "$call"
	t_wait 5 alerted "$call"
	rc=$?
	kill -TERM "$dp"
	wait "$dp"
	return $rc
}
check "recoveryd with redis://user:password@" \
    daemon_alerts_as "$ACONF" "$T_DIR/alice.log" D1
check "recoveryd with REDIS_USERNAME and REDIS_PASSWORD (unix socket)" \
    daemon_alerts_as "$UCONF" "$T_DIR/unix.log" D2 \
    REDIS_USERNAME=alice REDIS_PASSWORD="$ALICE_PW"
t_bg env -u REDIS_PASSWORD "$BUILD/recoveryd" -f -c "$WCONF" 2>>"$T_DIR/wrong.log"
WPID=$T_LAST
check "recoveryd with a wrong password says so, naming the user" t_wait 5 \
    log_has "$T_DIR/wrong.log" 'AUTH as user alice failed: WRONGPASS'
kill -TERM "$WPID"
wait "$WPID"
check "recoveryd does not show the wrong password" sh -c \
    "! grep -q b4d-pw-zz '$T_DIR/wrong.log'"

# --- 5. systemd credentials ($CREDENTIALS_DIRECTORY) ------------------------
CRED=$T_DIR/credentials
mkdir "$CRED"
printf '%s\n' "$SECRET" > "$CRED/redis-password"
printf '%s' "cred-$TOKEN" > "$CRED/hook-token"
printf '%s\n' "$HPATH" > "$CRED/hook-path"
printf '%s\n' "$HKEY" > "$CRED/hook-key"
exit_is "recoveryctl reads redis-password from \$CREDENTIALS_DIRECTORY" 0 \
    env -u REDIS_PASSWORD CREDENTIALS_DIRECTORY="$CRED" "$C" -c "$PCONF" \
    push rating call_id=E1 customer_id=K1 queue=sup csat=3
t_bg env -u REDIS_PASSWORD -u HOOK_TOKEN -u HOOK_PATH -u HOOK_KEY \
    CREDENTIALS_DIRECTORY="$CRED" "$BUILD/recoveryd" -f -c "$PCONF" 2>>"$T_DIR/cred.log"
CPID=$T_LAST
ev sup E2
check "recoveryd authenticates with the redis-password credential" \
    t_wait 5 alerted E2
ev hook E3
hook3_seen() { grep -q '"E3' "$RLOG"; }
check "webhook variables come from credentials" t_wait 5 hook3_seen
check "credential values in url and header" recv "
r = [r for r in recs if json.loads(r['body'])['call_id'] == 'E3']
assert len(r) == 1, recs
assert r[0]['path'] == '/ok/$HPATH?key=$HKEY', r[0]['path']
assert r[0]['headers']['Authorization'] == 'Bearer cred-$TOKEN', r[0]['headers']
"
kill -TERM "$CPID"
wait "$CPID"
check_eq "SIGTERM exits 0 (credentials)" $? 0

# --- 6. the systemd unit and make install -----------------------------------
UNIT=$SRC/systemd/recoveryd.service
setting() { grep -Eq "^$1=[^[:space:]]" "$UNIT"; }
for s in LimitNOFILE TasksMax MemoryMax; do
	check "unit sets $s=" setting "$s"
done
check "unit has no Environment= or EnvironmentFile= line" sh -c \
    "! grep -Eq '^(Environment|EnvironmentFile|PassEnvironment)=' '$UNIT'"
check "unit loads redis-password with LoadCredential=" \
    grep -Eq '^LoadCredential=redis-password(:|$)' "$UNIT"
if command -v systemd-analyze >/dev/null 2>&1; then
	check "systemd-analyze security exposure at most 1.1" \
	    sh "$SRC/contrib/check-unit.sh" -m 1.1
fi
DEST=$T_DIR/dest
exit_is "make install DESTDIR=..." 0 make -s -C "$SRC" -o all \
    BUILD="$ABS_BUILD" DESTDIR="$DEST" install
check_eq "the configuration is installed 0640" \
    "$(stat -c %a "$DEST/etc/recoveryd/recoveryd.yaml" 2>/dev/null)" 640
check_eq "included rule files are installed 0640" \
    "$(stat -c %a "$DEST"/etc/recoveryd/rules.d/*.yaml 2>/dev/null | sort -u)" 640

[ "$T_FAIL" -gt 0 ] && for f in "$T_DIR"/*.log; do echo "--- $f"; tail -n 20 "$f"; done
t_done
