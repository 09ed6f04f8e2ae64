"""Key store: :class:`KeyRecord`, the :class:`KeyStore` interface and :class:`FileKeyStore`
(one JSON file per key, secret keys encrypted at rest, rotation under a process-wide lock).
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

from .encryption import EncryptedSecret, KeyEncryptionSecret, decrypt_secret, encrypt_secret
from .errors import IssuerKeyError, KeyEncryptionError, KeyNotFoundError
from .keys import IssuerKey, verification_method_id

KeyStatus = Literal["active", "retired", "revoked"]
_STATUSES = ("active", "retired", "revoked")
RECORD_FORMAT = "credfolio-issuer-key"
RECORD_VERSION = 1
_MAX_REASON = 500


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("timestamp must be a string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp must carry a time zone")
    return parsed


def _check_key_id(key_id: str) -> str:
    """Key ids are canonical uuid4 strings; anything else cannot name a file (no traversal)."""
    try:
        parsed = uuid.UUID(key_id)
    except (ValueError, TypeError, AttributeError):
        raise KeyNotFoundError("no key with that id") from None
    if str(parsed) != key_id:
        raise KeyNotFoundError("no key with that id")
    return key_id


@dataclass(frozen=True)
class KeyRecord:
    """One issuer key as stored.  ``repr()`` leaves out the encrypted secret."""

    key_id: str
    controller: str
    public_key_multibase: str
    status: KeyStatus
    created: datetime
    retired_at: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    encrypted_secret: EncryptedSecret | None = field(default=None, repr=False, compare=False)

    @property
    def verification_method(self) -> str:
        """``<controller>#<publicKeyMultibase>``."""
        return verification_method_id(self.controller, self.public_key_multibase)

    def to_public_dict(self) -> dict[str, Any]:
        """Everything except the encrypted secret (safe to print or serve)."""
        return {
            "key_id": self.key_id,
            "controller": self.controller,
            "status": self.status,
            "created": _iso(self.created),
            "retired_at": _iso(self.retired_at),
            "revoked_at": _iso(self.revoked_at),
            "revocation_reason": self.revocation_reason,
            "verification_method": self.verification_method,
            "public_key_multibase": self.public_key_multibase,
        }

    def to_stored_dict(self) -> dict[str, Any]:
        """The file format: public fields plus ``encrypted_secret`` (never the plaintext)."""
        if self.encrypted_secret is None:
            raise IssuerKeyError("cannot store a key record without its encrypted secret")
        data = {"format": RECORD_FORMAT, "v": RECORD_VERSION, **self.to_public_dict()}
        del data["verification_method"]  # derived, not stored
        data["encrypted_secret"] = self.encrypted_secret.to_dict()
        return data

    @classmethod
    def from_stored_dict(cls, data: dict[str, Any]) -> KeyRecord:
        """Parse :meth:`to_stored_dict` output; raises :class:`IssuerKeyError` if malformed."""
        try:
            if data.get("format") != RECORD_FORMAT or data.get("v") != RECORD_VERSION:
                raise ValueError("unknown format")
            status = data["status"]
            if status not in _STATUSES:
                raise ValueError("unknown status")
            created = _parse_iso(data["created"])
            if created is None:
                raise ValueError("missing created")
            for name in ("key_id", "controller", "public_key_multibase"):
                if not isinstance(data[name], str):
                    raise ValueError(name)
            return cls(
                key_id=_check_key_id(data["key_id"]),
                controller=data["controller"],
                public_key_multibase=data["public_key_multibase"],
                status=cast(KeyStatus, status),
                created=created,
                retired_at=_parse_iso(data.get("retired_at")),
                revoked_at=_parse_iso(data.get("revoked_at")),
                revocation_reason=data.get("revocation_reason"),
                encrypted_secret=EncryptedSecret.from_dict(data["encrypted_secret"]),
            )
        except (KeyError, ValueError, TypeError, AttributeError, IssuerKeyError):
            raise IssuerKeyError("damaged key record", code="KEY_RECORD_DAMAGED") from None


