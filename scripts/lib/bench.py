#!/usr/bin/env python3
"""Herald's benchmark, side by side with the machine's own limits, in one run.

  bench.py HERALD_BINARY [--sizes 1000,10000,100000] [--json bench-results.json] [--rounds 3]

  e-mail fan-out     herald → postfix smtp-sink   vs  smtp-source → smtp-sink (same size, same connections)
  webhook fan-out    herald → nginx `return 204`  vs  wrk POST → the same nginx (same body, same connections), in pairs
  GET /feed.atom     wrk → herald                 vs  wrk → nginx serving the same bytes as a static file
  publication lag    20 scheduled advisories: instant → first delivery, instant → feed shows it
  memory             peak RSS of herald serve during the largest fan-out
"""
import argparse
import atexit
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from harness import free_port

parser = argparse.ArgumentParser()
parser.add_argument("herald")
parser.add_argument("--sizes", default="1000,10000,100000")
parser.add_argument("--json", default="bench-results.json")
parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
parser.add_argument("--rounds", type=int, default=3,
                    help="webhook fan-outs per size, each beside its own wrk run; the median pair is reported")
parser.add_argument("--only", default="email,webhook,feed", help="which parts to run (a quick look while profiling)")
args = parser.parse_args()
HERALD = os.path.abspath(args.herald)
SIZES = [int(s) for s in args.sizes.split(",")]
CONNECTIONS = 8          # herald's per-host limit, used for the limits too
WORK = tempfile.mkdtemp(prefix="herald-bench-")
children = []


@atexit.register
def clean_up():
    # SIGTERM, not SIGKILL: nginx's master takes its workers with it only when asked politely.
    for child in children:
        stop(child)
    shutil.rmtree(WORK, ignore_errors=True)

results = {"machine": {}, "email": [], "webhook": [], "feed": {}, "lag": {}, "memory": {}}


def log(text):
    print(text, file=sys.stderr, flush=True)


def wait_port(port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60 if process.args[0] == HERALD else 10)
        except subprocess.TimeoutExpired:
            process.kill()


def herald(db, *arguments, env=None):
    if not os.path.exists(db):   # commands other than migrate and serve refuse a missing database
        subprocess.run([HERALD, "migrate", "--database", db], check=True, capture_output=True, env=env)
    return subprocess.run([HERALD, *arguments, "--database", db], check=True, capture_output=True, text=True, env=env).stdout


def serve(db, port, extra, env):
    process = subprocess.Popen([HERALD, "serve", "--database", db, "--listen", f"127.0.0.1:{port}", "--allow-private-targets", *extra],
                               env=env, stdout=open(os.path.join(WORK, f"serve-{port}.log"), "w"), stderr=subprocess.STDOUT)
    children.append(process)
    wait_port(port)
    return process


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_delivered(db, n, transport, process, timeout=1800):
    connection = sqlite3.connect(db, timeout=30)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"herald serve stopped (exit {process.returncode}); see its log in {WORK}")
        done, dead = connection.execute("SELECT count(*) FILTER (WHERE state = 'delivered'), count(*) FILTER (WHERE state = 'dead') FROM deliveries WHERE transport = ?",
                                        (transport,)).fetchone()
        if done + dead >= n:
            break
        time.sleep(0.2)
    row = connection.execute("""SELECT min(coalesce(n.due_at, n.created_at)), max(d.delivered_at), count(*) FILTER (WHERE d.state = 'delivered'),
                                       min(n.created_at) - min(coalesce(n.due_at, n.created_at)), max(d.created_at) - min(n.created_at)
                                FROM deliveries d JOIN notices n ON n.id = d.notice_id WHERE d.transport = ?""", (transport,)).fetchone()
    connection.close()
    log(f"  the scheduler started {row[3]} ms after the instant; writing the rows took {row[4] / 1000:.2f} s")
    return row[:3]


def env_for(port):
    return dict(os.environ, HERALD_PUBLIC_URL=f"http://127.0.0.1:{port}", HERALD_MAIL_FROM="security@bench.example", HERALD_LOG_LEVEL="warning")


