"""The home page: what this Credfolio instance is and who its issuer is."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    """What this Credfolio instance is, who its issuer is, and where its keys are published."""
    components = current_app.extensions["credfolio"]
    keys = components.key_store.list(components.issuer_did)
    return render_template(
        "home/index.html",
        issuer_did=components.issuer_did,
        issuer_name=components.issuer_name,
        keys=keys,
    )
