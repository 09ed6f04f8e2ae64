"""Regenerate the VC 1.1-era fixtures in this folder (run from the repository root):

    .venv/bin/python tests/assets/legacy/generate.py

Two kinds of file (README.md lists each):

* Taken from 1EdTech's published CLR 2.0 samples (``../shared/clr/samples/simple_v1.json``, the
  1EdTech digital-credentials-public-validator's fixture): the first AchievementCredential in its
  ``credentialSubject.verifiableCredential``, unchanged — a VC 1.1 Open Badges 3.0.0 credential
  signed with ``Ed25519Signature2020`` — and one copy changed after signing.
* Made here with the PUBLIC demo key (``../ob3/signed-examples/DEMO-KEY.json``), as the did:key
  issuer of that key: credentials shaped like those in circulation that the samples lack (the
  ``eddsa-2022`` cryptosuite name, OB contexts 3.0.1 / 3.0.2, the VC 1.1 date rules).  Signing is
  deterministic (Ed25519, fixed ``created``), so this reproduces the same bytes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from credentials.jsonld import DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.status import StatusList
from issuer_keys.multikey import decode_secret_key, encode_public_key, multibase_encode

HERE = Path(__file__).parent
ASSETS = HERE.parent
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else ASSETS.parent.parent.parent / "shared"
DEMO = json.loads((ASSETS / "ob3/signed-examples/DEMO-KEY.json").read_text())
KEY = decode_secret_key(DEMO["secretKeyMultibase"])
PUBLIC = encode_public_key(KEY.public_key())
ISSUER = f"did:key:{PUBLIC}"
VM = f"{ISSUER}#{PUBLIC}"
CREATED = "2023-03-01T12:00:00Z"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
DI_V1 = "https://w3id.org/security/data-integrity/v1"
STATUS_2021 = "https://w3id.org/vc/status-list/2021/v1"
STATUS_2021_URL = "https://example.edu/status-2021/1"
REVOKED_INDEX, GOOD_INDEX = 7, 3

suite = Eddsa2022Suite(loader=DocumentLoader.bundled())


def sign_legacy(
    document: dict[str, Any], proof_options: dict[str, Any], *, purpose: str = "assertionMethod"
) -> dict[str, Any]:
    """Sign as Ed25519Signature2020 / eddsa-2022 do: the eddsa-rdfc-2022 hashing with other
    proof options (the service itself never signs this way)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {**proof_options, "created": CREATED, "verificationMethod": VM}
    options["proofPurpose"] = purpose
    canonical_config, canonical_document = suite.canonical_forms(unsecured, options)
    hash_data = (
        hashlib.sha256(canonical_config.encode()).digest()
        + hashlib.sha256(canonical_document.encode()).digest()
    )
    return {**unsecured, "proof": {**options, "proofValue": multibase_encode(KEY.sign(hash_data))}}


def badge(ob_context: str, suite_context: str, **changes: Any) -> dict[str, Any]:
    """The OB 3.0 spec's basic example as a VC 1.1 credential of the 3.0.0–3.0.2 era."""
    document = json.loads((ASSETS / "ob3/examples/basicOpenBadgeCredential.json").read_text())
    document.pop("proof", None)
    document.pop("validFrom", None)
    document["@context"] = [VC_V1, ob_context, suite_context]
    document["issuer"] = {**document["issuer"], "id": ISSUER}
    document["issuanceDate"] = "2023-03-01T00:00:00Z"
    document.update(changes)
    return {k: v for k, v in document.items() if v is not None}


