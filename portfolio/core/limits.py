"""Rate limits (issue #7): Flask-Limiter on the endpoints that do costly or sensitive work for
anyone who asks — public verification, the OAuth token endpoint, sign-in and password reset.
(Sign-in lockout is not a rate limit: it counts in the database, see
``portfolio.accounts.sign_in_service``.)

Counters live in Redis when ``CREDFOLIO_RATELIMIT_STORAGE_URL`` names one (shared by every
worker; needed as soon as there is more than one), else in this process's memory; when Redis
cannot be reached the limits go on in memory rather than failing the request.  Limits are per
client address (``request.remote_addr``: behind a proxy, make sure it is the client's).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask, current_app, render_template
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from portfolio.core.settings import Settings, settings

_log = logging.getLogger(__name__)

EXTENSION = "credfolio.limiter"

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


def shares_counters(url: str) -> bool:
    """Whether rate-limit counters kept at ``url`` are shared between processes (``memory://``
    gives each worker its own: with several workers each limit is multiplied by their number)."""
    return not url.startswith("memory://")


def on_loopback(url: str) -> bool:
    """Whether a store's URL names this machine (``127.0.0.1``, ``::1``, ``localhost``)."""
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    return host in {"localhost", "::1"} or host.startswith("127.")


def _storage_options(url: str) -> dict[str, float | str | bool]:
    return dict(REDIS_OPTIONS) if url.startswith(("redis://", "rediss://", "redis+")) else {}


def init_app(app: Flask) -> Limiter:
    """Rate-limit the views of :data:`LIMITED` on ``app`` (call it once every blueprint is
    registered).  Returns the app's ``Limiter``.

    Raises ``KeyError`` when a limited endpoint is not registered (a renamed view must not
    silently lose its limit).
    """
    config = settings(app)
    enabled = not app.testing if config.ratelimit_enabled is None else config.ratelimit_enabled
    app.config.setdefault("CREDFOLIO_RATELIMIT_ENABLED", enabled)  # as before: config mirrors it
    url = config.ratelimit_storage_url
    prefix = config.ratelimit_key_prefix
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
            current = _while_shared_store_is_away(
                limiter, limit_of(config, item.setting), config.workers
            )
            limit = limiter.shared_limit(
                current,
                scope=item.setting.removeprefix("CREDFOLIO_RATELIMIT_").lower(),
                methods=list(item.methods),
                error_message=_refusal(current),
            )
            app.view_functions[item.endpoint] = cast(Any, limit(view))
    app.register_error_handler(RateLimitExceeded, too_many_requests_page)
    return limiter


def share_of(value: str, workers: int) -> str:
    """Each of ``workers`` processes' share of a limit (``"30 per minute; 300 per hour"`` for
    4 → ``"7 per minute; 75 per hour"``; never below 1)."""
    shares = []
    for part in value.split(";"):
        amount, _, rest = part.strip().partition(" ")
        shares.append(f"{max(1, int(amount) // max(1, workers))} {rest}")
    return "; ".join(shares)


def _while_shared_store_is_away(limiter: Limiter, value: str, workers: int) -> Callable[[], str]:
    """The limit, evaluated per request: while Flask-Limiter counts in this process's memory
    because the shared store (Redis) is away, each worker gets its share of it, so that the
    service as a whole still allows what it says (issue 18 §5: the budgets multiplied by the
    number of workers).  Flask-Limiter marks that state in ``_storage_dead`` (4.1, pinned in
    pyproject.toml; tests/portfolio/core/test_rate_limits.py fails if that changes)."""
    divided = share_of(value, workers)

    def current() -> str:
        return divided if getattr(limiter, "_storage_dead", False) else value

    return current


def _refusal(current: Callable[[], str]) -> Callable[[], str]:
    def message() -> str:
        return (
            f"too many requests from your address: at most {current()}; "
            "try again after the number of seconds in the Retry-After header"
        )

    return message


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
    minutes = 1 if seconds <= 60 else math.ceil(seconds / 60)
    message = ngettext(
        "Too many requests like this one came from your network address in a short time. "
        "Please wait a minute and try again.",
        "Too many requests like this one came from your network address in a short time. "
        "Please wait %(num)d minutes and try again.",
        minutes,
    )
    page = render_template("errors/generic.html", title=_("Too many requests"), message=message)
    return page, 429, {"Retry-After": str(seconds)}
