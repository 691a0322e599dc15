#!/bin/sh
# test_contract.sh — the published input contract: docs/events.schema.json
# gives every event of tests/events/cases.jsonl the verdict of its line
# (the validator gives them too: tests/unit/test_contract.c), and the
# producer examples of contrib/producers (Python with redis-py, shell
# with redis-cli, curl to the HTTP intake) deliver events that the daemon
# takes as valid.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
PY=/usr/bin/python3

if $PY -c 'import jsonschema' 2>/dev/null; then
	$PY tests/check_schema.py docs/events.schema.json tests/events/cases.jsonl >"$T_DIR/schema.out" 2>&1
	check "the schema agrees with every line of the table" test $? = 0
	grep '^FAIL' "$T_DIR/schema.out"
	check "the table has both verdicts" sh -c "grep -q '\"verdict\": \"valid\"' tests/events/cases.jsonl && grep -q '\"verdict\": \"invalid\"' tests/events/cases.jsonl"
else
	fail "schema check" "python3-jsonschema is missing (make test-deps)"
fi

t_redis_start
PORT=$($PY -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
CONF=$T_DIR/recoveryd.yaml
echo "producer-token" > "$T_DIR/tokens"
t_config "$CONF" <<'RULES'
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors, message: "low {{csat}} {{customer_id}} {{call_id}}"}]
RULES
printf 'intake: {listen: "127.0.0.1:%s", tokens_file: "%s"}\n' "$PORT" "$T_DIR/tokens" >> "$CONF"
t_daemon "$CONF" "$T_DIR/daemon.log"
up() { $PY -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$PORT" 2>/dev/null; }
check "daemon and intake up" t_wait 10 up

if $PY -c 'import redis' 2>/dev/null; then
	exit_is "python producer (redis-py)" 0 $PY contrib/producers/python/push_rating.py \
	    --url "unix://$T_REDIS_SOCK?db=0" PY-1 "K-py" 1 3
	check "it printed the entry ID" grep -Eq '^[0-9]+-[0-9]+$' "$T_DIR/out"
	exit_is "python producer refuses csat 9" 2 $PY contrib/producers/python/push_rating.py \
	    --url "unix://$T_REDIS_SOCK?db=0" PY-2 K-py 9
else
	fail "python producer" "python3-redis is missing (make test-deps)"
fi
exit_is "shell producer (redis-cli)" 0 env REDIS_CLI="redis-cli -s $T_REDIS_SOCK" \
    sh contrib/producers/shell/push-rating.sh SH-1 "K sh; \$(x) 'q'" 2 7
check "it printed the entry ID" grep -Eq '^[0-9]+-[0-9]+$' "$T_DIR/out"
exit_is "shell producer: Redis refusing is exit 1" 1 env REDIS_CLI="redis-cli -s $T_DIR/nowhere.sock" \
    sh contrib/producers/shell/push-rating.sh SH-2 K 2
exit_is "curl producer (HTTP intake)" 0 env RECOVERYD_INTAKE_URL="http://127.0.0.1:$PORT/v1/events" \
    RECOVERYD_TOKEN=producer-token sh contrib/producers/curl/post-rating.sh CU-1 "K&cu=1" 1
check "the intake accepted it" grep -q '"accepted":1' "$T_DIR/out"
exit_is "curl producer: a wrong token is exit 1" 1 env RECOVERYD_INTAKE_URL="http://127.0.0.1:$PORT/v1/events" \
    RECOVERYD_TOKEN=wrong sh contrib/producers/curl/post-rating.sh CU-2 K 1
check "the asterisk snippet posts to /v1/events with a Bearer token" sh -c \
    "grep -q 'CURL(\${RECOVERYD_URL},' contrib/producers/asterisk/extensions.conf && grep -q 'Authorization: Bearer' contrib/producers/asterisk/extensions.conf"

consumed() { [ "$(lag)" = 0 ] && [ "$(pending)" = 0 ]; }
check "the daemon read every produced event" t_wait 10 consumed
check_eq "none was dead-lettered" "$($R XLEN ivr:events:dead)" 0
alerts() { $R --raw XRANGE ivr:alerts - +; }
three() { [ "$(alerts | grep -c '^low-csat$')" = 3 ]; }
check "each producer's low rating alerted" t_wait 10 three
alerts > "$T_DIR/alerts"
check "python's event, typed JSON" grep -q 'low 1 K-py PY-1' "$T_DIR/alerts"
check "shell's event, a hostile ID kept whole" grep -qF "low 2 K sh; \$(x) 'q' SH-1" "$T_DIR/alerts"
check "curl's event, the form decoded" grep -qF 'low 1 K&cu=1 CU-1' "$T_DIR/alerts"
kill "$T_DAEMON"; wait "$T_DAEMON" 2>/dev/null
t_done
