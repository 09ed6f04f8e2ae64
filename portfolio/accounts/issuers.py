"""The schools (issuers) people belong to: the service's own issuer, made on first use."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from portfolio.accounts.models import Issuer
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError
from portfolio.core.settings import settings


class PublicUrlChanged(ConflictError):
    """The database's issuer has another DID than the configured public URL gives."""

    code = "PUBLIC_URL_CHANGED"


def ensure_issuer(*, did: str, name: str, slug: str = "default", url: str | None = None) -> Issuer:
    """The issuer with that DID, created (and committed) on first use.

    Raises :class:`PublicUrlChanged` when the slot is taken by an issuer with another DID: the
    service's ``did:web`` comes from its public URL, and every credential issued names it, so
    a new public URL cannot silently make a new issuer (issue 18 §6: it crashed with an
    ``IntegrityError`` instead).
    """
    issuer = db.session.scalar(select(Issuer).where(Issuer.did == did))
    if issuer is None:
        taken = db.session.scalar(select(Issuer).where(Issuer.slug == slug))
        if taken is not None:
            raise PublicUrlChanged(
                f"this database's issuer is {taken.did} (public URL {taken.url or 'unknown'}), "
                f"but the configured public URL gives {did}. Credentials already issued name "
                f"the first, so it cannot change silently: set CREDFOLIO_PUBLIC_URL back to "
                f"{taken.url or 'its old value'}, or keep the issuer with "
                f"CREDFOLIO_ISSUER_DID={taken.did}, or start a new instance (another "
                "CREDFOLIO_INSTANCE_PATH / database)."
            )
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
