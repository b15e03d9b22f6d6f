"""Find the enquiry's required fields (organisation, contact, environment) in a mail body.

Rules worth knowing:
- Only the sender's new text counts; quoted earlier messages are cut off first (quoting.py).
- Labelled lines win over facts found in free text; values are stored NFKC-normalised.
- Contact needs a phone number or an email address written in the mail itself. A contact
  person's name alone (担当者) is not contact; a name with a number or address is, and the
  name is kept in front ("山田 / 03-1234-5678").
- Environment counts as given when either an OS or a browser is recognised: the desk can
  ask for the other while answering. A labelled value is stored as written; one found in
  free text is stored as described by environment.describe() ("Windows 11 / Edge").
- An organisation answer of "個人" / "individual" is an answer (a resident writing for
  themself); placeholders such as "なし", "-" or "N/A" are not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace

from mail_ingest.environment import describe, normalise_environment
from mail_ingest.quoting import split_quoted

__all__ = ["FIELD_NAMES", "RequiredFields", "extract_required_fields", "merge"]

FIELD_NAMES: tuple[str, ...] = ("organisation", "contact", "environment")


@dataclass(frozen=True)
class RequiredFields:
    """The three things the desk needs before it may answer; None means not given."""

    organisation: str | None = None
    contact: str | None = None
    environment: str | None = None

    @property
    def missing(self) -> tuple[str, ...]:
        """Names of the fields not given yet, in the order organisation, contact, environment."""
        return tuple(name for name in FIELD_NAMES if getattr(self, name) is None)

    @property
    def complete(self) -> bool:
        """True when all three fields are given."""
        return not self.missing


def merge(known: RequiredFields, new: RequiredFields) -> RequiredFields:
    """Fill the gaps of what a ticket already knows with a later message's answers."""
    gaps = {name: getattr(new, name) for name in known.missing if getattr(new, name) is not None}
    return replace(known, **gaps)


def extract_required_fields(text: str) -> RequiredFields:
    """Extract organisation, contact and environment from a mail body (new part only)."""
    new_part, _quoted = split_quoted(_bounded(text))
    lines = [_normalise(line[:_MAX_LINE]) for line in new_part.split("\n")]
    found = _labelled_values(lines)
    return RequiredFields(
        organisation=_first(found["organisation"]) or _organisation_in_text(lines),
        contact=_contact(found, lines),
        environment=_joined(found["environment"]) or _environment_in_text(lines),
    )


# --- normalisation -------------------------------------------------------------------------

# Pasted logs can make a body huge; fields sit near the top or in the signature at the end,
# and no labelled line or signature line is longer than this.
_MAX_HEAD, _MAX_TAIL, _MAX_LINE = 30_000, 5_000, 1_000


def _bounded(text: str) -> str:
    """Keep the head and the tail of a very long body."""
    if len(text) <= _MAX_HEAD + _MAX_TAIL:
        return text
    return text[:_MAX_HEAD] + "\n" + text[-_MAX_TAIL:]


_DASHES_BETWEEN_DIGITS = re.compile(r"(?<=\d)\s?[‐‑‒–—―−ーｰ]\s?(?=\d)")


def _normalise(line: str) -> str:
    """NFKC (full-width to half-width), unify dashes between digits, trim."""
    line = unicodedata.normalize("NFKC", line)
    return _DASHES_BETWEEN_DIGITS.sub("-", line).strip()


# --- labels --------------------------------------------------------------------------------


def _combo(word: str) -> str:
    """A label made of one or more label words joined by / or ・ ("OS/ブラウザ")."""
    return rf"(?:{word})(?:\s?[/・,、&]\s?(?:{word}))*"


