"""Regenerate the fixtures in this folder (run from the repository root):

    .venv/bin/python tests/assets/vc-rules/generate.py

Each file breaks one VC Data Model 2.0 rule (README.md lists them).  The unsigned ones are the
basic Open Badges example with the public demo key's did:key as issuer; tests sign them with
that key when they need a signed copy.  The two ``id-not-a-url.*`` files are signed the way a
signer WITHOUT data-loss detection signs (plain pyld RDFC-1.0, as Credfolio did before): the
invalid ``id`` makes the conversion drop every credential-level statement, so the second file,
changed after signing, carries the same valid signature.  Deterministic: same bytes each run.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from pyld import jsonld as pyld

from credentials.jsonld import VC_V2_CONTEXT, DocumentLoader
from issuer_keys.multikey import decode_secret_key, encode_public_key, multibase_encode

HERE = Path(__file__).parent
ASSETS = HERE.parent
DEMO = json.loads((ASSETS / "ob3/signed-examples/DEMO-KEY.json").read_text())
KEY = decode_secret_key(DEMO["secretKeyMultibase"])
PUBLIC = encode_public_key(KEY.public_key())
ISSUER = f"did:key:{PUBLIC}"
VM = f"{ISSUER}#{PUBLIC}"
LOADER = DocumentLoader.bundled()


def base(**changes: Any) -> dict[str, Any]:
    document = json.loads((ASSETS / "ob3/examples/basicOpenBadgeCredential.json").read_text())
    document.pop("proof", None)
    document["issuer"] = {**document["issuer"], "id": ISSUER}
    document["validFrom"] = "2024-01-01T00:00:00Z"
    document["validUntil"] = "2030-01-01T00:00:00Z"
    document.update(changes)
    return document


def write(name: str, document: dict[str, Any]) -> None:
    (HERE / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def lenient_canonical(document: dict[str, Any]) -> str:
    options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": LOADER}
    return str(pyld.normalize(copy.deepcopy(document), options))


def lenient_sign(document: dict[str, Any]) -> dict[str, Any]:
    """eddsa-rdfc-2022 (VC-DI-EdDSA §3.2.1) over pyld's canonical form, with no data-loss check."""
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-01-01T00:00:00Z",
        "verificationMethod": VM,
        "proofPurpose": "assertionMethod",
    }
    config = {**options, "@context": document["@context"]}
    hash_data = (
        hashlib.sha256(lenient_canonical(config).encode()).digest()
        + hashlib.sha256(lenient_canonical(document).encode()).digest()
    )
    return {**document, "proof": [{**options, "proofValue": multibase_encode(KEY.sign(hash_data))}]}


def digests(url: str) -> tuple[str, str]:
    data = LOADER.published_bytes(url)
    assert data is not None
    sri = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
    multihash = b"\x12\x20" + hashlib.sha256(data).digest()
    return sri, "u" + base64.urlsafe_b64encode(multihash).decode().rstrip("=")


def main() -> None:
    signed = lenient_sign(base(id="https ://not-a-url/1"))
    write("id-not-a-url.signed.json", signed)
    changed = copy.deepcopy(signed)
    changed["validFrom"], changed["validUntil"] = "2010-01-01T00:00:00Z", "2099-01-01T00:00:00Z"
    changed["type"] = ["VerifiableCredential", "OpenBadgeCredential", "AchievementCredential"]
    write("id-not-a-url.changed-after-signing.json", changed)

    write("iri-with-angle-brackets.json", base(id="urn:uuid:<not-an-iri>"))
    write("iri-with-space-in-subject-id.json", _subject(id="did:example:ebfeb1f712 ebc6f1c276e12ec21"))
    write(
        "language-tag-malformed.json",
        _subject(name={"@value": "Jane", "@language": "en us"}),
    )
    write(
        "vocab-null.json",
        base(**{"@context": [*base()["@context"], {"@vocab": None}]}),
    )
    write(
        "null-context-mappings.json",
        base(**{"@context": [*base()["@context"], {"@language": None, "@direction": None}]}),
    )
    type_map = _subject(values={"Essay": 1})
    type_map["@context"] = [
        *base()["@context"],
        {"values": {"@id": "https://example.edu/vocab#values", "@container": "@type"}},
    ]
    write("type-map-pyld-cannot-process.json", type_map)
    write("index-on-a-node.json", _subject(**{"@index": "not signed"}))
    index_map = _subject(notes={"key-not-signed": "a note"})
    index_map["@context"] = [
        *base()["@context"],
        {"notes": {"@id": "https://example.edu/vocab#notes", "@container": "@index"}},
    ]
    write("index-map-keys.json", index_map)
    write(
        "embedded-context-with-base.json",
        _subject(**{"@context": {"@base": "https://evil.example/"}, "id": "relative"}),
    )
    write("subject-empty-object.json", base(credentialSubject={}))
    write("subject-empty-list.json", base(credentialSubject=[]))
    write(
        "subject-list-with-empty-object.json",
        base(credentialSubject=[base()["credentialSubject"], {}]),
    )
    write(
        "status-without-type.json",
        base(
            credentialStatus={
                "id": "https://example.edu/status/1#3",
                "statusPurpose": "revocation",
                "statusListIndex": "3",
                "statusListCredential": "https://example.edu/status/1",
            }
        ),
    )
    write("terms-of-use-without-type.json", base(termsOfUse={"id": "https://example.edu/tou/1"}))
    write(
        "evidence-without-type.json",
        base(evidence=[{"id": "https://example.edu/evidence/1", "name": "Essay"}]),
    )
    write(
        "refresh-service-without-type.json",
        base(refreshService={"id": "https://example.edu/refresh/1"}),
    )
    schema = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
    write("credential-schema-without-type.json", base(credentialSchema=[{"id": schema}]))
    write(
        "credential-schema-without-id.json",
        base(credentialSchema=[{"type": "JsonSchema"}]),
    )
    sri, multibase = digests(VC_V2_CONTEXT)
    ob_context = base()["@context"][1]
    ob_sri, _ = digests(ob_context)
    write(
        "related-resource-not-objects.json",
        base(relatedResource=[VC_V2_CONTEXT]),
    )
    write(
        "related-resource-without-id.json",
        base(relatedResource=[{"digestSRI": sri}]),
    )
    write(
        "related-resource-repeated-id.json",
        base(
            relatedResource=[
                {"id": VC_V2_CONTEXT, "digestSRI": sri},
                {"id": VC_V2_CONTEXT, "digestMultibase": multibase},
            ]
        ),
    )
    write(
        "related-resource-without-digest.json",
        base(relatedResource=[{"id": VC_V2_CONTEXT, "mediaType": "application/ld+json"}]),
    )
    write(
        "related-resource-wrong-digest.json",
        base(relatedResource=[{"id": VC_V2_CONTEXT, "digestSRI": ob_sri}]),
    )
    write(
        "related-resource-context-digests.json",
        base(
            relatedResource=[
                {"id": VC_V2_CONTEXT, "digestSRI": sri},
                {"id": ob_context, "digestSRI": ob_sri, "digestMultibase": digests(ob_context)[1]},
                {"id": "https://example.edu/not-at-hand", "digestMultibase": multibase},
            ]
        ),
    )


def _subject(**changes: Any) -> dict[str, Any]:
    document = base()
    document["credentialSubject"] = {**document["credentialSubject"], **changes}
    return document


if __name__ == "__main__":
    main()
