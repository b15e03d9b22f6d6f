"""The UI in Japanese and English with Flask-Babel: the user's saved locale, else the browser's.

One catalog, ``helpdesk/translations/ja/LC_MESSAGES/messages.po``, whose msgids are the English
texts. Templates use ``_()``; Python code uses Flask-Babel's ``gettext`` (``ngettext`` for
counts), and ``lazy_gettext`` (imported as ``_l``) for labels defined at import time: form
fields, choices, validator messages and the tables below. Text for someone other than the
reader (mail to a requester in the ticket's language, a report asked for in the other
language) is made inside :func:`language`. Weekday and month names and date formats come from
Babel's CLDR data (``babel.dates``) in the same language; no table of them is written here.

Workflow (see ``babel.cfg``): the catalog test lists the messages without Japanese; append
them at the end of the ``.po``, translate, compile.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Literal

from babel import Locale, support
from babel.dates import format_skeleton, get_day_names
from flask import Flask, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, get_translations, refresh
from flask_babel import gettext as babel_gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user

from mail_ingest.policy import REASON_TEXT

LANGUAGES = ("en", "ja")
DayWidth = Literal["wide", "abbreviated"]
TRANSLATIONS = Path(__file__).parent / "translations"

# Internal values the UI shows (SLA states, statuses, priorities, channels, roles, audit
# actions): their label in the reader's language.
LABELS: dict[str, LazyString] = {
    "ok": _l("On time"),
    "near": _l("Due soon"),
    "breached": _l("Breached"),
    "paused": _l("Paused"),
    "done": _l("Done"),
    "new": _l("New"),
    "open": _l("Open"),
    "awaiting_customer": _l("Awaiting customer"),
    "awaiting_information": _l("Awaiting information"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "low": _l("Low"),
    "normal": _l("Normal"),
    "high": _l("High"),
    "urgent": _l("Urgent"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "web": _l("Web"),
    "agent": _l("Agent"),
    "manager": _l("Manager"),
    "admin": _l("Administrator"),
    # What a ticket's history shows for each audit action.
    "ticket.opened": _l("Ticket opened"),
    "ticket.status": _l("Status changed"),
    "ticket.priority": _l("Priority changed"),
    "ticket.assigned": _l("Assignee changed"),
    "ticket.moved": _l("Moved to another desk"),
    "ticket.fields": _l("Required fields updated"),
    "ticket.reply": _l("Reply sent"),
    "ticket.note": _l("Internal note added"),
    "mail.received": _l("Mail received"),
    "mail.follow_up": _l("Requester replied by mail"),
    "mail.bounce": _l("Delivery failure received"),
    "mail.refused": _l("Mail refused (forbidden attachment)"),
    "attachment.renamed": _l("Attachment name shown without hidden characters"),
    "original": _l("Name as sent"),
    "shown": _l("Name shown"),
    "web.received": _l("Web form received"),
    "sla.near": _l("SLA due soon"),
    "sla.breached": _l("SLA breached"),
    # The details an audit event carries, as its history line names them.
    "status": _l("Status"),
    "channel": _l("Channel"),
    "filled": _l("Filled in"),
    "changed": _l("Changed"),
    "message_id": _l("Message ID"),
    "recipients": _l("Recipients"),
    "due": _l("Due"),
    "organisation": _l("Organisation"),
    "contact": _l("Contact"),
    "environment": _l("Environment (OS / browser)"),
}

babel = Babel()


def N_(message: str) -> str:
    """Mark ``message`` for the catalog where it is defined; it is translated where shown."""
    return message


def choose_language() -> str:
    """The user's saved locale, else the browser's preferred one of ja/en (en outside a
    request: commands and jobs say which language they write in with :func:`language`)."""
    if not has_request_context():
        return "en"
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    return browser_language()


def browser_language() -> str:
    """The browser's preferred one of ja/en (en when it prefers neither); needs a request."""
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def current_language() -> str:
    """The language being written in ("en" outside an app context)."""
    locale = get_locale()
    return locale.language if locale is not None else "en"


@contextmanager
def language(lang: str | None) -> Iterator[None]:
    """Write in ``lang`` (English when it is not one of ours) inside the block: gettext, the
    labels, templates and dates, as for mail to a requester in the ticket's language."""
    with force_locale(lang if lang in LANGUAGES else "en"):
        yield


class Words(Mapping[str, str]):
    """The labels of one language: an internal value or an English text → what to show."""

    def __init__(self, catalog: support.NullTranslations) -> None:
        self._catalog = catalog

    def __getitem__(self, key: str) -> str:
        label = LABELS.get(key)
        return str(label) if label is not None else self._catalog.gettext(key)

    def __iter__(self) -> Iterator[str]:
        return iter(LABELS)

    def __len__(self) -> int:
        return len(LABELS)


def translations() -> Mapping[str, str]:
    """The labels of the current language, for code that translates many values at once."""
    return Words(get_translations())


def gettext(text: str) -> str:
    """Translate a UI label (an English text, or an internal value) into the current language."""
    label = LABELS.get(text)
    return str(label) if label is not None else str(babel_gettext(text))


def reason_text(reason: str, detail: str = "") -> str:
    """Why the attachment policy refused a file, in the current language (the judge's own
    detail for a reason without a text)."""
    text = REASON_TEXT.get(reason)
    return str(babel_gettext(text)) if text else (detail or reason)


def weekday_names(width: DayWidth = "wide") -> list[str]:
    """Monday-first weekday names in the current language ("wide" or "abbreviated")."""
    names = get_day_names(width, locale=current_language())
    return [names[day] for day in range(7)]


def lazy_weekday(day: int, width: DayWidth = "wide") -> LazyString:
    """A weekday's name (0 is Monday), in the language of wherever it is shown."""
    return LazyString(lambda: weekday_names(width)[day])


def short_weekday(day: date) -> str:
    """The short name of a date's weekday: "Wed", "水"."""
    return weekday_names("abbreviated")[day.weekday()]


def month_title(year: int, month: int) -> str:
    """A month as its language writes it: "November 2026", "2026年11月"."""
    return str(format_skeleton("yMMMM", date(year, month, 1), locale=current_language()))


def language_name(code: str) -> str:
    """A language's name in the current language: "ja" is "Japanese" or "日本語"."""
    return str(Locale.parse(code).get_display_name(current_language()))


def lazy_language_name(code: str) -> LazyString:
    """:func:`language_name` for a choice defined at import time."""
    return LazyString(language_name, code)


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
