#!/usr/bin/env python3
"""Providers' keys from their domains' Web Key Directories, and through the admin API.

A real HTTPS server (Python's, on port 443, with a certificate made by openssl for *.localhost
names, which libcurl resolves to loopback itself) plays four providers' domains: one answers
the advanced method, one only the direct method, one serves a key for another address and one
an answer too large to be a key. `herald provider key fetch` must refuse them all while private
addresses are refused (loopback is one), then, allowed, store exactly the two good keys, asking
under the hash GnuPG computes (`gpg --with-wkd-hash`); fetching again is audited as a refresh.
Then the admin API: an admin adds, lists and removes a key, an auditor only lists, and a bad key
is refused with problem+json.

  wkd_check.py HERALD_BINARY
"""
import http.server
import json
import os
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import jsonschema
import yaml

from harness import Run, free_port

HERALD = os.path.abspath(sys.argv[1])
run = Run("WKD", "herald-wkd-")
WORK = run.work
DB = os.path.join(WORK, "herald.sqlite")
GNUPGHOME = os.path.join(WORK, "gnupg")
os.makedirs(GNUPGHOME, mode=0o700)
fail = run.fail
ENV = dict(os.environ, HERALD_LOG_LEVEL="warning", HERALD_MAIL_FROM="security@herald.example")
ENV.pop("HERALD_ALLOW_PRIVATE_TARGETS", None)
herald = run.herald_at(HERALD, DB, env=ENV)


def step(text):
    print(f"==> {text}", flush=True)


def gpg(*args):
    result = subprocess.run(["gpg", "--homedir", GNUPGHOME, "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                             *args], capture_output=True)
    if result.returncode != 0:
        fail(f"gpg {' '.join(args)}: {result.stderr.decode(errors='replace')}")
    return result.stdout


def new_key(address):
    """A GnuPG key for `address`: (binary public key, fingerprint, gpg's WKD hash of the address)."""
    gpg("--quick-gen-key", f"Contact <{address}>", "ed25519", "cert,sign", "never")
    colons = gpg("--list-keys", "--with-colons", address).decode()
    fpr = next(line.split(":")[9] for line in colons.splitlines() if line.startswith("fpr"))
    listing = gpg("--list-keys", "--with-wkd-hash", address).decode()
    gpg("--quick-add-key", fpr, "cv25519", "encr", "never")
    wkd = re.search(r"^\s*([a-z0-9]{32})@", listing, re.M)
    if not wkd:
        fail(f"gpg gave no WKD hash for {address}:\n{listing}")
    return gpg("--export", fpr), fpr, wkd.group(1)


step("keys made by GnuPG for four domains under .localhost")
alice, alice_fpr, alice_hash = new_key("alice@advanced.localhost")
bob, bob_fpr, bob_hash = new_key("Bob.Builder@direct.localhost")
mallory, _, _ = new_key("mallory@elsewhere.localhost")
_, _, carol_hash = new_key("carol@wrong.localhost")
spa, spa_fpr, spa_hash = new_key("sam@spa.localhost")

# What the server answers: (Host, path) -> body; anything else is 404. The wrong domain serves
# another address's key, the huge one more than a key may be.
ANSWERS = {
    ("openpgpkey.advanced.localhost", f"/.well-known/openpgpkey/advanced.localhost/hu/{alice_hash}"): alice,
    ("direct.localhost", f"/.well-known/openpgpkey/hu/{bob_hash}"): bob,
    ("openpgpkey.wrong.localhost", f"/.well-known/openpgpkey/wrong.localhost/hu/{carol_hash}"): mallory,
    ("spa.localhost", f"/.well-known/openpgpkey/hu/{spa_hash}"): spa,
}
REQUESTS = []


class Directory(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        path, _, query = self.path.partition("?")
        REQUESTS.append((host, path, query))
        if host == "openpgpkey.huge.localhost":
            body = b"\x99" * (100 * 1024)
        elif host == "openpgpkey.spa.localhost":
            body = b"<!doctype html><title>Welcome</title>"  # a catch-all site answers every path
        elif host.endswith("errors.localhost"):
            self.send_response(404)  # an error page larger than any key
            self.send_header("Content-Length", str(100 * 1024))
            self.end_headers()
            self.wfile.write(b"x" * (100 * 1024))
            return
        else:
            body = ANSWERS.get((host, path))
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


step("an HTTPS server on 127.0.0.1:443 with a certificate for the domains and their openpgpkey subdomains")
names = [n for d in ("advanced", "direct", "wrong", "huge", "spa", "errors") for n in (f"{d}.localhost", f"openpgpkey.{d}.localhost")]
cert, key = os.path.join(WORK, "cert.pem"), os.path.join(WORK, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=wkd-check", "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in names),
                "-keyout", key, "-out", cert], check=True, capture_output=True)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 443), Directory)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
threading.Thread(target=server.serve_forever, daemon=True).start()

herald("migrate")
herald("project", "add", "oz", "--name", "Open Zaak")


