"""Submitting evidence for a competency, assessing it, and issuing the credential on mastery.

Status flow of a :class:`~portfolio.assessment.models.Submission` (every transition is a
:class:`~portfolio.assessment.models.SubmissionEvent` with who, when and why)::

    draft → submitted → in_review → revision_requested → resubmitted → in_review → …
                                  ↘ endorsed | not_yet

Moderation: a competency may require several assessors to endorse (``required_endorsements``).
The credential is issued only when that many assessors of the current round endorse.  A
"revise" or "not yet" decision goes to the student at once, unless an assessor of the same
round already endorsed: then the submission is flagged and administrators decide (an
administrator's assessment of a flagged submission is final).

Issuing on endorsement (:func:`assess`; :mod:`portfolio.assessment.credentials` builds the
credentials): the
credential, its status-list positions, the submission's new state, the
:class:`~portfolio.assessment.models.Mastery` row, any stack badge it completes and the
notifications are
written in one transaction.  The unique (student, competency) key of masteries and the row lock
on the submission make endorsing twice — even at the same moment in two processes — issue once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portfolio.accounts.models import Notification, User
from portfolio.assessment import credentials as issuing
from portfolio.assessment.mastery import mastered, missing_prerequisites, record_mastery
from portfolio.assessment.models import Assessment, Submission, SubmissionEvent, SubmissionEvidence
from portfolio.catalogue.models import Competency, RubricVersion, StackComponent
from portfolio.catalogue.rubrics import (
    RubricError,
    check_levels,
    current_version,
    describe_rule,
    meets_mastery,
)
from portfolio.core import mail
from portfolio.core.db import begin_write, db
from portfolio.evidence.models import Evidence
from portfolio.issuing.models import IssuedCredential
from portfolio.issuing.service import ServiceConfig

MAX_EVIDENCE_PER_SUBMISSION = 20
MAX_NOTE = 4000
MAX_FEEDBACK = 8000
MAX_ATTEMPTS = 5

#: States in which assessors may judge a submission (the queue).
AWAITING_ASSESSMENT = ("submitted", "resubmitted", "in_review")
#: States in which the student may change the evidence and note.
EDITABLE = ("draft", "revision_requested")
#: States that end a submission.
FINAL = ("endorsed", "not_yet")

STATE_LABELS = {
    "draft": "Draft",
    "submitted": "Submitted",
    "in_review": "In review",
    "revision_requested": "Revision requested",
    "resubmitted": "Resubmitted",
    "endorsed": "Endorsed",
    "not_yet": "Not yet",
}
DECISION_LABELS = {"endorse": "Endorse", "revise": "Request a revision", "not_yet": "Not yet"}


class AssessmentError(Exception):
    """A request the flow refuses; ``status`` is the HTTP status a page or API answers with."""

    def __init__(self, message: str, *, status: int = 422, code: str = "INVALID") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


# -- who may do what ---------------------------------------------------------------------------


def can_assess(user: User | None, submission: Submission) -> bool:
    """Assessors and administrators of the competency's issuer, never the student themself."""
    return (
        user is not None
        and user.is_active
        and user.role in ("assessor", "admin")
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
    return list(
        db.session.scalars(
            select(Competency)
            .where(
                Competency.issuer_id == student.issuer_id,
                Competency.archived_at.is_(None),
                Competency.is_stack.is_(False),
            )
            .order_by(Competency.position, Competency.name)
        )
    )


# -- the audit trail and notices -----------------------------------------------------------


def _transition(submission: Submission, to_state: str, actor: User | None, reason: str) -> None:
    now = datetime.now(UTC)
    db.session.add(
        SubmissionEvent(
            submission_id=submission.id,
            from_state=submission.state if submission.id is not None else None,
            to_state=to_state,
            actor_id=actor.id if actor is not None else None,
            reason=reason,
            at=now,
        )
    )
    submission.state = to_state
    submission.updated_at = now


def trail(submission: Submission) -> list[SubmissionEvent]:
    """The submission's transitions, oldest first."""
    return list(
        db.session.scalars(
            select(SubmissionEvent)
            .where(SubmissionEvent.submission_id == submission.id)
            .order_by(SubmissionEvent.at, SubmissionEvent.id)
        )
    )


@dataclass
class _Mail:
    to: str
    subject: str
    body: str


def _notify(user: User, message: str, link: str, outbox: list[_Mail] | None = None) -> None:
    db.session.add(Notification(user_id=user.id, message=message, link=link))
    if outbox is not None:
        outbox.append(_Mail(to=user.email, subject=message, body=f"{message}\n\n{_absolute(link)}"))


def _absolute(path: str) -> str:
    return ServiceConfig.current().public_url + path


def _send_mail(messages: Iterable[_Mail]) -> None:
    """Mail notices after the commit (SMTP when configured, else the outbox folder); a mail
    failure never undoes a decision (it is logged).  ``CREDFOLIO_NOTIFY_BY_MAIL = False`` (the
    demo seeding sets it) keeps notices in-app only."""
    if not current_app.config.get("CREDFOLIO_NOTIFY_BY_MAIL", True):
        return
    for message in messages:
        try:
            mail.send(to=message.to, subject=message.subject, body=message.body)
        except (mail.MailError, ValueError, OSError) as exc:
            current_app.logger.warning("notification mail to a user failed: %s", exc)


def submission_path(submission: Submission) -> str:
    return f"/submissions/{submission.public_id}"


def review_path(submission: Submission) -> str:
    return f"/review/{submission.public_id}"


# -- the student's side ----------------------------------------------------------------------


def _clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise AssessmentError(f"the note is longer than {MAX_NOTE} characters")
    return note


def _own_evidence(student: User, evidence_ids: Sequence[str]) -> list[Evidence]:
    ids = list(dict.fromkeys(i for i in evidence_ids if i))
    if not ids:
        raise AssessmentError("choose at least one piece of evidence")
    if len(ids) > MAX_EVIDENCE_PER_SUBMISSION:
        raise AssessmentError(f"choose at most {MAX_EVIDENCE_PER_SUBMISSION} pieces of evidence")
    found = {
        e.public_id: e
        for e in db.session.scalars(select(Evidence).where(Evidence.public_id.in_(ids)))
    }
    items = []
    for public_id in ids:
        evidence = found.get(public_id)
        # Someone else's evidence reads exactly like evidence that does not exist.
        if evidence is None or evidence.owner_id != student.id:
            raise AssessmentError("one of the chosen pieces of evidence does not exist")
        items.append(evidence)
    return items


def _set_evidence(submission: Submission, evidence: Sequence[Evidence]) -> None:
    submission.items.clear()
    db.session.flush()
    for position, item in enumerate(evidence):
        submission.items.append(SubmissionEvidence(evidence_id=item.id, position=position))


def _check_can_pursue(student: User, competency: Competency) -> None:
    if student.role != "student":
        raise AssessmentError("only students submit evidence", status=403, code="FORBIDDEN")
    if (
        competency.issuer_id != student.issuer_id
        or competency.archived_at is not None
        or competency.is_stack
    ):
        raise AssessmentError("no such competency to submit for", status=404, code="NOT_FOUND")
    missing = missing_prerequisites(student, competency)
    if missing:
        names = ", ".join(f"“{c.name}”" for c in missing)
        raise AssessmentError(f"master {names} first: it is a prerequisite of this competency")
    if mastered(student, competency) is not None:
        raise AssessmentError("you have already mastered this competency", code="MASTERED")


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
            "you already have an open submission for this competency; continue that one",
            code="OPEN_SUBMISSION",
        )
    begin_write()
    try:
        submission = Submission(student_id=student.id, competency_id=competency.id, note=note)
        db.session.add(submission)
        db.session.flush()
        db.session.add(
            SubmissionEvent(
                submission_id=submission.id, to_state="draft", actor_id=student.id, reason=""
            )
        )
        _set_evidence(submission, evidence)
        if submit:
            _submit(submission, student)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return submission


