#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A webhook receiver for the alert delivery tests: records every POST.

Each request is logged as one JSON line {"key", "status", "body", "path"}
(the Idempotency-Key header, the status it was answered with, the body as
JSON) before it is answered, so a test sees what arrived even when it
kills the sender mid-request. While FAIL-FILE exists, requests are answered
503; while HANG-FILE exists, a request is logged as "hang" and held
(unanswered) until the file goes away, then answered 200.

  webhook_sink.py --port N --log FILE [--fail-file F] [--hang-file F] --ready FILE
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--fail-file", default="")
    ap.add_argument("--hang-file", default="")
    ap.add_argument("--ready", required=True)
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            pass

        def record(self, status, body):
            line = {"key": self.headers.get("Idempotency-Key"), "status": status,
                    "path": self.path, "body": body}
            with lock, open(args.log, "a") as f:
                f.write(json.dumps(line, sort_keys=True) + "\n")

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n)
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"unparsable": raw.decode("utf-8", "replace")}
            if args.fail_file and os.path.exists(args.fail_file):
                self.record(503, body)
                self.send_response(503)
                self.end_headers()
                self.wfile.write(b"busy")
                return
            if args.hang_file and os.path.exists(args.hang_file):
                self.record("hang", body)
                while os.path.exists(args.hang_file):
                    time.sleep(0.05)
            self.record(200, body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    with open(args.ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(args.ready + ".tmp", args.ready)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
