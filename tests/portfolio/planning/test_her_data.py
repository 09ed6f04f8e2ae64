"""Her plan in her data (portfolio/learner/privacy.py): the export holds her plan, journal
(with its recordings), the comments on her plan, her self-assessments and the peer comments
she received and wrote; deleting her account removes them, frees the recordings and her
guardian links, and keeps the publication consents."""

from __future__ import annotations

import json
import zipfile

from sqlalchemy import select

from portfolio.assessment import service as assessment
from portfolio.assessment.models import PeerReview, SelfAssessment
from portfolio.catalogue.rubrics import current_version
from portfolio.core.db import db
from portfolio.core.models import utcnow
from portfolio.files.models import Blob
from portfolio.files.storage import storage
from portfolio.guardians import service as guardians
from portfolio.guardians.models import GuardianLink, PublicationConsent
from portfolio.learner import privacy
from portfolio.planning import service
from portfolio.planning.models import JournalEntry, PlanComment, PlanItem
from portfolio.planning.service import Choice, EntryValues
from tests.portfolio.planning.conftest import World, upload, wav
from tests.portfolio.school import evidence


def _her_things(app, world: World) -> dict[str, object]:
    """Sam's plan item, a journal entry with a recording on it, a private one, a comment, a
    self-assessment, a peer comment Oli wrote on Sam's work and one Sam wrote on Oli's."""
    [item] = service.add_items(world.sam, [Choice(world.story.public_id)])
    attached = service.save_entry(
        world.sam,
        EntryValues("On stories", "Endings are hard.", item.public_id, upload(wav(), "a.wav")),
    )
    service.save_entry(world.sam, EntryValues("Private", "Just for me."))
    with app.test_request_context():
        service.add_comment(
            world.sam, world.guardian, "Read it to me!", item_public_id=item.public_id, link="/plan"
        )
    song = evidence(world.sam, "My song")
    mine = assessment.create_submission(
        world.sam, world.school.competency, evidence_ids=[song.public_id]
    )
    olis_song = evidence(world.school.other_student, "Oli's song")
    olis = assessment.create_submission(
        world.school.other_student, world.school.competency, evidence_ids=[olis_song.public_id]
    )
    db.session.add(
        SelfAssessment(
            submission_id=mine.id,
            round=1,
            rubric_version_id=current_version(world.school.competency).id,
            levels=[2, 1],
            criterion_notes=["I like the tune", "Not sure"],
        )
    )
    db.session.add(
        PeerReview(
            submission_id=mine.id,
            peer_id=world.school.other_student.id,
            comment="Catchy chorus",
            commented_at=utcnow(),
        )
    )
    db.session.add(
        PeerReview(
            submission_id=olis.id,
            peer_id=world.sam.id,
            comment="Slow the verse",
            commented_at=utcnow(),
        )
    )
    db.session.commit()
    return {"item": item, "entry": attached}


def test_the_export_holds_her_plan_journal_recordings_comments_and_feedback(app, world):
    things = _her_things(app, world)
    with app.test_request_context():
        archive = privacy.write_export(world.sam)
    with archive, zipfile.ZipFile(archive) as zf:
        data = json.loads(zf.read("data.json"))
        entry = things["entry"]
        assert zf.read(f"files/{entry.audio_sha256}") == wav()
        assert "journal" in zf.read("README.txt").decode()
    [item] = data["plan"]
    assert item["competency"]["name"] == "Storytelling"
    assert {e["title"] for e in data["journal"]} == {"On stories", "Private"}
    [with_audio] = [e for e in data["journal"] if e["audio"]]
    assert with_audio["planItem"] == item["id"] and with_audio["audioMediaType"] == "audio/wav"
    [comment] = data["planComments"]
    assert (comment["author"], comment["body"]) == ("Gus Guardian", "Read it to me!")
    [rating] = data["selfAssessments"]
    assert [(c["level"], c["note"]) for c in rating["criteria"]] == [
        ("Proficient", "I like the tune"),
        ("Developing", "Not sure"),
    ]
    assert [r["comment"] for r in data["peerCommentsReceived"]] == ["Catchy chorus"]
    assert [r["comment"] for r in data["peerCommentsWritten"]] == ["Slow the verse"]


def test_a_hidden_peer_comment_is_left_out_of_what_she_received(app, world):
    _her_things(app, world)
    review = db.session.scalar(select(PeerReview).where(PeerReview.peer_id != world.sam.id))
    review.hidden_at = utcnow()
    review.hidden_reason = "Unkind"
    db.session.commit()
    with app.test_request_context():
        data = privacy.export_data(world.sam)
    [received] = data["peerCommentsReceived"]
    assert received["hidden"] and received["comment"] is None


def test_deleting_her_account_removes_her_plan_and_frees_the_recordings(app, world):
    things = _her_things(app, world)
    sha = things["entry"].audio_sha256
    guardians.give_consent(world.sam, world.guardian)
    with app.test_request_context():
        report = privacy.delete_account(world.sam)
    assert (report.plan_items, report.journal_entries) == (1, 2)
    for model in (PlanItem, JournalEntry, PlanComment, SelfAssessment, GuardianLink):
        assert db.session.scalars(select(model)).all() == [], model.__name__
    # The peer comment she wrote is gone; the one she received (Oli's words) stays with
    # the submission.
    assert [r.comment for r in db.session.scalars(select(PeerReview))] == ["Catchy chorus"]
    assert db.session.get(Blob, sha) is None and not storage().exists(sha)
    assert db.session.scalars(select(PublicationConsent)).all() != []
