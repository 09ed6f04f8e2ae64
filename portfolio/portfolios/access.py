"""Who may see which evidence and portfolio: per-object authorization, in one place.

Views call these and answer 404 when they say no, so a guessed id reveals nothing.
"""

from __future__ import annotations

import hmac

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.core.db import db
from portfolio.evidence.models import Artefact, Evidence
from portfolio.guardians.consent import may_publish
from portfolio.portfolios.models import Portfolio, PortfolioItem, PortfolioSection, Visibility


def is_owner(obj: Evidence | Portfolio, viewer: User | None) -> bool:
    """True when ``viewer`` is signed in and owns ``obj``."""
    return viewer is not None and viewer.is_active and obj.owner_id == viewer.id


def slug_matches(portfolio: Portfolio, share_slug: str | None) -> bool:
    """True when ``portfolio`` is shared by link and ``share_slug`` is its current slug.

    Compared in constant time; a revoked link (no slug) or another visibility never matches.
    """
    if portfolio.visibility != Visibility.LINK or not portfolio.share_slug or not share_slug:
        return False
    return hmac.compare_digest(portfolio.share_slug.encode(), share_slug.encode())


def can_view_portfolio(
    portfolio: Portfolio, viewer: User | None, *, share_slug: str | None = None
) -> bool:
    """True when ``viewer`` may see ``portfolio``: its owner always; anyone when it is public;
    anyone holding the current slug when it is shared by link; nobody else.  A minor's
    portfolio is shown to others only while a consent of hers stands (checked at serving
    time, so a withdrawal hides it from the next request on)."""
    if is_owner(portfolio, viewer):
        return True
    if portfolio.visibility != Visibility.PUBLIC and not slug_matches(portfolio, share_slug):
        return False
    return may_publish(portfolio.owner)


def hidden_for_consent(portfolio: Portfolio) -> bool:
    """True when ``portfolio`` is public or shared by link but not served to anyone but its
    owner, because she is a minor with no standing consent (the owner's pages say why)."""
    return portfolio.visibility != Visibility.PRIVATE and not may_publish(portfolio.owner)


def portfolio_contains(portfolio: Portfolio, evidence: Evidence) -> bool:
    """True when ``evidence`` is placed in one of ``portfolio`` 's sections (same owner)."""
    if evidence.owner_id != portfolio.owner_id:
        return False
    found = db.session.scalar(
        select(PortfolioItem.id)
        .join(PortfolioSection, PortfolioItem.section_id == PortfolioSection.id)
        .where(
            PortfolioSection.portfolio_id == portfolio.id,
            PortfolioItem.evidence_id == evidence.id,
        )
        .limit(1)
    )
    return found is not None


def can_view_evidence(
    evidence: Evidence, viewer: User | None, *, share_slug: str | None = None
) -> bool:
    """True when ``viewer`` may see ``evidence``.

    The owner always may.  Anyone else only through a portfolio of the owner that contains it
    and that they may see: a public one, or — with ``share_slug`` — the link-shared portfolio
    with that slug.  Evidence in no shared portfolio is private: nobody else sees it.
    """
    if is_owner(evidence, viewer):
        return True
    portfolios = db.session.scalars(
        select(Portfolio)
        .join(PortfolioSection, PortfolioSection.portfolio_id == Portfolio.id)
        .join(PortfolioItem, PortfolioItem.section_id == PortfolioSection.id)
        .where(PortfolioItem.evidence_id == evidence.id, Portfolio.owner_id == evidence.owner_id)
    ).unique()
    shown = any(
        p.visibility == Visibility.PUBLIC or slug_matches(p, share_slug) for p in portfolios
    )
    return shown and may_publish(evidence.owner)


def artefact_in_portfolio(portfolio: Portfolio, artefact_public_id: str) -> Artefact | None:
    """The artefact with that public id when its evidence is in ``portfolio``, else None."""
    artefact: Artefact | None = db.session.scalar(
        select(Artefact).where(Artefact.public_id == artefact_public_id)
    )
    if artefact is None or not portfolio_contains(portfolio, artefact.evidence):
        return None
    return artefact
