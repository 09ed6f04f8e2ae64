"""Schools (issuers) and the people in them: accounts, roles, invitations, learner profiles and
in-app notifications."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portfolio.core.db import Model, UTCDateTime, one_of
from portfolio.core.models import utcnow

if TYPE_CHECKING:
    from portfolio.issuing.models import IssuerKeyRow


class RecipientIdentity(StrEnum):
    """How a school's credentials name the student (OB 3.0 §B.1 AchievementSubject): a salted
    hash of their email, their own DID (the hashed email when they gave none), or their name
    only.  See docs/security.md, "What the recipient identity reveals"."""

    EMAIL = "email"
    DID = "did"
    NAME = "name"


class Issuer(Model):
    """An issuer: its Open Badges Profile and its DID (``did:web`` of the service by default)."""

    __tablename__ = "issuers"
    __table_args__ = (one_of("recipient_identity", RecipientIdentity, name="recipient_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    did: Mapped[str] = mapped_column(String(512), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    url: Mapped[str | None] = mapped_column(String(1024))
    email: Mapped[str | None] = mapped_column(String(320))
    image: Mapped[str | None] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The school's choice of :class:`RecipientIdentity`; None: ``CREDFOLIO_RECIPIENT_IDENTITY``.
    recipient_identity: Mapped[str | None] = mapped_column(String(16))
    #: New credentials carry a suspension status entry besides the revocation one.  Off by
    #: default: the 1EdTech OB 3.0 schema allows one ``credentialStatus`` object, so strict
    #: validators reject the list two entries make (docs/verification.md, "Status entries").
    offers_suspension: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    #: Students younger than this (by ``User.birth_date``) are minors: publishing needs a
    #: recorded consent (portfolio/guardians/).  None: only students marked ``minor`` are.
    minor_below_age: Mapped[int | None] = mapped_column(Integer)

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


#: Roles of :class:`User`: an ``admin`` is an administrator of the issuer the user belongs to.
class Role(StrEnum):
    """What an account may do: run its school (issuer), assess students, or be a student."""

    ADMIN = "admin"
    ASSESSOR = "assessor"
    STUDENT = "student"
    #: A parent or carer: reads, never changes, what their linked students share with them
    #: (portfolio/guardians/, issue 17 §3).
    GUARDIAN = "guardian"


USER_ROLES = tuple(role.value for role in Role)


class User(Model):
    """A person who signs in: an issuer administrator (``admin``), an assessor or a student.

    ``email`` is stored lower-cased (one account per address whatever its spelling);
    ``password_hash`` is an argon2id PHC string (never the password).  ``session_version`` is
    copied into the session cookie at sign-in: bumping it signs the user out everywhere.
    """

    __tablename__ = "users"
    # The database refuses unknown roles too, not only the application code.
    __table_args__ = (one_of("role", Role, name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    #: The class or group a student belongs to (assessor queues and cohort views filter by it).
    cohort: Mapped[str | None] = mapped_column(String(128), index=True)
    #: Failed sign-ins since the last success (account lockout with backoff).
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: No sign-in is accepted before this moment (set after repeated failures).
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The account was deleted at its owner's request: personal data removed, row kept so that
    #: issued credentials and audit records still point somewhere.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The language the person chose on their profile (``en``, ``es``): pages and the mail sent
    #: to them use it.  None: the browser's (``Accept-Language``), and English for mail.
    locale: Mapped[str | None] = mapped_column(String(16))
    #: The school marked this student a minor: publishing a portfolio or a credential's public
    #: page needs a recorded consent (portfolio/guardians/consent.py).
    minor: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    #: Used with the school's age rule (``Issuer.minor_below_age``); None: not recorded.
    birth_date: Mapped[date | None] = mapped_column(Date)

    issuer: Mapped[Issuer | None] = relationship()

    @staticmethod
    def normalize_email(email: str) -> str:
        """The stored form of an address: surrounding space removed, lower-cased."""
        return email.strip().lower()

    @validates("email")
    def _lower_case_email(self, _key: str, email: str) -> str:
        return self.normalize_email(email)

    @property
    def is_active(self) -> bool:
        """False once the account is disabled: it can no longer sign in or use a session."""
        return self.disabled_at is None

    @property
    def is_admin(self) -> bool:
        """An issuer administrator."""
        return self.role == Role.ADMIN


class LearnerProfile(Model):
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
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class Invitation(Model):
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Notification(Model):
    """An in-app notice for a user (feedback arrived, a credential was issued, a flag...)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    #: A path inside the service (never an external URL).
    link: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInFailures(Model):
    """Failed sign-ins of an address that has no account, counted in the database like an
    account's own (``User.failed_sign_ins``, ``locked_until``): every worker and every server
    sees the same count, so an address locks after the same failures whether or not an account
    exists, and the lock reveals nothing.  The address is kept only as its SHA-256 digest."""

    __tablename__ = "sign_in_failures"

    address_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
