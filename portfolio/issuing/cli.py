"""The issuing commands: ``credfolio credentials`` (list, revoke, suspend, unsuspend),
``credfolio clients`` (VC-API clients) and ``credfolio keys compromised``."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import select

from credentials.errors import CredentialError
from issuer_keys.errors import IssuerKeyError
from portfolio.core.db import db
from portfolio.core.errors import CredfolioError
from portfolio.issuing import oauth
from portfolio.issuing import service as services
from portfolio.issuing.key_compromise import CompromiseError, handle_compromise
from portfolio.issuing.models import IssuedCredential

# -- credfolio credentials --------------------------------------------------------------------


@click.group("credentials")
def credentials_group() -> None:
    """Issued credentials: list, revoke, suspend, unsuspend."""


def _change(action: str, identifier: str, reason: str | None) -> None:
    row = services.find_credential(identifier)
    if row is None:
        raise click.ClickException(_("no issued credential %(id)r", id=identifier))
    try:
        services.set_status(row, action, reason=reason or "", actor="cli")
    except CredentialError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{row.public_id}: {row.state}")


@credentials_group.command("revoke")
@click.argument("identifier")
@click.option("--reason", required=True, help="Why (shown to verifiers on the public page).")
@with_appcontext
def revoke_command(identifier: str, reason: str) -> None:
    """Revoke IDENTIFIER (public id or credential id) for good."""
    _change("revoke", identifier, reason)


@credentials_group.command("suspend")
@click.argument("identifier")
@click.option("--reason", required=True, help="Why the credential is suspended.")
@with_appcontext
def suspend_command(identifier: str, reason: str) -> None:
    """Suspend IDENTIFIER until it is unsuspended."""
    _change("suspend", identifier, reason)


@credentials_group.command("unsuspend")
@click.argument("identifier")
@click.option("--reason", default="", help="Optional note.")
@with_appcontext
def unsuspend_command(identifier: str, reason: str) -> None:
    """Lift the suspension of IDENTIFIER."""
    _change("unsuspend", identifier, reason)


@credentials_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per credential.")
@with_appcontext
def list_credentials_command(as_json: bool) -> None:
    """Issued credentials, newest first."""
    rows = db.session.scalars(
        select(IssuedCredential).order_by(IssuedCredential.issued_at.desc())
    ).all()
    for row in rows:
        item = {
            "public_id": row.public_id,
            "credential_id": row.credential_id,
            "achievement": row.achievement_name,
            "recipient": row.recipient_name or row.subject_id,
            "state": row.state,
            "issued_at": row.issued_at.isoformat(),
        }
        if as_json:
            sys.stdout.write(json.dumps(item) + "\n")
        else:
            click.echo(
                f"{row.public_id}  {row.state:<9}  {row.issued_at:%Y-%m-%d}  "
                f"{row.achievement_name or '-'}  {item['recipient'] or '-'}"
            )


# -- credfolio clients ------------------------------------------------------------------------


@click.group("clients")
def clients_group() -> None:
    """VC-API clients (OAuth 2.0 client credentials): create, list, disable."""


@clients_group.command("create")
@click.option("--name", required=True, help="Who the client is (shown in `clients list`).")
@click.option("--issuer-did", help="The issuer it issues for (default: the service's issuer).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def create_client_command(name: str, issuer_did: str | None, as_json: bool) -> None:
    """Register a client; its secret is printed once and stored only as an argon2 hash."""
    try:
        client = oauth.register_client(name, oauth.client_issuer(issuer_did))
    except CredfolioError as exc:
        raise click.ClickException(exc.message) from None
    endpoint = oauth.token_endpoint()
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "client_id": client.client_id,
                    "client_secret": client.client_secret,
                    "token_endpoint": endpoint,
                    "issuer_id": client.issuer_did,
                }
            )
            + "\n"
        )
        return
    click.echo(_("Client ID:      %(value)s", value=client.client_id))
    click.echo(_("Client secret:  %(value)s", value=client.client_secret))
    click.echo(_("Token endpoint: %(value)s", value=endpoint))
    click.echo(_("Issuer:         %(value)s", value=client.issuer_did))
    click.echo(_("The secret is shown only now; store it in the client's secret manager."))


@clients_group.command("list")
@with_appcontext
def list_clients_command() -> None:
    """Registered clients, oldest first (never their secrets)."""
    for row in oauth.registered_clients():
        state = "disabled" if row.disabled_at else "enabled"
        click.echo(f"{row.client_id}  {state:<8}  {row.issuer.did}  {row.name}")


@clients_group.command("disable")
@click.argument("client_id")
@with_appcontext
def disable_client_command(client_id: str) -> None:
    """Disable CLIENT_ID: it can get no new token, and its current tokens stop working."""
    try:
        oauth.disable_client(client_id)
    except CredfolioError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(_("%(id)s: disabled", id=client_id))


# -- credfolio keys compromised ---------------------------------------------------------------


@click.command("compromised")
@click.argument("key_id")
@click.option("--reason", required=True, help="How the key was compromised (kept with the key).")
@with_appcontext
def compromised_command(key_id: str, reason: str) -> None:
    """Handle the compromise of KEY_ID: revoke it, make a new key, sign the status lists again
    and re-issue every credential it signed (the old ones are revoked).  Safe to run again."""
    try:
        report = handle_compromise(key_id, reason=reason, actor="cli")
    except CompromiseError as exc:
        raise click.ClickException(exc.message) from None
    except IssuerKeyError as exc:
        raise click.ClickException(exc.message) from None
    except CredentialError as exc:
        raise click.ClickException(
            _("a re-issue failed: %(error)s; run again", error=exc.message)
        ) from None
    for line in report.lines():
        click.echo(line)
