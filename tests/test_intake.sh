#!/bin/sh
# test_intake.sh — the HTTP intake (intake.h): POST /v1/events with JSON
# (one event, an array of up to intake.max_events) and form bodies; every
# status code (202, 400 with the reason per event and nothing written,
# 401, 404, 405, 413 for the body and the batch, 415, 503 while Redis is
# down and while it hangs past intake.request_timeout, nothing
# half-written either way); the configuration's checks; tokens re-read on SIGHUP and never
# logged; keep-alive; the accepted events read by the consumer as valid;
# the intake's metrics.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
t_setup
t_redis_start

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
PORT=$(free_port)
MPORT=$(free_port)
CONF=$T_DIR/recoveryd.yaml
LOG=$T_DIR/daemon.log
TOK=$T_DIR/tokens
printf '# producers\nalpha-token-1\n\n  beta-token-2  \n' > "$TOK"
t_config "$CONF" <<RULES
rules:
  - name: low-csat
    on: rating
    if: csat <= 2
    actions: [{notify: supervisors, message: "low {{csat}}"}]
RULES
sed -i "s|^http: .*|http: {listen: \"127.0.0.1:$MPORT\"}\nintake: {listen: \"127.0.0.1:$PORT\", tokens_file: \"$TOK\", max_body: 65536, max_connections: 16, request_timeout: 2s}|" "$CONF"
check "config with intake is valid" "$BUILD/recoveryd" -t -c "$CONF"

# The configuration's checks: bounds, and no listener without tokens.
BADC=$T_DIR/bad.yaml
sed "s|tokens_file: \"$TOK\", ||" "$CONF" > "$BADC"
exit_is "intake.listen without tokens_file: -t fails" 1 "$BUILD/recoveryd" -t -c "$BADC"
check "and says why at FILE:LINE:COL" grep -q "bad.yaml:[0-9]*:[0-9]*: intake.listen is set but intake.tokens_file is not" "$T_DIR/out"
sed "s|max_connections: 16|max_events: 501, max_connections: 16|" "$CONF" > "$BADC"
exit_is "intake.max_events 501: -t fails" 1 "$BUILD/recoveryd" -t -c "$BADC"
check "naming the bound" grep -q "'max_events' in 'intake' must be between 1 and 500, found 501" "$T_DIR/out"
sed "s|max_body: 65536|max_body: 100|" "$CONF" > "$BADC"
exit_is "intake.max_body under 1 KiB: -t fails" 1 "$BUILD/recoveryd" -t -c "$BADC"
sed "s|tokens_file: \"$TOK\"|tokens_file: \"$T_DIR/none\"|" "$CONF" > "$BADC"
exit_is "an unreadable tokens file stops the daemon at start" 1 "$BUILD/recoveryd" -f -c "$BADC"
check "with the reason" grep -q "intake.tokens_file $T_DIR/none: No such file" "$T_DIR/out"

t_daemon "$CONF" "$LOG"
up() { python3 tests/intake_post.py "$PORT" - - - GET / 2>/dev/null | head -n 1 | grep -q 404; }
check "intake listens" t_wait 10 up

B=$T_DIR/body
# post NAME WANT-CODE TOKEN CTYPE [METHOD PATH]: body from $B; the
# answer in $T_DIR/ans.
post() {
	name=$1 want=$2 tok=$3 ct=$4
	shift 4
	python3 tests/intake_post.py "$PORT" "$tok" "$ct" "$B" "$@" >"$T_DIR/ans"
	got=$(head -n 1 "$T_DIR/ans")
	if [ "$got" = "$want" ]; then ok "$name"; else
		fail "$name" "status $got, want $want: $(tail -n +2 "$T_DIR/ans" | head -c 600)"; fi
}
J=application/json
F=application/x-www-form-urlencoded
A=alpha-token-1
len() { $R XLEN ivr:events; }

