"""Who is whose guardian: the questions every feature asks before showing a student's things
to a guardian.  One query each."""

from __future__ import annotations

from sqlalchemy import select

from portfolio.accounts.models import Role, User
from portfolio.core.db import db
from portfolio.guardians.models import GuardianLink


def is_guardian_of(guardian: User | None, student: User) -> bool:
    """Whether ``guardian`` is an active guardian account linked to ``student``."""
    if guardian is None or guardian.role != Role.GUARDIAN or not guardian.is_active:
        return False
    return (
        db.session.scalar(
            select(GuardianLink.id).where(
                GuardianLink.guardian_id == guardian.id, GuardianLink.student_id == student.id
            )
        )
        is not None
    )


def students_of(guardian: User) -> list[User]:
    """The active students ``guardian`` is linked to, by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(GuardianLink, GuardianLink.student_id == User.id)
            .where(
                GuardianLink.guardian_id == guardian.id,
                User.disabled_at.is_(None),
                User.deleted_at.is_(None),
            )
            .order_by(User.display_name, User.id)
        )
    )


def guardians_of(student: User) -> list[User]:
    """The active guardian accounts linked to ``student``, by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(GuardianLink, GuardianLink.guardian_id == User.id)
            .where(GuardianLink.student_id == student.id, User.disabled_at.is_(None))
            .order_by(User.display_name, User.id)
        )
    )
