#!/bin/sh
# test_ctl.sh — recoveryctl push and watch, and ivr-sim, against a real
# redis-server on a unix socket in a temp dir (README, "Commands"): push adds
# exactly the fields given and prints the entry ID, usage errors exit 2,
# an unreachable Redis exits 3 without showing the password; watch prints
# what a stream channel PUBLISHes (raw with --json, one line otherwise) and
# exits 0 on SIGTERM; ivr-sim writes its events and CRM hashes, and the
# real daemon, on the example rules, consumes them all and raises alerts.
#
# Run from anywhere; RECOVERYD_BUILD names the build directory (default
# build). build/ivr-sim comes from the Makefile (contrib/ivr-sim.c).
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
CTL=$BUILD/recoveryctl
SIM=$BUILD/ivr-sim
for b in "$CTL" "$BUILD/recoveryd"; do
	[ -x "$b" ] || { echo "test_ctl: $b not found (run make first)"; exit 1; }
done
t_setup
t_redis_start

# The example configuration, pointed at the private Redis, without HTTP.
CONF=$T_DIR/recoveryd.yaml
cp -R rules/rules.d "$T_DIR/rules.d"
sed -e "s|url: \"redis://127.0.0.1:6379/0\"|url: \"unix://$T_REDIS_SOCK\"|" \
    -e 's|listen: "127.0.0.1:9464"|listen: ""|' rules/recoveryd.yaml >"$CONF"
check "config points at the private redis" grep -q "unix://$T_REDIS_SOCK" "$CONF"
valid() { "$BUILD/recoveryd" -t -c "$CONF" >/dev/null; }
check "config is valid" valid
C="$CTL -c $CONF"

# A configuration whose Redis is not there (port 1 refuses), with a
# password that must never be printed.
DOWN=$T_DIR/down.yaml
sed -e 's|url: "redis://127.0.0.1:6379/0"|url: "redis://:s3cr3t@127.0.0.1:1/0"|' \
    -e 's|listen: "127.0.0.1:9464"|listen: ""|' rules/recoveryd.yaml >"$DOWN"

# --- push -------------------------------------------------------------------
ID=$($C push rating call_id=P1 customer_id=K9 csat=2 comment="a=b c" 2>"$T_DIR/err")
check "push exits 0" [ $? -eq 0 ]
is_id() { expr "$1" : '[0-9][0-9]*-[0-9][0-9]*$' >/dev/null; }
check "push prints the entry ID" is_id "$ID"
check_eq "push: exactly the fields given" \
    "$($R XRANGE ivr:events "$ID" "$ID" | tr '\n' ' ')" \
    "$ID type rating call_id P1 customer_id K9 csat 2 comment a=b c "
check_eq "push: nothing on stderr" "$(cat "$T_DIR/err")" ""

N0=$($R XLEN ivr:events)
usage push
usage push rating csat
usage push rating =2
usage push rating type=call
usage push rating csat=1 csat=2
usage push --json rating csat=1
check_eq "usage errors add nothing" "$($R XLEN ivr:events)" "$N0"

$CTL -c "$DOWN" push rating call_id=P2 customer_id=K9 csat=1 >/dev/null 2>"$T_DIR/err"
check_eq "push with Redis down exits 3" $? 3
check "push names the server" grep -q \
    '^recoveryctl: cannot reach Redis at redis://127.0.0.1:1/0: ' "$T_DIR/err"
check "push never prints the password" sh -c "! grep -q s3cr3t '$T_DIR/err'"

# --- watch ------------------------------------------------------------------
$C watch supervisorz >/dev/null 2>"$T_DIR/err"
check_eq "watch unknown channel exits 2" $? 2
check "watch suggests the channel" grep -q 'did you mean "supervisors"' "$T_DIR/err"
$C watch dialer >/dev/null 2>&1
check_eq "watch a list channel exits 2" $? 2
$CTL -c "$DOWN" watch >/dev/null 2>"$T_DIR/err"
check_eq "watch with Redis down exits 3" $? 3

subscribed() { [ "$($R PUBSUB NUMSUB ivr:alerts | tail -n 1)" = "$1" ]; }
ALERT='{"alert_id":"a1","case_id":"k9-1","rule":"low-csat","severity":"low","step":0,"customer_id":"K9","call_id":"P1","fired_at":"2026-11-23T10:00:00.000Z","message":"Low CSAT 2 from K9"}'

