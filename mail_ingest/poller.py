"""Read new messages from an IMAP folder in batches, without loss and without duplicates.

The poller knows IMAP, not the database: a ``Sink`` stores a fetched batch and commits it
together with the new UID checkpoint. Only after that commit is the batch marked on the server
(a keyword flag, or a move to the processed folder). A crash between commit and marking is
repaired at the start of the next poll, which marks everything at or below the checkpoint.
Whether another client has read a message (\\Seen) plays no part: bodies are fetched with
BODY.PEEK and the checkpoint decides what is new.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol

from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted, U

log = logging.getLogger(__name__)

# Batches fetched and handed to the sink's preparation (its workers) before the oldest is
# stored: their raw bytes are held meanwhile, at most MAIL_BATCH_BYTES each. Two measured no
# better than one, and a connection lost mid-poll wastes every batch fetched ahead.
BATCHES_AHEAD = 1

_UID_RE = re.compile(rb"UID (\d+)")
_INTERNALDATE_RE = re.compile(
    rb'INTERNALDATE "\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"'
)
_MONTHS = {
    name: number
    for number, name in enumerate(b"jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)
}


@dataclass(frozen=True)
class ImapSettings:
    """Where a mailbox is and how to mark what has been imported."""

    host: str
    port: int
    username: str
    password: str
    security: str = "ssl"  # ssl | starttls | none
    folder: str = "INBOX"
    processed_folder: str | None = None
    processed_flag: str = "$HelpdeskImported"
    batch_size: int = 200  # messages a batch holds at most...
    batch_bytes: int = 32 * 2**20  # ...and bytes (a bigger message is a batch of its own)
    timeout: float = 30.0


@dataclass(frozen=True)
class Checkpoint:
    """The folder's UIDVALIDITY and the highest UID whose batch is committed."""

    uidvalidity: int | None
    last_uid: int


class Sink(Protocol):
    """Where fetched messages go; implemented by the app over its database."""

    def load_checkpoint(self) -> Checkpoint:
        """The committed checkpoint of this mailbox."""
        ...

    def prepare(self, messages: Sequence[tuple[int, bytes]]) -> Any:
        """Start the work on a batch that needs no database (parsing it, say), to be handed to
        ``store_batch``. The poller prepares the next batch before it stores this one, so the
        two can overlap."""
        ...

    def store_batch(
        self,
        messages: Sequence[tuple[int, bytes]],
        prepared: Any,
        arrived: Mapping[int, datetime],
    ) -> list[str]:
        """Store a batch of (UID, raw bytes), not committed yet; an outcome word for each
        message; must not raise. ``arrived`` holds when the server received each message
        (its INTERNALDATE) by UID, where the server said."""
        ...

    def commit(self, checkpoint: Checkpoint) -> None:
        """Commit the stored messages together with ``checkpoint``."""
        ...


@dataclass
class PollResult:
    """What one poll did."""

    uidvalidity: int = 0
    last_uid: int = 0
    fetched: int = 0
    marked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        """Add one message with ``outcome``."""
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


Progress = Callable[[int, int], None]


def connect(settings: ImapSettings) -> BaseMailBox:
    """Log in to the mailbox server."""
    mailbox: BaseMailBox
    if settings.security == "ssl":
        mailbox = MailBox(settings.host, settings.port, timeout=settings.timeout)
    elif settings.security == "starttls":
        mailbox = MailBoxStartTls(settings.host, settings.port, timeout=settings.timeout)
    else:
        mailbox = MailBoxUnencrypted(settings.host, settings.port, timeout=settings.timeout)
    try:
        return mailbox.login(settings.username, settings.password, initial_folder=None)
    except BaseException:
        mailbox.client.shutdown()  # a refused login leaves the socket open otherwise
        raise


