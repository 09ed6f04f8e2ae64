"""One server migrates at a time (issue 18 §1).

The documented unit starts every server with ``serve --migrate``; two servers starting together
on an empty database both tried to create ``alembic_version`` and one died with a
``UniqueViolation`` traceback.  Alembic's ``env.py`` holds this lock around the migrations: on
PostgreSQL a session-level advisory lock (``pg_advisory_lock``, database-wide, released when the
connection closes even if the process dies), on SQLite an exclusive file lock beside the
database file.  Whoever comes second waits, then finds the schema current and does nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, text

#: The advisory lock's key: any constant 64-bit number that nothing else in the database uses
#: (the first eight bytes of SHA-256("credfolio migrations")).
ADVISORY_KEY = 0x1920_62E0_40D3_0920


@contextlib.contextmanager
def migrations_locked(connection: Connection) -> Iterator[None]:
    """Hold the database-wide migration lock while the block runs."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        connection.commit()  # a session lock outlives the transaction that took it
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            connection.commit()
        return
    database = connection.engine.url.database
    if connection.dialect.name != "sqlite" or not database or database == ":memory:":
        yield  # a private database: nobody else can migrate it
        return
    with open(Path(f"{database}.migrate-lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
