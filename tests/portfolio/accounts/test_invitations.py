"""Invitations: an administrator invites assessors and students by email; the link works once,
for 14 days, until revoked; it creates the account with the invited role and signs it in."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from portfolio.accounts.models import Invitation, User
from portfolio.core.db import db
from portfolio.core.mail import read_outbox
from tests.portfolio.accounts.test_auth import (
    OTHER_ISSUER_DID,
    _csrf_token,
    make_user,
    sign_in,
    signed_in_email,
)

NEW_PASSWORD = "a song about the sea, in D minor"


@pytest.fixture(autouse=True)
def _csrf_off(app):
    """CSRF tokens are checked in the test about CSRF, which switches them back on."""
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def admin(app, client) -> int:
    """The service issuer's administrator, signed in on ``client``."""
    user_id = make_user(app, "alice@school.example", "admin")
    sign_in(client, "alice@school.example")
    return user_id


def outbox(app) -> list[Any]:
    return read_outbox(Path(app.instance_path) / "outbox")


def link_path(message: Any, route: str = "join") -> str:
    """The path of the link in a mail (its host is the configured public URL)."""
    match = re.search(rf"https://credfolio\.test(/{route}/\S+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def invite(client: Any, email: str = "sam@school.example", role: str = "student") -> Any:
    return client.post(
        "/admin/invitations", data={"email": email, "name": "Sam Singer", "role": role}
    )


def invitation_row(app, email: str = "sam@school.example") -> Invitation:
    with app.app_context():
        row = db.session.scalar(select(Invitation).where(Invitation.email == email))
        assert row is not None
        db.session.expunge(row)
        return row


def join(client: Any, path: str, password: str = NEW_PASSWORD, **data: str) -> Any:
    fields = {"name": "Sam Singer", "password": password, "confirm": password, **data}
    return client.post(path, data=fields)


# -- who may invite --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 302), ("student", 403), ("assessor", 403), ("admin", 200)],
    ids=["anonymous", "student", "assessor", "admin"],
)
@pytest.mark.parametrize("page", ["/admin/invitations", "/admin/roster"])
def test_only_administrators_reach_the_invitation_pages(app, client, role, status, page):
    if role is not None:
        make_user(app, f"{role}@school.example", role)
        sign_in(client, f"{role}@school.example")
    assert client.get(page).status_code == status


@pytest.mark.parametrize("role", ["student", "assessor"])
def test_a_non_administrator_cannot_invite(app, client, role):
    make_user(app, "someone@school.example", role)
    sign_in(client, "someone@school.example")
    assert invite(client).status_code == 403
    assert outbox(app) == []


# -- inviting --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["student", "assessor"])
def test_an_administrator_invites_by_email_and_the_mail_holds_the_link(app, client, admin, role):
    response = invite(client, role=role)
    assert response.status_code == 303
    [message] = outbox(app)
    assert message["To"] == "sam@school.example"
    assert "invited" in message["Subject"].lower() or "invites" in message["Subject"].lower()
    token = link_path(message).removeprefix("/join/")
    row = invitation_row(app)
    assert row.role == role
    assert row.invited_by_id == admin
    # Only the token's SHA-256 is stored, never the token.
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43  # 32 random bytes, base64url
    page = client.get("/admin/invitations").get_data(as_text=True)
    assert "sam@school.example" in page
    assert '<span class="pill pill-info">Pending</span>' in page


def test_the_invitation_expires_after_14_days(app, client, admin):
    invite(client)
    row = invitation_row(app)
    lifetime = row.expires_at - row.created_at
    assert lifetime == timedelta(days=14)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not an address"}, "email", "This is not an email address."),
        ({"email": ""}, "email", "Enter the email address."),
        ({"name": ""}, "name", "Enter the person&#39;s name."),
        ({"role": "admin"}, "role", "Not a valid choice."),
    ],
)
def test_bad_invitations_are_refused_next_to_the_field(app, client, admin, data, field, message):
    fields = {"email": "sam@school.example", "name": "Sam", "role": "student", **data}
    response = client.post("/admin/invitations", data=fields)
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error"[^>]*>{re.escape(message)}', response.get_data(True))
    assert outbox(app) == []


def test_an_address_with_an_account_is_not_invited(app, client, admin):
    make_user(app, "sam@school.example", "student")
    response = invite(client, "Sam@School.example")
    assert response.status_code == 422
    assert "already has an account" in response.get_data(as_text=True)
    assert outbox(app) == []


def test_an_address_with_an_open_invitation_is_not_invited_twice(app, client, admin):
    invite(client)
    response = invite(client)
    assert response.status_code == 422
    assert "already has an open invitation" in response.get_data(as_text=True)
    assert len(outbox(app)) == 1


# -- joining ---------------------------------------------------------------------------------


