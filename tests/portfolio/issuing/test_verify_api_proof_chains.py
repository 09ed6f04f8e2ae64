"""POST /credentials/verify and proof chains: another party's proof beside the issuer's is
accepted when every proof verifies and one is the issuer's (docs/verification.md, "Proof sets
and chains").  Fixtures in tests/assets/proofs/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import load_json


def post_verify(client: Any, credential: Any) -> Any:
    return client.post("/credentials/verify", json={"verifiableCredential": credential})


@pytest.mark.parametrize(
    "fixture", ["chain-other-key-then-issuer.json", "chain-issuer-then-other-key-list.json"]
)
def test_a_chain_with_another_partys_proof_is_verified(client, fixture):
    response = post_verify(client, load_json(f"proofs/{fixture}"))
    assert response.status_code == 200, response.json
    assert response.json["verified"] is True


@pytest.mark.parametrize(
    ("fixture", "failed"),
    [
        ("chain-without-an-issuer-proof.json", "issuer"),
        ("chain-earlier-proof-removed.json", "proof"),
        ("chain-earlier-proof-changed.json", "proof[1]"),
    ],
)
def test_a_chain_that_does_not_hold_is_not_verified(client, fixture, failed):
    response = post_verify(client, load_json(f"proofs/{fixture}"))
    assert response.status_code == 422
    statuses = {c["name"]: c["status"] for c in response.json["checks"]}
    assert statuses[failed] == "failed"
