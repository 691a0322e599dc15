#!/usr/bin/env python3
"""receiver.py — a webhook receiver for tests/test_outbox.sh.

    python3 tests/receiver.py PORT LOG.jsonl

Listens on 127.0.0.1:PORT and appends one JSON line per request to LOG:
{"path", "headers" (name -> value), "body", "status"}. The answer depends
on the first path segment:

    /ok/...          200
    /fail500-N/...   500 for the first N requests on that exact path, then 200
    /bad400/...      400
    /hang/...        never answers (sleeps 60 s, then drops the connection)

A receiver that is "down" is simply not running yet: the test starts it
later on the same port. Requests run in threads, so a hanging one does not
hold up the others.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SEEN = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        first = self.path.strip("/").split("/")[0]
        status = 200
        with LOCK:
            SEEN[self.path] = SEEN.get(self.path, 0) + 1
            count = SEEN[self.path]
        if first.startswith("fail500-"):
            status = 500 if count <= int(first.split("-")[1]) else 200
        elif first == "bad400":
            status = 400
        elif first == "hang":
            status = 0
        rec = {"path": self.path, "headers": dict(self.headers.items()),
               "body": body, "status": status, "time": time.time()}
        with LOCK:
            with open(LOG, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if status == 0:
            time.sleep(60)
            self.close_connection = True
            return
        out = b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


if __name__ == "__main__":
    PORT = int(sys.argv[1])
    LOG = sys.argv[2]
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    srv.serve_forever()
