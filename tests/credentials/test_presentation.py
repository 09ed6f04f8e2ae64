"""Verifiable Presentations without an app: the holder's proof, challenge and domain, holder
binding, and one result per embedded credential."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from credentials.errors import CannotDecideError, MalformedInputError, UnsupportedProofError
from credentials.jsonld import DocumentLoader
from credentials.presentation import (
    parse_presentation,
    resolve_did_key_only,
    verify_presentation,
)
from credentials.proof import Eddsa2022Suite
from credentials.verify import Verifier
from issuer_keys.keys import IssuerKey
from tests.conftest import unsigned_badge

LOADER = DocumentLoader.bundled()
SUITE = Eddsa2022Suite(loader=LOADER)
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def did_of(key: IssuerKey) -> str:
    return f"did:key:{key.public_key_multibase}"


def vm_of(key: IssuerKey) -> str:
    return f"{did_of(key)}#{key.public_key_multibase}"


@pytest.fixture(scope="module")
def credential() -> dict[str, Any]:
    """An Open Badge signed by a did:key issuer (verifiable offline)."""
    key = IssuerKey.generate()
    document = unsigned_badge(
        id="urn:uuid:0b5e0c0e-1d7e-4f55-8a8c-0d7e4f1a2b3c",
        issuer={"id": did_of(key), "type": ["Profile"], "name": "Offline School"},
        validFrom="2025-01-01T00:00:00Z",
    )
    return SUITE.create_proof(document, key=key, verification_method=vm_of(key))


@pytest.fixture
def verifier() -> Verifier:
    return Verifier.offline(loader=LOADER, now=lambda: NOW)


def make_vp(credentials: list[Any], *, holder: str | None = None) -> dict[str, Any]:
    vp: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": credentials,
    }
    if holder:
        vp["holder"] = holder
    return vp


def sign(vp: dict[str, Any], key: IssuerKey, purpose: str = "authentication", **options: Any):
    return SUITE.create_proof(
        vp, key=key, verification_method=vm_of(key), proof_purpose=purpose, extra_options=options
    )


def statuses(result: Any) -> dict[str, str]:
    return {c.name: c.status for c in result.checks}


def test_a_holder_signed_presentation_verifies(credential, verifier):
    holder = IssuerKey.generate()
    vp = sign(make_vp([credential], holder=did_of(holder)), holder, challenge="abc", domain="x.org")
    result = verify_presentation(vp, verifier=verifier, challenge="abc", domain="x.org")
    assert result.verified, result.errors
    assert statuses(result) == {
        "presentation-contexts": "passed",
        "presentation-proof": "passed",
        "holder": "passed",
        "challenge": "passed",
        "domain": "passed",
    }
    body = result.to_dict()
    assert set(body) == {"verified", "checks", "credentialResults", "warnings", "errors"}
    assert body["credentialResults"][0]["verified"] is True


def test_a_domain_may_be_one_of_several(credential, verifier):
    holder = IssuerKey.generate()
    vp = sign(make_vp([credential]), holder, domain=["a.org", "b.org"])
    assert verify_presentation(vp, verifier=verifier, domain="b.org").verified


@pytest.mark.parametrize(
    ("expected", "failing"),
    [({"challenge": "other"}, "challenge"), ({"domain": "evil.org"}, "domain")],
)
def test_a_wrong_challenge_or_domain_fails_by_name(credential, verifier, expected, failing):
    holder = IssuerKey.generate()
    vp = sign(make_vp([credential]), holder, challenge="abc", domain="x.org")
    result = verify_presentation(vp, verifier=verifier, **expected)
    assert not result.verified
    assert statuses(result)[failing] == "failed"
    assert statuses(result)["presentation-proof"] == "passed"


def test_a_challenge_in_the_proof_is_not_checked_unless_asked(credential, verifier):
    holder = IssuerKey.generate()
    vp = sign(make_vp([credential]), holder, challenge="abc")
    result = verify_presentation(vp, verifier=verifier)
    assert result.verified
    assert statuses(result)["challenge"] == "not-applicable"


def test_changing_a_signed_presentation_breaks_its_proof(credential, verifier):
    holder = IssuerKey.generate()
    vp = sign(make_vp([credential], holder=did_of(holder)), holder)
    vp["holder"] = did_of(IssuerKey.generate())
    result = verify_presentation(vp, verifier=verifier)
    assert statuses(result)["presentation-proof"] == "failed"
    assert statuses(result)["holder"] == "failed"


def test_the_proof_must_come_from_the_named_holder(credential, verifier):
    signer = IssuerKey.generate()
    vp = sign(make_vp([credential], holder=did_of(IssuerKey.generate())), signer)
    result = verify_presentation(vp, verifier=verifier)
    assert statuses(result)["presentation-proof"] == "passed"
    assert statuses(result)["holder"] == "failed"
    assert not result.verified


def test_an_issuer_style_proof_is_not_authentication(credential, verifier):
    holder = IssuerKey.generate()
    vp = sign(make_vp([credential]), holder, purpose="assertionMethod")
    result = verify_presentation(vp, verifier=verifier)
    assert statuses(result)["presentation-proof"] == "failed"
    assert "authentication" in result.check("presentation-proof").detail


def test_an_expired_proof_fails(credential, verifier):
    holder = IssuerKey.generate()
    vp = sign(make_vp([credential]), holder, expires="2025-05-01T00:00:00Z")
    result = verify_presentation(vp, verifier=verifier)
    assert statuses(result)["presentation-proof"] == "failed"
    assert "expired" in result.check("presentation-proof").detail


def test_a_holder_whose_did_cannot_be_resolved_is_unknown(credential, verifier):
    holder = IssuerKey.generate()
    vp = sign(make_vp([credential]), holder)

    def nothing(did: str) -> dict[str, Any]:
        raise CannotDecideError(f"{did} cannot be resolved here")

    result = verify_presentation(vp, verifier=verifier, resolve_did_document=nothing)
    assert statuses(result)["presentation-proof"] == "unknown"
    assert not result.verified


def test_each_credential_gets_its_own_result(credential, verifier):
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Changed"
    malformed = copy.deepcopy(credential)
    malformed["favouriteColour"] = "green"
    result = verify_presentation(make_vp([credential, tampered, malformed]), verifier=verifier)
    good, bad, broken = result.credential_results
    assert good["verified"] is True
    assert bad["verified"] is False
    assert any(c["name"] == "proof" and c["status"] == "failed" for c in bad["checks"])
    assert broken["error"] == "DATA_LOSS_DETECTION_ERROR"
    assert not result.verified
    assert any(e.startswith("verifiableCredential[1] proof:") for e in result.errors)


def test_an_unsigned_presentation_of_good_credentials_verifies_with_a_warning(credential, verifier):
    result = verify_presentation(make_vp([credential]), verifier=verifier)
    assert result.verified
    assert statuses(result)["presentation-proof"] == "not-applicable"
    assert "the presentation is not signed by its holder" in result.warnings


def test_an_empty_unsigned_presentation_proves_nothing(verifier):
    assert not verify_presentation(make_vp([]), verifier=verifier).verified


def test_an_unsigned_presentation_cannot_answer_a_challenge(credential, verifier):
    result = verify_presentation(make_vp([credential]), verifier=verifier, challenge="abc")
    assert statuses(result)["challenge"] == "failed"
    assert not result.verified


@pytest.mark.parametrize(
    ("vp", "match"),
    [
        ([], "JSON object"),
        ({"type": "VerifiableCredential"}, "VerifiablePresentation"),
        ({"type": "VerifiablePresentation", "verifiableCredential": ["jwt"]}, "credential object"),
        ({"type": "VerifiablePresentation", "holder": {"name": "x"}}, "holder"),
    ],
)
def test_malformed_presentations_are_refused_by_name(vp, match):
    with pytest.raises(MalformedInputError, match=match):
        parse_presentation(vp)


def test_a_context_outside_the_allow_list_is_malformed(verifier):
    vp = {**make_vp([]), "@context": ["https://www.w3.org/ns/credentials/v2", "https://evil/"]}
    with pytest.raises(MalformedInputError, match="evil"):
        verify_presentation(vp, verifier=verifier)


def test_an_unknown_cryptosuite_is_malformed(credential, verifier):
    holder = IssuerKey.generate()
    vp = sign(make_vp([credential]), holder)
    vp["proof"][0]["cryptosuite"] = "ecdsa-rdfc-2019"
    with pytest.raises(UnsupportedProofError, match="ecdsa-rdfc-2019"):
        verify_presentation(vp, verifier=verifier)


def test_only_did_key_resolves_offline():
    key = IssuerKey.generate()
    assert resolve_did_key_only(did_of(key))["id"] == did_of(key)
    with pytest.raises(CannotDecideError):
        resolve_did_key_only("did:web:example.org")
