"""OAuth 2.0 for the VC-API: the client-credentials grant (RFC 6749 §4.4) at ``/oauth/token``,
the bearer-token check (RFC 6750) that protects ``/credentials/issue``, and the ``credfolio
clients`` commands that register API clients."""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from argon2.exceptions import InvalidHashError, VerificationError
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskJsonRequest
from authlib.oauth2 import OAuth2Error, ResourceProtector
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc6750.errors import InsufficientScopeError
from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from flask.cli import with_appcontext
from sqlalchemy import select, update

from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import Issuer
from portfolio.core.db import db
from portfolio.core.errors import APIError, register_api_errors
from portfolio.core.hashing import dummy_hash, password_hasher
from portfolio.issuing.models import OAuthClient, OAuthToken

#: The only scope: issuing credentials through ``POST /credentials/issue``.
ISSUE_SCOPE = "issue"
#: Access tokens are short-lived (no refresh tokens: the client simply asks again, §4.4.3).
TOKEN_LIFETIME = timedelta(minutes=10)
TOKEN_PATH = "/oauth/token"  # noqa: S105  (a URL path, not a secret)
_SERVER = "credfolio.oauth_server"
_REALM = "credfolio"

bp = Blueprint("oauth", __name__)


def token_sha256(token: str) -> str:
    """What is stored of a bearer token: its SHA-256 (hex).  A database leak reveals no token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- Authlib adapters over the models ----------------------------------------------------------


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """An enabled :class:`OAuthClient` as Authlib sees it: a confidential client that may only
    use the client-credentials grant, authenticating with ``client_secret_basic`` or
    ``client_secret_post`` (RFC 6749 §2.3.1)."""

    row: OAuthClient

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        # RFC 6749 §3.3: no scope requested → the client's pre-registered scope.
        allowed = set(self.row.scope.split())
        if not scope:
            return " ".join(sorted(allowed))
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        try:
            return bool(password_hasher().verify(self.row.secret_hash, client_secret))
        except (VerificationError, InvalidHashError):
            return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


@dataclass
class Token(TokenMixin):  # type: ignore[misc]
    """A stored :class:`OAuthToken` as the bearer validator sees it."""

    row: OAuthToken
    client_enabled: bool

    def check_client(self, client: ClientMixin) -> bool:
        return bool(client.get_client_id() == self.row.client_id)

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((_aware(self.row.expires_at) - datetime.now(UTC)).total_seconds())

    def is_expired(self) -> bool:
        return datetime.now(UTC) >= _aware(self.row.expires_at)

    def is_revoked(self) -> bool:
        # A disabled client's tokens stop working at once, not when they expire.
        return self.row.revoked or not self.client_enabled


def _enabled_client(client_id: str) -> OAuthClient | None:
    return db.session.scalar(
        select(OAuthClient).where(
            OAuthClient.client_id == client_id, OAuthClient.disabled_at.is_(None)
        )
    )


def _query_client(client_id: str) -> Client | None:
    row = _enabled_client(client_id)
    if row is None:
        # Spend the same argon2 work as a real secret check, so the response time does not
        # tell an attacker whether a client id exists.
        with contextlib.suppress(VerificationError, InvalidHashError):
            password_hasher().verify(dummy_hash(), "not the secret")
        return None
    return Client(row)


def _save_token(token: dict[str, Any], oauth_request: Any) -> None:
    db.session.add(
        OAuthToken(
            token_sha256=token_sha256(token["access_token"]),
            client_id=oauth_request.client.get_client_id(),
            scope=token.get("scope", ""),
            issued_at=datetime.now(UTC),
            expires_at=datetime.now(UTC) + timedelta(seconds=int(token["expires_in"])),
        )
    )
    db.session.commit()


class _ClientCredentialsGrant(ClientCredentialsGrant):  # type: ignore[misc]
    # RFC 6749 §2.3.1: HTTP Basic is the one every server must support; the form parameters
    # are allowed as well (many VC-API test harnesses send them).
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012


class _Server(AuthorizationServer):  # type: ignore[misc]
    """Authlib's server with our fixed settings (no configuration keys to get wrong)."""

    def load_config(self, config: Any) -> None:
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: secrets.token_urlsafe(32),
                expires_generator=lambda client, grant_type: int(TOKEN_LIFETIME.total_seconds()),
            ),
        )
        self.scopes_supported = [ISSUE_SCOPE]


def _init_server(state: BlueprintSetupState) -> None:
    server = _Server()
    server.init_app(state.app, query_client=_query_client, save_token=_save_token)
    server.register_grant(_ClientCredentialsGrant)
    state.app.extensions[_SERVER] = server


bp.record_once(_init_server)
register_api_errors(bp, prefixes=("/oauth/",))


@bp.post(TOKEN_PATH)
def token() -> Response:
    """RFC 6749 §4.4.2 access token request → §5.1 response, or a §5.2 error response.

    Errors keep the RFC's ``error`` / ``error_description`` members and add ``detail`` (the
    same text) so that every API error has the same shape.  ``invalid_client`` is 401 with
    ``WWW-Authenticate: Basic`` (§5.2).
    """
    response: Response = current_app.extensions[_SERVER].create_token_response()
    if response.status_code >= 400:
        try:
            body = json.loads(response.get_data(as_text=True))
        except ValueError:
            body = {"error": "invalid_request"}
        body["detail"] = body.get("error_description") or body.get("error")
        response.set_data(json.dumps(body))
        response.mimetype = "application/json"
        if body.get("error") == "invalid_client" and response.status_code == 401:
            response.headers.setdefault("WWW-Authenticate", f'Basic realm="{_REALM}"')
    return response


