#!/usr/bin/env python3
"""The README's walk as a test: every shell block marked `<!-- doctest: … -->` in README.md is
run as written, with bash, in a fresh folder where `.build/release/herald` is the built binary,
so the README cannot drift from what Herald does.

  readme_walk.py HERALD_BINARY
Prints each command's output; fails naming the block and its output when a command fails or
the database does not end as the walk says."""
import os
import re
import sqlite3
import subprocess
import sys

from harness import Run

HERALD = os.path.abspath(sys.argv[1])
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
run = Run("README WALK", "herald-readme-")
WORK = run.work
fail = run.fail


blocks = re.findall(r"<!-- doctest: ([^>]*?) -->\n```sh\n(.*?)```", open(README, encoding="utf-8").read(), re.S)
if not blocks:
    fail("README.md has no block marked <!-- doctest: … -->")

os.makedirs(os.path.join(WORK, ".build", "release"))
os.symlink(HERALD, os.path.join(WORK, ".build", "release", "herald"))
env = {key: value for key, value in os.environ.items() if not key.startswith("HERALD_")}
env["HERALD_LOG_LEVEL"] = "warning"
for name, script in blocks:
    print(f"==> README: {name}", flush=True)
    # -x prints each command before it runs, so a failure names its line.
    result = subprocess.run(["bash", "-x", "-e", "-o", "pipefail", "-c", "shopt -s expand_aliases\n" + script],
                            cwd=WORK, env=env, capture_output=True, text=True)
    print(result.stdout, end="")
    if result.returncode != 0:
        fail(f"the block '{name}' stopped with exit {result.returncode}:\n{result.stderr[-3000:]}")

# The walk ends with advisory 1 published (after a reschedule) and advisory 2 cancelled.
db = sqlite3.connect(os.path.join(WORK, "herald.sqlite"))
states = dict(db.execute("SELECT id, state FROM advisories"))
if states != {1: "published", 2: "cancelled"}:
    fail(f"the advisories ended as {states}, not as the walk says")
revisions = db.execute("SELECT count(*) FROM advisory_revisions WHERE advisory_id = 1").fetchone()[0]
providers = db.execute("SELECT count(*) FROM providers WHERE status = 'active'").fetchone()[0]
if revisions != 2 or providers != 3:
    fail(f"advisory 1 has {revisions} revisions and the list {providers} active providers (expected 2 and 3)")
print(f"README walk passed: {len(blocks)} block(s), advisories {states}")
