"""Scheduled jobs under one leader, however many processes run.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own; when
the process dies the connection closes and another process takes the lock at its next
heartbeat. Elsewhere (SQLite, the embedded default) the leader renews a lease row.

Either way the leader's row in ``scheduler_lease`` says until when it vouched for itself: on
SQLite that row is the lock; on PostgreSQL the leader writes it at each heartbeat only so that
/readyz and /metrics, in any process, can tell that a leader was seen recently.
"""

from __future__ import annotations

import logging
import os
import socket
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import Connection, Engine, or_, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from helpdesk import clock
from helpdesk.models import SchedulerLease

log = logging.getLogger(__name__)

LEADER_NAME = "helpdesk-scheduler"


def holder_id() -> str:
    """Who this process is, for the lease row and logs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_dead(holder: str) -> bool:
    """Whether a lease holder is a process of this host that no longer exists.

    SQLite is single-host, so a crashed holder need not block others until its lease runs
    out; a holder on another host is never judged from here.
    """
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class PostgresLeadership:
    """Leadership held by ``pg_try_advisory_lock`` on a dedicated connection."""

    def __init__(self, engine: Engine, name: str = LEADER_NAME, lease_seconds: int = 30) -> None:
        self.engine = engine
        self.name = name
        self.key = zlib.crc32(name.encode())
        self.lease = timedelta(seconds=lease_seconds)
        self._conn: Connection | None = None

    @property
    def is_leader(self) -> bool:
        """Whether this process held the lock at its last heartbeat."""
        return self._conn is not None

    def heartbeat(self, now: datetime | None = None) -> bool:
        """Check the held lock is still there, or try to take it."""
        if self._conn is not None:
            if self._still_held(self._conn):
                return True
            log.warning("scheduler leadership lost: its connection or lock is gone")
            self._drop()
        conn = self.engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        conn.commit()
        if got:
            self._conn = conn
            log.info("this process now leads the scheduled jobs")
            return True
        conn.close()
        return False

    def note_seen(self, now: datetime) -> None:
        """Write, on the lock's own connection, that the leader is alive until now + lease."""
        if self._conn is None:
            return
        table = SchedulerLease.__table__
        values = {"holder": holder_id(), "expires_at": now + self.lease}
        try:
            updated = self._conn.execute(
                update(table).where(table.c.name == self.name).values(**values)
            ).rowcount
            if not updated:  # only the lock holder writes the row: no race to insert it
                self._conn.execute(table.insert().values(name=self.name, **values))
            self._conn.commit()
        except DBAPIError:
            log.warning("could not note the scheduler leader as seen", exc_info=True)
            self._conn.rollback()

    def _still_held(self, conn: Connection) -> bool:
        """Whether this very session still holds the lock (a reconnect would not)."""
        try:
            held = conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid = 0 AND objid = :k"
                ),
                {"k": self.key},
            ).scalar()
            conn.commit()
        except DBAPIError:
            return False
        return bool(held)

    def release(self) -> None:
        """Give up leadership."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._conn.commit()
            finally:
                self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except DBAPIError:
                log.debug("closing a broken leader connection failed", exc_info=True)


class LeaseLeadership:
    """Leadership held by renewing a lease row before it expires."""

    def __init__(
        self,
        engine: Engine,
        name: str = LEADER_NAME,
        holder: str | None = None,
        lease_seconds: int = 30,
    ) -> None:
        self.engine = engine
        self.name = name
        self.holder = holder or holder_id()
        self.lease = timedelta(seconds=lease_seconds)
        self._leader = False

    @property
    def is_leader(self) -> bool:
        """Whether this process renewed the lease at its last heartbeat."""
        return self._leader

    def heartbeat(self, now: datetime | None = None) -> bool:
        """Renew our lease, or take it if it has expired."""
        now = now or clock.now()
        table = SchedulerLease.__table__
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(table)
                .where(table.c.name == self.name)
                .where(or_(table.c.holder == self.holder, table.c.expires_at < _bind(now)))
                .values(holder=self.holder, expires_at=now + self.lease)
            ).rowcount
            if not taken:
                current = conn.execute(
                    select(table.c.holder).where(table.c.name == self.name)
                ).scalar()
                if current is None:
                    taken = self._insert(conn, now)
                elif holder_is_dead(current):
                    log.warning("taking over %s from %s, which has died", self.name, current)
                    taken = conn.execute(
                        update(table)
                        .where(table.c.name == self.name, table.c.holder == current)
                        .values(holder=self.holder, expires_at=now + self.lease)
                    ).rowcount
        self._leader = bool(taken)
        return self._leader

    def _insert(self, conn: Connection, now: datetime) -> int:
        try:
            with conn.begin_nested():
                conn.execute(
                    SchedulerLease.__table__.insert().values(
                        name=self.name, holder=self.holder, expires_at=now + self.lease
                    )
                )
            return 1
        except IntegrityError:
            return 0

    def release(self) -> None:
        """Let the lease go so another process can lead at once."""
        table = SchedulerLease.__table__
        with self.engine.begin() as conn:
            conn.execute(
                table.delete().where(table.c.name == self.name, table.c.holder == self.holder)
            )
        self._leader = False


def _bind(value: datetime) -> datetime:
    return value.astimezone(UTC)


def leadership_for(
    engine: Engine, lease_seconds: int = 30, name: str = LEADER_NAME
) -> PostgresLeadership | LeaseLeadership:
    """The right kind of exclusive lock for the database in use (also used per mailbox)."""
    if engine.dialect.name == "postgresql":
        return PostgresLeadership(engine, name=name, lease_seconds=lease_seconds)
    return LeaseLeadership(engine, name=name, lease_seconds=lease_seconds)


def lead(leadership: PostgresLeadership | LeaseLeadership, now: datetime | None = None) -> bool:
    """The scheduler's heartbeat: hold or take the lead, and leave the row saying the leader
    was seen (on SQLite the heartbeat has written it already)."""
    now = now or clock.now()
    if not leadership.heartbeat(now):
        return False
    if isinstance(leadership, PostgresLeadership):
        leadership.note_seen(now)
    return True


@dataclass(frozen=True)
class Job:
    """A scheduled job: a service called in the app context every ``seconds``, in a unit of
    work (committed once when it returns, rolled back if it raises)."""

    id: str
    func: Callable[[], object]
    seconds: int


def job_list(app: Flask) -> list[Job]:
    """The jobs the leader runs; each calls the same service a CLI command calls."""
    from helpdesk.mail.polling import poll_due_mailboxes
    from helpdesk.outbox import deliver_due
    from helpdesk.reports.mailing import send_weekly_reports
    from helpdesk.tickets.sla_clock import sweep

    return [
        Job("mail-poll", poll_due_mailboxes, 5),
        Job("outbox-send", deliver_due, 5),
        Job("sla-sweep", sweep, 60),
        Job("weekly-report", send_weekly_reports, 600),
    ]


def start_scheduler(app: Flask) -> BackgroundScheduler:
    """Start the background scheduler; only the leader's jobs do any work."""
    from helpdesk.extensions import db

    with app.app_context():
        engine = db.engine
    leadership = leadership_for(engine, app.config["SCHEDULER_LEASE_SECONDS"])
    scheduler = BackgroundScheduler(timezone=UTC)
    beat = max(1, app.config["SCHEDULER_LEASE_SECONDS"] // 3)
    scheduler.add_job(
        lead,
        "interval",
        args=[leadership],
        seconds=beat,
        id="leadership",
        next_run_time=clock.now(),
    )
    for job in job_list(app):
        scheduler.add_job(
            _as_leader(app, leadership, job),
            "interval",
            seconds=job.seconds,
            id=job.id,
            max_instances=1,
            coalesce=True,
        )
    scheduler.start()
    app.extensions["helpdesk_scheduler"] = (scheduler, leadership)
    log.info("scheduler started with %d jobs", len(job_list(app)))
    return scheduler


def _as_leader(
    app: Flask, leadership: PostgresLeadership | LeaseLeadership, job: Job
) -> Callable[[], None]:
    from helpdesk.extensions import db
    from helpdesk.transaction import unit_of_work

    def run() -> None:
        if not leadership.is_leader:
            return
        with app.app_context():
            try:
                with unit_of_work():
                    job.func()
            except Exception:
                log.exception("scheduled job %s failed", job.id)
            finally:
                db.session.remove()

    return run
