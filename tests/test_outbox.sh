#!/bin/sh
# test_outbox.sh — the delivery worker against a real redis-server, a real
# HTTP receiver (tests/receiver.py) and real programs: webhook bodies and
# headers; retries on 500 and on a receiver that is down, no retry on 400;
# a hanging receiver does not slow event processing; deliveries survive
# kill -9; exec passes hostile text as one literal argument, kills programs
# at their timeout and honours max_running; failures end in
# ivr:alerts:undelivered with their error; a killed daemon's deliveries
# are taken over by another daemon after input.claim_idle.
#
# RECOVERYD_BACKOFF_BASE_MS (undocumented, read by daemon/recoveryd/outbox.c) shrinks
# the retry backoff from 1 s to 100 ms so the suite runs in about a minute.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start

export RECOVERYD_BACKOFF_BASE_MS=100
export OUTBOX_TEST_TOKEN="s3cret-token"
unset OUTBOX_TEST_UNSET

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_up() {
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" 2>/dev/null
}
PA=$(free_port)
PB=$(free_port)
while [ "$PB" = "$PA" ]; do PB=$(free_port); done
RLOG=$T_DIR/recv_a.jsonl
RLOGB=$T_DIR/recv_b.jsonl
touch "$RLOG" "$RLOGB"
t_bg python3 tests/receiver.py "$PA" "$RLOG"
check "receiver A up" t_wait 5 port_up "$PA"

# recv LOG PYTHON: run PYTHON with recs = the receiver's records; its exit
# status is the check's.
recv() {
	python3 -c "
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
$2
" "$1"
}

# --- programs run by the exec channels (shell scripts, execve'd directly) --
cat > "$T_DIR/record.sh" <<EOF
#!/bin/sh
printf '%s' "\$1" > "$T_DIR/exec.arg1"
printf '%s' "\$#" > "$T_DIR/exec.argc"
cat > "$T_DIR/exec.stdin"
env > "$T_DIR/exec.env"
ls -l /proc/\$\$/fd > "$T_DIR/exec.fds"
touch "$T_DIR/exec.done"
EOF
cat > "$T_DIR/stubborn.sh" <<EOF
#!/bin/sh
echo "ignoring SIGTERM"
trap '' TERM
sleep 30
EOF
cat > "$T_DIR/pool.sh" <<EOF
#!/bin/sh
echo "start \$\$ \$(date +%s.%N)" >> "$T_DIR/pool.log"
sleep 0.5
echo "end \$\$ \$(date +%s.%N)" >> "$T_DIR/pool.log"
EOF
chmod +x "$T_DIR/record.sh" "$T_DIR/stubborn.sh" "$T_DIR/pool.sh"
MARKER=$T_DIR/marker-must-not-exist
CANARY=$T_DIR/canary
mkdir "$CANARY"
# The brief's hostile string, with "rm -rf ~" aimed at a canary directory:
# if a shell ever saw it, the canary would go, not someone's home.
HOSTILE="\$(touch $MARKER); rm -rf $CANARY \"'"

CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
rule() {
	msg="$1 {{call_id}}"
	[ $# -gt 1 ] && msg=$2
	printf '  - {name: to-%s, on: rating, if: "queue == '"'%s'"'", actions: [{notify: %s, message: "%s"}]}\n' \
	    "$1" "$1" "$1" "$msg"
}
{
	cat <<CONF
redis: {url: "unix://$T_REDIS_SOCK"}
input: {stream: ivr:events, group: recoveryd, consumer: outbox-test, claim_idle: 1s, max_deliveries: 3}
http: {listen: ""}
defaults: {cooldown: 0, severity: medium}
channels:
  supervisors: {type: stream, key: ivr:alerts}
  hook:
    type: webhook
    url: "http://127.0.0.1:$PA/ok/hook?token=not-for-logs"
    headers: {X-Token: "Bearer \${OUTBOX_TEST_TOKEN}", X-Missing: "a\${OUTBOX_TEST_UNSET}b"}
    timeout: 2s
  flaky: {type: webhook, url: "http://127.0.0.1:$PA/fail500-2/flaky", timeout: 2s, retries: 4}
  bad: {type: webhook, url: "http://127.0.0.1:$PA/bad400/x", retries: 5}
  hang: {type: webhook, url: "http://127.0.0.1:$PA/hang/x", timeout: 2s, retries: 1}
  later: {type: webhook, url: "http://127.0.0.1:$PB/later", timeout: 1s, retries: 12}
  prog: {type: exec, argv: ["$T_DIR/record.sh", "{{message}}", "{{alert_id}}"], timeout: 5s}
  stubborn: {type: exec, argv: ["$T_DIR/stubborn.sh"], timeout: 1s, retries: 1}
  pool: {type: exec, argv: ["$T_DIR/pool.sh", "{{alert_id}}"], max_running: 2}
rules:
CONF
	for c in hook flaky bad hang later stubborn pool; do rule $c; done
	rule prog "{{comment}}"
	rule supervisors
} > "$CONF"
check "config is valid" "$BUILD/recoveryd" -t -c "$CONF"

# ev QUEUE CALL_ID [FIELD VALUE...]: XADD a rating event routed by queue;
# prints the entry ID.
ev() {
	q=$1
	c=$2
	shift 2
	$R XADD ivr:events '*' type rating call_id "$c" customer_id K1 \
	    agent_id A1 queue "$q" csat 3 "$@"
}

t_daemon "$CONF" "$LOG"
LATER_IDS=""
for i in 1 2 3; do
	id=$(ev later "L$i")
	LATER_IDS="$LATER_IDS $id/to-later/0/later"
done
LATER_START=$(date +%s)
for i in 1 2 3; do ev hook "H$i" >/dev/null; done
ev flaky F1 >/dev/null
ev bad B1 >/dev/null
ev prog P1 comment "$HOSTILE" >/dev/null
ev stubborn S1 >/dev/null
for i in 1 2 3 4 5 6; do ev pool "Q$i" >/dev/null; done
$R XADD ivr:outbox '*' alert_id gone-1 channel nosuch attempt 0 \
    alert '{"alert_id":"gone-1"}' >/dev/null

# --- webhook: body and headers -------------------------------------------
hook_done() { [ "$(grep -c '"/ok/hook' "$RLOG")" -ge 3 ]; }
check "hook: three alerts arrive" t_wait 10 hook_done
check "hook: JSON body, Idempotency-Key, headers" recv "$RLOG" '
want = ["alert_id", "case_id", "rule", "severity", "step", "customer_id",
        "call_id", "agent_id", "queue", "event_id", "fired_at", "channel", "message"]
hook = [r for r in recs if r["path"].startswith("/ok/hook")]
assert len(hook) == 3, len(hook)
calls = set()
for r in hook:
    b = json.loads(r["body"])
    h = {k.lower(): v for k, v in r["headers"].items()}
    assert list(b) == want, list(b)
    assert b["channel"] == "hook" and b["rule"] == "to-hook", b
    assert b["message"] == "hook " + b["call_id"], b
    assert b["alert_id"] == b["event_id"] + "/to-hook/0/hook", b
    assert h["idempotency-key"] == b["alert_id"], h
    assert h["content-type"] == "application/json", h
    assert h["user-agent"].startswith("recoveryd/"), h
    assert h["x-token"] == "Bearer s3cret-token", h
    assert h["x-missing"] == "ab", h
    calls.add(b["call_id"])
assert calls == {"H1", "H2", "H3"}, calls
'
check_eq "missing variable logged once, by name" \
    "$(grep -c 'OUTBOX_TEST_UNSET is not set' "$LOG")" 1
check "header values and URL query never logged" sh -c \
    "! grep -q -e s3cret -e not-for-logs '$LOG'"

# --- webhook: 500 twice then 200; 400 -------------------------------------
flaky_done() { grep '"/fail500-2/flaky"' "$RLOG" | grep -q '"status": 200'; }
check "flaky: delivered after two 500s" t_wait 10 flaky_done
check "flaky: three attempts, one alert_id" recv "$RLOG" '
f = [r for r in recs if r["path"] == "/fail500-2/flaky"]
assert [r["status"] for r in f] == [500, 500, 200], [r["status"] for r in f]
assert len({r["headers"]["Idempotency-Key"] for r in f}) == 1
'
undelivered() { stream_field ivr:alerts:undelivered "$1"; }
bad_done() { undelivered channel | grep -qx bad; }
check "bad: lands in undelivered" t_wait 10 bad_done
check "bad: not retried after 400" recv "$RLOG" '
assert len([r for r in recs if r["path"] == "/bad400/x"]) == 1'
check "bad: error names status and receiver (scheme://host:port only)" sh -c \
    "redis-cli -s '$T_REDIS_SOCK' XRANGE ivr:alerts:undelivered - + | \
    grep -qx 'HTTP 400 from http://127.0.0.1:$PA'"
check "undelivered entry fields" sh -c "
redis-cli -s '$T_REDIS_SOCK' EVAL \"local e = redis.call('XRANGE', KEYS[1], '-', '+')
for _, x in ipairs(e) do
  local o = {}
  for i = 1, #x[2], 2 do o[x[2][i]] = x[2][i + 1] end
  if o.channel == 'bad' then
    local t = {}
    for i = 1, #x[2], 2 do t[#t + 1] = x[2][i] end
    return table.concat(t, ' ') .. ' ' .. o.attempts .. ' ' .. tostring(cjson.decode(o.alert).channel)
  end
end\" 1 ivr:alerts:undelivered | grep -qx 'alert_id channel attempts error alert failed_at 1 bad'"
gone_done() { undelivered error | grep -qx 'channel nosuch no longer configured'; }
check "unknown channel: undelivered with the reason" t_wait 5 gone_done

# --- a hanging receiver does not slow event processing ----------------------
ev hang W1 >/dev/null
ev hang W2 >/dev/null
hang_seen() { [ "$(grep -c '"/hang/x"' "$RLOG")" -ge 2 ]; }
check "hang: requests are hanging" t_wait 5 hang_seen
worst=0
for i in 1 2 3 4 5; do
	n0=$($R XLEN ivr:alerts)
	t0=$(date +%s%N)
	ev supervisors "V$i" >/dev/null
	while [ "$($R XLEN ivr:alerts)" = "$n0" ]; do
		[ $(( $(date +%s%N) - t0 )) -gt 3000000000 ] && break
		sleep 0.01
	done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "$ms" -gt "$worst" ] && worst=$ms
	sleep 0.2
done
check "stream alerts stay under 1 s while webhooks hang (worst ${worst} ms)" \
    [ "$worst" -lt 1000 ]
hang_failed() { [ "$(undelivered error | grep -cx 'timed out after 2s')" -eq 2 ]; }
check "hang: timed out twice each, then undelivered" t_wait 15 hang_failed

# --- exec -----------------------------------------------------------------
check "prog: ran" t_wait 10 test -f "$T_DIR/exec.done"
check_eq "prog: hostile text is one literal argument" \
    "$(cat "$T_DIR/exec.arg1")" "$HOSTILE"
check_eq "prog: argc" "$(cat "$T_DIR/exec.argc")" 2
check "prog: nothing was executed by a shell" sh -c \
    "[ ! -e '$MARKER' ] && [ -d '$CANARY' ]"
check "prog: stdin is the alert JSON" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
assert a["message"] == sys.argv[2] and a["channel"] == "prog", a
assert a["alert_id"].endswith("/to-prog/0/prog"), a
' "$T_DIR/exec.stdin" "$HOSTILE"
check "prog: minimal environment with RECOVERYD_*" python3 -c '
import sys
env = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[1]) if "=" in l)
assert env["PATH"] == "/usr/bin:/bin", env
assert env["RECOVERYD_CHANNEL"] == "prog" and env["RECOVERYD_RULE"] == "to-prog", env
assert env["RECOVERYD_CALL_ID"] == "P1" and env["RECOVERYD_STEP"] == "0", env
assert env["RECOVERYD_ALERT_ID"].endswith("/to-prog/0/prog"), env
assert "OUTBOX_TEST_TOKEN" not in env and "HOME" not in env, env
' "$T_DIR/exec.env"
check "prog: no daemon socket leaked into the program" sh -c \
    "! grep -q socket: '$T_DIR/exec.fds'"