def update_submission(
    submission: Submission, student: User, *, evidence_ids: Sequence[str], note: str
) -> None:
    """Change the evidence and note of a draft or of a submission sent back for revision."""
    _check_owner(submission, student)
    if submission.state not in EDITABLE:
        raise AssessmentError(
            f"a submission that is “{STATE_LABELS[submission.state]}” cannot be changed",
            status=409,
            code="WRONG_STATE",
        )
    note = _clean_note(note)
    evidence = _own_evidence(student, evidence_ids)
    begin_write()
    try:
        submission.note = note
        submission.updated_at = datetime.now(UTC)
        _set_evidence(submission, evidence)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _check_owner(submission: Submission, student: User) -> None:
    if submission.student_id != student.id:
        raise AssessmentError("no such submission", status=404, code="NOT_FOUND")


def _submit(submission: Submission, student: User) -> None:
    if submission.state == "draft":
        to_state, reason = "submitted", "Submitted for assessment"
    elif submission.state == "revision_requested":
        to_state, reason = "resubmitted", "Resubmitted after revision"
    else:
        raise AssessmentError(
            f"a submission that is “{STATE_LABELS[submission.state]}” cannot be submitted",
            status=409,
            code="WRONG_STATE",
        )
    if not submission.items:
        raise AssessmentError("choose at least one piece of evidence")
    submission.round += 1
    submission.submitted_at = datetime.now(UTC)
    submission.flagged_at = None
    _transition(submission, to_state, student, reason)


