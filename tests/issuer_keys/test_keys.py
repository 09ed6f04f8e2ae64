"""IssuerKey / PublicKey: the W3C key-pair vector, signing, and refusal of bad key material."""

from __future__ import annotations

import copy
import pickle

import pytest

from issuer_keys import multikey
from issuer_keys.errors import InvalidDidError, InvalidKeyError
from issuer_keys.keys import IssuerKey, PublicKey
from tests.conftest import load_json

VECTOR = load_json("vectors/keyPair.json")
VECTOR_DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
# Signature hex of the eddsa-rdfc-2022 alumni vector over the 64-byte hashData.
SIG_HEX = (
    "4d8e53c2d5b3f2a7891753eb16ca993325bdb0d3cfc5be1093d0a18426f5ef85"
    "78cadc0fd4b5f4dd0d1ce0aefd15ab120b7a894d0eb094ffda4e6553cd1ed50d"
)


def test_vector_secret_key_decodes_and_matches_public_key() -> None:
    key = IssuerKey.from_secret_multibase(VECTOR["privateKeyMultibase"])
    assert key.public_key_multibase == VECTOR["publicKeyMultibase"]
    assert key.export_secret_multibase() == VECTOR["privateKeyMultibase"]


def test_vector_signature_reproduced(assets) -> None:
    # Ed25519 is deterministic: signing the vector's hashData must give the vector signature.
    hash_data = bytes.fromhex(
        (assets / "vectors/eddsa-rdfc-2022/combinedHashDataInt.txt").read_text().strip()
    )
    key = IssuerKey.from_secret_multibase(VECTOR["privateKeyMultibase"])
    assert key.sign(hash_data).hex() == SIG_HEX
    public = PublicKey.from_multibase(VECTOR["publicKeyMultibase"])
    assert public.verify(bytes.fromhex(SIG_HEX), hash_data) is True


def test_verification_method_id_uses_multibase_fragment() -> None:
    key = IssuerKey.from_secret_multibase(VECTOR["privateKeyMultibase"])
    assert key.verification_method_id(VECTOR_DID) == f"{VECTOR_DID}#{VECTOR['publicKeyMultibase']}"
    assert (
        key.verification_method_id("did:web:example.org")
        == f"did:web:example.org#{VECTOR['publicKeyMultibase']}"
    )


@pytest.mark.parametrize("controller", ["example.org", "did:web", "did:web:x#frag", "did:web:x/p"])
def test_verification_method_id_refuses_non_did(controller: str) -> None:
    with pytest.raises(InvalidDidError):
        IssuerKey.generate().verification_method_id(controller)


def test_64_byte_secret_key_accepted() -> None:
    key = IssuerKey.from_secret_multibase(VECTOR["privateKeyMultibase"])
    long_form = multikey.multibase_encode(
        multikey.ED25519_PRIV_PREFIX + key.export_secret_seed() + key.public_key.raw
    )
    again = IssuerKey.from_secret_multibase(long_form)
    assert again.public_key_multibase == VECTOR["publicKeyMultibase"]


def test_64_byte_secret_key_with_foreign_public_half_refused() -> None:
    key = IssuerKey.from_secret_multibase(VECTOR["privateKeyMultibase"])
    other = IssuerKey.generate()
    bad = multikey.multibase_encode(
        multikey.ED25519_PRIV_PREFIX + key.export_secret_seed() + other.public_key.raw
    )
    with pytest.raises(InvalidKeyError, match="does not match"):
        IssuerKey.from_secret_multibase(bad)


def test_from_seed_round_trip_and_length_check() -> None:
    key = IssuerKey.generate()
    assert IssuerKey.from_seed(key.export_secret_seed()).public_key == key.public_key
    for seed in (b"", b"\x01" * 31, b"\x01" * 33):
        with pytest.raises(InvalidKeyError, match="32 bytes"):
            IssuerKey.from_seed(seed)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        # the public key handed in as a secret key: wrong multicodec
        (VECTOR["publicKeyMultibase"], "not an Ed25519 secret key"),
        # base58 has no 0, O, I, l
        ("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjx0", "invalid base58btc"),
        # base64 multibase ('m'), not base58btc
        ("mgCYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "base58btc"),
        # right prefix, 31-byte seed
        (multikey.multibase_encode(b"\x80\x26" + b"\x07" * 31), "32 or 64 bytes"),
        ("", "base58btc"),
    ],
)
def test_bad_secret_keys_refused(value: str, match: str) -> None:
    with pytest.raises(InvalidKeyError, match=match):
        IssuerKey.from_secret_multibase(value)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (VECTOR["privateKeyMultibase"], "not an Ed25519 public key"),
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ", "not an Ed25519 public key"),
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQl", "invalid base58btc"),
        # P-256 Multikey (0x1200): a different multicodec
        ("zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", "not an Ed25519 public key"),
    ],
)
def test_bad_public_keys_refused(value: str, match: str) -> None:
    with pytest.raises(InvalidKeyError, match=match):
        PublicKey.from_multibase(value)


def test_verify_returns_false_and_never_raises() -> None:
    key = IssuerKey.generate()
    sig = key.sign(b"message")
    public = key.public_key
    assert public.verify(sig, b"message") is True
    assert public.verify(sig, b"messagE") is False
    tampered = bytes([sig[0] ^ 1]) + sig[1:]
    assert public.verify(tampered, b"message") is False
    assert public.verify(sig[:-1], b"message") is False
    assert public.verify(b"", b"message") is False
    assert public.verify("not bytes", b"message") is False  # type: ignore[arg-type]
    assert IssuerKey.generate().public_key.verify(sig, b"message") is False


def test_repr_contains_no_secret() -> None:
    key = IssuerKey.from_secret_multibase(VECTOR["privateKeyMultibase"], key_id="k1")
    seed = key.export_secret_seed()
    for text in (repr(key), str(key), f"{key}", repr(key.public_key)):
        assert VECTOR["privateKeyMultibase"] not in text
        assert VECTOR["privateKeyMultibase"][1:] not in text
        assert seed.hex() not in text
    assert VECTOR["publicKeyMultibase"] in repr(key)


def test_issuer_key_cannot_be_pickled_or_copied() -> None:
    key = IssuerKey.generate()
    with pytest.raises(TypeError, match="secret"):
        pickle.dumps(key)
    with pytest.raises(TypeError, match="secret"):
        copy.deepcopy(key)
