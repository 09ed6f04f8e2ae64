"""``credfolio audit export``: the whole audit log (every issuer) as CSV or JSON, for the
operators of the service; the export is itself recorded (``audit_exported``, actor ``cli``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from portfolio.audit.export import csv_chunks, json_chunks
from portfolio.audit.filters import AuditFilter
from portfolio.audit.service import events_query, record_export


@click.group("audit")
def audit_group() -> None:
    """The audit log of security-relevant events."""


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_("write the date as YYYY-MM-DD, e.g. 2025-01-31")) from None


@audit_group.command("export")
@click.option(
    "--since", callback=_since, help="Only events on or after this day (YYYY-MM-DD, UTC)."
)
@click.option(
    "--format",
    "kind",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="CSV (cells guarded against spreadsheet formulas) or one JSON document.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file (default: standard output).",
)
@with_appcontext
def export_command(since: date | None, kind: str, output: Path | None) -> None:
    """Export the audit log, newest first."""
    filters = AuditFilter(since=since)
    record_export(kind, filters)
    query = events_query(filters, issuer_id=None, service_wide=True)
    chunks = csv_chunks(query) if kind == "csv" else json_chunks(query, filters=filters)
    if output is None:
        for chunk in chunks:
            click.echo(chunk, nl=False)
        return
    # newline="" keeps the CSV's CRLF line ends as they are.
    with output.open("w", encoding="utf-8", newline="") as file:
        for chunk in chunks:
            file.write(chunk)
    click.echo(_("Wrote %(file)s.", file=output), err=True)
