"""Early signals for teachers (issue 17 §4): what a flag is (:class:`Signal`), a school's
thresholds, the hook through which features above assessment add their own signals
(:data:`SignalSource`, wired from ``wsgi.Feature.cohort_signals``), and assessment's own two
signals — many revision rounds on one competency, and a self-assessment far from the
assessor's judgement.

Every source answers for a whole :class:`SignalScope` (a school's students, or one cohort's)
in a fixed number of queries, whatever the number of students.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from flask import Flask, current_app
from flask_babel import format_date, ngettext
from sqlalchemy import func, select

from portfolio.accounts.models import Role, User
from portfolio.assessment.calibration import largest_gap
from portfolio.assessment.models import (
    Assessment,
    Mastery,
    SelfAssessment,
    SignalThresholds,
    Submission,
    SubmissionEvent,
    SubmissionState,
)
from portfolio.catalogue.models import Competency
from portfolio.core import audit
from portfolio.core.db import db
from portfolio.core.errors import InvalidInputError
from portfolio.core.i18n import LazyText
from portfolio.core.i18n import lazy_gettext as _l
from portfolio.core.models import utcnow

#: Where the app keeps its signal sources (``app.extensions``).
EXTENSION = "credfolio.cohort_signals"

# -- what a flag is --------------------------------------------------------------------------

#: The kinds of signal, in the order a student's reasons are listed.
QUIET = "quiet"
OVERDUE = "overdue"
REVISIONS = "revisions"
CALIBRATION = "calibration"
CODES = (QUIET, OVERDUE, REVISIONS, CALIBRATION)
#: Each kind's pill: a short name (words, never colour alone) and its tone.
LABELS = {
    QUIET: _l("No recent submission"),
    OVERDUE: _l("Overdue"),
    REVISIONS: _l("Many revisions"),
    CALIBRATION: _l("Self-assessment far off"),
}
TONES = {QUIET: "warn", OVERDUE: "bad", REVISIONS: "warn", CALIBRATION: "info"}


class LazyDate:
    """A date written in the reader's language when a message is (``format_date``)."""

    def __init__(self, value: date) -> None:
        self.value = value

    def __str__(self) -> str:
        return str(format_date(self.value, "medium"))

    def __repr__(self) -> str:
        return f"LazyDate({self.value!r})"


def lazy_plural(make: Callable[[], str]) -> LazyText:
    """A plural message translated when used: ``make`` calls ``ngettext`` (so the catalogue
    extraction sees its strings)."""
    return LazyText(make)


@dataclass(frozen=True)
class Signal:
    """One reason a student needs attention: a stable ``code`` (one of :data:`CODES`), the
    reason in words (translated when shown; names, numbers and dates are placeholders) and
    the plain facts behind it (``detail``: competency, date, count … for tests and exports)."""

    code: str
    words: LazyText
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The reason in the reader's language now."""
        return str(self.words)


def sort_signals(signals: Iterable[Signal]) -> list[Signal]:
    """``signals`` in the order of :data:`CODES`, then by what they are about."""
    order = {code: index for index, code in enumerate(CODES)}
    return sorted(
        signals,
        key=lambda signal: (order.get(signal.code, len(order)), str(signal.detail.get("key", ""))),
    )


# -- a school's thresholds -------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """When the signals fire (a school without its own uses :data:`DEFAULTS`)."""

    quiet_days: int = 14
    revision_rounds: int = 2
    calibration_gap: int = 2
    updated_at: datetime | None = None


DEFAULTS = Thresholds()
#: The accepted range of each threshold (inclusive).
RANGES = {"quiet_days": (1, 365), "revision_rounds": (1, 20), "calibration_gap": (1, 10)}


class ThresholdError(InvalidInputError):
    """A threshold outside its range (``field`` names it)."""

    def __init__(self, message: str | LazyText, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_thresholds(values: Mapping[str, int]) -> Thresholds:
    """The thresholds ``values`` give.  Raises :class:`ThresholdError` for the first one
    missing or outside :data:`RANGES`."""
    for name, (low, high) in RANGES.items():
        value = values.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ThresholdError(
                _l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high),
                field=name,
            )
    return Thresholds(
        quiet_days=values["quiet_days"],
        revision_rounds=values["revision_rounds"],
        calibration_gap=values["calibration_gap"],
    )


