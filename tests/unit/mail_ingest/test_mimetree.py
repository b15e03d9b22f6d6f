"""mimetree must give exactly the stdlib's compat32 tree: its own reading of regular mail is
compared with ``email.message_from_bytes`` part by part, and irregular mail must be left to
the stdlib (``read_regular`` gives None)."""

from __future__ import annotations

import email
import random
from email.message import Message
from email.policy import compat32

import pytest

from mail_ingest.mimetree import message_from_bytes, read_regular
from tests.support import mailsamples as samples


def _shape(msg: Message) -> tuple[object, ...]:
    """Everything a parsed tree holds, for comparison."""
    payload = msg.get_payload()
    return (
        type(msg),
        msg.get_unixfrom(),
        list(msg.raw_items()),
        msg.get_default_type(),
        msg.preamble,
        msg.epilogue,
        [type(d).__name__ for d in msg.defects],
        [_shape(p) for p in payload] if isinstance(payload, list) else payload,
    )


def _stdlib(raw: bytes) -> tuple[object, ...]:
    return _shape(email.message_from_bytes(raw, policy=compat32))


def _samples() -> dict[str, bytes]:
    rng = random.Random(7)
    found = {
        "iso2022jp": samples.iso2022jp_message(),
        "cp932": samples.cp932_message(),
        "eucjp": samples.eucjp_message(),
        "utf8 base64": samples.utf8_message("base64"),
        "utf8 8bit": samples.utf8_message("8bit"),
        "split subject": samples.split_subject_message(),
        "filenames": samples.filenames_message(),
        "no message-id": samples.no_message_id(),
        "header only": samples.header_only(),
        "html": samples.html_message(),
        "html only": samples.html_message(with_text=False),
        "inline image": samples.inline_image_message(),
        "forwarded": samples.forwarded_message(),
        "dsn bounce": samples.dsn_bounce(),
        "auto reply": samples.auto_reply(),
        "list mail": samples.list_mail(),
        "tnef": samples.tnef_message(),
        "big": samples.big_message(300_000),
    }
    found.update({f"enquiry {i}": samples.generate_enquiry(i, rng) for i in range(40)})
    return found


SAMPLES = _samples()

NESTED = (
    b"From: a@example.jp\r\nSubject: nested\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
    b"This is a preamble.\r\nOf two lines.\r\n"
    b"--outer\r\n"
    b'Content-Type: multipart/alternative; boundary="inner"\r\n\r\n'
    b"--inner\r\nContent-Type: text/plain\r\n\r\nplain\r\n\r\n"
    b"--inner \t\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n"
    b"--inner--\r\n\r\n"
    b"--outer\r\n\r\nno headers, a blank line first\r\n"
    b"--outer\r\nContent-Type: text/plain\r\nX-Folded: one\r\n\ttwo\r\n\r\n"
    b"--outer--\r\nan epilogue\r\n"
)

REGULAR = {
    "nested, preamble, epilogue, padded boundary": NESTED,
    "line feeds only": NESTED.replace(b"\r\n", b"\n"),
    "inner epilogue of one line ending": NESTED.replace(
        b"--inner--\r\n\r\n", b"--inner--\r\n\r\n\r\n"
    ),
    "close line at the very end": NESTED.replace(b"--outer--\r\nan epilogue\r\n", b"--outer--"),
    "8-bit header": b"From: a@example.jp\r\nSubject: \x93\xfa\x96{\r\n\r\nbody\r\n",
    "no headers": b"\r\njust a body\r\n",
    "boundary text mid-line": NESTED.replace(b"plain\r\n\r\n", b"plain --outer inside\r\n\r\n"),
    # A bare CR or LF inside a body: the stdlib's lines are joined back as they were.
    "bare CR and LF in a body": NESTED.replace(b"\r\n\r\nplain\r\n", b"\r\n\r\npl\rai\nn\r\n"),
}

