"""Prometheus metrics: HTTP requests and latency per URL rule (prometheus-flask-exporter), and the
service's own counters — credentials issued, verified (by result), revoked, and verification
failures by check.  Other code calls :func:`credential_issued`, :func:`credential_revoked` and
:func:`count_verification`; nothing else here is public API.

``GET /metrics`` answers loopback clients, or anyone sending ``Authorization: Bearer
<CREDFOLIO_METRICS_TOKEN>``; others get 404 (no token configured) or 403.  Under ``credfolio
serve`` (several gunicorn workers) ``PROMETHEUS_MULTIPROC_DIR`` is set and every worker's
figures are summed (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Request, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_flask_exporter import PrometheusMetrics
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portfolio.core.db import db
from portfolio.core.settings import settings

EXTENSION = "credfolio.metrics"
_PENDING = "credfolio.metrics.pending"

# -- the service's counters (module level: one set per process, shared by every app) ----------

ISSUED = Counter("credfolio_credentials_issued", "Credentials issued (signed and committed)")
VERIFIED = Counter(
    "credfolio_credentials_verified",
    "Credentials verified through the verify API and the /verify page, by result",
    ["result"],
)
REVOKED = Counter("credfolio_credentials_revoked", "Credentials revoked (committed)")
FAILURES = Counter(
    "credfolio_verification_failures",
    "Checks that made a verification fail (failed) or left it undecided (unknown), by check",
    ["check", "status"],
)
#: The verifier's check names (credentials/verify.py, credentials/presentation.py).  Any other
#: name (a status purpose from the credential, ``proof[7]``) is folded so that a hostile input
#: cannot create unbounded label values.
KNOWN_CHECKS = frozenset(
    {
        "contexts",
        "terms",
        "vc-data-model",
        "schema",
        "subject",
        "proof",
        "issuer",
        "key-status",
        "valid-from",
        "valid-until",
        "revocation",
        "suspension",
        "refresh",
        "message",
        "endorsements",
        "holder",
        "challenge",
        "domain",
        "presentation-proof",
    }
)
RESULTS = ("verified", "not_verified", "malformed")
for _result in RESULTS:  # every result is exported from the start, at 0
    VERIFIED.labels(result=_result)


def check_label(name: str) -> str:
    """The label value for a check name: the name itself when known, else ``other``."""
    base = re.sub(r"\[\d+\]$", "", name)
    return base if base in KNOWN_CHECKS else "other"


def _on_commit(action: Callable[[], None]) -> None:
    # Counted when the unit of work commits, never for a credential rolled back afterwards.
    db.session.info.setdefault(_PENDING, []).append(action)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for action in session.info.pop(_PENDING, []):
        action()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def credential_issued() -> None:
    """Count one issued credential when the current transaction commits."""
    _on_commit(ISSUED.inc)


def credential_revoked() -> None:
    """Count one revocation when the current transaction commits."""
    _on_commit(REVOKED.inc)


def count_verification(
    *, verified: bool, checks: Iterable[Mapping[str, Any]], malformed: bool = False
) -> None:
    """Count one verification and each check that failed or stayed unknown in it.

    ``checks`` are the result's checks as dicts (``{"name", "status", ...}``); ``malformed``
    says the input was refused before it could be judged (a 400).
    """
    result = "malformed" if malformed else "verified" if verified else "not_verified"
    VERIFIED.labels(result=result).inc()
    for check in checks:
        status = str(check.get("status", ""))
        if status in ("failed", "unknown"):
            FAILURES.labels(check=check_label(str(check.get("name", ""))), status=status).inc()


# -- HTTP metrics and the /metrics endpoint --------------------------------------------------


def rule(req: Request) -> str:
    """The URL rule that matched (``/credentials/<public_id>``), not the raw path: a bounded
    set of label values.  (The function's name is the label's name.)"""
    return req.url_rule.rule if req.url_rule is not None else "unmatched"


def multiprocess() -> bool:
    """Whether this process writes its figures to ``PROMETHEUS_MULTIPROC_DIR``."""
    return bool(settings().prometheus_multiproc_dir)


# -- gauges read from the database at each scrape ---------------------------------------------


@dataclass(frozen=True)
class DatabaseGauge:
    """A gauge whose values are counted in the database when ``/metrics`` is read, so that a
    change made anywhere — another server, a ``credfolio`` command — shows at once (issue 18
    §8: status changes made with the CLI never reached the counters of the serving processes).
    ``count()`` returns value per label value."""

    name: str
    documentation: str
    label: str
    count: Callable[[], Mapping[str, int]]


_DATABASE_GAUGES: list[DatabaseGauge] = []


def database_gauge(gauge: DatabaseGauge) -> None:
    """Register a gauge (a feature with tables of its own calls this at import)."""
    if all(known.name != gauge.name for known in _DATABASE_GAUGES):
        _DATABASE_GAUGES.append(gauge)


class _DatabaseCollector:
    def collect(self) -> Iterator[GaugeMetricFamily]:
        for gauge in _DATABASE_GAUGES:
            try:
                values = gauge.count()
            except SQLAlchemyError:  # the database away: /metrics still answers, without it
                db.session.rollback()
                continue
            family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=[gauge.label])
            for label, value in sorted(values.items()):
                family.add_metric([label], value)
            yield family


def _database_gauges() -> bytes:
    registry = CollectorRegistry()
    registry.register(_DatabaseCollector())
    return bytes(_generate_latest(registry))


def exposition() -> bytes:
    """The text exposition format of every metric: all workers' in multiprocess mode, else this
    process's (the app's HTTP metrics and the service counters), and the database's gauges."""
    if multiprocess():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped in prometheus_client
        return bytes(_generate_latest(registry)) + _database_gauges()
    exporter: PrometheusMetrics = current_app.extensions[EXTENSION]
    return (
        bytes(_generate_latest(exporter.registry))
        + bytes(_generate_latest(REGISTRY))
        + _database_gauges()
    )


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _check_access() -> None:
    """Let loopback clients in, or the bearer token; else 404 (no token configured) or 403.

    A request relayed by a proxy that the app does not trust (``X-Forwarded-For`` present,
    ``CREDFOLIO_TRUSTED_PROXIES`` = 0) comes from the proxy's loopback address but not from a
    loopback client, so it needs the token."""
    token = settings().metrics_token or ""
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return
    relayed = "werkzeug.proxy_fix.orig" not in request.environ and (
        "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    )
    if _loopback(request.remote_addr) and not relayed:
        return
    if not token:
        abort(404)  # not configured for remote scrapes: nothing to see here
    abort(403)


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics_endpoint() -> Response:
    """The Prometheus scrape endpoint (see the module docstring for who may read it)."""
    _check_access()
    response = Response(exposition(), mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> PrometheusMetrics:
    """Record request counts and latencies on ``app`` and register ``GET /metrics``.

    Each app gets its own registry for the HTTP metrics (tests build many apps in one process);
    in multiprocess mode the figures go to the shared directory whatever the registry.
    """
    exporter = PrometheusMetrics(
        app,
        path=None,
        group_by=rule,
        registry=CollectorRegistry(auto_describe=True),
    )
    app.extensions[EXTENSION] = exporter
    app.register_blueprint(bp)
    return exporter
