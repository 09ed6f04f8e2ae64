"""Password reset: the same answer whether or not an address has an account; a signed link
that works for one hour and only once; afterwards every other session is signed out."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from portfolio.accounts import service as accounts
from portfolio.accounts.auth import hash_password
from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.core.mail import read_outbox
from tests.portfolio.accounts.test_auth import _csrf_token, make_user, sign_in, signed_in_email

NEW_PASSWORD = "a story about a lighthouse keeper"


@pytest.fixture(autouse=True)
def _csrf_off(app):
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def sam(app) -> int:
    return make_user(app, "sam@school.example", "student")


def outbox(app) -> list[Any]:
    return read_outbox(Path(app.instance_path) / "outbox")


def ask_for_link(client: Any, email: str = "sam@school.example", **options: Any) -> Any:
    """Ask for a link, and close the response as a WSGI server does once it has sent it (the
    mail goes after that)."""
    response = client.post("/password/forgot", data={"email": email}, **options)
    response.close()
    return response


def reset_path(app) -> str:
    [message] = outbox(app)
    match = re.search(r"https://credfolio\.test(/password/reset/\S+)", message.get_content())
    assert match
    return match.group(1)


def reset(client: Any, path: str, password: str = NEW_PASSWORD, confirm: str | None = None) -> Any:
    return client.post(path, data={"password": password, "confirm": confirm or password})


# -- asking for a link -----------------------------------------------------------------------


def test_the_link_is_on_the_public_url_whatever_host_the_request_names(app, client, sam):
    response = ask_for_link(client, headers={"Host": "attacker.example"})
    assert response.status_code == 200
    [message] = outbox(app)
    assert "attacker.example" not in message.get_content()
    assert reset_path(app).startswith("/password/reset/")


def test_mail_links_keep_the_public_url_s_path(app, sam):
    from dataclasses import replace

    from portfolio.core.links import public_url_for
    from portfolio.core.settings import EXTENSION, settings

    app.extensions[EXTENSION] = replace(
        settings(app), public_url="https://school.example:8443/credfolio/"
    )
    with app.app_context():
        assert public_url_for("accounts.join", token="abc-_123") == (
            "https://school.example:8443/credfolio/join/abc-_123"
        )


def test_the_forgot_page_has_a_labelled_email_field(client):
    page = client.get("/password/forgot").get_data(as_text=True)
    assert '<label for="email">Email address</label>' in page
    assert page.count("<h1>") == 1


def test_an_account_gets_a_link_by_mail(app, client, sam):
    response = ask_for_link(client, "  Sam@School.EXAMPLE ")
    assert response.status_code == 200
    [message] = outbox(app)
    assert message["To"] == "sam@school.example"
    assert "/password/reset/" in message.get_content()


@pytest.mark.parametrize(
    "email", ["nobody@school.example", "disabled@school.example", "not an address"]
)
def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(app, client, sam, email):
    disabled = make_user(app, "disabled@school.example", "student")
    with app.app_context():
        db.session.get(User, disabled).disabled_at = datetime.now(UTC)
        db.session.commit()
    known = ask_for_link(client, "sam@school.example")
    unknown = ask_for_link(client, email)
    assert unknown.status_code == known.status_code == 200
    assert unknown.get_data() == known.get_data()
    assert [m["To"] for m in outbox(app)] == ["sam@school.example"]


def test_the_mail_goes_only_after_the_response_has_been_sent(app, client, sam):
    """Issue 15 §5: a mail server's delay inside the request told whether the account exists."""
    response = client.post("/password/forgot", data={"email": "sam@school.example"})
    assert response.status_code == 200
    assert outbox(app) == []  # the whole answer is out, and nothing was sent yet
    response.close()  # the WSGI server is done with the response
    assert [m["To"] for m in outbox(app)] == ["sam@school.example"]


def test_a_mail_server_that_refuses_after_the_response_is_logged_not_raised(
    app, client, sam, caplog
):
    from dataclasses import replace

    from portfolio.core.settings import EXTENSION, settings

    # Port 1 on loopback: nothing listens, the connection is refused at once.
    app.extensions[EXTENSION] = replace(settings(app), smtp_host="127.0.0.1", smtp_port=1)
    response = ask_for_link(client)
    assert response.status_code == 200
    assert "the password reset mail to user" in caplog.text and "was not sent" in caplog.text
    assert outbox(app) == []


# -- using the link --------------------------------------------------------------------------


