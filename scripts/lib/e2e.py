#!/usr/bin/env python3
"""Herald end to end, as its users do it: real SMTP server, two real webhook receivers,
`herald serve` on a fresh database, and only the CLI and the HTTP API to drive it.

  e2e.py HERALD_BINARY
Fails loudly, naming what was missing. Prints a summary on success."""
import email
import email.policy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from harness import Run, free_port

HERALD = os.path.abspath(sys.argv[1])
SUPPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Support")
run = Run("E2E", "herald-e2e-")
WORK = run.work
DB = os.path.join(WORK, "herald.sqlite")
SECRET = "whsec_ZTJlLXRlc3Qtc2lnbmluZy1rZXktMzItYnl0ZXMh"
children = run.children
fail = run.fail


def step(text):
    print(f"==> {text}", flush=True)


def start(script, *args):
    process = subprocess.Popen([sys.executable, os.path.join(SUPPORT, script), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    children.append(process)
    line = process.stdout.readline().strip()
    if not line.startswith("ready "):
        fail(f"{script} did not start: {line!r}")
    return int(line.split()[1])


def http(method, path, body=None, token=None, form=False):
    data = None
    headers = {}
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def mails():
    found = []
    for name in sorted(os.listdir(MAILDIR)):
        if not name.endswith(".eml"):
            continue
        raw = open(os.path.join(MAILDIR, name), "rb").read()
        envelope, raw = raw.split(b"\r\n", 1)
        raw = raw.split(b"\r\n", 1)[1]
        message = email.message_from_bytes(raw, policy=email.policy.default)
        found.append({"to": envelope.split(b": ", 1)[1].decode(), "subject": str(message["subject"]), "body": message.get_content(),
                      "message": message})
    return found


def link(kind, recipient):
    for mail in reversed(mails()):
        if mail["to"] == recipient:
            match = re.search(re.escape(BASE) + r"(/" + kind + r"\?token=[A-Za-z0-9_-]+)", mail["body"])
            if match:
                return match.group(1)
    return None


def webhook_requests(log):
    if not os.path.exists(log):
        return []
    return [json.loads(line) for line in open(log) if line.strip()]


def can_connect(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


step("starting an SMTP server, two webhook receivers and herald serve on a fresh database")
MAILDIR = os.path.join(WORK, "smtp")
smtp_port = start("smtp_server.py", "--dir", MAILDIR)
slack_log, generic_log = os.path.join(WORK, "slack.jsonl"), os.path.join(WORK, "generic.jsonl")
slack_port = start("webhook_receiver.py", "--log", slack_log)
generic_port = start("webhook_receiver.py", "--log", generic_log, "--secret", SECRET)
port = free_port()
BASE = f"http://127.0.0.1:{port}"
ENV = dict(os.environ, HERALD_PUBLIC_URL=BASE, HERALD_MAIL_FROM="security@herald.example", HERALD_LOG_LEVEL="warning")
herald = run.herald_at(HERALD, DB, ENV)
wait_for = run.wait_for
serve = subprocess.Popen([HERALD, "serve", "--database", DB, "--listen", f"127.0.0.1:{port}", "--smtp-url", f"smtp://127.0.0.1:{smtp_port}",
                          "--allow-private-targets"], env=ENV, stdout=open(os.path.join(WORK, "serve.log"), "w"), stderr=subprocess.STDOUT)
children.append(serve)
wait_for("herald serve to answer /healthz", lambda: can_connect(port) and http("GET", "/healthz")[0] == 200)

step("a token, a project, a public mailing list and two chat channels")
token = herald("token", "create", "--name", "release-manager", "--role", "admin").strip()
herald("project", "add", "demo", "--name", "Demo Project", "--timezone", "Europe/Amsterdam")
herald("channel", "add", "--project", "demo", "--kind", "email", "--target", "announce@lists.example")
herald("channel", "add", "--project", "demo", "--kind", "slack", "--target", f"http://127.0.0.1:{slack_port}/ok/slack")
herald("channel", "add", "--project", "demo", "--kind", "webhook", "--target", f"http://127.0.0.1:{generic_port}/ok/generic", "--secret", SECRET)

step("two providers subscribe through the public API and confirm with the links from their mails")
providers = {"Acme Hosting": "security@acme.example", "Gemeente Voorbeeld": "cert@voorbeeld.example"}
for organization, address in providers.items():
    status, body = http("POST", "/api/v1/subscriptions", {"organization": organization, "email": address, "projects": ["demo"]})
    if status != 202:
        fail(f"subscription of {organization} answered {status}: {body}")
for organization, address in providers.items():
    confirm = wait_for(f"a confirmation mail to {address}", lambda: link("subscriptions/confirm", address))
    status, page = http("GET", confirm)
    if status != 200 or "<form" not in page:
        fail(f"the confirmation page for {address} answered {status}")
    status, page = http("POST", confirm, "")
    if status != 200:
        fail(f"confirming {address} answered {status}: {page}")

step("a release manager approves them")
pending = json.loads(herald("provider", "list", "--status", "pending-approval", "--json"))
if sorted(p["organization"] for p in pending) != sorted(providers):
    fail(f"pending approval: {[p['organization'] for p in pending]}, expected {sorted(providers)}")
for provider in pending:
    herald("provider", "approve", str(provider["id"]))
for address in providers.values():
    wait_for(f"a welcome mail to {address}", lambda: any(m["to"] == address and "now receives early notice" in m["subject"] for m in mails()))

step("an advisory with an embargo 10 s ahead and early notice now")
title = "Heap overflow in the request parser"
cve = "CVE-2026-24680"
embargo = time.time() + 10
created = json.loads(herald("advisory", "create", "--project", "demo", "--title", title, "--summary", "A crafted request overflows a heap buffer.",
                            "--cve", cve, "--severity", "high", "--embargo", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(embargo)),
                            "--early-notice", "now", "--json"))
advisory_id, public_id = created["id"], created["public_id"]
for address in providers.values():
    wait_for(f"the early notice to {address}", lambda: any(m["to"] == address and m["subject"].startswith("[EMBARGOED]") for m in mails()))

step("one reschedule: a revision to everyone who had the early notice")
embargo += 2
herald("advisory", "reschedule", str(advisory_id), "--embargo", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(embargo)), "--reason", "a distribution needs two more seconds")
for address in providers.values():
    wait_for(f"the revision to {address}", lambda: any(m["to"] == address and "Revised" in m["subject"] for m in mails()))


def public_surfaces():
    pages = {path: http("GET", path)[1] for path in ["/", "/feed.atom", "/feed.rss", "/feed.json", f"/advisories/{public_id}", f"/advisories/{public_id}.osv.json"]}
    pages["mailing list"] = "\n".join(m["subject"] + m["body"] for m in mails() if m["to"] == "announce@lists.example")
    pages["slack"] = "\n".join(r["body"] for r in webhook_requests(slack_log))
    pages["generic webhook"] = "\n".join(r["body"] for r in webhook_requests(generic_log))
    return pages


step("before the instant: nothing public anywhere")
if time.time() >= embargo:
    fail("the setup took longer than the embargo; nothing was tested before the instant")
for surface, text in public_surfaces().items():
    for secret in (title, cve, public_id):
        if secret in text:
            fail(f"'{secret}' appeared on {surface} before the embargo instant")

step("at the instant: the mailing list, both webhooks, the feeds and the page all have it")
while time.time() < embargo:
    time.sleep(0.05)
shown = wait_for("every public surface to show the advisory",
                 lambda: (lambda s: s if all(title in text or cve in text for text in s.values()) else None)(public_surfaces()), timeout=3)
lag = time.time() - embargo
generic = webhook_requests(generic_log)
if not generic or not all(r["verified"] for r in generic):
    fail("the generic webhook's Standard Webhooks signature did not verify")
if not all(r.get("verified_by") == "standardwebhooks" for r in generic):
    fail("the signature was not checked by the official standardwebhooks library (pip install standardwebhooks)")

step("one provider acknowledges")
ack = link("ack", providers["Acme Hosting"])
if not ack:
    fail("no acknowledgement link in Acme Hosting's early notice")
status, page = http("POST", ack, "")
if status != 200:
    fail(f"acknowledging answered {status}")

step("herald advisory show lists every delivery and the acknowledgement")
detail = json.loads(herald("advisory", "show", str(advisory_id), "--json"))
deliveries = detail["deliveries"]
undelivered = [d for d in deliveries if d["state"] != "delivered"]
if undelivered:
    fail(f"deliveries not delivered: {undelivered}")
kinds = sorted({(d["notice"], d["recipient"]) for d in deliveries})
for address in providers.values():
    for notice in ("early-notice", "revision", "publication"):
        if (notice, address) not in kinds:
            fail(f"no {notice} delivery to {address} in advisory show")
# Endpoint URLs are listed by fingerprint (a chat webhook's URL is its credential): scheme, host, port.
for target in ("announce@lists.example", f"http://127.0.0.1:{slack_port}/…", f"http://127.0.0.1:{generic_port}/…"):
    if not any(notice == "publication" and recipient.startswith(target) for notice, recipient in kinds):
        fail(f"no publication delivery to {target}")
    if target.endswith("…") and any("/ok/" in recipient for _, recipient in kinds):
        fail("advisory show lists an endpoint's URL whole")
if [a["organization"] for a in detail["acknowledgements"]] != ["Acme Hosting"]:
    fail(f"acknowledgements: {detail['acknowledgements']}")
human = herald("advisory", "show", str(advisory_id))
if "Acme Hosting" not in human.split("Acknowledgements:")[1]:
    fail("the human advisory show does not list the acknowledgement")

serve.send_signal(signal.SIGTERM)
serve.wait(timeout=30)
if serve.returncode != 0:
    fail(f"herald serve exited {serve.returncode} on SIGTERM")
for child in children:
    child.kill()
print(f"e2e passed: {len(deliveries)} deliveries, {len(mails())} mails, every public surface {lag * 1000:.0f} ms after the instant")
