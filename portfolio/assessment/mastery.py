"""Who has mastered what: the questions every part of the assessment flow asks."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.assessment.models import Mastery
from portfolio.catalogue.models import Competency
from portfolio.core.db import db


def mastered(student: User, competency: Competency) -> Mastery | None:
    """The student's mastery of ``competency`` (revoked credentials do not count)."""
    row: Mastery | None = db.session.scalar(
        select(Mastery).where(
            Mastery.student_id == student.id, Mastery.competency_id == competency.id
        )
    )
    if row is None or row.credential.revoked_at is not None:
        return None
    return row


def missing_prerequisites(student: User, competency: Competency) -> list[Competency]:
    """Prerequisites of ``competency`` the student has not mastered yet."""
    return [p for p in competency.prerequisites if mastered(student, p) is None]


def record_mastery(
    student: User, competency: Competency, credential_id: int, submission_id: int | None
) -> Mastery:
    """Record (in the caller's transaction) that ``student`` mastered ``competency``.

    A mastery whose credential was revoked is replaced: the student earned it again.  Two
    concurrent new masteries conflict on the unique key, and the caller starts again.
    """
    row: Mastery | None = db.session.scalar(
        select(Mastery).where(
            Mastery.student_id == student.id, Mastery.competency_id == competency.id
        )
    )
    if row is None:
        row = Mastery(student_id=student.id, competency_id=competency.id)
        db.session.add(row)
    row.credential_id = credential_id
    row.submission_id = submission_id
    row.at = datetime.now(UTC)
    db.session.flush()
    return row