IRREGULAR = {
    "bare LFs ending header lines": NESTED.replace(b"plain\r\n", b"plain\n"),
    "bare CR line endings": b"Subject: x\r\rbody\rmore\r",
    "a bare LF in a header block": NESTED.replace(b"Subject: nested\r\n", b"Subject: nes\nted\r\n"),
    "a bare CR in a part's headers": NESTED.replace(b"X-Folded: one", b"X-Folded: o\rne"),
    "a boundary after a bare LF": NESTED.replace(b"<p>html</p>\r\n", b"<p>html</p>\n"),
    "a boundary after a bare CR": NESTED.replace(b"plain\r\n\r\n", b"plain\r\n\r"),
    "mbox envelope line": b"From a@example.jp Thu Feb 29 18:00:00 2024\r\n" + NESTED,
    "no close line": NESTED.replace(b"--outer--\r\nan epilogue\r\n", b""),
    "no start line": NESTED.replace(b"--outer\r\n", b"--other\r\n"),
    "two boundary lines in a row": NESTED.replace(b"--outer\r\n\r\n", b"--outer\r\n--outer\r\n"),
    "a line that starts like the boundary": NESTED.replace(b"plain\r\n", b"--outerwear\r\n"),
    "a header line without a colon": NESTED.replace(b"Subject: nested\r\n", b"Subject\r\n"),
    "first header folded": b" folded\r\nSubject: x\r\n\r\nbody\r\n",
    "no blank line after the headers": b"Subject: x\r\nFrom: a@example.jp\r\n",
    "multipart in base64": NESTED.replace(
        b"MIME-Version: 1.0\r\n", b"Content-Transfer-Encoding: base64\r\n"
    ),
    "no boundary parameter": NESTED.replace(b'; boundary="outer"', b""),
    "message/rfc822 part": samples.forwarded_message(),
    "delivery status": samples.dsn_bounce(),
    "digest": NESTED.replace(b"multipart/mixed", b"multipart/digest"),
}


@pytest.mark.parametrize("raw", list(SAMPLES.values()) + list(REGULAR.values()),
                         ids=list(SAMPLES) + list(REGULAR))  # fmt: skip
def test_the_tree_is_the_stdlibs(raw: bytes) -> None:
    assert _shape(message_from_bytes(raw)) == _stdlib(raw)


@pytest.mark.parametrize("raw", list(REGULAR.values()), ids=list(REGULAR))
def test_regular_mail_is_read_without_the_stdlib_parser(raw: bytes) -> None:
    tree = read_regular(raw)
    assert tree is not None
    assert _shape(tree) == _stdlib(raw)


def test_generated_enquiries_are_regular() -> None:
    """The mix the benchmark polls (and most real mail) takes the fast way."""
    enquiries = [raw for name, raw in SAMPLES.items() if name.startswith("enquiry")]
    assert all(read_regular(raw) is not None for raw in enquiries)


@pytest.mark.parametrize("raw", list(IRREGULAR.values()), ids=list(IRREGULAR))
def test_irregular_mail_is_left_to_the_stdlib(raw: bytes) -> None:
    assert read_regular(raw) is None
    assert _shape(message_from_bytes(raw)) == _stdlib(raw)


def _mutate(raw: bytes, rng: random.Random) -> bytes:
    """One random damage of the kind real mail has: lines lost, doubled, cut or re-ended
    (with a bare LF or CR)."""
    lines = raw.split(b"\r\n")
    at = rng.randrange(len(lines))
    kind = rng.randrange(7)
    if kind == 0:
        del lines[at]
    elif kind == 1:
        lines.insert(at, lines[at])
    elif kind == 2:
        lines.insert(at, b"")
    elif kind == 3:
        lines[at] = lines[at][: rng.randrange(len(lines[at]) + 1)]
    elif kind == 4:
        return raw[: rng.randrange(len(raw))]
    else:  # one line ending bare: LF or CR
        bare = b"\n" if kind == 5 else b"\r"
        return b"\r\n".join(lines[:at]) + bare + b"\r\n".join(lines[at:])
    return b"\r\n".join(lines)


def test_damaged_mail_gives_the_stdlibs_tree_either_way() -> None:
    rng = random.Random(20261126)
    sources = [NESTED, *SAMPLES.values()]
    regular = 0
    for _ in range(400):
        raw = _mutate(rng.choice(sources), rng)
        tree = read_regular(raw)
        regular += tree is not None
        assert _shape(message_from_bytes(raw)) == _stdlib(raw), raw[:300]
        assert tree is None or _shape(tree) == _stdlib(raw), raw[:300]
    assert 0 < regular < 400  # both ways were exercised
