#!/bin/sh
# test_isolation.sh — one event's trouble stays that event's (issue 9):
#  - hostile "by" values (A1:s, :, {, }, *, %, a 4 KB value, and
#    A1%3As, the encoding of A1:s) and a poison event (its CRM key holds
#    a string) in the middle of a batch: only the poison event is
#    dead-lettered, with its reason; every other event's alerts are
#    exactly replay's;
#  - Redis out of memory for 3 s mid-stream: no good event dead-lettered,
#    nothing lost, the alerts exactly replay's;
#  - late events (times shuffled) and cooldowns: no two firings of a rule
#    for one key closer than its cooldown in event time;
#  - one batch of 6,000 case openings and a dead letter (the apply script)
#    commits whole: its gathered writes stay under Lua's unpack limit.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
C=$BUILD/recoveryctl

agree() {
	if python3 tests/compare_alerts.py "$2" "$3" >"$T_DIR/cmp" 2>&1; then
		ok "$1 ($(tail -n 1 "$T_DIR/cmp"))"
	else
		fail "$1" "$(head -n 20 "$T_DIR/cmp")"
	fi
}
base() {
	cat <<CONF
redis: {url: "unix://$T_REDIS_SOCK"}
input: {batch: 64, max_deliveries: 3, max_past_skew: 0}
ha: {lease: 1s}
http: {listen: ""}
defaults: {cooldown: 0, severity: medium}
lists:
  vip_tiers: [gold]
channels:
  supervisors: {type: stream, key: ivr:alerts}
  dialer: {type: list, key: dialer:callbacks}
CONF
}

# --- 1. hostile by values, a poison event mid-batch -------------------------
CONF=$T_DIR/hostile.yaml
{ base; cat <<'RULES'; } > "$CONF"
rules:
  - name: busy-agent
    on: rating
    aggregate: {by: agent_id, value: count(), within: 10m, min_samples: 1, alert_if: value == 3}
    actions: [{notify: supervisors}]
  - name: agent-avg
    on: rating
    aggregate: {by: agent_id, value: avg(csat), within: 30m, min_samples: 4, alert_if: value < 2.5}
    cooldown: 5m
    actions: [{notify: supervisors}]
  - name: agent-repeat
    on: rating
    if: csat <= 2
    count: {by: agent_id, at_least: 2, within: 20m}
    cooldown: 10m
    actions: [{notify: dialer}]
  - name: vip
    on: rating
    if: customer.tier in $vip_tiers
    actions: [{notify: dialer}]
