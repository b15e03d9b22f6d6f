"""Benchmark the agents' pages on a large PostgreSQL database (server time, test client).

Run from the repository root::

    .venv/bin/python -m bench.web --tickets 1000000

Creates a fresh database ``helpdesk_bench_web``, migrates it, loads ``--tickets`` tickets and
three messages each with COPY (the queue and search indexes are built after the load), then
times, over ``--requests`` requests each: the queue's first page, a deep page reached by
keyset cursor, the ticket page and a Japanese search (a rare and a common word). Prints median
and p95 in milliseconds and drops the database (unless ``--keep``). Targets: queue and ticket
page p95 < 50 ms, search p95 < 300 ms.

``--reuse`` measures the database an earlier ``--keep`` run left (same volume) without loading
it again; it runs ``upgrade()`` first, which applies only revisions after the one the database
is stamped with. ``--profile`` then runs each page under cProfile and prints the costliest
functions.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "helpdesk_bench_web"
CHUNK = 50_000
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
OPEN_SHARE = 0.08  # the rest is resolved or closed, as in a desk's long history
RARE_TERM = "在留カード再交付"  # appears in about one ticket in 2,000
WORDS = [
    "電子届出",
    "システム",
    "ログイン",
    "できません",
    "パスワード",
    "再設定",
    "所属機関",
    "届出",
    "提出",
    "エラー",
    "画面",
    "表示",
    "されません",
    "受入れ機関",
    "登録支援機関",
    "特定技能",
    "日本語教育機関",
    "報告",
    "定期",
    "変更",
    "名称",
    "所在地",
    "担当者",
    "連絡先",
    "利用者",
    "ID",
    "申請",
    "確認",
    "方法",
    "教えて",
    "ください",
    "お世話に",
    "なっております",
    "よろしく",
    "お願いします",
    "添付",
    "ファイル",
    "Excel",
    "パスワード付き",
    "送信",
    "受信",
    "メール",
    "返信",
    "問い合わせ",
    "番号",
]  # noqa: SIM905
EN_WORDS = [
    "cannot",
    "log",
    "in",
    "password",
    "reset",
    "organisation",
    "notification",
    "submit",
    "error",
    "screen",
    "shows",
    "nothing",
    "school",
    "report",
    "change",
    "address",
    "contact",
    "person",
    "account",
    "please",
    "advise",
    "thank",
    "you",
]  # noqa: SIM905
TICKET_COLUMNS = [
    "id", "number", "desk_id", "status", "priority", "channel", "subject", "requester_email",
    "requester_name", "organisation", "contact", "environment", "language", "created_at",
    "updated_at", "sla_started_at", "first_response_due_at", "resolution_due_at", "sla_due_at",
    "sla_state", "first_response_breached", "resolution_breached",
]  # fmt: skip
MESSAGE_COLUMNS = [
    "id", "ticket_id", "direction", "message_id", "references", "to", "cc", "from_address",
    "from_name", "subject", "text", "auto_generated", "refused", "oversized", "received_at",
    "created_at",
]  # fmt: skip
DEFERRED_INDEXES = (
    "ix_ticket_open_desk_due",
    "ix_ticket_open_due",
    "ix_ticket_number_trgm",
    "ix_ticket_subject_trgm",
    "ix_ticket_requester_email_trgm",
    "ix_ticket_requester_name_trgm",
    "ix_ticket_organisation_trgm",
    "ix_message_text_trgm",
    "ix_ticket_queue",
    "ix_ticket_due",
    "ix_ticket_desk_newest",
    "ix_ticket_requester_email",
    "ix_message_ticket_id",
    "ix_message_message_id",
)


def _sentence(rng: random.Random, japanese: bool, words: int) -> str:
    pool = WORDS if japanese else EN_WORDS
    joiner = "" if japanese else " "
    return joiner.join(rng.choice(pool) for _ in range(words)) + ("。" if japanese else ".")


def _tickets(n: int, desk_ids: list[int], seed: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(seed)
    for i in range(1, n + 1):
        japanese = rng.random() < 0.8
        created = NOW - timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
        is_open = rng.random() < OPEN_SHARE
        status = rng.choice(["new", "open", "awaiting_customer"]) if is_open else "closed"
        due = created + timedelta(hours=rng.randint(8, 80)) if is_open else None
        state = ("breached" if due < NOW else "ok") if due else "done"
        subject = _sentence(rng, japanese, rng.randint(3, 6))
        if rng.random() < 0.0005:
            subject = RARE_TERM + "について"
        yield (
            i, f"HD-{created.year}-{i:07d}", rng.choice(desk_ids), status,
            rng.choice(["low", "normal", "normal", "normal", "high", "urgent"]), "email",
            subject, f"user{i}@example{rng.randint(1, 5000)}.jp", f"利用者 {i}",
            f"株式会社サンプル{rng.randint(1, 20000)}", "03-1234-5678", "Windows 11 / Edge",
            "ja" if japanese else "en", created, created, created, due, due, due, state,
            False, False,
        )  # fmt: skip


def _messages(n: int, per_ticket: int, seed: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(seed + 1)
    message_id = 0
    for ticket_id in range(1, n + 1):
        for k in range(per_ticket):
            message_id += 1
            japanese = rng.random() < 0.8
            text = "\n".join(_sentence(rng, japanese, rng.randint(5, 14)) for _ in range(3))
            if rng.random() < 0.0002:
                text += f"\n{RARE_TERM}の手続きについて"
            at = NOW - timedelta(days=rng.randint(0, 1000), minutes=k)
            yield (
                message_id, ticket_id, "inbound" if k % 2 == 0 else "outbound",
                f"m{message_id}@bench.example", "[]", "[]", "[]", f"user{ticket_id}@example.jp",
                "利用者", "件名", text, False, False, False, at, at,
            )  # fmt: skip


def _copy(conn: psycopg.Connection, table: str, columns: list[str], rows: Iterator) -> int:
    names = ", ".join(f'"{c}"' for c in columns)
    count = 0
    with conn.cursor() as cur, cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def load(dsn: str, n: int, per_ticket: int) -> dict[str, float]:
    """Bulk-load tickets and messages; build the deferred indexes after; return timings."""
    timings = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        # The named ones, and any other plain index on the two tables (other features add
        # theirs): built once after the load instead of maintained row by row.
        definitions = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND (indexname = ANY(%s) OR (tablename IN ('ticket', 'message') "
            "AND indexdef NOT LIKE 'CREATE UNIQUE%%'))",
            (list(DEFERRED_INDEXES),),
        ).fetchall()
        for name, _definition in definitions:
            conn.execute(f'DROP INDEX "{name}"')
        desk_ids = [row[0] for row in conn.execute("SELECT id FROM desk ORDER BY id")]
        started = time.perf_counter()
        with conn.transaction():
            _copy(conn, "ticket", TICKET_COLUMNS, _tickets(n, desk_ids, 7))
            _copy(conn, "message", MESSAGE_COLUMNS, _messages(n, per_ticket, 7))
        timings["copy_s"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in definitions:
            conn.execute(definition)
        conn.execute("SELECT setval('ticket_id_seq', (SELECT max(id) FROM ticket))")
        conn.execute("SELECT setval('message_id_seq', (SELECT max(id) FROM message))")
        conn.execute("VACUUM ANALYZE ticket")
        conn.execute("VACUUM ANALYZE message")
        timings["index_s"] = time.perf_counter() - started
    return timings


def measure(call: Callable[[], object], requests: int) -> tuple[float, float]:
    """Median and p95 milliseconds of ``call`` over ``requests`` runs (after one warm-up)."""
    call()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(0.95 * len(samples)) - 1)]


def _seeded_counts(dsn: str) -> tuple[int, int] | None:
    """Tickets and messages in an existing benchmark database, or None if there is none."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_NAME,))
        if exists.fetchone() is None:
            return None
    with psycopg.connect(dsn) as conn:
        found = conn.execute("SELECT to_regclass('ticket') IS NOT NULL").fetchone()
        if not found or not found[0]:
            return None
        tickets = conn.execute("SELECT count(*) FROM ticket").fetchone()
        messages = conn.execute("SELECT count(*) FROM message").fetchone()
        return (tickets[0] if tickets else 0), (messages[0] if messages else 0)


