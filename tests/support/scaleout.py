"""The helpdesk served as in production, for the scale-out test and its bench.

gunicorn with several workers on a PostgreSQL database of its own, rate limits in Redis under a
key prefix of its own, one mailbox on the private Dovecot polled every few seconds, SMTP to the
sink; agents who sign in, open the queue and a ticket, and reply, over HTTP from threads; and
the database's view of which worker leads the scheduled jobs (every session is named after its
process, ``helpdesk[PID]@HOST``).

Nothing here sleeps a fixed time: waits poll a condition until a deadline.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import redis
from flask import Flask
from sqlalchemy import select

from config import PROJECT_ROOT
from helpdesk.auth.services import create_user
from helpdesk.extensions import db
from helpdesk.models import Desk, Mailbox, Role
from helpdesk.models.mailbox import ImapSecurity
from helpdesk.scheduler import LEADER_NAME
from helpdesk.seed import seed_demo
from helpdesk.tickets.services import open_ticket
from tests.support.dovecot import free_port, port_is_open
from tests.support.enquiries import COMPLETE_EN, enquiry
from tests.support.factories import PASSWORD

REDIS_URL = "redis://127.0.0.1:6379"
REDIS_HINT = (
    "Redis must listen on 127.0.0.1:6379 (start it with `redis-server --daemonize yes "
    "--bind 127.0.0.1 --port 6379 --save '' --appendonly no`)"
)
LEADER_KEY = zlib.crc32(LEADER_NAME.encode())  # as PostgresLeadership computes it
SESSION_NAME = re.compile(r"^helpdesk\[(\d+)\]@")
CSRF_TOKEN = re.compile(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"')
KINDS = ("sign-in", "queue", "ticket", "reply")

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float, what: str, step: float = 0.02) -> T:
    """Poll ``condition`` until it returns something true, and return that; fail at the
    deadline with ``what`` it was waiting for."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(step)


# -- the set-up -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """Who and what the load works with."""

    agents: list[str]  # one agent a load thread, each with a ticket of its own
    tickets: list[int]
    probe: str  # an agent whose sign-ins are refused on purpose
    mailbox_id: int
    password_variable: str
    password: str = PASSWORD


def prepare(app: Flask, account: Any, agents: int) -> Cast:
    """Seed the desks, add agents with a ticket each, and point the "system" mailbox at the
    IMAP ``account`` (polled at every scheduler tick); commits."""
    variable = f"HELPDESK_SCALEOUT_MAILBOX_{secrets.token_hex(4).upper()}"
    with app.app_context():
        seed_demo()
        desk = db.session.scalar(select(Desk).where(Desk.slug == "system"))
        assert desk is not None
        emails, tickets = [], []
        for n in range(agents):
            user = create_user(
                f"agent{n}@support.example.test", f"Agent {n}", PASSWORD, Role.AGENT, [desk]
            )
            emails.append(user.email)
            ticket = open_ticket(
                desk,
                subject=f"Cannot submit the notification ({n})",
                requester_email=f"requester{n}@example.org",
                language="en",
            )
            tickets.append(ticket.id)
        probe = create_user("probe@support.example.test", "Probe", PASSWORD, Role.AGENT, [desk])
        mailbox = db.session.scalar(select(Mailbox).where(Mailbox.name == "system"))
        assert mailbox is not None
        mailbox.host, mailbox.port = account.host, account.port
        mailbox.security = ImapSecurity.NONE
        mailbox.username = account.address
        mailbox.secret_env = variable
        mailbox.poll_interval = 1
        mailbox.enabled = True
        db.session.commit()
        cast = Cast(emails, tickets, probe.email, mailbox.id, variable)
        db.session.remove()
    return cast


def enquiries(n: int, run: str) -> list[tuple[str, bytes]]:
    """``n`` complete enquiries from different senders: (bare Message-ID, raw bytes)."""
    mails = []
    for i in range(n):
        message_id = f"scaleout-{run}-{i}@example.org"
        raw = enquiry(
            COMPLETE_EN,
            subject=f"Cannot submit the notification form #{i}",
            sender=f"sender{i}@example.org",  # the automatic replies are limited per sender
            sender_name=f"Sender {i}",
            message_id=f"<{message_id}>",
        )
        mails.append((message_id, raw))
    return mails


