"""Files the parser does not keep (a mail over the size limit, too many parts, too deep) are
listed on the ticket and named to the sender, with how to send them instead.

Mail is imported with ``flask mail import`` and the replies are read from the SMTP sink."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import func, select

from helpdesk.models import Attachment, Message, Role, Ticket
from mail_ingest.parse import LISTED_NOT_KEPT, MAX_PARTS
from tests.support import mailsamples
from tests.support.enquiries import COMPLETE_EN, enquiry

BIG = 20_000_000  # over the attachment limit (10 MiB); its mail is over the message limit


@pytest.fixture
def smtp(app, smtp_sink, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_sink.port)
    return smtp_sink


@pytest.fixture
def import_mail(runner, demo, smtp, tmp_path):
    """Import one raw message as the "system" mailbox would get it, then send the outbox;
    returns the mails the sender got."""

    def run(raw: bytes, name: str = "mail.eml") -> list:
        path = tmp_path / name
        path.write_bytes(raw)
        imported = runner.invoke(args=["mail", "import", str(path), "--mailbox", "system"])
        assert imported.exit_code == 0, imported.output
        before = len(smtp.messages)
        sent = runner.invoke(args=["mail", "send"])
        assert sent.exit_code == 0, sent.output
        count = int(re.search(r"sent (\d+)", sent.output).group(1))
        return smtp.wait_for(before + count)[before:]

    return run


@pytest.fixture
def ticket_page(demo, make, login_as, client):
    desks, _ = demo
    login_as(make.user(Role.AGENT, desks=[desks["system"]]))

    def get(ticket_id: int) -> str:
        response = client.get(f"/tickets/{ticket_id}", headers={"Accept-Language": "en"})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return get


def _ticket(db_session, subject):
    return db_session.scalars(select(Ticket).where(Ticket.subject == subject)).one()


def test_a_20_mb_file_is_listed_on_the_ticket_and_in_the_acknowledgement(
    import_mail, ticket_page, db_session
):
    raw = enquiry(
        subject="大きいファイル", attachments=[("scan.pdf", os.urandom(BIG), "application/pdf")]
    )
    (ack,) = import_mail(raw)
    ticket = _ticket(db_session, "大きいファイル")  # a ticket opens: the mail is received

    (row,) = db_session.scalars(
        select(Attachment).join(Message).where(Message.ticket_id == ticket.id)
    )
    assert (row.filename, row.allowed, row.reason, row.size) == (
        "scan.pdf",
        False,
        "message_too_large",
        BIG,
    )
    assert row.storage_key is None

    assert ack.message["Subject"].startswith("【受付】") and ticket.number in ack.message["Subject"]
    body = ack.message.get_content()
    assert "次の添付ファイルは受信できなかったため、保存していません。" in body
    assert "・scan.pdf(19.1 MB): メール全体のサイズが受信できる上限を超えていた" in body
    assert "1 通 25 MB まで、ファイルは 1 つ 10 MB まで" in body and "18 MB" in body

    page = ticket_page(ticket.id)
    assert "This mail was over the size limit (25.0 MB)." in page
    assert "Files not kept: 1." in page
    assert re.search(r"scan\.pdf</span>\s*<span class=\"meta\">19\.1 MB", page)
    assert "Not kept: The mail was larger than the desk accepts" in page


def test_a_mail_of_10000_files_lists_the_cut_with_its_counts(import_mail, ticket_page, db_session):
    raw = mailsamples.many_attachments(10_000, body=COMPLETE_EN)
    (ack,) = import_mail(raw, "many.eml")
    ticket = _ticket(db_session, "many files")

    rows = db_session.execute(
        select(Attachment.reason, func.count())
        .join(Message)
        .where(Message.ticket_id == ticket.id)
        .group_by(Attachment.reason)
    ).all()
    kept = MAX_PARTS - 2  # the root multipart and the text are parts too
    not_listed = 10_000 - kept - LISTED_NOT_KEPT
    assert dict(rows) == {"ok": kept, "too_many_parts": LISTED_NOT_KEPT}
    message = db_session.scalars(select(Message).where(Message.ticket_id == ticket.id)).first()
    assert message.not_listed == {"too_many_parts": not_listed}

    assert ack.message["Subject"].startswith("[Received]")
    body = ack.message.get_content()
    assert "The following files of your mail could not be received, and were not kept:" in body
    named = re.findall(r"^- (f\d{5}\.txt) \(\d+ B\): The mail had more files", body, re.M)
    assert named == [f"f{i:05}.txt" for i in range(kept, kept + LISTED_NOT_KEPT)]
    assert f"- and {not_listed:,} more files" in body and "- and 8,982 more files" in body
    assert "The desk reads up to 1,000 parts of one mail" in body
    assert len(body.splitlines()) < 60  # bounded, whatever the mail held

    page = ticket_page(ticket.id)
    assert "Files not kept: 9,002." in page
    assert "… and 8,982 more not kept: The mail had more files than the desk accepts" in page
    assert page.count("Not kept: ") == LISTED_NOT_KEPT


def _nested(depth: int, text: str, **headers: str) -> bytes:
    """A mail whose one file lies ``depth`` multiparts down (forwards inside forwards)."""
    head = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    raw = f"{head}MIME-Version: 1.0\r\n".encode()
    raw += b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n--b0\r\n'
    raw += b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text.encode() + b"\r\n--b0\r\n"
    for level in range(1, depth):
        raw += f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
    raw += b'Content-Type: application/pdf; name="deep.pdf"\r\n\r\n%PDF-1.4 deep\r\n'
    for level in reversed(range(depth)):
        raw += f"--b{level}--\r\n".encode()
    return raw


def test_a_reply_with_a_file_nested_too_deep_is_told_what_was_not_kept(
    import_mail, ticket_page, db_session
):
    import_mail(enquiry(subject="ログインできません", message_id="<first@example.co.jp>"))
    ticket = _ticket(db_session, "ログインできません")
    raw = _nested(
        15,
        "ファイルを送ります。",
        From="山田 太郎 <yamada@example.co.jp>",
        To="helpdesk@support.example.test",
        Subject=f"Re: [{ticket.number}] ログインできません",
        Message_ID="<deep@example.co.jp>",
        In_Reply_To="<first@example.co.jp>",
    )
    (reply,) = import_mail(raw, "deep.eml")
    assert reply.message["Subject"].startswith("【添付ファイルを受信できません】")
    body = reply.message.get_content()
    assert ticket.number in body and "・deep.pdf(13 B): ファイルがメールの中で深く入れ子" in body
    assert "転送せずに新しいメールに直接添付してお送りください" in body
    assert "パスワード" not in body  # the advice on refused file types is not for this one

    page = ticket_page(ticket.id)
    assert "deep.pdf" in page and "Not kept: The file was nested too deeply" in page


def test_parts_not_kept_stand_on_a_desk_without_the_attachment_policy(
    import_mail, demo, db_session
):
    desks, _ = demo
    desks["system"].applies_attachment_policy = False
    db_session.flush()
    import_mail(mailsamples.many_attachments(MAX_PARTS + 5, body=COMPLETE_EN))
    reasons = db_session.scalars(select(Attachment.reason).where(Attachment.allowed.is_(False)))
    assert list(reasons) == ["too_many_parts"] * 7


def test_a_forbidden_file_still_refuses_the_mail_and_only_it_is_named(import_mail, db_session):
    """A desk that rejects mail with a forbidden file still does; the refusal names the files
    refused, as before (the ones past a limit do not decide it, and are not its reason)."""
    files = [("tool.exe", b"MZ\x90\x00" + b"\x00" * 60)]
    files += [(f"f{i:04}.txt", b"x") for i in range(MAX_PARTS)]
    raw = mailsamples.files_message(files)
    (refusal,) = import_mail(raw, "exe.eml")
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 0
    body = refusal.message.get_content()
    assert "tool.exe" in body and "f0999.txt" not in body and "more files" not in body
    assert "Save As" in body and "1,000 parts" not in body
    # The files past the part limit are on the refused message too, for the quarantine.
    reasons = db_session.scalars(select(Attachment.reason).where(Attachment.allowed.is_(False)))
    assert sorted(reasons) == ["executable_content"] + ["too_many_parts"] * 3
