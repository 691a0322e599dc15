"""console.py — the console's figures for make bench (contrib/bench/console.sh).

  ttfb PORT USER PASSWORD N       time to first byte of GET /api/cases (the
                                  queue page's request: open cases by
                                  severity, 50 a page), N requests: min,
                                  median, p90, max in ms
  hold PORT USER PASSWORD PAGES   PAGES streams open, read, until killed
  fanout PORT USER PASSWORD PAGES PUSH...
                                  PAGES streams (GET /api/stream) open at
                                  once; PUSH (a command line) adds one
                                  event; the time until every page has its
                                  "event: cases": median, max, how many
                                  within 1 s
Only the standard library.
"""
import http.client
import json
import select
import socket
import subprocess
import sys
import time


def login(port, user, pw):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/api/login", json.dumps({"user": user,
                                                "password": pw}))
    r = c.getresponse()
    r.read()
    return r.getheader("set-cookie").split(";")[0]


def ttfb(port, cookie, n):
    out = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        t = time.perf_counter()
        s.sendall(("GET /api/cases HTTP/1.0\r\nCookie: %s\r\n\r\n" %
                   cookie).encode())
        s.recv(1)
        out.append((time.perf_counter() - t) * 1000)
        while s.recv(65536):
            pass
        s.close()
    out.sort()
    print("console ttfb GET /api/cases: n=%d min=%.1fms median=%.1fms "
          "p90=%.1fms max=%.1fms" % (n, out[0], out[n // 2],
                                     out[int(n * 0.9)], out[-1]))


def streams(port, cookie, pages):
    """pages open GET /api/stream connections."""
    socks = []
    for _ in range(pages):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(("GET /api/stream HTTP/1.1\r\nHost: x\r\nCookie: %s"
                   "\r\n\r\n" % cookie).encode())
        socks.append(s)
    return socks


def fanout(port, cookie, pages, push):
    socks = streams(port, cookie, pages)
    bufs = {s: b"" for s in socks}
    for s in socks:
        while b"hello" not in bufs[s]:
            bufs[s] += s.recv(4096)
        bufs[s] = b""
    t0 = time.perf_counter()
    subprocess.run(push, check=True, capture_output=True)
    got = {}
    while len(got) < pages and time.perf_counter() - t0 < 5:
        r, _, _ = select.select([s for s in socks if s not in got], [], [],
                                0.5)
        for s in r:
            bufs[s] += s.recv(65536)
            if b"event: cases" in bufs[s]:
                got[s] = (time.perf_counter() - t0) * 1000
    ts = sorted(got.values())
    within = sum(1 for t in ts if t <= 1000)
    print("console SSE fan-out: pages=%d received=%d within_1s=%d "
          "median=%.1fms max=%.1fms (from the push command's start)" %
          (pages, len(ts), within, ts[len(ts) // 2] if ts else -1,
           ts[-1] if ts else -1))
    for s in socks:
        s.close()


def hold(port, cookie, pages):
    socks = streams(port, cookie, pages)
    while True:
        r, _, _ = select.select(socks, [], [], 1)
        for s in r:
            s.recv(65536)


if __name__ == "__main__":
    port, user, pw = int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ck = login(port, user, pw)
    if sys.argv[1] == "ttfb":
        ttfb(port, ck, int(sys.argv[5]))
    elif sys.argv[1] == "hold":
        hold(port, ck, int(sys.argv[5]))
    else:
        fanout(port, ck, int(sys.argv[5]), sys.argv[6:])
