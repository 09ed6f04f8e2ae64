"""Peer feedback: a student asks up to N classmates of her cohort for comments; the peer reads
the evidence and comments; staff may hide a comment with a reason; only the student, the peer
and staff see it — and no comment ever reaches a decision or a credential."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.accounts.models import Notification
from portfolio.assessment import credentials, endorsement, judgement
from portfolio.assessment import peer_feedback as peers
from portfolio.assessment import service as assessment
from portfolio.assessment.errors import (
    AssessmentConflictError,
    AssessmentError,
    AssessmentNotFoundError,
)
from portfolio.assessment.models import PeerReview
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.evidence.snapshots import snapshots_of
from tests.portfolio.assessment.test_assessment_pages import client_for
from tests.portfolio.school import evidence, make_school, person

SECRET = "Peer-only words: the bridge drags"


@pytest.fixture
def school(app: Flask, issuer: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = False
    school = make_school(issuer)
    school.competency.peer_reviewers = 2
    school.classmate = person(issuer, "student", "Cleo Classmate", cohort="7B")
    school.classmate2 = person(issuer, "student", "Dan Deskmate", cohort="7B")
    school.classmate3 = person(issuer, "student", "Eve Extra", cohort="7B")
    db.session.commit()
    return school


def _submitted(school: Any) -> Any:
    song = evidence(school.student, "My song")
    return assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id], submit=True
    )


def test_she_asks_a_classmate_who_is_notified(school: Any) -> None:
    submission = _submitted(school)
    review = peers.ask_peer(submission, school.student, school.classmate)
    assert review.peer_id == school.classmate.id and review.comment is None
    notice = db.session.scalars(
        select(Notification).where(Notification.user_id == school.classmate.id)
    ).one()
    assert "Sam Student asks for your comments" in notice.message
    assert notice.link == f"/peer-feedback/{review.public_id}"
    assert [u.display_name for u in peers.classmates(submission)] == ["Dan Deskmate", "Eve Extra"]


def test_at_most_n_classmates(school: Any) -> None:
    submission = _submitted(school)
    peers.ask_peer(submission, school.student, school.classmate)
    peers.ask_peer(submission, school.student, school.classmate2)
    with pytest.raises(AssessmentConflictError, match="at most 2"):
        peers.ask_peer(submission, school.student, school.classmate3)


def test_not_twice_the_same_classmate(school: Any) -> None:
    submission = _submitted(school)
    peers.ask_peer(submission, school.student, school.classmate)
    with pytest.raises(AssessmentConflictError, match="already asked"):
        peers.ask_peer(submission, school.student, school.classmate)


def test_only_active_students_of_her_cohort(school: Any, issuer: Any) -> None:
    submission = _submitted(school)
    for outsider in (
        school.other_student,  # cohort 7C
        school.student,  # herself
        school.assessor,
        person(issuer, "guardian", "Gil Guardian"),
        None,
    ):
        with pytest.raises(AssessmentError, match="classmate of your cohort"):
            peers.ask_peer(submission, school.student, outsider)
    school.classmate.disabled_at = school.classmate.created_at
    db.session.commit()
    with pytest.raises(AssessmentError, match="classmate of your cohort"):
        peers.ask_peer(submission, school.student, school.classmate)


def test_not_on_a_draft_nor_when_peer_feedback_is_off(school: Any) -> None:
    song = evidence(school.student, "My song")
    draft = assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id]
    )
    with pytest.raises(AssessmentConflictError, match="once you have submitted"):
        peers.ask_peer(draft, school.student, school.classmate)
    school.competency.peer_reviewers = 0
    db.session.commit()
    assessment.submit(draft, school.student)
    with pytest.raises(AssessmentConflictError, match="off"):
        peers.ask_peer(draft, school.student, school.classmate)


def test_only_the_student_asks(school: Any) -> None:
    submission = _submitted(school)
    with pytest.raises(AssessmentNotFoundError):
        peers.ask_peer(submission, school.classmate, school.classmate2)


def test_the_peer_comments_declines_and_she_withdraws(school: Any) -> None:
    submission = _submitted(school)
    first = peers.ask_peer(submission, school.student, school.classmate)
    second = peers.ask_peer(submission, school.student, school.classmate2)
    with pytest.raises(AssessmentNotFoundError):
        peers.write_comment(first, school.classmate2, "Not mine")
    with pytest.raises(AssessmentError, match="write a comment"):
        peers.write_comment(first, school.classmate, "  ")
    peers.write_comment(first, school.classmate, "Lovely *chorus*.")
    assert first.comment == "Lovely *chorus*." and first.commented_at is not None
    with pytest.raises(AssessmentConflictError, match="already commented"):
        peers.withdraw(first, school.student)
    with pytest.raises(AssessmentConflictError, match="already commented"):
        peers.decline(first, school.classmate)
    peers.decline(second, school.classmate2)
    assert [r.peer_id for r in peers.reviews_of(submission)] == [school.classmate.id]
    third = peers.ask_peer(submission, school.student, school.classmate3)
    peers.withdraw(third, school.student)
    assert len(peers.reviews_of(submission)) == 1


def test_staff_hide_a_comment_with_a_reason(school: Any, issuer: Any) -> None:
    submission = _submitted(school)
    review = peers.ask_peer(submission, school.student, school.classmate)
    with pytest.raises(AssessmentConflictError, match="no comment"):
        peers.hide(review, school.assessor, "Rude")
    peers.write_comment(review, school.classmate, "Unkind words")
    with pytest.raises(AssessmentNotFoundError):
        peers.hide(review, school.classmate2, "Rude")
    with pytest.raises(AssessmentError, match="say why"):
        peers.hide(review, school.assessor, " ")
    peers.hide(review, school.assessor, "Not kind")
    assert (review.hidden_reason, review.hidden_by_id) == ("Not kind", school.assessor.id)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "peer_comment_hidden")
    ).one()
    assert event.target == review.public_id and event.detail["reason"] == "Not kind"
    with pytest.raises(AssessmentConflictError, match="hidden"):
        peers.write_comment(review, school.classmate, "Sorry, nicer now")


def test_who_sees_a_comment(school: Any, issuer: Any) -> None:
    submission = _submitted(school)
    review = peers.ask_peer(submission, school.student, school.classmate)
    seen = [school.student, school.classmate, school.assessor, school.admin]
    unseen = [school.classmate2, school.other_student, person(issuer, "guardian", "Gil G")]
    assert all(peers.can_see(user, review) for user in seen)
    assert not any(peers.can_see(user, review) for user in unseen)


def test_comments_never_influence_the_credential(school: Any) -> None:
    submission = _submitted(school)
    review = peers.ask_peer(submission, school.student, school.classmate)
    peers.write_comment(review, school.classmate, SECRET)
    hidden = peers.ask_peer(submission, school.student, school.classmate2)
    peers.write_comment(hidden, school.classmate2, SECRET + " (hidden)")
    peers.hide(hidden, school.assessor, "Off topic")
    outcome = assessment.assess(submission, school.assessor, decision="endorse", levels=[2, 2])
    assert outcome.credential is not None
    document = outcome.credential.document
    assert SECRET not in document and json.loads(document)["credentialSubject"]
    assert "bridge drags" not in document
    for snapshot in snapshots_of(outcome.credential):
        assert SECRET not in snapshot.title + snapshot.narrative
    # Decisions read no peer comment: the rules' modules never name the table or its service.
    for module in (assessment, endorsement, credentials, judgement):
        source = inspect.getsource(module)
        assert "PeerReview" not in source and "peer_feedback" not in source
    assert db.session.scalars(select(PeerReview)).all()  # the comments are still there


# -- pages -------------------------------------------------------------------------------------


def test_the_whole_peer_flow_through_the_pages(app: Flask, school: Any) -> None:
    submission = _submitted(school)
    student = client_for(app, school.student)
    page = student.get(f"/submissions/{submission.public_id}").get_data(as_text=True)
    assert "Comments from classmates" in page and "Cleo Classmate" in page
    assert "Oli Other" not in page  # another cohort
    asked = student.post(
        f"/submissions/{submission.public_id}/peer-feedback", data={"peer": school.classmate.id}
    )
    assert asked.status_code == 303
    refused = student.post(
        f"/submissions/{submission.public_id}/peer-feedback",
        data={"peer": school.other_student.id},
    )
    assert refused.status_code == 422
    assert "Choose a classmate of your cohort." in refused.get_data(as_text=True)
    review = db.session.scalars(select(PeerReview)).one()

    cleo = client_for(app, school.classmate)
    listing = cleo.get("/peer-feedback").get_data(as_text=True)
    assert "Sam Student: Song writing" in listing
    show = cleo.get(f"/peer-feedback/{review.public_id}").get_data(as_text=True)
    artefact = submission.items[0].evidence.artefacts[0]
    url = f"/peer-feedback/{review.public_id}/artefacts/{artefact.public_id}"
    assert url in show and "How I made" in show
    assert cleo.get(url).status_code == 200
    olis = evidence(school.other_student, "Oli's song").artefacts[0]
    not_in_it = f"/peer-feedback/{review.public_id}/artefacts/{olis.public_id}"
    assert cleo.get(not_in_it).status_code == 404
    empty = cleo.post(f"/peer-feedback/{review.public_id}", data={"comment": ""})
    assert empty.status_code == 422
    assert (
        cleo.post(
            f"/peer-feedback/{review.public_id}", data={"comment": "The **chorus** soars."}
        ).status_code
        == 303
    )

    mine = student.get(f"/submissions/{submission.public_id}").get_data(as_text=True)
    assert "<strong>chorus</strong>" in mine

    # Another classmate, Oli and a guardian cannot reach the request or its artefacts.
    for other in (school.classmate2, school.other_student):
        client = client_for(app, other)
        assert client.get(f"/peer-feedback/{review.public_id}").status_code == 404
        assert client.get(url).status_code == 404
    # Staff see it on the review page and hide it.
    assessor = client_for(app, school.assessor)
    review_page = assessor.get(f"/review/{submission.public_id}").get_data(as_text=True)
    assert "<strong>chorus</strong>" in review_page and "Hide this comment" in review_page
    missing = assessor.post(f"/peer-feedback/{review.public_id}/hide", data={"reason": ""})
    assert missing.status_code == 422
    assert "Say why you hide the comment" in missing.get_data(as_text=True)
    assert (
        assessor.post(
            f"/peer-feedback/{review.public_id}/hide", data={"reason": "Keep it on the song"}
        ).status_code
        == 303
    )
    mine = student.get(f"/submissions/{submission.public_id}").get_data(as_text=True)
    assert "Hidden by your teacher: Keep it on the song" in mine and "chorus</strong>" not in mine
    theirs = cleo.get(f"/peer-feedback/{review.public_id}").get_data(as_text=True)
    assert "Hidden by your teacher: Keep it on the song" in theirs
    staff = assessor.get(f"/review/{submission.public_id}").get_data(as_text=True)
    assert "<strong>chorus</strong>" in staff and "Keep it on the song" in staff


def test_peer_pages_refuse_others(app: Flask, school: Any, issuer: Any) -> None:
    submission = _submitted(school)
    review = peers.ask_peer(submission, school.student, school.classmate)
    guardian = client_for(app, person(issuer, "guardian", "Gil Guardian"))
    assert guardian.get("/peer-feedback").status_code == 403
    assert guardian.get(f"/peer-feedback/{review.public_id}").status_code == 403
    # The student herself withdraws; a classmate cannot.
    dan = client_for(app, school.classmate2)
    assert dan.post(f"/peer-feedback/{review.public_id}/withdraw").status_code == 404
    assert dan.post(f"/peer-feedback/{review.public_id}/decline").status_code == 404
    ask = f"/submissions/{submission.public_id}/peer-feedback"
    assert dan.post(ask, data={}).status_code == 404
    sam = client_for(app, school.student)
    assert sam.post(f"/peer-feedback/{review.public_id}/withdraw").status_code == 303
    assert peers.find_review(review.public_id) is None


def test_comments_stay_readable_when_peer_feedback_is_turned_off(app: Flask, school: Any) -> None:
    submission = _submitted(school)
    review = peers.ask_peer(submission, school.student, school.classmate)
    peers.write_comment(review, school.classmate, "Still here")
    school.competency.peer_reviewers = 0
    db.session.commit()
    page = client_for(app, school.student).get(f"/submissions/{submission.public_id}")
    text = page.get_data(as_text=True)
    assert "Still here" in text and "Ask for comments" not in text
