"""The audit log for issuer administrators: ``/admin/audit`` (filter by action, actor and date
range; newest first, 50 a page) and its CSV and JSON exports, each export itself recorded.

Also the filters and serializers that ``credfolio audit export`` (``audit_cli.py``) shares.
An administrator sees their own issuer's events; the administrators of the service's own issuer
also see service-wide events (no issuer: command-line actions, sign-ins of unknown addresses).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, and_, or_, select

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Issuer, User
from portfolio.core import audit
from portfolio.core.csv_cells import csv_safe
from portfolio.core.db import db
from portfolio.core.models import AuditEvent, utcnow
from portfolio.core.paging import paginate

bp = Blueprint("audit", __name__)

PER_PAGE = 50
MAX_ACTOR_LENGTH = 200
#: The columns of the CSV export, in order (the JSON export has the same keys).
COLUMNS = ("id", "at", "action", "actor_id", "actor", "issuer_id", "target", "ip", "detail")
#: Rows read from the database at a time while an export streams.
_BATCH = 500
_FILTER_NAMES = ("action", "actor", "since", "until")


class FilterError(ValueError):
    """A filter that cannot be used: ``field`` names it; the message is safe to show."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AuditFilter:
    """Which events: one ``action``, an ``actor`` (part of a name, address or label), and a
    date range, ``since`` and ``until`` both inclusive (UTC days)."""

    action: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilter:
        """Read the query string.  Raises :class:`FilterError`."""
        action = (args.get("action") or "").strip() or None
        if action is not None and action not in audit.ACTIONS:
            raise FilterError("action", "Choose an action from the list.")
        actor = (args.get("actor") or "").strip()[:MAX_ACTOR_LENGTH] or None
        since = _day(args.get("since"), "since")
        until = _day(args.get("until"), "until")
        if since and until and since > until:
            raise FilterError("until", "The end date is before the start date.")
        return cls(action=action, actor=actor, since=since, until=until)

    def to_args(self) -> dict[str, str]:
        """The query string of these filters (for links and for the export's record)."""
        values = {
            "action": self.action,
            "actor": self.actor,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {key: value for key, value in values.items() if value}


def _day(value: str | None, field: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(field, "Write the date as YYYY-MM-DD, e.g. 2025-01-31.") from None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def events_query(
    filters: AuditFilter, *, issuer_id: int | None, service_wide: bool
) -> Select[tuple[AuditEvent]]:
    """The events matching ``filters``, newest first.

    ``issuer_id`` limits them to one issuer's (None: every issuer's, for the command line);
    ``service_wide`` adds the events that belong to no issuer.
    """
    query = select(AuditEvent)
    if issuer_id is not None:
        scope = AuditEvent.issuer_id == issuer_id
        query = query.where(or_(scope, AuditEvent.issuer_id.is_(None)) if service_wide else scope)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        # The text is a bound parameter with LIKE's wildcards escaped.
        pattern = _like(filters.actor)
        users = select(User.id).where(
            or_(
                User.email.ilike(pattern, escape="\\"),
                User.display_name.ilike(pattern, escape="\\"),
            )
        )
        by_id = AuditEvent.actor_id.in_(users)
        if filters.actor.isdigit():  # a user id, as the CSV shows them
            by_id = or_(by_id, AuditEvent.actor_id == int(filters.actor))
        query = query.where(or_(AuditEvent.actor_label.ilike(pattern, escape="\\"), by_id))
    if filters.since:
        query = query.where(AuditEvent.at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        query = query.where(AuditEvent.at < end)
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def in_utc(moment: datetime) -> datetime:
    """``moment`` in UTC (SQLite gives back naive datetimes, which were stored in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_time(moment: datetime) -> str:
    """``2025-01-31T12:00:00.123456Z``."""
    return in_utc(moment).isoformat().replace("+00:00", "Z")


def actor_name(event: AuditEvent, users: Mapping[int, User]) -> str:
    """Who did it, for people: ``Name <address>``, a label (``cli``, ``client:…``), or the
    user id of an account that no longer exists."""
    if event.actor_id is not None:
        user = users.get(event.actor_id)
        if user is None:
            return f"user {event.actor_id}"
        return f"{user.display_name} <{user.email}>"
    return event.actor_label or "—"


def event_dict(event: AuditEvent, users: Mapping[int, User]) -> dict[str, Any]:
    """One event as the exports write it (times in UTC, ISO 8601)."""
    return {
        "id": event.id,
        "at": iso_time(event.at),
        "action": event.action,
        "actor_id": event.actor_id,
        "actor": actor_name(event, users),
        "issuer_id": event.issuer_id,
        "target": event.target,
        "ip": event.ip,
        "detail": event.detail or {},
    }


def actors_of(events: Iterable[AuditEvent]) -> dict[int, User]:
    """The users who acted in ``events``, by id (one query)."""
    ids = {event.actor_id for event in events if event.actor_id is not None}
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _batches(query: Select[tuple[AuditEvent]]) -> Iterator[tuple[AuditEvent, dict[int, User]]]:
    # Keyset pagination on (at, id), the export's order: events written while it streams
    # (newer than its first row) never shift a page and show up twice.
    page = query
    while True:
        events = list(db.session.scalars(page.limit(_BATCH)))
        if not events:
            return
        users = actors_of(events)
        for event in events:
            yield event, users
        last = events[-1]
        page = query.where(
            or_(AuditEvent.at < last.at, and_(AuditEvent.at == last.at, AuditEvent.id < last.id))
        )


def csv_chunks(query: Select[tuple[AuditEvent]]) -> Iterator[str]:
    """The events as CSV (header first), in chunks.  Every cell is made inert for spreadsheets
    (a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return gets an apostrophe: OWASP
    "CSV Injection"), because actors' labels and details come from outside."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for event, users in _batches(query):
        row = event_dict(event, users)
        row["detail"] = json.dumps(row["detail"], ensure_ascii=False, sort_keys=True)
        writer.writerow([csv_safe("" if row[name] is None else str(row[name])) for name in COLUMNS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(query: Select[tuple[AuditEvent]], *, filters: AuditFilter) -> Iterator[str]:
    """The events as one JSON document ``{"exported_at", "filters", "events": [...]}``."""
    head = {"exported_at": iso_time(utcnow()), "filters": filters.to_args()}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "events": ['
    separator = ""
    for event, users in _batches(query):
        yield separator + json.dumps(event_dict(event, users), ensure_ascii=False)
        separator = ", "
    yield "]}\n"


# -- pages -----------------------------------------------------------------------------------


def _scope() -> tuple[User, int, bool]:
    """The administrator, their issuer, and whether they also see service-wide events."""
    admin = signed_in_user()
    if admin.issuer_id is None:
        abort(404)
    issuer = db.session.get(Issuer, admin.issuer_id)
    own_issuer = current_app.extensions["credfolio"].issuer_did
    return admin, admin.issuer_id, issuer is not None and issuer.did == own_issuer


@bp.get("/admin/audit")
@login_required(role="admin")
def index() -> ResponseReturnValue:
    """The issuer's audit log, newest first; a filter that cannot be used gets the form back
    with its error (400)."""
    _admin, issuer_id, service_wide = _scope()
    values = {name: request.args.get(name, "")[:MAX_ACTOR_LENGTH] for name in _FILTER_NAMES}
    context: dict[str, Any] = {"actions": sorted(audit.ACTIONS), "values": values}
    try:
        filters = AuditFilter.from_args(request.args)
    except FilterError as error:
        page = render_template(
            "audit/index.html", error=str(error), error_field=error.field, **context
        )
        return page, 400
    pagination = paginate(
        events_query(filters, issuer_id=issuer_id, service_wide=service_wide),
        page=request.args.get("page", 1, type=int) or 1,
        per_page=PER_PAGE,
    )
    return render_template(
        "audit/index.html",
        error=None,
        error_field=None,
        pagination=pagination,
        users=actors_of(pagination.items),
        actor_name=actor_name,
        in_utc=in_utc,
        query=filters.to_args(),
        filtered=bool(filters.to_args()),
        **context,
    )


def _export(kind: str) -> ResponseReturnValue:
    admin, issuer_id, service_wide = _scope()
    try:
        filters = AuditFilter.from_args(request.args)
    except FilterError as error:
        abort(400, description=str(error))
    # Reading the log is itself recorded, before a single row leaves the service.
    audit.record(
        "audit_exported",
        actor=admin,
        issuer_id=issuer_id,
        target="audit-log",
        detail={"format": kind, **filters.to_args()},
    )
    db.session.commit()
    query = events_query(filters, issuer_id=issuer_id, service_wide=service_wide)
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
@login_required(role="admin")
def export_csv() -> ResponseReturnValue:
    """The filtered log as CSV (recorded as ``audit_exported``)."""
    return _export("csv")


@bp.get("/admin/audit.json")
@login_required(role="admin")
def export_json() -> ResponseReturnValue:
    """The filtered log as JSON (recorded as ``audit_exported``)."""
    return _export("json")
