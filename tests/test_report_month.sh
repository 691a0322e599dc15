#!/bin/sh
# test_report_month.sh — recoveryctl report against an independent count
# on a generated month of events (tests/report_month.py): the real daemon
# and recoveryctl against a real redis-server, their wall clock moved
# through thirty days by tests/clockshim.so (an LD_PRELOAD of the test
# build, never installed); the plan, the moments and the expected figures
# are the Python's.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
SHIM=$PWD/$BUILD/tests/clockshim.so
[ -f "$SHIM" ] || { echo "$SHIM is missing (make unit builds it)"; exit 1; }
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
t_config "$CONF" <<'RULES'
cases: {reopen_within: 3d, outcome_within: 5d}
resolution_codes: [refund, credit, callback-done, no-answer]
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    sla: 4h
    actions: [{notify: supervisors}]
  - name: detractor
    on: rating
    if: nps <= 3
    severity: critical
    sla: 1h
    actions: [{notify: supervisors}]
RULES
CLOCK=$T_DIR/clock
echo 0 > "$CLOCK"
LD_PRELOAD=$SHIM CLOCKSHIM_FILE=$CLOCK t_daemon "$CONF" "$T_DIR/recoveryd.log"
check "the daemon runs" t_wait 10 sh -c "grep -q 'decides the stream now' '$T_DIR/recoveryd.log'"
python3 tests/report_month.py "$T_REDIS_SOCK" "$CLOCK" "$SHIM" \
    "$PWD/$BUILD/recoveryctl" "$CONF" >"$T_DIR/py.out" 2>&1
cat "$T_DIR/py.out"
T_PASS=$((T_PASS + $(grep -c '^ok ' "$T_DIR/py.out")))
T_FAIL=$((T_FAIL + $(grep -c '^FAIL ' "$T_DIR/py.out")))
if grep -q Traceback "$T_DIR/py.out"; then
	fail "report_month.py ran to its end" "a Python exception"
fi
check "no event dead-lettered" [ "$($R XLEN ivr:events:dead)" = 0 ]
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "SIGTERM: the daemon exits 0" $? 0
t_done
