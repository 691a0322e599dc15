#!/bin/sh
# test_http_limits.sh — the HTTP listener under hostile clients (http.h):
# 300 clients that trickle a request byte by byte never lock /healthz out,
# never hold a connection past http.request_timeout, never take more than
# http.max_connections descriptors, and never starve the exec channel of
# file descriptors; out of descriptors (a low "ulimit -n"), accept errors
# pause the listener and are logged once, not on every turn of the loop,
# and the daemon answers again when the clients go.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start

PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')

# slow.py N SECONDS MODE [READY-FILE]: N clients against the daemon for at
# most SECONDS. MODE trickle: a request line, then one header byte every
# 0.3 s, never ending the request; idle: connect and send nothing. Prints
# "established=E closed=C open=O max_life=S", S the longest time a
# connection lived from its handshake until the server closed it (or
# until the end, for one still open).
cat > "$T_DIR/slow.py" <<'PY'
import errno, select, socket, sys, time
port, n, dur, mode = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
start = time.time()
poll = select.poll()
conns = {}
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except OSError as e:
        if e.errno != errno.EINPROGRESS:
            s.close()
            continue
    conns[s.fileno()] = {"s": s, "up": None}
    poll.register(s, select.POLLOUT | select.POLLIN)
if len(sys.argv) > 5:
    open(sys.argv[5], "w").close()
closed, lives, last = 0, [], 0.0
while conns and time.time() - start < dur:
    now = time.time()
    for fd, ev in poll.poll(100):
        c = conns.get(fd)
        if c is None:
            continue
        if ev & select.POLLOUT and c["up"] is None:
            if c["s"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                c["up"] = now
                poll.modify(fd, select.POLLIN)
                if mode == "trickle":
                    try:
                        c["s"].send(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
                    except OSError:
                        pass
                continue
        if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
            try:
                data = c["s"].recv(4096)
            except OSError:
                data = b""
            if data:
                continue
            if c["up"] is not None:
                lives.append(now - c["up"])
            closed += 1
            poll.unregister(fd)
            c["s"].close()
            del conns[fd]
    if mode == "trickle" and now - last >= 0.3:
        last = now
        for c in conns.values():
            if c["up"] is not None:
                try:
                    c["s"].send(b"a")
                except OSError:
                    pass
end = time.time()
established = len(lives) + sum(1 for c in conns.values() if c["up"] is not None)
for c in conns.values():
    if c["up"] is not None:
        lives.append(end - c["up"])
print("established=%d closed=%d open=%d max_life=%.2f" % (established,
    closed, len(conns), max(lives) if lives else 0))
PY

# probe: GET /healthz; prints "STATUS SECONDS" ("000" when nothing answered
# within 3 s).
probe() {
	python3 - "$PORT" <<'PY'
import http.client, sys, time
t = time.time()
try:
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=3)
    c.request("GET", "/healthz")
    st = c.getresponse().status
except OSError:
    st = 0
print("%03d %.2f" % (st, time.time() - t))
PY
}
healthy() { [ "$(probe | cut -d' ' -f1)" = 200 ]; }
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# ran N: the exec channel's program has run N times.
ran() { [ "$(cat "$T_DIR/exec.log" 2>/dev/null | wc -l)" -eq "$1" ]; }

cat > "$T_DIR/record.sh" <<EOF
#!/bin/sh
echo ran >> "$T_DIR/exec.log"
EOF
chmod +x "$T_DIR/record.sh"

CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
t_config "$CONF" <<RULES
  prog: {type: exec, argv: ["$T_DIR/record.sh"], timeout: 5s}
rules:
  - name: complaint
    on: complaint
    actions: [{notify: prog}]
RULES
sed -i "s|^http: .*|http: {listen: \"127.0.0.1:$PORT\", max_connections: 32, request_timeout: 1s}|" "$CONF"
check "config is valid" "$BUILD/recoveryd" -t -c "$CONF"

# daemon_limited NOFILE: the daemon with at most NOFILE descriptors.
daemon_limited() {
	t_bg sh -c 'ulimit -n "$1" && exec "$2" -f -c "$3"' sh "$1" \
	    "$BUILD/recoveryd" "$CONF" 2>>"$LOG"
	T_DAEMON=$T_LAST
	t_wait 10 healthy
}

# --- 300 slow clients; 256 descriptors; at most 32 connections -----------
check "daemon up (ulimit -n 256)" daemon_limited 256
base=$(nfds "$T_DAEMON")
$R XADD ivr:events '*' type complaint complaint_id P0 customer_id K1 >/dev/null
check "exec works before the clients come" t_wait 5 ran 1
t_bg python3 "$T_DIR/slow.py" "$PORT" 300 5 trickle "$T_DIR/slow.ready" \
    > "$T_DIR/slow.out"
SLOW=$T_LAST
t_wait 5 test -f "$T_DIR/slow.ready"
maxfds=0
i=0
while [ $i -lt 10 ]; do
	n=$(nfds "$T_DAEMON")
	[ "$n" -gt "$maxfds" ] && maxfds=$n
	sleep 0.1
	i=$((i + 1))
done
check "descriptors stay bounded by max_connections ($maxfds open, $base before)" \
    [ "$base" -gt 0 -a "$maxfds" -le $((base + 32 + 8)) ]
p1=$(probe)
p2=$(probe)
p3=$(probe)
check_eq "/healthz answers 200 during the attack (status, seconds: $p1, $p2, $p3)" \
    "$(echo "$p1 $p2 $p3" | awk '{ print $1, $3, $5 }')" "200 200 200"
$R XADD ivr:events '*' type complaint complaint_id P1 customer_id K1 >/dev/null
check "an exec delivery works during the attack" t_wait 15 ran 2
wait "$SLOW"
out=$(cat "$T_DIR/slow.out")
echo "slow clients: $out"
check "the clients connected" sh -c "echo '$out' | grep -Eq 'established=(2[0-9][0-9]|300) '"
life=$(echo "$out" | sed 's/.*max_life=//')
check "no trickling client kept a connection past the 1 s deadline (longest $life s)" \
    python3 -c "import sys; sys.exit(0 if float('$life') < 2.5 else 1)"
check_eq "no client was left open" "$(echo "$out" | sed 's/.* open=\([0-9]*\).*/\1/')" 0
check "/healthz 200 after the attack" healthy
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "SIGTERM: exit 0" "$?" 0

# --- out of descriptors: 100 idle clients against 24 descriptors ----------
: > "$LOG"
sed -i "s|max_connections: 32|max_connections: 64|" "$CONF"
check "daemon up (ulimit -n 24)" daemon_limited 24
t_bg python3 "$T_DIR/slow.py" "$PORT" 100 3 idle > "$T_DIR/idle.out"
IDLE=$T_LAST
wait "$IDLE"
echo "idle clients: $(cat "$T_DIR/idle.out")"
lines=$(grep -ci 'accept' "$LOG")
check "accept errors logged a handful of times, not on every turn ($lines lines)" \
    [ "$lines" -ge 1 -a "$lines" -le 5 ]
check "/healthz 200 again once the clients are gone" t_wait 5 healthy
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "SIGTERM: exit 0" "$?" 0
t_done
