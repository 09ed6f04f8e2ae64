"""Secrets every server of a deployment must share, checked at start (issue 18 §3).

``CREDFOLIO_SECRET_KEY`` signs session cookies and CSRF tokens: a server with another one signs
everybody out of the others and refuses their forms.  The key-encryption secret decrypts the
issuers' keys: a server with another one cannot sign.  Nothing made either mismatch visible.
The first server to start records a fingerprint of each (never the secrets: a keyed hash that
tells two secrets apart and reveals nothing of them); every later start compares its own with
them and refuses to start, saying which secret differs, when they are not the same.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import inspect, select

from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError
from portfolio.core.models import utcnow
from portfolio.operations.models import SecretFingerprint

#: The settings each recorded fingerprint stands for.
SETTINGS = {
    "session": "CREDFOLIO_SECRET_KEY",
    "key-encryption": "CREDFOLIO_KEY_ENCRYPTION_SECRET",
}


class SecretsDiffer(ConflictError):
    """This server's secrets are not the ones the deployment's other servers use."""

    code = "SECRETS_DIFFER"


def session_fingerprint(secret_key: str) -> str:
    """A non-secret fingerprint of the session secret."""
    label = b"credfolio session secret fingerprint"
    return hmac.new(secret_key.encode("utf-8"), label, hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class Comparison:
    """What :func:`check_and_record` found: the names it recorded now, and those that matched."""

    recorded: tuple[str, ...]
    matched: tuple[str, ...]


def check_and_record(fingerprints: Mapping[str, str], *, record: bool = True) -> Comparison:
    """Compare ``fingerprints`` (name → fingerprint, names of :data:`SETTINGS`) with those
    recorded, recording the missing ones (``record=False``: only compare, and list them as
    they would be recorded).  Does nothing before the migrations made the table.

    Raises :class:`SecretsDiffer` naming every setting that differs; then nothing is recorded.
    """
    if not inspect(db.engine).has_table(SecretFingerprint.__tablename__):
        return Comparison((), ())
    with unit_of_work(write=True):
        known = {
            row.name: row for row in db.session.scalars(select(SecretFingerprint).with_for_update())
        }
        differing = [
            name
            for name, value in fingerprints.items()
            if name in known and not hmac.compare_digest(known[name].fingerprint, value)
        ]
        if differing:
            settings = " and ".join(SETTINGS[name] for name in differing)
            since = min(known[name].recorded_at for name in differing).date().isoformat()
            raise SecretsDiffer(
                f"{settings} differ{'s' if len(differing) == 1 else ''} from the value the "
                f"other servers of this database use (recorded {since}): give every server the "
                "same value. If it was changed on purpose on every server, run "
                "`credfolio secrets changed` once."
            )
        recorded = []
        for name, value in fingerprints.items():
            if name not in known:
                if record:
                    db.session.add(SecretFingerprint(name=name, fingerprint=value))
                recorded.append(name)
    return Comparison(tuple(recorded), tuple(name for name in fingerprints if name in known))


def record_changed(fingerprints: Mapping[str, str]) -> None:
    """Record ``fingerprints`` as the deployment's, replacing what was recorded (after the
    secrets were changed on purpose on every server)."""
    with unit_of_work(write=True):
        for name, value in fingerprints.items():
            row = db.session.get(SecretFingerprint, name)
            if row is None:
                db.session.add(SecretFingerprint(name=name, fingerprint=value))
            else:
                row.fingerprint, row.recorded_at = value, utcnow()


def app_fingerprints() -> dict[str, str]:
    """The current app's fingerprints, by name of :data:`SETTINGS`."""
    from flask import current_app

    key_store = current_app.extensions["credfolio"].key_store
    return {
        "session": session_fingerprint(str(current_app.config["SECRET_KEY"])),
        "key-encryption": str(key_store.key_encryption_fingerprint),
    }
