#!/bin/sh
# test_loop.sh — the closed loop through the real daemon and recoveryctl
# against a real redis-server (README, "Working a case", issue 10): a contact
# event
# joins the open case's history and the first "reached" sets
# first_contact_at; the customer's first rating after a resolution is its
# outcome (recovered by cases.recovered_if, not_recovered when it reopens
# the case), none within cases.outcome_within is unknown; a rule with
# case: none opens nothing; sla sets due_at and show says overdue; the
# history keeps the newest cases.history entries and show says so.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
CTL=$BUILD/recoveryctl
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
t_config "$CONF" <<'RULES'
cases: {outcome_within: 10s, history: 12}
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    sla: 1s
    actions: [{notify: supervisors, message: "low CSAT {{csat}} from {{customer_id}}"}]
  - name: meh
    on: rating
    if: csat == 3
    case: none
    actions: [{notify: supervisors, message: "meh {{customer_id}}"}]
RULES
PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
sed -i "s|^http: .*|http: {listen: \"127.0.0.1:$PORT\"}|" "$CONF"
metrics() {
	python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' "$PORT"
}
# metric SERIES: its value ("" when absent).
metric() { metrics | awk -v s="$1" '$1 == s { print $2 }'; }
C="$CTL -c $CONF"
t_daemon "$CONF" "$LOG"
push() { $C push "$@" >/dev/null; }
field() { $R HGET "ivr:case:$1" "$2"; }

push rating call_id=C1 customer_id=K1 csat=1
push rating call_id=C2 customer_id=K2 csat=2
push rating call_id=C3 customer_id=K3 csat=1
push rating call_id=C4 customer_id=K4 csat=3
check "drained" t_wait 10 drained
A=$($R GET ivr:opencase:K1)
B=$($R GET ivr:opencase:K2)
D=$($R GET ivr:opencase:K3)
check "three cases" [ -n "$A" ] && [ -n "$B" ] && [ -n "$D" ]
check_eq "case: none opens no case" "$($R EXISTS ivr:opencase:K4)" 0
check "case: none still notifies" sh -c "$R XRANGE ivr:alerts - + | grep -q '^meh K4$'"
check_eq "the rating before, kept" "$(field "$A" rating_before)" "csat=1"
check "sla: due_at a second after opening" [ -n "$(field "$A" due_at)" ]
sleep 1.2
exit_is "show" 0 $C show "$A"
check "show: overdue" grep -q '^sla  *overdue by ' "$T_DIR/out"

# --- contacts --------------------------------------------------------------------
push contact customer_id=K1 result=no_answer agent_id=ana
check "drained" t_wait 10 drained
check_eq "no_answer: no first contact" "$(field "$A" first_contact_at)" ""
push contact customer_id=K1 result=reached agent_id=ana note="spoke, refund agreed"
check "drained" t_wait 10 drained
FC=$(field "$A" first_contact_at)
check "reached: first_contact_at" sh -c "echo '$FC' | grep -Eq '^20[0-9-]+T[0-9:.]+Z$'"
push contact customer_id=K1 result=reached
check "drained" t_wait 10 drained
check_eq "first_contact_at stays the first" "$(field "$A" first_contact_at)" "$FC"
check_eq "three contacts in the history" \
    "$($R LRANGE "ivr:case:$A:history" 0 -1 | grep -c '"kind":"contact"')" 3
check "the contact's note and agent" sh -c "$R LRANGE ivr:case:$A:history 0 -1 | grep '\"result\":\"reached\"' | grep -q '\"agent_id\":\"ana\",\"note\":\"spoke, refund agreed\"'"
# push refuses it now (it validates as the daemon does); a producer that
# writes the stream directly still has it dead-lettered.
exit_is "push refuses a bad contact result" 1 $C push contact customer_id=K1 result=angry
$R XADD ivr:events '*' type contact customer_id K1 result angry >/dev/null
check "a bad contact result is dead-lettered" t_wait 5 sh -c "$R XRANGE ivr:events:dead - + | grep -q 'angry. is not one of reached'"

