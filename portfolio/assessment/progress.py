"""Learner progress, the rules: the state of a (student, competency) pair, a student's map and
what is next on it, the cohort views' plain data, and the filters' validators.

Pure: plain data in, plain data out (no database, no Flask).  The loaders that feed these
rules are in :mod:`portfolio.assessment.progress_queries`, the CSV in
:mod:`portfolio.assessment.progress_csv`, the pages in ``progress_pages.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from portfolio.assessment.models import SubmissionState
from portfolio.assessment.states import AWAITING_ASSESSMENT, EDITABLE
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.numbers import whole_number

if TYPE_CHECKING:
    from portfolio.accounts.notifications import Notice


class Progress(StrEnum):
    """The state of a (student, competency) pair, most advanced first."""

    MASTERED = "mastered"
    #: The credential is suspended: held (nothing is submitted for it again) but, until the
    #: suspension is lifted, not shown as mastered.
    SUSPENDED = "suspended"
    IN_REVIEW = "in_review"
    IN_PROGRESS = "in_progress"
    #: The credential was revoked and no work has started again since.
    REVOKED = "revoked"
    NOT_STARTED = "not_started"


MASTERED = Progress.MASTERED
SUSPENDED = Progress.SUSPENDED
IN_REVIEW = Progress.IN_REVIEW
IN_PROGRESS = Progress.IN_PROGRESS
REVOKED = Progress.REVOKED
NOT_STARTED = Progress.NOT_STARTED
#: The states of a (student, competency) pair, most advanced first.
PROGRESS_STATES = tuple(Progress)
STATE_LABELS: dict[str, str] = {
    MASTERED: "Mastered",
    SUSPENDED: "Suspended",
    IN_REVIEW: "In review",
    IN_PROGRESS: "In progress",
    REVOKED: "Revoked",
    NOT_STARTED: "Not started",
}
#: The states in which the student holds the credential (prerequisites are met by it).
HELD_STATES = frozenset({MASTERED, SUSPENDED})
#: Submission states that put a competency "in review" (an assessor has the next move) ...
REVIEW_SUBMISSION_STATES = frozenset(AWAITING_ASSESSMENT)
#: ... and "in progress" (the student has the next move).
WORKING_SUBMISSION_STATES = frozenset({*EDITABLE, SubmissionState.NOT_YET})

DEFAULT_WEEKS = 3
MIN_WEEKS, MAX_WEEKS = 1, 52
MAX_COHORT_LENGTH = 128  # User.cohort's column size
MAX_PAGE = 100_000


# -- the rules --------------------------------------------------------------------------------


def derive_state(*, credential_state: str | None, latest_submission_state: str | None) -> str:
    """The state of a (student, competency) pair, read from the status of the credential of
    the student's :class:`Mastery` (``active``, ``suspended``, ``revoked``; None without one)
    at the time of reading — so every view follows a revocation or suspension at once.

    An active credential is ``mastered``, a suspended one ``suspended``.  Otherwise the
    student's latest submission decides: waiting for an assessor is ``in_review``, a draft or
    work sent back is ``in_progress``; with neither, a revoked credential is ``revoked``, and
    nothing at all ``not_started``.
    """
    if credential_state == "active":
        return MASTERED
    if credential_state == "suspended":
        return SUSPENDED
    if latest_submission_state in REVIEW_SUBMISSION_STATES:
        return IN_REVIEW
    if latest_submission_state in WORKING_SUBMISSION_STATES:
        return IN_PROGRESS
    if credential_state == "revoked":
        return REVOKED
    return NOT_STARTED


def stack_state(*, own_state: str, component_states: Iterable[str]) -> str:
    """The state of a stack badge: its own credential's (``mastered``, ``suspended``) while the
    student holds it.  Nobody submits for a stack: without a badge it is ``in_progress`` as
    soon as any component is under way.  A revoked badge (revoked with a component, see
    :mod:`portfolio.assessment.stack_revocation`) stays ``revoked`` until a component is being
    worked on or reviewed again."""
    if own_state in HELD_STATES:
        return own_state
    states = set(component_states)
    if own_state == REVOKED:
        return IN_PROGRESS if states & {IN_PROGRESS, IN_REVIEW} else REVOKED
    return IN_PROGRESS if states - {NOT_STARTED} else NOT_STARTED


class CohortFilterError(InvalidInputError):
    """A filter of the cohort view that cannot be used: ``field`` names it, the message says
    why (safe to show)."""

    code = "INVALID_FILTER"

    def __init__(self, message: str | LazyText, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def parse_weeks(raw: str | None) -> int:
    """The "no progress in N weeks" parameter: a whole number from 1 to 52 (3 when absent)."""
    if raw is None or not raw.strip():
        return DEFAULT_WEEKS
    weeks = whole_number(raw, at_least=MIN_WEEKS, at_most=MAX_WEEKS)
    if weeks is None:
        raise CohortFilterError(
            _l(
                "The number of weeks must be a whole number from %(min)d to %(max)d.",
                min=MIN_WEEKS,
                max=MAX_WEEKS,
            ),
            field="weeks",
        )
    return weeks


def parse_page(raw: str | None) -> int:
    """A page number: a whole number of 1 or more (1 when absent)."""
    if raw is None or not raw.strip():
        return 1
    page = whole_number(raw, at_least=1, at_most=MAX_PAGE)
    if page is None:
        raise CohortFilterError(_l("The page must be a whole number of 1 or more."), field="page")
    return page


def parse_flagged(raw: str | None) -> bool:
    """ "Only flagged students": ``1`` (the checkbox's value) or nothing."""
    text = (raw or "").strip()
    if text in ("", "0"):
        return False
    if text == "1":
        return True
    raise CohortFilterError(_l("Tick “Only flagged students”, or leave it empty."), field="flagged")


def parse_cohort(raw: str | None) -> str | None:
    """A cohort name to filter by, or None for every cohort."""
    text = (raw or "").strip()
    if len(text) > MAX_COHORT_LENGTH:
        raise CohortFilterError(
            _l("A cohort name has at most %(max)d characters.", max=MAX_COHORT_LENGTH),
            field="cohort",
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


# -- the state of every pair -----------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One student's progress on one competency."""

    state: str
    mastered_at: datetime | None = None
    credential_public_id: str | None = None
    #: The state of the latest submission, when there is one.
    submission_state: str | None = None
    #: When and why the credential was suspended or revoked (when it was).
    status_at: datetime | None = None
    status_reason: str | None = None

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class MasteryFact:
    """A student's mastery of a competency and its credential's status as it is now
    (``active``, ``suspended`` or ``revoked``; when and why for the last two)."""

    at: datetime
    credential_public_id: str
    credential_state: str = "active"
    status_at: datetime | None = None
    status_reason: str | None = None


def derive_cells(
    catalogue: Catalogue,
    *,
    masteries: Mapping[int, MasteryFact],
    latest: Mapping[int, str],
) -> dict[int, Cell]:
    """Every competency's :class:`Cell` for one student, from their masteries (with their
    credentials' status) and the state of their latest submission, both by competency id."""
    cells: dict[int, Cell] = {}
    for competency in catalogue.competencies:
        fact = masteries.get(competency.id)
        submitted = None if competency.is_stack else latest.get(competency.id)
        cells[competency.id] = Cell(
            state=derive_state(
                credential_state=fact.credential_state if fact else None,
                latest_submission_state=submitted,
            ),
            mastered_at=fact.at if fact else None,
            credential_public_id=fact.credential_public_id if fact else None,
            submission_state=submitted,
            status_at=fact.status_at if fact else None,
            status_reason=fact.status_reason if fact else None,
        )
    # Stacks second, once their components' states are known.
    for stack in (c for c in catalogue.competencies if c.is_stack):
        cell = cells[stack.id]
        components = [cells[i].state for i in stack.component_ids if i in cells]
        state = stack_state(own_state=cell.state, component_states=components)
        cells[stack.id] = replace(cell, state=state)
    return cells


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
            (prerequisite, cells[prerequisite.id].state in HELD_STATES)
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


#: What-is-next order: work the student has started, then new work (a revoked credential can be
#: earned again), then work an assessor has.
_NEXT_ORDER: dict[str, int] = {IN_PROGRESS: 0, NOT_STARTED: 1, REVOKED: 1, IN_REVIEW: 2}


def what_is_next(entries: Sequence[MapEntry]) -> list[MapEntry]:
    """The competencies the student can work on now: not held (mastered or suspended), every
    prerequisite held; in progress first, then not started or revoked, then in review
    (catalogue order within each).

    Stack badges are left out: nobody submits for them, they come with their components.
    """
    candidates = [
        (index, entry)
        for index, entry in enumerate(entries)
        if entry.cell.state not in HELD_STATES
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
        counts: dict[str, int] = dict.fromkeys(PROGRESS_STATES, 0)
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


# -- the cohort ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortFilter:
    """Which students (a cohort, or all) and which competency (one, or all) a view shows."""

    cohort: str | None = None
    competency: CompetencyInfo | None = None
    #: Only the students the early signals flag (issue 17 §4).
    flagged: bool = False


def parse_competency(raw: str | None, catalogue: Catalogue) -> CompetencyInfo | None:
    """The competency chosen by public id, or None for all.  Raises :class:`CohortFilterError`
    for an id that is not one of the catalogue's (another issuer's looks the same as none)."""
    text = (raw or "").strip()
    if not text:
        return None
    found = catalogue.find(text)
    if found is None:
        raise CohortFilterError(
            _l("There is no such competency. Choose one from the list."), field="competency"
        )
    return found


@dataclass(frozen=True)
class StudentInfo:
    """A student as the cohort views show them."""

    id: int
    name: str
    email: str
    cohort: str | None


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


@dataclass(frozen=True)
class WaitingSubmission:
    """A submission waiting for an assessor."""

    public_id: str
    student_name: str
    competency_name: str
    state: str
    since: datetime
    age_days: int


@dataclass(frozen=True)
class StalledStudent:
    """A student with no progress for a while; ``last_activity`` is None when they never had
    any."""

    student: StudentInfo
    last_activity: datetime | None
