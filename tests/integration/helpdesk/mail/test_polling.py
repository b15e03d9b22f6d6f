"""Polling a real Dovecot mailbox into tickets: nothing lost, nothing twice, faults survived."""

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

from sqlalchemy import func, select

from helpdesk import clock, outbox
from helpdesk.extensions import db
from helpdesk.mail.polling import poll_mailbox
from helpdesk.models import (
    Attachment,
    IngestFailure,
    Mailbox,
    Message,
    MessageRepeat,
    OutboxMessage,
    Ticket,
)
from helpdesk.models.desk import AttachmentAction
from helpdesk.models.message import Direction
from helpdesk.stores import stores
from helpdesk.tickets import sla_clock
from mail_ingest.policy import DEFAULT_FORBIDDEN_EXTENSIONS
from mail_ingest.poller import Checkpoint, ImapSettings, poll
from tests.support import reused_ids, samplefiles
from tests.support.enquiries import enquiry

FLAG = "$HelpdeskImported"


def _poll(app, mailbox_id=None):
    with app.app_context():
        mailbox = db.session.scalar(select(Mailbox).where(Mailbox.name == "system"))
        return poll_mailbox(mailbox)


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _mailbox(app):
    with app.app_context():
        mailbox = db.session.scalar(select(Mailbox).where(Mailbox.name == "system"))
        db.session.expunge(mailbox)
        return mailbox


def _append(dovecot, account, n, start=0, **kwargs):
    return [
        dovecot.append(account.address, enquiry(subject=f"問い合わせ {start + i}", **kwargs))
        for i in range(n)
    ]


def test_poll_imports_every_message_once_and_marks_it(
    desk_app, configure, dovecot, mailbox_account
):
    configure(mailbox_account)
    uids = _append(dovecot, mailbox_account, 4)
    dovecot.append(mailbox_account.address, enquiry(subject="既読"), flags=["\\Seen"])
    report = _poll(desk_app)
    assert report.ok, report.error
    assert report.result.fetched == 5 and report.result.outcomes == {"new_ticket": 5}
    assert _count(desk_app, Ticket) == 5
    flags = dovecot.flags(mailbox_account.address)
    assert all(FLAG in flags[uid] for uid in flags) and len(flags) == 5
    assert "\\Seen" not in flags[uids[0]]  # we peeked; other clients still see it as new
    mailbox = _mailbox(desk_app)
    assert mailbox.state == "ok" and mailbox.last_uid == max(flags) and mailbox.uidvalidity
    again = _poll(desk_app)
    assert again.ok and again.result.fetched == 0
    assert _count(desk_app, Ticket) == 5


def test_processed_folder_mode_moves_imported_mail(desk_app, configure, dovecot, mailbox_account):
    configure(mailbox_account, processed_folder="Processed")
    _append(dovecot, mailbox_account, 3)
    assert _poll(desk_app).ok
    assert dovecot.folder_uids(mailbox_account.address) == []
    assert len(dovecot.folder_uids(mailbox_account.address, "Processed")) == 3


def test_marking_lost_after_commit_is_repaired_next_time(
    desk_app, configure, dovecot, mailbox_account
):
    configure(mailbox_account)
    uids = _append(dovecot, mailbox_account, 3)
    assert _poll(desk_app).ok
    # As if the process died after the commit and before the STORE reached the server.
    with dovecot.mailbox(mailbox_account.address) as box:
        box.flag([str(u) for u in uids], FLAG, False)
    report = _poll(desk_app)
    assert report.ok and report.result.fetched == 0 and report.result.marked == 3
    assert all(FLAG in f for f in dovecot.flags(mailbox_account.address).values())
    assert _count(desk_app, Ticket) == 3


def test_a_bad_message_is_kept_and_does_not_block_the_rest(
    desk_app, configure, dovecot, mailbox_account
):
    configure(mailbox_account)
    dovecot.append(mailbox_account.address, b"garbage without any header\r\n\r\n\x00\x01")
    _append(dovecot, mailbox_account, 2)
    report = _poll(desk_app)
    assert report.ok and report.result.outcomes == {"failed": 1, "new_ticket": 2}
    assert _count(desk_app, IngestFailure) == 1 and _count(desk_app, Ticket) == 2
    assert len(dovecot.flags(mailbox_account.address)) == 3
    assert all(FLAG in f for f in dovecot.flags(mailbox_account.address).values())


