"""Signing in under attack (issue #7): account lockout with exponential backoff that does not
reveal which addresses have accounts, an audit record of every attempt, fresh sessions at
sign-in (session fixation) and signing out everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.accounts import auth
from portfolio.accounts.auth import end_all_sessions
from portfolio.accounts.models import SignInFailures, User
from portfolio.accounts.sign_in_pages import WRONG_CREDENTIALS
from portfolio.accounts.sign_in_service import (
    LOCKOUT_AFTER,
    UNKNOWN_ADDRESS_MEMORY,
    lockout_duration,
)
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from tests.conftest import TEST_KEK
from tests.portfolio.core.test_rate_limits import make_app  # noqa: F401  (fixture)
from wsgi import create_app

from .test_auth import PASSWORD, make_user, sign_in, user_row

ALICE = "alice@school.example"
NOBODY = "nobody@school.example"
LOCKED_TEXT = "Too many failed sign-ins with this email address."


@pytest.fixture
def app(app: Flask) -> Flask:
    """The conftest app with CSRF off (these tests are not about CSRF)."""
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def alice(app: Flask) -> int:
    return make_user(app, ALICE, password_hash_=auth.hash_password(PASSWORD))


def fail(client: Any, email: str, times: int = 1) -> Any:
    """Sign in with a wrong password ``times`` times; the last response."""
    response = None
    for _ in range(times):
        response = sign_in(client, email, "not the password at all")
    return response


def expire_lock(app: Flask, user_id: int) -> None:
    """Let the account's lock run out (as if its time had passed)."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None and user.locked_until is not None
        user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()


def aware(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- the backoff -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [(1, None), (4, None), (5, 1), (6, 2), (7, 4), (10, 32), (11, 60), (12, 60), (1000, 60)],
)
def test_the_lock_starts_at_the_fifth_failure_for_a_minute_and_doubles_up_to_an_hour(
    failures, minutes
):
    expected = None if minutes is None else timedelta(minutes=minutes)
    assert LOCKOUT_AFTER == 5
    assert lockout_duration(failures) == expected


# -- accounts --------------------------------------------------------------------------------


def test_four_failures_are_only_wrong_credentials(client, alice):
    response = fail(client, ALICE, 4)
    assert response.status_code == 422
    assert WRONG_CREDENTIALS in response.text
    assert LOCKED_TEXT not in response.text


def test_the_fifth_failure_locks_the_account_and_the_page_says_when_to_try_again(
    app, client, alice
):
    fail(client, ALICE, 4)
    response = fail(client, ALICE)
    assert response.status_code == 429
    assert LOCKED_TEXT in response.text
    assert "Try again in about a minute" in response.text
    locked_until = aware(user_row(app, alice).locked_until)
    assert timedelta(seconds=55) < locked_until - datetime.now(UTC) <= timedelta(minutes=1)
    assert 55 <= int(response.headers["Retry-After"]) <= 60
    stamp = locked_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f'<time datetime="{stamp}">{locked_until:%H:%M} UTC</time>' in response.text
    assert user_row(app, alice).failed_sign_ins == 5


def test_a_locked_account_refuses_even_the_right_password(client, alice):
    fail(client, ALICE, LOCKOUT_AFTER)
    response = sign_in(client, ALICE, PASSWORD)
    assert response.status_code == 429
    assert LOCKED_TEXT in response.text
    with client.session_transaction() as session:
        assert "user_id" not in session


def test_attempts_during_the_lock_do_not_lengthen_it(app, client, alice):
    fail(client, ALICE, LOCKOUT_AFTER)
    before = user_row(app, alice)
    fail(client, ALICE, 3)
    after = user_row(app, alice)
    assert (after.failed_sign_ins, after.locked_until) == (
        before.failed_sign_ins,
        before.locked_until,
    )


def test_when_the_lock_ends_the_right_password_works_and_the_count_starts_again(app, client, alice):
    fail(client, ALICE, LOCKOUT_AFTER)
    expire_lock(app, alice)
    assert sign_in(client, ALICE, PASSWORD).status_code == 303
    user = user_row(app, alice)
    assert (user.failed_sign_ins, user.locked_until) == (0, None)


def test_each_failure_after_a_lock_locks_twice_as_long(app, client, alice):
    fail(client, ALICE, LOCKOUT_AFTER)
    expire_lock(app, alice)
    assert fail(client, ALICE).status_code == 429
    remaining = aware(user_row(app, alice).locked_until) - datetime.now(UTC)
    assert timedelta(seconds=115) < remaining <= timedelta(minutes=2)
    expire_lock(app, alice)
    fail(client, ALICE)
    remaining = aware(user_row(app, alice).locked_until) - datetime.now(UTC)
    assert timedelta(seconds=235) < remaining <= timedelta(minutes=4)


def test_a_success_before_the_fifth_failure_starts_the_count_again(app, client, alice):
    fail(client, ALICE, LOCKOUT_AFTER - 1)
    assert sign_in(client, ALICE, PASSWORD).status_code == 303
    client.post("/sign-out")
    assert fail(client, ALICE, LOCKOUT_AFTER - 1).status_code == 422
    assert user_row(app, alice).locked_until is None


