"""Fixtures of the operations tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask_migrate import stamp
from sqlalchemy import text

from portfolio.core.db import db


@pytest.fixture
def migrated(app: Any) -> Iterator[Any]:
    """The app's tables, stamped at the migrations' head (as ``credfolio db upgrade`` leaves
    them, without running every migration)."""
    with app.app_context():
        stamp()
    yield app
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
