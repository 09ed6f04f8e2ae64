"""The progress pages: a student's map and chart, the cohort view and its CSV for assessors and
administrators — who may open which, what each shows, readable answers to bad filters, and
user-supplied names that stay text everywhere (HTML, SVG, CSV)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from defusedxml import ElementTree
from flask import Flask

from portfolio.accounts.models import Notification, User
from portfolio.assessment.models import Submission
from portfolio.core.db import db
from tests.portfolio.accounts.test_auth import OTHER_ISSUER_DID, make_user, sign_in
from tests.portfolio.assessment.test_progress import (
    add_assessment,
    add_competency,
    add_mastery,
    add_student,
    add_submission,
    ago,
    issue_credential,
)

HOSTILE = '<script>alert("x")</script>=cmd'


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


def signed_in(app: Flask, email: str, role: str, *, issuer_did: str | None = None) -> Any:
    """A new test client signed in as a new account with that role."""
    make_user(app, email, role, issuer_did=issuer_did)
    client = app.test_client()
    assert sign_in(client, email).status_code == 303
    return client


def account(email: str) -> User:
    user = db.session.scalar(db.select(User).where(User.email == email))
    assert user is not None
    return user


def page_of(response: Any) -> str:
    return response.get_data(as_text=True)


# -- the student's map -------------------------------------------------------------------------


@pytest.fixture
def ada(app: Flask, issuer: Any) -> Any:
    """Ada, a signed-in student, with Scales mastered, Melody sent back with feedback, and
    Harmony waiting for Melody."""
    client = signed_in(app, "ada@school.example", "student")
    student = account("ada@school.example")
    grace = add_student(issuer, "grace@school.example")
    grace.role = "assessor"
    scales = add_competency(issuer, "Scales", position=1)
    melody = add_competency(issuer, "Melody", requires=[scales], position=2)
    add_competency(issuer, "Harmony", requires=[melody], position=3)
    credential = issue_credential(issuer)
    add_mastery(student, scales, credential, at=ago(weeks=2))
    work = add_submission(student, melody, "revision_requested", created=ago(days=3))
    add_assessment(work, grace, "revise", "Tune the <bridge> & try again.", at=ago(days=1))
    db.session.add_all(
        [
            Notification(user_id=student.id, message="Feedback on Melody", link="/progress"),
            Notification(user_id=student.id, message="Look here", link="https://evil.example/"),
        ]
    )
    db.session.commit()
    client.work_id = work.public_id
    client.credential_id = credential.public_id
    return client


def test_the_map_shows_each_competency_with_its_state_and_prerequisites(ada):
    response = ada.get("/progress")
    page = page_of(response)
    assert response.status_code == 200
    assert "You have mastered 1 of 3 competencies." in page
    # One card per competency, its state as a pill; prerequisites with their own state.
    assert page.count('<article class="card progress-card"') == 3
    melody = page.split('id="competency-')[2].split("</article>")[0]
    assert ">Melody</h3>" in melody
    assert '<span class="pill pill-info">In progress</span>' in melody
    assert '<span>Scales</span> <span class="pill pill-ok">Mastered</span>' in melody
    harmony = page.split('id="competency-')[3].split("</article>")[0]
    assert '<span>Melody</span> <span class="pill pill-info">In progress</span>' in harmony
    assert "Master its prerequisites first." in harmony
    assert f'href="/c/{ada.credential_id}"' in page
    assert page.count("<caption>") == 1  # the chart's data table


def test_what_is_next_and_the_feedback_waiting_link_to_the_work(ada):
    page = page_of(ada.get("/progress"))
    next_section = page.split('id="next-heading"')[1].split("</section>")[0]
    assert '<li><strong>Melody</strong> <span class="pill pill-info">In progress</span></li>' in (
        next_section
    )
    assert "Harmony" not in next_section  # needs Melody first
    feedback = page.split('id="feedback-heading"')[1].split("</section>")[0]
    assert f'href="/submissions/{ada.work_id}"' in feedback
    assert "Tune the &lt;bridge&gt; &amp; try again." in feedback


def test_unread_notifications_link_only_inside_the_service(ada):
    page = page_of(ada.get("/progress"))
    assert '<a href="/progress">Feedback on Melody</a>' in page
    assert "Look here" in page
    assert 'href="https://evil.example/' not in page


def test_the_chart_is_inline_with_a_data_table_as_its_text_alternative(ada):
    page = page_of(ada.get("/progress"))
    chart = page.split('id="chart-heading"')[1].split("</section>")[0]
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in chart
    assert 'aria-labelledby="progress-chart-title progress-chart-desc"' in chart
    assert "<caption>The chart's data: the weeks in which you mastered a competency" in chart
    assert '<td data-label="Mastered that week">Scales</td>' in chart
    assert '<td data-label="Total mastered">1</td>' in chart
    assert 'href="/progress/chart.svg"' in chart


def test_the_chart_is_served_as_svg_under_a_restrictive_policy(ada):
    response = ada.get("/progress/chart.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    root = ElementTree.fromstring(response.get_data())
    assert root.find("{http://www.w3.org/2000/svg}title").text == "Competencies mastered by Ada"


def test_a_hostile_competency_name_stays_text_in_the_page_and_the_chart(app, issuer, ada):
    student = account("ada@school.example")
    add_mastery(student, add_competency(issuer, HOSTILE), issue_credential(issuer))
    page = page_of(ada.get("/progress"))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;=cmd" in page  # the table (Jinja)
    assert '&lt;script&gt;alert("x")&lt;/script&gt;=cmd' in page  # the inline SVG
    svg = ada.get("/progress/chart.svg").get_data()
    root = ElementTree.fromstring(svg)
    assert root.find(".//{http://www.w3.org/2000/svg}script") is None
    assert b"<script" not in svg


def test_a_student_of_a_school_without_competencies_gets_a_readable_empty_map(app, issuer):
    client = signed_in(app, "new@school.example", "student")
    page = page_of(client.get("/progress"))
    assert "has not published any competencies yet" in page
    assert client.get("/progress/chart.svg").status_code == 200


# -- who may open what -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/cohort", "/cohort.csv"])
def test_students_cannot_open_the_cohort_view(app, issuer, path):
    client = signed_in(app, "ada@school.example", "student")
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", ["assessor", "admin"])
@pytest.mark.parametrize("path", ["/progress", "/progress/chart.svg"])
def test_the_map_is_only_for_students(app, issuer, role, path):
    client = signed_in(app, f"{role}@school.example", role)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/progress", "/progress/chart.svg", "/cohort", "/cohort.csv"])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


# -- the cohort view -----------------------------------------------------------------------------


@pytest.fixture
def school(app: Flask, issuer: Any) -> dict[str, Any]:
    """An assessor's client, two competencies and three students in two cohorts."""
    client = signed_in(app, "grace@school.example", "assessor")
    melody = add_competency(issuer, "Melody", position=1)
    story = add_competency(issuer, "Story", position=2)
    ada = add_student(issuer, "ada@school.example", cohort="Year 9")
    bob = add_student(issuer, "bob@school.example", cohort="Year 10")
    cleo = add_student(issuer, "cleo@school.example", cohort="Year 9")
    add_mastery(ada, melody, issue_credential(issuer), at=ago(days=2))
    add_submission(bob, melody, "submitted", submitted=ago(days=9))
    add_submission(cleo, story, "resubmitted", submitted=ago(days=4))
    return {"client": client, "melody": melody, "story": story, "issuer": issuer}


