"""Errors of the web app, in one hierarchy.

* :class:`CredfolioError` and its kinds (:class:`InvalidInputError`, :class:`NotFoundError`,
  :class:`ConflictError`, :class:`NotAllowedError`, :class:`UnavailableError`): what a
  feature's service raises when it refuses something.  A service never speaks HTTP;
  :func:`status_for` is the one place that maps a kind to a status, for the pages and the JSON
  API alike.
* :class:`APIError`: an answer of the JSON API, and the handlers that make every failure of an
  API blueprint a JSON body ``{"error": code, "detail": message}`` — never an HTML page or a
  stack trace.
* The database going away: :func:`is_unavailable` and its 503 answer.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, has_app_context, request
from flask.blueprints import BlueprintSetupState
from flask_babel import force_locale
from flask_babel.speaklater import LazyString
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, default_exceptions

from credentials.errors import CredentialError, MalformedInputError
from issuer_keys.errors import IssuerKeyError
from portfolio.core.db import db

#: Request bodies of the JSON API are small documents; anything larger is refused (413) before
#: it is parsed, so a client cannot make the service hold megabytes of JSON in memory.
MAX_BODY_BYTES = 1024 * 1024

_log = logging.getLogger(__name__)
API_PREFIXES = "credfolio.api_prefixes"


def _in_english(message: str | LazyString) -> str:
    """``message`` in English: a lazy gettext string is made with the English catalogue."""
    if not isinstance(message, LazyString) or not has_app_context():
        return str(message)
    with force_locale("en"):
        return str(message)


class CredfolioError(Exception):
    """A refusal by a service: a stable machine ``code`` and a ``message`` that is safe to show
    to the person who asked (it never carries secrets, SQL or a traceback)."""

    #: The default code of the kind; a subclass or an instance may be more precise.
    code = "REFUSED"

    def __init__(self, message: str | LazyString, *, code: str | None = None) -> None:
        # A service may give ``lazy_gettext("…", name=…)``: ``message`` is then made in the
        # reader's language (pages show it, flash it) and ``english`` in English (the JSON API
        # answers in English whatever the request's language).
        self.english = _in_english(message)
        self.message = str(message)
        super().__init__(self.message)
        if code is not None:
            self.code = code


class InvalidInputError(CredfolioError):
    """What was asked cannot be done as given: a field out of range, a file that is not what it
    says, a state the request does not fit.  Fixing the input fixes it."""

    code = "INVALID_INPUT"


class NotFoundError(CredfolioError):
    """There is no such thing — or the asker may not know that there is (no enumeration)."""

    code = "NOT_FOUND"


class ConflictError(CredfolioError):
    """The request is well formed but collides with the current state (taken, already done,
    changed by someone else meanwhile)."""

    code = "CONFLICT"


class NotAllowedError(CredfolioError):
    """The asker is known and may not do this."""

    code = "NOT_ALLOWED"


class UnavailableError(CredfolioError):
    """A part the request needs is not there right now (a signing key, the mail server)."""

    code = "UNAVAILABLE"


#: The one mapping of error kinds to HTTP statuses (the most specific kind wins).
_STATUS: tuple[tuple[type[CredfolioError], int], ...] = (
    (NotFoundError, 404),
    (NotAllowedError, 403),
    (ConflictError, 409),
    (UnavailableError, 503),
    (InvalidInputError, 422),
    (CredfolioError, 400),
)


def status_for(error: CredfolioError) -> int:
    """The HTTP status that answers ``error`` on a page or in the JSON API."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400  # pragma: no cover - CredfolioError is last in the table


class APIError(Exception):
    """An error answered as ``status`` with ``{"error": code, "detail": detail}``.

    ``extra`` adds members to the body (e.g. the partial ``checks`` of a refused credential);
    ``headers`` adds response headers (e.g. ``WWW-Authenticate``, ``Allow``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def to_dict(self) -> dict[str, Any]:
        """The JSON body: ``{"error": code, "detail": detail}`` plus ``extra``."""
        return {**self.extra, "error": self.code, "detail": self.detail}

    def to_response(self) -> Response:
        """A JSON response with this error's status and headers."""
        response = json_response(self.to_dict(), self.status)
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def json_response(body: Any, status: int = 200, *, mimetype: str = "application/json") -> Response:
    """``body`` serialized as JSON (UTF-8, key order kept).

    Text that UTF-8 cannot carry (a lone surrogate echoed from hostile input) is written with
    ``\\u`` escapes instead of failing."""
    text = json.dumps(body, ensure_ascii=False)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = json.dumps(body, ensure_ascii=True).encode("ascii")
    return Response(data, status=status, mimetype=mimetype)


def _error_code(exc: HTTPException) -> str:
    name = (exc.name or "error").upper()
    return "".join(c if c.isalnum() else "_" for c in name)


def handle_api_error(exc: APIError) -> Response:
    return exc.to_response()


def handle_domain_error(exc: CredfolioError) -> Response:
    """A service's refusal, answered with the status of its kind (:func:`status_for`)."""
    db.session.rollback()
    return APIError(status_for(exc), exc.code, exc.english).to_response()


