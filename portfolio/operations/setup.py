"""Running the service in production, wired into the app in one place: request ids and
structured logs, ``/healthz`` and ``/readyz``, Prometheus metrics, 503 while the database is
away, and the reverse-proxy headers (``CREDFOLIO_TRUSTED_PROXIES``).  See docs/deploy.md.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portfolio.core import metrics, request_log, unavailable
from portfolio.core.settings import settings
from portfolio.operations import api


def trusted_proxies(app: Flask) -> int:
    """``CREDFOLIO_TRUSTED_PROXIES``: how many reverse proxies in front of the app set
    ``X-Forwarded-For``/``-Proto``/``-Host`` (default 0: those headers are ignored; the
    settings refuse anything but a whole number from 0 to 5)."""
    return settings(app).trusted_proxies


def apply_proxy_fix(app: Flask) -> None:
    """Behind ``N`` trusted proxies, take the client's address, scheme and host from the last
    ``N`` values of the ``X-Forwarded-*`` headers (werkzeug's ProxyFix), so that rate limits,
    logs and the loopback check of ``/metrics`` see the client, not the proxy.  Trusting more
    proxies than there are would let clients choose their own address: keep it exact."""
    count = trusted_proxies(app)
    if count:
        # Flask's documented way to add WSGI middleware; mypy sees a method being replaced.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )


def configure_engine(app: Flask) -> None:
    """Before ``db.init_app``: engine options that let the service outlive a database outage,
    and the connection pool's size per worker on PostgreSQL (``CREDFOLIO_DB_POOL_SIZE``,
    ``CREDFOLIO_DB_MAX_OVERFLOW``; SQLAlchemy's 5 and 10 when unset)."""
    unavailable.configure_engine(app)
    if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        return
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    config = settings(app)
    for option, value in (
        ("pool_size", config.db_pool_size),
        ("max_overflow", config.db_max_overflow),
    ):
        if value is not None:
            options.setdefault(option, value)


def init_app(app: Flask) -> None:
    """After every other blueprint: logs, probes, metrics, outage handling, proxy headers."""
    request_log.init_app(app)
    api.init_app(app)
    metrics.init_app(app)
    unavailable.init_app(app)
    apply_proxy_fix(app)
