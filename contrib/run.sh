#!/bin/sh
# run.sh — "make run": run recoveryd in the foreground on the example
# configuration rules/recoveryd.yaml, against the Redis its redis.url names.
#
# If that Redis answers PING we use it as it is. Otherwise we start a
# private redis-server bound to 127.0.0.1 on the URL's port, with its data
# (append-only), pid file and log under ./run/redis/ of the checkout, and
# stop it again when the daemon exits (Ctrl-C) — only if we started it.
# The daemon is run as a child, not exec'ed, so that the EXIT trap can do
# that.
#
# The console (recoveryd-console) runs beside it, in the background, on
# run/console.yaml: the example configuration with its include made
# absolute and a console section whose users file is run/console.users and
# whose page is daemon/console/www of the checkout. The first time, a user
# "admin" (role admin) gets a random password, kept in
# run/console-admin.txt (mode 0600) and printed with the address
# (CONSOLE_LISTEN, default 127.0.0.1:9465).
cd "$(dirname "$0")/.." || exit 1
conf=rules/recoveryd.yaml
build=${RECOVERYD_BUILD:-build}

"$build/recoveryd" -t --strict -c "$conf" || exit 1

# redis: {url: "redis://127.0.0.1:6379/0"}  ->  redis://127.0.0.1:6379/0
# (the first url: naming a redis:// or unix:// address; webhooks are https)
url=$(grep -v '^[[:space:]]*#' "$conf" |
    grep -E 'url:[[:space:]]*["'\'']?(redis|unix)://' | head -n 1 |
    sed -n 's/.*url:[[:space:]]*["'\'']\{0,1\}\([^"'\'' ,}]*\).*/\1/p')
[ -n "$url" ] || url=redis://127.0.0.1:6379/0

case "$url" in
redis://*) ;;
*)
	echo "run.sh: $conf uses redis.url $url; make run only starts a" \
	    "private Redis for redis://127.0.0.1:PORT URLs" >&2
	exit 1
	;;
esac
hostport=${url#redis://}
hostport=${hostport#*@}		# drop a password, never print it
hostport=${hostport%%/*}
host=${hostport%:*}
port=${hostport##*:}
[ "$port" = "$hostport" ] && port=6379
db=${url#redis://}
case "$db" in */?*) db=${db##*/} ;; *) db=0 ;; esac

# ivr-sim's default is redis://127.0.0.1:6379/0; say -u only when needed.
sim="$build/ivr-sim"
[ "$host:$port/$db" = "127.0.0.1:6379/0" ] ||
    sim="$sim -u redis://$host:$port/$db"

ping() {
	redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG
}

started=""
rdir=$(pwd)/run/redis
console=""
cleanup() {
	if [ -n "$console" ]; then
		kill "$console" 2>/dev/null
		wait "$console" 2>/dev/null
	fi
	if [ -n "$started" ] && [ -f "$rdir/redis.pid" ]; then
		echo "run.sh: stopping the private redis-server" \
		    "(pid $(cat "$rdir/redis.pid"))"
		redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 ||
		    kill "$(cat "$rdir/redis.pid")" 2>/dev/null
	fi
}
trap cleanup EXIT
# Ctrl-C reaches recoveryd too (same process group): the shell only notes
# it, waits for the daemon to finish, and cleans up.
interrupted=""
trap 'interrupted=yes' INT TERM

if ping; then
	echo "run.sh: using the Redis already running at $host:$port"
else
	case "$host" in
	127.0.0.1|localhost) ;;
	*)
		echo "run.sh: Redis at $host:$port does not answer, and" \
		    "make run only starts one on 127.0.0.1" >&2
		exit 1
		;;
	esac
	command -v redis-server >/dev/null 2>&1 || {
		echo "run.sh: redis-server is not installed" \
		    "(apt-get install redis-server)" >&2
		exit 1
	}
	mkdir -p "$rdir" || exit 1
	echo "run.sh: starting a private redis-server on 127.0.0.1:$port" \
	    "(data, log and pid in $rdir)"
	redis-server --bind 127.0.0.1 --port "$port" --dir "$rdir" \
	    --appendonly yes --daemonize yes \
	    --pidfile "$rdir/redis.pid" --logfile "$rdir/redis.log" ||
	    exit 1
	started=yes
	i=0
	until ping; do
		[ -n "$interrupted" ] && exit 130
		i=$((i + 1))
		if [ $i -ge 50 ]; then
			echo "run.sh: redis-server did not answer within 5 s;" \
			    "see $rdir/redis.log" >&2
			exit 1
		fi
		sleep 0.1
	done
fi

# The console: its configuration, its first user, the process.
top=$(pwd)
ccf=run/console.yaml
mkdir -p run || exit 1
listen=${CONSOLE_LISTEN:-127.0.0.1:9465}
sed "s|^include: \[\"rules.d/|include: [\"$top/rules/rules.d/|" "$conf" >"$ccf" &&
    printf 'console: {listen: "%s", users_file: "%s", assets: "%s"}\n' \
    "$listen" "$top/run/console.users" "$top/daemon/console/www" >>"$ccf" ||
    exit 1
if ! grep -q '^admin:' run/console.users 2>/dev/null; then
	pw=$(od -An -N15 -tx1 /dev/urandom | tr -d ' \n')
	(umask 077 && printf '%s\n' "$pw" >run/console-admin.txt) || exit 1
	printf '%s\n' "$pw" | "$build/recoveryctl" -c "$ccf" user add admin \
	    --role admin || exit 1
fi
"$build/recoveryd-console" -f -c "$ccf" 2>>run/console.log &
console=$!
sleep 0.3
if ! kill -0 "$console" 2>/dev/null; then
	console=""
	echo "run.sh: the console did not start: $(tail -n 1 run/console.log)" >&2
fi

cat <<MSG

The console: http://$listen/  user admin, password
$(cat run/console-admin.txt)  (kept in run/console-admin.txt; more users:
$build/recoveryctl -c $ccf user add NAME --role supervisor; its log is
run/console.log)

Push an event, watch the alerts, or simulate a whole call center (in
another terminal):

    $build/recoveryctl -c $conf push rating call_id=C1 customer_id=K9 csat=1
    $build/recoveryctl -c $conf watch
    $sim --loop -r 5        (simulate a call center, closed loop)
    $build/recoveryctl -c $conf report

With --loop the simulator also plays the dialer (it answers the callbacks
in dialer:callbacks with contact events), the supervisor (it acknowledges
and resolves the cases) and the customers (who rate again): within a few
minutes report shows contacts, resolutions and a recovery rate. Leave
--loop out to keep the callbacks for a dialer of your own.

The example's webhook (hooks.example.com) is a placeholder: its
deliveries fail, are retried, and end up in the ivr:alerts:undelivered
stream until you point it somewhere real. Its pager runs logger(1) (the
pages are in syslog, tag recoveryd-page) until you name your paging tool;
the configuration is checked with --strict, so a typo stops it here.

Starting recoveryd in the foreground; Ctrl-C stops it.

MSG

"$build/recoveryd" -f -c "$conf"
rc=$?
# 130 / 143: stopped by Ctrl-C or SIGTERM, which is how it is meant to end.
case $rc in 130|143) rc=0 ;; esac
exit $rc
