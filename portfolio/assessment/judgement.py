"""An assessor's judgement as given (levels per criterion, feedback, a decision), checked
against the rubric before anything is stored.  Pure: no database, no Flask."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.models import Decision
from portfolio.assessment.states import DECISION_LABELS
from portfolio.catalogue.models import RubricVersion
from portfolio.catalogue.rubrics import RubricError, check_levels, describe_rule, meets_mastery
from portfolio.core.i18n import lazy_gettext as _l

MAX_FEEDBACK = 8000


@dataclass(frozen=True)
class Judgement:
    """A checked judgement: the chosen level index per criterion (the rubric's order), the
    feedback per criterion (as many as levels) and the overall feedback."""

    levels: list[int]
    criterion_feedback: list[str]
    feedback: str


def check_judgement(
    version: RubricVersion | None,
    levels: Sequence[Any],
    criterion_feedback: Sequence[str],
    feedback: str,
    decision: str,
) -> Judgement:
    """The judgement, once it is complete and consistent with ``decision``: a level for every
    criterion of ``version`` (the competency's current rubric, if any), levels that meet the
    rule for mastery to endorse, and something to improve otherwise.

    Raises :class:`~portfolio.assessment.errors.AssessmentError` saying what is wrong.
    """
    if decision not in DECISION_LABELS:
        raise AssessmentError(_l("choose a decision: endorse, request a revision, or not yet"))
    feedback = (feedback or "").strip()
    if len(feedback) > MAX_FEEDBACK:
        raise AssessmentError(
            _l("the feedback is longer than %(max)d characters", max=MAX_FEEDBACK)
        )
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
            raise AssessmentError(
                _l("criterion feedback is longer than %(max)d characters", max=MAX_FEEDBACK)
            )
        if decision == Decision.ENDORSE and not meets_mastery(version, chosen):
            raise AssessmentError(
                _l(
                    "the chosen levels do not meet the rule for mastery (%(rule)s); request a "
                    "revision or choose other levels",
                    rule=describe_rule(version),
                )
            )
    if decision != Decision.ENDORSE and not feedback and not any(notes):
        raise AssessmentError(_l("say what to improve: feedback is required unless you endorse"))
    return Judgement(chosen, notes, feedback)
