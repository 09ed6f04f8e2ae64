"""``credfolio issue-csv FILE``: one credential per CSV row, with a progress bar and a per-row
report; ``credfolio jobs list | show | resume | run | cancel``: inspect and resume bulk jobs
(see docs/bulk.md)."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import select

from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import Issuer
from portfolio.bulk import jobs as bulk
from portfolio.bulk.csv_file import IssueFileError
from portfolio.bulk.errors import BulkError
from portfolio.bulk.jobs import REPORT_HEADER, report_rows
from portfolio.bulk.kinds import start_csv_issue
from portfolio.bulk.models import BulkJob, BulkJobItem, ItemState, JobState
from portfolio.bulk.states import ACTIVE, JOB_STATE_LABELS
from portfolio.core.csv_cells import csv_safe
from portfolio.core.db import db
from portfolio.core.numbers import MAX_ID, whole_number


def _console() -> Console:
    # The progress bar goes to stderr: stdout stays the per-row report, fit for a pipe.
    return Console(stderr=True, highlight=False)


def _job(identifier: str) -> BulkJob:
    job: BulkJob | None = db.session.scalar(
        select(BulkJob).where(
            (BulkJob.public_id == identifier)
            | (BulkJob.id == (whole_number(identifier, at_most=MAX_ID) or -1))
        )
    )
    if job is None:
        raise click.ClickException(_("no job %(id)r (see: credfolio jobs list)", id=identifier))
    return job


def write_report(job: BulkJob, path: Path) -> None:
    """The per-row report as CSV (cells made inert for spreadsheets)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REPORT_HEADER)
    for row in report_rows(job):
        writer.writerow([csv_safe(cell) for cell in row])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _run_with_progress(job: BulkJob, console: Console) -> bulk.RunOutcome:
    tally = bulk.counts(job.id)
    finished = job.total - tally[ItemState.PENDING]
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[summary]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(
            _("Job %(id)s", id=job.id), total=job.total, completed=finished, summary=_summary(tally)
        )

        def advance(item: BulkJobItem | None) -> None:
            if item is not None and item.state in tally:
                tally[item.state] += 1
                tally[ItemState.PENDING] -= 1
            progress.update(task, advance=1, summary=_summary(tally))

        try:
            return bulk.run_job(job.id, on_item=advance)
        except Exception as exc:
            raise click.ClickException(
                _(
                    "job %(id)s stopped: %(error)s — its remaining rows are pending; fix the "
                    "cause and run: credfolio jobs resume %(id)s",
                    id=job.id,
                    error=type(exc).__name__ + ": " + str(exc),
                )
            ) from None


def _item_state(state: str) -> str:
    """An item's state as the per-row lines name it, in the terminal's language."""
    names: dict[str, str] = {
        ItemState.PENDING: _("pending"),
        ItemState.DONE: _("done"),
        ItemState.SKIPPED: _("skipped"),
        ItemState.FAILED: _("failed"),
    }
    return names.get(state, state)


def _row_line(row: str, recipient: str, state: str, result: str, credential: str) -> str:
    """One row of a job's report as a line (the result is stored English, as written)."""
    line = _(
        "line %(row)s: %(recipient)s %(state)s: %(result)s",
        row=row,
        recipient=recipient or "-",
        state=_item_state(state),
        result=result,
    )
    return f"{line} {credential}" if credential else line


def _job_state(job: BulkJob) -> str:
    """A job's state by name, in the terminal's language."""
    return str(_(JOB_STATE_LABELS[job.state]))


def _outcome(outcome: str) -> str:
    """How a worker's run of a job ended, in the terminal's language."""
    names: dict[str, str] = {
        "done": _("done"),
        "busy": _("busy"),
        "lost": _("lost"),
        "stopped": _("stopped"),
    }
    return names.get(outcome, outcome)


def _summary(tally: dict[str, int]) -> str:
    done, skipped = tally[ItemState.DONE], tally[ItemState.SKIPPED]
    return str(
        _(
            "%(done)d done, %(skipped)d skipped, %(failed)d failed",
            done=done,
            skipped=skipped,
            failed=tally[ItemState.FAILED],
        )
    )


