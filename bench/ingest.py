"""Benchmark mail ingestion from a real Dovecot: the floor (imap-tools fetch + parse, nothing
stored) against a full poll into tickets, and the poller's peak memory at two mailbox sizes.

    .venv/bin/python -m bench.ingest [--n 2000] [--db sqlite|postgresql] [--profile]

Prints messages per second for both (target for the full poll: 300 msg/s or more at N=2000 on
SQLite, about 5x django-helpdesk's 77 msg/s on the same kind of mailbox), the ratio full/floor,
and the poll's peak resident memory at N/2 and N (it should be flat: the poller streams in batches).
The poll's analysis workers are started before the clock, as a running app's scheduler keeps
them between polls; their start-up time and each one's peak memory are printed too.
``--profile`` profiles the poller's process only, not the workers.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from imap_tools import MailBoxUnencrypted

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.dovecot import DovecotServer  # noqa: E402
from tests.support.mailsamples import generate_enquiry  # noqa: E402

TARGET_FULL_RATE = 300  # msg/s: about 5x django-helpdesk's 77 msg/s (see the docstring)
PASSWORD = "bench-password"  # noqa: S105 - a throw-away local account


def fill(server: DovecotServer, address: str, n: int, seed: int) -> int:
    """Append n generated enquiries over one connection; returns the bytes appended."""
    rng = random.Random(seed)
    total = 0
    with MailBoxUnencrypted(server.host, server.port).login(address, PASSWORD) as box:
        for i in range(n):
            raw = generate_enquiry(i, rng)
            total += len(raw)
            box.append(raw, "INBOX")
    return total


def settle() -> None:
    """Let the disk catch up before a measurement: what the set-up (or an earlier run's clean-up)
    wrote or deleted is flushed now, not in the middle of the timed poll. It matters on a
    filesystem mounted with ``discard``, where deleting files costs journal commits later."""
    os.sync()


def floor(server: DovecotServer, address: str) -> tuple[int, float]:
    """imap-tools fetching and parsing every message, storing nothing."""
    settle()
    started = time.perf_counter()
    count = 0
    with MailBoxUnencrypted(server.host, server.port).login(address, PASSWORD) as box:
        for msg in box.fetch(mark_seen=False, bulk=50):
            _ = (msg.subject, msg.from_, msg.text, msg.html, [a.filename for a in msg.attachments])
            count += 1
    return count, time.perf_counter() - started


def _full_poll(server_host: str, port: int, address: str, db_url: str, instance: str, out) -> None:  # type: ignore[no-untyped-def]
    """Child process: migrate, seed, poll the mailbox into tickets; report rate and max RSS."""
    import logging

    logging.disable(logging.WARNING)
    os.environ["HELPDESK_BENCH_PASSWORD"] = PASSWORD
    from flask_migrate import upgrade
    from sqlalchemy import select

    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.mail.polling import analysis_pool, poll_mailbox
    from helpdesk.models import Mailbox
    from helpdesk.models.mailbox import ImapSecurity
    from helpdesk.seed import seed_demo

    app = create_app("testing", overrides={"DATABASE_URL": db_url, "INSTANCE_PATH": instance})
    with app.app_context():
        upgrade()
        seed_demo()
        mailbox = db.session.scalar(select(Mailbox).where(Mailbox.name == "system"))
        mailbox.host, mailbox.port, mailbox.security = server_host, port, ImapSecurity.NONE
        mailbox.username, mailbox.secret_env = address, "HELPDESK_BENCH_PASSWORD"
        db.session.commit()
        # A running app's poller keeps its analysis workers between polls; starting them (a
        # fork server that loads the parser and language model) is timed on its own.
        pool = analysis_pool()
        warm_started = time.perf_counter()
        pool.start()
        warm_s = time.perf_counter() - warm_started
        profiler = None
        if os.environ.get("HELPDESK_BENCH_PROFILE"):
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu_before = _cpu_seconds(os.getpid()), [_cpu_seconds(pid) for pid in pool.worker_pids()]
        busy_before = _machine_busy_seconds()
        started = time.perf_counter()
        report = poll_mailbox(mailbox)
        elapsed = time.perf_counter() - started
        machine_cpu = _machine_busy_seconds() - busy_before
        poller_cpu = _cpu_seconds(os.getpid()) - cpu_before[0]
        workers_cpu = sum(_cpu_seconds(pid) for pid in pool.worker_pids()) - sum(cpu_before[1])
        if profiler is not None:
            import pstats

            profiler.disable()
            dump = os.environ.get("HELPDESK_BENCH_PROFILE_OUT")
            if dump:  # e.g. /tmp/poll.prof -> /tmp/poll.prof.full-2000, for pstats' filters
                profiler.dump_stats(f"{dump}.{Path(instance).name}")
            stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats(
                os.environ.get("HELPDESK_BENCH_SORT", "tottime")
            )
            stats.print_stats(int(os.environ.get("HELPDESK_BENCH_TOP", "30")))
        workers_kib = [_peak_rss_kib(pid) for pid in pool.worker_pids()]
        pool.close()  # a multiprocessing child exits without the pool's atexit
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.send(
        (
            report.ok,
            report.error,
            report.result.fetched if report.result else 0,
            dict(report.result.outcomes) if report.result else {},
            elapsed,
            rss_kib,
            warm_s,
            workers_kib,
            poller_cpu,
            workers_cpu,
            machine_cpu,
        )
    )


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads) so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU time every process on the machine has used so far (all cores, idle and I/O wait
    left out), in seconds."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def create_cost(folder: Path, count: int = 300) -> float:
    """Milliseconds to create one small file in ``folder`` (kept: deleting them would slow the
    runs after). The poll creates two or three files a message; on ext4 this cost grows
    tenfold for minutes after many files were deleted, which the floor never feels."""
    folder.mkdir()
    started = time.perf_counter()
    for i in range(count):
        fd = os.open(folder / f"probe-{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"x" * 4096)
        os.close(fd)
    return (time.perf_counter() - started) / count * 1000


def _peak_rss_kib(pid: int) -> int:
    """A process's peak resident memory (VmHWM) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


@contextlib.contextmanager
def database(kind: str, folder: str):  # type: ignore[no-untyped-def]
    """A fresh database URL of the given kind."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/bench.sqlite3"
        return
    import psycopg

    name = f"helpdesk_bench_ingest_{os.getpid()}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def full(server: DovecotServer, address: str, kind: str, folder: str) -> tuple:  # type: ignore[type-arg]
    """A full poll into tickets in a fresh process and database (its files in ``folder``)."""
    os.makedirs(folder)
    with database(kind, folder) as url:
        receive, send = multiprocessing.Pipe(duplex=False)
        child = multiprocessing.get_context("fork").Process(
            target=_full_poll, args=(server.host, server.port, address, url, folder, send)
        )
        child.start()
        send.close()  # the child holds the only writer: its death ends the wait below
        try:
            result = receive.recv()
        except EOFError:
            child.join()
            raise SystemExit(f"the poll's process died (exit code {child.exitcode})") from None
        child.join()
        return result


def run(n: int, kind: str, seed: int, scratch: Path) -> dict[str, float]:
    """Measure floor and full poll for n messages; returns the figures. Files go under
    ``scratch``, which the caller deletes only after every run: deleting thousands of files
    makes creating new ones slow for minutes afterwards on ext4 (it steps over recently freed
    inodes), and an earlier run's clean-up must not slow a later run's poll."""
    with DovecotServer(root=scratch / f"dovecot-{n}") as server:
        address = f"bench{n}@support.example.test"
        server.add_user(address, PASSWORD)
        appended = fill(server, address, n, seed)
        count, floor_s = floor(server, address)
        create_ms = create_cost(scratch / f"probe-{n}")
        (ok, error, fetched, outcomes, full_s, rss_kib, warm_s, workers_kib, cpu, workers_cpu,
         machine_cpu) = full(server, address, kind, str(scratch / f"full-{n}"))  # fmt: skip
    if not ok:
        raise SystemExit(f"poll failed: {error}")
    figures = {
        "n": n,
        "mib": appended / 2**20,
        "floor_rate": count / floor_s,
        "full_rate": fetched / full_s,
        "rss_mib": rss_kib / 1024,
        "workers_mib": max(workers_kib, default=0) / 1024,
    }
    print(f"\n{n} messages ({figures['mib']:.1f} MiB) on {kind}: outcomes {outcomes}")
    print(
        f"  floor  (imap-tools fetch + parse, nothing stored): {figures['floor_rate']:8.1f} msg/s"
    )
    print(f"  full   (poll into tickets, committed per batch)  : {figures['full_rate']:8.1f} msg/s")
    print(f"  ratio full/floor: {figures['full_rate'] / figures['floor_rate']:.2f}")
    if kind == "sqlite":
        verdict = "met" if figures["full_rate"] >= TARGET_FULL_RATE else "NOT met"
        print(f"  target: full poll >= {TARGET_FULL_RATE} msg/s on SQLite: {verdict}")
    print(
        f"  CPU a message: poller {cpu / fetched * 1000:.2f} ms, analysis workers "
        f"{workers_cpu / fetched * 1000:.2f} ms (wall {full_s / fetched * 1000:.2f} ms); "
        f"creating a file took {create_ms:.3f} ms just before"
    )
    print(
        f"  the machine's {os.cpu_count()} cores were busy {machine_cpu / full_s / (os.cpu_count() or 1):.0%}"
        f" of the poll: {machine_cpu / fetched * 1000:.2f} ms a message in all (Dovecot, the "
        f"kernel and the rest {(machine_cpu - cpu - workers_cpu) / fetched * 1000:.2f} ms)"
    )
    print(
        f"  poller peak RSS: {figures['rss_mib']:.1f} MiB; {len(workers_kib)} analysis workers, "
        f"each at most {figures['workers_mib']:.1f} MiB (started in {warm_s:.2f} s, not timed)"
    )
    return figures


def main() -> None:
    """Parse arguments and run at N/2 and N to show memory does not grow with N."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print the full poll's cProfile (top 30 by own time; HELPDESK_BENCH_SORT and _TOP "
        "change that, HELPDESK_BENCH_PROFILE_OUT=path also dumps it to path.full-N)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave the scratch folder (its path is printed)"
    )
    args = parser.parse_args()
    if args.profile:
        os.environ["HELPDESK_BENCH_PROFILE"] = "1"
    scratch = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    scratch.chmod(0o755)  # Dovecot's mail processes must reach their folders in it
    try:
        half = run(max(args.n // 2, 1), args.db, args.seed, scratch)
        whole = run(args.n, args.db, args.seed, scratch)
    finally:
        if args.keep:
            print(f"\nscratch folder kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    growth = whole["rss_mib"] - half["rss_mib"]
    print(
        f"\npeak RSS at N/2 = {half['rss_mib']:.1f} MiB, at N = {whole['rss_mib']:.1f} MiB "
        f"(growth {growth:+.1f} MiB for {args.n - args.n // 2} more messages)"
    )


if __name__ == "__main__":
    main()
