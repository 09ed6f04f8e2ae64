"""People and roles: invitations (and class rosters) from issuer administrators, joining by an
invitation link, password reset by a signed link, and the learner profile."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from portfolio.accounts.auth import (
    MAX_PASSWORD_LENGTH,
    current_user,
    end_all_sessions,
    hash_password,
    is_valid_email,
    login_required,
    password_problem,
    sign_in,
)
from portfolio.accounts.models import Invitation, Issuer, LearnerProfile, User
from portfolio.accounts.roster import (
    ROSTER_ROLES,
    RosterFileError,
    RowResult,
    parse_roster,
    reject_known,
)
from portfolio.core import audit, mail
from portfolio.core.db import db
from portfolio.files import uploads
from portfolio.files.models import Blob

log = logging.getLogger(__name__)
bp = Blueprint("accounts", __name__)

INVITATION_LIFETIME = timedelta(days=14)
#: Profile photos: images only, checked from their content by ``uploads.store_blob``.
PHOTO_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
#: Roles an administrator may invite (administrators are created with ``credfolio users``).
INVITABLE_ROLES = ROSTER_ROLES
RESET_MAX_AGE = 3600  # seconds: a reset link works for one hour
RESET_SALT = "credfolio.password-reset"
#: Shown whether or not the address has an account (no account enumeration).
RESET_REQUESTED = (
    "If an account uses that address, we have sent it a link to choose a new password. "
    "The link works for one hour."
)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; every time we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _public_link(path: str) -> str:
    # Built from the configured public URL, never from the request's Host header, so that a
    # forged Host cannot make us mail a link to someone else's server (and it works in the CLI).
    return current_app.config["CREDFOLIO_PUBLIC_URL"].rstrip("/") + path


def _signed_in() -> User:
    user = current_user()
    if user is None:  # login_required ran first; this only narrows the type
        abort(401)
    return user


# -- invitations -----------------------------------------------------------------------------


def invitation_state(invitation: Invitation, *, now: datetime | None = None) -> str:
    """``accepted``, ``revoked``, ``expired`` or ``pending``."""
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if _aware(invitation.expires_at) <= (now or _now()):
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
    a copy of the database does not let anyone join.  Raises ``ValueError`` for a role that
    cannot be invited.
    """
    if role not in INVITABLE_ROLES:
        raise ValueError(f"role {role!r} cannot be invited")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_sha256=_token_sha256(token),
        email=User.normalize_email(email),
        display_name=name.strip(),
        role=role,
        cohort=cohort if role == "student" else None,
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
    link = _public_link(f"/join/{token}")  # the route of join(); the token is URL-safe
    expires = _aware(invitation.expires_at).strftime("%d %B %Y")
    mail.send(
        to=invitation.email,
        subject=f"You are invited to {issuer.name} on Credfolio",
        body=(
            f"Hello {invitation.display_name or ''},\n\n"
            f"{issuer.name} invites you to join Credfolio as {_article(invitation.role)}.\n"
            f"Choose your password here (the link works once, until {expires}):\n\n"
            f"{link}\n\n"
            "If you did not expect this message, you can ignore it.\n"
        ),
    )


