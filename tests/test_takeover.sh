#!/bin/sh
# test_takeover.sh — the stream is decided in stream order across a
# takeover, and an owner that lost its lease commits nothing (issue 9):
#  - entries pending on a dead consumer while newer ones arrived: the new
#    owner decides the old ones first (the same alerts as replay);
#  - a paused owner (SIGSTOP past its lease, then SIGCONT): the standby
#    takes over, and no alert of the old owner is written after its lease
#    passed; the alerts equal replay's exactly;
#  - people's commands (ack, resolve: the command stream) have the same
#    single writer: a command pending on a dead consumer is applied and
#    answered by the next owner; an ack made while the owner is paused is
#    applied by the standby that takes over, and the paused owner's cached
#    copy of the case never overwrites it;
#  - the lease key changing between a commit's check and its EXEC (a
#    renewal): the commit goes again, the alerts equal replay's.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
C=$BUILD/recoveryctl
LEASE_KEY='ivr:owner:ivr%3Aevents'

# conf FILE MARK: the rules, their stream alerts' message marked MARK.
conf() {
	cat > "$1" <<CONF
redis: {url: "unix://$T_REDIS_SOCK"}
input: {batch: 64, max_deliveries: 1000, max_past_skew: 0}
ha: {lease: 2s}
http: {listen: ""}
defaults: {cooldown: 0, severity: medium}
channels:
  supervisors: {type: stream, key: ivr:alerts}
  dialer: {type: list, key: dialer:callbacks}
rules:
  - name: low
    on: rating
    if: csat <= 1
    cooldown: 10m
    actions: [{notify: supervisors, message: "$2 {{customer_id}}"}]
  - name: repeat
    on: rating
    if: csat <= 3
    count: {by: customer_id, at_least: 3, within: 1h}
    cooldown: 20m
    actions: [{notify: supervisors, message: "$2 {{customer_id}} {{count}}"}]
  - name: slump
    on: rating
    aggregate: {by: agent_id, value: avg(csat), within: 20m, min_samples: 4, alert_if: value < 2.8}
    actions: [{notify: dialer}]
CONF
}
conf "$T_DIR/a.yaml" A
conf "$T_DIR/b.yaml" B

# events N FIRST: in time order, one a second, customer K(i % 50).
events() {
	awk -v n="$1" -v s="$2" 'BEGIN {
		for (i = s; i < s + n; i++)
			printf "{\"type\":\"rating\",\"ts\":%d,\"call_id\":\"C%d\",\"customer_id\":\"K%d\",\"agent_id\":\"A%d\",\"csat\":%d}\n", 1700000000 + i, i, i % 50, i % 7, 1 + (i * 3 + int(i / 50)) % 5
	}'
}

agree() {
	if python3 tests/compare_alerts.py "$2" "$3" >"$T_DIR/cmp" 2>&1; then
		ok "$1 ($(tail -n 1 "$T_DIR/cmp"))"
	else
		fail "$1" "$(head -n 20 "$T_DIR/cmp")"
	fi
	check_eq "$1: no alert_id twice" \
	    "$(python3 -c 'import json, sys; ids = [json.loads(l)["alert_id"] for l in open(sys.argv[1]) if l.strip()]; print(len(ids) - len(set(ids)))' "$3")" 0
}

# --- 1. pending on a dead consumer, newer entries after them -----------------
events 600 0 > "$T_DIR/old.jsonl"
events 600 600 > "$T_DIR/new.jsonl"
cat "$T_DIR/old.jsonl" "$T_DIR/new.jsonl" > "$T_DIR/all.jsonl"
$C replay --json --rules "$T_DIR/a.yaml" "$T_DIR/all.jsonl" > "$T_DIR/r1.jsonl" 2>/dev/null
push_jsonl "$T_DIR/old.jsonl"
$R XGROUP CREATE ivr:events recoveryd 0 >/dev/null
# A consumer read the first 600 and died before it committed any.
$R XREADGROUP GROUP recoveryd dead COUNT 1000 STREAMS ivr:events '>' >/dev/null
push_jsonl "$T_DIR/new.jsonl"
check_eq "600 entries pending on the dead consumer" "$(pending)" 600
t_daemon "$T_DIR/a.yaml" "$T_DIR/d1.log"
check "drained" t_wait 30 drained
daemon_alerts "$T_DIR/a1.jsonl"
agree "a dead consumer's entries decided before newer ones" "$T_DIR/r1.jsonl" "$T_DIR/a1.jsonl"
check "took the dead consumer's entries over at once" grep -q "took over 600 pending entries" "$T_DIR/d1.log"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
$R FLUSHALL >/dev/null

