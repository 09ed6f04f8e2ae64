"""The student's side of guardian access (issue 17 §3): she ticks "Share with my guardians" on
a portfolio's page (whatever its visibility), and sees who her guardians are."""

from __future__ import annotations

from typing import Any

import flask
import pytest
from flask import Flask

from portfolio.accounts import auth
from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.guardians.models import GuardianLink
from portfolio.portfolios.models import Portfolio
from tests.portfolio.school import School, make_school, person


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def school(issuer: Any) -> School:
    return make_school(issuer)


def signed_in(app: Flask, user: User) -> Any:
    client = app.test_client()
    with app.test_request_context():
        auth.sign_in(user)
        state = dict(flask.session)
        flask.g.pop("credfolio_user", None)
    with client.session_transaction() as session:
        session.update(state)
    return client


def text_of(response: Any) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_the_owner_shares_a_private_portfolio_with_her_guardians_and_stops(app, school):
    guardian = person(school.issuer, "guardian", "Gus Guardian")
    db.session.add(GuardianLink(guardian_id=guardian.id, student_id=school.student.id))
    row = Portfolio(owner_id=school.student.id, title="For my family")
    db.session.add(row)
    db.session.commit()
    client = signed_in(app, school.student)

    page = text_of(client.get(f"/portfolios/{row.public_id}/edit"))
    assert "Share with my guardians" in page and "Gus Guardian can read it" in page

    response = client.post(
        f"/portfolios/{row.public_id}/guardians", data={"shared_with_guardians": "1"}
    )
    assert response.status_code == 303
    db.session.refresh(row)
    assert row.shared_with_guardians and row.visibility == "private"
    assert "Shared with your guardians" in text_of(client.get("/home"))

    client.post(f"/portfolios/{row.public_id}/guardians", data={})
    db.session.refresh(row)
    assert not row.shared_with_guardians


def test_nobody_else_changes_whether_a_portfolio_is_shared_with_guardians(app, school):
    row = Portfolio(owner_id=school.student.id, title="For my family")
    db.session.add(row)
    db.session.commit()
    url = f"/portfolios/{row.public_id}/guardians"
    assert (
        signed_in(app, school.other_student)
        .post(url, data={"shared_with_guardians": "1"})
        .status_code
        == 404
    )
    assert (
        signed_in(app, school.admin).post(url, data={"shared_with_guardians": "1"}).status_code
        == 403
    )
    db.session.refresh(row)
    assert not row.shared_with_guardians


def test_the_student_sees_who_her_guardians_are_on_her_home(app, school):
    for name in ("Grace Okafor", "Femi Okafor"):
        guardian = person(school.issuer, "guardian", name)
        db.session.add(GuardianLink(guardian_id=guardian.id, student_id=school.student.id))
    db.session.commit()
    page = text_of(signed_in(app, school.student).get("/home"))
    assert "Femi Okafor, Grace Okafor are linked to your account as your guardians" in page
    assert "Your guardians" not in text_of(signed_in(app, school.other_student).get("/home"))