pool_done() { [ "$(grep -c '^end' "$T_DIR/pool.log" 2>/dev/null)" -eq 6 ]; }
check "pool: six runs" t_wait 15 pool_done
check_eq "pool: at most max_running (2) at once" "$(awk '
	{ ev[NR] = $3 " " ($1 == "start" ? 1 : -1) }
	END { for (i in ev) print ev[i] }' "$T_DIR/pool.log" |
	sort -n -k1,1 -k2,2n | awk '{ n += $2; if (n > m) m = n } END { print m }')" 2
stubborn_done() { undelivered channel | grep -qx stubborn; }
check "stubborn: undelivered after its retry" t_wait 20 stubborn_done
check "stubborn: killed after timeout, with its output" sh -c \
    "redis-cli -s '$T_REDIS_SOCK' XRANGE ivr:alerts:undelivered - + | \
    grep -qx 'killed after timeout 1s (output: ignoring SIGTERM)'"
check "stubborn: SIGKILL after SIGTERM was ignored" grep -q \
    "ignored SIGTERM; sending SIGKILL" "$LOG"

# --- receiver down for 10 s, then up ------------------------------------------
sleep $(( 10 - ($(date +%s) - LATER_START) )) 2>/dev/null
check "later: nothing delivered while down" [ ! -s "$RLOGB" ]
t_bg python3 tests/receiver.py "$PB" "$RLOGB"
RB=$T_LAST
later_done() {
	recv "$RLOGB" "
got = {r['headers']['Idempotency-Key'] for r in recs if r['status'] == 200}
sys.exit(0 if len(got) >= $1 else 1)"
}
check "later: delivered once the receiver is up" t_wait 30 later_done 3

