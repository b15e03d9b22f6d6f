"""The Japanese catalog: compiled as written, and translating every message of the code.

The messages are extracted as ``babel.cfg`` says (Python and templates, with ``_l`` for
``lazy_gettext``); any without a Japanese translation fails the test, which prints the
entries to append to the catalog.
"""

import ast
import io
import re
from collections import Counter
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from helpdesk.i18n import TRANSLATIONS

ROOT = Path(__file__).resolve().parents[3]
PO = TRANSLATIONS / "ja" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[sd]")


def _entries(catalog):
    def frozen(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {(m.context, frozen(m.id)): frozen(m.string) for m in catalog if m.id}


def _ja():
    with PO.open("rb") as f:
        return read_po(f, locale="ja")


Message = tuple[str | None, str | tuple[str, str]]  # (context, msgid or singular and plural)


def extracted() -> dict[Message, str]:
    """Every message the code and templates mark, with where it was first found."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[Message, str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        key = (context, message if isinstance(message, str) else tuple(message))
        found.setdefault(key, f"{filename}:{lineno}")
    return found


def _translated(catalog, message: Message) -> bool:
    context, ids = message
    entry = catalog.get(ids if isinstance(ids, str) else ids[0], context=context)
    if entry is None or entry.fuzzy:
        return False
    strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
    return all(strings)


def _po_entry(message: Message) -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    context, ids = message
    head = f"msgctxt {quoted(context)}\n" if context else ""
    if isinstance(ids, str):
        return f'{head}msgid {quoted(ids)}\nmsgstr ""\n'
    singular, plural = ids
    return f'{head}msgid {quoted(singular)}\nmsgid_plural {quoted(plural)}\nmsgstr[0] ""\n'


def test_compiled_catalog_matches_the_po_file():
    source = _ja()
    with MO.open("rb") as f:
        compiled = read_mo(f)
    assert _entries(compiled) == _entries(source), "run: pybabel compile -d helpdesk/translations"
    rebuilt = io.BytesIO()
    write_mo(rebuilt, source)
    assert _entries(read_mo(io.BytesIO(rebuilt.getvalue()))) == _entries(compiled)


def test_the_extraction_finds_the_messages_of_python_and_templates():
    found = extracted()
    assert found[None, "Sign in"].startswith("templates/auth/")
    assert found[None, "On time"].startswith("helpdesk/i18n.py:")
    assert found["day", "Closed"].startswith("helpdesk/admin/display.py:")
    assert len(found) > 500


def test_every_message_has_japanese():
    catalog = _ja()
    missing = [(m, where) for m, where in extracted().items() if not _translated(catalog, m)]
    appendix = "\n".join(f"#: {where}\n{_po_entry(message)}" for message, where in missing)
    assert not missing, f"append to {PO.relative_to(ROOT)} and translate:\n\n{appendix}"


def test_every_placeholder_is_kept_in_japanese():
    def placeholders(text: str) -> list[str]:
        return sorted(PLACEHOLDER.findall(text))

    problems = []
    for message in _ja():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            if message.id and string and placeholders(string) != placeholders(ids[-1]):
                problems.append((ids[0], string))
    assert problems == []


def test_no_translation_is_left_over():
    found = {(context, ids if isinstance(ids, str) else ids[0]) for context, ids in extracted()}
    left_over = [
        message.id
        for message in _ja()
        if message.id
        and (message.context, message.id if isinstance(message.id, str) else message.id[0])
        not in found
    ]
    assert left_over == [], "remove these from the catalog: nothing uses them"


def _written_ids(text: str) -> list[tuple[str | None, str]]:
    """(msgctxt, msgid) of every entry as written in a .po file, duplicates kept (read_po keeps
    the last of two, and msgfmt refuses the file)."""
    ids: list[tuple[str | None, str]] = []
    context: str | None = None
    parts: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("msgctxt "):
            context = ast.literal_eval(line[len("msgctxt ") :])
        elif line.startswith("msgid "):
            parts = [ast.literal_eval(line[len("msgid ") :])]
        elif line.startswith('"') and parts is not None:
            parts.append(ast.literal_eval(line))
        elif parts is not None:  # msgid_plural or msgstr ends the msgid
            ids.append((context, "".join(parts)))
            context, parts = None, None
    return [entry for entry in ids if entry[1]]  # the header's empty msgid


def test_no_message_is_written_twice():
    ids = _written_ids(PO.read_text(encoding="utf-8"))
    assert len(ids) > 100
    twice = sorted((entry for entry, n in Counter(ids).items() if n > 1), key=str)
    assert twice == [], f"written twice in {PO.name}: {twice}"


def test_a_message_written_twice_is_found():
    text = 'msgid ""\nmsgstr ""\n\nmsgid "Too large"\nmsgstr "a"\n\nmsgid ""\n"Too large"\nmsgstr "b"\n'
    assert _written_ids(text) == [(None, "Too large"), (None, "Too large")]
