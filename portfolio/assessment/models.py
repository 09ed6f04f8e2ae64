"""Assessment: submissions of evidence, their events and assessments, mastery, and the endorser
identity of assessors."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.core.db import Model, UTCDateTime, one_of
from portfolio.core.models import new_public_id, utcnow

if TYPE_CHECKING:
    from portfolio.accounts.models import User
    from portfolio.catalogue.models import Competency, RubricVersion
    from portfolio.evidence.models import Evidence
    from portfolio.issuing.models import IssuedCredential


#: The states of a :class:`Submission` (issue #5's status flow).
class SubmissionState(StrEnum):
    """Where a submission stands (the flow is in :mod:`portfolio.assessment.service`)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    REVISION_REQUESTED = "revision_requested"
    RESUBMITTED = "resubmitted"
    ENDORSED = "endorsed"
    NOT_YET = "not_yet"


SUBMISSION_STATES = tuple(state.value for state in SubmissionState)


#: What an assessor decides in an :class:`Assessment`.
class Decision(StrEnum):
    """An assessor's decision on a submission."""

    ENDORSE = "endorse"
    REVISE = "revise"
    NOT_YET = "not_yet"


DECISIONS = tuple(decision.value for decision in Decision)


class Submission(Model):
    """A student's claim of mastery of one competency, with the evidence for it."""

    #: A row here keeps its competency in the catalogue: archived, never deleted.
    keeps_competency = True

    #: When its credential is reissued (key compromise), the row points at the replacement.
    follows_reissued_credential = True

    __tablename__ = "submissions"
    __table_args__ = (one_of("state", SubmissionState, name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    state: Mapped[str] = mapped_column(String(24), default=SubmissionState.DRAFT, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    #: Each submit or resubmit starts a new round of assessment.
    round: Mapped[int] = mapped_column(Integer, default=0)
    #: Set when assessors of the current round disagree (moderation); cleared on a decision.
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the current round was submitted (the queue's "waiting since").
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("issued_credentials.id"))

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    competency: Mapped[Competency] = relationship()
    credential: Mapped[IssuedCredential | None] = relationship()
    items: Mapped[list[SubmissionEvidence]] = relationship(
        back_populates="submission",
        order_by="SubmissionEvidence.position",
        cascade="all, delete-orphan",
    )
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="submission", order_by="Assessment.id"
    )


class SubmissionEvidence(Model):
    """An evidence item attached to a submission."""

    #: Deleting the evidence deletes its rows here (the submission no longer lists it; what a
    #: credential was awarded for is frozen in its snapshots).
    goes_with_deleted_evidence = True

    __tablename__ = "submission_evidence"
    __table_args__ = (UniqueConstraint("submission_id", "evidence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    submission: Mapped[Submission] = relationship(back_populates="items")
    evidence: Mapped[Evidence] = relationship()


class SubmissionEvent(Model):
    """The audit trail of a submission: every transition with who, when and why."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()


class Assessment(Model):
    """One assessor's judgement of one round of a submission against a rubric version.

    ``levels`` holds the chosen level index per criterion (same order as the rubric's
    criteria); ``criterion_feedback`` the feedback text per criterion.
    """

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("submission_id", "round", "assessor_id"),
        one_of("decision", Decision, name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    rubric_version_id: Mapped[int | None] = mapped_column(ForeignKey("rubric_versions.id"))
    decision: Mapped[str] = mapped_column(String(16))
    levels: Mapped[list[int]] = mapped_column(JSON, default=list)
    criterion_feedback: Mapped[list[str]] = mapped_column(JSON, default=list)
    feedback: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="assessments")
    assessor: Mapped[User] = relationship()
    rubric_version: Mapped[RubricVersion | None] = relationship()


class Mastery(Model):
    """A student mastered a competency and holds the credential for it.

    The unique key is what makes "endorsing twice never issues twice" a database guarantee.
    """

    #: A row here keeps its competency in the catalogue: archived, never deleted.
    keeps_competency = True

    #: When its credential is reissued (key compromise), the row points at the replacement.
    follows_reissued_credential = True

    __tablename__ = "masteries"
    __table_args__ = (UniqueConstraint("student_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    competency: Mapped[Competency] = relationship()
    credential: Mapped[IssuedCredential] = relationship()


class SelfAssessment(Model):
    """A student's rating of her own work on the rubric, before she submits a round (issue 17
    §2).  ``levels`` and ``criterion_notes`` follow the rubric version's criteria, like an
    :class:`Assessment`'s.  Shown to an assessor only once their own judgement of the round is
    recorded, so it cannot anchor them; never part of what a credential says."""

    __tablename__ = "self_assessments"
    __table_args__ = (UniqueConstraint("submission_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    #: The round this rating goes with (the one her next submit or resubmit starts).
    round: Mapped[int] = mapped_column(Integer)
    rubric_version_id: Mapped[int | None] = mapped_column(ForeignKey("rubric_versions.id"))
    levels: Mapped[list[int]] = mapped_column(JSON, default=list)
    criterion_notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[Submission] = relationship()
    rubric_version: Mapped[RubricVersion | None] = relationship()


class PeerReview(Model):
    """A classmate asked for comments on a submission, and what they wrote (issue 17 §2).

    Comments never influence the credential; only the student, the peer who wrote one and the
    school's staff see them.  Staff may hide a comment, with the reason recorded."""

    __tablename__ = "peer_reviews"
    __table_args__ = (UniqueConstraint("submission_id", "peer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The peer's comment (Markdown); None until written.
    comment: Mapped[str | None] = mapped_column(Text)
    commented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    submission: Mapped[Submission] = relationship()
    peer: Mapped[User] = relationship(foreign_keys=[peer_id])
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])


class SignalThresholds(Model):
    """A school's thresholds for the early signals of the cohort view (issue 17 §4); a school
    without a row uses the defaults below."""

    __tablename__ = "signal_thresholds"

    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), primary_key=True)
    #: Flag a student with no submission in this many days while a plan item is due.
    quiet_days: Mapped[int] = mapped_column(Integer, default=14)
    #: Flag a student with at least this many revision rounds on one competency.
    revision_rounds: Mapped[int] = mapped_column(Integer, default=2)
    #: Flag a self-assessment this many levels or more from the assessor's on any criterion.
    calibration_gap: Mapped[int] = mapped_column(Integer, default=2)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