# -- addresses without an account ------------------------------------------------------------


def _comparable(page: str, email: str) -> str:
    """The page without what legitimately differs: the address typed, times and tokens."""
    page = page.replace(email, "EMAIL")
    page = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "TIME", page)
    return re.sub(r"\d\d:\d\d UTC", "TIME", page)


def test_an_address_without_an_account_locks_exactly_like_an_account(app, alice):
    """Same statuses, same pages, same Retry-After: a lock tells nobody the account exists."""
    answers = {}
    for email in (ALICE, NOBODY):
        client = app.test_client()
        responses = [fail(client, email) for _ in range(LOCKOUT_AFTER + 1)]
        responses.append(sign_in(client, email, PASSWORD))
        answers[email] = [
            (r.status_code, r.headers.get("Retry-After"), _comparable(r.text, email))
            for r in responses
        ]
    assert [a[0] for a in answers[ALICE]] == [422] * 4 + [429] * 3
    for known, unknown in zip(answers[ALICE], answers[NOBODY], strict=True):
        assert known[0] == unknown[0]
        assert known[2] == unknown[2]
        if known[1] is not None:
            assert abs(int(known[1]) - int(unknown[1])) <= 1


def test_every_kind_of_attempt_checks_exactly_one_password_hash(app, alice, monkeypatch):
    """The slow part of a sign-in is the argon2 check: every attempt does one, so response
    times do not tell an unknown, a disabled or a locked address from a wrong password."""
    make_user(app, "gone@school.example", password_hash_=auth.hash_password(PASSWORD))
    with app.app_context():
        gone = db.session.scalar(select(User).where(User.email == "gone@school.example"))
        gone.disabled_at = datetime.now(UTC)
        db.session.commit()
    checks: list[str] = []
    real_verify = auth.verify_password

    def counting_verify(stored: str, password: str) -> bool:
        checks.append(stored)
        return real_verify(stored, password)

    monkeypatch.setattr(auth, "verify_password", counting_verify)
    client = app.test_client()
    attempts = {
        "wrong password": (ALICE, "wrong"),
        "right password": (ALICE, PASSWORD),
        "unknown address": (NOBODY, "wrong"),
        "disabled account": ("gone@school.example", PASSWORD),
    }
    for name, (email, password) in attempts.items():
        checks.clear()
        sign_in(client, email, password)
        assert len(checks) == 1, name
    fail(client, ALICE, LOCKOUT_AFTER)
    fail(client, NOBODY, LOCKOUT_AFTER)
    for email in (ALICE, NOBODY):
        checks.clear()
        assert sign_in(client, email, PASSWORD).status_code == 429
        assert len(checks) == 1, f"locked {email}"


# -- the audit log ---------------------------------------------------------------------------


def audit_events(app: Flask) -> list[tuple[str, int | None, str | None, str | None, dict]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(e.action, e.actor_id, e.actor_label, e.target, e.detail) for e in rows]


def test_sign_ins_failures_locks_and_sign_outs_are_audited(app, client, alice):
    sign_in(client, ALICE, PASSWORD)
    client.post("/sign-out")
    fail(client, ALICE, LOCKOUT_AFTER)
    sign_in(client, ALICE, PASSWORD)
    fail(client, NOBODY)
    events = audit_events(app)
    target = f"user:{alice}"
    assert events[0][:4] == ("sign_in", alice, None, target)
    assert events[1][:4] == ("sign_out", alice, None, target)
    failures = events[2:7]
    assert [e[:4] for e in failures] == [("sign_in_failed", None, ALICE, target)] * 5
    assert [e[4]["failures"] for e in failures] == [1, 2, 3, 4, 5]
    assert {e[4]["reason"] for e in failures} == {"wrong_password"}
    assert "locked_until" in failures[-1][4]
    assert events[7][:4] == ("sign_in_locked", None, ALICE, target)
    assert events[8][:4] == ("sign_in_failed", None, NOBODY, None)
    assert events[8][4] == {"reason": "unknown_address", "failures": 1}
    assert len(events) == 9


def test_no_password_is_ever_written_to_the_audit_log(app, client, alice):
    sign_in(client, ALICE, "a guessed password")
    sign_in(client, ALICE, PASSWORD)
    text = repr(audit_events(app))
    assert "a guessed password" not in text
    assert PASSWORD not in text


# -- sessions --------------------------------------------------------------------------------


def test_a_session_planted_before_sign_in_gives_its_planter_nothing(app, alice):
    """Session fixation: an attacker hands the victim a session cookie of their own; signing in
    starts a new session that keeps nothing of it (not even its CSRF token), and the
    attacker's copy stays anonymous."""
    attacker = app.test_client()
    with attacker.session_transaction() as session:
        session["csrf_token"] = "known to the attacker"
        session["next"] = "/somewhere-the-attacker-chose"
    planted = attacker.get_cookie("session").value
    victim = app.test_client()
    victim.set_cookie("session", planted, domain="localhost")
    assert sign_in(victim, ALICE, PASSWORD).status_code == 303
    assert victim.get_cookie("session").value != planted
    with victim.session_transaction() as session:
        assert session["user_id"] == alice
        assert "csrf_token" not in session
        assert "next" not in session
    assert victim.get("/admin/credentials").status_code == 200
    assert attacker.get("/admin/credentials").status_code == 302  # to the sign-in page


