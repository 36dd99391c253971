#!/usr/bin/env python3
"""The release managers' console in a real Chromium (Selenium with Debian's chromium-driver),
as a release manager signs in: a link by mail, an authenticator enrolled with pyotp, the
recovery codes, the dashboard; then a sign-in with a code, a recovery code, a wrong code,
an auditor's read-only view, keyboard-only use of the forms. axe on every page (no serious or
critical violations), no console errors, screenshots under test-output/console/.

  console_check.py HERALD_BINARY
"""
import datetime
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zoneinfo

import pyotp
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from harness import Run, check_page, free_port, maildir_messages, page_left, press

HERALD = os.path.abspath(sys.argv[1])
run = Run("CONSOLE", "herald-console-")
DB = os.path.join(run.work, "herald.sqlite")
MAIL = os.path.join(run.work, "mail")
SHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-output", "console")
os.makedirs(SHOTS, exist_ok=True)
port = free_port()
BASE = f"http://127.0.0.1:{port}"
herald = run.herald_at(HERALD, DB)
checked = []


def mails():
    return maildir_messages(MAIL)


def sign_in_link(address, after, area="console"):
    """The newest sign-in link of `area` (the console, the portal) mailed to `address` among
    the mails after the first `after`."""
    for to, _, text in reversed(mails()[after:]):
        found = re.search(rf"http://127\.0\.0\.1:\d+/{area}/sign-in\?token=[A-Za-z0-9_-]+", text)
        if to == address and found:
            return found.group(0)
    return None


def submit(driver):
    press(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))


def audit(driver, name, shot=None):
    """axe on the page as it is, no console errors, and a screenshot."""
    check_page(run, driver, name)
    driver.save_screenshot(os.path.join(SHOTS, (shot or re.sub(r"[^a-z0-9]+", "-", name.lower())) + ".png"))
    checked.append(name)


def audit_refusal(driver, name, shot=None):
    """As `audit`, for a page answered with a 4xx on purpose: Chromium logs that status as an error."""
    expected = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    if not all(" 422 " in e["message"] or "(Unprocessable" in e["message"] for e in expected):
        run.fail(f"{name}: console errors: {expected}")
    audit(driver, name, shot)


def tab_to(driver, matches, what):
    """Presses Tab until the focused element `matches`, as someone without a mouse does."""
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    for _ in range(80):
        if matches(driver.switch_to.active_element):
            return driver.switch_to.active_element
        driver.switch_to.active_element.send_keys(Keys.TAB)
    run.fail(f"Tab never reached {what}")


