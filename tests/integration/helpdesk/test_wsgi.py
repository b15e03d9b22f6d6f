"""``gunicorn helpdesk.wsgi:app`` as in production: four workers on PostgreSQL, one leading the
scheduled jobs, rate limits in Redis.

While agents sign in, read the queue and a ticket and reply, the leader polls a mailbox; it is
killed (SIGKILL: nothing of it runs again) in the middle of the mail. Another worker takes the
lead, every mail ends as exactly one message on one ticket with one acknowledgement, every
outgoing mail reaches the SMTP server, and sign-ins spread over the workers share one limit.

The figures (requests/s, latencies, takeover time) are for ``bench/scaleout.py``; this test
asserts only what was observed, never how long it took.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections import Counter

import pytest

from tests.conftest import database_kind, empty_database
from tests.support.scaleout import (
    Recorder,
    agent_load,
    bad_sign_ins,
    by_kind,
    count,
    deployment,
    rate_limit_keys,
    second_loopback_address,
    session_pids,
    threads,
    wait_until,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        database_kind() != "postgresql",
        reason="gunicorn's workers share the scheduler lock and the data on PostgreSQL",
    ),
]

WORKERS = 4
LOAD_THREADS = 2
MAILS = 60
BATCH = 5  # messages a commit: the leader is killed between two of them
LEASE_SECONDS = 3  # the heartbeat is a third of it
LOGIN_LIMIT = 4  # sign-ins a minute, per address and per account (10 by default)
MAX_ROUNDS = 2_000  # the load's bound; it stops once it has gone on past the kill


def test_workers_share_the_load_and_hand_over_the_jobs_when_the_leader_dies(
    tmp_path, dovecot, mailbox_account, smtp_sink
):
    probe_address = second_loopback_address()

    with contextlib.ExitStack() as stack:
        url = stack.enter_context(empty_database(tmp_path))
        served = stack.enter_context(
            deployment(
                url,
                tmp_path,
                dovecot,
                mailbox_account,
                (smtp_sink.host, smtp_sink.port),
                mails=MAILS,
                workers=WORKERS,
                agents=LOAD_THREADS,
                SCHEDULER_LEASE_SECONDS=str(LEASE_SECONDS),
                MAIL_BATCH_SIZE=str(BATCH),
                MAIL_ANALYSIS_PROCESSES="0",
                LOGIN_RATE_LIMIT=f"{LOGIN_LIMIT} per minute",
            )
        )
        server, conn, cast = served.server, served.conn, served.cast

        # Every worker runs a scheduler and has tried for the lock; exactly one holds it.
        workers = server.worker_pids()
        assert len(workers) == WORKERS
        wait_until(lambda: workers <= session_pids(conn), 90, "every worker's database session")
        leader = wait_until(served.leader, 60, "a scheduler leader")
        assert leader in workers

        recorder, stop = Recorder(), threading.Event()
        load = [
            functools.partial(
                agent_load, served.base_url, email, cast.password, ticket, recorder,
                rounds=MAX_ROUNDS, stop=stop,
            )
            for email, ticket in zip(cast.agents, cast.tickets, strict=True)
        ]  # fmt: skip
        with served.watch_locks() as watch:
            with threads(load):
                try:
                    # Kill the leader once it has committed its first batch of mail.
                    wait_until(served.ingested, 60, "the leader to poll", step=0.005)
                    killing_at = time.monotonic()
                    server.kill_worker(leader)
                    killed_at = time.monotonic()
                    wait_until(
                        lambda: leader not in session_pids(conn), 30, "the dead leader's sessions"
                    )
                    stored_by_dead_leader = served.ingested()
                    successor = wait_until(
                        lambda: (pid := served.leader()) != leader and pid,
                        LEASE_SECONDS * 3 + 30,
                        "another worker to take the lead",
                    )
                    sent_before_takeover = len(smtp_sink.messages)

                    # N+1 wrong passwords for one account, all at once: the workers answering
                    # them count in one place, so exactly one is refused.
                    statuses = bad_sign_ins(
                        served.base_url, cast.probe, LOGIN_LIMIT + 1, probe_address
                    )
                    # Load enough once each kind of request has been answered after the kill.
                    wait_until(
                        lambda: (
                            _answered_since(recorder, killed_at) >= {"queue", "ticket", "reply"}
                        ),
                        60,
                        "the load to go on after the kill",
                    )
                finally:
                    stop.set()
            # The workers go on ticking while the rest is polled and the outbox sent.
            wait_until(lambda: served.ingested() == MAILS, 120, "the rest of the mail")
            wait_until(lambda: not served.pending_mail(), 60, "the outbox to be sent")
        timings = recorder.snapshot()
        mails = [message_id for message_id, _raw in served.mails]
        like = f"scaleout-{served.run}-%"

        assert 0 < stored_by_dead_leader < MAILS, "the leader was not killed mid-mailbox"
        # The mail-poll job ran in the leader alone: whenever the mailbox was being polled
        # (as it was when the leader died), the process polling it held the scheduler lock.
        assert any(sample.pollers for sample in watch.samples)
        assert watch.polls_outside_the_leader(leader, killing_at) == []
        assert successor != leader and successor in server.worker_pids()

        # Every mail is one inbound message on a ticket of its own, stored once, marked once.
        rows = conn.execute(
            "SELECT message_id, count(*), count(DISTINCT ticket_id) FROM message"
            " WHERE direction = 'inbound' AND message_id LIKE %s GROUP BY message_id",
            (like,),
        ).fetchall()
        assert sorted(r[0] for r in rows) == sorted(mails)
        assert {(r[1], r[2]) for r in rows} == {(1, 1)}
        assert count(
            conn,
            "SELECT count(DISTINCT ticket_id) FROM message WHERE direction = 'inbound'"
            " AND message_id LIKE %s",
            like,
        ) == MAILS  # fmt: skip
        assert count(conn, "SELECT count(*) FROM ingest_failure") == 0
        flags = dovecot.flags(mailbox_account.address)
        assert len(flags) == MAILS and all("$HelpdeskImported" in f for f in flags.values())

        # One acknowledgement a mail, and every outgoing mail was sent.
        outbox = conn.execute(
            "SELECT o.message_id, o.kind, o.status, o.automatic, i.message_id"
            " FROM outbox_message o LEFT JOIN message i"
            " ON i.ticket_id = o.ticket_id AND i.direction = 'inbound'"
        ).fetchall()
        assert {row[2] for row in outbox} == {"sent"}
        acknowledged = Counter(row[4] for row in outbox if row[3] and row[4] is not None)
        assert acknowledged == Counter(mails)

        # The SMTP server got each outgoing Message-ID; SMTP can send one twice only if its
        # sender died between the server's acceptance and the commit that records it.
        received = Counter(m.message["Message-ID"].strip("<>") for m in smtp_sink.messages)
        assert set(received) == {row[0] for row in outbox}
        doubled = {mid for mid, n in received.items() if n > 1}
        in_flight = {
            m.message["Message-ID"].strip("<>") for m in smtp_sink.messages[:sent_before_takeover]
        }
        assert len(doubled) <= 1 and doubled <= in_flight, doubled

        # Replies: each one the load saw go through is in the outbox; a reply whose worker
        # was killed may or may not have been committed.
        groups = by_kind(timings)
        replies = Counter(t.status for t in groups["reply"])
        sent_replies = sum(1 for row in outbox if row[1] == "reply")
        assert replies[302] <= sent_replies <= replies[302] + replies[0]

        # The load ran across the kill, and only the killed worker's request failed.
        for kind in ("queue", "ticket", "reply"):
            assert any(t.start < killed_at for t in groups[kind]), kind
            assert any(t.start > killed_at for t in groups[kind]), kind
        expected = {"sign-in": {302}, "queue": {200}, "ticket": {200}, "reply": {302}}
        unexpected = [t for t in timings if t.status not in expected[t.kind] | {0}]
        assert unexpected == []
        assert sum(t.status == 0 for t in timings) <= 1

        # The rate limit is shared: one counter in Redis for sign-ins several workers answered.
        assert sorted(statuses) == [400] * LOGIN_LIMIT + [429]
        probed = {
            s.pid for s in server.served() if s.client == probe_address and s.method == "POST"
        }
        assert len(probed) >= 2, "the probe's sign-ins all went to one worker"
        assert rate_limit_keys(served.redis, served.ratelimit_prefix)


def _answered_since(recorder, moment):
    """The kinds of request answered (not failed) that started after ``moment``."""
    return {t.kind for t in recorder.snapshot() if t.start > moment and t.status}
