"""RawStore: content addressing, atomic idempotent writes, key validation."""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from pathlib import Path

import pytest

from mail_ingest import rawstore
from mail_ingest.rawstore import InvalidKeyError, RawStore, Stores, key_for


@pytest.fixture
def store(tmp_path: Path) -> RawStore:
    return RawStore(tmp_path / "raw")


def test_put_returns_sha256_and_shards_the_path(store: RawStore) -> None:
    key = store.put(b"hello")
    assert key == hashlib.sha256(b"hello").hexdigest() == key_for(b"hello")
    assert store.path(key) == store.root / key[:2] / key[2:4] / key
    assert store.path(key).read_bytes() == b"hello"


def test_get_exists_and_open(store: RawStore) -> None:
    key = store.put(b"\x00binary\xff" * 1000)
    assert store.exists(key)
    assert store.get(key) == b"\x00binary\xff" * 1000
    with store.open(key) as stream:
        assert stream.read(7) == b"\x00binary"


def test_put_is_idempotent_and_does_not_rewrite(store: RawStore) -> None:
    key = store.put(b"same")
    before = store.path(key).stat().st_mtime_ns
    os.utime(store.path(key), ns=(1, 1))
    assert store.put(b"same") == key
    assert store.path(key).stat().st_mtime_ns == 1 != before
    assert list(store.keys()) == [key]


def test_a_truncated_object_is_rewritten(store: RawStore) -> None:
    key = store.put(b"complete content")
    store.path(key).write_bytes(b"compl")
    assert not store.verify(key)
    store.put(b"complete content")
    assert store.verify(key)


def test_empty_object(store: RawStore) -> None:
    key = store.put(b"")
    assert store.get(key) == b""


def test_no_temporary_files_are_left_behind(store: RawStore) -> None:
    key = store.put(b"x" * 100_000)
    assert [p.name for p in store.path(key).parent.iterdir()] == [key]


def test_failed_write_removes_the_temporary_file(
    store: RawStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(rawstore.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        store.put(b"lost")
    key = key_for(b"lost")
    assert not store.exists(key)
    assert list(store.path(key).parent.iterdir()) == []


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "a" * 63,
        "a" * 65,
        "A" * 64,
        "g" * 64,
        "/" + "a" * 63,
        "a" * 62 + "/.",
        "",
        "a" * 64 + "\n",
    ],
)
def test_invalid_keys_are_refused(store: RawStore, key: str) -> None:
    for call in (store.get, store.path, store.exists, store.open, store.delete):
        with pytest.raises(InvalidKeyError):
            call(key)


def test_missing_object(store: RawStore) -> None:
    key = "0" * 64
    assert not store.exists(key)
    assert not store.verify(key)
    with pytest.raises(FileNotFoundError):
        store.get(key)


def test_delete(store: RawStore) -> None:
    key = store.put(b"gone soon")
    assert store.delete(key)
    assert not store.exists(key)
    assert not store.delete(key)


def test_stores_are_separate_areas(tmp_path: Path) -> None:
    stores = Stores.under(tmp_path)
    key = stores.quarantine.put(b"MZ evil")
    assert stores.quarantine.exists(key)
    assert not stores.attachments.exists(key)
    assert not stores.raw.exists(key)
    assert stores.quarantine.path(key).is_relative_to(tmp_path / "quarantine")


def test_keys_lists_only_objects(store: RawStore) -> None:
    keys = {store.put(bytes([i])) for i in range(20)}
    (store.root / "stray.txt").write_bytes(b"x")
    assert set(store.keys()) == keys
    assert list(RawStore(store.root / "nothing-here").keys()) == []


def test_stores_sync_flushes_their_filesystem_once(tmp_path, monkeypatch):
    """One flush of the filesystem covers all three stores; nothing is left pending."""
    stores = Stores.under(tmp_path)
    stores.raw.put(b"raw message", sync=False)
    stores.quarantine.put(b"refused file", sync=False)
    calls = []
    monkeypatch.setattr(rawstore, "sync_filesystem", calls.append)
    stores.sync()
    assert calls in ([stores.raw.root], [stores.quarantine.root])  # same filesystem: one call
    assert stores.raw.pending == stores.attachments.pending == stores.quarantine.pending == 0
    stores.sync()
    assert len(calls) == 1


@pytest.mark.skipif(rawstore._SYNCFS is None, reason="no syncfs in this C library")
def test_sync_uses_syncfs_not_a_system_wide_flush(store, monkeypatch):
    """On Linux only the store's filesystem is flushed: os.sync (every disk) is not called."""
    monkeypatch.setattr(rawstore.os, "sync", lambda: pytest.fail("os.sync called"))
    store.put(b"some bytes", sync=False)
    store.sync()
    assert store.pending == 0
    assert rawstore.sync_filesystem(store.root) is None


def test_syncfs_failure_is_an_error_naming_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(rawstore, "_SYNCFS", lambda fd: -1)
    with pytest.raises(OSError, match=str(tmp_path)):
        rawstore.sync_filesystem(tmp_path)


