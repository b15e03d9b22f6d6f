"""Whether a message may get an automatic reply (acknowledgement, missing-fields request).

Follows RFC 3834 section 2: never answer machine mail, list mail or mail without a usable
sender, so the desk cannot start a mail loop with another auto-responder.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping

from mail_ingest.parse import ParsedMessage

logger = logging.getLogger(__name__)

#: Headers every automatic reply the desk sends must carry (RFC 3834, and Exchange's own).
AUTO_REPLY_HEADERS: Mapping[str, str] = {
    "Auto-Submitted": "auto-replied",
    "X-Auto-Response-Suppress": "All",
}

_BULK_PRECEDENCE = {"bulk", "junk", "list"}
_MACHINE_LOCAL_PARTS = {
    "mailer-daemon",
    "postmaster",
    "noreply",
    "no-reply",
    "no_reply",
    "donotreply",
    "do-not-reply",
    "do_not_reply",
    "bounce",
    "bounces",
    "listserv",
    "majordomo",
}
_LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post", "list-help")
_SUPPRESS_VALUES = {"all", "autoreply", "oof"}


def _local_part(address: str) -> str:
    return address.rsplit("@", 1)[0].split("+", 1)[0].lower()


def _machine_sender(address: str) -> bool:
    local = _local_part(address)
    return local in _MACHINE_LOCAL_PARTS or local.startswith("owner-") or local.endswith("-request")


def _suppressed(msg: ParsedMessage) -> bool:
    value = (msg.header("x-auto-response-suppress") or "").lower()
    flags = {v.strip() for v in value.replace(";", ",").split(",")}
    return bool(flags & _SUPPRESS_VALUES)


def _machine_reason(msg: ParsedMessage) -> str | None:
    auto = (msg.auto_submitted or "").split(";", 1)[0].strip()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    if msg.is_bounce or msg.report_type is not None:
        return "delivery or disposition report"
    if msg.precedence in _BULK_PRECEDENCE:
        return f"Precedence: {msg.precedence}"
    if any(msg.header(name) is not None for name in _LIST_HEADERS):
        return "mailing-list message"
    if _suppressed(msg):
        return "X-Auto-Response-Suppress"
    return None


def _sender_reason(msg: ParsedMessage, own: set[str]) -> str | None:
    if msg.return_path == "":
        return "null return path"
    sender = msg.from_address
    if not sender or "@" not in sender:
        return "no usable sender address"
    if _machine_sender(sender):
        return f"machine sender {sender}"
    if sender in own or (msg.reply_to or "") in own or (msg.return_path or "") in own:
        return "sent from one of our own addresses"
    return None


def should_auto_reply(msg: ParsedMessage, *, own_addresses: Collection[str]) -> tuple[bool, str]:
    """Return (True, "") when an automatic reply is allowed, else (False, the reason)."""
    if not msg.ok:
        return False, "message not understood"
    own = {a.strip().lower() for a in own_addresses}
    reason = _machine_reason(msg) or _sender_reason(msg, own)
    if reason is not None:
        logger.debug("no auto-reply to %s: %s", msg.message_id, reason)
        return False, reason
    return True, ""
