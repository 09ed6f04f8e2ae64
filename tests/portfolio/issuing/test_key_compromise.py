"""The key compromise procedure (``credfolio keys compromised``): the key leaves the DID
document, a new key signs from then on, every credential the key signed is re-issued with the
new key (same content, new id, new status positions) and the old one is revoked; running it
again changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.assessment import service as assessment
from portfolio.assessment.mastery import mastered
from portfolio.assessment.models import Mastery, Submission
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.issuing import service as services
from portfolio.issuing.models import CredentialEvent, IssuedCredential, StatusListRow
from tests.conftest import unsigned_badge
from tests.portfolio.school import School, evidence, make_school, stack

REASON = "the signing server's disk was copied"


@dataclass
class Issued:
    school: School
    key_id: str
    mastery: IssuedCredential
    badge: IssuedCredential
    suspended: IssuedCredential
    revoked: IssuedCredential


def by_id(row_id: int) -> IssuedCredential:
    row = db.session.get(IssuedCredential, row_id)
    assert row is not None
    return row


def checks(app: Flask, row: IssuedCredential) -> tuple[bool, dict[str, str]]:
    result = app.extensions["credfolio"].verifier().verify(json.loads(row.document))
    return result.verified, {check.name: check.status for check in result.checks}


def replacement(row: IssuedCredential) -> IssuedCredential:
    """The credential that replaced ``row`` (its "replaced" event names the new page)."""
    event = db.session.scalar(
        select(CredentialEvent).where(
            CredentialEvent.credential_id == row.id, CredentialEvent.action == "replaced"
        )
    )
    assert event is not None and event.reason
    new = services.find_credential(event.reason.rsplit("replaced by ", 1)[1])
    assert new is not None
    return new


def compromise(runner: Any, key_id: str) -> Any:
    return runner.invoke(args=["keys", "compromised", key_id, "--reason", REASON])


@pytest.fixture
def issued(app: Flask, issuer: Any) -> Issued:
    """A mastery credential (with evidence, an assessor's endorsement, and the stack badge it
    completes), a plain badge, a suspended badge and one revoked earlier, all signed with the
    issuer's one key."""
    school = make_school(issuer)
    stack(issuer, "Songbook", [school.competency])
    song = evidence(school.student, "My song")
    submission = assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id], submit=True
    )
    mastery = assessment.assess(submission, school.assessor, decision="endorse", levels=[2, 2])
    assert mastery.credential is not None and len(mastery.stacks) == 1
    badge = services.issue(unsigned_badge(), issuer=issuer, client_id="portal")
    suspended = services.issue(unsigned_badge(), issuer=issuer)
    services.set_status(suspended, "suspend", reason="Under review", actor="cli")
    revoked = services.issue(unsigned_badge(), issuer=issuer)
    services.set_status(revoked, "revoke", reason="Issued in error", actor="cli")
    key_id = app.extensions["credfolio"].key_store.active(issuer.did).key_id
    return Issued(school, key_id, mastery.credential, badge, suspended, revoked)