# --- kill -9 with deliveries pending -----------------------------------------
kill "$RB"
wait "$RB" 2>/dev/null
for i in 4 5; do
	id=$(ev later "L$i")
	LATER_IDS="$LATER_IDS $id/to-later/0/later"
done
retrying() { stream_field ivr:outbox attempt | grep -qv '^0$'; }
check "later: retrying while the receiver is down" t_wait 10 retrying
kill -9 "$T_DAEMON"
wait "$T_DAEMON" 2>/dev/null
t_daemon "$CONF" "$LOG"
sleep 1
t_bg python3 tests/receiver.py "$PB" "$RLOGB"
RB=$T_LAST
check "later: delivered after kill -9 and restart" t_wait 30 later_done 5
check "later: each alert exactly once, the expected set" recv "$RLOGB" "
want = set('$LATER_IDS'.split())
ok = [r['headers']['Idempotency-Key'] for r in recs if r['status'] == 200]
assert set(ok) == want, (sorted(ok), sorted(want))
assert len(ok) == len(set(ok)), sorted(ok)
for r in recs:
    assert json.loads(r['body'])['alert_id'] == r['headers']['Idempotency-Key']
"

# --- the end state --------------------------------------------------------------
empty() { [ "$($R XLEN ivr:outbox)" = 0 ]; }
check "outbox empty: every delivery acked and deleted" t_wait 10 empty
check_eq "nothing pending in the outbox group" \
    "$($R XPENDING ivr:outbox recoveryd-outbox | head -n 1)" 0
check_eq "undelivered: bad, 2 x hang, stubborn, nosuch" \
    "$(undelivered channel | sort | tr '\n' ' ')" "bad hang hang nosuch stubborn "
t0=$(date +%s)
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "SIGTERM exits 0" "$?" 0
check "SIGTERM is quick" [ $(( $(date +%s) - t0 )) -le 3 ]

# --- a dead daemon's deliveries: claimed after input.claim_idle -------------
# Daemon A (consumer claim-a) starts a program that hangs and is killed
# with -9; daemon B (claim-b) must run the delivery again once it has been
# idle for claim_idle (2 s here), not after a fixed minute.
cat > "$T_DIR/slow.sh" <<EOF
#!/bin/sh
echo "\$\$" >> "$T_DIR/slow.log"
[ -e "$T_DIR/slow.once" ] && exit 0
touch "$T_DIR/slow.once"
exec sleep 60
EOF
chmod +x "$T_DIR/slow.sh"
claim_conf() {
	cat > "$1" <<CONF
redis: {url: "unix://$T_REDIS_SOCK"}
input: {stream: ivr:events, group: recoveryd, consumer: $2, claim_idle: 2s}
http: {listen: ""}
channels:
  slow: {type: exec, argv: ["$T_DIR/slow.sh"], timeout: 60s, retries: 1}
rules:
  - {name: to-slow, on: rating, if: "queue == 'slow'", actions: [{notify: slow}]}
CONF
}
claim_conf "$T_DIR/claim-a.yaml" claim-a
claim_conf "$T_DIR/claim-b.yaml" claim-b
CLOG=$T_DIR/claim.log
t_daemon "$T_DIR/claim-a.yaml" "$CLOG"
ev slow C1 >/dev/null
slow_runs() { [ "$(cat "$T_DIR/slow.log" 2>/dev/null | wc -l)" -ge "$1" ]; }
check "claim: daemon A started the program" t_wait 10 slow_runs 1
kill -9 "$T_DAEMON"
wait "$T_DAEMON" 2>/dev/null
t0=$(date +%s)
t_daemon "$T_DIR/claim-b.yaml" "$CLOG"
check "claim: daemon B runs the delivery again" t_wait 12 slow_runs 2
check "claim: within claim_idle and a claim period, not a minute ($(( $(date +%s) - t0 )) s)" \
    [ $(( $(date +%s) - t0 )) -le 8 ]
check "claim: B says it claimed it after input.claim_idle" grep -q \
    'claimed 1 deliveries idle for over 2s (input.claim_idle)' "$CLOG"
check "claim: the outbox is empty again" t_wait 5 empty
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "claim: SIGTERM exits 0" "$?" 0
# The program A left behind (its own PID, the first line of slow.log).
kill "$(head -n 1 "$T_DIR/slow.log")" 2>/dev/null
[ "$T_FAIL" -gt 0 ] && { echo "--- daemon log"; tail -n 40 "$LOG"; tail -n 20 "$CLOG"; }
t_done
