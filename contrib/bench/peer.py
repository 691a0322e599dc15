#!/usr/bin/python3
"""peer.py -- the Python peer of issue 9 for "make bench" (run.sh).

A straightforward redis-py consumer of the same stream doing what recoveryd
does for the bench's 20 stateless rules: read a batch through the consumer
group (XREADGROUP COUNT 256), validate and match each rating, and for each
firing write the alert (XADD to ivr:alerts with PUBLISH for the
supervisors, LPUSH to dialer:callbacks for the dialer) and the customer's
case (the hash ivr:case:<id> with its opening event, the indexes ivr:cases and ivr:cases:open,
ivr:opencase:<customer>, opened by the first firing, its rules and events
updated by the next), then XACK the batch. One pipelined round trip reads
the open cases of the batch's customers that are not cached yet, one
pipeline writes the batch and acks it: the same trips as recoveryd's load
and commit, without its fencing, dead letters and durability checks.

    peer.py -s SOCKET [--group G] [--consumer C] [--count N] [--stream S]

Reads until the stream has nothing new for the group, then prints one line
"peer: events=N firings=F seconds=S events_per_s=R". Needs python3-redis
(Debian); nothing else outside the standard library.
"""
import argparse
import json
import sys
import time

import redis

QUEUES = ("billing", "retention", "support", "sales", "tech")


def rules():
    """The 20 rules of run.sh's stateless.yaml: per queue, csat <= 1 and
    nps >= 2k (k = 1..4), the first two to the supervisors, the others to
    the dialer."""
    out = {}
    for q in QUEUES:
        out[q] = [("%s-%d" % (q, k), k * 2,
                   "supervisors" if k <= 2 else "dialer") for k in (1, 2, 3, 4)]
    return out


def as_int(v, lo, hi):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if f != int(f) or not lo <= f <= hi:
        return None
    return int(f)


def valid(ev):
    """The checks recoveryd makes of a rating (README "Events")."""
    if ev.get("type") != "rating":
        return ev.get("type") is not None
    if not ev.get("call_id") or not ev.get("customer_id"):
        return False
    ranges = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
    if not any(k in ev for k in ranges):
        return False
    for k, (lo, hi) in ranges.items():
        if k in ev and as_int(ev[k], lo, hi) is None:
            return False
    return True


def rfc3339(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + \
        ".%03dZ" % (ms % 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-s", "--socket", required=True)
    ap.add_argument("--stream", default="ivr:events")
    ap.add_argument("--group", default="recoveryd")
    ap.add_argument("--consumer", default="peer")
    ap.add_argument("--count", type=int, default=256)
    a = ap.parse_args()

    r = redis.Redis(unix_socket_path=a.socket, decode_responses=True)
    try:
        r.xgroup_create(a.stream, a.group, id="0", mkstream=True)
    except redis.ResponseError as e:
        if "BUSYGROUP" not in str(e):
            raise
    by_queue = rules()
    cases = {}          # customer -> [case_id, rules, events] (open ones)
    events = firings = 0
    t0 = time.monotonic()
    while True:
        reply = r.xreadgroup(a.group, a.consumer, {a.stream: ">"},
                             count=a.count)
        if not reply or not reply[0][1]:
            break
        batch = reply[0][1]
        ids = [eid for eid, _ in batch]
        # what fires, and the customers whose open case is not cached
        fires = []
        for eid, ev in batch:
            if not valid(ev):
                continue
            csat, nps = as_int(ev.get("csat"), 1, 5), as_int(ev.get("nps"), 0, 10)
            for name, min_nps, chan in by_queue.get(ev.get("queue"), ()):
                if csat is not None and nps is not None and csat <= 1 and \
                        nps >= min_nps:
                    fires.append((eid, ev, name, chan))
        want = sorted({ev["customer_id"] for _, ev, _, _ in fires} - cases.keys())
        if want:
            p = r.pipeline(transaction=False)
            for c in want:
                p.get("ivr:opencase:" + c)
            for c, cid in zip(want, p.execute()):
                if cid is not None:
                    cases[c] = [cid, [], []]
        now = int(time.time() * 1000)
        p = r.pipeline(transaction=False)
        for eid, ev, name, chan in fires:
            cust = ev["customer_id"]
            case = cases.get(cust)
            if case is None:
                cid = "c-" + eid
                case = cases[cust] = [cid, [name], [eid]]
                # the case with its opening event, as recoveryd keeps it
                opening = json.dumps(ev, separators=(",", ":"))
                p.hset("ivr:case:" + cid, mapping={
                    "case_id": cid, "customer_id": cust, "state": "open",
                    "severity": "medium", "opened_at": rfc3339(now),
                    "opened_ms": now, "rules": name, "events": eid,
                    "step": 0, "steps": "", "acked_by": "",
                    "resolved_at": "", "call_id": ev.get("call_id", ""),
                    "agent_id": ev.get("agent_id", ""),
                    "queue": ev.get("queue", ""), "entry": eid,
                    "event": opening})
                p.zadd("ivr:cases", {cid: now})
                p.zadd("ivr:cases:open", {cid: now})
                p.set("ivr:opencase:" + cust, cid)
            else:
                if name not in case[1]:
                    case[1].append(name)
                if not case[2] or case[2][-1] != eid:
                    case[2].append(eid)
                    del case[2][:-32]
                p.hset("ivr:case:" + case[0], mapping={
                    "rules": ",".join(case[1]), "events": ",".join(case[2])})
            alert = {
                "alert_id": "%s-%s" % (eid, name), "case_id": case[0],
                "rule": name, "severity": "medium", "step": 0,
                "customer_id": cust, "call_id": ev.get("call_id", ""),
                "agent_id": ev.get("agent_id", ""),
                "queue": ev.get("queue", ""), "event_id": eid,
                "fired_at": rfc3339(now), "channel": chan,
                "message": "%s fired for customer %s" % (name, cust)}
            js = json.dumps(alert, separators=(",", ":"))
            if chan == "supervisors":
                p.xadd("ivr:alerts", alert, maxlen=100000, approximate=True)
                p.publish("ivr:alerts", js)
            else:
                p.lpush("dialer:callbacks", js)
            firings += 1
        p.xack(a.stream, a.group, *ids)
        p.execute()
        events += len(batch)
    secs = time.monotonic() - t0
    print("peer: events=%d firings=%d seconds=%.3f events_per_s=%.0f" %
          (events, firings, secs, events / secs if secs > 0 else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
