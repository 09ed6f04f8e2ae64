"""Bulk jobs: work on many rows (students, CSV lines) that survives crashes and never repeats.

A :class:`~portfolio.bulk.models.BulkJob` holds its rows as
:class:`~portfolio.bulk.models.BulkJobItem`
records.  Whoever runs a job first takes its *lease* — an ``UPDATE … WHERE`` the lease is free
or expired, atomic on SQLite (one writer at a time) and PostgreSQL (the row lock re-checks the
condition) — and renews it as it goes (the heartbeat).  A process that dies stops renewing, its
lease expires, and the next runner (``credfolio jobs resume`` / ``jobs run``, or the web process
when someone opens the job's page) carries on with the pending items.

Each item is done in its own transaction: the item's work (a credential, a mastery, the
notifications…) and the item's new state commit together or not at all, so a crash loses at
most the item in flight, which is still pending afterwards.  The item row is locked while it is
worked on and only a *pending* item is worked on, so no two runners ever do one item twice; the
kinds' own unique keys (a student's mastery, a CSV row's idempotency key) make it a database
guarantee.  The kinds themselves live in :mod:`portfolio.bulk.kinds`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from credentials.errors import CredentialError
from portfolio.bulk.models import BulkJob, BulkJobItem
from portfolio.core.db import begin_write, db
from portfolio.core.models import utcnow
from portfolio.issuing.models import IssuedCredential

log = logging.getLogger(__name__)

#: Jobs that still have work to do.
ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
LEASE_SECONDS = 60
BATCH_SIZE = 25
MAX_ITEM_ATTEMPTS = 3

JOB_STATE_LABELS = {
    "queued": "Queued",
    "running": "Running",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
ITEM_STATE_LABELS = {"pending": "Pending", "done": "Done", "skipped": "Skipped", "failed": "Failed"}
#: Columns of a job's per-row report (the CSV download and ``--report``).
REPORT_HEADER = ("row", "key", "recipient", "state", "result", "credential")


class BulkError(Exception):
    """A bulk request refused as a whole; ``status`` is the HTTP status a page answers with."""

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ItemProblem(Exception):
    """An item that cannot be done: it is marked failed with this message, the job goes on."""


@dataclass
class ItemResult:
    """What a kind's handler did with one item (inside the item's transaction)."""

    state: str
    message: str
    credential_id: int | None = None
    #: Called after the commit (mail): a failure there never undoes the item.
    after_commit: list[Callable[[], None]] = field(default_factory=list)


Handler = Callable[[BulkJob, BulkJobItem], ItemResult]


def _handler(kind: str) -> Handler:
    from portfolio.bulk import kinds as bulk_issue

    try:
        return bulk_issue.HANDLERS[kind]
    except KeyError:
        raise BulkError(f"unknown kind of job {kind!r}") from None


# -- time and owners -------------------------------------------------------------------------


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def lease_seconds() -> float:
    return float(current_app.config.get("CREDFOLIO_BULK_LEASE_SECONDS", LEASE_SECONDS))


def new_owner() -> str:
    """A name for this runner: host, process, thread and a random suffix."""
    return (f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}")[
        :128
    ]


def is_stale(job: BulkJob, *, now: datetime | None = None) -> bool:
    """True when the job has work left and nobody holds a live lease on it."""
    if job.state not in ACTIVE:
        return False
    expires = _aware(job.lease_expires_at)
    return job.lease_owner is None or expires is None or expires < (now or utcnow())


# -- leases ----------------------------------------------------------------------------------


def _write_one(statement: Any) -> int:
    """Run one conditional UPDATE as its own write unit (commit, or roll back and raise); the
    number of rows it changed — 1 means the condition held, so the caller won."""
    begin_write()
    try:
        result = db.session.execute(statement.execution_options(synchronize_session=False))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return int(getattr(result, "rowcount", 0))


def claim(job_id: int, owner: str, *, now: datetime | None = None) -> bool:
    """Take the job's lease for ``owner`` when it is free or expired; True when taken.

    One ``UPDATE … WHERE``: of two processes claiming at once exactly one matches.
    """
    now = now or utcnow()
    return (
        _write_one(
            update(BulkJob)
            .where(
                BulkJob.id == job_id,
                BulkJob.state.in_(ACTIVE),
                or_(
                    BulkJob.lease_owner.is_(None),
                    BulkJob.lease_expires_at.is_(None),
                    BulkJob.lease_expires_at < now,
                    BulkJob.lease_owner == owner,
                ),
            )
            .values(
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_seconds()),
                heartbeat_at=now,
                state="running",
                error=None,
                started_at=func.coalesce(BulkJob.started_at, now),
                updated_at=now,
            )
        )
        == 1
    )


def heartbeat(job_id: int, owner: str) -> bool:
    """Renew ``owner``'s lease; False when it is no longer theirs or the job was cancelled."""
    now = utcnow()
    return (
        _write_one(
            update(BulkJob)
            .where(BulkJob.id == job_id, BulkJob.lease_owner == owner, BulkJob.state == "running")
            .values(
                lease_expires_at=now + timedelta(seconds=lease_seconds()),
                heartbeat_at=now,
                updated_at=now,
            )
        )
        == 1
    )


