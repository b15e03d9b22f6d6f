"""The outbox against a real SMTP server: sent after commit, retried, never sent twice."""

from datetime import timedelta
from email.policy import compat32

import pytest
from sqlalchemy import select

from helpdesk import clock, outbox
from helpdesk.models import Message, OutboxMessage, OutboxStatus
from helpdesk.outbox import (
    OutgoingMail,
    automatic_replies_by_recipient,
    backoff,
    deliver_due,
    enqueue,
    may_auto_reply,
)


@pytest.fixture
def smtp(app, smtp_sink, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_sink.port)
    return smtp_sink


def _mail(**values):
    fields = {
        "kind": "reply",
        "sender": "helpdesk@support.example.test",
        "recipient": "yamada@example.co.jp",
        "subject": "Re: [HD-2026-000001] ログイン",
        "text": "お問い合わせありがとうございます。",
        "in_reply_to": "q1@example.co.jp",
        "references": ["q0@example.co.jp", "q1@example.co.jp"],
    }
    return OutgoingMail(**{**fields, **values})


def test_enqueued_mail_is_delivered_once_with_threading_headers(db_session, smtp, make):
    ticket = make.ticket()
    item = enqueue(_mail(), ticket)
    db_session.commit()
    report = deliver_due()
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    (received,) = smtp.wait_for(1)
    assert received.rcpt_tos == ["yamada@example.co.jp"]
    message = received.message
    assert message["Message-ID"].strip("<>") == item.message_id
    assert message["In-Reply-To"] == "<q1@example.co.jp>"
    assert message["References"] == "<q0@example.co.jp> <q1@example.co.jp>"
    assert "お問い合わせありがとうございます。" in message.get_content()
    assert item.status is OutboxStatus.SENT
    assert db_session.get(Message, item.message_row_id).sent_at is not None
    assert deliver_due().sent == 0
    assert len(smtp.messages) == 1


def test_mail_not_yet_committed_is_not_sent(db_session, smtp):
    """The outbox sends only what a commit wrote: its caller may still roll the mail back."""
    enqueue(_mail())
    with pytest.raises(RuntimeError, match="uncommitted writes"):
        deliver_due()
    db_session.rollback()
    assert deliver_due().sent == 0
    assert smtp.messages == []


def test_automatic_mail_carries_auto_submitted(db_session, smtp):
    enqueue(_mail(automatic=True, kind="ack"))
    db_session.commit()
    deliver_due()
    assert smtp.wait_for(1)[0].message["Auto-Submitted"] == "auto-replied"


def test_temporary_failure_is_retried_later_with_backoff(db_session, smtp):
    item = enqueue(_mail())
    db_session.commit()
    smtp.fail_next(1, code=451)
    now = clock.now()
    first = deliver_due(now)
    assert (first.sent, first.retried) == (0, 1)
    assert item.attempts == 1 and "451" in item.last_error
    assert item.next_attempt_at == now + backoff(1)
    assert deliver_due(now + timedelta(seconds=1)).sent == 0  # not due yet
    assert deliver_due(now + backoff(1)).sent == 1
    assert len(smtp.wait_for(1)) == 1


def test_server_down_keeps_the_mail_until_it_is_back(db_session, smtp, app):
    item = enqueue(_mail())
    db_session.commit()
    smtp.stop()
    now = clock.now()
    assert deliver_due(now).retried == 1
    smtp.start()
    assert deliver_due(now + timedelta(hours=2)).sent == 1
    assert item.status is OutboxStatus.SENT and item.attempts == 2


