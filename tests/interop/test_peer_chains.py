"""Proof chains across the two stacks: a chain the Digital Bazaar stack makes verifies in
Credfolio, and a chain Credfolio makes verifies there, proof by proof (tests/interop/
peer-proofs.mjs drives the library's DataIntegrityProof with Data Integrity 1.0 §4.5).  In each,
another party's key signs first and the issuer's proof is chained to it (the policy of
docs/verification.md, "Proof sets and chains")."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.verify import FAILED, PASSED, Verifier
from issuer_keys.keys import IssuerKey
from tests.conftest import load_json
from tests.interop.test_peer import SEED, SEED_HEX, node, pytestmark  # noqa: F401

SCRIPT = str(Path(__file__).with_name("peer-proofs.mjs"))
OTHER_SEED = bytes(range(100, 132))
FIRST = "urn:uuid:0a6f5d4e-0001-4000-8000-000000000001"
SECOND = "urn:uuid:0a6f5d4e-0002-4000-8000-000000000002"
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def did_of(seed: bytes) -> str:
    return f"did:key:{IssuerKey.from_seed(seed).public_key_multibase}"


def unsigned() -> dict:
    document = load_json("proofs/chain-other-key-then-issuer.json")
    document.pop("proof")
    document["issuer"]["id"] = did_of(SEED)
    return dict(document)


def peer_adds_proof(peer: Path, tmp_path: Path, document: dict, seed: bytes, *args: str) -> dict:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(document))
    run = node(peer, SCRIPT, "add", str(path), seed.hex(), *args)
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


def peer_checks(peer: Path, tmp_path: Path, document: dict) -> list[dict]:
    path = tmp_path / "check.json"
    path.write_text(json.dumps(document))
    run = node(peer, SCRIPT, "check", str(path))
    assert run.returncode == 0, run.stderr
    return list(json.loads(run.stdout))


def credfolio_adds_proof(document: dict, seed: bytes, proof_id: str, **options: object) -> dict:
    key = IssuerKey.from_seed(seed)
    return Eddsa2022Suite(loader=DocumentLoader.bundled()).create_proof(
        document,
        key=key,
        verification_method=key.verification_method_id(did_of(seed)),
        created=datetime(2024, 1, 2, tzinfo=UTC),
        extra_options={"id": proof_id, **options},
    )


def test_a_chain_the_peer_makes_verifies_in_credfolio(peer, tmp_path):
    first = peer_adds_proof(peer, tmp_path, unsigned(), OTHER_SEED, FIRST, "2024-01-01T00:00:00Z")
    chain = peer_adds_proof(peer, tmp_path, first, SEED, SECOND, "2024-01-02T00:00:00Z", FIRST)
    assert chain["proof"][1]["previousProof"] == FIRST
    verifier = Verifier.offline(now=lambda: NOW)
    result = verifier.verify(chain)
    assert result.verified, result.errors
    changed = copy.deepcopy(chain)
    changed["proof"][0]["created"] = "2024-01-05T00:00:00Z"
    result = verifier.verify(changed)
    assert [result.check("proof").status, result.check("proof[1]").status] == [FAILED, FAILED]


def test_a_chain_credfolio_makes_verifies_in_the_peer(peer, tmp_path):
    first = credfolio_adds_proof(unsigned(), OTHER_SEED, FIRST)
    chain = credfolio_adds_proof(first, SEED, SECOND, previousProof=[FIRST])
    results = peer_checks(peer, tmp_path, chain)
    assert [r["verified"] for r in results] == [True, True], results
    assert results[1]["controller"] == chain["issuer"]["id"]
    changed = copy.deepcopy(chain)
    changed["proof"][0]["created"] = "2024-01-05T00:00:00Z"
    assert [r["verified"] for r in peer_checks(peer, tmp_path, changed)] == [False, False]


def test_each_stack_chains_its_proof_to_the_others(peer, tmp_path):
    # The peer signs first and Credfolio chains the issuer's proof to it, and the other way.
    peer_first = peer_adds_proof(
        peer, tmp_path, unsigned(), OTHER_SEED, FIRST, "2024-01-01T00:00:00Z"
    )
    ours_chained = credfolio_adds_proof(peer_first, SEED, SECOND, previousProof=FIRST)
    ours_first = credfolio_adds_proof(unsigned(), OTHER_SEED, FIRST)
    peer_chained = peer_adds_proof(
        peer, tmp_path, ours_first, SEED, SECOND, "2024-01-02T00:00:00Z", FIRST
    )
    verifier = Verifier.offline(now=lambda: NOW)
    for chain in (ours_chained, peer_chained):
        assert [r["verified"] for r in peer_checks(peer, tmp_path, chain)] == [True, True]
        result = verifier.verify(chain)
        assert result.verified, result.errors
        assert result.check("issuer").status == PASSED
