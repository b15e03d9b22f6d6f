"""Error pages in the reader's language: what happened and what to do, per status code.

One handler answers every HTTP error (Werkzeug's, Flask-WTF's CSRF refusal, Flask-Limiter's
429, the app's own ``abort``) and, through Flask's ``InternalServerError``, every unexpected
exception (Flask logs it with its traceback before the handler runs; the page never shows
it). The status code and the headers the exception carries (Allow, Retry-After,
WWW-Authenticate) are kept. A description the app gave ``abort`` is already in the reader's
language and is shown; Werkzeug's and the extensions' own English descriptions never are.

Browsers get a page in the site's layout, or a minimal page when the layout itself fails
(the database is down, the user cannot be loaded). The probes, /metrics, the ticket page's
heartbeat and any client that prefers JSON get a short JSON answer instead, as before no page.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app, jsonify, render_template, request, session
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, refresh
from flask_babel.speaklater import LazyString
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.wrappers import Response

from helpdesk.extensions import db, limiter
from helpdesk.i18n import browser_language, current_language, gettext, language
from helpdesk.templating import file_size

log = logging.getLogger(__name__)

# What answers machines (probes, scrapers, the ticket page's script), never a person: the
# probes by path, as a wrong method matches no endpoint.
MACHINE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
MACHINE_ENDPOINTS = frozenset({"tickets.heartbeat"})
# Headers that describe Werkzeug's own body, which is not sent.
_BODY_HEADERS = frozenset({"content-type", "content-length"})

# Per status code: a title, and what happened and what to do.
EXPLANATIONS: dict[int, tuple[LazyString, LazyString]] = {
    400: (
        _l("The request could not be accepted"),
        _l(
            "Something in what was sent was not as the page expects. "
            "Go back, reload the page and try again."
        ),
    ),
    401: (
        _l("Sign-in needed"),
        _l("This page is for signed-in users. Sign in and try again."),
    ),
    403: (
        _l("Not allowed"),
        _l(
            "Your account is not allowed to open this page or to do this. "
            "If you need to, ask an administrator for access."
        ),
    ),
    404: (
        _l("Page not found"),
        _l(
            "There is no such page, or it is not one you can see. "
            "Check the address, or start again from the queue."
        ),
    ),
    405: (
        _l("Not possible this way"),
        _l(
            "This address cannot be used like that. "
            "Go back and use the page's own links and buttons."
        ),
    ),
    413: (
        _l("Too large"),
        _l("What was sent is too large to be accepted. Send smaller files, or fewer at a time."),
    ),
    429: (
        _l("Too many attempts"),
        _l("There were too many attempts in a short time. Wait a little, then try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l(
            "An unexpected error occurred in the helpdesk and was logged for the "
            "administrators. Nothing was saved. Try again in a moment; if it happens again, "
            "tell an administrator when it happened."
        ),
    ),
    503: (
        _l("Temporarily unavailable"),
        _l("The helpdesk cannot answer right now. Try again in a few minutes."),
    ),
}
OTHER = (
    _l("The request could not be completed"),
    _l("Go back and try again. If it happens again, tell an administrator."),
)
EXPIRED_FORM = (
    _l("The form had expired"),
    _l(
        "The form was open too long, or your session ended, so it could not be accepted. "
        "Go back, reload the page and send it again."
    ),
)


def init_app(app: Flask) -> None:
    """Answer every HTTP error, and every unexpected exception as a 500, in our own words."""
    app.register_error_handler(HTTPException, handle_http_error)


def handle_http_error(error: HTTPException) -> Response | HTTPException:
    """The error page (or the machines' JSON) for ``error``, with its status and headers."""
    if error.code is None or error.code < 400 or error.response is not None:
        return error  # a redirect, or a response made by whoever raised it
    if error.code >= 500:
        _forget_failed_work()
    # The CSRF check and the rate limits run before the request chooses its language.
    refresh()
    try:
        return _answer(error, layout=True)
    except Exception:
        # Choosing the language loads the signed-in user, which may be what failed.
        log.exception("the answer to a %s failed; answering a minimal one", error.code)
        with language(browser_language()):
            return _answer(error, layout=False)


def _answer(error: HTTPException, layout: bool) -> Response:
    code = error.code or 500
    title, explanation = explain(error)
    if not _wants_page():
        answer: Response = jsonify(status="error", code=code, message=title, detail=explanation)
        answer.status_code = code
    elif layout:
        answer = _page(code, title, explanation)
    else:
        answer = _minimal_response(code, title, explanation)
    answer.headers.extend(_kept_headers(error))
    return answer


def explain(error: HTTPException) -> tuple[str, str]:
    """The title and explanation, in the current language, to show for ``error``."""
    code = error.code or 500
    if isinstance(error, CSRFError):
        return str(EXPIRED_FORM[0]), str(EXPIRED_FORM[1])
    title, explanation = (str(text) for text in EXPLANATIONS.get(code, OTHER))
    if _is_own_description(error):
        explanation = str(error.description)
    elif code == 413 and (limit := _size_limit()) is not None:
        explanation += " " + gettext("The limit is %(size)s.") % {"size": file_size(limit)}
    elif code == 429 and (seconds := _retry_after(error)) is not None:
        explanation += " " + ngettext(
            "You can try again in %(num)d second.", "You can try again in %(num)d seconds.", seconds
        )
    return title, explanation


def _is_own_description(error: HTTPException) -> bool:
    # abort(code, description=...) raises Werkzeug's class for the code with the app's text;
    # Werkzeug and the extensions raise their own classes and subclasses with English texts.
    kind = type(error)
    return kind is default_exceptions.get(error.code or 0) and error.description != kind.description


def _size_limit() -> int | None:
    limit = request.max_content_length
    return int(limit) if limit else None


def _retry_after(error: HTTPException) -> int | None:
    """Seconds until the limit that refused this request lets the client in again."""
    if isinstance(error, RateLimitExceeded):
        current = limiter.current_limit
        if current is not None:
            return max(1, math.ceil(current.reset_at - time.time()))
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int):
        return retry_after
    return None


