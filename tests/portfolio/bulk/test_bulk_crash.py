"""A bulk job's runner killed (SIGKILL) in the middle of an item: the item in flight leaves
nothing behind, the job cannot be taken while the dead runner's lease lasts, and once it has
expired another runner finishes the job — every student holding exactly one credential."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from portfolio.assessment.models import Mastery
from portfolio.bulk import jobs as bulk
from portfolio.bulk.kinds import start_cohort_endorsement
from portfolio.bulk.models import BulkJob, BulkJobItem
from portfolio.core.db import db
from portfolio.core.models import utcnow
from portfolio.issuing.models import IssuedCredential
from tests.conftest import TEST_KEK
from tests.portfolio.school import make_school, person

ROOT = Path(__file__).resolve().parents[3]
SIZE = 8
#: The child runner stops for good inside the transaction of this item (1-based).
FREEZE_AT = 4

CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    from wsgi import create_app
    from portfolio.assessment import credentials as issuing
    from portfolio.bulk import jobs as bulk

    config = json.loads(os.environ["BULK_CHILD_CONFIG"])
    marker = os.environ["BULK_CHILD_MARKER"]
    freeze_at = int(os.environ["BULK_CHILD_FREEZE_AT"])
    app = create_app(config)
    real = issuing.issue_mastery
    calls = []

    def issue_then_freeze(*args, **kwargs):
        credential = real(*args, **kwargs)  # signed and flushed, not committed
        calls.append(credential)
        if len(calls) == freeze_at:
            with open(marker, "w") as out:
                out.write(credential.public_id)
            time.sleep(600)  # killed here, in the middle of the item's transaction
        return credential

    issuing.issue_mastery = issue_then_freeze
    with app.app_context():
        bulk.run_job(int(sys.argv[1]), batch_size=3)
    """
)


@pytest.fixture
def school(app: Flask, issuer: Any) -> Any:
    app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = False
    return make_school(issuer)


def test_a_runner_killed_mid_item_is_resumed_without_issuing_twice(
    app: Flask, school: Any, tmp_path: Path
) -> None:
    students = [person(school.issuer, "student", f"Kid {i}", cohort="K1") for i in range(SIZE)]
    job, _new = start_cohort_endorsement(school.assessor, school.competency, "K1", levels=[2, 2])
    marker = tmp_path / "frozen"
    config = {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
        "CREDFOLIO_PUBLIC_URL": app.config["CREDFOLIO_PUBLIC_URL"],
        "CREDFOLIO_NOTIFY_BY_MAIL": False,
    }
    env = {
        **os.environ,
        "BULK_CHILD_CONFIG": json.dumps(config),
        "BULK_CHILD_MARKER": str(marker),
        "BULK_CHILD_FREEZE_AT": str(FREEZE_AT),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(job.id)], cwd=ROOT, env=env, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"the runner ended early: {child.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                pytest.fail("the runner never reached the item to be killed in")
            time.sleep(0.05)
        in_flight = marker.read_text()
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
        if child.stderr is not None:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    db.session.expire_all()
    states = list(
        db.session.scalars(
            select(BulkJobItem.state).where(BulkJobItem.job_id == job.id).order_by(BulkJobItem.row)
        )
    )
    assert states == ["done"] * (FREEZE_AT - 1) + ["pending"] * (SIZE - FREEZE_AT + 1)
    # The credential signed in the killed transaction was never stored.
    assert (
        db.session.scalar(select(IssuedCredential).where(IssuedCredential.public_id == in_flight))
        is None
    )
    # The dead runner's lease still holds the job until it expires.
    db.session.refresh(job)
    assert job.state == "running" and job.lease_owner is not None
    assert bulk.run_job(job.id).outcome == "busy"
    db.session.execute(
        update(BulkJob)
        .where(BulkJob.id == job.id)
        .values(lease_expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    outcome = bulk.run_job(job.id)
    assert outcome == bulk.RunOutcome("done", SIZE - FREEZE_AT + 1)
    verifier = app.extensions["credfolio"].verifier()
    for student in students:
        issued = db.session.scalars(
            select(IssuedCredential).where(IssuedCredential.recipient_user_id == student.id)
        ).all()
        assert len(issued) == 1
        assert verifier.verify(json.loads(issued[0].document)).verified
    assert db.session.scalar(select(func.count()).select_from(Mastery)) == SIZE
