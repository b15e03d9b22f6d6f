"""The content-addressed stores of this installation (raw mail, attachments, quarantine)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from mail_ingest.rawstore import RawStore, Stores


def stores() -> Stores:
    """The stores configured for the current app."""
    cached = current_app.extensions.get("helpdesk_stores")
    if cached is None:
        config = current_app.config
        cached = Stores(
            raw=RawStore(Path(config["RAW_STORE_PATH"])),
            attachments=RawStore(Path(config["ATTACHMENT_STORE_PATH"])),
            quarantine=RawStore(Path(config["QUARANTINE_STORE_PATH"])),
        )
        current_app.extensions["helpdesk_stores"] = cached
    return cached
