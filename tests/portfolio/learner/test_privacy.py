"""A student's privacy: they download all their data, and they delete their account — which
removes their evidence and personal data in one transaction while every credential issued to
them keeps verifying, with its status lists untouched."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import flask
import pytest
from flask import Flask
from sqlalchemy import LargeBinary, select
from werkzeug.datastructures import FileStorage

from portfolio.accounts import auth
from portfolio.accounts.models import Invitation, LearnerProfile, Notification, User
from portfolio.accounts.service import PHOTO_TYPES
from portfolio.assessment import service as assessment
from portfolio.assessment.models import Submission, SubmissionEvidence
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.evidence.models import Artefact, Evidence, EvidenceSnapshot, SnapshotArtefact
from portfolio.files import uploads, usage
from portfolio.files.models import Blob
from portfolio.files.storage import storage
from portfolio.issuing.models import IssuedCredential, StatusListRow
from portfolio.issuing.service import set_status
from portfolio.learner import privacy
from portfolio.portfolios.models import Portfolio, PortfolioItem, PortfolioSection
from tests.conftest import ASSETS
from tests.portfolio.accounts.test_auth import sign_in
from tests.portfolio.school import PASSWORD, School, evidence, make_school

PROFICIENT = [2, 2]


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@dataclass
class World:
    school: School
    song: Evidence
    shared: Evidence
    theirs: Evidence
    photo: str
    portfolio: Portfolio
    credential: IssuedCredential


@pytest.fixture
def world(issuer: Any) -> World:
    """Sam (a student) with evidence, a photo, a portfolio, an endorsed submission and its
    credential; Oli, another student, uploaded one of Sam's files too."""
    school = make_school(issuer)
    student = school.student
    song = evidence(student, "My song", text=b"words only Sam wrote")
    shared = evidence(student, "A story", text=b"a text two students uploaded", genre="Story")
    theirs = evidence(school.other_student, "Oli's story", text=b"a text two students uploaded")
    drawing = FileStorage(
        io.BytesIO((ASSETS / "uploads" / "drawing.png").read_bytes()),
        filename="me.png",
        content_type="image/png",
    )
    photo = uploads.store_blob(drawing, owner=student, allowed=PHOTO_TYPES).sha256
    db.session.add(
        LearnerProfile(user_id=student.id, bio="I write songs.", photo_sha256=photo, pronouns="he")
    )
    portfolio = Portfolio(owner_id=student.id, title="Songs", visibility="public")
    portfolio.sections.append(PortfolioSection(title="Best", position=0))
    db.session.add(portfolio)
    db.session.flush()
    portfolio.sections[0].items.append(PortfolioItem(evidence_id=song.id, position=0))
    db.session.commit()
    submission = assessment.create_submission(
        student,
        school.competency,
        evidence_ids=[song.public_id, shared.public_id],
        note="Listen to the bridge.",
        submit=True,
    )
    outcome = assessment.assess(
        submission,
        school.assessor,
        decision="endorse",
        levels=PROFICIENT,
        criterion_feedback=["A haunting melody", "Thoughtful"],
        feedback="Well done.",
    )
    assert outcome.credential is not None
    return World(school, song, shared, theirs, photo, portfolio, outcome.credential)


def signed_in(app: Flask, user: User) -> Any:
    """A test client with a session for ``user``, opened by ``auth.sign_in`` itself (the form
    and its deliberately slow password check are tested in test_auth.py)."""
    client = app.test_client()
    with app.test_request_context():
        auth.sign_in(user)
        state = dict(flask.session)
        flask.g.pop("credfolio_user", None)
    with client.session_transaction() as session:
        session.update(state)
    return client


def file_sha(item: Evidence) -> str:
    [sha] = [a.blob_sha256 for a in item.artefacts if a.blob_sha256]
    return sha


def verify(app: Flask, row: IssuedCredential) -> Any:
    return app.extensions["credfolio"].verifier().verify(json.loads(row.document))


