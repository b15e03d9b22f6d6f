"""Benchmark what each kind of agent request costs in transactions and statements.

Run from the repository root::

    .venv/bin/python -m bench.commit_point [--db sqlite|postgresql] [--requests 200]

Builds a small database (the demo desks, an agent, ``--tickets`` tickets; SQLite in a
temporary folder, or a PostgreSQL database ``helpdesk_bench_commit`` created and dropped),
signs the agent in on the test client and sends, ``--requests`` times each: the ticket page,
a priority change, a note, a note refused as invalid (400), and /healthz. For each it prints
the median and p95 server time in milliseconds and, per request, the SQL statements sent,
the COMMITs and ROLLBACKs, and the savepoints taken.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "helpdesk_bench_commit"


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A new empty database of ``kind``; yields its URL and drops it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-commit-')) / 'helpdesk.sqlite3'}"
        return
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_NAME}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')


def count_sql(engine: Any) -> Counter[str]:
    """Counts, kept up to date, of what the engine sends the database."""
    counts: Counter[str] = Counter()
    for name in ("commit", "rollback", "savepoint", "rollback_savepoint"):
        event.listen(engine, name, lambda *args, name=name: counts.update([name]))

    @event.listens_for(engine, "before_cursor_execute")
    def statement(*args: Any) -> None:
        counts["statements"] += 1

    return counts


def measure(call: Callable[[], object], requests: int, counts: Counter[str]) -> dict[str, float]:
    """Median and p95 milliseconds of ``call``, and what it sent per call."""
    call()  # warm up
    before = counts.copy()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    sent = counts - before
    times.sort()
    figures = {
        "median": statistics.median(times),
        "p95": times[max(0, int(len(times) * 0.95) - 1)],
    }
    figures.update({name: sent[name] / requests for name in (*SENT, "statements")})
    return figures


SENT = ("commit", "rollback", "savepoint", "rollback_savepoint")


def run(kind: str, requests: int, tickets: int) -> None:
    """Build the database, sign the agent in, time each kind of request and print it."""
    import re

    from flask_login.utils import _create_identifier
    from flask_migrate import upgrade
    from sqlalchemy import select

    from helpdesk import create_app
    from helpdesk.auth.services import create_user
    from helpdesk.extensions import db
    from helpdesk.models import Desk, Role
    from helpdesk.seed import seed_demo
    from helpdesk.tickets.services import open_ticket

    with database(kind) as url:
        instance = Path(tempfile.mkdtemp(prefix="bench-commit-instance-"))
        app = create_app("testing", overrides={"DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
        with app.app_context():
            upgrade()
            seed_demo()
            desk = db.session.scalars(select(Desk).where(Desk.slug == "system")).one()
            agent = create_user("bench@support.example.test", "Bench", "x" * 16, Role.AGENT, [desk])
            ids = [
                open_ticket(desk, subject=f"Enquiry {n}", requester_email=f"r{n}@example.jp").id
                for n in range(tickets)
            ]
            db.session.commit()
            agent_id = agent.get_id()
            counts = count_sql(db.engine)
        client = app.test_client()
        with app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()
        with client.session_transaction() as session:
            session.update({"_user_id": agent_id, "_fresh": True, "_id": identifier})
        page = client.get(f"/tickets/{ids[0]}").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        turn = iter(range(10**9))

        def expect(status: int, method: str, path: str, **data: str) -> Callable[[], object]:
            def call() -> object:
                n = next(turn)
                high = (n // len(ids)) % 2 == 0  # each pass over the tickets flips them
                values = {"n": n, "priority": "high" if high else "normal"}
                form = {key: value.format(**values) for key, value in data.items()}
                url = path.format(id=ids[n % len(ids)])
                response = client.open(url, method=method, data={"csrf_token": token, **form})
                assert response.status_code == status, (url, response.status_code)
                return response

            return call

        calls = {
            "ticket page (GET)": expect(200, "GET", "/tickets/{id}"),
            "priority change (POST, 302)": expect(
                302,
                "POST",
                "/tickets/{id}/priority",
                **{"priority-priority": "{priority}"},
            ),
            "note (POST, 302)": expect(302, "POST", "/tickets/{id}/note", **{"note-text": "n{n}"}),
            "note, empty (POST, 400)": expect(400, "POST", "/tickets/{id}/note"),
            "/healthz (GET)": expect(200, "GET", "/healthz"),
        }
        print(f"{kind}, {requests} requests each, {tickets} tickets")
        header = f"{'request':30} {'median ms':>9} {'p95 ms':>7} {'statements':>10}"
        print(header + "".join(f" {name:>10}" for name in SENT))
        for name, call in calls.items():
            figures = measure(call, requests, counts)
            line = f"{name:30} {figures['median']:9.2f} {figures['p95']:7.2f}"
            line += f" {figures['statements']:10.2f}"
            print(line + "".join(f" {figures[name]:10.2f}" for name in SENT))
        with app.app_context():
            db.engine.dispose()


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--tickets", type=int, default=50)
    args = parser.parse_args()
    run(args.db, args.requests, args.tickets)


if __name__ == "__main__":
    main()
