#!/bin/sh
# test_calendar_delivery.sh — business calendars on channels (README:
# "Business calendars") through the real daemon against a real redis-server: an
# alert whose channel's calendar is closed waits, durably, in
# ivr:deferred (scored by the instant the calendar opens: checked against
# Python's own zoneinfo), survives a restart, and goes out once — with
# two daemons running — when that instant comes; channels without a
# calendar deliver at once; check reports a misspelled calendar and
# business_time without one at FILE:LINE:COL.
#
# The daemon's clock is the wall clock, so the test cannot wait for a
# real opening: the calendar is closed today and tomorrow (holidays in
# Berlin), and "the opening comes" is the score moved to the past, which
# is all the delivery looks at.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
DAYS=$(python3 -c '
import datetime, zoneinfo
z = zoneinfo.ZoneInfo("Europe/Berlin")
d = datetime.datetime.now(z).date()
print(d, d + datetime.timedelta(days=1))
opening = datetime.datetime.combine(d + datetime.timedelta(days=2),
    datetime.time(8, 0), z)
print(int(opening.timestamp() * 1000))
print(int(opening.timestamp() * 1000) + 3600000)')
TODAY=$(echo $DAYS | cut -d' ' -f1)
TOMORROW=$(echo $DAYS | cut -d' ' -f2)
OPENS=$(echo $DAYS | cut -d' ' -f3)
HOUR_IN=$(echo $DAYS | cut -d' ' -f4)
CONF=$T_DIR/recoveryd.yaml
cat > "$CONF" <<CONF
redis: {url: "unix://$T_REDIS_SOCK"}
http: {listen: ""}
defaults: {cooldown: 0}
calendars:
  support:
    tz: Europe/Berlin
    hours: ["Mon-Sun 08:00-20:00"]
    holidays: [$TODAY, $TOMORROW]
channels:
  supervisors: {type: stream, key: ivr:alerts}
  dialer: {type: list, key: dialer:callbacks, contact: true, calendar: support}
  wallboard: {type: stream, key: wallboard, calendar: support}
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: [supervisors, dialer, wallboard], message: "call {{customer_id}}"}]
  - name: complaint
    on: complaint
    actions: [{notify: supervisors}]
    escalate:
      - {after: 1h, business_time: true, calendar: support, notify: supervisors}
CONF
C="$BUILD/recoveryctl -c $CONF"
check "config is valid" "$BUILD/recoveryd" -t -c "$CONF"
t_daemon "$CONF" "$T_DIR/d.log"
$C push rating call_id=C1 customer_id=K1 csat=1 >/dev/null
check "drained" t_wait 10 drained
check_eq "a channel without a calendar delivers at once" \
    "$($R XLEN ivr:alerts)" 1
check_eq "the dialer's callback waits" "$($R LLEN dialer:callbacks)" 0
check_eq "so does the wallboard's alert" "$($R EXISTS wallboard)" 0
check_eq "both are kept in ivr:deferred" "$($R ZCARD ivr:deferred)" 2
check_eq "with their commands" "$($R HLEN ivr:deferred:alerts)" 2
ID=$($R ZRANGE ivr:deferred 0 0)
check_eq "due when the calendar opens, after two holidays (08:00 Berlin)" \
    "$($R ZSCORE ivr:deferred "$ID")" "$OPENS"
$C push complaint complaint_id=P1 customer_id=K2 text=rude >/dev/null
check "drained" t_wait 10 drained
CASE=$($R GET ivr:opencase:K2)
check_eq "a business-time step is due after an hour of open time (09:00 Berlin, after the holidays)" \
    "$($R ZSCORE ivr:escalations "$CASE|complaint|1")" "$HOUR_IN"
kill -TERM "$T_DAEMON"
wait "$T_DAEMON"
t_daemon "$CONF" "$T_DIR/d2.log"
D1=$T_DAEMON
t_bg "$BUILD/recoveryd" -f -c "$CONF" 2>>"$T_DIR/d3.log"
D2=$T_LAST
sleep 2
check_eq "still waiting after a restart" "$($R LLEN dialer:callbacks)" 0
check_eq "still kept" "$($R ZCARD ivr:deferred)" 2
# the calendar opens: the deadline is now in the past
for m in $($R ZRANGE ivr:deferred 0 -1); do
	$R ZADD ivr:deferred XX 1000 "$m" >/dev/null
done
check "goes out when the calendar opens" t_wait 5 sh -c \
    "[ \"\$($R LLEN dialer:callbacks)\" = 1 ] && [ \"\$($R XLEN wallboard)\" = 1 ]"
sleep 2
check_eq "once, with two daemons running" "$($R LLEN dialer:callbacks)" 1
check_eq "once on the stream too" "$($R XLEN wallboard)" 1
check_eq "the record is gone" "$($R ZCARD ivr:deferred) $($R HLEN ivr:deferred:alerts)" "0 0"
check "the callback is the rendered alert" sh -c \
    "$R LINDEX dialer:callbacks 0 | grep -q '\"message\":\"call K1\"'"
check "the stream entry has the alert's fields" sh -c \
    "$R XRANGE wallboard - + | grep -qx 'call K1'"
# a delivery that fails says which alert and which key
$C push rating call_id=C3 customer_id=K3 csat=1 >/dev/null
check "drained" t_wait 10 drained
$R DEL wallboard >/dev/null
$R SET wallboard "not a stream" >/dev/null
for m in $($R ZRANGE ivr:deferred 0 -1); do
	$R ZADD ivr:deferred XX 1000 "$m" >/dev/null
done
check "a failed deferred delivery is logged with its alert and key" t_wait 5 sh -c \
    "cat '$T_DIR/d2.log' '$T_DIR/d3.log' | grep -q 'deferred alert [^ ]*/low-csat/0/wallboard XADD wallboard: WRONGTYPE'"
check_eq "the other channel's callback still went out" "$($R LLEN dialer:callbacks)" 2
kill -TERM "$D1" "$D2"
wait "$D1" "$D2"

# check: a misspelled calendar, business_time without a calendar
BAD=$T_DIR/bad.yaml
cat > "$BAD" <<'BAD'
calendars:
  support: {tz: Europe/Berlin, hours: "Mon-Fri 08:00-20:00"}
channels:
  dialer: {type: list, key: d, calendar: suport}
BAD
out=$($BUILD/recoveryctl check "$BAD" 2>&1)
check_eq "check fails" "$?" 1
check "a misspelled calendar, at FILE:LINE:COL, with a suggestion" sh -c \
    "echo \"\$1\" | grep -q \"bad.yaml:4:42: undefined calendar 'suport' in channel 'dialer' (did you mean 'support'?)\"" _ "$out"
cat > "$BAD" <<'BAD'
calendars:
  support: {tz: Europe/Berlin, hours: "Mon-Fri 08:00-20:00"}
channels:
  dialer: {type: list, key: d}
rules:
  - name: r
    on: complaint
    actions: [{notify: dialer}]
    escalate:
      - {after: 1h, business_time: true, notify: dialer}
      - {after: 2h, calendar: supprt, notify: dialer}
BAD
out=$($BUILD/recoveryctl check "$BAD" 2>&1)
check_eq "check fails" "$?" 1
check "business_time needs a calendar on its step" sh -c \
    "echo \"\$1\" | grep -q \"bad.yaml:10:36: 'business_time' needs a 'calendar' on the same step\"" _ "$out"
check "a step's misspelled calendar" sh -c \
    "echo \"\$1\" | grep -q \"bad.yaml:11:31: undefined calendar 'supprt' in rule 'r' (did you mean 'support'?)\"" _ "$out"
t_done
