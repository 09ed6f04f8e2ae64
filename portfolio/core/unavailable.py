"""The database going away: requests that cannot reach it answer 503 with ``Retry-After`` and a
clear message (JSON ``{"error", "detail"}`` on the API, a readable page elsewhere) instead of a
500 or a hanging worker, and the service recovers by itself once the database is back.

Recovery comes from the engine options set by :func:`configure_engine`: every pooled connection
is tested before use (``pool_pre_ping``), so connections broken by an outage are replaced
instead of failing the first request after it, and PostgreSQL connection attempts give up after
a few seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import InternalServerError

from portfolio.core.error_pages import unexpected_error_page
from portfolio.core.errors import (
    API_PREFIXES,
    RETRY_AFTER,
    database_unavailable,
    is_unavailable,
    log_outage,
    rollback_quietly,
)

_log = logging.getLogger(__name__)

#: Seconds a PostgreSQL connection attempt may take (libpq ``connect_timeout``).
CONNECT_TIMEOUT = 3


def configure_engine(app: Flask) -> None:
    """Set ``SQLALCHEMY_ENGINE_OPTIONS`` before ``db.init_app``: pre-ping pooled connections, and
    a short connect timeout on PostgreSQL (options the deployment set itself are kept)."""
    options: dict[str, Any] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_pre_ping", True)
    url = make_url(str(app.config["SQLALCHEMY_DATABASE_URI"]))
    if url.get_backend_name() == "postgresql":
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT)
        options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def page_response(error: BaseException) -> Response:
    """503 page (it touches no database: no account menu) with ``Retry-After``."""
    rollback_quietly()
    log_outage(error)
    page = render_template("errors/503.html", retry_after=RETRY_AFTER)
    return Response(page, 503, {"Retry-After": str(RETRY_AFTER)}, mimetype="text/html")


def _wants_json() -> bool:
    prefixes: set[str] = current_app.extensions.get(API_PREFIXES, set())
    if any(request.path.startswith(p) for p in prefixes) or request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def handle(error: Exception) -> Response:
    """App-wide handler: the 503 for an outage, else the app's usual 500 handling."""
    if not is_unavailable(error):
        body, status = unexpected_error_page(error)
        return Response(body, status, mimetype="text/html")
    return database_unavailable(error) if _wants_json() else page_response(error)


def handle_escalated(error: InternalServerError) -> Response:
    """An error page that itself needed the database (a signed-in person's 404 renders the
    account menu) escalates to a 500: answer the outage behind it as the 503 it is."""
    original = error.original_exception
    if original is not None and is_unavailable(original):
        return database_unavailable(original) if _wants_json() else page_response(original)
    body, status = unexpected_error_page(error)
    return Response(body, status, mimetype="text/html")


def init_app(app: Flask) -> None:
    """Answer database outages with 503 on every page (the API blueprints' own handler,
    portfolio/core/errors.py, asks :func:`is_unavailable` too)."""
    app.register_error_handler(DBAPIError, handle)
    app.register_error_handler(PoolTimeoutError, handle)
    app.register_error_handler(InternalServerError, handle_escalated)
