"""The plan's rules: what she may choose, her items and their states, her journal with its
recordings, and who may read and comment."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portfolio.accounts.models import Notification
from portfolio.assessment import service as assessment
from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.files import uploads
from portfolio.files.models import Blob
from portfolio.files.storage import storage
from portfolio.planning import service
from portfolio.planning.models import JournalEntry, PlanComment, PlanItem
from portfolio.planning.service import Choice, EntryValues, PlanError
from tests.portfolio.planning.conftest import World, upload, wav
from tests.portfolio.school import evidence

TODAY = date(2027, 3, 1)


def _public(world: World) -> dict[str, str]:
    return {
        "song": world.school.competency.public_id,
        "story": world.story.public_id,
        "performance": world.performance.public_id,
        "creator": world.creator.public_id,
    }


def _choice_names(world: World) -> list[str]:
    return [s.candidate.name for s in service.choices(world.sam)]


def test_she_may_choose_what_she_can_work_on_and_not_stacks_or_locked_ones(app, world):
    # Performance needs Song writing; Creator is a stack: neither can be chosen yet.
    names = _choice_names(world)
    assert sorted(names) == ["Song writing", "Storytelling"]
    # Her interests ("Folk music, the sea") match neither: the catalogue's order is kept.
    assert names[0] == "Song writing"


def test_a_competency_in_her_plan_or_mastered_is_no_longer_a_choice(app, world):
    ids = _public(world)
    service.add_items(world.sam, [Choice(ids["story"])], on=TODAY)
    assert _choice_names(world) == ["Song writing"]
    song = evidence(world.sam, "My song")
    submission = assessment.create_submission(
        world.sam, world.school.competency, evidence_ids=[song.public_id], submit=True
    )
    assessment.assess(submission, world.school.assessor, decision="endorse", levels=[2, 2])
    # Song writing is mastered: Performance opens.
    assert _choice_names(world) == ["Performance"]


def test_completing_a_stack_is_a_reason_to_choose(app, world):
    ids = _public(world)
    service.add_items(world.sam, [Choice(ids["song"])], on=TODAY)
    [story] = service.choices(world.sam)
    assert [(n.stack, n.left, n.total) for n in story.stacks] == [("Creator", 2, 2)]


def test_adding_items_checks_each_choice_and_date_and_adds_nothing_on_an_error(app, world):
    ids = _public(world)
    with pytest.raises(PlanError) as locked:
        service.add_items(world.sam, [Choice(ids["performance"])], on=TODAY)
    assert locked.value.field == "chosen"
    with pytest.raises(PlanError) as past:
        service.add_items(
            world.sam,
            [Choice(ids["song"]), Choice(ids["story"], target_date=TODAY - timedelta(days=1))],
            on=TODAY,
        )
    assert past.value.field == f"{ids['story']}-date"
    with pytest.raises(PlanError):
        service.add_items(world.sam, [], on=TODAY)
    assert db.session.scalars(select(PlanItem)).all() == []


def test_items_keep_her_order_and_move_up_and_down(app, world):
    ids = _public(world)
    song, story = service.add_items(
        world.sam, [Choice(ids["song"], TODAY, "- draft"), Choice(ids["story"])], on=TODAY
    )
    assert [i.competency.name for i in service.items_of(world.sam)] == [
        "Song writing",
        "Storytelling",
    ]
    assert service.move_item(world.sam, story, "up")
    assert not service.move_item(world.sam, story, "up")
    assert [i.id for i in service.items_of(world.sam)] == [story.id, song.id]


def test_the_plan_shows_progress_and_what_is_overdue(app, world):
    ids = _public(world)
    service.add_items(
        world.sam,
        [Choice(ids["song"], TODAY + timedelta(days=3)), Choice(ids["story"], TODAY)],
        on=TODAY,
    )
    song = evidence(world.sam, "My song")
    assessment.create_submission(
        world.sam, world.school.competency, evidence_ids=[song.public_id], submit=True
    )
    view = service.plan_view(world.sam, on=TODAY + timedelta(days=1))
    first, second = view.items
    assert (first.state, first.overdue, first.due_soon) == ("in_review", False, True)
    assert (second.state, second.overdue) == ("not_started", True)
    assert view.overdue == 1


def test_a_past_date_may_stay_but_not_be_set(app, world):
    ids = _public(world)
    [item] = service.add_items(world.sam, [Choice(ids["song"], TODAY)], on=TODAY)
    later = TODAY + timedelta(days=10)
    service.update_item(item, target_date=TODAY, milestones="kept", on=later)
    assert item.milestones == "kept"
    with pytest.raises(PlanError):
        service.update_item(item, target_date=TODAY + timedelta(days=1), milestones="", on=later)


def test_removing_an_item_removes_its_comments_and_detaches_her_entries(app, world):
    ids = _public(world)
    [item] = service.add_items(world.sam, [Choice(ids["song"])], on=TODAY)
    entry = service.save_entry(world.sam, EntryValues("Day one", "Tried a chorus.", item.public_id))
    service.add_comment(
        world.sam, world.school.assessor, "Nice start", item_public_id=item.public_id, link="/plan"
    )
    service.remove_item(item)
    assert db.session.scalars(select(PlanComment)).all() == []
    assert db.session.get(JournalEntry, entry.id).plan_item_id is None


def test_a_journal_entry_keeps_an_audio_recording_checked_from_its_bytes(app, world):
    entry = service.save_entry(
        world.sam, EntryValues("Humming", "", audio=upload(wav(), "hum.wav", "audio/wav"))
    )
    assert entry.audio_media_type == "audio/wav"
    sha = entry.audio_sha256
    assert sha in {row for row in db.session.scalars(service.journal_audio_blobs(world.sam))}
    assert uploads.used_bytes(world.sam) == len(wav())
    # A text file named .wav is refused; so is an image: audio only.
    with pytest.raises(uploads.UploadError):
        service.save_entry(world.sam, EntryValues("Fake", "", audio=upload(b"la la", "x.wav")))
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    with pytest.raises(uploads.UploadError):
        service.save_entry(world.sam, EntryValues("Picture", "", audio=upload(png, "x.png")))
    service.delete_entry(entry)
    assert db.session.get(Blob, sha) is None
    assert not storage().exists(sha)


def test_replacing_or_removing_a_recording_frees_the_old_one(app, world):
    entry = service.save_entry(
        world.sam, EntryValues("Humming", "", audio=upload(wav(), "hum.wav"))
    )
    sha = entry.audio_sha256
    service.save_entry(world.sam, EntryValues("Humming", "", remove_audio=True), entry)
    assert entry.audio_sha256 is None
    assert db.session.get(Blob, sha) is None


def test_an_entry_is_attached_only_to_an_item_of_her_own_plan(app, world):
    other = service.add_items(
        world.school.other_student, [Choice(world.story.public_id)], on=TODAY
    )[0]
    with pytest.raises(PlanError) as error:
        service.save_entry(world.sam, EntryValues("Mine", "", other.public_id))
    assert error.value.field == "plan_item"


def test_her_school_staff_and_linked_guardians_may_read_nobody_else(app, world):
    may = service.may_read
    assert may(world.school.assessor, world.sam)
    assert may(world.school.admin, world.sam)
    assert may(world.guardian, world.sam)
    assert not may(world.stranger_guardian, world.sam)
    assert not may(world.other_admin, world.sam)
    assert not may(world.school.other_student, world.sam)
    assert not may(None, world.sam)


def test_a_comment_is_audited_and_she_is_told_in_her_language(app, world):
    world.sam.locale = "es"
    db.session.commit()
    with app.test_request_context():
        service.add_comment(
            world.sam, world.guardian, "Proud of you", item_public_id=None, link="/plan"
        )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "plan_commented"))
    assert event.target == f"user:{world.sam.id}" and event.actor_id == world.guardian.id
    notice = db.session.scalar(select(Notification).where(Notification.user_id == world.sam.id))
    assert notice.link == "/plan"
    assert notice.message == "Gus Guardian comentó tu plan de aprendizaje."
    with pytest.raises(PlanError):
        service.add_comment(world.sam, world.guardian, "  ", item_public_id=None, link="/plan")
