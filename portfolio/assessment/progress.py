"""Learner progress: the state of every (student, competency) pair, a student's map (what is
next, feedback waiting for them), the cohort views (who has mastered what, submissions waiting
longest, students with no progress) and the rows of the cohort CSV.

The rules are small pure functions (:func:`derive_state`, :func:`stack_state`,
:func:`what_is_next`, the ``parse_*`` validators); the loaders read the
database in a fixed number of queries per page or per batch of students, never one per student.
No Flask request code here: the pages are ``progress_pages.py``, the chart ``progress_chart.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, case, func, or_, select

from portfolio.accounts.models import Notification, User
from portfolio.assessment import service as assessment
from portfolio.assessment.models import Assessment, Mastery, Submission, SubmissionEvent
from portfolio.catalogue.models import Competency, Prerequisite, StackComponent
from portfolio.core.csv_cells import csv_safe
from portfolio.core.db import db
from portfolio.issuing.models import IssuedCredential

if TYPE_CHECKING:
    #: A SELECT of any columns (SQLAlchemy 2.1 types a Select by its columns).
    AnySelect = Select[*tuple[Any, ...]]

MASTERED = "mastered"
IN_REVIEW = "in_review"
IN_PROGRESS = "in_progress"
NOT_STARTED = "not_started"
#: The states of a (student, competency) pair, most advanced first.
PROGRESS_STATES = (MASTERED, IN_REVIEW, IN_PROGRESS, NOT_STARTED)
STATE_LABELS = {
    MASTERED: "Mastered",
    IN_REVIEW: "In review",
    IN_PROGRESS: "In progress",
    NOT_STARTED: "Not started",
}
#: Plain-language names of the submission states (``SUBMISSION_STATES``).
SUBMISSION_STATE_LABELS = assessment.STATE_LABELS
#: Submission states that put a competency "in review" (an assessor has the next move) ...
REVIEW_SUBMISSION_STATES = frozenset({"submitted", "in_review", "resubmitted"})
#: ... and "in progress" (the student has the next move).
WORKING_SUBMISSION_STATES = frozenset({"draft", "revision_requested", "not_yet"})
#: Submissions whose assessor feedback is waiting for the student.
FEEDBACK_SUBMISSION_STATES = ("revision_requested", "not_yet")
#: Submissions waiting for an assessor (the cohort view's "waiting longest").
WAITING_SUBMISSION_STATES = ("submitted", "resubmitted", "in_review")

DEFAULT_WEEKS = 3
MIN_WEEKS, MAX_WEEKS = 1, 52
MAX_COHORT_LENGTH = 128  # User.cohort's column size
MAX_PAGE = 100_000
CSV_BATCH = 500
CSV_HEADER = (
    "student",
    "email",
    "cohort",
    "competency",
    "state",
    "mastered_at",
    "credential",
)
#: A spreadsheet treats a cell starting with one of these as a formula (CSV injection).


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; every time we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- the rules (pure) ------------------------------------------------------------------------


def derive_state(*, mastered: bool, latest_submission_state: str | None) -> str:
    """The state of a (student, competency) pair.

    ``mastered`` means a :class:`Mastery` whose credential is not revoked; otherwise the
    student's latest submission decides: waiting for an assessor is ``in_review``, a draft or
    work sent back is ``in_progress``; no submission (or an endorsed one whose credential was
    revoked) is ``not_started``.
    """
    if mastered:
        return MASTERED
    if latest_submission_state in REVIEW_SUBMISSION_STATES:
        return IN_REVIEW
    if latest_submission_state in WORKING_SUBMISSION_STATES:
        return IN_PROGRESS
    return NOT_STARTED


def stack_state(*, mastered: bool, component_states: Iterable[str]) -> str:
    """The state of a stack badge: ``mastered`` once its own Mastery exists; before that, nobody
    submits for a stack, so it is ``in_progress`` as soon as any component is under way."""
    if mastered:
        return MASTERED
    if any(state != NOT_STARTED for state in component_states):
        return IN_PROGRESS
    return NOT_STARTED


class FilterError(ValueError):
    """A query parameter that cannot be used: ``field`` names it, the message says why (safe
    to show)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def parse_weeks(raw: str | None) -> int:
    """The "no progress in N weeks" parameter: a whole number from 1 to 52 (3 when absent)."""
    if raw is None or not raw.strip():
        return DEFAULT_WEEKS
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or not MIN_WEEKS <= int(text) <= MAX_WEEKS:
        raise FilterError(
            f"The number of weeks must be a whole number from {MIN_WEEKS} to {MAX_WEEKS}.",
            field="weeks",
        )
    return int(text)


