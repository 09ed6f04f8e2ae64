"""Self-assessment (issue 17 §2): before she submits or resubmits, a student may rate her own
work on the competency's current rubric, with a note per criterion.

The rating belongs to the round her next submit starts (``submission.round + 1`` while the
submission is a draft or sent back for revision); she may change it until she submits, and it
is frozen after.  An assessor sees it only once their own assessment of that round is recorded
(:func:`calibration_for_assessor`), so it cannot anchor them; the student sees both side by
side once the round's decision is shown to her (:func:`calibration_for_student`).  Nothing here
is read by a decision or written into a credential.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.assessment.calibration import criterion_gaps
from portfolio.assessment.errors import (
    AssessmentConflictError,
    AssessmentError,
    AssessmentNotFoundError,
)
from portfolio.assessment.models import Assessment, SelfAssessment, Submission, SubmissionState
from portfolio.assessment.states import EDITABLE, FEEDBACK_WAITING
from portfolio.catalogue.models import RubricVersion
from portfolio.catalogue.rubrics import RubricError, check_levels, current_version
from portfolio.core.db import db, unit_of_work
from portfolio.core.i18n import lazy_gettext as _l

MAX_NOTE = 2000

#: States in which the decision of the current round has been shown to the student.
DECIDED_FOR_STUDENT = (*FEEDBACK_WAITING, SubmissionState.ENDORSED)


def next_round(submission: Submission) -> int:
    """The round her next submit or resubmit starts (what a rating made now goes with)."""
    return submission.round + 1


def may_rate(submission: Submission) -> bool:
    """Whether the student may (still) rate her work: before she submits or resubmits."""
    return submission.state in EDITABLE


def self_assessment_of(submission: Submission, round_number: int) -> SelfAssessment | None:
    """The student's rating for ``round_number`` of the submission, if she made one."""
    row: SelfAssessment | None = db.session.scalar(
        select(SelfAssessment).where(
            SelfAssessment.submission_id == submission.id,
            SelfAssessment.round == round_number,
        )
    )
    return row


def draft_rating(submission: Submission) -> SelfAssessment | None:
    """The rating she may still change (the next round's), if any."""
    return self_assessment_of(submission, next_round(submission)) if may_rate(submission) else None


def save_self_assessment(
    submission: Submission,
    student: User,
    *,
    levels: Sequence[Any],
    notes: Sequence[str],
) -> SelfAssessment:
    """Store (or replace) the student's rating of her work for the round her next submit
    starts, on the competency's current rubric; committed.

    Raises :class:`~portfolio.assessment.errors.AssessmentError`: not found for anyone but the
    student, a conflict once she has submitted (the rating is frozen) or for a competency
    without a rubric, invalid input for a missing level or a note too long.
    """
    if submission.student_id != student.id:
        raise AssessmentNotFoundError(_l("no such submission"))
    if not may_rate(submission):
        raise AssessmentConflictError(
            _l("you can rate your own work only before you submit it"), code="WRONG_STATE"
        )
    version = current_version(submission.competency)
    if version is None:
        raise AssessmentConflictError(
            _l("this competency has no rubric to rate your work on"), code="NO_RUBRIC"
        )
    try:
        chosen = check_levels(version, levels)
    except RubricError as exc:
        raise AssessmentError(str(exc)) from None
    cleaned = [(text or "").strip() for text in list(notes)[: len(chosen)]]
    cleaned += [""] * (len(chosen) - len(cleaned))
    if any(len(note) > MAX_NOTE for note in cleaned):
        raise AssessmentError(_l("a note is longer than %(max)d characters", max=MAX_NOTE))
    with unit_of_work(write=True):
        row = self_assessment_of(submission, next_round(submission))
        if row is None:
            row = SelfAssessment(submission_id=submission.id, round=next_round(submission))
            db.session.add(row)
        row.rubric_version_id = version.id
        row.levels = chosen
        row.criterion_notes = cleaned
        row.updated_at = datetime.now(UTC)
    return row


# -- the calibration view ----------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationRow:
    """One criterion: the assessor's level, the student's, her note, and the gap in levels
    (her level minus the assessor's; None when either is missing)."""

    criterion: str
    assessor_level: str | None
    student_level: str | None
    note: str
    gap: int | None


@dataclass(frozen=True)
class Calibration:
    """A student's rating of one round beside one assessor's judgement of it."""

    round: int
    assessment: Assessment
    rating: SelfAssessment
    version: RubricVersion | None
    #: False when the two were made on different rubric versions (levels not comparable).
    comparable: bool
    rows: tuple[CalibrationRow, ...]


def _level_name(version: RubricVersion, levels: Sequence[int], index: int) -> str | None:
    if index >= len(levels):
        return None
    level = levels[index]
    if not 0 <= level < len(version.levels):
        return None
    return str(version.levels[level]["name"])


def calibrate(rating: SelfAssessment, judgement: Assessment) -> Calibration:
    """The calibration view of ``rating`` beside ``judgement`` (same submission and round)."""
    version = rating.rubric_version
    comparable = version is not None and judgement.rubric_version_id == rating.rubric_version_id
    rows: list[CalibrationRow] = []
    if version is not None:
        gaps = criterion_gaps(rating.levels, judgement.levels) if comparable else []
        for index, criterion in enumerate(version.criteria):
            notes = rating.criterion_notes or []
            rows.append(
                CalibrationRow(
                    criterion=str(criterion["name"]),
                    assessor_level=(
                        _level_name(version, judgement.levels, index) if comparable else None
                    ),
                    student_level=_level_name(version, rating.levels, index),
                    note=notes[index] if index < len(notes) else "",
                    gap=gaps[index] if index < len(gaps) else None,
                )
            )
    return Calibration(
        round=rating.round,
        assessment=judgement,
        rating=rating,
        version=version,
        comparable=comparable,
        rows=tuple(rows),
    )


def _ratings(submission: Submission) -> list[SelfAssessment]:
    """Her frozen ratings (rounds she has submitted), newest first."""
    return list(
        db.session.scalars(
            select(SelfAssessment)
            .where(
                SelfAssessment.submission_id == submission.id,
                SelfAssessment.round <= submission.round,
            )
            .order_by(SelfAssessment.round.desc())
        )
    )


def calibration_for_assessor(submission: Submission, viewer: User) -> list[Calibration]:
    """For the review page: each round the viewer has assessed and the student rated, her
    rating beside the viewer's own judgement, newest first.  A round the viewer has not judged
    shows nothing: her rating must not anchor them."""
    mine = {a.round: a for a in submission.assessments if a.assessor_id == viewer.id}
    return [calibrate(r, mine[r.round]) for r in _ratings(submission) if r.round in mine]


def round_shown_to_student(submission: Submission, round_number: int) -> bool:
    """Whether the decision of ``round_number`` has been shown to the student: an earlier
    round (she has resubmitted since), or the current one once it is decided — never while
    assessors of a moderated round are still at it."""
    if round_number < submission.round:
        return True
    return round_number == submission.round and (
        submission.state in DECIDED_FOR_STUDENT or submission.state == SubmissionState.NOT_YET
    )


def calibration_for_student(submission: Submission) -> list[Calibration]:
    """For her submission page: each decided round she rated, her rating beside the judgement
    that decided it (the round's last assessment), newest first."""
    views = []
    for rating in _ratings(submission):
        if not round_shown_to_student(submission, rating.round):
            continue
        judged = [a for a in submission.assessments if a.round == rating.round]
        if judged:
            views.append(calibrate(rating, judged[-1]))
    return views
