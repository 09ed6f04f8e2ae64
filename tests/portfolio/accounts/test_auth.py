"""Signing in and out: one message for every wrong sign-in, fresh sessions, signing out
everywhere, secure cookies, CSRF tokens on every form, and safe redirects after sign-in."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

from portfolio.accounts.auth import (
    end_all_sessions,
    exempt_json_blueprints,
    hash_password,
    password_problem,
    safe_next,
)
from portfolio.accounts.issuers import default_issuer, ensure_issuer
from portfolio.accounts.models import User
from portfolio.accounts.sign_in_pages import WRONG_CREDENTIALS
from portfolio.core.db import db
from portfolio.core.hashing import TEST_HASHING, password_hasher
from tests.conftest import TEST_KEK
from wsgi import create_app

PASSWORD = "correct horse battery staple"
OTHER_ISSUER_DID = "did:web:other-school.example"


def password_hash(password: str = PASSWORD) -> str:
    """One argon2id hash per password and hasher for the whole run (hashing is slow on
    purpose, even with the parameters of apps made for tests)."""
    return _password_hash(password, password_hasher())


@functools.cache
def _password_hash(password: str, hasher: PasswordHasher) -> str:
    return hasher.hash(password)


def make_user(
    app: Flask,
    email: str,
    role: str = "admin",
    *,
    issuer_did: str | None = None,
    password: str = PASSWORD,
    password_hash_: str | None = None,
) -> int:
    """Create an account (of the service's issuer unless ``issuer_did``); return its id."""
    with app.app_context():
        if issuer_did is None:
            issuer = default_issuer()
        else:
            issuer = ensure_issuer(did=issuer_did, name="Other School", slug="other")
        user = User(
            email=email,
            password_hash=password_hash_ or password_hash(password),
            display_name=email.split("@")[0].title(),
            role=role,
            issuer=issuer,
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def sign_in(client: Any, email: str, password: str = PASSWORD, **query: str) -> Any:
    """Submit the sign-in form (CSRF off); the response."""
    return client.post("/sign-in", data={"email": email, "password": password}, query_string=query)


def signed_in_email(client: Any) -> str | None:
    """Whom the site greets on the home page, judged from the header ("Signed in as ...")."""
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    if "Sign out" not in page:
        return None
    match = re.search(r"Signed in as ([^\s<]+)", page)
    return match.group(1) if match else ""


def user_row(app: Flask, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        db.session.expunge(user)
        return user


@pytest.fixture(autouse=True)
def _csrf_off(app):
    """CSRF tokens are checked in the tests about CSRF, which switch them back on."""
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def alice(app) -> int:
    return make_user(app, "alice@school.example")


# -- signing in ------------------------------------------------------------------------------


def test_the_sign_in_page_has_labelled_email_and_password_fields(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<label for="email">Email address</label>' in page
    assert '<label for="password">Password</label>' in page
    assert 'type="password"' in page
    assert 'autocomplete="current-password"' in page


def test_an_administrator_signs_in_and_lands_on_the_administration(client, alice):
    response = sign_in(client, "alice@school.example")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
    assert signed_in_email(client) == "Alice"


def test_the_email_address_is_case_insensitive(client, alice):
    assert sign_in(client, "  Alice@School.EXAMPLE ").status_code == 303
    assert signed_in_email(client) == "Alice"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("alice@school.example", "wrong password, long enough"),
        ("nobody@school.example", PASSWORD),
    ],
    ids=["wrong password", "unknown email"],
)
def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, alice, email, password):
    response = sign_in(client, email, password)
    assert response.status_code == 422
    assert WRONG_CREDENTIALS in response.get_data(as_text=True)
    assert signed_in_email(client) is None


def test_the_answers_differ_only_in_the_address_typed(client, alice):
    def page(email: str, password: str) -> str:
        text = sign_in(client, email, password).get_data(as_text=True)
        return text.replace(f'value="{email}"', 'value="…"')

    assert page("alice@school.example", "wrong password, long enough") == page(
        "nobody@school.example", PASSWORD
    )


def test_a_disabled_account_cannot_sign_in_and_is_not_told_apart(app, client, alice):
    with app.app_context():
        db.session.get(User, alice).disabled_at = datetime.now(UTC)
        db.session.commit()
    response = sign_in(client, "alice@school.example")
    assert response.status_code == 422
    assert WRONG_CREDENTIALS in response.get_data(as_text=True)
    assert signed_in_email(client) is None


def test_missing_fields_are_named_next_to_the_fields(client):
    response = client.post("/sign-in", data={"email": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="email-error"[^>]*>Enter your email address\.<', page)
    assert re.search(r'id="password-error"[^>]*>Enter your password\.<', page)
    assert 'aria-describedby="email-error"' in page
    assert WRONG_CREDENTIALS not in page


def test_signing_in_replaces_the_session_against_fixation(client, alice):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["csrf_token"] = "token issued before sign-in"
    before = client.get_cookie("session").value
    sign_in(client, "alice@school.example")
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "csrf_token" not in session
        assert session["user_id"] == alice


def test_a_hash_with_old_argon2_parameters_is_upgraded_at_sign_in(app, client):
    # The production parameters, not the cheap ones of apps made for tests
    # (portfolio/core/hashing.py).
    app.config[TEST_HASHING] = False
    weak = PasswordHasher.from_parameters(CHEAPEST).hash(PASSWORD)
    user_id = make_user(app, "old@school.example", password_hash_=weak)
    assert PasswordHasher().check_needs_rehash(weak)
    assert sign_in(client, "old@school.example").status_code == 303
    upgraded = user_row(app, user_id).password_hash
    assert upgraded != weak
    assert not PasswordHasher().check_needs_rehash(upgraded)
    assert PasswordHasher().verify(upgraded, PASSWORD)


def test_a_hash_with_current_parameters_is_kept(app, client, alice):
    before = user_row(app, alice).password_hash
    with app.app_context():
        assert before == password_hash(PASSWORD)  # made with the app's current parameters
    sign_in(client, "alice@school.example")
    assert user_row(app, alice).password_hash == before


# -- signing out -----------------------------------------------------------------------------


def test_signing_out_ends_the_session(client, alice):
    sign_in(client, "alice@school.example")
    response = client.post("/sign-out")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert signed_in_email(client) is None
    assert client.get("/admin/credentials").status_code == 302


def test_signing_out_needs_a_post(client, alice):
    sign_in(client, "alice@school.example")
    assert client.get("/sign-out").status_code == 405
    assert signed_in_email(client) == "Alice"


def test_bumping_the_session_version_signs_out_every_device(app, alice):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "alice@school.example")
    sign_in(phone, "alice@school.example")
    assert signed_in_email(laptop) == signed_in_email(phone) == "Alice"
    with app.app_context():
        end_all_sessions(db.session.get(User, alice))
        db.session.commit()
    assert signed_in_email(laptop) is None
    assert signed_in_email(phone) is None
    sign_in(phone, "alice@school.example")
    assert signed_in_email(phone) == "Alice"


def test_disabling_an_account_ends_its_sessions(app, client, alice):
    sign_in(client, "alice@school.example")
    with app.app_context():
        db.session.get(User, alice).disabled_at = datetime.now(UTC)
        db.session.commit()
    assert signed_in_email(client) is None


def test_a_session_for_a_user_that_no_longer_exists_is_anonymous(app, client, alice):
    from sqlalchemy import delete

    from portfolio.core.models import AuditEvent

    sign_in(client, "alice@school.example")
    with app.app_context():
        # The row is removed by hand (the application scrubs accounts instead of deleting
        # them); her audit events go first, as the database's foreign key demands.
        db.session.execute(delete(AuditEvent).where(AuditEvent.actor_id == alice))
        db.session.delete(db.session.get(User, alice))
        db.session.commit()
    assert signed_in_email(client) is None


# -- the header ------------------------------------------------------------------------------


def test_the_header_offers_sign_in_to_visitors(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/sign-in"' in page
    assert 'href="/admin/credentials"' not in page


def test_the_header_offers_administration_to_administrators_only(app, client, alice):
    make_user(app, "sam@school.example", "student")
    sign_in(client, "alice@school.example")
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/admin/credentials">Credentials</a>' in page
    assert 'href="/admin/audit"' in page
    client.post("/sign-out")
    sign_in(client, "sam@school.example")
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/admin/credentials"' not in page
    assert 'action="/sign-out"' in page


# -- cookies ---------------------------------------------------------------------------------


def test_the_session_cookie_is_http_only_same_site_lax_and_secure_over_https(client, alice):
    cookie = sign_in(client, "alice@school.example").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie  # the test app's public URL is https://credfolio.test


def test_the_session_cookie_is_not_secure_only_on_a_plain_http_service(tmp_path: Path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_PUBLIC_URL": "http://127.0.0.1:5000",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


# -- redirects after sign-in -----------------------------------------------------------------


def test_signing_in_returns_to_the_page_asked_for(client, alice):
    response = client.get("/admin/credentials?q=ada")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/admin/credentials?q%3Dada"
    response = sign_in(client, "alice@school.example", next="/admin/credentials?q=ada")
    assert response.headers["Location"] == "/admin/credentials?q=ada"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/credentials", "/admin/credentials"),
        ("/admin/credentials?q=ada&page=2", "/admin/credentials?q=ada&page=2"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example/", None),
        ("/\t/evil.example/", None),
        ("/\n/evil.example/", None),
        ("javascript:alert(1)", None),
        ("admin", None),
        ("", None),
        (None, None),
    ],
)
def test_only_paths_on_this_site_are_followed_after_sign_in(target, expected):
    assert safe_next(target) == expected


def test_an_unsafe_next_falls_back_to_the_landing_page(client, alice):
    response = sign_in(client, "alice@school.example", next="//evil.example/")
    assert response.headers["Location"] == "/admin/"


# -- passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 12 characters"),
        ("x" * 1025, "at most 1024 characters"),
        ("Alice@School.example", "must not be the email address"),
        (PASSWORD, None),
    ],
)
def test_password_rules(password, problem):
    found = password_problem(password, email="alice@school.example")
    assert (found is None) if problem is None else (problem in (found or ""))


def test_passwords_are_stored_as_argon2id_hashes_with_their_own_salt():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$")
    assert first != second
    assert PASSWORD not in first


# -- CSRF ------------------------------------------------------------------------------------


def _csrf_token(page: str, prefix: str = "") -> str:
    match = re.search(rf'name="{prefix}csrf_token" type="hidden" value="([^"]+)"', page)
    if match is None:
        match = re.search(rf'name="{prefix}csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _sample_value(rule, name):
    """A value the URL converter of ``name`` accepts (1 for ``int``, "x" otherwise)."""
    from werkzeug.routing import IntegerConverter

    return 1 if isinstance(rule._converters.get(name), IntegerConverter) else "x"


def test_every_form_post_without_a_csrf_token_is_refused(app, client, alice):
    app.config["WTF_CSRF_ENABLED"] = True
    exempt = set(exempt_json_blueprints(app))
    posts = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ())
        and rule.endpoint.split(".")[0] not in exempt
        and rule.endpoint != "static"
    ]
    assert {"auth.sign_in_page", "auth.sign_out_page", "admin.revoke"} <= {
        rule.endpoint for rule in posts
    }
    for rule in posts:
        path = rule.build({name: _sample_value(rule, name) for name in rule.arguments})[1]
        response = client.post(path, data={"email": "alice@school.example", "password": PASSWORD})
        assert response.status_code == 400, rule.endpoint
        assert "CSRF token is missing" in response.get_data(as_text=True), rule.endpoint
    assert signed_in_email(client) is None


