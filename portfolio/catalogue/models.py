"""The competency catalogue: frameworks, competencies (with prerequisites and stacks) and versioned
rubrics."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.core.db import Model, UTCDateTime, db
from portfolio.core.models import new_public_id, utcnow

if TYPE_CHECKING:
    from portfolio.accounts.models import Issuer


#: OB 3.0 AchievementType values offered in the catalogue (the spec's enumeration; extensions
#: start with ``ext:``).
ACHIEVEMENT_TYPES = (
    "Competency",
    "Badge",
    "Certificate",
    "MicroCredential",
    "Achievement",
    "Assessment",
    "Assignment",
    "Award",
    "Certification",
    "CoCurricular",
    "CommunityService",
    "Course",
    "Diploma",
    "Fieldwork",
    "License",
    "Membership",
)


class CompetencyFramework(Model):
    """A competency framework (a CASE CFDocument), imported or created here."""

    __tablename__ = "frameworks"
    __table_args__ = (UniqueConstraint("issuer_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    #: The CASE ``identifier`` (a UUID) — the key re-imports match on.
    identifier: Mapped[str] = mapped_column(String(256))
    title: Mapped[str] = mapped_column(String(512))
    uri: Mapped[str | None] = mapped_column(String(2048))
    creator: Mapped[str | None] = mapped_column(String(512))
    publisher: Mapped[str | None] = mapped_column(String(512))
    description: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str | None] = mapped_column(String(32))
    adoption_status: Mapped[str | None] = mapped_column(String(64))
    #: The CASE ``lastChangeDateTime`` of the imported document.
    last_change: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    issuer: Mapped[Issuer] = relationship()
    competencies: Mapped[list[Competency]] = relationship(
        back_populates="framework", order_by="Competency.position"
    )


class Prerequisite(Model):
    """``competency`` can only be submitted for once ``prerequisite`` is mastered."""

    __tablename__ = "competency_prerequisites"

    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)
    prerequisite_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)


class StackComponent(Model):
    """A stack badge (``stack``) is earned by mastering every one of its components."""

    __tablename__ = "stack_components"

    stack_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)


class Competency(Model):
    """A competency of the catalogue: the OB 3.0 Achievement a mastery credential carries.

    Its Achievement ``id`` is ``<public URL>/achievements/<public_id>`` and never changes, so
    re-importing a framework updates the definition without breaking issued credentials.
    """

    __tablename__ = "competencies"
    __table_args__ = (
        UniqueConstraint("issuer_id", "identifier"),
        db.CheckConstraint("required_endorsements BETWEEN 1 AND 5", name="required_endorsements"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    framework_id: Mapped[int | None] = mapped_column(ForeignKey("frameworks.id"), index=True)
    #: The CASE CFItem ``identifier`` (or a code of our own): the key re-imports match on.
    identifier: Mapped[str] = mapped_column(String(256), default=new_public_id)
    case_uri: Mapped[str | None] = mapped_column(String(2048))
    human_code: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(512))
    description: Mapped[str] = mapped_column(Text)
    criteria_narrative: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str | None] = mapped_column(String(2048))
    achievement_type: Mapped[str] = mapped_column(String(64), default="Competency")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Education or proficiency level, e.g. "Grade 8" or "Intermediate".
    level: Mapped[str | None] = mapped_column(String(128))
    credits: Mapped[float | None] = mapped_column()
    #: OB 3.0 Alignment objects in JSON form (targetName, targetUrl, targetCode, ...).
    alignments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: How many assessors must agree before a credential is issued (moderation when > 1).
    required_endorsements: Mapped[int] = mapped_column(Integer, default=1)
    #: A stack badge: never submitted for, issued when its components are all mastered.
    is_stack: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Peer feedback: how many classmates of her cohort a student may ask to comment on a
    #: submission for this competency; 0 (the default) turns peer feedback off (issue 17 §2).
    peer_reviewers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    issuer: Mapped[Issuer] = relationship()
    framework: Mapped[CompetencyFramework | None] = relationship(back_populates="competencies")
    prerequisites: Mapped[list[Competency]] = relationship(
        secondary="competency_prerequisites",
        primaryjoin="Competency.id == Prerequisite.competency_id",
        secondaryjoin="Competency.id == Prerequisite.prerequisite_id",
        order_by="Competency.name",
        viewonly=True,
    )
    components: Mapped[list[Competency]] = relationship(
        secondary="stack_components",
        primaryjoin="Competency.id == StackComponent.stack_id",
        secondaryjoin="Competency.id == StackComponent.component_id",
        order_by="Competency.name",
        viewonly=True,
    )


class RubricVersion(Model):
    """One version of a competency's rubric: criteria × levels and the rule for mastery.

    Rows are never updated: editing a rubric inserts the next version, and every assessment
    keeps pointing at the version it was made with, so it always reads as it was written.

    ``levels``: ``[{"name", "description", "points"}]`` from lowest to highest;
    ``criteria``: ``[{"name", "description", "levels": [<cell description per level>]}]``;
    ``mastery_rule``: ``{"kind": "min_level", "level": <index>}`` (every criterion at that level
    or above) or ``{"kind": "points", "threshold": <number>}`` (total points at least that).
    """

    __tablename__ = "rubric_versions"
    __table_args__ = (UniqueConstraint("competency_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(256))
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    mastery_rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    competency: Mapped[Competency] = relationship()
