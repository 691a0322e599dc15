#!/usr/bin/env python3
"""gen-sample-events.py — write a deterministic, realistic day of contact
center events as JSON lines (one event a line, with "ts"), for
`recoveryctl replay` and the benchmarks.

    python3 contrib/gen-sample-events.py [-n 1200] [--seed 7] [--start EPOCH] > events.jsonl

The mix: most calls end well; a few customers are unhappy (low CSAT, NPS
detractors, repeat callers, complaints); some are gold/platinum VIPs
(their tier is carried inline as customer.tier, as enrichment would add it).
"""
import argparse
import json
import random

QUEUES = ["billing", "support", "sales", "retention", "tech"]
LANGS = ["en", "es", "fr", "de"]
CATEGORIES = ["billing", "rudeness", "wait_time", "product", "repeat_issue"]
COMMENTS = ["", "", "", "thanks", "agent was great", "took too long",
            "nobody fixed my problem", "third time calling about this",
            "très déçu", "el agente fue amable", "\"worst\" service ever"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start", type=int, default=1763884800)  # 2025-11-23T08:00Z
    args = ap.parse_args()
    rnd = random.Random(args.seed)

    agents = ["A%03d" % i for i in range(1, 41)]
    slumping = set(agents[:3])              # agents having a bad day
    customers = ["K%05d" % i for i in range(1, 401)]
    tiers = {c: rnd.choices(["bronze", "silver", "gold", "platinum"],
                            [60, 25, 10, 5])[0] for c in customers}
    unhappy = set(rnd.sample(customers, 25))

    ts = float(args.start)
    call_no = 0
    complaint_no = 0
    out = []
    while len(out) < args.n:
        ts += rnd.expovariate(1 / 40.0)      # ~ one event every 40 s
        cust = rnd.choice(customers)
        if cust in unhappy and rnd.random() < 0.5:
            cust = rnd.choice(sorted(unhappy))
        agent = rnd.choice(agents)
        queue = rnd.choice(QUEUES)
        call_no += 1
        call_id = "C%06d" % call_no
        sad = cust in unhappy or agent in slumping
        wait = round(rnd.expovariate(1 / (240.0 if sad else 60.0)), 1)
        abandoned = rnd.random() < (0.25 if sad else 0.05)
        call = {"type": "call", "ts": round(ts, 3), "call_id": call_id,
                "customer_id": cust, "agent_id": agent, "queue": queue,
                "wait_s": wait, "talk_s": 0 if abandoned else rnd.randint(60, 900),
                "hold_s": 0 if abandoned else rnd.randint(0, 120),
                "transfers": 0 if abandoned else rnd.choice([0, 0, 0, 1, 2]),
                "abandoned": abandoned,
                "disposition": "abandoned" if abandoned else rnd.choice(
                    ["resolved", "resolved", "follow_up", "escalated"])}
        out.append(call)
        if abandoned:
            continue
        # Post-call IVR survey: about 60 % answer.
        if rnd.random() < 0.6:
            ts += rnd.uniform(5, 90)
            r = {"type": "rating", "ts": round(ts, 3), "call_id": call_id,
                 "customer_id": cust, "agent_id": agent, "queue": queue,
                 "language": rnd.choice(LANGS)}
            if sad:
                r["csat"] = rnd.choice([1, 1, 2, 2, 3, 4])
                r["nps"] = rnd.choice([0, 2, 3, 5, 6, 7, 8])
                r["ces"] = rnd.choice([4, 5, 6, 7])
                r["resolved"] = rnd.choice([False, False, True])
            else:
                r["csat"] = rnd.choice([3, 4, 4, 5, 5, 5])
                r["nps"] = rnd.choice([7, 8, 9, 9, 10, 10])
                r["ces"] = rnd.choice([1, 2, 2, 3])
                r["resolved"] = rnd.random() < 0.9
            # Not every survey asks every question.
            for k in ("nps", "ces"):
                if rnd.random() < 0.3:
                    del r[k]
            c = rnd.choice(COMMENTS)
            if c:
                r["comment"] = c
            if tiers[cust] in ("gold", "platinum") or rnd.random() < 0.3:
                r["customer"] = {"tier": tiers[cust]}
            out.append(r)
        if sad and rnd.random() < 0.2:
            ts += rnd.uniform(60, 600)
            complaint_no += 1
            out.append({"type": "complaint", "ts": round(ts, 3),
                        "complaint_id": "P%05d" % complaint_no,
                        "customer_id": cust, "call_id": call_id,
                        "category": rnd.choice(CATEGORIES),
                        "severity": rnd.choice(["low", "medium", "high",
                                                "high", "critical"]),
                        "text": "Customer complaint about call %s" % call_id})
    for e in out[:args.n]:
        print(json.dumps(e, ensure_ascii=False, separators=(",", ":")))


if __name__ == "__main__":
    main()
