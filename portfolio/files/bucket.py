"""Preparing the evidence store (issue 18 §2: no documented step created the S3 bucket).

:func:`prepare` creates the S3 bucket when it is missing and proves, with a probe object, that
the credentials may write, read and delete in it; for the local store it creates the folder and
does the same with a probe file.  Each step's outcome is a line an operator can act on,
naming the permission that is missing rather than the library's exception.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from portfolio.core.errors import UnavailableError
from portfolio.files.storage import BlobStorage, LocalStorage, S3Storage

#: What each S3 call needs, in AWS IAM's names (other S3 servers use the same names).
_PERMISSION = {
    "head_bucket": "s3:ListBucket",
    "create_bucket": "s3:CreateBucket",
    "put_object": "s3:PutObject",
    "get_object": "s3:GetObject",
    "delete_object": "s3:DeleteObject",
}


class StoreNotReady(UnavailableError):
    """The evidence store cannot be prepared or used (the message says what to do)."""

    code = "STORE_NOT_READY"


@dataclass(frozen=True)
class Step:
    what: str
    outcome: str


def prepare(backend: BlobStorage, *, region: str | None = None) -> list[Step]:
    """Create the store if missing and check it can be written, read and cleaned; the steps
    done.  Raises :class:`StoreNotReady`."""
    if isinstance(backend, S3Storage):
        return _prepare_bucket(backend, region)
    if isinstance(backend, LocalStorage):
        return _prepare_folder(backend)
    return [Step("store", f"{type(backend).__name__}: nothing to prepare")]


def _probe() -> tuple[str, bytes]:
    data = b"credfolio storage probe " + secrets.token_bytes(16)
    return hashlib.sha256(data).hexdigest(), data


def _round_trip(backend: BlobStorage, where: str) -> Step:
    sha256, data = _probe()
    backend.put(sha256, data)
    if backend.get(sha256) != data:
        raise StoreNotReady(f"{where} returned other bytes than were written")
    backend.delete(sha256)
    return Step("write, read, delete", "ok")


def _prepare_folder(backend: LocalStorage) -> list[Step]:
    try:
        existed = backend.root.is_dir()
        backend.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        steps = [Step("folder", f"{backend.root} {'exists' if existed else 'created'}")]
        steps.append(_round_trip(backend, f"the folder {backend.root}"))
    except OSError as exc:
        raise StoreNotReady(
            f"the evidence folder {backend.root} cannot be used ({exc.strerror or exc}): "
            "create it and give the service's user write access"
        ) from None
    return steps


def _s3_failure(error: Exception, call: str, bucket: str) -> StoreNotReady:
    code = (
        str(getattr(error, "response", {}).get("Error", {}).get("Code", "")) or type(error).__name__
    )
    if code in {"403", "AccessDenied", "Forbidden", "AllAccessDisabled"}:
        return StoreNotReady(
            f"the S3 credentials may not {call.replace('_', ' ')} in bucket {bucket!r}: grant "
            f"{_PERMISSION[call]} on it (and check the bucket's policy)"
        )
    if code in {"BucketAlreadyExists"}:
        return StoreNotReady(
            f"the bucket name {bucket!r} is taken by another account: choose another "
            "CREDFOLIO_S3_BUCKET"
        )
    return StoreNotReady(f"S3 {call.replace('_', ' ')} on bucket {bucket!r} failed: {code}")


def _prepare_bucket(backend: S3Storage, region: str | None) -> list[Step]:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket = backend.bucket
    steps = []
    call = "head_bucket"
    try:
        try:
            backend.client.head_bucket(Bucket=bucket)
            steps.append(Step("bucket", f"{bucket} exists"))
        except ClientError as error:
            if not S3Storage._missing(error) and "NoSuchBucket" not in str(error):
                raise
            call = "create_bucket"
            options = {}
            if region and region != "us-east-1":  # us-east-1 refuses an explicit constraint
                options["CreateBucketConfiguration"] = {"LocationConstraint": region}
            backend.client.create_bucket(Bucket=bucket, **options)
            steps.append(Step("bucket", f"{bucket} created"))
        call = "put_object"
        sha256, data = _probe()
        backend.put(sha256, data)
        call = "get_object"
        if backend.get(sha256) != data:
            raise StoreNotReady(f"bucket {bucket!r} returned other bytes than were written")
        call = "delete_object"
        backend.delete(sha256)
        steps.append(Step("write, read, delete", "ok"))
    except ClientError as error:
        raise _s3_failure(error, call, bucket) from None
    except BotoCoreError as error:  # no endpoint, no credentials...
        raise StoreNotReady(f"S3 cannot be reached for bucket {bucket!r}: {error}") from None
    return steps