def handle_http_exception(exc: HTTPException) -> Response:
    """404, 405, 413, 415, ... as JSON; keeps the headers Werkzeug set (``Allow`` on a 405)."""
    status = exc.code or 500
    detail = exc.description or exc.name or "error"
    if status == 413:
        detail = f"the request body is larger than {MAX_BODY_BYTES} bytes"
    response = APIError(status, _error_code(exc), detail).to_response()
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_credential_error(exc: CredentialError) -> Response:
    """Malformed input → 400; a well-formed request we refuse (``IssueError``) → 422."""
    status = 400 if isinstance(exc, MalformedInputError) else 422
    return json_response(exc.to_dict(), status)


def handle_key_error(exc: IssuerKeyError) -> Response:
    """A problem with *our* keys is the service's fault, not the client's: 500.  The message
    stays in the log; the client learns only that signing is unavailable."""
    db.session.rollback()
    current_app.logger.error("issuer key error on %s: %s (%s)", request.path, exc.message, exc.code)
    return APIError(
        500,
        "ISSUER_KEY_UNAVAILABLE",
        "the issuer's signing key cannot be used right now; the operator has been notified",
    ).to_response()


def handle_unexpected(exc: Exception) -> Response:
    """Anything else: roll the session back, log the traceback, answer a bare 500."""
    if isinstance(exc, HTTPException):  # reached through the generic handler
        return handle_http_exception(exc)
    if is_unavailable(exc):  # the database went away: 503 with Retry-After, not a 500
        return database_unavailable(exc)
    db.session.rollback()
    current_app.logger.exception("unexpected error on %s", request.path)
    return APIError(500, "INTERNAL_ERROR", "an unexpected error occurred").to_response()


def _limit_body() -> None:
    # Flask ≥ 3.1: a per-request limit, enforced while the body is read (Content-Length or
    # chunked); reading more raises RequestEntityTooLarge → 413 JSON.
    request.max_content_length = MAX_BODY_BYTES


def _routing_errors_as_json() -> Response | None:
    # A 404 or 405 raised while *matching* the URL belongs to no blueprint, so blueprint error
    # handlers never see it.  The routing exception is known before the view runs: answer it as
    # JSON here for the API's paths, and leave every other path to the app's own pages.
    exc = request.routing_exception
    if not isinstance(exc, NotFound | MethodNotAllowed):
        return None
    prefixes: set[str] = current_app.extensions.get(API_PREFIXES, set())
    path = request.path
    if any(path.startswith(p) for p in prefixes) or path.endswith("/did.json"):
        return handle_http_exception(exc)
    return None


def register_api_errors(bp: Blueprint, *, prefixes: tuple[str, ...] = ()) -> None:
    """Install the JSON error handlers and the body limit on an API blueprint.

    Handlers are registered per status code as well as for the base classes, because Flask
    consults code-specific handlers (including app-wide HTML pages) before class handlers.
    ``prefixes`` are the blueprint's URL prefixes: unknown URLs and wrong methods under them
    (404/405 raised by routing, before any blueprint is chosen) are answered as JSON too.
    """

    def remember(state: BlueprintSetupState) -> None:
        if API_PREFIXES not in state.app.extensions:
            state.app.extensions[API_PREFIXES] = set()
            state.app.before_request(_routing_errors_as_json)
        state.app.extensions[API_PREFIXES].update(prefixes)

    bp.record_once(remember)
    bp.before_request(_limit_body)
    bp.register_error_handler(APIError, handle_api_error)
    bp.register_error_handler(CredfolioError, handle_domain_error)
    bp.register_error_handler(CredentialError, handle_credential_error)
    bp.register_error_handler(IssuerKeyError, handle_key_error)
    for code in default_exceptions:
        bp.register_error_handler(code, handle_http_exception)
    bp.register_error_handler(HTTPException, handle_http_exception)
    bp.register_error_handler(Exception, handle_unexpected)


# -- The database going away (see portfolio/core/unavailable.py for the pages) ----------------

#: Seconds a client should wait before trying again.
RETRY_AFTER = 5
UNAVAILABLE_CODE = "DATABASE_UNAVAILABLE"
UNAVAILABLE_DETAIL = (
    "the database cannot be reached right now; nothing was changed. "
    f"Try again in {RETRY_AFTER} seconds (Retry-After)"
)


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means "the database cannot be reached": a DB-API ``OperationalError``
    (refused or lost connection, server shutting down), any DB-API error that invalidated the
    connection, or no pooled connection free in time."""
    if isinstance(error, OperationalError | PoolTimeoutError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def rollback_quietly() -> None:
    # The unit of work is lost either way; rolling back returns the (possibly dead) connection
    # to the pool, where the next checkout's pre-ping replaces it.
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()


def log_outage(error: BaseException) -> None:
    # The driver's message (host, port, reason) goes to the log only, never to the client.
    _log.warning(
        "database unavailable on %s %s: %s", request.method, request.path, str(error).strip()
    )


def database_unavailable(error: BaseException) -> Response:
    """503 ``{"error": "DATABASE_UNAVAILABLE", "detail": ...}`` with ``Retry-After``."""
    rollback_quietly()
    log_outage(error)
    return APIError(
        503, UNAVAILABLE_CODE, UNAVAILABLE_DETAIL, headers={"Retry-After": str(RETRY_AFTER)}
    ).to_response()