def text_in_database(needle: str) -> list[str]:
    """Every ``table.column`` whose value anywhere contains ``needle`` (case-insensitive)."""
    needle = needle.lower()
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if not isinstance(c.type, LargeBinary)]
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                text = json.dumps(value) if isinstance(value, dict | list) else str(value)
                if needle in text.lower():
                    found.append(f"{table.name}.{column.name}")
    return found


# -- exporting -------------------------------------------------------------------------------


def test_a_student_downloads_all_their_data_as_one_zip(app, world):
    student = signed_in(app, world.school.student)
    response = student.get("/profile/export")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = set(archive.namelist())
    assert {"README.txt", "data.json", f"credentials/{world.credential.public_id}.json"} <= names

    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == "sam.student@school.test"
    assert data["profile"]["bio"] == "I write songs."
    assert data["profile"]["photo"] == f"files/{world.photo}"
    assert [e["title"] for e in data["evidence"]] == ["My song", "A story"]
    song_file = next(a for a in data["evidence"][0]["artefacts"] if a["kind"] == "file")
    assert song_file["originalFilename"] == "lyrics.txt" and song_file["mediaType"]
    assert [a["url"] for a in data["evidence"][0]["artefacts"] if a["kind"] == "link"] == [
        "https://video.example/watch?v=1"
    ]
    assert data["portfolios"][0]["sections"] == [
        {"title": "Best", "evidence": [world.song.public_id]}
    ]
    [submission] = data["submissions"]
    assert submission["note"] == "Listen to the bridge."
    assert [e["to"] for e in submission["events"]][-1] == "endorsed"
    [judgement] = submission["assessments"]
    assert judgement["feedback"] == "Well done."
    assert judgement["criteria"][0] == {
        "criterion": "Melody",
        "level": "Proficient",
        "feedback": "A haunting melody",
    }
    assert any("mastered" in n["message"] for n in data["notifications"])
    assert data["credentials"][0]["id"] == world.credential.public_id

    # Files by their SHA-256, each once; the credential exactly as it was signed.
    for sha in (file_sha(world.song), file_sha(world.shared), world.photo):
        assert hashlib.sha256(archive.read(f"files/{sha}")).hexdigest() == sha
    signed = archive.read(f"credentials/{world.credential.public_id}.json").decode()
    assert signed == world.credential.document
    assert "data.json" in archive.read("README.txt").decode()
    # Nothing of another student's.
    assert "Oli" not in json.dumps(data)
    [exported] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "data_exported")
    ).all()
    assert exported.actor_id == world.school.student.id


def test_export_and_deletion_are_for_students_signed_in(app, world):
    anonymous = app.test_client()
    assert anonymous.get("/profile/export").status_code == 302
    assert anonymous.post("/profile/delete", data={"password": PASSWORD}).status_code == 401
    assessor = signed_in(app, world.school.assessor)
    assert assessor.get("/profile/export").status_code == 403
    assert assessor.get("/profile/delete").status_code == 403
    assert "/profile/delete" not in assessor.get("/profile").get_data(as_text=True)
    student_profile = signed_in(app, world.school.student).get("/profile").get_data(as_text=True)
    assert 'href="/profile/export"' in student_profile
    assert 'href="/profile/delete"' in student_profile


# -- deleting --------------------------------------------------------------------------------


def test_the_deletion_page_says_what_goes_and_what_stays_and_needs_the_password(app, world):
    student = signed_in(app, world.school.student)
    page = student.get("/profile/delete").get_data(as_text=True)
    assert "cannot be undone" in page and "What is kept" in page
    assert '<label for="password">' in page
    wrong = student.post("/profile/delete", data={"password": "not my password at all"})
    assert wrong.status_code == 422
    assert "This is not your password." in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, world.school.student.id).deleted_at is None
    assert db.session.get(Evidence, world.song.id) is not None


def test_the_deletion_form_needs_its_csrf_token(app, world):
    student = signed_in(app, world.school.student)
    app.config["WTF_CSRF_ENABLED"] = True
    assert student.post("/profile/delete", data={"password": PASSWORD}).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, world.school.student.id).deleted_at is None


