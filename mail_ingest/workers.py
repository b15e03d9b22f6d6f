"""Understanding messages in worker processes while the poller writes the previous batch.

Parsing MIME and analysing text is pure Python and CPU-bound, so threads would not help; the
database writes must stay in the poller's process (one transaction a batch). ``AnalysisPool``
runs ``analyse`` for a batch in a few worker processes and hands back futures, so the poller can
fetch and submit batch k+1 and then write batch k while the workers parse.

The workers start from a fork server (a clean single-threaded process that has imported the
pipeline and loaded the language model once), never by forking the app: the app has threads
(the scheduler's, a web server's) whose locks a plain fork would copy half-held.

Nothing here is needed for correctness: if the pool cannot start or a worker dies, the caller
analyses in its own process (``analyse_batch`` is the same function either way).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from mail_ingest.language import warm_up
from mail_ingest.parse import ParsedAttachment
from mail_ingest.pipeline import Analysis, analyse
from mail_ingest.policy import Inspection, decide
from mail_ingest.rawstore import RawStore
from mail_ingest.routing import Rule

log = logging.getLogger(__name__)

_PRELOAD = ["mail_ingest.workers"]


@dataclass(frozen=True)
class AnalysisSettings:
    """What ``analyse`` needs besides the raw bytes (the same for a whole poll)."""

    rules: tuple[Rule, ...]
    default_desk: str
    own_addresses: frozenset[str]
    max_bytes: int | None = None
    attachment_max_bytes: int | None = None
    raw_store: str | None = None  # a RawStore root: the workers store each message's bytes
    # A RawStore root: the workers store there each attachment that no desk refuses, that is
    # allowed under every extension in ``forbidden_anywhere`` (the union of the desks' lists).
    attachment_store: str | None = None
    forbidden_anywhere: frozenset[str] = frozenset()


def analyse_batch(raws: Sequence[bytes], settings: AnalysisSettings) -> list[Analysis]:
    """Analyse each raw message; never raises on bad input (``analyse`` keeps the error).
    With ``settings.raw_store`` each message's bytes are put in that store too, under the
    digest the parse worked out, and flushed to disk before this returns: the caller commits
    rows that name them once it has the analyses."""
    analyses = [
        analyse(
            raw,
            rules=settings.rules,
            default_desk=settings.default_desk,
            own_addresses=settings.own_addresses,
            max_bytes=settings.max_bytes,
            attachment_max_bytes=settings.attachment_max_bytes,
        )
        for raw in raws
    ]
    if settings.raw_store is not None:
        store = _raw_store(settings.raw_store)
        for raw, analysis in zip(raws, analyses, strict=True):
            store.put(raw, sync=False, key=analysis.parsed.sha256)
        store.sync()
    if settings.attachment_store is not None:
        store = _raw_store(settings.attachment_store)
        forbidden = settings.forbidden_anywhere
        analyses = [_store_attachments(store, analysis, forbidden) for analysis in analyses]
        store.sync()
    return analyses


def _store_attachments(store: RawStore, analysis: Analysis, forbidden: frozenset[str]) -> Analysis:
    """Put the attachments no desk refuses in ``store`` (the caller syncs it); the analysis
    names them and comes back without their content, which the poller need not be sent again.
    Refusing is monotonic in the forbidden extensions, so what the union allows, every desk's
    own list allows too; the poller decides the rest with the desk it chose."""
    stored = set()
    attachments = []
    for item, inspection in zip(analysis.parsed.attachments, analysis.inspections, strict=True):
        if _allowed_everywhere(item, inspection, forbidden):
            stored.add(store.put(item.content, sync=False, key=item.sha256))
            attachments.append(replace(item, content=b""))
        else:
            attachments.append(item)
    if not stored:
        return analysis
    parsed = replace(analysis.parsed, attachments=tuple(attachments))
    return replace(analysis, parsed=parsed, stored_attachments=frozenset(stored))


def _allowed_everywhere(
    item: ParsedAttachment, inspection: Inspection | None, forbidden: frozenset[str]
) -> bool:
    if inspection is None or not item.content or not item.sha256:
        return False  # omitted, or nothing to store
    return decide(item.filename, inspection, forbidden_extensions=forbidden).allowed


@cache
def _raw_store(root: str) -> RawStore:
    return RawStore(Path(root))


class PendingAnalyses:
    """The analyses of one batch, done in the pool or (if it failed) on request in-process."""

    def __init__(
        self,
        raws: Sequence[bytes],
        settings: AnalysisSettings,
        futures: list[Future[list[Analysis]]],
    ) -> None:
        self.raws = list(raws)
        self.settings = settings
        self._futures = futures
        self._analyses: list[Analysis] | None = None
        self.raw_stored = False  # whether the workers put every message in the raw store

    def result(self) -> list[Analysis]:
        """Every message's analysis, in the order given (worked out once)."""
        if self._analyses is None:
            self._analyses = self._result()
        return self._analyses

    def _result(self) -> list[Analysis]:
        if self._futures:
            try:
                analyses = [analysis for future in self._futures for analysis in future.result()]
            except Exception as exc:  # noqa: BLE001 - a dead worker must not lose the batch
                log.warning(
                    "the analysis workers failed (%s: %s); analysing the batch in-process",
                    type(exc).__name__,
                    exc,
                )
            else:
                self.raw_stored = self.settings.raw_store is not None
                return analyses
        # In-process, the caller stores the bytes itself (as it does a single message's).
        return analyse_batch(
            self.raws, replace(self.settings, raw_store=None, attachment_store=None)
        )


