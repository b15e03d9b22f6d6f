"""winmail.dat (mail_ingest.tnef): its files unpacked, a broken one kept as it is."""

from __future__ import annotations

from mail_ingest.parse import parse_message
from mail_ingest.policy import AttachmentOrigin
from tests.support import mailsamples as samples


def test_tnef_winmail_dat_is_unpacked() -> None:
    msg = parse_message(samples.tnef_message())
    files = {a.filename: a for a in msg.attachments}
    assert set(files) == {"report.pdf", "tool.exe"}
    assert files["report.pdf"].content == samples.PDF_BYTES
    assert files["tool.exe"].origin == AttachmentOrigin.TNEF
    assert files["report.pdf"].declared_type == "application/pdf"


def test_broken_winmail_dat_is_kept_as_is_and_noted() -> None:
    garbage = b"not really tnef at all"
    msg = parse_message(samples.tnef_message(raw_tnef=garbage))
    (att,) = msg.attachments
    assert (att.filename, att.content) == ("winmail.dat", garbage)
    assert any("winmail.dat not extracted" in e for e in msg.errors)
