"""The operations commands: ``credfolio init-db`` (create or upgrade the schema) and ``credfolio
backup`` / ``credfolio restore`` (the whole instance — database, evidence store, encrypted issuer
keys — to one archive and back, with progress bars; docs/backup.md).  ``credfolio serve`` is in
:mod:`portfolio.operations.serve`: it runs before any app exists.

Backup and restore exit codes: 0 done; 1 failed (nothing kept); 2 bad usage; 3 the archive is
damaged, truncated or tampered with; 4 the output exists (backup without ``--force``) or the
target database is not empty (restore); 5 the archive needs a newer Credfolio or another
key-encryption secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_migrate import upgrade
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.exc import SQLAlchemyError

from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.settings import settings
from portfolio.files import bucket
from portfolio.files.storage import storage
from portfolio.operations import doctor, shared_secrets
from portfolio.operations.archive import COMPRESSIONS, BackupError, verify_archive
from portfolio.operations.archive import Progress as ProgressCallback
from portfolio.operations.backup import check_file_sha256, create_backup
from portfolio.operations.restore import restore_backup


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (the same as `credfolio db upgrade`)."""
    upgrade()
    click.echo(_("Database ready: %(url)s", url=db.engine.url.render_as_string(hide_password=True)))


@click.group("secrets")
def secrets_group() -> None:
    """The secrets every server of a deployment shares (checked at start by `serve`)."""


@secrets_group.command("changed")
@with_appcontext
def secrets_changed() -> None:
    """Record this server's secrets as the deployment's, after changing them on every server."""
    shared_secrets.record_changed(shared_secrets.app_fingerprints())
    click.echo(
        _(
            "Recorded: every server must now use this server's CREDFOLIO_SECRET_KEY and "
            "key-encryption secret."
        )
    )


