# conf.sh — the configurations run.sh and ab.sh share, sourced by both.
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
