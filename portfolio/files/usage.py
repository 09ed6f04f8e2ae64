"""Which stored files are still in use, and letting go of those that are not.

Blobs are content-addressed and shared: a file two students uploaded, or an artefact's content
that a credential's frozen evidence also holds, is one blob.  Every feature whose rows point at
blobs registers a check with :func:`keeps_blob`; :func:`release` then removes the rows of the
candidates nothing points at (in the caller's transaction), and :func:`delete_released_bytes`
removes their bytes once that transaction is committed.  Removing an artefact or a photo frees
its space this way (issue 15 §5: upload-then-remove loops used to fill the disk past the quota,
because removed files stayed stored and stopped counting).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Select, delete

from portfolio.core.db import db
from portfolio.files.models import Blob
from portfolio.files.storage import storage

#: ``check(sha256)``: a ``SELECT`` with a row when the feature's rows use that blob.
BlobCheck = Callable[[str], Select[Any]]

_CHECKS: list[BlobCheck] = []


def keeps_blob(check: BlobCheck) -> BlobCheck:
    """Register a feature's check of whether its rows use a blob.  Usable as a decorator;
    registering the same function twice counts it once."""
    if check not in _CHECKS:
        _CHECKS.append(check)
    return check


def in_use(sha256: str) -> bool:
    """Whether any registered feature's rows use the blob."""
    return any(db.session.scalar(check(sha256).limit(1)) is not None for check in _CHECKS)


def release(candidates: Iterable[str | None]) -> list[str]:
    """Delete the ``Blob`` rows of the candidates nothing uses any more (in the current
    transaction, not committed); returns their SHA-256s for :func:`delete_released_bytes`.
    Call it after the rows that used them are deleted and flushed."""
    db.session.flush()
    released = []
    for sha256 in sorted({sha for sha in candidates if sha}):
        if not in_use(sha256):
            db.session.execute(delete(Blob).where(Blob.sha256 == sha256))
            released.append(sha256)
    return released


def delete_released_bytes(released: Iterable[str]) -> None:
    """Remove the stored bytes of blobs :func:`release` let go of, once that is committed.  A
    file uploaded again in the meantime has a ``Blob`` row again, and stays."""
    db.session.expire_all()
    backend = storage()
    for sha256 in released:
        if db.session.get(Blob, sha256) is None:
            backend.delete(sha256)