def test_wrong_password_is_recorded_with_backoff(desk_app, configure, mailbox_account):
    configure(mailbox_account, password="not-the-password")
    first = _poll(desk_app)
    assert not first.ok and "AUTHENTICATIONFAILED" in first.error.upper()
    mailbox = _mailbox(desk_app)
    assert mailbox.state == "error" and mailbox.consecutive_failures == 1
    assert mailbox.next_poll_at > mailbox.last_poll_at
    wait_once = mailbox.next_poll_at - mailbox.last_poll_at
    _poll(desk_app)
    mailbox = _mailbox(desk_app)
    assert mailbox.consecutive_failures == 2
    assert mailbox.next_poll_at - mailbox.last_poll_at == 2 * wait_once


def test_missing_password_variable_is_a_clear_error(
    desk_app, configure, mailbox_account, monkeypatch
):
    configure(mailbox_account)
    monkeypatch.delenv(_mailbox(desk_app).secret_env)
    report = _poll(desk_app)
    assert not report.ok and "is not set in the environment" in report.error


def test_outage_in_the_middle_of_a_poll_loses_and_duplicates_nothing(
    desk_app, configure, dovecot_factory, fault_proxy
):
    server = dovecot_factory()
    address, password = "outage@support.example.test", "secret-pw"
    server.add_user(address, password)
    for i in range(120):
        server.append(
            address,
            enquiry(
                subject=f"outage {i}",
                body="x" * 2000 + "\n機関名: A社\n電話: 03-1111-2222\nWindows 11",
            ),
        )
    proxy = fault_proxy(server.host, server.port)

    class Account:
        pass

    account = Account()
    account.address, account.password, account.host, account.port = (
        address,
        password,
        proxy.host,
        proxy.port,
    )
    configure(account)
    desk_app.config["MAIL_BATCH_SIZE"] = 50

    proxy.reset_after(50 * 2600 + 60 * 2600)  # the connection dies inside the second batch
    broken = _poll(desk_app)
    assert not broken.ok
    committed = _count(desk_app, Ticket)
    # Whole batches before the break are committed with their checkpoint; the rest is not.
    # (The first batch is a quarter of the others: 12, then 50 at a time.)
    assert committed in (12, 62)
    assert _mailbox(desk_app).last_uid == committed
    proxy.pass_through()

    server.stop()  # the server is down for the next poll
    down = _poll(desk_app)
    assert not down.ok and _mailbox(desk_app).state == "error"

    server.start()  # back: polling resumes by itself, without restarting the app
    resumed = _poll(desk_app)
    assert resumed.ok, resumed.error
    with desk_app.app_context():
        subjects = db.session.scalars(select(Ticket.subject)).all()
        inbound = db.session.scalar(
            select(func.count()).select_from(Message).where(Message.mailbox_id.is_not(None))
        )
    assert sorted(subjects) == sorted(f"outage {i}" for i in range(120))
    assert inbound == 120
    assert all(FLAG in f for f in server.flags(address).values())
    assert _mailbox(desk_app).state == "ok" and _mailbox(desk_app).consecutive_failures == 0


def test_slow_server_times_out_and_is_retried(
    desk_app, configure, dovecot, mailbox_account, fault_proxy
):
    proxy = fault_proxy(dovecot.host, dovecot.port)
    _append(dovecot, mailbox_account, 2)

    class Account:
        pass

    account = Account()
    account.address, account.password = mailbox_account.address, mailbox_account.password
    account.host, account.port = proxy.host, proxy.port
    configure(account)
    desk_app.config["IMAP_TIMEOUT"] = 0.5
    proxy.set_latency(1.5)
    slow = _poll(desk_app)
    assert not slow.ok and "timed out" in slow.error.lower()
    proxy.set_latency(0)
    assert _poll(desk_app).ok
    assert _count(desk_app, Ticket) == 2


def test_uidvalidity_change_rereads_the_folder_without_duplicates(
    desk_app, configure, dovecot, mailbox_account
):
    configure(mailbox_account, folder="Support")
    raws = [enquiry(subject=f"uv {i}") for i in range(3)]
    for raw in raws:
        dovecot.append(mailbox_account.address, raw, folder="Support")
    assert _poll(desk_app).ok
    before = _mailbox(desk_app).uidvalidity
    with dovecot.mailbox(mailbox_account.address) as box:
        box.folder.delete("Support")
        box.folder.create("Support")
    for raw in [*raws, enquiry(subject="uv new")]:
        dovecot.append(mailbox_account.address, raw, folder="Support")
    report = _poll(desk_app)
    assert report.ok and report.result.outcomes == {"duplicate": 3, "new_ticket": 1}
    assert _mailbox(desk_app).uidvalidity != before
    assert _count(desk_app, Ticket) == 4


