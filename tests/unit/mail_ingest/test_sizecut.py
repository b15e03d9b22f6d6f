"""A message past the size limit (mail_ingest.sizecut): its headers and text are read, and
each file, before or past the cut, is listed with its size or counted."""

from __future__ import annotations

import hashlib
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail_ingest.parse import LISTED_NOT_KEPT, ParsedMessage, parse_message
from tests.support import mailsamples as samples


def _not_kept(msg: ParsedMessage) -> list[tuple[str | None, str]]:
    return [(a.filename, a.not_kept) for a in msg.attachments if a.omitted]


def test_oversized_message_keeps_headers_and_text_but_not_content() -> None:
    raw = samples.big_message(2_000_000)
    msg = parse_message(raw, max_bytes=200_000)
    assert msg.oversized and msg.ok
    assert msg.subject == "big" and msg.text == "Here is a big file."
    (att,) = msg.attachments
    assert (att.filename, att.content, att.omitted, att.sha256) == ("big.pdf", b"", True, "")
    assert 0 < att.size <= 2_000_000
    assert msg.sha256 == hashlib.sha256(raw).hexdigest()
    assert any("exceeds" in e for e in msg.errors)


def test_message_within_the_limit_is_not_oversized() -> None:
    raw = samples.big_message(10_000)
    msg = parse_message(raw, max_bytes=len(raw))
    assert not msg.oversized
    assert len(msg.attachments[0].content) == 10_000


def test_oversized_message_lists_the_parts_past_the_cut() -> None:
    big, after = random.Random(2).randbytes(600_000), [b"x" * 1000] * 30
    names = [f"after{i:02}.pdf" for i in range(30)]
    raw = samples.files_message([("big.pdf", big), *zip(names, after, strict=True)])
    msg = parse_message(raw, max_bytes=300_000)
    assert msg.oversized
    # The file cut in two was seen by the walk; of those past the cut the first are named.
    listed = [("big.pdf", "message_too_large")]
    listed += [(name, "message_too_large") for name in names[:LISTED_NOT_KEPT]]
    assert _not_kept(msg) == listed
    assert msg.not_listed == (("message_too_large", 30 - LISTED_NOT_KEPT),)
    sizes = {a.filename: a.size for a in msg.attachments}
    # The file cut in two is counted whole; the ones past the cut by their own length.
    assert sizes["big.pdf"] == 600_000 and sizes["after00.pdf"] == 1000


def test_oversized_single_file_is_counted_whole() -> None:
    raw = samples.big_message(2_000_000)
    msg = parse_message(raw, max_bytes=200_000)
    (att,) = msg.attachments
    assert (att.filename, att.not_kept, att.size) == ("big.pdf", "message_too_large", 2_000_000)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.integers(0, 3000), min_size=1, max_size=LISTED_NOT_KEPT + 8),
    st.floats(0, 1, exclude_max=True),
    st.booleans(),
)
def test_wherever_the_cut_falls_every_file_is_listed_or_counted(sizes, where, lf) -> None:
    """Each file is listed with its size (the one cut in two as well) or counted."""
    rng = random.Random(len(sizes))
    files = [(f"file{i:02}.bin", rng.randbytes(size)) for i, size in enumerate(sizes)]
    raw = samples.files_message(files)
    raw = raw.replace(b"\r\n", b"\n") if lf else raw
    headers_end = raw.index(b"\n\n" if lf else b"\r\n\r\n") + (2 if lf else 4)
    cut = headers_end + int(where * (len(raw) - headers_end))
    msg = parse_message(raw, max_bytes=cut)
    listed = [a for a in msg.attachments if a.omitted]
    assert not [a for a in msg.attachments if not a.omitted]
    assert len(listed) + sum(count for _, count in msg.not_listed) == len(files)
    names = [a.filename for a in listed]
    assert names == sorted(names) and len(set(names)) == len(names)
    actual = dict(files)
    assert {a.filename: a.size for a in listed} == {n: len(actual[n]) for n in names}