def write(name: str, document: dict[str, Any]) -> None:
    (HERE / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    clr = json.loads((SHARED / "clr/samples/simple_v1.json").read_text())
    achievement = clr["credentialSubject"]["verifiableCredential"][0]
    write("clr-sample-achievement-ed25519-2020.json", achievement)
    changed = copy.deepcopy(achievement)
    changed["credentialSubject"]["achievement"]["name"] = "Registered Nurse Program"
    write("clr-sample-achievement-name-changed-after-signing.json", changed)
    # The sample's issuer is urn:uuid:…; its verification method names the key in its fragment.
    # A verifier needs the issuer's controller document: this one lists exactly that key.
    vm = achievement["proof"]["verificationMethod"]
    controller = vm.split("#", 1)[0]
    write(
        "clr-sample-issuer-controller-document.json",
        {
            "@context": ["https://www.w3.org/ns/did/v1", ED25519_2020],
            "id": controller,
            "verificationMethod": [
                {
                    "id": vm,
                    "type": "Ed25519VerificationKey2020",
                    "controller": controller,
                    "publicKeyMultibase": vm.split("#", 1)[1],
                }
            ],
            "assertionMethod": [vm],
        },
    )

    ob301 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"
    ob302 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
    ed2020 = {"type": "Ed25519Signature2020"}
    eddsa2022 = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-2022"}
    write("vc11-ob301-ed25519-2020.json", sign_legacy(badge(ob301, ED25519_2020), ed2020))
    write("vc11-ob302-eddsa-2022.json", sign_legacy(badge(ob302, DI_V1), eddsa2022))
    # A VC 1.1 presentation of that credential, signed by its holder (the demo key's did:key)
    # with Ed25519Signature2020 for a challenge, as wallets of the time did.
    presentation = {
        "@context": [VC_V1, ED25519_2020],
        "type": ["VerifiablePresentation"],
        "holder": ISSUER,
        "verifiableCredential": [sign_legacy(badge(ob301, ED25519_2020), ed2020)],
    }
    write(
        "vc11-presentation-ed25519-2020.json",
        sign_legacy(
            presentation, {**ed2020, "challenge": "legacy-wallet-1"}, purpose="authentication"
        ),
    )
    # Status List 2021, as VC 1.1 badges carried it: a revocation list with one bit set, and
    # a credential pointing at a clear bit and one pointing at the set bit.
    bits = StatusList.new()
    bits.set(REVOKED_INDEX, True)
    status_list = {
        "@context": [VC_V1, STATUS_2021, ED25519_2020],
        "id": STATUS_2021_URL,
        "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": ISSUER,
        "issuanceDate": "2023-03-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{STATUS_2021_URL}#list",
            "type": "StatusList2021",
            "statusPurpose": "revocation",
            "encodedList": bits.encode().removeprefix("u"),  # no multibase prefix in 2021
        },
    }
    write("status-list-2021-revocation.json", sign_legacy(status_list, ed2020))
    for name, index in (("not-revoked", GOOD_INDEX), ("revoked", REVOKED_INDEX)):
        entry = {
            "id": f"{STATUS_2021_URL}#{index}",
            "type": "StatusList2021Entry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": STATUS_2021_URL,
        }
        document = badge(ob301, ED25519_2020, credentialStatus=entry)
        document["@context"] = [*document["@context"], STATUS_2021]
        write(f"vc11-status-list-2021-{name}.json", sign_legacy(document, ed2020))

    # Non-conformant: each breaks one rule and is signed, so only that rule can fail.
    write(
        "vc11-without-issuance-date.json",
        sign_legacy(badge(ob302, DI_V1, issuanceDate=None), eddsa2022),
    )
    write(
        "vc11-expired.json",
        sign_legacy(badge(ob302, DI_V1, expirationDate="2024-01-01T00:00:00Z"), eddsa2022),
    )
    write(
        "vc11-issued-in-the-future.json",
        sign_legacy(badge(ob302, DI_V1, issuanceDate="2099-01-01T00:00:00Z"), eddsa2022),
    )
    write(
        "vc11-issuance-date-without-time-zone.json",
        sign_legacy(badge(ob302, DI_V1, issuanceDate="2023-03-01T00:00:00"), eddsa2022),
    )
    write(
        "vc11-valid-until-before-expiration-date.json",
        sign_legacy(
            badge(
                ob302,
                DI_V1,
                expirationDate="2099-01-01T00:00:00Z",
                validUntil="2024-01-01T00:00:00Z",
            ),
            eddsa2022,
        ),
    )
    # Non-conformant proofs: the suite's context is missing (its terms would be undefined).
    write(
        "eddsa-2022-without-a-data-integrity-context.json",
        {
            **sign_legacy(badge(ob302, DI_V1), eddsa2022),
            "@context": [VC_V1, ob302, ED25519_2020],
        },
    )
    # A proof that mixes the two shapes (the 2020 suite context does not define cryptosuite).
    mixed = sign_legacy(badge(ob301, ED25519_2020), ed2020)
    mixed["proof"] = {**mixed["proof"], "cryptosuite": "eddsa-rdfc-2022"}
    write("ed25519-2020-proof-with-a-cryptosuite.json", mixed)


if __name__ == "__main__":
    main()