def print_profile(name: str, call: Callable[[], object], requests: int, top: int = 25) -> None:
    """Run ``call`` ``requests`` times under cProfile; print the costliest functions."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        call()
    profiler.disable()
    print(f"\n--- profile: {name} ({requests} requests) ---")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def run(
    n: int, per_ticket: int, requests: int, keep: bool, reuse: bool = False, profile: bool = False
) -> None:
    """Create, load, measure and drop the benchmark database.

    With ``reuse``, a database left by an earlier ``--keep`` run with the same volume is
    migrated to the latest revision and measured as it is, instead of being loaded again.
    """
    from flask_login.utils import _create_identifier
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.auth.services import create_user
    from helpdesk.extensions import db
    from helpdesk.models import Desk, Role, User
    from helpdesk.seed import seed_demo

    dsn = f"postgresql://postgres@127.0.0.1:5432/{PG_NAME}"
    counts = _seeded_counts(dsn) if reuse else None
    if counts is not None and counts != (n, n * per_ticket):
        raise SystemExit(f"{PG_NAME} holds {counts[0]:,} tickets, {counts[1]:,} messages; drop it")
    if counts is None:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    try:
        instance = Path(tempfile.mkdtemp(prefix="bench-web-"))
        app = create_app(
            "testing",
            overrides={
                "DATABASE_URL": dsn.replace("postgresql://", "postgresql+psycopg://"),
                "INSTANCE_PATH": str(instance),
            },
        )
        with app.app_context():
            started = time.perf_counter()
            upgrade()
            migrated_s = time.perf_counter() - started
            seed_demo()
            desk = db.session.query(Desk).filter_by(slug="system").one()
            agent = db.session.query(User).filter_by(email="bench@support.example.test").first()
            if agent is None:
                agent = create_user(
                    "bench@support.example.test", "Bench", "x" * 16, Role.AGENT, [desk]
                )
            db.session.commit()
            agent_session_id, desk_id = agent.get_id(), desk.id
        if counts is None:
            timings = load(dsn, n, per_ticket)
            print(f"loaded {n:,} tickets, {n * per_ticket:,} messages: {timings}")
        else:
            print(
                f"reused {n:,} tickets, {n * per_ticket:,} messages (migrated in {migrated_s:.1f} s)"
            )
        with psycopg.connect(dsn) as conn:
            ticket_ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM ticket WHERE desk_id = %s ORDER BY random() LIMIT %s",
                    (desk_id, requests + 1),
                )
            ]
            open_count = conn.execute(
                "SELECT count(*) FROM ticket WHERE desk_id = %s AND status NOT IN "
                "('resolved', 'closed')",
                (desk_id,),
            ).fetchone()[0]
            deep = conn.execute(
                "SELECT sla_due_at, id FROM ticket WHERE desk_id = %s AND sla_due_at IS NOT NULL "
                "AND status NOT IN ('resolved', 'closed') ORDER BY sla_due_at, id "
                "OFFSET %s LIMIT 1",
                (desk_id, max(0, int(open_count * 0.9))),
            ).fetchone()
        from helpdesk.tickets.queries import Cursor

        cursor = Cursor(deep[0], deep[1]).encode()
        client = app.test_client()
        with app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()
        with client.session_transaction() as session:
            session.update({"_user_id": agent_session_id, "_fresh": True, "_id": identifier})
        ids = iter(ticket_ids * 2)

        def get(url: str) -> Callable[[], object]:
            def call() -> object:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return response

            return call

        results = {
            "queue, first page (/desks/system)": get("/desks/system"),
            "queue, all my desks (/)": get("/"),
            f"queue, deep keyset page (~{int(open_count * 0.9):,} rows in)": get(
                f"/desks/system?after={cursor}"
            ),
            "ticket page": lambda: get(f"/tickets/{next(ids)}")(),
            f"search, Japanese ({RARE_TERM})": get(f"/search?q={RARE_TERM}"),
            "search, Japanese common (ログイン)": get("/search?q=ログイン"),
        }
        print(f"{'page':55} {'median ms':>10} {'p95 ms':>10}")
        for name, call in results.items():
            median, p95 = measure(call, requests)
            print(f"{name:55} {median:10.1f} {p95:10.1f}")
        if profile:
            for name, call in results.items():
                print_profile(name, call, requests)
        with app.app_context():
            db.engine.dispose()
    finally:
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
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure a database kept by an earlier --keep run (same volume) instead of loading",
    )
    parser.add_argument(
        "--profile", action="store_true", help="then profile each page in-process (cProfile)"
    )
    args = parser.parse_args()
    run(
        args.tickets,
        args.messages_per_ticket,
        args.requests,
        args.keep or args.reuse,
        args.reuse,
        args.profile,
    )


if __name__ == "__main__":
    main()
