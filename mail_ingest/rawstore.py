"""Content-addressed file store for raw messages and attachments.

An object is kept under ``root/ab/cd/<sha256>`` where ``abcd`` are the first four hex digits of
its SHA-256. Writes go to a temporary file in the target folder and are then renamed into
place, so a reader never sees a partial object and a crash leaves at most a ``.tmp-*`` file
behind. Putting the same bytes twice is a no-op, which makes retries after a crash safe.

An object is on disk once the file, the folder that names it and the folders above it up to
the root's own are fsynced (the folders once a process): at once with ``put(sync=True)``, or
for a whole batch at ``sync()``, which the helpdesk runs before it commits rows that name the
objects.

The helpdesk keeps three separate stores (see ``Stores``): ``raw`` for whole messages as
received, ``attachments`` for files agents may download, and ``quarantine`` for refused files,
which are never served.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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


def _create_temporary(folder: str) -> tuple[str, int]:
    """A new file in ``folder`` named by process id and a count (cheaper than random names);
    a name left by a crashed process that had the same id is stepped over."""
    while True:
        tmp = f"{folder}/.tmp-{os.getpid()}-{next(_TEMPORARY_NAMES)}"
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            continue


_SYNC_THREADS = 4  # fsyncs in flight at once: the filesystem commits them together


def _fsync(path: str) -> None:
    """Flush the file or folder ``path`` to disk; one removed since needs nothing."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_all(paths: Iterable[str]) -> None:
    """Flush every file and folder of ``paths`` to disk, a few at a time."""
    with ThreadPoolExecutor(_SYNC_THREADS, thread_name_prefix="store-fsync") as pool:
        for _done in pool.map(_fsync, paths):
            pass


class RawStore:
    """Files named by the SHA-256 of their content, under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._root = str(self.root)
        # Files and folders written with sync=False whose flush waits for sync(), in order.
        self._unsynced: dict[str, None] = {}
        self._lock = threading.Lock()  # stores are shared by a web app's threads
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
        a whole batch of objects. ``key`` is ``key_for(data)`` when the caller has worked it
        out already (it is not checked against the data: a wrong key files the bytes under
        the wrong name).
        """
        key, folder, target = self._place(data, key, sync)
        try:
            if os.stat(target).st_size == len(data):
                return key
        except FileNotFoundError:
            pass
        try:
            self._write_atomically(folder, target, data, sync)
        except FileNotFoundError:  # the folder was removed behind our back
            self._folders.clear()
            self._make_folder(folder, sync)
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
        key, folder, target = self._place(data, key, sync)
        try:
            os.link(f"{source._folder(key)}/{key}", target)
        except FileExistsError:
            return key
        except OSError:  # not in source, or a filesystem that cannot link across these
            return self.put(data, sync=sync, key=key)
        self._settle([target, folder], sync)
        return key

    def _place(self, data: bytes, key: str | None, sync: bool) -> tuple[str, str, str]:
        """The key of ``data`` (``key`` checked, else worked out), its folder (made once a
        process) and its path, as strings."""
        key = key_for(data) if key is None else _check(key)  # hex digits: safe in a path
        folder = self._folder(key)
        if folder not in self._folders:
            self._make_folder(folder, sync)
        return key, folder, f"{folder}/{key}"

    def _make_folder(self, folder: str, sync: bool) -> None:
        """Make ``folder`` (``root/ab/cd``) and the folders it lacks, and flush the entry that
        names each of ``ab/cd``, ``ab`` and the root in the folder above, as ``sync`` says. A
        folder found is flushed as one made: another process may have made it a moment ago
        and not flushed it yet. Each folder once a process."""
        os.makedirs(folder, exist_ok=True)
        chain = (folder, os.path.dirname(folder), self._root)
        new = [name for name in chain if name not in self._folders]
        self._settle([os.path.dirname(name) for name in new], sync)
        self._folders.update(new)

    def _settle(self, paths: list[str], sync: bool) -> None:
        """New entries (and data) in ``paths``: flushed now with ``sync``, else by sync()."""
        if sync:
            for path in paths:
                _fsync(path)
        else:
            with self._lock:
                self._unsynced.update(dict.fromkeys(paths))

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
        self._settle([folder] if sync else [target, folder], sync)

    @property
    def pending(self) -> int:
        """How many files and folders are written but not yet flushed to disk."""
        return len(self._unsynced)

    def sync(self) -> None:
        """Flush every object written with ``sync=False`` (and its folder entry) to disk; if
        that fails, the next ``sync()`` tries them again."""
        with self._lock:
            taken, self._unsynced = self._unsynced, {}
        if not taken:
            return
        try:
            fsync_all(taken)
        except BaseException:
            with self._lock:
                self._unsynced = taken | self._unsynced
            raise

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


@dataclass(frozen=True)
class Stores:
    """The three stores of one installation, each under its own folder."""

    raw: RawStore
    attachments: RawStore
    quarantine: RawStore

    def sync(self) -> None:
        """Flush what any of the three stores wrote without syncing to disk."""
        for store in (self.raw, self.attachments, self.quarantine):
            store.sync()

    @classmethod
    def under(cls, root: Path) -> Stores:
        """Stores in ``root/raw``, ``root/attachments`` and ``root/quarantine``."""
        root = Path(root)
        return cls(
            raw=RawStore(root / "raw"),
            attachments=RawStore(root / "attachments"),
            quarantine=RawStore(root / "quarantine"),
        )