_ORG_WORD = (
    r"(?:貴|御|ご)?(?:(?:特定技能)?所属機関|受入れ?機関|受け入れ機関|登録支援機関|日本語教育機関"
    r"|教育機関|支援機関|監理団体|機関|会社|法人|団体|学校|組織|事業所|事業者|企業|社)(?:名称|名)"
    r"|(?:貴|御|ご)?(?:所属(?:機関|先)?|勤務先|機関|会社|法人|団体|学校|組織|事業所)"
    r"|(?:name\s+of\s+(?:the\s+|your\s+)?)?(?:organi[sz]ation|company|school|institution"
    r"|employer|affiliation|corporation)(?:\s?name)?"
)
_PERSON_WORD = (
    r"(?:ご)?担当者?(?:名|様|氏名)?|(?:お)?名前|氏名|記入者|contact\s?person|person\s?in\s?charge"
    r"|(?:your\s+|full\s+)?name"
)
_CONTACT_WORD = (
    r"(?:ご?担当者?の?|緊急)?(?:ご)?連絡先(?:電話番号|メールアドレス|電話|メール)?|(?:携帯)?電話(?:番号)?"
    r"|携帯(?:電話)?(?:番号)?|tel\s?/\s?fax|tel\.?(?:\s?no\.?)?|phone(?:\s?(?:number|no\.?))?"
    r"|mobile(?:\s?(?:phone|number))?|cell(?:\s?phone)?|メール(?:アドレス)?|e-?mail(?:\s?address)?"
    r"|mail(?:\s?address)?|contact(?:\s?(?:details|information|info|number|address|no\.?))?"
)
_ENV_WORD = (
    r"(?:ご|お)?(?:利用|使用|動作|使用中の|お使いの)?(?:環境|端末|機器|パソコン|pc|os|ブラウザー?)"
    r"(?:の?(?:種類|名|バージョン))?"
    r"|(?:usage\s+|operating\s+|user\s+|system\s+|your\s+)?environment|operating\s?system"
    r"|(?:web\s?)?browser(?:\s?(?:name|version))?|os(?:\s?(?:name|version))?|device"
)
_OTHER_WORD = (
    r"fax|ファックス|ファクス|住所|所在地|address|件名|subject|url|ホームページ|部署名?|役職"
    r"|department|title|在留カード番号|郵便番号|申請番号|内容|お問い合わせ内容"
)

_LABEL = (
    rf"(?P<organisation>{_combo(_ORG_WORD)})|(?P<contact>{_combo(_CONTACT_WORD)})"
    rf"|(?P<person>{_combo(_PERSON_WORD)})|(?P<environment>{_combo(_ENV_WORD)})"
    rf"|(?P<other>{_combo(_OTHER_WORD)})"
)
_BULLETS = r"[\s■□●○◆◇・*•▼▽◎※►▶➤☆★#\-]*(?:\d{1,2}[.)、]\s?|\(\d{1,2}\)\s?)?"
_OPEN = r"[【\[〔《<「(]"
_CLOSE = r"[】\]〕》>」)]"
_NOTE = r"(?:\s?\([^)]{0,30}\))?"
_POLITE_END = r"(?:です|になります|となります|でございます)(?=[。.!\s]|$)"
_TAIL = rf"(?=[^\n]{{1,80}}?{_POLITE_END})"
_SEP = rf"\s?{_NOTE}\s?(?:{_CLOSE}\s?[:=]?|[:=]|→|は{_TAIL})"
_PAIR = re.compile(
    rf"(?:^|(?<=[\s/,、。|)\].・■□●○◆◇*•▼▽◎※►▶➤☆★#\d-]))(?:{_OPEN}\s?)?(?:{_LABEL}){_SEP}",
    re.I,
)
_LABEL_ONLY = re.compile(
    rf"^{_BULLETS}(?:{_OPEN}\s?)?(?:{_LABEL}){_NOTE}\s?{_CLOSE}?\s?[:=]?$", re.I
)
_LABEL_SPACE = re.compile(
    rf"^{_BULLETS}(?:{_OPEN}\s?)?(?:{_LABEL}){_NOTE}\s?{_CLOSE}?\s(?P<value>.+)$", re.I
)
_CELL_SPLIT = re.compile(r"\t|\s?\|\s?| {2,}")
_TABLE_RULE = re.compile(r"^[\s|:+\-=]+$")
_FIELD_KEYS = ("organisation", "contact", "person", "environment", "other")


def _label_kind(match: re.Match[str]) -> str:
    """Which field a label match names."""
    return next(key for key in _FIELD_KEYS if match.group(key) is not None)


