"""The app factory: configuration, start-up refusals, the issuer's public identity."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import text

from portfolio.core.db import db
from tests.conftest import TEST_KEK
from wsgi import create_app, default_issuer_did


def test_the_test_config_overrides_the_defaults(app):
    assert app.testing
    assert app.config["CREDFOLIO_ISSUER_DID"] == "did:web:credfolio.test"


def test_environment_variables_configure_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDFOLIO_ISSUER_NAME", "Riverside Academy")
    monkeypatch.setenv("CREDFOLIO_PUBLIC_URL", "https://badges.riverside.example:8443")
    monkeypatch.setenv("CREDFOLIO_KEY_ENCRYPTION_SECRET", TEST_KEK)
    monkeypatch.setenv("CREDFOLIO_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.delenv("CREDFOLIO_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["CREDFOLIO_ISSUER_NAME"] == "Riverside Academy"
    assert app.config["CREDFOLIO_ISSUER_DID"] == "did:web:badges.riverside.example%3A8443"
    assert app.instance_path == str(tmp_path / "inst")
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert str(tmp_path / "inst") in app.config["SQLALCHEMY_DATABASE_URI"]


def test_the_database_url_comes_from_the_environment(tmp_path, monkeypatch):
    url = "postgresql+psycopg://credfolio@db.internal:5432/credfolio"
    monkeypatch.setenv("CREDFOLIO_DATABASE_URL", url)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


def test_the_database_answers(app):
    with app.app_context():
        assert db.session.execute(text("select 1")).scalar() == 1


def test_production_refuses_to_start_without_a_key_encryption_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDFOLIO_KEY_ENCRYPTION_SECRET", raising=False)
    monkeypatch.delenv("CREDFOLIO_KEY_ENCRYPTION_SECRET_FILE", raising=False)
    with pytest.raises(Exception, match="CREDFOLIO_KEY_ENCRYPTION_SECRET"):
        create_app(
            {
                "INSTANCE_PATH": str(tmp_path),
                "CREDFOLIO_ENV": "production",
                "CREDFOLIO_SECRET_KEY": "x" * 40,
            }
        )


def test_production_refuses_to_start_without_a_session_secret(tmp_path):
    with pytest.raises(RuntimeError, match="CREDFOLIO_SECRET_KEY"):
        create_app(
            {
                "INSTANCE_PATH": str(tmp_path),
                "CREDFOLIO_ENV": "production",
                "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
            }
        )


def test_production_refuses_to_start_without_a_mail_server(tmp_path):
    """Issue 18 §4: each server wrote its own outbox folder, splitting mail across machines."""
    production = {
        "INSTANCE_PATH": str(tmp_path),
        "CREDFOLIO_ENV": "production",
        "CREDFOLIO_SECRET_KEY": "x" * 40,
        "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK,
    }
    with pytest.raises(RuntimeError, match="CREDFOLIO_SMTP_HOST must be set in production"):
        create_app(production)
    create_app({**production, "CREDFOLIO_SMTP_HOST": "smtp.school.example"})
    create_app({**production, "CREDFOLIO_MAIL_OUTBOX": str(tmp_path / "shared-outbox")})


def test_a_tampered_bundled_context_stops_start_up(tmp_path, monkeypatch):
    from credentials.jsonld import DEFAULT_CONTEXTS_DIR

    contexts = tmp_path / "contexts"
    shutil.copytree(DEFAULT_CONTEXTS_DIR, contexts)
    target = contexts / "credentials-v2.jsonld"
    target.write_text(target.read_text().replace('"name"', '"nane"', 1))
    monkeypatch.setenv("CREDFOLIO_CONTEXTS_DIR", str(contexts))
    with pytest.raises(RuntimeError, match="sha256"):
        create_app(
            {"INSTANCE_PATH": str(tmp_path / "i"), "CREDFOLIO_KEY_ENCRYPTION_SECRET": TEST_KEK}
        )


def test_the_did_document_lists_the_issuer_keys(app, client, runner):
    assert runner.invoke(args=["keys", "create"]).exit_code == 0
    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    assert response.mimetype == "application/did+json"
    document = response.get_json()
    assert document["id"] == "did:web:credfolio.test"
    assert len(document["assertionMethod"]) == 1
    assert "secret" not in json.dumps(document).lower()


def test_the_home_page_names_the_issuer(client):
    page = client.get("/").get_data(as_text=True)
    assert "did:web:credfolio.test" in page
    assert '<html lang="en">' in page


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("http://127.0.0.1:5000", "did:web:127.0.0.1%3A5000"),
        ("https://school.example", "did:web:school.example"),
        ("https://school.example/badges/", "did:web:school.example:badges"),
    ],
)
def test_the_default_issuer_did_follows_the_public_url(url, did):
    assert default_issuer_did(url) == did


def test_every_page_links_to_the_verification_page(client):
    page = client.get("/").get_data(as_text=True)
    assert page.count('href="/verify"') >= 2  # the header and the home page text
