#!/bin/sh
# test_ivrsim_loop.sh — ivr-sim --loop plays the closed loop against the
# real daemon and a real redis-server: the simulator's low ratings open
# cases and queue callbacks on the dialer list; ivr-sim pops them, pushes
# contact events, acknowledges and resolves the cases through
# ivr:commands, and has the customers rate again. recoveryctl report
# --json must then show resolved cases, first contacts, and both
# recovered and not recovered outcomes (a rate strictly between 0 and 1).
# Then, with no daemon: a full table drops the oldest callback and says
# so, and without --loop the dialer list is left alone.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
CTL=$BUILD/recoveryctl
SIM=$BUILD/ivr-sim
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
t_config "$CONF" <<'RULES'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: dialer}]
RULES
C="$CTL -c $CONF"
U="unix://$T_REDIS_SOCK"
t_daemon "$CONF" "$T_DIR/recoveryd.log"

$SIM -u "$U" --loop --delay 0.4 -r 40 -d 15 --seed 7 --customers 300 \
    --agents 20 >"$T_DIR/sim.out" 2>"$T_DIR/sim.err"
check_eq "ivr-sim --loop exits 0" $? 0
last=$(tail -n 1 "$T_DIR/sim.out")
echo "# $last"
num() { echo "$last" | sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p"; }
check "the report line counts contacts, resolutions, follow-ups" sh -c \
    "[ '$(num contacts)' -gt 0 ] && [ '$(num resolutions)' -gt 0 ] &&
    [ '$(num 'follow-up ratings')' -gt 0 ]"
check "daemon drains the stream" t_wait 15 drained
# The last commands may still be on their way through the owner.
cmds_done() {
	[ "$($R XLEN ivr:commands)" -gt 0 ] &&
	[ "$($R XPENDING ivr:commands recoveryd 2>/dev/null | head -n 1)" = 0 ]
}
t_wait 5 cmds_done

$C report --json >"$T_DIR/report.json"
check_eq "report --json exits 0" $? 0
jq() {
	python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["total"]
print(eval(sys.argv[2], {}, {"t": t}))' "$T_DIR/report.json" "$1"
}
echo "# report: $(jq 't["opened"]') opened, $(jq 't["resolved"]') resolved, \
outcomes $(jq 't["outcomes"]'), rate $(jq 't["recovery_rate"]'), \
codes $(jq 't["resolution_codes"]')"
check "cases were resolved" [ "$(jq 't["resolved"]')" -gt 0 ]
check "cases were acknowledged" [ "$(jq 't["acknowledged"]')" -gt 0 ]
check "first contacts were made" [ "$(jq 't["time_to_first_contact_p50_s"] is not None')" = True ]
check "resolution codes from the default set" [ "$(jq 'set(t["resolution_codes"]) <= {"callback-done", "refund", "credit", "no-answer", "not-reachable", "duplicate", "no-action-needed"} and len(t["resolution_codes"]) > 1')" = True ]
check "some recovered" [ "$(jq 't["outcomes"]["recovered"]')" -gt 0 ]
check "some not recovered" [ "$(jq 't["outcomes"]["not_recovered"]')" -gt 0 ]
check "recovery rate strictly between 0 and 1" [ "$(jq '0 < t["recovery_rate"] < 1')" = True ]
contact_case() {
	for id in $(stream_field ivr:events case_id); do
		[ "$($R EXISTS "ivr:case:$id")" = 1 ] && return 0
	done
	return 1
}
check "contacts carry the callback's case" contact_case
check "a case's history has the loop's contact and resolve" sh -c "
    for id in \$($R KEYS 'ivr:case:*:history' | head -n 20); do
	$R LRANGE \$id 0 -1 | grep -q '\"result\":\"reached\"' &&
	$R LRANGE \$id 0 -1 | grep -q '\"by\":\"ivr-sim\"' && exit 0
    done; exit 1"
check_eq "no loop event is dead-lettered" "$($R XLEN ivr:events:dead)" 0
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "daemon exits 0 on SIGTERM" $? 0

# --- a bounded table; without --loop the dialer is not touched ------------
$R DEL dialer:callbacks >/dev/null
for k in 1 2 3; do
	$R LPUSH dialer:callbacks "{\"case_id\":\"c-$k\",\"customer_id\":\"K$k\"}" >/dev/null
done
$R LPUSH dialer:callbacks 'not json' >/dev/null
$SIM -u "$U" -r 1 -d 1 --seed 1 --no-crm >/dev/null 2>&1
check_eq "without --loop the dialer list stays" "$($R LLEN dialer:callbacks)" 4
$SIM -u "$U" --loop --pending 2 --delay 100 -r 1 -d 1 --seed 1 --no-crm \
    >"$T_DIR/sim2.out" 2>/dev/null
check_eq "--loop empties the dialer list" "$($R LLEN dialer:callbacks)" 0
check "a full table drops the oldest, counted" grep -q \
    '3 callbacks (0 duplicate, 1 dropped, 1 unusable), 0 contacts' \
    "$T_DIR/sim2.out"
$SIM --loop --pending 0 >/dev/null 2>&1
check_eq "--pending 0 is a usage error" $? 2
t_done
