#!/bin/sh
# test_report.sh — recoveryctl report (README, "Working a case") through the
# real
# daemon against a real redis-server, checked against an independent count:
# 40 customers each rate badly (a case each, SLA 1h), eight of the cases
# are acknowledged, 30 resolved with codes in turn, and the resolved
# customers rate again (csat 5: recovered; csat 3: not recovered; or not
# at all: pending). The expected figures are computed here from that plan,
# not from Redis, and compared with report --json, by rule and by queue.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
CTL=$BUILD/recoveryctl
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
t_config "$CONF" <<'RULES'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    sla: 1h
    actions: [{notify: supervisors}]
  - name: detractor
    on: rating
    if: nps <= 1
    severity: critical
    sla: 1s
    actions: [{notify: supervisors}]
RULES
C="$CTL -c $CONF"
t_daemon "$CONF" "$T_DIR/recoveryd.log"

codes="refund credit callback-done"
i=0
while [ $i -lt 40 ]; do
	$C push rating call_id=C$i customer_id=K$i queue=q$((i % 2)) \
	    csat=$((1 + i % 2)) >/dev/null
	i=$((i + 1))
done
check "40 events drained" t_wait 20 drained
i=0
while [ $i -lt 40 ]; do
	id=$($R GET "ivr:opencase:K$i")
	[ $((i % 5)) -eq 0 ] && $C ack "$id" --by ana >/dev/null
	if [ $((i % 4)) -ne 3 ]; then
		set -- $codes
		shift $((i % 3))
		$C resolve "$id" --code "$1" --by ana >/dev/null
	fi
	i=$((i + 1))
done
i=0
while [ $i -lt 40 ]; do
	case $((i % 4)) in
	0) $C push rating call_id=D$i customer_id=K$i csat=5 >/dev/null ;;
	1) $C push rating call_id=D$i customer_id=K$i csat=3 >/dev/null ;;
	esac
	i=$((i + 1))
done
check "follow-up ratings drained" t_wait 20 drained
exit_is "report --json" 0 $C report --json
cp "$T_DIR/out" "$T_DIR/rule.json"
exit_is "report --by queue --json" 0 $C report --by queue --json
cp "$T_DIR/out" "$T_DIR/queue.json"
check "the figures match the independent count" python3 - "$T_DIR/rule.json" "$T_DIR/queue.json" <<'PY'
import json, sys
rule, queue = (json.load(open(p)) for p in sys.argv[1:3])
codes = ["refund", "credit", "callback-done"]
def expect(members):
    e = {"opened": 0, "acknowledged": 0, "resolved": 0, "with_sla": 0,
         "acknowledged_within_sla": 0, "codes": {},
         "out": {"recovered": 0, "not_recovered": 0, "unknown": 0},
         "before": [], "after": []}
    for i in members:
        e["opened"] += 1
        e["with_sla"] += 1
        e["before"].append(1 + i % 2)
        if i % 5 == 0:
            e["acknowledged"] += 1
            e["acknowledged_within_sla"] += 1
        if i % 4 != 3:
            e["resolved"] += 1
            c = codes[i % 3]
            e["codes"][c] = e["codes"].get(c, 0) + 1
            if i % 4 == 0:
                e["out"]["recovered"] += 1
                e["after"].append(5)
            elif i % 4 == 1:
                e["out"]["not_recovered"] += 1
                e["after"].append(3)
    return e
def same(got, e, what):
    for k in ("opened", "acknowledged", "resolved", "with_sla",
              "acknowledged_within_sla"):
        assert got[k] == e[k], (what, k, got[k], e[k])
    assert got["resolution_codes"] == e["codes"], (what, got["resolution_codes"], e["codes"])
    assert got["outcomes"] == e["out"], (what, got["outcomes"], e["out"])
    r, n = e["out"]["recovered"], e["out"]["not_recovered"]
    assert abs(got["recovery_rate"] - r / (r + n)) < 1e-9, (what, got["recovery_rate"])
    assert abs(got["csat_before"] - sum(e["before"]) / len(e["before"])) < 1e-9, what
    assert abs(got["csat_after"] - sum(e["after"]) / len(e["after"])) < 1e-9, what
    assert got["nps_before"] is None and got["time_to_first_contact_p50_s"] is None, what
    for f in ("ack", "resolve"):
        p50, p90 = got["time_to_%s_p50_s" % f], got["time_to_%s_p90_s" % f]
        assert p50 is not None and 0 <= p50 <= p90 < 120, (what, f, p50, p90)
