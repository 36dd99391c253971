"""What the test scripts in this folder share (each is run as `python3 scripts/lib/NAME.py`,
so this folder is on the import path): a free port, and a run's work folder, child processes,
failure, `herald` calls and waiting."""
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    """One script's run: a work folder kept when it fails, the processes it started (killed
    when it fails), and `LABEL FAILED: …` on standard error with exit 1."""

    def __init__(self, label, prefix):
        self.label = label
        self.work = tempfile.mkdtemp(prefix=prefix)
        self.children = []

    def fail(self, message):
        print(f"\n{self.label} FAILED: {message}\n(work folder kept: {self.work})", file=sys.stderr)
        for child in self.children:
            child.kill()
        sys.exit(1)

    def herald_at(self, binary, database, env=None):
        """A function running `herald ARGS --database DATABASE` that returns its output and fails
        the run on a non-zero exit (unless called with check=False)."""
        def herald(*args, check=True):
            result = subprocess.run([binary, *args, "--database", database], capture_output=True, text=True, env=env)
            if check and result.returncode != 0:
                self.fail(f"herald {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
            return result.stdout
        return herald

    def wait_for(self, what, condition, timeout=15, interval=0.1, tolerate=()):
        """`condition()`'s first true value within `timeout` seconds; the exceptions in
        `tolerate` count as not yet. Fails the run when the time is up."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                value = condition()
                if value:
                    return value
            except tolerate:
                pass
            time.sleep(interval)
        self.fail(f"timed out after {timeout}s waiting for {what}")


def page_left(page):
    """A wait condition for Selenium: `page` (an element of the old document) is gone. Chromium
    may answer a look at a node of a document being replaced with "does not belong to the
    document" instead of a stale reference; both mean the old page has gone."""
    def gone(_driver):
        try:
            page.is_enabled()
            return False
        except Exception as error:   # selenium's StaleElementReferenceException or that WebDriverException
            return "Stale" in type(error).__name__ or "does not belong to the document" in str(error)
    return gone


def maildir_messages(folder):
    """Every message in the Maildir `folder`, oldest first: (To, Subject, text), the text
    parts decoded (quoted-printable unfolded)."""
    import email
    import glob
    import os
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "new", "*")), key=os.path.getmtime):
        with open(path, "rb") as file:
            message = email.message_from_binary_file(file)
        parts = [p for p in message.walk() if p.get_content_type() == "text/plain"] or [message]
        text = "".join(p.get_payload(decode=True).decode("utf-8", "replace") for p in parts)
        out.append((message["To"], message["Subject"], text))
    return out


def press(driver, button):
    """Clicks a submit button and waits for the next page: a click does not wait for it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    page = driver.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(driver, 15).until(page_left(page))


def check_page(run, driver, name):
    """axe on the page as it is: no serious or critical violation; and no console errors
    (a CSP violation shows there)."""
    from axe_selenium_python import Axe
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    if bad:
        run.fail(f"{name}: axe found " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']}" for v in bad))
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    if errors:
        run.fail(f"{name}: console errors: {errors}")