def submit(submission: Submission, student: User) -> None:
    """Send a draft for assessment, or a revised submission back (a new round)."""
    _check_owner(submission, student)
    _check_can_pursue(student, submission.competency)
    begin_write()
    try:
        db.session.refresh(submission)
        _submit(submission, student)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


# -- the assessor's side ---------------------------------------------------------------------


def start_review(submission: Submission, assessor: User) -> None:
    """Mark a submitted or resubmitted submission "in review" (the student sees who has it)."""
    if not can_assess(assessor, submission):
        raise AssessmentError("no such submission", status=404, code="NOT_FOUND")
    begin_write()
    try:
        db.session.refresh(submission)
        if submission.state in ("submitted", "resubmitted"):
            _transition(
                submission, "in_review", assessor, f"Review started by {assessor.display_name}"
            )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


@dataclass(frozen=True)
class Outcome:
    """What an assessment led to."""

    assessment: Assessment
    state: str
    credential: IssuedCredential | None = None
    stacks: tuple[IssuedCredential, ...] = ()
    flagged: bool = False
    waiting_for: int = 0


def round_assessments(submission: Submission) -> list[Assessment]:
    """The assessments of the submission's current round, oldest first."""
    return [a for a in submission.assessments if a.round == submission.round]


def _check_decision(
    version: RubricVersion | None,
    levels: Sequence[Any],
    criterion_feedback: Sequence[str],
    feedback: str,
    decision: str,
) -> tuple[list[int], list[str], str]:
    if decision not in DECISION_LABELS:
        raise AssessmentError("choose a decision: endorse, request a revision, or not yet")
    feedback = (feedback or "").strip()
    if len(feedback) > MAX_FEEDBACK:
        raise AssessmentError(f"the feedback is longer than {MAX_FEEDBACK} characters")
    chosen: list[int] = []
    notes: list[str] = []
    if version is not None:
        try:
            chosen = check_levels(version, levels)
        except RubricError as exc:
            raise AssessmentError(str(exc)) from None
        notes = [(text or "").strip() for text in list(criterion_feedback)[: len(chosen)]]
        notes += [""] * (len(chosen) - len(notes))
        if any(len(note) > MAX_FEEDBACK for note in notes):
            raise AssessmentError(f"criterion feedback is longer than {MAX_FEEDBACK} characters")
        if decision == "endorse" and not meets_mastery(version, chosen):
            raise AssessmentError(
                "the chosen levels do not meet the rule for mastery "
                f"({describe_rule(version)}); request a revision or choose other levels"
            )
    if decision != "endorse" and not feedback and not any(notes):
        raise AssessmentError("say what to improve: feedback is required unless you endorse")
    return chosen, notes, feedback


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

    Raises :class:`AssessmentError`: 404 for someone who may not assess it, 409 for a
    submission not awaiting assessment or already judged by this assessor in this round, 422
    for an incomplete or inconsistent judgement.  Nothing is stored when it raises.
    """
    if not can_assess(assessor, submission):
        raise AssessmentError("no such submission", status=404, code="NOT_FOUND")
    submission_id = submission.id
    version = current_version(submission.competency)
    chosen, notes, feedback = _check_decision(
        version, levels, criterion_feedback, feedback, decision
    )
    if decision == "endorse":
        # The assessor's signing identity is made (and committed) before the decision's
        # transaction, which must commit all at once or not at all.
        issuing.endorser_issuer(assessor)
    last: IntegrityError | None = None
    for _ in range(MAX_ATTEMPTS):
        outbox: list[_Mail] = []
        begin_write()
        try:
            locked = db.session.scalar(
                select(Submission)
                .where(Submission.id == submission_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if locked is None:
                raise AssessmentError("no such submission", status=404, code="NOT_FOUND")
            outcome = _assess_locked(
                locked, assessor, version, decision, chosen, notes, feedback, outbox
            )
            db.session.commit()
        except IntegrityError as exc:  # a concurrent decision or issue: look again
            db.session.rollback()
            last = exc
            continue
        except BaseException:
            db.session.rollback()
            raise
        _send_mail(outbox)
        return outcome
    raise AssessmentError(
        f"the submission changed while it was assessed; try again ({last})",
        status=409,
        code="CONFLICT",
    )


def _assess_locked(
    submission: Submission,
    assessor: User,
    version: RubricVersion | None,
    decision: str,
    chosen: list[int],
    notes: list[str],
    feedback: str,
    outbox: list[_Mail],
) -> Outcome:
    _check_can_judge_round(submission, assessor)
    if submission.state != "in_review":
        _transition(submission, "in_review", assessor, f"Review started by {assessor.display_name}")
    assessment = _record_assessment(
        submission, assessor, version, decision, chosen, notes, feedback
    )
    in_round = round_assessments(submission)
    endorsing = [a for a in in_round if a.decision == "endorse"]
    required = submission.competency.required_endorsements
    decisive = submission.flagged_at is not None and assessor.is_admin
    student = submission.student

    if decision == "endorse" and (len(endorsing) >= required or decisive):
        credential, stacks = _endorse(submission, assessor, endorsing, outbox)
        return Outcome(assessment, "endorsed", credential=credential, stacks=tuple(stacks))
    if decision != "endorse" and (not endorsing or decisive):
        to_state = _return_to_student(submission, student, assessor, decision, feedback, outbox)
        return Outcome(assessment, to_state)
    # Assessors of this round disagree, or more endorsements are needed.
    disagree = len({a.decision for a in in_round}) > 1
    if disagree and submission.flagged_at is None:
        _flag_for_moderation(submission, student, assessor, outbox)
    return Outcome(
        assessment,
        submission.state,
        flagged=submission.flagged_at is not None,
        waiting_for=max(required - len(endorsing), 0),
    )


def _check_can_judge_round(submission: Submission, assessor: User) -> None:
    """Refuse a submission not awaiting assessment, or one this assessor judged this round."""
    if submission.state not in AWAITING_ASSESSMENT:
        raise AssessmentError(
            f"this submission is “{STATE_LABELS[submission.state]}”: it is not awaiting assessment",
            status=409,
            code="WRONG_STATE",
        )
    earlier = round_assessments(submission)
    if any(a.assessor_id == assessor.id for a in earlier):
        raise AssessmentError(
            "you have already assessed this round of the submission", status=409, code="DUPLICATE"
        )


def _record_assessment(
    submission: Submission,
    assessor: User,
    version: RubricVersion | None,
    decision: str,
    chosen: list[int],
    notes: list[str],
    feedback: str,
) -> Assessment:
    """Store the assessment and reload the submission so its round includes it."""
    assessment = Assessment(
        submission_id=submission.id,
        round=submission.round,
        assessor_id=assessor.id,
        rubric_version_id=version.id if version is not None else None,
        decision=decision,
        levels=chosen,
        criterion_feedback=notes,
        feedback=feedback,
    )
    db.session.add(assessment)
    db.session.flush()
    db.session.refresh(submission)
    return assessment


def _return_to_student(
    submission: Submission,
    student: User,
    assessor: User,
    decision: str,
    feedback: str,
    outbox: list[_Mail],
) -> str:
    """Act on a "revise" or "not yet" decision: move the submission and tell the student."""
    to_state = "revision_requested" if decision == "revise" else "not_yet"
    label = "asked for a revision" if decision == "revise" else "decided “not yet”"
    _transition(submission, to_state, assessor, feedback or DECISION_LABELS[decision])
    submission.decided_at = datetime.now(UTC)
    submission.flagged_at = None
    _notify(
        student,
        f"{assessor.display_name} {label} on “{submission.competency.name}”",
        submission_path(submission),
        outbox,
    )
    return to_state


def _flag_for_moderation(
    submission: Submission, student: User, assessor: User, outbox: list[_Mail]
) -> None:
    """Flag a round whose assessors disagree and tell the issuer's administrators."""
    submission.flagged_at = datetime.now(UTC)
    _transition(
        submission,
        "in_review",
        assessor,
        "Assessors disagree: flagged to administrators for moderation",
    )
    for admin in _admins(submission.competency.issuer_id):
        _notify(
            admin,
            f"Assessors disagree on {student.display_name}'s submission for "
            f"“{submission.competency.name}”",
            review_path(submission),
            outbox,
        )


