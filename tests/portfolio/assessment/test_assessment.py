"""The assessment flow as a service: submit, assess, revise, endorse, issue — once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from credentials import schema
from portfolio.accounts.models import Notification
from portfolio.assessment import credentials as issuing
from portfolio.assessment import endorsement
from portfolio.assessment import service as assessment
from portfolio.assessment.errors import AssessmentError
from portfolio.assessment.events import trail
from portfolio.assessment.models import Mastery, Submission, SubmissionEvent
from portfolio.catalogue import rubrics
from portfolio.core.db import db
from portfolio.core.errors import status_for
from portfolio.issuing.models import IssuedCredential, StatusListRow
from tests.portfolio.school import CRITERIA, LEVELS, competency, evidence, make_school, stack

PROFICIENT = [2, 2]
BEGINNING = [0, 1]


@pytest.fixture
def school(issuer: Any) -> Any:
    return make_school(issuer)


def submitted(school: Any, competency: Any = None, student: Any = None) -> Submission:
    student = student or school.student
    items = [evidence(student, "My song"), evidence(student, "A story", genre="Short story")]
    return assessment.create_submission(
        student,
        competency or school.competency,
        evidence_ids=[item.public_id for item in items],
        note="Please look at the chorus.",
        submit=True,
    )


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def verify(app: Any, row: IssuedCredential) -> Any:
    return app.extensions["credfolio"].verifier().verify(json.loads(row.document))


# -- the student's side ---------------------------------------------------------------------------


def test_a_submission_starts_as_a_draft_and_records_every_transition(school: Any) -> None:
    item = evidence(school.student, "My song")
    row = assessment.create_submission(
        school.student, school.competency, evidence_ids=[item.public_id], note="first try"
    )
    assert row.state == "draft" and row.round == 0
    assessment.submit(row, school.student)
    assert row.state == "submitted" and row.round == 1 and row.submitted_at is not None
    states = [(e.from_state, e.to_state, e.actor_id) for e in trail(row)]
    assert states == [(None, "draft", school.student.id), ("draft", "submitted", school.student.id)]


def test_a_student_cannot_submit_someone_elses_evidence(school: Any) -> None:
    theirs = evidence(school.other_student, "Not mine")
    with pytest.raises(AssessmentError, match="does not exist"):
        assessment.create_submission(
            school.student, school.competency, evidence_ids=[theirs.public_id], submit=True
        )
    assert count(Submission) == 0


def test_a_submission_needs_evidence(school: Any) -> None:
    with pytest.raises(AssessmentError, match="at least one"):
        assessment.create_submission(school.student, school.competency, evidence_ids=[])


def test_prerequisites_must_be_mastered_first(school: Any) -> None:
    from portfolio.catalogue.models import Prerequisite

    basics = competency(school.issuer, "Music basics")
    db.session.add(Prerequisite(competency_id=school.competency.id, prerequisite_id=basics.id))
    db.session.commit()
    with pytest.raises(AssessmentError, match="Music basics"):
        submitted(school)
    first = submitted(school, basics)
    assessment.assess(first, school.assessor, decision="endorse", levels=PROFICIENT)
    assert submitted(school).state == "submitted"


def test_only_one_open_submission_per_competency(school: Any) -> None:
    submitted(school)
    with pytest.raises(AssessmentError, match="open submission"):
        submitted(school)


# -- assessing ------------------------------------------------------------------------------------


def test_a_revision_request_goes_back_to_the_student_with_feedback(school: Any) -> None:
    row = submitted(school)
    outcome = assessment.assess(
        row,
        school.assessor,
        decision="revise",
        levels=BEGINNING,
        criterion_feedback=["The melody wanders", ""],
        feedback="Work on the chorus.",
    )
    assert outcome.state == "revision_requested" and outcome.credential is None
    notice = db.session.scalars(select(Notification)).one()
    assert notice.user_id == school.student.id and "revision" in notice.message
    assessment.submit(row, school.student)
    assert row.state == "resubmitted" and row.round == 2


def test_feedback_is_required_unless_endorsing(school: Any) -> None:
    row = submitted(school)
    with pytest.raises(AssessmentError, match="what to improve"):
        assessment.assess(row, school.assessor, decision="revise", levels=BEGINNING)
    assert row.state == "submitted" and count(SubmissionEvent) == 2


def test_endorsing_needs_levels_that_meet_the_mastery_rule(school: Any) -> None:
    row = submitted(school)
    with pytest.raises(AssessmentError, match="rule for mastery"):
        assessment.assess(row, school.assessor, decision="endorse", levels=[3, 1])
    with pytest.raises(AssessmentError, match="every criterion"):
        assessment.assess(row, school.assessor, decision="endorse", levels=[3])
    assert count(IssuedCredential) == 0


def test_the_student_cannot_assess_their_own_submission(school: Any) -> None:
    row = submitted(school)
    with pytest.raises(AssessmentError) as caught:
        assessment.assess(row, school.student, decision="endorse", levels=PROFICIENT)
    assert status_for(caught.value) == 404


def test_an_assessor_of_another_issuer_cannot_assess(school: Any) -> None:
    from portfolio.accounts.models import Issuer
    from tests.portfolio.school import person

    elsewhere = Issuer(slug="elsewhere", did="did:web:elsewhere.test", name="Elsewhere")
    db.session.add(elsewhere)
    db.session.commit()
    stranger = person(elsewhere, "assessor", "Stranger Danger")
    row = submitted(school)
    with pytest.raises(AssessmentError) as caught:
        assessment.assess(row, stranger, decision="endorse", levels=PROFICIENT)
    assert status_for(caught.value) == 404


# -- issuing on endorsement -----------------------------------------------------------------------


def test_endorsement_issues_a_verifiable_credential_with_results_evidence_and_endorsement(
    app: Any, school: Any
) -> None:
    row = submitted(school)
    outcome = assessment.assess(
        row, school.assessor, decision="endorse", levels=[2, 3], feedback="Lovely song."
    )
    credential = outcome.credential
    assert outcome.state == "endorsed" and credential is not None
    assert row.credential_id == credential.id and credential.recipient_user_id == school.student.id
    document = json.loads(credential.document)
    assert schema.errors_for(document, allow_compacted=True) == []
    subject = document["credentialSubject"]
    achievement = subject["achievement"]
    assert achievement["id"].endswith(f"/achievements/{school.competency.public_id}")
    assert [d["name"] for d in achievement["resultDescription"]] == ["Melody", "Reflection"]
    melody = achievement["resultDescription"][0]
    assert melody["requiredLevel"] == melody["rubricCriterionLevel"][2]["id"]
    assert [r["achievedLevel"] for r in subject["result"]] == [
        achievement["resultDescription"][0]["rubricCriterionLevel"][2]["id"],
        achievement["resultDescription"][1]["rubricCriterionLevel"][3]["id"],
    ]
    identity = subject["identifier"][0]
    assert identity["identityType"] == "emailAddress" and identity["hashed"] is True
    genres = [e.get("genre") for e in document["evidence"]]
    assert genres[0] == "Song" and "Short story" in genres
    digests = [e for e in document["evidence"] if "digestSRI" in e]
    assert len(digests) == 2 and all(d["digestSRI"].startswith("sha256-") for d in digests)
    endorsement = document["endorsement"][0]
    assert endorsement["credentialSubject"]["id"] == document["id"]
    assert endorsement["issuer"]["id"].startswith("did:key:")
    result = verify(app, credential)
    assert result.verified, result.errors
    assert count(Mastery) == 1


def test_endorsing_twice_never_issues_twice(school: Any) -> None:
    row = submitted(school)
    assessment.assess(row, school.assessor, decision="endorse", levels=PROFICIENT)
    with pytest.raises(AssessmentError) as caught:
        assessment.assess(row, school.second_assessor, decision="endorse", levels=PROFICIENT)
    assert status_for(caught.value) == 409
    assert count(IssuedCredential) == 1 and count(Mastery) == 1


def test_a_failure_while_issuing_leaves_nothing_half_written(
    school: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = submitted(school)
    before = {m: count(m) for m in (IssuedCredential, SubmissionEvent, Notification)}
    lists_before = [(r.id, bytes(r.allocated)) for r in db.session.scalars(select(StatusListRow))]

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the signing service fell over")

    monkeypatch.setattr(endorsement, "complete_stacks", broken)
    with pytest.raises(RuntimeError):
        assessment.assess(row, school.assessor, decision="endorse", levels=PROFICIENT)
    db.session.expire_all()
    assert {m: count(m) for m in before} == before
    assert count(Mastery) == 0 and count(db.Model.metadata.tables["assessments"]) == 0
    assert db.session.get(Submission, row.id).state == "submitted"
    lists_after = [(r.id, bytes(r.allocated)) for r in db.session.scalars(select(StatusListRow))]
    # No status-list position was taken (lists created on the way are rolled back too).
    assert all(not any(bits) for _, bits in lists_after if (_, bits) not in lists_before)
    monkeypatch.undo()
    outcome = assessment.assess(row, school.assessor, decision="endorse", levels=PROFICIENT)
    assert outcome.credential is not None


# -- moderation -----------------------------------------------------------------------------------


def test_moderation_issues_only_when_the_required_endorsements_agree(app: Any, school: Any) -> None:
    school.competency.required_endorsements = 2
    db.session.commit()
    row = submitted(school)
    first = assessment.assess(row, school.assessor, decision="endorse", levels=PROFICIENT)
    assert first.state == "in_review" and first.credential is None and first.waiting_for == 1
    second = assessment.assess(row, school.second_assessor, decision="endorse", levels=[3, 3])
    assert second.state == "endorsed" and second.credential is not None
    document = json.loads(second.credential.document)
    assert len(document["endorsement"]) == 2
    assert verify(app, second.credential).verified


def test_a_disagreement_is_flagged_to_administrators_who_decide(school: Any) -> None:
    school.competency.required_endorsements = 2
    db.session.commit()
    row = submitted(school)
    assessment.assess(row, school.assessor, decision="endorse", levels=PROFICIENT)
    outcome = assessment.assess(
        row, school.second_assessor, decision="revise", levels=BEGINNING, feedback="Not yet there"
    )
    assert outcome.flagged and row.flagged_at is not None and row.state == "in_review"
    notices = db.session.scalars(
        select(Notification).where(Notification.user_id == school.admin.id)
    ).all()
    assert len(notices) == 1 and "disagree" in notices[0].message
    decided = assessment.assess(
        row, school.admin, decision="revise", levels=BEGINNING, feedback="Revise the chorus."
    )
    assert decided.state == "revision_requested" and row.flagged_at is None
    assert count(IssuedCredential) == 0


# -- rubric versioning ----------------------------------------------------------------------------


def test_editing_a_rubric_never_changes_how_an_earlier_assessment_reads(school: Any) -> None:
    row = submitted(school)
    assessment.assess(
        row, school.assessor, decision="revise", levels=BEGINNING, feedback="Try again"
    )
    first = row.assessments[0]
    rubrics.save_new_version(
        school.competency,
        title="Song writing rubric (revised)",
        levels=[*LEVELS[:3], {"name": "Outstanding", "points": 5}],
        criteria=[{**CRITERIA[0], "name": "Melody and harmony"}, CRITERIA[1]],
        rule={"kind": "points", "threshold": 7},
    )
    db.session.commit()
    db.session.expire_all()
    assert first.rubric_version.version == 1
    assert first.rubric_version.criteria[0]["name"] == "Melody"
    assert first.rubric_version.levels[3]["name"] == "Advanced"
    assessment.submit(row, school.student)
    outcome = assessment.assess(row, school.assessor, decision="endorse", levels=[3, 2])
    document = json.loads(outcome.credential.document)
    descriptions = document["credentialSubject"]["achievement"]["resultDescription"]
    assert descriptions[0]["name"] == "Melody and harmony"
    assert (
        descriptions[-1]["resultType"] == "RubricScore" and descriptions[-1]["requiredValue"] == "7"
    )
    assert document["credentialSubject"]["result"][-1]["value"] == "8"


# -- stacks ---------------------------------------------------------------------------------------


def test_a_stack_badge_is_issued_when_the_last_component_is_endorsed(app: Any, school: Any) -> None:
    story = competency(school.issuer, "Story telling")
    badge = stack(school.issuer, "Young creator", [school.competency, story])
    first = assessment.assess(
        submitted(school), school.assessor, decision="endorse", levels=PROFICIENT
    )
    assert first.stacks == ()
    last = assessment.assess(
        submitted(school, story), school.assessor, decision="endorse", levels=PROFICIENT
    )
    assert len(last.stacks) == 1
    badge_credential = last.stacks[0]
    document = json.loads(badge_credential.document)
    assert document["credentialSubject"]["achievement"]["achievementType"] == "Badge"
    assert {e["id"] for e in document["evidence"]} == {
        f"https://credfolio.test/c/{first.credential.public_id}",
        f"https://credfolio.test/c/{last.credential.public_id}",
    }
    assert verify(app, badge_credential).verified
    mastery = db.session.scalar(select(Mastery).where(Mastery.competency_id == badge.id))
    assert mastery.credential_id == badge_credential.id


def test_a_stack_of_stacks_completes_in_the_same_transaction(school: Any) -> None:
    inner = stack(school.issuer, "Inner", [school.competency])
    stack(school.issuer, "Outer", [inner])
    outcome = assessment.assess(
        submitted(school), school.assessor, decision="endorse", levels=PROFICIENT
    )
    assert [json.loads(c.document)["name"] for c in outcome.stacks] == ["Inner", "Outer"]


def test_a_standalone_endorsement_of_an_achievement(app: Any, school: Any) -> None:
    row = issuing.endorse_achievement(
        school.assessor, school.competency, "A well-designed competency."
    )
    document = json.loads(row.document)
    assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert document["credentialSubject"]["id"].endswith(school.competency.public_id)
    assert verify(app, row).verified


def test_a_revoked_mastery_can_be_earned_again(school: Any) -> None:
    from portfolio.issuing import service as services

    first = assessment.assess(
        submitted(school), school.assessor, decision="endorse", levels=PROFICIENT
    )
    services.set_status(first.credential, "revoke", reason="Plagiarised chorus", actor="cli")
    again = assessment.assess(
        submitted(school), school.assessor, decision="endorse", levels=PROFICIENT
    )
    mastery = db.session.scalars(select(Mastery)).one()
    assert mastery.credential_id == again.credential.id != first.credential.id


def test_two_assessors_endorsing_at_the_same_moment_issue_one_credential(
    app: Any, school: Any
) -> None:
    """Each thread has its own session and connection, as two app servers would."""
    import threading

    from portfolio.accounts.models import User

    # Ids are read here: these rows belong to this thread's session, which the endorsing
    # threads must not touch (a lazy load from another thread races with this session).
    submission_id = submitted(school).id
    assessor_ids = [school.assessor.id, school.second_assessor.id]
    for user_id in assessor_ids:  # their signing identities exist before the race
        issuing.endorser_issuer(db.session.get(User, user_id))
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def endorse(user_id: int) -> None:
        with app.app_context():
            try:
                submission = db.session.get(Submission, submission_id)
                user = db.session.get(User, user_id)
                barrier.wait(timeout=10)
                outcomes.append(
                    assessment.assess(submission, user, decision="endorse", levels=PROFICIENT)
                )
            except AssessmentError as exc:
                outcomes.append(exc)
            except BaseException as exc:  # reported below
                outcomes.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=endorse, args=(i,)) for i in assessor_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    issued = [o for o in outcomes if isinstance(o, assessment.Outcome)]
    refused = [o for o in outcomes if isinstance(o, AssessmentError)]
    assert len(issued) == 1 and len(refused) == 1, outcomes
    assert status_for(refused[0]) == 409
    db.session.expire_all()
    assert count(IssuedCredential) == 1 and count(Mastery) == 1


def test_the_recipient_is_their_did_when_configured_and_given(app: Any, school: Any) -> None:
    from portfolio.accounts.models import LearnerProfile

    did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    db.session.add(LearnerProfile(user_id=school.student.id, did=did, credential_name="Sam S."))
    db.session.commit()
    app.config["CREDFOLIO_RECIPIENT_IDENTITY"] = "did"
    outcome = assessment.assess(
        submitted(school), school.assessor, decision="endorse", levels=PROFICIENT
    )
    subject = json.loads(outcome.credential.document)["credentialSubject"]
    assert subject["id"] == did
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "identityHash": "Sam S.",
            "identityType": "name",
            "hashed": False,
        }
    ]
    assert outcome.credential.recipient_name == "Sam S."


def test_the_student_is_mailed_when_feedback_arrives(app: Any, school: Any) -> None:
    from pathlib import Path

    from portfolio.core import mail

    assessment.assess(
        submitted(school),
        school.assessor,
        decision="revise",
        levels=BEGINNING,
        feedback="More verses",
    )
    messages = mail.read_outbox(Path(app.instance_path) / "outbox")
    assert [m["To"] for m in messages] == [school.student.email]
    assert "/submissions/" in messages[0].get_content()
