#!/bin/sh
# test_push.sh — recoveryctl push validates as the daemon does: an
# invalid event exits 1 with the reason and writes nothing (also with
# Redis down), --dry-run prints the verdict and writes nothing, an
# unknown type is taken with a warning and a suggestion (as the daemon
# takes it); RECOVERYD_CONFIG and the checkout default stand for -c;
# --help and --version on every binary.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
t_config "$CONF" <<'RULES'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors}]
RULES
C="$BUILD/recoveryctl -c $CONF"
len() { $R XLEN ivr:events; }

exit_is "push of a valid event exits 0" 0 $C push rating call_id=C1 customer_id=K1 csat=2
check "it prints the entry ID" grep -Eq '^[0-9]+-[0-9]+$' "$T_DIR/out"
check_eq "it is in the stream" "$(len)" 1

exit_is "push csat=7 exits 1" 1 $C push rating call_id=C1 customer_id=K1 csat=7
check "with the reason" grep -q 'invalid event (out_of_range): rating: csat=7 out of range 1..5; nothing written' "$T_DIR/out"
exit_is "push without customer_id exits 1" 1 $C push rating call_id=C1 csat=3
check "naming the field" grep -q "missing field 'customer_id'" "$T_DIR/out"
exit_is "push of a far-future ts exits 1" 1 $C push call call_id=C1 customer_id=K1 ts=9999999999
check "ts_skew" grep -q 'ts_skew' "$T_DIR/out"
exit_is "push of a bad bool exits 1" 1 $C push call call_id=C1 customer_id=K1 abandoned=maybe
exit_is "push of invalid UTF-8 exits 1" 1 $C push rating call_id=C1 customer_id="$(printf 'K\377')" csat=1
check_eq "nothing invalid was written" "$(len)" 1

exit_is "push --dry-run of a valid event exits 0" 0 $C push --dry-run rating call_id=C2 customer_id=K2 nps=9 ts=$(date +%s)
check "verdict valid on stdout" grep -q '^valid: rating event, 5 fields' "$T_DIR/out"
exit_is "push --dry-run of an invalid event exits 1" 1 $C push --dry-run complaint complaint_id=P1 customer_id=K1 severity=urgent
check "verdict invalid with reason" grep -q "^invalid (bad_value\|^invalid (out_of_range" "$T_DIR/out"
check_eq "--dry-run writes nothing" "$(len)" 1

$C push ratings call_id=C3 customer_id=K3 csat=1 >"$T_DIR/o" 2>"$T_DIR/e"
check_eq "an unknown type is taken (exit 0), as the daemon takes it" "$?" 0
check "with a warning and a suggestion" grep -q "warning: unknown event type 'ratings' (did you mean 'rating'?)" "$T_DIR/e"
check_eq "the unknown type was written" "$(len)" 2
$C push --dry-run survey_result call_id=C3 >"$T_DIR/o" 2>"$T_DIR/e"
check_eq "a type far from any known one: valid" "$?" 0
check "its warning lists the known types" grep -q "not one of the known event types (rating, call, complaint, contact)" "$T_DIR/e"

# The daemon agrees: the valid ones are processed, none dead-lettered.
t_daemon "$CONF" "$T_DIR/daemon.log"
consumed() { [ "$(lag)" = 0 ] && [ "$(pending)" = 0 ]; }
check "the daemon read both" t_wait 10 consumed
check_eq "none was dead-lettered" "$($R XLEN ivr:events:dead)" 0
kill "$T_DAEMON"; wait "$T_DAEMON" 2>/dev/null

# An invalid event exits 1 before connecting: Redis down changes nothing.
BAD=$T_DIR/bad.yaml
sed 's|^redis: .*|redis: {url: "redis://127.0.0.1:1/0"}|' "$CONF" > "$BAD"
exit_is "invalid with Redis down: still 1, not 3" 1 "$BUILD/recoveryctl" -c "$BAD" push rating call_id=C1 customer_id=K1 csat=9
exit_is "valid with Redis down: 3" 3 "$BUILD/recoveryctl" -c "$BAD" push rating call_id=C1 customer_id=K1 csat=1
exit_is "--dry-run needs no Redis" 0 "$BUILD/recoveryctl" -c "$BAD" push --dry-run rating call_id=C1 customer_id=K1 csat=1

# RECOVERYD_CONFIG stands for -c, for recoveryctl and recoveryd.
exit_is "RECOVERYD_CONFIG as -c (recoveryctl)" 0 env RECOVERYD_CONFIG="$CONF" "$BUILD/recoveryctl" push call call_id=E1 customer_id=K1
check_eq "written through RECOVERYD_CONFIG" "$(len)" 3
exit_is "RECOVERYD_CONFIG as -c (recoveryd -t)" 0 env RECOVERYD_CONFIG="$CONF" "$BUILD/recoveryd" -t
check "recoveryd -t checked that file" grep -q "$CONF: configuration OK" "$T_DIR/out"
exit_is "-c wins over RECOVERYD_CONFIG" 3 env RECOVERYD_CONFIG="$CONF" "$BUILD/recoveryctl" -c "$BAD" push call call_id=E2 customer_id=K1
# In a checkout (./rules/recoveryd.yaml) with nothing installed, that is
# the default.
if [ ! -e /etc/recoveryd/recoveryd.yaml ]; then
	mkdir -p "$T_DIR/co/rules"
	cp "$CONF" "$T_DIR/co/rules/recoveryd.yaml"
	ABS=$(pwd)/$BUILD
	(cd "$T_DIR/co" && env -u RECOVERYD_CONFIG "$ABS/recoveryctl" push call call_id=E3 customer_id=K1) >/dev/null 2>&1
	check_eq "in a checkout, ./rules/recoveryd.yaml is the default" "$(len)" 4
	(cd "$T_DIR/co" && env -u RECOVERYD_CONFIG "$ABS/recoveryd" -t) >"$T_DIR/out" 2>&1
	check "recoveryd -t in a checkout checks rules/recoveryd.yaml" grep -q "^rules/recoveryd.yaml: configuration OK" "$T_DIR/out"
fi

# --help and --version on every binary: exit 0, on stdout, one version.
v=$(cat VERSION)
for b in recoveryd recoveryctl ivr-sim recoveryd-console; do
	"$BUILD/$b" --help >"$T_DIR/o" 2>"$T_DIR/e"
	check_eq "$b --help exits 0" "$?" 0
	check "$b --help prints usage on stdout" grep -q "^usage: $b" "$T_DIR/o"
	check "$b --help is silent on stderr" test ! -s "$T_DIR/e"
	check_eq "$b --version" "$("$BUILD/$b" --version)" "$b $v"
	check_eq "$b -V" "$("$BUILD/$b" -V)" "$b $v"
done
check "recoveryctl -h lists dead, undelivered and push --dry-run" sh -c \
    "$BUILD/recoveryctl -h | grep -q 'dead retry' && $BUILD/recoveryctl -h | grep -q 'undelivered retry' && $BUILD/recoveryctl -h | grep -q 'push \[--dry-run\]'"
check "recoveryctl push --help" sh -c "$C push --help | grep -q 'push \[--dry-run\] TYPE'"
t_done