class AnalysisPool:
    """A few worker processes that analyse batches; ``processes=0`` analyses in-process.

    The workers are started by the first batch of at least ``start_at`` messages (or by
    ``start``): a desk whose polls find a few messages at a time never pays for them (about
    0.7 s to start, 135 MB each), and once started they serve every batch.
    """

    def __init__(self, processes: int, start_at: int = 20) -> None:
        self.processes = max(processes, 0)
        self.start_at = start_at
        self._executor: ProcessPoolExecutor | None = None
        self._pid = os.getpid()

    def start(self) -> bool:
        """Start every worker now and wait until each has loaded what it needs (otherwise the
        first batches start them); whether they run."""
        executor = self._ready()
        if executor is None:
            return False
        # Workers are started on demand, one for each task submitted while none is idle.
        futures = [executor.submit(os.getpid) for _ in range(self.processes)]
        try:
            for future in futures:
                future.result()
        except Exception as exc:  # noqa: BLE001 - in-process analysis still works
            log.warning("the analysis workers did not start (%s)", exc)
            self.close()
            return False
        return True

    @property
    def running(self) -> bool:
        """Whether this process has started its workers."""
        return self._executor is not None and self._pid == os.getpid()

    def worker_pids(self) -> list[int]:
        """The running workers' process ids (for measuring them)."""
        if self._executor is None:
            return []
        processes = self._executor._processes.values()  # noqa: SLF001
        return [process.pid for process in processes if process.pid is not None]

    def submit(self, raws: Sequence[bytes], settings: AnalysisSettings) -> PendingAnalyses:
        """Start analysing ``raws`` in the workers, split evenly between them."""
        if raws and (self.running or len(raws) >= self.start_at):
            # A second try with new workers if one died since the last batch.
            for _attempt in range(2):
                executor = self._ready()
                if executor is None:
                    break
                try:
                    return PendingAnalyses(raws, settings, self._split(executor, raws, settings))
                except Exception as exc:  # noqa: BLE001 - in-process analysis still works
                    log.warning("the analysis pool is broken (%s); starting new workers", exc)
                    self.close()
        return PendingAnalyses(raws, settings, [])

    def _split(
        self, executor: ProcessPoolExecutor, raws: Sequence[bytes], settings: AnalysisSettings
    ) -> list[Future[list[Analysis]]]:
        size = -(-len(raws) // self.processes)
        return [
            executor.submit(analyse_batch, list(raws[start : start + size]), settings)
            for start in range(0, len(raws), size)
        ]

    def close(self) -> None:
        """Stop the workers (they are started again when needed)."""
        if self._executor is not None and self._pid == os.getpid():
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None

    def _ready(self) -> ProcessPoolExecutor | None:
        if self.processes == 0:
            return None
        if self._pid != os.getpid():  # we were forked: the parent's workers are not ours
            self._executor, self._pid = None, os.getpid()
        if self._executor is None:
            try:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(_PRELOAD)
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=context,
                    initializer=_start_worker,
                    initargs=(os.getpid(),),
                )
            except (OSError, ValueError) as exc:
                log.warning("cannot start analysis workers (%s); analysing in-process", exc)
                self.processes = 0
                return None
        return self._executor


_NICENESS = 10  # below the poller, whose writes are the pipeline's slowest stage


def _start_worker(poller_pid: int) -> None:
    """Each worker: yield the CPU to the poller (and web requests), leave when the poller
    does, and load the language model now."""
    with contextlib.suppress(OSError):
        os.nice(_NICENESS)
    _exit_with(poller_pid)
    warm_up()


def _exit_with(pid: int) -> None:
    """End this worker as soon as process ``pid`` ends, however it ends.

    A killed poller cannot shut its pool down, and its workers would wait for work forever
    (each holds both ends of its own task pipe), keeping the fork server and the poller's
    standard output open with them.
    """
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(0)
    except (AttributeError, OSError):  # not Linux 5.3+: fall back to asking every second
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            while _alive(pid):
                time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-poller", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists; another user's
    return True


def default_processes(configured: int = -1) -> int:
    """How many workers: as configured, or for -1 one per CPU this process may use (at most
    4; none with a single CPU, where they could only take turns with the poller)."""
    if configured >= 0:
        return configured
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return min(cpus, 4) if cpus > 1 else 0


__all__ = [
    "AnalysisPool",
    "AnalysisSettings",
    "PendingAnalyses",
    "analyse_batch",
    "default_processes",
]
