"""What a guardian may read of a linked student, and the record that they read it (issue 17
§3): her home card, decided feedback, credentials, the portfolios she shared with her
guardians, and her consent status.  Read only: nothing here changes a student's things.

Every function that takes a student assumes the caller checked the link
(:func:`linked_student`); the pages never pass a student they did not get from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portfolio.accounts.models import Role, User
from portfolio.assessment.models import Assessment, Mastery, Submission, SubmissionState
from portfolio.core.audit import record
from portfolio.core.db import db
from portfolio.core.errors import NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import utcnow
from portfolio.evidence.models import Artefact
from portfolio.guardians.consent import active_consent, is_minor, may_publish
from portfolio.guardians.links import is_guardian_of, students_of
from portfolio.guardians.models import ConsentGiver, PublicationConsent
from portfolio.issuing.models import IssuedCredential
from portfolio.learner.share import share_state
from portfolio.planning.models import PlanItem
from portfolio.portfolios.access import artefact_in_portfolio
from portfolio.portfolios.models import Portfolio

#: The states in which a round of assessment is decided: the student has read its feedback.
DECIDED = (
    SubmissionState.REVISION_REQUESTED,
    SubmissionState.ENDORSED,
    SubmissionState.NOT_YET,
)
#: What each page records as ``detail.page`` in the audit log.
PAGES = ("overview", "progress", "feedback", "portfolio")


# -- who ------------------------------------------------------------------------------------


def linked_student(guardian: User, student_id: int) -> User:
    """The active student ``student_id`` when ``guardian`` is her linked, active guardian.

    Raises NotFoundError otherwise — another family's child, a staff member, a disabled or
    deleted account and a made-up id all look the same, so a guessed id reveals nothing."""
    student = db.session.get(User, student_id)
    if (
        student is None
        or student.role != Role.STUDENT
        or student.disabled_at is not None
        or student.deleted_at is not None
        or not is_guardian_of(guardian, student)
    ):
        raise NotFoundError(_l("No student of yours has that page."))
    return student


def record_view(guardian: User, student: User, page: str) -> None:
    """Add ``guardian_viewed`` to the audit log (the caller commits)."""
    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}")
    record(
        "guardian_viewed",
        actor=guardian,
        issuer_id=student.issuer_id,
        target=f"user:{student.id}",
        detail={"page": page},
    )


# -- the guardian's home ---------------------------------------------------------------------


@dataclass(frozen=True)
class LatestFeedback:
    """The most recent decided assessment of one of her submissions."""

    competency_name: str
    decision: str
    decided_at: datetime
    feedback: str


@dataclass(frozen=True)
class StudentCard:
    """One linked student on the guardian's home."""

    student: User
    credentials: int
    latest: LatestFeedback | None
    overdue: int
    plan_items: int


def _latest_feedback(student: User) -> LatestFeedback | None:
    """Her most recently decided assessment (a round still under review is not news yet)."""
    decided = decided_feedback(student)
    if not decided:
        return None
    latest = decided[0]
    assessment = latest.assessments[0]
    return LatestFeedback(
        competency_name=latest.submission.competency.name,
        decision=assessment.decision,
        decided_at=assessment.created_at,
        feedback=assessment.feedback or "",
    )


def _credential_count(student: User) -> int:
    return int(
        db.session.scalar(
            select(func.count(IssuedCredential.id)).where(
                IssuedCredential.recipient_user_id == student.id
            )
        )
        or 0
    )


def overdue_plan_items(student: User, *, today: date | None = None) -> tuple[int, int]:
    """(overdue, all) plan items of ``student``: overdue when the target date has passed and
    the competency is not mastered (two queries)."""
    today = today or utcnow().date()
    items = list(db.session.scalars(select(PlanItem).where(PlanItem.student_id == student.id)))
    if not items:
        return 0, 0
    mastered_ids = set(
        db.session.scalars(
            select(Mastery.competency_id)
            .join(IssuedCredential, Mastery.credential_id == IssuedCredential.id)
            .where(Mastery.student_id == student.id, IssuedCredential.revoked_at.is_(None))
        )
    )
    overdue = sum(
        1
        for item in items
        if item.target_date is not None
        and item.target_date < today
        and item.competency_id not in mastered_ids
    )
    return overdue, len(items)


