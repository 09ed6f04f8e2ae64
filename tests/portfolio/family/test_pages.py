"""The family pages (issue 17 §3): a linked guardian reads, and only reads, her students'
progress, decided feedback, credentials and the portfolios they share with guardians; nobody
else gets those pages, nothing private leaks, and every view is in the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import flask
import pytest
from flask import Flask
from sqlalchemy import select

from portfolio.accounts import auth
from portfolio.accounts.models import User
from portfolio.assessment import service as assessment
from portfolio.assessment.models import PeerReview
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.family import service
from portfolio.guardians import service as guardians
from portfolio.guardians.models import GuardianLink
from portfolio.planning.models import PlanItem
from portfolio.portfolios.models import Portfolio, PortfolioItem, PortfolioSection
from tests.portfolio.school import School, competency, evidence, make_school, person


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def school(issuer: Any) -> School:
    return make_school(issuer)


@pytest.fixture
def gus(school: School) -> User:
    """Sam's guardian."""
    guardian = person(school.issuer, "guardian", "Gus Guardian")
    db.session.add(GuardianLink(guardian_id=guardian.id, student_id=school.student.id))
    db.session.commit()
    return guardian


@pytest.fixture
def una(school: School) -> User:
    """Oli's guardian, a stranger to Sam."""
    guardian = person(school.issuer, "guardian", "Una Unlinked")
    db.session.add(GuardianLink(guardian_id=guardian.id, student_id=school.other_student.id))
    db.session.commit()
    return guardian


def signed_in(app: Flask, user: User) -> Any:
    client = app.test_client()
    with app.test_request_context():
        auth.sign_in(user)
        state = dict(flask.session)
        flask.g.pop("credfolio_user", None)
    with client.session_transaction() as session:
        session.update(state)
    return client


def text_of(response: Any) -> str:
    return " ".join(response.get_data(as_text=True).split())


def shared_portfolio(owner: User, title: str, *, shared: bool = True) -> Portfolio:
    work = evidence(owner, f"{title} song")
    row = Portfolio(owner_id=owner.id, title=title, shared_with_guardians=shared)
    section = PortfolioSection(title="Songs", position=0)
    section.items.append(PortfolioItem(evidence=work, position=0))
    row.sections.append(section)
    db.session.add(row)
    db.session.commit()
    return row


def student_pages(school: School, portfolio: Portfolio) -> list[str]:
    base = f"/family/students/{school.student.id}"
    return [
        base,
        f"{base}/progress",
        f"{base}/feedback",
        f"{base}/portfolios/{portfolio.public_id}",
    ]


# -- who may read ----------------------------------------------------------------------------


def test_a_guardian_signs_in_to_her_family_home(app, school, gus):
    client = signed_in(app, gus)
    assert client.get("/").headers["Location"].endswith("/family")
    page = text_of(client.get("/family"))
    assert "Sam Student" in page and "Class: 7B" in page
    assert 'href="/family"' in page  # the Family link in the navigation
    assert client.get("/notifications").status_code == 200


def test_a_guardian_with_nobody_linked_is_told_so_in_plain_words(app, school, una):
    db.session.execute(db.delete(GuardianLink))
    db.session.commit()
    page = text_of(signed_in(app, una).get("/family"))
    assert "No student is linked to your account yet" in page


def test_only_a_linked_guardian_reads_a_students_pages(app, school, gus, una):
    portfolio = shared_portfolio(school.student, "For my family")
    for url in student_pages(school, portfolio):
        assert signed_in(app, gus).get(url).status_code == 200, url
        # Another family's guardian: as if the student did not exist.
        assert signed_in(app, una).get(url).status_code == 404, url
        for user in (school.student, school.other_student, school.assessor, school.admin):
            assert signed_in(app, user).get(url).status_code == 403, url
        assert app.test_client().get(url).status_code == 302, url
    for user in (school.student, school.assessor, school.admin):
        assert signed_in(app, user).get("/family").status_code == 403


