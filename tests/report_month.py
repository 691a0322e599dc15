#!/usr/bin/env python3
"""report_month.py — a generated month of the closed loop through the real
daemon, and recoveryctl report checked against an independent count
(tests/test_report_month.sh starts Redis and the daemon).

Thirty days, ten customers a day rating at 08:00 (low CSAT opens a case
with a 4h SLA, a detractor NPS a critical one with 1h, the rest nothing),
then for each case, drawn from a fixed seed: contact attempts (no answer,
then reached), an acknowledgement, a resolution with a code, and the
customer's next rating some days later (good: recovered; middling: not
recovered; bad within cases.reopen_within: the case reopens and is
resolved again; bad after it: not recovered and a new case; none: unknown
once cases.outcome_within has passed). Every process the test drives
(the daemon, recoveryctl) runs under tests/clockshim.so, whose offset
this script sets to each planned moment in turn, so the month passes in
about a minute. The expected figures are computed here from the plan and
the rules of the closed loop (the README, "Working a case"), not from
Redis.

argv: redis socket, clock file, clockshim.so, recoveryctl, configuration.
Prints "ok NAME" or "FAIL NAME: why" a check.
"""
import json
import math
import os
import random
import socket
import subprocess
import sys
import time

SOCK, CLOCK, SHIM, CTL, CONF = sys.argv[1:6]
DAY, HOUR = 86400, 3600
# The month starts at the first midnight (UTC) two days or more ahead of
# the real clock, so that nothing the daemon writes for it expires early.
START = (int(time.time()) // DAY + 2) * DAY
END = START + 29 * DAY + 20 * HOUR      # the report is read then
REOPEN_WITHIN, OUTCOME_WITHIN = 3 * DAY, 5 * DAY
CODES = ["refund", "credit", "callback-done", "no-answer"]
SLA = {"low-csat": 4 * HOUR, "detractor": 1 * HOUR}
TOLERANCE = 60      # seconds a planned time may drift in the real run

failures = 0


def ok(name):
    print("ok " + name, flush=True)


def fail(name, why):
    global failures
    failures += 1
    print("FAIL %s: %s" % (name, why), flush=True)


# --- a minimal RESP client ---------------------------------------------------

class Redis:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def send(self, *cmds):
        out = []
        for c in cmds:
            out.append(b"*%d\r\n" % len(c))
            for a in c:
                a = a if isinstance(a, bytes) else str(a).encode()
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return [self.read() for _ in cmds]

    def cmd(self, *args):
        return self.send(args)[0]

    def read(self):
        line = self.f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            v = self.f.read(n + 2)[:-2]
            return v.decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)


r = Redis(SOCK)

LAG = open(os.path.join(os.path.dirname(__file__), "lag.lua")).read()


def drained(limit=20):
    t = time.monotonic() + limit
    while time.monotonic() < t:
        if r.cmd("EVAL", LAG, 1, "ivr:events", "recoveryd") == 0 and \
                r.cmd("XPENDING", "ivr:events", "recoveryd")[0] == 0:
            return True
        time.sleep(0.005)
    return False


def set_clock(t):
    """The shimmed processes' wall clock reads t (epoch seconds) now."""
    off = int(round(t * 1000 - time.time() * 1000))
    with open(CLOCK + ".new", "w") as f:
        f.write("%d\n" % off)
    os.rename(CLOCK + ".new", CLOCK)


ENV = dict(os.environ, LD_PRELOAD=SHIM, CLOCKSHIM_FILE=CLOCK)


