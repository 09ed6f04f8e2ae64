"""Service-level commands: database set-up, the demo school, credential revocation."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from credentials.errors import CredentialError

from . import services


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (the same as `credfolio db upgrade`)."""
    upgrade()
    from .db import db

    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("demo-setup")
@with_appcontext
def demo_setup() -> None:
    """Prepare the demo: schema, the demo issuer and its key, and a demo school (a competency
    framework with rubrics, an administrator, assessors and students, evidence, submissions in
    every state and real credentials; see ``portfolio.demo_school``).  Prints the sign-in
    details.  Safe to run again: nothing is created twice."""
    from . import demo_school

    upgrade()
    components = current_app.extensions["credfolio"]
    issuer = services.default_issuer()
    store = components.key_store
    records = [r for r in store.list(issuer.did) if r.status == "active"]
    record = records[0] if records else store.create(issuer.did)
    click.echo(f"Issuer:      {issuer.name}")
    click.echo(f"Issuer DID:  {issuer.did}")
    click.echo(f"Signing key: {record.key_id} ({record.public_key_multibase})")

    # Development-only accounts; their passwords live in the instance folder (0600).
    school = demo_school.seed(issuer, instance_path=current_app.instance_path)
    for line in demo_school.summary_lines(school, current_app.config["CREDFOLIO_PUBLIC_URL"]):
        click.echo(line)


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

    from .db import db
    from .models import IssuedCredential

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


def register(group: click.Group) -> None:
    """Add these commands to the ``credfolio`` group."""
    group.add_command(init_db)
    group.add_command(demo_setup)
    group.add_command(credentials_group)
