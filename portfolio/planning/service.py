"""The learning plan's rules and transactions: what she may choose, her items (add, change,
move, remove), her journal (with an optional audio recording), who may read her plan, and the
comments of her assessors and guardians.  One unit of work per change; nothing here reads a
Flask request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext
from sqlalchemy import Select, delete, func, select, update
from werkzeug.datastructures import FileStorage

from portfolio.accounts.models import LearnerProfile, Role, User
from portfolio.accounts.notifications import notify
from portfolio.assessment.progress import (
    HELD_STATES,
    IN_PROGRESS,
    IN_REVIEW,
    MASTERED,
    NOT_STARTED,
    Cell,
    map_entries,
)
from portfolio.assessment.progress_queries import load_catalogue, load_cells
from portfolio.catalogue.models import Competency
from portfolio.core import audit
from portfolio.core.db import db, unit_of_work
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import utcnow
from portfolio.evidence.ordering import move, next_position
from portfolio.files import usage
from portfolio.files.uploads import checked_upload, counts_towards_quota, store_content
from portfolio.files.usage import keeps_blob
from portfolio.guardians.links import is_guardian_of
from portfolio.planning import suggestions
from portfolio.planning.models import JournalEntry, PlanComment, PlanItem

MAX_MILESTONES = 2_000
MAX_TITLE = 256
MAX_BODY = 20_000
MAX_COMMENT = 4_000
#: At most this many competencies are added in one go.
MAX_CHOSEN = 20
#: An item due within this many days is "due soon".
DUE_SOON_DAYS = 14
#: The uploads a journal entry takes: audio only (checked from the bytes).
AUDIO_ONLY = frozenset({"audio"})
#: Who may read a student's plan besides her linked guardians: her school's staff.
STAFF_ROLES = frozenset({Role.ASSESSOR, Role.ADMIN})


class PlanError(InvalidInputError):
    """A change to the plan or the journal that cannot be made: ``field`` names the form field
    it is about (None: the whole form), the message says why (safe to show)."""

    code = "INVALID_PLAN"

    def __init__(self, message: str | LazyText, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def today() -> date:
    """Today's date in UTC (target dates are calendar dates)."""
    return datetime.now(UTC).date()


# -- the blobs journal entries keep ----------------------------------------------------------


@counts_towards_quota
def journal_audio_blobs(owner: User) -> Select[Any]:
    """The recordings of the owner's journal entries: they count towards her storage."""
    return select(JournalEntry.audio_sha256).where(
        JournalEntry.student_id == owner.id, JournalEntry.audio_sha256.is_not(None)
    )


@keeps_blob
def journal_audio_uses(sha256: str) -> Select[Any]:
    """Journal entries whose recording is the blob."""
    return select(JournalEntry.id).where(JournalEntry.audio_sha256 == sha256)


# -- reading ---------------------------------------------------------------------------------


def items_of(student: User) -> list[PlanItem]:
    """Her plan's items in her order."""
    return list(
        db.session.scalars(
            select(PlanItem)
            .where(PlanItem.student_id == student.id)
            .order_by(PlanItem.position, PlanItem.id)
        )
    )


def find_item(student: User, public_id: str) -> PlanItem | None:
    """Her plan item with that public id; None for anyone else's (or none)."""
    item: PlanItem | None = db.session.scalar(
        select(PlanItem).where(PlanItem.public_id == public_id)
    )
    return item if item is not None and item.student_id == student.id else None


def entries_of(student: User) -> list[JournalEntry]:
    """Her journal, newest first."""
    return list(
        db.session.scalars(
            select(JournalEntry)
            .where(JournalEntry.student_id == student.id)
            .order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc())
        )
    )


def find_entry(student: User, public_id: str) -> JournalEntry | None:
    """Her journal entry with that public id; None for anyone else's (or none)."""
    entry: JournalEntry | None = db.session.scalar(
        select(JournalEntry).where(JournalEntry.public_id == public_id)
    )
    return entry if entry is not None and entry.student_id == student.id else None


def shared_entry(student: User, public_id: str) -> JournalEntry | None:
    """Her journal entry with that public id when it is attached to a plan item (what her
    readers see); None otherwise: an unattached entry is private to her."""
    entry = find_entry(student, public_id)
    return entry if entry is not None and entry.plan_item_id is not None else None


@dataclass
class ItemView:
    """A plan item as the plan pages show it."""

    item: PlanItem
    name: str
    state: str
    cell: Cell | None
    overdue: bool
    due_soon: bool
    #: The competency was archived: no longer offered (the item stays until she removes it).
    archived: bool
    entries: list[JournalEntry] = field(default_factory=list)
    comments: list[PlanComment] = field(default_factory=list)


