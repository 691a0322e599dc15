#!/bin/sh
# test_input_bounds.sh — hostile input against the real binaries: absurd
# event times (replay reports them as invalid lines and never crashes; the
# daemon dead-letters them as ts_skew and keeps no state for them), NUL
# bytes in values (two customers whose IDs differ only after a NUL are two
# dead letters, not one shared case), and memory bounded in bytes (256
# entries of 1 MiB each leave the daemon's peak RSS small, each is
# dead-lettered with its long value cut and its length beside it, and the
# next normal event is processed).
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start --appendonly no

CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
C=$BUILD/recoveryctl
PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
t_config "$CONF" <<'RULES'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors, message: "low CSAT {{csat}} from {{customer_id}}"}]
  - name: repeat-low
    on: rating
    if: csat <= 2
    count: {by: customer_id, at_least: 2, within: 7d}
    actions: [{notify: supervisors}]
  - name: slump
    on: rating
    aggregate: {by: agent_id, value: avg(csat), within: 4h, min_samples: 1, alert_if: value < 3}
    actions: [{notify: supervisors}]
RULES
sed -i "s|^http: .*|http: {listen: \"127.0.0.1:$PORT\"}|" "$CONF"
check "config is valid" "$BUILD/recoveryd" -t -c "$CONF"

# metric NAME: one sample of /metrics ("" if absent).
metric() {
	python3 - "$PORT" "$1" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("GET", "/metrics")
for line in c.getresponse().read().decode().splitlines():
    if line.startswith(sys.argv[2] + " "):
        print(line.split()[-1])
PY
}
# reasons: the dead letters' reasons, space-separated, oldest first.
reasons() { stream_field ivr:events:dead reason | tr '\n' ' '; }

# --- 1. replay: absurd ts are invalid lines, never a crash ----------------
NOW=$(date +%s)
cat > "$T_DIR/absurd.jsonl" <<EOF
{"type":"rating","call_id":"C1","customer_id":"K1","csat":1,"ts":1700000000}
{"type":"rating","call_id":"C2","customer_id":"K1","csat":1,"ts":1e300}
{"type":"rating","call_id":"C3","customer_id":"K1","csat":1,"ts":"9999-12-31T00:00:00Z"}
{"type":"rating","call_id":"C4","customer_id":"K1","csat":1,"ts":1700000000000}
{"type":"rating","call_id":"C5","customer_id":"K1","csat":1,"ts":-1}
{"type":"rating","call_id":"C6","customer_id":"K1","csat":1,"ts":"nan"}
{"type":"rating","call_id":"C7","customer_id":"K1","csat":1,"ts":$((NOW + 8 * 86400))}
{"type":"rating","call_id":"C8","customer_id":"K1","csat":1,"ts":1700000060}
EOF
exit_is "replay of absurd times exits 0" 0 $C replay --rules "$CONF" "$T_DIR/absurd.jsonl"
F=$T_DIR/absurd.jsonl
check "1e300 is an invalid line" grep -qF \
    "$F:2: invalid event: rating: ts=1e+300 is after 9999-12-31" "$T_DIR/out"
check "year 9999 is an invalid line" grep -qF \
    "$F:3: invalid event: rating: ts='9999-12-31T00:00:00Z' is more than 7d after the current time" "$T_DIR/out"
check "milliseconds are an invalid line, with a hint" grep -qF \
    "$F:4: invalid event: rating: ts=1700000000000 is after 9999-12-31; milliseconds instead of seconds?" "$T_DIR/out"
check "a negative time is an invalid line" grep -qF \
    "$F:5: invalid event: rating: ts=-1 is before 1970-01-01" "$T_DIR/out"
check "nan is an invalid line" grep -qF \
    "$F:6: invalid event: rating: ts='nan' is not epoch seconds or RFC 3339" "$T_DIR/out"
check "8 days ahead is an invalid line" grep -qF "$F:7: invalid event: rating: ts=$((NOW + 8 * 86400)) is more than 7d after the current time" "$T_DIR/out"
check "the valid lines still count" grep -qF "replay: 2 events, 6 invalid, " "$T_DIR/out"

