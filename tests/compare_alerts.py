#!/usr/bin/env python3
"""compare_alerts.py — the alerts two stores produced for the same events.

    compare_alerts.py REPLAY.jsonl DAEMON.jsonl

REPLAY.jsonl: `recoveryctl replay --json` output (in-memory store);
DAEMON.jsonl: the alerts the daemon wrote to Redis (stream, list, outbox),
one JSON object a line. Step-0 alerts are compared as a multiset of
(rule, channel, customer_id, call_id, count, value, samples); escalation
steps are left out (replay runs them on virtual time, the daemon on the
wall clock). Syslog alerts exist only in replay and are left out. Exits 1
with the differences listed.
"""
import collections
import json
import sys


def key(a):
    v = a.get("value")
    return (a["rule"], a["channel"], a.get("customer_id", ""),
            a.get("call_id", ""), str(a.get("count", "")),
            "" if v in (None, "") else "%.2f" % float(v),
            str(a.get("samples", "")))


def load(path, skip_channels):
    out = collections.Counter()
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        a = json.loads(line)
        if int(a.get("step", 0)) != 0 or a["channel"] in skip_channels:
            continue
        out[key(a)] += 1
    return out


def main():
    skip = set(sys.argv[3].split(",")) if len(sys.argv) > 3 else set()
    want, got = load(sys.argv[1], skip), load(sys.argv[2], skip)
    missing, extra = want - got, got - want
    for k, n in sorted(missing.items()):
        print("missing x%d: %s" % (n, k))
    for k, n in sorted(extra.items()):
        print("unexpected x%d: %s" % (n, k))
    print("%d expected, %d got, %d missing, %d unexpected" % (
        sum(want.values()), sum(got.values()), sum(missing.values()),
        sum(extra.values())))
    sys.exit(1 if missing or extra else 0)


if __name__ == "__main__":
    main()
