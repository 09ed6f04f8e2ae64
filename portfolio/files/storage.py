"""Content-addressed blob storage: the ``BlobStorage`` interface, a local-directory backend (one
machine) and an S3-compatible backend (several app servers).  Blobs are named by their SHA-256.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Any

from flask import Flask, current_app

from portfolio.core.errors import NotFoundError
from portfolio.core.settings import Settings, settings

EXTENSION = "credfolio.storage"
_CHUNK = 1024 * 1024
# Blob names are SHA-256 hex digests and nothing else: this check is what keeps a name from ever
# becoming a path (``../``) or an unexpected object key.
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BlobNotFoundError(NotFoundError, KeyError):
    """No blob with this SHA-256 is stored.

    A :class:`~portfolio.core.errors.NotFoundError` (a 404 wherever it reaches a page) that is
    still the ``KeyError`` it always was, for callers that catch that."""

    code = "BLOB_NOT_FOUND"

    def __init__(self, sha256: str) -> None:
        super().__init__(f"No stored file has the SHA-256 {sha256}.")
        self.sha256 = sha256

    def __str__(self) -> str:  # KeyError's would quote the message
        return self.message


def check_sha256(sha256: str) -> str:
    """Return ``sha256`` if it is 64 lower-case hex digits; raise ``ValueError`` otherwise."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError("a blob name must be a lower-case hex SHA-256 digest")
    return sha256


def _check_range(start: int, end: int) -> None:
    if start < 0 or end < start:
        raise ValueError(f"invalid byte range {start}-{end}")


