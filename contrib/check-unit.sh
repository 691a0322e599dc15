#!/bin/sh
# check-unit.sh — print the systemd-analyze security exposure score of
# systemd/recoveryd.service (or, with -u NAME, systemd/NAME, e.g.
# recoveryd-console.service), the way it will be installed: @SBINDIR@ and
# @SYSCONFDIR@ are substituted (as "make install" does) into a temporary
# copy, which is analysed offline (no running systemd needed).
#
# Usage: sh contrib/check-unit.sh [-v] [-m MAX] [-u NAME]
#   -v      the whole table
#   -m MAX  exit 1 when the exposure is above MAX (e.g. -m 1.1), so that a
#           change to the unit cannot quietly weaken the sandbox
cd "$(dirname "$0")/.." || exit 2
verbose=0
max=""
unit=recoveryd.service
while [ $# -gt 0 ]; do
	case "$1" in
	-v) verbose=1 ;;
	-m) [ $# -ge 2 ] || { echo "check-unit.sh: -m needs a number" >&2; exit 2; }
	    max=$2
	    shift ;;
	-u) [ $# -ge 2 ] && [ -f "systemd/$2" ] || { echo "check-unit.sh: -u needs a unit of systemd/" >&2; exit 2; }
	    unit=$2
	    shift ;;
	*) echo "usage: sh contrib/check-unit.sh [-v] [-m MAX] [-u NAME]" >&2; exit 2 ;;
	esac
	shift
done
command -v systemd-analyze >/dev/null 2>&1 || {
	echo "check-unit.sh: systemd-analyze is not installed" >&2
	exit 2
}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
sed 's|@SBINDIR@|/usr/local/sbin|g; s|@SYSCONFDIR@|/etc|g; s|@DATADIR@|/usr/local/share/recoveryd|g' \
    "systemd/$unit" >"$tmp/$unit" || exit 2
systemd-analyze security --offline=true --no-pager \
    "$tmp/$unit" >"$tmp/out" 2>&1
rc=$?
if [ "$verbose" = 1 ]; then
	cat "$tmp/out"
else
	grep -i 'overall exposure' "$tmp/out" || cat "$tmp/out"
fi
[ $rc -eq 0 ] || exit $rc
if [ -n "$max" ]; then
	score=$(sed -n 's/.*[Oo]verall exposure level[^:]*: *\([0-9.]*\).*/\1/p' "$tmp/out")
	[ -n "$score" ] || { echo "check-unit.sh: no score in the output" >&2; exit 2; }
	awk -v s="$score" -v m="$max" 'BEGIN { exit !(s + 0 <= m + 0) }' || {
		echo "check-unit.sh: exposure $score is above $max" >&2
		exit 1
	}
fi
exit 0
