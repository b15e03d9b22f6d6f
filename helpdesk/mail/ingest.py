"""Raw messages into the helpdesk: new tickets, follow-ups, refusals, bounces.

Messages come in batches: the poller's (one batch, one commit, then the IMAP marking) or a
batch of one (the importer, a retry). ``IngestBatch`` loads once what every message of the batch
needs: the routing rules, our own addresses, the desks, which of the batch's Message-IDs and
bytes are already stored, the tickets its replies point at and how many automatic replies each
sender had in the last hour. It keeps these up to date as the batch goes, so a duplicate later in
the batch is caught and a reply later in the batch threads onto a ticket opened earlier in it.

A message is a duplicate when its very bytes are stored already, or when its mailbox holds a
message with the same Message-ID that says the same thing (its content digest, see
``mail_ingest.digest.content_digest``): a second delivery of it, whose relays added other
headers. Such a copy is recorded against the message it repeats (``MessageRepeat``) and nothing
else is made of it. The same Message-ID with other content is a new message that reuses the ID:
it is stored as any other, flagged ``message_id_reused``. A message without a Message-ID is
known by its bytes alone. The raw bytes of every message, duplicates included, go to the raw
store.

Messages are analysed (parsed, routed, their attachments inspected) before the transaction
that stores them begins, usually in worker processes (``mail_ingest.workers``): on SQLite
every transaction holds the write lock, which no parse should keep for its length.
Rows are flushed when the ticket services need ids, and the batch's new rows by the caller's
flush or commit. Nothing here commits. The raw bytes are in the raw store before any row names
them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from helpdesk import audit, clock, outbox
from helpdesk.extensions import db
from helpdesk.mail.replies import acknowledgement_context, queue_reply, refused_files
from helpdesk.models import (
    Attachment,
    Channel,
    Desk,
    Direction,
    IngestFailure,
    Mailbox,
    Message,
    MessageRepeat,
    Ticket,
    TicketCounter,
)
from helpdesk.models.desk import AttachmentAction
from helpdesk.stores import stores
from helpdesk.tickets import services
from helpdesk.tickets.numbers import find_numbers, format_number
from helpdesk.tickets.workflow import TicketStatus
from mail_ingest.parse import parse_message
from mail_ingest.pipeline import Analysis, JudgedAttachment, judge_attachments
from mail_ingest.policy import NOT_KEPT_REASONS, AttachmentReason, Verdict
from mail_ingest.routing import Rule
from mail_ingest.workers import AnalysisSettings, analyse_batch

log = logging.getLogger(__name__)

IN_LIST_CHUNK = outbox.IN_LIST_CHUNK


class UnreadableMessage(ValueError):
    """The message could not be understood at all; it is kept as a failure."""


@dataclass(frozen=True)
class Outcome:
    """What became of one message (the rows' ids are known once the session is flushed)."""

    kind: str  # new_ticket | follow_up | refused | bounce | duplicate | failed
    ticket: Ticket | None = None
    message: Message | None = None

    @property
    def reused_message_id(self) -> bool:
        """The message was kept though its mailbox holds another with its Message-ID."""
        return self.message is not None and self.message.message_id_reused

    @property
    def ticket_id(self) -> int | None:
        """The ticket's id, if the message joined or opened one."""
        return self.ticket.id if self.ticket is not None else None

    @property
    def message_row_id(self) -> int | None:
        """The stored inbound message's id."""
        return self.message.id if self.message is not None else None


def ingest_raw(
    raw: bytes,
    *,
    mailbox: Mailbox | None,
    uid: int | None = None,
    at: datetime | None = None,
    arrived: datetime | None = None,
    analysis: Analysis | None = None,
    dated_by_header: bool = False,
    replies: bool = True,
) -> Outcome:
    """Turn one raw message into rows (flushed, not committed); ``arrived`` is when the mail
    server received it, if known. ``analysis`` is the message's, made before the transaction
    began with ``analysis_settings(mailbox)`` (otherwise it is made here). With
    ``dated_by_header`` (a message imported from a file, which has no server's date) its Date
    header stands in for that. ``replies=False`` sends no automatic reply (mail moved from
    another system was answered there)."""
    at = at or clock.now()
    batch = IngestBatch(mailbox)
    batch.replies_allowed = replies
    if analysis is None:
        analysis = batch.analyse(raw)
    if arrived is None and dated_by_header:
        arrived = analysis.parsed.date  # ignored below when missing or in the future
    batch.prefetch([analysis], at)
    outcome = batch.ingest(raw, analysis, uid, at, arrived=arrived)
    batch.finish()
    db.session.flush()
    return outcome


def analysis_settings(mailbox: Mailbox | None) -> AnalysisSettings:
    """What parsing a message for ``mailbox`` needs (read from the database)."""
    return IngestBatch(mailbox).analysis_settings()


def routing_rules(mailbox: Mailbox | None) -> list[Rule]:
    """The mailbox's routing rules in the router's terms."""
    if mailbox is None:
        return []
    return [
        Rule(
            desk=rule.desk.slug,
            recipient=rule.recipient,
            keywords=tuple(rule.keywords or ()),
            sender_domain=rule.sender_domain,
            priority=rule.priority,
        )
        for rule in mailbox.rules
    ]


def default_desk(mailbox: Mailbox | None) -> Desk:
    """Where mail goes when no rule matches: the mailbox's default, else the first desk."""
    if mailbox is not None:
        return mailbox.default_desk
    return (
        db.session.scalars(
            select(Desk).where(Desk.accepts_email.is_(True)).order_by(Desk.id)
        ).first()
        or db.session.scalars(select(Desk).order_by(Desk.id)).one()
    )


def own_addresses() -> set[str]:
    """Our desks' and mailboxes' addresses: mail from these never gets an automatic reply."""
    desks = db.session.scalars(select(Desk.reply_from)).all()
    mailboxes = db.session.scalars(select(Mailbox.address)).all()
    return {a.lower() for a in [*desks, *mailboxes] if a}


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), IN_LIST_CHUNK):
        yield ordered[start : start + IN_LIST_CHUNK]