def _kept_headers(error: HTTPException) -> list[tuple[str, str]]:
    """The exception's headers (Allow, Retry-After, WWW-Authenticate), not its body's."""
    headers = [
        (name, value)
        for name, value in error.get_headers(request.environ)
        if name.lower() not in _BODY_HEADERS
    ]
    if error.code == 429 and not any(name.lower() == "retry-after" for name, _ in headers):
        seconds = _retry_after(error)
        if seconds is not None:
            headers.append(("Retry-After", str(seconds)))
    return headers


def _wants_page() -> bool:
    """Whether a person's browser asked, rather than a probe, a scraper or a script."""
    if request.path in MACHINE_PATHS or request.endpoint in MACHINE_ENDPOINTS:
        return False
    best = request.accept_mimetypes.best_match(("text/html", "application/json"))
    return best != "application/json"


def _page(code: int, title: str, explanation: str) -> Response:
    """The error page in the site's layout, or a minimal one when the layout fails."""
    try:
        body = render_template("error.html", code=code, title=title, explanation=explanation)
    except Exception:
        log.exception(
            "the error page for a %s could not be rendered; answering a minimal one", code
        )
        return _minimal_response(code, title, explanation)
    return current_app.response_class(body, status=code, mimetype="text/html")


def _minimal_response(code: int, title: str, explanation: str) -> Response:
    body = minimal_page(code, title, explanation)
    return current_app.response_class(body, status=code, mimetype="text/html")


def minimal_page(code: int, title: str, explanation: str) -> str:
    """An error page that needs neither the layout, the user nor the database."""
    return (
        f'<!doctype html>\n<html lang="{escape(current_language())}">\n'
        f'<head><meta charset="utf-8"><title>{code} {escape(title)}</title></head>\n'
        f"<body><main><h1>{escape(title)}</h1>\n<p>{escape(explanation)}</p></main></body>\n"
        "</html>\n"
    )


def _forget_failed_work() -> None:
    # An unexpected exception may leave the session in a failed transaction (PostgreSQL
    # refuses every statement after an error), and the page loads the signed-in user. What the
    # view flashed ("saved") was not kept, so the page must not say it.
    session.pop("_flashes", None)
    try:
        db.session.rollback()
    except Exception:
        log.warning("rolling back after an error failed", exc_info=True)
