"""The cohort endorsement page lists the students it will issue to, each with a checkbox; a
student whose credential for the competency was revoked is unticked with the reason shown; a
confirm step names the count before anything is issued (issue 15 §2)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.bulk import jobs as bulk
from portfolio.bulk.models import BulkJob, BulkJobItem
from portfolio.core.db import db
from portfolio.issuing import service as services
from portfolio.issuing.models import IssuedCredential
from tests.portfolio.bulk.test_bulk_pages import COHORT, client_for, endorse_form
from tests.portfolio.bulk.test_bulk_pages import school as school  # the fixture


def choice_page(client: Any, school: Any) -> str:
    response = client.get(
        "/review/cohort-endorse",
        query_string={"competency": school.competency.public_id, "cohort": COHORT},
    )
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def review(school: Any, students: list[Any]) -> dict[str, Any]:
    """The form as the page posts it for the confirm step, with ``students`` ticked."""
    form: dict[str, Any] = endorse_form(school, action="review")
    form.pop("confirm_count")
    form["choosing"] = "1"
    form["students"] = [str(pupil.id) for pupil in students]
    return form


def jobs() -> list[BulkJob]:
    return list(db.session.scalars(select(BulkJob)))


def revoked_pupil(app: Flask, school: Any) -> Any:
    """Endorse the cohort, then revoke the first pupil's credential."""
    assessor = client_for(app, school.assessor)
    assert assessor.post("/review/cohort-endorse", data=endorse_form(school)).status_code == 303
    bulk.run_job(jobs()[0].id)
    pupil = school.pupils[0]
    credential = db.session.scalars(
        select(IssuedCredential).where(IssuedCredential.recipient_user_id == pupil.id)
    ).one()
    services.set_status(credential, "revoke", reason="Copied the lyrics")
    return pupil


def test_a_revoked_student_is_unticked_with_the_reason_shown(app: Flask, school: Any):
    pupil = revoked_pupil(app, school)
    page = choice_page(client_for(app, school.assessor), school)
    box = re.search(rf'<input type="checkbox" id="student-{pupil.id}"[^>]*>', page)
    assert box is not None and "checked" not in box.group(0)
    assert "revoked" in page and "Copied the lyrics" in page
    for other in school.pupils[1:]:
        assert f'id="student-{other.id}" name="students" value="{other.id}" checked' in page


def test_the_confirm_step_names_the_count_and_issues_nothing_yet(app: Flask, school: Any):
    assessor = client_for(app, school.assessor)
    chosen = school.pupils[:2]
    response = assessor.post("/review/cohort-endorse", data=review(school, chosen))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Confirm: endorse “Song writing” for 2 students" in page
    assert '<button type="submit" name="action" value="confirm">Endorse 2 students</button>' in page
    assert all(pupil.display_name in page for pupil in chosen)
    assert school.pupils[2].display_name not in page
    assert jobs() == []


def test_confirming_issues_to_the_ticked_students_only(app: Flask, school: Any):
    assessor = client_for(app, school.assessor)
    chosen = school.pupils[1:]
    form = review(school, chosen) | {"action": "confirm", "confirm_count": "2"}
    response = assessor.post("/review/cohort-endorse", data=form)
    assert response.status_code == 303
    [job] = jobs()
    keys = set(db.session.scalars(select(BulkJobItem.key).where(BulkJobItem.job_id == job.id)))
    assert keys == {f"student:{pupil.id}" for pupil in chosen}


def test_a_confirmation_of_another_count_is_shown_again(app: Flask, school: Any):
    assessor = client_for(app, school.assessor)
    form = review(school, school.pupils) | {"action": "confirm", "confirm_count": "2"}
    response = assessor.post("/review/cohort-endorse", data=form)
    assert response.status_code == 409
    assert "3 would be endorsed now" in response.get_data(as_text=True)
    assert jobs() == []


@pytest.mark.parametrize(
    ("students", "message"),
    [([], "Choose at least one student to endorse."), (["0"], "not in this cohort")],
)
def test_a_choice_of_nobody_or_of_strangers_is_refused(
    app: Flask, school: Any, students: list[str], message: str
):
    assessor = client_for(app, school.assessor)
    form = review(school, []) | {"students": students}
    response = assessor.post("/review/cohort-endorse", data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert jobs() == []


def test_changing_the_choice_goes_back_to_the_form_with_what_was_sent(app: Flask, school: Any):
    assessor = client_for(app, school.assessor)
    form = review(school, school.pupils[:1]) | {"action": "edit"}
    page = assessor.post("/review/cohort-endorse", data=form).get_data(as_text=True)
    first, second = school.pupils[0], school.pupils[1]
    assert f'id="student-{first.id}" name="students" value="{first.id}" checked' in page
    assert f'id="student-{second.id}" name="students" value="{second.id}">' in page
    assert "A fine term&#39;s work." in page


def test_the_judgement_is_the_shared_rubric_grid(app: Flask, school: Any):
    """Issue 16: the same grid as the review page (components/rubric.html), not a radio list."""
    page = choice_page(client_for(app, school.assessor), school)
    assert page.count('<div class="rubric">') == 1
    assert '<label class="rubric-cell" for="level-0-0">' in page
    assert re.search(r'<input type="radio" id="level-0-0" name="level-0" value="0"', page)
    assert "(1 points)" not in page and "1 point<" in page
    assert 'class="choice"' not in page.split('<div class="rubric">')[1]
