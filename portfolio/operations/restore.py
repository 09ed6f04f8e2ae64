"""Restoring a backup archive (:mod:`portfolio.operations.archive`) into an empty instance: the
archive checked whole before anything is written, the database migrated to the archive's
revision, every row and blob put back in one transaction, then the schema upgraded to this
code's head."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import (
    Connection,
    DateTime,
    Integer,
    Table,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from portfolio.core.i18n import lazy_gettext as _l
from portfolio.files.storage import BlobStorage
from portfolio.operations.archive import (
    ALEMBIC_TABLE,
    BATCH,
    BLOB_TABLE,
    CHUNK,
    READ_ERRORS,
    ArchiveError,
    BackupError,
    IncompatibleArchiveError,
    Manifest,
    Progress,
    RowCounter,
    TargetNotEmptyError,
    decode_value,
    is_json_column,
    no_progress,
    open_archive,
    read_manifest,
    reflect,
    verify_archive,
)


@dataclass
class RestoreSummary:
    """What :func:`restore_backup` did."""

    manifest: Manifest
    rows: int
    blobs: int
    revision: str
    upgraded_to: str | None


def restore_backup(
    path: Path,
    *,
    app: Flask,
    engine: Engine,
    storage: BlobStorage,
    key_encryption_fingerprint: str | None = None,
    issuer_did: str | None = None,
    progress: Progress | None = None,
) -> RestoreSummary:
    """Restore the archive at ``path`` into the empty database behind ``engine`` and into
    ``storage``; needs ``app``'s application context (for the migrations).

    Order: the manifest is read (a newer format or revision, another key-encryption secret is
    refused); the database must be empty; the whole archive is verified (nothing is written
    before); the database is migrated to the archive's Alembic revision; every row is inserted in
    foreign-key order in one transaction, the blobs are written (each hash checked again) and
    PostgreSQL's sequences reset before that transaction commits; then the database is upgraded
    to this code's head revision when the archive is older.

    Raises :class:`ArchiveError`, :class:`IncompatibleArchiveError` (newer format, unknown
    revision, or keys encrypted with another key-encryption secret than
    ``key_encryption_fingerprint``, or another service issuer than ``issuer_did``),
    :class:`TargetNotEmptyError` — all before anything is
    written — or :class:`BackupError` when the restore itself fails (the database transaction
    is rolled back).
    """
    report = progress or no_progress
    path = Path(path)
    # The manifest alone first (quick): an archive this instance cannot take, or a database
    # that is not empty, is refused before the whole archive is read.
    with open_archive(path, to_the_end=False) as tar:
        try:
            manifest = read_manifest(tar, path.name)
        except READ_ERRORS as exc:
            raise ArchiveError(
                _l("%(path)s is damaged or truncated (%(error)s)", path=path.name, error=exc)
            ) from None
    script = _script(app)
    _check_known_revision(script, manifest, path.name)
    _check_same_secret_and_issuer(manifest, path.name, key_encryption_fingerprint, issuer_did)
    _check_target_empty(engine)
    manifest = verify_archive(path, progress=report)
    try:
        _bring_to(app, engine, manifest.revision)
    except Exception as exc:
        raise BackupError(
            _l(
                "cannot migrate the target database to %(revision)s: %(error)s",
                revision=manifest.revision,
                error=exc,
            )
        ) from None

    total_rows = _insert_and_store(path, manifest, engine, storage, report)

    upgraded_to = _upgrade_to_head(script, manifest.revision)
    return RestoreSummary(
        manifest=manifest,
        rows=total_rows,
        blobs=len(manifest.blobs),
        revision=manifest.revision,
        upgraded_to=upgraded_to,
    )


def _check_known_revision(script: ScriptDirectory, manifest: Manifest, name: str) -> None:
    """Refuse an archive made at an Alembic revision this code does not have."""
    try:
        known = script.get_revision(manifest.revision)
    except Exception:  # alembic raises several kinds for an unknown or ambiguous revision
        known = None
    # Exactly a revision id: not a symbolic name such as "heads" or a prefix.
    if known is None or known.revision != manifest.revision:
        raise IncompatibleArchiveError(
            _l(
                "%(name)s was made at database revision %(revision)s, which this Credfolio does "
                "not know: restore it with the Credfolio version that made it (%(version)s) or a "
                "newer one",
                name=name,
                revision=manifest.revision,
                version=manifest.data.get("credfolio_version", "unknown"),
            )
        ) from None


def _check_same_secret_and_issuer(
    manifest: Manifest,
    name: str,
    key_encryption_fingerprint: str | None,
    issuer_did: str | None,
) -> None:
    """Refuse an archive whose keys need another key-encryption secret, or made by another
    service issuer, than this instance is configured with."""
    recorded = manifest.data.get("key_encryption_secret_fingerprint")
    has_keys = any(t["name"] == "issuer_keys" and t["rows"] for t in manifest.tables)
    if (
        has_keys
        and recorded
        and key_encryption_fingerprint
        and recorded != key_encryption_fingerprint
    ):
        raise IncompatibleArchiveError(
            _l(
                "the issuer keys in %(name)s are encrypted with the key-encryption secret whose "
                "fingerprint is %(recorded)s, but this instance is configured with "
                "%(configured)s: set CREDFOLIO_KEY_ENCRYPTION_SECRET (or _FILE) "
                "to the original secret, kept apart from the backups",
                name=name,
                recorded=recorded,
                configured=key_encryption_fingerprint,
            )
        )
    source_did = manifest.data.get("issuer_did")
    if source_did and issuer_did and source_did != issuer_did:
        # The service's did:web is in every credential it issued (and resolves from its host
        # name): restored under another one, nothing would verify and issuing would fail.
        raise IncompatibleArchiveError(
            _l(
                "the archive's issuer is %(source_did)s, but this instance is configured as "
                "%(issuer_did)s: set CREDFOLIO_PUBLIC_URL (or CREDFOLIO_ISSUER_DID) as on the "
                "instance that made the backup",
                source_did=source_did,
                issuer_did=issuer_did,
            )
        )


def _check_target_empty(engine: Engine) -> None:
    """Refuse a target database that holds rows, or tables the migrations did not make."""
    try:
        with engine.connect() as connection:
            names = _table_names(connection)
            busy = _non_empty(connection, names)
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise BackupError(_l("cannot read the target database: %(error)s", error=exc)) from None
    if busy:
        shown = ", ".join(busy[:5]) + (" ..." if len(busy) > 5 else "")
        raise TargetNotEmptyError(
            _l(
                "the target database is not empty (rows in %(shown)s); restore into an empty "
                "database (create a new one, or drop this one's tables first)",
                shown=shown,
            )
        )
    if names and current is None:
        raise TargetNotEmptyError(
            _l(
                "the target database has tables but no Alembic revision (not made by the "
                "migrations); restore into an empty database"
            )
        )


def _upgrade_to_head(script: ScriptDirectory, revision: str) -> str | None:
    """Upgrade the restored database from the archive's ``revision`` to this code's head; the
    head upgraded to, or None when the archive was already at it."""
    from flask_migrate import upgrade

    head = script.get_current_head()
    if head is None or head == revision:
        return None
    try:
        upgrade()
    except Exception as exc:
        raise BackupError(
            _l(
                "the data is restored at revision %(revision)s, but upgrading to %(head)s failed "
                "(%(error)s); run `credfolio db upgrade`",
                revision=revision,
                head=head,
                error=exc,
            )
        ) from None
    return head


def _script(app: Flask) -> ScriptDirectory:
    migrate = app.extensions["migrate"]
    return ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))


def non_empty_tables(engine: Engine) -> list[str]:
    """The database's tables (Alembic's left out) that hold at least one row."""
    with engine.connect() as connection:
        return _non_empty(connection, _table_names(connection))


def _table_names(connection: Connection) -> list[str]:
    return [n for n in inspect(connection).get_table_names() if n != ALEMBIC_TABLE]


def _non_empty(connection: Connection, names: Iterable[str]) -> list[str]:
    quote = connection.dialect.identifier_preparer.quote
    return [
        name
        for name in names
        # The name comes from the database's own catalogue, quoted as an identifier.
        if connection.execute(text(f"SELECT 1 FROM {quote(name)} LIMIT 1")).first()  # noqa: S608
    ]


def _bring_to(app: Flask, engine: Engine, revision: str) -> None:
    """Migrate the (empty) database to ``revision``: up from an older one, down from a newer."""
    from flask_migrate import downgrade, upgrade

    script = _script(app)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == revision:
        return
    if current is not None:
        ancestors = {r.revision for r in script.walk_revisions(base="base", head=current)}
        if revision in ancestors:
            downgrade(revision=revision)
            return
    upgrade(revision=revision)


def _insert_and_store(
    path: Path, manifest: Manifest, engine: Engine, storage: BlobStorage, report: Progress
) -> int:
    """The second pass over the archive, in one database transaction: rows, blobs, sequences.

    Every member is hashed again as it is read (the file could have changed since it was
    verified): a mismatch rolls the transaction back.
    """
    counter = RowCounter(report, sum(t["rows"] for t in manifest.tables))
    with engine.connect() as connection, contextlib.ExitStack() as spools:
        try:
            with connection.begin():
                targets = reflect(connection)
                by_name = {table.name: table for table in targets}
                _check_restore_targets(connection, path, manifest, by_name)
                target = _RestoreTarget(connection, targets, by_name, counter, report)
                total_rows = _restore_members(path, manifest, target, storage, spools)
                _check_restored(connection, path, manifest, by_name)
                reset_sequences(connection, targets)
        except BackupError:
            raise
        except READ_ERRORS as exc:
            raise ArchiveError(
                _l("%(path)s could not be read again: %(error)s", path=path.name, error=exc)
            ) from None
        except (ValueError, TypeError, KeyError) as exc:
            raise ArchiveError(
                _l(
                    "%(path)s holds a row that cannot be restored: %(error)s",
                    path=path.name,
                    error=exc,
                )
            ) from None
        except SQLAlchemyError as exc:
            raise BackupError(
                _l(
                    "the database refused the restored rows (nothing was kept): %(error)s",
                    error=exc,
                )
            ) from None
        except Exception as exc:  # e.g. the evidence store cannot be written
            raise BackupError(
                _l(
                    "the restore failed and the database was rolled back: %(kind)s: %(error)s",
                    kind=exc.__class__.__name__,
                    error=exc,
                )
            ) from None
    return total_rows


@dataclass
class _RestoreTarget:
    """Where :func:`_restore_members` inserts rows: the restore's connection (inside its
    transaction), the reflected target tables, and the progress reporting."""

    connection: Connection
    tables: list[Table]
    by_name: dict[str, Table]
    counter: RowCounter
    report: Progress


def _check_restore_targets(
    connection: Connection, path: Path, manifest: Manifest, by_name: dict[str, Table]
) -> None:
    """Refuse a target written to since it was checked, or one lacking a table or column of
    the archive at its revision."""
    if busy := _non_empty(connection, by_name):
        raise TargetNotEmptyError(
            _l("the target database was written to meanwhile (%(busy)s)", busy=", ".join(busy))
        )
    for entry in manifest.tables:
        if entry["name"] not in by_name:
            raise ArchiveError(
                _l(
                    "%(path)s: table %(table)s does not exist at revision %(revision)s",
                    path=path.name,
                    table=entry["name"],
                    revision=manifest.revision,
                )
            )
        unknown = set(entry["columns"]) - set(by_name[entry["name"]].c.keys())
        if unknown:
            raise ArchiveError(
                _l(
                    "%(path)s: table %(table)s has columns unknown at revision %(revision)s: "
                    "%(columns)s",
                    path=path.name,
                    table=entry["name"],
                    revision=manifest.revision,
                    columns=", ".join(sorted(unknown)),
                )
            )


def _restore_members(
    path: Path,
    manifest: Manifest,
    target: _RestoreTarget,
    storage: BlobStorage,
    spools: contextlib.ExitStack,
) -> int:
    """Read the archive again, inserting every table's rows and storing every blob; returns
    the number of rows inserted.

    The archive lists its tables in the source's foreign-key order, which is the target's at
    the same revision; should it differ, tables are spooled to temporary files (closed with
    ``spools``) and inserted in the target's order once all are read.
    """
    members = {f"tables/{t['name']}.jsonl": t for t in manifest.tables}
    listed = {e["name"] for e in manifest.tables}
    order = [t.name for t in target.tables if t.name in listed]
    direct = order == [entry["name"] for entry in manifest.tables]
    spooled: dict[str, IO[bytes]] = {}
    total_rows = tables_done = blobs_done = 0
    target.report("tables", 0, len(manifest.tables))
    target.counter.start()
    with open_archive(path) as tar:
        again = read_manifest(tar, path.name)
        for member in tar:
            if member is again.info:
                continue
            expected = manifest.members.get(member.name)
            stream = tar.extractfile(member) if member.isfile() else None
            if expected is None or stream is None:
                raise ArchiveError(_l("%(path)s changed while it was restored", path=path.name))
            reader = _HashingReader(stream)
            if member.name in members:
                entry = members[member.name]
                if direct:
                    total_rows += _insert_member(target, entry, reader)
                    tables_done += 1
                    target.report("tables", tables_done, len(manifest.tables))
                else:
                    spooled[entry["name"]] = _spool(reader, spools)
                _check_member(path, reader, expected)
                continue
            if spooled:
                total_rows += _insert_spooled(target, order, spooled, members, manifest)
            _restore_blob(
                path, storage, reader, expected, member.name, blobs_done, manifest, target.report
            )
            blobs_done += 1
    if spooled:
        total_rows += _insert_spooled(target, order, spooled, members, manifest)
    return total_rows


def _insert_member(target: _RestoreTarget, entry: dict[str, Any], reader: _HashingReader) -> int:
    """Insert a table's rows straight from its archive member."""
    buffered = io.BufferedReader(reader, CHUNK)
    table = target.by_name[entry["name"]]
    return _insert(target.connection, table, entry["columns"], buffered, target.counter)


