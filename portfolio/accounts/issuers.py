"""The schools (issuers) people belong to: the service's own issuer, made on first use."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from portfolio.accounts.models import Issuer
from portfolio.core.db import db, unit_of_work
from portfolio.core.settings import settings


def ensure_issuer(*, did: str, name: str, slug: str = "default", url: str | None = None) -> Issuer:
    """The issuer with that DID, created (and committed) on first use."""
    issuer = db.session.scalar(select(Issuer).where(Issuer.did == did))
    if issuer is None:
        issuer = Issuer(slug=slug, did=did, name=name, url=url)
        with unit_of_work():
            db.session.add(issuer)
    return issuer


def default_issuer() -> Issuer:
    """The service's own issuer (``CREDFOLIO_ISSUER_DID``)."""
    components = current_app.extensions["credfolio"]
    return ensure_issuer(
        did=components.issuer_did, name=components.issuer_name, url=settings().public_url
    )
