"""The ``audit`` blueprint, for issuer administrators: ``/admin/audit`` (filter by action, actor
and date range; newest first, 50 a page) and its CSV and JSON exports, each export itself
recorded.  An administrator sees their own issuer's events; the administrators of the service's
own issuer also see service-wide events (:func:`portfolio.audit.service.reader_scope`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Role, User
from portfolio.audit import service
from portfolio.audit.export import actor_name, csv_chunks, json_chunks
from portfolio.audit.filters import AuditFilterError
from portfolio.audit.forms import AuditFilterForm
from portfolio.audit.labels import action_label
from portfolio.core import audit
from portfolio.core.errors import NotFoundError
from portfolio.core.models import utcnow
from portfolio.core.paging import paginate

bp = Blueprint("audit", __name__)

PER_PAGE = 50


def _as_stored(moment: datetime) -> datetime:
    # The page template's ``in_utc``: moments come from the database as aware UTC already
    # (UTCDateTime), so there is nothing left to convert.
    return moment


def _by_text(option: tuple[str, str]) -> str:
    return option[1].casefold()


def _scope() -> tuple[User, int, bool]:
    """The administrator, their issuer, and whether they also see service-wide events."""
    admin = signed_in_user()
    try:
        issuer_id, service_wide = service.reader_scope(admin)
    except NotFoundError:
        abort(404)
    return admin, issuer_id, service_wide


@bp.get("/admin/audit")
@login_required(role=Role.ADMIN)
def index() -> ResponseReturnValue:
    """The issuer's audit log, newest first; a filter that cannot be used gets the form back
    with its error (400)."""
    _admin, issuer_id, service_wide = _scope()
    form = AuditFilterForm(formdata=request.args)
    context: dict[str, Any] = {
        "actions": sorted(((name, action_label(name)) for name in audit.ACTIONS), key=_by_text),
        "action_label": action_label,
        "values": form.values(),
    }
    try:
        filters = form.filters()
    except AuditFilterError as error:
        page = render_template(
            "audit/index.html", error=error.message, error_field=error.field, **context
        )
        return page, 400
    pagination = paginate(
        service.events_query(filters, issuer_id=issuer_id, service_wide=service_wide),
        page=form.page_number(),
        per_page=PER_PAGE,
    )
    return render_template(
        "audit/index.html",
        error=None,
        error_field=None,
        pagination=pagination,
        users=service.actors_of(pagination.items),
        actor_name=actor_name,
        in_utc=_as_stored,
        query=filters.to_args(),
        filtered=bool(filters.to_args()),
        **context,
    )


def _export(kind: str) -> ResponseReturnValue:
    admin, issuer_id, service_wide = _scope()
    try:
        filters = AuditFilterForm(formdata=request.args).filters()
    except AuditFilterError as error:
        abort(400, description=error.message)
    # Reading the log is itself recorded, before a single row leaves the service.
    service.record_export(kind, filters, admin=admin, issuer_id=issuer_id)
    query = service.events_query(filters, issuer_id=issuer_id, service_wide=service_wide)
    if kind == "csv":
        chunks, media_type = csv_chunks(query), "text/csv; charset=utf-8"
    else:
        chunks, media_type = json_chunks(query, filters=filters), "application/json"
    response = Response(stream_with_context(chunks), content_type=media_type)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="audit-log-{utcnow().date().isoformat()}.{kind}"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/admin/audit.csv")
@login_required(role=Role.ADMIN)
def export_csv() -> ResponseReturnValue:
    """The filtered log as CSV (recorded as ``audit_exported``)."""
    return _export("csv")


@bp.get("/admin/audit.json")
@login_required(role=Role.ADMIN)
def export_json() -> ResponseReturnValue:
    """The filtered log as JSON (recorded as ``audit_exported``)."""
    return _export("json")
