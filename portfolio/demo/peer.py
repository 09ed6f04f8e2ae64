"""The demo's self-assessments and peer feedback (issue 17 §2): peer feedback is on (2
classmates) for the performance; Maya rated her story before submitting it, close to Amara's
judgement (the calibration view); Leo rated his song far above it (two levels apart on two
criteria: the cohort view's "self-assessment far from the assessor" flag); Maya asked Leo, her
classmate in Year 8 Willow, for comments on her performance, and he wrote one.  Idempotent,
like the rest of the demo."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.assessment import peer_feedback as peers
from portfolio.assessment.models import PeerReview, SelfAssessment, Submission
from portfolio.catalogue.models import Competency
from portfolio.core.db import db, unit_of_work

#: The competency whose students may ask classmates, and how many.
PEER_COMPETENCY, PEER_REVIEWERS = "performance", 2

#: Ratings made before the first submit (round 1): scenario key → (levels, notes).
RATINGS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "maya-story": (
        (3, 2, 2),
        (
            "The ending surprised even me.",
            "I think the grandmother's voice is right, but the boy is thin.",
            "",
        ),
    ),
    "leo-song": (
        (3, 2, 2),
        (
            "Everybody in class sings it!",
            "The chorus line is the best thing I wrote.",
            "It is short on purpose.",
        ),
    ),
}

PEER_COMMENT = (
    "I loved the second verse — your voice was so calm, you did not look terrified at all. "
    "Maybe slow down a little in the last chorus? The guitar got ahead of you."
)


def seed_peer(
    people: Mapping[str, User],
    competencies: Mapping[str, Competency],
    submissions: Mapping[str, Submission],
) -> None:
    """Turn peer feedback on, store the ratings and Leo's comment (each only if missing)."""
    performance = competencies.get(PEER_COMPETENCY)
    with unit_of_work(write=True):
        if performance is not None and performance.peer_reviewers == 0:
            performance.peer_reviewers = PEER_REVIEWERS
        for key, (levels, notes) in RATINGS.items():
            submission = submissions.get(key)
            if submission is None or not submission.assessments:
                continue
            first = submission.assessments[0]
            exists = db.session.scalar(
                select(SelfAssessment.id).where(
                    SelfAssessment.submission_id == submission.id, SelfAssessment.round == 1
                )
            )
            if exists is None:
                # Made before her first submit: the service takes ratings only then, so the
                # demo, playing the story afterwards, stores the frozen rating directly.
                db.session.add(
                    SelfAssessment(
                        submission_id=submission.id,
                        round=1,
                        rubric_version_id=first.rubric_version_id,
                        levels=list(levels),
                        criterion_notes=list(notes),
                        created_at=submission.created_at,
                        updated_at=submission.created_at,
                    )
                )
    _leos_comment(people, submissions.get("maya-performance"))


def _leos_comment(people: Mapping[str, User], submission: Submission | None) -> None:
    if submission is None or not peers.may_ask(submission):
        return
    maya, leo = people["maya"], people["leo"]
    review = db.session.scalar(
        select(PeerReview).where(
            PeerReview.submission_id == submission.id, PeerReview.peer_id == leo.id
        )
    )
    if review is None:
        review = peers.ask_peer(submission, maya, leo)
    if review.commented_at is None:
        peers.write_comment(review, leo, PEER_COMMENT)
