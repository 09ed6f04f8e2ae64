"""Recording an assessor's judgement and issuing on endorsement: the steps that the one-by-one
review (:func:`portfolio.assessment.service.assess`) and the cohort endorsement
(:mod:`portfolio.bulk.kinds`) share.  Everything here runs in the caller's write transaction."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.accounts.notifications import Mail, notify
from portfolio.assessment import credentials as issuing
from portfolio.assessment.errors import AssessmentConflictError
from portfolio.assessment.events import transition
from portfolio.assessment.judgement import Judgement
from portfolio.assessment.mastery import mastered, record_mastery
from portfolio.assessment.models import Assessment, Decision, Submission, SubmissionState
from portfolio.catalogue.models import Competency, RubricVersion, StackComponent
from portfolio.core.db import db
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.issuing.models import IssuedCredential


def round_assessments(submission: Submission) -> list[Assessment]:
    """The assessments of the submission's current round, oldest first."""
    return [a for a in submission.assessments if a.round == submission.round]


def endorsing(submission: Submission) -> list[Assessment]:
    """The endorsements of the submission's current round, oldest first."""
    return [a for a in round_assessments(submission) if a.decision == Decision.ENDORSE]


def record_assessment(
    submission: Submission,
    assessor: User,
    version: RubricVersion | None,
    decision: Decision,
    judgement: Judgement,
) -> Assessment:
    """Store the assessor's judgement of the current round and reload the submission, so that
    its round includes it."""
    assessment = Assessment(
        submission_id=submission.id,
        round=submission.round,
        assessor_id=assessor.id,
        rubric_version_id=version.id if version is not None else None,
        decision=decision,
        levels=judgement.levels,
        criterion_feedback=judgement.criterion_feedback,
        feedback=judgement.feedback,
    )
    db.session.add(assessment)
    db.session.flush()
    db.session.refresh(submission)
    return assessment


@dataclass(frozen=True)
class Endorsed:
    """What an endorsement issued: the mastery's credential and the stack badges it
    completed."""

    credential: IssuedCredential
    stacks: list[IssuedCredential] = field(default_factory=list)


def endorse(
    submission: Submission, decider: User, outbox: list[Mail], *, cohort: str | None = None
) -> Endorsed:
    """Endorse the submission on its round's endorsements: issue the credential (carrying each
    endorsing assessor's endorsement), mark it endorsed, record the mastery, tell the student
    and issue the stack badges it completes.  ``decider`` is who made the last decision;
    ``cohort`` names the cohort when it was endorsed with a whole cohort.

    Raises :class:`~portfolio.assessment.errors.AssessmentConflictError` (``MASTERED``) when
    the student already holds the mastery.
    """
    student = submission.student
    competency = submission.competency
    if mastered(student, competency) is not None:
        raise AssessmentConflictError(
            _l("the student has already mastered this competency"), code="MASTERED"
        )
    endorsements = endorsing(submission)
    credential = issuing.issue_mastery(submission, endorsements, cohort=cohort)
    transition(
        submission,
        SubmissionState.ENDORSED,
        decider,
        "Endorsed by " + ", ".join(a.assessor.display_name for a in endorsements),
    )
    submission.decided_at = datetime.now(UTC)
    submission.flagged_at = None
    submission.credential_id = credential.id
    stacks = credit_mastery(student, competency, credential, submission.id, outbox)
    return Endorsed(credential, stacks)


def credit_mastery(
    student: User,
    competency: Competency,
    credential: IssuedCredential,
    submission_id: int | None,
    outbox: list[Mail],
) -> list[IssuedCredential]:
    """Record that ``student`` mastered ``competency`` with ``credential``, tell them, and
    issue the stack badges that completes; returns those badges."""
    record_mastery(student, competency, credential.id, submission_id)
    name = competency.name
    notify(
        student,
        lambda: _("You mastered “%(competency)s”: your credential is ready", competency=name),
        f"/c/{credential.public_id}",
        outbox,
    )
    return complete_stacks(student, competency, outbox)


def complete_stacks(
    student: User, competency: Competency, outbox: list[Mail]
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
            notify(
                student,
                functools.partial(
                    _,
                    "You earned the badge “%(badge)s” by mastering all of its competencies",
                    badge=stack.name,
                ),
                f"/c/{credential.public_id}",
                outbox,
            )
            issued.append(credential)
            pending.append(stack)
    return issued
