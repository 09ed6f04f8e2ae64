"""Backups of a whole instance: the database (issuer keys included, still encrypted) and the
evidence store in one archive, and the restore of such an archive into an empty instance.

The archive is a tar file (optionally gzip or xz compressed) holding ``manifest.json`` first,
then every table as JSON Lines (``tables/<name>.jsonl``, a type-preserving encoding) and every
stored blob under its SHA-256 (``blobs/<sha256>``).  The manifest records the format version,
the creation time, the Credfolio version, the Alembic revision, the row count of every table and
the SHA-256 and size of every member.  Tables are read through SQLAlchemy (reflected metadata),
never with a dialect's own dump, so an archive made on SQLite restores into PostgreSQL and back.

Consistency: every table is read in one read-only snapshot transaction (PostgreSQL: REPEATABLE
READ READ ONLY; SQLite: one read transaction, which WAL keeps stable while writers go on).  Blobs
are content-addressed and never change, so copying those the snapshot references after the
snapshot is consistent too.  Secret keys are copied as the database holds them, encrypted: the
key-encryption secret is not in the archive and is never used here (docs/backup.md).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import io
import json
import lzma
import math
import os
import re
import tarfile
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import IO, Any, Literal

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Integer,
    MetaData,
    Table,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from portfolio.files.storage import BlobNotFoundError, BlobStorage

FORMAT = "credfolio-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: The table holding one row per stored blob (``portfolio.files.models.Blob``).
BLOB_TABLE = "blobs"
ALEMBIC_TABLE = "alembic_version"
#: Compression of the archive, by option name: tarfile's stream mode for writing.
COMPRESSIONS: dict[str, Literal["w|", "w|gz", "w|xz"]] = {"none": "w|", "gz": "w|gz", "xz": "w|xz"}

# A manifest larger than this is not ours: refuse it before parsing (a hostile archive).
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_BLOB_MEMBER = re.compile(r"blobs/([0-9a-f]{64})")
_TABLE_MEMBER = re.compile(r"tables/([a-z_][a-z0-9_]{0,62})\.jsonl")
_BATCH = 500
#: What reading a damaged or truncated (compressed) tar stream raises.
_READ_ERRORS = (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error)
_CHUNK = 1024 * 1024

#: ``progress(phase, done, total)``: phases ``tables``, ``rows`` and ``blobs`` (backup),
#: ``verify``, ``tables``, ``rows`` and ``blobs`` (restore).  Called with ``done == 0`` when a
#: phase starts.
Progress = Callable[[str, int, int], None]


def _no_progress(_phase: str, _done: int, _total: int) -> None:
    return None


# -- errors: one type, a stable exit code per kind (docs/backup.md, "Exit codes") --------------


class BackupError(Exception):
    """A backup or restore that cannot go on; ``message`` is safe to show."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OutputExistsError(BackupError):
    """The backup file exists and ``force`` was not given."""

    exit_code = 4


class ArchiveError(BackupError):
    """The archive is damaged, truncated, tampered with or not a Credfolio backup."""

    exit_code = 3


class TargetNotEmptyError(BackupError):
    """The database to restore into already holds data."""

    exit_code = 4


class IncompatibleArchiveError(BackupError):
    """A newer archive format or Alembic revision than this Credfolio knows, or the archive's
    keys were encrypted with another key-encryption secret than the one configured."""

    exit_code = 5


# -- the type-preserving row encoding ----------------------------------------------------------


def encode_value(value: Any, *, json_column: bool = False) -> Any:
    """A database value as JSON: plain for ``None``, booleans, integers, finite floats and
    strings; otherwise a one-member object naming the type (``{"$datetime": "..."}``).

    A JSON column's value is always wrapped as ``{"$json": value}``, so that JSON data can never
    be mistaken for a tagged value.  Raises ``TypeError`` for a type it cannot represent.
    """
    if value is None:
        return None
    if json_column:
        return {"$json": value}
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, datetime):
        # Aware datetimes in UTC; naive ones (SQLite returns UTC as naive) as they are.
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