def decrypt_record(record: KeyRecord, *, secret: KeyEncryptionSecret) -> IssuerKey:
    """The record's signing key, decrypted in memory.

    Raises :class:`KeyEncryptionError` for a wrong secret, a damaged record, or a record whose
    public key does not match its secret (signing would produce unverifiable proofs).
    """
    if record.encrypted_secret is None:
        raise KeyEncryptionError("key record has no encrypted secret")
    seed = decrypt_secret(record.encrypted_secret, secret=secret, key_id=record.key_id)
    key = IssuerKey.from_seed(seed, key_id=record.key_id)
    if key.public_key_multibase != record.public_key_multibase:
        raise KeyEncryptionError("secret key does not match the record's public key")
    return key


def check_new_key_controller(controller: str) -> None:
    """Refuse to generate a key for ``controller`` when a generated key could not be its key.

    A ``did:key`` *is* its public key (did:key Method §3): a key generated for it would be
    another key, so everything it signed would fail verification (issue 14 §6).  Such an issuer
    is made whole, key and DID together (``credfolio keys create-did-key``), and never rotates.

    Raises:
        InvalidDidError: ``controller`` is not a DID.
        IssuerKeyError: ``controller`` is a did:key (code ``DID_KEY_NAMES_ITS_KEY``).
    """
    verification_method_id(controller, "z")  # raises InvalidDidError for a non-DID
    if controller.startswith("did:key:"):
        raise IssuerKeyError(
            f"{controller} is a did:key: it names exactly one key, and a new key would be "
            "another DID. Make a did:key issuer with `credfolio keys create-did-key` and set "
            "CREDFOLIO_ISSUER_DID to the DID it prints",
            code="DID_KEY_NAMES_ITS_KEY",
        )


class KeyStore(abc.ABC):
    """Issuer keys per controller DID.  At most one key per controller is active."""

    @abc.abstractmethod
    def create(self, controller: str) -> KeyRecord:
        """Generate the first active key.  Raises :class:`IssuerKeyError` (code
        ``ACTIVE_KEY_EXISTS``) if ``controller`` already has an active key."""

    @abc.abstractmethod
    def list(self, controller: str | None = None) -> list[KeyRecord]:
        """All keys (of ``controller``, if given), oldest first."""

    @abc.abstractmethod
    def get(self, key_id: str) -> KeyRecord:
        """The key ``key_id``; raises :class:`KeyNotFoundError`."""

    @abc.abstractmethod
    def active(self, controller: str) -> KeyRecord:
        """The active key of ``controller``; raises :class:`KeyNotFoundError`."""

    @abc.abstractmethod
    def signing_key(self, controller: str) -> IssuerKey:
        """The active key, decrypted in memory; raises :class:`KeyNotFoundError` or
        :class:`KeyEncryptionError`."""

    @abc.abstractmethod
    def rotate(self, controller: str) -> KeyRecord:
        """Make a new active key; the previous active key becomes retired (it stays in the DID
        document so earlier credentials still verify).  Returns the new record."""

    @abc.abstractmethod
    def revoke(self, key_id: str, reason: str) -> KeyRecord:
        """Mark a key compromised: it leaves the DID document and is never used to sign.
        Returns the updated record; raises :class:`KeyNotFoundError`."""

    @abc.abstractmethod
    def find_by_verification_method(self, vm_id: str) -> KeyRecord | None:
        """The key named by a verification method id (any status — check ``status``)."""


