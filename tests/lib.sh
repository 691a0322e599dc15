# lib.sh — shared helpers for the shell test suites (sourced, not run).
#
# Each suite: . tests/lib.sh; t_setup; ...checks...; t_done
# t_setup makes a temp dir and removes it (and every process started with
# t_bg or t_redis_start) on exit. Checks print "ok NAME" or
# "FAIL NAME: why"; t_done prints "N passed, N failed" and sets the exit
# status.

BUILD=${RECOVERYD_BUILD:-build}
T_PASS=0
T_FAIL=0
T_PIDS=""

t_setup() {
	T_DIR=$(mktemp -d /tmp/recoveryd-test.XXXXXX)
	trap t_cleanup EXIT
	trap 'exit 1' INT TERM
}

t_cleanup() {
	for p in $T_PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ -n "${T_REDIS_SOCK:-}" ] && [ -S "$T_REDIS_SOCK" ]; then
		redis-cli -s "$T_REDIS_SOCK" shutdown nosave >/dev/null 2>&1
	fi
	[ -n "${T_KEEP:-}" ] || rm -rf "$T_DIR"
}

ok() { T_PASS=$((T_PASS + 1)); echo "ok $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $1: $2"; }

# check NAME CONDITION-COMMAND...: ok when the command succeeds.
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "$*"; fi
}

# exit_is NAME WANT CMD...: ok when CMD exits with status WANT; its
# output is kept in $T_DIR/out for further checks.
exit_is() {
	name=$1
	want=$2
	shift 2
	"$@" >"$T_DIR/out" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then ok "$name"; else
		fail "$name" "exit $got, want $want: $(tail -n 20 "$T_DIR/out" | head -c 1500)"; fi
}

# usage ARGS...: "$C ARGS" (recoveryctl) is a usage error: exit 2 and a
# usage line on stderr.
usage() {
	$C "$@" >"$T_DIR/out" 2>"$T_DIR/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q '^usage: recoveryctl' "$T_DIR/err"; then
		ok "usage error exits 2: $*"
	else
		fail "usage error exits 2: $*" "exit $rc: $(cat "$T_DIR/err")"
	fi
}

# check_eq NAME GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

t_done() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}

# t_bg CMD...: run in the background, remember the PID in $!.
t_bg() {
	"$@" &
	T_LAST=$!
	T_PIDS="$T_PIDS $T_LAST"
}

# t_redis_start [EXTRA ARGS]: a private redis-server on a unix socket in
# the temp dir (no TCP), with AOF on. Sets T_REDIS_SOCK and R (redis-cli).
t_redis_start() {
	T_REDIS_SOCK="$T_DIR/redis.sock"
	mkdir -p "$T_DIR/redis"
	redis-server --port 0 --unixsocket "$T_REDIS_SOCK" --unixsocketperm 700 \
	    --dir "$T_DIR/redis" --appendonly yes --appendfsync always \
	    --save "" --daemonize yes --pidfile "$T_DIR/redis/redis.pid" \
	    --logfile "$T_DIR/redis/redis.log" "$@" >/dev/null
	R="redis-cli -s $T_REDIS_SOCK"
	t_wait 5 redis_up || { echo "redis-server did not start"; cat "$T_DIR/redis/redis.log"; exit 1; }
}

redis_up() { [ "$($R ping 2>/dev/null)" = PONG ]; }

t_redis_stop() {
	$R shutdown >/dev/null 2>&1
	t_wait 5 redis_down
}

redis_down() { ! redis_up; }

