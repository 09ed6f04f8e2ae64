"""The rules of accounts, one transaction each: invitations (and class rosters) and joining,
password reset links, the learner profile, and the ``credfolio users`` changes (signing in is
in :mod:`portfolio.accounts.sign_in_service`).  No request, session or page here: refusals are
domain errors (:mod:`portfolio.core.errors`)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.datastructures import FileStorage

from portfolio.accounts import auth
from portfolio.accounts.models import Invitation, Issuer, LearnerProfile, Role, User
from portfolio.accounts.roster import ROSTER_ROLES, RowResult, parse_roster, reject_known
from portfolio.core import audit, mail
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError, InvalidInputError, NotFoundError
from portfolio.core.i18n import LANGUAGES, in_language
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.links import public_url_for
from portfolio.core.models import utcnow
from portfolio.files import uploads, usage
from portfolio.files.models import Blob

log = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(days=14)
#: Roles an administrator may invite (administrators are created with ``credfolio users``);
#: guardians only from the guardians page, which names their students (portfolio/guardians/).
INVITABLE_ROLES = (*ROSTER_ROLES, Role.GUARDIAN)
#: ``app.extensions`` key: callables ``(invitation, user)`` run inside the transaction that
#: accepts an invitation (features above accounts register them, e.g. guardians' links).
INVITATION_ACCEPTED = "credfolio.invitation_accepted"
#: Profile photos: images only, checked from their content by ``uploads.store_blob``.
PHOTO_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
#: What a learner profile holds besides the photo (form field = column).
PROFILE_FIELDS = ("credential_name", "pronouns", "did", "bio", "learning_goals", "interests")
RESET_MAX_AGE = 3600  # seconds: a reset link works for one hour
RESET_SALT = "credfolio.password-reset"


def token_sha256(token: str) -> str:
    """What is stored of a link's token: its SHA-256 (hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- invitations -----------------------------------------------------------------------------


def invitation_state(invitation: Invitation, *, now: datetime | None = None) -> str:
    """``accepted``, ``revoked``, ``expired`` or ``pending``."""
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= (now or utcnow()):
        return "expired"
    return "pending"


def has_account(email: str) -> bool:
    """Whether an account uses ``email`` (any issuer: addresses are unique)."""
    found = db.session.scalar(select(User.id).where(User.email == User.normalize_email(email)))
    return found is not None


