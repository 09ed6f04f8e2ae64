"""Portfolios: finding a student's own and a shared one, the credentials shown with it, share
links, and every change to a portfolio, its sections and their items (one unit of work each).
Who may see what: :mod:`portfolio.portfolios.access`."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import ConflictError, CredfolioError, NotAllowedError, NotFoundError
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import utcnow
from portfolio.evidence.models import Evidence
from portfolio.evidence.ordering import move, next_position
from portfolio.guardians.consent import may_publish
from portfolio.issuing.models import IssuedCredential
from portfolio.portfolios.access import slug_matches
from portfolio.portfolios.models import Portfolio, PortfolioItem, PortfolioSection, Visibility

MAX_COVER = 50_000


class PlacementError(CredfolioError):
    """Evidence that cannot be placed in a section; the message says why."""


class EvidenceNotFoundError(PlacementError, NotFoundError):
    """No evidence of the portfolio's owner has that id (someone else's is the same as none)."""

    code = "EVIDENCE_NOT_FOUND"


class AlreadyPlacedError(PlacementError, ConflictError):
    """The evidence is in that section already (a piece is placed once per section)."""

    code = "ALREADY_PLACED"


#: Why a minor's portfolio cannot be public or shared by link (issue 17 §3).
CONSENT_NEEDED = _l(
    "A guardian's consent is needed before this portfolio can be public or shared by link. "
    "Ask your guardian to give it on their Credfolio page, or your school to record it."
)


def new_share_slug() -> str:
    """A fresh, unguessable link slug: 16 random bytes (128 bits), base64url."""
    return secrets.token_urlsafe(16)


def earned_credentials(owner: User) -> list[IssuedCredential]:
    """The credentials issued to ``owner`` that they have not hidden, newest first."""
    return list(
        db.session.scalars(
            select(IssuedCredential)
            .where(
                IssuedCredential.recipient_user_id == owner.id,
                IssuedCredential.hidden_by_recipient.is_(False),
            )
            .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())
        )
    )


def find_portfolio(public_id: str) -> Portfolio | None:
    """The portfolio with that public id (whoever owns it)."""
    portfolio: Portfolio | None = db.session.scalar(
        select(Portfolio).where(Portfolio.public_id == public_id)
    )
    return portfolio


def owned_portfolios(owner: User) -> list[Portfolio]:
    """``owner`` 's portfolios, oldest first."""
    return list(
        db.session.scalars(
            select(Portfolio).where(Portfolio.owner_id == owner.id).order_by(Portfolio.id)
        )
    )


def owned_evidence(portfolio: Portfolio) -> list[Evidence]:
    """The evidence its owner may place in the portfolio, by title."""
    return list(
        db.session.scalars(
            select(Evidence).where(Evidence.owner_id == portfolio.owner_id).order_by(Evidence.title)
        )
    )


def shared_portfolio(slug: str) -> Portfolio | None:
    """The portfolio shared by link with that slug; None once the link is revoked or
    replaced."""
    portfolio: Portfolio | None = db.session.scalar(
        select(Portfolio).where(Portfolio.share_slug == slug)
    )
    if portfolio is None or not slug_matches(portfolio, slug):
        return None
    return portfolio


# -- changes, one unit of work each ----------------------------------------------------------


def _touch(portfolio: Portfolio) -> None:
    portfolio.updated_at = utcnow()


def create_portfolio(owner: User, *, title: str, cover_text: str) -> Portfolio:
    """A new, private portfolio."""
    with unit_of_work():
        portfolio = Portfolio(
            owner_id=owner.id, visibility=Visibility.PRIVATE, title=title, cover_text=cover_text
        )
        db.session.add(portfolio)
    return portfolio


def update_details(portfolio: Portfolio, *, title: str, cover_text: str) -> None:
    """Change the title and cover text (Markdown)."""
    with unit_of_work():
        portfolio.title, portfolio.cover_text = title, cover_text
        _touch(portfolio)


