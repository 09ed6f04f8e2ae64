"""Composition root: ``create_app()`` wires configuration, the credential engine, the key store,
the database and the web blueprints together; ``cli`` is the ``credfolio`` command.

``flask --app wsgi run``, ``gunicorn 'wsgi:create_app()'`` and ``credfolio run`` all work.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
from flask import Blueprint, Flask
from flask.cli import FlaskGroup
from flask_migrate import Migrate

from credentials.jsonld import DEFAULT_CONTEXTS_DIR, DocumentLoader
from credentials.verify import Verifier
from issuer_keys.did import did_web_document, did_web_from_url
from issuer_keys.encryption import (
    ENV_SECRET,
    ENV_SECRET_FILE,
    KeyEncryptionSecret,
    load_key_encryption_secret,
)
from issuer_keys.store import KeyStore
from portfolio.core.settings import EXTENSION as SETTINGS
from portfolio.core.settings import Settings

if TYPE_CHECKING:
    from portfolio.assessment.signals import SignalSource
    from portfolio.issuing.status_changes import Follower

ROOT = Path(__file__).resolve().parent
MIGRATIONS = ROOT / "portfolio" / "migrations"


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
        from portfolio.issuing.service import service_verifier

        return service_verifier(did_documents=did_documents, status_lists=status_lists)


def default_issuer_did(public_url: str) -> str:
    """``did:web`` of the public URL's host (and path), e.g. ``did:web:127.0.0.1%3A5000``."""
    parts = urlsplit(public_url)
    return did_web_from_url(f"https://{parts.netloc}{parts.path.rstrip('/')}")


def load_config(app: Flask, config: Settings) -> None:
    """``app.config`` from the typed settings: the keys other code reads there, and the
    database URL (SQLite in the instance folder unless ``CREDFOLIO_DATABASE_URL`` is set)."""
    app.config.from_mapping(config.app_config())
    app.config["SQLALCHEMY_DATABASE_URI"] = (
        config.database_url or f"sqlite:///{Path(app.instance_path) / 'credfolio.sqlite3'}"
    )


def _secret_key(app: Flask, config: Settings) -> str:
    if config.secret_key:
        return config.secret_key
    if config.production:
        raise RuntimeError(
            "CREDFOLIO_SECRET_KEY must be set in production (a long random string that signs "
            "session cookies)"
        )
    path = Path(app.instance_path) / "flask-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _key_encryption_secret(app: Flask, config: Settings) -> KeyEncryptionSecret:
    """The key-encryption secret from the settings (or, in development, the instance folder)."""
    sources = {
        ENV_SECRET: config.key_encryption_secret or "",
        ENV_SECRET_FILE: config.key_encryption_secret_file or "",
    }
    return load_key_encryption_secret(
        environ=sources, instance_path=Path(app.instance_path), production=config.production
    )


@dataclass(frozen=True)
class Feature:
    """A feature package's part in the app: its blueprints (pages and JSON) and its CLI
    commands (``parent`` names the group a command joins; None: the top level)."""

    name: str
    blueprints: tuple[Blueprint, ...] = ()
    commands: tuple[tuple[click.Command, str | None], ...] = ()
    #: What follows a credential's revocation or suspension in this feature's own records
    #: (issuing cannot import the features above it): portfolio/issuing/status_changes.py.
    status_followers: tuple[Follower, ...] = ()
    #: Early signals this feature adds to the cohort view (assessment cannot import the
    #: features above it): portfolio/assessment/signals.py.
    cohort_signals: tuple[SignalSource, ...] = ()


