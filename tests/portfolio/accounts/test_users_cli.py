"""``credfolio users``: creating administrators (password asked twice, hidden, or from stdin),
listing accounts, and disabling them (which signs them out everywhere)."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from portfolio.accounts.issuers import default_issuer, ensure_issuer
from portfolio.accounts.models import User
from portfolio.core.db import db
from tests.portfolio.core.test_translations import use_catalogue

PASSWORD = "correct horse battery staple"


def user(app, email: str) -> User | None:
    with app.app_context():
        found = db.session.scalar(select(User).where(User.email == email))
        if found is not None:
            db.session.expunge(found)
        return found


def create(runner, *args: str, password: str = PASSWORD) -> object:
    return runner.invoke(args=["users", "create", *args, "--password-stdin"], input=password + "\n")


def test_create_an_administrator_of_the_services_issuer(app, runner):
    result = create(runner, "--email", "Alice@School.Example", "--role", "admin")
    assert result.exit_code == 0, result.output
    alice = user(app, "alice@school.example")
    assert alice is not None
    with app.app_context():
        assert alice.issuer_id == default_issuer().id
    assert (alice.role, alice.display_name, alice.session_version) == ("admin", "Alice", 1)
    assert alice.is_active
    assert alice.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(alice.password_hash, PASSWORD)
    assert "Created admin alice@school.example" in result.output


def test_the_password_is_asked_twice_without_echo(app, runner):
    result = runner.invoke(
        args=["users", "create", "--email", "ann@school.example", "--role", "assessor"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat the password" in result.output
    assert PASSWORD not in result.output
    assert PasswordHasher().verify(user(app, "ann@school.example").password_hash, PASSWORD)


def test_two_different_passwords_are_asked_again(app, runner):
    result = runner.invoke(
        args=["users", "create", "--email", "ann@school.example", "--role", "admin"],
        input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Error: The two entered values do not match." in result.output


def test_name_and_issuer_can_be_given(app, runner):
    with app.app_context():
        ensure_issuer(did="did:web:other-school.example", name="Other", slug="other")
    result = create(
        runner,
        *("--email", "olga@other-school.example", "--role", "admin", "--name", "Olga Ortiz"),
        *("--issuer-did", "did:web:other-school.example"),
    )
    assert result.exit_code == 0, result.output
    olga = user(app, "olga@other-school.example")
    assert olga.display_name == "Olga Ortiz"
    with app.app_context():
        assert db.session.get(User, olga.id).issuer.did == "did:web:other-school.example"


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("--email", "not-an-address", "--role", "admin"), PASSWORD, "is not an email address"),
        (("--email", "a@school.example", "--role", "root"), PASSWORD, "'root' is not one of"),
        (("--email", "a@school.example", "--role", "admin"), "too short", "at least 12"),
        (
            ("--email", "a@school.example", "--role", "admin", "--issuer-did", "did:web:nope"),
            PASSWORD,
            "no issuer 'did:web:nope'",
        ),
    ],
    ids=["bad email", "unknown role", "short password", "unknown issuer"],
)
def test_bad_input_creates_nothing(app, runner, args, password, message):
    result = create(runner, *args, password=password)
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalars(select(User)).all() == []


def test_an_email_address_has_one_account_whatever_its_case(app, runner):
    assert create(runner, "--email", "alice@school.example", "--role", "admin").exit_code == 0
    again = create(runner, "--email", "ALICE@school.example", "--role", "student")
    assert again.exit_code == 1
    assert "an account for alice@school.example already exists" in again.output


def test_list_shows_every_account(app, runner):
    create(runner, "--email", "alice@school.example", "--role", "admin")
    create(runner, "--email", "sam@school.example", "--role", "student", "--name", "Sam")
    runner.invoke(args=["users", "disable", "sam@school.example"])
    lines = runner.invoke(args=["users", "list", "--json"]).output.splitlines()
    items = [json.loads(line) for line in lines]
    assert [(i["email"], i["role"], i["state"]) for i in items] == [
        ("alice@school.example", "admin", "active"),
        ("sam@school.example", "student", "disabled"),
    ]
    assert items[0]["issuer"] == "did:web:credfolio.test"
    text = runner.invoke(args=["users", "list"]).output
    assert "sam@school.example  student   disabled" in text
    assert "hash" not in text and "argon2" not in text


def test_disable_stops_sign_in_and_ends_every_session(app, runner, client):
    app.config["WTF_CSRF_ENABLED"] = False  # not a test of CSRF
    create(runner, "--email", "alice@school.example", "--role", "admin")
    signed_in = {"email": "alice@school.example", "password": PASSWORD}
    assert client.post("/sign-in", data=signed_in).status_code == 303
    assert client.get("/admin/credentials").status_code == 200
    result = runner.invoke(args=["users", "disable", "Alice@School.example"])
    assert result.exit_code == 0, result.output
    alice = user(app, "alice@school.example")
    assert not alice.is_active
    assert alice.session_version == 2
    assert client.get("/admin/credentials").status_code == 302
    assert client.post("/sign-in", data=signed_in).status_code == 422
    again = runner.invoke(args=["users", "disable", "alice@school.example"])
    assert (again.exit_code, user(app, "alice@school.example").session_version) == (0, 2)
    assert "already disabled" in again.output


def test_disable_an_unknown_account_fails(runner):
    result = runner.invoke(args=["users", "disable", "nobody@school.example"])
    assert result.exit_code == 1
    assert "no account nobody@school.example" in result.output


def test_messages_are_in_the_terminal_s_language(app, runner, tmp_path, monkeypatch):
    """LANG=es_ES.UTF-8: the messages meant for people are in Spanish (issue 16)."""
    use_catalogue(
        app,
        tmp_path / "catalogue",
        {
            "Disabled %(email)s; every session of it is signed out.": (
                "%(email)s desactivada; se cerraron todas sus sesiones."
            ),
            "no account %(email)s": "no hay ninguna cuenta %(email)s",
        },
    )
    assert create(runner, "--email", "sam@school.example", "--role", "student").exit_code == 0
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "es_ES.UTF-8")
    result = runner.invoke(args=["users", "disable", "sam@school.example"])
    assert result.exit_code == 0, result.output
    assert (
        result.output.strip() == "sam@school.example desactivada; se cerraron todas sus sesiones."
    )
    missing = runner.invoke(args=["users", "disable", "nobody@school.example"])
    assert "no hay ninguna cuenta nobody@school.example" in missing.output

    monkeypatch.setenv("LANG", "de_DE.UTF-8")  # not shipped: English
    again = runner.invoke(args=["users", "disable", "nobody@school.example"])
    assert "no account nobody@school.example" in again.output
