"""Benchmark the production set-up under load, with the scheduler's leader killed mid-mail.

    .venv/bin/python -m bench.scaleout [--workers 4] [--threads 4] [--rounds 150] [--mails 400]

The set-up of tests/integration/helpdesk/test_wsgi.py with a longer load: gunicorn with
``--workers`` workers on a fresh PostgreSQL database (created and dropped by the run), rate
limits in Redis, a mailbox on a private Dovecot holding ``--mails`` enquiries and polled at
every scheduler tick, SMTP to a local sink. ``--threads`` agents each sign in, then open the
queue, open a ticket and reply, ``--rounds`` times (signing in again, in a new session, every
``--sign-in-every`` rounds). Once the leader has committed its first batch of mail it is killed
with SIGKILL (``--no-kill`` leaves it alone).

Prints requests/s, p50/p95/p99 latency by kind of request, how long the takeover took (from
the kill to another worker holding the lock, polled every 20 ms), and the mail ingested: how
many, how fast, stored once each, acknowledged once each. Needs root (Dovecot), PostgreSQL on
127.0.0.1:5432 and Redis on 127.0.0.1:6379. The machine's load average is printed too: on a
shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.dovecot import DovecotServer  # noqa: E402
from tests.support.fixtures import MailboxAccount  # noqa: E402
from tests.support.scaleout import (  # noqa: E402
    Deployment,
    Recorder,
    Timing,
    agent_load,
    by_kind,
    deployment,
    percentile,
    session_pids,
    threads,
    wait_until,
)
from tests.support.smtp import SmtpSink  # noqa: E402

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-password"  # noqa: S105 - a throw-away local account
EXPECTED = {"sign-in": {302}, "queue": {200}, "ticket": {200}, "reply": {302}}


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A new PostgreSQL database for this run, dropped afterwards; yields its URL."""
    name = f"helpdesk_bench_scaleout_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(served: Deployment, sink: SmtpSink, args: argparse.Namespace) -> None:
    """Run the load, kill the leader once mail is coming in, and print the figures."""
    server, conn, cast = served.server, served.conn, served.cast
    workers = server.worker_pids()
    wait_until(lambda: workers <= session_pids(conn), 60, "every worker's database session")
    leader = wait_until(served.leader, 60, "a scheduler leader")
    recorder, stop = Recorder(), threading.Event()
    load = [
        functools.partial(
            agent_load, served.base_url, email, cast.password, ticket, recorder,
            rounds=args.rounds, stop=stop, sign_in_every=args.sign_in_every,
        )
        for email, ticket in zip(cast.agents, cast.tickets, strict=True)
    ]  # fmt: skip
    figures: dict[str, object] = {}
    with served.watch_locks() as watch:
        with threads(load):
            wait_until(served.ingested, 300, "the leader to poll", step=0.005)
            first_batch_at = time.monotonic()
            if not args.no_kill:
                killing_at = time.monotonic()
                server.kill_worker(leader)
                killed_at = time.monotonic()
                successor = wait_until(
                    lambda: (pid := served.leader()) != leader and pid, 120, "a new leader"
                )
                figures["takeover"] = time.monotonic() - killed_at
                figures["successor"] = successor
                wait_until(lambda: leader not in session_pids(conn), 60, "the dead sessions")
                figures["stored_by_dead_leader"] = served.ingested()
            all_mail = len(served.mails)
            wait_until(lambda: served.ingested() == all_mail, 900, "all the mail", step=0.05)
            figures["ingest_seconds"] = time.monotonic() - first_batch_at
        load_over = time.monotonic()
        wait_until(lambda: not served.pending_mail(), 300, "the outbox to be sent", step=0.1)
        figures["outbox_drained_after_load"] = time.monotonic() - load_over
    outside = watch.polls_outside_the_leader(
        leader if not args.no_kill else 0, killing_at if not args.no_kill else 0
    )
    report(served, sink, recorder.snapshot(), figures, leader, len(watch.samples), len(outside))


