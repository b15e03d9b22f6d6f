"""Benchmark the operations endpoints and the backup on a large PostgreSQL database.

Run from the repository root::

    .venv/bin/python -m bench.ops --tickets 1000000

Creates a fresh database ``helpdesk_bench_ops``, migrates it, seeds the demo desks and
mailboxes, loads ``--tickets`` tickets and three messages each with COPY (the inbound ones
from the demo mailboxes, as the poller stores them) and an outbox of sent mail, then times
``/readyz`` and ``/metrics`` over ``--requests`` requests (median and p95 in milliseconds,
server time through the test client) and one ``flask backup`` (seconds, and the size of the
dump), and drops the database (unless ``--keep``). A probe comes every few seconds, so /readyz
should stay within tens of milliseconds whatever the volume. A scrape's cost grows with the
unfinished tickets (SLA counts) and with every message ever stored (counted per mailbox by
an index-only scan): at a million tickets and three million messages it was about 0.9 s of
database time here, so scrape every 30 s or more.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg

from bench.web import (
    DEFERRED_INDEXES,
    MESSAGE_COLUMNS,
    NOW,
    PG_ADMIN_DSN,
    TICKET_COLUMNS,
    _copy,
    _messages,
    _tickets,
    measure,
)
from helpdesk.scheduler import LEADER_NAME

PG_NAME = "helpdesk_bench_ops"
OUTBOX_COLUMNS = [
    "id", "kind", "sender", "recipient", "message_id", "automatic", "status", "attempts",
    "next_attempt_at", "created_at", "sent_at",
]  # fmt: skip


def _messages_from(mailbox_ids: list[int], n: int, per_ticket: int) -> Iterator[tuple[object, ...]]:
    """bench.web's messages, the inbound ones stored from a mailbox."""
    rng = random.Random(3)
    for row in _messages(n, per_ticket, 7):
        inbound = row[2] == "inbound"
        yield (*row, rng.choice(mailbox_ids) if inbound else None)


def _outbox(n: int) -> Iterator[tuple[object, ...]]:
    for i in range(1, n + 1):
        at = NOW - timedelta(minutes=i)
        status, sent = ("pending", None) if i <= 3 else ("sent", at)
        yield (
            i, "ack", "desk@support.example.test", f"user{i}@example.jp",
            f"<bench-{i}@support.example.test>", True, status, 1, at, at, sent,
        )  # fmt: skip


def load(dsn: str, n: int, per_ticket: int) -> float:
    """Bulk-load tickets, messages and the outbox; build the deferred indexes after."""
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        definitions = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND (indexname = ANY(%s) OR (tablename IN ('ticket', 'message') "
            "AND indexdef NOT LIKE 'CREATE UNIQUE%%'))",
            (list(DEFERRED_INDEXES),),
        ).fetchall()
        for name, _definition in definitions:
            conn.execute(f'DROP INDEX "{name}"')
        desk_ids = [row[0] for row in conn.execute("SELECT id FROM desk ORDER BY id")]
        mailbox_ids = [row[0] for row in conn.execute("SELECT id FROM mailbox")]
        conn.execute("UPDATE mailbox SET enabled = true, last_success_at = %s", (NOW,))
        conn.execute(
            "INSERT INTO scheduler_lease (name, holder, expires_at) VALUES (%s, 'bench:1', %s)",
            (LEADER_NAME, NOW + timedelta(seconds=30)),
        )
        with conn.transaction():
            _copy(conn, "ticket", TICKET_COLUMNS, _tickets(n, desk_ids, 7))
            _copy(
                conn,
                "message",
                [*MESSAGE_COLUMNS, "mailbox_id"],
                _messages_from(mailbox_ids, n, per_ticket),
            )
            _copy(conn, "outbox_message", OUTBOX_COLUMNS, _outbox(n // 2))
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in definitions:
            conn.execute(definition)
        for table in ("ticket", "message", "outbox_message"):
            conn.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
            conn.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - started


def run(n: int, per_ticket: int, requests: int, keep: bool) -> None:
    """Create, load, measure and drop the benchmark database."""
    from flask_migrate import upgrade

    from helpdesk import clock, create_app
    from helpdesk.extensions import db
    from helpdesk.seed import seed_demo

    dsn = f"postgresql://postgres@127.0.0.1:5432/{PG_NAME}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    instance = Path(tempfile.mkdtemp(prefix="bench-ops-"))
    try:
        app = create_app(
            "testing",
            overrides={
                "DATABASE_URL": dsn.replace("postgresql://", "postgresql+psycopg://"),
                "INSTANCE_PATH": str(instance),
            },
        )
        with app.app_context():
            upgrade()
            seed_demo()
            db.session.commit()
        loaded_s = load(dsn, n, per_ticket)
        print(f"loaded {n:,} tickets, {n * per_ticket:,} messages in {loaded_s:.0f} s")
        clock.set_now_source(lambda: NOW)
        client = app.test_client()

        def get(url: str, status: int) -> None:
            response = client.get(url)
            assert response.status_code == status, (url, response.status_code)

        print(f"{'endpoint':20} {'median ms':>10} {'p95 ms':>10}")
        for name, expected in (("/healthz", 200), ("/readyz", 200), ("/metrics", 200)):
            median, p95 = measure(lambda url=name, s=expected: get(url, s), requests)
            print(f"{name:20} {median:10.1f} {p95:10.1f}")
        target = instance / "backup"
        started = time.perf_counter()
        result = app.test_cli_runner().invoke(args=["backup", str(target)])
        assert result.exit_code == 0, result.output
        size = (target / "database.dump").stat().st_size
        print(f"backup: {time.perf_counter() - started:.1f} s, dump {size / 2**20:,.0f} MiB")
        with app.app_context():
            db.engine.dispose()
    finally:
        clock.set_now_source(None)
        shutil.rmtree(instance, ignore_errors=True)
        if not keep:
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--messages-per-ticket", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    run(args.tickets, args.messages_per_ticket, args.requests, args.keep)


if __name__ == "__main__":
    main()
