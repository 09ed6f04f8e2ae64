"""Running the service in production, wired into the app in one place: request ids and
structured logs, ``/healthz`` and ``/readyz``, Prometheus metrics, 503 while the database is
away, and the reverse-proxy headers (``CREDFOLIO_TRUSTED_PROXIES``).  See docs/deploy.md.
"""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portfolio.core import metrics, request_log, unavailable
from portfolio.operations import health

#: More than this many proxies in front of one service is a misconfiguration, not a topology.
MAX_TRUSTED_PROXIES = 5


def trusted_proxies(app: Flask) -> int:
    """``CREDFOLIO_TRUSTED_PROXIES``: how many reverse proxies in front of the app set
    ``X-Forwarded-For``/``-Proto``/``-Host`` (default 0: those headers are ignored).
    Raises ``RuntimeError`` for anything but a whole number from 0 to 5."""
    raw = app.config.get("CREDFOLIO_TRUSTED_PROXIES")
    if raw is None:
        raw = os.environ.get("CREDFOLIO_TRUSTED_PROXIES") or 0
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_TRUSTED_PROXIES:
        raise RuntimeError(
            "CREDFOLIO_TRUSTED_PROXIES must be the number of reverse proxies in front of the "
            f"service, from 0 to {MAX_TRUSTED_PROXIES}, not {raw!r}"
        )
    return value


def apply_proxy_fix(app: Flask) -> None:
    """Behind ``N`` trusted proxies, take the client's address, scheme and host from the last
    ``N`` values of the ``X-Forwarded-*`` headers (werkzeug's ProxyFix), so that rate limits,
    logs and the loopback check of ``/metrics`` see the client, not the proxy.  Trusting more
    proxies than there are would let clients choose their own address: keep it exact."""
    count = trusted_proxies(app)
    if count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )


POOL_SETTINGS = {"CREDFOLIO_DB_POOL_SIZE": "pool_size", "CREDFOLIO_DB_MAX_OVERFLOW": "max_overflow"}


def configure_engine(app: Flask) -> None:
    """Before ``db.init_app``: engine options that let the service outlive a database outage,
    and the connection pool's size per worker on PostgreSQL (``CREDFOLIO_DB_POOL_SIZE``,
    ``CREDFOLIO_DB_MAX_OVERFLOW``; SQLAlchemy's 5 and 10 when unset).  Raises ``RuntimeError``
    for a pool setting that is not a whole number."""
    unavailable.configure_engine(app)
    if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        return
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    for setting, option in POOL_SETTINGS.items():
        raw = app.config.get(setting) or os.environ.get(setting)
        if raw is None or raw == "":
            continue
        try:
            value = int(str(raw).strip())
        except ValueError:
            value = -1
        if value < 0 or (option == "pool_size" and value == 0):
            raise RuntimeError(f"{setting} must be a whole number (pool size at least 1)")
        options.setdefault(option, value)


def init_app(app: Flask) -> None:
    """After every other blueprint: logs, probes, metrics, outage handling, proxy headers."""
    request_log.init_app(app)
    health.init_app(app)
    metrics.init_app(app)
    unavailable.init_app(app)
    apply_proxy_fix(app)