def home_cards(guardian: User, *, today: date | None = None) -> list[StudentCard]:
    """A card per active student linked to ``guardian``, by name."""
    cards = []
    for student in students_of(guardian):
        overdue, items = overdue_plan_items(student, today=today)
        cards.append(
            StudentCard(
                student=student,
                credentials=_credential_count(student),
                latest=_latest_feedback(student),
                overdue=overdue,
                plan_items=items,
            )
        )
    return cards


# -- feedback --------------------------------------------------------------------------------


def _round_decided(submission: Submission, round_: int) -> bool:
    """Whether the round's assessments are decided (the student has been told): an earlier
    round than the current one, or the current one once the submission is decided."""
    return round_ < submission.round or submission.state in DECIDED


@dataclass(frozen=True)
class SubmissionFeedback:
    """One submission and its assessments in decided rounds, newest first (the pages show
    them as the student's own submission page does)."""

    submission: Submission
    assessments: list[Assessment] = field(default_factory=list)


def decided_feedback(student: User) -> list[SubmissionFeedback]:
    """Every submission of ``student`` with at least one decided round, most recently decided
    first, each with the rounds' feedback per criterion — never a draft, never a round still
    under review (moderation), never peer comments."""
    submissions = db.session.scalars(
        select(Submission)
        .where(Submission.student_id == student.id, Submission.state != SubmissionState.DRAFT)
        .options(
            selectinload(Submission.assessments).selectinload(Assessment.rubric_version),
            selectinload(Submission.assessments).selectinload(Assessment.assessor),
            selectinload(Submission.competency),
        )
    ).all()
    found = []
    for submission in submissions:
        decided = sorted(
            (item for item in submission.assessments if _round_decided(submission, item.round)),
            key=lambda item: (item.created_at, item.id),
            reverse=True,
        )
        if decided:
            found.append(SubmissionFeedback(submission=submission, assessments=decided))
    found.sort(key=lambda item: item.assessments[0].created_at, reverse=True)
    return found


# -- credentials -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialLine:
    """One of her credentials: the row and its state (active, revoked, suspended, expired)."""

    credential: IssuedCredential
    state: str


def credentials_of(student: User) -> list[CredentialLine]:
    """``student``'s credentials, newest first."""
    rows = db.session.scalars(
        select(IssuedCredential)
        .where(IssuedCredential.recipient_user_id == student.id)
        .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())
    ).all()
    return [CredentialLine(credential=row, state=share_state(row)) for row in rows]


# -- portfolios shared with guardians --------------------------------------------------------


def shared_portfolios(student: User) -> list[Portfolio]:
    """The portfolios ``student`` shares with her guardians, most recently changed first."""
    return list(
        db.session.scalars(
            select(Portfolio)
            .where(Portfolio.owner_id == student.id, Portfolio.shared_with_guardians.is_(True))
            .order_by(Portfolio.updated_at.desc(), Portfolio.id.desc())
        )
    )


def shared_portfolio(student: User, public_id: str) -> Portfolio:
    """Her portfolio ``public_id`` when she shares it with her guardians; NotFoundError for
    one she does not share, someone else's, or none."""
    portfolio = db.session.scalar(select(Portfolio).where(Portfolio.public_id == public_id))
    if portfolio is None or portfolio.owner_id != student.id or not portfolio.shared_with_guardians:
        raise NotFoundError(_l("That portfolio is not shared with you."))
    return portfolio


def shared_artefact(portfolio: Portfolio, artefact_public_id: str) -> Artefact:
    """An artefact of evidence placed in ``portfolio`` (already checked as shared);
    NotFoundError for any other."""
    artefact = artefact_in_portfolio(portfolio, artefact_public_id)
    if artefact is None:
        raise NotFoundError(_l("That file is not in this portfolio."))
    return artefact


# -- consent ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentStatus:
    """Whether she is a minor and, if so, the consent that lets her publish (or none)."""

    minor: bool
    consent: PublicationConsent | None
    #: The gate itself (:func:`portfolio.guardians.consent.may_publish`): her public pages show.
    may_publish: bool

    @property
    def given_by_school(self) -> bool:
        return self.consent is not None and self.consent.given_as == ConsentGiver.SCHOOL


def consent_status(student: User) -> ConsentStatus:
    """``student``'s consent status, as the family pages put it in words."""
    minor = is_minor(student)
    return ConsentStatus(
        minor=minor,
        consent=active_consent(student) if minor else None,
        may_publish=may_publish(student),
    )
