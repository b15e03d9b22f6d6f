"""Benchmark the managers' SLA report on a large ticket table.

Run from the repository root::

    .venv/bin/python -m bench.reports --db sqlite --n 1000000
    .venv/bin/python -m bench.reports --db postgresql --n 1000000 --keep

Loads ``--n`` tickets spread over one year and four desks into a fresh database (PostgreSQL:
a database ``helpdesk_bench_reports`` created with COPY, then VACUUM ANALYZE as autovacuum would;
SQLite: a temporary file filled with executemany in big transactions), then times the report for
that year over all desks: the page's default view (SLA by desk and every other section: the
target, under 1 s on PostgreSQL and under 3 s on SQLite), each of its sections, the page's
other SLA tabs one at a time, and the full report with all six groupings that the CLI and the
XLSX/JSON downloads build. ``--keep`` keeps the loaded database (dropped otherwise) and reuses it
on the next run if it holds ``--n`` tickets; new migrations are applied to it first.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "helpdesk_bench_reports"
YEAR = 2025
DESKS = 4
AGENTS_PER_DESK = 10
CHUNK = 100_000
SQLITE_KEPT = Path(tempfile.gettempdir()) / "helpdesk_bench_reports.sqlite3"

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
            # What autovacuum does after a million inserts: statistics, and the visibility map
            # that lets the report's queries read its indexes without visiting the rows.
            raw.driver_connection.autocommit = True  # type: ignore[attr-defined]
            with raw.cursor() as cur:
                cur.execute("VACUUM ANALYZE ticket")
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


def _timed(timings: dict[str, list[float]], name: str, work: Callable[[], object]) -> None:
    began = time.perf_counter()
    work()
    timings.setdefault(name, []).append(time.perf_counter() - began)


def time_report(repeat: int) -> None:
    """Time the year's report over all desks: the page's default view (the target), each of
    its sections, the other groupings one at a time (the page's tabs), and the full report
    with every grouping (the CLI and XLSX/JSON exports)."""
    from helpdesk.extensions import db
    from helpdesk.reports import services
    from helpdesk.reports.queries import DIMENSIONS
    from helpdesk.reports.services import ReportRequest

    request = ReportRequest(date(YEAR, 1, 1), date(YEAR, 12, 31), desk_ids=None, lang="en")
    limit = services.PAGE_BREACH_LIMIT
    scope = services.scope_for(request)
    now = datetime.now(UTC)
    runs: dict[str, Callable[[], object]] = {
        "PAGE DEFAULT VIEW (SLA by desk + every other section) [target]": lambda: (
            services.build_report(request, breach_limit=limit, dimensions=("desk",))
        ),
        "  section: SLA by desk (summary, medians, p90s)": lambda: services.sla_summaries(
            scope, ("desk",)
        ),
        "  section: breaches (first 200)": lambda: services.breach_table(scope, "en", limit),
        "  section: volume and backlog": lambda: services.volume_tables(scope, "en"),
        "  section: backlog age": lambda: services.backlog_age_table(scope, "en", now),
        "  section: intake (awaiting, refused, environments)": lambda: services.intake_tables(
            scope, "en"
        ),
        **{
            f"  tab: SLA by {d} alone": (lambda d=d: services.sla_summaries(scope, (d,)))
            for d in DIMENSIONS
            if d != "desk"
        },
        "FULL REPORT, all 6 groupings (CLI, XLSX, JSON; breaches limited to 200)": lambda: (
            services.build_report(request, breach_limit=limit)
        ),
    }
    timings: dict[str, list[float]] = {}
    for _ in range(repeat):
        for name, work in runs.items():
            _timed(timings, name, work)
            db.session.rollback()
    for name, values in timings.items():
        each = ", ".join(f"{v:.3f}" for v in values)
        print(
            f"{name}: median {statistics.median(values):.3f} s, best {min(values):.3f} s ({each})"
        )


def _ticket_count() -> int | None:
    """How many tickets a kept database holds (None: no usable database)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from helpdesk.extensions import db

    try:
        return int(db.session.scalar(text("SELECT count(*) FROM ticket")) or 0)
    except DBAPIError:
        db.session.rollback()
        return None


def _pg_database_exists() -> bool:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_NAME,))
        return found.fetchone() is not None


def _drop_pg() -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')


def _start_afresh(kind: str) -> None:
    """An empty database where a kept one held other data."""
    if kind == "postgresql":
        _drop_pg()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    else:
        SQLITE_KEPT.unlink(missing_ok=True)


def run(kind: str, n: int, repeat: int, keep: bool) -> None:
    """Create the database (or reuse a kept one), load it, time the report, drop it unless kept."""
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.extensions import db

    with tempfile.TemporaryDirectory() as folder:
        if kind == "postgresql":
            if not (keep and _pg_database_exists()):
                _drop_pg()
                with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{PG_NAME}"')
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_NAME}"
        else:
            path = SQLITE_KEPT if keep else Path(folder) / "bench.sqlite3"
            url = f"sqlite:///{path}"
        app = create_app("testing", overrides={"DATABASE_URL": url, "INSTANCE_PATH": folder})
        try:
            with app.app_context():
                kept = keep and _ticket_count() == n
                db.session.remove()  # SQLite: the count's transaction holds the write lock
                if kept:
                    upgrade()  # new migrations (indexes) apply to the kept data
                    print(f"{kind}: reusing the kept database with {n:,} tickets")
                else:
                    db.engine.dispose()
                    if keep:
                        _start_afresh(kind)
                    upgrade()
                    seed_people()
                    seconds = load_tickets(n)
                    print(f"{kind}: loaded {n:,} tickets in {seconds:.1f} s")
                time_report(repeat)
                db.session.remove()
                db.engine.dispose()
        finally:
            if kind == "postgresql" and not keep:
                _drop_pg()


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--keep",
        action="store_true",
        help=f"keep the loaded database ({PG_NAME} / {SQLITE_KEPT}) and reuse it next time "
        "if it holds --n tickets",
    )
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        run(kind, args.n, args.repeat, args.keep)


if __name__ == "__main__":
    main()