def test_the_sign_in_form_works_with_its_csrf_token(app, client, alice):
    app.config["WTF_CSRF_ENABLED"] = True
    token = _csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in",
        data={"email": "alice@school.example", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    sign_out_token = _csrf_token(page)
    assert sign_out_token != token  # a new token for the new session
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 400
    assert client.post("/sign-out", data={"csrf_token": sign_out_token}).status_code == 303


def test_json_api_blueprints_are_exempt_and_every_other_blueprint_is_not():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", TESTING=True)
    CSRFProtect(app)
    for name in ("vcapi", "oauth", "pages"):
        blueprint = Blueprint(name, __name__, url_prefix=f"/{name}")
        blueprint.add_url_rule("/", "post", lambda: "done", methods=["POST"])
        app.register_blueprint(blueprint)
    assert exempt_json_blueprints(app) == ["vcapi", "oauth"]
    late = Blueprint("api", __name__, url_prefix="/api")
    late.add_url_rule("/", "post", lambda: "done", methods=["POST"])
    app.register_blueprint(late)  # registered after the exemption: stays protected
    client = app.test_client()
    assert client.post("/vcapi/").status_code == 200
    assert client.post("/oauth/").status_code == 200
    assert client.post("/pages/").status_code == 400
    assert client.post("/api/").status_code == 400
