"""The plan and journal pages: she chooses, changes, moves and removes items and writes her
journal; her school's staff and her linked guardians read and comment; everyone else is told
"not found"."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from portfolio.core.db import db
from portfolio.core.models import AuditEvent
from portfolio.planning import service
from portfolio.planning.models import JournalEntry, PlanComment, PlanItem
from portfolio.planning.service import Choice, EntryValues
from tests.portfolio.planning.conftest import World, signed_in, upload, wav


def _item(world: World, competency=None) -> PlanItem:
    [item] = service.add_items(world.sam, [Choice((competency or world.story).public_id)])
    return item


def test_she_chooses_competencies_with_a_date_and_milestones(app, world):
    client = signed_in(app, world.sam)
    page = client.get("/plan/choose")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Storytelling" in text and "Song writing" in text
    assert "Performance" not in text  # its prerequisite is not met
    story = world.story.public_id
    when = (service.today() + timedelta(days=30)).isoformat()
    response = client.post(
        "/plan/choose",
        data={"chosen": [story], f"date-{story}": when, f"milestones-{story}": "- a draft"},
    )
    assert response.status_code == 303 and response.location.endswith("/plan")
    [item] = service.items_of(world.sam)
    assert (item.target_date.isoformat(), item.milestones) == (when, "- a draft")
    plan = client.get("/plan").get_data(as_text=True)
    assert "Storytelling" in plan and "Not started" in plan


def test_suggestions_say_why_in_words(app, world):
    service.add_items(world.sam, [Choice(world.school.competency.public_id)])
    world.story.tags = ["literacy", "the sea"]
    db.session.commit()
    text = signed_in(app, world.sam).get("/plan/choose").get_data(as_text=True)
    assert "Matches your interests: the sea" in text
    assert "Completes a stack" in text and "2 of 2 left for Creator" in text


def test_choosing_nothing_or_a_past_date_says_why(app, world):
    client = signed_in(app, world.sam)
    nothing = client.post("/plan/choose", data={})
    assert nothing.status_code == 422
    assert "Choose at least one competency." in nothing.get_data(as_text=True)
    story = world.story.public_id
    past = (service.today() - timedelta(days=1)).isoformat()
    response = client.post("/plan/choose", data={"chosen": [story], f"date-{story}": past})
    assert response.status_code == 422
    assert "cannot be in the past" in response.get_data(as_text=True)
    assert service.items_of(world.sam) == []


def test_the_plan_shows_overdue_plainly(app, world):
    item = _item(world)
    item.target_date = service.today() - timedelta(days=2)
    db.session.commit()
    text = signed_in(app, world.sam).get("/plan").get_data(as_text=True)
    assert "Overdue" in text and "1 item is overdue" in text


def test_she_edits_moves_and_removes_an_item_after_confirming(app, world):
    first = _item(world, world.school.competency)
    second = _item(world)
    client = signed_in(app, world.sam)
    assert client.get(f"/plan/items/{first.public_id}/edit").status_code == 200
    response = client.post(
        f"/plan/items/{first.public_id}/edit", data={"target_date": "", "milestones": "Record"}
    )
    assert response.status_code == 303
    assert (
        client.post(f"/plan/items/{second.public_id}/move", data={"direction": "up"}).status_code
        == 303
    )
    assert [i.id for i in service.items_of(world.sam)] == [second.id, first.id]
    bad = client.post(f"/plan/items/{first.public_id}/edit", data={"target_date": "soon"})
    assert bad.status_code == 422
    assert client.get(f"/plan/items/{first.public_id}/remove").status_code == 200
    assert client.post(f"/plan/items/{first.public_id}/remove").status_code == 422
    done = client.post(f"/plan/items/{first.public_id}/remove", data={"confirm": "yes"})
    assert done.status_code == 303
    assert [i.id for i in service.items_of(world.sam)] == [second.id]


def test_she_writes_an_entry_with_a_recording_attached_to_an_item(app, world):
    item = _item(world)
    client = signed_in(app, world.sam)
    form = client.get(f"/journal/new?item={item.public_id}").get_data(as_text=True)
    assert "stays private to you" in form
    response = client.post(
        "/journal/new",
        data={
            "title": "First draft",
            "body": "I *tried* a chorus.",
            "plan_item": item.public_id,
            "audio": (io.BytesIO(wav()), "hum.wav"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    entry = db.session.scalar(select(JournalEntry))
    assert entry.plan_item_id == item.id and entry.audio_media_type == "audio/wav"
    journal = client.get("/journal").get_data(as_text=True)
    assert "<em>tried</em>" in journal and "shown with your plan" in journal
    audio = client.get(f"/journal/{entry.public_id}/audio")
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    assert "First draft" in client.get("/plan").get_data(as_text=True)


def test_a_recording_that_is_not_audio_is_refused_on_the_form(app, world):
    client = signed_in(app, world.sam)
    response = client.post(
        "/journal/new",
        data={"title": "Oops", "body": "", "audio": (io.BytesIO(b"just words"), "song.wav")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert db.session.scalars(select(JournalEntry)).all() == []


def test_she_edits_and_deletes_an_entry_after_confirming(app, world):
    entry = service.save_entry(world.sam, EntryValues("Day one", "text"))
    client = signed_in(app, world.sam)
    assert client.get(f"/journal/{entry.public_id}/edit").status_code == 200
    assert client.post(f"/journal/{entry.public_id}/edit", data={"title": ""}).status_code == 422
    assert client.post(f"/journal/{entry.public_id}/delete").status_code == 422
    assert (
        client.post(f"/journal/{entry.public_id}/delete", data={"confirm": "yes"}).status_code
        == 303
    )
    assert db.session.scalars(select(JournalEntry)).all() == []


def test_readers_see_the_plan_and_attached_entries_only(app, world):
    item = _item(world)
    shared = service.save_entry(
        world.sam, EntryValues("Shared", "about it", item.public_id, upload(wav(), "a.wav"))
    )
    service.save_entry(world.sam, EntryValues("Secret diary", "private"))
    for reader in (world.school.assessor, world.school.admin, world.guardian):
        client = signed_in(app, reader)
        page = client.get(f"/learners/{world.sam.id}/plan")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Storytelling" in text and "Shared" in text and "Secret diary" not in text
        assert "Change date and milestones" not in text  # read only
        audio = client.get(f"/learners/{world.sam.id}/journal/{shared.public_id}/audio")
        assert audio.status_code == 200


def test_a_private_entry_recording_is_not_found_for_readers(app, world):
    private = service.save_entry(world.sam, EntryValues("Mine", "", audio=upload(wav(), "a.wav")))
    client = signed_in(app, world.guardian)
    assert (
        client.get(f"/learners/{world.sam.id}/journal/{private.public_id}/audio").status_code == 404
    )
    assert signed_in(app, world.sam).get(f"/journal/{private.public_id}/audio").status_code == 200


def test_a_guardian_reading_the_plan_is_in_the_audit_log(app, world):
    signed_in(app, world.guardian).get(f"/learners/{world.sam.id}/plan")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "guardian_viewed"))
    assert event.target == f"user:{world.sam.id}" and event.detail == {"page": "plan"}
    assert event.actor_id == world.guardian.id


def test_readers_comment_on_the_plan_or_an_item_and_she_sees_it(app, world):
    item = _item(world)
    assessor = signed_in(app, world.school.assessor)
    response = assessor.post(
        f"/learners/{world.sam.id}/plan/comments",
        data={"item": item.public_id, "body": "Start with the ending."},
    )
    assert response.status_code == 303
    guardian = signed_in(app, world.guardian)
    assert (
        guardian.post(f"/learners/{world.sam.id}/plan/comments", data={"body": ""}).status_code
        == 422
    )
    guardian.post(f"/learners/{world.sam.id}/plan/comments", data={"body": "So proud."})
    assert len(db.session.scalars(select(PlanComment)).all()) == 2
    plan = signed_in(app, world.sam).get("/plan").get_data(as_text=True)
    assert "Start with the ending." in plan and "So proud." in plan
    notices = signed_in(app, world.sam).get("/notifications").get_data(as_text=True)
    assert "Asa Assessor commented on your learning plan." in notices


def test_everyone_else_is_told_not_found_and_nothing_changes(app, world):
    item = _item(world)
    entry = service.save_entry(world.sam, EntryValues("Mine", "", item.public_id))
    url = f"/learners/{world.sam.id}/plan"
    for stranger in (world.school.other_student, world.stranger_guardian, world.other_admin):
        client = signed_in(app, stranger)
        assert client.get(url).status_code == 404
        assert client.post(f"{url}/comments", data={"body": "Planted"}).status_code == 404
        assert (
            client.get(f"/learners/{world.sam.id}/journal/{entry.public_id}/audio").status_code
            == 404
        )
    assert db.session.scalars(select(PlanComment)).all() == []
    # No such student looks the same.
    assert signed_in(app, world.school.assessor).get("/learners/99999/plan").status_code == 404
    # Another student's items and entries are not found for her; staff cannot change them.
    oli = signed_in(app, world.school.other_student)
    assert oli.get(f"/plan/items/{item.public_id}/edit").status_code == 404
    assert (
        oli.post(f"/plan/items/{item.public_id}/remove", data={"confirm": "yes"}).status_code == 404
    )
    assert oli.get(f"/journal/{entry.public_id}/edit").status_code == 404
    assert (
        oli.post(f"/journal/{entry.public_id}/delete", data={"confirm": "yes"}).status_code == 404
    )
    assert signed_in(app, world.guardian).get("/plan").status_code == 403
    assert signed_in(app, world.school.assessor).get("/journal").status_code == 403
    assert len(service.items_of(world.sam)) == 1


def test_she_is_sent_to_her_own_plan_from_the_readers_address(app, world):
    response = signed_in(app, world.sam).get(f"/learners/{world.sam.id}/plan")
    assert response.status_code == 302 and response.location.endswith("/plan")


def test_the_plan_page_speaks_spanish(app, world):
    _item(world)
    world.sam.locale = "es"
    db.session.commit()
    text = signed_in(app, world.sam).get("/plan").get_data(as_text=True)
    assert "Mi plan" in text
