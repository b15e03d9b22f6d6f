"""Benchmark the content digest (mail_ingest.digest.content_digest) against the parse it is part of.

    .venv/bin/python -m bench.content_digest [--n 1500] [--rounds 7]

Prints, for generated enquiries (text, HTML, attachments), the microseconds a message the
digest takes and a whole parse takes (the best of several rounds each), and the digest's share.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mail_ingest.digest import content_digest  # noqa: E402
from mail_ingest.parse import parse_message  # noqa: E402
from tests.support.mailsamples import generate_enquiry  # noqa: E402


def best(rounds: int, work: Callable[[], None]) -> float:
    """The shortest of ``rounds`` runs of ``work``, in seconds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(20261127)
    raws = [generate_enquiry(i, rng) for i in range(args.n)]
    parsed = [parse_message(raw) for raw in raws]

    def parse_all() -> None:
        for raw in raws:
            parse_message(raw)

    def digest_all() -> None:
        for p in parsed:
            content_digest(p.subject, [p.text], [p.html or ""], p.attachments)

    parse_us = best(args.rounds, parse_all) / args.n * 1e6
    digest_us = best(args.rounds, digest_all) / args.n * 1e6
    size = sum(map(len, raws)) / args.n / 1024
    print(f"{args.n} generated enquiries, {size:.1f} KiB on average")
    print(f"parse (digest included): {parse_us:8.1f} us a message")
    print(f"content digest:          {digest_us:8.1f} us a message ({digest_us / parse_us:.1%})")


if __name__ == "__main__":
    main()
