"""Benchmark the queue page's due column: a page of 50 tickets, each with its due moment in
desk time and the business time left on the desk's calendar.

Run from the repository root::

    .venv/bin/python bench/queue_page.py [--tickets 50] [--requests 200]

On a fresh SQLite file it opens ``--tickets`` tickets on one desk, due from two days ago to
two weeks ahead (weekends, the year-end closure and holidays in between), and prints the
median and p95 of: the whole queue page (GET /, server time through the test client), the
rows' presenter alone (``queue_rows``) and the due labels alone (``due_view``), in
milliseconds per page. Run it on a checkout of an older commit to compare (the presenter
figures are printed only where ``helpdesk.tickets.display`` exists).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpdesk import clock, create_app  # noqa: E402
from helpdesk.extensions import db  # noqa: E402

# Friday 25 December 2026, 16:00 in Tokyo: a weekend and the year-end closure lie ahead.
NOW = datetime(2026, 12, 25, 7, 0, tzinfo=UTC)


def _figures(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(
        f"{label:<42} median {statistics.median(ordered) * 1000:8.3f} ms"
        f"   p95 {p95 * 1000:8.3f} ms   ({len(samples)} runs)"
    )


def _timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm: calendars built, templates compiled
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    clock.set_now_source(lambda: NOW)
    folder = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    app = create_app(
        "testing",
        overrides={
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "INSTANCE_PATH": str(folder / "instance"),
            "QUEUE_PAGE_SIZE": args.tickets,
        },
    )
    from flask_migrate import upgrade

    from helpdesk.auth.services import create_user
    from helpdesk.models import Desk, Role, Ticket
    from helpdesk.tickets.services import open_ticket

    with app.app_context():
        upgrade()
        desk = Desk(slug="system", name="System operation helpdesk", reply_from="s@example.test")
        db.session.add(desk)
        db.session.flush()
        agent = create_user(
            "agent@example.test", "Agent", "bench password 1234", Role.AGENT, [desk]
        )
        for n in range(args.tickets):
            ticket = open_ticket(desk, subject=f"Enquiry {n}", requester_email="r@example.org")
            # Every 5 h 7 min from two days ago: past, near, over weekends and the closure.
            ticket.sla_due_at = NOW - timedelta(days=2) + n * timedelta(hours=5, minutes=7)
            ticket.sla_state = "breached" if ticket.sla_due_at <= NOW else "ok"
        db.session.commit()
        user_id = agent.get_id()

    client = app.test_client()
    from flask_login.utils import _create_identifier

    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()  # "strong" session protection checks it
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"], session["_id"] = user_id, True, identifier
    with app.app_context():
        page = client.get("/")
        assert page.status_code == 200, page.status_code
        assert page.get_data(as_text=True).count('<td class="due">') == args.tickets
    print(f"{args.tickets} tickets, {args.requests} runs each; now = {NOW.isoformat()}")
    with app.app_context():
        _figures("GET / (the whole queue page)", _timed(lambda: client.get("/"), args.requests))

    if importlib.util.find_spec("helpdesk.tickets.display") is None:
        return
    from sqlalchemy import select

    from helpdesk.tickets import display
    from helpdesk.tickets.sla_clock import calendar_for

    with app.test_request_context("/"):
        tickets = db.session.scalars(select(Ticket).order_by(Ticket.sla_due_at)).all()
        for t in tickets:
            _ = t.desk, t.assignee  # loaded, as the queue's query does
        calendar = calendar_for(tickets[0].desk)
        words = display.DueWords()  # once a page, as queue_rows does
        _figures(
            "queue_rows (50 rows: labels, marks, links)",
            _timed(lambda: display.queue_rows(tickets, NOW, lambda _desk: True), args.requests),
        )
        _figures(
            "due_view x 50 (business time left)",
            _timed(
                lambda: [display.due_view(t.sla_due_at, NOW, calendar, words) for t in tickets],
                args.requests,
            ),
        )
        _figures(
            "business_minutes_between x 50 (arithmetic)",
            _timed(
                lambda: [
                    calendar.business_minutes_between(*sorted((NOW, t.sla_due_at))) for t in tickets
                ],
                args.requests,
            ),
        )


if __name__ == "__main__":
    main()
