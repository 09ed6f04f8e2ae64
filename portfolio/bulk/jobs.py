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
guarantee.  The kinds themselves live in :mod:`portfolio.bulk.kinds`, whose ``HANDLERS`` do
an item of each kind.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from credentials.errors import CredentialError
from portfolio.bulk.errors import BulkError, ItemProblem
from portfolio.bulk.items import Handler, ItemResult
from portfolio.bulk.kinds import HANDLERS
from portfolio.bulk.models import BulkJob, BulkJobItem, ItemState, JobState
from portfolio.bulk.states import ACTIVE, FINISHED, ITEM_STATE_LABELS
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError
from portfolio.core.models import utcnow
from portfolio.issuing.models import IssuedCredential

log = logging.getLogger(__name__)

LEASE_SECONDS = 60
BATCH_SIZE = 25
MAX_ITEM_ATTEMPTS = 3

#: Columns of a job's per-row report (the CSV download and ``--report``).
REPORT_HEADER = ("row", "key", "recipient", "state", "result", "credential")


def handler(kind: str) -> Handler:
    """What does an item of a ``kind`` of job.  Raises :class:`BulkError` for an unknown
    kind."""
    try:
        return HANDLERS[kind]
    except KeyError:
        raise BulkError(f"unknown kind of job {kind!r}") from None


# -- time and owners -------------------------------------------------------------------------


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
    expires = job.lease_expires_at
    return job.lease_owner is None or expires is None or expires < (now or utcnow())


# -- leases ----------------------------------------------------------------------------------