def report(
    served: Deployment,
    sink: SmtpSink,
    timings: list[Timing],
    figures: dict[str, object],
    leader: int,
    samples: int,
    outside: int,
) -> None:
    """Print the load's and the mail's figures."""
    conn, like = served.conn, f"scaleout-{served.run}-%"
    start, end = min(t.start for t in timings), max(t.end for t in timings)
    answered = [t for t in timings if t.status]
    print(f"\nload: {len(timings)} requests in {end - start:.1f} s = "
          f"{len(answered) / (end - start):.1f} requests/s answered "
          f"({len(timings) - len(answered)} cut off by the kill)")  # fmt: skip
    print(f"{'kind':<8} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  statuses")
    for kind, group in by_kind(timings).items():
        ms = [1000 * (t.end - t.start) for t in group if t.status]
        statuses = Counter(t.status for t in group)
        odd = {s: n for s, n in statuses.items() if s not in EXPECTED[kind] | {0}}
        print(
            f"{kind:<8} {len(group):>6} {percentile(ms, 50):>8.1f} {percentile(ms, 95):>8.1f} "
            f"{percentile(ms, 99):>8.1f} {max(ms, default=0):>8.1f}  "
            f"{dict(statuses)}{'  UNEXPECTED ' + str(odd) if odd else ''}"
        )
    mails = len(served.mails)
    if "takeover" in figures:
        print(
            f"\nleader {leader} killed after its first batch; worker {figures['successor']} led "
            f"{figures['takeover']:.2f} s later (heartbeat every "
            f"{max(1, int(served.server.env['HELPDESK_SCHEDULER_LEASE_SECONDS']) // 3)} s); "
            f"the dead leader had stored {figures['stored_by_dead_leader']} of {mails} mails"
        )
    stored = conn.execute(
        "SELECT count(*), count(DISTINCT message_id), count(DISTINCT ticket_id) FROM message"
        " WHERE direction = 'inbound' AND message_id LIKE %s",
        (like,),
    ).fetchone()
    seconds = float(figures["ingest_seconds"])  # type: ignore[arg-type]
    print(
        f"mail: {stored[1]} of {mails} ingested as {stored[0]} messages on {stored[2]} tickets, "
        f"{seconds:.1f} s from the first batch's commit to the last "
        f"({(mails / seconds) if seconds else 0:.1f} mails/s"
        f"{', takeover included' if 'takeover' in figures else ''})"
    )
    outbox = conn.execute("SELECT kind, status, count(*) FROM outbox_message GROUP BY 1, 2")
    print("outbox:", ", ".join(f"{kind} {status} {n}" for kind, status, n in outbox))
    received = Counter(m.message["Message-ID"] for m in sink.messages)
    doubled = sum(1 for n in received.values() if n > 1)
    print(
        f"SMTP: {sum(received.values())} messages, {len(received)} Message-IDs, {doubled} sent "
        f"twice; outbox drained {figures['outbox_drained_after_load']:.1f} s after the load"
    )
    print(f"locks: {samples} samples, {outside} with the mailbox polled outside the leader")


def main() -> None:
    """Parse the arguments, set everything up, measure, tear down."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="agents loading the web app")
    parser.add_argument("--rounds", type=int, default=150, help="queue+ticket+reply per agent")
    parser.add_argument("--sign-in-every", type=int, default=25, help="rounds per session")
    parser.add_argument("--mails", type=int, default=400)
    parser.add_argument("--batch", type=int, default=20, help="HELPDESK_MAIL_BATCH_SIZE")
    parser.add_argument("--lease", type=int, default=30, help="HELPDESK_SCHEDULER_LEASE_SECONDS")
    parser.add_argument("--no-kill", action="store_true", help="leave the leader alone")
    args = parser.parse_args()
    print(
        f"{args.workers} workers, {args.threads} agents x {args.rounds} rounds, {args.mails} "
        f"mails in batches of {args.batch}, lease {args.lease} s; {os.cpu_count()} CPUs, "
        "load average %.1f %.1f %.1f" % os.getloadavg()
    )
    scratch = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    scratch.chmod(0o755)  # Dovecot's mail processes must reach their folders in it
    try:
        with (
            scratch_database() as url,
            DovecotServer() as dovecot,
            SmtpSink() as sink,
        ):
            address = "bench-desk@example.test"
            dovecot.add_user(address, PASSWORD)
            account = MailboxAccount(address, PASSWORD, dovecot.host, dovecot.port)
            with deployment(
                url,
                scratch,
                dovecot,
                account,
                (sink.host, sink.port),
                mails=args.mails,
                workers=args.workers,
                agents=args.threads,
                SCHEDULER_LEASE_SECONDS=str(args.lease),
                MAIL_BATCH_SIZE=str(args.batch),
                LOGIN_RATE_LIMIT="100000 per minute",  # the load signs in again and again
            ) as served:
                measure(served, sink, args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("load average at the end {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