def _article(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def find_invitation(token: str) -> Invitation | None:
    """The invitation of a link's token, whatever its state."""
    if not token or len(token) > 100:
        return None
    found: Invitation | None = db.session.scalar(
        select(Invitation).where(Invitation.token_sha256 == _token_sha256(token))
    )
    return found


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
    now = _now()
    rows = parse_roster(data)
    emails = sorted({row.email for row in rows if row.ok})
    accounts = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    # Only the issuer's own students can be put in a cohort by its roster.
    students = {
        user.email: user
        for user in db.session.scalars(
            select(User).where(
                User.email.in_(emails), User.issuer_id == issuer.id, User.role == "student"
            )
        )
    }
    invited = pending_invitation_emails(issuer, set(emails), now=now)
    rows = reject_known(rows, accounts=accounts, invited=invited, students=set(students))
    created = []
    try:
        for row in rows:
            if row.ok and row.existing:
                students[row.email].cohort = row.cohort
        for row in rows:
            if row.ok and not row.existing:
                created.append(
                    new_invitation(
                        email=row.email,
                        name=row.name,
                        role=row.role,
                        issuer=issuer,
                        invited_by=invited_by,
                        now=now,
                        cohort=row.cohort,
                    )
                )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
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


def _password_fingerprint(user: User) -> str:
    # Binds the link to the password it replaces: once the password changes (this link used,
    # or any other change) the fingerprint differs and the link stops working.  A keyed hash,
    # so the (readable) token payload tells nothing about the password hash.
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    digest = hmac.new(key, user.password_hash.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


def reset_token(user: User) -> str:
    """A signed link token for ``user`` (valid :data:`RESET_MAX_AGE` seconds, single use)."""
    return str(_reset_serializer().dumps({"u": user.id, "p": _password_fingerprint(user)}))


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
    if not hmac.compare_digest(str(payload.get("p")), _password_fingerprint(user)):
        return None
    return user


def send_reset_link(email: str) -> None:
    """Mail a reset link when an active account uses ``email``; do nothing otherwise."""
    if not is_valid_email(email):
        return
    user = db.session.scalar(select(User).where(User.email == User.normalize_email(email)))
    if user is None or not user.is_active:
        return
    link = _public_link(f"/password/reset/{reset_token(user)}")  # see reset_password()
    try:
        mail.send(
            to=user.email,
            subject="Choose a new Credfolio password",
            body=(
                f"Hello {user.display_name},\n\n"
                "Someone (we hope you) asked to choose a new password for your Credfolio "
                "account. The link below works once, for one hour:\n\n"
                f"{link}\n\n"
                "If it was not you, ignore this message: your password stays as it is.\n"
            ),
        )
    except mail.MailError:
        # The page answers the same either way (no enumeration); the failure is logged.
        log.warning("the password reset mail to user %s was not sent", user.id)


# -- forms -----------------------------------------------------------------------------------


class InvitationForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter the email address."), Length(max=320)],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    name = StringField(
        "Name", validators=[DataRequired("Enter the person's name."), Length(max=256)]
    )
    role = SelectField(
        "Role",
        choices=[SelectChoice("student", "Student"), SelectChoice("assessor", "Assessor")],
        validators=[DataRequired("Choose a role.")],
    )

    def validate_email(self, field: EmailField) -> None:
        if not is_valid_email(field.data or ""):
            raise ValidationError("This is not an email address.")


class RevokeInvitationForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token."""


class RosterForm(FlaskForm):  # type: ignore[misc]
    roster = FileField("Roster file (CSV, UTF-8)", validators=[FileRequired("Choose a CSV file.")])


class NewPasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a password."), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[
            DataRequired("Repeat the password."),
            EqualTo("password", "The two passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class JoinForm(NewPasswordForm):
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(max=256)])


class ForgotForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=320)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )


class ProfileForm(FlaskForm):  # type: ignore[misc]
    display_name = StringField(
        "Display name", validators=[DataRequired("Enter a display name."), Length(max=256)]
    )
    credential_name = StringField(
        "Name printed on your credentials", validators=[Optional(), Length(max=256)]
    )
    pronouns = StringField("Pronouns", validators=[Optional(), Length(max=64)])
    did = StringField(
        "Your DID (optional)",
        validators=[
            Optional(),
            Length(max=512),
            Regexp(
                r"did:[a-z0-9]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._%-]",
                message="A DID looks like did:key:z6Mk… or did:web:example.org.",
            ),
        ],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    bio = TextAreaField("A short bio", validators=[Optional(), Length(max=2000)])
    learning_goals = TextAreaField("Learning goals", validators=[Optional(), Length(max=4000)])
    interests = TextAreaField("Interests", validators=[Optional(), Length(max=2000)])
    photo = FileField("Photo (PNG, JPEG, WebP or GIF; optional)")
    remove_photo = BooleanField("Remove my photo")


def _check_password(form: NewPasswordForm, email: str) -> bool:
    problem = password_problem(form.password.data or "", email=email)
    if problem:
        form.password.errors = [*form.password.errors, problem[0].upper() + problem[1:] + "."]
        return False
    return True


# -- pages: administrators -------------------------------------------------------------------


def _admin_issuer() -> tuple[User, Issuer]:
    user = _signed_in()
    if user.issuer is None:
        abort(404)
    return user, user.issuer


@bp.route("/admin/invitations", methods=["GET", "POST"])
@login_required(role="admin")
def invitations() -> ResponseReturnValue:
    """The issuer's invitations (newest first) and the form to invite one person."""
    admin, issuer = _admin_issuer()
    form = InvitationForm()
    status = 200
    if form.validate_on_submit():
        email = User.normalize_email(form.email.data or "")
        now = _now()
        if has_account(email):
            form.email.errors = ["This address already has an account."]
        elif pending_invitation_emails(issuer, {email}, now=now):
            form.email.errors = ["This address already has an open invitation."]
        else:
            invitation, token = new_invitation(
                email=email,
                name=form.name.data or "",
                role=form.role.data,
                issuer=issuer,
                invited_by=admin,
                now=now,
            )
            db.session.commit()
            try:
                send_invitation(invitation, token, issuer)
                flash(f"Invited {email} as {_article(invitation.role)}.")
            except mail.MailError:
                flash(f"Invited {email}, but the mail could not be sent: revoke and retry later.")
            return redirect(url_for(".invitations"), 303)
    if form.is_submitted():
        status = 422
    rows = db.session.scalars(
        select(Invitation)
        .where(Invitation.issuer_id == issuer.id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    now = _now()
    listed = [(row, invitation_state(row, now=now)) for row in rows]
    return render_template("accounts/invitations.html", form=form, invitations=listed), status


@bp.post("/admin/invitations/<invitation_id>/revoke")
@login_required(role="admin")
def revoke_invitation(invitation_id: str) -> ResponseReturnValue:
    """Revoke a pending invitation of the administrator's own issuer (404 for any other)."""
    _admin, issuer = _admin_issuer()
    if not (invitation_id.isascii() and invitation_id.isdigit()) or len(invitation_id) > 18:
        abort(404)
    # The issuer is part of the query: another issuer's invitation is "not found", not
    # "forbidden", so its existence is not revealed.
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.id == int(invitation_id), Invitation.issuer_id == issuer.id
        )
    )
    if invitation is None:
        abort(404)
    form = RevokeInvitationForm()
    if not form.validate_on_submit():
        abort(400)
    if invitation_state(invitation) == "pending":
        invitation.revoked_at = _now()
        db.session.commit()
        flash(f"The invitation for {invitation.email} is revoked.")
    else:
        flash(f"The invitation for {invitation.email} is already {invitation_state(invitation)}.")
    return redirect(url_for(".invitations"), 303)


@bp.route("/admin/roster", methods=["GET", "POST"])
@login_required(role="admin")
def roster() -> ResponseReturnValue:
    """Upload a roster CSV; the answer is the per-row report."""
    admin, issuer = _admin_issuer()
    form = RosterForm()
    report = None
    if form.validate_on_submit():
        try:
            report = import_roster(form.roster.data.read(), issuer=issuer, invited_by=admin)
        except RosterFileError as error:
            form.roster.errors = [f"This file cannot be imported: {error}."]
    status = 422 if form.is_submitted() and report is None else 200
    return render_template("accounts/roster.html", form=form, report=report), status


# -- pages: joining --------------------------------------------------------------------------


def _gone(title: str, message: str) -> ResponseReturnValue:
    return render_template("accounts/gone.html", title=title, message=message), 410


_GONE = {
    "accepted": "This invitation has already been used. Sign in with the password you chose.",
    "revoked": "This invitation was withdrawn. Ask your school for a new one.",
    "expired": "This invitation has expired. Ask your school for a new one.",
}


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str) -> ResponseReturnValue:
    """Accept an invitation: choose a password; the account is created and signed in."""
    invitation = find_invitation(token)
    if invitation is None:
        abort(404)
    state = invitation_state(invitation)
    if state != "pending":
        return _gone("This invitation cannot be used", _GONE[state])
    form = JoinForm(data={"name": invitation.display_name or ""})
    if form.validate_on_submit() and _check_password(form, invitation.email):
        now = _now()
        # Single use even against two submissions at once: only the request whose UPDATE
        # still finds the invitation open may create the account.
        taken = db.session.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .values(accepted_at=now)
            # No in-Python evaluation against loaded rows (SQLite gives back naive datetimes).
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            db.session.rollback()
            return _gone("This invitation cannot be used", _GONE["accepted"])
        user = User(
            email=invitation.email,
            password_hash=hash_password(form.password.data or ""),
            display_name=(form.name.data or "").strip(),
            role=invitation.role,
            issuer_id=invitation.issuer_id,
            cohort=invitation.cohort,
        )
        db.session.add(user)
        try:
            db.session.flush()
            audit.record(
                "account_created",
                actor=user,
                target=f"user:{user.id}",
                detail={"role": user.role, "invitation": invitation.id},
            )
            db.session.commit()
        except IntegrityError:  # an account with this address was created meanwhile
            db.session.rollback()
            return _gone(
                "This invitation cannot be used",
                "An account already uses this address. Sign in, or reset its password.",
            )
        sign_in(user)
        flash(f"Welcome, {user.display_name}. Your account is ready.")
        return redirect(url_for(".profile"), 303)
    status = 422 if form.is_submitted() else 200
    issuer = db.session.get(Issuer, invitation.issuer_id) if invitation.issuer_id else None
    page = render_template("accounts/join.html", form=form, invitation=invitation, issuer=issuer)
    return page, status


