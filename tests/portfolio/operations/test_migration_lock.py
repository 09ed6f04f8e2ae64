"""Any number of servers may start with ``--migrate`` at the same moment (issue 18 §1): one
migrates under a database-wide lock, the others wait and find the schema current.  Before the
lock, two servers starting together on an empty PostgreSQL database crashed one of them with a
``UniqueViolation … alembic_version`` traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.serving import CREDFOLIO, server_environment

SERVERS = 3


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
