"""Pages of bulk work: endorsing a whole cohort (``/review/cohort-endorse``: competency,
cohort, the students ticked one by one, the judgement, then a confirm step), the jobs
(``/jobs``), a job's progress (``/jobs/<id>``) and its per-row results as CSV.

The progress page needs no JavaScript (the CSP forbids it anyway): while the job runs it
reloads itself with ``<meta http-equiv="refresh">``; a ``<progress>`` element with a text
equivalent, the counts (one query) and a page of per-row results.  Opening the page of a job
whose runner died (expired lease) resumes it in this process.

Who sees what: assessors and administrators of the job's issuer; an assessor only the jobs
they started.  Anyone else gets 404, so a guessed id reveals nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from portfolio.accounts.auth import login_required, signed_in_user
from portfolio.accounts.models import Role, User
from portfolio.assessment.forms import echo, sentence
from portfolio.assessment.progress_queries import cohorts
from portfolio.bulk import admin_counts  # noqa: F401  (the administrators' home counts)
from portfolio.bulk import jobs as bulk
from portfolio.bulk.cohort_selection import Candidate, cohort_candidates
from portfolio.bulk.errors import BulkError
from portfolio.bulk.forms import CohortEndorseForm, PageForm
from portfolio.bulk.kinds import (
    KIND_LABELS,
    CohortPlan,
    cohort_students,
    plan_cohort_endorsement,
    start_cohort_endorsement,
)
from portfolio.bulk.models import BulkJob, BulkJobItem, ItemState
from portfolio.bulk.states import ACTIVE, ITEM_STATE_LABELS, JOB_STATE_LABELS
from portfolio.catalogue.models import Competency
from portfolio.catalogue.rubrics import current_version, describe_rule
from portfolio.catalogue.service import workable_competencies
from portfolio.core.csv_cells import csv_safe
from portfolio.core.db import db
from portfolio.core.errors import status_for
from portfolio.issuing.models import IssuedCredential

bp = Blueprint("bulk", __name__)

STAFF = (Role.ASSESSOR, Role.ADMIN)
PER_PAGE = 100
#: Seconds between reloads of a running job's page.
REFRESH_SECONDS = 2
CSV_BOM = "\ufeff"


def _app() -> Flask:
    """The application itself, not its proxy (a job's thread outlives the request)."""
    # LocalProxy._get_current_object is werkzeug's documented way to the object; the proxy is
    # typed as a Flask, which does not have it.
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def may_see(user: User | None, job: BulkJob) -> bool:
    """Administrators of the job's issuer, and the assessor who started it."""
    if user is None or not user.is_active or user.role not in STAFF:
        return False
    if user.issuer_id != job.issuer_id:
        return False
    return user.is_admin or job.started_by_id == user.id


def _job(public_id: str) -> BulkJob:
    job: BulkJob | None = db.session.scalar(select(BulkJob).where(BulkJob.public_id == public_id))
    if job is None or not may_see(signed_in_user(), job):
        abort(404)
    return job


@bp.route("/review/cohort-endorse", methods=["GET", "POST"])
@login_required(role=STAFF)
def cohort_endorse() -> ResponseReturnValue:
    """Choose a competency and a cohort (GET forms), then the students — each with a checkbox,
    those whose credential for it was revoked left out by default with the reason — and the
    judgement; posting shows a confirm step naming the count, and confirming starts the job
    and shows its progress page."""
    user = signed_in_user()
    if user.issuer_id is None:
        abort(404)
    competencies = workable_competencies(user.issuer_id) if user.issuer_id is not None else []
    # The competency and the cohort come first (GET forms); the rest depends on them.
    formdata = request.form if request.method == "POST" else request.args
    chosen_id = CohortEndorseForm(formdata=formdata).competency.data or ""
    chosen = next((c for c in competencies if c.public_id == chosen_id), None)
    version = current_version(chosen) if chosen is not None else None
    count = len(version.criteria) if version is not None else 0
    form = CohortEndorseForm.for_criteria(count)(formdata=formdata)
    cohort = (form.cohort.data or "").strip()
    error, status, plan = None, 200, None
    if chosen_id and chosen is None:
        error, status = _("Choose one of the competencies listed."), 422
    elif form.validate_on_submit():
        if chosen is None:
            error, status = _("Choose the competency to endorse."), 422
        else:
            try:
                plan = _plan(user, chosen, cohort, form)
            except BulkError as exc:
                error, status = sentence(exc.message), status_for(exc)
            else:
                if form.action.data == "confirm":
                    if form.confirm_count.data == str(len(plan.chosen)):
                        return _start(user, chosen, cohort, form)
                    error, status = (
                        ngettext(
                            "The students changed since you checked them: %(num)s would be "
                            "endorsed now. Check and confirm again.",
                            "The students changed since you checked them: %(num)s would be "
                            "endorsed now. Check and confirm again.",
                            len(plan.chosen),
                        ),
                        409,
                    )
                elif form.action.data == "edit":
                    plan = None
    choice = _candidates(user.issuer_id, chosen, cohort)
    ticked = form.chosen_ids()
    page = render_template(
        "bulk/cohort_endorse.html",
        competencies=competencies,
        chosen=chosen,
        rubric=version,
        rule=describe_rule(version) if version is not None else None,
        cohorts=cohorts(user.issuer_id),
        cohort=cohort,
        candidates=choice,
        ticked=(
            {str(c.student.id) for c in choice if c.chosen_by_default}
            if ticked is None
            else set(ticked)
        ),
        plan=plan,
        form=echo(form),
        error=error,
    )
    return page, status


def _candidates(issuer_id: int, competency: Competency | None, cohort: str) -> list[Candidate]:
    """The cohort's students with the job's default choice (none before both are chosen)."""
    if competency is None or not cohort:
        return []
    return cohort_candidates(competency, cohort_students(issuer_id, cohort))


def _judgement(form: CohortEndorseForm) -> dict[str, Any]:
    return {
        "levels": form.levels(),
        "criterion_feedback": form.criterion_feedback(),
        "feedback": form.overall_feedback(),
        "students": form.chosen_ids(),
    }


def _plan(user: User, competency: Competency, cohort: str, form: CohortEndorseForm) -> CohortPlan:
    return plan_cohort_endorsement(user, competency, cohort, **_judgement(form))


def _start(
    user: User, competency: Competency, cohort: str, form: CohortEndorseForm
) -> ResponseReturnValue:
    """Start the confirmed job and go to its progress page."""
    job, _created = start_cohort_endorsement(user, competency, cohort, **_judgement(form))
    # The job is committed: its thread starts now (or a worker picks it up).
    bulk.start_in_background(_app(), job.id)
    return redirect(url_for(".show", public_id=job.public_id), 303)


@bp.get("/jobs")
@login_required(role=STAFF)
def index() -> ResponseReturnValue:
    """The jobs the signed-in person may see, newest first."""
    user = signed_in_user()
    query = (
        select(BulkJob)
        .where(BulkJob.issuer_id == user.issuer_id)
        .order_by(BulkJob.id.desc())
        .limit(100)
    )
    if not user.is_admin:
        query = query.where(BulkJob.started_by_id == user.id)
    return render_template(
        "bulk/index.html",
        jobs=list(db.session.scalars(query)),
        labels=JOB_STATE_LABELS,
        kinds=KIND_LABELS,
    )


def _page_number() -> int:
    try:
        return PageForm(formdata=request.args).number()
    except ValueError as error:
        abort(400, description=str(error))


@bp.get("/jobs/<public_id>")
@login_required(role=STAFF)
def show(public_id: str) -> ResponseReturnValue:
    """The job's progress and a page of its per-row results (reloading while it runs)."""
    job = _job(public_id)
    app = _app()
    bulk.resume_if_stale(app, job)
    worker_needed = bulk.is_stale(job) and not bulk.background_enabled(app)
    page = _page_number()
    tally = bulk.counts(job.id)
    finished = job.total - tally[ItemState.PENDING]
    rows = db.session.execute(
        select(BulkJobItem, IssuedCredential.public_id)
        .outerjoin(IssuedCredential, BulkJobItem.credential_id == IssuedCredential.id)
        .where(BulkJobItem.job_id == job.id)
        .order_by(BulkJobItem.row)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    pages = max((job.total + PER_PAGE - 1) // PER_PAGE, 1)
    failed_first = None
    if tally[ItemState.FAILED]:
        failed_first = db.session.scalar(
            select(func.min(BulkJobItem.row)).where(
                BulkJobItem.job_id == job.id, BulkJobItem.state == ItemState.FAILED
            )
        )
    running = job.state in ACTIVE
    return render_template(
        "bulk/show.html",
        job=job,
        kind=KIND_LABELS.get(job.kind, job.kind),
        tally=tally,
        finished=finished,
        percent=int(100 * finished / job.total) if job.total else 100,
        rows=rows,
        page=page,
        pages=pages,
        running=running,
        refresh=REFRESH_SECONDS if running else None,
        failed_first=failed_first,
        worker_needed=worker_needed,
        labels=JOB_STATE_LABELS,
        item_labels=ITEM_STATE_LABELS,
    )


@bp.post("/jobs/<public_id>/cancel")
@login_required(role=STAFF)
def cancel(public_id: str) -> ResponseReturnValue:
    """Stop the job after the row in flight (its pending rows stay pending)."""
    job = _job(public_id)
    if bulk.cancel(job):
        flash(_("The job is cancelled: the rows not yet done stay pending."), "success")
    else:
        flash(_("The job has ended: there is nothing to cancel."), "info")
    return redirect(url_for(".show", public_id=job.public_id), 303)


def _csv_chunks(rows: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    writer.writerow(bulk.REPORT_HEADER)
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@bp.get("/jobs/<public_id>/results.csv")
@login_required(role=STAFF)
def results_csv(public_id: str) -> ResponseReturnValue:
    """Every row's result as CSV (cells made inert for spreadsheets), streamed."""
    job = _job(public_id)
    response = Response(
        stream_with_context(_csv_chunks(bulk.report_rows(job))),
        content_type="text/csv; charset=utf-8",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="job-{job.id}-results.csv"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
