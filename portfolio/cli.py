"""Service-level commands: database set-up and the demo school."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from .db import db


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database tables (SQLite in the instance folder unless configured)."""
    db.create_all()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("demo-setup")
@with_appcontext
def demo_setup() -> None:
    """Prepare the demo: database tables and an active signing key for the demo issuer."""
    db.create_all()
    components = current_app.extensions["credfolio"]
    store = components.key_store
    records = [r for r in store.list(components.issuer_did) if r.status == "active"]
    record = records[0] if records else store.create(components.issuer_did)
    click.echo(f"Issuer:      {components.issuer_name}")
    click.echo(f"Issuer DID:  {components.issuer_did}")
    click.echo(f"Signing key: {record.key_id} ({record.public_key_multibase})")


def register(group: click.Group) -> None:
    """Add these commands to the ``credfolio`` group."""
    group.add_command(init_db)
    group.add_command(demo_setup)
