"""/healthz and /readyz (portfolio/operations/api.py, readiness.py): each readiness check really
fails when its part does — a database that cannot be reached or is behind its migrations, an
evidence store that cannot be written or reached, a key-encryption secret that does not decrypt
the active key — and no answer carries a secret, a path or a driver message."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from portfolio.core.db import db
from tests.conftest import TEST_KEK
from tests.portfolio.files.test_storage import CREDENTIALS, run_moto, s3_client
from wsgi import create_app

OTHER_KEK = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8"


def make_app(tmp_path: Path, name: str, **config: Any) -> Any:
    settings = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / name),
        "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
        "CREDFOLIO_PUBLIC_URL": "https://credfolio.test",
        **config,
    }
    return create_app(settings)


def readiness(app: Any) -> tuple[int, dict[str, dict[str, str]], str]:
    response = app.test_client().get("/readyz")
    body = response.get_json()
    checks = {check["name"]: check for check in body["checks"]}
    assert body["status"] == ("ready" if response.status_code == 200 else "not-ready")
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, checks, response.get_data(as_text=True)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_healthz_answers_without_touching_anything(tmp_path):
    # Not even a database that exists: the process is up, that is all /healthz says.
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/nowhere"
    app = make_app(tmp_path, "down", SQLALCHEMY_DATABASE_URI=url)
    response = app.test_client().get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_ready_when_every_check_passes(migrated, issuer):
    status, checks, _ = readiness(migrated)
    assert status == 200
    assert {name: check["status"] for name, check in checks.items()} == {
        "database": "ok",
        "storage": "ok",
        "keys": "ok",
    }
    assert "migrations at head" in checks["database"]["detail"]
    assert "decrypts the active key" in checks["keys"]["detail"]


def test_not_ready_while_the_issuer_has_no_signing_key(migrated):
    """Issue 18 §2: /readyz said "ready" while this server could not sign anything."""
    status, checks, _ = readiness(migrated)
    assert status == 503
    assert checks["keys"]["status"] == "failed"
    assert "cannot sign" in checks["keys"]["detail"] and "keys create" in checks["keys"]["detail"]


def test_not_ready_before_the_migrations(app):
    status, checks, _ = readiness(app)  # tables from create_all: no Alembic revision
    assert status == 503
    assert checks["database"]["status"] == "failed"
    assert "credfolio db upgrade" in checks["database"]["detail"]


def test_not_ready_behind_the_migrations(migrated):
    with migrated.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '6e26239a6aff'"))
    status, checks, _ = readiness(migrated)
    assert status == 503
    assert "at revision 6e26239a6aff where the code expects" in checks["database"]["detail"]


def test_not_ready_when_the_database_cannot_be_reached(tmp_path):
    url = f"postgresql+psycopg://postgres:hunter2-secret@127.0.0.1:{closed_port()}/credfolio"
    app = make_app(tmp_path, "down", SQLALCHEMY_DATABASE_URI=url)
    status, checks, raw = readiness(app)
    assert status == 503
    assert checks["database"] == {
        "name": "database",
        "status": "failed",
        "detail": "the database cannot be reached",
    }
    assert checks["keys"]["status"] == "failed"
    assert checks["storage"]["status"] == "ok"
    for leak in ("hunter2-secret", "127.0.0.1", "Traceback", "psycopg"):
        assert leak not in raw
    with app.app_context():
        db.engine.dispose()


def test_not_ready_when_the_evidence_directory_is_not_writable(migrated, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    app = make_app(
        tmp_path,
        "unwritable",
        SQLALCHEMY_DATABASE_URI=migrated.config["SQLALCHEMY_DATABASE_URI"],
        CREDFOLIO_STORAGE_PATH=str(blocker / "blobs"),
    )
    try:
        status, checks, raw = readiness(app)
    finally:
        with app.app_context():
            db.engine.dispose()
    assert status == 503
    assert checks["storage"]["status"] == "failed"
    assert "not writable" in checks["storage"]["detail"]
    assert str(tmp_path) not in raw


def test_not_ready_when_the_key_encryption_secret_is_wrong(migrated, issuer, tmp_path):
    app = make_app(
        tmp_path,
        "other-secret",
        SQLALCHEMY_DATABASE_URI=migrated.config["SQLALCHEMY_DATABASE_URI"],
        CREDFOLIO_KEY_ENCRYPTION_SECRET=OTHER_KEK,
    )
    try:
        status, checks, raw = readiness(app)
    finally:
        with app.app_context():
            db.engine.dispose()
    assert status == 503
    assert checks["keys"]["status"] == "failed"
    assert "does not decrypt" in checks["keys"]["detail"]
    assert OTHER_KEK not in raw and TEST_KEK not in raw


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    yield from run_moto()


@pytest.mark.parametrize("bucket_exists", [True, False])
def test_s3_storage_is_ready_only_when_the_bucket_answers(
    migrated, issuer, tmp_path, monkeypatch, s3_endpoint, bucket_exists
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    bucket = f"readyz-{'here' if bucket_exists else 'missing'}"
    if bucket_exists:
        s3_client(s3_endpoint).create_bucket(Bucket=bucket)
    app = make_app(
        tmp_path,
        "s3",
        SQLALCHEMY_DATABASE_URI=migrated.config["SQLALCHEMY_DATABASE_URI"],
        CREDFOLIO_STORAGE="s3",
        CREDFOLIO_S3_BUCKET=bucket,
        CREDFOLIO_S3_ENDPOINT_URL=s3_endpoint,
        CREDFOLIO_S3_REGION="us-east-1",
    )
    try:
        status, checks, _ = readiness(app)
    finally:
        with app.app_context():
            db.engine.dispose()
    assert checks["storage"]["status"] == ("ok" if bucket_exists else "failed")
    assert status == (200 if bucket_exists else 503)


def test_probes_are_never_rate_limited(tmp_path):
    app = make_app(
        tmp_path,
        "limited",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'limited.sqlite3'}",
        CREDFOLIO_RATELIMIT_ENABLED=True,
        CREDFOLIO_RATELIMIT_KEY_PREFIX=f"ops-probes-{tmp_path.name}",
    )
    client = app.test_client()
    assert {client.get("/healthz").status_code for _ in range(60)} == {200}
    assert {client.get("/readyz").status_code for _ in range(60)} == {503}  # no tables: not 429
