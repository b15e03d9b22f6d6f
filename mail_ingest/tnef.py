"""winmail.dat (TNEF, from Outlook): the files it holds. Pure.

Outlook sends a message's attachments packed in one application/ms-tnef part when it is set to
Rich Text; unpacked, they are judged and stored as the message's own files.
"""

from __future__ import annotations


def is_tnef(ctype: str, filename: str | None) -> bool:
    """Whether a part of this type and file name is a winmail.dat."""
    named = (filename or "").lower() == "winmail.dat"
    return ctype in {"application/ms-tnef", "application/vnd.ms-tnef"} or named


def tnef_files(data: bytes) -> list[tuple[str | None, bytes]]:
    """(file name or None, content) of each file in a winmail.dat; raises if it is broken."""
    from tnefparse import TNEF

    files: list[tuple[str | None, bytes]] = []
    for item in TNEF(data).attachments:
        try:
            name: str | None = str(item.long_filename() or "") or None
        except Exception:  # noqa: BLE001 - a name in an unknown codepage
            name = None
        if isinstance(item.data, bytes):
            files.append((name, item.data))
    return files
