"""Regenerate the hostile fixtures of this folder (run from the repository root):

    .venv/bin/python tests/assets/budget/generate.py

Each file reproduces one case of issue 14 §5 ("one work budget per request"); README.md says
what each costs without a budget.  Documents are signed with the PUBLIC demo key of
../ob3/signed-examples/DEMO-KEY.json where a valid signature matters; the expensive shapes carry a
well-formed proof with a zero signature (their cost is paid before any signature is checked).
Output is deterministic (fixed dates, fixed order).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.status import status_entry
from issuer_keys.multikey import decode_secret_key, encode_public_key, multibase_encode

HERE = Path(__file__).parent
ASSETS = HERE.parent
DEMO = json.loads((ASSETS / "ob3/signed-examples/DEMO-KEY.json").read_text())
KEY = decode_secret_key(DEMO["secretKeyMultibase"])
PUBLIC = encode_public_key(KEY.public_key())
ISSUER = f"did:key:{PUBLIC}"
VM = f"{ISSUER}#{PUBLIC}"
CREATED = datetime(2024, 1, 1, tzinfo=UTC)
#: The revocation list of ../tampered/ (signed by the same demo issuer; bit 7 set).
STATUS_URL = "https://example.edu/status/1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
OB_VOCAB = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"

suite = Eddsa2022Suite(loader=DocumentLoader.bundled())


def zero_proof() -> dict[str, Any]:
    """A complete eddsa-rdfc-2022 proof whose signature (64 zero bytes) matches nothing."""
    return {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-01-01T00:00:00Z",
        "verificationMethod": VM,
        "proofPurpose": "assertionMethod",
        "proofValue": multibase_encode(bytes(64)),
    }


def sign(document: dict[str, Any]) -> dict[str, Any]:
    return suite.create_proof(document, key=KEY, verification_method=VM, created=CREATED)


def write(name: str, document: dict[str, Any]) -> None:
    # Compact JSON: these are meant to fit the public endpoints' body limits.
    (HERE / name).write_text(json.dumps(document, separators=(",", ":")) + "\n")


def shared_id_subjects(count: int, values: int = 256) -> dict[str, Any]:
    """``count`` credentialSubject objects with one ``id`` and ``values`` values each: JSON-LD
    node merging compares every value of the merged node's property with every other."""
    subjects = [
        {"id": "did:example:learner", "score": [f"{s}-{v}" for v in range(values)]}
        for s in range(count)
    ]
    return {
        "@context": [VC_V2, EXAMPLES_V2],
        "id": f"urn:uuid:00000000-0000-4000-8000-{count:012d}",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": subjects,
        "proof": [zero_proof()],
    }


#: ``knows`` with IRI values, so that a blank node reference is one JSON string.
KNOWS = {"knows": {"@id": "https://www.w3.org/ns/credentials/examples#knows", "@type": "@id"}}


def clique(size: int) -> list[dict[str, Any]]:
    """``size`` blank nodes that each ``knows`` every other (RDFC-1.0's hardest shape)."""
    return [
        {"@id": f"_:n{i}", "knows": [f"_:n{j}" for j in range(size) if j != i]}
        for i in range(size)
    ]


def endorsements_with_cliques(count: int, size: int = 10) -> dict[str, Any]:
    """A credential whose ``endorsement`` is an ``@json`` literal (so its own canonicalization is
    cheap) holding ``count`` EndorsementCredentials, each with a ``size``-node clique: each one
    is refused by the per-canonicalization limit, after its share of work."""
    endorsements = [
        {
            "@context": [VC_V2, EXAMPLES_V2, KNOWS],
            "id": f"urn:uuid:00000000-0000-4000-8001-{i:012d}",
            "type": ["VerifiableCredential", "EndorsementCredential"],
            "issuer": ISSUER,
            "validFrom": "2024-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:endorsed", "member": clique(size)},
            "proof": [zero_proof()],
        }
        for i in range(count)
    ]
    return {
        "@context": [VC_V2, {"endorsement": {"@id": OB_VOCAB + "endorsement", "@type": "@json"}}],
        "id": "urn:uuid:00000000-0000-4000-8002-000000000088",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
        "endorsement": endorsements,
        "proof": [zero_proof()],
    }


def status_entries(first: int, count: int) -> list[dict[str, Any]]:
    return [status_entry(STATUS_URL, index, "revocation") for index in range(first, first + count)]


def many_status_entries(credentials: int, entries: int) -> dict[str, Any]:
    """A signed credential with ``entries`` revocation entries on one list, embedding
    ``credentials - 1`` signed endorsements with as many entries each: every entry names the
    same list (bit 7, which is set, is not among them)."""
    base_index = 1000

    def credential(number: int, types: list[str]) -> dict[str, Any]:
        return {
            "@context": [VC_V2, EXAMPLES_V2],
            "id": f"urn:uuid:00000000-0000-4000-8003-{number:012d}",
            "type": ["VerifiableCredential", *types],
            "issuer": ISSUER,
            "validFrom": "2024-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:learner"},
            "credentialStatus": status_entries(base_index + number * entries, entries),
        }

    endorsements = [sign(credential(n, ["EndorsementCredential"])) for n in range(1, credentials)]
    outer = credential(0, [])
    outer["@context"] = [
        VC_V2,
        EXAMPLES_V2,
        {"endorsement": {"@id": OB_VOCAB + "endorsement", "@type": "@json"}},
    ]
    outer["endorsement"] = endorsements
    return sign(outer)


def main() -> None:
    write("subjects-16x256-shared-id.json", shared_id_subjects(16))
    write("subjects-76x256-shared-id.json", shared_id_subjects(76))
    write("endorsements-88-cliques-in-json-literal.json", endorsements_with_cliques(88))
    write("status-12x256-entries-one-list.json", many_status_entries(12, 256))
    # Not hostile: the same shapes at a legitimate size verify (or fail only their proof).
    write("subjects-4x16-shared-id.json", shared_id_subjects(4, 16))
    write("endorsements-2-triangles-in-json-literal.json", endorsements_with_cliques(2, 3))


if __name__ == "__main__":
    main()
