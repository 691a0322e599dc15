# conf.sh — what run.sh, ab.sh and ir.sh share, sourced by each: the
# bench configurations, and ab.sh's and ir.sh's private Redis.
# head_conf: the top of a bench configuration on the Redis at $SOCK (no
# HTTP, no cooldowns; a stream and a list channel), up to "rules:".
head_conf() {
	cat <<CONF
redis: {url: "unix://$SOCK"}
input: {stream: ivr:events, group: recoveryd, batch: 256}
http: {listen: ""}
defaults: {cooldown: 0, severity: medium}
channels:
  supervisors: {type: stream, key: ivr:alerts}
  dialer: {type: list, key: dialer:callbacks}
rules:
CONF
}
# stateless_conf: head_conf and 20 stateless rules, 4 per queue; about
# one event in four fires one (bench_drain's events).
stateless_conf() {
	head_conf
	for q in billing retention support sales tech; do
		for k in 1 2 3 4; do
			printf '  - name: %s-%s\n    on: rating\n    if: queue == %s and csat <= 1 and nps >= %d\n    actions: [{notify: %s}]\n' \
			    "$q" "$k" "'$q'" $((k * 2)) "$([ $k -le 2 ] && echo supervisors || echo dialer)"
		done
	done
}
# ab_setup NAME: for ab.sh and ir.sh, a private redis-server in a new
# directory D (stopped and removed at exit), SOCK, R (its redis-cli),
# rpid, and the configuration conf on it: AB_RULES "example"
# (rules/recoveryd.yaml and rules.d, the default) or "stateless".
ab_setup() {
	D=$(mktemp -d "/tmp/recoveryd-$1.XXXXXX") || exit 1
	SOCK=$D/redis.sock
	R="redis-cli -s $SOCK"
	trap '$R shutdown nosave >/dev/null 2>&1; rm -rf "$D"' EXIT
	redis-server --port 0 --unixsocket "$SOCK" --save '' --appendonly no \
	    --dir "$D" --daemonize yes --pidfile "$D/redis.pid" >/dev/null ||
	    exit 1
	i=0
	while { [ ! -S "$SOCK" ] || [ ! -s "$D/redis.pid" ]; } &&
	    [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	rpid=$(cat "$D/redis.pid")
	mkdir -p "$D/rules.d"
	sed -e "s|^redis:.*|redis: {url: \"unix://$SOCK\"}|" \
	    -e 's|^http:.*|http: {listen: ""}|' rules/recoveryd.yaml \
	    >"$D/example.yaml"
	cp rules/rules.d/*.yaml "$D/rules.d/"
	stateless_conf >"$D/stateless.yaml"
	conf=$D/${AB_RULES:-example}.yaml
	[ -f "$conf" ] ||
	    { echo "$1.sh: AB_RULES is example or stateless" >&2; exit 2; }
}
# vg_setup NAME EVENTS: for ir.sh and heap.sh, valgrind and bench_drain
# checked (bd), then ab_setup NAME and a stream of EVENTS preloaded
# (AB_LOWCSAT=1: bench_drain's low-CSAT events, as in ab.sh).
vg_setup() {
	command -v valgrind >/dev/null 2>&1 || {
		echo "$1.sh: valgrind is missing (apt-get install valgrind)" >&2
		exit 1
	}
	bd=${BENCH_TOOLS:-build/bench}/bench_drain
	[ -x "$bd" ] ||
	    { echo "$1.sh: $bd is missing (make bench builds it)" >&2; exit 1; }
	ab_setup "$1"
	"$bd" load -s "$SOCK" -n "$2" ${AB_LOWCSAT:+--low-csat} >/dev/null ||
	    exit 1
}
# ab_reset: everything but the stream and the CRM hashes gone, and the
# group, so that the next drain starts as the first did.
ab_reset() {
	$R --scan | grep -v '^ivr:events$' | grep -v '^ivr:customer:' |
	    sed 's/^/UNLINK /' | $R >/dev/null
	$R XGROUP DESTROY ivr:events recoveryd >/dev/null 2>&1
}