def poll(settings: ImapSettings, sink: Sink, progress: Progress | None = None) -> PollResult:
    """Fetch every message after the checkpoint into ``sink``, batch by batch."""
    result = PollResult()
    mailbox = connect(settings)
    try:
        uidvalidity = int(mailbox.folder.status(settings.folder, ["UIDVALIDITY"])["UIDVALIDITY"])
        mailbox.folder.set(settings.folder)
        checkpoint = sink.load_checkpoint()
        last_uid = checkpoint.last_uid if checkpoint.uidvalidity == uidvalidity else 0
        if checkpoint.uidvalidity not in (None, uidvalidity):
            log.warning(
                "UIDVALIDITY of %s changed (%s -> %s): rereading the folder; stored messages "
                "are recognised by Message-ID",
                settings.folder,
                checkpoint.uidvalidity,
                uidvalidity,
            )
        result.uidvalidity, result.last_uid = uidvalidity, last_uid
        result.marked += _mark_committed(mailbox, settings, last_uid)
        uids = new_uids(mailbox, last_uid)
        # Batches ahead: batch k+1 is fetched and prepared before batch k is stored, so
        # parsing it (in the sink's workers) overlaps writing k. Commit and marking stay in
        # UID order, one batch at a time.
        ahead: deque[tuple[list[int], list[tuple[int, bytes]], Any, dict[int, datetime]]]
        ahead = deque()
        sizes = message_sizes(mailbox, uids)
        # The first batch is a quarter of the others: the workers parse it while nothing else
        # can happen, and the writing starts as soon as it is done. The last ones taper for
        # the same reason: the workers have nothing left to do while the last is written.
        first = max(settings.batch_size // 4, 1)
        batches = batched(uids, sizes, settings.batch_size, settings.batch_bytes, first)
        for batch in tapered(batches, first):
            arrived: dict[int, datetime] = {}
            messages = list(fetch_raw(mailbox, batch, arrived))
            ahead.append((batch, messages, sink.prepare(messages), arrived))
            if len(ahead) > BATCHES_AHEAD:
                _store(mailbox, settings, sink, result, *ahead.popleft())
                _report(progress, result, uids)
        while ahead:
            _store(mailbox, settings, sink, result, *ahead.popleft())
            _report(progress, result, uids)
        mailbox.logout()
    finally:
        _close(mailbox)
    return result


def _store(
    mailbox: BaseMailBox,
    settings: ImapSettings,
    sink: Sink,
    result: PollResult,
    batch: list[int],
    messages: list[tuple[int, bytes]],
    prepared: Any,
    arrived: dict[int, datetime],
) -> None:
    """Store and commit one fetched batch, then mark it on the server."""
    for outcome in sink.store_batch(messages, prepared, arrived):
        result.count(outcome)
    result.fetched += len(messages)
    sink.commit(Checkpoint(result.uidvalidity, batch[-1]))
    result.last_uid = batch[-1]
    result.marked += mark(mailbox, settings, batch)


def _report(progress: Progress | None, result: PollResult, uids: Sequence[int]) -> None:
    if progress is not None:
        progress(result.fetched, len(uids))


def _close(mailbox: BaseMailBox) -> None:
    """Close the socket whatever state the session is in (a broken line cannot LOGOUT)."""
    try:
        mailbox.client.shutdown()
    except (OSError, ValueError):
        log.debug("IMAP socket already closed")


def new_uids(mailbox: BaseMailBox, last_uid: int) -> list[int]:
    """UIDs above ``last_uid``, ascending (``n:*`` also matches the top UID, so filter)."""
    found = mailbox.uids(AND(uid=U(str(last_uid + 1), "*")))
    return sorted(uid for uid in map(int, found) if uid > last_uid)


def chunked(items: Sequence[int], size: int) -> Iterator[list[int]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def batched(
    uids: Sequence[int],
    sizes: Mapping[int, int],
    max_count: int,
    max_bytes: int,
    first_count: int | None = None,
) -> Iterator[list[int]]:
    """Consecutive runs of UIDs of at most ``max_count`` messages and ``max_bytes`` bytes (by
    ``sizes``; an unknown size counts as nothing); a message bigger than ``max_bytes`` makes
    a batch of its own. Big batches cost less a message; the byte limit keeps the memory of
    a batch of large mail bounded. The first batch holds at most ``first_count`` messages
    when given: nothing is written until it is parsed, so a small one starts writing sooner."""
    batch: list[int] = []
    total = 0
    limit = max_count if first_count is None else min(first_count, max_count)
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= limit or total + size > max_bytes):
            yield batch
            batch, total, limit = [], 0, max_count
        batch.append(uid)
        total += size
    if batch:
        yield batch


def tapered(batches: Iterable[list[int]], smallest: int) -> Iterator[list[int]]:
    """The batches, with the last one halved (and its second half again) until the last is
    at most ``smallest``: [.., 200, 150] with 50 gives [.., 200, 75, 38, 37]."""
    last: list[int] | None = None
    for batch in batches:
        if last is not None:
            yield last
        last = batch
    while last is not None and len(last) > smallest:
        half = (len(last) + 1) // 2
        yield last[:half]
        last = last[half:]
    if last:
        yield last


_SIZE_RE = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)")


