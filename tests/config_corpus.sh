#!/bin/sh
# config_corpus.sh — the broken-configuration corpus (docs/configuration.md,
# "Files and values"): every tests/config/bad/NN-name.yaml must make
# "recoveryctl check" exit 1 and print exactly the lines of its sibling
# NN-name.expected (FILE:LINE:COL: message, paths relative to the
# repository root); every tests/config/good/*.yaml must exit 0, and when a
# good file has a .expected sibling its warnings must match it too.
#
# Run from the repository root. RECOVERYD_BUILD names the build directory
# (default: build). Regenerate an expectation only after reading the diff:
#   build/recoveryctl check tests/config/bad/NN-name.yaml > tests/config/bad/NN-name.expected
set -u
BIN=${RECOVERYD_BUILD:-build}
CTL=$BIN/recoveryctl
if [ ! -x "$CTL" ]; then
	echo "config_corpus: $CTL not found (run make first)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0

for f in tests/config/bad/*.yaml; do
	name=${f%.yaml}
	"$CTL" check "$f" >"$tmp/out" 2>&1
	rc=$?
	if [ ! -f "$name.expected" ]; then
		echo "FAIL $f (no $name.expected)"
		fail=$((fail + 1))
	elif [ "$rc" -ne 1 ]; then
		echo "FAIL $f (exit $rc, want 1)"
		diff -u "$name.expected" "$tmp/out"
		fail=$((fail + 1))
	elif ! diff -u "$name.expected" "$tmp/out" >"$tmp/diff"; then
		echo "FAIL $f"
		cat "$tmp/diff"
		fail=$((fail + 1))
	else
		echo "ok $f"
		pass=$((pass + 1))
	fi
done

for f in tests/config/good/*.yaml; do
	name=${f%.yaml}
	"$CTL" check "$f" >"$tmp/out" 2>&1
	rc=$?
	grep -v ': configuration OK' "$tmp/out" >"$tmp/warn"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $f (exit $rc, want 0)"
		cat "$tmp/out"
		fail=$((fail + 1))
	elif [ -f "$name.expected" ] &&
	    ! diff -u "$name.expected" "$tmp/warn" >"$tmp/diff"; then
		echo "FAIL $f"
		cat "$tmp/diff"
		fail=$((fail + 1))
	else
		echo "ok $f"
		pass=$((pass + 1))
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
