"""Split a mail body into the sender's new text and the quoted earlier messages."""

from __future__ import annotations

import re

__all__ = ["split_quoted"]

_QUOTE_LINE = re.compile(r"^[ \t\u3000]*[>＞]")
_SEPARATOR = re.compile(
    r"^[ \t\u3000]*-{2,}\s*(?:original message|元のメッセージ|forwarded message|転送メッセージ)"
    r"\s*-{2,}",
    re.I,
)
_UNDERSCORES = re.compile(r"^[ \t\u3000]*_{10,}\s*$")
_WROTE = re.compile(r"(?:wrote|書きました|のメッセージ)\s*[:：]\s*$", re.I)
# Japanese Gmail: "2026年11月25日(水) 10:00 山田 <x@y>:" (no "wrote", just a colon).
_JA_ATTRIBUTION = re.compile(r"^\s*\d{4}年\d{1,2}月\d{1,2}日.*[<＜].*@.*[>＞]\s*[:：]\s*$")
_ON_START = re.compile(r"^\s*(?:On|El|Le|Am)\s.+", re.I)
_HEADER_FIRST = re.compile(r"^[ \t\u3000*]*(?:from|差出人|送信者)\s*\**\s*[:：]", re.I)
_HEADER_NEXT = re.compile(
    r"^[ \t\u3000*]*(?:sent|date|to|cc|subject|送信日時|送信日|日付|日時|宛先|件名)\s*\**\s*[:：]",
    re.I,
)


def split_quoted(text: str) -> tuple[str, str]:
    """Return (new part, quoted part); the signature and inline answers stay in the new part."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    hard = _forwarded_block_start(lines)
    quoted_flags = _quoted_flags(lines[:hard])
    new = [line for line, quoted in zip(lines[:hard], quoted_flags, strict=True) if not quoted]
    quoted = [line for line, flag in zip(lines[:hard], quoted_flags, strict=True) if flag]
    return _trim(new), _trim(quoted + lines[hard:])


def _forwarded_block_start(lines: list[str]) -> int:
    """Index of an unprefixed earlier message (Original Message, Outlook headers), or len."""
    for index, line in enumerate(lines):
        if _SEPARATOR.match(line):
            return index
        if _HEADER_FIRST.match(line) and _has_header_after(lines, index):
            if index > 0 and _UNDERSCORES.match(lines[index - 1]):
                return index - 1
            return index
    return len(lines)


def _quoted_flags(lines: list[str]) -> list[bool]:
    """Mark attribution and ">" lines as quoted; an unprefixed quote after "wrote:" too."""
    flags = [bool(_QUOTE_LINE.match(line)) for line in lines]
    for index, line in enumerate(lines):
        if not (_WROTE.search(line) or _JA_ATTRIBUTION.match(line)):
            continue
        first = _attribution_start(lines, index)
        prefixed_after = any(flags[index + 1 :])
        end = index + 1 if prefixed_after else len(lines)
        for marked in range(first, end):
            flags[marked] = True
        if not prefixed_after:
            break
    return flags


def _attribution_start(lines: list[str], index: int) -> int:
    """An "On ... wrote:" line may be wrapped over two lines; start at the "On" line."""
    if index > 0 and _ON_START.match(lines[index - 1]) and not _ON_START.match(lines[index]):
        return index - 1
    return index


def _has_header_after(lines: list[str], index: int) -> bool:
    """True when another mail header line (Sent:, 送信日時:, ...) follows within 4 lines."""
    return any(_HEADER_NEXT.match(line) for line in lines[index + 1 : index + 5])


def _trim(lines: list[str]) -> str:
    """Join lines, dropping blank lines at both ends but keeping the inner layout."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end])
