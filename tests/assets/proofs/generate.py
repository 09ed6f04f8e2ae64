"""Regenerate the signed fixtures in this folder (run from the repository root):

    CREDFOLIO_PEER_DIR=$(scripts/peer) .venv/bin/python tests/assets/proofs/generate.py

Files named ``*-by-digital-bazaar*`` are signed by the peer harness (the Digital Bazaar stack,
``../shared/peer``) with the seed 00 01 02 … 1f; the others by Credfolio, the issuer with the same
key and "another party" with the demo key of ../ob3/signed-examples/DEMO-KEY.json.  Every key
here is a PUBLIC test key.  Signing is deterministic (Ed25519, fixed ``created``), so running
this again reproduces the same bytes.  A file named for what is wrong with it changes exactly one
thing after signing (see README.md).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from issuer_keys.keys import IssuerKey
from issuer_keys.multikey import decode_secret_key

HERE = Path(__file__).parent
SEED_HEX = bytes(range(32)).hex()
CREATED = "2024-01-01T00:00:00Z"
ISSUER_KEY = IssuerKey.from_seed(bytes(range(32)))
ISSUER = f"did:key:{ISSUER_KEY.public_key_multibase}"
#: Another party's key (an assessor, a witness): the public demo key.
_DEMO = json.loads((HERE.parent / "ob3/signed-examples/DEMO-KEY.json").read_text())
OTHER_KEY = IssuerKey.from_seed(decode_secret_key(_DEMO["secretKeyMultibase"]).private_bytes_raw())
OTHER = f"did:key:{OTHER_KEY.public_key_multibase}"
suite = Eddsa2022Suite(loader=DocumentLoader.bundled())


def credential() -> dict:
    document = json.loads((HERE.parent / "ob3/examples/basicOpenBadgeCredential.json").read_text())
    document.pop("proof", None)
    document["issuer"] = {**document["issuer"], "id": ISSUER}
    document["validFrom"] = CREATED
    return dict(document)


def add_proof(document: dict, *, by: str, proof_id: str, previous: object = None) -> dict:
    """Credfolio adds a proof: to the set, or chained to ``previous`` (Data Integrity §4.5)."""
    key = ISSUER_KEY if by == ISSUER else OTHER_KEY
    options: dict[str, object] = {"id": proof_id}
    if previous is not None:
        options["previousProof"] = previous
    return suite.create_proof(
        document,
        key=key,
        verification_method=f"{by}#{by.removeprefix('did:key:')}",
        created=datetime(2024, 1, 1 + len(document.get("proof", [])), tzinfo=UTC),
        extra_options=options,
    )


def write(name: str, document: dict) -> None:
    (HERE / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def peer_sign(unsigned: Path) -> dict:
    peer = os.environ["CREDFOLIO_PEER_DIR"]
    run = subprocess.run(
        ["node", "sign.mjs", str(unsigned.resolve()), SEED_HEX, "--created", CREATED],
        cwd=peer,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(run.stdout))


def chains() -> None:
    """Proof chains and sets in which another party's key signs beside the issuer's."""
    first = "urn:uuid:0a6f5d4e-0001-4000-8000-000000000001"
    second = "urn:uuid:0a6f5d4e-0002-4000-8000-000000000002"
    other_then_issuer = add_proof(
        add_proof(credential(), by=OTHER, proof_id=first), by=ISSUER, proof_id=second, previous=first
    )
    write("chain-other-key-then-issuer.json", other_then_issuer)
    issuer_then_other = add_proof(
        add_proof(credential(), by=ISSUER, proof_id=first), by=OTHER, proof_id=second, previous=[first]
    )
    write("chain-issuer-then-other-key-list.json", issuer_then_other)
    no_issuer = add_proof(
        add_proof(credential(), by=OTHER, proof_id=first), by=OTHER, proof_id=second, previous=first
    )
    write("chain-without-an-issuer-proof.json", no_issuer)
    removed = copy.deepcopy(other_then_issuer)
    removed["proof"] = removed["proof"][1:]
    write("chain-earlier-proof-removed.json", removed)
    changed = copy.deepcopy(other_then_issuer)
    changed["proof"][0]["created"] = "2024-01-05T00:00:00Z"
    write("chain-earlier-proof-changed.json", changed)


HTTPS_ISSUER = "https://issuer.example/issuers/1"
HTTPS_VM = f"{HTTPS_ISSUER}#key-1"


def controller_document(**changes: object) -> dict:
    """A controller document (W3C Controlled Identifiers 1.0 §2) for the issuer's key."""
    document: dict[str, object] = {
        "@context": "https://www.w3.org/ns/cid/v1",
        "id": HTTPS_ISSUER,
        "verificationMethod": [
            {
                "id": HTTPS_VM,
                "type": "Multikey",
                "controller": HTTPS_ISSUER,
                "publicKeyMultibase": ISSUER_KEY.public_key_multibase,
            }
        ],
        "assertionMethod": ["#key-1"],
    }
    document.update(changes)
    return document


def signed_by(issuer: str, verification_method: str) -> dict:
    document = credential()
    document["issuer"]["id"] = issuer
    return suite.create_proof(
        document,
        key=ISSUER_KEY,
        verification_method=verification_method,
        created=datetime(2024, 1, 1, tzinfo=UTC),
    )


def verification_methods() -> None:
    """Verification methods named by HTTPS URLs, bare did:key, no scheme and unknown schemes."""
    write("https-verification-method.json", signed_by(HTTPS_ISSUER, HTTPS_VM))
    write("https-controller-document.json", controller_document())
    write(
        "https-controller-document-not-for-assertion.json",
        controller_document(assertionMethod=[], authentication=["#key-1"]),
    )
    elsewhere: dict = controller_document()
    elsewhere["verificationMethod"][0]["controller"] = "https://attacker.example/keys"
    write("https-controller-document-method-controlled-elsewhere.json", elsewhere)
    write(
        "https-verification-method-issuer-is-someone-else.json",
        signed_by("https://other.example/issuers/2", HTTPS_VM),
    )
    write("bare-did-key-verification-method.json", signed_by(ISSUER, ISSUER))
    # A relative reference cannot even be signed (it is not an IRI: DATA_LOSS_DETECTION_ERROR),
    # so these name it in place of the key that signed.
    for name, relative in (("without-scheme", "key-1"), ("relative-fragment", "#key-1")):
        document = signed_by(ISSUER, f"{ISSUER}#{ISSUER_KEY.public_key_multibase}")
        document["proof"][0]["verificationMethod"] = relative
        write(f"verification-method-{name}.json", document)
    write(
        "verification-method-unknown-scheme.json",
        signed_by(ISSUER, "ftp://issuer.example/keys#key-1"),
    )


def main() -> None:
    chains()
    verification_methods()
    signed = peer_sign(HERE / "direction-unsigned.json")
    write("direction-signed-by-digital-bazaar.json", signed)
    switched = copy.deepcopy(signed)
    switched["name"]["@direction"] = "rtl"
    write("direction-ltr-switched-to-rtl.json", switched)
    dropped = copy.deepcopy(signed)
    del dropped["description"]["@direction"]
    write("direction-removed.json", dropped)


if __name__ == "__main__":
    main()
