"""Shared fixtures.  Outgoing network access is blocked for the whole suite (pytest-socket,
configured in pyproject.toml): "offline by design" is checked, not hoped."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ASSETS = Path(__file__).parent / "assets"
#: A fixed key-encryption secret for tests (32 random bytes, base64url); never used elsewhere.
TEST_KEK = "q3Jx4y0kQk8m7m1Qy3s2Vd2b9o5h2p8wH0F4r6t1ZcU"


# -- parallel runs (pytest-xdist, see docs/testing.md) -----------------------------------------


def worker_database_url(url: str, worker: str) -> str:
    """The database of xdist worker ``worker`` (``gw0``, ``gw1``, ...): ``.../test`` becomes
    ``.../test_gw0``; a SQLite file ``x.sqlite3`` becomes ``x_gw0.sqlite3``."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return url
        path = Path(parsed.database)
        return parsed.set(database=str(path.with_stem(f"{path.stem}_{worker}"))).render_as_string(
            hide_password=False
        )
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


def _create_postgres_database(url: str, name: str) -> None:
    """``CREATE DATABASE name`` unless it exists, connected to the database ``url`` names (or,
    when that one is missing, to the server's ``postgres`` database)."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    try:
        connection = psycopg.connect(parsed.render_as_string(hide_password=False), autocommit=True)
    except psycopg.OperationalError:
        maintenance = parsed.set(database="postgres").render_as_string(hide_password=False)
        connection = psycopg.connect(maintenance, autocommit=True)
    with connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # made meanwhile
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def pytest_configure(config: pytest.Config) -> None:
    """In an xdist worker, point ``CREDFOLIO_DATABASE_URL`` at the worker's own database
    (created when missing), before any test, fixture or subprocess reads it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("CREDFOLIO_DATABASE_URL")
    if not worker or not url:
        return
    from sqlalchemy.engine import make_url

    own = worker_database_url(url, worker)
    if make_url(own).get_backend_name() == "postgresql":
        try:
            _create_postgres_database(url, str(make_url(own).database))
        except Exception as exc:
            raise pytest.UsageError(
                f"cannot create the database of xdist worker {worker} next to {url}: {exc}"
            ) from exc
    os.environ["CREDFOLIO_DATABASE_URL"] = own


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


class _PostgresSchema:
    """Whether the ``app`` fixture left the models' tables in the PostgreSQL database, empty.

    Dropping and re-creating some fifty tables for every test costs PostgreSQL about a second;
    emptying them (``DELETE``, then restarting the sequences) costs a fraction of that.  So the
    ``app`` fixture empties the tables it made, and the next test that uses ``app`` finds them
    ready, exactly as ``create_all`` would leave them.  Any other test (one that builds its own
    app, migrates, or expects an empty database) gets the tables dropped first, as before.
    """

    left_empty = False

    @classmethod
    def drop(cls) -> None:
        """Drop the tables the last ``app`` test left (before a test that does not use it)."""
        if not cls.left_empty:
            return
        from sqlalchemy import create_engine

        from portfolio.core.db import db

        engine = create_engine(os.environ["CREDFOLIO_DATABASE_URL"])
        try:
            db.metadata.drop_all(engine)
        finally:
            engine.dispose()
        cls.left_empty = False

    @classmethod
    def empty(cls, engine: Any) -> None:
        """Empty every table when the database holds exactly the models' tables; else drop
        them (a test that migrated or changed the schema)."""
        from portfolio.core.db import db

        with engine.begin() as connection:
            present = set(
                connection.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                ).scalars()
            )
            if present == set(db.metadata.tables):
                # DELETE, children first, and restart the sequences: on tables of a few rows
                # far cheaper than TRUNCATE, which makes new files for every table and index.
                for table in reversed(db.metadata.sorted_tables):
                    connection.execute(table.delete())
                connection.exec_driver_sql(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n"
                    " ON n.oid = c.relnamespace WHERE c.relkind = 'S'"
                    " AND n.nspname = current_schema()"
                )
                cls.left_empty = True
                return
        db.metadata.drop_all(engine)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if "app" not in getattr(item, "fixturenames", ()):
        _PostgresSchema.drop()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if os.environ.get("CREDFOLIO_DATABASE_URL"):
        _PostgresSchema.drop()


@pytest.fixture(scope="session")
def _sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    """A SQLite file with the models' tables, made once per process: ``app`` copies it rather
    than running some fifty CREATE statements for every test."""
    made: list[Path] = []

    def template() -> Path:
        if not made:
            from portfolio.core.db import db
            from wsgi import create_app

            folder = tmp_path_factory.mktemp("sqlite-schema")
            path = folder / "schema.sqlite3"
            app = create_app(_test_config(folder / "instance", f"sqlite:///{path}"))
            with app.app_context():
                db.create_all()
                db.engine.dispose()
            made.append(path)
        return made[0]

    return template


def _test_config(instance: Path, database_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
        "CREDFOLIO_PUBLIC_URL": "https://credfolio.test",
    }


@pytest.fixture
def app(tmp_path: Path, database_url: str, _sqlite_schema: Callable[[], Path]) -> Iterator[Any]:
    """The Flask app on a temporary instance folder and a clean database."""
    from portfolio.core.db import db
    from wsgi import create_app

    own_file = database_url == f"sqlite:///{tmp_path / 'test.sqlite3'}"
    if own_file and not (tmp_path / "test.sqlite3").exists():
        shutil.copyfile(_sqlite_schema(), tmp_path / "test.sqlite3")
    app = create_app(_test_config(tmp_path / "instance", database_url))
    postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    with app.app_context():
        if not (postgres and _PostgresSchema.left_empty):
            db.create_all()  # on a copied SQLite schema: only checks that every table is there
    _PostgresSchema.left_empty = False
    yield app
    with app.app_context():
        db.session.remove()
        if postgres:
            _PostgresSchema.empty(db.engine)
        elif not own_file:
            db.drop_all()
        # Close pooled connections now, not at garbage collection (a ResourceWarning on
        # PostgreSQL, which the suite treats as an error).  The test's own SQLite file goes
        # with its temporary folder.
        db.engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def issuer(app: Any) -> Iterator[Any]:
    """The service's default issuer with an active signing key (inside an app context), offering
    suspension: its credentials carry both status entries, so tests can suspend them.  (New
    issuers do not offer it: tests/portfolio/issuing/test_status_options.py.)"""
    from portfolio.accounts.issuers import default_issuer

    with app.app_context():
        issuer = default_issuer()
        offer_suspension(issuer)
        app.extensions["credfolio"].key_store.create(issuer.did)
        yield issuer


def offer_suspension(issuer: Any) -> Any:
    """Switch suspension on for ``issuer``, for tests that suspend.  Written directly (no audit
    event, so tests that count events see only their own); the audited way is
    ``portfolio.issuing.status_options.set_suspension``."""
    from portfolio.core.db import unit_of_work

    with unit_of_work():
        issuer.offers_suspension = True
    return issuer


UNSIGNED_BADGE = "ob3/examples/basicOpenBadgeCredential.json"


def unsigned_badge(**changes: Any) -> dict[str, Any]:
    """The basic OB 3.0 example without issuer and proof, ready to be issued by the service."""
    document = load_json(UNSIGNED_BADGE)
    for name in ("proof", "issuer", "id", "credentialStatus"):
        document.pop(name, None)
    document.update(changes)
    return document
