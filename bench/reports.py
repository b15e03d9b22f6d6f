"""Benchmark the managers' SLA report on a large ticket table.

Run from the repository root::

    .venv/bin/python -m bench.reports --db sqlite --n 1000000
    .venv/bin/python -m bench.reports --db postgresql --n 1000000

Loads ``--n`` tickets spread over one year and four desks into a fresh database (PostgreSQL:
a database ``helpdesk_bench_reports`` created with COPY and dropped after; SQLite: a temporary
file filled with executemany in big transactions), then times the full report for that year over
all desks, and each of its sections. Targets: under 1 s on PostgreSQL, under 3 s on SQLite.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "helpdesk_bench_reports"
YEAR = 2025
DESKS = 4
AGENTS_PER_DESK = 10
CHUNK = 100_000

COLUMNS = [
    "id",
    "number",
    "desk_id",
    "status",
    "priority",
    "channel",
    "subject",
    "language",
    "assignee_id",
    "created_at",
    "updated_at",
    "sla_started_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "first_response_due_at",
    "resolution_due_at",
    "sla_state",
    "first_response_minutes",
    "resolution_minutes",
    "awaiting_information_minutes",
    "first_response_breached",
    "resolution_breached",
    "env_os_family",
    "env_browser_family",
]


def _sqlite_stamp(value: datetime | None) -> str | None:
    """The text SQLAlchemy stores for a UTC instant on SQLite."""
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _pg_stamp(value: datetime | None) -> datetime | None:
    """PostgreSQL takes the aware instant as it is."""
    return value


def ticket_rows(n: int, postgresql: bool, seed: int = 8) -> Iterator[tuple[object, ...]]:
    """``n`` plausible tickets over one year; business minutes drawn from skewed distributions."""
    _stamp = _pg_stamp if postgresql else _sqlite_stamp
    rng = random.Random(seed)
    start = datetime(YEAR, 1, 1, tzinfo=UTC) - timedelta(hours=9)
    seconds = 365 * 24 * 3600
    agents = {d: [d * 100 + a for a in range(AGENTS_PER_DESK)] for d in range(1, DESKS + 1)}
    for i in range(1, n + 1):
        desk = rng.randint(1, DESKS)
        created = start + timedelta(seconds=rng.randrange(seconds))
        fr = int(rng.expovariate(1 / 240)) if rng.random() < 0.93 else None
        finished = rng.random() < 0.88 and fr is not None
        res = fr + int(rng.expovariate(1 / 1200)) if finished and fr is not None else None
        first_at = created + timedelta(minutes=(fr or 0) * 2) if fr is not None else None
        resolved_at = created + timedelta(minutes=(res or 0) * 2) if res is not None else None
        closed = resolved_at is not None and rng.random() < 0.7
        status = ("closed" if closed else "resolved") if finished else rng.choice(["new", "open"])
        yield (
            i,
            f"HD-B{i:08d}",
            desk,
            status,
            "normal",
            rng.choice(["email", "email", "email", "web", "phone"]),
            "Cannot log in to the e-notification system",
            "ja" if rng.random() < 0.7 else rng.choice(["en", "vi", "zh"]),
            rng.choice(agents[desk]) if rng.random() < 0.95 else None,
            _stamp(created),
            _stamp(created),
            _stamp(created),
            _stamp(first_at),
            _stamp(resolved_at),
            _stamp(resolved_at + timedelta(days=7)) if closed and resolved_at else None,
            _stamp(created + timedelta(days=1)),
            _stamp(created + timedelta(days=5)),
            "ok",
            fr,
            res,
            int(rng.expovariate(1 / 600)) if rng.random() < 0.15 else None,
            fr is None or fr > 480,
            res is None or res > 2400,
            rng.choice(["Windows", "macOS", "iOS", "Android", None]),
            rng.choice(["Chrome", "Edge", "Safari", "Firefox", None]),
        )


def _chunks(rows: Iterator[tuple[object, ...]], size: int) -> Iterator[list[tuple[object, ...]]]:
    chunk: list[tuple[object, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def seed_people() -> None:
    """Desks and agents (through the ORM; a handful of rows)."""
    from helpdesk.extensions import db
    from helpdesk.models import Desk, Role, User

    for d in range(1, DESKS + 1):
        db.session.add(Desk(id=d, slug=f"desk-{d}", name=f"Desk {d}", name_ja=f"窓口{d}"))
    db.session.flush()
    for d in range(1, DESKS + 1):
        for a in range(AGENTS_PER_DESK):
            db.session.add(
                User(
                    id=d * 100 + a,
                    email=f"agent{d}-{a}@bench.test",
                    name=f"Agent {d}-{a}",
                    password_hash="x",
                    role=Role.AGENT,
                )
            )
    db.session.commit()


def load_tickets(n: int) -> float:
    """Bulk-insert ``n`` tickets; returns the seconds it took."""
    from helpdesk.extensions import db

    began = time.perf_counter()
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    raw = db.engine.raw_connection()
    try:
        if db.engine.dialect.name == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY ticket ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in ticket_rows(n, postgresql=True):
                    copy.write_row(row)
            raw.commit()
            with raw.cursor() as cur:
                cur.execute("ANALYZE ticket")
            raw.commit()
        else:
            marks = ", ".join("?" for _ in COLUMNS)
            cur = raw.cursor()
            for chunk in _chunks(ticket_rows(n, postgresql=False), CHUNK):
                cur.execute("BEGIN")
                cur.executemany(f"INSERT INTO ticket ({names}) VALUES ({marks})", chunk)
                cur.execute("COMMIT")
            cur.execute("ANALYZE")
            cur.close()
    finally:
        raw.close()
    return time.perf_counter() - began


def time_report(repeat: int) -> None:
    """Time the year's report over all desks, and its sections."""
    from helpdesk.reports import services
    from helpdesk.reports.services import ReportRequest

    request = ReportRequest(date(YEAR, 1, 1), date(YEAR, 12, 31), desk_ids=None, lang="en")
    timings: dict[str, list[float]] = {}
    for _ in range(repeat):
        began = time.perf_counter()
        services.sla_report(request, breach_limit=services.PAGE_BREACH_LIMIT)
        timings.setdefault("SLA report (response times + compliance, 6 groupings)", []).append(
            time.perf_counter() - began
        )
        began = time.perf_counter()
        services.build_report(request, breach_limit=services.PAGE_BREACH_LIMIT)
        timings.setdefault("whole report (all sections)", []).append(time.perf_counter() - began)
    for name, values in timings.items():
        print(f"  {name}: median {statistics.median(values):.3f} s, best {min(values):.3f} s")


def run(kind: str, n: int, repeat: int) -> None:
    """Create the database, load it, time the report, drop it."""
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.extensions import db

    with tempfile.TemporaryDirectory() as folder:
        if kind == "postgresql":
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{PG_NAME}"')
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_NAME}"
        else:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app("testing", overrides={"DATABASE_URL": url, "INSTANCE_PATH": folder})
        try:
            with app.app_context():
                upgrade()
                seed_people()
                seconds = load_tickets(n)
                print(f"{kind}: loaded {n:,} tickets in {seconds:.1f} s")
                time_report(repeat)
                db.session.remove()
                db.engine.dispose()
        finally:
            if kind == "postgresql":
                with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        run(kind, args.n, args.repeat)


if __name__ == "__main__":
    main()
