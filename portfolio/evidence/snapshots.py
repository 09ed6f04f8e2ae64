"""Evidence frozen at issuance: what a credential's evidence URLs show, for good.

When a credential is issued for evidence, :func:`freeze` copies each piece as it was assessed —
title, narrative, genre, and each artefact (a file by SHA-256, or a link) — into an
:class:`~portfolio.evidence.models.EvidenceSnapshot`, and :func:`attach` ties the copies to the
credential in the issuing transaction.  The credential's ``evidence`` entries name the
snapshots (``/c/<credential>/evidence/<snapshot>``), never the live evidence, so later edits
(new versions) and deletions of the live evidence change nothing a verifier sees.

The rules (docs/security.md, "Evidence frozen at issuance"):

* a snapshot never changes: an update of any frozen column is refused
  (:class:`SnapshotFrozenError`);
* while its credential stands (not revoked) a snapshot cannot be deleted; the learner may
  withdraw it from public view (:func:`set_withdrawn`) — the credential still verifies — or ask
  for the credential to be revoked;
* the blobs a snapshot references stay stored while it exists (they count towards the
  learner's quota and account deletion keeps them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, event, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper

from portfolio.accounts.models import User
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError, NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import new_public_id
from portfolio.evidence.models import (
    Artefact,
    Evidence,
    EvidenceSnapshot,
    SnapshotArtefact,
)
from portfolio.files.uploads import counts_towards_quota
from portfolio.files.usage import keeps_blob
from portfolio.issuing.models import IssuedCredential


class SnapshotFrozenError(ConflictError):
    """A frozen snapshot was about to be changed or deleted while its credential stands."""

    code = "EVIDENCE_FROZEN"


#: The only columns of a snapshot that may change after it was taken.
_MUTABLE_SNAPSHOT_COLUMNS = frozenset({"withdrawn_at", "evidence_id", "credential_id"})


# -- taking snapshots ------------------------------------------------------------------------


def _frozen_artefact(artefact: Artefact) -> SnapshotArtefact:
    return SnapshotArtefact(
        public_id=new_public_id(),
        position=artefact.position,
        kind=artefact.kind,
        title=artefact.title,
        blob_sha256=artefact.blob_sha256,
        original_filename=artefact.original_filename,
        media_type=artefact.media_type,
        size=artefact.size,
        url=artefact.url,
        alt_text=artefact.alt_text,
        captions_vtt=artefact.captions_vtt,
        transcript=artefact.transcript,
        duration_seconds=artefact.duration_seconds,
    )


def freeze(evidence: Sequence[Evidence]) -> list[EvidenceSnapshot]:
    """Copies of ``evidence`` as it is now, in that order, with fresh public ids — not yet in
    the session (a snapshot needs its credential: see :func:`attach`)."""
    snapshots = []
    for position, item in enumerate(evidence):
        snapshot = EvidenceSnapshot(
            public_id=new_public_id(),
            owner_id=item.owner_id,
            evidence_id=item.id,
            position=position,
            title=item.title,
            narrative=item.narrative or "",
            genre=item.genre,
            taken_at=datetime.now(UTC),
        )
        snapshot.artefacts = [_frozen_artefact(artefact) for artefact in item.artefacts]
        snapshots.append(snapshot)
    return snapshots


def attach(snapshots: Sequence[EvidenceSnapshot], credential: IssuedCredential) -> None:
    """Store ``snapshots`` as the evidence of ``credential`` (in the caller's transaction)."""
    for snapshot in snapshots:
        snapshot.credential_id = credential.id
        db.session.add(snapshot)
    db.session.flush()


# -- reading ---------------------------------------------------------------------------------


def snapshot_of(credential_public_id: str, snapshot_public_id: str) -> EvidenceSnapshot | None:
    """The snapshot a credential's evidence URL names, or None (only through that credential:
    nothing else of the learner's evidence is reachable)."""
    found: EvidenceSnapshot | None = db.session.scalar(
        select(EvidenceSnapshot)
        .join(IssuedCredential, IssuedCredential.id == EvidenceSnapshot.credential_id)
        .where(
            IssuedCredential.public_id == credential_public_id,
            EvidenceSnapshot.public_id == snapshot_public_id,
        )
    )
    return found


def snapshots_of(credential: IssuedCredential) -> list[EvidenceSnapshot]:
    """The credential's snapshots, in the credential's order."""
    return list(
        db.session.scalars(
            select(EvidenceSnapshot)
            .where(EvidenceSnapshot.credential_id == credential.id)
            .order_by(EvidenceSnapshot.position, EvidenceSnapshot.id)
        )
    )


def withdrawn_on(credential: IssuedCredential) -> datetime | None:
    """When the learner withdrew the credential's evidence from public view (the latest
    withdrawal), or None when it has none or some of it is still public."""
    rows = snapshots_of(credential)
    if not rows or any(row.withdrawn_at is None for row in rows):
        return None
    return max(row.withdrawn_at for row in rows if row.withdrawn_at is not None)


def standing_credentials_using(evidence: Evidence) -> list[IssuedCredential]:
    """The credentials, not revoked, that keep a snapshot of ``evidence``, oldest first."""
    return list(
        db.session.scalars(
            select(IssuedCredential)
            .where(
                IssuedCredential.id.in_(
                    select(EvidenceSnapshot.credential_id).where(
                        EvidenceSnapshot.evidence_id == evidence.id
                    )
                ),
                IssuedCredential.revoked_at.is_(None),
            )
            .order_by(IssuedCredential.issued_at, IssuedCredential.id)
        )
    )


@counts_towards_quota
def snapshot_blobs(owner: User) -> Select[Any]:
    """The files the owner's snapshots keep stored (they count towards the quota)."""
    return (
        select(SnapshotArtefact.blob_sha256)
        .join(EvidenceSnapshot, SnapshotArtefact.snapshot_id == EvidenceSnapshot.id)
        .where(EvidenceSnapshot.owner_id == owner.id, SnapshotArtefact.blob_sha256.is_not(None))
    )


@keeps_blob
def frozen_blob(sha256: str) -> Select[Any]:
    """The snapshots' artefacts that hold the blob: while one exists, the file stays stored
    (removing the live artefact, deleting the evidence or the account never frees it)."""
    return select(SnapshotArtefact.id).where(SnapshotArtefact.blob_sha256 == sha256)


# -- the learner's choices -------------------------------------------------------------------


def set_withdrawn(owner: User, credential_public_id: str, *, withdrawn: bool) -> IssuedCredential:
    """Withdraw the evidence of the learner's credential from public view, or show it again
    (committed).  Raises :class:`NotFoundError` when the credential is not theirs or has no
    frozen evidence."""
    with unit_of_work():
        credential: IssuedCredential | None = db.session.scalar(
            select(IssuedCredential).where(IssuedCredential.public_id == credential_public_id)
        )
        if credential is None or credential.recipient_user_id != owner.id:
            raise NotFoundError(_l("no such credential"))
        rows = snapshots_of(credential)
        if not rows:
            raise NotFoundError(_l("this credential has no evidence of yours"))
        now = datetime.now(UTC)
        for row in rows:
            if withdrawn and row.withdrawn_at is None:
                row.withdrawn_at = now
            elif not withdrawn:
                row.withdrawn_at = None
        audit.record(
            "evidence_withdrawn" if withdrawn else "evidence_republished",
            actor=owner,
            issuer_id=credential.issuer_id,
            target=f"credential:{credential.public_id}",
        )
    return credential


def release_evidence(evidence_ids: Select[Any] | Sequence[int]) -> None:
    """Before live evidence is deleted: its snapshots stay, no longer linked to it."""
    db.session.execute(
        update(EvidenceSnapshot)
        .where(EvidenceSnapshot.evidence_id.in_(evidence_ids))
        .values(evidence_id=None)
        .execution_options(synchronize_session=False)
    )


def settle_for_account_deletion(owner_id: int) -> set[str]:
    """When the learner deletes their account, the same rule holds (docs/security.md): the
    snapshots of credentials that stand are kept, withdrawn from public view; those of revoked
    credentials are deleted.  Returns the SHA-256 of the files the deleted ones referenced
    (to remove if nothing else uses them).  In the caller's transaction."""
    revoked = select(IssuedCredential.id).where(IssuedCredential.revoked_at.is_not(None))
    owned = EvidenceSnapshot.owner_id == owner_id
    db.session.execute(
        update(EvidenceSnapshot)
        .where(owned, EvidenceSnapshot.withdrawn_at.is_(None))
        .values(withdrawn_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    gone = select(EvidenceSnapshot.id).where(owned, EvidenceSnapshot.credential_id.in_(revoked))
    files = set(
        db.session.scalars(
            select(SnapshotArtefact.blob_sha256).where(
                SnapshotArtefact.snapshot_id.in_(gone), SnapshotArtefact.blob_sha256.is_not(None)
            )
        )
    )
    ids = list(db.session.scalars(gone))
    db.session.execute(
        delete(SnapshotArtefact)
        .where(SnapshotArtefact.snapshot_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(EvidenceSnapshot)
        .where(EvidenceSnapshot.id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return {sha for sha in files if sha}


# -- the rules, enforced on every ORM write ---------------------------------------------------


@event.listens_for(EvidenceSnapshot, "before_update")
def _snapshot_stays_frozen(_mapper: Mapper[Any], _connection: Connection, row: Any) -> None:
    state = inspect(row)
    for attribute in state.mapper.column_attrs:
        if attribute.key in _MUTABLE_SNAPSHOT_COLUMNS:
            continue
        if state.attrs[attribute.key].history.has_changes():
            raise SnapshotFrozenError(
                _l(
                    "the evidence frozen for a credential cannot change (%(column)s)",
                    column=attribute.key,
                )
            )


@event.listens_for(SnapshotArtefact, "before_update")
def _artefact_stays_frozen(_mapper: Mapper[Any], _connection: Connection, row: Any) -> None:
    state = inspect(row)
    for attribute in state.mapper.column_attrs:
        if state.attrs[attribute.key].history.has_changes():
            raise SnapshotFrozenError(
                _l(
                    "a file frozen for a credential cannot change (%(column)s)",
                    column=attribute.key,
                )
            )


@event.listens_for(EvidenceSnapshot, "before_delete")
def _kept_while_the_credential_stands(
    _mapper: Mapper[Any], connection: Connection, row: Any
) -> None:
    revoked_at = connection.scalar(
        select(IssuedCredential.revoked_at).where(IssuedCredential.id == row.credential_id)
    )
    if revoked_at is None:
        raise SnapshotFrozenError(
            _l(
                "the evidence of a credential that stands cannot be deleted: withdraw it from "
                "public view, or ask for the credential to be revoked"
            )
        )