# --- 2. a paused owner --------------------------------------------------------
events 8000 0 > "$T_DIR/e2.jsonl"
$C replay --json --rules "$T_DIR/a.yaml" "$T_DIR/e2.jsonl" > "$T_DIR/r2.jsonl" 2>/dev/null
t_daemon "$T_DIR/a.yaml" "$T_DIR/pa.log"
PA=$T_DAEMON
check "A takes the lease" t_wait 5 sh -c "redis-cli -s '$T_REDIS_SOCK' GET '$LEASE_KEY' | grep -q ':$PA\$'"
t_daemon "$T_DIR/b.yaml" "$T_DIR/pb.log"
PB=$T_DAEMON
# Who holds the lease, sampled every 50 ms with Redis's clock: A may
# legitimately take it back later (with a new epoch) if B ever lets it go.
t_bg sh -c "while :; do redis-cli -s '$T_REDIS_SOCK' EVAL \"local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000) .. ' ' .. (redis.call('GET', KEYS[1]) or '-')\" 1 '$LEASE_KEY'; sleep 0.05; done > '$T_DIR/holders'"
POLL=$T_LAST
python3 -c '
import sys, time
t0 = time.time()
for i, line in enumerate(open(sys.argv[1])):
    s = line.strip().replace("\\", "\\\\").replace("\"", "\\\"")
    sys.stdout.write("XADD ivr:events * json \"%s\"\n" % s)
    if i % 20 == 19:
        sys.stdout.flush()
        d = t0 + (i + 1) / 1000.0 - time.time()
        if d > 0:
            time.sleep(d)
