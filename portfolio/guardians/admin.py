"""The school's side of guardians (issue 17 §3): inviting a guardian for some of its students,
linking and unlinking, marking minors and the age rule.  Rules and transactions only: each
function takes rows and plain values, raises the ``core.errors`` kinds, and commits (its audit
record in the same transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portfolio.accounts import service as accounts
from portfolio.accounts.models import Invitation, Issuer, Role, User
from portfolio.core import mail
from portfolio.core.audit import record
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError, InvalidInputError, NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import utcnow
from portfolio.guardians.consent import active_consent, is_minor
from portfolio.guardians.models import GuardianInvitationStudent, GuardianLink, PublicationConsent

#: The age rule's bounds ("minors are under N"): anything else is a typing mistake.
MIN_AGE_RULE, MAX_AGE_RULE = 1, 25


def school_student(issuer: Issuer, student_id: int) -> User:
    """The active student of ``issuer`` with that id; raises NotFoundError for anyone else
    (another school's student is "not found", so its existence is not revealed)."""
    student = db.session.get(User, student_id)
    if (
        student is None
        or student.issuer_id != issuer.id
        or student.role != Role.STUDENT
        or student.deleted_at is not None
    ):
        raise NotFoundError(_l("no such student"))
    return student


def school_guardian(issuer: Issuer, guardian_id: int) -> User:
    """The guardian account of ``issuer`` with that id; raises NotFoundError for any other."""
    guardian = db.session.get(User, guardian_id)
    if guardian is None or guardian.issuer_id != issuer.id or guardian.role != Role.GUARDIAN:
        raise NotFoundError(_l("no such guardian"))
    return guardian


def students(issuer: Issuer) -> list[User]:
    """The school's active students, by name (the choices of the invitation form)."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.issuer_id == issuer.id,
                User.role == Role.STUDENT,
                User.disabled_at.is_(None),
                User.deleted_at.is_(None),
            )
            .order_by(User.display_name, User.id)
        )
    )


@dataclass(frozen=True)
class LinkedStudent:
    """One student of a guardian on the administrators' page, with her consent state."""

    student: User
    minor: bool
    consent: PublicationConsent | None


@dataclass(frozen=True)
class GuardianRow:
    """A guardian account and the students it is linked to."""

    guardian: User
    students: list[LinkedStudent]


def guardians(issuer: Issuer) -> list[GuardianRow]:
    """The school's guardian accounts, by name, each with its linked students (a handful of
    queries whatever the count)."""
    accounts_ = list(
        db.session.scalars(
            select(User)
            .where(User.issuer_id == issuer.id, User.role == Role.GUARDIAN)
            .order_by(User.display_name, User.id)
        )
    )
    links = db.session.execute(
        select(GuardianLink.guardian_id, User)
        .join(User, User.id == GuardianLink.student_id)
        .where(GuardianLink.guardian_id.in_([g.id for g in accounts_]))
        .order_by(User.display_name, User.id)
    ).all()
    standing = {
        row.student_id: row
        for row in db.session.scalars(
            select(PublicationConsent).where(
                PublicationConsent.student_id.in_([student.id for _, student in links]),
                PublicationConsent.withdrawn_at.is_(None),
            )
        )
    }
    today = utcnow().date()
    by_guardian: dict[int, list[LinkedStudent]] = {g.id: [] for g in accounts_}
    for guardian_id, student in links:
        by_guardian[guardian_id].append(
            LinkedStudent(student, is_minor(student, today=today), standing.get(student.id))
        )
    return [GuardianRow(g, by_guardian[g.id]) for g in accounts_]


def students_overview(issuer: Issuer) -> list[LinkedStudent]:
    """Every active student of the school with whether she is a minor and her standing
    consent (two queries), for the administrators' list of minors."""
    rows = students(issuer)
    standing = {
        row.student_id: row
        for row in db.session.scalars(
            select(PublicationConsent).where(
                PublicationConsent.student_id.in_([s.id for s in rows]),
                PublicationConsent.withdrawn_at.is_(None),
            )
        )
    }
    today = utcnow().date()
    return [LinkedStudent(s, is_minor(s, today=today), standing.get(s.id)) for s in rows]


def pending_guardian_invitations(issuer: Issuer) -> list[tuple[Invitation, list[User]]]:
    """The school's open guardian invitations, newest first, each with its students."""
    rows = [
        invitation
        for invitation, state in accounts.invitations_of(issuer)
        if invitation.role == Role.GUARDIAN and state == "pending"
    ]
    named = db.session.execute(
        select(GuardianInvitationStudent.invitation_id, User)
        .join(User, User.id == GuardianInvitationStudent.student_id)
        .where(GuardianInvitationStudent.invitation_id.in_([row.id for row in rows]))
        .order_by(User.display_name)
    ).all()
    by_invitation: dict[int, list[User]] = {row.id: [] for row in rows}
    for invitation_id, student in named:
        by_invitation[invitation_id].append(student)
    return [(row, by_invitation[row.id]) for row in rows]


def invite_guardian(
    admin: User, issuer: Issuer, *, email: str, name: str, students: Sequence[User]
) -> tuple[Invitation, bool]:
    """Invite a guardian for ``students`` (committed), then mail the link: the invitation and
    whether the mail went out.  Accepting it links the new account to those students.

    Raises InvalidInputError when no student is named or one is not the school's, and
    ConflictError when the address has an account (link it instead) or an open invitation.
    """
    if not students:
        raise InvalidInputError(_l("Choose at least one student."), code="NO_STUDENTS")
    if any(s.issuer_id != issuer.id or s.role != Role.STUDENT for s in students):
        raise InvalidInputError(_l("Choose students of your school."), code="NOT_YOUR_STUDENT")
    email = User.normalize_email(email)
    now = utcnow()
    if accounts.has_account(email):
        raise ConflictError(
            _l("This address already has an account: link that guardian to the student below."),
            code="HAS_ACCOUNT",
        )
    if accounts.pending_invitation_emails(issuer, {email}, now=now):
        raise ConflictError(
            _l("This address already has an open invitation."), code="ALREADY_INVITED"
        )
    with unit_of_work():
        invitation, token = accounts.new_invitation(
            email=email, name=name, role=Role.GUARDIAN, issuer=issuer, invited_by=admin, now=now
        )
        for student in {s.id: s for s in students}.values():
            db.session.add(
                GuardianInvitationStudent(invitation_id=invitation.id, student_id=student.id)
            )
    try:
        accounts.send_invitation(invitation, token, issuer)
    except mail.MailError:
        return invitation, False
    return invitation, True


def is_linked(guardian: User, student: User) -> bool:
    """Whether a link between them exists (whether or not the guardian's account is active)."""
    found = db.session.scalar(
        select(GuardianLink.id).where(
            GuardianLink.guardian_id == guardian.id, GuardianLink.student_id == student.id
        )
    )
    return found is not None


def _link(guardian: User, student: User, *, actor: User | None, via: str) -> bool:
    """Add the link (and its audit record) unless it exists; whether it was added."""
    if is_linked(guardian, student):
        return False
    db.session.add(
        GuardianLink(
            guardian_id=guardian.id,
            student_id=student.id,
            created_by_id=actor.id if actor else None,
        )
    )
    record(
        "guardian_linked",
        actor=actor,
        issuer_id=student.issuer_id,
        target=f"user:{student.id}",
        detail={"guardian": guardian.id, "via": via},
    )
    return True


def link_invited_students(invitation: Invitation, user: User) -> None:
    """Link a guardian who just accepted an invitation to its students (runs inside the
    acceptance's transaction: ``accounts.service.INVITATION_ACCEPTED``).  A student who has
    left the school since is skipped."""
    if invitation.role != Role.GUARDIAN:
        return
    named = db.session.scalars(
        select(User)
        .join(GuardianInvitationStudent, GuardianInvitationStudent.student_id == User.id)
        .where(GuardianInvitationStudent.invitation_id == invitation.id)
    )
    for student in named:
        if student.issuer_id == invitation.issuer_id and student.deleted_at is None:
            _link(user, student, actor=user, via="invitation")


def link(admin: User, guardian: User, student: User) -> None:
    """Link an existing guardian to another student of the school (committed).  Raises
    ConflictError when they are linked already."""
    with unit_of_work():
        if not _link(guardian, student, actor=admin, via="admin"):
            raise ConflictError(_l("This guardian is already linked to this student."))


def unlink(admin: User, guardian: User, student: User) -> None:
    """Remove the link (committed): the guardian no longer sees the student.  Consents the
    guardian gave stand (the school may withdraw them).  Raises NotFoundError when there is
    no such link."""
    with unit_of_work():
        row = db.session.scalar(
            select(GuardianLink).where(
                GuardianLink.guardian_id == guardian.id, GuardianLink.student_id == student.id
            )
        )
        if row is None:
            raise NotFoundError(_l("This guardian is not linked to this student."))
        db.session.delete(row)
        record(
            "guardian_unlinked",
            actor=admin,
            issuer_id=student.issuer_id,
            target=f"user:{student.id}",
            detail={"guardian": guardian.id},
        )


def set_minor(admin: User, student: User, *, minor: bool, birth_date: date | None) -> bool:
    """Record whether the school marks ``student`` a minor and her birth date (committed);
    whether anything changed.  Raises InvalidInputError for a birth date in the future."""
    if birth_date is not None and birth_date > utcnow().date():
        raise InvalidInputError(_l("The birth date cannot be in the future."))
    if student.minor == minor and student.birth_date == birth_date:
        return False
    with unit_of_work():
        before = {"minor": student.minor, "birth_date_recorded": student.birth_date is not None}
        student.minor = minor
        student.birth_date = birth_date
        record(
            "minor_status_changed",
            actor=admin,
            issuer_id=student.issuer_id,
            target=f"user:{student.id}",
            # The birth date itself stays out of the audit log: whether one is recorded is
            # enough to explain a change of status.
            detail={
                "before": before,
                "minor": minor,
                "birth_date_recorded": birth_date is not None,
            },
        )
    return True


def set_age_rule(admin: User, issuer: Issuer, age: int | None) -> bool:
    """Set the school's age rule (students younger than ``age`` are minors; None: only those
    marked) (committed); whether it changed.  Raises InvalidInputError out of bounds."""
    if age is not None and not MIN_AGE_RULE <= age <= MAX_AGE_RULE:
        raise InvalidInputError(
            _l(
                "Enter an age from %(low)d to %(high)d, or leave it empty.",
                low=MIN_AGE_RULE,
                high=MAX_AGE_RULE,
            )
        )
    if issuer.minor_below_age == age:
        return False
    with unit_of_work():
        previous = issuer.minor_below_age
        issuer.minor_below_age = age
        record(
            "minor_status_changed",
            actor=admin,
            issuer_id=issuer.id,
            target=f"issuer:{issuer.id}",
            detail={"age_rule_before": previous, "age_rule": age},
        )
    return True


def consent_state(student: User) -> PublicationConsent | None:
    """The standing consent of ``student`` (for the pages), or None."""
    return active_consent(student)