def feature_list() -> tuple[Feature, ...]:
    """Every feature package, lowest layer first (docs/architecture.md): the one list from
    which the app registers blueprints and CLI commands.  Importing the packages also puts
    every table on the metadata.

    Longer than our 60-line rule on purpose: it is a table, one entry per package, and reads
    best whole (a new blueprint or command is one line in its package's entry)."""
    from portfolio.accounts import cli as accounts_cli
    from portfolio.accounts import pages as accounts_pages
    from portfolio.accounts import sign_in_pages
    from portfolio.assessment import (
        peer_pages,
        progress_pages,
        review_pages,
        self_assessment_pages,
        signal_pages,
        submission_pages,
    )
    from portfolio.assessment.signals import ASSESSMENT_SIGNALS
    from portfolio.assessment.stack_revocation import revoke_stacks_with_component
    from portfolio.audit import cli as audit_cli
    from portfolio.audit import pages as audit_pages
    from portfolio.bulk import cli as bulk_cli
    from portfolio.bulk import pages as bulk_pages
    from portfolio.catalogue import cli as catalogue_cli
    from portfolio.catalogue import pages as catalogue_pages
    from portfolio.demo import cli as demo_cli
    from portfolio.evidence import pages as evidence_pages
    from portfolio.family import pages as family_pages
    from portfolio.guardians import models as _guardian_tables  # noqa: F401
    from portfolio.guardians import pages as guardians_pages
    from portfolio.home import pages as home_pages
    from portfolio.issuing import api as vcapi
    from portfolio.issuing import cli as issuing_cli
    from portfolio.issuing import issuer_cli, issuer_pages, trust_pages
    from portfolio.issuing import pages as issuing_pages
    from portfolio.learner import frozen_evidence_pages, privacy_pages
    from portfolio.learner import pages as learner_pages
    from portfolio.operations import cli as operations_cli
    from portfolio.planning import pages as planning_pages
    from portfolio.planning.signals import plan_signals
    from portfolio.portfolios import pages as portfolio_pages
    from portfolio.public import api as public_api
    from portfolio.public import evidence_pages as credential_evidence_pages
    from portfolio.public import pages as public_pages

    return (
        Feature(
            "accounts",
            blueprints=(sign_in_pages.bp, accounts_pages.bp),
            commands=((accounts_cli.users_group, None), (accounts_cli.roster_group, None)),
        ),
        Feature("guardians", blueprints=(guardians_pages.bp,)),
        Feature("audit", blueprints=(audit_pages.bp,), commands=((audit_cli.audit_group, None),)),
        Feature(
            "issuing",
            blueprints=(
                vcapi.oauth_bp,
                vcapi.bp,
                issuing_pages.bp,
                issuer_pages.bp,
                trust_pages.bp,
            ),
            commands=(
                (issuing_cli.credentials_group, None),
                (issuing_cli.clients_group, None),
                (issuing_cli.compromised_command, "keys"),
                (issuer_cli.create_did_key_command, "keys"),
                (issuer_cli.issuer_group, None),
            ),
        ),
        Feature(
            "catalogue",
            blueprints=(catalogue_pages.bp,),
            commands=((catalogue_cli.catalogue_group, None),),
        ),
        Feature("evidence", blueprints=(evidence_pages.bp,)),
        Feature("portfolios", blueprints=(portfolio_pages.bp,)),
        Feature(
            "assessment",
            blueprints=(
                submission_pages.bp,
                review_pages.bp,
                progress_pages.bp,
                signal_pages.bp,
                self_assessment_pages.bp,
                peer_pages.bp,
            ),
            status_followers=(revoke_stacks_with_component,),
            cohort_signals=ASSESSMENT_SIGNALS,
        ),
        Feature("planning", blueprints=(planning_pages.bp,), cohort_signals=(plan_signals,)),
        Feature(
            "public",
            blueprints=(public_api.bp, credential_evidence_pages.bp, public_pages.bp),
        ),
        Feature(
            "learner",
            blueprints=(learner_pages.bp, privacy_pages.bp, frozen_evidence_pages.bp),
        ),
        Feature("family", blueprints=(family_pages.bp,)),
        Feature(
            "bulk",
            blueprints=(bulk_pages.bp,),
            commands=((bulk_cli.issue_csv_command, None), (bulk_cli.jobs_group, None)),
        ),
        Feature(
            "operations",
            commands=(
                (operations_cli.init_db, None),
                (operations_cli.secrets_group, None),
                (operations_cli.storage_group, None),
                (operations_cli.doctor_command, None),
                (operations_cli.backup_command, None),
                (operations_cli.restore_command, None),
            ),
        ),
        Feature("demo", commands=((demo_cli.demo_setup, None),)),
        Feature("home", blueprints=(home_pages.bp,)),
    )


