"""Tables every feature writes to: the audit log; and the column helpers every table uses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from portfolio.core.db import Model, UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    """An unguessable public identifier (UUID4) used in URLs."""
    return str(uuid.uuid4())


class AuditEvent(Model):
    """A security-relevant event: sign-in, role change, issue, revoke, suspend, key rotation,
    export, account deletion...  Written in the transaction of the change it records where
    there is one; never updated."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    #: e.g. ``sign_in``, ``sign_in_failed``, ``role_changed``, ``credential_revoked``.
    action: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Who, when not a user: ``cli``, ``client:<id>``, ``service``, or an email that failed.
    actor_label: Mapped[str | None] = mapped_column(String(320))
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"), index=True)
    #: What it was done to, e.g. ``credential:<public id>`` or ``user:<id>``.
    target: Mapped[str | None] = mapped_column(String(512))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
