"""Learner progress pages: a student's map and progress chart (``/progress``), and the cohort
view and CSV export for assessors and administrators (``/cohort``, ``/cohort.csv``).

Thin views over :mod:`portfolio.assessment.progress_queries`; every query is scoped to the
signed-in user's own issuer (a student sees only their own map).  No JavaScript: filters are a
GET form.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from portfolio.accounts.auth import login_required, safe_next, signed_in_user
from portfolio.accounts.models import Role, User
from portfolio.assessment import labels as names
from portfolio.assessment import progress, progress_queries
from portfolio.assessment import signals as early
from portfolio.assessment.forms import CohortFilterForm
from portfolio.assessment.progress import Catalogue, CohortFilter
from portfolio.assessment.progress_chart import WeekPoint, render_chart, weekly_progress
from portfolio.assessment.progress_csv import cohort_csv_rows, csv_chunks
from portfolio.core import audit
from portfolio.core.db import unit_of_work
from portfolio.core.models import utcnow

bp = Blueprint("progress", __name__)

STAFF = (Role.ASSESSOR, Role.ADMIN)
PER_PAGE = 50
WAITING_LIMIT = 20
STALLED_LIMIT = 100
#: An SVG opened on its own is a document of our origin: no scripts, no fetches, no styles
#: (the chart uses presentation attributes only), sandboxed.
CHART_CSP = "default-src 'none'; sandbox"


def submission_path(public_id: str) -> str:
    """The path of a submission's page (the student's side of assessment)."""
    return url_for("submissions.show", public_id=public_id)


def review_path(public_id: str) -> str:
    """The path of a submission's review page (the assessor's side: the cohort view links
    there — the student's page would answer an assessor 403)."""
    return url_for("review.show", public_id=public_id)


def _staff_issuer_id() -> int:
    """The issuer of the signed-in assessor or administrator; 404 when they have none."""
    issuer_id = signed_in_user().issuer_id
    if issuer_id is None:
        abort(404)
    return issuer_id


# -- the student's map -----------------------------------------------------------------------


def _chart(student: User, view: progress.StudentMap) -> tuple[list[WeekPoint], str]:
    """The chart's weeks and its SVG (render_chart escapes every text it writes)."""
    points = weekly_progress(view.history, today=utcnow().date())
    svg = render_chart(
        points, title=_("Competencies mastered by %(name)s", name=student.display_name)
    )
    return points, svg


@bp.get("/progress")
@login_required(role=Role.STUDENT)
def student_map() -> ResponseReturnValue:
    """The student's competencies: state, prerequisites, what is next, feedback waiting, unread
    notifications, and the progress chart with its data table."""
    student = signed_in_user()
    view = progress_queries.student_map(student)
    points, svg = _chart(student, view)
    # Only paths inside the service become links (a stored link is never trusted as a URL).
    notifications = [(note, safe_next(note.link)) for note in view.notifications]
    return render_template(
        "assessment/progress/map.html",
        view=view,
        labels=names.progress_states(),
        tones=names.PROGRESS_TONES,
        submission_labels=names.submission_states(),
        submission_tones=names.SUBMISSION_TONES,
        state_of={entry.competency.id: entry.cell.state for entry in view.entries},
        # render_chart escapes every text it writes (see progress_chart), so the SVG may be
        # placed in the page as markup.
        chart=Markup(svg),  # noqa: S704  (render_chart escapes every text it writes)
        points=[point for point in points if point.names],
        notifications=notifications,
        submission_path=submission_path,
    )


@bp.get("/progress/chart.svg")
@login_required(role=Role.STUDENT)
def chart() -> Response:
    """The student's progress chart on its own, as ``image/svg+xml``."""
    student = signed_in_user()
    view = progress_queries.student_map(student)
    _points, svg = _chart(student, view)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- the cohort ------------------------------------------------------------------------------


def _signals(
    issuer_id: int, filters: CohortFilter, *, now: Any
) -> tuple[early.Thresholds, dict[int, list[early.Signal]]]:
    """The school's thresholds and every flagged student of the filter with their reasons
    (a fixed number of queries, whatever the number of students)."""
    thresholds = early.load_thresholds(issuer_id)
    scope = early.SignalScope(
        issuer_id,
        cohort=filters.cohort,
        competency_id=filters.competency.id if filters.competency else None,
    )
    return thresholds, early.cohort_signals(scope, thresholds, now=now)


