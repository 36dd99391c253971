#!/usr/bin/env python3
"""Encrypted early notices, checked by peers Herald did not write: GnuPG and Sequoia (sqop)
decrypt what Herald sends through a real SMTP server (aiosmtpd) and verify the project's
signature, for Ed25519/Curve25519 and RSA-3072 keys made by GnuPG and a key made by Sequoia;
Python's email package reads the PGP/MIME structure (RFC 3156); the outer headers carry no
word of the advisory; non-ASCII text arrives intact; expired, revoked and mismatched keys are
refused at upload; a project that requires encryption sends a keyless address only a pointer
to the portal. Then the public side: the project's key at /openpgp/SLUG.asc, in security.txt and
by the Web Key Directory (under gpg's own hash); the publication mailed signed (multipart/signed);
detached signatures of the OSV document and the feeds; each verified by gpg and sqop.

  openpgp_check.py HERALD_BINARY
"""
import email
import email.policy
import glob
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

from harness import Run, free_port

HERALD = os.path.abspath(sys.argv[1])
SUPPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Support")
run = Run("OPENPGP", "herald-openpgp-")
WORK = run.work
DB = os.path.join(WORK, "herald.sqlite")
SMTP_DIR = os.path.join(WORK, "smtp")
GNUPGHOME = os.path.join(WORK, "gnupg")
os.makedirs(SMTP_DIR)
os.makedirs(GNUPGHOME, mode=0o700)
fail = run.fail

TITLE = "Beveiligingsadvies – heap overflow in de æøå-parser"
BODY = "Details: de parser leest voorbij het einde van de buffer. Æblegrød – ÆØÅ æøå – “quoted”.\n"
SECRET_WORDS = ["Beveiligingsadvies", "heap", "overflow", "parser", "CVE-2026-12345", "EMBARGOED"]


def step(text):
    print(f"==> {text}", flush=True)


def gpg(*args, input=None, check=True):
    result = subprocess.run(["gpg", "--homedir", GNUPGHOME, "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
                             *args], input=input, capture_output=True)
    if check and result.returncode != 0:
        fail(f"gpg {' '.join(args)} exited {result.returncode}: {result.stderr.decode(errors='replace')}")
    return result


def fingerprint(uid):
    out = gpg("--list-keys", "--with-colons", uid).stdout.decode()
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr"))


def write(name, data):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def gpg_key(uid, algo, usage="cert,sign", expire="never", subkey=None, faked_time=None):
    """A key made by GnuPG; returns the path of its armored public key."""
    extra = ["--faked-system-time", faked_time] if faked_time else []
    gpg(*extra, "--quick-gen-key", uid, algo, usage, expire)
    fpr = fingerprint(uid)
    if subkey:
        gpg(*extra, "--quick-add-key", fpr, subkey, "encr", expire)
    return write(re.sub(r"\W", "_", uid) + ".asc", gpg("--armor", "--export", uid).stdout)


step("keys made by GnuPG (Ed25519/Curve25519, RSA-3072, expired, revoked, another address) and by Sequoia")
alice = gpg_key("Alice <alice@ed.example>", "ed25519", subkey="cv25519")
bob = gpg_key("Bob <bob@rsa.example>", "rsa3072", usage="cert,sign,encr")
strict_key = gpg_key("Sam <sam@strict.example>", "ed25519", subkey="cv25519")
expired = gpg_key("Old <old@expired.example>", "ed25519", expire="1d", subkey="cv25519", faked_time="20200101T000000")
revoked_uid = "Rev <rev@revoked.example>"
gpg_key(revoked_uid, "ed25519", subkey="cv25519")
revocation = open(os.path.join(GNUPGHOME, "openpgp-revocs.d", fingerprint(revoked_uid) + ".rev"), "rb").read()
gpg("--import", input=revocation.replace(b":-----BEGIN", b"-----BEGIN"))
revoked = write("revoked.asc", gpg("--armor", "--export", revoked_uid).stdout)
elsewhere = gpg_key("Someone <someone@elsewhere.example>", "ed25519", subkey="cv25519")
carol_secret = subprocess.run(["sqop", "generate-key", "Carol <carol@sq.example>"], capture_output=True, check=True).stdout
carol_secret_path = write("carol.key", carol_secret)
carol = write("carol.cert", subprocess.run(["sqop", "extract-cert"], input=carol_secret, capture_output=True, check=True).stdout)

