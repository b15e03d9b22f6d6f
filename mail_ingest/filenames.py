"""File names as people see them: without the invisible characters that disguise them."""

from __future__ import annotations

import re

# Control characters, and the invisible format characters that change how the rest of a name
# is shown: bidirectional controls (U+061C, U+200E/F, U+202A-E, U+2066-9) reorder what follows,
# so "invoice\u202efdp.txt" reads as "invoicetxt.pdf"; zero-width characters (U+200B-D,
# U+2060-4, U+FEFF) hide inside a name that looks like another.
_HIDDEN = re.compile(
    "[\x00-\x1f\x7f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def shown_name(name: str) -> str:
    """``name`` without the characters that would make it look like another name."""
    return _HIDDEN.sub("", name).strip()


def revealed(text: str) -> str:
    """``text`` with each disguising character written out (``<U+202E>``), to show an agent
    exactly what a sender wrote without letting it reorder the page."""
    return _HIDDEN.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)