RULES
python3 - "$T_DIR" <<'PY'
import json, sys
d = sys.argv[1]
agents = ["A1", "A1:s", ":", "{", "}", "*", "%", "A1%3As", "x" * 4096]
out = open(d + "/hostile.jsonl", "w")
good = open(d + "/hostile-good.jsonl", "w")
for i in range(400):
    e = {"type": "rating", "ts": 1700000000 + 20 * i, "call_id": "H%d" % i,
         "customer_id": "K%d" % (i % 10), "agent_id": agents[i % len(agents)],
         "csat": 1 + (i * 7 + i // 9) % 5}
    if i == 200:
        e["customer_id"] = "KPOISON"
    line = json.dumps(e)
    out.write(line + "\n")
    if i != 200:
        good.write(line + "\n")
PY
$C replay --json --rules "$CONF" "$T_DIR/hostile-good.jsonl" > "$T_DIR/r1.jsonl" 2>/dev/null
check "replay: the hostile agents fire" sh -c "grep -q '\"agent_id\":\"A1:s\"' '$T_DIR/r1.jsonl' && grep -q '\"agent_id\":\"{\"' '$T_DIR/r1.jsonl'"
$R SET ivr:customer:KPOISON "not a hash" >/dev/null
push_jsonl "$T_DIR/hostile.jsonl"
t_daemon "$CONF" "$T_DIR/d1.log"
check "hostile events drained" t_wait 30 drained
check_eq "only the poison event is dead-lettered" "$($R XLEN ivr:events:dead)" 1
check_eq "with the reason enrich" "$(stream_field ivr:events:dead reason)" enrich
check "the dead letter names the problem" sh -c \
    "redis-cli -s '$T_REDIS_SOCK' XRANGE ivr:events:dead - + | grep -q 'enrichment failed: WRONGTYPE'"
check_eq "the dead letter keeps the event" "$(stream_field ivr:events:dead call_id)" H200
daemon_alerts "$T_DIR/a1.jsonl"
agree "hostile by values: every other event's alerts exact" "$T_DIR/r1.jsonl" "$T_DIR/a1.jsonl"
check "no key named by a raw hostile value" sh -c \
    "! redis-cli -s '$T_REDIS_SOCK' --scan --pattern 'ivr:k:*' | grep -q '[{}*]\\|:A1:s'"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
$R FLUSHALL >/dev/null

# --- 2. out of memory for 3 s mid-stream -------------------------------------------
CONF=$T_DIR/oom.yaml
{ base; cat <<'RULES'; } > "$CONF"
rules:
  - name: low
    on: rating
    if: csat <= 2
    actions: [{notify: [supervisors, dialer]}]
  - name: repeat
    on: rating
    if: csat <= 2
    count: {by: customer_id, at_least: 3, within: 1h}
    cooldown: 30m
    actions: [{notify: supervisors}]
RULES
awk 'BEGIN { for (i = 0; i < 30000; i++)
	printf "{\"type\":\"rating\",\"ts\":%d,\"call_id\":\"O%d\",\"customer_id\":\"K%d\",\"csat\":%d}\n", 1700000000 + i, i, i % 400, 1 + (i * 7 + int(i / 400)) % 5 }' > "$T_DIR/oom.jsonl"
$C replay --json --rules "$CONF" "$T_DIR/oom.jsonl" > "$T_DIR/r2.jsonl" 2>/dev/null
push_jsonl "$T_DIR/oom.jsonl"
t_daemon "$CONF" "$T_DIR/d2.log"
check "got going" t_wait 20 sh -c "[ \$(redis-cli -s '$T_REDIS_SOCK' XLEN ivr:alerts) -gt 2000 ]"
$R CONFIG SET maxmemory 1 >/dev/null
check "out of memory while entries wait" [ "$(lag)" -gt 0 ]
# The next commit is refused; on a loaded machine it may take a moment to
# come, so wait for it (and stay out of memory 3 s after it).
check "commits refused while out of memory" \
    t_wait 20 grep -q "refused for the moment (OOM" "$T_DIR/d2.log"
grep -q "refused for the moment (OOM" "$T_DIR/d2.log" ||
    tail -n 20 "$T_DIR/d2.log" >&2
sleep 3
$R CONFIG SET maxmemory 0 >/dev/null
check "drained after the OOM" t_wait 60 drained
check_eq "no good event dead-lettered" "$($R XLEN ivr:events:dead)" 0
daemon_alerts "$T_DIR/a2.jsonl"
agree "after 3 s out of memory: alerts exact" "$T_DIR/r2.jsonl" "$T_DIR/a2.jsonl"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
$R FLUSHALL >/dev/null

# --- 3. late events and cooldowns ------------------------------------------------
CONF=$T_DIR/late.yaml
{ base; cat <<'RULES'; } > "$CONF"
rules:
  - name: low
    on: rating
    if: csat <= 2
    cooldown: 5m
    actions: [{notify: supervisors}]
  - name: repeat
    on: rating
    if: csat <= 1
    count: {by: customer_id, at_least: 2, within: 3m}
    cooldown: 10m
    actions: [{notify: supervisors}]
RULES
# Five customers, an event every 20 s each, times shuffled by up to 8 min.
awk 'BEGIN { srand(11); for (i = 0; i < 3000; i++)
	printf "{\"type\":\"rating\",\"ts\":%d,\"call_id\":\"L%d\",\"customer_id\":\"K%d\",\"csat\":%d}\n", 1700000000 + 4 * i + int(rand() * 960) - 480, i, i % 5, 1 + int(rand() * 5) }' > "$T_DIR/late.jsonl"
