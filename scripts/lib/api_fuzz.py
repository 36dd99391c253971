#!/usr/bin/env python3
"""Schemathesis against openapi.yaml: every operation, with an admin token, against a real
`herald serve` on a fresh database holding a project, providers, channels and advisories in
each state. Fails on any 5xx, a crash, or a response that does not conform to the document
(status code, content type, schema). Bounded: a fixed number of examples per operation and
a time budget.

  api_fuzz.py HERALD_BINARY   (HERALD_FUZZ_EXAMPLES, HERALD_FUZZ_SEED, HERALD_FUZZ_SECONDS override)
"""
import json
import os
import subprocess
import sys
import time
import urllib.request
from harness import Run, free_port

HERALD = os.path.abspath(sys.argv[1])
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
run = Run("API FUZZ", "herald-fuzz-")
WORK = run.work
fail = run.fail
DB = os.path.join(WORK, "herald.sqlite")
EXAMPLES = os.environ.get("HERALD_FUZZ_EXAMPLES", "100")
SEED = os.environ.get("HERALD_FUZZ_SEED", "20261123")
# One worker: CPython 3.11 can fail compiling schemathesis' generated code in two threads at once ("AST constructor recursion depth mismatch").
# A ceiling only: with --max-time schemathesis would keep fuzzing until the time is spent.
SECONDS = int(os.environ.get("HERALD_FUZZ_SECONDS", "240"))


PORT = free_port()
ENV = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
ENV.update({"HERALD_LISTEN": f"127.0.0.1:{PORT}", "HERALD_MAILDIR": os.path.join(WORK, "mail"), "HERALD_LOG_LEVEL": "warning",
            "HERALD_PUBLIC_URL": "https://herald.test", "HERALD_MAIL_FROM": "herald@herald.test"})


herald = run.herald_at(HERALD, DB, ENV)


# A few rows of every kind, so ids 1, 2, 3 … exist and operations on them do real work.
herald("migrate")
token = herald("token", "create", "--name", "fuzz", "--role", "admin").strip().splitlines()[0]
herald("project", "add", "demo", "--name", "Demo", "--timezone", "Europe/Amsterdam")
herald("project", "add", "other", "--name", "Other")
herald("provider", "add", "--organization", "Acme Hosting", "--email", "sec@acme.example", "--project", "demo", "--approve")
herald("provider", "add", "--organization", "Pending Inc", "--email", "wait@pending.example", "--project", "demo")
herald("channel", "add", "--project", "demo", "--kind", "email", "--target", "announce@lists.example")
herald("channel", "add", "--project", "demo", "--kind", "slack", "--target", "https://hooks.example.net/services/T/B/X")
day = 86_400
instant = lambda days: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + days * day))
herald("advisory", "create", "--project", "demo", "--title", "Draft one")
herald("advisory", "create", "--project", "demo", "--title", "Scheduled one", "--cve", "CVE-2026-1111", "--severity", "high",
       "--embargo", instant(3), "--early-notice", "now")
herald("advisory", "create", "--project", "demo", "--title", "Published one", "--embargo", instant(2))
herald("advisory", "publish", "3", "--now", "--reason", "fuzz fixture")

serve = subprocess.Popen([HERALD, "serve", "--database", DB], env=ENV, stdout=open(os.path.join(WORK, "serve.log"), "w"), stderr=subprocess.STDOUT)
base = f"http://127.0.0.1:{PORT}"
deadline = time.time() + 15
while True:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            if response.status == 200:
                break
    except OSError:
        pass
    if time.time() > deadline or serve.poll() is not None:
        fail("herald serve did not become healthy: " + open(os.path.join(WORK, "serve.log")).read())
    time.sleep(0.1)

report = os.path.join(WORK, "report.ndjson")
command = [sys.executable, "-m", "schemathesis.cli", "run", os.path.join(ROOT, "openapi.yaml"), "--url", base,
           "-H", f"Authorization: Bearer {token}",
           "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
           "--phases", "examples,coverage,fuzzing", "--max-examples", EXAMPLES, "--seed", SEED,
           "--workers", "1", "--request-timeout", "10", "--no-shrink", "--suppress-health-check", "all",
           "--report", "ndjson", "--report-ndjson-path", report]
# Revoking tokens is fuzzed on its own, last: the fuzzer reads the names from GET /api/v1/tokens
# and would otherwise revoke its own token and test the rest with 401s only.
revoke = ["--include-method", "DELETE", "--include-path", "/api/v1/tokens/{name}"]
print(f"==> schemathesis ({EXAMPLES} examples per operation, seed {SEED}) against herald serve at {base}", flush=True)
started = time.time()
def schemathesis(extra, report_path):
    arguments = command[:-1] + [report_path] + extra
    try:
        return subprocess.run(arguments, cwd=WORK, env=ENV, text=True, capture_output=True, timeout=SECONDS)
    except subprocess.TimeoutExpired:
        fail(f"schemathesis ran longer than {SECONDS} s")


results = [schemathesis(["--exclude-path", "/api/v1/tokens/{name}"], report),
           schemathesis(revoke, report + ".revoke")]

# Requests made, from the report's events (one "ScenarioFinished" per scenario, each with its recorder's cases).
requests = 0
statuses = {}
for path in (report, report + ".revoke"):
    try:
        with open(path) as f:
            events = [json.loads(line) for line in f]
    except (OSError, ValueError) as error:
        fail(f"could not read schemathesis' report {path}: {error}")
    for event in events:
        for case in (event.get("ScenarioFinished", {}).get("recorder", {}).get("interactions", {}) or {}).values():
            code = (case.get("response") or {}).get("status_code")
            requests += 1
            statuses[code] = statuses.get(code, 0) + 1

alive = serve.poll() is None
health = None
if alive:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
            health = response.status
    except OSError as error:
        health = str(error)
    serve.terminate()
    serve.wait(timeout=30)
server_errors = sum(count for code, count in statuses.items() if isinstance(code, int) and code >= 500)
for index, result in enumerate(results):
    with open(os.path.join(WORK, f"schemathesis-{index + 1}.txt"), "w") as f:
        f.write(result.stdout + result.stderr)
    # Errors, failures and the summary; long reproduction lines cut.
    text = result.stdout
    marks = [at for at in (text.find("=== ERRORS"), text.find("=== FAILURES")) if at >= 0]
    start = min(marks) if marks else -1
    print("\n".join(line[:400] for line in (text[start:] if start >= 0 else text[-3000:]).splitlines()))
print(f"schemathesis: {requests} requests in {time.time() - started:.0f} s; status codes {dict(sorted((str(k), v) for k, v in statuses.items()))}; "
      f"5xx: {server_errors}; serve alive afterwards: {alive}, /healthz {health}")
if not alive:
    fail("herald serve died under the fuzzer: " + open(os.path.join(WORK, "serve.log")).read()[-4000:])
if health != 200:
    fail(f"/healthz answered {health} after the fuzzer")
if any(result.returncode != 0 for result in results):
    fail("schemathesis found problems (above); " + " ".join(result.stderr[-2000:] for result in results))
if requests == 0:
    fail("schemathesis made no request")
print("api fuzz: ok")
