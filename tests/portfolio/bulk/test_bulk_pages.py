"""The cohort endorsement pages: the form, the job's progress page that works without
JavaScript (it reloads itself while the job runs, and stops when it is done), the per-row
results and their CSV, and who may see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from portfolio.accounts.issuers import ensure_issuer
from portfolio.bulk import jobs as bulk
from portfolio.bulk.models import BulkJob
from portfolio.core.db import db
from portfolio.core.models import utcnow
from tests.portfolio.accounts.test_auth import sign_in
from tests.portfolio.school import PASSWORD, competency, make_school, person

COHORT = "9C"


@pytest.fixture
def school(app: Flask, issuer: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["CREDFOLIO_BULK_BACKGROUND"] = False
    app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = False
    school = make_school(issuer)
    school.pupils = [
        person(issuer, "student", f"Pupil {index}", cohort=COHORT) for index in range(3)
    ]
    return school


def client_for(app: Flask, user: Any) -> Any:
    client = app.test_client()
    assert sign_in(client, user.email, PASSWORD).status_code == 303
    return client


def endorse_form(school: Any, **changes: str) -> dict[str, str]:
    form = {
        "competency": school.competency.public_id,
        "cohort": COHORT,
        "level-0": "2",
        "level-1": "3",
        "feedback": "A fine term's work.",
        # The confirm step's button, with the count it named (the default choice: all three).
        "action": "confirm",
        "confirm_count": "3",
    }
    form.update(changes)
    return form


def start_job(app: Flask, school: Any) -> tuple[Any, str]:
    assessor = client_for(app, school.assessor)
    response = assessor.post("/review/cohort-endorse", data=endorse_form(school))
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert re.fullmatch(r"/jobs/[0-9a-f-]{36}", location)
    return assessor, location


def test_the_form_offers_the_competencies_then_the_rubric_and_the_cohorts(
    app: Flask, school: Any
) -> None:
    assessor = client_for(app, school.assessor)
    first = assessor.get("/review/cohort-endorse").get_data(as_text=True)
    assert '<label for="choose-competency">Competency</label>' in first
    assert school.competency.name in first and 'name="cohort"' not in first
    second = assessor.get(f"/review/cohort-endorse?competency={school.competency.public_id}")
    page = second.get_data(as_text=True)
    assert second.status_code == 200
    assert f'<option value="{COHORT}">{COHORT}</option>' in page
    # The students and the rubric come with a cohort.
    assert '<legend class="rubric-criterion">Melody</legend>' not in page
    third = assessor.get(
        "/review/cohort-endorse",
        query_string={"competency": school.competency.public_id, "cohort": COHORT},
    )
    page = third.get_data(as_text=True)
    assert third.status_code == 200
    assert '<legend class="rubric-criterion">Melody</legend>' in page and 'name="level-1"' in page
    for pupil in school.pupils:
        assert f'id="student-{pupil.id}" name="students" value="{pupil.id}" checked' in page


def test_starting_a_job_shows_its_progress_page_that_reloads_until_done(
    app: Flask, school: Any
) -> None:
    assessor, location = start_job(app, school)
    running = assessor.get(location).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in running
    assert '<progress id="job-progress" max="3" value="0"' in running
    assert 'aria-valuetext="0 of 3 rows"' in running
    assert '<span class="pill pill-info">Queued</span> 0 of 3 rows processed (0%)' in running
    assert "<caption>Result of each row</caption>" in running
    job = db.session.scalars(select(BulkJob)).one()
    assert bulk.run_job(job.id).outcome == "done"
    done = assessor.get(location).get_data(as_text=True)
    assert "http-equiv" not in done
    assert '<span class="pill pill-ok">Done</span> 3 of 3 rows processed (100%)' in done
    assert '<dd id="count-done">3</dd>' in done
    for pupil in school.pupils:
        assert re.search(
            rf"<th scope=\"row\"[^>]*>{pupil.display_name} &lt;{re.escape(pupil.email)}&gt;</th>\s*"
            r"<td [^>]*><span class=\"pill pill-ok\">Done</span></td>\s*"
            r"<td [^>]*>endorsed: credential issued</td>\s*<td [^>]*><a href=\"/c/",
            done,
        ), done
    download = assessor.get(location + "/results.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["state"] for row in rows] == ["done"] * 3
    assert all(len(row["credential"]) == 36 for row in rows)


def test_the_web_process_runs_the_job_in_the_background(app: Flask, school: Any) -> None:
    app.config["CREDFOLIO_BULK_BACKGROUND"] = True
    assessor, location = start_job(app, school)
    bulk.wait_for_background(app)
    page = assessor.get(location).get_data(as_text=True)
    assert '<span class="pill pill-ok">Done</span> 3 of 3' in page and "http-equiv" not in page


def test_opening_the_page_of_a_job_whose_runner_died_resumes_it(app: Flask, school: Any) -> None:
    assessor, location = start_job(app, school)
    job = db.session.scalars(select(BulkJob)).one()
    db.session.execute(
        update(BulkJob).values(
            state="running", lease_owner="dead", lease_expires_at=utcnow() - timedelta(seconds=5)
        )
    )
    db.session.commit()
    app.config["CREDFOLIO_BULK_BACKGROUND"] = True
    assert "http-equiv" in assessor.get(location).get_data(as_text=True)
    bulk.wait_for_background(app)
    db.session.refresh(job)
    assert job.state == "done" and job.done_count == 3


def test_posting_the_same_endorsement_while_it_runs_returns_the_same_job(
    app: Flask, school: Any
) -> None:
    assessor, location = start_job(app, school)
    again = assessor.post("/review/cohort-endorse", data=endorse_form(school))
    assert again.status_code == 303 and again.headers["Location"] == location


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"level-0": "1"}, "do not meet the rule for mastery"),
        ({"cohort": ""}, "Choose a cohort."),
        ({"cohort": "nobody"}, "The cohort “nobody” has no students."),
        ({"competency": "not-one"}, "Choose one of the competencies listed."),
    ],
)
def test_a_wrong_request_gets_the_form_back_with_the_reason(
    app: Flask, school: Any, changes: dict[str, str], message: str
) -> None:
    assessor = client_for(app, school.assessor)
    response = assessor.post("/review/cohort-endorse", data=endorse_form(school, **changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(select(BulkJob)).first() is None


def test_another_schools_competency_cannot_be_endorsed(app: Flask, school: Any) -> None:

    other = ensure_issuer(did="did:web:credfolio.test:other", name="Other", slug="o")
    foreign = competency(other, "Foreign")
    assessor = client_for(app, school.assessor)
    response = assessor.post(
        "/review/cohort-endorse", data=endorse_form(school, competency=foreign.public_id)
    )
    assert response.status_code == 422
    assert db.session.scalars(select(BulkJob)).first() is None


def test_only_the_starter_and_the_schools_administrators_see_a_job(app: Flask, school: Any) -> None:
    _assessor, location = start_job(app, school)
    assert client_for(app, school.admin).get(location).status_code == 200
    assert client_for(app, school.second_assessor).get(location).status_code == 404
    assert client_for(app, school.second_assessor).get(location + "/results.csv").status_code == (
        404
    )
    assert client_for(app, school.student).get(location).status_code == 403
    assert app.test_client().get(location).status_code == 302
    listing = client_for(app, school.second_assessor).get("/jobs").get_data(as_text=True)
    assert "No bulk jobs yet." in listing
    assert "Endorse “Song writing”" in client_for(app, school.admin).get("/jobs").get_data(
        as_text=True
    )


def test_the_form_needs_its_csrf_token(app: Flask, school: Any) -> None:
    assessor = client_for(app, school.assessor)
    app.config["WTF_CSRF_ENABLED"] = True
    response = assessor.post("/review/cohort-endorse", data=endorse_form(school))
    assert response.status_code == 400
    assert db.session.scalars(select(BulkJob)).first() is None


def test_a_running_job_can_be_cancelled_from_its_page(app: Flask, school: Any) -> None:
    assessor, location = start_job(app, school)
    page = assessor.get(location).get_data(as_text=True)
    assert '<button type="submit" class="button danger">Cancel the job</button>' in page
    response = assessor.post(location + "/cancel")
    assert response.status_code == 303 and response.headers["Location"] == location
    after = assessor.get(location).get_data(as_text=True)
    assert (
        "The job is cancelled" in after
        and '<span class="pill pill-muted">Cancelled</span> 0 of 3' in after
    )
    assert "http-equiv" not in after and "Cancel the job" not in after
    assert client_for(app, school.second_assessor).post(location + "/cancel").status_code == 404