$C replay --json --rules "$CONF" "$T_DIR/late.jsonl" > "$T_DIR/r3.jsonl" 2>/dev/null
push_jsonl "$T_DIR/late.jsonl"
t_daemon "$CONF" "$T_DIR/d3.log"
check "late events drained" t_wait 30 drained
daemon_alerts "$T_DIR/a3.jsonl"
# closest EVENTS ALERTS RULE: the smallest gap in event time between two
# firings of RULE for one customer.
closest() {
	python3 - "$1" "$2" "$3" <<'PY'
import collections, json, sys
ts = {}
for l in open(sys.argv[1]):
    e = json.loads(l)
    ts[e["call_id"]] = e["ts"]
fired = collections.defaultdict(list)
for l in open(sys.argv[2]):
    if not l.strip():
        continue
    a = json.loads(l)
    if a["rule"] == sys.argv[3]:
        fired[a["customer_id"]].append(ts[a["call_id"]])
gaps = [b - a for v in fired.values() for a, b in zip(sorted(v), sorted(v)[1:])]
print(min(gaps) if gaps else -1)
PY
}
low=$(closest "$T_DIR/late.jsonl" "$T_DIR/a3.jsonl" low)
rep=$(closest "$T_DIR/late.jsonl" "$T_DIR/a3.jsonl" repeat)
check "late events: both rules fired more than once per customer" [ "$low" -ge 0 ] && [ "$rep" -ge 0 ]
check "late events: no two low firings closer than 5m (closest ${low}s)" [ "$low" -ge 300 ]
check "late events: no two repeat firings closer than 10m (closest ${rep}s)" [ "$rep" -ge 600 ]
agree "late events: alerts exact" "$T_DIR/r3.jsonl" "$T_DIR/a3.jsonl"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"

# --- one batch of 6,000 entries, each opening a case, and a dead letter:
# the batch goes as the apply script, which runs each command with Lua's
# unpack() (refused past 8,000 values): a commit's gathered writes (MSET,
# ZADD) are split below that, so the batch commits whole ----------------
$R FLUSHALL >/dev/null
T_BATCH=10000 t_config "$T_DIR/big.yaml" <<'RULES'
rules:
  - name: low
    on: rating
    if: csat <= 2
    actions: [{notify: dialer}]
RULES
awk 'BEGIN {
	for (i = 0; i < 6000; i++) {
		if (i == 3000)
			print "XADD ivr:events * type rating call_id P csat 99"
		printf "XADD ivr:events * type rating call_id B%d customer_id B%d csat 1\n", i, i
	}
}' | $R >/dev/null
t_daemon "$T_DIR/big.yaml" "$T_DIR/d4.log"
check "big batch with a dead letter: drained" t_wait 60 drained
check_eq "big batch: 6,000 cases opened" "$($R ZCARD ivr:cases:open)" 6000
check_eq "big batch: 6,000 alerts" "$($R LLEN dialer:callbacks)" 6000
check_eq "big batch: the poison event alone dead-lettered" "$($R XLEN ivr:events:dead)" 1
check "big batch: no batch failed" sh -c "! grep -q 'failed' '$T_DIR/d4.log'"
check "big batch: it went as the apply script" sh -c "$R INFO commandstats | grep -q '^cmdstat_evalsha:'"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
if [ "$T_FAIL" -gt 0 ]; then
	echo "--- logs"
	tail -n 20 "$T_DIR/d1.log" "$T_DIR/d2.log" "$T_DIR/d3.log" "$T_DIR/d4.log"
fi
t_done