def test_a_compromised_key_is_revoked_replaced_and_everything_it_signed_is_reissued(
    app, runner, issued
):
    components = app.extensions["credfolio"]
    old_method = components.key_store.get(issued.key_id).verification_method
    stack_badge = db.session.scalar(
        select(IssuedCredential).where(IssuedCredential.achievement_name == "Songbook")
    )
    before = {row.id: row.document for row in db.session.scalars(select(IssuedCredential))}

    result = compromise(runner, issued.key_id)
    assert result.exit_code == 0, result.output
    db.session.expire_all()

    # The DID document no longer has the key; a new active key signs from now on.
    document = components.did_document()
    methods = [m["id"] for m in document["verificationMethod"]]
    assert old_method not in methods
    new_key = components.key_store.active(issued.school.issuer.did)
    assert new_key.key_id != issued.key_id and methods == [new_key.verification_method]
    assert components.key_store.get(issued.key_id).revocation_reason == REASON

    for old in (issued.mastery, stack_badge, issued.badge, issued.suspended):
        old = by_id(old.id)
        new = replacement(old)
        assert f"{old.public_id}: re-issued as {new.public_id}" in result.output
        # The old one fails: its key is revoked, and it is revoked itself.
        verified, old_checks = checks(app, old)
        assert not verified
        assert old_checks["key-status"] == "failed" and old_checks["revocation"] == "failed"
        assert old.revocation_reason == "signing key compromised"
        assert old.document == before[old.id]
        # The new one: same content, a new id and new status positions, signed with the new key.
        old_doc, new_doc = json.loads(old.document), json.loads(new.document)
        assert new_doc["id"] == f"https://credfolio.test/c/{new.public_id}" != old_doc["id"]
        assert new_doc["proof"][0]["verificationMethod"] == new_key.verification_method
        for name in ("name", "validFrom", "type", "issuer"):
            assert new_doc[name] == old_doc[name], name
        assert new_doc["credentialSubject"] == old_doc["credentialSubject"]
        assert (new.revocation_list_id, new.revocation_index) != (
            old.revocation_list_id,
            old.revocation_index,
        )
        assert (new.recipient_user_id, new.recipient_name) == (
            old.recipient_user_id,
            old.recipient_name,
        )
        events = [(e.action, e.reason) for e in services.history(new)]
        assert (
            "reissued",
            f"signing key {issued.key_id} compromised; replaces {old_doc['id']}",
        ) in (events)

    # Re-issued as they were: the suspended one stays suspended, the others verify.
    assert checks(app, replacement(by_id(issued.suspended.id)))[1]["suspension"] == "failed"
    for old in (issued.mastery, stack_badge, issued.badge):
        verified, new_checks = checks(app, replacement(by_id(old.id)))
        assert verified, new_checks
    # One revoked earlier is left as it was.
    assert f"{issued.revoked.public_id}: revoked before" in result.output
    assert by_id(issued.revoked.id).revocation_reason == "Issued in error"


def test_links_and_records_follow_the_reissued_credential(app, runner, issued):
    mastery_id, student = issued.mastery.id, issued.school.student
    old_doc = json.loads(issued.mastery.document)
    assert compromise(runner, issued.key_id).exit_code == 0
    db.session.expire_all()
    old, new = by_id(mastery_id), replacement(by_id(mastery_id))
    new_doc = json.loads(new.document)
    # Evidence pages move to the new credential's id; the file digests stay.
    [page] = [e["id"] for e in new_doc["evidence"] if e.get("genre") == "Song"]
    assert page.startswith(f"https://credfolio.test/c/{new.public_id}/evidence/")
    visitor = app.test_client()
    assert visitor.get(page.removeprefix("https://credfolio.test")).status_code == 200
    old_page = page.replace(new.public_id, old.public_id)
    assert visitor.get(old_page.removeprefix("https://credfolio.test")).status_code == 404
    digests = [[e.get("digestSRI") for e in doc["evidence"]] for doc in (old_doc, new_doc)]
    assert digests[0] == digests[1]
    # The assessor's endorsement is signed again for the new id, with the assessor's own key.
    [endorsement] = new_doc["endorsement"]
    assert endorsement["credentialSubject"]["id"] == new_doc["id"]
    assert endorsement["issuer"] == old_doc["endorsement"][0]["issuer"]
    # The stack badge's link to this credential follows it.
    songbook = replacement(
        db.session.scalar(
            select(IssuedCredential).where(
                IssuedCredential.achievement_name == "Songbook",
                IssuedCredential.revoked_at.is_not(None),
            )
        )
    )
    assert [e["id"] for e in json.loads(songbook.document)["evidence"]] == [new_doc["id"]]
    # The student still holds the mastery; the submission points at the new credential.
    mastery = db.session.scalar(
        select(Mastery).where(Mastery.student_id == student.id, Mastery.credential_id == new.id)
    )
    assert mastery is not None
    assert db.session.scalar(select(Submission.credential_id)) == new.id
    assert mastered(student, issued.school.competency) is not None


