#!/bin/sh
# post-rating.sh — a post-call survey result to recoveryd's HTTP intake
# (POST /v1/events) with curl, as a form.
#
#   post-rating.sh CALL_ID CUSTOMER_ID CSAT [NPS]
#
# RECOVERYD_INTAKE_URL: the intake (e.g. http://127.0.0.1:8080/v1/events,
# intake.listen of recoveryd.yaml); RECOVERYD_TOKEN: one of the tokens of
# intake.tokens_file. The token goes to curl on its standard input, not
# on its command line (which other users see in ps). --data-urlencode
# encodes every value. Prints the answer ({"accepted":1,"ids":[...]});
# exit 0 on 202, 1 otherwise (the answer says why: 400 names the field).
#
# A batch of up to 500 events is one JSON array:
#   curl -H @- -H 'Content-Type: application/json' --data-binary @events.json URL
set -u
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
	echo "usage: post-rating.sh CALL_ID CUSTOMER_ID CSAT [NPS]" >&2
	exit 2
fi
: "${RECOVERYD_INTAKE_URL:?set RECOVERYD_INTAKE_URL}"
: "${RECOVERYD_TOKEN:?set RECOVERYD_TOKEN}"
set -- "$@" ""
out=$(printf 'Authorization: Bearer %s\n' "$RECOVERYD_TOKEN" |
    curl -sS -H @- -o /dev/stdout -w '\n%{http_code}' \
    --data-urlencode type=rating --data-urlencode "call_id=$1" \
    --data-urlencode "customer_id=$2" --data-urlencode "csat=$3" \
    ${4:+--data-urlencode "nps=$4"} --data-urlencode "ts=$(date +%s)" \
    "$RECOVERYD_INTAKE_URL")
code=$(printf '%s\n' "$out" | tail -n 1)
printf '%s\n' "$out" | sed '$d'
[ "$code" = 202 ]
