"""Interoperability with the leading JavaScript implementation (Digital Bazaar's
@digitalbazaar/vc + eddsa-rdfc-2022-cryptosuite, harness in ../shared/peer, prepared by
scripts/peer).  What Credfolio signs verifies there, and what it signs verifies here."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.status import StatusList, build_status_list_credential, status_entry
from credentials.verify import FAILED, PASSED, Verifier
from issuer_keys.did import did_web_document
from issuer_keys.keys import IssuerKey
from tests.conftest import ASSETS

PEER_DIR = os.environ.get("CREDFOLIO_PEER_DIR")
SEED = bytes(range(32))
SEED_HEX = SEED.hex()
EXAMPLES = sorted((ASSETS / "ob3" / "examples").glob("*.json"))

pytestmark = [
    pytest.mark.peer,
    pytest.mark.skipif(
        not PEER_DIR and not os.environ.get("CI"),
        reason="peer harness not prepared (scripts/test prepares it when Node.js is present)",
    ),
]


def node(peer: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", *args], cwd=peer, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def key() -> IssuerKey:
    return IssuerKey.from_seed(SEED)


@pytest.fixture(scope="module")
def suite() -> Eddsa2022Suite:
    return Eddsa2022Suite(loader=DocumentLoader.bundled())


def unsigned_example(path: Path, issuer: str) -> dict:
    document = json.loads(path.read_text())
    document.pop("proof", None)
    if isinstance(document.get("issuer"), dict):
        document["issuer"] = {**document["issuer"], "id": issuer}
    else:
        document["issuer"] = issuer
    return document


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_what_credfolio_signs_with_did_key_verifies_in_the_peer(
    peer, key, suite, tmp_path, example
):
    did = f"did:key:{key.public_key_multibase}"
    signed = suite.create_proof(
        unsigned_example(example, did), key=key, verification_method=key.verification_method_id(did)
    )
    path = tmp_path / "signed.json"
    path.write_text(json.dumps(signed))
    run = node(peer, "verify.mjs", str(path), "--ignore-status", "--now", "2025-06-01T00:00:00Z")
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["verified"] is True


def test_what_credfolio_signs_with_did_web_verifies_in_the_peer(peer, key, suite, tmp_path):
    did = "did:web:credfolio.test"

    class Record:
        controller = did
        public_key_multibase = key.public_key_multibase
        status = "active"

    signed = suite.create_proof(
        unsigned_example(EXAMPLES[0], did),
        key=key,
        verification_method=key.verification_method_id(did),
    )
    (tmp_path / "signed.json").write_text(json.dumps(signed))
    (tmp_path / "did.json").write_text(json.dumps(did_web_document(did, [Record()])))
    run = node(
        peer,
        "verify.mjs",
        str(tmp_path / "signed.json"),
        "--did-web-doc",
        str(tmp_path / "did.json"),
        "--ignore-status",
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_credential_credfolio_tampered_with_fails_in_the_peer(peer, key, suite, tmp_path):
    did = f"did:key:{key.public_key_multibase}"
    signed = suite.create_proof(
        unsigned_example(EXAMPLES[0], did),
        key=key,
        verification_method=key.verification_method_id(did),
    )
    signed["credentialSubject"]["achievement"]["name"] = "Something else"
    (tmp_path / "signed.json").write_text(json.dumps(signed))
    run = node(peer, "verify.mjs", str(tmp_path / "signed.json"), "--ignore-status")
    assert run.returncode == 1, run.stdout + run.stderr


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_what_the_peer_signs_verifies_in_credfolio(peer, tmp_path, example):
    source = tmp_path / "unsigned.json"
    document = json.loads(example.read_text())
    document.pop("proof", None)
    source.write_text(json.dumps(document))
    run = node(peer, "sign.mjs", str(source), SEED_HEX, "--created", "2024-01-01T00:00:00Z")
    assert run.returncode == 0, run.stderr
    signed = json.loads(run.stdout)
    result = Verifier.offline(now=lambda: datetime(2025, 6, 1, tzinfo=UTC)).verify(signed)
    assert result.check("proof").status == PASSED
    assert result.check("issuer").status == PASSED
    # The official examples' embedded endorsements carry placeholder proofs by other issuers,
    # and some examples use 1EdTechRevocationList status, which no one can check offline.
    failed = {c.name for c in result.checks if c.status == FAILED}
    assert failed <= {"endorsements"}, result.errors
    if "endorsement" not in document and "credentialStatus" not in document:
        assert result.verified, result.errors


def test_what_the_peer_signs_with_did_web_verifies_in_credfolio(peer, tmp_path):
    did = "did:web:peer.example"
    source = tmp_path / "unsigned.json"
    document = json.loads(EXAMPLES[0].read_text())
    document.pop("proof", None)
    source.write_text(json.dumps(document))
    run = node(
        peer,
        "sign.mjs",
        str(source),
        SEED_HEX,
        "--did-web",
        did,
        "--did-doc-out",
        str(tmp_path / "did.json"),
    )
    assert run.returncode == 0, run.stderr
    did_document = json.loads((tmp_path / "did.json").read_text())
    verifier = Verifier.offline(did_documents={did: did_document})
    result = verifier.verify(json.loads(run.stdout))
    assert result.verified, result.errors
    # Without the DID document we cannot decide — and never claim success.
    assert not Verifier.offline().verify(json.loads(run.stdout)).verified


def test_a_status_list_the_peer_signs_revokes_in_credfolio(peer, key, suite, tmp_path):
    list_url = "https://peer.example/status/1"
    run = node(peer, "make-status-list.mjs", SEED_HEX, list_url, str(tmp_path / "list.json"), "5")
    assert run.returncode == 0, run.stderr
    status_list = json.loads((tmp_path / "list.json").read_text())
    did = f"did:key:{key.public_key_multibase}"
    verifier = Verifier.offline(status_lists={list_url: status_list})
    for index, expected in ((5, FAILED), (6, PASSED)):
        document = unsigned_example(EXAMPLES[0], did)
        document["credentialStatus"] = status_entry(list_url, index, "revocation")
        signed = suite.create_proof(
            document, key=key, verification_method=key.verification_method_id(did)
        )
        assert verifier.verify(signed).check("revocation").status == expected


def test_a_credential_revoked_in_a_credfolio_status_list_fails_in_the_peer(
    peer, key, suite, tmp_path
):
    did = f"did:key:{key.public_key_multibase}"
    list_url = "https://credfolio.test/status/1"
    bits = StatusList.new()
    bits.set(11, True)
    status_list = suite.create_proof(
        build_status_list_credential(
            list_id=list_url,
            issuer=did,
            purpose="revocation",
            status_list=bits,
            valid_from="2024-01-01T00:00:00Z",
        ),
        key=key,
        verification_method=key.verification_method_id(did),
    )
    (tmp_path / "list.json").write_text(json.dumps(status_list))
    for index, expected_exit in ((11, 1), (12, 0)):
        document = unsigned_example(EXAMPLES[0], did)
        document["credentialStatus"] = status_entry(list_url, index, "revocation")
        signed = suite.create_proof(
            document, key=key, verification_method=key.verification_method_id(did)
        )
        (tmp_path / "vc.json").write_text(json.dumps(signed))
        run = node(
            peer,
            "verify.mjs",
            str(tmp_path / "vc.json"),
            "--status-list-doc",
            str(tmp_path / "list.json"),
        )
        assert run.returncode == expected_exit, run.stdout + run.stderr


@pytest.mark.parametrize(
    "path",
    sorted((ASSETS / "ob3" / "signed-examples").glob("*.signed.json")),
    ids=lambda p: p.name,
)
def test_credfolio_and_the_peer_agree_on_the_signed_examples(peer, path):
    run = node(peer, "verify.mjs", str(path), "--proof-only")
    theirs = run.returncode == 0
    ours = Verifier.offline().verify(json.loads(path.read_text())).check("proof").status == PASSED
    assert ours == theirs, run.stdout
