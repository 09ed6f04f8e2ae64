"""The backup archive's format: a tar file (optionally gzip or xz compressed) holding
``manifest.json`` first, then every table as JSON Lines (``tables/<name>.jsonl``, the
type-preserving encoding of :func:`encode_value`) and every stored blob under its SHA-256
(``blobs/<sha256>``).  Here: the constants, the errors, the row encoding, reading and checking the
manifest, and :func:`verify_archive` (every member against it).

The manifest records the format version, the creation time, the Credfolio version, the Alembic
revision, the row count of every table and the SHA-256 and size of every member.  Tables are read
through SQLAlchemy (reflected metadata), never with a dialect's own dump, so an archive made on
SQLite restores into PostgreSQL and back.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import lzma
import math
import re
import tarfile
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy import (
    JSON,
    Connection,
    MetaData,
    Table,
)

from portfolio.core.errors import ConflictError, CredfolioError, InvalidInputError
from portfolio.core.i18n import lazy_gettext as _l

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
#: Rows per batch: inserted at a time, and how often the ``rows`` progress phase is reported.
BATCH = 500
#: What reading a damaged or truncated (compressed) tar stream raises.
READ_ERRORS = (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error)
#: Bytes read or hashed at a time.
CHUNK = 1024 * 1024

#: ``progress(phase, done, total)``: phases ``tables``, ``rows`` and ``blobs`` (backup),
#: ``verify``, ``tables``, ``rows`` and ``blobs`` (restore).  Called with ``done == 0`` when a
#: phase starts.
Progress = Callable[[str, int, int], None]


def no_progress(_phase: str, _done: int, _total: int) -> None:
    """A ``progress`` that reports nothing."""
    return None


# -- errors: one family, a stable exit code per kind (docs/backup.md, "Exit codes") ------------


class BackupError(CredfolioError):
    """A backup or restore that cannot go on; ``message`` is safe to show.  Each kind has its
    exit code for the command line (``exit_code``) and, as every service error, a kind of
    :mod:`portfolio.core.errors`."""

    code = "BACKUP_FAILED"
    exit_code = 1


class OutputExistsError(BackupError, ConflictError):
    """The backup file exists and ``force`` was not given."""

    code = "OUTPUT_EXISTS"
    exit_code = 4


class ArchiveError(BackupError, InvalidInputError):
    """The archive is damaged, truncated, tampered with or not a Credfolio backup."""

    code = "ARCHIVE_DAMAGED"
    exit_code = 3


class TargetNotEmptyError(BackupError, ConflictError):
    """The database to restore into already holds data."""

    code = "TARGET_NOT_EMPTY"
    exit_code = 4


class IncompatibleArchiveError(BackupError, InvalidInputError):
    """A newer archive format or Alembic revision than this Credfolio knows, or the archive's
    keys were encrypted with another key-encryption secret than the one configured."""

    code = "ARCHIVE_INCOMPATIBLE"
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
        # Aware datetimes in UTC; naive ones as they are.  Tables are read through reflected
        # metadata (plain DateTime, not the models' UTCDateTime), so on SQLite the values come
        # naive (meaning UTC): this conversion is not the models' and stays.
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


def is_json_column(table: Table, name: str) -> bool:
    """Whether the column ``name`` of ``table`` holds JSON (its values are wrapped as such)."""
    return isinstance(table.c[name].type, JSON)


# -- the tables and the progress of their rows -------------------------------------------------


def reflect(connection: Connection) -> list[Table]:
    """The database's own tables in foreign-key order (Alembic's bookkeeping table left out)."""
    tables = MetaData()
    tables.reflect(bind=connection)
    return [table for table in tables.sorted_tables if table.name != ALEMBIC_TABLE]


@dataclass
class RowCounter:
    """The ``rows`` progress phase: reported every ``BATCH`` rows, not on each one."""

    report: Progress
    total: int
    done: int = 0

    def start(self) -> None:
        self.report("rows", 0, self.total)

    def add(self, count: int) -> None:
        before, self.done = self.done, self.done + count
        if self.done // BATCH != before // BATCH or self.done >= self.total:
            self.report("rows", self.done, max(self.total, self.done))


# -- reading and checking an archive -----------------------------------------------------------


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
def open_archive(path: Path, *, to_the_end: bool = True) -> Iterator[tarfile.TarFile]:
    """The archive as a tar stream, read front to back; at the end the rest of the file is
    read too, so that a truncated gzip or xz stream (its checksum trailer) is noticed.

    The decompression is Python's gzip and lzma modules (which check the stream's CRC and
    length), not tarfile's own (which does not).
    """
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise BackupError(_l("%(path)s does not exist", path=path)) from None
    except OSError as exc:
        raise BackupError(
            _l("cannot read %(path)s: %(reason)s", path=path, reason=exc.strerror)
        ) from None
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
        except READ_ERRORS as exc:
            raise ArchiveError(
                _l(
                    "%(path)s is not a Credfolio backup archive (%(error)s)",
                    path=path.name,
                    error=exc,
                )
            ) from None
        yield tar
        if not to_the_end:
            return
        try:
            while stream.read(CHUNK):
                pass
        except READ_ERRORS as exc:
            raise ArchiveError(
                _l(
                    "%(path)s is damaged or truncated (%(kind)s: %(error)s)",
                    path=path.name,
                    kind=exc.__class__.__name__,
                    error=exc,
                )
            ) from None


def read_manifest(tar: tarfile.TarFile, name: str) -> Manifest:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile():
        raise ArchiveError(
            _l(
                "%(name)s is not a Credfolio backup: %(manifest)s is not its first member",
                name=name,
                manifest=MANIFEST,
            )
        )
    if first.size > _MAX_MANIFEST_BYTES:
        raise ArchiveError(_l("%(name)s: the manifest is implausibly large", name=name))
    stream = tar.extractfile(first)
    if stream is None:  # never for a regular file
        raise ArchiveError(_l("%(name)s: the manifest cannot be read", name=name))
    try:
        data = json.loads(stream.read())
    except (ValueError, UnicodeDecodeError):
        raise ArchiveError(_l("%(name)s: the manifest is not valid JSON", name=name)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ArchiveError(
            _l(
                "%(name)s is not a Credfolio backup (no %(format)s manifest)",
                name=name,
                format=FORMAT,
            )
        )
    version = data.get("format_version")
    if not isinstance(version, int):
        raise ArchiveError(_l("%(name)s: the manifest has no format version", name=name))
    if version > FORMAT_VERSION:
        raise IncompatibleArchiveError(
            _l(
                "%(name)s has format version %(version)s; this Credfolio reads up to "
                "%(format_version)s: upgrade Credfolio to restore it",
                name=name,
                version=version,
                format_version=FORMAT_VERSION,
            )
        )
    try:
        manifest = Manifest(data=data, members=_check_manifest(data), info=first)
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchiveError(
            _l("%(name)s: the manifest is malformed (%(error)s)", name=name, error=exc)
        ) from None
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
    while chunk := stream.read(CHUNK):
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
    report = progress or no_progress
    path = Path(path)
    with open_archive(path) as tar:
        try:
            manifest = read_manifest(tar, path.name)
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
                        _l(
                            "%(path)s: member %(member)r is not in the manifest (or appears twice)",
                            path=path.name,
                            member=member.name,
                        )
                    )
                _verify_member(tar, member, expected, rows, path.name)
                report("verify", total - len(remaining), total)
        except READ_ERRORS as exc:
            raise ArchiveError(
                _l(
                    "%(path)s is damaged or truncated (%(kind)s: %(error)s)",
                    path=path.name,
                    kind=exc.__class__.__name__,
                    error=exc,
                )
            ) from None
    if remaining:
        missing = sorted(remaining)
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise ArchiveError(
            _l(
                "%(path)s is incomplete (truncated or tampered with): missing %(shown)s",
                path=path.name,
                shown=shown,
            )
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
        raise ArchiveError(
            _l("%(name)s: member %(member)s is not a regular file", name=name, member=member.name)
        )
    if member.size != expected["size"]:
        raise ArchiveError(
            _l(
                "%(name)s: member %(member)s does not match the size in the manifest (the "
                "archive is damaged or was changed)",
                name=name,
                member=member.name,
            )
        )
    stream = tar.extractfile(member)
    if stream is None:  # never for a regular file
        raise ArchiveError(
            _l("%(name)s: member %(member)s cannot be read", name=name, member=member.name)
        )
    sha256, size, lines = _hash_stream(stream)
    if size != expected["size"] or sha256 != expected["sha256"]:
        raise ArchiveError(
            _l(
                "%(name)s: member %(member)s does not match the SHA-256 in the manifest (the "
                "archive is damaged or was changed)",
                name=name,
                member=member.name,
            )
        )
    if member.name in rows and lines != rows[member.name]:
        raise ArchiveError(
            _l(
                "%(name)s: %(member)s holds %(lines)s rows, the manifest says %(recorded)s",
                name=name,
                member=member.name,
                lines=lines,
                recorded=rows[member.name],
            )
        )
