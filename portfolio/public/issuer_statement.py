"""How the public pages name a credential's issuer: as a fact only when a source this service
trusts vouches for it (the ``issuer-trust`` check), else as a claim.

Pure: a verification result and the name the credential gives its issuer in, words out.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from credentials.issuer_trust import THIS_SERVICE
from credentials.verify import VerificationResult


@dataclass(frozen=True)
class IssuerStatement:
    """``text`` is what the page says after "Issued by" (confirmed) or on its own (a claim);
    ``name`` the issuer's name as far as it may be repeated (in a title, a caption)."""

    confirmed: bool
    text: str
    name: str


def issuer_statement(result: VerificationResult | None, *, claimed: str) -> IssuerStatement:
    """ "Issued by X (an issuer of this service)", "Issued by X (listed in REGISTRY)", or "The
    issuer calls itself 'X'; this name is not confirmed".

    Confirmed only when the signature is genuine (``VerificationResult.genuine``: signed by the
    issuer's key, unchanged) *and* ``issuer-trust`` passed; the name is then the trusted
    source's, never the credential's own.  A revoked or expired credential can have a proven
    issuer; one whose signature does not hold has none, whoever its issuer object names.
    """
    trusted = result.trusted_issuer if result is not None else None
    if result is not None and result.genuine and result.issuer_confirmed and trusted:
        text = (
            _("Issued by %(name)s (an issuer of this service)", name=trusted.name)
            if trusted.source == THIS_SERVICE
            else _(
                "Issued by %(name)s (listed in %(source)s)",
                name=trusted.name,
                source=trusted.source,
            )
        )
        return IssuerStatement(True, text, trusted.name)
    if claimed:
        return IssuerStatement(
            False,
            _("The issuer calls itself '%(name)s'; this name is not confirmed", name=claimed),
            _("'%(name)s' (not confirmed)", name=claimed),
        )
    return IssuerStatement(
        False, _("The issuer gives no name; it is not confirmed"), _("Unknown issuer")
    )