# -- the resource server side (RFC 6750) ------------------------------------------------------


class _BearerValidator(BearerTokenValidator):  # type: ignore[misc]
    def authenticate_token(self, token_string: str) -> Token | None:
        row = db.session.scalar(
            select(OAuthToken).where(OAuthToken.token_sha256 == token_sha256(token_string))
        )
        if row is None:
            return None
        return Token(row, client_enabled=_enabled_client(row.client_id) is not None)


_protector = ResourceProtector()
_protector.register_token_validator(_BearerValidator(realm=_REALM))


def require_token(scope: str = ISSUE_SCOPE) -> OAuthClient:
    """The enabled client whose bearer token authorizes this request for ``scope``.

    Raises :class:`APIError` 401 with ``WWW-Authenticate: Bearer`` (RFC 6750 §3) when the token
    is missing, unknown, expired or revoked, and 403 ``insufficient_scope`` (§3.1) when it lacks
    ``scope``.
    """
    try:
        token = _protector.validate_request([scope], FlaskJsonRequest(request))
    except InsufficientScopeError:
        raise APIError(
            403,
            "insufficient_scope",
            f"the access token does not grant the scope {scope!r}",
            headers={
                "WWW-Authenticate": (
                    f'Bearer realm="{_REALM}", error="insufficient_scope", scope="{scope}"'
                )
            },
        ) from None
    except OAuth2Error as exc:
        if exc.error in ("missing_authorization", "unsupported_token_type"):
            # §3.1: no error code when the request carried no bearer credentials at all.
            raise APIError(
                401,
                "missing_authorization",
                f"a bearer access token is required (OAuth 2.0 client credentials at {TOKEN_PATH})",
                headers={"WWW-Authenticate": f'Bearer realm="{_REALM}"'},
            ) from None
        raise APIError(
            401,
            "invalid_token",
            "the access token is unknown, expired or revoked",
            headers={"WWW-Authenticate": f'Bearer realm="{_REALM}", error="invalid_token"'},
        ) from None
    client = _enabled_client(token.row.client_id)
    if client is None:  # disabled between the two queries
        raise APIError(401, "invalid_token", "the client is disabled")
    return client


# -- credfolio clients ------------------------------------------------------------------------


@click.group("clients")
def clients_group() -> None:
    """VC-API clients (OAuth 2.0 client credentials): create, list, disable."""


@clients_group.command("create")
@click.option("--name", required=True, help="Who the client is (shown in `clients list`).")
@click.option("--issuer-did", help="The issuer it issues for (default: the service's issuer).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def create_command(name: str, issuer_did: str | None, as_json: bool) -> None:
    """Register a client; its secret is printed once and stored only as an argon2 hash."""
    if issuer_did is None or issuer_did == current_app.extensions["credfolio"].issuer_did:
        issuer = default_issuer()
    else:
        found = db.session.scalar(select(Issuer).where(Issuer.did == issuer_did))
        if found is None:
            raise click.ClickException(f"no issuer with the DID {issuer_did!r}")
        issuer = found
    client_id = secrets.token_urlsafe(16)
    client_secret = secrets.token_urlsafe(32)
    db.session.add(
        OAuthClient(
            client_id=client_id,
            secret_hash=password_hasher().hash(client_secret),
            name=name,
            scope=ISSUE_SCOPE,
            issuer_id=issuer.id,
            created_at=datetime.now(UTC),
        )
    )
    db.session.commit()
    endpoint = current_app.config["CREDFOLIO_PUBLIC_URL"].rstrip("/") + TOKEN_PATH
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "token_endpoint": endpoint,
                    "issuer_id": issuer.did,
                }
            )
            + "\n"
        )
        return
    click.echo(f"Client ID:      {client_id}")
    click.echo(f"Client secret:  {client_secret}")
    click.echo(f"Token endpoint: {endpoint}")
    click.echo(f"Issuer:         {issuer.did}")
    click.echo("The secret is shown only now; store it in the client's secret manager.")


@clients_group.command("list")
@with_appcontext
def list_command() -> None:
    """Registered clients, oldest first (never their secrets)."""
    rows = db.session.scalars(select(OAuthClient).order_by(OAuthClient.created_at, OAuthClient.id))
    for row in rows:
        state = "disabled" if row.disabled_at else "enabled"
        click.echo(f"{row.client_id}  {state:<8}  {row.issuer.did}  {row.name}")


@clients_group.command("disable")
@click.argument("client_id")
@with_appcontext
def disable_command(client_id: str) -> None:
    """Disable CLIENT_ID: it can get no new token, and its current tokens stop working."""
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if row is None:
        raise click.ClickException(f"no client {client_id!r}")
    if row.disabled_at is None:
        row.disabled_at = datetime.now(UTC)
    db.session.execute(
        update(OAuthToken).where(OAuthToken.client_id == client_id).values(revoked=True)
    )
    db.session.commit()
    click.echo(f"{client_id}: disabled")
