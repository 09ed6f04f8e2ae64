"""The database going away: requests that cannot reach it answer 503 with ``Retry-After`` and a
clear message (JSON ``{"error", "detail"}`` on the API, a readable page elsewhere) instead of a
500 or a hanging worker, and the service recovers by itself once the database is back.

Recovery comes from the engine options set by :func:`configure_engine`: every pooled connection
is tested before use (``pool_pre_ping``), so connections broken by an outage are replaced
instead of failing the first request after it, and PostgreSQL connection attempts give up after
a few seconds.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import InternalServerError

from .db import db

_log = logging.getLogger(__name__)

#: Seconds a client should wait before trying again.
RETRY_AFTER = 5
#: Seconds a PostgreSQL connection attempt may take (libpq ``connect_timeout``).
CONNECT_TIMEOUT = 3
CODE = "DATABASE_UNAVAILABLE"
DETAIL = (
    "the database cannot be reached right now; nothing was changed. "
    f"Try again in {RETRY_AFTER} seconds (Retry-After)"
)


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


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means "the database cannot be reached": a DB-API ``OperationalError``
    (refused or lost connection, server shutting down), any DB-API error that invalidated the
    connection, or no pooled connection free in time."""
    if isinstance(error, OperationalError | PoolTimeoutError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _rollback() -> None:
    # The unit of work is lost either way; rolling back returns the (possibly dead) connection
    # to the pool, where the next checkout's pre-ping replaces it.
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()


def _log_outage(error: BaseException) -> None:
    # The driver's message (host, port, reason) goes to the log only, never to the client.
    _log.warning(
        "database unavailable on %s %s: %s", request.method, request.path, str(error).strip()
    )


def json_response(error: BaseException) -> Response:
    """503 ``{"error": "DATABASE_UNAVAILABLE", "detail": ...}`` with ``Retry-After``."""
    from .errors import APIError

    _rollback()
    _log_outage(error)
    return APIError(503, CODE, DETAIL, headers={"Retry-After": str(RETRY_AFTER)}).to_response()


def page_response(error: BaseException) -> Response:
    """503 page (it touches no database: no account menu) with ``Retry-After``."""
    _rollback()
    _log_outage(error)
    page = render_template("errors/503.html", retry_after=RETRY_AFTER)
    return Response(page, 503, {"Retry-After": str(RETRY_AFTER)}, mimetype="text/html")


def _wants_json() -> bool:
    from .errors import _PREFIXES

    prefixes: set[str] = current_app.extensions.get(_PREFIXES, set())
    if any(request.path.startswith(p) for p in prefixes) or request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def handle(error: Exception) -> Response:
    """App-wide handler: the 503 for an outage, else the app's usual 500 handling."""
    if not is_unavailable(error):
        from .views import _unexpected

        body, status = _unexpected(error)
        return Response(body, status, mimetype="text/html")
    return json_response(error) if _wants_json() else page_response(error)


def handle_escalated(error: InternalServerError) -> Response:
    """An error page that itself needed the database (a signed-in person's 404 renders the
    account menu) escalates to a 500: answer the outage behind it as the 503 it is."""
    original = error.original_exception
    if original is not None and is_unavailable(original):
        return json_response(original) if _wants_json() else page_response(original)
    from .views import _unexpected

    body, status = _unexpected(error)
    return Response(body, status, mimetype="text/html")


def init_app(app: Flask) -> None:
    """Answer database outages with 503 on every page (the API blueprints' own handler,
    portfolio/errors.py, asks :func:`is_unavailable` too)."""
    app.register_error_handler(DBAPIError, handle)
    app.register_error_handler(PoolTimeoutError, handle)
    app.register_error_handler(InternalServerError, handle_escalated)