class TicketNumbers:
    """Ticket numbers for one batch, taken from the counter in one step per year.

    A block as large as the batch is taken when the first number of a year is needed, and what
    is left is handed back before the batch is written. The counter row stays locked by our
    transaction from the first step to the commit (as it does when numbers are taken one at a
    time), so nobody else can take numbers in between and handing back leaves no gap.
    """

    def __init__(self, prefix: str, size: int) -> None:
        self.prefix = prefix
        self.size = max(size, 1)
        self._blocks: dict[int, list[int]] = {}  # year: [next number, last number taken]

    def take(self, year: int) -> str:
        """The next number of ``year``."""
        block = self._blocks.get(year)
        if block is None or block[0] > block[1]:
            last = self._advance(year, self.size)
            block = self._blocks[year] = [last - self.size + 1, last]
        number, block[0] = block[0], block[0] + 1
        return format_number(self.prefix, year, number)

    def give_back(self) -> None:
        """Return the numbers taken but not used to the counter."""
        connection = db.session.connection()
        for year, (following, last) in self._blocks.items():
            if following <= last:
                connection.execute(
                    update(TicketCounter)
                    .where(TicketCounter.year == year, TicketCounter.last == last)
                    .values(last=following - 1)
                )
        self._blocks.clear()

    @staticmethod
    def _advance(year: int, count: int) -> int:
        connection = db.session.connection()  # Core: no autoflush of the batch's rows
        dialect = connection.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        connection.execute(
            insert(TicketCounter)
            .values(year=year, last=0)
            .on_conflict_do_nothing(index_elements=["year"])
        )
        last: int = connection.execute(
            update(TicketCounter)
            .where(TicketCounter.year == year)
            .values(last=TicketCounter.last + count)
            .returning(TicketCounter.last)
        ).scalar_one()
        return last


