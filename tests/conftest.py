"""Shared fixtures.  Outgoing network access is blocked for the whole suite (pytest-socket,
configured in pyproject.toml): "offline by design" is checked, not hoped."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ASSETS = Path(__file__).parent / "assets"
#: A fixed key-encryption secret for tests (32 random bytes, base64url); never used elsewhere.
TEST_KEK = "q3Jx4y0kQk8m7m1Qy3s2Vd2b9o5h2p8wH0F4r6t1ZcU"


def load_json(relative: str) -> Any:
    """Parse a JSON file under ``tests/assets``."""
    return json.loads((ASSETS / relative).read_text(encoding="utf-8"))


@pytest.fixture
def assets() -> Path:
    return ASSETS


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """``CREDFOLIO_DATABASE_URL`` when CI selects PostgreSQL, else SQLite in a temporary folder."""
    return os.environ.get("CREDFOLIO_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[Any]:
    """The Flask app on a temporary instance folder and a clean database."""
    from portfolio.db import db
    from wsgi import create_app

    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_PUBLIC_URL": "https://credfolio.test",
        }
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        # Close pooled connections now, not at garbage collection (a ResourceWarning on
        # PostgreSQL, which the suite treats as an error).
        db.engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def issuer(app: Any) -> Iterator[Any]:
    """The service's default issuer with an active signing key (inside an app context)."""
    from portfolio import services

    with app.app_context():
        issuer = services.default_issuer()
        app.extensions["credfolio"].key_store.create(issuer.did)
        yield issuer


UNSIGNED_BADGE = "ob3/examples/basicOpenBadgeCredential.json"


def unsigned_badge(**changes: Any) -> dict[str, Any]:
    """The basic OB 3.0 example without issuer and proof, ready to be issued by the service."""
    document = load_json(UNSIGNED_BADGE)
    for name in ("proof", "issuer", "id", "credentialStatus"):
        document.pop(name, None)
    document.update(changes)
    return document
