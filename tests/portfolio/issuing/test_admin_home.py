"""The administrators' home (``admin.home``, ``/admin/``): the issuer's counts, its signing key,
its recent activity in words and shortcuts — counted in a fixed number of queries, for the
issuer's administrators only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from portfolio.accounts.issuers import default_issuer, ensure_issuer
from portfolio.assessment.models import Submission, SubmissionState
from portfolio.bulk.models import BulkJob, JobState
from portfolio.core import audit
from portfolio.core.db import db
from portfolio.issuing import admin_home
from portfolio.issuing import service as services
from tests.conftest import offer_suspension, unsigned_badge
from tests.portfolio.accounts.test_auth import sign_in
from tests.portfolio.school import evidence, make_school, person

OTHER_DID = "did:web:other-school.example"


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@contextmanager
def counting_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _issue(issuer: Any, name: str = "Song writing") -> Any:
    badge = unsigned_badge()
    badge["credentialSubject"]["achievement"]["name"] = name
    return services.issue(badge, issuer=issuer, recipient_name="Sam Student")


def build(app: Flask, *, students: int = 2, credentials: int = 3, key: bool = True) -> None:
    """A school with ``students`` extra students, their evidence and submissions, and
    ``credentials`` credentials (one revoked, one suspended); another school with work of its
    own that must not be counted."""
    with app.app_context():
        issuer = offer_suspension(default_issuer())
        if key:
            app.extensions["credfolio"].key_store.create(issuer.did)
        school = make_school(issuer)
        for number in range(students):
            student = person(issuer, "student", f"Extra Student {number}")
            evidence(student, f"Song {number}")
            db.session.add(
                Submission(
                    student_id=student.id,
                    competency_id=school.competency.id,
                    state=SubmissionState.SUBMITTED,
                )
            )
        db.session.add(
            Submission(
                student_id=school.student.id,
                competency_id=school.competency.id,
                state=SubmissionState.DRAFT,
            )
        )
        db.session.add(
            BulkJob(
                kind="cohort_endorse",
                issuer_id=issuer.id,
                title="7B",
                request_key="k",
                state=JobState.RUNNING,
            )
        )
        db.session.add(
            BulkJob(
                kind="cohort_endorse",
                issuer_id=issuer.id,
                title="7C",
                request_key="l",
                state=JobState.DONE,
            )
        )
        db.session.commit()
        if key:
            rows = [_issue(issuer) for _ in range(credentials)]
            if credentials >= 2:
                services.set_status(rows[0], "revoke", reason="Awarded in error")
                services.set_status(rows[1], "suspend", reason="Under review")
        audit.record("role_changed", actor=school.admin, issuer_id=issuer.id, target="user:42")
        db.session.commit()
        other = ensure_issuer(did=OTHER_DID, name="Other School", slug="other")
        app.extensions["credfolio"].key_store.create(other.did)
        outsider = person(other, "student", "Out Sider")
        evidence(outsider, "Not ours")
        audit.record("role_changed", actor=outsider, issuer_id=other.id, target="user:99")
        _issue(other)
        db.session.commit()


def stat(page: str, label: str) -> int:
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>(?:<a [^>]*>)?([\d,]+)", page)
    assert match, f"no stat {label!r}"
    return int(match.group(1).replace(",", ""))


def signed_in_admin(client: Any) -> Any:
    assert sign_in(client, "ada.admin@school.test").status_code == 303
    return client


def test_the_home_counts_the_issuers_people_work_and_credentials(app, client):
    build(app)
    page = signed_in_admin(client).get("/admin/").get_data(as_text=True)
    assert stat(page, "Students") == 4  # Sam, Oli and two more; the other school's is not ours
    assert stat(page, "Assessors") == 2
    assert stat(page, "Evidence items") == 2
    assert stat(page, "Submissions waiting") == 2  # the draft is not waiting
    assert stat(page, "Credentials issued") == 3
    assert stat(page, "Credentials revoked") == 1
    assert stat(page, "Credentials suspended") == 1
    assert stat(page, "Jobs running") == 1
    assert "No signing key" not in page
    assert "Signing key active" in page


def test_the_home_shows_recent_activity_in_words(app, client):
    build(app)
    page = signed_in_admin(client).get("/admin/").get_data(as_text=True)
    activity = page.split('id="activity-heading"')[1]
    assert "Role changed" in activity
    assert "Credential revoked" in activity
    assert "Ada Admin" in activity
    assert "role_changed" not in activity  # the stored name is not shown
    assert "user:99" not in activity  # the other school's events stay theirs
    assert activity.split("</ol>")[0].count("<li>") <= admin_home.RECENT  # ten events at most


def test_the_home_warns_when_the_issuer_cannot_sign(app, client):
    build(app, key=False)
    page = signed_in_admin(client).get("/admin/").get_data(as_text=True)
    assert "No signing key" in page
    assert stat(page, "Credentials issued") == 0


def test_the_home_reads_a_fixed_number_of_queries(app, client):
    build(app, students=1, credentials=2)
    signed_in_admin_client = signed_in_admin(client)
    with app.app_context():
        admin = db.session.scalars(
            db.select(admin_home.User).where(admin_home.User.email == "ada.admin@school.test")
        ).one()
        with counting_queries() as small:
            admin_home.home(admin, admin.issuer_id)
    with app.app_context():
        issuer = default_issuer()
        for number in range(5):
            student = person(issuer, "student", f"Later Student {number}")
            evidence(student, f"Later song {number}")
            _issue(issuer)
            audit.record("sign_in", actor=student, issuer_id=issuer.id)
        db.session.commit()
        admin = db.session.scalars(
            db.select(admin_home.User).where(admin_home.User.email == "ada.admin@school.test")
        ).one()
        with counting_queries() as large:
            admin_home.home(admin, admin.issuer_id)
    assert len(small) == len(large) <= 5
    assert signed_in_admin_client.get("/admin/").status_code == 200


@pytest.mark.parametrize("role", ["student", "assessor"])
def test_only_administrators_see_the_home(app, client, role):
    build(app, students=0, credentials=0)
    email = {"student": "sam.student@school.test", "assessor": "asa.assessor@school.test"}[role]
    assert sign_in(client, email).status_code == 303
    assert client.get("/admin/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_the_credentials_list_stays_where_it_was(app, client):
    build(app, students=0, credentials=1)
    assert signed_in_admin(client).get("/admin/credentials").status_code == 200
