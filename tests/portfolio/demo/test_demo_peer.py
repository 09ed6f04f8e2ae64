"""The demo's self-assessments and peer comment (issue 17 §2): Maya's calibration view, Leo's
rating far from Amara's, and Leo's comment on Maya's performance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from portfolio.accounts.models import User
from portfolio.assessment import self_assessment as rating
from portfolio.assessment.calibration import largest_gap
from portfolio.assessment.models import PeerReview, SelfAssessment, Submission
from portfolio.catalogue.models import Competency
from portfolio.core.db import db
from tests.portfolio.demo.test_demo import _app


def _user(name: str) -> User:
    user = db.session.scalar(select(User).where(User.display_name.startswith(name)))
    assert user is not None
    return user


@pytest.mark.slow
def test_the_demo_seeds_ratings_and_a_peer_comment(tmp_path: Path) -> None:
    app: Any = _app(tmp_path)
    result = app.test_cli_runner().invoke(args=["demo-setup"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        performance = db.session.scalar(
            select(Competency).where(Competency.name.startswith("Perform"))
        )
        assert performance is not None and performance.peer_reviewers == 2
        maya, leo = _user("Maya"), _user("Leo")
        assert maya.cohort == leo.cohort == "Year 8 Willow"
        by_student = {
            row.submission.student_id: row for row in db.session.scalars(select(SelfAssessment))
        }
        mayas = by_student[maya.id]
        (view,) = rating.calibration_for_student(mayas.submission)
        assert view.comparable and [row.gap for row in view.rows] == [0, -1, 0]
        leos = by_student[leo.id]
        judged = leos.submission.assessments[0]
        gap = largest_gap(leos.levels, judged.levels)
        assert gap is not None and gap >= 2
        (review,) = db.session.scalars(select(PeerReview))
        submission = db.session.get(Submission, review.submission_id)
        assert submission is not None and submission.student_id == maya.id
        assert review.peer_id == leo.id and review.comment and review.hidden_at is None
