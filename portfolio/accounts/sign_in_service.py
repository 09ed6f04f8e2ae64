"""Signing in: :func:`authenticate` with account lockout (the same argon2 work for every
address, known or not), :class:`SignInLocked`, and recording sign-outs.  One transaction each;
no request or session here (the pages are :mod:`portfolio.accounts.sign_in_pages`)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portfolio.accounts import auth
from portfolio.accounts.models import SignInFailures, User
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import NotAllowedError
from portfolio.core.hashing import dummy_hash, password_hasher
from portfolio.core.models import utcnow

#: Account lockout (issue #7): after this many failed sign-ins in a row, an address is refused
#: for ``LOCKOUT_FIRST``, twice as long after each further failure, at most ``LOCKOUT_LONGEST``.
LOCKOUT_AFTER = 5
LOCKOUT_FIRST = timedelta(minutes=1)
LOCKOUT_LONGEST = timedelta(hours=1)
#: An account's failures count until it signs in; those of an address without an account
#: (``SignInFailures``) are forgotten this long after the first.
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
        locked_until = _unknown_address_row(address).locked_until
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


def _digest(address: str) -> str:
    return hashlib.sha256(address.encode("utf-8")).hexdigest()


def _unknown_address_row(address: str) -> SignInFailures:
    """The failure count of an address without an account (an unsaved empty one if none)."""
    row = db.session.get(SignInFailures, _digest(address))
    return row if row is not None else SignInFailures(failures=0, locked_until=None)


def _insert_if_missing(digest: str, now: datetime) -> None:
    """Create the address's row unless it exists (two first failures at once make one row)."""
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(SignInFailures)
        .values(address_digest=digest, failures=0, first_failed_at=now)
        .on_conflict_do_nothing(index_elements=["address_digest"])
    )


def _unknown_address_failed(address: str, password: str, locked_until: datetime | None) -> None:
    """Count a failure for an address without an account, in the database as for an account
    (issue 15 §5: a per-worker count told which addresses exist)."""
    auth.verify_password(dummy_hash(), password)
    digest = _digest(address)
    now = utcnow()
    with unit_of_work(write=True):
        # Under the write lock (SQLite) / row lock (PostgreSQL): parallel guesses cannot
        # overwrite each other's count.
        _insert_if_missing(digest, now)
        row = db.session.execute(
            select(SignInFailures)
            .where(SignInFailures.address_digest == digest)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        if row.first_failed_at < now - UNKNOWN_ADDRESS_MEMORY:
            row.failures, row.first_failed_at, row.locked_until = 0, now, None
        row.failures += 1
        failures = row.failures
        duration = lockout_duration(failures)
        if duration is not None:
            locked_until = row.locked_until = now + duration
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
