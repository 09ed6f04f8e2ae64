"""Peer feedback (issue 17 §2): on a submission of a competency with ``peer_reviewers > 0``, the
student may ask up to that many classmates of her cohort for comments.

Who sees what: a comment is seen by the student whose submission it is, the peer who wrote it
and the staff (assessors, administrators) of the school — nobody else.  Staff may hide a
comment with a reason (audited).  Comments never influence the credential: no decision reads
them and nothing here is written into a credential or its evidence snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from portfolio.accounts.models import Role, User
from portfolio.accounts.notifications import notify
from portfolio.assessment.errors import (
    AssessmentConflictError,
    AssessmentError,
    AssessmentNotFoundError,
)
from portfolio.assessment.models import PeerReview, Submission, SubmissionState
from portfolio.assessment.service import can_assess
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.i18n import lazy_gettext as _l

MAX_COMMENT = 4000
MAX_REASON = 500

#: States in which a student may ask classmates for comments (never a draft, never a final
#: decision).
OPEN_FOR_PEERS = (
    SubmissionState.SUBMITTED,
    SubmissionState.IN_REVIEW,
    SubmissionState.REVISION_REQUESTED,
    SubmissionState.RESUBMITTED,
)


def peer_feedback_path(review: PeerReview) -> str:
    """The path of the peer's page of a request (notifications link to it)."""
    return f"/peer-feedback/{review.public_id}"


# -- who may do what ---------------------------------------------------------------------------


def is_staff_of(user: User | None, submission: Submission) -> bool:
    """Assessors and administrators of the submission's school (never the student)."""
    return can_assess(user, submission)


def can_see(user: User | None, review: PeerReview) -> bool:
    """The student whose submission it is, the peer asked, and the school's staff."""
    if user is None or not user.is_active:
        return False
    if user.id in (review.submission.student_id, review.peer_id):
        return True
    return is_staff_of(user, review.submission)


def offers_peer_feedback(submission: Submission) -> bool:
    """Whether the competency turns peer feedback on."""
    return submission.competency.peer_reviewers > 0


def may_ask(submission: Submission) -> bool:
    """Whether the state and the competency let the student ask classmates now."""
    return offers_peer_feedback(submission) and submission.state in OPEN_FOR_PEERS


def reviews_of(submission: Submission) -> list[PeerReview]:
    """Every request on the submission, oldest first."""
    return list(
        db.session.scalars(
            select(PeerReview)
            .where(PeerReview.submission_id == submission.id)
            .order_by(PeerReview.requested_at, PeerReview.id)
        )
    )


def requests_for(peer: User) -> list[PeerReview]:
    """The requests made to ``peer``, unanswered first, newest first."""
    return list(
        db.session.scalars(
            select(PeerReview)
            .where(PeerReview.peer_id == peer.id)
            .order_by(PeerReview.commented_at.is_not(None), PeerReview.requested_at.desc())
        )
    )


def request_count(peer: User) -> int:
    """How many requests were made to ``peer`` (the nav shows its link when there are any)."""
    return int(
        db.session.scalar(
            select(func.count()).select_from(PeerReview).where(PeerReview.peer_id == peer.id)
        )
        or 0
    )


def classmates(submission: Submission) -> list[User]:
    """Whom the student may still ask: active students of her school and cohort, not herself,
    not asked already, by name."""
    student = submission.student
    if not student.cohort:
        return []
    asked = select(PeerReview.peer_id).where(PeerReview.submission_id == submission.id)
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.issuer_id == student.issuer_id,
                User.cohort == student.cohort,
                User.role == Role.STUDENT,
                User.disabled_at.is_(None),
                User.id != student.id,
                User.id.not_in(asked),
            )
            .order_by(User.display_name, User.id)
        )
    )


def _is_classmate(student: User, peer: User) -> bool:
    return (
        peer.id != student.id
        and peer.role == Role.STUDENT
        and peer.is_active
        and peer.issuer_id == student.issuer_id
        and bool(student.cohort)
        and peer.cohort == student.cohort
    )


# -- the student's side ------------------------------------------------------------------------