def enter(driver, element):
    """Presses Enter on the focused element and waits for the next page."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.send_keys(Keys.ENTER)
    WebDriverWait(driver, 15).until(page_left(page))


def main_text(driver):
    return driver.find_element(By.TAG_NAME, "main").text


def ask_for_link(driver, address, lang=""):
    """The sign-in form, filled in: the link mailed to `address`."""
    before = len(mails())
    driver.get(BASE + "/console" + (f"?lang={lang}" if lang else ""))
    driver.find_element(By.ID, "email").send_keys(address)
    submit(driver)
    return run.wait_for(f"the sign-in link for {address}", lambda: sign_in_link(address, before))


def follow(driver, link):
    driver.get(link)
    submit(driver)


herald("migrate")
herald("project", "add", "demo", "--name", "Demo", "--timezone", "Europe/Amsterdam")
herald("provider", "add", "--organization", "Gemeente Voorbeeld ICT", "--email", "cert@voorbeeld.example",
       "--project", "demo", "--approve")
herald("provider", "add", "--organization", "Acme Cloud", "--email", "psirt@acme.example", "--project", "demo",
       "--approve")
embargo = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7 * 86400))
herald("advisory", "create", "--project", "demo", "--title", "Heap overflow in the request parser", "--severity", "high",
       "--embargo", embargo, "--early-notice", "now")
herald("advisory", "create", "--project", "demo", "--title", "Draft: path traversal in uploads")
herald("advisory", "create", "--project", "demo", "--title", "SQL injection in the search form", "--severity", "critical",
       "--embargo", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5 * 86400)))
herald("channel", "add", "--project", "demo", "--kind", "slack", "--target", "https://hooks.slack.example/services/T0/B0/secret")
herald("channel", "add", "--project", "demo", "--kind", "email", "--target", "announce@lists.demo.example")
herald("account", "add", "--email", "rm@demo.example", "--role", "release-manager")
herald("account", "add", "--email", "audit@demo.example", "--role", "auditor")
herald("account", "add", "--email", "admin@demo.example", "--role", "admin")
# A request whose name passes for a member's (a digit one for an l).
herald("provider", "add", "--organization", "Gemeente Voorbee1d ICT", "--email", "cert@voorbee1d.example", "--project", "demo")
refused = subprocess.run([HERALD, "account", "add", "--email", "rm@demo.example", "--role", "admin", "--database", DB],
                         capture_output=True, text=True)
if refused.returncode != 2 or "has an account already" not in refused.stderr:
    run.fail(f"a second account for one address was not refused with exit 2: {refused.returncode} {refused.stderr}")

# A release window, set after the advisories above were scheduled: a reschedule outside it
# needs a reason.
herald("project", "set", "demo", "--release-window", "Tue-Thu 14:00-17:00")

serve = subprocess.Popen([HERALD, "serve", "--database", DB, "--listen", f"127.0.0.1:{port}", "--public-url", BASE,
                          "--maildir", MAIL], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
run.children.append(serve)
run.wait_for("herald serve", lambda: urllib.request.urlopen(BASE + "/healthz", timeout=2).read(), tolerate=(OSError,))

options = Options()
for argument in ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    # 1. The front door, by keyboard alone: Tab to the address, type, Enter.
    driver.get(BASE + "/console")
    audit(driver, "console sign-in form", "1-sign-in")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(30):
        if driver.switch_to.active_element.get_attribute("id") == "email":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    else:
        run.fail("Tab never reached the address field")
    before = len(mails())
    page = driver.find_element(By.TAG_NAME, "html")
    driver.switch_to.active_element.send_keys("rm@demo.example" + Keys.ENTER)
    WebDriverWait(driver, 15).until(page_left(page))
    audit(driver, "check your mail")
    link = run.wait_for("the sign-in link", lambda: sign_in_link("rm@demo.example", before))
    if sign_in_link("nobody@demo.example", 0):
        run.fail("a link went to an address without an account")

    # 2. The link's page, then enrolment: the key as a QR code and as text.
    driver.get(link)
    audit(driver, "sign-in link page")
    submit(driver)
    if not driver.find_elements(By.CSS_SELECTOR, "figure.qr svg"):
        run.fail(f"no QR code at enrolment: {main_text(driver)[:600]}")
    secret = driver.find_element(By.CSS_SELECTOR, "code.secret").text
    audit(driver, "enrol an authenticator", "2-enrol")
    totp = pyotp.TOTP(secret)
    driver.find_element(By.ID, "code").send_keys("000000" if totp.now() != "000000" else "111111")
    submit(driver)
    if "not right" not in main_text(driver):
        run.fail(f"a wrong first code was not refused: {main_text(driver)[:400]}")
    audit_refusal(driver, "a wrong code refused", "2b-wrong-code")
    driver.find_element(By.ID, "code").send_keys(totp.now())
    submit(driver)
    codes = [c.text for c in driver.find_elements(By.CSS_SELECTOR, ".recovery-codes code")]
    if len(codes) != 10 or len(set(codes)) != 10:
        run.fail(f"expected ten recovery codes, got {codes}")
    audit(driver, "recovery codes", "3-recovery-codes")

    # 3. The dashboard: the scheduled advisory with its instant, countdown and readiness; the draft.
    press(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "console"))
    text = main_text(driver)
    for expected in ["Heap overflow in the request parser", "Draft: path traversal", "Europe/Amsterdam", "UTC", "T−6d",
                     "2 participants", "rm@demo.example (release-manager)"]:
        if expected not in text:
            run.fail(f"the dashboard lacks {expected!r}: {text[:1200]}")
    if text.index("Heap overflow") > text.index("Draft: path"):
        run.fail("scheduled advisories should come before drafts")
    audit(driver, "dashboard", "4-dashboard")

    # 3a. By keyboard alone: from the dashboard to the advisory, to the preview of its messages.
    enter(driver, tab_to(driver, lambda e: "Heap overflow" in (e.text or ""), "the advisory's link"))
    enter(driver, tab_to(driver, lambda e: (e.get_attribute("href") or "").endswith("/preview"), "the preview link"))
    if "What each audience receives" not in main_text(driver):
        run.fail(f"the keyboard did not reach the preview: {main_text(driver)[:300]}")
    driver.get(BASE + "/console")

    # 3b. The advisory's page: the timeline picture (a row per participant, their notices
    #     delivered, the instant) and the same facts as a table.
    run.wait_for("the early notices delivered", lambda: len([m for m in mails() if "Heap overflow" in (m[1] or "")]) == 2)
    press(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Heap overflow"))
    svg = driver.find_element(By.CSS_SELECTOR, "figure.timeline svg")
    delivered = svg.find_elements(By.CSS_SELECTOR, ".mark.delivered")
    labels = [t.text for t in svg.find_elements(By.TAG_NAME, "text")]
    if len(delivered) != 2 or "Acme Cloud" not in labels or "Gemeente Voorbeeld ICT" not in labels:
        run.fail(f"the timeline should show two delivered notices, one per participant: {len(delivered)} {labels}")
    rows = driver.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    if len(rows) != 2 or "r1" not in rows[0].text:
        run.fail(f"the participants' table: {[r.text for r in rows]}")
    audit(driver, "advisory with its timeline", "4b-advisory-timeline")

    # 3c. Two providers answer in the portal, each signed in by the link mailed to it; the
    #     release manager's board, totals and timeline show both answers.
    def answer_in_portal(address, status):
        before = len(mails())
        driver.get(BASE + "/portal")
        driver.find_element(By.ID, "email").send_keys(address)
        press(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        driver.get(run.wait_for(f"{address}'s portal link", lambda: sign_in_link(address, before, "portal")))
        press(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        press(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Heap overflow"))
        driver.find_element(By.CSS_SELECTOR, f'input[value="{status}"]').click()
        press(driver, driver.find_element(By.CSS_SELECTOR, "form[action$='/answer'] button[type=submit]"))
        if 'role="status"' not in driver.page_source:
            run.fail(f"{address}'s answer in the portal was not confirmed: {main_text(driver)[:800]}")
        driver.get(BASE + "/portal")
        press(driver, driver.find_element(By.CSS_SELECTOR, "form[action^='/portal/sign-out'] button"))

    answer_in_portal("cert@voorbeeld.example", "ready")
    answer_in_portal("psirt@acme.example", "not-affected")
    driver.get(BASE + "/console/advisories/1")
    text = main_text(driver)
    answered = driver.find_elements(By.CSS_SELECTOR, "figure.timeline svg .mark.answered")
    if "1 ready · 1 not affected" not in text or len(answered) != 2:
        run.fail(f"the board does not show the two portal answers ({len(answered)} answered marks): {text[:1500]}")
    audit(driver, "the board after two answers", "4c-answers")
    driver.get(BASE + "/console")
    if "1 ready · 1 not affected" not in main_text(driver):
        run.fail(f"the dashboard's totals do not count the answers: {main_text(driver)[:800]}")

    # 4. Sign out; the next sign-in needs the link and the second factor: here a recovery code, in Dutch.
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action^='/console/sign-out'] button"))
    driver.get(BASE + "/console")
    if not driver.find_elements(By.ID, "email"):
        run.fail("signed out, the console still shows the dashboard")
    follow(driver, ask_for_link(driver, "rm@demo.example", lang="nl"))
    audit(driver, "code page (nl)", "5-code-nl")
    driver.find_element(By.ID, "code").send_keys(codes[0].upper())
    submit(driver)
    if "Heap overflow" not in main_text(driver):
        run.fail(f"a recovery code did not sign in: {main_text(driver)[:400]}")
    driver.get(BASE + "/console?lang=nl")
    if any(w not in main_text(driver) for w in ["2 deelnemers · ", " ingelicht · ", " stil"]) or \
            "participants" in main_text(driver):
        run.fail(f"the readiness totals are not in Dutch: {main_text(driver)[:1500]}")
    audit(driver, "dashboard (nl)")

    # 5. In Danish: the used recovery code is refused, the authenticator's next code signs in
    #    (the one used at enrolment would not: a code works once).
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action^='/console/sign-out'] button"))
    follow(driver, ask_for_link(driver, "rm@demo.example", lang="da"))
    driver.find_element(By.ID, "code").send_keys(codes[0])
    submit(driver)
    if "Heap overflow" in main_text(driver):
        run.fail("a used recovery code signed in again")
    audit_refusal(driver, "a used recovery code refused (da)")
    driver.find_element(By.ID, "code").send_keys(totp.at(time.time() + 30))
    submit(driver)
    if "Heap overflow" not in main_text(driver):
        run.fail(f"a right code did not sign in: {main_text(driver)[:400]}")
    driver.get(BASE + "/console?lang=da")
    if any(w not in main_text(driver) for w in ["2 deltagere · ", " underrettet · ", " uden svar"]):
        run.fail(f"the readiness totals are not in Danish: {main_text(driver)[:800]}")
    audit(driver, "dashboard (da)")

    # 5b. Reschedule from the advisory's page: a review that says whom it reaches, then the
    #     change, through the same use case as the CLI (participants get a revision).
    driver.get(BASE + "/console/advisories/1")
    before = len(mails())
    driver.find_element(By.CSS_SELECTOR, "details:has(#reschedule-instant) summary").click()
    later = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Amsterdam")) + datetime.timedelta(days=8)
    field = driver.find_element(By.ID, "reschedule-instant")
    field.clear()
    field.send_keys(later.strftime("%Y-%m-%d %H:%M") + " Europe/Amsterdam")
    if "Release window: Tue-Thu 14:00-17:00 Europe/Amsterdam" not in main_text(driver):
        run.fail(f"the advisory's page does not show the release window: {main_text(driver)[:800]}")
    driver.find_element(By.ID, "reschedule-reason").send_keys("the fix needs another day of testing")
    # Tue-Thu 14:00-17:00 is inside, both ends included (the closing minute too), as Herald reads
    # a window; the instant is typed to the minute.
    outside = later.weekday() not in (1, 2, 3) or not (14 * 60 <= later.hour * 60 + later.minute <= 17 * 60)
    if outside:
        driver.find_element(By.ID, "reschedule-window").send_keys("the maintainers are away on Tuesday")
    driver.find_element(By.ID, "reschedule-providers").send_keys("One more day: the patch is being tested.")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action*='/reschedule'] button[type=submit]"))
    if "2 participants" not in main_text(driver):
        run.fail(f"the review does not say whom it reaches: {main_text(driver)[:600]}")
    audit(driver, "reschedule review", "6-confirm-reschedule")
    submit(driver)
    shown = json.loads(herald("advisory", "show", "1", "--json"))["advisory"]
    if not shown["schedule"]["embargo"].startswith(later.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M")):
        run.fail(f"the reschedule did not take: {shown['schedule']}")
    if outside and "the maintainers are away on Tuesday" not in herald("audit", "--json"):
        run.fail("a release outside the window was not audited with its reason")
    run.wait_for("the revision to both participants", lambda: len(
        [m for m in mails()[before:] if "One more day" in m[2]]) == 2)
    rm_cookie = driver.get_cookie("herald_console")["value"]

    # 5f. The editor: a new advisory with its text previewed before saving; a refusal keeps
    #     what was typed; then a revision of its text.
    driver.get(BASE + "/console")
    press(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "New advisory"))
    driver.find_element(By.ID, "title").send_keys("Stored XSS in the comment preview")
    driver.find_element(By.ID, "body").send_keys("Comments render **raw HTML**.\n\n<script>alert(1)</script>\n\nUpgrade to 2.0.1.")
    driver.find_element(By.ID, "cves").send_keys("CVE-12")
    driver.find_element(By.CSS_SELECTOR, "#severity option[value=high]").click()
    driver.find_element(By.ID, "cvss").send_keys("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N")
    press(driver, driver.find_element(By.CSS_SELECTOR, "button[value=preview]"))
    if "CVSS: 6.1 (medium)" not in main_text(driver):
        run.fail(f"the editor does not show the vector's score: {main_text(driver)[:800]}")
    # A 4.0 vector is scored too (FIRST's calculator gives 2.1), named for the metrics it carries.
    field = driver.find_element(By.ID, "cvss")
    field.clear()
    field.send_keys("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:L/VI:L/VA:N/SC:L/SI:L/SA:N/E:P")
    press(driver, driver.find_element(By.CSS_SELECTOR, "button[value=preview]"))
    if "CVSS: 2.1 (low, CVSS-BT)" not in main_text(driver):
        run.fail(f"the editor does not score a CVSS 4.0 vector: {main_text(driver)[:800]}")
    preview_html = driver.find_element(By.CSS_SELECTOR, "article.preview").get_attribute("innerHTML")
    if "<strong>raw HTML</strong>" not in preview_html or "<script>" in preview_html:
        run.fail(f"the preview is not the sanitised Markdown: {preview_html[:400]}")
    audit(driver, "editor with a preview", "12-editor-preview")
    press(driver, driver.find_element(By.CSS_SELECTOR, "button[value=save]"))
    if "CVE" not in main_text(driver) or driver.find_element(By.ID, "title").get_attribute("value") != "Stored XSS in the comment preview":
        run.fail(f"a refused CVE did not keep the form: {main_text(driver)[:600]}")
    audit_refusal(driver, "editor refusing a bad CVE")
    field = driver.find_element(By.ID, "cves")
    field.clear()
    field.send_keys("CVE-2026-1234")
    press(driver, driver.find_element(By.CSS_SELECTOR, "button[value=save]"))
    if "Stored XSS in the comment preview" not in main_text(driver) or "draft" not in main_text(driver):
        run.fail(f"the new advisory's page: {main_text(driver)[:600]}")
    created = re.search(r"/console/advisories/(\d+)", driver.current_url).group(1)
    press(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Revise the text"))
    field = driver.find_element(By.ID, "title")
    field.clear()
    field.send_keys("Stored XSS in comment previews")
    driver.find_element(By.ID, "reason").send_keys("a clearer title")
    press(driver, driver.find_element(By.CSS_SELECTOR, "button[value=save]"))
    shown = json.loads(herald("advisory", "show", created, "--json"))["advisory"]
    if shown["content"]["title"] != "Stored XSS in comment previews" or shown["revision"] != 2 or shown["content"]["cves"] != ["CVE-2026-1234"]:
        run.fail(f"the revision did not take: {shown['content']} r{shown['revision']}; page: {main_text(driver)[:500]}")

    # 5c. The third advisory: every message previewed (three languages, each public channel),
    #     then the early notice sent from the console, after a review that counts its providers.
    driver.get(BASE + "/console/advisories/3")
    press(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Preview every message"))
    text = main_text(driver)
    for expected in ["SQL injection in the search form", "English", "Nederlands", "Dansk", "slack", "announce"[:0] or "email",
                     "PER-RECIPIENT-TOKEN", '"blocks"']:
        if expected not in text:
            run.fail(f"the preview lacks {expected!r}: {text[:1500]}")
    if "secret" in text and "services/T0/B0/secret" in text:
        run.fail("the preview shows a channel's secret URL")
    audit(driver, "preview of every message", "7-preview")
    driver.get(BASE + "/console/advisories/3")
    before = len(mails())
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action*='/early-notice'] button[type=submit]"))
    if "2 providers" not in main_text(driver):
        run.fail(f"the early notice's review does not count its providers: {main_text(driver)[:600]}")
    submit(driver)
    run.wait_for("the early notice from the console", lambda: len(
        [m for m in mails()[before:] if "SQL injection" in (m[1] or "")]) == 2)
    if driver.find_elements(By.CSS_SELECTOR, "form[action*='/early-notice']"):
        run.fail("the early notice can still be sent again")

    # 5d. Acme asks for more time through its notice's answer link; the release manager sees
    #     the proposal on the board and declines it with a note, which reaches Acme.
    acme_mail = [m for m in mails() if m[0] == "psirt@acme.example" and "SQL injection" in (m[1] or "")][-1]
    answer_link = re.search(r"http://127\.0\.0\.1:\d+/answer\?token=[A-Za-z0-9_-]+", acme_mail[2]).group(0)
    proposed = (datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Amsterdam")) + datetime.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")
    answer = http.client.HTTPConnection("127.0.0.1", port)
    answer.request("POST", answer_link[len(BASE):], body=urllib.parse.urlencode(
        {"status": "needs-more-time", "proposed": proposed, "statement": "We deploy on Thursdays."}),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    if answer.getresponse().status != 200:
        run.fail("Acme's answer was not taken")
    driver.get(BASE + "/console/advisories/3")
    if "We deploy on Thursdays." not in main_text(driver) or not driver.find_elements(By.CSS_SELECTOR, "form[action*='/decline']"):
        run.fail(f"the board does not offer to decide on Acme's proposal: {main_text(driver)[:1500]}")
    audit(driver, "a proposal on the board", "8-proposal")
    before = len(mails())
    driver.find_element(By.CSS_SELECTOR, "form[action*='/decline'] textarea").send_keys("The fix is public upstream on the 7th.")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action*='/decline'] button[type=submit]"))
    run.wait_for("the decline's note to Acme", lambda: any(
        m[0] == "psirt@acme.example" and "public upstream on the 7th" in m[2] for m in mails()[before:]))

    # 5e. A provider whose webhook cannot be reached joins under embargo: its late notice
    #     fails, the advisory's page lists it, and "send again" queues it at once.
    herald("provider", "add", "--organization", "Broken Hook BV", "--email", "sec@brokenhook.example", "--webhook",
           "https://hooks.brokenhook.invalid/herald", "--project", "demo", "--approve")
    def failing_listed():
        driver.get(BASE + "/console/advisories/1")
        return driver.find_elements(By.CSS_SELECTOR, "form[action*='/retry'] button")
    retry = run.wait_for("the failing delivery on the advisory's page", failing_listed, timeout=30, interval=1)
    if "hooks.brokenhook.invalid/herald" in main_text(driver):
        run.fail("the page shows a provider's whole webhook URL")
    audit(driver, "failing deliveries", "9-failing")
    press(driver, retry[0])
    if "delivery.retry" not in herald("audit", "--json"):
        run.fail("sending again was not audited")

    # 5g. Publish advisory 3 now, breaking its embargo: the review says whom it reaches (the two
    #     providers and Broken Hook BV, told late when it joined); then
    #     the public page shows it.
    driver.get(BASE + "/console/advisories/3")
    driver.find_element(By.CSS_SELECTOR, "details:has(#publish-reason) summary").click()
    driver.find_element(By.ID, "publish-reason").send_keys("the fix leaked on a public mirror")
    driver.find_element(By.ID, "publish-public").send_keys("Published early: the fix became public elsewhere.")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action*='/publish'] button[type=submit]"))
    if "3 participants" not in main_text(driver) or "2 public channels" not in main_text(driver):
        run.fail(f"the publish review does not say whom it reaches: {main_text(driver)[:600]}")
    audit(driver, "publish review", "13-confirm-publish")
    submit(driver)
    shown = json.loads(herald("advisory", "show", "3", "--json"))["advisory"]
    if shown["state"] != "published":
        run.fail(f"publishing from the console did not take: {shown['state']}")
    def public_page():
        with urllib.request.urlopen(f"{BASE}/advisories/{shown['public_id']}", timeout=10) as response:
            return response.read().decode()
    # The public cache sees a new publication within a tenth of a second.
    page_text = run.wait_for("the public page", lambda: "SQL injection in the search form" in public_page() and public_page(),
                             tolerate=(OSError,))
    if "the fix became public elsewhere" not in page_text:
        run.fail(f"the public page lacks the public note: {page_text[page_text.find('<main'):][:1500]}")
    if "leaked on a public mirror" in page_text:
        run.fail("the reason reached the public page")

    # 6. The auditor sees the dashboard and is told it changes nothing.
    driver.delete_all_cookies()
    follow(driver, ask_for_link(driver, "audit@demo.example"))
    secret = driver.find_element(By.CSS_SELECTOR, "code.secret").text
    driver.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).now())
    submit(driver)
    press(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "console"))
    if "changes nothing" not in main_text(driver) or "Heap overflow" not in main_text(driver):
        run.fail(f"the auditor's dashboard: {main_text(driver)[:600]}")
    audit(driver, "auditor's dashboard")

    # 6a. The auditor cannot act, whatever it posts; and a session cannot act with another
    #     session's form token (the release manager's cookie with the auditor's token).
    driver.get(BASE + "/console/advisories/2")
    if "changes nothing" not in main_text(driver) or driver.find_elements(By.CSS_SELECTOR, "form[action*='/cancel']"):
        run.fail(f"the auditor's advisory page offers actions: {main_text(driver)[:600]}")
    audit(driver, "auditor's advisory page")
    auditor_cookie = driver.get_cookie("herald_console")["value"]
    driver.get(BASE + "/console")
    auditor_csrf = re.search(r'name="csrf" value="([^"]+)"', driver.page_source).group(1)
    attempt = http.client.HTTPConnection("127.0.0.1", port)
    for cookie, what in [(auditor_cookie, "the auditor"), (rm_cookie, "another session's form token")]:
        attempt.request("POST", "/console/advisories/2/cancel", body=f"csrf={auditor_csrf}&reason=x&confirm=yes",
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Cookie": f"herald_console={cookie}"})
        answer = attempt.getresponse()
        answer.read()
        if answer.status != 403:
            run.fail(f"{what} could cancel an advisory: {answer.status}")
    if json.loads(herald("advisory", "show", "2", "--json"))["advisory"]["state"] != "draft":
        run.fail("the draft changed state")
    # ...nor change a provider: the page shows it without a form, and a forged post is refused.
    driver.get(BASE + "/console/providers/2")
    if "psirt@acme.example" not in main_text(driver) or driver.find_elements(By.CSS_SELECTOR, "form[action*='/providers/']"):
        run.fail(f"the auditor's provider page offers changes: {main_text(driver)[:600]}")
    for path, body in [("/console/providers/2/edit", "organization=Evil&emails=x%40evil.example&projects=demo&language=en"),
                       ("/console/providers/2/keys", "remove=0000000000000000")]:
        attempt.request("POST", path, body=f"csrf={auditor_csrf}&{body}",
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Cookie": f"herald_console={auditor_cookie}"})
        answer = attempt.getresponse()
        answer.read()
        if answer.status != 403:
            run.fail(f"the auditor could post {path}: {answer.status}")
    if "Acme Cloud" not in herald("provider", "list"):
        run.fail("the auditor's forged edit renamed the provider")

    # 6b. Someone with only a sign-in link (the mailbox, not the authenticator) gets a session
    #     that can do nothing: not even end the owner's sessions.
    before = len(mails())
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("POST", "/console/sign-in-link", body="csrf=x&email=audit%40demo.example",
                       headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": "herald_console_csrf=x"})
    connection.getresponse().read()
    stolen = run.wait_for("a second link", lambda: sign_in_link("audit@demo.example", before))
    connection.request("POST", stolen[len(BASE):])
    answer = connection.getresponse()
    answer.read()
    half = re.search(r"herald_console=([^;]+)", answer.getheader("Set-Cookie") or "")
    if answer.status != 303 or not half:
        run.fail(f"the link did not open a session: {answer.status}")
    connection.request("GET", "/console", headers={"Cookie": f"herald_console={half.group(1)}"})
    page_html = connection.getresponse().read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page_html)
    if "Heap overflow" in page_html or not csrf:
        run.fail("a session without its code showed the dashboard")
    connection.request("POST", "/console/sign-out-everywhere", body=f"csrf={csrf.group(1)}",
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "Cookie": f"herald_console={half.group(1)}"})
    refused = connection.getresponse()
    refused.read()
    if refused.status != 403:
        run.fail(f"a session without its code could sign the account out everywhere: {refused.status}")
    driver.get(BASE + "/console")
    if "Heap overflow" not in main_text(driver):
        run.fail("the owner's session ended after a link holder's attempt")

    # 7. Signing out everywhere ends the other sessions of the account too.
    cookie = driver.get_cookie("herald_console")["value"]
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action^='/console/sign-out-everywhere'] button"))
    request = urllib.request.Request(BASE + "/console", headers={"Cookie": f"herald_console={cookie}"})
    if "Heap overflow" in urllib.request.urlopen(request).read().decode():
        run.fail("a session signed out everywhere still shows the dashboard")

    # 8. An admin approves a request from the providers page: its look-alike name is flagged,
    #    and the approval needs the box that says it was checked.
    driver.delete_all_cookies()
    follow(driver, ask_for_link(driver, "admin@demo.example"))
    secret = driver.find_element(By.CSS_SELECTOR, "code.secret").text
    driver.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).now())
    submit(driver)
    driver.get(BASE + "/console/providers")
    text = main_text(driver)
    if "Gemeente Voorbee1d ICT" not in text or "Looks like ‘Gemeente Voorbeeld ICT’" not in text:
        run.fail(f"the approval queue does not flag the look-alike: {text[:1200]}")
    audit(driver, "providers and the approval queue", "10-providers")
    admin_cookie = driver.get_cookie("herald_console")["value"]
    admin_csrf = re.search(r'name="csrf" value="([^"]+)"', driver.page_source).group(1)
    pending_id = re.search(r'/console/providers/(\d+)/approve', driver.page_source).group(1)
    unchecked = http.client.HTTPConnection("127.0.0.1", port)
    unchecked.request("POST", f"/console/providers/{pending_id}/approve", body=f"csrf={admin_csrf}",
                      headers={"Content-Type": "application/x-www-form-urlencoded",
                               "Cookie": f"herald_console={admin_cookie}"})
    answer = unchecked.getresponse()
    if answer.status != 422 or "impostor" not in answer.read().decode():
        run.fail(f"a look-alike was approved without the check: {answer.status}")
    driver.find_element(By.CSS_SELECTOR, "form[action*='/approve'] input[name=checked]").click()
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action*='/approve'] button[type=submit]"))
    if "Gemeente Voorbee1d ICT" not in herald("provider", "list", "--status", "active"):
        run.fail("the request was not approved")
    # ...and suspends it again, with a reason.
    row = driver.find_element(By.XPATH, "//tr[th[contains(., 'Gemeente Voorbee1d ICT')]]")
    row.find_element(By.CSS_SELECTOR, "input[name=reason]").send_keys("approved by mistake")
    press(driver, row.find_element(By.CSS_SELECTOR, "form[action*='/suspend'] button"))
    if "Gemeente Voorbee1d ICT" not in herald("provider", "list", "--status", "suspended"):
        run.fail("the provider was not suspended")

    # 8c. An admin opens a provider: edits it (an address added, the language), replaces its
    #     broken endpoint (named by fingerprint, the secret kept) and keeps its addresses' keys.
    acme = next(p for p in json.loads(herald("provider", "list", "--json")) if p["organization"] == "Acme Cloud")
    herald("provider", "edit", str(acme["id"]), "--add-webhook", "https://broken.acme.example/herald")
    driver.find_element(By.LINK_TEXT, "Acme Cloud").click()
    run.wait_for("the provider page", lambda: "/console/providers/" in driver.current_url)
    text = main_text(driver)
    if "psirt@acme.example" not in text or "broken.acme.example/…" not in text or "/herald" in text:
        run.fail(f"the provider page does not show its address and its endpoint by fingerprint: {driver.current_url} {text[:1200]} {driver.page_source[:3000]}")
    # A form drawn before someone else's change is refused rather than undoing it.
    herald("provider", "edit", str(acme["id"]), "--language", "da")
    driver.find_element(By.ID, "emails").send_keys("\nstale@acme.example")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action*='/edit'] button[type=submit]"))
    if "changed since this page was opened" not in main_text(driver) or \
            "stale@acme.example" in herald("provider", "list", "--json"):
        run.fail(f"a stale edit form was applied: {main_text(driver)[:600]}")
    audit_refusal(driver, "a stale provider form refused")
    driver.get(BASE + f"/console/providers/{acme['id']}")
    emails = driver.find_element(By.ID, "emails")
    emails.send_keys("\nsecurity@acme.example")
    driver.find_element(By.CSS_SELECTOR, "#language option[value=nl]").click()
    driver.find_element(By.ID, "edit-reason").send_keys("second contact asked for by phone")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action*='/edit'] button[type=submit]"))
    edited = next(p for p in json.loads(herald("provider", "list", "--json")) if p["organization"] == "Acme Cloud")
    if sorted(edited["emails"]) != ["psirt@acme.example", "security@acme.example"] or edited["language"] != "nl":
        run.fail(f"the edit did not land: {edited}: {main_text(driver)[:800]}")
    driver.find_element(By.CSS_SELECTOR, "form[action*='/replace-webhook'] input[name=url]").send_keys(
        "https://fixed.acme.example/herald")
    driver.find_element(By.CSS_SELECTOR, "form[action*='/replace-webhook'] input[name=reason]").send_keys(
        "the old host is gone")
    press(driver, driver.find_element(By.CSS_SELECTOR, "form[action*='/replace-webhook'] button"))
    hooks = json.loads(herald("provider", "list", "--json", "--reveal"))
    hooks = next(p for p in hooks if p["organization"] == "Acme Cloud")["webhooks"]
    if [h["url"] for h in hooks] != ["https://fixed.acme.example/herald"]:
        run.fail(f"the endpoint was not replaced: {hooks}")
    gnupg = os.path.join(run.work, "gnupg-console")
    os.makedirs(gnupg, mode=0o700)
    gpg = ["gpg", "--homedir", gnupg, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(gpg + ["--quick-gen-key", "PSIRT <psirt@acme.example>", "ed25519", "cert,sign", "never"], check=True,
                   capture_output=True)
    key_fpr = next(line.split(":")[9] for line in subprocess.run(
        gpg + ["--list-keys", "--with-colons", "psirt@acme.example"], check=True, capture_output=True,
        text=True).stdout.splitlines() if line.startswith("fpr"))
    subprocess.run(gpg + ["--quick-add-key", key_fpr, "cv25519", "encr", "never"], check=True, capture_output=True)
    armored = subprocess.run(gpg + ["--armor", "--export", key_fpr], check=True, capture_output=True, text=True).stdout
    driver.find_element(By.ID, "key").send_keys(armored)
    press(driver, driver.find_element(By.CSS_SELECTOR, "form:has(#key) button[type=submit]"))
    if key_fpr not in main_text(driver):
        run.fail(f"the pasted key is not shown on the provider page: {main_text(driver)[:1500]}")
    audit(driver, "a provider, with its key", "10a-provider")
    if key_fpr not in herald("provider", "key", "list", str(acme["id"]), "--json"):
        run.fail("the key pasted in the console is not kept")
    press(driver, driver.find_element(By.CSS_SELECTOR, f"form:has(input[name=remove][value='{key_fpr}']) button"))
    if json.loads(herald("provider", "key", "list", str(acme["id"]), "--json")):
        run.fail("the key was not removed")
    provider_actions = [e["action"] for e in json.loads(herald("audit", "--json", "--actor", "console:admin@demo.example"))]
    for action in ["provider.edit", "provider.key-add", "provider.key-remove"]:
        if action not in provider_actions:
            run.fail(f"the console's provider changes lack {action} in the audit log: {provider_actions}")

    # 8d. The admin imports the list with --sync: the preview says what would change and writes
    #     nothing; applying does exactly that; a bad line is refused with its number.
    driver.get(BASE + "/console/providers")
    driver.find_element(By.CSS_SELECTOR, "a[href^='/console/import']").click()
    run.wait_for("the import page", lambda: "/console/import" in driver.current_url)
    def list_state():
        # The list, what console accounts did, and how many deliveries exist (the delivery
        # worker keeps updating their attempts meanwhile, so only their number is compared).
        return (herald("provider", "list", "--json"), herald("audit", "--json", "--actor", "console:*"),
                len(json.loads(herald("deliveries", "list", "--json", "--limit", "10000"))))

    before_import = list_state()
    csv_text = ("organization;email;project\nGemeente Voorbeeld ICT;cert@voorbeeld.example;demo\n"
                "Acme Cloud;psirt@acme.example;demo\nNieuw Hosting BV;cert@nieuw.example;demo\n")
    driver.find_element(By.ID, "csv").send_keys(csv_text)
    driver.find_element(By.CSS_SELECTOR, "input[name=sync]").click()
    press(driver, driver.find_element(By.CSS_SELECTOR, "button[value=preview]"))
    text = main_text(driver)
    for expected in ["Applying would", "Nieuw Hosting BV (cert@nieuw.example)", "Acme Cloud: -security@acme.example",
                     "Gemeente Voorbee1d ICT"]:
        if expected not in text:
            run.fail(f"the import preview lacks {expected!r}: {text[:1500]}")
    if list_state() != before_import:
        run.fail("the import preview wrote to the list, the audit log or the outbox")
    audit(driver, "import preview", "10c-import-preview")
    # Applying is only of what was previewed: a text changed after the preview is refused.
    driver.find_element(By.ID, "csv").send_keys("Late BV;late@late.example;demo\n")
    press(driver, driver.find_element(By.CSS_SELECTOR, "button[value=apply]"))
    if "preview it again" not in main_text(driver) or "Late BV" in herald("provider", "list"):
        run.fail(f"an import changed after its preview was applied: {main_text(driver)[:800]}")
    audit_refusal(driver, "an import changed after its preview refused")
    driver.find_element(By.ID, "csv").clear()
    driver.find_element(By.ID, "csv").send_keys(csv_text)
    press(driver, driver.find_element(By.CSS_SELECTOR, "button[value=preview]"))
    press(driver, driver.find_element(By.CSS_SELECTOR, "button[value=apply]"))
    organizations = {p["organization"]: p for p in json.loads(herald("provider", "list", "--json"))}
    if "Nieuw Hosting BV" not in organizations or organizations["Nieuw Hosting BV"]["status"] != "active" or \
            organizations["Acme Cloud"]["emails"] != ["psirt@acme.example"] or \
            organizations.get("Gemeente Voorbee1d ICT", {}).get("status") not in (None, "removed"):
        run.fail(f"applying the import did not do what the preview said: {organizations}")
    audit(driver, "import applied")
    driver.find_element(By.ID, "csv").clear()
    driver.find_element(By.ID, "csv").send_keys("organization;email;project\nBroken BV;not-an-address;demo\n")
    press(driver, driver.find_element(By.CSS_SELECTOR, "button[value=preview]"))
    if "line 2" not in main_text(driver) or "Broken BV" in herald("provider", "list"):
        run.fail(f"a bad line was not refused with its number: {main_text(driver)[:800]}")
    audit_refusal(driver, "import refused")

    # 8b. The settings, read only.
    driver.get(BASE + "/console/settings")
    if "public-url" not in main_text(driver) or BASE not in main_text(driver):
        run.fail(f"the settings page: {main_text(driver)[:600]}")
    audit(driver, "settings", "10b-settings")
    # ...and the templates in use, each readable whole (edits stay files).
    driver.find_element(By.CSS_SELECTOR, "a[href^='/console/templates']").click()
    run.wait_for("the templates page", lambda: "/console/templates" in driver.current_url)
    if "messages/nl/early-notice.mustache" not in main_text(driver):
        run.fail(f"the templates page does not list the Dutch early notice: {main_text(driver)[:800]}")
    audit(driver, "templates")
    driver.find_element(By.LINK_TEXT, "messages/nl/early-notice.mustache").click()
    run.wait_for("one template", lambda: "name=" in driver.current_url)
    shown = driver.find_element(By.CSS_SELECTOR, "pre.source").text
    exported = os.path.join(run.work, "exported")
    subprocess.run([HERALD, "templates", "export", exported], check=True, capture_output=True)
    if shown.strip() != open(os.path.join(exported, "messages", "nl", "early-notice.mustache"), encoding="utf-8").read().strip():
        run.fail("the template shown is not the one in use")
    audit(driver, "one template")
    missing = urllib.request.Request(BASE + "/console/templates?name=../../etc/passwd",
                                     headers={"Cookie": f"herald_console={driver.get_cookie('herald_console')['value']}"})
    try:
        urllib.request.urlopen(missing)
        run.fail("a template name that is not one was answered")
    except urllib.error.HTTPError as error:
        if error.code != 404:
            run.fail(f"an unknown template name gave {error.code}")

    # 9. The audit log, filtered to what console accounts did.
    driver.get(BASE + "/console/audit?actor=console:*")
    text = main_text(driver)
    for expected in ["account.sign-in", "advisory.reschedule", "console:rm@demo.example", "provider.approve",
                     "provider.suspend"]:
        if expected not in text:
            run.fail(f"the audit page lacks {expected!r}: {text[:1500]}")
    if "cli:" in text:
        run.fail("the actor filter let other actors through")
    audit(driver, "audit log", "11-audit")

    audit_log = herald("audit", "--json")
    for action in ["account.add", "account.enrol", "account.sign-in", "account.sign-out-everywhere"]:
        if action not in audit_log:
            run.fail(f"the audit log lacks {action}")
finally:
    driver.quit()
    serve.terminate()
    serve.wait(timeout=10)
print(f"console in Chromium: {len(checked)} pages checked by axe, no serious or critical violations: " + ", ".join(checked))
