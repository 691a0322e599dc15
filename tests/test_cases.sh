#!/bin/sh
# test_cases.sh — recoveryctl cases, show, ack and resolve (README,
# "Cases and escalation" and "Commands") against a real redis-server on a unix
# socket in a temp dir, with
# cases opened by the real daemon on pushed events (escalation steps an
# hour or more away, so they stay pending) and a few written by hand: cases
# lists open and acknowledged cases newest first (or by state, as a table
# or JSON); show prints every field and the pending steps with their due
# times; ack marks the case and stops its escalation; resolve closes it,
# frees the customer for a new case and keeps the hash 31 days; an unknown
# case exits 1, usage errors 2, an unreachable Redis 3. ack and resolve go
# through the running daemon (the command stream): without one they say
# so within --wait and exit 1, and the command is applied once one runs.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
CTL=$BUILD/recoveryctl
for b in "$CTL" "$BUILD/recoveryd"; do
	[ -x "$b" ] || { echo "test_cases: $b not found (run make first)"; exit 1; }
done
t_setup
t_redis_start

CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/recoveryd.log
t_config "$CONF" <<'RULES'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors, message: "low CSAT {{csat}} from {{customer_id}}"}]
    escalate:
      - {after: 1h, notify: dialer, message: "call {{customer_id}} back"}
      - {after: 2h, notify: [supervisors, dialer], message: "still open {{case_id}}"}
RULES
check "config is valid" "$BUILD/recoveryd" -t -c "$CONF"
C="$CTL -c $CONF"
# A configuration whose Redis is not there.
DOWN=$T_DIR/down.yaml
sed "s|unix://$T_REDIS_SOCK|unix://$T_DIR/nothing.sock|" "$CONF" >"$DOWN"

# run NAME WANT-EXIT ARGS...: recoveryctl with stdout in $T_DIR/out and
# stderr in $T_DIR/err, checking its exit status.
run() {
	name=$1
	want=$2
	shift 2
	$C "$@" >"$T_DIR/out" 2>"$T_DIR/err"
	rc=$?
	if [ $rc -eq "$want" ]; then ok "$name"; else
		fail "$name" "exit $rc, want $want: $(cat "$T_DIR/err")"; fi
}
out_has() { grep -q -- "$1" "$T_DIR/out"; }
err_has() { grep -q -- "$1" "$T_DIR/err"; }
# steps_pending: escalation steps in the schedule (a resolved case's
# outcome timer, "<case>|~outcome|1", is not a step).
steps_pending() { $R ZRANGE ivr:escalations 0 -1 | grep '|' | grep -vc '|~outcome|'; }
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

# --- a case written by hand, with one step overdue ---------------------------
# (before the daemon starts, so no escalation worker delivers it)
NOW=$(now_ms)
OLD=$((NOW - 3600000))
$R HSET ivr:case:c-hand case_id c-hand customer_id K9 state open \
    severity low opened_at 2026-01-01T00:00:00.000Z opened_ms "$OLD" \
    rules low-csat events 1-1 step 0 acked_by '' resolved_at '' \
    steps "low-csat:1p:2p" >/dev/null
$R ZADD ivr:escalations $((OLD + 600000)) "c-hand|low-csat|1" \
    $((OLD + 86400000)) "c-hand|low-csat|2" >/dev/null
$R ZADD ivr:cases "$OLD" c-hand >/dev/null
$R ZADD ivr:cases:open "$OLD" c-hand >/dev/null
# K9's open case is another one: resolving c-hand must leave it alone.
$R SET ivr:opencase:K9 c-other >/dev/null
# And an old resolved case.
$R HSET ivr:case:c-old case_id c-old customer_id K8 state resolved \
    severity high opened_at 2025-12-01T00:00:00.000Z \
    resolved_at 2025-12-02T00:00:00.000Z rules low-csat step 1 >/dev/null
$R ZADD ivr:cases $((OLD - 86400000)) c-old >/dev/null

run "show a hand-made case" 0 show c-hand
check "show: overdue step" out_has 'step 1  low-csat  after 10m  to dialer  due .* (overdue by 50m)'
# (the delay is the due time less opened_ms, the channels the rule's)
check "show: step due later" out_has 'step 2  low-csat  after 1d  to supervisors,dialer  due .* (in 2[23]h'