def _add_commands(app: Flask, features: tuple[Feature, ...]) -> None:
    """The libraries' commands (``keys``, ``verify``, ...), then every feature's."""
    from credentials.cli import register as register_credential_commands
    from issuer_keys.cli import keys as keys_group
    from portfolio.core.i18n import in_terminal_language

    groups: dict[str, click.Group] = {"keys": keys_group}
    app.cli.add_command(keys_group)
    register_credential_commands(app.cli)
    for feature in features:
        for command, parent in feature.commands:
            # Messages meant for people come in the terminal's language (LANG, LC_ALL).
            (groups[parent] if parent else app.cli).add_command(in_terminal_language(command))


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    Order: defaults, ``CREDFOLIO_*`` environment variables, then ``test_config``.  Refuses to
    start on a setting with a bad value, in production without the key-encryption secret, the
    session secret or a mail server, and when a bundled JSON-LD context does not match its
    recorded sha256.
    """
    app, config = _configured_app(dict(test_config or {}))
    from portfolio.issuing.keystore import SqlKeyStore

    contexts = Path(config.contexts_dir) if config.contexts_dir else DEFAULT_CONTEXTS_DIR
    app.extensions["credfolio"] = Components(
        loader=DocumentLoader.bundled(contexts),
        key_store=SqlKeyStore(secret=_key_encryption_secret(app, config)),
        issuer_did=config.issuer_did or "",
        issuer_name=config.issuer_name,
    )
    _check_mail(config)

    from portfolio.core.db import db
    from portfolio.operations.setup import configure_engine

    features = feature_list()  # imports every feature, so every table is on the metadata
    configure_engine(app)  # pre-ping and connect timeout: survive database outages
    db.init_app(app)
    # Sessions and forms (portfolio/accounts/auth.py): the session cookie is unreadable by
    # scripts, not sent with cross-site POSTs, and HTTPS-only when the service is served over
    # HTTPS; every POST needs a CSRF token (the JSON API blueprints are exempted once all are
    # registered).
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["CREDFOLIO_PUBLIC_URL"].startswith("https://"),
    )
    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)
    Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    from portfolio.issuing import trust

    # Trust registry files (issuer-trust): read once; one that cannot be read stops the start.
    app.extensions[trust.EXTENSION] = trust.load_registries(config.trust_registries)
    _wire(app, features)
    return app


def _configured_app(test_config: dict[str, Any]) -> tuple[Flask, Settings]:
    """The Flask app with its settings: read once from the environment (the only place that
    reads it) and the test mapping, kept typed in ``app.extensions`` and mirrored in
    ``app.config`` (where the test mapping's own keys come last, as they always did)."""
    config = Settings.from_sources(os.environ, test_config)
    app = Flask(
        __name__,
        instance_path=str(
            test_config.get("INSTANCE_PATH") or config.instance_path or ROOT / "instance"
        ),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "portfolio" / "static"),
        static_url_path="/static",
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    config = replace(config, issuer_did=config.issuer_did or default_issuer_did(config.public_url))
    app.extensions[SETTINGS] = config
    load_config(app, config)
    app.config.update(test_config)
    app.config["SECRET_KEY"] = _secret_key(app, config)
    return app, config


def _check_mail(config: Settings) -> None:
    """In production, mail goes to one place for every server (issue 18 §4): an SMTP server,
    or an outbox folder the operator names (one every server shares).  The default outbox is
    inside each server's instance folder, which split messages across machines."""
    if config.production and not config.smtp_host and not config.mail_outbox:
        raise RuntimeError(
            "CREDFOLIO_SMTP_HOST must be set in production: without it each server writes its "
            "mail (invitations, password resets, notices) to its own instance folder, where "
            "nobody reads it. (For a single server, CREDFOLIO_MAIL_OUTBOX may name a folder "
            "instead; see docs/deploy.md.)"
        )


def _wire(app: Flask, features: tuple[Feature, ...]) -> None:
    """Error pages, storage, every blueprint and command, then the app-wide parts."""
    from portfolio.assessment.signals import register_signal_sources
    from portfolio.core import assets, error_pages, i18n, limits, paging, security_headers
    from portfolio.files.storage import init_storage
    from portfolio.issuing.status_changes import register_followers

    i18n.init_app(app)  # Flask-Babel: the reader's language, gettext in templates
    error_pages.register_error_pages(app)
    init_storage(app)
    for feature in features:
        for blueprint in feature.blueprints:
            app.register_blueprint(blueprint)
        register_followers(app, feature.status_followers)
        register_signal_sources(app, feature.cohort_signals)
    # Security headers on every response; rate limits on the views registered above.
    security_headers.init_app(app)
    limits.init_app(app)
    paging.init_app(app)
    _add_commands(app, features)

    from portfolio.accounts.auth import exempt_json_blueprints
    from portfolio.operations import setup as operations

    # After every blueprint is registered: exempt the JSON API blueprints from CSRF.
    exempt_json_blueprints(app)
    # Logs with request ids, /healthz, /readyz, /metrics, 503 on database outages, ProxyFix.
    operations.init_app(app)
    from portfolio.core.template_cache import TEMPLATE_CODE

    app.jinja_env.bytecode_cache = TEMPLATE_CODE  # templates compiled once per process
    assets.init_app(app)  # /static/credfolio.css?v=<sha256>, cached for a year


@click.group(cls=FlaskGroup, create_app=create_app)
def cli() -> None:
    """Credfolio: portfolios of evidence and verifiable Open Badges 3.0 credentials."""


# `credfolio serve` sits on the group itself, not on the app's CLI: it must run before any app
# (and so Prometheus' multiprocess storage) is set up.
from portfolio.operations.serve import make_serve_command  # noqa: E402

cli.add_command(make_serve_command(create_app))