def set_visibility(portfolio: Portfolio, visibility: Visibility) -> None:
    """Make the portfolio private, shared by link, or public.

    Only a link-shared portfolio has a slug: sharing by link makes one (if there is none
    yet), and any other visibility clears it, so the old link stops working.  Raises
    :class:`NotAllowedError` when the owner is a minor with no standing consent and the
    portfolio would be public or shared by link.
    """
    if visibility != Visibility.PRIVATE and not may_publish(portfolio.owner):
        raise NotAllowedError(CONSENT_NEEDED, code="CONSENT_NEEDED")
    with unit_of_work():
        portfolio.visibility = visibility
        if visibility == Visibility.LINK:
            portfolio.share_slug = portfolio.share_slug or new_share_slug()
        else:
            portfolio.share_slug = None
        _touch(portfolio)


def share_with_guardians(portfolio: Portfolio, *, shared: bool) -> None:
    """Show the portfolio to the owner's linked guardians (read only), or stop showing it;
    independent of its visibility (a private portfolio can be shared with family alone)."""
    with unit_of_work():
        portfolio.shared_with_guardians = shared
        _touch(portfolio)


def revoke_link(portfolio: Portfolio, *, replace: bool) -> None:
    """Revoke the shared link (it answers 404 at once): a new link replaces it when
    ``replace``, else the portfolio becomes private."""
    with unit_of_work():
        if replace:
            portfolio.visibility = Visibility.LINK
            portfolio.share_slug = new_share_slug()
        else:
            portfolio.visibility = Visibility.PRIVATE
            portfolio.share_slug = None
        _touch(portfolio)


def delete_portfolio(portfolio: Portfolio) -> None:
    """Delete the portfolio, its sections and placements (the evidence itself stays)."""
    with unit_of_work():
        db.session.delete(portfolio)


def add_section(portfolio: Portfolio, title: str) -> PortfolioSection:
    """Add a section at the end."""
    with unit_of_work():
        section = PortfolioSection(title=title, position=next_position(portfolio.sections))
        portfolio.sections.append(section)
        _touch(portfolio)
    return section


def rename_section(portfolio: Portfolio, section: PortfolioSection, title: str) -> None:
    """Rename one of the portfolio's sections."""
    with unit_of_work():
        section.title = title
        _touch(portfolio)


def move_section(portfolio: Portfolio, section: PortfolioSection, direction: str) -> bool:
    """Move a section one place ``up`` or ``down``; False (nothing changed) when it cannot."""
    with unit_of_work():
        moved = move(portfolio.sections, section, direction)
        if moved:
            _touch(portfolio)
    return moved


def delete_section(portfolio: Portfolio, section: PortfolioSection) -> None:
    """Delete a section and its placements (the evidence itself stays)."""
    with unit_of_work():
        portfolio.sections.remove(section)
        _touch(portfolio)


def place_evidence(portfolio: Portfolio, section: PortfolioSection, evidence_id: str) -> None:
    """Place a piece of the owner's evidence (by public id) at the end of a section.

    Raises :class:`EvidenceNotFoundError` for someone else's evidence exactly as for evidence
    that does not exist, and :class:`AlreadyPlacedError` when it is in the section already.
    """
    evidence = db.session.scalar(select(Evidence).where(Evidence.public_id == evidence_id))
    if evidence is None or evidence.owner_id != portfolio.owner_id:
        raise EvidenceNotFoundError(_l("Choose a piece of your evidence."))
    if any(item.evidence_id == evidence.id for item in section.items):
        raise AlreadyPlacedError(
            _l("“%(title)s” is already in this section.", title=evidence.title)
        )
    with unit_of_work():
        item = PortfolioItem(evidence=evidence, position=next_position(section.items))
        section.items.append(item)
        _touch(portfolio)


def move_item(portfolio: Portfolio, item: PortfolioItem, direction: str) -> bool:
    """Move a placed piece of evidence one place ``up`` or ``down`` within its section; False
    (nothing changed) when it cannot."""
    with unit_of_work():
        moved = move(item.section.items, item, direction)
        if moved:
            _touch(portfolio)
    return moved


def delete_item(portfolio: Portfolio, item: PortfolioItem) -> None:
    """Take a piece of evidence out of its section (the evidence itself stays)."""
    with unit_of_work():
        item.section.items.remove(item)
        _touch(portfolio)