smtp = subprocess.Popen([sys.executable, os.path.join(SUPPORT, "smtp_server.py"), "--dir", SMTP_DIR], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, text=True)
run.children.append(smtp)
smtp_port = int(smtp.stdout.readline().split()[1])
port = free_port()
BASE = f"http://127.0.0.1:{port}"
ENV = dict(os.environ, HERALD_PUBLIC_URL=BASE, HERALD_MAIL_FROM="security@herald.example", HERALD_LOG_LEVEL="warning",
           HERALD_KEY_ENCRYPTION_KEY="openpgp-check-" + "k" * 40)
herald = run.herald_at(HERALD, DB, ENV)

step("a project that encrypts where it can, one that requires it; the first with its signing key")
herald("migrate")
herald("project", "add", "oz", "--name", "Open Zaak", "--contact", "security@openzaak.example")
herald("project", "add", "strict", "--name", "Strict", "--encryption", "required")
out = herald("project", "key", "generate", "oz")
project_fpr = re.search(r"[0-9A-F]{40}", out).group(0)
project_cert = write("oz.cert", herald("project", "key", "export", "oz").encode())
if "PRIVATE" in open(project_cert).read():
    fail("project key export printed a secret key")
gpg("--import", project_cert)


def provider(organization, *emails, project="oz"):
    args = ["provider", "add", "--organization", organization, "--project", project, "--approve"]
    for address in emails:
        args += ["--email", address]
    herald(*args)
    return next(p["id"] for p in json.loads(herald("provider", "list", "--json")) if p["organization"] == organization)


ed_co = provider("Ed Co", "alice@ed.example", "plain@ed.example")
rsa_co = provider("RSA Co", "bob@rsa.example")
sq_co = provider("Sq Co", "carol@sq.example")
strict_co = provider("Strict Co", "sam@strict.example", project="strict")
provider("Nokey Co", "nokey@strict.example", project="strict")
refused_co = provider("Refused Co", "old@expired.example", "rev@revoked.example", "dave@mismatch.example")
herald("provider", "key", "add", str(ed_co), alice)
herald("provider", "key", "add", str(rsa_co), bob)
herald("provider", "key", "add", str(sq_co), carol)
herald("provider", "key", "add", str(strict_co), strict_key)
keys = json.loads(herald("provider", "key", "list", str(rsa_co), "--json"))
if len(keys) != 1 or keys[0]["email"] != "bob@rsa.example" or "RSA" not in keys[0]["algorithm"]:
    fail(f"RSA Co's key list reads {keys}")

step("two encryption subkeys: the newer is recorded, with its expiry; the stored key come back revoked is removed")
rotated_uid = "Rota <rota@rotated.example>"
gpg_key(rotated_uid, "ed25519", subkey="cv25519")
time.sleep(1.1)  # a later creation second: the newer subkey is the one GnuPG and librnp encrypt to
gpg("--quick-add-key", fingerprint(rotated_uid), "cv25519", "encr", "2y")
rot_co = provider("Rot Co", "rota@rotated.example")
herald("provider", "key", "add", str(rot_co), write("rotated.asc", gpg("--armor", "--export", rotated_uid).stdout))
rows = [line.split(":") for line in gpg("--with-colons", "--fingerprint", rotated_uid).stdout.decode().splitlines()]
encryption_subkeys = [(rows[i][5], rows[i + 1][9]) for i, f in enumerate(rows) if f[0] == "sub" and "e" in f[11]]
newer = max(encryption_subkeys)[1]
recorded, until = sqlite3.connect(DB).execute(
    "SELECT encryption_subkey, encryption_subkey_expires FROM provider_keys WHERE email = 'rota@rotated.example'").fetchone()
if len(encryption_subkeys) != 2 or recorded != newer or until is None or not 700 < (until / 1000 - time.time()) / 86400 < 740:
    fail(f"Rota's subkeys {encryption_subkeys}: recorded {recorded} until {until}, wanted {newer} for about two years")
