#!/usr/bin/env python3
"""Every document Herald serves, checked by the ecosystem's own validators: the OSV record and
JSON Feed with `jsonschema` against the official schemas, Atom with `jing` against RFC 4287's
RELAX NG, RSS with feedparser, the Teams card against the Adaptive Card schema. And the OSV
record is checked the way a scanner uses it: a version inside the range matches, one outside
does not.

  check_documents.py HERALD_BINARY
Prints one line per document; exits 1 naming what failed."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import feedparser
import jsonschema
from harness import Run

HERALD = os.path.abspath(sys.argv[1])
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SHARED = os.path.join(ROOT, "..", "shared", "schemas")
SCHEMAS = SHARED if os.path.isdir(SHARED) else os.path.join(ROOT, "Tests", "Schemas")
run = Run("DOCUMENTS", "herald-documents-")
WORK = run.work
DB = os.path.join(WORK, "herald.sqlite")
failures = []


herald = run.herald_at(HERALD, DB)


def check(name, ok, why=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {why}"), flush=True)
    if not ok:
        failures.append(name)


def schema(path):
    with open(os.path.join(SCHEMAS, path), encoding="utf-8") as f:
        return json.load(f)


def validate(name, document, schema_path):
    contents = schema(schema_path)
    validator_class = jsonschema.validators.validator_for(contents)
    errors = sorted(validator_class(contents, format_checker=validator_class.FORMAT_CHECKER).iter_errors(document), key=str)
    check(name, not errors, "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]))


with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
BASE = f"http://127.0.0.1:{port}"

herald("migrate")
herald("project", "add", "open-zaak", "--name", "Open Zaak", "--timezone", "Europe/Amsterdam")
herald("project", "set", "open-zaak", "--ecosystem", "PyPI", "--package", "open-zaak", "--package", "open-zaak-client")
body = os.path.join(WORK, "body.md")
with open(body, "w") as f:
    f.write("A crafted request reads another tenant's documents.\n\nUpgrade to 1.4.3.\n")
embargo = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3 * 86400))
herald("advisory", "create", "--project", "open-zaak", "--title", "Cross-tenant read in the documents API", "--cve", "CVE-2026-31337",
       "--severity", "high", "--cvss", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", "--affected", "1.0.0 to 1.4.2", "--fixed", "1.4.3",
       "--reference", "FIX=https://github.com/open-zaak/open-zaak/commit/0123456789abcdef", "--reference", "WEB=https://open-zaak.example/releases/1.4.3",
       "--body-file", body, "--embargo", embargo)
herald("advisory", "publish", "1", "--now", "--reason", "documents check")
public_id = json.loads(herald("advisory", "show", "1", "--json"))["advisory"]["public_id"]

serve = subprocess.Popen([HERALD, "serve", "--database", DB, "--listen", f"127.0.0.1:{port}", "--public-url", BASE,
                          "--maildir", os.path.join(WORK, "mail")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
try:
    deadline = time.time() + 20
    while True:
        try:
            urllib.request.urlopen(BASE + "/healthz", timeout=2).read()
            break
        except OSError:
            if time.time() > deadline:
                sys.exit("DOCUMENTS FAILED: herald serve did not answer")
            time.sleep(0.1)

    def get(path):
        with urllib.request.urlopen(BASE + path, timeout=10) as response:
            return response.read()

    osv = json.loads(get(f"/advisories/{public_id}.osv.json"))
    validate("OSV record against osv/schema.json", osv, "osv/schema.json")
    # As a scanner matches it: the package and the range.
    affected = osv.get("affected", [])
    check("OSV names every package the project ships", sorted(a["package"]["name"] for a in affected) == ["open-zaak", "open-zaak-client"],
          json.dumps(affected)[:300])
    check("OSV carries the CVE as an alias and the CVSS vector", osv.get("aliases") == ["CVE-2026-31337"]
          and osv.get("severity", [{}])[0].get("score", "").startswith("CVSS:3.1/"), json.dumps(osv)[:300])

    def matches(version):
        def key(v):
            return tuple(int(p) for p in v.split("."))
        for entry in affected:
            for r in entry.get("ranges", []):
                hit = False
                for event in r["events"]:
                    (kind, at), = event.items()
                    if kind == "introduced" and (at == "0" or key(version) >= key(at)):
                        hit = True
                    elif kind == "fixed" and key(version) >= key(at):
                        hit = False
                    elif kind == "last_affected" and key(version) > key(at):
                        hit = False
                if hit:
                    return True
        return False
    check("a scanner matches 1.2.0 and 1.4.2 (inside) and not 0.9.0 or 1.4.3 (outside)",
          matches("1.2.0") and matches("1.4.2") and not matches("0.9.0") and not matches("1.4.3"), json.dumps(affected)[:300])

    validate("JSON Feed against jsonfeed/schema-v1.1.json", json.loads(get("/feed.json")), "jsonfeed/schema-v1.1.json")

    atom = os.path.join(WORK, "feed.atom")
    with open(atom, "wb") as f:
        f.write(get("/feed.atom"))
    jing = subprocess.run(["jing", "-c", os.path.join(SCHEMAS, "atom", "atom.rnc"), atom], capture_output=True, text=True)
    check("Atom against atom/atom.rnc (jing)", jing.returncode == 0, (jing.stdout + jing.stderr).strip()[:400])

    rss = feedparser.parse(get("/feed.rss"))
    check("RSS read by feedparser without complaint", not rss.bozo and len(rss.entries) == 1, str(rss.get("bozo_exception")))

    card = json.loads(herald("advisory", "preview", "1", "--as", "public", "--format", "teams"))
    validate("Teams card against adaptivecards/adaptive-card-1.5.json", card["attachments"][0]["content"], "adaptivecards/adaptive-card-1.5.json")
finally:
    serve.send_signal(signal.SIGTERM)
    serve.wait(timeout=10)

if failures:
    print(f"\nDOCUMENTS FAILED: {', '.join(failures)}\n(work folder kept: {WORK})", file=sys.stderr)
    sys.exit(1)
shutil.rmtree(WORK, ignore_errors=True)
print("documents: every one valid")
