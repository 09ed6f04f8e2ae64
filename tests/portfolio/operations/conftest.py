"""Fixtures of the operations tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask_migrate import stamp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portfolio.core.db import db
from tests.conftest import _create_postgres_database


@pytest.fixture
def migrated(app: Any) -> Iterator[Any]:
    """The app's tables, stamped at the migrations' head (as ``credfolio db upgrade`` leaves
    them, without running every migration)."""
    with app.app_context():
        stamp()
    yield app
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the suite's kind (PostgreSQL when CI selects it)."""
    suite_url = os.environ.get("CREDFOLIO_DATABASE_URL", "")
    if not suite_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    name = f"credfolio_race_{uuid.uuid4().hex[:12]}"
    _create_postgres_database(suite_url, name)
    url = make_url(suite_url).set(database=name).render_as_string(hide_password=False)
    yield url
    maintenance = create_engine(suite_url, isolation_level="AUTOCOMMIT")
    with maintenance.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    maintenance.dispose()
