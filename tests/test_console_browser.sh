#!/bin/sh
# test_console_browser.sh — the console page (daemon/console/www/) in a
# real headless Chromium against the real recoveryd-console, recoveryd
# and a private redis-server (README, "Console"; issue 11). The browser is
# driven by tests/browser/console.mjs (playwright-core from the npm
# registry, pinned by tests/browser/package-lock.json to 1.61, the last
# that runs on Debian 12's Node.js 18, and installed with `npm ci` into
# $BUILD/browser/); its checks are listed there.
#
# Screenshots land in $BUILD/: console-queue.png and console-case.png at
# 1366x768, console-phone.png at 390x844. With RECOVERYD_DOCS_SHOTS=1 the
# queue and case ones are copied to docs/ for the README.
#
# If Chromium, Node.js or playwright-core cannot be had, or Chromium does
# not start, the suite fails: it never skips.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup

ROOT=$(pwd)
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
PW=$B/browser

# --- what the browser needs: Debian's chromium and nodejs/npm, then
# playwright-core (npm ci, only when the lock file changed) ---------------
if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null 2>&1 ||
    ! command -v npm >/dev/null 2>&1; then
	sh contrib/install-deps.sh test >"$T_DIR/deps.log" 2>&1 ||
	    { fail "install chromium and nodejs" "$(tail -n 5 "$T_DIR/deps.log")"; t_done; exit 1; }
fi
check "chromium is installed" test -x /usr/bin/chromium
check "node is installed" sh -c "command -v node >/dev/null"
mkdir -p "$PW"
if ! cmp -s tests/browser/package-lock.json "$PW/package-lock.json" ||
    [ ! -d "$PW/node_modules/playwright-core" ]; then
	cp tests/browser/package.json tests/browser/package-lock.json "$PW/"
	(cd "$PW" && npm ci --no-audit --no-fund --loglevel=error) \
	    >"$T_DIR/npm.log" 2>&1 ||
	    { rm -f "$PW/package-lock.json"; cat "$T_DIR/npm.log"; }
fi
if ! check "playwright-core is installed (npm ci)" \
    test -f "$PW/node_modules/playwright-core/package.json"; then
	t_done
	exit 1
fi
if ! check "recoveryd-console is built" test -x "$BUILD/recoveryd-console"; then
	t_done
	exit 1
fi

# --- Redis, recoveryd, the console ------------------------------------------
t_redis_start
PORT=$(t_free_port)
BASE="http://127.0.0.1:$PORT"
CONF=$T_DIR/recoveryd.yaml
USERS=$T_DIR/console.users
t_config "$CONF" <<RULES
console:
  listen: "127.0.0.1:$PORT"
  users_file: "$USERS"
  assets: "$ROOT/daemon/console/www"
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    severity: high
    sla: 30m
    actions: [{notify: supervisors, message: "{{customer_id}} rated {{csat}}"}]
    escalate:
      - after: 1h
        notify: log
  - name: complaint
    on: complaint
    severity: critical
    sla: 15m
    actions: [{notify: supervisors}]
RULES
C="$BUILD/recoveryctl -c $CONF"
SUP=sam
VIEWER=vera
echo "$SUP-pw" | $C user add "$SUP" --role supervisor >"$T_DIR/out" 2>&1
check "recoveryctl user add (supervisor)" grep -q "^$SUP:supervisor:" "$USERS"
echo "$VIEWER-pw" | $C user add "$VIEWER" --role viewer >>"$T_DIR/out" 2>&1
check "recoveryctl user add (viewer)" grep -q "^$VIEWER:viewer:" "$USERS"
[ "$T_FAIL" -eq 0 ] || cat "$T_DIR/out"

t_daemon "$CONF" "$T_DIR/recoveryd.log"
t_bg "$BUILD/recoveryd-console" -f -c "$CONF" 2>>"$T_DIR/console.log"
console_up() {
	python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()' "$BASE/" 2>/dev/null
}
if ! check "recoveryd-console answers" t_wait 10 console_up; then
	tail -n 20 "$T_DIR/console.log"
	t_done
	exit 1
fi

# --- the browser ----------------------------------------------------------------
PW_DIR=$PW BASE=$BASE REDIS_SOCK=$T_REDIS_SOCK SUP=$SUP VIEWER=$VIEWER \
    SHOTS=$B CODE=refund CHROMIUM=/usr/bin/chromium CTL=$BUILD/recoveryctl \
    CONF=$CONF \
    timeout 120 node tests/browser/console.mjs >"$T_DIR/browser.log" 2>&1
rc=$?
grep -E '^(ok|FAIL|#) ' "$T_DIR/browser.log"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$T_DIR/browser.log" | tail -n 1)
if [ -z "$line" ]; then
	fail "the browser run finished" "exit $rc: $(tail -n 15 "$T_DIR/browser.log")"
else
	T_PASS=$((T_PASS + ${line%% passed*}))
	f=${line#*passed, }
	T_FAIL=$((T_FAIL + ${f%% failed}))
	[ $rc -eq 0 ] || [ "${f%% failed}" -ne 0 ] ||
	    fail "the browser run exits 0" "exit $rc"
fi
for s in queue case phone; do
	check "screenshot console-$s.png" test -s "$B/console-$s.png"
done
if [ -n "${RECOVERYD_DOCS_SHOTS:-}" ] && [ "$T_FAIL" -eq 0 ]; then
	mkdir -p docs
	cp "$B/console-queue.png" docs/console-queue.png
	cp "$B/console-case.png" docs/console-case.png
	echo "# docs/console-queue.png and docs/console-case.png refreshed"
fi
if [ "$T_FAIL" -ne 0 ]; then
	echo "# console.log:"
	tail -n 20 "$T_DIR/console.log" | sed 's/^/# /'
fi
t_done
