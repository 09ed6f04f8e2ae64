"""Reading the audit log: which events a reader may see (:func:`reader_scope`,
:func:`events_query`), the users who acted in them, reading them in batches for an export, and
recording that the log was exported (itself an audit event, committed before a row leaves)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, or_, select

from portfolio.accounts.models import Issuer, User
from portfolio.audit.filters import AuditFilter
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import AuditEvent
from portfolio.core.numbers import MAX_ID, whole_number
from portfolio.core.settings import settings

#: Rows read from the database at a time while an export streams.
BATCH = 500


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def reader_scope(admin: User) -> tuple[int, bool]:
    """The administrator's issuer, and whether they also see service-wide events (those of no
    issuer: command-line actions, sign-ins of unknown addresses) — the administrators of the
    service's own issuer do.  Raises :class:`NotFoundError` for an account of no issuer."""
    if admin.issuer_id is None:
        raise NotFoundError(_l("no issuer"))
    issuer = db.session.get(Issuer, admin.issuer_id)
    return admin.issuer_id, issuer is not None and issuer.did == settings().issuer_did


def events_query(
    filters: AuditFilter, *, issuer_id: int | None, service_wide: bool
) -> Select[AuditEvent]:
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
        query = query.where(_actor_matches(filters.actor))
    if filters.since:
        query = query.where(AuditEvent.at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        query = query.where(AuditEvent.at < end)
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def _actor_matches(actor: str) -> ColumnElement[bool]:
    """Events whose label, or whose user's address or name, contains ``actor``, or (a number)
    whose user has that id.  The text is a bound parameter with LIKE's wildcards escaped."""
    pattern = _like(actor)
    users = select(User.id).where(
        or_(
            User.email.ilike(pattern, escape="\\"),
            User.display_name.ilike(pattern, escape="\\"),
        )
    )
    by_id: ColumnElement[bool] = AuditEvent.actor_id.in_(users)
    user_id = whole_number(actor, at_most=MAX_ID)
    if user_id is not None:  # a user id, as the CSV shows them
        by_id = or_(by_id, AuditEvent.actor_id == user_id)
    return or_(AuditEvent.actor_label.ilike(pattern, escape="\\"), by_id)


def actors_of(events: Iterable[AuditEvent]) -> dict[int, User]:
    """The users who acted in ``events``, by id (one query)."""
    ids = {event.actor_id for event in events if event.actor_id is not None}
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


def event_batches(
    query: Select[AuditEvent],
) -> Iterator[tuple[AuditEvent, dict[int, User]]]:
    """Every event of ``query`` with the users who acted, read :data:`BATCH` at a time.

    Keyset pagination on (at, id), the export's order: events written while it streams (newer
    than its first row) never shift a page and show up twice."""
    page = query
    while True:
        events = list(db.session.scalars(page.limit(BATCH)))
        if not events:
            return
        users = actors_of(events)
        for event in events:
            yield event, users
        last = events[-1]
        page = query.where(
            or_(AuditEvent.at < last.at, and_(AuditEvent.at == last.at, AuditEvent.id < last.id))
        )


def record_export(
    kind: str, filters: AuditFilter, *, admin: User | None = None, issuer_id: int | None = None
) -> None:
    """Record (committed) that the log was exported as ``kind`` with ``filters``, by ``admin``
    (None: the command line)."""
    with unit_of_work():
        audit.record(
            "audit_exported",
            actor=admin,
            actor_label=None if admin is not None else "cli",
            issuer_id=issuer_id,
            target="audit-log",
            detail={"format": kind, **filters.to_args()},
        )
