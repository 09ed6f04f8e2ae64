"""OAuth 2.0 client credentials (RFC 6749 §4.4) for the VC-API: the token endpoint, bearer
tokens on ``/credentials/issue`` (RFC 6750), and the ``credfolio clients`` commands."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from portfolio.accounts.models import Issuer
from portfolio.core.db import db
from portfolio.issuing.models import OAuthClient, OAuthToken
from tests.conftest import unsigned_badge


def create_client(runner: Any, *args: str) -> dict[str, Any]:
    """``credfolio clients create --json`` → its JSON object."""
    result = runner.invoke(args=["clients", "create", "--name", "Test LMS", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def get_token(client: Any, credentials: dict[str, Any]) -> str:
    """A bearer token through ``client_secret_basic``."""
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "issue"},
        headers=basic(credentials["client_id"], credentials["client_secret"]),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.json["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_client(runner: Any, issuer: Any) -> dict[str, Any]:
    """A registered VC-API client of the default issuer (its secret as printed once)."""
    return create_client(runner)


@pytest.fixture
def token(client: Any, api_client: dict[str, Any]) -> str:
    return get_token(client, api_client)


@pytest.fixture
def post_issue(client: Any) -> Iterator[Any]:
    """POST /credentials/issue with the basic badge."""

    def post(headers: dict[str, str]) -> Any:
        return client.post(
            "/credentials/issue", json={"credential": unsigned_badge()}, headers=headers
        )

    yield post


# -- the token endpoint -----------------------------------------------------------------------


def test_client_secret_basic_gets_a_ten_minute_issue_token(client, api_client, app):
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(api_client["client_id"], api_client["client_secret"]),
    )
    assert response.status_code == 200
    body = response.json
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == "issue"  # the client's scope when none is asked for (RFC 6749 §3.3)
    assert response.headers["Cache-Control"] == "no-store"  # RFC 6749 §5.1
    with app.app_context():
        stored = db.session.scalars(select(OAuthToken)).all()
        assert len(stored) == 1
        # Only the SHA-256 is stored, never the token itself.
        assert stored[0].token_sha256 == hashlib.sha256(body["access_token"].encode()).hexdigest()
        assert body["access_token"] not in json.dumps(
            [stored[0].token_sha256, stored[0].client_id, stored[0].scope]
        )
        lifetime = stored[0].expires_at - stored[0].issued_at
        assert timedelta(minutes=9, seconds=59) <= lifetime <= timedelta(minutes=10, seconds=1)


def test_client_secret_post_is_accepted(client, api_client):
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "scope": "issue",
            "client_id": api_client["client_id"],
            "client_secret": api_client["client_secret"],
        },
    )
    assert response.status_code == 200
    assert response.json["scope"] == "issue"


def test_a_wrong_secret_is_invalid_client_401(client, api_client):
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(api_client["client_id"], api_client["client_secret"] + "x"),
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.json["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_an_unknown_client_is_invalid_client(client, api_client):
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic("nobody", api_client["client_secret"]),
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_an_unknown_scope_is_refused(client, api_client):
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "admin"},
        headers=basic(api_client["client_id"], api_client["client_secret"]),
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"


def test_other_grant_types_are_refused(client, api_client):
    response = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "a", "password": "b"},
        headers=basic(api_client["client_id"], api_client["client_secret"]),
    )
    assert response.status_code == 400
    assert response.json["error"] == "unsupported_grant_type"


def test_get_on_the_token_endpoint_is_405_json(client):
    response = client.get("/oauth/token")
    assert response.status_code == 405
    assert response.json["error"] == "METHOD_NOT_ALLOWED"
    assert "POST" in response.headers["Allow"]


# -- the bearer token on /credentials/issue ---------------------------------------------------


def test_issue_without_a_token_is_401_with_www_authenticate(post_issue):
    response = post_issue({})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"] == "missing_authorization"


def test_an_unknown_token_is_401_invalid_token(post_issue, token):
    response = post_issue(bearer(token[:-2] + "xx"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.json["error"] == "invalid_token"


def test_an_expired_token_is_401(post_issue, token, app):
    with app.app_context():
        row = db.session.scalar(select(OAuthToken))
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    response = post_issue(bearer(token))
    assert response.status_code == 401
    assert response.json["error"] == "invalid_token"


def test_a_token_without_the_issue_scope_is_403(post_issue, api_client, app):
    with app.app_context():
        db.session.add(
            OAuthToken(
                token_sha256=hashlib.sha256(b"scopeless-token").hexdigest(),
                client_id=api_client["client_id"],
                scope="",
                expires_at=datetime.now(UTC) + timedelta(minutes=5),
            )
        )
        db.session.commit()
    response = post_issue(bearer("scopeless-token"))
    assert response.status_code == 403
    assert response.json["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_a_good_token_issues(post_issue, token):
    response = post_issue(bearer(token))
    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_disabled_client_gets_no_token_and_its_tokens_stop_working(
    client, runner, api_client, token, post_issue
):
    result = runner.invoke(args=["clients", "disable", api_client["client_id"]])
    assert result.exit_code == 0, result.output
    assert post_issue(bearer(token)).status_code == 401
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(api_client["client_id"], api_client["client_secret"]),
    )
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


# -- credfolio clients ------------------------------------------------------------------------


def test_create_prints_the_secret_once_and_stores_an_argon2_hash(runner, issuer, app):
    created = create_client(runner)
    assert set(created) == {"client_id", "client_secret", "token_endpoint", "issuer_id"}
    assert created["token_endpoint"] == "https://credfolio.test/oauth/token"
    assert created["issuer_id"] == issuer.did
    with app.app_context():
        row = db.session.scalar(select(OAuthClient))
        assert row.client_id == created["client_id"]
        assert row.secret_hash.startswith("$argon2")
        assert created["client_secret"] not in row.secret_hash
        assert PasswordHasher().verify(row.secret_hash, created["client_secret"])
    listing = runner.invoke(args=["clients", "list"])
    assert created["client_id"] in listing.output and "enabled" in listing.output
    assert created["client_secret"] not in listing.output


def test_create_for_another_of_our_issuers(runner, issuer, app):
    with app.app_context():
        db.session.add(Issuer(slug="music", did="did:web:credfolio.test:music", name="Music"))
        db.session.commit()
    created = create_client(runner, "--issuer-did", "did:web:credfolio.test:music")
    assert created["issuer_id"] == "did:web:credfolio.test:music"


def test_create_for_an_unknown_issuer_fails(runner, issuer):
    result = runner.invoke(
        args=["clients", "create", "--name", "x", "--issuer-did", "did:web:elsewhere.example"]
    )
    assert result.exit_code != 0
    assert "no issuer" in result.output


def test_disable_an_unknown_client_fails(runner, issuer):
    result = runner.invoke(args=["clients", "disable", "nobody"])
    assert result.exit_code != 0
    assert "no client" in result.output


def test_client_registration_refuses_unknown_issuers_and_clients_as_not_found(app, issuer):
    from portfolio.core.errors import NotFoundError, status_for
    from portfolio.issuing import oauth

    with app.app_context():
        with pytest.raises(NotFoundError, match="no issuer with the DID") as no_issuer:
            oauth.client_issuer("did:web:elsewhere.example")
        assert status_for(no_issuer.value) == 404
        with pytest.raises(NotFoundError, match="no client 'nobody'"):
            oauth.disable_client("nobody")
        new = oauth.register_client("LMS", oauth.client_issuer(None))
        assert new.issuer_did == issuer.did
        assert [row.client_id for row in oauth.registered_clients()] == [new.client_id]
        assert oauth.token_endpoint() == "https://credfolio.test/oauth/token"


def test_disabled_clients_are_listed_as_disabled(runner, api_client):
    runner.invoke(args=["clients", "disable", api_client["client_id"]])
    listing = runner.invoke(args=["clients", "list"])
    assert f"{api_client['client_id']}  disabled" in listing.output


def test_client_ids_never_start_with_a_dash_so_the_cli_can_take_them(monkeypatch):
    from portfolio.issuing import oauth

    draws = iter(["-looks-like-an-option", "_fine_id"])
    monkeypatch.setattr(oauth.secrets, "token_urlsafe", lambda _n: next(draws))
    assert oauth.new_client_id() == "_fine_id"
