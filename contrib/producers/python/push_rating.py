#!/usr/bin/python3
"""push_rating.py -- a post-call survey result into recoveryd's input
stream with redis-py (Debian: python3-redis).

    push_rating.py [--url URL] [--stream KEY] CALL_ID CUSTOMER_ID CSAT [NPS]

URL defaults to $REDIS_URL, else redis://127.0.0.1:6379/0 (also
unix:///path/to/redis.sock?db=0). The event goes in as one field "json"
holding the object, so numbers stay numbers; flat fields
(xadd(stream, {"type": "rating", ...})) work the same. Prints the entry
ID. Exit 0 on success, 1 if Redis refused, 2 on a usage error.

The event is checked before it is sent as recoveryd will check it
(docs/events.schema.json): a CSAT outside 1..5 would only end in the
dead-letter stream.
"""
import argparse
import json
import os
import sys
import time

import redis


def main():
    p = argparse.ArgumentParser(description="push a rating event")
    p.add_argument("--url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    p.add_argument("--stream", default="ivr:events")
    p.add_argument("call_id")
    p.add_argument("customer_id")
    p.add_argument("csat", type=int)
    p.add_argument("nps", type=int, nargs="?")
    a = p.parse_args()
    if not 1 <= a.csat <= 5 or (a.nps is not None and not 0 <= a.nps <= 10):
        p.error("csat is 1..5, nps 0..10")
    event = {"type": "rating", "call_id": a.call_id,
             "customer_id": a.customer_id, "csat": a.csat, "ts": time.time()}
    if a.nps is not None:
        event["nps"] = a.nps
    try:
        r = redis.Redis.from_url(a.url)
        entry_id = r.xadd(a.stream, {"json": json.dumps(event)})
    except redis.RedisError as e:
        print("push_rating: %s" % e, file=sys.stderr)
        return 1
    print(entry_id.decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