class FileKeyStore(KeyStore):
    """Keys as ``<directory>/<key_id>.json`` files (mode 0600, written atomically).

    Secret keys are stored only encrypted (see :mod:`issuer_keys.encryption`).  Every change
    runs under an exclusive ``flock`` on ``<directory>/.lock``, so concurrent processes
    (several gunicorn workers, a CLI) can never leave two active keys.  Decrypted signing
    keys are cached in this instance's memory only.
    """

    def __init__(self, directory: Path, *, secret: KeyEncryptionSecret) -> None:
        self._dir = Path(directory)
        self._secret = secret
        self._cache: dict[str, IssuerKey] = {}
        self._cache_lock = threading.Lock()
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def __repr__(self) -> str:
        return f"FileKeyStore({str(self._dir)!r})"

    # -- reading -----------------------------------------------------------------

    def _path(self, key_id: str) -> Path:
        return self._dir / f"{_check_key_id(key_id)}.json"

    def _read(self, path: Path) -> KeyRecord:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyNotFoundError("no key with that id") from None
        except (OSError, ValueError):
            raise IssuerKeyError("damaged key record", code="KEY_RECORD_DAMAGED") from None
        record = KeyRecord.from_stored_dict(data)
        if path.name != f"{record.key_id}.json":
            raise IssuerKeyError("damaged key record", code="KEY_RECORD_DAMAGED")
        return record

    def list(self, controller: str | None = None) -> list[KeyRecord]:
        records = []
        for path in self._dir.glob("*.json"):
            if path.name.startswith("."):
                continue  # temporary files of an in-progress write
            try:
                record = self._read(path)
            except KeyNotFoundError:
                continue  # removed between glob and read
            if controller is None or record.controller == controller:
                records.append(record)
        return sorted(records, key=lambda r: (r.created, r.key_id))

    def get(self, key_id: str) -> KeyRecord:
        return self._read(self._path(key_id))

    def active(self, controller: str) -> KeyRecord:
        active = [r for r in self.list(controller) if r.status == "active"]
        if not active:
            raise KeyNotFoundError(f"no active key for {controller}; create one first")
        if len(active) > 1:
            raise IssuerKeyError("more than one active key", code="KEY_STORE_INCONSISTENT")
        return active[0]

    def find_by_verification_method(self, vm_id: str) -> KeyRecord | None:
        controller, _, fragment = vm_id.partition("#")
        if not fragment:
            return None
        for record in self.list(controller):
            if record.public_key_multibase == fragment:
                return record
        return None

    def signing_key(self, controller: str) -> IssuerKey:
        # The active record is re-read each call (cheap), so a rotation or revocation by
        # another process is seen at once; only the decryption is cached.
        record = self.active(controller)
        with self._cache_lock:
            key = self._cache.get(record.key_id)
            if key is None:
                key = self._decrypt(record)
                self._cache[record.key_id] = key
        return key

    def _decrypt(self, record: KeyRecord) -> IssuerKey:
        return decrypt_record(record, secret=self._secret)

    # -- writing -----------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self._dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _write(self, record: KeyRecord) -> None:
        """Atomic replace: temp file (0600 via mkstemp) + fsync + os.replace + dir fsync."""
        payload = json.dumps(record.to_stored_dict(), indent=2, sort_keys=True) + "\n"
        fd, tmp = tempfile.mkstemp(dir=self._dir, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._path(record.key_id))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _new_record(self, controller: str) -> KeyRecord:
        key_id = str(uuid.uuid4())
        key = IssuerKey.generate(key_id=key_id)
        record = KeyRecord(
            key_id=key_id,
            controller=controller,
            public_key_multibase=key.public_key_multibase,
            status="active",
            created=_now(),
            encrypted_secret=encrypt_secret(
                key.export_secret_seed(), secret=self._secret, key_id=key_id
            ),
        )
        self._write(record)
        with self._cache_lock:
            self._cache[key_id] = key
        return record

    @staticmethod
    def _check_controller(controller: str) -> None:
        check_new_key_controller(controller)

    def create(self, controller: str) -> KeyRecord:
        self._check_controller(controller)
        with self._locked():
            if any(r.status == "active" for r in self.list(controller)):
                raise IssuerKeyError(
                    f"{controller} already has an active key; rotate it instead",
                    code="ACTIVE_KEY_EXISTS",
                )
            return self._new_record(controller)

    def rotate(self, controller: str) -> KeyRecord:
        """See :meth:`KeyStore.rotate`.  With no active key (none yet, or it was revoked)
        this simply creates one."""
        self._check_controller(controller)
        with self._locked():
            previous = [r for r in self.list(controller) if r.status == "active"]
            # Retire first, then create: a crash in between leaves no active key (signing
            # stops loudly until the next rotate) rather than two.
            retired = [replace(r, status="retired", retired_at=_now()) for r in previous]
            for record in retired:
                self._write(record)
            try:
                return self._new_record(controller)
            except BaseException:
                for record in previous:
                    self._write(record)
                raise

    def revoke(self, key_id: str, reason: str) -> KeyRecord:
        reason = " ".join(str(reason).split())
        if not reason:
            raise ValueError("a revocation reason is required")
        with self._locked():
            record = self.get(key_id)
            if record.status == "revoked":
                return record
            updated = replace(
                record,
                status="revoked",
                revoked_at=_now(),
                revocation_reason=reason[:_MAX_REASON],
            )
            self._write(updated)
        with self._cache_lock:
            self._cache.pop(key_id, None)
        return updated