# --- 2. the daemon: ts outside the skew is ts_skew, no state ----------------
t_daemon "$CONF" "$LOG"
D1=$T_DAEMON
MS=$(( NOW * 1000 ))
xadd_ts() { $R XADD ivr:events '*' type rating call_id "T$1" customer_id "KT$1" agent_id "AT$1" csat 1 ts "$2" >/dev/null; }
xadd_ts 1 1e300
xadd_ts 2 9999-12-31T00:00:00Z
xadd_ts 3 "$MS"
xadd_ts 4 -5
xadd_ts 5 nan
xadd_ts 6 $((NOW + 8 * 86400))
xadd_ts 7 $((NOW - 30 * 86400))
$R XADD ivr:events '*' json "{\"type\":\"rating\",\"call_id\":\"T8\",\"customer_id\":\"KT8\",\"csat\":1,\"ts\":1e300}" >/dev/null
xadd_ts 9 $((NOW + 6 * 86400))
check "absurd times drained" t_wait 10 drained
check_eq "dead-letter reasons of the times" "$(reasons)" \
    "ts_skew ts_skew ts_skew ts_skew bad_value ts_skew ts_skew ts_skew "
check "the dead letter names the bound" sh -c "redis-cli -s '$T_REDIS_SOCK' \
    XRANGE ivr:events:dead - + | grep -q 'is more than 8d before the entry.s time .* (input.max_past_skew)'"
check_eq "no state, no case for the refused events" \
    "$($R --scan --pattern '*KT[1-8]*' | wc -l)" 0
check "the event inside the skew has state" sh -c \
    "[ \$(redis-cli -s '$T_REDIS_SOCK' --scan --pattern '*KT9*' | wc -l) -gt 0 ]"
check_eq "metric invalid{ts_skew}" \
    "$(metric 'recoveryd_events_invalid_total{reason="ts_skew"}')" 7

# --- 3. NUL bytes: two dead letters, no shared case --------------------------
$R DEL ivr:events:dead >/dev/null
for s in a b; do
	$R EVAL "return redis.call('XADD', 'ivr:events', '*', 'type', 'rating', 'call_id', 'N$s', 'customer_id', 'KN' .. string.char(0) .. '$s', 'csat', '1')" 0 >/dev/null
done
for s in a b; do
	$R XADD ivr:events '*' json "{\"type\":\"rating\",\"call_id\":\"J$s\",\"customer_id\":\"KJ\\u0000$s\",\"csat\":1}" >/dev/null
done
$R XADD ivr:events '*' json "{\"type\":\"rating\",\"call_id\":\"J3\",\"customer_id\":\"KJ\",\"csat\":1,\"x\":{\"k\\u0000\":1}}" >/dev/null
check "NUL entries drained" t_wait 10 drained
check_eq "each NUL entry is a dead letter of its own" "$(reasons)" "nul nul nul nul nul "
check "the dead letter says where the NUL is" sh -c "redis-cli -s '$T_REDIS_SOCK' \
    XRANGE ivr:events:dead - + | grep -q \"field 'customer_id' holds a NUL byte at byte 2\""
check_eq "no case for the NUL customers" "$($R --scan --pattern 'ivr:opencase:K[NJ]*' | wc -l)" 0
check_eq "no alert for them" "$(stream_field ivr:alerts customer_id | grep -c '^K[NJ]')" 0
check_eq "metric invalid{nul}" "$(metric 'recoveryd_events_invalid_total{reason="nul"}')" 5
kill -TERM "$D1"
wait "$D1"

