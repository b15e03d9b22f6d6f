#!/usr/bin/env bash
# Set up and run the helpdesk on its embedded default: SQLite under ./instance, the demo
# desks, an admin login printed on the first run, served on http://127.0.0.1:5000/.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv || {
        echo "could not create a virtual environment; on Debian: apt-get install python3-venv" >&2
        exit 1
    }
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .

export FLASK_APP=helpdesk
export HELPDESK_BASE_URL="${HELPDESK_BASE_URL:-http://127.0.0.1:${HELPDESK_PORT:-5000}}"
.venv/bin/flask db upgrade
.venv/bin/flask seed
exec .venv/bin/flask serve --host 127.0.0.1 --port "${HELPDESK_PORT:-5000}"
