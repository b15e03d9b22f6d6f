"""Names shown without the characters that disguise them."""

import pytest

from mail_ingest.filenames import revealed, shown_name
from mail_ingest.parse import ParsedAttachment


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("invoice\u202efdp.txt", "invoicefdp.txt"),  # right-to-left override
        ("a\u2067b\u2069.pdf", "ab.pdf"),  # isolates
        ("\u200freport\u200e.docx", "report.docx"),  # marks
        ("pay\u200bment.xlsx", "payment.xlsx"),  # zero-width space
        ("\ufeffname.csv", "name.csv"),
        ("tab\there.txt", "tabhere.txt"),
        ("申請書.pdf", "申請書.pdf"),
        ("تقرير.pdf", "تقرير.pdf"),  # right-to-left letters themselves stay
    ],
)
def test_shown_name(given, shown):
    assert shown_name(given) == shown


def test_a_parsed_attachment_keeps_the_name_it_was_given():
    part = ParsedAttachment("invoice\u202efdp.txt", "text/plain", b"x")
    assert part.filename == "invoicefdp.txt"
    assert part.original_filename == "invoice\u202efdp.txt"
    assert ParsedAttachment("plain.txt", "text/plain", b"x").original_filename is None
    assert ParsedAttachment("\u202e", "text/plain", b"x").filename is None


def test_revealed_writes_the_hidden_characters_out():
    assert revealed("invoice\u202efdp.txt") == "invoice<U+202E>fdp.txt"
    assert revealed("申請書.pdf") == "申請書.pdf"
