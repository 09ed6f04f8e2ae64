"""bench/scale.py's bulk loader: rows in PostgreSQL's COPY text format, and (on PostgreSQL) a
small load whose status positions are never reused and whose real-signed credentials verify."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]


def _load_scale() -> Any:
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scale"] = module
    spec.loader.exec_module(module)
    return module


scale = _load_scale()


def test_copy_text_escapes_what_the_copy_format_gives_a_meaning():
    assert scale.copy_text(None) == "\\N"
    assert scale.copy_text(True) == "t"
    assert scale.copy_text('{"a":"b\\\\nc"}') == '{"a":"b\\\\\\\\nc"}'
    assert scale.copy_text("tab\there\nnew\rline") == "tab\\there\\nnew\\rline"
    moment = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    assert scale.copy_text(moment) == "2026-12-02T06:00:00+00:00"


def test_copy_line_is_tab_separated_and_ends_the_row():
    assert scale.copy_line((1, None, "x\ty")) == "1\t\\N\tx\\ty\n"


def test_each_size_gets_its_own_database_on_the_same_server():
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/credfolio_bench_scale"
    assert scale.database_url_for(url, 1000) == (
        "postgresql+psycopg://postgres@127.0.0.1:5432/credfolio_bench_scale_1000"
    )


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("CREDFOLIO_DATABASE_URL", "").startswith("postgresql"),
    reason="the bulk loader uses PostgreSQL's COPY",
)
def test_bulk_load_keeps_positions_unique_and_real_credentials_verifiable(tmp_path):
    from portfolio.core.db import db
    from portfolio.issuing.models import IssuedCredential, StatusListRow

    instance = scale.Instance(
        url=os.environ["CREDFOLIO_DATABASE_URL"],
        public_url="http://127.0.0.1:5999",
        instance_path=tmp_path / "instance",
        kek=secrets.token_urlsafe(32),
        secret_key=secrets.token_urlsafe(48),
    )
    app = instance.create_app()
    try:
        _drop_everything(app)
        scale.set_up(instance)
        scale.grow(instance, 300)
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(IssuedCredential)) == 300
            pairs = db.session.execute(
                select(IssuedCredential.revocation_list_id, IssuedCredential.revocation_index)
            ).all()
            assert len(set(pairs)) == 300
            for row in db.session.scalars(select(StatusListRow)):
                allocated = int.from_bytes(row.allocated, "big").bit_count()
                assert allocated == row.allocated_count == 300
            real = db.session.scalar(
                select(IssuedCredential.document).where(
                    IssuedCredential.public_id == instance.real_ids[0]
                )
            )
        response = app.test_client().post(
            "/credentials/verify", json={"verifiableCredential": json.loads(real)}
        )
        assert response.status_code == 200, response.json
        generated = scale.template_document(instance)
        assert generated["credentialStatus"][0]["type"] == "BitstringStatusListEntry"
    finally:
        _drop_everything(app)


def _drop_everything(app: Any) -> None:
    """The models' tables and Alembic's version table (set_up migrates from scratch)."""
    from sqlalchemy import text

    from portfolio.core.db import db

    with app.app_context():
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()
