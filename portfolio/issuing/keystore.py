"""``SqlKeyStore``: the :class:`issuer_keys.store.KeyStore` of the issuer keys in the database,
so that every app server shares them (secrets encrypted; each change audited)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import cast

from flask import has_request_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from issuer_keys.did import did_key_for
from issuer_keys.encryption import (
    EncryptedSecret,
    KeyEncryptionSecret,
    encrypt_secret,
)
from issuer_keys.errors import IssuerKeyError, KeyNotFoundError
from issuer_keys.keys import IssuerKey
from issuer_keys.store import (
    KeyRecord,
    KeyStatus,
    KeyStore,
    check_new_key_controller,
    decrypt_record,
)
from portfolio.accounts.models import Issuer
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.issuing.models import IssuerKeyRow

_MAX_REASON = 500


def _record(row: IssuerKeyRow) -> KeyRecord:
    return KeyRecord(
        key_id=row.key_id,
        controller=row.controller,
        public_key_multibase=row.public_key_multibase,
        # The column holds only what this class writes: "active", "retired" or "revoked".
        status=cast(KeyStatus, row.status),
        created=row.created,
        retired_at=row.retired_at,
        revoked_at=row.revoked_at,
        revocation_reason=row.revocation_reason,
        encrypted_secret=EncryptedSecret.from_dict(row.encrypted_secret),
    )


def _audit(action: str, row: IssuerKeyRow, **detail: str) -> None:
    """Record a key event in the session (committed with the key's change).

    The actor is the signed-in user in a request (an assessor's first endorsement makes their
    did:key), else ``service``; outside any request it is the command line (``cli``).
    """
    # No autoflush: the key's row is flushed by the caller's commit, where a conflict (a second
    # active key) is turned into an IssuerKeyError.
    with db.session.no_autoflush:
        user = None
        if has_request_context():
            from portfolio.accounts.auth import (
                current_user,  # the key store is built before the blueprints
            )

            user = current_user()
        issuer_id = row.issuer_id or db.session.scalar(
            select(Issuer.id).where(Issuer.did == row.controller)
        )
    if issuer_id is None and user is not None:
        issuer_id = user.issuer_id
    label = None if user is not None else ("service" if has_request_context() else "cli")
    audit.record(
        action,
        actor=user,
        actor_label=label,
        issuer_id=issuer_id,
        target=f"key:{row.key_id}",
        detail={"controller": row.controller, "public_key": row.public_key_multibase, **detail},
    )


class SqlKeyStore(KeyStore):
    """Issuer keys in the ``issuer_keys`` table.  Needs an application context.

    Secret keys are stored only encrypted with the key-encryption secret (which never touches
    the database); decrypted keys are cached in this process's memory only.  A partial unique
    index allows one active key per controller.  Writes commit their own transaction, with the
    key's audit event; reads join the caller's.
    """

    def __init__(self, *, secret: KeyEncryptionSecret) -> None:
        self._secret = secret
        self._cache: dict[str, IssuerKey] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "SqlKeyStore()"

    @property
    def key_encryption_fingerprint(self) -> str:
        """The non-secret fingerprint of the key-encryption secret (recorded in backups, so a
        restore can tell whether it is configured with the secret the keys need)."""
        return self._secret.fingerprint

    # -- reading -------------------------------------------------------------------------------

    def list(self, controller: str | None = None) -> list[KeyRecord]:
        query = select(IssuerKeyRow).order_by(IssuerKeyRow.created, IssuerKeyRow.key_id)
        if controller is not None:
            query = query.where(IssuerKeyRow.controller == controller)
        return [_record(row) for row in db.session.scalars(query)]

    def get(self, key_id: str) -> KeyRecord:
        row = db.session.get(IssuerKeyRow, key_id)
        if row is None:
            raise KeyNotFoundError("no key with that id")
        return _record(row)

    def active(self, controller: str) -> KeyRecord:
        row = db.session.scalar(
            select(IssuerKeyRow).where(
                IssuerKeyRow.controller == controller, IssuerKeyRow.status == "active"
            )
        )
        if row is None:
            how = (
                "this service does not hold its secret key: make a did:key issuer with "
                "`credfolio keys create-did-key`"
                if controller.startswith("did:key:")
                else "create one with `credfolio keys create`"
            )
            raise KeyNotFoundError(f"no active key for {controller}; {how}")
        return _record(row)

    def find_by_verification_method(self, vm_id: str) -> KeyRecord | None:
        controller, _, fragment = vm_id.partition("#")
        row = db.session.scalar(
            select(IssuerKeyRow).where(
                IssuerKeyRow.controller == controller,
                IssuerKeyRow.public_key_multibase == fragment,
            )
        )
        return _record(row) if row is not None else None

    def signing_key(self, controller: str) -> IssuerKey:
        record = self.active(controller)
        with self._lock:
            key = self._cache.get(record.key_id)
        if key is None:
            key = self._decrypt(record)
            with self._lock:
                self._cache[record.key_id] = key
        return key

    def _decrypt(self, record: KeyRecord) -> IssuerKey:
        return decrypt_record(record, secret=self._secret)

    # -- writing -------------------------------------------------------------------------------

    def _new_row(self, controller: str) -> IssuerKeyRow:
        check_new_key_controller(controller)  # a DID, and not a did:key (which is its key)
        key_id = str(uuid.uuid4())
        key = IssuerKey.generate(key_id=key_id)
        row = IssuerKeyRow(
            key_id=key_id,
            controller=controller,
            public_key_multibase=key.public_key_multibase,
            status="active",
            created=datetime.now(UTC),
            encrypted_secret=encrypt_secret(
                key.export_secret_seed(), secret=self._secret, key_id=key_id
            ).to_dict(),
        )
        with self._lock:
            self._cache[key_id] = key
        return row

    def create_did_key(self) -> KeyRecord:
        """A new key whose controller is its own ``did:key`` (committed).

        A did:key resolves from the key itself, so whatever it signs verifies offline anywhere;
        the secret half is stored encrypted like every issuer key.
        """
        key_id = str(uuid.uuid4())
        key = IssuerKey.generate(key_id=key_id)
        row = IssuerKeyRow(
            key_id=key_id,
            controller=did_key_for(key.public_key_multibase),
            public_key_multibase=key.public_key_multibase,
            status="active",
            created=datetime.now(UTC),
            encrypted_secret=encrypt_secret(
                key.export_secret_seed(), secret=self._secret, key_id=key_id
            ).to_dict(),
        )
        with unit_of_work():
            db.session.add(row)
            _audit("key_created", row)
        with self._lock:
            self._cache[key_id] = key
        return _record(row)

    def create(self, controller: str) -> KeyRecord:
        row = self._new_row(controller)
        try:
            with unit_of_work():
                db.session.add(row)
                _audit("key_created", row)
        except IntegrityError:
            raise IssuerKeyError(
                f"{controller} already has an active key; rotate it instead",
                code="ACTIVE_KEY_EXISTS",
            ) from None
        return _record(row)

    def rotate(self, controller: str) -> KeyRecord:
        """Retire the active key and create a new one in one transaction."""
        try:
            with unit_of_work():
                row = self._retire_and_create(controller)
        except IntegrityError:
            raise IssuerKeyError(
                "another process rotated the key at the same time; try again",
                code="CONCURRENT_ROTATION",
            ) from None
        return _record(row)

    def revoke(self, key_id: str, reason: str) -> KeyRecord:
        reason = " ".join(str(reason).split())
        if not reason:
            raise ValueError("a revocation reason is required")
        row = db.session.get(IssuerKeyRow, key_id, with_for_update=True)
        if row is None:
            raise KeyNotFoundError("no key with that id")
        if row.status != "revoked":
            with unit_of_work():
                previous = row.status
                row.status = "revoked"
                row.revoked_at = datetime.now(UTC)
                row.revocation_reason = reason[:_MAX_REASON]
                _audit("key_revoked", row, reason=row.revocation_reason, was=previous)
        with self._lock:
            self._cache.pop(key_id, None)
        return _record(row)

    def _retire_and_create(self, controller: str) -> IssuerKeyRow:
        """Retire the controller's active key (locked) and add a new active one, audited."""
        now = datetime.now(UTC)
        retired = []
        for row in db.session.scalars(
            select(IssuerKeyRow)
            .where(IssuerKeyRow.controller == controller, IssuerKeyRow.status == "active")
            .with_for_update()
        ):
            row.status = "retired"
            row.retired_at = now
            retired.append(row.key_id)
        db.session.flush()
        new = self._new_row(controller)
        db.session.add(new)
        _audit("key_rotated", new, retired=", ".join(retired) or "none")
        return new
