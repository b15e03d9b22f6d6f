"""Security headers on every response; ids in URLs bounded to what the database can hold."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from helpdesk.models.types import MAX_ROW_ID

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_security(app: Flask) -> None:
    """Add the response headers that keep pages inert in hostile hands."""

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