def test_signing_out_everywhere_makes_a_copied_session_cookie_useless(app, client, alice):
    sign_in(client, ALICE, PASSWORD)
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value, domain="localhost")
    assert thief.get("/admin/credentials").status_code == 200
    with app.app_context():
        end_all_sessions(db.session.get(User, alice))
        db.session.commit()
    assert thief.get("/admin/credentials").status_code == 302
    assert client.get("/admin/credentials").status_code == 302


# -- the counts of unknown addresses are shared by every worker -------------------------------


@pytest.fixture
def workers(tmp_path: Path, database_url: str) -> Iterator[list[Flask]]:
    """Two apps (two workers) sharing one database, each with rate limits in its own memory
    (``credfolio serve`` without Redis)."""
    apps = [
        create_app(
            {
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "INSTANCE_PATH": str(tmp_path / f"instance-{n}"),
                "SQLALCHEMY_DATABASE_URI": database_url,
                "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
                "CREDFOLIO_PUBLIC_URL": "https://credfolio.test",
                "CREDFOLIO_RATELIMIT_STORAGE_URL": "memory://",
            }
        )
        for n in range(2)
    ]
    # The conftest app made the tables already (same database).
    yield apps
    for worker in apps:
        with worker.app_context():
            db.session.remove()
            db.engine.dispose()


def _alternate(clients: list[Any], email: str, times: int) -> list[int]:
    """Fail ``times`` sign-ins with ``email``, alternating between the workers; the statuses."""
    return [fail(clients[n % len(clients)], email).status_code for n in range(times)]


def test_unknown_addresses_lock_across_workers_without_redis(app, workers):
    first, second = (worker.test_client() for worker in workers)
    assert fail(first, NOBODY, LOCKOUT_AFTER - 1).status_code == 422
    response = fail(second, NOBODY)
    assert response.status_code == 429
    assert LOCKED_TEXT in response.text
    assert fail(first, NOBODY).status_code == 429


def test_wrong_passwords_answer_the_same_whether_or_not_the_account_exists(app, alice, workers):
    """Issue 15 §5: five wrong passwords spread over two workers gave 422×4, 429 for an
    account and 422×5 for an unknown address, telling which addresses exist."""
    clients = [worker.test_client() for worker in workers]
    known = _alternate(clients, ALICE, LOCKOUT_AFTER + 1)
    unknown = _alternate(clients, NOBODY, LOCKOUT_AFTER + 1)
    assert known == unknown == [422] * (LOCKOUT_AFTER - 1) + [429, 429]


def test_unknown_addresses_are_kept_only_as_digests(app, client):
    fail(client, NOBODY, 2)
    with app.app_context():
        rows = db.session.scalars(select(SignInFailures)).all()
    assert [row.failures for row in rows] == [2]
    assert NOBODY not in rows[0].address_digest and len(rows[0].address_digest) == 64


def test_an_unknown_address_is_forgotten_a_week_after_its_first_failure(app, client):
    fail(client, NOBODY, LOCKOUT_AFTER - 1)
    with app.app_context():
        row = db.session.scalars(select(SignInFailures)).one()
        row.first_failed_at = datetime.now(UTC) - UNKNOWN_ADDRESS_MEMORY - timedelta(minutes=1)
        db.session.commit()
    assert fail(client, NOBODY).status_code == 422  # counting again from one


def test_unknown_addresses_still_lock_when_redis_is_unreachable(app, make_app):  # noqa: F811
    worker = make_app(
        CREDFOLIO_RATELIMIT_STORAGE_URL="redis://127.0.0.1:1/0",  # nothing listens there
        CREDFOLIO_RATELIMIT_ENABLED=False,
    )
    client = worker.test_client()
    assert fail(client, NOBODY, LOCKOUT_AFTER - 1).status_code == 422
    assert fail(client, NOBODY).status_code == 429
    assert sign_in(client, NOBODY, PASSWORD).status_code == 429


def test_signing_out_everywhere_from_the_page_ends_every_session_after_confirmation(app):
    from portfolio.core.models import AuditEvent
    from tests.portfolio.accounts.test_auth import make_user, sign_in

    app.config["WTF_CSRF_ENABLED"] = False
    make_user(app, "sam@school.example", "student")
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        assert sign_in(device, "sam@school.example").status_code == 303
    refused = laptop.post("/sign-out-everywhere", data={})
    assert refused.status_code == 422 and "Tick the box" in refused.get_data(as_text=True)
    assert phone.get("/profile").status_code == 200
    done = laptop.post("/sign-out-everywhere", data={"confirm": "yes"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/sign-in")
    assert phone.get("/profile").status_code == 302  # the other device is signed out too
    assert laptop.get("/profile").status_code == 302
    with app.app_context():
        from portfolio.core.db import db

        actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert "sign_out_everywhere" in actions
