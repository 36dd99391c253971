#!/usr/bin/env python3
"""Crash soak: SIGKILL `herald serve` at random moments during a 2,000-recipient early notice
and the publication that follows, restart it, and check that nothing was lost or done twice.

  soak.py HERALD_BINARY [--trials 20] [--recipients 2000]
Prints one line per trial and a summary; exits 1 on any lost message, early or double
publication, or a failed integrity check."""
import argparse
import collections
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("herald")
parser.add_argument("--trials", type=int, default=20)
parser.add_argument("--recipients", type=int, default=2000)
args = parser.parse_args()
HERALD = os.path.abspath(args.herald)
SUPPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Support")


def iso(instant):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(instant)) + f".{int(instant * 1000) % 1000:03d}Z"


def received(directory):
    counts = collections.Counter()
    for name in os.listdir(directory):
        if name.endswith(".eml"):
            with open(os.path.join(directory, name), "rb") as f:
                first = f.readline().decode().strip()
                subject = next((l for l in f.read().decode("utf-8", "replace").split("\r\n") if l.startswith("Subject:")), "")
            counts[(first.split(": ", 1)[1], "publication" if "Now public" in subject or "security advisory" in subject else "early-notice")] += 1
    return counts


failures = []
totals = collections.Counter()
for trial in range(1, args.trials + 1):
    work = tempfile.mkdtemp(prefix=f"herald-soak-{trial}-")
    db = os.path.join(work, "herald.sqlite")
    mail = os.path.join(work, "smtp")
    smtp = subprocess.Popen([sys.executable, os.path.join(SUPPORT, "smtp_server.py"), "--dir", mail], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    smtp_port = int(smtp.stdout.readline().split()[1])
    env = dict(os.environ, HERALD_LOG_LEVEL="error", HERALD_MAIL_FROM="security@soak.example")
    run = lambda *a: subprocess.run([HERALD, *a, "--database", db], check=True, capture_output=True, env=env)
    run("migrate")
    run("project", "add", "soak", "--name", "Soak")
    run("channel", "add", "--project", "soak", "--kind", "email", "--target", "announce@lists.example")
    csv = os.path.join(work, "providers.csv")
    with open(csv, "w") as f:
        f.write("organization,email,project\n" + "".join(f"Org {i},c{i}@o{i}.example,soak\n" for i in range(args.recipients)))
    run("provider", "import", csv)
    now = time.time()
    embargo = now + 4
    run("advisory", "create", "--project", "soak", "--title", "Soak overflow", "--early-notice", iso(now + 1), "--embargo", iso(embargo))
    command = [HERALD, "serve", "--database", db, "--listen", "127.0.0.1:0", "--smtp-url", f"smtp://127.0.0.1:{smtp_port}"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_at = random.uniform(1.2, 7.0)
    time.sleep(kill_at)
    first.send_signal(signal.SIGKILL)
    first.wait()
    sent_before = sum(received(mail).values())
    second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    expected = 2 * args.recipients + 1
    connection = sqlite3.connect(db, timeout=30)
    deadline = time.time() + 180
    while time.time() < deadline:
        done = connection.execute("SELECT count(*) FROM deliveries WHERE state = 'delivered'").fetchone()[0]
        if done >= expected:
            break
        time.sleep(0.2)
    second.send_signal(signal.SIGTERM)
    second.wait(timeout=60)
    smtp.kill()
    counts = received(mail)
    missing = [(f"c{i}@o{i}.example", kind) for i in range(args.recipients) for kind in ("early-notice", "publication")
               if counts[(f"c{i}@o{i}.example", kind)] == 0]
    if counts[("announce@lists.example", "publication")] == 0:
        missing.append(("announce@lists.example", "publication"))
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    published_at, state, embargo_at = connection.execute("SELECT published_at, state, embargo_at FROM advisories").fetchone()
    publications = connection.execute("SELECT count(*) FROM notices WHERE kind = 'publication'").fetchone()[0]
    integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
    connection.close()
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing, e.g. {missing[:3]}")
    if state != "published" or published_at < embargo_at:
        problems.append(f"{state}, published {(published_at or 0) - embargo_at:+d} ms from the instant")
    if publications != 1:
        problems.append(f"{publications} publication notices")
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    totals["duplicates"] += duplicates
    totals["messages"] += sum(counts.values())
    print(f"trial {trial:2d}: killed at {kill_at:.1f} s after {sent_before} messages; {sum(counts.values())} received, "
          f"{duplicates} duplicates; {'OK' if not problems else 'FAILED: ' + '; '.join(problems)}", flush=True)
    if problems:
        failures.append(trial)

print(f"\n{args.trials} trials, {totals['messages']} messages received, {totals['duplicates']} duplicates, "
      f"{len(failures)} trials with a lost message, an early or double publication or a damaged database")
sys.exit(1 if failures else 0)
