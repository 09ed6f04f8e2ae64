"""Composition root: ``create_app()`` wires configuration, the credential engine, the key store,
the database and the web blueprints together; ``cli`` is the ``credfolio`` command.

``flask --app wsgi run``, ``gunicorn 'wsgi:create_app()'`` and ``credfolio run`` all work.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask
from flask.cli import FlaskGroup
from flask_migrate import Migrate

from credentials.jsonld import DocumentLoader
from credentials.verify import Verifier
from issuer_keys.did import did_web_document, did_web_from_url
from issuer_keys.encryption import load_key_encryption_secret
from issuer_keys.store import KeyStore

ROOT = Path(__file__).resolve().parent
MIGRATIONS = ROOT / "portfolio" / "migrations"

#: Settings read from ``CREDFOLIO_<NAME>`` environment variables (README, "Configuration").
ENV_SETTINGS = (
    "ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "PUBLIC_URL",
    "ISSUER_DID",
    "ISSUER_NAME",
    "RECIPIENT_IDENTITY",
    # Rate limits (portfolio/limits.py).
    "RATELIMIT_ENABLED",
    "RATELIMIT_STORAGE_URL",
    "RATELIMIT_KEY_PREFIX",
    "RATELIMIT_VERIFY",
    "RATELIMIT_TOKEN",
    "RATELIMIT_SIGN_IN",
    "RATELIMIT_PASSWORD_RESET",
    # Bulk jobs (portfolio/bulk.py).
    "BULK_LEASE_SECONDS",
    "BULK_BACKGROUND",
    # Long lists (portfolio/paging.py).
    "LIST_COUNT_LIMIT",
)


@dataclass
class Components:
    """What the blueprints and CLI commands need, built once per app."""

    loader: DocumentLoader
    key_store: KeyStore
    issuer_did: str
    issuer_name: str

    def did_document(self) -> dict[str, Any]:
        """The service issuer's DID document: every key that may still verify."""
        return did_web_document(self.issuer_did, self.key_store.list(self.issuer_did))

    def verifier(
        self,
        *,
        did_documents: Mapping[str, Mapping[str, Any]] | None = None,
        status_lists: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Verifier:
        """The service's verifier: our issuers and status lists from the database, did:key
        offline, plus documents at hand.  Needs an application context."""
        from portfolio.services import service_verifier

        return service_verifier(did_documents=did_documents, status_lists=status_lists)


def default_issuer_did(public_url: str) -> str:
    """``did:web`` of the public URL's host (and path), e.g. ``did:web:127.0.0.1%3A5000``."""
    parts = urlsplit(public_url)
    return did_web_from_url(f"https://{parts.netloc}{parts.path.rstrip('/')}")


def load_config(app: Flask, environ: Mapping[str, str]) -> None:
    """Defaults, then ``CREDFOLIO_*`` environment variables (the test mapping comes last)."""
    app.config.from_mapping(
        CREDFOLIO_ENV="development",
        CREDFOLIO_PUBLIC_URL="http://127.0.0.1:5000",
        CREDFOLIO_ISSUER_NAME="Credfolio Demo School",
        CREDFOLIO_STATUS_PURPOSES=("revocation", "suspension"),
        CREDFOLIO_ALLOW_FETCH=False,
        CREDFOLIO_RECIPIENT_IDENTITY="email",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(app.instance_path) / 'credfolio.sqlite3'}",
    )
    for name in ENV_SETTINGS:
        value = environ.get(f"CREDFOLIO_{name}")
        if value:
            app.config[f"CREDFOLIO_{name}"] = value
    if environ.get("CREDFOLIO_ALLOW_FETCH"):
        app.config["CREDFOLIO_ALLOW_FETCH"] = environ["CREDFOLIO_ALLOW_FETCH"].strip().lower() in {
            "1",
            "true",
            "yes",
            "on",
        }
    if environ.get("CREDFOLIO_DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = environ["CREDFOLIO_DATABASE_URL"]


def _secret_key(app: Flask, *, production: bool) -> str:
    if app.config.get("CREDFOLIO_SECRET_KEY"):
        return str(app.config["CREDFOLIO_SECRET_KEY"])
    if production:
        raise RuntimeError(
            "CREDFOLIO_SECRET_KEY must be set in production (a long random string that signs "
            "session cookies)"
        )
    path = Path(app.instance_path) / "flask-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    Order: defaults, ``CREDFOLIO_*`` environment variables, then ``test_config``.  Refuses to
    start in production without the key-encryption secret and the session secret, and when a
    bundled JSON-LD context does not match its recorded sha256.
    """
    instance_path = os.environ.get("CREDFOLIO_INSTANCE_PATH") or str(ROOT / "instance")
    if test_config and test_config.get("INSTANCE_PATH"):
        instance_path = str(test_config["INSTANCE_PATH"])
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "portfolio" / "static"),
        static_url_path="/static",
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    load_config(app, os.environ)
    if test_config:
        app.config.update(test_config)
    production = app.config["CREDFOLIO_ENV"] == "production"
    if app.config["CREDFOLIO_RECIPIENT_IDENTITY"] not in ("email", "did"):
        raise RuntimeError(
            "CREDFOLIO_RECIPIENT_IDENTITY must be 'email' (a salted hash of the student's email) "
            "or 'did' (the student's DID when they gave one)"
        )
    app.config["SECRET_KEY"] = _secret_key(app, production=production)
    app.config.setdefault(
        "CREDFOLIO_ISSUER_DID", default_issuer_did(app.config["CREDFOLIO_PUBLIC_URL"])
    )

    environ = dict(os.environ)
    for name in ("CREDFOLIO_KEY_ENCRYPTION_SECRET", "CREDFOLIO_KEY_ENCRYPTION_SECRET_FILE"):
        if app.config.get(name):
            environ[name] = str(app.config[name])
    secret = load_key_encryption_secret(
        environ=environ, instance_path=Path(app.instance_path), production=production
    )
    from portfolio.keystore import SqlKeyStore

    app.extensions["credfolio"] = Components(
        loader=DocumentLoader.bundled(),
        key_store=SqlKeyStore(secret=secret),
        issuer_did=app.config["CREDFOLIO_ISSUER_DID"],
        issuer_name=app.config["CREDFOLIO_ISSUER_NAME"],
    )

    from portfolio import models  # noqa: F401  (registers the tables on the metadata)
    from portfolio.db import db
    from portfolio.operations import configure_engine

    configure_engine(app)  # pre-ping and connect timeout: survive database outages
    db.init_app(app)
    # Sessions and forms (portfolio/auth.py): the session cookie is unreadable by scripts, not
    # sent with cross-site POSTs, and HTTPS-only when the service is served over HTTPS; every
    # POST needs a CSRF token (the JSON API blueprints are exempted once all are registered).
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["CREDFOLIO_PUBLIC_URL"].startswith("https://"),
    )
    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)
    Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True)

    from portfolio import api, views

    app.register_blueprint(views.bp)
    views.register_error_pages(app)
    app.register_blueprint(api.bp)
    # -- more blueprints: one import + register line each, below this line --
    from portfolio import bulk_pages

    app.register_blueprint(bulk_pages.bp)
    from portfolio import audit_pages, privacy

    app.register_blueprint(audit_pages.bp)
    app.register_blueprint(privacy.bp)
    from portfolio import catalogue

    app.register_blueprint(catalogue.bp)
    from portfolio import credential_evidence, learner, review, submissions

    app.register_blueprint(submissions.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(learner.bp)
    app.register_blueprint(credential_evidence.bp)
    from portfolio import progress_pages

    app.register_blueprint(progress_pages.bp)
    from portfolio import evidence, portfolios

    app.register_blueprint(evidence.bp)
    app.register_blueprint(portfolios.bp)
    from portfolio.storage import init_storage

    init_storage(app)
    from portfolio import accounts

    app.register_blueprint(accounts.bp)
    from portfolio import oauth, vcapi

    app.register_blueprint(oauth.bp)
    app.register_blueprint(vcapi.bp)
    from portfolio import public

    app.register_blueprint(public.bp)
    from portfolio import admin, auth

    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    # Security headers on every response; rate limits on views registered above (issue #7).
    from portfolio import limits, paging, security_headers

    security_headers.init_app(app)
    limits.init_app(app)
    paging.init_app(app)

    from credentials.cli import register as register_credential_commands
    from issuer_keys.cli import keys as keys_group
    from portfolio.cli import register as register_portfolio_commands

    app.cli.add_command(keys_group)
    register_credential_commands(app.cli)
    register_portfolio_commands(app.cli)
    # -- more CLI commands: one import + add_command line each, below this line --
    from portfolio.bulk_cli import issue_csv_command, jobs_group

    app.cli.add_command(issue_csv_command)
    app.cli.add_command(jobs_group)
    from portfolio.audit_cli import audit_group
    from portfolio.key_compromise import compromised_command

    app.cli.add_command(audit_group)
    keys_group.add_command(compromised_command)
    from portfolio.catalogue_cli import catalogue_group

    app.cli.add_command(catalogue_group)
    from portfolio.roster_cli import roster_group

    app.cli.add_command(roster_group)
    from portfolio.oauth import clients_group

    app.cli.add_command(clients_group)
    from portfolio.auth import exempt_json_blueprints
    from portfolio.users_cli import users_group

    app.cli.add_command(users_group)
    from portfolio.backup_cli import backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    # After every blueprint is registered: exempt the JSON API blueprints from CSRF.
    exempt_json_blueprints(app)
    # Logs with request ids, /healthz, /readyz, /metrics, 503 on database outages, ProxyFix.
    from portfolio import operations

    operations.init_app(app)
    from portfolio.template_cache import TEMPLATE_CODE

    app.jinja_env.bytecode_cache = TEMPLATE_CODE  # templates compiled once per process
    from portfolio import assets

    assets.init_app(app)  # /static/credfolio.css?v=<sha256>, cached for a year
    return app


@click.group(cls=FlaskGroup, create_app=create_app)
def cli() -> None:
    """Credfolio: portfolios of evidence and verifiable Open Badges 3.0 credentials."""


# `credfolio serve` sits on the group itself, not on the app's CLI: it must run before any app
# (and so Prometheus' multiprocess storage) is set up.
from portfolio.serve import make_serve_command  # noqa: E402

cli.add_command(make_serve_command(create_app))
