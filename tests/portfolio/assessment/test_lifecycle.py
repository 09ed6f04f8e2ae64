"""Revocation and suspension reach every view (issue 15 §2): the student is told with the
reason, in-app and by mail; her progress map, the cohort view and her list of credentials say
what happened; a stack badge follows its revoked component."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from portfolio.accounts.models import Notification
from portfolio.assessment import progress_queries
from portfolio.assessment import service as assessment
from portfolio.assessment.mastery import mastered
from portfolio.assessment.models import Submission
from portfolio.assessment.progress import CohortFilter
from portfolio.core import mail
from portfolio.core.db import db
from portfolio.issuing import service as services
from portfolio.issuing.models import IssuedCredential
from tests.portfolio.accounts.test_auth import sign_in
from tests.portfolio.school import PASSWORD, competency, evidence, make_school, stack

PROFICIENT = [2, 2]


@pytest.fixture
def school(issuer: Any) -> Any:
    return make_school(issuer)


def endorsed(school: Any, which: Any = None) -> IssuedCredential:
    """The credential of a submission of the student's, endorsed by the assessor."""
    item = evidence(school.student, f"Work for {(which or school.competency).name}")
    row = assessment.create_submission(
        school.student, which or school.competency, evidence_ids=[item.public_id], submit=True
    )
    outcome = assessment.assess(row, school.assessor, decision="endorse", levels=PROFICIENT)
    assert outcome.credential is not None
    return outcome.credential


def notices_of(user: Any) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.message)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
    )


def mails_to(app: Any, address: str) -> list[Any]:
    outbox = Path(app.instance_path) / "outbox"
    return [message for message in mail.read_outbox(outbox) if message["To"] == address]


def map_cell(student: Any, name: str) -> Any:
    view = progress_queries.student_map(student)
    return next(entry.cell for entry in view.entries if entry.competency.name == name)


# -- the student is told ---------------------------------------------------------------------


def test_revoking_tells_the_student_in_app_and_by_mail_with_the_reason(app: Any, school: Any):
    credential = endorsed(school)
    before = len(mails_to(app, school.student.email))
    services.set_status(credential, "revoke", reason="Plagiarised lyrics", actor="cli")
    latest = notices_of(school.student)[-1]
    assert "“Song writing” was revoked" in latest and "Plagiarised lyrics" in latest
    [message] = mails_to(app, school.student.email)[before:]
    assert "Plagiarised lyrics" in message.get_content()
    assert "/my/credentials" in message.get_content()


def test_suspending_and_lifting_it_tell_the_student_each_time(app: Any, school: Any):
    credential = endorsed(school)
    services.set_status(credential, "suspend", reason="Checking the recording")
    assert "is suspended" in notices_of(school.student)[-1]
    assert "Checking the recording" in notices_of(school.student)[-1]
    services.set_status(credential, "unsuspend", reason="Checked: it is hers")
    assert "lifted" in notices_of(school.student)[-1]
    assert "Checked: it is hers" in notices_of(school.student)[-1]
    subjects = [m["Subject"] for m in mails_to(app, school.student.email)]
    assert any("is suspended" in s for s in subjects) and any("lifted" in s for s in subjects)


def test_a_refused_change_tells_nobody(school: Any):
    credential = endorsed(school)
    services.set_status(credential, "revoke", reason="Issued in error")
    told = notices_of(school.student)
    with pytest.raises(services.StatusConflictError):
        services.set_status(credential, "suspend", reason="Too late")
    assert notices_of(school.student) == told


# -- every view says what happened -----------------------------------------------------------


def test_a_revoked_mastery_shows_as_revoked_with_its_reason_not_as_not_started(school: Any):
    credential = endorsed(school)
    services.set_status(credential, "revoke", reason="Plagiarised lyrics")
    cell = map_cell(school.student, "Song writing")
    assert cell.state == "revoked" and cell.label == "Revoked"
    assert cell.status_reason == "Plagiarised lyrics" and cell.status_at is not None
    # The student may earn it again: it is among what is next.
    next_up = progress_queries.student_map(school.student).next_up
    assert [entry.competency.name for entry in next_up] == ["Song writing"]


def test_a_new_submission_after_a_revocation_shows_its_own_progress(school: Any):
    credential = endorsed(school)
    services.set_status(credential, "revoke", reason="Plagiarised lyrics")
    item = evidence(school.student, "My own song")
    assessment.create_submission(school.student, school.competency, evidence_ids=[item.public_id])
    assert map_cell(school.student, "Song writing").state == "in_progress"


def test_a_suspended_mastery_shows_as_suspended_until_it_is_lifted(school: Any):
    credential = endorsed(school)
    services.set_status(credential, "suspend", reason="Checking the recording")
    cell = map_cell(school.student, "Song writing")
    assert cell.state == "suspended" and cell.status_reason == "Checking the recording"
    assert progress_queries.student_map(school.student).counts["mastered"] == 0
    # Held, not lost: the student cannot submit for it again meanwhile.
    assert mastered(school.student, school.competency) is not None
    services.set_status(credential, "unsuspend", reason="")
    assert map_cell(school.student, "Song writing").state == "mastered"