def _matrix(
    issuer_id: int,
    catalogue: Catalogue,
    filters: CohortFilter,
    flagged: dict[int, list[early.Signal]],
    page: int,
) -> progress.CohortMatrix:
    if filters.flagged:
        return progress_queries.flagged_matrix(
            issuer_id, catalogue, filters, set(flagged), page=page, per_page=PER_PAGE
        )
    return progress_queries.cohort_matrix(
        issuer_id, catalogue, filters, page=page, per_page=PER_PAGE
    )


@bp.get("/cohort")
@login_required(role=STAFF)
def cohort() -> ResponseReturnValue:
    """Who has mastered what, submissions waiting longest and students with no progress, for
    the assessor's or administrator's own issuer; a bad filter gets the form back with 400."""
    issuer_id = _staff_issuer_id()
    catalogue = progress_queries.load_catalogue(issuer_id)
    form = CohortFilterForm(formdata=request.args)
    context: dict[str, Any] = {
        "catalogue": catalogue,
        "cohorts": progress_queries.cohorts(issuer_id),
        "values": form.values(),
        "labels": names.progress_states(),
        "tones": names.PROGRESS_TONES,
        "submission_labels": names.submission_states(),
        "submission_tones": names.SUBMISSION_TONES,
        "review_path": review_path,
    }
    try:
        filters, weeks, page = form.parsed(catalogue)
    except progress.CohortFilterError as error:
        body = render_template(
            "assessment/progress/cohort.html", error=str(error), error_field=error.field, **context
        )
        return body, 400
    now = utcnow()
    thresholds, flagged = _signals(issuer_id, filters, now=now)
    matrix = _matrix(issuer_id, catalogue, filters, flagged, page)
    waiting, waiting_total = progress_queries.waiting_longest(
        issuer_id, filters, now=now, limit=WAITING_LIMIT
    )
    stalled, stalled_total = progress_queries.stalled_students(
        issuer_id, filters, weeks=weeks, now=now, limit=STALLED_LIMIT
    )
    return render_template(
        "assessment/progress/cohort.html",
        error=None,
        error_field=None,
        filters=filters,
        weeks=weeks,
        matrix=matrix,
        waiting=waiting,
        waiting_total=waiting_total,
        stalled=stalled,
        stalled_total=stalled_total,
        thresholds=thresholds,
        flagged=flagged,
        flag_counts=early.signal_counts(flagged),
        signal_codes=early.CODES,
        signal_labels=early.LABELS,
        signal_tones=early.TONES,
        is_admin=signed_in_user().is_admin,
        query={k: v for k, v in form.values().items() if v},
        **context,
    )


@bp.get("/cohort.csv")
@login_required(role=STAFF)
def cohort_csv() -> ResponseReturnValue:
    """The cohort's progress as CSV, one row per student × competency, with the same filters
    as the page (streamed: a large school does not have to fit in memory)."""
    issuer_id = _staff_issuer_id()
    catalogue = progress_queries.load_catalogue(issuer_id)
    form = CohortFilterForm(formdata=request.args)
    try:
        filters, _weeks, _page = form.parsed(catalogue)
    except progress.CohortFilterError as error:
        abort(400, description=str(error))
    _thresholds, flagged = _signals(issuer_id, filters, now=utcnow())
    # The reasons in the reader's language, written now (the rows are streamed later).
    reasons = {student_id: early.reasons_text(signals) for student_id, signals in flagged.items()}
    rows = cohort_csv_rows(issuer_id, catalogue, filters, reasons=reasons)
    # Students' progress leaves the service: recorded (and committed) before it is streamed.
    with unit_of_work():
        audit.record(
            "cohort_exported",
            actor=signed_in_user(),
            issuer_id=issuer_id,
            target="cohort.csv",
            detail={key: value for key, value in form.values().items() if value},
        )
    response = Response(
        stream_with_context(csv_chunks(rows)), content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="cohort-progress-{utcnow().date().isoformat()}.csv"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
