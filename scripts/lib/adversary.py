#!/usr/bin/env python3
"""Herald against an adversary: the checks of DESIGN.md's invariants 7-9 (private words stay
private, public surfaces reveal nothing, the instant is kept under load) and the provider and
subscription rules around them, run as users and attackers do it: `herald serve` on fresh
databases with Maildir delivery, a real webhook receiver (Tests/Support/webhook_receiver.py),
only the CLI and HTTP to drive it.

  adversary.py HERALD_BINARY
ADVERSARY_ONLY=4,9 runs only those items; ADVERSARY_KEEP=1 keeps the work folder (databases,
Maildirs, serve logs). Prints one line per check ("ok  NAME" or "FAIL NAME: WHY"), a summary, and exits 1 when any
check failed. Every check runs even when an earlier one failed."""
import atexit
import base64
import email
import email.policy
import email.utils
import http.client
import json
import os
import random
import re
import secrets
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from datetime import datetime
from harness import free_port

if len(sys.argv) != 2:
    print("usage: adversary.py HERALD_BINARY", file=sys.stderr)
    sys.exit(2)
HERALD = os.path.abspath(sys.argv[1])
SUPPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Support")
WORK = tempfile.mkdtemp(prefix="herald-adversary-")
STARTED = time.time()
os.umask(0o022)   # what a user's shell has: files are 0644 unless Herald says otherwise

children = []
children_lock = threading.Lock()
print_lock = threading.Lock()
RESULTS = []


def cleanup():
    with children_lock:
        running = list(children)
    for child in running:
        if child.poll() is None:
            try:
                child.kill()
            except OSError:
                pass
    for child in running:
        try:
            child.wait(timeout=5)
        except Exception:
            pass
    if os.environ.get("ADVERSARY_KEEP"):
        print(f"(work folder kept: {WORK})", file=sys.stderr)
    else:
        shutil.rmtree(WORK, ignore_errors=True)


atexit.register(cleanup)


def on_signal(number, frame):
    cleanup()
    os._exit(130)


signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)


def spawn(args, **kwargs):
    process = subprocess.Popen(args, **kwargs)
    with children_lock:
        children.append(process)
    return process


class CheckFailed(Exception):
    pass


# MARK: - Small helpers

def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def wait_for(what, condition, timeout=10.0, interval=0.1):
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.time() >= deadline:
            raise CheckFailed(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def short(value, limit=300):
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit] + "…"


def unknown_public_id(slug):
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return f"{slug}-{time.gmtime().tm_year}-" + "".join(random.choice(alphabet) for _ in range(6))