def test_the_procedure_is_audited_and_running_it_again_changes_nothing(app, runner, issued):
    assert compromise(runner, issued.key_id).exit_code == 0
    db.session.expire_all()
    count = len(db.session.scalars(select(IssuedCredential)).all())
    active = app.extensions["credfolio"].key_store.active(issued.school.issuer.did).key_id
    recorded = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]

    again = compromise(runner, issued.key_id)
    assert again.exit_code == 0, again.output
    db.session.expire_all()
    assert len(db.session.scalars(select(IssuedCredential)).all()) == count
    assert app.extensions["credfolio"].key_store.active(issued.school.issuer.did).key_id == active
    assert "was already revoked" in again.output
    assert again.output.count("already re-issued as") == 4
    assert "0 re-issued now, 4 re-issued before, 1 revoked before." in again.output

    for action, number in (
        ("key_revoked", 1),
        ("key_rotated", 1),
        ("credential_reissued", 4),
        ("key_compromised", 1),
    ):
        assert recorded.count(action) == number, action
    compromised = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "key_compromised")
    )
    assert compromised.actor_label == "cli" and compromised.detail["reason"] == REASON
    assert compromised.detail["reissued"] == 4


def test_a_retired_key_compromised_leaves_the_current_key_alone_and_its_status_lists_answer(
    app, runner, issuer
):
    store = app.extensions["credfolio"].key_store
    old_key = store.active(issuer.did)
    early = services.issue(unsigned_badge(), issuer=issuer)  # creates the lists, signed by it
    services.set_status(early, "revoke", reason="Issued in error", actor="cli")
    store.rotate(issuer.did)
    current = store.active(issuer.did)
    fresh = services.issue(unsigned_badge(), issuer=issuer)  # the lists are not signed again
    assert checks(app, fresh)[0]

    result = compromise(runner, old_key.key_id)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert store.active(issuer.did).key_id == current.key_id
    assert "(unchanged)" in result.output
    assert f"{early.public_id}: revoked before" in result.output
    assert fresh.public_id not in result.output
    # Both lists were last signed with the compromised key: signed again, they still answer
    # for the credentials of the current key.
    assert "Status lists signed again: 2" in result.output
    for row in db.session.scalars(select(StatusListRow)):
        proof = json.loads(row.credential)["proof"][0]
        assert proof["verificationMethod"] == current.verification_method
    verified, fresh_checks = checks(app, by_id(fresh.id))
    assert verified and fresh_checks["revocation"] == "passed", fresh_checks


def test_an_unknown_key_or_an_assessors_did_key_is_refused(app, runner, issued):
    unknown = compromise(runner, "00000000-0000-4000-8000-000000000000")
    assert unknown.exit_code == 1 and "no key" in unknown.output
    did_key = next(
        record
        for record in app.extensions["credfolio"].key_store.list()
        if record.controller.startswith("did:key:")
    )
    refused = compromise(runner, did_key.key_id)
    assert refused.exit_code == 1 and "issuer keys only" in refused.output
    assert app.extensions["credfolio"].key_store.get(did_key.key_id).status == "active"
    missing_reason = runner.invoke(args=["keys", "compromised", issued.key_id, "--reason", " "])
    assert missing_reason.exit_code == 1
    assert app.extensions["credfolio"].key_store.get(issued.key_id).status == "active"


def test_the_procedures_refusals_are_service_errors_of_their_kind(app, issued):
    from portfolio.core.errors import InvalidInputError, NotFoundError, status_for
    from portfolio.issuing.key_compromise import CompromiseError, handle_compromise

    with app.app_context():
        with pytest.raises(CompromiseError, match="no key") as unknown:
            handle_compromise("00000000-0000-4000-8000-000000000000", reason=REASON)
        assert isinstance(unknown.value, NotFoundError) and status_for(unknown.value) == 404
        with pytest.raises(CompromiseError, match="give the reason") as no_reason:
            handle_compromise(issued.key_id, reason=" ")
        assert isinstance(no_reason.value, InvalidInputError) and status_for(no_reason.value) == 422