def test_the_export_holds_the_evidence_frozen_in_each_credential_and_its_files(app, world):
    frozen_file = file_sha(world.song)
    world.song.narrative = "Rewritten after the credential"
    db.session.commit()
    student = signed_in(app, world.school.student)
    deleted = student.post(f"/evidence/{world.song.public_id}/delete", data={"confirm": "yes"})
    assert deleted.status_code == 303

    exported = student.get("/profile/export")
    assert exported.status_code == 200, exported.get_data(as_text=True)[:2000]
    archive = zipfile.ZipFile(io.BytesIO(exported.get_data()))
    data = json.loads(archive.read("data.json"))
    (credential,) = data["credentials"]
    frozen = {item["title"]: item for item in credential["frozenEvidence"]}
    assert set(frozen) == {"My song", "A story"}
    assert frozen["My song"]["narrative"] == "How I made *My song*."
    shas = [a["sha256"] for a in frozen["My song"]["artefacts"] if a["sha256"]]
    assert shas == [frozen_file]
    assert hashlib.sha256(archive.read(f"files/{frozen_file}")).hexdigest() == frozen_file


def test_deleting_the_account_removes_the_evidence_and_personal_data(app, world):
    student_id = world.school.student.id
    email = world.school.student.email
    frozen_file, shared_file = file_sha(world.song), file_sha(world.shared)
    never_submitted = evidence(world.school.student, "Draft", text=b"a draft nobody assessed")
    own_file = file_sha(never_submitted)
    version = world.school.student.session_version
    # The address also sits in the invitation Sam joined with and in an audit event.
    db.session.add_all(
        [
            Invitation(
                token_sha256="0" * 64,
                email=email,
                display_name="Sam Student",
                role="student",
                issuer_id=world.school.issuer.id,
                expires_at=datetime.now(UTC),
            ),
            AuditEvent(action="sign_in_failed", actor_label=email, detail={"typed": email.upper()}),
        ]
    )
    db.session.commit()
    client = signed_in(app, world.school.student)

    response = client.post("/profile/delete", data={"password": PASSWORD})
    assert response.status_code == 303
    db.session.expire_all()

    user = db.session.get(User, student_id)
    assert user.email == f"deleted-{student_id}@deleted.invalid"
    assert (user.display_name, user.cohort) == ("Deleted account", None)
    assert user.deleted_at is not None and not user.is_active
    assert user.session_version > version
    assert not privacy.password_matches(user, PASSWORD)
    for model, column in (
        (Evidence, Evidence.owner_id),
        (Portfolio, Portfolio.owner_id),
        (Notification, Notification.user_id),
        (LearnerProfile, LearnerProfile.user_id),
    ):
        assert db.session.scalars(select(model).where(column == student_id)).all() == [], model
    assert db.session.scalars(select(PortfolioSection)).all() == []
    assert db.session.scalars(select(SubmissionEvidence)).all() == []
    [submission] = db.session.scalars(select(Submission)).all()
    assert submission.student_id == student_id and submission.note == ""
    # Files: Sam's own are gone from the database and the storage; Oli's copy stays, and so
    # does the file frozen in Sam's credential, which still stands.
    for sha in (own_file, world.photo):
        assert db.session.get(Blob, sha) is None and not storage().exists(sha)
    for sha in (shared_file, frozen_file):
        assert db.session.get(Blob, sha) is not None and storage().exists(sha)
    assert db.session.get(Evidence, world.theirs.id) is not None
    # The audit log keeps the account's events by id; the address is nowhere any more.
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == student_id)
    ).all()
    assert "account_deleted" in actions
    assert text_in_database(email) == []
    assert text_in_database("Sam Student") == [
        "issued_credentials.document",  # the name printed on the signed credential
        "issued_credentials.recipient_name",
    ]
    # Signed out, and the old address and password no longer open anything.
    assert "Sign out" not in client.get("/").get_data(as_text=True)
    assert sign_in(app.test_client(), email, PASSWORD).status_code != 303