def provider(organization, *emails):
    args = ["provider", "add", "--organization", organization, "--project", "oz", "--approve"]
    for address in emails:
        args += ["--email", address]
    herald(*args)
    return next(p["id"] for p in json.loads(herald("provider", "list", "--json")) if p["organization"] == organization)


ada = provider("Advanced BV", "alice@advanced.localhost")
dirk = provider("Direct BV", "Bob.Builder@direct.localhost")
wrong = provider("Wrong BV", "carol@wrong.localhost")
huge = provider("Huge BV", "dave@huge.localhost")
spa_co = provider("Catch-all BV", "sam@spa.localhost")
errors = provider("Errors BV", "eve@errors.localhost")


def fetch(pid, *extra, allow=False, env=None):
    env = dict(env or ENV, HERALD_ALLOW_PRIVATE_TARGETS="1") if allow else (env or ENV)
    return subprocess.run([HERALD, "provider", "key", "fetch", str(pid), "--database", DB, *extra], capture_output=True,
                          text=True, env=env)


step("refused while private addresses are: loopback is one, and nothing is asked")
refused = fetch(ada, "--ca-file", cert)
if refused.returncode != 1 or "loopback or private" not in refused.stdout or REQUESTS:
    fail(f"a fetch from a loopback host was not refused (exit {refused.returncode}): {refused.stdout}{refused.stderr}"
         f" requests: {REQUESTS}")

step("the system's CAs do not vouch for the test certificate: TLS is verified")
untrusted = fetch(ada, allow=True)
if untrusted.returncode != 1 or "certificate" not in untrusted.stdout.lower():
    fail(f"a certificate no CA vouches for was accepted (exit {untrusted.returncode}): {untrusted.stdout}")

step("the advanced method, under gpg's own hash, with the local part in l=")
REQUESTS.clear()
got = fetch(ada, "--ca-file", cert, "--json", allow=True)
rows = json.loads(got.stdout or "[]")
if got.returncode != 0 or len(rows) != 1 or rows[0]["fingerprint"] != alice_fpr:
    fail(f"alice's key was not fetched (exit {got.returncode}): {got.stdout}{got.stderr}")
advanced_url = f"https://openpgpkey.advanced.localhost/.well-known/openpgpkey/advanced.localhost/hu/{alice_hash}?l=alice"
if rows[0]["url"] != advanced_url or REQUESTS != [("openpgpkey.advanced.localhost",
                                                    f"/.well-known/openpgpkey/advanced.localhost/hu/{alice_hash}", "l=alice")]:
    fail(f"not the advanced method's URL: {rows[0]['url']} after {REQUESTS}")

step("the direct method when the advanced one has nothing; the hash of the lower-cased local part, l= as written")
REQUESTS.clear()
got = fetch(dirk, "--ca-file", cert, "--json", allow=True)
rows = json.loads(got.stdout or "[]")
if got.returncode != 0 or rows[0]["fingerprint"] != bob_fpr or rows[0]["url"] != \
        f"https://direct.localhost/.well-known/openpgpkey/hu/{bob_hash}?l=Bob.Builder":
    fail(f"bob's key was not fetched by the direct method (exit {got.returncode}): {got.stdout}{got.stderr}")
if [r[0] for r in REQUESTS] != ["openpgpkey.direct.localhost", "direct.localhost"]:
    fail(f"not advanced, then direct: {REQUESTS}")

step("a page that is no key at the advanced URL gives way to the direct one")
got = fetch(spa_co, "--ca-file", cert, "--json", allow=True)
rows = json.loads(got.stdout or "[]")
if got.returncode != 0 or rows[0]["fingerprint"] != spa_fpr or not rows[0]["url"].startswith("https://spa.localhost/"):
    fail(f"a catch-all page at the advanced URL hid the direct one (exit {got.returncode}): {got.stdout}{got.stderr}")

step("an error page is an error, however large; a proxy in the environment is not used")
got = fetch(errors, "--ca-file", cert, allow=True, env=dict(ENV, HTTPS_PROXY="http://127.0.0.1:9", ALL_PROXY="http://127.0.0.1:9"))
if got.returncode != 1 or got.stdout.count("HTTP 404") != 2 or "larger than" in got.stdout:
    fail(f"a large 404 page, or the proxy: (exit {got.returncode}): {got.stdout}{got.stderr}")

step("a key for another address and an oversized answer are refused, and nothing is stored")
got = fetch(wrong, "--ca-file", cert, allow=True)
if got.returncode != 1 or "mallory@elsewhere.localhost" not in got.stdout:
    fail(f"a key naming another address was taken (exit {got.returncode}): {got.stdout}{got.stderr}")
got = fetch(huge, "--ca-file", cert, allow=True)
if got.returncode != 1 or "larger than 64 KiB" not in got.stdout:
    fail(f"an oversized answer was not refused (exit {got.returncode}): {got.stdout}{got.stderr}")
for pid in (wrong, huge, errors):
    if json.loads(herald("provider", "key", "list", str(pid), "--json")):
        fail(f"provider {pid} has a key after a refused fetch")