revocation = open(os.path.join(GNUPGHOME, "openpgp-revocs.d", fingerprint(rotated_uid) + ".rev"), "rb").read()
gpg("--import", input=revocation.replace(b":-----BEGIN", b"-----BEGIN"))
result = subprocess.run([HERALD, "provider", "key", "add", str(rot_co),
                         write("rotated-revoked.asc", gpg("--armor", "--export", rotated_uid).stdout), "--database", DB],
                        capture_output=True, text=True, env=ENV)
if result.returncode != 2 or "revoked" not in result.stderr or "removed" not in result.stderr:
    fail(f"the stored key sent again revoked: exit {result.returncode}, {result.stderr!r}")
if json.loads(herald("provider", "key", "list", str(rot_co), "--json")):
    fail("the revoked key is still stored for rota@rotated.example")
if "provider.key-remove" not in herald("audit", "--json"):
    fail("the removal of the revoked key is not audited")

step("expired, revoked and mismatched keys are refused at upload, each with its reason, and nothing is stored")
for path, address, reason in [(expired, None, "expired"), (revoked, None, "revoked"),
                              (elsewhere, "dave@mismatch.example", "not dave@mismatch.example")]:
    args = ["provider", "key", "add", str(refused_co), path] + (["--email", address] if address else [])
    result = subprocess.run([HERALD, *args, "--database", DB], capture_output=True, text=True, env=ENV)
    if result.returncode != 2 or reason not in result.stderr or len(result.stderr.strip().splitlines()) != 1:
        fail(f"herald {' '.join(args)} gave {result.returncode}: {result.stderr!r}, wanted exit 2 naming '{reason}'")
if json.loads(herald("provider", "key", "list", str(refused_co), "--json")):
    fail("a refused key was stored")

serve = subprocess.Popen([HERALD, "serve", "--database", DB, "--listen", f"127.0.0.1:{port}",
                          "--smtp-url", f"smtp://127.0.0.1:{smtp_port}"], env=ENV,
                         stdout=open(os.path.join(WORK, "serve.log"), "w"), stderr=subprocess.STDOUT)
run.children.append(serve)
run.wait_for("herald serve", lambda: urllib.request.urlopen(BASE + "/healthz", timeout=2).read(), tolerate=(OSError,))

body_file = write("body.md", BODY.encode())
embargo = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3 * 86400))
for project in ["oz", "strict"]:
    herald("advisory", "create", "--project", project, "--title", TITLE, "--cve", "CVE-2026-12345", "--severity", "high",
           "--body-file", body_file, "--embargo", embargo, "--early-notice", "now")


def mails():
    out = {}
    for path in glob.glob(os.path.join(SMTP_DIR, "*.eml")):
        raw = open(path, "rb").read()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        out.setdefault(str(message["X-Envelope-To"]), []).append((raw, message))
    return out


everyone = ["alice@ed.example", "plain@ed.example", "bob@rsa.example", "carol@sq.example", "sam@strict.example",
            "nokey@strict.example"]
run.wait_for("the early notices", lambda: all(address in mails() for address in everyone), timeout=30)
messages = {address: found[0] for address, found in mails().items()}
step(f"{len(messages)} early notices arrived by SMTP")


def outer_headers(raw):
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii")


def encrypted_part(address):
    raw, message = messages[address]
    if message.get_content_type() != "multipart/encrypted" or message.get_param("protocol") != "application/pgp-encrypted":
        fail(f"{address}: Content-Type is {message['Content-Type']}, not multipart/encrypted (RFC 3156)")
    parts = message.get_payload()
    if len(parts) != 2 or parts[0].get_content_type() != "application/pgp-encrypted" \
            or parts[1].get_content_type() != "application/octet-stream":
        fail(f"{address}: the parts are {[p.get_content_type() for p in parts]}")
    if "Version: 1" not in parts[0].get_payload():
        fail(f"{address}: the version part says {parts[0].get_payload()!r}")
    headers = outer_headers(raw)
    for word in SECRET_WORDS:
        if word.lower() in headers.lower():
            fail(f"{address}: the outer headers say '{word}':\n{headers}")
    subject = str(message["Subject"])
    if subject != "[Open Zaak] Private security notice" and subject != "[Strict] Private security notice":
        fail(f"{address}: the outer subject is {subject!r}")
    armored = parts[1].get_payload().encode()
    if not armored.startswith(b"-----BEGIN PGP MESSAGE-----"):
        fail(f"{address}: the second part is not an armored OpenPGP message")
    return armored


