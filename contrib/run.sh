#!/bin/sh
# run.sh — "make run": check the example rules, then run recoveryd in the
# foreground on rules/recoveryd.yaml.
cd "$(dirname "$0")/.." || exit 1
conf=rules/recoveryd.yaml
build/recoveryd -t -c "$conf" || exit 1
cat <<MSG

The rules in $conf are valid.
This build has the rule engine and its offline tools; the Redis consumer
(the daemon proper) is not part of it yet. Meanwhile, see what the example
rules would have done with a day of events:

    build/recoveryctl replay --rules $conf contrib/samples/events.jsonl
MSG
