#!/bin/sh
# test_ruletest.sh — "recoveryctl test" (README, "Commands", rule unit tests):
# the shipped rule tests pass, and the runner itself reports wrong
# expectations as missing/unexpected alerts and broken test files as
# FILE:LINE:COL (golden files in tests/ruletest/).
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
C=$BUILD/recoveryctl


# golden NAME FILE: $T_DIR/out equals FILE.
golden() {
	if diff -u "$2" "$T_DIR/out" >"$T_DIR/diff"; then ok "$1"; else
		fail "$1" "$(cat "$T_DIR/diff")"; fi
}

# --- the example rules' own tests --------------------------------------------
exit_is "rules/tests/*.yaml pass" 0 $C test rules/tests/*.yaml
check "every rule test reported ok" sh -c \
    "! grep -q '^FAIL' '$T_DIR/out' && grep -q '^[0-9]* tests, [0-9]* passed, 0 failed$' '$T_DIR/out'"
n=$(sed -n 's/^\([0-9]*\) tests, .*/\1/p' "$T_DIR/out")
check "at least 40 rule tests ran ($n)" [ "${n:-0}" -ge 40 ]
# Every example rule is the subject of at least one expectation.
for r in vip-detractor repeat-low-csat agent-csat-slump complaint-after-bad-call \
    long-wait abandoned-call callback-after-abandon critical-complaint \
    high-complaint detractor low-csat unresolved-call high-customer-effort \
    queue-nps-slump; do
	check "rule $r is tested" grep -q "rule: $r," rules/tests/*.yaml
done
exit_is "the README's examples pass" 0 $C test rules/tests/spec-examples.yaml

# --- the runner: wrong expectations -----------------------------------------
exit_is "wrong expectations fail" 1 $C test tests/ruletest/bad-expect.yaml
golden "missing and unexpected alerts are listed" tests/ruletest/bad-expect.expected
check "the right test in the same file still passes" \
    grep -q "^ok right expectations pass$" "$T_DIR/out"

# --- the runner: broken test files ------------------------------------------
exit_is "a broken test file fails" 1 $C test tests/ruletest/broken-file.yaml
golden "every mistake is reported as FILE:LINE:COL" tests/ruletest/broken-file.expected
exit_is "a broken file among good ones still fails" 1 \
    $C test rules/tests/ratings.yaml tests/ruletest/broken-file.yaml
check "the good file's tests still run" grep -q "^6 tests, 6 passed, 0 failed, 1 file with errors$" "$T_DIR/out"

cat >"$T_DIR/syntax.yaml" <<'YAML'
rule_files: [rules.yaml]
tests: [{name: x
YAML
exit_is "a YAML syntax error fails" 1 $C test "$T_DIR/syntax.yaml"
check "syntax error has FILE:LINE:COL" grep -q "^$T_DIR/syntax.yaml:[0-9]*:[0-9]*: " "$T_DIR/out"

# --- the closed loop in tests: resolves, reopens, outcomes --------------------
cat >"$T_DIR/loop.yaml" <<YAML
rule_files: [$PWD/rules/recoveryd.yaml]
tests:
  - name: a wrong outcome fails
    events:
      - {at: 0s, type: rating, call_id: c1, customer_id: k1, csat: 1}
      - {at: 1d, type: rating, call_id: c2, customer_id: k1, csat: 5}
    resolves: [{at: 1h, case_of: k1, code: refund}]
    expect: [{at: 0s, rule: low-csat, channel: supervisors}]
    outcomes: [{case_of: k1, outcome: not_recovered}]
  - name: a reopen of an open case is reported
    events: [{at: 0s, type: rating, call_id: c1, customer_id: k2, csat: 1}]
    reopens: [{at: 1m, case_of: k2}]
    expect: [{at: 0s, rule: low-csat, channel: supervisors}]
YAML
exit_is "a wrong outcome fails" 1 $C test "$T_DIR/loop.yaml"
check "the outcome's difference is shown" grep -q "outcome of case_of=k1 (line 9): want not_recovered, got recovered" "$T_DIR/out"
check "a refused reopen is shown" grep -q "reopen at=1m case_of=k2: case c-t1 is not resolved (it is open)" "$T_DIR/out"
cat >"$T_DIR/loopbad.yaml" <<YAML
rule_files: [$PWD/rules/recoveryd.yaml]
tests:
  - name: broken
    events: [{at: 0s, type: rating, call_id: c1, customer_id: k1, csat: 1}]
    resolves: [{at: 1h, case_of: k1}, {at: 2h, case_of: k1, code: bribe}]
    outcomes: [{case_of: k1, outcome: happy}]
YAML
exit_is "a resolve without a code is a file error" 1 $C test "$T_DIR/loopbad.yaml"
check "... at its line" grep -q "loopbad.yaml:5:16: a resolve needs a 'code'" "$T_DIR/out"
check "an unknown code is a file error" grep -q "loopbad.yaml:5:.*unknown resolution code 'bribe'" "$T_DIR/out"
check "an unknown outcome word is a file error" grep -q "loopbad.yaml:6:.*unknown outcome 'happy'" "$T_DIR/out"

cat >"$T_DIR/norules.yaml" <<'YAML'
rule_files: [no-such-file.yaml]
tests: []
YAML
exit_is "a missing rule file fails" 1 $C test "$T_DIR/norules.yaml"
check "the missing rule file is named" grep -q "no-such-file.yaml" "$T_DIR/out"

# Rule files are relative to the test file, not to the current directory.
mkdir -p "$T_DIR/sub"
cat >"$T_DIR/sub/rules.yaml" <<'YAML'
channels: {out: {type: stream, key: a}}
rules:
  - name: any
    on: ping
    escalate: [{after: 2h, notify: out}]
YAML
cat >"$T_DIR/sub/t.yaml" <<'YAML'
rule_files: [rules.yaml]
tests:
  - name: unknown event types work, steps show after the last event
    events: [{at: 1d, type: ping, customer_id: k1}]
    expect: [{at: 26h, rule: any, channel: out, step: 1, case: c-t1}]
  - name: events without a customer open no case
    events: [{at: 0s, type: ping}]
    expect: []
YAML
CABS=$(cd "$(dirname "$C")" && pwd)/$(basename "$C")
(cd / && "$CABS" test "$T_DIR/sub/t.yaml") >"$T_DIR/out" 2>&1
check_eq "rule files resolve relative to the test file" "$?" 0

# --- usage --------------------------------------------------------------------
exit_is "test without files is a usage error" 2 $C test
exit_is "test --help" 0 $C test --help
exit_is "a missing test file fails" 1 $C test "$T_DIR/none.yaml"

# --- scoped tests: "rules: [...]" ----------------------------------------------
exit_is "a scoped test passes without the other rules' alerts" 0 \
    $C test tests/ruletest/scoped.yaml
check "all three scoped tests ran" grep -q "^3 tests, 3 passed, 0 failed$" "$T_DIR/out"
# The same events without the scope fail: low-csat's alerts are unexpected.
sed '/^    rules:/d' tests/ruletest/scoped.yaml >"$T_DIR/unscoped.yaml"
sed -i "s|\.\./\.\./rules/|$PWD/rules/|" "$T_DIR/unscoped.yaml"
exit_is "without the scope the same tests fail" 1 $C test "$T_DIR/unscoped.yaml"
check "the unscoped failure is low-csat's alert" grep -q "unexpected: at=0s rule=low-csat" "$T_DIR/out"
exit_is "a scoped test still fails on its rules' alerts" 1 \
    $C test tests/ruletest/scoped-fail.yaml
golden "missing and extra alerts of the rules in scope" tests/ruletest/scoped-fail.expected
exit_is "mistakes in rules: are errors" 1 $C test tests/ruletest/scoped-bad.yaml
golden "rules: errors as FILE:LINE:COL" tests/ruletest/scoped-bad.expected

# --- test --explain: why a failing test failed ------------------------------------
exit_is "test --explain of failing tests" 1 $C test --explain tests/ruletest/explain-fail.yaml
golden "a silence and a cooldown explained, with the test's silences" tests/ruletest/explain-fail.expected
exit_is "without --explain, no explanation" 1 $C test tests/ruletest/explain-fail.yaml
check "... no why lines" sh -c "! grep -q 'why (recoveryctl explain)' '$T_DIR/out'"
exit_is "test --explain of passing tests" 0 $C test --explain rules/tests/ratings.yaml
check "... prints no explanation" sh -c "! grep -q 'why' '$T_DIR/out'"
usage test --explain

t_done
