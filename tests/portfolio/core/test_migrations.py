"""The Alembic migrations build exactly the schema the models declare, on SQLite and on
PostgreSQL (CI runs the suite against both)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portfolio.core.db import db


def _reset(app) -> None:
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_upgrade_creates_the_schema_of_the_models(app):
    _reset(app)
    try:
        with app.app_context():
            upgrade()
            with db.engine.connect() as connection:
                differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert differences == []
            assert "issued_credentials" in inspect(db.engine).get_table_names()
    finally:
        _reset(app)


def test_downgrade_removes_every_table(app):
    _reset(app)
    try:
        with app.app_context():
            upgrade()
            downgrade(revision="base")
            tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert tables == set()
    finally:
        _reset(app)