def _cell_kind(cell: str) -> str | None:
    """Which field a table cell names when the cell is a bare label, else None."""
    match = _LABEL_ONLY.match(cell)
    return _label_kind(match) if match else None


# --- labelled values -----------------------------------------------------------------------


def _labelled_values(lines: list[str]) -> dict[str, list[str]]:
    """Collect validated values per field from labelled lines, tables and follow-on lines."""
    found: dict[str, list[str]] = {key: [] for key in _FIELD_KEYS}
    for kind, value in _raw_pairs(lines):
        cleaned = _clean_value(value)
        if cleaned and _accept(kind, cleaned):
            found[_retarget(kind, cleaned)].append(cleaned)
    return found


def _raw_pairs(lines: list[str]) -> Iterator[tuple[str, str]]:
    """Yield (field kind, raw value) for every labelled value in the lines."""
    header: list[str | None] | None = None
    pending: str | None = None
    follow: list[str] = []
    for line in lines:
        if pending is not None:
            if line and not _is_labelled(line) and len(follow) < 3:
                follow.append(line)
                continue
            if follow:
                yield pending, " / ".join(follow)
            pending, follow = None, []
        if not line or _TABLE_RULE.match(line):
            continue
        cells = [cell for cell in _CELL_SPLIT.split(line.strip("|")) if cell.strip()]
        kinds = [_cell_kind(cell.strip()) for cell in cells]
        if len(cells) >= 2 and all(kinds):
            header = kinds
            continue
        if header is not None and len(cells) == len(header):
            yield from ((k, c) for k, c in zip(header, cells, strict=True) if k)
            continue
        header = None
        label_only = _LABEL_ONLY.match(line)
        if label_only:
            pending = _label_kind(label_only)
            continue
        yield from _line_pairs(line, cells, kinds)
    if pending is not None and follow:
        yield pending, " / ".join(follow)


def _line_pairs(line: str, cells: list[str], kinds: list[str | None]) -> Iterator[tuple[str, str]]:
    """Pairs on one line: "label: value" (several per line), a table row, or "label value"."""
    matches = list(_PAIR.finditer(line))
    if matches:
        for match, after in zip(matches, [*matches[1:], None], strict=True):
            end = after.start() if after else len(line)
            if _sentence_label_ok(match):
                yield _label_kind(match), _sentence_value(match, line[match.end() : end])
        return
    if len(cells) >= 2 and kinds[0]:
        yield str(kinds[0]), " ".join(cells[1:])
        return
    spaced = _LABEL_SPACE.match(line)
    if spaced:
        yield _label_kind(spaced), spaced.group("value")


def _sentence_label_ok(match: re.Match[str]) -> bool:
    """ "XはYです" counts only for labels that name a value (機関名は, 連絡先は), not 会社は."""
    if not match.group().rstrip().endswith("は"):
        return True
    label = match.group(_label_kind(match)) or ""
    return bool(_NAMING_LABEL_END.search(label))


def _sentence_value(match: re.Match[str], value: str) -> str:
    """For "XはYです。…" the value ends at です; other values run to the next label."""
    if not match.group().rstrip().endswith("は"):
        return value
    return re.split(_POLITE_END, value, maxsplit=1)[0]


_NAMING_LABEL_END = re.compile(
    r"(?:名|名称|先|環境|番号|アドレス|os|ブラウザー?|端末|パソコン)$", re.I
)


def _is_labelled(line: str) -> bool:
    """True when the line starts with a label of its own."""
    if _LABEL_ONLY.match(line):
        return True
    pair = _PAIR.search(line)
    bullets = _BULLET_PREFIX.match(line)
    return pair is not None and bullets is not None and pair.start() <= bullets.end() + 1


_BULLET_PREFIX = re.compile(_BULLETS)


