"""An issuer configured as a ``did:key`` works end to end or is refused, never half (issue 14
§6).  A did:key *is* its key: ``keys create`` used to make an unrelated key for it, so
everything signed failed verification.  Now ``keys create-did-key`` makes key and DID together,
``keys create``/``rotate`` refuse a did:key and say how, and a did:key the service holds no key
for makes the service unready."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from credentials.verify import PASSED, Verifier
from portfolio.accounts.issuers import default_issuer
from portfolio.core.db import db
from portfolio.issuing import service as services
from tests.conftest import TEST_KEK, load_json, unsigned_badge
from wsgi import create_app

#: The public demo key's DID (tests/assets/ob3/signed-examples/DEMO-KEY.json): a did:key whose
#: secret this service does not hold.
FOREIGN_DID_KEY = load_json("tampered/valid.json")["issuer"]["id"]


def make_app(tmp_path: Path, **config: Any) -> Any:
    """An app on its own SQLite database in ``tmp_path`` (several apps may share it)."""
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'did-key.sqlite3'}",
            "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            "CREDFOLIO_PUBLIC_URL": "https://credfolio.test",
            **config,
        }
    )
    with app.app_context():
        db.create_all()
    return app


def readiness(app: Any) -> dict[str, dict[str, str]]:
    """``/readyz``'s checks by name (the database check fails here: no migrations were run)."""
    checks = app.test_client().get("/readyz").get_json()["checks"]
    return {check["name"]: check for check in checks}


@pytest.fixture
def apps(tmp_path: Path):
    made: list[Any] = []

    def make(**config: Any) -> Any:
        made.append(make_app(tmp_path, **config))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_keys_create_refuses_a_did_key_and_says_how_to_make_one(apps):
    app = apps(CREDFOLIO_ISSUER_DID=FOREIGN_DID_KEY)
    result = app.test_cli_runner().invoke(args=["keys", "create"])
    assert result.exit_code == 1
    assert f"{FOREIGN_DID_KEY} is a did:key" in result.output
    assert "credfolio keys create-did-key" in result.output
    with app.app_context():
        assert app.extensions["credfolio"].key_store.list() == []  # no unrelated key made


def test_a_did_key_without_its_secret_makes_the_service_unready_and_says_why(apps):
    app = apps(CREDFOLIO_ISSUER_DID=FOREIGN_DID_KEY)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "did:key whose secret key this service does not hold" in response.get_data(as_text=True)


def test_a_did_key_issuer_made_by_the_cli_signs_what_anyone_verifies(apps):
    first = apps()
    made = first.test_cli_runner().invoke(args=["keys", "create-did-key"])
    assert made.exit_code == 0, made.output
    did = next(word for word in made.output.split() if word.startswith("did:key:"))
    assert f"set CREDFOLIO_ISSUER_DID={did}" in made.output

    app = apps(CREDFOLIO_ISSUER_DID=did)
    runner = app.test_cli_runner()
    again = runner.invoke(args=["keys", "create"])
    assert again.exit_code == 1 and "already has an active key" in again.output
    rotate = runner.invoke(args=["keys", "rotate"])
    assert rotate.exit_code == 1 and "is a did:key" in rotate.output
    assert readiness(app)["keys"]["status"] == "ok"
    assert app.test_client().get("/.well-known/did.json").status_code == 404

    with app.app_context():
        row = services.issue(unsigned_badge(), issuer=default_issuer())
        credential = json.loads(row.document)
        assert credential["issuer"]["id"] == did
        ours = services.service_verifier().verify(credential)
        assert ours.verified, ours.errors
    # Anyone, offline: the did:key resolves from itself (the status list is not at hand there).
    theirs = Verifier.offline().verify(credential)
    assert {theirs.check(name).status for name in ("proof", "issuer", "key-status")} == {PASSED}


def test_a_did_that_cannot_be_an_issuer_stops_the_start(tmp_path: Path):
    for did in ("did:key:z6MkNotAKey", "did:example:school", f"{FOREIGN_DID_KEY}#key-1"):
        with pytest.raises(RuntimeError, match="CREDFOLIO_ISSUER_DID"):
            make_app(tmp_path, CREDFOLIO_ISSUER_DID=did)
