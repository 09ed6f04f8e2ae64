"""`credfolio storage init` (issue 18 §2): the evidence store is created when missing and
proven writable, readable and cleanable; what is missing is said as the permission to grant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from portfolio.files import bucket
from portfolio.files.storage import LocalStorage, S3Storage
from tests.conftest import TEST_KEK
from wsgi import create_app

from .test_storage import CREDENTIALS, s3_client, s3_endpoint  # noqa: F401  (fixture)


def s3_backend(endpoint: str, name: str) -> S3Storage:
    return S3Storage(name, client=s3_client(endpoint))


def test_a_missing_bucket_is_created_then_found(s3_endpoint: str) -> None:  # noqa: F811
    backend = s3_backend(s3_endpoint, "evidence-new")
    first = bucket.prepare(backend, region="us-east-1")
    assert [(s.what, s.outcome) for s in first] == [
        ("bucket", "evidence-new created"),
        ("write, read, delete", "ok"),
    ]
    again = bucket.prepare(backend, region="us-east-1")
    assert again[0].outcome == "evidence-new exists"
    listed = s3_client(s3_endpoint).list_objects_v2(Bucket="evidence-new")
    assert listed.get("KeyCount", 0) == 0  # the probe leaves nothing behind


def test_a_bucket_in_another_region_is_created_there(s3_endpoint: str) -> None:  # noqa: F811
    backend = s3_backend(s3_endpoint, "evidence-eu")
    bucket.prepare(backend, region="eu-west-1")
    location = s3_client(s3_endpoint).get_bucket_location(Bucket="evidence-eu")
    assert location["LocationConstraint"] == "eu-west-1"


@pytest.mark.parametrize(
    ("call", "permission"),
    [("create_bucket", "s3:CreateBucket"), ("put_object", "s3:PutObject")],
)
def test_a_refusal_names_the_permission_to_grant(call: str, permission: str) -> None:
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, call)
    problem = bucket._s3_failure(denied, call, "evidence")
    assert permission in problem.message and "'evidence'" in problem.message


def test_a_local_folder_is_created_and_checked(tmp_path: Path) -> None:
    steps = bucket.prepare(LocalStorage(tmp_path / "blobs"))
    assert steps[0].outcome.endswith("created") and steps[1].outcome == "ok"
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []


def test_a_local_folder_that_cannot_be_made_is_explained(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(bucket.StoreNotReady, match="give the service's user write access"):
        bucket.prepare(LocalStorage(tmp_path / "a-file" / "blobs"))


def test_the_command_creates_the_bucket(
    tmp_path: Path,
    s3_endpoint: str,  # noqa: F811
    monkeypatch: Any,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_STORAGE": "s3",
            "CREDFOLIO_S3_BUCKET": "evidence-cli",
            "CREDFOLIO_S3_ENDPOINT_URL": s3_endpoint,
            "CREDFOLIO_S3_REGION": "us-east-1",
        }
    )
    result = app.test_cli_runner().invoke(args=["storage", "init"])
    assert result.exit_code == 0, result.output
    assert "bucket: evidence-cli created" in result.output
    assert "The evidence store is ready." in result.output
    assert "Contents" not in s3_client(s3_endpoint).list_objects_v2(Bucket="evidence-cli")
