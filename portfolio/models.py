"""Database models of the issuer service: issuers, their keys, issued credentials, status lists,
OAuth clients and tokens, idempotency records.

Typed SQLAlchemy 2.0 declarations on :class:`portfolio.db.Base`; schema changes go through the
Alembic migrations in ``portfolio/migrations``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import db


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_public_id() -> str:
    """An unguessable public identifier (UUID4) used in URLs."""
    return str(uuid.uuid4())


class Issuer(db.Model):  # type: ignore[name-defined]
    """An issuer: its Open Badges Profile and its DID (``did:web`` of the service by default)."""

    __tablename__ = "issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    did: Mapped[str] = mapped_column(String(512), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    url: Mapped[str | None] = mapped_column(String(1024))
    email: Mapped[str | None] = mapped_column(String(320))
    image: Mapped[str | None] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    keys: Mapped[list[IssuerKeyRow]] = relationship(back_populates="issuer")

    def profile(self, *, profile_url: str | None = None) -> dict[str, Any]:
        """The Open Badges 3.0 Profile (OB 3.0 §B.1.x Profile) as embedded in credentials."""
        profile: dict[str, Any] = {"id": self.did, "type": ["Profile"], "name": self.name}
        if self.url:
            profile["url"] = self.url
        if self.email:
            profile["email"] = self.email
        if self.description:
            profile["description"] = self.description
        if self.image:
            profile["image"] = {"id": self.image, "type": "Image"}
        return profile


class IssuerKeyRow(db.Model):  # type: ignore[name-defined]
    """An issuer's Ed25519 key; the secret half only ever stored encrypted (AES-256-GCM)."""

    __tablename__ = "issuer_keys"
    # At most one active key per controller, enforced by the database itself (a partial unique
    # index), so concurrent rotations in several processes can never leave two.
    __table_args__ = (
        Index(
            "uq_issuer_keys_one_active",
            "controller",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )

    key_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"))
    controller: Mapped[str] = mapped_column(String(512), index=True)
    public_key_multibase: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # active | retired | revoked
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    encrypted_secret: Mapped[dict[str, Any]] = mapped_column(JSON)

    issuer: Mapped[Issuer | None] = relationship(back_populates="keys")


class StatusListRow(db.Model):  # type: ignore[name-defined]
    """One Bitstring Status List of an issuer, for one purpose (revocation or suspension).

    ``bits`` is the published bitstring; ``allocated`` marks positions already given to a
    credential (never given twice).  ``credential`` is the signed BitstringStatusListCredential,
    re-signed in the same transaction as every change of a bit.
    """

    __tablename__ = "status_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    allocated: Mapped[bytes] = mapped_column(LargeBinary)
    allocated_count: Mapped[int] = mapped_column(Integer, default=0)
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    credential: Mapped[str] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    issuer: Mapped[Issuer] = relationship()


class IssuedCredential(db.Model):  # type: ignore[name-defined]
    """A credential as issued: the signed JSON exactly as it left the service, and its state."""

    __tablename__ = "issued_credentials"
    __table_args__ = (
        UniqueConstraint("revocation_list_id", "revocation_index"),
        UniqueConstraint("suspension_list_id", "suspension_index"),
        # The administrators' list, newest first, 50 a page: read in index order instead of
        # sorting every credential of the issuer (bench/scale.py, docs/performance.md "Scale").
        Index("ix_issued_credentials_issuer_newest", "issuer_id", "issued_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    credential_id: Mapped[str] = mapped_column(String(2048), unique=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    document: Mapped[str] = mapped_column(Text)
    subject_id: Mapped[str | None] = mapped_column(String(2048), index=True)
    recipient_name: Mapped[str | None] = mapped_column(String(256))
    achievement_id: Mapped[str | None] = mapped_column(String(2048), index=True)
    achievement_name: Mapped[str | None] = mapped_column(String(512))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revocation_list_id: Mapped[int | None] = mapped_column(ForeignKey("status_lists.id"))
    revocation_index: Mapped[int | None] = mapped_column(Integer)
    suspension_list_id: Mapped[int | None] = mapped_column(ForeignKey("status_lists.id"))
    suspension_index: Mapped[int | None] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(64))
    #: The student the credential was issued to, when they have an account here.
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The student hid it from their public profile and portfolios (it stays verifiable).
    hidden_by_recipient: Mapped[bool] = mapped_column(Boolean, default=False)

    issuer: Mapped[Issuer] = relationship()
    revocation_list: Mapped[StatusListRow | None] = relationship(foreign_keys=[revocation_list_id])
    suspension_list: Mapped[StatusListRow | None] = relationship(foreign_keys=[suspension_list_id])

    @property
    def state(self) -> str:
        """``revoked``, ``suspended`` or ``active`` (expiry is judged at verification time)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.suspended_at is not None:
            return "suspended"
        return "active"


class AchievementRow(db.Model):  # type: ignore[name-defined]
    """An Achievement published at ``/achievements/<public_id>`` (its JSON as last issued)."""

    __tablename__ = "achievements"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    achievement_id: Mapped[str] = mapped_column(String(2048), unique=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    issuer: Mapped[Issuer] = relationship()


class OAuthClient(db.Model):  # type: ignore[name-defined]
    """A VC-API client (OAuth 2.0 client-credentials); the secret is stored as an argon2 hash."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(256))
    scope: Mapped[str] = mapped_column(String(256), default="issue")
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    issuer: Mapped[Issuer] = relationship()


class OAuthToken(db.Model):  # type: ignore[name-defined]
    """A short-lived bearer token; only its SHA-256 is stored."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(256))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class IdempotencyRecord(db.Model):  # type: ignore[name-defined]
    """``Idempotency-Key`` of an issue request: a retry returns the same credential."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(256))
    request_sha256: Mapped[str] = mapped_column(String(64))
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


#: Roles of :class:`User`: an ``admin`` is an administrator of the issuer the user belongs to.
USER_ROLES = ("admin", "assessor", "student")


class User(db.Model):  # type: ignore[name-defined]
    """A person who signs in: an issuer administrator (``admin``), an assessor or a student.

    ``email`` is stored lower-cased (one account per address whatever its spelling);
    ``password_hash`` is an argon2id PHC string (never the password).  ``session_version`` is
    copied into the session cookie at sign-in: bumping it signs the user out everywhere.
    """

    __tablename__ = "users"
    # The database refuses unknown roles too, not only the application code.
    __table_args__ = (db.CheckConstraint("role IN ('admin', 'assessor', 'student')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    #: The class or group a student belongs to (assessor queues and cohort views filter by it).
    cohort: Mapped[str | None] = mapped_column(String(128), index=True)
    #: Failed sign-ins since the last success (account lockout with backoff).
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: No sign-in is accepted before this moment (set after repeated failures).
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The account was deleted at its owner's request: personal data removed, row kept so that
    #: issued credentials and audit records still point somewhere.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    issuer: Mapped[Issuer | None] = relationship()

    @staticmethod
    def normalize_email(email: str) -> str:
        """The stored form of an address: surrounding space removed, lower-cased."""
        return email.strip().lower()

    @db.validates("email")
    def _lower_case_email(self, _key: str, email: str) -> str:
        return self.normalize_email(email)

    @property
    def is_active(self) -> bool:
        """False once the account is disabled: it can no longer sign in or use a session."""
        return self.disabled_at is None

    @property
    def is_admin(self) -> bool:
        """An issuer administrator."""
        return self.role == "admin"


# -- Portfolios of evidence (issue #4) ---------------------------------------------------------


class LearnerProfile(db.Model):  # type: ignore[name-defined]
    """What a student chooses to show about themselves (one per user)."""

    __tablename__ = "learner_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    pronouns: Mapped[str | None] = mapped_column(String(64))
    bio: Mapped[str | None] = mapped_column(Text)
    learning_goals: Mapped[str | None] = mapped_column(Text)
    interests: Mapped[str | None] = mapped_column(Text)
    #: The name printed on credentials (may differ from the account's display name).
    credential_name: Mapped[str | None] = mapped_column(String(256))
    photo_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    #: The student's own DID, used as the credential subject ``id`` when configured.
    did: Mapped[str | None] = mapped_column(String(512))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()


class Invitation(db.Model):  # type: ignore[name-defined]
    """An invitation link to create an account with a role; only the token's SHA-256 is kept."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    display_name: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    #: The cohort a student joins (from a roster's cohort column).
    cohort: Mapped[str | None] = mapped_column(String(128))
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Blob(db.Model):  # type: ignore[name-defined]
    """Uploaded content, stored once per SHA-256 (content-addressed) in the storage backend."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Evidence(db.Model):  # type: ignore[name-defined]
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    owner: Mapped[User] = relationship()
    artefacts: Mapped[list[Artefact]] = relationship(
        back_populates="evidence", order_by="Artefact.position", cascade="all, delete-orphan"
    )


class Artefact(db.Model):  # type: ignore[name-defined]
    """An uploaded file (a blob) or an external link, with accessibility texts."""

    __tablename__ = "artefacts"
    __table_args__ = (db.CheckConstraint("kind IN ('file', 'link')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    evidence: Mapped[Evidence] = relationship(back_populates="artefacts")
    blob: Mapped[Blob | None] = relationship(foreign_keys=[blob_sha256])


class Portfolio(db.Model):  # type: ignore[name-defined]
    """A student's arrangement of evidence, private, shared by an unguessable link, or public."""

    __tablename__ = "portfolios"
    __table_args__ = (
        db.CheckConstraint("visibility IN ('private', 'link', 'public')", name="visibility"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    cover_text: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(8), default="private")
    #: The secret part of an anyone-with-the-link URL; None when no link is shared (revoked).
    share_slug: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    owner: Mapped[User] = relationship()
    sections: Mapped[list[PortfolioSection]] = relationship(
        back_populates="portfolio",
        order_by="PortfolioSection.position",
        cascade="all, delete-orphan",
    )


class PortfolioSection(db.Model):  # type: ignore[name-defined]
    """A titled, ordered group of evidence inside a portfolio."""

    __tablename__ = "portfolio_sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    position: Mapped[int] = mapped_column(Integer, default=0)

    portfolio: Mapped[Portfolio] = relationship(back_populates="sections")
    items: Mapped[list[PortfolioItem]] = relationship(
        back_populates="section", order_by="PortfolioItem.position", cascade="all, delete-orphan"
    )


class PortfolioItem(db.Model):  # type: ignore[name-defined]
    """One piece of evidence placed in a section, at a position."""

    __tablename__ = "portfolio_items"
    __table_args__ = (UniqueConstraint("section_id", "evidence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("portfolio_sections.id"), index=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    section: Mapped[PortfolioSection] = relationship(back_populates="items")
    evidence: Mapped[Evidence] = relationship()


class CredentialEvent(db.Model):  # type: ignore[name-defined]
    """A credential's history: issued, revoked, suspended, unsuspended — who, when and why.

    Written in the same transaction as the change it records.
    """

    __tablename__ = "credential_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    #: Who: ``user:<id>``, ``client:<client_id>``, ``cli`` or ``service``.
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# -- Competency-based assessment (issue #5) ----------------------------------------------------

#: OB 3.0 AchievementType values offered in the catalogue (the spec's enumeration; extensions
#: start with ``ext:``).
ACHIEVEMENT_TYPES = (
    "Competency",
    "Badge",
    "Certificate",
    "MicroCredential",
    "Achievement",
    "Assessment",
    "Assignment",
    "Award",
    "Certification",
    "CoCurricular",
    "CommunityService",
    "Course",
    "Diploma",
    "Fieldwork",
    "License",
    "Membership",
)

#: The states of a :class:`Submission` (issue #5's status flow).
SUBMISSION_STATES = (
    "draft",
    "submitted",
    "in_review",
    "revision_requested",
    "resubmitted",
    "endorsed",
    "not_yet",
)

#: What an assessor decides in an :class:`Assessment`.
DECISIONS = ("endorse", "revise", "not_yet")


class CompetencyFramework(db.Model):  # type: ignore[name-defined]
    """A competency framework (a CASE CFDocument), imported or created here."""

    __tablename__ = "frameworks"
    __table_args__ = (UniqueConstraint("issuer_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    #: The CASE ``identifier`` (a UUID) — the key re-imports match on.
    identifier: Mapped[str] = mapped_column(String(256))
    title: Mapped[str] = mapped_column(String(512))
    uri: Mapped[str | None] = mapped_column(String(2048))
    creator: Mapped[str | None] = mapped_column(String(512))
    publisher: Mapped[str | None] = mapped_column(String(512))
    description: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str | None] = mapped_column(String(32))
    adoption_status: Mapped[str | None] = mapped_column(String(64))
    #: The CASE ``lastChangeDateTime`` of the imported document.
    last_change: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    issuer: Mapped[Issuer] = relationship()
    competencies: Mapped[list[Competency]] = relationship(
        back_populates="framework", order_by="Competency.position"
    )


class Prerequisite(db.Model):  # type: ignore[name-defined]
    """``competency`` can only be submitted for once ``prerequisite`` is mastered."""

    __tablename__ = "competency_prerequisites"

    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)
    prerequisite_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)


class StackComponent(db.Model):  # type: ignore[name-defined]
    """A stack badge (``stack``) is earned by mastering every one of its components."""

    __tablename__ = "stack_components"

    stack_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)


class Competency(db.Model):  # type: ignore[name-defined]
    """A competency of the catalogue: the OB 3.0 Achievement a mastery credential carries.

    Its Achievement ``id`` is ``<public URL>/achievements/<public_id>`` and never changes, so
    re-importing a framework updates the definition without breaking issued credentials.
    """

    __tablename__ = "competencies"
    __table_args__ = (
        UniqueConstraint("issuer_id", "identifier"),
        db.CheckConstraint("required_endorsements BETWEEN 1 AND 5", name="required_endorsements"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    framework_id: Mapped[int | None] = mapped_column(ForeignKey("frameworks.id"), index=True)
    #: The CASE CFItem ``identifier`` (or a code of our own): the key re-imports match on.
    identifier: Mapped[str] = mapped_column(String(256), default=new_public_id)
    case_uri: Mapped[str | None] = mapped_column(String(2048))
    human_code: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(512))
    description: Mapped[str] = mapped_column(Text)
    criteria_narrative: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str | None] = mapped_column(String(2048))
    achievement_type: Mapped[str] = mapped_column(String(64), default="Competency")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Education or proficiency level, e.g. "Grade 8" or "Intermediate".
    level: Mapped[str | None] = mapped_column(String(128))
    credits: Mapped[float | None] = mapped_column()
    #: OB 3.0 Alignment objects in JSON form (targetName, targetUrl, targetCode, ...).
    alignments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: How many assessors must agree before a credential is issued (moderation when > 1).
    required_endorsements: Mapped[int] = mapped_column(Integer, default=1)
    #: A stack badge: never submitted for, issued when its components are all mastered.
    is_stack: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    issuer: Mapped[Issuer] = relationship()
    framework: Mapped[CompetencyFramework | None] = relationship(back_populates="competencies")
    prerequisites: Mapped[list[Competency]] = relationship(
        secondary="competency_prerequisites",
        primaryjoin="Competency.id == Prerequisite.competency_id",
        secondaryjoin="Competency.id == Prerequisite.prerequisite_id",
        order_by="Competency.name",
        viewonly=True,
    )
    components: Mapped[list[Competency]] = relationship(
        secondary="stack_components",
        primaryjoin="Competency.id == StackComponent.stack_id",
        secondaryjoin="Competency.id == StackComponent.component_id",
        order_by="Competency.name",
        viewonly=True,
    )


class RubricVersion(db.Model):  # type: ignore[name-defined]
    """One version of a competency's rubric: criteria × levels and the rule for mastery.

    Rows are never updated: editing a rubric inserts the next version, and every assessment
    keeps pointing at the version it was made with, so it always reads as it was written.

    ``levels``: ``[{"name", "description", "points"}]`` from lowest to highest;
    ``criteria``: ``[{"name", "description", "levels": [<cell description per level>]}]``;
    ``mastery_rule``: ``{"kind": "min_level", "level": <index>}`` (every criterion at that level
    or above) or ``{"kind": "points", "threshold": <number>}`` (total points at least that).
    """

    __tablename__ = "rubric_versions"
    __table_args__ = (UniqueConstraint("competency_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(256))
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    mastery_rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    competency: Mapped[Competency] = relationship()


class Submission(db.Model):  # type: ignore[name-defined]
    """A student's claim of mastery of one competency, with the evidence for it."""

    __tablename__ = "submissions"
    __table_args__ = (
        db.CheckConstraint(
            "state IN ('draft', 'submitted', 'in_review', 'revision_requested', 'resubmitted', "
            "'endorsed', 'not_yet')",
            name="state",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    state: Mapped[str] = mapped_column(String(24), default="draft", index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    #: Each submit or resubmit starts a new round of assessment.
    round: Mapped[int] = mapped_column(Integer, default=0)
    #: Set when assessors of the current round disagree (moderation); cleared on a decision.
    flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: When the current round was submitted (the queue's "waiting since").
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("issued_credentials.id"))

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    competency: Mapped[Competency] = relationship()
    credential: Mapped[IssuedCredential | None] = relationship()
    items: Mapped[list[SubmissionEvidence]] = relationship(
        back_populates="submission",
        order_by="SubmissionEvidence.position",
        cascade="all, delete-orphan",
    )
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="submission", order_by="Assessment.id"
    )


class SubmissionEvidence(db.Model):  # type: ignore[name-defined]
    """An evidence item attached to a submission."""

    __tablename__ = "submission_evidence"
    __table_args__ = (UniqueConstraint("submission_id", "evidence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    submission: Mapped[Submission] = relationship(back_populates="items")
    evidence: Mapped[Evidence] = relationship()


class SubmissionEvent(db.Model):  # type: ignore[name-defined]
    """The audit trail of a submission: every transition with who, when and why."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    actor: Mapped[User | None] = relationship()


class Assessment(db.Model):  # type: ignore[name-defined]
    """One assessor's judgement of one round of a submission against a rubric version.

    ``levels`` holds the chosen level index per criterion (same order as the rubric's
    criteria); ``criterion_feedback`` the feedback text per criterion.
    """

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("submission_id", "round", "assessor_id"),
        db.CheckConstraint("decision IN ('endorse', 'revise', 'not_yet')", name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    rubric_version_id: Mapped[int | None] = mapped_column(ForeignKey("rubric_versions.id"))
    decision: Mapped[str] = mapped_column(String(16))
    levels: Mapped[list[int]] = mapped_column(JSON, default=list)
    criterion_feedback: Mapped[list[str]] = mapped_column(JSON, default=list)
    feedback: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="assessments")
    assessor: Mapped[User] = relationship()
    rubric_version: Mapped[RubricVersion | None] = relationship()


class Mastery(db.Model):  # type: ignore[name-defined]
    """A student mastered a competency and holds the credential for it.

    The unique key is what makes "endorsing twice never issues twice" a database guarantee.
    """

    __tablename__ = "masteries"
    __table_args__ = (UniqueConstraint("student_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    competency: Mapped[Competency] = relationship()
    credential: Mapped[IssuedCredential] = relationship()


class Notification(db.Model):  # type: ignore[name-defined]
    """An in-app notice for a user (feedback arrived, a credential was issued, a flag...)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    #: A path inside the service (never an external URL).
    link: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Endorser(db.Model):  # type: ignore[name-defined]
    """An assessor's own signing identity: a ``did:key`` held (encrypted) by the service.

    Endorsements an assessor makes are signed with it, so any verifier can check them offline.
    ``issuer_id`` is the :class:`Issuer` row that carries the did:key (issuing goes through it).
    """

    __tablename__ = "endorsers"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), unique=True)

    issuer: Mapped[Issuer] = relationship()


# -- Security (issue #7) -----------------------------------------------------------------------


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """A security-relevant event: sign-in, role change, issue, revoke, suspend, key rotation,
    export, account deletion...  Written in the transaction of the change it records where
    there is one; never updated."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    #: e.g. ``sign_in``, ``sign_in_failed``, ``role_changed``, ``credential_revoked``.
    action: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Who, when not a user: ``cli``, ``client:<id>``, ``service``, or an email that failed.
    actor_label: Mapped[str | None] = mapped_column(String(320))
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"), index=True)
    #: What it was done to, e.g. ``credential:<public id>`` or ``user:<id>``.
    target: Mapped[str | None] = mapped_column(String(512))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))


# -- Bulk work (issue #6) ----------------------------------------------------------------------

#: States of a :class:`BulkJob` (see docs/bulk.md).
BULK_JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
#: States of a :class:`BulkJobItem`.
BULK_ITEM_STATES = ("pending", "done", "skipped", "failed")


class BulkJob(db.Model):  # type: ignore[name-defined]
    """A piece of bulk work (a cohort endorsement, a CSV of credentials to issue), processed
    item by item by whichever process holds its lease.

    ``request_key`` is a digest of the request: the same request while a job for it is open
    returns that job.  ``lease_owner`` / ``lease_expires_at`` say who runs it until when; the
    runner renews the lease (its heartbeat) and another process takes over an expired one.
    """

    __tablename__ = "bulk_jobs"
    __table_args__ = (
        db.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="state"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    #: ``cohort_endorsement`` or ``csv_issue``.
    kind: Mapped[str] = mapped_column(String(32))
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Who started it when not a user (``cli``).
    actor_label: Mapped[str | None] = mapped_column(String(320))
    title: Mapped[str] = mapped_column(String(512))
    request_key: Mapped[str] = mapped_column(String(64), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: Counts as of the last finished item (the progress page counts the items themselves).
    done_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    issuer: Mapped[Issuer] = relationship()
    started_by: Mapped[User | None] = relationship()


class BulkJobItem(db.Model):  # type: ignore[name-defined]
    """One row of a bulk job: a student to endorse, a CSV line to issue.

    ``key`` is the item's natural key (``student:<id>`` or the CSV row's idempotency key);
    ``data`` what the handler needs; ``message`` the per-row result in words.  An item goes
    from ``pending`` to ``done``, ``skipped`` or ``failed`` in the transaction of its work.
    """

    __tablename__ = "bulk_job_items"
    __table_args__ = (
        UniqueConstraint("job_id", "row"),
        Index("ix_bulk_job_items_job_id_state", "job_id", "state"),
        db.CheckConstraint("state IN ('pending', 'done', 'skipped', 'failed')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("bulk_jobs.id"))
    #: The line of the CSV file (header = 1), or the position in the cohort (from 1).
    row: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(256))
    #: What the results table shows for the row (a name and an email).
    label: Mapped[str] = mapped_column(String(700), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    message: Mapped[str] = mapped_column(Text, default="")
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("issued_credentials.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    credential: Mapped[IssuedCredential | None] = relationship()
