"""Exceptions for keys, DIDs and the key store; each has a stable ``code`` and a safe message."""

from __future__ import annotations

from typing import Any


class IssuerKeyError(Exception):
    """Base class.  Messages never contain secret key material."""

    code = "KEY_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.message}


class InvalidKeyError(IssuerKeyError):
    """Key material that cannot be decoded (bad multibase, wrong multicodec, wrong length)."""

    code = "INVALID_KEY"


class InvalidDidError(IssuerKeyError):
    """A DID or DID URL we cannot parse or do not support."""

    code = "INVALID_DID"


class KeyNotFoundError(IssuerKeyError):
    """No key with that id or verification method."""

    code = "KEY_NOT_FOUND"


class KeyEncryptionError(IssuerKeyError):
    """A secret key cannot be encrypted or decrypted (wrong key-encryption secret, damaged file)."""

    code = "KEY_ENCRYPTION_ERROR"


class KeyConfigurationError(IssuerKeyError):
    """The key-encryption secret is missing or unusable (e.g. in production mode)."""

    code = "KEY_CONFIGURATION_ERROR"
