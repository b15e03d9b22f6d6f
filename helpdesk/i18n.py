"""The UI in Japanese and English with Flask-Babel: the user's saved locale, else the browser's.

Messages are English msgids translated by the catalog in ``helpdesk/translations`` (edit the
``.po``, then compile it: ``.venv/bin/pybabel compile -d helpdesk/translations``; a test checks
the compiled ``.mo`` matches). Templates use ``_()``; Python code uses :func:`gettext`, or
:func:`translations` when it labels many rows at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

from babel import support
from flask import Flask, request
from flask_babel import Babel, get_locale, refresh
from flask_babel import gettext as babel_gettext
from flask_login import current_user

LANGUAGES = ("en", "ja")
TRANSLATIONS = Path(__file__).parent / "translations"

# Internal values the UI shows (SLA states, statuses, priorities, channels): their English
# label, which is also the msgid of their translation.
LABELS: dict[str, str] = {
    "ok": "On time",
    "near": "Due soon",
    "breached": "Breached",
    "paused": "Paused",
    "done": "Done",
    "new": "New",
    "open": "Open",
    "awaiting_customer": "Awaiting customer",
    "awaiting_information": "Awaiting information",
    "resolved": "Resolved",
    "closed": "Closed",
    "low": "Low",
    "normal": "Normal",
    "high": "High",
    "urgent": "Urgent",
    "email": "Email",
    "phone": "Phone",
    "web": "Web",
    # What a ticket's history shows for each audit action.
    "ticket.opened": "Ticket opened",
    "ticket.status": "Status changed",
    "ticket.priority": "Priority changed",
    "ticket.assigned": "Assignee changed",
    "ticket.moved": "Moved to another desk",
    "ticket.fields": "Required fields updated",
    "ticket.reply": "Reply sent",
    "ticket.note": "Internal note added",
    "mail.received": "Mail received",
    "mail.follow_up": "Requester replied by mail",
    "mail.bounce": "Delivery failure received",
    "mail.refused": "Mail refused (forbidden attachment)",
    "attachment.renamed": "Attachment name shown without hidden characters",
    "web.received": "Web form received",
    "sla.near": "SLA due soon",
    "sla.breached": "SLA breached",
}

babel = Babel()


def choose_language() -> str:
    """The user's saved locale, else the browser's preferred one of ja/en."""
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def current_language() -> str:
    """The language of this request ("en" outside one)."""
    locale = get_locale()
    return locale.language if locale is not None else "en"


@cache
def _catalog(lang: str) -> support.NullTranslations:
    return support.Translations.load(str(TRANSLATIONS), [lang])


class Words(Mapping[str, str]):
    """The labels of one language: an internal value or an English text → what to show."""

    def __init__(self, catalog: support.NullTranslations) -> None:
        self._catalog = catalog

    def __getitem__(self, key: str) -> str:
        return self._catalog.gettext(LABELS.get(key, key))

    def __iter__(self) -> Iterator[str]:
        return iter(LABELS)

    def __len__(self) -> int:
        return len(LABELS)


def translations(lang: str | None = None) -> Mapping[str, str]:
    """The labels of ``lang`` (the request's by default), for code that translates many."""
    return Words(_catalog(lang or current_language()))


def gettext(text: str) -> str:
    """Translate a UI label (an English text, or an internal value) into the request's language."""
    return str(babel_gettext(LABELS.get(text, text)))


def init_app(app: Flask) -> None:
    """Flask-Babel with our locale choice; ``_`` in templates comes from its Jinja extension."""
    babel.init_app(
        app,
        default_locale="en",
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=choose_language,
    )
    app.add_template_global(current_language, "ui_language")

    @app.before_request
    def choose_anew() -> None:
        # Flask-Babel caches the locale on the app context, which a request shares with an
        # app context already pushed (CLI, tests): each request chooses for itself.
        refresh()