def _finish(job: BulkJob, outcome: bulk.RunOutcome, report: Path | None, *, rows: bool) -> None:
    db.session.refresh(job)
    if outcome.outcome == "busy":
        raise click.ClickException(
            _(
                "job %(id)s is being run by another process (%(owner)s); "
                "follow it with: credfolio jobs show %(id)s",
                id=job.id,
                owner=job.lease_owner,
            )
        )
    if rows:
        for row, _key, recipient, state, result, credential in report_rows(job):
            click.echo(_row_line(row, recipient, state, result, credential))
    tally = bulk.counts(job.id)
    click.echo(
        _(
            "Job %(id)s (%(public_id)s) %(state)s: %(summary)s, %(pending)d pending.",
            id=job.id,
            public_id=job.public_id,
            state=_job_state(job).lower(),
            summary=_summary(tally),
            pending=tally[ItemState.PENDING],
        )
    )
    if report is not None:
        write_report(job, report)
        click.echo(_("Report written to %(file)s", file=report))
    if outcome.outcome == "lost":
        raise click.ClickException(_("the job was cancelled or taken over by another process"))
    if tally[ItemState.FAILED]:
        raise click.exceptions.Exit(1)


@click.command("issue-csv")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--issuer-did", help="The issuer of the credentials (default: the service's own).")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the per-row results to this CSV file.",
)
@with_appcontext
def issue_csv_command(file: Path, issuer_did: str | None, report: Path | None) -> None:
    """Issue one credential per row of FILE (header name,email,competency[,key]).

    ``competency`` is the competency's identifier, code or public id.  Running the same file
    again resumes it: rows already issued are not issued again, failed rows are retried.
    Exits 0 when every row was issued or skipped, 1 when a row failed (they are listed).
    """
    if issuer_did:
        issuer = db.session.scalar(select(Issuer).where(Issuer.did == issuer_did))
        if issuer is None:
            raise click.BadParameter(
                _("no issuer %(did)r", did=issuer_did), param_hint="--issuer-did"
            )
    else:
        issuer = default_issuer()
    try:
        job, created = start_csv_issue(
            file.read_bytes(), filename=file.name, issuer=issuer, actor_label="cli"
        )
    except (IssueFileError, BulkError) as error:
        raise click.ClickException(
            _("%(file)s cannot be issued: %(error)s", file=file.name, error=error)
        ) from None
    if not created:
        reopened = bulk.reopen_failed(job)
        if reopened:
            click.echo(
                _(
                    "%(file)s was seen before as job %(id)s: resuming it; %(num)d failed "
                    "row(s) retried.",
                    file=file.name,
                    id=job.id,
                    num=reopened,
                )
            )
        else:
            click.echo(
                _(
                    "%(file)s was seen before as job %(id)s: resuming it.",
                    file=file.name,
                    id=job.id,
                )
            )
    console = _console()
    outcome = _run_with_progress(job, console)
    _finish(job, outcome, report, rows=True)


@click.group("jobs")
def jobs_group() -> None:
    """Bulk jobs (cohort endorsements, CSV issuing): list, show, resume, run, cancel."""


@jobs_group.command("list")
@click.option(
    "--state",
    type=click.Choice([state.value for state in JobState]),
    help="Only jobs in this state.",
)
@with_appcontext
def list_command(state: str | None) -> None:
    """The jobs, newest first (counts as of their last batch)."""
    query = select(BulkJob).order_by(BulkJob.id.desc()).limit(200)
    if state:
        query = query.where(BulkJob.state == state)
    for job in db.session.scalars(query):
        stale = (
            " " + _("(stale: resume it)")
            if bulk.is_stale(job) and job.state == JobState.RUNNING
            else ""
        )
        click.echo(
            f"{job.id}\t{job.state}{stale}\t{job.done_count + job.skipped_count + job.failed_count}"
            f"/{job.total}\t{job.kind}\t{job.title}"
        )