def test_a_guardian_never_reaches_a_staff_member_or_a_made_up_id(app, school, gus):
    db.session.add(GuardianLink(guardian_id=gus.id, student_id=school.assessor.id))
    db.session.commit()
    client = signed_in(app, gus)
    assert client.get(f"/family/students/{school.assessor.id}").status_code == 404
    assert client.get("/family/students/999999").status_code == 404


def test_a_disabled_guardian_is_signed_out(app, school, gus):
    client = signed_in(app, gus)
    gus.disabled_at = datetime.now(UTC)
    db.session.commit()
    response = client.get(f"/family/students/{school.student.id}")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_disabled_student_disappears_from_her_guardians_pages(app, school, gus):
    school.student.disabled_at = datetime.now(UTC)
    db.session.commit()
    client = signed_in(app, gus)
    assert "Sam Student" not in text_of(client.get("/family"))
    assert client.get(f"/family/students/{school.student.id}").status_code == 404


# -- what she reads --------------------------------------------------------------------------


def test_feedback_shows_decided_rounds_per_criterion_and_nothing_private(app, school, gus):
    song = evidence(school.student, "My song")
    decided = assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id], submit=True
    )
    assessment.assess(
        decided,
        school.assessor,
        decision="revise",
        levels=[1, 1],
        criterion_feedback=["Tune the **bridge**.", ""],
        feedback="A good start.",
    )
    story = competency(school.issuer, "Story telling")
    assessment.create_submission(
        school.student,
        story,
        evidence_ids=[song.public_id],
        note="A draft note to my assessor.",
        submit=False,
    )
    db.session.add(
        PeerReview(
            submission_id=decided.id,
            peer_id=school.other_student.id,
            comment="A peer's private comment.",
            commented_at=datetime.now(UTC),
        )
    )
    oli_song = evidence(school.other_student, "Oli's song")
    olis = assessment.create_submission(
        school.other_student, school.competency, evidence_ids=[oli_song.public_id], submit=True
    )
    assessment.assess(olis, school.assessor, decision="not_yet", levels=[0, 0], feedback="Oli's.")
    db.session.commit()

    page = text_of(signed_in(app, gus).get(f"/family/students/{school.student.id}/feedback"))
    assert "Song writing" in page and "A good start." in page
    assert "<strong>bridge</strong>" in page
    assert "Revision requested" in page
    for private in ("Story telling", "A draft note", "A peer's private comment.", "Oli's."):
        assert private not in page


def test_a_round_under_review_is_not_shown_until_it_is_decided(app, school, gus):
    song = evidence(school.student, "My song")
    submission = assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id], submit=True
    )
    assessment.assess(submission, school.assessor, decision="revise", levels=[1, 1], feedback="One")
    assessment.submit(submission, school.student)  # resubmitted: round two is open
    cards = service.decided_feedback(school.student)
    assert [a.feedback for item in cards for a in item.assessments] == ["One"]


def test_the_overview_puts_consent_in_words_and_links_public_pages_only_with_it(app, school, gus):
    song = evidence(school.student, "My song")
    submission = assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id], submit=True
    )
    credential = assessment.assess(
        submission, school.assessor, decision="endorse", levels=[2, 2]
    ).credential
    assert credential is not None
    url = f"/family/students/{school.student.id}"
    client = signed_in(app, gus)

    page = text_of(client.get(url))
    assert "Sam Student is not a minor" in page
    assert f"/c/{credential.public_id}" in page and "Valid" in page

    school.student.minor = True
    db.session.commit()
    page = text_of(client.get(url))
    assert "no consent is recorded" in page
    assert f"/c/{credential.public_id}" not in page and "Song writing" in page

    guardians.give_consent(school.student, gus)
    db.session.commit()
    page = text_of(client.get(url))
    assert "You gave consent on" in page
    assert f"/c/{credential.public_id}" in page