def test_gives_up_after_the_configured_attempts(db_session, smtp, app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    item = enqueue(_mail())
    db_session.commit()
    smtp.fail_next(5, code=451)
    now = clock.now()
    deliver_due(now)
    deliver_due(now + timedelta(hours=2))
    assert item.status is OutboxStatus.FAILED
    assert db_session.scalars(select(OutboxMessage)).one().attempts == 2


def test_backoff_grows_to_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(20) == timedelta(hours=1)


def test_per_sender_limit_on_automatic_replies(db_session, app):
    for _ in range(app.config["AUTOREPLY_LIMIT_PER_HOUR"]):
        assert may_auto_reply("Yamada@Example.co.jp")
        enqueue(_mail(automatic=True))
    assert not may_auto_reply("yamada@example.co.jp")
    assert may_auto_reply("yamada@example.co.jp", clock.now() + timedelta(hours=1, seconds=1))
    enqueue(_mail(automatic=False))  # replies written by agents do not count
    assert may_auto_reply("someone-else@example.co.jp")


def test_replies_counted_for_many_recipients_at_once(db_session, app):
    for _ in range(2):
        enqueue(_mail(automatic=True))
    enqueue(_mail(automatic=True, recipient="Other@Example.co.jp"))
    enqueue(_mail(automatic=False, recipient="other@example.co.jp"))
    since = clock.now() - timedelta(hours=1)
    counts = automatic_replies_by_recipient(
        ["YAMADA@example.co.jp", "other@example.co.jp", "nobody@example.co.jp"], since
    )
    assert counts == {"yamada@example.co.jp": 2, "other@example.co.jp": 1}


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"sender_name": "ヘルプデスク（在留支援）", "subject": "【受付】 HD-2026-000123 届出①～③"},
        {"sender_name": "A sender name long enough to need folding " * 2, "automatic": True},
        {"references": [f"ref{i}.long.message.id@mail.example.co.jp" for i in range(6)]},
        {"subject": "x" * 120, "in_reply_to": None, "references": []},
    ],
)
def test_rendered_headers_are_what_the_email_package_folds(values):
    """Short plain headers skip the folding machinery; the bytes are the same as through it."""
    mail = _mail(**values)
    at = clock.now()
    fast = outbox._render(mail, "<fixed@support.example.test>", at)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outbox, "SMTP_COMPAT32", compat32.clone(linesep="\r\n"))
        folded = outbox._render(mail, "<fixed@support.example.test>", at)
    assert fast == folded


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"sender_name": "ヘルプデスク（在留支援）", "recipient": "Yamada.Taro@Example.co.jp"},
        {"automatic": True, "kind": "ack", "in_reply_to": None, "references": []},
    ],
)
def test_mail_is_rendered_from_its_row_when_sent_as_it_would_have_been_at_once(
    db_session, smtp, values
):
    mail = _mail(**values)
    at = clock.now()
    item = enqueue(mail, at=at)
    db_session.commit()
    assert item.raw is None  # the text is kept once, on the outbound message row
    db_session.expire_all()  # rendered from what the database gives back
    expected = outbox._render(mail, f"<{item.message_id}>", at)
    assert outbox.rendered(item) == expected
    smtp.fail_next(1, code=451)
    assert deliver_due(at).retried == 1
    assert item.raw is None
    assert deliver_due(at + backoff(1)).sent == 1
    (received,) = smtp.wait_for(1)
    assert item.raw == expected  # kept as sent
    assert received.message["Message-ID"] == f"<{item.message_id}>"
    assert received.message["To"] == mail.recipient


def test_mail_with_files_is_rendered_at_once(db_session):
    item = enqueue(_mail(attachments=[("a.txt", "text/plain", b"hello")]))
    db_session.commit()
    assert item.raw is not None and b"a.txt" in item.raw and b"aGVsbG8=" in item.raw


def test_mail_whose_row_is_gone_fails_with_a_reason(db_session, smtp, app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 1)
    item = enqueue(_mail())
    db_session.commit()
    db_session.delete(db_session.get(Message, item.message_row_id))
    db_session.commit()
    report = deliver_due()
    assert report.failed == 1 and item.status is OutboxStatus.FAILED
    assert "no longer exists" in item.last_error
    assert smtp.messages == []
