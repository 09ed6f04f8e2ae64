"""The evidence behind a credential is frozen when it is issued (issue 15 §1).

A credential's evidence URLs name a snapshot of what was assessed — the narrative as it was and
each file by SHA-256 — never the live evidence: later edits, added or removed files and deleting
the evidence change nothing a verifier sees.  While the credential stands the learner cannot
delete the snapshot; they can withdraw it from public view (the credential still verifies).  A
revoked credential's evidence pages say so and stop serving files.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import flask
import pytest
from flask import Flask
from sqlalchemy import delete, select
from werkzeug.datastructures import FileStorage

from portfolio.accounts import auth
from portfolio.accounts.models import User
from portfolio.assessment import service as assessment
from portfolio.assessment.models import Submission, SubmissionEvidence
from portfolio.core.db import db
from portfolio.evidence import service as evidence_service
from portfolio.evidence.models import Evidence, EvidenceSnapshot, SnapshotArtefact
from portfolio.evidence.snapshots import SnapshotFrozenError
from portfolio.files import uploads
from portfolio.issuing.models import IssuedCredential
from portfolio.issuing.service import set_status
from tests.portfolio.school import School, evidence, make_school


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@dataclass
class Issued:
    school: School
    song: Evidence
    credential: IssuedCredential

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.credential.document)

    def pages(self) -> list[str]:
        """Paths of the credential's evidence pages."""
        return [
            urlsplit(e["id"]).path
            for e in self.document["evidence"]
            if "/evidence/" in e["id"] and "/artefacts/" not in e["id"]
        ]

    def files(self) -> dict[str, str]:
        """Paths of the credential's files → the ``digestSRI`` it carries for each."""
        return {
            urlsplit(e["id"]).path: e["digestSRI"]
            for e in self.document["evidence"]
            if "digestSRI" in e
        }


@pytest.fixture
def issued(issuer: Any) -> Issued:
    """Sam's song, submitted and endorsed: its credential."""
    school = make_school(issuer)
    song = evidence(school.student, "My song", text=b"the words as they were assessed")
    submission = assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id], submit=True
    )
    outcome = assessment.assess(submission, school.assessor, decision="endorse", levels=[2, 2])
    assert outcome.credential is not None
    return Issued(school, song, outcome.credential)


def signed_in(app: Flask, user: User) -> Any:
    client = app.test_client()
    with app.test_request_context():
        auth.sign_in(user)
        state = dict(flask.session)
        flask.g.pop("credfolio_user", None)
    with client.session_transaction() as session:
        session.update(state)
    return client


