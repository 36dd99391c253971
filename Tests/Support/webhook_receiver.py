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
  /raw/NAME/... bytes written as they are, to try a client's reading of HTTP/1.1 (RAW below)
  /early/...   413 and Connection: close before the body is read, then an RST (the client's
               send of a long body fails after the answer came)
  /dropall/... the first time: every open connection closed at once, this one unanswered; then 204
With --tls-cert and --tls-key it speaks HTTPS with that certificate.
Every request is appended to LOG as one JSON line: time, method, path, headers, body, the
client's port (one per connection), the protocol TLS agreed on (ALPN), and, when --secret
is given, whether the Standard Webhooks signature verifies.
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
connections = set()  # every open connection's socket, for /dropall/


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


# /raw/NAME/...: the answer's bytes, and then: "keep" (the connection serves the next
# request), "close" (closed after the answer) or "trickle".
RAW = {
    # Chunks with an extension and a trailer, Retry-After, and the connection kept.
    "chunked": (b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\nretry-after: 7\r\n\r\n"
                b"5;x=y\r\nbusy \r\n4\r\nnow!\r\n0\r\nX-Trailer: t\r\n\r\n", "keep"),
    # An interim answer before the real one.
    "continue": (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", "keep"),
    # HTTP/1.0 without a length: the body runs up to the close.
    "untilclose": (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe body, up to the close", "close"),
    # Says it closes, and does.
    "close": (b"HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", "close"),
    # Not HTTP at all.
    "garbage": (b"220 smtp.example ESMTP ready\r\n\r\n", "close"),
    # A second answer nobody asked for, right behind the first.
    "extra": (b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", "keep"),
    # A second's wait, then an answer that closes the connection.
    "slowclose": (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", "close"),
    # Reads the request and closes without a word.
    "drop": (b"", "close"),
    # A status line, then a header a byte at a time for ever.
    "trickle": (b"HTTP/1.1 200 OK\r\nX-Slow: ", "trickle"),
    # A body far longer than anyone reads for an error record.
    "big": (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 200000, "keep"),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with lock:
            connections.add(self.connection)

    def finish(self):
        with lock:
            connections.discard(self.connection)
        super().finish()

    def handle_any(self):
        kind = self.path.strip("/").split("/")[0]
        length = int(self.headers.get("Content-Length") or 0)
        body = b"" if kind == "early" else self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = {"time": time.time(), "method": self.command, "path": self.path, "headers": headers,
                  "peer": self.client_address[1],
                  "alpn": self.connection.selected_alpn_protocol() if hasattr(self.connection, "selected_alpn_protocol") else None,
                  "body": body.decode("utf-8", "replace"), "verified": verify(self.server.secret, headers, body), "verified_by": verifier()}
        with lock:
            first = self.path not in seen
            seen.add(self.path)
            with open(self.server.log, "a") as f:
                f.write(json.dumps(record) + "\n")
        if kind == "raw":
            name = self.path.split("/")[2]
            answer, then = RAW[name]
            if name == "slowclose":
                time.sleep(1)
            self.wfile.write(answer)
            self.wfile.flush()
            if then == "trickle":
                # One byte of a header every 0.3 s: alive, and never whole.
                while True:
                    time.sleep(0.3)
                    self.wfile.write(b"x")
                    self.wfile.flush()
            if then == "close":
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            return
        if kind == "early":
            self.wfile.write(b"HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Length: 8\r\n\r\ntoo long")
            self.wfile.flush()
            # At once, the body still coming: unread bytes make the close an RST, right behind the answer.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if kind == "dropall" and first:
            with lock:
                for connection in list(connections):
                    try:
                        connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            self.close_connection = True
            return
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
        elif kind in ("ok", "target", "slow", "dropall") or kind in ("flaky", "limited"):
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
        # It would speak HTTP/2 to a client that offered it: a client must not (see "alpn").
        context.set_alpn_protocols(["h2", "http/1.1"])
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
