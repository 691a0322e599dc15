#!/bin/sh
# install-deps.sh — install the Debian 12 packages recoveryd needs, only
# those missing. "build": compiler, libraries (libcrypt-dev: console
# passwords) and tzdata; "test": also redis-server, python3 with jsonschema
# and redis (the event schema, the producer examples), curl, mandoc (man
# pages linted by tests/test_docs.sh), lintian and dpkg-dev
# (tests/test_deb.sh), chromium and nodejs/npm (the console's browser
# test); "bench" (make bench): redis-server and python3-redis (the Python
# peer, contrib/bench/peer.py); "deb" (make deb): dpkg-dev
# (dpkg-shlibdeps). Fast (a few pkg-config/dpkg calls) when everything is
# there.
set -e
want=build
[ "$1" = test ] && want=test
[ "$1" = bench ] && want=bench
[ "$1" = deb ] && want=deb

# tzdata: the time zones of business calendars (/usr/share/zoneinfo)
pkgs="gcc make pkg-config libevent-dev libhiredis-dev libyaml-dev libjansson-dev libcurl4-openssl-dev libcrypt-dev tzdata"
# python3-jsonschema: the event schema checked against the validator
# (tests/test_contract.sh); python3-redis, curl: the producer examples;
# mandoc, lintian, dpkg-dev: the man pages and the package (test_docs.sh,
# test_deb.sh); chromium: the console's browser test
[ "$want" = test ] && pkgs="$pkgs redis-server redis-tools python3 python3-jsonschema python3-redis curl mandoc lintian dpkg-dev chromium"
[ "$want" = deb ] && pkgs="$pkgs dpkg-dev"
[ "$want" = bench ] && pkgs="$pkgs redis-server redis-tools python3 python3-redis"

missing=""
# The console's browser test (tests/test_console_browser.sh) drives
# Chromium from Node.js; a node and npm already on the PATH (another
# vendor's nodejs package) are used as they are.
if [ "$want" = test ] && { ! command -v node >/dev/null 2>&1 ||
    ! command -v npm >/dev/null 2>&1; }; then
	missing=" nodejs npm"
fi

for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: missing Debian packages:$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: run as root, or: sudo apt-get install$missing" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
fi

# promtool (for "promtool check metrics" in the tests) without installing
# the prometheus package and its service: its .deb is downloaded and only
# the one binary is unpacked into build/tools/. Best effort: the metrics
# test says so and skips that check if it is not there.
if [ "$want" = test ] && ! command -v promtool >/dev/null 2>&1 &&
    [ ! -x build/tools/promtool ]; then
	tmp=$(mktemp -d)
	if (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1) &&
	    dpkg -x "$tmp"/prometheus_*.deb "$tmp/x" 2>/dev/null; then
		mkdir -p build/tools
		cp "$tmp/x/usr/bin/promtool" build/tools/promtool
		echo "install-deps: promtool unpacked into build/tools/"
	else
		echo "install-deps: could not fetch promtool (prometheus package); its check will be skipped"
	fi
	rm -rf "$tmp"
fi