_PLACEHOLDER = re.compile(
    r"^(?:なし|無し|特になし|ありません|未定|不明|わかりません|分かりません|n/?a|none|nil|unknown"
    r"|[-ー―_.*〇○●x×\s]+|\(.*\)|(?:記入|入力)(?:して|願い).*|(?:上記|下記|以下|同上|署名).*)$",
    re.I,
)
_OTHER_TAIL = re.compile(rf"\s+(?:{_OTHER_WORD})(?:\s|[:=.]).*$", re.I)
_TRAILING = re.compile(r"(?:(?:です|になります|となります|でございます)[。.!]?)?[。、,/|\s]*$")


def _clean_value(value: str) -> str:
    """Trim separators, brackets and a polite sentence ending around a value."""
    value = value.strip().strip("/|,、:=").strip()
    value = _OTHER_TAIL.sub("", value)
    value = _TRAILING.sub("", value).strip()
    return value.strip("【】[]「」").strip()


def _accept(kind: str, value: str) -> bool:
    """Check a labelled value is a real answer for its field."""
    if kind == "other" or _PLACEHOLDER.match(value):
        return False
    if kind == "environment":
        return normalise_environment(value).is_known
    if kind == "organisation":
        return len(value) <= 80 and not _PARTICLE_START.match(value)
    return True


_PARTICLE_START = re.compile(r"^(?:は|が|を|に|で|も|の|と|へ)")


def _retarget(kind: str, value: str) -> str:
    """A contact value without a number or address is a person; a person with one is contact."""
    reachable = bool(_phones(value) or _EMAIL.search(value))
    if kind == "contact" and not reachable:
        return "person"
    if kind == "person" and reachable:
        return "contact"
    return kind


def _first(values: list[str]) -> str | None:
    """The first value, or None."""
    return values[0] if values else None


def _joined(values: list[str]) -> str | None:
    """Distinct values joined with " / ", or None."""
    distinct = list(dict.fromkeys(values))
    return " / ".join(distinct) if distinct else None


# --- contact -------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]++@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
)
_PHONE = re.compile(
    r"(?<![\d+\-])(?:\+81[\s\-]?(?:\(0\)\s?)?\d{1,4}|\(?0\d{1,4}\)?)[\s\-]?\(?\d{1,4}\)?[\s\-]?\d{3,4}"
    r"(?![\d\-])"
)
_NUMBER_LABEL = re.compile(
    r"tel\s?/\s?fax|fax|ファックス|ファクス|tel|電話|携帯|phone|mobile|連絡先", re.I
)


def _phones(text: str) -> list[str]:
    """Japanese phone numbers in the text (not FAX numbers), as written."""
    numbers = []
    for match in _PHONE.finditer(text):
        if _valid_phone(match.group()) and not _is_fax(text[: match.start()]):
            numbers.append(_balanced(match.group().strip()))
    return numbers


def _balanced(number: str) -> str:
    """Drop a stray bracket the pattern took from around the number: "(0570-011-000"."""
    return number if number.count("(") == number.count(")") else number.strip("()")


def _valid_phone(candidate: str) -> bool:
    """Domestic numbers have 10 or 11 digits starting with 0; +81 drops that 0."""
    digits = re.sub(r"\D", "", candidate)
    if candidate.startswith("+81"):
        digits = "0" + digits[2:].removeprefix("0")
    return digits.startswith("0") and len(digits) in (10, 11)


def _is_fax(before: str) -> bool:
    """True when the nearest number label before a number is FAX."""
    labels = _NUMBER_LABEL.findall(before[-20:])
    return bool(labels) and labels[-1].lower() in {"fax", "ファックス", "ファクス"}


def _contact(found: dict[str, list[str]], lines: list[str]) -> str | None:
    """Labelled contact values, else the first phone and email written anywhere."""
    contact = _joined(found["contact"])
    if contact is None:
        text = "\n".join(lines)
        reachable = [*_phones(text)[:1], *_EMAIL.findall(text)[:1]]
        contact = " / ".join(reachable) or None
    person = _first(found["person"])
    if contact is not None and person is not None and person not in contact:
        return f"{person} / {contact}"
    return contact


# --- environment and organisation in free text ---------------------------------------------

_URL = re.compile(r"https?://\S+|www\.\S+", re.I)