def decode_value(encoded: Any, *, timezone: bool = False) -> Any:
    """The inverse of :func:`encode_value`.  ``timezone``: the target column keeps time zones
    (a naive datetime is then UTC, as the service always stores it).  Raises ``ValueError``."""
    if not isinstance(encoded, dict):
        if isinstance(encoded, list):
            raise ValueError("a list outside a JSON column")
        return encoded
    if len(encoded) != 1:
        raise ValueError("a tagged value has exactly one member")
    ((tag, payload),) = encoded.items()
    if tag == "$json":
        return payload
    if tag == "$datetime":
        moment = datetime.fromisoformat(_text(payload))
        if timezone and moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        if not timezone and moment.tzinfo is not None:
            return moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    if tag == "$date":
        return date.fromisoformat(_text(payload))
    if tag == "$time":
        return time.fromisoformat(_text(payload))
    if tag == "$timedelta":
        days, seconds, microseconds = payload
        return timedelta(days=days, seconds=seconds, microseconds=microseconds)
    if tag == "$bytes":
        return base64.b64decode(_text(payload), validate=True)
    if tag == "$decimal":
        return Decimal(_text(payload))
    if tag == "$float":
        return float(_text(payload))
    if tag == "$uuid":
        return uuid.UUID(_text(payload))
    raise ValueError(f"unknown value tag {tag!r}")


def _text(payload: Any) -> str:
    if not isinstance(payload, str):
        raise ValueError("a tagged value's payload must be a string")
    return payload


def _is_json(table: Table, name: str) -> bool:
    return isinstance(table.c[name].type, JSON)


# -- reading the source ------------------------------------------------------------------------


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


def reflect(connection: Connection) -> list[Table]:
    """The database's own tables in foreign-key order (Alembic's bookkeeping table left out)."""
    tables = MetaData()
    tables.reflect(bind=connection)
    return [table for table in tables.sorted_tables if table.name != ALEMBIC_TABLE]


@dataclass
class _RowCounter:
    """The ``rows`` progress phase: reported every ``_BATCH`` rows, not on each one."""

    report: Progress
    total: int
    done: int = 0

    def start(self) -> None:
        self.report("rows", 0, self.total)

    def add(self, count: int) -> None:
        before, self.done = self.done, self.done + count
        if self.done // _BATCH != before // _BATCH or self.done >= self.total:
            self.report("rows", self.done, max(self.total, self.done))


