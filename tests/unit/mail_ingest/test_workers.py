"""The analysis workers: the same answers as in-process, the bytes stored, and no batch lost
when a worker dies."""

import os
import random
import signal
from dataclasses import replace

import pytest

from mail_ingest.rawstore import RawStore
from mail_ingest.routing import Rule
from mail_ingest.workers import AnalysisPool, AnalysisSettings, analyse_batch, default_processes
from tests.support import mailsamples as samples

SETTINGS = AnalysisSettings(
    rules=(Rule(desk="ssw", recipient="ssw@support.example.jp"),),
    default_desk="helpdesk",
    own_addresses=frozenset({"helpdesk@support.example.jp"}),
    max_bytes=1_000_000,
    attachment_max_bytes=50_000,
)


@pytest.fixture(scope="module")
def raws():
    rng = random.Random(7)
    generated = [samples.generate_enquiry(i, rng) for i in range(24)]
    oddities = [
        samples.iso2022jp_message(),
        samples.cp932_message(),
        samples.filenames_message(),
        samples.forwarded_message(),
        samples.tnef_message(),
        samples.dsn_bounce(),
        samples.load("postfix_bounce.eml"),
    ]
    return [*generated, *oddities, b"not a mail at all \xff\xfe", b""]


@pytest.fixture(scope="module")
def pool():
    workers = AnalysisPool(2)
    assert workers.start()
    yield workers
    workers.close()


def test_workers_answer_exactly_as_the_poller_would_itself(pool, raws):
    pending = pool.submit(raws, SETTINGS)
    assert pending.result() == analyse_batch(raws, SETTINGS)
    assert any(a.parsed.attachments for a in pending.result())
    assert all(len(a.inspections) == len(a.parsed.attachments) for a in pending.result())


def test_workers_put_each_message_in_the_raw_store(pool, raws, tmp_path):
    settings = AnalysisSettings(**{**SETTINGS.__dict__, "raw_store": str(tmp_path)})
    pending = pool.submit(raws[:5], settings)
    analyses = pending.result()
    assert pending.raw_stored
    store = RawStore(tmp_path)
    assert [store.get(a.parsed.sha256) for a in analyses] == raws[:5]


def test_what_a_worker_stores_is_on_disk_before_it_answers(raws, tmp_path, monkeypatch):
    """The poller commits rows naming these objects once it has the analyses: the worker
    fsyncs each file it wrote (and its folder) before handing them back."""
    fsynced = set()
    fsync = os.fsync

    def recording(fd):
        fsynced.add(os.fstat(fd).st_ino)
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    raw_root, attachment_root = tmp_path / "raw", tmp_path / "attachments"
    settings = replace(SETTINGS, raw_store=str(raw_root), attachment_store=str(attachment_root))
    analyses = analyse_batch(raws, settings)
    written = [RawStore(raw_root).path(a.parsed.sha256) for a in analyses]
    written += [
        RawStore(attachment_root).path(key) for a in analyses for key in a.stored_attachments
    ]
    assert len(written) > len(raws)  # some messages have attachments
    assert {os.stat(path).st_ino for path in written} <= fsynced
    assert {os.stat(path.parent).st_ino for path in written} <= fsynced


def test_workers_put_the_attachments_no_desk_refuses(pool, raws, tmp_path):
    forbidden = frozenset({"exe", "zip"})  # the union of every desk's list
    settings = replace(SETTINGS, attachment_store=str(tmp_path), forbidden_anywhere=forbidden)
    analyses = pool.submit(raws, settings).result()
    plain = analyse_batch(raws, SETTINGS)  # in-process, nothing stored
    store = RawStore(tmp_path)
    kinds: dict[str, set[str]] = {"stored": set(), "refused": set()}
    for analysis, expected in zip(analyses, plain, strict=True):
        found = zip(
            analysis.parsed.attachments,
            expected.parsed.attachments,
            expected.inspections,
            strict=True,
        )
        for item, original, inspection in found:
            name = (original.filename or "").lower()
            if name.endswith((".exe", ".zip")) or (inspection and inspection.oversize):
                assert item == original and item.sha256 not in analysis.stored_attachments, name
                kinds["refused"].add(name)
            elif name.endswith((".png", ".pdf")) and original.content:
                # Stored, and sent back without the content the poller no longer needs.
                assert original.sha256 in analysis.stored_attachments, name
                assert store.get(original.sha256) == original.content
                assert item == replace(original, content=b"")
                kinds["stored"].add(name)
        # Otherwise the analysis is the in-process one.
        assert replace(analysis.parsed, attachments=expected.parsed.attachments) == expected.parsed
        assert replace(analysis, parsed=expected.parsed, stored_attachments=frozenset()) == expected
    assert kinds["stored"] and kinds["refused"]  # the sample has both


def test_a_dead_worker_costs_time_not_messages(raws, tmp_path):
    workers = AnalysisPool(2)
    try:
        assert workers.start()
        for pid in workers.worker_pids():
            os.kill(pid, signal.SIGKILL)
        settings = AnalysisSettings(**{**SETTINGS.__dict__, "raw_store": str(tmp_path)})
        pending = workers.submit(raws, settings)
        assert pending.result() == analyse_batch(raws, SETTINGS)
        assert not pending.raw_stored  # done in-process: the caller stores the bytes itself
        # The next batch gets fresh workers.
        again = workers.submit(raws[:3], settings)
        assert again.result() == analyse_batch(raws[:3], SETTINGS)
        assert again.raw_stored and len(workers.worker_pids()) >= 1
    finally:
        workers.close()


def test_no_workers_means_in_process(raws):
    pending = AnalysisPool(0).submit(raws[:3], SETTINGS)
    assert pending.result() == analyse_batch(raws[:3], SETTINGS)
    assert not pending.raw_stored


def test_worker_count_follows_the_setting_and_the_cpus(monkeypatch):
    assert default_processes(0) == 0
    assert default_processes(3) == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert default_processes(-1) == 0  # one CPU: workers would only take turns with the poller
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(16)))
    assert default_processes(-1) == 4


def test_small_batches_do_not_start_the_workers(raws, tmp_path):
    settings = AnalysisSettings(**{**SETTINGS.__dict__, "raw_store": str(tmp_path)})
    workers = AnalysisPool(2, start_at=10)
    try:
        small = workers.submit(raws[:3], settings)
        assert small.result() == analyse_batch(raws[:3], SETTINGS)
        assert not small.raw_stored  # analysed in-process
        assert not workers.running and workers.worker_pids() == []
        large = workers.submit(raws[:12], settings)
        assert large.result() == analyse_batch(raws[:12], SETTINGS) and large.raw_stored
        assert workers.running and workers.worker_pids()
        again = workers.submit(raws[:2], settings)  # running now: used for any batch
        assert again.result() == analyse_batch(raws[:2], SETTINGS) and again.raw_stored
    finally:
        workers.close()