def _settings(account, **batching):
    """The poller's settings for the test account, with the given batch limits."""
    return ImapSettings(
        host=account.host,
        port=account.port,
        username=account.address,
        password=account.password,
        security="none",
        **batching,
    )


class _RecordingSink:
    """A sink that stores nothing and writes down in what order the poller called it."""

    def __init__(self):
        self.calls = []
        self.arrived = {}
        self.checkpoint = Checkpoint(None, 0)

    def load_checkpoint(self):
        return self.checkpoint

    def prepare(self, messages):
        self.calls.append(("prepare", [uid for uid, _raw in messages]))
        return f"prepared {messages[0][0]}"

    def store_batch(self, messages, prepared, arrived):
        self.calls.append(("store", [uid for uid, _raw in messages], prepared))
        self.arrived.update(arrived)
        return ["stored"] * len(messages)

    def commit(self, checkpoint):
        self.calls.append(("commit", checkpoint.last_uid))
        self.checkpoint = checkpoint


def test_the_next_batch_is_prepared_before_this_one_is_stored(dovecot, mailbox_account):
    uids = _append(dovecot, mailbox_account, 5)
    sink = _RecordingSink()
    result = poll(_settings(mailbox_account, batch_size=2), sink)
    # The first batch is a quarter of the others (at least one message), and the last one
    # tapers to that size too.
    first, second, third, fourth = uids[0:1], uids[1:3], uids[3:4], uids[4:5]
    assert sink.calls == [
        ("prepare", first),
        ("prepare", second),
        ("store", first, f"prepared {first[0]}"),
        ("commit", first[-1]),
        ("prepare", third),
        ("store", second, f"prepared {second[0]}"),
        ("commit", second[-1]),
        ("prepare", fourth),
        ("store", third, f"prepared {third[0]}"),
        ("commit", third[-1]),
        ("store", fourth, f"prepared {fourth[0]}"),
        ("commit", fourth[-1]),
    ]
    assert result.fetched == 5 and result.outcomes == {"stored": 5} and result.marked == 5
    assert all(FLAG in flags for flags in dovecot.flags(mailbox_account.address).values())
    # Each message came with the time the server received it (its INTERNALDATE).
    assert sorted(sink.arrived) == uids
    assert all(abs(datetime.now(UTC) - at) < timedelta(minutes=5) for at in sink.arrived.values())


def test_batches_hold_at_most_their_bytes(dovecot, mailbox_account):
    big = "長い本文です。" * 3000  # about 63 KB in UTF-8, base64-encoded by enquiry()
    uids = [
        dovecot.append(mailbox_account.address, enquiry(f"{big}\n{i}", subject=f"大 {i}"))
        for i in range(5)
    ]
    sink = _RecordingSink()
    # Two of these messages fit in a batch's bytes, not three.
    result = poll(_settings(mailbox_account, batch_size=10, batch_bytes=200_000), sink)
    stored = [call[1] for call in sink.calls if call[0] == "store"]
    assert stored == [uids[0:2], uids[2:4], uids[4:5]]
    assert result.fetched == 5 and result.marked == 5


def _append_at(dovecot, account, raw, when):
    """APPEND with an INTERNALDATE: as if the server had received the mail at ``when``."""
    with dovecot.mailbox(account.address) as box:
        box.append(raw, "INBOX", dt=when)


def test_a_new_ticket_opens_when_its_mail_arrived_not_when_it_was_polled(
    desk_app, configure, dovecot, mailbox_account
):
    configure(mailbox_account)
    # The poller was down. One mail came in two hours ago (a Wednesday, Tokyo time), one five
    # days ago, and one nine days ago: longer ago than MAIL_ARRIVAL_MAX_AGE_HOURS (a week).
    now = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 13:00 in Tokyo
    arrivals = {
        "二時間前": now - timedelta(hours=2),
        "五日前": now - timedelta(days=5),
        "九日前": now - timedelta(days=9),
    }
    for subject, when in arrivals.items():
        _append_at(dovecot, mailbox_account, enquiry(subject=subject), when)
    clock.set_now_source(lambda: now)
    try:
        assert _poll(desk_app).ok
    finally:
        clock.set_now_source(None)
    with desk_app.app_context():
        tickets = {t.subject: t for t in db.session.scalars(select(Ticket))}
        fresh, late, stale = (tickets[subject] for subject in arrivals)
        for ticket in tickets.values():  # the message row says when the server received it
            inbound = db.session.scalars(
                select(Message).where(
                    Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND
                )
            ).one()
            assert inbound.received_at == arrivals[ticket.subject] and inbound.created_at == now
        # Opened, and owed an answer, from when the mail arrived: two business hours more
        # of the target are gone than for a mail that arrived at the poll.
        assert fresh.created_at == fresh.sla_started_at == arrivals["二時間前"]
        assert stale.created_at == stale.sla_started_at == now  # too old: from the poll
        assert sla_clock.business_minutes(
            fresh.desk, fresh.first_response_due_at, stale.first_response_due_at
        ) == sla_clock.business_minutes(fresh.desk, arrivals["二時間前"], now)
        # Five days late, the answer is overdue on arrival in the queue, and the
        # acknowledgement makes no promise that is already broken.
        assert late.created_at == arrivals["五日前"] and late.first_response_due_at < now
        assert "回答の目安" in _acknowledgement(fresh) and "回答の目安" in _acknowledgement(stale)
        assert "回答の目安" not in _acknowledgement(late)
        assert late.number in _acknowledgement(late)
        # The SLA sweep, not the poll, declares the breach: so it is audited and escalated
        # like any other.
        report = sla_clock.sweep(now)
        assert late.id in report.breached and fresh.id not in report.breached