@dataclass
class PlanView:
    """Her plan: the items in her order, and the comments on the plan as a whole."""

    student: User
    items: list[ItemView]
    comments: list[PlanComment]

    @property
    def overdue(self) -> int:
        return sum(1 for view in self.items if view.overdue)


def plan_view(student: User, *, on: date | None = None) -> PlanView:
    """Her plan with each item's progress (the progress map's states), whether it is overdue
    (target date passed and not mastered) or due soon, its attached journal entries (newest
    first) and the comments on it (oldest first).  A fixed number of queries."""
    on = on or today()
    catalogue = load_catalogue(student.issuer_id)
    cells = load_cells([student.id], catalogue)[student.id]
    items = items_of(student)
    attached: dict[int, list[JournalEntry]] = {}
    for entry in entries_of(student):
        if entry.plan_item_id is not None:
            attached.setdefault(entry.plan_item_id, []).append(entry)
    comments = list(
        db.session.scalars(
            select(PlanComment)
            .where(PlanComment.student_id == student.id)
            .order_by(PlanComment.created_at, PlanComment.id)
        )
    )
    names: dict[int, str] = {
        row.id: row.name
        for row in db.session.execute(
            select(Competency.id, Competency.name).where(
                Competency.id.in_([item.competency_id for item in items])
            )
        )
    }
    views = []
    for item in items:
        cell = cells.get(item.competency_id)
        state = cell.state if cell is not None else NOT_STARTED
        due = item.target_date
        views.append(
            ItemView(
                item=item,
                name=names.get(item.competency_id, ""),
                state=state,
                cell=cell,
                overdue=due is not None and due < on and state != MASTERED,
                due_soon=due is not None
                and on <= due <= on + timedelta(days=DUE_SOON_DAYS)
                and state != MASTERED,
                archived=cell is None,
                entries=attached.get(item.id, []),
                comments=[c for c in comments if c.plan_item_id == item.id],
            )
        )
    return PlanView(student, views, [c for c in comments if c.plan_item_id is None])


def choices(student: User) -> list[suggestions.Suggestion]:
    """The competencies she may add to her plan, ranked (see :mod:`suggestions`): of her
    school's catalogue, not archived, not a stack, every prerequisite held, not held herself
    (mastered or suspended), not already in her plan.  A fixed number of queries."""
    catalogue = load_catalogue(student.issuer_id)
    cells = load_cells([student.id], catalogue)[student.id]
    entries = map_entries(catalogue, cells)
    planned = set(
        db.session.scalars(select(PlanItem.competency_id).where(PlanItem.student_id == student.id))
    )
    states = {entry.competency.id: entry.cell.state for entry in entries}
    open_ids = [
        entry.competency.id
        for entry in entries
        if not entry.competency.is_stack
        and entry.prerequisites_met
        and entry.cell.state not in HELD_STATES
        and entry.competency.id not in planned
    ]
    rows = {
        row.id: row
        for row in db.session.execute(
            select(Competency.id, Competency.name, Competency.description, Competency.tags).where(
                Competency.id.in_(open_ids)
            )
        )
    }
    candidates = [
        suggestions.Candidate(
            id=rows[i].id,
            name=rows[i].name,
            description=rows[i].description or "",
            tags=tuple(rows[i].tags or ()),
            state=states[i],
        )
        for i in open_ids
        if i in rows
    ]
    stacks = [
        suggestions.Stack(
            name=entry.competency.name,
            component_ids=tuple(c.id for c, _cell in entry.components),
            mastered_ids=frozenset(c.id for c, cell in entry.components if cell.state == MASTERED),
            working_ids=frozenset(
                c.id
                for c, cell in entry.components
                if cell.state in (IN_PROGRESS, IN_REVIEW) or c.id in planned
            ),
        )
        for entry in entries
        if entry.competency.is_stack and entry.cell.state not in HELD_STATES
    ]
    profile = db.session.get(LearnerProfile, student.id)
    return suggestions.rank(
        candidates,
        interests=profile.interests if profile else None,
        goals=profile.learning_goals if profile else None,
        stacks=stacks,
    )


def public_ids(competency_ids: Sequence[int]) -> dict[int, str]:
    """The public ids of these competencies, by id (one query)."""
    return {
        row.id: row.public_id
        for row in db.session.execute(
            select(Competency.id, Competency.public_id).where(Competency.id.in_(competency_ids))
        )
    }


