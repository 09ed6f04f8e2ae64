"""The issuing service: what it adds to a credential, status-list allocation, revocation and
suspension in one transaction, and nothing half-written when something fails."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select

from credentials.errors import CredentialError, DataLossError, MalformedInputError
from credentials.status import StatusList
from credentials.verify import FAILED, PASSED
from issuer_keys.errors import KeyNotFoundError
from portfolio.accounts.issuers import default_issuer
from portfolio.core.db import db
from portfolio.core.errors import ConflictError, InvalidInputError, status_for
from portfolio.issuing import service as services
from portfolio.issuing.models import AchievementRow, IssuedCredential, StatusListRow
from tests.conftest import unsigned_badge


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(IssuedCredential)),
        db.session.scalar(select(func.sum(StatusListRow.allocated_count))) or 0,
    )


def verify(row: IssuedCredential):
    return services.service_verifier().verify(json.loads(row.document))


def test_issuing_completes_signs_and_stores_the_credential(issuer):
    row = services.issue(unsigned_badge(), issuer=issuer, client_id="client-1")
    document = json.loads(row.document)
    assert document["id"] == f"https://credfolio.test/c/{row.public_id}"
    assert document["issuer"]["id"] == issuer.did
    assert "validFrom" in document
    revocation, suspension = document["credentialStatus"]
    assert revocation["statusPurpose"] == "revocation"  # first: many verifiers read only one
    assert suspension["statusPurpose"] == "suspension"
    assert int(revocation["statusListIndex"]) == row.revocation_index
    assert row.credential_id == document["id"]
    assert row.achievement_name == document["credentialSubject"]["achievement"]["name"]
    assert row.client_id == "client-1"
    result = verify(row)
    assert result.verified, result.errors
    assert result.check("revocation").status == PASSED
    assert result.check("suspension").status == PASSED


def test_the_stored_json_is_exactly_what_was_issued(issuer):
    row = services.issue(unsigned_badge(), issuer=issuer)
    stored = db.session.get(IssuedCredential, row.id).document
    assert stored == row.document
    assert json.loads(stored)["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"


def test_a_given_id_and_validity_are_kept(issuer):
    row = services.issue(
        unsigned_badge(
            id="urn:uuid:6f1b5a2e-7e63-4c4b-9d53-1a0f0c8e2b11",
            validFrom="2025-01-01T00:00:00Z",
            validUntil="2035-01-01T00:00:00Z",
        ),
        issuer=issuer,
    )
    document = json.loads(row.document)
    assert document["id"] == "urn:uuid:6f1b5a2e-7e63-4c4b-9d53-1a0f0c8e2b11"
    assert document["validUntil"] == "2035-01-01T00:00:00Z"


def test_the_achievement_is_published(issuer):
    services.issue(unsigned_badge(), issuer=issuer)
    achievement = unsigned_badge()["credentialSubject"]["achievement"]
    row = db.session.scalar(
        select(AchievementRow).where(AchievementRow.achievement_id == achievement["id"])
    )
    assert row is not None and row.document["name"] == achievement["name"]


def test_positions_are_random_and_never_repeat(issuer):
    rows = [services.issue(unsigned_badge(), issuer=issuer) for _ in range(12)]
    positions = [r.revocation_index for r in rows]
    assert len(set(positions)) == len(positions)
    assert positions != sorted(positions)  # not issue order (12! orders; 1 is sorted)
    assert {r.revocation_list_id for r in rows} == {rows[0].revocation_list_id}


def test_a_full_list_makes_the_service_start_a_new_one(issuer):
    first = services.issue(unsigned_badge(), issuer=issuer)
    full = db.session.get(StatusListRow, first.revocation_list_id)
    full.allocated = b"\xff" * (full.size // 8)
    full.allocated_count = full.size
    full.full = True
    db.session.commit()
    second = services.issue(unsigned_badge(), issuer=issuer)
    assert second.revocation_list_id != first.revocation_list_id
    assert second.suspension_list_id == first.suspension_list_id


def test_status_lists_are_signed_credentials_of_the_issuer(issuer):
    row = services.issue(unsigned_badge(), issuer=issuer)
    status_list = json.loads(db.session.get(StatusListRow, row.revocation_list_id).credential)
    assert status_list["issuer"] == issuer.did
    assert "BitstringStatusListCredential" in status_list["type"]
    assert len(StatusList.decode(status_list["credentialSubject"]["encodedList"])) >= 131_072
    assert services.service_verifier().verify(status_list).verified


def test_revoking_flips_the_bit_and_re_signs_the_list(issuer):
    row = services.issue(unsigned_badge(), issuer=issuer)
    list_row = db.session.get(StatusListRow, row.revocation_list_id)
    etag_before = list_row.etag
    services.set_status(row, "revoke", reason="Issued in error")
    assert row.state == "revoked" and row.revocation_reason == "Issued in error"
    assert list_row.etag != etag_before
    assert StatusList(list_row.bits).get(row.revocation_index)
    result = verify(row)
    assert result.check("revocation").status == FAILED
    assert not result.verified


def test_suspension_can_be_lifted(issuer):
    row = services.issue(unsigned_badge(), issuer=issuer)
    services.set_status(row, "suspend", reason="Under review")
    assert verify(row).check("suspension").status == FAILED
    services.set_status(row, "unsuspend", reason="")
    assert row.state == "active"
    assert verify(row).verified


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        ("revoke", "suspend", "revocation is final"),
        ("revoke", "revoke", "revocation is final"),
        ("suspend", "suspend", "already suspended"),
        (None, "unsuspend", "not suspended"),
    ],
)
def test_transitions_that_make_no_sense_are_refused(issuer, first, then, message):
    row = services.issue(unsigned_badge(), issuer=issuer)
    if first:
        services.set_status(row, first, reason="first")
    with pytest.raises(services.IssueError, match=message):
        services.set_status(row, then, reason="then")


def test_a_reason_is_required_to_revoke(issuer):
    row = services.issue(unsigned_badge(), issuer=issuer)
    with pytest.raises(services.IssueError, match="reason"):
        services.set_status(row, "revoke", reason="   ")


def test_refusals_are_credential_errors_and_service_errors_of_their_kind(issuer):
    """The VC-API answers an IssueError as a credential error (422); pages map its kind with
    status_for: a missing reason is invalid input (422), a transition the state forbids is a
    conflict (409)."""
    row = services.issue(unsigned_badge(), issuer=issuer)
    with pytest.raises(services.IssueError) as missing_reason:
        services.set_status(row, "suspend", reason=" ")
    assert isinstance(missing_reason.value, CredentialError)
    assert isinstance(missing_reason.value, InvalidInputError)
    assert not isinstance(missing_reason.value, ConflictError)
    assert status_for(missing_reason.value) == 422
    assert missing_reason.value.to_dict() == {
        "error": "CANNOT_ISSUE",
        "detail": "a reason is required",
    }
    services.set_status(row, "revoke", reason="issued in error")
    with pytest.raises(services.StatusConflictError) as final:
        services.set_status(row, "suspend", reason="again")
    assert isinstance(final.value, services.IssueError) and isinstance(final.value, CredentialError)
    assert status_for(final.value) == 409
    assert final.value.code == "CANNOT_ISSUE"


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"@context": ["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]},
            MalformedInputError,
            "@context",
        ),
        ({"type": ["OpenBadgeCredential"]}, MalformedInputError, "VerifiableCredential"),
        ({"credentialSubject": None}, MalformedInputError, "credentialSubject"),
        ({"validFrom": "tomorrow"}, MalformedInputError, "validFrom"),
        (
            {"validFrom": "2030-01-01T00:00:00Z", "validUntil": "2029-01-01T00:00:00Z"},
            MalformedInputError,
            "validUntil",
        ),
        ({"issuer": "did:web:someone-else.example"}, services.IssueError, "not an issuer"),
        ({"proof": {"type": "DataIntegrityProof"}}, services.IssueError, "proof"),
        (  # a client's own status is accepted only when well formed
            {"credentialStatus": {"id": "https://x.example/1", "type": "BitstringStatusListEntry"}},
            MalformedInputError,
            "statusPurpose",
        ),
        ({"nickname": "Ace"}, DataLossError, "nickname"),
    ],
    ids=[
        "context",
        "type",
        "subject",
        "date",
        "dates-order",
        "issuer",
        "proof",
        "status",
        "undefined-term",
    ],
)
def test_bad_requests_are_refused_and_nothing_is_stored(issuer, change, error, message):
    services.issue(unsigned_badge(), issuer=issuer)
    before = counts()
    with pytest.raises(error, match=message):
        services.issue(unsigned_badge(**change), issuer=issuer)
    db.session.expire_all()
    assert counts() == before


def test_without_a_signing_key_nothing_is_issued(app):
    with app.app_context():
        issuer = default_issuer()
        with pytest.raises(KeyNotFoundError):
            services.issue(unsigned_badge(), issuer=issuer)
        assert counts() == (0, 0)
        assert db.session.scalar(select(func.count()).select_from(StatusListRow)) == 0


def test_credentials_signed_before_a_key_rotation_still_verify(issuer, app):
    before = services.issue(unsigned_badge(), issuer=issuer)
    app.extensions["credfolio"].key_store.rotate(issuer.did)
    after = services.issue(unsigned_badge(), issuer=issuer)
    assert verify(before).verified
    assert verify(before).check("key-status").detail.startswith("the key has been rotated")
    assert verify(after).verified
    assert (
        json.loads(before.document)["proof"][0]["verificationMethod"]
        != json.loads(after.document)["proof"][0]["verificationMethod"]
    )


def test_a_credential_signed_by_a_revoked_key_no_longer_verifies(issuer, app):
    row = services.issue(unsigned_badge(), issuer=issuer)
    store = app.extensions["credfolio"].key_store
    store.revoke(store.active(issuer.did).key_id, "key compromised")
    result = verify(row)
    assert not result.verified


def test_one_verification_reads_its_issuers_keys_once(issuer, app):
    # Three proofs by one issuer (the credential's and its two status lists'): one key query.
    row = services.issue(unsigned_badge(), issuer=issuer)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = verify(row)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert result.verified
    assert {result.check(name).status for name in ("revocation", "suspension")} == {PASSED}
    assert len([s for s in statements if "FROM issuer_keys" in s]) == 1


def test_a_key_revoked_after_a_verification_fails_the_next_one(issuer, app):
    row = services.issue(unsigned_badge(), issuer=issuer)
    assert verify(row).verified  # keys are read per verification, never kept across them
    store = app.extensions["credfolio"].key_store
    store.revoke(store.active(issuer.did).key_id, "key compromised")
    assert verify(row).check("key-status").status == FAILED


def test_credentials_are_found_by_public_id_or_credential_id(issuer):
    row = services.issue(unsigned_badge(), issuer=issuer)
    assert services.find_credential(row.public_id) is row
    assert services.find_credential(row.credential_id) is row
    assert services.find_credential("no-such-credential") is None


def _foreign_did_web_credential() -> dict:
    from credentials.jsonld import DocumentLoader
    from credentials.proof import Eddsa2022Suite
    from issuer_keys.keys import IssuerKey

    key = IssuerKey.from_seed(bytes(range(32)))
    did = "did:web:localhost"
    document = unsigned_badge(issuer={"id": did, "type": ["Profile"], "name": "Elsewhere"})
    return Eddsa2022Suite(loader=DocumentLoader.bundled()).create_proof(
        document, key=key, verification_method=key.verification_method_id(did)
    )


def test_foreign_did_web_issuers_are_not_fetched_by_default(issuer):
    result = services.service_verifier().verify(_foreign_did_web_credential())
    assert result.check("proof").status == "unknown"
    assert "fetching is disabled" in result.check("proof").detail


def test_with_fetching_enabled_private_addresses_are_still_refused(issuer, app):
    # did:web:localhost resolves to a loopback address: the SSRF guard refuses it, and the
    # check stays "could not be performed", never passed.
    app.config["CREDFOLIO_ALLOW_FETCH"] = True
    result = services.service_verifier().verify(_foreign_did_web_credential())
    assert result.check("proof").status == "unknown"
    assert "loopback" in result.check("proof").detail.lower()
    assert not result.verified


def test_every_change_is_recorded_with_who_and_why(issuer):
    row = services.issue(unsigned_badge(), issuer=issuer, client_id="sis")
    services.set_status(row, "suspend", reason="Under review", actor="user:7")
    services.set_status(row, "unsuspend", reason="Cleared", actor="user:7")
    services.set_status(row, "revoke", reason="Issued in error", actor="cli")
    events = [(e.action, e.reason, e.actor) for e in services.history(row)]
    assert events == [
        ("issued", None, "client:sis"),
        ("suspended", "Under review", "user:7"),
        ("unsuspended", "Cleared", "user:7"),
        ("revoked", "Issued in error", "cli"),
    ]


def test_a_refused_change_records_nothing(issuer):
    row = services.issue(unsigned_badge(), issuer=issuer)
    with pytest.raises(services.IssueError):
        services.set_status(row, "unsuspend", reason="")
    assert [e.action for e in services.history(row)] == ["issued"]
