"""The poller's reading of IMAP FETCH responses (the server-facing parts are tested against a
real Dovecot in tests/integration/helpdesk/mail/test_polling.py)."""

from datetime import UTC, datetime

import pytest

from mail_ingest.poller import batched, internal_date, tapered


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            b'1 (UID 7 INTERNALDATE "26-Nov-2026 05:35:10 +0900" BODY[] {2048}',
            datetime(2026, 11, 25, 20, 35, 10, tzinfo=UTC),
        ),
        # RFC 3501 pads a one-digit day with a space; offsets west of UTC and in half hours.
        (
            b'2 (UID 8 INTERNALDATE " 1-Jan-2027 00:00:00 -0130" BODY[] {10}',
            datetime(2027, 1, 1, 1, 30, tzinfo=UTC),
        ),
        (
            b'3 (INTERNALDATE "29-feb-2028 23:59:59 +0000" UID 9 BODY[] {10}',
            datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC),
        ),
    ],
)
def test_internaldate_is_read_as_an_aware_instant(line: bytes, expected: datetime) -> None:
    when = internal_date(line)
    assert when == expected and when.tzinfo is UTC


@pytest.mark.parametrize(
    "line",
    [
        b"1 (UID 7 BODY[] {2048}",  # the server did not send it
        b'1 (UID 7 INTERNALDATE "31-Feb-2026 10:00:00 +0000" BODY[] {5}',  # no such day
        b'1 (UID 7 INTERNALDATE "26-Foo-2026 10:00:00 +0000" BODY[] {5}',  # no such month
        b'1 (UID 7 INTERNALDATE "26-Nov-2026 10:00 +0000" BODY[] {5}',  # not RFC 3501's form
    ],
)
def test_a_missing_or_malformed_internaldate_is_none(line: bytes) -> None:
    assert internal_date(line) is None


@pytest.mark.parametrize(
    ("sizes", "max_count", "max_bytes", "expected"),
    [
        # By count when the bytes allow it.
        ({1: 10, 2: 10, 3: 10, 4: 10, 5: 10}, 2, 1000, [[1, 2], [3, 4], [5]]),
        # By bytes when the count allows it: 30 + 30 would pass 50.
        ({1: 30, 2: 30, 3: 10, 4: 10}, 10, 50, [[1], [2, 3, 4]]),
        # A message bigger than the byte limit is a batch of its own, wherever it falls.
        ({1: 10, 2: 500, 3: 10}, 10, 50, [[1], [2], [3]]),
        # An unknown size (the message vanished meanwhile) counts as nothing.
        ({1: 40, 3: 40}, 10, 50, [[1, 2], [3]]),
    ],
)
def test_batches_are_bounded_by_count_and_bytes(sizes, max_count, max_bytes, expected) -> None:
    uids = sorted({*sizes, *(uid for batch in expected for uid in batch)})
    assert list(batched(uids, sizes, max_count, max_bytes)) == expected


def test_no_uids_no_batches() -> None:
    assert list(batched([], {}, 10, 10)) == []


def test_the_first_batch_can_be_smaller() -> None:
    uids = list(range(1, 11))
    sizes = dict.fromkeys(uids, 10)
    assert list(batched(uids, sizes, 4, 1000, first_count=1)) == [
        [1], [2, 3, 4, 5], [6, 7, 8, 9], [10],
    ]  # fmt: skip
    # The byte limit still holds for it, and a first count above the others changes nothing.
    assert list(batched(uids[:3], {1: 600, 2: 600, 3: 10}, 4, 1000, first_count=2)) == [
        [1], [2, 3],
    ]  # fmt: skip
    assert list(batched(uids, sizes, 4, 1000, first_count=9)) == list(batched(uids, sizes, 4, 1000))


def test_the_last_batches_taper() -> None:
    """While the last batch is written the workers are idle: it is halved until small."""
    batches = [list(range(1, 51)), list(range(51, 251)), list(range(251, 401))]
    assert [len(b) for b in tapered(batches, 50)] == [50, 200, 75, 38, 37]
    assert [uid for b in tapered(batches, 50) for uid in b] == list(range(1, 401))
    # Small enough already, or nothing at all: unchanged.
    assert list(tapered([[1, 2], [3]], 2)) == [[1, 2], [3]]
    assert list(tapered([], 2)) == []
    assert list(tapered([[1, 2, 3]], 1)) == [[1, 2], [3]]