# -- checks ----------------------------------------------------------------------------------


def check_target_date(
    value: date | None, *, on: date, keep: date | None = None, field: str = "target_date"
) -> date | None:
    """A target date: none, or today or later (an item's present date may stay as it is, even
    past: it is then overdue).  Raises :class:`PlanError`."""
    if value is not None and value < on and value != keep:
        raise PlanError(_l("The target date cannot be in the past."), field=field)
    return value


def check_text(value: str | None, *, most: int, field: str, required: bool = False) -> str:
    """Text of at most ``most`` characters (no NUL); with ``required``, not blank."""
    text = (value or "").strip()
    if required and not text:
        messages = {
            "title": _l("Give the entry a title."),
            "body": _l("Write your comment."),
        }
        raise PlanError(messages.get(field, _l("This cannot be empty.")), field=field)
    if len(text) > most or "\x00" in text:
        raise PlanError(
            _l("This has more than %(most)d characters.", most=most),
            field=field,
        )
    return text


# -- her plan, one unit of work per change ---------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One competency she picked on the choose page, with its date and milestones."""

    public_id: str
    target_date: date | None = None
    milestones: str = ""


def add_items(student: User, chosen: Sequence[Choice], *, on: date | None = None) -> list[PlanItem]:
    """Add the chosen competencies at the end of her plan, in the order given.  Each must be
    one of :func:`choices`; dates not in the past; milestones short.  Raises
    :class:`PlanError` (then nothing is added); ``field`` is ``<public id>-date`` or
    ``<public id>-milestones`` for one choice, ``chosen`` for the choice itself."""
    on = on or today()
    if not chosen:
        raise PlanError(_l("Choose at least one competency."), field="chosen")
    if len(chosen) > MAX_CHOSEN:
        raise PlanError(
            _l("Choose at most %(most)d competencies at a time.", most=MAX_CHOSEN), field="chosen"
        )
    open_by_public = {}
    options = choices(student)
    ids = public_ids([s.candidate.id for s in options])
    for suggestion in options:
        open_by_public[ids[suggestion.candidate.id]] = suggestion.candidate.id
    for choice in chosen:
        if choice.public_id not in open_by_public:
            raise PlanError(
                _l("That competency cannot be added to your plan. Choose one from the list."),
                field="chosen",
            )
        check_target_date(choice.target_date, on=on, field=f"{choice.public_id}-date")
        check_text(choice.milestones, most=MAX_MILESTONES, field=f"{choice.public_id}-milestones")
    added = []
    with unit_of_work(write=True):
        position = next_position(items_of(student))
        for choice in dict((c.public_id, c) for c in chosen).values():
            item = PlanItem(
                student_id=student.id,
                competency_id=open_by_public[choice.public_id],
                target_date=choice.target_date,
                milestones=(choice.milestones or "").strip(),
                position=position,
            )
            position += 1
            db.session.add(item)
            added.append(item)
    return added


def update_item(
    item: PlanItem, *, target_date: date | None, milestones: str, on: date | None = None
) -> None:
    """Change an item's target date and milestones.  Raises :class:`PlanError`."""
    on = on or today()
    check_target_date(target_date, on=on, keep=item.target_date)
    text = check_text(milestones, most=MAX_MILESTONES, field="milestones")
    with unit_of_work():
        item.target_date = target_date
        item.milestones = text
        item.updated_at = utcnow()


def move_item(student: User, item: PlanItem, direction: str) -> bool:
    """Move an item one place ``up`` or ``down``; False when it cannot (nothing changed)."""
    with unit_of_work():
        return move(items_of(student), item, direction)


def remove_item(item: PlanItem) -> None:
    """Remove an item from her plan: the comments on it go with it; her journal entries
    attached to it stay, unattached (so private to her again)."""
    with unit_of_work():
        db.session.execute(
            update(JournalEntry)
            .where(JournalEntry.plan_item_id == item.id)
            .values(plan_item_id=None)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(PlanComment)
            .where(PlanComment.plan_item_id == item.id)
            .execution_options(synchronize_session=False)
        )
        db.session.delete(item)
    db.session.expire_all()


def comments_on(item: PlanItem) -> int:
    """How many comments are on ``item``."""
    return int(
        db.session.scalar(
            select(func.count()).select_from(PlanComment).where(PlanComment.plan_item_id == item.id)
        )
        or 0
    )


# -- her journal -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryValues:
    """What the journal form sends: checked by :func:`save_entry`."""

    title: str
    body: str
    plan_item: str | None = None
    audio: FileStorage | None = None
    remove_audio: bool = False