def load_thresholds(issuer_id: int) -> Thresholds:
    """The school's thresholds, or :data:`DEFAULTS` when it has not set its own (one query)."""
    row = db.session.get(SignalThresholds, issuer_id)
    if row is None:
        return DEFAULTS
    return Thresholds(row.quiet_days, row.revision_rounds, row.calibration_gap, row.updated_at)


def save_thresholds(issuer_id: int, values: Mapping[str, int], *, actor: User) -> Thresholds:
    """Set the school's thresholds and record ``signal_thresholds_changed`` with what changed
    (in the caller's transaction).  Raises :class:`ThresholdError` for a value out of range;
    nothing is changed then."""
    wanted = check_thresholds(values)
    row = db.session.get(SignalThresholds, issuer_id)
    before = load_thresholds(issuer_id)
    if row is None:
        row = SignalThresholds(issuer_id=issuer_id)
        db.session.add(row)
    changes = {
        name: [getattr(before, name), getattr(wanted, name)]
        for name in RANGES
        if getattr(before, name) != getattr(wanted, name)
    }
    row.quiet_days = wanted.quiet_days
    row.revision_rounds = wanted.revision_rounds
    row.calibration_gap = wanted.calibration_gap
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    audit.record(
        "signal_thresholds_changed",
        actor=actor,
        issuer_id=issuer_id,
        target=f"issuer:{issuer_id}",
        detail={"changes": changes},
    )
    db.session.flush()
    return Thresholds(row.quiet_days, row.revision_rounds, row.calibration_gap, row.updated_at)


# -- the hook --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalScope:
    """The students a cohort view asks about: a school's active students (of one cohort, when
    given), and the competency it shows (None: all).  ``students()`` is a subquery of their
    ids, so a source needs no list of ids, however many there are."""

    issuer_id: int
    cohort: str | None = None
    competency_id: int | None = None

    def students(self) -> Any:
        """A ``SELECT`` of the ids of the students in scope (use with ``.in_()``)."""
        query = select(User.id).where(
            User.issuer_id == self.issuer_id,
            User.role == Role.STUDENT,
            User.disabled_at.is_(None),
        )
        if self.cohort is not None:
            query = query.where(User.cohort == self.cohort)
        return query


class SignalSource(Protocol):
    """A feature's signals: ``{student id: [Signal, ...]}`` for the students of ``scope``
    (only those flagged appear), computed in a fixed number of queries."""

    def __call__(
        self, scope: SignalScope, thresholds: Thresholds, *, now: datetime
    ) -> dict[int, list[Signal]]: ...


def register_signal_sources(app: Flask, sources: Sequence[SignalSource]) -> None:
    """Add ``sources`` to the app's (each once, in order)."""
    known: list[SignalSource] = app.extensions.setdefault(EXTENSION, [])
    known.extend(source for source in sources if source not in known)


def signal_sources() -> list[SignalSource]:
    """The current app's signal sources."""
    found: list[SignalSource] = current_app.extensions.get(EXTENSION, [])
    return found


def cohort_signals(
    scope: SignalScope,
    thresholds: Thresholds,
    *,
    now: datetime,
    sources: Sequence[SignalSource] | None = None,
) -> dict[int, list[Signal]]:
    """Every flagged student of ``scope`` with their reasons in order (the app's sources
    unless ``sources`` are given; each takes a fixed number of queries)."""
    found: dict[int, list[Signal]] = {}
    for source in signal_sources() if sources is None else sources:
        for student_id, signals in source(scope, thresholds, now=now).items():
            if signals:
                found.setdefault(student_id, []).extend(signals)
    return {student_id: sort_signals(signals) for student_id, signals in found.items()}


def signal_counts(signals: Mapping[int, Sequence[Signal]]) -> dict[str, int]:
    """How many students each kind of signal flags (a student counted once per kind)."""
    counts = dict.fromkeys(CODES, 0)
    for reasons in signals.values():
        for code in {signal.code for signal in reasons}:
            counts[code] = counts.get(code, 0) + 1
    return counts


def reasons_text(signals: Sequence[Signal]) -> str:
    """A student's reasons as one line of plain text (for the CSV)."""
    return "; ".join(signal.text for signal in signals)


# -- the rules (pure) ------------------------------------------------------------------------


def far_off(own: Sequence[int], assessor: Sequence[int], *, gap: int) -> int | None:
    """The largest gap (``calibration.largest_gap``) when it is at least ``gap`` levels on
    some criterion, else None."""
    largest = largest_gap(own, assessor)
    return largest if largest is not None and largest >= gap else None