def _dump_table(
    connection: Connection,
    table: Table,
    directory: Path,
    blobs: list[tuple[str, int]],
    counter: _RowCounter,
) -> TableDump:
    columns = [column.name for column in table.columns]
    json_columns = {name for name in columns if _is_json(table, name)}
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
    report = progress or _no_progress
    destination = _check_destination(destination, compression, force)
    folder = destination.parent

    created = now()
    try:
        staging_folder = tempfile.TemporaryDirectory(prefix=".credfolio-backup-", dir=folder)
    except OSError as exc:
        raise BackupError(f"cannot write in {folder}: {exc.strerror}") from None
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
        raise BackupError(f"unknown compression {compression!r} (none, gz or xz)")
    destination = Path(destination)
    if destination.exists() and not force:
        raise OutputExistsError(f"{destination} exists; give --force to replace it")
    if destination.is_dir():
        raise BackupError(f"{destination} is a directory")
    folder = destination.parent
    if not folder.is_dir():
        raise BackupError(f"the folder {folder} does not exist")
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
                    "the database has no Alembic revision (it was not made by the "
                    "migrations); run `credfolio db upgrade` first"
                )
            tables = reflect(connection)
            # Counted in the same snapshot, so the figures are those the dump will reach.
            counter = _RowCounter(
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
        raise BackupError(f"cannot read the database: {exc.__class__.__name__}: {exc}") from None
    return revision, dialect, dumps, blobs


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
            raise BackupError(f"cannot write {destination}: {exc}") from None
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
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        raise BackupError(f"{path} does not exist") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    return digest.hexdigest()


def check_file_sha256(path: Path, expected: str) -> None:
    """Raise :class:`ArchiveError` unless the file's SHA-256 is ``expected`` (hex)."""
    if file_sha256(path) != expected.strip().lower():
        raise ArchiveError(
            f"{Path(path).name} does not have the SHA-256 recorded when it was made: it was "
            "changed or is another file"
        )


def _fetch_blob(storage: BlobStorage, sha256: str, size: int) -> bytes:
    try:
        data = storage.get(sha256)
    except BlobNotFoundError:
        raise BackupError(
            f"blob {sha256} is in the database but missing from the evidence store (if files "
            "were being deleted while the backup ran, run it again)"
        ) from None
    except Exception as exc:  # OSError, botocore's errors: the store cannot be read
        raise BackupError(
            f"cannot read blob {sha256} from the evidence store: {exc.__class__.__name__}: {exc}"
        ) from None
    if hashlib.sha256(data).hexdigest() != sha256 or len(data) != size:
        raise BackupError(f"blob {sha256} in the evidence store does not match its SHA-256")
    return data


def _fsync_directory(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform lets a directory be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- checking an archive -----------------------------------------------------------------------


@dataclass
class Manifest:
    """A checked manifest: what :func:`verify_archive` returns."""

    data: dict[str, Any]
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The manifest's own tar header (iterating a tar file yields it again: skip it).
    info: tarfile.TarInfo | None = field(default=None, repr=False)

    @property
    def revision(self) -> str:
        return str(self.data["alembic_revision"])

    @property
    def tables(self) -> list[dict[str, Any]]:
        return list(self.data["tables"])

    @property
    def blobs(self) -> list[str]:
        return [name.removeprefix("blobs/") for name in self.members if name.startswith("blobs/")]


@contextlib.contextmanager
def _open_archive(path: Path, *, to_the_end: bool = True) -> Iterator[tarfile.TarFile]:
    """The archive as a tar stream, read front to back; at the end the rest of the file is
    read too, so that a truncated gzip or xz stream (its checksum trailer) is noticed.

    The decompression is Python's gzip and lzma modules (which check the stream's CRC and
    length), not tarfile's own (which does not).
    """
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise BackupError(f"{path} does not exist") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    with contextlib.ExitStack() as stack:
        stack.enter_context(raw)
        magic = raw.read(6)
        raw.seek(0)
        stream: Any = raw
        if magic[:2] == b"\x1f\x8b":
            stream = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
        elif magic == b"\xfd7zXZ\x00":
            stream = stack.enter_context(lzma.LZMAFile(raw, mode="rb"))
        try:
            tar = stack.enter_context(tarfile.open(fileobj=stream, mode="r|"))
        except _READ_ERRORS as exc:
            raise ArchiveError(f"{path.name} is not a Credfolio backup archive ({exc})") from None
        yield tar
        if not to_the_end:
            return
        try:
            while stream.read(_CHUNK):
                pass
        except _READ_ERRORS as exc:
            raise ArchiveError(
                f"{path.name} is damaged or truncated ({exc.__class__.__name__}: {exc})"
            ) from None


def _read_manifest(tar: tarfile.TarFile, name: str) -> Manifest:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile():
        raise ArchiveError(f"{name} is not a Credfolio backup: {MANIFEST} is not its first member")
    if first.size > _MAX_MANIFEST_BYTES:
        raise ArchiveError(f"{name}: the manifest is implausibly large")
    stream = tar.extractfile(first)
    if stream is None:  # never for a regular file
        raise ArchiveError(f"{name}: the manifest cannot be read")
    try:
        data = json.loads(stream.read())
    except (ValueError, UnicodeDecodeError):
        raise ArchiveError(f"{name}: the manifest is not valid JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ArchiveError(f"{name} is not a Credfolio backup (no {FORMAT} manifest)")
    version = data.get("format_version")
    if not isinstance(version, int):
        raise ArchiveError(f"{name}: the manifest has no format version")
    if version > FORMAT_VERSION:
        raise IncompatibleArchiveError(
            f"{name} has format version {version}; this Credfolio reads up to "
            f"{FORMAT_VERSION}: upgrade Credfolio to restore it"
        )
    try:
        manifest = Manifest(data=data, members=_check_manifest(data), info=first)
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchiveError(f"{name}: the manifest is malformed ({exc})") from None
    return manifest


def _check_manifest(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    if not isinstance(data["alembic_revision"], str):
        raise ValueError("no Alembic revision")
    members: dict[str, dict[str, Any]] = {}
    for member in data["members"]:
        name, sha256, size = member["name"], member["sha256"], member["size"]
        if not isinstance(name, str) or name in members:
            raise ValueError(f"member {name!r} is listed twice or unnamed")
        if not (_TABLE_MEMBER.fullmatch(name) or _BLOB_MEMBER.fullmatch(name)):
            raise ValueError(f"unexpected member name {name!r}")
        if not (isinstance(sha256, str) and re.fullmatch(r"[0-9a-f]{64}", sha256)):
            raise ValueError(f"member {name}: no SHA-256")
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"member {name}: no size")
        blob = _BLOB_MEMBER.fullmatch(name)
        if blob and blob.group(1) != sha256:
            raise ValueError(f"blob member {name} is listed with another SHA-256")
        members[name] = {"sha256": sha256, "size": size}
    seen = set()
    for table in data["tables"]:
        table_name, rows, columns = table["name"], table["rows"], table["columns"]
        if not (isinstance(table_name, str) and _TABLE_NAME.fullmatch(table_name)):
            raise ValueError(f"unexpected table name {table_name!r}")
        if table_name in seen or f"tables/{table_name}.jsonl" not in members:
            raise ValueError(f"table {table_name} is listed twice or has no member")
        if not isinstance(rows, int) or rows < 0:
            raise ValueError(f"table {table_name}: no row count")
        if not (isinstance(columns, list) and all(isinstance(c, str) for c in columns)):
            raise ValueError(f"table {table_name}: no column list")
        seen.add(table_name)
    if len(seen) != sum(1 for name in members if name.startswith("tables/")):
        raise ValueError("a table member is not listed among the tables")
    return members


def _hash_stream(stream: IO[bytes]) -> tuple[str, int, int]:
    """SHA-256, size and number of line ends of a member's bytes."""
    digest = hashlib.sha256()
    size = lines = 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        lines += chunk.count(b"\n")
    return digest.hexdigest(), size, lines


def verify_archive(path: Path, *, progress: Progress | None = None) -> Manifest:
    """Check an archive completely without writing anything: the manifest, then every member
    against its recorded SHA-256 and size, no member missing or extra, the row count of every
    table.  Returns the manifest.

    Raises :class:`ArchiveError` (damaged, truncated or tampered with),
    :class:`IncompatibleArchiveError` (a newer format) or :class:`BackupError` (no such file).
    """
    report = progress or _no_progress
    path = Path(path)
    with _open_archive(path) as tar:
        try:
            manifest = _read_manifest(tar, path.name)
            rows = {f"tables/{t['name']}.jsonl": t["rows"] for t in manifest.tables}
            remaining = dict(manifest.members)
            total = len(remaining)
            report("verify", 0, total)
            for member in tar:
                if member is manifest.info:
                    continue
                expected = remaining.pop(member.name, None)
                if expected is None:
                    raise ArchiveError(
                        f"{path.name}: member {member.name!r} is not in the manifest "
                        "(or appears twice)"
                    )
                _verify_member(tar, member, expected, rows, path.name)
                report("verify", total - len(remaining), total)
        except _READ_ERRORS as exc:
            raise ArchiveError(
                f"{path.name} is damaged or truncated ({exc.__class__.__name__}: {exc})"
            ) from None
    if remaining:
        missing = sorted(remaining)
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise ArchiveError(
            f"{path.name} is incomplete (truncated or tampered with): missing {shown}"
        )
    return manifest


def _verify_member(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    expected: dict[str, Any],
    rows: dict[str, int],
    name: str,
) -> None:
    """Check one member against its manifest entry: a regular file of the recorded size and
    SHA-256 and, for a table, the recorded number of rows."""
    if not member.isfile():
        raise ArchiveError(f"{name}: member {member.name} is not a regular file")
    if member.size != expected["size"]:
        raise ArchiveError(
            f"{name}: member {member.name} does not match the size in the "
            "manifest (the archive is damaged or was changed)"
        )
    stream = tar.extractfile(member)
    if stream is None:  # never for a regular file
        raise ArchiveError(f"{name}: member {member.name} cannot be read")
    sha256, size, lines = _hash_stream(stream)
    if size != expected["size"] or sha256 != expected["sha256"]:
        raise ArchiveError(
            f"{name}: member {member.name} does not match the SHA-256 in the "
            "manifest (the archive is damaged or was changed)"
        )
    if member.name in rows and lines != rows[member.name]:
        raise ArchiveError(
            f"{name}: {member.name} holds {lines} rows, the manifest says {rows[member.name]}"
        )


# -- restoring ---------------------------------------------------------------------------------


@dataclass
class RestoreSummary:
    """What :func:`restore_backup` did."""

    manifest: Manifest
    rows: int
    blobs: int
    revision: str
    upgraded_to: str | None


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


def _rows(stream: IO[bytes], table: Table, columns: list[str]) -> Iterator[dict[str, Any]]:
    decoders = []
    for name in columns:
        column = table.c[name]
        timezone = isinstance(column.type, DateTime) and bool(column.type.timezone)
        decoders.append((name, timezone, _is_json(table, name)))
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
        if len(batch) >= _BATCH:
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
    report = progress or _no_progress
    path = Path(path)
    # The manifest alone first (quick): an archive this instance cannot take, or a database
    # that is not empty, is refused before the whole archive is read.
    with _open_archive(path, to_the_end=False) as tar:
        try:
            manifest = _read_manifest(tar, path.name)
        except _READ_ERRORS as exc:
            raise ArchiveError(f"{path.name} is damaged or truncated ({exc})") from None
    script = _script(app)
    _check_known_revision(script, manifest, path.name)
    _check_same_secret_and_issuer(manifest, path.name, key_encryption_fingerprint, issuer_did)
    _check_target_empty(engine)
    manifest = verify_archive(path, progress=report)
    try:
        _bring_to(app, engine, manifest.revision)
    except Exception as exc:
        raise BackupError(
            f"cannot migrate the target database to {manifest.revision}: {exc}"
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
            f"{name} was made at database revision {manifest.revision}, which this "
            "Credfolio does not know: restore it with the Credfolio version that made it "
            f"({manifest.data.get('credfolio_version', 'unknown')}) or a newer one"
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
            f"the issuer keys in {name} are encrypted with the key-encryption secret "
            f"whose fingerprint is {recorded}, but this instance is configured with "
            f"{key_encryption_fingerprint}: set CREDFOLIO_KEY_ENCRYPTION_SECRET (or _FILE) to "
            "the original secret, kept apart from the backups"
        )
    source_did = manifest.data.get("issuer_did")
    if source_did and issuer_did and source_did != issuer_did:
        # The service's did:web is in every credential it issued (and resolves from its host
        # name): restored under another one, nothing would verify and issuing would fail.
        raise IncompatibleArchiveError(
            f"the archive's issuer is {source_did}, but this instance is configured as "
            f"{issuer_did}: set CREDFOLIO_PUBLIC_URL (or CREDFOLIO_ISSUER_DID) as on the "
            "instance that made the backup"
        )


def _check_target_empty(engine: Engine) -> None:
    """Refuse a target database that holds rows, or tables the migrations did not make."""
    try:
        with engine.connect() as connection:
            names = _table_names(connection)
            busy = _non_empty(connection, names)
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise BackupError(f"cannot read the target database: {exc}") from None
    if busy:
        shown = ", ".join(busy[:5]) + (" ..." if len(busy) > 5 else "")
        raise TargetNotEmptyError(
            f"the target database is not empty (rows in {shown}); restore into an empty "
            "database (create a new one, or drop this one's tables first)"
        )
    if names and current is None:
        raise TargetNotEmptyError(
            "the target database has tables but no Alembic revision (not made by the "
            "migrations); restore into an empty database"
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
            f"the data is restored at revision {revision}, but upgrading to "
            f"{head} failed ({exc}); run `credfolio db upgrade`"
        ) from None
    return head


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
        return b"".join(iter(lambda: self.read(_CHUNK), b""))

    def drain(self) -> tuple[str, int]:
        while self.read(_CHUNK):
            pass
        return self.digest.hexdigest(), self.size


def _insert_and_store(
    path: Path, manifest: Manifest, engine: Engine, storage: BlobStorage, report: Progress
) -> int:
    """The second pass over the archive, in one database transaction: rows, blobs, sequences.

    Every member is hashed again as it is read (the file could have changed since it was
    verified): a mismatch rolls the transaction back.
    """
    counter = _RowCounter(report, sum(t["rows"] for t in manifest.tables))
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
        except _READ_ERRORS as exc:
            raise ArchiveError(f"{path.name} could not be read again: {exc}") from None
        except (ValueError, TypeError, KeyError) as exc:
            raise ArchiveError(f"{path.name} holds a row that cannot be restored: {exc}") from None
        except SQLAlchemyError as exc:
            raise BackupError(
                f"the database refused the restored rows (nothing was kept): {exc}"
            ) from None
        except Exception as exc:  # e.g. the evidence store cannot be written
            raise BackupError(
                f"the restore failed and the database was rolled back: "
                f"{exc.__class__.__name__}: {exc}"
            ) from None
    return total_rows


@dataclass
class _RestoreTarget:
    """Where :func:`_restore_members` inserts rows: the restore's connection (inside its
    transaction), the reflected target tables, and the progress reporting."""

    connection: Connection
    tables: list[Table]
    by_name: dict[str, Table]
    counter: _RowCounter
    report: Progress


def _check_restore_targets(
    connection: Connection, path: Path, manifest: Manifest, by_name: dict[str, Table]
) -> None:
    """Refuse a target written to since it was checked, or one lacking a table or column of
    the archive at its revision."""
    if busy := _non_empty(connection, by_name):
        raise TargetNotEmptyError(
            f"the target database was written to meanwhile ({', '.join(busy)})"
        )
    for entry in manifest.tables:
        if entry["name"] not in by_name:
            raise ArchiveError(
                f"{path.name}: table {entry['name']} does not exist at revision {manifest.revision}"
            )
        unknown = set(entry["columns"]) - set(by_name[entry["name"]].c.keys())
        if unknown:
            raise ArchiveError(
                f"{path.name}: table {entry['name']} has columns unknown at revision "
                f"{manifest.revision}: {', '.join(sorted(unknown))}"
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
    with _open_archive(path) as tar:
        again = _read_manifest(tar, path.name)
        for member in tar:
            if member is again.info:
                continue
            expected = manifest.members.get(member.name)
            stream = tar.extractfile(member) if member.isfile() else None
            if expected is None or stream is None:
                raise ArchiveError(f"{path.name} changed while it was restored")
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
    buffered = io.BufferedReader(reader, _CHUNK)
    table = target.by_name[entry["name"]]
    return _insert(target.connection, table, entry["columns"], buffered, target.counter)


def _spool(reader: _HashingReader, spools: contextlib.ExitStack) -> IO[bytes]:
    """Copy a table's member to a temporary file (closed by ``spools``), to be inserted later."""
    spool = spools.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (closed by spools)
    while chunk := reader.read(_CHUNK):
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
                f"{path.name}: the blobs table and the blob members differ "
                f"({len(listed ^ set(manifest.blobs))} files)"
            )
    if connection.dialect.name == "sqlite":
        # SQLite does not enforce foreign keys as rows go in: check them all now.
        dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if dangling:
            raise ArchiveError(
                f"{path.name}: {len(dangling)} rows refer to rows that are not "
                f"in the archive (first in table {dangling[0][0]})"
            )


def _store_blob(storage: BlobStorage, sha256: str, data: bytes) -> None:
    try:
        storage.put(sha256, data)  # checks the SHA-256 once more
    except ValueError:
        raise ArchiveError(f"blob {sha256} does not match its SHA-256") from None
    except Exception as exc:  # OSError, botocore's errors: the store cannot be written
        raise BackupError(
            f"cannot write blob {sha256} to the evidence store (the database was rolled "
            f"back): {exc.__class__.__name__}: {exc}"
        ) from None


def _check_member(path: Path, reader: _HashingReader, expected: dict[str, Any]) -> None:
    sha256, size = reader.drain()
    if sha256 != expected["sha256"] or size != expected["size"]:
        raise ArchiveError(f"{path.name} changed while it was restored")


def _insert(
    connection: Connection,
    table: Table,
    columns: list[str],
    stream: IO[bytes],
    counter: _RowCounter,
) -> int:
    count = 0
    for batch in _batches(_rows(stream, table, columns)):
        connection.execute(table.insert(), batch)
        count += len(batch)
        counter.add(len(batch))
    return count