# --- cases opened by the daemon ------------------------------------------------
# (ack and resolve are commands the running daemon applies: command.h)
t_daemon "$CONF" "$LOG"
# --by defaults to the login name (not $USER, which anyone can set)
USER=bob run "ack without --by" 0 ack c-hand
check_eq "ack: acked_by defaults to the login name" \
    "$($R HGET ivr:case:c-hand acked_by)" "$(logname 2>/dev/null || id -un)"
check_eq "ack removes the hand-made steps" "$(steps_pending)" 0

$C push rating call_id=C1 customer_id=K1 csat=1 >/dev/null
sleep 0.01
$C push rating call_id=C2 customer_id=K2 csat=2 >/dev/null
check "events drained" t_wait 10 drained
C1=$($R GET ivr:opencase:K1)
C2=$($R GET ivr:opencase:K2)
check "daemon opened two cases" [ -n "$C1" ] && [ -n "$C2" ] && [ "$C1" != "$C2" ]
check_eq "four steps pending" "$(steps_pending)" 4

# --- cases -------------------------------------------------------------------
run "cases" 0 cases
check_eq "cases: header" "$(head -n 1 "$T_DIR/out" | tr -s ' ')" \
    "CASE STATE SEVERITY CUSTOMER OPENED STEP RULES"
check_eq "cases: open and acknowledged, newest first" \
    "$(sed 1d "$T_DIR/out" | awk '{ print $1, $2, $4 }' | tr '\n' ' ')" \
    "$C2 open K2 $C1 open K1 c-hand acknowledged K9 "
check "cases: row columns" sh -c "grep '^$C1 ' '$T_DIR/out' | grep -Eq \
    '^$C1 +open +medium +K1 +20[0-9-]{8}T[0-9:.]+Z +0 +low-csat\$'"
run "cases --state all" 0 cases --state all
check_eq "cases --state all: every case" \
    "$(sed 1d "$T_DIR/out" | awk '{ print $1 }' | tr '\n' ' ')" \
    "$C2 $C1 c-hand c-old "
run "cases --state resolved" 0 cases --state=resolved
check_eq "cases --state resolved" "$(sed 1d "$T_DIR/out" | awk '{ print $1 }')" c-old
run "cases --state acknowledged" 0 cases --state acknowledged
check_eq "cases --state acknowledged" "$(sed 1d "$T_DIR/out" | awk '{ print $1 }')" c-hand
run "cases --limit 1" 0 cases --limit 1
check_eq "cases --limit 1: the newest" "$(sed 1d "$T_DIR/out" | awk '{ print $1 }')" "$C2"
run "cases --json" 0 cases --json
check "cases --json: one object a line with the hash fields" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["case_id"] for r in rows] == [sys.argv[2], sys.argv[3], "c-hand"], rows
r = rows[1]
for f in ("customer_id", "state", "severity", "opened_at", "opened_ms", "rules",
          "events", "step", "acked_by", "resolved_at", "call_id", "entry"):
    assert f in r, f
assert r["customer_id"] == "K1" and r["state"] == "open" and r["call_id"] == "C1"
assert r["rules"] == "low-csat" and r["events"] == r["entry"]
assert all(isinstance(v, str) for r in rows for v in r.values())
' "$T_DIR/out" "$C2" "$C1"

# --- show --------------------------------------------------------------------
run "show" 0 show "$C1"
check "show: case_id" out_has "^case_id  *$C1\$"
check "show: customer" out_has '^customer_id  *K1$'
check "show: state" out_has '^state  *open$'
check "show: opened_at" out_has '^opened_at  *20[0-9-]*T'
check "show: events" out_has "^events  *[0-9]*-[0-9]*\$"
check "show: empty fields as -" out_has '^acked_by  *-$'
check "show: step 1 pending in about an hour" \
    out_has 'step 1  low-csat  after 1h  to dialer  due 20[0-9-]*T[0-9:.]*Z (in 59m)'
check "show: step 2 pending in about two hours" \
    out_has 'step 2  low-csat  after 2h  to supervisors,dialer  due .* (in 1h59m)'
run "show unknown case" 1 show nope
check_eq "show unknown: message" "$(tail -n 1 "$T_DIR/err")" "recoveryctl: no case 'nope'"

