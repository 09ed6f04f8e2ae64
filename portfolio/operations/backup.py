"""Creating a backup of a whole instance: the database (issuer keys included, still encrypted)
and the evidence store in one archive (the format: :mod:`portfolio.operations.archive`).

Consistency: every table is read in one read-only snapshot transaction (PostgreSQL: REPEATABLE
READ READ ONLY; SQLite: one read transaction, which WAL keeps stable while writers go on).  Blobs
are content-addressed and never change, so copying those the snapshot references after the
snapshot is consistent too.  Secret keys are copied as the database holds them, encrypted: the
key-encryption secret is not in the archive and is never used here (docs/backup.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import IO, Any

from alembic.migration import MigrationContext
from sqlalchemy import (
    Connection,
    Table,
    func,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from portfolio.core.i18n import lazy_gettext as _l
from portfolio.files.storage import BlobNotFoundError, BlobStorage
from portfolio.operations.archive import (
    BLOB_TABLE,
    CHUNK,
    COMPRESSIONS,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ArchiveError,
    BackupError,
    OutputExistsError,
    Progress,
    RowCounter,
    encode_value,
    is_json_column,
    no_progress,
    reflect,
)


@dataclass
class TableDump:
    name: str
    columns: list[str]
    rows: int
    member: str
    sha256: str
    size: int
    path: Path


@dataclass
class BackupSummary:
    """What :func:`create_backup` wrote."""

    path: Path
    manifest: dict[str, Any]
    #: SHA-256 of the whole archive file: kept apart from it, it proves the archive unchanged.
    sha256: str = ""

    @property
    def rows(self) -> int:
        return sum(table["rows"] for table in self.manifest["tables"])

    @property
    def blobs(self) -> int:
        return sum(1 for m in self.manifest["members"] if m["name"].startswith("blobs/"))


def credfolio_version() -> str:
    """The installed Credfolio distribution's version (``unknown`` when not installed)."""
    try:
        return importlib_metadata.version("credfolio")
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


@contextlib.contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection inside one read-only snapshot transaction, rolled back at the end.

    PostgreSQL: REPEATABLE READ READ ONLY — every statement sees the database as of the first
    one.  SQLite: an explicit (deferred) BEGIN, made a read transaction by its first SELECT;
    in WAL mode (portfolio/core/db.py) writers go on meanwhile and the reader keeps its snapshot.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            connection.execute(text("SELECT 1"))
        elif connection.dialect.name == "sqlite":
            # pysqlite never begins a transaction for reads by itself: begin one, then read.
            connection.exec_driver_sql("BEGIN")
            connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").all()
        try:
            yield connection
        finally:
            connection.rollback()


def create_backup(
    destination: Path,
    *,
    engine: Engine,
    storage: BlobStorage,
    key_encryption_fingerprint: str | None = None,
    issuer_did: str | None = None,
    compression: str = "gz",
    force: bool = False,
    progress: Progress | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackupSummary:
    """Write a backup of the database behind ``engine`` and of ``storage`` to ``destination``.

    The file appears only once complete (a temporary file in the same folder, fsync, rename)
    and is readable by its owner only.  ``key_encryption_fingerprint`` (not secret) is recorded
    so that a restore can tell whether it is configured with the secret the keys need, and
    ``issuer_did`` (the service's own issuer) so that it can tell whether it is configured as
    the same issuer.

    Raises :class:`OutputExistsError` when ``destination`` exists and ``force`` is false, and
    :class:`BackupError` when the database cannot be read, it was not made by the migrations,
    or a blob it references is missing from the storage or does not match its SHA-256; nothing
    is written then.
    """
    report = progress or no_progress
    destination = _check_destination(destination, compression, force)
    folder = destination.parent

    created = now()
    try:
        staging_folder = tempfile.TemporaryDirectory(prefix=".credfolio-backup-", dir=folder)
    except OSError as exc:
        raise BackupError(
            _l("cannot write in %(folder)s: %(reason)s", folder=folder, reason=exc.strerror)
        ) from None
    with staging_folder as staging:
        revision, dialect, dumps, blobs = _dump_snapshot(engine, Path(staging), report)
        blobs.sort()
        members = [{"name": d.member, "sha256": d.sha256, "size": d.size} for d in dumps]
        members += [{"name": f"blobs/{sha}", "sha256": sha, "size": size} for sha, size in blobs]
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": created.astimezone(UTC).isoformat(),
            "credfolio_version": credfolio_version(),
            "alembic_revision": revision,
            "source": {"dialect": dialect, "storage": type(storage).__name__},
            "key_encryption_secret_fingerprint": key_encryption_fingerprint,
            "issuer_did": issuer_did,
            "tables": [{"name": d.name, "rows": d.rows, "columns": d.columns} for d in dumps],
            "members": members,
        }
        manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
        hashing = _write_archive(
            destination, compression, manifest_bytes, dumps, blobs, storage, created, report
        )
    _fsync_directory(folder)
    return BackupSummary(path=destination, manifest=manifest, sha256=hashing.digest.hexdigest())