def test_the_cohort_view_shows_revoked_and_suspended_cells(school: Any):
    credential = endorsed(school)
    catalogue = progress_queries.load_catalogue(school.issuer.id)
    services.set_status(credential, "suspend", reason="Checking")
    matrix = progress_queries.cohort_matrix(school.issuer.id, catalogue, CohortFilter("7B"))
    assert matrix.cells[school.student.id][school.competency.id].state == "suspended"
    services.set_status(credential, "revoke", reason="Plagiarised")
    matrix = progress_queries.cohort_matrix(school.issuer.id, catalogue, CohortFilter("7B"))
    assert matrix.cells[school.student.id][school.competency.id].state == "revoked"


def test_the_pages_show_the_state_and_the_reason(app: Any, school: Any):
    credential = endorsed(school)
    services.set_status(credential, "suspend", reason="Checking the recording")
    app.config["WTF_CSRF_ENABLED"] = False
    student = app.test_client()
    assert sign_in(student, school.student.email, PASSWORD).status_code == 303
    credentials_page = student.get("/my/credentials").get_data(as_text=True)
    assert "Suspended" in credentials_page and "Checking the recording" in credentials_page
    progress_page = student.get("/progress").get_data(as_text=True)
    assert "Suspended" in progress_page and "Checking the recording" in progress_page
    assert "Mastered on" not in progress_page
    submission = db.session.scalars(select(Submission)).one()
    page = student.get(f"/submissions/{submission.public_id}").get_data(as_text=True)
    assert "suspended" in page and "Checking the recording" in page


# -- stack badges follow their components ----------------------------------------------------


def test_a_stack_badge_is_revoked_with_its_component_and_the_student_told(school: Any):
    lyrics = competency(school.issuer, "Lyrics")
    songwriter = stack(school.issuer, "Songwriter", [school.competency, lyrics])
    song = endorsed(school)
    endorsed(school, lyrics)
    badge = mastered(school.student, songwriter)
    assert badge is not None
    badge_credential = badge.credential

    services.set_status(song, "revoke", reason="Plagiarised lyrics", actor="cli")

    db.session.refresh(badge_credential)
    assert badge_credential.state == "revoked"
    assert "“Song writing” was revoked" in (badge_credential.revocation_reason or "")
    assert "Plagiarised lyrics" in (badge_credential.revocation_reason or "")
    assert map_cell(school.student, "Songwriter").state == "revoked"
    assert any("“Songwriter” was revoked" in n for n in notices_of(school.student))


def test_stacks_of_stacks_follow_and_the_badge_is_earned_again(school: Any):
    lyrics = competency(school.issuer, "Lyrics")
    songwriter = stack(school.issuer, "Songwriter", [school.competency, lyrics])
    musician = stack(school.issuer, "Musician", [songwriter])
    song = endorsed(school)
    endorsed(school, lyrics)
    held = mastered(school.student, musician)
    assert held is not None
    first_musician = held.credential

    services.set_status(song, "revoke", reason="Issued in error")
    db.session.refresh(first_musician)
    assert first_musician.state == "revoked"
    assert mastered(school.student, songwriter) is None

    endorsed(school)  # earned again, honestly
    again = mastered(school.student, musician)
    assert again is not None and again.credential.state == "active"
    assert again.credential_id != first_musician.id


def test_a_suspended_component_leaves_the_stack_badge_to_an_administrator(school: Any):
    songwriter = stack(school.issuer, "Songwriter", [school.competency])
    song = endorsed(school)
    badge = mastered(school.student, songwriter)
    assert badge is not None
    services.set_status(song, "suspend", reason="Checking")
    db.session.refresh(badge.credential)
    assert badge.credential.state == "active"
    assert map_cell(school.student, "Song writing").state == "suspended"


# -- through the administrators' page and the CLI --------------------------------------------


def test_revoking_on_the_admin_page_reaches_the_student_and_the_stack(app: Any, school: Any):
    songwriter = stack(school.issuer, "Songwriter", [school.competency])
    song = endorsed(school)
    badge = mastered(school.student, songwriter)
    assert badge is not None
    app.config["WTF_CSRF_ENABLED"] = False
    admin = app.test_client()
    assert sign_in(admin, school.admin.email, PASSWORD).status_code == 303
    page = admin.get(f"/admin/credentials/{song.public_id}/revoke").get_data(as_text=True)
    assert "The student is told" in page and "stack badge" in page
    response = admin.post(
        f"/admin/credentials/{song.public_id}/revoke",
        data={"reason": "Plagiarised lyrics", "confirm": "y"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert badge.credential.state == "revoked"
    assert any("Plagiarised lyrics" in n for n in notices_of(school.student))


def test_suspending_from_the_cli_tells_the_student(app: Any, school: Any):
    song = endorsed(school)
    result = app.test_cli_runner().invoke(
        args=["credentials", "suspend", song.public_id, "--reason", "Checking the recording"]
    )
    assert result.exit_code == 0, result.output
    assert "Checking the recording" in notices_of(school.student)[-1]
    assert map_cell(school.student, "Song writing").state == "suspended"
