"""Bulk jobs: a cohort endorsement issues exactly one credential per student, and they verify;
running again, or a student who already mastered, skips; a failing row does not stop the
others; a job whose runner died is resumed without issuing twice; only one runner holds a job."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from portfolio.accounts.models import Notification
from portfolio.assessment import service as assessment
from portfolio.assessment.models import Assessment, Submission
from portfolio.bulk import jobs as bulk
from portfolio.bulk.errors import BulkError
from portfolio.bulk.kinds import start_cohort_endorsement
from portfolio.bulk.models import BulkJob, BulkJobItem
from portfolio.core.db import db
from portfolio.core.errors import status_for
from portfolio.core.models import utcnow
from portfolio.issuing.models import IssuedCredential
from tests.portfolio.school import competency, evidence, make_school, person

COHORT = "8A"
SIZE = 12


@pytest.fixture
def school(app: Flask, issuer: Any) -> Any:
    app.config["CREDFOLIO_BULK_BACKGROUND"] = False
    app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = False
    return make_school(issuer)


def cohort(school: Any, size: int = SIZE, name: str = COHORT) -> list[Any]:
    return [
        person(school.issuer, "student", f"Pupil {name} {index:02d}", cohort=name)
        for index in range(size)
    ]


def issued_to(student: Any) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(IssuedCredential)
            .where(IssuedCredential.recipient_user_id == student.id)
        )
        or 0
    )


def start(school: Any, **changes: Any) -> BulkJob:
    starter = changes.pop("starter", school.assessor)
    values: dict[str, Any] = {"levels": [2, 3], "feedback": "Well done, everyone."}
    values.update(changes)
    job, created = start_cohort_endorsement(starter, school.competency, COHORT, **values)
    assert created
    return job


def items(job: BulkJob) -> list[BulkJobItem]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(BulkJobItem).where(BulkJobItem.job_id == job.id).order_by(BulkJobItem.row)
        )
    )


def test_a_cohort_endorsement_issues_one_verifying_credential_per_student(
    app: Flask, school: Any
) -> None:
    students = cohort(school)
    job = start(school)
    assert job.state == "queued" and job.total == SIZE
    outcome = bulk.run_job(job.id, batch_size=5)
    assert outcome == bulk.RunOutcome("done", SIZE)
    db.session.refresh(job)
    assert job.state == "done" and job.lease_owner is None and job.done_count == SIZE
    verifier = app.extensions["credfolio"].verifier()
    for student, item in zip(students, items(job), strict=True):
        assert item.state == "done", item.message
        assert issued_to(student) == 1
        credential = db.session.get(IssuedCredential, item.credential_id)
        assert credential is not None and credential.recipient_user_id == student.id
        document = json.loads(credential.document)
        result = verifier.verify(document)
        assert result.verified, result.errors
        # The assessor's own did:key-signed endorsement rides along, as in a one-by-one
        # endorsement, with the rubric levels chosen for the cohort.
        assert document["endorsement"][0]["issuer"]["id"].startswith("did:key:")
        subject = document["credentialSubject"]
        assert len(subject["result"]) == 2
        submission = db.session.scalar(
            select(Submission).where(Submission.credential_id == credential.id)
        )
        assert submission is not None and submission.state == "endorsed"
        (row,) = submission.assessments
        assert row.decision == "endorse" and row.levels == [2, 3]
        assert row.feedback == "Well done, everyone."
    notices = db.session.scalar(select(func.count()).select_from(Notification))
    assert notices == SIZE
    from portfolio.core.models import AuditEvent

    started = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "bulk_job_started")
    ).one()
    assert started.actor_id == school.assessor.id and started.target == f"job:{job.public_id}"
    # Students of other cohorts are untouched.
    assert issued_to(school.student) == 0 and issued_to(school.other_student) == 0


def test_running_the_same_endorsement_again_skips_everyone(school: Any) -> None:
    students = cohort(school, 4)
    first = start(school)
    bulk.run_job(first.id)
    again = start(school)
    assert again.id != first.id
    assert bulk.run_job(again.id).outcome == "done"
    assert [item.state for item in items(again)] == ["skipped"] * 4
    assert {item.message for item in items(again)} == {"already mastered"}
    assert all(issued_to(student) == 1 for student in students)


def test_the_same_request_while_its_job_is_open_returns_that_job(school: Any) -> None:
    cohort(school, 2)
    job = start(school)
    same, created = start_cohort_endorsement(
        school.assessor, school.competency, COHORT, levels=[2, 2]
    )
    assert same.id == job.id and not created
    assert db.session.scalar(select(func.count()).select_from(BulkJob)) == 1


def test_a_student_who_already_holds_the_mastery_is_skipped(app: Flask, school: Any) -> None:
    students = cohort(school, 3)
    song = evidence(students[1], "Own song")
    own = assessment.create_submission(
        students[1], school.competency, evidence_ids=[song.public_id], submit=True
    )
    assessment.assess(own, school.second_assessor, decision="endorse", levels=[3, 3])
    job = start(school)
    bulk.run_job(job.id)
    states = [(item.state, item.message) for item in items(job)]
    assert states[1] == ("skipped", "already mastered")
    assert [state for state, _ in states] == ["done", "skipped", "done"]
    assert [issued_to(student) for student in students] == [1, 1, 1]


def test_an_open_submission_is_the_one_endorsed_with_its_evidence(school: Any) -> None:
    students = cohort(school, 2)
    song = evidence(students[0], "Waiting song")
    waiting = assessment.create_submission(
        students[0], school.competency, evidence_ids=[song.public_id], submit=True
    )
    job = start(school)
    bulk.run_job(job.id)
    db.session.refresh(waiting)
    assert waiting.state == "endorsed" and waiting.credential_id == items(job)[0].credential_id
    document = json.loads(waiting.credential.document)
    assert any(e.get("name") == "Waiting song" for e in document["evidence"])


def test_a_failing_student_is_reported_and_the_others_go_on(school: Any) -> None:
    basics = competency(school.issuer, "Basics")
    school.competency.prerequisites  # noqa: B018  (loaded before the change below)
    students = cohort(school, 3)
    from portfolio.catalogue.models import Prerequisite

    db.session.add(Prerequisite(competency_id=school.competency.id, prerequisite_id=basics.id))
    db.session.commit()
    db.session.expire_all()
    # Only the middle student has mastered the prerequisite.
    song = evidence(students[1], "Basics song")
    own = assessment.create_submission(
        students[1], basics, evidence_ids=[song.public_id], submit=True
    )
    assessment.assess(own, school.assessor, decision="endorse", levels=[2, 2])
    job = start(school)
    bulk.run_job(job.id)
    states = [(item.state, item.message) for item in items(job)]
    assert states[0] == ("failed", "prerequisite not mastered yet: “Basics”")
    assert states[1] == ("done", "endorsed: credential issued")
    assert states[2][0] == "failed"
    db.session.refresh(job)
    assert job.state == "done" and job.failed_count == 2 and job.done_count == 1
    # A failed row leaves nothing behind: no credential, no submission, no assessment.
    assert issued_to(students[0]) == 0
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.student_id == students[0].id)
        )
        == 0
    )
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Assessment)
            .join(Submission)
            .where(Submission.student_id == students[2].id)
        )
        == 0
    )


def test_a_job_is_refused_when_the_request_is_wrong(school: Any) -> None:
    cohort(school, 1)
    with pytest.raises(BulkError, match="do not meet the rule for mastery"):
        start_cohort_endorsement(school.assessor, school.competency, COHORT, levels=[1, 3])
    with pytest.raises(BulkError, match="has no students"):
        start_cohort_endorsement(school.assessor, school.competency, "nobody", levels=[2, 2])
    with pytest.raises(BulkError, match="no such competency") as refused:
        start_cohort_endorsement(school.student, school.competency, COHORT, levels=[2, 2])
    assert status_for(refused.value) == 404
    school.competency.required_endorsements = 2
    db.session.commit()
    with pytest.raises(BulkError, match="needs 2 assessors to agree"):
        start_cohort_endorsement(school.assessor, school.competency, COHORT, levels=[2, 2])
    job, _ = start_cohort_endorsement(school.admin, school.competency, COHORT, levels=[2, 2])
    assert bulk.run_job(job.id).outcome == "done" and items(job)[0].state == "done"


def test_a_job_whose_runner_stopped_is_resumed_from_its_pending_items(school: Any) -> None:
    students = cohort(school, 6)
    job = start(school)
    # A runner does three students, then "dies" still holding the lease.
    dead = "dead-runner"
    assert bulk.claim(job.id, dead)
    for item in items(job)[:3]:
        bulk.process_item(job.id, item.id, dead)
    assert bulk.run_job(job.id).outcome == "busy"  # its lease is still live
    assert bulk.runnable_jobs() == []
    db.session.execute(
        update(BulkJob)
        .where(BulkJob.id == job.id)
        .values(lease_expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    db.session.refresh(job)
    assert bulk.is_stale(job) and bulk.runnable_jobs() == [job.id]
    outcome = bulk.run_job(job.id)
    assert outcome == bulk.RunOutcome("done", 3)
    assert [issued_to(student) for student in students] == [1] * 6
    # The dead runner cannot write any more: its lease is gone.
    assert not bulk.heartbeat(job.id, dead)


def test_only_one_of_two_runners_holds_the_job(app: Flask, school: Any) -> None:
    students = cohort(school, 8)
    job_id = start(school).id  # read here: the row belongs to this thread's session
    barrier = threading.Barrier(2)
    outcomes: list[bulk.RunOutcome] = []

    def runner() -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcomes.append(bulk.run_job(job_id))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # Either the second claim came while the first ran (busy), or after it finished (nothing
    # left to do): never two runners doing items.
    assert sorted(o.outcome for o in outcomes) in (["busy", "done"], ["done", "done"])
    assert sum(o.processed for o in outcomes) == 8
    assert [issued_to(student) for student in students] == [1] * 8


def test_two_claims_at_once_give_the_lease_to_one(app: Flask, school: Any) -> None:
    cohort(school, 1)
    # The id is read here: the job row belongs to this thread's session, which the claimers
    # must not touch (a lazy load from another thread races with this session).
    job_id = start(school).id
    barrier = threading.Barrier(4)
    won: list[bool] = []

    def claimer(name: str) -> None:
        with app.app_context():
            try:
                barrier.wait()
                won.append(bulk.claim(job_id, name))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claimer, args=(f"r{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(won) == [False, False, False, True]


def test_a_cancelled_job_stops_and_keeps_its_pending_rows(school: Any) -> None:
    cohort(school, 4)
    job = start(school)
    seen: list[Any] = []

    def cancel_after_first(item: Any) -> None:
        seen.append(item)
        if len(seen) == 1:
            assert bulk.cancel(job)

    outcome = bulk.run_job(job.id, on_item=cancel_after_first)
    assert outcome.outcome == "lost" and outcome.processed >= 1
    states = [item.state for item in items(job)]
    assert states.count("done") == outcome.processed and "pending" in states
    assert bulk.run_job(job.id).outcome == "busy"  # cancelled jobs are not run again
