"""The student's side of assessment: submit evidence for a competency, read feedback, revise.

Pages work without JavaScript.  A submission of another student answers 404 (no enumeration);
refused actions re-render the page with the reason (422) or say why it cannot be done (409).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Role, User
from portfolio.assessment import labels as names
from portfolio.assessment import peer_feedback as peers
from portfolio.assessment import self_assessment as rating
from portfolio.assessment import service as assessment
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.events import trail
from portfolio.assessment.forms import EvidenceForm, NewSubmissionForm, sentence
from portfolio.assessment.mastery import mastered, missing_prerequisites
from portfolio.assessment.models import Submission, SubmissionState
from portfolio.assessment.states import DECISION_LABELS, EDITABLE, STATE_LABELS
from portfolio.catalogue.models import Competency
from portfolio.catalogue.rubrics import current_version, describe_rule
from portfolio.core.db import db
from portfolio.core.errors import status_for
from portfolio.core.markdown import render_markdown
from portfolio.evidence.models import Evidence

bp = Blueprint("submissions", __name__)


@bp.app_template_global()
def submission_state(state: str) -> tuple[str, str]:
    """A submission state's name in the reader's language and its pill tone (for
    ``assessment/submissions/_states.html``: one list of names, ``labels``)."""
    return names.submission_states().get(state, state), names.SUBMISSION_TONES.get(state, "info")


def _own_submission(public_id: str) -> Submission:
    submission: Submission | None = db.session.scalar(
        select(Submission).where(Submission.public_id == public_id)
    )
    if submission is None or submission.student_id != signed_in_user().id:
        abort(404)
    return submission


def _my_evidence(student: User) -> list[Evidence]:
    return list(
        db.session.scalars(
            select(Evidence)
            .where(Evidence.owner_id == student.id)
            .order_by(Evidence.created_at.desc(), Evidence.id.desc())
        )
    )


def _competency_choices(student: User) -> list[dict[str, Any]]:
    """Every competency the student may pursue, with why one cannot be chosen yet."""
    choices = []
    for competency in assessment.submittable_competencies(student):
        blocked = None
        if mastered(student, competency) is not None:
            blocked = _("mastered")
        elif assessment.open_submission(student, competency) is not None:
            blocked = _("a submission is open")
        else:
            missing = missing_prerequisites(student, competency)
            if missing:
                blocked = _("needs %(names)s first", names=", ".join(c.name for c in missing))
        choices.append({"competency": competency, "blocked": blocked})
    return choices


@bp.get("/submissions")
@login_required(role=Role.STUDENT)
def index() -> ResponseReturnValue:
    """My submissions, most recently changed first."""
    rows = db.session.scalars(
        select(Submission)
        .where(Submission.student_id == signed_in_user().id)
        .order_by(Submission.updated_at.desc(), Submission.id.desc())
    ).all()
    return render_template("assessment/submissions/index.html", submissions=rows)


@bp.route("/submissions/new", methods=["GET", "POST"])
@login_required(role=Role.STUDENT)
def create() -> ResponseReturnValue:
    """Choose a competency and evidence; save a draft or submit at once."""
    student = signed_in_user()
    # A GET may choose the competency in the query string (links from the progress map).
    form = (
        NewSubmissionForm()
        if request.method == "POST"
        else NewSubmissionForm(formdata=request.args)
    )
    values = form.values()
    error = None
    if form.validate_on_submit():
        competency = db.session.scalar(
            select(Competency).where(Competency.public_id == values["competency"])
        )
        if competency is None or competency.issuer_id != student.issuer_id:
            error = _("Choose the competency your evidence shows.")
        else:
            try:
                submission = assessment.create_submission(
                    student,
                    competency,
                    evidence_ids=values["evidence"],
                    note=values["note"],
                    submit=form.submitting,
                )
            except AssessmentError as exc:
                error = sentence(exc.message)
            else:
                flash(
                    _("Submitted for assessment.")
                    if submission.state == SubmissionState.SUBMITTED
                    else _("Draft saved: submit it when you are ready."),
                    "success",
                )
                return redirect(url_for(".show", public_id=submission.public_id), 303)
    page = render_template(
        "assessment/submissions/new.html",
        choices=_competency_choices(student),
        evidence=_my_evidence(student),
        values=values,
        error=error,
    )
    return page, 422 if error else 200


def feedback_view(submission: Submission) -> list[dict[str, Any]]:
    """Every assessment of the submission, newest round first, read against the rubric
    version it was made with (never the current one)."""
    rounds = []
    for item in sorted(submission.assessments, key=lambda a: (-a.round, a.id)):
        version = item.rubric_version
        rows = []
        if version is not None:
            for index, criterion in enumerate(version.criteria):
                level = item.levels[index] if index < len(item.levels) else None
                rows.append(
                    {
                        "criterion": criterion,
                        "level": version.levels[level] if level is not None else None,
                        "cell": criterion["levels"][level] if level is not None else "",
                        "feedback": (
                            item.criterion_feedback[index]
                            if index < len(item.criterion_feedback)
                            else ""
                        ),
                    }
                )
        rounds.append(
            {
                "assessment": item,
                "version": version,
                "rule": describe_rule(version) if version is not None else None,
                "rows": rows,
                "feedback_html": render_markdown(item.feedback) if item.feedback else None,
            }
        )
    return rounds


@bp.get("/submissions/<public_id>")
@login_required(role=Role.STUDENT)
def show(public_id: str) -> ResponseReturnValue:
    """One submission: its state, evidence, feedback per criterion, and its audit trail."""
    submission = _own_submission(public_id)
    return _show(submission)


def render_submission(
    submission: Submission, *, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    """The student's page of her submission (with ``error`` at the top, answered with
    ``status``): also used by the peer-feedback actions that start from it."""
    return _show(submission, error=error, status=status)


def _show(
    submission: Submission, *, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    student = signed_in_user()
    version = current_version(submission.competency)
    chosen = {item.evidence_id for item in submission.items}
    reviews = peers.reviews_of(submission)
    page = render_template(
        "assessment/submissions/show.html",
        submission=submission,
        labels=STATE_LABELS,
        decisions=DECISION_LABELS,
        editable=submission.state in EDITABLE,
        rubric=version,
        rule=describe_rule(version) if version is not None else None,
        rounds=feedback_view(submission),
        trail=trail(submission),
        evidence=_my_evidence(student),
        chosen=chosen,
        error=error,
        rating=rating.draft_rating(submission),
        may_rate=rating.may_rate(submission),
        calibrations=rating.calibration_for_student(submission),
        peer_reviews=reviews,
        peer_limit=submission.competency.peer_reviewers,
        may_ask=peers.may_ask(submission) and len(reviews) < submission.competency.peer_reviewers,
        classmates=peers.classmates(submission) if peers.may_ask(submission) else [],
    )
    return page, status


@bp.post("/submissions/<public_id>")
@login_required(role=Role.STUDENT)
def update(public_id: str) -> ResponseReturnValue:
    """Save the evidence and note of a draft (or a submission sent back), and maybe submit."""
    submission = _own_submission(public_id)
    student = signed_in_user()
    form = EvidenceForm()
    try:
        assessment.update_submission(
            submission,
            student,
            evidence_ids=list(form.evidence.data or []),
            note=form.note.data or "",
        )
        if form.submitting:
            assessment.submit(submission, student)
    except AssessmentError as exc:
        db.session.rollback()
        submission = _own_submission(public_id)
        return _show(submission, error=sentence(exc.message), status=status_for(exc))
    flash(
        _("Draft saved.")
        if submission.state == SubmissionState.DRAFT
        else _(
            "%(state)s: an assessor will look at it soon.", state=_(STATE_LABELS[submission.state])
        ),
        "success",
    )
    return redirect(url_for(".show", public_id=submission.public_id), 303)
