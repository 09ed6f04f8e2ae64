"""Guardians' links to students, guardian invitations' students, and publication consents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.core.db import Model, UTCDateTime, one_of
from portfolio.core.models import utcnow

if TYPE_CHECKING:
    from portfolio.accounts.models import Invitation, User


class GuardianLink(Model):
    """A guardian (``Role.GUARDIAN``) may read what this student shares with her guardians."""

    __tablename__ = "guardian_links"
    __table_args__ = (UniqueConstraint("guardian_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    guardian: Mapped[User] = relationship(foreign_keys=[guardian_id])
    student: Mapped[User] = relationship(foreign_keys=[student_id])


class GuardianInvitationStudent(Model):
    """A student the person accepting a guardian invitation becomes linked to."""

    __tablename__ = "guardian_invitation_students"
    __table_args__ = (UniqueConstraint("invitation_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    invitation: Mapped[Invitation] = relationship()
    student: Mapped[User] = relationship()


class ConsentGiver(StrEnum):
    """Who recorded a consent: a linked guardian, or the school on the family's behalf."""

    GUARDIAN = "guardian"
    SCHOOL = "school"


class PublicationConsent(Model):
    """Consent that a minor's portfolios may be published and her credentials' public pages
    shown.  Never updated except to record its withdrawal; a minor may publish while one row
    of hers has no ``withdrawn_at``."""

    __tablename__ = "publication_consents"
    __table_args__ = (one_of("given_as", ConsentGiver, name="given_as"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: A :class:`ConsentGiver`.
    given_as: Mapped[str] = mapped_column(String(16))
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: What the school recorded about a consent it holds (e.g. "signed form, 2026-09-01").
    note: Mapped[str] = mapped_column(Text, default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    given_by: Mapped[User | None] = relationship(foreign_keys=[given_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])