def _check_destination(destination: Path, compression: str, force: bool) -> Path:
    """``destination`` as a path, once the compression and the place to write are checked."""
    if compression not in COMPRESSIONS:
        raise BackupError(
            _l("unknown compression %(compression)r (none, gz or xz)", compression=compression)
        )
    destination = Path(destination)
    if destination.exists() and not force:
        raise OutputExistsError(
            _l("%(destination)s exists; give --force to replace it", destination=destination)
        )
    if destination.is_dir():
        raise BackupError(_l("%(destination)s is a directory", destination=destination))
    folder = destination.parent
    try:
        # A new folder for the archives is made, private to the service's user, before any work.
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(
            _l("cannot make the folder %(folder)s: %(reason)s", folder=folder, reason=exc.strerror)
        ) from None
    return destination


def _dump_snapshot(
    engine: Engine, staging: Path, report: Progress
) -> tuple[str, str, list[TableDump], list[tuple[str, int]]]:
    """Dump every table from one snapshot into ``staging``: the Alembic revision, the dialect's
    name, the table dumps and the (SHA-256, size) of every blob the snapshot lists."""
    blobs: list[tuple[str, int]] = []
    dumps: list[TableDump] = []
    try:
        with snapshot(engine) as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            if revision is None:
                raise BackupError(
                    _l(
                        "the database has no Alembic revision (it was not made by the "
                        "migrations); run `credfolio db upgrade` first"
                    )
                )
            tables = reflect(connection)
            # Counted in the same snapshot, so the figures are those the dump will reach.
            counter = RowCounter(
                report,
                sum(
                    connection.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in tables
                ),
            )
            report("tables", 0, len(tables))
            counter.start()
            for number, table in enumerate(tables, start=1):
                dumps.append(_dump_table(connection, table, staging, blobs, counter))
                report("tables", number, len(tables))
            dialect = connection.dialect.name
    except SQLAlchemyError as exc:
        raise BackupError(
            _l(
                "cannot read the database: %(kind)s: %(error)s",
                kind=exc.__class__.__name__,
                error=exc,
            )
        ) from None
    return revision, dialect, dumps, blobs


def _dump_table(
    connection: Connection,
    table: Table,
    directory: Path,
    blobs: list[tuple[str, int]],
    counter: RowCounter,
) -> TableDump:
    columns = [column.name for column in table.columns]
    json_columns = {name for name in columns if is_json_column(table, name)}
    path = directory / f"{table.name}.jsonl"
    digest = hashlib.sha256()
    rows = size = 0
    # In primary-key order, for archives that compare well (a table without one is read as
    # it comes: PostgreSQL cannot order by a JSON column).
    query = select(table).order_by(*table.primary_key.columns).execution_options(yield_per=1000)
    with path.open("wb") as file:
        for row in connection.execute(query).mappings():
            encoded = {
                name: encode_value(row[name], json_column=name in json_columns) for name in columns
            }
            line = (json.dumps(encoded, sort_keys=True, separators=(",", ":")) + "\n").encode(
                "utf-8"
            )
            file.write(line)
            digest.update(line)
            rows += 1
            size += len(line)
            counter.add(1)
            if table.name == BLOB_TABLE:
                blobs.append((str(row["sha256"]), int(row["size"])))
    return TableDump(
        name=table.name,
        columns=columns,
        rows=rows,
        member=f"tables/{table.name}.jsonl",
        sha256=digest.hexdigest(),
        size=size,
        path=path,
    )


