"""A cohort endorsement issues only to the students chosen: a student whose credential for the
competency was revoked is left out unless ticked (with the reason shown), a revocation made
while the job waits is respected, and the credentials say only what happened — one judgement
for the cohort, no evidence assessed when none was (issue 15 §2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.assessment import service as assessment
from portfolio.assessment.endorsement_text import (
    HowAssessed,
    cohort_evidence_narrative,
    endorsement_comment,
)
from portfolio.bulk import jobs as bulk
from portfolio.bulk.cohort_selection import cohort_candidates
from portfolio.bulk.errors import BulkError
from portfolio.bulk.kinds import cohort_students, start_cohort_endorsement
from portfolio.bulk.models import BulkJobItem
from portfolio.core.db import db
from portfolio.issuing import service as services
from portfolio.issuing.models import IssuedCredential
from tests.portfolio.school import evidence, make_school, person

COHORT = "8A"


@pytest.fixture
def school(app: Flask, issuer: Any) -> Any:
    app.config["CREDFOLIO_BULK_BACKGROUND"] = False
    app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = False
    school = make_school(issuer)
    school.pupils = [
        person(issuer, "student", f"Pupil {index}", cohort=COHORT) for index in range(3)
    ]
    return school


def endorse_cohort(school: Any, **changes: Any) -> Any:
    values: dict[str, Any] = {"levels": [2, 3], "feedback": "Well done, everyone."}
    values.update(changes)
    job, _created = start_cohort_endorsement(school.assessor, school.competency, COHORT, **values)
    assert bulk.run_job(job.id).outcome == "done"
    return job


def credentials_of(student: Any) -> list[IssuedCredential]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(IssuedCredential)
            .where(IssuedCredential.recipient_user_id == student.id)
            .order_by(IssuedCredential.id)
        )
    )


def item_of(job: Any, student: Any) -> BulkJobItem:
    return db.session.scalars(
        select(BulkJobItem).where(
            BulkJobItem.job_id == job.id, BulkJobItem.key == f"student:{student.id}"
        )
    ).one()


def revoke_first(school: Any) -> Any:
    """Endorse the cohort, then revoke the first pupil's credential."""
    endorse_cohort(school)
    pupil = school.pupils[0]
    [credential] = credentials_of(pupil)
    services.set_status(credential, "revoke", reason="Copied another pupil's work")
    return pupil


def test_a_later_cohort_endorsement_leaves_out_a_revoked_student_by_default(school: Any):
    pupil = revoke_first(school)
    job = endorse_cohort(school)
    assert len(credentials_of(pupil)) == 1  # not issued again
    assert job.total == len(school.pupils) - 1
    keys = set(db.session.scalars(select(BulkJobItem.key).where(BulkJobItem.job_id == job.id)))
    assert f"student:{pupil.id}" not in keys


def test_the_choice_shows_why_a_revoked_student_is_left_out(school: Any):
    pupil = revoke_first(school)
    candidates = cohort_candidates(school.competency, cohort_students(school.issuer.id, COHORT))
    left_out = next(c for c in candidates if c.student.id == pupil.id)
    assert not left_out.chosen_by_default and left_out.revoked
    assert left_out.note is not None
    assert "revoked" in left_out.note and "Copied another pupil's work" in left_out.note
    others = [c for c in candidates if c.student.id != pupil.id]
    assert all(c.chosen_by_default for c in others)


def test_ticking_a_revoked_student_issues_to_them_again(school: Any):
    pupil = revoke_first(school)
    endorse_cohort(school, students=[str(pupil.id)])
    first, second = credentials_of(pupil)
    assert first.state == "revoked" and second.state == "active"


def test_a_revocation_made_while_the_job_waits_is_respected(school: Any):
    pupil = school.pupils[0]
    item = evidence(pupil, "My song")
    submission = assessment.create_submission(
        pupil, school.competency, evidence_ids=[item.public_id], submit=True
    )
    assessment.assess(submission, school.second_assessor, decision="endorse", levels=[2, 2])
    [credential] = credentials_of(pupil)
    job, _ = start_cohort_endorsement(
        school.assessor, school.competency, COHORT, levels=[2, 3], students=[str(pupil.id)]
    )
    services.set_status(credential, "revoke", reason="Issued in error")
    assert bulk.run_job(job.id).outcome == "done"
    row = item_of(job, pupil)
    assert row.state == "skipped" and "revoked" in row.message
    assert len(credentials_of(pupil)) == 1


@pytest.mark.parametrize(
    ("chosen", "message"),
    [([], "choose at least one student"), (["999999"], "not in this cohort")],
)
def test_a_choice_outside_the_cohort_or_empty_is_refused(school: Any, chosen, message):
    with pytest.raises(BulkError, match=message):
        start_cohort_endorsement(
            school.assessor, school.competency, COHORT, levels=[2, 3], students=chosen
        )


def test_a_student_of_another_cohort_cannot_be_slipped_in(school: Any):
    with pytest.raises(BulkError, match="not in this cohort"):
        start_cohort_endorsement(
            school.assessor,
            school.competency,
            COHORT,
            levels=[2, 3],
            students=[str(school.other_student.id)],
        )


# -- what the credentials say ----------------------------------------------------------------


def test_a_cohort_credential_without_evidence_never_claims_evidence_was_assessed(
    app: Flask, school: Any
):
    endorse_cohort(school)
    [credential] = credentials_of(school.pupils[1])
    document = json.loads(credential.document)
    comment = document["endorsement"][0]["credentialSubject"]["endorsementComment"]
    assert "assessed the evidence" not in comment
    assert f"cohort “{COHORT}”" in comment and "none was assessed" in comment
    [note] = document["evidence"]
    assert note["name"] == "Cohort endorsement" and "No individual evidence" in note["narrative"]
    assert app.extensions["credfolio"].verifier().verify(document).verified


def test_a_cohort_credential_lists_submitted_evidence_as_not_assessed_one_by_one(school: Any):
    pupil = school.pupils[2]
    item = evidence(pupil, "My song")
    assessment.create_submission(
        pupil, school.competency, evidence_ids=[item.public_id], submit=True
    )
    endorse_cohort(school)
    [credential] = credentials_of(pupil)
    document = json.loads(credential.document)
    comment = document["endorsement"][0]["credentialSubject"]["endorsementComment"]
    assert "“My song”" in comment and "not assessed one by one" in comment
    names = [entry.get("name") for entry in document["evidence"]]
    assert "My song" in names and "Cohort endorsement" in names


def test_a_one_by_one_review_says_which_evidence_was_assessed():
    how = HowAssessed("Asa", "Song writing", "“Rubric” (version 2)", ["My song"])
    assert endorsement_comment(how) == (
        "Asa assessed the evidence “My song” against the rubric “Rubric” (version 2) "
        "and endorses mastery of “Song writing”."
    )


def test_the_cohort_texts_name_the_cohort_and_the_judgement():
    how = HowAssessed("Asa", "Song writing", None, (), cohort="8A")
    comment = endorsement_comment(how)
    assert comment.startswith("Asa endorsed mastery of “Song writing” for students of the cohort")
    assert "against the rubric" not in comment and "none was assessed" in comment
    narrative = cohort_evidence_narrative(how, "6 December 2026")
    assert narrative.startswith("Cohort endorsement of “8A” on 6 December 2026: Asa")
