"""Language-tagged and directional values across the two stacks (Digital Bazaar's peer harness,
prepared by scripts/peer): what either signs verifies in the other, and a base direction changed
after signing fails in both.  The credential is tests/assets/proofs/direction-unsigned.json:
`@direction` with and without a language, language-tagged values and two language maps (one
whose term carries a direction)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.verify import FAILED, Verifier
from issuer_keys.keys import IssuerKey
from tests.conftest import ASSETS, load_json
from tests.interop.test_peer import SEED, SEED_HEX, node, pytestmark  # noqa: F401

UNSIGNED = ASSETS / "proofs" / "direction-unsigned.json"
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def switch_direction(document: dict) -> dict:
    switched = copy.deepcopy(document)
    switched["name"]["@direction"] = "rtl"
    return switched


def peer_verifies(peer: Path, tmp_path: Path, document: dict) -> bool:
    path = tmp_path / "vc.json"
    path.write_text(json.dumps(document, ensure_ascii=False))
    run = node(peer, "verify.mjs", str(path), "--now", "2025-06-01T00:00:00Z")
    assert run.returncode in (0, 1), run.stdout + run.stderr
    return run.returncode == 0


def test_what_credfolio_signs_with_directional_values_verifies_in_the_peer(peer, tmp_path):
    key = IssuerKey.from_seed(SEED)
    did = f"did:key:{key.public_key_multibase}"
    document = load_json("proofs/direction-unsigned.json")
    document["issuer"]["id"] = did
    signed = Eddsa2022Suite(loader=DocumentLoader.bundled()).create_proof(
        document, key=key, verification_method=key.verification_method_id(did)
    )
    assert peer_verifies(peer, tmp_path, signed)
    assert not peer_verifies(peer, tmp_path, switch_direction(signed))


def test_what_the_peer_signs_with_directional_values_verifies_in_credfolio(peer):
    run = node(peer, "sign.mjs", str(UNSIGNED), SEED_HEX, "--created", "2024-01-01T00:00:00Z")
    assert run.returncode == 0, run.stderr
    signed = json.loads(run.stdout)
    verifier = Verifier.offline(now=lambda: NOW)
    result = verifier.verify(signed)
    assert result.verified, result.errors
    assert verifier.verify(switch_direction(signed)).check("proof").status == FAILED