def check_inner(address, plain):
    inner = email.message_from_bytes(plain, policy=email.policy.default)
    if inner.get_param("protected-headers") != "v1":
        fail(f"{address}: the inner part has no protected-headers=\"v1\": {inner['Content-Type']}")
    if TITLE not in str(inner["Subject"]):
        fail(f"{address}: the protected Subject is {inner['Subject']!r}, not the advisory's")
    text = inner.get_content()
    if "Æblegrød – ÆØÅ æøå – “quoted”" not in text or "CVE-2026-12345" not in text:
        fail(f"{address}: the decrypted text lost its words or its non-ASCII:\n{text}")
    if not re.search(re.escape(BASE) + r"/ack\?token=[A-Za-z0-9_-]{43}", text):
        fail(f"{address}: no acknowledgement link of its own in the decrypted text")


def armor_width(address):
    """The length of the full lines of the encrypted part's armor."""
    lines = encrypted_part(address).decode().split("-----BEGIN PGP MESSAGE-----")[1].strip().splitlines()
    return max(len(line.strip()) for line in lines if not line.startswith("="))


def gpg_decrypts(address):
    result = gpg("--status-fd", "2", "--decrypt", input=encrypted_part(address))
    status = result.stderr.decode(errors="replace")
    if f"VALIDSIG {project_fpr}" not in status or "GOODSIG" not in status:
        fail(f"{address}: gpg found no good signature by the project's key {project_fpr}:\n{status}")
    check_inner(address, result.stdout)


def sqop_decrypts(address, secret_path):
    verifications = os.path.join(WORK, "verifications-" + address)
    result = subprocess.run(["sqop", "decrypt", f"--verifications-out={verifications}", "--verify-with", project_cert,
                             secret_path], input=encrypted_part(address), capture_output=True)
    if result.returncode != 0:
        fail(f"{address}: sqop decrypt exited {result.returncode}: {result.stderr.decode(errors='replace')}")
    if project_fpr not in open(verifications).read():
        fail(f"{address}: sqop verified no signature by {project_fpr}: {open(verifications).read()!r}")
    check_inner(address, result.stdout)


step("GnuPG decrypts Ed25519 and RSA-3072 notices and verifies the project's signature")
gpg_decrypts("alice@ed.example")
gpg_decrypts("bob@rsa.example")
step("to a Curve25519 subkey, the one verified at upload is recorded and encrypted to (Herald's own encryption)")
subkeys = dict(sqlite3.connect(DB).execute("SELECT email, encryption_subkey FROM provider_keys").fetchall())
for address, uid in [("alice@ed.example", "Alice <alice@ed.example>"), ("sam@strict.example", "Sam <sam@strict.example>")]:
    listing = gpg("--with-colons", "--fingerprint", uid).stdout.decode()
    lines = [line.split(":") for line in listing.splitlines()]
    subkey_fpr = next(lines[i + 1][9] for i, f in enumerate(lines) if f[0] == "sub" and "e" in f[11])
    if subkeys.get(address) != subkey_fpr:
        fail(f"{address}: the recorded encryption subkey is {subkeys.get(address)}, not {subkey_fpr}")
    packets = gpg("--list-packets", input=encrypted_part(address), check=False).stdout.decode(errors="replace")
    if f"keyid {subkey_fpr[-16:]}" not in packets or "algo 18" not in packets:
        fail(f"{address}: the notice is not encrypted to the subkey {subkey_fpr}:\n{packets[:600]}")
    # Which code encrypted it shows in the armor: Herald's own writes lines of 64 characters
    # (as GnuPG does), librnp 76.
    if armor_width(address) != 64:
        fail(f"{address}: not Herald's own encryption (armor lines of {armor_width(address)} characters)")