def ctl(*args):
    p = subprocess.run([CTL, "-c", CONF] + list(args), env=ENV,
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


# --- the plan ------------------------------------------------------------------

rng = random.Random(20261101)
moments = {}        # time -> [("event", fields) | ("ack"|"resolve", ...)]
cases = []          # the expected cases, each a dict


def at(t, action):
    if t <= END:
        moments.setdefault(t, []).append(action)


def rating(t, cid, queue, call, **scores):
    e = {"type": "rating", "call_id": call, "customer_id": cid,
         "queue": queue, "ts": str(t)}
    e.update({k: str(v) for k, v in scores.items()})
    at(t, ("event", e))


def new_case(opened, cid, queue, rule, before):
    c = {"cid": cid, "queue": queue, "rules": {rule}, "opened": opened,
         "due": opened + SLA[rule], "before": before, "acked": None,
         "contact": None, "resolved": None, "code": None, "outcomes": [],
         "after": [], "state": "open"}
    cases.append(c)
    return c


calls = 0
for d in range(30):
    day = START + d * DAY
    h = lambda hours: day + int(hours * HOUR)
    for j in range(10):
        cid, queue = "K%02d%d" % (d, j), "q%d" % (j % 3)
        calls += 1
        kind = rng.random()
        if kind < 0.45:
            sc, rule = {"csat": rng.choice([1, 2])}, "low-csat"
        elif kind < 0.60:
            sc, rule = {"nps": rng.choice([0, 1, 2, 3])}, "detractor"
        else:
            rating(h(8), cid, queue, "C%d" % calls, csat=rng.choice([3, 4, 5]))
            continue
        rating(h(8), cid, queue, "C%d" % calls, **sc)
        c = new_case(h(8), cid, queue, rule, sc)
        res_h = rng.choice([3, 6, 9]) if rng.random() < 0.8 else None
        follow = rng.random()
        reopening = res_h is not None and 0.60 <= follow < 0.75
        # an acknowledgement before the resolution (none on a case that
        # will reopen: its SLA starts again there)
        if rng.random() < 0.7 and not reopening:
            a = rng.choice([0.5, 2, 6])
            if res_h is None or a < res_h:
                at(h(8 + a), ("ack", c, "ana"))
                c["acked"] = h(8 + a)
        if rng.random() < 0.6:
            if rng.random() < 0.5:
                at(h(9), ("event", {"type": "contact", "customer_id": cid,
                                    "result": "no_answer", "ts": str(h(9))}))
            ch = rng.choice([2, 3, 6])
            if res_h is None or ch <= res_h:
                at(h(8 + ch), ("event", {"type": "contact",
                                         "customer_id": cid,
                                         "result": "reached",
                                         "ts": str(h(8 + ch))}))
                c["contact"] = h(8 + ch)
        if res_h is None:
            continue
        code = rng.choice(CODES)
        t_res = h(8 + res_h)
        at(t_res, ("resolve", c, code))
        c.update(resolved=t_res, code=code, state="resolved")
        good = {"nps": 9} if rule == "detractor" else {"csat": 5}
        meh = {"nps": 5} if rule == "detractor" else {"csat": 3}
        if follow < 0.60:           # recovered, or not (a middling one)
            after, outcome = ((good, "recovered") if follow < 0.35 else
                              (meh, "not_recovered"))
            t = day + rng.choice([1, 2, 3, 4]) * DAY + 12 * HOUR
            if t <= END:
                rating(t, cid, queue, "F%d" % calls, **after)
                c["outcomes"].append(outcome)
                c["after"].append(after)
                continue
        elif follow < 0.75:         # bad again within reopen_within
            k = rng.choice([1, 2])
            t = day + k * DAY + 12 * HOUR
            t2 = day + (k + 1) * DAY + 11 * HOUR
            if t2 <= END:
                rating(t, cid, queue, "F%d" % calls, csat=1)
                c["outcomes"].append("not_recovered")
                c["after"].append({"csat": 1})
                c["rules"].add("low-csat")
                code2 = rng.choice(CODES)
                at(t2, ("resolve", c, code2))
                c.update(resolved=t2, code=code2)
                if t2 + OUTCOME_WITHIN <= END:
                    c["outcomes"].append("unknown")
                continue
        elif follow < 0.85:         # bad again after reopen_within
            t = day + 4 * DAY + 12 * HOUR
            if t <= END:
                rating(t, cid, queue, "F%d" % calls, csat=2)
                c["outcomes"].append("not_recovered")
                c["after"].append({"csat": 2})
                new_case(t, cid, queue, "low-csat", {"csat": 2})
                continue
        # no rating at all
        if t_res + OUTCOME_WITHIN <= END:
            c["outcomes"].append("unknown")

# --- the run -------------------------------------------------------------------

steps = 0
for t in sorted(moments):
    set_clock(t)
    acts = moments[t]
    evs = [a[1] for a in acts if a[0] == "event"]
    if evs:
        args = []
        for i, e in enumerate(evs):
            # the entry's time is the moment too (ts is checked against it)
            cmd = ["XADD", "ivr:events", "%d-%d" % (t * 1000, i + 1)]
            for k, v in e.items():
                cmd += [k, v]
            args.append(cmd)
        r.send(*args)
        if not drained():
            fail("the events of %d drained" % t, "still pending")
            sys.exit(1)
    for a in acts:
        if a[0] == "event":
            continue
        c = a[1]
        cid = r.cmd("GET", "ivr:opencase:" + c["cid"])
        if cid is None:
            fail("a case for %s at %d" % (c["cid"], t), "none")
            continue
        if a[0] == "ack":
            rc, out, err = ctl("ack", cid, "--by", a[2])
        else:
            rc, out, err = ctl("resolve", cid, "--code", a[2], "--by", "ben")
        if rc != 0:
            fail("%s %s at %d" % (a[0], cid, t), err.strip())
        steps += 1
print("# %d moments, %d cases, %d commands over 30 days from %s" %
      (len(moments), len(cases), steps,
       time.strftime("%Y-%m-%d", time.gmtime(START))), flush=True)

# --- the independent count -------------------------------------------------------


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    k = math.ceil(p / 100 * len(v))
    return v[max(k, 1) - 1]


def avg(ratings, key):
    v = [x[key] for x in ratings if key in x]
    return sum(v) / len(v) if v else None


def expect(members):
    e = {"opened": len(members), "acknowledged": 0, "with_sla": len(members),
         "acknowledged_within_sla": 0, "resolved": 0,
         "resolution_codes": {}, "outcomes": {"recovered": 0,
                                             "not_recovered": 0,
                                             "unknown": 0}}
    ack, contact, resolve, before, after = [], [], [], [], []
    for c in members:
        if c["acked"] is not None:
            e["acknowledged"] += 1
            ack.append(c["acked"] - c["opened"])
            if c["acked"] <= c["due"]:
                e["acknowledged_within_sla"] += 1
        if c["contact"] is not None:
            contact.append(c["contact"] - c["opened"])
        if c["state"] == "resolved":
            e["resolved"] += 1
            resolve.append(c["resolved"] - c["opened"])
        if c["code"] is not None:
            e["resolution_codes"][c["code"]] = \
                e["resolution_codes"].get(c["code"], 0) + 1
        for o in c["outcomes"]:
            e["outcomes"][o] += 1
        before.append(c["before"])
        after += c["after"]
    rec, nrec = e["outcomes"]["recovered"], e["outcomes"]["not_recovered"]
    e["recovery_rate"] = rec / (rec + nrec) if rec + nrec else None
    for name, v in (("ack", ack), ("first_contact", contact),
                    ("resolve", resolve)):
        e["time_to_%s_p50_s" % name] = pct(v, 50)
        e["time_to_%s_p90_s" % name] = pct(v, 90)
    e["csat_before"], e["nps_before"] = avg(before, "csat"), avg(before, "nps")
    e["csat_after"], e["nps_after"] = avg(after, "csat"), avg(after, "nps")
    return e


def close(g, w, tol):
    if g is None or w is None:
        return g is None and w is None
    return abs(g - w) <= tol


def compare(what, got, want):
    bad = []
    for k, w in want.items():
        g = got.get(k)
        if k.startswith("time_to_"):
            same = close(g, w, TOLERANCE)
        elif k == "recovery_rate" or k[:5] in ("csat_", "nps_b", "nps_a"):
            same = close(g, w, 1e-9)
        else:
            same = g == w
        if not same:
            bad.append("%s %s, want %s" % (k, g, w))
    if bad:
        fail(what, "; ".join(bad))
    else:
        ok(what)


def report(*args):
    rc, out, err = ctl("report", "--json", *args)
    if rc != 0:
        fail("report %s" % " ".join(args), err.strip())
        return None
    return json.loads(out)


set_clock(END)
want_total = expect(cases)
# the last unknown outcomes come with the daemon's next timer tick
deadline = time.monotonic() + 20
while True:
    got = report("--since", "31d")
    if got is None or got["total"]["outcomes"] == want_total["outcomes"] or \
            time.monotonic() > deadline:
        break
    time.sleep(0.2)
if got is None:
    sys.exit(1)
o = want_total["outcomes"]
print("# expected: %d cases, %d resolved, outcomes %s" %
      (len(cases), want_total["resolved"], o), flush=True)
if min(o.values()) < 5 or sum(1 for c in cases if len(c["rules"]) > 1) < 2:
    fail("the plan covers every outcome and reopened cases", o)
compare("report --since 31d: all cases", got["total"], want_total)
for rule in ("low-csat", "detractor"):
    compare("report --since 31d: rule %s" % rule,
            got["groups"].get(rule, {}),
            expect([c for c in cases if rule in c["rules"]]))
if sorted(got["groups"]) != ["detractor", "low-csat"]:
    fail("report: the groups are the two rules", sorted(got["groups"]))
got = report("--since", "31d", "--by", "queue")
if got is not None:
    for q in ("q0", "q1", "q2"):
        compare("report --by queue: %s" % q, got["groups"].get(q, {}),
                expect([c for c in cases if c["queue"] == q]))
got = report("--since", "7d")
if got is not None:
    week = [c for c in cases if c["opened"] >= END - 7 * DAY]
    compare("report --since 7d: the last week's %d cases" % len(week),
            got["total"], expect(week))
sys.exit(1 if failures else 0)
