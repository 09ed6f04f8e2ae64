"""The database: Flask-SQLAlchemy bound to a typed ``DeclarativeBase``.

SQLite in the instance folder by default; ``CREDFOLIO_DATABASE_URL`` selects PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import CheckConstraint, DateTime, MetaData, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, scoped_session
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so that migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# Every table class derives from ``Model``: Flask-SQLAlchemy's ``db.Model`` at run time (the
# session-bound query property, table names), the typed ``Base`` for mypy, which cannot see
# through ``db.Model``.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in time, always timezone-aware UTC in Python.

    Stored as ``TIMESTAMP WITH TIME ZONE`` (PostgreSQL) or text (SQLite, which keeps no zone:
    what it returns is naive and means UTC).  A naive value on the way in is taken as UTC, as
    SQLite always did."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite ignores SELECT ... FOR UPDATE, and pysqlite opens a transaction only at the first write
# (reads run outside any transaction, which behaves like READ COMMITTED), so a read-modify-write
# such as allocating a status-list position could read a stale bitmap and lose another worker's
# update.  Units of work that read then write therefore start with BEGIN IMMEDIATE (see
# begin_write), which takes SQLite's write lock up front: the counterpart of FOR UPDATE on
# PostgreSQL.  WAL mode lets readers go on while a writer holds that lock.
_IMMEDIATE = "credfolio_sqlite_immediate"


@event.listens_for(Engine, "connect")
def _sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    if connection.dialect.name == "sqlite" and connection.get_execution_options().get(_IMMEDIATE):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def begin_write() -> None:
    """Start the session's next unit of work as a write transaction.

    On SQLite this commits whatever the session has open (reads, normally) and begins with
    BEGIN IMMEDIATE; on PostgreSQL it does nothing (row locks with FOR UPDATE do the job).
    """
    if db.engine.dialect.name != "sqlite":
        return
    if db.session().in_transaction():
        db.session.commit()
    db.session.connection(execution_options={_IMMEDIATE: True})


@contextmanager
def unit_of_work(*, write: bool = False) -> Iterator[scoped_session[Any]]:
    """One transaction of the session: commit when the block ends, or roll back and re-raise
    whatever stopped it (any exception, ``KeyboardInterrupt`` included), so that nothing is ever
    half-written and the session is usable again.

    ``write=True`` starts the unit with :func:`begin_write` (SQLite's write lock up front, for a
    read-modify-write).  Yields ``db.session``.
    """
    if write:
        begin_write()
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def one_of(column: str, values: Iterable[str], *, name: str) -> CheckConstraint:
    """``CHECK (column IN ('a', 'b', ...))`` from an enumeration, so that the list of allowed
    values is written once (values are our own identifiers, never user input)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)
