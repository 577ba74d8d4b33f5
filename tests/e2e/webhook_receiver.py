"""A webhook receiver for tests/e2e/test_webhooks.sh, on loopback only, bounded in time.

Usage: webhook_receiver.py SECRET LOG SECONDS. Prints its port on stdout, then serves until
SECONDS have passed. Every POST is checked as docs/http.md tells receivers to: the
X-Tandem-Signature header "t=UNIX,v1=HEX" must carry HEX = HMAC-SHA256(SECRET, "UNIX.BODY")
and UNIX within 300 s of now. Each request appends one line to LOG:
PATH KEY DELIVERY valid|invalid KIND. Paths: /ok answers 200; /flaky answers 500 to the first
delivery of each key, then 200; /gone answers 410.
"""
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET, LOG, SECONDS = sys.argv[1].encode(), sys.argv[2], float(sys.argv[3])
seen = set()
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        sig = self.headers.get("X-Tandem-Signature", "")
        parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
        valid = False
        try:
            t = int(parts.get("t", "x"))
            want = hmac.new(SECRET, str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
            valid = hmac.compare_digest(want, parts.get("v1", "")) and abs(time.time() - t) < 300
        except ValueError:
            pass
        key = self.headers.get("Idempotency-Key", "-")
        try:
            kind = json.loads(body)["kind"]
        except (ValueError, KeyError):
            kind = "?"
        status = 200
        with lock:
            if self.path == "/flaky" and key not in seen:
                status = 500
            if self.path == "/gone":
                status = 410
            seen.add(key)
            if self.path == "/ok":  # the last one as sent, for the openssl check in the docs
                with open(LOG + ".body", "wb") as f:
                    f.write(body)
                with open(LOG + ".sig", "w") as f:
                    f.write(sig)
            with open(LOG, "a") as f:
                f.write("%s %s %s %s %s\n" % (self.path, key, self.headers.get("X-Tandem-Delivery", "-"),
                                            "valid" if valid else "invalid", kind))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(SECONDS, server.shutdown).start()
server.serve_forever()
