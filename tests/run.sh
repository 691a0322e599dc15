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
# Suites run TEST_JOBS (default 3) at a time: most of a suite's time is
# spent waiting for daemons and timers, not computing, and each has its own
# redis-server (unix socket in its own directory) and free ports. The
# longest run first. TEST_JOBS=1 runs them one by one.
#
# Usage: sh tests/run.sh [SUITE...]   (default: all)
cd "$(dirname "$0")/.." || exit 2
export RECOVERYD_BUILD="${RECOVERYD_BUILD:-build}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# --one LOGDIR SUITE: run one suite, print its line, leave "p f" in
# LOGDIR/NAME.res.
if [ "$1" = --one ]; then
	logdir=$2
	s=$3
	name=$(echo "$s" | tr '/:' '__')
	log="$logdir/$name.log"
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
	if [ "$f" -ne 0 ]; then
		{
		printf 'FAIL  %-40s %5d passed, %d failed (exit %d, %ds)\n' "$s" "$p" "$f" "$rc" "$secs"
		grep -E '^(FAIL|ERROR|==[0-9]+==|.*runtime error)' "$log" | head -n 40 | sed 's/^/      /'
		# What else the suite said (a daemon's log it printed on
		# failure...): the one record of a failure seen only in CI.
		echo "      -- the suite's last lines other than ok:"
		grep -Ev '^ok ' "$log" | tail -n 25 | sed 's/^/      | /'
		} > "$log.out"
	else
		printf 'ok    %-40s %5d passed (%ds)\n' "$s" "$p" "$secs" > "$log.out"
	fi
	cat "$log.out"
	echo "$p $f" > "$logdir/$name.res"
	exit 0
fi

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
	    suites="$suites san:tests/test_daemon.sh san:tests/test_outbox.sh san:tests/test_cases.sh san:tests/test_console_api.sh"
fi

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
# The long ones first, so that the pool ends together.
long="tests/test_faults.sh tests/test_stateful.sh tests/test_outbox.sh
san:tests/test_outbox.sh tests/test_owner.sh tests/test_takeover.sh"
ordered=""
for l in $long; do
	case " $(echo $suites) " in *" $l "*) ordered="$ordered $l" ;; esac
done
for s in $suites; do
	case " $(echo $long) " in *" $s "*) ;; *) ordered="$ordered $s" ;; esac
done
printf '%s\n' $ordered | xargs -P "${TEST_JOBS:-3}" -n 1 sh tests/run.sh --one "$logdir"
total_pass=0
total_fail=0
failed_suites=""
for s in $ordered; do
	name=$(echo "$s" | tr '/:' '__')
	if [ -f "$logdir/$name.res" ]; then
		read -r p f < "$logdir/$name.res"
	else
		p=0 f=1
		echo "FAIL  $s: no result (the runner died)"
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ "$f" -ne 0 ] && failed_suites="$failed_suites $s"
done

echo
[ -n "$failed_suites" ] && echo "failed suites:$failed_suites"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
