#!/usr/bin/env python3
"""The provider portal and an answer link in a real Chromium (Selenium with Debian's
chromium-driver), as a provider uses them, with axe checks on every page: no serious or
critical accessibility violations, no console errors (a CSP violation shows there), and every
task done without JavaScript on the site's side.

  portal_check.py HERALD_BINARY
"""
import os
import re
import subprocess
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from harness import Run, check_page, free_port, maildir_messages, press

HERALD = os.path.abspath(sys.argv[1])
run = Run("PORTAL", "herald-portal-")
DB = os.path.join(run.work, "herald.sqlite")
MAIL = os.path.join(run.work, "mail")
port = free_port()
BASE = f"http://127.0.0.1:{port}"
herald = run.herald_at(HERALD, DB)
checked = []


def mails():
    return maildir_messages(MAIL)


def link(pattern):
    for _, _, text in reversed(mails()):
        found = re.search(pattern, text)
        if found:
            return found.group(0)
    return None


def audit(driver, name):
    check_page(run, driver, name)
    checked.append(name)


herald("migrate")
herald("project", "add", "demo", "--name", "Demo", "--timezone", "Europe/Amsterdam")
herald("project", "set", "demo", "--contact", "security@demo.example")
herald("provider", "add", "--organization", "Gemeente Voorbeeld ICT", "--email", "cert@voorbeeld.example", "--project", "demo",
       "--approve")
herald("provider", "add", "--organization", "Acme Cloud", "--email", "psirt@acme.example", "--project", "demo", "--approve")
embargo = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7 * 86400))
body = os.path.join(run.work, "body.md")
open(body, "w").write("A crafted header overflows the parser.\n\nUpgrade to **1.4.3**.\n")
herald("advisory", "create", "--project", "demo", "--title", "Heap overflow in the request parser", "--severity", "high",
       "--body-file", body, "--embargo", embargo, "--early-notice", "now")

