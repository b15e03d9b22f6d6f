"""Detect the language of a mail so the desk can answer in Japanese or English.

Script checks come first because they are certain and statistical detectors are weak on short
CJK text: kana means Japanese; Hangul means Korean; Han characters with no kana are Chinese when
there are enough of them to be prose (Japanese prose always has kana) and Japanese when short (a
subject such as 定期報告提出方法). Mostly-Latin text (an English mail with a Japanese
signature, say) goes to py3langid (a naive Bayes model shipped in its wheel, deterministic and
about 0.1 ms a call), on its non-CJK part. Short ASCII-only text (under 40 letters) is taken as
English: detectors guess wildly on a few plain words ("Hello I cannot login." comes out
Italian). Fewer than three letters, or a guess the model is not sure of, is "und"
(undetermined), answered in English. Only the new part of the mail is read unless there is
nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from mail_ingest.quoting import split_quoted

__all__ = ["Language", "detect_language", "warm_up"]

_KANA = re.compile(r"[\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\uff66-\uff9d]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")
_NOISE = re.compile(r"https?://\S+|(?<![\w.+\-])[\w.+\-]++@\S+|[\d_]+")
_MAX_CHARS = 5_000  # plenty to tell a language
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_LATIN_ONLY = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9d]+")
_LATIN_SHARE_FOR_DETECTOR = 0.6
_SHORT_ASCII_LETTERS = 40
_CHINESE_PROSE_MIN_HAN = 15
_MIN_CONFIDENCE = 0.5  # normalised probability; below it the text is mostly field labels
_KANA_SHARE_FOR_JAPANESE = 0.1


@dataclass(frozen=True)
class Language:
    """An ISO 639 code (e.g. "vi", "zh-cn"; "und" if unknown) and the reply language."""

    code: str
    reply_language: Literal["ja", "en"]


def detect_language(text: str) -> Language:
    """Detect the language of a mail's new text; reply in Japanese only to Japanese."""
    new_part, quoted = split_quoted(text)
    cleaned = _NOISE.sub(" ", (new_part if new_part.strip() else quoted)[:_MAX_CHARS])
    code = _by_script(cleaned) or _by_detector(_LATIN_ONLY.sub(" ", cleaned))
    return Language(code, "ja" if code == "ja" else "en")


def _by_script(text: str) -> str | None:
    """Decide from the writing system where that is certain enough."""
    letters = sum(map(str.isalpha, text))
    if letters < 3:
        return "und"
    if len(_LATIN.findall(text)) / letters >= _LATIN_SHARE_FOR_DETECTOR:
        return None  # e.g. an English mail with a Japanese company name in the signature
    kana = len(_KANA.findall(text))
    if kana and kana / letters >= _KANA_SHARE_FOR_JAPANESE:
        return "ja"
    if len(_HANGUL.findall(text)) / letters >= _KANA_SHARE_FOR_JAPANESE:
        return "ko"
    han = len(_HAN.findall(text))
    if han and han / letters >= 0.5:
        return _chinese_variant(text) if han >= _CHINESE_PROSE_MIN_HAN and not kana else "ja"
    return None


# Common characters written differently in simplified and traditional Chinese (same order).
_SIMPLIFIED = "们这说请么国会对时为学电体关与问题统发实点过还应机资诉询录谢记报个员"
_TRADITIONAL = "們這說請麼國會對時為學電體關與問題統發實點過還應機資訴詢錄謝記報個員"


def _chinese_variant(text: str) -> str:
    """zh-tw when traditional forms outnumber simplified ones, else zh-cn."""
    simplified = sum(text.count(ch) for ch in _SIMPLIFIED)
    traditional = sum(text.count(ch) for ch in _TRADITIONAL)
    return "zh-tw" if traditional > simplified else "zh-cn"


def _by_detector(text: str) -> str:
    """The model's best guess, or "und" when it has too little to go on."""
    letters = sum(map(str.isalpha, text))
    if letters < 3:
        return "und"
    if text.isascii() and letters < _SHORT_ASCII_LETTERS:
        return "en"
    code, confidence = _identifier().classify(text)
    return str(code) if confidence >= _MIN_CONFIDENCE else "und"


def warm_up() -> None:
    """Load the model now rather than on the first Latin-script mail."""
    _identifier()


@cache
def _identifier() -> LanguageIdentifier:
    """The model, loaded once per process on first use (about a second)."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
