"""The student's home (/home), the credential share panels (LinkedIn only for live
credentials, the QR code route), the evidence gallery's frozen mark, and feedback rendered as
Markdown on the submission page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import flask
import pytest
from flask import Flask
from sqlalchemy import event
from werkzeug.datastructures import FileStorage

from portfolio.accounts import auth
from portfolio.accounts.models import User
from portfolio.assessment import service as assessment
from portfolio.core.db import db
from portfolio.issuing.models import IssuedCredential
from portfolio.issuing.service import set_status
from portfolio.learner.share import LIVE, linkedin_url, qr_svg, share_state
from tests.portfolio.school import School, competency, evidence, make_school


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


def signed_in(app: Flask, user: User) -> Any:
    client = app.test_client()
    with app.test_request_context():
        auth.sign_in(user)
        state = dict(flask.session)
        flask.g.pop("credfolio_user", None)
    with client.session_transaction() as session:
        session.update(state)
    return client


@contextmanager
def queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def earn(school: School, name: str) -> IssuedCredential:
    """A credential for a new competency ``name``, earned by the school's student."""
    row = competency(school.issuer, name)
    work = evidence(school.student, f"Work for {name}")
    submission = assessment.create_submission(
        school.student, row, evidence_ids=[work.public_id], submit=True
    )
    outcome = assessment.assess(submission, school.assessor, decision="endorse", levels=[2, 2])
    assert outcome.credential is not None
    return outcome.credential


@pytest.fixture
def school(issuer: Any) -> School:
    return make_school(issuer)


def text_of(response: Any) -> str:
    return " ".join(response.get_data(as_text=True).split())


# -- the home --------------------------------------------------------------------------------


def test_home_is_for_students_only(app, school):
    assert app.test_client().get("/home").status_code == 302
    for user in (school.assessor, school.admin):
        assert signed_in(app, user).get("/home").status_code == 403


def test_an_empty_home_says_what_to_do_first(app, school):
    page = text_of(signed_in(app, school.student).get("/home"))
    assert "Add your first evidence" in page
    assert "No credentials yet" in page
    assert "No portfolios yet" in page


def test_home_shows_what_to_do_next_evidence_credentials_and_portfolios(app, school):
    earn(school, "Singing")
    song = evidence(school.student, "Draft song")
    submission = assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id], submit=True
    )
    assessment.assess(
        submission,
        school.assessor,
        decision="revise",
        levels=[1, 1],
        feedback="Work on the **chorus**.",
    )
    page = text_of(signed_in(app, school.student).get("/home"))
    assert "Revise “Song writing”" in page
    assert "<strong>chorus</strong>" in page and "**chorus**" not in page
    assert "Draft song" in page and "Work for Singing" in page
    assert "Singing" in page and "Add to LinkedIn" in page
    assert "/qr.svg" in page


def test_home_runs_a_fixed_number_of_queries(app, school):
    client = signed_in(app, school.student)
    earn(school, "Singing")
    client.get("/home")  # warm up (first-request work)
    db.session.expire_all()
    with queries() as few:
        assert client.get("/home").status_code == 200
    for name in ("Dancing", "Drawing", "Drumming"):
        earn(school, name)
    evidence(school.student, "One more")
    db.session.expire_all()
    with queries() as many:
        assert client.get("/home").status_code == 200
    assert len(many) == len(few)


# -- sharing ---------------------------------------------------------------------------------


def test_linkedin_is_offered_only_for_live_credentials(app, school):
    live = earn(school, "Singing")
    revoked = earn(school, "Dancing")
    suspended = earn(school, "Drawing")
    set_status(revoked, "revoke", reason="Issued in error")
    set_status(suspended, "suspend", reason="Under review")
    client = signed_in(app, school.student)
    for path in ("/home", "/my/credentials"):
        page = client.get(path).get_data(as_text=True)
        assert page.count("linkedin.com/profile/add") == 1
        assert f"certId={live.public_id}" in page
        assert f"certId={revoked.public_id}" not in page
        assert f"certId={suspended.public_id}" not in page
        assert "Issued in error" in page and "Under review" in page
        assert "Revoked" in page and "Suspended" in page