def _acknowledgement(ticket):
    (item,) = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)
    ).all()
    return message_from_bytes(outbox.rendered(item), policy=policy.default).get_content()


def test_workers_store_only_what_every_desk_allows(desk_app, configure, dovecot, mailbox_account):
    """A poll big enough to start the analysis workers: they put in the servable store the
    attachments no desk refuses; the poller stores the rest by the desk it chose. Here the
    routed desk refuses PDFs (another desk does not): no PDF may reach the servable store."""
    configure(mailbox_account)
    with desk_app.app_context():
        desk = db.session.scalar(select(Mailbox).where(Mailbox.name == "system")).default_desk
        desk.forbidden_extensions = [*DEFAULT_FORBIDDEN_EXTENSIONS, "pdf"]
        desk.attachment_action = AttachmentAction.STRIP
        db.session.commit()
    files = [("form.pdf", samplefiles.pdf(), "application/pdf")]
    files.append(("photo.jpg", samplefiles.jpeg(), "image/jpeg"))
    _append(dovecot, mailbox_account, 24, attachments=files)  # the workers start at 20
    report = _poll(desk_app)
    assert report.ok and report.result.outcomes == {"new_ticket": 24}
    with desk_app.app_context():
        rows = db.session.scalars(select(Attachment)).all()
        assert len(rows) == 48
        for row in rows:
            if row.filename == "photo.jpg":
                assert row.allowed and stores().attachments.get(row.storage_key) == files[1][1]
            else:
                assert not row.allowed and row.storage_key is None
                assert not stores().attachments.exists(row.sha256)
                assert stores().quarantine.get(row.sha256) == files[0][1]


def test_a_poll_keeps_what_a_reused_message_id_carries_and_records_copies(
    desk_app, configure, dovecot, mailbox_account
):
    """Delivered to the real mailbox: three form-mailer enquiries under one Message-ID, an
    enquiry through two relays, and one of those copies twice (another client copied it)."""
    configure(mailbox_account)
    enquiry_ = reused_ids.multipart_enquiry()
    by_school = reused_ids.relayed(enquiry_, hop="smtp.example-school.jp", queue_id="4X", at="Wed")
    by_isp = reused_ids.relayed(enquiry_, hop="relay.isp.example", queue_id="9QwE7", at="Wed")
    uids = [
        dovecot.append(mailbox_account.address, raw)
        for raw in (
            *(reused_ids.form_mail(body) for body in reused_ids.FORM_BODIES),
            by_school,
            by_isp,
            by_isp,
        )
    ]
    report = _poll(desk_app)
    assert report.ok, report.error
    assert report.result.outcomes == {"new_ticket": 4, "duplicate": 2}
    with desk_app.app_context():
        flags = db.session.execute(
            select(Message.imap_uid, Message.message_id_reused)
            .where(Message.direction == Direction.INBOUND)
            .order_by(Message.imap_uid)
        ).all()
        assert flags == [(uids[0], False), (uids[1], True), (uids[2], True), (uids[3], False)]
        (repeat,) = db.session.scalars(select(MessageRepeat)).all()
        assert (repeat.imap_uid, repeat.message.imap_uid) == (uids[4], uids[3])
        assert stores().raw.get(repeat.raw_sha256).endswith(enquiry_)
        assert b"relay.isp.example" in stores().raw.get(repeat.raw_sha256)
    again = _poll(desk_app)
    assert again.ok and again.result.fetched == 0
    assert _count(desk_app, Ticket) == 4 and _count(desk_app, MessageRepeat) == 1
