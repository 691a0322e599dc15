#!/bin/sh
# install-deps.sh — install the Debian 12 packages recoveryd needs, only
# those missing. "build": compiler and libraries; "test": also redis-server,
# clang (fuzz targets) and promtool's package is not needed here.
# Fast (a few pkg-config/dpkg calls) when everything is there.
set -e
want=build
[ "$1" = test ] && want=test

pkgs="gcc make pkg-config libevent-dev libhiredis-dev libyaml-dev libjansson-dev libcurl4-openssl-dev"
[ "$want" = test ] && pkgs="$pkgs redis-server redis-tools python3"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: missing Debian packages:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: run as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