def sri(data: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def upload(text: bytes, name: str = "later.txt") -> FileStorage:
    return FileStorage(io.BytesIO(text), filename=name, content_type="text/plain")


def verified(app: Flask, credential: IssuedCredential) -> bool:
    verifier = app.extensions["credfolio"].verifier()
    return bool(verifier.verify(json.loads(credential.document)).verified)


# -- what the credential names ---------------------------------------------------------------


def test_the_credential_names_a_snapshot_never_the_live_evidence(app, issued):
    visitor = app.test_client()
    (page,) = issued.pages()
    assert issued.song.public_id not in page
    assert visitor.get(page).status_code == 200
    live = f"/c/{issued.credential.public_id}/evidence/{issued.song.public_id}"
    assert visitor.get(live).status_code == 404
    for path, digest in issued.files().items():
        served = visitor.get(path)
        assert served.status_code == 200
        assert sri(served.get_data()) == digest


def test_the_learner_is_told_that_their_evidence_is_frozen_in_a_credential(app, issued):
    page = signed_in(app, issued.school.student).get(f"/evidence/{issued.song.public_id}")
    text = " ".join(page.get_data(as_text=True).split())
    assert "Frozen in 1 credential" in text and "Song writing" in text
    assert "Your changes here make a new version that the credential never shows" in text


def test_later_edits_make_a_new_version_the_credential_never_shows(app, issued):
    visitor = app.test_client()
    (page,) = issued.pages()
    before = visitor.get(page).get_data(as_text=True)
    assert "How I made <em>My song</em>." in before

    evidence_service.update_evidence(
        issued.song,
        {
            "title": "My song, rewritten",
            "narrative": "A story I *wrote afterwards*.",
            "genre": "Song",
            "competencies": [],
        },
    )
    for artefact in list(issued.song.artefacts):
        evidence_service.remove_artefact(issued.song, artefact)

    after = visitor.get(page).get_data(as_text=True)
    assert "How I made <em>My song</em>." in after
    assert "wrote afterwards" not in after and "rewritten" not in after
    for path, digest in issued.files().items():
        assert sri(visitor.get(path).get_data()) == digest


def test_a_file_added_after_issuance_is_never_served_through_the_credential(app, issued):
    """The issue's attack: ``/c/<id>/evidence/<e>/artefacts/<new>`` served a file no digest in
    the credential covers."""
    visitor = app.test_client()
    added = evidence_service.add_file(
        issued.song,
        upload(b"added after the credential was issued"),
        title="Added afterwards",
        alt_text=None,
        captions_vtt=None,
        transcript=None,
    )
    (page,) = issued.pages()
    for evidence_id in (page.rsplit("/", 1)[1], issued.song.public_id):
        base = f"/c/{issued.credential.public_id}/evidence/{evidence_id}"
        assert visitor.get(f"{base}/artefacts/{added.public_id}").status_code == 404
    assert "Added afterwards" not in visitor.get(page).get_data(as_text=True)


def test_deleting_the_evidence_asks_first_naming_the_credential_and_keeps_the_snapshot(app, issued):
    student = signed_in(app, issued.school.student)
    confirm = student.get(f"/evidence/{issued.song.public_id}/delete").get_data(as_text=True)
    assert "1 credential links to this evidence" in confirm
    assert "Song writing" in confirm

    one_click = student.post(f"/evidence/{issued.song.public_id}/delete")
    assert one_click.status_code == 422
    assert db.session.get(Evidence, issued.song.id) is not None

    confirmed = student.post(f"/evidence/{issued.song.public_id}/delete", data={"confirm": "yes"})
    assert confirmed.status_code == 303
    db.session.expire_all()
    assert db.session.get(Evidence, issued.song.id) is None
    # The submission no longer lists it (no dangling row: PostgreSQL would refuse the delete).
    links = select(SubmissionEvidence).where(SubmissionEvidence.evidence_id == issued.song.id)
    assert db.session.scalars(links).all() == []
    submission = db.session.scalar(
        select(Submission).where(Submission.credential_id == issued.credential.id)
    )
    assert student.get(f"/submissions/{submission.public_id}").status_code == 200

    visitor = app.test_client()
    (page,) = issued.pages()
    shown = visitor.get(page)
    assert shown.status_code == 200
    assert "How I made <em>My song</em>." in shown.get_data(as_text=True)
    for path, digest in issued.files().items():
        assert sri(visitor.get(path).get_data()) == digest
    assert verified(app, issued.credential)


# -- the snapshot never changes, and stays while the credential stands ------------------------


def test_a_snapshot_cannot_be_changed(app, issued):
    (snapshot,) = db.session.scalars(select(EvidenceSnapshot)).all()
    snapshot.narrative = "Rewritten history"
    with pytest.raises(SnapshotFrozenError):
        db.session.commit()
    db.session.rollback()
    (frozen_file,) = [a for a in snapshot.artefacts if a.kind == "file"]
    frozen_file.blob_sha256 = uploads.ensure_blob("0" * 64, 1, "text/plain").sha256
    with pytest.raises(SnapshotFrozenError):
        db.session.commit()
    db.session.rollback()


def test_a_snapshot_cannot_be_deleted_while_its_credential_stands(app, issued):
    (snapshot,) = db.session.scalars(select(EvidenceSnapshot)).all()
    db.session.delete(snapshot)
    with pytest.raises(SnapshotFrozenError, match="withdraw it from public view"):
        db.session.commit()
    db.session.rollback()

    set_status(issued.credential, "revoke", reason="awarded in error")
    (snapshot,) = db.session.scalars(select(EvidenceSnapshot)).all()
    db.session.delete(snapshot)
    db.session.commit()
    assert db.session.scalars(select(SnapshotArtefact)).all() == []


def test_frozen_files_count_towards_the_quota_and_stay_stored(app, issued):
    frozen = {sha for sha in db.session.scalars(select(SnapshotArtefact.blob_sha256)) if sha}
    used = uploads.used_bytes(issued.school.student)
    evidence_service.delete_evidence(issued.song)
    assert uploads.used_bytes(issued.school.student) == used
    assert all(uploads.storage().exists(sha) for sha in frozen)


# -- withdrawing from public view -------------------------------------------------------------


def test_the_learner_withdraws_the_evidence_and_the_credential_still_verifies(app, issued):
    student = signed_in(app, issued.school.student)
    visitor = app.test_client()
    cred = issued.credential.public_id
    listing = student.get("/my/credentials/evidence").get_data(as_text=True)
    assert "Evidence public to people who check it" in listing

    withdrawn = student.post(f"/my/credentials/{cred}/evidence/visibility", data={"withdrawn": "1"})
    assert withdrawn.status_code == 303

    (page,) = issued.pages()
    shown = visitor.get(page)
    assert shown.status_code == 410
    text = shown.get_data(as_text=True)
    assert "The learner withdrew this evidence from public view on" in text
    assert "How I made" not in text
    for path in issued.files():
        assert visitor.get(path).status_code == 410
    credential_page = visitor.get(f"/c/{cred}").get_data(as_text=True)
    assert re.search(r"Evidence withdrawn by the learner on \w+ \d{1,2}, \d{4}", credential_page)
    db.session.expire_all()
    assert verified(app, db.session.get(IssuedCredential, issued.credential.id))

    student.post(f"/my/credentials/{cred}/evidence/visibility", data={"withdrawn": "0"})
    assert visitor.get(page).status_code == 200
    assert "Evidence withdrawn" not in visitor.get(f"/c/{cred}").get_data(as_text=True)


def test_only_the_learner_withdraws_their_evidence(app, issued):
    other = signed_in(app, issued.school.other_student)
    cred = issued.credential.public_id
    refused = other.post(f"/my/credentials/{cred}/evidence/visibility", data={"withdrawn": "1"})
    assert refused.status_code == 404
    assert all(row.withdrawn_at is None for row in db.session.scalars(select(EvidenceSnapshot)))


# -- revoked credentials ----------------------------------------------------------------------


def test_a_revoked_credentials_evidence_pages_say_so_and_serve_no_files(app, issued):
    visitor = app.test_client()
    set_status(issued.credential, "revoke", reason="plagiarised")
    (page,) = issued.pages()
    shown = visitor.get(page)
    assert shown.status_code == 410
    text = shown.get_data(as_text=True)
    assert "This credential has been revoked" in text and "How I made" not in text
    for path in issued.files():
        response = visitor.get(path)
        assert response.status_code == 410 and not response.get_data().startswith(b"the words")
        assert visitor.get(f"{path}/captions").status_code in (404, 410)


def test_an_old_database_gets_snapshots_at_the_urls_its_credentials_carry(app, issued):
    """The migration's back-fill: a credential issued before snapshots existed named the live
    evidence and artefacts by their ids; it gets snapshots under the same ids, taken from what
    it signed, and files by the digests it carries — never a file added since."""
    from importlib import import_module

    backfill = import_module(
        "portfolio.migrations.versions.snapshots_a1f3c9e2d7b4_evidence_frozen_at_issuance"
    )
    # The credential as the code before snapshots issued it: links to the live ids.
    (snapshot,) = db.session.scalars(select(EvidenceSnapshot)).all()
    document = issued.credential.document.replace(snapshot.public_id, issued.song.public_id)
    live_files = {a.blob_sha256: a.public_id for a in issued.song.artefacts if a.blob_sha256}
    for artefact in snapshot.artefacts:
        if artefact.blob_sha256:
            document = document.replace(artefact.public_id, live_files[artefact.blob_sha256])
    db.session.execute(delete(SnapshotArtefact))
    db.session.execute(delete(EvidenceSnapshot))
    issued.credential.document = document
    db.session.commit()
    added = evidence_service.add_file(
        issued.song,
        upload(b"added later"),
        title="Later",
        alt_text=None,
        captions_vtt=None,
        transcript=None,
    )

    with db.engine.begin() as connection:
        backfill._snapshot_existing_credentials(connection)
    db.session.expire_all()

    visitor = app.test_client()
    (page,) = issued.pages()
    assert page.endswith(f"/evidence/{issued.song.public_id}")
    assert "How I made <em>My song</em>." in visitor.get(page).get_data(as_text=True)
    assert issued.files()
    for path, digest in issued.files().items():
        assert sri(visitor.get(path).get_data()) == digest
    assert visitor.get(f"{page}/artefacts/{added.public_id}").status_code == 404
    (frozen,) = db.session.scalars(select(EvidenceSnapshot)).all()
    assert frozen.evidence_id == issued.song.id
    assert [a.kind for a in frozen.artefacts] == ["file", "link"]


# -- asking for revocation --------------------------------------------------------------------


def test_the_learner_asks_for_revocation_and_every_administrator_is_told_why(app, issued):
    from portfolio.accounts.models import Notification
    from portfolio.core.models import AuditEvent

    student = signed_in(app, issued.school.student)
    cred = issued.credential.public_id
    empty = student.post(f"/my/credentials/{cred}/revocation-request", data={"reason": "  "})
    assert empty.status_code == 422
    assert "Say why you want the credential revoked." in empty.get_data(as_text=True)

    sent = student.post(
        f"/my/credentials/{cred}/revocation-request", data={"reason": "I no longer want it"}
    )
    assert sent.status_code == 303
    (notice,) = db.session.scalars(
        select(Notification).where(Notification.user_id == issued.school.admin.id)
    ).all()
    assert "I no longer want it" in notice.message and notice.link.endswith(cred)
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "revocation_requested")
    ).all()
    assert event.actor_id == issued.school.student.id and event.target == f"credential:{cred}"
    db.session.expire_all()
    assert db.session.get(IssuedCredential, issued.credential.id).revoked_at is None

    other = signed_in(app, issued.school.other_student)
    theirs = other.post(f"/my/credentials/{cred}/revocation-request", data={"reason": "x"})
    assert theirs.status_code == 404
    set_status(issued.credential, "revoke", reason="asked by the learner")
    again = student.post(f"/my/credentials/{cred}/revocation-request", data={"reason": "again"})
    assert again.status_code == 409


