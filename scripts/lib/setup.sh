# Sourced by the scripts: installs what a fresh machine lacks. A fresh machine has the Swift
# toolchain, gcc, python3 and libsqlite3-dev; Herald also needs libcurl's and cmark-gfm's
# headers, libqrencode's (the console's QR codes), librnp's (OpenPGP) and tzdata.

# Runs a command as root (directly when we are root, through sudo otherwise).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages named, if any are missing.
ensure_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# What building and running Herald needs.
ensure_build_dependencies() {
    ensure_packages libsqlite3-dev libcurl4-openssl-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libqrencode-dev librnp-dev tzdata sqlite3
}

# What the end-to-end tests use as real peers: an SMTP server (aiosmtpd), a feed parser
# (feedparser), a browser that looks at the pages (headless Chromium, driven by Selenium
# through Debian's chromium-driver, with axe for accessibility), openssl for a
# self-signed certificate, schemathesis, which fuzzes the HTTP API from openapi.yaml, and the
# ecosystem's validators: jsonschema (OSV, JSON Feed, Adaptive Card), jing (Atom) and the
# official standardwebhooks library (the generic webhook's signature); pyotp plays the console
# user's authenticator app; GnuPG and Sequoia (sqop) decrypt and verify what Herald encrypts and signs;
# Red Hat's cvss package, a translation of FIRST's calculators, checks Herald's CVSS scores.
ensure_test_dependencies() {
    ensure_packages chromium chromium-driver fonts-dejavu-core openssl jing gnupg sqop
    python3 -c "import aiosmtpd, feedparser, jsonschema, standardwebhooks, selenium, axe_selenium_python, pyotp" 2>/dev/null \
        || pip_install aiosmtpd feedparser jsonschema standardwebhooks selenium axe-selenium-python pyotp
    python3 -c "import cvss, sys; sys.exit(cvss.__version__ != '$CVSS_VERSION')" 2>/dev/null || pip_install "cvss==$CVSS_VERSION"
    python3 -m schemathesis.cli --version 2>/dev/null | grep -qx ".*version $SCHEMATHESIS_VERSION" || pip_install "schemathesis==$SCHEMATHESIS_VERSION"
}

SCHEMATHESIS_VERSION=4.32.5
CVSS_VERSION=3.6

# A real Matrix homeserver (Synapse) for one message read back through its client API: in a
# virtual environment of its own, installed once per machine and reused by every run.
SYNAPSE_VENV="${HERALD_SYNAPSE_VENV:-$HOME/.cache/herald/synapse-venv}"
ensure_synapse() {
    "$SYNAPSE_VENV/bin/python" -c "import synapse" 2>/dev/null && return 0
    echo "==> installing matrix-synapse into $SYNAPSE_VENV (once per machine)"
    mkdir -p "$(dirname "$SYNAPSE_VENV")"
    python3 -m venv "$SYNAPSE_VENV"
    "$SYNAPSE_VENV/bin/pip" install --quiet --disable-pip-version-check matrix-synapse
}

# pip install, as root without pip's warning about it.
pip_install() {
    echo "==> installing $* (pip)"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$@" 2>/dev/null \
        || python3 -m pip install --quiet --disable-pip-version-check "$@"
}