def ask_peer(submission: Submission, student: User, peer: User | None) -> PeerReview:
    """Ask ``peer`` for comments on the student's submission; the peer is notified.  Committed.

    Raises :class:`~portfolio.assessment.errors.AssessmentError`: not found for anyone but the
    student (and for a peer who is not an active student of her cohort — no enumeration), a
    conflict when the competency has peer feedback off, the submission is a draft or decided,
    the limit is reached or the peer was asked already.
    """
    if submission.student_id != student.id:
        raise AssessmentNotFoundError(_l("no such submission"))
    limit = submission.competency.peer_reviewers
    if limit <= 0:
        raise AssessmentConflictError(
            _l("peer feedback is off for this competency"), code="PEER_FEEDBACK_OFF"
        )
    if submission.state not in OPEN_FOR_PEERS:
        raise AssessmentConflictError(
            _l("ask classmates once you have submitted, and before it is decided"),
            code="WRONG_STATE",
        )
    if peer is None or not _is_classmate(student, peer):
        raise AssessmentError(_l("choose a classmate of your cohort"))
    with unit_of_work(write=True):
        existing = reviews_of(submission)
        if any(r.peer_id == peer.id for r in existing):
            raise AssessmentConflictError(
                _l("you have already asked %(name)s", name=peer.display_name), code="DUPLICATE"
            )
        if len(existing) >= limit:
            raise AssessmentConflictError(
                _l("you may ask at most %(num)d classmates for this competency", num=limit),
                code="LIMIT",
            )
        review = PeerReview(submission_id=submission.id, peer_id=peer.id)
        db.session.add(review)
        db.session.flush()
        student_name, competency_name = student.display_name, submission.competency.name
        notify(
            peer,
            lambda: _(
                "%(student)s asks for your comments on “%(competency)s”",
                student=student_name,
                competency=competency_name,
            ),
            peer_feedback_path(review),
        )
    return review


def withdraw(review: PeerReview, student: User) -> None:
    """The student withdraws a request not answered yet.  Committed."""
    if review.submission.student_id != student.id:
        raise AssessmentNotFoundError(_l("no such request"))
    if review.commented_at is not None:
        raise AssessmentConflictError(
            _l("this classmate has already commented: the request cannot be withdrawn"),
            code="ANSWERED",
        )
    with unit_of_work(write=True):
        db.session.delete(review)


# -- the peer's side ---------------------------------------------------------------------------


def decline(review: PeerReview, peer: User) -> None:
    """The peer declines a request (it is deleted) before commenting.  Committed."""
    if review.peer_id != peer.id:
        raise AssessmentNotFoundError(_l("no such request"))
    if review.commented_at is not None:
        raise AssessmentConflictError(
            _l("you have already commented: the request cannot be declined"), code="ANSWERED"
        )
    with unit_of_work(write=True):
        db.session.delete(review)


def write_comment(review: PeerReview, peer: User, text: str) -> None:
    """The peer writes (or changes) her comment, Markdown; the student is notified the first
    time.  A hidden comment can no longer be changed.  Committed."""
    if review.peer_id != peer.id or not peer.is_active:
        raise AssessmentNotFoundError(_l("no such request"))
    if review.hidden_at is not None:
        raise AssessmentConflictError(
            _l("your teacher has hidden this comment: it can no longer be changed"),
            code="HIDDEN",
        )
    text = (text or "").strip()
    if not text:
        raise AssessmentError(_l("write a comment"))
    if len(text) > MAX_COMMENT:
        raise AssessmentError(_l("the comment is longer than %(max)d characters", max=MAX_COMMENT))
    first = review.commented_at is None
    with unit_of_work(write=True):
        review.comment = text
        review.commented_at = datetime.now(UTC)
        if first:
            submission = review.submission
            peer_name, competency_name = peer.display_name, submission.competency.name
            notify(
                submission.student,
                lambda: _(
                    "%(peer)s commented on your submission for “%(competency)s”",
                    peer=peer_name,
                    competency=competency_name,
                ),
                f"/submissions/{submission.public_id}",
            )


# -- moderation --------------------------------------------------------------------------------


def hide(review: PeerReview, staff: User, reason: str) -> None:
    """Staff of the school hide a comment, with the reason recorded (and audited).  Committed."""
    if not is_staff_of(staff, review.submission):
        raise AssessmentNotFoundError(_l("no such comment"))
    if review.commented_at is None:
        raise AssessmentConflictError(_l("there is no comment to hide yet"), code="NO_COMMENT")
    if review.hidden_at is not None:
        raise AssessmentConflictError(_l("this comment is already hidden"), code="HIDDEN")
    reason = (reason or "").strip()
    if not reason:
        raise AssessmentError(_l("say why you hide the comment: the student and the peer see it"))
    if len(reason) > MAX_REASON:
        raise AssessmentError(_l("the reason is longer than %(max)d characters", max=MAX_REASON))
    with unit_of_work(write=True):
        review.hidden_at = datetime.now(UTC)
        review.hidden_by_id = staff.id
        review.hidden_reason = reason
        audit.record(
            "peer_comment_hidden",
            actor=staff,
            issuer_id=review.submission.competency.issuer_id,
            target=review.public_id,
            detail={
                "submission": review.submission.public_id,
                "peer": review.peer_id,
                "reason": reason,
            },
        )


def find_review(public_id: str) -> PeerReview | None:
    """The request with this public id, if any."""
    row: PeerReview | None = db.session.scalar(
        select(PeerReview).where(PeerReview.public_id == public_id)
    )
    return row


def shown_to(reviews: Sequence[PeerReview], user: User) -> list[PeerReview]:
    """The requests of ``reviews`` that ``user`` may see."""
    return [review for review in reviews if can_see(user, review)]
