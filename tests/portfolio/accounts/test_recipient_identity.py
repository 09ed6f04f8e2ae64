"""Recipient privacy, stated truthfully (issue 15 §4): a school chooses how its credentials
name the student — a salted hash of the email (the default), the student's DID, or the name
only — and the student sees on her credential page what an outsider learns from it."""

from __future__ import annotations

import hashlib
import html
import json
import re
from typing import Any

import pytest

from portfolio.assessment import service as assessment
from portfolio.core.db import db
from tests.portfolio.school import PASSWORD, evidence, make_school

STUDENT_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture
def school(app: Any, issuer: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    return make_school(issuer)


def signed_in(app: Any, user: Any) -> Any:
    client = app.test_client()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in (302, 303)
    return client


def mastery_credential(school: Any) -> Any:
    item = evidence(school.student, "My song")
    submission = assessment.create_submission(
        school.student, school.competency, evidence_ids=[item.public_id], submit=True
    )
    outcome = assessment.assess(submission, school.assessor, decision="endorse", levels=[2, 2])
    return outcome.credential


def identifiers(row: Any) -> list[dict[str, Any]]:
    subject = json.loads(row.document)["credentialSubject"]
    return list(subject.get("identifier", []))


def test_the_default_hash_is_confirmed_by_one_guess_of_the_address(school: Any) -> None:
    """What the hash protects: the address is not written, but a guess is checked at once."""
    row = mastery_credential(school)
    hashed = next(i for i in identifiers(row) if i["identityType"] == "emailAddress")
    guess = school.student.email  # first name + last name at the school's domain
    digest = hashlib.sha256((guess + hashed["salt"]).encode()).hexdigest()
    assert hashed["identityHash"] == f"sha256${digest}"
    assert guess not in row.document


@pytest.mark.parametrize(
    ("choice", "kinds", "has_id"),
    [
        ("name", ["name"], False),
        ("did", ["name"], True),
        ("email", ["emailAddress", "name"], False),
    ],
)
def test_the_schools_choice_decides_how_the_next_credential_names_the_student(
    app: Any, school: Any, choice: str, kinds: list[str], has_id: bool
) -> None:
    from portfolio.accounts.models import LearnerProfile
    from portfolio.core.models import AuditEvent

    db.session.add(LearnerProfile(user_id=school.student.id, did=STUDENT_DID))
    db.session.commit()
    admin = signed_in(app, school.admin)
    chosen = admin.post("/admin/trust/recipient-identity", data={"recipient_identity": choice})
    assert chosen.status_code == 303
    row = mastery_credential(school)
    assert [i["identityType"] for i in identifiers(row)] == kinds
    subject = json.loads(row.document)["credentialSubject"]
    assert ("id" in subject) is has_id
    assert (school.student.email.split("@")[1] in row.document) is False
    event = db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "recipient_identity_changed")
    )
    assert event is not None and event.detail["to"] == choice


def test_an_unknown_choice_is_refused_with_the_form_again(app: Any, school: Any) -> None:
    admin = signed_in(app, school.admin)
    refused = admin.post("/admin/trust/recipient-identity", data={"recipient_identity": "phone"})
    assert refused.status_code == 422
    assert "Not a valid choice" in text_of(refused.text)


def test_the_student_sees_what_an_outsider_learns_from_her_credential(
    app: Any, school: Any
) -> None:
    row = mastery_credential(school)
    mine = text_of(signed_in(app, school.student).get(f"/c/{row.public_id}").text)
    assert "What anyone with this credential learns about you" in mine
    assert "A hash of your email address, with the salt next to it" in mine
    assert "anyone who guesses it" in mine
    assert f"Your name: {school.student.display_name}" in mine
    assert "Your evidence: My song" in mine
    # Nobody else is shown this section: not a visitor, not another student.
    for client in (app.test_client(), signed_in(app, school.other_student)):
        assert "learns about you" not in text_of(client.get(f"/c/{row.public_id}").text)


def test_with_name_only_the_student_is_told_there_is_no_address_to_confirm(
    app: Any, school: Any
) -> None:
    signed_in(app, school.admin).post(
        "/admin/trust/recipient-identity", data={"recipient_identity": "name"}
    )
    row = mastery_credential(school)
    mine = text_of(signed_in(app, school.student).get(f"/c/{row.public_id}").text)
    assert "A hash of your email address" not in mine
    assert f"Your name: {school.student.display_name}" in mine
