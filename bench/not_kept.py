"""Benchmark parsing the mail that goes past the parser's limits: what listing and counting
the parts not kept costs.

Run from the repository root: ``.venv/bin/python -m bench.not_kept``.

For each mail (a 20 MB file, so the mail is over the 25 MiB message limit; 10,000 small
files, ten times the part limit; 30 MiB of 2,000 files, so most lie past the size cut) prints
the parse time (best of three), the peak of Python's allocations (tracemalloc) and what the
parse kept, listed and counted.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Callable

from mail_ingest.parse import ParsedMessage, parse_message
from tests.support import mailsamples

MAX_MESSAGE_BYTES = 25 * 1024 * 1024


def _mails() -> dict[str, Callable[[], bytes]]:
    return {
        "one 20 MB file": lambda: mailsamples.files_message([("scan.pdf", os.urandom(20_000_000))]),
        "10,000 small files": lambda: mailsamples.many_attachments(10_000),
        "2,000 files of 15 KB": lambda: mailsamples.files_message(
            [(f"f{i:04}.bin", os.urandom(15_000)) for i in range(2_000)]
        ),
    }


def _summary(msg: ParsedMessage) -> str:
    kept = sum(1 for a in msg.attachments if not a.omitted)
    listed = sum(1 for a in msg.attachments if a.omitted)
    counted = sum(count for _, count in msg.not_listed)
    return f"kept {kept}, listed not kept {listed}, counted not kept {counted}"


def main() -> None:
    """Print the figures of each mail."""
    for name, make in _mails().items():
        raw = make()
        times = []
        for _ in range(3):
            start = time.perf_counter()
            parse_message(raw, max_bytes=MAX_MESSAGE_BYTES)
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        msg = parse_message(raw, max_bytes=MAX_MESSAGE_BYTES)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"{name:22} {len(raw) / 1e6:6.1f} MB  parse {min(times):5.2f} s  "
            f"peak {peak / 1e6:5.0f} MB  {_summary(msg)}"
        )


if __name__ == "__main__":
    main()