# --- ack ---------------------------------------------------------------------
Z0=$(steps_pending)
run "ack" 0 ack "$C1" --by alice --note "called back, refund"
check_eq "ack: message" "$(cat "$T_DIR/out")" "case $C1 acknowledged by alice"
check_eq "ack: state" "$($R HGET "ivr:case:$C1" state)" acknowledged
check_eq "ack: acked_by" "$($R HGET "ivr:case:$C1" acked_by)" alice
check_eq "ack: note" "$($R HGET "ivr:case:$C1" note)" "called back, refund"
check "ack: acked_at is RFC 3339" sh -c "redis-cli -s '$T_REDIS_SOCK' HGET \
    'ivr:case:$C1' acked_at | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\$'"
check_eq "ack removes the case's pending steps" "$(steps_pending)" $((Z0 - 2))
check_eq "ack leaves the other case's steps" \
    "$($R ZRANGE ivr:escalations 0 -1 | cut -d'|' -f1 | sort -u)" "$C2"
run "show after ack" 0 show "$C1"
check "show: no pending steps after ack" out_has '^no pending escalation steps$'
check_eq "acknowledged case is still the customer's" "$($R GET ivr:opencase:K1)" "$C1"
run "ack unknown case" 1 ack nope --by alice
check_eq "ack unknown: message" "$(tail -n 1 "$T_DIR/err")" "recoveryctl: no case 'nope'"
check_eq "ack unknown: nothing written" "$($R EXISTS ivr:case:nope)" 0

# --- resolve -------------------------------------------------------------------
run "resolve" 0 resolve "$C1" --code refund --by bob --note "refunded"
check_eq "resolve: message" "$(cat "$T_DIR/out")" "case $C1 resolved"
check_eq "resolve: state" "$($R HGET "ivr:case:$C1" state)" resolved
check_eq "resolve: note" "$($R HGET "ivr:case:$C1" note)" refunded
check "resolve: resolved_at set" sh -c "redis-cli -s '$T_REDIS_SOCK' HGET \
    'ivr:case:$C1' resolved_at | grep -Eq '^[0-9]{4}-.*Z\$'"
check_eq "resolve: out of cases:open" "$($R ZSCORE ivr:cases:open "$C1")" ""
check_eq "resolve: still in cases" "$($R ZSCORE ivr:cases "$C1")" \
    "$($R HGET "ivr:case:$C1" opened_ms)"
check_eq "resolve: resolved_by" "$($R HGET "ivr:case:$C1" resolved_by)" bob
check_eq "resolve: resolution_code" "$($R HGET "ivr:case:$C1" resolution_code)" refund
check_eq "resolve: the customer's case kept while it may reopen" "$($R GET ivr:opencase:K1)" "$C1"
CTTL=$($R TTL ivr:opencase:K1)
check "resolve: ... for cases.reopen_within and a day ($CTTL s)" [ "$CTTL" -gt 690000 ] && [ "$CTTL" -le 691200 ]
run "resolve without --code" 2 resolve "$C2"
check "resolve without --code: says a reason is needed" err_has 'a resolution needs a reason: --code CODE'
run "resolve with an unknown code" 1 resolve "$C2" --code bribe
check "unknown code: says so" err_has "unknown resolution code 'bribe'"
check_eq "unknown code: still open" "$($R HGET "ivr:case:$C2" state)" open
check_eq "resolve: schedule deleted" "$($R EXISTS "ivr:case:$C1:steps")" 0
TTL=$($R TTL "ivr:case:$C1")
check "resolve: kept a day past cases.outcome_within, 31 days ($TTL s)" [ "$TTL" -gt 2677000 ] && [ "$TTL" -le 2678400 ]
run "show a resolved case" 0 show "$C1"
check "show: kept_until" out_has '^kept_until .* (in 30d23h)$'
run "ack a resolved case" 1 ack "$C1"
check "ack resolved: message" err_has "case $C1 is already resolved"
check_eq "ack resolved: state unchanged" "$($R HGET "ivr:case:$C1" acked_by)" alice
run "resolve again" 0 resolve "$C1" --code duplicate --note other
check "resolve again: says so" out_has "case $C1 was already resolved (at 20"
check_eq "resolve again: note unchanged" "$($R HGET "ivr:case:$C1" note)" refunded

run "resolve an open case" 0 resolve "$C2" --code no-action-needed
check_eq "resolve: its pending steps gone" "$(steps_pending)" 0
check "resolve: the outcome's timer, due in cases.outcome_within (30d)" sh -c \
    "[ \$(( \$($R ZSCORE ivr:escalations '$C2|~outcome|1' | cut -d. -f1) - $(now_ms) )) -gt 2591000000 ]"
