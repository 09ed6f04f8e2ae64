"""OAuth 2.0 for the VC-API: Authlib's client-credentials server (RFC 6749 §4.4) behind the
token endpoint (served by :mod:`portfolio.issuing.api`), the bearer-token check (RFC 6750), and
registering, listing and disabling API clients (the ``credfolio clients`` commands)."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskJsonRequest
from authlib.oauth2 import OAuth2Error, ResourceProtector
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc6750.errors import InsufficientScopeError
from flask import Response, current_app, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy import select, update

from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import Issuer
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import APIError, NotFoundError
from portfolio.core.hashing import dummy_hash, password_hasher
from portfolio.issuing.models import OAuthClient, OAuthToken
from portfolio.issuing.service import ServiceConfig

#: The only scope: issuing credentials through ``POST /credentials/issue``.
ISSUE_SCOPE = "issue"
#: Access tokens are short-lived (no refresh tokens: the client simply asks again, §4.4.3).
TOKEN_LIFETIME = timedelta(minutes=10)
TOKEN_PATH = "/oauth/token"  # noqa: S105  (a URL path, not a secret)
_SERVER = "credfolio.oauth_server"
#: The realm named in ``WWW-Authenticate`` challenges.
REALM = "credfolio"


def token_sha256(token: str) -> str:
    """What is stored of a bearer token: its SHA-256 (hex).  A database leak reveals no token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- Authlib adapters over the models ----------------------------------------------------------


@dataclass
class Client(ClientMixin):  # type: ignore[misc]  # Authlib: untyped
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
class Token(TokenMixin):  # type: ignore[misc]  # Authlib: untyped
    """A stored :class:`OAuthToken` as the bearer validator sees it."""

    row: OAuthToken
    client_enabled: bool

    def check_client(self, client: ClientMixin) -> bool:
        return bool(client.get_client_id() == self.row.client_id)

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.expires_at - datetime.now(UTC)).total_seconds())

    def is_expired(self) -> bool:
        return datetime.now(UTC) >= self.row.expires_at

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
    with unit_of_work():
        db.session.add(
            OAuthToken(
                token_sha256=token_sha256(token["access_token"]),
                client_id=oauth_request.client.get_client_id(),
                scope=token.get("scope", ""),
                issued_at=datetime.now(UTC),
                expires_at=datetime.now(UTC) + timedelta(seconds=int(token["expires_in"])),
            )
        )


class _ClientCredentialsGrant(ClientCredentialsGrant):  # type: ignore[misc]  # Authlib: untyped
    # RFC 6749 §2.3.1: HTTP Basic is the one every server must support; the form parameters
    # are allowed as well (many VC-API test harnesses send them).
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012


class _Server(AuthorizationServer):  # type: ignore[misc]  # Authlib: untyped
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


def init_server(state: BlueprintSetupState) -> None:
    """Set up the authorization server on the app the token endpoint's blueprint is registered
    on (``Blueprint.record_once``)."""
    server = _Server()
    server.init_app(state.app, query_client=_query_client, save_token=_save_token)
    server.register_grant(_ClientCredentialsGrant)
    state.app.extensions[_SERVER] = server


def token_response() -> Response:
    """Authlib's answer to the token request in flight: RFC 6749 §5.1 (a token) or §5.2 (an
    error, as Authlib words it)."""
    response: Response = current_app.extensions[_SERVER].create_token_response()
    return response


# -- the resource server side (RFC 6750) ------------------------------------------------------


class _BearerValidator(BearerTokenValidator):  # type: ignore[misc]  # Authlib: untyped
    def authenticate_token(self, token_string: str) -> Token | None:
        row = db.session.scalar(
            select(OAuthToken).where(OAuthToken.token_sha256 == token_sha256(token_string))
        )
        if row is None:
            return None
        return Token(row, client_enabled=_enabled_client(row.client_id) is not None)


_protector = ResourceProtector()
_protector.register_token_validator(_BearerValidator(realm=REALM))


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
                    f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
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
                headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
            ) from None
        raise APIError(
            401,
            "invalid_token",
            "the access token is unknown, expired or revoked",
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'},
        ) from None
    client = _enabled_client(token.row.client_id)
    if client is None:  # disabled between the two queries
        raise APIError(401, "invalid_token", "the client is disabled")
    return client


# -- API clients (``credfolio clients``) -------------------------------------------------------


@dataclass(frozen=True)
class NewClient:
    """A client just registered: its secret exists only here (stored as an argon2 hash)."""

    client_id: str
    client_secret: str
    issuer_did: str


def client_issuer(issuer_did: str | None) -> Issuer:
    """The issuer a new client issues for: the service's own issuer by default, else the one
    with ``issuer_did``.  Raises :class:`NotFoundError` when there is none."""
    if issuer_did is None or issuer_did == current_app.extensions["credfolio"].issuer_did:
        return default_issuer()
    found = db.session.scalar(select(Issuer).where(Issuer.did == issuer_did))
    if found is None:
        raise NotFoundError(f"no issuer with the DID {issuer_did!r}")
    return found


def new_client_id() -> str:
    """A random client id that never starts with ``-``: it is typed on command lines
    (``credfolio clients disable ID``), where a leading dash would read as an option."""
    while True:
        client_id = secrets.token_urlsafe(16)
        if not client_id.startswith("-"):
            return client_id


def register_client(name: str, issuer: Issuer) -> NewClient:
    """Register a client of ``issuer`` with the ``issue`` scope (committed)."""
    client_id = new_client_id()
    client_secret = secrets.token_urlsafe(32)
    with unit_of_work():
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
    return NewClient(client_id=client_id, client_secret=client_secret, issuer_did=issuer.did)


def token_endpoint() -> str:
    """The token endpoint's public address (printed for a client's operator, no request)."""
    return ServiceConfig.current().public_link(TOKEN_PATH)


def registered_clients() -> list[OAuthClient]:
    """Every registered client, oldest first."""
    return list(
        db.session.scalars(select(OAuthClient).order_by(OAuthClient.created_at, OAuthClient.id))
    )


def disable_client(client_id: str) -> None:
    """Disable a client: it gets no new token and its tokens stop working (committed).
    Raises :class:`NotFoundError` for an unknown client."""
    row = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if row is None:
        raise NotFoundError(f"no client {client_id!r}")
    with unit_of_work():
        if row.disabled_at is None:
            row.disabled_at = datetime.now(UTC)
        db.session.execute(
            update(OAuthToken).where(OAuthToken.client_id == client_id).values(revoked=True)
        )