def test_only_portfolios_shared_with_guardians_are_listed_and_served(app, school, gus):
    shared = shared_portfolio(school.student, "For my family")
    private = shared_portfolio(school.student, "My secrets", shared=False)
    olis = shared_portfolio(school.other_student, "Oli's family book")
    client = signed_in(app, gus)
    base = f"/family/students/{school.student.id}"

    overview = text_of(client.get(base))
    assert "For my family" in overview and "My secrets" not in overview

    page = client.get(f"{base}/portfolios/{shared.public_id}")
    assert page.status_code == 200 and "For my family song" in text_of(page)
    lyrics = shared.sections[0].items[0].evidence.artefacts[0]
    served = client.get(f"{base}/portfolios/{shared.public_id}/artefacts/{lyrics.public_id}")
    assert served.status_code == 200 and served.data == b"la la la"

    private_lyrics = private.sections[0].items[0].evidence.artefacts[0]
    assert client.get(f"{base}/portfolios/{private.public_id}").status_code == 404
    assert client.get(f"{base}/portfolios/{olis.public_id}").status_code == 404
    # An artefact of a portfolio not shared, named through the shared one: not found.
    assert (
        client.get(
            f"{base}/portfolios/{shared.public_id}/artefacts/{private_lyrics.public_id}"
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"{base}/portfolios/{shared.public_id}/artefacts/{lyrics.public_id}/nonsense"
        ).status_code
        == 404
    )
    # Once she stops sharing, the page and its files are gone.
    shared.shared_with_guardians = False
    db.session.commit()
    assert client.get(f"{base}/portfolios/{shared.public_id}").status_code == 404
    assert (
        client.get(f"{base}/portfolios/{shared.public_id}/artefacts/{lyrics.public_id}").status_code
        == 404
    )


def test_progress_is_read_only(app, school, gus):
    response = signed_in(app, gus).get(f"/family/students/{school.student.id}/progress")
    assert response.status_code == 200
    main = text_of(response).split("<main", 1)[1]
    assert "Progress of Sam Student" in main and "Song writing" in main
    assert "<form" not in main and "/submissions" not in main


def test_every_view_is_in_the_audit_log(app, school, gus):
    portfolio = shared_portfolio(school.student, "For my family")
    client = signed_in(app, gus)
    for url in student_pages(school, portfolio):
        client.get(url)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "guardian_viewed").order_by(AuditEvent.id)
    ).all()
    assert [event.detail["page"] for event in events] == [
        "overview",
        "progress",
        "feedback",
        "portfolio",
    ]
    assert {event.target for event in events} == {f"user:{school.student.id}"}
    assert {event.actor_id for event in events} == {gus.id}


def test_a_refused_view_is_not_recorded(app, school, una):
    signed_in(app, una).get(f"/family/students/{school.student.id}")
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "guardian_viewed")) is None
    )


# -- the home's cards ------------------------------------------------------------------------


def test_the_home_card_says_whats_new(app, school, gus):
    song = evidence(school.student, "My song")
    submission = assessment.create_submission(
        school.student, school.competency, evidence_ids=[song.public_id], submit=True
    )
    assessment.assess(
        submission, school.assessor, decision="endorse", levels=[2, 2], feedback="Lovely."
    )
    late = competency(school.issuer, "Story telling")
    soon = competency(school.issuer, "Drawing")
    today = date.today()
    db.session.add_all(
        [
            PlanItem(
                student_id=school.student.id,
                competency_id=late.id,
                target_date=today - timedelta(days=3),
            ),
            PlanItem(
                student_id=school.student.id,
                competency_id=soon.id,
                target_date=today + timedelta(days=3),
            ),
            # Past its date but mastered: not overdue.
            PlanItem(
                student_id=school.student.id,
                competency_id=school.competency.id,
                target_date=today - timedelta(days=3),
            ),
        ]
    )
    db.session.commit()
    (card,) = service.home_cards(gus, today=today)
    assert (card.credentials, card.overdue, card.plan_items) == (1, 1, 3)
    assert card.latest is not None and card.latest.feedback == "Lovely."
    page = text_of(signed_in(app, gus).get("/family"))
    assert "1 credential earned" in page and "1 item overdue" in page and "Lovely." in page


def test_only_known_pages_are_recorded(app, school, gus):
    with pytest.raises(ValueError, match="unknown page"):
        service.record_view(gus, school.student, "everything")