check_eq "resolve: no note without --note" "$($R HEXISTS "ivr:case:$C2" note)" 0
run "resolve a case not the customer's open one" 0 resolve c-hand --code duplicate
check_eq "resolve: another case's opencase left alone" \
    "$($R GET ivr:opencase:K9)" c-other
run "resolve unknown case" 1 resolve nope --code refund
check_eq "resolve unknown: message" "$(tail -n 1 "$T_DIR/err")" "recoveryctl: no case 'nope'"
run "cases after resolving everything" 0 cases
check_eq "cases: nothing open" "$(cat "$T_DIR/out")" ""
check "cases: says none is open" err_has 'no open cases'

# A new firing within cases.reopen_within (7 days) of the resolution
# reopens the customer's case: open again, escalating from now.
$C push rating call_id=C3 customer_id=K1 csat=1 >/dev/null
check "new event drained" t_wait 10 drained
C3=$($R GET ivr:opencase:K1)
check_eq "a new firing reopens the resolved case" "$C3" "$C1"
check_eq "reopened state" "$($R HGET "ivr:case:$C3" state)" reopened
check_eq "reopened once" "$($R HGET "ivr:case:$C3" reopened)" 1
check_eq "reopened case escalates again" "$(steps_pending)" 2
check_eq "both events in the case" "$($R HGET "ivr:case:$C1" events | tr ',' '\n' | wc -l)" 2
run "cases lists the reopened case" 0 cases
check_eq "cases: the reopened case only" "$(sed 1d "$T_DIR/out" | awk '{ print $1, $2 }')" "$C3 reopened"
run "reopen a case that is not resolved" 1 reopen "$C3"
check "reopen: not resolved" err_has "case $C3 is not resolved (it is reopened)"

# --- the history ------------------------------------------------------------------
run "show prints the history" 0 show "$C1"
check "history: opened" out_has '^  20[0-9T:.-]*Z  opened    rules=low-csat'
check "history: the event with its fields" out_has '^      call_id: C1$'
check "the opening event's fields are stored once: in :event, not the history" \
    sh -c "$R GET ivr:case:$C1:event | grep -q '\"call_id\":\"C1\"' &&
    ! $R LRANGE ivr:case:$C1:history 0 1 | grep -q '\"fields\"'"
check "history: the alert" out_has '  alert     .*channel=supervisors.*message=low CSAT 1 from K1'
check "history: the ack with who" out_has '  ack       by=alice  note=called back, refund'
check "history: the resolution" out_has '  resolve   by=bob  code=refund  note=refunded'
check "history: reopened by a firing" out_has '  reopened  rules=low-csat'
run "show --json" 0 show "$C1" --json
check "show --json: the hash and the history in order" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["case_id"] == sys.argv[2] and o["state"] == "reopened", o
kinds = [h["kind"] for h in o["history"]]
assert kinds[:3] == ["opened", "event", "alert"], kinds
assert kinds.index("ack") < kinds.index("resolve") < kinds.index("reopened"), kinds
ev = [h for h in o["history"] if h["kind"] == "event"][0]
assert ev["fields"]["customer_id"] == "K1" and ev["fields"]["csat"] == "1", ev
evs = [h for h in o["history"] if h["kind"] == "event"]
assert len(evs) >= 2 and all("fields" in h for h in evs), evs
' "$T_DIR/out" "$C1"
run "assign --take" 0 assign "$C1" --take --by dana
check_eq "assign: owner" "$($R HGET "ivr:case:$C1" owner)" dana
run "assign --to" 0 assign "$C1" --to erik --by dana
check_eq "assign --to: owner" "$($R HGET "ivr:case:$C1" owner)" erik
run "note" 0 note "$C1" "left a voicemail" --by erik
check "note in the history with who" sh -c "$R LRANGE ivr:case:$C1:history -1 -1 | grep -q '\"kind\":\"note\",\"by\":\"erik\",\"text\":\"left a voicemail\"'"
usage assign "$C1"
usage assign "$C1" --to x --take
usage note "$C1"
usage note "$C1" ""