def test_once_revoked_the_learner_may_delete_the_frozen_evidence_and_its_files(app, issued):
    from portfolio.files.models import Blob

    student = signed_in(app, issued.school.student)
    cred = issued.credential.public_id
    frozen = {sha for sha in db.session.scalars(select(SnapshotArtefact.blob_sha256)) if sha}
    standing = student.post(f"/my/credentials/{cred}/evidence/delete", data={"confirm": "yes"})
    assert standing.status_code == 409
    assert "While the credential stands" in standing.get_data(as_text=True)

    set_status(issued.credential, "revoke", reason="asked by the learner")
    unconfirmed = student.post(f"/my/credentials/{cred}/evidence/delete")
    assert unconfirmed.status_code == 422
    assert db.session.scalars(select(EvidenceSnapshot)).all() != []
    # The live evidence still uses the file: it stays; remove it there first.
    for artefact in list(issued.song.artefacts):
        evidence_service.remove_artefact(issued.song, artefact)
    deleted = student.post(f"/my/credentials/{cred}/evidence/delete", data={"confirm": "yes"})
    assert deleted.status_code == 303
    db.session.expire_all()
    assert db.session.scalars(select(EvidenceSnapshot)).all() == []
    for sha in frozen:
        assert db.session.get(Blob, sha) is None and not uploads.storage().exists(sha)
    (page,) = issued.pages()
    assert app.test_client().get(page).status_code == 404
