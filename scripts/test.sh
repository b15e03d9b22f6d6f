#!/usr/bin/env bash
# Install what the tests need, then run the whole suite on SQLite and the database-backed
# part again on PostgreSQL (a fresh database created and dropped by the run).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
    bash scripts/install-test-deps.sh
else
    echo "test.sh: not root, so the Debian packages the tests need are not installed here" \
        "(dovecot-imapd, chromium, libmagic1, zip, p7zip-full, jlha-utils, fonts-ipafont-gothic," \
        "and the vmail user). Nothing is skipped: tests that need a missing one fail and name it." \
        "Run 'sudo bash scripts/install-test-deps.sh' once." >&2
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# Install only when the project's dependencies changed since the last run.
stamp=.venv/.test-installed
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "installing the helpdesk and its test dependencies into .venv"
    {
        .venv/bin/python -m pip install --quiet --upgrade pip &&
            .venv/bin/python -m pip install --quiet -e '.[test]'
    } >.venv/install.log 2>&1 || {
        cat .venv/install.log >&2
        exit 1
    }
    echo "$wanted" >"$stamp"
fi

# PostgreSQL on 127.0.0.1:5432 (trust auth); start the cluster if it is down.
if ! .venv/bin/python -c "import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres').close()" 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    fi
fi

# Redis on 127.0.0.1:6379 (the gunicorn workers' shared rate limits); start it if it is down.
if ! .venv/bin/python -c "import redis; redis.Redis(socket_timeout=2).ping()" 2>/dev/null; then
    if command -v redis-server >/dev/null; then
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
    fi
fi

echo "== lint =="
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

echo "== suite on SQLite =="
HELPDESK_TEST_DB=sqlite .venv/bin/pytest "$@"

echo "== database-backed tests on PostgreSQL =="
HELPDESK_TEST_DB=postgresql .venv/bin/pytest tests/integration tests/e2e "$@"
