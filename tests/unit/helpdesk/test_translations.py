"""The Japanese catalog: compiled as written, and covering every label the agents' UI shows."""

import io
import re
from pathlib import Path

from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from helpdesk.i18n import LABELS, TRANSLATIONS

ROOT = Path(__file__).resolve().parents[3]
PO = TRANSLATIONS / "ja" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
_LITERAL = re.compile(r"""_\(\s*(?:"([^"]+)"|'([^']+)')\s*\)""")


def _entries(catalog):
    return {m.id: m.string for m in catalog if m.id}


def test_compiled_catalog_matches_the_po_file():
    with PO.open("rb") as f:
        source = read_po(f, locale="ja")
    with MO.open("rb") as f:
        compiled = read_mo(f)
    assert _entries(compiled) == _entries(source), "run: pybabel compile -d helpdesk/translations"
    rebuilt = io.BytesIO()
    write_mo(rebuilt, source)
    assert _entries(read_mo(io.BytesIO(rebuilt.getvalue()))) == _entries(compiled)


_FIELD_LABEL = re.compile(r'[A-Za-z]*Field\(\s*"([^"]+)"')


def _template_labels():
    pages = [ROOT / "templates" / "base.html", ROOT / "templates" / "partials" / "nav_admin.html"]
    pages += (ROOT / "templates" / "tickets").glob("*.html")
    pages += [ROOT / "helpdesk" / "tickets" / "views.py"]
    for page in pages:
        for match in _LITERAL.finditer(page.read_text(encoding="utf-8")):
            yield page.name, match.group(1) or match.group(2)
    forms = ROOT / "helpdesk" / "tickets" / "forms.py"
    for match in _FIELD_LABEL.finditer(forms.read_text(encoding="utf-8")):
        yield forms.name, match.group(1)


def test_every_label_of_the_agents_pages_has_japanese():
    with PO.open("rb") as f:
        catalog = _entries(read_po(f, locale="ja"))
    labels = list(_template_labels())
    assert len(labels) > 40  # the pattern finds the templates' labels at all
    missing = sorted({f"{page}: {text}" for page, text in labels if not catalog.get(text)})
    missing += sorted(text for text in LABELS.values() if not catalog.get(text))
    assert missing == []
