"""Multibase (base58btc) and Multikey encodings of Ed25519 keys.

Controlled Identifiers 1.0 §2.2.2 (Multikey) and the Multibase / Multicodec registries:

* public key  = ``z`` + base58btc(0xed 0x01 ‖ 32-byte Ed25519 public key)
* secret key  = ``z`` + base58btc(0x80 0x26 ‖ 32-byte seed) — some implementations append the
  public key (64 bytes); we accept both and always emit the 32-byte form.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import InvalidKeyError

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}

ED25519_PUB_PREFIX = b"\xed\x01"  # multicodec ed25519-pub (0xed) as a varint
ED25519_PRIV_PREFIX = b"\x80\x26"  # multicodec ed25519-priv (0x1300) as a varint


def b58encode(data: bytes) -> str:
    """Bitcoin base58 alphabet; leading zero bytes become leading ``1``s."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_ALPHABET[r])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; raises :class:`InvalidKeyError` on a foreign character."""
    n = 0
    for c in text:
        try:
            n = n * 58 + _INDEX[c]
        except KeyError:
            raise InvalidKeyError(f"invalid base58btc character {c!r}") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes) -> str:
    """Multibase base58btc (prefix ``z``)."""
    return "z" + b58encode(data)


def multibase_decode(value: str) -> bytes:
    """Decode a base58btc multibase string; any other base is refused."""
    if not isinstance(value, str) or not value.startswith("z") or len(value) < 2:
        raise InvalidKeyError("expected a multibase base58btc string starting with 'z'")
    return b58decode(value[1:])


def encode_public_key(key: Ed25519PublicKey) -> str:
    """An Ed25519 public key as a Multikey ``publicKeyMultibase`` (``z6Mk…``)."""
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return multibase_encode(ED25519_PUB_PREFIX + raw)


def decode_public_key(value: str) -> Ed25519PublicKey:
    """Parse a Multikey ``publicKeyMultibase``; raises :class:`InvalidKeyError`."""
    data = multibase_decode(value)
    if not data.startswith(ED25519_PUB_PREFIX) or len(data) != 34:
        raise InvalidKeyError("publicKeyMultibase is not an Ed25519 public key (0xed01 + 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(data[2:])


def encode_secret_key(key: Ed25519PrivateKey) -> str:
    """An Ed25519 secret key as ``secretKeyMultibase`` (0x8026 + 32-byte seed)."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return multibase_encode(ED25519_PRIV_PREFIX + seed)


def decode_secret_key(value: str) -> Ed25519PrivateKey:
    """Parse ``secretKeyMultibase``: 0x8026 followed by a 32-byte seed or seed ‖ public key.

    When the 64-byte form carries a public key, it must match the seed.
    """
    data = multibase_decode(value)
    if not data.startswith(ED25519_PRIV_PREFIX) or len(data) not in (34, 66):
        raise InvalidKeyError(
            "secretKeyMultibase is not an Ed25519 secret key (0x8026 + 32 or 64 bytes)"
        )
    key = Ed25519PrivateKey.from_private_bytes(data[2:34])
    if len(data) == 66:
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if public != data[34:]:
            raise InvalidKeyError("64-byte secret key: the public half does not match the seed")
    return key
