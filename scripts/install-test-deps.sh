#!/bin/sh
# Install what the test suite needs from Debian (run as root; safe to run again).
#   dovecot-imapd  the real IMAP server the mail tests start on loopback
#   chromium       the browser Playwright drives in the UI tests
#   libmagic1      content sniffing for the attachment policy (python-magic)
#   zip, p7zip-full, jlha-utils  real archive fixtures (zip, AES zip, LZH) for the policy tests
#   fonts-ipafont-gothic  Japanese glyphs in browser screenshots
#   postgresql-client  pg_dump / pg_restore for flask backup and restore (only when no pg_dump
#                      is installed already: a PostgreSQL server package brings its own)
#   redis-server   the shared rate-limit store of the gunicorn scale-out test (scripts/test.sh
#                  starts it on 127.0.0.1:6379 when it is not running)
# It also creates the `vmail` system user the private Dovecot runs mail processes as.
# apt-get update runs only when a package is missing.
set -eu

PACKAGES="dovecot-imapd chromium libmagic1 zip p7zip-full jlha-utils fonts-ipafont-gothic redis-server"
MAIL_USER="vmail"

if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: run as root (e.g. sudo $0)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

missing=""
for package in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing="$missing $package"
    fi
done

if ! command -v pg_dump >/dev/null 2>&1; then
    missing="$missing postgresql-client"
fi

if [ -n "$missing" ]; then
    echo "install-test-deps: installing$missing"
    apt-get update -q
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing
else
    echo "install-test-deps: packages already installed ($PACKAGES)"
fi

if id -u "$MAIL_USER" >/dev/null 2>&1; then
    echo "install-test-deps: system user $MAIL_USER exists"
else
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$MAIL_USER"
    echo "install-test-deps: created system user $MAIL_USER"
fi

# The packaged Dovecot service is not needed: the tests start their own private instance.
# Leave its state alone; only say so when it is running.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet dovecot 2>/dev/null; then
    echo "install-test-deps: note: the system dovecot service is running (tests do not need it)"
fi
