#!/bin/sh
# test_console_api.sh — recoveryd-console's JSON API (README, "Console")
# against a real redis-server, the real recoveryd (the owner that applies
# the console's commands) and the real recoveryd-console: login, me,
# cases (filters, search, paging), a case with its history, steps and
# CRM fields, every action with the session's user as "by", roles,
# CSRF, bad JSON, oversized bodies, SSE within a second of an XADD,
# silences, the report (the same as recoveryctl's), bearer tokens and
# their revocation, static files and traversal, security headers, expired
# sessions and the login rate limit (on a second console with short
# settings). The HTTP checks are tests/console_api.py.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
CONF2=$T_DIR/recoveryd2.yaml
P1=$(t_free_port)
P2=$(t_free_port)
while [ "$P2" = "$P1" ]; do P2=$(t_free_port); done
t_config "$CONF" <<'RULES'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors, message: "low CSAT {{csat}} from {{customer_id}}"}]
    escalate:
      - {after: 1h, notify: supervisors, message: "still open {{customer_id}}"}
RULES
cp "$CONF" "$CONF2"
cat >>"$CONF" <<EOF2
console: {listen: "127.0.0.1:$P1", users_file: "$T_DIR/users", command_timeout: 5s, login_attempts: 20}
EOF2
cat >>"$CONF2" <<EOF2
console: {listen: "127.0.0.1:$P2", users_file: "$T_DIR/users", session_idle: 2s, request_timeout: 1s, login_attempts: 3, command_timeout: 1s, login_window: 1m}
EOF2
C="$BUILD/recoveryctl -c $CONF"
check "recoveryctl check accepts the console section" $C check
printf 'console: {max_connections: 0, bogus: 1}\n' >"$T_DIR/bad.yaml"
exit_is "check: console errors at FILE:LINE:COL" 1 $C check "$T_DIR/bad.yaml"
check "  ... max_connections out of range" grep -q "bad.yaml:1:.*max_connections" "$T_DIR/out"
check "  ... unknown key" grep -q "bad.yaml:1:.*unknown key 'bogus'" "$T_DIR/out"

getent group daemon >/dev/null && chgrp daemon "$CONF" 2>/dev/null
echo ana-pw-1 | $C user add ana --role supervisor >/dev/null
echo vic-pw-1 | $C user add vic >/dev/null
echo root-pw-1 | $C user add root --role admin >/dev/null
check "users file: name:role:hash, yescrypt" grep -q '^ana:supervisor:\$y\$' "$T_DIR/users"
check "users file: default role viewer" grep -q '^vic:viewer:' "$T_DIR/users"
check_eq "users file mode 0640" "$(stat -c %a "$T_DIR/users")" 640
exit_is "user add twice is refused" 1 sh -c "echo x | $C user add ana"
if getent group daemon >/dev/null && [ "$(id -u)" = 0 ]; then
	check_eq "a new users file gets the configuration's group" \
	    "$(stat -c %G "$T_DIR/users")" daemon
fi
# from a terminal: no echo, asked twice (a pseudo-terminal from python)
python3 - "$C" >"$T_DIR/pty.out" 2>&1 <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    args = sys.argv[1].split() + ["user", "add", "ttyuser"]
    os.execv(args[0], args)
out = b""
status = None
def read_until(want, secs=5):
    """Read what the child writes until want (or its end, or secs)."""
    global out, status
    end = time.time() + secs
    while (want is None or want not in out) and time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                b = os.read(fd, 1024)
            except OSError:
                b = b""
            out += b
            if b:
                continue
        if status is None:
            p, st = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                status = os.waitstatus_to_exitcode(st)
                break
read_until(b"Password:")
os.write(fd, b"tty-secret-1\n")
read_until(b"Again:")
os.write(fd, b"tty-secret-1\n")
read_until(None)
if status is None:
    os.kill(pid, 9)
    print("\nkilled")
else:
    print("\nexited %d" % status)
