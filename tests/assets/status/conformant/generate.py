"""Regenerate the status list credentials of this folder (run from the repository root):

    .venv/bin/python tests/assets/status/conformant/generate.py

Each is a BitstringStatusListCredential that Bitstring Status List v1.0 §3.2 (Validate
Algorithm) accepts but that Credfolio used to refuse for asking more of it than the algorithm
does.  All stand for ``https://example.edu/status/1`` (the revocation list that
../../tampered/revoked.json and not-revoked.json name), with bit 7 set, and are signed with the
PUBLIC demo key of ../../ob3/signed-examples/DEMO-KEY.json — except the one signed by another
issuer, whose key comes from a public all-zero-but-one test seed (never trust it).
Deterministic: fixed dates, Ed25519.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.status import StatusList, build_status_list_credential
from issuer_keys.multikey import decode_secret_key, encode_public_key

HERE = Path(__file__).parent
ASSETS = HERE.parent.parent
DEMO = json.loads((ASSETS / "ob3/signed-examples/DEMO-KEY.json").read_text())
CREATED = datetime(2024, 1, 1, tzinfo=UTC)
URL = "https://example.edu/status/1"
REVOKED_INDEX = 7

suite = Eddsa2022Suite(loader=DocumentLoader.bundled())


def did_key(key: Ed25519PrivateKey) -> tuple[str, str]:
    public = encode_public_key(key.public_key())
    return f"did:key:{public}", f"did:key:{public}#{public}"


DEMO_KEY = decode_secret_key(DEMO["secretKeyMultibase"])
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(31) + b"\x02")


def signed_list(*, key: Ed25519PrivateKey = DEMO_KEY, **changes: Any) -> dict[str, Any]:
    issuer, method = did_key(key)
    bits = StatusList.new()
    bits.set(REVOKED_INDEX, True)
    credential = build_status_list_credential(
        list_id=URL,
        issuer=issuer,
        purpose="revocation",
        status_list=bits,
        valid_from="2024-01-01T00:00:00Z",
    )
    for name, value in changes.items():
        if value is None:
            credential.pop(name, None)
        else:
            credential[name] = value
    return suite.create_proof(credential, key=key, verification_method=method, created=CREATED)


def write(name: str, document: dict[str, Any]) -> None:
    (HERE / name).write_text(json.dumps(document, indent=2) + "\n")


def main() -> None:
    # VC DM 2.0 §4.4: `id` is optional; §3.2 never compares it with the entry's URL.
    write("list-without-id.json", signed_list(id=None))
    write("list-id-differs-from-url.json", signed_list(id="https://lists.example.edu/2024/1"))
    # §3.2 step 4 asks that its proofs verify, not that the list is within its validity period.
    write(
        "list-valid-until-passed.json",
        signed_list(validFrom="2024-01-01T00:00:00Z", validUntil="2024-06-01T00:00:00Z"),
    )
    # §3.2 never compares the list's issuer with the credential's (a status service may sign).
    write("list-signed-by-another-issuer.json", signed_list(key=OTHER_KEY))


if __name__ == "__main__":
    main()
