"""Learner progress pages: a student's map and progress chart (``/progress``), and the cohort
view and CSV export for assessors and administrators (``/cohort``, ``/cohort.csv``).

Thin views over :mod:`portfolio.assessment.progress`; every query is scoped to the signed-in user's
own
issuer (a student sees only their own map).  No JavaScript: filters are a GET form.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

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
from markupsafe import Markup

from portfolio.accounts.auth import login_required, safe_next, signed_in_user
from portfolio.accounts.models import User
from portfolio.assessment import progress
from portfolio.assessment.progress_chart import WeekPoint, format_day, render_chart, weekly_progress
from portfolio.core import audit
from portfolio.core.db import db
from portfolio.core.models import utcnow

bp = Blueprint("progress", __name__)

PER_PAGE = 50
WAITING_LIMIT = 20
STALLED_LIMIT = 100
#: An SVG opened on its own is a document of our origin: no scripts, no fetches, no styles
#: (the chart uses presentation attributes only), sandboxed.
CHART_CSP = "default-src 'none'; sandbox"
#: The CSV starts with a byte-order mark so spreadsheet programs read accented names as UTF-8.
CSV_BOM = "\ufeff"


def submission_path(public_id: str) -> str:
    """The path of a submission's page (the student's side of assessment)."""
    return url_for("submissions.show", public_id=public_id)


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
    svg = render_chart(points, title=f"Competencies mastered by {student.display_name}")
    return points, svg


@bp.get("/progress")
@login_required(role="student")
def student_map() -> ResponseReturnValue:
    """The student's competencies: state, prerequisites, what is next, feedback waiting, unread
    notifications, and the progress chart with its data table."""
    student = signed_in_user()
    view = progress.student_map(student)
    points, svg = _chart(student, view)
    # Only paths inside the service become links (a stored link is never trusted as a URL).
    notifications = [(note, safe_next(note.link)) for note in view.notifications]
    return render_template(
        "progress/map.html",
        view=view,
        labels=progress.STATE_LABELS,
        submission_labels=progress.SUBMISSION_STATE_LABELS,
        # render_chart escapes every text it writes (see progress_chart), so the SVG may be
        # placed in the page as markup.
        chart=Markup(svg),  # noqa: S704  (render_chart escapes every text it writes)
        points=[point for point in points if point.names],
        notifications=notifications,
        submission_path=submission_path,
        format_day=format_day,
    )


@bp.get("/progress/chart.svg")
@login_required(role="student")
def chart() -> Response:
    """The student's progress chart on its own, as ``image/svg+xml``."""
    student = signed_in_user()
    view = progress.student_map(student)
    _points, svg = _chart(student, view)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- the cohort ------------------------------------------------------------------------------


def _filters(catalogue: progress.Catalogue) -> tuple[progress.CohortFilter, int, int]:
    """(filters, weeks, page) from the query string.  Raises :class:`progress.FilterError`."""
    args = request.args
    filters = progress.CohortFilter(
        cohort=progress.parse_cohort(args.get("cohort")),
        competency=progress.parse_competency(args.get("competency"), catalogue),
    )
    return filters, progress.parse_weeks(args.get("weeks")), progress.parse_page(args.get("page"))


def _form_values() -> dict[str, str]:
    """What the filter form shows: the query as sent (Jinja escapes it)."""
    return {name: request.args.get(name, "")[:200] for name in ("cohort", "competency", "weeks")}


@bp.get("/cohort")
@login_required(role=("assessor", "admin"))
def cohort() -> ResponseReturnValue:
    """Who has mastered what, submissions waiting longest and students with no progress, for
    the assessor's or administrator's own issuer; a bad filter gets the form back with 400."""
    issuer_id = _staff_issuer_id()
    catalogue = progress.load_catalogue(issuer_id)
    context = {
        "catalogue": catalogue,
        "cohorts": progress.cohorts(issuer_id),
        "values": _form_values(),
        "labels": progress.STATE_LABELS,
        "submission_labels": progress.SUBMISSION_STATE_LABELS,
        "submission_path": submission_path,
        "format_day": format_day,
    }
    try:
        filters, weeks, page = _filters(catalogue)
    except progress.FilterError as error:
        body = render_template(
            "progress/cohort.html", error=str(error), error_field=error.field, **context
        )
        return body, 400
    now = utcnow()
    matrix = progress.cohort_matrix(issuer_id, catalogue, filters, page=page, per_page=PER_PAGE)
    waiting, waiting_total = progress.waiting_longest(
        issuer_id, filters, now=now, limit=WAITING_LIMIT
    )
    stalled, stalled_total = progress.stalled_students(
        issuer_id, filters, weeks=weeks, now=now, limit=STALLED_LIMIT
    )
    return render_template(
        "progress/cohort.html",
        error=None,
        error_field=None,
        filters=filters,
        weeks=weeks,
        matrix=matrix,
        waiting=waiting,
        waiting_total=waiting_total,
        stalled=stalled,
        stalled_total=stalled_total,
        query={k: v for k, v in _form_values().items() if v},
        **context,
    )


def _csv_chunks(rows: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    writer.writerow(progress.CSV_HEADER)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.get("/cohort.csv")
@login_required(role=("assessor", "admin"))
def cohort_csv() -> ResponseReturnValue:
    """The cohort's progress as CSV, one row per student × competency, with the same filters
    as the page (streamed: a large school does not have to fit in memory)."""
    issuer_id = _staff_issuer_id()
    catalogue = progress.load_catalogue(issuer_id)
    try:
        filters, _weeks, _page = _filters(catalogue)
    except progress.FilterError as error:
        abort(400, description=str(error))
    rows = progress.cohort_csv_rows(issuer_id, catalogue, filters)
    # Students' progress leaves the service: recorded (and committed) before it is streamed.
    audit.record(
        "cohort_exported",
        actor=signed_in_user(),
        issuer_id=issuer_id,
        target="cohort.csv",
        detail={key: value for key, value in _form_values().items() if value},
    )
    db.session.commit()
    response = Response(
        stream_with_context(_csv_chunks(rows)), content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="cohort-progress-{utcnow().date().isoformat()}.csv"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