def test_credentials_of_a_deleted_student_still_verify_and_their_status_lists_are_untouched(
    app, world
):
    credentials = db.session.scalars(
        select(IssuedCredential).where(
            IssuedCredential.recipient_user_id == world.school.student.id
        )
    ).all()
    before = {row.id: row.document for row in credentials}
    lists = {
        row.id: (row.bits, row.credential) for row in db.session.scalars(select(StatusListRow))
    }

    privacy.delete_account(world.school.student)
    db.session.expire_all()

    for row in db.session.scalars(select(IssuedCredential)):
        assert row.document == before[row.id]
        assert row.recipient_user_id == world.school.student.id
        result = verify(app, row)
        assert result.verified, result.errors
    after = {
        row.id: (row.bits, row.credential) for row in db.session.scalars(select(StatusListRow))
    }
    assert after == lists


def _frozen_pages(credential: IssuedCredential) -> tuple[str, str]:
    """The credential's first evidence page and first file, as paths."""
    document = json.loads(credential.document)
    pages = [e["id"] for e in document["evidence"] if "/evidence/" in e["id"]]
    page = next(p for p in pages if "/artefacts/" not in p)
    file = next(p for p in pages if "/artefacts/" in p)
    return urlsplit(page).path, urlsplit(file).path


def test_evidence_frozen_in_a_standing_credential_is_withdrawn_not_deleted_with_the_account(
    app, world
):
    visitor = app.test_client()
    page, file_page = _frozen_pages(world.credential)
    assert visitor.get(page).status_code == 200
    assert visitor.get(file_page).status_code == 200
    document = json.loads(world.credential.document)
    digests = [e["digestSRI"] for e in document["evidence"] if "digestSRI" in e]

    privacy.delete_account(world.school.student)
    db.session.expire_all()

    shown = visitor.get(page)
    assert shown.status_code == 410
    assert "Evidence withdrawn by the learner" in shown.get_data(as_text=True)
    assert visitor.get(file_page).status_code == 410
    assert len(db.session.scalars(select(EvidenceSnapshot)).all()) == 2
    row = db.session.get(IssuedCredential, world.credential.id)
    assert [e["digestSRI"] for e in json.loads(row.document)["evidence"] if "digestSRI" in e] == (
        digests
    )
    assert verify(app, row).verified
    credential_page = visitor.get(f"/c/{world.credential.public_id}")
    assert credential_page.status_code == 200
    assert "Evidence withdrawn by the learner on" in credential_page.get_data(as_text=True)


def test_evidence_frozen_in_a_revoked_credential_is_deleted_with_the_account(app, world):
    frozen_file = file_sha(world.song)
    set_status(world.credential, "revoke", reason="awarded in error")

    privacy.delete_account(world.school.student)
    db.session.expire_all()

    assert db.session.scalars(select(EvidenceSnapshot)).all() == []
    assert db.session.scalars(select(SnapshotArtefact)).all() == []
    assert db.session.get(Blob, frozen_file) is None and not storage().exists(frozen_file)


def test_an_issued_credential_names_the_student_by_a_salted_hash_never_their_address(app, world):
    document = json.loads(world.credential.document)
    assert world.school.student.email not in world.credential.document.lower()
    [hashed] = [i for i in document["credentialSubject"]["identifier"] if i["hashed"]]
    salt = hashed["salt"]
    expected = "sha256$" + hashlib.sha256((world.school.student.email + salt).encode()).hexdigest()
    assert (hashed["identityType"], hashed["identityHash"]) == ("emailAddress", expected)
    assert len(salt) >= 16


def test_a_failure_during_deletion_changes_nothing(app, world, monkeypatch):
    def broken(_sha: str) -> bool:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(usage, "in_use", broken)
    with pytest.raises(RuntimeError):
        privacy.delete_account(world.school.student)
    db.session.expire_all()
    user = db.session.get(User, world.school.student.id)
    assert (user.email, user.deleted_at) == ("sam.student@school.test", None)
    assert db.session.get(Evidence, world.song.id) is not None
    assert db.session.get(Artefact, world.song.artefacts[0].id) is not None
    assert db.session.get(LearnerProfile, user.id) is not None
    assert storage().exists(file_sha(world.song)) and storage().exists(world.photo)
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "account_deleted")).all()
        == []
    )
