"""``credfolio catalogue``: import and export the default issuer's competency catalogue as CASE
JSON or CSV, with the same reports as the administration pages."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from portfolio.accounts.issuers import default_issuer
from portfolio.catalogue import case
from portfolio.catalogue import csv_io as catalogue_csv
from portfolio.catalogue.service import find_framework
from portfolio.core import audit
from portfolio.core.db import unit_of_work
from portfolio.core.links import public_url


@click.group("catalogue")
def catalogue_group() -> None:
    """The competency catalogue (CASE JSON and CSV)."""


def _audit(action: str, target: str, **detail: str) -> None:
    """Record an import (after its own commit) or an export, in its own unit of work; actor
    ``cli``."""
    with unit_of_work():
        issuer_id = default_issuer().id
        audit.record(action, actor_label="cli", issuer_id=issuer_id, target=target, detail=detail)


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        output.write_bytes(data)
        click.echo(_("Wrote %(file)s.", file=output), err=True)


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUTPUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@catalogue_group.command("import-case")
@click.argument("file", type=_FILE)
@with_appcontext
def import_case_command(file: Path) -> None:
    """Import (or re-import) the CASE package FILE (JSON).

    Exits 1 when the file cannot be imported (nothing is written).
    """
    try:
        summary = case.import_package(file.read_bytes(), issuer=default_issuer())
    except case.CaseError as error:
        raise click.ClickException(
            _("%(file)s cannot be imported: %(error)s", file=file.name, error=error)
        ) from None
    _audit(
        "catalogue_imported",
        f"framework:{summary.framework.public_id}",
        format="case",
        result=summary.record(),
    )
    click.echo(f"“{summary.framework.title}” ({summary.framework.public_id})")  # data
    for label, names in (
        (_("created: %(name)s"), summary.created),
        (_("updated: %(name)s"), summary.updated),
        (_("archived: %(name)s"), summary.archived),
    ):
        for name in names:
            click.echo(label % {"name": name})
    for warning in summary.warnings:
        click.echo(_("warning: %(warning)s", warning=warning), err=True)
    click.echo(summary.describe())


@catalogue_group.command("export-case")
@click.argument("framework_id")
@click.option("-o", "--output", type=_OUTPUT, help="Write to this file (default: standard output).")
@with_appcontext
def export_case_command(framework_id: str, output: Path | None) -> None:
    """Export the framework FRAMEWORK_ID (its public id or CASE identifier) as CASE JSON."""
    framework = find_framework(default_issuer().id, framework_id)
    if framework is None:
        raise click.BadParameter(
            _("no framework %(id)r", id=framework_id), param_hint="FRAMEWORK_ID"
        )
    data = case.dumps(case.export_package(framework, public_url=public_url()))
    _audit("catalogue_exported", f"framework:{framework.public_id}", format="case")
    _write(data, output)


@catalogue_group.command("import-csv")
@click.argument("file", type=_FILE)
@with_appcontext
def import_csv_command(file: Path) -> None:
    """Create or update competencies from the CSV FILE and print a line per row.

    Exits 0 when the file was read (rejected rows are listed), 1 when it cannot be read.
    """
    try:
        report = catalogue_csv.import_csv(file.read_bytes(), issuer=default_issuer())
    except catalogue_csv.CatalogueCsvError as error:
        raise click.ClickException(
            _("%(file)s cannot be imported: %(error)s", file=file.name, error=error)
        ) from None
    _audit("catalogue_imported", "catalogue", format="csv", result=report.record())
    for row in report.rows:
        verdict = row.outcome if row.ok else _("rejected: %(problem)s", problem=row.problem)
        click.echo(
            _(
                "line %(line)s: %(identifier)s (%(name)s) %(verdict)s",
                line=row.line,
                identifier=row.identifier or "-",
                name=row.name or "-",
                verdict=verdict,
            )
        )
    click.echo(report.describe())


@catalogue_group.command("export-csv")
@click.option("-o", "--output", type=_OUTPUT, help="Write to this file (default: standard output).")
@with_appcontext
def export_csv_command(output: Path | None) -> None:
    """Export every competency of the catalogue as CSV."""
    data = catalogue_csv.export_csv(default_issuer())
    _audit("catalogue_exported", "catalogue", format="csv")
    _write(data, output)
