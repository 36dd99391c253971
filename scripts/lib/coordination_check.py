#!/usr/bin/env python3
"""Coordination from end to end, through a real SMTP server (aiosmtpd) and a real Chromium:
twenty providers; one approved mid-embargo gets the current revision at once; providers answer
through the links in their mail and through the portal (ready, not affected, needs more time);
the reminder reaches only the silent ones; the release manager reads the right totals, accepts
the extension (a reschedule every participant gets) and at the instant everything publishes.

  coordination_check.py HERALD_BINARY
"""
import datetime
import email
import email.policy
import glob
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zoneinfo

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from harness import Run, free_port, page_left

HERALD = os.path.abspath(sys.argv[1])
SUPPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Support")
run = Run("COORDINATION", "herald-coordination-")
DB = os.path.join(run.work, "herald.sqlite")
SMTP_DIR = os.path.join(run.work, "smtp")
os.makedirs(SMTP_DIR)


def step(text):
    print(f"==> {text}", flush=True)


smtp = subprocess.Popen([sys.executable, os.path.join(SUPPORT, "smtp_server.py"), "--dir", SMTP_DIR], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, text=True)
run.children.append(smtp)
smtp_port = int(smtp.stdout.readline().split()[1])
port = free_port()
BASE = f"http://127.0.0.1:{port}"
ENV = dict(os.environ, HERALD_PUBLIC_URL=BASE, HERALD_MAIL_FROM="security@herald.example", HERALD_LOG_LEVEL="warning")
herald = run.herald_at(HERALD, DB, ENV)


def mails():
    """(recipient, subject, text) of every message the SMTP server accepted, in order."""
    out = []
    for path in sorted(glob.glob(os.path.join(SMTP_DIR, "*.eml")), key=lambda p: int(os.path.basename(p)[:-4])):
        message = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
        body = message.get_body(("plain",))
        out.append((message["X-Envelope-To"], str(message["Subject"]), body.get_content() if body else ""))
    return out


def to(address, subject_part):
    return [m for m in mails() if m[0] == address and subject_part in m[1]]


def link(address, kind, subject_part):
    for recipient, subject, text in reversed(mails()):
        if recipient == address and subject_part in subject:
            found = re.search(re.escape(BASE) + r"/" + kind + r"\?token=[A-Za-z0-9_-]+(&status=[a-z-]+)?", text)
            if found:
                return found.group(0)
    return None


def post(url, fields=None):
    data = urllib.parse.urlencode(fields or {}).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


step("a project that reminds the silent after a minute, twenty providers (one waiting for approval)")
herald("migrate")
herald("project", "add", "demo", "--name", "Demo", "--timezone", "Europe/Amsterdam")
herald("project", "set", "demo", "--contact", "rm@demo.example", "--reminder-after", "1m")
csv = os.path.join(run.work, "providers.csv")
with open(csv, "w") as f:
    f.write("organization,email,project\n")
    for i in range(1, 20):
        f.write(f"Org {i:02d},c{i:02d}@org{i:02d}.example,demo\n")
herald("provider", "import", csv)
herald("provider", "add", "--organization", "Late Co", "--email", "sec@late.example", "--project", "demo")
late_id = next(p["id"] for p in json.loads(herald("provider", "list", "--json")) if p["organization"] == "Late Co")

serve = subprocess.Popen([HERALD, "serve", "--database", DB, "--listen", f"127.0.0.1:{port}",
                          "--smtp-url", f"smtp://127.0.0.1:{smtp_port}"], env=ENV,
                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
run.children.append(serve)
run.wait_for("herald serve", lambda: urllib.request.urlopen(BASE + "/healthz", timeout=2).read(), tolerate=(OSError,))

t0 = time.time()
embargo = t0 + 150
herald("advisory", "create", "--project", "demo", "--title", "Heap overflow in the request parser", "--severity", "high",
       "--embargo", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(embargo)), "--early-notice", "now")
run.wait_for("19 early notices", lambda: len([m for m in mails() if "Heap overflow" in m[1]]) == 19, timeout=30)
step("19 early notices by SMTP; Late Co approved mid-embargo gets the current revision at once")
herald("provider", "approve", str(late_id))
run.wait_for("Late Co's early notice", lambda: to("sec@late.example", "Heap overflow"), timeout=20)

step("answers through the links in the mail: acknowledgements, one 'not affected'")
for i in range(4, 11):   # Org 04-10 acknowledge
    url = link(f"c{i:02d}@org{i:02d}.example", "ack", "Heap overflow")
    status, _ = post(url)
    if status != 200:
        run.fail(f"acknowledging for Org {i:02d} answered {status}")