def test_the_link_sets_a_new_password_and_signs_in(app, client, sam):
    ask_for_link(client)
    path = reset_path(app)
    page = client.get(path).get_data(as_text=True)
    assert '<label for="password">New password</label>' in page
    response = reset(client, path)
    assert response.status_code == 303
    assert signed_in_email(client) == "Sam"
    visitor = app.test_client()
    assert sign_in(visitor, "sam@school.example").status_code == 422  # the old password
    assert sign_in(visitor, "sam@school.example", NEW_PASSWORD).status_code == 303


def test_a_reset_signs_out_every_other_session(app, client, sam):
    laptop = app.test_client()
    sign_in(laptop, "sam@school.example")
    assert signed_in_email(laptop) == "Sam"
    ask_for_link(client)
    reset(client, reset_path(app))
    assert signed_in_email(laptop) is None
    assert signed_in_email(client) == "Sam"


def test_the_link_works_only_once(app, client, sam):
    ask_for_link(client)
    path = reset_path(app)
    assert reset(client, path).status_code == 303
    again = app.test_client()
    response = reset(again, path, "yet another long password")
    assert response.status_code == 410
    assert "expired or was already used" in response.get_data(as_text=True)
    assert again.get(path).status_code == 410


def test_the_link_stops_working_when_the_password_changes_otherwise(app, client, sam):
    ask_for_link(client)
    path = reset_path(app)
    with app.app_context():
        db.session.get(User, sam).password_hash = hash_password("changed elsewhere!")
        db.session.commit()
    assert client.get(path).status_code == 410


def token_made_ago(app, user_id: int, seconds: int) -> str:
    """A reset token signed with the app's key as if ``seconds`` ago (the clock is the only
    thing changed: same key, salt and payload as the service makes)."""

    class EarlierSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    with app.app_context():
        user = db.session.get(User, user_id)
        serializer = URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt=accounts.RESET_SALT, signer=EarlierSigner
        )
        return str(serializer.dumps({"u": user.id, "p": accounts.password_fingerprint(user)}))


def test_a_link_works_for_an_hour(app, client, sam):
    token = token_made_ago(app, sam, accounts.RESET_MAX_AGE - 60)
    assert client.get(f"/password/reset/{token}").status_code == 200


def test_an_expired_link_shows_a_readable_page(app, client, sam):
    token = token_made_ago(app, sam, accounts.RESET_MAX_AGE + 1)
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert page.count("<h1>") == 1
    assert "expired or was already used" in page
    assert reset(client, f"/password/reset/{token}").status_code == 410


@pytest.mark.parametrize(
    "token",
    ["nonsense", "eyJ1IjoxLCJwIjoieCJ9.ZZZZZZ.forged-signature"],
    ids=["garbage", "forged"],
)
def test_a_forged_link_is_refused(client, sam, token):
    assert client.get(f"/password/reset/{token}").status_code == 410


def test_a_link_signed_with_another_secret_is_refused(app, client, sam):
    with app.test_request_context():
        app.config["SECRET_KEY"] = "another secret"
        token = accounts.reset_token(db.session.get(User, sam))
    app.config["SECRET_KEY"] = "the real one"
    assert client.get(f"/password/reset/{token}").status_code == 410


def test_a_disabled_account_cannot_use_its_link(app, client, sam):
    ask_for_link(client)
    path = reset_path(app)
    with app.app_context():
        db.session.get(User, sam).disabled_at = datetime.now(UTC)
        db.session.commit()
    assert client.get(path).status_code == 410


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", "at least 12 characters"),
        (NEW_PASSWORD, NEW_PASSWORD + ".", "The two passwords differ."),
        ("", "", "Choose a password."),
    ],
)
def test_the_password_rules_apply(app, client, sam, password, confirm, message):
    ask_for_link(client)
    path = reset_path(app)
    response = client.post(path, data={"password": password, "confirm": confirm})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert client.get(path).status_code == 200  # the link still works


def test_the_reset_forms_need_their_csrf_tokens(app, client, sam):
    app.config["WTF_CSRF_ENABLED"] = True
    assert ask_for_link(client).status_code == 400
    token = _csrf_token(client.get("/password/forgot").get_data(as_text=True))
    data = {"email": "sam@school.example", "csrf_token": token}
    asked = client.post("/password/forgot", data=data)
    asked.close()
    assert asked.status_code == 200
    path = reset_path(app)
    assert reset(client, path).status_code == 400
    form_token = _csrf_token(client.get(path).get_data(as_text=True))
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": form_token}
    assert client.post(path, data=data).status_code == 303
