"""Signing in: :func:`authenticate` with account lockout (the same argon2 work for every
address, known or not), :class:`SignInLocked`, and recording sign-outs.  One transaction each;
no request or session here (the pages are :mod:`portfolio.accounts.sign_in_pages`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from portfolio.accounts import auth
from portfolio.accounts.models import User
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import NotAllowedError
from portfolio.core.hashing import dummy_hash, password_hasher
from portfolio.core.limits import failure_counter
from portfolio.core.models import utcnow

#: Account lockout (issue #7): after this many failed sign-ins in a row, an address is refused
#: for ``LOCKOUT_FIRST``, twice as long after each further failure, at most ``LOCKOUT_LONGEST``.
LOCKOUT_AFTER = 5
LOCKOUT_FIRST = timedelta(minutes=1)
LOCKOUT_LONGEST = timedelta(hours=1)
#: An account's failures count until it signs in; those of an address without an account (kept
#: outside the database, see ``limits.FailureCounter``) are forgotten this long after the first.
UNKNOWN_ADDRESS_MEMORY = timedelta(days=7)


class SignInLocked(NotAllowedError):
    """Too many failed sign-ins with an address: no attempt is accepted before ``until``."""

    code = "SIGN_IN_LOCKED"

    def __init__(self, until: datetime) -> None:
        super().__init__(f"sign-in refused until {until.isoformat()}")
        self.until = until


def lockout_duration(failures: int) -> timedelta | None:
    """How long an address is refused after ``failures`` failed sign-ins in a row: None below
    :data:`LOCKOUT_AFTER`, then :data:`LOCKOUT_FIRST` doubling up to :data:`LOCKOUT_LONGEST`."""
    if failures < LOCKOUT_AFTER:
        return None
    doublings = min(failures - LOCKOUT_AFTER, 16)
    longest: timedelta = min(LOCKOUT_FIRST * 2**doublings, LOCKOUT_LONGEST)
    return longest


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
    now = utcnow()
    user: User | None = db.session.scalar(select(User).where(User.email == address))
    target = f"user:{user.id}" if user is not None else None
    issuer_id = user.issuer_id if user is not None else None
    if user is not None:
        locked_until = user.locked_until
    else:
        locked_until = failure_counter().locked_until(address)
    if locked_until is not None and locked_until > now:
        raise _locked_attempt(address, password, issuer_id, target, locked_until)
    if user is None:
        _unknown_address_failed(address, password, locked_until)
        return None
    password_ok = auth.verify_password(user.password_hash, password)
    if not password_ok or not user.is_active:
        _account_sign_in_failed(address, user, password_ok, now, locked_until)
        return None
    with unit_of_work():
        if password_hasher().check_needs_rehash(user.password_hash):
            user.password_hash = password_hasher().hash(password)
        user.failed_sign_ins = 0
        user.locked_until = None
        audit.record("sign_in", actor=user, target=target)
    return user


def _locked_attempt(
    address: str, password: str, issuer_id: int | None, target: str | None, locked_until: datetime
) -> SignInLocked:
    """Record (committed) an attempt at a locked address, after the same work as any other;
    the caller raises the :class:`SignInLocked` returned."""
    auth.verify_password(dummy_hash(), password)  # the same work as any other attempt
    with unit_of_work():
        audit.record(
            "sign_in_locked",
            actor_label=address,
            issuer_id=issuer_id,
            target=target,
            detail={"locked_until": locked_until.isoformat()},
        )
    return SignInLocked(locked_until)


def _unknown_address_failed(address: str, password: str, locked_until: datetime | None) -> None:
    """Count a failure for an address without an account, outside the database."""
    auth.verify_password(dummy_hash(), password)
    failures = failure_counter().add_failure(
        address, remember_seconds=int(UNKNOWN_ADDRESS_MEMORY.total_seconds())
    )
    duration = lockout_duration(failures)
    if duration is not None:
        locked_until = failure_counter().lock(address, int(duration.total_seconds()))
    _refused(address, None, "unknown_address", failures, locked_until)


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
    _refused(address, user, reason, failures, locked_until)


def _refused(
    address: str, user: User | None, reason: str, failures: int, locked_until: datetime | None
) -> None:
    """Record a failed attempt (committed); raise :class:`SignInLocked` when it started a lock."""
    detail: dict[str, Any] = {"reason": reason, "failures": failures}
    if locked_until is not None:
        detail["locked_until"] = locked_until.isoformat()
    with unit_of_work():
        audit.record(
            "sign_in_failed",
            actor_label=address,
            issuer_id=user.issuer_id if user is not None else None,
            target=f"user:{user.id}" if user is not None else None,
            detail=detail,
        )
    if locked_until is not None:
        raise SignInLocked(locked_until)


def record_sign_out(user: User, *, everywhere: bool = False) -> None:
    """Record (committed) that ``user`` signed out; ``everywhere``: every session of the
    account ends too (the session version moves on)."""
    with unit_of_work():
        if everywhere:
            auth.end_all_sessions(user)
        action = "sign_out_everywhere" if everywhere else "sign_out"
        audit.record(action, actor=user, target=f"user:{user.id}")
