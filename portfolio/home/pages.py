"""The home page: signed-in people go to their role's home; everyone else sees what this
Credfolio instance is for, the way to verify a credential, and who its issuer is."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template
from sqlalchemy import select
from werkzeug.wrappers import Response

from portfolio.accounts.auth import current_user
from portfolio.accounts.models import Issuer
from portfolio.accounts.sign_in_pages import role_home
from portfolio.core.db import db

bp = Blueprint("home", __name__)


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
        return redirect(role_home(user))
    components = current_app.extensions["credfolio"]
    keys = components.key_store.list(components.issuer_did)
    return render_template(
        "home/index.html",
        issuer_did=components.issuer_did,
        issuer_name=_issuer_name(components.issuer_name),
        keys=keys,
    )
