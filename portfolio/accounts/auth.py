"""Accounts and sessions: argon2id passwords, sign-in and sign-out pages, ``current_user()`` and
the ``login_required`` decorator, and the CSRF exemption of the JSON API blueprints.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import select, update
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from portfolio.accounts.models import USER_ROLES, User
from portfolio.core import audit
from portfolio.core.db import db
from portfolio.core.hashing import dummy_hash, password_hasher
from portfolio.core.limits import failure_counter

bp = Blueprint("auth", __name__)

#: Blueprints of JSON endpoints that never carry a CSRF token: they are public (verify), or
#: authenticate every request with a bearer token that a browser never sends on its own (issue,
#: OAuth token endpoint), so a cross-site form cannot act with anyone's authority.
CSRF_EXEMPT_BLUEPRINTS = ("vcapi", "oauth", "api")

MIN_PASSWORD_LENGTH = 12
#: An upper bound, so that nobody can make us hash megabytes per request.
MAX_PASSWORD_LENGTH = 1024
#: One message for an unknown address, a wrong password and a disabled account, so that the
#: sign-in form does not tell anyone which addresses have accounts (no account enumeration).
WRONG_CREDENTIALS = "The email address or password is wrong."
#: Account lockout (issue #7): after this many failed sign-ins in a row, an address is refused
#: for ``LOCKOUT_FIRST``, twice as long after each further failure, at most ``LOCKOUT_LONGEST``.
LOCKOUT_AFTER = 5
LOCKOUT_FIRST = timedelta(minutes=1)
LOCKOUT_LONGEST = timedelta(hours=1)
#: An account's failures count until it signs in; those of an address without an account (kept
#: outside the database, see ``limits.FailureCounter``) are forgotten this long after the first.
UNKNOWN_ADDRESS_MEMORY = timedelta(days=7)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
P = ParamSpec("P")
R = TypeVar("R")


# -- passwords -------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """The argon2id PHC string of ``password`` (a fresh random salt each time)."""
    return password_hasher().hash(password)


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why ``password`` may not be used, or None when it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must have at most {MAX_PASSWORD_LENGTH} characters"
    if email and password.strip().lower() == User.normalize_email(email):
        return "the password must not be the email address"
    return None


def is_valid_email(email: str) -> bool:
    """A plausible address: one ``@``, no spaces, a dot in the domain, at most 320 characters."""
    return len(email) <= 320 and _EMAIL.fullmatch(email.strip()) is not None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return password_hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class SignInLocked(Exception):
    """Too many failed sign-ins with an address: no attempt is accepted before ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"sign-in refused until {until.isoformat()}")
        self.until = until


def lockout_duration(failures: int) -> timedelta | None:
    """How long an address is refused after ``failures`` failed sign-ins in a row: None below
    :data:`LOCKOUT_AFTER`, then :data:`LOCKOUT_FIRST` doubling up to :data:`LOCKOUT_LONGEST`."""
    if failures < LOCKOUT_AFTER:
        return None
    doublings = min(failures - LOCKOUT_AFTER, 16)
    return min(LOCKOUT_FIRST * 2**doublings, LOCKOUT_LONGEST)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every stored moment is UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def authenticate(email: str, password: str) -> User | None:
    """The active user with that email and password, or None.

    The work is the same whether or not the address has an account (an unknown address is
    checked against a dummy hash) and a disabled account is refused only after its password is
    checked, so response times do not reveal which addresses exist.  A hash made with older
    argon2 parameters is replaced by one made with the current ones.

    Lockout: after :data:`LOCKOUT_AFTER` failures in a row the address is refused until the
    time :func:`lockout_duration` gives, whatever the password; a success starts the count
    again.  Addresses without an account are counted and locked the same way, so a lock does
    not reveal that an account exists either.  Every attempt is written to the audit log
    (``sign_in``, ``sign_in_failed``, ``sign_in_locked``) and committed.

    Raises :class:`SignInLocked` when the address is locked, including by this attempt.
    """
    address = User.normalize_email(email)[:320]
    now = datetime.now(UTC)
    user: User | None = db.session.scalar(select(User).where(User.email == address))
    target = f"user:{user.id}" if user is not None else None
    issuer_id = user.issuer_id if user is not None else None
    if user is not None:
        locked_until = _aware(user.locked_until)
    else:
        locked_until = failure_counter().locked_until(address)
    if locked_until is not None and locked_until > now:
        raise _locked_attempt(address, password, issuer_id, target, locked_until)
    if user is None:
        return _unknown_address_failed(address, password, locked_until)
    password_ok = _verify(user.password_hash, password)
    if not password_ok or not user.is_active:
        return _account_sign_in_failed(address, user, password_ok, now, locked_until)
    if password_hasher().check_needs_rehash(user.password_hash):
        user.password_hash = password_hasher().hash(password)
    user.failed_sign_ins = 0
    user.locked_until = None
    audit.record("sign_in", actor=user, target=target)
    db.session.commit()
    return user