class IngestBatch:
    """One batch of messages of one mailbox (or of the importer, ``mailbox=None``)."""

    def __init__(self, mailbox: Mailbox | None, size: int = 1) -> None:
        config = current_app.config
        self.mailbox = mailbox
        self.mailbox_id = mailbox.id if mailbox is not None else None
        self.rules = routing_rules(mailbox)
        self.default_desk = default_desk(mailbox)
        self.own_addresses = own_addresses()
        # With their calendars: loading one lazily mid-batch would flush the rows so far.
        desks = db.session.scalars(select(Desk).options(selectinload(Desk.calendar_overrides)))
        self.desks = {desk.slug: desk for desk in desks}
        self.prefix: str = config["TICKET_NUMBER_PREFIX"]
        self.max_message_bytes: int = config["MAX_MESSAGE_BYTES"]
        self.max_attachment_bytes: int = config["MAX_ATTACHMENT_BYTES"]
        self.reply_limit: int = config["AUTOREPLY_LIMIT_PER_HOUR"]
        self.arrival_max_age = timedelta(hours=config["MAIL_ARRIVAL_MAX_AGE_HOURS"])
        # Message-ID: {content digest: its message (the row's id if stored before the batch)};
        # a digest of None is a row stored before digests were kept, worked out when needed.
        self.stored_ids: dict[str, dict[str | None, Message | int]] = {}
        self.undigested: dict[int, str] = {}  # those rows' raw bytes' digests, by id
        # Message-ID: the row of a message made here (a reply, a note, a web enquiry), which
        # has no raw bytes: mail that carries its Message-ID is a copy of it.
        self.own_ids: dict[str, int] = {}
        self.stored_bytes: set[str] = set()  # raw bytes' digests: messages, copies, failures
        self.stored_threads: dict[str, tuple[int, int]] = {}  # Message-ID: (row id, ticket id)
        self.batch_threads: dict[str, tuple[int, Ticket]] = {}  # the same for this batch's rows
        self.numbered: dict[str, Ticket] = {}
        self.replies: Counter[str] = Counter()
        self.numbers = TicketNumbers(self.prefix, size)
        self.raw_stored = False  # the analysis workers have put every raw message in the store
        self.replies_allowed = True  # automatic replies (acknowledgements, refusals) at all

    def analysis_settings(self) -> AnalysisSettings:
        """What parsing and analysing a message of this batch needs (picklable)."""
        return AnalysisSettings(
            rules=tuple(self.rules),
            default_desk=self.default_desk.slug,
            own_addresses=frozenset(self.own_addresses),
            max_bytes=self.max_message_bytes,
            attachment_max_bytes=self.max_attachment_bytes,
            forbidden_anywhere=frozenset().union(
                *(desk.forbidden_extension_set for desk in self.desks.values())
            ),
        )

    def analyse(self, raw: bytes) -> Analysis:
        """Parse and understand one message with this batch's rules (pure, never raises)."""
        return analyse_batch([raw], self.analysis_settings())[0]

    def prefetch(self, analyses: Sequence[Analysis], at: datetime) -> None:
        """Ask the database once for the whole batch: duplicates, threads, reply counts."""
        self._load_stored([a.message_id for a in analyses], [a.parsed.sha256 for a in analyses])
        self._load_threads(analyses)
        senders = [a.parsed.from_address for a in analyses if a.parsed.from_address]
        # Counted from the batch's first instant: a window that starts a little earlier can
        # only count more, so the hourly limit is never exceeded.
        self.replies = outbox.automatic_replies_by_recipient(senders, at - timedelta(hours=1))

    def _load_stored(self, message_ids: list[str], digests: list[str]) -> None:
        same_mailbox = (
            Message.mailbox_id.is_(None)
            if self.mailbox_id is None
            else Message.mailbox_id == self.mailbox_id
        )
        for chunk in _chunks(message_ids):
            rows = db.session.execute(
                select(Message.message_id, Message.content_sha256, Message.id, Message.raw_sha256)
                .where(same_mailbox, Message.message_id.in_(chunk))
                .order_by(Message.id)
            )
            for message_id, content, row_id, raw_sha256 in rows:
                if message_id is None:
                    continue  # the query asks for none; this tells the type checker so
                if raw_sha256 is None:
                    self.own_ids.setdefault(message_id, row_id)
                    continue
                self.stored_ids.setdefault(message_id, {}).setdefault(content, row_id)
                if content is None:
                    self.undigested[row_id] = raw_sha256
        for chunk in _chunks(digests):
            self.stored_bytes.update(
                db.session.scalars(select(Message.raw_sha256).where(Message.raw_sha256.in_(chunk)))
            )
            self.stored_bytes.update(
                db.session.scalars(
                    select(MessageRepeat.raw_sha256).where(MessageRepeat.raw_sha256.in_(chunk))
                )
            )
            self.stored_bytes.update(
                db.session.scalars(
                    select(IngestFailure.raw_sha256).where(
                        IngestFailure.raw_sha256.in_(chunk), IngestFailure.resolved.is_(False)
                    )
                )
            )

    def _load_threads(self, analyses: Sequence[Analysis]) -> None:
        numbers = {n for a in analyses for n in find_numbers(a.parsed.subject, self.prefix)}
        for chunk in _chunks(numbers):
            for ticket in db.session.scalars(select(Ticket).where(Ticket.number.in_(chunk))):
                self.numbered[ticket.number] = ticket
        references = {
            ref for a in analyses for ref in (a.parsed.in_reply_to, *a.parsed.references) if ref
        }
        for chunk in _chunks(references):
            rows = db.session.execute(
                select(Message.message_id, Message.id, Message.ticket_id).where(
                    Message.message_id.in_(chunk), Message.ticket_id.is_not(None)
                )
            )
            for message_id, row_id, ticket_id in rows:
                if message_id is None or ticket_id is None:
                    continue  # the query asks for neither; this tells the type checker so
                known = self.stored_threads.get(message_id)
                if known is None or known[0] < row_id:
                    self.stored_threads[message_id] = (row_id, ticket_id)

    def finish(self) -> None:
        """Hand back unused ticket numbers; the caller's flush or commit writes the rows."""
        self.numbers.give_back()

    def ingest(
        self,
        raw: bytes,
        analysis: Analysis,
        uid: int | None,
        at: datetime,
        *,
        arrived: datetime | None = None,
    ) -> Outcome:
        """Turn one message of the batch into rows at ``at`` (now); UnreadableMessage if it is
        not mail. ``arrived`` is when the mail server received it (IMAP INTERNALDATE; ignored
        when missing or later than ``at``): the message row's received time, and a new
        ticket's opening and SLA start unless older than MAIL_ARRIVAL_MAX_AGE_HOURS."""
        parsed = analysis.parsed
        if parsed.sha256 in self.stored_bytes:
            return Outcome("duplicate")  # these very bytes: read again, or imported again
        if not self.raw_stored:  # by the analysis workers, on disk already
            stores().raw.put(raw, sync=False, key=parsed.sha256)
        self.stored_bytes.add(parsed.sha256)
        if not parsed.ok:
            raise UnreadableMessage("; ".join(parsed.errors) or "not an email message")
        received = arrived if arrived is not None and arrived < at else at
        repeated = self.same_message(analysis)
        if repeated is not None:
            self._record_repeat(repeated, analysis, uid, at, received)
            return Outcome("duplicate")
        if parsed.is_bounce:
            return self._file_bounce(analysis, uid, at, received)
        ticket = self.find_thread(analysis)
        if ticket is not None and ticket.status is not TicketStatus.CLOSED:
            # The ticket may have moved on since the mail arrived (an agent answered, say):
            # its events happen now, so their order holds.
            return self._follow_up(ticket, analysis, uid, at, received)
        opened = received if at - received <= self.arrival_max_age else at
        return self._new_enquiry(raw, analysis, uid, at, received, opened, previous=ticket)

    def same_message(self, analysis: Analysis) -> Message | int | None:
        """The stored message (or its row's id) of this mailbox with the same Message-ID and
        the same content, if there is one; or the message made here with that Message-ID."""
        if analysis.message_id in self.own_ids:
            return self.own_ids[analysis.message_id]
        known = self.stored_ids.get(analysis.message_id)
        if not known:
            return None
        if None in known:
            self._work_out_contents(known)
        return known.get(analysis.parsed.content_sha256)

    def _work_out_contents(self, known: dict[str | None, Message | int]) -> None:
        """Give rows stored before content digests were kept theirs, from their raw bytes (as
        this batch would parse them), and write it on the row; an unreadable one keeps None."""
        row_id = known.pop(None)
        assert isinstance(row_id, int)  # only rows stored before the batch lack a digest
        try:
            raw = stores().raw.get(self.undigested[row_id])
        except (OSError, ValueError) as exc:
            log.warning("message %s: raw bytes unreadable (%s); taken as different", row_id, exc)
            known.setdefault("", row_id)  # still a message with this Message-ID
            return
        content = parse_message(raw, max_bytes=self.max_message_bytes).content_sha256
        known.setdefault(content, row_id)
        # Core, on the connection: an ORM statement would flush the batch's rows so far.
        db.session.connection().execute(
            update(Message.__table__)
            .where(Message.__table__.c.id == row_id)
            .values(content_sha256=content)
        )

    def _record_repeat(
        self,
        original: Message | int,
        analysis: Analysis,
        uid: int | None,
        at: datetime,
        received: datetime,
    ) -> None:
        """Another copy of a stored message (other bytes, same Message-ID and content): kept
        against it, so an admin sees how often and whence it came."""
        repeat = MessageRepeat(
            raw_sha256=analysis.parsed.sha256,
            mailbox_id=self.mailbox_id,
            imap_uid=uid,
            received_at=received,
            created_at=at,
        )
        if isinstance(original, Message):
            repeat.message = original
        else:
            repeat.message_id = original
        db.session.add(repeat)
        log.info("message %s came again (uid=%s): recorded as a repeat", analysis.message_id, uid)

    def find_thread(self, analysis: Analysis) -> Ticket | None:
        """The ticket a message belongs to: by number in the subject, else by its references."""
        for number in find_numbers(analysis.parsed.subject, self.prefix):
            if number in self.numbered:
                return self.numbered[number]
        ids = [i for i in (analysis.parsed.in_reply_to, *analysis.parsed.references) if i]
        in_batch = [self.batch_threads[i] for i in ids if i in self.batch_threads]
        if in_batch:  # newer than anything stored before the batch
            return max(in_batch, key=lambda found: found[0])[1]
        stored = [self.stored_threads[i] for i in ids if i in self.stored_threads]
        if not stored:
            return None
        return db.session.get(Ticket, max(stored)[1])

    def _thread(self, analysis: Analysis, ticket: Ticket) -> None:
        """Later messages of the batch that name this one or the ticket's number join it."""
        self.batch_threads[analysis.message_id] = (len(self.batch_threads), ticket)
        self.numbered.setdefault(ticket.number, ticket)

    def _desk_for(self, analysis: Analysis) -> Desk:
        desk = self.desks.get(analysis.route.desk)
        if desk is None or not desk.active or not desk.accepts_email:
            return self.default_desk
        return desk

    def _judge(self, desk: Desk, analysis: Analysis) -> list[JudgedAttachment]:
        judged = judge_attachments(
            analysis.parsed.attachments,
            analysis.inspections,
            forbidden_extensions=desk.forbidden_extension_set,
            attachment_max_bytes=self.max_attachment_bytes,
        )
        if desk.applies_attachment_policy:
            return judged
        # Limits stand whatever the desk: a file too large or not kept has nothing to serve.
        return [
            j if j.verdict.reason in _LIMITS else JudgedAttachment(j.attachment, _allowed(j))
            for j in judged
        ]

    def _new_enquiry(
        self,
        raw: bytes,
        analysis: Analysis,
        uid: int | None,
        at: datetime,
        received: datetime,
        opened: datetime,
        previous: Ticket | None,
    ) -> Outcome:
        """A new ticket, opened (and its SLA clock started) at ``opened``: when the message
        arrived, unless that was longer ago than MAIL_ARRIVAL_MAX_AGE_HOURS."""
        desk = previous.desk if previous is not None and previous.desk.accepts_email else None
        desk = desk or self._desk_for(analysis)
        judged = self._judge(desk, analysis)
        refused = _refused(judged)
        if refused and desk.attachment_action is AttachmentAction.REJECT:
            return self._reject(desk, raw, analysis, uid, at, received, judged)
        parsed = analysis.parsed
        needs_fields = desk.requires_fields and not analysis.fields.complete
        status = TicketStatus.AWAITING_INFORMATION if needs_fields else TicketStatus.NEW
        local = clock.to_desk_time(opened, desk.timezone)
        assert local is not None
        ticket = services.open_ticket(
            desk,
            subject=parsed.subject or "(no subject)",
            requester_email=parsed.from_address,
            requester_name=parsed.from_name,
            channel=Channel.EMAIL,
            status=status,
            language=analysis.language.reply_language,
            at=opened,
            number=self.numbers.take(local.year),
            flush=False,
            language_code=analysis.language.code,
            previous_ticket=previous,
        )
        services.apply_fields(ticket, analysis.fields, at=opened)
        message = self._store_message(analysis, uid, at, received, ticket, judged)
        if not needs_fields:
            services.start_clock(ticket, opened)
        not_kept = [j for j in judged if j.verdict.reason in NOT_KEPT_REASONS]
        self._acknowledge(ticket, analysis, at, refused, not_kept, needs_fields)
        audit.record("mail.received", ticket, None, at, message_id=analysis.message_id)
        return Outcome("new_ticket", ticket, message)

    def _follow_up(
        self, ticket: Ticket, analysis: Analysis, uid: int | None, at: datetime, received: datetime
    ) -> Outcome:
        judged = self._judge(ticket.desk, analysis)
        message = self._store_message(analysis, uid, at, received, ticket, judged)
        services.apply_fields(ticket, analysis.fields, at=at)
        ticket.updated_at = at
        if not services.complete_if_ready(ticket, at=at):
            services.customer_replied(ticket, at=at)
        # No acknowledgement names the files not kept: the refusal names them with the rest.
        files = refused_files(judged, analysis.parsed.not_listed)
        if files and self._may_reply(analysis):
            self._reply("refused", ticket.desk, ticket, analysis, at, refused=files)
        audit.record("mail.follow_up", ticket, None, at, message_id=analysis.message_id)
        return Outcome("follow_up", ticket, message)

    def _reject(
        self,
        desk: Desk,
        raw: bytes,
        analysis: Analysis,
        uid: int | None,
        at: datetime,
        received: datetime,
        judged: list[JudgedAttachment],
    ) -> Outcome:
        """Refuse the whole message: keep it (quarantined) and tell the sender why."""
        message = self._store_message(analysis, uid, at, received, None, judged)
        message.refused = True
        message.desk_id = desk.id
        # The raw store has these bytes already: the quarantine's copy is a hard link to them.
        stores().quarantine.put_linked(raw, stores().raw, sync=False, key=analysis.parsed.sha256)
        refused = _refused(judged)
        if self._may_reply(analysis):
            self._reply("refused", desk, None, analysis, at, refused=refused_files(refused))
        audit.record(
            "mail.refused",
            None,
            None,
            at,
            message_id=analysis.message_id,
            desk=desk.slug,
            files=[j.attachment.filename for j in refused],
        )
        return Outcome("refused", None, message)

    def _file_bounce(
        self, analysis: Analysis, uid: int | None, at: datetime, received: datetime
    ) -> Outcome:
        """A delivery report for one of our messages joins that message's ticket."""
        parsed = analysis.parsed
        ticket_id = None
        if parsed.bounced_message_id:
            ticket_id = db.session.scalar(  # the latest, should a sender have reused our ID
                select(Message.ticket_id)
                .where(Message.message_id == parsed.bounced_message_id)
                .order_by(Message.id.desc())
                .limit(1)
            )
        ticket = db.session.get(Ticket, ticket_id) if ticket_id is not None else None
        message = self._store_message(analysis, uid, at, received, ticket, [])
        message.auto_generated = True
        if ticket is not None:
            audit.record(
                "mail.bounce", ticket, None, at, recipients=list(parsed.bounced_recipients)
            )
        return Outcome("bounce", ticket, message)

    def _store_message(
        self,
        analysis: Analysis,
        uid: int | None,
        at: datetime,
        received: datetime,
        ticket: Ticket | None,
        judged: list[JudgedAttachment],
    ) -> Message:
        """The inbound message row with its attachments (written at the next flush), received
        by the mail server at ``received`` and stored at ``at``."""
        parsed = analysis.parsed
        same_id = self.stored_ids.setdefault(analysis.message_id, {})
        message = Message(
            ticket=ticket,
            mailbox_id=self.mailbox_id,
            direction=Direction.INBOUND,
            message_id=analysis.message_id,
            in_reply_to=parsed.in_reply_to,
            references=list(parsed.references),
            from_address=parsed.from_address,
            from_name=parsed.from_name,
            to=list(parsed.to),
            cc=list(parsed.cc),
            subject=parsed.subject[:500],
            text=parsed.text,
            html=parsed.html,
            html_withheld=parsed.html_withheld,
            raw_sha256=parsed.sha256,
            content_sha256=parsed.content_sha256,
            message_id_reused=bool(same_id),
            imap_uid=uid,
            auto_generated=not analysis.may_auto_reply and analysis.no_reply_reason != "",
            refused=False,  # every column set, as on a reply: the flush writes both at once
            oversized=parsed.oversized,
            not_listed=dict(parsed.not_listed) or None,
            received_at=received,
            created_at=at,
        )
        same_id[parsed.content_sha256] = message
        stored = analysis.stored_attachments
        message.attachments = [_attachment_row(item, stored) for item in judged]
        for item in judged:
            if item.attachment.original_filename is not None:
                name = item.attachment.filename or ""
                services.record_renamed(ticket, item.attachment.original_filename, name)
        db.session.add(message)
        if ticket is not None:
            self._thread(analysis, ticket)
        return message

    def _may_reply(self, analysis: Analysis) -> bool:
        sender = analysis.parsed.from_address
        if not self.replies_allowed or not analysis.may_auto_reply or not sender:
            return False
        if self.replies[sender.lower()] >= self.reply_limit:
            log.info("automatic reply to %s suppressed: hourly limit reached", sender)
            return False
        return True

    def _acknowledge(
        self,
        ticket: Ticket,
        analysis: Analysis,
        at: datetime,
        refused: list[JudgedAttachment],
        not_kept: list[JudgedAttachment],
        needs_fields: bool,
    ) -> None:
        """The first reply to a new ticket names the parts not kept; a refusal follows it."""
        if not self._may_reply(analysis):
            return
        files = refused_files(not_kept, analysis.parsed.not_listed)
        if needs_fields:
            missing = list(analysis.fields.missing)
            self._reply(
                "missing_fields", ticket.desk, ticket, analysis, at, missing=missing, not_kept=files
            )
        else:
            context = acknowledgement_context(ticket, now=at)
            self._reply("ack", ticket.desk, ticket, analysis, at, not_kept=files, **context)
        if refused and self._may_reply(analysis):
            self._reply(
                "refused", ticket.desk, ticket, analysis, at, refused=refused_files(refused)
            )

    @staticmethod
    def _reply_to(analysis: Analysis) -> str:
        return analysis.parsed.reply_to or analysis.parsed.from_address or ""

    def _reply(
        self,
        kind: str,
        desk: Desk,
        ticket: Ticket | None,
        analysis: Analysis,
        at: datetime,
        **context: object,
    ) -> None:
        parsed = analysis.parsed
        to = self._reply_to(analysis)
        queue_reply(
            kind,
            desk=desk,
            ticket=ticket,
            to=to,
            lang=ticket.language if ticket is not None else analysis.language.reply_language,
            subject=parsed.subject,
            in_reply_to=parsed.message_id,
            references=parsed.references,
            at=at,
            requester_name=parsed.from_name,
            **context,
        )
        self.replies[to.lower()] += 1