def matrix_rows(page: str) -> list[str]:
    section = page.split('id="matrix-heading"')[1].split("</section>")[0]
    # Each name links to the student's learning plan.
    return [part.split("</a>")[0].split(">")[-1] for part in section.split('<th scope="row">')[1:]]


def test_the_cohort_view_shows_the_matrix_the_waiting_and_the_stalled(school):
    response = school["client"].get("/cohort")
    page = page_of(response)
    assert response.status_code == 200
    assert matrix_rows(page) == ["Ada", "Bob", "Cleo"]
    assert '<th scope="col">Melody</th><th scope="col">Story</th>' in page
    assert 'class="state-mastered"><span class="pill pill-ok">Mastered</span></td>' in page
    assert 'class="state-in_review"><span class="pill pill-info">In review</span></td>' in page
    waiting = page.split('id="waiting-heading"')[1].split("</section>")[0]
    assert waiting.index(">Bob</a>") < waiting.index(">Cleo</a>")
    assert '<td data-label="Age (days)" class="number">9</td>' in waiting
    assert 'href="/review/' in waiting and 'href="/submissions/' not in waiting
    stalled = page.split('id="stalled-heading"')[1].split("</section>")[0]
    assert "Students with no progress in 3 weeks" in stalled
    # Nobody recorded an event of their own; only Ada has a recent mastery.
    assert '<th scope="row">Bob</th>' in stalled and '<th scope="row">Ada</th>' not in stalled


def test_administrators_see_the_cohort_view_too(app, school):
    client = signed_in(app, "alice@school.example", "admin")
    assert matrix_rows(page_of(client.get("/cohort"))) == ["Ada", "Bob", "Cleo"]