_MARKS = {"ok": "ok     ", "warning": "WARNING", "failed": "FAILED "}


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check this deployment from this server: one line per check with what to fix.  Exit 1
    when a check failed (warnings alone exit 0)."""
    findings = doctor.examine()
    for finding in findings:
        click.echo(f"{_MARKS[finding.status]}  {finding.name}: {finding.detail}")
    if any(finding.status == "failed" for finding in findings):
        raise SystemExit(1)


@click.group("storage")
def storage_group() -> None:
    """The evidence store (the local folder or the S3 bucket)."""


@storage_group.command("init")
@with_appcontext
def storage_init() -> None:
    """Create the evidence store if it is missing (the S3 bucket, the local folder) and check
    that this server may write, read and delete in it.  Safe to run again."""
    try:
        steps = bucket.prepare(storage(), region=settings().s3_region)
    except bucket.StoreNotReady as exc:
        raise click.ClickException(exc.message) from None
    for step in steps:
        click.echo(f"{step.what}: {step.outcome}")
    click.echo(_("The evidence store is ready."))


# -- credfolio backup and credfolio restore ---------------------------------------------------


def _phases() -> dict[str, str]:
    """The phases of a backup or restore, as its progress bars name them."""
    return {
        "tables": _("Tables"),
        "rows": _("Rows"),
        "blobs": _("Evidence files"),
        "verify": _("Checking the archive"),
    }


class BackupCommandError(click.ClickException):
    """A :class:`portfolio.operations.BackupError` on the command line, with its exit
    code."""

    def __init__(self, error: BackupError) -> None:
        super().__init__(error.message)
        # click declares exit_code a class attribute; each error kind sets its own.
        self.exit_code = error.exit_code  # type: ignore[misc]


@contextmanager
def _progress(quiet: bool) -> Iterator[ProgressCallback]:
    """A ``progress(phase, done, total)`` callback drawing one rich bar per phase on stderr."""
    if quiet:
        yield lambda _phase, _done, _total: None
        return
    console = Console(stderr=True)
    tasks: dict[str, TaskID] = {}
    phases = _phases()
    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bars:

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bars.add_task(phases.get(phase, phase), total=total)
            bars.update(tasks[phase], completed=done, total=total)

        yield report


def _audit(action: str, archive: str, **detail: str | int) -> None:
    """Record a backup or restore in the audit log (actor ``cli``), after the fact.

    A backup may be taken from a read-only replica: failing to record it is a warning, not a
    failed backup.
    """
    try:
        with unit_of_work():
            audit.record(action, actor_label="cli", target=f"backup:{archive}", detail=detail)
    except SQLAlchemyError as exc:  # rolled back by the unit of work
        click.echo(
            _(
                "Warning: could not record %(action)s in the audit log: %(error)s",
                action=action,
                error=exc,
            ),
            err=True,
        )


def _key_fingerprint() -> str | None:
    key_store: Any = current_app.extensions["credfolio"].key_store
    fingerprint = getattr(key_store, "key_encryption_fingerprint", None)
    return str(fingerprint) if fingerprint else None


def _compression(path: Path, chosen: str | None) -> str:
    if chosen:
        return chosen
    name = path.name.lower()
    if name.endswith(".tar"):
        return "none"
    if name.endswith((".tar.xz", ".txz")):
        return "xz"
    return "gz"


_QUIET = click.option("-q", "--quiet", is_flag=True, help="No progress bars.")


@click.command("backup")
@click.option(
    "-o",
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write, e.g. credfolio-2025-01-31.tar.gz.",
)
@click.option(
    "--compression",
    type=click.Choice(sorted(COMPRESSIONS)),
    help="Default: from the name (.tar: none, .tar.xz: xz), else gz.",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@_QUIET
@with_appcontext
def backup_command(out: Path, compression: str | None, force: bool, quiet: bool) -> None:
    """Back up the database, the evidence store and the (encrypted) issuer keys to one archive.

    A consistent snapshot: the service can keep running.  The key-encryption secret is NOT
    in the archive; keep it safe apart from the backups.  Exit codes: 0 done, 1 failed
    (nothing written), 4 the file exists (use --force).
    """
    try:
        with _progress(quiet) as report:
            summary = create_backup(
                out,
                engine=db.engine,
                storage=storage(),
                key_encryption_fingerprint=_key_fingerprint(),
                issuer_did=current_app.extensions["credfolio"].issuer_did,
                compression=_compression(out, compression),
                force=force,
                progress=report,
            )
    except BackupError as error:
        raise BackupCommandError(error) from None
    manifest = summary.manifest
    _audit(
        "backup_created",
        summary.path.name,
        file=str(summary.path.resolve()),
        revision=manifest["alembic_revision"],
        tables=len(manifest["tables"]),
        rows=summary.rows,
        blobs=summary.blobs,
        sha256=summary.sha256,
    )
    click.echo(
        _(
            "Wrote %(file)s: %(tables)d tables, %(rows)d rows, %(blobs)d evidence files, "
            "database revision %(revision)s.",
            file=summary.path,
            tables=len(manifest["tables"]),
            rows=summary.rows,
            blobs=summary.blobs,
            revision=manifest["alembic_revision"],
        )
    )
    click.echo(
        _("SHA-256 of the archive: %(sha256)s (recorded in the audit log)", sha256=summary.sha256)
    )
    click.echo(
        _(
            "The issuer keys in it are encrypted: restoring needs the same key-encryption "
            "secret (fingerprint %(fingerprint)s), which is not in the archive.",
            fingerprint=manifest["key_encryption_secret_fingerprint"] or _("unknown"),
        ),
        err=True,
    )


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--check", is_flag=True, help="Only verify the archive (every SHA-256); change nothing."
)
@click.option(
    "--sha256",
    "expected_sha256",
    metavar="HEX",
    help="The archive's SHA-256 as `credfolio backup` printed it: refuse any other file.",
)
@_QUIET
@with_appcontext
def restore_command(file: Path, check: bool, expected_sha256: str | None, quiet: bool) -> None:
    """Restore the archive FILE into this instance's EMPTY database and evidence store.

    The whole archive is verified before anything is written; the rows go in in one
    transaction; the database is then upgraded to this version's schema.  Exit codes: 0 done,
    1 failed (the database is left as it was), 3 the archive is damaged or tampered with,
    4 the database is not empty, 5 the archive needs a newer Credfolio, another
    key-encryption secret or another issuer DID (public URL).
    """
    try:
        if expected_sha256:
            check_file_sha256(file, expected_sha256)
        with _progress(quiet) as report:
            if check:
                manifest = verify_archive(file, progress=report)
            else:
                summary = restore_backup(
                    file,
                    # The app itself, not the proxy (the migrations need it); the proxy's
                    # type does not show this method.
                    app=current_app._get_current_object(),  # type: ignore[attr-defined]
                    engine=db.engine,
                    storage=storage(),
                    key_encryption_fingerprint=_key_fingerprint(),
                    issuer_did=current_app.extensions["credfolio"].issuer_did,
                    progress=report,
                )
    except BackupError as error:
        raise BackupCommandError(error) from None
    if check:
        rows = sum(table["rows"] for table in manifest.tables)
        click.echo(
            _(
                "%(file)s is intact: %(tables)d tables, %(rows)d rows, %(blobs)d evidence "
                "files, made %(made)s at database revision %(revision)s.",
                file=file,
                tables=len(manifest.tables),
                rows=rows,
                blobs=len(manifest.blobs),
                made=manifest.data["created_at"],
                revision=manifest.revision,
            )
        )
        return
    _audit(
        "backup_restored",
        file.name,
        created_at=summary.manifest.data["created_at"],
        source=summary.manifest.data.get("source", {}).get("dialect", "unknown"),
        revision=summary.revision,
        upgraded_to=summary.upgraded_to or summary.revision,
        rows=summary.rows,
        blobs=summary.blobs,
    )
    if summary.upgraded_to:
        click.echo(
            _(
                "Restored %(file)s: %(rows)d rows and %(blobs)d evidence files at database "
                "revision %(revision)s, then upgraded to %(upgraded)s.",
                file=file,
                rows=summary.rows,
                blobs=summary.blobs,
                revision=summary.revision,
                upgraded=summary.upgraded_to,
            )
        )
    else:
        click.echo(
            _(
                "Restored %(file)s: %(rows)d rows and %(blobs)d evidence files at database "
                "revision %(revision)s.",
                file=file,
                rows=summary.rows,
                blobs=summary.blobs,
                revision=summary.revision,
            )
        )
