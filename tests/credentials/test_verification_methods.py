"""Verification methods as Open Badges 3.0 allows them: a DID URL or an HTTP(S) URL naming a key
in a controller document (W3C Controlled Identifiers 1.0 §3.3 "Retrieve Verification Method").

* An HTTPS method resolves from the controller document at hand (given to the verifier: the
  CLI's ``--did-document``/``--controller-document``, the API's ``options.controllerDocuments``);
  without one it cannot be decided.  The issuer binding is the same as for DIDs: the method's
  controller is the issuer, and the document lists the method under ``assertionMethod``.
* A bare ``did:key:z6Mk…`` resolves to its key (a credential's proof or a holder's).
* A method with no scheme or a scheme that names no kind of verification method is a failed
  proof (malformed: Data Integrity 1.0 §2.1 requires a URL), not "could not check".

Fixtures in tests/assets/proofs/ (generate.py there).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from credentials.jsonld import DocumentLoader
from credentials.presentation import verify_presentation
from credentials.proof import Eddsa2022Suite
from credentials.verify import FAILED, PASSED, UNKNOWN, Verifier
from issuer_keys.keys import IssuerKey
from tests.conftest import load_json

NOW = datetime(2025, 6, 1, tzinfo=UTC)
HTTPS_ISSUER = "https://issuer.example/issuers/1"


def verifier_with(*documents: str) -> Verifier:
    given = [load_json(f"proofs/{name}") for name in documents]
    return Verifier.offline(now=lambda: NOW, did_documents={d["id"]: d for d in given})


def test_an_https_method_resolves_from_its_controller_document():
    verifier = verifier_with("https-controller-document.json")
    result = verifier.verify(load_json("proofs/https-verification-method.json"))
    assert result.check("proof").status == PASSED
    assert result.check("issuer").status == PASSED
    assert result.verified, result.errors


def test_an_https_method_without_its_controller_document_cannot_be_decided():
    result = verifier_with().verify(load_json("proofs/https-verification-method.json"))
    assert result.check("proof").status == UNKNOWN
    assert "controller document" in result.check("proof").detail
    assert not result.verified


@pytest.mark.parametrize(
    ("document", "failed"),
    [
        ("https-controller-document-not-for-assertion.json", "issuer"),
        ("https-controller-document-method-controlled-elsewhere.json", "proof"),
    ],
)
def test_a_controller_document_that_does_not_vouch_for_the_key_fails(document, failed):
    result = verifier_with(document).verify(load_json("proofs/https-verification-method.json"))
    assert result.check(failed).status == FAILED
    assert not result.verified


def test_the_issuer_binding_applies_to_https_methods_unchanged():
    verifier = verifier_with("https-controller-document.json")
    result = verifier.verify(
        load_json("proofs/https-verification-method-issuer-is-someone-else.json")
    )
    assert result.check("proof").status == PASSED
    assert result.check("issuer").status == FAILED
    assert HTTPS_ISSUER in result.check("issuer").detail


def test_a_bare_did_key_resolves_to_its_key():
    document = load_json("proofs/bare-did-key-verification-method.json")
    assert "#" not in document["proof"][0]["verificationMethod"]
    result = verifier_with().verify(document)
    assert result.check("proof").status == PASSED
    assert result.check("issuer").status == PASSED
    assert result.verified, result.errors


def test_a_did_key_naming_another_keys_fragment_fails():
    document = load_json("proofs/bare-did-key-verification-method.json")
    did = document["proof"][0]["verificationMethod"]
    another_key = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    document["proof"][0]["verificationMethod"] = f"{did}#{another_key}"
    assert verifier_with().verify(document).check("proof").status == FAILED


@pytest.mark.parametrize(
    "fixture",
    [
        "verification-method-without-scheme.json",
        "verification-method-relative-fragment.json",
        "verification-method-unknown-scheme.json",
    ],
)
def test_a_method_with_no_scheme_or_an_unknown_scheme_is_a_malformed_proof(fixture):
    result = verifier_with().verify(load_json(f"proofs/{fixture}"))
    proof = result.check("proof")
    assert proof.status == FAILED
    assert "malformed" in proof.detail
    assert result.check("issuer").status == FAILED
    assert result.check("key-status").status == FAILED
    assert not result.verified


def test_a_presentation_signed_with_a_bare_did_key_verifies():
    holder = IssuerKey.from_seed(bytes(range(64, 96)))
    did = f"did:key:{holder.public_key_multibase}"
    presentation = Eddsa2022Suite(loader=DocumentLoader.bundled()).create_proof(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": did,
            "verifiableCredential": [load_json("proofs/bare-did-key-verification-method.json")],
        },
        key=holder,
        verification_method=did,
        proof_purpose="authentication",
        extra_options={"challenge": "abc"},
    )
    result = verify_presentation(presentation, verifier=verifier_with(), challenge="abc")
    assert result.verified, result.errors
