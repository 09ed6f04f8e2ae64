"""Issue #6's bulk work in a browser: an assessor endorses a whole cohort from the queue (the
students ticked, then a confirm step naming the count — issue 15 §2), lands on the job's
progress page, and — without touching it, and with no JavaScript on the page —
watches it reload itself until the job is done and every student has a credential.

The job is first left queued (``CREDFOLIO_BULK_BACKGROUND`` off, as when no runner is up);
then background runs are allowed, and it is the page's own reload that resumes the job in the
web process, exactly as after a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.test_assessment_flow import Person, assert_accessible, go_to, sign_in

pytestmark = pytest.mark.browser

COHORT = "5D"
SIZE = 6


@pytest.fixture
def people(live_app: Flask, live_issuer: str) -> Iterator[dict[str, Any]]:
    from portfolio.accounts.models import Issuer
    from portfolio.bulk import jobs as bulk
    from portfolio.core.db import db
    from tests.portfolio.school import PASSWORD, make_school, person

    live_app.config["CREDFOLIO_BULK_BACKGROUND"] = False
    live_app.config["CREDFOLIO_NOTIFY_BY_MAIL"] = False
    with live_app.app_context():
        issuer = db.session.query(Issuer).filter_by(did=live_issuer).one()
        school = make_school(issuer)
        pupils = [person(issuer, "student", f"Pupil {i}", cohort=COHORT) for i in range(SIZE)]
        yield {
            "assessor": Person(school.assessor.email, school.assessor.display_name),
            "competency": school.competency.name,
            "pupils": [p.display_name for p in pupils],
            "password": PASSWORD,
        }
    # No job thread may outlive the test (the database is dropped next).
    bulk.wait_for_background(live_app)


def test_an_assessor_endorses_a_cohort_and_watches_the_job_finish(
    page: Page, live_server: str, live_app: Flask, people: dict[str, Any]
) -> None:
    sign_in(page, live_server, people["assessor"], people["password"])
    go_to(page, "Queue")
    page.get_by_role("link", name="Endorse a cohort").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Endorse a cohort")
    page.get_by_label("Competency", exact=True).select_option(label=people["competency"])
    page.get_by_role("button", name="Choose").click()
    page.get_by_label("Cohort", exact=True).select_option(COHORT)
    page.get_by_role("button", name="Show the students").click()
    students = page.get_by_role("group", name=f"Students of the cohort “{COHORT}” to endorse")
    for name in people["pupils"]:
        expect(students.get_by_label(name)).to_be_checked()
    for criterion in ("Melody", "Reflection"):
        group = page.get_by_role("group", name=criterion)
        group.get_by_label("Proficient").check()
    page.get_by_label("Overall feedback (Markdown, optional)").fill("Lovely songs, all of you.")
    assert_accessible(page)
    page.get_by_role("button", name="Check the endorsement before it is issued").click()
    # The confirm step names the count; nothing is issued before it.
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"for {SIZE} students")
    assert_accessible(page)
    page.get_by_role("button", name=f"Endorse {SIZE} students").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(f"cohort “{COHORT}”")
    status = page.locator("#job-state")
    expect(status).to_contain_text("Queued")
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(1)
    assert page.locator("script").count() == 0
    progress = page.get_by_role("progressbar")
    expect(progress).to_have_attribute("aria-valuetext", f"0 of {SIZE} rows")
    assert_accessible(page)
    job_url = page.url

    # From now on the web process may run jobs: the page's next reload resumes this one.
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    live_app.config["CREDFOLIO_BULK_BACKGROUND"] = True
    expect(status).to_contain_text("Done", timeout=90_000)
    assert loads and set(loads) == {job_url}  # it reloaded itself, and stayed on the job
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    expect(status).to_contain_text(f"{SIZE} of {SIZE} rows processed (100%)")
    expect(progress).to_have_attribute("aria-valuetext", f"{SIZE} of {SIZE} rows")
    results = page.get_by_role("table", name="Result of each row")
    for name in people["pupils"]:
        row = results.get_by_role("row").filter(has_text=name)
        expect(row).to_contain_text("endorsed: credential issued")
    assert_accessible(page)

    # One student's credential verifies on its public page.
    results.get_by_role("link", name=f"Credential of {people['pupils'][0]}").first.click()
    expect(
        page.get_by_text(
            "Genuine, unchanged since it was signed, in force, and its issuer confirmed."
        )
    ).to_be_visible()

    page.goto(job_url)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the results as CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "row,key,recipient,state,result,credential"
    assert text.count(",done,") == SIZE
