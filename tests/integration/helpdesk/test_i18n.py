"""Writing in a language other than the reader's: commands, jobs and mail to people."""

from email import message_from_bytes, policy

from flask_babel import get_translations
from sqlalchemy import select

from helpdesk import i18n, outbox
from helpdesk.models import OutboxMessage, Role
from helpdesk.tickets.notify import send_sla_digest
from helpdesk.tickets.sla_clock import SweepReport
from tests.conftest import NOW


def test_outside_a_request_the_helpdesk_writes_english_unless_told(app):
    with app.app_context():
        assert i18n.gettext("Sign in") == "Sign in"  # no browser to ask: English
        with i18n.language("ja"):
            assert i18n.gettext("Sign in") == "ログイン"
            assert i18n.weekday_names("abbreviated")[0] == "月"
            assert get_translations().gettext("Sign in") == "ログイン"
        with i18n.language("vi"):  # a language the helpdesk does not write: English
            assert i18n.gettext("Sign in") == "Sign in"


def test_a_digest_is_written_in_its_readers_language_to_the_weekday(
    app, make, db_session, frozen_now
):
    desk = make.desk(name_ja="システム窓口")
    make.user(Role.AGENT, desks=[desk])  # no language set: Japanese mail
    ticket = make.ticket(desk=desk, at=NOW)
    ticket.sla_due_at = NOW  # Wednesday 10:00 in Tokyo
    db_session.flush()
    with app.test_request_context(headers={"Accept-Language": "en"}):  # sent while an
        send_sla_digest(SweepReport(breached=[ticket.id]), NOW)  # English reader's request runs
    row = db_session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "sla_digest"))
    mail = message_from_bytes(outbox.rendered(row), policy=policy.default)
    assert mail["Subject"] == "[SLA] 期限が近い・過ぎたチケット 1 件"
    body = mail.get_content()
    assert "期限 2026-11-25 (水) 10:00 JST" in body and "Wed" not in body