# --- 202: one JSON event, then a form -----------------------------------
printf '{"type":"rating","call_id":"C1","customer_id":"K1","csat":1,"customer":{"tier":"gold"},"comment":"0.10"}' > "$B"
post "one JSON event: 202" 202 "$A" "$J"
id=$(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().split("\n",1)[1]); print(d["ids"][0] if d["accepted"]==1 else "")' "$T_DIR/ans")
check_eq "the answer's ID is the entry's" "$($R XRANGE ivr:events - + COUNT 1 | head -n 1)" "$id"
check_eq "the event is in the stream byte for byte (field json)" \
    "$($R --raw XRANGE ivr:events "$id" "$id" | sed -n 3p)" "$(cat "$B")"
printf 'type=rating&call_id=C2&customer_id=K+2&csat=5&comment=%%C3%%A9t%%C3%%A9+%%26+more&queue=' > "$B"
post "form event: 202" 202 beta-token-2 "$F; charset=utf-8"
fid=$(tail -n 1 "$T_DIR/ans" | sed 's/.*"ids":\["\([^"]*\)".*/\1/')
check_eq "form fields decoded as flat fields" \
    "$($R --raw XRANGE ivr:events "$fid" "$fid" | tr '\n' '|')" \
    "$fid|type|rating|call_id|C2|customer_id|K 2|csat|5|comment|été & more|queue||"
check "a known type has no warnings" sh -c "! grep -q warnings '$T_DIR/ans'"
printf '[{"type":"rating","call_id":"C6","customer_id":"K6","csat":2},{"type":"ratings","call_id":"C7","customer_id":"K7"}]' > "$B"
post "an unknown type is taken: 202" 202 "$A" "$J"
check "with a warning for that event, as push gives it" python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read().split("\n", 1)[1])
assert d["accepted"] == 2, d
assert d["warnings"] == [{"index": 1, "warning": "unknown event type '"'"'ratings'"'"' (did you mean '"'"'rating'"'"'?); it is taken with no checks beyond its type"}], d
' "$T_DIR/ans"

# --- 400: the reason per event, nothing of the request written ----------
n0=$(len)
printf '[{"type":"rating","call_id":"C3","customer_id":"K3","csat":4},{"type":"rating","call_id":"C4","customer_id":"K4","csat":7},"x",{"type":"call","call_id":"C5"}]' > "$B"
post "a batch with invalid events: 400" 400 "$A" "$J"
check "400 names each invalid event with its reason" python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read().split("\n", 1)[1])
ev = {e["index"]: e for e in d["events"]}
assert sorted(ev) == [1, 2, 3], ev
assert ev[1]["reason"] == "out_of_range" and "csat=7 out of range 1..5" in ev[1]["error"], ev[1]
assert ev[2]["reason"] == "json", ev[2]
assert ev[3]["reason"] == "missing_field" and "customer_id" in ev[3]["error"], ev[3]
' "$T_DIR/ans"
check_eq "nothing of a 400 request is written" "$(len)" "$n0"
printf 'type=rating&call_id=C6&customer_id=K6&nps=11' > "$B"
post "an invalid form event: 400" 400 "$A" "$F"
check "form 400 says why" grep -q 'nps=11 out of range 0..10' "$T_DIR/ans"
printf 'type=rating&call_id=C6&call_id=C7' > "$B"
post "a form field given twice: 400" 400 "$A" "$F"
printf 'type=rating&call_id=%%ZZ' > "$B"
post "a bad %-escape: 400" 400 "$A" "$F"
printf 'type=x&a=%%00b' > "$B"
post "a NUL in a form value: 400 (nul)" 400 "$A" "$F"
check "reason nul" grep -q '"reason":"nul"' "$T_DIR/ans"
printf '[{"type":"rating",' > "$B"
post "a body that is not JSON: 400" 400 "$A" "$J"
printf '[]' > "$B"
post "an empty array: 400" 400 "$A" "$J"
check_eq "still nothing written" "$(len)" "$n0"

