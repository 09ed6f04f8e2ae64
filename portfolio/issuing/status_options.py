"""Which status entries an issuer's new credentials carry: always revocation; suspension only
when the issuer switched it on (the administrators' issuer page, ``credfolio issuer
suspension``), because the 1EdTech OB 3.0 schema allows one ``credentialStatus`` object."""

from __future__ import annotations

from portfolio.accounts.actors import record_as
from portfolio.accounts.models import Issuer
from portfolio.core.db import unit_of_work

REVOCATION = "revocation"
SUSPENSION = "suspension"

#: Said wherever suspension is switched on: the issuer page, the CLI and the docs.
STRICT_VALIDATORS_WARNING = (
    "With suspension on, each new credential carries two credentialStatus entries (revocation "
    "and suspension). The VC Data Model 2.0 allows this, but the 1EdTech Open Badges 3.0 JSON "
    "Schema allows only one, so strict OB 3.0 validators (Python jsonschema, ajv, the DCC "
    "verifier) will report those credentials as invalid."
)


def purposes_for(issuer: Issuer) -> tuple[str, ...]:
    """The ``statusPurpose`` of each entry a new credential of ``issuer`` gets, revocation
    first (many verifiers read only the first entry)."""
    return (REVOCATION, SUSPENSION) if issuer.offers_suspension else (REVOCATION,)


def set_suspension(issuer: Issuer, on: bool, *, actor: str) -> bool:
    """Switch suspension on or off for ``issuer``'s future credentials, audited, in one commit.

    Credentials already issued keep the entries they carry: those with a suspension entry can
    still be suspended whatever this says.  Returns whether anything changed.
    """
    with unit_of_work(write=True):
        if issuer.offers_suspension == on:
            return False
        issuer.offers_suspension = on
        record_as(
            "issuer_suspension_changed",
            actor,
            issuer_id=issuer.id,
            target=f"issuer:{issuer.slug}",
            detail={"offers_suspension": "on" if on else "off"},
        )
    return True
