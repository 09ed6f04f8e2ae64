"""Who this service vouches for when it verifies (the ``issuer-trust`` check,
credentials/issuer_trust.py), most authoritative first:

1. its own issuers (the ``issuers`` table: schools and assessors' did:keys) — "an issuer of this
   service";
2. the local trust list administrators keep on the "Trust and privacy" page
   (:class:`~portfolio.issuing.models.TrustedIssuerRow`);
3. DCC issuer-registry files named by ``CREDFOLIO_TRUST_REGISTRIES``, read once at start-up
   (a file that cannot be read stops the start, naming the setting).  Files only: the service
   never fetches a registry.

Changing the local list bumps the verdict generation (verdict_generation.py) in the same
transaction, so no cached verdict outlives it.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select

from credentials.errors import MalformedInputError
from credentials.issuer_trust import (
    THIS_SERVICE,
    IssuerTrustPolicy,
    TrustChain,
    TrustedIssuer,
    TrustRegistry,
)
from portfolio.accounts.models import Issuer, User
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError, InvalidInputError, NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.issuing import verdict_generation
from portfolio.issuing.models import TrustedIssuerRow

#: Where ``create_app`` keeps the registries read from ``CREDFOLIO_TRUST_REGISTRIES``.
EXTENSION = "credfolio.trust_registries"
#: The source named for entries of the administrators' local list.
LOCAL_LIST = "the trust list of this service's administrators"
MAX_REGISTRY_BYTES = 16 * 1024 * 1024


class TrustListError(InvalidInputError):
    """An entry the local trust list cannot take (the message is safe to show)."""


class TrustListConflictError(TrustListError, ConflictError):
    """The DID is already listed, or is one of this service's own issuers."""


class TrustListNotFoundError(TrustListError, NotFoundError):
    """No such entry of the administrator's school."""


def own_issuer(did: str) -> TrustedIssuer | None:
    """One of this service's issuers, named as the service knows it: a row of ``issuers``, or
    the configured service issuer (``CREDFOLIO_ISSUER_DID``) before it has one."""
    issuer = db.session.scalar(select(Issuer).where(Issuer.did == did))
    if issuer is None:
        components = current_app.extensions["credfolio"]
        if did and did == components.issuer_did:
            return TrustedIssuer(did=did, name=components.issuer_name, source=THIS_SERVICE)
        return None
    return TrustedIssuer(did=did, name=issuer.name, source=THIS_SERVICE, url=issuer.url)


def locally_trusted(did: str) -> TrustedIssuer | None:
    """An entry of the administrators' local trust list."""
    row = db.session.scalar(select(TrustedIssuerRow).where(TrustedIssuerRow.did == did))
    if row is None:
        return None
    return TrustedIssuer(did=did, name=row.name, source=LOCAL_LIST, url=row.url)


def registries(app: Flask | None = None) -> list[TrustRegistry]:
    """The registries read at start-up from ``CREDFOLIO_TRUST_REGISTRIES`` (in its order)."""
    found: list[TrustRegistry] = (app or current_app).extensions.get(EXTENSION, [])
    return found


def service_trust_policy() -> IssuerTrustPolicy:
    """Own issuers, then the local list, then each configured registry (needs an app)."""
    return TrustChain([own_issuer, locally_trusted, *registries()])


def load_registries(sources: tuple[tuple[str, str], ...]) -> list[TrustRegistry]:
    """Read each ``(name, path)`` registry file (DCC issuer-registry JSON).

    Raises ``RuntimeError`` naming the setting and the file when one cannot be used: the
    service does not start with a trust registry it was told to use but cannot read.
    """
    loaded = []
    for name, path in sources:
        try:
            data = Path(path).read_bytes()
            if len(data) > MAX_REGISTRY_BYTES:
                raise MalformedInputError(f"the file is larger than {MAX_REGISTRY_BYTES} bytes")
            loaded.append(TrustRegistry.from_dcc_json(name, json.loads(data)))
        except (OSError, ValueError, MalformedInputError) as exc:
            problem = exc.message if isinstance(exc, MalformedInputError) else str(exc)
            raise RuntimeError(
                f"CREDFOLIO_TRUST_REGISTRIES: the registry {name!r} ({path}) cannot be used: "
                f"{problem}"
            ) from None
    return loaded


# -- the local list ------------------------------------------------------------------------


def local_list() -> list[TrustedIssuerRow]:
    """Every entry of the local list, by name."""
    return list(db.session.scalars(select(TrustedIssuerRow).order_by(TrustedIssuerRow.name)))


def add(*, did: str, name: str, url: str | None, actor: User) -> TrustedIssuerRow:
    """Vouch for ``did`` under ``name`` (audited; cached verdicts become stale at once)."""
    did, name = did.strip(), " ".join(name.split())
    if not did.startswith(("did:", "https://")) or any(c.isspace() for c in did):
        raise TrustListError(_l("The identifier must be a DID (did:…) or an https URL."))
    if not name:
        raise TrustListError(_l("Give the name the issuer is to be shown under."))
    url = (url or "").strip() or None
    if url is not None and (not url.startswith("https://") or any(c.isspace() for c in url)):
        raise TrustListError(_l("The web site must be an https:// address."))
    if actor.issuer_id is None:
        raise TrustListNotFoundError(_l("Only a school's administrators keep the trust list."))
    with unit_of_work(write=True):
        if own_issuer(did) is not None:
            raise TrustListConflictError(
                _l("%(did)s is already an issuer of this service.", did=did)
            )
        if db.session.scalar(select(TrustedIssuerRow.id).where(TrustedIssuerRow.did == did)):
            raise TrustListConflictError(_l("%(did)s is already on the list.", did=did))
        row = TrustedIssuerRow(
            did=did,
            name=name,
            url=url,
            added_by_issuer_id=actor.issuer_id,
            added_by_user_id=actor.id,
        )
        db.session.add(row)
        audit.record("trusted_issuer_added", actor=actor, target=did, detail={"name": name})
        verdict_generation.bump()
    return row


def remove(entry_id: int, *, actor: User) -> None:
    """Remove an entry the administrator's own school added (404 for any other)."""
    with unit_of_work(write=True):
        row = db.session.scalar(
            select(TrustedIssuerRow).where(
                TrustedIssuerRow.id == entry_id,
                TrustedIssuerRow.added_by_issuer_id == actor.issuer_id,
            )
        )
        if row is None:
            raise TrustListNotFoundError(_l("No such entry on your school's part of the list."))
        audit.record(
            "trusted_issuer_removed", actor=actor, target=row.did, detail={"name": row.name}
        )
        db.session.delete(row)
        verdict_generation.bump()
