#!/usr/bin/env python3
"""One Matrix message through a real homeserver: Synapse on loopback (shared-secret
registration), a Herald matrix channel to a room in it, a publication, and the message read
back through the client API as a reader's client would see it.

  matrix_check.py HERALD_BINARY SYNAPSE_VENV
Fails naming what was missing."""
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from harness import Run, free_port

HERALD = os.path.abspath(sys.argv[1])
VENV = os.path.abspath(sys.argv[2])
run = Run("MATRIX", "herald-matrix-")
WORK = run.work
children = run.children
fail = run.fail


def request(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=10) as response:
        return json.loads(response.read() or b"{}")


def wait_for(what, condition, timeout=60):
    return run.wait_for(what, condition, timeout=timeout, interval=0.3, tolerate=(OSError, urllib.error.URLError, ValueError))


# Synapse on loopback with a configuration made for this run.
port = free_port()
config = os.path.join(WORK, "homeserver.yaml")
python = os.path.join(VENV, "bin", "python")
subprocess.run([python, "-m", "synapse.app.homeserver", "--server-name", "localhost", "--config-path", config, "--data-directory", WORK,
                "--generate-config", "--report-stats=no"], check=True, capture_output=True, cwd=WORK)
text = open(config).read()
text = re.sub(r"port: 8008", f"port: {port}", text)
text = re.sub(r"bind_addresses: \[[^\]]*\]", "bind_addresses: ['127.0.0.1']", text)
shared = secrets.token_hex(16)
text += f"\nregistration_shared_secret: \"{shared}\"\nsuppress_key_server_warning: true\n"
text += "rc_message: {per_second: 1000, burst_count: 1000}\nrc_registration: {per_second: 1000, burst_count: 1000}\n"
text += "rc_login: {address: {per_second: 1000, burst_count: 1000}, account: {per_second: 1000, burst_count: 1000}}\n"
open(config, "w").write(text)
synapse = subprocess.Popen([python, "-m", "synapse.app.homeserver", "--config-path", config], cwd=WORK,
                           stdout=open(os.path.join(WORK, "synapse.log"), "w"), stderr=subprocess.STDOUT)
children.append(synapse)
BASE = f"http://127.0.0.1:{port}"
wait_for("Synapse to answer", lambda: request("GET", f"{BASE}/_matrix/client/versions").get("versions"))
print(f"==> Synapse on {BASE}", flush=True)

subprocess.run([os.path.join(VENV, "bin", "register_new_matrix_user"), "-u", "herald-bot", "-p", "bot-password-1", "--no-admin",
                "-k", shared, BASE], check=True, capture_output=True)
token = request("POST", f"{BASE}/_matrix/client/v3/login",
                {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "herald-bot"}, "password": "bot-password-1"})["access_token"]
room = request("POST", f"{BASE}/_matrix/client/v3/createRoom", {"name": "Security announcements"}, token)["room_id"]

# Herald: a matrix channel to that room, a publication.
db = os.path.join(WORK, "herald.sqlite")
env = dict(os.environ, HERALD_LOG_LEVEL="warning", HERALD_ALLOW_PRIVATE_TARGETS="1")


herald = run.herald_at(HERALD, db, env)


herald("migrate")
herald("project", "add", "demo", "--name", "Demo")
herald("channel", "add", "--project", "demo", "--kind", "matrix", "--target", f"{BASE}/_matrix/client/v3/rooms/{room}", "--secret", token)
body = os.path.join(WORK, "body.md")
open(body, "w").write("## Impact\n\nA **crafted** header.\n\n| version | fixed |\n|---|---|\n| 1.4 | 1.4.3 |\n\n<script>x</script>\n")
embargo = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
herald("advisory", "create", "--project", "demo", "--title", "Matrix round trip overflow", "--body-file", body, "--embargo", embargo)
herald("advisory", "publish", "1", "--now", "--reason", "matrix check")
serve = subprocess.Popen([HERALD, "serve", "--database", db, "--listen", f"127.0.0.1:{free_port()}", "--maildir", os.path.join(WORK, "mail")],
                         env=env, stdout=open(os.path.join(WORK, "serve.log"), "w"), stderr=subprocess.STDOUT)
children.append(serve)
wait_for("the delivery to the room", lambda: all(d["state"] == "delivered" for d in json.loads(herald("deliveries", "list", "--json"))))
serve.send_signal(signal.SIGTERM)
serve.wait(timeout=10)

# Read back as a client would.
messages = request("GET", f"{BASE}/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=20", token=token)["chunk"]
ours = [m for m in messages if m.get("type") == "m.room.message" and "Matrix round trip overflow" in m["content"].get("body", "")]
if len(ours) != 1:
    fail(f"expected one message in the room, found {len(ours)}: {json.dumps(messages)[:800]}")
content = ours[0]["content"]
if content.get("format") != "org.matrix.custom.html" or "<table>" not in content.get("formatted_body", ""):
    fail(f"the formatted body is not the rendered Markdown: {json.dumps(content)[:600]}")
if "<script>" in content.get("formatted_body", ""):
    fail("raw HTML reached the room")
synapse.send_signal(signal.SIGTERM)
synapse.wait(timeout=20)
print(f"matrix: one message in {room} through Synapse, read back with its rendered HTML body")