def long_text(size):
    words = "An attacker who sends a crafted request can overflow a heap buffer in the request parser. "
    return (words * (size // len(words) + 1))[:size]


# ---------------------------------------------------------------- machine
results["machine"] = {
    "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor()),
    "cores": os.cpu_count(), "kernel": platform.release(),
    "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    "date": time.strftime("%Y-%m-%d"),
}

ONLY = set(args.only.split(","))
# ---------------------------------------------------------------- e-mail
sink_port = free_port()
sink = subprocess.Popen(["smtp-sink", "-u", "nobody", "-c", f"127.0.0.1:{sink_port}", "256"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
children.append(sink)
wait_port(sink_port)
peak_rss = {}
for n in (SIZES if "email" in ONLY else []):
    # The limit: smtp-source sending n messages of the same size over the same number of connections.
    started = time.time()
    subprocess.run(["smtp-source", "-c", "-l", "2048", "-m", str(n), "-s", str(CONNECTIONS), "-f", "security@bench.example",
                    "-t", "contact@org.example", f"127.0.0.1:{sink_port}"], check=True, stdout=subprocess.DEVNULL)
    limit_rate = n / (time.time() - started)

    db = os.path.join(WORK, f"mail-{n}.sqlite")
    port = free_port()
    env = env_for(port)
    herald(db, "project", "add", "bench", "--name", "Bench", env=env)
    csv = os.path.join(WORK, f"providers-{n}.csv")
    with open(csv, "w") as f:
        f.write("organization,email,project\n")
        for i in range(n):
            f.write(f"Org {i},contact{i}@org{i}.example,bench\n")
    herald(db, "provider", "import", csv, env=env)
    process = serve(db, port, ["--smtp-url", f"smtp://127.0.0.1:{sink_port}"], env)
    body = os.path.join(WORK, "body.txt")
    open(body, "w").write(long_text(1200))
    herald(db, "advisory", "create", "--project", "bench", "--title", "Heap overflow in the request parser", "--cve", "CVE-2026-1000",
           "--severity", "high", "--summary", long_text(200), "--body-file", body,
           "--embargo", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400)),
           # A few seconds ahead, so the measurement starts at an instant the scheduler sleeps towards.
           "--early-notice", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3)), env=env)
    due, last, delivered = wait_delivered(db, n, "email", process)
    size = sqlite3.connect(db).execute("SELECT avg(length(p.body)) FROM deliveries d JOIN payloads p ON p.id = d.payload_id").fetchone()[0]
    peak_rss[n] = peak_rss_mib(process.pid)
    stop(process)
    seconds = (last - due) / 1000
    rate = delivered / seconds
    results["email"].append({"n": n, "delivered": delivered, "seconds": round(seconds, 2), "per_second": round(rate),
                             "limit_per_second": round(limit_rate), "ratio": round(rate / limit_rate, 3), "message_bytes": round(size)})
    log(f"e-mail n={n}: herald {rate:.0f}/s, smtp-source {limit_rate:.0f}/s, ratio {rate / limit_rate:.2f} ({size:.0f} B messages)")
stop(sink)
results["memory"] = {"peak_rss_mib": {str(k): round(v, 1) for k, v in peak_rss.items()}}

# ---------------------------------------------------------------- nginx for webhooks and the static feed
nginx_port = free_port()
root = os.path.join(WORK, "www")
os.makedirs(root)
conf = os.path.join(WORK, "nginx.conf")
open(conf, "w").write(f"""
worker_processes auto;
pid {WORK}/nginx.pid;
error_log {WORK}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {WORK}/nginx-body;
    server {{
        listen 127.0.0.1:{nginx_port};
        location /hooks/ {{ return 204; }}
        location / {{ root {root}; types {{ application/atom+xml atom; }} }}
    }}
}}
""")
nginx = subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;"])
children.append(nginx)
wait_port(nginx_port)


def wrk(url, lua=None):
    command = ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{args.duration}s", "--latency", url]
    if lua:
        command[1:1] = ["-s", lua]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(\w+)", output)
    return rate, (p99.group(1) + p99.group(2)) if p99 else ""


