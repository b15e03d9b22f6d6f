"""Benchmark the attachment policy on 10,000 attachments of a realistic mix.

Run from the repository root: ``.venv/bin/python -m bench.attachments [COUNT]``.

Prints judgements per second, the share of time spent inside libmagic, and what was read: every
attachment reaches libmagic once, as a prefix of at most ``SNIFF_BYTES`` (and at most the size
limit), and ZIP/OLE2 containers are opened only for files within the limit.
"""

from __future__ import annotations

import collections
import io
import random
import sys
import time
from collections.abc import Callable
from types import SimpleNamespace

from mail_ingest import policy
from tests.support import samplefiles

MAX_BYTES = 10 * 1024 * 1024


def _big_jpeg(width: int, height: int, seed: int) -> bytes:
    """A photo-sized JPEG of noise (compresses like a real photo: hardly at all)."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _scan_pdf(seed: int) -> bytes:
    """A scanned-document PDF: one noisy page image wrapped by Pillow."""
    from PIL import Image

    image = Image.open(io.BytesIO(_big_jpeg(1240, 1754, seed)))
    out = io.BytesIO()
    image.save(out, format="PDF")
    return out.getvalue()


def _big_xlsx(rows: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for n in range(rows):
        sheet.append([f"AB{n:08d}CD", "NGUYEN VAN A", "特定技能1号", n * 3.5])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def build_mix() -> list[tuple[str, list[tuple[str, bytes]], int]]:
    """Return (label, [(filename, content), ...], weight) groups of the realistic mix."""
    return [
        ("pdf", [("在留カード.pdf", samplefiles.pdf()), ("scan.pdf", _scan_pdf(1))], 30),
        (
            "jpeg",
            [("photo.jpg", _big_jpeg(1600, 1200, 2)), ("IMG_0001.JPG", samplefiles.jpeg())],
            18,
        ),
        ("png", [("screenshot.png", samplefiles.png())], 12),
        ("xlsx", [("届出.xlsx", samplefiles.xlsx()), ("名簿.xlsx", _big_xlsx(5000))], 12),
        ("docx", [("問い合わせ.docx", samplefiles.docx())], 8),
        ("xlsx_encrypted", [("protected.xlsx", samplefiles.xlsx_encrypted())], 3),
        ("csv", [("list.csv", samplefiles.csv_table())], 6),
        ("txt", [("memo.txt", samplefiles.plain_text()), (None, samplefiles.plain_text())], 5),
        ("too_large", [("camera-raw.jpg", _big_jpeg(4800, 3200, 3))], 1),
        ("forbidden", _forbidden_samples(), 5),
    ]


def _forbidden_samples() -> list[tuple[str, bytes]]:
    pe = samplefiles.pe_executable()
    return [
        ("setup.exe", pe),
        ("report.pdf", pe),
        ("invoice\u202efdp.exe", samplefiles.pdf()),
        ("files.zip", samplefiles.zip_archive()),
        ("book.xlsx", samplefiles.xlsm()),
        ("logo.svg", samplefiles.svg()),
        ("protected.zip", samplefiles.zip_encrypted_infozip()),
        ("old.xls", samplefiles.legacy_xls(macros=True)),
    ]


class CountingBytesIO(io.BytesIO):
    """A BytesIO that adds up what container parsers read from it."""

    read_total = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        CountingBytesIO.read_total += len(data)
        return data


class TimedSniffer:
    """libmagic, timed separately, with the number and size of the prefixes it was given."""

    def __init__(self, sniff: Callable[[bytes], str]) -> None:
        self.sniff, self.calls, self.bytes, self.largest, self.seconds = sniff, 0, 0, 0, 0.0

    def __call__(self, prefix: bytes) -> str:
        self.calls += 1
        self.bytes += len(prefix)
        self.largest = max(self.largest, len(prefix))
        started = time.perf_counter()
        try:
            return self.sniff(prefix)
        finally:
            self.seconds += time.perf_counter() - started


def draw(mix: list[tuple[str, list[tuple[str, bytes]], int]], count: int) -> list[tuple]:
    """Draw ``count`` attachments from the mix by weight, reproducibly."""
    rng = random.Random(20250401)
    groups = rng.choices(mix, weights=[weight for _, _, weight in mix], k=count)
    return [(label, *rng.choice(files)) for label, files, _ in groups]


def main(count: int = 10_000) -> None:
    """Build the mix once, judge ``count`` attachments, print the figures."""
    started = time.perf_counter()
    attachments = draw(build_mix(), count)
    print(f"built sample set in {time.perf_counter() - started:.1f} s")
    policy.io = SimpleNamespace(BytesIO=CountingBytesIO)  # type: ignore[assignment]
    sniffer = TimedSniffer(policy.sniff_mime)
    reasons: collections.Counter[str] = collections.Counter()
    total_bytes = 0
    started = time.perf_counter()
    for _label, name, content in attachments:
        verdict = policy.judge(name, content, max_bytes=MAX_BYTES, sniff=sniffer)
        reasons[verdict.reason] += 1
        total_bytes += len(content)
    elapsed = time.perf_counter() - started
    policy.io = io
    _report(count, elapsed, sniffer, total_bytes, reasons)


def _report(count: int, elapsed: float, sniffer: TimedSniffer, total: int, reasons: dict) -> None:
    print(f"attachments judged:        {count:,}  ({total / 2**20:,.1f} MiB of content)")
    print(f"judgements per second:     {count / elapsed:,.0f}  ({elapsed:.2f} s)")
    print(f"time inside libmagic:      {sniffer.seconds:.2f} s = {sniffer.seconds / elapsed:.0%}")
    print(f"libmagic calls:            {sniffer.calls:,} (one per attachment)")
    print(
        f"bytes given to libmagic:   {sniffer.bytes / 2**20:,.1f} MiB "
        f"= {sniffer.bytes / total:.1%} of content; largest prefix {sniffer.largest:,} B "
        f"(limit {policy.SNIFF_BYTES:,} B)"
    )
    read = CountingBytesIO.read_total
    print(
        f"bytes read by ZIP/OLE2 parsers: {read / 2**20:,.1f} MiB = {read / total:.1%} of content"
    )
    print("verdicts:", ", ".join(f"{reason} {n}" for reason, n in reasons.most_common()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
