"""Text of unknown or wrongly declared charset -> str. Pure, and never raises.

Japanese mail is written in ISO-2022-JP, Shift_JIS or EUC-JP, often with the Windows
extensions (circled digits, NEC and IBM kanji) that the standard codecs refuse, and often
declared wrongly or not at all: Shift_JIS sent as "utf-8", UTF-8 as "iso-8859-1", 8-bit
headers with no declaration. ``decode_bytes`` maps a declared charset to the codec that
reads what senders actually send (cp932 for Shift_JIS, cp1252 for Latin-1), and when that
fails guesses: ISO-2022-JP when its escapes are there, UTF-8 when it decodes, else cp932 or
EUC-JP by how plausible the text is, and cp1252 (then Latin-1) last.
"""

from __future__ import annotations

import codecs
import re

_ALIASES: dict[str, str] = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "s-jis": "cp932",
    "ms_kanji": "cp932",
    "csshiftjis": "cp932",
    "windows-31j": "cp932",
    "cp932": "cp932",
    "ms932": "cp932",
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "x-utf-8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "euc-jp": "euc-jp",
    "x-euc-jp": "euc-jp",
    "eucjp": "euc-jp",
    "euc_jp": "euc-jp",
    "cseucpkdfmtjapanese": "euc-jp",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "tis-620": "cp874",
    "iso-8859-8-i": "iso-8859-8",
}
_ISO2022_JP = re.compile(r"^(cs)?iso-?2022-?jp(-\d|-ext|-ms)?$")
_SINGLE_BYTE = {"cp1252", "ascii", "iso8859-1", "iso8859-15", "cp1250", "cp1251"}
_GUESSES = ("cp932", "euc-jp")


def _canonical(declared: str | None) -> str | None:
    """Map a declared charset to the Python codec used to decode it, or None if unknown."""
    name = (declared or "").strip().strip("\"'").lower()
    if not name:
        return None
    if _ISO2022_JP.match(name):
        return "iso-2022-jp"
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def _jis_to_sjis(j1: int, j2: int) -> bytes:
    s1 = (j1 + 1) // 2 + 0x70
    if s1 >= 0xA0:
        s1 += 0x40
    s2 = j2 + 0x1F + (1 if j2 >= 0x60 else 0) if j1 % 2 else j2 + 0x7E
    return bytes((s1, s2))


def _iso2022jp_to_sjis(data: bytes) -> bytes:
    """Rewrite ISO-2022-JP (with the CP50220/50221 extensions) as cp932 bytes."""
    out = bytearray()
    mode = "ascii"
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == 0x1B:
            seq = data[i + 1 : i + 3]
            mode = {b"$B": "jis", b"$@": "jis", b"(I": "kana"}.get(seq, "ascii")
            i += 3
        elif b == 0x0E:
            mode, i = "kana", i + 1
        elif b == 0x0F:
            mode, i = "ascii", i + 1
        elif mode == "jis" and 0x21 <= b <= 0x7E and i + 1 < n and 0x21 <= data[i + 1] <= 0x7E:
            out += _jis_to_sjis(b, data[i + 1])
            i += 2
        elif mode == "kana" and 0x21 <= b <= 0x5F:
            out.append(b + 0x80)
            i += 1
        else:
            out.append(b)
            i += 1
    return bytes(out)


def _decode_iso2022jp(data: bytes) -> str:
    for codec in ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    return _iso2022jp_to_sjis(data).decode("cp932")


_PLAUSIBLE = re.compile(
    r"[\t\n\r\x20-\x7e\u00a0-\u024f\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e\u2460-\u2473]"
)


_ASCII_BYTES = bytes(range(0x80))
_HALFWIDTH_KANA = re.compile(r"[\uff61-\uff9f]")


def _plausibility(text: str) -> float:
    """Share of characters likely in real mail; half-width kana count half (EUC-JP misread)."""
    if not text:
        return 1.0
    kana = len(_HALFWIDTH_KANA.findall(text)) / 2
    return (len(_PLAUSIBLE.findall(text)) + kana) / len(text)


def _guess(data: bytes) -> tuple[str, str]:
    """Decode bytes of unknown charset; returns (text, codec used)."""
    if b"\x1b$B" in data or b"\x1b$@" in data:
        try:
            return _decode_iso2022jp(data), "iso-2022-jp"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best: tuple[float, str, str] | None = None
    for codec in _GUESSES:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        score = _plausibility(text)
        if best is None or score > best[0]:
            best = (score, text, codec)
    # Japanese text is mostly 8-bit; Western text has isolated 8-bit letters among ASCII.
    dense = len(data.translate(None, _ASCII_BYTES)) > 0.3 * len(data)
    if best is not None and (best[0] >= 0.9 or dense):
        return best[1], best[2]
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _strict(data: bytes, codec: str) -> str:
    if codec == "iso-2022-jp":
        return _decode_iso2022jp(data)
    fallback = {"euc_jp": "euc_jis_2004", "cp1252": "latin-1"}.get(codec)
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        if fallback is None:
            raise
        return data.decode(fallback)


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Decode ``data`` declared as ``declared``; returns (text, problem or None). Never raises."""
    if data.isascii() and b"\x1b" not in data:
        return data.decode("ascii"), None
    codec = _canonical(declared)
    if codec in _SINGLE_BYTE:
        # UTF-8 declared as Latin-1 or ASCII is common; real Latin-1 is almost never valid UTF-8.
        try:
            return data.decode("utf-8"), None
        except UnicodeDecodeError:
            pass
    if codec is not None and codec != "ascii":
        try:
            return _strict(data, codec), None
        except (UnicodeDecodeError, LookupError):
            pass
    text, used = _guess(data)
    if declared is None or not declared.strip():
        return text, None
    return text, f"charset {declared!r} did not decode; used {used}"