sys.stdout.write(out.decode(errors="replace"))
PY
check "user add from a terminal: asked twice" sh -c "grep -q 'Password:' $T_DIR/pty.out && grep -q 'Again:' $T_DIR/pty.out && grep -q '^exited 0$' $T_DIR/pty.out"
check "  ... without echo" sh -c "! grep -q tty-secret-1 $T_DIR/pty.out"
check "  ... and added" grep -q '^ttyuser:viewer:\$y\$' "$T_DIR/users"
$C user remove ttyuser >/dev/null
echo tmp-pw-1 | $C user add tmp --role supervisor >/dev/null
H0=$(grep '^tmp:' "$T_DIR/users")
echo tmp-pw-2 | $C user passwd tmp >/dev/null
check "user passwd: a new hash, the role kept" sh -c "grep '^tmp:supervisor:' $T_DIR/users | grep -vqF '$H0'"
$C user role tmp viewer >/dev/null
check "user role" grep -q '^tmp:viewer:' "$T_DIR/users"
$C user role tmp supervisor >/dev/null
check_eq "user list" "$($C user list | tr '\n' ' ')" "ana  supervisor vic  viewer root  admin tmp  supervisor "
exit_is "user add: a bad name is a usage error" 2 sh -c "echo x | $C user add 'a:b'"
exit_is "user add: a bad role is a usage error" 2 sh -c "echo x | $C user add zed --role boss"
exit_is "user add: an empty password is refused" 1 sh -c "echo | $C user add zed"
check "no password in the file" sh -c "! grep -q ana-pw-1 $T_DIR/users"
TOKEN=$($C user token add ana)
TMPTOK=$($C user token add tmp)
check "token list names the user" sh -c "$C user token list tmp | grep -q '^${TMPTOK%%.*}  tmp$'"
check "token add prints ID.SECRET" sh -c "echo '$TOKEN' | grep -Eq '^[0-9a-f]{16}\.[0-9a-f]{64}$'"
check "tokens stored hashed" sh -c "! grep -q '${TOKEN#*.}' $T_DIR/users.tokens"
if command -v systemd-analyze >/dev/null 2>&1; then
	check "the console's unit: exposure at most 1.1" \
	    sh contrib/check-unit.sh -u recoveryd-console.service -m 1.1
fi
DEST=$T_DIR/dest
exit_is "make install DESTDIR=..." 0 make -s -o all BUILD="$BUILD" \
    DESTDIR="$DEST" PREFIX=/usr install
check "installed: the console" test -x "$DEST/usr/sbin/recoveryd-console"
check "installed: its unit, serving the installed page" grep -q \
    '^ExecStart=/usr/sbin/recoveryd-console -c /etc/recoveryd/recoveryd.yaml -A /usr/share/recoveryd/console$' \
    "$DEST/lib/systemd/system/recoveryd-console.service"
check "installed: the page" test -f "$DEST/usr/share/recoveryd/console/index.html"
$R HSET ivr:customer:K1 tier gold name "Kim One" >/dev/null

# static files: a probe, and a link out of the assets directory
ASSETS=$T_DIR/www
mkdir -p "$ASSETS"
cp -r daemon/console/www/. "$ASSETS/" 2>/dev/null
[ -f "$ASSETS/index.html" ] || echo '<!doctype html><title>x</title>' >"$ASSETS/index.html"
echo 'export {};' >"$ASSETS/probe.js"
ln -s /etc/passwd "$ASSETS/outside-link"

LOG=$T_DIR/recoveryd.log
t_daemon "$CONF" "$LOG"
t_bg "$BUILD/recoveryd-console" -f -c "$CONF" -A "$ASSETS" 2>>"$T_DIR/console.log"
CPID=$T_LAST
t_bg "$BUILD/recoveryd-console" -f -c "$CONF2" -A "$ASSETS" 2>>"$T_DIR/console2.log"
up() { python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)' "$1" 2>/dev/null; }
check "console listens" t_wait 10 up "$P1"
check "second console listens" t_wait 10 up "$P2"
check "-h documents the console" sh -c "$BUILD/recoveryd-console -h | grep -q users_file"

REDIS_PIDFILE=$T_DIR/redis/redis.pid DPID=$T_DAEMON CONSOLE_PORT=$P1 CONSOLE_PORT2=$P2 R="$R" C="$C" TOKEN="$TOKEN" TMPTOK="$TMPTOK" \
    python3 tests/console_api.py >"$T_DIR/py.out" 2>&1
cat "$T_DIR/py.out"
T_PASS=$((T_PASS + $(grep -c '^ok ' "$T_DIR/py.out")))
T_FAIL=$((T_FAIL + $(grep -c '^FAIL ' "$T_DIR/py.out")))
if grep -q Traceback "$T_DIR/py.out"; then
	fail "console_api.py ran to its end" "a Python exception"
fi
check "user remove drops its tokens too" sh -c "! grep -q '^tmp:' $T_DIR/users.tokens"
kill -TERM "$CPID"
wait "$CPID"
check_eq "SIGTERM: the console exits 0" $? 0
check "no sanitizer report" sh -c "! grep -q Sanitizer $T_DIR/console.log" || grep -A30 Sanitizer "$T_DIR/console.log" | head -60
check "no password in the logs" sh -c "! grep -q -e ana-pw-1 -e '${TOKEN#*.}' $T_DIR/console.log $T_DIR/console2.log"
t_done
