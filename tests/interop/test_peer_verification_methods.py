"""HTTPS verification methods across the two stacks: a credential signed with a key named
``https://issuer.example/issuers/1#key-1`` verifies in the Digital Bazaar stack and in Credfolio
with the same controller document at hand, whichever signed it, and both hold the issuer to the
method's controller (tests/interop/peer-proofs.mjs, `verify-https` and `add --vm`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from credentials.verify import FAILED, Verifier
from tests.conftest import load_json
from tests.interop.test_peer import SEED, node, pytestmark  # noqa: F401

SCRIPT = str(Path(__file__).with_name("peer-proofs.mjs"))
NOW = datetime(2025, 6, 1, tzinfo=UTC)
VM = "https://issuer.example/issuers/1#key-1"


def controller_document() -> dict:
    # The Digital Bazaar stack reads a controller document without framing it only under the
    # DID context (a DID document is a controller document); Credfolio reads either.
    document = load_json("proofs/https-controller-document.json")
    document["@context"] = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    return dict(document)


def peer_verifies(peer: Path, tmp_path: Path, credential: dict) -> dict:
    (tmp_path / "vc.json").write_text(json.dumps(credential))
    (tmp_path / "controller.json").write_text(json.dumps(controller_document()))
    run = node(
        peer, SCRIPT, "verify-https", str(tmp_path / "vc.json"), str(tmp_path / "controller.json")
    )
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


def credfolio() -> Verifier:
    document = controller_document()
    return Verifier.offline(now=lambda: NOW, did_documents={document["id"]: document})


def test_what_credfolio_signs_with_an_https_method_verifies_in_the_peer(peer, tmp_path):
    credential = load_json("proofs/https-verification-method.json")
    assert credfolio().verify(credential).verified
    assert peer_verifies(peer, tmp_path, credential)["verified"] is True


def test_what_the_peer_signs_with_an_https_method_verifies_in_credfolio(peer, tmp_path):
    unsigned = load_json("proofs/https-verification-method.json")
    unsigned.pop("proof")
    (tmp_path / "unsigned.json").write_text(json.dumps(unsigned))
    run = node(
        peer,
        SCRIPT,
        "add",
        str(tmp_path / "unsigned.json"),
        SEED.hex(),
        "urn:uuid:0a6f5d4e-0003-4000-8000-000000000003",
        "2024-01-01T00:00:00Z",
        "--vm",
        VM,
    )
    assert run.returncode == 0, run.stderr
    signed = json.loads(run.stdout)
    assert signed["proof"][0]["verificationMethod"] == VM
    result = credfolio().verify(signed)
    assert result.verified, result.errors


def test_both_hold_the_issuer_to_the_methods_controller(peer, tmp_path):
    credential = load_json("proofs/https-verification-method-issuer-is-someone-else.json")
    assert peer_verifies(peer, tmp_path, credential)["verified"] is False
    assert credfolio().verify(credential).check("issuer").status == FAILED
