"""``credfolio keys …``: create, list and rotate the issuer's signing keys.

The only Flask-aware module here: it takes the key store and issuer DID from
``current_app.extensions["credfolio"]``.  Output never contains secret material.
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from .errors import IssuerKeyError
from .store import KeyRecord, KeyStore


def _deps() -> tuple[KeyStore, str]:
    ext: Any = current_app.extensions.get("credfolio")
    if ext is None:
        raise click.ClickException("the app has no 'credfolio' extension (key store not wired)")
    return ext.key_store, ext.issuer_did


def _fmt_time(record: KeyRecord) -> str:
    return record.created.strftime("%Y-%m-%dT%H:%M:%SZ")


@click.group("keys")
def keys() -> None:
    """Manage the issuer's signing keys (secret keys stay encrypted at rest)."""


@keys.command("create")
@with_appcontext
def create_command() -> None:
    """Create the issuer's first signing key.  Refuses if an active key exists."""
    store, did = _deps()
    try:
        if any(r.status == "active" for r in store.list(did)):
            raise click.ClickException(
                f"{did} already has an active key. Use `keys rotate` to replace it."
            )
        record = store.create(did)
    except IssuerKeyError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Created key {record.key_id} for {did}")
    click.echo(f"verification method: {record.verification_method}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@with_appcontext
def list_command(as_json: bool) -> None:
    """List the issuer's keys: id, status, created, verification method."""
    store, did = _deps()
    try:
        records = store.list(did)
    except IssuerKeyError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        # to_public_dict() is the allow-list of fields: the encrypted secret is not in it.
        click.echo(json.dumps([r.to_public_dict() for r in records], indent=2))
        return
    if not records:
        click.echo(f"No keys for {did}. Run `keys create`.")
        return
    rows = [("KEY ID", "STATUS", "CREATED", "VERIFICATION METHOD")]
    rows += [(r.key_id, r.status, _fmt_time(r), r.verification_method) for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        padded = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        click.echo("  ".join([*padded, row[3]]))


@keys.command("rotate")
@with_appcontext
def rotate_command() -> None:
    """Make a new active key; the old one is retired but still verifies old credentials."""
    store, did = _deps()
    try:
        previous = [r for r in store.list(did) if r.status == "active"]
        record = store.rotate(did)
    except IssuerKeyError as exc:
        raise click.ClickException(exc.message) from None
    for old in previous:
        click.echo(f"Retired key {old.key_id} (still listed for verification)")
    click.echo(f"New active key {record.key_id}")
    click.echo(f"verification method: {record.verification_method}")
