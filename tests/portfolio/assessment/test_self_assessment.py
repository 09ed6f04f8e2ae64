"""Self-assessment: when a student may rate her own work, that the rating is frozen once she
submits, and that an assessor sees it only after recording their own judgement."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.assessment import self_assessment as rating
from portfolio.assessment import service as assessment
from portfolio.assessment.errors import (
    AssessmentConflictError,
    AssessmentError,
    AssessmentNotFoundError,
)
from portfolio.assessment.models import SelfAssessment
from portfolio.core.db import db
from tests.portfolio.assessment.test_assessment_pages import assess_form, client_for
from tests.portfolio.school import competency, evidence, make_school, person


@pytest.fixture
def school(app: Flask, issuer: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    return make_school(issuer)


def _draft(school: Any) -> Any:
    song = evidence(school.student, "My song")
    return assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id]
    )


def test_she_rates_a_draft_for_the_round_her_submit_starts(school: Any) -> None:
    draft = _draft(school)
    row = rating.save_self_assessment(
        draft, school.student, levels=["3", "1"], notes=["A haunting tune", ""]
    )
    assert (row.round, row.levels, row.criterion_notes) == (1, [3, 1], ["A haunting tune", ""])
    # Changing it before she submits replaces the same row.
    rating.save_self_assessment(draft, school.student, levels=[2, 2], notes=[])
    rows = db.session.scalars(select(SelfAssessment)).all()
    assert [(r.round, r.levels) for r in rows] == [(1, [2, 2])]


def test_every_criterion_needs_a_level(school: Any) -> None:
    with pytest.raises(AssessmentError, match="Reflection"):
        rating.save_self_assessment(_draft(school), school.student, levels=["2", ""], notes=[])


def test_a_note_has_a_limit(school: Any) -> None:
    with pytest.raises(AssessmentError, match="longer"):
        rating.save_self_assessment(
            _draft(school), school.student, levels=[2, 2], notes=["x" * 2001]
        )


def test_nobody_else_rates_her_work(school: Any) -> None:
    with pytest.raises(AssessmentNotFoundError):
        rating.save_self_assessment(_draft(school), school.other_student, levels=[2, 2], notes=[])


def test_the_rating_is_frozen_once_she_submits(school: Any) -> None:
    draft = _draft(school)
    rating.save_self_assessment(draft, school.student, levels=[3, 3], notes=[])
    assessment.submit(draft, school.student)
    assert not rating.may_rate(draft)
    with pytest.raises(AssessmentConflictError, match="before you submit"):
        rating.save_self_assessment(draft, school.student, levels=[0, 0], notes=[])
    assert rating.self_assessment_of(draft, 1).levels == [3, 3]  # type: ignore[union-attr]


def test_after_a_revision_request_she_rates_the_next_round(school: Any) -> None:
    draft = _draft(school)
    rating.save_self_assessment(draft, school.student, levels=[3, 3], notes=[])
    assessment.submit(draft, school.student)
    assessment.assess(draft, school.assessor, decision="revise", levels=[1, 1], feedback="More.")
    db.session.refresh(draft)
    row = rating.save_self_assessment(draft, school.student, levels=[2, 2], notes=[])
    assert row.round == 2
    assert rating.self_assessment_of(draft, 1).levels == [3, 3]  # type: ignore[union-attr]


def test_no_rubric_no_self_assessment(school: Any, issuer: Any) -> None:
    plain = competency(issuer, "Improvisation", rubric=False)
    song = evidence(school.student, "Jam")
    draft = assessment.create_submission(school.student, plain, evidence_ids=[song.public_id])
    with pytest.raises(AssessmentConflictError, match="no rubric"):
        rating.save_self_assessment(draft, school.student, levels=[], notes=[])


def test_the_pages_say_when_there_is_no_rubric(app: Flask, school: Any, issuer: Any) -> None:
    plain = competency(issuer, "Improvisation", rubric=False)
    song = evidence(school.student, "Jam")
    draft = assessment.create_submission(school.student, plain, evidence_ids=[song.public_id])
    student = client_for(app, school.student)
    page = student.get(f"/submissions/{draft.public_id}").get_data(as_text=True)
    assert "This competency has no rubric, so there is no self-assessment." in page
    grid = student.get(f"/submissions/{draft.public_id}/self-assessment").get_data(as_text=True)
    assert "nothing to rate your work on" in grid and 'name="level-0"' not in grid


@pytest.mark.parametrize(
    ("gap", "student_view", "words"),
    [
        (0, True, "You and Asa chose the same level"),
        (-1, True, "You rated yourself 1 level lower than Asa"),
        (3, True, "You rated yourself 3 levels higher than Asa"),
        (0, False, "Asa chose the same level as you"),
        (-2, False, "Asa rated this 2 levels lower than you"),
        (None, False, "Not compared"),
    ],
)
def test_the_gap_in_words(app: Flask, gap: int | None, student_view: bool, words: str) -> None:
    from portfolio.assessment.self_assessment_pages import calibration_gap

    with app.test_request_context():
        assert calibration_gap(gap, "Asa", student_view=student_view) == words


def test_the_assessor_sees_it_only_after_judging_the_round(school: Any) -> None:
    draft = _draft(school)
    rating.save_self_assessment(draft, school.student, levels=[3, 1], notes=["Proud", ""])
    assessment.submit(draft, school.student)
    assert rating.calibration_for_assessor(draft, school.assessor) == []
    assert rating.calibration_for_student(draft) == []
    assessment.assess(draft, school.assessor, decision="revise", levels=[1, 1], feedback="More.")
    db.session.refresh(draft)
    (view,) = rating.calibration_for_assessor(draft, school.assessor)
    assert [(r.criterion, r.assessor_level, r.student_level, r.gap) for r in view.rows] == [
        ("Melody", "Developing", "Advanced", 2),
        ("Reflection", "Developing", "Developing", 0),
    ]
    assert view.rows[0].note == "Proud"
    # Another assessor who has not judged that round does not see it.
    assert rating.calibration_for_assessor(draft, school.second_assessor) == []
    (mine,) = rating.calibration_for_student(draft)
    assert mine.assessment.assessor_id == school.assessor.id


def test_with_moderation_she_sees_it_once_the_round_is_decided(school: Any) -> None:
    school.competency.required_endorsements = 2
    db.session.commit()
    draft = _draft(school)
    rating.save_self_assessment(draft, school.student, levels=[3, 3], notes=[])
    assessment.submit(draft, school.student)
    assessment.assess(draft, school.assessor, decision="endorse", levels=[2, 2])
    db.session.refresh(draft)
    assert draft.state == "in_review"
    assert len(rating.calibration_for_assessor(draft, school.assessor)) == 1
    assert rating.calibration_for_student(draft) == []
    assessment.assess(draft, school.second_assessor, decision="endorse", levels=[3, 2])
    db.session.refresh(draft)
    assert draft.state == "endorsed"
    (view,) = rating.calibration_for_student(draft)
    assert [r.gap for r in view.rows] == [0, 1]


# -- pages -------------------------------------------------------------------------------------


def test_she_rates_her_work_on_the_assessors_grid(app: Flask, school: Any) -> None:
    draft = _draft(school)
    student = client_for(app, school.student)
    page = student.get(f"/submissions/{draft.public_id}").get_data(as_text=True)
    assert "Rate your own work first — optional" in page
    assert f"/submissions/{draft.public_id}/self-assessment" in page
    grid = student.get(f"/submissions/{draft.public_id}/self-assessment").get_data(as_text=True)
    assert 'class="rubric"' in grid and 'name="level-0"' in grid and "A clear melody" in grid
    assert "Your note on “Melody” (optional)" in grid

    refused = student.post(f"/submissions/{draft.public_id}/self-assessment", data={"level-0": "2"})
    assert refused.status_code == 422
    assert "Choose a level for “Reflection”." in refused.get_data(as_text=True)

    saved = student.post(
        f"/submissions/{draft.public_id}/self-assessment",
        data={"level-0": "3", "level-1": "1", "feedback-0": "I love it"},
    )
    assert saved.status_code == 303
    again = student.get(f"/submissions/{draft.public_id}/self-assessment").get_data(as_text=True)
    assert 'id="level-0-3" name="level-0" value="3" checked' in again and "I love it" in again


def test_the_pages_after_a_decision(app: Flask, school: Any) -> None:
    draft = _draft(school)
    rating.save_self_assessment(draft, school.student, levels=[3, 1], notes=["Proud of it", ""])
    assessment.submit(draft, school.student)
    assessor = client_for(app, school.assessor)
    before = assessor.get(f"/review/{draft.public_id}").get_data(as_text=True)
    assert "Proud of it" not in before and "Calibration" not in before
    assert "you see their rating once you record your assessment" in before
    response = assessor.post(
        f"/review/{draft.public_id}/assess", data=assess_form([1, 1], "revise", "More.")
    )
    assert response.status_code == 303
    after = assessor.get(f"/review/{draft.public_id}").get_data(as_text=True)
    assert "Calibration" in after and "Proud of it" in after
    assert "Sam Student rated this 2 levels higher than you" in after
    student = client_for(app, school.student)
    mine = student.get(f"/submissions/{draft.public_id}").get_data(as_text=True)
    assert "Your rating beside your assessor’s" in mine
    assert "You rated yourself 2 levels higher than Asa Assessor" in mine
    # Sent back for revision: she may rate the next round.
    frozen = student.post(
        f"/submissions/{draft.public_id}/self-assessment", data={"level-0": "0", "level-1": "0"}
    )
    assert frozen.status_code == 303  # the round her resubmit starts: still hers to rate


def test_frozen_rating_is_refused_on_the_page(app: Flask, school: Any) -> None:
    draft = _draft(school)
    assessment.submit(draft, school.student)
    student = client_for(app, school.student)
    page = student.get(f"/submissions/{draft.public_id}/self-assessment").get_data(as_text=True)
    assert "your rating is kept as it was" in page
    refused = student.post(
        f"/submissions/{draft.public_id}/self-assessment", data={"level-0": "0", "level-1": "0"}
    )
    assert refused.status_code == 409


def test_someone_elses_submission_is_not_there(app: Flask, school: Any, issuer: Any) -> None:
    draft = _draft(school)
    other = client_for(app, school.other_student)
    assert other.get(f"/submissions/{draft.public_id}/self-assessment").status_code == 404
    guardian = person(issuer, "guardian", "Gil Guardian")
    assert (
        client_for(app, guardian).get(f"/submissions/{draft.public_id}/self-assessment").status_code
        == 403
    )