# ---------------------------------------------------------------- webhooks
body = os.path.join(WORK, "body.txt")
open(body, "w").write(long_text(1200))
def webhook_round(n):
    """One fan-out to n endpoints, then wrk against the same nginx with the same body: a pair."""
    db = os.path.join(WORK, f"hooks-{n}.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    port = free_port()
    env = env_for(port)
    herald(db, "project", "add", "bench", "--name", "Bench", env=env)
    # n public channels, each its own endpoint on the one nginx (inserted directly: n CLI calls would measure the CLI).
    connection = sqlite3.connect(db)
    connection.execute(f"""WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x < {n - 1})
                           INSERT INTO channels (project_id, kind, target, secret, created_at)
                           SELECT 1, 'webhook', 'http://127.0.0.1:{nginx_port}/hooks/' || x, 'whsec_ZTJlLXRlc3Qtc2lnbmluZy1rZXktMzItYnl0ZXMh', 0 FROM i""")
    connection.commit()
    connection.close()
    process = serve(db, port, [], env)
    # Released at its embargo instant by the scheduler, as a publication happens.
    herald(db, "advisory", "create", "--project", "bench", "--title", "Heap overflow in the request parser",
           "--cve", "CVE-2026-1000", "--severity", "high", "--summary", long_text(500), "--body-file", body,
           "--embargo", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3)), env=env)
    due, last, delivered = wait_delivered(db, n, "webhook", process)
    payload = sqlite3.connect(db).execute("SELECT body FROM payloads LIMIT 1").fetchone()[0]
    stop(process)
    seconds = (last - due) / 1000
    lua = os.path.join(WORK, "post.lua")
    open(lua, "w").write(f"wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\nwrk.body = {json.dumps(payload.decode())}\n")
    limit_rate, _ = wrk(f"http://127.0.0.1:{nginx_port}/hooks/0", lua)
    rate = delivered / seconds
    log(f"webhooks n={n}: herald {rate:.0f}/s, wrk {limit_rate:.0f}/s, ratio {rate / limit_rate:.2f} ({len(payload)} B bodies)")
    return {"delivered": delivered, "seconds": round(seconds, 3), "per_second": round(rate), "limit_per_second": round(limit_rate),
            "ratio": round(rate / limit_rate, 3), "body_bytes": len(payload)}


body = os.path.join(WORK, "body.txt")
open(body, "w").write(long_text(1200))
for n in (SIZES if "webhook" in ONLY else []):
    # The machine's speed drifts between runs (a shared virtual machine: wrk alone moved between 81,000 and 117,000/s),
    # so each fan-out is paired with a wrk run right after it and the pair with the median ratio is reported.
    rounds = sorted((webhook_round(n) for _ in range(max(1, args.rounds))), key=lambda r: r["ratio"])
    median = rounds[len(rounds) // 2]
    results["webhook"].append({"n": n, **median, "rounds": rounds})
    ratios = ", ".join(f"{r['ratio']:.2f}" for r in rounds)
    log(f"webhooks n={n}: median pair of {len(rounds)}: ratio {median['ratio']:.2f} (all: {ratios})")

if "feed" not in ONLY:
    print(json.dumps(results, indent=2))
    sys.exit(0)
# ---------------------------------------------------------------- feed and publication lag
db = os.path.join(WORK, "feed.sqlite")
port = free_port()
env = env_for(port)
herald(db, "project", "add", "bench", "--name", "Bench", env=env)
herald(db, "channel", "add", "--project", "bench", "--kind", "webhook", "--target", f"http://127.0.0.1:{nginx_port}/hooks/lag", env=env)
process = serve(db, port, [], env)
start = time.time() + 4
instants = []
for i in range(20):
    instant = start + i * 0.5
    instants.append(instant)
    herald(db, "advisory", "create", "--project", "bench", "--title", f"Advisory number {i:02d}", "--cve", f"CVE-2026-{2000 + i}",
           "--summary", long_text(300), "--embargo", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(instant)) + f".{int(instant * 1000) % 1000:03d}Z",
           env=env)
seen = {}
while len(seen) < 20 and time.time() < start + 20:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/feed.atom").read().decode()
    now = time.time()
    for i in range(20):
        if i not in seen and f"Advisory number {i:02d}" in text:
            seen[i] = now - instants[i]
    time.sleep(0.002)
connection = sqlite3.connect(db)
first = [row[0] / 1000 for row in connection.execute(
    "SELECT min(d.delivered_at) - n.due_at FROM deliveries d JOIN notices n ON n.id = d.notice_id WHERE n.kind = 'publication' GROUP BY n.id")]
connection.close()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