def _spool(reader: _HashingReader, spools: contextlib.ExitStack) -> IO[bytes]:
    """Copy a table's member to a temporary file (closed by ``spools``), to be inserted later."""
    spool = spools.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (closed by spools)
    while chunk := reader.read(CHUNK):
        spool.write(chunk)
    return spool


def _insert_spooled(
    target: _RestoreTarget,
    order: list[str],
    spooled: dict[str, IO[bytes]],
    members: dict[str, dict[str, Any]],
    manifest: Manifest,
) -> int:
    """Insert the spooled tables in the target's foreign-key order, then forget them."""
    count = 0
    for name in order:
        if name in spooled:
            spooled[name].seek(0)
            entry = members[f"tables/{name}.jsonl"]
            count += _insert(
                target.connection,
                target.by_name[name],
                entry["columns"],
                spooled[name],
                target.counter,
            )
    spooled.clear()
    target.report("tables", len(manifest.tables), len(manifest.tables))
    return count


def _restore_blob(
    path: Path,
    storage: BlobStorage,
    reader: _HashingReader,
    expected: dict[str, Any],
    member_name: str,
    blobs_done: int,
    manifest: Manifest,
    report: Progress,
) -> None:
    """Check a blob member's hash again and write it to the store (the ``blobs`` phase)."""
    blob_count = len(manifest.blobs)
    data = reader.read_all()
    _check_member(path, reader, expected)
    if blobs_done == 0:
        report("blobs", 0, blob_count)
    _store_blob(storage, member_name.removeprefix("blobs/"), data)
    report("blobs", blobs_done + 1, blob_count)


