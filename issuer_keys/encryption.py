"""Secret keys encrypted at rest (AES-256-GCM, key derived with HKDF-SHA256 per record) and
the key-encryption secret: where it comes from (environment or a secrets file) and its format.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
import re
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import KeyConfigurationError, KeyEncryptionError

log = logging.getLogger(__name__)

# Names of where the secret lives, not secrets (hence the S105 exemptions).
ENV_SECRET = "CREDFOLIO_KEY_ENCRYPTION_SECRET"  # noqa: S105  (an environment variable name)
ENV_SECRET_FILE = "CREDFOLIO_KEY_ENCRYPTION_SECRET_FILE"  # noqa: S105  (an env variable name)
DEV_SECRET_FILENAME = "key-encryption.secret"  # noqa: S105  (a file name)

FORMAT_VERSION = 1
ALGORITHM = "A256GCM-HKDF-SHA256"
MIN_SECRET_BYTES = 32
_SALT_BYTES = 16
_NONCE_BYTES = 12  # the GCM standard nonce size (NIST SP 800-38D §8.2)
_TAG_BYTES = 16
# HKDF "info": domain separation, so the same secret can never yield this key for another use.
_HKDF_INFO = b"credfolio/issuer_keys/secret-key-encryption/v1"
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")

_DECRYPT_FAILED = "cannot decrypt the secret key: wrong key-encryption secret or damaged record"


class DevelopmentSecretWarning(UserWarning):
    """A development-only key-encryption secret was generated or used."""


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64u(text: str) -> bytes:
    if not isinstance(text, str) or not _B64URL.match(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))


class KeyEncryptionSecret:
    """The key-encryption secret (≥ 32 bytes of entropy).  ``repr()`` never shows it."""

    __slots__ = ("_raw",)

    def __init__(self, raw: bytes) -> None:
        """Raises :class:`KeyConfigurationError` if ``raw`` is shorter than 32 bytes or
        obviously not random."""
        if not isinstance(raw, bytes) or len(raw) < MIN_SECRET_BYTES:
            raise KeyConfigurationError(
                f"the key-encryption secret must be at least {MIN_SECRET_BYTES} bytes"
            )
        # A cheap guard against placeholders such as 32 zero bytes or "aaaa…": random 32-byte
        # strings essentially never have fewer than 8 distinct byte values.
        if len(set(raw)) < 8:
            raise KeyConfigurationError("the key-encryption secret does not look random")
        self._raw = raw

    @classmethod
    def generate(cls) -> KeyEncryptionSecret:
        """32 fresh bytes from :mod:`secrets`."""
        return cls(secrets.token_bytes(MIN_SECRET_BYTES))

    @classmethod
    def from_text(cls, text: str) -> KeyEncryptionSecret:
        """Parse hex (≥ 64 hex digits) or base64url (with or without padding).

        Text made only of hex digits is read as hex, never as base64url.  Raises
        :class:`KeyConfigurationError`; the message never repeats the value.
        """
        value = text.strip()
        if _HEX.match(value):
            # Treat hex-looking text as hex: read as base64url it would claim more entropy
            # than it has (62 hex digits are 31 bytes, not 46).  A real base64url secret is
            # all hex digits with negligible probability.
            if len(value) % 2 or len(value) < 2 * MIN_SECRET_BYTES:
                raise KeyConfigurationError(
                    f"a hex key-encryption secret needs at least {2 * MIN_SECRET_BYTES} hex digits"
                )
            return cls(bytes.fromhex(value))
        try:
            raw = _unb64u(value)
        except (ValueError, binascii.Error):
            raise KeyConfigurationError(
                "the key-encryption secret must be base64url or hex text (32+ random bytes)"
            ) from None
        return cls(raw)

    @classmethod
    def from_file_contents(cls, contents: bytes) -> KeyEncryptionSecret:
        """Parse a secrets file: hex or base64url text, or else raw random bytes.

        Raises :class:`KeyConfigurationError`.
        """
        try:
            text = contents.decode("ascii")
        except UnicodeDecodeError:
            return cls(contents)  # raw bytes, e.g. `head -c 32 /dev/urandom > file`
        if text.strip() and (_HEX.match(text.strip()) or _B64URL.match(text.strip())):
            return cls.from_text(text)
        return cls(contents)

    def to_text(self) -> str:
        """base64url text (for writing a secrets file).  Secret: never log it."""
        return _b64u(self._raw)

    @property
    def fingerprint(self) -> str:
        """A short, non-secret identifier (so operators can tell two secrets apart)."""
        digest = hashlib.sha256(b"credfolio key-encryption secret fingerprint\0" + self._raw)
        return digest.hexdigest()[:16]

    def derive_key(self, salt: bytes) -> bytes:
        """The 32-byte AES key for one record: HKDF-SHA256 (RFC 5869) with its own salt."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_HKDF_INFO).derive(
            self._raw
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyEncryptionSecret):
            return NotImplemented
        return secrets.compare_digest(self._raw, other._raw)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"KeyEncryptionSecret(fingerprint={self.fingerprint!r})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("KeyEncryptionSecret cannot be pickled")


