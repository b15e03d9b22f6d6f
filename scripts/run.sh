#!/usr/bin/env bash
# Set up and run the helpdesk on its embedded default: SQLite under ./instance, the demo
# desks, an admin login printed on the first run, served on http://127.0.0.1:5000/.
# Outgoing mail is caught on this machine and shown to admins at /admin/captured-mail/.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv || {
        echo "could not create a virtual environment; on Debian: apt-get install python3-venv" >&2
        exit 1
    }
fi
# Install only when the project's dependencies changed since the last run.
stamp=.venv/.run-installed
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "installing the helpdesk and its dependencies into .venv (first run, or they changed)"
    {
        .venv/bin/python -m pip install --quiet --upgrade pip &&
            .venv/bin/python -m pip install --quiet -e .
    } >.venv/install.log 2>&1 || {
        cat .venv/install.log >&2
        echo "installing failed; the log above is kept in .venv/install.log" >&2
        exit 1
    }
    echo "$wanted" >"$stamp"
fi

export FLASK_APP=helpdesk
export HELPDESK_BASE_URL="${HELPDESK_BASE_URL:-http://127.0.0.1:${HELPDESK_PORT:-5000}}"
# Migrations print a line each; on success say how many ran, on failure show everything.
migrated="$(.venv/bin/flask db upgrade 2>&1)" || {
    echo "$migrated" >&2
    echo "the database could not be brought up to date; the output above says why" >&2
    exit 1
}
applied="$(grep -c "Running upgrade" <<<"$migrated" || true)"
if [ "$applied" != 0 ]; then
    echo "database brought up to date ($applied migrations applied)"
fi
.venv/bin/flask seed
exec .venv/bin/flask serve --host 127.0.0.1 --port "${HELPDESK_PORT:-5000}"
