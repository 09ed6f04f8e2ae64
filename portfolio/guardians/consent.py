"""Whether a student is a minor, and whether she may publish (issue 17 §3): a minor's
portfolios may be public or shared by link, and her credentials' public pages shown, only
while a recorded consent of hers (a linked guardian's or the school's) is not withdrawn.

Withdrawal hides the public pages at once; the credentials themselves stay valid, and verify
from the holder's own file."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portfolio.accounts.models import Role, User
from portfolio.core.db import db
from portfolio.core.models import utcnow
from portfolio.guardians.links import is_guardian_of
from portfolio.guardians.models import PublicationConsent


def age_on(birth_date: date, today: date) -> int:
    """Whole years from ``birth_date`` to ``today`` (a birthday on 29 February counts on
    1 March in other years)."""
    had_birthday = (today.month, today.day) >= (birth_date.month, birth_date.day)
    return today.year - birth_date.year - (0 if had_birthday else 1)


def is_minor(student: User, *, today: date | None = None) -> bool:
    """Marked a minor by the school, or younger than the school's age rule."""
    if student.minor:
        return True
    issuer = student.issuer
    if issuer is None or issuer.minor_below_age is None or student.birth_date is None:
        return False
    return age_on(student.birth_date, today or utcnow().date()) < issuer.minor_below_age


def active_consent(student: User) -> PublicationConsent | None:
    """The student's most recent consent that is not withdrawn, or None."""
    return db.session.scalar(
        select(PublicationConsent)
        .where(
            PublicationConsent.student_id == student.id,
            PublicationConsent.withdrawn_at.is_(None),
        )
        .order_by(PublicationConsent.given_at.desc(), PublicationConsent.id.desc())
        .limit(1)
    )


def may_publish(student: User, *, today: date | None = None) -> bool:
    """Whether the student's portfolios may be public or shared by link and her credentials'
    public pages shown: she is not a minor, or a consent of hers stands."""
    return not is_minor(student, today=today) or active_consent(student) is not None


def credential_public(recipient: User | None, viewer: User | None) -> bool:
    """Whether a credential of ``recipient`` may be shown on its public pages to ``viewer``:
    to anyone while she may publish; otherwise only to those who read it inside Credfolio
    anyway — herself, her school's staff and her linked guardians (showing it to them is not
    publishing it).  A credential with no account behind it is not gated."""
    if recipient is None or may_publish(recipient):
        return True
    if viewer is None or not viewer.is_active:
        return False
    if viewer.id == recipient.id:
        return True
    if viewer.role in (Role.ADMIN, Role.ASSESSOR) and viewer.issuer_id == recipient.issuer_id:
        return True
    return is_guardian_of(viewer, recipient)
