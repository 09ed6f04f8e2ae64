"""The student's self-assessment page (issue 17 §2): before she submits or resubmits, she rates
her own work on the rubric with the grid the assessor uses.  Someone else's submission answers
404; a rating refused by the service re-renders the page with the reason."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Role
from portfolio.assessment import self_assessment as rating
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.forms import JudgementForm, echo, sentence
from portfolio.assessment.models import SelfAssessment, Submission
from portfolio.catalogue.rubrics import current_version, describe_rule
from portfolio.core.db import db
from portfolio.core.errors import status_for

bp = Blueprint("self_assessment", __name__)


@bp.app_template_global()
def calibration_gap(gap: int | None, name: str, *, student_view: bool) -> str:
    """The gap between a student's level and an assessor's, in words: for the assessor
    (``name`` is the student's) or for the student (``name`` is the assessor's)."""
    if gap is None:
        return str(_("Not compared"))
    if gap == 0:
        same = (
            _("You and %(name)s chose the same level", name=name)
            if student_view
            else _("%(name)s chose the same level as you", name=name)
        )
        return str(same)
    if student_view and gap > 0:
        words = ngettext(
            "You rated yourself %(num)d level higher than %(name)s",
            "You rated yourself %(num)d levels higher than %(name)s",
            gap,
            name=name,
        )
    elif student_view:
        words = ngettext(
            "You rated yourself %(num)d level lower than %(name)s",
            "You rated yourself %(num)d levels lower than %(name)s",
            -gap,
            name=name,
        )
    elif gap > 0:
        words = ngettext(
            "%(name)s rated this %(num)d level higher than you",
            "%(name)s rated this %(num)d levels higher than you",
            gap,
            name=name,
        )
    else:
        words = ngettext(
            "%(name)s rated this %(num)d level lower than you",
            "%(name)s rated this %(num)d levels lower than you",
            -gap,
            name=name,
        )
    return str(words)


def _own_submission(public_id: str) -> Submission:
    submission: Submission | None = db.session.scalar(
        select(Submission).where(Submission.public_id == public_id)
    )
    if submission is None or submission.student_id != signed_in_user().id:
        abort(404)
    return submission


def _values(row: SelfAssessment | None) -> dict[str, Any]:
    """The grid's values for a stored rating (``level-<i>``, ``feedback-<i>``)."""
    if row is None:
        return {}
    values: dict[str, Any] = {}
    for index, level in enumerate(row.levels or []):
        values[f"level-{index}"] = level
    for index, note in enumerate(row.criterion_notes or []):
        values[f"feedback-{index}"] = note
    return values


def _page(
    submission: Submission,
    *,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    version = current_version(submission.competency)
    stored = rating.draft_rating(submission)
    outdated = stored is not None and version is not None and stored.rubric_version_id != version.id
    if values is None:
        values = {} if outdated else _values(stored)
    criterion_errors: dict[int, str] = {}
    if error is not None and version is not None:
        criterion_errors = {
            index: _("Choose a level for this criterion.")
            for index in range(len(version.criteria))
            if str(values.get(f"level-{index}", "")).strip() == ""
        }
    page = render_template(
        "assessment/self_assessment.html",
        submission=submission,
        rubric=version,
        rule=describe_rule(version) if version is not None else None,
        may_rate=rating.may_rate(submission),
        stored=stored,
        outdated=outdated,
        values=values,
        criterion_errors=criterion_errors,
        error=error,
    )
    return page, status


@bp.get("/submissions/<public_id>/self-assessment")
@login_required(role=Role.STUDENT)
def edit(public_id: str) -> ResponseReturnValue:
    """The rubric grid to rate her own work (or why she cannot now)."""
    return _page(_own_submission(public_id))


@bp.post("/submissions/<public_id>/self-assessment")
@login_required(role=Role.STUDENT)
def save(public_id: str) -> ResponseReturnValue:
    """Store her rating for the round her next submit starts."""
    submission = _own_submission(public_id)
    version = current_version(submission.competency)
    form = JudgementForm.for_criteria(len(version.criteria) if version is not None else 0)()
    try:
        rating.save_self_assessment(
            submission,
            signed_in_user(),
            levels=form.levels(),
            notes=form.criterion_feedback(),
        )
    except AssessmentError as exc:
        db.session.rollback()
        return _page(
            _own_submission(public_id),
            values=echo(form),
            error=sentence(exc.message),
            status=status_for(exc),
        )
    flash(_("Your rating is saved. You can change it until you submit."), "success")
    return redirect(url_for("submissions.show", public_id=public_id), 303)