class BlobStorage(abc.ABC):
    """Where uploaded bytes live, named by their SHA-256 (the database keeps the metadata)."""

    @abc.abstractmethod
    def put(self, sha256: str, data: bytes) -> None:
        """Store ``data`` under ``sha256``; storing the same blob twice does nothing.

        Raises ``ValueError`` when ``data`` does not hash to ``sha256``.
        """

    def put_stream(self, sha256: str, stream: IO[bytes]) -> None:
        """Like :meth:`put`, reading from a binary file positioned at its start.

        Backends override this to avoid holding the whole blob in memory.
        """
        self.put(sha256, stream.read())

    @abc.abstractmethod
    def get(self, sha256: str) -> bytes:
        """The blob's bytes.  Raises ``BlobNotFoundError``."""

    @abc.abstractmethod
    def read_range(self, sha256: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` inclusive; an ``end`` past the blob stops at its last byte.

        Raises ``BlobNotFoundError``, or ``ValueError`` when the range is invalid or starts past
        the end of the blob.
        """

    @abc.abstractmethod
    def exists(self, sha256: str) -> bool:
        """Whether the blob is stored."""

    @abc.abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove the blob; removing a missing blob does nothing."""


class LocalStorage(BlobStorage):
    """Blobs as files ``<root>/ab/cd/<sha256>``, written atomically, readable by the owner only."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """The file that holds (or would hold) the blob."""
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, sha256: str, data: bytes) -> None:
        if hashlib.sha256(data).hexdigest() != check_sha256(sha256):
            raise ValueError("the data does not match its SHA-256")
        self._write(sha256, [data])

    def put_stream(self, sha256: str, stream: IO[bytes]) -> None:
        check_sha256(sha256)
        digest = hashlib.sha256()

        def chunks() -> Any:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                yield chunk

        self._write(sha256, chunks(), digest=digest)

    def _write(self, sha256: str, chunks: Any, *, digest: Any = None) -> None:
        target = self.path(sha256)
        if target.exists():
            return
        # Private directories and files (0700 / 0600): evidence can be personal.
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Atomic write: a temporary file in the same directory, fsync, then rename, so readers
        # never see a half-written blob and a crash leaves at most a stray temporary file.
        fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as file:
                for chunk in chunks:
                    file.write(chunk)
                file.flush()
                os.fsync(file.fileno())
            if digest is not None and digest.hexdigest() != sha256:
                raise ValueError("the data does not match its SHA-256")
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def get(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise BlobNotFoundError(sha256) from None

    def read_range(self, sha256: str, start: int, end: int) -> bytes:
        _check_range(start, end)
        try:
            with self.path(sha256).open("rb") as file:
                size = os.fstat(file.fileno()).st_size
                if start >= size:
                    raise ValueError(f"range starts at {start}, past the end ({size} bytes)")
                file.seek(start)
                return file.read(min(end, size - 1) - start + 1)
        except FileNotFoundError:
            raise BlobNotFoundError(sha256) from None

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(sha256).unlink()


class S3Storage(BlobStorage):
    """Blobs as objects ``<prefix>ab/cd/<sha256>`` in an S3-compatible bucket (boto3 client)."""

    def __init__(self, bucket: str, *, client: Any, prefix: str = "blobs/") -> None:
        self.bucket = bucket
        self.client = client
        self.prefix = prefix

    def key(self, sha256: str) -> str:
        """The object key of the blob."""
        check_sha256(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    @staticmethod
    def _missing(error: Exception) -> bool:
        code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
        return code in {"404", "NoSuchKey", "NotFound"}

    def put(self, sha256: str, data: bytes) -> None:
        if hashlib.sha256(data).hexdigest() != check_sha256(sha256):
            raise ValueError("the data does not match its SHA-256")
        if not self.exists(sha256):
            self.client.put_object(Bucket=self.bucket, Key=self.key(sha256), Body=data)

    def put_stream(self, sha256: str, stream: IO[bytes]) -> None:
        check_sha256(sha256)
        start = stream.tell()
        digest = hashlib.sha256()
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != sha256:
            raise ValueError("the data does not match its SHA-256")
        if self.exists(sha256):
            return
        length = stream.tell() - start
        stream.seek(start)
        # One PUT (uploads are far below S3's 5 GB limit for it): the object appears only once
        # complete, and botocore streams the file without closing it (upload_fileobj would).
        self.client.put_object(
            Bucket=self.bucket, Key=self.key(sha256), Body=stream, ContentLength=length
        )

    def get(self, sha256: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if self._missing(error):
                raise BlobNotFoundError(sha256) from None
            raise
        return bytes(response["Body"].read())

    def read_range(self, sha256: str, start: int, end: int) -> bytes:
        from botocore.exceptions import ClientError

        _check_range(start, end)
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self.key(sha256), Range=f"bytes={start}-{end}"
            )
        except ClientError as error:
            if self._missing(error):
                raise BlobNotFoundError(sha256) from None
            if error.response.get("Error", {}).get("Code") == "InvalidRange":
                raise ValueError(f"range starts at {start}, past the end of the blob") from None
            raise
        return bytes(response["Body"].read())

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if self._missing(error):
                return False
            raise
        return True

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))


def init_storage(app: Flask, config: Settings | None = None) -> BlobStorage:
    """Build the backend named by ``CREDFOLIO_STORAGE`` (``local``, the default, or ``s3``) into
    ``app.extensions["credfolio.storage"]`` and return it.

    ``local`` keeps blobs under ``CREDFOLIO_STORAGE_PATH`` (default ``<instance>/blobs``);
    ``s3`` uses ``CREDFOLIO_S3_BUCKET`` at ``CREDFOLIO_S3_ENDPOINT_URL`` (AWS when unset), region
    ``CREDFOLIO_S3_REGION`` (else boto3's own settings), credentials from boto3's usual
    environment.  ``config`` (default: the app's settings, which refuse an unknown backend and
    a missing bucket) may name another backend.
    """
    config = config or settings(app)
    backend: BlobStorage
    if config.storage == "s3":
        if not config.s3_bucket:  # never from the settings: they refuse it
            raise RuntimeError("CREDFOLIO_STORAGE=s3 needs CREDFOLIO_S3_BUCKET")
        import boto3

        client = boto3.client(
            "s3", endpoint_url=config.s3_endpoint_url, region_name=config.s3_region
        )
        backend = S3Storage(config.s3_bucket, client=client)
    else:
        root = config.storage_path or str(Path(app.instance_path) / "blobs")
        backend = LocalStorage(Path(root))
    app.extensions[EXTENSION] = backend
    return backend


def storage() -> BlobStorage:
    """The current app's blob storage (needs an application context)."""
    backend: BlobStorage = current_app.extensions[EXTENSION]
    return backend