def require_redis() -> redis.Redis:
    """A client of the local Redis; fails with a pointer when it does not answer."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise RuntimeError(f"{REDIS_HINT}: {exc}") from exc
    return client


def rate_limit_keys(client: redis.Redis, prefix: str) -> list[bytes]:
    """The rate-limit counters the app keeps in Redis under ``prefix``."""
    return list(client.scan_iter(match=f"*{prefix}*", count=1000))


# -- gunicorn ---------------------------------------------------------------------------------


def environment(
    *,
    database_url: str,
    instance: Path,
    base_url: str,
    smtp: tuple[str, int],
    cast: Cast,
    mailbox_password: str,
    ratelimit_prefix: str,
    **settings: str,
) -> dict[str, str]:
    """The production environment of the workers (plus ``settings`` as HELPDESK_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(
        HELPDESK_ENV="production",
        HELPDESK_SECRET_KEY=secrets.token_urlsafe(48),
        HELPDESK_DATABASE_URL=database_url,
        HELPDESK_INSTANCE_PATH=str(instance),
        HELPDESK_BASE_URL=base_url,
        HELPDESK_SESSION_COOKIE_SECURE="false",  # plain HTTP on loopback, no TLS proxy
        HELPDESK_SMTP_HOST=smtp[0],
        HELPDESK_SMTP_PORT=str(smtp[1]),
        HELPDESK_RATELIMIT_STORAGE_URI=REDIS_URL,
        HELPDESK_RATELIMIT_KEY_PREFIX=ratelimit_prefix,
        **{cast.password_variable: mailbox_password},
        **{f"HELPDESK_{k}": v for k, v in settings.items()},
    )
    return env


@dataclass(frozen=True)
class Served:
    """One line of the access log: the worker that answered, the client, the request."""

    pid: int
    client: str
    method: str
    path: str
    status: int


class Gunicorn:
    """``gunicorn helpdesk.wsgi:app`` in a subprocess on a free port of 127.0.0.1."""

    ACCESS_FORMAT = "%(p)s %(h)s %(m)s %(U)s %(s)s"

    def __init__(self, env: dict[str, str], folder: Path, workers: int = 4, port: int = 0) -> None:
        self.env = env
        self.folder = folder
        self.workers = workers
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._seen_workers: set[int] = set()

    @property
    def base_url(self) -> str:
        """Where it answers."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        """One line a request: worker pid, client address, method, path, status."""
        return self.folder / "access.log"

    @property
    def error_log(self) -> Path:
        """gunicorn's own log and whatever the workers print."""
        return self.folder / "gunicorn.log"

    def start(self, timeout: float = 60) -> Gunicorn:
        """Start the master and wait until every worker has booted and answers."""
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "gunicorn",
            "--workers", str(self.workers),
            "--bind", f"127.0.0.1:{self.port}",
            "--access-logfile", str(self.access_log),
            "--access-logformat", self.ACCESS_FORMAT,
            "--error-logfile", str(self.error_log),
            "--graceful-timeout", "10",
            "helpdesk.wsgi:app",
        ]  # fmt: skip
        setpriv = shutil.which("setpriv")
        if setpriv:
            # The kernel stops gunicorn (and so its workers) if the test process dies.
            command = [setpriv, "--pdeathsig", "TERM", "--", *command]
        with open(self.error_log, "ab") as output:
            self.process = subprocess.Popen(  # noqa: S603
                command, cwd=PROJECT_ROOT, env=self.env, stdin=subprocess.DEVNULL,
                stdout=output, stderr=output,
            )  # fmt: skip
        wait_until(self._booted, timeout, f"{self.workers} gunicorn workers\n{self.log_tail()}")
        return self

    def _booted(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited\n{self.log_tail()}")
        if len(self.worker_pids()) < self.workers or not port_is_open("127.0.0.1", self.port):
            return False
        return self.error_log.read_text().count("Booting worker") >= self.workers

    def worker_pids(self) -> set[int]:
        """The live worker processes (children of the master)."""
        if self.process is None:
            return set()
        master = self.process.pid
        pids = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rpartition(")")[2].split()
                if int(fields[1]) == master and fields[0] != "Z":
                    pids.add(int(stat.parent.name))
        self._seen_workers |= pids
        return pids

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker (only a child of this master): no clean-up runs in it."""
        if pid not in self.worker_pids():
            raise RuntimeError(f"{pid} is not a worker of this gunicorn")
        os.kill(pid, signal.SIGKILL)

    def served(self) -> list[Served]:
        """The access log so far."""
        lines = []
        with contextlib.suppress(FileNotFoundError):
            for line in self.access_log.read_text().splitlines():
                pid, client, method, path, status = line.split()
                lines.append(Served(int(pid.strip("<>")), client, method, path, int(status)))
        return lines

    def log_tail(self, chars: int = 4000) -> str:
        """The end of gunicorn's log, for failure messages."""
        try:
            return self.error_log.read_text()[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the master (its workers stop with it); kill whatever is left by pid."""
        if self.process is None:
            return
        self.worker_pids()  # the last look at who the workers are
        process, self.process = self.process, None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        for pid in self._seen_workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# -- what the database says -------------------------------------------------------------------


def session_pid(application_name: str | None) -> int | None:
    """The pid in a session name ``helpdesk[PID]@HOST``."""
    match = SESSION_NAME.match(application_name or "")
    return int(match.group(1)) if match else None


def lock_holders(conn: psycopg.Connection[Any]) -> dict[int, set[int]]:
    """The helpdesk processes holding each advisory lock of this database, by lock key."""
    rows = conn.execute(
        "SELECT l.objid::bigint, a.application_name"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objsubid = 1"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchall()
    holders: dict[int, set[int]] = defaultdict(set)
    for key, name in rows:
        pid = session_pid(name)
        if pid is not None:
            holders[int(key)].add(pid)
    return holders


def leader_pid(conn: psycopg.Connection[Any]) -> int | None:
    """The worker whose session holds the scheduler's advisory lock in this database."""
    leaders = lock_holders(conn).get(LEADER_KEY)
    return min(leaders) if leaders else None


def mailbox_lock_key(mailbox_id: int) -> int:
    """The advisory lock a mailbox is polled under (as helpdesk.mail.polling names it)."""
    return zlib.crc32(f"mailbox-poll:{mailbox_id}".encode())


@dataclass(frozen=True)
class LockSample:
    """Who held the scheduler's lock and who was polling the mailbox, at one moment."""

    at: float
    leaders: frozenset[int]
    pollers: frozenset[int]


class LockWatch:
    """Samples the lock holders from a thread of its own, until the block ends: a mailbox
    polled by a process that does not lead means a job ran outside the leader."""

    def __init__(self, conninfo: str, mailbox_id: int) -> None:
        self.conninfo = conninfo
        self.mailbox_key = mailbox_lock_key(mailbox_id)
        self.samples: list[LockSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self._stop.is_set():
                holders = lock_holders(conn)
                self.samples.append(
                    LockSample(
                        time.monotonic(),
                        frozenset(holders.get(LEADER_KEY, ())),
                        frozenset(holders.get(self.mailbox_key, ())),
                    )
                )
                self._stop.wait(0.005)

    def polls_outside_the_leader(self, killed: int = 0, killed_at: float = 0) -> list[LockSample]:
        """The samples where someone polled the mailbox without leading. A killed process's
        sessions end one by one after its death, its leader lock possibly first: those
        samples are left out."""
        return [
            s
            for s in self.samples
            if s.pollers - s.leaders - ({killed} if s.at > killed_at else set())
        ]


def session_pids(conn: psycopg.Connection[Any]) -> set[int]:
    """The helpdesk processes with a session open on this database."""
    rows = conn.execute(
        "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
    ).fetchall()
    return {pid for (name,) in rows if (pid := session_pid(name)) is not None}


def count(conn: psycopg.Connection[Any], sql: str, *params: object) -> int:
    """The single number a query returns."""
    row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
    return int(row[0]) if row else 0


# -- the whole set-up --------------------------------------------------------------------------


@dataclass
class Deployment:
    """A served helpdesk and what the checks need of it."""

    server: Gunicorn
    conn: psycopg.Connection[Any]  # autocommit, to the same database
    conninfo: str
    cast: Cast
    mails: list[tuple[str, bytes]]  # (bare Message-ID, raw) as loaded into the mailbox
    run: str  # this run's token: in the mails' Message-IDs and the rate-limit key prefix
    ratelimit_prefix: str
    redis: redis.Redis

    @property
    def base_url(self) -> str:
        """Where the workers answer."""
        return self.server.base_url

    def leader(self) -> int | None:
        """The worker leading the scheduled jobs now."""
        return leader_pid(self.conn)

    def watch_locks(self) -> LockWatch:
        """Sample who leads and who polls, in a thread, for the duration of a block."""
        return LockWatch(self.conninfo, self.cast.mailbox_id)

    def ingested(self) -> int:
        """How many of the loaded mails are stored as inbound messages."""
        return count(self.conn, INGESTED, f"scaleout-{self.run}-%")

    def pending_mail(self) -> int:
        """Outgoing mail not sent yet."""
        return count(self.conn, "SELECT count(*) FROM outbox_message WHERE status = 'pending'")


INGESTED = "SELECT count(*) FROM message WHERE direction = 'inbound' AND message_id LIKE %s"


@contextlib.contextmanager
def deployment(
    database_url: str,
    folder: Path,
    dovecot: Any,
    account: Any,
    smtp: tuple[str, int],
    *,
    mails: int,
    workers: int = 4,
    agents: int = 3,
    **settings: str,
) -> Iterator[Deployment]:
    """Migrate and seed the empty database at ``database_url``, load ``mails`` enquiries into
    the IMAP ``account``, and serve the helpdesk with gunicorn until the block ends (then
    gunicorn is stopped and this run's rate-limit counters are deleted from Redis)."""
    from flask_migrate import upgrade

    from helpdesk import create_app

    run = secrets.token_hex(4)
    prefix = f"helpdesk-test-{run}"
    with contextlib.ExitStack() as stack:
        client = require_redis()
        stack.callback(client.close)
        stack.callback(lambda: [client.delete(key) for key in rate_limit_keys(client, prefix)])
        instance = folder / "instance"
        app = create_app(
            "testing", overrides={"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance)}
        )
        with app.app_context():
            upgrade()
        cast = prepare(app, account, agents)
        with app.app_context():
            db.engine.dispose()
        loaded = enquiries(mails, run)
        with dovecot.mailbox(account.address) as box:
            for _message_id, raw in loaded:
                box.append(raw, "INBOX")
        port = free_port()
        env = environment(
            database_url=database_url,
            instance=instance,
            base_url=f"http://127.0.0.1:{port}",
            smtp=smtp,
            cast=cast,
            mailbox_password=account.password,
            ratelimit_prefix=prefix,
            **settings,
        )
        server = Gunicorn(env, folder / "gunicorn", workers=workers, port=port)
        stack.callback(server.stop)
        server.start()
        conninfo = database_url.replace("+psycopg", "")
        conn = stack.enter_context(psycopg.connect(conninfo, autocommit=True))
        yield Deployment(server, conn, conninfo, cast, loaded, run, prefix, client)


# -- the load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """One request of the load: its kind, when it started and ended (monotonic), its status
    (0 when the connection failed)."""

    kind: str
    start: float
    end: float
    status: int


@dataclass
class Recorder:
    """Timings from every load thread."""

    timings: list[Timing] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, timing: Timing) -> None:
        """Keep one timing."""
        with self._lock:
            self.timings.append(timing)

    def snapshot(self) -> list[Timing]:
        """The timings so far."""
        with self._lock:
            return list(self.timings)


class Agent:
    """An agent in a browser: one cookie jar, one connection at a time, no redirects followed."""

    def __init__(self, base_url: str, recorder: Recorder, source: str = "127.0.0.1") -> None:
        transport = httpx.HTTPTransport(local_address=source)
        self.http = httpx.Client(
            base_url=base_url, transport=transport, follow_redirects=False, timeout=60
        )
        self.recorder = recorder
        self.token = ""

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def _timed(self, kind: str, method: str, url: str, **kw: Any) -> httpx.Response | None:
        start = time.monotonic()
        try:
            response = self.http.request(method, url, **kw)
        except httpx.TransportError:
            # The worker answering was killed: a proxy would show a 502.
            self.recorder.add(Timing(kind, start, time.monotonic(), 0))
            return None
        self.recorder.add(Timing(kind, start, time.monotonic(), response.status_code))
        match = CSRF_TOKEN.search(response.text)
        if match:
            self.token = match.group(1)
        return response

    def open_sign_in(self) -> bool:
        """Load the sign-in form for its CSRF token (not timed); whether it came."""
        try:
            response = self.http.get("/auth/login")
        except httpx.TransportError:
            return False  # its worker was killed
        match = CSRF_TOKEN.search(response.text)
        if response.status_code != 200 or not match:
            raise AssertionError(f"no sign-in form: {response.status_code} {response.text[:500]}")
        self.token = match.group(1)
        return True

    def sign_in(self, email: str, password: str) -> int:
        """Post the sign-in form; the status (302 signed in, 400 refused, 429 rate-limited,
        0 when the worker answering was killed)."""
        if not self.token and not self.open_sign_in():
            return 0
        data = {"csrf_token": self.token, "email": email, "password": password}
        response = self._timed("sign-in", "POST", "/auth/login", data=data)
        return response.status_code if response is not None else 0

    def queue(self) -> int:
        """Open the queue."""
        response = self._timed("queue", "GET", "/")
        return response.status_code if response is not None else 0

    def ticket(self, ticket_id: int) -> int:
        """Open a ticket (and keep the CSRF token of its forms)."""
        response = self._timed("ticket", "GET", f"/tickets/{ticket_id}")
        return response.status_code if response is not None else 0

    def reply(self, ticket_id: int, text: str) -> int:
        """Answer the requester from the ticket page."""
        data = {"reply-csrf_token": self.token, "reply-text": text}
        response = self._timed("reply", "POST", f"/tickets/{ticket_id}/reply", data=data)
        return response.status_code if response is not None else 0


def agent_load(
    base_url: str,
    email: str,
    password: str,
    ticket_id: int,
    recorder: Recorder,
    *,
    rounds: int,
    stop: threading.Event,
    sign_in_every: int = 0,
) -> None:
    """Sign in, then queue, ticket, reply for at most ``rounds`` rounds or until ``stop``;
    with ``sign_in_every`` a new browser session signs in again after that many rounds."""
    agent: Agent | None = None
    signed_in = False
    try:
        for n in range(rounds):
            if stop.is_set():
                return
            if not signed_in or (sign_in_every and n % sign_in_every == 0):
                if agent is not None:
                    agent.close()
                agent = Agent(base_url, recorder)
                signed_in = agent.sign_in(email, password) == 302
                if not signed_in:
                    continue  # its worker was killed: sign in again in the next round
            assert agent is not None
            agent.queue()
            if agent.ticket(ticket_id) == 200:
                agent.reply(ticket_id, f"Thank you for waiting; answer {n} from {email}.")
    finally:
        if agent is not None:
            agent.close()


def bad_sign_ins(base_url: str, email: str, tries: int, source: str) -> list[int]:
    """``tries`` sign-ins with a wrong password, all sent at once from ``source`` (each from a
    fresh browser session, its form loaded first); their statuses."""
    recorder = Recorder()
    agents = [Agent(base_url, recorder, source=source) for _ in range(tries)]
    try:
        for agent in agents:
            assert agent.open_sign_in()
        start = threading.Barrier(tries)
        statuses = [0] * tries

        def post(i: int) -> None:
            start.wait()
            statuses[i] = agents[i].sign_in(email, "not the password")

        threads = [threading.Thread(target=post, args=(i,)) for i in range(tries)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return statuses
    finally:
        for agent in agents:
            agent.close()


def second_loopback_address() -> str:
    """127.0.0.2 (Linux answers on all of 127/8): the rate-limit probe's own client address,
    so the load's sign-ins from 127.0.0.1 do not count against it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.2", 0))
    return "127.0.0.2"


# -- figures ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def by_kind(timings: Sequence[Timing]) -> dict[str, list[Timing]]:
    """Timings grouped by request kind, in the load's order."""
    groups: dict[str, list[Timing]] = defaultdict(list)
    for timing in timings:
        groups[timing.kind].append(timing)
    return {kind: groups[kind] for kind in KINDS if kind in groups}


@contextlib.contextmanager
def threads(targets: Sequence[Callable[[], None]]) -> Iterator[list[threading.Thread]]:
    """Run each target in a thread; join them all on the way out."""
    started = [threading.Thread(target=target, daemon=True) for target in targets]
    for thread in started:
        thread.start()
    try:
        yield started
    finally:
        for thread in started:
            thread.join()
