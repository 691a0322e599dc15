#!/bin/sh
# test_pools.sh — assignment pools (README, "Working a case") through three
# real
# daemons on one Redis: round_robin takes turns across the cases whoever
# owns the stream, also after the owner is killed (the cursor is committed
# with the cases it assigned); least_open gives a new case to the member
# with the fewest open cases, counting resolutions and reassignments made
# with recoveryctl.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start
CONF=$T_DIR/recoveryd.yaml
t_config "$CONF" <<'RULES'
ha: {lease: 1s}
rules:
  - name: low
    on: rating
    if: csat <= 2
    assign: {pool: [ana, ben, chen], strategy: round_robin}
    actions: [{notify: supervisors}]
  - name: detractor
    on: rating
    if: nps <= 2
    assign: {pool: [dora, erik], strategy: least_open}
    actions: [{notify: supervisors}]
RULES
C="$BUILD/recoveryctl -c $CONF"
for n in 1 2 3; do t_daemon "$CONF" "$T_DIR/d$n.log"; eval "P$n=\$T_DAEMON"; done
owner() { $R HGET "ivr:case:$($R GET "ivr:opencase:$1")" owner; }
rate() { $C push rating call_id="C$1" customer_id="$1" "$2" >/dev/null; t_wait 10 drained; }
rate K1 csat=1
rate K2 csat=1
rate K3 csat=1
check_eq "round robin: ana, ben, chen" "$(owner K1) $(owner K2) $(owner K3)" "ana ben chen"
# kill the one that owns the stream
HOLDER=$($R GET 'ivr:owner:ivr%3Aevents' | sed 's/.*://')
for p in $P1 $P2 $P3; do [ "$p" = "$HOLDER" ] && kill -9 "$p"; done
rate K4 csat=1
check "a standby took over" t_wait 10 sh -c "! redis-cli -s '$T_REDIS_SOCK' GET 'ivr:owner:ivr%3Aevents' | grep -q ':$HOLDER\$'"
rate K5 csat=1
check_eq "round robin goes on after the takeover" "$(owner K4) $(owner K5)" "ana ben"
check "the history says who assigned" sh -c "$R LRANGE ivr:case:\$($R GET ivr:opencase:K4):history 0 -1 | grep -q '\"kind\":\"assign\",\"to\":\"ana\",\"by\":\"pool round_robin\"'"

rate D1 nps=1
rate D2 nps=1
rate D3 nps=1
check_eq "least open: dora, erik, then dora on a tie" "$(owner D1) $(owner D2) $(owner D3)" "dora erik dora"
$C resolve "$($R GET ivr:opencase:D1)" --code refund >/dev/null
$C assign "$($R GET ivr:opencase:D3)" --to erik >/dev/null
rate D4 nps=1
check_eq "least open counts resolutions and reassignments" "$(owner D4)" dora
check_eq "the counts in Redis" "$($R GET ivr:owners | grep '^[0-9]* o:' | sort | tr '\n' ' ')" \
    "1 o:chen 1 o:dora 2 o:ana 2 o:ben 2 o:erik "
kill -TERM $P1 $P2 $P3 2>/dev/null
t_done