def _checked_entry(student: User, values: EntryValues) -> tuple[str, str, PlanItem | None]:
    title = check_text(values.title, most=MAX_TITLE, field="title", required=True)
    body = check_text(values.body, most=MAX_BODY, field="body")
    item = None
    if values.plan_item:
        item = find_item(student, values.plan_item)
        if item is None:
            raise PlanError(_l("Choose an item of your plan, or none."), field="plan_item")
    return title, body, item


def save_entry(
    student: User, values: EntryValues, entry: JournalEntry | None = None
) -> JournalEntry:
    """Write a new journal entry (``entry`` None) or change one: title, Markdown body, the plan
    item it is attached to (or none), and a recording (audio only, checked from the bytes,
    counted in her quota) that replaces the old one; ``remove_audio`` drops it.  A recording
    nothing else uses is freed.  Raises :class:`PlanError` or ``UploadError`` (then nothing
    changed and no new bytes were stored)."""
    title, body, item = _checked_entry(student, values)
    old_audio = entry.audio_sha256 if entry is not None else None
    with unit_of_work():
        if entry is None:
            entry = JournalEntry(student_id=student.id)
            db.session.add(entry)
        entry.title = title
        entry.body = body
        entry.plan_item_id = item.id if item is not None else None
        entry.updated_at = utcnow()
        if values.audio is not None and values.audio.filename:
            spool, sha256, size, kind, _name, _drawn = checked_upload(
                values.audio, owner=student, allowed=AUDIO_ONLY
            )
            with spool:
                blob = store_content(spool, sha256, size, kind.media_type)
            entry.audio_sha256 = blob.sha256
            entry.audio_media_type = kind.media_type
        elif values.remove_audio:
            entry.audio_sha256 = None
            entry.audio_media_type = None
        released = (
            usage.release([old_audio]) if old_audio and old_audio != entry.audio_sha256 else []
        )
    usage.delete_released_bytes(released)
    return entry


def delete_entry(entry: JournalEntry) -> None:
    """Delete a journal entry, and its recording unless something else uses it."""
    audio = entry.audio_sha256
    with unit_of_work():
        db.session.delete(entry)
        released = usage.release([audio])
    usage.delete_released_bytes(released)


# -- her readers -----------------------------------------------------------------------------


def learner(student_id: int) -> User | None:
    """The active student account with that id, or None."""
    user = db.session.get(User, student_id)
    if user is None or user.role != Role.STUDENT or not user.is_active or user.deleted_at:
        return None
    return user


def may_read(reader: User | None, student: User) -> bool:
    """Whether ``reader`` may read (and comment on) ``student`` 's plan: an active assessor or
    administrator of her school, or one of her linked guardians."""
    if reader is None or not reader.is_active:
        return False
    if reader.role in STAFF_ROLES:
        return reader.issuer_id is not None and reader.issuer_id == student.issuer_id
    return is_guardian_of(reader, student)


def record_guardian_view(guardian: User, student: User) -> None:
    """Note in the audit log that a guardian read her plan."""
    with unit_of_work():
        audit.record(
            "guardian_viewed",
            actor=guardian,
            issuer_id=student.issuer_id,
            target=f"user:{student.id}",
            detail={"page": "plan"},
        )


def add_comment(
    student: User, author: User, body: str, *, item_public_id: str | None, link: str
) -> PlanComment:
    """A reader's comment on her plan (``item_public_id``: on one item; None: the whole
    plan), recorded in the audit log; she is told in the app, in her language (``link``: her
    plan's path).  The caller has checked :func:`may_read`.  Raises :class:`PlanError`."""
    text = check_text(body, most=MAX_COMMENT, field="body", required=True)
    item = None
    if item_public_id:
        item = find_item(student, item_public_id)
        if item is None:
            raise PlanError(_l("Choose an item of the plan, or the whole plan."), field="item")
    name = author.display_name
    with unit_of_work():
        comment = PlanComment(
            student_id=student.id,
            plan_item_id=item.id if item is not None else None,
            author_id=author.id,
            body=text,
        )
        db.session.add(comment)
        db.session.flush()
        audit.record(
            "plan_commented",
            actor=author,
            issuer_id=student.issuer_id,
            target=f"user:{student.id}",
            detail={"comment": comment.public_id, "item": item.public_id if item else None},
        )

        def message() -> str:
            return str(gettext("%(name)s commented on your learning plan.", name=name))

        notify(student, message, link)
    return comment