_LIMITS = NOT_KEPT_REASONS | {AttachmentReason.TOO_LARGE}


def _refused(judged: list[JudgedAttachment]) -> list[JudgedAttachment]:
    """The files refused by the desk's policy or as too large: the parts the parser did not
    keep open the ticket all the same (the acknowledgement names them)."""
    return [j for j in judged if not j.verdict.allowed and j.verdict.reason not in NOT_KEPT_REASONS]


def _allowed(item: JudgedAttachment) -> Verdict:
    return replace(
        item.verdict,
        allowed=True,
        reason=AttachmentReason.OK,
        detail="policy not applied on this desk",
    )


def _attachment_row(item: JudgedAttachment, stored: frozenset[str]) -> Attachment:
    """Allowed files go to the servable store (``stored``: the ones the analysis workers put
    there already, which come without their content); refused ones only to the quarantine."""
    part, verdict = item.attachment, item.verdict
    key = None
    if part.sha256 in stored and verdict.allowed:
        key = part.sha256
    elif part.sha256 in stored:  # a desk's list changed since the poll began: rare
        content = stores().attachments.get(part.sha256)
        key = stores().quarantine.put(content, sync=False, key=part.sha256)
    elif part.content and not part.omitted:
        store = stores().attachments if verdict.allowed else stores().quarantine
        key = store.put(part.content, sync=False, key=part.sha256)
    return Attachment(
        filename=part.filename,
        declared_type=part.declared_type[:200],
        detected_type=verdict.detected_type[:200],
        size=part.size or len(part.content),
        sha256=key or "",
        storage_key=key if verdict.allowed else None,
        allowed=verdict.allowed,
        reason=verdict.reason,
        detail=verdict.detail,
        inline=part.inline,
        content_id=part.content_id,
        origin=part.origin,
    )
