"""The demo's learning plans (issue 17 §1): Maya plans Performance (due soon), Project design
(overdue) and Reflection, keeps a journal (one entry about Performance with a short recording,
one private), and has a comment from Amara (her assessor) and one from Grace (her guardian);
Leo's plan has an overdue Song writing.  Idempotent, like the rest of the demo: items are
matched by student and competency, entries by title, comments by author and text."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import User
from portfolio.catalogue.models import Competency
from portfolio.core.db import db, unit_of_work
from portfolio.demo.evidence import sine_melody_wav
from portfolio.planning import service
from portfolio.planning.models import JournalEntry, PlanComment, PlanItem

#: A link in the notices the comments send (her own plan page).
PLAN_PATH = "/plan"


@dataclass(frozen=True)
class ItemSpec:
    student: str
    competency: str
    #: Days from today (negative: overdue); None for no date.
    due_in_days: int | None
    milestones: str
    #: How long ago she added it.
    added_days_ago: int = 21


@dataclass(frozen=True)
class EntrySpec:
    student: str
    title: str
    body: str
    #: The competency of the plan item it is about (None: private to her).
    about: str | None = None
    audio: bool = False
    days_ago: int = 0


ITEMS = (
    ItemSpec(
        "maya",
        "performance",
        5,
        "- Choose the song (*Harbour lights*)\n- Rehearse with the ukulele twice a week\n"
        "- Play it for the class before the concert",
    ),
    ItemSpec(
        "maya",
        "project",
        -6,
        "- Sketch a stage plan for the spring concert\n- Ask the art club for help with lights",
        added_days_ago=40,
    ),
    ItemSpec("maya", "reflection", None, "- Keep the journal going every Friday", 10),
    ItemSpec(
        "leo",
        "song",
        -9,
        "- Write a second verse that goes somewhere\n- Record it with the band",
        added_days_ago=45,
    ),
)
ENTRIES = (
    EntrySpec(
        "maya",
        "First run-through",
        "Played *Harbour lights* all the way through without stopping. My hands shake on the "
        "bridge — next time I will **slow it down** and breathe before it.",
        about="performance",
        audio=True,
        days_ago=3,
    ),
    EntrySpec(
        "maya",
        "Why the project is late",
        "I kept changing the stage plan. I need to pick one and ask for feedback on it.",
        about="project",
        days_ago=2,
    ),
    EntrySpec(
        "maya",
        "Nervous",
        "Just for me: I am more nervous about singing than about playing.",
        days_ago=1,
    ),
)
#: (student, author, competency of the item or None for the whole plan, text).
COMMENTS = (
    (
        "maya",
        "amara",
        "performance",
        "Lovely recording, Maya. Try the bridge at three-quarter speed first, then build up.",
    ),
    ("maya", "grace", None, "So proud of you — we will be in the front row at the concert!"),
)


def melody() -> bytes:
    """The recording of Maya's first run-through: a few bars, small and always the same."""
    notes = [(67, 0.3), (69, 0.3), (71, 0.6), (69, 0.3), (67, 0.3), (64, 0.6), (None, 0.2)]
    return sine_melody_wav(notes, rate=8000)


def seed_plans(people: Mapping[str, User], competencies: Mapping[str, Competency]) -> None:
    """Seed the plans, journal entries and comments above (what exists is left alone)."""
    now = datetime.now(UTC)
    items: dict[tuple[str, str], PlanItem] = {}
    with unit_of_work(write=True):
        for position, spec in enumerate(ITEMS):
            student, competency = people[spec.student], competencies.get(spec.competency)
            if competency is None:
                continue
            item = db.session.scalar(
                select(PlanItem).where(
                    PlanItem.student_id == student.id, PlanItem.competency_id == competency.id
                )
            )
            if item is None:
                added = now - timedelta(days=spec.added_days_ago)
                item = PlanItem(
                    student_id=student.id,
                    competency_id=competency.id,
                    target_date=(now + timedelta(days=spec.due_in_days)).date()
                    if spec.due_in_days is not None
                    else None,
                    milestones=spec.milestones,
                    position=position,
                    created_at=added,
                    updated_at=added,
                )
                db.session.add(item)
            items[(spec.student, spec.competency)] = item
    for entry_spec in ENTRIES:
        _entry(entry_spec, people[entry_spec.student], items, now)
    for student_key, author_key, about, text in COMMENTS:
        student, author = people[student_key], people[author_key]
        exists = db.session.scalar(
            select(PlanComment.id).where(
                PlanComment.student_id == student.id,
                PlanComment.author_id == author.id,
                PlanComment.body == text,
            )
        )
        if exists is None:
            item = items.get((student_key, about)) if about else None
            service.add_comment(
                student,
                author,
                text,
                item_public_id=item.public_id if item is not None else None,
                link=PLAN_PATH,
            )


def _entry(
    spec: EntrySpec, student: User, items: Mapping[tuple[str, str], PlanItem], now: datetime
) -> None:
    exists = db.session.scalar(
        select(JournalEntry.id).where(
            JournalEntry.student_id == student.id, JournalEntry.title == spec.title
        )
    )
    if exists is not None:
        return
    item = items.get((spec.student, spec.about)) if spec.about else None
    audio = (
        FileStorage(io.BytesIO(melody()), filename="first-run-through.wav") if spec.audio else None
    )
    entry = service.save_entry(
        student,
        service.EntryValues(
            title=spec.title,
            body=spec.body,
            plan_item=item.public_id if item is not None else None,
            audio=audio,
        ),
    )
    with unit_of_work():
        entry.created_at = entry.updated_at = now - timedelta(days=spec.days_ago)
