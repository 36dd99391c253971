#!/usr/bin/env python3
"""A real HTTP receiver for Herald's webhook tests.

Behaviour by path (the first segment):
  /ok/...      204
  /flaky/...   500 on the first request to that path, then 200
  /limited/... 429 with Retry-After: 1 on the first request, then 200
  /gone/...    410
  /hang/...    never answers (holds the connection until the client gives up)
  /slow/...    204 after one second
  /reset/...   resets the connection (SO_LINGER 0, then close: the client sees an RST)
  /moved302/... and /moved307/...  302 or 307 with Location: /target/<the rest>
  /target/...  204 (where the redirects point: a client that follows them lands here)
With --tls-cert and --tls-key it speaks HTTPS with that certificate.
Every request is appended to LOG as one JSON line: time, method, path, headers, body,
and, when --secret is given, whether the Standard Webhooks signature verifies.
Prints "ready PORT" once it listens.
"""
import argparse
import base64
import hashlib
import hmac
import json
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

seen = set()
lock = threading.Lock()


try:  # the official library, when installed (scripts/test installs it): what receivers really run
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError:
    Webhook = None


def verifier():
    return "standardwebhooks" if Webhook is not None else "own"


def verify(secret, headers, body):
    if not secret:
        return None
    if Webhook is not None:
        try:
            Webhook(secret).verify(body, dict(headers))
            return True
        except WebhookVerificationError:
            return False
    key = base64.b64decode(secret[len("whsec_"):])
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
    signatures = [part.split(",", 1)[1] for part in headers.get("webhook-signature", "").split(" ") if part.startswith("v1,")]
    fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
    return fresh and any(hmac.compare_digest(expected, s) for s in signatures)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        kind = self.path.strip("/").split("/")[0]
        record = {"time": time.time(), "method": self.command, "path": self.path, "headers": headers,
                  "body": body.decode("utf-8", "replace"), "verified": verify(self.server.secret, headers, body), "verified_by": verifier()}
        with lock:
            first = self.path not in seen
            seen.add(self.path)
            with open(self.server.log, "a") as f:
                f.write(json.dumps(record) + "\n")
        if kind == "hang":
            time.sleep(3600)
            return
        if kind == "slow":
            time.sleep(1)
        if kind == "reset":
            # Linger on, timeout 0: close() sends an RST instead of a FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if kind in ("moved302", "moved307"):
            rest = self.path.split("/", 2)[2] if self.path.count("/") >= 2 else ""
            self.send_response(302 if kind == "moved302" else 307)
            self.send_header("Location", "/target/" + rest)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, extra = 204, {}
        if kind == "flaky" and first:
            status = 500
        elif kind == "limited" and first:
            status, extra = 429, {"Retry-After": "1"}
        elif kind == "gone":
            status = 410
        elif kind in ("ok", "target", "slow") or kind in ("flaky", "limited"):
            status = 204 if kind == "ok" else 200
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = handle_any
    do_PUT = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128   # many senders connect at once; the default backlog of 5 drops SYNs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    parser.add_argument("--secret", default="")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.log = args.log
    server.secret = args.secret
    open(args.log, "a").close()
    print(f"ready {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()
