"""The learning plan's items, the reflection journal, and comments on the plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.core.db import Model, UTCDateTime
from portfolio.core.models import new_public_id, utcnow

if TYPE_CHECKING:
    from portfolio.accounts.models import User
    from portfolio.catalogue.models import Competency


class PlanItem(Model):
    """A competency a student chose to work toward next, with her target date and milestones.
    Only she changes it; her assessors and guardians read it and comment."""

    #: A row here keeps its competency in the catalogue: archived, never deleted.
    keeps_competency = True

    __tablename__ = "plan_items"
    __table_args__ = (UniqueConstraint("student_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    target_date: Mapped[date | None] = mapped_column(Date, index=True)
    #: Short milestone notes (Markdown).
    milestones: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    student: Mapped[User] = relationship()
    competency: Mapped[Competency] = relationship()


class JournalEntry(Model):
    """A reflection (Markdown, optionally with a recording), on a plan item or on her own."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    plan_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_items.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(256), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    #: An audio reflection, stored as a blob (portfolio/files/).
    audio_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    audio_media_type: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    student: Mapped[User] = relationship()
    plan_item: Mapped[PlanItem | None] = relationship()


class PlanComment(Model):
    """A comment on a student's plan (on one item, or on the whole plan) by her assessor or a
    linked guardian."""

    __tablename__ = "plan_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    plan_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_items.id", ondelete="SET NULL"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    plan_item: Mapped[PlanItem | None] = relationship()
