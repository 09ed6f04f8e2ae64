"""The ``health`` blueprint (JSON), for orchestrators and load balancers: ``GET /healthz`` (the
process answers; touches nothing) and ``GET /readyz`` (every check of
:mod:`portfolio.operations.readiness` passes).

``/readyz`` answers 200 when every check is ``ok``, else 503, with
``{"status": "ready" | "not-ready", "checks": [{"name", "status", "detail"}]}``.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Flask, Response

from portfolio.core.errors import json_response
from portfolio.operations.readiness import check_database, check_keys, check_storage

bp = Blueprint("health", __name__)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answering.  Checks nothing else, so a database outage does not
    make an orchestrator restart healthy workers."""
    return _no_store(json_response({"status": "ok"}))


@bp.get("/readyz")
def readyz() -> Response:
    """200 when the service can do its work, 503 with the failing checks otherwise."""
    checks = [check_database(), check_storage(), check_keys()]
    ready = all(check.status == "ok" for check in checks)
    body = {
        "status": "ready" if ready else "not-ready",
        "checks": [asdict(check) for check in checks],
    }
    return _no_store(json_response(body, 200 if ready else 503))


def init_app(app: Flask) -> None:
    """Register the probes, outside rate limits and CSRF protection."""
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