def test_a_temporary_name_left_by_a_crash_is_stepped_over(tmp_path, monkeypatch):
    store = RawStore(tmp_path)
    data = b"stored after a crash"
    key = key_for(data)
    folder = tmp_path / key[:2] / key[2:4]
    folder.mkdir(parents=True)
    (folder / f".tmp-{os.getpid()}-0").write_bytes(b"left by a crashed writer")
    monkeypatch.setattr(rawstore, "_TEMPORARY_NAMES", itertools.count())
    assert store.put(data) == key
    assert store.get(key) == data
    assert (folder / f".tmp-{os.getpid()}-0").read_bytes() == b"left by a crashed writer"
    assert oct((folder / key).stat().st_mode & 0o777) == oct(0o640)


def test_a_background_flush_is_waited_for_by_sync(tmp_path, monkeypatch):
    stores = Stores.under(tmp_path)
    started, release = threading.Event(), threading.Event()
    flushed = []

    def slow_syncfs(root):
        started.set()
        assert release.wait(5)
        flushed.append(root)

    monkeypatch.setattr(rawstore, "sync_filesystem", slow_syncfs)
    stores.raw.put(b"message", sync=False)
    stores.attachments.put(b"file", sync=False)
    stores.sync_in_background()
    assert started.wait(5)
    assert stores.raw.pending == stores.attachments.pending == 0  # taken by the flush
    stores.quarantine.put(b"refused", sync=False)  # written after it started
    threading.Timer(0.2, release.set).start()
    stores.sync()  # waits for the background flush, then flushes what came after
    # One syncfs of their (one) filesystem in the background, one for what came after.
    assert len(flushed) == 2 and flushed[0] in {tmp_path / "raw", tmp_path / "attachments"}
    assert flushed[1] == tmp_path / "quarantine"
    assert stores.quarantine.pending == 0


def test_another_threads_background_flush_is_not_waited_for_nor_raised(tmp_path, monkeypatch):
    stores = Stores.under(tmp_path)
    flushing, release = threading.Event(), threading.Event()

    def stuck_then_broken(root):
        flushing.set()
        assert release.wait(5)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(rawstore, "sync_filesystem", stuck_then_broken)
    stores.raw.put(b"polled message", sync=False)
    poller = threading.Thread(target=stores.sync_in_background)
    poller.start()
    poller.join()
    assert flushing.wait(5)  # the poll's flush has taken the object and is stuck
    # A web request's commit in this thread has nothing of its own to flush: it returns at
    # once, neither waiting for the poll's stuck flush nor seeing its error.
    stores.sync()
    assert not release.is_set()
    release.set()
    stores._disk._executor.shutdown(wait=True)
    assert stores.raw.pending == 1  # the failed flush gave its object back
    flushed = []
    monkeypatch.setattr(rawstore, "sync_filesystem", flushed.append)
    stores.sync()
    assert flushed == [tmp_path / "raw"] and stores.raw.pending == 0


def test_put_with_a_known_key_files_the_bytes_under_it(store: RawStore) -> None:
    data = b"an attachment whose digest the parse worked out"
    assert store.put(data, key=key_for(data), sync=False) == key_for(data)
    assert store.get(key_for(data)) == data
    with pytest.raises(InvalidKeyError):
        store.put(data, key="../../etc/passwd")


def test_put_linked_shares_the_file_of_the_store_that_has_it(tmp_path: Path) -> None:
    stores = Stores.under(tmp_path)
    data = b"a refused message, kept in the raw store already"
    key = stores.raw.put(data, sync=False)
    assert stores.quarantine.put_linked(data, stores.raw, sync=False) == key
    assert stores.quarantine.get(key) == data
    assert os.stat(stores.quarantine.path(key)).st_ino == os.stat(stores.raw.path(key)).st_ino
    assert stores.quarantine.pending == 1
    assert stores.quarantine.put_linked(data, stores.raw) == key  # already there: a no-op


def test_put_linked_writes_a_copy_when_the_source_lacks_it(tmp_path: Path) -> None:
    stores = Stores.under(tmp_path)
    data = b"never stored in raw"
    key = stores.quarantine.put_linked(data, stores.raw, sync=False)
    assert stores.quarantine.get(key) == data and not stores.raw.exists(key)


def test_a_failed_background_flush_fails_the_sync_and_keeps_its_objects(tmp_path, monkeypatch):
    stores = Stores.under(tmp_path)

    def broken(root):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(rawstore, "sync_filesystem", broken)
    stores.raw.put(b"message", sync=False)
    stores.sync_in_background()
    with pytest.raises(OSError, match="Input/output"):
        stores.sync()
    assert stores.raw.pending == 1  # given back: the next sync flushes it
    flushed = []
    monkeypatch.setattr(rawstore, "sync_filesystem", flushed.append)
    stores.sync()
    assert flushed == [tmp_path / "raw"] and stores.raw.pending == 0
