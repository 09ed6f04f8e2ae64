"""Any number of servers may start with ``--migrate`` at the same moment (issue 18 §1): one
migrates under a database-wide lock, the others wait and find the schema current.  Before the
lock, two servers starting together on an empty PostgreSQL database crashed one of them with a
``UniqueViolation … alembic_version`` traceback."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import _create_postgres_database
from tests.serving import CREDFOLIO, server_environment

SERVERS = 3


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


def test_servers_migrating_at_the_same_moment_all_start(tmp_path: Path, empty_database: str):
    processes = []
    for n in range(SERVERS):
        env = server_environment(
            tmp_path,
            CREDFOLIO_DATABASE_URL=empty_database,
            CREDFOLIO_INSTANCE_PATH=str(tmp_path / f"instance-{n}"),
        )
        processes.append(
            subprocess.Popen(
                [CREDFOLIO, "init-db"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            )
        )
    outputs = [process.communicate(timeout=120)[0].decode() for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output
        assert "Traceback" not in output
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert len(versions) == 1
