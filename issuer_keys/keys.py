"""Ed25519 issuer keys: :class:`IssuerKey` (sign) and :class:`PublicKey` (verify only).

Pure cryptography on top of :mod:`issuer_keys.multikey`; no storage, no Flask.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from . import multikey
from .errors import InvalidDidError, InvalidKeyError

SEED_LENGTH = 32
SIGNATURE_LENGTH = 64


def verification_method_id(controller: str, public_key_multibase: str) -> str:
    """``<controller>#<publicKeyMultibase>`` — the did:key fragment convention, also used
    for did:web so that a verification method id names its key unambiguously.

    Raises :class:`InvalidDidError` when ``controller`` is not a bare DID.
    """
    if not isinstance(controller, str) or not controller.startswith("did:"):
        raise InvalidDidError("controller must be a DID (did:<method>:<id>)")
    if any(c in controller for c in "#?/ ") or controller.count(":") < 2:
        raise InvalidDidError("controller must be a bare DID, without path, query or fragment")
    return f"{controller}#{public_key_multibase}"


class PublicKey:
    """An Ed25519 public key that can only verify."""

    __slots__ = ("_key", "_multibase")

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key
        self._multibase = multikey.encode_public_key(key)

    @classmethod
    def from_multibase(cls, value: str) -> PublicKey:
        """Parse a Multikey ``publicKeyMultibase`` (``z6Mk…``).

        Raises :class:`InvalidKeyError` on bad base58, a wrong multicodec or a wrong length.
        """
        return cls(multikey.decode_public_key(value))

    @classmethod
    def from_bytes(cls, raw: bytes) -> PublicKey:
        """A raw 32-byte Ed25519 public key; raises :class:`InvalidKeyError`."""
        if not isinstance(raw, bytes) or len(raw) != 32:
            raise InvalidKeyError("an Ed25519 public key is exactly 32 bytes")
        return cls(Ed25519PublicKey.from_public_bytes(raw))

    @property
    def public_key_multibase(self) -> str:
        """The Multikey ``publicKeyMultibase`` form."""
        return self._multibase

    @property
    def raw(self) -> bytes:
        """The raw 32-byte public key."""
        return self._key.public_bytes(Encoding.Raw, PublicFormat.Raw)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Return True iff ``signature`` is a valid Ed25519 signature of ``data``.

        Never raises for a bad, truncated or non-bytes signature: returns False, so that a
        verifier cannot be crashed by hostile input.
        """
        if not isinstance(signature, bytes | bytearray) or len(signature) != SIGNATURE_LENGTH:
            return False
        if not isinstance(data, bytes | bytearray):
            return False
        try:
            self._key.verify(bytes(signature), bytes(data))
        except InvalidSignature:
            return False
        return True

    def verification_method_id(self, controller: str) -> str:
        """See :func:`verification_method_id`."""
        return verification_method_id(controller, self._multibase)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self._multibase == other._multibase

    def __hash__(self) -> int:
        return hash(self._multibase)

    def __repr__(self) -> str:
        return f"PublicKey({self._multibase!r})"


class IssuerKey:
    """An Ed25519 key pair with optional metadata (``key_id``).

    The secret half lives only in this object's memory; ``repr()`` and ``str()`` show the
    public key alone.  Use :meth:`export_secret_seed` / :meth:`export_secret_multibase`
    explicitly (e.g. to encrypt it for storage).
    """

    __slots__ = ("_private", "_public", "key_id")

    def __init__(self, private_key: Ed25519PrivateKey, *, key_id: str | None = None) -> None:
        self._private = private_key
        self._public = PublicKey(private_key.public_key())
        self.key_id = key_id

    @classmethod
    def generate(cls, *, key_id: str | None = None) -> IssuerKey:
        """A fresh key pair from the operating system's CSPRNG (via OpenSSL)."""
        return cls(Ed25519PrivateKey.generate(), key_id=key_id)

    @classmethod
    def from_secret_multibase(cls, value: str, *, key_id: str | None = None) -> IssuerKey:
        """Parse ``secretKeyMultibase`` (0x8026 + 32-byte seed, or seed ‖ public key).

        Raises :class:`InvalidKeyError`; the message never repeats the input.
        """
        return cls(multikey.decode_secret_key(value), key_id=key_id)

    @classmethod
    def from_seed(cls, seed: bytes, *, key_id: str | None = None) -> IssuerKey:
        """An Ed25519 key from its 32-byte seed (RFC 8032 §5.1.5).

        Raises :class:`InvalidKeyError` unless ``seed`` is exactly 32 bytes.
        """
        if not isinstance(seed, bytes | bytearray) or len(seed) != SEED_LENGTH:
            raise InvalidKeyError("an Ed25519 seed is exactly 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(seed)), key_id=key_id)

    @property
    def public_key(self) -> PublicKey:
        """The verify-only half."""
        return self._public

    @property
    def public_key_multibase(self) -> str:
        """The Multikey ``publicKeyMultibase`` (``z6Mk…``)."""
        return self._public.public_key_multibase

    def sign(self, data: bytes) -> bytes:
        """A 64-byte Ed25519 (pure, RFC 8032) signature of ``data``."""
        if not isinstance(data, bytes | bytearray):
            raise TypeError("data to sign must be bytes")
        return self._private.sign(bytes(data))

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Shortcut for ``self.public_key.verify(...)``; never raises on a bad signature."""
        return self._public.verify(signature, data)

    def verification_method_id(self, controller: str) -> str:
        """``<controller>#<publicKeyMultibase>``; raises :class:`InvalidDidError`."""
        return verification_method_id(controller, self.public_key_multibase)

    def export_secret_seed(self) -> bytes:
        """The raw 32-byte seed.  Secret: only for encrypting at rest."""
        return self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def export_secret_multibase(self) -> str:
        """``secretKeyMultibase`` (32-byte form).  Secret: never log or print it."""
        return multikey.encode_secret_key(self._private)

    def __repr__(self) -> str:
        # Only public facts: the secret must never reach logs or tracebacks via repr().
        return (
            f"IssuerKey(key_id={self.key_id!r}, public_key_multibase={self.public_key_multibase!r})"
        )

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[Any, ...]:
        # Refuse pickling: a pickle would carry the secret seed in the clear (to caches,
        # task queues, child processes).  Pass key ids around instead.
        raise TypeError("IssuerKey cannot be pickled; it holds secret key material")
