"""Status entries of issued credentials (issue 14 §1): one ``credentialStatus`` object
(revocation) by default, which the 1EdTech OB 3.0 schema accepts as published; suspension is
an option of each issuer, and credentials issued with both entries keep verifying and can
still be revoked and suspended."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from credentials.verify import FAILED, PASSED, WARNING
from portfolio.accounts.issuers import default_issuer
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.issuing import service as services
from portfolio.issuing.status_options import purposes_for, set_suspension
from tests.conftest import unsigned_badge
from tests.strict_validators import ajv_errors, jsonschema_errors


@pytest.fixture
def new_issuer(app):
    """The service's issuer as a fresh installation has it: suspension not offered."""
    with app.app_context():
        issuer = default_issuer()
        app.extensions["credfolio"].key_store.create(issuer.did)
        yield issuer


def issued(issuer) -> tuple[services.IssuedCredential, dict]:
    row = services.issue(unsigned_badge(), issuer=issuer)
    return row, json.loads(row.document)


def checks(row) -> dict[str, str]:
    result = services.service_verifier().verify(json.loads(row.document))
    return {check.name: check.status for check in result.checks} | {"verified": result.verified}


def test_a_new_issuers_credential_has_one_revocation_status_object(new_issuer):
    assert new_issuer.offers_suspension is False
    assert purposes_for(new_issuer) == ("revocation",)
    _, document = issued(new_issuer)
    assert isinstance(document["credentialStatus"], dict)
    assert document["credentialStatus"]["statusPurpose"] == "revocation"


def test_a_new_issuers_credential_passes_jsonschema_ajv_and_our_check(new_issuer):
    row, document = issued(new_issuer)
    assert jsonschema_errors(document, "achievementcredential") == []
    assert ajv_errors([("achievementcredential", document)]) == [[]]
    status = checks(row)
    assert (status["schema"], status["verified"]) == (PASSED, True)


def test_an_issuer_offering_suspension_gets_both_entries_and_the_check_warns_of_validators(
    new_issuer,
):
    assert set_suspension(new_issuer, True, actor="cli") is True
    row, document = issued(new_issuer)
    assert [entry["statusPurpose"] for entry in document["credentialStatus"]] == [
        "revocation",
        "suspension",
    ]
    assert [path for path, _ in jsonschema_errors(document, "achievementcredential")] == [
        "/credentialStatus"
    ]
    status = checks(row)
    assert (status["schema"], status["suspension"], status["verified"]) == (WARNING, PASSED, True)


def test_credentials_issued_with_both_entries_keep_them_and_can_be_suspended_and_revoked(
    new_issuer,
):
    set_suspension(new_issuer, True, actor="cli")
    row, before = issued(new_issuer)
    set_suspension(new_issuer, False, actor="cli")  # switched off after issuing
    assert json.loads(row.document)["credentialStatus"] == before["credentialStatus"]
    services.set_status(row, "suspend", reason="Under review")
    assert (checks(row)["suspension"], checks(row)["verified"]) == (FAILED, False)
    services.set_status(row, "unsuspend", reason="")
    assert checks(row)["verified"] is True
    services.set_status(row, "revoke", reason="Issued in error")
    assert checks(row)["revocation"] == FAILED


def test_a_credential_without_a_suspension_entry_cannot_be_suspended_and_says_why(new_issuer):
    row, _ = issued(new_issuer)
    with pytest.raises(services.StatusConflictError, match="without a suspension status entry"):
        services.set_status(row, "suspend", reason="Under review")
    services.set_status(row, "revoke", reason="Issued in error")
    assert checks(row)["revocation"] == FAILED


def test_switching_suspension_is_audited_and_switching_to_the_same_changes_nothing(new_issuer):
    assert set_suspension(new_issuer, True, actor="cli") is True
    assert set_suspension(new_issuer, True, actor="cli") is False
    assert set_suspension(new_issuer, False, actor="cli") is True
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "issuer_suspension_changed")
    ).all()
    assert [(e.actor_label, e.detail["offers_suspension"]) for e in events] == [
        ("cli", "on"),
        ("cli", "off"),
    ]


def test_the_public_page_shows_the_status_list_as_a_warning_not_a_pass(new_issuer, client):
    set_suspension(new_issuer, True, actor="cli")
    row, _ = issued(new_issuer)
    page = client.get(f"/c/{row.public_id}").get_data(as_text=True)
    assert "Passed with a warning" in page
    assert "official Open Badges 3.0 format checker rejects" in page


def test_the_admin_page_of_a_credential_without_suspension_says_it_can_only_be_revoked(
    app, new_issuer, client
):
    from tests.portfolio.accounts.test_auth import make_user, sign_in

    row, _ = issued(new_issuer)
    app.config["WTF_CSRF_ENABLED"] = False
    make_user(app, "alice@school.example")
    assert sign_in(client, "alice@school.example").status_code == 303
    page = client.get(f"/admin/credentials/{row.public_id}").get_data(as_text=True)
    assert "issued without a suspension status entry" in page
    assert "/suspend" not in page and "/revoke" in page