def _environment_in_text(lines: list[str]) -> str | None:
    """OS and browser named anywhere in the new text, described."""
    text = _EMAIL.sub(" ", _URL.sub(" ", "\n".join(lines)))
    env = normalise_environment(text)
    return describe(env) if env.is_known else None


_NAME_CHARS = r"[^\s、。,:;()「」【】『』<>/|はがをにでもへのと]"
_JA_PREFIX = (
    r"株式会社|有限会社|合同会社|合資会社|合名会社|一般社団法人|一般財団法人|公益社団法人"
    r"|公益財団法人|学校法人|社会福祉法人|医療法人|特定非営利活動法人|NPO法人|独立行政法人"
    r"|行政書士法人|弁護士法人|税理士法人|社会保険労務士法人|\((?:株|有|同|一社|一財|公財|公社|学)\)"
)
_JA_SUFFIX = (
    r"株式会社|有限会社|合同会社|\((?:株|有|同)\)|事業協同組合|協同組合|日本語学校|日本語学院"
    r"|日本語教育センター|語学院|語学学校|国際学院|学院|学園|専門学校|大学|行政書士事務所"
    r"|社会保険労務士事務所|社労士事務所|法律事務所|協会|財団"
)
_JA_ORG = re.compile(
    rf"(?:{_JA_PREFIX})\s?{_NAME_CHARS}{{1,30}}|{_NAME_CHARS}{{1,30}}?(?:{_JA_SUFFIX})"
    rf"(?:\s?(?:{_NAME_CHARS}{{0,20}}(?:日本語学校|日本語学院|学院|学校|支店|営業所|本社)))?"
)
_EN_WORD = r"[A-Z0-9][\w&'.\-]*+"
_EN_ORG = re.compile(
    rf"(?<![\w&'.\-])(?:{_EN_WORD},?\s+){{1,6}}(?:Co\.,?\s?Ltd\.?|Company,?\s+Limited|Inc\.|Inc\b|Corporation"
    r"|Corp\.|K\.K\.|LLC|Ltd\.?|Co-?operative|Cooperative|(?:Japanese[\s-]+)?Language\s+"
    r"(?:School|Institute|Academy|College|Cent(?:er|re))|Institute|Academy|University|College"
    r"|Association|Foundation|Gakuin|Gakuen)"
)
_GENERIC_NAME = re.compile(
    r"^(?:日本語|当|弊|本|貴|御|各|同|他|専門|語学|国際|監理|事業|協同|登録支援|支援|教育|日本語教育"
    r"|所属|受入れ?|上記|下記|該当|管理|運営|私立|公立|国立|県立|市立|大|法律|行政書士|the|our|your"
    r"|my|this|a|an|japanese|registered|support|specified)$",
    re.I,
)


def _organisation_in_text(lines: list[str]) -> str | None:
    """An organisation name in the text, looking from the bottom (the signature) up."""
    for line in reversed(lines):
        for pattern in (_JA_ORG, _EN_ORG):
            name = next(filter(None, map(_org_name, pattern.finditer(line))), None)
            if name:
                return name
    return None


def _org_name(match: re.Match[str]) -> str | None:
    """The matched organisation name, unless it is only a generic phrase."""
    name = match.group().strip(" ,")
    generic = _generic_english(name) if name.isascii() else _generic_japanese(name)
    return None if generic else name


def _generic_japanese(name: str) -> bool:
    """True for phrases like 日本語学校 or 事業協同組合 that carry no name of their own."""
    core = _core_name(name)
    return not core or bool(_GENERIC_NAME.match(core))


def _core_name(name: str) -> str:
    """The distinctive part of a Japanese name: without 株式会社 / 日本語学校 and the like."""
    without_prefix = re.sub(rf"^(?:{_JA_PREFIX})\s?", "", name)
    if without_prefix != name:
        return without_prefix.strip()
    return re.split(rf"(?:{_JA_SUFFIX})", name, maxsplit=1)[0].strip()


def _generic_english(name: str) -> bool:
    """True for English phrases like "the Japanese Language School" with no real name."""
    words = name.split()
    kept = [w for w in words[:-1] if not _GENERIC_NAME.match(w) and w not in {"Language", "Co.,"}]
    return not kept