def strings_in(value):
    """Every string inside a decoded JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers          # [(name, value)] as sent
        self.body = body                # bytes
        self.elapsed = elapsed

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    def is_problem(self):
        if not (self.header("content-type") or "").startswith("application/problem+json"):
            return False
        try:
            return isinstance(self.json(), dict)
        except ValueError:
            return False


def raw_http(port, method, path, body=None, headers=None, timeout=10.0):
    """One request on a fresh connection; the path goes out exactly as given."""
    started = time.time()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        fields = {"Host": f"127.0.0.1:{port}"}
        fields.update(headers or {})
        if body is not None:
            fields["Content-Length"] = str(len(body))
        for name, value in fields.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        data = response.read()
        return Response(response.status, response.getheaders(), data, time.time() - started)
    finally:
        connection.close()


def post_stream(port, path, body, content_type="application/json", timeout=5.0):
    """POST a large body while watching for an early answer: a server may refuse (413, 422 …)
    before it has read everything, and close. Returns a Response, or raises OSError/TimeoutError
    when no answer could be read."""
    started = time.time()
    deadline = started + timeout
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setblocking(False)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    outgoing = memoryview(head + body)
    received = b""
    try:
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError(f"no answer within {timeout:.0f} s ({len(outgoing)} bytes of the body unsent)")
            readable, writable, _ = select.select([sock], [sock] if outgoing else [], [], min(left, 0.5))
            if readable:
                try:
                    chunk = sock.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    chunk = b""
                if not chunk:
                    break
                received += chunk
                if b"\r\n\r\n" in received:
                    header, rest = received.split(b"\r\n\r\n", 1)
                    length = re.search(rb"(?im)^content-length:\s*(\d+)", header)
                    if length and len(rest) >= int(length.group(1)):
                        break
            if writable and outgoing:
                try:
                    sent = sock.send(outgoing[:65536])
                    outgoing = outgoing[sent:]
                except BlockingIOError:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    outgoing = memoryview(b"")     # the server stopped reading: its answer may still be there
    finally:
        sock.close()
    if b"\r\n\r\n" not in received:
        raise ConnectionResetError(f"the connection closed without an answer ({len(received)} bytes received)")
    header, rest = received.split(b"\r\n\r\n", 1)
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return Response(status, headers, rest, time.time() - started)


def start_receiver(work, name, secret=""):
    log = os.path.join(work, f"{name}.jsonl")
    args = [sys.executable, os.path.join(SUPPORT, "webhook_receiver.py"), "--log", log]
    if secret:
        args += ["--secret", secret]
    process = spawn(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("ready "):
        raise CheckFailed(f"webhook_receiver.py did not start: {line!r}")
    return Receiver(int(line.split()[1]), log)


class Receiver:
    def __init__(self, port, log):
        self.port = port
        self.log = log

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self, prefix=None):
        if not os.path.exists(self.log):
            return []
        found = []
        for line in open(self.log):
            try:
                record = json.loads(line)
            except ValueError:
                continue    # blank, or the receiver is still writing it
            if prefix is None or record["path"].startswith(prefix):
                found.append(record)
        return found


class Mail:
    def __init__(self, name, raw):
        self.file = name
        self.raw = raw
        self.message = email.message_from_bytes(raw, policy=email.policy.default)
        self.to = [a.lower() for _, a in email.utils.getaddresses([str(self.message["to"] or "")])]
        self.subject = str(self.message["subject"] or "")
        self.message_id = str(self.message["message-id"] or "")
        parts = []
        for part in self.message.walk():
            if part.get_content_maintype() == "text":
                try:
                    parts.append(part.get_content())
                except Exception:
                    parts.append(part.get_payload(decode=True).decode("utf-8", "replace"))
        self.body = "\n".join(parts)
        self.text = self.subject + "\n" + self.body


# MARK: - A Herald instance: one database, one Maildir, one port

class Herald:
    def __init__(self, item, name, public_url=None, copy_from=None):
        self.name = name
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir)
        self.db = os.path.join(self.dir, "herald.sqlite")
        if copy_from:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(copy_from + suffix):
                    shutil.copy2(copy_from + suffix, self.db + suffix)
        self.maildir = os.path.join(self.dir, "mail")
        self.port = free_port()
        self.public_url = public_url or f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
        self.env.update(HERALD_PUBLIC_URL=self.public_url, HERALD_MAIL_FROM="security@herald.example", HERALD_LOG_LEVEL="warning",
                        HERALD_ALLOW_PRIVATE_TARGETS="1")
        self.serve = None
        self.runs = 0
        item.instances.append(self)

    # The CLI

    def run(self, *args, timeout=60):
        if not os.path.exists(self.db):   # commands other than migrate and serve refuse a missing database
            subprocess.run([HERALD, "migrate", "--database", self.db], capture_output=True, text=True, env=self.env, timeout=timeout)
        return subprocess.run([HERALD, *args, "--database", self.db], capture_output=True, text=True, env=self.env, timeout=timeout)

    def ok(self, *args):
        result = self.run(*args)
        if result.returncode != 0:
            raise CheckFailed(f"herald {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
        return result.stdout

    def json(self, *args):
        out = self.ok(*args, "--json")
        try:
            return json.loads(out)
        except ValueError:
            raise CheckFailed(f"herald {' '.join(args)} --json printed no JSON: {short(out)}")

    def token(self, role, name=None):
        out = self.ok("token", "create", "--name", name or f"{role}-{secrets.token_hex(3)}", "--role", role)
        found = re.findall(r"hrld_[A-Za-z0-9_-]+", out)
        return found[0] if found else out.strip().split()[-1]

    # serve

    def start(self, extra_env=None):
        self.runs += 1
        log = open(os.path.join(self.dir, f"serve-{self.runs}.log"), "w")
        env = dict(self.env, **(extra_env or {}))
        self.serve = spawn([HERALD, "serve", "--database", self.db, "--listen", f"127.0.0.1:{self.port}", "--maildir", self.maildir,
                            "--public-url", self.public_url], env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.serve.poll() is not None:
                raise CheckFailed(f"herald serve ({self.name}) exited {self.serve.returncode}: {self.log_tail()}")
            try:
                if raw_http(self.port, "GET", "/healthz", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise CheckFailed(f"herald serve ({self.name}) did not answer /healthz with 200 within 20 s: {self.log_tail()}")

    def stop(self):
        if self.serve and self.serve.poll() is None:
            self.serve.send_signal(signal.SIGTERM)
            try:
                self.serve.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.serve.kill()
                self.serve.wait()
        self.serve = None

    def log_tail(self):
        path = os.path.join(self.dir, f"serve-{self.runs}.log")
        try:
            return short(open(path).read()[-600:], 600)
        except OSError:
            return ""

    # HTTP and mail

    def http(self, method, path, body=None, token=None, headers=None, content_type=None, timeout=10.0):
        fields = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
            fields["Content-Type"] = content_type or "application/json"
        if token:
            fields["Authorization"] = f"Bearer {token}"
        return raw_http(self.port, method, path, data, fields, timeout)

    def mails(self):
        found = []
        for folder in ("new", "cur"):
            directory = os.path.join(self.maildir, folder)
            if not os.path.isdir(directory):
                continue
            for name in sorted(os.listdir(directory)):
                try:
                    found.append(Mail(name, open(os.path.join(directory, name), "rb").read()))
                except OSError:
                    pass
        return found

    def mails_to(self, address, containing=None):
        return [m for m in self.mails() if address.lower() in m.to and (containing is None or containing in m.text)]

    def deliveries(self, advisory=None):
        args = ["deliveries", "list", "--limit", "100000"]
        if advisory is not None:
            args += ["--advisory", str(advisory)]
        return self.json(*args)

    def settled(self):
        """True when nothing waits in the outbox."""
        return not [d for d in self.deliveries() if d["state"] in ("pending", "retrying")]


# MARK: - Reporting

class Item:
    def __init__(self, names):
        self.names = list(names)
        self.outcome = {}
        self.instances = []

    def expect(self, name, ok, why="", detail=""):
        if name not in self.names:
            raise RuntimeError(f"undeclared check {name}")
        previous = self.outcome.get(name)
        if previous is not None and not previous[0]:
            return ok     # the first failure stands
        self.outcome[name] = (bool(ok), detail if ok else why)
        return ok

    def done(self, error):
        with print_lock:
            for name in self.names:
                ok, text = self.outcome.get(name, (False, f"not reached: {error}" if error else "not reached"))
                text = re.sub(r"\s*\n\s*", " | ", str(text).strip())
                if ok:
                    print(f"ok  {name}" + (f"  ({text})" if text else ""))
                else:
                    print(f"FAIL {name}: {text}")
                RESULTS.append((name, ok))
            sys.stdout.flush()


def run_item(names, body):
    item = Item(names)
    error = None
    try:
        body(item)
    except CheckFailed as failure:
        error = str(failure)
    except Exception as failure:   # a bug or an unexpected answer: the item fails, the rest runs
        here = [f for f in traceback.extract_tb(failure.__traceback__) if f.filename == os.path.abspath(__file__)]
        error = f"{type(failure).__name__}: {failure} (adversary.py line {here[-1].lineno if here else '?'})"
    finally:
        for instance in item.instances:
            try:
                instance.stop()
            except Exception:
                pass
    item.done(error)


# MARK: - 1. /metrics needs a token

M_ANON = "1 metrics: anonymous GET /metrics answers 401 problem+json shaped like the admin routes' 401"
M_NEVER = "1 metrics: no anonymous or bad-token request (GET, HEAD, query, slash, wrong token) sees herald_ metric names"
M_ROLES = "1 metrics: auditor, release-manager and admin tokens get 200 Prometheus text"
M_ENV = "1 metrics: the HERALD_METRICS_TOKEN value gets 200 Prometheus text"
M_LISTEN = "1 metrics: HERALD_METRICS_LISTEN serves /metrics without a token on its own address, and only /metrics"


def check_metrics(it):
    h = Herald(it, "metrics")
    tokens = {role: h.token(role) for role in ("auditor", "release-manager", "admin")}
    metrics_token = "metrics-" + secrets.token_urlsafe(24)
    h.start({"HERALD_METRICS_TOKEN": metrics_token})

    admin = h.http("GET", "/api/v1/projects")
    anonymous = h.http("GET", "/metrics")
    shape_ok = anonymous.is_problem() and admin.is_problem() and sorted(anonymous.json()) == sorted(admin.json()) \
        and anonymous.json().get("status") == 401
    it.expect(M_ANON, anonymous.status == 401 and shape_ok,
              f"answered {anonymous.status} {anonymous.header('content-type')}: {short(anonymous.text, 160)}"
              + ("" if anonymous.status != 401 else f" (admin 401 keys {sorted(admin.json()) if admin.is_problem() else admin.text})"))

    leaks = []
    attempts = [("GET", "/metrics", {}), ("HEAD", "/metrics", {}), ("GET", "/metrics?format=prometheus", {}), ("GET", "/metrics/", {}),
                ("GET", "/metrics", {"Authorization": "Bearer hrld_" + secrets.token_urlsafe(32)}),
                ("GET", "/metrics", {"Authorization": "Bearer " + metrics_token + "x"}),
                ("GET", "/metrics", {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}),
                ("GET", "/metrics", {"Authorization": "Bearer "}), ("GET", "//metrics", {})]
    for method, path, headers in attempts:
        r = h.http(method, path, headers=headers)
        if b"herald_" in r.body or (method == "GET" and r.status == 200) or (method == "HEAD" and r.status == 200):
            leaks.append(f"{method} {path} {list(headers) or ''} -> {r.status}{' with herald_ names' if b'herald_' in r.body else ''}")
    it.expect(M_NEVER, not leaks, "; ".join(leaks))

    bad = []
    for role, token in tokens.items():
        r = h.http("GET", "/metrics", token=token)
        if r.status != 200 or not (r.header("content-type") or "").startswith("text/plain") or b"herald_" not in r.body:
            bad.append(f"{role}: {r.status} {r.header('content-type')} {short(r.text, 80)}")
    it.expect(M_ROLES, not bad, "; ".join(bad))
    r = h.http("GET", "/metrics", token=metrics_token)
    it.expect(M_ENV, r.status == 200 and b"herald_" in r.body and (r.header("content-type") or "").startswith("text/plain"),
              f"answered {r.status}: {short(r.text, 120)}")

    # A listener of their own: no token there, and the public listener still asks for one.
    h.stop()
    metrics_port = free_port()
    h.start({"HERALD_METRICS_LISTEN": f"127.0.0.1:{metrics_port}"})
    wait_for("the metrics listener", lambda: raw_http(metrics_port, "GET", "/metrics").status == 200, timeout=10)
    own = raw_http(metrics_port, "GET", "/metrics")
    other = raw_http(metrics_port, "GET", "/feed.atom")
    public = h.http("GET", "/metrics")
    it.expect(M_LISTEN, own.status == 200 and b"herald_" in own.body and other.status == 404 and public.status == 401,
              f"metrics listener /metrics {own.status}, /feed.atom there {other.status}; public /metrics {public.status}")


# MARK: - 2. Suspended, removed and pending providers get nothing embargoed

P_ACTIVE = "2 providers: the active provider gets the revision, the cancellation and the now-public notice"
P_SUSP = {k: f"2 providers: a suspended provider gets no {k}" for k in ("revision", "cancellation", "publication")}
P_REM = {k: f"2 providers: a removed provider gets no {k}" for k in ("revision", "cancellation", "publication")}
P_MAIL = "2 providers: no mail about either advisory reaches the suspended or removed provider after it left"
P_PENDING = "2 providers: a pending provider (added without --approve) gets nothing at all"


def check_providers(it):
    h = Herald(it, "providers")
    h.ok("project", "add", "relp", "--name", "Release Project", "--timezone", "UTC")
    address = {"active": "sec@active-hosting.example", "suspended": "sec@suspended-hosting.example",
               "removed": "sec@removed-hosting.example", "pending": "sec@pending-hosting.example"}
    ids = {}
    for key in ("active", "suspended", "removed"):
        ids[key] = h.json("provider", "add", "--organization", f"{key.title()} Hosting", "--email", address[key], "--project", "relp", "--approve")["id"]
    h.json("provider", "add", "--organization", "Pending Hosting", "--email", address["pending"], "--project", "relp")
    h.start()
    embargo = time.time() + 3600
    titles = {"revise": "Revision path overflow QWX", "publish": "Publication path overflow QWY"}
    adv = {}
    for key, cve in (("revise", "CVE-2031-11111"), ("publish", "CVE-2031-22222")):
        adv[key] = h.json("advisory", "create", "--project", "relp", "--title", titles[key], "--cve", cve, "--severity", "high",
                          "--embargo", iso(embargo), "--early-notice", "now")["id"]
    for key in ("active", "suspended", "removed"):
        for title in titles.values():
            wait_for(f"the early notice of '{title}' to {address[key]}", lambda: h.mails_to(address[key], title), timeout=10)

    h.ok("provider", "suspend", str(ids["suspended"]))
    h.ok("provider", "remove", str(ids["removed"]))
    time.sleep(0.3)
    left_at = {key: {m.file for m in h.mails_to(address[key])} for key in ("suspended", "removed")}

    def active_count(title):
        return len(h.mails_to(address["active"], title))

    steps = []
    before = active_count(titles["revise"])
    h.ok("advisory", "reschedule", str(adv["revise"]), "--embargo", iso(embargo + 3600), "--reason", "a distribution needs a day")
    steps.append(("revision", bool(wait_or_none(lambda: active_count(titles["revise"]) > before, 8))))
    before = active_count(titles["revise"])
    h.ok("advisory", "cancel", str(adv["revise"]), "--reason", "not a vulnerability after all")
    steps.append(("cancellation", bool(wait_or_none(lambda: active_count(titles["revise"]) > before, 8))))
    before = active_count(titles["publish"])
    h.ok("advisory", "publish", str(adv["publish"]), "--now", "--reason", "exploited in the wild")
    steps.append(("publication", bool(wait_or_none(lambda: active_count(titles["publish"]) > before, 8))))
    wait_or_none(h.settled, 5)
    time.sleep(0.5)

    missing = [kind for kind, arrived in steps if not arrived]
    it.expect(P_ACTIVE, not missing, f"the active provider got no {', '.join(missing)} mail")

    records = h.deliveries(adv["revise"]) + h.deliveries(adv["publish"])
    sent_states = ("pending", "retrying", "delivered")
    for key, names in (("suspended", P_SUSP), ("removed", P_REM)):
        for kind, name in names.items():
            bad = [d for d in records if d["recipient"].lower() == address[key] and d["notice"] == kind and d["state"] in sent_states]
            it.expect(name, not bad, f"{len(bad)} {kind} deliveries to {address[key]}: " +
                      ", ".join(f"#{d['id']} {d['state']}" for d in bad))
    late = []
    for key in ("suspended", "removed"):
        for m in h.mails_to(address[key]):
            if m.file not in left_at[key] and any(t in m.text for t in titles.values()):
                late.append(f"{key}: '{m.subject}'")
    it.expect(P_MAIL, not late, "; ".join(late))

    pending_mail = h.mails_to(address["pending"])
    pending_records = [d for d in h.deliveries() if d["recipient"].lower() == address["pending"]]
    it.expect(P_PENDING, not pending_mail and not pending_records,
              f"{len(pending_mail)} mails ({', '.join(m.subject for m in pending_mail)}), {len(pending_records)} deliveries")


def wait_or_none(condition, timeout):
    try:
        return wait_for("", condition, timeout=timeout)
    except CheckFailed:
        return None


# MARK: - 3. Subscribing reveals nothing and blocks no one

S_API_SAME = "3 subscribe: the JSON API answers listed, unlisted and new organisations alike (status, headers, body)"
S_FORM_SAME = "3 subscribe: the form answers listed, unlisted and new organisations alike (status, headers, body)"
S_API_MAIL = "3 subscribe: each JSON subscription (listed, unlisted, new) mails exactly one message to the address given"
S_FORM_MAIL = "3 subscribe: each form subscription (listed, unlisted, new) mails exactly one message to the address given"
S_ADD = "3 subscribe: an attacker's unconfirmed subscription does not block `provider add` of that organisation"
S_SECOND = "3 subscribe: a second subscriber for a name an attacker subscribed gets a confirmation mail and can confirm"
S_THIRD = "3 subscribe: a subscription for an organisation added after an attacker's request gets a mail"
S_PLAIN = "3 subscribe: Content-Type text/plain is refused with 415 and mails nothing"


def check_subscriptions(it):
    h = Herald(it, "subscribe")
    h.ok("project", "add", "demo", "--name", "Demo Project", "--timezone", "UTC")
    for org, listed in (("Listed One", True), ("Unlisted One", False), ("Listed Two", True), ("Unlisted Two", False)):
        slug = org.lower().replace(" ", "-")
        h.json("provider", "add", "--organization", org, "--email", f"cert@{slug}.example", "--project", "demo", "--approve",
               *(["--listed"] if listed else []))
    h.start()

    def api(org, address, content_type="application/json"):
        return h.http("POST", "/api/v1/subscriptions", {"organization": org, "email": address, "projects": ["demo"]}, content_type=content_type)

    def form(org, address):
        page = h.http("GET", "/subscribe")
        cookie = (page.header("set-cookie") or "").split(";")[0]
        match = re.search(r'name="csrf" value="([^"]*)"', page.text)
        fields = {"csrf": match.group(1) if match else "", "organization": org, "email": address, "projects": "demo"}
        return h.http("POST", "/subscribe", urllib.parse.urlencode(fields), content_type="application/x-www-form-urlencoded",
                      headers={"Cookie": cookie})

    cases = {"listed": "Listed", "unlisted": "Unlisted", "new": "Fresh"}
    api_addresses = {k: f"new-{k}@api-{k}.example" for k in cases}
    form_addresses = {k: f"new-{k}@form-{k}.example" for k in cases}
    api_answers = {k: api(("Fresh Org One" if k == "new" else f"{v} One"), api_addresses[k]) for k, v in cases.items()}
    form_answers = {k: form(("Fresh Org Two" if k == "new" else f"{v} Two"), form_addresses[k]) for k, v in cases.items()}

    for name, answers in ((S_API_SAME, api_answers), (S_FORM_SAME, form_answers)):
        seen = {k: (r.status, tuple(sorted((n.lower(), v) for n, v in r.headers if n.lower() != "date")), r.body) for k, r in answers.items()}
        same = len(set(seen.values())) == 1
        accepted = 200 <= answers["new"].status < 300
        it.expect(name, same and accepted, ("the new organisation was not accepted: " if not accepted else "answers differ: ") +
                  "; ".join(f"{k}: {r.status} {short(r.text, 90)}" for k, r in answers.items()),
                  detail=f"all {answers['new'].status}")

    all_addresses = list(api_addresses.values()) + list(form_addresses.values())
    wait_or_none(lambda: all(h.mails_to(a) for a in all_addresses), 6)
    time.sleep(1.0)
    for name, addresses in ((S_API_MAIL, api_addresses), (S_FORM_MAIL, form_addresses)):
        counts = {k: len(h.mails_to(a)) for k, a in addresses.items()}
        link = any("/subscriptions/confirm?token=" in m.body for m in h.mails_to(addresses["new"]))
        it.expect(name, all(c == 1 for c in counts.values()) and link,
                  "mails per address: " + ", ".join(f"{k} {c}" for k, c in counts.items()) + ("" if link else "; the new one has no confirmation link"))

    # An attacker subscribes two organisations it does not belong to, and never confirms.
    attacks = [api("Gemeente Example", "attacker@evil.example"), api("Gemeente Voorbeeld", "attacker2@evil.example")]
    add = h.run("provider", "add", "--organization", "Gemeente Example", "--email", "cert@gemeente-example.example", "--project", "demo", "--approve")
    it.expect(S_ADD, add.returncode == 0, f"exit {add.returncode}: {add.stderr.strip()} (attacker's requests answered "
              f"{[a.status for a in attacks]})")

    second = api("Gemeente Voorbeeld", "cert@voorbeeld.example")
    mail = wait_or_none(lambda: h.mails_to("cert@voorbeeld.example"), 5)
    confirm = None
    if mail:
        match = re.search(re.escape(h.public_url) + r"(/subscriptions/confirm\?token=[A-Za-z0-9_-]+)", mail[0].body)
        if match:
            page = h.http("GET", match.group(1))
            confirm = h.http("POST", match.group(1), "", content_type="application/x-www-form-urlencoded")
            confirm = (page.status, confirm.status)
    it.expect(S_SECOND, mail and confirm == (200, 200),
              f"subscription answered {second.status}; " + ("no mail to cert@voorbeeld.example" if not mail else
                                                            f"confirmation page/POST answered {confirm}" if confirm else "the mail has no confirmation link"))

    third = api("Gemeente Example", "noc@gemeente-example.example")
    got = wait_or_none(lambda: h.mails_to("noc@gemeente-example.example"), 5)
    it.expect(S_THIRD, bool(got), f"subscription answered {third.status}; no mail to noc@gemeente-example.example")

    plain = api("Plain Text Org", "plain@plain-text.example", content_type="text/plain")
    time.sleep(1.5)
    plain_mail = h.mails_to("plain@plain-text.example")
    it.expect(S_PLAIN, plain.status == 415 and not plain_mail, f"answered {plain.status} {short(plain.text, 100)}; {len(plain_mail)} mails")


# MARK: - 4. Bounds before work, and the instant under attack

B_NAMES = {"projects": "4 bounds: a subscription with 100,000 projects is refused 4xx problem+json within 1 s",
           "organization": "4 bounds: a 1 MB organisation is refused 4xx problem+json within 1 s",
           "emails": "4 bounds: 10,000 e-mail addresses (a list) are refused 4xx problem+json within 1 s",
           "email-line": "4 bounds: 10,000 e-mail addresses (one string) are refused 4xx problem+json within 1 s"}
B_FLOOD = "4 instant: hostile bodies during the flood are all answered 4xx"
B_ONTIME = "4 instant: a publication under a request flood happens at its instant, at most 100 ms late (the bar), never early"
B_VISIBLE = "4 instant: under the flood the advisory's public page appears within 1.5 s of the instant, never before"
B_HEALTH = "4 instant: /healthz answers 200 within 2 s throughout the flood"


def hostile_bodies():
    return {
        "projects": json.dumps({"organization": "Hostile Projects", "email": "h1@hostile.example",
                                "projects": ["p%05d" % i for i in range(100_000)]}).encode(),
        "organization": json.dumps({"organization": "A" * 1_000_000, "email": "h2@hostile.example", "projects": ["inst"]}).encode(),
        "emails": json.dumps({"organization": "Hostile Emails", "email": [f"u{i}@hostile.example" for i in range(10_000)],
                              "projects": ["inst"]}).encode(),
        "email-line": json.dumps({"organization": "Hostile Line", "email": ", ".join(f"u{i}@hostile.example" for i in range(10_000)),
                                  "projects": ["inst"]}).encode(),
    }


def check_instant(it):
    h = Herald(it, "instant")
    h.ok("project", "add", "inst", "--name", "Instant Project", "--timezone", "UTC")
    h.start()
    bodies = hostile_bodies()
    for key, body in bodies.items():
        try:
            r = post_stream(h.port, "/api/v1/subscriptions", body, timeout=5)
        except (TimeoutError, socket.timeout, OSError) as error:
            it.expect(B_NAMES[key], False, f"{len(body)} bytes: no answer ({type(error).__name__}: {error})")
            continue
        it.expect(B_NAMES[key], 400 <= r.status < 500 and r.is_problem() and r.elapsed <= 1.0,
                  f"{len(body)} bytes answered {r.status} {r.header('content-type')} in {r.elapsed * 1000:.0f} ms: {short(r.text, 100)}",
                  detail=f"{r.status} in {r.elapsed * 1000:.0f} ms")

    unknown = unknown_public_id("inst")
    embargo = int(time.time()) + 4
    created = h.json("advisory", "create", "--project", "inst", "--title", "Instant under load", "--severity", "high",
                     "--embargo", iso(embargo))
    stop_at = embargo + 2.0
    served, flood_errors, hostile, health, seen = [0], [], [], [], []
    lock = threading.Lock()

    def hammer(offset):
        paths = ["/", "/feed.atom", f"/advisories/{unknown}"]
        connection, n = None, offset
        while time.time() < stop_at:
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", h.port, timeout=5)
                connection.request("GET", paths[n % 3])
                connection.getresponse().read()
                n += 1
                with lock:
                    served[0] += 1
            except Exception as error:
                with lock:
                    flood_errors.append(type(error).__name__)
                if connection:
                    connection.close()
                connection = None
        if connection:
            connection.close()

    def attacker(plan):
        # Each hostile body at its moment around the instant, so some are being read and refused as it passes.
        for key, offset in plan:
            time.sleep(max(0.0, embargo + offset - time.time()))
            try:
                r = post_stream(h.port, "/api/v1/subscriptions", bodies[key], timeout=max(1.0, stop_at + 2 - time.time()))
                hostile.append((key, r.status, r.elapsed))
            except Exception as error:
                hostile.append((key, f"no answer ({type(error).__name__})", 0))

    def watch_page():
        # The audit row says when the scheduler decided; this says when readers could see it.
        while time.time() < stop_at and not seen:
            try:
                if raw_http(h.port, "GET", f"/advisories/{created['public_id']}", timeout=5).status == 200:
                    seen.append(time.time())
            except Exception:
                pass
            time.sleep(0.02)

    def healthz():
        while time.time() < stop_at:
            started = time.time()
            try:
                r = raw_http(h.port, "GET", "/healthz", timeout=5)
                health.append((r.status, time.time() - started))
            except Exception as error:
                health.append((type(error).__name__, time.time() - started))
            time.sleep(0.2)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=attacker, args=([("projects", -2.0), ("organization", -1.0), ("emails", -0.3), ("projects", 0.1)],)),
                threading.Thread(target=attacker, args=([("email-line", -1.5), ("projects", -0.6), ("organization", 0.0), ("emails", 0.4)],)),
                threading.Thread(target=healthz), threading.Thread(target=watch_page)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    bad = [f"{k} -> {s}" for k, s, _ in hostile if not (isinstance(s, int) and 400 <= s < 500)]
    it.expect(B_FLOOD, hostile and not bad, "; ".join(bad) or "no hostile request was sent",
              detail=f"{len(hostile)} hostile bodies, {served[0]} GETs served")

    publish = None
    detail = wait_or_none(lambda: (lambda d: d if d["advisory"]["state"] == "published" else None)(h.json("advisory", "show", str(created["id"]))), 5)
    if detail:
        publish = [a for a in detail["audit"] if a["action"] == "advisory.publish"]
    if not publish:
        it.expect(B_ONTIME, False, f"not published {time.time() - embargo:.1f} s after its instant")
    else:
        lag = parse_instant(publish[0]["at"]) - embargo
        it.expect(B_ONTIME, 0 <= lag <= 0.1, f"published {lag * 1000:.0f} ms after the instant (audit at {publish[0]['at']})",
                  detail=f"lag {lag * 1000:.1f} ms")
    if not seen:
        it.expect(B_VISIBLE, False, f"/advisories/{created['public_id']} did not answer 200 within {stop_at - embargo:.0f} s of the instant")
    else:
        visible = seen[0] - embargo
        it.expect(B_VISIBLE, 0 <= visible <= 1.5, f"the page answered 200 {visible * 1000:.0f} ms after the instant",
                  detail=f"visible after {visible * 1000:.0f} ms")
    slow = [f"{s} in {t:.2f}s" for s, t in health if s != 200 or t > 2.0]
    it.expect(B_HEALTH, health and not slow, "; ".join(slow[:5]) or "no /healthz answers",
              detail=f"{len(health)} probes, slowest {max((t for _, t in health), default=0) * 1000:.0f} ms")


# MARK: - 5. Public routes reveal nothing before the instant

V_AB = "5 public: a database with an embargoed (noticed, revised) and a cancelled advisory answers every public route like one without"
V_UNKNOWN = "5 public: an embargoed or cancelled id answers exactly like an unknown id"
V_TITLES = "5 public: no embargoed title, CVE or text on any public route"
V_PRE = "5 public: two different pre-announced advisories with the same instant, severity and project give identical public routes"
V_SANITY = "5 public: the published advisory's page, OSV and feeds answer 200 with its title (the comparison is not vacuous)"


def public_paths(published, ids):
    paths = ["/", "/providers", "/subscribe", "/feed.atom", "/feed.rss", "/feed.json", f"/advisories/{published}",
             f"/advisories/{published}.osv.json", "/.well-known/security.txt", "/healthz", "/metrics", "/openapi.yaml", "/style.css",
             "/advisories/", "/advisories/..%2f", "/%00", "/advisories/%2e%2e/feed.atom"]
    for i in ids:
        paths += [f"/advisories/{i}", f"/advisories/{i}.osv.json", f"/advisories/{i}?x=1", f"/advisories/{i}/"]
    return paths


def normalized(path, response, replace=()):
    headers = []
    cookies = []
    for name, value in response.headers:
        lower = name.lower()
        if lower == "date":
            continue
        if lower == "set-cookie" and path.startswith("/subscribe"):
            cookies.append(value.split(";")[0].split("=", 1)[-1])
            continue
        for old, new in replace:
            value = value.replace(old, new)
        headers.append((lower, value))
    body = response.body
    if path.startswith("/subscribe"):
        for value in cookies:
            if value:
                body = body.replace(value.encode(), b"<csrf>")
        body = re.sub(rb'(name="csrf" value=")[^"]*', rb"\1<csrf>", body)
    for old, new in replace:
        body = body.replace(old.encode(), new.encode())
    if path.startswith("/metrics") and response.status == 200:
        body = b"\n".join(sorted(body.split(b"\n")))     # the registry's order changes from process to process; the values count
    return response.status, sorted(headers), body


def describe_difference(a, b):
    if a[0] != b[0]:
        return f"status {a[0]} vs {b[0]}"
    if a[1] != b[1]:
        only_a = [h for h in a[1] if h not in b[1]]
        only_b = [h for h in b[1] if h not in a[1]]
        return f"headers {short(only_a, 150)} vs {short(only_b, 150)}"
    i = next((i for i, (x, y) in enumerate(zip(a[2], b[2])) if x != y), min(len(a[2]), len(b[2])))
    return f"body differs at byte {i}: {short(a[2][max(0, i - 40):i + 60].decode('utf-8', 'replace'), 120)!r} vs " \
           f"{short(b[2][max(0, i - 40):i + 60].decode('utf-8', 'replace'), 120)!r}"


def compare_servers(a, b, paths):
    """Every path, GET and HEAD, plain and conditional (validators taken from b): a list of differences."""
    differences = []
    for path in paths:
        first = raw_http(b.port, "GET", path, headers={"Host": "herald.test"})
        etag = first.header("etag") or '"0123456789abcdef"'
        modified = first.header("last-modified") or "Mon, 01 Jan 2024 00:00:00 GMT"
        for method in ("GET", "HEAD"):
            for variant in ({}, {"If-None-Match": etag}, {"If-Modified-Since": modified},
                            {"If-Modified-Since": "Thu, 01 Jan 2099 00:00:00 GMT"}):
                headers = dict(variant, Host="herald.test")

                def pair():
                    rb = normalized(path, raw_http(b.port, method, path, headers=headers))
                    return normalized(path, raw_http(a.port, method, path, headers=headers)), rb

                ra, rb = pair()
                if ra != rb:
                    # Herald answers a document from its cache while it is fresh (100 ms) and from the router
                    # otherwise, and the two may differ in ways that depend on timing, not on the data (HEAD's
                    # Content-Length). Ask again with both caches in the same state: stale, then fresh.
                    time.sleep(0.15)
                    ra, rb = pair()
                    if ra == rb:
                        raw_http(b.port, "GET", path, headers={"Host": "herald.test"})
                        raw_http(a.port, "GET", path, headers={"Host": "herald.test"})
                        ra, rb = pair()
                if ra != rb:
                    differences.append(f"{method} {path} {list(variant)}: {describe_difference(ra, rb)}")
    return differences


def all_bodies(server, paths):
    return {path: raw_http(server.port, "GET", path, headers={"Host": "herald.test"}).body for path in paths}


def check_public(it):
    receiver = start_receiver(WORK, "public-hooks")
    base = Herald(it, "public-base")
    shared_url = base.public_url
    base.ok("project", "add", "pub", "--name", "Public Project", "--timezone", "Europe/Amsterdam")
    base.ok("provider", "add", "--organization", "Listed Hosting", "--email", "sec@listed-hosting.example", "--project", "pub",
            "--approve", "--listed")
    base.ok("channel", "add", "--project", "pub", "--kind", "webhook", "--target", receiver.url("/ok/public"),
            "--secret", "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
    published_title = "Published path traversal in the static handler"
    published = base.json("advisory", "create", "--project", "pub", "--title", published_title, "--summary", "A published summary.",
                          "--cve", "CVE-2030-40404", "--severity", "moderate", "--embargo", iso(time.time() + 86400))
    base.ok("advisory", "publish", str(published["id"]), "--now", "--reason", "x")
    base.start()
    wait_for("the base's publication to be delivered", base.settled, timeout=10)
    base.stop()

    a = Herald(it, "public-a", public_url=shared_url, copy_from=base.db)
    b = Herald(it, "public-b", public_url=shared_url, copy_from=base.db)
    a2 = Herald(it, "public-a2", public_url=shared_url, copy_from=base.db)
    b2 = Herald(it, "public-b2", public_url=shared_url, copy_from=base.db)

    secret_texts = []
    body_file = os.path.join(WORK, "embargoed-body.md")
    open(body_file, "w").write("EMBARGOEDBODYTEXT: the parser overflows when the header is long.\n")
    a.start()
    embargoed = a.json("advisory", "create", "--project", "pub", "--title", "Embargoed heap overflow ZETA", "--summary", "EMBARGOEDSUMMARY",
                       "--cve", "CVE-2030-50505", "--severity", "critical", "--body-file", body_file,
                       "--embargo", iso(time.time() + 3 * 86400), "--early-notice", "now")
    secret_texts += ["Embargoed heap overflow ZETA", "CVE-2030-50505", "EMBARGOEDSUMMARY", "EMBARGOEDBODYTEXT"]

    def delivered(advisory, kind):
        return any(d["notice"] == kind and d["state"] == "delivered" for d in a.deliveries(advisory))

    wait_for("the early notice in A", lambda: delivered(embargoed["id"], "early-notice"), timeout=10)
    a.ok("advisory", "reschedule", str(embargoed["id"]), "--embargo", iso(time.time() + 4 * 86400), "--reason", "SECRETREASON distro")
    secret_texts.append("SECRETREASON")
    wait_for("the revision in A", lambda: delivered(embargoed["id"], "revision"), timeout=10)
    cancelled = a.json("advisory", "create", "--project", "pub", "--title", "Cancelled bug OMEGA", "--cve", "CVE-2030-60606",
                       "--severity", "low", "--embargo", iso(time.time() + 2 * 86400), "--early-notice", "now")
    secret_texts += ["Cancelled bug OMEGA", "CVE-2030-60606"]
    wait_for("the second early notice in A", lambda: delivered(cancelled["id"], "early-notice"), timeout=10)
    a.ok("advisory", "cancel", str(cancelled["id"]), "--reason", "SECRETCANCEL not a bug")
    secret_texts.append("SECRETCANCEL")
    wait_for("the cancellation in A", lambda: delivered(cancelled["id"], "cancellation"), timeout=10)
    a.stop()

    # The pre-announced pair: same instant, severity and project; different everything else.
    instant = (int(time.time() / 60) + 24 * 60) * 60
    pre = {}
    for server, title, cve, text in ((a2, "Alpha deserialisation flaw", "CVE-2030-70001", "ALPHABODY"),
                                     (b2, "Bravo privilege escalation", "CVE-2030-80002", "BRAVOBODY")):
        server.start()
        file = os.path.join(server.dir, "body.md")
        open(file, "w").write(f"{text} details of the flaw.\n")
        pre[server.name] = server.json("advisory", "create", "--project", "pub", "--title", title, "--summary", text + "SUMMARY",
                                       "--cve", cve, "--severity", "high", "--body-file", file, "--embargo", iso(instant),
                                       "--pre-announce", "now")
        wait_for(f"the pre-announcement in {server.name}",
                 lambda: any(x["action"] == "advisory.pre-announce" for x in server.json("advisory", "show", str(pre[server.name]["id"]))["audit"])
                 and server.settled(), timeout=10)
        server.stop()
        secret_texts += [title, cve, text]

    for server in (a, b, a2, b2):
        server.start()

    unknown = unknown_public_id("pub")
    paths = public_paths(published["public_id"], [embargoed["public_id"], cancelled["public_id"], unknown])
    bodies_a = all_bodies(a, paths)
    ok_sanity = all(raw_http(a.port, "GET", p, headers={"Host": "herald.test"}).status == 200 and published_title.encode() in bodies_a[p]
                    for p in (f"/advisories/{published['public_id']}", "/feed.atom", "/feed.rss", "/feed.json", "/"))
    osv = raw_http(a.port, "GET", f"/advisories/{published['public_id']}.osv.json", headers={"Host": "herald.test"})
    it.expect(V_SANITY, ok_sanity and osv.status == 200 and b"CVE-2030-40404" in osv.body,
              "the published advisory is missing from A's page, feeds or OSV")

    differences = compare_servers(a, b, paths)
    it.expect(V_AB, not differences, f"{len(differences)} differences, e.g. " + " | ".join(differences[:4]),
              detail=f"{len(paths)} paths × GET/HEAD × 4 conditions")

    unknown_differences = []
    for hidden in (embargoed["public_id"], cancelled["public_id"]):
        for suffix in ("", ".osv.json", "?x=1", "/"):
            for method in ("GET", "HEAD"):
                for variant in ({}, {"If-None-Match": "*"}, {"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}):
                    headers = dict(variant, Host="herald.test")
                    def pair():
                        return (normalized(f"/advisories/{hidden}{suffix}", raw_http(a.port, method, f"/advisories/{hidden}{suffix}", headers=headers),
                                           replace=[(hidden, "<ID>")]),
                                normalized(f"/advisories/{unknown}{suffix}", raw_http(a.port, method, f"/advisories/{unknown}{suffix}", headers=headers),
                                           replace=[(unknown, "<ID>")]))
                    rh, ru = pair()
                    if rh != ru:    # once more after the cache went stale, as in compare_servers
                        time.sleep(0.15)
                        rh, ru = pair()
                    if rh != ru:
                        unknown_differences.append(f"{method} /advisories/<id>{suffix} {list(variant)}: {describe_difference(rh, ru)}")
    it.expect(V_UNKNOWN, not unknown_differences, " | ".join(unknown_differences[:4]))

    paths2 = public_paths(published["public_id"], [pre["public-a2"]["public_id"], pre["public-b2"]["public_id"], unknown])
    bodies = [bodies_a, all_bodies(a2, paths2), all_bodies(b2, paths2)]
    found = sorted({f"'{t}' on {p}" for group in bodies for p, body in group.items() for t in secret_texts if t.encode() in body})
    it.expect(V_TITLES, not found, "; ".join(found[:6]))

    differences2 = compare_servers(a2, b2, paths2)
    upcoming = bodies[1].get("/", b"")
    it.expect(V_PRE, not differences2, f"{len(differences2)} differences, e.g. " + " | ".join(differences2[:4]),
              detail="index shows the planned release" if b"high" in upcoming.lower() else "")


# MARK: - 6. Roles see only what they need

R_MATRIX = {role: f"6 roles: {label} get the expected 401/403/2xx on every admin route"
            for role, label in ((None, "requests without a token"), ("auditor", "auditor tokens"),
                                ("release-manager", "release-manager tokens"), ("admin", "admin tokens"))}
R_SECRET = {role: f"6 secrets: the {role}'s JSON (channels, providers, deliveries, advisory, audit) holds no webhook secret, "
                  f"Matrix token or Slack URL secret" for role in ("auditor", "release-manager")}
R_SMTP = "6 secrets: a malformed --smtp-url is refused without echoing its password"
R_TABLE = "6 secrets: the deliveries table holds no webhook secret or Matrix token"

RANK = {None: -1, "auditor": 0, "release-manager": 1, "admin": 2}


def check_roles(it):
    h = Herald(it, "roles")
    receiver = start_receiver(h.dir, "roles-hooks")
    h.ok("project", "add", "rol", "--name", "Role Project", "--timezone", "UTC")
    tokens = {role: h.token(role, f"role-{role}") for role in ("auditor", "release-manager", "admin")}
    h.token("auditor", "to-revoke")
    channel_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    matrix_token = "syt_" + secrets.token_hex(12) + "_MATRIXTOKEN"
    slack_secret = "SECRETPART123"
    h.json("channel", "add", "--project", "rol", "--kind", "webhook", "--target", receiver.url("/ok/generic"), "--secret", channel_secret)
    h.json("channel", "add", "--project", "rol", "--kind", "slack", "--target", receiver.url(f"/ok/services/T000/B000/{slack_secret}"))
    h.json("channel", "add", "--project", "rol", "--kind", "matrix", "--target", receiver.url("/ok/_matrix/client/v3/rooms/!room:example.org"),
           "--secret", matrix_token)
    test_channel = h.json("channel", "add", "--project", "rol", "--kind", "email", "--target", "announce@lists.role.example")["id"]
    doomed_channel = h.json("channel", "add", "--project", "rol", "--kind", "email", "--target", "doomed@lists.role.example")["id"]
    added = h.run("provider", "add", "--organization", "Hook Provider", "--email", "hook@provider.example", "--webhook",
                  receiver.url("/ok/provider-hook"), "--project", "rol", "--approve", "--json")
    if added.returncode != 0:
        raise CheckFailed(f"provider add with a webhook exited {added.returncode}: {added.stderr.strip()}")
    pattern = r"whsec_[A-Za-z0-9+/=]{30,}"
    provider_secrets = set(re.findall(pattern, added.stdout)) | set(re.findall(pattern, h.run("provider", "list", "--json").stdout))
    try:
        with sqlite3.connect(f"file:{h.db}?mode=ro", uri=True) as db:
            for row in db.execute("SELECT * FROM provider_webhooks"):
                provider_secrets |= set(re.findall(pattern, "|".join(map(str, row))))
    except sqlite3.Error:
        pass
    pending = h.json("provider", "add", "--organization", "Pending For Admin", "--email", "p@pending-admin.example", "--project", "rol")["id"]
    to_suspend = h.json("provider", "add", "--organization", "Suspend Me", "--email", "s@suspend.example", "--project", "rol", "--approve")["id"]
    to_remove = h.json("provider", "add", "--organization", "Remove Me", "--email", "r@remove.example", "--project", "rol", "--approve")["id"]
    later = time.time() + 2 * 86400

    def advisory(title):
        return h.json("advisory", "create", "--project", "rol", "--title", title, "--embargo", iso(later))["id"]

    shared = advisory("Role shared advisory")
    to_publish = {r: advisory(f"Role publish {r}") for r in ("release-manager", "admin")}
    to_cancel = {r: advisory(f"Role cancel {r}") for r in ("release-manager", "admin")}
    fired = h.json("advisory", "create", "--project", "rol", "--title", "Secrets fan-out advisory", "--cve", "CVE-2030-12121",
                   "--embargo", iso(later), "--early-notice", "now")["id"]
    h.start()
    wait_for("the early notice to the provider's webhook", lambda: receiver.requests("/ok/provider-hook"), timeout=10)
    h.ok("advisory", "publish", str(fired), "--now", "--reason", "fire the channels")
    wait_for("the publication on the generic, Slack and Matrix channels",
             lambda: receiver.requests("/ok/generic") and receiver.requests("/ok/services") and receiver.requests("/ok/_matrix"), timeout=10)
    any_delivery = h.deliveries(fired)[0]["id"]

    def routes(role):
        key = role or "anonymous"
        publisher = role if role in to_publish else "release-manager"
        return [
            ("GET", "/api/v1/projects", None, "auditor"), ("GET", "/api/v1/providers", None, "auditor"),
            ("GET", "/api/v1/channels", None, "auditor"), ("GET", "/api/v1/advisories", None, "auditor"),
            ("GET", f"/api/v1/advisories/{fired}", None, "auditor"), ("GET", f"/api/v1/advisories/{fired}/deliveries", None, "auditor"),
            ("GET", "/api/v1/deliveries", None, "auditor"), ("GET", "/api/v1/audit", None, "auditor"),
            ("GET", "/api/v1/tokens", None, "admin?"),
            ("POST", "/api/v1/projects", {"slug": f"p-{key}", "name": f"Project {key}", "timezone": "UTC"}, "admin"),
            ("POST", "/api/v1/providers", {"organization": f"Org {key}", "emails": [f"x@{key}.example"], "projects": ["rol"]}, "admin"),
            ("POST", f"/api/v1/providers/{pending}/approve", {"reason": "ok"}, "admin"),
            ("POST", f"/api/v1/providers/{to_suspend}/suspend", {"reason": "ok"}, "admin"),
            ("POST", f"/api/v1/providers/{to_remove}/remove", {"reason": "ok"}, "admin"),
            ("POST", "/api/v1/channels", {"project": "rol", "kind": "email", "target": f"list-{key}@lists.role.example"}, "admin"),
            ("POST", f"/api/v1/channels/{test_channel}/test", None, "admin"),
            ("DELETE", f"/api/v1/channels/{doomed_channel}", None, "admin"),
            ("POST", "/api/v1/advisories", {"project": "rol", "title": f"Created by {key}", "embargo": iso(later)}, "release-manager"),
            ("POST", f"/api/v1/advisories/{shared}/reschedule", {"embargo": iso(later + RANK[role] * 3600 + 7200), "reason": "r"}, "release-manager"),
            ("POST", f"/api/v1/advisories/{shared}/revise", {"summary": f"revised by {key}", "reason": "r"}, "release-manager"),
            ("POST", f"/api/v1/advisories/{to_publish[publisher]}/publish", {"reason": "r"}, "release-manager"),
            ("POST", f"/api/v1/advisories/{to_cancel[publisher]}/cancel", {"reason": "r"}, "release-manager"),
            ("POST", f"/api/v1/deliveries/{any_delivery}/retry", None, "release-manager~"),
            ("POST", "/api/v1/tokens", {"name": f"made-by-{key}", "role": "auditor"}, "admin"),
            ("DELETE", "/api/v1/tokens/to-revoke", None, "admin"),
        ]

    for role in (None, "auditor", "release-manager", "admin"):
        wrong = []
        for method, path, body, needed in routes(role):
            r = h.http(method, path, body, token=tokens.get(role))
            minimum = needed.rstrip("?~")
            allowed = RANK[role] >= RANK[minimum]
            if role is None:
                good = r.status == 401 and r.is_problem()
            elif needed.endswith("?") and not allowed:
                good = r.status in (200, 403)        # reading the token list (names, roles; no token) is not pinned for lower roles
            elif not allowed:
                good = r.status == 403 and r.is_problem()
            elif needed.endswith("~"):
                good = r.status not in (401, 403) and r.status < 500     # retrying a delivered message may be refused as a conflict
            else:
                good = 200 <= r.status < 300
            if not good:
                wrong.append(f"{method} {path} -> {r.status}")
        it.expect(R_MATRIX[role], not wrong, "; ".join(wrong))

    hidden = [channel_secret, channel_secret[6:], matrix_token, slack_secret] + sorted(provider_secrets) + [s[6:] for s in provider_secrets]
    for role in ("auditor", "release-manager"):
        found = []
        for path in ("/api/v1/channels", "/api/v1/providers", "/api/v1/deliveries", f"/api/v1/advisories/{fired}",
                     f"/api/v1/advisories/{fired}/deliveries", "/api/v1/audit", "/api/v1/advisories"):
            body = h.http("GET", path, token=tokens[role]).text
            for secret in hidden:
                if secret in body:
                    found.append(f"{path} shows {secret[:14]}…")
        note = "" if provider_secrets else " (no provider secret was found to look for)"
        it.expect(R_SECRET[role], not found, "; ".join(sorted(set(found))) + note, detail=note.strip(" ()"))

    # Malformed in several ways, with and without a scheme: the password is never repeated.
    said_all, codes = "", []
    try:
        for bad_url in ("smtp://user:hunter2@[bad", "user:hunter2@mail.example.org:587", "smtp:/user:hunter2@mail.example.org"):
            result = subprocess.run([HERALD, "serve", "--database", os.path.join(h.dir, "smtp.sqlite"), "--listen", f"127.0.0.1:{free_port()}",
                                     "--maildir", os.path.join(h.dir, "smtp-mail"), "--public-url", h.public_url, "--smtp-url", bad_url],
                                    capture_output=True, text=True, env=h.env, timeout=10)
            said_all += result.stdout + result.stderr
            codes.append(result.returncode)
        it.expect(R_SMTP, all(code != 0 for code in codes) and "hunter2" not in said_all,
                  f"exits {codes}, said: {short(said_all.strip(), 300)}", detail=f"exits {codes}")
    except subprocess.TimeoutExpired:
        it.expect(R_SMTP, False, "herald serve kept running with a malformed --smtp-url")

    table = subprocess.run(["sqlite3", h.db, "SELECT * FROM deliveries"], capture_output=True, text=True, timeout=20) \
        if shutil.which("sqlite3") else None
    if table is None or table.returncode != 0:
        with sqlite3.connect(f"file:{h.db}?mode=ro", uri=True) as db:
            dump = "\n".join("|".join(map(str, row)) for row in db.execute("SELECT * FROM deliveries"))
    else:
        dump = table.stdout
    held = [name for name, s in [("the channel's whsec_ secret", channel_secret), ("the Matrix token", matrix_token)] +
            [("the provider's whsec_ secret", s) for s in provider_secrets] if s in dump]
    it.expect(R_TABLE, dump and not held, "SELECT * FROM deliveries shows " + ", ".join(held) if dump else "the deliveries table is empty")


# MARK: - 7. Private reasons stay private

Q_FLAGS = "7 reasons: reschedule takes --note-to-providers and --public-note"
Q_PROVIDER = "7 reasons: the provider's revision mail carries the provider note and never the private reason"
Q_NOTE_PAGE = "7 reasons: the published advisory's page shows the public note"
Q_PUBLIC = "7 reasons: public pages, feeds, OSV and the mailing list show neither the private reason nor the provider note"
Q_CHAT = "7 reasons: public chat and webhook payloads carry neither the private reason nor the provider note"
Q_PROVIDER_ALL = "7 reasons: no provider mail ever carries the private reasons"


def check_reasons(it):
    h = Herald(it, "reasons")
    receiver = start_receiver(h.dir, "reasons-hooks")
    h.ok("project", "add", "rsn", "--name", "Reason Project", "--timezone", "UTC")
    h.ok("provider", "add", "--organization", "Reason Hosting", "--email", "sec@reason-hosting.example", "--project", "rsn", "--approve")
    h.ok("channel", "add", "--project", "rsn", "--kind", "webhook", "--target", receiver.url("/ok/generic"),
         "--secret", "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
    h.ok("channel", "add", "--project", "rsn", "--kind", "slack", "--target", receiver.url("/ok/slack"))
    h.ok("channel", "add", "--project", "rsn", "--kind", "email", "--target", "announce@lists.reason.example")
    h.start()
    title = "Reason test request smuggling"
    created = h.json("advisory", "create", "--project", "rsn", "--title", title, "--cve", "CVE-2033-70707", "--severity", "high",
                     "--embargo", iso(time.time() + 86400), "--early-notice", "now")
    provider = "sec@reason-hosting.example"
    wait_for("the early notice", lambda: h.mails_to(provider, title), timeout=10)
    early = {m.file for m in h.mails_to(provider)}
    result = h.run("advisory", "reschedule", str(created["id"]), "--embargo", iso(time.time() + 2 * 86400),
                   "--reason", "Dimpact needs one more day", "--note-to-providers", "Provider note XYZ", "--public-note", "Public note ABC")
    flags = result.returncode == 0
    it.expect(Q_FLAGS, flags, f"exit {result.returncode}: {result.stderr.strip()}")
    if not flags:    # the old CLI: the same reschedule without the new flags, so the rest still tests where the reason goes
        h.ok("advisory", "reschedule", str(created["id"]), "--embargo", iso(time.time() + 2 * 86400), "--reason", "Dimpact needs one more day")
    revision = wait_or_none(lambda: [m for m in h.mails_to(provider, title) if m.file not in early], 8)
    if not revision:
        it.expect(Q_PROVIDER, False, "no revision mail reached the provider")
    else:
        text = "\n".join(m.text for m in revision)
        it.expect(Q_PROVIDER, "Dimpact" not in text and "Provider note XYZ" in text,
                  ("the revision mail shows the private reason ('Dimpact')" if "Dimpact" in text else "") +
                  ("" if "Provider note XYZ" in text else ("; " if "Dimpact" in text else "") + "the provider note is missing"))

    h.ok("advisory", "publish", str(created["id"]), "--now", "--reason", "leak at Dimpact")
    wait_for("the publication on the generic webhook, Slack and the list",
             lambda: receiver.requests("/ok/generic") and receiver.requests("/ok/slack") and h.mails_to("announce@lists.reason.example"), timeout=10)
    wait_or_none(h.settled, 5)
    pid = created["public_id"]
    surfaces = {p: h.http("GET", p).text for p in ("/", f"/advisories/{pid}", f"/advisories/{pid}.osv.json", "/feed.atom", "/feed.rss", "/feed.json")}
    page = f"/advisories/{pid}"
    it.expect(Q_NOTE_PAGE, "Public note ABC" in surfaces[page], f"no 'Public note ABC' on {page}")
    surfaces["mailing list"] = "\n".join(m.text for m in h.mails_to("announce@lists.reason.example"))
    leaks = [f"'{word}' on {p}" for p, text in surfaces.items() for word in ("Dimpact", "Provider note XYZ") if word in text]
    it.expect(Q_PUBLIC, not leaks, "; ".join(leaks))
    chat = {"generic webhook": receiver.requests("/ok/generic"), "slack": receiver.requests("/ok/slack")}
    leaks = [f"'{word}' in the {k} payload" for k, rs in chat.items() for word in ("Dimpact", "Provider note XYZ")
             if any(word in r["body"] for r in rs)]
    it.expect(Q_CHAT, not leaks, "; ".join(leaks))
    leaks = [m.subject for m in h.mails_to(provider) if "Dimpact" in m.text]
    it.expect(Q_PROVIDER_ALL, not leaks, "'Dimpact' in: " + "; ".join(leaks))


# MARK: - 8. Ids and caches do not count private notices

I_MAIL = "8 ids: public mailing-list Message-IDs carry no notice id and no sequence number"
I_HOOK = "8 ids: public webhook-id headers carry no notice id and no sequence number"
I_ETAG = "8 ids: /feed.atom's ETag and Last-Modified do not change when only an early notice is sent"


def numeric_tokens(identifier):
    return [t for t in re.split(r"[^A-Za-z0-9]+", identifier) if t.isdigit()]


def counting_problems(kind, first, second, notice_ids):
    """What `first` and `second` (public ids of two consecutive publications) give away."""
    problems = []
    for label, identifier, own in (("P1", first[0], first[1]), ("P2", second[0], second[1])):
        tokens = numeric_tokens(identifier)
        if str(own) in tokens:
            problems.append(f"{label}'s {kind} {identifier!r} contains its notice id {own}")
        others = sorted({int(t) for t in tokens} & notice_ids - {own})
        if others:
            problems.append(f"{label}'s {kind} {identifier!r} contains notice ids {others}")
    a, b = numeric_tokens(first[0]), numeric_tokens(second[0])
    if len(a) == len(b):
        for x, y in zip(a, b):
            # A counter (notice, delivery, message): small and growing. Timestamps (> 10^9) count nothing.
            if 0 < int(y) - int(x) <= 1000 and int(x) < 10**9:
                problems.append(f"{kind}s are sequential: {first[0]!r} then {second[0]!r}")
                break
    return problems


def check_ids(it):
    h = Herald(it, "ids")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    receiver = start_receiver(h.dir, "ids-hooks", secret)
    h.ok("project", "add", "ids", "--name", "Ids Project", "--timezone", "UTC")
    h.ok("provider", "add", "--organization", "Ids Hosting", "--email", "sec@ids-hosting.example", "--project", "ids", "--approve")
    h.ok("channel", "add", "--project", "ids", "--kind", "email", "--target", "announce@lists.ids.example")
    h.ok("channel", "add", "--project", "ids", "--kind", "webhook", "--target", receiver.url("/ok/ids"), "--secret", secret)
    later = iso(time.time() + 86400)
    p1 = h.json("advisory", "create", "--project", "ids", "--title", "First public IDSONE", "--embargo", later)
    p2 = h.json("advisory", "create", "--project", "ids", "--title", "Second public IDSTWO", "--embargo", later)
    h.start()

    def published(title):
        mail = h.mails_to("announce@lists.ids.example", title)
        hooks = [r for r in receiver.requests("/ok/ids") if title in r["body"]]
        return (mail[0], hooks[0]) if mail and hooks else None

    h.ok("advisory", "publish", str(p1["id"]), "--now", "--reason", "first")
    first = wait_for("P1 on the list and the webhook", lambda: published("IDSONE"), timeout=10)
    wait_for("P1 in /feed.atom", lambda: b"IDSONE" in h.http("GET", "/feed.atom").body, timeout=5)
    before = h.http("GET", "/feed.atom")
    private = h.json("advisory", "create", "--project", "ids", "--title", "Private IDSPRIVATE", "--embargo", later, "--early-notice", "now")
    wait_for("the early notice", lambda: h.mails_to("sec@ids-hosting.example", "IDSPRIVATE"), timeout=10)
    time.sleep(0.3)
    after = h.http("GET", "/feed.atom")
    it.expect(I_ETAG, before.header("etag") and before.header("etag") == after.header("etag")
              and before.header("last-modified") == after.header("last-modified") and before.body == after.body,
              f"ETag {before.header('etag')} -> {after.header('etag')}, Last-Modified {before.header('last-modified')} -> "
              f"{after.header('last-modified')}")
    h.ok("advisory", "publish", str(p2["id"]), "--now", "--reason", "second")
    second = wait_for("P2 on the list and the webhook", lambda: published("IDSTWO"), timeout=10)

    records = h.deliveries()
    notice_ids = {d["notice_id"] for d in records}
    notice = {}
    for key, advisory in (("p1", p1), ("p2", p2), ("private", private)):
        kinds = {"p1": "publication", "p2": "publication", "private": "early-notice"}
        found = [d["notice_id"] for d in records if d["advisory_id"] == advisory["id"] and d["notice"] == kinds[key]]
        if not found:
            raise CheckFailed(f"no {kinds[key]} notice for {key} in herald deliveries list")
        notice[key] = found[0]
    mail_ids = [m.message_id.strip("<>") for m in (first[0], second[0])]
    hook_ids = [r["headers"].get("webhook-id", "") for r in (first[1], second[1])]
    problems = counting_problems("Message-ID", (mail_ids[0], notice["p1"]), (mail_ids[1], notice["p2"]), notice_ids)
    it.expect(I_MAIL, mail_ids[0] and mail_ids[1] and not problems, "; ".join(problems) or "no Message-ID",
              detail=f"{mail_ids[0]} / {mail_ids[1]}")
    problems = counting_problems("webhook-id", (hook_ids[0], notice["p1"]), (hook_ids[1], notice["p2"]), notice_ids)
    it.expect(I_HOOK, hook_ids[0] and hook_ids[1] and not problems, "; ".join(problems) or "no webhook-id",
              detail=f"{hook_ids[0]} / {hook_ids[1]}")


# MARK: - 9. Smaller things

F_MIGRATE = "9 files: the database and its -wal and -shm are 0600 after herald migrate"
F_SERVE = "9 files: the database and its -wal and -shm are 0600 while herald serve runs"
F_SLOW = "9 slowloris: a connection that never finishes its request head is closed within ~20 s, one that trickles its body within ~40 s"
F_MENTION = {k: f"9 mentions: the {k} payload carries no @channel, <!here>, @everyone or @all" for k in ("slack", "mattermost", "discord")}
F_DISCORD = "9 mentions: the Discord payload says allowed_mentions {\"parse\": []}"
F_BIDI = "9 bidi: provider add refuses an organisation with U+202E (exit 2)"

MENTIONS = ("@channel", "<!here>", "@everyone", "@all")


def modes(path):
    found = {}
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            found[os.path.basename(path + suffix)] = oct(os.stat(path + suffix).st_mode & 0o777)
    return found


def check_small(it):
    h = Herald(it, "small")
    result = h.run("migrate")
    if result.returncode != 0:
        raise CheckFailed(f"herald migrate exited {result.returncode}: {result.stderr.strip()}")
    found = modes(h.db)
    it.expect(F_MIGRATE, found and all(m == "0o600" for m in found.values()), f"modes {found}", detail=str(found))
    receiver = start_receiver(h.dir, "mention-hooks")
    h.ok("project", "add", "men", "--name", "Mention Project", "--timezone", "UTC")
    for kind in ("slack", "mattermost", "discord"):
        h.ok("channel", "add", "--project", "men", "--kind", kind, "--target", receiver.url(f"/ok/{kind}"))
    h.start()
    found = modes(h.db)
    it.expect(F_SERVE, len(found) == 3 and all(m == "0o600" for m in found.values()), f"modes {found}", detail=str(found))

    created = h.json("advisory", "create", "--project", "men", "--title", "Parser fix @channel <!here> @everyone @all",
                     "--summary", "Ping @channel and <!here> and @everyone and @all now.", "--severity", "low",
                     "--embargo", iso(time.time() + 86400))
    h.ok("advisory", "publish", str(created["id"]), "--now", "--reason", "mentions")
    wait_for("the three chat payloads", lambda: all(receiver.requests(f"/ok/{k}") for k in ("slack", "mattermost", "discord")), timeout=10)
    for kind in ("slack", "mattermost", "discord"):
        request = receiver.requests(f"/ok/{kind}")[0]
        try:
            texts = list(strings_in(json.loads(request["body"])))
        except ValueError:
            texts = []
        texts.append(request["body"])
        verbatim = sorted({m for m in MENTIONS for t in texts if m in t})
        it.expect(F_MENTION[kind], not verbatim, "verbatim " + ", ".join(verbatim))
    try:
        discord = json.loads(receiver.requests("/ok/discord")[0]["body"])
    except ValueError:
        discord = {}
    it.expect(F_DISCORD, discord.get("allowed_mentions") == {"parse": []}, f"allowed_mentions is {discord.get('allowed_mentions')!r}")

    result = h.run("provider", "add", "--organization", "Evil\u202eCorp", "--email", "evil@corp.example", "--project", "men")
    it.expect(F_BIDI, result.returncode == 2, f"exit {result.returncode}: {short(result.stdout + result.stderr, 150)}")


def trickle(port, opening, drip, limit=45):
    """Sends `opening`, then one byte of `drip` every 2 s; returns the seconds until the server
    closed the connection, or None if it was still open after `limit` s."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    started = time.time()
    try:
        sock.sendall(opening)
        index = 0
        while time.time() - started < limit:
            readable, _, _ = select.select([sock], [], [], 2.0)
            if readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    return time.time() - started
                continue     # an answer (408, 400 …) may come before the close
            try:
                sock.sendall(drip[index % len(drip):index % len(drip) + 1])
                index += 1
            except OSError:
                return time.time() - started
        return None
    finally:
        sock.close()


