"""Rate limits (issue #7): Flask-Limiter on the endpoints that do costly or sensitive work for
anyone who asks — public verification, the OAuth token endpoint, sign-in and password reset — and
the failure counters that make a sign-in address without an account lock like an account does.

Counters live in Redis when ``CREDFOLIO_RATELIMIT_STORAGE_URL`` names one (shared by every
worker; needed as soon as there is more than one), else in this process's memory; when Redis
cannot be reached the limits go on in memory rather than failing the request.  Limits are per
client address (``request.remote_addr``: behind a proxy, make sure it is the client's).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from flask import Flask, current_app, render_template
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string

from portfolio.core.settings import Settings, settings

_log = logging.getLogger(__name__)

EXTENSION = "credfolio.limiter"
FAILURES_EXTENSION = "credfolio.failure_counter"

#: The settings (README, "Configuration"; defaults in :class:`~portfolio.core.settings.Settings`)
#: give limits in Flask-Limiter's notation (``"10 per minute; 50 per hour"``).
#: ``CREDFOLIO_RATELIMIT_ENABLED`` defaults to on, except in apps made for tests (``TESTING``),
#: whose rate-limit tests switch it on explicitly.
#: A Redis that does not answer must not hold a worker for long (then memory takes over).
REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}


@dataclass(frozen=True)
class LimitedEndpoint:
    """A view whose ``methods`` count against the limit named by ``setting``."""

    endpoint: str
    setting: str
    methods: tuple[str, ...] = ("POST",)


#: Every rate-limited view.  Views with the same setting share one budget per address (the
#: verify API and the /verify page are one budget, not three).
LIMITED = (
    LimitedEndpoint("vcapi.verify_credential", "CREDFOLIO_RATELIMIT_VERIFY"),
    LimitedEndpoint("vcapi.verify_presentation_endpoint", "CREDFOLIO_RATELIMIT_VERIFY"),
    LimitedEndpoint("public.verify_page", "CREDFOLIO_RATELIMIT_VERIFY"),
    LimitedEndpoint("oauth.token", "CREDFOLIO_RATELIMIT_TOKEN"),
    LimitedEndpoint("auth.sign_in_page", "CREDFOLIO_RATELIMIT_SIGN_IN"),
    LimitedEndpoint("accounts.forgot_password", "CREDFOLIO_RATELIMIT_PASSWORD_RESET"),
)


def _storage_options(url: str) -> dict[str, float | str | bool]:
    return dict(REDIS_OPTIONS) if url.startswith(("redis://", "rediss://", "redis+")) else {}


def init_app(app: Flask) -> Limiter:
    """Rate-limit the views of :data:`LIMITED` on ``app`` (call it once every blueprint is
    registered) and set up the sign-in failure counters.  Returns the app's ``Limiter``.

    Raises ``KeyError`` when a limited endpoint is not registered (a renamed view must not
    silently lose its limit).
    """
    config = settings(app)
    enabled = not app.testing if config.ratelimit_enabled is None else config.ratelimit_enabled
    app.config.setdefault("CREDFOLIO_RATELIMIT_ENABLED", enabled)  # as before: config mirrors it
    url = config.ratelimit_storage_url
    prefix = config.ratelimit_key_prefix
    storage = cast(Storage, storage_from_string(url, wrap_exceptions=True, **_storage_options(url)))
    app.extensions[FAILURES_EXTENSION] = FailureCounter(storage, prefix=prefix)
    # One Limiter per app (not one per module): each app keeps its own storage and settings.
    limiter = Limiter(
        get_remote_address,
        storage_uri=url,
        storage_options=_storage_options(url),  # type: ignore[arg-type]
        key_prefix=prefix,
        strategy="fixed-window",
        headers_enabled=True,  # X-RateLimit-* on limited views, Retry-After on a 429
        in_memory_fallback_enabled=True,
        enabled=enabled,
    )
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter
    if limiter.enabled:
        for item in LIMITED:
            view = app.view_functions[item.endpoint]
            value = limit_of(config, item.setting)
            limit = limiter.shared_limit(
                value,
                scope=item.setting.removeprefix("CREDFOLIO_RATELIMIT_").lower(),
                methods=list(item.methods),
                error_message=(
                    f"too many requests from your address: at most {value}; "
                    "try again after the number of seconds in the Retry-After header"
                ),
            )
            app.view_functions[item.endpoint] = cast(Any, limit(view))
    app.register_error_handler(RateLimitExceeded, too_many_requests_page)
    return limiter


def limit_of(config: Settings, setting: str) -> str:
    """The limit a ``CREDFOLIO_RATELIMIT_*`` setting gives (e.g. ``"5 per minute"``)."""
    value: str = getattr(config, setting.removeprefix("CREDFOLIO_").lower())
    return value


def retry_after_seconds() -> int:
    """Seconds until the limit this request broke lets requests through again (at least 1)."""
    limiter: Limiter = current_app.extensions[EXTENSION]
    current = limiter.current_limit
    if current is None:
        return 60
    # Rounded as Flask-Limiter rounds its Retry-After header, so that the page agrees with it.
    return max(1, int(current.reset_at - time.time()))


def too_many_requests_page(error: RateLimitExceeded) -> tuple[str, int, dict[str, str]]:
    """429 for pages: say in words when to try again, and send ``Retry-After``.  (The JSON
    blueprints answer their own 429s as ``{"error", "detail"}``.)"""
    seconds = retry_after_seconds()
    wait = "a minute" if seconds <= 60 else f"{math.ceil(seconds / 60)} minutes"
    message = (
        "Too many requests like this one came from your network address in a short time. "
        f"Please wait {wait} and try again."
    )
    page = render_template("errors/generic.html", title="Too many requests", message=message)
    return page, 429, {"Retry-After": str(seconds)}


# -- sign-in failures of addresses without an account ------------------------------------------


class FailureCounter:
    """Failed sign-ins and lock deadlines per email address, kept in the rate-limit storage.

    Accounts keep theirs in the database (``User.failed_sign_ins``, ``locked_until``); this
    keeps the same for addresses that have no account, so that both lock after the same number
    of failures for the same time and the lock does not reveal which addresses exist.  Addresses
    are stored as SHA-256 digests, never in clear.  When the storage fails (Redis down), this
    process's memory takes over, and Redis is tried again after :attr:`RETRY_SECONDS`.
    """

    RETRY_SECONDS = 30.0

    def __init__(self, storage: Storage, *, prefix: str) -> None:
        self._storage = storage
        self._fallback: Storage = MemoryStorage()
        self._prefix = prefix
        self._storage_down_until = 0.0

    def _key(self, email: str, kind: str) -> str:
        digest = hashlib.sha256(email.encode("utf-8")).hexdigest()
        return f"{self._prefix}:sign-in:{kind}:{digest}"

    def _call(self, method: str, *args: Any) -> Any:
        if time.monotonic() >= self._storage_down_until:
            try:
                return getattr(self._storage, method)(*args)
            except StorageError:
                # Not on every request: a Redis that times out would hold each sign-in.
                self._storage_down_until = time.monotonic() + self.RETRY_SECONDS
                _log.warning("rate-limit storage unreachable; sign-in failures counted in memory")
        return getattr(self._fallback, method)(*args)

    def locked_until(self, email: str) -> datetime | None:
        """When the lock on ``email`` ends, or None when it is not locked."""
        key = self._key(email, "locked")
        if int(self._call("get", key)) <= 0:
            return None
        return datetime.fromtimestamp(float(self._call("get_expiry", key)), UTC)

    def add_failure(self, email: str, *, remember_seconds: int) -> int:
        """Count one more failure for ``email``; return the count.  Counts are forgotten
        ``remember_seconds`` after the first one."""
        return int(self._call("incr", self._key(email, "failures"), remember_seconds))

    def lock(self, email: str, seconds: int) -> datetime:
        """Refuse ``email`` for ``seconds``; return when the lock ends."""
        key = self._key(email, "locked")
        self._call("clear", key)
        self._call("incr", key, seconds)
        return datetime.fromtimestamp(float(self._call("get_expiry", key)), UTC)


def failure_counter() -> FailureCounter:
    """The current app's :class:`FailureCounter` (set up by :func:`init_app`)."""
    counter: FailureCounter = current_app.extensions[FAILURES_EXTENSION]
    return counter