def test_an_expired_credential_is_not_live(app, school):
    from datetime import UTC, datetime, timedelta

    row = earn(school, "Singing")
    assert share_state(row) == LIVE
    row.valid_until = datetime.now(UTC) - timedelta(days=1)
    assert share_state(row) == "expired"


def test_the_linkedin_link_names_the_credential_issuer_date_and_url(app, school):
    row = earn(school, "Singing")
    with app.test_request_context():
        url = linkedin_url(row, "Northside School")
    assert url.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME")
    assert "name=Singing" in url and "organizationName=Northside+School" in url
    assert f"issueYear={row.issued_at.year}" in url
    assert f"%2Fc%2F{row.public_id}" in url


def test_the_qr_code_is_an_svg_of_the_public_link(app, school):
    row = earn(school, "Singing")
    response = signed_in(app, school.student).get(f"/my/credentials/{row.public_id}/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert "max-age" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data()
    assert b"<svg" in body
    with app.test_request_context():
        from portfolio.learner.share import public_page_url

        url = public_page_url(row)
    assert url.endswith(f"/c/{row.public_id}")
    assert body == qr_svg(url)  # the same code segno makes for the public URL
    assert url.encode() in body  # its title names the URL it encodes
    other = signed_in(app, school.other_student)
    assert other.get(f"/my/credentials/{row.public_id}/qr.svg").status_code == 404


def test_the_embed_snippet_escapes_the_name(app, school):
    earn(school, 'Singing <b>"loud"</b>')
    page = signed_in(app, school.student).get("/my/credentials").get_data(as_text=True)
    assert "<b>" not in page.split("<textarea", 1)[1].split("</textarea>", 1)[0]


# -- the gallery -----------------------------------------------------------------------------


def test_the_gallery_marks_evidence_frozen_in_a_credential(app, school):
    earn(school, "Singing")
    evidence(school.student, "Loose sketch", genre="")
    page = text_of(signed_in(app, school.student).get("/evidence"))
    # once in the note above the cards, once on the one card frozen in a credential
    assert page.count("Used in a credential — frozen") == 2
    assert "Work for Singing" in page and "Loose sketch" in page
    assert "Song" in page  # the type pill


def test_the_gallery_sorts_by_title(app, school):
    evidence(school.student, "Zebra")
    evidence(school.student, "Apple")
    page = signed_in(app, school.student).get("/evidence?sort=title").get_data(as_text=True)
    assert page.index("Apple") < page.index("Zebra")


def test_an_upload_by_script_gets_the_page_to_go_to(app, school):
    song = evidence(school.student, "Song")
    client = signed_in(app, school.student)
    response = client.post(
        f"/evidence/{song.public_id}/artefacts/file",
        data={
            "file": FileStorage(io.BytesIO(b"verse"), filename="v.txt", content_type="text/plain"),
            "file_title": "Verse",
        },
        headers={"X-Requested-With": "XMLHttpRequest"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.get_json() == {"location": f"/evidence/{song.public_id}"}
    assert "Added “Verse”." in client.get(f"/evidence/{song.public_id}").get_data(as_text=True)


# -- feedback --------------------------------------------------------------------------------


def test_feedback_is_rendered_as_markdown(app, school):
    song = evidence(school.student, "Song")
    submission = assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id], submit=True
    )
    assessment.assess(
        submission,
        school.assessor,
        decision="revise",
        levels=[1, 1],
        criterion_feedback=["Find a **hook**.", "More *rhythm*."],
        feedback="Lovely **why**, now the how.",
    )
    page = signed_in(app, school.student).get(f"/submissions/{submission.public_id}")
    html = page.get_data(as_text=True)
    assert "<strong>why</strong>" in html and "<strong>hook</strong>" in html
    assert "<em>rhythm</em>" in html
    assert "**" not in html
