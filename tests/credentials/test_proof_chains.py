"""Proof sets and chains in which another party's key signs beside the issuer's.

Policy (docs/verification.md, "Proof sets and chains"): every proof must verify — a chained
proof against the proofs its `previousProof` names (Data Integrity 1.0 §4.5) — every key must be
usable, and at least one proof must be made with a key of the issuer's.  Fixtures in
tests/assets/proofs/ (generate.py there).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from credentials.errors import MalformedInputError
from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.verify import FAILED, PASSED, Verifier
from issuer_keys.keys import IssuerKey
from tests.conftest import load_json

NOW = datetime(2025, 6, 1, tzinfo=UTC)
ISSUER_KEY = IssuerKey.from_seed(bytes(range(32)))
ISSUER = f"did:key:{ISSUER_KEY.public_key_multibase}"
OTHER_KEY = IssuerKey.from_seed(bytes(range(100, 132)))
OTHER = f"did:key:{OTHER_KEY.public_key_multibase}"


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier.offline(now=lambda: NOW)


@pytest.fixture(scope="module")
def suite() -> Eddsa2022Suite:
    return Eddsa2022Suite(loader=DocumentLoader.bundled())


def proof_statuses(result) -> list[str]:
    return [c.status for c in result.checks if c.name.startswith("proof")]


@pytest.mark.parametrize(
    "fixture", ["chain-other-key-then-issuer.json", "chain-issuer-then-other-key-list.json"]
)
def test_a_chain_with_another_partys_proof_verifies_when_one_proof_is_the_issuers(
    verifier, fixture
):
    result = verifier.verify(load_json(f"proofs/{fixture}"))
    assert proof_statuses(result) == [PASSED, PASSED]
    assert result.check("issuer").status == PASSED
    assert "did:key:" in result.check("issuer").detail  # the other signer is named
    assert result.verified, result.errors


def test_a_chain_without_a_proof_by_the_issuer_fails_the_issuer_check(verifier):
    result = verifier.verify(load_json("proofs/chain-without-an-issuer-proof.json"))
    assert proof_statuses(result) == [PASSED, PASSED]
    assert result.check("issuer").status == FAILED
    assert not result.verified


def test_removing_the_proof_a_chain_names_fails_the_chained_proof(verifier):
    result = verifier.verify(load_json("proofs/chain-earlier-proof-removed.json"))
    assert result.check("proof").status == FAILED
    assert "previousProof" in result.check("proof").detail
    assert not result.verified


def test_changing_the_proof_a_chain_names_fails_both_proofs(verifier):
    result = verifier.verify(load_json("proofs/chain-earlier-proof-changed.json"))
    assert proof_statuses(result) == [FAILED, FAILED]
    assert not result.verified


def test_a_proof_set_with_a_witness_besides_the_issuer_verifies(verifier, suite):
    document = load_json("proofs/chain-other-key-then-issuer.json")
    document.pop("proof")
    for key, did in ((ISSUER_KEY, ISSUER), (OTHER_KEY, OTHER)):
        document = suite.create_proof(
            document, key=key, verification_method=key.verification_method_id(did)
        )
    result = verifier.verify(document)
    assert proof_statuses(result) == [PASSED, PASSED]
    assert result.verified, result.errors


def test_a_proof_set_by_the_issuer_with_one_bad_proof_is_not_verified(verifier, suite):
    document = load_json("proofs/chain-other-key-then-issuer.json")
    document.pop("proof")
    for key, did in ((ISSUER_KEY, ISSUER), (OTHER_KEY, OTHER)):
        document = suite.create_proof(
            document, key=key, verification_method=key.verification_method_id(did)
        )
    document["proof"][1]["created"] = "2030-01-01T00:00:00Z"
    result = verifier.verify(document)
    assert proof_statuses(result) == [PASSED, FAILED]
    assert not result.verified


def test_credfolio_signs_a_chained_proof_over_the_proofs_it_names(verifier, suite):
    document = load_json("proofs/chain-other-key-then-issuer.json")
    document["proof"] = document["proof"][:1]  # the other party's proof alone
    named = document["proof"][0]["id"]
    chained = suite.create_proof(
        document,
        key=ISSUER_KEY,
        verification_method=ISSUER_KEY.verification_method_id(ISSUER),
        extra_options={"previousProof": named},
    )
    assert verifier.verify(chained).verified
    changed = copy.deepcopy(chained)
    changed["proof"][0]["proofPurpose"] = "authentication"
    assert verifier.verify(changed).check("proof[1]").status == FAILED


def test_chaining_to_a_proof_the_document_does_not_hold_is_refused(suite):
    document = load_json("proofs/chain-other-key-then-issuer.json")
    with pytest.raises(MalformedInputError, match="previousProof"):
        suite.create_proof(
            document,
            key=ISSUER_KEY,
            verification_method=ISSUER_KEY.verification_method_id(ISSUER),
            extra_options={"previousProof": "urn:uuid:not-here"},
        )
