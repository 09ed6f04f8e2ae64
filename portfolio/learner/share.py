"""Sharing a credential: its public link, LinkedIn's add-to-profile link (live credentials
only), the badge image and certificate, a QR code of the public link and an HTML embed snippet.

Only a *live* credential — not revoked, not suspended, not past its ``valid_until`` — is offered
for LinkedIn or embedding: sharing a credential that no longer verifies would mislead the
people who see it (issue 16).  A credential that is not live shows its state and reason.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import segno
from markupsafe import escape

from portfolio.core.links import public_url_for
from portfolio.issuing.models import IssuedCredential

LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"

#: The state of a credential as its owner sees it on the share panel.
LIVE, REVOKED, SUSPENDED, EXPIRED = "active", "revoked", "suspended", "expired"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def share_state(row: IssuedCredential, now: datetime | None = None) -> str:
    """``active``, ``revoked``, ``suspended`` or ``expired`` (past ``valid_until``)."""
    state = row.state
    if state != LIVE:
        return state
    moment = now or datetime.now(UTC)
    if row.valid_until is not None and _aware(row.valid_until) <= moment:
        return EXPIRED
    return LIVE


def public_page_url(row: IssuedCredential) -> str:
    """The credential's public page, absolute (the configured public URL, never the Host)."""
    return public_url_for("public.credential_page", public_id=row.public_id)


def linkedin_url(row: IssuedCredential, issuer_name: str) -> str:
    """LinkedIn's add-to-profile link for the credential: name, issuer, issue date, URL, id."""
    query = {
        "startTask": "CERTIFICATION_NAME",
        "name": row.achievement_name or "Credential",
        "organizationName": issuer_name,
        "issueYear": str(row.issued_at.year),
        "issueMonth": str(row.issued_at.month),
        "certUrl": public_page_url(row),
        "certId": row.public_id,
    }
    if row.valid_until is not None:
        query["expirationYear"] = str(row.valid_until.year)
        query["expirationMonth"] = str(row.valid_until.month)
    return f"{LINKEDIN_ADD_TO_PROFILE}?{urlencode(query)}"


def embed_snippet(row: IssuedCredential) -> str:
    """HTML that shows the badge image linking to the public page (every value escaped)."""
    page = public_page_url(row)
    image = public_url_for("public.badge_png", public_id=row.public_id)
    alt = row.achievement_name or "Credential"
    return (
        f'<a href="{escape(page)}"><img src="{escape(image)}" alt="{escape(alt)}" '
        'width="200" height="200"></a>'
    )


def qr_svg(url: str) -> bytes:
    """An SVG QR code that encodes ``url`` (dark modules on white, with a quiet zone)."""
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, border=4, xmldecl=True, svgns=True, title=url)
    return out.getvalue()


@dataclass(frozen=True)
class ShareInfo:
    """What the share panel of one credential offers."""

    credential: IssuedCredential
    state: str
    public_url: str
    linkedin_url: str | None
    embed: str | None
    #: False while its holder is a minor with no standing consent (issue 17 §3): the public
    #: page answers "not public", so neither LinkedIn nor an embed is offered.
    publishable: bool = True

    @property
    def live(self) -> bool:
        return self.state == LIVE

    @property
    def consent_needed(self) -> bool:
        """Live, but its public page is hidden until a guardian's consent stands."""
        return self.live and not self.publishable

    @property
    def reason(self) -> str | None:
        if self.state == REVOKED:
            return self.credential.revocation_reason
        if self.state == SUSPENDED:
            return self.credential.suspension_reason
        return None

    @property
    def status_at(self) -> datetime | None:
        if self.state == REVOKED:
            return self.credential.revoked_at
        if self.state == SUSPENDED:
            return self.credential.suspended_at
        if self.state == EXPIRED:
            return self.credential.valid_until
        return None


def share_info(
    row: IssuedCredential,
    issuer_name: str,
    now: datetime | None = None,
    *,
    publishable: bool = True,
) -> ShareInfo:
    """The share panel of ``row``; LinkedIn and the embed only for a live credential whose
    public page is shown (``publishable``: its holder may publish, issue 17 §3)."""
    state = share_state(row, now)
    offered = state == LIVE and publishable
    return ShareInfo(
        credential=row,
        state=state,
        public_url=public_page_url(row),
        linkedin_url=linkedin_url(row, issuer_name) if offered else None,
        embed=embed_snippet(row) if offered else None,
        publishable=publishable,
    )