def test_the_cohort_view_filters_by_cohort_and_competency(school):
    client = school["client"]
    page = page_of(client.get("/cohort", query_string={"cohort": "Year 9"}))
    assert matrix_rows(page) == ["Ada", "Cleo"]
    assert '<option value="Year 9" selected>Year 9</option>' in page
    story = school["story"].public_id
    page = page_of(client.get("/cohort", query_string={"competency": story, "weeks": "8"}))
    assert '<th scope="col">Story</th>' in page
    assert '<th scope="col">Melody</th>' not in page
    assert "Students with no progress in 8 weeks" in page
    assert f"/cohort.csv?competency={story}&amp;weeks=8" in page


def test_an_unknown_cohort_is_an_empty_result_not_an_error(school):
    response = school["client"].get("/cohort", query_string={"cohort": "Year 13"})
    assert response.status_code == 200
    assert "No student is in the cohort “Year 13”." in page_of(response)


WEEKS = "The number of weeks must be a whole number from 1 to 52."


@pytest.mark.parametrize(
    ("query", "message", "field"),
    [
        ({"weeks": "0"}, WEEKS, 'id="weeks"'),
        ({"weeks": "53"}, WEEKS, 'id="weeks"'),
        ({"weeks": "three"}, WEEKS, 'id="weeks"'),
        ({"page": "0"}, "The page must be a whole number of 1 or more.", None),
        (
            {"competency": "nope"},
            "There is no such competency. Choose one from the list.",
            'id="competency"',
        ),
        ({"cohort": "x" * 129}, "A cohort name has at most 128 characters.", 'id="cohort"'),
    ],
)
def test_bad_filters_get_a_readable_400(school, query, message, field):
    response = school["client"].get("/cohort", query_string=query)
    page = page_of(response)
    assert response.status_code == 400
    assert f'<div class="alert alert-error" role="alert"><p id="filter-error">{message}</p>' in page
    assert '<form method="get"' in page  # the form comes back to be corrected
    assert 'id="matrix-heading"' not in page
    invalid = [tag for tag in page.split("<") if 'aria-invalid="true"' in tag]
    assert [field in tag for tag in invalid] == ([True] if field else [])
    csv_response = school["client"].get("/cohort.csv", query_string=query)
    assert csv_response.status_code == 400
    assert message in page_of(csv_response)


def test_another_issuers_assessor_sees_nothing_of_this_one(app, school):
    client = signed_in(app, "olga@other.example", "assessor", issuer_did=OTHER_ISSUER_DID)
    page = page_of(client.get("/cohort"))
    assert "This issuer has no competencies yet." in page
    assert "Ada" not in page and "Bob" not in page
    assert "No submission is waiting for an assessor." in page
    melody = school["melody"].public_id
    assert client.get("/cohort", query_string={"competency": melody}).status_code == 400
    rows = list(csv.reader(io.StringIO(page_of(client.get("/cohort.csv")).lstrip("\ufeff"))))
    assert rows == [
        [
            "student",
            "email",
            "cohort",
            "competency",
            "state",
            "mastered_at",
            "credential",
            "reasons",
        ]
    ]


# -- the CSV -----------------------------------------------------------------------------------


