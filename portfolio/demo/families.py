"""The demo's families (issue 17 §3): Maya and Tomás are minors; Grace, Maya's guardian, has
consented to Maya's public pages; Rui, Tomás's guardian, has not, so nothing of Tomás's is
public.  Maya shares one portfolio (private otherwise) with her guardians.  Idempotent, like
the rest of the demo."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.core.db import db, unit_of_work
from portfolio.evidence.models import Evidence
from portfolio.guardians import service as guardians
from portfolio.guardians.consent import active_consent
from portfolio.guardians.models import GuardianLink
from portfolio.portfolios.models import Portfolio, PortfolioItem, PortfolioSection, Visibility

#: guardian key → the student keys they are linked to.
FAMILIES = {"grace": ("maya",), "rui": ("tomas",)}
#: The students the school marked as minors.
MINORS = ("maya", "tomas")
#: Guardians who gave consent for their (first) student.
CONSENTING = ("grace",)


def seed_families(people: Mapping[str, User]) -> None:
    """Link the guardians, mark the minors and record Grace's consent (one transaction)."""
    with unit_of_work(write=True):
        for guardian_key, student_keys in FAMILIES.items():
            guardian = people[guardian_key]
            for student_key in student_keys:
                student = people[student_key]
                linked = db.session.scalar(
                    select(GuardianLink.id).where(
                        GuardianLink.guardian_id == guardian.id,
                        GuardianLink.student_id == student.id,
                    )
                )
                if linked is None:
                    db.session.add(GuardianLink(guardian_id=guardian.id, student_id=student.id))
        for key in MINORS:
            people[key].minor = True
        db.session.flush()
        for guardian_key in CONSENTING:
            student = people[FAMILIES[guardian_key][0]]
            if active_consent(student) is None:
                guardians.give_consent(student, people[guardian_key])


#: The portfolio Maya shares with her guardians only: (owner, title, cover, section, evidence).
FAMILY_PORTFOLIO = (
    "maya",
    "For my family",
    "The songs and stories I am proudest of this term. Grandma, the recording is the first one!",
    "Songs and stories",
    ("maya-song", "maya-story"),
)


def seed_family_portfolio(people: Mapping[str, User], evidence: Mapping[str, Evidence]) -> None:
    """Maya's private portfolio shared with her guardians (found again by title)."""
    owner_key, title, cover, section_title, evidence_keys = FAMILY_PORTFOLIO
    owner = people[owner_key]
    with unit_of_work(write=True):
        found = db.session.scalar(
            select(Portfolio.id).where(Portfolio.owner_id == owner.id, Portfolio.title == title)
        )
        if found is not None:
            return
        portfolio = Portfolio(
            owner_id=owner.id,
            title=title,
            cover_text=cover,
            visibility=Visibility.PRIVATE,
            shared_with_guardians=True,
        )
        section = PortfolioSection(title=section_title, position=0)
        for position, key in enumerate(evidence_keys):
            section.items.append(PortfolioItem(evidence=evidence[key], position=position))
        portfolio.sections.append(section)
        db.session.add(portfolio)