def _locked_attempt(
    address: str, password: str, issuer_id: int | None, target: str | None, locked_until: datetime
) -> SignInLocked:
    """Record (committed) an attempt at a locked address, after the same work as any other;
    the caller raises the :class:`SignInLocked` returned."""
    _verify(dummy_hash(), password)  # the same work as any other attempt
    audit.record(
        "sign_in_locked",
        actor_label=address,
        issuer_id=issuer_id,
        target=target,
        detail={"locked_until": locked_until.isoformat()},
    )
    db.session.commit()
    return SignInLocked(locked_until)


def _unknown_address_failed(address: str, password: str, locked_until: datetime | None) -> None:
    """Count a failure for an address without an account, outside the database."""
    _verify(dummy_hash(), password)
    failures = failure_counter().add_failure(
        address, remember_seconds=int(UNKNOWN_ADDRESS_MEMORY.total_seconds())
    )
    duration = lockout_duration(failures)
    if duration is not None:
        locked_until = failure_counter().lock(address, int(duration.total_seconds()))
    return _refused(address, None, "unknown_address", failures, locked_until)


def _account_sign_in_failed(
    address: str, user: User, password_ok: bool, now: datetime, locked_until: datetime | None
) -> None:
    """Count a failure (wrong password or disabled account) on the account's row."""
    # One UPDATE: wrong guesses sent in parallel cannot overwrite each other's count.
    failures = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_sign_ins=User.failed_sign_ins + 1)
        .returning(User.failed_sign_ins)
    ).scalar_one()
    duration = lockout_duration(failures)
    if duration is not None:
        locked_until = user.locked_until = now + duration
    reason = "wrong_password" if not password_ok else "account_disabled"
    return _refused(address, user, reason, failures, locked_until)


def _refused(
    address: str, user: User | None, reason: str, failures: int, locked_until: datetime | None
) -> None:
    """Record a failed attempt (committed); raise :class:`SignInLocked` when it started a lock."""
    detail: dict[str, Any] = {"reason": reason, "failures": failures}
    if locked_until is not None:
        detail["locked_until"] = locked_until.isoformat()
    audit.record(
        "sign_in_failed",
        actor_label=address,
        issuer_id=user.issuer_id if user is not None else None,
        target=f"user:{user.id}" if user is not None else None,
        detail=detail,
    )
    db.session.commit()
    if locked_until is not None:
        raise SignInLocked(locked_until)
    return None


# -- sessions --------------------------------------------------------------------------------


def sign_in(user: User) -> None:
    """Start a new session for ``user``.

    The session is emptied first, so nothing planted in it before sign-in (session fixation),
    and no CSRF token issued to the anonymous visitor, survives into the signed-in session.
    """
    session.clear()
    session["user_id"] = user.id
    session["session_version"] = user.session_version
    g.credfolio_user = user


def sign_out() -> None:
    """End the current session (other devices stay signed in; see :func:`end_all_sessions`)."""
    session.clear()
    g.credfolio_user = None


def end_all_sessions(user: User) -> None:
    """Sign ``user`` out everywhere: every session carries the old ``session_version``.

    The caller commits.
    """
    user.session_version += 1


def current_user() -> User | None:
    """The signed-in user of this request, or None (looked up once per request).

    A session whose user was disabled, deleted or signed out everywhere is emptied.
    """
    if "credfolio_user" in g:
        return cast(User | None, g.credfolio_user)
    user: User | None = None
    user_id = session.get("user_id")
    if isinstance(user_id, int):
        candidate = db.session.get(User, user_id)
        if (
            candidate is not None
            and candidate.is_active
            and candidate.session_version == session.get("session_version")
        ):
            user = candidate
    if user is None and "user_id" in session:
        session.clear()
    g.credfolio_user = user
    return user


def signed_in_user() -> User:
    """The signed-in user, in a view that ``login_required`` guards (401 otherwise)."""
    user = current_user()
    if user is None:
        abort(401)
    return user