answer = link("c03@org03.example", "answer", "Heap overflow").replace("status=ready", "status=not-affected")
post(answer, {"status": "not-affected", "statement": "We do not run the parser."})

step("answers in Chromium: 'ready' through an answer link, 'needs more time' through the portal")
options = Options()
for argument in ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=412,915"]:
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def press(button):
    page = driver.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(driver, 15).until(page_left(page))


proposal = (int(embargo) // 60 + 2) * 60    # a whole minute after the release, as a datetime-local field sends it
try:
    driver.get(link("c01@org01.example", "answer", "Heap overflow"))
    press(driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    if "answered" not in driver.page_source:
        run.fail("Org 01's answer through its link was not confirmed")
    driver.get(BASE + "/portal")
    driver.find_element(By.ID, "email").send_keys("c02@org02.example")
    press(driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    sign_in = run.wait_for("the sign-in link", lambda: link("c02@org02.example", "portal/sign-in", "sign-in link"), timeout=20)
    driver.get(sign_in)
    press(driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    press(driver.find_element(By.PARTIAL_LINK_TEXT, "Heap overflow"))
    driver.find_element(By.CSS_SELECTOR, 'input[value="needs-more-time"]').click()
    # The field is read in the project's zone (Europe/Amsterdam).
    amsterdam = datetime.datetime.fromtimestamp(proposal, zoneinfo.ZoneInfo("Europe/Amsterdam")).strftime("%Y-%m-%dT%H:%M")
    driver.execute_script("document.getElementById('proposed').value = arguments[0]", amsterdam)
    driver.find_element(By.ID, "statement").send_keys("Our customers deploy in the evening.")
    press(driver.find_element(By.CSS_SELECTOR, "form[action*='/answer'] button[type=submit]"))
    if 'role="status"' not in driver.page_source:
        run.fail(f"the portal answer was not confirmed: {driver.page_source[-1500:]}")
finally:
    driver.quit()
run.wait_for("the release managers' mail about more time",
             lambda: [m for m in mails() if m[0] == "rm@demo.example" and "needs more time" in m[1]], timeout=20)

step("the reminder, a minute after the early notice, reaches only the silent")
answered = {1, 2, 3} | set(range(4, 11))
silent = {f"c{i:02d}@org{i:02d}.example" for i in range(1, 20) if i not in answered} | {"sec@late.example"}
run.wait_for("the reminders", lambda: len([m for m in mails() if m[1].startswith("[EMBARGOED] Reminder")]) >= len(silent),
             timeout=120)
time.sleep(1)
reminded = {m[0] for m in mails() if m[1].startswith("[EMBARGOED] Reminder")}
if reminded != silent:
    run.fail(f"the reminder reached {sorted(reminded)}, not the silent {sorted(silent)}")

step("readiness: the totals a release manager reads")
readiness = json.loads(herald("advisory", "readiness", "1", "--json"))
totals = readiness["totals"]
for part in ["20 participants", "20 notified", "10 acknowledged", "1 ready", "1 not affected", "1 needs more time", "10 silent"]:
    if part not in totals:
        run.fail(f"readiness says {totals!r}; expected {part!r} in it")
print(f"    {totals}")

step("the release manager accepts the extension: a reschedule that every participant gets")
before = len(mails())
herald("advisory", "reschedule", "1", "--embargo", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(proposal)),
       "--note-to-providers", "Org 02 asked for two more minutes; the release moves.", "--reason", "accepted Org 02's proposal")
everyone = {f"c{i:02d}@org{i:02d}.example" for i in range(1, 20)} | {"sec@late.example"}
run.wait_for("the revision to every participant",
             lambda: {m[0] for m in mails()[before:] if "Heap overflow" in m[1]} >= everyone, timeout=30)

step("at the instant everything publishes")
run.wait_for("the publication", lambda: json.loads(herald("advisory", "show", "1", "--json"))["advisory"]["state"] == "published",
             timeout=max(30, proposal - time.time() + 30), interval=0.5)
public_id = json.loads(herald("advisory", "show", "1", "--json"))["advisory"]["public_id"]
with urllib.request.urlopen(f"{BASE}/advisories/{public_id}", timeout=10) as response:
    if "Heap overflow" not in response.read().decode():
        run.fail("the public page does not show the advisory")
run.wait_for("the 'now public' notice to every participant",
             lambda: {m[0] for m in mails() if "Heap overflow" in m[1] and "EMBARGO" not in m[1]} >= everyone, timeout=30)
serve.terminate()
serve.wait(timeout=10)
print(f"coordination passed: 20 providers, {len(reminded)} reminded, totals {totals!r}, "
      f"published {time.time() - proposal:.1f} s after the instant")