' "$T_DIR/e2.jsonl" | $R >/dev/null &
PUSHER=$!
sleep 2
A_TOKEN=$($R GET "$LEASE_KEY")
kill -STOP "$PA"
check "B takes over from the paused owner" t_wait 5 sh -c "redis-cli -s '$T_REDIS_SOCK' GET '$LEASE_KEY' | grep -q ':$PB\$'"
# Redis's clock (ms) once the lease had passed.
T_PASSED=$($R TIME | head -n 1)000
sleep 2
kill -CONT "$PA"
wait "$PUSHER"
check "drained after the pause" t_wait 30 drained
sleep 1
kill "$POLL"
check "A noticed it lost the lease" grep -q "standby: lease .* lost" "$T_DIR/pa.log"
# Every stream alert's ID is Redis's time of its commit; A marks its own.
# None may lie after its lease passed, unless A held the lease again by
# then under a new epoch (from its first sample, less the sampling step).
$R EVAL "local r = {}
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local f = e[2]
  for i = 1, #f, 2 do
    if f[i] == 'message' and string.sub(f[i + 1], 1, 2) == 'A ' then r[#r + 1] = string.match(e[1], '^(%d+)') end
  end
end
return r" 1 ivr:alerts > "$T_DIR/a-times"
# The lease's epoch counter says whether anyone took the lease after B:
# when no one did (2: A, then B), no alert of A may follow the pause at
# all; when A took it back (under load B can miss a renewal), A's alerts
# count from the first sample that shows A holding it again, less a
# second for the sampler's own lag on a loaded machine.
EPOCH=$($R GET "$LEASE_KEY:epoch")
late=$(python3 - "$T_DIR/holders" "$T_DIR/a-times" "$T_PASSED" "$A_TOKEN" "$PA" "$EPOCH" <<'PY'
import sys
passed, old, pa = int(sys.argv[3]), sys.argv[4], sys.argv[5]
epoch = int(sys.argv[6] or 0)
back = None
for l in open(sys.argv[1]):
    t, _, v = l.strip().partition(" ")
    if epoch > 2 and t.isdigit() and int(t) > passed and v.endswith(":" + pa) and v != old:
        back = int(t) - 1000
        break
late = [t for t in (int(x) for x in open(sys.argv[2]) if x.strip())
        if t > passed and (back is None or t < back)]
print(len(late))
PY
)
check_eq "no alert of A committed after its lease passed" "$late" 0
check "A committed alerts before the pause" sh -c "redis-cli -s '$T_REDIS_SOCK' XRANGE ivr:alerts - + | grep -q '^A K'"
check "B committed alerts after it" sh -c "redis-cli -s '$T_REDIS_SOCK' XRANGE ivr:alerts - + | grep -q '^B K'"
daemon_alerts "$T_DIR/a2.jsonl"
agree "paused owner: alerts equal replay" "$T_DIR/r2.jsonl" "$T_DIR/a2.jsonl"
check_eq "paused owner: nothing pending" "$(pending)" 0
kill -TERM "$PA" "$PB"
wait "$PA"
wait "$PB"
$R FLUSHALL >/dev/null

# --- 3. people's commands across a takeover -------------------------------------
t_daemon "$T_DIR/a.yaml" "$T_DIR/c1.log"
P1=$T_DAEMON
$C -c "$T_DIR/a.yaml" push rating call_id=X1 customer_id=Q1 csat=1 >/dev/null
$C -c "$T_DIR/a.yaml" push rating call_id=X2 customer_id=Q2 csat=1 >/dev/null
check "two cases opened" t_wait 10 sh -c "[ -n \"\$($R GET ivr:opencase:Q2)\" ]"
Q1=$($R GET ivr:opencase:Q1)
Q2=$($R GET ivr:opencase:Q2)
kill -TERM "$P1"
wait "$P1"
# An ack read by a consumer that died before it committed.
$R XADD ivr:commands '*' op ack case "$Q1" by dead-man reply tokdead >/dev/null
$R XREADGROUP GROUP recoveryd ghost COUNT 10 STREAMS ivr:commands '>' >/dev/null
check_eq "the command is pending on the dead consumer" \
    "$($R XPENDING ivr:commands recoveryd | head -n 1)" 1
t_daemon "$T_DIR/a.yaml" "$T_DIR/c2.log"
PA=$T_DAEMON
check "the next owner applies it" t_wait 10 sh -c \
    "[ \"\$($R HGET ivr:case:$Q1 acked_by)\" = dead-man ]"
check "and answers it" sh -c "$R LPOP ivr:reply:tokdead | grep -q '\"ok\":true'"
check_eq "nothing pending on the command stream" \
    "$($R XPENDING ivr:commands recoveryd | head -n 1)" 0
check "took the dead consumer's command over" grep -q "took over 1 pending entries of ivr:commands" "$T_DIR/c2.log"
# A paused owner that holds Q2's case in its cache.
t_daemon "$T_DIR/b.yaml" "$T_DIR/c3.log"
PB=$T_DAEMON
check "A owns the stream" t_wait 5 sh -c "redis-cli -s '$T_REDIS_SOCK' GET '$LEASE_KEY' | grep -q ':$PA\$'"
$C -c "$T_DIR/a.yaml" push rating call_id=X3 customer_id=Q2 csat=2 >/dev/null
check "A decided Q2's second rating" t_wait 5 drained
kill -STOP "$PA"
$C -c "$T_DIR/a.yaml" ack "$Q2" --by erin --wait 10 >"$T_DIR/ack.out" 2>&1
check_eq "ack during the pause answered (by the standby)" "$(cat "$T_DIR/ack.out")" \
    "case $Q2 acknowledged by erin"
check "B owns the stream" sh -c "redis-cli -s '$T_REDIS_SOCK' GET '$LEASE_KEY' | grep -q ':$PB\$'"
kill -CONT "$PA"
$C -c "$T_DIR/a.yaml" push rating call_id=X4 customer_id=Q2 csat=1 >/dev/null
# (the third rating of a customer fires "repeat", which joins the case)
check "a later rating joins the case" t_wait 10 sh -c "$R HGET ivr:case:$Q2 rules | grep -q repeat"
check_eq "the case stays acknowledged" "$($R HGET "ivr:case:$Q2" state)" acknowledged
check_eq "by the one who acked it" "$($R HGET "ivr:case:$Q2" acked_by)" erin
sleep 1
check_eq "the paused owner wrote nothing over it" "$($R HGET "ivr:case:$Q2" state)" acknowledged
kill -TERM "$PA" "$PB"
wait "$PA"
wait "$PB"

# --- 4. the lease key changing under the commits ----------------------------------
# A commit is a transaction whose WATCH of the lease goes out before the
# batch is decided; any change of the key (a renewal, here a PEXPIRE
# every 20 ms from outside) makes its EXEC write nothing, and the same
# commit goes again: the alerts still equal replay's, none twice.
$R FLUSHALL >/dev/null
PORT=$(t_free_port)
sed -e 's/batch: 64/batch: 8/' -e "s/^http: .*/http: {listen: \"127.0.0.1:$PORT\"}/" \
    "$T_DIR/a.yaml" > "$T_DIR/w.yaml"
events 3000 0 > "$T_DIR/e4.jsonl"
$C replay --json --rules "$T_DIR/w.yaml" "$T_DIR/e4.jsonl" > "$T_DIR/r4.jsonl" 2>/dev/null
t_daemon "$T_DIR/w.yaml" "$T_DIR/w.log"
check "the daemon owns the stream" t_wait 10 sh -c "$R GET '$LEASE_KEY' | grep -q ':$T_DAEMON\$'"
t_bg sh -c "while :; do redis-cli -s '$T_REDIS_SOCK' PEXPIRE '$LEASE_KEY' 2000 >/dev/null; sleep 0.02; done"
TOUCH=$T_LAST
push_jsonl "$T_DIR/e4.jsonl"
check "drained while the lease key kept changing" t_wait 60 drained
kill "$TOUCH"
daemon_alerts "$T_DIR/a4.jsonl"
agree "lease key changing under the commits: alerts equal replay" "$T_DIR/r4.jsonl" "$T_DIR/a4.jsonl"
rewatched=$(python3 -c '
import sys, urllib.request
for l in urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode().splitlines():
    if l.startswith("recoveryd_commits_rewatched_total "):
        print(l.split()[-1])
' "$PORT" 2>/dev/null)
check "commits were sent again after the key changed (rewatched: ${rewatched:-none})" \
    test "${rewatched:-0}" -gt 0
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
if [ "$T_FAIL" -gt 0 ]; then
	echo "--- logs"
	tail -n 20 "$T_DIR/d1.log" "$T_DIR/pa.log" "$T_DIR/pb.log" \
	    "$T_DIR/c2.log" "$T_DIR/c3.log" "$T_DIR/w.log"
fi
t_done
