"""`credfolio demo-setup`: a working demo school from an empty instance, safe to run again."""

from __future__ import annotations

import json

from portfolio.db import db
from tests.conftest import TEST_KEK
from wsgi import create_app


def test_demo_setup_builds_a_demo_that_verifies_and_is_idempotent(tmp_path):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            # Its own embedded database: the demo migrates, it must not touch a shared one.
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
        }
    )
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-setup"])
    assert first.exit_code == 0, first.output
    assert "Administrator: admin@demo.credfolio.test" in first.output
    assert "Sample credential: http://127.0.0.1:5000/c/" in first.output
    assert (tmp_path / "demo-accounts.txt").stat().st_mode & 0o777 == 0o600

    second = runner.invoke(args=["demo-setup"])
    assert second.exit_code == 0, second.output
    assert "Sample credential" not in second.output  # not issued twice

    with app.app_context():
        from portfolio import services
        from portfolio.models import IssuedCredential, User

        assert db.session.query(User).count() == 1
        (row,) = db.session.query(IssuedCredential).all()
        assert services.service_verifier().verify(json.loads(row.document)).verified
        page = app.test_client().get(f"/c/{row.public_id}")
        assert page.status_code == 200 and "Song composition" in page.get_data(as_text=True)
        db.engine.dispose()
