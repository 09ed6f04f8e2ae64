"""The VC Data Model 2.0 MUSTs of ``credentials.vc_rules``: each fixture in
``tests/assets/vc-rules`` breaks one rule and is named by its code; the verifier reports them
as its ``vc-data-model`` check."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from credentials import vc_rules
from credentials.errors import CannotDecideError
from credentials.jsonld import VC_V2_CONTEXT, DocumentLoader
from credentials.proof import Eddsa2022Suite
from credentials.verify import FAILED, PASSED, Verifier
from issuer_keys.multikey import decode_secret_key, encode_public_key
from tests.conftest import load_json

RULES = Path(__file__).resolve().parents[1] / "assets" / "vc-rules"
DEMO = load_json("ob3/signed-examples/DEMO-KEY.json")
KEY = decode_secret_key(DEMO["secretKeyMultibase"])
PUBLIC = encode_public_key(KEY.public_key())
VM = f"did:key:{PUBLIC}#{PUBLIC}"
LOADER = DocumentLoader.bundled()

#: fixture -> (the rule's code, words of the message)
BROKEN = {
    "subject-empty-object.json": ("EMPTY_SUBJECT", "credentialSubject is an empty object"),
    "subject-empty-list.json": ("EMPTY_SUBJECT", "credentialSubject is missing or empty"),
    "subject-list-with-empty-object.json": ("EMPTY_SUBJECT", "credentialSubject[1] is an empty"),
    "status-without-type.json": ("MISSING_TYPE", "credentialStatus has no type"),
    "terms-of-use-without-type.json": ("MISSING_TYPE", "termsOfUse has no type"),
    "evidence-without-type.json": ("MISSING_TYPE", "evidence has no type"),
    "refresh-service-without-type.json": ("MISSING_TYPE", "refreshService has no type"),
    "credential-schema-without-type.json": ("MISSING_TYPE", "credentialSchema has no type"),
    "credential-schema-without-id.json": ("INVALID_CREDENTIAL_SCHEMA", "has no id"),
    "related-resource-not-objects.json": ("INVALID_RELATED_RESOURCE", "one or more objects"),
    "related-resource-without-id.json": ("INVALID_RELATED_RESOURCE", "has no id"),
    "related-resource-repeated-id.json": ("INVALID_RELATED_RESOURCE", "repeats the id"),
    "related-resource-without-digest.json": (
        "INVALID_RELATED_RESOURCE",
        "neither digestSRI nor digestMultibase",
    ),
    "related-resource-wrong-digest.json": ("DIGEST_MISMATCH", "does not match the resource"),
    "id-not-a-url.signed.json": ("INVALID_ID", "the credential's id must be a single URL"),
    "iri-with-angle-brackets.json": ("INVALID_ID", "must be a single URL"),
}


def fixture(name: str) -> dict[str, Any]:
    document = dict(json.loads((RULES / name).read_text(encoding="utf-8")))
    document.pop("proof", None)
    return document


@pytest.mark.parametrize(("name", "expected"), BROKEN.items(), ids=list(BROKEN))
def test_each_broken_rule_is_named_by_its_code(name: str, expected: tuple[str, str]) -> None:
    code, words = expected
    found = vc_rules.violations(fixture(name), resource=LOADER.published_bytes)
    assert [v.code for v in found] == [code]
    assert words in found[0].message
    with pytest.raises(vc_rules.VcRuleViolation) as caught:
        vc_rules.check(fixture(name), resource=LOADER.published_bytes)
    assert caught.value.code == code


def test_a_conformant_credential_breaks_no_rule() -> None:
    assert vc_rules.violations(load_json("tampered/valid.json")) == []


def test_digests_of_resources_at_hand_are_compared_and_others_only_read() -> None:
    # SRI and a multibase multihash of two bundled contexts, plus a resource not at hand.
    document = fixture("related-resource-context-digests.json")
    assert vc_rules.violations(document, resource=LOADER.published_bytes) == []
    # The same digests against other bytes: every digest of a resource at hand is compared.
    tampered = vc_rules.violations(document, resource=lambda url: b"not the context")
    assert [v.code for v in tampered] == ["DIGEST_MISMATCH"] * 4


def test_the_published_example_digest_of_the_vc_v2_context_matches() -> None:
    # VC DM 2.0 §5.3 Example 24 gives this digestMultibase for https://www.w3.org/ns/credentials/v2.
    document = fixture("related-resource-context-digests.json")
    document["relatedResource"] = [
        {"id": VC_V2_CONTEXT, "digestMultibase": "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA"}
    ]
    assert vc_rules.violations(document, resource=LOADER.published_bytes) == []


@pytest.mark.parametrize(
    ("digest", "words"),
    [
        ({"digestSRI": "md5-abc"}, "no hash algorithm"),
        ({"digestSRI": "sha384-not base64!"}, "not base64"),
        ({"digestSRI": "sha256-" + base64.b64encode(b"short").decode()}, "wrong length"),
        ({"digestMultibase": "Mabc"}, "multibase"),
        (
            {
                "digestMultibase": "u"
                + base64.urlsafe_b64encode(b"\x11\x20" + bytes(32)).decode().rstrip("=")
            },
            "multihash",
        ),
        ({"digestMultibase": 42}, "multihash string"),
    ],
)
def test_digests_that_cannot_be_read_are_refused(digest: dict[str, Any], words: str) -> None:
    document = fixture("related-resource-without-digest.json")
    document["relatedResource"] = [{"id": "https://example.edu/r", **digest}]
    found = vc_rules.violations(document)
    assert [v.code for v in found] == ["INVALID_DIGEST"]
    assert words in found[0].message


def test_a_source_that_cannot_obtain_the_resource_leaves_it_not_at_hand() -> None:
    def refusing(url: str) -> bytes:
        raise CannotDecideError("fetching is disabled")

    data = hashlib.sha256(b"x").digest()
    lookup = vc_rules.first_at_hand(refusing, lambda url: b"x" if url.endswith("/x") else None)
    assert lookup("https://example.edu/x") == b"x"
    assert lookup("https://example.edu/y") is None
    assert hashlib.sha256(lookup("https://example.edu/x") or b"").digest() == data


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier.offline(loader=LOADER)


def signed(name: str) -> dict[str, Any]:
    suite = Eddsa2022Suite(loader=LOADER)
    return suite.create_proof(fixture(name), key=KEY, verification_method=VM)


@pytest.mark.parametrize(
    "name",
    [n for n in BROKEN if not n.startswith(("id-", "iri-", "status-", "subject-empty"))],
)
def test_the_verifier_fails_its_vc_data_model_check_on_a_signed_credential_breaking_a_rule(
    verifier: Verifier, name: str
) -> None:
    result = verifier.verify(signed(name))
    check = result.check("vc-data-model")
    assert check is not None and check.status == FAILED
    assert BROKEN[name][1] in check.detail
    assert result.check("proof").status == PASSED  # the signature is fine: the rule is not
    assert not result.verified


def test_the_verifier_passes_the_check_on_a_conformant_credential(verifier: Verifier) -> None:
    result = verifier.verify(signed("related-resource-context-digests.json"))
    assert result.check("vc-data-model").status == PASSED


def test_a_hostile_list_reports_a_bounded_number_of_broken_rules() -> None:
    document = load_json("hostile/json-10000-array-items.json")
    found = vc_rules.violations(document)
    assert len(found) == vc_rules.MAX_VIOLATIONS
    assert found[0].message == "evidence[0] has no type (VC Data Model 2.0)"
