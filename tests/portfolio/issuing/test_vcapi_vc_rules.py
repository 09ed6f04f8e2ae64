"""POST /credentials/issue and the VC Data Model 2.0 rules: each broken rule is a 400 naming
it (nothing stored); a client's own well-formed credentialStatus is kept; a request without
issuer is issued as the client's issuer with what the document's contexts can say; generic
VC 1.1 credentials are issued as given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from credentials.jsonld import DATA_INTEGRITY_V2_CONTEXT, VC_V1_CONTEXT, VC_V2_CONTEXT
from portfolio.accounts.issuers import default_issuer
from portfolio.core.db import db
from portfolio.issuing import service as services
from portfolio.issuing import status_options
from portfolio.issuing.models import IssuedCredential
from tests.portfolio.issuing.test_oauth import api_client, bearer, token

__all__ = ["api_client", "token"]  # fixtures shared with test_oauth

RULES = Path(__file__).resolve().parents[2] / "assets" / "vc-rules"

#: fixture in tests/assets/vc-rules -> the error code of the 400
REFUSED = {
    "id-not-a-url.signed.json": "INVALID_ID",
    "iri-with-angle-brackets.json": "INVALID_ID",
    "iri-with-space-in-subject-id.json": "INVALID_ID",
    "language-tag-malformed.json": "DATA_LOSS_DETECTION_ERROR",
    "type-map-pyld-cannot-process.json": "INVALID_JSON_LD",
    "index-on-a-node.json": "DATA_LOSS_DETECTION_ERROR",
    "index-map-keys.json": "DATA_LOSS_DETECTION_ERROR",
    "embedded-context-with-base.json": "INVALID_ID",  # the subject id "relative" first
    "subject-empty-object.json": "MISSING_SUBJECT",
    "subject-empty-list.json": "MISSING_SUBJECT",
    "subject-list-with-empty-object.json": "EMPTY_SUBJECT",
    "status-without-type.json": "MISSING_TYPE",
    "terms-of-use-without-type.json": "MISSING_TYPE",
    "evidence-without-type.json": "MISSING_TYPE",
    "refresh-service-without-type.json": "MISSING_TYPE",
    "credential-schema-without-type.json": "MISSING_TYPE",
    "credential-schema-without-id.json": "INVALID_CREDENTIAL_SCHEMA",
    "related-resource-not-objects.json": "INVALID_RELATED_RESOURCE",
    "related-resource-without-id.json": "INVALID_RELATED_RESOURCE",
    "related-resource-repeated-id.json": "INVALID_RELATED_RESOURCE",
    "related-resource-without-digest.json": "INVALID_RELATED_RESOURCE",
    "related-resource-wrong-digest.json": "DIGEST_MISMATCH",
}


def request_for(name: str) -> dict[str, Any]:
    """The fixture as a client would send it: no proof, no issuer (the client's is used)."""
    document = dict(json.loads((RULES / name).read_text(encoding="utf-8")))
    document.pop("proof", None)
    document.pop("issuer", None)
    return document


def issue(client: Any, token: str, credential: Any, **options: Any) -> Any:
    body: dict[str, Any] = {"credential": credential}
    if options:
        body["options"] = options
    return client.post("/credentials/issue", json=body, headers=bearer(token))


def stored(app: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(IssuedCredential)) or 0)


@pytest.mark.parametrize(("name", "code"), REFUSED.items(), ids=list(REFUSED))
def test_a_credential_breaking_a_rule_is_400_naming_it(client, token, app, name, code):
    response = issue(client, token, request_for(name))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.json["error"] == code
    assert response.json["detail"]
    assert stored(app) == 0


@pytest.mark.parametrize(
    "name",
    ["related-resource-context-digests.json", "vocab-null.json", "null-context-mappings.json"],
)
def test_conformant_fixtures_are_issued(client, token, name):
    response = issue(client, token, request_for(name))
    assert response.status_code == 201, response.get_data(as_text=True)


# -- a client's own credentialStatus ----------------------------------------------------------

CLIENT_STATUS = {
    "id": "https://status.example/lists/7#42",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "42",
    "statusListCredential": "https://status.example/lists/7",
}


def plain_credential(**changes: Any) -> dict[str, Any]:
    return {
        "@context": [VC_V2_CONTEXT],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:alice", "name": "Alice"},
        **changes,
    }


def test_a_well_formed_client_status_is_kept_as_given_and_nothing_is_added(client, token, app):
    response = issue(client, token, plain_credential(credentialStatus=CLIENT_STATUS))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["verifiableCredential"]["credentialStatus"] == CLIENT_STATUS
    with app.app_context():
        row = db.session.scalar(select(IssuedCredential))
        assert row.revocation_list_id is None and row.suspension_list_id is None


def test_options_credential_status_adds_ours_after_the_clients(client, token, app):
    response = issue(
        client,
        token,
        plain_credential(credentialStatus=[CLIENT_STATUS]),
        credentialStatus={"type": "BitstringStatusListEntry"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    entries = response.json["verifiableCredential"]["credentialStatus"]
    assert entries[0] == CLIENT_STATUS
    with app.app_context():  # revocation first; suspension when the issuer offers it
        expected = list(status_options.purposes_for(default_issuer()))
    assert [e["statusPurpose"] for e in entries[1:]] == expected
    assert all(
        e["statusListCredential"].startswith("https://credfolio.test/status/") for e in entries[1:]
    )
    with app.app_context():  # ours can be revoked through the service
        services.set_status(
            services.find_credential(response.json["verifiableCredential"]["id"]),
            "revoke",
            reason="test",
        )


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        ({**CLIENT_STATUS, "statusListIndex": "-1"}, "MALFORMED_VALUE_ERROR", "statusListIndex"),
        ({k: v for k, v in CLIENT_STATUS.items() if k != "type"}, "MISSING_TYPE", "no type"),
        (
            {**CLIENT_STATUS, "statusListCredential": "https://credfolio.test/status/abc"},
            "INVALID_CREDENTIAL_STATUS",
            "allocated by the service",
        ),
        ("https://status.example/1", "INVALID_CREDENTIAL_STATUS", "must be an object"),
    ],
    ids=["bad-index", "no-type", "our-own-list", "not-an-object"],
)
def test_a_malformed_client_status_is_400(client, token, app, status, code, words):
    response = issue(client, token, plain_credential(credentialStatus=status))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"] == code
    assert words in response.json["detail"]
    assert stored(app) == 0