# The premise of that check, seen: librnp's notice (Bob's RSA key) has lines of 76.
if armor_width("bob@rsa.example") != 76:
    fail(f"bob@rsa.example: librnp's armor has lines of {armor_width('bob@rsa.example')} characters, not 76")
# Bob's RSA key encrypts with its primary key: nothing recorded, librnp encrypts (and gpg decrypted it above).
if subkeys.get("bob@rsa.example") is not None:
    fail(f"bob@rsa.example: an encryption subkey recorded for a key without one: {subkeys['bob@rsa.example']!r}")

step("Sequoia decrypts its own key's notice and GnuPG-made keys' notices, and verifies the signature")
sqop_decrypts("carol@sq.example", carol_secret_path)
for address in ["alice@ed.example", "bob@rsa.example"]:
    sqop_decrypts(address, write(address + ".key", gpg("--armor", "--export-secret-keys", address).stdout))

step("an address without a key: plain text where the project encrypts when it can")
raw, message = messages["plain@ed.example"]
if message.get_content_type() != "text/plain" or TITLE not in str(message["Subject"]):
    fail(f"plain@ed.example got {message.get_content_type()} {message['Subject']!r}")

step("a project that requires encryption: the keyless address gets only a pointer to the portal")
encrypted_part("sam@strict.example")
raw, message = messages["nokey@strict.example"]
text = message.get_body(("plain",)).get_content()
for word in SECRET_WORDS:
    if word.lower() in raw.decode("utf-8", errors="replace").lower():
        fail(f"nokey@strict.example was told '{word}':\n{raw.decode(errors='replace')}")
if BASE + "/portal" not in text or str(message["Subject"]) != "[Strict] Private security notice":
    fail(f"nokey@strict.example's notice does not point to the portal: {message['Subject']!r}\n{text}")

step("readiness names the keyless address that gets only the pointer, and not the keyed one")
strict_advisory = next(a for a in json.loads(herald("advisory", "list", "--json")) if a["project_slug"] == "strict")
readiness = herald("advisory", "readiness", str(strict_advisory["id"]))
if "nokey@strict.example" not in readiness or "pointer to the portal" not in readiness \
        or "sam@strict.example" in readiness.split("encryption required")[-1]:
    fail(f"readiness does not say who gets only the pointer:\n{readiness}")

step("before anything of the project is published, its key is nowhere on the public side")
for path in ["/openpgp/oz.asc", "/.well-known/openpgpkey/policy"]:
    try:
        urllib.request.urlopen(BASE + path, timeout=10)
        fail(f"{path} answered before the project published anything")
    except urllib.error.HTTPError as error:
        if error.code != 404:
            fail(f"{path} answered {error.code}")

step("publication: the list's and the providers' mail signed (multipart/signed), verified by gpg and sqop")
herald("channel", "add", "--project", "oz", "--kind", "email", "--target", "announce@lists.example")
oz_advisory = next(a for a in json.loads(herald("advisory", "list", "--json")) if a["project_slug"] == "oz")
herald("advisory", "publish", str(oz_advisory["id"]), "--now", "--reason", "openpgp check")
run.wait_for("the signed publication", lambda: "announce@lists.example" in mails(), timeout=30)
raw, message = mails()["announce@lists.example"][0]
if message.get_content_type() != "multipart/signed" or message.get_param("protocol") != "application/pgp-signature" \
        or message.get_param("micalg") != "pgp-sha256":
    fail(f"the publication is {message['Content-Type']}, not multipart/signed (RFC 3156)")
boundary = message.get_param("boundary").encode()
body = raw.split(b"\r\n\r\n", 1)[1]
signed_part = body.split(b"--" + boundary + b"\r\n", 1)[1].split(b"\r\n--" + boundary + b"\r\n", 1)[0]
signature = message.get_payload()[1].get_payload().encode()
if message.get_payload()[1].get_content_type() != "application/pgp-signature":
    fail("the second part of the signed mail is not application/pgp-signature")
signed_path = write("signed-part", signed_part)
signature_path = write("signed-part.asc", signature)
status = gpg("--status-fd", "2", "--verify", signature_path, signed_path).stderr.decode()
if f"VALIDSIG {project_fpr}" not in status:
    fail(f"gpg does not verify the publication's signature:\n{status}")