# --- usage errors, help ----------------------------------------------------------
usage cases --bogus
usage cases --state closed
usage cases --limit 0
usage cases --limit ten
usage cases --json=yes
usage cases extra
usage show
usage show a b
usage ack
usage ack "$C3" --by
usage ack "$C3" --by ''
usage ack "$C3" --who me
usage resolve
usage resolve "$C3" --by me
usage resolve "$C3" --code
check_eq "usage errors change nothing" "$($R HGET "ivr:case:$C3" state)" reopened
run "cases -h" 0 cases -h
check "cases -h prints the usage" out_has '^usage: recoveryctl .* cases \[--state'
run "ack a case given after --" 0 ack --by carol -- "$C3"
check_eq "ack after --" "$($R HGET "ivr:case:$C3" acked_by)" carol
check "help lists the case commands" sh -c "$CTL -h | grep -q 'resolve CASE --code CODE \[--by NAME\] \[--note TEXT\]'"

# --- Redis down ----------------------------------------------------------------
for cmd in "cases" "cases --json" "show $C3" "ack $C3" "resolve $C3 --code refund"; do
	# shellcheck disable=SC2086
	$CTL -c "$DOWN" $cmd >/dev/null 2>"$T_DIR/err"
	check_eq "Redis down: $cmd exits 3" $? 3
done
check "Redis down: names the server" err_has '^recoveryctl: cannot reach Redis at unix://'
$CTL -c "$DOWN" ack >/dev/null 2>&1
check_eq "Redis down: a usage error still exits 2" $? 2

# --- one writer: hostile commands, answers within a second ---------------------
$C push rating call_id=C4 customer_id=K4 csat=1 >/dev/null
check "fourth event drained" t_wait 10 drained
C4=$($R GET ivr:opencase:K4)
usage ack 'c-1:event' --by eve
usage ack '*' --by eve
usage ack "$C4" --by "$(printf 'eve\nadmin')"
check_eq "refused IDs and names change nothing" "$($R HGET "ivr:case:$C4" state)" open
# Written straight to the command stream, past recoveryctl's checks: the
# daemon refuses each alone (and answers where it can), and goes on.
$R XADD ivr:commands '*' op ack case 'c-1:event' by eve reply tok1 >/dev/null
$R XADD ivr:commands '*' op drop case "$C4" by eve reply tok2 >/dev/null
$R XADD ivr:commands '*' op ack case "$C4" reply 'ivr:x' >/dev/null
$R XADD ivr:commands '*' op ack >/dev/null
check "hostile commands answered" t_wait 5 sh -c "[ \"\$($R LLEN ivr:reply:tok2)\" = 1 ]"
check "bad case ID refused" sh -c "$R LPOP ivr:reply:tok1 | grep -q '\"code\":\"invalid\"'"
check "unknown op refused" sh -c "$R LPOP ivr:reply:tok2 | grep -q 'op is not ack, resolve, assign, note or reopen'"
check_eq "no reply key for a bad token" "$($R KEYS 'ivr:reply:*' | grep -c .)" 0
check_eq "nothing pending on the command stream" \
    "$($R XPENDING ivr:commands recoveryd | head -n 1)" 0
check_eq "hostile commands change nothing" "$($R HGET "ivr:case:$C4" state)" open
START=$(now_ms)
run "ack answers" 0 ack "$C4" --by dora
END=$(now_ms)
check "ack answered within a second ($((END - START)) ms)" [ $((END - START)) -lt 1000 ]
check_eq "ack by the owner" "$($R HGET "ivr:case:$C4" acked_by)" dora

kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "daemon exits 0" $? 0

# --- no daemon: the command waits in the stream ---------------------------------
START=$(now_ms)
run "resolve with no daemon" 1 resolve "$C4" --code refund --note later --wait 1
END=$(now_ms)
check "no daemon: says so" err_has 'no recoveryd answered within 1 s'
check "no daemon: names the queued command" err_has 'stays queued as [0-9]*-[0-9]* in ivr:commands'
check "no daemon: gave up after --wait ($((END - START)) ms)" [ $((END - START)) -lt 3000 ]
check_eq "no daemon: not applied yet" "$($R HGET "ivr:case:$C4" state)" acknowledged
usage resolve "$C4" --code refund --wait 0
t_daemon "$CONF" "$LOG"
check "queued command applied once a daemon runs" t_wait 10 sh -c \
    "[ \"\$($R HGET ivr:case:$C4 state)\" = resolved ]"
check_eq "queued command's note" "$($R HGET "ivr:case:$C4" note)" later
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "daemon exits 0 again" $? 0
[ "$T_FAIL" -gt 0 ] && { echo "--- daemon log"; tail -n 20 "$LOG"; }
t_done
