#!/bin/sh
# push-rating.sh — a post-call survey result into recoveryd's input
# stream with redis-cli (Debian: redis-tools), as flat fields.
#
#   push-rating.sh CALL_ID CUSTOMER_ID CSAT [NPS]
#
# REDIS_CLI: the redis-cli command with its connection options (default
# "redis-cli", i.e. 127.0.0.1:6379; e.g. "redis-cli -h redis.example -a
# PASSWORD" or "redis-cli -s /run/redis/redis.sock"); RECOVERYD_STREAM:
# the input stream (default ivr:events). Each value is one argument of
# XADD: no quoting issues, whatever the customer ID holds. Prints the
# entry ID; exit 1 when Redis did not answer with one.
set -u
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
	echo "usage: push-rating.sh CALL_ID CUSTOMER_ID CSAT [NPS]" >&2
	exit 2
fi
case $3 in 1|2|3|4|5) ;; *) echo "push-rating.sh: CSAT is 1..5" >&2; exit 2 ;; esac
set -- "$@" ""
nps=$4
id=$(${REDIS_CLI:-redis-cli} XADD "${RECOVERYD_STREAM:-ivr:events}" '*' \
    type rating call_id "$1" customer_id "$2" csat "$3" \
    ${nps:+nps "$nps"} ts "$(date +%s)" 2>&1)
rc=$?
case $rc:$id in
0:[0-9]*-[0-9]*) echo "$id" ;;
*) echo "push-rating.sh: XADD failed: $id" >&2; exit 1 ;;
esac
