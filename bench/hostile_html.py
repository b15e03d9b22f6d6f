"""Benchmark a hostile HTML mail: one text/html message of N nested <div>s, on SQLite.

Run from the repository root: ``.venv/bin/python -m bench.hostile_html [DEPTH ...]``
(default 1000 50000 100000 200000).

For each depth, on a fresh SQLite database with the demo desks (and one ordinary enquiry
imported first, so that start-up costs are not counted): the time ``mail import`` takes for
that one message; the time of a sign-in (it writes) alone, and started while the import parses
the message; then the ticket page and the message's HTML frame. Before HTML was bounded, nh3 took
time growing with the square of the depth, inside the import's write transaction (so the
sign-in waited for it, then failed after SQLite's 30 s busy timeout), and the HTML frame
sanitised the stored HTML again on every view.
"""

from __future__ import annotations

import logging
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.support.enquiries import enquiry
from tests.support.hostile import nested_html_mail

AGENT, PASSWORD = "agent@bench.example", "bench-password-123"


def _sign_in_form(client: Any) -> dict[str, str]:
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None, "no CSRF token on the sign-in page"
    return {"email": AGENT, "password": PASSWORD, "csrf_token": token.group(1)}


def _timed(func: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def measure(depth: int, scratch: Path) -> dict[str, str]:
    """Import one nested mail on a fresh database; the figures, formatted."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    import mail_ingest.pipeline
    from helpdesk import create_app
    from helpdesk.auth.services import create_user
    from helpdesk.extensions import db
    from helpdesk.models import Desk, Message, Role
    from helpdesk.seed import seed_demo

    app = create_app(
        "testing",
        overrides={
            "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
            "INSTANCE_PATH": str(scratch / "instance"),
        },
    )
    with app.app_context():
        upgrade()
        seed_demo()
        desk = db.session.scalar(select(Desk).where(Desk.slug == "system"))
        create_user(AGENT, "Bench Agent", PASSWORD, Role.AGENT, [desk])
        db.session.commit()
    eml = scratch / "nested.eml"
    eml.write_bytes(nested_html_mail(depth))
    (scratch / "warm-up.eml").write_bytes(enquiry(subject="warm-up"))
    app.test_cli_runner().invoke(args=["mail", "import", str(scratch / "warm-up.eml")])

    parsing = threading.Event()
    parse = mail_ingest.pipeline.parse_message

    def parse_and_tell(*args: Any, **kwargs: Any) -> Any:
        parsing.set()
        return parse(*args, **kwargs)

    mail_ingest.pipeline.parse_message = parse_and_tell
    imported: dict[str, Any] = {}

    def run_import() -> None:
        runner = app.test_cli_runner()
        imported["seconds"], imported["result"] = _timed(
            runner.invoke, args=["mail", "import", str(eml), "--mailbox", "system"]
        )

    alone = app.test_client()
    alone_seconds, _ = _timed(alone.post, "/auth/login", data=_sign_in_form(alone))
    signing_in = app.test_client()
    login = _sign_in_form(signing_in)
    worker = threading.Thread(target=run_import)
    try:
        worker.start()
        parsing.wait()
        start = time.perf_counter()
        try:  # the test client raises what a server would answer 500 to
            signin = f"({signing_in.post('/auth/login', data=login).status_code})"
        except Exception as exc:  # noqa: BLE001 - "database is locked" after the busy timeout
            signin = f"(failed: {exc.__class__.__name__})"
        signin_seconds = time.perf_counter() - start
        worker.join()
    finally:
        mail_ingest.pipeline.parse_message = parse
    output = imported["result"].output.strip().splitlines()[-1]

    client = app.test_client()
    client.post("/auth/login", data=_sign_in_form(client))
    with app.app_context():
        message = db.session.scalar(select(Message).where(Message.subject.contains("nested")))
        assert message is not None and message.ticket_id is not None, output
        ticket_id, message_id, has_html = message.ticket_id, message.id, message.html is not None
        db.engine.dispose()
    page_seconds, page = _timed(client.get, f"/tickets/{ticket_id}")
    frame = "no HTML kept"
    if has_html:
        frame_seconds, response = _timed(client.get, f"/messages/{message_id}/html")
        frame = f"{frame_seconds:7.2f} s ({response.status_code})"
    return {
        "depth": f"{depth:,}",
        "import": f"{imported['seconds']:7.2f} s",
        "sign-in alone": f"{alone_seconds:5.2f} s",
        "while parsing": f"{signin_seconds:7.2f} s {signin}",
        "ticket page": f"{page_seconds:7.2f} s ({page.status_code})",
        "HTML frame": frame,
    }


def main(depths: list[int]) -> None:
    """Print one row of figures per depth."""
    logging.disable(logging.WARNING)  # the migrations' and the import's progress
    with tempfile.TemporaryDirectory(prefix="bench-hostile-html-") as scratch:
        measure(10, Path(scratch))  # not shown: the first run in a process pays for start-up
    rows = []
    for depth in depths:
        with tempfile.TemporaryDirectory(prefix="bench-hostile-html-") as scratch:
            rows.append(measure(depth, Path(scratch)))
            print("  ".join(f"{k}: {v}" for k, v in rows[-1].items()), flush=True)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1_000, 50_000, 100_000, 200_000])