def parse_page(raw: str | None) -> int:
    """A page number: a whole number of 1 or more (1 when absent)."""
    if raw is None or not raw.strip():
        return 1
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise FilterError("The page must be a whole number of 1 or more.", field="page")
    return int(text)


def parse_cohort(raw: str | None) -> str | None:
    """A cohort name to filter by, or None for every cohort."""
    text = (raw or "").strip()
    if len(text) > MAX_COHORT_LENGTH:
        raise FilterError(
            f"A cohort name has at most {MAX_COHORT_LENGTH} characters.", field="cohort"
        )
    return text or None


# -- the catalogue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetencyInfo:
    """What the progress views need of a competency (plain data, detached from the session)."""

    id: int
    public_id: str
    name: str
    is_stack: bool = False
    prerequisite_ids: tuple[int, ...] = ()
    component_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    """An issuer's non-archived competencies in display order.

    Prerequisites and components that are archived (or another issuer's) are left out: only
    the competencies that count can block or complete anything.
    """

    competencies: tuple[CompetencyInfo, ...] = ()
    _by_id: dict[int, CompetencyInfo] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A frozen dataclass: set the index once, through object.__setattr__.
        object.__setattr__(self, "_by_id", {c.id: c for c in self.competencies})

    def get(self, competency_id: int) -> CompetencyInfo | None:
        return self._by_id.get(competency_id)

    def find(self, public_id: str) -> CompetencyInfo | None:
        """The competency with that public id, or None."""
        return next((c for c in self.competencies if c.public_id == public_id), None)


def load_catalogue(issuer_id: int | None) -> Catalogue:
    """The issuer's non-archived competencies with their prerequisites and stack components
    (three queries); an empty catalogue for a user without an issuer."""
    if issuer_id is None:
        return Catalogue()
    rows = db.session.execute(
        select(Competency.id, Competency.public_id, Competency.name, Competency.is_stack)
        .where(Competency.issuer_id == issuer_id, Competency.archived_at.is_(None))
        .order_by(Competency.position, Competency.name, Competency.id)
    ).all()
    order = {row.id: index for index, row in enumerate(rows)}
    prerequisites = _pairs(
        select(Prerequisite.competency_id, Prerequisite.prerequisite_id)
        .join(Competency, Competency.id == Prerequisite.competency_id)
        .where(Competency.issuer_id == issuer_id),
        order,
    )
    components = _pairs(
        select(StackComponent.stack_id, StackComponent.component_id)
        .join(Competency, Competency.id == StackComponent.stack_id)
        .where(Competency.issuer_id == issuer_id),
        order,
    )
    return Catalogue(
        tuple(
            CompetencyInfo(
                id=row.id,
                public_id=row.public_id,
                name=row.name,
                is_stack=bool(row.is_stack),
                prerequisite_ids=tuple(
                    sorted(prerequisites.get(row.id, ()), key=order.__getitem__)
                ),
                component_ids=tuple(sorted(components.get(row.id, ()), key=order.__getitem__)),
            )
            for row in rows
        )
    )


def _pairs(query: AnySelect, ids: Collection[int]) -> dict[int, list[int]]:
    """``{first: [second, ...]}`` from a two-column query, keeping only pairs whose both ends
    are in ``ids`` (archived competencies neither block nor complete anything)."""
    found: dict[int, list[int]] = {}
    if not ids:
        return found
    for first, second in db.session.execute(query):
        if first in ids and second in ids:
            found.setdefault(first, []).append(second)
    return found


# -- the state of every pair -----------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One student's progress on one competency."""

    state: str
    mastered_at: datetime | None = None
    credential_public_id: str | None = None
    #: The state of the latest submission, when there is one.
    submission_state: str | None = None

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class _MasteryFact:
    at: datetime
    credential_public_id: str