same(rule["total"], expect(range(40)), "total")
same(rule["groups"]["low-csat"], expect(range(40)), "low-csat")
assert list(rule["groups"]) == ["low-csat"], rule["groups"].keys()
same(queue["groups"]["q0"], expect(range(0, 40, 2)), "q0")
same(queue["groups"]["q1"], expect(range(1, 40, 2)), "q1")
PY
exit_is "report as text" 0 $C report --since 1d
check "text: the group and its figures" grep -q '^  opened 40, acknowledged 8 (within SLA: 8 of 40), resolved 30$' "$T_DIR/out"
check "text: the recovery rate" grep -q 'recovered 10, not recovered 10, unknown 0: recovery rate 50%' "$T_DIR/out"
# --- cases: filters, sorting, paging (on the same cases) -----------------------
$C push rating call_id=E1 customer_id=X1 queue=q1 nps=0 >/dev/null
$C push rating call_id=E2 customer_id=X2 queue=q0 nps=1 >/dev/null
check "two critical cases" t_wait 10 drained
X1=$($R GET ivr:opencase:X1)
X2=$($R GET ivr:opencase:X2)
exit_is "cases --state all --limit 100" 0 $C cases --state all --limit 100
check_eq "cases: every case" "$(sed 1d "$T_DIR/out" | wc -l)" 42
exit_is "cases --queue q0 --state all" 0 $C cases --queue q0 --state all --limit 100
check_eq "--queue: q0's cases" "$(sed 1d "$T_DIR/out" | wc -l)" 21
exit_is "cases --severity critical" 0 $C cases --severity critical
check_eq "--severity" "$(sed 1d "$T_DIR/out" | awk '{ print $1 }' | sort | tr '\n' ' ')" \
    "$(printf '%s\n%s\n' "$X1" "$X2" | sort | tr '\n' ' ')"
exit_is "cases --rule detractor --json" 0 $C cases --rule detractor --json
check_eq "--rule" "$(wc -l < "$T_DIR/out")" 2
exit_is "cases --sort severity" 0 $C cases --sort severity
check_eq "--sort severity: the critical ones first, the oldest first" \
    "$(sed 1d "$T_DIR/out" | head -n 2 | awk '{ print $1 }' | tr '\n' ' ')" "$X1 $X2 "
check_eq "--sort severity: then the oldest medium one (K3)" \
    "$(sed 1d "$T_DIR/out" | sed -n 3p | awk '{ print $4 }')" K3
exit_is "cases --owner nobody" 0 $C cases --owner nobody
check "--owner: none" grep -q "no open cases" "$T_DIR/out"
exit_is "cases --limit 4 --page 2" 0 $C cases --limit 4 --page 2
P2=$(sed 1d "$T_DIR/out" | awk '{ print $1 }' | tr '\n' ' ')
exit_is "cases --limit 8" 0 $C cases --limit 8
check_eq "--page 2 is the second four" "$P2" "$(sed 1d "$T_DIR/out" | sed -n 5,8p | awk '{ print $1 }' | tr '\n' ' ')"
sleep 1.1
exit_is "cases --overdue" 0 $C cases --overdue
check_eq "--overdue: the critical ones (SLA 1s)" "$(sed 1d "$T_DIR/out" | wc -l)" 2
usage cases --sort colour
usage cases --severity huge
usage cases --page 0
# a hostile queue name stays one line of text
$C push rating call_id=Z1 customer_id=Z1 "queue=$(printf 'q\033[31mred\nx')" csat=1 >/dev/null
check "drained" t_wait 10 drained
exit_is "report --by queue with a hostile name" 0 $C report --by queue
check "no escape byte reaches the terminal" sh -c "! grep -q \"\$(printf '\\033')\" '$T_DIR/out'"
usage report --by colour
usage report --since soon
usage report extra
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
t_done
