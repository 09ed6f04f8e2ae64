"""Regenerate the signed and tampered fixtures in this folder (run from the repository root):

    .venv/bin/python tests/assets/tampered/generate.py

Every file is signed with the PUBLIC demo key in ../ob3/signed-examples/DEMO-KEY.json, as the
did:key issuer of that key.  Signing is deterministic (Ed25519, fixed `created`), so running this
again reproduces the same bytes.  Each tampered file changes one thing after signing.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.status import StatusList, build_status_list_credential, status_entry
from issuer_keys.multikey import decode_secret_key, encode_public_key

HERE = Path(__file__).parent
ASSETS = HERE.parent
DEMO = json.loads((ASSETS / "ob3/signed-examples/DEMO-KEY.json").read_text())
KEY = decode_secret_key(DEMO["secretKeyMultibase"])
PUBLIC = encode_public_key(KEY.public_key())
ISSUER = f"did:key:{PUBLIC}"
VM = f"{ISSUER}#{PUBLIC}"
OTHER_ISSUER = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
CREATED = datetime(2024, 1, 1, tzinfo=UTC)
STATUS_URL = "https://example.edu/status/1"
SUSPENSION_URL = "https://example.edu/status/2"
REVOKED_INDEX, SUSPENDED_INDEX, GOOD_INDEX = 7, 9, 3

suite = Eddsa2022Suite(loader=DocumentLoader.bundled())


def sign(document: dict) -> dict:
    return suite.create_proof(document, key=KEY, verification_method=VM, created=CREATED)


def base(**changes: object) -> dict:
    document = json.loads((ASSETS / "ob3/examples/basicOpenBadgeCredential.json").read_text())
    document.pop("proof", None)
    document["issuer"] = {**document["issuer"], "id": ISSUER}
    document["validFrom"] = "2024-01-01T00:00:00Z"
    document["validUntil"] = "2030-01-01T00:00:00Z"
    document.update(changes)
    return document


def write(name: str, document: dict) -> None:
    (HERE / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def status_list(url: str, purpose: str, index: int) -> dict:
    bits = StatusList.new()
    bits.set(index, True)
    return sign(
        build_status_list_credential(
            list_id=url,
            issuer=ISSUER,
            purpose=purpose,
            status_list=bits,
            valid_from="2024-01-01T00:00:00Z",
        )
    )


def main() -> None:
    valid = sign(base())
    write("valid.json", valid)

    def tampered(name: str, change) -> None:
        document = copy.deepcopy(valid)
        change(document)
        write(name, document)

    tampered("tampered-achievement-name.json",
             lambda d: d["credentialSubject"]["achievement"].update(name="Master Badge"))
    tampered("tampered-valid-from.json", lambda d: d.update(validFrom="2023-01-01T00:00:00Z"))
    tampered("tampered-valid-until.json", lambda d: d.update(validUntil="2099-01-01T00:00:00Z"))
    tampered("tampered-issuer.json", lambda d: d["issuer"].update(id=OTHER_ISSUER))
    tampered("tampered-proof-value.json", lambda d: d["proof"][0].update(
        proofValue=d["proof"][0]["proofValue"][:-6] + "zzzzzz"))
    tampered("tampered-proof-created.json",
             lambda d: d["proof"][0].update(created="2024-02-01T00:00:00Z"))
    write("wrong-issuer.json", sign(base(issuer={"id": OTHER_ISSUER, "type": ["Profile"]})))
    write("expired.json", sign(base(validUntil="2024-06-01T00:00:00Z")))
    write("not-yet-valid.json", sign(base(validFrom="2031-01-01T00:00:00Z", validUntil="2035-01-01T00:00:00Z")))
    write("revoked.json", sign(base(credentialStatus=[
        status_entry(STATUS_URL, REVOKED_INDEX, "revocation"),
        status_entry(SUSPENSION_URL, GOOD_INDEX, "suspension")])))
    write("suspended.json", sign(base(credentialStatus=[
        status_entry(STATUS_URL, GOOD_INDEX, "revocation"),
        status_entry(SUSPENSION_URL, SUSPENDED_INDEX, "suspension")])))
    write("not-revoked.json", sign(base(credentialStatus=[
        status_entry(STATUS_URL, GOOD_INDEX, "revocation"),
        status_entry(SUSPENSION_URL, GOOD_INDEX, "suspension")])))
    write("status-list-revocation.json", status_list(STATUS_URL, "revocation", REVOKED_INDEX))
    write("status-list-suspension.json", status_list(SUSPENSION_URL, "suspension", SUSPENDED_INDEX))
    tampered_list = status_list(STATUS_URL, "revocation", REVOKED_INDEX)
    tampered_list["credentialSubject"]["encodedList"] = status_list(
        STATUS_URL, "revocation", GOOD_INDEX + 100)["credentialSubject"]["encodedList"]
    write("tampered-status-list-revocation.json", tampered_list)


if __name__ == "__main__":
    main()