def login_required(
    role: str | Iterable[str] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Decorate a view that needs a signed-in user, optionally with one of the ``role`` s.

    Anonymous GET/HEAD requests are redirected to the sign-in page (coming back afterwards);
    other anonymous requests get 401.  A signed-in user without the role gets 403.  Per-object
    checks (whose credential is it?) stay in the view: this only checks who is asking.
    """
    roles = (role,) if isinstance(role, str) else tuple(role or ())
    unknown = set(roles) - set(USER_ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorator(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            user = current_user()
            if user is None:
                if request.method in ("GET", "HEAD"):
                    target = request.full_path.rstrip("?")
                    return redirect(url_for("auth.sign_in_page", next=target))
                abort(401)
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirect after sign-in).

    Refuses absolute and scheme-relative URLs (``//host``), backslashes and any whitespace or
    control character (browsers drop tabs and newlines, turning ``/\\t/host`` into ``//host``).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# -- pages -----------------------------------------------------------------------------------


class SignInForm(FlaskForm):  # type: ignore[misc]
    """Email address and password (the CSRF token is added by Flask-WTF)."""

    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=320)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


def _landing_page(user: User) -> str:
    if user.is_admin and "admin.credentials" in current_app.view_functions:
        return url_for("admin.credentials")
    return url_for("home.index")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in_page() -> ResponseReturnValue:
    """The sign-in form; on success a new session and a redirect (303) to ``next`` or home.

    Failed submissions are shown again with 422: field errors next to their fields, and one
    message for wrong credentials that does not say which part was wrong.
    """
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data or "", form.password.data or "")
        except SignInLocked as locked:
            return _locked_page(form, locked.until)
        if user is not None:
            sign_in(user)
            flash(f"Signed in as {user.email}.")
            return redirect(safe_next(request.args.get("next")) or _landing_page(user), 303)
        error = WRONG_CREDENTIALS
    status = 422 if form.is_submitted() else 200
    return render_template("auth/sign_in.html", form=form, error=error), status


def _locked_page(form: SignInForm, until: datetime) -> ResponseReturnValue:
    """429 with ``Retry-After``: the form again, saying when to try again (the same page
    whether or not the address has an account)."""
    seconds = max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))
    minutes = math.ceil(seconds / 60)
    wait = f"about {minutes} minutes" if minutes > 1 else "about a minute"
    page = render_template("auth/sign_in.html", form=form, locked_until=until, wait=wait)
    return page, 429, {"Retry-After": str(seconds)}


@bp.post("/sign-out")
def sign_out_page() -> ResponseReturnValue:
    """End this session and go home (POST only, with a CSRF token: no sign-out by a link)."""
    user = current_user()
    sign_out()
    if user is not None:
        audit.record("sign_out", actor=user, target=f"user:{user.id}")
        db.session.commit()
    flash("You are signed out.")
    return redirect(url_for("home.index"), 303)


@bp.route("/sign-out-everywhere", methods=["GET", "POST"])
@login_required()
def sign_out_everywhere_page() -> ResponseReturnValue:
    """End every session of the signed-in user, on every device (after a confirmation).

    Every session cookie carries the account's ``session_version``; bumping it makes all of
    them, including copies an attacker may hold, worthless at their next request.
    """
    user = signed_in_user()
    error = None
    if request.method == "POST":
        if request.form.get("confirm") == "yes":
            end_all_sessions(user)
            audit.record("sign_out_everywhere", actor=user, target=f"user:{user.id}")
            db.session.commit()
            sign_out()
            flash("You are signed out on every device. Sign in again here.")
            return redirect(url_for(".sign_in_page"), 303)
        error = "Tick the box to confirm that every device should be signed out."
    page = render_template("auth/sign_out_everywhere.html", error=error)
    return page, 422 if error else 200


@bp.before_app_request
def _forget_cached_user() -> None:
    # ``g`` belongs to the application context, which outlives a request when an outer one is
    # active (the CLI, tests): never let one request see the user looked up by another.
    g.pop("credfolio_user", None)


@bp.app_context_processor
def _inject_current_user() -> dict[str, Any]:
    return {"current_user": current_user}


# -- CSRF ------------------------------------------------------------------------------------


def exempt_json_blueprints(app: Flask, names: Iterable[str] = CSRF_EXEMPT_BLUEPRINTS) -> list[str]:
    """Exempt the registered JSON API blueprints among ``names`` from the app's CSRF protection.

    Call it after every blueprint is registered: a blueprint registered later stays protected
    (its POSTs without a token get 400), which fails safe.  Returns the names exempted.
    Raises ``KeyError`` when ``CSRFProtect`` was not initialised on ``app``.
    """
    csrf = app.extensions["csrf"]
    exempted = []
    for name in names:
        blueprint = app.blueprints.get(name)
        if blueprint is not None:
            csrf.exempt(blueprint)
            exempted.append(name)
    return exempted