def _tar_info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o600
    info.uname = info.gname = ""
    return info


def _write_archive(
    destination: Path,
    compression: str,
    manifest_bytes: bytes,
    dumps: list[TableDump],
    blobs: list[tuple[str, int]],
    storage: BlobStorage,
    created: datetime,
    report: Progress,
) -> _HashingWriter:
    """Write the archive to a temporary file beside ``destination``, fsync it and rename it
    into place (removed on any failure); returns the writer holding the file's hash."""
    folder = destination.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{destination.name}.", dir=folder)
    try:
        os.chmod(temporary, 0o600)
        with os.fdopen(fd, "wb") as raw:
            mode = COMPRESSIONS[compression]
            hashing = _HashingWriter(raw)
            with tarfile.open(fileobj=hashing, mode=mode, format=tarfile.PAX_FORMAT) as tar:
                mtime = created.timestamp()
                tar.addfile(
                    _tar_info(MANIFEST, len(manifest_bytes), mtime), io.BytesIO(manifest_bytes)
                )
                for dump in dumps:
                    with dump.path.open("rb") as file:
                        tar.addfile(_tar_info(dump.member, dump.size, mtime), file)
                report("blobs", 0, len(blobs))
                for number, (sha256, size) in enumerate(blobs, start=1):
                    data = _fetch_blob(storage, sha256, size)
                    tar.addfile(_tar_info(f"blobs/{sha256}", size, mtime), io.BytesIO(data))
                    report("blobs", number, len(blobs))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, destination)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise BackupError(
                _l("cannot write %(destination)s: %(error)s", destination=destination, error=exc)
            ) from None
        raise
    return hashing


class _HashingWriter(io.RawIOBase):
    """A write-only file that hashes what passes through to ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return self._target.write(data)

    def flush(self) -> None:
        self._target.flush()


def file_sha256(path: Path) -> str:
    """SHA-256 of a whole file (an archive).  Raises :class:`BackupError` if unreadable."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as file:
            while chunk := file.read(CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        raise BackupError(_l("%(path)s does not exist", path=path)) from None
    except OSError as exc:
        raise BackupError(
            _l("cannot read %(path)s: %(reason)s", path=path, reason=exc.strerror)
        ) from None
    return digest.hexdigest()


def check_file_sha256(path: Path, expected: str) -> None:
    """Raise :class:`ArchiveError` unless the file's SHA-256 is ``expected`` (hex)."""
    if file_sha256(path) != expected.strip().lower():
        raise ArchiveError(
            _l(
                "%(path)s does not have the SHA-256 recorded when it was made: it was changed or "
                "is another file",
                path=Path(path).name,
            )
        )


def _fetch_blob(storage: BlobStorage, sha256: str, size: int) -> bytes:
    try:
        data = storage.get(sha256)
    except BlobNotFoundError:
        raise BackupError(
            _l(
                "blob %(sha)s is in the database but missing from the evidence store (if files "
                "were being deleted while the backup ran, run it again)",
                sha=sha256,
            )
        ) from None
    except Exception as exc:  # OSError, botocore's errors: the store cannot be read
        raise BackupError(
            _l(
                "cannot read blob %(sha)s from the evidence store: %(kind)s: %(error)s",
                sha=sha256,
                kind=exc.__class__.__name__,
                error=exc,
            )
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256 or len(data) != size:
        raise BackupError(
            _l("blob %(sha)s in the evidence store does not match its SHA-256", sha=sha256)
        )
    return data


def _fsync_directory(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform lets a directory be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
