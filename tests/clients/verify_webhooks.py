"""Registers a user and two webhooks on a running wahub, makes it emit events, and verifies
every delivery that reaches a loopback receiver with the `standardwebhooks` package: a
generated `whsec_` secret used as it is, and a chosen secret through its documented mapping
(`whsec_` + base64 of its bytes). Tampered deliveries and wrong secrets must be refused.
Prints "N passed, N failed"; exits 1 on any failure."""

import base64
import hashlib
import hmac
import http.server
import json
import sys
import threading
import time
import urllib.request

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

BASE = sys.argv[1]
CHOSEN_SECRET = "a chosen secret, not base64"
received = []
lock = threading.Lock()
results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""), flush=True)


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with lock:
            received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def api(method, path, token=None, body=None):
    req = urllib.request.Request(BASE + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read()
        return json.loads(text) if text else None


def wait_for(path, n, secs=60):
    deadline = time.time() + secs
    while time.time() < deadline:
        with lock:
            mine = [r for r in received if r[0] == path]
        if len(mine) >= n:
            return mine
        time.sleep(0.05)
    return mine


def verify(whsec, headers, body):
    try:
        Webhook(whsec).verify(body, headers)
        return True
    except WebhookVerificationError:
        return False


def legacy_ok(secret, headers, body):
    mac = hmac.new(secret.encode(), headers["x-wahub-timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + mac, headers.get("x-wahub-signature", ""))


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
hook_base = f"http://127.0.0.1:{server.server_address[1]}"

user = api("POST", "/api/v1/auth/register", body={"email": "verify@example.com", "password": "correct horse battery"})
token = user["access_token"]
generated = api("POST", "/api/v1/webhooks", token, {"url": hook_base + "/generated", "events": ["session.*"]})
chosen = api("POST", "/api/v1/webhooks", token, {"url": hook_base + "/chosen", "events": ["session.*"], "secret": CHOSEN_SECRET})
check("a generated secret is whsec_<base64>", generated["secret"].startswith("whsec_"), generated["secret"])
mapped = "whsec_" + base64.b64encode(CHOSEN_SECRET.encode()).decode()

# Three events each: created, renamed, deleted.
session = api("POST", "/api/v1/sessions", token, {"name": "verify"})
api("PATCH", f"/api/v1/sessions/{session['id']}", token, {"name": "verified"})
api("DELETE", f"/api/v1/sessions/{session['id']}", token)

for path, whsec, raw_secret in (("/generated", generated["secret"], generated["secret"]), ("/chosen", mapped, CHOSEN_SECRET)):
    deliveries = wait_for(path, 3)
    check(f"{path}: three deliveries arrived", len(deliveries) >= 3, f"got {len(deliveries)}")
    ids = set()
    for _, headers, body in deliveries:
        event = json.loads(body)["event"]
        ids.add(headers.get("webhook-id"))
        check(f"{path} {event}: standardwebhooks verifies it", verify(whsec, headers, body))
        check(f"{path} {event}: X-Wahub-Signature still verifies", legacy_ok(raw_secret, headers, body))
        check(f"{path} {event}: a tampered body is refused", not verify(whsec, headers, body + b" "))
        wrong = "whsec_" + base64.b64encode(b"x" * 32).decode()
        check(f"{path} {event}: another secret is refused", not verify(wrong, headers, body))
        check(f"{path} {event}: webhook-id is the delivery id", headers.get("webhook-id") == headers.get("x-wahub-delivery"))
    check(f"{path}: each delivery has its own webhook-id", len(ids) == len(deliveries))

server.shutdown()
print(f"{results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
