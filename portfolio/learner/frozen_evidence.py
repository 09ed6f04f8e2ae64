"""Deleting the evidence frozen in a learner's revoked credential.

While a credential stands its snapshots stay (:mod:`portfolio.evidence.snapshots`); once the
issuer revoked it, the learner may delete them, with the files nobody else uses
(:mod:`portfolio.files.usage`).
"""

from __future__ import annotations

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError, NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.evidence.snapshots import snapshots_of
from portfolio.files import usage
from portfolio.issuing.models import IssuedCredential


def delete_frozen_evidence(owner: User, credential_public_id: str) -> IssuedCredential:
    """Delete the snapshots of the learner's revoked credential and the stored files nobody
    else uses (committed; the bytes are removed after the commit).

    Raises :class:`NotFoundError` (not theirs, or nothing frozen in it) and
    :class:`ConflictError` while the credential stands.
    """
    with unit_of_work(write=True):
        credential: IssuedCredential | None = db.session.scalar(
            select(IssuedCredential).where(IssuedCredential.public_id == credential_public_id)
        )
        if credential is None or credential.recipient_user_id != owner.id:
            raise NotFoundError(_l("no such credential"))
        rows = snapshots_of(credential)
        if not rows:
            raise NotFoundError(_l("this credential holds no evidence of yours"))
        if credential.revoked_at is None:
            raise ConflictError(
                _l(
                    "While the credential stands its evidence stays with it: withdraw it from "
                    "public view, or ask your school to revoke the credential first."
                ),
                code="EVIDENCE_FROZEN",
            )
        files = {a.blob_sha256 for row in rows for a in row.artefacts if a.blob_sha256}
        for row in rows:
            db.session.delete(row)
        removed = usage.release(files)
        audit.record(
            "frozen_evidence_deleted",
            actor=owner,
            issuer_id=credential.issuer_id,
            target=f"credential:{credential.public_id}",
            detail={"pieces": len(rows), "files_removed": len(removed)},
        )
    usage.delete_released_bytes(removed)
    return credential