def read_csv(response: Any) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_the_csv_has_a_row_per_student_and_competency_with_the_same_filters(school):
    response = school["client"].get("/cohort.csv", query_string={"cohort": "Year 9"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="cohort-progress-'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    header, *rows = read_csv(response)
    assert header == [
        "student",
        "email",
        "cohort",
        "competency",
        "state",
        "mastered_at",
        "credential",
        "reasons",
    ]
    assert [row[:5] for row in rows] == [
        ["Ada", "ada@school.example", "Year 9", "Melody", "mastered"],
        ["Ada", "ada@school.example", "Year 9", "Story", "not_started"],
        ["Cleo", "cleo@school.example", "Year 9", "Melody", "not_started"],
        ["Cleo", "cleo@school.example", "Year 9", "Story", "in_review"],
    ]
    assert rows[0][5].startswith(ago(days=2).date().isoformat())
    assert len(rows[0][6]) == 36 and rows[1][5:] == ["", "", ""]
    story = school["story"].public_id
    only_story = read_csv(school["client"].get("/cohort.csv", query_string={"competency": story}))
    assert {row[3] for row in only_story[1:]} == {"Story"}


def test_csv_cells_cannot_become_spreadsheet_formulas(school):
    evil = add_student(school["issuer"], "evil@school.example", cohort="@cohort")
    evil.display_name = '=HYPERLINK("http://evil.example","Open")'
    school["story"].name = HOSTILE
    db.session.commit()
    rows = read_csv(school["client"].get("/cohort.csv", query_string={"cohort": "@cohort"}))
    assert rows[1][:4] == [
        '\'=HYPERLINK("http://evil.example","Open")',
        "evil@school.example",
        "'@cohort",
        "Melody",
    ]
    assert rows[2][3] == HOSTILE  # starts with "<": harmless in a spreadsheet, kept as is


# -- through the real assessment service ---------------------------------------------------------


def test_the_pages_follow_a_submission_through_review_to_mastery(app, issuer):
    from portfolio.assessment import service as assessment
    from tests.portfolio.school import PASSWORD, evidence, make_school

    school = make_school(issuer)
    student, assessor = app.test_client(), app.test_client()
    assert sign_in(student, school.student.email, PASSWORD).status_code == 303
    assert sign_in(assessor, school.assessor.email, PASSWORD).status_code == 303
    song = evidence(school.student, "My song")
    work = assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id], submit=True
    )
    assert (
        '<li><strong>Song writing</strong> <span class="pill pill-info">In review</span> '
        '<span class="small muted">waiting for an assessor</span></li>'
    ) in page_of(student.get("/progress"))
    waiting = page_of(assessor.get("/cohort", query_string={"cohort": "7B"}))
    # The assessor's link opens the review page (the student's page would answer 403).
    assert f'href="/review/{work.public_id}">Sam Student</a>' in waiting
    assert assessor.get(f"/review/{work.public_id}").status_code == 200

    assessment.assess(work, school.assessor, decision="revise", levels=[1, 1], feedback="More.")
    feedback = page_of(student.get("/progress")).split('id="feedback-heading"')[1]
    assert f'href="/submissions/{work.public_id}">Song writing</a>' in feedback
    assert '<div class="prose"><p>More.</p>' in feedback

    assessment.submit(work, school.student)
    assessment.assess(work, school.assessor, decision="endorse", levels=[2, 2])
    page = page_of(student.get("/progress"))
    assert "You have mastered 1 of 1 competency." in page
    assert "No feedback is waiting for you." in page
    rows = read_csv(assessor.get("/cohort.csv", query_string={"cohort": "7B"}))
    assert rows[1][:5] == [
        "Sam Student",
        "sam.student@school.test",
        "7B",
        "Song writing",
        "mastered",
    ]
    assert rows[1][6] == db.session.get(Submission, work.id).credential.public_id


# -- issue 16: links an assessor can follow, states as pills -----------------------------------


def waiting_links(page: str) -> list[str]:
    waiting = page.split('id="waiting-heading"')[1].split("</section>")[0]
    return [part.split('"')[0] for part in waiting.split('<a href="')[1:]]


@pytest.mark.parametrize("role", ["assessor", "admin"])
def test_every_waiting_longest_link_opens_the_review_page_for_staff(app, school, role):
    client = (
        school["client"] if role == "assessor" else signed_in(app, "alice@school.example", "admin")
    )
    links = waiting_links(page_of(client.get("/cohort")))
    assert len(links) == 2
    for link in links:
        assert link.startswith("/review/")
        response = client.get(link)
        assert response.status_code == 200, link
        assert 'name="level-0"' in page_of(response) or "Your assessment" in page_of(response)


def test_the_cohort_matrix_shows_states_as_pills_with_labels_for_stacked_rows(school):
    page = page_of(school["client"].get("/cohort"))
    assert '<table class="responsive cohort-matrix">' in page
    assert (
        'data-label="Melody" class="state-mastered"><span class="pill pill-ok">Mastered</span>'
        in page
    )
    assert (
        'data-label="Story" class="state-in_review"><span class="pill pill-info">In review</span>'
        in page
    )


def test_a_suspended_prerequisite_shows_suspended_not_mastered(app, issuer):
    from portfolio.issuing import service as services

    client = signed_in(app, "ada@school.example", "student")
    student = account("ada@school.example")
    scales = add_competency(issuer, "Scales", position=1)
    add_competency(issuer, "Melody", requires=[scales], position=2)
    credential = issue_credential(issuer)
    add_mastery(student, scales, credential, at=ago(weeks=2))
    services.set_status(credential, "suspend", reason="Under review")
    db.session.commit()
    page = page_of(client.get("/progress"))
    melody = page.split('id="competency-')[2].split("</article>")[0]
    assert "Melody" in melody
    prerequisites = melody.split("Prerequisites")[1]
    assert '<span>Scales</span> <span class="pill pill-warn">Suspended</span>' in prerequisites
    assert "Mastered" not in prerequisites
    scales_card = page.split('id="competency-')[1].split("</article>")[0]
    assert '<span class="pill pill-warn">Suspended</span>' in scales_card
    assert "Reason: Under review" in scales_card