def _check_restored(
    connection: Connection, path: Path, manifest: Manifest, by_name: dict[str, Table]
) -> None:
    """Refuse a restore whose blobs table and blob members differ, or (SQLite, which does not
    enforce them as rows go in) whose rows break a foreign key."""
    if BLOB_TABLE in by_name:
        listed = set(connection.execute(select(by_name[BLOB_TABLE].c.sha256)).scalars())
        if listed != set(manifest.blobs):
            raise ArchiveError(
                _l(
                    "%(path)s: the blobs table and the blob members differ (%(blobs)s files)",
                    path=path.name,
                    blobs=len(listed ^ set(manifest.blobs)),
                )
            )
    if connection.dialect.name == "sqlite":
        # SQLite does not enforce foreign keys as rows go in: check them all now.
        dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if dangling:
            raise ArchiveError(
                _l(
                    "%(path)s: %(dangling)s rows refer to rows that are not in the archive "
                    "(first in table %(table)s)",
                    path=path.name,
                    dangling=len(dangling),
                    table=dangling[0][0],
                )
            )


def _store_blob(storage: BlobStorage, sha256: str, data: bytes) -> None:
    try:
        storage.put(sha256, data)  # checks the SHA-256 once more
    except ValueError:
        raise ArchiveError(_l("blob %(sha)s does not match its SHA-256", sha=sha256)) from None
    except Exception as exc:  # OSError, botocore's errors: the store cannot be written
        missing_bucket = "NoSuchBucket" in str(getattr(exc, "response", {}).get("Error", {}))
        if missing_bucket:
            message = _l(
                "cannot write blob %(sha)s to the evidence store (the database was rolled back): "
                "%(kind)s: %(error)s; the bucket does not exist: run `credfolio storage init` "
                "first (docs/deploy.md)",
                sha=sha256,
                kind=exc.__class__.__name__,
                error=exc,
            )
        else:
            message = _l(
                "cannot write blob %(sha)s to the evidence store (the database was rolled back): "
                "%(kind)s: %(error)s; `credfolio storage init` checks the store and names what "
                "it lacks",
                sha=sha256,
                kind=exc.__class__.__name__,
                error=exc,
            )
        raise BackupError(message) from None