# t_free_port: a TCP port of 127.0.0.1 free a moment ago.
t_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# t_wait SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
t_wait() {
	limit=$(( $1 * 10 ))
	shift
	i=0
	while [ $i -lt $limit ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# t_config FILE [RULES...]: a configuration for the private Redis: the
# channels every suite uses, short claim/delivery settings, no HTTP; the
# rules come from stdin.
t_config() {
	{
		cat <<CONF
redis: {url: "unix://$T_REDIS_SOCK"}
input: {stream: ivr:events, group: recoveryd, batch: ${T_BATCH:-256}, claim_idle: 1s, max_deliveries: 3}
http: {listen: ""}
defaults: {cooldown: 0, severity: medium}
lists:
  vip_tiers: [gold, platinum]
channels:
  supervisors: {type: stream, key: ivr:alerts}
  dialer: {type: list, key: dialer:callbacks}
  log: {type: syslog, priority: info}
CONF
		cat
	} > "$1"
}

# t_daemon CONFIG LOG: start recoveryd in the foreground (background job).
t_daemon() {
	t_bg "$BUILD/recoveryd" -f -c "$1" 2>>"$2"
	T_DAEMON=$T_LAST
}

# pending: entries of the group delivered and not acked.
pending() { $R XPENDING ivr:events recoveryd | head -n 1; }
# lag: entries of the stream the group has not read yet (tests/lag.lua).
lag() { $R EVAL "$(cat tests/lag.lua)" 1 ivr:events recoveryd; }
# drained: every entry read, and then none pending (in this order: an
# entry goes from unread to pending to acked, so a read between the two
# questions cannot pass for a drained stream).
drained() { [ "$(lag)" = 0 ] && [ "$(pending)" = 0 ]; }

# stream_field KEY FIELD: every value of FIELD in the entries of stream
# KEY, one per line, oldest first.
stream_field() {
	$R EVAL "local r = {}
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local f = e[2]
  for i = 1, #f, 2 do if f[i] == ARGV[1] then r[#r + 1] = f[i + 1] end end
end
return r" 1 "$1" "$2"
}

# stream_fields KEY INDEX: the field names of entry INDEX (0-based), one
# line, space-separated, in order.
stream_fields() {
	$R EVAL "local e = redis.call('XRANGE', KEYS[1], '-', '+')[tonumber(ARGV[1]) + 1]
local r = {}
for i = 1, #e[2], 2 do r[#r + 1] = e[2][i] end
return table.concat(r, ' ')" 1 "$1" "$2"
}

# push_events N: XADD N rating events through one redis-cli pipe; event i
# has customer K(i % 500), csat (i % 5) + 1, so 2 in 5 have csat <= 2.
push_events() {
	awk -v n="$1" -v start="${2:-0}" 'BEGIN {
		for (i = start; i < start + n; i++)
			printf "XADD ivr:events * type rating call_id C%d customer_id K%d agent_id A%d csat %d\n", i, i % 500, i % 40, (i % 5) + 1
	}' | $R >/dev/null
}

# push_jsonl FILE: XADD each line of FILE as one event in the json-field
# form, through one redis-cli pipe (the lines are JSON: no quoting needed
# beyond redis-cli's own).
push_jsonl() {
	python3 -c '
import sys
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    s = line.replace("\\", "\\\\").replace("\"", "\\\"")
    print("XADD ivr:events * json \"%s\"" % s)
' "$1" | $R >/dev/null
}

# daemon_alerts FILE: every alert the daemons delivered through Redis, as
# JSON lines: the stream channel's entries, the list channel's JSON and
# the outbox's (webhook, exec) JSON.
daemon_alerts() {
	{
		$R EVAL "local r = {}
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local o = {}
  for i = 1, #e[2], 2 do o[e[2][i]] = e[2][i + 1] end
  r[#r + 1] = cjson.encode(o)
end
return r" 1 ivr:alerts
		$R LRANGE dialer:callbacks 0 -1
		# Webhook and exec alerts are in the outbox or, once they gave up,
		# in the undelivered stream (unreachable example hosts): one
		# script reads both, so an alert moving between them is seen once.
		$R EVAL "local r = {}
for _, k in ipairs(KEYS) do
  for _, e in ipairs(redis.call('XRANGE', k, '-', '+')) do
    local f = e[2]
    for i = 1, #f, 2 do if f[i] == 'alert' then r[#r + 1] = f[i + 1] end end
  end
end
return r" 2 ivr:outbox ivr:alerts:undelivered
	} > "$1"
}