# -- pages: password reset -------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> ResponseReturnValue:
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = ForgotForm()
    if form.validate_on_submit():
        send_reset_link(form.email.data or "")
        return render_template("accounts/forgot_sent.html")
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password with a reset link; every other session of the account ends."""
    user = user_for_reset_token(token)
    if user is None:
        return _gone(
            "This link cannot be used",
            "The link has expired or was already used. Ask for a new one.",
        )
    form = NewPasswordForm()
    if form.validate_on_submit() and _check_password(form, user.email):
        user.password_hash = hash_password(form.password.data or "")
        end_all_sessions(user)
        db.session.commit()
        sign_in(user)
        flash("Your password is changed; you are signed out everywhere else.")
        return redirect(url_for("home.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/reset.html", form=form), status


# -- pages: the learner profile --------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@login_required()
def profile() -> ResponseReturnValue:
    """The signed-in user's own profile (there is no id in the URL: nobody edits another's)."""
    user = _signed_in()
    row = db.session.get(LearnerProfile, user.id) or LearnerProfile(user_id=user.id)
    data: dict[str, Any] = {
        "display_name": user.display_name,
        "credential_name": row.credential_name,
        "pronouns": row.pronouns,
        "did": row.did,
        "bio": row.bio,
        "learning_goals": row.learning_goals,
        "interests": row.interests,
    }
    form = ProfileForm(data=data)
    if form.validate_on_submit() and _store_photo(form, row, user):
        user.display_name = (form.display_name.data or "").strip()
        for name in ("credential_name", "pronouns", "did", "bio", "learning_goals", "interests"):
            value = (getattr(form, name).data or "").strip()
            setattr(row, name, value or None)
        row.updated_at = _now()
        db.session.add(row)
        db.session.commit()
        flash("Your profile is saved.")
        return redirect(url_for(".profile"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/profile.html", form=form, user=user, profile=row), status


def _store_photo(form: ProfileForm, row: LearnerProfile, user: User) -> bool:
    """Apply the photo fields to ``row``: False (with the error next to the field) when the
    upload is refused."""
    upload = form.photo.data
    if isinstance(upload, FileStorage) and upload.filename:
        try:
            # Types are judged from the content's magic bytes, not the file name.
            blob = uploads.store_blob(upload, owner=user, allowed=PHOTO_TYPES)
        except uploads.UploadError as error:
            form.photo.errors = [*form.photo.errors, error.message]
            return False
        row.photo_sha256 = blob.sha256
    elif form.remove_photo.data:
        row.photo_sha256 = None
    return True


@bp.get("/profile/photo")
@login_required()
def profile_photo() -> ResponseReturnValue:
    """The signed-in user's own photo (404 when they have none)."""
    row = db.session.get(LearnerProfile, _signed_in().id)
    if row is None or row.photo_sha256 is None:
        abort(404)
    blob = db.session.get(Blob, row.photo_sha256)
    if blob is None:
        abort(404)
    return uploads.send_blob(blob, filename=None, inline=True)
