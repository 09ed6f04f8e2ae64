"""The blob-storage contract, run against LocalStorage and against S3Storage talking to moto's
S3 API server on loopback; init_storage's configuration."""

from __future__ import annotations

import hashlib
import io
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portfolio.core.errors import NotFoundError, status_for
from portfolio.core.settings import Settings
from portfolio.files.storage import (
    BlobNotFoundError,
    BlobStorage,
    LocalStorage,
    S3Storage,
    init_storage,
)

DATA = b"a song, a story, a drawing: " * 100
SHA = hashlib.sha256(DATA).hexdigest()
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def run_moto() -> Iterator[str]:
    """moto's standalone S3 API server on an ephemeral loopback port: yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    yield from run_moto()


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStorage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "blobs")
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    client = s3_client(endpoint)
    bucket = f"credfolio-{hashlib.sha256(str(tmp_path).encode()).hexdigest()[:12]}"
    client.create_bucket(Bucket=bucket)
    yield S3Storage(bucket, client=client)
    client.close()


def test_put_get_exists_delete(backend: BlobStorage) -> None:
    assert not backend.exists(SHA)
    backend.put(SHA, DATA)
    assert backend.exists(SHA)
    assert backend.get(SHA) == DATA
    backend.delete(SHA)
    assert not backend.exists(SHA)
    backend.delete(SHA)  # deleting a missing blob does nothing


def test_put_is_idempotent(backend: BlobStorage) -> None:
    backend.put(SHA, DATA)
    backend.put(SHA, DATA)
    assert backend.get(SHA) == DATA


def test_put_stream(backend: BlobStorage) -> None:
    backend.put_stream(SHA, io.BytesIO(DATA))
    assert backend.get(SHA) == DATA


def test_put_refuses_data_that_does_not_match_its_name(backend: BlobStorage) -> None:
    with pytest.raises(ValueError, match="does not match"):
        backend.put(SHA, DATA + b"tampered")
    with pytest.raises(ValueError, match="does not match"):
        backend.put_stream(SHA, io.BytesIO(b"tampered"))
    assert not backend.exists(SHA)


def test_missing_blob(backend: BlobStorage) -> None:
    with pytest.raises(BlobNotFoundError):
        backend.get(SHA)
    with pytest.raises(BlobNotFoundError):
        backend.read_range(SHA, 0, 10)


def test_a_missing_blob_is_not_found_and_still_a_key_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError) as raised:
        LocalStorage(tmp_path).get(SHA)
    error = raised.value
    assert isinstance(error, BlobNotFoundError) and isinstance(error, NotFoundError)
    assert (status_for(error), error.code, error.sha256) == (404, "BLOB_NOT_FOUND", SHA)
    assert str(error) == error.message == f"No stored file has the SHA-256 {SHA}."


@pytest.mark.parametrize(
    "start, end, expected",
    [(0, 0, DATA[:1]), (0, 9, DATA[:10]), (5, 27, DATA[5:28]), (2790, 10_000, DATA[2790:])],
)
def test_read_range_is_inclusive_and_stops_at_the_end(
    backend: BlobStorage, start: int, end: int, expected: bytes
) -> None:
    backend.put(SHA, DATA)
    assert backend.read_range(SHA, start, end) == expected


@pytest.mark.parametrize("start, end", [(len(DATA), len(DATA) + 5), (-1, 3), (5, 4)])
def test_read_range_refuses_bad_ranges(backend: BlobStorage, start: int, end: int) -> None:
    backend.put(SHA, DATA)
    with pytest.raises(ValueError):
        backend.read_range(SHA, start, end)


@pytest.mark.parametrize("name", ["../../etc/passwd", SHA.upper(), SHA[:63], SHA + "/x", ""])
def test_names_must_be_sha256_digests(backend: BlobStorage, name: str) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        backend.exists(name)
    with pytest.raises(ValueError):
        backend.put(name, DATA)


def test_local_layout_and_permissions(tmp_path: Path) -> None:
    backend = LocalStorage(tmp_path / "blobs")
    backend.put(SHA, DATA)
    path = tmp_path / "blobs" / SHA[:2] / SHA[2:4] / SHA
    assert path.read_bytes() == DATA
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # No temporary files are left behind, even after a refused write.
    with pytest.raises(ValueError):
        backend.put_stream(hashlib.sha256(b"x").hexdigest(), io.BytesIO(b"y"))
    leftovers = [p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert leftovers == [SHA]


def test_s3_object_keys(s3_endpoint: str) -> None:
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="layout")
    S3Storage("layout", client=client).put(SHA, DATA)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="layout")["Contents"]]
    assert keys == [f"blobs/{SHA[:2]}/{SHA[2:4]}/{SHA}"]
    client.close()


def test_init_storage_defaults_to_local_in_the_instance(app: Any) -> None:
    from portfolio.files.storage import storage

    with app.app_context():
        backend = storage()
        assert isinstance(backend, LocalStorage)
        assert backend.root == Path(app.instance_path) / "blobs"


def test_init_storage_s3_from_configuration(
    app: Any, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3_client(s3_endpoint).create_bucket(Bucket="configured")
    config = Settings.from_sources(
        {},
        {
            "CREDFOLIO_STORAGE": "s3",
            "CREDFOLIO_S3_BUCKET": "configured",
            "CREDFOLIO_S3_ENDPOINT_URL": s3_endpoint,
            "CREDFOLIO_S3_REGION": "us-east-1",
        },
    )
    backend = init_storage(app, config)
    assert isinstance(backend, S3Storage)
    assert app.extensions["credfolio.storage"] is backend
    backend.put(SHA, DATA)
    assert backend.read_range(SHA, 0, 3) == DATA[:4]


@pytest.mark.parametrize(
    "config, message",
    [
        ({"CREDFOLIO_STORAGE": "s3"}, "CREDFOLIO_S3_BUCKET"),
        ({"CREDFOLIO_STORAGE": "ftp"}, "'local' or 's3'"),
    ],
)
def test_bad_storage_settings_are_refused(config: dict[str, str], message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        Settings.from_sources({}, config)
