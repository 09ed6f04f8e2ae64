"""The family pages (blueprint ``family``, issue 17 §3): the guardian's home with a card per
linked student, and — read only — each student's overview (consent, credentials, shared
portfolios), progress map, decided feedback, and the portfolios she shares with her guardians.

Only a linked, active guardian gets a student's pages; for anyone else's child the answer is
404 (other roles are refused 403 by ``login_required``: staff have their own pages).  Every
view of a student's page is in the audit log (``guardian_viewed``)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Role, User
from portfolio.assessment import labels as names
from portfolio.assessment import progress_queries
from portfolio.assessment.progress_chart import render_chart, weekly_progress
from portfolio.assessment.submission_pages import feedback_view
from portfolio.core.db import unit_of_work
from portfolio.core.errors import NotFoundError
from portfolio.core.markdown import render_markdown
from portfolio.core.models import utcnow
from portfolio.evidence.models import Artefact
from portfolio.evidence.pages import serve_artefact
from portfolio.family import service

bp = Blueprint("family", __name__)

#: The parts of an artefact a shared portfolio serves (as the portfolios' own pages do).
ARTEFACT_PARTS = {"file": "file", "thumbnail": "thumbnail", "captions.vtt": "captions"}


def _student(student_id: int, page: str | None) -> User:
    """The signed-in guardian's linked student ``student_id`` (404 for any other), with the
    view recorded in the audit log when ``page`` names one."""
    guardian = signed_in_user()
    try:
        student = service.linked_student(guardian, student_id)
    except NotFoundError:
        abort(404)
    if page is not None:
        with unit_of_work():
            service.record_view(guardian, student, page)
    return student


@bp.get("/family")
@login_required(role=Role.GUARDIAN)
def home() -> ResponseReturnValue:
    """The guardian's home: a card per linked student with what is new."""
    cards = service.home_cards(signed_in_user())
    return render_template(
        "family/home.html",
        cards=cards,
        decisions={
            "endorse": _("Endorsed"),
            "revise": _("Revision requested"),
            "not_yet": _("Not yet"),
        },
    )


@bp.get("/family/students/<int:student_id>")
@login_required(role=Role.GUARDIAN)
def student(student_id: int) -> ResponseReturnValue:
    """A student's overview: consent in words, her credentials, the portfolios she shares."""
    learner = _student(student_id, "overview")
    return render_template(
        "family/student.html",
        student=learner,
        consent=service.consent_status(learner),
        credentials=service.credentials_of(learner),
        portfolios=service.shared_portfolios(learner),
    )


@bp.get("/family/students/<int:student_id>/progress")
@login_required(role=Role.GUARDIAN)
def progress(student_id: int) -> ResponseReturnValue:
    """Her progress map, read only (no actions), with the chart and its data."""
    learner = _student(student_id, "progress")
    view = progress_queries.student_map(learner)
    points = weekly_progress(view.history, today=utcnow().date())
    svg = render_chart(
        points, title=_("Competencies mastered by %(name)s", name=learner.display_name)
    )
    return render_template(
        "family/progress.html",
        student=learner,
        view=view,
        labels=names.progress_states(),
        tones=names.PROGRESS_TONES,
        state_of={entry.competency.id: entry.cell.state for entry in view.entries},
        chart=Markup(svg),  # noqa: S704  (render_chart escapes every text it writes)
        points=[point for point in points if point.names],
    )


@bp.get("/family/students/<int:student_id>/feedback")
@login_required(role=Role.GUARDIAN)
def feedback(student_id: int) -> ResponseReturnValue:
    """The feedback she has received: decided rounds, per criterion, as her own submission
    page shows it (never drafts, rounds under review or peer comments)."""
    learner = _student(student_id, "feedback")
    submissions = [
        (
            item.submission,
            [
                view
                for view in feedback_view(item.submission)
                if view["assessment"] in item.assessments
            ],
        )
        for item in service.decided_feedback(learner)
    ]
    return render_template(
        "family/feedback.html",
        student=learner,
        submissions=submissions,
        labels=names.submission_states(),
        tones=names.SUBMISSION_TONES,
    )


@bp.get("/family/students/<int:student_id>/portfolios/<public_id>")
@login_required(role=Role.GUARDIAN)
def portfolio(student_id: int, public_id: str) -> ResponseReturnValue:
    """A portfolio she shares with her guardians, read only; 404 for any other."""
    learner = _student(student_id, None)
    try:
        shared = service.shared_portfolio(learner, public_id)
    except NotFoundError:
        abort(404)
    with unit_of_work():
        service.record_view(signed_in_user(), learner, "portfolio")

    def artefact_url(artefact: Artefact, part: str = "file") -> str:
        return url_for(
            ".artefact",
            student_id=learner.id,
            public_id=shared.public_id,
            artefact_id=artefact.public_id,
            part=part,
        )

    return render_template(
        "family/portfolio.html",
        student=learner,
        portfolio=shared,
        cover_html=render_markdown(shared.cover_text),
        render_markdown=render_markdown,
        artefact_url=artefact_url,
    )


@bp.get(
    "/family/students/<int:student_id>/portfolios/<public_id>/artefacts/<artefact_id>",
    defaults={"part": "file"},
)
@bp.get("/family/students/<int:student_id>/portfolios/<public_id>/artefacts/<artefact_id>/<part>")
@login_required(role=Role.GUARDIAN)
def artefact(student_id: int, public_id: str, artefact_id: str, part: str) -> ResponseReturnValue:
    """A file of evidence in a portfolio she shares with her guardians (and only such a
    file): the same check as the portfolio's page."""
    learner = _student(student_id, None)
    if part not in ARTEFACT_PARTS:
        abort(404)
    try:
        shared = service.shared_portfolio(learner, public_id)
        found = service.shared_artefact(shared, artefact_id)
    except NotFoundError:
        abort(404)
    return serve_artefact(found, ARTEFACT_PARTS[part])
