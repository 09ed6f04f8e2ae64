"""The audit log as files: one event as the exports write it, and the CSV and JSON documents,
streamed in chunks (the same for the administrators' downloads and ``credfolio audit
export``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select

from portfolio.accounts.models import User
from portfolio.audit.filters import AuditFilter
from portfolio.audit.service import event_batches
from portfolio.core.csv_cells import csv_safe
from portfolio.core.models import AuditEvent, utcnow

#: The columns of the CSV export, in order (the JSON export has the same keys).
COLUMNS = ("id", "at", "action", "actor_id", "actor", "issuer_id", "target", "ip", "detail")


def iso_time(moment: datetime) -> str:
    """``2025-01-31T12:00:00.123456Z`` (moments are aware UTC: ``UTCDateTime``)."""
    return moment.isoformat().replace("+00:00", "Z")


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


def csv_chunks(query: Select[AuditEvent]) -> Iterator[str]:
    """The events as CSV (header first), in chunks.  Every cell is made inert for spreadsheets
    (a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return gets an apostrophe: OWASP
    "CSV Injection"), because actors' labels and details come from outside."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for event, users in event_batches(query):
        row = event_dict(event, users)
        row["detail"] = json.dumps(row["detail"], ensure_ascii=False, sort_keys=True)
        writer.writerow([csv_safe("" if row[name] is None else str(row[name])) for name in COLUMNS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(query: Select[AuditEvent], *, filters: AuditFilter) -> Iterator[str]:
    """The events as one JSON document ``{"exported_at", "filters", "events": [...]}``."""
    head = {"exported_at": iso_time(utcnow()), "filters": filters.to_args()}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "events": ['
    separator = ""
    for event, users in event_batches(query):
        yield separator + json.dumps(event_dict(event, users), ensure_ascii=False)
        separator = ", "
    yield "]}\n"
