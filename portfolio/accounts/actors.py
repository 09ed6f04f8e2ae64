"""Who did something, as the services name them: ``user:<id>`` (a person), ``cli``,
``client:<id>`` (an API client), ``service``."""

from __future__ import annotations

from typing import Any

from portfolio.accounts.models import User
from portfolio.core.audit import record
from portfolio.core.db import db
from portfolio.core.models import AuditEvent


def record_as(
    action: str,
    actor: str,
    *,
    issuer_id: int | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """:func:`record` for the services' actor strings: ``user:<id>`` is that user (its id is
    kept in ``actor_id``); anything else (``cli``, ``client:<id>``, ``service``) is the label."""
    kind, _, value = actor.partition(":")
    user = db.session.get(User, int(value)) if kind == "user" and value.isdigit() else None
    return record(
        action,
        actor=user,
        actor_label=None if user is not None else actor,
        issuer_id=issuer_id,
        target=target,
        detail=detail,
    )