def check_slowloris(it):
    h = Herald(it, "slowloris")
    h.start()
    results = {}

    def run(name, opening, drip):
        results[name] = trickle(h.port, opening, drip)

    # A head that never ends, and a whole head with a body sent a byte every 2 s.
    body = json.dumps({"organization": "Slow", "email": "slow@slow.example", "projects": ["p"]}).encode()
    threads = [threading.Thread(target=run, args=("head", b"GET / HTTP/1.1\r\nHost: x\r\n", b"X-Slow-Header-That-Never-Ends-" + b"a" * 64)),
               threading.Thread(target=run, args=("body", b"POST /api/v1/subscriptions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                                  + f"Content-Length: {len(body) * 100}\r\n\r\n".encode(), body))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    head, slow_body = results.get("head"), results.get("body")
    it.expect(F_SLOW, head is not None and head <= 22 and slow_body is not None and slow_body <= 40,
              f"a slow head closed after {head} s, a slow body after {slow_body} s (None: still open)",
              detail=f"head closed after {head:.1f} s, body after {slow_body:.1f} s" if head and slow_body else "")


# MARK: - main

def main():
    if not os.access(HERALD, os.X_OK):
        print(f"FAIL setup: {HERALD} is not an executable", flush=True)
        sys.exit(1)
    # ADVERSARY_ONLY=4,9 runs only those items (for working on one).
    only = {x.strip() for x in os.environ.get("ADVERSARY_ONLY", "").split(",") if x.strip()}
    items = [
        ("9", [F_SLOW], check_slowloris),
        ("4", [B_NAMES[k] for k in B_NAMES] + [B_FLOOD, B_ONTIME, B_VISIBLE, B_HEALTH], check_instant),
        ("1", [M_ANON, M_NEVER, M_ROLES, M_ENV, M_LISTEN], check_metrics),
        ("2", [P_ACTIVE] + list(P_SUSP.values()) + list(P_REM.values()) + [P_MAIL, P_PENDING], check_providers),
        ("3", [S_API_SAME, S_FORM_SAME, S_API_MAIL, S_FORM_MAIL, S_ADD, S_SECOND, S_THIRD, S_PLAIN], check_subscriptions),
        ("5", [V_SANITY, V_AB, V_UNKNOWN, V_TITLES, V_PRE], check_public),
        ("6", list(R_MATRIX.values()) + list(R_SECRET.values()) + [R_SMTP, R_TABLE], check_roles),
        ("7", [Q_FLAGS, Q_PROVIDER, Q_NOTE_PAGE, Q_PUBLIC, Q_CHAT, Q_PROVIDER_ALL], check_reasons),
        ("8", [I_MAIL, I_HOOK, I_ETAG], check_ids),
        ("9", [F_MIGRATE, F_SERVE, F_MENTION["slack"], F_MENTION["mattermost"], F_MENTION["discord"], F_DISCORD, F_BIDI], check_small),
    ]
    items = [i for i in items if not only or i[0] in only]
    # The slowloris check mostly waits: it runs beside the others.
    background = [threading.Thread(target=run_item, args=(names, body)) for _, names, body in items if body is check_slowloris]
    for thread in background:
        thread.start()
    for _, names, body in items:
        if body is not check_slowloris:
            run_item(names, body)
    for thread in background:
        thread.join()
    failed = [name for name, ok in RESULTS if not ok]
    print(f"\n{len(RESULTS) - len(failed)} of {len(RESULTS)} checks passed, {len(failed)} failed "
          f"({time.time() - STARTED:.0f} s, {os.path.basename(HERALD)})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
