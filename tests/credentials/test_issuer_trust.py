"""``issuer-trust``: a good signature does not make the name an issuer gives itself true.

The forged fixture (tests/assets/trust/forged-demo-school.json) is signed by a stranger's
did:key and calls its issuer "Credfolio Demo School".  It is genuine (``verified``), but no one
the verifier trusts vouches for its issuer, so the verdict is "genuine, issuer not confirmed"
and the name stays a claim.  Trust lists are DCC issuer registries (bundled sample:
tests/assets/trust/dcc-community-registry.json, the DCC community registry as published)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from credentials.errors import MalformedInputError
from credentials.issuer_trust import THIS_SERVICE, TrustChain, TrustedIssuer, TrustRegistry
from credentials.verify import (
    PASSED,
    UNKNOWN,
    VERDICT_ISSUER_NOT_CONFIRMED,
    VERDICT_NOT_VERIFIED,
    VERDICT_VERIFIED,
    Verifier,
)
from tests.conftest import load_json

NOW = datetime(2025, 6, 1, tzinfo=UTC)
FORGED = "trust/forged-demo-school.json"


def verifier(trust=None) -> Verifier:
    offline = Verifier.offline(now=lambda: NOW)
    offline.trust = trust
    return offline


def registry(path: str, name: str) -> TrustRegistry:
    return TrustRegistry.from_dcc_json(name, load_json(path))


def test_without_a_trust_policy_the_issuer_is_unknown_and_the_verdict_says_so():
    result = verifier().verify(load_json(FORGED))
    check = result.check("issuer-trust")
    assert check is not None and check.status == UNKNOWN
    assert "calls itself 'Credfolio Demo School'" in check.detail
    assert result.verified  # the signature, dates and issuer binding are genuine...
    assert result.verdict == VERDICT_ISSUER_NOT_CONFIRMED  # ...but no one vouches for it
    body = result.to_dict()
    assert body["verdict"] == "genuine-issuer-not-confirmed"
    assert body["issuer"] == {
        "id": load_json(FORGED)["issuer"]["id"],
        "confirmed": False,
        "claimedName": "Credfolio Demo School",
    }
    assert body["errors"] == []  # advisory: not an error of the credential


def test_a_stranger_calling_itself_by_a_trusted_issuers_name_is_not_confirmed():
    own = TrustRegistry(
        THIS_SERVICE,
        [TrustedIssuer("did:web:school.example", "Credfolio Demo School", THIS_SERVICE)],
    )
    result = verifier(own).verify(load_json(FORGED))
    assert result.check("issuer-trust").status == UNKNOWN
    assert result.verdict == VERDICT_ISSUER_NOT_CONFIRMED
    assert result.trusted_issuer is None


def test_an_issuer_listed_in_a_dcc_registry_is_confirmed_under_the_registrys_name():
    listed = registry("trust/registry-listing-the-demo-key.json", "Partner registry")
    result = verifier(listed).verify(load_json(FORGED))
    check = result.check("issuer-trust")
    assert check.status == PASSED
    assert check.detail == "Example Partner College is listed in Partner registry"
    assert result.verdict == VERDICT_VERIFIED
    issuer = result.to_dict()["issuer"]
    # The name shown is the registry's, never the one the credential gives itself.
    assert issuer["name"] == "Example Partner College"
    assert issuer["source"] == "Partner registry"
    assert issuer["confirmed"] is True


def test_the_first_source_that_knows_an_issuer_names_it():
    demo_did = load_json(FORGED)["issuer"]["id"]
    own = TrustRegistry(THIS_SERVICE, [TrustedIssuer(demo_did, "Our School", THIS_SERVICE)])
    listed = registry("trust/registry-listing-the-demo-key.json", "Partner registry")
    found = TrustChain([own, listed])(demo_did)
    assert found is not None and found.own and found.name == "Our School"
    assert TrustChain([listed, own])(demo_did).source == "Partner registry"


def test_the_published_dcc_community_registry_is_read():
    community = registry("trust/dcc-community-registry.json", "DCC Community Registry")
    assert len(community) == 5
    found = community("did:web:credentials.myschool.ca")
    assert found == TrustedIssuer(
        "did:web:credentials.myschool.ca",
        "My School",
        "DCC Community Registry",
        url="https://some.domain.ca",
    )
    assert community("did:web:elsewhere.example") is None


@pytest.mark.parametrize(
    ("fixture", "problem"),
    [
        ("trust/registry-entry-without-name.json", "has no name"),
        ("trust/registry-not-an-object.json", "not a JSON object"),
    ],
)
def test_a_registry_that_is_not_in_the_dcc_format_is_refused_by_name(fixture, problem):
    with pytest.raises(MalformedInputError) as refused:
        registry(fixture, "Broken")
    assert refused.value.code == "INVALID_TRUST_REGISTRY"
    assert problem in refused.value.message and "'Broken'" in refused.value.message


def test_a_bad_signature_is_not_verified_whoever_vouches_for_the_issuer():
    tampered = load_json(FORGED)
    tampered["name"] = "Another Badge"
    listed = registry("trust/registry-listing-the-demo-key.json", "Partner registry")
    result = verifier(listed).verify(tampered)
    assert result.verdict == VERDICT_NOT_VERIFIED