def revisions_signal(competency: str, rounds: int) -> Signal:
    """ "N revision rounds on <competency>"."""
    return Signal(
        REVISIONS,
        lazy_plural(
            lambda: ngettext(
                "%(num)s revision round on “%(competency)s”",
                "%(num)s revision rounds on “%(competency)s”",
                rounds,
                competency=competency,
            )
        ),
        {"key": competency, "competency": competency, "rounds": rounds},
    )


def calibration_signal(competency: str, gap: int) -> Signal:
    """ "Self-assessment far from the assessor's on <competency>"."""
    return Signal(
        CALIBRATION,
        lazy_plural(
            lambda: ngettext(
                "Self-assessment %(num)s level from the assessor’s on “%(competency)s”",
                "Self-assessment %(num)s levels from the assessor’s on “%(competency)s”",
                gap,
                competency=competency,
            )
        ),
        {"key": competency, "competency": competency, "gap": gap},
    )


# -- assessment's sources --------------------------------------------------------------------


def revision_signals(
    scope: SignalScope, thresholds: Thresholds, *, now: datetime
) -> dict[int, list[Signal]]:
    """Students with at least ``revision_rounds`` revisions asked for on one competency they
    have not mastered (one query): each ``revision_requested`` transition of their
    submissions for it is a round."""
    rounds = func.count(SubmissionEvent.id).label("rounds")
    query = (
        select(Submission.student_id, Competency.name, rounds)
        .join(Submission, Submission.id == SubmissionEvent.submission_id)
        .join(Competency, Competency.id == Submission.competency_id)
        .outerjoin(
            Mastery,
            (Mastery.student_id == Submission.student_id)
            & (Mastery.competency_id == Submission.competency_id),
        )
        .where(
            SubmissionEvent.to_state == SubmissionState.REVISION_REQUESTED,
            Submission.student_id.in_(scope.students()),
            Competency.issuer_id == scope.issuer_id,
            Competency.archived_at.is_(None),
            Mastery.id.is_(None),
        )
        .group_by(Submission.student_id, Competency.id, Competency.name)
        .having(rounds >= thresholds.revision_rounds)
    )
    if scope.competency_id is not None:
        query = query.where(Submission.competency_id == scope.competency_id)
    found: dict[int, list[Signal]] = {}
    for student_id, name, count in db.session.execute(query):
        found.setdefault(student_id, []).append(revisions_signal(name, count))
    return found


def calibration_signals(
    scope: SignalScope, thresholds: Thresholds, *, now: datetime
) -> dict[int, list[Signal]]:
    """Students whose latest self-assessed and assessed round of a competency is at least
    ``calibration_gap`` levels from the assessor's on some criterion (one query).  With
    several assessors in a round, the latest assessment — the one that decided — counts."""
    query = (
        select(
            Submission.student_id,
            Submission.competency_id,
            Competency.name,
            SelfAssessment.round,
            SelfAssessment.levels.label("own"),
            Assessment.levels.label("theirs"),
        )
        .join(Submission, Submission.id == SelfAssessment.submission_id)
        .join(
            Assessment,
            (Assessment.submission_id == SelfAssessment.submission_id)
            & (Assessment.round == SelfAssessment.round),
        )
        .join(Competency, Competency.id == Submission.competency_id)
        .where(
            Submission.student_id.in_(scope.students()),
            Competency.issuer_id == scope.issuer_id,
            Competency.archived_at.is_(None),
        )
        # Later rows win below: the latest submission's latest round's latest assessment.
        .order_by(
            Submission.created_at,
            Submission.id,
            SelfAssessment.round,
            Assessment.created_at,
            Assessment.id,
        )
    )
    if scope.competency_id is not None:
        query = query.where(Submission.competency_id == scope.competency_id)
    latest: dict[tuple[int, int], tuple[str, list[int], list[int]]] = {}
    for row in db.session.execute(query):
        latest[(row.student_id, row.competency_id)] = (
            row.name,
            list(row.own or []),
            list(row.theirs or []),
        )
    found: dict[int, list[Signal]] = {}
    for (student_id, _competency_id), (name, own, theirs) in latest.items():
        gap = far_off(own, theirs, gap=thresholds.calibration_gap)
        if gap is not None:
            found.setdefault(student_id, []).append(calibration_signal(name, gap))
    return found


#: Assessment's own sources (wsgi.py adds them to the app with the other features').
ASSESSMENT_SIGNALS: tuple[SignalSource, ...] = (revision_signals, calibration_signals)
