"""The assessor's side: the queue, the review page with the rubric, and the decision.

Assessors and administrators see submissions of their own issuer's competencies only; anything
else answers 404.  The student's artefacts are served to the assessor through
``/review/<submission>/artefacts/<artefact>`` — only artefacts of evidence in that submission.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Role, User
from portfolio.assessment import credentials as issuing
from portfolio.assessment import labels as names
from portfolio.assessment import peer_feedback as peers
from portfolio.assessment import self_assessment as rating
from portfolio.assessment import service as assessment
from portfolio.assessment.endorsement import round_assessments
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.events import trail
from portfolio.assessment.forms import AssessForm, EndorseForm, QueueFilterForm, echo, sentence
from portfolio.assessment.models import Decision, Submission
from portfolio.assessment.states import AWAITING_ASSESSMENT
from portfolio.assessment.submission_pages import feedback_view
from portfolio.catalogue.models import Competency
from portfolio.catalogue.rubrics import current_version, describe_rule
from portfolio.core.db import db
from portfolio.core.errors import status_for
from portfolio.core.markdown import render_markdown
from portfolio.core.numbers import whole_number
from portfolio.evidence.models import Artefact
from portfolio.evidence.pages import ARTEFACT_PARTS, serve_artefact

bp = Blueprint("review", __name__)

ASSESSORS = (Role.ASSESSOR, Role.ADMIN)
#: From how many days of waiting a submission's age is shown as a warning in the queue.
WAITING_WARN_DAYS = 7


def _submission(public_id: str) -> Submission:
    submission: Submission | None = db.session.scalar(
        select(Submission).where(Submission.public_id == public_id)
    )
    if submission is None or not assessment.can_assess(signed_in_user(), submission):
        abort(404)
    return submission


def queue(user: User, filters: dict[str, Any]) -> list[Submission]:
    """Submissions awaiting assessment by ``user``, oldest first, filtered."""
    query = (
        select(Submission)
        .join(Competency, Submission.competency_id == Competency.id)
        .join(User, Submission.student_id == User.id)
        .where(
            Competency.issuer_id == user.issuer_id,
            Submission.state.in_(AWAITING_ASSESSMENT),
            Submission.student_id != user.id,
        )
        .order_by(Submission.submitted_at, Submission.id)
    )
    if filters.get("competency"):
        query = query.where(Competency.public_id == filters["competency"])
    if filters.get("cohort"):
        query = query.where(User.cohort == filters["cohort"])
    if filters.get("age"):
        cutoff = datetime.now(UTC) - timedelta(days=int(filters["age"]))
        query = query.where(Submission.submitted_at <= cutoff)
    return list(db.session.scalars(query))


def _waiting_days(submission: Submission) -> int:
    moment = submission.submitted_at or submission.created_at
    return max((datetime.now(UTC) - moment).days, 0)


@bp.get("/review")
@login_required(role=ASSESSORS)
def index() -> ResponseReturnValue:
    """The queue: filter by competency, cohort and age; flagged submissions first for admins."""
    user = signed_in_user()
    filters, error = QueueFilterForm(formdata=request.args).filters()
    rows = queue(user, filters)
    competencies = db.session.scalars(
        select(Competency)
        .where(Competency.issuer_id == user.issuer_id, Competency.is_stack.is_(False))
        .order_by(Competency.name)
    ).all()
    cohorts = db.session.scalars(
        select(User.cohort)
        .where(User.issuer_id == user.issuer_id, User.cohort.is_not(None))
        .distinct()
        .order_by(User.cohort)
    ).all()
    items: list[dict[str, Any]] = [
        {
            "submission": row,
            "days": _waiting_days(row),
            "long": _waiting_days(row) >= WAITING_WARN_DAYS,
            "mine": any(a.assessor_id == user.id for a in round_assessments(row)),
        }
        for row in rows
    ]
    flagged = [item for item in items if item["submission"].flagged_at is not None]
    page = render_template(
        "assessment/review/index.html",
        items=items,
        flagged=flagged if user.is_admin else [],
        competencies=competencies,
        cohorts=cohorts,
        filters=filters,
        error=error,
        labels=names.submission_states(),
        tones=names.SUBMISSION_TONES,
        warn_days=WAITING_WARN_DAYS,
    )
    return page, 400 if error else 200


def _artefact_url(submission: Submission) -> Callable[..., str]:
    def url(artefact: Artefact, part: str = "file") -> str:
        return url_for(
            "review.artefact",
            public_id=submission.public_id,
            artefact_id=artefact.public_id,
            part=part,
        )

    return url


def render_review(
    submission: Submission, *, status: int = 200, peer_error: tuple[str, str] | None = None
) -> ResponseReturnValue:
    """The review page answered with ``status``; ``peer_error`` is (the peer request's public
    id, the message) shown beside that comment's hide form."""
    return _page(submission, status=status, peer_error=peer_error)


