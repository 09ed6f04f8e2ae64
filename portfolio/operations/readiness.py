"""What ``/readyz`` checks: the database answers within a short timeout and its migrations are
at head, the evidence store is writable or reachable, and the key-encryption secret decrypts the
service issuer's active key.  Each check's detail is safe to show anyone: no paths, URLs, secrets
or driver messages (those go to the log)."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from issuer_keys.errors import KeyEncryptionError, KeyNotFoundError
from portfolio.core.db import db
from portfolio.files.storage import LocalStorage, S3Storage, storage

_log = logging.getLogger(__name__)

#: Milliseconds a readiness query may run on PostgreSQL (connecting is bounded by the engine's
#: connect timeout, portfolio/core/unavailable.py).
STATEMENT_TIMEOUT_MS = 2000
_HEADS = "credfolio.migration_heads"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok" or "failed"
    detail: str


def migration_heads(app: Flask) -> frozenset[str]:
    """The head revisions of the code's migrations (read once per app)."""
    heads = app.extensions.get(_HEADS)
    if heads is None:
        directory = app.extensions["migrate"].directory
        heads = frozenset(ScriptDirectory(str(directory)).get_heads())
        app.extensions[_HEADS] = heads
    return frozenset(heads)


def check_database() -> Check:
    """``SELECT`` the Alembic revision, bounded in time, and compare it with the code's heads."""
    try:
        with db.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
            connection.execute(text("SELECT 1"))
            if not inspect(connection).has_table("alembic_version"):
                return Check(
                    "database",
                    "failed",
                    "reachable, but no migrations were applied: run `credfolio db upgrade`",
                )
            current = frozenset(
                connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
    except SQLAlchemyError as exc:
        _log.warning("readiness: database unreachable: %s", str(exc).strip())
        return Check("database", "failed", "the database cannot be reached")
    heads = migration_heads(current_app)
    if current != heads:
        return Check(
            "database",
            "failed",
            f"reachable, but at revision {', '.join(sorted(current)) or 'none'} where the code "
            f"expects {', '.join(sorted(heads))}: run `credfolio db upgrade`",
        )
    return Check("database", "ok", f"reachable; migrations at head ({', '.join(sorted(heads))})")


def check_storage() -> Check:
    """Local storage: a file can be created (and removed) in the evidence directory.  S3: the
    bucket answers ``HeadBucket``."""
    backend = storage()
    if isinstance(backend, LocalStorage):
        try:
            backend.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".readyz-", dir=backend.root)
            os.close(fd)
            Path(name).unlink()
        except OSError as exc:
            _log.warning("readiness: evidence directory %s: %s", backend.root, exc)
            return Check(
                "storage",
                "failed",
                f"the local evidence directory is not writable ({exc.strerror or 'error'})",
            )
        return Check("storage", "ok", "the local evidence directory is writable")
    if isinstance(backend, S3Storage):
        try:
            backend.client.head_bucket(Bucket=backend.bucket)
        except Exception as exc:  # botocore's ClientError, EndpointConnectionError, ...
            _log.warning("readiness: S3 bucket %s: %s", backend.bucket, exc)
            return Check("storage", "failed", "the S3 bucket cannot be reached")
        return Check("storage", "ok", "the S3 bucket is reachable")
    return Check("storage", "ok", f"{type(backend).__name__} configured")


def check_keys() -> Check:
    """The key-encryption secret decrypts the service issuer's active key.  No active key makes
    the server not ready (issue 18 §2): it could verify, but not issue a single credential."""
    components = current_app.extensions["credfolio"]
    try:
        key = components.key_store.signing_key(components.issuer_did)
    except KeyNotFoundError:
        if components.issuer_did.startswith("did:key:"):
            # A did:key is its key: without its secret nothing can ever be signed (issue 14 §6).
            return Check(
                "keys",
                "failed",
                "CREDFOLIO_ISSUER_DID is a did:key whose secret key this service does not hold: "
                "make a did:key issuer with `credfolio keys create-did-key`",
            )
        return Check(
            "keys",
            "failed",
            "this server cannot sign: the issuer has no active signing key "
            "(`credfolio keys create` makes one)",
        )
    except KeyEncryptionError:
        return Check(
            "keys",
            "failed",
            "the key-encryption secret does not decrypt the issuer's active key: check "
            "CREDFOLIO_KEY_ENCRYPTION_SECRET",
        )
    except SQLAlchemyError as exc:
        _log.warning("readiness: keys: %s", str(exc).strip())
        return Check("keys", "failed", "the keys cannot be read: the database cannot be reached")
    finally:
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()  # the probe leaves no transaction open
    return Check("keys", "ok", f"the key-encryption secret decrypts the active key {key.key_id}")
