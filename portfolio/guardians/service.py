"""Consent, given and withdrawn (issue 17 §3): by a linked guardian, or recorded by the school
on the family's behalf.  Each change is in the audit log, in the same transaction.

Withdrawal ends every standing consent of the student at once, whoever gave it: the most
protective reading of "withdrawn".  The callers commit (inside ``unit_of_work``)."""

from __future__ import annotations

from sqlalchemy import select

from portfolio.accounts.models import Role, User
from portfolio.core.audit import record
from portfolio.core.db import db
from portfolio.core.errors import ConflictError, NotAllowedError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import utcnow
from portfolio.guardians.consent import active_consent
from portfolio.guardians.links import is_guardian_of
from portfolio.guardians.models import ConsentGiver, PublicationConsent

#: How long a school's note on a consent it records may be.
MAX_NOTE = 500


def _may_act_for(actor: User, student: User) -> ConsentGiver:
    """As what ``actor`` may give or withdraw ``student``'s consent; raises NotAllowedError."""
    if actor.role == Role.ADMIN and actor.issuer_id == student.issuer_id:
        return ConsentGiver.SCHOOL
    if is_guardian_of(actor, student):
        return ConsentGiver.GUARDIAN
    raise NotAllowedError(_l("Only a linked guardian or the school can record this consent."))


def give_consent(student: User, actor: User, *, note: str = "") -> PublicationConsent:
    """Record ``actor``'s consent that ``student`` may publish; raises ConflictError when a
    consent already stands, NotAllowedError when ``actor`` may not give it."""
    given_as = _may_act_for(actor, student)
    if active_consent(student) is not None:
        raise ConflictError(_l("Consent is already recorded for this student."))
    consent = PublicationConsent(
        student_id=student.id,
        given_as=given_as,
        given_by_id=actor.id,
        given_at=utcnow(),
        note=note.strip()[:MAX_NOTE] if given_as == ConsentGiver.SCHOOL else "",
    )
    db.session.add(consent)
    record(
        "consent_given",
        actor=actor,
        issuer_id=student.issuer_id,
        target=f"user:{student.id}",
        detail={"given_as": str(given_as)},
    )
    return consent


def withdraw_consent(student: User, actor: User) -> int:
    """Withdraw every standing consent of ``student`` (the public pages hide at once); how
    many were withdrawn.  Raises ConflictError when none stands, NotAllowedError when
    ``actor`` may not."""
    withdrawn_as = _may_act_for(actor, student)
    standing = list(
        db.session.scalars(
            select(PublicationConsent).where(
                PublicationConsent.student_id == student.id,
                PublicationConsent.withdrawn_at.is_(None),
            )
        )
    )
    if not standing:
        raise ConflictError(_l("There is no consent to withdraw."))
    now = utcnow()
    for consent in standing:
        consent.withdrawn_at = now
        consent.withdrawn_by_id = actor.id
    record(
        "consent_withdrawn",
        actor=actor,
        issuer_id=student.issuer_id,
        target=f"user:{student.id}",
        detail={"withdrawn_as": str(withdrawn_as), "consents": len(standing)},
    )
    return len(standing)


def consent_history(student: User) -> list[PublicationConsent]:
    """Every consent of ``student``, newest first (for the pages that show who gave what)."""
    return list(
        db.session.scalars(
            select(PublicationConsent)
            .where(PublicationConsent.student_id == student.id)
            .order_by(PublicationConsent.given_at.desc(), PublicationConsent.id.desc())
        )
    )
