#!/bin/sh
# run.sh — run every test suite and add up their results.
#
# A suite is a unit-test binary ($RECOVERYD_BUILD/tests/test_*, default
# build/tests, and the same under
# ASan+UBSan in build/san/tests/) or a shell test (tests/*.sh, tests/*/*.sh
# named test_*.sh or *_test.sh... see the list below). Each prints a last
# line "N passed, N failed". A suite that exits non-zero without reporting
# a failure (a crash, a sanitizer report) counts one more failure.
#
# Usage: sh tests/run.sh [SUITE...]   (default: all)
cd "$(dirname "$0")/.." || exit 2
export RECOVERYD_BUILD="${RECOVERYD_BUILD:-build}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

if [ $# -gt 0 ]; then
	suites="$*"
else
	suites=$(ls "$RECOVERYD_BUILD"/tests/test_* 2>/dev/null | grep -v '\.d$')
	[ "$RECOVERYD_BUILD" != build/san ] &&
	    suites="$suites $(ls build/san/tests/test_* 2>/dev/null | grep -v '\.d$')"
	suites="$suites $(ls tests/*.sh 2>/dev/null | grep -Ev 'tests/(run|lib)\.sh')"
	# The daemon under ASan+UBSan too: a leak or a sanitizer report makes
	# it exit non-zero, which these suites check.
	[ -x build/san/recoveryd ] &&
	    suites="$suites san:tests/test_daemon.sh san:tests/test_outbox.sh san:tests/test_cases.sh"
fi

total_pass=0
total_fail=0
failed_suites=""
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

for s in $suites; do
	log="$logdir/$(echo "$s" | tr '/:' '__').log"
	start=$(date +%s)
	case "$s" in
	san:*) RECOVERYD_BUILD=build/san sh "${s#san:}" >"$log" 2>&1 ;;
	*.sh) sh "$s" >"$log" 2>&1 ;;
	*) "$s" >"$log" 2>&1 ;;
	esac
	rc=$?
	secs=$(( $(date +%s) - start ))
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	[ -n "$p" ] || p=0
	[ -n "$f" ] || f=0
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [ "$f" -ne 0 ]; then
		printf 'FAIL  %-40s %5d passed, %d failed (exit %d, %ds)\n' "$s" "$p" "$f" "$rc" "$secs"
		grep -E '^(FAIL|ERROR|==[0-9]+==|.*runtime error)' "$log" | head -n 40 | sed 's/^/      /'
		[ -n "$line" ] || tail -n 20 "$log" | sed 's/^/      /'
		failed_suites="$failed_suites $s"
	else
		printf 'ok    %-40s %5d passed (%ds)\n' "$s" "$p" "$secs"
	fi
done

echo
[ -n "$failed_suites" ] && echo "failed suites:$failed_suites"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
