"""The content-addressed stores of this installation (raw mail, attachments, quarantine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

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


@event.listens_for(Session, "before_commit")
def _flush_stores_before_commit(session: Any) -> None:
    """Rows must never commit before the stored bytes they name are on disk."""
    if session.in_nested_transaction():
        return  # a savepoint: the bytes need to be on disk only when the outer commit comes
    if has_app_context():
        cached = current_app.extensions.get("helpdesk_stores")
        if cached is not None:
            cached.sync()
