"""Regenerate the signed non-conformant credentials in this folder (from the repository root):

    .venv/bin/python tests/assets/schema/generate.py

Signed like ../tampered/ with the PUBLIC demo key (../ob3/signed-examples/DEMO-KEY.json) as its
did:key issuer, with a fixed `created`, so the bytes are reproducible.  Their status entries
point at the lists in ../tampered/ (status-list-revocation.json, status-list-suspension.json),
at positions whose bits are clear.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.status import status_entry
from issuer_keys.multikey import decode_secret_key, encode_public_key

HERE = Path(__file__).parent
ASSETS = HERE.parent
DEMO = json.loads((ASSETS / "ob3/signed-examples/DEMO-KEY.json").read_text())
KEY = decode_secret_key(DEMO["secretKeyMultibase"])
PUBLIC = encode_public_key(KEY.public_key())
ISSUER = f"did:key:{PUBLIC}"
CREATED = datetime(2024, 1, 1, tzinfo=UTC)
STATUS_URL = "https://example.edu/status/1"
SUSPENSION_URL = "https://example.edu/status/2"
GOOD_INDEX = 3

suite = Eddsa2022Suite(loader=DocumentLoader.bundled())


def sign(document: dict) -> dict:
    return suite.create_proof(
        document, key=KEY, verification_method=f"{ISSUER}#{PUBLIC}", created=CREATED
    )


def base() -> dict:
    document = json.loads((ASSETS / "ob3/examples/basicOpenBadgeCredential.json").read_text())
    document.pop("proof", None)
    document["issuer"] = {**document["issuer"], "id": ISSUER}
    document["validFrom"] = "2024-01-01T00:00:00Z"
    document["validUntil"] = "2030-01-01T00:00:00Z"
    # The shape Credfolio issued by default before the schema fix: revocation, then suspension.
    document["credentialStatus"] = [
        status_entry(STATUS_URL, GOOD_INDEX, "revocation"),
        status_entry(SUSPENSION_URL, GOOD_INDEX, "suspension"),
    ]
    return document


def write(name: str, document: dict) -> None:
    (HERE / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    write("credential-status-as-a-list.json", sign(base()))
    hiding = base()
    del hiding["credentialSubject"]["achievement"]["criteria"]
    write("credential-status-list-and-no-criteria.json", sign(hiding))


if __name__ == "__main__":
    main()
