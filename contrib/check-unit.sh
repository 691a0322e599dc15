#!/bin/sh
# check-unit.sh — print the systemd-analyze security exposure score of
# systemd/recoveryd.service, the way it will be installed: @SBINDIR@ and
# @SYSCONFDIR@ are substituted (as "make install" does) into a temporary
# copy, which is analysed offline (no running systemd needed).
#
# Usage: sh contrib/check-unit.sh [-v]   (-v: the whole table)
cd "$(dirname "$0")/.." || exit 2
command -v systemd-analyze >/dev/null 2>&1 || {
	echo "check-unit.sh: systemd-analyze is not installed" >&2
	exit 2
}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
sed 's|@SBINDIR@|/usr/local/sbin|g; s|@SYSCONFDIR@|/etc|g' \
    systemd/recoveryd.service >"$tmp/recoveryd.service" || exit 2
systemd-analyze security --offline=true --no-pager \
    "$tmp/recoveryd.service" >"$tmp/out" 2>&1
rc=$?
if [ "$1" = "-v" ]; then
	cat "$tmp/out"
else
	grep -i 'overall exposure' "$tmp/out" || cat "$tmp/out"
fi
exit $rc