def _page(
    submission: Submission,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
    peer_error: tuple[str, str] | None = None,
) -> ResponseReturnValue:
    user = signed_in_user()
    version = current_version(submission.competency)
    mine = [a for a in round_assessments(submission) if a.assessor_id == user.id]
    values = form or {}
    criterion_errors: dict[int, str] = {}
    decision_error = None
    if error is not None:
        # Besides the message at the top: each row left without a level says so in place.
        count = len(version.criteria) if version is not None else 0
        criterion_errors = {
            index: _("Choose a level for this criterion.")
            for index in range(count)
            if not _is_level(values.get(f"level-{index}"), len(version.levels) if version else 0)
        }
        if values.get("decision") not in set(Decision):
            decision_error = _("Choose a decision.")
    page = render_template(
        "assessment/review/show.html",
        submission=submission,
        rubric=version,
        rule=describe_rule(version) if version is not None else None,
        labels=names.submission_states(),
        tones=names.SUBMISSION_TONES,
        decisions=names.decisions(),
        decided=names.decided(),
        criterion_errors=criterion_errors,
        decision_error=decision_error,
        rounds=feedback_view(submission),
        trail=trail(submission),
        narratives={
            item.evidence.id: render_markdown(item.evidence.narrative) for item in submission.items
        },
        artefact_url=_artefact_url(submission),
        awaiting=submission.state in AWAITING_ASSESSMENT,
        already=bool(mine),
        decisive=submission.flagged_at is not None and user.is_admin,
        form=values,
        error=error,
        calibrations=rating.calibration_for_assessor(submission, user),
        # Only whether she rated the round awaiting this assessor: never her levels.
        rated_unseen=(
            not mine and rating.self_assessment_of(submission, submission.round) is not None
        ),
        peer_reviews=peers.reviews_of(submission),
        peer_error=peer_error,
    )
    return page, status


def _is_level(value: Any, levels: int) -> bool:
    """Whether ``value`` (as posted) is the index of one of ``levels`` levels (one conversion
    for every number in a request: ``core.numbers``, never an exception)."""
    return levels > 0 and whole_number(str(value or ""), at_most=levels - 1) is not None


@bp.get("/review/<public_id>")
@login_required(role=ASSESSORS)
def show(public_id: str) -> ResponseReturnValue:
    """A submission to assess: the student's evidence inline, the rubric, the decision form."""
    return _page(_submission(public_id))


@bp.post("/review/<public_id>/start")
@login_required(role=ASSESSORS)
def start(public_id: str) -> ResponseReturnValue:
    """Mark the submission "in review" so the student sees it is being looked at."""
    submission = _submission(public_id)
    assessment.start_review(submission, signed_in_user())
    return redirect(url_for(".show", public_id=public_id), 303)


@bp.post("/review/<public_id>/assess")
@login_required(role=ASSESSORS)
def assess(public_id: str) -> ResponseReturnValue:
    """Record the assessor's levels, feedback and decision; act on it."""
    submission = _submission(public_id)
    version = current_version(submission.competency)
    form = AssessForm.for_criteria(len(version.criteria) if version is not None else 0)()
    try:
        outcome = assessment.assess(
            submission,
            signed_in_user(),
            decision=form.decision.data or "",
            levels=form.levels(),
            criterion_feedback=form.criterion_feedback(),
            feedback=form.overall_feedback(),
        )
    except AssessmentError as exc:
        db.session.rollback()
        return _page(
            _submission(public_id),
            error=sentence(exc.message),
            form=echo(form),
            status=status_for(exc),
        )
    flash(*_outcome_message(submission, outcome))
    return redirect(url_for(".index"), 303)


def _outcome_message(submission: Submission, outcome: assessment.Outcome) -> tuple[str, str]:
    """What the assessor is told once their decision is saved, and the flash category."""
    name = submission.competency.name
    if outcome.credential is not None:
        if outcome.stacks:
            return ngettext(
                "Endorsed: the credential for “%(name)s” is issued, and %(num)s stack badge "
                "with it.",
                "Endorsed: the credential for “%(name)s” is issued, and %(num)s stack badges "
                "with it.",
                len(outcome.stacks),
                name=name,
            ), "success"
        return _("Endorsed: the credential for “%(name)s” is issued.", name=name), "success"
    if outcome.flagged:
        return _(
            "Your assessment is saved. Assessors disagree: administrators will moderate."
        ), "warning"
    if outcome.waiting_for:
        return ngettext(
            "Your endorsement is saved; %(num)s more assessor must agree.",
            "Your endorsement is saved; %(num)s more assessors must agree.",
            outcome.waiting_for,
        ), "success"
    state = names.submission_states()[outcome.state]
    return _("Saved: %(state)s. The student has been notified.", state=state), "success"


@bp.get("/review/<public_id>/artefacts/<artefact_id>", defaults={"part": "file"})
@bp.get("/review/<public_id>/artefacts/<artefact_id>/<part>")
@login_required(role=ASSESSORS)
def artefact(public_id: str, artefact_id: str, part: str) -> ResponseReturnValue:
    """An artefact of the submission's evidence, for its assessors."""
    submission = _submission(public_id)
    if part not in ARTEFACT_PARTS:
        abort(404)
    for item in submission.items:
        for candidate in item.evidence.artefacts:
            if candidate.public_id == artefact_id:
                return serve_artefact(candidate, part)
    abort(404)


@bp.route("/review/endorse", methods=["GET", "POST"])
@login_required(role=ASSESSORS)
def endorse() -> ResponseReturnValue:
    """Issue an EndorsementCredential for one of the issuer's competencies (Achievements)."""
    user = signed_in_user()
    competencies = db.session.scalars(
        select(Competency)
        .where(Competency.issuer_id == user.issuer_id, Competency.archived_at.is_(None))
        .order_by(Competency.name)
    ).all()
    form = EndorseForm()
    values = {"competency": form.competency.data or "", "comment": ""}
    error = None
    if form.validate_on_submit():
        values["comment"] = form.comment.data or ""
        chosen = next((c for c in competencies if c.public_id == values["competency"]), None)
        if chosen is None:
            error = _("Choose the competency you endorse.")
        else:
            try:
                row = issuing.endorse_achievement(user, chosen, values["comment"])
            except issuing.IssuingError as exc:
                error = sentence(exc.message)
            else:
                flash(_("Your endorsement of “%(name)s” is issued.", name=chosen.name), "success")
                return redirect(url_for("public.credential_page", public_id=row.public_id), 303)
    page = render_template(
        "assessment/review/endorse.html", competencies=competencies, values=values, error=error
    )
    return page, 422 if error else 200