def pending_invitation_emails(issuer: Issuer, emails: set[str], *, now: datetime) -> set[str]:
    """Those of ``emails`` (lower-cased) with an open invitation from ``issuer``."""
    if not emails:
        return set()
    rows = db.session.scalars(
        select(Invitation.email).where(
            Invitation.issuer_id == issuer.id,
            Invitation.email.in_(sorted(emails)),
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    )
    return set(rows)


def new_invitation(
    *,
    email: str,
    name: str,
    role: str,
    issuer: Issuer,
    invited_by: User | None,
    now: datetime,
    cohort: str | None = None,
) -> tuple[Invitation, str]:
    """A new invitation (added to the session, not committed) and its token.

    The token (256 random bits) is returned once, for the link; only its SHA-256 is stored, so
    a copy of the database does not let anyone join.  Raises :class:`InvalidInputError` for a
    role that cannot be invited.
    """
    if role not in INVITABLE_ROLES:
        raise InvalidInputError(
            _l("role %(role)s cannot be invited", role=repr(role)), code="ROLE_NOT_INVITABLE"
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_sha256=token_sha256(token),
        email=User.normalize_email(email),
        display_name=name.strip(),
        role=role,
        cohort=cohort if role == Role.STUDENT else None,
        issuer_id=issuer.id,
        invited_by_id=invited_by.id if invited_by else None,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "invitation_sent",
        actor=invited_by,
        actor_label=None if invited_by else "cli",
        issuer_id=issuer.id,
        target=f"invitation:{invitation.id}",
        detail={"role": role},
    )
    return invitation, token


def send_invitation(invitation: Invitation, token: str, issuer: Issuer) -> None:
    """Mail the invitation link.  Raises :class:`portfolio.core.mail.MailError`."""
    link = public_url_for("accounts.join", token=token)
    # The invited person has no profile yet, so no chosen language: English.
    with in_language(None):
        invites = {
            Role.STUDENT: _("%(issuer)s invites you to join Credfolio as a student."),
            Role.ASSESSOR: _("%(issuer)s invites you to join Credfolio as an assessor."),
            Role.GUARDIAN: _(
                "%(issuer)s invites you to join Credfolio as a guardian, to follow your "
                "child's learning."
            ),
        }.get(Role(invitation.role), _("%(issuer)s invites you to join Credfolio."))
        subject = _("You are invited to %(issuer)s on Credfolio", issuer=issuer.name)
        body = _(
            "Hello %(name)s,\n\n"
            "%(invitation)s\n"
            "Choose your password here (the link works once, until %(expires)s):\n\n"
            "%(link)s\n\n"
            "If you did not expect this message, you can ignore it.\n",
            name=invitation.display_name or "",
            invitation=invites % {"issuer": issuer.name},
            expires=format_date(invitation.expires_at, "long"),
            link=link,
        )
    mail.send(to=invitation.email, subject=subject, body=body)


def with_article(role: str) -> str:
    """``a student``, ``an assessor``."""
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def invite(
    admin: User, issuer: Issuer, *, email: str, name: str, role: str
) -> tuple[Invitation, bool]:
    """Invite one person (committed), then mail them the link: the invitation, and whether the
    mail went out.  Raises :class:`ConflictError` when the address has an account or an open
    invitation (``code`` ``HAS_ACCOUNT`` or ``ALREADY_INVITED``)."""
    email = User.normalize_email(email)
    now = utcnow()
    if has_account(email):
        raise ConflictError(_l("This address already has an account."), code="HAS_ACCOUNT")
    if pending_invitation_emails(issuer, {email}, now=now):
        raise ConflictError(
            _l("This address already has an open invitation."), code="ALREADY_INVITED"
        )
    with unit_of_work():
        invitation, token = new_invitation(
            email=email, name=name, role=role, issuer=issuer, invited_by=admin, now=now
        )
    try:
        send_invitation(invitation, token, issuer)
    except mail.MailError:
        return invitation, False
    return invitation, True


def invitations_of(issuer: Issuer) -> list[tuple[Invitation, str]]:
    """The issuer's invitations, newest first, each with its state."""
    rows = db.session.scalars(
        select(Invitation)
        .where(Invitation.issuer_id == issuer.id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    now = utcnow()
    return [(row, invitation_state(row, now=now)) for row in rows]


def issuer_invitation(issuer: Issuer, invitation_id: str) -> Invitation:
    """The invitation with that id (as given in a URL) of ``issuer``.  Raises
    :class:`NotFoundError` for any other — another issuer's invitation is "not found", not
    "forbidden", so its existence is not revealed."""
    if not (invitation_id.isascii() and invitation_id.isdigit()) or len(invitation_id) > 18:
        raise NotFoundError(_l("no such invitation"))
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.id == int(invitation_id), Invitation.issuer_id == issuer.id
        )
    )
    if invitation is None:
        raise NotFoundError(_l("no such invitation"))
    return invitation


def revoke_invitation(invitation: Invitation) -> bool:
    """Revoke a pending invitation (committed); False, changing nothing, for any other."""
    if invitation_state(invitation) != "pending":
        return False
    with unit_of_work():
        invitation.revoked_at = utcnow()
    return True


def find_invitation(token: str) -> Invitation | None:
    """The invitation of a link's token, whatever its state."""
    if not token or len(token) > 100:
        return None
    found: Invitation | None = db.session.scalar(
        select(Invitation).where(Invitation.token_sha256 == token_sha256(token))
    )
    return found


#: Why an invitation that is no longer pending cannot be used (shown to the person).
NOT_PENDING = {
    "accepted": _l("This invitation has already been used. Sign in with the password you chose."),
    "revoked": _l("This invitation was withdrawn. Ask your school for a new one."),
    "expired": _l("This invitation has expired. Ask your school for a new one."),
}


def accept_invitation(invitation: Invitation, *, name: str, password: str) -> User:
    """Create the invited account (committed, with the invitation marked accepted).

    Single use even against two submissions at once: only the request whose UPDATE still
    finds the invitation open creates the account.  Raises :class:`ConflictError`: the
    invitation was used meanwhile (``INVITATION_USED``) or an account with this address was
    created meanwhile (``ACCOUNT_EXISTS``); nothing is written then.
    """
    now = utcnow()
    try:
        with unit_of_work():
            taken = db.session.execute(
                update(Invitation)
                .where(
                    Invitation.id == invitation.id,
                    Invitation.accepted_at.is_(None),
                    Invitation.revoked_at.is_(None),
                    Invitation.expires_at > now,
                )
                .values(accepted_at=now)
                # No in-Python evaluation against the loaded rows: the database decides.
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]  # Result of an UPDATE has it
                raise ConflictError(NOT_PENDING["accepted"], code="INVITATION_USED")
            user = _invited_account(invitation, name=name, password=password)
            for follow in current_app.extensions.get(INVITATION_ACCEPTED, ()):
                follow(invitation, user)
    except IntegrityError:  # an account with this address was created meanwhile
        raise ConflictError(
            _l("An account already uses this address. Sign in, or reset its password."),
            code="ACCOUNT_EXISTS",
        ) from None
    return user


def _invited_account(invitation: Invitation, *, name: str, password: str) -> User:
    """Add the account an invitation was for, and its ``account_created`` record."""
    user = User(
        email=invitation.email,
        password_hash=auth.hash_password(password),
        display_name=name.strip(),
        role=invitation.role,
        issuer_id=invitation.issuer_id,
        cohort=invitation.cohort,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "account_created",
        actor=user,
        target=f"user:{user.id}",
        detail={"role": user.role, "invitation": invitation.id},
    )
    return user


def issuer_of(invitation: Invitation) -> Issuer | None:
    """The school an invitation is from."""
    return db.session.get(Issuer, invitation.issuer_id) if invitation.issuer_id else None


# -- rosters ---------------------------------------------------------------------------------


@dataclass
class RosterReport:
    """What a roster import did: every row's verdict, and the mail that could not be sent."""

    rows: list[RowResult]
    unsent: list[str] = field(default_factory=list)

    @property
    def created(self) -> list[RowResult]:
        """The rows that sent an invitation."""
        return [row for row in self.rows if row.ok and not row.existing]

    @property
    def updated(self) -> list[RowResult]:
        """The rows that set the cohort of a student who already has an account."""
        return [row for row in self.rows if row.ok and row.existing]

    @property
    def rejected(self) -> list[RowResult]:
        return [row for row in self.rows if not row.ok]


def import_roster(data: bytes, *, issuer: Issuer, invited_by: User | None) -> RosterReport:
    """Invite everyone on a roster file's valid rows; report every row.

    Broken rows never stop the good ones, but the invitations of one file are committed
    together (all or none), and mail goes out only after that commit, so nobody receives a
    link that does not exist.  A row with a cohort for one of the issuer's own students who
    already has an account sets that student's cohort, in the same commit.  Raises
    :class:`portfolio.accounts.roster.RosterFileError` when the file as a whole is unreadable.
    """
    now = utcnow()
    rows = parse_roster(data)
    emails = sorted({row.email for row in rows if row.ok})
    accounts = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    # Only the issuer's own students can be put in a cohort by its roster.
    students = {
        user.email: user
        for user in db.session.scalars(
            select(User).where(
                User.email.in_(emails), User.issuer_id == issuer.id, User.role == Role.STUDENT
            )
        )
    }
    invited = pending_invitation_emails(issuer, set(emails), now=now)
    rows = reject_known(rows, accounts=accounts, invited=invited, students=set(students))
    with unit_of_work():
        for row in rows:
            if row.ok and row.existing:
                students[row.email].cohort = row.cohort
        created = [
            new_invitation(
                email=row.email,
                name=row.name,
                role=row.role,
                issuer=issuer,
                invited_by=invited_by,
                now=now,
                cohort=row.cohort,
            )
            for row in rows
            if row.ok and not row.existing
        ]
    report = RosterReport(rows)
    for invitation, token in created:
        try:
            send_invitation(invitation, token, issuer)
        except mail.MailError:
            report.unsent.append(invitation.email)
    return report


# -- password reset --------------------------------------------------------------------------


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def password_fingerprint(user: User) -> str:
    """What binds a reset link to the password it replaces: once the password changes (this
    link used, or any other change) the fingerprint differs and the link stops working.  A
    keyed hash, so the (readable) token payload tells nothing about the password hash."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    digest = hmac.new(key, user.password_hash.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


def reset_token(user: User) -> str:
    """A signed link token for ``user`` (valid :data:`RESET_MAX_AGE` seconds, single use)."""
    return str(_reset_serializer().dumps({"u": user.id, "p": password_fingerprint(user)}))


def user_for_reset_token(token: str, *, max_age: int = RESET_MAX_AGE) -> User | None:
    """The active user a reset token was made for, or None when the token is forged,
    expired, already used (the password changed since) or the account is disabled."""
    try:
        payload = _reset_serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        return None
    user = db.session.get(User, payload["u"])
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(str(payload.get("p")), password_fingerprint(user)):
        return None
    return user


def send_reset_link(email: str) -> None:
    """Mail a reset link, after the response, when an active account uses ``email``; do
    nothing otherwise."""
    if not auth.is_valid_email(email):
        return
    user = db.session.scalar(select(User).where(User.email == User.normalize_email(email)))
    if user is None or not user.is_active:
        return
    link = public_url_for("accounts.reset_password", token=reset_token(user))
    # After the response: the mail server's timing must not tell whether the account exists.
    with in_language(user.locale):  # the account's language, not the asking browser's
        subject = _("Choose a new Credfolio password")
        body = _(
            "Hello %(name)s,\n\n"
            "Someone (we hope you) asked to choose a new password for your Credfolio "
            "account. The link below works once, for one hour:\n\n"
            "%(link)s\n\n"
            "If it was not you, ignore this message: your password stays as it is.\n",
            name=user.display_name,
            link=link,
        )
    mail.send_after_response(
        to=user.email,
        subject=subject,
        body=body,
        what=f"the password reset mail to user {user.id}",
    )


def set_new_password(user: User, password: str) -> None:
    """Give ``user`` a new password (committed); every session of the account ends."""
    with unit_of_work():
        user.password_hash = auth.hash_password(password)
        auth.end_all_sessions(user)


# -- the learner profile ---------------------------------------------------------------------


@uploads.counts_towards_quota
def photo_blobs(owner: User) -> Select[Any]:
    """The owner's profile photo: it counts towards their storage quota."""
    return select(LearnerProfile.photo_sha256).where(
        LearnerProfile.user_id == owner.id, LearnerProfile.photo_sha256.is_not(None)
    )


@usage.keeps_blob
def photo_uses(sha256: str) -> Select[Any]:
    return select(LearnerProfile.user_id).where(LearnerProfile.photo_sha256 == sha256)


def profile_of(user: User) -> LearnerProfile:
    """The user's learner profile (a new, unsaved one when they have none yet)."""
    return db.session.get(LearnerProfile, user.id) or LearnerProfile(user_id=user.id)


def save_profile(
    user: User,
    row: LearnerProfile,
    *,
    display_name: str,
    values: Mapping[str, str | None],
    photo: FileStorage | None = None,
    remove_photo: bool = False,
    locale: str | None = None,
) -> None:
    """Save the profile (committed): the display name, the :data:`PROFILE_FIELDS` (blank means
    none), the language (``locale``: one of :data:`portfolio.core.i18n.LANGUAGES`, or None for
    the browser's; a change is audited) and the photo (a new upload, else removed when asked).

    A replaced or removed photo's stored file is deleted unless something else uses it.

    Raises ``uploads.UploadError`` for a photo that is refused; nothing is saved then.
    """
    previous = row.photo_sha256
    if photo is not None and photo.filename:
        # Types are judged from the content's magic bytes, not the file name.
        row.photo_sha256 = uploads.store_blob(photo, owner=user, allowed=PHOTO_TYPES).sha256
    elif remove_photo:
        row.photo_sha256 = None
    with unit_of_work():
        user.display_name = display_name.strip()
        for name in PROFILE_FIELDS:
            setattr(row, name, (values.get(name) or "").strip() or None)
        row.updated_at = utcnow()
        db.session.add(row)
        _set_locale(user, locale)
        released = usage.release([previous] if previous != row.photo_sha256 else [])
    usage.delete_released_bytes(released)


def _set_locale(user: User, locale: str | None) -> None:
    """Record ``user``'s language (None: the browser's), audited when it changes."""
    chosen = locale if locale in LANGUAGES else None
    if chosen == user.locale:
        return
    audit.record(
        "language_changed",
        actor=user,
        target=f"user:{user.id}",
        detail={"from": user.locale, "to": chosen},
    )
    user.locale = chosen


def profile_language() -> str | None:
    """The signed-in person's chosen language, or None (registered as the
    :data:`portfolio.core.i18n.PROFILE_LANGUAGE` hook by the accounts blueprint)."""
    try:
        user = auth.current_user()
    except SQLAlchemyError:  # the database is down: the error page still gets a language
        return None
    return user.locale if user is not None else None


def profile_photo(user: User) -> Blob:
    """The user's own photo.  Raises :class:`NotFoundError` when they have none."""
    row = db.session.get(LearnerProfile, user.id)
    blob = db.session.get(Blob, row.photo_sha256) if row and row.photo_sha256 else None
    if blob is None:
        raise NotFoundError(_l("no photo"))
    return blob


# -- accounts from the command line (actor ``cli``) ------------------------------------------


def find_account(email: str) -> User | None:
    """The account using ``email`` (whatever its case), or None."""
    found: User | None = db.session.scalar(
        select(User).where(User.email == User.normalize_email(email))
    )
    return found


def find_issuer(did: str) -> Issuer | None:
    """The issuer with that DID, or None."""
    found: Issuer | None = db.session.scalar(select(Issuer).where(Issuer.did == did))
    return found


def create_account(
    *, email: str, role: Role, password: str, display_name: str | None, issuer: Issuer
) -> User:
    """Create an account (committed, recorded).  Raises :class:`ConflictError` when the
    address was taken meanwhile (the caller checked it first)."""
    user = User(
        email=email,
        password_hash=auth.hash_password(password),
        display_name=(display_name or email.split("@", 1)[0]).strip(),
        role=role,
        issuer=issuer,
    )
    try:
        with unit_of_work():
            db.session.add(user)
            db.session.flush()
            audit.record(
                "account_created",
                actor_label="cli",
                issuer_id=issuer.id,
                target=f"user:{user.id}",
                detail={"role": role},
            )
    except IntegrityError:  # created concurrently since the caller's check
        raise ConflictError(
            _l("an account for %(email)s already exists", email=User.normalize_email(email)),
            code="ACCOUNT_EXISTS",
        ) from None
    return user


def accounts_oldest_first() -> Sequence[User]:
    """Every account, oldest first."""
    return db.session.scalars(select(User).order_by(User.created_at, User.id)).all()


def disable_account(user: User) -> bool:
    """Disable the account (committed): it can no longer sign in and every session of it
    ends.  False, changing nothing, when it was disabled already."""
    if not user.is_active:
        return False
    with unit_of_work():
        user.disabled_at = utcnow()
        auth.end_all_sessions(user)
        audit.record(
            "account_disabled",
            actor_label="cli",
            issuer_id=user.issuer_id,
            target=f"user:{user.id}",
        )
    return True


def set_role(user: User, role: Role) -> str | None:
    """Give the account ``role`` (committed); every session of it ends.  Returns the role it
    had, or None when it had that role already (nothing changed)."""
    if user.role == role:
        return None
    previous = user.role
    with unit_of_work():
        user.role = role
        auth.end_all_sessions(user)
        audit.record(
            "role_changed",
            actor_label="cli",
            issuer_id=user.issuer_id,
            target=f"user:{user.id}",
            detail={"from": previous, "to": role},
        )
    return previous