@dataclass(frozen=True)
class EncryptedSecret:
    """One encrypted secret key, as stored: ``{"v", "alg", "salt", "nonce", "ct"}``."""

    salt: bytes = field(repr=False)
    nonce: bytes = field(repr=False)
    ct: bytes = field(repr=False)
    v: int = FORMAT_VERSION
    alg: str = ALGORITHM

    def to_dict(self) -> dict[str, Any]:
        """The stored JSON form (binary fields base64url without padding)."""
        return {
            "v": self.v,
            "alg": self.alg,
            "salt": _b64u(self.salt),
            "nonce": _b64u(self.nonce),
            "ct": _b64u(self.ct),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EncryptedSecret:
        """Parse the stored form; raises :class:`KeyEncryptionError` if it is malformed or
        uses an unknown version or algorithm."""
        if not isinstance(data, Mapping):
            raise KeyEncryptionError("encrypted secret key record is malformed")
        if data.get("v") != FORMAT_VERSION or data.get("alg") != ALGORITHM:
            raise KeyEncryptionError("encrypted secret key uses an unsupported format version")
        try:
            salt, nonce, ct = (_unb64u(data[k]) for k in ("salt", "nonce", "ct"))
        except (KeyError, ValueError, binascii.Error):
            raise KeyEncryptionError("encrypted secret key record is malformed") from None
        if len(salt) != _SALT_BYTES or len(nonce) != _NONCE_BYTES or len(ct) <= _TAG_BYTES:
            raise KeyEncryptionError("encrypted secret key record is malformed")
        return cls(salt=salt, nonce=nonce, ct=ct)


def _aad(key_id: str) -> bytes:
    # Associated data binds the ciphertext to its record: a ciphertext copied into another
    # record (another key id) fails authentication instead of silently becoming that key.
    return f"credfolio-issuer-key\0v{FORMAT_VERSION}\0{ALGORITHM}\0{key_id}".encode()


def encrypt_secret(
    plaintext: bytes, *, secret: KeyEncryptionSecret, key_id: str
) -> EncryptedSecret:
    """Encrypt ``plaintext`` (a secret key seed) for the record ``key_id``.

    A fresh random salt per record gives every record its own AES key, so the GCM nonce
    space is never shared between records; the nonce is random as well.
    """
    if not key_id:
        raise ValueError("key_id is required (it is bound into the ciphertext)")
    salt = secrets.token_bytes(_SALT_BYTES)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    ct = AESGCM(secret.derive_key(salt)).encrypt(nonce, plaintext, _aad(key_id))
    return EncryptedSecret(salt=salt, nonce=nonce, ct=ct)


def decrypt_secret(
    encrypted: EncryptedSecret | Mapping[str, Any], *, secret: KeyEncryptionSecret, key_id: str
) -> bytes:
    """Decrypt a secret key.  Returns the plaintext.

    Raises :class:`KeyEncryptionError` — with the same message whatever went wrong (wrong
    secret, tampered ciphertext, other record's ciphertext), so nothing about the cause leaks.
    """
    if not isinstance(encrypted, EncryptedSecret):
        encrypted = EncryptedSecret.from_dict(encrypted)
    try:
        return AESGCM(secret.derive_key(encrypted.salt)).decrypt(
            encrypted.nonce, encrypted.ct, _aad(key_id)
        )
    except InvalidTag:
        raise KeyEncryptionError(_DECRYPT_FAILED) from None


# --------------------------------------------------------------------------- configuration

_MISSING_MESSAGE = (
    f"No key-encryption secret is configured. Set {ENV_SECRET} to at least 32 random bytes "
    "encoded as base64url or hex (for example the output of "
    '`python -c "import secrets; print(secrets.token_urlsafe(32))"`), or set '
    f"{ENV_SECRET_FILE} to the path of a file that contains it. The secret is never read "
    "from the database or the repository; keep it out of both."
)


def load_key_encryption_secret(
    *, environ: Mapping[str, str], instance_path: Path, production: bool
) -> KeyEncryptionSecret:
    """Find the key-encryption secret, in order:

    1. ``CREDFOLIO_KEY_ENCRYPTION_SECRET`` (base64url or hex text);
    2. the file named by ``CREDFOLIO_KEY_ENCRYPTION_SECRET_FILE`` (text or raw bytes);
    3. development only: ``<instance_path>/key-encryption.secret``, generated once (0600)
       and reused, with a :class:`DevelopmentSecretWarning` and a logged warning.

    Returns the secret.  Raises :class:`KeyConfigurationError` in production when neither
    variable is set (the message names both), or when a configured value is unusable.
    """
    value = environ.get(ENV_SECRET, "")
    if value.strip():
        try:
            return KeyEncryptionSecret.from_text(value)
        except KeyConfigurationError as exc:
            raise KeyConfigurationError(f"{ENV_SECRET}: {exc.message}") from None
    path_value = environ.get(ENV_SECRET_FILE, "")
    if path_value.strip():
        path = Path(path_value)
        try:
            contents = path.read_bytes()
        except OSError as exc:
            raise KeyConfigurationError(
                f"{ENV_SECRET_FILE}: cannot read {path}: {exc.strerror}"
            ) from None
        try:
            return KeyEncryptionSecret.from_file_contents(contents)
        except KeyConfigurationError as exc:
            raise KeyConfigurationError(f"{ENV_SECRET_FILE} ({path}): {exc.message}") from None
    if production:
        raise KeyConfigurationError(_MISSING_MESSAGE)
    return _development_secret(Path(instance_path))


def _development_secret(instance_path: Path) -> KeyEncryptionSecret:
    path = instance_path / DEV_SECRET_FILENAME
    created = False
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = KeyEncryptionSecret.generate().to_text() + "\n"
        created = _create_exclusively(path, fresh.encode("ascii"))
    try:
        secret = KeyEncryptionSecret.from_file_contents(path.read_bytes())
    except KeyConfigurationError as exc:
        raise KeyConfigurationError(f"{path}: {exc.message}") from None
    message = (
        f"{'Generated' if created else 'Using'} a DEVELOPMENT key-encryption secret in {path}. "
        f"This is a development default only: in production set {ENV_SECRET} or "
        f"{ENV_SECRET_FILE}."
    )
    log.warning(message)
    warnings.warn(message, DevelopmentSecretWarning, stacklevel=3)
    return secret


def _create_exclusively(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically, never replacing an existing file.

    The content goes to a private temporary file (0600 from the start, so the secret is never
    readable by others, not even briefly), is fsynced, then hard-linked into place: the link
    fails if another process won the race, and readers never see a half-written file.
    Returns True if this call created the file.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        _fsync_dir(path.parent)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _fsync_dir(directory: Path) -> None:
    """Make a rename/link durable (POSIX: the directory entry must be synced too)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
