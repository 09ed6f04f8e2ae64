"""POST /credentials/verify with the documents a verification method needs given in
``options.controllerDocuments``: DID documents or HTTPS controller documents (W3C Controlled
Identifiers 1.0), each with its ``id``.  They decide keys the service cannot resolve itself; they
never replace the keys of the service's own issuers.  Fixtures in tests/assets/proofs/."""

from __future__ import annotations

from typing import Any

import pytest

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from issuer_keys.keys import IssuerKey
from tests.conftest import load_json, unsigned_badge

HTTPS_CREDENTIAL = load_json("proofs/https-verification-method.json")
CONTROLLER_DOCUMENT = load_json("proofs/https-controller-document.json")


def post_verify(client: Any, credential: Any, options: Any = None) -> Any:
    body: dict[str, Any] = {"verifiableCredential": credential}
    if options is not None:
        body["options"] = options
    return client.post("/credentials/verify", json=body)


def test_an_https_method_verifies_with_its_controller_document_given(client):
    response = post_verify(client, HTTPS_CREDENTIAL, {"controllerDocuments": [CONTROLLER_DOCUMENT]})
    assert response.status_code == 200, response.json
    assert response.json["verified"] is True


def test_without_its_controller_document_an_https_method_cannot_be_checked(client):
    response = post_verify(client, HTTPS_CREDENTIAL)
    assert response.status_code == 422
    proof = next(c for c in response.json["checks"] if c["name"] == "proof")
    assert proof["status"] == "unknown"
    assert "controller document" in proof["detail"]


@pytest.mark.parametrize(
    "documents",
    [
        pytest.param(CONTROLLER_DOCUMENT, id="not-a-list"),
        pytest.param(["https://issuer.example/issuers/1"], id="not-an-object"),
        pytest.param([{**CONTROLLER_DOCUMENT, "id": 7}], id="id-not-a-string"),
        pytest.param([CONTROLLER_DOCUMENT] * 9, id="more-than-eight"),
    ],
)
def test_malformed_controller_documents_are_a_400(client, documents):
    response = post_verify(client, HTTPS_CREDENTIAL, {"controllerDocuments": documents})
    assert response.status_code == 400
    assert response.json["error"] == "INVALID_OPTIONS"
    assert "controllerDocuments" in response.json["detail"]


def test_a_document_given_for_one_of_our_issuers_never_replaces_its_keys(client, issuer):
    # Someone signs as our issuer with their own key and hands in a DID document for our DID
    # that lists it: the keys of our own issuers come from the key store only.
    forger = IssuerKey.from_seed(bytes(range(50, 82)))
    method = f"{issuer.did}#{forger.public_key_multibase}"
    forged = Eddsa2022Suite(loader=DocumentLoader.bundled()).create_proof(
        unsigned_badge(issuer={"id": issuer.did, "type": ["Profile"], "name": "Forged"}),
        key=forger,
        verification_method=method,
    )
    fake_document = {
        "id": issuer.did,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": issuer.did,
                "publicKeyMultibase": forger.public_key_multibase,
            }
        ],
        "assertionMethod": [method],
    }
    response = post_verify(client, forged, {"controllerDocuments": [fake_document]})
    assert response.status_code == 422
    assert response.json["verified"] is False
