"""Who is asking: argon2id passwords (hashing, checking, the rules a new one must meet),
sessions (``sign_in``, ``current_user``), the ``login_required`` decorator, safe redirects after
sign-in, and the CSRF exemption of the JSON API blueprints.  The sign-in rules (lockout) are in
:mod:`portfolio.accounts.service`; the pages in :mod:`portfolio.accounts.sign_in_pages`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, abort, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portfolio.accounts.models import USER_ROLES, Role, User
from portfolio.core.db import db
from portfolio.core.hashing import password_hasher

#: Blueprints of JSON endpoints that never carry a CSRF token: they are public (verify), or
#: authenticate every request with a bearer token that a browser never sends on its own (issue,
#: OAuth token endpoint), so a cross-site form cannot act with anyone's authority.
CSRF_EXEMPT_BLUEPRINTS = ("vcapi", "oauth", "api")

MIN_PASSWORD_LENGTH = 12
#: An upper bound, so that nobody can make us hash megabytes per request.
MAX_PASSWORD_LENGTH = 1024
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
        return str(
            _("the password must have at least %(count)s characters", count=MIN_PASSWORD_LENGTH)
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return str(
            _("the password must have at most %(count)s characters", count=MAX_PASSWORD_LENGTH)
        )
    if email and password.strip().lower() == User.normalize_email(email):
        return str(_("the password must not be the email address"))
    return None


def is_valid_email(email: str) -> bool:
    """A plausible address: one ``@``, no spaces, a dot in the domain, at most 320 characters."""
    return len(email) <= 320 and _EMAIL.fullmatch(email.strip()) is not None


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` (an argon2 PHC string) was made from;
    False for a wrong password and for a hash that cannot be read."""
    try:
        return password_hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
    role: Role | str | Iterable[Role | str] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Decorate a view that needs a signed-in user, optionally with one of the ``role`` s
    (:class:`~portfolio.accounts.models.Role` values; their strings work too).

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


def forget_cached_user() -> None:
    """Drop the user :func:`current_user` looked up (the sign-in pages call it before every
    request).  ``g`` belongs to the application context, which outlives a request when an
    outer one is active (the CLI, tests): one request must never see another's user."""
    g.pop("credfolio_user", None)


def current_user_in_templates() -> dict[str, Any]:
    """Template context: ``current_user()`` in every page."""
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
