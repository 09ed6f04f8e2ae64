"""Submitting evidence for a competency and assessing it: who may do what, the student's side
(create, change, submit) and the assessor's (start a review, decide), each a transaction.

Status flow of a :class:`~portfolio.assessment.models.Submission` (every transition is a
:class:`~portfolio.assessment.models.SubmissionEvent` with who, when and why)::

    draft → submitted → in_review → revision_requested → resubmitted → in_review → …
                                  ↘ endorsed | not_yet

Moderation: a competency may require several assessors to endorse (``required_endorsements``).
The credential is issued only when that many assessors of the current round endorse.  A
"revise" or "not yet" decision goes to the student at once, unless an assessor of the same
round already endorsed: then the submission is flagged and administrators decide (an
administrator's assessment of a flagged submission is final).

Issuing on endorsement (:func:`assess`; :mod:`portfolio.assessment.endorsement` does it,
:mod:`portfolio.assessment.credentials` builds the credentials): the credential, its
status-list positions, the submission's new state, the
:class:`~portfolio.assessment.models.Mastery` row, any stack badge it completes and the
notifications are written in one transaction.  The unique (student, competency) key of
masteries and the row lock on the submission make endorsing twice — even at the same moment in
two processes — issue once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portfolio.accounts.models import Role, User
from portfolio.accounts.notifications import Mail, notify, send_mail
from portfolio.assessment import credentials as issuing
from portfolio.assessment.endorsement import (
    endorse,
    endorsing,
    record_assessment,
    round_assessments,
)
from portfolio.assessment.errors import (
    AssessmentConflictError,
    AssessmentError,
    AssessmentNotAllowedError,
    AssessmentNotFoundError,
)
from portfolio.assessment.events import transition
from portfolio.assessment.judgement import Judgement, check_judgement
from portfolio.assessment.mastery import mastered, missing_prerequisites
from portfolio.assessment.models import (
    Assessment,
    Decision,
    Submission,
    SubmissionEvent,
    SubmissionEvidence,
    SubmissionState,
)
from portfolio.assessment.states import (
    AWAITING_ASSESSMENT,
    DECISION_LABELS,
    EDITABLE,
    FINAL,
    STATE_LABELS,
)
from portfolio.catalogue.models import Competency, RubricVersion
from portfolio.catalogue.rubrics import current_version
from portfolio.catalogue.service import workable_competencies
from portfolio.core.db import db, unit_of_work
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.evidence.models import Evidence
from portfolio.issuing.models import IssuedCredential

MAX_EVIDENCE_PER_SUBMISSION = 20
MAX_NOTE = 4000
MAX_ATTEMPTS = 5


def _state_name(state: str) -> LazyText:
    """A submission state's name in the reader's language when the message is made (English
    for the JSON API's copy)."""
    return _l(STATE_LABELS[state])


# -- who may do what ---------------------------------------------------------------------------


def can_assess(user: User | None, submission: Submission) -> bool:
    """Assessors and administrators of the competency's issuer, never the student themself."""
    return (
        user is not None
        and user.is_active
        and user.role in (Role.ASSESSOR, Role.ADMIN)
        and user.issuer_id == submission.competency.issuer_id
        and user.id != submission.student_id
    )


def can_view(user: User | None, submission: Submission) -> bool:
    """The student who made it, and whoever may assess it."""
    if user is not None and user.is_active and user.id == submission.student_id:
        return True
    return can_assess(user, submission)


def open_submission(student: User, competency: Competency) -> Submission | None:
    """The student's submission for ``competency`` that has not ended, if any."""
    row: Submission | None = db.session.scalar(
        select(Submission).where(
            Submission.student_id == student.id,
            Submission.competency_id == competency.id,
            Submission.state.not_in(FINAL),
        )
    )
    return row


def submittable_competencies(student: User) -> list[Competency]:
    """Competencies the student may submit evidence for (prerequisites are checked on submit)."""
    return workable_competencies(student.issuer_id) if student.issuer_id is not None else []


def submission_path(submission: Submission) -> str:
    """The path of the student's page of the submission (notifications link to it)."""
    return f"/submissions/{submission.public_id}"


def review_path(submission: Submission) -> str:
    """The path of the assessors' page of the submission (notifications link to it)."""
    return f"/review/{submission.public_id}"


# -- the student's side ----------------------------------------------------------------------


def _clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise AssessmentError(_l("the note is longer than %(max)d characters", max=MAX_NOTE))
    return note


def _own_evidence(student: User, evidence_ids: Sequence[str]) -> list[Evidence]:
    ids = list(dict.fromkeys(i for i in evidence_ids if i))
    if not ids:
        raise AssessmentError(_l("choose at least one piece of evidence"))
    if len(ids) > MAX_EVIDENCE_PER_SUBMISSION:
        raise AssessmentError(
            _l("choose at most %(max)d pieces of evidence", max=MAX_EVIDENCE_PER_SUBMISSION)
        )
    found = {
        e.public_id: e
        for e in db.session.scalars(select(Evidence).where(Evidence.public_id.in_(ids)))
    }
    items = []
    for public_id in ids:
        evidence = found.get(public_id)
        # Someone else's evidence reads exactly like evidence that does not exist.
        if evidence is None or evidence.owner_id != student.id:
            raise AssessmentError(_l("one of the chosen pieces of evidence does not exist"))
        items.append(evidence)
    return items


def _set_evidence(submission: Submission, evidence: Sequence[Evidence]) -> None:
    submission.items.clear()
    db.session.flush()
    for position, item in enumerate(evidence):
        submission.items.append(SubmissionEvidence(evidence_id=item.id, position=position))


def _check_can_pursue(student: User, competency: Competency) -> None:
    if student.role != Role.STUDENT:
        raise AssessmentNotAllowedError(_l("only students submit evidence"))
    if (
        competency.issuer_id != student.issuer_id
        or competency.archived_at is not None
        or competency.is_stack
    ):
        raise AssessmentNotFoundError(_l("no such competency to submit for"))
    missing = missing_prerequisites(student, competency)
    if missing:
        names = ", ".join(f"“{c.name}”" for c in missing)
        raise AssessmentError(
            _l("master %(names)s first: it is a prerequisite of this competency", names=names)
        )
    if mastered(student, competency) is not None:
        raise AssessmentError(_l("you have already mastered this competency"), code="MASTERED")


def create_submission(
    student: User,
    competency: Competency,
    *,
    evidence_ids: Sequence[str],
    note: str = "",
    submit: bool = False,
) -> Submission:
    """A new submission (a draft, or submitted at once), committed."""
    _check_can_pursue(student, competency)
    note = _clean_note(note)
    evidence = _own_evidence(student, evidence_ids)
    existing = open_submission(student, competency)
    if existing is not None:
        raise AssessmentError(
            _l("you already have an open submission for this competency; continue that one"),
            code="OPEN_SUBMISSION",
        )
    with unit_of_work(write=True) as session:
        submission = Submission(student_id=student.id, competency_id=competency.id, note=note)
        session.add(submission)
        session.flush()
        session.add(
            SubmissionEvent(
                submission_id=submission.id,
                to_state=SubmissionState.DRAFT,
                actor_id=student.id,
                reason="",
            )
        )
        _set_evidence(submission, evidence)
        if submit:
            _submit(submission, student)
    return submission


def update_submission(
    submission: Submission, student: User, *, evidence_ids: Sequence[str], note: str
) -> None:
    """Change the evidence and note of a draft or of a submission sent back for revision."""
    _check_owner(submission, student)
    if submission.state not in EDITABLE:
        raise AssessmentConflictError(
            _l(
                "a submission that is “%(state)s” cannot be changed",
                state=_state_name(submission.state),
            ),
            code="WRONG_STATE",
        )
    note = _clean_note(note)
    evidence = _own_evidence(student, evidence_ids)
    with unit_of_work(write=True):
        submission.note = note
        submission.updated_at = datetime.now(UTC)
        _set_evidence(submission, evidence)


def _check_owner(submission: Submission, student: User) -> None:
    if submission.student_id != student.id:
        raise AssessmentNotFoundError(_l("no such submission"))


def _submit(submission: Submission, student: User) -> None:
    if submission.state == SubmissionState.DRAFT:
        to_state, reason = SubmissionState.SUBMITTED, "Submitted for assessment"
    elif submission.state == SubmissionState.REVISION_REQUESTED:
        to_state, reason = SubmissionState.RESUBMITTED, "Resubmitted after revision"
    else:
        raise AssessmentConflictError(
            _l(
                "a submission that is “%(state)s” cannot be submitted",
                state=_state_name(submission.state),
            ),
            code="WRONG_STATE",
        )
    if not submission.items:
        raise AssessmentError(_l("choose at least one piece of evidence"))
    submission.round += 1
    submission.submitted_at = datetime.now(UTC)
    submission.flagged_at = None
    transition(submission, to_state, student, reason)


def submit(submission: Submission, student: User) -> None:
    """Send a draft for assessment, or a revised submission back (a new round)."""
    _check_owner(submission, student)
    _check_can_pursue(student, submission.competency)
    with unit_of_work(write=True) as session:
        session.refresh(submission)
        _submit(submission, student)


# -- the assessor's side ---------------------------------------------------------------------


def start_review(submission: Submission, assessor: User) -> None:
    """Mark a submitted or resubmitted submission "in review" (the student sees who has it)."""
    if not can_assess(assessor, submission):
        raise AssessmentNotFoundError(_l("no such submission"))
    with unit_of_work(write=True) as session:
        session.refresh(submission)
        if submission.state in (SubmissionState.SUBMITTED, SubmissionState.RESUBMITTED):
            transition(
                submission,
                SubmissionState.IN_REVIEW,
                assessor,
                f"Review started by {assessor.display_name}",
            )


@dataclass(frozen=True)
class Outcome:
    """What an assessment led to."""

    assessment: Assessment
    state: str
    credential: IssuedCredential | None = None
    stacks: tuple[IssuedCredential, ...] = ()
    flagged: bool = False
    waiting_for: int = 0


def assess(
    submission: Submission,
    assessor: User,
    *,
    decision: str,
    levels: Sequence[Any] = (),
    criterion_feedback: Sequence[str] = (),
    feedback: str = "",
) -> Outcome:
    """Record one assessor's judgement of the current round and act on it (see the module).

    Raises :class:`~portfolio.assessment.errors.AssessmentError`: not found for someone who may
    not assess it, a conflict for a submission not awaiting assessment or already judged by
    this assessor in this round, invalid input for an incomplete or inconsistent judgement.
    Nothing is stored when it raises.
    """
    if not can_assess(assessor, submission):
        raise AssessmentNotFoundError(_l("no such submission"))
    submission_id = submission.id
    version = current_version(submission.competency)
    judgement = check_judgement(version, levels, criterion_feedback, feedback, decision)
    if decision == Decision.ENDORSE:
        # The assessor's signing identity is made (and committed) before the decision's
        # transaction, which must commit all at once or not at all.
        issuing.endorser_issuer(assessor)
    last: IntegrityError | None = None
    for _attempt in range(MAX_ATTEMPTS):
        outbox: list[Mail] = []
        try:
            with unit_of_work(write=True) as session:
                locked = session.scalar(
                    select(Submission)
                    .where(Submission.id == submission_id)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
                if locked is None:
                    raise AssessmentNotFoundError(_l("no such submission"))
                outcome = _assess_locked(
                    locked, assessor, version, Decision(decision), judgement, outbox
                )
        except IntegrityError as exc:  # a concurrent decision or issue: look again
            last = exc
            continue
        send_mail(outbox)
        return outcome
    raise AssessmentConflictError(
        _l("the submission changed while it was assessed; try again (%(error)s)", error=last),
        code="CONFLICT",
    )


def _assess_locked(
    submission: Submission,
    assessor: User,
    version: RubricVersion | None,
    decision: Decision,
    judgement: Judgement,
    outbox: list[Mail],
) -> Outcome:
    _check_can_judge_round(submission, assessor)
    if submission.state != SubmissionState.IN_REVIEW:
        transition(
            submission,
            SubmissionState.IN_REVIEW,
            assessor,
            f"Review started by {assessor.display_name}",
        )
    assessment = record_assessment(submission, assessor, version, decision, judgement)
    in_round = round_assessments(submission)
    endorsements = endorsing(submission)
    required = submission.competency.required_endorsements
    decisive = submission.flagged_at is not None and assessor.is_admin
    student = submission.student

    if decision == Decision.ENDORSE and (len(endorsements) >= required or decisive):
        endorsed = endorse(submission, assessor, outbox)
        return Outcome(
            assessment,
            SubmissionState.ENDORSED,
            credential=endorsed.credential,
            stacks=tuple(endorsed.stacks),
        )
    if decision != Decision.ENDORSE and (not endorsements or decisive):
        to_state = _return_to_student(
            submission, student, assessor, decision, judgement.feedback, outbox
        )
        return Outcome(assessment, to_state)
    # Assessors of this round disagree, or more endorsements are needed.
    disagree = len({a.decision for a in in_round}) > 1
    if disagree and submission.flagged_at is None:
        _flag_for_moderation(submission, student, assessor, outbox)
    return Outcome(
        assessment,
        submission.state,
        flagged=submission.flagged_at is not None,
        waiting_for=max(required - len(endorsements), 0),
    )


def _check_can_judge_round(submission: Submission, assessor: User) -> None:
    """Refuse a submission not awaiting assessment, or one this assessor judged this round."""
    if submission.state not in AWAITING_ASSESSMENT:
        raise AssessmentConflictError(
            _l(
                "this submission is “%(state)s”: it is not awaiting assessment",
                state=_state_name(submission.state),
            ),
            code="WRONG_STATE",
        )
    earlier = round_assessments(submission)
    if any(a.assessor_id == assessor.id for a in earlier):
        raise AssessmentConflictError(
            _l("you have already assessed this round of the submission"), code="DUPLICATE"
        )


def _return_to_student(
    submission: Submission,
    student: User,
    assessor: User,
    decision: Decision,
    feedback: str,
    outbox: list[Mail],
) -> SubmissionState:
    """Act on a "revise" or "not yet" decision: move the submission and tell the student."""
    assessor_name, competency_name = assessor.display_name, submission.competency.name
    if decision == Decision.REVISE:
        to_state = SubmissionState.REVISION_REQUESTED

        def notice() -> str:
            return str(
                _(
                    "%(assessor)s asked for a revision on “%(competency)s”",
                    assessor=assessor_name,
                    competency=competency_name,
                )
            )
    else:
        to_state = SubmissionState.NOT_YET

        def notice() -> str:
            return str(
                _(
                    "%(assessor)s decided “not yet” on “%(competency)s”",
                    assessor=assessor_name,
                    competency=competency_name,
                )
            )

    transition(submission, to_state, assessor, feedback or DECISION_LABELS[decision])
    submission.decided_at = datetime.now(UTC)
    submission.flagged_at = None
    notify(student, notice, submission_path(submission), outbox)
    return to_state


def _flag_for_moderation(
    submission: Submission, student: User, assessor: User, outbox: list[Mail]
) -> None:
    """Flag a round whose assessors disagree and tell the issuer's administrators."""
    submission.flagged_at = datetime.now(UTC)
    transition(
        submission,
        SubmissionState.IN_REVIEW,
        assessor,
        "Assessors disagree: flagged to administrators for moderation",
    )
    for admin in _admins(submission.competency.issuer_id):
        notify(
            admin,
            lambda: _(
                "Assessors disagree on %(student)s's submission for “%(competency)s”",
                student=student.display_name,
                competency=submission.competency.name,
            ),
            review_path(submission),
            outbox,
        )


def _admins(issuer_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(
                User.issuer_id == issuer_id, User.role == Role.ADMIN, User.disabled_at.is_(None)
            )
        )
    )