serve = subprocess.Popen([HERALD, "serve", "--database", DB, "--listen", f"127.0.0.1:{port}", "--public-url", BASE,
                          "--maildir", MAIL], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
run.children.append(serve)
run.wait_for("herald serve", lambda: urllib.request.urlopen(BASE + "/healthz", timeout=2).read(), tolerate=(OSError,))
run.wait_for("the early notices", lambda: len([m for m in mails() if "Heap overflow" in m[1]]) == 2)

options = Options()
for argument in ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=412,915"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    # 1. An answer link straight from the notice: a page with the answer chosen, then a button.
    answer = run.wait_for("an answer link", lambda: link(r"http://127\.0\.0\.1:\d+/answer\?token=[A-Za-z0-9_-]+&status=ready"))
    driver.get(answer)
    audit(driver, "answer link page (en)")
    if not driver.find_element(By.CSS_SELECTOR, 'input[value="ready"]').is_selected():
        run.fail("the answer link's page did not have its answer chosen")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    if "answered" not in driver.page_source:
        run.fail(f"the answer was not confirmed: {driver.page_source[driver.page_source.find('<main'):][:1200]}")
    audit(driver, "answer recorded page")

    # 2. The portal, in Dutch: ask for a sign-in link.
    driver.get(BASE + "/portal?lang=nl")
    audit(driver, "portal sign-in form (nl)")
    driver.find_element(By.ID, "email").send_keys("cert@voorbeeld.example")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    audit(driver, "check your mail (nl)")
    sign_in = run.wait_for("the sign-in link", lambda: link(r"http://127\.0\.0\.1:\d+/portal/sign-in\?token=[A-Za-z0-9_-]+"))
    driver.get(sign_in)
    audit(driver, "sign-in button page")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    if "Gemeente Voorbeeld ICT" not in driver.page_source or "Heap overflow" not in driver.page_source:
        run.fail(f"the portal's home does not list the advisory: {driver.page_source[driver.page_source.find('<main'):][:1200]}")
    audit(driver, "portal home")

    # 3. The advisory, under embargo; answer "needs more time" with a proposed instant.
    press(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Heap overflow"))
    if "1.4.3" not in driver.page_source:
        run.fail("the advisory's text is not on its portal page")
    audit(driver, "portal advisory")
    driver.find_element(By.CSS_SELECTOR, 'input[value="needs-more-time"]').click()
    later = time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() + 9 * 86400))
    # A datetime-local field's typing is locale-specific in Chromium; the test sets its value (the page runs no script).
    driver.execute_script("document.getElementById('proposed').value = arguments[0]", later)
    driver.find_element(By.ID, "statement").send_keys("Our largest customer deploys on Thursdays.")
    driver.find_element(By.CSS_SELECTOR, 'input[name="shareable"]').click()
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/answer'] button[type=submit]"))
    if "role=\"status\"" not in driver.page_source:
        run.fail(f"the portal answer was not confirmed: {driver.page_source[driver.page_source.find('<main'):][:1200]}")
    audit(driver, "portal advisory after answering")
    readiness = herald("advisory", "readiness", "1")
    if "needs-more-time" not in readiness or "1 needs more time" not in readiness:
        run.fail(f"readiness does not show the answer:\n{readiness}")
    run.wait_for("the release managers' mail", lambda: any(
        m[0] == "security@demo.example" and "needs more time" in (m[1] or "") for m in mails()))

    # 4. The organisation page in Danish; change the language to Danish.
    driver.get(BASE + "/portal/organisation?lang=da")
    audit(driver, "portal organisation (da)")
    Select(driver.find_element(By.ID, "language")).select_by_value("da")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form:has(#language) button[type=submit]"))
    if "Gemt." not in driver.page_source:
        run.fail(f"the language was not saved: {driver.page_source[driver.page_source.find('<main'):][:1500]}")
    audit(driver, "portal organisation saved")
    if '"language" : "da"' not in herald("provider", "list", "--json").replace('":"', '" : "'):
        listing = herald("provider", "list", "--json")
        if '"da"' not in listing:
            run.fail(f"the provider's language is not Danish: {listing[:400]}")

    # 4b. The contact's own OpenPGP key: one for another address is refused with its reason,
    # the right one is shown by fingerprint and listed as added through the portal, then removed.
    gnupg = os.path.join(run.work, "gnupg")
    os.makedirs(gnupg, mode=0o700)

    def gpg(*args):
        return subprocess.run(["gpg", "--homedir", gnupg, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", *args],
                              capture_output=True, check=True).stdout.decode()

    for uid in ["CERT <cert@voorbeeld.example>", "Other <other@elsewhere.example>"]:
        gpg("--quick-gen-key", uid, "ed25519", "cert,sign", "never")
        fpr = next(l.split(":")[9] for l in gpg("--list-keys", "--with-colons", uid).splitlines() if l.startswith("fpr"))
        gpg("--quick-add-key", fpr, "cv25519", "encr", "never")

    def paste_key(uid):
        driver.find_element(By.ID, "new-key").send_keys(gpg("--armor", "--export", uid))
        press(driver, driver.find_element(By.CSS_SELECTOR, "form:has(#new-key) button[type=submit]"))

    paste_key("other@elsewhere.example")
    if "role=\"alert\"" not in driver.page_source or "other@elsewhere.example" not in driver.page_source:
        run.fail(f"a key for another address was not refused: {driver.page_source[driver.page_source.find('<main'):][:1500]}")
    # A refusal answers 422, which Chromium logs as a failed load: read off, not counted as a page error.
    driver.get_log("browser")
    paste_key("cert@voorbeeld.example")
    fingerprint = next(l.split(":")[9] for l in gpg("--list-keys", "--with-colons", "cert@voorbeeld.example").splitlines()
                       if l.startswith("fpr"))
    if fingerprint[:4] + " " + fingerprint[4:8] not in driver.page_source:
        run.fail(f"the saved key's fingerprint is not shown: {driver.page_source[driver.page_source.find('<main'):][:1500]}")
    audit(driver, "portal key saved (da)")
    keys = herald("provider", "key", "list", "1", "--json")
    if fingerprint not in keys or "portal:cert@voorbeeld.example" not in keys:
        run.fail(f"the key is not listed as added through the portal: {keys}")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form:has(input[value='remove-key']) button"))
    if fingerprint in herald("provider", "key", "list", "1", "--json"):
        run.fail("the key was not removed")

    # 5. Sign out: the portal asks for a link again.
    driver.get(BASE + "/portal")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/portal/sign-out'] button"))
    driver.get(BASE + "/portal")
    if driver.find_elements(By.ID, "email") == []:
        run.fail("after signing out, the portal still shows the organisation")
finally:
    driver.quit()
    serve.terminate()
    serve.wait(timeout=10)
print(f"portal in Chromium: {len(checked)} pages checked by axe, no serious or critical violations: " + ", ".join(checked))