step("an address the provider does not have is bad input: one line, exit 2")
bad = fetch(ada, "--email", "nobody@advanced.localhost", "--ca-file", cert, allow=True)
if bad.returncode != 2 or len(bad.stderr.strip().splitlines()) != 1:
    fail(f"an unknown address gave exit {bad.returncode}: {bad.stderr}")

step("fetching the same key again is audited as a refresh, not a replacement")
if fetch(ada, "--ca-file", cert, allow=True).returncode != 0:
    fail("the second fetch failed")
actions = [e["action"] for e in json.loads(herald("audit", "--json")) if e["action"].startswith("provider.key")]
if actions.count("provider.key-add") != 3 or actions.count("provider.key-refresh") != 1 or "provider.key-replace" in actions:
    fail(f"audit after three adds and a refresh: {actions}")
sources = [e["details"].get("source") for e in json.loads(herald("audit", "--json")) if e["action"] == "provider.key-add"]
if advanced_url not in sources:
    fail(f"a fetched key's audit entry does not say where it came from: {sources}")

step("the admin API: an admin adds, lists and removes a key; an auditor lists only; a bad key is problem+json")
admin = herald("token", "create", "--name", "wkd-admin", "--role", "admin").strip().splitlines()[0]
auditor = herald("token", "create", "--name", "wkd-auditor", "--role", "auditor").strip().splitlines()[0]
port = free_port()
serve = subprocess.Popen([HERALD, "serve", "--database", DB, "--listen", f"127.0.0.1:{port}", "--maildir",
                          os.path.join(WORK, "maildir")], env=dict(ENV, HERALD_PUBLIC_URL=f"http://127.0.0.1:{port}"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
run.children.append(serve)


def api(method, path, token, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), json.loads(error.read() or b"null")


run.wait_for("serve", lambda: api("GET", "/projects", auditor)[0] == 200, tolerate=(OSError,))
erin_armored = None
gpg("--quick-gen-key", "Erin <erin@api.localhost>", "ed25519", "cert,sign", "never")
erin_fpr = next(line.split(":")[9] for line in gpg("--list-keys", "--with-colons", "erin@api.localhost").decode().splitlines()
                if line.startswith("fpr"))
gpg("--quick-add-key", erin_fpr, "cv25519", "encr", "never")
erin_armored = gpg("--armor", "--export", erin_fpr).decode()
erin = provider("API BV", "erin@api.localhost")

status, kind, body = api("POST", f"/providers/{erin}/keys", auditor, {"key": erin_armored})
if status != 403 or "problem+json" not in kind:
    fail(f"an auditor added a key: {status} {body}")
status, kind, body = api("POST", f"/providers/{erin}/keys", admin, {"key": "-----BEGIN PGP PUBLIC KEY BLOCK-----\nnonsense"})
if status not in (400, 422) or "problem+json" not in kind:
    fail(f"a bad key was not refused with problem+json: {status} {kind} {body}")
status, _, body = api("POST", f"/providers/{erin}/keys", admin, {"key": erin_armored})
if status != 201 or [k["fingerprint"] for k in body] != [erin_fpr] or body[0]["email"] != "erin@api.localhost":
    fail(f"the admin could not add erin's key: {status} {body}")
status, _, body = api("GET", f"/providers/{erin}/keys", auditor)
if status != 200 or [k["fingerprint"] for k in body] != [erin_fpr] or "armored" in body[0]:
    fail(f"the auditor's list: {status} {body}")
# The answer is what openapi.yaml says it is (schemathesis may never see a key to check).
spec = yaml.safe_load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "openapi.yaml")))
key_schema = dict(spec["components"]["schemas"]["ProviderKey"], additionalProperties=False)
try:
    jsonschema.Draft202012Validator(key_schema, format_checker=jsonschema.FormatChecker()).validate(body[0])
except jsonschema.ValidationError as error:
    fail(f"a listed key does not match openapi.yaml's ProviderKey: {error.message}: {body[0]}")
status, _, body = api("DELETE", f"/providers/{erin}/keys/{erin_fpr[-16:]}", auditor)
if status != 403:
    fail(f"an auditor removed a key: {status} {body}")
status, _, body = api("DELETE", f"/providers/{erin}/keys/{erin_fpr[-16:]}", admin)
if status != 200 or body != {"addresses": ["erin@api.localhost"]}:
    fail(f"the admin could not remove erin's key: {status} {body}")
if api("GET", f"/providers/{erin}/keys", admin)[2] != []:
    fail("erin's key is still listed after removal")
actor_rows = [e for e in json.loads(herald("audit", "--json")) if e["action"] in ("provider.key-add", "provider.key-remove")
              and e.get("subject_id") == erin]
if {e["action"] for e in actor_rows} != {"provider.key-add", "provider.key-remove"} or \
        any(not e["actor"].startswith("token:") for e in actor_rows):
    fail(f"the API's key changes are not audited with the token as actor: {actor_rows}")

serve.terminate()
serve.wait(timeout=10)
server.shutdown()
print("WKD OK: advanced and direct methods under gpg's hash, private hosts and bad TLS refused, wrong and oversized keys"
      " refused, a refresh audited as one; the admin API adds, lists and removes keys by role")