verified = subprocess.run(["sqop", "verify", signature_path, project_cert], input=signed_part, capture_output=True)
if verified.returncode != 0 or project_fpr not in verified.stdout.decode():
    fail(f"sqop does not verify the publication's signature: {verified.stderr.decode(errors='replace')}")
if TITLE not in str(message["Subject"]):
    fail(f"the signed publication's subject is {message['Subject']!r}")
run.wait_for("the providers' publication", lambda: len(mails().get("plain@ed.example", [])) == 2, timeout=30)
for _, provider_mail in mails()["plain@ed.example"]:
    if "Private security notice" not in str(provider_mail["Subject"]) and TITLE in str(provider_mail["Subject"]) \
            and provider_mail.get_content_type() == "multipart/signed":
        break
else:
    fail("a provider's publication notice is not signed")

step("the project's public key at a stable URL, in security.txt, and by the Web Key Directory (gpg's own hash)")


def get(path, host=None):
    request = urllib.request.Request(BASE + path, headers={"Host": host} if host else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read(), response.headers.get("Content-Type")


key_bytes, key_type = get("/openpgp/oz.asc")
if key_type != "application/pgp-keys" or project_fpr not in gpg("--with-colons", "--import-options", "show-only", "--import",
                                                                 input=key_bytes).stdout.decode():
    fail(f"/openpgp/oz.asc is not the project's key ({key_type})")
security_txt = get("/.well-known/security.txt")[0].decode()
# The key Herald made only signs: no one outside Herald could read what is encrypted to it.
if "Encryption:" in security_txt:
    fail(f"security.txt offers a signing-only key for encryption:\n{security_txt}")
listing = gpg("--with-wkd-hash", "--list-keys", project_fpr).stdout.decode()
match = re.search(r"([a-z0-9]{32})@openzaak\.example", listing)
if not match:
    fail(f"gpg gives no WKD hash for the project's key:\n{listing}")
wkd_key, _ = get(f"/.well-known/openpgpkey/hu/{match.group(1)}?l=security", host="openzaak.example")
if project_fpr not in gpg("--with-colons", "--import-options", "show-only", "--import", input=wkd_key).stdout.decode():
    fail("the Web Key Directory does not serve the project's key under gpg's hash")
try:
    get(f"/.well-known/openpgpkey/hu/{match.group(1)}", host="elsewhere.example")
    fail("the Web Key Directory served the project's key for another domain")
except urllib.error.HTTPError as error:
    if error.code != 404:
        fail(f"another domain's WKD lookup answered {error.code}")

step("detached signatures of the OSV document and the feeds, verified by gpg and sqop, and not over a changed document")
run.wait_for("the OSV document", lambda: get("/feed.json")[0] and json.loads(get("/feed.json")[0])["items"])
items = json.loads(get("/feed.json")[0])["items"]
osv_path = next(re.sub(r"^https?://[^/]+", "", item["url"]) for item in items) + ".osv.json"
for path in [osv_path, "/feed.atom", "/feed.rss", "/feed.json"]:
    document, _ = get(path)
    signature, kind = get(path + ".asc")
    if kind != "application/pgp-signature":
        fail(f"{path}.asc is {kind}")
    document_path = write("document", document)
    sig_path = write("document.asc", signature)
    status = gpg("--status-fd", "2", "--verify", sig_path, document_path).stderr.decode()
    if f"VALIDSIG {project_fpr}" not in status:
        fail(f"gpg does not verify {path}.asc:\n{status}")
    verified = subprocess.run(["sqop", "verify", sig_path, project_cert], input=document, capture_output=True)
    if verified.returncode != 0:
        fail(f"sqop does not verify {path}.asc: {verified.stderr.decode(errors='replace')}")
    if gpg("--verify", sig_path, write("tampered", document + b" "), check=False).returncode == 0:
        fail(f"gpg verified {path}.asc over a changed document")

serve.terminate()
serve.wait(timeout=20)
print("OPENPGP OK: GnuPG and Sequoia decrypt and verify; outer headers neutral; bad keys refused; required mode keeps "
      "embargoed text from keyless addresses")
