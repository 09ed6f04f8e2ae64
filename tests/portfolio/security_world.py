"""Helpers for the security suites (authorization matrix, stored XSS): one app per test module
on its own database, signed-in clients without re-hashing passwords for every request, small
images, and a snapshot of the database to prove that a refused request changed nothing.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from PIL import Image
from sqlalchemy import select

from portfolio.core.db import db
from tests.conftest import TEST_KEK
from tests.portfolio.school import PASSWORD

#: Tables that may change on any request, refused or not (security events are recorded).
VOLATILE_TABLES = frozenset({"audit_events"})


@contextmanager
def module_app(tmp_path: Path, **config: Any) -> Iterator[Flask]:
    """An app on a clean database (``CREDFOLIO_DATABASE_URL`` when set, else SQLite under
    ``tmp_path``), CSRF and rate limits off, torn down afterwards."""
    from wsgi import create_app

    database_url = os.environ.get("CREDFOLIO_DATABASE_URL") or (
        f"sqlite:///{tmp_path / 'test.sqlite3'}"
    )
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_PUBLIC_URL": "https://credfolio.test",
            # The matrix is about who may do what: CSRF (which would refuse every forged POST
            # before any authorization is checked) and rate limits are tested elsewhere.
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            **config,
        }
    )
    with app.app_context():
        db.create_all()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def session_cookie(app: Flask, email: str, password: str = PASSWORD) -> str:
    """Sign ``email`` in through the sign-in form; the session cookie's value."""
    client = app.test_client()
    response = client.post("/sign-in", data={"email": email, "password": password})
    assert response.status_code == 303, f"{email} could not sign in: {response.status_code}"
    cookie = client.get_cookie("session")
    assert cookie is not None
    return str(cookie.value)


def client_with(app: Flask, cookie: str | None) -> Any:
    """A fresh test client carrying ``cookie`` as its session (anonymous when None)."""
    client = app.test_client()
    if cookie is not None:
        client.set_cookie("session", cookie)
    return client


def png(size: tuple[int, int] = (8, 8), colour: str = "orange") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def snapshot(app: Flask) -> dict[str, list[str]]:
    """Every row of every table (but :data:`VOLATILE_TABLES`), as sorted text."""
    with app.app_context():
        tables = {}
        for table in db.metadata.sorted_tables:
            if table.name in VOLATILE_TABLES:
                continue
            rows = db.session.execute(select(table)).all()
            tables[table.name] = sorted(repr(tuple(row)) for row in rows)
        db.session.remove()
    return tables


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    """Names of the tables whose rows differ between two snapshots."""
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