def _check_member(path: Path, reader: _HashingReader, expected: dict[str, Any]) -> None:
    sha256, size = reader.drain()
    if sha256 != expected["sha256"] or size != expected["size"]:
        raise ArchiveError(_l("%(path)s changed while it was restored", path=path.name))


class _HashingReader(io.RawIOBase):
    """Reads a member through, hashing and counting what passes."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def close(self) -> None:
        # Never closed by the text and buffer wrappers layered on it: it is drained (and its
        # hash checked) after they are done.
        return None

    def read_all(self) -> bytes:
        """The rest of the member (a blob: bounded by the upload limit)."""
        return b"".join(iter(lambda: self.read(CHUNK), b""))

    def drain(self) -> tuple[str, int]:
        while self.read(CHUNK):
            pass
        return self.digest.hexdigest(), self.size


def _insert(
    connection: Connection,
    table: Table,
    columns: list[str],
    stream: IO[bytes],
    counter: RowCounter,
) -> int:
    count = 0
    for batch in _batches(_rows(stream, table, columns)):
        connection.execute(table.insert(), batch)
        count += len(batch)
        counter.add(len(batch))
    return count


def _rows(stream: IO[bytes], table: Table, columns: list[str]) -> Iterator[dict[str, Any]]:
    decoders = []
    for name in columns:
        column = table.c[name]
        timezone = isinstance(column.type, DateTime) and bool(column.type.timezone)
        decoders.append((name, timezone, is_json_column(table, name)))
    for line in io.TextIOWrapper(stream, encoding="utf-8", newline="\n"):
        encoded = json.loads(line)
        if not isinstance(encoded, dict) or set(encoded) != set(columns):
            raise ValueError("a row does not have the table's columns")
        row = {}
        for name, timezone, is_json in decoders:
            value = decode_value(encoded[name], timezone=timezone)
            if not is_json and isinstance(encoded[name], dict) and "$json" in encoded[name]:
                value = json.dumps(value)  # a JSON column that has become text
            row[name] = value
        yield row


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def reset_sequences(connection: Connection, tables: Iterable[Table]) -> None:
    """PostgreSQL: move every serial/identity sequence past the largest restored value (rows
    were inserted with their ids, which does not advance the sequences)."""
    if connection.dialect.name != "postgresql":
        return
    quote = connection.dialect.identifier_preparer.quote
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": quote(table.name), "column": column.name},
            ).scalar()
            if sequence is None:
                continue
            largest = connection.execute(select(func.max(table.c[column.name]))).scalar()
            # setval(seq, n, false): the next value is n; an empty table starts again at 1.
            connection.execute(
                text("SELECT setval(CAST(:sequence AS regclass), :next, false)"),
                {"sequence": sequence, "next": (largest or 0) + 1},
            )
