"""Issuing: the issuers' keys, issued credentials and their history, status lists, published
achievements, OAuth clients and tokens, and idempotency records of the VC-API."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
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

from portfolio.core.db import Model, UTCDateTime
from portfolio.core.models import new_public_id, utcnow

if TYPE_CHECKING:
    from portfolio.accounts.models import Issuer


class IssuerKeyRow(Model):
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
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    encrypted_secret: Mapped[dict[str, Any]] = mapped_column(JSON)

    issuer: Mapped[Issuer | None] = relationship(back_populates="keys")


class StatusListRow(Model):
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
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    issuer: Mapped[Issuer] = relationship()


class IssuedCredential(Model):
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
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_list_id: Mapped[int | None] = mapped_column(ForeignKey("status_lists.id"))
    revocation_index: Mapped[int | None] = mapped_column(Integer)
    suspension_list_id: Mapped[int | None] = mapped_column(ForeignKey("status_lists.id"))
    suspension_index: Mapped[int | None] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
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


class AchievementRow(Model):
    """An Achievement published at ``/achievements/<public_id>`` (its JSON as last issued)."""

    __tablename__ = "achievements"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    achievement_id: Mapped[str] = mapped_column(String(2048), unique=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    issuer: Mapped[Issuer] = relationship()


class OAuthClient(Model):
    """A VC-API client (OAuth 2.0 client-credentials); the secret is stored as an argon2 hash."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(256))
    scope: Mapped[str] = mapped_column(String(256), default="issue")
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    issuer: Mapped[Issuer] = relationship()


class OAuthToken(Model):
    """A short-lived bearer token; only its SHA-256 is stored."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(256))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class IdempotencyRecord(Model):
    """``Idempotency-Key`` of an issue request: a retry returns the same credential."""

    #: When its credential is reissued (key compromise), the row points at the replacement.
    follows_reissued_credential = True

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(256))
    request_sha256: Mapped[str] = mapped_column(String(64))
    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CredentialEvent(Model):
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
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Endorser(Model):
    """An assessor's own signing identity: a ``did:key`` held (encrypted) by the service.

    Endorsements an assessor makes are signed with it, so any verifier can check them offline.
    ``issuer_id`` is the :class:`Issuer` row that carries the did:key (issuing goes through it).
    """

    __tablename__ = "endorsers"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), unique=True)

    issuer: Mapped[Issuer] = relationship()


class TrustedIssuerRow(Model):
    """An issuer that administrators vouch for by hand: the service's local trust list.

    Verification reports ``issuer-trust`` passed for its DID (credentials/issuer_trust.py),
    naming it as entered here, "listed by the administrators of this service".  Any
    administrator sees the list; only the school that added an entry removes it.
    """

    __tablename__ = "trusted_issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    did: Mapped[str] = mapped_column(String(512), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    url: Mapped[str | None] = mapped_column(String(1024))
    added_by_issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    added_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VerdictGeneration(Model):
    """One row whose ``token`` changes, in the same transaction, with everything that can change
    a verification verdict of our credentials: revocation, suspension, unsuspension, key
    creation, rotation and revocation, and the trust list.  Every worker reads it on each
    credential page view, so a cached verdict is never shown once it may be stale
    (portfolio/issuing/verdict_generation.py)."""

    __tablename__ = "verdict_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