# --- 4. memory in bytes: 256 entries of 1 MiB --------------------------------
# Half of them are read first by a consumer that then dies ("ghost"), so
# the daemon takes those over when it takes the stream (XAUTOCLAIM, then
# its history reads), the other half through XREADGROUP ">": both paths
# keep to the budget.
$R FLUSHALL >/dev/null
$R XGROUP CREATE ivr:events recoveryd '$' MKSTREAM >/dev/null
# push_big FROM TO: XADD entries B<FROM>..B<TO - 1>, each with a 1 MiB comment.
push_big() {
	python3 - "$1" "$2" <<'PY' | $R --pipe >/dev/null
import sys
big = "x" * (1 << 20)
out = sys.stdout.buffer
def cmd(*args):
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        a = a.encode()
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    cmd("XADD", "ivr:events", "*", "type", "rating", "call_id", "B%d" % i,
        "customer_id", "KB", "csat", "1", "comment", big)
PY
}
push_big 0 128
$R XREADGROUP GROUP recoveryd ghost COUNT 128 STREAMS ivr:events '>' >/dev/null
push_big 128 256
check_eq "256 large entries queued" "$($R XLEN ivr:events)" 256
t_daemon "$CONF" "$T_DIR/big.log"
D2=$T_DAEMON
check "large entries drained" t_wait 20 drained
check "the ghost's entries were taken over" grep -q "^took over 128 pending entries" "$T_DIR/big.log"
$R XADD ivr:events '*' type rating call_id AFTER customer_id KA csat 1 >/dev/null
check "a normal event after them is processed" t_wait 10 sh -c \
    "redis-cli -s '$T_REDIS_SOCK' XRANGE ivr:alerts - + | grep -qx KA"
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$D2/status")
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$D2/status")
echo "# recoveryd after 256 MiB of entries: VmHWM ${hwm} kB, VmRSS ${rss} kB"
# The bound: the 8 MiB read budget, the reader's buffer for the one 1 MiB
# string in flight (grown by doubling: 2 MiB, briefly twice while it
# moves), and the daemon itself (about 12 MiB) stay well under 64 MiB; a
# daemon that holds the batch's entries whole needs over 256 MiB.
check "peak RSS under 64 MiB" [ "${hwm:-999999}" -lt 65536 ]
check "RSS after under 32 MiB" [ "${rss:-999999}" -lt 32768 ]
check_eq "each large entry is a dead letter" \
    "$(stream_field ivr:events:dead reason | sort | uniq -c | awk '{ print $1, $2 }')" "256 too_large"
check_eq "the error names the size" "$(stream_field ivr:events:dead error |
    grep -c ': entry is 10486[0-9][0-9] bytes, over the 65536-byte limit$')" 256
check_eq "the long value is cut to 1 KiB" \
    "$(stream_field ivr:events:dead comment | awk '{ print length($0) }' | sort -u)" 1024
check_eq "its length is kept beside it" \
    "$(stream_field ivr:events:dead comment_len | sort -u)" 1048576
check_eq "short fields are kept whole" \
    "$(stream_field ivr:events:dead call_id | sort -u | wc -l)" 256
check_eq "fields in their order, the length beside its value" \
    "$(stream_fields ivr:events:dead 0)" \
    "type call_id customer_id csat comment comment_len source_id error reason"
# The first read asks for the 127 entries the budget allows at 64 KiB each
# (their long values stay behind in the reader); after it, 8 MiB over
# entries of 1 MiB is 7 a read or claim: 1 + 19 batches for the other 129,
# then the normal event's. A daemon counting entries reads them in two.
batches=$(metric recoveryd_batches_total)
check "reads were shortened to the budget ($batches batches)" \
    [ "${batches:-0}" -ge 21 ]
kill -TERM "$D2"
wait "$D2"
check_eq "SIGTERM exits 0" "$?" 0

# --- 5. valid entries over the budget stay pending, then are read whole -------
# After small events the COUNT is input.batch; 40 valid entries of 60 KB
# then arrive at once (one script), 2.4 MB for a budget of 1 MiB.
$R FLUSHALL >/dev/null
sed 's|max_deliveries: 3}|max_deliveries: 3, batch_bytes: 1MiB}|' "$CONF" > "$T_DIR/small.yaml"
t_daemon "$T_DIR/small.yaml" "$T_DIR/small.log"
D3=$T_DAEMON
$R XADD ivr:events '*' type rating call_id S1 customer_id KS csat 5 >/dev/null
check "small event drained" t_wait 10 drained
$R EVAL "for i = 1, 40 do redis.call('XADD', 'ivr:events', '*', 'type', 'rating', 'call_id', 'D' .. i, 'customer_id', 'KD' .. i, 'csat', '1', 'comment', string.rep('y', 60000)) end return 40" 0 >/dev/null
check "60 KB entries drained" t_wait 10 drained
check "the read was cut at the budget" grep -q "ran over input.batch_bytes (1048576 bytes): [0-9]* stay pending" "$T_DIR/small.log"
check_eq "every one of them was processed whole" \
    "$(stream_field ivr:alerts message | grep -c '^low CSAT 1 from KD')" 40
check_eq "none was dead-lettered" "$($R XLEN ivr:events:dead)" 0
kill -TERM "$D3"
wait "$D3"
[ "$T_FAIL" -gt 0 ] && { echo "--- daemon logs"; tail -n 20 "$LOG" "$T_DIR/big.log" "$T_DIR/small.log"; }
t_done
