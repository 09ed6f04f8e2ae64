"""Request ids and structured logs: every request gets an id (a well-formed incoming
``X-Request-ID``, else a new one) that is echoed in the response, shown on error pages and
attached to every log record; one log line per request; JSON or text lines on stderr.

Settings (README, "Configuration"): ``CREDFOLIO_LOG_FORMAT`` (``json`` or ``text``; ``credfolio
serve`` defaults to ``json``, everything else to ``text``) and ``CREDFOLIO_LOG_LEVEL``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

from portfolio.core.settings import settings

HEADER = "X-Request-ID"
#: An incoming id is kept only when it is short and made of harmless characters: it ends up in
#: log lines, a response header and pages, so it must not carry markup, newlines or bulk.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}")
FORMATS = ("json", "text")
ACCESS_LOGGER = "credfolio.request"
#: Probes and scrapes arrive every few seconds: their lines are logged at DEBUG, not INFO.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_HANDLER_MARK = "_credfolio_handler"
#: Attributes every LogRecord has; anything else was passed with ``extra=`` and is printed.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


def request_id() -> str | None:
    """This request's id (made on first use), or None outside a request."""
    if not has_request_context():
        return None
    current = g.get("request_id")
    if current is None:
        incoming = request.headers.get(HEADER, "")
        current = incoming if WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex
        g.request_id = current
    return str(current)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (None outside a request) to every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


def install_record_factory() -> None:
    """Give every log record of the process a ``request_id`` attribute (None outside a
    request), whatever handler or capture receives it.  Installed once."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _HANDLER_MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id()
        return record

    setattr(factory, _HANDLER_MARK, True)
    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC, ISO 8601), level, logger, message,
    request_id, the ``extra=`` fields, and the formatted traceback under ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                body[name] = value
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Readable lines for development: time, level, logger, [request id], message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


def log_format(app: Flask) -> str:
    """``CREDFOLIO_LOG_FORMAT`` (``json`` or ``text``, the default; checked by the settings)."""
    return settings(app).log_format or "text"


def log_level(app: Flask) -> int:
    """``CREDFOLIO_LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR or CRITICAL; checked by the
    settings)."""
    return settings(app).log_level


def make_handler(kind: str) -> logging.Handler:
    """A stderr handler with the request-id filter and the formatter for ``kind``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if kind == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    return handler


def configure_logging(app: Flask) -> None:
    """Send every logger's records (the app's, the packages', the access lines) through one
    stderr handler on the root logger, replacing the one a previous app installed.

    Apps made for tests (``TESTING``) leave logging alone unless ``CREDFOLIO_LOG_FORMAT`` is set:
    pytest captures records itself.
    """
    kind = log_format(app)
    level = log_level(app)
    if app.testing and settings(app).log_format is None:
        return
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
    root.addHandler(make_handler(kind))
    root.setLevel(level)
    # Flask's own stderr handler on app.logger would print every message a second time.
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)


def _user_id() -> int | None:
    # Only who the request already looked up (portfolio/accounts/auth.py): the log line never costs
    # a
    # database query of its own.
    user = g.get("credfolio_user")
    return getattr(user, "id", None)


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    response.headers[HEADER] = request_id() or ""
    started = g.get("request_started")
    duration = (time.perf_counter() - started) * 1000 if started is not None else None
    level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
    logging.getLogger(ACCESS_LOGGER).log(
        level,
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            # request.path never includes the query string (tokens and search terms stay out).
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration, 2) if duration is not None else None,
            "remote_addr": request.remote_addr,
            "user_id": _user_id(),
        },
    )
    return response


def init_app(app: Flask) -> None:
    """Install logging, the request id and the per-request log line on ``app``.

    The hooks go first among ``before_request`` and last among ``after_request`` functions, so
    the duration covers the other hooks and the line shows the final status.
    """
    install_record_factory()
    configure_logging(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
    app.context_processor(lambda: {"request_id": request_id})
