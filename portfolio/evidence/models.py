"""Students' evidence and its artefacts (uploaded files or links)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.core.db import Model, UTCDateTime, one_of
from portfolio.core.models import new_public_id, utcnow

if TYPE_CHECKING:
    from portfolio.accounts.models import User
    from portfolio.files.models import Blob
    from portfolio.issuing.models import IssuedCredential
    from portfolio.portfolios.models import PortfolioItem


class Evidence(Model):
    """One piece of evidence: a title, a reflection (Markdown) and its artefacts."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    narrative: Mapped[str] = mapped_column(Text, default="")
    #: Ids (URLs) of the competencies (Achievements) this evidence is meant to show.
    competencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: What kind of work it is (OB 3.0 Evidence ``genre``), e.g. "Song", "Short story".
    genre: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()
    #: Its places in portfolios go with it when the evidence is deleted.
    placements: Mapped[list[PortfolioItem]] = relationship(
        back_populates="evidence", cascade="all, delete-orphan"
    )
    artefacts: Mapped[list[Artefact]] = relationship(
        back_populates="evidence", order_by="Artefact.position", cascade="all, delete-orphan"
    )


class ArtefactKind(StrEnum):
    """What an artefact is: an uploaded file (a blob) or a link to elsewhere."""

    FILE = "file"
    LINK = "link"


class Artefact(Model):
    """An uploaded file (a blob) or an external link, with accessibility texts."""

    __tablename__ = "artefacts"
    __table_args__ = (one_of("kind", ArtefactKind, name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    #: An :class:`ArtefactKind`.
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(256))
    position: Mapped[int] = mapped_column(Integer, default=0)
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    original_filename: Mapped[str | None] = mapped_column(String(256))
    media_type: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(2048))
    #: Alt text for images; captions (WebVTT) and transcript for audio and video.
    alt_text: Mapped[str | None] = mapped_column(Text)
    captions_vtt: Mapped[str | None] = mapped_column(Text)
    transcript: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[float | None] = mapped_column()
    thumbnail_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    evidence: Mapped[Evidence] = relationship(back_populates="artefacts")
    blob: Mapped[Blob | None] = relationship(foreign_keys=[blob_sha256])


class EvidenceSnapshot(Model):
    """A piece of evidence exactly as it was assessed, frozen when a credential was issued.

    The credential's evidence URLs (``/c/<credential>/evidence/<public_id>``) name this row,
    never the live :class:`Evidence`: later edits to the evidence (or its deletion) change
    nothing here.  Only ``withdrawn_at`` (the learner withdrew it from public view) and the
    links to the credential and to the live evidence ever change; the rest is refused by
    :mod:`portfolio.evidence.snapshots`.
    """

    #: When its credential is reissued (key compromise), the row follows the replacement,
    #: whose evidence URLs moved with it.
    follows_reissued_credential = True

    __tablename__ = "evidence_snapshots"
    __table_args__ = (UniqueConstraint("credential_id", "public_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The id in the credential's evidence URL (unique within the credential).
    public_id: Mapped[str] = mapped_column(String(36), default=new_public_id)
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: The live evidence it was taken from; None once the learner deleted that evidence.
    evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(256))
    narrative: Mapped[str] = mapped_column(Text, default="")
    genre: Mapped[str | None] = mapped_column(String(128))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The learner withdrew it from public view (the credential still verifies).
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    credential: Mapped[IssuedCredential] = relationship()
    artefacts: Mapped[list[SnapshotArtefact]] = relationship(
        back_populates="snapshot",
        order_by="SnapshotArtefact.position",
        cascade="all, delete-orphan",
    )


class SnapshotArtefact(Model):
    """An artefact of an :class:`EvidenceSnapshot`: a file by SHA-256 (the blob it references
    is kept while the snapshot exists) or a link, with its accessibility texts.  The attribute
    names are those of :class:`Artefact`, so the same templates show both."""

    __tablename__ = "evidence_snapshot_artefacts"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "public_id"),
        one_of("kind", ArtefactKind, name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The id in the credential's artefact URL (unique within the snapshot).
    public_id: Mapped[str] = mapped_column(String(36), default=new_public_id)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("evidence_snapshots.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: An :class:`ArtefactKind`.
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(256))
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    original_filename: Mapped[str | None] = mapped_column(String(256))
    media_type: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(2048))
    alt_text: Mapped[str | None] = mapped_column(Text)
    captions_vtt: Mapped[str | None] = mapped_column(Text)
    transcript: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[float | None] = mapped_column()

    snapshot: Mapped[EvidenceSnapshot] = relationship(back_populates="artefacts")
    blob: Mapped[Blob | None] = relationship(foreign_keys=[blob_sha256])

    @property
    def thumbnail_sha256(self) -> None:
        """Never a thumbnail: the public pages serve only bytes the credential's digests
        cover."""
        return None