# --- 401, 404, 405, 415 --------------------------------------------------
printf '{"type":"x"}' > "$B"
post "no token: 401" 401 - "$J"
post "an unknown token: 401" 401 alpha-token-1x "$J"
post "a prefix of a token: 401" 401 alpha-token- "$J"
post "a comment line is no token: 401" 401 "# producers" "$J"
post "another path: 404" 404 "$A" "$J" POST /v1/event
post "GET: 405" 405 "$A" "$J" GET
post "PUT: 405" 405 "$A" "$J" PUT
post "text/plain: 415" 415 "$A" text/plain
post "no content type: 415" 415 "$A" -
check_eq "nothing written by refused requests" "$(len)" "$n0"

# --- 413: the batch and the body ----------------------------------------
python3 -c 'import json; print(json.dumps([{"type":"rating","call_id":"B%d"%i,"customer_id":"K%d"%(i%7),"csat":5} for i in range(500)], separators=(",",":")))' > "$T_DIR/b500"
python3 -c 'import json; print(json.dumps([{"type":"call","call_id":"B%d"%i,"customer_id":"K1"} for i in range(501)], separators=(",",":")))' > "$T_DIR/b501"
sed -i 's|max_body: 65536|max_body: 1048576|' "$CONF"
# max_body is read at start: restart with 1 MiB for the batch of 500
kill "$T_DAEMON"; wait "$T_DAEMON" 2>/dev/null
t_daemon "$CONF" "$LOG"
check "intake up again" t_wait 10 up
cp "$T_DIR/b500" "$B"
post "a batch of 500: 202" 202 "$A" "$J"
check_eq "all 500 in the stream" "$(len)" "$((n0 + 500))"
check "500 IDs in the answer, in order" python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read().split("\n", 1)[1])
assert d["accepted"] == 500 and len(d["ids"]) == 500, d
ids = [tuple(map(int, i.split("-"))) for i in d["ids"]]
assert ids == sorted(ids) and len(set(ids)) == 500
' "$T_DIR/ans"
n1=$(len)
cp "$T_DIR/b501" "$B"
post "a batch of 501: 413" 413 "$A" "$J"
check "413 names the limit" grep -q 'intake.max_events' "$T_DIR/ans"
# A client that waits for the answer to its headers (as with "Expect:
# 100-continue") learns of the limit before sending the body.
check "a body over intake.max_body: 413" python3 - "$PORT" "$A" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
    "Content-Type: application/json\r\nContent-Length: 1048577\r\n"
    "Expect: 100-continue\r\n\r\n" % sys.argv[2]).encode())
line = s.recv(4096).split(b"\r\n", 1)[0]
assert b" 413 " in line, line
PY
check_eq "nothing of a 413 written" "$(len)" "$n1"

