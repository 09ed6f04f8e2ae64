"""The home page: signed-in people go to their role's home; everyone else sees what this
Credfolio instance is for, the way to verify a credential, and who its issuer is."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from portfolio.accounts.auth import current_user
from portfolio.accounts.models import Issuer
from portfolio.core.db import db

bp = Blueprint("home", __name__)

#: Where each role starts: its own home page, once the app has one (other pages register them;
#: until then the public home is everyone's).
ROLE_HOMES = {"student": "learner.home", "admin": "admin.home", "assessor": "review.index"}


def endpoint_or(endpoint: str, fallback: str) -> str:
    """``endpoint`` if the app has a view of that name, else ``fallback`` (for templates: the
    header's links to pages that may not exist yet)."""
    return endpoint if endpoint in current_app.view_functions else fallback


@bp.app_context_processor
def _endpoint_helpers() -> dict[str, object]:
    return {"endpoint_or": endpoint_or}


def role_home(role: str) -> str | None:
    """The endpoint of ``role``'s home page, or none when the app has none for it."""
    endpoint = ROLE_HOMES.get(role)
    return endpoint if endpoint and endpoint in current_app.view_functions else None


def _issuer_name(configured: str) -> str:
    """The issuer's name from its profile (the database); the configured default before the
    database has an issuer."""
    components = current_app.extensions["credfolio"]
    name = db.session.scalar(select(Issuer.name).where(Issuer.did == components.issuer_did))
    return name or configured


@bp.get("/")
def index() -> str | Response:
    """A signed-in person's role home; otherwise what this Credfolio instance is, who its issuer
    is, and where its keys are published."""
    user = current_user()
    if user is not None:
        endpoint = role_home(user.role)
        if endpoint is not None:
            return redirect(url_for(endpoint))
    components = current_app.extensions["credfolio"]
    keys = components.key_store.list(components.issuer_did)
    return render_template(
        "home/index.html",
        issuer_did=components.issuer_did,
        issuer_name=_issuer_name(components.issuer_name),
        keys=keys,
    )
