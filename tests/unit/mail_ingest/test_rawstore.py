"""RawStore: content addressing, atomic idempotent writes, key validation."""

from __future__ import annotations

import hashlib
import itertools
import os
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


@pytest.fixture
def fsynced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The inodes of the files and folders fsynced from now on."""
    inodes: list[int] = []
    fsync = os.fsync

    def recording(fd: int) -> None:
        inodes.append(os.fstat(fd).st_ino)
        fsync(fd)

    monkeypatch.setattr(rawstore.os, "fsync", recording)
    return inodes


def _inodes(*paths: Path) -> set[int]:
    return {path.stat().st_ino for path in paths}


def test_sync_flushes_the_object_its_folder_and_the_folders_made_for_it(
    store: RawStore, fsynced: list[int]
) -> None:
    key = store.put(b"a message", sync=False)
    assert fsynced == [] and store.pending
    store.sync()
    path = store.path(key)
    # The file, the folder naming it, and the folder above each folder made: ab/cd is new in
    # ab, ab in the root, and the root in its parent.
    made = [path.parent.parent, store.root, store.root.parent]
    assert sorted(fsynced) == sorted(_inodes(path, path.parent, *made))
    assert store.pending == 0
    store.sync()
    assert len(fsynced) == 5  # nothing left to flush


def test_a_process_that_finds_a_folder_flushes_its_entries_once(
    store: RawStore, fsynced: list[int]
) -> None:
    key = store.put(b"first", sync=False)  # the folders made; this process has not synced
    store.delete(key)
    fsynced.clear()
    again = RawStore(store.root)  # another process finds the folders, and may commit first
    again.put(b"first", sync=False)
    again.sync()
    path = again.path(key)
    chain = [path.parent.parent, store.root, store.root.parent]
    assert sorted(fsynced) == sorted(_inodes(path, path.parent, *chain))
    fsynced.clear()
    # A folder new to it beside the first (same ab/, another cd/): only that folder's entry.
    beside = key[:2] + ("00" if key[2:4] != "00" else "11") + "0" * 60
    second = again.put(b"filed under a key beside the first", key=beside)
    assert sorted(fsynced) == sorted(
        _inodes(again.path(second), again.path(second).parent, again.path(second).parent.parent)
    )


def test_put_with_sync_flushes_before_it_returns(store: RawStore, fsynced: list[int]) -> None:
    key = store.put(b"a failure kept for an admin")
    path = store.path(key)
    assert set(fsynced) == _inodes(
        path, path.parent, path.parent.parent, store.root, store.root.parent
    )
    assert store.pending == 0


def test_an_object_already_stored_needs_no_flush(store: RawStore, fsynced: list[int]) -> None:
    store.put(b"same", sync=False)
    store.sync()
    fsynced.clear()
    store.put(b"same", sync=False)
    store.sync()
    assert fsynced == []


def test_a_failed_sync_keeps_its_objects_for_the_next(
    store: RawStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put(b"a message", sync=False)
    pending = store.pending

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(rawstore.os, "fsync", broken)
    with pytest.raises(OSError, match="Input/output"):
        store.sync()
    assert store.pending == pending
    monkeypatch.undo()
    store.sync()
    assert store.pending == 0


def test_an_object_removed_before_the_sync_is_skipped(store: RawStore) -> None:
    key = store.put(b"refused, then deleted", sync=False)
    store.delete(key)
    store.sync()
    assert store.pending == 0


def test_stores_sync_flushes_all_three(tmp_path: Path, fsynced: list[int]) -> None:
    stores = Stores.under(tmp_path)
    raw = stores.raw.put(b"raw message", sync=False)
    refused = stores.quarantine.put(b"refused file", sync=False)
    stores.sync()
    assert _inodes(stores.raw.path(raw), stores.quarantine.path(refused)) <= set(fsynced)
    assert stores.raw.pending == stores.attachments.pending == stores.quarantine.pending == 0


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
    assert stores.quarantine.pending  # its name in the folder is flushed at sync()
    assert stores.quarantine.put_linked(data, stores.raw) == key  # already there: a no-op


def test_put_linked_writes_a_copy_when_the_source_lacks_it(tmp_path: Path) -> None:
    stores = Stores.under(tmp_path)
    data = b"never stored in raw"
    key = stores.quarantine.put_linked(data, stores.raw, sync=False)
    assert stores.quarantine.get(key) == data and not stores.raw.exists(key)
