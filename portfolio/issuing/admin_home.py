"""What the administrators' home shows: the issuer's counts, its signing key and its recent
activity, read in a fixed number of queries whatever the size of the school.

The counts of this package and those below it (people, credentials) are written here; the
packages above (evidence, submissions, bulk jobs) add theirs with :func:`register_count`, so
that no package imports one above it.  Every count is a scalar subquery of one ``SELECT``:
one query for all of them, one for the signing key, two for the recent activity (the events
and the people who acted in them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ScalarSelect, func, select

from portfolio.accounts.models import Issuer, Role, User
from portfolio.audit import service as audit_service
from portfolio.audit.export import actor_name
from portfolio.audit.filters import AuditFilter
from portfolio.audit.labels import event_label
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.issuing.models import IssuedCredential, IssuerKeyRow

#: A count of the issuer's (given its id) as a scalar subquery.
Count = Callable[[int], ScalarSelect[int]]

#: How many audit events the home shows.
RECENT = 10

_COUNTS: dict[str, Count] = {}


def register_count(name: str, count: Count) -> None:
    """Add (or replace) the count ``name`` on the home (see the template for its words)."""
    _COUNTS[name] = count


def _people(role: Role) -> Count:
    def count(issuer_id: int) -> ScalarSelect[int]:
        return (
            select(func.count(User.id))
            .where(User.issuer_id == issuer_id, User.role == role, User.deleted_at.is_(None))
            .scalar_subquery()
        )

    return count


def _credentials(*conditions: object) -> Count:
    def count(issuer_id: int) -> ScalarSelect[int]:
        return (
            select(func.count(IssuedCredential.id))
            .where(IssuedCredential.issuer_id == issuer_id, *conditions)  # type: ignore[arg-type]
            .scalar_subquery()
        )

    return count


register_count("students", _people(Role.STUDENT))
register_count("assessors", _people(Role.ASSESSOR))
register_count("credentials_issued", _credentials())
register_count("credentials_revoked", _credentials(IssuedCredential.revoked_at.is_not(None)))
register_count(
    "credentials_suspended",
    _credentials(IssuedCredential.revoked_at.is_(None), IssuedCredential.suspended_at.is_not(None)),
)


@dataclass(frozen=True)
class Activity:
    """One line of recent activity, for people."""

    at: datetime
    what: str
    who: str
    target: str | None


@dataclass(frozen=True)
class Home:
    """The home's data: counts by name, the active key (None: the issuer cannot sign), and
    the latest events, newest first."""

    counts: Mapping[str, int]
    key: IssuerKeyRow | None
    activity: list[Activity]


def counts(issuer_id: int) -> dict[str, int]:
    """Every registered count of the issuer, in one query."""
    if not _COUNTS:
        return {}
    columns = [count(issuer_id).label(name) for name, count in _COUNTS.items()]
    row = db.session.execute(select(*columns)).one()
    return {name: int(value or 0) for name, value in row._mapping.items()}


def active_key(issuer_id: int) -> IssuerKeyRow | None:
    """The issuer's active signing key, if it has one (one query)."""
    return db.session.scalar(
        select(IssuerKeyRow)
        .join(Issuer, Issuer.did == IssuerKeyRow.controller)
        .where(Issuer.id == issuer_id, IssuerKeyRow.status == "active")
        .limit(1)
    )


def recent_activity(admin: User, limit: int = RECENT) -> list[Activity]:
    """The latest events the administrator may read in the audit log (two queries)."""
    issuer_id, service_wide = audit_service.reader_scope(admin)
    query = audit_service.events_query(
        AuditFilter(), issuer_id=issuer_id, service_wide=service_wide
    )
    events: list[AuditEvent] = list(db.session.scalars(query.limit(limit)))
    users = audit_service.actors_of(events)
    return [
        Activity(event.at, event_label(event), actor_name(event, users), event.target)
        for event in events
    ]


def home(admin: User, issuer_id: int) -> Home:
    """The home of ``admin``, an administrator of the issuer ``issuer_id``."""
    return Home(
        counts=counts(issuer_id),
        key=active_key(issuer_id),
        activity=recent_activity(admin),
    )