# --- outcomes ------------------------------------------------------------------------
exit_is "resolve A" 0 $C resolve "$A" --code callback-done --by ana
exit_is "resolve B" 0 $C resolve "$B" --code refund --by ana
exit_is "resolve D" 0 $C resolve "$D" --code no-answer --by ana
check_eq "pending: no outcome yet" "$(field "$A" outcome)" ""
check_eq "three customers wait for their outcome" "$($R ZCARD ivr:outcomes:pending)" 3
push rating call_id=C5 customer_id=K1 csat=5
push rating call_id=C6 customer_id=K2 csat=1
check "drained" t_wait 10 drained
check_eq "a good rating: recovered" "$(field "$A" outcome)" recovered
check_eq "the rating after" "$(field "$A" rating_after)" "csat=5"
check "outcome_at" sh -c "[ -n \"\$($R HGET ivr:case:$A outcome_at)\" ]"
check_eq "a bad rating reopens the case" "$(field "$B" state)" reopened
check_eq "... and was that resolution's outcome" "$(field "$B" outcomes)" not_recovered
check_eq "... with the rating that reopened it (for the report)" "$(field "$B" ratings_after)" "csat=1"
check_eq "... the reopened case's outcome pending again" "$(field "$B" outcome)" ""
check "no rating within outcome_within: unknown" t_wait 20 sh -c "[ \"\$($R HGET ivr:case:$D outcome)\" = unknown ]"
push rating call_id=C7 customer_id=K3 csat=5
check "drained" t_wait 10 drained
check_eq "a rating after the window changes nothing" "$(field "$D" outcome)" unknown
check_eq "no one waits for an outcome any more" "$($R ZCARD ivr:outcomes:pending)" 0
check "history: the outcome entry" sh -c "$R LRANGE ivr:case:$A:history 0 -1 | grep -q '\"kind\":\"outcome\",\"outcome\":\"recovered\"'"
check_eq "nothing pending on the input stream" "$(pending)" 0

# --- the closed loop's metrics ----------------------------------------------------------
check_eq "metric: cases opened by rule" "$(metric 'recoveryd_cases_opened_total{rule="low-csat"}')" 3
check_eq "metric: no case for case: none" "$(metric 'recoveryd_cases_opened_total{rule="meh"}')" ""
check_eq "metric: resolved by code" "$(metric 'recoveryd_cases_resolved_total{code="refund"}')" 1
check_eq "metric: recovered" "$(metric 'recoveryd_case_outcomes_total{rule="low-csat",outcome="recovered"}')" 1
check_eq "metric: not recovered" "$(metric 'recoveryd_case_outcomes_total{rule="low-csat",outcome="not_recovered"}')" 1
check_eq "metric: unknown" "$(metric 'recoveryd_case_outcomes_total{rule="low-csat",outcome="unknown"}')" 1
check_eq "metric: time to first contact, one" "$(metric recoveryd_case_time_to_first_contact_seconds_count)" 1
check_eq "metric: time to resolve, three" "$(metric recoveryd_case_time_to_resolve_seconds_count)" 3
check_eq "metric: time to resolve, all within a minute" \
    "$(metric 'recoveryd_case_time_to_resolve_seconds_bucket{le="60"}')" 3
# B reopened: open again, due a second after the reopening
check "metric: overdue (refreshed every 5 s)" t_wait 8 sh -c \
    "[ \"\$(python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(\"http://127.0.0.1:$PORT/metrics\", timeout=5).read().decode())' | awk '\$1 == \"recoveryd_cases_overdue\" { print \$2 }')\" = 1 ]"

# --- a restart between a resolution and the rating after it ---------------------------
push rating call_id=C8 customer_id=K8 csat=1
check "drained" t_wait 10 drained
E=$($R GET ivr:opencase:K8)
exit_is "resolve E" 0 $C resolve "$E" --code credit
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
t_daemon "$CONF" "$LOG"
push rating call_id=C9 customer_id=K8 nps=9
check "drained after the restart" t_wait 10 drained
check_eq "the new owner knew K8 waited for an outcome" "$(field "$E" outcome)" recovered
check_eq "... and the rating after" "$(field "$E" rating_after)" "nps=9"