@jobs_group.command("show")
@click.argument("job_id")
@click.option("--rows/--failed-only", default=False, help="Every row, or only failed ones.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write a CSV.")
@with_appcontext
def show_command(job_id: str, rows: bool, report: Path | None) -> None:
    """A job's state, counts and its failed rows (or every row)."""
    job = _job(job_id)
    tally = bulk.counts(job.id)
    click.echo(
        _(
            "Job %(id)s (%(public_id)s): %(title)s",
            id=job.id,
            public_id=job.public_id,
            title=job.title,
        )
    )
    if bulk.is_stale(job):
        click.echo(_("State: %(state)s (stale)", state=_job_state(job)))
    else:
        click.echo(_("State: %(state)s", state=_job_state(job)))
    click.echo(
        _(
            "Rows: %(total)d; %(summary)s, %(pending)d pending.",
            total=job.total,
            summary=_summary(tally),
            pending=tally[ItemState.PENDING],
        )
    )
    if job.lease_owner:
        click.echo(
            _(
                "Run by: %(owner)s (lease until %(until)s)",
                owner=job.lease_owner,
                until=job.lease_expires_at,
            )
        )
    if job.error:
        click.echo(_("Last run: %(error)s", error=job.error))
    for row, _key, recipient, state, result, credential in report_rows(job):
        if rows or state == ItemState.FAILED:
            click.echo(_row_line(row, recipient, state, result, credential))
    if report is not None:
        write_report(job, report)
        click.echo(_("Report written to %(file)s", file=report))


@jobs_group.command("resume")
@click.argument("job_id")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write a CSV.")
@with_appcontext
def resume_command(job_id: str, report: Path | None) -> None:
    """Run a job's pending rows here (when no live process holds it), with a progress bar.
    A cancelled job is queued again first."""
    job = _job(job_id)
    if bulk.requeue(job):
        click.echo(_("Job %(id)s was cancelled: queued again.", id=job.id))
    if job.state not in ACTIVE:
        raise click.ClickException(
            _("job %(id)s is %(state)s: nothing to resume", id=job.id, state=job.state)
        )
    outcome = _run_with_progress(job, _console())
    _finish(job, outcome, report, rows=False)


@jobs_group.command("cancel")
@click.argument("job_id")
@with_appcontext
def cancel_command(job_id: str) -> None:
    """Stop a job after the row in flight (its pending rows stay pending)."""
    job = _job(job_id)
    if not bulk.cancel(job):
        raise click.ClickException(
            _("job %(id)s is %(state)s: it cannot be cancelled", id=job.id, state=job.state)
        )
    click.echo(_("Job %(id)s cancelled.", id=job.id))


@jobs_group.command("run")
@click.option("--once", is_flag=True, help="Run what is waiting, then exit.")
@click.option("--poll", default=5.0, show_default=True, help="Seconds between looks for work.")
@with_appcontext
def run_command(once: bool, poll: float) -> None:
    """A worker: run queued jobs and jobs whose runner died (expired lease), until stopped.
    A job that stops on an error is retried after a lease period; with --once the command
    then exits 1."""
    stopped = 0
    while True:
        ids = bulk.runnable_jobs()
        for job_id in ids:
            try:
                outcome = bulk.run_job(job_id)
            except Exception as exc:  # recorded on the job; retried after a lease period
                stopped += 1
                error = f"{type(exc).__name__}: {exc}"
                click.echo(
                    _("job %(id)s: stopped: %(error)s", id=job_id, error=error),
                    err=True,
                )
                continue
            click.echo(
                _(
                    "job %(id)s: %(outcome)s (%(rows)d rows)",
                    id=job_id,
                    outcome=_outcome(outcome.outcome),
                    rows=outcome.processed,
                )
            )
        if once and not ids:
            if stopped:
                raise click.exceptions.Exit(1)
            return
        if not ids:
            time.sleep(poll)