def release(job_id: int, owner: str) -> None:
    """Give the lease up (another runner may take the job at once)."""
    _write_one(
        update(BulkJob)
        .where(BulkJob.id == job_id, BulkJob.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
    )


# -- counts and finishing --------------------------------------------------------------------


def counts(job_id: int) -> dict[str, int]:
    """Items per state (one query), every state present."""
    found = dict(
        db.session.execute(
            select(BulkJobItem.state, func.count())
            .where(BulkJobItem.job_id == job_id)
            .group_by(BulkJobItem.state)
        ).all()
    )
    return {state: int(found.get(state, 0)) for state in ITEM_STATE_LABELS}


def _store_counts(job_id: int, owner: str, *, finish: bool) -> None:
    begin_write()
    try:
        tally = counts(job_id)
        values: dict[str, Any] = {
            "done_count": tally["done"],
            "skipped_count": tally["skipped"],
            "failed_count": tally["failed"],
            "updated_at": utcnow(),
        }
        if finish:
            values.update(
                state="done", finished_at=utcnow(), lease_owner=None, lease_expires_at=None
            )
        db.session.execute(
            update(BulkJob)
            .where(BulkJob.id == job_id, BulkJob.lease_owner == owner, BulkJob.state == "running")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def report_rows(job: BulkJob) -> Iterator[list[str]]:
    """The job's per-row results as the CSV report has them, in row order (one query)."""
    query = (
        select(BulkJobItem, IssuedCredential.public_id)
        .outerjoin(IssuedCredential, BulkJobItem.credential_id == IssuedCredential.id)
        .where(BulkJobItem.job_id == job.id)
        .order_by(BulkJobItem.row)
    )
    for item, credential in db.session.execute(query):
        yield [str(item.row), item.key, item.label, item.state, item.message, credential or ""]


# -- one item --------------------------------------------------------------------------------


class LeaseLost(Exception):
    """Another runner holds the job now (this one was too slow to renew its lease)."""


def _mark(item_id: int, state: str, message: str) -> None:
    _write_one(
        update(BulkJobItem)
        .where(BulkJobItem.id == item_id, BulkJobItem.state == "pending")
        .values(state=state, message=message[:2000], updated_at=utcnow())
    )


def process_item(job_id: int, item_id: int, owner: str) -> BulkJobItem | None:
    """Do one pending item in its own transaction; the item as it ended, or None when it was
    not pending any more (another runner did it).  Raises :class:`LeaseLost`."""
    last: Exception | None = None
    for _ in range(MAX_ITEM_ATTEMPTS):
        begin_write()
        try:
            item = db.session.scalar(
                select(BulkJobItem)
                .where(BulkJobItem.id == item_id, BulkJobItem.state == "pending")
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if item is None:
                db.session.rollback()
                return None
            job = db.session.get(BulkJob, job_id, populate_existing=True)
            if job is None or job.lease_owner != owner or job.state != "running":
                raise LeaseLost(f"job {job_id} was cancelled or is run by another process")
            result = _handler(job.kind)(job, item)
            item.state = result.state
            item.message = result.message[:2000]
            item.credential_id = result.credential_id
            item.updated_at = utcnow()
            db.session.commit()
        except IntegrityError as exc:  # a concurrent issue or mastery: look again
            db.session.rollback()
            last = exc
            continue
        except (ItemProblem, CredentialError) as exc:
            db.session.rollback()
            _mark(item_id, "failed", str(exc) or type(exc).__name__)
            return db.session.get(BulkJobItem, item_id, populate_existing=True)
        except BaseException:
            db.session.rollback()
            raise
        for action in result.after_commit:
            try:
                action()
            except Exception:  # a mail that fails never undoes the item
                log.warning("after-commit action of bulk item %s failed", item_id, exc_info=True)
        return item
    _mark(item_id, "failed", f"kept conflicting with concurrent changes ({last})")
    return db.session.get(BulkJobItem, item_id, populate_existing=True)


# -- the runner ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: ``done``, ``busy`` (another runner holds the lease), ``lost`` (the
    lease was taken over or the job cancelled), ``stopped`` (``stop_after`` reached)."""

    outcome: str
    processed: int


def run_job(
    job_id: int,
    *,
    owner: str | None = None,
    batch_size: int = BATCH_SIZE,
    on_item: Callable[[BulkJobItem | None], None] | None = None,
    stop_after: int | None = None,
) -> RunOutcome:
    """Run the job's pending items, a batch at a time, under a lease (see the module)."""
    owner = owner or new_owner()
    if not claim(job_id, owner):
        return RunOutcome("busy", 0)
    processed = 0
    renew_every = lease_seconds() / 3
    renewed = time.monotonic()
    try:
        while True:
            ids: Sequence[int] = db.session.scalars(
                select(BulkJobItem.id)
                .where(BulkJobItem.job_id == job_id, BulkJobItem.state == "pending")
                .order_by(BulkJobItem.row)
                .limit(batch_size)
            ).all()
            db.session.commit()
            if not ids:
                _store_counts(job_id, owner, finish=True)
                return RunOutcome("done", processed)
            for item_id in ids:
                try:
                    item = process_item(job_id, item_id, owner)
                except LeaseLost:
                    return RunOutcome("lost", processed)
                processed += 1
                if on_item is not None:
                    on_item(item)
                if stop_after is not None and processed >= stop_after:
                    _store_counts(job_id, owner, finish=False)
                    return RunOutcome("stopped", processed)
                if time.monotonic() - renewed >= renew_every:
                    if not heartbeat(job_id, owner):
                        return RunOutcome("lost", processed)
                    renewed = time.monotonic()
            _store_counts(job_id, owner, finish=False)
            if not heartbeat(job_id, owner):
                return RunOutcome("lost", processed)
            renewed = time.monotonic()
    except Exception as exc:
        # A fault of the whole job (the database went away, the signing key cannot be
        # decrypted): the rows stay pending and the job can be resumed once it is fixed.
        db.session.rollback()
        _note_error(job_id, f"stopped after {processed} rows: {type(exc).__name__}: {exc}")
        raise
    finally:
        release(job_id, owner)


def _note_error(job_id: int, message: str) -> None:
    """Record why a run stopped (best effort: the database may be what failed)."""
    try:
        begin_write()
        db.session.execute(
            update(BulkJob)
            .where(BulkJob.id == job_id)
            .values(error=message[:2000], updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.warning("could not record why bulk job %s stopped", job_id, exc_info=True)


def runnable_jobs(*, now: datetime | None = None) -> list[int]:
    """Ids of jobs with work left and no live lease, oldest first — except those whose last
    run stopped on an error less than a lease period ago (retried later, not in a loop)."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(BulkJob.id)
        .where(
            BulkJob.state.in_(ACTIVE),
            or_(
                BulkJob.lease_owner.is_(None),
                BulkJob.lease_expires_at.is_(None),
                BulkJob.lease_expires_at < now,
            ),
            or_(
                BulkJob.error.is_(None),
                BulkJob.updated_at < now - timedelta(seconds=lease_seconds()),
            ),
        )
        .order_by(BulkJob.id)
    ).all()
    db.session.commit()
    return list(ids)


def cancel(job: BulkJob) -> bool:
    """Stop the job: its runner stops after the item in flight; pending items stay pending."""
    return (
        _write_one(
            update(BulkJob)
            .where(BulkJob.id == job.id, BulkJob.state.in_(ACTIVE))
            .values(state="cancelled", finished_at=utcnow(), updated_at=utcnow())
        )
        == 1
    )


def requeue(job: BulkJob) -> bool:
    """Queue a cancelled job again (its pending rows will be run); True when it was."""
    changed = _write_one(
        update(BulkJob)
        .where(BulkJob.id == job.id, BulkJob.state == "cancelled")
        .values(state="queued", finished_at=None, updated_at=utcnow())
    )
    db.session.refresh(job)
    return changed == 1


def reopen_failed(job: BulkJob) -> int:
    """Give the job's failed items another chance (a CSV run again); returns how many."""
    begin_write()
    try:
        result = db.session.execute(
            update(BulkJobItem)
            .where(BulkJobItem.job_id == job.id, BulkJobItem.state == "failed")
            .values(state="pending", message="", updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        reopened = int(getattr(result, "rowcount", 0))
        if reopened or job.state in ("done", "failed", "cancelled"):
            db.session.execute(
                update(BulkJob)
                .where(BulkJob.id == job.id, BulkJob.state.in_(FINISHED))
                .values(state="queued", finished_at=None, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    db.session.refresh(job)
    return reopened


# -- in the background of the web process ----------------------------------------------------

_THREADS = "credfolio_bulk_threads"


def background_enabled(app: Flask) -> bool:
    """``CREDFOLIO_BULK_BACKGROUND`` (default true; ``false`` leaves jobs to ``jobs run``)."""
    value = app.config.get("CREDFOLIO_BULK_BACKGROUND", True)
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "false", "no", "off"}
    return bool(value)


def start_in_background(app: Flask, job_id: int) -> threading.Thread | None:
    """Run the job in a thread of this process (after the request's commit), unless
    ``CREDFOLIO_BULK_BACKGROUND`` is false.  The lease keeps a second thread idle."""
    if not background_enabled(app):
        return None
    thread = threading.Thread(
        target=_run_in_app, args=(app, job_id), name=f"bulk-job-{job_id}", daemon=True
    )
    threads: list[threading.Thread] = app.extensions.setdefault(_THREADS, [])
    threads[:] = [t for t in threads if t.is_alive()]
    threads.append(thread)
    thread.start()
    return thread


def _run_in_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            run_job(job_id)
        except Exception:
            app.logger.exception("bulk job %s stopped with an error (it can be resumed)", job_id)
        finally:
            db.session.remove()


def wait_for_background(app: Flask, timeout: float = 120) -> None:
    """Wait for this process's job threads (tests, and a clean shutdown)."""
    deadline = time.monotonic() + timeout
    for thread in list(app.extensions.get(_THREADS, [])):
        thread.join(max(deadline - time.monotonic(), 0))


def resume_if_stale(app: Flask, job: BulkJob) -> bool:
    """Start the job in the background when its runner died (its lease expired) — but not
    again within a lease's time after a run that stopped on an error (a retry, not a loop)."""
    updated = _aware(job.updated_at)
    recent = updated is not None and updated > utcnow() - timedelta(seconds=lease_seconds())
    if job.error and recent:
        return False
    if is_stale(job):
        return start_in_background(app, job.id) is not None
    return False
