"""did:key resolution, did:web URL mapping, our did:web document, dereferencing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from issuer_keys.did import (
    DID_CONTEXT,
    dereference_verification_method,
    did_key_for,
    did_web_document,
    did_web_from_url,
    did_web_to_url,
    is_authorized,
    resolve_did_key,
)
from issuer_keys.errors import InvalidDidError, InvalidKeyError, IssuerKeyError, KeyNotFoundError
from issuer_keys.keys import IssuerKey
from tests.conftest import load_json

PUB = load_json("vectors/keyPair.json")["publicKeyMultibase"]
DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VM = f"{DID}#{PUB}"


# --------------------------------------------------------------------------- did:key


def test_vector_did_key_document() -> None:
    assert did_key_for(PUB) == DID
    assert resolve_did_key(DID) == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": DID,
        "verificationMethod": [
            {"id": VM, "type": "Multikey", "controller": DID, "publicKeyMultibase": PUB}
        ],
        "authentication": [VM],
        "assertionMethod": [VM],
        "capabilityInvocation": [VM],
        "capabilityDelegation": [VM],
    }


def test_did_url_resolves_to_same_document() -> None:
    assert resolve_did_key(VM) == resolve_did_key(DID)
    assert dereference_verification_method(resolve_did_key(VM), VM)["publicKeyMultibase"] == PUB


@pytest.mark.parametrize(
    ("did", "match"),
    [
        # P-256 and secp256k1 did:keys: valid, but not Ed25519
        ("did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", "p256-pub"),
        ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "secp256k1-pub"),
        # 0xed01 followed by 31 bytes
        ("did:key:z2DQV3gmUatYLGQFEMdz4e4iyyWQoJX6qkt5eAoGSBvFCJY", "exactly 32 bytes"),
        # the vector did:key with its last character dropped: not a valid multicodec any more
        ("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ", "only Ed25519"),
        ("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0", "base58btc"),
        ("did:key:mABC", "base58btc"),
        ("did:web:example.org", "not a did:key"),
        ("did:key:1.0:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "version"),
        (f"{DID}/path", "path or query"),
    ],
)
def test_unsupported_did_keys_refused(did: str, match: str) -> None:
    with pytest.raises(InvalidDidError, match=match):
        resolve_did_key(did)


def test_did_key_for_refuses_non_ed25519() -> None:
    with pytest.raises(InvalidKeyError):
        did_key_for("zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169")


# --------------------------------------------------------------------------- did:web mapping

WEB_CASES = [
    ("https://example.org", "did:web:example.org", "https://example.org/.well-known/did.json"),
    ("https://example.org/", "did:web:example.org", "https://example.org/.well-known/did.json"),
    (
        "https://example.org:8443",
        "did:web:example.org%3A8443",
        "https://example.org:8443/.well-known/did.json",
    ),
    (
        "https://example.org:8443/path/to",
        "did:web:example.org%3A8443:path:to",
        "https://example.org:8443/path/to/did.json",
    ),
    (
        "https://w3c-ccg.github.io/user/alice",
        "did:web:w3c-ccg.github.io:user:alice",
        "https://w3c-ccg.github.io/user/alice/did.json",
    ),
    (
        "https://Sub.Example.ORG/x",
        "did:web:sub.example.org:x",
        "https://sub.example.org/x/did.json",
    ),
]


@pytest.mark.parametrize(("url", "did", "doc_url"), WEB_CASES)
def test_did_web_mapping(url: str, did: str, doc_url: str) -> None:
    assert did_web_from_url(url) == did
    assert did_web_to_url(did) == doc_url


def test_lower_case_percent_encoded_port_accepted() -> None:
    assert (
        did_web_to_url("did:web:example.org%3a8443")
        == "https://example.org:8443/.well-known/did.json"
    )


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://example.org", "https"),
        ("ftp://example.org", "https"),
        ("https://user:pw@example.org", "credentials"),
        ("https://example.org/a?x=1", "query"),
        ("https://example.org/a#frag", "fragment"),
        ("https://example.org//a", "empty segment"),
        ("https://example.org/a/../b", r"'\.\.'"),
        ("https://example.org/a/%2E%2E/b", r"'\.\.'"),
        ("https://example.org/./a", r"'\.\.'"),
        ("https://[::1]/a", "domain name"),
        ("https://exa_mple.org", "domain name"),
        ("https://example.org:0", "port"),
        ("https://example.org:99999", "malformed"),
        ("https:///path", "domain name"),
        ("https://example.org/a/did.json", "base URL"),
    ],
)
def test_did_web_from_url_invalid(url: str, match: str) -> None:
    with pytest.raises(InvalidDidError, match=match):
        did_web_from_url(url)


@pytest.mark.parametrize(
    ("did", "match"),
    [
        ("did:web:Example.org", "lower-case"),
        ("did:web:", "domain name"),
        ("did:web:example.org::a", "empty segment"),
        ("did:web:example.org:a:", "empty segment"),
        ("did:web:example.org:..:etc", r"'\.\.'"),
        ("did:web:example.org:%2e%2e", r"'\.\.'"),
        ("did:web:example.org:a%2Fb", "not allowed"),
        ("did:web:example.org%3A", "port"),
        ("did:web:example.org%3Ahttp", "port"),
        ("did:web:example.org%3A70000", "port"),
        ("did:web:exa%41mple.org", "domain name"),
        ("did:web:example.org#key-1", "DID URL"),
        ("did:web:example.org/x", "DID URL"),
        ("did:key:z6Mk", "not a did:web"),
    ],
)
def test_did_web_to_url_invalid(did: str, match: str) -> None:
    with pytest.raises(InvalidDidError, match=match):
        did_web_to_url(did)


# --------------------------------------------------------------------------- our did:web doc

WEB_DID = "did:web:example.org"


@dataclass(frozen=True)
class Rec:
    controller: str
    public_key_multibase: str
    status: str


def _recs(*statuses: str) -> list[Rec]:
    return [Rec(WEB_DID, IssuerKey.generate().public_key_multibase, s) for s in statuses]


def test_did_web_document_lists_active_and_retired_not_revoked() -> None:
    retired, revoked, active = _recs("retired", "revoked", "active")
    doc = did_web_document(WEB_DID, [retired, revoked, active])
    vm = {r: f"{WEB_DID}#{r.public_key_multibase}" for r in (retired, revoked, active)}
    assert doc["@context"] == DID_CONTEXT
    assert doc["id"] == WEB_DID
    assert [m["id"] for m in doc["verificationMethod"]] == [vm[active], vm[retired]]
    assert all(
        m["type"] == "Multikey" and m["controller"] == WEB_DID for m in doc["verificationMethod"]
    )
    assert doc["assertionMethod"] == [vm[active], vm[retired]]
    assert doc["authentication"] == [vm[active]]
    assert revoked.public_key_multibase not in repr(doc)
    assert is_authorized(doc, vm[retired]) is True
    assert is_authorized(doc, vm[retired], "authentication") is False
    assert is_authorized(doc, vm[active], "authentication") is True
    assert is_authorized(doc, vm[revoked]) is False
    with pytest.raises(KeyNotFoundError):
        dereference_verification_method(doc, vm[revoked])


def test_did_web_document_refuses_foreign_controller_and_two_active() -> None:
    foreign = Rec("did:web:evil.example", IssuerKey.generate().public_key_multibase, "active")
    with pytest.raises(InvalidDidError, match="another controller"):
        did_web_document(WEB_DID, [foreign])
    with pytest.raises(IssuerKeyError, match="more than one active"):
        did_web_document(WEB_DID, _recs("active", "active"))
    with pytest.raises(InvalidDidError):
        did_web_document("did:web:Example.org", [])


# --------------------------------------------------------------------------- dereferencing


def test_dereference_checks_controller() -> None:
    doc = resolve_did_key(DID)
    doc["verificationMethod"][0]["controller"] = "did:web:evil.example"
    with pytest.raises(InvalidDidError, match="controller does not match"):
        dereference_verification_method(doc, VM)
    assert is_authorized(doc, VM) is False


def test_dereference_refuses_vm_of_other_did_and_missing_fragment() -> None:
    doc = resolve_did_key(DID)
    with pytest.raises(InvalidDidError, match="different DID"):
        dereference_verification_method(doc, f"did:web:example.org#{PUB}")
    with pytest.raises(InvalidDidError, match="fragment"):
        dereference_verification_method(doc, DID)
    with pytest.raises(KeyNotFoundError):
        dereference_verification_method(doc, f"{DID}#other")


def test_relative_and_embedded_methods() -> None:
    doc = {
        "id": WEB_DID,
        "verificationMethod": [
            {"id": "#k1", "type": "Multikey", "controller": WEB_DID, "publicKeyMultibase": PUB}
        ],
        "assertionMethod": ["#k1"],
        "authentication": [
            {
                "id": f"{WEB_DID}#k2",
                "type": "Multikey",
                "controller": WEB_DID,
                "publicKeyMultibase": PUB,
            }
        ],
    }
    assert dereference_verification_method(doc, f"{WEB_DID}#k1")["id"] == "#k1"
    assert is_authorized(doc, f"{WEB_DID}#k1") is True
    assert is_authorized(doc, f"{WEB_DID}#k2", "authentication") is True
    assert is_authorized(doc, f"{WEB_DID}#k2") is False
    with pytest.raises(ValueError, match="unknown verification relationship"):
        is_authorized(doc, f"{WEB_DID}#k1", "signing")