feed_lags = list(seen.values())
results["lag"] = {"advisories": 20, "first_delivery_p50_ms": round(percentile(first, 50) * 1000, 1), "first_delivery_p99_ms": round(percentile(first, 99) * 1000, 1),
                  "feed_p50_ms": round(percentile(feed_lags, 50) * 1000, 1), "feed_p99_ms": round(percentile(feed_lags, 99) * 1000, 1),
                  "feed_seen": len(seen)}
log(f"lag: first delivery p50 {results['lag']['first_delivery_p50_ms']} ms p99 {results['lag']['first_delivery_p99_ms']} ms; "
    f"feed p50 {results['lag']['feed_p50_ms']} ms p99 {results['lag']['feed_p99_ms']} ms")

feed = urllib.request.urlopen(f"http://127.0.0.1:{port}/feed.atom").read()
open(os.path.join(root, "feed.atom"), "wb").write(feed)
herald_rate, herald_p99 = wrk(f"http://127.0.0.1:{port}/feed.atom")
nginx_rate, nginx_p99 = wrk(f"http://127.0.0.1:{nginx_port}/feed.atom")
stop(process)
results["feed"] = {"bytes": len(feed), "per_second": round(herald_rate), "p99": herald_p99, "limit_per_second": round(nginx_rate),
                   "limit_p99": nginx_p99, "ratio": round(herald_rate / nginx_rate, 3)}
log(f"feed: herald {herald_rate:.0f}/s, nginx {nginx_rate:.0f}/s, ratio {herald_rate / nginx_rate:.2f}")
stop(nginx)

# ---------------------------------------------------------------- report
bars = {"email": 0.40, "webhook": 0.25, "feed": 0.50}
lines = ["| work | Herald | limit on this machine | ratio | bar |", "|---|---|---|---|---|"]
for row in results["email"]:
    lines.append(f"| e-mail fan-out, {row['n']:,} recipients, {row['message_bytes']:,} B, each recorded | {row['per_second']:,}/s ({row['seconds']} s) | "
                 f"smtp-source → smtp-sink: {row['limit_per_second']:,}/s | {row['ratio']:.0%} | ≥ 40 % {'✓' if row['ratio'] >= bars['email'] else '✗'} |")
for row in results["webhook"]:
    pairs = ", ".join(f"{r['ratio']:.0%}" for r in row["rounds"])
    lines.append(f"| webhook fan-out, {row['n']:,} endpoints, {row['body_bytes']:,} B, each recorded | {row['per_second']:,}/s ({row['seconds']} s) | "
                 f"wrk POST → nginx 204: {row['limit_per_second']:,}/s | median {row['ratio']:.0%} of {pairs} | "
                 f"≥ 25 % {'✓' if row['ratio'] >= bars['webhook'] else '✗'} |")
f = results["feed"]
lines.append(f"| GET /feed.atom ({f['bytes']:,} B), {CONNECTIONS} connections | {f['per_second']:,}/s (p99 {f['p99']}) | nginx static: {f['limit_per_second']:,}/s (p99 {f['limit_p99']}) | "
             f"{f['ratio']:.0%} | ≥ 50 % {'✓' if f['ratio'] >= bars['feed'] else '✗'} |")
l = results["lag"]
lines.append(f"| publication lag, 20 advisories, instant → first delivery | p50 {l['first_delivery_p50_ms']} ms, p99 {l['first_delivery_p99_ms']} ms | — | — | p99 ≤ 100 ms {'✓' if l['first_delivery_p99_ms'] <= 100 else '✗'} |")
lines.append(f"| publication lag, instant → /feed.atom shows it | p50 {l['feed_p50_ms']} ms, p99 {l['feed_p99_ms']} ms | — | — | p99 ≤ 100 ms {'✓' if l['feed_p99_ms'] <= 100 else '✗'} |")
largest = max(SIZES)
rss = results["memory"].get("peak_rss_mib", {}).get(str(largest))   # measured only when e-mail ran
if rss is not None:
    lines.append(f"| peak RSS of herald serve, {largest:,}-recipient fan-out | {rss} MiB | — | — | ≤ 128 MiB {'✓' if rss <= 128 else '✗'} |")
m = results["machine"]
table = "\n".join(lines)
results["table"] = table
json.dump(results, open(args.json, "w"), indent=2)
print(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}, {m['date']}\n")
print(table)

