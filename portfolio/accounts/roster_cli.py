"""``credfolio roster import FILE.csv``: invite a class roster from the command line, with the
same per-row report as the administration page."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portfolio.accounts.issuers import default_issuer
from portfolio.accounts.models import Issuer
from portfolio.accounts.pages import import_roster
from portfolio.accounts.roster import RosterFileError
from portfolio.core.db import db


@click.group("roster")
def roster_group() -> None:
    """Class rosters (CSV: name,email,role and optionally cohort)."""


@roster_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--issuer-did", help="The issuer inviting them (default: the service's own).")
@with_appcontext
def import_command(file: Path, issuer_did: str | None) -> None:
    """Invite everyone on FILE's valid rows and print a line per row.

    Exits 0 when the file was read (even with rejected rows: they are listed), 1 when it
    cannot be read as a roster at all.
    """
    if issuer_did:
        issuer = db.session.scalar(select(Issuer).where(Issuer.did == issuer_did))
        if issuer is None:
            raise click.BadParameter(f"no issuer {issuer_did!r}", param_hint="--issuer-did")
    else:
        issuer = default_issuer()
    try:
        report = import_roster(file.read_bytes(), issuer=issuer, invited_by=None)
    except RosterFileError as error:
        raise click.ClickException(f"{file.name} cannot be imported: {error}") from None
    for row in report.rows:
        click.echo(f"line {row.line}: {row.email or '-'} ({row.name or '-'}) {row.verdict}")
    for email in report.unsent:
        click.echo(f"the mail to {email} could not be sent (the invitation exists)", err=True)
    count = len(report.updated)
    updated = f", {count} cohort{'' if count == 1 else 's'} set" if count else ""
    click.echo(f"{len(report.created)} invited{updated}, {len(report.rejected)} rejected.")