# --- keep-alive ----------------------------------------------------------
check "20 requests on one kept-alive connection" python3 - "$PORT" "$A" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
sock = None
for i in range(20):
    body = '{"type":"call","call_id":"KA%d","customer_id":"K9"}' % i
    c.request("POST", "/v1/events", body=body, headers={
        "Authorization": "Bearer " + sys.argv[2], "Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    assert r.status == 202, r.status
    if sock is None:
        sock = c.sock
    assert c.sock is sock, "reconnected"
PY

# --- tokens: re-read on SIGHUP, never logged ----------------------------
printf 'gamma-token-3\n' > "$TOK"
kill -HUP "$T_DAEMON"
reloaded() { grep -q 'reload: intake: 1 tokens' "$LOG"; }
check "SIGHUP re-reads the tokens" t_wait 5 reloaded
printf '{"type":"call","call_id":"T1","customer_id":"K1"}' > "$B"
post "a new token works after SIGHUP" 202 gamma-token-3 "$J"
post "a removed token is refused after SIGHUP" 401 "$A" "$J"
mv "$TOK" "$TOK.away"
kill -HUP "$T_DAEMON"
kept() { grep -q "keeping the intake's tokens in use" "$LOG"; }
check "a missing tokens file on SIGHUP keeps the tokens in use" t_wait 5 kept
post "the kept token still works" 202 gamma-token-3 "$J"
mv "$TOK.away" "$TOK"
check "no token is ever logged" sh -c "! grep -q -e alpha-token -e beta-token -e gamma-token '$LOG'"

# --- the consumer reads what the intake accepted as valid ---------------
consumed() { [ "$(lag)" = 0 ] && [ "$(pending)" = 0 ]; }
check "the consumer has read every accepted event" t_wait 15 consumed
check_eq "no accepted event was dead-lettered" "$($R XLEN ivr:events:dead)" 0
check "the JSON event's low CSAT alerted" sh -c "$R --raw XRANGE ivr:alerts - + | grep -q 'low 1'"

# --- 503 while Redis is down; nothing half-written ----------------------
n2=$(len)
t_redis_stop
cp "$T_DIR/b500" "$B"
post "a batch while Redis is stopped: 503" 503 gamma-token-3 "$J"
check "503 carries Retry-After" python3 - "$PORT" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("POST", "/v1/events", body='{"type":"x"}', headers={
    "Authorization": "Bearer gamma-token-3", "Content-Type": "application/json"})
r = c.getresponse()
assert r.status == 503 and r.getheader("Retry-After") == "1", (r.status, r.getheaders())
PY
t_redis_start
check_eq "nothing half-written while Redis was down" "$(len)" "$n2"
again() { python3 tests/intake_post.py "$PORT" gamma-token-3 "$J" "$T_DIR/b500" | head -n 1 | grep -q 202; }
check "accepting again once Redis is back" t_wait 15 again
check_eq "the batch is whole after Redis came back" "$(len)" "$((n2 + 500))"

# --- 503 when Redis does not answer within intake.request_timeout ------
n3=$(len)
$R CLIENT PAUSE 5000 WRITE >/dev/null
cp "$T_DIR/b500" "$B"
start=$(date +%s)
post "a batch while Redis hangs: 503 after the timeout" 503 gamma-token-3 "$J"
took=$(( $(date +%s) - start ))
check "answered within about request_timeout (2s), not held ($took s)" test "$took" -le 4
check "the 503 says Redis did not answer" grep -q 'connection to Redis was lost' "$T_DIR/ans"
$R CLIENT UNPAUSE >/dev/null
sleep 0.5
check_eq "nothing of the timed-out batch was written" "$(len)" "$n3"
check "accepting again after the hang" t_wait 10 again

# --- metrics -------------------------------------------------------------
printf '{"type":"rating"}' > "$B"
post "one more invalid event: 400" 400 gamma-token-3 "$J"
curl_metrics() { python3 -c 'import urllib.request,sys; print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode())' "$MPORT"; }
curl_metrics > "$T_DIR/metrics"
check "metrics: 202s counted" grep -Eq '^recoveryd_intake_requests_total\{code="202"\} [1-9]' "$T_DIR/metrics"
check "metrics: 503s counted" grep -Eq '^recoveryd_intake_requests_total\{code="503"\} [1-9]' "$T_DIR/metrics"
check "metrics: 401s counted" grep -Eq '^recoveryd_intake_requests_total\{code="401"\} 1$' "$T_DIR/metrics"
check "metrics: events accepted" grep -Eq '^recoveryd_intake_events_total 1[0-9]{3}$' "$T_DIR/metrics"
check "metrics: invalid events" grep -Eq '^recoveryd_intake_invalid_total [1-9]' "$T_DIR/metrics"

kill "$T_DAEMON"
wait "$T_DAEMON"
check_eq "daemon exits 0" "$?" 0
t_done