# -- no issuer in the request -----------------------------------------------------------------


def test_a_plain_vc_2_0_credential_without_issuer_is_issued_and_verifies(client, token, issuer):
    response = issue(client, token, plain_credential())
    assert response.status_code == 201, response.get_data(as_text=True)
    credential = response.json["verifiableCredential"]
    # The VC v2 context defines no url/email/image: only what it can say is filled in.
    assert credential["issuer"] == {"id": issuer.did, "name": issuer.name}
    verified = client.post("/credentials/verify", json={"verifiableCredential": credential})
    assert verified.status_code == 200, verified.json["errors"]


# -- VC 1.1 -----------------------------------------------------------------------------------


def vc11_credential(**changes: Any) -> dict[str, Any]:
    return {
        "@context": [VC_V1_CONTEXT],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:alice"},
        **changes,
    }


def test_a_generic_vc_1_1_credential_is_issued_as_given_and_verifies(client, token, issuer):
    sent = vc11_credential(issuanceDate="2024-01-01T00:00:00Z")
    response = issue(client, token, sent)
    assert response.status_code == 201, response.get_data(as_text=True)
    credential = response.json["verifiableCredential"]
    assert credential["@context"] == [VC_V1_CONTEXT, DATA_INTEGRITY_V2_CONTEXT]
    assert credential["issuer"] == issuer.did
    assert credential["issuanceDate"] == "2024-01-01T00:00:00Z"
    assert "validFrom" not in credential and "credentialStatus" not in credential
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    verified = client.post("/credentials/verify", json={"verifiableCredential": credential})
    assert verified.status_code == 200, verified.json["errors"]


def test_a_vc_1_1_credential_gets_an_issuance_date(client, token):
    response = issue(client, token, vc11_credential())
    assert response.status_code == 201, response.get_data(as_text=True)
    assert "issuanceDate" in response.json["verifiableCredential"]


@pytest.mark.parametrize(
    ("credential", "options", "code"),
    [
        (
            vc11_credential(type=["VerifiableCredential", "OpenBadgeCredential"]),
            {},
            "INVALID_CONTEXT",
        ),
        (
            vc11_credential(),
            {"credentialStatus": {"type": "BitstringStatusListEntry"}},
            "UNSUPPORTED_OPTION",
        ),
        (
            vc11_credential(
                expirationDate="2000-01-01T00:00:00Z", issuanceDate="2001-01-01T00:00:00Z"
            ),
            {},
            "INVALID_DATETIME",
        ),
    ],
    ids=["open-badge-as-1.1", "status-list-entry-in-1.1", "expires-before-issued"],
)
def test_what_a_vc_1_1_credential_cannot_be_is_400(client, token, app, credential, options, code):
    response = issue(client, token, credential, **options)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"] == code
    assert stored(app) == 0


# -- the same fixtures at /credentials/verify -------------------------------------------------


def test_verifying_each_fixture_is_a_400_or_a_422_naming_the_check_never_a_500(client):
    conformant = {"vocab-null.json", "null-context-mappings.json"}
    paths = [path for path in sorted(RULES.glob("*.json")) if path.name not in conformant]
    assert len(paths) >= len(REFUSED)
    for path in paths:
        response = client.post(
            "/credentials/verify",
            data=b'{"verifiableCredential": ' + path.read_bytes() + b"}",
            content_type="application/json",
        )
        assert response.status_code in (400, 422), (path.name, response.get_data(as_text=True))
        assert response.mimetype == "application/json"


@pytest.mark.parametrize(
    "name", ["id-not-a-url.signed.json", "id-not-a-url.changed-after-signing.json"]
)
def test_the_signed_credential_whose_id_is_not_a_url_is_refused_at_the_api(client, name):
    response = client.post(
        "/credentials/verify",
        data=b'{"verifiableCredential": ' + (RULES / name).read_bytes() + b"}",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json["error"] == "DATA_LOSS_DETECTION_ERROR"
    assert response.json["verified"] is False
    assert {c["name"]: c["status"] for c in response.json["checks"]}["terms"] == "failed"


# -- what these credentials are afterwards ----------------------------------------------------


@pytest.mark.parametrize(
    "credential",
    [vc11_credential(), plain_credential(credentialStatus=CLIENT_STATUS)],
    ids=["vc-1.1", "client-status"],
)
def test_a_credential_without_our_status_has_its_pages_and_cannot_be_revoked_here(
    client, token, app, credential
):
    response = issue(client, token, credential)
    assert response.status_code == 201, response.get_data(as_text=True)
    url = response.json["verifiableCredential"]["id"]
    path = url.removeprefix("https://credfolio.test")
    for suffix in ("", "/credential.json", "/badge.png", "/certificate.pdf"):
        assert client.get(path + suffix).status_code == 200, suffix
    with (
        app.app_context(),
        pytest.raises(services.StatusConflictError, match="without a revocation"),
    ):
        services.set_status(services.find_credential(url), "revoke", reason="test")
