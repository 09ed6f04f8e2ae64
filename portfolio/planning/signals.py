"""The learning plan's early signals for teachers (issue 17 §4): a plan item overdue, and no
submission in N days while a plan item is due.  A :class:`~portfolio.assessment.signals.
SignalSource` (assessment cannot import planning: wsgi.py adds it to the cohort view through
``Feature.cohort_signals``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import ngettext
from sqlalchemy import func, select

from portfolio.assessment.models import Mastery, Submission, SubmissionEvent
from portfolio.assessment.signals import (
    OVERDUE,
    QUIET,
    LazyDate,
    Signal,
    SignalScope,
    Thresholds,
    lazy_plural,
)
from portfolio.catalogue.models import Competency
from portfolio.core.db import db
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.planning.models import PlanItem

# -- the rules (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class DueItem:
    """A plan item not yet mastered, with a target date."""

    competency: str
    target_date: date


def is_overdue(item: DueItem, *, today: date) -> bool:
    """Its target date has passed (the item is not mastered: only those are :class:`DueItem`)."""
    return item.target_date < today


def is_due(item: DueItem, *, today: date, quiet_days: int) -> bool:
    """Its target date is within the next ``quiet_days`` days, or has passed."""
    return item.target_date <= today + timedelta(days=quiet_days)


def is_quiet(last_submission: datetime | None, *, now: datetime, quiet_days: int) -> bool:
    """She made no submission event of her own in the last ``quiet_days`` days."""
    return last_submission is None or last_submission < now - timedelta(days=quiet_days)


def overdue_signal(item: DueItem) -> Signal:
    """ "Plan item overdue: <competency>, due <date>"."""
    return Signal(
        OVERDUE,
        _l(
            "Plan item overdue: “%(competency)s”, due %(date)s",
            competency=item.competency,
            date=LazyDate(item.target_date),
        ),
        {"key": item.competency, "competency": item.competency, "due": item.target_date},
    )


def quiet_signal(days: int, due: Sequence[DueItem]) -> Signal:
    """ "No submission in N days while a plan item is due"."""
    return Signal(
        QUIET,
        lazy_plural(
            lambda: ngettext(
                "No submission in %(num)s day while a plan item is due",
                "No submission in %(num)s days while a plan item is due",
                days,
            )
        ),
        {"key": "", "days": days, "due": [item.competency for item in due]},
    )


def plan_signals_for(
    items: Sequence[DueItem],
    last_submission: datetime | None,
    *,
    thresholds: Thresholds,
    now: datetime,
) -> list[Signal]:
    """One student's plan signals: each overdue item, and "no submission in N days" when an
    item is due and she has been quiet that long."""
    today = now.date()
    found = [overdue_signal(item) for item in items if is_overdue(item, today=today)]
    due = [item for item in items if is_due(item, today=today, quiet_days=thresholds.quiet_days)]
    if due and is_quiet(last_submission, now=now, quiet_days=thresholds.quiet_days):
        found.insert(0, quiet_signal(thresholds.quiet_days, due))
    return found


# -- the source ------------------------------------------------------------------------------


def plan_signals(
    scope: SignalScope, thresholds: Thresholds, *, now: datetime
) -> dict[int, list[Signal]]:
    """The plan signals of every student in ``scope`` (two queries): their plan items due
    within ``quiet_days`` (or past) and not mastered, then when each of those students last
    made a submission event of her own."""
    horizon = now.date() + timedelta(days=thresholds.quiet_days)
    query = (
        select(PlanItem.student_id, Competency.name, PlanItem.target_date)
        .join(Competency, Competency.id == PlanItem.competency_id)
        .outerjoin(
            Mastery,
            (Mastery.student_id == PlanItem.student_id)
            & (Mastery.competency_id == PlanItem.competency_id),
        )
        .where(
            PlanItem.student_id.in_(scope.students()),
            PlanItem.target_date.is_not(None),
            PlanItem.target_date <= horizon,
            Competency.issuer_id == scope.issuer_id,
            Competency.archived_at.is_(None),
            Mastery.id.is_(None),
        )
        .order_by(PlanItem.target_date, Competency.name)
    )
    if scope.competency_id is not None:
        query = query.where(PlanItem.competency_id == scope.competency_id)
    items: dict[int, list[DueItem]] = {}
    for student_id, name, target_date in db.session.execute(query):
        if target_date is not None:  # the query keeps only items with a date
            items.setdefault(student_id, []).append(DueItem(name, target_date))
    if not items:
        return {}
    # Her own events only (an assessor's decision is not her submitting), for the students
    # with an item due: the same subquery, so no list of ids is sent.
    due_students = (
        select(PlanItem.student_id)
        .where(
            PlanItem.student_id.in_(scope.students()),
            PlanItem.target_date.is_not(None),
            PlanItem.target_date <= horizon,
        )
        .distinct()
    )
    last: dict[int, datetime] = {
        student_id: at
        for student_id, at in db.session.execute(
            select(SubmissionEvent.actor_id, func.max(SubmissionEvent.at))
            .join(Submission, Submission.id == SubmissionEvent.submission_id)
            .where(
                Submission.student_id == SubmissionEvent.actor_id,
                SubmissionEvent.actor_id.in_(due_students),
            )
            .group_by(SubmissionEvent.actor_id)
        )
        if student_id is not None
    }
    found: dict[int, list[Signal]] = {}
    for student_id, due in items.items():
        signals = plan_signals_for(due, last.get(student_id), thresholds=thresholds, now=now)
        if signals:
            found[student_id] = signals
    return found