def test_the_invitee_chooses_a_password_and_is_signed_in_with_the_invited_role(app, client, admin):
    invite(client, role="assessor")
    path = link_path(outbox(app)[0])
    visitor = app.test_client()
    page = visitor.get(path).get_data(as_text=True)
    assert "sam@school.example" in page
    assert '<label for="password">New password</label>' in page
    response = join(visitor, path, name="Sam S.")
    assert response.status_code == 303
    assert signed_in_email(visitor) == "Sam"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "sam@school.example"))
        assert user.role == "assessor"
        assert user.display_name == "Sam S."
        assert user.issuer_id == db.session.get(User, admin).issuer_id
        assert user.password_hash.startswith("$argon2id$")
    assert invitation_row(app).accepted_at is not None
    # And the password works for signing in later.
    visitor.post("/sign-out")
    assert sign_in(visitor, "sam@school.example", NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", "at least 12 characters"),
        ("sam@school.example", "sam@school.example", "must not be the email address"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "The two passwords differ."),
    ],
)
def test_the_password_rules_apply_when_joining(app, client, admin, password, confirm, message):
    invite(client)
    path = link_path(outbox(app)[0])
    visitor = app.test_client()
    response = join(visitor, path, password=password, confirm=confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert invitation_row(app).accepted_at is None
    assert signed_in_email(visitor) is None


def test_an_invitation_link_works_only_once(app, client, admin):
    invite(client)
    path = link_path(outbox(app)[0])
    assert join(app.test_client(), path).status_code == 303
    second = app.test_client()
    for response in (second.get(path), join(second, path, password="another password here")):
        assert response.status_code == 410
        assert "already been used" in response.get_data(as_text=True)
    assert signed_in_email(second) is None


def test_an_expired_invitation_shows_a_readable_page(app, client, admin):
    invite(client)
    path = link_path(outbox(app)[0])
    with app.app_context():
        row = db.session.scalar(select(Invitation))
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    response = join(app.test_client(), path)
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert page.count("<h1>") == 1
    assert "expired" in page
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "sam@school.example")) is None


def test_a_made_up_token_is_not_found(client):
    assert client.get("/join/" + "A" * 43).status_code == 404


# -- revoking --------------------------------------------------------------------------------


def test_a_revoked_invitation_can_no_longer_be_used(app, client, admin):
    invite(client)
    path = link_path(outbox(app)[0])
    row = invitation_row(app)
    response = client.post(f"/admin/invitations/{row.id}/revoke")
    assert response.status_code == 303
    assert invitation_row(app).revoked_at is not None
    assert '<span class="pill pill-bad">Revoked</span>' in client.get(
        "/admin/invitations"
    ).get_data(as_text=True)
    response = join(app.test_client(), path)
    assert response.status_code == 410
    assert "withdrawn" in response.get_data(as_text=True)


def test_after_revoking_the_address_can_be_invited_again(app, client, admin):
    invite(client)
    client.post(f"/admin/invitations/{invitation_row(app).id}/revoke")
    assert invite(client).status_code == 303
    assert len(outbox(app)) == 2


def test_an_administrator_of_another_issuer_cannot_see_or_revoke_invitations(app, client, admin):
    invite(client)
    row = invitation_row(app)
    make_user(app, "olga@other.example", "admin", issuer_did=OTHER_ISSUER_DID)
    other = app.test_client()
    sign_in(other, "olga@other.example")
    assert "sam@school.example" not in other.get("/admin/invitations").get_data(as_text=True)
    assert other.post(f"/admin/invitations/{row.id}/revoke").status_code == 404
    assert other.post("/admin/invitations/999999/revoke").status_code == 404
    assert other.post("/admin/invitations/x/revoke").status_code == 404
    assert invitation_row(app).revoked_at is None


# -- CSRF ------------------------------------------------------------------------------------


def test_the_invitation_forms_need_their_csrf_tokens(app, client, admin):
    app.config["WTF_CSRF_ENABLED"] = True
    data = {"email": "sam@school.example", "name": "Sam", "role": "student"}
    assert client.post("/admin/invitations", data=data).status_code == 400
    token = _csrf_token(client.get("/admin/invitations").get_data(as_text=True))
    assert client.post("/admin/invitations", data={**data, "csrf_token": token}).status_code == 303
    row = invitation_row(app)
    page = client.get("/admin/invitations").get_data(as_text=True)
    assert client.post(f"/admin/invitations/{row.id}/revoke").status_code == 400
    revoke_token = _csrf_token(page)
    response = client.post(f"/admin/invitations/{row.id}/revoke", data={"csrf_token": revoke_token})
    assert response.status_code == 303
    # Joining needs the join page's token too.
    invite_again = client.post("/admin/invitations", data={**data, "csrf_token": revoke_token})
    assert invite_again.status_code == 303
    path = link_path(outbox(app)[-1])
    visitor = app.test_client()
    fields = {"name": "Sam", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert visitor.post(path, data=fields).status_code == 400
    join_token = _csrf_token(visitor.get(path).get_data(as_text=True))
    assert visitor.post(path, data={**fields, "csrf_token": join_token}).status_code == 303


def test_after_an_invitation_expires_the_address_can_be_invited_again(app, client, admin):
    invite(client)
    with app.app_context():
        db.session.scalar(select(Invitation)).expires_at = datetime.now(UTC) - timedelta(hours=1)
        db.session.commit()
    assert '<span class="pill pill-muted">Expired</span>' in client.get(
        "/admin/invitations"
    ).get_data(as_text=True)
    assert invite(client).status_code == 303
    assert len(outbox(app)) == 2


def test_an_invitation_for_an_address_that_got_an_account_meanwhile_cannot_be_used(
    app, client, admin
):
    invite(client)
    path = link_path(outbox(app)[0])
    make_user(app, "sam@school.example", "student")  # e.g. with `credfolio users create`
    response = join(app.test_client(), path)
    assert response.status_code == 410
    assert "An account already uses this address" in response.get_data(as_text=True)
    assert invitation_row(app).accepted_at is None
