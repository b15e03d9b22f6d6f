"""Security headers on every response, no NUL character into the app from any request, and
ids in URLs bounded to what the database can hold."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from helpdesk.i18n import gettext
from helpdesk.models.types import MAX_ROW_ID

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
NUL = "\x00"


def submitted_texts() -> Iterator[str]:
    """What a request hands the views to store or query with: its path, the names and values
    of its query string and form, and the names of the files it uploads."""
    yield request.path
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            yield name
            yield value
    for name, upload in request.files.items(multi=True):
        yield name
        yield upload.filename or ""


def init_security(app: Flask) -> None:
    """Add the response headers that keep pages inert in hostile hands, and refuse NUL."""

    @app.before_request
    def refuse_nul() -> None:
        # PostgreSQL stores no NUL in text (SQLite's full-text search chokes on one in a
        # query): refused here, once for every form and query, rather than a 500 later.
        if any(NUL in text for text in submitted_texts()):
            message = gettext(
                "The form or web address contains a NUL character (U+0000), which cannot be "
                "saved. It is invisible: retype the text without it and send again."
            )
            abort(400, description=message)

    @app.after_request
    def set_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in a route: a number past the row-id range matches nothing (404)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(url_map, *args, **kwargs)


def bound_route_ids(app: Flask) -> None:
    """Make every ``<int:...>`` of the routes registered after this a bounded row id."""
    app.url_map.converters["int"] = RowIdConverter