def derive_cells(
    catalogue: Catalogue,
    *,
    masteries: Mapping[int, _MasteryFact],
    latest: Mapping[int, str],
) -> dict[int, Cell]:
    """Every competency's :class:`Cell` for one student, from their non-revoked masteries and
    the state of their latest submission, both by competency id."""
    cells: dict[int, Cell] = {}
    for competency in catalogue.competencies:
        fact = masteries.get(competency.id)
        submitted = None if competency.is_stack else latest.get(competency.id)
        cells[competency.id] = Cell(
            state=derive_state(mastered=fact is not None, latest_submission_state=submitted),
            mastered_at=_aware(fact.at) if fact else None,
            credential_public_id=fact.credential_public_id if fact else None,
            submission_state=submitted,
        )
    # Stacks second, once their components' states are known.
    for stack in (c for c in catalogue.competencies if c.is_stack):
        cell = cells[stack.id]
        components = [cells[i].state for i in stack.component_ids if i in cells]
        state = stack_state(mastered=cell.state == MASTERED, component_states=components)
        cells[stack.id] = replace(cell, state=state)
    return cells


def load_cells(student_ids: Collection[int], catalogue: Catalogue) -> dict[int, dict[int, Cell]]:
    """``{student id: {competency id: Cell}}`` for these students (two queries in all)."""
    if not student_ids or not catalogue.competencies:
        return {student_id: {} for student_id in student_ids}
    ids = sorted(student_ids)
    masteries: dict[int, dict[int, _MasteryFact]] = {student_id: {} for student_id in ids}
    for row in db.session.execute(
        select(
            Mastery.student_id,
            Mastery.competency_id,
            Mastery.at,
            IssuedCredential.public_id,
        )
        .join(IssuedCredential, IssuedCredential.id == Mastery.credential_id)
        .where(Mastery.student_id.in_(ids), IssuedCredential.revoked_at.is_(None))
    ):
        masteries[row.student_id][row.competency_id] = _MasteryFact(row.at, row.public_id)
    latest: dict[int, dict[int, str]] = {student_id: {} for student_id in ids}
    newest = _latest_submissions(Submission.student_id.in_(ids))
    for student_id, competency_id, state in db.session.execute(
        select(newest.c.student_id, newest.c.competency_id, newest.c.state)
    ):
        latest[student_id][competency_id] = state
    return {
        student_id: derive_cells(
            catalogue, masteries=masteries[student_id], latest=latest[student_id]
        )
        for student_id in ids
    }