# --- the history's bound -----------------------------------------------------------------
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
	$C note "$B" "note $i" --by ana >/dev/null
done
check_eq "history keeps cases.history entries" "$($R LLEN "ivr:case:$B:history")" 12
check "... the newest" sh -c "$R LRANGE ivr:case:$B:history -1 -1 | grep -q 'note 14'"
exit_is "show B" 0 $C show "$B"
check "show says older ones were dropped" grep -q '^history (12 entries, the oldest dropped beyond cases.history)$' "$T_DIR/out"
# A case whose opening commit alone brings more than cases.history
# entries (15 ratings in one MULTI: one read, one batch) is trimmed too
# (a new list within its bound needs no LTRIM; this one is not within).
{
	echo MULTI
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		echo "XADD ivr:events * type rating call_id M$i customer_id KM csat 1"
	done
	echo EXEC
} | $R >/dev/null
# the longest the list ever is, polled every 10 ms for 2 s
longest=$(python3 - "$T_REDIS_SOCK" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
def cmd(*a):
    s.sendall(b"".join([b"*%d\r\n" % len(a)] +
                       [b"$%d\r\n%s\r\n" % (len(x), x) for x in a]))
    return f.readline()
most, end, key = 0, time.monotonic() + 2, None
while time.monotonic() < end:
    if key is None:
        r = cmd(b"GET", b"ivr:opencase:KM")
        if r.startswith(b"$") and not r.startswith(b"$-1"):
            key = b"ivr:case:" + f.readline().strip() + b":history"
    else:
        most = max(most, int(cmd(b"LLEN", key)[1:]))
    time.sleep(0.01)
print(most)
PY
)
check "the burst drained" t_wait 10 drained
M=$($R GET ivr:opencase:KM)
check_eq "one case for the burst" "$($R HGET "ivr:case:$M" events | tr ',' '\n' | wc -l)" 15
check_eq "its history never held more than cases.history entries" "$longest" 12
check_eq "it keeps cases.history entries" "$($R LLEN "ivr:case:$M:history")" 12
# The commit that opens 40 cases at once names each in the cases:changed
# message the console listens to (its hash and its history: once).
t_bg sh -c "exec redis-cli -s '$T_REDIS_SOCK' --csv SUBSCRIBE ivr:cases:changed > '$T_DIR/changed.csv'"
SUB=$T_LAST
t_wait 5 sh -c "grep -q subscribe '$T_DIR/changed.csv'"
{
	echo MULTI
	i=1
	while [ $i -le 40 ]; do
		echo "XADD ivr:events * type rating call_id P$i customer_id KP$i csat 1"
		i=$((i + 1))
	done
	echo EXEC
} | $R >/dev/null
check "the 40 drained" t_wait 10 drained
opened=$(i=1; while [ $i -le 40 ]; do $R GET "ivr:opencase:KP$i"; i=$((i + 1)); done | sort)
check "cases:changed has come" t_wait 5 sh -c "grep -q '^\"message\"' '$T_DIR/changed.csv'"
kill "$SUB"
check_eq "cases:changed names each of the 40 cases, none twice in a message" "$(python3 -c '
import csv, sys
seen, twice = [], 0
for row in csv.reader(open(sys.argv[1])):
    if len(row) == 3 and row[0] == "message":
        ids = row[2].split(" ")
        twice += len(ids) - len(set(ids))
        seen += ids
print(len(set(seen) & set(sys.argv[2].split())), twice)
' "$T_DIR/changed.csv" "$opened")" "40 0"

kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "daemon exits 0" $? 0
[ "$T_FAIL" -gt 0 ] && { echo "--- daemon log"; tail -n 20 "$LOG"; $R LRANGE "ivr:case:$A:history" 0 -1; $R XRANGE ivr:events:dead - +; }
t_done
