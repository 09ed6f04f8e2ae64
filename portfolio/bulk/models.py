"""Bulk jobs and their rows."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.core.db import Model, UTCDateTime, one_of
from portfolio.core.models import new_public_id, utcnow

if TYPE_CHECKING:
    from portfolio.accounts.models import Issuer, User
    from portfolio.issuing.models import IssuedCredential


#: States of a :class:`BulkJob` (see docs/bulk.md).
class JobState(StrEnum):
    """Where a bulk job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


BULK_JOB_STATES = tuple(state.value for state in JobState)


#: States of a :class:`BulkJobItem`.
class ItemState(StrEnum):
    """Where one row of a bulk job stands."""

    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


BULK_ITEM_STATES = tuple(state.value for state in ItemState)


class BulkJob(Model):
    """A piece of bulk work (a cohort endorsement, a CSV of credentials to issue), processed
    item by item by whichever process holds its lease.

    ``request_key`` is a digest of the request: the same request while a job for it is open
    returns that job.  ``lease_owner`` / ``lease_expires_at`` say who runs it until when; the
    runner renews the lease (its heartbeat) and another process takes over an expired one.
    """

    __tablename__ = "bulk_jobs"
    __table_args__ = (one_of("state", JobState, name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    #: ``cohort_endorsement`` or ``csv_issue``.
    kind: Mapped[str] = mapped_column(String(32))
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Who started it when not a user (``cli``).
    actor_label: Mapped[str | None] = mapped_column(String(320))
    title: Mapped[str] = mapped_column(String(512))
    request_key: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED, index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: Counts as of the last finished item (the progress page counts the items themselves).
    done_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    issuer: Mapped[Issuer] = relationship()
    started_by: Mapped[User | None] = relationship()


class BulkJobItem(Model):
    """One row of a bulk job: a student to endorse, a CSV line to issue.

    ``key`` is the item's natural key (``student:<id>`` or the CSV row's idempotency key);
    ``data`` what the handler needs; ``message`` the per-row result in words.  An item goes
    from ``pending`` to ``done``, ``skipped`` or ``failed`` in the transaction of its work.
    """

    __tablename__ = "bulk_job_items"
    __table_args__ = (
        UniqueConstraint("job_id", "row"),
        Index("ix_bulk_job_items_job_id_state", "job_id", "state"),
        one_of("state", ItemState, name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("bulk_jobs.id"))
    #: The line of the CSV file (header = 1), or the position in the cohort (from 1).
    row: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(256))
    #: What the results table shows for the row (a name and an email).
    label: Mapped[str] = mapped_column(String(700), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=ItemState.PENDING)
    message: Mapped[str] = mapped_column(Text, default="")
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("issued_credentials.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    credential: Mapped[IssuedCredential | None] = relationship()
