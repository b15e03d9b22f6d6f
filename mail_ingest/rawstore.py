"""Content-addressed file store for raw messages and attachments.

An object is kept under ``root/ab/cd/<sha256>`` where ``abcd`` are the first four hex digits of
its SHA-256. Writes go to a temporary file in the target folder, are fsynced and then renamed
into place, so a reader never sees a partial object and a crash leaves at most a ``.tmp-*`` file
behind. Putting the same bytes twice is a no-op, which makes retries after a crash safe.

The helpdesk keeps three separate stores (see ``Stores``): ``raw`` for whole messages as
received, ``attachments`` for files agents may download, and ``quarantine`` for refused files,
which are never served.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import itertools
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)

_KEY = re.compile(r"[0-9a-f]{64}")
_FILE_MODE = 0o640
_TEMPORARY_NAMES = itertools.count()


class InvalidKeyError(ValueError):
    """A key that is not 64 lower-case hex digits (and so could escape the store)."""


def key_for(data: bytes) -> str:
    """The store key of ``data``: its SHA-256 in lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def _check(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidKeyError(f"not a store key: {key!r}")
    return key


def _load_syncfs() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        syncfs: Callable[[int], int] = ctypes.CDLL(name, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    return syncfs


_SYNCFS = _load_syncfs()


def sync_filesystem(folder: Path) -> None:
    """Flush the filesystem that holds ``folder`` to disk: Linux's syncfs, which leaves other
    filesystems (the database's, say) alone; elsewhere ``os.sync``, which flushes them all."""
    if _SYNCFS is None:
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if _SYNCFS(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"syncfs({folder}): {os.strerror(err)}")
    finally:
        os.close(fd)


def _create_temporary(folder: str) -> tuple[str, int]:
    """A new file in ``folder`` named by process id and a count (cheaper than random names);
    a name left by a crashed process that had the same id is stepped over."""
    while True:
        tmp = f"{folder}/.tmp-{os.getpid()}-{next(_TEMPORARY_NAMES)}"
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            continue


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RawStore:
    """Files named by the SHA-256 of their content, under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._root = str(self.root)
        self._unsynced: set[str] = set()  # paths of objects written but not flushed
        self._folders: set[str] = set()  # made (or found) by this process: no mkdir each put

    def path(self, key: str) -> Path:
        """Where the object ``key`` lives (whether or not it exists)."""
        return Path(self._folder(_check(key)), key)

    def _folder(self, key: str) -> str:
        """The folder of object ``key`` (a checked or computed key), as a string: put builds
        its paths without pathlib, which cost more than the write."""
        return f"{self._root}/{key[:2]}/{key[2:4]}"

    def exists(self, key: str) -> bool:
        """Whether the object ``key`` is stored."""
        return self.path(key).is_file()

    def put(self, data: bytes, *, sync: bool = True, key: str | None = None) -> str:
        """Store ``data`` and return its key; a no-op when it is already stored.

        With ``sync=False`` the file is written and renamed into place but its flush to disk
        is left to ``sync()``, which a caller runs once before committing rows that refer to
        a whole batch of objects (one flush instead of two fsyncs an object). ``key`` is
        ``key_for(data)`` when the caller has worked it out already (it is not checked
        against the data: a wrong key files the bytes under the wrong name).
        """
        key, folder, target = self._place(data, key)
        try:
            if os.stat(target).st_size == len(data):
                return key
        except FileNotFoundError:
            pass
        try:
            self._write_atomically(folder, target, data, sync)
        except FileNotFoundError:  # the folder was removed behind our back
            os.makedirs(folder, exist_ok=True)
            self._write_atomically(folder, target, data, sync)
        logger.debug("stored %s (%d bytes) in %s", key, len(data), self.root)
        return key

    def put_linked(
        self, data: bytes, source: RawStore, *, sync: bool = True, key: str | None = None
    ) -> str:
        """Store ``data``, which ``source`` holds already, as a hard link to ``source``'s file:
        no second copy on disk and no new inode (creating one is the costly part of a put).
        Where that cannot be (another filesystem, or ``source`` lacks it) it is a ``put``.
        ``key`` as for ``put``."""
        key, folder, target = self._place(data, key)
        try:
            os.link(f"{source._folder(key)}/{key}", target)
        except FileExistsError:
            return key
        except OSError:  # not in source, or a filesystem that cannot link across these
            return self.put(data, sync=sync, key=key)
        self._settle(folder, target, sync)
        return key

    def _place(self, data: bytes, key: str | None) -> tuple[str, str, str]:
        """The key of ``data`` (``key`` checked, else worked out), its folder (made once a
        process) and its path, as strings."""
        key = key_for(data) if key is None else _check(key)  # hex digits: safe in a path
        folder = self._folder(key)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        return key, folder, f"{folder}/{key}"

    def _settle(self, folder: str, target: str, sync: bool) -> None:
        """A new name in ``folder``: flushed now with ``sync``, else left to ``sync()``."""
        if sync:
            _fsync_dir(Path(folder))
        else:
            self._unsynced.add(target)

    def _write_atomically(self, folder: str, target: str, data: bytes, sync: bool) -> None:
        tmp, fd = _create_temporary(folder)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, _FILE_MODE)  # whatever the umask took away
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._settle(folder, target, sync)

    def note_written(self, key: str) -> None:
        """Count object ``key``, written by another process with ``sync=False``, as this
        store's to flush at the next ``sync()``."""
        self._unsynced.add(f"{self._folder(_check(key))}/{key}")

    @property
    def pending(self) -> int:
        """How many objects are written but not yet flushed to disk."""
        return len(self._unsynced)

    def sync(self) -> None:
        """Flush every object written with ``sync=False`` (and its folder entry) to disk."""
        taken = self.take_pending()
        if taken:
            try:
                sync_filesystem(self.root)
            except BaseException:
                self.give_back_pending(taken)
                raise

    def take_pending(self) -> set[str]:
        """The objects written but not flushed, now the caller's to flush."""
        taken, self._unsynced = self._unsynced, set()
        return taken

    def give_back_pending(self, paths: set[str]) -> None:
        """Objects a failed flush took: flushed at the next ``sync()``."""
        self._unsynced |= paths

    def get(self, key: str) -> bytes:
        """The bytes of object ``key``; FileNotFoundError when it is not stored."""
        return self.path(key).read_bytes()

    def open(self, key: str) -> BinaryIO:
        """Open object ``key`` for streaming (the caller closes it)."""
        return self.path(key).open("rb")

    def verify(self, key: str) -> bool:
        """Whether object ``key`` exists and its content still hashes to ``key``."""
        digest = hashlib.sha256()
        try:
            with self.open(key) as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
        except FileNotFoundError:
            return False
        return digest.hexdigest() == key

    def delete(self, key: str) -> bool:
        """Remove object ``key``; returns whether it existed."""
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def keys(self) -> Iterator[str]:
        """Every stored key (temporary files are skipped)."""
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            if _KEY.fullmatch(path.name) and path.parent.parent.name == path.name[:2]:
                yield path.name


class _Disk:
    """One thread that flushes the stores in the order asked, so the caller goes on (writing
    its rows, say) meanwhile. Each calling thread waits only for the work it handed over, and
    sees only its errors: a web request's commit does not wait on a poll's flush."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._mine = threading.local()  # .work: this thread's unfinished futures

    def submit(self, fn: Callable[[], object]) -> None:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="store-disk")
            future = self._executor.submit(fn)
        self._work().append(future)

    def wait(self) -> None:
        """Wait for everything this thread handed over; raise the first error, if any."""
        work = self._work()
        if not work:
            return
        self._mine.work = []
        errors = [future.exception() for future in work]
        first = next((error for error in errors if error is not None), None)
        if first is not None:
            raise first

    def _work(self) -> list[Future[object]]:
        work: list[Future[object]] | None = getattr(self._mine, "work", None)
        if work is None:
            work = self._mine.work = []
        return work


@dataclass(frozen=True)
class Stores:
    """The three stores of one installation, each under its own folder."""

    raw: RawStore
    attachments: RawStore
    quarantine: RawStore

    # The thread sync_in_background flushes in (a field: the class is frozen).
    _disk: _Disk = field(default_factory=_Disk, repr=False, compare=False)

    def sync(self) -> None:
        """Wait for the flushes this thread started in the background, then flush what any of
        the three stores wrote without syncing since: one syncfs for each filesystem they are
        on (usually one for all three). A failed background flush's error is raised here."""
        self._disk.wait()
        self._flush()

    def sync_in_background(self) -> None:
        """Flush, in the disk thread, what has been written so far, so the disk works while
        the caller goes on (writing its rows, say); ``sync`` waits for it."""
        self._disk.submit(self._flush)

    def _flush(self) -> None:
        """syncfs of the stores with unflushed objects; the objects are taken first (a put
        finishing meanwhile stays pending) and given back if the flush fails."""
        taken = [(store, store.take_pending()) for store in self._pending()]
        try:
            for root in self._roots([store for store, _paths in taken]):
                sync_filesystem(root)
        except BaseException:
            for store, paths in taken:
                store.give_back_pending(paths)
            raise

    def _pending(self) -> list[RawStore]:
        return [store for store in (self.raw, self.attachments, self.quarantine) if store.pending]

    @staticmethod
    def _roots(stores: list[RawStore]) -> list[Path]:
        return list({os.stat(store.root).st_dev: store.root for store in stores}.values())

    @classmethod
    def under(cls, root: Path) -> Stores:
        """Stores in ``root/raw``, ``root/attachments`` and ``root/quarantine``."""
        root = Path(root)
        return cls(
            raw=RawStore(root / "raw"),
            attachments=RawStore(root / "attachments"),
            quarantine=RawStore(root / "quarantine"),
        )