def _latest_submissions(*conditions: Any) -> Any:
    """Each student's latest submission per competency (by creation), among those matching
    ``conditions``, as a subquery with its id, public id, student, competency, state and
    dates."""
    rank = (
        func.row_number()
        .over(
            partition_by=(Submission.student_id, Submission.competency_id),
            order_by=(Submission.created_at.desc(), Submission.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(
            Submission.id,
            Submission.public_id,
            Submission.student_id,
            Submission.competency_id,
            Submission.state,
            Submission.decided_at,
            Submission.updated_at,
            rank,
        )
        .where(*conditions)
        .subquery()
    )
    return select(ranked).where(ranked.c.rank == 1).subquery()


# -- a student's map -------------------------------------------------------------------------


@dataclass(frozen=True)
class MapEntry:
    """A competency on a student's map: its state, its prerequisites and, for a stack badge,
    the progress of its components."""

    competency: CompetencyInfo
    cell: Cell
    prerequisites: tuple[tuple[CompetencyInfo, bool], ...] = ()
    components: tuple[tuple[CompetencyInfo, Cell], ...] = ()

    @property
    def prerequisites_met(self) -> bool:
        return all(met for _competency, met in self.prerequisites)

    @property
    def components_mastered(self) -> int:
        return sum(1 for _competency, cell in self.components if cell.state == MASTERED)


def map_entries(catalogue: Catalogue, cells: Mapping[int, Cell]) -> list[MapEntry]:
    """One :class:`MapEntry` per competency of the catalogue, in catalogue order."""
    entries = []
    for competency in catalogue.competencies:
        prerequisites = tuple(
            (prerequisite, cells[prerequisite.id].state == MASTERED)
            for prerequisite in map(catalogue.get, competency.prerequisite_ids)
            if prerequisite is not None
        )
        components = tuple(
            (component, cells[component.id])
            for component in map(catalogue.get, competency.component_ids)
            if component is not None
        )
        entries.append(MapEntry(competency, cells[competency.id], prerequisites, components))
    return entries


#: What-is-next order: work the student has started, then new work, then work an assessor has.
_NEXT_ORDER = {IN_PROGRESS: 0, NOT_STARTED: 1, IN_REVIEW: 2}


def what_is_next(entries: Sequence[MapEntry]) -> list[MapEntry]:
    """The competencies the student can work on now: not mastered, every prerequisite mastered;
    in progress first, then not started, then in review (catalogue order within each).

    Stack badges are left out: nobody submits for them, they come with their components.
    """
    candidates = [
        (index, entry)
        for index, entry in enumerate(entries)
        if entry.cell.state != MASTERED
        and not entry.competency.is_stack
        and entry.prerequisites_met
    ]
    candidates.sort(key=lambda pair: (_NEXT_ORDER[pair[1].cell.state], pair[0]))
    return [entry for _index, entry in candidates]


@dataclass(frozen=True)
class FeedbackItem:
    """Assessor feedback the student has not acted on yet (work sent back, or "not yet")."""

    submission_public_id: str
    competency_name: str
    state: str
    feedback: str
    decided_at: datetime | None


def feedback_waiting(student_id: int, catalogue: Catalogue) -> list[FeedbackItem]:
    """The student's latest submissions in ``revision_requested`` or ``not_yet``, with the
    overall feedback of their latest assessment, most recently decided first (two queries).

    Only a competency's latest submission counts: once the student starts again, the old
    feedback is no longer waiting.
    """
    newest = _latest_submissions(Submission.student_id == student_id)
    rows = db.session.execute(
        select(newest).where(newest.c.state.in_(FEEDBACK_SUBMISSION_STATES))
    ).all()
    rows = [row for row in rows if catalogue.get(row.competency_id) is not None]
    texts = _latest_feedback([row.id for row in rows])
    items = [
        FeedbackItem(
            submission_public_id=row.public_id,
            competency_name=catalogue.get(row.competency_id).name,  # type: ignore[union-attr]
            state=row.state,
            feedback=texts.get(row.id, ""),
            decided_at=_aware(row.decided_at or row.updated_at),
        )
        for row in rows
    ]
    items.sort(key=lambda item: item.decided_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return items


def _latest_feedback(submission_ids: Sequence[int]) -> dict[int, str]:
    """The overall feedback of each submission's latest assessment (one query)."""
    if not submission_ids:
        return {}
    texts: dict[int, str] = {}
    for submission_id, text in db.session.execute(
        select(Assessment.submission_id, Assessment.feedback)
        .where(Assessment.submission_id.in_(submission_ids))
        .order_by(Assessment.created_at, Assessment.id)
    ):
        texts[submission_id] = text or ""  # later rows win: the latest assessment's text
    return texts


@dataclass(frozen=True)
class Notice:
    """An unread notification; ``link`` is as stored (the page checks it is a local path)."""

    message: str
    link: str | None
    created_at: datetime


def unread_notifications(user_id: int, *, limit: int = 20) -> list[Notice]:
    """The user's unread notifications, newest first."""
    rows = db.session.execute(
        select(Notification.message, Notification.link, Notification.created_at)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [Notice(row.message, row.link, _aware(row.created_at)) for row in rows]


@dataclass
class StudentMap:
    """Everything on a student's progress page."""

    entries: list[MapEntry]
    next_up: list[MapEntry]
    feedback: list[FeedbackItem]
    notifications: list[Notice] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """How many competencies are in each state (stack badges included)."""
        counts = dict.fromkeys(PROGRESS_STATES, 0)
        for entry in self.entries:
            counts[entry.cell.state] += 1
        return counts

    @property
    def history(self) -> list[tuple[datetime, str]]:
        """(mastered at, competency name) of every mastered competency, oldest first."""
        pairs = [
            (entry.cell.mastered_at, entry.competency.name)
            for entry in self.entries
            if entry.cell.mastered_at is not None and entry.cell.state == MASTERED
        ]
        return sorted(pairs, key=lambda pair: pair[0])


def student_map(user: User) -> StudentMap:
    """The map of ``user``'s own issuer's competencies, as that student stands (a fixed number
    of queries)."""
    catalogue = load_catalogue(user.issuer_id)
    cells = load_cells([user.id], catalogue)[user.id]
    entries = map_entries(catalogue, cells)
    return StudentMap(
        entries=entries,
        next_up=what_is_next(entries),
        feedback=feedback_waiting(user.id, catalogue),
        notifications=unread_notifications(user.id),
    )


# -- the cohort ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortFilter:
    """Which students (a cohort, or all) and which competency (one, or all) a view shows."""

    cohort: str | None = None
    competency: CompetencyInfo | None = None


def parse_competency(raw: str | None, catalogue: Catalogue) -> CompetencyInfo | None:
    """The competency chosen by public id, or None for all.  Raises :class:`FilterError` for
    an id that is not one of the catalogue's (another issuer's looks the same as none)."""
    text = (raw or "").strip()
    if not text:
        return None
    found = catalogue.find(text)
    if found is None:
        raise FilterError(
            "There is no such competency. Choose one from the list.", field="competency"
        )
    return found


@dataclass(frozen=True)
class StudentInfo:
    id: int
    name: str
    email: str
    cohort: str | None


def cohorts(issuer_id: int) -> list[str]:
    """The cohort names the issuer's students have, sorted."""
    return sorted(
        db.session.scalars(
            select(User.cohort)
            .where(_is_student_of(issuer_id), User.cohort.is_not(None), User.cohort != "")
            .distinct()
        )
    )


def _is_student_of(issuer_id: int) -> Any:
    return (User.issuer_id == issuer_id) & (User.role == "student") & User.disabled_at.is_(None)


def _students(issuer_id: int, cohort: str | None) -> AnySelect:
    query = select(User.id, User.display_name, User.email, User.cohort).where(
        _is_student_of(issuer_id)
    )
    if cohort is not None:
        query = query.where(User.cohort == cohort)
    return query


def _student_info(row: Any) -> StudentInfo:
    return StudentInfo(row.id, row.display_name, row.email, row.cohort)


@dataclass(frozen=True)
class CohortMatrix:
    """One page of the students × competencies matrix."""

    students: list[StudentInfo]
    competencies: list[CompetencyInfo]
    cells: dict[int, dict[int, Cell]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def cohort_matrix(
    issuer_id: int,
    catalogue: Catalogue,
    filters: CohortFilter,
    *,
    page: int = 1,
    per_page: int = 50,
) -> CohortMatrix:
    """A page of students (by name) and their state on each competency shown (four queries)."""
    students = _students(issuer_id, filters.cohort)
    total = db.session.scalar(select(func.count()).select_from(students.subquery())) or 0
    rows = db.session.execute(
        students.order_by(User.display_name, User.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    infos = [_student_info(row) for row in rows]
    shown = [filters.competency] if filters.competency else list(catalogue.competencies)
    cells = load_cells([info.id for info in infos], catalogue)
    return CohortMatrix(infos, shown, cells, total, page, per_page)


@dataclass(frozen=True)
class WaitingSubmission:
    """A submission waiting for an assessor."""

    public_id: str
    student_name: str
    competency_name: str
    state: str
    since: datetime
    age_days: int


def waiting_longest(
    issuer_id: int, filters: CohortFilter, *, now: datetime, limit: int = 20
) -> tuple[list[WaitingSubmission], int]:
    """The submissions waiting longest for an assessor (``submitted``, ``resubmitted``,
    ``in_review``), oldest ``submitted_at`` first, and how many wait in all (two queries)."""
    since = func.coalesce(Submission.submitted_at, Submission.created_at)
    query = (
        select(
            Submission.public_id,
            Submission.state,
            since.label("since"),
            User.display_name,
            Competency.name,
        )
        .join(User, User.id == Submission.student_id)
        .join(Competency, Competency.id == Submission.competency_id)
        .where(
            Submission.state.in_(WAITING_SUBMISSION_STATES),
            Competency.issuer_id == issuer_id,
            Competency.archived_at.is_(None),
            _is_student_of(issuer_id),
        )
    )
    if filters.cohort is not None:
        query = query.where(User.cohort == filters.cohort)
    if filters.competency is not None:
        query = query.where(Submission.competency_id == filters.competency.id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(query.order_by(since, Submission.id).limit(limit)).all()
    waiting = []
    for row in rows:
        moment = _aware(row.since)
        waiting.append(
            WaitingSubmission(
                public_id=row.public_id,
                student_name=row.display_name,
                competency_name=row.name,
                state=row.state,
                since=moment,
                age_days=max(0, (now - moment).days),
            )
        )
    return waiting, total


@dataclass(frozen=True)
class StalledStudent:
    """A student with no progress for a while; ``last_activity`` is None when they never had
    any."""

    student: StudentInfo
    last_activity: datetime | None


def stalled_students(
    issuer_id: int, filters: CohortFilter, *, weeks: int, now: datetime, limit: int = 100
) -> tuple[list[StalledStudent], int]:
    """Students with no progress in the last ``weeks`` weeks — no submission event they made
    and no mastery since then (on the chosen competency, when one is) — longest silent first,
    and how many there are in all (two queries).

    Accounts younger than that are left out: a student who joined yesterday has not stalled.
    """
    cutoff = now - timedelta(weeks=weeks)
    events = (
        select(
            SubmissionEvent.actor_id.label("student_id"), func.max(SubmissionEvent.at).label("at")
        )
        .join(Submission, Submission.id == SubmissionEvent.submission_id)
        .where(Submission.student_id == SubmissionEvent.actor_id)
    )
    masteries = select(Mastery.student_id, func.max(Mastery.at).label("at"))
    if filters.competency is not None:
        events = events.where(Submission.competency_id == filters.competency.id)
        masteries = masteries.where(Mastery.competency_id == filters.competency.id)
    last_event = events.group_by(SubmissionEvent.actor_id).subquery()
    last_mastery = masteries.group_by(Mastery.student_id).subquery()
    last = case(
        (last_event.c.at > last_mastery.c.at, last_event.c.at),
        else_=func.coalesce(last_mastery.c.at, last_event.c.at),
    ).label("last_activity")
    query = (
        _students(issuer_id, filters.cohort)
        .add_columns(last)
        .outerjoin(last_event, last_event.c.student_id == User.id)
        .outerjoin(last_mastery, last_mastery.c.student_id == User.id)
        .where(
            User.created_at <= cutoff,
            or_(last_event.c.at.is_(None), last_event.c.at < cutoff),
            or_(last_mastery.c.at.is_(None), last_mastery.c.at < cutoff),
        )
    )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(last.asc().nulls_first(), User.display_name, User.id).limit(limit)
    ).all()
    stalled = [
        StalledStudent(_student_info(row), _aware(row.last_activity) if row.last_activity else None)
        for row in rows
    ]
    return stalled, total


def cohort_csv_rows(
    issuer_id: int, catalogue: Catalogue, filters: CohortFilter, *, batch: int = CSV_BATCH
) -> Iterator[list[str]]:
    """The cohort CSV's data rows (see :data:`CSV_HEADER`): one per student × competency shown,
    students by name, every cell passed through :func:`csv_safe`.

    One query for the students, then two per ``batch`` of students.
    """
    shown = [filters.competency] if filters.competency else list(catalogue.competencies)
    students = [
        _student_info(row)
        for row in db.session.execute(
            _students(issuer_id, filters.cohort).order_by(User.display_name, User.id)
        )
    ]
    for start in range(0, len(students), batch):
        chunk = students[start : start + batch]
        cells = load_cells([student.id for student in chunk], catalogue)
        for student in chunk:
            for competency in shown:
                cell = cells[student.id][competency.id]
                yield [
                    csv_safe(value)
                    for value in (
                        student.name,
                        student.email,
                        student.cohort or "",
                        competency.name,
                        cell.state,
                        cell.mastered_at.isoformat() if cell.mastered_at else "",
                        cell.credential_public_id or "",
                    )
                ]