t_bg $C watch --json >"$T_DIR/watch.json" 2>"$T_DIR/watch.err"
WJ=$T_LAST
t_bg $C watch supervisors >"$T_DIR/watch.txt" 2>>"$T_DIR/watch.err"
WT=$T_LAST
check "watch subscribes to ivr:alerts" t_wait 5 subscribed 2
$R PUBLISH ivr:alerts "$ALERT" >/dev/null
$R PUBLISH ivr:alerts 'not json' >/dev/null
has_lines() { [ "$(wc -l <"$1")" -ge "$2" ]; }
t_wait 5 has_lines "$T_DIR/watch.json" 2
t_wait 5 has_lines "$T_DIR/watch.txt" 1
check_eq "watch --json prints the raw alert" "$(head -n 1 "$T_DIR/watch.json")" "$ALERT"
check_eq "watch prints one line per alert" "$(cat "$T_DIR/watch.txt")" \
    "2026-11-23T10:00:00.000Z  low  low-csat  customer=K9  case=k9-1  Low CSAT 2 from K9"
check "watch notes a message that is not an alert" grep -q 'not a JSON alert' "$T_DIR/watch.err"

# A dropped connection: both watchers say so and are back within a second
# or two.
$R CLIENT KILL TYPE pubsub >/dev/null
check "watch resubscribes after a dropped connection" t_wait 5 subscribed 2
check "watch notes the dropped connection" grep -q \
    'lost the connection to Redis' "$T_DIR/watch.err"
$R PUBLISH ivr:alerts "$ALERT" >/dev/null
check "watch prints alerts after reconnecting" \
    t_wait 5 has_lines "$T_DIR/watch.txt" 2
kill -TERM "$WJ" "$WT"
wait "$WJ"
check_eq "watch --json exits 0 on SIGTERM" $? 0
wait "$WT"
check_eq "watch exits 0 on SIGTERM" $? 0

# --- ivr-sim ----------------------------------------------------------------
if [ ! -x "$SIM" ]; then
	fail "ivr-sim" "$SIM not found (Makefile rule build/ivr-sim)"
	t_done
	exit
fi
$SIM -u redis://127.0.0.1:1 -n 1 -q 2>/dev/null
check_eq "ivr-sim with Redis down exits 3" $? 3
$SIM -r 0 >/dev/null 2>&1
check_eq "ivr-sim usage error exits 2" $? 2

N0=$($R XLEN ivr:events)
$SIM -u "unix://$T_REDIS_SOCK" -n 50 -r 1000 --seed 1 --customers 50 \
    --agents 10 -q
check_eq "ivr-sim exits 0" $? 0
check_eq "ivr-sim pushes 50 events" "$(($($R XLEN ivr:events) - N0))" 50
check_eq "ivr-sim writes the customer hashes" \
    "$($R EXISTS ivr:customer:K00001 ivr:customer:K00050)" 2
check "customer tiers are CRM tiers" sh -c "$R HGET ivr:customer:K00001 tier |
    grep -qxE 'bronze|silver|gold|platinum'"
$SIM -u "unix://$T_REDIS_SOCK" -n 50 -r 1000 --seed 2 --customers 50 \
    --agents 10 -q --json --no-crm
check_eq "ivr-sim --json pushes 50 more" "$(($($R XLEN ivr:events) - N0))" 100

# --- the daemon consumes what the simulator pushed -----------------------------
t_daemon "$CONF" "$T_DIR/recoveryd.log"
check "daemon drains the stream (0 pending)" t_wait 15 drained
check_eq "XPENDING shows 0 pending" "$(pending)" 0
alerts() { [ "$($R XLEN ivr:alerts)" -gt 0 ]; }
check "ivr:alerts is not empty" t_wait 5 alerts
check "alerts from simulated calls" sh -c "$R XRANGE ivr:alerts - + |
    grep -qE '^C[0-9a-z]{6}-[0-9]{7}\$'"
check_eq "no simulated event is dead-lettered" "$($R XLEN ivr:events:dead)" 0
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
check_eq "daemon exits 0 on SIGTERM" $? 0

# --- a password (REDIS_PASSWORD) ---------------------------------------------
$R CONFIG SET requirepass 'pw0rd' >/dev/null
REDIS_PASSWORD=pw0rd $C push rating call_id=P3 customer_id=K9 csat=5 >/dev/null 2>&1
check_eq "push authenticates with REDIS_PASSWORD" $? 0
$C push rating call_id=P4 customer_id=K9 csat=5 >/dev/null 2>&1
check_eq "push without the password exits 3" $? 3
REDIS_PASSWORD=wr0ng $C watch >/dev/null 2>"$T_DIR/err"
check_eq "watch with a wrong password exits 3" $? 3
check "the wrong password is not printed" sh -c "! grep -q wr0ng '$T_DIR/err'"
$SIM -u "unix://$T_REDIS_SOCK" -n 5 -q --no-crm 2>/dev/null
check_eq "ivr-sim without the password exits 3" $? 3
REDISCLI_AUTH=pw0rd $R CONFIG SET requirepass '' >/dev/null 2>&1

t_done