def message_sizes(mailbox: BaseMailBox, uids: Sequence[int]) -> dict[int, int]:
    """Each message's size in bytes (RFC822.SIZE) by UID, asked for a thousand at a time;
    vanished messages are left out."""
    sizes: dict[int, int] = {}
    for chunk in chunked(uids, 1000):
        for line in _uid_fetch(mailbox, chunk, "(UID RFC822.SIZE)"):
            if not isinstance(line, bytes):
                continue
            uid = size = None
            for found_uid, found_size in _SIZE_RE.findall(line):
                uid = int(found_uid) if found_uid else uid
                size = int(found_size) if found_size else size
            if uid is not None and size is not None:
                sizes[uid] = size
    return sizes


def fetch_raw(
    mailbox: BaseMailBox, uids: Sequence[int], arrived: dict[int, datetime] | None = None
) -> Iterator[tuple[int, bytes]]:
    """The exact bytes of each message, without setting \\Seen; vanished UIDs are skipped.
    When given, ``arrived`` is filled with each message's INTERNALDATE (when the server
    received it) by UID."""
    for item in _uid_fetch(mailbox, uids, "(UID INTERNALDATE BODY.PEEK[])"):
        if not isinstance(item, tuple) or len(item) != 2:
            continue
        match = _UID_RE.search(item[0])
        if match is None:
            continue
        uid = int(match.group(1))
        when = internal_date(item[0])
        if arrived is not None and when is not None:
            arrived[uid] = when
        yield uid, item[1]


def _uid_fetch(mailbox: BaseMailBox, uids: Sequence[int], items: str) -> list[Any]:
    """The response parts of UID FETCH ``items`` for ``uids``; OSError unless the server said
    OK."""
    status, data = mailbox.client.uid("FETCH", ",".join(map(str, uids)), items)
    if status != "OK":
        raise OSError(f"IMAP FETCH failed: {status} {data!r}")
    return data


def internal_date(fetch_line: bytes) -> datetime | None:
    """The INTERNALDATE in a FETCH response line (``"26-Nov-2026 05:35:10 +0900"``), as an
    aware datetime in UTC; None when it is missing or not in RFC 3501's form. Parsed by hand:
    strptime's month names follow the process locale."""
    match = _INTERNALDATE_RE.search(fetch_line)
    if match is None:
        return None
    day, month, year, hour, minute, second, sign, off_h, off_m = match.groups()
    if month.lower() not in _MONTHS:
        return None
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == b"-" else 1)
    try:
        when = datetime(
            int(year), _MONTHS[month.lower()], int(day), int(hour), int(minute), int(second),
            tzinfo=timezone(offset),
        )  # fmt: skip
    except ValueError:  # 31-Feb, 25:00 and the like
        return None
    return when.astimezone(UTC)


def mark(mailbox: BaseMailBox, settings: ImapSettings, uids: Sequence[int]) -> int:
    """Mark committed messages as imported on the server: move them, or set the flag."""
    if not uids:
        return 0
    uid_list = [str(uid) for uid in uids]
    if settings.processed_folder:
        mailbox.move(uid_list, settings.processed_folder)
    else:
        mailbox.flag(uid_list, settings.processed_flag, True)
    return len(uid_list)


def _mark_committed(mailbox: BaseMailBox, settings: ImapSettings, last_uid: int) -> int:
    """Mark what an earlier run committed but could not mark (it crashed or lost the line)."""
    if last_uid <= 0:
        return 0
    if settings.processed_folder:
        criteria = AND(uid=U("1", str(last_uid)))
    else:
        criteria = AND(uid=U("1", str(last_uid)), no_keyword=settings.processed_flag)
    pending = [int(uid) for uid in mailbox.uids(criteria) if int(uid) <= last_uid]
    if pending:
        log.info("marking %d messages committed by an earlier poll", len(pending))
    return mark(mailbox, settings, pending)
