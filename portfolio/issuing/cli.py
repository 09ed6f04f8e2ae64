"""``credfolio credentials``: list issued credentials; revoke, suspend and unsuspend them."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from credentials.errors import CredentialError
from portfolio.issuing import service as services


@click.group("credentials")
def credentials_group() -> None:
    """Issued credentials: list, revoke, suspend, unsuspend."""


def _change(action: str, identifier: str, reason: str | None) -> None:
    row = services.find_credential(identifier)
    if row is None:
        raise click.ClickException(f"no issued credential {identifier!r}")
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
def list_command(as_json: bool) -> None:
    """Issued credentials, newest first."""
    from sqlalchemy import select

    from portfolio.core.db import db
    from portfolio.issuing.models import IssuedCredential

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