def _admins(issuer_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(
                User.issuer_id == issuer_id, User.role == "admin", User.disabled_at.is_(None)
            )
        )
    )


# -- issuing on endorsement -------------------------------------------------------------------


def _endorse(
    submission: Submission, decider: User, endorsing: list[Assessment], outbox: list[_Mail]
) -> tuple[IssuedCredential, list[IssuedCredential]]:
    student = submission.student
    competency = submission.competency
    if mastered(student, competency) is not None:
        raise AssessmentError(
            "the student has already mastered this competency", status=409, code="MASTERED"
        )
    credential = issuing.issue_mastery(submission, endorsing)
    _transition(
        submission,
        "endorsed",
        decider,
        "Endorsed by " + ", ".join(a.assessor.display_name for a in endorsing),
    )
    submission.decided_at = datetime.now(UTC)
    submission.flagged_at = None
    submission.credential_id = credential.id
    record_mastery(student, competency, credential.id, submission.id)
    _notify(
        student,
        f"You mastered “{competency.name}”: your credential is ready",
        f"/c/{credential.public_id}",
        outbox,
    )
    stacks = _complete_stacks(student, competency, outbox)
    return credential, stacks


def _complete_stacks(
    student: User, competency: Competency, outbox: list[_Mail]
) -> list[IssuedCredential]:
    """Issue every stack badge the new mastery completes (and stacks those complete)."""
    issued = []
    pending = [competency]
    while pending:
        done = pending.pop()
        stacks = db.session.scalars(
            select(Competency)
            .join(StackComponent, StackComponent.stack_id == Competency.id)
            .where(
                StackComponent.component_id == done.id,
                Competency.is_stack.is_(True),
                Competency.archived_at.is_(None),
            )
        ).all()
        for stack in stacks:
            if mastered(student, stack) is not None or not stack.components:
                continue
            if any(mastered(student, c) is None for c in stack.components):
                continue
            credential = issuing.issue_stack(student, stack)
            record_mastery(student, stack, credential.id, None)
            _notify(
                student,
                f"You earned the badge “{stack.name}” by mastering all of its competencies",
                f"/c/{credential.public_id}",
                outbox,
            )
            issued.append(credential)
            pending.append(stack)
    return issued
