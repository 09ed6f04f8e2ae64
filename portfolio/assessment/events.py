"""The audit trail of a submission: every transition, with who, when and why
(:class:`~portfolio.assessment.models.SubmissionEvent` rows)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.assessment.models import Submission, SubmissionEvent, SubmissionState
from portfolio.core.db import db


def transition(
    submission: Submission, to_state: SubmissionState, actor: User | None, reason: str
) -> None:
    """Move ``submission`` to ``to_state`` and record the event (in the caller's
    transaction)."""
    now = datetime.now(UTC)
    db.session.add(
        SubmissionEvent(
            submission_id=submission.id,
            from_state=submission.state if submission.id is not None else None,
            to_state=to_state,
            actor_id=actor.id if actor is not None else None,
            reason=reason,
            at=now,
        )
    )
    submission.state = to_state
    submission.updated_at = now


def trail(submission: Submission) -> list[SubmissionEvent]:
    """The submission's transitions, oldest first."""
    return list(
        db.session.scalars(
            select(SubmissionEvent)
            .where(SubmissionEvent.submission_id == submission.id)
            .order_by(SubmissionEvent.at, SubmissionEvent.id)
        )
    )
