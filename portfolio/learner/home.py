"""The student's home: what to do next, then their work.

Feedback waiting, revisions requested and the competencies to work on come from the progress
map's queries (:func:`portfolio.assessment.progress_queries.student_map`); recent evidence from
the gallery; credentials with their share panels; portfolios.  A fixed number of queries
however much the student has.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portfolio.accounts.models import User
from portfolio.assessment import progress_queries
from portfolio.assessment.models import SubmissionState
from portfolio.assessment.progress import FeedbackItem, MapEntry
from portfolio.core.db import db
from portfolio.evidence import gallery
from portfolio.guardians.consent import may_publish
from portfolio.issuing.models import IssuedCredential
from portfolio.learner.share import ShareInfo, share_info
from portfolio.portfolios.models import Portfolio

#: How many pieces of recent evidence and next steps the home shows.
RECENT_EVIDENCE = 6
NEXT_STEPS = 4


@dataclass(frozen=True)
class Home:
    """Everything on a student's home."""

    revisions: list[FeedbackItem]
    not_yet: list[FeedbackItem]
    next_up: list[MapEntry]
    evidence: list[gallery.EvidenceCard]
    credentials: list[ShareInfo]
    portfolios: list[Portfolio]

    @property
    def has_tasks(self) -> bool:
        return bool(self.revisions or self.not_yet or self.next_up)


def credential_shares(user: User) -> list[ShareInfo]:
    """``user``'s credentials, newest first, each with its share panel (two queries)."""
    rows = db.session.scalars(
        select(IssuedCredential)
        .where(IssuedCredential.recipient_user_id == user.id)
        .options(selectinload(IssuedCredential.issuer))
        .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())
    ).all()
    publishable = may_publish(user)
    return [share_info(row, row.issuer.name, publishable=publishable) for row in rows]


def home(user: User) -> Home:
    """The home of the student ``user``."""
    view = progress_queries.student_map(user)
    revisions = [f for f in view.feedback if f.state == SubmissionState.REVISION_REQUESTED]
    not_yet = [f for f in view.feedback if f.state != SubmissionState.REVISION_REQUESTED]
    portfolios = list(
        db.session.scalars(
            select(Portfolio)
            .where(Portfolio.owner_id == user.id)
            .order_by(Portfolio.updated_at.desc(), Portfolio.id.desc())
        )
    )
    return Home(
        revisions=revisions,
        not_yet=not_yet,
        next_up=view.next_up[:NEXT_STEPS],
        evidence=gallery.cards(user, limit=RECENT_EVIDENCE),
        credentials=credential_shares(user),
        portfolios=portfolios,
    )
