"""The assessment pages: a student submits, an assessor reviews with the rubric and decides,
the student reads the feedback, and the credential's evidence is public at its links."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.accounts.models import Notification
from portfolio.assessment.models import Submission
from portfolio.core.db import db
from portfolio.evidence.artefacts import add_file_artefact
from portfolio.issuing.models import IssuedCredential
from tests.portfolio.accounts.test_auth import sign_in
from tests.portfolio.school import PASSWORD, evidence, make_school


@pytest.fixture
def school(app: Flask, issuer: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    return make_school(issuer)


def client_for(app: Flask, user: Any) -> Any:
    client = app.test_client()
    assert sign_in(client, user.email, PASSWORD).status_code == 303
    return client


def submit_through_the_form(app: Flask, school: Any) -> tuple[Any, Submission]:
    song = evidence(school.student, "My song")
    story = evidence(school.student, "A story", genre="Short story")
    student = client_for(app, school.student)
    response = student.post(
        "/submissions/new",
        data={
            "competency": school.competency.public_id,
            "evidence": [song.public_id, story.public_id],
            "note": "The chorus is new.",
            "action": "submit",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    return student, db.session.scalars(select(Submission)).one()


def assess_form(levels: list[int], decision: str, feedback: str = "", **extra: str) -> dict:
    form = {f"level-{i}": str(level) for i, level in enumerate(levels)}
    form.update({"decision": decision, "feedback": feedback, **extra})
    return form


def test_the_whole_flow_through_the_pages(app: Flask, school: Any) -> None:
    student, submission = submit_through_the_form(app, school)
    assert submission.state == "submitted"
    assessor = client_for(app, school.assessor)
    queue = assessor.get("/review").get_data(as_text=True)
    assert "Sam Student" in queue and "Song writing" in queue

    page = assessor.get(f"/review/{submission.public_id}").get_data(as_text=True)
    assert 'name="level-0"' in page and "Melody" in page and "A clear melody" in page
    artefact = submission.items[0].evidence.artefacts[0]
    assert f"/review/{submission.public_id}/artefacts/{artefact.public_id}" in page

    response = assessor.post(
        f"/review/{submission.public_id}/assess",
        data=assess_form([1, 1], "revise", "Work on the chorus.", **{"feedback-0": "Wanders"}),
    )
    assert response.status_code == 303
    mine = student.get(f"/submissions/{submission.public_id}").get_data(as_text=True)
    assert "Work on the chorus." in mine and "Wanders" in mine and "Developing" in mine
    assert "Resubmit for assessment" in mine
    notices = student.get("/notifications").get_data(as_text=True)
    assert "asked for a revision" in notices

    response = student.post(
        f"/submissions/{submission.public_id}",
        data={
            "evidence": [item.evidence.public_id for item in submission.items],
            "note": "Rewrote the chorus.",
            "action": "submit",
        },
    )
    assert response.status_code == 303
    response = assessor.post(
        f"/review/{submission.public_id}/assess", data=assess_form([2, 3], "endorse", "Bravo")
    )
    assert response.status_code == 303
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.state == "endorsed"
    credential = submission.credential
    listing = student.get("/my/credentials").get_data(as_text=True)
    assert credential.public_id in listing

    # The public credential page verifies, and its evidence links work for anyone.
    anonymous = app.test_client()
    public = anonymous.get(f"/c/{credential.public_id}")
    assert public.status_code == 200
    text = public.get_data(as_text=True)
    assert re.search(r'<th scope="row"[^>]*>Melody</th><td[^>]*>Proficient</td>', text)
    assert "<strong>Asa Assessor</strong>" in text and "endorses mastery" in text
    document = json.loads(credential.document)
    page_entry = document["evidence"][0]
    path = page_entry["id"].removeprefix("https://credfolio.test")
    evidence_page = anonymous.get(path)
    assert evidence_page.status_code == 200 and "My song" in evidence_page.get_data(as_text=True)
    for entry in document["evidence"]:
        if "digestSRI" in entry:
            body = anonymous.get(entry["id"].removeprefix("https://credfolio.test")).data
            digest = "sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode()
            assert digest == entry["digestSRI"]


def test_the_assessor_form_keeps_what_was_typed_when_refused(app: Flask, school: Any) -> None:
    _, submission = submit_through_the_form(app, school)
    assessor = client_for(app, school.assessor)
    response = assessor.post(
        f"/review/{submission.public_id}/assess",
        data=assess_form([0, 0], "endorse", "Typed text stays", **{"feedback-1": "kept"}),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "do not meet the rule for mastery" in page and "Typed text stays" in page
    assert ">kept</textarea>" in page


def test_another_student_cannot_open_a_submission(app: Flask, school: Any) -> None:
    _, submission = submit_through_the_form(app, school)
    other = client_for(app, school.other_student)
    assert other.get(f"/submissions/{submission.public_id}").status_code == 404
    assert other.get(f"/review/{submission.public_id}").status_code == 403
    artefact = submission.items[0].evidence.artefacts[0]
    assessor = client_for(app, school.assessor)
    assert (
        assessor.get(f"/review/{submission.public_id}/artefacts/{artefact.public_id}").status_code
        == 200
    )
    assert other.get(f"/c/{submission.public_id}/evidence/x").status_code == 404


def test_evidence_of_a_credential_is_only_reachable_through_that_credential(
    app: Flask, school: Any
) -> None:
    from portfolio.assessment import service as assessment

    _, submission = submit_through_the_form(app, school)
    outcome = assessment.assess(submission, school.assessor, decision="endorse", levels=[2, 2])
    unrelated = evidence(school.student, "Private diary")
    anonymous = app.test_client()
    cred = outcome.credential.public_id
    assert anonymous.get(f"/c/{cred}/evidence/{unrelated.public_id}").status_code == 404
    page, *_ = [
        entry["id"]
        for entry in json.loads(outcome.credential.document)["evidence"]
        if f"/c/{cred}/evidence/" in entry["id"] and "/artefacts/" not in entry["id"]
    ]
    assert anonymous.get(urlsplit(page).path).status_code == 200
    # The credential names the evidence frozen at issuance, never the live evidence.
    live = submission.items[0].evidence.public_id
    assert anonymous.get(f"/c/{cred}/evidence/{live}").status_code == 404


def test_the_queue_filters_by_competency_cohort_and_age(app: Flask, school: Any) -> None:
    submit_through_the_form(app, school)
    assessor = client_for(app, school.assessor)
    assert "Sam Student" in assessor.get("/review?cohort=7B").get_data(as_text=True)
    assert "Sam Student" not in assessor.get("/review?cohort=7C").get_data(as_text=True)
    assert "Sam Student" not in assessor.get("/review?age=3").get_data(as_text=True)
    bad = assessor.get("/review?age=soon")
    assert bad.status_code == 400 and "number of days" in bad.get_data(as_text=True)


def test_a_student_can_hide_a_credential_from_their_portfolios(app: Flask, school: Any) -> None:
    from portfolio.assessment import service as assessment

    student, submission = submit_through_the_form(app, school)
    outcome = assessment.assess(submission, school.assessor, decision="endorse", levels=[2, 2])
    response = student.post(
        f"/my/credentials/{outcome.credential.public_id}/visibility", data={"hidden": "1"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(IssuedCredential, outcome.credential.id).hidden_by_recipient
    other = client_for(app, school.other_student)
    assert (
        other.post(
            f"/my/credentials/{outcome.credential.public_id}/visibility", data={"hidden": "0"}
        ).status_code
        == 404
    )


def test_a_submission_form_with_nothing_chosen_says_what_is_missing(
    app: Flask, school: Any
) -> None:
    student = client_for(app, school.student)
    response = student.post(
        "/submissions/new", data={"competency": school.competency.public_id, "action": "submit"}
    )
    assert response.status_code == 422
    assert "Choose at least one piece of evidence." in response.get_data(as_text=True)
    response = student.post("/submissions/new", data={"competency": "nope"})
    assert response.status_code == 422


def test_notifications_can_be_marked_read(app: Flask, school: Any) -> None:
    db.session.add(Notification(user_id=school.student.id, message="Hello", link="/progress"))
    db.session.commit()
    student = client_for(app, school.student)
    unread = re.compile(r'class="pill pill-count">1<')
    assert unread.search(student.get("/notifications").get_data(as_text=True))
    student.post("/notifications/read")
    page = student.get("/notifications").get_data(as_text=True)
    assert not unread.search(page) and re.search(r"Hello", page)


def test_evidence_names_the_catalogue_competencies_it_shows(app: Flask, school: Any) -> None:
    from portfolio.evidence.models import Evidence

    student = client_for(app, school.student)
    form = student.get("/evidence/new").get_data(as_text=True)
    url = f"https://credfolio.test/achievements/{school.competency.public_id}"
    assert f'value="{url}"' in form and "Song writing" in form
    response = student.post(
        "/evidence/new",
        data={
            "title": "Chorus draft",
            "catalogue": [url],
            "competencies": "https://framework.example/items/42",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    item = db.session.scalars(select(Evidence).where(Evidence.title == "Chorus draft")).one()
    assert item.competencies == [url, "https://framework.example/items/42"]
    page = student.get(response.headers["Location"]).get_data(as_text=True)
    assert ">Song writing</a>" in page
    edit = student.get(f"/evidence/{item.public_id}/edit").get_data(as_text=True)
    assert "checked" in edit and ">https://framework.example/items/42</textarea>" in edit


def test_a_story_can_be_read_in_the_page_and_its_markup_is_not_run(app: Flask, school: Any) -> None:
    from portfolio.evidence.models import Evidence

    _, submission = submit_through_the_form(app, school)
    story = db.session.scalars(select(Evidence).where(Evidence.title == "A story")).one()
    import io

    from werkzeug.datastructures import FileStorage

    add_file_artefact(
        story,
        FileStorage(
            io.BytesIO(b"# Chapter one\n\n<script>alert(1)</script> It was dark."),
            filename="story.md",
        ),
        title="Chapter one",
    )
    db.session.commit()
    assessor = client_for(app, school.assessor)
    page = assessor.get(f"/review/{submission.public_id}").get_data(as_text=True)
    assert "<h4>Chapter one</h4>" in page and "It was dark." in page
    assert "<script>alert(1)</script>" not in page
    assert '<pre class="text-artefact">la la la</pre>' in page


# -- issue 16: the rubric grid -----------------------------------------------------------------


def test_the_rubric_grid_has_one_labelled_radio_per_criterion_and_level(app: Flask, school: Any):
    _student, submission = submit_through_the_form(app, school)
    assessor = client_for(app, school.assessor)
    page = assessor.get(f"/review/{submission.public_id}").get_data(as_text=True)
    assert page.count('<div class="rubric">') == 1
    # Two criteria × four levels: a radio each, named per criterion, inside its cell's label.
    radios = re.findall(
        r'<input type="radio" id="(level-\d-\d)" name="(level-\d)" value="(\d)"', page
    )
    assert [r[0] for r in radios] == [f"level-{c}-{lv}" for c in range(2) for lv in range(4)]
    assert all(r[1] == r[0][:7] and r[2] == r[0][-1] for r in radios)
    for criterion in range(2):
        for level in range(4):
            assert f'<label class="rubric-cell" for="level-{criterion}-{level}">' in page
    # Each criterion is a fieldset named by its legend and described by its description.
    assert (
        '<fieldset class="rubric-row" id="criterion-0" aria-describedby="criterion-0-description">'
        in page
    )
    assert '<legend class="rubric-criterion">Melody</legend>' in page
    cell = page.split('for="level-0-0">')[1].split("</label>")[0]
    assert "Beginning" in cell and "1 point<" in cell and "No clear melody" in cell
    assert "2 points" in page.split('for="level-0-1">')[1].split("</label>")[0]
    assert "(1 points)" not in page and "1 points" not in page
    assert 'id="feedback-0"' in page and 'id="feedback-1"' in page


def test_a_missing_level_is_shown_in_its_row(app: Flask, school: Any):
    _student, submission = submit_through_the_form(app, school)
    assessor = client_for(app, school.assessor)
    response = assessor.post(
        f"/review/{submission.public_id}/assess",
        data={"level-0": "1", "decision": "revise", "feedback": "More"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code in (400, 422)
    assert 'id="criterion-1" aria-describedby="criterion-1-description criterion-1-error"' in page
    assert 'id="criterion-0" aria-describedby="criterion-0-description"' in page
    assert page.count("Choose a level for this criterion.") == 1
    # The summary at the top links to the row.
    assert '<li><a href="#criterion-1">Choose a level for “Reflection”.</a></li>' in page
    # What was chosen comes back checked.
    assert 'id="level-0-1" name="level-0" value="1" checked' in page


def test_feedback_and_history_render_markdown_for_the_assessor(app: Flask, school: Any):
    _student, submission = submit_through_the_form(app, school)
    assessor = client_for(app, school.assessor)
    assessor.post(
        f"/review/{submission.public_id}/assess",
        data=assess_form(
            [1, 1], "revise", "Work on **the chorus**.", **{"feedback-0": "*Wanders*"}
        ),
    )
    page = assessor.get(f"/review/{submission.public_id}").get_data(as_text=True)
    assert "<strong>the chorus</strong>" in page and "<em>Wanders</em>" in page
    assert "**the chorus**" not in page and "*Wanders*" not in page