def _write_one(statement: Any) -> int:
    """Run one conditional UPDATE as its own write unit (commit, or roll back and raise); the
    number of rows it changed — 1 means the condition held, so the caller won."""
    with unit_of_work(write=True) as session:
        result = session.execute(statement.execution_options(synchronize_session=False))
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
                state=JobState.RUNNING,
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
            .where(
                BulkJob.id == job_id,
                BulkJob.lease_owner == owner,
                BulkJob.state == JobState.RUNNING,
            )
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
    with unit_of_work(write=True) as session:
        tally = counts(job_id)
        values: dict[str, Any] = {
            "done_count": tally[ItemState.DONE],
            "skipped_count": tally[ItemState.SKIPPED],
            "failed_count": tally[ItemState.FAILED],
            "updated_at": utcnow(),
        }
        if finish:
            values.update(
                state=JobState.DONE, finished_at=utcnow(), lease_owner=None, lease_expires_at=None
            )
        session.execute(
            update(BulkJob)
            .where(
                BulkJob.id == job_id,
                BulkJob.lease_owner == owner,
                BulkJob.state == JobState.RUNNING,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )


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


class LeaseLost(ConflictError):
    """Another runner holds the job now (this one was too slow to renew its lease), or the
    job was cancelled."""


def _mark(item_id: int, state: ItemState, message: str) -> None:
    _write_one(
        update(BulkJobItem)
        .where(BulkJobItem.id == item_id, BulkJobItem.state == ItemState.PENDING)
        .values(state=state, message=message[:2000], updated_at=utcnow())
    )


def process_item(job_id: int, item_id: int, owner: str) -> BulkJobItem | None:
    """Do one pending item in its own transaction; the item as it ended, or None when it was
    not pending any more (another runner did it).  Raises :class:`LeaseLost`."""
    last: Exception | None = None
    for _ in range(MAX_ITEM_ATTEMPTS):
        try:
            with unit_of_work(write=True):
                done = _do_item(job_id, item_id, owner)
        except IntegrityError as exc:  # a concurrent issue or mastery: look again
            last = exc
            continue
        except (ItemProblem, CredentialError) as exc:
            _mark(item_id, ItemState.FAILED, str(exc) or type(exc).__name__)
            return db.session.get(BulkJobItem, item_id, populate_existing=True)
        if done is None:
            return None
        item, result = done
        for action in result.after_commit:
            try:
                action()
            except Exception:  # a mail that fails never undoes the item
                log.warning("after-commit action of bulk item %s failed", item_id, exc_info=True)
        return item
    _mark(item_id, ItemState.FAILED, f"kept conflicting with concurrent changes ({last})")
    return db.session.get(BulkJobItem, item_id, populate_existing=True)


def _do_item(job_id: int, item_id: int, owner: str) -> tuple[BulkJobItem, ItemResult] | None:
    """Lock the item, still pending, and have its kind's handler do it (in the caller's
    transaction); None when it is not pending any more."""
    item = db.session.scalar(
        select(BulkJobItem)
        .where(BulkJobItem.id == item_id, BulkJobItem.state == ItemState.PENDING)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if item is None:
        return None
    job = db.session.get(BulkJob, job_id, populate_existing=True)
    if job is None or job.lease_owner != owner or job.state != JobState.RUNNING:
        raise LeaseLost(f"job {job_id} was cancelled or is run by another process")
    result = handler(job.kind)(job, item)
    item.state = result.state
    item.message = result.message[:2000]
    item.credential_id = result.credential_id
    item.updated_at = utcnow()
    return item, result


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
            ids = _pending_batch(job_id, batch_size)
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


def _pending_batch(job_id: int, batch_size: int) -> Sequence[int]:
    """Ids of the job's next ``batch_size`` pending items, in row order (a unit of its own)."""
    with unit_of_work() as session:
        return session.scalars(
            select(BulkJobItem.id)
            .where(BulkJobItem.job_id == job_id, BulkJobItem.state == ItemState.PENDING)
            .order_by(BulkJobItem.row)
            .limit(batch_size)
        ).all()


def _note_error(job_id: int, message: str) -> None:
    """Record why a run stopped (best effort: the database may be what failed)."""
    try:
        with unit_of_work(write=True) as session:
            session.execute(
                update(BulkJob)
                .where(BulkJob.id == job_id)
                .values(error=message[:2000], updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
    except Exception:
        db.session.rollback()  # starting the unit (begin_write) may be what failed
        log.warning("could not record why bulk job %s stopped", job_id, exc_info=True)


def runnable_jobs(*, now: datetime | None = None) -> list[int]:
    """Ids of jobs with work left and no live lease, oldest first — except those whose last
    run stopped on an error less than a lease period ago (retried later, not in a loop)."""
    now = now or utcnow()
    with unit_of_work() as session:
        ids = session.scalars(
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
    return list(ids)


def cancel(job: BulkJob) -> bool:
    """Stop the job: its runner stops after the item in flight; pending items stay pending."""
    return (
        _write_one(
            update(BulkJob)
            .where(BulkJob.id == job.id, BulkJob.state.in_(ACTIVE))
            .values(state=JobState.CANCELLED, finished_at=utcnow(), updated_at=utcnow())
        )
        == 1
    )


def requeue(job: BulkJob) -> bool:
    """Queue a cancelled job again (its pending rows will be run); True when it was."""
    changed = _write_one(
        update(BulkJob)
        .where(BulkJob.id == job.id, BulkJob.state == JobState.CANCELLED)
        .values(state=JobState.QUEUED, finished_at=None, updated_at=utcnow())
    )
    db.session.refresh(job)
    return changed == 1


def reopen_failed(job: BulkJob) -> int:
    """Give the job's failed items another chance (a CSV run again); returns how many."""
    with unit_of_work(write=True) as session:
        result = session.execute(
            update(BulkJobItem)
            .where(BulkJobItem.job_id == job.id, BulkJobItem.state == ItemState.FAILED)
            .values(state=ItemState.PENDING, message="", updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        reopened = int(getattr(result, "rowcount", 0))
        if reopened or job.state in FINISHED:
            session.execute(
                update(BulkJob)
                .where(BulkJob.id == job.id, BulkJob.state.in_(FINISHED))
                .values(state=JobState.QUEUED, finished_at=None, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
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
    updated = job.updated_at
    recent = updated is not None and updated > utcnow() - timedelta(seconds=lease_seconds())
    if job.error and recent:
        return False
    if is_stale(job):
        return start_in_background(app, job.id) is not None
    return False
