"""Secrets every server must share are checked at start (issue 18 §3): the first server records
their fingerprints (never the secrets), a server with a different session secret or
key-encryption secret refuses to start, saying which, and `credfolio secrets changed` records
secrets changed on purpose."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from portfolio.core.db import db
from portfolio.operations import shared_secrets
from portfolio.operations.models import SecretFingerprint
from tests.serving import CREDFOLIO, free_port, running_server, server_environment

SESSION_A = "a long random session secret shared by every server, first"
SESSION_B = "another long random session secret that one server was given"


def test_the_first_start_records_fingerprints_never_the_secrets(migrated):
    with migrated.app_context():
        mine = shared_secrets.app_fingerprints()
        first = shared_secrets.check_and_record(mine)
        assert set(first.recorded) == {"session", "key-encryption"}
        rows = {row.name: row.fingerprint for row in db.session.scalars(select(SecretFingerprint))}
        assert rows == mine
        secret = str(migrated.config["SECRET_KEY"])
        assert all(secret not in value and len(value) == 16 for value in rows.values())
        again = shared_secrets.check_and_record(mine)
        assert again.recorded == () and set(again.matched) == {"session", "key-encryption"}


def test_a_different_secret_is_refused_naming_the_setting(migrated):
    with migrated.app_context():
        mine = shared_secrets.app_fingerprints()
        shared_secrets.check_and_record(mine)
        other = {**mine, "session": shared_secrets.session_fingerprint(SESSION_B)}
        with pytest.raises(shared_secrets.SecretsDiffer, match="CREDFOLIO_SECRET_KEY differs"):
            shared_secrets.check_and_record(other)
        shared_secrets.record_changed(other)  # changed on purpose, everywhere
        assert shared_secrets.check_and_record(other).recorded == ()
        with pytest.raises(shared_secrets.SecretsDiffer, match="secrets changed"):
            shared_secrets.check_and_record(mine)


def test_a_server_with_another_session_secret_refuses_to_start(tmp_path: Path):
    database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"

    def environment(n: int, secret: str) -> dict[str, str]:
        return server_environment(
            tmp_path,
            CREDFOLIO_DATABASE_URL=database,
            CREDFOLIO_INSTANCE_PATH=str(tmp_path / f"instance-{n}"),
            CREDFOLIO_SECRET_KEY=secret,
        )

    with running_server(tmp_path, "--workers", "1", "--migrate", env=environment(0, SESSION_A)):
        refused = subprocess.run(
            [
                CREDFOLIO,
                "serve",
                "--bind",
                f"127.0.0.1:{free_port()}",
                "--workers",
                "1",
                "--migrate",
            ],
            env=environment(1, SESSION_B),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert refused.returncode != 0
    assert "cannot start: CREDFOLIO_SECRET_KEY differs" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
