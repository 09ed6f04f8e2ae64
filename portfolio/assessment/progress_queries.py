"""Learner progress, the loaders: the catalogue, every (student, competency) pair's state, a
student's map, and the cohort views, read for the rules of :mod:`portfolio.assessment.progress`.

Each loader takes a fixed number of queries per page or per batch of students, never one per
student.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, case, func, or_, select

from portfolio.accounts.models import Role, User
from portfolio.accounts.notifications import unread
from portfolio.assessment.models import Assessment, Mastery, Submission, SubmissionEvent
from portfolio.assessment.progress import (
    Catalogue,
    Cell,
    CohortFilter,
    CohortMatrix,
    CompetencyInfo,
    FeedbackItem,
    MasteryFact,
    StalledStudent,
    StudentInfo,
    StudentMap,
    WaitingSubmission,
    derive_cells,
    map_entries,
    what_is_next,
)
from portfolio.assessment.states import AWAITING_ASSESSMENT, FEEDBACK_WAITING
from portfolio.catalogue.models import Competency, Prerequisite, StackComponent
from portfolio.core.db import db
from portfolio.issuing.models import IssuedCredential

if TYPE_CHECKING:
    #: A SELECT of any columns (SQLAlchemy 2.1 types a Select by its columns).
    AnySelect = Select[*tuple[Any, ...]]


# -- the catalogue ---------------------------------------------------------------------------


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


def load_cells(student_ids: Collection[int], catalogue: Catalogue) -> dict[int, dict[int, Cell]]:
    """``{student id: {competency id: Cell}}`` for these students (two queries in all), each
    mastery read with its credential's status now: revoked and suspended credentials show."""
    if not student_ids or not catalogue.competencies:
        return {student_id: {} for student_id in student_ids}
    ids = sorted(student_ids)
    masteries: dict[int, dict[int, MasteryFact]] = {student_id: {} for student_id in ids}
    for row in db.session.execute(
        select(
            Mastery.student_id,
            Mastery.competency_id,
            Mastery.at,
            IssuedCredential.public_id,
            IssuedCredential.revoked_at,
            IssuedCredential.revocation_reason,
            IssuedCredential.suspended_at,
            IssuedCredential.suspension_reason,
        )
        .join(IssuedCredential, IssuedCredential.id == Mastery.credential_id)
        .where(Mastery.student_id.in_(ids))
    ):
        masteries[row.student_id][row.competency_id] = mastery_fact(row)
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


def mastery_fact(row: Any) -> MasteryFact:
    """A mastery with its credential's status as it is now (revocation wins: it is final)."""
    if row.revoked_at is not None:
        return MasteryFact(row.at, row.public_id, "revoked", row.revoked_at, row.revocation_reason)
    if row.suspended_at is not None:
        return MasteryFact(
            row.at, row.public_id, "suspended", row.suspended_at, row.suspension_reason
        )
    return MasteryFact(row.at, row.public_id)


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


def feedback_waiting(student_id: int, catalogue: Catalogue) -> list[FeedbackItem]:
    """The student's latest submissions in ``revision_requested`` or ``not_yet``, with the
    overall feedback of their latest assessment, most recently decided first (two queries).

    Only a competency's latest submission counts: once the student starts again, the old
    feedback is no longer waiting.
    """
    newest = _latest_submissions(Submission.student_id == student_id)
    rows = db.session.execute(select(newest).where(newest.c.state.in_(FEEDBACK_WAITING))).all()
    named = [(row, catalogue.get(row.competency_id)) for row in rows]
    shown = [(row, competency) for row, competency in named if competency is not None]
    texts = _latest_feedback([row.id for row, _competency in shown])
    items = [
        FeedbackItem(
            submission_public_id=row.public_id,
            competency_name=competency.name,
            state=row.state,
            feedback=texts.get(row.id, ""),
            decided_at=row.decided_at or row.updated_at,
        )
        for row, competency in shown
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
        notifications=unread(user.id),
    )


# -- the cohort ------------------------------------------------------------------------------


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
    return (User.issuer_id == issuer_id) & (User.role == Role.STUDENT) & User.disabled_at.is_(None)


def _students_query(issuer_id: int, cohort: str | None) -> AnySelect:
    query = select(User.id, User.display_name, User.email, User.cohort).where(
        _is_student_of(issuer_id)
    )
    if cohort is not None:
        query = query.where(User.cohort == cohort)
    return query


def _student_info(row: Any) -> StudentInfo:
    return StudentInfo(row.id, row.display_name, row.email, row.cohort)


def cohort_matrix(
    issuer_id: int,
    catalogue: Catalogue,
    filters: CohortFilter,
    *,
    page: int = 1,
    per_page: int = 50,
) -> CohortMatrix:
    """A page of students (by name) and their state on each competency shown (four queries)."""
    query = _students_query(issuer_id, filters.cohort)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(User.display_name, User.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    infos = [_student_info(row) for row in rows]
    shown = [filters.competency] if filters.competency else list(catalogue.competencies)
    cells = load_cells([info.id for info in infos], catalogue)
    return CohortMatrix(infos, shown, cells, total, page, per_page)


def flagged_matrix(
    issuer_id: int,
    catalogue: Catalogue,
    filters: CohortFilter,
    flagged: Collection[int],
    *,
    page: int = 1,
    per_page: int = 50,
) -> CohortMatrix:
    """A page of the flagged students only (by name) and their state on each competency shown
    (three queries: the students of the filter, read once, are kept when flagged — no list of
    ids goes to the database, however many are flagged)."""
    everyone = students(issuer_id, filters.cohort) if flagged else []
    chosen = [info for info in everyone if info.id in flagged]
    infos = chosen[(page - 1) * per_page : page * per_page]
    shown = [filters.competency] if filters.competency else list(catalogue.competencies)
    cells = load_cells([info.id for info in infos], catalogue)
    return CohortMatrix(infos, shown, cells, len(chosen), page, per_page)


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
            Submission.state.in_(AWAITING_ASSESSMENT),
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
    waiting = [
        WaitingSubmission(
            public_id=row.public_id,
            student_name=row.display_name,
            competency_name=row.name,
            state=row.state,
            since=row.since,
            age_days=max(0, (now - row.since).days),
        )
        for row in rows
    ]
    return waiting, total


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
        _students_query(issuer_id, filters.cohort)
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
    stalled = [StalledStudent(_student_info(row), row.last_activity) for row in rows]
    return stalled, total


def students(issuer_id: int, cohort: str | None) -> list[StudentInfo]:
    """The issuer's active students (of ``cohort``, when given), by name (one query)."""
    return [
        _student_info(row)
        for row in db.session.execute(
            _students_query(issuer_id, cohort).order_by(User.display_name, User.id)
        )
    ]
